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
	bool vtimer_active; /* the virtual timer PPI, active for this vCPU */
	/* The same for the EL1 physical timer's PPI (arch/vcpu_ptimer.h). In
	 * what was padding: the layout of every older image is unchanged. */
	bool ptimer_active;
};

_Static_assert(sizeof(struct vcpu_ctx) ==
		       ((__builtin_offsetof(struct vcpu_ctx, vtimer_active) + 8) & ~7UL),
	       "ptimer_active sits in vcpu_ctx's tail padding");

/* Moves the running vCPU's state from the core into `ctx`, and back. */
void vcpu_ctx_save(struct vcpu_ctx *ctx, const struct trap_frame *frame);
void vcpu_ctx_restore(const struct vcpu_ctx *ctx, struct trap_frame *frame);

/* Clears the virtual interface's VMCR and active priorities. */
void vcpu_ctx_reset_vgic(void);

/* FP/SIMD registers (fpsimd.S): the hypervisor itself never uses them. */
void fpsimd_save(uint64_t *regs);
void fpsimd_restore(const uint64_t *regs);

#endif
