# Bare-metal guests (guests/baremetal/): freestanding C11 and a little
# assembly, linked, loaded and entered at 0x80200000, EL1, MMU off.
# Each <name>.c here with its name in BAREMETAL_GUESTS becomes
# $(BUILD)/guests/<name>.elf and the flat $(BUILD)/guests/<name>.bin.
# Variants of one source built with other flags (BAREMETAL_VARIANTS, a rule
# for their object each) become guests the same way.

BAREMETAL_DIR    := guests/baremetal
BAREMETAL_OUT    := $(BUILD)/guests
BAREMETAL_OBJDIR := $(BAREMETAL_OUT)/baremetal
BAREMETAL_GUESTS := hvc-probe rt-latency iso-probe ivc-echo virtio-evil hvc-fuzz timer-check \
	sgi-check hostile gic-check
BAREMETAL_VARIANTS := rt-latency-loop
BAREMETAL_ALL    := $(BAREMETAL_GUESTS) $(BAREMETAL_VARIANTS)
BAREMETAL_ELFS   := $(BAREMETAL_ALL:%=$(BAREMETAL_OUT)/%.elf)
BAREMETAL_BINS   := $(BAREMETAL_ALL:%=$(BAREMETAL_OUT)/%.bin)
BAREMETAL_COMMON := $(BAREMETAL_OBJDIR)/start.o $(BAREMETAL_OBJDIR)/bm.o $(BAREMETAL_OBJDIR)/ivc.o \
		    $(BAREMETAL_OBJDIR)/gic.o \
		    $(BAREMETAL_OBJDIR)/fdt.o
BAREMETAL_LD     := $(BAREMETAL_DIR)/baremetal.ld

# -mstrict-align: with the MMU off every data access is to Device memory.
BAREMETAL_CFLAGS := -std=c11 -O2 -g -ffreestanding -nostdlib -fno-builtin \
	-fno-stack-protector -fno-pie -mgeneral-regs-only -mstrict-align \
	-mno-outline-atomics -fno-tree-loop-distribute-patterns \
	-Wall -Wextra -Werror -MMD -MP -Iinclude -I$(BAREMETAL_DIR)
BAREMETAL_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-T,$(BAREMETAL_LD) -Wl,--no-warn-rwx-segments

.PHONY: baremetal
baremetal: $(BAREMETAL_BINS) $(BAREMETAL_ELFS)

$(BAREMETAL_OBJDIR)/%.o: $(BAREMETAL_DIR)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CROSS)gcc $(BAREMETAL_CFLAGS) -c $< -o $@

# rt-latency measuring for ever, a line per window (for live updates).
$(BAREMETAL_OBJDIR)/rt-latency-loop.o: $(BAREMETAL_DIR)/rt-latency.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (RT_CONTINUOUS)"
	@$(CROSS)gcc $(BAREMETAL_CFLAGS) -DRT_CONTINUOUS -c $< -o $@

$(BAREMETAL_OBJDIR)/%.o: $(BAREMETAL_DIR)/%.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CROSS)gcc $(BAREMETAL_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(BAREMETAL_OUT)/%.elf: $(BAREMETAL_OBJDIR)/%.o $(BAREMETAL_COMMON) $(BAREMETAL_LD)
	@echo "  LD      $@"
	@$(CROSS)gcc $(BAREMETAL_CFLAGS) $(BAREMETAL_LDFLAGS) \
		$(BAREMETAL_COMMON) $< -lgcc -o $@

$(BAREMETAL_OUT)/%.bin: $(BAREMETAL_OUT)/%.elf
	@$(CROSS)objcopy -O binary $< $@
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes)"

.SECONDARY: $(BAREMETAL_ALL:%=$(BAREMETAL_OBJDIR)/%.o) $(BAREMETAL_COMMON)

-include $(wildcard $(BAREMETAL_OBJDIR)/*.d)
