/* Per-core identity: TPIDR_EL2 holds the address of this core's struct cpu. */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include <arch/sysreg.h>
#include <stdint.h>

static inline void arch_set_this_cpu(void *cpu)
{
	sysreg_write(tpidr_el2, (uint64_t)cpu);
}

static inline void *arch_this_cpu(void)
{
	return (void *)sysreg_read(tpidr_el2);
}

static inline uint64_t arch_mpidr(void)
{
	return sysreg_read(mpidr_el1) & MPIDR_AFF_MASK;
}

/* Bounds of core `id`'s hypervisor stack, for backtraces. */
extern uint8_t hv_stacks[];
void secondary_entry(void);

#endif
