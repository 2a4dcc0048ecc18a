/*
 * List register encodings: GICv3 ICH_LR<n>_EL2 (IHI 0069H 12.4.6) and GICv2
 * GICH_LR<n> (IHI 0048B 5.3.11).
 */
#include <arch/gic.h>
#include <arch/sysreg.h>
#include <arch/vgic_hw.h>
#include <plat/platform.h>
#include <shyper/errno.h>

#define ICH_LR_VINTID_MASK 0xffffffffUL
#define ICH_LR_PINTID_SHIFT 32
#define ICH_LR_PINTID_MASK 0x1fffUL
#define ICH_LR_PRIO_SHIFT 48
#define ICH_LR_GROUP (1UL << 60)
#define ICH_LR_HW (1UL << 61)
#define ICH_LR_STATE_SHIFT 62
#define ICH_HCR_EN (1UL << 0)
#define ICH_HCR_UIE (1UL << 1)
#define ICH_VTR_LISTREGS(v) (((v) & 0x1f) + 1)

#define GICH_HCR 0x000
#define GICH_VTR 0x004
#define GICH_EISR0 0x020
#define GICH_EISR1 0x024
#define GICH_ELRSR0 0x030
#define GICH_ELRSR1 0x034
#define GICH_LR0 0x100
#define GICH_LR_VID_MASK 0x3ffU
#define GICH_LR_PID_SHIFT 10
#define GICH_LR_CPUID_SHIFT 10 /* with HW clear, an SGI: its source CPU */
#define GICH_LR_CPUID_MASK 7U
#define GICV2_NR_SGIS 16
#define GICH_LR_EOI (1U << 19) /* with HW clear: maintenance on EOI */
#define GICH_LR_PRIO_SHIFT 23 /* 5 bits: the top of the 8-bit priority */
#define GICH_LR_STATE_SHIFT 28
#define GICH_LR_GRP1 (1U << 30)
#define GICH_LR_HW (1U << 31)
#define GICH_HCR_EN (1U << 0)
#define GICH_HCR_UIE (1U << 1)
#define GICH_VTR_LISTREGS(v) (((v) & 0x3f) + 1)

/* Derived from the board at every boot. */
static unsigned version;
static volatile uint8_t *gich;
static unsigned nr_lrs;

static inline volatile uint32_t *gich_reg(unsigned off)
{
	return (volatile uint32_t *)(gich + off);
}

#define ICH_LR_CASE(n)                                     \
	case n:                                            \
		if (write)                                 \
			sysreg_write(ICH_LR##n##_EL2, *val); \
		else                                       \
			*val = sysreg_read(ICH_LR##n##_EL2); \
		break;

/* The ICH_LR<n>_EL2 number is part of the instruction. */
static void ich_lr_access(unsigned n, uint64_t *val, bool write)
{
	switch (n) {
	ICH_LR_CASE(0) ICH_LR_CASE(1) ICH_LR_CASE(2) ICH_LR_CASE(3)
	ICH_LR_CASE(4) ICH_LR_CASE(5) ICH_LR_CASE(6) ICH_LR_CASE(7)
	ICH_LR_CASE(8) ICH_LR_CASE(9) ICH_LR_CASE(10) ICH_LR_CASE(11)
	ICH_LR_CASE(12) ICH_LR_CASE(13) ICH_LR_CASE(14) ICH_LR_CASE(15)
	default:
		break;
	}
}

int vgic_hw_init(unsigned gic_version, uint64_t gich_base)
{
	struct lr empty = { 0 };

	version = gic_version;
	if (version == 3) {
		nr_lrs = ICH_VTR_LISTREGS(sysreg_read(ICH_VTR_EL2));
	} else {
		if (!gich_base)
			return -SHYPER_ENODEV;
		gich = (volatile uint8_t *)gich_base;
		nr_lrs = GICH_VTR_LISTREGS(*gich_reg(GICH_VTR));
	}
	if (nr_lrs > 16)
		nr_lrs = 16;
	for (unsigned n = 0; n < nr_lrs; n++)
		vgic_hw_write_lr(n, &empty);
	vgic_hw_disable();
	return 0;
}

unsigned vgic_hw_nr_lrs(void)
{
	return nr_lrs;
}

uint64_t vgic_hw_encode_lr(const struct lr *lr)
{
	if (version == 3) {
		uint64_t v = 0;

		if (lr->state != LR_INVALID) {
			v = (lr->vintid & ICH_LR_VINTID_MASK) |
			    ((uint64_t)lr->prio << ICH_LR_PRIO_SHIFT) |
			    ((uint64_t)lr->state << ICH_LR_STATE_SHIFT);
			if (lr->group1)
				v |= ICH_LR_GROUP;
			if (lr->hw)
				v |= ICH_LR_HW | ((lr->pintid & ICH_LR_PINTID_MASK)
						  << ICH_LR_PINTID_SHIFT);
		}
		return v;
	} else {
		uint32_t v = 0;

		if (lr->state != LR_INVALID) {
			v = (lr->vintid & GICH_LR_VID_MASK) |
			    ((uint32_t)(lr->prio >> 3) << GICH_LR_PRIO_SHIFT) |
			    ((uint32_t)lr->state << GICH_LR_STATE_SHIFT);
			if (lr->group1)
				v |= GICH_LR_GRP1;
			if (lr->hw)
				v |= GICH_LR_HW | ((lr->pintid & GICH_LR_VID_MASK)
						   << GICH_LR_PID_SHIFT);
			else if (lr->eoi)
				v |= GICH_LR_EOI;
			if (!lr->hw && lr->vintid < GICV2_NR_SGIS)
				v |= (uint32_t)(lr->source & GICH_LR_CPUID_MASK)
				     << GICH_LR_CPUID_SHIFT;
		}
		return v;
	}
}

void vgic_hw_write_lr(unsigned n, const struct lr *lr)
{
	uint64_t v = vgic_hw_encode_lr(lr);

	if (version == 3) {
		ich_lr_access(n, &v, true);
		isb();
	} else {
		*gich_reg(GICH_LR0 + 4 * n) = (uint32_t)v;
	}
}

void vgic_hw_decode_lr(uint64_t raw, struct lr *lr)
{
	if (version == 3) {
		uint64_t v = raw;

		lr->vintid = v & ICH_LR_VINTID_MASK;
		lr->hw = v & ICH_LR_HW;
		lr->eoi = false; /* never used on GICv3 */
		lr->source = 0;
		lr->pintid = lr->hw ? (v >> ICH_LR_PINTID_SHIFT) & ICH_LR_PINTID_MASK : 0;
		lr->prio = (v >> ICH_LR_PRIO_SHIFT) & 0xff;
		lr->group1 = v & ICH_LR_GROUP;
		lr->state = (enum lr_state)((v >> ICH_LR_STATE_SHIFT) & 3);
	} else {
		uint32_t v = (uint32_t)raw;

		lr->vintid = v & GICH_LR_VID_MASK;
		lr->hw = v & GICH_LR_HW;
		lr->eoi = !lr->hw && (v & GICH_LR_EOI);
		lr->pintid = lr->hw ? (v >> GICH_LR_PID_SHIFT) & GICH_LR_VID_MASK :
			     lr->eoi ? lr->vintid : 0;
		lr->source = !lr->hw && lr->vintid < GICV2_NR_SGIS ?
				     (v >> GICH_LR_CPUID_SHIFT) & GICH_LR_CPUID_MASK : 0;
		lr->prio = ((v >> GICH_LR_PRIO_SHIFT) & 0x1f) << 3;
		lr->group1 = v & GICH_LR_GRP1;
		lr->state = (enum lr_state)((v >> GICH_LR_STATE_SHIFT) & 3);
	}
}

void vgic_hw_read_lr(unsigned n, struct lr *lr)
{
	vgic_hw_decode_lr(vgic_hw_raw_lr(n), lr);
}

uint64_t vgic_hw_empty_lrs(void)
{
	uint64_t mask = nr_lrs >= 64 ? ~0UL : (1UL << nr_lrs) - 1;

	if (version == 3)
		return sysreg_read(ICH_ELRSR_EL2) & mask;
	return (*gich_reg(GICH_ELRSR0) | ((uint64_t)*gich_reg(GICH_ELRSR1) << 32)) &
	       mask;
}

bool vgic_hw_deactivates_on_eoi(void)
{
#ifdef PLAT_GICV2_DEACTIVATE_ON_EOI_MAINTENANCE
	return version == 2;
#else
	return false;
#endif
}

uint64_t vgic_hw_eoi_lrs(void)
{
	uint64_t mask = nr_lrs >= 64 ? ~0UL : (1UL << nr_lrs) - 1;

	if (!vgic_hw_deactivates_on_eoi())
		return 0;
	return (*gich_reg(GICH_EISR0) | ((uint64_t)*gich_reg(GICH_EISR1) << 32)) & mask;
}

void vgic_hw_set_hcr(bool uie)
{
	if (version == 3) {
		sysreg_write(ICH_HCR_EL2, ICH_HCR_EN | (uie ? ICH_HCR_UIE : 0));
		isb();
	} else {
		*gich_reg(GICH_HCR) = GICH_HCR_EN | (uie ? GICH_HCR_UIE : 0);
	}
}

void vgic_hw_disable(void)
{
	if (version == 3) {
		sysreg_write(ICH_HCR_EL2, 0);
		isb();
	} else {
		*gich_reg(GICH_HCR) = 0;
	}
}

uint64_t vgic_hw_raw_lr(unsigned n)
{
	uint64_t v = 0;

	if (version == 3)
		ich_lr_access(n, &v, false);
	else
		v = *gich_reg(GICH_LR0 + 4 * n);
	return v;
}

void vgic_hw_set_raw_lr(unsigned n, uint64_t v)
{
	if (version == 3)
		ich_lr_access(n, &v, true);
	else
		*gich_reg(GICH_LR0 + 4 * n) = (uint32_t)v;
}

uint32_t vgic_hw_gich_read(unsigned off)
{
	return *gich_reg(off);
}

void vgic_hw_gich_write(unsigned off, uint32_t v)
{
	*gich_reg(off) = v;
}
