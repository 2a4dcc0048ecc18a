/*
 * The boards' MVM device trees (build/<board>/mvm.dtb, made by
 * tools/mvm-dtb from the board's real tree and hv/config/<board>.c) held to
 * the configuration the image boots with: the MVM's vCPUs and RAM only, the
 * GIC as the hypervisor emulates it, PSCI through HVC, every enabled device
 * inside the MVM's passthrough regions with its interrupts passed through,
 * the console, storage and network among them, and the hypervisor's own
 * devices. Then the image's side (hv/core/mvm_dtb.c, built here for the
 * RPi4): the initramfs placeholders filled in, another board's tree and
 * anything not a tree refused.
 *
 * unit-sources: hv/core/mvm_dtb.c hv/lib/dt.c hv/lib/dt_irq.c
 * unit-cflags: -Ihv/arch/aarch64/inc -Ihv/plat/rpi4/inc -Itests/unit
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

#include <core/log.h>
#include <core/mvm_dtb.h>
#include <core/mvm_notify.h>
#include <core/vm_config.h>
#include <lib/dt.h>
#include <lib/dt_irq.h>
#include <shyper/errno.h>

/* The three boards' configurations, side by side. */
#define mvm_config rpi4_mvm
#include "../../hv/config/rpi4.c"
#include "plat/config_undef.h"
#define mvm_config tx2_mvm
#include "../../hv/config/tx2.c"
#include "plat/config_undef.h"
#define mvm_config rk3588_mvm
#include "../../hv/config/rk3588.c"
#include "plat/config_undef.h"

/* What hv/core/mvm_dtb.c needs of the rest of the hypervisor. */
static char last_error[256];

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	(void)level;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

void cache_clean_range(uint64_t addr, size_t size)
{
	(void)addr;
	(void)size;
}

struct board {
	const char *name;
	const struct vm_config *cfg;
	const char *storage, *network; /* nodes the MVM must get */
};

static const struct board boards[] = {
	{ "rpi4", &rpi4_mvm, "/emmc2bus/mmc@7e340000", "/scb/ethernet@7d580000" },
	{ "tx2", &tx2_mvm, "/mmc@3400000", "/ethernet@2490000" },
	{ "rk3588", &rk3588_mvm, "/mmc@fe2e0000", "/pcie@fe190000" },
};

static void *load(const char *board, size_t *size)
{
	const char *dir = getenv("UNIT_BUILD") ? getenv("UNIT_BUILD") : "build";
	char path[512];
	FILE *f;
	long n;
	void *buf;

	snprintf(path, sizeof(path), "%s/%s/mvm.dtb", dir, board);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run through `make unit`)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	assert_int_equal(fdt_check_header(buf), 0);
	*size = (size_t)n;
	return buf;
}

static uint64_t cells(const fdt32_t *p, int n)
{
	return n == 2 ? ((uint64_t)fdt32_to_cpu(p[0]) << 32) | fdt32_to_cpu(p[1])
		      : fdt32_to_cpu(p[0]);
}

static void check_cpus(const void *fdt, const struct vm_config *cfg)
{
	int cpus = fdt_path_offset(fdt, "/cpus"), node, n = 0;

	assert_true(cpus >= 0);
	assert_null(fdt_getprop(fdt, cpus, "enable-method", NULL));
	assert_true(fdt_subnode_offset(fdt, cpus, "cpu-map") < 0);
	fdt_for_each_subnode(node, fdt, cpus) {
		const char *type = fdt_getprop(fdt, node, "device_type", NULL);
		const fdt32_t *reg;
		int len;

		if (!type || strcmp(type, "cpu"))
			continue;
		/* vCPU n has MPIDR n (VMPIDR_EL2), whatever core it runs on. */
		reg = fdt_getprop(fdt, node, "reg", &len);
		assert_non_null(reg);
		assert_int_equal(cells(reg, len / 4), n);
		assert_string_equal(fdt_getprop(fdt, node, "enable-method", NULL), "psci");
		assert_null(fdt_getprop(fdt, node, "cpu-release-addr", NULL));
		n++;
	}
	assert_int_equal(n, cfg->nr_vcpus);
}

static void check_memory(const void *fdt, const struct vm_config *cfg)
{
	int ac = fdt_address_cells(fdt, 0), sc = fdt_size_cells(fdt, 0), node, nodes = 0, len;
	const fdt32_t *reg;

	fdt_for_each_subnode(node, fdt, 0) {
		const char *type = fdt_getprop(fdt, node, "device_type", NULL);

		if (!type || strcmp(type, "memory"))
			continue;
		nodes++;
		reg = fdt_getprop(fdt, node, "reg", &len);
		assert_int_equal(len, (ac + sc) * 4 * (int)cfg->nr_mem);
		for (unsigned i = 0; i < cfg->nr_mem; i++) {
			assert_int_equal(cells(reg + i * (ac + sc), ac), cfg->mem[i].ipa);
			assert_int_equal(cells(reg + i * (ac + sc) + ac, sc), cfg->mem[i].size);
		}
	}
	assert_int_equal(nodes, 1);
}

static void check_gic_psci_chosen(const void *fdt, const struct vm_config *cfg,
				  const char *board)
{
	int gic = fdt_node_offset_by_prop_value(fdt, -1, "interrupt-controller", NULL, 0), len;
	int chosen = fdt_path_offset(fdt, "/chosen"), psci, ac, sc;

	/* The first interrupt controller with a reg of 2 entries at the
	 * addresses the hypervisor emulates: distributor, then CPU interface
	 * (v2) or redistributors (v3). */
	gic = fdt_node_offset_by_compatible(fdt, -1, cfg->gicc_ipa ? "arm,gic-400" : "arm,gic-v3");
	if (gic < 0)
		gic = fdt_node_offset_by_compatible(fdt, -1, "arm,cortex-a15-gic");
	assert_true(gic >= 0);
	ac = fdt_address_cells(fdt, fdt_parent_offset(fdt, gic));
	sc = fdt_size_cells(fdt, fdt_parent_offset(fdt, gic));
	assert_non_null(fdt_getprop(fdt, gic, "reg", &len));
	assert_int_equal(len, 2 * (ac + sc) * 4);
	{
		struct dt dt;
		uint64_t d, c, size;

		/* In CPU addresses: the RPi4's GIC sits on a bus of its own. */
		assert_int_equal(dt_open(&dt, fdt, fdt_totalsize(fdt)), 0);
		assert_int_equal(dt_read_reg(&dt, gic, 0, &d, &size), 0);
		assert_int_equal(dt_read_reg(&dt, gic, 1, &c, &size), 0);
		assert_int_equal(dt_translate_address(&dt, gic, &d), 0);
		assert_int_equal(dt_translate_address(&dt, gic, &c), 0);
		assert_int_equal(d, cfg->gicd_ipa);
		assert_int_equal(c, cfg->gicc_ipa ? cfg->gicc_ipa : cfg->gicr_ipa);
	}
	assert_null(fdt_getprop(fdt, gic, "interrupts", NULL)); /* maintenance */
	assert_true(fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3-its") < 0);

	psci = fdt_node_offset_by_compatible(fdt, -1, "arm,psci-0.2");
	assert_true(psci >= 0);
	assert_string_equal(fdt_getprop(fdt, psci, "method", NULL), "hvc");

	assert_true(chosen >= 0);
	assert_string_equal(fdt_getprop(fdt, chosen, "bootargs", NULL), cfg->cmdline);
	assert_string_equal(fdt_getprop(fdt, chosen, "cshyper,board", NULL), board);
	assert_non_null(fdt_getprop(fdt, chosen, "linux,initrd-start", &len));
	assert_int_equal(len, 8);
	assert_non_null(fdt_getprop(fdt, chosen, "linux,initrd-end", &len));
	assert_int_equal(len, 8);
}

static bool in_pt(const struct vm_config *cfg, uint64_t a, uint64_t size)
{
	for (unsigned i = 0; i < cfg->nr_pt; i++)
		if (a >= cfg->pt[i].pa && a + size <= cfg->pt[i].pa + cfg->pt[i].size)
			return true;
	return false;
}

static bool irq_given(const struct vm_config *cfg, uint32_t intid)
{
	for (unsigned i = 0; i < cfg->nr_pt_irqs; i++)
		if (cfg->pt_irqs[i] == intid)
			return true;
	return false;
}

/* Every enabled device: inside the passthrough regions, its GIC SPIs
 * passed through. Counts the devices the MVM gets. */
static int check_devices(const void *blob, size_t size, const struct vm_config *cfg)
{
	struct dt dt;
	int depth = 0, skip = -1, devices = 0;
	char path[256];

	assert_int_equal(dt_open(&dt, blob, size), 0);
	for (int node = dt.root; node >= 0; node = dt_next_node(&dt, node, &depth)) {
		uint64_t addr, sz;
		int len, parent, ic;
		const uint8_t *irqs;
		bool device = false;

		if (skip >= 0 && depth > skip)
			continue;
		skip = -1;
		fdt_get_path(blob, node, path, sizeof(path));
		if (!dt_node_is_enabled(&dt, node) || !strncmp(path, "/cpus", 5) ||
		    !strncmp(path, "/reserved-memory", 16) || !strncmp(path, "/memory", 7) ||
		    !fdt_node_check_compatible(blob, node, "arm,gic-400") ||
		    !fdt_node_check_compatible(blob, node, "arm,gic-v3")) {
			if (node != dt.root)
				skip = depth;
			continue;
		}
		for (int i = 0; dt_read_reg(&dt, node, i, &addr, &sz) == 0; i++) {
			if (dt_translate_address(&dt, node, &addr))
				break;
			device = true;
			/* The hypervisor's own devices are emulated, not passed. */
			if (cfg->nr_vdevs && addr == cfg->vdevs[0].base)
				continue;
			if (!in_pt(cfg, addr, sz ? sz : 1))
				fail_msg("%s: reg 0x%llx+0x%llx outside the MVM's passthrough", path,
					 (unsigned long long)addr, (unsigned long long)sz);
		}
		if (!device)
			continue;
		devices++;
		irqs = dt_getprop(&dt, node, "interrupts", &len);
		parent = dt_interrupt_parent(&dt, node);
		if (!irqs || parent < 0)
			continue;
		ic = dt_interrupt_cells(&dt, parent);
		if (fdt_node_check_compatible(blob, parent, "arm,gic-400") &&
		    fdt_node_check_compatible(blob, parent, "arm,gic-v3"))
			continue; /* behind a controller of the MVM's own */
		for (int i = 0; i < len / (ic * 4); i++) {
			uint32_t type = dt_be32(irqs + i * ic * 4), n = dt_be32(irqs + i * ic * 4 + 4);

			if (type != 0)
				continue; /* PPIs: the timer, the PMU */
			if (cfg->nr_vdevs && addr == cfg->vdevs[0].base)
				assert_int_equal(32 + n, cfg->vdevs[0].intid);
			else if (!irq_given(cfg, 32 + n) && 32 + n != MVM_NOTIFY_INTID)
				fail_msg("%s: interrupt %u not passed to the MVM", path, 32 + n);
		}
	}
	return devices;
}

static void expect_enabled(const void *fdt, const char *path)
{
	int node = fdt_path_offset(fdt, path);
	const char *status;

	if (node < 0)
		fail_msg("no %s", path);
	status = fdt_getprop(fdt, node, "status", NULL);
	if (status && strcmp(status, "okay"))
		fail_msg("%s is %s in the MVM's tree", path, status);
}

static void test_mvm_trees(void **state)
{
	(void)state;
	for (size_t b = 0; b < sizeof(boards) / sizeof(boards[0]); b++) {
		const struct vm_config *cfg = boards[b].cfg;
		size_t size;
		void *fdt = load(boards[b].name, &size);
		const char *stdout_path;
		char console[64];
		int node;

		check_cpus(fdt, cfg);
		check_memory(fdt, cfg);
		check_gic_psci_chosen(fdt, cfg, boards[b].name);
		assert_true(check_devices(fdt, size, cfg) > 10);
		/* The console (stdout-path's alias), storage and network. */
		stdout_path = fdt_getprop(fdt, fdt_path_offset(fdt, "/chosen"), "stdout-path", NULL);
		assert_non_null(stdout_path);
		snprintf(console, sizeof(console), "%.*s", (int)strcspn(stdout_path, ":"),
			 stdout_path);
		expect_enabled(fdt, fdt_get_alias(fdt, console));
		expect_enabled(fdt, boards[b].storage);
		expect_enabled(fdt, boards[b].network);
		/* The hypervisor's devices: its switch port and /hypervisor. */
		node = fdt_node_offset_by_compatible(fdt, -1, "cshyper,hypervisor");
		assert_true(node >= 0);
		node = fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio");
		assert_true(node >= 0);
		assert_true(fdt_totalsize(fdt) <= MVM_GIVEN_DTB_MAX);
		free(fdt);
	}
}

/* A copy of a tree where hv/core/mvm_dtb.c expects it, with @cfg's
 * addresses; the caller frees *buf. */
static struct vm_config at_buffer(const char *board, void **buf)
{
	size_t size;
	struct vm_config cfg = rpi4_mvm;

	*buf = load(board, &size);
	cfg.dtb_ipa = (uint64_t)(uintptr_t)*buf;
	return cfg;
}

static uint64_t chosen_u64(const void *fdt, const char *name)
{
	const void *p = fdt_getprop(fdt, fdt_path_offset(fdt, "/chosen"), name, NULL);
	fdt64_t v;

	assert_non_null(p);
	memcpy(&v, p, sizeof(v));
	return fdt64_to_cpu(v);
}

static void test_image_fills_in_the_initramfs(void **state)
{
	void *fdt;
	struct vm_config cfg = at_buffer("rpi4", &fdt);
	uint32_t before = fdt_totalsize(fdt);

	(void)state;
	assert_int_equal(mvm_dtb_given_prepare(&cfg, 0x123000), 0);
	assert_int_equal(chosen_u64(fdt, "linux,initrd-start"), cfg.initrd_ipa);
	assert_int_equal(chosen_u64(fdt, "linux,initrd-end"), cfg.initrd_ipa + 0x123000);
	assert_int_equal(fdt_totalsize(fdt), before); /* changed in place */
	assert_int_equal(fdt_check_full(fdt, before), 0);
	/* No initramfs: both zero, which Linux reads as none. */
	assert_int_equal(mvm_dtb_given_prepare(&cfg, 0), 0);
	assert_int_equal(chosen_u64(fdt, "linux,initrd-start"), 0);
	assert_int_equal(chosen_u64(fdt, "linux,initrd-end"), 0);
	free(fdt);
}

static void test_image_refuses_other_trees(void **state)
{
	void *fdt;
	struct vm_config cfg = at_buffer("tx2", &fdt);
	uint8_t junk[256];

	(void)state;
	/* The TX2's tree is not for the RPi4's image. */
	assert_int_equal(mvm_dtb_given_prepare(&cfg, 0x1000), -SHYPER_EINVAL);
	assert_non_null(strstr(last_error, "not made for this image's board (rpi4)"));
	free(fdt);
	/* Nothing loaded there. */
	memset(junk, 0, sizeof(junk));
	cfg.dtb_ipa = (uint64_t)(uintptr_t)junk;
	assert_int_equal(mvm_dtb_given_prepare(&cfg, 0x1000), -SHYPER_ENOENT);
	assert_non_null(strstr(last_error, "the boot script loads this board's mvm.dtb"));
	/* The right board, but a placeholder of the wrong size. */
	cfg = at_buffer("rpi4", &fdt);
	{
		size_t size = fdt_totalsize(fdt) + 64;
		void *big = calloc(1, size);
		int chosen;

		assert_int_equal(fdt_open_into(fdt, big, (int)size), 0);
		chosen = fdt_path_offset(big, "/chosen");
		assert_int_equal(fdt_setprop_u32(big, chosen, "linux,initrd-end", 0), 0);
		cfg.dtb_ipa = (uint64_t)(uintptr_t)big;
		assert_int_equal(mvm_dtb_given_prepare(&cfg, 0x1000), -SHYPER_EINVAL);
		assert_non_null(strstr(last_error, "no 8-byte /chosen/linux,initrd-end"));
		free(big);
	}
	free(fdt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mvm_trees),
		cmocka_unit_test(test_image_fills_in_the_initramfs),
		cmocka_unit_test(test_image_refuses_other_trees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
