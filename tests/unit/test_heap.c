/*
 * Heap: alignment, splitting and coalescing, rejection of bad frees (with
 * the heap left intact), corrupted headers, and a randomized stress run
 * against a shadow model that also checks payload contents survive.
 *
 * unit-sources: hv/core/heap.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <core/heap.h>
#include <shyper/errno.h>

#define AREA_SIZE	(64 * 1024)

static uint8_t area[AREA_SIZE] __attribute__((aligned(4096)));

static struct heap fresh_heap(void)
{
	struct heap h;

	assert_int_equal(heap_init(&h, area, sizeof(area)), 0);
	assert_int_equal(heap_check(&h), 0);
	return h;
}

static void test_init(void **state)
{
	struct heap h;

	(void)state;
	assert_int_equal(heap_init(&h, NULL, 4096), -SHYPER_EINVAL);
	assert_int_equal(heap_init(&h, area, 8), -SHYPER_EINVAL);
	/* Unaligned start: rounded up, usable size shrinks. */
	assert_int_equal(heap_init(&h, area + 3, 1000), 0);
	assert_int_equal((uintptr_t)h.base % 16, 0);
	assert_true(heap_free_bytes(&h) < 1000);
	assert_int_equal(heap_check(&h), 0);
	h = fresh_heap();
	/* One block: everything but its header. */
	assert_int_equal(heap_free_bytes(&h), AREA_SIZE - 16);
}

static void test_alloc_free_basic(void **state)
{
	struct heap h = fresh_heap();
	size_t initial = heap_free_bytes(&h);
	void *a, *b, *c;

	(void)state;
	assert_null(heap_alloc(&h, 0, 0));
	assert_null(heap_alloc(&h, AREA_SIZE, 0));
	assert_null(heap_alloc(&h, SIZE_MAX, 0));
	assert_null(heap_alloc(&h, SIZE_MAX - 8, 16));
	assert_null(heap_alloc(&h, 16, 3));
	assert_null(heap_alloc(&h, 16, 8192));

	a = heap_alloc(&h, 1, 0);
	b = heap_alloc(&h, 100, 0);
	c = heap_alloc(&h, 17, 1);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_true((uint8_t *)b >= (uint8_t *)a + 16);
	assert_true((uint8_t *)c >= (uint8_t *)b + 100);
	memset(a, 0xaa, 1);
	memset(b, 0xbb, 100);
	memset(c, 0xcc, 17);
	assert_int_equal(heap_check(&h), 0);
	assert_true(heap_free_bytes(&h) < initial - 118);

	assert_int_equal(heap_free(&h, b), 0);
	assert_int_equal(heap_check(&h), 0);
	/* First fit reuses the hole. */
	assert_ptr_equal(heap_alloc(&h, 64, 0), b);
	assert_int_equal(heap_free(&h, b), 0);
	assert_int_equal(heap_free(&h, a), 0);
	assert_int_equal(heap_free(&h, c), 0);
	assert_int_equal(heap_check(&h), 0);
	/* All coalesced back into one block. */
	assert_int_equal(heap_free_bytes(&h), initial);
	assert_ptr_equal(heap_alloc(&h, initial, 0), area + 16);
	assert_int_equal(heap_free_bytes(&h), 0);
	assert_null(heap_alloc(&h, 1, 0));
	assert_int_equal(heap_free(&h, NULL), 0);
}

static void test_alignment(void **state)
{
	struct heap h = fresh_heap();
	size_t initial = heap_free_bytes(&h);
	void *p[24];

	(void)state;
	for (int i = 0; i < 24; i++) {
		size_t align = (size_t)1 << (i % 13);

		p[i] = heap_alloc(&h, 1 + (size_t)i * 13, align);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % (align < 16 ? 16 : align), 0);
		memset(p[i], i, 1 + (size_t)i * 13);
		assert_int_equal(heap_check(&h), 0);
	}
	for (int i = 0; i < 24; i += 2)
		assert_int_equal(heap_free(&h, p[i]), 0);
	for (int i = 1; i < 24; i += 2) {
		for (size_t k = 0; k < 1 + (size_t)i * 13; k++)
			assert_int_equal(((uint8_t *)p[i])[k], i);
		assert_int_equal(heap_free(&h, p[i]), 0);
	}
	assert_int_equal(heap_check(&h), 0);
	assert_int_equal(heap_free_bytes(&h), initial);
}

static void test_coalescing(void **state)
{
	struct heap h = fresh_heap();
	size_t initial = heap_free_bytes(&h);
	void *p[5];

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_non_null(p[i] = heap_alloc(&h, 1000, 0));
	/* Free 1 and 3, then 2 joins all three into one 3000+ byte hole. */
	assert_int_equal(heap_free(&h, p[1]), 0);
	assert_int_equal(heap_free(&h, p[3]), 0);
	assert_ptr_not_equal(heap_alloc(&h, 2500, 0), p[1]);
	h = fresh_heap();
	for (int i = 0; i < 5; i++)
		assert_non_null(p[i] = heap_alloc(&h, 1000, 0));
	assert_int_equal(heap_free(&h, p[1]), 0);
	assert_int_equal(heap_free(&h, p[3]), 0);
	assert_int_equal(heap_free(&h, p[2]), 0);
	assert_int_equal(heap_check(&h), 0);
	assert_ptr_equal(heap_alloc(&h, 3000, 0), p[1]);
	h = fresh_heap();
	for (int i = 0; i < 5; i++)
		assert_non_null(p[i] = heap_alloc(&h, 1000, 0));
	for (int i = 4; i >= 0; i--)
		assert_int_equal(heap_free(&h, p[i]), 0);
	assert_int_equal(heap_free_bytes(&h), initial);
	assert_int_equal(heap_check(&h), 0);
}

static void test_bad_frees(void **state)
{
	struct heap h = fresh_heap();
	uint8_t *a, *b;
	size_t before;
	uint8_t outside[32];

	(void)state;
	a = heap_alloc(&h, 64, 0);
	b = heap_alloc(&h, 64, 0);
	before = heap_free_bytes(&h);
	assert_int_equal(heap_free(&h, a + 16), -SHYPER_EINVAL);
	assert_int_equal(heap_free(&h, a + 1), -SHYPER_EINVAL);
	assert_int_equal(heap_free(&h, outside), -SHYPER_EINVAL);
	assert_int_equal(heap_free(&h, area), -SHYPER_EINVAL);
	assert_int_equal(heap_free(&h, area + AREA_SIZE), -SHYPER_EINVAL);
	/* Pointer to the free tail block's payload: never returned. */
	assert_int_equal(heap_free(&h, b + 80), -SHYPER_EINVAL);
	assert_int_equal(heap_free_bytes(&h), before);
	assert_int_equal(heap_check(&h), 0);

	assert_int_equal(heap_free(&h, a), 0);
	assert_int_equal(heap_free(&h, a), -SHYPER_EINVAL);
	assert_int_equal(heap_check(&h), 0);

	/* A forged header inside a payload is not trusted. */
	memcpy(b + 32, b - 16, 16);
	assert_int_equal(heap_free(&h, b + 48), -SHYPER_EINVAL);
	assert_int_equal(heap_check(&h), 0);
	assert_int_equal(heap_free(&h, b), 0);
	assert_int_equal(heap_check(&h), 0);
}

static void test_corrupted_header(void **state)
{
	struct heap h = fresh_heap();
	uint8_t *a, *b, saved[16];

	(void)state;
	a = heap_alloc(&h, 64, 0);
	b = heap_alloc(&h, 64, 0);
	/* An overflow from a clobbers b's header. */
	memcpy(saved, b - 16, 16);
	memset(a, 0x41, 64 + 4);
	assert_int_equal(heap_check(&h), -SHYPER_EBADMSG);
	assert_int_equal(heap_free(&h, b), -SHYPER_EINVAL);
	/* Freeing a would merge into the damaged neighbour: refused. */
	assert_int_equal(heap_free(&h, a), -SHYPER_EINVAL);
	/* The free space lies past the damage: the walk stops there. */
	assert_null(heap_alloc(&h, 1024, 0));
	/* Repair: everything works again. */
	memcpy(b - 16, saved, 16);
	assert_int_equal(heap_check(&h), 0);
	assert_int_equal(heap_free(&h, a), 0);
	assert_int_equal(heap_free(&h, b), 0);
	assert_int_equal(heap_check(&h), 0);
	/* A flipped size bit is caught by the check word too. */
	a = heap_alloc(&h, 64, 0);
	a[-8] ^= 0x20;
	assert_int_equal(heap_check(&h), -SHYPER_EBADMSG);
	assert_int_equal(heap_free(&h, a), -SHYPER_EINVAL);
	a[-8] ^= 0x20;
	assert_int_equal(heap_free(&h, a), 0);
	assert_int_equal(heap_check(&h), 0);
}

static uint64_t rng_state = 0x0123456789abcdefull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

struct shadow {
	uint8_t *p;
	size_t size;
	uint8_t fill;
};

#define MAX_LIVE	256

static void test_stress(void **state)
{
	struct heap h = fresh_heap();
	size_t initial = heap_free_bytes(&h);
	static struct shadow live[MAX_LIVE];
	size_t nlive = 0, nalloc = 0, nfail = 0;

	(void)state;
	for (int op = 0; op < 20000; op++) {
		if (nlive == MAX_LIVE || (nlive && rnd() % 2)) {
			size_t k = rnd() % nlive;
			struct shadow s = live[k];

			for (size_t i = 0; i < s.size; i++)
				assert_int_equal(s.p[i], s.fill);
			assert_int_equal(heap_free(&h, s.p), 0);
			live[k] = live[--nlive];
			if (rnd() % 8 == 0)
				assert_int_equal(heap_free(&h, s.p), -SHYPER_EINVAL);
		} else {
			size_t size = 1 + (rnd() % 4 ? rnd() % 128 : rnd() % 4000);
			size_t align = rnd() % 4 ? 0 : (size_t)1 << (rnd() % 13);
			uint8_t *p = heap_alloc(&h, size, align);

			if (!p) {
				nfail++;
				continue;
			}
			nalloc++;
			assert_true(p >= area && p + size <= area + AREA_SIZE);
			if (align)
				assert_int_equal((uintptr_t)p % align, 0);
			/* No overlap with any live block. */
			for (size_t i = 0; i < nlive; i++)
				assert_true(p + size <= live[i].p ||
					    live[i].p + live[i].size <= p);
			live[nlive].p = p;
			live[nlive].size = size;
			live[nlive].fill = (uint8_t)rnd();
			memset(p, live[nlive].fill, size);
			nlive++;
		}
		if (op % 16 == 0)
			assert_int_equal(heap_check(&h), 0);
	}
	while (nlive) {
		nlive--;
		assert_int_equal(heap_free(&h, live[nlive].p), 0);
	}
	assert_int_equal(heap_check(&h), 0);
	assert_int_equal(heap_free_bytes(&h), initial);
	assert_true(nalloc > 5000);
	print_message("stress: %zu allocations, %zu refused when full\n", nalloc,
		      nfail);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_alloc_free_basic),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_coalescing),
		cmocka_unit_test(test_bad_frees),
		cmocka_unit_test(test_corrupted_header),
		cmocka_unit_test(test_stress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
