/*
 * Dirty-page bookkeeping for migration pre-copy: one bit per 4 KiB page of
 * each of a VM's RAM regions. Pure code (no arch, no globals): the caller
 * provides the storage and decides what "protect" means, so the host tests
 * run it as is.
 *
 * Layout: every region starts on a fresh 64-bit word, so a window whose
 * start is a multiple of DIRTY_WINDOW_PAGES pages into its region is
 * word-aligned; the padding bits after a region's last page are never set.
 *
 * Concurrency: marking and fetching are atomic per word, so a page marked
 * while a fetch runs is reported by this fetch or by the next one, never
 * lost. The caller serialises fetch against anything that makes a page
 * writable again (dirty_log.c holds the VM's stage-2 lock across both).
 */
#ifndef CORE_DIRTY_BITMAP_H
#define CORE_DIRTY_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIRTY_PAGE_SHIFT	12
#define DIRTY_PAGE_SIZE		(1ULL << DIRTY_PAGE_SHIFT)
#define DIRTY_WORD_BITS		64
/* A fetch window starts this many pages (256 KiB) into its region, or a multiple. */
#define DIRTY_WINDOW_PAGES	DIRTY_WORD_BITS
#define DIRTY_WINDOW_ALIGN	(DIRTY_WINDOW_PAGES * DIRTY_PAGE_SIZE)
#define DIRTY_MAX_REGIONS	4

struct dirty_region {
	uint64_t ipa;	/* first byte, page aligned */
	uint64_t pages;
	size_t first;	/* its first word in the bitmap */
};

struct dirty_bitmap {
	uint64_t *words;	/* NULL until attached */
	size_t nr_words;
	unsigned nr_regions;
	struct dirty_region region[DIRTY_MAX_REGIONS];
};

/* Pages [first, first + pages) of one region: what one fetch covers. */
struct dirty_window {
	unsigned region;
	uint64_t first;	/* page index in the region, a multiple of DIRTY_WINDOW_PAGES */
	uint64_t pages;
};

/*
 * Lays the bitmap out over @nr regions ([ipa[i], ipa[i] + size[i])) and
 * leaves it unattached. -SHYPER_EINVAL: no region, too many, a region empty
 * or not page aligned, wrapping, or two overlapping.
 */
int dirty_bitmap_layout(struct dirty_bitmap *b, const uint64_t *ipa,
			const uint64_t *size, unsigned nr);

/* Bytes of storage the layout needs (a multiple of 8). */
static inline size_t dirty_bitmap_bytes(const struct dirty_bitmap *b)
{
	return b->nr_words * sizeof(uint64_t);
}

/* Starts using @storage (dirty_bitmap_bytes() of it, 8-byte aligned), cleared here. */
void dirty_bitmap_attach(struct dirty_bitmap *b, uint64_t *storage);

/*
 * Sets the bit of every page [ipa, ipa + len) touches that lies in a
 * region (the rest is ignored). Returns how many bits were newly set.
 */
size_t dirty_bitmap_mark(struct dirty_bitmap *b, uint64_t ipa, uint64_t len);

/* True if the page holding @ipa is RAM of the layout. */
bool dirty_bitmap_covers(const struct dirty_bitmap *b, uint64_t ipa);

/* True if the page holding @ipa is marked. */
bool dirty_bitmap_test(const struct dirty_bitmap *b, uint64_t ipa);

/*
 * The window that starts at @ipa and fits @buflen bytes of output (8 pages
 * a byte), clipped at the end of the region. -SHYPER_EINVAL if @ipa is not
 * in a region, not DIRTY_WINDOW_ALIGN into it, or @buflen is 0.
 */
int dirty_bitmap_window(const struct dirty_bitmap *b, uint64_t ipa,
			uint64_t buflen, struct dirty_window *w);

/* Bytes a fetch of @w writes: one bit a page, rounded up to a byte. */
static inline uint64_t dirty_window_bytes(const struct dirty_window *w)
{
	return (w->pages + 7) / 8;
}

/*
 * Takes the marks of @w: clears them, writes them to @out (bit i of byte
 * i / 8 is page w->first + i, little-endian as the MVM reads it) and calls
 * @protect once per run of consecutive marked pages, so that the next write
 * to them is seen again. If @protect fails for a run, its marks are set
 * back (the pages stay reported until a fetch manages to protect them).
 * Returns the number of marked pages written to @out.
 */
uint64_t dirty_bitmap_fetch(struct dirty_bitmap *b, const struct dirty_window *w,
			    void *out,
			    int (*protect)(void *ctx, uint64_t ipa, uint64_t size),
			    void *ctx);

#endif
