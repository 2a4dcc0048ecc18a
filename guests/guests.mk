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
		$(GUESTS_DEB_OUTPUTS) $(KMOD_KO)
	@$(PYTHON) guests/initramfs/build.py --images $(GUESTS_IMAGES) \
		--kmod $(KMOD_KO) --out $@
