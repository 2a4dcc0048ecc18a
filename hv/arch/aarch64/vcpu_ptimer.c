/*
 * The EL1 physical timer of each vCPU (see arch/vcpu_ptimer.h): switched
 * with the vCPU, its interrupt forwarded as a hardware one.
 */
#include <arch/gic.h>
#include <arch/sysreg.h>
#include <arch/timer.h>
#include <arch/vcpu_ptimer.h>
#include <core/cpu.h>
#include <core/irq.h>
#include <core/state.h>
#include <core/vm.h>
#include <dev/vgic.h>
#include <lib/fmt.h>
#include <lib/string.h>

#if HV_STATE_VERSION >= 3

/* CNTP_CTL_EL0: the timer's output is high with ENABLE and ISTATUS set and
 * IMASK clear. */
#define CTL_OUTPUT_MASK (CNT_CTL_ENABLE | CNT_CTL_IMASK | CNT_CTL_ISTATUS)
#define CTL_OUTPUT_HIGH (CNT_CTL_ENABLE | CNT_CTL_ISTATUS)

static uint32_t ptimer_intid(void)
{
	return hv.board.timer.phys_intid;
}

void vcpu_ptimer_switch_out(struct vcpu *v)
{
	struct vcpu_ptimer *pt = vcpu_ptimer_of(v);

	pt->ctl = sysreg_read(cntp_ctl_el0);
	pt->cval = sysreg_read(cntp_cval_el0);
	sysreg_write(cntp_ctl_el0, 0); /* no firing for someone else */
	isb();
	v->ctx.ptimer_active = gic_private_active(ptimer_intid());
	if (v->ctx.ptimer_active)
		gic_set_private_active(ptimer_intid(), false);
}

void vcpu_ptimer_switch_in(const struct vcpu *v)
{
	const struct vcpu_ptimer *pt = vcpu_ptimer_of(v);

	if (v->ctx.ptimer_active)
		gic_set_private_active(ptimer_intid(), true);
	sysreg_write(cntp_cval_el0, pt->cval);
	sysreg_write(cntp_ctl_el0, pt->ctl);
	isb();
}

void vcpu_ptimer_reset(struct vcpu *v)
{
	*vcpu_ptimer_of(v) = (struct vcpu_ptimer){ 0 };
	v->ctx.ptimer_active = false;
	sysreg_write(cntp_ctl_el0, 0);
	sysreg_write(cntp_cval_el0, 0);
	isb();
	gic_set_private_active(ptimer_intid(), false);
}

void vcpu_ptimer_clear(struct vcpu *v)
{
	*vcpu_ptimer_of(v) = (struct vcpu_ptimer){ 0 };
	v->ctx.ptimer_active = false;
}

bool vcpu_ptimer_due(const struct vcpu *v)
{
	const struct vcpu_ptimer *pt = vcpu_ptimer_of(v);

	return (pt->ctl & (CNT_CTL_ENABLE | CNT_CTL_IMASK)) == CNT_CTL_ENABLE &&
	       pt->cval <= timer_now();
}

void vcpu_ptimer_resample(struct vcpu *v)
{
	if ((sysreg_read(cntp_ctl_el0) & CTL_OUTPUT_MASK) == CTL_OUTPUT_HIGH)
		return;
	vgic_timer_withdraw(v, ptimer_intid(), &v->ctx.ptimer_active);
}

static enum irq_result ptimer_irq(uint32_t intid)
{
	struct vcpu *vcpu = current_vcpu();

	if (!vcpu) {
		/* Nobody's timer: whatever armed it is gone. */
		sysreg_write(cntp_ctl_el0, 0);
		isb();
		return IRQ_HANDLED;
	}
	vgic_inject(vcpu, intid);
	vcpu->ctx.ptimer_active = true; /* active at the GIC until the guest ends it */
	return IRQ_FORWARDED;
}

void vcpu_ptimer_cpu_init(void)
{
	sysreg_write(cntp_ctl_el0, 0);
	isb();
	irq_register(ptimer_intid(), ptimer_irq);
	gic_enable(ptimer_intid(), this_cpu_id());
}

bool vcpu_ptimer_export(const struct vcpu *v, struct shyper_mig_ptimer *out,
			uint64_t cntpct)
{
	const struct vcpu_ptimer *pt = vcpu_ptimer_of(v);

	*out = (struct shyper_mig_ptimer){
		.ctl = pt->ctl & SHYPER_MIG_PTIMER_CTL_KNOWN,
		.cval = pt->cval,
		.cntpct = cntpct,
	};
	return out->ctl != 0;
}

int vcpu_ptimer_import(struct vcpu *v, const struct shyper_mig_ptimer *in, char *why,
		       size_t why_size)
{
	struct vcpu_ptimer *pt = vcpu_ptimer_of(v);

	(void)why;
	(void)why_size;
	/* The same distance from the count as at the save (a deadline already
	 * passed stays passed). */
	pt->cval = timer_now() + (in->cval - in->cntpct);
	if ((int64_t)(in->cval - in->cntpct) < 0)
		pt->cval = timer_now() - 1;
	pt->ctl = in->ctl;
	return 0;
}

/* Every vCPU of every VM: its PPI backed by the hardware timer's. */
static void set_hw_all(bool hw)
{
	for (unsigned i = 0; i < HV_MAX_VMS; i++) {
		struct vm *vm = &hv.vms[i];

		for (unsigned n = 0; n < vm->nr_vcpus; n++) {
			vm->vcpus[n].vgic.priv[ptimer_intid()].hw = hw;
			vm->vcpus[n].ctx.ptimer_active = false;
		}
	}
}

void vcpu_ptimer_adopt_all(void)
{
	/* Layout 2 trapped the timer: no guest had one running. */
	memset(&hv.v3, 0, sizeof(hv.v3));
	set_hw_all(true);
}

void vcpu_ptimer_drop_all(void)
{
	/* Every core parked its vCPU with its timer stopped; an older image
	 * traps the registers again. */
	set_hw_all(false);
	memset(&hv.v3, 0, sizeof(hv.v3));
}

#else

int vcpu_ptimer_import(struct vcpu *v, const struct shyper_mig_ptimer *in, char *why,
		       size_t why_size)
{
	(void)v;
	(void)in;
	fmt_snprintf(why, why_size, "an EL1 physical timer in use: this image (state layout "
		     "%u) does not give guests one", HV_STATE_VERSION);
	return -SHYPER_ENOTSUP;
}

#endif
