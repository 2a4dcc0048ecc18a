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
#include "gic.h"
#include "fdt.h"

const char bm_name[] = "timer-check";

#define VTIMER_INTID VTIMER_PPI
#define PTIMER_INTID PTIMER_PPI

#define CNTV_CTL_ENABLE 1UL
#define CNTV_CTL_IMASK 2UL
#define CNTV_CTL_ISTATUS 4UL

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

static const struct timer *cur; /* the one being checked */
static volatile unsigned timer_irqs, other_irqs;
static unsigned passed, failed;

static void wait_us(uint64_t us)
{
	uint64_t end = bm_now() + bm_us_to_ticks(us);

	while (bm_now() < end)
		;
}

static uint64_t v_count(void) { return bm_now(); }
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
	uint32_t iar = gic_ack();
	uint32_t intid = IAR_INTID(iar);

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
	gic_eoi(iar);
}

static void timer_gic_setup(void)
{
	gic_detect();
	gic_setup();
	gic_private_enable(VTIMER_INTID, 0x80);
	gic_private_enable(PTIMER_INTID, 0x80);
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
	uint64_t end = bm_now() + bm_us_to_ticks(us);

	bm_irqs_on();
	while (bm_now() < end && timer_irqs == before)
		;
	wait_us(1000); /* a second one, if any, comes now */
	bm_irqs_off();
	return timer_irqs - before;
}

/* Fires with IRQs masked; then `ctl` is written before they are unmasked. */
static void withdrawn(const char *name, uint64_t ctl)
{
	unsigned before = timer_irqs, got;
	uint64_t t0 = bm_now();

	cur->set(cur->count(), CNTV_CTL_ENABLE);
	while (!(cur->ctl() & CNTV_CTL_ISTATUS) && bm_now() - t0 < bm_us_to_ticks(100000))
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
	uint64_t ticks = bm_us_to_ticks(20000), before = timer_irqs, t0, cval;
	bool early;
	unsigned got;

	t0 = cur->count();
	cur->set_tval((uint32_t)ticks);
	cval = cur->cval();
	cur->set_ctl(CNTV_CTL_ENABLE);
	early = cur->ctl() & CNTV_CTL_ISTATUS;
	got = taken_within(100000, before);
	if (cval < t0 + ticks || cval > t0 + ticks + bm_us_to_ticks(5000) || early) {
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
	t->set(t->count() + bm_us_to_ticks(1000), CNTV_CTL_ENABLE);
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
	uint64_t before = timer_irqs, t0 = bm_now(), give_up = t0 + bm_us_to_ticks(ms * 10000);

	cur = &timers[1];
	cur->set(cur->count() + bm_us_to_ticks(ms * 1000), CNTV_CTL_ENABLE);
	v_set(give_up, CNTV_CTL_ENABLE); /* WFI ends then at the latest */
	bm_printf("%s: physical armed for %lu ms\n", bm_name, ms);
	bm_irqs_on();
	while (timer_irqs == before && bm_now() < give_up)
		__asm__ volatile("wfi" ::: "memory");
	bm_irqs_off();
	if (timer_irqs != before)
		bm_printf("%s: physical wait ok after %lu ms\n", bm_name,
			  (bm_now() - t0) / bm_us_to_ticks(1000));
	else
		bm_printf("%s: physical wait FAILED: no interrupt within %lu ms\n", bm_name,
			  ms * 10);
}

int main(void)
{
	uint64_t wait_ms = wait_arg();

	bm_irqs_off();
	bm_irq_handler = irq;
	timer_gic_setup();
	bm_printf("%s: GICv%u\n", bm_name, gic_v3 ? 3 : 2);
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
