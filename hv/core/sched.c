#include <arch/sysreg.h>
#include <arch/timer.h>
#include <arch/vcpu_ctx.h>
#include <arch/vcpu_ptimer.h>
#include <core/cpu.h>
#include <core/sched.h>
#include <core/state.h>
#include <core/update.h>
#include <core/vm.h>
#include <dev/vgic.h>

/* Every vCPU placed on `core`, of every VM that is set up. */
#define FOR_EACH_VCPU_ON(core, v)                                              \
	for (unsigned _m = 0; _m < HV_MAX_VMS; _m++)                          \
		for (unsigned _i = 0; _i < hv.vms[_m].nr_vcpus; _i++)         \
			if (((v) = &hv.vms[_m].vcpus[_i])->pcpu == (core) &&  \
			    hv.vms[_m].setup_done)

/* The turn of the vCPU on the core: its VM's slice, or the default. */
static uint64_t slice_ticks(const struct vcpu *v)
{
	uint32_t us = v && v->vm->cfg->slice_us ? v->vm->cfg->slice_us : SCHED_SLICE_US;

	return timer_us_to_ticks(us);
}

bool sched_core_shared(unsigned pcpu)
{
	struct vcpu *v;
	unsigned n = 0;

	FOR_EACH_VCPU_ON(pcpu, v)
		n++;
	return n > 1;
}

static bool active(const struct vcpu *v)
{
	return v->state == VCPU_PENDING || v->state == VCPU_RUNNING;
}

static bool has_pending(struct vcpu *v)
{
	for (unsigned w = 0; w < VGIC_MAX_IRQS / 64; w++)
		if (__atomic_load_n(&v->vgic.pending[w], __ATOMIC_ACQUIRE))
			return true;
	return false;
}

/* CNTV_CTL: ENABLE set, IMASK clear, and the deadline passed (CVAL counts
 * in the VM's virtual time: the physical count less its CNTVOFF). */
static bool vtimer_due(const struct vcpu *v)
{
	return (v->ctx.cntv_ctl & 3) == 1 &&
	       v->ctx.cntv_cval <= timer_now() - v->vm->cntvoff;
}

static bool runnable(struct vcpu *v)
{
	if (v->stop_req || !active(v) || vm_is_paused(v->vm))
		return false;
	if (v->state == VCPU_PENDING || !v->blocked)
		return true;
	return has_pending(v) || vtimer_due(v) || vcpu_ptimer_due(v);
}

struct vcpu *sched_pick(struct vcpu *after)
{
	unsigned me = this_cpu_id();
	unsigned start = after ? after->vm->id * VM_MAX_VCPUS + after->id + 1 : 0;
	struct vcpu *v;

	/* Two passes over (vm, vcpu) order: after `after`, then from the start. */
	for (unsigned pass = 0; pass < 2; pass++)
		FOR_EACH_VCPU_ON(me, v) {
			unsigned key = v->vm->id * VM_MAX_VCPUS + v->id;

			if (v == after || (pass == 0 && key < start) ||
			    (pass == 1 && key >= start))
				continue;
			if (runnable(v))
				return v;
		}
	return 0;
}

struct vcpu *sched_pick_any(void)
{
	struct vcpu *v = sched_pick(0);

	if (v)
		return v;
	/* Only waiting ones left: resume one; leaving WFI early is allowed. */
	FOR_EACH_VCPU_ON(this_cpu_id(), v)
		if (active(v) && !v->stop_req && !vm_is_paused(v->vm))
			return v;
	return 0;
}

/*
 * Tells vm_pause that this core has seen its request for every vCPU here
 * but `cur`: each is off the core with its context saved, and no pick takes
 * it while the pause lasts (runnable() and the idle loop check).
 */
static void pause_ack(const struct vcpu *cur)
{
	struct vcpu *v;

	FOR_EACH_VCPU_ON(this_cpu_id(), v) {
		uint32_t epoch = __atomic_load_n(&v->vm->pause_epoch, __ATOMIC_ACQUIRE);

		if (v != cur && epoch && v->paused_epoch != epoch)
			__atomic_store_n(&v->paused_epoch, epoch, __ATOMIC_RELEASE);
	}
}

void sched_arm(unsigned pcpu)
{
	struct cpu *cpu = &hv.cpus[pcpu];
	struct vcpu *v;
	unsigned n = 0;

	FOR_EACH_VCPU_ON(pcpu, v)
		n += active(v);
	cpu->sched_armed = n > 1;
	if (cpu->sched_armed)
		timer_hv_arm(timer_now() + slice_ticks(cpu->vcpu));
	else
		timer_hv_stop();
}

bool sched_tick(void)
{
	struct cpu *cpu = this_cpu();

	if (!cpu->sched_armed)
		return false;
	cpu->resched = true;
	timer_hv_arm(timer_now() + slice_ticks(cpu->vcpu));
	return true;
}

/* Stop requests for vCPUs of this core that are not on it right now: only
 * this core moves them off (a pending one may be starting here). stop_req
 * stays set until the VM is stopped, so no CPU_ON brings them back. */
static void stop_waiting_vcpus(struct vcpu *cur)
{
	struct vcpu *v;

	FOR_EACH_VCPU_ON(this_cpu_id(), v) {
		if (v == cur || !v->stop_req || v->state == VCPU_OFF)
			continue;
		if (v->state == VCPU_RUNNING)
			vcpu_discard_saved(v);
		v->state = VCPU_OFF;
	}
}

void sched_stop_waiting(void)
{
	stop_waiting_vcpus(this_cpu()->vcpu);
}

void sched_on_exit(struct trap_frame *f)
{
	struct cpu *cpu = this_cpu();
	struct vcpu *cur = cpu->vcpu, *next;

	/* The common exit: nothing to do, two plain loads. */
	if (!cpu->stop_pending && !cpu->resched)
		return;
	update_poll_exit(f); /* a live update parks or judges here */
	if (__atomic_exchange_n(&cpu->stop_pending, false, __ATOMIC_ACQ_REL)) {
		stop_waiting_vcpus(cur);
		if (cur && cur->stop_req)
			vcpu_stop_here(); /* switches to another vCPU or idles */
		sched_arm(this_cpu_id());
	}
	/* Atomic: a request posted meanwhile (vm_pause) is not lost. */
	if (!__atomic_exchange_n(&cpu->resched, false, __ATOMIC_ACQ_REL))
		return;
	next = sched_pick(cur);
	if (next) {
		vcpu_switch(next, f);
		sched_arm(this_cpu_id());
	} else if (cur && vm_is_paused(cur->vm)) {
		/* A waiting vCPU may have the core early; else it parks. */
		next = sched_pick_any();
		if (!next) {
			vcpu_save_and_leave(f);
			pause_ack(0);
			cpu_park_here();
		}
		vcpu_switch(next, f);
		sched_arm(this_cpu_id());
	}
	pause_ack(current_vcpu());
}

struct vcpu *sched_idle_pick(void)
{
	if (__atomic_exchange_n(&this_cpu()->stop_pending, false, __ATOMIC_ACQ_REL))
		stop_waiting_vcpus(0);
	pause_ack(0);
	return sched_pick_any();
}

void sched_wfi(struct trap_frame *f)
{
	struct vcpu *cur = current_vcpu(), *next;

	cur->blocked = true;
	next = sched_pick(cur);
	if (next) {
		vcpu_switch(next, f);
		return;
	}
	/* Nobody else to run: wait for an interrupt, as the guest asked. */
	wfi();
	cur->blocked = false;
}
