/*
 * hostile: a guest that attacks the hypervisor from its two vCPUs, one
 * attack after the other, while a test watches whether the other VMs keep
 * their service (tests/system/test_hostile.py). Each attack is bounded in
 * time and prints
 *
 *   hostile: <attack> begin
 *   hostile: <attack> end ok <counters>        (or "end FAILED <why> ...")
 *
 * "ok" says that every call returned a value the architecture allows, every
 * access either completed or came back as the synchronous external abort
 * cshyper injects (FAR = the address), and the vCPUs kept running.
 *
 *   spin        no attack: both vCPUs busy without an exit, the baseline of
 *               what a busy neighbour costs the others (under emulation, a
 *               good part of every figure)
 *   reset       SYSTEM_RESET in a loop (a count kept in RAM past the image
 *               survives the warm reset), the sibling flooding SGIs meanwhile
 *   psci        CPU_ON of every Aff0 and of wild MPIDRs, AFFINITY_INFO of
 *               wild levels, every PSCI and SMCCC function id over HVC and
 *               SMC with random arguments, CPU_ON/CPU_OFF of vCPU 1 in a loop
 *   sgi         both vCPUs send SGIs as fast as they can: to each other, to
 *               themselves, to all others, to vCPUs that do not exist
 *   wfx         WFI with an interrupt always pending, WFE/SEV storms
 *   mmio        every width at every aligned offset of the emulated
 *               registers (distributor, redistributors, UART), reads then
 *               writes of all ones; sign-extending loads, loads into the zero
 *               register, pair and write-back forms the hypervisor cannot
 *               decode; then the GIC is set up again
 *   unaligned   the same registers through a stage-1 map that makes them
 *               Normal memory: every misaligned offset and width, accesses
 *               that straddle an emulated region's end
 *   unassigned  a load and a store at every 4 KiB page of the first 4 GiB
 *               that is not its own (not bounded by ms=), probes above 4 GiB
 *   timer       both timers of both vCPUs reprogrammed at random as fast as
 *               possible, their interrupts re-armed to fire at once
 *   noack       interrupts pending that are never acknowledged (the IRQ is
 *               taken again at once), then acknowledged and never ended
 *   runaway     vCPU 1 powered on at an address outside its memory (it
 *               aborts for ever), vCPU 0 spins with every exception masked;
 *               the guest never stops by itself: the test removes it
 *
 * The command line chooses: "attacks=<a>,<b>,... ms=<per attack> resets=<n>"
 * (default: all, 1000 ms, 5 resets).
 */
#include "bm.h"

#include "fdt.h"
#include "gic.h"

const char bm_name[] = "hostile";

/* Its configuration (guests/configs/hostile.json): RAM and emulated devices. */
#define OWN_RAM_BASE 0x80000000UL
#define OWN_RAM_SIZE 0x00400000UL
#define GICC_SIZE 0x10000UL
#define NR_VCPUS 2
#define UART_SIZE 0x1000UL

/* Survives SYSTEM_RESET: RAM is reloaded, not cleared, on a warm reset. */
#define RESET_MAGIC 0x7265736574636e74UL
#define RESET_BOX (OWN_RAM_BASE + OWN_RAM_SIZE - 0x1000UL)

#define PSCI_CPU_OFF 0x84000002U
#define PSCI_SYSTEM_RESET 0x84000009U
#define PSCI_ALREADY_ON (-4L)
#define PSCI_ON_PENDING (-5L)
#define AFF_OFF 1

static uint64_t budget_ms = 1000;
static unsigned resets_wanted = 5;
static const char *chosen = "";

/* ---- small helpers ---- */

/* xorshift64*, one state per vCPU. */
static uint64_t rng_state[NR_VCPUS] = { 0x9e3779b97f4a7c15UL, 0xd1b54a32d192ed03UL };

static uint64_t rnd(void)
{
	uint64_t *s = &rng_state[bm_cpu() & 1];
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dUL;
}

static bool word_in(const char *list, const char *word)
{
	for (const char *p = list; *p && *p != ' ';) {
		unsigned i = 0;

		while (word[i] && p[i] == word[i])
			i++;
		if (!word[i] && (p[i] == ',' || p[i] == ' ' || !p[i]))
			return true;
		while (*p && *p != ',' && *p != ' ')
			p++;
		if (*p == ',')
			p++;
	}
	return false;
}

/* The value of "<key>=" on the command line, or NULL. */
static const char *arg(const char *key)
{
	for (const char *p = chosen; *p;) {
		unsigned i = 0;

		while (key[i] && p[i] == key[i])
			i++;
		if (!key[i] && p[i] == '=')
			return p + i + 1;
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
	}
	return NULL;
}

static uint64_t arg_num(const char *key, uint64_t dflt)
{
	const char *v = arg(key);
	uint64_t n = 0;

	if (!v || *v < '0' || *v > '9')
		return dflt;
	while (*v >= '0' && *v <= '9')
		n = n * 10 + (uint64_t)(*v++ - '0');
	return n;
}

static bool wanted(const char *attack)
{
	const char *list = arg("attacks");

	return !list || word_in(list, attack);
}

/* ---- the GIC, as this guest uses it ---- */

/* The calling vCPU's interface: SGIs and both timers' PPIs enabled, every
 * one inactive and not pending, priority mask open. */
static void cpu_setup(void)
{
	uintptr_t b = gic_private_base();

	gic_cpu_setup();
	if (gic_v3)
		wr32(b + GICD_IGROUPR, ~0U); /* group 1 */
	wr32(b + GICD_ICENABLER, ~0U);
	wr32(b + GICD_ICPENDR, ~0U);
	wr32(b + GICD_ICACTIVER, ~0U);
	for (unsigned i = 0; i < 32; i += 4)
		wr32(b + GICD_IPRIORITYR + i, 0x80808080U);
	wr32(b + GICD_ISENABLER, 0xffffU | 1U << VTIMER_PPI | 1U << PTIMER_PPI);
}

static void setup(void)
{
	gic_setup();
	cpu_setup();
}

/* Acknowledges and ends whatever is pending for the calling vCPU. */
static unsigned drain(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < 4096; i++) {
		uint32_t iar = gic_ack();

		if (IAR_INTID(iar) >= 1020)
			break;
		gic_eoi(iar);
		n++;
	}
	return n;
}

/* SGI @sgi from the calling vCPU, in one of the forms a guest can write. */
static void send_sgi(unsigned form, unsigned sgi, uint64_t r)
{
	unsigned other = bm_cpu() ^ 1;

	sgi &= 15;
	if (gic_v3) {
		uint64_t v = (uint64_t)sgi << 24;

		switch (form % 7) {
		case 0: v |= 1UL << other; break;
		case 1: v |= 1UL << bm_cpu(); break;
		case 2: v |= 1UL << 40; break;			/* IRM: every other PE */
		case 3: v |= 0xfffcUL; break;			/* vCPUs 2..15: none */
		case 4: v |= (r & 0xffff) | (r & 0xff0000UL) | (r & 0xff00ff00000000UL); break;
		case 5: SYSREG_WRITE(ICC_SGI0R_EL1, v | 1UL << other); ISB(); return;
		case 6: SYSREG_WRITE(ICC_ASGI1R_EL1, v | 1UL << other); ISB(); return;
		}
		SYSREG_WRITE(ICC_SGI1R_EL1, v);
		ISB();
	} else {
		uint32_t v = sgi;

		switch (form % 6) {
		case 0: v |= 1U << (16 + other); break;
		case 1: v |= 1U << (16 + bm_cpu()); break;
		case 2: v |= 1U << 24; break;			/* every other CPU */
		case 3: v |= 2U << 24; break;			/* self */
		case 4: v |= 0xfcU << 16; break;		/* CPUs 2..7: none */
		case 5: v |= 3U << 24 | (uint32_t)(r & 0xff0000U); break; /* reserved filter */
		}
		wr32(GICD_BASE + GICD_SGIR, v);
	}
}

/* ---- vCPU 1: takes orders from vCPU 0 ---- */

enum order { ORDER_NONE, ORDER_SGI, ORDER_WFX, ORDER_TIMER, ORDER_NOACK, ORDER_OFF,
	     ORDER_FLOOD, ORDER_GIC, ORDER_SPIN };

static volatile unsigned order, order_done;
static volatile uint64_t deadline;
static uint8_t stack1[8192] __attribute__((aligned(16)));
static struct bm_secondary sec;

/* Per vCPU counters of the current attack. */
static volatile uint64_t sent[NR_VCPUS], taken[NR_VCPUS], ops[NR_VCPUS], bad[NR_VCPUS];
static volatile uint64_t vtaken[NR_VCPUS], ptaken[NR_VCPUS];

enum irq_mode { IRQ_ACK, IRQ_NOACK };
static volatile enum irq_mode irq_mode;
/* noack: never acknowledged before noack_half, acknowledged and never
 * ended from then on, IRQs masked on return once noack_end is past. */
static volatile uint64_t noack_half, noack_end, acked[NR_VCPUS];
/* Per vCPU: 1 until its first phase ended (at least one entry each: under
 * emulation a vCPU may not run at all before noack_half), then 2. */
static volatile unsigned noack_phase[NR_VCPUS];

static void counters_clear(void)
{
	for (unsigned i = 0; i < NR_VCPUS; i++)
		sent[i] = taken[i] = ops[i] = bad[i] = vtaken[i] = ptaken[i] = acked[i] = 0;
}

static void rearm_timers(unsigned intid)
{
	uint64_t t = bm_now() + (rnd() & 0x3f);

	if (intid == VTIMER_PPI) {
		SYSREG_WRITE("cntv_cval_el0", t);
		SYSREG_WRITE("cntv_ctl_el0", 1);
	} else if (intid == PTIMER_PPI) {
		SYSREG_WRITE("cntp_cval_el0", t);
		SYSREG_WRITE("cntp_ctl_el0", 1);
	}
	ISB();
}

static volatile bool rearm;

static void mask_on_return(void)
{
	SYSREG_WRITE("spsr_el1", SYSREG_READ("spsr_el1") | 0x80);
}

static void on_irq(void)
{
	unsigned c = bm_cpu() & 1;
	uint32_t iar;
	unsigned id;
	uint64_t t;

	if (irq_mode == IRQ_NOACK) {
		t = bm_now();
		if (noack_phase[c] == 1) {
			taken[c]++; /* not acknowledged: taken again at once */
			if (t >= noack_half) {
				noack_phase[c] = 2;
				mask_on_return();
			}
		} else {
			if (IAR_INTID(gic_ack()) < 1020)
				acked[c]++; /* and never ended */
			if (t >= noack_end)
				mask_on_return();
		}
		return;
	}
	iar = gic_ack();
	id = IAR_INTID(iar);
	if (id >= 1020)
		return;
	taken[c]++;
	if (id == VTIMER_PPI || id == PTIMER_PPI) {
		if (id == VTIMER_PPI)
			vtaken[c]++;
		else
			ptaken[c]++;
		if (rearm) {
			rearm_timers(id);
		} else {
			/* Level-triggered: quiet the source before ending it. */
			if (id == VTIMER_PPI)
				SYSREG_WRITE("cntv_ctl_el0", 0);
			else
				SYSREG_WRITE("cntp_ctl_el0", 0);
			ISB();
		}
	}
	gic_eoi(iar);
}

static void sgi_flood(void)
{
	unsigned c = bm_cpu() & 1;

	irq_mode = IRQ_ACK;
	bm_irqs_on();
	for (uint64_t i = 0; bm_now() < deadline; i++) {
		send_sgi((unsigned)(i >> 4), (unsigned)i, rnd());
		sent[c]++;
	}
	bm_irqs_off();
	taken[c] += drain();
}

static void wfx_storm(void)
{
	unsigned c = bm_cpu() & 1;

	bm_irqs_off();
	if (c == 0) {
		/* The virtual timer's interrupt pending for good: WFI never waits. */
		SYSREG_WRITE("cntv_cval_el0", 0);
		SYSREG_WRITE("cntv_ctl_el0", 1);
		ISB();
		while (bm_now() < deadline) {
			__asm__ volatile("wfi\n sev" ::: "memory");
			ops[c]++;
		}
		SYSREG_WRITE("cntv_ctl_el0", 0);
		ISB();
		/* Until vCPU 1 is out of its WFE. */
		while (order_done != ORDER_WFX && bm_now() < deadline + bm_ms_to_ticks(2000))
			__asm__ volatile("sev" ::: "memory");
	} else {
		while (bm_now() < deadline) {
			__asm__ volatile("sevl\n wfe\n wfe" ::: "memory");
			ops[c]++;
		}
	}
	drain();
}

/* Busy and harmless: no exit at all until the deadline. */
static void spin(void)
{
	unsigned c = bm_cpu() & 1;

	while (bm_now() < deadline)
		ops[c]++;
}

/* One random timer register write; every 16th arms both to fire at once. */
static void timer_poke(uint64_t r)
{
	uint64_t t = bm_now();

	switch (r % 9) {
	case 0: SYSREG_WRITE("cntv_tval_el0", r >> 32); break;
	case 1: SYSREG_WRITE("cntv_cval_el0", (r & 0x100) ? ~0UL : t + ((r >> 9) & 0xff)); break;
	case 2: SYSREG_WRITE("cntv_ctl_el0", r >> 5); break;
	case 3: SYSREG_WRITE("cntp_tval_el0", r >> 32); break;
	case 4: SYSREG_WRITE("cntp_cval_el0", (r & 0x100) ? 0 : t + ((r >> 9) & 0xff)); break;
	case 5: SYSREG_WRITE("cntp_ctl_el0", r >> 5); break;
	case 6: (void)SYSREG_READ("cntp_ctl_el0"); (void)SYSREG_READ("cntp_tval_el0"); break;
	case 7: (void)SYSREG_READ("cntv_ctl_el0"); (void)SYSREG_READ("cntpct_el0"); break;
	case 8: rearm_timers(VTIMER_PPI); rearm_timers(PTIMER_PPI); break;
	}
	ISB();
}

static void timer_storm(void)
{
	unsigned c = bm_cpu() & 1;

	irq_mode = IRQ_ACK;
	rearm = true;
	rearm_timers(VTIMER_PPI);
	rearm_timers(PTIMER_PPI);
	bm_irqs_on();
	while (bm_now() < deadline) {
		timer_poke(rnd());
		ops[c]++;
	}
	bm_irqs_off();
	rearm = false;
	SYSREG_WRITE("cntv_ctl_el0", 0);
	SYSREG_WRITE("cntp_ctl_el0", 0);
	ISB();
	taken[c] += drain();
}

/* Never acknowledged, then acknowledged and never ended (on_irq). */
static void noack_storm(void)
{
	unsigned c = bm_cpu() & 1;

	for (unsigned sgi = 0; sgi < 16; sgi++)
		send_sgi(1, sgi, 0);
	SYSREG_WRITE("cntv_cval_el0", 0);
	SYSREG_WRITE("cntv_ctl_el0", 1);
	SYSREG_WRITE("cntp_cval_el0", 0);
	SYSREG_WRITE("cntp_ctl_el0", 1);
	ISB();
	bm_irqs_on(); /* the handler masks them again once past noack_half */
	while (noack_phase[c] == 1 && bm_now() < noack_end + bm_ms_to_ticks(2000))
		ops[c]++; /* nothing taken at all: reported, not a hang */
	bm_irqs_on();
	while (bm_now() < noack_end) {
		send_sgi(0, (unsigned)ops[c], 0);
		ops[c]++;
	}
	bm_irqs_off();
	/* Left as it is: interrupts active and never ended, timers firing. */
}

static void secondary(void *arg)
{
	(void)arg;
	cpu_setup();
	bm_irq_handler = on_irq;
	for (;;) {
		unsigned o = order;

		switch (o) {
		case ORDER_NONE:
			continue;
		case ORDER_SGI: sgi_flood(); break;
		case ORDER_WFX: wfx_storm(); break;
		case ORDER_TIMER: timer_storm(); break;
		case ORDER_NOACK: noack_storm(); break;
		case ORDER_GIC: cpu_setup(); break;
		case ORDER_SPIN: spin(); break;
		case ORDER_FLOOD:
			while (order == ORDER_FLOOD)
				send_sgi(0, 1, 0);
			continue;
		case ORDER_OFF:
			order = ORDER_NONE;
			order_done = ORDER_OFF;
			bm_hvc0(PSCI_CPU_OFF);
			bad[1]++; /* CPU_OFF returned */
			break;
		}
		order = ORDER_NONE;
		order_done = o;
	}
}

static bool start_vcpu1(void)
{
	int64_t ret;

	order = ORDER_NONE;
	order_done = ORDER_NONE;
	sec = (struct bm_secondary){ .stack_top = (uint64_t)(stack1 + sizeof(stack1)),
				     .fn = secondary };
	ret = bm_cpu_on(1, &sec);
	return ret == PSCI_SUCCESS || ret == PSCI_ALREADY_ON;
}

static void drain_none(void)
{
}

/* vCPU 0 runs @fn while vCPU 1 follows @o; both stop at the deadline. */
static bool together(enum order o, void (*fn)(void))
{
	uint64_t give_up;

	counters_clear();
	deadline = bm_now() + bm_ms_to_ticks(budget_ms);
	give_up = deadline + bm_ms_to_ticks(5000);
	order_done = ORDER_NONE;
	order = o;
	fn();
	while (order_done != o && bm_now() < give_up)
		;
	return order_done == o;
}

/* After the register sweeps: a GIC both vCPUs can use again. */
static void gic_again(void)
{
	setup();
	together(ORDER_GIC, drain_none);
}

/* ---- reporting ---- */

static unsigned attacks_failed;

static void begin(const char *name)
{
	bm_printf("%s: %s begin\n", bm_name, name);
}

/* "hostile: <name> end ok" or "... end FAILED (<why>)"; the caller adds
 * its counters and the newline. */
static void end(const char *name, bool ok, const char *why)
{
	if (!ok)
		attacks_failed++;
	if (ok)
		bm_printf("%s: %s end ok", bm_name, name);
	else
		bm_printf("%s: %s end FAILED (%s)", bm_name, name, why);
}

/* ---- reset ---- */

struct reset_box {
	uint64_t magic, count;
};

/* True once the loop is over (this boot goes on). */
static bool reset_loop(void)
{
	volatile struct reset_box *box = (volatile struct reset_box *)RESET_BOX;

	if (box->magic != RESET_MAGIC) {
		box->magic = RESET_MAGIC;
		box->count = 0;
		begin("reset");
	}
	if (box->count >= resets_wanted) {
		end("reset", true, "");
		bm_printf(" resets=%lu\n", box->count);
		return true;
	}
	box->count++;
	bm_printf("%s: reset %lu of %u\n", bm_name, box->count, resets_wanted);
	/* Every other time with vCPU 1 flooding vCPU 0 with SGIs meanwhile. */
	if ((box->count & 1) && start_vcpu1())
		order = ORDER_FLOOD;
	bm_hvc0(PSCI_SYSTEM_RESET);
	end("reset", false, "SYSTEM_RESET returned");
	bm_printf("\n");
	return true;
}

/* ---- psci ---- */

static bool psci_ret_ok(uint32_t fid, int64_t r)
{
	if ((fid & 0xff) == 0 && (fid >> 24) == 0x84) /* PSCI_VERSION */
		return r == 0x10001;
	if (fid == 0x80000000U) /* SMCCC_VERSION */
		return r == 0x10001 || r == -1;
	return r >= -9 && r <= 2;
}

static void attack_psci(void)
{
	uint64_t calls = 0, wrong = 0, cycles = 0;
	uint64_t end_t;

	begin("psci");
	counters_clear();
	/* CPU_ON: only 0.0.0.0 and 0.0.0.1 exist, both on (or 1 about to be). */
	for (uint64_t aff0 = 0; aff0 < 256; aff0++) {
		int64_t r = bm_cpu_on(aff0, &sec);
		int64_t want = aff0 < NR_VCPUS ? PSCI_ALREADY_ON : PSCI_INVALID_PARAMETERS;

		calls++;
		if (aff0 == 1 && r == PSCI_ON_PENDING)
			continue; /* just started, not yet running */
		if (r != want) {
			wrong++;
			bm_printf("%s: CPU_ON 0x%lx returned %ld, not %ld\n", bm_name, aff0, r, want);
		}
	}
	for (unsigned i = 0; i < 256; i++) {
		uint64_t mpidr = rnd() | 0x100; /* Aff1 != 0: not ours */
		int64_t r = (int64_t)bm_hvc(PSCI_CPU_ON_64, mpidr, rnd(), rnd(), rnd(), 0, 0).x0;
		int64_t a = (int64_t)bm_hvc(PSCI_AFFINITY_INFO_64, rnd() % NR_VCPUS, rnd() | 1, 0,
					    0, 0, 0).x0;

		calls += 2;
		if (r != PSCI_INVALID_PARAMETERS || a != PSCI_INVALID_PARAMETERS) {
			wrong++;
			bm_printf("%s: CPU_ON 0x%lx: %ld; AFFINITY_INFO level!=0: %ld\n", bm_name,
				  mpidr, r, a);
		}
	}
	/* Every function id of the PSCI and SMCCC ranges, 32- and 64-bit,
	 * over HVC and SMC, but those that stop or reset. */
	for (unsigned conduit = 0; conduit < 2; conduit++)
		for (uint32_t base = 0x80000000U; base <= 0xc4000000U; base += 0x04000000U) {
			if (base != 0x80000000U && base != 0x84000000U && base != 0xc0000000U &&
			    base != 0xc4000000U)
				continue;
			for (uint32_t fn = 0; fn < 0x40; fn++) {
				uint32_t fid = base | fn;
				struct bm_smccc_res res;

				if ((base & 0x0f000000U) == 0x04000000U &&
				    (fn == 1 || fn == 2 || fn == 8 || fn == 9 || fn == 0xe ||
				     fn == 0x12 || fn == 3 || fn == 0x15))
					continue; /* suspend, off, on, system off/reset/suspend */
				if (conduit) {
					register uint64_t x0 __asm__("x0") = fid;
					register uint64_t x1 __asm__("x1") = rnd();
					register uint64_t x2 __asm__("x2") = rnd();
					register uint64_t x3 __asm__("x3") = rnd();

					__asm__ volatile("smc #0"
							 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
							 :
							 : "x4", "x5", "x6", "x7", "x8", "x9", "x10",
							   "x11", "x12", "x13", "x14", "x15", "x16",
							   "x17", "memory");
					res.x0 = x0;
				} else {
					res = bm_hvc(fid, rnd(), rnd(), rnd(), rnd(), rnd(), rnd());
				}
				calls++;
				if (!psci_ret_ok(fid, (int64_t)res.x0)) {
					wrong++;
					bm_printf("%s: function 0x%x returned 0x%lx\n", bm_name, fid,
						  res.x0);
				}
			}
		}
	/* vCPU 1 off and on again, as fast as it goes, CPU_ON racing it. */
	end_t = bm_now() + bm_ms_to_ticks(budget_ms);
	while (bm_now() < end_t) {
		int64_t r;

		order_done = ORDER_NONE;
		order = ORDER_OFF;
		while (bm_hvc(PSCI_AFFINITY_INFO_64, 1, 0, 0, 0, 0, 0).x0 != AFF_OFF &&
		       bm_now() < end_t + bm_ms_to_ticks(2000))
			;
		r = bm_cpu_on(1, &sec);
		calls++;
		if (r != PSCI_SUCCESS) {
			wrong++;
			bm_printf("%s: CPU_ON of vCPU 1 after CPU_OFF returned %ld\n", bm_name, r);
			break;
		}
		r = bm_cpu_on(1, &sec); /* at once again: on, or still pending */
		calls++;
		if (r != PSCI_ALREADY_ON && r != PSCI_ON_PENDING) {
			wrong++;
			bm_printf("%s: second CPU_ON of vCPU 1 returned %ld\n", bm_name, r);
		}
		cycles++;
	}
	end("psci", !wrong && !bad[1], "wrong return values");
	bm_printf(" calls=%lu wrong=%lu on-off=%lu\n", calls, wrong, cycles);
}

/* ---- sgi, wfx, timer, noack: both vCPUs ---- */

static void attack_spin(void)
{
	bool both;

	begin("spin");
	both = together(ORDER_SPIN, spin);
	end("spin", both && ops[0] && ops[1], "vCPU 1 stuck");
	bm_printf(" loops=%lu,%lu\n", ops[0], ops[1]);
}

static void attack_sgi(void)
{
	bool both;

	begin("sgi");
	both = together(ORDER_SGI, sgi_flood);
	end("sgi", both && taken[0] && taken[1], "vCPU 1 stuck or nothing taken");
	bm_printf(" sent=%lu,%lu taken=%lu,%lu\n", sent[0], sent[1], taken[0], taken[1]);
}

static void attack_wfx(void)
{
	bool both;

	begin("wfx");
	both = together(ORDER_WFX, wfx_storm);
	end("wfx", both && ops[0] && ops[1], "vCPU 1 stuck in WFE or no progress");
	bm_printf(" wfi=%lu wfe=%lu\n", ops[0], ops[1]);
}

static void attack_timer(void)
{
	bool both;

	begin("timer");
	both = together(ORDER_TIMER, timer_storm);
	end("timer", both && vtaken[0] && ptaken[0] && vtaken[1] && ptaken[1],
	    "vCPU 1 stuck or a timer never fired");
	bm_printf(" writes=%lu,%lu virtual=%lu,%lu physical=%lu,%lu\n", ops[0], ops[1],
		  vtaken[0], vtaken[1], ptaken[0], ptaken[1]);
}

static void attack_noack(void)
{
	bool both;

	begin("noack");
	noack_phase[0] = noack_phase[1] = 1;
	noack_half = bm_now() + bm_ms_to_ticks(budget_ms / 2);
	noack_end = bm_now() + bm_ms_to_ticks(budget_ms);
	irq_mode = IRQ_NOACK;
	both = together(ORDER_NOACK, noack_storm);
	irq_mode = IRQ_ACK;
	end("noack", both && taken[0] && taken[1] && acked[0] && acked[1],
	    "vCPU 1 stuck or nothing taken");
	bm_printf(" unacknowledged=%lu,%lu acknowledged=%lu,%lu loops=%lu,%lu\n", taken[0],
		  taken[1], acked[0], acked[1], ops[0], ops[1]);
}

/* ---- mmio: the emulated registers at every width, MMU off ---- */

struct region {
	uintptr_t base, size;
	uintptr_t no_write_lo, no_write_hi; /* [lo, hi) only read */
};

static unsigned nr_regions(struct region *r)
{
	unsigned n = 0;

	r[n++] = (struct region){ GICD_BASE, GICD_SIZE, 0, 0 };
	if (gic_v3)
		for (unsigned c = 0; c < NR_VCPUS; c++)
			r[n++] = (struct region){ gic_rd_base(c), GICR_FRAME, 0, 0 };
	/* The UART's data register is read, not written: junk on the console
	 * would be all the test sees. */
	r[n++] = (struct region){ BM_UART_BASE, UART_SIZE, BM_UART_BASE, BM_UART_BASE + 4 };
	return n;
}

/* Registers that hold values, where every offset is tried; elsewhere
 * (reserved space) every 64th byte. */
static bool dense(uintptr_t base, uintptr_t off)
{
	if (base == BM_UART_BASE)
		return true;
	if (base == GICD_BASE)
		return off < 0x1000 || (off >= 0x6000 && off < 0x6200) || off >= 0xffc0 ||
		       (off >= 0xc000 && off < 0xc100);
	off &= 0xffff; /* a redistributor's two 64 KiB frames alike */
	return off < 0x1000 || off >= 0xffc0;
}

static volatile uint64_t completed, aborted, wrong_abort;

static void access(uintptr_t a, unsigned width, bool write, uint64_t v)
{
	struct bm_fault f;

	bm_fault_expect();
	if (write) {
		switch (width) {
		case 1: __asm__ volatile("strb %w0, [%1]" : : "r"(v), "r"(a) : "memory"); break;
		case 2: __asm__ volatile("strh %w0, [%1]" : : "r"(v), "r"(a) : "memory"); break;
		case 4: __asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(a) : "memory"); break;
		default: __asm__ volatile("str %0, [%1]" : : "r"(v), "r"(a) : "memory"); break;
		}
	} else {
		uint64_t x;

		switch (width) {
		case 1: __asm__ volatile("ldrb %w0, [%1]" : "=r"(x) : "r"(a) : "memory"); break;
		case 2: __asm__ volatile("ldrh %w0, [%1]" : "=r"(x) : "r"(a) : "memory"); break;
		case 4: __asm__ volatile("ldr %w0, [%1]" : "=r"(x) : "r"(a) : "memory"); break;
		default: __asm__ volatile("ldr %0, [%1]" : "=r"(x) : "r"(a) : "memory"); break;
		}
		(void)x;
	}
	f = bm_fault_result();
	if (!f.taken) {
		completed++;
		return;
	}
	aborted++;
	if (ESR_DFSC(f.esr) != DFSC_SYNC_EXTERNAL || f.far != a) {
		if (!wrong_abort)
			bm_printf("%s: access 0x%lx/%u%s: ESR 0x%lx FAR 0x%lx\n", bm_name, a, width,
				  write ? "w" : "r", f.esr, f.far);
		wrong_abort++;
	}
}

static void sweep(const struct region *r, bool write, bool misaligned)
{
	for (unsigned width = 1; width <= 8; width <<= 1)
		for (uintptr_t off = 0; off + width <= r->size; off++) {
			uintptr_t a = r->base + off;

			if (!misaligned && (off & (width - 1)))
				continue;
			if (misaligned && !(off & (width - 1)))
				continue;
			if (!dense(r->base, off) && (off & 63))
				continue;
			if (write && a + width > r->no_write_lo && a < r->no_write_hi)
				continue;
			/* Misaligned: the value read goes back (fewer side effects). */
			access(a, width, write, misaligned ? 0 : ~0UL);
		}
}

static unsigned semantic_failures;

static void semantic(const char *what, bool ok, uint64_t got)
{
	if (ok)
		return;
	semantic_failures++;
	bm_printf("%s: %s: FAILED (got 0x%lx)\n", bm_name, what, got);
}

/* Loads and stores whose register or width the hypervisor must get right,
 * and forms it cannot decode (ISV = 0): those come back as aborts. */
static void decode_checks(void)
{
	uintptr_t prio = gic_private_base() + GICD_IPRIORITYR + 4; /* SGIs 4..7 */
	uint64_t x, sp0, sp1, p0, p1;
	struct bm_fault f;

	wr32(prio, 0x80808080U);
	__asm__ volatile("mov %0, #-1\n ldrb %w0, [%1]" : "=&r"(x) : "r"(prio) : "memory");
	semantic("ldrb zero-extends", x == 0x80, x);
	__asm__ volatile("ldrsb %0, [%1]" : "=r"(x) : "r"(prio) : "memory");
	semantic("ldrsb sign-extends to 64 bits", x == 0xffffffffffffff80UL, x);
	__asm__ volatile("ldrsb %w0, [%1]" : "=r"(x) : "r"(prio) : "memory");
	semantic("ldrsb to a W register clears the top half", x == 0xffffff80UL, x);
	/* The GIC has no halfword registers: an abort, or the right value. */
	x = 0xffffffffffff8080UL;
	bm_fault_expect();
	__asm__ volatile("ldrsh %0, [%1]" : "+r"(x) : "r"(prio) : "memory");
	f = bm_fault_result();
	semantic("ldrsh sign-extends or aborts", x == 0xffffffffffff8080UL &&
		 (!f.taken || (f.far == prio && ESR_DFSC(f.esr) == DFSC_SYNC_EXTERNAL)), x);
	__asm__ volatile("ldrsw %0, [%1]" : "=r"(x) : "r"(prio) : "memory");
	semantic("ldrsw sign-extends", x == 0xffffffff80808080UL, x);
	__asm__ volatile("ldar %w0, [%1]" : "=r"(x) : "r"(prio) : "memory");
	semantic("ldar reads", x == 0x80808080UL, x);
	__asm__ volatile("mov %0, sp\n ldr wzr, [%2]\n mov %1, sp" : "=&r"(sp0), "=&r"(sp1)
			 : "r"(prio) : "memory");
	semantic("a load into wzr leaves SP alone", sp0 == sp1, sp1);
	__asm__ volatile("strb wzr, [%0]" : : "r"(prio) : "memory");
	x = rd32(prio);
	semantic("strb wzr stores zero", x == 0x80808000UL, x);
	__asm__ volatile("stlr wzr, [%0]" : : "r"(prio) : "memory");
	x = rd32(prio);
	semantic("stlr wzr stores zero", x == 0, x);

	/* Pair and write-back forms: no syndrome for the hypervisor. */
	bm_fault_expect();
	__asm__ volatile("ldp %w0, %w1, [%2]" : "=r"(p0), "=r"(p1) : "r"(prio) : "memory");
	f = bm_fault_result();
	semantic("ldp on an emulated register is an abort", f.taken && f.far == prio, f.esr);
	bm_fault_expect();
	__asm__ volatile("stp wzr, wzr, [%0]" : : "r"(prio) : "memory");
	f = bm_fault_result();
	semantic("stp on an emulated register is an abort", f.taken && f.far == prio, f.esr);
	x = prio;
	bm_fault_expect();
	__asm__ volatile("ldr %w1, [%0], #4" : "+r"(x), "=r"(p0) : : "memory");
	f = bm_fault_result();
	semantic("a post-indexed load is an abort", f.taken && f.far == prio, f.esr);
}

static void attack_mmio(void)
{
	struct region r[4];
	unsigned n = nr_regions(r);

	begin("mmio");
	completed = aborted = wrong_abort = 0;
	semantic_failures = 0;
	decode_checks();
	for (unsigned i = 0; i < n; i++)
		sweep(&r[i], false, false);
	for (unsigned i = 0; i < n; i++)
		sweep(&r[i], true, false);
	gic_again();
	end("mmio", !wrong_abort && !semantic_failures, "wrong aborts or decoding");
	bm_printf(" completed=%lu aborted=%lu wrong=%lu decode-failures=%u\n", completed, aborted,
		  wrong_abort, semantic_failures);
}

/* ---- unaligned: the MMU on, the devices mapped as Normal memory ---- */

static uint64_t l1_table[512] __attribute__((aligned(4096)));

#define MAIR_NORMAL_NC 0x44UL /* attribute index 1 */
#define BLOCK_NORMAL_NC (0x1UL | 1UL << 2 | 1UL << 10 | 2UL << 8) /* block, AttrIndx 1, AF, outer shareable */

static void mmu_on(void)
{
	for (unsigned i = 0; i < 4; i++)
		l1_table[i] = ((uint64_t)i << 30) | BLOCK_NORMAL_NC;
	SYSREG_WRITE("mair_el1", MAIR_NORMAL_NC << 8);
	/* T0SZ 32 (4 GiB from level 1), 4 KiB granule, walks non-cacheable,
	 * no TTBR1 walks, 40-bit IPS. */
	SYSREG_WRITE("tcr_el1", 32UL | 1UL << 23 | 2UL << 32);
	SYSREG_WRITE("ttbr0_el1", (uint64_t)(uintptr_t)l1_table);
	ISB();
	__asm__ volatile("tlbi vmalle1\n dsb nsh\n isb" ::: "memory");
	SYSREG_WRITE("sctlr_el1", (SYSREG_READ("sctlr_el1") & ~(1UL << 1)) | 1UL); /* M, not A */
	ISB();
}

static void mmu_off(void)
{
	SYSREG_WRITE("sctlr_el1", SYSREG_READ("sctlr_el1") & ~1UL);
	ISB();
	__asm__ volatile("tlbi vmalle1\n dsb nsh\n isb" ::: "memory");
}

static void attack_unaligned(void)
{
	struct region r[4];
	unsigned n = nr_regions(r);
	/* Accesses that straddle the end of a region into the next page. */
	static const uintptr_t straddle[] = {
		GICD_BASE + GICD_SIZE - 4, BM_UART_BASE + UART_SIZE - 4,
		OWN_RAM_BASE + OWN_RAM_SIZE - 4, GICR_BASE + 2 * GICR_FRAME - 4,
	};

	begin("unaligned");
	completed = aborted = wrong_abort = 0;
	mmu_on();
	for (unsigned i = 0; i < n; i++) {
		struct region dev = r[i];

		/* The first 4 KiB of each: its registers. */
		if (dev.size > 0x1000)
			dev.size = 0x1000;
		sweep(&dev, false, true);
		sweep(&dev, true, true);
	}
	for (unsigned i = 0; i < sizeof(straddle) / sizeof(straddle[0]); i++) {
		struct bm_fault f;
		uint64_t x;

		if (!gic_v3 && straddle[i] >= GICR_BASE && straddle[i] < GICR_BASE + 2 * GICR_FRAME)
			continue;
		bm_fault_expect();
		__asm__ volatile("ldr %0, [%1]" : "=r"(x) : "r"(straddle[i]) : "memory");
		f = bm_fault_result();
		if (f.taken)
			aborted++;
		else
			completed++;
	}
	mmu_off();
	gic_again();
	/* Aborts here may name the access's start or the second page. */
	end("unaligned", true, "");
	bm_printf(" completed=%lu aborted=%lu\n", completed, aborted);
}

/* ---- unassigned: every page of the first 4 GiB that is not its own ---- */

static bool own(uintptr_t page)
{
	if (page >= OWN_RAM_BASE && page < OWN_RAM_BASE + OWN_RAM_SIZE)
		return true;
	if (page >= GICD_BASE && page < GICD_BASE + GICD_SIZE)
		return true;
	if (!gic_v3 && page >= GICC_BASE && page < GICC_BASE + GICC_SIZE)
		return true;
	if (gic_v3 && page >= GICR_BASE && page < GICR_BASE + NR_VCPUS * GICR_FRAME)
		return true;
	return page >= BM_UART_BASE && page < BM_UART_BASE + UART_SIZE;
}

static void attack_unassigned(void)
{
	uint64_t pages = 0, readable = 0, high = 0;
	/* All of it (about a million pages): bounded only against a stall. */
	uint64_t end_t = bm_now() + bm_ms_to_ticks(120000);
	uintptr_t page;

	begin("unassigned");
	completed = aborted = wrong_abort = 0;
	for (page = 0; page < 0x100000000UL && bm_now() < end_t; page += 0x1000) {
		if (own(page))
			continue;
		access(page + (rnd() & 0xff8), 8, false, 0);
		access(page + (rnd() & 0xff8), 4, true, 0x5a5a5a5a);
		pages++;
		if (completed && !readable) {
			readable = page;
			bm_printf("%s: page 0x%lx is not its own and did not abort\n", bm_name, page);
		}
	}
	/* Above 4 GiB: each power of two to the top of the address space. */
	for (unsigned bit = 32; bit < 48; bit++) {
		struct bm_fault f;

		bm_fault_expect();
		(void)bm_probe_load(1UL << bit, 0);
		f = bm_fault_result();
		high++;
		if (!f.taken) {
			completed++;
			bm_printf("%s: 0x%lx did not abort\n", bm_name, 1UL << bit);
		}
	}
	end("unassigned", !completed && !wrong_abort, "an access that is not its own completed");
	bm_printf(" pages=%lu of %lu up-to=0x%lx aborted=%lu wrong=%lu above-4g=%lu\n", pages,
		  (0x100000000UL >> 12) - ((OWN_RAM_SIZE + GICD_SIZE + UART_SIZE +
					    (gic_v3 ? NR_VCPUS * GICR_FRAME : GICC_SIZE)) >> 12),
		  page, aborted, wrong_abort, high);
}

/* ---- runaway: never comes back ---- */

static void __attribute__((noreturn)) attack_runaway(void)
{
	int64_t r;

	begin("runaway");
	order_done = ORDER_NONE;
	order = ORDER_OFF;
	while (bm_hvc(PSCI_AFFINITY_INFO_64, 1, 0, 0, 0, 0, 0).x0 != AFF_OFF)
		;
	r = (int64_t)bm_hvc(PSCI_CPU_ON_64, 1, 0x1000, 0, 0, 0, 0).x0;
	bm_printf("%s: runaway running: vCPU 1 on at 0x1000 (%ld), vCPU 0 spins masked\n",
		  bm_name, r);
	__asm__ volatile("msr daifset, #0xf\n 1: b 1b" ::: "memory");
	__builtin_unreachable();
}

int main(void)
{
	bm_irqs_off();
	chosen = bm_fdt_bootargs(bm_boot_x0);
	if (!chosen)
		chosen = "";
	budget_ms = arg_num("ms", 1000);
	resets_wanted = (unsigned)arg_num("resets", 5);
	gic_detect();
	setup();
	bm_irq_handler = on_irq;
	if (wanted("reset") && !reset_loop())
		bm_system_off();
	bm_printf("%s: GICv%u, %u vCPUs, %lu ms per attack\n", bm_name, gic_v3 ? 3 : 2, NR_VCPUS,
		  budget_ms);
	if (!start_vcpu1()) {
		bm_printf("%s: CPU_ON of vCPU 1 failed\n", bm_name);
		bm_system_off();
	}
	order = ORDER_NONE; /* a reset may have left it flooding */
	if (wanted("spin"))
		attack_spin();
	if (wanted("psci"))
		attack_psci();
	if (wanted("sgi"))
		attack_sgi();
	if (wanted("wfx"))
		attack_wfx();
	if (wanted("mmio"))
		attack_mmio();
	if (wanted("unaligned"))
		attack_unaligned();
	if (wanted("unassigned"))
		attack_unassigned();
	if (wanted("timer"))
		attack_timer();
	if (wanted("noack"))
		attack_noack();
	bm_printf("%s: %u attacks failed\n", bm_name, attacks_failed);
	if (wanted("runaway"))
		attack_runaway();
	bm_system_off();
}
