/*
 * Board discovery: QEMU virt's real trees (GICv2 and GICv3), the
 * hand-written board_*.dts variants (each changes one thing), and random
 * corruptions of a real tree that dt_open() accepts.
 *
 * unit-sources: hv/core/board.c hv/lib/dt.c hv/lib/dt_irq.c
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

#include <core/board.h>
#include <shyper/errno.h>

#define GIB	(1ull << 30)

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

/* Parse a tree; on failure out->error must say why. */
static int parse(const char *name, struct board_info *out)
{
	size_t size;
	void *blob = load(name, &size);
	struct dt dt;
	int ret;

	assert_int_equal(dt_open(&dt, blob, size), 0);
	memset(out, 0xa5, sizeof(*out));
	ret = board_parse(&dt, out);
	if (ret)
		assert_non_null(out->error);
	else
		assert_null(out->error);
	free(blob);
	return ret;
}

static void expect_error(const char *name, int err, const char *words)
{
	struct board_info bi;
	int ret = parse(name, &bi);

	if (ret != err)
		fail_msg("%s: returned %d, want %d (%s)", name, ret, err,
			 bi.error ? bi.error : "no message");
	if (!strstr(bi.error, words))
		fail_msg("%s: message \"%s\" lacks \"%s\"", name, bi.error, words);
}

static void check_qemu_common(const struct board_info *bi)
{
	assert_int_equal(bi->nr_ram, 1);
	assert_int_equal(bi->ram[0].base, 0x40000000);
	assert_int_equal(bi->ram[0].size, GIB);
	assert_int_equal(bi->total_ram, GIB);
	assert_int_equal(bi->nr_cpus, 4);
	assert_int_equal(bi->nr_cpus_found, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(bi->cpus[i].mpidr, i);
		assert_int_equal(bi->cpus[i].enable_method, BOARD_CPU_ENABLE_PSCI);
	}
	assert_int_equal(bi->psci.method, BOARD_PSCI_SMC);
	assert_int_equal(bi->psci.version, BOARD_PSCI_1_0);
	assert_int_equal(bi->gic.gicd_base, 0x08000000);
	assert_int_equal(bi->gic.gicd_size, 0x10000);
	assert_int_equal(bi->gic.maint_intid, 25);
	assert_true(bi->uart.present);
	assert_int_equal(bi->uart.base, 0x09000000);
	assert_int_equal(bi->uart.size, 0x1000);
	assert_int_equal(bi->uart.intid, 33);
	assert_true(bi->timer.present);
	assert_int_equal(bi->timer.sec_phys_intid, 29);
	assert_int_equal(bi->timer.phys_intid, 30);
	assert_int_equal(bi->timer.virt_intid, 27);
	assert_int_equal(bi->timer.hyp_phys_intid, 26);
}

static void test_qemu_gicv3(void **state)
{
	struct board_info bi;

	(void)state;
	assert_int_equal(parse("qemu-virt-gicv3.dtb", &bi), 0);
	check_qemu_common(&bi);
	assert_int_equal(bi.gic.version, 3);
	assert_int_equal(bi.gic.gicr_base, 0x080a0000);
	assert_int_equal(bi.gic.gicr_size, 0xf60000);
	assert_int_equal(bi.gic.nr_redist_regions, 1);
	assert_int_equal(bi.gic.gicc_base, 0);
}

static void test_qemu_gicv2(void **state)
{
	struct board_info bi;

	(void)state;
	assert_int_equal(parse("qemu-virt-gicv2.dtb", &bi), 0);
	check_qemu_common(&bi);
	assert_int_equal(bi.gic.version, 2);
	assert_int_equal(bi.gic.gicc_base, 0x08010000);
	assert_int_equal(bi.gic.gicc_size, 0x10000);
	assert_int_equal(bi.gic.gich_base, 0x08030000);
	assert_int_equal(bi.gic.gich_size, 0x10000);
	assert_int_equal(bi.gic.gicv_base, 0x08040000);
	assert_int_equal(bi.gic.gicv_size, 0x10000);
	assert_int_equal(bi.gic.gicr_base, 0);
}

static void test_base_board(void **state)
{
	struct board_info bi;

	(void)state;
	assert_int_equal(parse("dts/board_ok.dtb", &bi), 0);
	/* Sorted, though the tree lists 0x80000000 first. */
	assert_int_equal(bi.nr_ram, 3);
	assert_int_equal(bi.ram[0].base, 0x40000000);
	assert_int_equal(bi.ram[0].size, 0x10000000);
	assert_int_equal(bi.ram[1].base, 0x60000000);
	assert_int_equal(bi.ram[1].size, 0x08000000);
	assert_int_equal(bi.ram[2].base, 0x80000000);
	assert_int_equal(bi.ram[2].size, 0x20000000);
	assert_int_equal(bi.total_ram, 0x38000000);
	assert_int_equal(bi.nr_cpus, 3);
	assert_int_equal(bi.nr_cpus_found, 3);
	assert_int_equal(bi.cpus[2].mpidr, 0x100);
	assert_int_equal(bi.cpus[1].enable_method, BOARD_CPU_ENABLE_PSCI);
	assert_int_equal(bi.cpus[2].enable_method, BOARD_CPU_ENABLE_SPIN_TABLE);
	assert_int_equal(bi.psci.method, BOARD_PSCI_HVC);
	assert_int_equal(bi.psci.version, BOARD_PSCI_0_2);
	assert_int_equal(bi.gic.version, 2);
	assert_int_equal(bi.gic.gicd_base, 0x1000);
	assert_int_equal(bi.gic.gicc_base, 0x2000);
	assert_int_equal(bi.gic.gicc_size, 0x2000);
	assert_int_equal(bi.gic.gich_base, 0x4000);
	assert_int_equal(bi.gic.gicv_base, 0x6000);
	assert_int_equal(bi.gic.maint_intid, 25);
	/* stdout-path "serial1:115200n8" is the third pl011. */
	assert_true(bi.uart.present);
	assert_int_equal(bi.uart.base, 0x30000);
	assert_int_equal(bi.uart.intid, 38);
	assert_int_equal(bi.timer.hyp_phys_intid, 26);
	assert_int_equal(bi.timer.sec_phys_intid, 29);
}

static void test_two_cells_and_ranges(void **state)
{
	struct board_info bi;

	(void)state;
	assert_int_equal(parse("dts/board_2cell.dtb", &bi), 0);
	assert_int_equal(bi.nr_ram, 5);
	assert_int_equal(bi.ram[2].base, 0x68000000);
	assert_int_equal(bi.ram[3].base, 0x80000000);
	assert_int_equal(bi.ram[4].base, 0x800000000ull);
	assert_int_equal(bi.ram[4].size, 4 * GIB);
	assert_int_equal(bi.total_ram, 0x50000000 + 4 * GIB);
	assert_int_equal(bi.cpus[0].mpidr, 0);
	assert_int_equal(bi.cpus[1].mpidr, 0x100000000ull);
	assert_int_equal(bi.cpus[2].mpidr, 0x100);
	/* soc's ranges maps its bus address 0 to 0xf0000000. */
	assert_int_equal(bi.gic.gicd_base, 0xf0001000);
	assert_int_equal(bi.gic.gicv_base, 0xf0006000);
	assert_int_equal(bi.uart.base, 0xf0030000);
}

static void test_many_cpus(void **state)
{
	struct board_info bi;
	static const uint64_t want[BOARD_MAX_CPUS] = { 0, 1, 0x100, 2, 3, 0x101,
						       0x102, 0x103 };

	(void)state;
	assert_int_equal(parse("dts/board_manycpus.dtb", &bi), 0);
	assert_int_equal(bi.nr_cpus, BOARD_MAX_CPUS);
	assert_int_equal(bi.nr_cpus_found, 10);
	for (size_t i = 0; i < BOARD_MAX_CPUS; i++)
		assert_int_equal(bi.cpus[i].mpidr, want[i]);
	assert_int_equal(bi.cpus[7].enable_method, BOARD_CPU_ENABLE_NONE);
}

static void test_optional_parts(void **state)
{
	struct board_info bi;

	(void)state;
	assert_int_equal(parse("dts/board_minimal.dtb", &bi), 0);
	assert_false(bi.uart.present);
	assert_false(bi.timer.present);
	assert_int_equal(bi.gic.version, 2);

	assert_int_equal(parse("dts/board_gicv2_min.dtb", &bi), 0);
	assert_int_equal(bi.gic.version, 2);
	assert_int_equal(bi.gic.gicc_base, 0x2000);
	assert_int_equal(bi.gic.gich_base, 0);
	assert_int_equal(bi.gic.gich_size, 0);
	assert_int_equal(bi.gic.gicv_base, 0);
	assert_int_equal(bi.gic.maint_intid, 0);

	/* stdout names the PSCI node: fall back to the first enabled pl011. */
	assert_int_equal(parse("dts/board_gicv3.dtb", &bi), 0);
	assert_int_equal(bi.gic.version, 3);
	assert_int_equal(bi.gic.gicd_base, 0x8000000);
	assert_int_equal(bi.gic.gicr_base, 0x80a0000);
	assert_int_equal(bi.gic.gicr_size, 0x100000);
	assert_int_equal(bi.gic.nr_redist_regions, 2);
	assert_int_equal(bi.uart.base, 0x20000);
	assert_int_equal(bi.uart.intid, 37);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("dts/board_nomem.dtb", -SHYPER_ENODEV, "memory");
	expect_error("dts/board_memtype.dtb", -SHYPER_ENODEV, "device_type");
	expect_error("dts/board_nocpus.dtb", -SHYPER_ENODEV, "/cpus");
	expect_error("dts/board_cputype.dtb", -SHYPER_ENODEV, "device_type \"cpu\"");
	expect_error("dts/board_nopsci.dtb", -SHYPER_ENODEV, "psci");
	expect_error("dts/board_badpsci.dtb", -SHYPER_EBADMSG, "method");
	expect_error("dts/board_nogic.dtb", -SHYPER_ENODEV, "GIC");
	expect_error("dts/board_overlap.dtb", -SHYPER_EINVAL, "overlapping");
	expect_error("dts/board_badreg.dtb", -SHYPER_EBADMSG, "reg");
	expect_error("dts/board_cells3.dtb", -SHYPER_ENOTSUP, "#address-cells");
	expect_error("dts/board_dupcpu.dtb", -SHYPER_EINVAL, "same reg");
	expect_error("dts/board_gicv3_bad.dtb", -SHYPER_EBADMSG, "redistributor");
	expect_error("dts/board_noranges.dtb", -SHYPER_EBADMSG, "gic");
	expect_error("dts/board_badtimer.dtb", -SHYPER_EBADMSG, "timer");
	expect_error("dts/board_badirq.dtb", -SHYPER_EBADMSG, "uart");
	expect_error("dts/board_cascade.dtb", -SHYPER_ENOTSUP, "other than the GIC");
	expect_error("dts/board_irqloop.dtb", -SHYPER_EBADMSG, "uart");
}

/* Specifiers are as long as the interrupt parent's #interrupt-cells says. */
static void test_four_cell_specifiers(void **state)
{
	struct board_info bi;

	(void)state;
	assert_int_equal(parse("dts/board_gicv3_4cell.dtb", &bi), 0);
	assert_int_equal(bi.gic.version, 3);
	assert_int_equal(bi.gic.maint_intid, 25);
	assert_int_equal(bi.uart.base, 0x30000);
	assert_int_equal(bi.uart.intid, 32 + 6);
	assert_int_equal(bi.timer.phys_intid, 30);
	assert_int_equal(bi.timer.hyp_phys_intid, 26);
}

static void test_null_args(void **state)
{
	struct board_info bi;

	(void)state;
	assert_int_equal(board_parse(NULL, NULL), -SHYPER_EINVAL);
	assert_int_equal(board_parse(NULL, &bi), -SHYPER_EINVAL);
	assert_non_null(bi.error);
}

static uint64_t rng_state = 0x5eed5eed5eed5eedull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Whatever board_parse returns on a damaged tree must be consistent. */
static void check_result(int ret, const struct board_info *bi)
{
	if (ret) {
		assert_true(ret < 0);
		assert_non_null(bi->error);
		return;
	}
	assert_true(bi->nr_ram >= 1 && bi->nr_ram <= BOARD_MAX_RAM);
	for (size_t i = 1; i < bi->nr_ram; i++)
		assert_true(bi->ram[i - 1].base + bi->ram[i - 1].size - 1 <
			    bi->ram[i].base);
	assert_true(bi->nr_cpus >= 1 && bi->nr_cpus <= BOARD_MAX_CPUS);
	assert_true(bi->nr_cpus_found >= bi->nr_cpus);
	assert_true(bi->gic.version == 2 || bi->gic.version == 3);
	assert_true(bi->psci.method == BOARD_PSCI_SMC ||
		    bi->psci.method == BOARD_PSCI_HVC);
	assert_true(!bi->uart.intid || (bi->uart.intid >= 16 && bi->uart.intid <= 1019));
}

static void test_random_corruption(void **state)
{
	static const char *const names[] = { "qemu-virt-gicv3.dtb", "dts/board_ok.dtb" };
	int accepted = 0, parsed = 0, iterations = 0;

	(void)state;
	for (size_t b = 0; b < 2; b++) {
		size_t raw_size, size;
		void *raw = load(names[b], &raw_size);
		void *packed = malloc(raw_size);

		/* Exact-size blobs so ASan sees every overrun. */
		assert_int_equal(fdt_open_into(raw, packed, (int)raw_size), 0);
		assert_int_equal(fdt_pack(packed), 0);
		size = fdt_totalsize(packed);
		for (int it = 0; it < (b ? 6000 : 1500); it++, iterations++) {
			uint8_t *copy = malloc(size);
			struct board_info bi;
			struct dt dt;
			int ret;

			memcpy(copy, packed, size);
			for (int f = 1 + (int)(rnd() % 3); f > 0; f--)
				copy[rnd() % size] ^= (uint8_t)(1 + rnd() % 255);
			if (dt_open(&dt, copy, size) == 0) {
				accepted++;
				ret = board_parse(&dt, &bi);
				parsed += ret == 0;
				check_result(ret, &bi);
			}
			free(copy);
		}
		free(packed);
		free(raw);
	}
	print_message("%d corruptions: %d opened, %d still parsed as a board\n",
		      iterations, accepted, parsed);
	assert_true(accepted > iterations / 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_gicv3),
		cmocka_unit_test(test_qemu_gicv2),
		cmocka_unit_test(test_base_board),
		cmocka_unit_test(test_two_cells_and_ranges),
		cmocka_unit_test(test_many_cpus),
		cmocka_unit_test(test_optional_parts),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_four_cell_specifiers),
		cmocka_unit_test(test_null_args),
		cmocka_unit_test(test_random_corruption),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
