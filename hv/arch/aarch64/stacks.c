#include <arch/asm.h>
#include <stdint.h>

/* One stack per core; boot.S points SP at the top of core n's slot. */
uint8_t hv_stacks[HV_MAX_CPUS * HV_STACK_SIZE] __attribute__((aligned(4096)));
