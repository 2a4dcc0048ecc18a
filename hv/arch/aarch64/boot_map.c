/*
 * Level-1 and level-2 block descriptors of the hypervisor's identity map
 * (Arm ARM D8.3: 4 KiB granule, a level-1 block maps 1 GiB, a level-2 block
 * 2 MiB). Runs with the MMU off: table addresses are physical addresses.
 */
#include <arch/boot_map.h>

#define DESC_VALID 0x1UL
#define DESC_TABLE 0x3UL /* at level 1: the next level's table */
#define DESC_TYPE_MASK 0x3UL
#define DESC_ADDR_MASK 0x0000fffffffff000UL

#define L1_SIZE (1UL << BOOT_MAP_L1_SHIFT)
#define L2_SIZE (1UL << BOOT_MAP_L2_SHIFT)

static int is_table(uint64_t d)
{
	return (d & DESC_TYPE_MASK) == DESC_TABLE;
}

/* The level-2 table under level-1 entry @i, made from whatever block (or
 * nothing) the entry held so the rest of that GiB keeps its mapping. */
static uint64_t *split(struct boot_map *m, size_t i)
{
	uint64_t d = m->l1[i], *t;

	if (is_table(d))
		return (uint64_t *)(uintptr_t)(d & DESC_ADDR_MASK);
	if (m->used_l2 == m->nr_l2)
		return NULL;
	t = m->l2[m->used_l2++];
	for (size_t j = 0; j < BOOT_MAP_ENTRIES; j++)
		t[j] = (d & DESC_VALID) ? (d & ~DESC_ADDR_MASK) | ((d & DESC_ADDR_MASK) + j * L2_SIZE)
					: 0;
	m->l1[i] = (uint64_t)(uintptr_t)t | DESC_TABLE;
	return t;
}

int boot_map_range(struct boot_map *m, uint64_t base, uint64_t size, uint64_t attrs)
{
	uint64_t end = base + size;

	if (!size || end < base || (base | size) & (L2_SIZE - 1) ||
	    end > (uint64_t)BOOT_MAP_ENTRIES << BOOT_MAP_L1_SHIFT)
		return -1;
	attrs &= ~(DESC_ADDR_MASK | DESC_TYPE_MASK);
	for (uint64_t pa = base; pa < end;) {
		size_t i = pa >> BOOT_MAP_L1_SHIFT;
		uint64_t *t;

		if (!(pa & (L1_SIZE - 1)) && end - pa >= L1_SIZE) {
			/* A whole GiB: a block (an earlier table is dropped, its
			 * pool slot stays used: the pool is sized per board). */
			m->l1[i] = pa | attrs | DESC_VALID;
			pa += L1_SIZE;
			continue;
		}
		t = split(m, i);
		if (!t)
			return -1;
		for (; pa < end && (pa >> BOOT_MAP_L1_SHIFT) == i; pa += L2_SIZE)
			t[(pa >> BOOT_MAP_L2_SHIFT) & (BOOT_MAP_ENTRIES - 1)] = pa | attrs | DESC_VALID;
	}
	return 0;
}

uint64_t boot_map_lookup(const struct boot_map *m, uint64_t va)
{
	size_t i = va >> BOOT_MAP_L1_SHIFT;
	uint64_t d;

	if (i >= BOOT_MAP_ENTRIES)
		return 0;
	d = m->l1[i];
	if (!is_table(d))
		return d;
	return ((const uint64_t *)(uintptr_t)(d & DESC_ADDR_MASK))[(va >> BOOT_MAP_L2_SHIFT) &
								    (BOOT_MAP_ENTRIES - 1)];
}
