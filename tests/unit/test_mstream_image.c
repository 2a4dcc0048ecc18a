/*
 * IMAGE sections of the migration stream (hv/lib/mstream_check.c): the
 * boot images a VM is rebooted from travel as chunks that must follow each
 * other in order, stay within the sizes VM_CONFIG gives, name an image
 * VM_CONFIG has, and be whole by END if any came. Each rule is broken once,
 * through the whole-stream reader and, split at every byte, the
 * incremental one; the error names the section and the image.
 *
 * unit-sources: hv/lib/crc32.c hv/lib/fmt.c hv/lib/mstream_check.c hv/lib/mstream_inc.c hv/lib/mstream_payload.c hv/lib/mstream_reader.c hv/lib/mstream_writer.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <lib/mstream.h>
#include <shyper/errno.h>
#include <shyper/migrate.h>

#define KERNEL_SIZE 5000
#define INITRD_SIZE 3000
#define CAP (64 * 1024)

static const struct mstream_info info = {
	.board = "qemu-virt", .arch = SHYPER_MIG_ARCH_AARCH64, .gic_version = 3,
};

/* One chunk to write: image, offset, bytes (NULL: no more). */
struct chunk {
	uint32_t kind;
	uint64_t offset, len;
};

static void put(struct mstream_writer *w, uint16_t type, uint32_t inst, const void *a,
		size_t alen, const void *b, size_t blen)
{
	assert_int_equal(mstream_begin_section(w, type, type == SHYPER_MIG_SEC_IMAGE ?
					       SHYPER_MIG_IMAGE_VERSION : 1, inst), 0);
	assert_int_equal(mstream_append(w, a, alen), 0);
	if (blen)
		assert_int_equal(mstream_append(w, b, blen), 0);
	assert_int_equal(mstream_end_section(w), 0);
}

/* VM_CONFIG (kernel and initrd sized, no DTB), the chunks, one VCPU, END. */
static size_t build(uint8_t *buf, const struct chunk *chunks, size_t nr)
{
	static uint8_t bytes[KERNEL_SIZE + 16];
	struct shyper_mig_vm_config cfg = { 0 };
	struct shyper_mig_vcpu v = { 0 };
	struct mstream_writer w;
	size_t len = 0;

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(i * 7);
	strcpy(cfg.desc.name, "guest");
	cfg.desc.type = SHYPER_VM_T_LINUX;
	cfg.image.kernel_load_ipa = 0x80080000;
	cfg.image.kernel_size = KERNEL_SIZE;
	cfg.image.ramdisk_load_ipa = 0x88000000;
	cfg.image.ramdisk_size = INITRD_SIZE;
	cfg.nr_vcpus = 1;
	cfg.cpu_bitmap = 2;
	cfg.slice_us = SHYPER_SLICE_DEFAULT_US;
	v.pstate = 0x3c5;
	v.psci_state = SHYPER_MIG_PSCI_ON;
	assert_int_equal(mstream_writer_init(&w, buf, CAP, &info), 0);
	put(&w, SHYPER_MIG_SEC_VM_CONFIG, 0, &cfg, sizeof(cfg), NULL, 0);
	for (size_t i = 0; i < nr; i++) {
		struct shyper_mig_image h = { .offset = chunks[i].offset };

		assert_true(chunks[i].len <= KERNEL_SIZE + 16);
		put(&w, SHYPER_MIG_SEC_IMAGE, chunks[i].kind, &h, sizeof(h), bytes, chunks[i].len);
	}
	put(&w, SHYPER_MIG_SEC_VCPU, 0, &v, sizeof(v), NULL, 0);
	assert_int_equal(mstream_finish(&w, &len), 0);
	return len;
}

/* Both readers judge it alike: 0, or the same error and reason. */
static int judge(const uint8_t *buf, size_t len, char *reason)
{
	static uint8_t inc_buf[CAP];
	struct mstream_error e = { 0 };
	int whole = mstream_validate(buf, len, &e);

	for (size_t split = 1; split < len; split += 97) {
		struct mstream_inc r;
		struct mstream_section s;
		size_t used, pos = 0;
		int ret = MSTREAM_MORE;

		assert_int_equal(mstream_inc_init(&r, inc_buf, sizeof(inc_buf)), 0);
		while (pos < len) {
			size_t n = len - pos < split ? len - pos : split;

			ret = mstream_inc_feed(&r, buf + pos, n, &used, &s);
			if (ret < 0)
				break;
			pos += used;
			if (ret == MSTREAM_END)
				break;
		}
		if (whole) {
			assert_int_equal(ret, whole);
			assert_string_equal(r.chk.err.reason, e.reason);
		} else {
			assert_int_equal(ret, MSTREAM_END);
		}
	}
	strcpy(reason, e.reason);
	return whole;
}

static void test_whole_images_are_read_back(void **state)
{
	static uint8_t buf[CAP];
	const struct chunk c[] = {
		{ SHYPER_IMAGE_KERNEL, 0, 4096 }, { SHYPER_IMAGE_INITRD, 0, INITRD_SIZE },
		{ SHYPER_IMAGE_KERNEL, 4096, KERNEL_SIZE - 4096 },
	};
	size_t len = build(buf, c, 3);
	struct mstream_reader r;
	struct mstream_section s;
	uint64_t got[3] = { 0 };
	char why[MSTREAM_REASON_MAX];

	(void)state;
	assert_int_equal(judge(buf, len, why), 0);
	assert_int_equal(mstream_reader_open(&r, buf, len), 0);
	while (mstream_reader_next(&r, &s) == MSTREAM_SECTION) {
		struct mstream_image_view v;

		if (s.type != SHYPER_MIG_SEC_IMAGE)
			continue;
		assert_int_equal(mstream_parse_image(s.payload, s.length, &v, NULL, 0), 0);
		assert_int_equal(v.offset, got[s.instance]);
		for (uint64_t i = 0; i < v.len; i++)
			assert_int_equal(v.data[i], (uint8_t)(i * 7));
		got[s.instance] += v.len;
	}
	assert_int_equal(got[SHYPER_IMAGE_KERNEL], KERNEL_SIZE);
	assert_int_equal(got[SHYPER_IMAGE_INITRD], INITRD_SIZE);
}

static void test_a_stream_without_images_is_fine(void **state)
{
	static uint8_t buf[CAP];
	char why[MSTREAM_REASON_MAX];

	(void)state;
	assert_int_equal(judge(buf, build(buf, NULL, 0), why), 0);
}

static void refused(const struct chunk *c, size_t nr, const char *expect)
{
	static uint8_t buf[CAP];
	char why[MSTREAM_REASON_MAX];

	assert_int_equal(judge(buf, build(buf, c, nr), why), -SHYPER_EPROTO);
	if (!strstr(why, expect))
		fail_msg("reason \"%s\" lacks \"%s\"", why, expect);
}

static void test_broken_image_rules_are_refused(void **state)
{
	(void)state;
	/* A gap, an overlap, and a chunk past the declared size. */
	refused((struct chunk[]){ { SHYPER_IMAGE_KERNEL, 0, 1000 },
				  { SHYPER_IMAGE_KERNEL, 2000, 3000 } }, 2,
		"section 2 (IMAGE #0): kernel image chunk at 2000, expected 1000");
	refused((struct chunk[]){ { SHYPER_IMAGE_KERNEL, 0, 1000 },
				  { SHYPER_IMAGE_KERNEL, 500, 4500 } }, 2,
		"kernel image chunk at 500, expected 1000");
	refused((struct chunk[]){ { SHYPER_IMAGE_INITRD, 0, INITRD_SIZE + 1 } }, 1,
		"initrd image chunk runs to 3001, the image has 3000 bytes");
	/* An image VM_CONFIG does not size (the DTB), or no image at all. */
	refused((struct chunk[]){ { SHYPER_IMAGE_DTB, 0, 100 } }, 1,
		"section 1 (IMAGE #2): image 2: VM_CONFIG has no such image");
	refused((struct chunk[]){ { 3, 0, 100 } }, 1, "image 3: VM_CONFIG has no such image");
	/* Not whole by END: one image cut short, one missing. */
	refused((struct chunk[]){ { SHYPER_IMAGE_KERNEL, 0, KERNEL_SIZE },
				  { SHYPER_IMAGE_INITRD, 0, 100 } }, 2,
		"(END): END after 100 of the 3000 bytes of the initrd image");
	refused((struct chunk[]){ { SHYPER_IMAGE_INITRD, 0, INITRD_SIZE } }, 1,
		"END after 0 of the 5000 bytes of the kernel image");
}

static void test_the_image_parser_checks_its_payload(void **state)
{
	struct shyper_mig_image h = { .offset = UINT64_MAX - 2 };
	uint8_t p[sizeof(h) + 8] = { 0 };
	struct mstream_image_view v;
	char why[128];

	(void)state;
	/* Shorter than its header, a header alone, an offset that wraps. */
	for (size_t n = 0; n <= sizeof(h); n++)
		assert_int_equal(mstream_parse_image(p, n, &v, why, sizeof(why)), -SHYPER_EPROTO);
	assert_non_null(strstr(why, "no image bytes"));
	memcpy(p, &h, sizeof(h));
	assert_int_equal(mstream_parse_image(p, sizeof(p), &v, why, sizeof(why)), -SHYPER_EPROTO);
	assert_non_null(strstr(why, "wraps"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_images_are_read_back),
		cmocka_unit_test(test_a_stream_without_images_is_fine),
		cmocka_unit_test(test_broken_image_rules_are_refused),
		cmocka_unit_test(test_the_image_parser_checks_its_payload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
