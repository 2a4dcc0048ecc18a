/*
 * Board discovery on the real device trees of the boards cshyper is built
 * for (scripts/board-dtbs.sh): the Raspberry Pi 4, the Jetson TX2 and an
 * RK3588S board. Each tree is first changed the way its firmware changes it
 * before the hypervisor sees it, since the kernel's trees leave RAM (and, on
 * the RPi4, PSCI) to the boot loader:
 *
 *   RPi4    the VideoCore firmware fills /memory (an 8 GiB board: the GPU's
 *           share below 1 GiB and the peripherals below 4 GiB are holes) and
 *           TF-A's BL31 adds a psci node and makes every cpu use it;
 *   RK3588  U-Boot adds /memory with its two DRAM banks (8 GiB board: TF-A
 *           keeps the first 2 MiB, the I/O window sits below 4 GiB);
 *   TX2     used as the kernel has it (one 8 GiB bank, PSCI in the tree).
 *
 * The untouched trees must fail with a message that names what is missing.
 * Each board's image (hv/plat/<board>/inc/plat/platform.h) is then held to
 * its tree: the early UART is the tree's console, every RAM bank is mapped
 * Normal and the GIC and UART Device by the hypervisor's identity map.
 *
 * unit-sources: hv/core/board.c hv/lib/dt.c hv/lib/dt_irq.c hv/arch/aarch64/boot_map.c
 * unit-cflags: -Ihv/arch/aarch64/inc -Itests/unit
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
#include <lib/dt_irq.h>
#include <shyper/errno.h>

#include "plat/desc.h"
#include "../../hv/plat/rpi4/inc/plat/platform.h"
#include "plat/fill.h"
PLAT_DESC(rpi4_plat);
#include "plat/undef.h"
#include "../../hv/plat/tx2/inc/plat/platform.h"
#include "plat/fill.h"
PLAT_DESC(tx2_plat);
#include "plat/undef.h"
#include "../../hv/plat/rk3588/inc/plat/platform.h"
#include "plat/fill.h"
PLAT_DESC(rk3588_plat);
#include "plat/undef.h"

#define MIB		(1ull << 20)
#define GIB		(1ull << 30)
#define FIXUP_ROOM	4096	/* room for the firmware's additions */

/* A board tree from $UNIT_BOARDS (build/boards), with room to grow. */
static void *load_board(const char *name, size_t *size)
{
	const char *dir = getenv("UNIT_BOARDS") ? getenv("UNIT_BOARDS") : "build/boards";
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
	buf = malloc((size_t)n + FIXUP_ROOM);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	assert_int_equal(fdt_open_into(buf, buf, (int)n + FIXUP_ROOM), 0);
	*size = (size_t)n + FIXUP_ROOM;
	return buf;
}

static int parse_blob(void *blob, size_t size, struct board_info *out)
{
	struct dt dt;
	int ret;

	assert_int_equal(dt_open(&dt, blob, size), 0);
	memset(out, 0xa5, sizeof(*out));
	ret = board_parse(&dt, out);
	if (ret)
		assert_non_null(out->error);
	else
		assert_null(out->error);
	return ret;
}

/* Appends big-endian cells to a property value being built. */
struct cells {
	uint32_t v[32];
	int n;
};

static void put(struct cells *c, uint64_t value, int ncells)
{
	if (ncells == 2)
		c->v[c->n++] = cpu_to_fdt32((uint32_t)(value >> 32));
	c->v[c->n++] = cpu_to_fdt32((uint32_t)value);
}

static void set_memory(void *fdt, const char *node_name, const uint64_t (*banks)[2],
		       int nr, int addr_cells, int size_cells)
{
	struct cells reg = { .n = 0 };
	int node = fdt_path_offset(fdt, node_name);

	if (node < 0)
		node = fdt_add_subnode(fdt, 0, node_name + 1);
	assert_true(node >= 0);
	for (int i = 0; i < nr; i++) {
		put(&reg, banks[i][0], addr_cells);
		put(&reg, banks[i][1], size_cells);
	}
	assert_int_equal(fdt_setprop_string(fdt, node, "device_type", "memory"), 0);
	assert_int_equal(fdt_setprop(fdt, node, "reg", reg.v,
				     reg.n * (int)sizeof(uint32_t)), 0);
}

/* What TF-A's BL31 does to the RPi4's tree (plat/rpi/rpi4). */
static void rpi4_add_psci(void *fdt)
{
	static const char compat[] = "arm,psci-1.0\0arm,psci-0.2";
	int node = fdt_add_subnode(fdt, 0, "psci");
	char path[32];
	int cpu;

	assert_true(node >= 0);
	assert_int_equal(fdt_setprop(fdt, node, "compatible", compat, sizeof(compat)), 0);
	assert_int_equal(fdt_setprop_string(fdt, node, "method", "smc"), 0);
	/* By path: every change moves the offsets after it. */
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "/cpus/cpu@%d", i);
		cpu = fdt_path_offset(fdt, path);
		assert_true(cpu >= 0);
		assert_int_equal(fdt_setprop_string(fdt, cpu, "enable-method", "psci"), 0);
		cpu = fdt_path_offset(fdt, path);
		assert_int_equal(fdt_delprop(fdt, cpu, "cpu-release-addr"), 0);
	}
}

/* An 8 GiB Pi 4 as its firmware reports it (#address-cells 2, #size-cells 1). */
static const uint64_t rpi4_banks[][2] = {
	{ 0x000000000, 0x3b400000 },	/* the GPU's share is above */
	{ 0x040000000, 0xbc000000 },	/* up to the peripherals at 0xfc000000 */
	{ 0x100000000, 0x80000000 },
	{ 0x180000000, 0x80000000 },
};

static void rpi4_firmware(void *fdt)
{
	set_memory(fdt, "/memory@0", rpi4_banks, 4, 2, 1);
	rpi4_add_psci(fdt);
}

static void check_timer(const struct board_info *bi)
{
	/* PPIs 13, 14, 11, 10 on all three, as on QEMU virt. */
	assert_true(bi->timer.present);
	assert_int_equal(bi->timer.sec_phys_intid, 29);
	assert_int_equal(bi->timer.phys_intid, 30);
	assert_int_equal(bi->timer.virt_intid, 27);
	assert_int_equal(bi->timer.hyp_phys_intid, 26);
}

static void check_banks(const struct board_info *bi, const uint64_t (*banks)[2], size_t nr)
{
	uint64_t total = 0;

	assert_int_equal(bi->nr_ram, nr);
	for (size_t i = 0; i < nr; i++) {
		assert_int_equal(bi->ram[i].base, banks[i][0]);
		assert_int_equal(bi->ram[i].size, banks[i][1]);
		total += banks[i][1];
	}
	assert_int_equal(bi->total_ram, total);
}

static void check_plat(const struct plat_desc *p, const struct board_info *bi);

static void test_rpi4(void **state)
{
	struct board_info bi;
	size_t size;
	void *fdt = load_board("rpi4.dtb", &size);

	(void)state;
	rpi4_firmware(fdt);
	assert_int_equal(parse_blob(fdt, size, &bi), 0);
	check_banks(&bi, rpi4_banks, 4);
	assert_int_equal(bi.total_ram, 8 * GIB - 76 * MIB - 64 * MIB);
	assert_int_equal(bi.nr_cpus, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(bi.cpus[i].mpidr, i);
		assert_int_equal(bi.cpus[i].enable_method, BOARD_CPU_ENABLE_PSCI);
	}
	assert_int_equal(bi.psci.method, BOARD_PSCI_SMC);
	assert_int_equal(bi.psci.version, BOARD_PSCI_1_0);
	/* GIC-400 at 0x4004xxxx on the ARM bus, 0xff84xxxx for the CPU. */
	assert_int_equal(bi.gic.version, 2);
	assert_int_equal(bi.gic.gicd_base, 0xff841000);
	assert_int_equal(bi.gic.gicd_size, 0x1000);
	assert_int_equal(bi.gic.gicc_base, 0xff842000);
	assert_int_equal(bi.gic.gicc_size, 0x2000);
	assert_int_equal(bi.gic.gich_base, 0xff844000);
	assert_int_equal(bi.gic.gicv_base, 0xff846000);
	assert_int_equal(bi.gic.maint_intid, 25);
	/* stdout-path is serial1, the mini UART (bus 0x7e215040). */
	assert_true(bi.uart.present);
	assert_int_equal(bi.uart.type, BOARD_UART_NS16550);
	assert_int_equal(bi.uart.base, 0xfe215040);
	assert_int_equal(bi.uart.size, 0x40);
	assert_int_equal(bi.uart.reg_shift, 2);
	assert_int_equal(bi.uart.reg_io_width, 4);
	assert_int_equal(bi.uart.intid, 32 + 93);
	check_timer(&bi);
	check_plat(&rpi4_plat, &bi);
	free(fdt);
}

#define ATTR_NORMAL 0x400UL		/* AF, AttrIndx 0 */
#define ATTR_DEVICE 0x0040000000000404UL	/* XN, AF, AttrIndx 1 */
#define BLOCK_ATTRS(d) ((d) & 0xfff0000000000ffcUL)

static void expect_mapped(const struct boot_map *m, uint64_t base, uint64_t size,
			  uint64_t attrs, const char *what)
{
	for (uint64_t a = base & ~((2 * MIB) - 1); a < base + size; a += 2 * MIB) {
		uint64_t d = boot_map_lookup(m, a);

		if (!(d & 1) || BLOCK_ATTRS(d) != attrs)
			fail_msg("%s at 0x%llx: descriptor 0x%llx, want attributes 0x%llx", what,
				 (unsigned long long)a, (unsigned long long)d,
				 (unsigned long long)attrs);
	}
}

/* The board's image against its tree: the early console is the tree's,
 * and the identity map (in no more level-2 tables than platform.h asks
 * for) has RAM Normal and the GIC and console Device. */
static void check_plat(const struct plat_desc *p, const struct board_info *bi)
{
	static uint64_t l1[BOOT_MAP_ENTRIES] __attribute__((aligned(4096)));
	static uint64_t l2[4][BOOT_MAP_ENTRIES] __attribute__((aligned(4096)));
	struct boot_map m = { .l1 = l1, .l2 = l2, .nr_l2 = p->l2_tables };

	assert_true(p->l2_tables <= 4);
	memset(l1, 0, sizeof(l1));
	for (size_t i = 0; i < p->nr_map; i++)
		if (boot_map_range(&m, p->map[i].base, p->map[i].size,
				   p->map[i].type == PLAT_MAP_DEVICE ? ATTR_DEVICE : ATTR_NORMAL))
			fail_msg("%s: region %zu does not fit %zu level-2 tables", p->name, i,
				 p->l2_tables);
	assert_int_equal(p->uart_base, bi->uart.base);
	assert_int_equal(p->uart_ns16550, bi->uart.type == BOARD_UART_NS16550);
	assert_int_equal(p->uart_shift, bi->uart.reg_shift);
	assert_int_equal(p->uart_width, bi->uart.reg_io_width);
	expect_mapped(&m, bi->uart.base, bi->uart.size, ATTR_DEVICE, "console UART");
	expect_mapped(&m, bi->gic.gicd_base, bi->gic.gicd_size, ATTR_DEVICE, "GICD");
	if (bi->gic.version == 2) {
		expect_mapped(&m, bi->gic.gicc_base, bi->gic.gicc_size, ATTR_DEVICE, "GICC");
		expect_mapped(&m, bi->gic.gich_base, 0x1000, ATTR_DEVICE, "GICH");
		expect_mapped(&m, bi->gic.gicv_base, 0x2000, ATTR_DEVICE, "GICV");
	} else {
		expect_mapped(&m, bi->gic.gicr_base, bi->gic.gicr_size, ATTR_DEVICE, "GICR");
	}
	for (size_t i = 0; i < bi->nr_ram; i++) {
		assert_true(bi->ram[i].base >= p->ram_window_base);
		assert_true(bi->ram[i].base + bi->ram[i].size <=
			    p->ram_window_base + p->ram_window_size);
		expect_mapped(&m, bi->ram[i].base, bi->ram[i].size, ATTR_NORMAL, "RAM bank");
	}
}

static void test_rpi4_without_firmware(void **state)
{
	struct board_info bi;
	size_t size;
	void *fdt = load_board("rpi4.dtb", &size);

	(void)state;
	assert_int_equal(parse_blob(fdt, size, &bi), -SHYPER_ENODEV);
	assert_non_null(strstr(bi.error, "the boot loader did not fill in RAM"));
	/* RAM but no TF-A: the cpus only have a spin table. */
	set_memory(fdt, "/memory@0", rpi4_banks, 4, 2, 1);
	assert_int_equal(parse_blob(fdt, size, &bi), -SHYPER_ENODEV);
	assert_non_null(strstr(bi.error, "spin-table"));
	assert_non_null(strstr(bi.error, "PSCI"));
	free(fdt);
}

/* The PL011 (UART0, Bluetooth on the Pi) when stdout names none we drive. */
static void test_rpi4_pl011(void **state)
{
	struct board_info bi;
	size_t size;
	void *fdt = load_board("rpi4.dtb", &size);
	int chosen;

	(void)state;
	rpi4_firmware(fdt);
	chosen = fdt_path_offset(fdt, "/chosen");
	assert_true(chosen >= 0);
	assert_int_equal(fdt_setprop_string(fdt, chosen, "stdout-path", "serial0:115200n8"), 0);
	assert_int_equal(parse_blob(fdt, size, &bi), 0);
	assert_int_equal(bi.uart.type, BOARD_UART_PL011);
	assert_int_equal(bi.uart.base, 0xfe201000);
	assert_int_equal(bi.uart.reg_io_width, 4);
	assert_int_equal(bi.uart.intid, 32 + 121);
	free(fdt);
}

static void test_tx2(void **state)
{
	static const uint64_t bank[][2] = { { 0x80000000, 8 * GIB } };
	static const uint64_t mpidr[] = { 0x000, 0x001, 0x100, 0x101, 0x102, 0x103 };
	struct board_info bi;
	size_t size;
	void *fdt = load_board("tx2.dtb", &size);

	(void)state;
	assert_int_equal(parse_blob(fdt, size, &bi), 0);
	check_banks(&bi, bank, 1);
	/* Two Denver cores in cluster 0, four Cortex-A57 in cluster 1. */
	assert_int_equal(bi.nr_cpus, 6);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(bi.cpus[i].mpidr, mpidr[i]);
		assert_int_equal(bi.cpus[i].enable_method, BOARD_CPU_ENABLE_PSCI);
	}
	assert_int_equal(bi.psci.method, BOARD_PSCI_SMC);
	assert_int_equal(bi.psci.version, BOARD_PSCI_1_0);
	assert_int_equal(bi.gic.version, 2);
	assert_int_equal(bi.gic.gicd_base, 0x03881000);
	assert_int_equal(bi.gic.gicc_base, 0x03882000);
	assert_int_equal(bi.gic.gich_base, 0x03884000);
	assert_int_equal(bi.gic.gicv_base, 0x03886000);
	assert_int_equal(bi.gic.maint_intid, 25);
	/* serial0 = UARTA, a 16550 with 8-bit registers 4 bytes apart. */
	assert_true(bi.uart.present);
	assert_int_equal(bi.uart.type, BOARD_UART_NS16550);
	assert_int_equal(bi.uart.base, 0x03100000);
	assert_int_equal(bi.uart.size, 0x40);
	assert_int_equal(bi.uart.reg_shift, 2);
	assert_int_equal(bi.uart.reg_io_width, 1);
	assert_int_equal(bi.uart.intid, 32 + 112);
	check_timer(&bi);
	check_plat(&tx2_plat, &bi);
	free(fdt);
}

/* U-Boot's banks on an 8 GiB RK3588S board (#address-cells 2, #size-cells 2). */
static const uint64_t rk3588_banks[][2] = {
	{ 0x000200000, 0xefe00000 },	/* below TF-A: not ours; above: I/O */
	{ 0x100000000, 0x100000000 },
};

static void test_rk3588(void **state)
{
	static const uint64_t mpidr[] = { 0x000, 0x100, 0x200, 0x300,
					  0x400, 0x500, 0x600, 0x700 };
	struct board_info bi;
	size_t size;
	void *fdt = load_board("rk3588.dtb", &size);

	(void)state;
	assert_int_equal(parse_blob(fdt, size, &bi), -SHYPER_ENODEV);
	assert_non_null(strstr(bi.error, "the boot loader did not add RAM"));
	set_memory(fdt, "/memory", rk3588_banks, 2, 2, 2);
	assert_int_equal(parse_blob(fdt, size, &bi), 0);
	check_banks(&bi, rk3588_banks, 2);
	/* Four Cortex-A55 then four Cortex-A76, one per Aff1 value. */
	assert_int_equal(bi.nr_cpus, 8);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(bi.cpus[i].mpidr, mpidr[i]);
		assert_int_equal(bi.cpus[i].enable_method, BOARD_CPU_ENABLE_PSCI);
	}
	assert_int_equal(bi.psci.method, BOARD_PSCI_SMC);
	assert_int_equal(bi.psci.version, BOARD_PSCI_1_0);
	/* GICv3 with 4-cell specifiers (the PPI partition cell). */
	assert_int_equal(bi.gic.version, 3);
	assert_int_equal(bi.gic.gicd_base, 0xfe600000);
	assert_int_equal(bi.gic.gicd_size, 0x10000);
	assert_int_equal(bi.gic.gicr_base, 0xfe680000);
	assert_int_equal(bi.gic.gicr_size, 0x100000);
	assert_int_equal(bi.gic.nr_redist_regions, 1);
	assert_int_equal(bi.gic.gicc_base, 0);
	assert_int_equal(bi.gic.maint_intid, 25);
	/* serial2, the debug UART: a DesignWare 16550, 32-bit registers. */
	assert_true(bi.uart.present);
	assert_int_equal(bi.uart.type, BOARD_UART_NS16550);
	assert_int_equal(bi.uart.base, 0xfeb50000);
	assert_int_equal(bi.uart.size, 0x100);
	assert_int_equal(bi.uart.reg_shift, 2);
	assert_int_equal(bi.uart.reg_io_width, 4);
	assert_int_equal(bi.uart.intid, 32 + 333);
	check_timer(&bi);
	check_plat(&rk3588_plat, &bi);
	free(fdt);
}

/* Interrupt parents resolved as Linux does, on the trees themselves. */
static void test_interrupt_parents(void **state)
{
	static const struct { const char *dtb, *node; int cells; } cases[] = {
		{ "rpi4.dtb", "/soc/serial@7e215040", 3 },	/* via the root */
		{ "tx2.dtb", "/serial@3100000", 3 },
		{ "rk3588.dtb", "/serial@feb50000", 4 },
		{ "rk3588.dtb", "/timer", 4 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t size;
		void *fdt = load_board(cases[i].dtb, &size);
		struct dt dt;
		int node, parent;

		assert_int_equal(dt_open(&dt, fdt, size), 0);
		node = dt_path_offset(&dt, cases[i].node);
		if (node < 0)
			fail_msg("%s: no %s", cases[i].dtb, cases[i].node);
		parent = dt_interrupt_parent(&dt, node);
		assert_true(parent >= 0);
		assert_true(dt_node_is_compatible(&dt, parent, "arm,gic-400") ||
			    dt_node_is_compatible(&dt, parent, "arm,gic-v3"));
		assert_int_equal(dt_interrupt_cells(&dt, parent), cases[i].cells);
		free(fdt);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rpi4),
		cmocka_unit_test(test_rpi4_without_firmware),
		cmocka_unit_test(test_rpi4_pl011),
		cmocka_unit_test(test_tx2),
		cmocka_unit_test(test_rk3588),
		cmocka_unit_test(test_interrupt_parents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
