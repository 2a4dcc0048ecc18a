/*
 * The EL1 physical timer of a vCPU (CNTP_*): the guest programs the
 * hardware timer directly (CNTHCTL_EL2.EL1PCEN), the hypervisor switches
 * it with the vCPU and forwards its interrupt (the board's non-secure
 * physical timer PPI) as a hardware interrupt whose EOI by the guest ends
 * it at the GIC, as for the virtual timer. Its registers live in layout 3
 * of the state root (struct hv_state_v3), the PPI's active state in
 * ctx.ptimer_active (read at every exit); an image of an older layout traps
 * the registers and reads them as zero, as before.
 *
 * The physical counter is the board's: it has no offset (FEAT_ECV is not
 * assumed), so it does not continue across a migration the way the
 * virtual counter does.
 */
#ifndef ARCH_VCPU_PTIMER_H
#define ARCH_VCPU_PTIMER_H

#include <core/state.h>
#include <core/vm.h>
#include <shyper/errno.h>
#include <shyper/migrate.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CNTHCTL_EL2 (non-VHE): EL1 reads the physical counter; with layout 3 it
 * also has the physical timer. */
#define CNTHCTL_EL1PCTEN (1UL << 0)
#define CNTHCTL_EL1PCEN (1UL << 1)

#if HV_STATE_VERSION >= 3
#define CNTHCTL_GUEST (CNTHCTL_EL1PCTEN | CNTHCTL_EL1PCEN)

static inline struct vcpu_ptimer *vcpu_ptimer_of(const struct vcpu *v)
{
	return &hv.v3.ptimer[v->vm->id][v->id];
}

/* The vCPU comes off its core: its timer stopped there, its interrupt
 * (if the guest holds it) no longer active for whoever comes next. */
void vcpu_ptimer_switch_out(struct vcpu *v);
/* Onto this core: before its list registers (a HW one may name the PPI). */
void vcpu_ptimer_switch_in(const struct vcpu *v);
/* A vCPU starting fresh: timer off, nothing active. */
void vcpu_ptimer_reset(struct vcpu *v);
/* Its saved state zeroed (a vCPU loaded from a stream; not on a core). */
void vcpu_ptimer_clear(struct vcpu *v);
/* ENABLE set, IMASK clear, deadline passed (for a vCPU off its core). */
bool vcpu_ptimer_due(const struct vcpu *v);
/* At an exit with ctx.ptimer_active: its interrupt withdrawn if the guest
 * stopped the timer before taking it (the line fell). */
void vcpu_ptimer_resample(struct vcpu *v);
/* Every core: the PPI's handler, enabled at the GIC. */
void vcpu_ptimer_cpu_init(void);
/* A paused vCPU's timer for the migration stream (VCPU_PTIMER): false if
 * the guest never set it (no section is written). */
bool vcpu_ptimer_export(const struct vcpu *v, struct shyper_mig_ptimer *out,
			uint64_t cntpct);
/* Loaded after the vCPU's VCPU section (parsed and checked): the time left
 * to its deadline is kept on this board's counter. */
int vcpu_ptimer_import(struct vcpu *v, const struct shyper_mig_ptimer *in, char *why,
		       size_t why_size);
/* The state root's layout 3 part for VMs built before it existed. */
void vcpu_ptimer_adopt_all(void);
void vcpu_ptimer_drop_all(void);
#else
#define CNTHCTL_GUEST CNTHCTL_EL1PCTEN

static inline void vcpu_ptimer_switch_out(struct vcpu *v) { (void)v; }
static inline void vcpu_ptimer_switch_in(const struct vcpu *v) { (void)v; }
static inline void vcpu_ptimer_reset(struct vcpu *v) { (void)v; }
static inline void vcpu_ptimer_clear(struct vcpu *v) { (void)v; }
static inline bool vcpu_ptimer_due(const struct vcpu *v) { (void)v; return false; }
static inline void vcpu_ptimer_resample(struct vcpu *v) { (void)v; }
static inline void vcpu_ptimer_cpu_init(void) { }
static inline bool vcpu_ptimer_export(const struct vcpu *v, struct shyper_mig_ptimer *out,
				      uint64_t cntpct)
{
	(void)v;
	(void)out;
	(void)cntpct;
	return false;
}
int vcpu_ptimer_import(struct vcpu *v, const struct shyper_mig_ptimer *in, char *why,
		       size_t why_size);
#endif

#endif
