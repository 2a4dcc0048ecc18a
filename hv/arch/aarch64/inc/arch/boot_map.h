/*
 * The hypervisor's identity map as a list of regions (platform.h's
 * PLAT_MEMORY_MAP), written into a level-1 table of 1 GiB blocks and, where
 * a region starts or ends inside a GiB, level-2 tables of 2 MiB blocks. A
 * board's peripherals often share a GiB with RAM (the RPi4's at 0xfc000000,
 * the RK3588's at 0xf0000000): that GiB must not be mapped Normal whole,
 * or the core may fetch speculatively from device registers. The image
 * itself is mapped in 4 KiB pages (level-3 tables) so that its code is
 * never writable and nothing else executable.
 *
 * Pure table arithmetic, no system registers: unit-tested on the host.
 */
#ifndef ARCH_BOOT_MAP_H
#define ARCH_BOOT_MAP_H

#include <stddef.h>
#include <stdint.h>

#define BOOT_MAP_ENTRIES 512
#define BOOT_MAP_L1_SHIFT 30
#define BOOT_MAP_L2_SHIFT 21
#define BOOT_MAP_L3_SHIFT 12

enum plat_map_type {
	PLAT_MAP_DEVICE,
	PLAT_MAP_NORMAL,
};

struct plat_map_region {
	uint64_t base;
	uint64_t size;
	enum plat_map_type type;
};

struct boot_map {
	uint64_t *l1;		/* BOOT_MAP_ENTRIES entries */
	uint64_t (*l2)[BOOT_MAP_ENTRIES]; /* a pool of level-2 tables */
	size_t nr_l2;
	size_t used_l2;
	uint64_t (*l3)[BOOT_MAP_ENTRIES]; /* a pool of level-3 tables */
	size_t nr_l3;
	size_t used_l3;
};

/*
 * Maps [base, base + size) with the block attributes @attrs (lower and upper
 * attributes, no address, no type bits), over whatever an earlier call
 * mapped there. Both ends must be 2 MiB aligned and inside the level-1
 * table. 0, or -1 on a bad range or when the level-2 pool is used up.
 */
int boot_map_range(struct boot_map *m, uint64_t base, uint64_t size, uint64_t attrs);

/* The same in 4 KiB pages: both ends 4 KiB aligned. */
int boot_map_pages(struct boot_map *m, uint64_t base, uint64_t size, uint64_t attrs);

/* The descriptor (block or page) that maps @va in the tables under @l1,
 * or NULL if none does. */
uint64_t *boot_map_entry(uint64_t *l1, uint64_t va);

/* The block or page descriptor that maps @va, or 0. */
uint64_t boot_map_lookup(const struct boot_map *m, uint64_t va);

#endif
