/*
 * Everything of a vCPU that lives in the core's registers while it runs, so
 * that several vCPUs can take turns on one core (and later be migrated).
 */
#ifndef ARCH_VCPU_CTX_H
#define ARCH_VCPU_CTX_H

#include <arch/exception.h>
#include <stdbool.h>
#include <stdint.h>

#define VCPU_CTX_MAX_LRS 16

enum el1_reg {
	EL1_SCTLR, EL1_TTBR0, EL1_TTBR1, EL1_TCR, EL1_MAIR, EL1_AMAIR, EL1_VBAR,
	EL1_CONTEXTIDR, EL1_TPIDR_EL0, EL1_TPIDRRO_EL0, EL1_TPIDR_EL1, EL1_SP_EL0,
	EL1_SP_EL1, EL1_ELR, EL1_SPSR, EL1_ESR, EL1_FAR, EL1_AFSR0, EL1_AFSR1,
	EL1_PAR, EL1_CPACR, EL1_CNTKCTL, EL1_CSSELR, EL1_MDSCR,
	EL1_NR_REGS
};

struct vcpu_ctx {
	struct trap_frame regs;
	uint64_t el1[EL1_NR_REGS];
	uint64_t cntv_ctl, cntv_cval;
	uint64_t fpsimd[64]; /* q0..q31 */
	uint64_t fpcr, fpsr;
	uint64_t lr[VCPU_CTX_MAX_LRS];
	uint64_t vmcr;
	uint64_t apr[4];
	bool vtimer_active; /* the physical timer PPI, active for this vCPU */
};

/* Moves the running vCPU's state from the core into `ctx`, and back. */
void vcpu_ctx_save(struct vcpu_ctx *ctx, const struct trap_frame *frame);
void vcpu_ctx_restore(const struct vcpu_ctx *ctx, struct trap_frame *frame);

/* Clears the virtual interface's VMCR and active priorities. */
void vcpu_ctx_reset_vgic(void);

/* FP/SIMD registers (fpsimd.S): the hypervisor itself never uses them. */
void fpsimd_save(uint64_t *regs);
void fpsimd_restore(const uint64_t *regs);

#endif
