/*
 * Entering a guest: the EL2 controls that confine it (HCR_EL2, stage 2, timer
 * and debug traps), the EL1 state it starts with, and the register frame the
 * vectors restore on the way out.
 */
#include <arch/asm.h>
#include <arch/exception.h>
#include <arch/stage2.h>
#include <arch/sysreg.h>
#include <arch/timer.h>
#include <arch/mmu.h>
#include <arch/gic.h>
#include <core/cpu.h>
#include <core/irq.h>
#include <core/smp.h>
#include <core/state.h>
#include <core/update.h>
#include <core/vm.h>
#include <dev/vgic.h>
#include <arch/vgic_hw.h>
#include <arch/vcpu_ctx.h>
#include <arch/vcpu_ptimer.h>
#include <core/sched.h>
#include <lib/string.h>

_Static_assert(__builtin_offsetof(struct cpu, vcpu) == CPU_VCPU, "CPU_VCPU");
_Static_assert(__builtin_offsetof(struct cpu, preack) == CPU_PREACK, "CPU_PREACK");
_Static_assert(__builtin_offsetof(struct vcpu, fast_timer_lr) == VCPU_FAST_LR, "VCPU_FAST_LR");
_Static_assert(__builtin_offsetof(struct vcpu, fast_timer_exits) == VCPU_FAST_EXITS,
	       "VCPU_FAST_EXITS");
_Static_assert(__builtin_offsetof(struct vcpu, ctx.vtimer_active) == VCPU_VTIMER_ACTIVE,
	       "VCPU_VTIMER_ACTIVE");

/* HCR_EL2 (Arm ARM D19.2.48) bits for a running guest. */
#define HCR_VM (1UL << 0)
#define HCR_SWIO (1UL << 1)
#define HCR_FMO (1UL << 3)
#define HCR_IMO (1UL << 4)
#define HCR_AMO (1UL << 5)
#define HCR_FB (1UL << 9)
#define HCR_BSU_INNER (1UL << 10)
#define HCR_TWI (1UL << 13)
#define HCR_TSC (1UL << 19)
#define HCR_RW (1UL << 31)
#define HCR_GUEST (HCR_VM | HCR_SWIO | HCR_FMO | HCR_IMO | HCR_AMO | HCR_FB | \
		   HCR_BSU_INNER | HCR_TSC | HCR_RW)

/* CPTR_EL2 (non-VHE): RES1 bits; FP/SIMD not trapped (TFP = 0). */
#define CPTR_EL2_RES1 0x33ffUL
/*
 * MDCR_EL2: every PMU and debug register access of a VM traps and reads as
 * zero, writes are ignored (trap.c). The PMU's counters would let a VM
 * time another's cache use on a shared core and cluster, and the debug
 * registers are not switched with the vCPU. HPMN keeps every counter in
 * the guests' range, as the reset value does.
 */
#define MDCR_TPMCR (1UL << 5)
#define MDCR_TPM (1UL << 6)
#define MDCR_TDA (1UL << 9)
#define MDCR_TDOSA (1UL << 10)
#define MDCR_TDRA (1UL << 11)
#define MDCR_GUEST (MDCR_TPMCR | MDCR_TPM | MDCR_TDA | MDCR_TDOSA | MDCR_TDRA)
/* A VM granted the PMU (SHYPER_VM_F_PMU) on a core of its own: only the
 * debug registers trap. */
#define MDCR_GUEST_PMU (MDCR_TDA | MDCR_TDOSA | MDCR_TDRA)
#define PMCR_N(pmcr) (((pmcr) >> 11) & 0x1f)
#define PMCR_P (1UL << 1)
#define PMCR_C (1UL << 2)
/* SCTLR_EL1 RES1 bits, MMU and caches off: the state Linux expects at entry. */
#define SCTLR_EL1_RESET 0x30d00800UL
#define VMPIDR_RES1 (1UL << 31)
/* SPSR for EL1h with D, A, I and F masked. */
#define SPSR_EL1H_MASKED 0x3c5UL

static struct trap_frame *guest_frame(void)
{
	uint64_t top = (uint64_t)hv_stacks + (this_cpu_id() + 1UL) * HV_STACK_SIZE;

	return (struct trap_frame *)(top - sizeof(struct trap_frame));
}

/* The EL2 controls that confine this vCPU's VM on this core. */
static void vcpu_load_el2(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	/* A core shared by several vCPUs traps WFI so a waiting one yields. */
	bool twi = vm->cfg->trap_wfi || sched_core_shared(vcpu->pcpu);

	vcpu->sys.vmpidr_el2 = VMPIDR_RES1 | vcpu->id;
	sysreg_write(vtcr_el2, stage2_vtcr(&vm->s2, mmu_pa_bits()));
	sysreg_write(vttbr_el2, stage2_vttbr(&vm->s2, vm->vmid));
	sysreg_write(hcr_el2, HCR_GUEST | (twi ? HCR_TWI : 0));
	sysreg_write(vpidr_el2, sysreg_read(midr_el1));
	sysreg_write(vmpidr_el2, vcpu->sys.vmpidr_el2);
	sysreg_write(cptr_el2, CPTR_EL2_RES1);
	sysreg_write(mdcr_el2, (vm->cfg->pmu && !sched_core_shared(vcpu->pcpu) ? MDCR_GUEST_PMU :
									      MDCR_GUEST) |
				       PMCR_N(sysreg_read(pmcr_el0)));
	sysreg_write(cnthctl_el2, CNTHCTL_GUEST); /* arch/vcpu_ptimer.h */
	sysreg_write(cntvoff_el2, vm->cntvoff);
	isb();
}

/* A VM granted the PMU starts with it stopped and cleared: nothing counted
 * for whoever had the core before is left for it to read. */
static void pmu_reset(void)
{
	sysreg_write(pmcntenclr_el0, ~0UL);
	sysreg_write(pmintenclr_el1, ~0UL);
	sysreg_write(pmovsclr_el0, ~0UL);
	sysreg_write(pmcr_el0, PMCR_P | PMCR_C); /* counters reset, E clear */
	isb();
}

/* The state Linux expects at its entry: EL1 reset values, x0, the entry. */
static void vcpu_load_fresh(struct vcpu *vcpu, struct trap_frame *f)
{
	vcpu->sys.sctlr_el1 = SCTLR_EL1_RESET;
	sysreg_write(sctlr_el1, vcpu->sys.sctlr_el1);
	sysreg_write(cntkctl_el1, 0);
	sysreg_write(cntv_ctl_el0, 0);
	vcpu_ptimer_reset(vcpu);
	if (vcpu->vm->cfg->pmu)
		pmu_reset();
	sysreg_write(cpacr_el1, 0);
	sysreg_write(vbar_el1, 0);
	sysreg_write(tcr_el1, 0);
	sysreg_write(ttbr0_el1, 0);
	sysreg_write(ttbr1_el1, 0);
	sysreg_write(mair_el1, 0);
	sysreg_write(contextidr_el1, 0);
	sysreg_write(tpidr_el1, 0);
	sysreg_write(tpidr_el0, 0);
	sysreg_write(tpidrro_el0, 0);
	sysreg_write(sp_el0, 0);
	sysreg_write(sp_el1, 0);
	isb();
	memset(f, 0, sizeof(*f));
	f->x[0] = vcpu->context;
	f->elr = vcpu->entry;
	f->spsr = SPSR_EL1H_MASKED;
	/* Started by whatever path came first: the idle loop's hint, if it
	 * still names this vCPU, must not start it a second time later. */
	struct vcpu *hint = vcpu;

	__atomic_compare_exchange_n(&this_cpu()->boot_vcpu, &hint, 0, false,
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	vcpu->state = VCPU_RUNNING;
	vcpu->blocked = false;
	vcpu->run_since = timer_now();
	/* Virtual CPU interface on, and a full scan before the first entry. */
	for (unsigned n = 0; n < vgic_hw_nr_lrs(); n++)
		vgic_hw_set_raw_lr(n, 0);
	vgic_hw_set_hcr(false);
	vcpu->vgic.uie = false;
	vcpu->vgic.waiting = true;
}

/* The running vCPU's state from the core into its context (vcpu_switch). */
static void switch_out(struct vcpu *cur, struct trap_frame *f)
{
	uint32_t vtimer = hv.board.timer.virt_intid;

	vcpu_ctx_save(&cur->ctx, f); /* stops its timer first */
	/* Its timer interrupt may still be active (handler running, or
	 * in a saved HW list register): that state is the vCPU's, and
	 * would block the next vCPU's timer if left on the core. */
	cur->ctx.vtimer_active = gic_private_active(vtimer);
	if (cur->ctx.vtimer_active)
		gic_set_private_active(vtimer, false);
	vcpu_ptimer_switch_out(cur);
	cur->run_ticks += timer_now() - cur->run_since;
	cur->run_since = 0;
}

/* `next` onto this core: started fresh if pending, else from its context. */
static void switch_in(struct vcpu *next, struct trap_frame *f)
{
	uint32_t vtimer = hv.board.timer.virt_intid;

	__atomic_store_n(&this_cpu()->vcpu, next, __ATOMIC_RELEASE);
	vcpu_load_el2(next);
	if (next->state == VCPU_PENDING) {
		__asm__ volatile("tlbi vmalls12e1is" ::: "memory");
		dsb(ish);
		gic_set_private_active(vtimer, false);
		vcpu_ctx_reset_vgic();
		vcpu_load_fresh(next, f);
	} else {
		next->blocked = false;
		next->run_since = timer_now();
		/* Before its list registers: a HW one may name the timer PPI. */
		if (next->ctx.vtimer_active)
			gic_set_private_active(vtimer, true);
		vcpu_ptimer_switch_in(next);
		vcpu_ctx_restore(&next->ctx, f);
		vgic_hw_set_hcr(false);
		next->vgic.uie = false;
		next->vgic.waiting = true;
	}
	next->switches++;
	update_vcpu_entered(next);
}

/*
 * Runs on a stack that ends right below the guest frame (see vcpu_run): a
 * pending vCPU starts fresh, a running one (resumed after a pause) goes on
 * from the context it left with.
 */
static void __attribute__((noreturn)) vcpu_start_current(void)
{
	struct vcpu *vcpu = current_vcpu();
	struct trap_frame *f = guest_frame();

	if (vcpu->state == VCPU_RUNNING) {
		switch_in(vcpu, f);
	} else {
		vcpu_load_el2(vcpu);
		/* Nothing of an earlier guest with this VMID may stay in the TLBs. */
		__asm__ volatile("tlbi vmalls12e1is" ::: "memory");
		dsb(ish);
		vcpu_ctx_reset_vgic();
		vcpu_load_fresh(vcpu, f);
	}
	sched_arm(vcpu->pcpu);
	vgic_flush(vcpu);
	vcpu_enter(f);
}

/*
 * Takes the current vCPU (if any) off this core into its saved context and
 * puts `next` in its place; the exception return then enters `next`.
 */
void vcpu_switch(struct vcpu *next, struct trap_frame *f)
{
	struct vcpu *cur = current_vcpu();

	if (cur && cur->state == VCPU_RUNNING)
		switch_out(cur, f);
	switch_in(next, f);
}

void vcpu_save_and_leave(struct trap_frame *f)
{
	struct vcpu *cur = current_vcpu();

	switch_out(cur, f);
	vgic_hw_disable();
	sysreg_write(hcr_el2, HCR_IMO | HCR_FMO | HCR_AMO | HCR_RW);
	isb();
	/* Saved before the core lets go of it (pairs with vm_pause's wait). */
	__atomic_store_n(&this_cpu()->vcpu, (struct vcpu *)0, __ATOMIC_RELEASE);
}

/* A vCPU stopped while it was not on the core: end its hardware
 * interrupts still held in its saved list registers. */
void vcpu_discard_saved(struct vcpu *vcpu)
{
	for (unsigned n = 0; n < vgic_hw_nr_lrs() && n < VCPU_CTX_MAX_LRS; n++) {
		struct lr lr;

		vgic_hw_decode_lr(vcpu->ctx.lr[n], &lr);
		/* Private ones were made inactive when it was switched out
		 * (vcpu_switch); ending them now would end the running vCPU's. */
		if (((lr.state != LR_INVALID && lr.hw) || lr.eoi) &&
		    lr.pintid >= GIC_FIRST_SPI)
			gic_deactivate(lr.pintid);
		vcpu->ctx.lr[n] = 0;
	}
	vcpu->ctx.vtimer_active = false;
	vcpu->ctx.ptimer_active = false;
	vgic_drop_pending(vcpu, false);
	dsb(sy);
	vcpu->state = VCPU_OFF;
}

void vcpu_run(struct vcpu *vcpu)
{
	/* Whatever called us is abandoned: the guest frame takes the stack top. */
	this_cpu()->vcpu = vcpu;
	stack_reset_and_call((uint64_t)guest_frame(), vcpu_start_current);
}

void vcpu_detach_here(void)
{
	struct vcpu *vcpu = current_vcpu();
	struct cpu *cpu = this_cpu();

	if (!vcpu)
		return;
	/* Hardware interrupts the guest never finished stay active at the GIC
	 * unless ended here; then nothing of the guest may remain. */
	for (unsigned n = 0; n < vgic_hw_nr_lrs(); n++) {
		struct lr lr;

		vgic_hw_read_lr(n, &lr);
		/* lr.eoi: ended here even if already EOId (its maintenance
		 * interrupt has not run yet). */
		if ((lr.state != LR_INVALID && lr.hw) || lr.eoi)
			gic_deactivate(lr.pintid);
		lr.state = LR_INVALID;
		vgic_hw_write_lr(n, &lr);
	}
	vgic_hw_disable();
	sysreg_write(cntv_ctl_el0, 0);
	vgic_drop_pending(vcpu, true);
	sysreg_write(hcr_el2, HCR_IMO | HCR_FMO | HCR_AMO | HCR_RW);
	isb();
	cpu->vcpu = 0;
	if (vcpu->run_since)
		vcpu->run_ticks += timer_now() - vcpu->run_since;
	vcpu->run_since = 0;
	dsb(sy);
	vcpu->state = VCPU_OFF;
}

void cpu_park_here(void)
{
	stack_reset_and_call((uint64_t)hv_stacks + (this_cpu_id() + 1UL) * HV_STACK_SIZE,
			     smp_idle_loop);
}

/* PSCI CPU_OFF or a shutdown: the vCPU leaves the core, which runs another
 * of its vCPUs or idles. */
void vcpu_stop_here(void)
{
	struct vcpu *next;

	vcpu_detach_here();
	next = sched_pick_any();
	if (next) {
		struct trap_frame *f = guest_frame();

		vcpu_switch(next, f);
		sched_arm(this_cpu_id());
		vgic_flush(next);
		vcpu_enter(f);
	}
	cpu_park_here();
}

/*
 * Against stop_vcpus, under the VM's lock: a vCPU its VM's stop has marked
 * stays off, so the stop never misses one powered on behind it.
 */
int vcpu_power_on_locked(struct vcpu *vcpu, uint64_t entry, uint64_t context)
{
	struct cpu *cpu = &hv.cpus[vcpu->pcpu];

	if (cpu->state != CPU_ONLINE || vcpu->state != VCPU_OFF || vcpu->stop_req)
		return -1;
	vcpu->entry = entry;
	vcpu->context = context;
	dsb(sy);
	vcpu->state = VCPU_PENDING;
	return 0;
}

/* A pending vCPU's core takes it: this core right away if it is the vCPU's
 * and free (no return then), an idle one in its idle loop, a busy one in
 * turn at its next exit. */
void vcpu_power_kick(struct vcpu *vcpu)
{
	struct cpu *cpu = &hv.cpus[vcpu->pcpu];
	struct vcpu *none = 0;

	if (vcpu->pcpu == this_cpu_id() && !cpu->vcpu)
		vcpu_run(vcpu);
	/* The idle loop sets cpu->vcpu before it lets go of boot_vcpu, so one
	 * of the two is always seen. */
	if (__atomic_load_n(&cpu->vcpu, __ATOMIC_SEQ_CST) ||
	    !__atomic_compare_exchange_n(&cpu->boot_vcpu, &none, vcpu, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		cpu->resched = true;
	gic_send_sgi(vcpu->pcpu, SGI_WORK);
}

int vcpu_power_on(struct vcpu *vcpu, uint64_t entry, uint64_t context)
{
	int ret;

	spin_lock(&vcpu->vm->lock);
	ret = vcpu_power_on_locked(vcpu, entry, context);
	spin_unlock(&vcpu->vm->lock);
	if (!ret)
		vcpu_power_kick(vcpu);
	return ret;
}

/* Emulates taking an exception to the guest's EL1 (Arm ARM D1.10). */
static void inject_sync(struct trap_frame *f, uint64_t esr, uint64_t far)
{
	uint64_t mode = f->spsr & 0xf;
	uint64_t offset = mode == 0x5 ? 0x200 : mode == 0x4 ? 0x000 : 0x400;

	sysreg_write(esr_el1, esr);
	sysreg_write(far_el1, far);
	sysreg_write(elr_el1, f->elr);
	sysreg_write(spsr_el1, f->spsr);
	f->elr = sysreg_read(vbar_el1) + offset;
	f->spsr = SPSR_EL1H_MASKED;
}

#define DFSC_SYNC_EXTERNAL 0x10

#define ISS_WNR (1UL << 6)

void inject_data_abort(struct trap_frame *f, uint64_t far)
{
	bool from_el1 = (f->spsr & 0xc) == 0x4;
	uint64_t ec = from_el1 ? EC_DABT_CUR : EC_DABT_LOW;
	uint64_t wnr = f->esr & ISS_WNR; /* a store stays a store */

	inject_sync(f, (ec << ESR_EC_SHIFT) | ESR_IL | wnr | DFSC_SYNC_EXTERNAL, far);
}

void inject_prefetch_abort(struct trap_frame *f, uint64_t far)
{
	bool from_el1 = (f->spsr & 0xc) == 0x4;
	uint64_t ec = from_el1 ? EC_IABT_CUR : EC_IABT_LOW;

	inject_sync(f, (ec << ESR_EC_SHIFT) | ESR_IL | DFSC_SYNC_EXTERNAL, far);
}

void inject_undef(struct trap_frame *f)
{
	inject_sync(f, ((uint64_t)EC_UNKNOWN << ESR_EC_SHIFT) | ESR_IL, 0);
}
