/* Dirty-page bookkeeping (see core/dirty_bitmap.h). */
#include <core/dirty_bitmap.h>
#include <shyper/errno.h>
#include <lib/popcount.h>

static uint64_t pages_to_words(uint64_t pages)
{
	return (pages + DIRTY_WORD_BITS - 1) / DIRTY_WORD_BITS;
}

int dirty_bitmap_layout(struct dirty_bitmap *b, const uint64_t *ipa,
			const uint64_t *size, unsigned nr)
{
	size_t words = 0;

	if (!nr || nr > DIRTY_MAX_REGIONS)
		return -SHYPER_EINVAL;
	for (unsigned i = 0; i < nr; i++) {
		if (!size[i] || ((ipa[i] | size[i]) & (DIRTY_PAGE_SIZE - 1)) ||
		    ipa[i] + size[i] < ipa[i])
			return -SHYPER_EINVAL;
		for (unsigned j = 0; j < i; j++)
			if (ipa[i] < ipa[j] + size[j] && ipa[j] < ipa[i] + size[i])
				return -SHYPER_EINVAL;
	}
	*b = (struct dirty_bitmap){ .nr_regions = nr };
	for (unsigned i = 0; i < nr; i++) {
		b->region[i] = (struct dirty_region){
			.ipa = ipa[i],
			.pages = size[i] >> DIRTY_PAGE_SHIFT,
			.first = words,
		};
		words += pages_to_words(b->region[i].pages);
	}
	b->nr_words = words;
	return 0;
}

void dirty_bitmap_attach(struct dirty_bitmap *b, uint64_t *storage)
{
	for (size_t i = 0; i < b->nr_words; i++)
		storage[i] = 0;
	b->words = storage;
}

/* The region holding @ipa and the page's index in it, or NULL. */
static const struct dirty_region *region_of(const struct dirty_bitmap *b,
					    uint64_t ipa, uint64_t *page)
{
	for (unsigned i = 0; i < b->nr_regions; i++) {
		const struct dirty_region *r = &b->region[i];

		if (ipa >= r->ipa && ((ipa - r->ipa) >> DIRTY_PAGE_SHIFT) < r->pages) {
			*page = (ipa - r->ipa) >> DIRTY_PAGE_SHIFT;
			return r;
		}
	}
	return 0;
}

/* Sets bits [page, page + n) of region @r; returns how many were clear. */
static size_t set_bits(struct dirty_bitmap *b, const struct dirty_region *r,
		       uint64_t page, uint64_t n)
{
	size_t newly = 0;

	while (n) {
		unsigned bit = page % DIRTY_WORD_BITS;
		uint64_t take = DIRTY_WORD_BITS - bit < n ? DIRTY_WORD_BITS - bit : n;
		uint64_t mask = (take == DIRTY_WORD_BITS ? ~0ULL : ((1ULL << take) - 1)) << bit;
		uint64_t *word = &b->words[r->first + page / DIRTY_WORD_BITS];
		uint64_t old = __atomic_fetch_or(word, mask, __ATOMIC_ACQ_REL);

		newly += (size_t)popcount64(mask & ~old);
		page += take;
		n -= take;
	}
	return newly;
}

size_t dirty_bitmap_mark(struct dirty_bitmap *b, uint64_t ipa, uint64_t len)
{
	uint64_t end = ipa + len;
	size_t newly = 0;

	if (!b->words || !len)
		return 0;
	if (end < ipa)
		end = UINT64_MAX;
	for (unsigned i = 0; i < b->nr_regions; i++) {
		const struct dirty_region *r = &b->region[i];
		uint64_t r_end = r->ipa + (r->pages << DIRTY_PAGE_SHIFT);
		uint64_t lo = ipa > r->ipa ? ipa : r->ipa;
		uint64_t hi = end < r_end ? end : r_end;

		if (lo >= hi)
			continue;
		lo = (lo - r->ipa) >> DIRTY_PAGE_SHIFT;
		hi = (hi - r->ipa + DIRTY_PAGE_SIZE - 1) >> DIRTY_PAGE_SHIFT;
		newly += set_bits(b, r, lo, hi - lo);
	}
	return newly;
}

bool dirty_bitmap_covers(const struct dirty_bitmap *b, uint64_t ipa)
{
	uint64_t page;

	return region_of(b, ipa, &page) != 0;
}

bool dirty_bitmap_test(const struct dirty_bitmap *b, uint64_t ipa)
{
	uint64_t page;
	const struct dirty_region *r = region_of(b, ipa, &page);

	if (!r || !b->words)
		return false;
	return (__atomic_load_n(&b->words[r->first + page / DIRTY_WORD_BITS],
				__ATOMIC_ACQUIRE) >> (page % DIRTY_WORD_BITS)) & 1;
}

int dirty_bitmap_window(const struct dirty_bitmap *b, uint64_t ipa,
			uint64_t buflen, struct dirty_window *w)
{
	uint64_t page, room;
	const struct dirty_region *r = region_of(b, ipa, &page);

	if (!r || !buflen || (ipa - r->ipa) % DIRTY_WINDOW_ALIGN)
		return -SHYPER_EINVAL;
	room = buflen > UINT64_MAX / 8 ? UINT64_MAX : buflen * 8;
	w->region = (unsigned)(r - b->region);
	w->first = page;
	w->pages = r->pages - page < room ? r->pages - page : room;
	return 0;
}

/* A run of marked pages waiting for its end, then protected. */
struct run {
	uint64_t start, len;	/* pages in the region; len 0: none */
};

static void run_flush(struct dirty_bitmap *b, const struct dirty_region *r,
		      struct run *run,
		      int (*protect)(void *ctx, uint64_t ipa, uint64_t size), void *ctx)
{
	if (!run->len)
		return;
	if (protect(ctx, r->ipa + (run->start << DIRTY_PAGE_SHIFT),
		    run->len << DIRTY_PAGE_SHIFT))
		set_bits(b, r, run->start, run->len);
	run->len = 0;
}

uint64_t dirty_bitmap_fetch(struct dirty_bitmap *b, const struct dirty_window *w,
			    void *out,
			    int (*protect)(void *ctx, uint64_t ipa, uint64_t size),
			    void *ctx)
{
	const struct dirty_region *r = &b->region[w->region];
	uint8_t *bytes = out;
	uint64_t bytes_left = dirty_window_bytes(w), count = 0;
	struct run run = { 0, 0 };

	for (uint64_t done = 0; done < w->pages; done += DIRTY_WORD_BITS) {
		uint64_t n = w->pages - done < DIRTY_WORD_BITS ? w->pages - done : DIRTY_WORD_BITS;
		uint64_t mask = n == DIRTY_WORD_BITS ? ~0ULL : (1ULL << n) - 1;
		uint64_t *word = &b->words[r->first + (w->first + done) / DIRTY_WORD_BITS];
		uint64_t got = __atomic_fetch_and(word, ~mask, __ATOMIC_ACQ_REL) & mask;

		count += (uint64_t)popcount64(got);
		for (unsigned i = 0; i < 8 && bytes_left; i++, bytes_left--)
			*bytes++ = (uint8_t)(got >> (8 * i));
		if (!got) {
			run_flush(b, r, &run, protect, ctx);
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			uint64_t page = w->first + done + i;

			if (!((got >> i) & 1)) {
				run_flush(b, r, &run, protect, ctx);
				continue;
			}
			if (!run.len)
				run.start = page;
			run.len++;
		}
	}
	run_flush(b, r, &run, protect, ctx);
	return count;
}
