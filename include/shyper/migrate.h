/*
 * The VM migration / snapshot stream (docs/MIGRATION.md, "Stream format"):
 * one header, then sections, each a section header and a payload, the last
 * one END. Shared by the hypervisor (which validates every stream it
 * imports), shyper.ko and the CLI.
 *
 * All fields are little-endian and every struct below is laid out with
 * explicit padding, so its in-memory image is its wire image. Readers copy
 * structs out of the stream with memcpy: nothing in a stream is aligned.
 * Every count is carried in the payload that it describes; the format itself
 * has no limit on vCPUs, queues, interrupts or memory runs.
 */
#ifndef SHYPER_MIGRATE_H
#define SHYPER_MIGRATE_H

#include <shyper/types.h>
#include <shyper/hypercall.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the migration stream structs are its wire image only on little-endian"
#endif

#define SHYPER_MIG_MAGIC "SHYM"
#define SHYPER_MIG_MAGIC_LEN 4
/* Bumped on any change a version-1 reader would misread. */
#define SHYPER_MIG_FORMAT_VERSION 1

enum shyper_mig_arch {
	SHYPER_MIG_ARCH_AARCH64 = 1,
};

/* The GIC architecture versions a stream may come from. */
#define SHYPER_MIG_GIC_V2 2
#define SHYPER_MIG_GIC_V3 3

/* Header flags; a reader rejects bits it does not know. */
/* Written front to back without seeking back: nr_sections and total_length
 * are 0 in the header and only END carries them. */
#define SHYPER_MIG_F_STREAMED (1u << 0)
/* Taken while the VM ran (pre-copy): MEM sections may send a page again;
 * the later copy wins. */
#define SHYPER_MIG_F_LIVE (1u << 1)
#define SHYPER_MIG_F_KNOWN (SHYPER_MIG_F_STREAMED | SHYPER_MIG_F_LIVE)

#define SHYPER_MIG_BOARD_MAX 32

struct shyper_mig_header {
	char magic[SHYPER_MIG_MAGIC_LEN]; /* SHYPER_MIG_MAGIC, no NUL */
	uint16_t version;		  /* SHYPER_MIG_FORMAT_VERSION */
	uint16_t header_size;		  /* sizeof(struct shyper_mig_header) */
	uint32_t arch;			  /* enum shyper_mig_arch */
	uint32_t gic_version;		  /* SHYPER_MIG_GIC_V2 or _V3 */
	uint32_t flags;			  /* SHYPER_MIG_F_* */
	uint32_t nr_sections;		  /* END included; 0 if STREAMED */
	uint64_t total_length;		  /* header included; 0 if STREAMED */
	char board[SHYPER_MIG_BOARD_MAX]; /* NUL-terminated, NUL-padded */
	uint32_t reserved;		  /* 0 */
	uint32_t crc;			  /* CRC-32 of every byte before it */
};
_Static_assert(sizeof(struct shyper_mig_header) == 72, "header layout");

enum shyper_mig_section_type {
	SHYPER_MIG_SEC_VM_CONFIG = 1,	    /* exactly one, first */
	SHYPER_MIG_SEC_MEM = 2,		    /* guest pages; repeatable */
	SHYPER_MIG_SEC_VCPU = 3,	    /* one per vCPU (instance) */
	SHYPER_MIG_SEC_VGIC_DIST = 4,	    /* at most one */
	SHYPER_MIG_SEC_VGIC_CPU = 5,	    /* one per vCPU (instance) */
	SHYPER_MIG_SEC_VDEV = 6,	    /* one per virtio device (instance) */
	SHYPER_MIG_SEC_CONSOLE_HISTORY = 7, /* console output; repeatable */
	SHYPER_MIG_SEC_DISK_BLOCKS = 8,	    /* mediated disk copy; repeatable */
	SHYPER_MIG_SEC_END = 9,		    /* exactly one, last */
	SHYPER_MIG_SEC_IMAGE = 10,	    /* a boot image's bytes; repeatable */
	SHYPER_MIG_SEC_VCPU_PTIMER = 11,    /* per vCPU whose EL1 physical timer is set (instance) */
	SHYPER_MIG_SEC_NR
};

/* The payload layout of each section type; bumped on any change to it. */
#define SHYPER_MIG_VM_CONFIG_VERSION 1
#define SHYPER_MIG_MEM_VERSION 1
#define SHYPER_MIG_VCPU_VERSION 1
#define SHYPER_MIG_VGIC_DIST_VERSION 1
#define SHYPER_MIG_VGIC_CPU_VERSION 1
#define SHYPER_MIG_VDEV_VERSION 1
#define SHYPER_MIG_CONSOLE_HISTORY_VERSION 1
#define SHYPER_MIG_DISK_BLOCKS_VERSION 1
#define SHYPER_MIG_END_VERSION 1
#define SHYPER_MIG_IMAGE_VERSION 1
#define SHYPER_MIG_VCPU_PTIMER_VERSION 1

struct shyper_mig_section {
	uint16_t type;	   /* enum shyper_mig_section_type */
	uint16_t version;  /* SHYPER_MIG_<type>_VERSION */
	uint32_t instance; /* vCPU, device or disk number; 0 otherwise */
	uint64_t length;   /* payload bytes, this header excluded */
	uint32_t reserved; /* 0 */
	uint32_t crc;	   /* CRC-32 of the fields above, then the payload */
};
_Static_assert(sizeof(struct shyper_mig_section) == 24, "section header layout");

/*
 * VM_CONFIG: this struct, then nr_mem_regions shyper_mig_mem_region,
 * nr_emu_devs shyper_emu_dev, nr_pt_regions shyper_mig_pt_region,
 * nr_dtb_devs shyper_dtb_dev, nr_pt_irqs uint32_t, in that order.
 */
struct shyper_mig_vm_config {
	struct shyper_vm_desc desc;
	struct shyper_image_desc image;
	uint64_t cpu_bitmap; /* the source's cores; the destination may differ */
	uint32_t nr_vcpus;
	uint32_t slice_us;
	uint32_t nr_mem_regions;
	uint32_t nr_emu_devs;
	uint32_t nr_pt_regions;
	uint32_t nr_dtb_devs;
	uint32_t nr_pt_irqs;
	uint32_t reserved; /* 0 */
};
_Static_assert(sizeof(struct shyper_vm_desc) == 552, "embedded ABI struct");
_Static_assert(sizeof(struct shyper_image_desc) == 56, "embedded ABI struct");
_Static_assert(sizeof(struct shyper_emu_dev) == 192, "embedded ABI struct");
_Static_assert(sizeof(struct shyper_dtb_dev) == 120, "embedded ABI struct");
_Static_assert(sizeof(struct shyper_mig_vm_config) == 648, "VM_CONFIG layout");

struct shyper_mig_mem_region {
	uint64_t ipa;
	uint64_t length;
};
_Static_assert(sizeof(struct shyper_mig_mem_region) == 16, "layout");

struct shyper_mig_pt_region {
	uint64_t pa;
	uint64_t ipa;
	uint64_t length;
};
_Static_assert(sizeof(struct shyper_mig_pt_region) == 24, "layout");

/* MEM: this struct, then nr_pages pages of guest memory from ipa up
 * (SHYPER_MIG_PAGE_SIZE, shyper/hypercall.h: the page the dirty log tracks). */
struct shyper_mig_mem {
	uint64_t ipa; /* page aligned */
	uint64_t nr_pages; /* at least 1 */
};
_Static_assert(sizeof(struct shyper_mig_mem) == 16, "MEM layout");

/* VCPU: this struct alone. Registers keep their architectural width. */
#define SHYPER_MIG_NR_GPRS 31	/* x0..x30 */
#define SHYPER_MIG_NR_VREGS 32	/* q0..q31 */

enum shyper_mig_psci_state {
	SHYPER_MIG_PSCI_OFF = 0,
	SHYPER_MIG_PSCI_ON_PENDING = 1, /* CPU_ON accepted, not yet entered */
	SHYPER_MIG_PSCI_ON = 2,
	SHYPER_MIG_PSCI_NR
};

struct shyper_mig_vcpu {
	uint64_t x[SHYPER_MIG_NR_GPRS];
	uint64_t sp_el0, sp_el1, elr_el1, spsr_el1;
	uint64_t pc, pstate;
	uint64_t sctlr_el1, ttbr0_el1, ttbr1_el1, tcr_el1, mair_el1, amair_el1;
	uint64_t vbar_el1, contextidr_el1, tpidr_el0, tpidr_el1, tpidrro_el0;
	uint64_t esr_el1, far_el1, afsr0_el1, afsr1_el1, par_el1, cpacr_el1;
	uint64_t csselr_el1, cntkctl_el1, mdscr_el1, vmpidr_el2;
	uint64_t q[SHYPER_MIG_NR_VREGS][2]; /* low half first */
	uint64_t fpsr, fpcr;
	uint64_t cntv_ctl, cntv_cval;
	/* The guest's CNTVCT at save: the destination picks CNTVOFF so the
	 * guest's virtual count continues from here. */
	uint64_t cntvct;
	uint32_t psci_state; /* enum shyper_mig_psci_state */
	uint32_t reserved;   /* 0 */
};
_Static_assert(sizeof(struct shyper_mig_vcpu) == 1024, "VCPU layout");

/*
 * VCPU_PTIMER: a vCPU's EL1 physical timer, written only when the guest set
 * it (CNTP_CTL not 0), so a stream of a VM that never used it stays
 * readable by readers that predate the section. The physical counter is
 * the board's, so the reader keeps the time left (cval - cntpct), not cval.
 */
#define SHYPER_MIG_PTIMER_CTL_KNOWN 0x3u /* ENABLE, IMASK (ISTATUS is computed) */
struct shyper_mig_ptimer {
	uint64_t ctl;	   /* CNTP_CTL_EL0 */
	uint64_t cval;	   /* CNTP_CVAL_EL0 */
	uint64_t cntpct;   /* the source board's physical count at the save */
	uint64_t reserved; /* 0 */
};
_Static_assert(sizeof(struct shyper_mig_ptimer) == 32, "VCPU_PTIMER layout");

/* One interrupt's state, in VGIC_DIST (SPIs) and VGIC_CPU (SGIs, PPIs). */
#define SHYPER_MIG_IRQ_ENABLED (1u << 0)
#define SHYPER_MIG_IRQ_PENDING (1u << 1)
#define SHYPER_MIG_IRQ_ACTIVE (1u << 2)
#define SHYPER_MIG_IRQ_EDGE (1u << 3)	/* level-sensitive when clear */
#define SHYPER_MIG_IRQ_GROUP1 (1u << 4)
#define SHYPER_MIG_IRQ_HW (1u << 5)	/* backed by a passthrough interrupt */
#define SHYPER_MIG_IRQ_KNOWN (SHYPER_MIG_IRQ_ENABLED | SHYPER_MIG_IRQ_PENDING | \
			      SHYPER_MIG_IRQ_ACTIVE | SHYPER_MIG_IRQ_EDGE | \
			      SHYPER_MIG_IRQ_GROUP1 | SHYPER_MIG_IRQ_HW)

struct shyper_mig_irq {
	uint8_t flags;	   /* SHYPER_MIG_IRQ_* */
	uint8_t priority;
	uint16_t reserved; /* 0 */
	uint32_t reserved2; /* 0 */
	/* GICv3: the GICD_IROUTER value of an SPI; GICv2: the ITARGETSR
	 * byte of an SPI, or the source-CPU bitmap of a pending SGI. */
	uint64_t target;
};
_Static_assert(sizeof(struct shyper_mig_irq) == 16, "IRQ layout");

/* GIC architecture (IHI 0069) limits the readers check counts against. */
#define SHYPER_MIG_GIC_NR_PRIVATE 32	/* SGIs 0-15 and PPIs 16-31 */
#define SHYPER_MIG_GIC_FIRST_SPI 32
#define SHYPER_MIG_GIC_SPI_END 1020	/* 1020-1023 are special INTIDs */
#define SHYPER_MIG_GIC_MAX_LRS 16	/* ICH_VTR_EL2.ListRegs is 4 bits */
#define SHYPER_MIG_GIC_MAX_APRS 8	/* ICH_AP0R0-3 and ICH_AP1R0-3 */

/* VGIC_DIST: this struct, then nr_irqs shyper_mig_irq for INTIDs
 * first_intid .. first_intid + nr_irqs - 1. */
struct shyper_mig_vgic_dist {
	uint32_t ctlr;	      /* GICD_CTLR as the guest sees it */
	uint32_t first_intid; /* SHYPER_MIG_GIC_FIRST_SPI or above */
	uint32_t nr_irqs;
	uint32_t reserved;    /* 0 */
};
_Static_assert(sizeof(struct shyper_mig_vgic_dist) == 16, "VGIC_DIST layout");

/* VGIC_CPU: this struct, then nr_private shyper_mig_irq (INTIDs 0 up),
 * nr_lrs uint64_t list registers (ICH_LR<n>_EL2 format; GICv2's GICH_LR
 * zero-extended), nr_aprs uint32_t active-priority registers (GICv3:
 * AP0R0.. then AP1R0..; GICv2: GICH_APR). */
struct shyper_mig_vgic_cpu {
	uint32_t vmcr; /* ICH_VMCR_EL2 or GICH_VMCR */
	uint32_t nr_private;
	uint32_t nr_lrs;
	uint32_t nr_aprs;
};
_Static_assert(sizeof(struct shyper_mig_vgic_cpu) == 16, "VGIC_CPU layout");

/* VDEV: this struct, nr_queues shyper_mig_vq, then a uint64_t byte count
 * and that many bytes of device-specific state. */
struct shyper_mig_vdev {
	uint32_t device_id; /* VIRTIO_ID_* */
	uint32_t nr_queues;
	uint64_t mmio_base;
	uint64_t device_features;
	uint64_t driver_features;
	uint32_t status;	   /* VIRTIO_STATUS_* */
	uint32_t interrupt_status; /* virtio-mmio InterruptStatus */
	uint32_t config_generation;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
};
_Static_assert(sizeof(struct shyper_mig_vdev) == 56, "VDEV layout");

/* Virtio 1.2, 2.7: the largest split virtqueue. */
#define SHYPER_MIG_VQ_MAX_SIZE 32768

struct shyper_mig_vq {
	uint16_t size;	    /* QueueNum; 0 if never set */
	uint8_t ready;	    /* 0 or 1 */
	uint8_t reserved;   /* 0 */
	uint16_t last_avail_idx;
	uint16_t used_idx;
	uint64_t desc_ipa;
	uint64_t avail_ipa;
	uint64_t used_ipa;
};
_Static_assert(sizeof(struct shyper_mig_vq) == 32, "virtqueue layout");

/*
 * The device-specific state at the end of a VDEV payload, by device id.
 * virtio-console (VIRTIO_ID_CONSOLE): this struct, then tx_len bytes the
 * guest sent that the hypervisor has not passed on, then rx_len bytes for
 * the guest it has not taken yet. The console's history for the MVM is
 * the CONSOLE_HISTORY section.
 */
struct shyper_mig_vcon {
	uint32_t tx_off;   /* bytes of the first transmit chain already taken */
	uint32_t tx_len;
	uint32_t rx_len;
	uint32_t reserved; /* 0 */
	uint64_t tx_bytes, rx_bytes; /* through the device, ever */
};
_Static_assert(sizeof(struct shyper_mig_vcon) == 32, "console state layout");

/* virtio-net (VIRTIO_ID_NET): this struct alone. */
struct shyper_mig_vnet {
	uint8_t mac[6];
	uint8_t tx_kicked; /* 0 or 1: the driver notified, not yet polled */
	uint8_t reserved;  /* 0 */
	uint64_t tx_packets, tx_bytes, tx_drops;
	uint64_t rx_packets, rx_bytes, rx_drops;
};
_Static_assert(sizeof(struct shyper_mig_vnet) == 56, "net state layout");

/* VDEV blob of a mediated virtio-blk device (its requests are all done:
 * the image's contents travel in DISK_BLOCKS or are shared). */
struct shyper_mig_vblk {
	uint64_t capacity;	   /* sectors; must match the configuration */
	uint64_t done_ok, done_err; /* requests completed so far */
	uint32_t next_seq;	   /* the sequence of the last request taken */
	uint32_t reserved;	   /* 0 */
};
_Static_assert(sizeof(struct shyper_mig_vblk) == 32, "blk state layout");

/* CONSOLE_HISTORY: the bytes alone, oldest first. */

/* DISK_BLOCKS: this struct, then whole sectors of the image numbered by
 * the section's instance, from byte offset `offset` on. */
#define SHYPER_MIG_SECTOR_SIZE 512
struct shyper_mig_disk_blocks {
	uint64_t offset; /* sector aligned */
};
_Static_assert(sizeof(struct shyper_mig_disk_blocks) == 8, "DISK_BLOCKS layout");

/* IMAGE: this struct, then bytes of the boot image the section's instance
 * names (SHYPER_IMAGE_KERNEL, _INITRD or _DTB), from `offset` on. The
 * chunks of one image follow each other in order; VM_CONFIG says how big
 * each image is, and a stream with any IMAGE section carries every image
 * VM_CONFIG gives a size, whole. They let the VM be booted again. */
struct shyper_mig_image {
	uint64_t offset; /* the bytes of this image before this chunk */
};
_Static_assert(sizeof(struct shyper_mig_image) == 8, "IMAGE layout");

/* END: what the stream held, so a streamed header can be checked too. */
struct shyper_mig_end {
	uint64_t total_length; /* header and END included */
	uint32_t nr_sections;  /* END included */
	uint32_t reserved;     /* 0 */
};
_Static_assert(sizeof(struct shyper_mig_end) == 16, "END layout");

#endif
