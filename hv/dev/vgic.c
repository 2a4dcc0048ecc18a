/*
 * Delivering interrupts to vCPUs. An interrupt raised for a vCPU first becomes
 * a bit in its pending set; right before the vCPU re-enters the guest,
 * vgic_flush() moves what is enabled into free list registers. Physical
 * interrupts a VM owns go in with the HW bit, so the guest's EOI deactivates
 * them at the physical GIC and the hypervisor adds nothing else to that path.
 */
#include <arch/gic.h>
#include <arch/stage2.h>
#include <arch/sysreg.h>
#include <arch/vcpu_ptimer.h>
#include <arch/vgic_hw.h>
#include <core/cpu.h>
#include <core/irq.h>
#include <core/state.h>
#include <core/vm.h>
#include <core/vm_config.h>
#include <dev/vgic.h>
#include <lib/string.h>
#include <shyper/errno.h>

/* ICC_SGI1R_EL1 fields (IHI 0069H 12.2.23). */
#define SGI1R_TARGETS(v) ((v) & 0xffffUL)
#define SGI1R_AFF1(v) (((v) >> 16) & 0xffUL)
#define SGI1R_INTID(v) (((v) >> 24) & 0xfUL)
#define SGI1R_AFF2(v) (((v) >> 32) & 0xffUL)
#define SGI1R_IRM (1UL << 40)
#define SGI1R_RS(v) (((v) >> 44) & 0xfUL)
#define SGI1R_AFF3(v) (((v) >> 48) & 0xffUL)

uint8_t *vgic_sgi_sources(struct vcpu *vcpu)
{
#if HV_STATE_VERSION >= 4
	if (vcpu->vm->vgic.version == 2)
		return hv.v4.sgi_sources[vcpu->vm->id][vcpu->id];
#endif
	(void)vcpu;
	return 0;
}

void vgic_inject_sgi(struct vcpu *vcpu, uint32_t sgi, unsigned source)
{
	uint8_t *src = vgic_sgi_sources(vcpu);

	if (sgi >= GIC_NR_SGIS)
		return;
	/* The sender first: a flush that sees the pending bit sees it too. */
	if (src && source < 8)
		__atomic_fetch_or(&src[sgi], (uint8_t)(1U << source), __ATOMIC_RELEASE);
	vgic_inject(vcpu, sgi);
}

void vgic_unpend(struct vcpu *vcpu, uint32_t intid)
{
	uint8_t *src = vgic_sgi_sources(vcpu);

	if (intid >= VGIC_MAX_IRQS)
		return;
	__atomic_fetch_and(&vcpu->vgic.pending[intid / 64], ~(1UL << (intid % 64)),
			   __ATOMIC_ACQ_REL);
	if (src && intid < GIC_NR_SGIS)
		__atomic_store_n(&src[intid], 0, __ATOMIC_RELEASE);
}

void vgic_inject(struct vcpu *vcpu, uint32_t intid)
{
	if (intid >= VGIC_MAX_IRQS)
		return;
	__atomic_fetch_or(&vcpu->vgic.pending[intid / 64], 1UL << (intid % 64),
			  __ATOMIC_RELEASE);
	__atomic_store_n(&vcpu->vgic.pending_hint, 1, __ATOMIC_RELEASE);
	/* A vCPU waiting off its shared core gets it at the next exit. */
	if (hv.cpus[vcpu->pcpu].vcpu != vcpu && vcpu->state == VCPU_RUNNING)
		hv.cpus[vcpu->pcpu].resched = true;
	if (vcpu->pcpu != this_cpu_id() && vcpu->state == VCPU_RUNNING)
		gic_send_sgi(vcpu->pcpu, SGI_VGIC_KICK);
}

void vgic_drop_pending(struct vcpu *vcpu, bool private_too)
{
	uint8_t *src = vgic_sgi_sources(vcpu);

	if (src && private_too)
		for (unsigned i = 0; i < GIC_NR_SGIS; i++)
			__atomic_store_n(&src[i], 0, __ATOMIC_RELEASE);
	for (unsigned w = 0; w < VGIC_MAX_IRQS / 64; w++) {
		uint64_t bits = __atomic_exchange_n(&vcpu->vgic.pending[w], 0,
						    __ATOMIC_ACQ_REL);

		while (bits) {
			uint32_t intid = w * 64 + (uint32_t)__builtin_ctzl(bits);
			struct vgic_irq *irq = vgic_get_irq(vcpu->vm, vcpu, intid);

			bits &= bits - 1;
			/* Taken at the physical GIC, never handed to the guest:
			 * still active there until ended here. */
			if (irq && irq->hw && (private_too || intid >= GIC_FIRST_SPI))
				gic_deactivate(intid);
		}
	}
}

static bool dist_enabled(const struct vgic_dist *d)
{
	/* v3: EnableGrp1NS/EnableGrp1A; v2: Enable. */
	return d->version == 3 ? (d->ctlr & 0x3) : (d->ctlr & 0x1);
}

/* The next list register from @from on that holds @intid, or -1. */
static int next_lr(uint32_t intid, uint64_t empty, unsigned from, struct lr *out)
{
	for (unsigned n = from; n < vgic_hw_nr_lrs(); n++) {
		if (empty & (1UL << n))
			continue;
		vgic_hw_read_lr(n, out);
		/* An invalid one is an EOId lr.eoi waiting for its maintenance. */
		if (out->vintid == intid && out->state != LR_INVALID)
			return (int)n;
	}
	return -1;
}

static int find_lr(uint32_t intid, uint64_t empty, struct lr *out)
{
	return next_lr(intid, empty, 0, out);
}

/*
 * What a guest's register access sees of its own list registers. They are
 * live only on the core its vCPU runs on, so an access by that vCPU (the
 * common case: a guest's own private interrupts, its SPIs routed to the
 * vCPU that asks) sees and changes their pending and active state; for a
 * vCPU running elsewhere it sees what has not reached them yet.
 */
static bool lrs_live(const struct vcpu *vcpu)
{
	return vcpu && vcpu == current_vcpu();
}

void vgic_lr_state(struct vcpu *vcpu, uint32_t intid, bool *pending, bool *active)
{
	uint64_t empty;
	struct lr lr;

	*pending = *active = false;
	if (!lrs_live(vcpu))
		return;
	empty = vgic_hw_empty_lrs();
	/* Every list register of it: GICv2 has one per sender of an SGI. */
	for (int n = next_lr(intid, empty, 0, &lr); n >= 0;
	     n = next_lr(intid, empty, (unsigned)n + 1, &lr)) {
		*pending |= lr.state & LR_PENDING;
		*active |= lr.state & LR_ACTIVE;
	}
}

/*
 * ICPENDR (@drop LR_PENDING) or ICACTIVER (LR_ACTIVE) on the live list
 * registers of @vcpu: the state goes, and a list register left with none
 * is freed. One backed by a physical interrupt (hw, or ended through the
 * maintenance interrupt) keeps the physical GIC's state: it is left alone.
 */
void vgic_lr_clear(struct vcpu *vcpu, uint32_t intid, unsigned drop)
{
	uint64_t empty;
	struct lr lr;

	if (!lrs_live(vcpu))
		return;
	empty = vgic_hw_empty_lrs();
	for (int n = next_lr(intid, empty, 0, &lr); n >= 0;
	     n = next_lr(intid, empty, (unsigned)n + 1, &lr)) {
		if (lr.hw || lr.eoi || !(lr.state & drop))
			continue;
		lr.state &= ~drop;
		if (lr.state == LR_INVALID)
			vgic_hw_set_raw_lr((unsigned)n, 0);
		else
			vgic_hw_write_lr((unsigned)n, &lr);
	}
}

/* ISACTIVER on the live list registers of @vcpu: a pending one becomes
 * pending and active, else a free one holds it active. */
void vgic_lr_set_active(struct vcpu *vcpu, uint32_t intid, const struct vgic_irq *irq)
{
	uint64_t empty;
	struct lr lr;
	int n;

	if (!lrs_live(vcpu) || irq->hw)
		return;
	empty = vgic_hw_empty_lrs();
	n = find_lr(intid, empty, &lr);
	if (n >= 0) {
		if (!lr.eoi && !lr.hw) {
			lr.state |= LR_ACTIVE;
			vgic_hw_write_lr((unsigned)n, &lr);
		}
		return;
	}
	if (!empty)
		return; /* no list register free: nothing to hold it in */
	lr = (struct lr){ .vintid = intid, .prio = irq->prio,
			  .group1 = vcpu->vm->vgic.version == 3, .state = LR_ACTIVE };
	vgic_hw_write_lr((unsigned)__builtin_ctzl(empty), &lr);
}

/* The list register holding SGI @sgi from @source (GICv2). */
static int find_sgi_lr(uint32_t sgi, uint8_t source, uint64_t empty, struct lr *out)
{
	for (unsigned n = 0; n < vgic_hw_nr_lrs(); n++) {
		if (empty & (1UL << n))
			continue;
		vgic_hw_read_lr(n, out);
		if (out->vintid == sgi && out->source == source && out->state != LR_INVALID)
			return (int)n;
	}
	return -1;
}

/*
 * GICv2: pending SGI @sgi into list registers, one per sender (the same SGI
 * from two vCPUs is two interrupts, told apart by GICC_IAR.CPUID). Its
 * pending bit is cleared first, so a sender arriving meanwhile sets it
 * again. False, with the bit set again, if list registers ran out.
 */
static bool flush_sgi_v2(struct vcpu *vcpu, const struct vgic_irq *irq, uint32_t sgi,
			 uint8_t *src, uint64_t *empty)
{
	uint64_t bit = 1UL << sgi;
	uint8_t left;

	__atomic_fetch_and(&vcpu->vgic.pending[0], ~bit, __ATOMIC_ACQ_REL);
	left = __atomic_load_n(&src[sgi], __ATOMIC_ACQUIRE);
	while (left) {
		uint8_t s = (uint8_t)__builtin_ctz(left);
		struct lr lr;
		int n = find_sgi_lr(sgi, s, *empty, &lr);

		if (n >= 0) {
			if (lr.state == LR_ACTIVE) {
				lr.state = LR_PENDING_ACTIVE;
				vgic_hw_write_lr((unsigned)n, &lr);
			}
		} else {
			if (!*empty) {
				__atomic_fetch_or(&vcpu->vgic.pending[0], bit, __ATOMIC_ACQ_REL);
				return false;
			}
			n = __builtin_ctzl(*empty);
			*empty &= ~(1UL << n);
			lr = (struct lr){ .vintid = sgi, .prio = irq->prio, .source = s,
					  .state = LR_PENDING };
			vgic_hw_write_lr((unsigned)n, &lr);
		}
		__atomic_fetch_and(&src[sgi], (uint8_t)~(1U << s), __ATOMIC_ACQ_REL);
		left &= (uint8_t)~(1U << s);
	}
	return true;
}

static void set_uie(struct vcpu *vcpu, bool uie)
{
	if (vcpu->vgic.uie != uie) {
		vgic_hw_set_hcr(uie);
		vcpu->vgic.uie = uie;
	}
}

void vgic_flush_slow(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	uint64_t empty;
	bool waiting = false; /* left pending: look again at the next entry */
	bool no_lr = false;   /* left pending for want of a list register */
	bool defer_deactivation = vgic_hw_deactivates_on_eoi();
	uint8_t *src = vgic_sgi_sources(vcpu);

	if (!__atomic_exchange_n(&vcpu->vgic.pending_hint, 0, __ATOMIC_ACQ_REL) &&
	    !vcpu->vgic.waiting)
		return;
	if (!dist_enabled(&vm->vgic)) {
		set_uie(vcpu, false);
		vcpu->vgic.waiting = true; /* everything waits for the enable */
		return;
	}
	empty = vgic_hw_empty_lrs();
	for (unsigned w = 0; w < VGIC_MAX_IRQS / 64; w++) {
		uint64_t bits = __atomic_load_n(&vcpu->vgic.pending[w], __ATOMIC_ACQUIRE);

		while (bits) {
			uint32_t intid = w * 64 + (uint32_t)__builtin_ctzl(bits);
			uint64_t bit = 1UL << (intid % 64);
			struct vgic_irq *irq = vgic_get_irq(vm, vcpu, intid);
			struct lr lr;
			int n;

			bits &= ~bit;
			if (irq && !irq->enabled) {
				waiting = true; /* stays pending until the guest enables it */
				continue;
			}
			if (src && intid < GIC_NR_SGIS) {
				if (!flush_sgi_v2(vcpu, irq, intid, src, &empty))
					waiting = no_lr = true;
				continue;
			}
			if (irq && (n = find_lr(intid, empty, &lr)) >= 0) {
				if (lr.state == LR_ACTIVE && !lr.hw) {
					lr.state = LR_PENDING_ACTIVE;
					vgic_hw_write_lr((unsigned)n, &lr);
				} else if (lr.state == LR_ACTIVE) {
					waiting = true; /* hardware refires it after the EOI */
					continue;
				}
			} else if (irq) {
				if (!empty) {
					waiting = no_lr = true;
					continue;
				}
				n = __builtin_ctzl(empty);
				empty &= ~(1UL << n);
				lr = (struct lr){
					.vintid = intid,
					.pintid = irq->hw ? intid : 0,
					.prio = irq->prio,
					.hw = irq->hw && !defer_deactivation,
					.eoi = irq->hw && defer_deactivation,
					.group1 = vm->vgic.version == 3,
					.state = LR_PENDING,
				};
				vgic_hw_write_lr((unsigned)n, &lr);
			}
			__atomic_fetch_and(&vcpu->vgic.pending[w], ~bit, __ATOMIC_ACQ_REL);
		}
	}
	/* Ask for a maintenance interrupt when list registers drain, only if
	 * that is what holds an interrupt back: for one the guest disabled,
	 * or one still active, it would fire at once, again and again. */
	set_uie(vcpu, no_lr);
	vcpu->vgic.waiting = waiting;
}

/* ICH_LR<n>_EL2 fields (IHI 0069H 12.4.6) of the timer fast path's value. */
#define FAST_LR_PINTID_SHIFT 32
#define FAST_LR_PRIO_SHIFT 48
#define FAST_LR_GROUP1 (1UL << 60)
#define FAST_LR_HW (1UL << 61)
#define FAST_LR_PENDING (1UL << 62)

void vgic_fast_sync(struct vm *vm)
{
	uint32_t vt = hv.board.timer.virt_intid;

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];
		const struct vgic_irq *irq = &vcpu->vgic.priv[vt];
		uint64_t lr = 0;

		/* GICv3 only: its list registers are system registers. */
		if (vm->vgic.version == 3 && dist_enabled(&vm->vgic) && irq->enabled &&
		    irq->hw)
			lr = vt | ((uint64_t)vt << FAST_LR_PINTID_SHIFT) |
			     ((uint64_t)irq->prio << FAST_LR_PRIO_SHIFT) |
			     FAST_LR_GROUP1 | FAST_LR_HW | FAST_LR_PENDING;
		__atomic_store_n(&vcpu->fast_timer_lr, lr, __ATOMIC_RELEASE);
	}
}

/* Register writes may change what the timer fast path may assume. */
int vgic_gicd_trap(struct vcpu *vcpu, struct mmio_access *acc, uint64_t offset,
		   void *priv)
{
	int ret;

	if (!acc->write) /* reads: a tail call, they are the latency figure */
		return vgic_gicd_access(vcpu, acc, offset, priv);
	ret = vgic_gicd_access(vcpu, acc, offset, priv);
	vgic_fast_sync(vcpu->vm);
	return ret;
}

int vgic_gicr_trap(struct vcpu *vcpu, struct mmio_access *acc, uint64_t offset,
		   void *priv)
{
	int ret;

	if (!acc->write)
		return vgic_gicr_access(vcpu, acc, offset, priv);
	ret = vgic_gicr_access(vcpu, acc, offset, priv);
	vgic_fast_sync(vcpu->vm);
	return ret;
}

void vgic_forward_hw(struct vm *vm, uint32_t intid)
{
	struct vcpu *target = intid < VGIC_NR_PRIVATE ? current_vcpu() :
						       vgic_irq_target(vm, intid);

	if (!target)
		target = &vm->vcpus[0];
	vgic_inject(target, intid);
}

void vgic_sgi1r_write(struct vcpu *vcpu, uint64_t value)
{
	struct vm *vm = vcpu->vm;
	uint32_t intid = (uint32_t)SGI1R_INTID(value);

	if (value & SGI1R_IRM) {
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			if (i != vcpu->id)
				vgic_inject(&vm->vcpus[i], intid);
		return;
	}
	/* Our vCPUs have Aff3.Aff2.Aff1 = 0.0.0 and Aff0 = their index. */
	if (SGI1R_AFF1(value) || SGI1R_AFF2(value) || SGI1R_AFF3(value))
		return;
	for (unsigned bit = 0; bit < 16; bit++) {
		unsigned id = (unsigned)SGI1R_RS(value) * 16 + bit;

		if ((SGI1R_TARGETS(value) & (1UL << bit)) && id < vm->nr_vcpus)
			vgic_inject(&vm->vcpus[id], intid);
	}
}

/* Hardware interrupts the guest has EOId in lr.eoi list registers: ended
 * at the physical GIC here, and their list registers freed. */
static void vgic_end_eoied(void)
{
	uint64_t eoied = vgic_hw_eoi_lrs();

	while (eoied) {
		unsigned n = (unsigned)__builtin_ctzl(eoied);
		struct lr lr, empty = { 0 };

		eoied &= eoied - 1;
		vgic_hw_read_lr(n, &lr);
		vgic_hw_write_lr(n, &empty);
		if (lr.eoi)
			gic_deactivate(lr.pintid);
	}
}

/* Underflow: the work happens in vgic_flush() on the way back into the
 * guest. EOI: hardware interrupts to end (vgic_hw_deactivates_on_eoi). */
static enum irq_result vgic_maintenance_irq(uint32_t intid)
{
	struct vcpu *vcpu = current_vcpu();

	(void)intid;
	vgic_end_eoied();
	vgic_hw_set_hcr(false);
	if (vcpu)
		vcpu->vgic.uie = false; /* the flush on the way out refills */
	return IRQ_HANDLED;
}

static enum irq_result vgic_kick_irq(uint32_t intid)
{
	(void)intid;
	return IRQ_HANDLED;
}

void vgic_cpu_setup(void)
{
	irq_register(GIC_MAINT_INTID, vgic_maintenance_irq);
	irq_register(SGI_VGIC_KICK, vgic_kick_irq);
	gic_enable(GIC_MAINT_INTID, this_cpu_id());
	gic_enable(SGI_VGIC_KICK, this_cpu_id());
}

void vgic_irq_enable_changed(struct vm *vm, struct vcpu *vcpu, uint32_t intid)
{
	struct vgic_irq *irq = vgic_get_irq(vm, vcpu, intid);
	struct vcpu *target;

	if (!irq || !irq->hw || intid < VGIC_NR_PRIVATE)
		return; /* private HW interrupts stay enabled at the physical GIC */
	target = vgic_irq_target(vm, intid);
	if (irq->enabled && target)
		gic_enable(intid, target->pcpu);
	else
		gic_disable(intid, 0);
}

void vgic_irq_route_changed(struct vm *vm, uint32_t intid)
{
	struct vgic_irq *irq = vgic_get_irq(vm, 0, intid);

	if (irq && irq->hw && irq->enabled)
		vgic_irq_enable_changed(vm, 0, intid);
}

static enum irq_result vtimer_irq(uint32_t intid)
{
	struct vcpu *vcpu = current_vcpu();

	if (!vcpu)
		return IRQ_HANDLED;
	vgic_inject(vcpu, intid);
	vcpu->ctx.vtimer_active = true; /* active at the GIC until the guest ends it */
	return IRQ_FORWARDED;
}

/* CNTV_CTL_EL0 (Arm ARM D13.8.x): the timer's output is high with ENABLE
 * and ISTATUS set and IMASK clear. */
#define CNTV_CTL_OUTPUT_MASK 0x7UL
#define CNTV_CTL_OUTPUT_HIGH 0x5UL

void vgic_timers_resample_slow(struct vcpu *vcpu)
{
	if (vcpu->ctx.ptimer_active)
		vcpu_ptimer_resample(vcpu);
	if (!vcpu->ctx.vtimer_active ||
	    (sysreg_read(cntv_ctl_el0) & CNTV_CTL_OUTPUT_MASK) == CNTV_CTL_OUTPUT_HIGH)
		return;
	vgic_timer_withdraw(vcpu, hv.board.timer.virt_intid, &vcpu->ctx.vtimer_active);
}

void vgic_timer_withdraw(struct vcpu *vcpu, uint32_t intid, bool *active)
{
	uint64_t bit = 1UL << (intid % 64);
	bool was_pending;
	struct lr lr;
	int n;

	/* The guest disabled, masked or moved its timer before taking the
	 * interrupt: a level interrupt whose line fell is pending no more at
	 * a GIC, so it is withdrawn here too, and ended at the physical GIC
	 * (it refires when the line rises again). Once the guest has taken
	 * it, its EOI ends it as usual. */
	was_pending = __atomic_fetch_and(&vcpu->vgic.pending[intid / 64], ~bit,
					 __ATOMIC_ACQ_REL) & bit;
	n = find_lr(intid, vgic_hw_empty_lrs(), &lr);
	if (n >= 0 && lr.state != LR_PENDING)
		return;
	if (n >= 0)
		vgic_hw_set_raw_lr((unsigned)n, 0);
	else if (!was_pending) {
		*active = false; /* the guest ended it already */
		return;
	}
	gic_deactivate(intid);
	*active = false;
}

/* The distributor is 64 KiB on GICv3, 4 KiB on GICv2. */
uint64_t vgic_gicd_size(const struct vm *vm)
{
	return vm->vgic.version == 3 ? VGIC_GICD_SIZE : VGIC_GICV2_DIST_SIZE;
}

/* Reset values, as a VM sees them at every boot; which interrupts are
 * backed by hardware stays. */
void vgic_reset(struct vm *vm)
{
	struct vgic_dist *d = &vm->vgic;

	d->ctlr = 0;
	for (unsigned i = 0; i < d->nr_irqs - VGIC_NR_PRIVATE; i++)
		d->spi[i] = (struct vgic_irq){ .hw = d->spi[i].hw };
	for (unsigned v = 0; v < vm->nr_vcpus; v++) {
		struct vgic_cpu *c = &vm->vcpus[v].vgic;

		for (unsigned i = 0; i < VGIC_NR_PRIVATE; i++)
			c->priv[i] = (struct vgic_irq){ .cfg = i < GIC_NR_SGIS ? 2 : 0 };
		c->priv[hv.board.timer.virt_intid].hw = true;
#if HV_STATE_VERSION >= 3
		c->priv[hv.board.timer.phys_intid].hw = true;
#endif
		for (unsigned w = 0; w < VGIC_MAX_IRQS / 64; w++)
			c->pending[w] = 0;
		c->waker = 0;
		c->pending_hint = 0;
#if HV_STATE_VERSION >= 4
		memset(hv.v4.sgi_sources[vm->id][v], 0, sizeof(hv.v4.sgi_sources[vm->id][v]));
#endif
		c->waiting = false;
		c->uie = false;
	}
	vgic_fast_sync(vm);
}

int vgic_init(struct vm *vm)
{
	struct vgic_dist *d = &vm->vgic;
	const struct vm_config *cfg = vm->cfg;
	int ret;

	d->version = gic_version();
	d->nr_irqs = gic_nr_irqs() < VGIC_MAX_IRQS ? gic_nr_irqs() : VGIC_MAX_IRQS;
	d->gicd_ipa = cfg->gicd_ipa;
	d->gicr_ipa = cfg->gicr_ipa;
	for (unsigned i = 0; i < d->nr_irqs - VGIC_NR_PRIVATE; i++)
		d->spi[i].hw = false;
	vgic_reset(vm);
	ret = vm_add_mmio(vm, cfg->gicd_ipa, vgic_gicd_size(vm), MMIO_VGIC_GICD, 0);
	if (ret)
		return ret;
	if (d->version == 3)
		return vm_add_mmio(vm, cfg->gicr_ipa,
				   vm->nr_vcpus * VGIC_GICR_FRAME_SIZE, MMIO_VGIC_GICR, 0);
	if (!hv.board.gic.gicv_base)
		return -SHYPER_ENODEV; /* a GICv2 without virtualisation extensions */
	return stage2_map(&vm->s2, cfg->gicc_ipa, hv.board.gic.gicv_base,
			  VGIC_GICV2_CPU_SIZE, STAGE2_R | STAGE2_W | STAGE2_DEVICE);
}

/* Every core: list registers cleared, maintenance, kick and virtual timer. */
int vgic_cpu_init(void)
{
	int ret = vgic_hw_init(gic_version(), hv.board.gic.gich_base);

	if (ret)
		return ret;
	vgic_cpu_setup();
	irq_register(hv.board.timer.virt_intid, vtimer_irq);
	gic_enable(hv.board.timer.virt_intid, this_cpu_id());
	vcpu_ptimer_cpu_init();
	return 0;
}
