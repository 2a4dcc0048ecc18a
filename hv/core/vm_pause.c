/*
 * Pausing a running guest (for migration's stop-and-copy): every vCPU off
 * its core with its context saved, and kept off until resumed.
 *
 * Only a vCPU's own core takes it on or off, so the requester cannot judge
 * for itself; it sets the VM's pause epoch, asks each core to look again
 * (resched + SGI_WORK), and waits for every vCPU's paused_epoch to match:
 * the core writes it (sched.c, pause_ack) once the vCPU is off the core
 * with its context saved, and from then on picks no vCPU of a paused VM
 * (runnable(), sched_pick_any(), the idle loop's boot hand-over). A core
 * left with nothing to run parks in its idle loop. Epochs, not a flag: an
 * acknowledgement of an earlier pause never counts for a later one.
 *
 * While paused the virtual timer is off (saved with the context; a
 * deadline that passes fires at the resume), and interrupts raised for the
 * VM stay pending in its vGIC; keep-alive does not count it (ivc.c) and
 * starts its period again at the resume. Its virtio devices take nothing
 * from its queues and write nothing into its RAM meanwhile (vdev_net.c,
 * vdev_console.c), except a mediated disk's requests already in flight.
 */
#include <arch/gic.h>
#include <core/cpu.h>
#include <core/irq.h>
#include <core/ivc.h>
#include <core/log.h>
#include <core/smp.h>
#include <core/state.h>
#include <core/vm.h>
#include <shyper/errno.h>

/* A core answers at its next exit or in its idle loop: well under this. */
#define PAUSE_TIMEOUT_US 500000

struct pause_wait {
	struct vm *vm;
	uint32_t epoch;
};

static bool all_acknowledged(void *arg)
{
	const struct pause_wait *w = arg;

	for (unsigned i = 0; i < w->vm->nr_vcpus; i++)
		if (__atomic_load_n(&w->vm->vcpus[i].paused_epoch, __ATOMIC_ACQUIRE) != w->epoch)
			return false;
	return true;
}

/* Every core with a vCPU of the VM looks at its vCPUs again. */
static void kick_cores(struct vm *vm)
{
	uint64_t kicked = 0;

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		unsigned c = vm->vcpus[i].pcpu;

		if (kicked & (1UL << c))
			continue;
		kicked |= 1UL << c;
		__atomic_store_n(&hv.cpus[c].resched, true, __ATOMIC_SEQ_CST);
		gic_send_sgi(c, SGI_WORK);
	}
}

static int check_guest(const struct vm *vm)
{
	if (vm_is_mvm(vm))
		return -SHYPER_EPERM;
	if (vm->state != VM_RUNNING || !vm->setup_done)
		return -SHYPER_EINVAL;
	return 0;
}

int vm_pause(struct vm *vm)
{
	struct pause_wait w = { .vm = vm };
	int ret = check_guest(vm);

	if (ret)
		return ret;
	if (vm_is_paused(vm))
		return -SHYPER_EINVAL;
	/* Waiting on our own core could only time out. */
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].pcpu == this_cpu_id())
			return -SHYPER_EBUSY;
	w.epoch = ++vm->pauses;
	if (!w.epoch)
		w.epoch = ++vm->pauses; /* 0 means "not paused" */
	__atomic_store_n(&vm->pause_epoch, w.epoch, __ATOMIC_SEQ_CST);
	kick_cores(vm);
	if (!wait_until(all_acknowledged, &w, PAUSE_TIMEOUT_US)) {
		log_err("vm%u: a core did not pause its vCPU in time; resumed", vm->id);
		vm_resume(vm);
		return -SHYPER_EBUSY;
	}
	log_info("vm%u (%s) paused", vm->id, vm->cfg->name);
	return 0;
}

int vm_resume(struct vm *vm)
{
	int ret = check_guest(vm);

	if (ret)
		return ret;
	if (!vm_is_paused(vm))
		return -SHYPER_EINVAL;
	__atomic_store_n(&vm->pause_epoch, 0, __ATOMIC_SEQ_CST);
	ivc_vm_resumed(vm);
	kick_cores(vm);
	log_info("vm%u (%s) resumed", vm->id, vm->cfg->name);
	return 0;
}
