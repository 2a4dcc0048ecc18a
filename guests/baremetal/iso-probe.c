/*
 * iso-probe: from inside a guest VM, tries to reach what is not its own and
 * checks that each attempt ends in an abort injected into itself (ESR_EL1 EC
 * 0x24/0x25, DFSC 0x10 synchronous external abort, FAR_EL1 = the address,
 * ELR_EL1 = the access) while its own memory and emulated devices keep
 * working:
 *
 *   1. the MVM's RAM (0x50000000-0x5fffffff, identity mapped for the MVM);
 *   2. the hypervisor's image, frame pool and heap (0x40080000...);
 *   3. other VMs' memory: any IPA outside its own 4 MiB at 0x80000000
 *      (fixed addresses, a sweep of the RAM window, pseudo-random ones);
 *   4. devices it was not given: the MVM's virtio-mmio transports, the GIC's
 *      hypervisor interfaces (GICH/GICV on v2, other redistributors and the
 *      ITS on v3), the rest of the board;
 *   5. its own memory, console and virtual GIC still work, and its RAM
 *      outside its image and device tree is zero at boot (nothing left by
 *      whoever had those frames before);
 *   6. interrupts it does not own (the MVM's virtio SPIs 48, 78, 79): enable,
 *      route, set pending, disable, configure them through its vGIC: that
 *      reaches only its own virtual interrupts (the test checks the MVM's
 *      disk afterwards); SGIs to vCPUs it does not have are ignored.
 *
 * One line per check, "iso-probe: <what>: ok" or "... FAIL (...)", then
 * "iso-probe: N passed, M failed", then PSCI SYSTEM_OFF. Lines stay under
 * the emulated console's 119 characters. GICv2 and GICv3.
 */
#include "bm.h"

#include <shyper/hypercall.h>

const char bm_name[] = "iso-probe";

#define SENTINEL 0x5a5a5a5a5a5a5a5aUL
#define POISON 0xdeadbeefcafef00dUL

/* This VM (guests/configs/iso-probe.json). */
#define OWN_RAM_BASE 0x80000000UL
#define OWN_RAM_SIZE 0x00400000UL
#define OWN_DTB OWN_RAM_BASE
#define OWN_SCRATCH (OWN_RAM_BASE + OWN_RAM_SIZE - 0x10000UL) /* past the image */
#define FDT_MAGIC_LE 0xedfe0dd0U /* 0xd00dfeed, big-endian in memory */

/* The emulated devices of this VM and the board's physical layout. */
#define GICD_BASE 0x08000000UL
#define GICV2_CPU_BASE 0x08010000UL /* where cshyper maps GICV for this VM */
#define GICR_BASE 0x080a0000UL	    /* this VM's one redistributor frame */
#define GICR_FRAME 0x20000UL
#define GICR_SGI (GICR_BASE + 0x10000UL)
#define UART_FR (BM_UART_BASE + 0x018)

#define GICD_CTLR 0x000
#define GICD_TYPER 0x004
#define GICD_ISENABLER 0x100
#define GICD_ICENABLER 0x180
#define GICD_ISPENDR 0x200
#define GICD_ICPENDR 0x280
#define GICD_ISACTIVER 0x300
#define GICD_ICACTIVER 0x380
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR 0x800
#define GICD_ICFGR 0xc00
#define GICD_SGIR 0xf00
#define GICD_IROUTER 0x6000
#define GICD_PIDR2_V2 0x0fe8
#define GICD_PIDR2_V3 0xffe8
#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_TYPER_LAST (1UL << 4)
#define GICR_WAKER_SLEEP (1U << 1)
#define GICC_CTLR 0x00
#define GICC_PMR 0x04
#define GICC_BPR 0x08
#define GICC_IAR 0x0c
#define GICC_EOIR 0x10
#define INTID_SPURIOUS 1020

/* GICv3 CPU interface registers by encoding, so that any assembler takes them. */
#define ICC_PMR_EL1 "S3_0_C4_C6_0"
#define ICC_IAR1_EL1 "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1 "S3_0_C12_C12_1"
#define ICC_BPR1_EL1 "S3_0_C12_C12_3"
#define ICC_CTLR_EL1 "S3_0_C12_C12_4"
#define ICC_SRE_EL1 "S3_0_C12_C12_5"
#define ICC_IGRPEN1_EL1 "S3_0_C12_C12_7"
#define ICC_SGI1R_EL1 "S3_0_C12_C11_5"
#define ICC_ASGI1R_EL1 "S3_0_C12_C11_6"
#define ICC_SGI0R_EL1 "S3_0_C12_C11_7"

#define SYSREG_READ(name) ({ uint64_t __v; __asm__ volatile("mrs %0, " name : "=r"(__v)); __v; })
#define SYSREG_WRITE(name, v) __asm__ volatile("msr " name ", %0" : : "r"((uint64_t)(v)) : "memory")
#define ISB() __asm__ volatile("isb" ::: "memory")

/* The MVM's virtio-mmio transports: 32 of 0x200 bytes, SPIs 48..79. QEMU
 * gives the first -device (the MVM's disk) the highest transport. */
#define VIRTIO_BASE 0x0a000000UL
#define VIRTIO_LAST 0x0a003e00UL
#define VIRTIO_MAGIC 0x74726976U /* "virt" */
#define MVM_SPI_FIRST 48
#define MVM_SPI_LAST 79

/* Which SPIs of the MVM it plays with: the first transport, the NIC, the disk. */
static const uint32_t mvm_spis[] = { 48, 78, 79 };
#define NR_MVM_SPIS (sizeof(mvm_spis) / sizeof(mvm_spis[0]))
#define SGI_SELF 5
#define PRIO 0xa0

/*
 * Single-instruction accessors (the fault handler skips the faulting
 * instruction): a load returns the sentinel if it was skipped. The labels
 * name the access itself, for the ELR_EL1 check.
 */
uint64_t iso_ld32(uint64_t addr, uint64_t sentinel);
uint64_t iso_ld64(uint64_t addr, uint64_t sentinel);
void iso_st32(uint64_t addr, uint64_t value);
void iso_st64(uint64_t addr, uint64_t value);
extern const char iso_ld32_insn[], iso_ld64_insn[], iso_st32_insn[], iso_st64_insn[];

/*
 * Instruction fetches: iso_fetch_call(addr) branches to addr with BLR while
 * the vectors are iso_fetch_vectors, whose synchronous EL1h entry records
 * ESR/FAR/ELR in iso_fetch_rec and returns to the BLR's link address. Every
 * other entry goes on to the common vectors (start.S).
 */
void iso_fetch_call(uint64_t addr);
extern const char iso_fetch_vectors[];
volatile uint64_t iso_fetch_rec[4] __attribute__((aligned(16))); /* esr far elr taken */

__asm__(
	"	.text\n"
	"	.globl	iso_ld32, iso_ld32_insn, iso_ld64, iso_ld64_insn\n"
	"	.globl	iso_st32, iso_st32_insn, iso_st64, iso_st64_insn\n"
	"	.globl	iso_fetch_call, iso_fetch_vectors\n"
	"iso_ld32:\n"
	"	mov	x2, x0\n"
	"	mov	x0, x1\n"
	"iso_ld32_insn:\n"
	"	ldr	w0, [x2]\n"
	"	ret\n"
	"iso_ld64:\n"
	"	mov	x2, x0\n"
	"	mov	x0, x1\n"
	"iso_ld64_insn:\n"
	"	ldr	x0, [x2]\n"
	"	ret\n"
	"iso_st32:\n"
	"iso_st32_insn:\n"
	"	str	w1, [x0]\n"
	"	ret\n"
	"iso_st64:\n"
	"iso_st64_insn:\n"
	"	str	x1, [x0]\n"
	"	ret\n"
	"iso_fetch_call:\n"
	"	stp	x29, x30, [sp, #-16]!\n"
	"	mov	x29, sp\n"
	"	blr	x0\n"
	"	ldp	x29, x30, [sp], #16\n"
	"	ret\n"
	"	.macro	iso_fwd k\n"
	"	.balign	0x80\n"
	"	b	bm_vectors + 0x80 * \\k\n"
	"	.endm\n"
	"	.balign	0x800\n"
	"iso_fetch_vectors:\n"
	"	iso_fwd	0\n"
	"	iso_fwd	1\n"
	"	iso_fwd	2\n"
	"	iso_fwd	3\n"
	"	.balign	0x80\n" /* 4: synchronous, EL1h */
	"	adrp	x9, iso_fetch_rec\n"
	"	add	x9, x9, :lo12:iso_fetch_rec\n"
	"	mrs	x10, esr_el1\n"
	"	str	x10, [x9]\n"
	"	mrs	x10, far_el1\n"
	"	str	x10, [x9, #8]\n"
	"	mrs	x10, elr_el1\n"
	"	str	x10, [x9, #16]\n"
	"	mov	x10, #1\n"
	"	str	x10, [x9, #24]\n"
	"	msr	elr_el1, x30\n"
	"	eret\n"
	"	iso_fwd	5\n"
	"	iso_fwd	6\n"
	"	iso_fwd	7\n"
	"	iso_fwd	8\n"
	"	iso_fwd	9\n"
	"	iso_fwd	10\n"
	"	iso_fwd	11\n"
	"	iso_fwd	12\n"
	"	iso_fwd	13\n"
	"	iso_fwd	14\n"
	"	iso_fwd	15\n");

static inline uint32_t rd32(uintptr_t addr)
{
	uint32_t v;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline uint64_t rd64(uintptr_t addr)
{
	uint64_t v;

	__asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void wr8(uintptr_t addr, uint8_t v)
{
	__asm__ volatile("strb %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

static inline void wr32(uintptr_t addr, uint32_t v)
{
	__asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

static inline void wr64(uintptr_t addr, uint64_t v)
{
	__asm__ volatile("str %0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

static inline uint64_t cntvct(void)
{
	uint64_t v;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v) : : "memory");
	return v;
}

/* ---------------------------------------------------------------------- */
/* Reporting                                                              */
/* ---------------------------------------------------------------------- */

static unsigned passed, failed;

static void __attribute__((format(printf, 2, 3))) ok(bool good, const char *fmt, ...)
{
	va_list ap;

	bm_printf("%s: ", bm_name);
	va_start(ap, fmt);
	bm_vprintf(fmt, ap);
	va_end(ap);
	if (good) {
		passed++;
		bm_puts(": ok\n");
	} else {
		failed++;
	}
}

/* After ok(false, ...): the reason, closing the line. */
static void __attribute__((format(printf, 1, 2))) why(const char *fmt, ...)
{
	va_list ap;

	bm_puts(": FAIL (");
	va_start(ap, fmt);
	bm_vprintf(fmt, ap);
	va_end(ap);
	bm_puts(")\n");
}

/* ---------------------------------------------------------------------- */
/* 1-4: accesses that must abort                                          */
/* ---------------------------------------------------------------------- */

enum acc { RD32, RD64, WR32, WR64 };
static const char *const acc_name[] = { "rd32", "rd64", "wr32", "wr64" };

struct attempt {
	struct bm_fault f;
	uint64_t value;	  /* what a load returned (the sentinel if skipped) */
	const char *insn; /* the access instruction */
};

static struct attempt attempt(uint64_t addr, enum acc k)
{
	struct attempt a = { .value = SENTINEL };

	bm_fault_expect();
	switch (k) {
	case RD32:
		a.value = iso_ld32(addr, SENTINEL);
		a.insn = iso_ld32_insn;
		break;
	case RD64:
		a.value = iso_ld64(addr, SENTINEL);
		a.insn = iso_ld64_insn;
		break;
	case WR32:
		iso_st32(addr, (uint32_t)POISON);
		a.insn = iso_st32_insn;
		break;
	case WR64:
		iso_st64(addr, POISON);
		a.insn = iso_st64_insn;
		break;
	}
	a.f = bm_fault_result();
	return a;
}

/* NULL if it aborted the way it must, else what went wrong (in buf). */
static const char *abort_problem(const struct attempt *a, uint64_t addr, enum acc k)
{
	uint64_t ec = ESR_EC(a->f.esr);

	if (!a->f.taken)
		return k <= RD64 ? "no abort: the load returned data" : "no abort: the store went through";
	if (ec != 0x24 && ec != ESR_EC_DABT_CUR)
		return "not a data abort (EC)";
	if (ESR_DFSC(a->f.esr) != DFSC_SYNC_EXTERNAL)
		return "not a synchronous external abort (DFSC)";
	if (a->f.far != addr)
		return "FAR_EL1 is not the address";
	if (a->f.elr != (uint64_t)(uintptr_t)a->insn)
		return "ELR_EL1 is not the access";
	if (k <= RD64 && a->value != SENTINEL)
		return "the skipped load changed its register";
	return 0;
}

static void must_abort(const char *what, uint64_t addr, enum acc k)
{
	struct attempt a = attempt(addr, k);
	const char *p = abort_problem(&a, addr, k);

	ok(!p, "%s %s 0x%lx", what, acc_name[k], addr);
	if (p)
		why("%s; ESR 0x%lx FAR 0x%lx ELR 0x%lx value 0x%lx", p, a.f.esr, a.f.far,
		    a.f.elr, a.value);
}

/* Reads and writes, 32 and 64 bits. */
static void must_abort_rw(const char *what, uint64_t addr)
{
	must_abort(what, addr, RD64);
	must_abort(what, addr, WR64);
	must_abort(what, addr, RD32);
	must_abort(what, addr, WR32);
}

/* Branching there must end in an abort at that address, not run anything. */
static void must_not_execute(const char *what, uint64_t addr)
{
	uint64_t vbar = SYSREG_READ("vbar_el1");
	uint64_t esr, far, elr, ec;

	iso_fetch_rec[0] = iso_fetch_rec[1] = iso_fetch_rec[2] = iso_fetch_rec[3] = 0;
	SYSREG_WRITE("vbar_el1", (uint64_t)(uintptr_t)iso_fetch_vectors);
	ISB();
	iso_fetch_call(addr);
	SYSREG_WRITE("vbar_el1", vbar);
	ISB();
	esr = iso_fetch_rec[0];
	far = iso_fetch_rec[1];
	elr = iso_fetch_rec[2];
	ec = ESR_EC(esr);
	/* An instruction abort (EC 0x21) is what hardware gives; cshyper
	 * injects a data abort for it, which stops the guest all the same. */
	bool good = iso_fetch_rec[3] && (ec == 0x20 || ec == 0x21 || ec == 0x24 || ec == 0x25) &&
		    ESR_DFSC(esr) == DFSC_SYNC_EXTERNAL && elr == addr && far == addr;

	ok(good, "%s exec 0x%lx", what, addr);
	if (!good)
		why("taken %lu ESR 0x%lx FAR 0x%lx ELR 0x%lx", iso_fetch_rec[3], esr, far, elr);
	else if (ec == 0x24 || ec == 0x25)
		bm_printf("%s: note: exec 0x%lx came back as a data abort (EC 0x%lx), not EC 0x21\n",
			  bm_name, addr, ec);
}

/* 1: the MVM's RAM, by its physical address used as an IPA. */
static void check_mvm_ram(void)
{
	must_abort_rw("mvm-ram", 0x50000000UL);
	must_abort_rw("mvm-ram", 0x5ff00000UL);
	must_abort("mvm-ram", 0x58000000UL, RD64); /* the MVM's initramfs */
	must_abort("mvm-ram", 0x5fff0ff8UL, WR64);
	must_not_execute("mvm-ram", 0x50000000UL);
}

/* 2: the hypervisor: image, frame-pool bitmap and heap, QEMU's stub. */
static void check_hypervisor(void)
{
	must_abort_rw("hv-image", 0x40080000UL);
	must_abort_rw("hv-pool", 0x40100000UL);
	must_abort_rw("hv-pool", 0x48000000UL);
	must_abort("hv-stub", 0x40000000UL, RD64);
	must_abort("hv-stub", 0x40000000UL, WR64);
	must_not_execute("hv-image", 0x40080000UL);
}

/* A small xorshift; seeded from the counter, the seed is printed. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static bool own_ram(uint64_t a)
{
	return a >= OWN_RAM_BASE && a < OWN_RAM_BASE + OWN_RAM_SIZE;
}

/* 3: other VMs: wherever their RAM is, no IPA outside its own reaches it. */
static void check_other_vms(void)
{
	static const uint64_t fixed[] = {
		OWN_RAM_BASE - 8,		  /* right below its RAM */
		OWN_RAM_BASE + OWN_RAM_SIZE,	  /* right above */
		0x80400000UL + 0x200000UL,	  /* where the next 2 MiB block would be */
		0x88000000UL, 0xc0000000UL,
		0x87e00000UL,			  /* a Linux guest's device tree IPA */
		0xfffffff8UL,
		0x100000000UL, 0x4010000000UL,    /* above 4 GiB, PCIe ECAM */
		0xfffffffff8UL,			  /* the top of the 40-bit IPA space */
	};
	unsigned n = 0, aborted = 0;
	uint64_t first_bad = 0;

	for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		must_abort("other-vm", fixed[i], RD64);
		must_abort("other-vm", fixed[i], WR64);
	}

	/* The board's RAM and beyond up to 4 GiB, every 64 MiB (loads). */
	for (uint64_t a = 0x40000000UL; a < 0x100000000UL; a += 0x4000000UL) {
		struct attempt at;

		if (own_ram(a))
			continue;
		n++;
		at = attempt(a + 0x800, RD64);
		if (!abort_problem(&at, a + 0x800, RD64))
			aborted++;
		else if (!first_bad)
			first_bad = a + 0x800;
	}
	ok(aborted == n, "other-vm sweep 0x40000800..0xfc000800 by 64 MiB: %u/%u aborted", aborted, n);
	if (aborted != n)
		why("first one that did not: 0x%lx", first_bad);

	rng_state = cntvct() | 1;
	bm_printf("%s: random addresses, seed 0x%lx\n", bm_name, rng_state);
	for (unsigned i = 0; i < 8; i++) {
		uint64_t a;

		do
			a = 0x40000000UL + (rng() % 0xc0000000UL);
		while (own_ram(a));
		a &= ~7UL;
		must_abort("random", a, RD64);
		must_abort("random", a, WR64);
	}
	must_not_execute("other-vm", 0x88000000UL);
}

/* 4: devices: the MVM's, the GIC's hypervisor side, the rest of the board. */
static void check_devices(unsigned gic)
{
	/* The MVM's virtio transports: the magic must not come back. */
	must_abort("mvm-virtio", VIRTIO_BASE, RD32);
	must_abort("mvm-virtio", VIRTIO_BASE + 0x70, WR32); /* QueueNotify */
	must_abort("mvm-virtio", VIRTIO_LAST, RD32);	     /* the MVM's disk */
	must_abort("mvm-virtio", VIRTIO_LAST + 0x70, WR32);
	must_abort("mvm-virtio", VIRTIO_LAST - 0x200 + 0x64, WR32); /* the NIC: InterruptACK */

	/* The GIC beyond this VM's emulated part of it. */
	must_abort("gic-its", 0x08080000UL, RD32);
	must_abort("gic-its", 0x08080000UL, WR32);
	must_abort("gic-v2m", 0x08020000UL, RD32);
	if (gic == 3) {
		/* Its one redistributor, and nothing after it. */
		uint64_t typer = rd64(GICR_BASE + GICR_TYPER);

		ok((typer & GICR_TYPER_LAST) && !(typer >> 32),
		   "own redistributor: GICR_TYPER 0x%lx, last, affinity 0", typer);
		if (!(typer & GICR_TYPER_LAST) || typer >> 32)
			why("want Last set and affinity 0");
		must_abort_rw("gicr-other", GICR_BASE + GICR_FRAME);
		must_abort("gicr-other", GICR_BASE + 2 * GICR_FRAME + GICR_WAKER, WR32);
		must_abort("gicr-other", GICR_BASE + 3 * GICR_FRAME + 0x10000 + GICD_ISENABLER, RD32);
		must_abort("gicr-other", GICR_BASE + 3 * GICR_FRAME + 0x10000 + GICD_ICENABLER, WR32);
	} else {
		must_abort_rw("gich", 0x08030000UL);
		must_abort("gich", 0x08030100UL, WR32); /* GICH_LR0 */
		must_abort("gicv-phys", 0x08040000UL, RD32);
		must_abort("gicd-phys", GICD_BASE + 0x1000, RD32); /* past the emulated 4 KiB */
		must_abort("gicd-phys", GICD_BASE + 0x1000 + GICD_ICENABLER, WR32);
	}

	/* Board devices nobody gave it: flash, RTC, fw_cfg, GPIO, platform bus, PCIe. */
	must_abort("board", 0x00000000UL, RD32);
	must_abort("board", 0x04000000UL, RD32);
	must_abort("board", 0x09010000UL, RD32);
	must_abort("board", 0x09020000UL, RD32);
	must_abort("board", 0x09030000UL, WR32);
	must_abort("board", 0x0c000000UL, RD32);
	must_abort("board", 0x10000000UL, RD32);
	must_abort("board", 0x3eff0000UL, RD32);
	must_not_execute("board", 0x00000000UL);
}

/* ---------------------------------------------------------------------- */
/* 5: what is its own still works                                         */
/* ---------------------------------------------------------------------- */

static uint64_t buf[4096] __attribute__((aligned(64)));

static bool pattern_ok(uint64_t base, size_t words, uint64_t salt)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)base;

	for (size_t i = 0; i < words; i++)
		p[i] = (base + i * 8) ^ salt;
	for (size_t i = 0; i < words; i++)
		if (p[i] != ((base + i * 8) ^ salt))
			return false;
	return true;
}

extern char _start[], _image_end[]; /* start.S, baremetal.ld: its image, bss included */

/*
 * At boot, before anything of its own is written there: RAM outside its
 * image and device tree must hold nothing of whoever had those frames
 * before (another VM's RAM, image copies or stage-2 tables, the hypervisor).
 */
static void check_clean_ram(void)
{
	uint64_t ranges[2][2] = {
		{ OWN_DTB + 0x10000, (uint64_t)(uintptr_t)_start },
		{ ((uint64_t)(uintptr_t)_image_end + 0xfff) & ~0xfffUL, OWN_RAM_BASE + OWN_RAM_SIZE },
	};
	uint64_t dirty = 0, first = 0, first_v = 0, second_v = 0;

	for (unsigned r = 0; r < 2; r++)
		for (uint64_t a = ranges[r][0]; a < ranges[r][1]; a += 8) {
			uint64_t v = rd64(a);

			if (!v)
				continue;
			if (!dirty++) {
				first = a;
				first_v = v;
				second_v = rd64(a + 8);
			}
		}
	bm_printf("%s: scanning 0x%lx-0x%lx and 0x%lx-0x%lx\n", bm_name, ranges[0][0],
		  ranges[0][1], ranges[1][0], ranges[1][1]);
	ok(!dirty, "own RAM zero at boot");
	if (dirty)
		why("%lu words not; at 0x%lx: 0x%lx 0x%lx", dirty, first, first_v, second_v);
}

static void check_own(unsigned gic)
{
	uint32_t v;

	bool good = pattern_ok((uint64_t)(uintptr_t)buf, sizeof(buf) / 8, 0x1234567887654321UL);

	ok(good, "own memory: 32 KiB in its image");
	if (!good)
		why("pattern read back wrong");
	good = pattern_ok(OWN_SCRATCH, 0x10000 / 8, POISON);
	ok(good, "own memory: 64 KiB at 0x%lx", OWN_SCRATCH);
	if (!good)
		why("pattern read back wrong");
	v = rd32(OWN_DTB);
	ok(v == FDT_MAGIC_LE, "own memory: its device tree at 0x%lx", OWN_DTB);
	if (v != FDT_MAGIC_LE)
		why("magic 0x%x", v);
	v = rd32(UART_FR);
	ok(v & (1U << 7), "own console: UARTFR 0x%x", v);
	if (!(v & (1U << 7)))
		why("TXFE clear");
	v = rd32(GICD_BASE + GICD_TYPER);
	/* One vCPU: GICD_TYPER.CPUNumber 0; at least the 80 interrupts of the board. */
	ok(((v >> 5) & 7) == 0 && (v & 0x1f) >= 2, "own vGIC (v%u): GICD_TYPER 0x%x", gic, v);
	if (((v >> 5) & 7) != 0 || (v & 0x1f) < 2)
		why("want CPUNumber 0 and ITLinesNumber >= 2");
}

/* ---------------------------------------------------------------------- */
/* 6: interrupts                                                          */
/* ---------------------------------------------------------------------- */

static unsigned gic_version;
static volatile uint64_t irq_seen[1024 / 64];
static volatile unsigned irq_total;

static void irq_handler(void)
{
	uint64_t iar;
	uint32_t intid;

	if (gic_version == 3) {
		iar = SYSREG_READ(ICC_IAR1_EL1);
		intid = (uint32_t)(iar & 0xffffff);
	} else {
		iar = rd32(GICV2_CPU_BASE + GICC_IAR);
		intid = (uint32_t)(iar & 0x3ff);
	}
	if (intid >= INTID_SPURIOUS)
		return;
	irq_seen[intid / 64] |= 1UL << (intid % 64);
	irq_total++;
	if (gic_version == 3)
		SYSREG_WRITE(ICC_EOIR1_EL1, iar);
	else
		wr32(GICV2_CPU_BASE + GICC_EOIR, (uint32_t)iar);
	ISB();
}

static void irq_clear(void)
{
	for (unsigned i = 0; i < sizeof(irq_seen) / sizeof(irq_seen[0]); i++)
		irq_seen[i] = 0;
	irq_total = 0;
}

static bool irq_got(uint32_t intid)
{
	return irq_seen[intid / 64] & (1UL << (intid % 64));
}

static uint64_t ticks_per_ms(void)
{
	return SYSREG_READ("cntfrq_el0") / 1000;
}

/* Waits until intid arrived (true) or `ms` passed (false). */
static bool wait_irq(uint32_t intid, unsigned ms)
{
	uint64_t end = cntvct() + ms * ticks_per_ms();

	while (cntvct() < end)
		if (irq_got(intid))
			return true;
	return irq_got(intid);
}

static void idle_ms(unsigned ms)
{
	uint64_t end = cntvct() + ms * ticks_per_ms();

	while (cntvct() < end)
		;
}

static unsigned detect_gic(void)
{
	if (((rd32(GICD_BASE + GICD_PIDR2_V2) >> 4) & 0xf) == 2)
		return 2;
	if (((rd32(GICD_BASE + GICD_PIDR2_V3) >> 4) & 0xf) == 3)
		return 3;
	return 0;
}

/* Distributor and CPU interface on, priority mask open. */
static bool gic_setup(void)
{
	if (gic_version == 3) {
		SYSREG_WRITE(ICC_SRE_EL1, SYSREG_READ(ICC_SRE_EL1) | 1);
		ISB();
		if (!(SYSREG_READ(ICC_SRE_EL1) & 1))
			return false;
		wr32(GICD_BASE + GICD_CTLR, 0x12); /* EnableGrp1A, ARE */
		wr32(GICR_BASE + GICR_WAKER, rd32(GICR_BASE + GICR_WAKER) & ~GICR_WAKER_SLEEP);
		SYSREG_WRITE(ICC_PMR_EL1, 0xff);
		SYSREG_WRITE(ICC_BPR1_EL1, 0);
		SYSREG_WRITE(ICC_CTLR_EL1, 0);
		SYSREG_WRITE(ICC_IGRPEN1_EL1, 1);
		ISB();
	} else {
		wr32(GICD_BASE + GICD_CTLR, 1);
		wr32(GICV2_CPU_BASE + GICC_PMR, 0xff);
		wr32(GICV2_CPU_BASE + GICC_BPR, 0);
		wr32(GICV2_CPU_BASE + GICC_CTLR, 1);
	}
	return true;
}

/* Where the per-interrupt registers of SGIs/PPIs are (v3: redistributor). */
static uintptr_t private_base(void)
{
	return gic_version == 3 ? GICR_SGI : GICD_BASE;
}

static void set_route(uint32_t intid, unsigned vcpu_aff)
{
	if (gic_version == 3)
		wr64(GICD_BASE + GICD_IROUTER + 8 * intid, vcpu_aff);
	else
		wr8(GICD_BASE + GICD_ITARGETSR + intid, (uint8_t)vcpu_aff);
}

static uint32_t bit_reg(uintptr_t base, unsigned reg, uint32_t intid)
{
	return rd32(base + reg + 4 * (intid / 32)) & (1U << (intid % 32));
}

static void set_bit_reg(uintptr_t base, unsigned reg, uint32_t intid)
{
	wr32(base + reg + 4 * (intid / 32), 1U << (intid % 32));
}

/* The MVM's SPIs through this VM's vGIC: they are this VM's own virtual
 * interrupts and nothing else. */
static void check_foreign_spis(void)
{
	uint32_t en1, en2, pend1, pend2;

	/* A fresh vGIC: none of the MVM's enables or pending state shows. */
	en1 = rd32(GICD_BASE + GICD_ISENABLER + 4);
	en2 = rd32(GICD_BASE + GICD_ISENABLER + 8);
	pend1 = rd32(GICD_BASE + GICD_ISPENDR + 4);
	pend2 = rd32(GICD_BASE + GICD_ISPENDR + 8);
	ok(!en1 && !en2 && !pend1 && !pend2, "vgic: SPIs 32-95 disabled, not pending at start");
	if (en1 || en2 || pend1 || pend2)
		why("ISENABLER 0x%x 0x%x ISPENDR 0x%x 0x%x", en1, en2, pend1, pend2);

	for (unsigned i = 0; i < NR_MVM_SPIS; i++) {
		uint32_t s = mvm_spis[i];

		wr8(GICD_BASE + GICD_IPRIORITYR + s, PRIO);
		set_route(s, gic_version == 3 ? 0 : 1); /* vCPU 0 = physical core 0 if passed on */
		set_bit_reg(GICD_BASE, GICD_ISENABLER, s);
	}
	for (unsigned i = 0; i < NR_MVM_SPIS; i++) {
		uint32_t s = mvm_spis[i];
		bool en = bit_reg(GICD_BASE, GICD_ISENABLER, s);
		bool got;

		irq_clear();
		set_bit_reg(GICD_BASE, GICD_ISPENDR, s);
		got = wait_irq(s, 20);
		ok(en && got && irq_total == 1,
		   "vgic: SPI %u enabled, routed, set pending: delivered to itself only", s);
		if (!(en && got && irq_total == 1))
			why("enabled %u delivered %u, %u interrupts", en, got, irq_total);
	}

	/* Routed to a vCPU it does not have: nowhere. */
	{
		uint32_t s = mvm_spis[0];
		/* v3 IROUTER: Aff0 5, Aff1 1; v2 ITARGETSR: CPU interfaces 1, 2-7. */
		unsigned routes[2] = { gic_version == 3 ? 5 : 0x02, gic_version == 3 ? 0x100 : 0xfc };

		for (unsigned r = 0; r < 2; r++) {
			uint32_t pend;

			irq_clear();
			set_route(s, routes[r]);
			set_bit_reg(GICD_BASE, GICD_ISPENDR, s);
			idle_ms(5);
			pend = bit_reg(GICD_BASE, GICD_ISPENDR, s);
			ok(!irq_total && !pend, "vgic: SPI %u routed to absent vCPU 0x%x: not delivered",
			   s, routes[r]);
			if (irq_total || pend)
				why("%u interrupts, pending %u", irq_total, pend);
		}
		set_route(s, gic_version == 3 ? 0 : 1);
	}

	/*
	 * Everything a guest can do to the MVM's interrupts: level/edge, clear
	 * pending, (de)activate, disable all 32 of them; and the hypervisor's own
	 * SGIs and PPIs (maintenance, timers) in its banked view.
	 */
	for (unsigned w = MVM_SPI_FIRST / 32; w <= MVM_SPI_LAST / 32; w++) {
		wr32(GICD_BASE + GICD_ICFGR + 8 * w, 0);
		wr32(GICD_BASE + GICD_ICFGR + 8 * w + 4, 0);
		wr32(GICD_BASE + GICD_ISACTIVER + 4 * w, ~0U);
		wr32(GICD_BASE + GICD_ICACTIVER + 4 * w, ~0U);
		wr32(GICD_BASE + GICD_ICPENDR + 4 * w, ~0U);
		wr32(GICD_BASE + GICD_ICENABLER + 4 * w, ~0U);
		wr32(GICD_BASE + GICD_ICFGR + 8 * w, 0xaaaaaaaaU);
		wr32(GICD_BASE + GICD_ICFGR + 8 * w + 4, 0xaaaaaaaaU);
	}
	wr32(private_base() + GICD_ICENABLER, 0xffff0000U & ~(1U << 27)); /* PPIs but its timer */
	wr32(private_base() + GICD_ICPENDR, ~0U);
	wr32(private_base() + GICD_ICACTIVER, ~0U);
	en1 = rd32(GICD_BASE + GICD_ISENABLER + 4);
	en2 = rd32(GICD_BASE + GICD_ISENABLER + 8);
	ok(!en1 && !en2, "vgic: SPIs 32-95 disabled, configured, deactivated again");
	if (en1 || en2)
		why("ISENABLER 0x%x 0x%x", en1, en2);
}

/* SGIs: to vCPUs it does not have they go nowhere; to itself they arrive. */
static void check_sgis(void)
{
	uintptr_t pb = private_base();

	wr8(pb + GICD_IPRIORITYR + SGI_SELF, PRIO);
	set_bit_reg(pb, GICD_ISENABLER, SGI_SELF);
	irq_clear();
	if (gic_version == 3) {
		const uint64_t sgi = (uint64_t)SGI_SELF << 24;
		static const struct {
			const char *name;
			uint64_t v;
		} bad[] = {
			{ "targets 1-15", 0xfffe },
			{ "Aff1 1", (1UL << 16) | 1 },
			{ "Aff2 1", (1UL << 32) | 1 },
			{ "Aff3 1", (1UL << 48) | 1 },
			{ "RS 1", (1UL << 44) | 1 },
			{ "IRM (all but self)", 1UL << 40 },
		};

		for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			SYSREG_WRITE(ICC_SGI1R_EL1, sgi | bad[i].v);
			ISB();
			idle_ms(2);
			ok(!irq_total, "sgi: ICC_SGI1R_EL1 %s: ignored", bad[i].name);
			if (irq_total)
				why("%u interrupts arrived", irq_total);
			irq_clear();
		}
		SYSREG_WRITE(ICC_SGI0R_EL1, sgi | 0xffff);
		SYSREG_WRITE(ICC_ASGI1R_EL1, sgi | 0xffff);
		ISB();
		idle_ms(2);
		ok(!irq_total, "sgi: ICC_SGI0R_EL1 / ICC_ASGI1R_EL1 to all: ignored");
		if (irq_total)
			why("%u interrupts arrived", irq_total);
		irq_clear();
		SYSREG_WRITE(ICC_SGI1R_EL1, sgi | 1);
		ISB();
	} else {
		static const struct {
			const char *name;
			uint32_t v;
		} bad[] = {
			{ "targets 1-7", 0xfeU << 16 },
			{ "all but self", 1U << 24 },
			{ "reserved filter", (3U << 24) | (0xffU << 16) },
		};

		for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			wr32(GICD_BASE + GICD_SGIR, bad[i].v | SGI_SELF);
			idle_ms(2);
			ok(!irq_total, "sgi: GICD_SGIR %s: ignored", bad[i].name);
			if (irq_total)
				why("%u interrupts arrived", irq_total);
			irq_clear();
		}
		wr32(GICD_BASE + GICD_SGIR, (2U << 24) | SGI_SELF);
	}
	{
		bool got = wait_irq(SGI_SELF, 20);

		ok(got && irq_total == 1, "sgi: SGI %u to itself arrives", SGI_SELF);
		if (!(got && irq_total == 1))
			why("delivered %u, %u interrupts", got, irq_total);
	}
}

static void check_interrupts(void)
{
	if (!gic_setup()) {
		ok(false, "vgic: set-up");
		why("ICC_SRE_EL1.SRE stays 0");
		return;
	}
	irq_clear();
	bm_irq_handler = irq_handler;
	__asm__ volatile("msr daifclr, #2" ::: "memory");
	check_foreign_spis();
	check_sgis();
	__asm__ volatile("msr daifset, #2" ::: "memory");
	bm_irq_handler = 0;
	wr32(GICD_BASE + GICD_CTLR, 0);
}

/* ---------------------------------------------------------------------- */
/* 7: the PMU and the debug registers                                      */
/* ---------------------------------------------------------------------- */

/* Neither is the hardware's: a cycle counter would time other VMs' cache
 * use, and breakpoint registers are not switched with the vCPU. */
static void check_pmu_debug(void)
{
	uint64_t cycles, pmcr, bvr, mdscr;

	__asm__ volatile("msr pmcr_el0, %0" ::"r"(7UL)); /* enable, reset all */
	__asm__ volatile("msr pmcntenset_el0, %0" ::"r"(1UL << 31));
	__asm__ volatile("isb");
	for (volatile unsigned i = 0; i < 200000; i++)
		;
	__asm__ volatile("mrs %0, pmccntr_el0" : "=r"(cycles));
	__asm__ volatile("mrs %0, pmcr_el0" : "=r"(pmcr));
	ok(cycles == 0, "PMU hidden: the cycle counter reads %lu after a busy loop", cycles);
	ok(((pmcr >> 11) & 0x1f) == 0, "PMU hidden: PMCR_EL0 0x%lx shows no counters", pmcr);
	__asm__ volatile("msr dbgbvr0_el1, %0" ::"r"(0x1234560UL));
	__asm__ volatile("msr mdscr_el1, %0" ::"r"(1UL << 15)); /* MDE */
	__asm__ volatile("isb");
	__asm__ volatile("mrs %0, dbgbvr0_el1" : "=r"(bvr));
	__asm__ volatile("mrs %0, mdscr_el1" : "=r"(mdscr));
	ok(bvr == 0 && mdscr == 0, "debug registers hidden: DBGBVR0_EL1 0x%lx, MDSCR_EL1 0x%lx",
	   bvr, mdscr);
}

int main(void);
int main(void)
{
	struct bm_smccc_res r = bm_hvc(SHYPER_VMM_GET_ID, 0, 0, 0, 0, 0, 0);

	gic_version = detect_gic();
	bm_printf("%s: start: VM %lu, GICv%u\n", bm_name, r.x0 ? ~0UL : r.x1, gic_version);
	if (r.x0 != 0 || !gic_version) {
		ok(false, "cshyper guest with a GIC");
		why("VMM_GET_ID 0x%lx, GIC version %u", r.x0, gic_version);
		bm_printf("%s: %u passed, %u failed\n", bm_name, passed, failed);
		bm_system_off();
	}
	check_clean_ram();
	check_own(gic_version);
	check_mvm_ram();
	check_hypervisor();
	check_other_vms();
	check_devices(gic_version);
	check_interrupts();
	check_pmu_debug();
	check_own(gic_version); /* still its own after all that */
	bm_printf("%s: %u passed, %u failed\n", bm_name, passed, failed);
	bm_system_off();
}
