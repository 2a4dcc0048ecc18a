# Guest images: the Debian arm64 kernel, headers and busybox fetched by
# scripts/images.sh, and the busybox initramfs (with shyper.ko) built by
# guests/initramfs/build.py. Nothing here depends on the hypervisor build.

GUESTS_IMAGES    ?= $(BUILD)/images
KMOD_KO          ?= $(BUILD)/kmod/shyper.ko
GUESTS_INITRAMFS := $(GUESTS_IMAGES)/initramfs.cpio.gz

# What scripts/images.sh produces; the kmod build depends on the headers stamp.
GUESTS_DEB_OUTPUTS := $(addprefix $(GUESTS_IMAGES)/,Image kernel-abi busybox \
			kernel/.unpacked-from headers/.unpacked-from)

images: $(GUESTS_DEB_OUTPUTS) $(GUESTS_INITRAMFS)

# The script skips whatever is already in place; touching the outputs keeps
# make from running it again until the script itself changes.
$(GUESTS_DEB_OUTPUTS) &: scripts/images.sh
	@BUILD=$(BUILD) scripts/images.sh $(GUESTS_IMAGES)
	@touch $(GUESTS_DEB_OUTPUTS)

$(GUESTS_INITRAMFS): guests/initramfs/build.py guests/initramfs/init \
		$(GUESTS_DEB_OUTPUTS) $(KMOD_KO) $(CLI_BIN) $(HVC_RAW_BIN) $(TICK_BIN) \
		$(HVC_FUZZ_BIN) $(MEMCHECK_BIN) $(DMA_TARGET_BIN) mvm/tools/soak.sh
	@$(PYTHON) guests/initramfs/build.py --images $(GUESTS_IMAGES) \
		--kmod $(KMOD_KO) --file $(CLI_BIN):usr/bin/shyper \
		--file $(HVC_RAW_BIN):usr/bin/shyper-hvc \
		--file $(HVC_FUZZ_BIN):usr/bin/shyper-hvc-fuzz \
		--file $(TICK_BIN):usr/bin/shyper-tick \
		--file $(MEMCHECK_BIN):usr/bin/shyper-memcheck \
		--file $(DMA_TARGET_BIN):usr/bin/shyper-dma-target \
		--file mvm/tools/soak.sh:usr/bin/shyper-soak --out $@

# The MVM's disk: an ext4 file system with what `shyper vm config` needs to
# start guests (their kernel, initramfs and JSON configurations). The system
# tests and `make run` attach a copy of it as the MVM's virtio disk.
MVM_DISK := $(GUESTS_IMAGES)/mvm-disk.img
MVM_DISK_SIZE := 96M

mvm-disk: $(MVM_DISK)
.PHONY: mvm-disk

# hv/: hypervisor images for `shyper system update` (hv/hv.mk).
$(MVM_DISK): $(GUESTS_IMAGES)/Image $(GUESTS_INITRAMFS) $(BAREMETAL_BINS) $(wildcard guests/configs/*.json) \
		$(HV_BIN) $(HV_S1_BIN) $(HV_FAULT_BIN) $(HV_FAULT_RUN_BIN)
	@rm -rf $@.d && mkdir -p $@.d/guests $@.d/hv
	@cp $(GUESTS_IMAGES)/Image $(GUESTS_INITRAMFS) $(BAREMETAL_BINS) guests/configs/*.json $@.d/guests/
	@cp $(HV_BIN) $@.d/hv/cshyper.bin && cp $(HV_S1_BIN) $@.d/hv/cshyper-s1.bin
	@cp $(HV_FAULT_BIN) $@.d/hv/cshyper-fault.bin
	@cp $(HV_FAULT_RUN_BIN) $@.d/hv/cshyper-fault-run.bin
	@rm -f $@.tmp && truncate -s $(MVM_DISK_SIZE) $@.tmp
	@mke2fs -q -t ext4 -L mvm -d $@.d -F $@.tmp
	@mv $@.tmp $@ && rm -rf $@.d
	@echo "  DISK    $@"
