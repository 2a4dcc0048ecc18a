/* EL2 stage-1 translation of the hypervisor's own address space (VA == PA). */
#ifndef ARCH_MMU_H
#define ARCH_MMU_H

#include <stdint.h>

/* Builds the boot tables; called once by the boot core with the MMU off. */
void mmu_build_boot_tables(uint64_t dtb_pa);
/* Turns on the EL2 MMU and caches with the boot tables (every core). */
void mmu_enable(void);
void mmu_switch_tables(void);
/* Bits of physical address the CPU implements (ID_AA64MMFR0_EL1.PARange). */
unsigned mmu_pa_bits(void);

#endif
