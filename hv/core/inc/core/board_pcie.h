/*
 * The board's PCIe host bridge (a "pci-host-ecam-generic" node): where its
 * configuration space is and which CPU windows reach its buses. A VM given
 * the bridge's regions gets a bridge node built from this (core/vm_fdt.c).
 */
#ifndef CORE_BOARD_PCIE_H
#define CORE_BOARD_PCIE_H

#include <lib/dt.h>
#include <stdbool.h>
#include <stdint.h>

#define BOARD_PCIE_MAX_RANGES 4

struct board_pcie_range {
	uint32_t space;	   /* phys.hi of the child address: space code and flags */
	uint64_t pci_addr; /* bus address */
	uint64_t cpu_addr; /* CPU physical address */
	uint64_t size;
};

struct board_pcie {
	bool present;
	uint64_t ecam_base, ecam_size;
	uint32_t bus_first, bus_last;
	uint32_t nr_ranges;
	struct board_pcie_range ranges[BOARD_PCIE_MAX_RANGES];
};

/* The first enabled ECAM host bridge of @dt into @out (present false if
 * none). -SHYPER_EBADMSG if its node is malformed, -SHYPER_E2BIG if it has
 * more than BOARD_PCIE_MAX_RANGES windows. */
int board_parse_pcie(const struct dt *dt, struct board_pcie *out);

#endif
