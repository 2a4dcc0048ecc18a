/*
 * Which vCPU runs on a core. A core given to one vCPU runs it with no tick
 * at all. vCPUs of Linux VMs whose core bitmaps overlap take turns
 * round-robin, SCHED_SLICE_US each; a vCPU waiting in WFI gives its core to
 * another until an interrupt or its virtual timer makes it runnable again.
 */
#ifndef CORE_SCHED_H
#define CORE_SCHED_H

#include <arch/exception.h>
#include <core/cpu.h>
#include <shyper/hypercall.h>
#include <stdbool.h>

#define SCHED_SLICE_US SHYPER_SLICE_DEFAULT_US

struct vcpu;

/* More than one vCPU configured on this core. */
bool sched_core_shared(unsigned pcpu);
/* The next runnable vCPU of this core after `after` (round robin), or NULL. */
struct vcpu *sched_pick(struct vcpu *after);
/* For a core whose vCPU left: a runnable one, else any still active. */
struct vcpu *sched_pick_any(void);
/* Arms or stops this core's slice timer depending on what it hosts. */
void sched_arm(unsigned pcpu);
/* Turns off this core's vCPUs that have stop_req and are not on it. */
void sched_stop_waiting(void);
/* The idle loop was asked to look again: ends stopped vCPUs, acknowledges
 * pauses, and returns a vCPU to enter (vcpu_run), or NULL. */
struct vcpu *sched_idle_pick(void);
/* EL2 timer interrupt: true when it was the scheduler's. */
bool sched_tick(void);
void sched_on_exit(struct trap_frame *f);

/* On every exit from a guest, before returning to it: inline, because the
 * common case (nothing to do) sits on every hypercall and interrupt path. */
static inline void sched_exit_check(struct trap_frame *f)
{
	struct cpu *cpu = this_cpu();

	if (__builtin_expect(cpu->stop_pending || cpu->resched, 0))
		sched_on_exit(f);
}
/* A trapped WFI: give the core away, or wait here. */
void sched_wfi(struct trap_frame *f);

#endif
