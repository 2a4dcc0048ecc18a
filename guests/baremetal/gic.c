/* The GIC as the bare-metal guests use it: see gic.h. */
#include "gic.h"

bool gic_v3;

bool gic_detect(void)
{
	gic_v3 = (SYSREG_READ("id_aa64pfr0_el1") >> 24) & 0xf;
	return gic_v3;
}

uintptr_t gic_rd_base(unsigned cpu)
{
	return GICR_BASE + cpu * GICR_FRAME;
}

uintptr_t gic_private_base(void)
{
	return gic_v3 ? gic_rd_base(bm_cpu()) + GICR_SGI : GICD_BASE;
}

void gic_cpu_setup(void)
{
	if (gic_v3) {
		SYSREG_WRITE(ICC_SRE_EL1, SYSREG_READ(ICC_SRE_EL1) | 1);
		ISB();
		wr32(gic_rd_base(bm_cpu()) + GICR_WAKER,
		     rd32(gic_rd_base(bm_cpu()) + GICR_WAKER) & ~2U);
		SYSREG_WRITE(ICC_PMR_EL1, 0xff);
		SYSREG_WRITE(ICC_CTLR_EL1, 0); /* EOImode 0 */
		SYSREG_WRITE(ICC_IGRPEN1_EL1, 1);
	} else {
		wr32(GICC_BASE + GICC_PMR, 0xff);
		wr32(GICC_BASE + GICC_CTLR, 1);
	}
	ISB();
}

void gic_setup(void)
{
	if (gic_v3)
		wr32(GICD_BASE + GICD_CTLR, 0x12); /* ARE, EnableGrp1 */
	else
		wr32(GICD_BASE + GICD_CTLR, 1);
	gic_cpu_setup();
}

void gic_private_enable(uint32_t intid, uint8_t prio)
{
	uintptr_t base = gic_private_base();

	if (gic_v3)
		wr32(base + GICD_IGROUPR, rd32(base + GICD_IGROUPR) | (1U << intid));
	wr8(base + GICD_IPRIORITYR + intid, prio);
	wr32(base + GICD_ISENABLER, 1U << intid);
}

uint32_t gic_ack(void)
{
	return gic_v3 ? (uint32_t)SYSREG_READ(ICC_IAR1_EL1) : rd32(GICC_BASE + GICC_IAR);
}

void gic_eoi(uint32_t iar)
{
	if (gic_v3)
		SYSREG_WRITE(ICC_EOIR1_EL1, iar);
	else
		wr32(GICC_BASE + GICC_EOIR, iar);
	ISB();
}

void gic_send_sgi(uint32_t sgi, unsigned target)
{
	if (gic_v3) {
		SYSREG_WRITE(ICC_SGI1R_EL1, ((uint64_t)(sgi & 15) << 24) | (1UL << target));
		ISB();
	} else {
		wr32(GICD_BASE + GICD_SGIR, (1U << (16 + target)) | (sgi & 15));
	}
}
