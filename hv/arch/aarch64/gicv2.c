/* GICv2 driver: banked distributor registers and a memory-mapped CPU interface. */
#include <arch/asm.h>
#include <arch/gic.h>
#include <arch/gic_regs.h>
#include <arch/sysreg.h>
#include <shyper/errno.h>

/* Derived from the device tree at boot. */
static volatile struct gicd_regs *gicd;
static volatile struct gicc_regs *gicc;
static uint32_t nr_irqs;
/* GICv2 names cores by CPU interface number, read from ITARGETSR0. */
static uint8_t cpu_if_mask[HV_MAX_CPUS];

static int v2_init(const struct gic_desc *desc, bool attach)
{
	gicd = (volatile struct gicd_regs *)desc->gicd;
	gicc = (volatile struct gicc_regs *)desc->gicc;
	nr_irqs = GICD_TYPER_ITLINES(gicd->typer);
	if (nr_irqs > GIC_MAX_INTID + 1)
		nr_irqs = GIC_MAX_INTID + 1;
	if (attach)
		return 0;

	gicd->ctlr = 0;
	for (uint32_t i = GIC_FIRST_SPI / 32; i < nr_irqs / 32; i++) {
		gicd->icenabler[i] = ~0U;
		gicd->icpendr[i] = ~0U;
	}
	for (uint32_t i = GIC_FIRST_SPI; i < nr_irqs; i++)
		gicd->ipriorityr[i] = GIC_PRIO_HV;
	gicd->ctlr = GICD_CTLR_ENABLE_GRP0;
	return 0;
}

static int v2_cpu_init(unsigned cpu, uint64_t mpidr, bool attach)
{
	(void)mpidr;
	if (cpu >= HV_MAX_CPUS)
		return -SHYPER_ENODEV;
	/* The first ITARGETSR bytes are banked and read as this core's mask. */
	cpu_if_mask[cpu] = gicd->itargetsr[0];
	if (!cpu_if_mask[cpu])
		return -SHYPER_ENODEV;
	if (attach)
		return 0;
	gicd->icenabler[0] = ~0U;
	gicd->icpendr[0] = ~0U;
	for (int i = 0; i < GIC_FIRST_SPI; i++)
		gicd->ipriorityr[i] = GIC_PRIO_HV;
	gicc->pmr = GIC_PRIO_MASK_ALL_OPEN;
	gicc->bpr = 0;
	gicc->ctlr = GICC_CTLR_ENABLE | GICC_CTLR_EOIMODE;
	return 0;
}

static void v2_enable(uint32_t intid, unsigned cpu)
{
	if (intid >= nr_irqs)
		return;
	if (intid >= GIC_FIRST_SPI)
		gicd->itargetsr[intid] = cpu_if_mask[cpu];
	gicd->isenabler[intid / 32] = 1U << (intid % 32);
}

static void v2_disable(uint32_t intid, unsigned cpu)
{
	(void)cpu;
	if (intid < nr_irqs)
		gicd->icenabler[intid / 32] = 1U << (intid % 32);
}

static void v2_send_sgi(unsigned cpu, uint32_t sgi)
{
	dsb(ishst);
	gicd->sgir = ((uint32_t)cpu_if_mask[cpu] << GICD_SGIR_TARGETS_SHIFT) |
		     (sgi & 0xf);
}

static uint32_t v2_ack(void)
{
	return gicc->iar;
}

static void v2_eoi(uint32_t ack)
{
	gicc->eoir = ack;
}

static void v2_deactivate(uint32_t ack)
{
	*(volatile uint32_t *)((uint64_t)gicc + GICC_DIR_OFFSET) = ack;
}

/* Distributor bits 0-31 are banked: each core sees its own. */
static bool v2_private_active(uint32_t intid)
{
	return gicd->isactiver[0] & (1U << intid);
}

static void v2_set_private_active(uint32_t intid, bool active)
{
	if (active)
		gicd->isactiver[0] = 1U << intid;
	else
		gicd->icactiver[0] = 1U << intid;
	dsb(sy);
}

static uint32_t v2_nr_irqs(void)
{
	return nr_irqs;
}

static void v2_set_edge(uint32_t intid)
{
	gicd_set_edge(gicd, intid);
}

const struct gic_ops gicv2_ops = {
	.init = v2_init,
	.cpu_init = v2_cpu_init,
	.enable = v2_enable,
	.disable = v2_disable,
	.send_sgi = v2_send_sgi,
	.ack = v2_ack,
	.eoi = v2_eoi,
	.deactivate = v2_deactivate,
	.nr_irqs = v2_nr_irqs,
	.private_active = v2_private_active,
	.set_private_active = v2_set_private_active,
	.set_edge = v2_set_edge,
};
