/*
 * DTB writer: trees with every property kind read back with libfdt, the
 * exact layout of the strings block (names stored once, tails shared), an
 * unaligned buffer, every buffer size from 0 up (-SHYPER_ENOSPC and nothing
 * written past the end below the tree's size, the same bytes at and above
 * it), and each kind of misuse, including sticky first errors.
 *
 * unit-sources: hv/lib/fdt_write.c
 * unit-libs: -lfdt
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libfdt.h>

#include <lib/fdt_write.h>
#include <shyper/errno.h>

#define BUF_SIZE	4096
#define CANARY_SIZE	64
#define CANARY		0xa5

static uint32_t be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

static uint64_t be64(const void *p)
{
	return (uint64_t)be32(p) << 32 | be32((const uint8_t *)p + 4);
}

static const void *prop(const void *fdt, const char *path, const char *name,
			int *len)
{
	int node = fdt_path_offset(fdt, path);
	const void *v;

	if (node < 0)
		fail_msg("no node %s: %s", path, fdt_strerror(node));
	v = fdt_getprop(fdt, node, name, len);
	if (!v)
		fail_msg("no property %s in %s", name, path);
	return v;
}

static void check_prop(const void *fdt, const char *path, const char *name,
		       const void *want, int want_len)
{
	int len;
	const void *v = prop(fdt, path, name, &len);

	assert_int_equal(len, want_len);
	assert_memory_equal(v, want, (size_t)want_len);
}

/* The reference tree: two reservations and one property of every kind. */
static void build_reference(struct fdt_writer *w)
{
	static const uint32_t cells[3] = { 1, 0xdeadbeef, 0x80000000 };
	static const char *const list[3] = { "a", "", "bcd" };
	static const uint64_t reg[4] = { 0x40000000, 0x1000,
					 0x123456789a, 0x200000000 };
	static const uint8_t raw[5] = { 1, 2, 3, 4, 5 };

	fdtw_add_reservation(w, 0x48000000, 0x100000);
	fdtw_add_reservation(w, 0xfedcba9876543210ull, 0x0123456789abcdefull);
	fdtw_begin_node(w, "");
	fdtw_prop_u32(w, "#address-cells", 2);
	fdtw_prop_u32(w, "#size-cells", 2);
	fdtw_prop_string(w, "compatible", "test,board");
	fdtw_begin_node(w, "node@40000000");
	fdtw_prop(w, "raw", raw, sizeof(raw));
	fdtw_prop_empty(w, "empty");
	fdtw_prop_u64(w, "big", 0x0102030405060708ull);
	fdtw_prop_cells(w, "cells", cells, 3);
	fdtw_prop_reg(w, "reg", 2, 2, reg, 2);
	fdtw_prop_strings(w, "compatible", 2, "vendor,dev", "generic");
	fdtw_prop_string_array(w, "list", list, 3);
	fdtw_begin_node(w, "child");
	fdtw_prop_string(w, "status", "okay");
	fdtw_end_node(w);
	fdtw_end_node(w);
	fdtw_begin_node(w, "empty-node");
	fdtw_end_node(w);
	fdtw_end_node(w);
}

static size_t build_into(void *buf, size_t size, int *ret)
{
	struct fdt_writer w;
	size_t len = 0;

	fdtw_init(&w, buf, size);
	build_reference(&w);
	*ret = fdtw_finish(&w, &len);
	return len;
}

static void check_reference(const void *fdt, size_t len)
{
	static const uint8_t raw[5] = { 1, 2, 3, 4, 5 };
	static const uint8_t reg[32] = {
		0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0,
		0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0, 0, 0, 2, 0, 0, 0, 0,
	};
	uint64_t addr, size;
	const uint8_t *v;
	int len_prop, node;

	assert_int_equal(fdt_check_header(fdt), 0);
	assert_int_equal(fdt_totalsize(fdt), len);
	assert_int_equal(fdt_version(fdt), 17);
	assert_int_equal(fdt_last_comp_version(fdt), 16);
	assert_int_equal(fdt_boot_cpuid_phys(fdt), 0);
	/* Packed: the blocks follow each other with no gap. */
	assert_int_equal(fdt_off_mem_rsvmap(fdt), 40);
	assert_int_equal(fdt_off_dt_struct(fdt), 40 + 3 * 16);
	assert_int_equal(fdt_off_dt_strings(fdt),
			 fdt_off_dt_struct(fdt) + fdt_size_dt_struct(fdt));
	assert_int_equal(fdt_off_dt_strings(fdt) + fdt_size_dt_strings(fdt),
			 len);

	assert_int_equal(fdt_num_mem_rsv(fdt), 2);
	assert_int_equal(fdt_get_mem_rsv(fdt, 0, &addr, &size), 0);
	assert_int_equal(addr, 0x48000000);
	assert_int_equal(size, 0x100000);
	assert_int_equal(fdt_get_mem_rsv(fdt, 1, &addr, &size), 0);
	assert_int_equal(addr, 0xfedcba9876543210ull);
	assert_int_equal(size, 0x0123456789abcdefull);

	v = prop(fdt, "/", "#address-cells", &len_prop);
	assert_int_equal(len_prop, 4);
	assert_int_equal(be32(v), 2);
	check_prop(fdt, "/", "compatible", "test,board", 11);
	check_prop(fdt, "/node@40000000", "raw", raw, 5);
	prop(fdt, "/node@40000000", "empty", &len_prop);
	assert_int_equal(len_prop, 0);
	v = prop(fdt, "/node@40000000", "big", &len_prop);
	assert_int_equal(len_prop, 8);
	assert_int_equal(be64(v), 0x0102030405060708ull);
	v = prop(fdt, "/node@40000000", "cells", &len_prop);
	assert_int_equal(len_prop, 12);
	assert_int_equal(be32(v), 1);
	assert_int_equal(be32(v + 4), 0xdeadbeef);
	assert_int_equal(be32(v + 8), 0x80000000);
	check_prop(fdt, "/node@40000000", "reg", reg, 32);
	check_prop(fdt, "/node@40000000", "compatible", "vendor,dev\0generic",
		   19);
	check_prop(fdt, "/node@40000000", "list", "a\0\0bcd", 7);
	check_prop(fdt, "/node@40000000/child", "status", "okay", 5);

	node = fdt_path_offset(fdt, "/empty-node");
	assert_true(node >= 0);
	assert_int_equal(fdt_first_property_offset(fdt, node),
			 -FDT_ERR_NOTFOUND);
	assert_int_equal(fdt_first_subnode(fdt, node), -FDT_ERR_NOTFOUND);
	assert_int_equal(fdt_parent_offset(fdt, fdt_path_offset(fdt,
			 "/node@40000000/child")),
			 fdt_path_offset(fdt, "/node@40000000"));
	assert_int_equal(fdt_node_check_compatible(fdt,
			 fdt_path_offset(fdt, "/node@40000000"), "generic"), 0);
}

static void test_every_kind(void **state)
{
	uint8_t *buf = malloc(BUF_SIZE);
	size_t len;
	int ret;

	(void)state;
	memset(buf, 0xff, BUF_SIZE);
	len = build_into(buf, BUF_SIZE, &ret);
	assert_int_equal(ret, 0);
	check_reference(buf, len);
	free(buf);
}

/* Property names are stored once; a name that ends another shares it. */
static void test_strings(void **state)
{
	uint8_t buf[512];
	struct fdt_writer w;
	size_t len;
	const char *strings;
	int node, off, plen;

	(void)state;
	fdtw_init(&w, buf, sizeof(buf));
	fdtw_begin_node(&w, "");
	fdtw_prop_u32(&w, "#size-cells", 1);
	fdtw_prop_u32(&w, "cells", 2);		/* tail of "#size-cells" */
	fdtw_prop_u32(&w, "size-cells", 3);	/* likewise */
	fdtw_begin_node(&w, "a");
	fdtw_prop_u32(&w, "#size-cells", 4);
	fdtw_prop_u32(&w, "reg", 5);
	fdtw_end_node(&w);
	fdtw_begin_node(&w, "b");
	fdtw_prop_u32(&w, "reg", 6);
	fdtw_prop_u32(&w, "cell", 7);		/* not a tail: stored */
	fdtw_end_node(&w);
	fdtw_end_node(&w);
	assert_int_equal(fdtw_finish(&w, &len), 0);
	assert_int_equal(fdt_check_header(buf), 0);

	strings = (const char *)buf + fdt_off_dt_strings(buf);
	assert_int_equal(fdt_size_dt_strings(buf), 12 + 4 + 5);
	assert_memory_equal(strings, "#size-cells\0reg\0cell", 21);

	/* Each property still reads back under its own name. */
	node = fdt_path_offset(buf, "/");
	assert_int_equal(be32(fdt_getprop(buf, node, "cells", &plen)), 2);
	assert_int_equal(be32(fdt_getprop(buf, node, "size-cells", &plen)), 3);
	assert_int_equal(be32(fdt_getprop(buf, fdt_path_offset(buf, "/b"),
					  "cell", &plen)), 7);
	fdt_for_each_property_offset(off, buf, node) {
		const char *name;

		fdt_getprop_by_offset(buf, off, &name, &plen);
		assert_ptr_not_equal(name, NULL);
		assert_true(name >= strings && name < strings + 12);
	}
}

/* Nothing in the writer relies on the buffer's alignment. */
static void test_unaligned(void **state)
{
	uint8_t *raw = malloc(BUF_SIZE + 1), *aligned = malloc(BUF_SIZE);
	size_t len;
	int ret;

	(void)state;
	len = build_into(raw + 1, BUF_SIZE, &ret);
	assert_int_equal(ret, 0);
	memcpy(aligned, raw + 1, len);
	check_reference(aligned, len);
	free(raw);
	free(aligned);
}

/*
 * Every buffer size below the tree's: -SHYPER_ENOSPC and not one byte
 * written past the buffer (ASan sees the exact allocation; the canary in
 * a second, larger allocation catches writes ASan would not). From the
 * tree's size up: the reference bytes.
 */
static void test_every_size(void **state)
{
	uint8_t ref[BUF_SIZE];
	size_t full, n, len, i;
	int ret;

	(void)state;
	full = build_into(ref, sizeof(ref), &ret);
	assert_int_equal(ret, 0);

	for (n = 0; n <= full + 8; n++) {
		uint8_t *exact = malloc(n ? n : 1);
		uint8_t *padded = malloc(n + CANARY_SIZE);

		len = build_into(exact, n, &ret);
		assert_int_equal(ret, n < full ? -SHYPER_ENOSPC : 0);

		memset(padded, CANARY, n + CANARY_SIZE);
		len = build_into(padded, n, &ret);
		for (i = n; i < n + CANARY_SIZE; i++)
			if (padded[i] != CANARY)
				fail_msg("size %zu: byte %zu written", n, i);
		if (n >= full) {
			assert_int_equal(ret, 0);
			assert_int_equal(len, full);
			assert_memory_equal(padded, ref, full);
		}
		free(exact);
		free(padded);
	}
}

static void test_reg_cells(void **state)
{
	static const uint64_t one[2] = { 0x1234, 0x10 };
	static const uint64_t wide[2] = { 0x100000000ull, 0x10 };
	static const uint64_t big_size[2] = { 0x1000, 0x100000000ull };
	static const uint8_t a1s1[8] = { 0, 0, 0x12, 0x34, 0, 0, 0, 0x10 };
	static const uint8_t a2s1[12] = { 0, 0, 0, 0, 0, 0, 0x12, 0x34,
					  0, 0, 0, 0x10 };
	static const uint8_t a1s0[4] = { 0, 0, 0, 7 };
	const uint64_t cpu[2] = { 7, 0 };
	uint8_t buf[512];
	struct fdt_writer w;

	(void)state;
	fdtw_init(&w, buf, sizeof(buf));
	fdtw_begin_node(&w, "");
	fdtw_prop_reg(&w, "a1s1", 1, 1, one, 1);
	fdtw_prop_reg(&w, "a2s1", 2, 1, one, 1);
	fdtw_prop_reg(&w, "a1s0", 1, 0, cpu, 1);
	fdtw_prop_reg(&w, "none", 2, 2, NULL, 0);
	fdtw_end_node(&w);
	assert_int_equal(fdtw_finish(&w, NULL), 0);
	check_prop(buf, "/", "a1s1", a1s1, 8);
	check_prop(buf, "/", "a2s1", a2s1, 12);
	check_prop(buf, "/", "a1s0", a1s0, 4);
	check_prop(buf, "/", "none", "", 0);

	/* Values that do not fit their cells, and unsupported cell counts. */
	struct {
		unsigned int ac, sc;
		const uint64_t *pairs;
	} bad[] = {
		{ 1, 1, wide }, { 2, 1, big_size }, { 1, 0, one },
		{ 0, 1, one }, { 3, 1, one }, { 1, 3, one },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fdtw_init(&w, buf, sizeof(buf));
		fdtw_begin_node(&w, "");
		fdtw_prop_reg(&w, "reg", bad[i].ac, bad[i].sc, bad[i].pairs, 1);
		fdtw_end_node(&w);
		assert_int_equal(fdtw_finish(&w, NULL), -SHYPER_EINVAL);
	}
}

/* One kind of misuse each; fdtw_finish() must then say -SHYPER_EINVAL. */
typedef void (*misuse_fn)(struct fdt_writer *w);

static void end_without_begin(struct fdt_writer *w)
{
	fdtw_begin_node(w, "");
	fdtw_end_node(w);
	fdtw_end_node(w);
}

static void left_open(struct fdt_writer *w)
{
	fdtw_begin_node(w, "");
	fdtw_begin_node(w, "a");
	fdtw_end_node(w);
}

static void no_root(struct fdt_writer *w)
{
	(void)w;
}

static void two_roots(struct fdt_writer *w)
{
	fdtw_begin_node(w, "");
	fdtw_end_node(w);
	fdtw_begin_node(w, "");
	fdtw_end_node(w);
}

static void named_root(struct fdt_writer *w)
{
	fdtw_begin_node(w, "root");
	fdtw_end_node(w);
}

static void empty_child_name(struct fdt_writer *w)
{
	fdtw_begin_node(w, "");
	fdtw_begin_node(w, "");
	fdtw_end_node(w);
	fdtw_end_node(w);
}

static void slash_in_name(struct fdt_writer *w)
{
	fdtw_begin_node(w, "");
	fdtw_begin_node(w, "a/b");
	fdtw_end_node(w);
	fdtw_end_node(w);
}

static void null_name(struct fdt_writer *w)
{
	fdtw_begin_node(w, NULL);
}

static void prop_before_root(struct fdt_writer *w)
{
	fdtw_prop_u32(w, "x", 1);
	fdtw_begin_node(w, "");
	fdtw_end_node(w);
}

static void prop_after_root(struct fdt_writer *w)
{
	fdtw_begin_node(w, "");
	fdtw_end_node(w);
	fdtw_prop_u32(w, "x", 1);
}

static void empty_prop_name(struct fdt_writer *w)
{
	fdtw_begin_node(w, "");
	fdtw_prop_empty(w, "");
	fdtw_end_node(w);
}

static void null_value(struct fdt_writer *w)
{
	fdtw_begin_node(w, "");
	fdtw_prop(w, "x", NULL, 4);
	fdtw_end_node(w);
}

static void null_string(struct fdt_writer *w)
{
	fdtw_begin_node(w, "");
	fdtw_prop_strings(w, "x", 2, "a", (const char *)NULL);
	fdtw_end_node(w);
}

static void reservation_after_node(struct fdt_writer *w)
{
	fdtw_begin_node(w, "");
	fdtw_add_reservation(w, 0x1000, 0x1000);
	fdtw_end_node(w);
}

static void too_deep(struct fdt_writer *w)
{
	int i;

	fdtw_begin_node(w, "");
	for (i = 1; i < FDTW_MAX_DEPTH + 1; i++)
		fdtw_begin_node(w, "n");
	for (i = 0; i < FDTW_MAX_DEPTH + 1; i++)
		fdtw_end_node(w);
}

static void test_misuse(void **state)
{
	static const misuse_fn cases[] = {
		end_without_begin, left_open, no_root, two_roots, named_root,
		empty_child_name, slash_in_name, null_name, prop_before_root,
		prop_after_root, empty_prop_name, null_value, null_string,
		reservation_after_node, too_deep,
	};
	uint8_t buf[BUF_SIZE];
	struct fdt_writer w;
	size_t len = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fdtw_init(&w, buf, sizeof(buf));
		cases[i](&w);
		if (fdtw_finish(&w, &len) != -SHYPER_EINVAL)
			fail_msg("case %zu accepted", i);
		assert_int_equal(len, 12345);
	}

	fdtw_init(&w, NULL, 100);
	fdtw_begin_node(&w, "");
	fdtw_end_node(&w);
	assert_int_equal(fdtw_finish(&w, &len), -SHYPER_EINVAL);
}

/* FDTW_MAX_DEPTH nested nodes, the root included, is still fine. */
static void test_max_depth(void **state)
{
	uint8_t buf[BUF_SIZE];
	struct fdt_writer w;
	char path[2 * FDTW_MAX_DEPTH + 1] = "";
	int i;

	(void)state;
	fdtw_init(&w, buf, sizeof(buf));
	fdtw_begin_node(&w, "");
	for (i = 1; i < FDTW_MAX_DEPTH; i++) {
		fdtw_begin_node(&w, "n");
		strcat(path, "/n");
	}
	fdtw_prop_u32(&w, "deepest", 1);
	for (i = 0; i < FDTW_MAX_DEPTH; i++)
		fdtw_end_node(&w);
	assert_int_equal(fdtw_finish(&w, NULL), 0);
	assert_int_equal(fdt_check_header(buf), 0);
	prop(buf, path, "deepest", &i);
	assert_int_equal(i, 4);
}

/* The first error wins and stays; a finished writer accepts nothing. */
static void test_sticky(void **state)
{
	uint8_t buf[96];	/* room for an empty root, not for "big" */
	struct fdt_writer w;
	size_t len;

	(void)state;
	fdtw_init(&w, buf, sizeof(buf));
	fdtw_begin_node(&w, "");
	fdtw_prop(&w, "big", buf, 32);		/* does not fit: ENOSPC */
	fdtw_end_node(&w);
	fdtw_end_node(&w);			/* would be EINVAL */
	assert_int_equal(fdtw_finish(&w, &len), -SHYPER_ENOSPC);
	assert_int_equal(fdtw_finish(&w, &len), -SHYPER_ENOSPC);

	fdtw_init(&w, buf, sizeof(buf));
	fdtw_end_node(&w);			/* EINVAL */
	fdtw_begin_node(&w, "");
	fdtw_prop(&w, "big", buf, 32);		/* would be ENOSPC */
	fdtw_end_node(&w);
	assert_int_equal(fdtw_finish(&w, &len), -SHYPER_EINVAL);

	fdtw_init(&w, buf, sizeof(buf));
	fdtw_begin_node(&w, "");
	fdtw_end_node(&w);
	assert_int_equal(fdtw_finish(&w, &len), 0);
	assert_int_equal(fdt_check_header(buf), 0);
	assert_int_equal(len, fdt_totalsize(buf));
	fdtw_begin_node(&w, "late");
	assert_int_equal(fdtw_finish(&w, &len), -SHYPER_EINVAL);
	assert_int_equal(fdt_check_header(buf), 0);
}

/* The smallest tree: a header, an empty reservation list, an empty root. */
static void test_minimal(void **state)
{
	uint8_t buf[40 + 16 + 8 + 4 + 4];
	struct fdt_writer w;
	size_t len;

	(void)state;
	fdtw_init(&w, buf, sizeof(buf));
	fdtw_begin_node(&w, "");
	fdtw_end_node(&w);
	assert_int_equal(fdtw_finish(&w, &len), 0);
	assert_int_equal(len, sizeof(buf));
	assert_int_equal(fdt_check_header(buf), 0);
	assert_int_equal(fdt_num_mem_rsv(buf), 0);
	assert_int_equal(fdt_size_dt_strings(buf), 0);
	assert_int_equal(fdt_path_offset(buf, "/"), 0);
	assert_int_equal(fdt_next_node(buf, 0, NULL), -FDT_ERR_NOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_unaligned),
		cmocka_unit_test(test_every_size),
		cmocka_unit_test(test_reg_cells),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_max_depth),
		cmocka_unit_test(test_sticky),
		cmocka_unit_test(test_minimal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
