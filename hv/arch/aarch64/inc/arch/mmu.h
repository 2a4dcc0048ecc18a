/* EL2 stage-1 translation of the hypervisor's own address space (VA == PA). */
#ifndef ARCH_MMU_H
#define ARCH_MMU_H

#include <stdint.h>

/* Builds the boot tables; called once by the boot core with the MMU off. */
void mmu_build_boot_tables(uint64_t dtb_pa);
/* Turns on the EL2 MMU and caches with the boot tables (every core). */
void mmu_enable(void);
void mmu_switch_tables(void);
/*
 * Live update: makes [pa, pa + size), another image's slot, writable and
 * executable in this image's tables (every core's TLB) and lets this core
 * run it, for the jump into that image; its own tables restore W^X. The
 * other cores call mmu_allow_foreign_code() before they follow.
 */
void mmu_open_image(uint64_t pa, uint64_t size);
void mmu_allow_foreign_code(void);
/* Bits of physical address the CPU implements (ID_AA64MMFR0_EL1.PARange). */
unsigned mmu_pa_bits(void);

#endif
