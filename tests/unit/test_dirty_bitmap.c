/*
 * Dirty-page bookkeeping (hv/core/dirty_bitmap.c): layout over several RAM
 * regions, marks (partial pages, holes, region edges, wrapping ranges),
 * fetch windows (alignment, clipping at the buffer and the region end),
 * fetch-and-clear (exact bits out, only the window cleared, the protect
 * callback given exactly the marked runs, a failed protect keeping its
 * marks), a randomized interleaving of marks and fetches against a model,
 * and threads marking while another fetches: no mark is ever lost.
 *
 * unit-sources: hv/core/dirty_bitmap.c
 * unit-libs: -lpthread
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <cmocka.h>

#include <core/dirty_bitmap.h>
#include <shyper/errno.h>

#define PAGE	0x1000ULL
#define MIB	0x100000ULL
#define GIB	(1024 * MIB)

/* Three regions: 1 MiB + 3 pages (a partial last word), 2 MiB, 1 GiB. */
static const uint64_t r_ipa[] = { 0x40000000, 0x80000000, 0x100000000 };
static const uint64_t r_size[] = { MIB + 3 * PAGE, 2 * MIB, GIB };

struct fixture {
	struct dirty_bitmap b;
	uint64_t *storage;
};

#define MAX_RUNS 4096

static struct protect_log {
	size_t n;
	uint64_t ipa[MAX_RUNS], size[MAX_RUNS];
	int fail_at;	/* this call fails (1-based); 0: none */
} plog;

static int protect_cb(void *ctx, uint64_t ipa, uint64_t size)
{
	assert_ptr_equal(ctx, &plog);
	assert_true(plog.n < MAX_RUNS);
	plog.ipa[plog.n] = ipa;
	plog.size[plog.n] = size;
	plog.n++;
	return (int)plog.n == plog.fail_at ? -SHYPER_ENOMEM : 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(dirty_bitmap_layout(&f->b, r_ipa, r_size, 3), 0);
	f->storage = malloc(dirty_bitmap_bytes(&f->b));
	assert_non_null(f->storage);
	memset(f->storage, 0xff, dirty_bitmap_bytes(&f->b));
	dirty_bitmap_attach(&f->b, f->storage);
	memset(&plog, 0, sizeof(plog));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->storage);
	free(f);
	return 0;
}

static uint64_t fetch_all(struct dirty_bitmap *b, uint64_t ipa, uint64_t buflen,
			  uint8_t *out, struct dirty_window *w)
{
	assert_int_equal(dirty_bitmap_window(b, ipa, buflen, w), 0);
	return dirty_bitmap_fetch(b, w, out, protect_cb, &plog);
}

static void test_layout(void **state)
{
	struct dirty_bitmap b;
	uint64_t ipa[2] = { 0, 0x10000 }, size[2] = { 0x10000, PAGE };

	(void)state;
	assert_int_equal(dirty_bitmap_layout(&b, r_ipa, r_size, 3), 0);
	assert_null(b.words);
	/* 259 pages -> 5 words, 512 -> 8, 262144 -> 4096. */
	assert_int_equal(b.region[0].first, 0);
	assert_int_equal(b.region[1].first, 5);
	assert_int_equal(b.region[2].first, 13);
	assert_int_equal(b.nr_words, 13 + 4096);
	assert_int_equal(dirty_bitmap_bytes(&b), 8 * (13 + 4096));

	assert_int_equal(dirty_bitmap_layout(&b, ipa, size, 2), 0);
	assert_int_equal(dirty_bitmap_layout(&b, ipa, size, 0), -SHYPER_EINVAL);
	assert_int_equal(dirty_bitmap_layout(&b, ipa, size, DIRTY_MAX_REGIONS + 1),
			 -SHYPER_EINVAL);
	size[1] = 0;
	assert_int_equal(dirty_bitmap_layout(&b, ipa, size, 2), -SHYPER_EINVAL);
	size[1] = 0x800;
	assert_int_equal(dirty_bitmap_layout(&b, ipa, size, 2), -SHYPER_EINVAL);
	size[1] = PAGE;
	ipa[1] = 0x10800;
	assert_int_equal(dirty_bitmap_layout(&b, ipa, size, 2), -SHYPER_EINVAL);
	ipa[1] = 0xf000; /* overlaps the first */
	assert_int_equal(dirty_bitmap_layout(&b, ipa, size, 2), -SHYPER_EINVAL);
	ipa[1] = UINT64_MAX - PAGE + 1;
	size[1] = 2 * PAGE; /* wraps */
	assert_int_equal(dirty_bitmap_layout(&b, ipa, size, 2), -SHYPER_EINVAL);
}

static void test_attach_clears(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < f->b.nr_words; i++)
		assert_int_equal(f->storage[i], 0);
}

static void test_mark(void **state)
{
	struct fixture *f = *state;
	struct dirty_bitmap *b = &f->b;

	/* One byte, then the same page again: set once. */
	assert_int_equal(dirty_bitmap_mark(b, r_ipa[0] + 5 * PAGE + 7, 1), 1);
	assert_int_equal(dirty_bitmap_mark(b, r_ipa[0] + 5 * PAGE, PAGE), 0);
	assert_true(dirty_bitmap_test(b, r_ipa[0] + 5 * PAGE));
	assert_false(dirty_bitmap_test(b, r_ipa[0] + 4 * PAGE));
	assert_false(dirty_bitmap_test(b, r_ipa[0] + 6 * PAGE));
	/* Two bytes across a page line: both pages. */
	assert_int_equal(dirty_bitmap_mark(b, r_ipa[1] + PAGE - 1, 2), 2);
	assert_true(dirty_bitmap_test(b, r_ipa[1]));
	assert_true(dirty_bitmap_test(b, r_ipa[1] + PAGE));
	/* A range across a word line (pages 60..70). */
	assert_int_equal(dirty_bitmap_mark(b, r_ipa[2] + 60 * PAGE, 11 * PAGE), 11);
	assert_int_equal(f->storage[13] >> 60, 0xf);
	assert_int_equal(f->storage[14], 0x7f);
	/* Straddling a region's start and end: only the RAM part. */
	assert_int_equal(dirty_bitmap_mark(b, r_ipa[1] - 4 * PAGE, 5 * PAGE), 0);
	assert_int_equal(dirty_bitmap_mark(b, r_ipa[0] + r_size[0] - PAGE, 8 * PAGE), 1);
	/* The last page of region 0 is bit 2 of word 4; padding stays clear. */
	assert_int_equal(f->storage[4], 0x4);
	/* Outside RAM, empty, and wrapping at the top of the address space. */
	assert_int_equal(dirty_bitmap_mark(b, 0, r_ipa[0]), 0);
	assert_int_equal(dirty_bitmap_mark(b, r_ipa[0], 0), 0);
	assert_int_equal(dirty_bitmap_mark(b, UINT64_MAX - PAGE, 4 * PAGE), 0);
	assert_false(dirty_bitmap_test(b, 0));
	/* A range spanning all three regions. */
	assert_int_equal(dirty_bitmap_mark(b, r_ipa[0], r_ipa[2] + GIB - r_ipa[0]),
			 259 + 512 + 262144 - 1 - 2 - 11 - 1);
	assert_true(dirty_bitmap_covers(b, r_ipa[2] + GIB - 1));
	assert_false(dirty_bitmap_covers(b, r_ipa[2] + GIB));
	assert_false(dirty_bitmap_covers(b, r_ipa[0] + r_size[0]));
}

static void test_mark_unattached(void **state)
{
	struct dirty_bitmap b;

	(void)state;
	assert_int_equal(dirty_bitmap_layout(&b, r_ipa, r_size, 3), 0);
	assert_int_equal(dirty_bitmap_mark(&b, r_ipa[0], PAGE), 0);
	assert_false(dirty_bitmap_test(&b, r_ipa[0]));
}

static void test_window(void **state)
{
	struct fixture *f = *state;
	struct dirty_window w;

	assert_int_equal(dirty_bitmap_window(&f->b, r_ipa[0], 1000, &w), 0);
	assert_int_equal(w.region, 0);
	assert_int_equal(w.first, 0);
	assert_int_equal(w.pages, 259); /* clipped at the region's end */
	assert_int_equal(dirty_window_bytes(&w), 33);
	assert_int_equal(dirty_bitmap_window(&f->b, r_ipa[0] + DIRTY_WINDOW_ALIGN, 1000, &w), 0);
	assert_int_equal(w.first, 64);
	assert_int_equal(w.pages, 195);
	/* Clipped at the buffer: 3 bytes are 24 pages. */
	assert_int_equal(dirty_bitmap_window(&f->b, r_ipa[2] + 2 * DIRTY_WINDOW_ALIGN, 3, &w), 0);
	assert_int_equal(w.region, 2);
	assert_int_equal(w.first, 128);
	assert_int_equal(w.pages, 24);
	/* A huge buffer does not overflow. */
	assert_int_equal(dirty_bitmap_window(&f->b, r_ipa[2], UINT64_MAX, &w), 0);
	assert_int_equal(w.pages, 262144);

	assert_int_equal(dirty_bitmap_window(&f->b, r_ipa[0] + PAGE, 8, &w), -SHYPER_EINVAL);
	assert_int_equal(dirty_bitmap_window(&f->b, r_ipa[0], 0, &w), -SHYPER_EINVAL);
	assert_int_equal(dirty_bitmap_window(&f->b, r_ipa[0] + r_size[0], 8, &w),
			 -SHYPER_EINVAL);
	assert_int_equal(dirty_bitmap_window(&f->b, 0, 8, &w), -SHYPER_EINVAL);
}

static void test_fetch_clears_and_reports(void **state)
{
	struct fixture *f = *state;
	struct dirty_bitmap *b = &f->b;
	struct dirty_window w;
	uint8_t out[64];

	dirty_bitmap_mark(b, r_ipa[0], PAGE);			/* page 0 */
	dirty_bitmap_mark(b, r_ipa[0] + 9 * PAGE, 3 * PAGE);	/* 9, 10, 11 */
	dirty_bitmap_mark(b, r_ipa[0] + 62 * PAGE, 4 * PAGE);	/* 62..65 */
	dirty_bitmap_mark(b, r_ipa[0] + 258 * PAGE, PAGE);	/* the last */
	memset(out, 0xee, sizeof(out));
	assert_int_equal(fetch_all(b, r_ipa[0], sizeof(out), out, &w), 9);
	assert_int_equal(out[0], 0x01);
	assert_int_equal(out[1], 0x0e);
	assert_int_equal(out[7], 0xc0);
	assert_int_equal(out[8], 0x03);
	assert_int_equal(out[32], 0x04);
	assert_int_equal(out[33], 0xee); /* nothing past the window's bytes */
	/* One protect call per run, the run across the word line in one. */
	assert_int_equal(plog.n, 4);
	assert_int_equal(plog.ipa[0], r_ipa[0]);
	assert_int_equal(plog.size[0], PAGE);
	assert_int_equal(plog.ipa[1], r_ipa[0] + 9 * PAGE);
	assert_int_equal(plog.size[1], 3 * PAGE);
	assert_int_equal(plog.ipa[2], r_ipa[0] + 62 * PAGE);
	assert_int_equal(plog.size[2], 4 * PAGE);
	assert_int_equal(plog.ipa[3], r_ipa[0] + 258 * PAGE);
	assert_int_equal(plog.size[3], PAGE);
	for (size_t i = 0; i < b->nr_words; i++)
		assert_int_equal(f->storage[i], 0);
	/* A second fetch finds nothing and protects nothing. */
	plog.n = 0;
	assert_int_equal(fetch_all(b, r_ipa[0], sizeof(out), out, &w), 0);
	assert_int_equal(plog.n, 0);
	for (unsigned i = 0; i < 33; i++)
		assert_int_equal(out[i], 0);
}

static void test_fetch_window_only(void **state)
{
	struct fixture *f = *state;
	struct dirty_bitmap *b = &f->b;
	struct dirty_window w;
	uint8_t out[4];

	/* Pages 64..127 of region 2, and one page in each other region. */
	dirty_bitmap_mark(b, r_ipa[2] + 64 * PAGE, 64 * PAGE);
	dirty_bitmap_mark(b, r_ipa[1], PAGE);
	dirty_bitmap_mark(b, r_ipa[0] + r_size[0] - PAGE, PAGE);
	/* A 3-byte buffer at page 64: pages 64..87, a part of one word. */
	assert_int_equal(fetch_all(b, r_ipa[2] + DIRTY_WINDOW_ALIGN, 3, out, &w), 24);
	assert_int_equal(out[0], 0xff);
	assert_int_equal(out[2], 0xff);
	assert_int_equal(plog.n, 1);
	assert_int_equal(plog.ipa[0], r_ipa[2] + 64 * PAGE);
	assert_int_equal(plog.size[0], 24 * PAGE);
	/* The rest of that word is still marked, and the other regions. */
	assert_false(dirty_bitmap_test(b, r_ipa[2] + 87 * PAGE));
	for (unsigned p = 88; p < 128; p++)
		assert_true(dirty_bitmap_test(b, r_ipa[2] + p * PAGE));
	assert_true(dirty_bitmap_test(b, r_ipa[1]));
	assert_true(dirty_bitmap_test(b, r_ipa[0] + r_size[0] - PAGE));
}

static void test_fetch_protect_failure_keeps_marks(void **state)
{
	struct fixture *f = *state;
	struct dirty_bitmap *b = &f->b;
	struct dirty_window w;
	uint8_t out[64];

	dirty_bitmap_mark(b, r_ipa[1] + 2 * PAGE, PAGE);
	dirty_bitmap_mark(b, r_ipa[1] + 100 * PAGE, 30 * PAGE); /* across a word line */
	dirty_bitmap_mark(b, r_ipa[1] + 300 * PAGE, PAGE);
	plog.fail_at = 2;
	assert_int_equal(fetch_all(b, r_ipa[1], sizeof(out), out, &w), 32);
	assert_int_equal(plog.n, 3);
	/* Reported now, and again at the next fetch, as it could not be protected. */
	assert_false(dirty_bitmap_test(b, r_ipa[1] + 2 * PAGE));
	assert_false(dirty_bitmap_test(b, r_ipa[1] + 300 * PAGE));
	for (unsigned p = 100; p < 130; p++)
		assert_true(dirty_bitmap_test(b, r_ipa[1] + p * PAGE));
	assert_false(dirty_bitmap_test(b, r_ipa[1] + 130 * PAGE));
	plog.n = 0;
	plog.fail_at = 0;
	assert_int_equal(fetch_all(b, r_ipa[1], sizeof(out), out, &w), 30);
	assert_int_equal(plog.n, 1);
	assert_int_equal(plog.size[0], 30 * PAGE);
}

/* Deterministic xorshift64*. */
static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (rng * 0x2545f4914f6cdd1dULL) % n;
}

/*
 * Region 1 (512 pages), marks and fetches interleaved at random: a fetch
 * returns exactly the pages marked since that page was last fetched.
 */
static void test_no_lost_marks_model(void **state)
{
	struct fixture *f = *state;
	struct dirty_bitmap *b = &f->b;
	bool pending[512] = { 0 };
	uint8_t out[64];

	for (int step = 0; step < 20000; step++) {
		if (rnd(3)) {
			uint64_t off = rnd(512 * PAGE), len = 1 + rnd(5 * PAGE);
			uint64_t end = off + len > 512 * PAGE ? 512 * PAGE : off + len;

			dirty_bitmap_mark(b, r_ipa[1] + off, len);
			for (uint64_t p = off / PAGE; p < (end + PAGE - 1) / PAGE; p++)
				pending[p] = true;
			continue;
		}
		uint64_t start = rnd(8) * DIRTY_WINDOW_PAGES;
		struct dirty_window w;

		memset(out, 0, sizeof(out));
		plog.n = 0;
		fetch_all(b, r_ipa[1] + start * PAGE, 1 + rnd(64), out, &w);
		for (uint64_t i = 0; i < w.pages; i++) {
			assert_int_equal((out[i / 8] >> (i % 8)) & 1, pending[start + i]);
			pending[start + i] = false;
		}
		/* Protected runs cover exactly the fetched pages. */
		for (size_t k = 0; k < plog.n; k++)
			for (uint64_t a = plog.ipa[k]; a < plog.ipa[k] + plog.size[k]; a += PAGE) {
				uint64_t i = (a - r_ipa[1]) / PAGE - start;

				assert_true(i < w.pages);
				assert_true((out[i / 8] >> (i % 8)) & 1);
			}
	}
}

/* ---- threads: markers race a fetcher; the union of fetches is everything marked ---- */

/*
 * Markers race one fetcher over region 1 (512 pages, 8 words). Each marker
 * owns every third page; per round it marks its pages and waits until the
 * fetcher has reported each of them once more. A mark a fetch lost would
 * leave its marker waiting: that fails on a timeout. A page must be
 * reported exactly once per round.
 */
#define MARKERS 3
#define RACE_PAGES 512
#define ROUNDS 300
#define WAIT_NS (5ULL * 1000000000ULL)

static struct {
	struct dirty_bitmap *b;
	uint32_t reported[RACE_PAGES];	/* atomic: times the fetcher saw it */
	uint32_t finished;		/* atomic: markers done (or given up) */
	uint32_t lost;			/* atomic: a marker timed out */
} race;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int protect_nop(void *ctx, uint64_t ipa, uint64_t size)
{
	(void)ctx;
	(void)ipa;
	(void)size;
	return 0;
}

static bool round_reported(unsigned id, uint32_t round)
{
	for (unsigned p = id; p < RACE_PAGES; p += MARKERS)
		if (__atomic_load_n(&race.reported[p], __ATOMIC_ACQUIRE) < round)
			return false;
	return true;
}

static void *marker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;

	for (uint32_t round = 1; round <= ROUNDS; round++) {
		uint64_t deadline = now_ns() + WAIT_NS;

		for (unsigned p = id; p < RACE_PAGES; p += MARKERS)
			dirty_bitmap_mark(race.b, r_ipa[1] + (uint64_t)p * PAGE + p % PAGE, 1);
		while (!round_reported(id, round))
			if (now_ns() > deadline) {
				__atomic_store_n(&race.lost, 1, __ATOMIC_RELEASE);
				goto out;
			}
	}
out:
	__atomic_fetch_add(&race.finished, 1, __ATOMIC_ACQ_REL);
	return 0;
}

static void test_threads_no_lost_marks(void **state)
{
	struct fixture *f = *state;
	pthread_t th[MARKERS];
	uint8_t out[RACE_PAGES / 8];
	struct dirty_window w;

	memset(&race, 0, sizeof(race));
	race.b = &f->b;
	for (uintptr_t i = 0; i < MARKERS; i++)
		assert_int_equal(pthread_create(&th[i], 0, marker, (void *)i), 0);
	assert_int_equal(dirty_bitmap_window(&f->b, r_ipa[1], sizeof(out), &w), 0);
	while (__atomic_load_n(&race.finished, __ATOMIC_ACQUIRE) < MARKERS) {
		dirty_bitmap_fetch(&f->b, &w, out, protect_nop, 0);
		for (unsigned i = 0; i < RACE_PAGES; i++)
			if ((out[i / 8] >> (i % 8)) & 1)
				__atomic_fetch_add(&race.reported[i], 1, __ATOMIC_ACQ_REL);
	}
	for (unsigned i = 0; i < MARKERS; i++)
		pthread_join(th[i], 0);
	assert_int_equal(race.lost, 0);
	for (unsigned p = 0; p < RACE_PAGES; p++)
		assert_int_equal(race.reported[p], ROUNDS);
	for (size_t i = 0; i < f->b.nr_words; i++)
		assert_int_equal(f->storage[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test_setup_teardown(test_attach_clears, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark, setup, teardown),
		cmocka_unit_test(test_mark_unattached),
		cmocka_unit_test_setup_teardown(test_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_clears_and_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_window_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_protect_failure_keeps_marks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_lost_marks_model, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_no_lost_marks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
