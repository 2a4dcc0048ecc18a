/*
 * hvc-fuzz: random hypercalls from inside an ordinary guest VM. Every vCPU
 * of the VM issues, for a bounded number of iterations or seconds, HVCs and
 * SMCs with random function ids (every cshyper group and function number,
 * unknown ones, PSCI, SMCCC, anything else) and random or boundary arguments
 * (0, ~0, huge lengths, addresses in its own RAM, in other VMs' and the
 * hypervisor's memory, unmapped, unaligned, wrapping). The vCPUs race: they
 * run at once on their own cores. Every call must come back with a status
 * that is valid for its range: each is counted in one result class.
 *
 * Bootargs (the configuration's cmdline), all optional:
 *   seed=<n>        the seed (default: the counter at boot); printed first,
 *                   so that a run can be replayed (vCPU k draws from seed
 *                   and k; the interleaving of the vCPUs is not replayed)
 *   iterations=<n>  calls per vCPU (0: no bound; default 20000 when no
 *                   seconds are given either)
 *   seconds=<n>     stop after that long (0: no bound)
 *   churn=<n>       after the report, power vCPU 1 on and off n times, each
 *                   CPU_ON issued the moment AFFINITY_INFO says it is off
 *                   (while its core may still be taking it off), then
 *                   report "hvc-fuzz: churn cycles=... on=... starts=...":
 *                   every CPU_ON must succeed and start it exactly once
 *   reset=<ms>      end with PSCI SYSTEM_RESET instead of SYSTEM_OFF, that
 *                   long after the report: the VM boots again and again
 *
 * Output: "hvc-fuzz: start seed=..." and "hvc-fuzz: done seed=... calls=...
 * ok=... enosys=... eperm=... einval=... efault=... other=... invalid=...",
 * on the console and, NUL-terminated, at the start of the IVC channel
 * "fuzz-report" (so the MVM reads it with `shyper ivc shm`). Then the
 * secondaries power off, one of them is started again at an entry point
 * outside the VM's memory, and the VM powers off (PSCI SYSTEM_OFF).
 *
 * Never called at random, because they legitimately stop the calling vCPU
 * or the whole VM: PSCI CPU_SUSPEND, CPU_OFF, SYSTEM_OFF, SYSTEM_RESET,
 * CPU_FREEZE, CPU_DEFAULT_SUSPEND, SYSTEM_SUSPEND, SYSTEM_RESET2 (under
 * either calling convention and whatever is in x0[63:32]). Restricted:
 * buffers that a call may write into point at a scratch area, never at the
 * program (a random address inside its own RAM becomes one in the scratch
 * area); a keep-alive registration that could be missed, which would reboot
 * the VM or print a line per miss, becomes one with the longest period and
 * no restart.
 */
#include "bm.h"
#include "fdt.h"

#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/ivc.h>
#include <shyper/mediated.h>
#include <shyper/psci.h>

const char bm_name[] = "hvc-fuzz";

/* This VM (guests/configs/hvc-fuzz.json): RAM and the report channel. */
#define RAM_BASE 0x80000000UL
#define RAM_SIZE 0x400000UL
#define REPORT_IPA 0x70000000UL
#define REPORT_LEN 512U

#define MAX_VCPUS 8
#define STACK_SIZE 16384
#define DEFAULT_ITERATIONS 20000
/* Most any call writes into a guest buffer (an IVC message). */
#define WRITE_MAX 512U
#define SCRATCH_SIZE 65536U

/* PSCI (DEN0022D) return codes used here; the ids are in shyper/psci.h. */
#define PSCI_DENIED (-3L)
#define PSCI_LAST_ERROR (-9L)
#define PSCI_AFF_OFF 1
/* SMCCC (DEN0028) ids answered with something other than NOT_SUPPORTED. */
#define SMCCC_ARCH_FEATURES 0x80000001U
#define SMCCC_VERSION_1_1 0x10001U
/* The last function number of each cshyper group (include/shyper/). */
static const uint8_t group_last_fn[] = { 4, 10, 9, SHYPER_IVC_LAST_FN, 3, 9, 6 };
#define NR_GROUPS (sizeof(group_last_fn) / sizeof(group_last_fn[0]))

enum result_class { R_OK, R_ENOSYS, R_EPERM, R_EINVAL, R_EFAULT, R_OTHER, R_INVALID, R_NR };
static const char *const class_names[R_NR] = {
	"ok", "enosys", "eperm", "einval", "efault", "other", "invalid",
};

/* Per vCPU: written by that vCPU only, read by vCPU 0 once done is set. */
struct fuzz_cpu {
	uint64_t rng;
	uint64_t calls;
	uint64_t counts[R_NR];
	uint64_t first_invalid_fid, first_invalid_x0;
	volatile uint32_t started, done;
	struct bm_secondary boot;
};

static struct fuzz_cpu cpus[MAX_VCPUS];
static uint8_t stacks[MAX_VCPUS][STACK_SIZE] __attribute__((aligned(16)));
static uint8_t scratch[SCRATCH_SIZE] __attribute__((aligned(16)));
static unsigned nr_vcpus;
static uint64_t self_id, iterations, deadline;
static volatile uint32_t go, release;
static volatile uint64_t churn_starts;
static struct bm_secondary churn_boot;

static uint64_t rng_next(struct fuzz_cpu *c)
{
	/* xorshift64*: small, and good enough to spread arguments. */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 0x2545f4914f6cdd1dUL;
}

static uint64_t below(struct fuzz_cpu *c, uint64_t n)
{
	return rng_next(c) % n;
}

static uint64_t counter(void)
{
	uint64_t v;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v));
	return v;
}

static uint64_t counter_freq(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}

/* ---- the calls ---------------------------------------------------------- */

/* One SMCCC call through the given instruction; results in x0..x3. */
#define DEFINE_CALL(fn, insn)                                                             \
	static struct bm_smccc_res fn(uint64_t id, const uint64_t *a)                   \
	{                                                                                 \
		register uint64_t x0 __asm__("x0") = id;                                  \
		register uint64_t x1 __asm__("x1") = a[0];                                \
		register uint64_t x2 __asm__("x2") = a[1];                                \
		register uint64_t x3 __asm__("x3") = a[2];                                \
		register uint64_t x4 __asm__("x4") = a[3];                                \
		register uint64_t x5 __asm__("x5") = a[4];                                \
		register uint64_t x6 __asm__("x6") = a[5];                                \
		__asm__ volatile(insn                                                     \
				 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4),      \
				   "+r"(x5), "+r"(x6)                                     \
				 :                                                        \
				 : "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",   \
				   "x15", "x16", "x17", "memory");                        \
		return (struct bm_smccc_res){ x0, x1, x2, x3 };                           \
	}

/* The immediate is not part of the convention: the hypervisor must ignore it. */
DEFINE_CALL(call_hvc0, "hvc #0")
DEFINE_CALL(call_hvc1, "hvc #1")
DEFINE_CALL(call_hvc_max, "hvc #0xffff")
DEFINE_CALL(call_smc0, "smc #0")
DEFINE_CALL(call_smc1, "smc #0x1234")

static struct bm_smccc_res call_any(struct fuzz_cpu *c, uint64_t id, const uint64_t *a)
{
	switch (below(c, 10)) {
	case 0: return call_hvc1(id, a);
	case 1: return call_hvc_max(id, a);
	case 2: case 3: return call_smc0(id, a);
	case 4: return call_smc1(id, a);
	default: return call_hvc0(id, a);
	}
}

/* The calls that legitimately stop this vCPU or this VM (see the top). */
static bool excluded(uint32_t id)
{
	unsigned fn;

	if (!psci_fn(id, &fn))
		return false;
	switch (fn) {
	case PSCI_FN_CPU_SUSPEND: case PSCI_FN_CPU_OFF: case PSCI_FN_SYSTEM_OFF:
	case PSCI_FN_SYSTEM_RESET:
	/* CPU_FREEZE, CPU_DEFAULT_SUSPEND, SYSTEM_SUSPEND, SYSTEM_RESET2 */
	case 0xb: case 0xc: case 0xe: case 0x12:
		return true;
	}
	return false;
}

static uint64_t pick_id(struct fuzz_cpu *c)
{
	uint64_t r = below(c, 100), id;

	do {
		if (r < 55) {
			unsigned group = below(c, 8) ? (unsigned)below(c, NR_GROUPS) :
						       (unsigned)below(c, 256);
			unsigned fn = below(c, 8) && group < NR_GROUPS ?
					      (unsigned)below(c, group_last_fn[group] + 3U) :
					      (unsigned)below(c, 256);

			id = SHYPER_HVC(group, fn);
		} else if (r < 80) {
			id = (below(c, 2) ? PSCI_BASE32 : PSCI_BASE64) + below(c, PSCI_FN_MAX + 3);
		} else if (r < 88) {
			id = 0x80000000U | below(c, 4);
		} else {
			id = (uint32_t)rng_next(c);
		}
		r = below(c, 100);
	} while (excluded((uint32_t)id));
	/* SMCCC: the id is w0; what is above it must change nothing. */
	if (!below(c, 10))
		id |= rng_next(c) << 32;
	return id;
}

static uint64_t scratch_addr(struct fuzz_cpu *c)
{
	return (uint64_t)(uintptr_t)scratch + below(c, SCRATCH_SIZE - WRITE_MAX);
}

/* Addresses that are not this VM's RAM, and its RAM's edges. */
static const uint64_t addresses[] = {
	0x0, 0x1000, 0x08000000, 0x09000000, 0x0a000000, /* flash, GIC, UART, virtio */
	0x40000000, 0x40080000, 0x4fffffff,		   /* the hypervisor's image */
	0x50000000, 0x54000000, 0x5ffff000,		   /* the MVM's RAM (PA) */
	0x60000000, 0x70000000, 0x7ffff000, 0x7fffffff,	   /* other VMs', the channel */
	RAM_BASE + RAM_SIZE - 256, RAM_BASE + RAM_SIZE - 255, RAM_BASE + RAM_SIZE,
	0xc0000000, 0x100000000UL, 0x10000000000UL, 0xffff000000000000UL,
	0xfffffffffffff000UL,
};

static const uint64_t lengths[] = {
	0, 1, 2, 7, 8, 31, 32, 33, 255, 256, 257, 4095, 4096, 4097, 65536, 1U << 20,
	(1U << 20) + 1, 1UL << 31, 1UL << 32, 1UL << 40, 1UL << 63, ~0UL, ~0UL - 4095,
};

static uint64_t pick_arg(struct fuzz_cpu *c)
{
	switch (below(c, 14)) {
	case 0: return 0;
	case 1: return ~0UL;
	case 2: return below(c, 16);
	case 3: return 1UL << below(c, 64);
	case 4: return (1UL << below(c, 64)) - 1;
	case 5: return rng_next(c);
	case 6: return (uint32_t)rng_next(c);
	case 7: case 8: return scratch_addr(c);
	case 9: return addresses[below(c, sizeof(addresses) / sizeof(addresses[0]))] +
		       (below(c, 4) ? 0 : below(c, 8));
	case 10: return lengths[below(c, sizeof(lengths) / sizeof(lengths[0]))];
	case 11: /* VM ids: this one, the MVM, others, none, truncated to 32 bits */
		switch (below(c, 6)) {
		case 0: return self_id;
		case 1: return 0;
		case 2: return below(c, 8);
		case 3: return 8 + below(c, 256);
		case 4: return (1UL << 32) + below(c, 8);
		default: return ~0UL;
		}
	case 12: /* MPIDRs: ours, others, Aff1..Aff3, the U and MT bits */
		switch (below(c, 4)) {
		case 0: return below(c, MAX_VCPUS + 2);
		case 1: return (below(c, 4) << 8) | (below(c, 4) << 16) | (below(c, 2) << 32);
		case 2: return (1UL << 31) | (1UL << 24) | below(c, 4);
		default: return rng_next(c);
		}
	default: /* entry points: real code, unaligned, not executable, not ours */
		switch (below(c, 5)) {
		case 0: return (uint64_t)(uintptr_t)bm_park;
		case 1: return (uint64_t)(uintptr_t)bm_secondary_entry + 1;
		case 2: return (uint64_t)(uintptr_t)scratch;
		case 3: return 0x40000000;
		default: return rng_next(c) & ~3UL;
		}
	}
}

/* A value inside this VM's RAM but outside the scratch area (the program,
 * its stacks, its counters) becomes a scratch address: a call may write it. */
static uint64_t keep_out(struct fuzz_cpu *c, uint64_t v)
{
	uint64_t s = (uint64_t)(uintptr_t)scratch;

	if (v >= RAM_BASE && v < RAM_BASE + RAM_SIZE - WRITE_MAX &&
	    !(v >= s && v < s + SCRATCH_SIZE - WRITE_MAX))
		return scratch_addr(c);
	return v;
}

/* Whether the status x0 of call id is one the call may return. */
static enum result_class classify(uint32_t id, uint64_t x0)
{
	int64_t s = (int64_t)x0;
	unsigned fn;

	if (SHYPER_HVC_IS_OURS(id)) {
		switch (s) {
		case 0: return R_OK;
		case -SHYPER_ENOSYS: return R_ENOSYS;
		case -SHYPER_EPERM: return R_EPERM;
		case -SHYPER_EINVAL: return R_EINVAL;
		case -SHYPER_EFAULT: return R_EFAULT;
		}
		return s < 0 && s >= -4095 ? R_OTHER : R_INVALID;
	}
	if (psci_fn(id, &fn)) {
		if (fn == PSCI_FN_VERSION)
			return x0 == SMCCC_VERSION_1_1 ? R_OK : R_INVALID;
		if ((fn == PSCI_FN_AFFINITY_INFO || fn == PSCI_FN_MIGRATE_INFO_TYPE) &&
		    s >= 0 && s <= 2)
			return R_OK;
		if (fn == PSCI_FN_FEATURES && s >= 0 && s <= 0x7fffffff)
			return R_OK;
		if (s == PSCI_SUCCESS)
			return R_OK;
		if (s == PSCI_NOT_SUPPORTED)
			return R_ENOSYS;
		if (s == PSCI_INVALID_PARAMETERS)
			return R_EINVAL;
		if (s == PSCI_DENIED)
			return R_EPERM;
		return s < 0 && s >= PSCI_LAST_ERROR ? R_OTHER : R_INVALID;
	}
	if (id == SMCCC_VERSION)
		return x0 == SMCCC_VERSION_1_1 ? R_OK : R_INVALID;
	if (s == SMCCC_NOT_SUPPORTED)
		return R_ENOSYS;
	/* ARCH_FEATURES may say a workaround is there (0) or needed (1). */
	return id == SMCCC_ARCH_FEATURES && (s == 0 || s == 1) ? R_OK : R_INVALID;
}

static void fuzz_one(struct fuzz_cpu *c)
{
	uint64_t id = pick_id(c), a[6];
	struct bm_smccc_res r;
	enum result_class k;

	for (unsigned i = 0; i < 6; i++)
		a[i] = keep_out(c, pick_arg(c));
	if ((uint32_t)id == SHYPER_IVC_KEEPALIVE && a[0] >= SHYPER_IVC_PERIOD_MIN_MS &&
	    a[0] <= SHYPER_IVC_PERIOD_MAX_MS) {
		a[0] = SHYPER_IVC_PERIOD_MAX_MS;
		a[1] = 0;
	}
	r = call_any(c, id, a);
	k = classify((uint32_t)id, r.x0);
	if (k == R_INVALID && !c->counts[R_INVALID]) {
		c->first_invalid_fid = id;
		c->first_invalid_x0 = r.x0;
	}
	c->counts[k]++;
	c->calls++;
}

static void fuzz_loop(struct fuzz_cpu *c)
{
	for (uint64_t i = 0; !iterations || i < iterations; i++) {
		/* The counter is read every 64 calls: a trap each time costs. */
		if (deadline && !(i & 63) && counter() >= deadline)
			break;
		fuzz_one(c);
	}
}

static void secondary_main(void *arg)
{
	struct fuzz_cpu *c = arg;

	c->started = 1;
	while (!go)
		;
	fuzz_loop(c);
	__asm__ volatile("dmb sy" ::: "memory");
	c->done = 1;
	/* Stay on until vCPU 0 has the results: a CPU_ON aimed at a vCPU that
	 * is off would start it wherever the arguments say. */
	while (!release)
		;
	bm_hvc0(PSCI_BASE32 + PSCI_FN_CPU_OFF);
}

/* ---- set-up and report --------------------------------------------------- */

static bool parse_u64(const char *s, uint64_t *v)
{
	unsigned base = 10;
	uint64_t n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s || *s == ' ')
		return false;
	for (; *s && *s != ' '; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return false;
		n = n * base + d;
	}
	*v = n;
	return true;
}

/* "name=value" words of the command line. */
static void parse_args(const char *args, uint64_t *seed, uint64_t *iters, uint64_t *secs,
		       uint64_t *churn, uint64_t *reset_ms)
{
	static const struct {
		const char *name;
		unsigned len;
	} keys[] = { { "seed=", 5 }, { "iterations=", 11 }, { "seconds=", 8 }, { "churn=", 6 },
		     { "reset=", 6 } };
	uint64_t *dst[] = { seed, iters, secs, churn, reset_ms };

	while (*args) {
		for (unsigned k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			unsigned i = 0;

			while (i < keys[k].len && args[i] == keys[k].name[i])
				i++;
			if (i == keys[k].len && !parse_u64(args + i, dst[k]))
				bm_printf("%s: bad argument %s\n", bm_name, keys[k].name);
		}
		while (*args && *args != ' ')
			args++;
		while (*args == ' ')
			args++;
	}
}

/* The report: a line built in memory, then copied to the console and to the
 * channel (its bytes one at a time: the channel is Device memory to us). */
struct line {
	char buf[REPORT_LEN];
	unsigned len;
};

static void put_str(struct line *l, const char *s)
{
	while (*s && l->len + 1 < sizeof(l->buf))
		l->buf[l->len++] = *s++;
	l->buf[l->len] = 0;
}

static void put_num(struct line *l, uint64_t v, unsigned base)
{
	char digits[24];
	unsigned n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (base == 16)
		put_str(l, "0x");
	while (n && l->len + 1 < sizeof(l->buf))
		l->buf[l->len++] = digits[--n];
	l->buf[l->len] = 0;
}

static void publish(const struct line *l)
{
	volatile char *report = (volatile char *)REPORT_IPA;

	bm_printf("%s\n", l->buf);
	for (unsigned i = 0; i <= l->len; i++)
		report[i] = l->buf[i];
}

static unsigned count_vcpus(void)
{
	unsigned n = 1;

	/* AFFINITY_INFO answers INVALID_PARAMETERS for an MPIDR the VM lacks. */
	while (n < MAX_VCPUS &&
	       (int64_t)bm_hvc(PSCI_BASE64 + PSCI_FN_AFFINITY_INFO, n, 0, 0, 0, 0, 0).x0 >= 0)
		n++;
	return n;
}

static void start_secondaries(uint64_t seed)
{
	for (unsigned i = 0; i < nr_vcpus; i++) {
		struct fuzz_cpu *c = &cpus[i];

		c->rng = (seed ^ (0x9e3779b97f4a7c15UL * (i + 1))) | 1;
		if (!i)
			continue;
		c->boot.stack_top = (uint64_t)(uintptr_t)&stacks[i][STACK_SIZE];
		c->boot.fn = secondary_main;
		c->boot.arg = c;
		int64_t ret = bm_cpu_on(i, &c->boot);

		if (ret)
			bm_printf("%s: CPU_ON(%u) returned %ld\n", bm_name, i, ret);
		while (!ret && !c->started)
			;
	}
}

static void report(uint64_t seed)
{
	uint64_t total[R_NR] = { 0 }, calls = 0;
	struct line l = { .len = 0 };

	for (unsigned i = 0; i < nr_vcpus; i++) {
		/* A secondary that never started has nothing to wait for. */
		while (i && cpus[i].started && !cpus[i].done)
			;
		calls += cpus[i].calls;
		for (unsigned k = 0; k < R_NR; k++)
			total[k] += cpus[i].counts[k];
		if (cpus[i].counts[R_INVALID])
			bm_printf("%s: vcpu%u: first invalid status 0x%lx of call 0x%lx\n", bm_name,
				  i, cpus[i].first_invalid_x0, cpus[i].first_invalid_fid);
	}
	put_str(&l, "hvc-fuzz: done seed=");
	put_num(&l, seed, 16);
	put_str(&l, " vcpus=");
	put_num(&l, nr_vcpus, 10);
	put_str(&l, " calls=");
	put_num(&l, calls, 10);
	for (unsigned k = 0; k < R_NR; k++) {
		put_str(&l, " ");
		put_str(&l, class_names[k]);
		put_str(&l, "=");
		put_num(&l, total[k], 10);
	}
	publish(&l);
}

/* After the report: the secondaries off, then one started again at an
 * address outside the VM's memory, then the VM off with it spinning in
 * aborts. The hypervisor must stop it like any other. */
static void churn(uint64_t cycles);

static void wind_down(uint64_t cycles)
{
	uint64_t bad_entry = 0x40000000;

	release = 1;
	for (unsigned i = 1; i < nr_vcpus; i++) {
		while (cpus[i].started &&
		       bm_hvc(PSCI_BASE64 + PSCI_FN_AFFINITY_INFO, i, 0, 0, 0, 0, 0).x0 != PSCI_AFF_OFF)
			;
	}
	if (nr_vcpus > 1 && cycles)
		churn(cycles);
	if (nr_vcpus > 1) {
		int64_t ret;

		/* Right away, while vCPU 1's core may still be taking it off:
		 * the SYSTEM_OFF after it must stop it wherever it started. */
		ret = (int64_t)bm_hvc(PSCI_CPU_ON_64, 1, bad_entry, 0, 0, 0, 0).x0;

		bm_printf("%s: CPU_ON(1) at 0x%lx: %ld\n", bm_name, bad_entry, ret);
	}
	/* The keep-alive registration, if a random call left one. */
	bm_hvc(SHYPER_IVC_KEEPALIVE, 0, 0, 0, 0, 0, 0);
}

static void churn_main(void *arg)
{
	(void)arg;
	__atomic_fetch_add(&churn_starts, 1, __ATOMIC_SEQ_CST);
	bm_hvc0(PSCI_BASE32 + PSCI_FN_CPU_OFF);
}

static bool vcpu1_off(void)
{
	return bm_hvc(PSCI_BASE64 + PSCI_FN_AFFINITY_INFO, 1, 0, 0, 0, 0, 0).x0 == PSCI_AFF_OFF;
}

/*
 * vCPU 1 on and off, `cycles` times, each CPU_ON the moment it is seen off.
 * A start the hypervisor made twice, or lost, shows as starts != on.
 */
static void churn(uint64_t cycles)
{
	uint64_t on = 0;
	struct line l = { .len = 0 };

	churn_boot.stack_top = (uint64_t)(uintptr_t)&stacks[1][STACK_SIZE];
	churn_boot.fn = churn_main;
	for (uint64_t k = 0; k < cycles; k++) {
		if (bm_cpu_on(1, &churn_boot) == 0)
			on++;
		while (__atomic_load_n(&churn_starts, __ATOMIC_SEQ_CST) < on || !vcpu1_off())
			;
	}
	/* A start that comes late comes within this. */
	for (uint64_t end = counter() + counter_freq() / 10; counter() < end;)
		;
	put_str(&l, "hvc-fuzz: churn cycles=");
	put_num(&l, cycles, 10);
	put_str(&l, " on=");
	put_num(&l, on, 10);
	put_str(&l, " starts=");
	put_num(&l, __atomic_load_n(&churn_starts, __ATOMIC_SEQ_CST), 10);
	bm_printf("%s\n", l.buf);
}

int main(void);
int main(void)
{
	const char *args = bm_fdt_bootargs(bm_boot_x0);
	uint64_t seed = counter(), secs = 0, iters = ~0UL, cycles = 0, reset_ms = 0;
	struct line l = { .len = 0 };

	parse_args(args, &seed, &iters, &secs, &cycles, &reset_ms);
	if (iters == ~0UL)
		iters = secs ? 0 : DEFAULT_ITERATIONS;
	iterations = iters;
	deadline = secs ? counter() + secs * counter_freq() : 0;
	self_id = bm_hvc(SHYPER_VMM_GET_ID, 0, 0, 0, 0, 0, 0).x1;
	nr_vcpus = count_vcpus();

	put_str(&l, "hvc-fuzz: start seed=");
	put_num(&l, seed, 16);
	put_str(&l, " iterations=");
	put_num(&l, iters, 10);
	put_str(&l, " seconds=");
	put_num(&l, secs, 10);
	put_str(&l, " vcpus=");
	put_num(&l, nr_vcpus, 10);
	put_str(&l, " vm=");
	put_num(&l, self_id, 10);
	publish(&l);

	start_secondaries(seed);
	go = 1;
	fuzz_loop(&cpus[0]);
	report(seed);
	wind_down(cycles);
	if (reset_ms) {
		for (uint64_t end = counter() + counter_freq() / 1000 * reset_ms; counter() < end;)
			;
		bm_hvc0(PSCI_BASE32 + PSCI_FN_SYSTEM_RESET);
	}
	bm_system_off();
}
