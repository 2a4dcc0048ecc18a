/*
 * PSCI 1.1 (DEN0022D) and SMCCC 1.1 (DEN0028) as a guest sees them. A VM's
 * SYSTEM_OFF and SYSTEM_RESET concern that VM only; for the management VM the
 * policy is that the board follows it (see docs/ARCHITECTURE.md).
 */
#include <arch/psci.h>
#include <arch/sysreg.h>
#include <core/cpu.h>
#include <core/hypercall.h>
#include <core/log.h>
#include <core/state.h>
#include <core/vm.h>
#include <core/vpsci.h>
#include <shyper/psci.h>

#define SMCCC_VERSION 0x80000000U
#define SMCCC_ARCH_FEATURES 0x80000001U
#define SMCCC_VERSION_1_1 0x10001U
#define SMCCC_NOT_SUPPORTED (-1L)


#define PSCI_VERSION_1_1 0x10001U
#define PSCI_AFF_ON 0
#define PSCI_AFF_OFF 1
#define PSCI_AFF_ON_PENDING 2
/* MIGRATE_INFO_TYPE: no Trusted OS needs migrating. */
#define PSCI_TOS_NOT_PRESENT 2

static bool psci_supported(unsigned fn)
{
	switch (fn) {
	case PSCI_FN_VERSION:
	case PSCI_FN_CPU_OFF:
	case PSCI_FN_CPU_ON:
	case PSCI_FN_AFFINITY_INFO:
	case PSCI_FN_MIGRATE_INFO_TYPE:
	case PSCI_FN_SYSTEM_OFF:
	case PSCI_FN_SYSTEM_RESET:
	case PSCI_FN_FEATURES:
		return true;
	}
	return false;
}

static int64_t psci_cpu_on_call(struct vcpu *vcpu, uint64_t mpidr, uint64_t entry,
				uint64_t ctx)
{
	struct vcpu *target = vm_find_vcpu_by_mpidr(vcpu->vm, mpidr & MPIDR_AFF_MASK);

	if (!target)
		return PSCI_INVALID_PARAMETERS;
	if (target->state == VCPU_RUNNING)
		return PSCI_ALREADY_ON;
	if (target->state == VCPU_PENDING)
		return PSCI_ON_PENDING;
	if (vcpu_power_on(target, entry, ctx))
		return PSCI_INTERNAL_FAILURE;
	return PSCI_SUCCESS;
}

static int64_t psci_affinity_info(struct vcpu *vcpu, uint64_t mpidr, uint64_t level)
{
	struct vcpu *target;

	if (level != 0)
		return PSCI_INVALID_PARAMETERS;
	target = vm_find_vcpu_by_mpidr(vcpu->vm, mpidr & MPIDR_AFF_MASK);
	if (!target)
		return PSCI_INVALID_PARAMETERS;
	switch (target->state) {
	case VCPU_RUNNING: return PSCI_AFF_ON;
	case VCPU_PENDING: return PSCI_AFF_ON_PENDING;
	default: return PSCI_AFF_OFF;
	}
}

static void __attribute__((noreturn)) vm_system_event(struct vcpu *vcpu, bool reset)
{
	struct vm *vm = vcpu->vm;

	log_info("vm%u (%s): PSCI %s", vm->id, vm->cfg->name,
		 reset ? "SYSTEM_RESET" : "SYSTEM_OFF");
	/* The management VM owns the board: the board follows it. */
	if (vm_is_mvm(vm)) {
		log_info("the management VM %s: %s the board", reset ? "reset" : "powered off",
			 reset ? "resetting" : "powering off");
		if (reset)
			psci_system_reset();
		psci_system_off();
	}
	/* Any other VM: only that VM stops, or restarts. */
	vm_guest_system_event(vcpu, reset);
}

static void psci_call(struct vcpu *vcpu, struct trap_frame *f, unsigned fn)
{
	int64_t ret;

	switch (fn) {
	case PSCI_FN_VERSION:
		ret = PSCI_VERSION_1_1;
		break;
	case PSCI_FN_CPU_ON:
		ret = psci_cpu_on_call(vcpu, f->x[1], f->x[2], f->x[3]);
		break;
	case PSCI_FN_CPU_OFF:
		vcpu_stop_here();
	case PSCI_FN_AFFINITY_INFO:
		ret = psci_affinity_info(vcpu, f->x[1], f->x[2]);
		break;
	case PSCI_FN_MIGRATE_INFO_TYPE:
		ret = PSCI_TOS_NOT_PRESENT;
		break;
	case PSCI_FN_SYSTEM_OFF:
		vm_system_event(vcpu, false);
	case PSCI_FN_SYSTEM_RESET:
		vm_system_event(vcpu, true);
	case PSCI_FN_FEATURES: {
		uint32_t id = (uint32_t)f->x[1];
		unsigned q;

		if (id == SMCCC_VERSION || (psci_fn(id, &q) && psci_supported(q)))
			ret = PSCI_SUCCESS;
		else
			ret = PSCI_NOT_SUPPORTED;
		break;
	}
	default:
		ret = PSCI_NOT_SUPPORTED;
		break;
	}
	f->x[0] = (uint64_t)ret;
}

void vcall_handle(struct vcpu *vcpu, struct trap_frame *f)
{
	uint32_t id = (uint32_t)f->x[0];
	unsigned fn;

	if (psci_fn(id, &fn)) {
		psci_call(vcpu, f, fn);
		return;
	}
	if (SHYPER_HVC_IS_OURS(id)) {
		hypercall_handle(vcpu, f);
		return;
	}
	switch (id) {
	case SMCCC_VERSION:
		f->x[0] = SMCCC_VERSION_1_1;
		break;
	case SMCCC_ARCH_FEATURES:
	default:
		/* No workaround calls are needed on this hardware model. */
		f->x[0] = (uint64_t)SMCCC_NOT_SUPPORTED;
		break;
	}
}
