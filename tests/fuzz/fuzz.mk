# libFuzzer harnesses (included by the top-level Makefile, after
# tests/unit/unit.mk, whose test trees seed the device tree corpus).
#
# Every tests/fuzz/fuzz_*.c becomes $(BUILD)/fuzz/fuzz_*, built with clang,
# libFuzzer, ASan and UBSan from the sources named in its own comment line
#    * fuzz-sources: hv/lib/dt.c hv/core/board.c
# `make fuzz` then gives each harness a short, bounded smoke run; any crash,
# leak or sanitizer report fails the target and leaves the input in
# $(BUILD)/fuzz/crash-*. Seed directories for harness X come from
# FUZZ_SEED_DIRS_X (built by FUZZ_SEED_FILES_X); new inputs go to
# $(BUILD)/fuzz/X-corpus.

FUZZ_DIR	:= tests/fuzz
FUZZ_OUT	:= $(BUILD)/fuzz
FUZZ_CC		?= clang
FUZZ_CFLAGS	:= -std=gnu11 -O1 -g -Wall -Wextra -Werror \
		   -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		   -Iinclude -Ihv/lib/inc -Ihv/core/inc -Ihv/dev/inc
# Smoke-run bounds per harness: whichever is reached first ends the run.
FUZZ_RUNS	?= 200000
FUZZ_SECONDS	?= 20
FUZZ_MAX_LEN	?= 16384

# Device tree seeds: the unit-test trees as they are, and QEMU's re-packed
# by dtc (QEMU pads its tree to 1 MiB, far beyond -max_len). Seed variables
# come before the rules below, whose prerequisites expand when read.
FUZZ_DT_SEED		:= $(FUZZ_OUT)/dt-seed
FUZZ_SEED_FILES_fuzz_dt	:= $(UNIT_DTBS) \
	$(patsubst $(UNIT_OUT)/%.dtb,$(FUZZ_DT_SEED)/%.dtb,$(UNIT_QEMU_DTBS))
FUZZ_SEED_DIRS_fuzz_dt	:= $(FUZZ_DT_SEED) $(UNIT_OUT)/dts

$(FUZZ_DT_SEED)/%.dtb: $(UNIT_OUT)/%.dtb
	@mkdir -p $(dir $@)
	$(DTC) -q -I dtb -O dtb -o $@ $<

FUZZ_NAMES	:= $(basename $(notdir $(wildcard $(FUZZ_DIR)/fuzz_*.c)))

fuzz_sources = $(shell sed -n 's|^[[:space:]/*]*fuzz-sources:[[:space:]]*||p' $(FUZZ_DIR)/$(1).c)

define FUZZ_RULES
$(FUZZ_OUT)/$(1): $(FUZZ_DIR)/$(1).c $(call fuzz_sources,$(1)) $$(UNIT_HEADERS)
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -o $$@ $$(filter %.c,$$^)

.PHONY: fuzz-run-$(1)
fuzz-run-$(1): $(FUZZ_OUT)/$(1) $$(FUZZ_SEED_FILES_$(1))
	@mkdir -p $(FUZZ_OUT)/$(1)-corpus
	$(FUZZ_OUT)/$(1) -runs=$$(FUZZ_RUNS) -max_total_time=$$(FUZZ_SECONDS) \
		-max_len=$$(FUZZ_MAX_LEN) -print_final_stats=1 \
		-artifact_prefix=$(FUZZ_OUT)/ \
		$(FUZZ_OUT)/$(1)-corpus $$(FUZZ_SEED_DIRS_$(1))
endef
$(foreach f,$(FUZZ_NAMES),$(eval $(call FUZZ_RULES,$(f))))

fuzz: $(addprefix fuzz-run-,$(FUZZ_NAMES))
