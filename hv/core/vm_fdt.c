/*
 * A VM's device tree from its descriptor. The descriptor is checked in
 * full first, so a rejected one leaves the buffer untouched; then the
 * nodes are written in the order QEMU's virt machine shows them (QEMU
 * builds its tree by inserting, so its dump lists nodes and properties
 * newest first; mirroring the dump makes `dtc -O dts` output comparable).
 */
#include <core/vm_fdt.h>
#include <lib/fdt_write.h>
#include <lib/fmt.h>
#include <lib/string.h>
#include <shyper/errno.h>

/* Phandles, numbered from 0x8000 like QEMU's. */
#define PHANDLE_CLK		0x8000u
#define PHANDLE_GIC		0x8001u

/* The root bus and the GIC node use 64-bit addresses and sizes. */
#define ADDR_CELLS		2u
#define SIZE_CELLS		2u

/*
 * Interrupt specifiers of the GIC bindings (Linux, devicetree bindings
 * interrupt-controller/arm,gic.yaml and arm,gic-v3.yaml): <type number
 * flags>; numbers count from the first SPI (INTID 32) or PPI (INTID 16);
 * flags bits 3:0 are the trigger, bits 15:8 a GICv2 PPI's CPU mask.
 */
#define GIC_INTERRUPT_CELLS	3u
#define GIC_SPI			0u
#define GIC_PPI			1u
#define GIC_PPI_INTID_BASE	16u
#define IRQ_TYPE_EDGE_RISING	1u
#define IRQ_TYPE_LEVEL_HIGH	4u
#define GIC_PPI_CPU_MASK_SHIFT	8u

/*
 * Architected timer PPIs (Arm Base System Architecture 1.0, PPI
 * assignments), in the order of the arm,armv8-timer binding.
 */
#define INTID_SEC_PHYS_TIMER	29u
#define INTID_NS_PHYS_TIMER	30u
#define INTID_VIRT_TIMER	27u
#define INTID_HYP_TIMER		26u
#define NR_TIMER_PPIS		4u

/* GICv3 spec 12.10: each redistributor is two 64 KiB frames (RD, SGI). */
#define GICR_SIZE_PER_CPU	0x20000u

/* QEMU's fixed APB clock, which Linux's AMBA bus needs as "apb_pclk". */
#define APB_CLOCK_HZ		24000000u

/* "virtio_mmio@" and 16 hex digits, or "/pl011@" and 16. */
#define NODE_NAME_SIZE		40

static bool region_ok(uint64_t base, uint64_t size)
{
	return size != 0 && base <= UINT64_MAX - (size - 1);
}

static bool overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
	return a <= b + (b_size - 1) && b <= a + (a_size - 1);
}

static unsigned int nr_regions(const struct vm_fdt_desc *d)
{
	return d->nr_mem + 2 + (d->has_uart ? 1 : 0) + d->nr_virtio;
}

/* The @i-th address range @d claims: memory, GICD, GICC/GICR, UART, virtio. */
static void region_at(const struct vm_fdt_desc *d, unsigned int i,
		      uint64_t *base, uint64_t *size)
{
	const struct vm_fdt_gic *g = &d->gic;

	if (i < d->nr_mem) {
		*base = d->mem[i].base;
		*size = d->mem[i].size;
		return;
	}
	i -= d->nr_mem;
	if (i == 0) {
		*base = g->gicd_base;
		*size = g->gicd_size;
	} else if (i == 1) {
		*base = g->version == 3 ? g->gicr_base : g->gicc_base;
		*size = g->version == 3 ? g->gicr_size : g->gicc_size;
	} else if (i == 2 && d->has_uart) {
		*base = d->uart.base;
		*size = d->uart.size;
	} else {
		i -= d->has_uart ? 3 : 2;
		*base = d->virtio[i].base;
		*size = d->virtio[i].size;
	}
}

static bool regions_ok(const struct vm_fdt_desc *d)
{
	unsigned int n = nr_regions(d), i, j;
	uint64_t a, a_size, b, b_size;

	for (i = 0; i < n; i++) {
		region_at(d, i, &a, &a_size);
		if (!region_ok(a, a_size))
			return false;
		for (j = 0; j < i; j++) {
			region_at(d, j, &b, &b_size);
			if (overlap(a, a_size, b, b_size))
				return false;
		}
	}
	return true;
}

static bool spi_ok(uint32_t irq)
{
	return irq >= VM_FDT_SPI_FIRST && irq <= VM_FDT_SPI_LAST;
}

/* Every device SPI in range and used once. */
static bool spis_ok(const struct vm_fdt_desc *d)
{
	unsigned int i, j;

	if (d->has_uart && !spi_ok(d->uart.irq))
		return false;
	if (d->has_hypervisor && (!spi_ok(d->hypervisor_irq) ||
				  (d->has_uart && d->hypervisor_irq == d->uart.irq)))
		return false;
	for (i = 0; i < d->nr_virtio; i++) {
		if (!spi_ok(d->virtio[i].irq))
			return false;
		if (d->has_uart && d->virtio[i].irq == d->uart.irq)
			return false;
		if (d->has_hypervisor && d->virtio[i].irq == d->hypervisor_irq)
			return false;
		for (j = 0; j < i; j++)
			if (d->virtio[i].irq == d->virtio[j].irq)
				return false;
	}
	return true;
}

/* IVC regions are outside memory and devices; doorbells are SPIs no
 * device uses (the /hypervisor node may share one). */
static bool ivc_ok(const struct vm_fdt_desc *d)
{
	unsigned int n = nr_regions(d);
	uint64_t b, b_size;

	if (d->nr_ivc > VM_FDT_MAX_IVC)
		return false;
	for (unsigned int i = 0; i < d->nr_ivc; i++) {
		const struct vm_fdt_ivc *c = &d->ivc[i];

		if (!region_ok(c->base, c->size) || !spi_ok(c->irq) ||
		    (d->has_uart && c->irq == d->uart.irq) ||
		    memchr(c->name, 0, sizeof(c->name)) == NULL)
			return false;
		for (unsigned int j = 0; j < n; j++) {
			region_at(d, j, &b, &b_size);
			if (overlap(c->base, c->size, b, b_size))
				return false;
		}
		for (unsigned int j = 0; j < d->nr_virtio; j++)
			if (d->virtio[j].irq == c->irq)
				return false;
	}
	return true;
}

static bool initrd_ok(const struct vm_fdt_desc *d)
{
	const struct vm_fdt_region *m;
	unsigned int i;

	if (!d->has_initrd)
		return true;
	if (d->initrd_end < d->initrd_start)
		return false;
	for (i = 0; i < d->nr_mem; i++) {
		m = &d->mem[i];
		if (d->initrd_start >= m->base &&
		    d->initrd_end - m->base <= m->size)
			return true;
	}
	return false;
}

static bool pcie_ok(const struct vm_fdt_desc *d)
{
	const struct vm_fdt_pcie *p = &d->pcie;

	if (!d->has_pcie)
		return true;
	return p->ecam_size && p->nr_ranges <= VM_FDT_MAX_PCIE_RANGES &&
	       p->bus_first <= p->bus_last && p->bus_last <= 255 && spi_ok(p->intx_irq) &&
	       spi_ok(p->intx_irq + 3);
}

static int validate(const struct vm_fdt_desc *d)
{
	const struct vm_fdt_gic *g = &d->gic;

	if (d->nr_vcpus == 0 || d->nr_vcpus > VM_FDT_MAX_VCPUS)
		return -SHYPER_EINVAL;
	if (d->nr_mem == 0 || d->nr_mem > VM_FDT_MAX_MEM)
		return -SHYPER_EINVAL;
	if (g->version != 2 && g->version != 3)
		return -SHYPER_EINVAL;
	if (g->version == 3 &&
	    g->gicr_size / GICR_SIZE_PER_CPU < d->nr_vcpus)
		return -SHYPER_EINVAL;
	/* Each transport needs an SPI of its own. */
	if (d->nr_virtio > VM_FDT_SPI_LAST - VM_FDT_SPI_FIRST + 1 ||
	    (d->nr_virtio && !d->virtio))
		return -SHYPER_EINVAL;
	if (!regions_ok(d) || !spis_ok(d) || !initrd_ok(d) || !ivc_ok(d) || !pcie_ok(d))
		return -SHYPER_EINVAL;
	return 0;
}

static const char *node_name(char *buf, const char *prefix, uint64_t addr)
{
	fmt_snprintf(buf, NODE_NAME_SIZE, "%s@%llx", prefix,
		     (unsigned long long)addr);
	return buf;
}

static void prop_spi(struct fdt_writer *w, uint32_t irq, uint32_t flags)
{
	uint32_t cells[GIC_INTERRUPT_CELLS] = {
		GIC_SPI, irq - VM_FDT_SPI_FIRST, flags
	};

	fdtw_prop_cells(w, "interrupts", cells, GIC_INTERRUPT_CELLS);
}

static void prop_region(struct fdt_writer *w, uint64_t base, uint64_t size)
{
	uint64_t pair[2] = { base, size };

	fdtw_prop_reg(w, "reg", ADDR_CELLS, SIZE_CELLS, pair, 1);
}

static void emit_root_props(struct fdt_writer *w)
{
	fdtw_prop_u32(w, "interrupt-parent", PHANDLE_GIC);
	fdtw_prop_string(w, "model", "cshyper VM");
	fdtw_prop_u32(w, "#size-cells", SIZE_CELLS);
	fdtw_prop_u32(w, "#address-cells", ADDR_CELLS);
	fdtw_prop_string(w, "compatible", "linux,dummy-virt");
}

/* PSCI 1.0 calls are answered by the hypervisor, reached with HVC. */
static void emit_psci(struct fdt_writer *w)
{
	fdtw_begin_node(w, "psci");
	fdtw_prop_string(w, "method", "hvc");
	fdtw_prop_strings(w, "compatible", 2, "arm,psci-1.0", "arm,psci-0.2");
	fdtw_end_node(w);
}

static void emit_memory(struct fdt_writer *w, const struct vm_fdt_desc *d)
{
	char name[NODE_NAME_SIZE];
	unsigned int i;

	for (i = 0; i < d->nr_mem; i++) {
		fdtw_begin_node(w, node_name(name, "memory", d->mem[i].base));
		prop_region(w, d->mem[i].base, d->mem[i].size);
		fdtw_prop_string(w, "device_type", "memory");
		fdtw_end_node(w);
	}
}

static void emit_virtio(struct fdt_writer *w, const struct vm_fdt_desc *d)
{
	const struct vm_fdt_mmio_dev *v;
	char name[NODE_NAME_SIZE];
	unsigned int i;

	for (i = 0; i < d->nr_virtio; i++) {
		v = &d->virtio[i];
		fdtw_begin_node(w, node_name(name, "virtio_mmio", v->base));
		fdtw_prop_empty(w, "dma-coherent");
		prop_spi(w, v->irq, IRQ_TYPE_EDGE_RISING);
		prop_region(w, v->base, v->size);
		fdtw_prop_string(w, "compatible", "virtio,mmio");
		fdtw_end_node(w);
	}
}

static void emit_uart(struct fdt_writer *w, const struct vm_fdt_desc *d)
{
	const uint32_t clocks[2] = { PHANDLE_CLK, PHANDLE_CLK };
	char name[NODE_NAME_SIZE];

	fdtw_begin_node(w, node_name(name, "pl011", d->uart.base));
	fdtw_prop_strings(w, "clock-names", 2, "uartclk", "apb_pclk");
	fdtw_prop_cells(w, "clocks", clocks, 2);
	prop_spi(w, d->uart.irq, IRQ_TYPE_LEVEL_HIGH);
	prop_region(w, d->uart.base, d->uart.size);
	fdtw_prop_strings(w, "compatible", 2, "arm,pl011", "arm,primecell");
	fdtw_end_node(w);
}

#define PCI_ADDR_CELLS	3u
#define PCI_SLOTS	4u	/* interrupt-map-mask: device bits[12:11] */
#define PCI_PINS	4u

static void emit_pcie(struct fdt_writer *w, const struct vm_fdt_desc *d)
{
	const struct vm_fdt_pcie *p = &d->pcie;
	/* child unit address (3), pin, parent phandle, parent unit address
	 * (2, the GIC's #address-cells), parent specifier (3). */
	enum { MAP_CELLS = PCI_ADDR_CELLS + 1 + 1 + ADDR_CELLS + GIC_INTERRUPT_CELLS };
	uint32_t map[PCI_SLOTS * PCI_PINS * MAP_CELLS], *m = map;
	uint32_t ranges[VM_FDT_MAX_PCIE_RANGES * 7], *r = ranges;
	const uint32_t mask[4] = { 0x1800, 0, 0, 7 };
	const uint32_t bus[2] = { p->bus_first, p->bus_last };
	char name[NODE_NAME_SIZE];

	for (uint32_t slot = 0; slot < PCI_SLOTS; slot++)
		for (uint32_t pin = 1; pin <= PCI_PINS; pin++) {
			const uint32_t e[MAP_CELLS] = {
				slot << 11, 0, 0, pin, PHANDLE_GIC, 0, 0, GIC_SPI,
				p->intx_irq + (slot + pin - 1) % PCI_PINS - VM_FDT_SPI_FIRST,
				IRQ_TYPE_LEVEL_HIGH,
			};

			for (unsigned i = 0; i < MAP_CELLS; i++)
				*m++ = e[i];
		}
	for (unsigned i = 0; i < p->nr_ranges; i++) {
		const struct vm_fdt_pcie_range *x = &p->ranges[i];

		*r++ = x->space;
		*r++ = (uint32_t)(x->pci_addr >> 32);
		*r++ = (uint32_t)x->pci_addr;
		*r++ = (uint32_t)(x->cpu_addr >> 32);
		*r++ = (uint32_t)x->cpu_addr;
		*r++ = (uint32_t)(x->size >> 32);
		*r++ = (uint32_t)x->size;
	}
	fdtw_begin_node(w, node_name(name, "pcie", p->ecam_base));
	fdtw_prop_cells(w, "interrupt-map-mask", mask, 4);
	fdtw_prop_cells(w, "interrupt-map", map, (size_t)(m - map));
	fdtw_prop_u32(w, "#interrupt-cells", 1);
	fdtw_prop_cells(w, "ranges", ranges, (size_t)(r - ranges));
	prop_region(w, p->ecam_base, p->ecam_size);
	fdtw_prop_empty(w, "dma-coherent");
	fdtw_prop_cells(w, "bus-range", bus, 2);
	fdtw_prop_u32(w, "#size-cells", SIZE_CELLS);
	fdtw_prop_u32(w, "#address-cells", PCI_ADDR_CELLS);
	fdtw_prop_string(w, "device_type", "pci");
	fdtw_prop_string(w, "compatible", "pci-host-ecam-generic");
	fdtw_end_node(w);
}

static void emit_gic(struct fdt_writer *w, const struct vm_fdt_desc *d)
{
	const struct vm_fdt_gic *g = &d->gic;
	bool v3 = g->version == 3;
	const uint64_t reg[4] = {
		g->gicd_base, g->gicd_size,
		v3 ? g->gicr_base : g->gicc_base,
		v3 ? g->gicr_size : g->gicc_size,
	};
	char name[NODE_NAME_SIZE];

	fdtw_begin_node(w, node_name(name, "intc", g->gicd_base));
	fdtw_prop_u32(w, "phandle", PHANDLE_GIC);
	fdtw_prop_reg(w, "reg", ADDR_CELLS, SIZE_CELLS, reg, 2);
	if (v3) {
		fdtw_prop_u32(w, "#redistributor-regions", 1);
		fdtw_prop_string(w, "compatible", "arm,gic-v3");
	} else {
		fdtw_prop_string(w, "compatible", "arm,cortex-a15-gic");
	}
	fdtw_prop_empty(w, "ranges");
	fdtw_prop_u32(w, "#size-cells", SIZE_CELLS);
	fdtw_prop_u32(w, "#address-cells", ADDR_CELLS);
	fdtw_prop_empty(w, "interrupt-controller");
	fdtw_prop_u32(w, "#interrupt-cells", GIC_INTERRUPT_CELLS);
	fdtw_end_node(w);
}

/* vCPU n has MPIDR affinity 0.0.0.n, which is its reg with one cell. */
static void emit_cpus(struct fdt_writer *w, const struct vm_fdt_desc *d)
{
	char name[NODE_NAME_SIZE];
	unsigned int i;

	fdtw_begin_node(w, "cpus");
	fdtw_prop_u32(w, "#size-cells", 0);
	fdtw_prop_u32(w, "#address-cells", 1);
	for (i = 0; i < d->nr_vcpus; i++) {
		fdtw_begin_node(w, node_name(name, "cpu", i));
		fdtw_prop_u32(w, "reg", i);
		fdtw_prop_string(w, "enable-method", "psci");
		fdtw_prop_string(w, "compatible", "arm,cortex-a72");
		fdtw_prop_string(w, "device_type", "cpu");
		fdtw_end_node(w);
	}
	fdtw_end_node(w);
}

/*
 * Level-triggered like QEMU's; on GICv2 a PPI also names the CPUs it is
 * wired to, which QEMU sets to all of them.
 */
static void emit_timer(struct fdt_writer *w, const struct vm_fdt_desc *d)
{
	const uint32_t intids[NR_TIMER_PPIS] = {
		INTID_SEC_PHYS_TIMER, INTID_NS_PHYS_TIMER,
		INTID_VIRT_TIMER, INTID_HYP_TIMER,
	};
	uint32_t cells[NR_TIMER_PPIS * GIC_INTERRUPT_CELLS];
	uint32_t flags = IRQ_TYPE_LEVEL_HIGH;
	unsigned int i;

	if (d->gic.version == 2)
		flags |= ((1u << d->nr_vcpus) - 1) << GIC_PPI_CPU_MASK_SHIFT;
	for (i = 0; i < NR_TIMER_PPIS; i++) {
		cells[3 * i] = GIC_PPI;
		cells[3 * i + 1] = intids[i] - GIC_PPI_INTID_BASE;
		cells[3 * i + 2] = flags;
	}
	fdtw_begin_node(w, "timer");
	fdtw_prop_cells(w, "interrupts", cells,
			NR_TIMER_PPIS * GIC_INTERRUPT_CELLS);
	fdtw_prop_empty(w, "always-on");
	fdtw_prop_strings(w, "compatible", 2, "arm,armv8-timer",
			  "arm,armv7-timer");
	fdtw_end_node(w);
}

static void emit_clock(struct fdt_writer *w)
{
	fdtw_begin_node(w, "apb-pclk");
	fdtw_prop_u32(w, "phandle", PHANDLE_CLK);
	fdtw_prop_string(w, "clock-output-names", "clk24mhz");
	fdtw_prop_u32(w, "clock-frequency", APB_CLOCK_HZ);
	fdtw_prop_u32(w, "#clock-cells", 0);
	fdtw_prop_string(w, "compatible", "fixed-clock");
	fdtw_end_node(w);
}

static void emit_chosen(struct fdt_writer *w, const struct vm_fdt_desc *d)
{
	char path[NODE_NAME_SIZE];

	fdtw_begin_node(w, "chosen");
	if (d->has_initrd) {
		fdtw_prop_u64(w, "linux,initrd-end", d->initrd_end);
		fdtw_prop_u64(w, "linux,initrd-start", d->initrd_start);
	}
	if (d->cmdline)
		fdtw_prop_string(w, "bootargs", d->cmdline);
	if (d->has_uart)
		fdtw_prop_string(w, "stdout-path",
				 node_name(path, "/pl011", d->uart.base));
	if (d->rng_seed_len)
		fdtw_prop(w, "rng-seed", d->rng_seed, d->rng_seed_len);
	fdtw_end_node(w);
}

static void emit_hypervisor(struct fdt_writer *w, const struct vm_fdt_desc *d)
{
	fdtw_begin_node(w, "hypervisor");
	fdtw_prop_string(w, "compatible", "cshyper,hypervisor");
	prop_spi(w, d->hypervisor_irq, IRQ_TYPE_EDGE_RISING);
	fdtw_end_node(w);
}

static void emit_ivc(struct fdt_writer *w, const struct vm_fdt_desc *d)
{
	char name[NODE_NAME_SIZE];

	for (unsigned int i = 0; i < d->nr_ivc; i++) {
		const struct vm_fdt_ivc *c = &d->ivc[i];

		fdtw_begin_node(w, node_name(name, "ivc", c->base));
		fdtw_prop_string(w, "compatible", "cshyper,ivc-channel");
		prop_region(w, c->base, c->size);
		prop_spi(w, c->irq, IRQ_TYPE_EDGE_RISING);
		fdtw_prop_string(w, "label", c->name);
		fdtw_prop_u32(w, "cshyper,peer", c->peer);
		fdtw_prop_u32(w, "cshyper,channel-id", c->id);
		fdtw_end_node(w);
	}
}

int vm_fdt_build(const struct vm_fdt_desc *d, void *buf, size_t size,
		 size_t *len)
{
	struct fdt_writer w;
	int ret;

	if (!d || !buf)
		return -SHYPER_EINVAL;
	ret = validate(d);
	if (ret)
		return ret;

	fdtw_init(&w, buf, size);
	fdtw_begin_node(&w, "");
	emit_root_props(&w);
	emit_psci(&w);
	emit_memory(&w, d);
	emit_virtio(&w, d);
	if (d->has_pcie)
		emit_pcie(&w, d);
	if (d->has_uart)
		emit_uart(&w, d);
	emit_gic(&w, d);
	emit_cpus(&w, d);
	emit_timer(&w, d);
	if (d->has_uart)
		emit_clock(&w);
	if (d->has_hypervisor)
		emit_hypervisor(&w, d);
	emit_ivc(&w, d);
	emit_chosen(&w, d);
	fdtw_end_node(&w);
	return fdtw_finish(&w, len);
}
