/* Bringing up the other cores and asking them to run work. */
#ifndef CORE_SMP_H
#define CORE_SMP_H

#include <stdbool.h>
#include <stdint.h>

/* Starts every core of the board through PSCI CPU_ON; returns how many are online. */
unsigned smp_start_secondaries(void);
/* The loop an idle secondary core runs: sleeps until work or an interrupt. */
void __attribute__((noreturn)) smp_idle_loop(void);
/*
 * Runs fn(arg) on core `cpu` outside interrupt context and waits for it, at
 * most timeout_us. 0 on success, -SHYPER_ETIMEDOUT-like error otherwise.
 */
int smp_call(unsigned cpu, void (*fn)(void *), void *arg, uint64_t timeout_us);
void smp_register_ipis(void);
void smp_enable_ipis(void);
/* Waits with interrupts enabled until cond(arg) or the timeout; true if cond. */
bool wait_until(bool (*cond)(void *), void *arg, uint64_t timeout_us);

#endif
