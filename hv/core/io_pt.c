/*
 * DMA translation tables (see core/io_pt.h). Levels 0..3, 512 entries each;
 * level 1 and 2 entries may be blocks.
 */
#include <core/io_pt.h>
#include <shyper/errno.h>
#include <stdbool.h>

#define PT_PAGE_SHIFT	12
#define PT_LEVEL_BITS	9
#define PT_ENTRIES	(1U << PT_LEVEL_BITS)
#define PT_LAST_LEVEL	3
#define PT_ADDR_MASK	0x0000fffffffff000ULL
#define PT_TYPE_MASK	3ULL
#define PT_BLOCK	1ULL	/* levels 1 and 2 */
#define PT_TABLE	3ULL	/* levels 0..2 */
#define PT_PAGE		3ULL	/* level 3 */

static unsigned level_shift(unsigned level)
{
	return PT_PAGE_SHIFT + PT_LEVEL_BITS * (PT_LAST_LEVEL - level);
}

static uint64_t *table(const struct io_pt_ops *ops, uint64_t pa)
{
	return ops->to_virt(ops->ctx, pa);
}

static void desc_write(const struct io_pt_ops *ops, uint64_t *e, uint64_t desc)
{
	*(volatile uint64_t *)e = desc;
	if (ops->written)
		ops->written(ops->ctx, e, sizeof(*e));
}

static unsigned index_at(uint64_t iova, unsigned level)
{
	return (unsigned)(iova >> level_shift(level)) & (PT_ENTRIES - 1);
}

/* The table under entry @e (allocated if the entry is invalid), or 0. */
static uint64_t next_table(struct io_pt *pt, const struct io_pt_ops *ops, uint64_t *e,
			   int *err)
{
	uint64_t pa;

	if ((*e & PT_TYPE_MASK) == PT_TABLE)
		return *e & PT_ADDR_MASK;
	if (*e & 1) {
		*err = -SHYPER_EEXIST; /* a block is already there */
		return 0;
	}
	pa = ops->alloc_table(ops->ctx);
	if (pa == IO_PT_NO_FRAME) {
		*err = -SHYPER_ENOMEM;
		return 0;
	}
	pt->nr_tables++;
	if (ops->written) /* its zeroes before the entry that points to it */
		ops->written(ops->ctx, table(ops, pa), (size_t)PT_ENTRIES * 8);
	desc_write(ops, e, pa | PT_TABLE);
	return pa;
}

static int map_one(struct io_pt *pt, const struct io_pt_ops *ops, uint64_t iova, uint64_t pa,
		   unsigned leaf_level)
{
	uint64_t t = pt->root_pa;
	int err = 0;

	for (unsigned level = 0; level < leaf_level; level++) {
		t = next_table(pt, ops, &table(ops, t)[index_at(iova, level)], &err);
		if (!t)
			return err;
	}
	uint64_t *e = &table(ops, t)[index_at(iova, leaf_level)];

	if (*e & 1)
		return -SHYPER_EEXIST;
	desc_write(ops, e, (pa & PT_ADDR_MASK) | IO_PT_LEAF_ATTRS |
				   (leaf_level == PT_LAST_LEVEL ? PT_PAGE : PT_BLOCK));
	return 0;
}

int io_pt_map(struct io_pt *pt, const struct io_pt_ops *ops, uint64_t iova, uint64_t pa,
	      uint64_t size)
{
	const uint64_t page = 1ULL << PT_PAGE_SHIFT;

	if (!size || ((iova | pa | size) & (page - 1)) || iova + size < iova ||
	    pa + size < pa || (iova + size - 1) >> IO_PT_VA_BITS ||
	    (pa + size - 1) >> IO_PT_VA_BITS)
		return -SHYPER_EINVAL;
	if (!pt->root_pa) {
		uint64_t root = ops->alloc_table(ops->ctx);

		if (root == IO_PT_NO_FRAME)
			return -SHYPER_ENOMEM;
		pt->root_pa = root;
		pt->nr_tables = 1;
		if (ops->written)
			ops->written(ops->ctx, table(ops, root), (size_t)PT_ENTRIES * 8);
	}
	while (size) {
		unsigned level = 1;
		int ret;

		/* The largest block both addresses are aligned to that fits. */
		while (level < PT_LAST_LEVEL) {
			uint64_t blk = 1ULL << level_shift(level);

			if (!((iova | pa) & (blk - 1)) && size >= blk)
				break;
			level++;
		}
		ret = map_one(pt, ops, iova, pa, level);
		if (ret)
			return ret;
		iova += 1ULL << level_shift(level);
		pa += 1ULL << level_shift(level);
		size -= 1ULL << level_shift(level);
	}
	return 0;
}

int io_pt_translate(const struct io_pt *pt, const struct io_pt_ops *ops, uint64_t iova,
		    uint64_t *pa)
{
	uint64_t t = pt->root_pa;

	if (!t || iova >> IO_PT_VA_BITS)
		return -SHYPER_ENOENT;
	for (unsigned level = 0; level <= PT_LAST_LEVEL; level++) {
		uint64_t e = table(ops, t)[index_at(iova, level)];
		uint64_t mask = (1ULL << level_shift(level)) - 1;

		if (!(e & 1))
			return -SHYPER_ENOENT;
		if (level == PT_LAST_LEVEL || (e & PT_TYPE_MASK) == PT_BLOCK) {
			*pa = (e & PT_ADDR_MASK & ~mask) | (iova & mask);
			return 0;
		}
		t = e & PT_ADDR_MASK;
	}
	return -SHYPER_ENOENT;
}

static void free_level(struct io_pt *pt, const struct io_pt_ops *ops, uint64_t t,
		       unsigned level)
{
	const uint64_t *entries = table(ops, t);

	for (unsigned i = 0; level < PT_LAST_LEVEL && i < PT_ENTRIES; i++)
		if ((entries[i] & PT_TYPE_MASK) == PT_TABLE)
			free_level(pt, ops, entries[i] & PT_ADDR_MASK, level + 1);
	ops->free_table(ops->ctx, t);
	pt->nr_tables--;
}

void io_pt_destroy(struct io_pt *pt, const struct io_pt_ops *ops)
{
	if (pt->root_pa)
		free_level(pt, ops, pt->root_pa, 0);
	pt->root_pa = 0;
	pt->nr_tables = 0;
}
