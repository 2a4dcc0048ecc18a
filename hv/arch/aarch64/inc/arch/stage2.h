/*
 * Stage-2 translation tables (guest IPA -> PA): VMSAv8-64, 4 KiB granule,
 * 48-bit output addresses (no FEAT_LPA2).
 *
 * Pure code: the tables live in frames the caller hands out through
 * struct stage2_mm, and every address the builder writes into a descriptor is
 * a physical address it got from there, so the host tests run it on a
 * simulated physical memory. No locking inside: the caller serialises
 * operations on one struct stage2.
 *
 * TLB maintenance: when stage2_mm.tlb_flush is set, stage2_unmap() and
 * stage2_set_flags() call it wherever the architecture needs it (the break in
 * break-before-make when a block is split, before unlinked tables are freed,
 * and once over the range at the end), and the caller needs nothing more.
 * When it is NULL, the tables must not be in use by any core while they are
 * changed, and the caller must invalidate the VM's stage-2 TLB entries after
 * stage2_unmap() and stage2_set_flags(). stage2_map() only fills invalid
 * entries, which needs no invalidation (a DSB ISHST before the guest runs).
 */
#ifndef ARCH_STAGE2_H
#define ARCH_STAGE2_H

#include <stddef.h>
#include <stdint.h>

/*
 * Descriptors, Arm ARM (DDI 0487K.a) D8.3 "VMSAv8-64 translation table format
 * descriptors". Bits[1:0]: 0b11 table (levels 0-2) or page (level 3), 0b01
 * block (levels 1 and 2 only with the 4 KiB granule), bit[0] clear: invalid.
 */
#define S2_DESC_VALID		(1ULL << 0)
#define S2_DESC_TYPE_MASK	3ULL
#define S2_DESC_BLOCK		1ULL
#define S2_DESC_TABLE		3ULL
#define S2_DESC_PAGE		3ULL
/* Output address / next-level table address, bits[47:12]. */
#define S2_DESC_ADDR_MASK	0x0000fffffffff000ULL

/*
 * Stage 2 Block and Page attributes, D8.5 "Memory region attributes" and
 * D8.4 "Memory access control" (stage 2 with HCR_EL2.FWB == 0).
 */
#define S2_MEMATTR_SHIFT	2	/* MemAttr[3:0], descriptor bits[5:2] */
#define S2_MEMATTR_MASK		(0xfULL << S2_MEMATTR_SHIFT)
/* MemAttr[3:2] == 0b00: Device memory; MemAttr[1:0] == 0b01: nGnRE. */
#define S2_MEMATTR_DEVICE_MASK	(0xcULL << S2_MEMATTR_SHIFT)
#define S2_MEMATTR_DEVICE_nGnRE	(0x1ULL << S2_MEMATTR_SHIFT)
/* Normal, Outer (MemAttr[3:2]) and Inner (MemAttr[1:0]) Write-Back Cacheable. */
#define S2_MEMATTR_NORMAL_WB	(0xfULL << S2_MEMATTR_SHIFT)
#define S2_S2AP_R		(1ULL << 6)	/* S2AP[0], bit[6]: read allowed */
#define S2_S2AP_W		(1ULL << 7)	/* S2AP[1], bit[7]: write allowed */
#define S2_SH_MASK		(3ULL << 8)	/* SH[1:0], bits[9:8] */
#define S2_SH_INNER		(3ULL << 8)	/* 0b11 Inner Shareable */
#define S2_AF			(1ULL << 10)	/* Access Flag */
/* XN[1], bit[54]; with FEAT_XNX XN[1:0] == 0b10: no execution at EL1 or EL0. */
#define S2_XN			(1ULL << 54)
#define S2_PERM_MASK		(S2_S2AP_R | S2_S2AP_W | S2_XN)

/* stage2_map() flags; stage2_translate() reports the same. */
#define STAGE2_R	(1U << 0)	/* guest may read */
#define STAGE2_W	(1U << 1)	/* guest may write */
#define STAGE2_X	(1U << 2)	/* guest may execute (never for DEVICE) */
#define STAGE2_DEVICE	(1U << 3)	/* Device-nGnRE, else Normal write-back */
#define STAGE2_RWX	(STAGE2_R | STAGE2_W | STAGE2_X)

#define STAGE2_IPA_BITS_MIN	32
#define STAGE2_IPA_BITS_MAX	48
/* VTTBR_EL2.VMID is used 8 bits wide (VTCR_EL2.VS == 0). */
#define STAGE2_VMID_MAX		255
/* stage2_vttbr() for a VMID above STAGE2_VMID_MAX; never a valid VTTBR. */
#define STAGE2_VTTBR_INVALID	UINT64_MAX
/* What alloc_table/alloc_root return when out of memory. */
#define STAGE2_NO_FRAME		UINT64_MAX

struct stage2_mm {
	/* A zeroed, 4 KiB-aligned 4 KiB frame's PA, or STAGE2_NO_FRAME. */
	uint64_t (*alloc_table)(void *ctx);
	/* Frames given back by unmap are zeroed; destroy gives them as they are. */
	void (*free_table)(void *ctx, uint64_t pa);
	/* @nr_tables zeroed contiguous frames aligned to their total size. */
	uint64_t (*alloc_root)(void *ctx, unsigned nr_tables);
	void (*free_root)(void *ctx, uint64_t pa, unsigned nr_tables);
	/* Where the builder reads and writes the table frame at @pa. */
	void *(*to_virt)(void *ctx, uint64_t pa);
	/*
	 * Optional. Make earlier descriptor writes visible to the table walkers
	 * and invalidate this VM's stage-2 TLB and walk-cache entries for
	 * [ipa, ipa + size) on every core, waiting for completion (DSB ISHST;
	 * TLBI IPAS2E1IS per page or VMALLS12E1IS; DSB ISH; TLBI VMALLE1IS;
	 * DSB ISH). May over-invalidate.
	 */
	void (*tlb_flush)(void *ctx, uint64_t ipa, uint64_t size);
	void *ctx;
};

struct stage2 {
	uint64_t root_pa;	/* root table(s), aligned to their total size */
	unsigned ipa_bits;	/* guest physical address space is 2^ipa_bits */
	unsigned pa_bits;	/* output addresses are below 2^pa_bits */
	unsigned start_level;	/* level of the root: 0 or 1 */
	unsigned root_tables;	/* concatenated root tables: 1, 2, 4 or 8 */
	const struct stage2_mm *mm;	/* NULL once destroyed */
	size_t nr_tables;	/* table frames in use, root frames included */
};

/*
 * Allocate the root. @ipa_bits in STAGE2_IPA_BITS_MIN..MAX and at most
 * @cpu_pa_bits (what ID_AA64MMFR0_EL1.PARange reports); all mm operations
 * but tlb_flush are required. Up to 39 bits the root is one level-1 table,
 * 40..42 bits 2^(bits - 39) concatenated level-1 tables, 43..48 bits one
 * level-0 table (Arm ARM D8.2 "Translation tables and the translation
 * process", concatenated tables at the initial stage 2 lookup level).
 * -SHYPER_EINVAL for bad arguments, -SHYPER_ENOMEM if the root cannot be had.
 */
int stage2_init(struct stage2 *s2, unsigned cpu_pa_bits, unsigned ipa_bits,
		const struct stage2_mm *mm);

/* Free every table and the root; the VM must no longer run on them. */
void stage2_destroy(struct stage2 *s2);

/*
 * VTCR_EL2 for these tables (8-bit VMIDs, no hardware AF/dirty management).
 * @cpu_pa_bits as given to stage2_init(); PS is capped at 48 bits.
 */
uint64_t stage2_vtcr(const struct stage2 *s2, unsigned cpu_pa_bits);

/* VTTBR_EL2 for @vmid; STAGE2_VTTBR_INVALID if @vmid > STAGE2_VMID_MAX. */
uint64_t stage2_vttbr(const struct stage2 *s2, uint16_t vmid);

/*
 * Map [ipa, ipa + size) to [pa, pa + size) with STAGE2_* @flags, using
 * 1 GiB and 2 MiB blocks wherever ipa, pa and size allow. -SHYPER_EINVAL:
 * zero size, not 4 KiB aligned, unknown flag, DEVICE with X; -SHYPER_ERANGE:
 * the IPA range does not fit 2^ipa_bits or the PA range 2^pa_bits;
 * -SHYPER_EEXIST: part of the range is mapped; -SHYPER_ENOMEM. On error the
 * tables are exactly as before and every frame taken was given back.
 */
int stage2_map(struct stage2 *s2, uint64_t ipa, uint64_t pa, uint64_t size,
	       unsigned flags);

/*
 * Remove whatever is mapped in [ipa, ipa + size) (holes are fine), splitting
 * blocks the range covers only partly and freeing tables left empty.
 * -SHYPER_EINVAL / -SHYPER_ERANGE as for stage2_map(); -SHYPER_ENOMEM if a
 * split needs a table that cannot be had, with every mapping unchanged.
 */
int stage2_unmap(struct stage2 *s2, uint64_t ipa, uint64_t size);

/*
 * Set the permissions (STAGE2_R/W/X only) of what is mapped in
 * [ipa, ipa + size); holes are skipped, the memory type is kept and Device
 * memory stays execute-never. Blocks the range covers partly are split only
 * where the permissions change. Errors as for stage2_unmap(), plus
 * -SHYPER_EINVAL for STAGE2_DEVICE or an unknown flag.
 */
int stage2_set_flags(struct stage2 *s2, uint64_t ipa, uint64_t size,
		     unsigned flags);

/*
 * The PA @ipa translates to and its STAGE2_* flags (either pointer may be
 * NULL). -SHYPER_ENOENT if unmapped, -SHYPER_ERANGE beyond 2^ipa_bits.
 */
int stage2_translate(const struct stage2 *s2, uint64_t ipa, uint64_t *pa,
		     unsigned *flags);

#endif
