/*
 * Board discovery from the device tree handed over at boot. Every piece is
 * parsed by its own function; each one either fills its part of
 * struct board_info or fails with a message naming what is wrong, because
 * that message is all the user sees when the hypervisor cannot boot.
 */
#include <core/board.h>
#include <lib/dt_irq.h>
#include <lib/string.h>
#include <shyper/errno.h>

/*
 * GIC device tree binding (Linux, interrupt-controller/arm,gic.yaml and
 * arm,gic-v3.yaml): interrupts are <type number flags>, and a GICv3 may add
 * a fourth cell (the PPI partition: RK3588 has one on every specifier).
 */
#define GIC_IRQ_CELLS		3
#define GIC_IRQ_TYPE_SPI	0
#define GIC_IRQ_TYPE_PPI	1
/* GIC architecture specification (IHI 0069H) 2.2: INTID ranges. */
#define GIC_PPI_BASE		16
#define GIC_NR_PPIS		16
#define GIC_SPI_BASE		32
#define GIC_SPI_LAST		1019
/* arm,gic-v3.yaml: default number of redistributor regions. */
#define GICV3_DEFAULT_RD_REGIONS	1

/* GICv2 reg entries (arm,gic.yaml). */
enum { GICV2_REG_GICD, GICV2_REG_GICC, GICV2_REG_GICH, GICV2_REG_GICV };
/* GICv3 reg entries: distributor, then the redistributor regions. */
enum { GICV3_REG_GICD, GICV3_REG_GICR };

/* arm,arch_timer.yaml: secure, non-secure, virtual, hypervisor timers. */
#define TIMER_NR_IRQS		4

static int fail(struct board_info *out, int err, const char *msg)
{
	out->error = msg;
	return err;
}

/* Is property @name exactly the one string @str? */
static bool prop_is_string(const struct dt *dt, int node, const char *name,
			   const char *str)
{
	int len;
	const char *val = dt_getprop(dt, node, name, &len);

	return val && (size_t)len == strlen(str) + 1 &&
	       !memcmp(val, str, (size_t)len);
}

/* Does the node name equal @base, with or without a unit address? */
static bool name_is(const char *name, const char *base)
{
	size_t n = strlen(base);

	return name && !strncmp(name, base, n) &&
	       (name[n] == '\0' || name[n] == '@');
}

/* Convert one <type number flags> specifier into a GIC INTID. */
static int gic_spec_to_intid(const uint8_t *spec, uint32_t *intid)
{
	uint32_t type = dt_be32(spec);
	uint32_t num = dt_be32(spec + sizeof(uint32_t));

	if (type == GIC_IRQ_TYPE_SPI && num <= GIC_SPI_LAST - GIC_SPI_BASE) {
		*intid = num + GIC_SPI_BASE;
		return 0;
	}
	if (type == GIC_IRQ_TYPE_PPI && num < GIC_NR_PPIS) {
		*intid = num + GIC_PPI_BASE;
		return 0;
	}
	return -SHYPER_EBADMSG;
}

static const struct {
	const char *compat;
	unsigned int version;
} gic_compats[] = {
	{ "arm,gic-v3", 3 },
	{ "arm,cortex-a15-gic", 2 },
	{ "arm,gic-400", 2 },
};

static bool is_gic(const struct dt *dt, int node)
{
	for (size_t i = 0; i < sizeof(gic_compats) / sizeof(gic_compats[0]); i++)
		if (dt_node_is_compatible(dt, node, gic_compats[i].compat))
			return true;
	return false;
}

/*
 * Cells per interrupt specifier of @node: its interrupt parent must be the
 * GIC. -SHYPER_ENOTSUP if it is another controller (a cascaded one, whose
 * lines the hypervisor does not route), -SHYPER_EBADMSG if there is none.
 */
static int gic_spec_cells(const struct dt *dt, int node)
{
	int parent = dt_interrupt_parent(dt, node), cells;

	if (parent < 0)
		return -SHYPER_EBADMSG;
	if (!is_gic(dt, parent))
		return -SHYPER_ENOTSUP;
	cells = dt_interrupt_cells(dt, parent);
	return cells < GIC_IRQ_CELLS ? -SHYPER_EBADMSG : cells;
}

/* INTID of interrupt @index of @node; -SHYPER_ENOENT if it has none. */
int board_read_intid(const struct dt *dt, int node, int index,
		      uint32_t *intid)
{
	size_t spec_size;
	int len, cells;
	const uint8_t *irqs = dt_getprop(dt, node, "interrupts", &len);

	if (!irqs)
		return len;
	cells = gic_spec_cells(dt, node);
	if (cells < 0)
		return cells;
	spec_size = (size_t)cells * sizeof(uint32_t);
	if ((size_t)len % spec_size)
		return -SHYPER_EBADMSG;
	if (index < 0 || (size_t)index >= (size_t)len / spec_size)
		return -SHYPER_ENOENT;
	return gic_spec_to_intid(irqs + (size_t)index * spec_size, intid);
}

static int add_ram(struct board_info *out, uint64_t base, uint64_t size)
{
	size_t i;

	if (size == 0)
		return 0;
	if (base + (size - 1) < base)
		return fail(out, -SHYPER_EBADMSG,
			    "memory: a reg region wraps around the address space");
	if (out->nr_ram == BOARD_MAX_RAM)
		return fail(out, -SHYPER_E2BIG,
			    "memory: more than BOARD_MAX_RAM regions");
	/* Insertion sort: there are at most BOARD_MAX_RAM entries. */
	for (i = out->nr_ram; i > 0 && out->ram[i - 1].base > base; i--)
		out->ram[i] = out->ram[i - 1];
	out->ram[i].base = base;
	out->ram[i].size = size;
	out->nr_ram++;
	return 0;
}

static int parse_memory(const struct dt *dt, struct board_info *out)
{
	uint64_t base, size;
	int node, i, ret;
	bool found = false;
	size_t r;

	for (node = dt_first_subnode(dt, dt->root); node >= 0;
	     node = dt_next_subnode(dt, node)) {
		const char *name = dt_node_name(dt, node);

		if (!name || strncmp(name, "memory", sizeof("memory") - 1) ||
		    !prop_is_string(dt, node, "device_type", "memory"))
			continue;
		found = true;
		for (i = 0; (ret = dt_read_reg(dt, node, i, &base, &size)) == 0;
		     i++) {
			ret = add_ram(out, base, size);
			if (ret)
				return ret;
		}
		/* -SHYPER_ENOENT after at least one entry: the normal end. */
		if (ret == -SHYPER_ENOENT && i > 0)
			continue;
		if (ret == -SHYPER_ENOTSUP)
			return fail(out, ret,
				    "memory: root #address-cells/#size-cells must be 1 or 2");
		return fail(out, -SHYPER_EBADMSG,
			    "memory: node without a valid reg");
	}
	/* Several boards' own trees leave RAM to the boot loader (an empty
	 * reg on the RPi4, no node at all on the RK3588). */
	if (out->nr_ram == 0)
		return fail(out, -SHYPER_ENODEV, found ?
			    "memory: every /memory reg region is empty: the boot loader did not fill in RAM" :
			    "no /memory node with device_type \"memory\": the boot loader did not add RAM");

	for (r = 0; r < out->nr_ram; r++) {
		if (r > 0 && out->ram[r - 1].base + (out->ram[r - 1].size - 1) >=
			     out->ram[r].base)
			return fail(out, -SHYPER_EINVAL,
				    "memory: overlapping RAM regions");
		out->total_ram += out->ram[r].size;
	}
	return 0;
}

static enum board_cpu_enable cpu_enable_method(const struct dt *dt, int node)
{
	int len;
	const char *m = dt_stringlist_get(dt, node, "enable-method", 0, &len);

	if (!m)
		return len == -SHYPER_ENOENT ? BOARD_CPU_ENABLE_NONE :
					       BOARD_CPU_ENABLE_OTHER;
	if (!strcmp(m, "psci"))
		return BOARD_CPU_ENABLE_PSCI;
	if (!strcmp(m, "spin-table"))
		return BOARD_CPU_ENABLE_SPIN_TABLE;
	return BOARD_CPU_ENABLE_OTHER;
}

static int parse_cpus(const struct dt *dt, struct board_info *out)
{
	uint64_t mpidr;
	int cpus, node, ret;
	size_t i;

	cpus = dt_path_offset(dt, "/cpus");
	if (cpus < 0)
		return fail(out, -SHYPER_ENODEV, "no /cpus node");

	for (node = dt_first_subnode(dt, cpus); node >= 0;
	     node = dt_next_subnode(dt, node)) {
		if (!name_is(dt_node_name(dt, node), "cpu") ||
		    !prop_is_string(dt, node, "device_type", "cpu"))
			continue;
		ret = dt_read_reg(dt, node, 0, &mpidr, NULL);
		if (ret == -SHYPER_ENOTSUP)
			return fail(out, ret,
				    "cpus: /cpus #address-cells must be 1 or 2");
		if (ret < 0)
			return fail(out, -SHYPER_EBADMSG,
				    "cpus: cpu node without a valid reg");
		for (i = 0; i < out->nr_cpus; i++) {
			if (out->cpus[i].mpidr == mpidr)
				return fail(out, -SHYPER_EINVAL,
					    "cpus: two cpu nodes with the same reg");
		}
		out->nr_cpus_found++;
		if (out->nr_cpus < BOARD_MAX_CPUS) {
			out->cpus[out->nr_cpus].mpidr = mpidr;
			out->cpus[out->nr_cpus].enable_method =
				cpu_enable_method(dt, node);
			out->nr_cpus++;
		}
	}
	if (out->nr_cpus_found == 0)
		return fail(out, -SHYPER_ENODEV,
			    "no /cpus/cpu node with device_type \"cpu\"");
	return 0;
}

static const struct {
	const char *compat;
	enum board_psci_version version;
} psci_compats[] = {
	{ "arm,psci-1.0", BOARD_PSCI_1_0 },
	{ "arm,psci-0.2", BOARD_PSCI_0_2 },
	{ "arm,psci", BOARD_PSCI_0_1 },
};

/* First enabled node compatible with @compat, or a negative value. */
static int find_enabled(const struct dt *dt, const char *compat)
{
	int node;

	for (node = dt_find_compatible(dt, -1, compat); node >= 0;
	     node = dt_find_compatible(dt, node, compat)) {
		if (dt_node_is_enabled(dt, node))
			return node;
	}
	return node;
}

/* Every cpu is started through a spin table (the RPi4's own tree). */
static bool spin_table_only(const struct board_info *out)
{
	for (size_t i = 0; i < out->nr_cpus; i++)
		if (out->cpus[i].enable_method != BOARD_CPU_ENABLE_SPIN_TABLE)
			return false;
	return out->nr_cpus > 0;
}

static int parse_psci(const struct dt *dt, struct board_info *out)
{
	size_t i;
	int node = -SHYPER_ENOENT;

	for (i = 0; i < sizeof(psci_compats) / sizeof(psci_compats[0]); i++) {
		node = find_enabled(dt, psci_compats[i].compat);
		if (node >= 0)
			break;
	}
	if (node < 0)
		return fail(out, -SHYPER_ENODEV, spin_table_only(out) ?
			    "no psci node, and the cpus use spin-table: boot through firmware that provides PSCI (TF-A's BL31)" :
			    "no psci node compatible \"arm,psci-1.0\", \"arm,psci-0.2\" or \"arm,psci\"");
	out->psci.version = psci_compats[i].version;

	if (prop_is_string(dt, node, "method", "smc"))
		out->psci.method = BOARD_PSCI_SMC;
	else if (prop_is_string(dt, node, "method", "hvc"))
		out->psci.method = BOARD_PSCI_HVC;
	else
		return fail(out, -SHYPER_EBADMSG,
			    "psci: method must be \"smc\" or \"hvc\"");
	return 0;
}

/*
 * reg entry @index of a device as a CPU physical address (devices may sit
 * behind buses with ranges); an absent optional entry reads as 0, 0.
 */
int board_read_dev_reg(const struct dt *dt, int node, int index,
			bool optional, uint64_t *base, uint64_t *size)
{
	int ret = dt_read_reg(dt, node, index, base, size);

	if (ret == -SHYPER_ENOENT && optional) {
		*base = 0;
		*size = 0;
		return 0;
	}
	if (ret)
		return ret;
	return dt_translate_address(dt, node, base);
}

static int parse_gicv2(const struct dt *dt, int node, struct board_gic *gic)
{
	int ret;

	ret = board_read_dev_reg(dt, node, GICV2_REG_GICD, false, &gic->gicd_base,
			   &gic->gicd_size);
	if (!ret)
		ret = board_read_dev_reg(dt, node, GICV2_REG_GICC, false,
				   &gic->gicc_base, &gic->gicc_size);
	if (!ret)
		ret = board_read_dev_reg(dt, node, GICV2_REG_GICH, true,
				   &gic->gich_base, &gic->gich_size);
	if (!ret)
		ret = board_read_dev_reg(dt, node, GICV2_REG_GICV, true,
				   &gic->gicv_base, &gic->gicv_size);
	return ret;
}

static int parse_gicv3(const struct dt *dt, int node, struct board_gic *gic)
{
	uint32_t nr_rd = GICV3_DEFAULT_RD_REGIONS;
	int ret;

	ret = dt_prop_u32(dt, node, "#redistributor-regions", &nr_rd);
	if (ret && ret != -SHYPER_ENOENT)
		return ret;
	/* Every redistributor region must have its reg entry. */
	if (nr_rd < 1 || nr_rd > INT32_MAX - GICV3_REG_GICR)
		return -SHYPER_EBADMSG;
	gic->nr_redist_regions = nr_rd;
	ret = board_read_dev_reg(dt, node, GICV3_REG_GICD, false, &gic->gicd_base,
			   &gic->gicd_size);
	if (!ret)
		ret = board_read_dev_reg(dt, node, GICV3_REG_GICR, false,
				   &gic->gicr_base, &gic->gicr_size);
	if (!ret)
		ret = dt_read_reg(dt, node, GICV3_REG_GICR + (int)nr_rd - 1,
				  NULL, NULL);
	return ret;
}

static int parse_gic(const struct dt *dt, struct board_info *out)
{
	struct board_gic *gic = &out->gic;
	int node = -SHYPER_ENOENT, ret;
	size_t i;

	for (i = 0; i < sizeof(gic_compats) / sizeof(gic_compats[0]); i++) {
		node = find_enabled(dt, gic_compats[i].compat);
		if (node >= 0)
			break;
	}
	if (node < 0)
		return fail(out, -SHYPER_ENODEV,
			    "no GIC node compatible \"arm,gic-v3\", \"arm,cortex-a15-gic\" or \"arm,gic-400\"");
	gic->version = gic_compats[i].version;

	ret = gic->version == 3 ? parse_gicv3(dt, node, gic) :
				  parse_gicv2(dt, node, gic);
	if (ret == -SHYPER_ENOTSUP)
		return fail(out, ret,
			    "gic: bus #address-cells/#size-cells must be 1 or 2");
	if (ret)
		return fail(out, -SHYPER_EBADMSG,
			    gic->version == 3 ?
			    "gic: reg must map the distributor and every redistributor region" :
			    "gic: reg must map the distributor and CPU interface");

	ret = board_read_intid(dt, node, 0, &gic->maint_intid);
	if (ret == -SHYPER_ENOENT)
		gic->maint_intid = 0;
	else if (ret)
		return fail(out, -SHYPER_EBADMSG,
			    "gic: malformed maintenance interrupt");
	return 0;
}

/*
 * Console UARTs by compatible. The 16550 family's register stride comes
 * from "reg-shift" and its access width from "reg-io-width" (Linux,
 * serial/8250.yaml), except that the BCM2835 mini UART's binding implies
 * both (32-bit registers, 4 bytes apart).
 */
static const struct uart_compat {
	const char *compat;
	enum board_uart_type type;
	uint32_t implied_shift;		/* 0: from reg-shift */
} uart_compats[] = {
	{ "arm,pl011", BOARD_UART_PL011, 0 },			/* QEMU virt, RPi4 UART0 */
	{ "brcm,bcm2835-aux-uart", BOARD_UART_NS16550, 2 },	/* RPi4 mini UART */
	{ "nvidia,tegra20-uart", BOARD_UART_NS16550, 0 },	/* TX2 */
	{ "snps,dw-apb-uart", BOARD_UART_NS16550, 0 },		/* RK3588 */
	{ "ns16550a", BOARD_UART_NS16550, 0 },
	{ "ns16550", BOARD_UART_NS16550, 0 },
};
#define PL011_COMPAT_INDEX	0

static const struct uart_compat *uart_kind(const struct dt *dt, int node)
{
	for (size_t i = 0; i < sizeof(uart_compats) / sizeof(uart_compats[0]); i++)
		if (dt_node_is_compatible(dt, node, uart_compats[i].compat))
			return &uart_compats[i];
	return NULL;
}

static int uart_ns16550_layout(const struct dt *dt, int node,
			       const struct uart_compat *kind,
			       struct board_uart *uart)
{
	uint32_t shift = kind->implied_shift, width = kind->implied_shift ? 4 : 1;
	int ret;

	if (!kind->implied_shift) {
		ret = dt_prop_u32(dt, node, "reg-shift", &shift);
		if (ret && ret != -SHYPER_ENOENT)
			return ret;
		ret = dt_prop_u32(dt, node, "reg-io-width", &width);
		if (ret && ret != -SHYPER_ENOENT)
			return ret;
	}
	if (shift > 2 || (width != 1 && width != 2 && width != 4))
		return -SHYPER_EBADMSG;
	uart->reg_shift = shift;
	uart->reg_io_width = width;
	return 0;
}

static int parse_uart(const struct dt *dt, struct board_info *out)
{
	struct board_uart *uart = &out->uart;
	const struct uart_compat *kind;
	int node, ret;

	/* The console firmware chose, if we can drive it; else a PL011. */
	node = dt_chosen_stdout(dt);
	kind = node >= 0 && dt_node_is_enabled(dt, node) ? uart_kind(dt, node) : NULL;
	if (!kind) {
		kind = &uart_compats[PL011_COMPAT_INDEX];
		node = find_enabled(dt, kind->compat);
		if (node < 0)
			return 0;
	}
	uart->type = kind->type;
	if (kind->type == BOARD_UART_PL011) {
		uart->reg_shift = 0;
		uart->reg_io_width = 4;
	} else if (uart_ns16550_layout(dt, node, kind, uart)) {
		return fail(out, -SHYPER_EBADMSG,
			    "uart: reg-shift must be 0 to 2 and reg-io-width 1, 2 or 4");
	}

	ret = board_read_dev_reg(dt, node, 0, false, &uart->base, &uart->size);
	if (ret)
		return fail(out, ret == -SHYPER_ENOTSUP ? ret : -SHYPER_EBADMSG,
			    "uart: node without a valid, translatable reg");
	ret = board_read_intid(dt, node, 0, &uart->intid);
	if (ret == -SHYPER_ENOENT)
		uart->intid = 0;
	else if (ret == -SHYPER_ENOTSUP)
		return fail(out, ret, "uart: its interrupt goes to a controller other than the GIC");
	else if (ret)
		return fail(out, -SHYPER_EBADMSG, "uart: malformed interrupts");
	uart->present = true;
	return 0;
}

static int parse_timer(const struct dt *dt, struct board_info *out)
{
	struct board_timer *t = &out->timer;
	uint32_t *intids[TIMER_NR_IRQS] = {
		&t->sec_phys_intid, &t->phys_intid,
		&t->virt_intid, &t->hyp_phys_intid,
	};
	int node, i;

	node = find_enabled(dt, "arm,armv8-timer");
	if (node < 0)
		return 0;
	for (i = 0; i < TIMER_NR_IRQS; i++) {
		if (board_read_intid(dt, node, i, intids[i]))
			return fail(out, -SHYPER_EBADMSG,
				    "timer: interrupts needs 4 GIC <type num flags> entries");
	}
	t->present = true;
	return 0;
}

int board_parse(const struct dt *dt, struct board_info *out)
{
	int ret;

	if (!out)
		return -SHYPER_EINVAL;
	memset(out, 0, sizeof(*out));
	if (!dt)
		return fail(out, -SHYPER_EINVAL, "no device tree");

	ret = parse_memory(dt, out);
	if (!ret)
		ret = parse_cpus(dt, out);
	if (!ret)
		ret = parse_psci(dt, out);
	if (!ret)
		ret = parse_gic(dt, out);
	if (!ret)
		ret = parse_uart(dt, out);
	if (!ret)
		ret = parse_timer(dt, out);
	return ret;
}
