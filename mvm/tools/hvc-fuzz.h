/*
 * shyper-hvc-fuzz (mvm/tools/hvc-fuzz*.c): random hypercalls of the
 * MVM-only groups through /dev/shyper. hvc-fuzz-calls.c knows the calls
 * (their arguments and what each may touch), hvc-fuzz-args.c draws
 * arguments and buffers, hvc-fuzz.c runs the threads and reports.
 */
#ifndef HVC_FUZZ_H
#define HVC_FUZZ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <shyper/ioctl.h>

/*
 * What a call may touch, which decides on which VM ids and boards it runs:
 *   SAFE   reads, or changes only what the call itself creates
 *   READ   reads the VM named by x1: any VM
 *   OWN    changes the VM named by x1: only VMs this run created, and ids
 *          the hypervisor must refuse (the MVM where documented, ids no VM
 *          can have, ids that alias one only when truncated to 32 bits)
 *   EXCL   disturbs other users of a board-wide facility (events, the MVM's
 *          IVC queue and channels, mediated disks, the update slot): only
 *          with -x, which says the board is the fuzzer's
 *   NEVER  legitimately takes the board down or replaces the hypervisor
 */
enum scope { SAFE, READ, OWN, EXCL, NEVER };

/* What an argument is. */
enum arg_kind {
	K_ANY,	 /* anything, filtered (see fuzz_keep_out) */
	K_VM,	 /* a VM id, chosen by the call's scope */
	K_BUF,	 /* the bounce buffer or a raw address outside the MVM's RAM */
	K_LEN,	 /* a length: boundaries, structure sizes, huge, wrapping */
	K_SMALL, /* an index, kind, op or flag word */
	K_IPA,	 /* a guest-physical address */
	K_PTPA,	 /* a passthrough PA the hypervisor must refuse (RAM, its GIC) */
};

/* What an input buffer holds (a mutated valid structure, or bytes). */
enum fill {
	F_BYTES, F_VM_DESC, F_IMAGE_DESC, F_EMU_DEV, F_DTB_DEV, F_CHAN_DESC, F_KERNEL,
};

struct call_spec {
	uint32_t fid;
	const char *name;
	enum scope scope;
	uint8_t buf_arg; /* 1..6: the argument that may be the bounce buffer */
	uint8_t buf_dir; /* SHYPER_BUF_IN / OUT */
	enum fill fill;
	uint8_t kind[6];
};

enum result_class { R_OK, R_ENOSYS, R_EPERM, R_EINVAL, R_EFAULT, R_OTHER, R_INVALID, R_NR };

/* A thread's state: its generator and its counts. */
struct fuzzer {
	uint64_t rng;
	unsigned id;
	uint64_t calls, counts[R_NR], ioctl_errors, invalid_fid, invalid_x0;
	uint8_t *buf; /* SHYPER_IOC_BUF_MAX bytes */
};

/* Settings shared by every thread (set before they start). */
struct fuzz_config {
	int fd;
	bool exclusive;
	bool verbose;
	/* The MVM's RAM (identity mapped: physical addresses), from /proc/iomem. */
	unsigned nr_ram;
	uint64_t ram_start[8], ram_end[8];
	uint64_t board_ram_end;
};

extern struct fuzz_config fuzz_cfg;

uint64_t fuzz_rand(struct fuzzer *f);
uint64_t fuzz_below(struct fuzzer *f, uint64_t n);

/* hvc-fuzz-calls.c */
extern const struct call_spec fuzz_calls[];
extern const unsigned fuzz_nr_calls;
const struct call_spec *fuzz_find(uint32_t fid);
/* The last known function number of a group, or -1 for an unknown group. */
int fuzz_group_last(unsigned group);
enum result_class fuzz_classify(int64_t x0);

/* The VMs this run created, which OWN calls may change. A call on one holds
 * the registry shared; REMOVE holds it exclusive, so that no call of ours
 * reaches an id that was freed and given to someone else. */
void own_lock(bool exclusive);
void own_unlock(void);
bool own_has(uint32_t id);
void own_add(uint32_t id);
void own_del(uint32_t id);
unsigned own_list(uint32_t *ids, unsigned max);
/* A random one (locked or not: ids only change under the exclusive lock). */
bool own_pick(struct fuzzer *f, uint32_t *id);

/* hvc-fuzz-args.c */
uint64_t fuzz_arg(struct fuzzer *f, const struct call_spec *c, unsigned i);
uint64_t fuzz_foreign_addr(struct fuzzer *f);
bool fuzz_in_mvm_ram(uint64_t v);
/* Fills the bounce buffer for an input call; returns the bytes to pass. */
uint64_t fuzz_fill(struct fuzzer *f, const struct call_spec *c);

#endif
