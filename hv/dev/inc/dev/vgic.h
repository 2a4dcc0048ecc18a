/*
 * The virtual GIC of a VM: an emulated distributor (and on GICv3 emulated
 * redistributors), with the CPU interface provided by the hardware's
 * virtualisation extensions (list registers).
 */
#ifndef DEV_VGIC_H
#define DEV_VGIC_H

#include <arch/spinlock.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VGIC_MAX_IRQS 512 /* SGIs, PPIs and SPIs a VM can see */
#define VGIC_NR_PRIVATE 32
#define VGIC_GICD_SIZE 0x10000UL
#define VGIC_GICV2_DIST_SIZE 0x1000UL
#define VGIC_GICR_FRAME_SIZE 0x20000UL /* RD_base + SGI_base, no LPIs */
#define VGIC_GICV2_CPU_SIZE 0x2000UL

/* SGI the hypervisor sends to make a core refill its list registers. */
#define SGI_VGIC_KICK 4

/* Priority bits a virtual interrupt keeps: GICv2's list registers hold 5. */
#define VGIC_PRIO_MASK 0xf8

struct vgic_irq {
	uint64_t route;  /* GICv3 IROUTER */
	uint8_t prio;
	uint8_t targets; /* GICv2 ITARGETSR */
	uint8_t cfg;     /* ICFGR field: bit 1 set = edge-triggered */
	bool enabled;
	bool hw;         /* backed by the physical interrupt of the same id */
};

struct vgic_cpu {
	struct vgic_irq priv[VGIC_NR_PRIVATE];
	/* Raised but not yet in a list register. */
	uint64_t pending[VGIC_MAX_IRQS / 64];
	/* Set with every new pending bit: an exit with nothing new and nothing
	 * left waiting skips the scan (the common case, kept short). */
	uint32_t pending_hint;
	bool waiting;	/* bits left pending (disabled, or no free list register) */
	bool uie;	/* the underflow interrupt is requested */
	uint32_t waker;
};

struct vgic_dist {
	spinlock_t lock;
	unsigned version;
	uint32_t ctlr;
	unsigned nr_irqs;
	uint64_t gicd_ipa, gicr_ipa;
	struct vgic_irq spi[VGIC_MAX_IRQS - VGIC_NR_PRIVATE];
};

struct vm;
struct vcpu;
struct trap_frame;

int vgic_init(struct vm *vm);
void vgic_reset(struct vm *vm);
uint64_t vgic_gicd_size(const struct vm *vm);
/* Makes `intid` pending for `vcpu`; it reaches a list register when the
 * vCPU next enters the guest (its core is kicked if it is another one). */
void vgic_inject(struct vcpu *vcpu, uint32_t intid);
/* GICv2: SGI @sgi from vCPU @source of the same VM. The guest's GICC_IAR
 * names the sender, and SGIs from different senders are distinct pending
 * interrupts, each acknowledged on its own. On GICv3 the same as
 * vgic_inject(). */
void vgic_inject_sgi(struct vcpu *vcpu, uint32_t sgi, unsigned source);
/* GICv2: the senders of each pending SGI of @vcpu, a bit per vCPU; NULL
 * on GICv3 and in an image of an older state layout (every SGI from 0). */
uint8_t *vgic_sgi_sources(struct vcpu *vcpu);
/* No longer pending (a write of GICD_ICPENDR), from any sender. */
void vgic_unpend(struct vcpu *vcpu, uint32_t intid);
/* A guest's access to the pending and active state its own list registers
 * hold (only those of the vCPU running on this core are visible). */
void vgic_lr_state(struct vcpu *vcpu, uint32_t intid, bool *pending, bool *active);
void vgic_lr_clear(struct vcpu *vcpu, uint32_t intid, unsigned drop);
void vgic_lr_set_active(struct vcpu *vcpu, uint32_t intid, const struct vgic_irq *irq);
/* Forgets the vCPU's pending interrupts, ending the hardware ones taken
 * for it (private ones only if it is on this core). */
void vgic_drop_pending(struct vcpu *vcpu, bool private_too);
/* Before entering the guest: move pending interrupts into list registers
 * (vgic_flush() in core/vm.h checks inline whether there is anything). */
void vgic_flush_slow(struct vcpu *vcpu);
/* At a guest's exit: its timer interrupts (virtual, and the EL1 physical
 * one), forwarded but not yet taken, are withdrawn if the timer's output
 * has fallen since (disabled, masked or moved on), as a GIC does for a
 * level interrupt. */
void vgic_timers_resample_slow(struct vcpu *vcpu);
/* Withdraws timer interrupt intid of the running vCPU whose output fell;
 * *active (held for the guest at the GIC) ends false. */
void vgic_timer_withdraw(struct vcpu *vcpu, uint32_t intid, bool *active);
/* Recomputes each vCPU's timer fast-path list register (struct vcpu). */
void vgic_fast_sync(struct vm *vm);
/* A physical interrupt owned by a VM arrived on this core. */
void vgic_forward_hw(struct vm *vm, uint32_t intid);
/* Guest write of ICC_SGI1R_EL1 (GICv3). */
void vgic_sgi1r_write(struct vcpu *vcpu, uint64_t value);
/* Per core, once: maintenance and kick interrupts. */
void vgic_cpu_setup(void);
/* Per core at boot: list registers, maintenance, kick, virtual timer. */
int vgic_cpu_init(void);
struct vcpu *vgic_irq_target(struct vm *vm, uint32_t intid);

/* The VM's distributor and redistributor regions (enum mmio_kind): the
 * register emulation, then the timer fast path brought up to date. */
struct mmio_access;
int vgic_gicd_trap(struct vcpu *vcpu, struct mmio_access *acc, uint64_t offset,
		   void *priv);
int vgic_gicr_trap(struct vcpu *vcpu, struct mmio_access *acc, uint64_t offset,
		   void *priv);

/* Register emulation (vgic_mmio.c). */
int vgic_gicd_access(struct vcpu *vcpu, struct mmio_access *acc,
		     uint64_t offset, void *priv);
int vgic_gicr_access(struct vcpu *vcpu, struct mmio_access *acc,
		     uint64_t offset, void *priv);
struct vgic_irq *vgic_get_irq(struct vm *vm, struct vcpu *vcpu, uint32_t intid);
void vgic_irq_enable_changed(struct vm *vm, struct vcpu *vcpu, uint32_t intid);
void vgic_irq_route_changed(struct vm *vm, uint32_t intid);

/* Snapshot and migration (vgic_state.c): the VM must be paused, or never
 * run. The savers write whole sections; the loaders take parsed views and
 * return 0 or -SHYPER_EINVAL with the reason in why. */
struct mstream_writer;
struct mstream_vgic_dist_view;
struct mstream_vgic_cpu_view;
int vgic_state_save_dist(struct vm *vm, struct mstream_writer *w);
int vgic_state_save_cpu(struct vcpu *vcpu, struct mstream_writer *w);
int vgic_state_load_dist(struct vm *vm, const struct mstream_vgic_dist_view *v, char *why,
			 size_t why_size);
int vgic_state_load_cpu(struct vcpu *vcpu, const struct mstream_vgic_cpu_view *v, char *why,
			size_t why_size);

#endif
