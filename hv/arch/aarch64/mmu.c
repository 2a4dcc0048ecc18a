/*
 * The hypervisor's own EL2 stage-1 tables: an identity map built from 1 GiB
 * blocks in one level-1 table (4 KiB granule, 39-bit VA). The MMIO window is
 * mapped Device-nGnRE and never executable; the RAM window is Normal
 * write-back. Guests never see these tables: they run under stage 2.
 *
 * This code runs with the MMU off, when every data access is Device memory:
 * the hypervisor is built with -mstrict-align so no access here is unaligned.
 */
#include <arch/mmu.h>
#include <arch/sysreg.h>
#include <plat/platform.h>
#include <stddef.h>

/* Arm ARM D8.3 VMSAv8-64 translation table descriptors. */
#define PTE_BLOCK 0x1UL
#define PTE_ATTRINDX(i) ((uint64_t)(i) << 2)
#define PTE_SH_INNER (3UL << 8)
#define PTE_AF (1UL << 10)
#define PTE_XN (1UL << 54) /* EL2 regime: single execute-never bit */

#define L1_BLOCK_SHIFT 30
#define L1_ENTRIES 512

/* MAIR_EL2 attribute indices and encodings (Arm ARM D19.2.82). */
#define MAIR_IDX_NORMAL 0
#define MAIR_IDX_DEVICE 1
#define MAIR_NORMAL_WB 0xffUL
#define MAIR_DEVICE_NGNRE 0x04UL

/* TCR_EL2 fields, non-VHE layout (Arm ARM D19.2.137). */
#define TCR_EL2_RES1 ((1UL << 31) | (1UL << 23))
#define TCR_T0SZ(bits) (64UL - (bits))
#define TCR_IRGN0_WBWA (1UL << 8)
#define TCR_ORGN0_WBWA (1UL << 10)
#define TCR_SH0_INNER (3UL << 12)
#define TCR_TG0_4K (0UL << 14)
#define TCR_PS_SHIFT 16
#define HV_VA_BITS 39

#define SCTLR_M (1UL << 0)
#define SCTLR_C (1UL << 2)
#define SCTLR_I (1UL << 12)

static uint64_t boot_l1_table[L1_ENTRIES] __attribute__((aligned(4096)));

static void map_gib_blocks(uint64_t base, uint64_t size, uint64_t attrs)
{
	for (uint64_t pa = base; pa < base + size; pa += 1UL << L1_BLOCK_SHIFT) {
		size_t idx = pa >> L1_BLOCK_SHIFT;

		if (idx < L1_ENTRIES)
			boot_l1_table[idx] = pa | attrs;
	}
}

/* PARange encodings 0..6 as address bits (Arm ARM D19.2.64). */
unsigned mmu_pa_bits(void)
{
	static const unsigned char bits[] = { 32, 36, 40, 42, 44, 48, 52 };
	uint64_t range = sysreg_read(id_aa64mmfr0_el1) & ID_AA64MMFR0_PARANGE_MASK;

	return range < sizeof(bits) ? bits[range] : 48;
}

void mmu_build_boot_tables(uint64_t dtb_pa)
{
	(void)dtb_pa; /* the DTB lies in the RAM window, which is mapped whole */

	map_gib_blocks(PLAT_MMIO_WINDOW_BASE, PLAT_MMIO_WINDOW_SIZE,
		       PTE_BLOCK | PTE_ATTRINDX(MAIR_IDX_DEVICE) | PTE_AF |
			       PTE_XN);
	map_gib_blocks(PLAT_RAM_WINDOW_BASE, PLAT_RAM_WINDOW_SIZE,
		       PTE_BLOCK | PTE_ATTRINDX(MAIR_IDX_NORMAL) | PTE_AF |
			       PTE_SH_INNER);
	dsb(sy);
}

/* A live update's new image: its own copy of the same map, on a core
 * whose MMU is on (the old image's tables are identical but go away). */
void mmu_switch_tables(void)
{
	dsb(sy);
	sysreg_write(ttbr0_el2, (uint64_t)boot_l1_table);
	isb();
	__asm__ volatile("tlbi alle2" ::: "memory");
	dsb(sy);
	isb();
}

static uint64_t tcr_ps_field(void)
{
	/* 40 bits cover the whole table; never claim more than the CPU has. */
	uint64_t range = sysreg_read(id_aa64mmfr0_el1) & ID_AA64MMFR0_PARANGE_MASK;

	return (range < 2 ? range : 2) << TCR_PS_SHIFT;
}

void mmu_enable(void)
{
	sysreg_write(mair_el2, (MAIR_NORMAL_WB << (8 * MAIR_IDX_NORMAL)) |
				       (MAIR_DEVICE_NGNRE << (8 * MAIR_IDX_DEVICE)));
	sysreg_write(tcr_el2, TCR_EL2_RES1 | TCR_T0SZ(HV_VA_BITS) |
				      TCR_IRGN0_WBWA | TCR_ORGN0_WBWA |
				      TCR_SH0_INNER | TCR_TG0_4K | tcr_ps_field());
	sysreg_write(ttbr0_el2, (uint64_t)boot_l1_table);
	dsb(sy);
	__asm__ volatile("tlbi alle2" ::: "memory");
	dsb(sy);
	isb();
	/* Any line cached before the MMU came on may be stale: start clean. */
	__asm__ volatile("ic iallu" ::: "memory");
	sysreg_write(sctlr_el2, sysreg_read(sctlr_el2) | SCTLR_M | SCTLR_C | SCTLR_I);
	isb();
}
