/*
 * A paused vCPU's context in the migration stream's terms (VCPU section,
 * shyper/migrate.h) and back: registers, EL1 system registers, FP/SIMD,
 * virtual timer and PSCI power state.
 */
#ifndef ARCH_VCPU_STATE_H
#define ARCH_VCPU_STATE_H

#include <stddef.h>
#include <stdint.h>

struct vcpu;
struct shyper_mig_vcpu;

/* The vCPU must be off its core (its VM paused). cntvct is left 0. */
void vcpu_state_export(const struct vcpu *vcpu, struct shyper_mig_vcpu *out);
/*
 * Checks @in (parsed, so counts and enums are known good) against what a
 * guest may hold and installs it in the vCPU's saved context; the vCPU
 * then is VCPU_OFF, VCPU_PENDING or VCPU_RUNNING as @in says. 0, or
 * -SHYPER_EINVAL with the reason in @why.
 */
int vcpu_state_import(struct vcpu *vcpu, const struct shyper_mig_vcpu *in, char *why,
		      size_t why_size);

#endif
