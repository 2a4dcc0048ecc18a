# shyper.ko, built out of tree against the Debian arm64 headers that
# scripts/images.sh unpacks (see guests/guests.mk), from a copy of the sources
# under $(BUILD)/kmod so that mvm/kmod stays clean. The headers' scripts/ and
# tools/ come from the host's linux-kbuild-6.1 package.

GUESTS_IMAGES ?= $(BUILD)/images
KMOD_KO       ?= $(BUILD)/kmod/shyper.ko
KMOD_OUT      := $(patsubst %/,%,$(dir $(KMOD_KO)))
KMOD_SRCS     := mvm/kmod/Kbuild $(wildcard mvm/kmod/*.c mvm/kmod/*.h)
KMOD_KDIR     := $(GUESTS_IMAGES)/linux-headers

kmod: $(KMOD_KO)

$(KMOD_KO): $(KMOD_SRCS) $(wildcard include/shyper/*.h) mvm/kmod/kmod.mk \
		$(GUESTS_IMAGES)/headers/.unpacked-from
	@mkdir -p $(KMOD_OUT)
	@cp $(KMOD_SRCS) $(KMOD_OUT)/
	@$(MAKE) --no-print-directory -C $(KMOD_KDIR) M=$(abspath $(KMOD_OUT)) \
		ARCH=arm64 CROSS_COMPILE=$(CROSS) SHYPER_ROOT=$(CURDIR) modules
	@touch $@
