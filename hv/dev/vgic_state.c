/*
 * The vGIC in the migration stream (VGIC_DIST, VGIC_CPU; docs/MIGRATION.md).
 *
 * Nothing of this GIC's hardware goes into the stream: an interrupt's
 * pending and active state is the union of the vCPU's pending set and its
 * saved list registers, written as flags. The interrupts active on a vCPU
 * (its guest has acknowledged and not yet ended them) must come back on
 * that vCPU, with its active priorities: VGIC_CPU lists them in the GICv3
 * ICH_LR<n>_EL2 layout whatever the GIC, never with the HW bit. Pending
 * ones go back to the pending set and reach list registers at the next
 * entry.
 */
#include <arch/gic.h>
#include <arch/vcpu_ptimer.h>
#include <arch/vgic_hw.h>
#include <core/state.h>
#include <core/vm.h>
#include <dev/vgic.h>
#include <lib/fmt.h>
#include <lib/mstream.h>
#include <lib/string.h>
#include <shyper/errno.h>
#include <shyper/migrate.h>

/* ICH_LR<n>_EL2 (IHI 0069H 12.4.6): the stream's list register layout. */
#define MIG_LR_VINTID_MASK 0xffffffffUL
#define MIG_LR_PRIO_SHIFT 48
#define MIG_LR_PRIO_MASK 0xffUL
#define MIG_LR_GROUP (1UL << 60)
/* GICv2, an SGI: its sender (GICH_LR.CPUID). Bits ICH_LR keeps for the
 * physical INTID of a hardware interrupt, which an SGI never is. */
#define MIG_LR_SOURCE_SHIFT 32
#define MIG_LR_SOURCE_MASK 7UL
#define MIG_LR_STATE_SHIFT 62
#define MIG_LR_KNOWN (MIG_LR_VINTID_MASK | (MIG_LR_PRIO_MASK << MIG_LR_PRIO_SHIFT) | \
		      MIG_LR_GROUP | (3UL << MIG_LR_STATE_SHIFT))
/* ICFGR (IHI 0069H 12.9.9): bit 1 of an interrupt's field set = edge. */
#define ICFGR_EDGE 2
/* GICD_CTLR bits the emulation keeps (vgic_mmio.c). */
#define CTLR_V3_KNOWN 0x3U
#define CTLR_V2_KNOWN 0x1U
/* The active-priority registers a vCPU context holds: v3 AP0R0 and
 * AP1R0 (5 priority bits: one register each), v2 GICH_APR. */
#define NR_APRS_V3 2
#define NR_APRS_V2 1
#define GICV2_TARGETS_MASK 0xffUL

static bool has_ctx(const struct vcpu *v)
{
	return v->state == VCPU_RUNNING;
}

/* PENDING and ACTIVE of @intid on @v: its pending set, its list registers. */
static uint8_t live_flags(const struct vcpu *v, uint32_t intid)
{
	uint8_t flags = 0;

	if (v->vgic.pending[intid / 64] & (1UL << (intid % 64)))
		flags |= SHYPER_MIG_IRQ_PENDING;
	for (unsigned n = 0; has_ctx(v) && n < vgic_hw_nr_lrs() && n < VCPU_CTX_MAX_LRS; n++) {
		struct lr lr;

		vgic_hw_decode_lr(v->ctx.lr[n], &lr);
		if (lr.vintid != intid || lr.state == LR_INVALID)
			continue;
		if (lr.state == LR_PENDING || lr.state == LR_PENDING_ACTIVE)
			flags |= SHYPER_MIG_IRQ_PENDING;
		if (lr.state == LR_ACTIVE || lr.state == LR_PENDING_ACTIVE)
			flags |= SHYPER_MIG_IRQ_ACTIVE;
	}
	return flags;
}

/* GICv2: the senders of pending SGI @sgi, in the pending set or in a list
 * register; 0 on GICv3 (SGIs have no sender there). */
static uint64_t sgi_senders(struct vcpu *v, uint32_t sgi)
{
	const uint8_t *src = vgic_sgi_sources(v);
	uint64_t senders;

	if (!src)
		return 0;
	senders = src[sgi];
	for (unsigned n = 0; has_ctx(v) && n < vgic_hw_nr_lrs() && n < VCPU_CTX_MAX_LRS; n++) {
		struct lr lr;

		vgic_hw_decode_lr(v->ctx.lr[n], &lr);
		if (lr.vintid == sgi && (lr.state == LR_PENDING || lr.state == LR_PENDING_ACTIVE))
			senders |= 1UL << lr.source;
	}
	return senders;
}

static struct shyper_mig_irq irq_out(const struct vgic_dist *d, const struct vgic_irq *irq,
				     uint8_t live, bool spi)
{
	struct shyper_mig_irq out = { .flags = live, .priority = irq->prio };

	if (irq->enabled)
		out.flags |= SHYPER_MIG_IRQ_ENABLED;
	if (irq->cfg & ICFGR_EDGE)
		out.flags |= SHYPER_MIG_IRQ_EDGE;
	if (d->version == 3)
		out.flags |= SHYPER_MIG_IRQ_GROUP1;
	if (irq->hw)
		out.flags |= SHYPER_MIG_IRQ_HW;
	if (spi)
		out.target = d->version == 3 ? irq->route : irq->targets;
	return out;
}

int vgic_state_save_dist(struct vm *vm, struct mstream_writer *w)
{
	const struct vgic_dist *d = &vm->vgic;
	struct shyper_mig_vgic_dist hdr = {
		.ctlr = d->ctlr,
		.first_intid = VGIC_NR_PRIVATE,
		.nr_irqs = d->nr_irqs - VGIC_NR_PRIVATE,
	};

	mstream_begin_section(w, SHYPER_MIG_SEC_VGIC_DIST, SHYPER_MIG_VGIC_DIST_VERSION, 0);
	mstream_append(w, &hdr, sizeof(hdr));
	for (uint32_t intid = VGIC_NR_PRIVATE; intid < d->nr_irqs; intid++) {
		uint8_t live = 0;
		struct shyper_mig_irq out;

		for (unsigned v = 0; v < vm->nr_vcpus; v++)
			live |= live_flags(&vm->vcpus[v], intid);
		out = irq_out(d, &d->spi[intid - VGIC_NR_PRIVATE], live, true);
		mstream_append(w, &out, sizeof(out));
	}
	return mstream_end_section(w);
}

int vgic_state_save_cpu(struct vcpu *vcpu, struct mstream_writer *w)
{
	const struct vgic_dist *d = &vcpu->vm->vgic;
	struct shyper_mig_vgic_cpu hdr = {
		.vmcr = (uint32_t)vcpu->ctx.vmcr,
		.nr_private = VGIC_NR_PRIVATE,
		.nr_aprs = d->version == 3 ? NR_APRS_V3 : NR_APRS_V2,
	};
	uint64_t active[VCPU_CTX_MAX_LRS];

	if (!has_ctx(vcpu))
		hdr.vmcr = 0;
	for (unsigned n = 0; has_ctx(vcpu) && n < vgic_hw_nr_lrs() && n < VCPU_CTX_MAX_LRS; n++) {
		struct lr lr;

		vgic_hw_decode_lr(vcpu->ctx.lr[n], &lr);
		if (lr.state != LR_ACTIVE && lr.state != LR_PENDING_ACTIVE)
			continue;
		active[hdr.nr_lrs++] = lr.vintid | ((uint64_t)lr.prio << MIG_LR_PRIO_SHIFT) |
				       (lr.group1 ? MIG_LR_GROUP : 0) |
				       ((uint64_t)lr.state << MIG_LR_STATE_SHIFT) |
				       ((uint64_t)lr.source << MIG_LR_SOURCE_SHIFT);
	}
	mstream_begin_section(w, SHYPER_MIG_SEC_VGIC_CPU, SHYPER_MIG_VGIC_CPU_VERSION, vcpu->id);
	mstream_append(w, &hdr, sizeof(hdr));
	for (uint32_t intid = 0; intid < VGIC_NR_PRIVATE; intid++) {
		struct shyper_mig_irq out = irq_out(d, &vcpu->vgic.priv[intid],
						    live_flags(vcpu, intid), false);

		if (intid < GIC_NR_SGIS && (out.flags & SHYPER_MIG_IRQ_PENDING))
			out.target = sgi_senders(vcpu, intid);
		mstream_append(w, &out, sizeof(out));
	}
	mstream_append(w, active, hdr.nr_lrs * sizeof(uint64_t));
	for (unsigned i = 0; i < hdr.nr_aprs; i++) {
		uint32_t apr = has_ctx(vcpu) ? (uint32_t)vcpu->ctx.apr[i] : 0;

		mstream_append(w, &apr, sizeof(apr));
	}
	return mstream_end_section(w);
}

static void set_pending(struct vcpu *v, uint32_t intid)
{
	v->vgic.pending[intid / 64] |= 1UL << (intid % 64);
	v->vgic.pending_hint = 1;
	v->vgic.waiting = true;
}

/* One interrupt's configuration; PENDING and ACTIVE are the caller's. */
static int irq_in(const struct vgic_dist *d, struct vgic_irq *irq, uint32_t intid,
		  const struct shyper_mig_irq *in, bool spi, char *why, size_t why_size)
{
	bool hw = in->flags & SHYPER_MIG_IRQ_HW;

	if (hw != irq->hw) {
		fmt_snprintf(why, why_size, "interrupt %u: hardware-backed %s here", intid,
			     irq->hw ? "is" : "is not");
		return -SHYPER_EINVAL;
	}
	if (intid < GIC_NR_SGIS && !(in->flags & SHYPER_MIG_IRQ_EDGE)) {
		fmt_snprintf(why, why_size, "SGI %u: level-sensitive", intid);
		return -SHYPER_EINVAL;
	}
	if (spi && d->version == 2 && (in->target & ~GICV2_TARGETS_MASK)) {
		fmt_snprintf(why, why_size, "interrupt %u: GICv2 target 0x%lx", intid,
			     in->target);
		return -SHYPER_EINVAL;
	}
	if (!spi && in->target &&
	    (d->version != 2 || intid >= GIC_NR_SGIS || (in->target & ~GICV2_TARGETS_MASK))) {
		fmt_snprintf(why, why_size, "interrupt %u: senders 0x%lx (only a GICv2 SGI has "
			     "them, one bit per CPU)", intid, in->target);
		return -SHYPER_EINVAL;
	}
	irq->prio = in->priority;
	irq->enabled = in->flags & SHYPER_MIG_IRQ_ENABLED;
	irq->cfg = in->flags & SHYPER_MIG_IRQ_EDGE ? ICFGR_EDGE : 0;
	if (spi && d->version == 3)
		irq->route = in->target;
	else if (spi)
		irq->targets = (uint8_t)in->target;
	return 0;
}

int vgic_state_load_dist(struct vm *vm, const struct mstream_vgic_dist_view *v, char *why,
			 size_t why_size)
{
	struct vgic_dist *d = &vm->vgic;
	uint32_t known = d->version == 3 ? CTLR_V3_KNOWN : CTLR_V2_KNOWN;

	if (v->dist.ctlr & ~known) {
		fmt_snprintf(why, why_size, "GICD_CTLR 0x%x has bits this GIC does not keep",
			     v->dist.ctlr);
		return -SHYPER_EINVAL;
	}
	if (v->dist.first_intid != VGIC_NR_PRIVATE ||
	    v->dist.nr_irqs != d->nr_irqs - VGIC_NR_PRIVATE) {
		fmt_snprintf(why, why_size, "SPIs %u + %u, this VM's distributor has %u + %u",
			     v->dist.first_intid, v->dist.nr_irqs, VGIC_NR_PRIVATE,
			     d->nr_irqs - VGIC_NR_PRIVATE);
		return -SHYPER_EINVAL;
	}
	d->ctlr = v->dist.ctlr;
	for (uint32_t i = 0; i < v->dist.nr_irqs; i++) {
		uint32_t intid = VGIC_NR_PRIVATE + i;
		struct shyper_mig_irq in;
		struct vcpu *target;
		int ret;

		mstream_array_get(&v->irqs, i, &in, sizeof(in));
		ret = irq_in(d, &d->spi[i], intid, &in, true, why, why_size);
		if (ret)
			return ret;
		if (!(in.flags & SHYPER_MIG_IRQ_PENDING))
			continue;
		target = vgic_irq_target(vm, intid);
		set_pending(target ? target : &vm->vcpus[0], intid);
	}
	return 0;
}

/* An active interrupt of the stream into this GIC's list register. */
static int lr_in(struct vcpu *vcpu, uint64_t raw, uint64_t *out, char *why, size_t why_size)
{
	struct vm *vm = vcpu->vm;
	uint32_t intid = (uint32_t)(raw & MIG_LR_VINTID_MASK);
	enum lr_state state = (enum lr_state)(raw >> MIG_LR_STATE_SHIFT);
	struct vgic_irq *irq = intid < vm->vgic.nr_irqs ? vgic_get_irq(vm, vcpu, intid) : 0;
	bool defer = vgic_hw_deactivates_on_eoi();
	struct lr lr;

	uint64_t known = MIG_LR_KNOWN;

	/* A GICv2 SGI carries its sender. */
	if (vm->vgic.version == 2 && intid < GIC_NR_SGIS)
		known |= MIG_LR_SOURCE_MASK << MIG_LR_SOURCE_SHIFT;
	if ((raw & ~known) || !irq ||
	    (state != LR_ACTIVE && state != LR_PENDING_ACTIVE)) {
		fmt_snprintf(why, why_size, "list register 0x%lx: not an active interrupt "
			     "of this VM in the ICH_LR layout", raw);
		return -SHYPER_EINVAL;
	}
	lr = (struct lr){
		.vintid = intid,
		.pintid = irq->hw ? intid : 0,
		.prio = (uint8_t)(raw >> MIG_LR_PRIO_SHIFT),
		.hw = irq->hw && !defer,
		.eoi = irq->hw && defer,
		.group1 = vm->vgic.version == 3,
		.state = state,
		.source = (uint8_t)((raw >> MIG_LR_SOURCE_SHIFT) & MIG_LR_SOURCE_MASK),
	};
	/* A hardware interrupt active in the guest is active at the GIC too
	 * (the virtual timer's, on the vCPU's core: set at its switch-in). */
	if (irq->hw && intid == hv.board.timer.virt_intid)
		vcpu->ctx.vtimer_active = true;
	else if (irq->hw && intid == hv.board.timer.phys_intid)
		vcpu->ctx.ptimer_active = true;
	*out = vgic_hw_encode_lr(&lr);
	return 0;
}

int vgic_state_load_cpu(struct vcpu *vcpu, const struct mstream_vgic_cpu_view *v, char *why,
			size_t why_size)
{
	const struct vgic_dist *d = &vcpu->vm->vgic;
	unsigned nr_aprs = d->version == 3 ? NR_APRS_V3 : NR_APRS_V2;
	unsigned max_lrs = vgic_hw_nr_lrs() < VCPU_CTX_MAX_LRS ? vgic_hw_nr_lrs() :
								 VCPU_CTX_MAX_LRS;

	if (v->cpu.nr_private != VGIC_NR_PRIVATE || v->cpu.nr_aprs != nr_aprs) {
		fmt_snprintf(why, why_size, "%u private interrupts and %u active-priority "
			     "registers, this GIC has %u and %u", v->cpu.nr_private,
			     v->cpu.nr_aprs, VGIC_NR_PRIVATE, nr_aprs);
		return -SHYPER_EINVAL;
	}
	if (v->cpu.nr_lrs > max_lrs) {
		fmt_snprintf(why, why_size, "%u active interrupts, this GIC has %u list registers",
			     v->cpu.nr_lrs, max_lrs);
		return -SHYPER_EINVAL;
	}
	if (vcpu->state != VCPU_RUNNING && (v->cpu.nr_lrs || v->cpu.vmcr)) {
		fmt_snprintf(why, why_size, "interface state for a vCPU that is not on");
		return -SHYPER_EINVAL;
	}
	for (uint32_t intid = 0; intid < VGIC_NR_PRIVATE; intid++) {
		struct shyper_mig_irq in;
		int ret;

		mstream_array_get(&v->irqs, intid, &in, sizeof(in));
		ret = irq_in(d, &vcpu->vgic.priv[intid], intid, &in, false, why, why_size);
		if (ret)
			return ret;
		if (!(in.flags & SHYPER_MIG_IRQ_PENDING))
			continue;
		set_pending(vcpu, intid);
		/* A stream without senders (an older one): as from CPU 0. */
		if (intid < GIC_NR_SGIS && vgic_sgi_sources(vcpu))
			vgic_sgi_sources(vcpu)[intid] = in.target ? (uint8_t)in.target : 1;
	}
	vcpu->ctx.vtimer_active = false;
	vcpu->ctx.ptimer_active = false;
	memset(vcpu->ctx.lr, 0, sizeof(vcpu->ctx.lr));
	for (uint32_t n = 0; n < v->cpu.nr_lrs; n++) {
		uint64_t raw;
		int ret;

		mstream_array_get(&v->lrs, n, &raw, sizeof(raw));
		ret = lr_in(vcpu, raw, &vcpu->ctx.lr[n], why, why_size);
		if (ret)
			return ret;
	}
	vcpu->ctx.vmcr = v->cpu.vmcr;
	for (unsigned i = 0; i < nr_aprs; i++) {
		uint32_t apr;

		mstream_array_get(&v->aprs, i, &apr, sizeof(apr));
		vcpu->ctx.apr[i] = apr;
	}
	vcpu->vgic.waiting = true; /* a full scan before its first entry */
	return 0;
}
