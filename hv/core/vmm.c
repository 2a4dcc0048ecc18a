/*
 * The VM lifecycle (boot, shutdown, reboot, remove) and the VMM hypercall
 * group. Guest vCPUs run on cores the MVM does not own, so starting or
 * stopping one is a request to another core, answered through its idle loop
 * (start) or its next exit from the guest (stop).
 */
#include <arch/cache.h>
#include <arch/gic.h>
#include <arch/sysreg.h>
#include <arch/timer.h>
#include <core/cpu.h>
#include <core/entropy.h>
#include <core/event.h>
#include <core/hypercall.h>
#include <core/irq.h>
#include <core/iommu.h>
#include <core/ivc.h>
#include <core/log.h>
#include <core/sched.h>
#include <core/smp.h>
#include <core/state.h>
#include <core/vm.h>
#include <dev/vdev.h>
#include <core/vm_fdt.h>
#include <core/vm_pcie.h>
#include <dev/vgic.h>
#include <dev/vswitch.h>
#include <dev/vuart.h>
#include <lib/string.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>

#define STOP_TIMEOUT_US 500000
#define GUEST_DTB_MAX (64UL << 10)

static bool vcpu_is_off(void *arg)
{
	return ((struct vcpu *)arg)->state == VCPU_OFF;
}

/* Marks every vCPU of the VM but `except` for a stop; the VM's lock held.
 * From then on no CPU_ON of them succeeds (vcpu_power_on_locked), so a
 * sibling still running cannot power one on behind the stop. */
static void mark_for_stop(struct vm *vm, struct vcpu *except)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (&vm->vcpus[i] != except)
			vm->vcpus[i].stop_req = true;
}

/* The marks of the vCPUs that are off now go: a boot may start them. */
static void unmark_stopped(struct vm *vm)
{
	spin_lock(&vm->lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].state == VCPU_OFF)
			vm->vcpus[i].stop_req = false;
	spin_unlock(&vm->lock);
}

/*
 * Stops every marked vCPU of the VM but `except` (the caller's own, if
 * any); one pass sees all that can still run (mark_for_stop). Only a
 * vCPU's own core moves it off: a pending one may be starting there.
 */
static int stop_vcpus(struct vm *vm, struct vcpu *except)
{
	int ret = 0;

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];
		struct cpu *cpu = &hv.cpus[vcpu->pcpu];
		struct vcpu *hint = vcpu;

		if (vcpu == except)
			continue;
		/* The idle loop's hint goes; the vCPU is still its core's. */
		__atomic_compare_exchange_n(&cpu->boot_vcpu, &hint, 0, false,
					    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
		if (vcpu->pcpu == this_cpu_id()) {
			/* Waiting here while the caller runs: off right now. */
			sched_stop_waiting();
			continue;
		}
		if (__atomic_load_n(&vcpu->state, __ATOMIC_ACQUIRE) == VCPU_OFF)
			continue;
		__atomic_store_n(&cpu->stop_pending, true, __ATOMIC_RELEASE);
		gic_send_sgi(vcpu->pcpu, SGI_WORK);
		if (!wait_until(vcpu_is_off, vcpu, STOP_TIMEOUT_US)) {
			log_err("vm%u vcpu%u on cpu%u did not stop", vm->id, i, vcpu->pcpu);
			ret = -SHYPER_EBUSY;
		}
	}
	return ret;
}

static void mark_stopped(struct vm *vm)
{
	unmark_stopped(vm);
	for (unsigned i = 0; i <= GIC_MAX_INTID; i++)
		if (hv.irq_owner[i] == vm->id + 1)
			gic_disable(i, 0);
	vdev_reset_all(vm); /* requests in flight are dropped, not completed */
	/* Its vCPUs are off: a pause has nothing left to hold. */
	__atomic_store_n(&vm->pause_epoch, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&vm->state, VM_STOPPED, __ATOMIC_RELEASE);
	event_post(SHYPER_EVENT_VM_STATE, vm->id, VM_STOPPED);
}

static int build_guest_dtb(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	const struct vm_image *rd = &vm->images[SHYPER_IMAGE_INITRD];
	uint64_t ipa = vm->images[SHYPER_IMAGE_DTB].load_ipa;
	void *buf = vm_ram_ptr(vm, ipa, GUEST_DTB_MAX);
	uint8_t seed[VM_RNG_SEED_SIZE];
	struct vm_fdt_mmio_dev virtio[VM_MAX_VDEVS];
	struct vm_fdt_desc d = {
		.cmdline = cfg->cmdline,
		.nr_vcpus = vm->nr_vcpus,
		.nr_mem = cfg->nr_mem,
		.has_initrd = rd->size != 0,
		.initrd_start = rd->load_ipa,
		.initrd_end = rd->load_ipa + rd->size,
		.has_uart = vm->has_uart,
		.uart = { vm->uart.base, VUART_SIZE, vm->uart.intid },
		.rng_seed = seed,
		.rng_seed_len = sizeof(seed),
	};
	size_t len;
	int ret;

	if (!buf)
		return -SHYPER_ERANGE;
	entropy_fill(seed, sizeof(seed)); /* a new one at every boot */
	vm_fdt_describe_vm(vm, &d);
	ivc_fdt_describe(vm, &d);
	vdev_fdt_describe(vm, &d, virtio, VM_MAX_VDEVS);
	vm_pcie_describe(vm, &d);
	ret = vm_fdt_build(&d, buf, GUEST_DTB_MAX, &len);
	cache_clean_range((uint64_t)buf, GUEST_DTB_MAX);
	return ret;
}

/* Copies the pristine images into guest RAM (and makes a device tree). */
static int load_images(struct vm *vm)
{
	for (unsigned k = 0; k < 3; k++) {
		struct vm_image *img = &vm->images[k];
		void *dst;

		if (!img->size)
			continue;
		dst = vm_ram_ptr(vm, img->load_ipa, img->size);
		if (!dst)
			return -SHYPER_ERANGE;
		memcpy(dst, (const void *)img->store_pa, img->size);
		/* These frames may have run other code before: no stale lines. */
		cache_sync_code((uint64_t)dst, img->size);
	}
	if (!vm->images[SHYPER_IMAGE_DTB].size)
		return build_guest_dtb(vm);
	return 0;
}

void vm_note_started(struct vm *vm)
{
#if HV_STATE_VERSION >= 2
	hv.v2.vm_started_at[vm->id] = timer_now();
#else
	(void)vm;
#endif
}

#if HV_STATE_VERSION >= 2
/* Added with layout 2 (SHYPER_VMM_UPTIME). A VM that arrived by migration
 * has no boot time here: its vCPU 0's time on its core stands in. */
static int vmm_uptime(struct vm *vm, struct trap_frame *f)
{
	uint64_t at = hv.v2.vm_started_at[vm->id];
	bool runs = false;

	for (unsigned v = 0; v < vm->nr_vcpus && vm->setup_done; v++)
		runs |= vm->vcpus[v].state != VCPU_OFF;
	if (!runs)
		return -SHYPER_EINVAL;
	f->x[1] = at ? timer_now() - at : vm_run_ticks_estimate(vm);
	f->x[2] = timer_freq();
	return 0;
}
#endif

/*
 * Loads the images and powers vCPU 0 on: the VM runs. From vm_boot (the VM
 * ready or stopped) or its guest's reset (stopping). 0, or an error with
 * the VM's state unchanged.
 */
static int vm_start(struct vm *vm)
{
	struct vcpu *boot = &vm->vcpus[0];
	int ret;

	/* A restored VM boots only if its stream carried its images. */
	if (vm->restore && vm_images_check(vm))
		return -SHYPER_ENOEXEC;
	/* Devices first: a late completion of the last run must not land in
	 * the freshly loaded RAM. */
	vdev_reset_all(vm);
	/* Its passthrough devices' DMA reaches its RAM, and only that. */
	ret = iommu_vm_attach(vm);
	if (ret)
		return ret;
	ret = load_images(vm);
	if (ret) {
		log_err("vm%u: cannot load its images (%d)", vm->id, ret);
		return ret;
	}
	vgic_reset(vm);
	spin_lock(&vm->lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].state = VCPU_OFF;
	ret = vcpu_power_on_locked(boot, vm->config.kernel_entry,
				   vm->images[SHYPER_IMAGE_DTB].load_ipa);
	if (!ret) {
		/* Booted, it is an ordinary VM: its time starts at 0 again. */
		vm->restore = false;
		vm->cntvoff = 0;
		__atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_RELEASE);
	}
	spin_unlock(&vm->lock);
	if (ret) {
		log_err("vm%u: not started: cpu%u is offline", vm->id, boot->pcpu);
		return -SHYPER_EBUSY;
	}
	vm_note_started(vm);
	/* Said first: on the VM's own core (a reset) the kick does not return. */
	log_info("vm%u (%s) started on cpu%u", vm->id, vm->cfg->name, boot->pcpu);
	event_post(SHYPER_EVENT_VM_STATE, vm->id, VM_RUNNING);
	vcpu_power_kick(boot);
	return 0;
}

int vm_boot(struct vm *vm)
{
	if (vm_is_mvm(vm))
		return -SHYPER_EPERM;
	if (vm->state == VM_RUNNING || vm->state == VM_STOPPING)
		return -SHYPER_EBUSY;
	if (vm->state != VM_READY && vm->state != VM_STOPPED)
		return -SHYPER_EINVAL;
	return vm_start(vm);
}

#define SETTLE_TIMEOUT_US 2000000

static bool vm_settled(void *arg)
{
	return __atomic_load_n(&((struct vm *)arg)->state, __ATOMIC_ACQUIRE) != VM_STOPPING;
}

int vm_shutdown(struct vm *vm)
{
	enum vm_state state;
	int ret;

	if (vm_is_mvm(vm))
		return -SHYPER_EPERM;
	/* Its guest may be powering it off or restarting it: soon done. */
	wait_until(vm_settled, vm, SETTLE_TIMEOUT_US);
	spin_lock(&vm->lock);
	state = vm->state;
	if (state == VM_RUNNING) {
		vm->state = VM_STOPPING;
		mark_for_stop(vm, 0);
	}
	spin_unlock(&vm->lock);
	if (state != VM_RUNNING)
		return state == VM_STOPPING ? -SHYPER_EBUSY : -SHYPER_EINVAL;
	ivc_vm_stopped(vm);
	ret = stop_vcpus(vm, 0);
	mark_stopped(vm);
	log_info("vm%u (%s) shut down", vm->id, vm->cfg->name);
	return ret;
}

void vm_guest_system_event(struct vcpu *vcpu, bool reset)
{
	struct vm *vm = vcpu->vm;
	int ret;

	spin_lock(&vm->lock);
	if (vm->state != VM_RUNNING) {
		/* A shutdown or a sibling's SYSTEM_OFF came first and takes the
		 * VM down: this vCPU only leaves (its stop waits for that). */
		spin_unlock(&vm->lock);
		vcpu_stop_here();
	}
	vm->state = VM_STOPPING;
	mark_for_stop(vm, vcpu);
	spin_unlock(&vm->lock);
	ivc_vm_stopped(vm);
	stop_vcpus(vm, vcpu);
	vcpu_detach_here();
	if (reset) {
		/* STOPPING until it runs again: no boot, shutdown or removal
		 * from the MVM meanwhile. */
		unmark_stopped(vm);
		ret = vm_start(vm);
		if (!ret)
			cpu_park_here();
		log_err("vm%u: restart after SYSTEM_RESET failed%s", vm->id,
			ret == -SHYPER_ENOEXEC ? ": restored without its boot images" : "");
	}
	mark_stopped(vm);
	cpu_park_here();
}

static void fill_info(struct vm *vm, struct shyper_vm_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id = vm->id;
	info->type = vm->cfg->type;
	info->state = vm->state;
	info->nr_vcpus = vm->cfg->nr_vcpus;
	info->cpu_bitmap = vm->cfg->cpu_bitmap;
	for (unsigned i = 0; i < vm->cfg->nr_mem; i++)
		info->mem_bytes += vm->cfg->mem[i].size;
	for (unsigned i = 0; vm->cfg->name && vm->cfg->name[i] && i < SHYPER_NAME_MAX - 1; i++)
		info->name[i] = vm->cfg->name[i];
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		info->exits += vm->vcpus[i].fast_timer_exits;
		for (unsigned r = 0; r < SHYPER_EXIT_NR; r++)
			info->exits += vm->vcpus[i].exit_counts[r];
	}
}

static int64_t vmm_list(struct vcpu *caller, struct trap_frame *f)
{
	uint64_t max = f->x[2] / sizeof(struct shyper_vm_info);
	struct shyper_vm_info *out = 0;
	uint64_t n = 0;

	if (max) {
		out = hc_mvm_buffer(caller, f->x[1], max * sizeof(*out));
		if (!out)
			return -SHYPER_EFAULT;
	}
	for (unsigned id = 0; id < HV_MAX_VMS; id++) {
		struct shyper_vm_info info;

		if (hv.vms[id].state == VM_FREE)
			continue;
		if (n < max) {
			fill_info(&hv.vms[id], &info);
			memcpy(&out[n], &info, sizeof(info));
		}
		n++;
	}
	f->x[1] = n;
	return 0;
}

static int64_t vmm_vcpu_info(struct vcpu *caller, struct vm *vm, struct trap_frame *f)
{
	struct shyper_vcpu_info info;
	struct vcpu *v;
	uint64_t run;
	void *buf;

	if (f->x[2] >= vm->nr_vcpus)
		return -SHYPER_ENOENT;
	if (f->x[4] < sizeof(info))
		return -SHYPER_EINVAL;
	buf = hc_mvm_buffer(caller, f->x[3], sizeof(info));
	if (!buf)
		return -SHYPER_EFAULT;
	v = &vm->vcpus[f->x[2]];
	memset(&info, 0, sizeof(info));
	info.vm_id = vm->id;
	info.vcpu_id = v->id;
	info.pcpu = v->pcpu;
	info.state = v->state == VCPU_RUNNING ? 2 : v->state == VCPU_PENDING ? 1 : 0;
	/* Read while it may run elsewhere: a snapshot, good to a few ticks. */
	run = v->run_ticks;
	if (v->run_since)
		run += timer_now() - v->run_since;
	info.run_ns = timer_ticks_to_us(run) * 1000;
	info.switches = v->switches;
	for (unsigned r = 0; r < SHYPER_EXIT_NR; r++)
		info.exits[r] = v->exit_counts[r];
	info.exits[SHYPER_EXIT_IRQ] += v->fast_timer_exits;
	memcpy(buf, &info, sizeof(info));
	return 0;
}

int64_t hc_vmm(struct vcpu *caller, struct trap_frame *f, unsigned fn)
{
	struct vm *vm;
	struct shyper_vm_info info;
	void *buf;
	int ret;

	if (fn == SHYPER_HVC_FN(SHYPER_VMM_GET_ID)) {
		f->x[1] = caller->vm->id;
		return 0;
	}
	if (fn > SHYPER_HVC_FN(SHYPER_VMM_NET_INFO) &&
	    (HV_STATE_VERSION < 2 || fn != SHYPER_HVC_FN(SHYPER_VMM_UPTIME)))
		return -SHYPER_ENOSYS;
	if (!hc_caller_is_mvm(caller))
		return -SHYPER_EPERM;
	if (fn == SHYPER_HVC_FN(SHYPER_VMM_LIST))
		return vmm_list(caller, f);
	vm = f->x[1] < HV_MAX_VMS ? vm_by_id((unsigned)f->x[1]) : 0;
	if (!vm)
		return -SHYPER_ENOENT;
	switch (fn) {
	case SHYPER_HVC_FN(SHYPER_VMM_INFO):
		if (f->x[3] < sizeof(info))
			return -SHYPER_EINVAL;
		buf = hc_mvm_buffer(caller, f->x[2], sizeof(info));
		if (!buf)
			return -SHYPER_EFAULT;
		fill_info(vm, &info);
		memcpy(buf, &info, sizeof(info));
		return 0;
	case SHYPER_HVC_FN(SHYPER_VMM_VCPU_INFO):
		return vmm_vcpu_info(caller, vm, f);
	case SHYPER_HVC_FN(SHYPER_VMM_CONSOLE):
		return vdev_console_hypercall(caller, vm, f);
	case SHYPER_HVC_FN(SHYPER_VMM_NET_INFO):
		return vdev_net_hypercall(caller, vm, f);
#if HV_STATE_VERSION >= 2
	case SHYPER_HVC_FN(SHYPER_VMM_UPTIME):
		return vmm_uptime(vm, f);
#endif
	case SHYPER_HVC_FN(SHYPER_VMM_BOOT):
		return vm_boot(vm);
	case SHYPER_HVC_FN(SHYPER_VMM_SHUTDOWN):
		return vm_shutdown(vm);
	case SHYPER_HVC_FN(SHYPER_VMM_REBOOT):
		/* Not stopped for a boot that cannot happen. */
		if (vm->restore && vm_images_check(vm))
			return -SHYPER_ENOEXEC;
		if ((vm->state == VM_RUNNING || vm->state == VM_STOPPING) &&
		    (ret = vm_shutdown(vm)))
			return ret;
		return vm_boot(vm);
	case SHYPER_HVC_FN(SHYPER_VMM_REMOVE):
		if (vm_is_mvm(vm))
			return -SHYPER_EPERM;
		if (vm->state == VM_RUNNING || vm->state == VM_STOPPING)
			return -SHYPER_EBUSY; /* documented: shut it down first */
		log_info("vm%u (%s) removed", vm->id, vm->cfg->name);
		event_post(SHYPER_EVENT_VM_STATE, vm->id, VM_FREE);
		vm_destroy(vm);
		return 0;
	}
	return -SHYPER_ENOSYS;
}
