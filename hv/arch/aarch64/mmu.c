/*
 * The hypervisor's own EL2 stage-1 tables: an identity map of the board's
 * regions (platform.h's PLAT_MEMORY_MAP) in 1 GiB blocks, and 2 MiB blocks
 * where a region shares a GiB with another (arch/boot_map.h); 4 KiB granule,
 * 39-bit VA. Device regions are Device-nGnRE and never executable; RAM is
 * Normal write-back and never executable either, except the image's own
 * text, which is read-only (W^X: the image in 4 KiB pages, text read-only
 * and executable, read-only data, .bss writable; SCTLR_EL2.WXN on top).
 * Guests never see these tables: they run under stage 2.
 *
 * This code runs with the MMU off, when every data access is Device memory:
 * the hypervisor is built with -mstrict-align so no access here is unaligned.
 */
#include <arch/asm.h>
#include <arch/boot_map.h>
#include <arch/cpu.h>
#include <arch/mmu.h>
#include <arch/sysreg.h>
#include <plat/platform.h>
#include <stddef.h>

/* Arm ARM D8.3 VMSAv8-64 translation table descriptors. */
#define PTE_ATTRINDX(i) ((uint64_t)(i) << 2)
#define PTE_SH_INNER (3UL << 8)
#define PTE_AF (1UL << 10)
#define PTE_RDONLY (1UL << 7) /* AP[2] */
#define PTE_XN (1UL << 54) /* EL2 regime: single execute-never bit */


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
#define SCTLR_WXN (1UL << 19)

#ifndef PLAT_MAP_L2_TABLES
#define PLAT_MAP_L2_TABLES 0
#endif

#define NORMAL_RW (PTE_ATTRINDX(MAIR_IDX_NORMAL) | PTE_AF | PTE_SH_INNER | PTE_XN)
#define NORMAL_RO (NORMAL_RW | PTE_RDONLY)
#define NORMAL_RX ((NORMAL_RW | PTE_RDONLY) & ~PTE_XN)
#define DEVICE_RW (PTE_ATTRINDX(MAIR_IDX_DEVICE) | PTE_AF | PTE_XN)

/* Beyond the platform's level-2 tables: the image's GiB, and the GiB of
 * the other update slot; two level-3 tables for the image's pages (it is
 * at most 2 MiB, so it touches at most two 2 MiB blocks). */
#define L2_TABLES (PLAT_MAP_L2_TABLES + 2)
#define L3_TABLES 2

extern char _image_start[], _rodata_start[], _bss_start[], _image_end[];

static uint64_t boot_l1_table[BOOT_MAP_ENTRIES] __attribute__((aligned(4096)));
static uint64_t boot_l2_tables[L2_TABLES][BOOT_MAP_ENTRIES] __attribute__((aligned(4096)));
static uint64_t boot_l3_tables[L3_TABLES][BOOT_MAP_ENTRIES] __attribute__((aligned(4096)));
static const struct plat_map_region plat_map[] = PLAT_MEMORY_MAP;

/* PARange encodings 0..6 as address bits (Arm ARM D19.2.64). */
unsigned mmu_pa_bits(void)
{
	static const unsigned char bits[] = { 32, 36, 40, 42, 44, 48, 52 };
	uint64_t range = sysreg_read(id_aa64mmfr0_el1) & ID_AA64MMFR0_PARANGE_MASK;

	return range < sizeof(bits) ? bits[range] : 48;
}

void mmu_build_boot_tables(uint64_t dtb_pa)
{
	struct boot_map m = { .nr_l2 = L2_TABLES, .nr_l3 = L3_TABLES };
	uint64_t text = (uint64_t)_image_start, ro = (uint64_t)_rodata_start;
	uint64_t rw = (uint64_t)_bss_start, end = (uint64_t)_image_end;

	(void)dtb_pa; /* the DTB lies in RAM, which is mapped whole */
	/* Set here, not in an initializer: that would be a template in .data. */
	m.l1 = boot_l1_table;
	m.l2 = boot_l2_tables;
	m.l3 = boot_l3_tables;
	for (size_t i = 0; i < BOOT_MAP_ENTRIES; i++)
		boot_l1_table[i] = 0;
	/* Later regions override earlier ones; a region that does not fit
	 * the tables is left out (platform.h is checked by the unit test). */
	for (size_t i = 0; i < sizeof(plat_map) / sizeof(plat_map[0]); i++)
		(void)boot_map_range(&m, plat_map[i].base, plat_map[i].size,
				     plat_map[i].type == PLAT_MAP_DEVICE ? DEVICE_RW : NORMAL_RW);
	/* The image over them, page by page (its bounds are page aligned). */
	(void)boot_map_pages(&m, text, ro - text, NORMAL_RX);
	(void)boot_map_pages(&m, ro, rw - ro, NORMAL_RO);
	(void)boot_map_pages(&m, rw, end - rw, NORMAL_RW);
	/* Each core's stack guard page (arch/asm.h). */
	for (unsigned c = 0; c < HV_MAX_CPUS; c++) {
		uint64_t *d = boot_map_entry(boot_l1_table,
					     (uint64_t)hv_stacks + (uint64_t)c * HV_STACK_SIZE);

		if (d)
			*d = 0;
	}
	dsb(sy);
}

void mmu_open_image(uint64_t pa, uint64_t size)
{
	/* Permissions only: every descriptor keeps its level and address, so
	 * no break-before-make; the other cores are parked (update_switch.c). */
	for (uint64_t a = pa & ~0xfffUL; a < pa + size; a += 0x1000) {
		uint64_t *d = boot_map_entry(boot_l1_table, a);

		if (d)
			*d &= ~(PTE_XN | PTE_RDONLY);
	}
	dsb(ishst);
	__asm__ volatile("tlbi alle2is" ::: "memory");
	dsb(ish);
	isb();
	mmu_allow_foreign_code();
}

void mmu_allow_foreign_code(void)
{
	sysreg_write(sctlr_el2, sysreg_read(sctlr_el2) & ~SCTLR_WXN);
	isb();
	__asm__ volatile("tlbi alle2" ::: "memory"); /* WXN may be cached in the TLB */
	dsb(nsh);
	isb();
}

/* A live update's new image: its own copy of the same map, on a core
 * whose MMU is on (the old image's tables are identical but go away). */
void mmu_switch_tables(void)
{
	dsb(sy);
	sysreg_write(ttbr0_el2, (uint64_t)boot_l1_table);
	isb();
	sysreg_write(sctlr_el2, sysreg_read(sctlr_el2) | SCTLR_WXN);
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
	sysreg_write(sctlr_el2,
		     sysreg_read(sctlr_el2) | SCTLR_M | SCTLR_C | SCTLR_I | SCTLR_WXN);
	isb();
}
