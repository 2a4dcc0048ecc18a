/*
 * Synchronous exceptions from a guest: hypercalls and PSCI (HVC, SMC),
 * emulated MMIO (stage-2 data aborts), trapped system registers. Anything
 * else, and any access outside what the VM owns, is reported on the console
 * and turned into an exception inside that guest; the hypervisor goes on.
 */
#include <arch/exception.h>
#include <arch/sysreg.h>
#include <core/cpu.h>
#include <core/dirty_log.h>
#include <core/log.h>
#include <core/vm.h>
#include <core/sched.h>
#include <core/vpsci.h>
#include <dev/vgic.h>
#include <shyper/errno.h>

/* ESR_EL2.ISS for data aborts (Arm ARM D19.2.36, ISS encoding for EC 0x24). */
#define DABT_ISV (1UL << 24)
#define DABT_SAS(iss) (((iss) >> 22) & 0x3)
#define DABT_SSE (1UL << 21)
#define DABT_SRT(iss) (((iss) >> 16) & 0x1f)
#define DABT_SF (1UL << 15)
#define DABT_WNR (1UL << 6)
#define DABT_S1PTW (1UL << 7)
/* DFSC/IFSC bits[5:0]: 0b0001LL translation, 0b0011LL permission fault at
 * level LL (Arm ARM D19.2.36, "ISS encoding for an exception from a Data
 * Abort"; the same codes for Instruction Aborts). */
#define FSC_TYPE_MASK 0x3cUL
#define FSC_TRANSLATION 0x04UL
#define FSC_PERMISSION 0x0cUL
/* PAR_EL1 after AT (Arm ARM D19.2.96): F bit[0] failed, else PA bits[47:12]. */
#define PAR_F (1UL << 0)
#define PAR_PA_MASK 0x0000fffffffff000UL
#define PAGE_OFFSET_MASK 0xfffUL
/* HPFAR_EL2.FIPA holds IPA[51:12] in bits [43:4]. */
#define HPFAR_FIPA_MASK 0xfffffffffff0UL

/* ISS for EC 0x18: trapped MSR/MRS (Arm ARM D19.2.36). */
#define SYSREG_ISS_DIR_READ (1UL << 0)
#define SYSREG_ISS_RT(iss) (((iss) >> 5) & 0x1f)
#define SYSREG_ISS_KEY(iss) ((iss) & 0x3ffc1eUL) /* Op0 Op2 Op1 CRn CRm */
#define SYSREG_KEY(op0, op1, crn, crm, op2)                                  \
	(((uint64_t)(op0) << 20) | ((uint64_t)(op2) << 17) |                 \
	 ((uint64_t)(op1) << 14) | ((uint64_t)(crn) << 10) | ((uint64_t)(crm) << 1))
#define ICC_SGI1R_EL1_KEY SYSREG_KEY(3, 0, 12, 11, 5)

static uint64_t reg_get(const struct trap_frame *f, unsigned r)
{
	return r == 31 ? 0 : f->x[r]; /* register 31 is xzr here */
}

static void reg_set(struct trap_frame *f, unsigned r, uint64_t v)
{
	if (r != 31)
		f->x[r] = v;
}

static void report_and_abort(struct vcpu *vcpu, struct trap_frame *f,
			     const char *what, uint64_t addr)
{
	/* Counted as an abort, not as the MMIO exit it looked like. */
	if (((f->esr >> ESR_EC_SHIFT) & ESR_EC_MASK) == EC_DABT_LOW) {
		vcpu->exit_counts[SHYPER_EXIT_MMIO]--;
		vcpu->exit_counts[SHYPER_EXIT_ABORT]++;
	}
	if (vm_log_allowed(vcpu->vm))
		log_err("vm%u (%s) vcpu%u: %s 0x%lx at pc 0x%lx; injecting an abort",
			vcpu->vm->id, vcpu->vm->cfg->name, vcpu->id, what, addr, f->elr);
	inject_data_abort(f, sysreg_read(far_el2));
}

static uint64_t hpfar_ipa(const struct trap_frame *f)
{
	return ((sysreg_read(hpfar_el2) & HPFAR_FIPA_MASK) << 8) | (f->far & PAGE_OFFSET_MASK);
}

/*
 * The IPA of a stage-2 fault. HPFAR_EL2 is UNKNOWN for a permission fault
 * that is not on a stage-1 table walk (Arm ARM D19.2.55 HPFAR_EL2), so FAR
 * is translated through the guest's own stage 1 instead. False if that
 * fails: the guest changed its tables meanwhile and will fault again.
 */
static bool fault_ipa(const struct trap_frame *f, uint64_t iss, uint64_t *ipa)
{
	uint64_t saved, par;

	if ((iss & FSC_TYPE_MASK) != FSC_PERMISSION || (iss & DABT_S1PTW)) {
		*ipa = hpfar_ipa(f);
		return true;
	}
	saved = sysreg_read(par_el1);
	__asm__ volatile("at s1e1r, %0" :: "r"(f->far) : "memory");
	isb();
	par = sysreg_read(par_el1);
	sysreg_write(par_el1, saved);
	if (par & PAR_F)
		return false;
	*ipa = (par & PAR_PA_MASK) | (f->far & PAGE_OFFSET_MASK);
	return true;
}

/*
 * A stage-2 fault that dirty logging explains (a write-protected page, a
 * block in the middle of its split): the guest re-executes the access, with
 * the PC unchanged and nothing injected. Counted as "other", not as the
 * exit it looked like.
 */
static bool s2_fault_retry(struct vcpu *vcpu, struct trap_frame *f, unsigned counted)
{
	uint64_t iss = f->esr & ESR_ISS_MASK, ipa;
	uint64_t type = iss & FSC_TYPE_MASK;
	bool retry;

	if (type != FSC_TRANSLATION && type != FSC_PERMISSION)
		return false;
	retry = !fault_ipa(f, iss, &ipa) ||
		dirty_log_fault(vcpu->vm, ipa, type == FSC_PERMISSION ? S2_FAULT_PERMISSION :
									S2_FAULT_TRANSLATION);
	if (retry) {
		vcpu->exit_counts[counted]--;
		vcpu->exit_counts[SHYPER_EXIT_OTHER]++;
	}
	return retry;
}

static void handle_dabt(struct vcpu *vcpu, struct trap_frame *f)
{
	uint64_t iss = f->esr & ESR_ISS_MASK;
	uint64_t ipa = hpfar_ipa(f);
	struct mmio_access acc;
	unsigned rt = DABT_SRT(iss);
	int ret;

	/* Never a device: RAM being logged, or the abort it always was. */
	if ((iss & FSC_TYPE_MASK) == FSC_PERMISSION) {
		if (!s2_fault_retry(vcpu, f, SHYPER_EXIT_MMIO))
			report_and_abort(vcpu, f, "write to read-only memory at", ipa);
		return;
	}
	if (!(iss & DABT_ISV) || (iss & DABT_S1PTW)) {
		if (!s2_fault_retry(vcpu, f, SHYPER_EXIT_MMIO))
			report_and_abort(vcpu, f, "unemulatable access to", ipa);
		return;
	}
	acc.addr = ipa;
	acc.size = 1U << DABT_SAS(iss);
	acc.write = iss & DABT_WNR;
	acc.value = acc.write ? reg_get(f, rt) : 0;
	if (acc.write && acc.size < 8)
		acc.value &= (1UL << (acc.size * 8)) - 1;
	ret = vm_mmio_dispatch(vcpu, &acc);
	/* No device there: RAM in the middle of a split is the one exception. */
	if (ret == -SHYPER_ENOENT && s2_fault_retry(vcpu, f, SHYPER_EXIT_MMIO))
		return;
	if (ret) {
		report_and_abort(vcpu, f,
				 ret == -SHYPER_ENOENT ?
					 "access outside its memory and devices at" :
					 "bad access to an emulated register at",
				 ipa);
		return;
	}
	if (!acc.write && rt != 31) {
		/* Never hand the guest more bits than it asked for: shift the
		 * value to the top, then back, zero- or sign-extending. */
		unsigned shift = 64 - acc.size * 8;
		uint64_t v = (iss & DABT_SSE) ? (uint64_t)((int64_t)(acc.value << shift) >> shift) :
						(acc.value << shift) >> shift;

		f->x[rt] = (iss & DABT_SF) ? v : (uint32_t)v;
	}
	f->elr += 4;
}

static void handle_sysreg(struct vcpu *vcpu, struct trap_frame *f)
{
	uint64_t iss = f->esr & ESR_ISS_MASK;
	unsigned rt = SYSREG_ISS_RT(iss);
	bool read = iss & SYSREG_ISS_DIR_READ;

	if (SYSREG_ISS_KEY(iss) == ICC_SGI1R_EL1_KEY && !read)
		vgic_sgi1r_write(vcpu, reg_get(f, rt));
	else if (read)
		reg_set(f, rt, 0); /* other trapped registers (PMU, debug) read as zero */
	f->elr += 4;
}

static unsigned exit_reason(unsigned ec)
{
	switch (ec) {
	case EC_HVC64: return SHYPER_EXIT_HVC;
	case EC_SMC64: return SHYPER_EXIT_SMC;
	case EC_DABT_LOW: return SHYPER_EXIT_MMIO; /* an abort, if nothing is there */
	case EC_SYSREG: return SHYPER_EXIT_SYSREG;
	case EC_WFX: return SHYPER_EXIT_WFX;
	case EC_IABT_LOW: return SHYPER_EXIT_ABORT;
	default: return SHYPER_EXIT_OTHER;
	}
}

/* The rarer exits, kept out of the hot function so that it stays small. */
static void __attribute__((noinline)) sync_other(struct vcpu *vcpu, struct trap_frame *f,
						 unsigned ec)
{
	vcpu->exit_counts[exit_reason(ec)]++;
	switch (ec) {
	case EC_SYSREG:
		handle_sysreg(vcpu, f);
		break;
	case EC_WFX:
		f->elr += 4;
		sched_wfi(f); /* trapped on shared cores: give the core away */
		break;
	case EC_IABT_LOW:
		if (s2_fault_retry(vcpu, f, SHYPER_EXIT_ABORT))
			break;
		if (vm_log_allowed(vcpu->vm))
			log_err("vm%u (%s) vcpu%u: instruction fetch outside its memory at 0x%lx; injecting an abort",
				vcpu->vm->id, vcpu->vm->cfg->name, vcpu->id,
				hpfar_ipa(f));
		inject_prefetch_abort(f, sysreg_read(far_el2));
		break;
	default:
		if (vm_log_allowed(vcpu->vm))
			log_warn("vm%u vcpu%u: unhandled exception class 0x%x (ESR 0x%lx) at pc 0x%lx",
				 vcpu->vm->id, vcpu->id, ec, f->esr, f->elr);
		inject_undef(f);
		break;
	}
}

void guest_sync_exception(struct trap_frame *f)
{
	struct vcpu *vcpu = current_vcpu();
	unsigned ec = (f->esr >> ESR_EC_SHIFT) & ESR_EC_MASK;

	if (__builtin_expect(!vcpu, 0))
		panic_frame(f, "exception from a lower exception level with no vCPU");
	vgic_timers_resample(vcpu); /* before any emulation reads its state */
	/* The hot exits first: emulated MMIO and hypercalls. */
	if (ec == EC_DABT_LOW) {
		vcpu->exit_counts[SHYPER_EXIT_MMIO]++;
		handle_dabt(vcpu, f);
	} else if (ec == EC_HVC64 || ec == EC_SMC64) {
		vcpu->exit_counts[ec == EC_HVC64 ? SHYPER_EXIT_HVC : SHYPER_EXIT_SMC]++;
		if (ec == EC_SMC64)
			f->elr += 4; /* a trapped SMC returns to itself; HVC is past */
		vcall_handle(vcpu, f);
	} else {
		sync_other(vcpu, f, ec);
	}
	sched_exit_check(f);
	vgic_flush(current_vcpu());
}

void guest_irq_exit(struct trap_frame *f)
{
	struct vcpu *vcpu = current_vcpu();

	if (!vcpu)
		return;
	vcpu->exit_counts[SHYPER_EXIT_IRQ]++;
	vgic_timers_resample(vcpu);
	sched_exit_check(f); /* stops, slices, newly started vCPUs */
	vgic_flush(current_vcpu());
}
