/*
 * The GIC's virtualisation interface, the same for v2 (GICH registers) and v3
 * (ICH system registers): list registers, their empty-status mask, and the
 * underflow maintenance interrupt.
 */
#ifndef ARCH_VGIC_HW_H
#define ARCH_VGIC_HW_H

#include <stdbool.h>
#include <stdint.h>

/* GIC maintenance interrupt: PPI 9 (IHI 0069H 2.2.1, recommended). */
#define GIC_MAINT_INTID 25

enum lr_state {
	LR_INVALID = 0,
	LR_PENDING = 1,
	LR_ACTIVE = 2,
	LR_PENDING_ACTIVE = 3,
};

struct lr {
	uint32_t vintid;
	uint32_t pintid; /* with hw: the physical interrupt the guest's EOI deactivates */
	uint8_t prio;
	bool hw;
	/* Without hw: a maintenance interrupt when the guest EOIs it, after
	 * which the hypervisor deactivates pintid (== vintid) itself. */
	bool eoi;
	bool group1;
	enum lr_state state;
	/* GICv2, an SGI: the vCPU that sent it (GICH_LR.CPUID, what the
	 * guest's GICC_IAR reports); 0 otherwise. */
	uint8_t source;
};

/* Per core: finds the interface and clears every list register. */
int vgic_hw_init(unsigned gic_version, uint64_t gich_base);
unsigned vgic_hw_nr_lrs(void);
void vgic_hw_write_lr(unsigned n, const struct lr *lr);
void vgic_hw_read_lr(unsigned n, struct lr *lr);
void vgic_hw_decode_lr(uint64_t raw, struct lr *lr);
/* The raw value of this GIC's list register format (zero-extended on v2). */
uint64_t vgic_hw_encode_lr(const struct lr *lr);
/* Bit n set: list register n holds nothing. */
uint64_t vgic_hw_empty_lrs(void);
/* Enables the virtual CPU interface; uie asks for a maintenance interrupt
 * when at most one list register is in use. */
void vgic_hw_set_hcr(bool uie);
/* Turns the virtual CPU interface off (no guest on this core). */
void vgic_hw_disable(void);
/* True if this board's hardware interrupts go to guests with lr.eoi
 * instead of lr.hw (see PLAT_GICV2_DEACTIVATE_ON_EOI_MAINTENANCE). */
bool vgic_hw_deactivates_on_eoi(void);
/* Bit n set: list register n is an lr.eoi one the guest has EOId. */
uint64_t vgic_hw_eoi_lrs(void);
/* Raw list register and GICH access, for saving a vCPU that leaves its core. */
uint64_t vgic_hw_raw_lr(unsigned n);
void vgic_hw_set_raw_lr(unsigned n, uint64_t v);
uint32_t vgic_hw_gich_read(unsigned off);
void vgic_hw_gich_write(unsigned off, uint32_t v);

#endif
