/*
 * The hypervisor's identity map (hv/arch/aarch64/boot_map.c): whole GiBs as
 * level-1 blocks, a region that starts or ends inside a GiB in 2 MiB blocks
 * of a level-2 table that keeps the rest of that GiB as it was, later
 * regions over earlier ones, and refusals of what the tables cannot hold.
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

static struct boot_map fresh(size_t nr_l2)
{
	memset(l1, 0, sizeof(l1));
	memset(l2, 0xa5, sizeof(l2));
	return (struct boot_map){ l1, l2, nr_l2, 0 };
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
		cmocka_unit_test(test_qemu_virt_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
