/*
 * mvm-dtb: a board's management-VM device tree and U-Boot boot script,
 * made when the board's image is built (make PLAT=<board>), from the
 * board's own tree and the image's built-in MVM configuration
 * (hv/config/<board>.c, linked in), so the two cannot disagree.
 *
 *   mvm-dtb BOARD.dtb OUT.dtb    the MVM's tree (see make_tree below)
 *   mvm-dtb --list BOARD.dtb     each enabled device: address, interrupts,
 *                                and whether the MVM gets it
 *   mvm-dtb --boot-script        the U-Boot script (boot.cmd) that loads
 *                                everything where the configuration says
 *
 * A device goes to the MVM when every one of its reg ranges lies inside
 * the configuration's passthrough regions and every GIC interrupt it has is
 * in its passthrough interrupts; every other device is disabled in the
 * MVM's tree (status = "disabled"), so Linux never touches what it was not
 * given. Built per board: -Ihv/plat/<board>/inc.
 */
#include <errno.h>
#include <libfdt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <core/mvm_notify.h>
#include <core/vm_config.h>
#include <lib/dt.h>
#include <lib/dt_irq.h>
#include <plat/platform.h>
#include <shyper/hypercall.h>

#define MAX_NODES 4096
#define GROW (64 * 1024)
#define GIC_SPI_BASE 32

static const struct vm_config *cfg = &mvm_config;

static void die(const char *fmt, const char *arg, int err)
{
	fprintf(stderr, "mvm-dtb: ");
	fprintf(stderr, fmt, arg);
	if (err)
		fprintf(stderr, ": %s", fdt_strerror(err));
	fprintf(stderr, "\n");
	exit(1);
}

static void *load(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	long n;
	void *buf;

	if (!f)
		die("cannot open %s", path, 0);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + GROW);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		die("cannot read %s", path, 0);
	fclose(f);
	if (fdt_check_header(buf) || fdt_totalsize(buf) != (uint32_t)n)
		die("%s is not a device tree blob", path, 0);
	*size = (size_t)n + GROW;
	return buf;
}

static bool in_pt(uint64_t addr, uint64_t size)
{
	for (unsigned i = 0; i < cfg->nr_pt; i++)
		if (addr >= cfg->pt[i].pa && size <= cfg->pt[i].size &&
		    addr - cfg->pt[i].pa <= cfg->pt[i].size - size)
			return true;
	return false;
}

static bool irq_given(uint32_t intid)
{
	for (unsigned i = 0; i < cfg->nr_pt_irqs; i++)
		if (cfg->pt_irqs[i] == intid)
			return true;
	return false;
}

static bool is_gic(const struct dt *dt, int node)
{
	return dt_node_is_compatible(dt, node, "arm,gic-400") ||
	       dt_node_is_compatible(dt, node, "arm,cortex-a15-gic") ||
	       dt_node_is_compatible(dt, node, "arm,gic-v3");
}

/* What a device of the board is, for the MVM. */
struct verdict {
	bool device;	  /* has a reg in CPU physical addresses */
	bool given;	  /* ... and the MVM gets all of it */
	char why[160];	  /* when not given: the first thing missing */
	uint32_t spis[64];
	unsigned nr_spis;
	bool too_many;
};

static void add_spi(struct verdict *v, uint32_t intid)
{
	if (v->nr_spis == sizeof(v->spis) / sizeof(v->spis[0]))
		v->too_many = true;
	else
		v->spis[v->nr_spis++] = intid;
}

/* The node's GIC SPIs from "interrupts" (interrupts-extended: every entry
 * whose controller is the GIC); -1 if they cannot be read. */
static int node_spis(const struct dt *dt, int node, struct verdict *v)
{
	int len, parent = dt_interrupt_parent(dt, node), cells;
	const uint8_t *p = dt_getprop(dt, node, "interrupts", &len);

	if (p && parent >= 0) {
		if (!is_gic(dt, parent))
			return 0; /* behind another controller: its own business */
		cells = dt_interrupt_cells(dt, parent);
		if (cells < 3 || len % (cells * 4))
			return -1;
		for (int i = 0; i < len / (cells * 4); i++) {
			const uint8_t *c = p + i * cells * 4;

			if (dt_be32(c) == 0)
				add_spi(v, GIC_SPI_BASE + dt_be32(c + 4));
		}
		return 0;
	}
	p = dt_getprop(dt, node, "interrupts-extended", &len);
	for (int off = 0; p && off + 4 <= len;) {
		int ctrl = dt_node_by_phandle(dt, dt_be32(p + off));

		cells = ctrl >= 0 ? dt_interrupt_cells(dt, ctrl) : -1;
		if (cells < 1 || off + 4 + cells * 4 > len)
			return -1;
		if (is_gic(dt, ctrl) && dt_be32(p + off + 4) == 0)
			add_spi(v, GIC_SPI_BASE + dt_be32(p + off + 8));
		off += 4 + cells * 4;
	}
	return 0;
}

static void judge(const struct dt *dt, int node, struct verdict *v)
{
	uint64_t addr, size;

	memset(v, 0, sizeof(*v));
	for (int i = 0; dt_read_reg(dt, node, i, &addr, &size) == 0; i++) {
		if (dt_translate_address(dt, node, &addr))
			return; /* not a CPU address (an I2C or SPI child, a cpu) */
		v->device = true;
		if (!in_pt(addr, size ? size : 1) && !v->why[0])
			snprintf(v->why, sizeof(v->why), "reg 0x%llx+0x%llx not passed through",
				 (unsigned long long)addr, (unsigned long long)size);
	}
	if (!v->device)
		return;
	if (node_spis(dt, node, v))
		snprintf(v->why, sizeof(v->why), "interrupts unreadable");
	if (v->too_many && !v->why[0])
		snprintf(v->why, sizeof(v->why), "more interrupts than an MVM can be given");
	for (unsigned i = 0; i < v->nr_spis && !v->why[0]; i++)
		if (!irq_given(v->spis[i]))
			snprintf(v->why, sizeof(v->why), "interrupt %u not passed through",
				 v->spis[i]);
	v->given = !v->why[0];
}

/* Nodes the device rule does not apply to: handled on their own. */
static bool special(const struct dt *dt, int node, const char *path)
{
	const char *type;
	int len;

	type = dt_getprop(dt, node, "device_type", &len);
	return is_gic(dt, node) || (type && !strcmp(type, "memory")) ||
	       !strncmp(path, "/cpus", 5) || !strncmp(path, "/reserved-memory", 16) ||
	       !strcmp(path, "/") || dt_node_is_compatible(dt, node, "arm,gic-v3-its");
}

struct plan {
	char *disable[MAX_NODES];
	unsigned nr_disable;
};

static void walk(const struct dt *dt, bool list, struct plan *plan)
{
	char path[512];
	int depth = 0, skip_below = -1;

	for (int node = dt->root; node >= 0; node = dt_next_node(dt, node, &depth)) {
		struct verdict v;

		if (skip_below >= 0 && depth > skip_below)
			continue; /* inside a disabled or special subtree */
		skip_below = -1;
		if (fdt_get_path(dt->blob, node, path, sizeof(path)))
			die("path too long under %s", dt_node_name(dt, node), 0);
		if (special(dt, node, path)) {
			if (strcmp(path, "/"))
				skip_below = depth;
			continue;
		}
		if (!dt_node_is_enabled(dt, node)) {
			skip_below = depth;
			continue;
		}
		judge(dt, node, &v);
		if (!v.device)
			continue;
		if (list) {
			printf("%-44s %s", path, v.given ? "mvm " : "off ");
			for (unsigned i = 0; i < v.nr_spis; i++)
				printf(" %u", v.spis[i]);
			printf("%s%s\n", v.given ? "" : "  -- ", v.why);
		}
		if (!v.given) {
			if (plan->nr_disable == MAX_NODES)
				die("more than %s devices", "4096", 0);
			plan->disable[plan->nr_disable++] = strdup(path);
			skip_below = depth;
		}
	}
}

static int path_node(void *fdt, const char *path)
{
	int node = fdt_path_offset(fdt, path);

	if (node < 0)
		die("no %s", path, node);
	return node;
}

static void check(int err, const char *what)
{
	if (err < 0)
		die("%s", what, err);
}

/* Big-endian cells of one (address, size) pair in the root's cell counts. */
static int put_reg(uint32_t *c, uint64_t addr, uint64_t size, int ac, int sc)
{
	int n = 0;

	if (ac == 2)
		c[n++] = cpu_to_fdt32((uint32_t)(addr >> 32));
	c[n++] = cpu_to_fdt32((uint32_t)addr);
	if (sc == 2)
		c[n++] = cpu_to_fdt32((uint32_t)(size >> 32));
	c[n++] = cpu_to_fdt32((uint32_t)size);
	return n;
}

static bool is_cpu(const void *fdt, int node)
{
	const char *type = fdt_getprop(fdt, node, "device_type", NULL);

	return type && !strcmp(type, "cpu");
}

/* Only the MVM's vCPUs (the board's first cpu nodes), numbered as the
 * hypervisor presents them: MPIDR n for vCPU n. */
static void trim_cpus(void *fdt)
{
	char gone[64][128], name[32];
	const fdt32_t *ac;
	int cpus = path_node(fdt, "/cpus"), node, n = 0, nr_gone = 0, map;

	fdt_delprop(fdt, cpus, "enable-method"); /* a 32-bit kernel's, not psci */
	map = fdt_subnode_offset(fdt, cpus, "cpu-map");
	if (map >= 0)
		check(fdt_del_node(fdt, map), "cpu-map");
	/* By path: each deletion moves the offsets after it. */
	fdt_for_each_subnode(node, fdt, cpus)
		if (is_cpu(fdt, node) && n++ >= (int)cfg->nr_vcpus && nr_gone < 64)
			fdt_get_path(fdt, node, gone[nr_gone++], sizeof(gone[0]));
	if (n < (int)cfg->nr_vcpus)
		die("the board has fewer cpus than the MVM's %s", "vCPUs", 0);
	for (int i = 0; i < nr_gone; i++)
		check(fdt_del_node(fdt, path_node(fdt, gone[i])), gone[i]);
	cpus = path_node(fdt, "/cpus");
	ac = fdt_getprop(fdt, cpus, "#address-cells", NULL);
	n = 0;
	fdt_for_each_subnode(node, fdt, cpus) {
		if (!is_cpu(fdt, node))
			continue;
		snprintf(name, sizeof(name), "cpu@%d", n);
		check(fdt_set_name(fdt, node, name), "cpu name");
		if (ac && fdt32_to_cpu(*ac) == 2)
			check(fdt_setprop_u64(fdt, node, "reg", (uint64_t)n), "cpu reg");
		else
			check(fdt_setprop_u32(fdt, node, "reg", (uint32_t)n), "cpu reg");
		check(fdt_setprop_string(fdt, node, "enable-method", "psci"), "enable-method");
		fdt_delprop(fdt, node, "cpu-release-addr");
		n++;
	}
}

static void set_memory(void *fdt)
{
	int root = 0, ac = fdt_address_cells(fdt, 0), sc = fdt_size_cells(fdt, 0), node;
	uint32_t reg[4 * VM_MAX_MEM_REGIONS];
	char name[40];
	int n = 0;

	/* Every /memory of the board goes; the MVM's RAM comes instead. */
	while ((node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory",
						     sizeof("memory"))) >= 0)
		check(fdt_del_node(fdt, node), "a memory node");
	for (unsigned i = 0; i < cfg->nr_mem; i++)
		n += put_reg(reg + n, cfg->mem[i].ipa, cfg->mem[i].size, ac, sc);
	snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)cfg->mem[0].ipa);
	node = fdt_add_subnode(fdt, root, name);
	check(node, "memory node");
	check(fdt_setprop_string(fdt, node, "device_type", "memory"), "memory");
	check(fdt_setprop(fdt, node, "reg", reg, n * 4), "memory reg");
}

/* Fixed carve-outs outside the MVM's RAM are not the MVM's to keep. */
static void trim_reserved(void *fdt, const struct dt *dt)
{
	int rsv = fdt_path_offset(fdt, "/reserved-memory");
	char path[256];

	if (rsv < 0)
		return;
	for (int node = fdt_first_subnode(fdt, rsv); node >= 0;) {
		int orig;
		uint64_t addr, size;
		bool inside = false;

		fdt_get_path(fdt, node, path, sizeof(path));
		orig = dt_path_offset(dt, path);
		if (orig < 0 || dt_read_reg(dt, orig, 0, &addr, &size)) {
			node = fdt_next_subnode(fdt, node); /* dynamic: sized only */
			continue;
		}
		for (unsigned i = 0; i < cfg->nr_mem; i++)
			inside |= addr >= cfg->mem[i].ipa &&
				  addr + size <= cfg->mem[i].ipa + cfg->mem[i].size;
		if (inside) {
			node = fdt_next_subnode(fdt, node);
			continue;
		}
		check(fdt_del_node(fdt, node), "a reserved-memory node");
		node = fdt_first_subnode(fdt, rsv);
	}
}

/* The GIC as the MVM sees it: distributor and CPU interface (v2) or
 * redistributors (v3) at their physical addresses, no virtualization
 * extension and no ITS. */
static int trim_gic(void *fdt, int *cells)
{
	int node, len, ac, sc, entry;
	const void *reg;

	node = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-400");
	if (node < 0)
		node = fdt_node_offset_by_compatible(fdt, -1, "arm,cortex-a15-gic");
	if (node < 0)
		node = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3");
	if (node < 0)
		die("no %s in the board's tree", "GIC", node);
	ac = fdt_address_cells(fdt, fdt_parent_offset(fdt, node));
	sc = fdt_size_cells(fdt, fdt_parent_offset(fdt, node));
	entry = (ac + sc) * 4;
	reg = fdt_getprop(fdt, node, "reg", &len);
	if (!reg || len < 2 * entry)
		die("the GIC's reg has fewer than %s entries", "2", 0);
	{
		char copy[64];

		memcpy(copy, reg, (size_t)(2 * entry));
		check(fdt_setprop(fdt, node, "reg", copy, 2 * entry), "gic reg");
	}
	fdt_delprop(fdt, node, "interrupts"); /* the maintenance interrupt */
	for (int its; (its = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3-its")) >= 0;) {
		check(fdt_del_node(fdt, its), "an ITS");
		node = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3");
	}
	*cells = (int)fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(fdt, node, "#interrupt-cells",
								NULL));
	if (!fdt_getprop(fdt, node, "phandle", NULL))
		check(fdt_setprop_u32(fdt, node, "phandle", fdt_get_max_phandle(fdt) + 1), "phandle");
	return node;
}

static void spi_prop(void *fdt, int node, uint32_t intid, uint32_t type, int cells,
		     uint32_t gic_phandle)
{
	fdt32_t v[4] = { 0, cpu_to_fdt32(intid - GIC_SPI_BASE), cpu_to_fdt32(type), 0 };

	check(fdt_setprop_u32(fdt, node, "interrupt-parent", gic_phandle), "interrupt-parent");
	check(fdt_setprop(fdt, node, "interrupts", v, cells * 4), "interrupts");
}

/* What the hypervisor adds: its virtio devices and the /hypervisor node
 * shyper.ko finds (the same as core/vm_fdt.c writes on QEMU). */
static void add_hypervisor_devices(void *fdt, int cells, uint32_t gic_phandle)
{
	int ac = fdt_address_cells(fdt, 0), sc = fdt_size_cells(fdt, 0), node;
	uint32_t reg[4];
	char name[48];

	for (unsigned i = 0; i < cfg->nr_vdevs; i++) {
		const struct vm_vdev_cfg *d = &cfg->vdevs[i];

		snprintf(name, sizeof(name), "virtio_mmio@%llx", (unsigned long long)d->base);
		node = fdt_add_subnode(fdt, 0, name);
		check(node, name);
		check(fdt_setprop_string(fdt, node, "compatible", "virtio,mmio"), name);
		check(fdt_setprop(fdt, node, "reg", reg, put_reg(reg, d->base, d->size, ac, sc) * 4),
		      name);
		check(fdt_setprop_empty(fdt, node, "dma-coherent"), name);
		spi_prop(fdt, node, d->intid, 1, cells, gic_phandle);
	}
	if (cfg->notify) {
		node = fdt_add_subnode(fdt, 0, "hypervisor");
		check(node, "hypervisor");
		check(fdt_setprop_string(fdt, node, "compatible", "cshyper,hypervisor"), "hypervisor");
		spi_prop(fdt, node, MVM_NOTIFY_INTID, 1, cells, gic_phandle);
	}
}

static void set_chosen(void *fdt)
{
	int node = fdt_path_offset(fdt, "/chosen");

	if (node < 0)
		node = fdt_add_subnode(fdt, 0, "chosen");
	check(node, "chosen");
	check(fdt_setprop_string(fdt, node, "bootargs", cfg->cmdline), "bootargs");
	check(fdt_setprop_string(fdt, node, "cshyper,board", PLAT_NAME), "board");
	/* Filled in at boot (core/mvm_dtb.c), in place. */
	check(fdt_setprop_u64(fdt, node, "linux,initrd-start", 0), "initrd");
	check(fdt_setprop_u64(fdt, node, "linux,initrd-end", 0), "initrd");
}

static void set_psci(void *fdt)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, "arm,psci-1.0");
	static const char compat[] = "arm,psci-1.0\0arm,psci-0.2";

	if (node < 0)
		node = fdt_node_offset_by_compatible(fdt, -1, "arm,psci-0.2");
	if (node < 0)
		node = fdt_add_subnode(fdt, 0, "psci"); /* the RPi4's tree has none */
	check(node, "psci");
	check(fdt_setprop(fdt, node, "compatible", compat, sizeof(compat)), "psci");
	check(fdt_setprop_string(fdt, node, "method", "hvc"), "psci method");
}

static void make_tree(const char *in, const char *out)
{
	size_t size;
	void *fdt = load(in, &size), *orig = load(in, &size);
	struct dt dt;
	struct plan plan = { .nr_disable = 0 };
	int cells, gic;
	uint32_t phandle;
	FILE *f;

	check(fdt_open_into(fdt, fdt, (int)size), "open");
	if (dt_open(&dt, orig, size))
		die("%s: the hypervisor's reader refuses it", in, 0);
	walk(&dt, false, &plan);
	for (unsigned i = 0; i < plan.nr_disable; i++)
		check(fdt_setprop_string(fdt, path_node(fdt, plan.disable[i]), "status",
					 "disabled"), plan.disable[i]);
	trim_cpus(fdt);
	/* Thermal zones cool the cpus that are gone (the MVM does not
	 * manage the board's thermals; a PMU naming them just fails to probe). */
	{
		int tz = fdt_path_offset(fdt, "/thermal-zones");

		if (tz >= 0)
			check(fdt_del_node(fdt, tz), "thermal-zones");
	}
	set_memory(fdt);
	trim_reserved(fdt, &dt);
	gic = trim_gic(fdt, &cells);
	phandle = fdt_get_phandle(fdt, gic);
	add_hypervisor_devices(fdt, cells, phandle);
	set_chosen(fdt);
	set_psci(fdt);
	check(fdt_pack(fdt), "pack");
	f = fopen(out, "wb");
	if (!f || fwrite(fdt, 1, fdt_totalsize(fdt), f) != fdt_totalsize(fdt) || fclose(f))
		die("cannot write %s", out, 0);
}

/* The board's tree goes past the image's slot and state root (3 MiB), and
 * the initramfs after it, both outside the MVM's RAM: the hypervisor keeps
 * them until it has copied what it needs (the initramfs into the MVM's RAM
 * at initrd_ipa), and nothing the MVM does can reach them before. */
#define BOARD_FDT_ADDR (PLAT_HV_LOAD_ADDR + 0x400000UL)
#define BOARD_FDT_ROOM 0x200000UL /* QEMU pads its tree to 1 MiB */
#define BOARD_RD_ADDR (BOARD_FDT_ADDR + BOARD_FDT_ROOM)
#define BOARD_RD_MIN 0x4000000UL /* room it must have below the MVM's RAM */

static bool overlaps_mvm_ram(uint64_t a, uint64_t size)
{
	for (unsigned i = 0; i < cfg->nr_mem; i++)
		if (a < cfg->mem[i].ipa + cfg->mem[i].size && cfg->mem[i].ipa < a + size)
			return true;
	return false;
}

static void boot_script(void)
{
	if (overlaps_mvm_ram(PLAT_HV_LOAD_ADDR, BOARD_RD_ADDR + BOARD_RD_MIN - PLAT_HV_LOAD_ADDR))
		die("the image, the board's tree or the initramfs would lie in the MVM's RAM (%s)",
		    "PLAT_HV_LOAD_ADDR", 0);
	printf("# cshyper on %s: U-Boot loads the hypervisor and the management VM's\n"
	       "# kernel, initramfs and device tree from the partition it booted from,\n"
	       "# then starts the hypervisor with the board's device tree.\n"
	       "# Made by tools/mvm-dtb from hv/config/%s.c; compile with\n"
	       "#   mkimage -A arm64 -T script -C none -d boot.cmd boot.scr\n",
	       PLAT_NAME, PLAT_NAME);
	/* Expanded now: the variable then holds the device distro boot found. */
	printf("setenv cshyper_load load ${devtype} ${devnum}:${distro_bootpart}\n");
	printf("${cshyper_load} 0x%llx cshyper/cshyper.bin\n",
	       (unsigned long long)PLAT_HV_LOAD_ADDR);
	printf("${cshyper_load} 0x%llx cshyper/Image\n", (unsigned long long)cfg->kernel_ipa);
	printf("${cshyper_load} 0x%llx cshyper/initramfs.cpio.gz\n",
	       (unsigned long long)BOARD_RD_ADDR);
	printf("setenv cshyper_rd 0x%llx:${filesize}\n", (unsigned long long)BOARD_RD_ADDR);
	printf("${cshyper_load} 0x%llx cshyper/mvm.dtb\n", (unsigned long long)cfg->dtb_ipa);
	printf("%s", PLAT_BOOT_SCRIPT_FDT);
	printf("# booti must leave the initramfs and the tree where they are put here\n");
	printf("setenv initrd_high 0xffffffffffffffff\n");
	printf("setenv fdt_high 0xffffffffffffffff\n");
	printf("fdt addr ${cshyper_fdt}\n"); /* U-Boot 2023.01's move needs one */
	printf("fdt move ${cshyper_fdt} 0x%llx 0x%llx\n", (unsigned long long)BOARD_FDT_ADDR,
	       (unsigned long long)BOARD_FDT_ROOM);
	printf("booti 0x%llx ${cshyper_rd} 0x%llx\n", (unsigned long long)PLAT_HV_LOAD_ADDR,
	       (unsigned long long)BOARD_FDT_ADDR);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--boot-script")) {
		boot_script();
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--list")) {
		size_t size;
		void *blob = load(argv[2], &size);
		struct dt dt;
		struct plan plan = { .nr_disable = 0 };

		if (dt_open(&dt, blob, size))
			die("%s: the hypervisor's reader refuses it", argv[2], 0);
		walk(&dt, true, &plan);
		return 0;
	}
	if (argc == 3 && argv[1][0] != '-') {
		make_tree(argv[1], argv[2]);
		return 0;
	}
	fprintf(stderr, "usage: mvm-dtb BOARD.dtb OUT.dtb | --list BOARD.dtb | --boot-script\n");
	return 2;
}
