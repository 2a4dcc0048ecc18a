/*
 * VM device tree: every combination of GIC version, 1 or 2 vCPUs, UART or
 * not, initrd or not, 0 or 2 virtio transports is read back with libfdt
 * node by node and property by property (phandles resolved, stdout-path
 * followed) and passed through `dtc -I dtb -O dts`, which must exit 0
 * without a warning; the shared nodes are compared with QEMU's own virt
 * trees (same values, properties and nodes in the same relative order);
 * invalid descriptors are refused without touching the buffer, and every
 * too-small buffer gives -SHYPER_ENOSPC without a write past its end.
 *
 * unit-sources: hv/core/vm_fdt.c hv/lib/fdt_write.c hv/lib/fmt.c
 * unit-libs: -lfdt
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <libfdt.h>

#include <core/vm_fdt.h>
#include <shyper/errno.h>

#define BUF_SIZE	16384
#define CANARY_SIZE	64
#define CANARY		0xa5

/* QEMU virt's memory map, so trees compare with QEMU's. */
#define GICD_BASE	0x08000000ull
#define GICD_SIZE	0x10000ull
#define GICC_BASE	0x08010000ull
#define GICC_SIZE	0x10000ull
#define GICR_BASE	0x080a0000ull
#define GICR_PER_CPU	0x20000ull
#define UART_BASE	0x09000000ull
#define UART_SIZE	0x1000ull
#define UART_IRQ	33	/* SPI 1 */
#define VIRTIO_BASE	0x0a000000ull
#define VIRTIO_SIZE	0x200ull
#define VIRTIO_IRQ	48	/* SPI 16 */
#define RAM_BASE	0x40000000ull
#define RAM_SIZE	0x20000000ull
#define RAM2_BASE	0x100000000ull
#define RAM2_SIZE	0x10000000ull
#define INITRD_START	0x48000000ull
#define INITRD_END	0x48123456ull
#define CMDLINE		"console=ttyAMA0 earlycon root=/dev/vda rw"

static const struct vm_fdt_mmio_dev virtio_devs[2] = {
	{ VIRTIO_BASE, VIRTIO_SIZE, VIRTIO_IRQ },
	{ VIRTIO_BASE + VIRTIO_SIZE, VIRTIO_SIZE, VIRTIO_IRQ + 1 },
};

static struct vm_fdt_desc make_desc(unsigned int gic, unsigned int vcpus,
				    bool uart, bool initrd,
				    unsigned int nr_virtio)
{
	struct vm_fdt_desc d;

	memset(&d, 0, sizeof(d));
	d.cmdline = CMDLINE;
	d.nr_vcpus = vcpus;
	/* Two memory regions with two vCPUs, to cover more than one. */
	d.nr_mem = vcpus > 1 ? 2 : 1;
	d.mem[0].base = RAM_BASE;
	d.mem[0].size = RAM_SIZE;
	d.mem[1].base = RAM2_BASE;
	d.mem[1].size = RAM2_SIZE;
	d.gic.version = gic;
	d.gic.gicd_base = GICD_BASE;
	d.gic.gicd_size = GICD_SIZE;
	if (gic == 2) {
		d.gic.gicc_base = GICC_BASE;
		d.gic.gicc_size = GICC_SIZE;
	} else {
		d.gic.gicr_base = GICR_BASE;
		d.gic.gicr_size = GICR_PER_CPU * vcpus;
	}
	d.has_uart = uart;
	d.uart.base = UART_BASE;
	d.uart.size = UART_SIZE;
	d.uart.irq = UART_IRQ;
	d.nr_virtio = nr_virtio;
	d.virtio = nr_virtio ? virtio_devs : NULL;
	d.has_initrd = initrd;
	d.initrd_start = INITRD_START;
	d.initrd_end = INITRD_END;
	return d;
}

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

static int node_at(const void *fdt, const char *path)
{
	int node = fdt_path_offset(fdt, path);

	if (node < 0)
		fail_msg("no node %s: %s", path, fdt_strerror(node));
	return node;
}

static const void *getprop(const void *fdt, int node, const char *name,
			   int *len)
{
	const void *v = fdt_getprop(fdt, node, name, len);

	if (!v)
		fail_msg("%s: no property %s", fdt_get_name(fdt, node, NULL),
			 name);
	return v;
}

static void expect_bytes(const void *fdt, int node, const char *name,
			 const void *want, int want_len)
{
	int len;
	const void *v = getprop(fdt, node, name, &len);

	if (len != want_len || memcmp(v, want, (size_t)len))
		fail_msg("%s: property %s differs",
			 fdt_get_name(fdt, node, NULL), name);
}

/* A string or string list, given with its embedded NULs. */
#define expect_str(fdt, node, name, s) \
	expect_bytes(fdt, node, name, s, (int)sizeof(s))

static void expect_empty(const void *fdt, int node, const char *name)
{
	expect_bytes(fdt, node, name, "", 0);
}

static void expect_cells(const void *fdt, int node, const char *name,
			 const uint32_t *cells, int n)
{
	int len, i;
	const uint8_t *v = getprop(fdt, node, name, &len);

	if (len != 4 * n)
		fail_msg("%s: %s has %d bytes, want %d",
			 fdt_get_name(fdt, node, NULL), name, len, 4 * n);
	for (i = 0; i < n; i++)
		if (be32(v + 4 * i) != cells[i])
			fail_msg("%s: %s cell %d is %#x, want %#x",
				 fdt_get_name(fdt, node, NULL), name, i,
				 be32(v + 4 * i), cells[i]);
}

static void expect_u32(const void *fdt, int node, const char *name,
		       uint32_t v)
{
	expect_cells(fdt, node, name, &v, 1);
}

static void expect_u64(const void *fdt, int node, const char *name,
		       uint64_t v)
{
	int len;
	const void *p = getprop(fdt, node, name, &len);

	assert_int_equal(len, 8);
	assert_int_equal(be64(p), v);
}

/* reg of 2 + 2 cells per region. */
static void expect_reg(const void *fdt, int node, const uint64_t *pairs,
		       int nr)
{
	uint32_t cells[16];
	int i;

	for (i = 0; i < 2 * nr; i++) {
		cells[2 * i] = (uint32_t)(pairs[i] >> 32);
		cells[2 * i + 1] = (uint32_t)pairs[i];
	}
	expect_cells(fdt, node, "reg", cells, 4 * nr);
}

static int nr_props(const void *fdt, int node)
{
	int off, n = 0;

	fdt_for_each_property_offset(off, fdt, node)
		n++;
	return n;
}

static void expect_nr_props(const void *fdt, int node, int n)
{
	if (nr_props(fdt, node) != n)
		fail_msg("%s: %d properties, want %d",
			 fdt_get_name(fdt, node, NULL), nr_props(fdt, node), n);
}

static int nr_subnodes(const void *fdt, int node)
{
	int sub, n = 0;

	fdt_for_each_subnode(sub, fdt, node)
		n++;
	return n;
}

static void check_root(const void *fdt, const struct vm_fdt_desc *d)
{
	char names[32][40];
	int root = node_at(fdt, "/"), n = 0, i, sub;
	unsigned int k;

	expect_str(fdt, root, "compatible", "linux,dummy-virt");
	expect_str(fdt, root, "model", "cshyper VM");
	expect_u32(fdt, root, "#address-cells", 2);
	expect_u32(fdt, root, "#size-cells", 2);
	getprop(fdt, root, "interrupt-parent", &i);
	expect_nr_props(fdt, root, 5);

	/* The top-level nodes, in QEMU's order. */
	snprintf(names[n++], 40, "psci");
	for (k = 0; k < d->nr_mem; k++)
		snprintf(names[n++], 40, "memory@%llx",
			 (unsigned long long)d->mem[k].base);
	for (k = 0; k < d->nr_virtio; k++)
		snprintf(names[n++], 40, "virtio_mmio@%llx",
			 (unsigned long long)d->virtio[k].base);
	if (d->has_uart)
		snprintf(names[n++], 40, "pl011@%llx",
			 (unsigned long long)d->uart.base);
	snprintf(names[n++], 40, "intc@%llx",
		 (unsigned long long)d->gic.gicd_base);
	snprintf(names[n++], 40, "cpus");
	snprintf(names[n++], 40, "timer");
	if (d->has_uart)
		snprintf(names[n++], 40, "apb-pclk");
	snprintf(names[n++], 40, "chosen");
	i = 0;
	fdt_for_each_subnode(sub, fdt, root) {
		assert_true(i < n);
		assert_string_equal(fdt_get_name(fdt, sub, NULL), names[i]);
		i++;
	}
	assert_int_equal(i, n);
}

static void check_psci(const void *fdt)
{
	int node = node_at(fdt, "/psci");

	expect_str(fdt, node, "compatible", "arm,psci-1.0\0arm,psci-0.2");
	expect_str(fdt, node, "method", "hvc");
	expect_nr_props(fdt, node, 2);
}

static void check_memory(const void *fdt, const struct vm_fdt_desc *d)
{
	char path[64];
	unsigned int i;
	int node;

	for (i = 0; i < d->nr_mem; i++) {
		snprintf(path, sizeof(path), "/memory@%llx",
			 (unsigned long long)d->mem[i].base);
		node = node_at(fdt, path);
		expect_str(fdt, node, "device_type", "memory");
		expect_reg(fdt, node, &d->mem[i].base, 1);
		expect_nr_props(fdt, node, 2);
	}
}

static void check_gic(const void *fdt, const struct vm_fdt_desc *d)
{
	const struct vm_fdt_gic *g = &d->gic;
	char path[64];
	uint64_t reg[4] = { g->gicd_base, g->gicd_size };
	int node, len;

	snprintf(path, sizeof(path), "/intc@%llx",
		 (unsigned long long)g->gicd_base);
	node = node_at(fdt, path);
	if (g->version == 3) {
		expect_str(fdt, node, "compatible", "arm,gic-v3");
		expect_u32(fdt, node, "#redistributor-regions", 1);
		reg[2] = g->gicr_base;
		reg[3] = g->gicr_size;
	} else {
		expect_str(fdt, node, "compatible", "arm,cortex-a15-gic");
		assert_null(fdt_getprop(fdt, node, "#redistributor-regions",
					&len));
		reg[2] = g->gicc_base;
		reg[3] = g->gicc_size;
	}
	expect_reg(fdt, node, reg, 2);
	expect_u32(fdt, node, "#interrupt-cells", 3);
	expect_empty(fdt, node, "interrupt-controller");
	expect_u32(fdt, node, "#address-cells", 2);
	expect_u32(fdt, node, "#size-cells", 2);
	expect_empty(fdt, node, "ranges");
	/* No maintenance interrupt: the VM has no virtualization extensions. */
	assert_null(fdt_getprop(fdt, node, "interrupts", &len));
	assert_int_equal(nr_subnodes(fdt, node), 0);
	expect_nr_props(fdt, node, g->version == 3 ? 9 : 8);

	/* The root's interrupt-parent is this node's phandle. */
	assert_int_not_equal(fdt_get_phandle(fdt, node), 0);
	assert_int_equal(be32(getprop(fdt, 0, "interrupt-parent", &len)),
			 fdt_get_phandle(fdt, node));
	assert_int_equal(fdt_node_offset_by_phandle(fdt,
			 fdt_get_phandle(fdt, node)), node);
}

static void check_cpus(const void *fdt, const struct vm_fdt_desc *d)
{
	int cpus = node_at(fdt, "/cpus"), node;
	char path[64];
	unsigned int i;

	expect_u32(fdt, cpus, "#address-cells", 1);
	expect_u32(fdt, cpus, "#size-cells", 0);
	expect_nr_props(fdt, cpus, 2);
	assert_int_equal(nr_subnodes(fdt, cpus), d->nr_vcpus);
	for (i = 0; i < d->nr_vcpus; i++) {
		snprintf(path, sizeof(path), "/cpus/cpu@%u", i);
		node = node_at(fdt, path);
		expect_u32(fdt, node, "reg", i);
		expect_str(fdt, node, "device_type", "cpu");
		expect_str(fdt, node, "compatible", "arm,cortex-a72");
		expect_str(fdt, node, "enable-method", "psci");
		expect_nr_props(fdt, node, 4);
	}
}

static void check_timer(const void *fdt, const struct vm_fdt_desc *d)
{
	int node = node_at(fdt, "/timer");
	uint32_t flags = 4, cells[12] = {
		1, 13, 0, 1, 14, 0, 1, 11, 0, 1, 10, 0,
	};
	int i;

	if (d->gic.version == 2)
		flags |= ((1u << d->nr_vcpus) - 1) << 8;
	for (i = 0; i < 4; i++)
		cells[3 * i + 2] = flags;
	expect_cells(fdt, node, "interrupts", cells, 12);
	expect_str(fdt, node, "compatible", "arm,armv8-timer\0arm,armv7-timer");
	expect_empty(fdt, node, "always-on");
	expect_nr_props(fdt, node, 3);
}

static void check_uart(const void *fdt, const struct vm_fdt_desc *d)
{
	int clk, len, node, chosen = node_at(fdt, "/chosen");
	const uint8_t *clocks;
	const char *path;
	char name[64];
	const uint32_t irq[3] = { 0, d->uart.irq - 32, 4 };

	snprintf(name, sizeof(name), "/pl011@%llx",
		 (unsigned long long)d->uart.base);
	if (!d->has_uart) {
		assert_true(fdt_path_offset(fdt, name) < 0);
		assert_true(fdt_path_offset(fdt, "/apb-pclk") < 0);
		assert_true(fdt_node_offset_by_compatible(fdt, -1,
							  "arm,pl011") < 0);
		assert_null(fdt_getprop(fdt, chosen, "stdout-path", &len));
		return;
	}
	node = node_at(fdt, name);
	expect_str(fdt, node, "compatible", "arm,pl011\0arm,primecell");
	expect_reg(fdt, node, &d->uart.base, 1);
	expect_cells(fdt, node, "interrupts", irq, 3);
	expect_str(fdt, node, "clock-names", "uartclk\0apb_pclk");
	expect_nr_props(fdt, node, 5);

	/* Both clocks are the fixed 24 MHz clock. */
	clocks = getprop(fdt, node, "clocks", &len);
	assert_int_equal(len, 8);
	clk = node_at(fdt, "/apb-pclk");
	assert_int_equal(fdt_node_offset_by_phandle(fdt, be32(clocks)), clk);
	assert_int_equal(fdt_node_offset_by_phandle(fdt, be32(clocks + 4)),
			 clk);
	expect_str(fdt, clk, "compatible", "fixed-clock");
	expect_u32(fdt, clk, "#clock-cells", 0);
	expect_u32(fdt, clk, "clock-frequency", 24000000);
	expect_str(fdt, clk, "clock-output-names", "clk24mhz");
	expect_u32(fdt, clk, "phandle", fdt_get_phandle(fdt, clk));
	expect_nr_props(fdt, clk, 5);

	/* stdout-path names the UART. */
	path = getprop(fdt, chosen, "stdout-path", &len);
	assert_int_equal(len, (int)strlen(name) + 1);
	assert_string_equal(path, name);
	assert_int_equal(fdt_path_offset(fdt, path), node);
}

static void check_virtio(const void *fdt, const struct vm_fdt_desc *d)
{
	char path[64];
	unsigned int i;
	int node, n = 0;

	for (i = 0; i < d->nr_virtio; i++) {
		const uint32_t irq[3] = { 0, d->virtio[i].irq - 32, 1 };

		snprintf(path, sizeof(path), "/virtio_mmio@%llx",
			 (unsigned long long)d->virtio[i].base);
		node = node_at(fdt, path);
		expect_str(fdt, node, "compatible", "virtio,mmio");
		expect_reg(fdt, node, &d->virtio[i].base, 1);
		expect_cells(fdt, node, "interrupts", irq, 3);
		expect_empty(fdt, node, "dma-coherent");
		expect_nr_props(fdt, node, 4);
	}
	for (node = fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio");
	     node >= 0;
	     node = fdt_node_offset_by_compatible(fdt, node, "virtio,mmio"))
		n++;
	assert_int_equal(n, d->nr_virtio);
}

static void check_chosen(const void *fdt, const struct vm_fdt_desc *d)
{
	int node = node_at(fdt, "/chosen"), len;

	if (d->cmdline)
		expect_bytes(fdt, node, "bootargs", d->cmdline,
			     (int)strlen(d->cmdline) + 1);
	else
		assert_null(fdt_getprop(fdt, node, "bootargs", &len));
	if (d->has_initrd) {
		expect_u64(fdt, node, "linux,initrd-start", d->initrd_start);
		expect_u64(fdt, node, "linux,initrd-end", d->initrd_end);
	} else {
		assert_null(fdt_getprop(fdt, node, "linux,initrd-start", &len));
		assert_null(fdt_getprop(fdt, node, "linux,initrd-end", &len));
	}
	expect_nr_props(fdt, node, (d->cmdline ? 1 : 0) +
			(d->has_uart ? 1 : 0) + (d->has_initrd ? 2 : 0));
}

/* `dtc -I dtb -O dts` must take the blob without a warning. */
static void check_dtc(const void *fdt)
{
	char path[] = "/tmp/test_vm_fdt.XXXXXX", cmd[128], out[4096];
	size_t n;
	FILE *p;
	int fd, status;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, fdt, fdt_totalsize(fdt)),
			 (ssize_t)fdt_totalsize(fdt));
	close(fd);
	snprintf(cmd, sizeof(cmd), "dtc -I dtb -O dts -o /dev/null %s 2>&1",
		 path);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	unlink(path);
	if (status != 0 || strstr(out, "Warning") || strstr(out, "ERROR"))
		fail_msg("dtc (status %d): %s", status, out);
}

static void check_tree(const void *fdt, size_t len,
		       const struct vm_fdt_desc *d)
{
	assert_int_equal(fdt_check_header(fdt), 0);
	assert_int_equal(fdt_totalsize(fdt), len);
	assert_int_equal(fdt_num_mem_rsv(fdt), 0);
	check_root(fdt, d);
	check_psci(fdt);
	check_memory(fdt, d);
	check_gic(fdt, d);
	check_cpus(fdt, d);
	check_timer(fdt, d);
	check_uart(fdt, d);
	check_virtio(fdt, d);
	check_chosen(fdt, d);
	check_dtc(fdt);
}

static void test_combinations(void **state)
{
	uint8_t *buf = malloc(BUF_SIZE);
	unsigned int gic, vcpus, nr_virtio, combos = 0;
	int uart, initrd;
	size_t len;

	(void)state;
	for (gic = 2; gic <= 3; gic++)
	for (vcpus = 1; vcpus <= 2; vcpus++)
	for (uart = 0; uart <= 1; uart++)
	for (initrd = 0; initrd <= 1; initrd++)
	for (nr_virtio = 0; nr_virtio <= 2; nr_virtio += 2) {
		struct vm_fdt_desc d = make_desc(gic, vcpus, uart, initrd,
						 nr_virtio);

		memset(buf, 0xff, BUF_SIZE);
		len = 0;
		assert_int_equal(vm_fdt_build(&d, buf, BUF_SIZE, &len), 0);
		check_tree(buf, len, &d);
		combos++;
	}
	assert_int_equal(combos, 32);
	free(buf);
}

/* No command line, eight vCPUs (a full GICv2 PPI CPU mask). */
static void test_limits(void **state)
{
	uint8_t buf[BUF_SIZE];
	struct vm_fdt_desc d;
	unsigned int gic;
	size_t len;

	(void)state;
	for (gic = 2; gic <= 3; gic++) {
		d = make_desc(gic, VM_FDT_MAX_VCPUS, true, true, 2);
		d.cmdline = NULL;
		d.nr_mem = VM_FDT_MAX_MEM;
		for (unsigned int i = 0; i < VM_FDT_MAX_MEM; i++) {
			d.mem[i].base = RAM_BASE + i * RAM_SIZE;
			d.mem[i].size = RAM_SIZE;
		}
		assert_int_equal(vm_fdt_build(&d, buf, sizeof(buf), &len), 0);
		check_tree(buf, len, &d);
	}
	/* The initrd may fill its region exactly and lie in any region. */
	d = make_desc(3, 2, true, true, 0);
	d.initrd_start = RAM2_BASE;
	d.initrd_end = RAM2_BASE + RAM2_SIZE;
	assert_int_equal(vm_fdt_build(&d, buf, sizeof(buf), NULL), 0);
	assert_int_equal(fdt_check_header(buf), 0);
}

static void *load(const char *name)
{
	const char *dir = getenv("UNIT_DATA");
	char path[512];
	FILE *f;
	long n;
	void *buf;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "build/unit", name);
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
	assert_int_equal(fdt_check_header(buf), 0);
	return buf;
}

/* Index of property @name in @node, or -1. */
static int prop_index(const void *fdt, int node, const char *name)
{
	int off, i = 0;
	const char *pname;

	fdt_for_each_property_offset(off, fdt, node) {
		fdt_getprop_by_offset(fdt, off, &pname, NULL);
		if (!strcmp(pname, name))
			return i;
		i++;
	}
	return -1;
}

/*
 * Our @path node's properties are QEMU's, in QEMU's relative order; the
 * values are equal except for @skip (NULL-terminated: phandles and the
 * GIC's extra regions).
 */
static void compare_node(const void *ours, const void *qemu, const char *path,
			 const char *const *skip)
{
	int a = node_at(ours, path), b = node_at(qemu, path);
	int off, idx, last = -1, len, qlen;
	const char *name;
	const void *v, *qv;

	fdt_for_each_property_offset(off, ours, a) {
		bool skipped = false;

		v = fdt_getprop_by_offset(ours, off, &name, &len);
		idx = prop_index(qemu, b, name);
		if (idx < 0)
			fail_msg("%s: QEMU has no %s", path, name);
		if (idx < last)
			fail_msg("%s: %s out of QEMU's order", path, name);
		last = idx;
		for (const char *const *s = skip; s && *s; s++)
			skipped |= !strcmp(*s, name);
		if (skipped)
			continue;
		qv = fdt_getprop(qemu, b, name, &qlen);
		if (qlen != len || memcmp(qv, v, (size_t)len))
			fail_msg("%s: %s differs from QEMU's", path, name);
	}
}

/* Our top-level nodes appear in QEMU's tree in the same relative order. */
static void compare_node_order(const void *ours, const void *qemu)
{
	int sub, qsub, last = -1, i;

	fdt_for_each_subnode(sub, ours, 0) {
		const char *name = fdt_get_name(ours, sub, NULL);

		i = 0;
		fdt_for_each_subnode(qsub, qemu, 0) {
			if (!strcmp(fdt_get_name(qemu, qsub, NULL), name))
				break;
			i++;
		}
		if (qsub < 0)
			fail_msg("QEMU has no node %s", name);
		if (i < last)
			fail_msg("node %s out of QEMU's order", name);
		last = i;
	}
}

/*
 * QEMU's virt trees (4 cores, 1 GiB, built by `make unit`) against ours for
 * the same board. QEMU runs the guest at EL2 and with PSCI over SMC and
 * describes more (ITS/v2m, the GIC maintenance interrupt, a 3rd PSCI
 * compatible); everything else we write must match.
 */
static void test_like_qemu(void **state)
{
	static const char *const no_skip[] = { NULL };
	static const char *const phandle[] = { "phandle", NULL };
	static const char *const gic_skip[] = { "phandle", "reg", NULL };
	static const char *const clocks[] = { "clocks", NULL };
	static const char *const root_skip[] = {
		"interrupt-parent", "model", NULL,
	};
	uint8_t buf[BUF_SIZE];
	unsigned int gic;
	char path[32];

	(void)state;
	for (gic = 2; gic <= 3; gic++) {
		char name[32];
		void *qemu;
		struct vm_fdt_desc d = make_desc(gic, 4, true, false, 2);
		int len;
		const uint8_t *qreg;

		snprintf(name, sizeof(name), "qemu-virt-gicv%u.dtb", gic);
		qemu = load(name);
		d.nr_mem = 1;
		d.mem[0].size = 0x40000000;
		d.cmdline = NULL;
		assert_int_equal(vm_fdt_build(&d, buf, sizeof(buf), NULL), 0);

		compare_node_order(buf, qemu);
		compare_node(buf, qemu, "/", root_skip);
		compare_node(buf, qemu, "/memory@40000000", no_skip);
		compare_node(buf, qemu, "/virtio_mmio@a000000", no_skip);
		compare_node(buf, qemu, "/virtio_mmio@a000200", no_skip);
		compare_node(buf, qemu, "/pl011@9000000", clocks);
		compare_node(buf, qemu, "/intc@8000000", gic_skip);
		compare_node(buf, qemu, "/cpus", no_skip);
		for (unsigned int i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "/cpus/cpu@%u", i);
			compare_node(buf, qemu, path, no_skip);
		}
		compare_node(buf, qemu, "/timer", no_skip);
		compare_node(buf, qemu, "/apb-pclk", phandle);
		compare_node(buf, qemu, "/chosen", no_skip);

		/* The GIC's first regions are QEMU's: GICD, GICC or GICR. */
		qreg = fdt_getprop(qemu, node_at(qemu, "/intc@8000000"), "reg",
				   &len);
		assert_memory_equal(fdt_getprop(buf, node_at(buf,
				    "/intc@8000000"), "reg", &len), qreg,
				    gic == 2 ? 32 : 24);
		/* QEMU's PSCI compatibles start with ours. */
		qreg = fdt_getprop(qemu, node_at(qemu, "/psci"), "compatible",
				   &len);
		assert_memory_equal(qreg, "arm,psci-1.0\0arm,psci-0.2", 26);
		free(qemu);
	}
}

typedef void (*break_fn)(struct vm_fdt_desc *d);

static void no_vcpus(struct vm_fdt_desc *d) { d->nr_vcpus = 0; }
static void too_many_vcpus(struct vm_fdt_desc *d) { d->nr_vcpus = 9; }
static void no_mem(struct vm_fdt_desc *d) { d->nr_mem = 0; }
static void too_much_mem(struct vm_fdt_desc *d) { d->nr_mem = 9; }
static void empty_mem(struct vm_fdt_desc *d) { d->mem[1].size = 0; }
static void mem_overlap(struct vm_fdt_desc *d)
{
	d->mem[1].base = RAM_BASE + RAM_SIZE - 0x1000;
}
static void mem_wraps(struct vm_fdt_desc *d)
{
	d->mem[1].base = 0xfffffffffffff000ull;
	d->mem[1].size = 0x2000;
}
static void gic_v1(struct vm_fdt_desc *d) { d->gic.version = 1; }
static void gic_v4(struct vm_fdt_desc *d) { d->gic.version = 4; }
static void gicr_small(struct vm_fdt_desc *d)
{
	d->gic.gicr_size = GICR_PER_CPU;
}
static void gicd_in_ram(struct vm_fdt_desc *d)
{
	d->gic.gicd_base = RAM_BASE + 0x10000;
}
static void gicd_empty(struct vm_fdt_desc *d) { d->gic.gicd_size = 0; }
static void uart_empty(struct vm_fdt_desc *d) { d->uart.size = 0; }
static void uart_on_virtio(struct vm_fdt_desc *d)
{
	d->uart.base = VIRTIO_BASE + 0x100;
}
static void uart_on_gicr(struct vm_fdt_desc *d)
{
	d->uart.base = GICR_BASE + GICR_PER_CPU;
}
static void uart_spi_low(struct vm_fdt_desc *d) { d->uart.irq = 31; }
static void uart_spi_high(struct vm_fdt_desc *d) { d->uart.irq = 1020; }
static void uart_spi_shared(struct vm_fdt_desc *d)
{
	d->uart.irq = VIRTIO_IRQ + 1;
}
static void virtio_spi_low(struct vm_fdt_desc *d)
{
	static const struct vm_fdt_mmio_dev v = { VIRTIO_BASE, 0x200, 16 };

	d->nr_virtio = 1;
	d->virtio = &v;
}
static void virtio_spi_high(struct vm_fdt_desc *d)
{
	static const struct vm_fdt_mmio_dev v = { VIRTIO_BASE, 0x200, 1020 };

	d->nr_virtio = 1;
	d->virtio = &v;
}
static void virtio_spi_twice(struct vm_fdt_desc *d)
{
	static const struct vm_fdt_mmio_dev v[2] = {
		{ VIRTIO_BASE, 0x200, 40 }, { VIRTIO_BASE + 0x200, 0x200, 40 },
	};

	d->virtio = v;
}
static void virtio_empty(struct vm_fdt_desc *d)
{
	static const struct vm_fdt_mmio_dev v = { VIRTIO_BASE, 0, 40 };

	d->nr_virtio = 1;
	d->virtio = &v;
}
static void virtio_overlap(struct vm_fdt_desc *d)
{
	static const struct vm_fdt_mmio_dev v[2] = {
		{ VIRTIO_BASE, 0x200, 40 }, { VIRTIO_BASE + 0x1ff, 0x200, 41 },
	};

	d->virtio = v;
}
static void virtio_null(struct vm_fdt_desc *d) { d->virtio = NULL; }
static void initrd_reversed(struct vm_fdt_desc *d)
{
	d->initrd_end = d->initrd_start - 1;
}
static void initrd_outside(struct vm_fdt_desc *d)
{
	d->initrd_start = 0x30000000;
	d->initrd_end = 0x30001000;
}
static void initrd_across(struct vm_fdt_desc *d)
{
	d->initrd_end = RAM_BASE + RAM_SIZE + 1;
}

static void test_invalid(void **state)
{
	static const break_fn cases[] = {
		no_vcpus, too_many_vcpus, no_mem, too_much_mem, empty_mem,
		mem_overlap, mem_wraps, gic_v1, gic_v4, gicr_small, gicd_in_ram,
		gicd_empty, uart_empty, uart_on_virtio, uart_on_gicr,
		uart_spi_low, uart_spi_high, uart_spi_shared, virtio_spi_low,
		virtio_spi_high, virtio_spi_twice, virtio_empty,
		virtio_overlap, virtio_null, initrd_reversed, initrd_outside,
		initrd_across,
	};
	uint8_t buf[BUF_SIZE], untouched[BUF_SIZE];
	struct vm_fdt_desc d;
	size_t len;

	(void)state;
	memset(untouched, 0x5a, sizeof(untouched));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d = make_desc(3, 2, true, true, 2);
		assert_int_equal(vm_fdt_build(&d, buf, sizeof(buf), NULL), 0);
		cases[i](&d);
		memset(buf, 0x5a, sizeof(buf));
		len = 777;
		if (vm_fdt_build(&d, buf, sizeof(buf), &len) != -SHYPER_EINVAL)
			fail_msg("case %zu accepted", i);
		assert_int_equal(len, 777);
		assert_memory_equal(buf, untouched, sizeof(buf));
	}

	/* GICv2 checks its CPU interface region rather than GICR. */
	d = make_desc(2, 2, true, true, 2);
	d.gic.gicc_size = 0;
	assert_int_equal(vm_fdt_build(&d, buf, sizeof(buf), NULL),
			 -SHYPER_EINVAL);
	d = make_desc(2, 2, true, true, 2);
	d.gic.gicc_base = GICD_BASE + 0x8000;
	assert_int_equal(vm_fdt_build(&d, buf, sizeof(buf), NULL),
			 -SHYPER_EINVAL);

	d = make_desc(3, 2, true, true, 2);
	assert_int_equal(vm_fdt_build(NULL, buf, sizeof(buf), NULL),
			 -SHYPER_EINVAL);
	assert_int_equal(vm_fdt_build(&d, NULL, sizeof(buf), NULL),
			 -SHYPER_EINVAL);
}

/* A PCIe host bridge passed through: the node Linux's pci-host-generic
 * binds to, with the windows given, INTx through the usual swizzle, no
 * MSI parent (drivers fall back to INTx). */
static void test_pcie_bridge(void **state)
{
	uint8_t buf[BUF_SIZE];
	struct vm_fdt_desc d = make_desc(3, 1, true, true, 0);
	const uint8_t *p;
	int node, len;

	(void)state;
	d.has_pcie = true;
	d.pcie = (struct vm_fdt_pcie){
		.ecam_base = 0x4010000000ULL, .ecam_size = 0x10000000, .bus_first = 0,
		.bus_last = 255, .nr_ranges = 2, .intx_irq = 35,
		.ranges = { { 0x01000000, 0, 0x3eff0000, 0x10000 },
			    { 0x02000000, 0x10000000, 0x10000000, 0x2eff0000 } },
	};
	assert_int_equal(vm_fdt_build(&d, buf, sizeof(buf), NULL), 0);
	assert_int_equal(fdt_check_full(buf, sizeof(buf)), 0);
	node = fdt_path_offset(buf, "/pcie@4010000000");
	assert_true(node >= 0);
	assert_int_equal(fdt_node_check_compatible(buf, node, "pci-host-ecam-generic"), 0);
	assert_string_equal(fdt_getprop(buf, node, "device_type", NULL), "pci");
	p = fdt_getprop(buf, node, "reg", &len);
	assert_int_equal(len, 16);
	assert_int_equal(be64(p), 0x4010000000ULL);
	assert_int_equal(be64(p + 8), 0x10000000);
	p = fdt_getprop(buf, node, "#address-cells", NULL);
	assert_int_equal(be32(p), 3);
	p = fdt_getprop(buf, node, "bus-range", &len);
	assert_int_equal(len, 8);
	assert_int_equal(be32(p + 4), 255);
	/* ranges: <phys.hi pci.hi pci.lo cpu.hi cpu.lo size.hi size.lo> */
	p = fdt_getprop(buf, node, "ranges", &len);
	assert_int_equal(len, 2 * 7 * 4);
	assert_int_equal(be32(p + 28), 0x02000000);
	assert_int_equal(be64(p + 28 + 4), 0x10000000);
	assert_int_equal(be64(p + 28 + 12), 0x10000000);
	assert_int_equal(be64(p + 28 + 20), 0x2eff0000);
	/* 4 slots x 4 pins; slot 1 pin A is INTID 36 = SPI 4, level. */
	p = fdt_getprop(buf, node, "interrupt-map", &len);
	assert_int_equal(len, 16 * 10 * 4);
	p += (1 * 4 + 0) * 40;
	assert_int_equal(be32(p), 1 << 11);
	assert_int_equal(be32(p + 12), 1);
	assert_int_equal(be32(p + 32), 36 - 32);
	assert_int_equal(be32(p + 36), 4);
	assert_null(fdt_getprop(buf, node, "msi-parent", NULL));
	assert_null(fdt_getprop(buf, node, "msi-map", NULL));

	/* INTD past the last SPI, too many windows, no ECAM: refused. */
	d.pcie.intx_irq = 1018;
	assert_int_equal(vm_fdt_build(&d, buf, sizeof(buf), NULL), -SHYPER_EINVAL);
	d.pcie.intx_irq = 35;
	d.pcie.nr_ranges = VM_FDT_MAX_PCIE_RANGES + 1;
	assert_int_equal(vm_fdt_build(&d, buf, sizeof(buf), NULL), -SHYPER_EINVAL);
	d.pcie.nr_ranges = 2;
	d.pcie.ecam_size = 0;
	assert_int_equal(vm_fdt_build(&d, buf, sizeof(buf), NULL), -SHYPER_EINVAL);
}

/* Every buffer too small for the largest tree: ENOSPC, nothing past it. */
static void test_every_size(void **state)
{
	uint8_t ref[BUF_SIZE];
	struct vm_fdt_desc d = make_desc(2, 2, true, true, 2);
	size_t full, n, len, i;
	int ret;

	(void)state;
	assert_int_equal(vm_fdt_build(&d, ref, sizeof(ref), &full), 0);
	for (n = 0; n <= full; n++) {
		uint8_t *buf = malloc(n + CANARY_SIZE);

		memset(buf, CANARY, n + CANARY_SIZE);
		ret = vm_fdt_build(&d, buf, n, &len);
		assert_int_equal(ret, n < full ? -SHYPER_ENOSPC : 0);
		for (i = n; i < n + CANARY_SIZE; i++)
			if (buf[i] != CANARY)
				fail_msg("size %zu: byte %zu written", n, i);
		if (n == full)
			assert_memory_equal(buf, ref, full);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_combinations),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_like_qemu),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_pcie_bridge),
		cmocka_unit_test(test_every_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
