/* Virtual machines and their vCPUs. */
#ifndef CORE_VM_H
#define CORE_VM_H

#include <arch/exception.h>
#include <arch/spinlock.h>
#include <arch/stage2.h>
#include <core/vm_config.h>
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

struct vcpu {
	unsigned id; /* within the VM; also its MPIDR Aff0 */
	unsigned pcpu;
	struct vm *vm;
	volatile enum vcpu_state state;
	uint64_t entry, context; /* where CPU_ON starts it, its x0 */
	struct vcpu_sysregs sys;
	struct vgic_cpu vgic;
	uint64_t exits;
};

struct mmio_access {
	uint64_t addr; /* IPA */
	unsigned size; /* bytes: 1, 2, 4 or 8 */
	bool write;
	uint64_t value; /* written value, or where the read result goes */
};

/* Returns 0, or a negative error: the access then faults into the guest. */
typedef int (*mmio_handler_t)(struct vcpu *vcpu, struct mmio_access *acc,
			      uint64_t offset, void *priv);

struct mmio_region {
	uint64_t base, size;
	mmio_handler_t handler;
	void *priv;
};

enum vm_state {
	VM_FREE = 0,
	VM_CREATED,
	VM_RUNNING,
	VM_STOPPED,
};

struct vm {
	unsigned id;
	enum vm_state state;
	const struct vm_config *cfg;
	uint16_t vmid;
	struct stage2 s2;
	unsigned nr_vcpus;
	struct vcpu vcpus[VM_MAX_VCPUS];
	struct vgic_dist vgic;
	struct mmio_region mmio[VM_MAX_MMIO_HANDLERS];
	unsigned nr_mmio;
	spinlock_t lock;
};

int vm_create(const struct vm_config *cfg, struct vm **out);
int vm_add_mmio(struct vm *vm, uint64_t base, uint64_t size, mmio_handler_t h,
		void *priv);
struct vcpu *vm_find_vcpu_by_mpidr(struct vm *vm, uint64_t mpidr);
/* Runs an emulated-MMIO access; -SHYPER_ENOENT when no device is there. */
int vm_mmio_dispatch(struct vcpu *vcpu, struct mmio_access *acc);
/* Starts vCPU 0 on this core; never returns. */
void __attribute__((noreturn)) vm_boot_here(struct vm *vm, uint64_t entry,
					    uint64_t x0);

/* vCPU entry and exits (vcpu.c). */
struct vcpu *current_vcpu(void);
void __attribute__((noreturn)) vcpu_run(struct vcpu *vcpu);
/* Asks the core of `vcpu` to start it (PSCI CPU_ON). */
int vcpu_power_on(struct vcpu *vcpu, uint64_t entry, uint64_t context);
void __attribute__((noreturn)) vcpu_stop_here(void);
void guest_sync_exception(struct trap_frame *frame);
void guest_irq_exit(struct trap_frame *frame);
void inject_data_abort(struct trap_frame *frame, uint64_t far);
void inject_undef(struct trap_frame *frame);

#endif
