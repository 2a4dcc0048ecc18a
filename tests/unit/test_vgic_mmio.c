/*
 * Emulated GIC distributor and redistributor registers (vgic_mmio.c) and
 * interrupt routing (vgic_irq.c), driven with the accesses a Linux guest
 * makes: GICD_CTLR/TYPER/IIDR/PIDR2, the per-interrupt bitmaps and byte
 * fields for SPIs and (GICv2 banked, GICv3 redistributor) private
 * interrupts, IROUTER halves, GICv2 SGIR filters, GICR_TYPER/WAKER per
 * frame, Linux's own distributor bring-up sequences, and rejected accesses
 * (unaligned, wrong size) that must leave every byte of the VM unchanged.
 * vgic_inject, vgic_irq_enable_changed and vgic_irq_route_changed live in
 * vgic.c (target only); here they are fakes that record each call and the
 * state the real ones would see at that moment.
 *
 * unit-sources: hv/dev/vgic_mmio.c hv/dev/vgic_irq.c
 * unit-cflags: -Ihv/arch/aarch64/inc -Ihv/plat/qemu-virt/inc -Ihv/dev/inc
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <core/vm.h>
#include <dev/vgic.h>
#include <shyper/errno.h>

#define GICD_BASE 0x08000000UL
#define GICR_BASE 0x080a0000UL
#define FRAME VGIC_GICR_FRAME_SIZE
#define SGI_BASE 0x10000UL

#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IIDR 0x0008
#define GICD_IGROUPR 0x0080
#define GICD_ISENABLER 0x0100
#define GICD_ICENABLER 0x0180
#define GICD_ISPENDR 0x0200
#define GICD_ICPENDR 0x0280
#define GICD_ISACTIVER 0x0300
#define GICD_ICACTIVER 0x0380
#define GICD_IPRIORITYR 0x0400
#define GICD_ITARGETSR 0x0800
#define GICD_ICFGR 0x0c00
#define GICD_SGIR 0x0f00
#define GICD_IROUTER 0x6000
#define GICD_PIDR2_V3 0xffe8
#define GICD_PIDR2_V2 0x0fe8 /* IHI 0048B 4.1.2: ID registers at 0xfd0-0xffc */

#define GICR_CTLR 0x0000
#define GICR_IIDR 0x0004
#define GICR_TYPER 0x0008
#define GICR_STATUSR 0x0010
#define GICR_WAKER 0x0014
#define GICR_PIDR2 0xffe8

#define WAKER_SLEEP (1U << 1)
#define WAKER_CHILDREN (1U << 2)
#define IRM (1UL << 31)

/* ---- fakes of vgic.c, recording their calls ---- */

struct call {
	int vcpu;	/* vcpu->id, -1 for NULL */
	uint32_t intid;
	int seen;	/* enable: irq->enabled then; route: target id (-1 none) */
};

#define MAX_CALLS 2048
static struct call injects[MAX_CALLS], enables[MAX_CALLS], routes[MAX_CALLS];
static unsigned nr_injects, nr_enables, nr_routes;
static struct vm *cur_vm; /* the VM the fakes expect to be handed */

static void record(struct call *log, unsigned *n, int vcpu, uint32_t intid, int seen)
{
	assert_true(*n < MAX_CALLS);
	log[(*n)++] = (struct call){ vcpu, intid, seen };
}

static void reset_calls(void)
{
	nr_injects = nr_enables = nr_routes = 0;
}

void vgic_inject(struct vcpu *vcpu, uint32_t intid)
{
	assert_non_null(vcpu);
	assert_ptr_equal(vcpu->vm, cur_vm);
	assert_ptr_equal(vcpu, &cur_vm->vcpus[vcpu->id]);
	record(injects, &nr_injects, (int)vcpu->id, intid, 0);
	/* What the real one does before kicking the core. */
	if (intid < VGIC_MAX_IRQS)
		vcpu->vgic.pending[intid / 64] |= 1UL << (intid % 64);
}

/* seen: the sender (GICv2 SGIs, whose GICC_IAR names it). */
void vgic_inject_sgi(struct vcpu *vcpu, uint32_t sgi, unsigned source)
{
	assert_true(sgi < 16);
	vgic_inject(vcpu, sgi);
	injects[nr_injects - 1].seen = (int)source;
}

void vgic_unpend(struct vcpu *vcpu, uint32_t intid)
{
	assert_non_null(vcpu);
	if (intid < VGIC_MAX_IRQS)
		vcpu->vgic.pending[intid / 64] &= ~(1UL << (intid % 64));
}

/* The list registers of the one vCPU "running here" (lr_live): per
 * interrupt its state bits, pending 1 and active 2, as vgic.c reads and
 * changes them on the live registers. */
static struct vcpu *lr_live;
static uint8_t lr_bits[VGIC_MAX_IRQS];

void vgic_lr_state(struct vcpu *vcpu, uint32_t intid, bool *pending, bool *active)
{
	*pending = vcpu == lr_live && (lr_bits[intid] & 1);
	*active = vcpu == lr_live && (lr_bits[intid] & 2);
}

void vgic_lr_clear(struct vcpu *vcpu, uint32_t intid, unsigned drop)
{
	assert_true(drop == 1 || drop == 2);
	if (vcpu == lr_live)
		lr_bits[intid] &= (uint8_t)~drop;
}

void vgic_lr_set_active(struct vcpu *vcpu, uint32_t intid, const struct vgic_irq *irq)
{
	assert_ptr_equal(irq, vgic_get_irq(vcpu->vm, vcpu, intid));
	if (vcpu == lr_live)
		lr_bits[intid] |= 2;
}

void vgic_irq_enable_changed(struct vm *vm, struct vcpu *vcpu, uint32_t intid)
{
	struct vgic_irq *irq = vgic_get_irq(vm, vcpu, intid);

	assert_ptr_equal(vm, cur_vm);
	assert_non_null(irq); /* only called for interrupts that exist */
	record(enables, &nr_enables, vcpu ? (int)vcpu->id : -1, intid, irq->enabled);
}

void vgic_irq_route_changed(struct vm *vm, uint32_t intid)
{
	struct vcpu *t;

	assert_ptr_equal(vm, cur_vm);
	t = vgic_irq_target(vm, intid);
	record(routes, &nr_routes, -1, intid, t ? (int)t->id : -1);
}

/* ---- a VM as vgic_init() leaves it ---- */

/* Static, so a failed assertion (a longjmp) leaks nothing; ASan still
 * guards the globals' edges. */
static struct vm the_vm, the_copy;

static struct vm *make_vm(unsigned version, unsigned nr_vcpus, unsigned nr_irqs)
{
	struct vm *vm = &the_vm;

	memset(vm, 0, sizeof(*vm));
	lr_live = NULL;
	memset(lr_bits, 0, sizeof(lr_bits));
	assert_true(nr_vcpus >= 1 && nr_vcpus <= VM_MAX_VCPUS);
	vm->nr_vcpus = nr_vcpus;
	vm->vgic.version = version;
	vm->vgic.nr_irqs = nr_irqs;
	vm->vgic.gicd_ipa = GICD_BASE;
	vm->vgic.gicr_ipa = GICR_BASE;
	for (unsigned i = 0; i < nr_vcpus; i++) {
		vm->vcpus[i].id = i;
		vm->vcpus[i].vm = vm;
		for (unsigned n = 0; n < 16; n++)
			vm->vcpus[i].vgic.priv[n].cfg = 2; /* SGIs are edge */
	}
	cur_vm = vm;
	reset_calls();
	return vm;
}

static struct vgic_irq *spi(struct vm *vm, uint32_t intid)
{
	assert_true(intid >= 32 && intid < vm->vgic.nr_irqs);
	return &vm->vgic.spi[intid - 32];
}

static bool pending(struct vm *vm, unsigned vcpu, uint32_t intid)
{
	return vm->vcpus[vcpu].vgic.pending[intid / 64] >> (intid % 64) & 1;
}

/* ---- accesses ---- */

typedef int (*handler_t)(struct vcpu *, struct mmio_access *, uint64_t, void *);

static int raw(handler_t h, uint64_t base, struct vcpu *v, uint64_t off, unsigned size,
	       bool write, uint64_t *value)
{
	struct mmio_access a = {
		.addr = base + off, .size = size, .write = write,
		.value = write ? *value : 0x5a5a5a5a5a5a5a5aUL,
	};
	int ret = h(v, &a, off, NULL);

	if (!write)
		*value = a.value;
	return ret;
}

/* A successful read: no bits beyond the access size (trap.c does not mask). */
static uint64_t rd(handler_t h, uint64_t base, struct vcpu *v, uint64_t off, unsigned size)
{
	uint64_t val;

	assert_int_equal(raw(h, base, v, off, size, false, &val), 0);
	if (size < 8)
		assert_int_equal(val >> (size * 8), 0);
	return val;
}

static void wr(handler_t h, uint64_t base, struct vcpu *v, uint64_t off, unsigned size,
	       uint64_t val)
{
	assert_int_equal(raw(h, base, v, off, size, true, &val), 0);
}

static uint64_t dread(struct vm *vm, unsigned vcpu, uint64_t off, unsigned size)
{
	return rd(vgic_gicd_access, GICD_BASE, &vm->vcpus[vcpu], off, size);
}

static void dwrite(struct vm *vm, unsigned vcpu, uint64_t off, unsigned size, uint64_t val)
{
	wr(vgic_gicd_access, GICD_BASE, &vm->vcpus[vcpu], off, size, val);
}

static uint64_t rread(struct vm *vm, unsigned vcpu, uint64_t off, unsigned size)
{
	return rd(vgic_gicr_access, GICR_BASE, &vm->vcpus[vcpu], off, size);
}

static void rwrite(struct vm *vm, unsigned vcpu, uint64_t off, unsigned size, uint64_t val)
{
	wr(vgic_gicr_access, GICR_BASE, &vm->vcpus[vcpu], off, size, val);
}

static void assert_call(const struct call *c, int vcpu, uint32_t intid)
{
	assert_int_equal(c->vcpu, vcpu);
	assert_int_equal(c->intid, intid);
}

/* ---- GICD_CTLR, TYPER, IIDR, PIDR2 ---- */

static void test_ctlr_v3(void **state)
{
	struct vm *vm = make_vm(3, 2, 288);
	(void)state;

	assert_int_equal(dread(vm, 0, GICD_CTLR, 4), 1U << 4); /* ARE_NS, disabled */
	/* Linux: ARE_NS | EnableGrp1A | EnableGrp1. */
	dwrite(vm, 1, GICD_CTLR, 4, 0x13);
	assert_int_equal(vm->vgic.ctlr, 0x3);
	assert_int_equal(dread(vm, 0, GICD_CTLR, 4), 0x13);
	dwrite(vm, 0, GICD_CTLR, 4, 0xffffffff); /* RWP, DS, E1NWF... not kept */
	assert_int_equal(vm->vgic.ctlr, 0x3);
	assert_int_equal(dread(vm, 1, GICD_CTLR, 4), 0x13);
	dwrite(vm, 0, GICD_CTLR, 4, 0x2);
	assert_int_equal(dread(vm, 0, GICD_CTLR, 4), 0x12);
	dwrite(vm, 0, GICD_CTLR, 4, 0);
	assert_int_equal(dread(vm, 0, GICD_CTLR, 4), 0x10);
	assert_int_equal(nr_injects + nr_enables + nr_routes, 0);
}

static void test_ctlr_v2(void **state)
{
	struct vm *vm = make_vm(2, 2, 288);
	(void)state;

	assert_int_equal(dread(vm, 0, GICD_CTLR, 4), 0);
	dwrite(vm, 0, GICD_CTLR, 4, 1);
	assert_int_equal(dread(vm, 1, GICD_CTLR, 4), 1);
	dwrite(vm, 0, GICD_CTLR, 4, 0xfffffffe);
	assert_int_equal(dread(vm, 0, GICD_CTLR, 4), 0);
	dwrite(vm, 1, GICD_CTLR, 4, 0xffffffff);
	assert_int_equal(vm->vgic.ctlr, 1);
	assert_int_equal(dread(vm, 0, GICD_CTLR, 4), 1);
}

static void test_typer_iidr_pidr2(void **state)
{
	static const unsigned irqs[] = { 64, 288, 512 };
	(void)state;

	for (unsigned version = 2; version <= 3; version++)
		for (unsigned n = 1; n <= 4; n++)
			for (unsigned k = 0; k < 3; k++) {
				struct vm *vm = make_vm(version, n, irqs[k]);
				uint32_t typer = (uint32_t)dread(vm, n - 1, GICD_TYPER, 4);

				/* Decoded the way Linux's GIC drivers do. */
				assert_int_equal(((typer & 0x1f) + 1) * 32, irqs[k]);
				assert_int_equal(((typer >> 5) & 7) + 1, n);
				assert_int_equal((typer >> 19) & 0x1f, version == 3 ? 9 : 0);
				/* No LPIs, MBIS, ESPI, security extension, RSS. */
				assert_int_equal(typer & ~(0x1fU | 7U << 5 | 0x1fU << 19), 0);
				assert_int_equal(dread(vm, 0, GICD_IIDR, 4), 0x43b);
				if (version == 3)
					assert_int_equal((dread(vm, 0, GICD_PIDR2_V3, 4) >> 4) & 0xf, 3);
			}
}

/* GICv2 ICPIDR2 is at 0xfe8 (the v2 distributor is a 4 KiB map). */
static void test_pidr2_v2(void **state)
{
	struct vm *vm = make_vm(2, 1, 288);
	(void)state;

	assert_int_equal((dread(vm, 0, GICD_PIDR2_V2, 4) >> 4) & 0xf, 2);
}

/* ---- ISENABLER / ICENABLER ---- */

static void spi_enable(unsigned version)
{
	struct vm *vm = make_vm(version, 2, 288);

	dwrite(vm, 1, GICD_ISENABLER + 4, 4, 0x80000005); /* 32, 34, 63 */
	assert_int_equal(nr_enables, 3);
	assert_call(&enables[0], 1, 32);
	assert_call(&enables[1], 1, 34);
	assert_call(&enables[2], 1, 63);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(enables[i].seen, 1); /* state changed before the call */
	for (uint32_t id = 32; id < 288; id++)
		assert_int_equal(spi(vm, id)->enabled, id == 32 || id == 34 || id == 63);
	assert_int_equal(dread(vm, 0, GICD_ISENABLER + 4, 4), 0x80000005);
	assert_int_equal(dread(vm, 1, GICD_ICENABLER + 4, 4), 0x80000005);

	reset_calls();
	dwrite(vm, 0, GICD_ICENABLER + 4, 4, 0x4);
	assert_int_equal(nr_enables, 1);
	assert_call(&enables[0], 0, 34);
	assert_int_equal(enables[0].seen, 0);
	assert_false(spi(vm, 34)->enabled);
	assert_int_equal(dread(vm, 0, GICD_ISENABLER + 4, 4), 0x80000001);

	reset_calls();
	dwrite(vm, 0, GICD_ISENABLER + 4, 4, 0); /* zeros change nothing */
	dwrite(vm, 0, GICD_ICENABLER + 4, 4, 0);
	assert_int_equal(nr_enables, 0);
	assert_int_equal(dread(vm, 0, GICD_ISENABLER + 4, 4), 0x80000001);

	/* The last implemented word (256..287) and the one past nr_irqs. */
	dwrite(vm, 0, GICD_ISENABLER + 32, 4, 0xffffffff);
	assert_int_equal(nr_enables, 32);
	for (unsigned i = 0; i < 32; i++)
		assert_call(&enables[i], 0, 256 + i);
	assert_int_equal(dread(vm, 0, GICD_ISENABLER + 32, 4), 0xffffffff);
	reset_calls();
	dwrite(vm, 0, GICD_ISENABLER + 36, 4, 0xffffffff);
	assert_int_equal(nr_enables, 0);
	assert_int_equal(dread(vm, 0, GICD_ISENABLER + 36, 4), 0);
	dwrite(vm, 0, GICD_ICENABLER + 32, 4, 0x00010000);
	assert_int_equal(nr_enables, 1);
	assert_call(&enables[0], 0, 272);
	assert_int_equal(dread(vm, 1, GICD_ISENABLER + 32, 4), 0xfffeffff);
}

static void test_spi_enable_v2(void **state)
{
	(void)state;
	spi_enable(2);
}

static void test_spi_enable_v3(void **state)
{
	(void)state;
	spi_enable(3);
}

/* With ARE the distributor has no SGIs/PPIs: RAZ/WI for every register. */
static void test_v3_gicd_private_raz_wi(void **state)
{
	struct vm *vm = make_vm(3, 2, 288);
	struct vm *copy = &the_copy;
	static const uint32_t regs[] = { GICD_ISENABLER, GICD_ICENABLER, GICD_ISPENDR,
					 GICD_ICPENDR, GICD_ICFGR, GICD_ICFGR + 4 };
	(void)state;

	for (unsigned v = 0; v < 2; v++)
		for (unsigned i = 0; i < 32; i++) {
			vm->vcpus[v].vgic.priv[i].enabled = true;
			vm->vcpus[v].vgic.priv[i].prio = 0x80;
			vm->vcpus[v].vgic.priv[i].cfg = 2;
		}
	vm->vcpus[0].vgic.pending[0] = 0xffffffffUL;
	memcpy(copy, vm, sizeof(*vm));
	for (unsigned r = 0; r < sizeof(regs) / sizeof(regs[0]); r++) {
		assert_int_equal(dread(vm, 0, regs[r], 4), 0);
		dwrite(vm, 0, regs[r], 4, 0xffffffff);
		dwrite(vm, 1, regs[r], 4, 0);
	}
	for (unsigned off = 0; off < 32; off += 4) {
		assert_int_equal(dread(vm, 0, GICD_IPRIORITYR + off, 4), 0);
		assert_int_equal(dread(vm, 0, GICD_ITARGETSR + off, 4), 0);
		dwrite(vm, 0, GICD_IPRIORITYR + off, 4, 0);
		dwrite(vm, 0, GICD_ITARGETSR + off, 4, 0);
		assert_int_equal(dread(vm, 1, GICD_IPRIORITYR + off + 1, 1), 0);
		dwrite(vm, 1, GICD_IPRIORITYR + off + 1, 1, 0x10);
	}
	assert_memory_equal(vm, copy, sizeof(*vm));
	assert_int_equal(nr_injects + nr_enables + nr_routes, 0);
}

/* GICv2: word 0 of each bitmap is banked, the accessing vCPU's own. */
static void test_v2_private_banked(void **state)
{
	struct vm *vm = make_vm(2, 3, 288);
	(void)state;

	dwrite(vm, 1, GICD_ISENABLER, 4, (1U << 27) | (1U << 1));
	assert_int_equal(nr_enables, 2);
	assert_call(&enables[0], 1, 1);
	assert_call(&enables[1], 1, 27);
	for (unsigned v = 0; v < 3; v++)
		for (unsigned i = 0; i < 32; i++)
			assert_int_equal(vm->vcpus[v].vgic.priv[i].enabled,
					 v == 1 && (i == 1 || i == 27));
	assert_int_equal(dread(vm, 1, GICD_ISENABLER, 4), (1U << 27) | (1U << 1));
	assert_int_equal(dread(vm, 0, GICD_ISENABLER, 4), 0);
	assert_int_equal(dread(vm, 2, GICD_ICENABLER, 4), 0);

	reset_calls();
	dwrite(vm, 2, GICD_ICENABLER, 4, 1U << 27); /* vCPU 2's, already off */
	assert_int_equal(nr_enables, 1);
	assert_call(&enables[0], 2, 27);
	assert_true(vm->vcpus[1].vgic.priv[27].enabled);
	dwrite(vm, 1, GICD_ICENABLER, 4, 1U << 27);
	assert_false(vm->vcpus[1].vgic.priv[27].enabled);
	assert_int_equal(dread(vm, 1, GICD_ISENABLER, 4), 1U << 1);

	/* Priority bytes of private interrupts are banked too. */
	dwrite(vm, 2, GICD_IPRIORITYR + 27, 1, 0xa0);
	assert_int_equal(vm->vcpus[2].vgic.priv[27].prio, 0xa0);
	assert_int_equal(vm->vcpus[0].vgic.priv[27].prio, 0);
	assert_int_equal(dread(vm, 2, GICD_IPRIORITYR + 24, 4), 0xa0000000);
	assert_int_equal(dread(vm, 0, GICD_IPRIORITYR + 24, 4), 0);
}

/* ---- pending ---- */

static void route_spi(struct vm *vm, uint32_t intid, unsigned vcpu)
{
	if (vm->vgic.version == 2)
		dwrite(vm, 0, GICD_ITARGETSR + intid, 1, 1U << vcpu);
	else
		dwrite(vm, 0, GICD_IROUTER + 8 * intid, 8, vcpu);
	assert_ptr_equal(vgic_irq_target(vm, intid), &vm->vcpus[vcpu]);
}

static void spi_pending(unsigned version)
{
	struct vm *vm = make_vm(version, 4, 288);

	route_spi(vm, 40, 2);
	route_spi(vm, 41, 3);
	route_spi(vm, 287, 1);
	reset_calls();

	dwrite(vm, 0, GICD_ISPENDR + 4, 4, 1U << 8); /* 40 */
	assert_int_equal(nr_injects, 1);
	assert_call(&injects[0], 2, 40);
	assert_true(pending(vm, 2, 40));
	assert_false(pending(vm, 0, 40));
	dwrite(vm, 1, GICD_ISPENDR + 4, 4, 1U << 9); /* 41 */
	assert_int_equal(nr_injects, 2);
	assert_call(&injects[1], 3, 41);
	for (unsigned v = 0; v < 4; v++)
		assert_int_equal(dread(vm, v, GICD_ISPENDR + 4, 4), 3U << 8);
	assert_int_equal(dread(vm, 0, GICD_ICPENDR + 4, 4), 3U << 8);

	dwrite(vm, 3, GICD_ISPENDR + 32, 4, 1U << 31); /* 287 */
	assert_int_equal(nr_injects, 3);
	assert_call(&injects[2], 1, 287);
	assert_int_equal(dread(vm, 0, GICD_ISPENDR + 32, 4), 1U << 31);

	dwrite(vm, 0, GICD_ICPENDR + 4, 4, 1U << 8);
	assert_false(pending(vm, 2, 40));
	assert_true(pending(vm, 3, 41));
	assert_int_equal(dread(vm, 0, GICD_ISPENDR + 4, 4), 1U << 9);
	assert_int_equal(nr_injects, 3); /* clearing injects nothing */

	/* Pending state raised elsewhere (vgic_forward_hw) shows in the read. */
	vm->vcpus[2].vgic.pending[0] |= 1UL << 40;
	assert_int_equal(dread(vm, 1, GICD_ISPENDR + 4, 4), 3U << 8);
	/* A pending bit of a vCPU that is not the target is not the SPI's state. */
	vm->vcpus[1].vgic.pending[0] |= 1UL << 42; /* v2: no target, v3: vCPU 0 */
	assert_int_equal(dread(vm, 1, GICD_ISPENDR + 4, 4), 3U << 8);

	/* No target (v2 ITARGETSR 0, v3 affinity nobody has): nothing injected. */
	if (version == 2)
		dwrite(vm, 0, GICD_ITARGETSR + 50, 1, 0);
	else
		dwrite(vm, 0, GICD_IROUTER + 8 * 50, 8, 4);
	assert_null(vgic_irq_target(vm, 50));
	dwrite(vm, 0, GICD_ISPENDR + 4, 4, 1U << 18);
	dwrite(vm, 0, GICD_ICPENDR + 4, 4, 1U << 18);
	assert_int_equal(nr_injects, 3);
	assert_int_equal(dread(vm, 0, GICD_ISPENDR + 4, 4), 3U << 8);

	/* Beyond nr_irqs. */
	dwrite(vm, 0, GICD_ISPENDR + 36, 4, 0xffffffff);
	assert_int_equal(nr_injects, 3);
	assert_int_equal(dread(vm, 0, GICD_ISPENDR + 36, 4), 0);
}

static void test_spi_pending_v2(void **state)
{
	(void)state;
	spi_pending(2);
}

static void test_spi_pending_v3(void **state)
{
	(void)state;
	spi_pending(3);
}

static void test_v2_private_pending(void **state)
{
	struct vm *vm = make_vm(2, 2, 288);
	(void)state;

	dwrite(vm, 1, GICD_ISPENDR, 4, (1U << 5) | (1U << 27));
	assert_int_equal(nr_injects, 2);
	assert_call(&injects[0], 1, 5);
	assert_call(&injects[1], 1, 27);
	assert_int_equal(dread(vm, 1, GICD_ISPENDR, 4), (1U << 5) | (1U << 27));
	assert_int_equal(dread(vm, 0, GICD_ISPENDR, 4), 0);
	vm->vcpus[0].vgic.pending[0] = 1UL << 5;
	dwrite(vm, 1, GICD_ICPENDR, 4, 1U << 5);
	assert_int_equal(vm->vcpus[1].vgic.pending[0], 1UL << 27);
	assert_int_equal(vm->vcpus[0].vgic.pending[0], 1UL << 5);
	assert_int_equal(nr_injects, 2);
}

/* ---- IPRIORITYR, ITARGETSR, ICFGR ---- */

static void priority(unsigned version)
{
	struct vm *vm = make_vm(version, 2, 288);

	dwrite(vm, 0, GICD_IPRIORITYR + 40, 1, 0xa0);
	assert_int_equal(spi(vm, 40)->prio, 0xa0);
	assert_int_equal(spi(vm, 41)->prio, 0);
	assert_int_equal(spi(vm, 39)->prio, 0);
	/* Five priority bits, as a list register carries: the low three
	 * read as zero. */
	dwrite(vm, 1, GICD_IPRIORITYR + 44, 4, 0x11223344);
	assert_int_equal(spi(vm, 44)->prio, 0x40);
	assert_int_equal(spi(vm, 45)->prio, 0x30);
	assert_int_equal(spi(vm, 46)->prio, 0x20);
	assert_int_equal(spi(vm, 47)->prio, 0x10);
	assert_int_equal(dread(vm, 0, GICD_IPRIORITYR + 46, 1), 0x20);
	assert_int_equal(dread(vm, 0, GICD_IPRIORITYR + 44, 4), 0x10203040);
	assert_int_equal(dread(vm, 1, GICD_IPRIORITYR + 40, 4), 0xa0);
	dwrite(vm, 0, GICD_IPRIORITYR + 47, 1, 0xff);
	assert_int_equal(dread(vm, 0, GICD_IPRIORITYR + 44, 4), 0xf8203040);
	/* Last implemented byte, then past nr_irqs. */
	dwrite(vm, 0, GICD_IPRIORITYR + 287, 1, 0x80);
	assert_int_equal(spi(vm, 287)->prio, 0x80);
	assert_int_equal(dread(vm, 0, GICD_IPRIORITYR + 284, 4), 0x80000000);
	dwrite(vm, 0, GICD_IPRIORITYR + 288, 4, 0xffffffff);
	dwrite(vm, 0, GICD_IPRIORITYR + 1019, 1, 0xff);
	assert_int_equal(dread(vm, 0, GICD_IPRIORITYR + 288, 4), 0);
	assert_int_equal(dread(vm, 0, GICD_IPRIORITYR + 1019, 1), 0);
	assert_int_equal(nr_injects + nr_enables + nr_routes, 0);
}

static void test_priority_v2(void **state)
{
	(void)state;
	priority(2);
}

static void test_priority_v3(void **state)
{
	(void)state;
	priority(3);
}

static void test_itargetsr_v2(void **state)
{
	struct vm *vm = make_vm(2, 3, 288);
	(void)state;

	/* What Linux's gic_get_cpumask() reads: its own bit in every byte. */
	for (unsigned v = 0; v < 3; v++)
		for (unsigned off = 0; off < 32; off += 4)
			assert_int_equal(dread(vm, v, GICD_ITARGETSR + off, 4),
					 0x01010101U << v);
	assert_int_equal(dread(vm, 2, GICD_ITARGETSR + 5, 1), 4);
	dwrite(vm, 0, GICD_ITARGETSR, 4, 0x02020202); /* read-only */
	dwrite(vm, 0, GICD_ITARGETSR + 17, 1, 0xff);
	assert_int_equal(dread(vm, 0, GICD_ITARGETSR, 4), 0x01010101);
	assert_int_equal(dread(vm, 0, GICD_ITARGETSR + 17, 1), 1);
	assert_int_equal(nr_routes, 0);

	dwrite(vm, 0, GICD_ITARGETSR + 32, 1, 0xff);
	assert_int_equal(spi(vm, 32)->targets, 0x07);
	assert_int_equal(nr_routes, 1);
	assert_int_equal(routes[0].intid, 32);
	assert_int_equal(routes[0].seen, 0);
	assert_int_equal(dread(vm, 1, GICD_ITARGETSR + 32, 1), 0x07);

	reset_calls();
	dwrite(vm, 1, GICD_ITARGETSR + 36, 4, 0x01020408); /* 36..39 */
	assert_int_equal(spi(vm, 36)->targets, 0);
	assert_int_equal(spi(vm, 37)->targets, 4);
	assert_int_equal(spi(vm, 38)->targets, 2);
	assert_int_equal(spi(vm, 39)->targets, 1);
	assert_int_equal(nr_routes, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(routes[i].intid, 36 + i);
	assert_int_equal(routes[0].seen, -1);
	assert_int_equal(routes[1].seen, 2);
	assert_int_equal(routes[2].seen, 1);
	assert_int_equal(routes[3].seen, 0);
	assert_int_equal(dread(vm, 0, GICD_ITARGETSR + 36, 4), 0x01020400);

	/* Past nr_irqs. */
	reset_calls();
	dwrite(vm, 0, GICD_ITARGETSR + 288, 4, 0x01010101);
	assert_int_equal(nr_routes, 0);
	assert_int_equal(dread(vm, 0, GICD_ITARGETSR + 288, 4), 0);
}

static void test_itargetsr_v3_raz_wi(void **state)
{
	struct vm *vm = make_vm(3, 2, 288);
	(void)state;

	spi(vm, 40)->targets = 0x01; /* stale v2 state must not show */
	assert_int_equal(dread(vm, 0, GICD_ITARGETSR + 40, 1), 0);
	/* A redistributor's SGI frame has no ITARGETSR either. */
	assert_int_equal(rread(vm, 1, FRAME + SGI_BASE + GICD_ITARGETSR, 4), 0);
	assert_int_equal(rread(vm, 0, SGI_BASE + GICD_ITARGETSR + 28, 4), 0);
	spi(vm, 40)->targets = 0;
	dwrite(vm, 0, GICD_ITARGETSR + 32, 4, 0x01010101);
	dwrite(vm, 0, GICD_ITARGETSR + 33, 1, 0x02);
	assert_int_equal(nr_routes, 0);
	for (uint32_t id = 32; id < 36; id++)
		assert_int_equal(spi(vm, id)->targets, 0);
	assert_int_equal(dread(vm, 0, GICD_ITARGETSR + 32, 4), 0);
	assert_int_equal(dread(vm, 1, GICD_ITARGETSR, 4), 0);
}

static void test_icfgr(void **state)
{
	(void)state;

	for (unsigned version = 2; version <= 3; version++) {
		struct vm *vm = make_vm(version, 2, 288);

		/* SPIs 32..47: only the edge bit (bit 1 of each field) is kept. */
		dwrite(vm, 0, GICD_ICFGR + 8, 4, 0xffffffff);
		for (uint32_t id = 32; id < 48; id++)
			assert_int_equal(spi(vm, id)->cfg, 2);
		assert_int_equal(dread(vm, 1, GICD_ICFGR + 8, 4), 0xaaaaaaaa);
		dwrite(vm, 0, GICD_ICFGR + 8, 4, 0x5555555a); /* 32, 33 edge */
		for (uint32_t id = 32; id < 48; id++)
			assert_int_equal(spi(vm, id)->cfg, id < 34 ? 2 : 0);
		assert_int_equal(dread(vm, 0, GICD_ICFGR + 8, 4), 0x0000000a);
		dwrite(vm, 0, GICD_ICFGR + 0x44, 4, 0x80000000); /* 287 */
		assert_int_equal(spi(vm, 287)->cfg, 2);
		assert_int_equal(spi(vm, 286)->cfg, 0);
		dwrite(vm, 0, GICD_ICFGR + 0x48, 4, 0xffffffff); /* 288.. */
		assert_int_equal(dread(vm, 0, GICD_ICFGR + 0x48, 4), 0);

		if (version == 2) {
			/* SGIs stay edge whatever is written; PPIs may change. */
			dwrite(vm, 1, GICD_ICFGR, 4, 0);
			assert_int_equal(dread(vm, 1, GICD_ICFGR, 4), 0xaaaaaaaa);
			dwrite(vm, 1, GICD_ICFGR + 4, 4, 0x00000008); /* PPI 17 */
			assert_int_equal(dread(vm, 1, GICD_ICFGR + 4, 4), 0x00000008);
			assert_int_equal(vm->vcpus[1].vgic.priv[17].cfg, 2);
			assert_int_equal(vm->vcpus[0].vgic.priv[17].cfg, 0);
			assert_int_equal(dread(vm, 0, GICD_ICFGR + 4, 4), 0);
		} else {
			/* Through the redistributor's SGI frame of vCPU 1. */
			rwrite(vm, 0, FRAME + SGI_BASE + GICD_ICFGR, 4, 0);
			assert_int_equal(rread(vm, 0, FRAME + SGI_BASE + GICD_ICFGR, 4),
					 0xaaaaaaaa);
			rwrite(vm, 0, FRAME + SGI_BASE + GICD_ICFGR + 4, 4, 0xffffffff);
			assert_int_equal(rread(vm, 1, FRAME + SGI_BASE + GICD_ICFGR + 4, 4),
					 0xaaaaaaaa);
			for (unsigned i = 16; i < 32; i++) {
				assert_int_equal(vm->vcpus[1].vgic.priv[i].cfg, 2);
				assert_int_equal(vm->vcpus[0].vgic.priv[i].cfg, 0);
			}
		}
		assert_int_equal(nr_injects + nr_enables + nr_routes, 0);
	}
}

/* ---- IROUTER and routing ---- */

static void test_irouter_v3(void **state)
{
	struct vm *vm = make_vm(3, 4, 288);
	const uint64_t r40 = GICD_IROUTER + 8 * 40;
	(void)state;

	dwrite(vm, 0, r40, 8, 2);
	assert_int_equal(spi(vm, 40)->route, 2);
	assert_int_equal(nr_routes, 1);
	assert_int_equal(routes[0].intid, 40);
	assert_int_equal(routes[0].seen, 2);
	assert_int_equal(dread(vm, 1, r40, 8), 2);
	assert_ptr_equal(vgic_irq_target(vm, 40), &vm->vcpus[2]);
	assert_int_equal(spi(vm, 39)->route, 0);
	assert_int_equal(spi(vm, 41)->route, 0);

	/* 32-bit halves. */
	dwrite(vm, 0, r40 + 4, 4, 0x1);			/* Aff3 = 1 */
	assert_int_equal(spi(vm, 40)->route, 0x100000002UL);
	assert_int_equal(routes[1].seen, -1);
	assert_null(vgic_irq_target(vm, 40));
	assert_int_equal(dread(vm, 0, r40, 4), 2);
	assert_int_equal(dread(vm, 0, r40 + 4, 4), 1);
	assert_int_equal(dread(vm, 0, r40, 8), 0x100000002UL);
	dwrite(vm, 0, r40, 4, 3);
	assert_int_equal(spi(vm, 40)->route, 0x100000003UL);
	dwrite(vm, 0, r40 + 4, 4, 0);
	assert_int_equal(spi(vm, 40)->route, 3);
	assert_ptr_equal(vgic_irq_target(vm, 40), &vm->vcpus[3]);
	assert_int_equal(nr_routes, 4);
	assert_int_equal(routes[3].seen, 3);

	/* Affinities: IRM, Aff0 in and out of range, Aff1/Aff2 set. */
	dwrite(vm, 0, r40, 8, IRM | 3);
	assert_ptr_equal(vgic_irq_target(vm, 40), &vm->vcpus[0]);
	dwrite(vm, 0, r40, 8, 4);
	assert_null(vgic_irq_target(vm, 40));
	dwrite(vm, 0, r40, 8, 0xff);
	assert_null(vgic_irq_target(vm, 40));
	dwrite(vm, 0, r40, 8, 0x100);
	assert_null(vgic_irq_target(vm, 40));
	dwrite(vm, 0, r40, 8, 0x10001);
	assert_null(vgic_irq_target(vm, 40));
	dwrite(vm, 0, r40, 8, 1);
	assert_ptr_equal(vgic_irq_target(vm, 40), &vm->vcpus[1]);
	dwrite(vm, 0, r40, 8, 0);
	assert_ptr_equal(vgic_irq_target(vm, 40), &vm->vcpus[0]);

	/* The last SPI; SGIs/PPIs and intids past nr_irqs are RAZ/WI. */
	reset_calls();
	dwrite(vm, 0, GICD_IROUTER + 8 * 287, 8, 1);
	assert_ptr_equal(vgic_irq_target(vm, 287), &vm->vcpus[1]);
	assert_int_equal(nr_routes, 1);
	dwrite(vm, 0, GICD_IROUTER + 8 * 288, 8, 1);
	dwrite(vm, 0, GICD_IROUTER + 8 * 27, 8, 1);
	dwrite(vm, 0, GICD_IROUTER, 4, 1);
	assert_int_equal(nr_routes, 1);
	assert_int_equal(dread(vm, 0, GICD_IROUTER + 8 * 288, 8), 0);
	assert_int_equal(dread(vm, 0, GICD_IROUTER + 8 * 27, 8), 0);
	assert_int_equal(dread(vm, 0, GICD_IROUTER + 8 * 1019, 8), 0);
	assert_null(vgic_irq_target(vm, 27));
	assert_null(vgic_irq_target(vm, 288));
	for (unsigned v = 0; v < 4; v++)
		for (unsigned i = 0; i < 32; i++)
			assert_int_equal(vm->vcpus[v].vgic.priv[i].route, 0);

	/* Not byte- or halfword-accessible; 8-byte accesses must be aligned. */
	uint64_t val = 3;
	assert_int_equal(raw(vgic_gicd_access, GICD_BASE, &vm->vcpus[0], r40, 1, true, &val),
			 -SHYPER_EINVAL);
	assert_int_equal(raw(vgic_gicd_access, GICD_BASE, &vm->vcpus[0], r40, 2, true, &val),
			 -SHYPER_EINVAL);
	assert_int_equal(raw(vgic_gicd_access, GICD_BASE, &vm->vcpus[0], r40 + 4, 8, true, &val),
			 -SHYPER_EINVAL);
	assert_int_equal(raw(vgic_gicd_access, GICD_BASE, &vm->vcpus[0], r40 + 2, 4, true, &val),
			 -SHYPER_EINVAL);
	assert_int_equal(spi(vm, 40)->route, 0);
	assert_int_equal(spi(vm, 41)->route, 0);
	assert_int_equal(nr_routes, 1);
}

static void test_irouter_v2_absent(void **state)
{
	struct vm *vm = make_vm(2, 2, 288);
	uint64_t val = 1;
	(void)state;

	assert_int_equal(raw(vgic_gicd_access, GICD_BASE, &vm->vcpus[0],
			     GICD_IROUTER + 8 * 40, 8, true, &val), -SHYPER_EINVAL);
	dwrite(vm, 0, GICD_IROUTER + 8 * 40, 4, 1);
	assert_int_equal(dread(vm, 0, GICD_IROUTER + 8 * 40, 4), 0);
	assert_int_equal(spi(vm, 40)->route, 0);
	assert_int_equal(nr_routes, 0);
}

static void test_irq_target_v2(void **state)
{
	struct vm *vm = make_vm(2, 2, 64);
	(void)state;

	assert_null(vgic_irq_target(vm, 40));
	spi(vm, 40)->targets = 0x02;
	assert_ptr_equal(vgic_irq_target(vm, 40), &vm->vcpus[1]);
	spi(vm, 40)->targets = 0x03;
	assert_ptr_equal(vgic_irq_target(vm, 40), &vm->vcpus[0]);
	spi(vm, 40)->targets = 0x06;
	assert_ptr_equal(vgic_irq_target(vm, 40), &vm->vcpus[1]);
	spi(vm, 40)->targets = 0xfc; /* only vCPUs this VM does not have */
	assert_null(vgic_irq_target(vm, 40));
	/* Private and nonexistent interrupts have no shared target. */
	assert_null(vgic_irq_target(vm, 5));
	assert_null(vgic_irq_target(vm, 64));
	assert_null(vgic_irq_target(vm, 1019));
}

static void test_get_irq(void **state)
{
	struct vm *vm = make_vm(3, 2, 64);
	(void)state;

	assert_ptr_equal(vgic_get_irq(vm, &vm->vcpus[1], 3), &vm->vcpus[1].vgic.priv[3]);
	assert_ptr_equal(vgic_get_irq(vm, &vm->vcpus[0], 31), &vm->vcpus[0].vgic.priv[31]);
	assert_null(vgic_get_irq(vm, NULL, 31));
	assert_ptr_equal(vgic_get_irq(vm, NULL, 32), &vm->vgic.spi[0]);
	assert_ptr_equal(vgic_get_irq(vm, &vm->vcpus[1], 63), &vm->vgic.spi[31]);
	assert_null(vgic_get_irq(vm, &vm->vcpus[1], 64));
	vm->vgic.nr_irqs = VGIC_MAX_IRQS;
	assert_ptr_equal(vgic_get_irq(vm, NULL, VGIC_MAX_IRQS - 1),
			 &vm->vgic.spi[VGIC_MAX_IRQS - 33]);
	assert_null(vgic_get_irq(vm, NULL, VGIC_MAX_IRQS));
}

/* ---- GICv2 GICD_SGIR ---- */

static void test_sgir_v2(void **state)
{
	struct vm *vm = make_vm(2, 4, 288);
	(void)state;

	/* Filter 0: the target list (bit n = vCPU n). */
	dwrite(vm, 1, GICD_SGIR, 4, (0U << 24) | (0x0aU << 16) | 3);
	assert_int_equal(nr_injects, 2);
	assert_call(&injects[0], 1, 3);
	assert_call(&injects[1], 3, 3);
	/* Each from the writer: its GICC_IAR.CPUID. */
	assert_int_equal(injects[0].seen, 1);
	assert_int_equal(injects[1].seen, 1);
	assert_true(pending(vm, 3, 3));
	assert_false(pending(vm, 0, 3));

	/* Filter 1: every vCPU but the sender. */
	reset_calls();
	dwrite(vm, 2, GICD_SGIR, 4, (1U << 24) | (0x04U << 16) | 7);
	assert_int_equal(nr_injects, 3);
	assert_call(&injects[0], 0, 7);
	assert_call(&injects[1], 1, 7);
	assert_call(&injects[2], 3, 7);
	assert_int_equal(injects[2].seen, 2);

	/* Filter 2: the sender only, whatever the list says. */
	reset_calls();
	dwrite(vm, 3, GICD_SGIR, 4, (2U << 24) | (0x01U << 16) | 15);
	assert_int_equal(nr_injects, 1);
	assert_call(&injects[0], 3, 15);
	assert_int_equal(injects[0].seen, 3);

	/* Filter 3 is reserved; an empty list or absent vCPUs reach nobody. */
	reset_calls();
	dwrite(vm, 0, GICD_SGIR, 4, (3U << 24) | (0xffU << 16) | 1);
	dwrite(vm, 0, GICD_SGIR, 4, (0U << 24) | (0x00U << 16) | 1);
	dwrite(vm, 0, GICD_SGIR, 4, (0U << 24) | (0xf0U << 16) | 1);
	assert_int_equal(nr_injects, 0);

	/* NSATT (bit 15) and SBZ bits 14:4 do not change the SGI number. */
	dwrite(vm, 0, GICD_SGIR, 4, (0x01U << 16) | (1U << 15) | 0x7f0 | 9);
	assert_int_equal(nr_injects, 1);
	assert_call(&injects[0], 0, 9);
	/* Write-only: reads as zero. */
	assert_int_equal(dread(vm, 0, GICD_SGIR, 4), 0);
}

static void test_sgir_v3_ignored(void **state)
{
	struct vm *vm = make_vm(3, 2, 288);
	(void)state;

	dwrite(vm, 0, GICD_SGIR, 4, (1U << 24) | 3);
	dwrite(vm, 0, GICD_SGIR, 4, (0x03U << 16) | 3);
	assert_int_equal(nr_injects, 0);
}

/* ---- redistributors ---- */

static void test_gicr_typer(void **state)
{
	(void)state;

	for (unsigned n = 1; n <= 4; n++) {
		struct vm *vm = make_vm(3, n, 288);
		unsigned frames = 0;

		for (unsigned idx = 0; idx < n; idx++) {
			unsigned reader = (idx + 1) % n; /* not the frame's owner */
			uint64_t typer = rread(vm, reader, idx * FRAME + GICR_TYPER, 8);

			assert_int_equal(typer >> 32, idx);		/* Aff0 = id */
			assert_int_equal((typer >> 8) & 0xffff, idx);	/* Processor_Number */
			assert_int_equal(!!(typer & (1U << 4)), idx == n - 1);
			assert_int_equal(typer & ~(0xffffffffUL << 32 | 0xffffUL << 8 | 1UL << 4), 0);
			assert_int_equal(rread(vm, reader, idx * FRAME + GICR_TYPER, 4),
					 typer & 0xffffffff);
			assert_int_equal(rread(vm, idx, idx * FRAME + GICR_TYPER + 4, 4),
					 typer >> 32);
			assert_int_equal(rread(vm, 0, idx * FRAME + GICR_IIDR, 4), 0x43b);
			assert_int_equal((rread(vm, 0, idx * FRAME + GICR_PIDR2, 4) >> 4) & 0xf, 3);
			assert_int_equal(rread(vm, 0, idx * FRAME + GICR_CTLR, 4), 0);
		}
		/* Linux's gic_iterate_rdists(): walk frames until Last. */
		for (uint64_t off = 0;; off += FRAME) {
			uint64_t typer = rread(vm, 0, off + GICR_TYPER, 8);

			frames++;
			if (typer & (1U << 4))
				break;
			assert_true(frames < n);
		}
		assert_int_equal(frames, n);
	}
}

static void test_gicr_waker(void **state)
{
	struct vm *vm = make_vm(3, 3, 288);
	(void)state;

	/* Linux's gic_enable_redist(): clear ProcessorSleep, wait for ChildrenAsleep. */
	rwrite(vm, 0, FRAME + GICR_WAKER, 4, WAKER_SLEEP);
	assert_int_equal(rread(vm, 0, FRAME + GICR_WAKER, 4), WAKER_SLEEP | WAKER_CHILDREN);
	assert_int_equal(vm->vcpus[1].vgic.waker, WAKER_SLEEP);
	assert_int_equal(vm->vcpus[0].vgic.waker, 0);
	assert_int_equal(rread(vm, 1, GICR_WAKER, 4), 0);
	uint32_t w = (uint32_t)rread(vm, 1, FRAME + GICR_WAKER, 4);
	rwrite(vm, 1, FRAME + GICR_WAKER, 4, w & ~WAKER_SLEEP);
	assert_int_equal(rread(vm, 1, FRAME + GICR_WAKER, 4) & WAKER_CHILDREN, 0);
	assert_int_equal(vm->vcpus[1].vgic.waker, 0);
	/* ChildrenAsleep and the other bits are not writable. */
	rwrite(vm, 2, 2 * FRAME + GICR_WAKER, 4, 0xfffffffd);
	assert_int_equal(rread(vm, 2, 2 * FRAME + GICR_WAKER, 4), 0);
	rwrite(vm, 2, 2 * FRAME + GICR_WAKER, 4, 0xffffffff);
	assert_int_equal(rread(vm, 2, 2 * FRAME + GICR_WAKER, 4), WAKER_SLEEP | WAKER_CHILDREN);
	assert_int_equal(vm->vcpus[1].vgic.waker, 0);
}

static void test_gicr_sgi_frame(void **state)
{
	struct vm *vm = make_vm(3, 4, 288);
	const uint64_t f2 = 2 * FRAME + SGI_BASE, f1 = FRAME + SGI_BASE;
	(void)state;

	/* vCPU 0 writes the frame of vCPU 2: vCPU 2's interrupts change. */
	rwrite(vm, 0, f2 + GICD_ISENABLER, 4, (1U << 27) | (1U << 3));
	assert_int_equal(nr_enables, 2);
	assert_call(&enables[0], 2, 3);
	assert_call(&enables[1], 2, 27);
	assert_int_equal(enables[1].seen, 1);
	for (unsigned v = 0; v < 4; v++)
		for (unsigned i = 0; i < 32; i++)
			assert_int_equal(vm->vcpus[v].vgic.priv[i].enabled,
					 v == 2 && (i == 3 || i == 27));
	assert_int_equal(rread(vm, 3, f2 + GICD_ISENABLER, 4), (1U << 27) | (1U << 3));
	assert_int_equal(rread(vm, 2, SGI_BASE + GICD_ISENABLER, 4), 0);
	rwrite(vm, 1, f2 + GICD_ICENABLER, 4, 1U << 3);
	assert_call(&enables[2], 2, 3);
	assert_int_equal(rread(vm, 0, f2 + GICD_ICENABLER, 4), 1U << 27);

	/* Shared interrupts are not in a redistributor. */
	reset_calls();
	rwrite(vm, 0, f2 + GICD_ISENABLER + 4, 4, 0xffffffff);
	assert_int_equal(nr_enables, 0);
	assert_int_equal(rread(vm, 0, f2 + GICD_ISENABLER + 4, 4), 0);
	assert_false(spi(vm, 32)->enabled);
	rwrite(vm, 0, f2 + GICD_IPRIORITYR + 32, 4, 0xffffffff);
	assert_int_equal(spi(vm, 32)->prio, 0);

	/* Pending: the owner's bitmap, whoever writes. */
	rwrite(vm, 3, f1 + GICD_ISPENDR, 4, 1U << 16);
	assert_int_equal(nr_injects, 1);
	assert_call(&injects[0], 1, 16);
	assert_int_equal(rread(vm, 0, f1 + GICD_ISPENDR, 4), 1U << 16);
	assert_int_equal(rread(vm, 0, f2 + GICD_ISPENDR, 4), 0);
	vm->vcpus[2].vgic.pending[0] = 1UL << 16;
	rwrite(vm, 0, f1 + GICD_ICPENDR, 4, 1U << 16);
	assert_false(pending(vm, 1, 16));
	assert_true(pending(vm, 2, 16));

	/* Priorities, byte and word. */
	rwrite(vm, 0, f2 + GICD_IPRIORITYR + 27, 1, 0xa0);
	assert_int_equal(vm->vcpus[2].vgic.priv[27].prio, 0xa0);
	assert_int_equal(vm->vcpus[0].vgic.priv[27].prio, 0);
	rwrite(vm, 3, f2 + GICD_IPRIORITYR + 28, 4, 0x10203040);
	assert_int_equal(vm->vcpus[2].vgic.priv[28].prio, 0x40);
	assert_int_equal(vm->vcpus[2].vgic.priv[31].prio, 0x10);
	assert_int_equal(vm->vcpus[3].vgic.priv[31].prio, 0);
	assert_int_equal(rread(vm, 1, f2 + GICD_IPRIORITYR + 24, 4), 0xa0000000);
	assert_int_equal(rread(vm, 1, f2 + GICD_IPRIORITYR + 30, 1), 0x20);
	assert_int_equal(nr_routes, 0);
}

/* ---- rejected accesses: error, and not one byte of the VM changed ---- */

struct bad {
	uint64_t off;
	unsigned size;
};

static void expect_rejected(struct vm *vm, handler_t h, uint64_t base,
			    const struct bad *bad, unsigned n)
{
	struct vm *copy = &the_copy;

	memcpy(copy, vm, sizeof(*vm));
	for (unsigned i = 0; i < n; i++)
		for (unsigned w = 0; w < 2; w++) {
			uint64_t val = 0xffffffffffffffffUL;
			int ret = raw(h, base, &vm->vcpus[0], bad[i].off, bad[i].size, w, &val);

			if (ret != -SHYPER_EINVAL)
				fail_msg("%s of %u bytes at 0x%lx: %d, want -EINVAL",
					 w ? "write" : "read", bad[i].size,
					 (unsigned long)bad[i].off, ret);
		}
	assert_memory_equal(vm, copy, sizeof(*vm));
	assert_int_equal(nr_injects + nr_enables + nr_routes, 0);
}

static void test_gicd_bad_accesses(void **state)
{
	static const struct bad bad[] = {
		{ GICD_ISENABLER + 4 + 2, 4 },	/* unaligned word */
		{ GICD_IPRIORITYR + 41, 4 },
		{ GICD_ISENABLER + 4, 2 },	/* halfword */
		{ GICD_IPRIORITYR + 40, 2 },
		{ GICD_ITARGETSR + 40, 2 },
		{ GICD_CTLR, 2 },
		{ GICD_ISENABLER + 8, 8 },	/* doubleword to 32-bit registers */
		{ GICD_ISPENDR + 8, 8 },
		{ GICD_IPRIORITYR + 40, 8 },
		{ GICD_ICFGR + 8, 8 },
		{ GICD_CTLR, 8 },
		{ GICD_TYPER + 4, 8 },
		{ GICD_SGIR, 8 },
		{ GICD_ISENABLER + 4, 1 },	/* byte to bitmaps and scalars */
		{ GICD_ISENABLER + 5, 1 },
		{ GICD_ICPENDR + 4, 1 },
		{ GICD_ICFGR + 8, 1 },
		{ GICD_CTLR, 1 },
		{ GICD_SGIR, 1 },
		{ GICD_ISENABLER + 4 + 4, 3 },	/* not a size at all */
	};
	(void)state;

	for (unsigned version = 2; version <= 3; version++) {
		struct vm *vm = make_vm(version, 2, 288);

		for (uint32_t id = 32; id < 288; id++) {
			spi(vm, id)->prio = (uint8_t)id;
			spi(vm, id)->route = id & 1;
			spi(vm, id)->targets = 1;
			spi(vm, id)->enabled = id & 1;
		}
		vm->vgic.ctlr = 1;
		expect_rejected(vm, vgic_gicd_access, GICD_BASE, bad, sizeof(bad) / sizeof(bad[0]));
	}
}

static void test_gicr_bad_accesses(void **state)
{
	struct vm *vm = make_vm(3, 2, 288);
	const struct bad bad[] = {
		{ 2 * FRAME, 4 },			/* past the last frame */
		{ 2 * FRAME + GICR_TYPER, 8 },
		{ 2 * FRAME + SGI_BASE + GICD_ISENABLER, 4 },
		{ 64 * FRAME + GICR_WAKER, 4 },
		{ GICR_WAKER + 1, 4 },			/* unaligned */
		{ FRAME + GICR_TYPER + 4, 8 },
		{ SGI_BASE + GICD_ISENABLER + 2, 4 },
		{ SGI_BASE + GICD_ISENABLER, 1 },	/* sizes an SGI frame bitmap refuses */
		{ SGI_BASE + GICD_ISENABLER, 2 },
		{ SGI_BASE + GICD_ISENABLER, 8 },
		{ FRAME + SGI_BASE + GICD_IPRIORITYR, 2 },
		{ FRAME + SGI_BASE + GICD_IPRIORITYR, 8 },
		{ FRAME + SGI_BASE + GICD_ICFGR, 1 },
	};
	(void)state;

	vm->vcpus[0].vgic.waker = WAKER_SLEEP;
	vm->vcpus[1].vgic.priv[3].prio = 0x33;
	expect_rejected(vm, vgic_gicr_access, GICR_BASE, bad, sizeof(bad) / sizeof(bad[0]));
}

/*
 * RD_base registers are 32 bits (GICR_TYPER 64): a byte, halfword or a
 * doubleword to a 32-bit register is refused like in the distributor; above
 * all a byte read must not return the whole word (trap.c puts acc.value in
 * the register as it is).
 */
static void test_gicr_rd_sizes(void **state)
{
	struct vm *vm = make_vm(3, 2, 288);
	const struct bad bad[] = {
		{ FRAME + GICR_TYPER, 1 },
		{ FRAME + GICR_TYPER, 2 },
		{ FRAME + GICR_TYPER + 4, 1 },
		{ FRAME + GICR_WAKER, 1 },
		{ FRAME + GICR_WAKER, 2 },
		{ FRAME + GICR_IIDR, 2 },
		{ FRAME + GICR_CTLR, 8 },
		{ FRAME + GICR_STATUSR, 8 },	/* STATUSR and WAKER in one access */
	};
	(void)state;

	vm->vcpus[1].vgic.waker = WAKER_SLEEP;
	expect_rejected(vm, vgic_gicr_access, GICR_BASE, bad, sizeof(bad) / sizeof(bad[0]));
}

/* ---- state held in the list registers of the vCPU running here ---- */

static void test_list_register_state(void **state)
{
	(void)state;

	for (unsigned version = 2; version <= 3; version++) {
		struct vm *vm = make_vm(version, 2, 64);

		/* SPI 40 routed to vCPU 0, which runs here. */
		if (version == 3)
			dwrite(vm, 0, GICD_IROUTER + 40 * 8, 8, 0);
		else
			dwrite(vm, 0, GICD_ITARGETSR + 40, 1, 1);
		lr_live = &vm->vcpus[0];

		/* Pending in a list register: reads as pending; ICPENDR
		 * withdraws it there and from the bitmap. */
		lr_bits[40] = 1;
		vm->vcpus[0].vgic.pending[0] = 1UL << 40;
		assert_int_equal(dread(vm, 1, GICD_ISPENDR + 4, 4), 1U << 8);
		vm->vcpus[0].vgic.pending[0] = 0;
		assert_int_equal(dread(vm, 1, GICD_ICPENDR + 4, 4), 1U << 8);
		dwrite(vm, 1, GICD_ICPENDR + 4, 4, 1U << 8);
		assert_int_equal(lr_bits[40], 0);
		assert_int_equal(dread(vm, 0, GICD_ISPENDR + 4, 4), 0);

		/* Active: set, read through both registers, cleared. */
		dwrite(vm, 0, GICD_ISACTIVER + 4, 4, 1U << 8);
		assert_int_equal(lr_bits[40], 2);
		assert_int_equal(dread(vm, 0, GICD_ISACTIVER + 4, 4), 1U << 8);
		assert_int_equal(dread(vm, 0, GICD_ICACTIVER + 4, 4), 1U << 8);
		lr_bits[40] = 3;
		dwrite(vm, 0, GICD_ICACTIVER + 4, 4, 1U << 8);
		assert_int_equal(lr_bits[40], 1); /* still pending */
		assert_int_equal(dread(vm, 0, GICD_ISACTIVER + 4, 4), 0);

		/* Zero bits change nothing. */
		dwrite(vm, 0, GICD_ICPENDR + 4, 4, 0);
		dwrite(vm, 0, GICD_ISACTIVER + 4, 4, 0);
		assert_int_equal(lr_bits[40], 1);

		/* Routed to vCPU 1, running elsewhere: its list registers are
		 * not visible, and not touched. */
		if (version == 3)
			dwrite(vm, 0, GICD_IROUTER + 40 * 8, 8, 1);
		else
			dwrite(vm, 0, GICD_ITARGETSR + 40, 1, 2);
		assert_int_equal(dread(vm, 0, GICD_ISPENDR + 4, 4), 0);
		dwrite(vm, 0, GICD_ICPENDR + 4, 4, 1U << 8);
		dwrite(vm, 0, GICD_ISACTIVER + 4, 4, 1U << 8);
		assert_int_equal(lr_bits[40], 1);

		/* Private interrupts: through the frame of the vCPU they
		 * belong to (v3: its redistributor; v2: banked). */
		lr_bits[3] = 2;
		if (version == 3) {
			assert_int_equal(rread(vm, 1, SGI_BASE + GICD_ISACTIVER, 4) &
						 0xffff, 1U << 3);
			assert_int_equal(rread(vm, 0, FRAME + SGI_BASE + GICD_ISACTIVER, 4), 0);
			rwrite(vm, 1, SGI_BASE + GICD_ICACTIVER, 4, 1U << 3);
		} else {
			assert_int_equal(dread(vm, 0, GICD_ISACTIVER, 4), 1U << 3);
			assert_int_equal(dread(vm, 1, GICD_ISACTIVER, 4), 0);
			dwrite(vm, 0, GICD_ICACTIVER, 4, 1U << 3);
		}
		assert_int_equal(lr_bits[3], 0);
	}
}

/* ---- reserved and read-only parts of the per-interrupt space ---- */

static void test_group_active_reserved(void **state)
{
	(void)state;

	for (unsigned version = 2; version <= 3; version++) {
		struct vm *vm = make_vm(version, 2, 288);
		struct vm *copy = &the_copy;
		uint32_t grp = version == 3 ? 0xffffffff : 0;

		/* v3 guests see group 1 only; v2 everything in group 0. */
		assert_int_equal(dread(vm, 0, GICD_IGROUPR + 4, 4), grp);
		assert_int_equal(dread(vm, 0, GICD_IGROUPR + 32, 4), grp);
		assert_int_equal(dread(vm, 0, GICD_IGROUPR + 36, 4), 0);
		spi(vm, 40)->enabled = true;
		vm->vcpus[0].vgic.pending[0] = 1UL << 40;
		memcpy(copy, vm, sizeof(*vm));
		dwrite(vm, 0, GICD_IGROUPR + 4, 4, 0);
		dwrite(vm, 0, GICD_ISACTIVER + 4, 4, 0xffffffff);
		dwrite(vm, 0, GICD_ICACTIVER + 4, 4, 0xffffffff);
		assert_int_equal(dread(vm, 0, GICD_ISACTIVER + 4, 4), 0);
		/* Outside every register: 0x0d00.. (v3 IGRPMODR, NSACR), 0xf10... */
		assert_int_equal(dread(vm, 0, 0x0d00, 4), 0);
		assert_int_equal(dread(vm, 1, 0x0f10, 4), 0);
		assert_int_equal(dread(vm, 1, 0x0010, 4), 0);
		assert_int_equal(dread(vm, 1, 0x7ffc, 4), 0);
		dwrite(vm, 0, 0x0d00, 4, 0xffffffff);
		dwrite(vm, 0, 0x0f20, 4, 0xffffffff); /* SPENDSGIR */
		dwrite(vm, 0, 0x0010, 4, 0xffffffff);
		assert_memory_equal(vm, copy, sizeof(*vm));
		assert_int_equal(nr_injects + nr_enables + nr_routes, 0);
	}
}

/* ---- Linux's own bring-up sequences ---- */

static void test_linux_v3_dist_init(void **state)
{
	struct vm *vm = make_vm(3, 2, 288);
	(void)state;

	for (uint32_t id = 32; id < 288; id++)
		spi(vm, id)->enabled = true; /* as a previous kernel left them */
	/* gic_dist_init() */
	dwrite(vm, 0, GICD_CTLR, 4, 0);
	assert_int_equal(dread(vm, 0, GICD_CTLR, 4) >> 31, 0); /* RWP clear */
	for (uint32_t i = 32; i < 288; i += 32)
		dwrite(vm, 0, GICD_IGROUPR + i / 8, 4, 0xffffffff);
	for (uint32_t i = 32; i < 288; i += 16)
		dwrite(vm, 0, GICD_ICFGR + i / 4, 4, 0);
	for (uint32_t i = 32; i < 288; i += 4)
		dwrite(vm, 0, GICD_IPRIORITYR + i, 4, 0xa0a0a0a0);
	for (uint32_t i = 32; i < 288; i += 32) {
		dwrite(vm, 0, GICD_ICACTIVER + i / 8, 4, 0xffffffff);
		dwrite(vm, 0, GICD_ICENABLER + i / 8, 4, 0xffffffff);
	}
	dwrite(vm, 0, GICD_CTLR, 4, 0x13);
	for (uint32_t i = 32; i < 288; i++)
		dwrite(vm, 0, GICD_IROUTER + 8 * i, 8, 0); /* MPIDR of CPU 0 */
	assert_int_equal(nr_enables, 256);
	assert_int_equal(nr_routes, 256);
	for (uint32_t id = 32; id < 288; id++) {
		assert_false(spi(vm, id)->enabled);
		assert_int_equal(spi(vm, id)->prio, 0xa0);
		assert_int_equal(spi(vm, id)->cfg, 0);
		assert_ptr_equal(vgic_irq_target(vm, id), &vm->vcpus[0]);
	}
	assert_int_equal(dread(vm, 0, GICD_CTLR, 4), 0x13);

	/* gic_cpu_config() on vCPU 1's redistributor, from vCPU 1. */
	reset_calls();
	rwrite(vm, 1, FRAME + SGI_BASE + 0x380, 4, 0xffffffff);
	rwrite(vm, 1, FRAME + SGI_BASE + GICD_ICENABLER, 4, 0xffff0000);
	rwrite(vm, 1, FRAME + SGI_BASE + GICD_ISENABLER, 4, 0x0000ffff);
	for (uint32_t i = 0; i < 32; i += 4)
		rwrite(vm, 1, FRAME + SGI_BASE + GICD_IPRIORITYR + i, 4, 0xa0a0a0a0);
	assert_int_equal(nr_enables, 32);
	for (unsigned i = 0; i < 32; i++) {
		assert_int_equal(vm->vcpus[1].vgic.priv[i].enabled, i < 16);
		assert_int_equal(vm->vcpus[1].vgic.priv[i].prio, 0xa0);
		assert_int_equal(vm->vcpus[0].vgic.priv[i].prio, 0);
	}
}

static void test_linux_v2_dist_init(void **state)
{
	struct vm *vm = make_vm(2, 2, 288);
	uint32_t map, typer;
	(void)state;

	/* gic_dist_init(): targets from gic_get_cpumask() of the boot CPU. */
	dwrite(vm, 0, GICD_CTLR, 4, 0);
	typer = (uint32_t)dread(vm, 0, GICD_TYPER, 4);
	assert_int_equal(((typer & 0x1f) + 1) * 32, 288);
	map = (uint32_t)dread(vm, 0, GICD_ITARGETSR, 4) & 0xff;
	assert_int_equal(map, 1);
	map |= map << 8;
	map |= map << 16;
	for (uint32_t i = 32; i < 288; i += 4)
		dwrite(vm, 0, GICD_ITARGETSR + i, 4, map);
	for (uint32_t i = 32; i < 288; i += 16)
		dwrite(vm, 0, GICD_ICFGR + i / 4, 4, 0);
	for (uint32_t i = 32; i < 288; i += 4)
		dwrite(vm, 0, GICD_IPRIORITYR + i, 4, 0xa0a0a0a0);
	for (uint32_t i = 32; i < 288; i += 32)
		dwrite(vm, 0, GICD_ICENABLER + i / 8, 4, 0xffffffff);
	dwrite(vm, 0, GICD_CTLR, 4, 1);
	assert_int_equal(nr_routes, 256);
	assert_int_equal(nr_enables, 256);
	/* gic_set_affinity(): one byte. */
	dwrite(vm, 0, GICD_ITARGETSR + 100, 1, (uint8_t)dread(vm, 1, GICD_ITARGETSR + 1, 1));
	for (uint32_t id = 32; id < 288; id++) {
		assert_ptr_equal(vgic_irq_target(vm, id), &vm->vcpus[id == 100]);
		assert_int_equal(spi(vm, id)->prio, 0xa0);
	}
	/* Enable interrupt 100 and raise it: vCPU 1 gets it. */
	reset_calls();
	dwrite(vm, 0, GICD_ISENABLER + 100 / 32 * 4, 4, 1U << (100 % 32));
	dwrite(vm, 0, GICD_ISPENDR + 100 / 32 * 4, 4, 1U << (100 % 32));
	assert_int_equal(nr_enables, 1);
	assert_call(&enables[0], 0, 100);
	assert_int_equal(nr_injects, 1);
	assert_call(&injects[0], 1, 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctlr_v3),
		cmocka_unit_test(test_ctlr_v2),
		cmocka_unit_test(test_typer_iidr_pidr2),
		cmocka_unit_test(test_pidr2_v2),
		cmocka_unit_test(test_spi_enable_v2),
		cmocka_unit_test(test_spi_enable_v3),
		cmocka_unit_test(test_v3_gicd_private_raz_wi),
		cmocka_unit_test(test_v2_private_banked),
		cmocka_unit_test(test_spi_pending_v2),
		cmocka_unit_test(test_spi_pending_v3),
		cmocka_unit_test(test_v2_private_pending),
		cmocka_unit_test(test_priority_v2),
		cmocka_unit_test(test_priority_v3),
		cmocka_unit_test(test_itargetsr_v2),
		cmocka_unit_test(test_itargetsr_v3_raz_wi),
		cmocka_unit_test(test_icfgr),
		cmocka_unit_test(test_irouter_v3),
		cmocka_unit_test(test_irouter_v2_absent),
		cmocka_unit_test(test_irq_target_v2),
		cmocka_unit_test(test_get_irq),
		cmocka_unit_test(test_sgir_v2),
		cmocka_unit_test(test_sgir_v3_ignored),
		cmocka_unit_test(test_gicr_typer),
		cmocka_unit_test(test_gicr_waker),
		cmocka_unit_test(test_gicr_sgi_frame),
		cmocka_unit_test(test_gicd_bad_accesses),
		cmocka_unit_test(test_gicr_bad_accesses),
		cmocka_unit_test(test_gicr_rd_sizes),
		cmocka_unit_test(test_list_register_state),
		cmocka_unit_test(test_group_active_reserved),
		cmocka_unit_test(test_linux_v3_dist_init),
		cmocka_unit_test(test_linux_v2_dist_init),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
