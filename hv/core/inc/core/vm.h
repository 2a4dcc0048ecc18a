/* Virtual machines and their vCPUs. */
#ifndef CORE_VM_H
#define CORE_VM_H

#include <arch/exception.h>
#include <arch/spinlock.h>
#include <arch/stage2.h>
#include <core/cpu.h>
#include <core/dirty_log.h>
#include <core/ivc.h>
#include <arch/vcpu_ctx.h>
#include <core/vm_config.h>
#include <shyper/hypercall.h>
#include <dev/vgic.h>
#include <stdbool.h>
#include <stdint.h>

#define HV_MAX_VMS 8
#define VM_MAX_MMIO_HANDLERS 8

enum vcpu_state {
	VCPU_OFF,     /* not started, or stopped with PSCI CPU_OFF */
	VCPU_PENDING, /* CPU_ON accepted, its core has not entered it yet */
	VCPU_RUNNING,
};

/* EL1 state the hypervisor sets up on entry and will carry in migrations. */
struct vcpu_sysregs {
	uint64_t sctlr_el1;
	uint64_t cntkctl_el1;
	uint64_t vmpidr_el2;
};

/* The first two fields are read by the vectors' timer fast path
 * (vectors.S, VCPU_FAST_LR and VCPU_FAST_EXITS). */
struct vcpu {
	/* The list register that delivers its virtual timer interrupt when
	 * nothing else needs the hypervisor's attention; 0: the general path. */
	uint64_t fast_timer_lr;
	uint64_t fast_timer_exits; /* interrupt exits the fast path took */
	unsigned id; /* within the VM; also its MPIDR Aff0 */
	unsigned pcpu;
	struct vm *vm;
	volatile enum vcpu_state state;
	uint64_t entry, context; /* where CPU_ON starts it, its x0 */
	struct vcpu_sysregs sys;
	struct vgic_cpu vgic;
	struct vcpu_ctx ctx;	/* while another vCPU has the core */
	bool blocked;		/* in WFI, core given away */
	/* Its VM is stopping: leave at the next exit, no CPU_ON; cleared when
	 * the VM is stopped (mark_stopped) or booted. */
	volatile bool stop_req;
	/* Its core's acknowledgement of the VM's pause request with this
	 * epoch: off the core, context saved, not entered again until resumed. */
	volatile uint32_t paused_epoch;
	uint64_t switches;
	uint64_t exit_counts[SHYPER_EXIT_NR];
	uint64_t run_ticks;  /* counter ticks it had its core, until run_since */
	uint64_t run_since;  /* counter when it last got its core, 0 when off it */
};

struct mmio_access {
	uint64_t addr; /* IPA */
	unsigned size; /* bytes: 1, 2, 4 or 8 */
	bool write;
	uint64_t value; /* written value, or where the read result goes */
};

/*
 * What an emulated MMIO region leads to. A kind, not a handler pointer: the
 * state root holds no pointer into the image (core/state.h), so the image
 * that runs the access picks its own function (vm_mmio_dispatch). Every
 * device's access function returns 0, or a negative error: the access then
 * faults into the guest.
 */
enum mmio_kind {
	MMIO_VGIC_GICD, /* vgic_gicd_trap */
	MMIO_VGIC_GICR, /* vgic_gicr_trap */
	MMIO_VUART,	/* vuart_access */
	MMIO_VDEV,	/* vdev_mmio_access, priv: its struct vdev */
};

struct mmio_region {
	uint64_t base, size;
	enum mmio_kind kind;
	void *priv; /* in the state root, or NULL */
};

/* Same values as enum shyper_vm_state in the ABI. */
enum vm_state {
	VM_FREE = 0,
	VM_CONFIGURING = 1, /* being built by config hypercalls */
	VM_READY = 2,	    /* complete: can boot */
	VM_RUNNING = 3,
	VM_STOPPED = 4,
	/* A core is taking it down: a shutdown, or its guest's SYSTEM_OFF or
	 * SYSTEM_RESET (then RUNNING again). Lasts one hypercall or exit, so a
	 * live update never carries it. */
	VM_STOPPING = 5,
};

/* An image uploaded by the MVM, kept pristine so that a reboot reloads it. */
struct vm_image {
	uint64_t store_pa; /* frames owned by the VM, 0 when none */
	uint64_t size;	   /* declared */
	uint64_t received; /* uploaded so far, in order */
	uint64_t load_ipa;
};

/* An emulated PL011 whose output the hypervisor prints with a VM prefix. */
struct vuart {
	uint64_t base;
	uint32_t intid;
	unsigned len;
	char line[120];
};

struct vm {
	unsigned id;
	enum vm_state state;
	const struct vm_config *cfg;
	uint16_t vmid;
	struct stage2 s2;
	struct stage2_mm s2_mm;	/* s2's allocator and TLB hooks, ctx = this VM */
	/* Changes to s2 while the VM may run, and the dirty log (vm_s2_lock). */
	spinlock_t s2_lock;
	struct dirty_log dirty;
	/* Non-zero while a pause is requested or in force (vm_pause.c): no core
	 * enters a vCPU of the VM; each vCPU's paused_epoch says its core saw it. */
	volatile uint32_t pause_epoch;
	uint32_t pauses;	/* pause requests so far: the next epoch */
	/* CNTVOFF_EL2 on every entry of its vCPUs: 0 from a boot; chosen by
	 * STATE_LOAD so the guest's virtual count goes on from the saved one. */
	uint64_t cntvoff;
	/* Added with SHYPER_VM_F_RESTORE: no images, started by STATE_LOAD. */
	bool restore;
	unsigned nr_vcpus;
	struct vcpu vcpus[VM_MAX_VCPUS];
	struct vgic_dist vgic;
	struct mmio_region mmio[VM_MAX_MMIO_HANDLERS];
	unsigned nr_mmio;
	/* Short sections only: its vUART's line, and CPU_ON of its vCPUs
	 * against a stop of the VM (stop_req). */
	spinlock_t lock;
	/* Guests configured from the MVM: their configuration lives here. */
	struct vm_config config;
	char name[SHYPER_NAME_MAX];
	char cmdline[SHYPER_CMDLINE_MAX];
	uint64_t mem_pa[VM_MAX_MEM_REGIONS]; /* where each region's frames are */
	struct vm_image images[3];	     /* enum shyper_image_kind */
	bool cpus_set, images_set;
	bool has_uart;
	struct vuart uart;
	bool setup_done; /* stage 2, vCPUs and vGIC in place */
	/* Console lines about this VM's faults: a token bucket, so a guest
	 * looping on bad accesses cannot hold the console (and other cores). */
	uint32_t log_tokens;
	uint32_t log_suppressed;
	uint64_t log_refill_at;
	struct vm_ivc ivc; /* channels it declared, its queue, keep-alive */
	struct vdev vdevs[VM_MAX_VDEVS]; /* set up from cfg->vdevs */
	unsigned nr_vdevs;
};

#define VM_LOG_BURST 128      /* lines at once */
#define VM_LOG_PER_SECOND 10  /* then this many a second */

/* True if one more fault line of this VM may be printed now. */
bool vm_log_allowed(struct vm *vm);

int vm_create(const struct vm_config *cfg, struct vm **out);
/* Stage 2, identity memory, passthrough, vCPUs and vGIC for vm->cfg. On
 * failure nothing of it stays (its vCPUs, vGIC, MMIO regions, devices). */
int vm_setup(struct vm *vm);
/* Frees everything the VM owns (memory scrubbed) and marks the slot free. */
void vm_destroy(struct vm *vm);
struct vm *vm_by_id(unsigned id);
int vm_stage2_init(struct vm *vm);
/* Sets vm->s2_mm to this image's stage-2 allocator and TLB hooks. */
void vm_stage2_hooks(struct vm *vm);
/* Gives each passthrough interrupt of the VM this image's handler (the
 * handler table is the image's own, core/irq.c). 0, or the first error:
 * another handler has one of them. */
int vm_passthrough_irqs(struct vm *vm);
/*
 * Live update (vm_rebind.c): sets again every pointer into the image the
 * VM and its devices hold (stage-2 hooks, device callbacks) and its
 * passthrough interrupts' handlers, and nothing else. No vCPU may run;
 * running it again changes nothing.
 */
void vm_rebind(struct vm *vm);
/* Takes the cores of `bitmap` for the VM (and gives back any it had). */
int vm_claim_cpus(struct vm *vm, uint64_t bitmap);
int vm_claim_irq(struct vm *vm, uint32_t intid);
int vm_map_passthrough(struct vm *vm, uint64_t pa, uint64_t ipa, uint64_t size);
bool hits_hypervisor_device(uint64_t pa, uint64_t size);
/* EL2 pointer to [ipa, ipa + len) of the VM's RAM, or NULL if not all RAM. */
void *vm_ram_ptr(struct vm *vm, uint64_t ipa, uint64_t len);
bool vm_is_mvm(const struct vm *vm);
/* Serialise changes to a VM's stage 2 that may run under it (interrupts masked). */
uint64_t vm_s2_lock(struct vm *vm);
void vm_s2_unlock(struct vm *vm, uint64_t flags);
/*
 * Pause (vm_pause.c): every vCPU of a running guest off its core with its
 * context saved, and kept off until vm_resume(). 0, -SHYPER_EPERM (the
 * MVM), -SHYPER_EINVAL (not running, or already / not paused),
 * -SHYPER_EBUSY (a core did not answer in time; the VM runs on).
 */
int vm_pause(struct vm *vm);
int vm_resume(struct vm *vm);
static inline bool vm_is_paused(const struct vm *vm)
{
	return __atomic_load_n(&vm->pause_epoch, __ATOMIC_ACQUIRE) != 0;
}
/* Memory and GIC of the VM, as its generated device tree shows them. */
struct vm_fdt_desc;
void vm_fdt_describe_vm(struct vm *vm, struct vm_fdt_desc *d);
/* Its boot time, where the state layout keeps it (vmm.c). */
void vm_note_started(struct vm *vm);
/* Counter ticks vCPU 0 has had its core (update_convert.c). */
uint64_t vm_run_ticks_estimate(const struct vm *vm);
/* Its boot images are all uploaded and fit its RAM (vm_cfg.c). */
int vm_images_check(struct vm *vm);
/* VM lifecycle (vmm.c); 0 or a negative SHYPER_E* code. */
int vm_boot(struct vm *vm);
int vm_shutdown(struct vm *vm);
/* From a guest's own vCPU: PSCI SYSTEM_OFF / SYSTEM_RESET of its VM. */
void __attribute__((noreturn)) vm_guest_system_event(struct vcpu *vcpu, bool reset);
int vm_add_mmio(struct vm *vm, uint64_t base, uint64_t size, enum mmio_kind kind,
		void *priv);
struct vcpu *vm_find_vcpu_by_mpidr(struct vm *vm, uint64_t mpidr);
/* Runs an emulated-MMIO access; -SHYPER_ENOENT when no device is there. */
int vm_mmio_dispatch(struct vcpu *vcpu, struct mmio_access *acc);

/* vCPU entry and exits (vcpu.c). */
static inline struct vcpu *current_vcpu(void)
{
	return this_cpu()->vcpu;
}

/* Before entering the guest: pending interrupts into list registers.
 * Plain loads first: the common exit has nothing new and stays short. */
static inline void vgic_flush(struct vcpu *vcpu)
{
	if (__builtin_expect(__atomic_load_n(&vcpu->vgic.pending_hint, __ATOMIC_RELAXED) ||
			     vcpu->vgic.waiting, 0))
		vgic_flush_slow(vcpu);
}

/* At every exit, before any emulation reads the vGIC: a timer interrupt the
 * guest holds is looked at again (vgic_timers_resample_slow); one load when
 * it holds none. */
static inline void vgic_timers_resample(struct vcpu *vcpu)
{
	if (__builtin_expect(vcpu->ctx.vtimer_active | vcpu->ctx.ptimer_active, 0))
		vgic_timers_resample_slow(vcpu);
}

/* Enters `vcpu` on this core: fresh if pending, else from its saved context. */
void __attribute__((noreturn)) vcpu_run(struct vcpu *vcpu);
/* Asks the core of `vcpu` to start it (PSCI CPU_ON). */
int vcpu_power_on(struct vcpu *vcpu, uint64_t entry, uint64_t context);
/* vcpu_power_on in two steps, for a caller that holds vcpu->vm->lock for
 * the first (the vCPU pending) and then makes its core take it. */
int vcpu_power_on_locked(struct vcpu *vcpu, uint64_t entry, uint64_t context);
void vcpu_power_kick(struct vcpu *vcpu);
void __attribute__((noreturn)) vcpu_stop_here(void);
/* Leaves the guest on this core (list registers, timer, stage 2) without
 * changing the stack; the caller decides what the core does next. */
void vcpu_detach_here(void);
void vcpu_switch(struct vcpu *next, struct trap_frame *f);
/* Takes the current vCPU off this core with its context saved (it stays
 * VCPU_RUNNING, to be switched in again later); the core is left bare. */
void vcpu_save_and_leave(struct trap_frame *f);
void vcpu_discard_saved(struct vcpu *vcpu);
void __attribute__((noreturn)) cpu_park_here(void);
void guest_sync_exception(struct trap_frame *frame);
void guest_irq_exit(struct trap_frame *frame);
void inject_data_abort(struct trap_frame *frame, uint64_t far);
void inject_undef(struct trap_frame *frame);
void inject_prefetch_abort(struct trap_frame *frame, uint64_t far);

#endif
