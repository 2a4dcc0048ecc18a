/*
 * The device tree a VM boots with, generated from its configuration: what
 * an unmodified Linux (6.1, arm64) needs to come up under the hypervisor
 * with a console and virtio-mmio devices. Node names, property order and
 * phandle style follow QEMU's `virt` machine so the two trees diff well.
 *
 *   /                 linux,dummy-virt, #address-cells = #size-cells = 2,
 *                     interrupt-parent = the GIC
 *   /psci             arm,psci-1.0 + arm,psci-0.2 over HVC
 *   /memory@<base>    one node per region
 *   /virtio_mmio@<b>  virtio,mmio, edge-triggered SPI, dma-coherent
 *   /pl011@<base>     arm,pl011 + arm,primecell, clocked by /apb-pclk
 *   /intc@<gicd>      arm,gic-v3 (GICD, one GICR region) or
 *                     arm,cortex-a15-gic (GICD, GICC); no maintenance IRQ
 *   /cpus/cpu@<n>     arm,cortex-a72, PSCI, reg = n (MPIDR 0.0.0.n)
 *   /timer            arm,armv8-timer, the four architected PPIs
 *   /apb-pclk         24 MHz fixed clock (only with a UART)
 *   /chosen           bootargs, stdout-path, linux,initrd-start/-end
 *   /ivc@<base>       cshyper,ivc-channel: reg, interrupts, label, peer, id
 */
#ifndef CORE_VM_FDT_H
#define CORE_VM_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_FDT_MAX_MEM		8
#define VM_FDT_MAX_VCPUS	8
#define VM_FDT_MAX_IVC		8

/* GIC interrupt ids a device's SPI may use (GICv3 spec 2.2: SPIs 32-1019). */
#define VM_FDT_SPI_FIRST	32u
#define VM_FDT_SPI_LAST		1019u

struct vm_fdt_region {
	uint64_t base;
	uint64_t size;
};

/* A memory-mapped device with one SPI. */
struct vm_fdt_mmio_dev {
	uint64_t base;
	uint64_t size;
	uint32_t irq;		/* GIC INTID of its SPI, 32..1019 */
};

/* An IVC shared-memory channel: /ivc@<base>, compatible "cshyper,ivc-channel". */
struct vm_fdt_ivc {
	uint64_t base;
	uint64_t size;
	uint32_t irq;		/* its doorbell SPI */
	uint32_t id;		/* the hypervisor's channel id */
	uint32_t peer;		/* VM id of the other end */
	char name[32];
};

struct vm_fdt_gic {
	unsigned int version;	/* 2 or 3 */
	uint64_t gicd_base, gicd_size;
	uint64_t gicc_base, gicc_size;	/* GICv2 CPU interface */
	uint64_t gicr_base, gicr_size;	/* GICv3 redistributors, 128 KiB each */
};

#define VM_FDT_MAX_PCIE_RANGES	4

struct vm_fdt_pcie_range {
	uint32_t space;		/* phys.hi: space code and flags */
	uint64_t pci_addr;
	uint64_t cpu_addr;	/* guest physical */
	uint64_t size;
};

/* A PCIe host bridge passed through: ECAM, windows, INTx. */
struct vm_fdt_pcie {
	uint64_t ecam_base, ecam_size;	/* guest physical */
	uint32_t bus_first, bus_last;
	unsigned int nr_ranges;
	struct vm_fdt_pcie_range ranges[VM_FDT_MAX_PCIE_RANGES];
	/* INTA..INTD of slot 0: intx_irq .. intx_irq + 3 (level SPIs); slot s
	 * pin p gets intx_irq + (s + p) % 4, the usual swizzle. */
	uint32_t intx_irq;
};

struct vm_fdt_desc {
	const char *cmdline;		/* NULL: no bootargs */
	unsigned int nr_vcpus;		/* 1..VM_FDT_MAX_VCPUS */
	unsigned int nr_mem;		/* 1..VM_FDT_MAX_MEM */
	struct vm_fdt_region mem[VM_FDT_MAX_MEM];
	struct vm_fdt_gic gic;
	/* The management VM's /hypervisor node: shyper.ko binds to it and takes
	 * the hypervisor's notification interrupt (edge-triggered SPI). */
	bool has_hypervisor;
	uint32_t hypervisor_irq;
	/* /chosen/rng-seed: Linux seeds its random pool from it at boot. */
	const uint8_t *rng_seed;
	size_t rng_seed_len;
	bool has_uart;
	struct vm_fdt_mmio_dev uart;	/* PL011 */
	unsigned int nr_virtio;
	const struct vm_fdt_mmio_dev *virtio;	/* virtio-mmio transports */
	/* IVC channels; their doorbell SPIs may repeat hypervisor_irq. */
	unsigned int nr_ivc;
	struct vm_fdt_ivc ivc[VM_FDT_MAX_IVC];
	bool has_pcie;
	struct vm_fdt_pcie pcie;
	bool has_initrd;
	uint64_t initrd_start;		/* guest physical, inside one region */
	uint64_t initrd_end;		/* exclusive */
};

/*
 * Check @d, then write its tree into @buf (@size bytes); on success the
 * tree's size is stored in *@len (may be NULL).
 * -SHYPER_EINVAL: NULL @d or @buf, or a descriptor that cannot describe a
 * bootable VM: no or too many vCPUs or memory regions, an empty, wrapping
 * or overlapping memory or device region, a GIC version other than 2 or 3,
 * a GICv3 redistributor region too small for the vCPUs, an SPI outside
 * 32..1019 or used twice, an initrd that ends before it starts or lies
 * outside memory. Nothing is written then.
 * -SHYPER_ENOSPC: @size is too small.
 */
int vm_fdt_build(const struct vm_fdt_desc *d, void *buf, size_t size,
		 size_t *len);

#endif
