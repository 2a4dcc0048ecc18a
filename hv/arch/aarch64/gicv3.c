/* GICv3 driver: distributor with affinity routing, one redistributor per core,
 * CPU interface through the ICC system registers. */
#include <arch/asm.h>
#include <arch/gic.h>
#include <arch/gic_regs.h>
#include <arch/sysreg.h>
#include <core/cpu.h>
#include <shyper/errno.h>

/* Derived from the device tree at boot. */
static volatile struct gicd_regs *gicd;
static uint64_t gicr_base, gicr_size;
static uint32_t nr_irqs;
static volatile struct gicr_sgi_regs *gicr_sgi[HV_MAX_CPUS];
/*
 * Private interrupts enabled for a core before its redistributor is known:
 * a live update's new image (or the old one, rolling back) registers its
 * handlers on the leading core before the other cores have attached, and
 * before the leader itself has. Applied when the core attaches; empty
 * otherwise, so nothing here outlives an image's start.
 */
static uint32_t early_enable[HV_MAX_CPUS];
static uint64_t cpu_mpidr[HV_MAX_CPUS];

#define POLL_LIMIT 1000000

static int wait_rwp(void)
{
	for (int i = 0; i < POLL_LIMIT; i++)
		if (!(gicd->ctlr & GICD_CTLR_RWP))
			return 0;
	return -SHYPER_EBUSY;
}

static int v3_init(const struct gic_desc *desc, bool attach)
{
	gicd = (volatile struct gicd_regs *)desc->gicd;
	gicr_base = desc->gicr;
	gicr_size = desc->gicr_size;
	nr_irqs = GICD_TYPER_ITLINES(gicd->typer);
	if (nr_irqs > GIC_MAX_INTID + 1)
		nr_irqs = GIC_MAX_INTID + 1;
	if (attach)
		return 0;

	gicd->ctlr = 0;
	if (wait_rwp())
		return -SHYPER_EBUSY;
	for (uint32_t i = GIC_FIRST_SPI / 32; i < nr_irqs / 32; i++) {
		gicd->icenabler[i] = ~0U;
		gicd->icpendr[i] = ~0U;
		gicd->igroupr[i] = ~0U; /* group 1: signalled as IRQ */
	}
	for (uint32_t i = GIC_FIRST_SPI; i < nr_irqs; i++)
		gicd->ipriorityr[i] = GIC_PRIO_HV;
	if (wait_rwp())
		return -SHYPER_EBUSY;
	gicd->ctlr = GICD_CTLR_ARE | GICD_CTLR_ENABLE_GRP1;
	return wait_rwp();
}

/* Finds the redistributor whose GICR_TYPER affinity matches this core. */
static volatile struct gicr_rd_regs *find_redistributor(uint64_t mpidr)
{
	uint64_t aff = (MPIDR_AFF3(mpidr) << 24) | (MPIDR_AFF2(mpidr) << 16) |
		       (MPIDR_AFF1(mpidr) << 8) | MPIDR_AFF0(mpidr);
	uint64_t addr = gicr_base;

	while (addr < gicr_base + gicr_size) {
		volatile struct gicr_rd_regs *rd = (volatile void *)addr;
		uint64_t typer = rd->typer;

		if (GICR_TYPER_AFF(typer) == aff)
			return rd;
		if (typer & GICR_TYPER_LAST)
			break;
		addr += (typer & GICR_TYPER_VLPIS) ? GICR_FRAME_STRIDE_VLPI :
						      GICR_FRAME_STRIDE;
	}
	return 0;
}

static int v3_cpu_init(unsigned cpu, uint64_t mpidr, bool attach)
{
	volatile struct gicr_rd_regs *rd = find_redistributor(mpidr);
	volatile struct gicr_sgi_regs *sgi;
	int i;

	if (!rd || cpu >= HV_MAX_CPUS)
		return -SHYPER_ENODEV;
	sgi = (volatile void *)((uint64_t)rd + GICR_SGI_OFFSET);
	gicr_sgi[cpu] = sgi;
	cpu_mpidr[cpu] = mpidr;
	if (attach) {
		if (early_enable[cpu])
			sgi->isenabler0 = early_enable[cpu];
		early_enable[cpu] = 0;
		return 0;
	}

	rd->waker &= ~GICR_WAKER_PROCESSOR_SLEEP;
	for (i = 0; i < POLL_LIMIT && (rd->waker & GICR_WAKER_CHILDREN_ASLEEP); i++)
		;
	if (i == POLL_LIMIT)
		return -SHYPER_EBUSY;

	sgi->icenabler0 = ~0U;
	sgi->icpendr0 = ~0U;
	sgi->igroupr0 = ~0U;
	for (i = 0; i < GIC_FIRST_SPI; i++)
		sgi->ipriorityr[i] = GIC_PRIO_HV;
	if (early_enable[cpu])
		sgi->isenabler0 = early_enable[cpu];
	early_enable[cpu] = 0;

	sysreg_write(ICC_SRE_EL2, sysreg_read(ICC_SRE_EL2) | ICC_SRE_EL2_SRE |
					  ICC_SRE_EL2_ENABLE);
	isb();
	sysreg_write(ICC_PMR_EL1, GIC_PRIO_MASK_ALL_OPEN);
	sysreg_write(ICC_BPR1_EL1, 0);
	sysreg_write(ICC_CTLR_EL1, ICC_CTLR_EOIMODE);
	sysreg_write(ICC_IGRPEN1_EL1, 1);
	isb();
	return 0;
}

static void v3_enable(uint32_t intid, unsigned cpu)
{
	if (intid < GIC_FIRST_SPI) {
		if (cpu >= HV_MAX_CPUS)
			return;
		if (!gicr_sgi[cpu])
			early_enable[cpu] |= 1U << intid;
		else
			gicr_sgi[cpu]->isenabler0 = 1U << intid;
		return;
	}
	if (intid >= nr_irqs)
		return;
	uint64_t m = cpu_mpidr[cpu];
	gicd->irouter[intid] = m & MPIDR_AFF_MASK;
	gicd->isenabler[intid / 32] = 1U << (intid % 32);
}

static void v3_disable(uint32_t intid, unsigned cpu)
{
	if (intid < GIC_FIRST_SPI) {
		if (cpu >= HV_MAX_CPUS)
			return;
		if (!gicr_sgi[cpu])
			early_enable[cpu] &= ~(1U << intid);
		else
			gicr_sgi[cpu]->icenabler0 = 1U << intid;
	} else if (intid < nr_irqs)
		gicd->icenabler[intid / 32] = 1U << (intid % 32);
}

static void v3_send_sgi(unsigned cpu, uint32_t sgi)
{
	uint64_t m = cpu_mpidr[cpu];
	uint64_t val = ICC_SGI1R_TARGETS(MPIDR_AFF0(m)) |
		       (MPIDR_AFF1(m) << ICC_SGI1R_AFF1_SHIFT) |
		       ((uint64_t)(sgi & 0xf) << ICC_SGI1R_INTID_SHIFT) |
		       (MPIDR_AFF2(m) << ICC_SGI1R_AFF2_SHIFT) |
		       ((MPIDR_AFF0(m) >> 4) << ICC_SGI1R_RS_SHIFT) |
		       (MPIDR_AFF3(m) << ICC_SGI1R_AFF3_SHIFT);

	dsb(ishst); /* make our writes visible before the target wakes */
	sysreg_write(ICC_SGI1R_EL1, val);
	isb();
}

static uint32_t v3_ack(void)
{
	uint32_t v = (uint32_t)sysreg_read(ICC_IAR1_EL1);

	dsb(sy);
	return v;
}

static void v3_eoi(uint32_t ack)
{
	sysreg_write(ICC_EOIR1_EL1, ack);
	isb();
}

static void v3_deactivate(uint32_t ack)
{
	sysreg_write(ICC_DIR_EL1, ack);
	isb();
}

static bool v3_private_active(uint32_t intid)
{
	return gicr_sgi[this_cpu_id()]->isactiver0 & (1U << intid);
}

static void v3_set_private_active(uint32_t intid, bool active)
{
	if (active)
		gicr_sgi[this_cpu_id()]->isactiver0 = 1U << intid;
	else
		gicr_sgi[this_cpu_id()]->icactiver0 = 1U << intid;
	dsb(sy);
}

static uint32_t v3_nr_irqs(void)
{
	return nr_irqs;
}

static void v3_set_edge(uint32_t intid)
{
	gicd_set_edge(gicd, intid);
}

const struct gic_ops gicv3_ops = {
	.init = v3_init,
	.cpu_init = v3_cpu_init,
	.enable = v3_enable,
	.disable = v3_disable,
	.send_sgi = v3_send_sgi,
	.ack = v3_ack,
	.eoi = v3_eoi,
	.deactivate = v3_deactivate,
	.nr_irqs = v3_nr_irqs,
	.private_active = v3_private_active,
	.set_private_active = v3_set_private_active,
	.set_edge = v3_set_edge,
};
