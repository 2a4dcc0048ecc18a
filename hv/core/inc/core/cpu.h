/* One struct per physical core, reachable from the state root. */
#ifndef CORE_CPU_H
#define CORE_CPU_H

#include <arch/asm.h>
#include <arch/cpu.h>
#include <stdbool.h>
#include <stdint.h>

enum cpu_state {
	CPU_ABSENT = 0, /* not in the device tree, or beyond HV_MAX_CPUS */
	CPU_OFF,
	CPU_STARTING,
	CPU_ONLINE,
	CPU_HALTED, /* stopped by a panic; the other cores go on */
};

/* Work another core asks this one to run outside interrupt context. fn is
 * an image pointer that matters only while a call is in flight (seq_posted
 * != seq_done); it is stale otherwise and never called again, so a live
 * update, which starts with no call in flight, does not rebind it. */
struct cpu_work {
	void (*fn)(void *arg);
	void *arg;
	volatile uint32_t seq_posted;
	volatile uint32_t seq_done;
};

struct vcpu;

/* The first two fields are read by the vectors' timer fast path
 * (vectors.S, CPU_VCPU and CPU_PREACK). */
struct cpu {
	struct vcpu *vcpu;	/* running here, or NULL */
	/* Bit 31 set: an interrupt the fast path acknowledged and left to
	 * irq_handle_pending(); the rest is the acknowledge value. */
	uint64_t preack;
	unsigned id;
	uint64_t mpidr;
	volatile enum cpu_state state;
	struct cpu_work work;
	/* Bit n set: core n pinged us and waits for a pong / answered our ping. */
	volatile uint64_t pings_from;
	volatile uint64_t pongs_from;
	volatile uint64_t timer_irqs;
	volatile uint64_t timer_last_latency; /* counter ticks past the deadline */
	volatile uint64_t irqs;
	struct vcpu *volatile boot_vcpu; /* to enter from the idle loop */
	volatile bool stop_pending;	   /* some vCPU here has stop_req */
	volatile bool resched;		   /* pick the next vCPU at the next exit */
	bool sched_armed;		   /* the slice timer runs */
};

static inline struct cpu *this_cpu(void)
{
	return arch_this_cpu();
}

static inline unsigned this_cpu_id(void)
{
	return this_cpu()->id;
}

const char *cpu_state_name(enum cpu_state state);

#endif
