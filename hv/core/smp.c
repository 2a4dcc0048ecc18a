#include <arch/cpu.h>
#include <arch/gic.h>
#include <arch/psci.h>
#include <arch/sysreg.h>
#include <arch/timer.h>
#include <core/cpu.h>
#include <core/irq.h>
#include <core/log.h>
#include <core/sched.h>
#include <core/smp.h>
#include <core/state.h>
#include <core/update.h>
#include <core/vm.h>
#include <shyper/errno.h>

#define CPU_ON_TIMEOUT_US 500000

static const char *psci_error_name(int64_t ret)
{
	switch (ret) {
	case PSCI_NOT_SUPPORTED: return "NOT_SUPPORTED";
	case PSCI_INVALID_PARAMETERS: return "INVALID_PARAMETERS";
	case PSCI_DENIED: return "DENIED";
	case PSCI_ALREADY_ON: return "ALREADY_ON";
	case PSCI_ON_PENDING: return "ON_PENDING";
	case PSCI_INTERNAL_FAILURE: return "INTERNAL_FAILURE";
	default: return "unknown error";
	}
}

bool wait_until(bool (*cond)(void *), void *arg, uint64_t timeout_us)
{
	uint64_t deadline = timer_now() + timer_us_to_ticks(timeout_us);

	while (!cond(arg)) {
		if (timer_now() > deadline)
			return cond(arg);
		irq_enable();
		__asm__ volatile("yield");
		irq_disable();
	}
	return true;
}

static bool cpu_is_up(void *arg)
{
	return ((struct cpu *)arg)->state == CPU_ONLINE;
}

unsigned smp_start_secondaries(void)
{
	unsigned online = 1;

	for (unsigned i = 1; i < hv.nr_cpus; i++) {
		struct cpu *cpu = &hv.cpus[i];
		int64_t ret;

		cpu->state = CPU_STARTING;
		dsb(sy);
		ret = psci_cpu_on(cpu->mpidr, (uint64_t)secondary_entry, i);
		if (ret != PSCI_SUCCESS) {
			cpu->state = CPU_OFF;
			log_err("cpu%u (mpidr 0x%lx): PSCI CPU_ON failed: %s (%ld)",
				i, cpu->mpidr, psci_error_name(ret), ret);
			continue;
		}
		if (!wait_until(cpu_is_up, cpu, CPU_ON_TIMEOUT_US)) {
			log_err("cpu%u (mpidr 0x%lx) did not come online within %u ms",
				i, cpu->mpidr, CPU_ON_TIMEOUT_US / 1000);
			continue;
		}
		online++;
	}
	return online;
}

/* SGI_PING: answer every core that pinged us. */
static enum irq_result ping_handler(uint32_t intid)
{
	uint64_t from = __atomic_exchange_n(&this_cpu()->pings_from, 0,
					    __ATOMIC_ACQ_REL);
	(void)intid;
	for (unsigned src = 0; from; src++, from >>= 1) {
		if (!(from & 1))
			continue;
		__atomic_fetch_or(&hv.cpus[src].pongs_from, 1UL << this_cpu_id(),
				  __ATOMIC_RELEASE);
		gic_send_sgi(src, SGI_PONG);
	}
	return IRQ_HANDLED;
}

/* SGI_PONG: the waiting loop reads pongs_from; the interrupt only wakes it. */
static enum irq_result pong_handler(uint32_t intid)
{
	(void)intid;
	return IRQ_HANDLED;
}

/* SGI_WORK: the idle loop picks the work up once the handler returns. */
static enum irq_result work_handler(uint32_t intid)
{
	(void)intid;
	return IRQ_HANDLED;
}

void smp_register_ipis(void)
{
	irq_register(SGI_PING, ping_handler);
	irq_register(SGI_PONG, pong_handler);
	irq_register(SGI_WORK, work_handler);
}

void smp_enable_ipis(void)
{
	gic_enable(SGI_PING, this_cpu_id());
	gic_enable(SGI_PONG, this_cpu_id());
	gic_enable(SGI_WORK, this_cpu_id());
}

static void run_pending_work(struct cpu *cpu)
{
	uint32_t posted = __atomic_load_n(&cpu->work.seq_posted, __ATOMIC_ACQUIRE);

	if (posted == cpu->work.seq_done)
		return;
	irq_enable();
	cpu->work.fn(cpu->work.arg);
	irq_disable();
	__atomic_store_n(&cpu->work.seq_done, posted, __ATOMIC_RELEASE);
}

void smp_idle_loop(void)
{
	struct cpu *cpu = this_cpu();

	for (;;) {
		struct vcpu *vcpu;

		irq_disable();
		run_pending_work(cpu);
		if (update_park_requested() && cpu->id != hv.update.leader)
			update_park_idle();
		vcpu = __atomic_load_n(&cpu->boot_vcpu, __ATOMIC_SEQ_CST);
		if (vcpu) {
			/* Busy before boot_vcpu is free again (vcpu_power_on). */
			__atomic_store_n(&cpu->vcpu, vcpu, __ATOMIC_SEQ_CST);
			/* Only a hint: the vCPU may have been started (and
			 * stopped) by a pick since, or its VM be stopping. A
			 * paused VM's vCPU stays pending until its resume. */
			if (__atomic_compare_exchange_n(&cpu->boot_vcpu, &vcpu, 0, false,
							__ATOMIC_SEQ_CST,
							__ATOMIC_SEQ_CST) &&
			    vcpu->pcpu == cpu->id && vcpu->state == VCPU_PENDING &&
			    !vcpu->stop_req && !vm_is_paused(vcpu->vm))
				vcpu_run(vcpu);
			__atomic_store_n(&cpu->vcpu, 0, __ATOMIC_SEQ_CST);
		}
		/* A CPU_ON that saw this core busy for a moment, a pause or a
		 * resume asked for a reschedule; a shutdown for a stop of the
		 * vCPUs it left here paused. */
		if (__atomic_exchange_n(&cpu->resched, false, __ATOMIC_ACQ_REL) ||
		    __atomic_load_n(&cpu->stop_pending, __ATOMIC_ACQUIRE)) {
			vcpu = sched_idle_pick();
			if (vcpu)
				vcpu_run(vcpu);
		}
		/* Interrupts are masked, so a wake-up between the check and
		 * the WFI still ends the WFI. */
		if (__atomic_load_n(&cpu->work.seq_posted, __ATOMIC_ACQUIRE) ==
			    cpu->work.seq_done &&
		    !__atomic_load_n(&cpu->boot_vcpu, __ATOMIC_ACQUIRE))
			wfi();
		irq_enable();
	}
}

struct call_wait {
	struct cpu *cpu;
	uint32_t seq;
};

static bool work_done(void *arg)
{
	struct call_wait *w = arg;

	return __atomic_load_n(&w->cpu->work.seq_done, __ATOMIC_ACQUIRE) == w->seq;
}

int smp_call(unsigned id, void (*fn)(void *), void *arg, uint64_t timeout_us)
{
	struct cpu *cpu;
	struct call_wait w;
	uint64_t flags;
	bool done;

	if (id >= hv.nr_cpus)
		return -SHYPER_EINVAL;
	cpu = &hv.cpus[id];
	if (cpu->state != CPU_ONLINE)
		return -SHYPER_ENODEV;
	if (cpu->work.seq_posted != cpu->work.seq_done)
		return -SHYPER_EBUSY; /* an earlier call never finished */
	if (id == this_cpu_id()) {
		fn(arg);
		return 0;
	}
	cpu->work.fn = fn;
	cpu->work.arg = arg;
	w.cpu = cpu;
	w.seq = cpu->work.seq_posted + 1;
	__atomic_store_n(&cpu->work.seq_posted, w.seq, __ATOMIC_RELEASE);
	gic_send_sgi(id, SGI_WORK);
	flags = irq_save();
	done = wait_until(work_done, &w, timeout_us);
	irq_restore(flags);
	return done ? 0 : -SHYPER_EAGAIN;
}
