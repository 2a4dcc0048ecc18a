/*
 * A VM's configuration as plain data, in the terms of Rust-Shyper's JSON
 * template: the built-in management VM (hv/config/<board>.c) and, later,
 * guests configured from the MVM are described the same way.
 */
#ifndef CORE_VM_CONFIG_H
#define CORE_VM_CONFIG_H

#include <dev/vdev.h>
#include <stdbool.h>
#include <stdint.h>

#define VM_MAX_MEM_REGIONS 4
#define VM_MAX_PASSTHROUGH 8
#define VM_MAX_PASSTHROUGH_IRQS 64
#define VM_MAX_VCPUS 8
#define VM_NAME_MAX 32

enum vm_type {
	VM_T_LINUX,
	VM_T_BARE_METAL,
};

struct vm_mem_cfg {
	uint64_t ipa;
	uint64_t size;
	bool identity; /* IPA == PA: the MVM, so passthrough DMA needs no SMMU */
};

struct vm_passthrough_cfg {
	uint64_t pa;
	uint64_t ipa;
	uint64_t size;
};

/* A device of the board the VM's device tree should describe. */
enum vm_dtb_dev_type {
	DTB_DEV_PL011,
	DTB_DEV_VIRTIO_MMIO,
	DTB_DEV_PCIE,	/* ipa/size: its ECAM; intid: INTA, count 4 */
};

struct vm_dtb_dev_cfg {
	enum vm_dtb_dev_type type;
	uint64_t ipa;
	uint64_t size;
	uint32_t count;	 /* consecutive instances, each `size` apart */
	uint32_t intid;	 /* of the first instance; the next ones follow */
};

struct vm_config {
	const char *name;
	enum vm_type type;
	const char *cmdline;
	uint64_t cpu_bitmap; /* physical cores the vCPUs run on */
	unsigned nr_vcpus;
	unsigned master;     /* the core of vCPU 0 */
	uint32_t slice_us;   /* a turn when its core is shared; 0: the default */
	struct vm_mem_cfg mem[VM_MAX_MEM_REGIONS];
	unsigned nr_mem;
	uint64_t kernel_ipa;  /* where the kernel image is */
	uint64_t kernel_entry;
	uint64_t dtb_ipa;     /* where the generated device tree goes */
	uint64_t initrd_ipa;  /* where the initramfs goes, 0 for none */
	uint64_t gicd_ipa;    /* emulated distributor */
	uint64_t gicc_ipa;    /* GICv2: the virtual CPU interface appears here */
	uint64_t gicr_ipa;    /* GICv3: emulated redistributors */
	struct vm_passthrough_cfg pt[VM_MAX_PASSTHROUGH];
	unsigned nr_pt;
	uint32_t pt_irqs[VM_MAX_PASSTHROUGH_IRQS];
	unsigned nr_pt_irqs;
	struct vm_dtb_dev_cfg dtb_devs[VM_MAX_PASSTHROUGH];
	unsigned nr_dtb_devs;
	struct vm_vdev_cfg vdevs[VM_MAX_VDEVS]; /* emulated virtio devices */
	unsigned nr_vdevs;
	bool trap_wfi; /* false: WFI runs natively (exclusive cores) */
	bool notify;   /* give it the /hypervisor node and event interrupt */
	/* The PMU untrapped on its own cores (SHYPER_VM_F_PMU). In what was
	 * padding: the state root's layout is unchanged. */
	bool pmu;
	/* The device tree at dtb_ipa was made with the image and loaded by the
	 * boot script (core/mvm_dtb.h): a board's MVM. Also in the padding. */
	bool dtb_given;
};

_Static_assert(sizeof(struct vm_config) ==
		       ((__builtin_offsetof(struct vm_config, notify) + 8) & ~7UL),
	       "pmu and dtb_given sit in vm_config's tail padding");

/* The board's built-in management VM configuration (hv/config/<board>.c). */
extern const struct vm_config mvm_config;

#endif
