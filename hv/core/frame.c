/*
 * Page-frame pool over a bitmap. Allocation is first fit over the bitmap,
 * so low addresses fill first and a run of frees gives back a contiguous
 * region.
 */
#include <core/frame.h>
#include <shyper/errno.h>

#define FRAME_MASK	(FRAME_SIZE - 1)

void frame_pool_init(struct frame_pool *p, uint64_t base, size_t nr_frames,
		     unsigned long *map_storage)
{
	if ((base & FRAME_MASK) && nr_frames) {
		base = (base | FRAME_MASK) + 1;
		nr_frames--;
	}
	p->base = base;
	p->nr_frames = nr_frames;
	p->nr_free = nr_frames;
	p->map = map_storage;
	bitmap_zero(p->map, nr_frames);
}

/* Frame index of [pa, pa + nr frames) if it lies inside the pool. */
static int range_to_index(const struct frame_pool *p, uint64_t pa, size_t nr,
			  size_t *index)
{
	uint64_t first;

	if (nr == 0 || (pa & FRAME_MASK) || pa < p->base)
		return -SHYPER_EINVAL;
	first = (pa - p->base) >> FRAME_SHIFT;
	if (first >= p->nr_frames || nr > p->nr_frames - first)
		return -SHYPER_EINVAL;
	*index = (size_t)first;
	return 0;
}

int frame_pool_reserve(struct frame_pool *p, uint64_t pa, size_t nr)
{
	size_t first;
	int ret = range_to_index(p, pa, nr, &first);

	if (ret)
		return ret;
	if (bitmap_find_next_set(p->map, first + nr, first) < first + nr)
		return -SHYPER_EBUSY;
	bitmap_set_range(p->map, first, nr);
	p->nr_free -= nr;
	return 0;
}

uint64_t frame_alloc(struct frame_pool *p, size_t nr, size_t align_frames)
{
	size_t skew, idx, found;

	if (align_frames == 0)
		align_frames = 1;
	if ((align_frames & (align_frames - 1)) || nr == 0 || nr > p->nr_free)
		return FRAME_NONE;

	/*
	 * The alignment is of physical addresses; the pool base need not be
	 * aligned to it, so index i is aligned when (i + skew) % align == 0.
	 */
	skew = (size_t)(p->base >> FRAME_SHIFT) & (align_frames - 1);
	idx = skew ? align_frames - skew : 0;
	while (idx < p->nr_frames) {
		found = bitmap_find_zero_area(p->map, p->nr_frames, idx, nr, 1);
		if (found >= p->nr_frames)
			return FRAME_NONE;
		if (found > SIZE_MAX - skew - (align_frames - 1))
			return FRAME_NONE;
		idx = ((found + skew + align_frames - 1) & ~(align_frames - 1)) -
		      skew;
		if (idx == found) {
			bitmap_set_range(p->map, found, nr);
			p->nr_free -= nr;
			return p->base + ((uint64_t)found << FRAME_SHIFT);
		}
	}
	return FRAME_NONE;
}

int frame_free(struct frame_pool *p, uint64_t pa, size_t nr)
{
	size_t first;
	int ret = range_to_index(p, pa, nr, &first);

	if (ret)
		return ret;
	/* Every frame must be in use, or this is a double free. */
	if (bitmap_find_next_zero(p->map, first + nr, first) < first + nr)
		return -SHYPER_EINVAL;
	bitmap_clear_range(p->map, first, nr);
	p->nr_free += nr;
	return 0;
}

size_t frame_pool_free(const struct frame_pool *p)
{
	return p->nr_free;
}
