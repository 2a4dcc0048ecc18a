/*
 * The calls shyper-hvc-fuzz makes, with what each argument is and what the
 * call may touch (enum scope in hvc-fuzz.h). Excluded, and why:
 *
 *   NEVER: SYS_REBOOT and SYS_SHUTDOWN (the board resets or powers off),
 *     UPD_APPLY and UPD_ROLLBACK (the hypervisor is replaced).
 *   OWN, so only on VMs this run created (or ids the hypervisor must
 *     refuse): everything that changes a VM: VMM_BOOT, SHUTDOWN, REBOOT,
 *     REMOVE; VMM_CONSOLE except its STATS op (READ takes the guest's output
 *     from its reader, WRITE types into its console, ATTACH and DETACH take
 *     or drop the one reader's place); every config step (another VM being
 *     configured, or an incoming migration's, would be spoiled); the
 *     migration calls except MEM_READ and IMAGE_READ (PAUSE, RESUME, the
 *     dirty log, its THROTTLE, MEM_WRITE, STATE_LOAD change a VM; DIRTY_FETCH clears a
 *     migration's marks; STATE_SAVE is kept with them); IVC_ADD_CHANNEL,
 *     whose peer is also one of ours, the MVM or no VM (a channel maps
 *     memory into the peer).
 *   EXCL, only with -x (the board is the fuzzer's): SYS_NOTIFY (pops the
 *     events shyper.ko's readers wait for), IVC SEND, BROADCAST, ACK, NOTIFY
 *     and KEEPALIVE (fill a guest's queue, drop the MVM's messages, ring
 *     doorbells, replace the MVM's keep-alive), the mediated group (a
 *     daemon's disks: FETCH takes a guest's request, COMPLETE ends one,
 *     UNREGISTER fails them), UPD_BEGIN, CHUNK, CHECK, CANCEL (one upload
 *     slot for the board; BEGIN drops the image kept for a rollback).
 *
 * Raw addresses never fall in the MVM's own RAM (hvc-fuzz-args.c): a call
 * told to write there would legitimately overwrite the MVM's kernel.
 * Config lengths come from a table with no value between 1 MiB and 2 GiB,
 * so that a step that succeeds takes at most a few MiB from the board.
 */
#include "hvc-fuzz.h"

#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/ivc.h>
#include <shyper/mediated.h>

#define IN SHYPER_BUF_IN
#define OUT SHYPER_BUF_OUT
#define A K_ANY
#define V K_VM
#define B K_BUF
#define L K_LEN
#define S K_SMALL
#define I K_IPA

const struct call_spec fuzz_calls[] = {
	{ SHYPER_SYS_VERSION, "SYS_VERSION", SAFE, 0, 0, F_BYTES, { A, A, A, A, A, A } },
	{ SHYPER_SYS_INFO, "SYS_INFO", SAFE, 1, OUT, F_BYTES, { B, L, A, A, A, A } },
	{ SHYPER_SYS_REBOOT, "SYS_REBOOT", NEVER, 0, 0, F_BYTES, { A } },
	{ SHYPER_SYS_SHUTDOWN, "SYS_SHUTDOWN", NEVER, 0, 0, F_BYTES, { A } },
	{ SHYPER_SYS_NOTIFY, "SYS_NOTIFY", EXCL, 0, 0, F_BYTES, { A, A, A, A, A, A } },

	{ SHYPER_VMM_GET_ID, "VMM_GET_ID", SAFE, 0, 0, F_BYTES, { A, A, A, A, A, A } },
	{ SHYPER_VMM_LIST, "VMM_LIST", SAFE, 1, OUT, F_BYTES, { B, L, A, A, A, A } },
	{ SHYPER_VMM_INFO, "VMM_INFO", READ, 2, OUT, F_BYTES, { V, B, L, A, A, A } },
	{ SHYPER_VMM_BOOT, "VMM_BOOT", OWN, 0, 0, F_BYTES, { V, A, A, A, A, A } },
	{ SHYPER_VMM_SHUTDOWN, "VMM_SHUTDOWN", OWN, 0, 0, F_BYTES, { V, A, A, A, A, A } },
	{ SHYPER_VMM_REBOOT, "VMM_REBOOT", OWN, 0, 0, F_BYTES, { V, A, A, A, A, A } },
	{ SHYPER_VMM_REMOVE, "VMM_REMOVE", OWN, 0, 0, F_BYTES, { V, A, A, A, A, A } },
	{ SHYPER_VMM_VCPU_INFO, "VMM_VCPU_INFO", READ, 3, OUT, F_BYTES, { V, S, B, L, A, A } },
	/* Its STATS op (4) only reads: hvc-fuzz.c lets it reach any VM. */
	{ SHYPER_VMM_CONSOLE, "VMM_CONSOLE", OWN, 3, IN | OUT, F_BYTES, { V, S, B, L, A, A } },
	{ SHYPER_VMM_NET_INFO, "VMM_NET_INFO", READ, 2, OUT, F_BYTES, { V, B, L, S, A, A } },
	{ SHYPER_VMM_UPTIME, "VMM_UPTIME", READ, 0, 0, F_BYTES, { V, A, A, A, A, A } },

	{ SHYPER_CFG_ADD_VM, "CFG_ADD_VM", SAFE, 1, IN, F_VM_DESC, { B, L, A, A, A, A } },
	{ SHYPER_CFG_SET_CPU, "CFG_SET_CPU", OWN, 0, 0, F_BYTES, { V, S, S, S, L, A } },
	{ SHYPER_CFG_ADD_MEM, "CFG_ADD_MEM", OWN, 0, 0, F_BYTES, { V, I, L, A, A, A } },
	{ SHYPER_CFG_ADD_EMU_DEV, "CFG_ADD_EMU_DEV", OWN, 2, IN, F_EMU_DEV, { V, B, L, A, A, A } },
	{ SHYPER_CFG_ADD_PT_REGION, "CFG_ADD_PT_REGION", OWN, 0, 0, F_BYTES,
	  { V, K_PTPA, I, L, A, A } },
	{ SHYPER_CFG_ADD_PT_IRQ, "CFG_ADD_PT_IRQ", OWN, 0, 0, F_BYTES, { V, A, A, A, A, A } },
	{ SHYPER_CFG_ADD_DTB_DEV, "CFG_ADD_DTB_DEV", OWN, 2, IN, F_DTB_DEV, { V, B, L, A, A, A } },
	{ SHYPER_CFG_SET_IMAGE, "CFG_SET_IMAGE", OWN, 2, IN, F_IMAGE_DESC, { V, B, L, A, A, A } },
	{ SHYPER_CFG_UPLOAD, "CFG_UPLOAD", OWN, 4, IN, F_KERNEL, { V, S, L, B, L, A } },
	{ SHYPER_CFG_FINISH, "CFG_FINISH", OWN, 0, 0, F_BYTES, { V, A, A, A, A, A } },
	{ SHYPER_CFG_ADD_PT_STREAM, "CFG_ADD_PT_STREAM", OWN, 0, 0, F_BYTES, { V, S, A, A, A, A } },

	{ SHYPER_IVC_SEND, "IVC_SEND", EXCL, 2, IN, F_BYTES, { V, B, L, A, A, A } },
	{ SHYPER_IVC_BROADCAST, "IVC_BROADCAST", EXCL, 1, IN, F_BYTES, { B, L, A, A, A, A } },
	{ SHYPER_IVC_RECV, "IVC_RECV", SAFE, 1, OUT, F_BYTES, { B, L, A, A, A, A } },
	{ SHYPER_IVC_ACK, "IVC_ACK", EXCL, 0, 0, F_BYTES, { A, A, A, A, A, A } },
	{ SHYPER_IVC_NOTIFY, "IVC_NOTIFY", EXCL, 0, 0, F_BYTES, { S, A, A, A, A, A } },
	{ SHYPER_IVC_KEEPALIVE, "IVC_KEEPALIVE", EXCL, 0, 0, F_BYTES, { L, S, A, A, A, A } },
	{ SHYPER_IVC_HEARTBEAT, "IVC_HEARTBEAT", SAFE, 0, 0, F_BYTES, { A, A, A, A, A, A } },
	{ SHYPER_IVC_TIME, "IVC_TIME", SAFE, 0, 0, F_BYTES, { A, A, A, A, A, A } },
	{ SHYPER_IVC_CHANNEL_INFO, "IVC_CHANNEL_INFO", SAFE, 2, OUT, F_BYTES,
	  { S, B, L, A, A, A } },
	{ SHYPER_IVC_ADD_CHANNEL, "IVC_ADD_CHANNEL", OWN, 2, IN, F_CHAN_DESC,
	  { V, B, L, A, A, A } },

	{ SHYPER_MED_REGISTER, "MED_REGISTER", EXCL, 0, 0, F_BYTES, { S, L, S, A, A, A } },
	{ SHYPER_MED_UNREGISTER, "MED_UNREGISTER", EXCL, 0, 0, F_BYTES, { S, A, A, A, A, A } },
	{ SHYPER_MED_FETCH, "MED_FETCH", EXCL, 1, OUT, F_BYTES, { B, L, A, A, A, A } },
	{ SHYPER_MED_COMPLETE, "MED_COMPLETE", EXCL, 3, IN, F_BYTES, { A, S, B, L, A, A } },

	{ SHYPER_MIG_PAUSE, "MIG_PAUSE", OWN, 0, 0, F_BYTES, { V, A, A, A, A, A } },
	{ SHYPER_MIG_RESUME, "MIG_RESUME", OWN, 0, 0, F_BYTES, { V, A, A, A, A, A } },
	{ SHYPER_MIG_DIRTY_START, "MIG_DIRTY_START", OWN, 0, 0, F_BYTES, { V, A, A, A, A, A } },
	{ SHYPER_MIG_DIRTY_STOP, "MIG_DIRTY_STOP", OWN, 0, 0, F_BYTES, { V, A, A, A, A, A } },
	{ SHYPER_MIG_DIRTY_FETCH, "MIG_DIRTY_FETCH", OWN, 3, OUT, F_BYTES, { V, I, B, L, A, A } },
	{ SHYPER_MIG_MEM_READ, "MIG_MEM_READ", READ, 3, OUT, F_BYTES, { V, I, B, L, A, A } },
	{ SHYPER_MIG_MEM_WRITE, "MIG_MEM_WRITE", OWN, 3, IN, F_BYTES, { V, I, B, L, A, A } },
	{ SHYPER_MIG_STATE_SAVE, "MIG_STATE_SAVE", OWN, 2, OUT, F_BYTES, { V, B, L, A, A, A } },
	{ SHYPER_MIG_STATE_LOAD, "MIG_STATE_LOAD", OWN, 2, IN, F_BYTES, { V, B, L, A, A, A } },
	{ SHYPER_MIG_IMAGE_READ, "MIG_IMAGE_READ", READ, 3, OUT, F_BYTES, { V, S, B, L, L, A } },
	{ SHYPER_MIG_THROTTLE, "MIG_THROTTLE", OWN, 0, 0, F_BYTES, { V, L, A, A, A, A } },

	{ SHYPER_UPD_BEGIN, "UPD_BEGIN", EXCL, 0, 0, F_BYTES, { L, A, A, A, A, A } },
	{ SHYPER_UPD_CHUNK, "UPD_CHUNK", EXCL, 2, IN, F_BYTES, { L, B, L, A, A, A } },
	{ SHYPER_UPD_CHECK, "UPD_CHECK", EXCL, 1, OUT, F_BYTES, { B, L, A, A, A, A } },
	{ SHYPER_UPD_APPLY, "UPD_APPLY", NEVER, 0, 0, F_BYTES, { A } },
	{ SHYPER_UPD_STATUS, "UPD_STATUS", SAFE, 1, OUT, F_BYTES, { B, L, A, A, A, A } },
	{ SHYPER_UPD_ROLLBACK, "UPD_ROLLBACK", NEVER, 0, 0, F_BYTES, { A } },
	{ SHYPER_UPD_CANCEL, "UPD_CANCEL", EXCL, 0, 0, F_BYTES, { A, A, A, A, A, A } },
};

const unsigned fuzz_nr_calls = sizeof(fuzz_calls) / sizeof(fuzz_calls[0]);

const struct call_spec *fuzz_find(uint32_t fid)
{
	for (unsigned i = 0; i < fuzz_nr_calls; i++)
		if (fuzz_calls[i].fid == fid)
			return &fuzz_calls[i];
	return 0;
}

int fuzz_group_last(unsigned group)
{
	int last = -1;

	for (unsigned i = 0; i < fuzz_nr_calls; i++)
		if (SHYPER_HVC_GROUP(fuzz_calls[i].fid) == group &&
		    (int)SHYPER_HVC_FN(fuzz_calls[i].fid) > last)
			last = (int)SHYPER_HVC_FN(fuzz_calls[i].fid);
	return last;
}

/* The ABI: x0 is 0 or a negative SHYPER_E* code, and nothing else. */
enum result_class fuzz_classify(int64_t x0)
{
	switch (x0) {
	case 0: return R_OK;
	case -SHYPER_ENOSYS: return R_ENOSYS;
	case -SHYPER_EPERM: return R_EPERM;
	case -SHYPER_EINVAL: return R_EINVAL;
	case -SHYPER_EFAULT: return R_EFAULT;
	}
	return x0 < 0 && x0 >= -4095 ? R_OTHER : R_INVALID;
}

/* ---- the VMs this run created -------------------------------------------- */

#define OWN_MAX 256

static pthread_rwlock_t own_rw = PTHREAD_RWLOCK_INITIALIZER;
static bool own_set[OWN_MAX];

void own_lock(bool exclusive)
{
	if (exclusive)
		pthread_rwlock_wrlock(&own_rw);
	else
		pthread_rwlock_rdlock(&own_rw);
}

void own_unlock(void)
{
	pthread_rwlock_unlock(&own_rw);
}

bool own_has(uint32_t id)
{
	return id < OWN_MAX && __atomic_load_n(&own_set[id], __ATOMIC_ACQUIRE);
}

void own_add(uint32_t id)
{
	if (id < OWN_MAX)
		__atomic_store_n(&own_set[id], true, __ATOMIC_RELEASE);
}

void own_del(uint32_t id)
{
	if (id < OWN_MAX)
		__atomic_store_n(&own_set[id], false, __ATOMIC_RELEASE);
}

unsigned own_list(uint32_t *ids, unsigned max)
{
	unsigned n = 0;

	for (uint32_t id = 0; id < OWN_MAX && n < max; id++)
		if (own_has(id))
			ids[n++] = id;
	return n;
}

bool own_pick(struct fuzzer *f, uint32_t *id)
{
	uint32_t ids[OWN_MAX];
	unsigned n = own_list(ids, OWN_MAX);

	if (!n)
		return false;
	*id = ids[fuzz_below(f, n)];
	return true;
}
