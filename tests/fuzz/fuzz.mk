# libFuzzer harnesses (included by the top-level Makefile, after
# tests/unit/unit.mk, whose test trees seed the device tree corpus).
#
# Every tests/fuzz/fuzz_*.c becomes $(BUILD)/fuzz/fuzz_*, built with clang,
# libFuzzer, ASan and UBSan from what its own comment lines name:
#    * fuzz-sources: hv/lib/dt.c hv/core/board.c
#    * fuzz-cflags: -Imvm/cli          (optional)
#    * fuzz-libs: -ljson-c             (optional)
# `make fuzz` then gives each harness a short, bounded smoke run; any crash,
# leak or sanitizer report fails the target and leaves the input in
# $(BUILD)/fuzz/crash-*. Seed directories for harness X come from
# FUZZ_SEED_DIRS_X (built by FUZZ_SEED_FILES_X), an optional libFuzzer
# dictionary from FUZZ_DICT_X; new inputs go to $(BUILD)/fuzz/X-corpus.

FUZZ_DIR	:= tests/fuzz
FUZZ_OUT	:= $(BUILD)/fuzz
FUZZ_CC		?= clang
FUZZ_CFLAGS	:= -std=gnu11 -O1 -g -Wall -Wextra -Werror \
		   -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		   -Iinclude -Ihv/lib/inc -Ihv/core/inc -Ihv/dev/inc -Ihv/plat/drivers/inc
# Smoke-run bounds per harness: whichever is reached first ends the run.
FUZZ_RUNS	?= 200000
FUZZ_SECONDS	?= 15
FUZZ_MAX_LEN	?= 16384

# Device tree seeds: the unit-test trees as they are, and QEMU's re-packed
# by dtc (QEMU pads its tree to 1 MiB, far beyond -max_len). The real board
# trees (70 KB) are beyond it too, and stay out. Seed variables
# come before the rules below, whose prerequisites expand when read.
FUZZ_DT_SEED		:= $(FUZZ_OUT)/dt-seed
FUZZ_SEED_FILES_fuzz_dt	:= $(UNIT_DTBS) \
	$(patsubst $(UNIT_OUT)/%.dtb,$(FUZZ_DT_SEED)/%.dtb,$(UNIT_QEMU_DTBS))
FUZZ_SEED_DIRS_fuzz_dt	:= $(FUZZ_DT_SEED) $(UNIT_OUT)/dts

$(FUZZ_DT_SEED)/%.dtb: $(UNIT_OUT)/%.dtb
	@mkdir -p $(dir $@)
	$(DTC) -q -I dtb -O dtb -o $@ $<

# VM configuration seeds (fuzz_cli_config): every JSON file of the guests'
# configurations and of the CLI's unit-test fixtures, copied flat into one
# directory (guests/configs/x.json -> guests-configs-x.json). The dictionary
# holds the JSON keys and type names, taken from the parser's own tables.
FUZZ_CLI_SEED		:= $(FUZZ_OUT)/cli-config-seed
FUZZ_CLI_JSON		:= $(wildcard guests/configs/*.json tests/unit/cli/*.json \
			     tests/unit/cli/*/*.json)
FUZZ_SEED_FILES_fuzz_cli_config	:= \
	$(foreach f,$(FUZZ_CLI_JSON),$(FUZZ_CLI_SEED)/$(subst /,-,$(f)))
FUZZ_SEED_DIRS_fuzz_cli_config	:= $(FUZZ_CLI_SEED)
FUZZ_DICT_fuzz_cli_config	:= $(FUZZ_OUT)/cli-config.dict

define FUZZ_COPY_RULE
$(2): $(1)
	@mkdir -p $$(dir $$@)
	cp $$< $$@
endef
$(foreach f,$(FUZZ_CLI_JSON),$(eval $(call FUZZ_COPY_RULE,$(f),$(FUZZ_CLI_SEED)/$(subst /,-,$(f)))))

# Every one-word string literal of the parser (its keys and type names, a
# few words of its messages), JSON tokens, and the fixtures' file names.
$(FUZZ_OUT)/cli-config.dict: mvm/cli/config.c $(FUZZ_DIR)/fuzz.mk
	@mkdir -p $(dir $@)
	{ grep -o '"[A-Za-z_]\+"' $< | sort -u; \
	  for t in '{' '}' '[' ']' ':' ',' '\"' 'null' 'true' 'false' '-1' \
		   '0x' '0X' '0b' '\\u0000' '18446744073709551616' '1e9' '-0' \
		   '-' '~/' 'Image' 'dtb/guest.dtb' 'rootfs.cpio.gz' 'vmlinuz'; do \
		printf '"%s"\n' "$$t"; done; } > $@.tmp && mv $@.tmp $@

# Virtqueue seeds (fuzz_virtq): well-formed queues the harness writes itself.
FUZZ_VIRTQ_SEED			:= $(FUZZ_OUT)/virtq-seed
FUZZ_SEED_FILES_fuzz_virtq	:= $(FUZZ_VIRTQ_SEED)/.stamp
FUZZ_SEED_DIRS_fuzz_virtq	:= $(FUZZ_VIRTQ_SEED)

$(FUZZ_VIRTQ_SEED)/.stamp: $(FUZZ_OUT)/fuzz_virtq
	@mkdir -p $(dir $@)
	FUZZ_VIRTQ_WRITE_SEEDS=$(dir $@) $<
	@touch $@

# Migration stream seeds (fuzz_mstream): streams the codec's writer makes,
# written by the harness itself.
FUZZ_MSTREAM_SEED		:= $(FUZZ_OUT)/mstream-seed
FUZZ_SEED_FILES_fuzz_mstream	:= $(FUZZ_MSTREAM_SEED)/.stamp
FUZZ_SEED_DIRS_fuzz_mstream	:= $(FUZZ_MSTREAM_SEED)

$(FUZZ_MSTREAM_SEED)/.stamp: $(FUZZ_OUT)/fuzz_mstream
	@mkdir -p $(dir $@)
	FUZZ_MSTREAM_WRITE_SEEDS=$(dir $@) $<
	@touch $@

# virtio-blk seeds (fuzz_virtio_blk): devices with requests of every kind
# and steps serving them, written by the harness itself.
FUZZ_VIRTIO_BLK_SEED		:= $(FUZZ_OUT)/virtio-blk-seed
FUZZ_SEED_FILES_fuzz_virtio_blk	:= $(FUZZ_VIRTIO_BLK_SEED)/.stamp
FUZZ_SEED_DIRS_fuzz_virtio_blk	:= $(FUZZ_VIRTIO_BLK_SEED)

$(FUZZ_VIRTIO_BLK_SEED)/.stamp: $(FUZZ_OUT)/fuzz_virtio_blk
	@mkdir -p $(dir $@)
	FUZZ_VIRTIO_BLK_WRITE_SEEDS=$(dir $@) $<
	@touch $@

# virtio-net seeds (fuzz_virtio_net): two guests with frames both ways,
# written by the harness itself.
FUZZ_VIRTIO_NET_SEED		:= $(FUZZ_OUT)/virtio-net-seed
FUZZ_SEED_FILES_fuzz_virtio_net	:= $(FUZZ_VIRTIO_NET_SEED)/.stamp
FUZZ_SEED_DIRS_fuzz_virtio_net	:= $(FUZZ_VIRTIO_NET_SEED)

$(FUZZ_VIRTIO_NET_SEED)/.stamp: $(FUZZ_OUT)/fuzz_virtio_net
	@mkdir -p $(dir $@)
	FUZZ_VIRTIO_NET_WRITE_SEEDS=$(dir $@) $<
	@touch $@

# Mediated-disk seeds (fuzz_mediated): guests with requests of every kind
# and a daemon serving them, written by the harness itself.
FUZZ_MEDIATED_SEED		:= $(FUZZ_OUT)/mediated-seed
FUZZ_SEED_FILES_fuzz_mediated	:= $(FUZZ_MEDIATED_SEED)/.stamp
FUZZ_SEED_DIRS_fuzz_mediated	:= $(FUZZ_MEDIATED_SEED)

$(FUZZ_MEDIATED_SEED)/.stamp: $(FUZZ_OUT)/fuzz_mediated
	@mkdir -p $(dir $@)
	FUZZ_MEDIATED_WRITE_SEEDS=$(dir $@) $<
	@touch $@

# Config hypercall seeds (fuzz_vm_cfg): guests as the CLI builds them,
# written by the harness itself.
FUZZ_VM_CFG_SEED		:= $(FUZZ_OUT)/vm-cfg-seed
FUZZ_SEED_FILES_fuzz_vm_cfg	:= $(FUZZ_VM_CFG_SEED)/.stamp
FUZZ_SEED_DIRS_fuzz_vm_cfg	:= $(FUZZ_VM_CFG_SEED)

$(FUZZ_VM_CFG_SEED)/.stamp: $(FUZZ_OUT)/fuzz_vm_cfg
	@mkdir -p $(dir $@)
	FUZZ_VM_CFG_WRITE_SEEDS=$(dir $@) $<
	@touch $@

# Hypervisor image seeds (fuzz_image_check): valid synthetic images the
# harness writes itself, and the first 4 KiB of $(HV_BIN) when it is built
# (the whole image is beyond -max_len). Rewritten on every run, and the image
# is looked for when the recipe runs rather than named as a prerequisite:
# `make fuzz` never builds the hypervisor (the cross toolchain), yet picks up
# an image built since (`make test` builds it before running the fuzzers).
FUZZ_IMAGE_SEED			:= $(FUZZ_OUT)/image-seed
FUZZ_SEED_FILES_fuzz_image_check	:= fuzz-image-seed
FUZZ_SEED_DIRS_fuzz_image_check	:= $(FUZZ_IMAGE_SEED)

.PHONY: fuzz-image-seed
fuzz-image-seed: $(FUZZ_OUT)/fuzz_image_check
	@mkdir -p $(FUZZ_IMAGE_SEED)
	FUZZ_IMAGE_WRITE_SEEDS=$(FUZZ_IMAGE_SEED) FUZZ_IMAGE_REAL=$(HV_BIN) $<

FUZZ_NAMES	:= $(basename $(notdir $(wildcard $(FUZZ_DIR)/fuzz_*.c)))

# $(call fuzz_field,fuzz_x,sources): the "fuzz-sources:" line of fuzz_x.c.
fuzz_field = $(shell sed -n 's|^[[:space:]/*]*fuzz-$(2):[[:space:]]*||p' $(FUZZ_DIR)/$(1).c)

# Line coverage of what each harness's corpus reaches (`make fuzz-coverage`,
# after `make fuzz` or `make fuzz-long` filled $(FUZZ_OUT)/X-corpus): the
# harness again with clang's source-based coverage instead of the
# sanitizers, its corpus and seeds replayed once (-runs=0), then llvm-cov's
# table for the hypervisor and CLI files it fuzzes.
FUZZ_COV_OUT	:= $(BUILD)/fuzz-cov
FUZZ_COV_CFLAGS	:= $(filter-out -fsanitize=% -fno-sanitize-recover=all,$(FUZZ_CFLAGS)) \
		   -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping

define FUZZ_RULES
$(FUZZ_COV_OUT)/$(1): $(FUZZ_DIR)/$(1).c $(call fuzz_field,$(1),sources) $$(UNIT_HEADERS)
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_COV_CFLAGS) $(call fuzz_field,$(1),cflags) -o $$@ \
		$$(filter %.c,$$^) $(call fuzz_field,$(1),libs)

.PHONY: fuzz-cov-$(1)
fuzz-cov-$(1): $(FUZZ_COV_OUT)/$(1) $$(FUZZ_SEED_FILES_$(1))
	@mkdir -p $(FUZZ_OUT)/$(1)-corpus
	@LLVM_PROFILE_FILE=$(FUZZ_COV_OUT)/$(1).profraw $(FUZZ_COV_OUT)/$(1) -runs=0 \
		$(FUZZ_OUT)/$(1)-corpus $$(FUZZ_SEED_DIRS_$(1)) >$(FUZZ_COV_OUT)/$(1).log 2>&1
	@llvm-profdata merge -sparse -o $(FUZZ_COV_OUT)/$(1).profdata $(FUZZ_COV_OUT)/$(1).profraw
	@echo "== $(1): $$$$(ls $(FUZZ_OUT)/$(1)-corpus | wc -l) inputs in its corpus, replayed with its seeds"
	@llvm-cov report $(FUZZ_COV_OUT)/$(1) -instr-profile=$(FUZZ_COV_OUT)/$(1).profdata \
		$(filter hv/% mvm/%,$(call fuzz_field,$(1),sources))

$(FUZZ_OUT)/$(1): $(FUZZ_DIR)/$(1).c $(call fuzz_field,$(1),sources) $$(UNIT_HEADERS)
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) $(call fuzz_field,$(1),cflags) -o $$@ \
		$$(filter %.c,$$^) $(call fuzz_field,$(1),libs)

.PHONY: fuzz-run-$(1)
fuzz-run-$(1): $(FUZZ_OUT)/$(1) $$(FUZZ_SEED_FILES_$(1)) $$(FUZZ_DICT_$(1))
	@mkdir -p $(FUZZ_OUT)/$(1)-corpus
	$(FUZZ_OUT)/$(1) -runs=$$(FUZZ_RUNS) -max_total_time=$$(FUZZ_SECONDS) \
		-max_len=$$(FUZZ_MAX_LEN) -print_final_stats=1 \
		$$(if $$(FUZZ_DICT_$(1)),-dict=$$(FUZZ_DICT_$(1))) \
		-artifact_prefix=$(FUZZ_OUT)/ \
		$(FUZZ_OUT)/$(1)-corpus $$(FUZZ_SEED_DIRS_$(1))
endef
$(foreach f,$(FUZZ_NAMES),$(eval $(call FUZZ_RULES,$(f))))

fuzz: $(addprefix fuzz-run-,$(FUZZ_NAMES))

.PHONY: fuzz-coverage
fuzz-coverage:
	@scripts/deps.sh coverage
	@$(MAKE) --no-print-directory $(addprefix fuzz-cov-,$(FUZZ_NAMES))

# The harnesses, built but not run (scripts/clean-room.sh build).
.PHONY: fuzz-build
fuzz-build: $(addprefix $(FUZZ_OUT)/,$(FUZZ_NAMES))
