/*
 * Saving and restoring a vCPU on its core: general registers (the exception
 * frame), EL1 system registers, FP/SIMD, the virtual timer and the GIC's
 * virtual interface (list registers, VMCR, active priorities). The virtual
 * timer is stopped while the vCPU is away, so it cannot fire into another.
 */
#include <arch/gic.h>
#include <arch/sysreg.h>
#include <arch/vcpu_ctx.h>
#include <arch/vgic_hw.h>
#include <lib/string.h>

#define GICH_VMCR 0x008
#define GICH_APR 0x0f0

#define SAVE(i, reg) ctx->el1[i] = sysreg_read(reg)
#define LOAD(i, reg) sysreg_write(reg, ctx->el1[i])

static void el1_save(struct vcpu_ctx *ctx)
{
	SAVE(EL1_SCTLR, sctlr_el1); SAVE(EL1_TTBR0, ttbr0_el1);
	SAVE(EL1_TTBR1, ttbr1_el1); SAVE(EL1_TCR, tcr_el1);
	SAVE(EL1_MAIR, mair_el1); SAVE(EL1_AMAIR, amair_el1);
	SAVE(EL1_VBAR, vbar_el1); SAVE(EL1_CONTEXTIDR, contextidr_el1);
	SAVE(EL1_TPIDR_EL0, tpidr_el0); SAVE(EL1_TPIDRRO_EL0, tpidrro_el0);
	SAVE(EL1_TPIDR_EL1, tpidr_el1); SAVE(EL1_SP_EL0, sp_el0);
	SAVE(EL1_SP_EL1, sp_el1); SAVE(EL1_ELR, elr_el1);
	SAVE(EL1_SPSR, spsr_el1); SAVE(EL1_ESR, esr_el1);
	SAVE(EL1_FAR, far_el1); SAVE(EL1_AFSR0, afsr0_el1);
	SAVE(EL1_AFSR1, afsr1_el1); SAVE(EL1_PAR, par_el1);
	SAVE(EL1_CPACR, cpacr_el1); SAVE(EL1_CNTKCTL, cntkctl_el1);
	SAVE(EL1_CSSELR, csselr_el1); SAVE(EL1_MDSCR, mdscr_el1);
}

static void el1_restore(const struct vcpu_ctx *ctx)
{
	LOAD(EL1_SCTLR, sctlr_el1); LOAD(EL1_TTBR0, ttbr0_el1);
	LOAD(EL1_TTBR1, ttbr1_el1); LOAD(EL1_TCR, tcr_el1);
	LOAD(EL1_MAIR, mair_el1); LOAD(EL1_AMAIR, amair_el1);
	LOAD(EL1_VBAR, vbar_el1); LOAD(EL1_CONTEXTIDR, contextidr_el1);
	LOAD(EL1_TPIDR_EL0, tpidr_el0); LOAD(EL1_TPIDRRO_EL0, tpidrro_el0);
	LOAD(EL1_TPIDR_EL1, tpidr_el1); LOAD(EL1_SP_EL0, sp_el0);
	LOAD(EL1_SP_EL1, sp_el1); LOAD(EL1_ELR, elr_el1);
	LOAD(EL1_SPSR, spsr_el1); LOAD(EL1_ESR, esr_el1);
	LOAD(EL1_FAR, far_el1); LOAD(EL1_AFSR0, afsr0_el1);
	LOAD(EL1_AFSR1, afsr1_el1); LOAD(EL1_PAR, par_el1);
	LOAD(EL1_CPACR, cpacr_el1); LOAD(EL1_CNTKCTL, cntkctl_el1);
	LOAD(EL1_CSSELR, csselr_el1); LOAD(EL1_MDSCR, mdscr_el1);
}

static void vgic_save(struct vcpu_ctx *ctx)
{
	unsigned n = vgic_hw_nr_lrs();

	for (unsigned i = 0; i < n && i < VCPU_CTX_MAX_LRS; i++) {
		struct lr empty = { 0 };

		ctx->lr[i] = vgic_hw_raw_lr(i);
		vgic_hw_write_lr(i, &empty);
	}
	if (gic_version() == 3) {
		ctx->vmcr = sysreg_read(ICH_VMCR_EL2);
		ctx->apr[0] = sysreg_read(ICH_AP0R0_EL2);
		ctx->apr[1] = sysreg_read(ICH_AP1R0_EL2);
	} else {
		ctx->vmcr = vgic_hw_gich_read(GICH_VMCR);
		ctx->apr[0] = vgic_hw_gich_read(GICH_APR);
	}
}

static void vgic_restore(const struct vcpu_ctx *ctx)
{
	unsigned n = vgic_hw_nr_lrs();

	if (gic_version() == 3) {
		sysreg_write(ICH_VMCR_EL2, ctx->vmcr);
		sysreg_write(ICH_AP0R0_EL2, ctx->apr[0]);
		sysreg_write(ICH_AP1R0_EL2, ctx->apr[1]);
	} else {
		vgic_hw_gich_write(GICH_VMCR, (uint32_t)ctx->vmcr);
		vgic_hw_gich_write(GICH_APR, (uint32_t)ctx->apr[0]);
	}
	for (unsigned i = 0; i < n && i < VCPU_CTX_MAX_LRS; i++)
		vgic_hw_set_raw_lr(i, ctx->lr[i]);
}

/* A fresh vCPU must not inherit the last one's priority mask or active
 * priorities: an interrupt left active there would block its own. */
void vcpu_ctx_reset_vgic(void)
{
	if (gic_version() == 3) {
		sysreg_write(ICH_VMCR_EL2, 0);
		sysreg_write(ICH_AP0R0_EL2, 0);
		sysreg_write(ICH_AP1R0_EL2, 0);
	} else {
		vgic_hw_gich_write(GICH_VMCR, 0);
		vgic_hw_gich_write(GICH_APR, 0);
	}
}

void vcpu_ctx_save(struct vcpu_ctx *ctx, const struct trap_frame *frame)
{
	memcpy(&ctx->regs, frame, sizeof(*frame));
	el1_save(ctx);
	ctx->cntv_ctl = sysreg_read(cntv_ctl_el0);
	ctx->cntv_cval = sysreg_read(cntv_cval_el0);
	sysreg_write(cntv_ctl_el0, 0); /* no firing for someone else */
	fpsimd_save(ctx->fpsimd);
	ctx->fpcr = sysreg_read(fpcr);
	ctx->fpsr = sysreg_read(fpsr);
	vgic_save(ctx);
	isb();
}

void vcpu_ctx_restore(const struct vcpu_ctx *ctx, struct trap_frame *frame)
{
	memcpy(frame, &ctx->regs, sizeof(*frame));
	el1_restore(ctx);
	fpsimd_restore(ctx->fpsimd);
	sysreg_write(fpcr, ctx->fpcr);
	sysreg_write(fpsr, ctx->fpsr);
	vgic_restore(ctx);
	sysreg_write(cntv_cval_el0, ctx->cntv_cval);
	sysreg_write(cntv_ctl_el0, ctx->cntv_ctl);
	isb();
}
