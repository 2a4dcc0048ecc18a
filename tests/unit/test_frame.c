/*
 * Frame pool: allocation order and alignment (also with a pool base that is
 * not aligned to the requested alignment), exhaustion, reserve, rejected
 * frees that change nothing, and a randomized run against a shadow model.
 *
 * unit-sources: hv/core/frame.c hv/lib/bitmap.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <core/frame.h>
#include <shyper/errno.h>

#define BASE		0x40000000ull
#define NR		1000	/* not a multiple of the word size */

static unsigned long map[FRAME_MAP_WORDS(NR)];

static uint64_t pa(size_t frame)
{
	return BASE + (uint64_t)frame * FRAME_SIZE;
}

static void test_basic(void **state)
{
	struct frame_pool p;

	(void)state;
	assert_int_equal(FRAME_SIZE, 4096);
	frame_pool_init(&p, BASE, NR, map);
	assert_int_equal(frame_pool_free(&p), NR);
	assert_int_equal(frame_alloc(&p, 1, 1), pa(0));
	assert_int_equal(frame_alloc(&p, 1, 0), pa(1));
	assert_int_equal(frame_alloc(&p, 3, 1), pa(2));
	/* 16-frame (64 KiB) alignment skips to frame 16. */
	assert_int_equal(frame_alloc(&p, 2, 16), pa(16));
	assert_int_equal(frame_alloc(&p, 1, 1), pa(5));
	assert_int_equal(frame_pool_free(&p), NR - 8);

	assert_int_equal(frame_free(&p, pa(2), 3), 0);
	assert_int_equal(frame_alloc(&p, 2, 1), pa(2));
	assert_int_equal(frame_pool_free(&p), NR - 7);

	/* Invalid requests. */
	assert_int_equal(frame_alloc(&p, 0, 1), FRAME_NONE);
	assert_int_equal(frame_alloc(&p, 1, 3), FRAME_NONE);
	assert_int_equal(frame_alloc(&p, NR, 1), FRAME_NONE);
	assert_int_equal(frame_alloc(&p, 1, (SIZE_MAX >> 1) + 1), FRAME_NONE);
	assert_int_equal(frame_pool_free(&p), NR - 7);
}

static void test_double_and_bad_free(void **state)
{
	struct frame_pool p;
	uint64_t a;

	(void)state;
	frame_pool_init(&p, BASE, NR, map);
	a = frame_alloc(&p, 4, 1);
	assert_int_equal(a, pa(0));
	assert_int_equal(frame_free(&p, a, 4), 0);
	assert_int_equal(frame_free(&p, a, 4), -SHYPER_EINVAL);
	assert_int_equal(frame_pool_free(&p), NR);

	a = frame_alloc(&p, 4, 1);
	/* Partly free range: rejected as a whole, nothing changes. */
	assert_int_equal(frame_free(&p, a + 2 * FRAME_SIZE, 4), -SHYPER_EINVAL);
	assert_int_equal(frame_pool_free(&p), NR - 4);
	assert_int_equal(frame_free(&p, a + 1, 1), -SHYPER_EINVAL);
	assert_int_equal(frame_free(&p, BASE - FRAME_SIZE, 1), -SHYPER_EINVAL);
	assert_int_equal(frame_free(&p, pa(NR), 1), -SHYPER_EINVAL);
	assert_int_equal(frame_free(&p, pa(NR - 1), 2), -SHYPER_EINVAL);
	assert_int_equal(frame_free(&p, a, 0), -SHYPER_EINVAL);
	assert_int_equal(frame_free(&p, a, SIZE_MAX), -SHYPER_EINVAL);
	assert_int_equal(frame_free(&p, UINT64_MAX & ~(FRAME_SIZE - 1), 1),
			 -SHYPER_EINVAL);
	assert_int_equal(frame_pool_free(&p), NR - 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(frame_free(&p, a + i * FRAME_SIZE, 1), 0);
	assert_int_equal(frame_pool_free(&p), NR);
}

static void test_reserve(void **state)
{
	struct frame_pool p;

	(void)state;
	frame_pool_init(&p, BASE, NR, map);
	assert_int_equal(frame_pool_reserve(&p, pa(0), 10), 0);
	assert_int_equal(frame_pool_reserve(&p, pa(9), 2), -SHYPER_EBUSY);
	assert_int_equal(frame_pool_reserve(&p, pa(NR - 1), 2), -SHYPER_EINVAL);
	assert_int_equal(frame_pool_reserve(&p, pa(20) + 8, 1), -SHYPER_EINVAL);
	assert_int_equal(frame_pool_reserve(&p, BASE - FRAME_SIZE, 1),
			 -SHYPER_EINVAL);
	assert_int_equal(frame_pool_reserve(&p, pa(20), 0), -SHYPER_EINVAL);
	assert_int_equal(frame_pool_free(&p), NR - 10);
	assert_int_equal(frame_alloc(&p, 1, 1), pa(10));
	assert_int_equal(frame_pool_reserve(&p, pa(NR - 5), 5), 0);
	/* A run that only fits where reserved frames are: none. */
	assert_int_equal(frame_alloc(&p, NR - 15, 1), FRAME_NONE);
	assert_int_equal(frame_alloc(&p, NR - 16, 1), pa(11));
	assert_int_equal(frame_pool_free(&p), 0);
	assert_int_equal(frame_alloc(&p, 1, 1), FRAME_NONE);
}

static void test_exhaustion(void **state)
{
	struct frame_pool p;
	uint64_t a;

	(void)state;
	frame_pool_init(&p, BASE, NR, map);
	for (size_t i = 0; i < NR; i++)
		assert_int_equal(frame_alloc(&p, 1, 1), pa(i));
	assert_int_equal(frame_alloc(&p, 1, 1), FRAME_NONE);
	assert_int_equal(frame_pool_free(&p), 0);
	/* Free every other frame: lots free, nothing contiguous. */
	for (size_t i = 0; i < NR; i += 2)
		assert_int_equal(frame_free(&p, pa(i), 1), 0);
	assert_int_equal(frame_pool_free(&p), NR / 2);
	assert_int_equal(frame_alloc(&p, 2, 1), FRAME_NONE);
	a = frame_alloc(&p, 1, 2);
	assert_int_equal(a, pa(0));
	assert_int_equal(frame_alloc(&p, 1, 4), pa(4));
}

static void test_unaligned_base(void **state)
{
	struct frame_pool p;
	/* Base 3 frames past a 64 KiB boundary. */
	const uint64_t base = 0x80000000ull + 3 * FRAME_SIZE;
	uint64_t a;

	(void)state;
	frame_pool_init(&p, base, NR, map);
	a = frame_alloc(&p, 1, 16);
	assert_int_equal(a % (16 * FRAME_SIZE), 0);
	assert_int_equal(a, base + 13 * FRAME_SIZE);
	a = frame_alloc(&p, 20, 8);
	assert_int_equal(a % (8 * FRAME_SIZE), 0);
	assert_int_equal(a, base + 21 * FRAME_SIZE);
	assert_int_equal(frame_alloc(&p, 1, 1), base);

	/* A base that is not even frame aligned loses its partial frame. */
	frame_pool_init(&p, BASE + 100, NR, map);
	assert_int_equal(p.base, BASE + FRAME_SIZE);
	assert_int_equal(frame_pool_free(&p), NR - 1);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

struct alloc {
	uint64_t pa;
	size_t nr;
};

static void test_random_cycles(void **state)
{
	struct frame_pool p;
	static struct alloc live[NR];
	static bool used[NR];
	size_t nlive = 0, frames_used = 0;

	(void)state;
	frame_pool_init(&p, BASE, NR, map);
	for (int round = 0; round < 5; round++) {
		for (int op = 0; op < 3000; op++) {
			if (nlive && (rnd() % 3 == 0 || nlive == NR)) {
				size_t k = rnd() % nlive;
				struct alloc a = live[k];

				assert_int_equal(frame_free(&p, a.pa, a.nr), 0);
				for (size_t i = 0; i < a.nr; i++)
					used[(a.pa - BASE) / FRAME_SIZE + i] = false;
				frames_used -= a.nr;
				live[k] = live[--nlive];
				/* Freeing it again is caught. */
				assert_int_equal(frame_free(&p, a.pa, a.nr),
						 -SHYPER_EINVAL);
				continue;
			}
			size_t nr = 1 + rnd() % 8;
			size_t align = (size_t)1 << (rnd() % 4);
			uint64_t a = frame_alloc(&p, nr, align);

			if (a == FRAME_NONE)
				continue;
			assert_int_equal((a - BASE) % (align * FRAME_SIZE), 0);
			for (size_t i = 0; i < nr; i++) {
				size_t f = (a - BASE) / FRAME_SIZE + i;

				assert_true(f < NR);
				assert_false(used[f]);
				used[f] = true;
			}
			frames_used += nr;
			live[nlive].pa = a;
			live[nlive++].nr = nr;
			assert_int_equal(frame_pool_free(&p), NR - frames_used);
		}
		while (nlive) {
			nlive--;
			assert_int_equal(frame_free(&p, live[nlive].pa, live[nlive].nr), 0);
			for (size_t i = 0; i < live[nlive].nr; i++)
				used[(live[nlive].pa - BASE) / FRAME_SIZE + i] = false;
		}
		frames_used = 0;
		assert_int_equal(frame_pool_free(&p), NR);
		/* Everything really is free again: one run of all frames. */
		assert_int_equal(frame_alloc(&p, NR, 1), BASE);
		assert_int_equal(frame_free(&p, BASE, NR), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_double_and_bad_free),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_unaligned_base),
		cmocka_unit_test(test_random_cycles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
