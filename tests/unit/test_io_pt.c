/*
 * The DMA translation tables (hv/core/io_pt.c) on simulated memory: every
 * mapped page translates to its output address through the walk an SMMU
 * does, blocks are used where both addresses allow, nothing else
 * translates, overlaps and bad arguments are refused, running out of
 * frames is reported, and destroying gives every table back.
 *
 * unit-sources: hv/core/io_pt.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <core/io_pt.h>
#include <shyper/errno.h>

#define PAGE 4096ULL
#define SIM_FRAMES 64
#define SIM_BASE 0x40000000ULL /* "physical" address of sim_mem[0] */

static uint8_t sim_mem[SIM_FRAMES * PAGE] __attribute__((aligned(4096)));
static bool used[SIM_FRAMES];
static int live, fail_after = -1;
static unsigned writes;

static uint64_t sim_alloc(void *ctx)
{
	(void)ctx;
	if (fail_after == 0)
		return IO_PT_NO_FRAME;
	if (fail_after > 0)
		fail_after--;
	for (unsigned i = 0; i < SIM_FRAMES; i++)
		if (!used[i]) {
			used[i] = true;
			live++;
			memset(&sim_mem[i * PAGE], 0, PAGE);
			return SIM_BASE + i * PAGE;
		}
	return IO_PT_NO_FRAME;
}

static void sim_free(void *ctx, uint64_t pa)
{
	unsigned i = (unsigned)((pa - SIM_BASE) / PAGE);

	(void)ctx;
	assert_true(pa >= SIM_BASE && i < SIM_FRAMES && used[i]);
	used[i] = false;
	live--;
}

static void *sim_virt(void *ctx, uint64_t pa)
{
	(void)ctx;
	assert_true(pa >= SIM_BASE && pa < SIM_BASE + sizeof(sim_mem));
	return &sim_mem[pa - SIM_BASE];
}

static void sim_written(void *ctx, const void *p, size_t size)
{
	(void)ctx;
	(void)p;
	(void)size;
	writes++;
}

static const struct io_pt_ops ops = { sim_alloc, sim_free, sim_virt, sim_written, NULL };

static int reset(void **state)
{
	(void)state;
	memset(used, 0, sizeof(used));
	live = 0;
	fail_after = -1;
	writes = 0;
	return 0;
}

/* The leaf descriptor an SMMU reaches for iova, and its level. */
static uint64_t leaf(const struct io_pt *pt, uint64_t iova, unsigned *level)
{
	uint64_t t = pt->root_pa;

	for (unsigned l = 0; l < 4; l++) {
		uint64_t e = ((uint64_t *)sim_virt(NULL, t))[(iova >> (39 - 9 * l)) & 511];

		if (!(e & 1))
			return 0;
		if (l == 3 || (e & 3) == 1) {
			*level = l;
			return e;
		}
		t = e & 0x0000fffffffff000ULL;
	}
	return 0;
}

static void test_ram_region_with_blocks(void **state)
{
	/* 2 MiB + 8 KiB at an IPA 2 MiB aligned, PA only 4 KiB aligned at the
	 * start: pages until the PA is aligned, no blocks wherever it is not. */
	struct io_pt pt = { 0 };
	uint64_t pa;
	unsigned level;

	(void)state;
	assert_int_equal(io_pt_map(&pt, &ops, 0x80000000, 0x100000000ULL, 0x400000), 0);
	assert_int_equal(io_pt_map(&pt, &ops, 0x90001000, 0x200001000ULL, 0x2000), 0);
	for (uint64_t off = 0; off < 0x400000; off += PAGE) {
		assert_int_equal(io_pt_translate(&pt, &ops, 0x80000000 + off + 8, &pa), 0);
		assert_int_equal(pa, 0x100000000ULL + off + 8);
	}
	/* Both 2 MiB aligned: two level-2 blocks, leaf attributes as documented. */
	uint64_t e = leaf(&pt, 0x80000000, &level);

	assert_int_equal(level, 2);
	assert_int_equal(e & 3, 1);
	assert_int_equal(e & ~0x0000fffffffff003ULL, IO_PT_LEAF_ATTRS);
	e = leaf(&pt, 0x90001000, &level);
	assert_int_equal(level, 3);
	assert_int_equal(e & 3, 3);
	assert_int_equal(io_pt_translate(&pt, &ops, 0x90002fff, &pa), 0);
	assert_int_equal(pa, 0x200002fffULL);
	/* Around them nothing translates. */
	assert_int_equal(io_pt_translate(&pt, &ops, 0x7ffff000, &pa), -SHYPER_ENOENT);
	assert_int_equal(io_pt_translate(&pt, &ops, 0x80400000, &pa), -SHYPER_ENOENT);
	assert_int_equal(io_pt_translate(&pt, &ops, 0x90000000, &pa), -SHYPER_ENOENT);
	assert_int_equal(io_pt_translate(&pt, &ops, 0x90003000, &pa), -SHYPER_ENOENT);
	assert_int_equal(io_pt_translate(&pt, &ops, 1ULL << 48, &pa), -SHYPER_ENOENT);
	assert_true(writes > 0);
	assert_int_equal((size_t)live, pt.nr_tables);
	io_pt_destroy(&pt, &ops);
	assert_int_equal(live, 0);
	assert_int_equal(pt.root_pa, 0);
}

static void test_unaligned_pa_uses_pages(void **state)
{
	struct io_pt pt = { 0 };
	uint64_t pa;
	unsigned level;

	(void)state;
	/* The IPA is block aligned, the PA is not: pages only. */
	assert_int_equal(io_pt_map(&pt, &ops, 0x80000000, 0x100001000ULL, 0x200000), 0);
	assert_non_null((void *)(uintptr_t)leaf(&pt, 0x80000000, &level));
	assert_int_equal(level, 3);
	assert_int_equal(io_pt_translate(&pt, &ops, 0x801ff123, &pa), 0);
	assert_int_equal(pa, 0x100001000ULL + 0x1ff123);
	io_pt_destroy(&pt, &ops);
	assert_int_equal(live, 0);
}

static void test_refusals(void **state)
{
	struct io_pt pt = { 0 };
	uint64_t pa;

	(void)state;
	assert_int_equal(io_pt_map(&pt, &ops, 0x1000, 0x2000, 0), -SHYPER_EINVAL);
	assert_int_equal(io_pt_map(&pt, &ops, 0x1001, 0x2000, PAGE), -SHYPER_EINVAL);
	assert_int_equal(io_pt_map(&pt, &ops, 0x1000, 0x2000, 0x800), -SHYPER_EINVAL);
	assert_int_equal(io_pt_map(&pt, &ops, (1ULL << 48) - PAGE, 0, 2 * PAGE), -SHYPER_EINVAL);
	assert_int_equal(io_pt_map(&pt, &ops, 0, 1ULL << 48, PAGE), -SHYPER_EINVAL);
	assert_int_equal(io_pt_map(&pt, &ops, ~0ULL - PAGE + 1, 0, PAGE), -SHYPER_EINVAL);
	assert_int_equal(live, 0); /* nothing allocated for a refused call */
	assert_int_equal(io_pt_translate(&pt, &ops, 0, &pa), -SHYPER_ENOENT);

	/* Over a block or a page already there. */
	assert_int_equal(io_pt_map(&pt, &ops, 0x40000000, 0x40000000, 0x200000), 0);
	assert_int_equal(io_pt_map(&pt, &ops, 0x40001000, 0x9000000, PAGE), -SHYPER_EEXIST);
	assert_int_equal(io_pt_map(&pt, &ops, 0x40000000, 0x40000000, 0x200000), -SHYPER_EEXIST);
	assert_int_equal(io_pt_map(&pt, &ops, 0x50000000, 0x50000000, PAGE), 0);
	assert_int_equal(io_pt_map(&pt, &ops, 0x50000000, 0x60000000, PAGE), -SHYPER_EEXIST);
	io_pt_destroy(&pt, &ops);
	assert_int_equal(live, 0);
}

static void test_out_of_frames(void **state)
{
	struct io_pt pt = { 0 };

	(void)state;
	fail_after = 0;
	assert_int_equal(io_pt_map(&pt, &ops, 0x1000, 0x1000, PAGE), -SHYPER_ENOMEM);
	assert_int_equal(pt.root_pa, 0);
	fail_after = 2; /* root, level 1, then none for level 2 */
	assert_int_equal(io_pt_map(&pt, &ops, 0x1000, 0x1000, PAGE), -SHYPER_ENOMEM);
	assert_int_equal((size_t)live, pt.nr_tables);
	io_pt_destroy(&pt, &ops);
	assert_int_equal(live, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_ram_region_with_blocks, reset),
		cmocka_unit_test_setup(test_unaligned_pa_uses_pages, reset),
		cmocka_unit_test_setup(test_refusals, reset),
		cmocka_unit_test_setup(test_out_of_frames, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
