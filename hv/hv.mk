# The hypervisor image: freestanding C and a little assembly, linked position
# independent (boot.S relocates it), then turned into a flat arm64 Image whose
# info block gets the image's SHA-256 (include/shyper/image.h).
#
# Besides build/hv/cshyper.bin, two variants for the live-update tests:
#   build/hv-s1/cshyper.bin     the previous state layout (-DHV_STATE_VERSION=1)
#   build/hv-fault/cshyper.bin      built to fail its self-check: a core never
#                                   comes back from the switch
#   build/hv-fault-run/cshyper.bin  built to fail it later: core 1 comes back
#                                   but never resumes its vCPU
# (the tests of the automatic rollback), and
#   build/hv-ubsan/cshyper.bin  with UBSan in trap mode: undefined behaviour
#                               stops the core with a report (make test-ubsan)

# A board other than QEMU virt builds into build/<board>/ (hv/boards.mk).
HV_BUILD   := $(if $(filter qemu-virt,$(PLAT)),$(BUILD)/hv,$(BUILD)/$(PLAT)/hv)
HV_ELF     := $(HV_BUILD)/cshyper.elf
HV_BIN     := $(HV_BUILD)/cshyper.bin
HV_S1_BIN    := $(BUILD)/hv-s1/cshyper.bin
HV_FAULT_BIN := $(BUILD)/hv-fault/cshyper.bin
HV_FAULT_RUN_BIN := $(BUILD)/hv-fault-run/cshyper.bin
HV_UBSAN_BIN := $(BUILD)/hv-ubsan/cshyper.bin

HV_SRCS := $(wildcard hv/arch/$(ARCH)/*.S hv/arch/$(ARCH)/*.c hv/core/*.c \
	hv/lib/*.c hv/dev/*.c hv/plat/$(PLAT)/*.c hv/plat/drivers/*.c hv/config/$(PLAT).c)

HV_INCLUDES := -Iinclude -Ihv/lib/inc -Ihv/core/inc -Ihv/arch/$(ARCH)/inc \
	-Ihv/plat/$(PLAT)/inc -Ihv/plat/drivers/inc -Ihv/dev/inc
# -mstrict-align: the earliest code runs with the MMU off, where every access
# is to Device memory and must be aligned.
# -fstack-protector-strong: the canary is core/stack_guard.c's.
HV_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -nostdlib -fno-builtin \
	-fstack-protector-strong -fpie -mgeneral-regs-only -mstrict-align \
	-fno-omit-frame-pointer -mno-outline-atomics -Wall -Wextra -Werror \
	-MMD -MP $(HV_INCLUDES)
# -z notext: const tables of pointers get relocated in place like the rest.
HV_LDFLAGS := -nostdlib -static-pie -Wl,-z,notext -Wl,--build-id=none \
	-Wl,-T,hv/arch/$(ARCH)/cshyper.ld -Wl,--no-warn-rwx-segments

hv: $(HV_BIN)
hv-variants: $(HV_S1_BIN) $(HV_FAULT_BIN) $(HV_FAULT_RUN_BIN) $(HV_UBSAN_BIN)
.PHONY: hv-variants

# $(call HV_IMAGE_RULES,build-dir,extra-cflags)
define HV_IMAGE_RULES
$(1)/obj/%.c.o: %.c
	@mkdir -p $$(dir $$@)
	@echo "  CC      $$<"
	@$$(CROSS)gcc $$(HV_CFLAGS) $(2) -c $$< -o $$@

$(1)/obj/%.S.o: %.S
	@mkdir -p $$(dir $$@)
	@echo "  AS      $$<"
	@$$(CROSS)gcc $$(HV_CFLAGS) $(2) -D__ASSEMBLY__ -c $$< -o $$@

$(1)/cshyper.elf: $$(patsubst %,$(1)/obj/%.o,$$(HV_SRCS)) hv/arch/$$(ARCH)/cshyper.ld \
		scripts/hv-no-fpsimd.sh
	@echo "  LD      $$@"
	@$$(CROSS)gcc $$(HV_CFLAGS) $$(HV_LDFLAGS) $$(patsubst %,$(1)/obj/%.o,$$(HV_SRCS)) -lgcc -o $$@.tmp
	@CROSS=$$(CROSS) scripts/hv-no-fpsimd.sh $$@.tmp
	@mv $$@.tmp $$@

$(1)/cshyper.bin: $(1)/cshyper.elf scripts/hv-image-stamp.sh
	@$$(CROSS)objcopy -O binary $$< $$@.tmp
	@scripts/hv-image-stamp.sh $$@.tmp
	@mv $$@.tmp $$@
	@echo "  IMAGE   $$@ ($$$$(stat -c %s $$@) bytes)"

-include $$(patsubst %,$(1)/obj/%.d,$$(HV_SRCS))
endef

$(eval $(call HV_IMAGE_RULES,$(HV_BUILD),))
$(eval $(call HV_IMAGE_RULES,$(BUILD)/hv-s1,-DHV_STATE_VERSION=1))
$(eval $(call HV_IMAGE_RULES,$(BUILD)/hv-fault,-DHV_UPDATE_FAULT=1))
$(eval $(call HV_IMAGE_RULES,$(BUILD)/hv-fault-run,-DHV_UPDATE_FAULT=2))
# Every check that needs no runtime library; a failed one is a BRK the
# exception handler names (arch/aarch64/exception.c).
$(eval $(call HV_IMAGE_RULES,$(BUILD)/hv-ubsan,-fsanitize=undefined -fsanitize-undefined-trap-on-error))
