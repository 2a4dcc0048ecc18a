/*
 * PCIe host bridge passthrough (see core/vm_pcie.h).
 */
#include <core/iommu.h>
#include <core/log.h>
#include <core/vm_pcie.h>
#include <shyper/errno.h>

#define PCIE_INTX 4

/* Where the VM sees [pa, pa + size), if it was given all of it in one
 * passthrough region. */
static bool ipa_of(const struct vm_config *cfg, uint64_t pa, uint64_t size, uint64_t *ipa)
{
	for (unsigned i = 0; i < cfg->nr_pt; i++) {
		const struct vm_passthrough_cfg *p = &cfg->pt[i];

		if (pa >= p->pa && pa - p->pa <= p->size && size <= p->size - (pa - p->pa)) {
			*ipa = p->ipa + (pa - p->pa);
			return true;
		}
	}
	return false;
}

static bool has_pt_irq(const struct vm_config *cfg, uint32_t intid)
{
	for (unsigned i = 0; i < cfg->nr_pt_irqs; i++)
		if (cfg->pt_irqs[i] == intid)
			return true;
	return false;
}

int vm_pcie_add(struct vm *vm, const struct shyper_dtb_dev *dev)
{
	const struct board_pcie *b = iommu_board_pcie();
	struct vm_config *cfg = &vm->config;
	uint64_t ecam_ipa;

	if (!b->present) {
		log_warn("vm%u config: the board has no PCIe host bridge", vm->id);
		return -SHYPER_ENODEV;
	}
	for (unsigned i = 0; i < cfg->nr_dtb_devs; i++)
		if (cfg->dtb_devs[i].type == DTB_DEV_PCIE)
			return -SHYPER_EEXIST;
	if (cfg->nr_dtb_devs == VM_MAX_PASSTHROUGH)
		return -SHYPER_ENOSPC;
	if (!ipa_of(cfg, b->ecam_base, b->ecam_size, &ecam_ipa) || ecam_ipa != dev->addr_ipa || dev->length != b->ecam_size) {
		log_warn("vm%u config: PCIe host bridge: pass its configuration space "
			 "0x%lx+0x%lx through first, at addr_region_ipa, with that length",
			 vm->id, b->ecam_base, b->ecam_size);
		return -SHYPER_EINVAL;
	}
	if (dev->irq_num != PCIE_INTX) {
		log_warn("vm%u config: PCIe host bridge: irq_list must be its INTA..INTD",
			 vm->id);
		return -SHYPER_EINVAL;
	}
	for (unsigned i = 0; i < PCIE_INTX; i++)
		if (dev->irqs[i] != dev->irqs[0] + i || !has_pt_irq(cfg, dev->irqs[i])) {
			log_warn("vm%u config: PCIe host bridge: INTx %u must be four "
				 "consecutive interrupts passed through to the VM", vm->id,
				 dev->irqs[i]);
			return -SHYPER_EINVAL;
		}
	cfg->dtb_devs[cfg->nr_dtb_devs++] = (struct vm_dtb_dev_cfg){
		.type = DTB_DEV_PCIE, .ipa = ecam_ipa, .size = b->ecam_size,
		.count = PCIE_INTX, .intid = dev->irqs[0],
	};
	return 0;
}

void vm_pcie_describe(const struct vm *vm, struct vm_fdt_desc *d)
{
	const struct board_pcie *b = iommu_board_pcie();
	const struct vm_config *cfg = vm->cfg;

	for (unsigned i = 0; i < cfg->nr_dtb_devs; i++) {
		const struct vm_dtb_dev_cfg *dev = &cfg->dtb_devs[i];
		struct vm_fdt_pcie *p = &d->pcie;

		if (dev->type != DTB_DEV_PCIE || !b->present)
			continue;
		*p = (struct vm_fdt_pcie){
			.ecam_base = dev->ipa, .ecam_size = dev->size,
			.bus_first = b->bus_first, .bus_last = b->bus_last,
			.intx_irq = dev->intid,
		};
		/* The windows the VM was given, where it was given them. */
		for (unsigned r = 0; r < b->nr_ranges && r < VM_FDT_MAX_PCIE_RANGES; r++) {
			const struct board_pcie_range *w = &b->ranges[r];
			uint64_t ipa;

			if (ipa_of(cfg, w->cpu_addr, w->size, &ipa))
				p->ranges[p->nr_ranges++] = (struct vm_fdt_pcie_range){
					w->space, w->pci_addr, ipa, w->size
				};
		}
		d->has_pcie = true;
	}
}
