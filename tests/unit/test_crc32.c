/*
 * CRC-32 (hv/lib/crc32.c): published check values, chaining at every split
 * point, and the byte table against a bitwise computation of the same
 * polynomial over every byte value and a longer pseudo-random buffer.
 *
 * unit-sources: hv/lib/crc32.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <lib/crc32.h>

/* IEEE 802.3 CRC-32, reflected. */
#define POLY		0xedb88320u
#define LONG_LEN	4099

static uint32_t crc32_bitwise(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;

	while (len--) {
		crc ^= *p++;
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (POLY & (0u - (crc & 1)));
	}
	return ~crc;
}

static void test_check_values(void **state)
{
	static const char fox[] = "The quick brown fox jumps over the lazy dog";

	(void)state;
	/* The CRC catalogue's check value for CRC-32/ISO-HDLC. */
	assert_int_equal(crc32("123456789", 9), 0xcbf43926u);
	assert_int_equal(crc32("", 0), 0);
	assert_int_equal(crc32("a", 1), 0xe8b7be43u);
	assert_int_equal(crc32(fox, strlen(fox)), 0x414fa339u);
	assert_int_equal(crc32_update(CRC32_INIT, NULL, 0), 0);
}

static void test_chaining(void **state)
{
	static const char msg[] = "cshyper migration stream, split anywhere";
	size_t len = strlen(msg);
	uint32_t whole = crc32(msg, len);

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		uint32_t crc = crc32_update(crc32(msg, cut), msg + cut, len - cut);

		assert_int_equal(crc, whole);
	}
}

static void test_table_matches_bitwise(void **state)
{
	static uint8_t buf[LONG_LEN];
	uint32_t x = 12345;

	(void)state;
	for (unsigned v = 0; v < 256; v++) {
		uint8_t b = (uint8_t)v;

		assert_int_equal(crc32(&b, 1), crc32_bitwise(&b, 1));
	}
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t len = 0; len <= sizeof(buf); len += 97)
		assert_int_equal(crc32(buf, len), crc32_bitwise(buf, len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_values),
		cmocka_unit_test(test_chaining),
		cmocka_unit_test(test_table_matches_bitwise),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
