/*
 * DMA isolation through the board's SMMUv3. At boot the hypervisor takes
 * the SMMU and leaves every stream invalid: DMA from a device nobody was
 * given is refused and reported. A VM configured with stream ids
 * (SHYPER_CFG_ADD_PT_STREAM, the JSON's passthrough_device.streams_ids)
 * gets, when it is started, tables that map its RAM regions at its IPAs
 * (core/io_pt.h), and those streams translate through them: its devices
 * DMA to guest-physical addresses, as its drivers expect, and anything
 * outside its RAM faults with a report naming the VM, the stream and the
 * address. The streams are invalid again before the VM's memory is freed.
 *
 * The MVM is not given streams: its devices on the reference board are
 * virtio-mmio ones, which the SMMU does not front.
 *
 * State: struct iommu_state, in layout 4 of the state root (hv.v4); an
 * image of an older layout has no SMMU support, and one updated from it
 * does not take the SMMU either (it learns of it at a cold boot).
 */
#ifndef CORE_IOMMU_H
#define CORE_IOMMU_H

#include <arch/spinlock.h>
#include <core/board_pcie.h>
#include <core/io_pt.h>
#include <core/vm.h>
#include <drivers/smmuv3.h>
#include <lib/dt.h>
#include <stdbool.h>
#include <stdint.h>

#define IOMMU_MAX_STREAMS 8 /* per VM */



struct iommu_vm {
	uint32_t nr_streams;
	uint32_t streams[IOMMU_MAX_STREAMS];
	struct io_pt pt;  /* its DMA view, built when it is first started */
	uint64_t cd_pa;	  /* its context descriptor's frame; 0: not attached */
	uint32_t faults;  /* DMA of its streams refused */
};

struct iommu_state {
	spinlock_t lock;
	struct smmu smmu;
	struct board_pcie pcie;
	struct iommu_vm vm[HV_MAX_VMS];
	uint32_t stray_events; /* of streams no VM has */
};

/* Boot: the board's PCIe host bridge and SMMU from @dt; takes the SMMU. */
void iommu_init(const struct dt *dt);
/* Live update: this image's event interrupt handlers. */
void iommu_rebind(void);

/* Gives @sid to @vm (before it is started): -SHYPER_ENODEV without an SMMU,
 * -SHYPER_EINVAL beyond its stream table, -SHYPER_EBUSY if another VM has
 * it, -SHYPER_ENOSPC past IOMMU_MAX_STREAMS. Giving it twice is a no-op. */
int iommu_add_stream(struct vm *vm, uint64_t sid);
/* Start of the VM: its streams translate through its RAM (idempotent). */
int iommu_vm_attach(struct vm *vm);
/* The VM goes: its streams invalid, its tables freed, its streams free. */
void iommu_vm_detach(struct vm *vm);
/* Streams a VM has, for `vm info` and the update checks. */
unsigned iommu_vm_streams(const struct vm *vm);
uint32_t iommu_vm_faults(const struct vm *vm);
/* The board's host bridge (present false without one, or in an older layout). */
const struct board_pcie *iommu_board_pcie(void);
/* Whether the hypervisor has an SMMU, and whether [pa, pa + size) hits its
 * registers (no VM may map them). */
bool iommu_present(void);
bool iommu_hits_smmu(uint64_t pa, uint64_t size);

#endif
