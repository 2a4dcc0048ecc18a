/*
 * Inter-VM communication (core/ivc.c): channels (shared frames mapped into
 * two VMs' stage 2), doorbells, message queues and keep-alive. Per-VM state
 * lives in struct vm (vm->ivc), the rest in the state root (hv.ivc), so a
 * live update carries all of it.
 */
#ifndef CORE_IVC_H
#define CORE_IVC_H

#include <arch/exception.h>
#include <arch/spinlock.h>
#include <core/ivc_queue.h>
#include <shyper/hypercall.h>
#include <shyper/ivc.h>
#include <stdbool.h>
#include <stdint.h>

/* The core whose EL2 timer checks keep-alive: the MVM's, never shared. */
#define IVC_KA_CPU 0
/* Asks IVC_KA_CPU to re-arm its keep-alive deadline. */
#define SGI_IVC_KICK 6

/* A channel declared by its owner's configuration. */
struct ivc_channel {
	bool used;
	char name[SHYPER_NAME_MAX];
	uint32_t peer;
	uint32_t irq;
	uint64_t ipa;	   /* in the owner */
	uint64_t peer_ipa; /* in the peer (== pa for the MVM) */
	uint64_t pa;	   /* contiguous frames, zeroed */
	uint64_t size;
};

struct vm_ivc {
	struct ivc_channel chan[SHYPER_IVC_CHANNELS_PER_VM];
	struct ivc_queue rx;
	struct ivc_keepalive ka;
};

/* In the state root: the lock over every VM's ivc state, and the
 * keep-alive timer of IVC_KA_CPU. */
struct ivc_state {
	spinlock_t lock;
	bool ka_timer_on;
	uint64_t ka_deadline;
};

struct vm;
struct vcpu;
struct vm_fdt_desc;

/* Boot core, before the MVM starts: the kick SGI. */
void ivc_init(void);
int64_t hc_ivc(struct vcpu *caller, struct trap_frame *f, unsigned fn);
/* The EL2 timer fired: true when it was the keep-alive deadline. */
bool ivc_timer_irq(void);
/* The VM stops (shutdown, PSCI off/reset): keep-alive and queue end. */
void ivc_vm_stopped(struct vm *vm);
/* A paused VM runs again: its keep-alive period starts now. */
void ivc_vm_resumed(struct vm *vm);
/* The VM is removed: channels on either side go, frames scrubbed. */
void ivc_vm_destroy(struct vm *vm);
/* Its channels and doorbell interrupt for the generated device tree. */
void ivc_fdt_describe(struct vm *vm, struct vm_fdt_desc *d);

#endif
