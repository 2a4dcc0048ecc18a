/*
 * The hypervisor's own string functions, compiled into this test under
 * hv_ names (the host libc keeps the real ones) and compared with libc
 * over every small length and every relative alignment.
 */
#define memcpy hv_memcpy
#define memmove hv_memmove
#define memset hv_memset
#define memcmp hv_memcmp
#define memchr hv_memchr
#define strlen hv_strlen
#define strnlen hv_strnlen
#define strcmp hv_strcmp
#define strncmp hv_strncmp
#define strchr hv_strchr
#include "../../hv/lib/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef memchr
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define AREA	(MAXLEN + 64)
#define MAXLEN	160

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7 + 1);
}

static void test_memcpy_memset(void **state)
{
	unsigned char src[AREA], dst[AREA], want[AREA];

	(void)state;
	for (size_t so = 0; so < 16; so++)
	for (size_t d_o = 0; d_o < 16; d_o++)
	for (size_t n = 0; n <= MAXLEN; n++) {
		fill(src, AREA, (unsigned)(so + n));
		memset(dst, 0xee, AREA);
		memset(want, 0xee, AREA);
		memcpy(want + d_o, src + so, n);
		assert_ptr_equal(hv_memcpy(dst + d_o, src + so, n), dst + d_o);
		assert_memory_equal(dst, want, AREA);

		memset(want + d_o, (int)(n + 0x100), n);
		assert_ptr_equal(hv_memset(dst + d_o, (int)(n + 0x100), n),
				 dst + d_o);
		assert_memory_equal(dst, want, AREA);
	}
}

static void test_memmove_overlap(void **state)
{
	unsigned char buf[AREA], want[AREA];

	(void)state;
	for (size_t from = 0; from < 24; from++)
	for (size_t to = 0; to < 24; to++)
	for (size_t n = 0; n <= MAXLEN; n++) {
		fill(buf, AREA, (unsigned)n);
		memcpy(want, buf, AREA);
		memmove(want + to, want + from, n);
		assert_ptr_equal(hv_memmove(buf + to, buf + from, n), buf + to);
		assert_memory_equal(buf, want, AREA);
	}
}

static void test_compare_and_search(void **state)
{
	unsigned char a[AREA], b[AREA];

	(void)state;
	for (size_t n = 0; n <= MAXLEN; n++)
	for (size_t diff = 0; diff <= n; diff++) {
		fill(a, AREA, 3);
		memcpy(b, a, AREA);
		if (diff < n)
			b[diff] ^= 0x80;	/* also tests unsigned comparison */
		assert_int_equal(sign(hv_memcmp(a, b, n)), sign(memcmp(a, b, n)));
		assert_int_equal(sign(hv_memcmp(b, a, n)), sign(memcmp(b, a, n)));
		assert_ptr_equal(hv_memchr(a, a[diff], n), memchr(a, a[diff], n));
		assert_ptr_equal(hv_memchr(a, 0x1ff, n), memchr(a, 0x1ff, n));
	}
}

static void test_strings(void **state)
{
	static const char *const strs[] = { "", "a", "ab", "abc", "abd",
					     "abcdef", "\x80", "b", "ab\xff" };
	const size_t nr = sizeof(strs) / sizeof(strs[0]);

	(void)state;
	for (size_t i = 0; i < nr; i++) {
		assert_int_equal(hv_strlen(strs[i]), strlen(strs[i]));
		for (size_t m = 0; m < 8; m++)
			assert_int_equal(hv_strnlen(strs[i], m), strnlen(strs[i], m));
		for (int c = 0; c < 256; c += 17) {
			assert_ptr_equal(hv_strchr(strs[i], c), strchr(strs[i], c));
		}
		assert_ptr_equal(hv_strchr(strs[i], 0), strchr(strs[i], 0));
		for (size_t j = 0; j < nr; j++) {
			assert_int_equal(sign(hv_strcmp(strs[i], strs[j])),
					 sign(strcmp(strs[i], strs[j])));
			for (size_t m = 0; m < 8; m++)
				assert_int_equal(sign(hv_strncmp(strs[i], strs[j], m)),
						 sign(strncmp(strs[i], strs[j], m)));
		}
	}
	/* strnlen must not read past maxlen: the array has no NUL. */
	static const char nonul[4] = { 'w', 'x', 'y', 'z' };

	assert_int_equal(hv_strnlen(nonul, sizeof(nonul)), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memcpy_memset),
		cmocka_unit_test(test_memmove_overlap),
		cmocka_unit_test(test_compare_and_search),
		cmocka_unit_test(test_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
