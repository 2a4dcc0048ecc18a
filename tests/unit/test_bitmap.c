/*
 * Bitmaps against a bool-array model: single bits, ranges across word
 * boundaries, searches, zero areas with alignment, weight; popcount64
 * (lib/popcount.h) against a bit-by-bit count.
 *
 * unit-sources: hv/lib/bitmap.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <lib/bitmap.h>
#include <lib/popcount.h>

#define NBITS	333	/* not a multiple of the word size */

static uint64_t rng_state = 0x1234567887654321ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static size_t model_next(const bool *m, size_t nbits, size_t start, bool val)
{
	for (size_t i = start; i < nbits; i++)
		if (m[i] == val)
			return i;
	return nbits;
}

static size_t model_zero_area(const bool *m, size_t nbits, size_t start,
			      size_t count, size_t align)
{
	if (align == 0)
		align = 1;
	if (count == 0 || (align & (align - 1)))
		return nbits;
	for (size_t i = (start + align - 1) / align * align;
	     i + count <= nbits; i += align) {
		size_t j;

		for (j = 0; j < count && !m[i + j]; j++)
			;
		if (j == count)
			return i;
	}
	return nbits;
}

static void check_against_model(const unsigned long *map, const bool *m)
{
	size_t weight = 0;

	for (size_t i = 0; i < NBITS; i++) {
		assert_int_equal(bitmap_test(map, i), m[i]);
		weight += m[i];
	}
	assert_int_equal(bitmap_weight(map, NBITS), weight);
	for (size_t s = 0; s <= NBITS + 2; s += 7) {
		assert_int_equal(bitmap_find_next_set(map, NBITS, s),
				 model_next(m, NBITS, s, true));
		assert_int_equal(bitmap_find_next_zero(map, NBITS, s),
				 model_next(m, NBITS, s, false));
	}
	for (size_t count = 1; count <= 70; count += 3) {
		for (size_t align = 1; align <= 64; align <<= 1) {
			size_t start = rnd() % (NBITS + 10);

			assert_int_equal(
				bitmap_find_zero_area(map, NBITS, start, count, align),
				model_zero_area(m, NBITS, start, count, align));
		}
	}
}

static void test_single_bits(void **state)
{
	unsigned long map[BITMAP_WORDS(130)];

	(void)state;
	assert_int_equal(BITMAP_WORDS(0), 0);
	assert_int_equal(BITMAP_WORDS(1), 1);
	assert_int_equal(BITMAP_WORDS(BITS_PER_LONG), 1);
	assert_int_equal(BITMAP_WORDS(BITS_PER_LONG + 1), 2);
	assert_int_equal(BITMAP_WORDS(SIZE_MAX), SIZE_MAX / BITS_PER_LONG + 1);

	bitmap_zero(map, 130);
	assert_int_equal(bitmap_weight(map, 130), 0);
	bitmap_set(map, 0);
	bitmap_set(map, 63);
	bitmap_set(map, 64);
	bitmap_set(map, 129);
	assert_true(bitmap_test(map, 0));
	assert_true(bitmap_test(map, 63));
	assert_true(bitmap_test(map, 64));
	assert_true(bitmap_test(map, 129));
	assert_false(bitmap_test(map, 1));
	assert_false(bitmap_test(map, 128));
	assert_int_equal(bitmap_weight(map, 130), 4);
	/* Weight counts only the first nbits. */
	assert_int_equal(bitmap_weight(map, 129), 3);
	assert_int_equal(bitmap_weight(map, 64), 2);
	bitmap_clear(map, 63);
	assert_false(bitmap_test(map, 63));
	assert_int_equal(bitmap_find_next_set(map, 130, 1), 64);
	assert_int_equal(bitmap_find_next_set(map, 130, 65), 129);
	assert_int_equal(bitmap_find_next_set(map, 129, 65), 129);
	assert_int_equal(bitmap_find_next_zero(map, 130, 0), 1);
	assert_int_equal(bitmap_find_next_zero(map, 130, 64), 65);
	assert_int_equal(bitmap_find_next_zero(map, 130, 200), 130);
}

static void test_ranges(void **state)
{
	unsigned long map[BITMAP_WORDS(NBITS)];
	bool m[NBITS] = { false };

	(void)state;
	bitmap_zero(map, NBITS);
	bitmap_set_range(map, 60, 200);
	for (size_t i = 60; i < 260; i++)
		m[i] = true;
	check_against_model(map, m);
	bitmap_clear_range(map, 63, 66);
	for (size_t i = 63; i < 129; i++)
		m[i] = false;
	check_against_model(map, m);
	bitmap_set_range(map, 0, 0);
	bitmap_clear_range(map, 5, 0);
	check_against_model(map, m);
	bitmap_set_range(map, 0, NBITS);
	assert_int_equal(bitmap_weight(map, NBITS), NBITS);
	assert_int_equal(bitmap_find_next_zero(map, NBITS, 0), NBITS);
	assert_int_equal(bitmap_find_zero_area(map, NBITS, 0, 1, 1), NBITS);
}

static void test_zero_area_edges(void **state)
{
	unsigned long map[BITMAP_WORDS(256)];

	(void)state;
	bitmap_zero(map, 256);
	assert_int_equal(bitmap_find_zero_area(map, 256, 0, 256, 1), 0);
	assert_int_equal(bitmap_find_zero_area(map, 256, 1, 256, 1), 256);
	assert_int_equal(bitmap_find_zero_area(map, 256, 0, 257, 1), 256);
	assert_int_equal(bitmap_find_zero_area(map, 256, 0, 0, 1), 256);
	assert_int_equal(bitmap_find_zero_area(map, 256, 0, 4, 3), 256);
	assert_int_equal(bitmap_find_zero_area(map, 256, 0, 4, 0), 0);
	assert_int_equal(bitmap_find_zero_area(map, 256, 3, 4, 0), 3);
	assert_int_equal(bitmap_find_zero_area(map, 256, 3, 4, 128), 128);
	assert_int_equal(bitmap_find_zero_area(map, 256, 129, 4, 128), 256);
	assert_int_equal(bitmap_find_zero_area(map, 256, SIZE_MAX - 3, 4, 64),
			 256);
	assert_int_equal(bitmap_find_zero_area(map, 256, 0, 4,
					       (SIZE_MAX >> 1) + 1), 0);
	bitmap_set(map, 0);
	assert_int_equal(bitmap_find_zero_area(map, 256, 0, 4,
					       (SIZE_MAX >> 1) + 1), 256);
	/* A set bit inside the candidate run pushes past it, aligned. */
	bitmap_set(map, 70);
	assert_int_equal(bitmap_find_zero_area(map, 256, 64, 8, 8), 72);
	assert_int_equal(bitmap_find_zero_area(map, 256, 64, 8, 16), 80);
	assert_int_equal(bitmap_find_zero_area(map, 256, 0, 64, 64), 128);
}

static void test_random_against_model(void **state)
{
	unsigned long map[BITMAP_WORDS(NBITS)];
	bool m[NBITS] = { false };

	(void)state;
	bitmap_zero(map, NBITS);
	for (int round = 0; round < 300; round++) {
		size_t start = rnd() % NBITS;
		size_t count = rnd() % (NBITS - start + 1);

		switch (rnd() % 4) {
		case 0:
			bitmap_set_range(map, start, count);
			for (size_t i = start; i < start + count; i++)
				m[i] = true;
			break;
		case 1:
			bitmap_clear_range(map, start, count);
			for (size_t i = start; i < start + count; i++)
				m[i] = false;
			break;
		case 2:
			bitmap_set(map, start);
			m[start] = true;
			break;
		default:
			bitmap_clear(map, start);
			m[start] = false;
			break;
		}
		check_against_model(map, m);
	}
}

static void test_popcount64(void **state)
{
	(void)state;
	assert_int_equal(popcount64(0), 0);
	assert_int_equal(popcount64(~0ULL), 64);
	assert_int_equal(popcount64(1ULL << 63), 1);
	for (int i = 0; i < 100000; i++) {
		uint64_t w = rnd() & rnd(); /* sparse and dense words both */
		unsigned n = 0;

		if (i & 1)
			w = ~w;
		for (int b = 0; b < 64; b++)
			n += (w >> b) & 1;
		assert_int_equal(popcount64(w), n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_bits),
		cmocka_unit_test(test_popcount64),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_zero_area_edges),
		cmocka_unit_test(test_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
