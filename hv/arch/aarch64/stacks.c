#include <arch/asm.h>
#include <stdint.h>

/* One stack per core; boot.S points SP at the top of core n's slot. The
 * slots are aligned to their size, so vectors.S finds the guard page from
 * SP alone; mmu.c leaves each slot's lowest page unmapped. */
uint8_t hv_stacks[HV_MAX_CPUS * HV_STACK_SIZE] __attribute__((aligned(HV_STACK_SIZE)));
/* Where a core goes when its stack ran into the guard page, to report it. */
uint8_t hv_overflow_stacks[HV_MAX_CPUS * HV_OVERFLOW_STACK_SIZE] __attribute__((aligned(16)));

_Static_assert(HV_STACK_SIZE == 1 << 15 && HV_OVERFLOW_STACK_SIZE == 1 << 13,
	       "vectors.S shifts by these sizes");
