# The hypervisor image: freestanding C and a little assembly, linked at the
# platform's load address, then turned into a flat arm64 Image.

HV_BUILD   := $(BUILD)/hv
HV_ELF     := $(HV_BUILD)/cshyper.elf
HV_BIN     := $(HV_BUILD)/cshyper.bin

HV_SRCS := $(wildcard hv/arch/$(ARCH)/*.S hv/arch/$(ARCH)/*.c hv/core/*.c \
	hv/lib/*.c hv/dev/*.c hv/plat/$(PLAT)/*.c hv/plat/drivers/*.c hv/config/*.c)
HV_OBJS := $(patsubst %,$(HV_BUILD)/%.o,$(HV_SRCS))

HV_INCLUDES := -Iinclude -Ihv/lib/inc -Ihv/core/inc -Ihv/arch/$(ARCH)/inc \
	-Ihv/plat/$(PLAT)/inc -Ihv/plat/drivers/inc -Ihv/dev/inc
# -mstrict-align: the earliest code runs with the MMU off, where every access
# is to Device memory and must be aligned.
HV_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -nostdlib -fno-builtin \
	-fno-stack-protector -fno-pie -mgeneral-regs-only -mstrict-align \
	-fno-omit-frame-pointer -mno-outline-atomics -Wall -Wextra -Werror \
	-MMD -MP $(HV_INCLUDES)
HV_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-T,hv/arch/$(ARCH)/cshyper.ld -Wl,--no-warn-rwx-segments

hv: $(HV_BIN)

$(HV_BUILD)/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CROSS)gcc $(HV_CFLAGS) -c $< -o $@

$(HV_BUILD)/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CROSS)gcc $(HV_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(HV_ELF): $(HV_OBJS) hv/arch/$(ARCH)/cshyper.ld
	@echo "  LD      $@"
	@$(CROSS)gcc $(HV_CFLAGS) $(HV_LDFLAGS) $(HV_OBJS) -lgcc -o $@

$(HV_BIN): $(HV_ELF)
	@$(CROSS)objcopy -O binary $< $@
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes)"

-include $(HV_OBJS:.o=.d)
