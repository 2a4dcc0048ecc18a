/*
 * Host stand-ins for what building and removing VMs reaches outside the
 * sources a host test links (tests/host/vm_host.c): the state root, a
 * made-up board (cores, RAM, a GICv2 or v3 and its interrupts), the MVM
 * (running, its RAM the buffers of its hypercalls), frames and heap blocks
 * from malloc, counted, and the GIC hardware, cross-core calls and logging
 * doing nothing. With tests/host/arch (-Itests/host before
 * -Ihv/arch/aarch64/inc) hv/core/vm.c, vm_cfg.c, the vGIC's and the virtio
 * devices' set-up build and run on the host.
 *
 * Frames and heap blocks are each their own malloc block, so ASan sees an
 * access past one; freeing one that is not allocated, or with another
 * size, aborts. Allocations fail past a budget of frames, or at the n-th
 * one (frames or heap) when asked to.
 */
#ifndef TESTS_HOST_VM_HOST_H
#define TESTS_HOST_VM_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <arch/gic.h>

#define HOST_MVM_BASE 0x50000000ULL /* the MVM's RAM, identity mapped */
#define HOST_MVM_SIZE 0x100000ULL /* a mediated FETCH of the most data fits */
#define HOST_RAM_BASE 0x40000000ULL /* the board's RAM: no passthrough */
#define HOST_RAM_SIZE 0x40000000ULL
#define HOST_GICD_BASE 0x08000000ULL
#define HOST_GICC_BASE 0x08010000ULL
#define HOST_GICH_BASE 0x08030000ULL
#define HOST_GICV_BASE 0x08040000ULL
#define HOST_GICR_BASE 0x080a0000ULL
#define HOST_HV_UART_INTID 33 /* the hypervisor's own: registered */
#define HOST_MVM_IRQ 34	      /* passthrough to the MVM */
#define HOST_VIRT_TIMER 27
#define HOST_PHYS_TIMER 30

struct host_board {
	unsigned gic_version;	/* 2 or 3 */
	bool no_gicv;		/* a GICv2 without a virtual CPU interface */
	unsigned nr_cpus;	/* 1 .. HV_MAX_CPUS */
	uint64_t offline;	/* cores not online (core 0 always is) */
	uint64_t mvm_cores;	/* the MVM's besides core 0 */
	uint32_t nr_irqs;	/* the GIC's interrupt ids */
	size_t frame_budget;	/* frames in use at most; 0: 4096 */
	unsigned alloc_fail_at; /* this allocation fails (from 1); 0: none */
};

/* A fresh state root, board and MVM; forgets every block allocated before
 * (the caller frees its VMs first). */
void host_setup(const struct host_board *b);

/* The MVM's RAM (HOST_MVM_SIZE bytes at HOST_MVM_BASE) and a vCPU of it. */
extern uint8_t *host_mvm_ram;
struct vcpu *host_mvm_vcpu(void);
/* A vCPU of a running guest (not in the VM table): calls only the MVM may
 * make must refuse it. */
struct vcpu *host_guest_vcpu(void);

/* Frames and heap blocks in use, and the blocks behind them. */
extern size_t host_frames_used, host_heap_used;
extern unsigned host_blocks;
/* Interrupts with a handler registered by the code under test. */
extern bool host_irq_handler[GIC_MAX_INTID + 1];
/* Events posted (event_post). */
extern unsigned host_events;

/* Every log line is formatted (so its arguments are read) and, when this
 * is set, printed to stderr. */
extern bool host_log_print;

#endif
