/* Stage-2 TLB maintenance for a VM that may be running on other cores. */
#ifndef ARCH_STAGE2_TLB_H
#define ARCH_STAGE2_TLB_H

#include <stdint.h>

/*
 * The stage2_mm.tlb_flush contract (arch/stage2.h) for the VM whose
 * VTTBR_EL2 value is @vttbr: every core drops its stage-2 and combined
 * entries for [ipa, ipa + size) and its stage-1 entries of that VMID.
 */
void stage2_tlb_flush_vm(uint64_t vttbr, uint64_t ipa, uint64_t size);

#endif
