/*
 * timer-check: the virtual timer as a guest relies on it, through the GIC it
 * finds (GICv3 system registers, or GICv2 memory-mapped), one vCPU:
 *
 *   fires        enabled with a deadline passed, its interrupt (INTID 27)
 *                is taken once IRQs are unmasked;
 *   disabled     enabled, fired while IRQs were masked, then disabled
 *                (CNTV_CTL.ENABLE = 0) before IRQs are unmasked: a level
 *                interrupt whose line fell is pending no more, so nothing
 *                is taken (Arm ARM D13.8; GIC: level-sensitive PPIs);
 *   masked       the same with CNTV_CTL.IMASK set instead;
 *   fires again  after both, the timer still interrupts (nothing left
 *                active at the GIC).
 *
 * Between the change of CNTV_CTL and the unmask the guest reads a
 * distributor register, as a driver that checks pending state would: under
 * a hypervisor that read is an exit, the point where a hypervisor can see
 * the timer's line fall (the register itself is not trapped).
 *
 * Prints "timer-check: <name> ok|FAILED ..." per check, then
 * "timer-check: N passed, M failed" and powers the VM off.
 */
#include "bm.h"

const char bm_name[] = "timer-check";

#define VTIMER_INTID 27U
#define GICD_BASE 0x08000000UL
#define GICC_BASE 0x08010000UL /* GICv2 CPU interface (the VM's default) */
#define GICR_BASE 0x080a0000UL /* GICv3: vCPU 0's redistributor */

#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_ISENABLER0 0x0100
#define GICD_IPRIORITYR 0x0400
#define GICR_WAKER 0x0014
#define GICR_SGI 0x10000UL
#define GICC_CTLR 0x0000
#define GICC_PMR 0x0004
#define GICC_IAR 0x000c
#define GICC_EOIR 0x0010

#define CNTV_CTL_ENABLE 1UL
#define CNTV_CTL_IMASK 2UL
#define CNTV_CTL_ISTATUS 4UL

#define SYSREG_READ(r) ({ uint64_t _v; __asm__ volatile("mrs %0, " r : "=r"(_v)); _v; })
#define SYSREG_WRITE(r, v) __asm__ volatile("msr " r ", %0" : : "r"((uint64_t)(v)) : "memory")
#define ICC_PMR_EL1 "S3_0_C4_C6_0"
#define ICC_IAR1_EL1 "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1 "S3_0_C12_C12_1"
#define ICC_CTLR_EL1 "S3_0_C12_C12_4"
#define ICC_SRE_EL1 "S3_0_C12_C12_5"
#define ICC_IGRPEN1_EL1 "S3_0_C12_C12_7"

static bool v3;
static volatile unsigned timer_irqs, other_irqs;
static unsigned passed, failed;

static inline uint32_t rd32(uintptr_t a)
{
	uint32_t v;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline void wr32(uintptr_t a, uint32_t v)
{
	__asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(a) : "memory");
}

static uint64_t now(void)
{
	__asm__ volatile("isb" ::: "memory");
	return SYSREG_READ("cntvct_el0");
}

static uint64_t us_to_ticks(uint64_t us)
{
	return SYSREG_READ("cntfrq_el0") / 1000000 * us;
}

static void wait_us(uint64_t us)
{
	uint64_t end = now() + us_to_ticks(us);

	while (now() < end)
		;
}

static void irqs_on(void)
{
	__asm__ volatile("msr daifclr, #2\n isb" ::: "memory");
}

static void irqs_off(void)
{
	__asm__ volatile("msr daifset, #2\n isb" ::: "memory");
}

static void set_timer(uint64_t cval, uint64_t ctl)
{
	SYSREG_WRITE("cntv_cval_el0", cval);
	SYSREG_WRITE("cntv_ctl_el0", ctl);
	__asm__ volatile("isb" ::: "memory");
}

static void irq(void)
{
	uint32_t iar = v3 ? (uint32_t)SYSREG_READ(ICC_IAR1_EL1) : rd32(GICC_BASE + GICC_IAR);
	uint32_t intid = iar & 0x3ff;

	if (intid >= 1020)
		return; /* spurious */
	if (intid == VTIMER_INTID) {
		timer_irqs++;
		set_timer(0, 0); /* its line falls before the EOI, as Linux does */
	} else {
		other_irqs++;
	}
	if (v3)
		SYSREG_WRITE(ICC_EOIR1_EL1, iar);
	else
		wr32(GICC_BASE + GICC_EOIR, iar);
}

static void gic_setup(void)
{
	uintptr_t prio = GICD_IPRIORITYR + (VTIMER_INTID & ~3U);
	unsigned shift = (VTIMER_INTID & 3U) * 8;

	/* ID_AA64PFR0_EL1.GIC: the GICv3 system register interface. */
	v3 = (SYSREG_READ("id_aa64pfr0_el1") >> 24) & 0xf;
	if (v3) {
		uintptr_t sgi = GICR_BASE + GICR_SGI;

		SYSREG_WRITE(ICC_SRE_EL1, SYSREG_READ(ICC_SRE_EL1) | 1);
		__asm__ volatile("isb" ::: "memory");
		wr32(GICD_BASE + GICD_CTLR, 0x12); /* ARE, EnableGrp1 */
		wr32(GICR_BASE + GICR_WAKER, rd32(GICR_BASE + GICR_WAKER) & ~2U);
		wr32(sgi + 0x0080, rd32(sgi + 0x0080) | (1U << VTIMER_INTID)); /* IGROUPR0 */
		wr32(sgi + prio, (rd32(sgi + prio) & ~(0xffU << shift)) | (0x80U << shift));
		wr32(sgi + GICD_ISENABLER0, 1U << VTIMER_INTID);
		SYSREG_WRITE(ICC_PMR_EL1, 0xff);
		SYSREG_WRITE(ICC_CTLR_EL1, 0); /* EOImode 0 */
		SYSREG_WRITE(ICC_IGRPEN1_EL1, 1);
	} else {
		wr32(GICD_BASE + GICD_CTLR, 1);
		wr32(GICD_BASE + prio, (rd32(GICD_BASE + prio) & ~(0xffU << shift)) |
					       (0x80U << shift));
		wr32(GICD_BASE + GICD_ISENABLER0, 1U << VTIMER_INTID);
		wr32(GICC_BASE + GICC_PMR, 0xff);
		wr32(GICC_BASE + GICC_CTLR, 1);
	}
	__asm__ volatile("isb" ::: "memory");
}

static void check(const char *name, bool ok, unsigned got, unsigned want)
{
	if (ok) {
		passed++;
		bm_printf("%s: %s ok\n", bm_name, name);
	} else {
		failed++;
		bm_printf("%s: %s FAILED: %u timer interrupts, expected %u\n", bm_name, name, got,
			  want);
	}
}

/* Up to `us` with IRQs unmasked, or until the count moves. */
static unsigned taken_within(uint64_t us, unsigned before)
{
	uint64_t end = now() + us_to_ticks(us);

	irqs_on();
	while (now() < end && timer_irqs == before)
		;
	wait_us(1000); /* a second one, if any, comes now */
	irqs_off();
	return timer_irqs - before;
}

/* Fires with IRQs masked; then `ctl` is written before they are unmasked. */
static void withdrawn(const char *name, uint64_t ctl)
{
	unsigned before = timer_irqs, got;
	uint64_t t0 = now();

	set_timer(t0, CNTV_CTL_ENABLE);
	while (!(SYSREG_READ("cntv_ctl_el0") & CNTV_CTL_ISTATUS) && now() - t0 < us_to_ticks(100000))
		;
	wait_us(2000); /* the interrupt reached the (v)GIC meanwhile */
	SYSREG_WRITE("cntv_ctl_el0", ctl);
	__asm__ volatile("isb" ::: "memory");
	(void)rd32(GICD_BASE + GICD_TYPER); /* a driver's look at the GIC */
	got = taken_within(5000, before);
	check(name, got == 0, got, 0);
}

int main(void)
{
	unsigned before, got;

	irqs_off();
	bm_irq_handler = irq;
	gic_setup();
	bm_printf("%s: GICv%u\n", bm_name, v3 ? 3 : 2);

	before = timer_irqs;
	set_timer(now(), CNTV_CTL_ENABLE);
	got = taken_within(100000, before);
	check("fires", got == 1, got, 1);

	withdrawn("disabled", 0);
	withdrawn("masked", CNTV_CTL_ENABLE | CNTV_CTL_IMASK);
	set_timer(0, 0);

	before = timer_irqs;
	set_timer(now() + us_to_ticks(1000), CNTV_CTL_ENABLE);
	got = taken_within(100000, before);
	check("fires again", got == 1, got, 1);

	if (other_irqs)
		bm_printf("%s: %u other interrupts\n", bm_name, other_irqs);
	bm_printf("%s: %u passed, %u failed\n", bm_name, passed, failed);
	bm_system_off();
}
