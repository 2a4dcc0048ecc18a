/*
 * The hypervisor's identity map (hv/arch/aarch64/boot_map.c): whole GiBs as
 * level-1 blocks, a region that starts or ends inside a GiB in 2 MiB blocks
 * of a level-2 table that keeps the rest of that GiB as it was, later
 * regions over earlier ones, pages (the image's W^X) inside a block that
 * keep the rest of it, and refusals of what the tables cannot hold.
 * QEMU virt's map is checked here; the boards' in test_board_real.
 *
 * unit-sources: hv/arch/aarch64/boot_map.c
 * unit-cflags: -Ihv/arch/aarch64/inc -Itests/unit
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "plat/desc.h"
#include "../../hv/plat/qemu-virt/inc/plat/platform.h"
#include "plat/fill.h"
PLAT_DESC(virt);
#include "plat/undef.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define NORMAL 0x400ull
#define DEVICE 0x0040000000000404ull

static uint64_t l1[BOOT_MAP_ENTRIES] __attribute__((aligned(4096)));
static uint64_t l2[3][BOOT_MAP_ENTRIES] __attribute__((aligned(4096)));
static uint64_t l3[2][BOOT_MAP_ENTRIES] __attribute__((aligned(4096)));

static struct boot_map fresh(size_t nr_l2)
{
	memset(l1, 0, sizeof(l1));
	memset(l2, 0xa5, sizeof(l2));
	memset(l3, 0xa5, sizeof(l3));
	return (struct boot_map){ .l1 = l1, .l2 = l2, .nr_l2 = nr_l2, .l3 = l3, .nr_l3 = 2 };
}

/* The block that maps @va: its output address and attributes, or 0. */
static uint64_t block(const struct boot_map *m, uint64_t va, uint64_t *attrs)
{
	uint64_t d = boot_map_lookup(m, va);

	*attrs = d & 0xfff0000000000ffcull;
	return (d & 3) == 1 ? d & 0x0000ffffffe00000ull : ~0ull;
}

static void expect(const struct boot_map *m, uint64_t va, uint64_t attrs)
{
	uint64_t size = (m->l1[va >> 30] & 3) == 3 ? 2 * MIB : GIB;
	uint64_t got, out = block(m, va, &got);

	if (out != (va & ~(size - 1)))
		fail_msg("0x%llx: not identity mapped (0x%llx)", (unsigned long long)va,
			 (unsigned long long)out);
	if (got != attrs)
		fail_msg("0x%llx: attributes 0x%llx, want 0x%llx", (unsigned long long)va,
			 (unsigned long long)got, (unsigned long long)attrs);
}

static void test_whole_gibs_are_level1_blocks(void **state)
{
	struct boot_map m = fresh(0);

	(void)state;
	assert_int_equal(boot_map_range(&m, GIB, 2 * GIB, NORMAL), 0);
	assert_int_equal(m.used_l2, 0);
	assert_int_equal(l1[1] & 3, 1);
	assert_int_equal(l1[1] & ~0xfffull, GIB);
	assert_int_equal(l1[2] & ~0xfffull, 2 * GIB);
	assert_int_equal(l1[0], 0);
	assert_int_equal(l1[3], 0);
	assert_int_equal(boot_map_lookup(&m, 3 * GIB), 0);
}

static void test_device_inside_normal_gib_splits_it(void **state)
{
	struct boot_map m = fresh(1);

	(void)state;
	/* The RPi4's shape: RAM over the GiB, then its top 64 MiB as Device. */
	assert_int_equal(boot_map_range(&m, 0, 4 * GIB, NORMAL), 0);
	assert_int_equal(boot_map_range(&m, 0xfc000000, 64 * MIB, DEVICE), 0);
	assert_int_equal(m.used_l2, 1);
	assert_int_equal(l1[3] & 3, 3);
	expect(&m, 0xc0000000, NORMAL);
	expect(&m, 0xfbe00000, NORMAL);
	expect(&m, 0xfc000000, DEVICE);
	expect(&m, 0xff841000, DEVICE);
	expect(&m, 0xffe00000, DEVICE);
	expect(&m, 0x80000000, NORMAL); /* the GiB before is untouched */
	/* A second region in the same GiB reuses its table. */
	assert_int_equal(boot_map_range(&m, 0xc0000000, 2 * MIB, DEVICE), 0);
	assert_int_equal(m.used_l2, 1);
	expect(&m, 0xc0000000, DEVICE);
	expect(&m, 0xc0200000, NORMAL);
}

static void test_partial_gib_of_nothing_leaves_rest_unmapped(void **state)
{
	struct boot_map m = fresh(1);

	(void)state;
	/* The RK3588's first GiB: TF-A's 2 MiB must stay unmapped. */
	assert_int_equal(boot_map_range(&m, 2 * MIB, GIB - 2 * MIB, NORMAL), 0);
	assert_int_equal(boot_map_lookup(&m, 0), 0);
	assert_int_equal(boot_map_lookup(&m, 0x1ff000), 0);
	expect(&m, 2 * MIB, NORMAL);
	expect(&m, GIB - 2 * MIB, NORMAL);
}

static void test_refusals(void **state)
{
	struct boot_map m = fresh(1);

	(void)state;
	assert_int_equal(boot_map_range(&m, 0x1000, 2 * MIB, NORMAL), -1); /* unaligned */
	assert_int_equal(boot_map_range(&m, 0, MIB, NORMAL), -1);
	assert_int_equal(boot_map_range(&m, 0, 0, NORMAL), -1);
	assert_int_equal(boot_map_range(&m, 511 * GIB, 2 * GIB, NORMAL), -1); /* beyond */
	assert_int_equal(boot_map_range(&m, ~0ull - GIB + 1, GIB, NORMAL), -1); /* wraps */
	/* One table: the second partial GiB has none left. */
	assert_int_equal(boot_map_range(&m, 2 * MIB, 2 * MIB, NORMAL), 0);
	assert_int_equal(boot_map_range(&m, GIB + 2 * MIB, 2 * MIB, NORMAL), -1);
	assert_int_equal(m.used_l2, 1);
}

#define KIB (1ull << 10)
#define RX 0x480ull	 /* AF, read-only, executable */
#define RO (0x480ull | (1ull << 54))

static void test_image_pages_inside_a_block(void **state)
{
	struct boot_map m = fresh(1);
	uint64_t img = 0x40080000, *d;

	(void)state;
	/* QEMU's layout: the image 512 KiB into RAM, crossing a 2 MiB block. */
	assert_int_equal(boot_map_range(&m, GIB, GIB, NORMAL | (1ull << 54)), 0);
	assert_int_equal(boot_map_pages(&m, img, 64 * KIB, RX), 0);
	assert_int_equal(boot_map_pages(&m, img + 64 * KIB, 1984 * KIB, RO), 0);
	assert_int_equal(m.used_l2, 1);
	assert_int_equal(m.used_l3, 2); /* 0x40000000 and 0x40200000 blocks */
	/* Pages: type 3, their own address, their attributes. */
	d = boot_map_entry(l1, img);
	assert_non_null(d);
	assert_int_equal(*d & 3, 3);
	assert_int_equal(*d & 0x0000fffffffff000ull, img);
	assert_int_equal(*d & 0xfff0000000000ffcull, RX);
	assert_int_equal(boot_map_lookup(&m, img + 64 * KIB) & 0xfff0000000000ffcull, RO);
	assert_int_equal(boot_map_lookup(&m, img + 2 * MIB - 4 * KIB) & 0xfff0000000000ffcull, RO);
	/* The rest of both blocks keeps the block's mapping, page by page. */
	assert_int_equal(boot_map_lookup(&m, GIB) & 0x0000fffffffff003ull, GIB | 3);
	assert_int_equal(boot_map_lookup(&m, GIB) & 0xfff0000000000ffcull, NORMAL | (1ull << 54));
	assert_int_equal(boot_map_lookup(&m, img + 2 * MIB) & 0x0000fffffffff000ull, img + 2 * MIB);
	/* A later block over a page table replaces it whole. */
	assert_int_equal(boot_map_range(&m, GIB, 2 * MIB, NORMAL), 0);
	assert_int_equal(boot_map_lookup(&m, img) & 3, 1);
	/* Out of level-3 tables; unaligned. */
	assert_int_equal(boot_map_pages(&m, GIB + 8 * MIB, 4 * KIB, RO), -1);
	assert_int_equal(boot_map_pages(&m, img + 1, 4 * KIB, RO), -1);
	assert_null(boot_map_entry(l1, 5 * GIB));
}

static void test_qemu_virt_map(void **state)
{
	struct boot_map m = fresh(virt.l2_tables);

	(void)state;
	for (size_t i = 0; i < virt.nr_map; i++)
		assert_int_equal(boot_map_range(&m, virt.map[i].base, virt.map[i].size,
						virt.map[i].type == PLAT_MAP_DEVICE ? DEVICE
										    : NORMAL), 0);
	expect(&m, 0x08000000, DEVICE); /* GIC */
	expect(&m, 0x09000000, DEVICE); /* PL011 */
	expect(&m, 0x0a000000, DEVICE); /* virtio-mmio */
	expect(&m, 0x40000000, NORMAL);
	expect(&m, 0x40000000 + 16 * GIB - 2 * MIB, NORMAL);
	assert_int_equal(boot_map_lookup(&m, 0x40000000 + 16 * GIB), 0);
	assert_false(virt.uart_ns16550);
	assert_int_equal(virt.uart_base, 0x09000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_gibs_are_level1_blocks),
		cmocka_unit_test(test_device_inside_normal_gib_splits_it),
		cmocka_unit_test(test_partial_gib_of_nothing_leaves_rest_unmapped),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_image_pages_inside_a_block),
		cmocka_unit_test(test_qemu_virt_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
