/*
 * vCPU state for snapshots and migration (arch/vcpu_state.h). A paused
 * vCPU's context (vcpu_ctx.c) is complete: the core saved it when it took
 * the vCPU off. The list registers are not carried here: the vGIC folds
 * them into its own state (dev/vgic_state.c).
 */
#include <arch/vcpu_ptimer.h>
#include <arch/vcpu_state.h>
#include <core/vm.h>
#include <lib/fmt.h>
#include <lib/string.h>
#include <shyper/errno.h>
#include <shyper/migrate.h>

/* SPSR_EL2.M[4:0] (Arm ARM C5.2.19): the modes a guest may be entered in.
 * Anything else (EL2, AArch32) would leave the guest's sandbox. */
#define SPSR_M_MASK 0x1fUL
#define SPSR_M_EL0T 0x0UL
#define SPSR_M_EL1T 0x4UL
#define SPSR_M_EL1H 0x5UL
/* CNTV_CTL_EL0 (Arm ARM D13.8.x): ENABLE and IMASK; ISTATUS is read-only. */
#define CNTV_CTL_WRITABLE 0x3UL
#define CNTV_CTL_ISTATUS 0x4UL

struct el1_map {
	enum el1_reg reg;
	size_t off; /* in struct shyper_mig_vcpu */
};

#define MAP(r, f) { r, offsetof(struct shyper_mig_vcpu, f) }
static const struct el1_map el1_map[] = {
	MAP(EL1_SCTLR, sctlr_el1), MAP(EL1_TTBR0, ttbr0_el1), MAP(EL1_TTBR1, ttbr1_el1),
	MAP(EL1_TCR, tcr_el1), MAP(EL1_MAIR, mair_el1), MAP(EL1_AMAIR, amair_el1),
	MAP(EL1_VBAR, vbar_el1), MAP(EL1_CONTEXTIDR, contextidr_el1),
	MAP(EL1_TPIDR_EL0, tpidr_el0), MAP(EL1_TPIDRRO_EL0, tpidrro_el0),
	MAP(EL1_TPIDR_EL1, tpidr_el1), MAP(EL1_SP_EL0, sp_el0), MAP(EL1_SP_EL1, sp_el1),
	MAP(EL1_ELR, elr_el1), MAP(EL1_SPSR, spsr_el1), MAP(EL1_ESR, esr_el1),
	MAP(EL1_FAR, far_el1), MAP(EL1_AFSR0, afsr0_el1), MAP(EL1_AFSR1, afsr1_el1),
	MAP(EL1_PAR, par_el1), MAP(EL1_CPACR, cpacr_el1), MAP(EL1_CNTKCTL, cntkctl_el1),
	MAP(EL1_CSSELR, csselr_el1), MAP(EL1_MDSCR, mdscr_el1),
};
_Static_assert(sizeof(el1_map) / sizeof(el1_map[0]) == EL1_NR_REGS, "every EL1 register");
_Static_assert(sizeof(((struct vcpu_ctx *)0)->fpsimd) ==
	       sizeof(((struct shyper_mig_vcpu *)0)->q), "q0..q31");

void vcpu_state_export(const struct vcpu *vcpu, struct shyper_mig_vcpu *out)
{
	const struct vcpu_ctx *ctx = &vcpu->ctx;

	memset(out, 0, sizeof(*out));
	out->vmpidr_el2 = vcpu->sys.vmpidr_el2;
	if (vcpu->state == VCPU_OFF) {
		out->psci_state = SHYPER_MIG_PSCI_OFF;
		return;
	}
	if (vcpu->state == VCPU_PENDING) {
		/* CPU_ON accepted: where it will start, and its x0. */
		out->psci_state = SHYPER_MIG_PSCI_ON_PENDING;
		out->pc = vcpu->entry;
		out->x[0] = vcpu->context;
		return;
	}
	out->psci_state = SHYPER_MIG_PSCI_ON;
	memcpy(out->x, ctx->regs.x, sizeof(out->x));
	out->pc = ctx->regs.elr;
	out->pstate = ctx->regs.spsr;
	for (unsigned i = 0; i < EL1_NR_REGS; i++)
		memcpy((uint8_t *)out + el1_map[i].off, &ctx->el1[el1_map[i].reg],
		       sizeof(uint64_t));
	memcpy(out->q, ctx->fpsimd, sizeof(out->q));
	out->fpsr = ctx->fpsr;
	out->fpcr = ctx->fpcr;
	out->cntv_ctl = ctx->cntv_ctl;
	out->cntv_cval = ctx->cntv_cval;
}

int vcpu_state_import(struct vcpu *vcpu, const struct shyper_mig_vcpu *in, char *why,
		      size_t why_size)
{
	struct vcpu_ctx *ctx = &vcpu->ctx;
	uint64_t mode = in->pstate & SPSR_M_MASK;

	if (in->psci_state == SHYPER_MIG_PSCI_ON && mode != SPSR_M_EL0T &&
	    mode != SPSR_M_EL1T && mode != SPSR_M_EL1H) {
		fmt_snprintf(why, why_size, "PSTATE 0x%lx is not an AArch64 EL0 or EL1 mode",
			 in->pstate);
		return -SHYPER_EINVAL;
	}
	if (in->cntv_ctl & ~(CNTV_CTL_WRITABLE | CNTV_CTL_ISTATUS)) {
		fmt_snprintf(why, why_size, "CNTV_CTL 0x%lx has unknown bits", in->cntv_ctl);
		return -SHYPER_EINVAL;
	}
	memset(ctx, 0, sizeof(*ctx));
	vcpu_ptimer_clear(vcpu); /* a VCPU_PTIMER section may follow */
	vcpu->entry = vcpu->context = 0;
	vcpu->blocked = false;
	vcpu->stop_req = false;
	vcpu->run_since = 0;
	switch (in->psci_state) {
	case SHYPER_MIG_PSCI_OFF:
		vcpu->state = VCPU_OFF;
		return 0;
	case SHYPER_MIG_PSCI_ON_PENDING:
		vcpu->entry = in->pc;
		vcpu->context = in->x[0];
		vcpu->state = VCPU_PENDING;
		return 0;
	}
	memcpy(ctx->regs.x, in->x, sizeof(ctx->regs.x));
	ctx->regs.elr = in->pc;
	ctx->regs.spsr = in->pstate;
	for (unsigned i = 0; i < EL1_NR_REGS; i++)
		memcpy(&ctx->el1[el1_map[i].reg], (const uint8_t *)in + el1_map[i].off,
		       sizeof(uint64_t));
	memcpy(ctx->fpsimd, in->q, sizeof(ctx->fpsimd));
	ctx->fpsr = in->fpsr;
	ctx->fpcr = in->fpcr;
	ctx->cntv_ctl = in->cntv_ctl & CNTV_CTL_WRITABLE;
	ctx->cntv_cval = in->cntv_cval;
	vcpu->sys.sctlr_el1 = in->sctlr_el1;
	vcpu->state = VCPU_RUNNING;
	return 0;
}
