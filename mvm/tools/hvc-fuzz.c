/*
 * shyper-hvc-fuzz: random hypercalls of the MVM-only groups through
 * /dev/shyper, from several threads at once, for a bounded number of calls
 * or seconds. What it never does, and why, is in hvc-fuzz-calls.c.
 *
 *   shyper-hvc-fuzz [-s seed] [-n calls per thread] [-t seconds]
 *                   [-j threads] [-x] [-v]
 *
 * -x: the board is the fuzzer's: also the calls that disturb other users of
 * board-wide facilities (scope EXCL). -v: each call on stderr before it is
 * made. Thread k draws from the seed and k; the interleaving of the threads
 * is not replayed.
 *
 * Now and then a thread builds a VM of its own the way the CLI would (with
 * some steps mutated): a WFI loop or random code as its kernel, on a core
 * of cores 1..3 if one is free; the VMM and migration calls then have a
 * live VM to work on. At the end every VM it created is shut down and
 * removed.
 *
 * Output: "shyper-hvc-fuzz: start seed=..." and "shyper-hvc-fuzz: done
 * seed=... calls=... ok=... enosys=... eperm=... einval=... efault=...
 * other=... invalid=... ioctl_errors=... vms_created=... vms_booted=...
 * vms_left=...". Exit status 1 if a call returned what the ABI does not
 * allow (invalid), an ioctl failed or a VM of ours could not be removed.
 */
#include "hvc-fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/ivc.h>

#define MAX_THREADS 16
/* VMs of ours at once: the rest of the board's slots stay free. */
#define OWN_LIMIT 2
#define GUEST_RAM 0x80000000UL

struct fuzz_config fuzz_cfg;

static uint64_t iterations = 20000, seconds, seed;
static struct timespec end_time;
static uint64_t vms_created, vms_booted;

static const char *const class_names[R_NR] = {
	"ok", "enosys", "eperm", "einval", "efault", "other", "invalid",
};

static bool past_end(void)
{
	struct timespec now;

	if (!seconds)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > end_time.tv_sec ||
	       (now.tv_sec == end_time.tv_sec && now.tv_nsec >= end_time.tv_nsec);
}

/* One call: buf_arg 0 for none, else x<buf_arg> is the bounce buffer. */
static int64_t issue(struct fuzzer *f, uint32_t fid, uint64_t *args, unsigned buf_arg,
		     uint64_t buf_len, uint32_t dir, uint64_t *ret)
{
	struct shyper_ioc_hvc h = { .fid = fid };
	enum result_class k;

	memcpy(&h.args[1], args, 6 * sizeof(uint64_t));
	if (buf_arg) {
		h.buf_arg = buf_arg;
		h.buf = (uintptr_t)f->buf;
		h.buf_len = buf_len;
		h.buf_dir = dir;
	}
	if (fuzz_cfg.verbose)
		fprintf(stderr, "t%u: 0x%08x %#" PRIx64 " %#" PRIx64 " %#" PRIx64 " %#" PRIx64
				" %#" PRIx64 " %#" PRIx64 " buf x%u %" PRIu64 "\n",
			f->id, fid, args[0], args[1], args[2], args[3], args[4], args[5],
			buf_arg, buf_len);
	f->calls++;
	if (ioctl(fuzz_cfg.fd, SHYPER_IOC_HVC, &h)) {
		f->ioctl_errors++;
		fprintf(stderr, "shyper-hvc-fuzz: ioctl(0x%08x): %s\n", fid, strerror(errno));
		return -SHYPER_EINVAL;
	}
	k = fuzz_classify((int64_t)h.ret[0]);
	if (k == R_INVALID && !f->counts[R_INVALID]) {
		f->invalid_fid = fid;
		f->invalid_x0 = h.ret[0];
	}
	f->counts[k]++;
	if (ret)
		memcpy(ret, h.ret, sizeof(h.ret));
	/* A VM that came out of any call is ours to clean up. */
	if (fid == SHYPER_CFG_ADD_VM && !h.ret[0]) {
		own_add((uint32_t)h.ret[1]);
		__atomic_add_fetch(&vms_created, 1, __ATOMIC_RELAXED);
	}
	return (int64_t)h.ret[0];
}

/* A random call of the table, arguments by kind, VM ids by scope. */
static void fuzz_known(struct fuzzer *f, const struct call_spec *c)
{
	uint64_t args[6], buf_len = 0, ret[4];
	uint32_t ids[OWN_LIMIT];
	unsigned buf_arg = 0;
	bool remove = c->fid == SHYPER_VMM_REMOVE, locked = c->scope == OWN;

	if (locked)
		own_lock(remove);
	for (unsigned i = 0; i < 6; i++)
		args[i] = fuzz_arg(f, c, i);
	/* The console's STATS op reads only: any VM. */
	if (c->fid == SHYPER_VMM_CONSOLE && !fuzz_below(f, 3)) {
		args[1] = SHYPER_CONSOLE_STATS;
		args[0] = fuzz_below(f, 9);
	}
	/* Past our share of the board's VM slots, ADD_VM only gets buffers it
	 * must refuse. */
	if (c->buf_arg && fuzz_below(f, 8) < 5 &&
	    (c->fid != SHYPER_CFG_ADD_VM || own_list(ids, OWN_LIMIT) < OWN_LIMIT)) {
		buf_arg = c->buf_arg;
		buf_len = c->buf_dir & SHYPER_BUF_IN ? fuzz_fill(f, c) :
						       (fuzz_below(f, 2) ? 4096 : SHYPER_IOC_BUF_MAX);
	}
	issue(f, c->fid, args, buf_arg, buf_len, c->buf_dir, ret);
	if (remove && !ret[0] && own_has((uint32_t)args[0]) && args[0] == (uint32_t)args[0])
		own_del((uint32_t)args[0]);
	if (locked)
		own_unlock();
}

/* Function numbers past each group's last, and groups that do not exist:
 * raw arguments only (no buffer: a future call might write one). */
static void fuzz_unknown(struct fuzzer *f)
{
	static const struct call_spec raw = { 0, "unknown", SAFE, 0, 0, F_BYTES, { 0 } };
	unsigned group = (unsigned)fuzz_below(f, 8) ? (unsigned)fuzz_below(f, 8) :
						      (unsigned)fuzz_below(f, 256);
	int last = fuzz_group_last(group);
	unsigned fn = (unsigned)(last + 1) + (unsigned)fuzz_below(f, 255 - (unsigned)last);
	uint64_t args[6];

	for (unsigned i = 0; i < 6; i++)
		args[i] = fuzz_arg(f, &raw, i);
	issue(f, SHYPER_HVC(group, fn), args, 0, 0, 0, 0);
}

static void set_args(uint64_t *a, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		     uint64_t a4)
{
	a[0] = a0, a[1] = a1, a[2] = a2, a[3] = a3, a[4] = a4, a[5] = 0;
}

/* A VM built the way the CLI builds one, a step now and then mutated. */
static void build_vm(struct fuzzer *f)
{
	const struct call_spec *add = fuzz_find(SHYPER_CFG_ADD_VM);
	uint64_t a[6], ret[4], len;
	unsigned core = 1 + (unsigned)fuzz_below(f, 3);
	struct shyper_emu_dev *dev = (void *)f->buf;
	struct shyper_image_desc *img = (void *)f->buf;
	uint32_t id;

	own_lock(false);
	len = fuzz_fill(f, add);
	set_args(a, 0, len, 0, 0, 0);
	if (issue(f, SHYPER_CFG_ADD_VM, a, 1, len, SHYPER_BUF_IN, ret))
		goto out;
	id = (uint32_t)ret[1];
	set_args(a, id, 1, 1UL << core, core, 0);
	if (!fuzz_below(f, 8))
		a[1 + fuzz_below(f, 4)] = fuzz_arg(f, fuzz_find(SHYPER_CFG_SET_CPU), 1);
	issue(f, SHYPER_CFG_SET_CPU, a, 0, 0, 0, 0);
	set_args(a, id, GUEST_RAM, fuzz_below(f, 2) ? 0x200000 : 0x400000, 0, 0);
	issue(f, SHYPER_CFG_ADD_MEM, a, 0, 0, 0, 0);
	for (unsigned i = 0; i < 2; i++) {
		memset(dev, 0, sizeof(*dev));
		strcpy(dev->name, i ? "uart" : "gicd");
		dev->type = i ? SHYPER_EMU_CONSOLE : SHYPER_EMU_GICD;
		dev->base_ipa = i ? 0x09000000 : 0x08000000;
		dev->length = i ? 0x1000 : 0x10000;
		dev->irq_id = i ? 33 : 0;
		set_args(a, id, 0, sizeof(*dev), 0, 0);
		issue(f, SHYPER_CFG_ADD_EMU_DEV, a, 2, sizeof(*dev), SHYPER_BUF_IN, 0);
	}
	*img = (struct shyper_image_desc){ .kernel_load_ipa = GUEST_RAM + 0x200000,
					   .kernel_entry = GUEST_RAM + 0x200000,
					   .kernel_size = 4096, .dtb_load_ipa = GUEST_RAM };
	set_args(a, id, 0, sizeof(*img), 0, 0);
	issue(f, SHYPER_CFG_SET_IMAGE, a, 2, sizeof(*img), SHYPER_BUF_IN, 0);
	len = fuzz_fill(f, fuzz_find(SHYPER_CFG_UPLOAD));
	set_args(a, id, SHYPER_IMAGE_KERNEL, 0, 0, len);
	issue(f, SHYPER_CFG_UPLOAD, a, 4, len, SHYPER_BUF_IN, 0);
	set_args(a, id, 0, 0, 0, 0);
	if (issue(f, SHYPER_CFG_FINISH, a, 0, 0, 0, 0) || fuzz_below(f, 4) == 0)
		goto out;
	if (!issue(f, SHYPER_VMM_BOOT, a, 0, 0, 0, 0))
		__atomic_add_fetch(&vms_booted, 1, __ATOMIC_RELAXED);
out:
	own_unlock();
}

static void *thread_main(void *arg)
{
	struct fuzzer *f = arg;
	uint32_t ids[OWN_LIMIT + 8];

	for (uint64_t i = 0; (!iterations || i < iterations) && !past_end(); i++) {
		unsigned r = (unsigned)fuzz_below(f, 100);
		const struct call_spec *c;

		if (r < 3 && own_list(ids, OWN_LIMIT + 8) < OWN_LIMIT) {
			build_vm(f);
			continue;
		}
		if (r < 10) {
			fuzz_unknown(f);
			continue;
		}
		c = &fuzz_calls[fuzz_below(f, fuzz_nr_calls)];
		if (c->scope == NEVER || (c->scope == EXCL && !fuzz_cfg.exclusive))
			continue;
		/* A REMOVE of ours now and then makes room for another build. */
		fuzz_known(f, c);
	}
	return 0;
}

/* Every VM of ours shut down and removed; returns how many are left. */
static unsigned clean_up(struct fuzzer *f)
{
	uint32_t ids[256];
	unsigned n, left = 0;
	uint64_t a[6];

	own_lock(true);
	n = own_list(ids, 256);
	for (unsigned i = 0; i < n; i++) {
		set_args(a, ids[i], 0, 0, 0, 0);
		issue(f, SHYPER_MIG_RESUME, a, 0, 0, 0, 0);
		issue(f, SHYPER_MIG_DIRTY_STOP, a, 0, 0, 0, 0);
		issue(f, SHYPER_VMM_SHUTDOWN, a, 0, 0, 0, 0);
		if (issue(f, SHYPER_VMM_REMOVE, a, 0, 0, 0, 0)) {
			fprintf(stderr, "shyper-hvc-fuzz: vm%u of ours could not be removed\n",
				ids[i]);
			left++;
		} else {
			own_del(ids[i]);
		}
	}
	own_unlock();
	if (fuzz_cfg.exclusive) {
		/* What a random call may have left: the MVM's keep-alive. */
		set_args(a, 0, 0, 0, 0, 0);
		issue(f, SHYPER_IVC_KEEPALIVE, a, 0, 0, 0, 0);
	}
	return left;
}

/* The MVM's RAM: the top-level "System RAM" ranges of /proc/iomem. */
static int read_ram(void)
{
	FILE *io = fopen("/proc/iomem", "r");
	char line[256];
	uint64_t ret[4], a[6] = { 0 };

	if (!io)
		return -1;
	while (fgets(line, sizeof(line), io) && fuzz_cfg.nr_ram < 8) {
		unsigned long long s, e;

		if (line[0] != ' ' && strstr(line, ": System RAM") &&
		    sscanf(line, "%llx-%llx", &s, &e) == 2 && e > s) {
			fuzz_cfg.ram_start[fuzz_cfg.nr_ram] = s;
			fuzz_cfg.ram_end[fuzz_cfg.nr_ram++] = e + 1;
		}
	}
	fclose(io);
	/* Without addresses (not root) every range would read as 0-0. */
	if (!fuzz_cfg.nr_ram || !fuzz_cfg.ram_start[0])
		return -1;
	/* The board's RAM end, from the hypervisor (QEMU virt: RAM at 1 GiB). */
	struct fuzzer tmp = { .buf = calloc(1, SHYPER_IOC_BUF_MAX) };
	struct shyper_sys_info *info = (void *)tmp.buf;

	a[1] = sizeof(*info);
	fuzz_cfg.board_ram_end = 0x80000000UL;
	if (tmp.buf && !issue(&tmp, SHYPER_SYS_INFO, a, 1, sizeof(*info), SHYPER_BUF_OUT, ret))
		fuzz_cfg.board_ram_end = 0x40000000UL + info->total_ram;
	free(tmp.buf);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: shyper-hvc-fuzz [-s seed] [-n calls per thread] [-t seconds] "
			"[-j threads] [-x] [-v]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct fuzzer fz[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	uint64_t total[R_NR] = { 0 }, calls = 0, ioctl_errors = 0;
	unsigned threads = 4, left;
	struct fuzzer cleaner = { 0 };
	int opt;

	seed = (uint64_t)time(0) ^ ((uint64_t)getpid() << 32);
	while ((opt = getopt(argc, argv, "s:n:t:j:xv")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, 0, 0); break;
		case 'n': iterations = strtoull(optarg, 0, 0); break;
		case 't': seconds = strtoull(optarg, 0, 0); break;
		case 'j': threads = (unsigned)strtoul(optarg, 0, 0); break;
		case 'x': fuzz_cfg.exclusive = true; break;
		case 'v': fuzz_cfg.verbose = true; break;
		default: return usage();
		}
	}
	if (optind != argc || !threads || threads > MAX_THREADS)
		return usage();
	fuzz_cfg.fd = open(SHYPER_DEVICE, O_RDWR);
	if (fuzz_cfg.fd < 0) {
		perror(SHYPER_DEVICE);
		return 1;
	}
	if (read_ram()) {
		fprintf(stderr, "shyper-hvc-fuzz: the MVM's RAM is not in /proc/iomem (root?)\n");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &end_time);
	end_time.tv_sec += (time_t)seconds;
	printf("shyper-hvc-fuzz: start seed=%#" PRIx64 " threads=%u calls=%" PRIu64
	       " seconds=%" PRIu64 " exclusive=%d mvm_ram=%#" PRIx64 "-%#" PRIx64 "\n",
	       seed, threads, iterations, seconds, fuzz_cfg.exclusive, fuzz_cfg.ram_start[0],
	       fuzz_cfg.ram_end[0]);
	fflush(stdout);
	for (unsigned i = 0; i < threads; i++) {
		fz[i] = (struct fuzzer){ .id = i,
					 .rng = (seed ^ (0x9e3779b97f4a7c15UL * (i + 1))) | 1,
					 .buf = malloc(SHYPER_IOC_BUF_MAX) };
		if (!fz[i].buf || pthread_create(&th[i], 0, thread_main, &fz[i])) {
			fprintf(stderr, "shyper-hvc-fuzz: cannot start thread %u\n", i);
			return 1;
		}
	}
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(th[i], 0);
		calls += fz[i].calls;
		ioctl_errors += fz[i].ioctl_errors;
		for (unsigned k = 0; k < R_NR; k++)
			total[k] += fz[i].counts[k];
		if (fz[i].counts[R_INVALID])
			printf("shyper-hvc-fuzz: thread %u: first invalid status %#" PRIx64
			       " of call 0x%08" PRIx64 "\n", i, fz[i].invalid_x0, fz[i].invalid_fid);
	}
	cleaner.buf = fz[0].buf;
	left = clean_up(&cleaner);
	printf("shyper-hvc-fuzz: done seed=%#" PRIx64 " threads=%u calls=%" PRIu64, seed,
	       threads, calls);
	for (unsigned k = 0; k < R_NR; k++)
		printf(" %s=%" PRIu64, class_names[k], total[k]);
	printf(" ioctl_errors=%" PRIu64 " vms_created=%" PRIu64 " vms_booted=%" PRIu64
	       " vms_left=%u\n", ioctl_errors + cleaner.ioctl_errors, vms_created, vms_booted,
	       left);
	return total[R_INVALID] || ioctl_errors || cleaner.ioctl_errors || left ? 1 : 0;
}
