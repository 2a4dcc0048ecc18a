/*
 * gic-check: the interrupt controller and PSCI as a guest relies on them,
 * through the GIC it finds (GICv3 system registers and redistributors, or
 * GICv2 memory-mapped), two vCPUs. vCPU 0 checks with IRQs masked at
 * PSTATE, taking interrupts by polling its acknowledge register (IHI 0048B
 * and IHI 0069H; DEN0022D for PSCI):
 *
 *   enable        ISENABLER/ICENABLER set and clear, both read the state
 *   disabled      a pending interrupt that is disabled is not signalled
 *   taken         once enabled it is; between acknowledge and end it is
 *                 active and not pending, after the end neither
 *   pending read  a pending interrupt reads as pending before it is taken
 *   withdrawn     ICPENDR before it is taken: never signalled
 *   active        ISACTIVER/ICACTIVER set and clear the active state; an
 *                 interrupt active and pending is not signalled until it is
 *                 deactivated
 *   priority bits IPRIORITYR holds as many priority bits as the CPU
 *                 interface implements (what it reads back is what decides)
 *   priority order the higher priority first; a lower one waits until the
 *                 higher one ends (running priority)
 *   pmr           the priority mask holds back what is not above it
 *   hppir         the highest pending interrupt, before it is acknowledged
 *   dist disable  GICD_CTLR off: nothing signalled, on again: signalled
 *   config        SGIs are edge-triggered (read-only); an SPI's trigger is
 *                 what was written
 *   identity      GICD_TYPER's CPU count (v2), the redistributors' TYPER
 *                 (v3), interrupt targets and routes
 *   psci          VERSION, FEATURES, AFFINITY_INFO, CPU_ON (entry at EL1
 *                 with every exception masked, the MMU off and the context
 *                 id in x0), ALREADY_ON, CPU_OFF, INVALID_PARAMETERS
 *
 * Prints "gic-check: <name> ok|FAILED (...)" per check, then
 * "gic-check: N passed, M failed" and powers the VM off.
 */
#include "bm.h"
#include "gic.h"

const char bm_name[] = "gic-check";

#define SPI 40U	    /* a virtual SPI no device of this VM uses */
#define SGI_LOW 3U  /* priority 0xa0 */
#define SGI_HIGH 4U /* priority 0x40 */
#define SGI_PMR 5U  /* priority 0x80 */
#define PSCI_FEATURES 0x8400000aU
#define PSCI_CPU_OFF 0x84000002U
#define PSCI_CPU_SUSPEND 0x84000001U
#define PSCI_MIGRATE_INFO_TYPE 0x84000006U
#define PSCI_ALREADY_ON (-4L)

static unsigned passed, failed;

static void verdict(const char *name, bool ok, const char *what, uint64_t got)
{
	if (ok) {
		passed++;
		bm_printf("%s: %s ok\n", bm_name, name);
	} else {
		failed++;
		bm_printf("%s: %s FAILED (%s: 0x%lx)\n", bm_name, name, what, got);
	}
}

/* ---- per-interrupt registers: private ones through this vCPU's frame ---- */

static uintptr_t reg(uint32_t off, uint32_t intid)
{
	return (intid < 32 ? gic_private_base() : GICD_BASE) + off + intid / 32 * 4;
}

static bool bit(uint32_t off, uint32_t intid)
{
	return (rd32(reg(off, intid)) >> (intid % 32)) & 1;
}

static void set(uint32_t off, uint32_t intid)
{
	wr32(reg(off, intid), 1U << (intid % 32));
}

static void prio(uint32_t intid, uint8_t p)
{
	wr8((intid < 32 ? gic_private_base() : GICD_BASE) + GICD_IPRIORITYR + intid, p);
}

static void pmr(uint8_t p)
{
	if (gic_v3)
		SYSREG_WRITE(ICC_PMR_EL1, p);
	else
		wr32(GICC_BASE + GICC_PMR, p);
	ISB();
}

static uint32_t running_priority(void)
{
	return gic_v3 ? (uint32_t)SYSREG_READ(ICC_RPR_EL1) : rd32(GICC_BASE + GICC_RPR);
}

static uint32_t hppir(void)
{
	return gic_v3 ? (uint32_t)SYSREG_READ(ICC_HPPIR1_EL1) : rd32(GICC_BASE + GICC_HPPIR);
}

/* The next interrupt acknowledged within @ms, or SPURIOUS. */
static uint32_t next_ack(unsigned ms)
{
	uint64_t end = bm_now() + bm_ms_to_ticks(ms);

	do {
		uint32_t iar = gic_ack();

		if (IAR_INTID(iar) != SPURIOUS)
			return iar;
	} while (bm_now() < end);
	return SPURIOUS;
}

/* Ends whatever is still pending or active, so that checks start clean. */
static void quiesce(void)
{
	uint32_t iar;

	set(GICD_ICPENDR, SPI);
	set(GICD_ICACTIVER, SPI);
	while (IAR_INTID(iar = next_ack(5)) != SPURIOUS)
		gic_eoi(iar);
}

/* ---- the checks ---- */

static void check_enable(void)
{
	bool a, b, c;

	set(GICD_ICENABLER, SPI);
	a = bit(GICD_ISENABLER, SPI) || bit(GICD_ICENABLER, SPI);
	set(GICD_ISENABLER, SPI);
	b = bit(GICD_ISENABLER, SPI);
	c = bit(GICD_ICENABLER, SPI);
	verdict("enable", !a && b && c, "cleared/set/set-via-ICENABLER", a | b << 1 | c << 2);
}

static void check_taken(void)
{
	uint32_t iar;
	bool pend, act, act_after;

	set(GICD_ICENABLER, SPI);
	set(GICD_ISPENDR, SPI);
	pend = bit(GICD_ISPENDR, SPI) && bit(GICD_ICPENDR, SPI);
	iar = next_ack(20);
	verdict("disabled", pend && IAR_INTID(iar) == SPURIOUS, "pending read / acknowledged",
		pend | (uint64_t)iar << 1);
	if (IAR_INTID(iar) != SPURIOUS)
		gic_eoi(iar);

	set(GICD_ISENABLER, SPI);
	iar = next_ack(200);
	pend = bit(GICD_ISPENDR, SPI);
	act = bit(GICD_ISACTIVER, SPI) && bit(GICD_ICACTIVER, SPI);
	if (IAR_INTID(iar) != SPURIOUS)
		gic_eoi(iar);
	act_after = bit(GICD_ISACTIVER, SPI);
	verdict("taken", IAR_INTID(iar) == SPI && !pend && act && !act_after,
		"acknowledged / pending, active between, active after",
		iar | (uint64_t)pend << 32 | (uint64_t)act << 33 | (uint64_t)act_after << 34);
	quiesce();
}

static void check_pending_read(void)
{
	uint32_t iar;
	bool pend;

	set(GICD_ISENABLER, SPI);
	set(GICD_ISPENDR, SPI); /* on its way to this vCPU: a list register */
	pend = bit(GICD_ISPENDR, SPI);
	iar = next_ack(200);
	if (IAR_INTID(iar) != SPURIOUS)
		gic_eoi(iar);
	verdict("pending read", pend && IAR_INTID(iar) == SPI, "read pending / acknowledged",
		pend | (uint64_t)iar << 1);
	quiesce();
}

static void check_withdrawn(void)
{
	uint32_t iar;
	bool pend;

	set(GICD_ISENABLER, SPI);
	set(GICD_ISPENDR, SPI);
	set(GICD_ICPENDR, SPI);
	pend = bit(GICD_ISPENDR, SPI);
	iar = next_ack(20);
	if (IAR_INTID(iar) != SPURIOUS)
		gic_eoi(iar);
	verdict("withdrawn", !pend && IAR_INTID(iar) == SPURIOUS,
		"read pending / acknowledged after ICPENDR", pend | (uint64_t)iar << 1);
	quiesce();
}

static void check_active(void)
{
	uint32_t iar, iar2;
	bool a, b;

	set(GICD_ISENABLER, SPI);
	set(GICD_ISACTIVER, SPI);
	a = bit(GICD_ISACTIVER, SPI);
	set(GICD_ISPENDR, SPI);
	iar = next_ack(20); /* active and pending: held back */
	set(GICD_ICACTIVER, SPI);
	b = bit(GICD_ISACTIVER, SPI);
	iar2 = next_ack(200); /* deactivated: now it comes */
	if (IAR_INTID(iar) != SPURIOUS)
		gic_eoi(iar);
	if (IAR_INTID(iar2) != SPURIOUS)
		gic_eoi(iar2);
	verdict("active", a && !b && IAR_INTID(iar) == SPURIOUS && IAR_INTID(iar2) == SPI,
		"set, cleared, held back, then taken",
		a | b << 1 | (uint64_t)iar << 2 | (uint64_t)iar2 << 32);
	quiesce();
}

/* How many priority bits the CPU interface has: the mask PMR keeps. */
static uint8_t cpu_priority_mask(void)
{
	uint8_t m;

	pmr(0xff);
	m = gic_v3 ? (uint8_t)SYSREG_READ(ICC_PMR_EL1) : (uint8_t)rd32(GICC_BASE + GICC_PMR);
	pmr(0xff);
	return m;
}

static void check_priority_bits(void)
{
	uint8_t want = cpu_priority_mask();
	uintptr_t p = gic_private_base() + GICD_IPRIORITYR + 7;
	uint8_t full, zero, odd;

	wr8(p, 0xff);
	full = rd8(p);
	wr8(p, 0);
	zero = rd8(p);
	wr8(p, 0x87);
	odd = rd8(p);
	wr8(p, 0x80);
	verdict("priority bits", full == want && !zero && odd == (0x87 & want),
		"0xff / 0 / 0x87 read back, the CPU interface's mask",
		full | (uint64_t)zero << 8 | (uint64_t)odd << 16 | (uint64_t)want << 24);
}

static void check_priority_order(void)
{
	uint32_t a, b, c;
	uint32_t rpr;

	prio(SGI_LOW, 0xa0);
	prio(SGI_HIGH, 0x40);
	gic_send_sgi(SGI_LOW, 0);
	gic_send_sgi(SGI_HIGH, 0);
	a = next_ack(200);
	rpr = running_priority();
	b = next_ack(20); /* lower than the running priority: held back */
	if (IAR_INTID(a) != SPURIOUS)
		gic_eoi(a);
	c = next_ack(200);
	if (IAR_INTID(b) != SPURIOUS)
		gic_eoi(b);
	if (IAR_INTID(c) != SPURIOUS)
		gic_eoi(c);
	verdict("priority order", IAR_INTID(a) == SGI_HIGH && (rpr & 0xff) == 0x40 &&
			IAR_INTID(b) == SPURIOUS && IAR_INTID(c) == SGI_LOW,
		"first, running priority, second before the end, after",
		(uint64_t)IAR_INTID(a) | (uint64_t)(rpr & 0xff) << 10 | (uint64_t)IAR_INTID(b) << 20 |
			(uint64_t)IAR_INTID(c) << 32);
	quiesce();
}

static void check_pmr(void)
{
	uint32_t a, b, c;

	prio(SGI_PMR, 0x80);
	prio(SGI_HIGH, 0x40);
	pmr(0x80);
	gic_send_sgi(SGI_PMR, 0);
	a = next_ack(20); /* 0x80 is not above the mask 0x80 */
	if (IAR_INTID(a) != SPURIOUS)
		gic_eoi(a);
	gic_send_sgi(SGI_HIGH, 0);
	b = next_ack(200);
	if (IAR_INTID(b) != SPURIOUS)
		gic_eoi(b);
	pmr(0xff);
	c = next_ack(200);
	if (IAR_INTID(c) != SPURIOUS)
		gic_eoi(c);
	verdict("pmr", IAR_INTID(a) == SPURIOUS && IAR_INTID(b) == SGI_HIGH &&
			       IAR_INTID(c) == SGI_PMR,
		"masked, above the mask, after opening", IAR_INTID(a) | (uint64_t)IAR_INTID(b) << 10 |
			(uint64_t)IAR_INTID(c) << 20);
	quiesce();
}

static void check_hppir(void)
{
	uint32_t h, a;
	uint64_t end = bm_now() + bm_ms_to_ticks(200);

	prio(SGI_LOW, 0xa0);
	gic_send_sgi(SGI_LOW, 0);
	do
		h = hppir();
	while (IAR_INTID(h) == SPURIOUS && bm_now() < end);
	a = next_ack(200);
	if (IAR_INTID(a) != SPURIOUS)
		gic_eoi(a);
	verdict("hppir", IAR_INTID(h) == SGI_LOW && IAR_INTID(a) == SGI_LOW,
		"highest pending, then acknowledged", IAR_INTID(h) | (uint64_t)IAR_INTID(a) << 10);
	quiesce();
}

static void check_dist_disable(void)
{
	uint32_t on = rd32(GICD_BASE + GICD_CTLR), a, b;

	wr32(GICD_BASE + GICD_CTLR, gic_v3 ? 0x10 : 0); /* ARE stays */
	gic_send_sgi(SGI_LOW, 0);
	a = next_ack(20);
	if (IAR_INTID(a) != SPURIOUS)
		gic_eoi(a);
	wr32(GICD_BASE + GICD_CTLR, on);
	b = next_ack(200);
	if (IAR_INTID(b) != SPURIOUS)
		gic_eoi(b);
	verdict("dist disable", IAR_INTID(a) == SPURIOUS && IAR_INTID(b) == SGI_LOW,
		"while off, after on", IAR_INTID(a) | (uint64_t)IAR_INTID(b) << 10);
	quiesce();
}

static void check_config(void)
{
	uintptr_t sgi_cfg = gic_private_base() + GICD_ICFGR;
	uintptr_t spi_cfg = GICD_BASE + GICD_ICFGR + SPI / 16 * 4;
	unsigned shift = SPI % 16 * 2 + 1;
	uint32_t sgis, edge, level;

	wr32(sgi_cfg, 0);
	sgis = rd32(sgi_cfg);
	wr32(spi_cfg, rd32(spi_cfg) | 1U << shift);
	edge = (rd32(spi_cfg) >> shift) & 1;
	wr32(spi_cfg, rd32(spi_cfg) & ~(1U << shift));
	level = (rd32(spi_cfg) >> shift) & 1;
	verdict("config", sgis == 0xaaaaaaaaU && edge && !level,
		"SGIs' ICFGR0, SPI edge, SPI level", sgis | (uint64_t)edge << 32 |
			(uint64_t)level << 33);
}

static void check_identity(void)
{
	if (gic_v3) {
		uint64_t t0 = rd32(gic_rd_base(0) + 8) | (uint64_t)rd32(gic_rd_base(0) + 12) << 32;
		uint64_t t1 = rd32(gic_rd_base(1) + 8) | (uint64_t)rd32(gic_rd_base(1) + 12) << 32;
		uintptr_t route = GICD_BASE + GICD_IROUTER + SPI * 8;
		uint32_t r1;

		wr32(route, 1);
		r1 = rd32(route);
		wr32(route, 0);
		verdict("identity", (t0 >> 32) == 0 && !(t0 & 0x10) && ((t0 >> 8) & 0xffff) == 0 &&
					   (t1 >> 32) == 1 && (t1 & 0x10) &&
					   ((t1 >> 8) & 0xffff) == 1 && r1 == 1 &&
					   rd32(route) == 0,
			"redistributor 1's TYPER", t1);
	} else {
		uint32_t typer = rd32(GICD_BASE + GICD_TYPER);
		uint32_t own = rd32(GICD_BASE + GICD_ITARGETSR);
		uintptr_t tgt = GICD_BASE + GICD_ITARGETSR + SPI;
		uint8_t all;

		wr8(tgt, 0xff);
		all = rd8(tgt);
		wr8(tgt, 1);
		verdict("identity", ((typer >> 5) & 7) == 1 && own == 0x01010101U && all == 3,
			"CPUNumber, own targets, SPI targets 0xff", ((typer >> 5) & 7) |
				(uint64_t)own << 8 | (uint64_t)all << 40);
	}
}

/* ---- PSCI ---- */

struct entry_record {
	volatile uint64_t x0, daif, el, sctlr, done;
};

static struct entry_record rec;

/* CPU_ON entry: records what it was entered with, then CPU_OFF (no stack). */
void psci_probe_entry(void);
__asm__(".pushsection .text\n"
	".globl psci_probe_entry\n"
	"psci_probe_entry:\n"
	"	mrs x1, daif\n"
	"	mrs x2, CurrentEL\n"
	"	mrs x3, sctlr_el1\n"
	"	ldr x4, =rec\n"
	"	str x0, [x4, #0]\n"
	"	str x1, [x4, #8]\n"
	"	str x2, [x4, #16]\n"
	"	str x3, [x4, #24]\n"
	"	mov x5, #1\n"
	"	str x5, [x4, #32]\n"
	"	ldr x0, =0x84000002\n"
	"	hvc #0\n"
	"1:	wfi\n"
	"	b 1b\n"
	".popsection\n");

static int64_t call(uint32_t fid, uint64_t a1, uint64_t a2, uint64_t a3)
{
	return (int64_t)bm_hvc(fid, a1, a2, a3, 0, 0, 0).x0;
}

static int64_t affinity(uint64_t mpidr, uint64_t level)
{
	return call(PSCI_AFFINITY_INFO_64, mpidr, level, 0);
}

static void check_psci(void)
{
	const uint64_t ctx = 0x5ca1ab1e0000beefUL;
	int64_t ver = call(PSCI_VERSION, 0, 0, 0);
	bool features = call(PSCI_FEATURES, PSCI_CPU_ON_64, 0, 0) == 0 &&
			call(PSCI_FEATURES, PSCI_CPU_SUSPEND, 0, 0) == PSCI_NOT_SUPPORTED &&
			call(PSCI_FEATURES, 0xc4000000U, 0, 0) == PSCI_NOT_SUPPORTED &&
			call(PSCI_FEATURES, SMCCC_VERSION, 0, 0) == 0;
	int64_t off0 = affinity(1, 0), on, again, on_state, off1 = -99, bad, level;
	uint64_t end;

	on = call(PSCI_CPU_ON_64, 1, (uint64_t)(uintptr_t)psci_probe_entry, ctx);
	end = bm_now() + bm_ms_to_ticks(1000);
	while (!rec.done && bm_now() < end)
		;
	on_state = affinity(1, 0); /* on, or already off again */
	again = call(PSCI_CPU_ON_64, 1, (uint64_t)(uintptr_t)psci_probe_entry, ctx);
	end = bm_now() + bm_ms_to_ticks(1000);
	while (bm_now() < end && (off1 = affinity(1, 0)) != 1)
		;
	bad = call(PSCI_CPU_ON_64, 2, (uint64_t)(uintptr_t)psci_probe_entry, 0);
	level = affinity(0, 1);

	verdict("psci version and features", ver == 0x10001 && features &&
		call(PSCI_MIGRATE_INFO_TYPE, 0, 0, 0) == 2, "version", (uint64_t)ver);
	verdict("psci cpu_on", off0 == 1 && on == PSCI_SUCCESS && rec.done, "off before, CPU_ON",
		(uint64_t)off0 << 8 | (uint8_t)on);
	verdict("psci context id", rec.x0 == ctx, "x0 at the entry", rec.x0);
	verdict("psci entry masks, EL and MMU", (rec.daif & 0x3c0) == 0x3c0 && rec.el == 0x4 &&
		!(rec.sctlr & 1), "DAIF | CurrentEL << 16 | SCTLR.M << 32",
		rec.daif | rec.el << 16 | (rec.sctlr & 1) << 32);
	verdict("psci affinity and cpu_off", (on_state == 0 || on_state == 1) &&
		(again == PSCI_ALREADY_ON || again == PSCI_SUCCESS) && off1 == 1,
		"state after on, CPU_ON again, state after CPU_OFF",
		(uint8_t)on_state | (uint64_t)(uint8_t)again << 8 | (uint64_t)(uint8_t)off1 << 16);
	verdict("psci invalid", bad == PSCI_INVALID_PARAMETERS && level == PSCI_INVALID_PARAMETERS,
		"CPU_ON of a vCPU it does not have, AFFINITY_INFO level 1",
		(uint8_t)bad | (uint64_t)(uint8_t)level << 8);
}

int main(void)
{
	bm_irqs_off();
	gic_detect();
	gic_setup();
	for (uint32_t sgi = 0; sgi < 16; sgi++)
		gic_private_enable(sgi, 0x80);
	if (gic_v3)
		wr32(GICD_BASE + GICD_IROUTER + SPI * 8, 0); /* to vCPU 0 */
	else
		wr8(GICD_BASE + GICD_ITARGETSR + SPI, 1);
	prio(SPI, 0x80);
	bm_printf("%s: GICv%u\n", bm_name, gic_v3 ? 3 : 2);

	check_enable();
	check_taken();
	check_pending_read();
	check_withdrawn();
	check_active();
	check_priority_bits();
	check_priority_order();
	check_pmr();
	check_hppir();
	check_dist_disable();
	check_config();
	check_identity();
	check_psci();

	bm_printf("%s: %u passed, %u failed\n", bm_name, passed, failed);
	bm_system_off();
}
