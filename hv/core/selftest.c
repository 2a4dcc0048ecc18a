#include <arch/gic.h>
#include <arch/timer.h>
#include <core/cpu.h>
#include <core/irq.h>
#include <core/ivc.h>
#include <core/log.h>
#include <core/sched.h>
#include <core/selftest.h>
#include <core/smp.h>
#include <core/state.h>

/* Bounds for "did it answer at all", not latency figures: an emulated core
 * on a busy host can wait tens of milliseconds for its turn. */
#define PONG_TIMEOUT_US 250000
#define CALL_TIMEOUT_US 4000000
#define TIMER_DELAY_US 1000
#define TIMER_TIMEOUT_US 100000

/* Results live on the caller's stack; remote cores fill their own slot. */
struct ipi_report {
	bool ok[HV_MAX_CPUS];
	uint64_t ticks[HV_MAX_CPUS];
};

struct pong_wait {
	struct cpu *self;
	unsigned peer;
};

static bool pong_arrived(void *arg)
{
	struct pong_wait *w = arg;

	return __atomic_load_n(&w->self->pongs_from, __ATOMIC_ACQUIRE) &
	       (1UL << w->peer);
}

/* Runs on the source core: ping every other online core, time each pong. */
static void ping_all_peers(void *arg)
{
	struct ipi_report *rep = arg;
	struct cpu *self = this_cpu();

	for (unsigned peer = 0; peer < hv.nr_cpus; peer++) {
		struct pong_wait w = { self, peer };
		uint64_t t0;

		if (peer == self->id || hv.cpus[peer].state != CPU_ONLINE)
			continue;
		__atomic_fetch_and(&self->pongs_from, ~(1UL << peer), __ATOMIC_ACQ_REL);
		__atomic_fetch_or(&hv.cpus[peer].pings_from, 1UL << self->id,
				  __ATOMIC_RELEASE);
		t0 = timer_now();
		gic_send_sgi(peer, SGI_PING);
		rep->ok[peer] = wait_until(pong_arrived, &w, PONG_TIMEOUT_US);
		rep->ticks[peer] = timer_now() - t0;
	}
}

int selftest_ipi(bool verbose)
{
	unsigned pairs = 0, good = 0;

	for (unsigned src = 0; src < hv.nr_cpus; src++) {
		struct ipi_report rep = { 0 };

		if (hv.cpus[src].state != CPU_ONLINE)
			continue;
		if (smp_call(src, ping_all_peers, &rep, CALL_TIMEOUT_US)) {
			log_err("ipi: cpu%u did not run the round-trip check", src);
			continue;
		}
		for (unsigned dst = 0; dst < hv.nr_cpus; dst++) {
			if (dst == src || hv.cpus[dst].state != CPU_ONLINE)
				continue;
			pairs++;
			if (rep.ok[dst])
				good++;
			else
				log_err("ipi: cpu%u -> cpu%u -> cpu%u: no answer", src,
					dst, src);
			if (verbose && rep.ok[dst])
				con_printf("ipi: cpu%u -> cpu%u -> cpu%u: %lu us\n", src,
					   dst, src, timer_ticks_to_us(rep.ticks[dst]));
		}
	}
	log_info("ipi: %u/%u round trips between online cores ok", good, pairs);
	return (int)(pairs - good);
}

static enum irq_result timer_handler(uint32_t intid)
{
	struct cpu *cpu = this_cpu();
	(void)intid;

	if (ivc_timer_irq()) /* keep-alive, on the MVM's unshared core */
		return IRQ_HANDLED;
	if (sched_tick())
		return IRQ_HANDLED;
	cpu->timer_last_latency = timer_now() - timer_hv_deadline();
	timer_hv_stop();
	cpu->timer_irqs++;
	return IRQ_HANDLED;
}

void selftest_register_timer(void)
{
	irq_register(hv.board.timer.hyp_phys_intid, timer_handler);
}

void selftest_enable_timer(void)
{
	gic_enable(hv.board.timer.hyp_phys_intid, this_cpu_id());
}

struct tick_report {
	bool ok;
	uint64_t latency;
};

static bool ticked(void *arg)
{
	uint64_t *before = arg;

	return this_cpu()->timer_irqs > *before;
}

static void tick_once(void *arg)
{
	struct tick_report *rep = arg;
	uint64_t before = this_cpu()->timer_irqs;

	timer_hv_arm(timer_now() + timer_us_to_ticks(TIMER_DELAY_US));
	rep->ok = wait_until(ticked, &before, TIMER_TIMEOUT_US);
	if (!rep->ok)
		timer_hv_stop();
	rep->latency = this_cpu()->timer_last_latency;
}

int selftest_timer(bool verbose)
{
	unsigned cores = 0, good = 0;

	for (unsigned id = 0; id < hv.nr_cpus; id++) {
		struct tick_report rep = { 0 };

		if (hv.cpus[id].state != CPU_ONLINE)
			continue;
		cores++;
		if (smp_call(id, tick_once, &rep, CALL_TIMEOUT_US) || !rep.ok) {
			log_err("timer: no EL2 timer interrupt on cpu%u", id);
			continue;
		}
		good++;
		if (verbose)
			con_printf("timer: cpu%u tick, %lu counter ticks after its deadline\n",
				   id, rep.latency);
	}
	log_info("timer: %u/%u cores took the EL2 timer interrupt", good, cores);
	return (int)(cores - good);
}
