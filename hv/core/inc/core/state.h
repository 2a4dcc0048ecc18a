/*
 * The state root. Every piece of long-lived hypervisor state hangs off this
 * one struct (or from memory it points to), so that a live update can hand it
 * to a new image as a whole. File-scope statics elsewhere hold only what is
 * derived from the board at every boot (GIC bases, interrupt handler table,
 * boot page tables), never VM or allocator state.
 *
 * Pointers: the root and everything reachable from it hold no pointer into
 * the image (its code, constant tables, string literals, statics): a new
 * image is loaded elsewhere and the old one freed. They point into the root,
 * the heap or frames, and what would be an image pointer is data (an enum,
 * a configured type) the running image looks up. Where a pointer into the
 * image is needed (stage-2 hooks, device models' callbacks), it is set
 * again by hv_state_rebind(), which the new image runs once after it takes
 * over (core/vm_rebind.c). Two exceptions live only for a moment, never
 * across an update: struct cpu_work while a cross-core call runs, and
 * board_info.error while the board is parsed at boot.
 *
 * The root lives outside the image, in HV_STATE_AREA after the cold-boot
 * slot (core/update.h), and never moves: a new image takes it over in place,
 * so pointers from the state into the state or the heap stay valid. Its
 * layout is versioned (core/state_version.h); a change bumps the version and
 * adds its conversion to core/update_convert.c.
 */
#ifndef CORE_STATE_H
#define CORE_STATE_H

#include <arch/asm.h>
#include <arch/gic.h>
#include <arch/spinlock.h>
#include <core/board.h>
#include <core/console.h>
#include <core/cpu.h>
#include <core/frame.h>
#include <core/heap.h>
#include <core/iommu.h>
#include <core/log.h>
#include <core/entropy.h>
#include <core/event.h>
#include <core/ivc.h>
#include <core/state_version.h>
#include <core/update.h>
#include <core/vm.h>
#include <dev/mediated.h>
#include <dev/vswitch.h>
#include <stdint.h>

#define HV_STATE_MAGIC 0x53485950U /* "SHYP" */

/* Added by layout 2 (appended, so nothing before it moves). */
struct hv_state_v2 {
	/* Counter value when each VM was booted (0: not running). */
	uint64_t vm_started_at[HV_MAX_VMS];
};

/*
 * Added by layout 3: each vCPU's EL1 physical timer while the vCPU is off
 * its core (on it, the registers are the hardware's); whether its interrupt
 * is active at the GIC for the guest is ctx.ptimer_active (see
 * arch/vcpu_ptimer.h).
 */
struct vcpu_ptimer {
	uint64_t ctl, cval; /* CNTP_CTL_EL0, CNTP_CVAL_EL0 */
};

struct hv_state_v3 {
	struct vcpu_ptimer ptimer[HV_MAX_VMS][VM_MAX_VCPUS];
};

/* Added by layout 4: the SMMU, the board's PCIe host bridge and each VM's
 * DMA streams (core/iommu.h); on GICv2, which vCPUs each vCPU's pending
 * SGIs come from (dev/vgic.c). */
struct hv_state_v4 {
	struct iommu_state iommu;
	uint8_t sgi_sources[HV_MAX_VMS][VM_MAX_VCPUS][GIC_NR_SGIS];
};

struct hv_state {
	uint32_t magic;
	uint32_t version;
	enum log_level log_level;
	struct board_info board;
	uint64_t dtb_pa;
	unsigned nr_cpus;
	struct cpu cpus[HV_MAX_CPUS];
	struct console console;
	spinlock_t frames_lock;
	struct frame_pool frames;
	spinlock_t heap_lock;
	struct heap heap;
	uint64_t heap_base, heap_size;
	uint64_t reserved_base, reserved_end; /* image, tables, frame map */
	struct vm vms[HV_MAX_VMS];
	struct vm_config mvm_cfg; /* built-in, adjusted by the command line */
	/* mvm_cfg's strings, copied here from the image's constants. */
	char mvm_name[SHYPER_NAME_MAX];
	char mvm_cmdline[SHYPER_CMDLINE_MAX]; /* with mvm.net= */
	uint64_t boot_initrd_start, boot_initrd_end; /* reserved until copied */
	/* Physical interrupt -> owning VM id + 1 (0: the hypervisor's or free). */
	uint8_t irq_owner[GIC_MAX_INTID + 1];
	/* Core -> owning VM id + 1 (0: free). */
	uint8_t cpu_owner[HV_MAX_CPUS];
	struct event_queue events;
	struct entropy entropy;
	struct ivc_state ivc;
	struct vswitch vswitch; /* the VMs' virtio-net ports */
	struct med_state mediated; /* images the MVM's daemon serves */
	struct hv_update update;   /* live update: slots, switch, probation */
#if HV_STATE_VERSION >= 2
	struct hv_state_v2 v2;
#endif
#if HV_STATE_VERSION >= 3
	struct hv_state_v3 v3;
#endif
#if HV_STATE_VERSION >= 4
	struct hv_state_v4 v4;
#endif
};

_Static_assert(sizeof(struct hv_state) <= HV_STATE_AREA, "the state root outgrew its area");

/* Where the root is: set once at cold boot, handed to every new image. */
extern struct hv_state *hv_state_root;
#define hv (*hv_state_root)

/* Live update, all cores parked: this image's pointers into the state root
 * where it needs them (vm_rebind for every VM, and the rest). Idempotent. */
void hv_state_rebind(void);

/* Live update, all cores parked: sets again, to this image's functions, every
 * pointer into the image the root holds (vm_rebind for each VM in use, then
 * the rest). Writes nothing else, so running it twice changes nothing. */
void hv_state_rebind(void);

#endif
