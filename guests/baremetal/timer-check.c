/*
 * timer-check: the virtual timer and the EL1 physical timer as a guest
 * relies on them, through the GIC it finds (GICv3 system registers, or
 * GICv2 memory-mapped), one vCPU. For each timer (virtual: CNTV_*, INTID
 * 27 against CNTVCT; physical: CNTP_*, INTID 30 against CNTPCT):
 *
 *   fires        enabled with a deadline passed, its interrupt is taken
 *                once IRQs are unmasked;
 *   disabled     enabled, fired while IRQs were masked, then disabled
 *                (CNTV_CTL.ENABLE = 0) before IRQs are unmasked: a level
 *                interrupt whose line fell is pending no more, so nothing
 *                is taken (Arm ARM D13.8; GIC: level-sensitive PPIs);
 *   masked       the same with CNTV_CTL.IMASK set instead;
 *   fires again  after both, the timer still interrupts (nothing left
 *                active at the GIC);
 *   tval         TVAL written: CVAL reads as the count plus TVAL, ISTATUS
 *                is clear until then, and the interrupt comes after it.
 *
 * Between the change of CNTV_CTL and the unmask the guest reads a
 * distributor register, as a driver that checks pending state would: under
 * a hypervisor that read is an exit, the point where a hypervisor can see
 * the timer's line fall (the register itself is not trapped).
 *
 * Prints "timer-check: <timer> <name> ok|FAILED ..." per check, then
 * "timer-check: N passed, M failed" and powers the VM off.
 *
 * With "wait=<ms>" on its command line it then arms the physical timer
 * that far ahead, prints "timer-check: physical armed for <ms> ms" and
 * waits in WFI for its interrupt: "timer-check: physical wait ok after
 * <ms> ms", or FAILED after ten times as long (virtual time), before it
 * powers off. The tests save and restore the VM meanwhile: the timer must
 * come along.
 */
#include "bm.h"
#include "fdt.h"

const char bm_name[] = "timer-check";

#define VTIMER_INTID 27U
#define PTIMER_INTID 30U
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

/* One of the two EL1 timers: its registers through these (the register
 * names are part of the instructions). */
struct timer {
	const char *name;
	uint32_t intid;
	uint64_t (*count)(void);
	uint64_t (*ctl)(void);
	uint64_t (*cval)(void);
	void (*set)(uint64_t cval, uint64_t ctl);
	void (*set_ctl)(uint64_t ctl);
	void (*set_tval)(uint32_t tval);
};

static bool v3;
static const struct timer *cur; /* the one being checked */
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

static uint64_t v_count(void) { return now(); }
static uint64_t v_ctl(void) { return SYSREG_READ("cntv_ctl_el0"); }
static uint64_t v_cval(void) { return SYSREG_READ("cntv_cval_el0"); }
static void v_set_ctl(uint64_t ctl)
{
	SYSREG_WRITE("cntv_ctl_el0", ctl);
	__asm__ volatile("isb" ::: "memory");
}
static void v_set(uint64_t cval, uint64_t ctl)
{
	SYSREG_WRITE("cntv_cval_el0", cval);
	v_set_ctl(ctl);
}
static void v_set_tval(uint32_t tval)
{
	SYSREG_WRITE("cntv_tval_el0", tval);
	__asm__ volatile("isb" ::: "memory");
}

static uint64_t p_count(void)
{
	__asm__ volatile("isb" ::: "memory");
	return SYSREG_READ("cntpct_el0");
}
static uint64_t p_ctl(void) { return SYSREG_READ("cntp_ctl_el0"); }
static uint64_t p_cval(void) { return SYSREG_READ("cntp_cval_el0"); }
static void p_set_ctl(uint64_t ctl)
{
	SYSREG_WRITE("cntp_ctl_el0", ctl);
	__asm__ volatile("isb" ::: "memory");
}
static void p_set(uint64_t cval, uint64_t ctl)
{
	SYSREG_WRITE("cntp_cval_el0", cval);
	p_set_ctl(ctl);
}
static void p_set_tval(uint32_t tval)
{
	SYSREG_WRITE("cntp_tval_el0", tval);
	__asm__ volatile("isb" ::: "memory");
}

static const struct timer timers[] = {
	{ "virtual", VTIMER_INTID, v_count, v_ctl, v_cval, v_set, v_set_ctl, v_set_tval },
	{ "physical", PTIMER_INTID, p_count, p_ctl, p_cval, p_set, p_set_ctl, p_set_tval },
};

static void irq(void)
{
	uint32_t iar = v3 ? (uint32_t)SYSREG_READ(ICC_IAR1_EL1) : rd32(GICC_BASE + GICC_IAR);
	uint32_t intid = iar & 0x3ff;

	if (intid >= 1020)
		return; /* spurious */
	if (cur && intid == cur->intid) {
		timer_irqs++;
		cur->set(0, 0); /* its line falls before the EOI, as Linux does */
	} else if (intid == VTIMER_INTID) {
		v_set(0, 0); /* the long wait's watchdog */
		other_irqs++;
	} else {
		other_irqs++;
	}
	if (v3)
		SYSREG_WRITE(ICC_EOIR1_EL1, iar);
	else
		wr32(GICC_BASE + GICC_EOIR, iar);
}

/* A private interrupt enabled at priority 0x80 (group 1 on GICv3). */
static void ppi_enable(uint32_t intid)
{
	uintptr_t base = v3 ? GICR_BASE + GICR_SGI : GICD_BASE;
	uintptr_t prio = base + GICD_IPRIORITYR + (intid & ~3U);
	unsigned shift = (intid & 3U) * 8;

	if (v3)
		wr32(base + 0x0080, rd32(base + 0x0080) | (1U << intid)); /* IGROUPR0 */
	wr32(prio, (rd32(prio) & ~(0xffU << shift)) | (0x80U << shift));
	wr32(base + GICD_ISENABLER0, 1U << intid);
}

static void gic_setup(void)
{
	/* ID_AA64PFR0_EL1.GIC: the GICv3 system register interface. */
	v3 = (SYSREG_READ("id_aa64pfr0_el1") >> 24) & 0xf;
	if (v3) {
		SYSREG_WRITE(ICC_SRE_EL1, SYSREG_READ(ICC_SRE_EL1) | 1);
		__asm__ volatile("isb" ::: "memory");
		wr32(GICD_BASE + GICD_CTLR, 0x12); /* ARE, EnableGrp1 */
		wr32(GICR_BASE + GICR_WAKER, rd32(GICR_BASE + GICR_WAKER) & ~2U);
		ppi_enable(VTIMER_INTID);
		ppi_enable(PTIMER_INTID);
		SYSREG_WRITE(ICC_PMR_EL1, 0xff);
		SYSREG_WRITE(ICC_CTLR_EL1, 0); /* EOImode 0 */
		SYSREG_WRITE(ICC_IGRPEN1_EL1, 1);
	} else {
		wr32(GICD_BASE + GICD_CTLR, 1);
		ppi_enable(VTIMER_INTID);
		ppi_enable(PTIMER_INTID);
		wr32(GICC_BASE + GICC_PMR, 0xff);
		wr32(GICC_BASE + GICC_CTLR, 1);
	}
	__asm__ volatile("isb" ::: "memory");
}

static void check(const char *name, bool ok, unsigned got, unsigned want)
{
	if (ok) {
		passed++;
		bm_printf("%s: %s %s ok\n", bm_name, cur->name, name);
	} else {
		failed++;
		bm_printf("%s: %s %s FAILED: %u timer interrupts, expected %u\n", bm_name,
			  cur->name, name, got, want);
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

	cur->set(cur->count(), CNTV_CTL_ENABLE);
	while (!(cur->ctl() & CNTV_CTL_ISTATUS) && now() - t0 < us_to_ticks(100000))
		;
	wait_us(2000); /* the interrupt reached the (v)GIC meanwhile */
	cur->set_ctl(ctl);
	(void)rd32(GICD_BASE + GICD_TYPER); /* a driver's look at the GIC */
	got = taken_within(5000, before);
	check(name, got == 0, got, 0);
}

/* TVAL: a deadline relative to the count; not due before it. */
static void tval(void)
{
	uint64_t ticks = us_to_ticks(20000), before = timer_irqs, t0, cval;
	bool early;
	unsigned got;

	t0 = cur->count();
	cur->set_tval((uint32_t)ticks);
	cval = cur->cval();
	cur->set_ctl(CNTV_CTL_ENABLE);
	early = cur->ctl() & CNTV_CTL_ISTATUS;
	got = taken_within(100000, before);
	if (cval < t0 + ticks || cval > t0 + ticks + us_to_ticks(5000) || early) {
		failed++;
		bm_printf("%s: %s tval FAILED: count 0x%lx, tval 0x%lx, cval 0x%lx, istatus %u\n",
			  bm_name, cur->name, t0, ticks, cval, early);
		return;
	}
	check("tval", got == 1 && cur->count() >= cval, got, 1);
}

static void check_timer(const struct timer *t)
{
	unsigned before, got;

	cur = t;
	before = timer_irqs;
	t->set(t->count(), CNTV_CTL_ENABLE);
	got = taken_within(100000, before);
	check("fires", got == 1, got, 1);

	withdrawn("disabled", 0);
	withdrawn("masked", CNTV_CTL_ENABLE | CNTV_CTL_IMASK);
	t->set(0, 0);

	before = timer_irqs;
	t->set(t->count() + us_to_ticks(1000), CNTV_CTL_ENABLE);
	got = taken_within(100000, before);
	check("fires again", got == 1, got, 1);
	tval();
	t->set(0, 0);
}

/* "wait=<ms>" in the VM's command line, or 0. */
static uint64_t wait_arg(void)
{
	const char *a = bm_fdt_bootargs(bm_boot_x0);
	uint64_t ms = 0;

	for (; *a; a++) {
		if ((a == bm_fdt_bootargs(bm_boot_x0) || a[-1] == ' ') && a[0] == 'w' &&
		    a[1] == 'a' && a[2] == 'i' && a[3] == 't' && a[4] == '=') {
			for (a += 5; *a >= '0' && *a <= '9'; a++)
				ms = ms * 10 + (uint64_t)(*a - '0');
			break;
		}
	}
	return ms;
}

/* The physical timer armed far ahead, waited for in WFI. */
static void long_wait(uint64_t ms)
{
	uint64_t before = timer_irqs, t0 = now(), give_up = t0 + us_to_ticks(ms * 10000);

	cur = &timers[1];
	cur->set(cur->count() + us_to_ticks(ms * 1000), CNTV_CTL_ENABLE);
	v_set(give_up, CNTV_CTL_ENABLE); /* WFI ends then at the latest */
	bm_printf("%s: physical armed for %lu ms\n", bm_name, ms);
	irqs_on();
	while (timer_irqs == before && now() < give_up)
		__asm__ volatile("wfi" ::: "memory");
	irqs_off();
	if (timer_irqs != before)
		bm_printf("%s: physical wait ok after %lu ms\n", bm_name,
			  (now() - t0) / us_to_ticks(1000));
	else
		bm_printf("%s: physical wait FAILED: no interrupt within %lu ms\n", bm_name,
			  ms * 10);
}

int main(void)
{
	uint64_t wait_ms = wait_arg();

	irqs_off();
	bm_irq_handler = irq;
	gic_setup();
	bm_printf("%s: GICv%u\n", bm_name, v3 ? 3 : 2);
	for (unsigned i = 0; i < sizeof(timers) / sizeof(timers[0]); i++)
		check_timer(&timers[i]);
	if (other_irqs)
		bm_printf("%s: %u other interrupts\n", bm_name, other_irqs);
	bm_printf("%s: %u passed, %u failed\n", bm_name, passed, failed);
	other_irqs = 0;
	if (wait_ms)
		long_wait(wait_ms);
	bm_system_off();
}
