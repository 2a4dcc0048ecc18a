# The boards' images beside QEMU virt's (docs/BOARDS.md). For each board B
# of BOARDS, `make boards` (part of every build) leaves in build/B/:
#   hv/cshyper.bin  the hypervisor, built with PLAT=B (early console, memory
#                   map, built-in MVM configuration hv/config/B.c)
#   mvm.dtb         the MVM's device tree: the board's real tree cut down to
#                   what hv/config/B.c gives the MVM (tools/mvm-dtb.c)
#   boot.cmd, boot.scr  the U-Boot script that loads it all and runs booti
# `make PLAT=B` builds the one board. qemu-uboot is QEMU virt booted the
# boards' way (through U-Boot, with a prebuilt MVM tree), for the system test
# of that flow (tests/system/test_uboot_boot.py).

BOARDS		:= rpi4 tx2 rk3588 qemu-uboot
# The tree each board's MVM tree is cut from.
board_tree	= $(if $(filter qemu-uboot,$(1)),$(BUILD)/unit/qemu-virt-gicv3.dtb,$(BUILD)/boards/$(1).dtb)
MKIMAGE		?= mkimage
HOST_CC		?= gcc
MVM_DTB_HEADERS	:= $(wildcard include/shyper/*.h hv/core/inc/core/*.h hv/lib/inc/lib/*.h hv/config/*.h \
		   hv/dev/inc/dev/*.h)

# $(call BOARD_RULES,board)
define BOARD_RULES
$(BUILD)/$(1)/mvm-dtb: tools/mvm-dtb.c hv/config/$(1).c hv/lib/dt.c hv/lib/dt_irq.c \
		hv/plat/$(1)/inc/plat/platform.h $$(MVM_DTB_HEADERS)
	@mkdir -p $$(@D)
	$$(HOST_CC) -std=gnu11 -O1 -g -Wall -Wextra -Werror -Iinclude -Ihv/lib/inc \
		-Ihv/core/inc -Ihv/dev/inc -Ihv/plat/$(1)/inc -o $$@ $$(filter %.c,$$^) -lfdt

$(BUILD)/$(1)/mvm.dtb: $(BUILD)/$(1)/mvm-dtb $(call board_tree,$(1))
	$$< $(call board_tree,$(1)) $$@

$(BUILD)/$(1)/boot.cmd: $(BUILD)/$(1)/mvm-dtb
	$$< --boot-script > $$@

$(BUILD)/$(1)/boot.scr: $(BUILD)/$(1)/boot.cmd
	$$(MKIMAGE) -A arm64 -O linux -T script -C none -n "cshyper $(1)" -d $$< $$@ >/dev/null
endef
$(foreach b,$(BOARDS),$(eval $(call BOARD_RULES,$(b))))

BOARD_FILES	:= $(foreach b,$(BOARDS),$(addprefix $(BUILD)/$(b)/,mvm.dtb boot.scr))

ifneq ($(PLAT),qemu-virt)
all: $(BUILD)/$(PLAT)/mvm.dtb $(BUILD)/$(PLAT)/boot.scr
endif

.PHONY: boards
boards: $(BOARD_FILES)
	@for b in $(BOARDS); do \
		$(MAKE) --no-print-directory -j2 PLAT=$$b hv || exit 1; \
	done
