# Host unit tests (included by the top-level Makefile).
#
# Every tests/unit/test_*.c becomes $(BUILD)/unit/test_*, built with the host
# gcc, ASan and UBSan against cmocka, and `make unit` runs them all. A test
# names what it links in comment lines of its own, e.g.
#    * unit-sources: hv/lib/dt.c hv/core/board.c
#    * unit-libs: -lfdt
#    * unit-cflags: -DFOO
# Tests find their data (compiled tests/unit/dts/*.dts, QEMU board trees)
# in the directory named by the UNIT_DATA environment variable, the real
# board trees in UNIT_BOARDS, and the boards' build outputs under UNIT_BUILD.

UNIT_DIR	:= tests/unit
UNIT_OUT	:= $(BUILD)/unit
UNIT_CC		?= gcc
UNIT_CFLAGS	:= -std=gnu11 -O1 -g -Wall -Wextra -Werror \
		   -fno-omit-frame-pointer -fsanitize=address,undefined \
		   -fno-sanitize-recover=all \
		   -Iinclude -Ihv/lib/inc -Ihv/core/inc -Ihv/dev/inc -Ihv/plat/drivers/inc
UNIT_LDLIBS	:= -lcmocka
DTC		?= dtc
QEMU_AARCH64	?= qemu-system-aarch64

UNIT_NAMES	:= $(basename $(notdir $(wildcard $(UNIT_DIR)/test_*.c)))
UNIT_BINS	:= $(addprefix $(UNIT_OUT)/,$(UNIT_NAMES))

# $(call unit_field,test_x,sources): the "unit-sources:" line of test_x.c.
unit_field = $(shell sed -n 's|^[[:space:]/*]*unit-$(2):[[:space:]]*||p' $(UNIT_DIR)/$(1).c)

# Every header counts: gcc -MMD cannot name one .d per source when several
# sources are linked in one step, and these builds take a second.
UNIT_HEADERS	:= $(wildcard include/shyper/*.h hv/*/inc/*/*.h hv/*/*/inc/*/*.h \
		   $(UNIT_DIR)/*.h $(UNIT_DIR)/plat/*.h hv/config/*.h)
# Sources some tests #include (the boards' MVM configurations): rebuilt when
# they change, never linked on their own.
UNIT_INCLUDED	:= $(wildcard hv/config/*.c)

define UNIT_TEST_RULE
$(UNIT_OUT)/$(1): $(UNIT_DIR)/$(1).c $(call unit_field,$(1),sources) $$(UNIT_HEADERS) \
		$$(UNIT_INCLUDED) | $(UNIT_OUT)
	$$(UNIT_CC) $$(UNIT_CFLAGS) $(call unit_field,$(1),cflags) -o $$@ \
		$$(filter-out $$(UNIT_INCLUDED),$$(filter %.c,$$^)) $$(UNIT_LDLIBS) \
		$(call unit_field,$(1),libs)
endef
$(foreach t,$(UNIT_NAMES),$(eval $(call UNIT_TEST_RULE,$(t))))

# Small hand-written trees; variants share a .dtsi and override parts of it.
UNIT_DTS	:= $(wildcard $(UNIT_DIR)/dts/*.dts)
UNIT_DTBS	:= $(patsubst $(UNIT_DIR)/dts/%.dts,$(UNIT_OUT)/dts/%.dtb,$(UNIT_DTS))

$(UNIT_OUT)/dts/%.dtb: $(UNIT_DIR)/dts/%.dts $(wildcard $(UNIT_DIR)/dts/*.dtsi) | $(UNIT_OUT)/dts
	$(DTC) -q -I dts -O dtb -o $@ $<

# The reference board's real trees, as QEMU generates them. -nic none: the
# default NIC is a PCI device whose option ROM (package ipxe-qemu) QEMU
# insists on loading; PCI devices are not in the tree anyway.
UNIT_QEMU_DTBS	:= $(UNIT_OUT)/qemu-virt-gicv2.dtb $(UNIT_OUT)/qemu-virt-gicv3.dtb \
		   $(UNIT_OUT)/qemu-virt-smmuv3.dtb

$(UNIT_OUT)/qemu-virt-gicv%.dtb: | $(UNIT_OUT)
	$(QEMU_AARCH64) -M virt,virtualization=on,gic-version=$*,dumpdtb=$@ \
		-cpu cortex-a72 -smp 4 -m 1G -nographic -display none -nic none \
		>/dev/null 2>$@.log || { cat $@.log; rm -f $@; false; }

# With the SMMUv3 in front of the PCIe host bridge (core/iommu.c).
$(UNIT_OUT)/qemu-virt-smmuv3.dtb: | $(UNIT_OUT)
	$(QEMU_AARCH64) -M virt,virtualization=on,gic-version=3,iommu=smmuv3,dumpdtb=$@ \
		-cpu cortex-a72 -smp 4 -m 1G -nographic -display none -nic none \
		>/dev/null 2>$@.log || { cat $@.log; rm -f $@; false; }

$(UNIT_OUT) $(UNIT_OUT)/dts:
	mkdir -p $@

# The real trees of the boards cshyper is built for (test_board_real): the
# RPi4's comes with the guest kernel package, the TX2's and RK3588's are
# compiled from the stable suite's linux-source (downloaded once, cached).
BOARD_DTBS	:= $(addprefix $(BUILD)/boards/,rpi4.dtb tx2.dtb rk3588.dtb)

$(BOARD_DTBS) &: scripts/board-dtbs.sh $(BUILD)/images/kernel-abi
	@BUILD=$(BUILD) scripts/board-dtbs.sh $(BUILD)/boards
	@touch $(BOARD_DTBS)

# The boards' MVM trees (hv/boards.mk) are checked against their configurations.
UNIT_DATA_FILES	:= $(UNIT_DTBS) $(UNIT_QEMU_DTBS) $(BOARD_DTBS) $(BOARD_FILES)

# Everything the tests need, built but not run (scripts/clean-room.sh build).
.PHONY: unit-build
unit-build: $(UNIT_BINS) $(UNIT_DATA_FILES)

# Run every test even after a failure, then fail if any did.
unit: $(UNIT_BINS) $(UNIT_DATA_FILES)
	@failed=""; \
	for t in $(UNIT_BINS); do \
		echo "== $$t"; \
		UNIT_DATA=$(UNIT_OUT) UNIT_BOARDS=$(BUILD)/boards UNIT_BUILD=$(BUILD) $$t || \
			failed="$$failed $$(basename $$t)"; \
	done; \
	if [ -n "$$failed" ]; then echo "unit: FAILED:$$failed"; exit 1; fi; \
	echo "unit: all $(words $(UNIT_BINS)) test programs passed"
