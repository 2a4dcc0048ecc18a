/*
 * Device tree reader: cross-checked against libfdt on QEMU's real board
 * trees, hand-written cases from dts/dt_test.dts, header and structure
 * errors, and robustness: every truncation of a real blob and random byte
 * flips must be rejected by dt_open() or walk cleanly under ASan.
 *
 * unit-sources: hv/lib/dt.c
 * unit-libs: -lfdt
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libfdt.h>

#include <lib/dt.h>
#include <shyper/errno.h>

/* Devicetree Specification v0.4, 5.2: header field offsets. */
#define HDR_TOTALSIZE		4
#define HDR_OFF_STRUCT		8
#define HDR_OFF_STRINGS		12
#define HDR_OFF_RSVMAP		16
#define HDR_VERSION		20
#define HDR_LAST_COMP		24
#define HDR_SIZE_STRINGS	32
#define HDR_SIZE_STRUCT		36
#define TOKEN_END_NODE		2
#define TOKEN_NOP		4

static void *load(const char *name, size_t *size)
{
	const char *dir = getenv("UNIT_DATA") ? getenv("UNIT_DATA") : "build/unit";
	char path[512];
	FILE *f;
	long n;
	void *buf;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run through `make unit`)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*size = (size_t)n;
	return buf;
}

/* An exact-size copy with the free space removed, so ASan sees every overrun. */
static void *load_packed(const char *name, size_t *size)
{
	size_t raw_size;
	void *raw = load(name, &raw_size);
	void *tmp = malloc(raw_size), *out;

	assert_int_equal(fdt_open_into(raw, tmp, (int)raw_size), 0);
	assert_int_equal(fdt_pack(tmp), 0);
	*size = fdt_totalsize(tmp);
	out = malloc(*size);
	memcpy(out, tmp, *size);
	free(tmp);
	free(raw);
	return out;
}

static void put_be32(void *blob, size_t off, uint32_t v)
{
	uint8_t *b = (uint8_t *)blob + off;

	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static void *dup_blob(const void *blob, size_t size)
{
	void *copy = malloc(size);

	memcpy(copy, blob, size);
	return copy;
}

static int node_by_path(const struct dt *dt, const char *path)
{
	int node = dt_path_offset(dt, path);

	if (node < 0)
		fail_msg("path %s: %d", path, node);
	return node;
}

/* Compare every node and property of @blob as dt and libfdt see it. */
static void cross_check(const void *blob, int *nr_nodes, int *nr_props)
{
	struct dt dt;
	int dn, fn, dd = 0, fd = -1;
	char path[1024];

	assert_int_equal(dt_open(&dt, blob, fdt_totalsize(blob)), 0);
	assert_int_equal(fdt_check_header(blob), 0);
	assert_int_equal(dt_num_mem_rsv(&dt), fdt_num_mem_rsv(blob));
	*nr_nodes = *nr_props = 0;

	/* libfdt returns a positive offset once depth drops below 0; stop there. */
	for (dn = dt_next_node(&dt, -1, &dd), fn = fdt_next_node(blob, -1, &fd);
	     fn >= 0 && fd >= 0;
	     dn = dt_next_node(&dt, dn, &dd), fn = fdt_next_node(blob, fn, &fd)) {
		const char *name = fdt_get_name(blob, fn, NULL);
		int dp, fp, fparent, compat_len;

		(*nr_nodes)++;
		assert_int_equal(dn, fn);
		assert_int_equal(dd, fd);
		assert_string_equal(dt_node_name(&dt, dn), name);
		fparent = fdt_parent_offset(blob, fn);
		assert_int_equal(dt_parent_offset(&dt, dn),
				 fparent < 0 ? -SHYPER_ENOENT : fparent);
		assert_int_equal(fdt_get_path(blob, fn, path, sizeof(path)), 0);
		assert_int_equal(dt_path_offset(&dt, path), fn);
		assert_int_equal(dt_first_subnode(&dt, dn) < 0 ? -1 :
				 dt_first_subnode(&dt, dn),
				 fdt_first_subnode(blob, fn) < 0 ? -1 :
				 fdt_first_subnode(blob, fn));
		/* Malformed cell counts: libfdt says BADNCELLS, we say EBADMSG. */
		assert_int_equal(dt_address_cells(&dt, dn),
				 fdt_address_cells(blob, fn) < 0 ? -SHYPER_EBADMSG :
				 fdt_address_cells(blob, fn));
		assert_int_equal(dt_size_cells(&dt, dn),
				 fdt_size_cells(blob, fn) < 0 ? -SHYPER_EBADMSG :
				 fdt_size_cells(blob, fn));

		for (dp = dt_first_prop(&dt, dn), fp = fdt_first_property_offset(blob, fn);
		     fp >= 0;
		     dp = dt_next_prop(&dt, dp), fp = fdt_next_property_offset(blob, fp)) {
			const char *dname, *fname;
			int dlen, flen;
			const void *dval = dt_prop_by_offset(&dt, dp, &dname, &dlen);
			const void *fval = fdt_getprop_by_offset(blob, fp, &fname, &flen);

			(*nr_props)++;
			assert_int_equal(dp, fp);
			assert_non_null(dval);
			assert_string_equal(dname, fname);
			assert_int_equal(dlen, flen);
			assert_ptr_equal(dval, fval);
			assert_ptr_equal(dt_getprop(&dt, dn, dname, &dlen),
					 fdt_getprop(blob, fn, fname, &flen));
		}
		assert_true(dp < 0);

		/* Every compatible string, and searching for it. */
		for (int i = 0; fdt_stringlist_get(blob, fn, "compatible", i, NULL); i++) {
			const char *s = fdt_stringlist_get(blob, fn, "compatible", i,
							   &compat_len);
			int dl;

			assert_string_equal(dt_stringlist_get(&dt, dn, "compatible",
							      i, &dl), s);
			assert_int_equal(dl, compat_len);
			assert_true(dt_node_is_compatible(&dt, dn, s));
			assert_int_equal(dt_find_compatible(&dt, -1, s),
					 fdt_node_offset_by_compatible(blob, -1, s));
			assert_int_equal(dt_find_compatible(&dt, dn, s) < 0 ? -1 :
					 dt_find_compatible(&dt, dn, s),
					 fdt_node_offset_by_compatible(blob, fn, s) < 0 ? -1 :
					 fdt_node_offset_by_compatible(blob, fn, s));
		}

		/* reg entries decoded by hand with libfdt's view of the parent. */
		if (fparent >= 0 && fdt_getprop(blob, fn, "reg", NULL)) {
			int ac = fdt_address_cells(blob, fparent);
			int sc = fdt_size_cells(blob, fparent);
			int len, i;
			const fdt32_t *reg = fdt_getprop(blob, fn, "reg", &len);
			uint64_t addr, size;

			if (ac < 0 || sc < 0) {
				assert_int_equal(dt_read_reg(&dt, dn, 0, &addr, &size),
						 -SHYPER_EBADMSG);
				continue;
			}
			if (ac < 1 || ac > 2 || sc > 2) {
				assert_int_equal(dt_read_reg(&dt, dn, 0, &addr, &size),
						 -SHYPER_ENOTSUP);
				continue;
			}
			if (len % (4 * (ac + sc))) {
				assert_int_equal(dt_read_reg(&dt, dn, 0, &addr, &size),
						 -SHYPER_EBADMSG);
				continue;
			}
			for (i = 0; i < len / (4 * (ac + sc)); i++) {
				const fdt32_t *e = reg + i * (ac + sc);
				uint64_t want_a = ac == 2 ?
					(uint64_t)fdt32_to_cpu(e[0]) << 32 | fdt32_to_cpu(e[1]) :
					fdt32_to_cpu(e[0]);
				uint64_t want_s = sc == 0 ? 0 : sc == 2 ?
					(uint64_t)fdt32_to_cpu(e[ac]) << 32 | fdt32_to_cpu(e[ac + 1]) :
					fdt32_to_cpu(e[ac]);

				assert_int_equal(dt_read_reg(&dt, dn, i, &addr, &size), 0);
				assert_int_equal(addr, want_a);
				assert_int_equal(size, want_s);
			}
			assert_int_equal(dt_read_reg(&dt, dn, i, &addr, &size),
					 -SHYPER_ENOENT);
		}
	}
	assert_int_equal(dn, -SHYPER_ENOENT);
}

static void test_qemu_cross_check(void **state)
{
	static const char *const names[] = { "qemu-virt-gicv2.dtb",
					     "qemu-virt-gicv3.dtb" };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		size_t size, packed_size;
		void *blob = load(names[i], &size);
		void *packed;
		struct dt dt;
		int nodes, props, pnodes, pprops;

		assert_int_equal(dt_open(&dt, blob, size), 0);
		assert_int_equal(dt.totalsize, size);
		assert_int_equal(dt.version, 17);
		assert_int_equal(dt.root, 0);
		cross_check(blob, &nodes, &props);
		assert_true(nodes > 40);
		assert_true(props > 150);
		/* The packed copy reads the same. */
		packed = load_packed(names[i], &packed_size);
		assert_true(packed_size < size);
		cross_check(packed, &pnodes, &pprops);
		assert_int_equal(pnodes, nodes);
		assert_int_equal(pprops, props);
		print_message("%s: %d nodes, %d properties agree with libfdt\n",
			      names[i], nodes, props);

		assert_int_equal(dt_open(&dt, blob, size), 0);
		assert_int_equal(dt_chosen_stdout(&dt),
				 fdt_path_offset(blob, "/pl011@9000000"));
		assert_int_equal(dt_path_offset(&dt, "/memory"),
				 fdt_path_offset(blob, "/memory@40000000"));
		free(packed);
		free(blob);
	}
}

static void test_paths_and_aliases(void **state)
{
	size_t size;
	void *blob = load("dts/dt_test.dtb", &size);
	struct dt dt;
	int node, len;
	const char *s;

	(void)state;
	assert_int_equal(dt_open(&dt, blob, size), 0);
	assert_int_equal(dt_path_offset(&dt, "/"), dt.root);
	assert_string_equal(dt_node_name(&dt, dt.root), "");
	assert_int_equal(dt_parent_offset(&dt, dt.root), -SHYPER_ENOENT);

	/* "memory" exists without unit address and is found first. */
	node = node_by_path(&dt, "/memory");
	assert_string_equal(dt_node_name(&dt, node), "memory");
	assert_string_equal(dt_node_name(&dt, node_by_path(&dt, "/memory@80000000")),
			    "memory@80000000");
	node = node_by_path(&dt, "/bus/uart@1300");
	assert_string_equal(dt_node_name(&dt, node), "uart@1300");
	assert_int_equal(dt_path_offset(&dt, "//bus@1000//uart@1300/"), node);
	assert_int_equal(dt_path_offset(&dt, "/bus@1000/uart@1300"),
			 fdt_path_offset(blob, "/bus@1000/uart@1300"));
	assert_string_equal(dt_node_name(&dt, node_by_path(&dt, "/bus@1000/uart")),
			    "uart@1100");
	assert_int_equal(dt_path_offset(&dt, "/bus@1000/uart@1"), -SHYPER_ENOENT);
	assert_int_equal(dt_path_offset(&dt, "/bus@1000/uart@11000"), -SHYPER_ENOENT);
	assert_int_equal(dt_path_offset(&dt, "/nosuch"), -SHYPER_ENOENT);
	assert_int_equal(dt_path_offset(&dt, "/a/b/x"), -SHYPER_ENOENT);
	assert_int_equal(dt_path_offset(&dt, ""), -SHYPER_EINVAL);

	/* Aliases, also followed by a relative path. */
	assert_int_equal(dt_path_offset(&dt, "ser"),
			 node_by_path(&dt, "/bus@1000/uart@1100"));
	assert_int_equal(dt_path_offset(&dt, "deep/c/d"), node_by_path(&dt, "/a/b/c/d"));
	assert_int_equal(dt_path_offset(&dt, "deep"), fdt_path_offset(blob, "deep"));
	assert_int_equal(dt_path_offset(&dt, "notpath"), -SHYPER_EBADMSG);
	assert_int_equal(dt_path_offset(&dt, "unterminated"), -SHYPER_EBADMSG);
	assert_int_equal(dt_path_offset(&dt, "nosuch"), -SHYPER_ENOENT);
	assert_int_equal(dt_chosen_stdout(&dt), node_by_path(&dt, "/bus@1000/uart@1100"));

	/* Deep nesting and depth bookkeeping. */
	node = node_by_path(&dt, "/a/b/c/d/e/f/g/h");
	s = dt_getprop(&dt, node, "leaf", &len);
	assert_non_null(s);
	assert_int_equal(len, 5);
	assert_string_equal(s, "deep");
	assert_int_equal(dt_parent_offset(&dt, node), node_by_path(&dt, "/a/b/c/d/e/f/g"));
	int depth = 0, n = node_by_path(&dt, "/a");

	for (int expect = 1; expect <= 7; expect++) {
		n = dt_next_node(&dt, n, &depth);
		assert_int_equal(depth, expect);
	}
	assert_int_equal(n, node);
	assert_int_equal(dt_next_node(&dt, n, &depth), -SHYPER_ENOENT);
	assert_int_equal(dt_first_subnode(&dt, node), -SHYPER_ENOENT);

	/* Children of the root, in order. */
	static const char *const kids[] = { "aliases", "chosen", "memory",
					    "memory@80000000", "bus@1000", "bus2",
					    "bus3", "badcells", "xbus", "a" };
	size_t k = 0;

	for (n = dt_first_subnode(&dt, dt.root); n >= 0; n = dt_next_subnode(&dt, n)) {
		assert_true(k < sizeof(kids) / sizeof(kids[0]));
		assert_string_equal(dt_node_name(&dt, n), kids[k++]);
	}
	assert_int_equal(n, -SHYPER_ENOENT);
	assert_int_equal(k, sizeof(kids) / sizeof(kids[0]));

	int nodes, props;

	cross_check(blob, &nodes, &props);
	free(blob);
}

static void test_properties(void **state)
{
	size_t size;
	void *blob = load("dts/dt_test.dtb", &size);
	struct dt dt;
	int odd, uart, len;
	uint32_t v = 0;
	uint64_t a, sz;

	(void)state;
	assert_int_equal(dt_open(&dt, blob, size), 0);
	odd = node_by_path(&dt, "/bus@1000/odd");
	uart = node_by_path(&dt, "/bus@1000/uart@1100");

	assert_non_null(dt_getprop(&dt, odd, "empty", &len));
	assert_int_equal(len, 0);
	assert_null(dt_getprop(&dt, odd, "missing", &len));
	assert_int_equal(len, -SHYPER_ENOENT);
	assert_null(dt_getprop(&dt, odd, "emp", &len));
	assert_null(dt_getprop(&dt, odd, "emptyy", &len));
	assert_int_equal(dt_prop_u32(&dt, odd, "one", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(dt_prop_u32(&dt, odd, "two", &v), -SHYPER_EBADMSG);
	assert_int_equal(dt_prop_u32(&dt, odd, "bytes", &v), -SHYPER_EBADMSG);
	assert_int_equal(dt_prop_u32(&dt, odd, "missing", &v), -SHYPER_ENOENT);

	/* Stringlists, well formed and not. */
	assert_string_equal(dt_stringlist_get(&dt, uart, "compatible", 0, &len),
			    "vendor,uart");
	assert_int_equal(len, 11);
	assert_string_equal(dt_stringlist_get(&dt, uart, "compatible", 2, NULL),
			    "arm,primecell");
	assert_null(dt_stringlist_get(&dt, uart, "compatible", 3, &len));
	assert_int_equal(len, -SHYPER_ENOENT);
	assert_null(dt_stringlist_get(&dt, uart, "compatible", -1, &len));
	assert_string_equal(dt_stringlist_get(&dt, odd, "compatible", 0, NULL), "ab");
	assert_null(dt_stringlist_get(&dt, odd, "compatible", 1, &len));
	assert_int_equal(len, -SHYPER_EBADMSG);
	assert_true(dt_node_is_compatible(&dt, odd, "ab"));
	assert_false(dt_node_is_compatible(&dt, odd, "cd"));
	assert_true(dt_node_is_compatible(&dt, uart, "arm,pl011"));
	assert_false(dt_node_is_compatible(&dt, uart, "arm,pl01"));
	assert_false(dt_node_is_compatible(&dt, uart, "arm,pl0111"));

	/* Status. */
	assert_true(dt_node_is_enabled(&dt, uart));
	assert_true(dt_node_is_enabled(&dt, node_by_path(&dt, "/bus@1000/uart@1300")));
	assert_false(dt_node_is_enabled(&dt, node_by_path(&dt, "/bus@1000/uart@1400")));
	assert_false(dt_node_is_enabled(&dt, odd));
	assert_true(dt_node_is_enabled(&dt, dt.root));

	/* Compatible search in document order. */
	int n = dt_find_compatible(&dt, -1, "arm,pl011");

	assert_int_equal(n, uart);
	n = dt_find_compatible(&dt, n, "arm,pl011");
	assert_int_equal(n, node_by_path(&dt, "/bus@1000/uart@1300"));
	n = dt_find_compatible(&dt, n, "arm,pl011");
	assert_int_equal(n, node_by_path(&dt, "/bus@1000/uart@1400"));
	assert_int_equal(dt_find_compatible(&dt, n, "arm,pl011"), -SHYPER_ENOENT);
	assert_int_equal(dt_find_compatible(&dt, -1, "test,generic"), dt.root);

	/* Cell counts. */
	assert_int_equal(dt_address_cells(&dt, dt.root), 2);
	assert_int_equal(dt_size_cells(&dt, dt.root), 1);
	assert_int_equal(dt_address_cells(&dt, uart), 2);
	assert_int_equal(dt_size_cells(&dt, uart), 1);
	assert_int_equal(dt_address_cells(&dt, node_by_path(&dt, "/bus@1000")), 1);
	assert_int_equal(dt_address_cells(&dt, node_by_path(&dt, "/badcells")),
			 -SHYPER_EBADMSG);
	assert_int_equal(dt_size_cells(&dt, node_by_path(&dt, "/badcells")),
			 -SHYPER_EBADMSG);

	/* reg with the parent's cells. */
	assert_int_equal(dt_read_reg(&dt, node_by_path(&dt, "/memory"), 0, &a, &sz), 0);
	assert_int_equal(a, 0x40000000);
	assert_int_equal(sz, 0x1000);
	assert_int_equal(dt_read_reg(&dt, uart, 1, &a, &sz), 0);
	assert_int_equal(a, 0x1200);
	assert_int_equal(sz, 0x10);
	assert_int_equal(dt_read_reg(&dt, uart, 2, &a, &sz), -SHYPER_ENOENT);
	assert_int_equal(dt_read_reg(&dt, uart, -1, &a, &sz), -SHYPER_ENOENT);
	assert_int_equal(dt_read_reg(&dt, node_by_path(&dt, "/bus@1000/uart@1400"),
				     0, &a, &sz), -SHYPER_EBADMSG);
	sz = 99;
	assert_int_equal(dt_read_reg(&dt, node_by_path(&dt, "/bus2/dev@5"), 0, &a, &sz), 0);
	assert_int_equal(a, 5);
	assert_int_equal(sz, 0);
	assert_int_equal(dt_read_reg(&dt, node_by_path(&dt, "/bus3/dev@0"), 0, &a, &sz),
			 -SHYPER_ENOTSUP);
	assert_int_equal(dt_read_reg(&dt, node_by_path(&dt, "/badcells/dev"), 0, &a, &sz),
			 -SHYPER_EBADMSG);
	assert_int_equal(dt_read_reg(&dt, dt.root, 0, &a, &sz), -SHYPER_ENOENT);
	assert_int_equal(dt_read_reg(&dt, odd, 0, &a, &sz), -SHYPER_ENOENT);

	/* Translation through the buses' ranges to CPU addresses. */
	static const struct {
		const char *path;
		int ret;
		uint64_t addr;
	} xlate[] = {
		{ "/xbus/dev@10", 0, 0x10000010 },
		{ "/xbus/dev@80fc", 0, 0x200000fc },
		{ "/xbus/dev@8100", -SHYPER_ENOENT, 0 },	/* past the window */
		{ "/xbus/sub/dev@20", 0, 0x10000020 },	/* empty ranges: identity */
		{ "/xbus/noranges/dev@0", -SHYPER_ENOENT, 0 },
		{ "/memory", 0, 0x40000000 },		/* root child: as is */
	};

	for (size_t i = 0; i < sizeof(xlate) / sizeof(xlate[0]); i++) {
		int node = node_by_path(&dt, xlate[i].path);

		assert_int_equal(dt_read_reg(&dt, node, 0, &a, &sz), 0);
		assert_int_equal(dt_translate_address(&dt, node, &a), xlate[i].ret);
		if (!xlate[i].ret)
			assert_int_equal(a, xlate[i].addr);
	}

	/* Memory reservations. */
	assert_int_equal(dt_num_mem_rsv(&dt), 2);
	assert_int_equal(dt_get_mem_rsv(&dt, 1, &a, &sz), 0);
	assert_int_equal(a, 0x123456789000ull);
	assert_int_equal(sz, 0x1000);
	assert_int_equal(dt_get_mem_rsv(&dt, 2, &a, &sz), -SHYPER_ENOENT);
	assert_int_equal(dt_get_mem_rsv(&dt, -1, &a, &sz), -SHYPER_ENOENT);
	free(blob);
}

static void test_bad_offsets(void **state)
{
	size_t size;
	void *blob = load("dts/dt_test.dtb", &size);
	struct dt dt;
	int odd, prop, len;
	static const int bad[] = { 1, 2, 3, 4, 8, -2, -SHYPER_ENOENT, 0x7ffffffc,
				   0x7fffffff, 1 << 20 };

	(void)state;
	assert_int_equal(dt_open(&dt, blob, size), 0);
	odd = node_by_path(&dt, "/bus@1000/odd");
	prop = dt_first_prop(&dt, odd);
	assert_true(prop > odd);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]) + 1; i++) {
		int off = i < sizeof(bad) / sizeof(bad[0]) ? bad[i] : prop;
		uint64_t a, s;

		assert_null(dt_node_name(&dt, off));
		if (off >= 0)
			assert_true(dt_next_node(&dt, off, NULL) < 0);
		assert_true(dt_first_subnode(&dt, off) < 0);
		assert_true(dt_parent_offset(&dt, off) < 0);
		assert_true(dt_first_prop(&dt, off) < 0);
		assert_null(dt_getprop(&dt, off, "one", &len));
		assert_true(len < 0);
		assert_true(dt_read_reg(&dt, off, 0, &a, &s) < 0);
		assert_false(dt_node_is_enabled(&dt, off));
		assert_false(dt_node_is_compatible(&dt, off, "ab"));
	}
	/* A node offset is not a property offset. */
	assert_null(dt_prop_by_offset(&dt, odd, NULL, &len));
	assert_int_equal(len, -SHYPER_EINVAL);
	assert_int_equal(dt_next_prop(&dt, odd), -SHYPER_EINVAL);
	free(blob);
}

static void test_nops(void **state)
{
	size_t size;
	void *blob = load("dts/dt_test.dtb", &size);
	struct dt dt;
	int nodes, props, odd;
	uint32_t v;

	(void)state;
	/* libfdt overwrites with FDT_NOP tokens; the reader must skip them. */
	assert_int_equal(fdt_nop_property(blob, fdt_path_offset(blob, "/bus@1000/odd"),
					  "one"), 0);
	assert_int_equal(fdt_nop_node(blob, fdt_path_offset(blob, "/bus@1000/uart@1300")), 0);
	assert_int_equal(fdt_nop_node(blob, fdt_path_offset(blob, "/a/b/c")), 0);
	cross_check(blob, &nodes, &props);
	assert_int_equal(dt_open(&dt, blob, size), 0);
	odd = node_by_path(&dt, "/bus@1000/odd");
	assert_int_equal(dt_prop_u32(&dt, odd, "one", &v), -SHYPER_ENOENT);
	assert_non_null(dt_getprop(&dt, odd, "two", NULL));
	assert_int_equal(dt_path_offset(&dt, "/bus@1000/uart@1300"), -SHYPER_ENOENT);
	assert_int_equal(dt_first_subnode(&dt, node_by_path(&dt, "/a/b")),
			 -SHYPER_ENOENT);
	free(blob);
}

static int open_patched(const void *blob, size_t size, size_t field, uint32_t v)
{
	void *copy = dup_blob(blob, size);
	struct dt dt;
	int ret;

	put_be32(copy, field, v);
	ret = dt_open(&dt, copy, size);
	free(copy);
	return ret;
}

static void test_header_errors(void **state)
{
	size_t size;
	void *blob = load("dts/dt_test.dtb", &size);
	struct dt dt;
	uint32_t off_struct = fdt_off_dt_struct(blob);
	uint32_t total = fdt_totalsize(blob);

	(void)state;
	assert_int_equal(dt_open(NULL, blob, size), -SHYPER_EINVAL);
	assert_int_equal(dt_open(&dt, NULL, size), -SHYPER_EINVAL);
	for (size_t n = 0; n < 4; n++)
		assert_int_equal(dt_open(&dt, blob, n), -SHYPER_EINVAL);
	for (size_t n = 4; n < 36; n++)
		assert_int_equal(dt_open(&dt, blob, n), -SHYPER_EBADMSG);
	for (size_t n = 36; n < size; n += 7)
		assert_int_equal(dt_open(&dt, blob, n), -SHYPER_E2BIG);
	assert_int_equal(open_patched(blob, size, 0, 0xd00dfeee), -SHYPER_EINVAL);
	assert_int_equal(open_patched(blob, size, HDR_VERSION, 15), -SHYPER_EBADMSG);
	assert_int_equal(open_patched(blob, size, HDR_LAST_COMP, 18), -SHYPER_EBADMSG);
	assert_int_equal(open_patched(blob, size, HDR_VERSION, 16), 0);
	assert_int_equal(open_patched(blob, size, HDR_TOTALSIZE, 39), -SHYPER_EBADMSG);
	assert_int_equal(open_patched(blob, size, HDR_TOTALSIZE, 0x80000000u),
			 -SHYPER_E2BIG);
	/* Offsets are ints: a totalsize above INT_MAX is refused from the header alone. */
	void *huge = dup_blob(blob, size);

	put_be32(huge, HDR_TOTALSIZE, 0x80000000u);
	assert_int_equal(dt_open(&dt, huge, SIZE_MAX), -SHYPER_EBADMSG);
	free(huge);
	assert_int_equal(open_patched(blob, size, HDR_OFF_STRUCT, off_struct + 2),
			 -SHYPER_EBADMSG);
	assert_int_equal(open_patched(blob, size, HDR_OFF_STRUCT, 8), -SHYPER_EBADMSG);
	assert_int_equal(open_patched(blob, size, HDR_OFF_STRUCT, total + 4),
			 -SHYPER_EBADMSG);
	assert_int_equal(open_patched(blob, size, HDR_SIZE_STRUCT,
				      total - off_struct + 1), -SHYPER_EBADMSG);
	assert_int_equal(open_patched(blob, size, HDR_SIZE_STRUCT, 0xfffffffc),
			 -SHYPER_EBADMSG);
	assert_int_equal(open_patched(blob, size, HDR_OFF_STRINGS, total),
			 -SHYPER_EBADMSG);
	assert_int_equal(open_patched(blob, size, HDR_SIZE_STRINGS, 0xffffffff),
			 -SHYPER_EBADMSG);
	assert_int_equal(open_patched(blob, size, HDR_OFF_RSVMAP, 44), -SHYPER_EBADMSG);
	assert_int_equal(open_patched(blob, size, HDR_OFF_RSVMAP, total), -SHYPER_EBADMSG);
	/* The last 8 bytes cannot hold a terminating 16-byte entry. */
	assert_int_equal(open_patched(blob, size, HDR_OFF_RSVMAP, (total - 8) & ~7u),
			 -SHYPER_EBADMSG);
	/* Version 16 without size_dt_struct still walks. */
	void *v16 = dup_blob(blob, size);

	put_be32(v16, HDR_VERSION, 16);
	put_be32(v16, HDR_LAST_COMP, 16);
	put_be32(v16, HDR_SIZE_STRUCT, 0xdeadbeef);
	assert_int_equal(dt_open(&dt, v16, size), 0);
	assert_int_equal(dt.size_struct, total - off_struct);
	node_by_path(&dt, "/a/b/c/d/e/f/g/h");
	free(v16);
	free(blob);
}

/* Overwrite the token at struct offset @off with @tag and try to open. */
static int open_with_token(const void *blob, size_t size, int off, uint32_t tag)
{
	return open_patched(blob, size, fdt_off_dt_struct(blob) + (uint32_t)off, tag);
}

static void test_structure_errors(void **state)
{
	size_t size;
	void *blob = load("dts/dt_test.dtb", &size);
	int odd = fdt_path_offset(blob, "/bus@1000/odd");
	int prop = fdt_first_property_offset(blob, odd);
	uint32_t size_struct = fdt_size_dt_struct(blob);
	int end = (int)size_struct - 4;		/* FDT_END */
	int root_end = end - 4;			/* the root's FDT_END_NODE */

	(void)state;
	assert_int_equal(open_with_token(blob, size, prop, 7), -SHYPER_EBADMSG);
	assert_int_equal(open_with_token(blob, size, odd, 0), -SHYPER_EBADMSG);
	/* Property name outside the strings block. */
	assert_int_equal(open_with_token(blob, size, prop + 8,
					 fdt_size_dt_strings(blob)), -SHYPER_EBADMSG);
	/* Property length running past the block. */
	assert_int_equal(open_with_token(blob, size, prop + 4, size_struct),
			 -SHYPER_EBADMSG);
	assert_int_equal(open_with_token(blob, size, prop + 4, 0xfffffff0),
			 -SHYPER_EBADMSG);
	/* Root never closed, an extra END_NODE, a child left open. */
	assert_int_equal(open_with_token(blob, size, root_end, TOKEN_NOP),
			 -SHYPER_EBADMSG);
	assert_int_equal(open_with_token(blob, size, end, TOKEN_NOP), -SHYPER_EBADMSG);
	assert_int_equal(open_with_token(blob, size, end, TOKEN_END_NODE),
			 -SHYPER_EBADMSG);
	assert_int_equal(open_with_token(blob, size, root_end - 4, TOKEN_NOP),
			 -SHYPER_EBADMSG);
	free(blob);
}

/* A chain of @depth nested nodes below the root, built with libfdt. */
static void *nested_tree(int depth, size_t *size)
{
	const size_t cap = 65536;
	void *buf = malloc(cap);

	assert_int_equal(fdt_create(buf, (int)cap), 0);
	assert_int_equal(fdt_finish_reservemap(buf), 0);
	assert_int_equal(fdt_begin_node(buf, ""), 0);
	for (int i = 0; i < depth; i++)
		assert_int_equal(fdt_begin_node(buf, "n"), 0);
	assert_int_equal(fdt_property_u32(buf, "x", 1), 0);
	for (int i = 0; i <= depth; i++)
		assert_int_equal(fdt_end_node(buf), 0);
	assert_int_equal(fdt_finish(buf), 0);
	*size = fdt_totalsize(buf);
	return buf;
}

static void test_depth_limit(void **state)
{
	size_t size;
	void *ok = nested_tree(DT_MAX_DEPTH, &size);
	void *deep;
	struct dt dt;
	int node = -1, depth = 0, parent;

	(void)state;
	assert_int_equal(dt_open(&dt, ok, size), 0);
	for (int i = 0; i <= DT_MAX_DEPTH; i++)
		node = dt_next_node(&dt, node, &depth);
	assert_int_equal(depth, DT_MAX_DEPTH);
	parent = dt_parent_offset(&dt, node);
	assert_true(parent >= 0);
	assert_int_equal(dt_parent_offset(&dt, parent) >= 0, 1);
	assert_non_null(dt_getprop(&dt, node, "x", NULL));
	deep = nested_tree(DT_MAX_DEPTH + 1, &size);
	assert_int_equal(dt_open(&dt, deep, size), -SHYPER_EBADMSG);
	free(ok);
	free(deep);
}

/* Call everything on every node; only memory safety is being tested. */
static unsigned long walk_all(const struct dt *dt)
{
	unsigned long sum = 0;
	int node, depth = 0, prop, len;
	uint64_t a, s;
	uint32_t v;

	for (int i = 0; i < dt_num_mem_rsv(dt); i++)
		sum += dt_get_mem_rsv(dt, i, &a, &s) == 0;
	sum += (unsigned long)dt_chosen_stdout(dt);
	sum += (unsigned long)dt_path_offset(dt, "serial0/x");
	for (node = dt_next_node(dt, -1, &depth); node >= 0;
	     node = dt_next_node(dt, node, &depth)) {
		const char *name = dt_node_name(dt, node);

		sum += name ? strlen(name) : 0;
		sum += (unsigned long)dt_parent_offset(dt, node);
		sum += (unsigned long)dt_first_subnode(dt, node);
		sum += (unsigned long)dt_next_subnode(dt, node);
		sum += (unsigned long)dt_address_cells(dt, node);
		sum += (unsigned long)dt_size_cells(dt, node);
		sum += dt_node_is_enabled(dt, node);
		sum += dt_node_is_compatible(dt, node, "arm,pl011");
		for (int i = 0; i < 3; i++)
			sum += (unsigned long)dt_read_reg(dt, node, i, &a, &s);
		for (prop = dt_first_prop(dt, node); prop >= 0;
		     prop = dt_next_prop(dt, prop)) {
			const char *pname;

			if (!dt_prop_by_offset(dt, prop, &pname, &len))
				continue;
			sum += dt_getprop(dt, node, pname, &len) != NULL;
			sum += (unsigned long)dt_prop_u32(dt, node, pname, &v);
			for (int i = 0; i < 3; i++) {
				const char *str = dt_stringlist_get(dt, node, pname, i, &len);

				if (str)
					sum += strlen(str) + (unsigned long)len;
			}
		}
	}
	return sum;
}

static uint64_t rng_state = 0xfeedface12345678ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Open an exact-size copy (so ASan catches any overrun) and walk it. */
static int try_blob(const void *data, size_t size)
{
	void *copy = dup_blob(data, size);
	struct dt dt;
	int ret = dt_open(&dt, copy, size);

	if (ret == 0)
		walk_all(&dt);
	free(copy);
	return ret == 0;
}

static void test_truncations(void **state)
{
	static const char *const names[] = { "qemu-virt-gicv3.dtb", "dts/dt_test.dtb" };

	(void)state;
	for (size_t b = 0; b < 2; b++) {
		size_t size;
		void *blob = load_packed(names[b], &size);
		void *copy;
		struct dt dt;
		int accepted = 0;
		uint32_t size_struct = fdt_size_dt_struct(blob);
		uint32_t size_strings = fdt_size_dt_strings(blob);

		/* Every prefix of the blob: too short for its totalsize. */
		for (size_t len = 0; len < size; len++) {
			copy = dup_blob(blob, len ? len : 1);
			assert_true(dt_open(&dt, copy, len) < 0);
			free(copy);
		}
		/* Every prefix with totalsize claiming just that much. */
		for (size_t len = 40; len <= size; len++) {
			copy = dup_blob(blob, len);
			put_be32(copy, HDR_TOTALSIZE, (uint32_t)len);
			accepted += try_blob(copy, len);
			free(copy);
		}
		assert_int_equal(accepted, 1);
		/* Every shorter structure block and strings block. */
		for (uint32_t n = 0; n <= size_struct; n++) {
			copy = dup_blob(blob, size);
			put_be32(copy, HDR_SIZE_STRUCT, n);
			accepted += try_blob(copy, size);
			free(copy);
		}
		for (uint32_t n = 0; n <= size_strings; n++) {
			copy = dup_blob(blob, size);
			put_be32(copy, HDR_SIZE_STRINGS, n);
			accepted += try_blob(copy, size);
			free(copy);
		}
		print_message("%s: %zu bytes, all truncations rejected or walked (%d accepted)\n",
			      names[b], size, accepted);
		free(blob);
	}
}

static void flip_run(const char *name, int iterations)
{
	size_t size;
	void *blob = load_packed(name, &size);
	void *copy = malloc(size);
	int accepted = 0;

	for (int it = 0; it < iterations; it++) {
		int flips = 1 + (int)(rnd() % 4);

		memcpy(copy, blob, size);
		for (int f = 0; f < flips; f++) {
			/* A quarter of the flips hit the header. */
			size_t pos = rnd() % 4 == 0 ? rnd() % 40 : rnd() % size;

			((uint8_t *)copy)[pos] ^= (uint8_t)(1 + rnd() % 255);
		}
		accepted += try_blob(copy, size);
	}
	print_message("%s: %d random corruptions, %d accepted and walked\n",
		      name, iterations, accepted);
	assert_true(accepted > iterations / 10);
	free(copy);
	free(blob);
}

static void test_random_flips(void **state)
{
	(void)state;
	flip_run("dts/dt_test.dtb", 20000);
	flip_run("qemu-virt-gicv3.dtb", 1500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_cross_check),
		cmocka_unit_test(test_paths_and_aliases),
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_bad_offsets),
		cmocka_unit_test(test_nops),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_random_flips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
