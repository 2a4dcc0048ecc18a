/*
 * printf engine against the host's vsnprintf as the oracle: a table of
 * hand-picked formats, then every combination of flags, width, precision,
 * length and conversion over edge values; each at every buffer size, so
 * truncation, NUL termination and return values are checked as well.
 *
 * unit-sources: hv/lib/fmt.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <lib/fmt.h>

#define BUF		512
#define CANARY		0x5a

static int nr_compared;
/* Check every truncated size, or only the interesting ones (faster). */
static int all_sizes = 1;

static int size_wanted(size_t size, size_t len)
{
	return all_sizes || size <= 1 || size == len / 2 || size + 1 >= len;
}

/* Format with both engines at full size and at every truncated size. */
static void __attribute__((format(printf, 1, 0)))
vcompare(const char *fmt, va_list ap)
{
	char want[BUF], got[BUF];
	int want_len, got_len;
	va_list a1, a2;

	va_copy(a1, ap);
	want_len = vsnprintf(want, sizeof(want), fmt, a1);
	va_end(a1);
	assert_true(want_len >= 0 && want_len < BUF - 8);

	for (size_t size = 0; size <= (size_t)want_len + 2; size++) {
		if (!size_wanted(size, (size_t)want_len))
			continue;
		memset(got, CANARY, sizeof(got));
		va_copy(a2, ap);
		got_len = fmt_vsnprintf(got, size, fmt, a2);
		va_end(a2);
		if (got_len != want_len)
			fail_msg("format \"%s\" size %zu: returned %d, want %d",
				 fmt, size, got_len, want_len);
		if (size == 0) {
			assert_int_equal((unsigned char)got[0], CANARY);
			continue;
		}
		size_t n = size - 1 < (size_t)want_len ? size - 1 : (size_t)want_len;

		if (memcmp(got, want, n) || got[n] != '\0')
			fail_msg("format \"%s\" size %zu: got \"%.*s\", want \"%.*s\"",
				 fmt, size, (int)n, got, (int)n, want);
		/* Nothing written past the terminator. */
		assert_int_equal((unsigned char)got[n + 1], CANARY);
	}
	nr_compared++;
}

static void __attribute__((format(printf, 1, 2)))
compare(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcompare(fmt, ap);
	va_end(ap);
}

/* Same, for formats built at run time (no compile-time format check). */
static void compare_dyn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcompare(fmt, ap);
	va_end(ap);
}

/* Our own answer where C leaves it open or glibc differs; no format check. */
static void expect(const char *want, const char *fmt, ...)
{
	char got[BUF];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = fmt_vsnprintf(got, sizeof(got), fmt, ap);
	va_end(ap);
	assert_string_equal(got, want);
	assert_int_equal(len, (int)strlen(want));
}

static void test_table(void **state)
{
	static char unterminated[3] = { 'a', 'b', 'c' };
	int x = 5;

	(void)state;
	compare("plain text");
	compare_dyn("");
	compare("%d %i %u", 42, -42, 42u);
	compare("%d|%d|%d", INT_MAX, INT_MIN, 0);
	compare("%x %X %o %#x %#X %#o", 0xbeefu, 0xbeefu, 0777u, 0xbeefu, 0xbeefu, 0777u);
	compare("%#x %#o %#.0o %.0d|%.0x|%5.0d|", 0u, 0u, 0u, 0, 0u, 0);
	compare("%5d|%-5d|%05d|%+d|% d|%+5d|%-+5d|", 42, 42, 42, 42, 42, 42, 42);
	compare_dyn("%05d|%-05d|%5.3d|%-5.3d|%05.3d|", -42, -42, -42, -42, -42);
	compare("%.10d|%+.10d|%#.10x|%#12.10x|%#-12x|%#012x|", 7, 7, 7u, 7u, 7u, 7u);
	compare("%hhd %hhu %hhx %hd %hu %hx", 300, 300, 511, 70000, 70000, 70000);
	compare("%ld %lu %lx %lld %llu %llx", LONG_MIN, ULONG_MAX, ULONG_MAX,
		LLONG_MIN, ULLONG_MAX, ULLONG_MAX);
	compare("%zu %zx %zd %td %tx %jd %ju %jx", SIZE_MAX, (size_t)4096,
		(size_t)-5, (ptrdiff_t)-7, (ptrdiff_t)255, INTMAX_MIN, UINTMAX_MAX,
		(uintmax_t)0xabc);
	compare("%s|%10s|%-10s|%.2s|%10.2s|%-10.2s|%.0s|", "hello", "hello",
		"hello", "hello", "hello", "hello", "hello");
	compare("%.3s", unterminated);
	compare("%c%c%c|%3c|%-3c|", 'a', 'b', 'c', 'x', 'y');
	compare("100%% sure");
	compare("%*d|%-*d|%*d|%.*d|%.*d|%*.*d|", 6, 1, 6, 2, -6, 3, 4, 4, -1, 5,
		8, 3, 6);
	compare("%*s|%.*s|", -8, "ab", 1, "xyz");
	/* A negative * precision is no precision: 0 prints, '0' pads. */
	compare_dyn("%.*d|%.*x|%0*.*d|", -1, 0, -3, 0u, 6, -1, 42);
	compare("%p %20p %-20p|", (void *)&x, (void *)&x, (void *)0x1234);
	compare("%o %#o %lo %llo", 8u, 8u, 01234567UL, ULLONG_MAX);
	compare_dyn("%u %+u % u", 3u, 3u, 3u);
	compare("%d%s%x%c%%%u", -1, "mid", 0xffu, '!', 9u);
}

static void test_own_rules(void **state)
{
	const char *volatile null_str = NULL;

	(void)state;
	/* glibc prints "(nil)"; we print a hex address for every pointer. */
	expect("0x0", "%p", NULL);
	expect("     0x0", "%8p", NULL);
	expect("(null)", "%s", null_str);
	expect("  (null)", "%8s", null_str);
	expect("(nu", "%.3s", null_str);
	/* Unknown conversions and trailing '%' are copied through. */
	expect("a%yb", "a%yb");
	expect("%-5y", "%-5y");
	expect("abc%", "abc%");
	expect("abc%5", "abc%5");
	expect("%hq", "%hq");
	/* A width on "%%" is not C; we ignore it like glibc. */
	expect("5%", "5%5%");
}

static void count_out(void *ctx, char c)
{
	(void)c;
	(*(int *)ctx)++;
}

static int __attribute__((format(printf, 2, 3)))
format_counted(int *count, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = fmt_vformat(count_out, count, fmt, ap);
	va_end(ap);
	return ret;
}

static void test_vformat_callback(void **state)
{
	int count = 0;

	(void)state;
	assert_int_equal(format_counted(&count, "%s-%d", "abc", 12345), 9);
	assert_int_equal(count, 9);
	count = 0;
	/* Widths far beyond any buffer still count exactly. */
	assert_int_equal(format_counted(&count, "%100000d", 1), 100000);
	assert_int_equal(count, 100000);
	char small[4];

	assert_int_equal(fmt_snprintf(small, sizeof(small), "%100000d", 1),
			 100000);
	assert_string_equal(small, "   ");
	assert_int_equal(fmt_snprintf(NULL, 0, "%d", 12345), 5);
}

/* Every flags x width x precision x length x conversion combination. */
static const char *const flag_sets[] = { "", "-", "0", "+", " ", "#", "-+",
					 "0+", "0 ", "#0", "-#", "+ ", "-0" };
static const char *const widths[] = { "", "1", "6", "25" };
static const char *const precs[] = { "", ".", ".0", ".1", ".7", ".30" };
static const char *const lengths[] = { "hh", "h", "", "l", "ll", "z", "t", "j" };
static const char convs[] = "diuxXo";

static const long long values[] = { 0, 1, -1, 7, -8, 127, -128, 255, 256,
				    32767, -32768, 65535, INT_MAX, INT_MIN,
				    (long long)UINT_MAX, LLONG_MAX, LLONG_MIN };

static void compare_value(const char *fmt, const char *len, char conv,
			  long long v)
{
	unsigned long long u = (unsigned long long)v;
	int is_signed = conv == 'd' || conv == 'i';

	if (!strcmp(len, "hh") || !strcmp(len, "h") || !strcmp(len, ""))
		is_signed ? compare_dyn(fmt, (int)v) : compare_dyn(fmt, (unsigned int)u);
	else if (!strcmp(len, "l"))
		is_signed ? compare_dyn(fmt, (long)v) : compare_dyn(fmt, (unsigned long)u);
	else if (!strcmp(len, "ll"))
		is_signed ? compare_dyn(fmt, v) : compare_dyn(fmt, u);
	else if (!strcmp(len, "z"))
		compare_dyn(fmt, (size_t)u);
	else if (!strcmp(len, "t"))
		compare_dyn(fmt, (ptrdiff_t)v);
	else
		is_signed ? compare_dyn(fmt, (intmax_t)v) : compare_dyn(fmt, (uintmax_t)u);
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void test_combinations(void **state)
{
	char fmt[64];
	int before = nr_compared;

	(void)state;
	all_sizes = 0;
	for (size_t f = 0; f < ARRAY_SIZE(flag_sets); f++)
	for (size_t w = 0; w < ARRAY_SIZE(widths); w++)
	for (size_t p = 0; p < ARRAY_SIZE(precs); p++)
	for (size_t l = 0; l < ARRAY_SIZE(lengths); l++)
	for (size_t c = 0; c < sizeof(convs) - 1; c++) {
		snprintf(fmt, sizeof(fmt), "<%%%s%s%s%s%c>", flag_sets[f],
			 widths[w], precs[p], lengths[l], convs[c]);
		/* A subset of values keeps the run short but covers signs and sizes. */
		for (size_t v = (f + w + p) % 3; v < ARRAY_SIZE(values); v += 3)
			compare_value(fmt, lengths[l], convs[c], values[v]);
	}
	/* Strings and characters take only '-' and width/precision. */
	for (size_t w = 0; w < ARRAY_SIZE(widths); w++)
	for (size_t p = 0; p < ARRAY_SIZE(precs); p++) {
		snprintf(fmt, sizeof(fmt), "<%%%s%ss|%%-%s%ss>", widths[w],
			 precs[p], widths[w], precs[p]);
		compare_dyn(fmt, "string", "");
		snprintf(fmt, sizeof(fmt), "<%%%sc|%%-%sc>", widths[w], widths[w]);
		compare_dyn(fmt, 'q', 'r');
	}
	all_sizes = 1;
	assert_true(nr_compared - before > 10000);
	print_message("compared %d formats with the host vsnprintf\n",
		      nr_compared - before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_own_rules),
		cmocka_unit_test(test_vformat_callback),
		cmocka_unit_test(test_combinations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
