/*
 * Stage-2 TLB invalidation by VMID. The TLBI operations act on the VMID in
 * VTTBR_EL2 (Arm ARM D8.13 "TLB maintenance instructions"), so the VM's
 * value is loaded for the moment, interrupts masked, and the caller's put
 * back.
 */
#include <arch/stage2_tlb.h>
#include <arch/sysreg.h>

#define S2_TLB_PAGE_SHIFT 12
/* Beyond this many pages one VMALLS12E1IS is cheaper than a TLBI per page. */
#define S2_TLB_MAX_PAGES 64

void stage2_tlb_flush_vm(uint64_t vttbr, uint64_t ipa, uint64_t size)
{
	uint64_t flags = irq_save();
	uint64_t saved = sysreg_read(vttbr_el2);
	uint64_t pages = size >> S2_TLB_PAGE_SHIFT;

	dsb(ishst); /* the descriptor writes reach the walkers first */
	if (saved != vttbr) {
		sysreg_write(vttbr_el2, vttbr);
		isb();
	}
	if (pages && pages <= S2_TLB_MAX_PAGES) {
		/* TLBI IPAS2E1IS takes IPA[47:12] in bits [35:0]. */
		for (uint64_t n = 0; n < pages; n++)
			__asm__ volatile("tlbi ipas2e1is, %0"
					 :: "r"((ipa >> S2_TLB_PAGE_SHIFT) + n) : "memory");
		dsb(ish);
		/* Combined stage 1+2 entries are not tagged by IPA. */
		__asm__ volatile("tlbi vmalle1is" ::: "memory");
	} else {
		__asm__ volatile("tlbi vmalls12e1is" ::: "memory");
	}
	dsb(ish);
	if (saved != vttbr) {
		sysreg_write(vttbr_el2, saved);
		isb();
	}
	irq_restore(flags);
}
