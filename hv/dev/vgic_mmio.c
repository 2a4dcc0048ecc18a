/*
 * Emulated GIC distributor and (GICv3) redistributor registers. Per-interrupt
 * registers are rows of one table: where they are, how many bits each
 * interrupt has, which field they show and how a write changes it. Adding a
 * register is adding a row (the shape of Linux KVM's vgic-mmio tables).
 */
#include <arch/gic.h>
#include <arch/vgic_hw.h>
#include <core/cpu.h>
#include <core/vm.h>
#include <dev/vgic.h>
#include <shyper/errno.h>

/* Distributor offsets (IHI 0069H 12.9; IHI 0048B 4.3). */
#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IIDR 0x0008
#define GICD_TYPER2 0x000c
#define GICD_SGIR 0x0f00
#define GICD_IROUTER 0x6000
#define GICD_IROUTER_END 0x7fe0
#define GICD_PIDR2 0xffe8
#define GICD_PIDR2_V2 0x0fe8 /* IHI 0048B 4.1.2 */

/* Redistributor offsets (IHI 0069H 12.10, 12.11). */
#define GICR_CTLR 0x0000
#define GICR_IIDR 0x0004
#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_PIDR2 0xffe8
#define GICR_SGI_BASE 0x10000

#define GIC_IIDR_ARM 0x0000043b /* implementer: Arm */
#define PIDR2_ARCHREV(v) ((uint32_t)(v) << 4)
#define GICD_CTLR_ARE_NS (1U << 4)
#define GICD_CTLR_V3_MASK 0x3U /* EnableGrp1NS, EnableGrp1A */
#define GICD_TYPER_IDBITS_10 (9U << 19)
#define GICR_TYPER_LAST (1UL << 4)
#define GICR_WAKER_SLEEP (1U << 1)
#define GICR_WAKER_CHILDREN_ASLEEP (1U << 2)
#define GICD_SGIR_FILTER(v) (((v) >> 24) & 0x3)
#define GICD_SGIR_TARGETS(v) (((v) >> 16) & 0xff)

enum field { F_GROUP, F_ENABLE, F_PENDING, F_ACTIVE, F_PRIO, F_TARGET, F_CFG };
enum wkind { W_SET, W_CLEAR, W_VALUE, W_IGNORE };

struct irq_reg {
	uint32_t base, len;
	uint8_t bits; /* per interrupt */
	enum field field;
	enum wkind write;
};

/* Same offsets in the distributor and in a redistributor's SGI frame. */
static const struct irq_reg irq_regs[] = {
	{ 0x0080, 0x080, 1, F_GROUP, W_IGNORE },    /* IGROUPR */
	{ 0x0100, 0x080, 1, F_ENABLE, W_SET },      /* ISENABLER */
	{ 0x0180, 0x080, 1, F_ENABLE, W_CLEAR },    /* ICENABLER */
	{ 0x0200, 0x080, 1, F_PENDING, W_SET },     /* ISPENDR */
	{ 0x0280, 0x080, 1, F_PENDING, W_CLEAR },   /* ICPENDR */
	{ 0x0300, 0x080, 1, F_ACTIVE, W_SET },      /* ISACTIVER */
	{ 0x0380, 0x080, 1, F_ACTIVE, W_CLEAR },    /* ICACTIVER */
	{ 0x0400, 0x400, 8, F_PRIO, W_VALUE },      /* IPRIORITYR */
	{ 0x0800, 0x400, 8, F_TARGET, W_VALUE },    /* ITARGETSR (v2) */
	{ 0x0c00, 0x100, 2, F_CFG, W_VALUE },       /* ICFGR */
};

static bool vcpu_has_pending(struct vcpu *vcpu, uint32_t intid)
{
	return __atomic_load_n(&vcpu->vgic.pending[intid / 64], __ATOMIC_ACQUIRE) &
	       (1UL << (intid % 64));
}

/* The vCPU whose list registers hold @intid: the frame's owner for a
 * private interrupt, the routed one for an SPI. */
static struct vcpu *holder(struct vm *vm, struct vcpu *vcpu, uint32_t intid)
{
	return intid < VGIC_NR_PRIVATE ? vcpu : vgic_irq_target(vm, intid);
}

static uint32_t field_read(struct vm *vm, struct vcpu *vcpu, struct vgic_irq *irq,
			   uint32_t intid, enum field f)
{
	struct vcpu *t;
	bool lr_pending, lr_active;

	switch (f) {
	case F_GROUP:
		return vm->vgic.version == 3; /* v3 guests see group 1 only */
	case F_ENABLE:
		return irq->enabled;
	case F_PENDING:
	case F_ACTIVE:
		t = holder(vm, vcpu, intid);
		if (!t)
			return 0;
		vgic_lr_state(t, intid, &lr_pending, &lr_active);
		if (f == F_ACTIVE)
			return lr_active;
		return lr_pending || vcpu_has_pending(t, intid);
	case F_PRIO:
		return irq->prio;
	case F_TARGET:
		if (vm->vgic.version != 2)
			return 0;
		return intid < VGIC_NR_PRIVATE ? 1U << vcpu->id : irq->targets;
	case F_CFG:
		return irq->cfg;
	}
	return 0;
}

static void field_write(struct vm *vm, struct vcpu *vcpu, struct vgic_irq *irq,
			uint32_t intid, const struct irq_reg *reg, uint32_t val)
{
	switch (reg->field) {
	case F_ENABLE:
		if (!val)
			return;
		irq->enabled = reg->write == W_SET;
		vgic_irq_enable_changed(vm, vcpu, intid);
		return;
	case F_PENDING: {
		struct vcpu *t = holder(vm, vcpu, intid);

		if (!val || !t)
			return;
		if (reg->write == W_SET && intid < GIC_NR_SGIS) {
			vgic_inject_sgi(t, intid, 0); /* no sender: as from CPU 0 */
		} else if (reg->write == W_SET) {
			vgic_inject(t, intid);
		} else {
			vgic_unpend(t, intid);
			vgic_lr_clear(t, intid, LR_PENDING);
		}
		return;
	}
	case F_ACTIVE: {
		struct vcpu *t = holder(vm, vcpu, intid);

		if (!val || !t)
			return;
		if (reg->write == W_SET)
			vgic_lr_set_active(t, intid, irq);
		else
			vgic_lr_clear(t, intid, LR_ACTIVE);
		return;
	}
	case F_PRIO:
		/* As many bits as a list register carries (GICv2's 5): what
		 * the guest reads back is what orders its interrupts. */
		irq->prio = (uint8_t)val & VGIC_PRIO_MASK;
		return;
	case F_TARGET:
		if (vm->vgic.version == 2 && intid >= VGIC_NR_PRIVATE) {
			irq->targets = (uint8_t)(val & ((1U << vm->nr_vcpus) - 1));
			vgic_irq_route_changed(vm, intid);
		}
		return;
	case F_CFG:
		if (intid >= GIC_NR_SGIS) /* SGIs are always edge-triggered */
			irq->cfg = (uint8_t)(val & 2);
		return;
	case F_GROUP:
		return;
	}
}

/*
 * One access to a per-interrupt register. `vcpu` owns the private interrupts
 * seen through this frame; `private_only` limits the range to them (GICv3
 * redistributor), `shared_only` hides them (GICv3 distributor with ARE).
 */
static int irq_reg_access(struct vm *vm, struct vcpu *vcpu, struct mmio_access *acc,
			  uint64_t offset, bool private_only, bool shared_only)
{
	for (unsigned r = 0; r < sizeof(irq_regs) / sizeof(irq_regs[0]); r++) {
		const struct irq_reg *reg = &irq_regs[r];
		uint32_t first, count, mask = (1U << reg->bits) - 1;
		uint64_t result = 0;

		if (offset < reg->base || offset >= reg->base + reg->len)
			continue;
		if (reg->bits == 1 || reg->bits == 2) {
			if (acc->size != 4)
				return -SHYPER_EINVAL;
		} else if (acc->size != 1 && acc->size != 4) {
			return -SHYPER_EINVAL;
		}
		first = (uint32_t)((offset - reg->base) * 8 / reg->bits);
		count = acc->size * 8 / reg->bits;
		for (uint32_t i = 0; i < count; i++) {
			uint32_t intid = first + i;
			struct vgic_irq *irq;

			if ((private_only && intid >= VGIC_NR_PRIVATE) ||
			    (shared_only && intid < VGIC_NR_PRIVATE))
				continue; /* reads as zero, writes ignored */
			irq = vgic_get_irq(vm, vcpu, intid);
			if (!irq)
				continue;
			if (acc->write) {
				uint32_t v = (uint32_t)(acc->value >> (i * reg->bits)) & mask;

				if (reg->write != W_IGNORE)
					field_write(vm, vcpu, irq, intid, reg, v);
			} else {
				result |= (uint64_t)field_read(vm, vcpu, irq, intid, reg->field)
					  << (i * reg->bits);
			}
		}
		if (!acc->write)
			acc->value = result;
		return 0;
	}
	if (!acc->write)
		acc->value = 0; /* reserved and unimplemented: RAZ/WI */
	return 0;
}

static void gicv2_sgir_write(struct vcpu *vcpu, uint32_t val)
{
	struct vm *vm = vcpu->vm;
	uint32_t intid = val & 0xf;

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		bool hit;

		switch (GICD_SGIR_FILTER(val)) {
		case 0: hit = GICD_SGIR_TARGETS(val) & (1U << i); break;
		case 1: hit = i != vcpu->id; break;
		case 2: hit = i == vcpu->id; break;
		default: hit = false; break;
		}
		if (hit)
			vgic_inject_sgi(&vm->vcpus[i], intid, vcpu->id);
	}
}

static int irouter_access(struct vm *vm, struct mmio_access *acc, uint64_t offset)
{
	uint32_t intid = (uint32_t)((offset - GICD_IROUTER) / 8);
	struct vgic_irq *irq = intid >= VGIC_NR_PRIVATE ? vgic_get_irq(vm, 0, intid) : 0;
	bool high = offset & 4;

	if (acc->size != 8 && acc->size != 4)
		return -SHYPER_EINVAL;
	if (!irq) {
		if (!acc->write)
			acc->value = 0;
		return 0;
	}
	if (!acc->write) {
		acc->value = acc->size == 8 ? irq->route :
			     high	    ? irq->route >> 32 : irq->route & 0xffffffffUL;
		return 0;
	}
	if (acc->size == 8)
		irq->route = acc->value;
	else if (high)
		irq->route = (irq->route & 0xffffffffUL) | (acc->value << 32);
	else
		irq->route = (irq->route & ~0xffffffffUL) | (acc->value & 0xffffffffUL);
	vgic_irq_route_changed(vm, intid);
	return 0;
}

/* 32-bit reads of the identification and control registers (offset below
 * 0x80 or from 0xd00): small and register-light, the cheapest exit. */
static int gicd_read_word(const struct vm *vm, struct mmio_access *acc, uint64_t offset)
{
	const struct vgic_dist *d = &vm->vgic;
	bool v3 = d->version == 3;

	switch (offset) {
	case GICD_CTLR:
		acc->value = d->ctlr | (v3 ? GICD_CTLR_ARE_NS : 0);
		break;
	case GICD_TYPER:
		acc->value = (d->nr_irqs / 32 - 1) | ((vm->nr_vcpus - 1) << 5) |
			     (v3 ? GICD_TYPER_IDBITS_10 : 0);
		break;
	case GICD_IIDR:
		acc->value = GIC_IIDR_ARM;
		break;
	case GICD_PIDR2:
	case GICD_PIDR2_V2:
		acc->value = offset == (v3 ? GICD_PIDR2 : GICD_PIDR2_V2) ?
				     PIDR2_ARCHREV(d->version) : 0;
		break;
	default:
		acc->value = 0;
	}
	return 0;
}

static int __attribute__((noinline)) gicd_access(struct vcpu *vcpu, struct mmio_access *acc,
						 uint64_t offset)
{
	struct vm *vm = vcpu->vm;
	struct vgic_dist *d = &vm->vgic;
	bool v3 = d->version == 3;

	if (acc->size != 1 && (offset & (acc->size - 1)))
		return -SHYPER_EINVAL; /* unaligned */
	if (v3 && offset >= GICD_IROUTER && offset < GICD_IROUTER_END)
		return irouter_access(vm, acc, offset);
	if (offset < 0x80 || offset >= 0x0d00) {
		if (acc->size != 4)
			return -SHYPER_EINVAL;
		if (!acc->write)
			return gicd_read_word(vm, acc, offset);
		if (offset == GICD_CTLR)
			d->ctlr = (uint32_t)acc->value & (v3 ? GICD_CTLR_V3_MASK : 1);
		else if (offset == GICD_SGIR && !v3)
			gicv2_sgir_write(vcpu, (uint32_t)acc->value);
		return 0;
	}
	/* With affinity routing the distributor has no view of SGIs and PPIs. */
	return irq_reg_access(vm, vcpu, acc, offset, false, v3);
}

int vgic_gicd_access(struct vcpu *vcpu, struct mmio_access *acc, uint64_t offset,
		     void *priv)
{
	(void)priv;
	/* The frequent word reads skip the general path's register saves. */
	if (!acc->write && acc->size == 4 && !(offset & 3) && offset < 0x80)
		return gicd_read_word(vcpu->vm, acc, offset);
	return gicd_access(vcpu, acc, offset);
}

int vgic_gicr_access(struct vcpu *vcpu, struct mmio_access *acc, uint64_t offset,
		     void *priv)
{
	struct vm *vm = vcpu->vm;
	unsigned idx = (unsigned)(offset / VGIC_GICR_FRAME_SIZE);
	struct vcpu *owner;
	(void)priv;

	if (idx >= vm->nr_vcpus || (acc->size != 1 && (offset & (acc->size - 1))))
		return -SHYPER_EINVAL;
	owner = &vm->vcpus[idx];
	offset %= VGIC_GICR_FRAME_SIZE;
	if (offset >= GICR_SGI_BASE)
		return irq_reg_access(vm, owner, acc, offset - GICR_SGI_BASE, true, false);
	/* 32-bit registers; GICR_TYPER may also be read as one 64-bit access. */
	if (acc->size != 4 && !(acc->size == 8 && offset == GICR_TYPER))
		return -SHYPER_EINVAL;

	if (acc->write) {
		if (offset == GICR_WAKER && acc->size == 4)
			owner->vgic.waker = (uint32_t)acc->value & GICR_WAKER_SLEEP;
		return 0;
	}
	switch (offset) {
	case GICR_TYPER:
	case GICR_TYPER + 4: {
		uint64_t typer = ((uint64_t)owner->id << 32) | ((uint64_t)owner->id << 8) |
				 (idx == vm->nr_vcpus - 1 ? GICR_TYPER_LAST : 0);
		acc->value = acc->size == 8 ? typer :
			     offset == GICR_TYPER ? typer & 0xffffffffUL : typer >> 32;
		break;
	}
	case GICR_IIDR:
		acc->value = GIC_IIDR_ARM;
		break;
	case GICR_WAKER:
		acc->value = owner->vgic.waker |
			     (owner->vgic.waker & GICR_WAKER_SLEEP ? GICR_WAKER_CHILDREN_ASLEEP : 0);
		break;
	case GICR_PIDR2:
		acc->value = PIDR2_ARCHREV(3);
		break;
	default:
		acc->value = 0;
	}
	return 0;
}
