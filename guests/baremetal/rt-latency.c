/*
 * rt-latency: the real-time figures of one core, the same binary natively on
 * QEMU virt and as a cshyper guest VM.
 *
 *   timer  virtual timer interrupt latency: CNTV_CVAL_EL0 is armed RT_SHOTS
 *          times at now + a pseudo-random delta, and the IRQ vector reads the
 *          counters in its 2nd and 3rd instructions; latency = that read - CVAL.
 *   hvc    null hypercall round trip: HVC #0 with PSCI_VERSION.
 *   smc    the same call with SMC #0.
 *   mmio   a GICD_TYPER load: a device read natively, a trapped and emulated
 *          read under cshyper.
 *
 * Where it runs decides what answers the calls:
 *
 *   native   entered at EL2 (QEMU virt,virtualization=on): it sets EL2 up as a
 *            do-nothing host (EL1 owns the GIC, timer and PMU; nothing traps)
 *            and drops to EL1, so that it always runs at EL1. HVC is then
 *            answered by a 5-instruction EL2 stub in this program (rt_el2_vectors:
 *            the floor of any hypervisor), SMC by QEMU's built-in PSCI firmware,
 *            which costs no guest instruction at all.
 *   native-el1  entered at EL1 (virtualization=off): HVC is QEMU's PSCI; there
 *            is no SMC (it would be undefined), so that figure is skipped.
 *   cshyper  entered at EL1 with cshyper underneath (SYS_VERSION answers): HVC
 *            and the trapped SMC (HCR_EL2.TSC) both go to cshyper's PSCI.
 *
 * Counters: CNTVCT_EL0 ("ticks", CNTFRQ; 62.5 MHz on QEMU virt) and, when the
 * PMU is there, PMCCNTR_EL0 ("cycles") set to count at EL1 and EL2 alike.
 * QEMU derives both from its virtual clock (PMCCNTR at 1 GHz), so under
 * -icount shift=0 a cycle is exactly one instruction; a tick is 16. Cycles
 * are used only if they move in step with ticks (checked at start), and the
 * offset between the two clocks is calibrated at tick edges, which turns the
 * timer latency into exact cycles too.
 *
 * The loops are timed in batches of RT_BATCH calls; a batch's cost is its
 * time minus that of the same loop without the call. Under QEMU's icount all
 * cores share one instruction clock, so a batch during which another core
 * (e.g. the MVM's Linux) ran a little is longer: med and min of the batch
 * means are immune to that, avg is not.
 *
 * It idles RT_SETTLE_MS (100 ms) in WFI first, so that whatever started it
 * (the MVM's `shyper vm boot`) is done before it measures.
 *
 * Output, one line each (machine-readable), then PSCI SYSTEM_OFF:
 *   rt-latency: env=<native|native-el1|cshyper> el=<entry EL> gic=v3 cntfrq=<Hz> pmu=<yes|noisy|no>
 *   rt-latency: calibration cycles_per_tick=<R> offset=<C>
 *   rt-latency: timer n=<got> min=<> avg=<> max=<> p99=<> ticks
 *   rt-latency: timer n=<got> min=<> avg=<> max=<> p99=<> ns
 *   rt-latency: timer n=<got> min=<> avg=<> max=<> p99=<> cycles
 *   rt-latency: timer shots=<> missed=<> spurious=<> other=<>
 *   rt-latency: <hvc|smc|mmio> avg=<> ticks over <N>
 *   rt-latency: <hvc|smc|mmio> avg=<> med=<> min=<> cycles over <N> (<B> batches)
 *   rt-latency: done
 *
 * GICv3 only: on a GICv2 board the timer figure is skipped (said so).
 *
 * Built with -DRT_CONTINUOUS (rt-latency-loop), it measures the timer for
 * ever instead, to show what a pause of its core (a hypervisor live update)
 * costs it: after the env line (shots=RT_WINDOW, calls=0) and the
 * calibration, a shot at every RT_PERIOD_US (50 us: a 20 kHz control loop,
 * so that a pause of a few tens of microseconds overlaps a deadline) of the
 * counter, waited for in WFI, and a line per window of RT_WINDOW (4000)
 * periods (200 ms), k from 1:
 *   rt-latency: window <k> n=<got> missed=<> max=<> ticks max=<> ns
 * n counts the shots taken: deadlines already past when a shot would be
 * armed (after a late one, or the line's printing) are skipped, so that
 * RT_WINDOW - n - missed deadlines were skipped. It never powers off by
 * itself: it runs until the VM is shut down. With "quiet" on its command
 * line (under cshyper) it measures without printing the window lines.
 */
#include "bm.h"

#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/ivc.h>

#include "fdt.h"
#include "ivc.h"

const char bm_name[] = "rt-latency";

#ifndef RT_SHOTS
#define RT_SHOTS 1000
#endif
#ifndef RT_CALLS
#define RT_CALLS 10000
#endif
/* Idle time before measuring: lets whoever started us go quiet (under
 * cshyper, the MVM's `shyper vm boot` exiting: under icount its
 * instructions would count in our clock too). */
#ifndef RT_SETTLE_MS
#define RT_SETTLE_MS 100
#endif
#define RT_BATCH 100
/* Continuous mode: a shot every RT_PERIOD_US, a line every RT_WINDOW periods. */
#ifdef RT_CONTINUOUS
#define RT_LOOP 1
#else
#define RT_LOOP 0
#endif
#ifndef RT_PERIOD_US
#define RT_PERIOD_US 50
#endif
#ifndef RT_WINDOW
#define RT_WINDOW 4000
#endif
#define RT_BATCHES ((RT_CALLS + RT_BATCH - 1) / RT_BATCH)

/* Timer deltas: DELTA_MIN + 0..DELTA_SPAN-1 ticks (1024..5104 ns at 62.5 MHz). */
#define DELTA_MIN 64
#define DELTA_SPAN 256
/* A shot whose interrupt has not come this many ticks after CVAL is missed
 * (100 ms at 62.5 MHz: without icount QEMU's timers run late by milliseconds);
 * after MAX_MISSED of them the timer figure gives up. */
#define SHOT_TIMEOUT 6250000
#define MAX_MISSED 10

/* QEMU virt; cshyper's guest configuration puts its vGIC at the same IPAs. */
#define GICD_BASE 0x08000000UL
#define GICR_BASE 0x080a0000UL
#define GICR_FRAME 0x20000UL /* RD_base + SGI_base */
#define GICR_MAX_FRAMES 64

#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_PIDR2 0xffe8
#define GICD_CTLR_RWP (1U << 31)
/* DS=1 natively: EnableGrp1 (bit 1), ARE (bit 4); the NS view of a vGIC:
 * EnableGrp1A (bit 1), ARE_NS (bit 4, read-only there). */
#define GICD_CTLR_ENABLE 0x12U
#define GICR_TYPER 0x0008
#define GICR_TYPER_LAST (1UL << 4)
#define GICR_WAKER 0x0014
#define GICR_WAKER_SLEEP (1U << 1)
#define GICR_WAKER_CHILDREN_ASLEEP (1U << 2)
#define GICR_SGI 0x10000UL
#define GICR_IGROUPR0 (GICR_SGI + 0x0080)
#define GICR_ISENABLER0 (GICR_SGI + 0x0100)
#define GICR_IPRIORITYR (GICR_SGI + 0x0400)

#define VTIMER_INTID 27
#define INTID_SPURIOUS 1020

/* System registers by encoding, so that any assembler takes them. */
#define ICC_PMR_EL1 "S3_0_C4_C6_0"
#define ICC_IAR1_EL1 "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1 "S3_0_C12_C12_1"
#define ICC_BPR1_EL1 "S3_0_C12_C12_3"
#define ICC_CTLR_EL1 "S3_0_C12_C12_4"
#define ICC_SRE_EL1 "S3_0_C12_C12_5"
#define ICC_IGRPEN1_EL1 "S3_0_C12_C12_7"
#define ICC_SRE_EL2 "S3_4_C12_C9_5"

#define SYSREG_READ(name) ({ uint64_t __v; __asm__ volatile("mrs %0, " name : "=r"(__v)); __v; })
#define SYSREG_WRITE(name, v) __asm__ volatile("msr " name ", %0" : : "r"((uint64_t)(v)) : "memory")
#define ISB() __asm__ volatile("isb" ::: "memory")

/* PMU (PMUv3). */
#define PMCR_E (1UL << 0)
#define PMCR_C (1UL << 2)
#define PMCR_LC (1UL << 6)
#define PMCR_N(v) (((v) >> 11) & 0x1f)
#define PMCNTEN_C (1UL << 31)
#define PMCCFILTR_NSH (1UL << 27) /* count at EL2 too; EL0 and EL1 by default */

/* EL2 set-up for the native run (Arm ARM D19.2). */
#define HCR_RW (1UL << 31)
#define CPTR_EL2_RES1 0x33ffUL
#define CNTHCTL_EL1PCTEN_EL1PCEN 0x3UL
#define ICC_SRE_EL2_SRE_ENABLE 0xfUL /* SRE, DFB, DIB, Enable */
#define SCTLR_EL1_RESET 0x30d00800UL
#define SPSR_EL1H_MASKED 0x3c5UL

enum env { ENV_NATIVE, ENV_NATIVE_EL1, ENV_CSHYPER };
static const char *const env_names[] = { "native", "native-el1", "cshyper" };

static inline uint32_t mmio_read32(uintptr_t addr)
{
	uint32_t v;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline uint64_t mmio_read64(uintptr_t addr)
{
	uint64_t v;

	__asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	__asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

static inline uint64_t cntvct(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, cntvct_el0" : "=r"(v) : : "memory");
	return v;
}

static inline uint64_t pmccntr(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, pmccntr_el0" : "=r"(v) : : "memory");
	return v;
}

/* ---------------------------------------------------------------------- */
/* Vectors                                                                */
/* ---------------------------------------------------------------------- */

/*
 * EL1: every entry goes to bm_vectors (start.S) except IRQ from EL1h, which
 * first stamps both counters (its 2nd and 3rd instructions) into rt_stamp.
 *
 * EL2 (native runs only): HVC from EL1 with PSCI_VERSION is answered at once
 * (5 instructions: the least any hypervisor can do); any other HVC is passed
 * to QEMU's PSCI firmware with SMC (SYSTEM_OFF at the end). Anything else
 * taken at EL2 is reported on a stack of its own and powers the machine off.
 */
struct stamp {
	uint64_t cycles, ticks;
};
struct stamp rt_stamp __attribute__((aligned(16)));
uint64_t rt_el2_stack[512] __attribute__((aligned(16)));

void rt_el2_fatal(uint64_t esr, uint64_t elr, uint64_t kind);

__asm__(
	"	.pushsection .text.rt_vectors, \"ax\"\n"
	"	.balign	0x800\n"
	"	.globl	rt_vectors\n"
	"rt_vectors:\n"
	"	.irp	i, 0, 1, 2, 3, 4\n"
	"	.balign	0x80\n"
	"	b	bm_vectors + \\i * 0x80\n"
	"	.endr\n"
	"	.balign	0x80\n"
	"	stp	x0, x1, [sp, #-16]!\n"
	"	mrs	x0, pmccntr_el0\n"
	"	mrs	x1, cntvct_el0\n"
	"	stp	x2, x3, [sp, #-16]!\n"
	"	adrp	x2, rt_stamp\n"
	"	add	x2, x2, :lo12:rt_stamp\n"
	"	stp	x0, x1, [x2]\n"
	"	ldp	x2, x3, [sp], #16\n"
	"	ldp	x0, x1, [sp], #16\n"
	"	b	bm_vectors + 5 * 0x80\n"
	"	.irp	i, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15\n"
	"	.balign	0x80\n"
	"	b	bm_vectors + \\i * 0x80\n"
	"	.endr\n"
	"\n"
	"	.balign	0x800\n"
	"	.globl	rt_el2_vectors\n"
	"rt_el2_vectors:\n"
	"	.irp	i, 0, 1, 2, 3, 4, 5, 6, 7\n"
	"	.balign	0x80\n"
	"	mov	x2, #\\i\n"
	"	b	rt_el2_unexpected\n"
	"	.endr\n"
	"	.balign	0x80\n"			/* 0x400: synchronous, lower EL, AArch64 */
	"	mov	x9, #0x84000000\n"		/* PSCI_VERSION */
	"	cmp	x0, x9\n"
	"	b.ne	1f\n"
	"	mov	w0, #0x10001\n"		/* PSCI 1.1 */
	"	eret\n"
	"1:	smc	#0\n"
	"	eret\n"
	"	.irp	i, 9, 10, 11, 12, 13, 14, 15\n"
	"	.balign	0x80\n"
	"	mov	x2, #\\i\n"
	"	b	rt_el2_unexpected\n"
	"	.endr\n"
	"rt_el2_unexpected:\n"
	"	adrp	x0, rt_el2_stack + 4096\n"
	"	add	x0, x0, :lo12:rt_el2_stack + 4096\n"
	"	mov	sp, x0\n"
	"	mrs	x0, esr_el2\n"
	"	mrs	x1, elr_el2\n"
	"	bl	rt_el2_fatal\n"
	"	b	.\n"
	"	.popsection\n");

extern const char rt_vectors[], rt_el2_vectors[];

void rt_el2_fatal(uint64_t esr, uint64_t elr, uint64_t kind)
{
	bm_printf("%s: unexpected exception at EL2 (vector %lu): ESR_EL2 0x%lx ELR_EL2 0x%lx\n",
		  bm_name, kind, esr, elr);

	register uint64_t x0 __asm__("x0") = PSCI_SYSTEM_OFF;

	__asm__ volatile("smc #0" : "+r"(x0) : : "x1", "x2", "x3", "memory");
	for (;;)
		__asm__ volatile("wfi");
}

/* ---------------------------------------------------------------------- */
/* Output                                                                 */
/* ---------------------------------------------------------------------- */

/* num/den with three decimals. */
static void put_ratio(uint64_t num, uint64_t den)
{
	uint64_t milli = den ? (num * 1000 + den / 2) / den : 0;
	uint64_t frac = milli % 1000;

	bm_printf("%lu.%c%c%c", milli / 1000, (char)('0' + frac / 100),
		  (char)('0' + frac / 10 % 10), (char)('0' + frac % 10));
}

static void sort_u64(uint64_t *a, unsigned n)
{
	/* Shell sort (Ciura's gaps): no recursion, no allocation. */
	static const unsigned gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };

	for (unsigned g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		unsigned gap = gaps[g];

		for (unsigned i = gap; i < n; i++) {
			uint64_t v = a[i];
			unsigned j = i;

			for (; j >= gap && a[j - gap] > v; j -= gap)
				a[j] = a[j - gap];
			a[j] = v;
		}
	}
}

/* One "timer ... <unit>" line: min avg max p99 of n samples (sorted here). */
static void put_dist(const char *what, uint64_t *v, unsigned n, const char *unit)
{
	uint64_t sum = 0;

	if (!n) {
		bm_printf("%s: %s n=0 %s\n", bm_name, what, unit);
		return;
	}
	sort_u64(v, n);
	for (unsigned i = 0; i < n; i++)
		sum += v[i];
	bm_printf("%s: %s n=%u min=%lu avg=", bm_name, what, n, v[0]);
	put_ratio(sum, n);
	bm_printf(" max=%lu p99=%lu %s\n", v[n - 1], v[(n * 99 + 99) / 100 - 1], unit);
}

/* ---------------------------------------------------------------------- */
/* Set-up                                                                 */
/* ---------------------------------------------------------------------- */

static bool pmu_ok;
static uint64_t cycles_per_tick;
static int64_t cycles_offset;

static void __attribute__((noreturn)) el1_main(void);
static void report_over_ivc(void);

/* Native, entered at EL2: EL2 becomes an inert host and we go on at EL1h. */
static void __attribute__((noreturn)) drop_to_el1(void)
{
	SYSREG_WRITE("vbar_el2", (uint64_t)(uintptr_t)rt_el2_vectors);
	SYSREG_WRITE("hcr_el2", HCR_RW);
	SYSREG_WRITE("cptr_el2", CPTR_EL2_RES1);
	SYSREG_WRITE("mdcr_el2", PMCR_N(SYSREG_READ("pmcr_el0")));
	SYSREG_WRITE("cnthctl_el2", CNTHCTL_EL1PCTEN_EL1PCEN);
	SYSREG_WRITE("cntvoff_el2", 0);
	SYSREG_WRITE("vpidr_el2", SYSREG_READ("midr_el1"));
	SYSREG_WRITE("vmpidr_el2", SYSREG_READ("mpidr_el1"));
	SYSREG_WRITE("vttbr_el2", 0);
	/* ID_AA64PFR0_EL1.GIC: the GICv3 system register interface is there. */
	if ((SYSREG_READ("id_aa64pfr0_el1") >> 24) & 0xf)
		SYSREG_WRITE(ICC_SRE_EL2, ICC_SRE_EL2_SRE_ENABLE);
	SYSREG_WRITE("sctlr_el1", SCTLR_EL1_RESET);
	SYSREG_WRITE("vbar_el1", (uint64_t)(uintptr_t)rt_vectors);
	ISB();
	/* Go on at EL1 on this very stack (main's frame is abandoned). */
	__asm__ volatile("mov	x0, sp\n"
			 "msr	sp_el1, x0\n"
			 "msr	elr_el2, %0\n"
			 "msr	spsr_el2, %1\n"
			 "eret\n"
			 :
			 : "r"((uint64_t)(uintptr_t)el1_main), "r"(SPSR_EL1H_MASKED)
			 : "x0", "memory");
	__builtin_unreachable();
}

/* Why the cycle counter is not used, when it is not (the env line's pmu=). */
static const char *pmu_state = "no";

static bool pmu_setup(void)
{
	uint64_t dfr0 = SYSREG_READ("id_aa64dfr0_el1");
	unsigned ver = (unsigned)(dfr0 >> 8) & 0xf;
	uint64_t p0, t0, p1, t1;

	if (ver == 0 || ver == 0xf)
		return false; /* no PMUv3 */
	SYSREG_WRITE("pmccfiltr_el0", PMCCFILTR_NSH);
	SYSREG_WRITE("pmcntenset_el0", PMCNTEN_C);
	SYSREG_WRITE("pmcr_el0", PMCR_E | PMCR_C | PMCR_LC);
	ISB();
	/* In step with the counter? ~4096 ticks of busy waiting. */
	t0 = cntvct();
	p0 = pmccntr();
	while (cntvct() - t0 < 4096)
		;
	p1 = pmccntr();
	t1 = cntvct();
	if (p1 <= p0)
		return false; /* not counting: no PMU, or its registers trapped */
	pmu_state = "noisy"; /* it counts; whether in step is next */
	cycles_per_tick = ((p1 - p0) + (t1 - t0) / 2) / (t1 - t0);
	if (!cycles_per_tick)
		return false;
	uint64_t expect = cycles_per_tick * (t1 - t0), got = p1 - p0;
	uint64_t err = got > expect ? got - expect : expect - got;

	/* Not one clock (or too noisy to tell): cycles unusable. Under icount
	 * the two agree to the instruction; in real time to a few hundred ns. */
	if (err * 100 > got)
		return false;
	pmu_state = "yes";
	return true;
}

/*
 * Offset between the two clocks: cycles - cycles_per_tick * ticks at the
 * instant of a counter read. A spin that stops at the first CNTVCT read
 * showing a new tick T reads PMCCNTR one instruction later; the smallest
 * p - 1 - R*T over spins entered at every phase is the exact offset.
 */
static void calibrate(void)
{
	int64_t best = INT64_MAX;

	for (unsigned i = 0; i < 64; i++) {
		uint64_t t0, t, p, n = i;

		/* 3 instructions per turn: the spin (4) starts at every phase. */
		__asm__ volatile("cbz	%0, 2f\n"
				 "1:	subs	%0, %0, #1\n"
				 "	nop\n"
				 "	b.ne	1b\n"
				 "2:\n"
				 : "+r"(n) : : "cc");
		__asm__ volatile("	mrs	%0, cntvct_el0\n"
				 "3:	mrs	%1, cntvct_el0\n"
				 "	mrs	%2, pmccntr_el0\n"
				 "	cmp	%1, %0\n"
				 "	b.eq	3b\n"
				 : "=&r"(t0), "=&r"(t), "=&r"(p) : : "cc", "memory");
		int64_t off = (int64_t)(p - 1 - cycles_per_tick * t);

		if (off < best)
			best = off;
	}
	cycles_offset = best;
}

static uintptr_t find_redistributor(void)
{
	uint64_t mpidr = SYSREG_READ("mpidr_el1");
	uint64_t aff = (mpidr & 0xffffffUL) | ((mpidr >> 32 & 0xff) << 24);

	for (unsigned i = 0; i < GICR_MAX_FRAMES; i++) {
		uintptr_t rd = GICR_BASE + i * GICR_FRAME;
		uint64_t typer = mmio_read64(rd + GICR_TYPER);

		if ((typer >> 32) == aff)
			return rd;
		if (typer & GICR_TYPER_LAST)
			break;
	}
	return 0;
}

static bool gic_setup(uintptr_t *rd_out)
{
	uintptr_t rd;
	uint32_t v;

	if (!((SYSREG_READ("id_aa64pfr0_el1") >> 24) & 0xf) ||
	    ((mmio_read32(GICD_BASE + GICD_PIDR2) >> 4) & 0xf) < 3)
		return false;
	SYSREG_WRITE(ICC_SRE_EL1, SYSREG_READ(ICC_SRE_EL1) | 1);
	ISB();
	if (!(SYSREG_READ(ICC_SRE_EL1) & 1))
		return false;
	rd = find_redistributor();
	if (!rd)
		return false;

	mmio_write32(GICD_BASE + GICD_CTLR, GICD_CTLR_ENABLE);
	for (unsigned n = 0; n < 1000000 && (mmio_read32(GICD_BASE + GICD_CTLR) & GICD_CTLR_RWP); n++)
		;
	mmio_write32(rd + GICR_WAKER, mmio_read32(rd + GICR_WAKER) & ~GICR_WAKER_SLEEP);
	for (unsigned n = 0; n < 1000000 && (mmio_read32(rd + GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP); n++)
		;
	mmio_write32(rd + GICR_IGROUPR0, mmio_read32(rd + GICR_IGROUPR0) | (1U << VTIMER_INTID));
	v = mmio_read32(rd + GICR_IPRIORITYR + (VTIMER_INTID & ~3U));
	v = (v & ~(0xffU << (8 * (VTIMER_INTID & 3)))) | (0x80U << (8 * (VTIMER_INTID & 3)));
	mmio_write32(rd + GICR_IPRIORITYR + (VTIMER_INTID & ~3U), v);
	mmio_write32(rd + GICR_ISENABLER0, 1U << VTIMER_INTID);

	SYSREG_WRITE(ICC_PMR_EL1, 0xff);
	SYSREG_WRITE(ICC_BPR1_EL1, 0);
	SYSREG_WRITE(ICC_CTLR_EL1, 0); /* EOImode 0: EOIR drops and deactivates */
	SYSREG_WRITE(ICC_IGRPEN1_EL1, 1);
	ISB();
	*rd_out = rd;
	return true;
}

/* ---------------------------------------------------------------------- */
/* Timer latency                                                          */
/* ---------------------------------------------------------------------- */

static volatile bool shot_fired;
static volatile struct stamp shot_stamp;
static volatile unsigned spurious, other;
static uint64_t lat_ticks[RT_SHOTS], lat_cycles[RT_SHOTS];

static void rt_irq(void)
{
	uint64_t iar = SYSREG_READ(ICC_IAR1_EL1);
	uint32_t intid = (uint32_t)(iar & 0xffffff);

	if (intid >= INTID_SPURIOUS) {
		spurious++;
		return;
	}
	if (intid == VTIMER_INTID) {
		SYSREG_WRITE("cntv_ctl_el0", 0); /* the line drops before the EOI */
		ISB();
		shot_stamp.cycles = rt_stamp.cycles;
		shot_stamp.ticks = rt_stamp.ticks;
		shot_fired = true;
	} else {
		other++;
	}
	SYSREG_WRITE(ICC_EOIR1_EL1, iar);
	ISB();
}

/* Waits `ticks` in WFI: one timer interrupt at the end (gic_setup done). */
static void settle(uint64_t ticks)
{
	uint64_t end = cntvct() + ticks;

	bm_irq_handler = rt_irq;
	shot_fired = false;
	SYSREG_WRITE("cntv_cval_el0", end);
	SYSREG_WRITE("cntv_ctl_el0", 1);
	ISB();
	__asm__ volatile("msr daifclr, #2" ::: "memory");
	while (!shot_fired && cntvct() < end + SHOT_TIMEOUT)
		__asm__ volatile("wfi" ::: "memory");
	__asm__ volatile("msr daifset, #2" ::: "memory");
	SYSREG_WRITE("cntv_ctl_el0", 0);
	ISB();
	bm_irq_handler = 0;
}

/* Cycles are signed: a calibration that is off can stamp before the deadline. */
struct latency {
	uint64_t ticks;
	int64_t cycles;
};

static bool shot_late(uint64_t cval)
{
	uint64_t now = cntvct();

	return now > cval && now - cval > SHOT_TIMEOUT;
}

/*
 * One shot, rt_irq being bm_irq_handler: CVAL armed at `cval`, the interrupt
 * waited for until it comes or SHOT_TIMEOUT ticks after CVAL, busily with
 * IRQs unmasked, or with `idle` in WFI. False if it never came (missed).
 */
static bool timer_shot(uint64_t cval, struct latency *lat, bool idle)
{
	shot_fired = false;
	SYSREG_WRITE("cntv_cval_el0", cval);
	SYSREG_WRITE("cntv_ctl_el0", 1); /* ENABLE, not masked */
	ISB();
	if (idle) {
		/* Checked with IRQs masked so that the interrupt cannot slip in
		 * between the check and the WFI; a pending IRQ ends WFI all the
		 * same and is taken as soon as they are unmasked. Only an
		 * interrupt (any, the hypervisor's too) ends the wait: the
		 * bound is checked when one comes. */
		while (!shot_fired && !shot_late(cval)) {
			__asm__ volatile("wfi" ::: "memory");
			__asm__ volatile("msr daifclr, #2\n"
					 "msr daifset, #2" ::: "memory");
		}
	} else {
		__asm__ volatile("msr daifclr, #2" ::: "memory");
		while (!shot_fired && !shot_late(cval))
			;
		__asm__ volatile("msr daifset, #2" ::: "memory");
	}
	if (!shot_fired) {
		SYSREG_WRITE("cntv_ctl_el0", 0);
		ISB();
		return false;
	}
	lat->ticks = shot_stamp.ticks - cval;
	lat->cycles = (int64_t)(shot_stamp.cycles - cycles_per_tick * cval) - cycles_offset;
	return true;
}

static void measure_timer(void)
{
	uint32_t rng = 0x2545f491;
	unsigned got = 0, missed = 0, negative = 0;
	uint64_t freq = SYSREG_READ("cntfrq_el0");

	bm_irq_handler = rt_irq;
	for (unsigned shot = 0; shot < RT_SHOTS; shot++) {
		struct latency lat;

		rng ^= rng << 13;
		rng ^= rng >> 17;
		rng ^= rng << 5;
		if (!timer_shot(cntvct() + DELTA_MIN + rng % DELTA_SPAN, &lat, false)) {
			if (++missed == MAX_MISSED)
				break;
			continue;
		}
		lat_ticks[got] = lat.ticks;
		if (pmu_ok && lat.cycles < 0) { /* before the deadline: the calibration is off */
			negative++;
			lat.cycles = 0;
		}
		lat_cycles[got] = (uint64_t)lat.cycles;
		got++;
	}
	bm_irq_handler = 0;

	static uint64_t ns[RT_SHOTS];

	for (unsigned i = 0; i < got; i++)
		ns[i] = freq ? lat_ticks[i] * 1000000000UL / freq : 0;
	put_dist("timer", lat_ticks, got, "ticks");
	put_dist("timer", ns, got, "ns");
	if (pmu_ok)
		put_dist("timer", lat_cycles, got, "cycles");
	if (negative)
		bm_printf("%s: timer: %u shots stamped before their deadline in cycles (clamped to 0)\n",
			  bm_name, negative);
	bm_printf("%s: timer shots=%u missed=%u spurious=%u other=%u\n", bm_name,
		  (unsigned)RT_SHOTS, missed, spurious, other);
}

/*
 * Continuous mode (-DRT_CONTINUOUS): a shot at every RT_PERIOD_US of the
 * counter, for ever, and a line per window of RT_WINDOW periods with the
 * worst latency in it, so that a stall of the whole core (e.g. a hypervisor
 * live update) shows in the window it fell in. A fixed period rather than
 * back-to-back shots: a window lasts a known time. A stall shows where it
 * overlaps a deadline, as it would for a periodic RT task. The core waits
 * in WFI between shots: spinning for ever would take a host core from QEMU
 * (whose timers then run late by milliseconds) and, under icount, keep the
 * clock from skipping idle time (a window then takes seconds, not 50 ms).
 */
/* "quiet" on the VM's command line: windows are measured but not printed,
 * for a guest that only has to keep running beside a test reading the
 * console (its lines would land inside the MVM's output). */
static bool quiet_windows;

static bool has_word(const char *s, const char *word)
{
	while (*s) {
		unsigned i = 0;

		while (word[i] && s[i] == word[i])
			i++;
		if (!word[i] && (s[i] == ' ' || !s[i]))
			return true;
		while (*s && *s != ' ')
			s++;
		while (*s == ' ')
			s++;
	}
	return false;
}

static void __attribute__((noreturn)) measure_windows(void)
{
	uint64_t freq = SYSREG_READ("cntfrq_el0");
	uint64_t period = freq * RT_PERIOD_US / 1000000;
	uint64_t cval = cntvct() + period, end = cval;

	bm_irq_handler = rt_irq;
	for (unsigned k = 1;; k++) {
		unsigned got = 0, missed = 0;
		uint64_t max = 0;

		for (end += RT_WINDOW * period; cval < end; cval += period) {
			struct latency lat;

			/* Deadlines a late shot or the window line went past are
			 * skipped (n counts the shots taken), not caught up with
			 * in a burst. */
			if (cval < cntvct() + DELTA_MIN)
				continue;
			if (timer_shot(cval, &lat, true)) {
				got++;
				if (lat.ticks > max)
					max = lat.ticks;
			} else {
				missed++;
			}
		}
		if (quiet_windows)
			continue;
		bm_printf("%s: window %u n=%u missed=%u max=%lu ticks max=%lu ns\n", bm_name, k,
			  got, missed, max, freq ? max * 1000000000UL / freq : 0);
	}
}

/* ---------------------------------------------------------------------- */
/* Call round trips                                                       */
/* ---------------------------------------------------------------------- */

enum op { OP_NONE, OP_HVC, OP_SMC, OP_MMIO };

struct span {
	uint64_t ticks, cycles;
};

/*
 * n turns of: w0 = PSCI_VERSION; <op>; count down. The turn counter lives
 * in x19 and the MMIO address in x20, which SMCCC preserves; x0..x17 are
 * treated as lost. The counters are read around the loop.
 */
#define TIMED_LOOP(op_insn)                                                     \
	__asm__ volatile("	mov	x19, %[n]\n"                          \
			 "	mov	x20, %[addr]\n"                       \
			 "	mrs	%[t0], cntvct_el0\n"                  \
			 "	mrs	%[p0], pmccntr_el0\n"                 \
			 "1:	mov	w0, #0x84000000\n"                    \
			 "	" op_insn "\n"                                \
			 "	subs	x19, x19, #1\n"                       \
			 "	b.ne	1b\n"                                  \
			 "	mrs	%[p1], pmccntr_el0\n"                 \
			 "	mrs	%[t1], cntvct_el0\n"                  \
			 : [t0] "=&r"(t0), [t1] "=&r"(t1), [p0] "=&r"(p0), [p1] "=&r"(p1) \
			 : [n] "r"(n), [addr] "r"(addr)                        \
			 : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", \
			   "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "x19", \
			   "x20", "cc", "memory")

static struct span run_loop(enum op op, uint64_t n)
{
	uint64_t t0, t1, p0, p1, addr = GICD_BASE + GICD_TYPER;

	switch (op) {
	case OP_NONE:
		TIMED_LOOP("");
		break;
	case OP_HVC:
		TIMED_LOOP("hvc #0");
		break;
	case OP_SMC:
		TIMED_LOOP("smc #0");
		break;
	case OP_MMIO:
		TIMED_LOOP("ldr w1, [x20]");
		break;
	}
	return (struct span){ t1 - t0, p1 - p0 };
}

static struct span empty_loop;
static uint64_t batch_cycles[RT_BATCHES];

static void measure_calls(const char *name, enum op op)
{
	uint64_t ticks = 0, cycles = 0, calls = 0;
	unsigned b;

	run_loop(op, 1); /* warm up (QEMU translates the code once) */
	for (b = 0; b < RT_BATCHES; b++) {
		uint64_t n = RT_CALLS - calls < RT_BATCH ? RT_CALLS - calls : RT_BATCH;
		struct span s = run_loop(op, n);
		/* The empty loop was timed with RT_BATCH turns. */
		uint64_t et = empty_loop.ticks * n / RT_BATCH, ec = empty_loop.cycles * n / RT_BATCH;

		ticks += s.ticks > et ? s.ticks - et : 0;
		cycles += s.cycles > ec ? s.cycles - ec : 0;
		batch_cycles[b] = (s.cycles > ec ? s.cycles - ec : 0) * 1000 / n; /* milli */
		calls += n;
	}
	bm_printf("%s: %s avg=", bm_name, name);
	put_ratio(ticks, calls);
	bm_printf(" ticks over %lu\n", calls);
	if (!pmu_ok)
		return;
	sort_u64(batch_cycles, b);
	bm_printf("%s: %s avg=", bm_name, name);
	put_ratio(cycles, calls);
	bm_printf(" med=");
	put_ratio(batch_cycles[b / 2], 1000);
	bm_printf(" min=");
	put_ratio(batch_cycles[0], 1000);
	bm_printf(" cycles over %lu (%u batches)\n", calls, b);
}

static void measure_empty(void)
{
	empty_loop = (struct span){ ~0UL, ~0UL };
	run_loop(OP_NONE, 1);
	for (unsigned i = 0; i < 16; i++) {
		struct span s = run_loop(OP_NONE, RT_BATCH);

		if (s.cycles < empty_loop.cycles)
			empty_loop.cycles = s.cycles;
		if (s.ticks < empty_loop.ticks)
			empty_loop.ticks = s.ticks;
	}
}

/* ---------------------------------------------------------------------- */

static unsigned entry_el;

static void __attribute__((noreturn)) el1_main(void)
{
	enum env env;
	uintptr_t rd = 0;
	bool gic;

	SYSREG_WRITE("vbar_el1", (uint64_t)(uintptr_t)rt_vectors);
	ISB();
	__asm__ volatile("msr daifclr, #4" ::: "memory"); /* SError reported */

	if (entry_el == 2) {
		env = ENV_NATIVE;
	} else {
		/* Natively QEMU's firmware answers every unknown call NOT_SUPPORTED. */
		uint64_t r = bm_hvc0(SHYPER_SYS_VERSION);

		env = r == (uint64_t)SMCCC_NOT_SUPPORTED ? ENV_NATIVE_EL1 : ENV_CSHYPER;
	}
	/* Only cshyper is known to hand us a device tree in x0. */
	if (env == ENV_CSHYPER)
		quiet_windows = has_word(bm_fdt_bootargs(bm_boot_x0), "quiet");
	pmu_ok = pmu_setup();
	gic = gic_setup(&rd);
	bm_printf("%s: env=%s el=%u gic=%s cntfrq=%lu pmu=%s shots=%u calls=%u\n", bm_name,
		  env_names[env], entry_el, gic ? "v3" : "none (GICv3 needed)",
		  SYSREG_READ("cntfrq_el0"), pmu_state,
		  RT_LOOP ? (unsigned)RT_WINDOW : (unsigned)RT_SHOTS, RT_LOOP ? 0U : (unsigned)RT_CALLS);
	if (pmu_ok) {
		calibrate();
		bm_printf("%s: calibration cycles_per_tick=%lu offset=%ld\n", bm_name,
			  cycles_per_tick, cycles_offset);
	}

	if (gic) {
		settle(SYSREG_READ("cntfrq_el0") / 1000 * RT_SETTLE_MS);
		if (RT_LOOP)
			measure_windows();
		measure_timer();
	} else {
		bm_printf("%s: timer skipped: no GICv3 at 0x%lx\n", bm_name, GICD_BASE);
		if (RT_LOOP)
			bm_park(); /* nothing to measure; it never powers off by itself */
	}

	measure_empty();
	measure_calls("hvc", OP_HVC);
	if (env != ENV_NATIVE_EL1)
		measure_calls("smc", OP_SMC);
	else
		bm_printf("%s: smc skipped: entered at EL1 without a hypervisor, SMC is undefined\n",
			  bm_name);
	measure_calls("mmio", OP_MMIO);

	if (env == ENV_CSHYPER)
		report_over_ivc();
	bm_printf("%s: done\n", bm_name);
	bm_system_off();
}

/*
 * With an IVC channel configured (rt-latency-ivc.json), tell its peer (the
 * MVM) that the figures are out and wait up to 60 s for an answer: an IVC
 * round trip between an RT guest and the MVM, timed on the counter.
 */
static void report_over_ivc(void)
{
	static const char msg[] = "rt-latency: figures ready";
	static char reply[SHYPER_IVC_MSG_MAX + 1];
	struct shyper_ivc_channel ch;
	uint64_t t0, now, freq;
	uint32_t from = 0;
	size_t len = 0;
	int ret;

	if (ivc_channel_info(0, &ch))
		return; /* no channel: nothing to report to */
	ivc_time(&t0, &freq);
	ret = ivc_send(ch.peer, msg, sizeof(msg) - 1);
	if (ret) {
		bm_printf("%s: ivc send to vm%u failed: %d\n", bm_name, ch.peer, ret);
		return;
	}
	do {
		ret = ivc_recv(reply, sizeof(reply) - 1, &from, &len);
		ivc_time(&now, &freq);
	} while (ret == -SHYPER_EAGAIN && now - t0 < 60 * freq);
	if (ret) {
		bm_printf("%s: ivc no reply from vm%u: %d\n", bm_name, ch.peer, ret);
		return;
	}
	ivc_ack();
	reply[len < sizeof(reply) ? len : sizeof(reply) - 1] = 0;
	bm_printf("%s: ivc round trip with vm%u over %s: %lu us, reply \"%s\"\n", bm_name,
		  from, ch.name, (now - t0) * 1000000 / freq, reply);
}

int main(void);
int main(void)
{
	uint64_t el = (SYSREG_READ("CurrentEL") >> 2) & 3;

	entry_el = (unsigned)el;
	if (el == 2)
		drop_to_el1();
	el1_main();
}
