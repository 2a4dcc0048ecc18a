/*
 * Level-1 and level-2 block and level-3 page descriptors of the hypervisor's
 * identity map (Arm ARM D8.3: 4 KiB granule, a level-1 block maps 1 GiB, a
 * level-2 block 2 MiB, a level-3 page 4 KiB). Runs with the MMU off, or on
 * with these very addresses mapped: table addresses are physical.
 */
#include <arch/boot_map.h>

#define DESC_VALID 0x1UL
#define DESC_TABLE 0x3UL /* at levels 1 and 2: the next level's table */
#define DESC_PAGE 0x3UL	 /* at level 3: a page */
#define DESC_TYPE_MASK 0x3UL
#define DESC_ADDR_MASK 0x0000fffffffff000UL

#define L1_SIZE (1UL << BOOT_MAP_L1_SHIFT)
#define L2_SIZE (1UL << BOOT_MAP_L2_SHIFT)
#define L3_SIZE (1UL << BOOT_MAP_L3_SHIFT)

static int is_table(uint64_t d)
{
	return (d & DESC_TYPE_MASK) == DESC_TABLE;
}

/* The next-level table under *@entry, made from whatever block (or
 * nothing) the entry held, so the rest of its range keeps its mapping:
 * @step is the size each new entry maps, @type what a new entry is (a
 * block at level 2, a page at level 3). */
static uint64_t *split(uint64_t *entry, uint64_t (*pool)[BOOT_MAP_ENTRIES], size_t nr,
		       size_t *used, uint64_t step, uint64_t type)
{
	uint64_t d = *entry, *t;

	if (is_table(d))
		return (uint64_t *)(uintptr_t)(d & DESC_ADDR_MASK);
	if (*used == nr)
		return NULL;
	t = pool[(*used)++];
	for (size_t j = 0; j < BOOT_MAP_ENTRIES; j++)
		t[j] = (d & DESC_VALID) ? (d & ~(DESC_ADDR_MASK | DESC_TYPE_MASK)) | type |
						  ((d & DESC_ADDR_MASK) + j * step)
					: 0;
	*entry = (uint64_t)(uintptr_t)t | DESC_TABLE;
	return t;
}

static uint64_t *l2_of(struct boot_map *m, uint64_t pa)
{
	return split(&m->l1[pa >> BOOT_MAP_L1_SHIFT], m->l2, m->nr_l2, &m->used_l2, L2_SIZE,
		     DESC_VALID);
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
		t = l2_of(m, pa);
		if (!t)
			return -1;
		for (; pa < end && (pa >> BOOT_MAP_L1_SHIFT) == i; pa += L2_SIZE)
			t[(pa >> BOOT_MAP_L2_SHIFT) & (BOOT_MAP_ENTRIES - 1)] = pa | attrs | DESC_VALID;
	}
	return 0;
}

int boot_map_pages(struct boot_map *m, uint64_t base, uint64_t size, uint64_t attrs)
{
	uint64_t end = base + size;

	if (!size || end < base || (base | size) & (L3_SIZE - 1) ||
	    end > (uint64_t)BOOT_MAP_ENTRIES << BOOT_MAP_L1_SHIFT)
		return -1;
	attrs &= ~(DESC_ADDR_MASK | DESC_TYPE_MASK);
	for (uint64_t pa = base; pa < end;) {
		uint64_t *l2 = l2_of(m, pa), *l3;

		if (!l2)
			return -1;
		l3 = split(&l2[(pa >> BOOT_MAP_L2_SHIFT) & (BOOT_MAP_ENTRIES - 1)], m->l3, m->nr_l3,
			   &m->used_l3, L3_SIZE, DESC_PAGE);
		if (!l3)
			return -1;
		for (uint64_t blk = pa >> BOOT_MAP_L2_SHIFT; pa < end && pa >> BOOT_MAP_L2_SHIFT == blk;
		     pa += L3_SIZE)
			l3[(pa >> BOOT_MAP_L3_SHIFT) & (BOOT_MAP_ENTRIES - 1)] = pa | attrs | DESC_PAGE;
	}
	return 0;
}

uint64_t *boot_map_entry(uint64_t *l1, uint64_t va)
{
	uint64_t *d;

	if ((va >> BOOT_MAP_L1_SHIFT) >= BOOT_MAP_ENTRIES)
		return NULL;
	d = &l1[va >> BOOT_MAP_L1_SHIFT];
	if (is_table(*d)) {
		d = (uint64_t *)(uintptr_t)(*d & DESC_ADDR_MASK) +
		    ((va >> BOOT_MAP_L2_SHIFT) & (BOOT_MAP_ENTRIES - 1));
		if (is_table(*d))
			d = (uint64_t *)(uintptr_t)(*d & DESC_ADDR_MASK) +
			    ((va >> BOOT_MAP_L3_SHIFT) & (BOOT_MAP_ENTRIES - 1));
	}
	return (*d & DESC_VALID) ? d : NULL;
}

uint64_t boot_map_lookup(const struct boot_map *m, uint64_t va)
{
	uint64_t *d = boot_map_entry(m->l1, va);

	return d ? *d : 0;
}
