/*
 * The PCIe host bridge from the board's tree (see core/board_pcie.h),
 * following the PCI bus binding: three-cell child addresses (phys.hi with
 * the space code, then 64 bits of bus address), "ranges" to the parent's
 * address space, "bus-range".
 */
#include <core/board.h>
#include <core/board_pcie.h>
#include <shyper/errno.h>

#define PCI_ADDR_CELLS 3

static uint64_t cells_value(const uint8_t *p, int cells)
{
	uint64_t v = 0;

	for (int i = 0; i < cells; i++)
		v = v << 32 | dt_be32(p + 4 * i);
	return v;
}

static int parse_ranges(const struct dt *dt, int node, struct board_pcie *out)
{
	int parent = dt_parent_offset(dt, node), len;
	int pac = parent >= 0 ? dt_address_cells(dt, parent) : 2;
	int sc = dt_size_cells(dt, node);
	const uint8_t *p = dt_getprop(dt, node, "ranges", &len);
	size_t entry;

	if (!p)
		return 0; /* no windows: configuration space only */
	if (pac < 1 || pac > 2 || sc < 1 || sc > 2)
		return -SHYPER_EBADMSG;
	entry = (size_t)(PCI_ADDR_CELLS + pac + sc) * 4;
	if (len < 0 || (size_t)len % entry)
		return -SHYPER_EBADMSG;
	for (size_t off = 0; off < (size_t)len; off += entry) {
		struct board_pcie_range *r;

		if (out->nr_ranges == BOARD_PCIE_MAX_RANGES)
			return -SHYPER_E2BIG;
		r = &out->ranges[out->nr_ranges++];
		r->space = dt_be32(p + off);
		r->pci_addr = cells_value(p + off + 4, 2);
		r->cpu_addr = cells_value(p + off + 4 * PCI_ADDR_CELLS, pac);
		r->size = cells_value(p + off + 4 * (PCI_ADDR_CELLS + pac), sc);
		if (!r->size || r->cpu_addr + r->size < r->cpu_addr)
			return -SHYPER_EBADMSG;
	}
	return 0;
}

int board_parse_pcie(const struct dt *dt, struct board_pcie *out)
{
	int node = -1, len, ret;
	const uint8_t *bus;

	*out = (struct board_pcie){ 0 };
	do {
		node = dt_find_compatible(dt, node, "pci-host-ecam-generic");
	} while (node >= 0 && !dt_node_is_enabled(dt, node));
	if (node < 0)
		return 0;
	if (dt_address_cells(dt, node) != PCI_ADDR_CELLS)
		return -SHYPER_EBADMSG;
	ret = board_read_dev_reg(dt, node, 0, false, &out->ecam_base, &out->ecam_size);
	if (ret)
		return ret;
	out->bus_first = 0;
	out->bus_last = 255;
	bus = dt_getprop(dt, node, "bus-range", &len);
	if (bus) {
		if (len != 8)
			return -SHYPER_EBADMSG;
		out->bus_first = dt_be32(bus);
		out->bus_last = dt_be32(bus + 4);
		if (out->bus_first > out->bus_last || out->bus_last > 255)
			return -SHYPER_EBADMSG;
	}
	/* One MiB of configuration space per bus. */
	if (out->ecam_size < ((uint64_t)(out->bus_last - out->bus_first + 1) << 20))
		return -SHYPER_EBADMSG;
	ret = parse_ranges(dt, node, out);
	if (ret)
		return ret;
	out->present = true;
	return 0;
}
