/*
 * The cshyper hypercall ABI (docs/HYPERCALLS.md). SMC Calling Convention
 * (DEN0028): HVC #0, function id in w0, arguments in x1..x6; status in x0
 * (0 or a negative SHYPER_E* code), results in x1..x3.
 *
 * Function ids are fast SMC64 calls in the vendor-specific hypervisor service
 * range (owning entity 6): 0xc6000000 | group << 8 | function.
 * Buffers are passed by guest-physical address and length; the management VM
 * is identity mapped, so that is the physical address of its kernel buffer.
 */
#ifndef SHYPER_HYPERCALL_H
#define SHYPER_HYPERCALL_H

#include <shyper/types.h>

#define SHYPER_HVC_BASE 0xc6000000U
#define SHYPER_HVC(group, fn) (SHYPER_HVC_BASE | ((group) << 8) | (fn))
#define SHYPER_HVC_GROUP(fid) (((fid) >> 8) & 0xff)
#define SHYPER_HVC_FN(fid) ((fid) & 0xff)
#define SHYPER_HVC_IS_OURS(fid) (((fid) & 0xffff0000U) == SHYPER_HVC_BASE)

#define SHYPER_UPD_VERSION_MAX 24 /* an image's version string */

enum shyper_group {
	SHYPER_GRP_SYS = 0,
	SHYPER_GRP_VMM = 1,
	SHYPER_GRP_CONFIG = 2,
	SHYPER_GRP_IVC = 3,
	SHYPER_GRP_MEDIATED = 4,
	SHYPER_GRP_MIGRATE = 5,
	SHYPER_GRP_UPDATE = 6,
};

/* System group. VERSION: any VM; the others: the MVM only. */
#define SHYPER_SYS_VERSION SHYPER_HVC(SHYPER_GRP_SYS, 0)  /* -> x1 version, x2 ABI */
#define SHYPER_SYS_INFO SHYPER_HVC(SHYPER_GRP_SYS, 1)     /* x1 buf, x2 len: shyper_sys_info */
#define SHYPER_SYS_REBOOT SHYPER_HVC(SHYPER_GRP_SYS, 2)   /* resets the board */
#define SHYPER_SYS_SHUTDOWN SHYPER_HVC(SHYPER_GRP_SYS, 3) /* powers the board off */
#define SHYPER_SYS_NOTIFY SHYPER_HVC(SHYPER_GRP_SYS, 4)   /* -> x1 type, x2 vm, x3 state; -EAGAIN: none */

/* VMM group. GET_ID: any VM; the others: the MVM only. */
#define SHYPER_VMM_GET_ID SHYPER_HVC(SHYPER_GRP_VMM, 0)   /* -> x1 caller's VM id */
#define SHYPER_VMM_LIST SHYPER_HVC(SHYPER_GRP_VMM, 1)     /* x1 buf, x2 len -> x1 count */
#define SHYPER_VMM_INFO SHYPER_HVC(SHYPER_GRP_VMM, 2)     /* x1 id, x2 buf, x3 len */
#define SHYPER_VMM_BOOT SHYPER_HVC(SHYPER_GRP_VMM, 3)     /* x1 id */
#define SHYPER_VMM_SHUTDOWN SHYPER_HVC(SHYPER_GRP_VMM, 4) /* x1 id */
#define SHYPER_VMM_REBOOT SHYPER_HVC(SHYPER_GRP_VMM, 5)   /* x1 id */
#define SHYPER_VMM_REMOVE SHYPER_HVC(SHYPER_GRP_VMM, 6)   /* x1 id; a running VM: -EBUSY */
#define SHYPER_VMM_VCPU_INFO SHYPER_HVC(SHYPER_GRP_VMM, 7) /* x1 id, x2 vcpu, x3 buf, x4 len */
/* x1 id, x2 op (SHYPER_CONSOLE_*), x3 buf, x4 len -> x1 bytes (READ, WRITE)
 * or bytes lost while nobody was attached (ATTACH): the VM's virtio-console. */
#define SHYPER_VMM_CONSOLE SHYPER_HVC(SHYPER_GRP_VMM, 8)
/* x1 id, x2 buf, x3 len, x4 n: shyper_net_info of the VM's n-th virtio-net
 * device, from 0 in configuration order (-ENODEV: it has no such device). */
#define SHYPER_VMM_NET_INFO SHYPER_HVC(SHYPER_GRP_VMM, 9)
/* x1 id -> x1 counter ticks since the VM was booted, x2 counter frequency
 * (Hz). Added with state layout 2: an image with layout 1 answers -ENOSYS.
 * For a VM booted under a layout-1 image it is an estimate (the update's
 * conversion computes it from vCPU 0's time on its core). */
#define SHYPER_VMM_UPTIME SHYPER_HVC(SHYPER_GRP_VMM, 10)
/* The most virtio-net devices `shyper vm info` asks about. */
#define SHYPER_NET_MAX_PER_VM 16

/*
 * Migration group (MVM only), the source's pre-copy and the copy of RAM;
 * x1 is always the id of a guest VM (not the MVM). Windows of the dirty
 * bitmap start SHYPER_MIG_WINDOW_ALIGN bytes into a RAM region, or a
 * multiple; bit i of byte i / 8 is the i-th page of the window.
 */
#define SHYPER_MIG_PAUSE SHYPER_HVC(SHYPER_GRP_MIGRATE, 0)       /* x1 id */
#define SHYPER_MIG_RESUME SHYPER_HVC(SHYPER_GRP_MIGRATE, 1)      /* x1 id */
#define SHYPER_MIG_DIRTY_START SHYPER_HVC(SHYPER_GRP_MIGRATE, 2) /* x1 id */
#define SHYPER_MIG_DIRTY_STOP SHYPER_HVC(SHYPER_GRP_MIGRATE, 3)  /* x1 id */
/* x1 id, x2 window IPA, x3 buf, x4 len -> x1 dirty pages, x2 pages covered,
 * x3 bytes written */
#define SHYPER_MIG_DIRTY_FETCH SHYPER_HVC(SHYPER_GRP_MIGRATE, 4)
#define SHYPER_MIG_MEM_READ SHYPER_HVC(SHYPER_GRP_MIGRATE, 5)  /* x1 id, x2 ipa, x3 buf, x4 len */
#define SHYPER_MIG_MEM_WRITE SHYPER_HVC(SHYPER_GRP_MIGRATE, 6) /* x1 id, x2 ipa, x3 buf, x4 len */
/* x1 id, x2 buf, x3 len: the paused guest's state as a stream (VM_CONFIG,
 * VCPU, VGIC_*, VDEV, CONSOLE_HISTORY; no MEM) -> x1 bytes written;
 * -ENOSPC: x1 bytes needed. */
#define SHYPER_MIG_STATE_SAVE SHYPER_HVC(SHYPER_GRP_MIGRATE, 7)
/* x1 id, x2 buf, x3 len: such a stream into a VM added with
 * SHYPER_VM_F_RESTORE and finished, its RAM filled with MEM_WRITE; the VM
 * is then running but paused: RESUME starts it where the stream left it. */
#define SHYPER_MIG_STATE_LOAD SHYPER_HVC(SHYPER_GRP_MIGRATE, 8)
/* x1 id, x2 SHYPER_IMAGE_*, x3 buf, x4 len, x5 offset: bytes of a boot
 * image the VM was configured with, as uploaded -> x1 the image's size.
 * The stream's IMAGE sections, so that the VM can be booted again where it
 * lands. */
#define SHYPER_MIG_IMAGE_READ SHYPER_HVC(SHYPER_GRP_MIGRATE, 9)
/* x1 id, x2 microseconds (0 .. SHYPER_MIG_THROTTLE_MAX_US): auto-converge.
 * While its dirty log runs, each first write of the guest to a page costs
 * the writing vCPU that long; 0 ends it, and so does DIRTY_STOP. */
#define SHYPER_MIG_THROTTLE SHYPER_HVC(SHYPER_GRP_MIGRATE, 10)
#define SHYPER_MIG_THROTTLE_MAX_US 2000U

#define SHYPER_MIG_PAGE_SIZE 4096U
#define SHYPER_MIG_WINDOW_ALIGN (64U * SHYPER_MIG_PAGE_SIZE)
/* Most that one MEM_READ or MEM_WRITE copies. */
#define SHYPER_MIG_COPY_MAX (1U << 20)
/* Most a STATE_SAVE or STATE_LOAD stream may be (the MVM's bounce buffer). */
#define SHYPER_MIG_STATE_MAX (1U << 20)

enum shyper_console_op {
	SHYPER_CONSOLE_READ = 0,   /* what the guest wrote, up to len bytes */
	SHYPER_CONSOLE_WRITE = 1,  /* input for the guest; x1: bytes taken */
	SHYPER_CONSOLE_ATTACH = 2, /* one reader at a time, else -EBUSY */
	SHYPER_CONSOLE_DETACH = 3,
	SHYPER_CONSOLE_STATS = 4,  /* x1 bytes kept, x2 bytes dropped so far, x3 attached */
};

/* Config group (MVM only): build a VM step by step, then FINISH it. */
#define SHYPER_CFG_ADD_VM SHYPER_HVC(SHYPER_GRP_CONFIG, 0)      /* x1 buf, x2 len: shyper_vm_desc -> x1 id */
#define SHYPER_CFG_SET_CPU SHYPER_HVC(SHYPER_GRP_CONFIG, 1)     /* x1 id, x2 num, x3 bitmap, x4 master, x5 slice_us (0: default) */
/* A vCPU's turn on a core it shares (SET_CPU x5). */
#define SHYPER_SLICE_DEFAULT_US 10000
#define SHYPER_SLICE_MIN_US 1000
#define SHYPER_SLICE_MAX_US 1000000
#define SHYPER_CFG_ADD_MEM SHYPER_HVC(SHYPER_GRP_CONFIG, 2)     /* x1 id, x2 ipa, x3 length */
#define SHYPER_CFG_ADD_EMU_DEV SHYPER_HVC(SHYPER_GRP_CONFIG, 3) /* x1 id, x2 buf, x3 len: shyper_emu_dev */
#define SHYPER_CFG_ADD_PT_REGION SHYPER_HVC(SHYPER_GRP_CONFIG, 4) /* x1 id, x2 pa, x3 ipa, x4 length */
#define SHYPER_CFG_ADD_PT_IRQ SHYPER_HVC(SHYPER_GRP_CONFIG, 5) /* x1 id, x2 interrupt id */
#define SHYPER_CFG_ADD_DTB_DEV SHYPER_HVC(SHYPER_GRP_CONFIG, 6) /* x1 id, x2 buf, x3 len: shyper_dtb_dev */
#define SHYPER_CFG_SET_IMAGE SHYPER_HVC(SHYPER_GRP_CONFIG, 7)  /* x1 id, x2 buf, x3 len: shyper_image_desc */
#define SHYPER_CFG_UPLOAD SHYPER_HVC(SHYPER_GRP_CONFIG, 8)     /* x1 id, x2 kind, x3 offset, x4 buf, x5 len */
#define SHYPER_CFG_FINISH SHYPER_HVC(SHYPER_GRP_CONFIG, 9)     /* x1 id */
#define SHYPER_CFG_ADD_PT_STREAM SHYPER_HVC(SHYPER_GRP_CONFIG, 10) /* x1 id, x2 SMMU stream id */

#define SHYPER_NAME_MAX 32
#define SHYPER_CMDLINE_MAX 512
#define SHYPER_CFG_LIST_MAX 16
#define SHYPER_MAX_CPUS 8

enum shyper_vm_type {
	SHYPER_VM_T_LINUX = 0,
	SHYPER_VM_T_BARE_METAL = 1,
};

enum shyper_vm_state {
	SHYPER_VM_S_FREE = 0,
	SHYPER_VM_S_CONFIGURING = 1, /* added, not finished */
	SHYPER_VM_S_READY = 2,       /* finished: can boot */
	SHYPER_VM_S_RUNNING = 3,
	SHYPER_VM_S_STOPPED = 4,     /* shut down or powered itself off */
	SHYPER_VM_S_STOPPING = 5,    /* being shut down or restarted: for a moment */
};

/* Emulated devices of the JSON template (EMU_DEVICE_T_*). */
enum shyper_emu_type {
	SHYPER_EMU_CONSOLE = 0, /* an emulated PL011 whose output the hypervisor prints */
	SHYPER_EMU_GICD = 1,
	SHYPER_EMU_GPPT = 2,
	SHYPER_EMU_VIRTIO_BLK = 3,
	SHYPER_EMU_VIRTIO_NET = 4,
	SHYPER_EMU_VIRTIO_CONSOLE = 5,
	SHYPER_EMU_SHYPER = 6,
	SHYPER_EMU_VIRTIO_BLK_MEDIATED = 7,
	SHYPER_EMU_IOMMU = 8,
	SHYPER_EMU_ICCSRE = 9,
	SHYPER_EMU_SGIR = 10,
	SHYPER_EMU_GICR = 11,
	SHYPER_EMU_META = 12,
};

/* Device-tree devices of the JSON template (DTB_DEVICE_T_*). */
enum shyper_dtb_type {
	SHYPER_DTB_CONSOLE = 0,
	SHYPER_DTB_GICD = 1,
	SHYPER_DTB_GICC = 2,
	SHYPER_DTB_GICR = 3,
	/* cshyper: the board's PCIe host bridge, passed through (docs/CONFIG.md). */
	SHYPER_DTB_PCIE = 4,
};

enum shyper_image_kind {
	SHYPER_IMAGE_KERNEL = 0,
	SHYPER_IMAGE_INITRD = 1,
	SHYPER_IMAGE_DTB = 2,
};

/* Most that one SHYPER_CFG_UPLOAD call copies. */
#define SHYPER_UPLOAD_CHUNK_MAX (1U << 20)

/* shyper_vm_desc.flags. RESTORE: the VM gets its RAM from MEM_WRITE and its
 * state from STATE_LOAD, not from images: FINISH needs none, BOOT and
 * REBOOT are refused. */
#define SHYPER_VM_F_RESTORE (1U << 0)
/* Its vCPUs read and program the PMU themselves (a real-time guest timing
 * itself). The PMU is not switched with the vCPU, so the grant holds only
 * on a core the VM has alone; elsewhere the PMU stays trapped. */
#define SHYPER_VM_F_PMU (1U << 1)
#define SHYPER_VM_F_KNOWN (SHYPER_VM_F_RESTORE | SHYPER_VM_F_PMU)

struct shyper_vm_desc {
	char name[SHYPER_NAME_MAX]; /* NUL-terminated */
	uint32_t type;		    /* enum shyper_vm_type */
	uint32_t flags;		    /* SHYPER_VM_F_* */
	char cmdline[SHYPER_CMDLINE_MAX];
};

struct shyper_image_desc {
	uint64_t kernel_load_ipa;
	uint64_t kernel_entry;
	uint64_t kernel_size;	/* bytes the upload will bring */
	uint64_t dtb_load_ipa;
	uint64_t dtb_size;	/* 0: the hypervisor generates the device tree */
	uint64_t ramdisk_load_ipa;
	uint64_t ramdisk_size;	/* 0: none */
};

struct shyper_emu_dev {
	char name[SHYPER_NAME_MAX];
	uint64_t base_ipa;
	uint64_t length;
	uint32_t irq_id;
	uint32_t type; /* enum shyper_emu_type */
	uint32_t cfg_num;
	uint32_t pad;
	uint64_t cfg_list[SHYPER_CFG_LIST_MAX];
};

struct shyper_dtb_dev {
	char name[SHYPER_NAME_MAX];
	uint32_t type; /* enum shyper_dtb_type */
	uint32_t irq_num;
	uint32_t irqs[SHYPER_CFG_LIST_MAX];
	uint64_t addr_ipa;
	uint64_t length;
};

struct shyper_vm_info {
	uint32_t id;
	uint32_t type;	/* enum shyper_vm_type */
	uint32_t state; /* enum shyper_vm_state */
	uint32_t nr_vcpus;
	uint64_t cpu_bitmap;
	uint64_t mem_bytes;
	char name[SHYPER_NAME_MAX];
	uint64_t exits; /* traps into the hypervisor, all vCPUs */
};

/* A VM's virtio-net port on the hypervisor's switch (SHYPER_VMM_NET_INFO):
 * frames (packets) and their bytes without the virtio header; drops are
 * frames the device refused or found no receive buffer for. */
struct shyper_net_info {
	uint64_t tx_packets, tx_bytes, tx_drops; /* sent by the VM */
	uint64_t rx_packets, rx_bytes, rx_drops; /* for the VM */
	uint8_t mac[6];
	uint8_t link_up; /* 1 while the VM runs and is on the switch */
	uint8_t pad;
};

/* Why a vCPU left the guest (SHYPER_VMM_VCPU_INFO). */
enum shyper_exit_reason {
	SHYPER_EXIT_HVC = 0,
	SHYPER_EXIT_SMC,
	SHYPER_EXIT_MMIO,   /* emulated device access */
	SHYPER_EXIT_SYSREG, /* trapped system register */
	SHYPER_EXIT_WFX,    /* trapped WFI/WFE (shared cores) */
	SHYPER_EXIT_IRQ,    /* a physical interrupt */
	SHYPER_EXIT_ABORT,  /* access outside the VM: an abort was injected */
	SHYPER_EXIT_OTHER,
	SHYPER_EXIT_NR
};

struct shyper_vcpu_info {
	uint32_t vm_id;
	uint32_t vcpu_id;
	uint32_t pcpu;	   /* the core it runs on */
	uint32_t state;	   /* 0 off, 1 starting, 2 running */
	uint64_t run_ns;   /* time it has had its core */
	uint64_t switches; /* times it was switched in on a shared core */
	uint64_t exits[SHYPER_EXIT_NR];
};

struct shyper_sys_info {
	uint32_t version; /* major << 16 | minor << 8 | patch */
	uint32_t abi;
	char board[SHYPER_NAME_MAX];
	uint32_t nr_cpus;
	uint32_t gic_version;
	uint64_t total_ram;
	uint64_t free_ram; /* frames not owned by the hypervisor or any VM */
	/* VM id + 1 running on each core; 0: free. */
	uint32_t cpu_owner[SHYPER_MAX_CPUS];
	char version_string[SHYPER_UPD_VERSION_MAX]; /* the running image's */
	uint32_t state_version;	/* layout of its state root */
	uint32_t updates;	/* live updates since the board booted */
	uint64_t heap_free;	/* bytes free in the hypervisor's heap */
	/* Appended (a caller may pass the shorter size of the fields above). */
	uint32_t irqs_owned;	/* physical interrupts a VM owns (passthrough) */
	uint32_t reserved;	/* 0 */
};
/* The size before irqs_owned: what older callers pass. */
#define SHYPER_SYS_INFO_MIN_SIZE 136

/*
 * Live update group (docs/HYPERCALLS.md, "Live update"): the MVM only.
 * The image goes into the slot the running image does not use, in order,
 * is checked as a whole, then switched to; the new image runs on probation
 * until its self-check passes, else the previous one takes over again.
 */
#define SHYPER_UPD_BEGIN SHYPER_HVC(SHYPER_GRP_UPDATE, 0)    /* x1 size */
#define SHYPER_UPD_CHUNK SHYPER_HVC(SHYPER_GRP_UPDATE, 1)    /* x1 offset, x2 buf, x3 len */
/* CHECK returns 0 once the report is written; its result says the verdict. */
#define SHYPER_UPD_CHECK SHYPER_HVC(SHYPER_GRP_UPDATE, 2)    /* x1 buf, x2 len: shyper_upd_report */
#define SHYPER_UPD_APPLY SHYPER_HVC(SHYPER_GRP_UPDATE, 3)    /* returns in the new image */
#define SHYPER_UPD_STATUS SHYPER_HVC(SHYPER_GRP_UPDATE, 4)   /* x1 buf, x2 len: shyper_upd_status */
#define SHYPER_UPD_ROLLBACK SHYPER_HVC(SHYPER_GRP_UPDATE, 5) /* back to the previous image */
#define SHYPER_UPD_CANCEL SHYPER_HVC(SHYPER_GRP_UPDATE, 6)   /* drops an upload */

#define SHYPER_UPD_WHY_MAX 128

/* CHECK's verdict on the uploaded image (why: the reason it is refused). */
struct shyper_upd_report {
	int32_t result; /* 0 or -SHYPER_E*: what CHECK returns */
	uint32_t arch, abi;
	uint32_t state_version, state_oldest; /* the image's */
	uint32_t running_state;		      /* the running image's layout */
	uint32_t handover_state;	      /* the layout the state goes over in */
	uint32_t pad;
	uint64_t file_size, load_size, slot_size;
	char board[16];
	char version[SHYPER_UPD_VERSION_MAX];
	char why[SHYPER_UPD_WHY_MAX];
};

enum shyper_upd_phase {
	SHYPER_UPD_IDLE = 0,
	SHYPER_UPD_RECEIVING = 1, /* BEGIN done, chunks arriving */
	SHYPER_UPD_READY = 2,	  /* CHECK passed: APPLY may switch */
	SHYPER_UPD_PROBATION = 3, /* switched; the self-check is not done */
};

enum shyper_upd_outcome {
	SHYPER_UPD_NONE = 0,
	SHYPER_UPD_HEALTHY = 1,	    /* the last switch passed its self-check */
	SHYPER_UPD_ROLLED_BACK = 2, /* it failed: the previous image runs again */
};

struct shyper_upd_status {
	uint32_t phase;	  /* enum shyper_upd_phase */
	uint32_t outcome; /* enum shyper_upd_outcome, of the last switch */
	uint32_t updates, rollbacks; /* since the board booted */
	uint32_t cores_paused;	     /* in the last switch */
	uint32_t vms_kept;
	uint64_t pause_ticks; /* last switch: cores stopped to cores resumed */
	uint64_t counter_hz;
	uint32_t has_previous; /* the other slot still holds the previous image */
	uint32_t state_version;
	char running[SHYPER_UPD_VERSION_MAX];
	char previous[SHYPER_UPD_VERSION_MAX];
	char why[SHYPER_UPD_WHY_MAX]; /* of a rollback */
	char vm_names[256]; /* "mvm, linux-core1, ..." of the last switch */
};

/* SHYPER_SYS_NOTIFY event types. */
enum shyper_event_type {
	SHYPER_EVENT_VM_STATE = 1, /* x2: VM id, x3: new enum shyper_vm_state */
	SHYPER_EVENT_IVC = 2,	   /* x2: sender VM, x3: channel id or SHYPER_IVC_EVENT_MSG */
	SHYPER_EVENT_KEEPALIVE = 3, /* x2: VM that missed its heartbeat, x3: period (ms) */
	SHYPER_EVENT_MEDIATED = 4,  /* x2: VM, x3: image index: mediated requests wait (shyper/mediated.h) */
};

#endif
