/*
 * Physical page-frame pool: one contiguous range of 4 KiB frames tracked
 * by a bitmap (bit set = frame in use). No locking inside: the caller
 * serialises access. All state is in struct frame_pool and the bitmap
 * storage the caller provides, so it can be handed over in a live update.
 */
#ifndef CORE_FRAME_H
#define CORE_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <lib/bitmap.h>

#define FRAME_SHIFT	12
#define FRAME_SIZE	(1UL << FRAME_SHIFT)

/* Returned by frame_alloc() on failure; 0 is a valid physical address. */
#define FRAME_NONE	UINT64_MAX

/* Words of bitmap storage frame_pool_init() needs for @nr_frames. */
#define FRAME_MAP_WORDS(nr_frames)	BITMAP_WORDS(nr_frames)

struct frame_pool {
	uint64_t base;		/* physical address of frame 0 */
	size_t nr_frames;
	size_t nr_free;
	unsigned long *map;
};

/*
 * All frames start free. @base should be frame aligned; if it is not, it is
 * rounded up and the partial first frame is dropped.
 */
void frame_pool_init(struct frame_pool *p, uint64_t base, size_t nr_frames,
		     unsigned long *map_storage);

/*
 * Mark [pa, pa + nr frames) used. -SHYPER_EINVAL if not frame aligned,
 * empty or outside the pool; -SHYPER_EBUSY if any frame is already used.
 */
int frame_pool_reserve(struct frame_pool *p, uint64_t pa, size_t nr);

/*
 * @nr contiguous free frames whose physical address is a multiple of
 * @align_frames frames (a power of two; 0 means 1); FRAME_NONE if none.
 */
uint64_t frame_alloc(struct frame_pool *p, size_t nr, size_t align_frames);

/*
 * Release frames. -SHYPER_EINVAL, with nothing changed, if the range is
 * misaligned, empty, outside the pool or contains a free frame.
 */
int frame_free(struct frame_pool *p, uint64_t pa, size_t nr);

size_t frame_pool_free(const struct frame_pool *p);

#endif
