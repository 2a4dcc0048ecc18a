/*
 * The frame pool's plan over a board's RAM banks (hv/core/mem_layout.c):
 * QEMU's single bank, QEMU with two NUMA nodes, an RPi4 with 8 GiB in three
 * banks (the holes between them reserved, every bank usable), banks cut by
 * the hypervisor's window and to whole frames, and the refusals (image in
 * no bank, unsorted or overlapping banks, bad arguments).
 *
 * unit-sources: hv/core/mem_layout.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <core/frame.h>
#include <core/mem_layout.h>
#include <shyper/errno.h>

#define MIB 0x100000ULL
#define GIB (1024 * MIB)

/* QEMU virt's window: what the hypervisor maps at EL2. */
#define QEMU_WIN_BASE 0x40000000ULL
#define QEMU_WIN_SIZE (16 * GIB)

static void qemu_single_bank(void **state)
{
	const struct board_mem_region ram[] = { { 0x40000000, GIB } };
	struct mem_layout lay;

	(void)state;
	assert_int_equal(mem_layout_plan(ram, 1, QEMU_WIN_BASE, QEMU_WIN_SIZE,
					 0x40200000, &lay), 0);
	assert_int_equal(lay.base, 0x40000000);
	assert_int_equal(lay.nr_frames, GIB / FRAME_SIZE);
	assert_int_equal(lay.nr_usable, GIB / FRAME_SIZE);
	assert_int_equal(lay.nr_holes, 0);
	assert_int_equal(lay.nr_banks, 1);
	assert_int_equal(lay.image_bank.base, 0x40000000);
	assert_int_equal(lay.image_bank.size, GIB);
}

/* -numa with two nodes: two memory nodes, back to back. */
static void qemu_two_nodes(void **state)
{
	const struct board_mem_region ram[] = { { 0x40000000, 512 * MIB },
						{ 0x60000000, 512 * MIB } };
	struct mem_layout lay;

	(void)state;
	assert_int_equal(mem_layout_plan(ram, 2, QEMU_WIN_BASE, QEMU_WIN_SIZE,
					 0x40200000, &lay), 0);
	assert_int_equal(lay.nr_frames, GIB / FRAME_SIZE);
	assert_int_equal(lay.nr_usable, GIB / FRAME_SIZE);
	assert_int_equal(lay.nr_holes, 0);
	assert_int_equal(lay.nr_banks, 2);
	assert_int_equal(lay.image_bank.size, 512 * MIB);
}

/* An RPi4 with 8 GiB as its firmware leaves it: the VideoCore's share cut
 * from the first bank, the peripherals' hole under 4 GiB. */
static const struct board_mem_region rpi4[] = {
	{ 0x00000000, 0x3b400000 },
	{ 0x40000000, 0xbc000000 },
	{ 0x100000000, 0x100000000 },
};

static void rpi4_banks_and_holes(void **state)
{
	struct mem_layout lay;

	(void)state;
	assert_int_equal(mem_layout_plan(rpi4, 3, 0, 16 * GIB, 0x200000, &lay), 0);
	assert_int_equal(lay.base, 0);
	assert_int_equal(lay.nr_frames, 0x200000000ULL / FRAME_SIZE);
	assert_int_equal(lay.nr_usable,
			 (0x3b400000ULL + 0xbc000000ULL + 0x100000000ULL) / FRAME_SIZE);
	assert_int_equal(lay.nr_banks, 3);
	assert_int_equal(lay.nr_holes, 2);
	assert_int_equal(lay.holes[0].base, 0x3b400000);
	assert_int_equal(lay.holes[0].size, 0x40000000 - 0x3b400000);
	assert_int_equal(lay.holes[1].base, 0xfc000000);
	assert_int_equal(lay.holes[1].size, 0x100000000ULL - 0xfc000000ULL);
	assert_int_equal(lay.image_bank.base, 0);
	assert_int_equal(lay.image_bank.size, 0x3b400000);

	/* The image in the middle bank: that bank holds the bitmap. */
	assert_int_equal(mem_layout_plan(rpi4, 3, 0, 16 * GIB, 0x80000000, &lay), 0);
	assert_int_equal(lay.image_bank.base, 0x40000000);
	assert_int_equal(lay.image_bank.size, 0xbc000000);
}

/* What lies outside the mapped window is not RAM to the pool; a bank cut
 * by it keeps its inside part, to whole frames. */
static void window_and_frames_cut_banks(void **state)
{
	struct mem_layout lay;
	const struct board_mem_region odd[] = { { 0x40000800, 0x1000000 },
						{ 0x42000000, 0x1000fff } };

	(void)state;
	/* A 3 GiB window from 1 GiB: the first bank is gone, the middle cut. */
	assert_int_equal(mem_layout_plan(rpi4, 3, GIB, 3 * GIB, 0x80000000, &lay), 0);
	assert_int_equal(lay.base, 0x40000000);
	assert_int_equal(lay.nr_banks, 1);
	assert_int_equal(lay.nr_holes, 0);
	assert_int_equal(lay.nr_frames, 0xbc000000ULL / FRAME_SIZE);
	/* The image in a bank the window leaves out. */
	assert_int_equal(mem_layout_plan(rpi4, 3, GIB, 3 * GIB, 0x200000, &lay),
			 -SHYPER_ENOENT);

	/* Unaligned edges: rounded inwards; the hole grows to match. */
	assert_int_equal(mem_layout_plan(odd, 2, QEMU_WIN_BASE, QEMU_WIN_SIZE, 0x40100000,
					 &lay), 0);
	assert_int_equal(lay.base, 0x40001000);
	assert_int_equal(lay.image_bank.size, 0x1000000 - FRAME_SIZE);
	assert_int_equal(lay.nr_holes, 1);
	assert_int_equal(lay.holes[0].base, 0x41000000);
	assert_int_equal(lay.holes[0].size, 0x1000000);
	assert_int_equal(lay.nr_frames, (0x43000000ULL - 0x40001000ULL) / FRAME_SIZE);
	assert_int_equal(lay.nr_usable, (0x1000000 - FRAME_SIZE + 0x1000000) / FRAME_SIZE);
}

static void refusals(void **state)
{
	struct mem_layout lay;
	const struct board_mem_region unsorted[] = { { 0x60000000, 512 * MIB },
						     { 0x40000000, 512 * MIB } };
	const struct board_mem_region overlap[] = { { 0x40000000, 512 * MIB },
						    { 0x5ff00000, 512 * MIB } };
	const struct board_mem_region tiny[] = { { 0x40000800, 0x800 } };

	(void)state;
	assert_int_equal(mem_layout_plan(unsorted, 2, QEMU_WIN_BASE, QEMU_WIN_SIZE,
					 0x40200000, &lay), -SHYPER_EINVAL);
	assert_int_equal(mem_layout_plan(overlap, 2, QEMU_WIN_BASE, QEMU_WIN_SIZE,
					 0x40200000, &lay), -SHYPER_EINVAL);
	/* The image between banks, in a hole. */
	assert_int_equal(mem_layout_plan(rpi4, 3, 0, 16 * GIB, 0x3c000000, &lay),
			 -SHYPER_ENOENT);
	/* Less than a frame of RAM: no bank at all. */
	assert_int_equal(mem_layout_plan(tiny, 1, QEMU_WIN_BASE, QEMU_WIN_SIZE, 0x40000800,
					 &lay), -SHYPER_ENOENT);
	assert_int_equal(mem_layout_plan(rpi4, BOARD_MAX_RAM + 1, 0, 16 * GIB, 0, &lay),
			 -SHYPER_EINVAL);
	assert_int_equal(mem_layout_plan(rpi4, 3, 0, 0, 0, &lay), -SHYPER_EINVAL);
	assert_int_equal(mem_layout_plan(rpi4, 3, 0xffffffff00000000ULL, 16 * GIB, 0, &lay),
			 -SHYPER_EINVAL);
	assert_int_equal(mem_layout_plan(0, 3, 0, 16 * GIB, 0, &lay), -SHYPER_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_single_bank),
		cmocka_unit_test(qemu_two_nodes),
		cmocka_unit_test(rpi4_banks_and_holes),
		cmocka_unit_test(window_and_frames_cut_banks),
		cmocka_unit_test(refusals),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
