/*
 * A PCIe host bridge passed through to a VM: the JSON's dtb_device of type
 * DTB_DEVICE_T_PCIE. The VM is given the bridge's configuration space
 * (ECAM), its windows and its INTx interrupts as passthrough regions and
 * interrupts; this adds the bridge node to its device tree, with the
 * windows the VM was given, at the IPAs it was given them. The devices
 * behind the bridge reach memory through the SMMU (core/iommu.h).
 */
#ifndef CORE_VM_PCIE_H
#define CORE_VM_PCIE_H

#include <core/vm.h>
#include <core/vm_fdt.h>
#include <shyper/hypercall.h>

/* -SHYPER_ENODEV if the board has no host bridge, -SHYPER_EINVAL (with a
 * console line) if the VM was not given its ECAM at dev->addr_ipa or if
 * dev's interrupts are not four consecutive passthrough SPIs of the VM
 * (INTA..INTD), -SHYPER_EEXIST for a second bridge. */
int vm_pcie_add(struct vm *vm, const struct shyper_dtb_dev *dev);
/* The bridge node of vm's tree, if it has one. */
void vm_pcie_describe(const struct vm *vm, struct vm_fdt_desc *d);

#endif
