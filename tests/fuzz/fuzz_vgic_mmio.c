/*
 * libFuzzer harness for the emulated GIC distributor and redistributor
 * registers (hv/dev/vgic_mmio.c, with vgic_irq.c), as the stage-2 fault
 * path hands them guest accesses: any offset inside the region the VM
 * maps (vm_mmio_dispatch checks only that), widths 1, 2, 4 and 8, reads
 * and writes, from any vCPU, against a VM as vgic_init() leaves it (GICv2
 * or v3, 1 to VM_MAX_VCPUS vCPUs, 32 to 512 interrupts). vgic_inject,
 * vgic_irq_enable_changed and vgic_irq_route_changed live in vgic.c (target
 * only); here they are fakes that check what they are handed, as
 * tests/unit/test_vgic_mmio.c's do.
 *
 * Checked after every access, beyond no crash or sanitizer report:
 *  - the result is 0 or -SHYPER_EINVAL, and a refused access (or any read)
 *    leaves every byte of the VM as it was and calls nothing;
 *  - a read returns no bits beyond its width (trap.c does not mask);
 *  - RAZ/WI: distributor words other than CTLR, TYPER, IIDR and PIDR2 read
 *    0, redistributor ones other than IIDR, TYPER, WAKER and PIDR2 too;
 *    the active bitmaps read 0 (no vCPU runs here: nothing is in a list
 *    register); interrupts the VM lacks, private ones
 *    through a GICv3 distributor and shared ones through a redistributor
 *    read 0; writes to registers without effect (IGROUPR, the active
 *    bitmaps, reserved words) change nothing;
 *  - the state stays what the registers allow: CTLR within its mask, SGIs
 *    edge-triggered, ICFGR fields 0 or 2, GICv2 targets only existing
 *    vCPUs, GICR_WAKER only ProcessorSleep;
 *  - a byte written to an IPRIORITYR of an interrupt the VM has reads back
 *    with its top 5 bits.
 *
 * Input layout:
 *   0      bit 0: GICv3 (else v2); bits 1-3: vCPUs - 1 (1 .. 8)
 *   1      interrupts: 32 * (1 + value % 16)
 *   2-     accesses, each: a control byte (bit 0 redistributor, bits 1-2
 *          log2 width, bit 3 write, bits 4-7 the vCPU making it), 3 bytes
 *          of offset (LE; raw, dense or a named register: pick_offset(),
 *          then modulo the region's size), then as many value bytes as the
 *          width for a write
 *
 * fuzz-sources: hv/dev/vgic_mmio.c hv/dev/vgic_irq.c
 * fuzz-cflags: -Ihv/arch/aarch64/inc -Ihv/plat/qemu-virt/inc
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <core/vm.h>
#include <dev/vgic.h>
#include <shyper/errno.h>

#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IIDR 0x0008
#define GICD_IGROUPR 0x0080
#define GICD_ISACTIVER 0x0300
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR 0x0c00
#define GICD_SGIR 0x0f00
#define GICD_IROUTER 0x6000
#define GICD_IROUTER_END 0x7fe0
#define GICD_PIDR2_V3 0xffe8
#define GICD_PIDR2_V2 0x0fe8
#define GICR_IIDR 0x0004
#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_PIDR2 0xffe8
#define GICR_SGI_BASE 0x10000

static struct vm *cur_vm;
static unsigned calls;

static void check_vcpu(const struct vcpu *v)
{
	if (!v || v->vm != cur_vm || v < &cur_vm->vcpus[0] ||
	    v >= &cur_vm->vcpus[cur_vm->nr_vcpus] || v != &cur_vm->vcpus[v->id])
		abort();
}

void vgic_inject(struct vcpu *vcpu, uint32_t intid)
{
	check_vcpu(vcpu);
	if (intid >= cur_vm->vgic.nr_irqs)
		abort();
	calls++;
	vcpu->vgic.pending[intid / 64] |= 1UL << (intid % 64);
}

void vgic_inject_sgi(struct vcpu *vcpu, uint32_t sgi, unsigned source)
{
	if (sgi >= 16 || source >= cur_vm->nr_vcpus)
		abort();
	vgic_inject(vcpu, sgi);
}

void vgic_unpend(struct vcpu *vcpu, uint32_t intid)
{
	check_vcpu(vcpu);
	if (intid >= cur_vm->vgic.nr_irqs)
		abort();
	calls++;
	vcpu->vgic.pending[intid / 64] &= ~(1UL << (intid % 64));
}

/* No vCPU runs here, so no list register is live: the real ones read
 * nothing and change nothing either (what they do on live ones is
 * gic-check's, in the system tests). Checked, not counted. */
void vgic_lr_state(struct vcpu *vcpu, uint32_t intid, bool *pending, bool *active)
{
	check_vcpu(vcpu);
	if (intid >= cur_vm->vgic.nr_irqs)
		abort();
	*pending = *active = false;
}

void vgic_lr_clear(struct vcpu *vcpu, uint32_t intid, unsigned drop)
{
	check_vcpu(vcpu);
	if (intid >= cur_vm->vgic.nr_irqs || (drop != 1 && drop != 2))
		abort();
}

void vgic_lr_set_active(struct vcpu *vcpu, uint32_t intid, const struct vgic_irq *irq)
{
	check_vcpu(vcpu);
	if (intid >= cur_vm->vgic.nr_irqs || irq != vgic_get_irq(cur_vm, vcpu, intid))
		abort();
}

void vgic_irq_enable_changed(struct vm *vm, struct vcpu *vcpu, uint32_t intid)
{
	if (vm != cur_vm || !vgic_get_irq(vm, vcpu, intid))
		abort();
	if (vcpu)
		check_vcpu(vcpu);
	calls++;
}

void vgic_irq_route_changed(struct vm *vm, uint32_t intid)
{
	if (vm != cur_vm || intid < VGIC_NR_PRIVATE || intid >= vm->vgic.nr_irqs)
		abort();
	calls++;
}

static struct vm *make_vm(unsigned version, unsigned nr_vcpus, unsigned nr_irqs)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		abort();
	vm->nr_vcpus = nr_vcpus;
	vm->vgic.version = version;
	vm->vgic.nr_irqs = nr_irqs;
	vm->vgic.gicd_ipa = 0x08000000UL;
	vm->vgic.gicr_ipa = 0x080a0000UL;
	for (unsigned i = 0; i < nr_vcpus; i++) {
		vm->vcpus[i].id = i;
		vm->vcpus[i].vm = vm;
		for (unsigned n = 0; n < 16; n++)
			vm->vcpus[i].vgic.priv[n].cfg = 2; /* SGIs are edge */
	}
	return vm;
}

static void check_irq(const struct vm *vm, const struct vgic_irq *irq, uint32_t intid)
{
	if ((irq->cfg != 0 && irq->cfg != 2) || (intid < 16 && irq->cfg != 2))
		abort();
	if (irq->targets & ~((1U << vm->nr_vcpus) - 1))
		abort();
}

static void check_state(const struct vm *vm)
{
	if (vm->vgic.ctlr & ~(vm->vgic.version == 3 ? 3U : 1U))
		abort();
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu *v = &vm->vcpus[i];

		if (v->vgic.waker & ~2U)
			abort();
		for (uint32_t n = 0; n < VGIC_NR_PRIVATE; n++)
			check_irq(vm, &v->vgic.priv[n], n);
	}
	for (uint32_t n = VGIC_NR_PRIVATE; n < vm->vgic.nr_irqs; n++)
		check_irq(vm, &vm->vgic.spi[n - VGIC_NR_PRIVATE], n);
}

/* The per-interrupt registers: base, length, bits per interrupt. */
static const struct {
	uint32_t base, len, bits;
	bool raz, wi;
} irq_regs[] = {
	{ 0x0080, 0x080, 1, false, true }, /* IGROUPR (reads the group) */
	{ 0x0100, 0x080, 1, false, false }, { 0x0180, 0x080, 1, false, false },
	{ 0x0200, 0x080, 1, false, false }, { 0x0280, 0x080, 1, false, false },
	{ 0x0300, 0x080, 1, true, true },  { 0x0380, 0x080, 1, true, true },
	{ 0x0400, 0x400, 8, false, false }, { 0x0800, 0x400, 8, false, false },
	{ 0x0c00, 0x100, 2, false, false },
};

/*
 * What a read of a per-interrupt register must show as zero: a mask of
 * the bits the access returns that belong to interrupts invisible through
 * this frame, or to a RAZ register. -1 if offset is no such register.
 */
static int64_t irq_reg_raz(const struct vm *vm, uint64_t offset, unsigned size,
			   bool private_only, bool shared_only, bool *wi)
{
	for (unsigned r = 0; r < sizeof(irq_regs) / sizeof(irq_regs[0]); r++) {
		uint64_t mask = 0;
		uint32_t first, count;

		if (offset < irq_regs[r].base || offset >= irq_regs[r].base + irq_regs[r].len)
			continue;
		*wi = irq_regs[r].wi;
		first = (uint32_t)((offset - irq_regs[r].base) * 8 / irq_regs[r].bits);
		count = size * 8 / irq_regs[r].bits;
		for (uint32_t i = 0; i < count; i++) {
			uint32_t intid = first + i;

			if (irq_regs[r].raz || intid >= vm->vgic.nr_irqs ||
			    (private_only && intid >= VGIC_NR_PRIVATE) ||
			    (shared_only && intid < VGIC_NR_PRIVATE))
				mask |= ((1ULL << irq_regs[r].bits) - 1) << (i * irq_regs[r].bits);
		}
		return (int64_t)mask;
	}
	return -1;
}

/*
 * The bits of a successful read that must be zero, and whether a write
 * there must change nothing.
 */
static uint64_t raz_mask(const struct vm *vm, bool gicr, uint64_t offset, unsigned size,
			 bool *wi)
{
	bool v3 = vm->vgic.version == 3;
	int64_t m;

	*wi = false;
	if (gicr) {
		offset %= VGIC_GICR_FRAME_SIZE;
		if (offset >= GICR_SGI_BASE) {
			m = irq_reg_raz(vm, offset - GICR_SGI_BASE, size, true, false, wi);
			if (m >= 0)
				return (uint64_t)m;
			*wi = true;
			return ~0ULL;
		}
		*wi = offset != GICR_WAKER;
		if (offset == GICR_IIDR || offset == GICR_TYPER || offset == GICR_TYPER + 4 ||
		    offset == GICR_WAKER || offset == GICR_PIDR2)
			return 0;
		return ~0ULL; /* GICR_CTLR and the rest: RAZ/WI */
	}
	if (v3 && offset >= GICD_IROUTER && offset < GICD_IROUTER_END) {
		uint32_t intid = (uint32_t)((offset - GICD_IROUTER) / 8);

		if (intid < VGIC_NR_PRIVATE || intid >= vm->vgic.nr_irqs) {
			*wi = true;
			return ~0ULL;
		}
		return 0;
	}
	if (offset < 0x80 || offset >= 0x0d00) {
		*wi = offset != GICD_CTLR && !(offset == GICD_SGIR && !v3);
		if (offset == GICD_CTLR || offset == GICD_TYPER || offset == GICD_IIDR ||
		    offset == (v3 ? GICD_PIDR2_V3 : GICD_PIDR2_V2))
			return 0;
		return ~0ULL;
	}
	m = irq_reg_raz(vm, offset, size, false, v3, wi);
	return m >= 0 ? (uint64_t)m : ~0ULL;
}

/* Registers a fuzzer would seldom hit by chance (exact, aligned offsets). */
static const uint32_t named_gicd[] = {
	GICD_CTLR, GICD_TYPER, GICD_IIDR, 0x000c, GICD_SGIR, GICD_PIDR2_V2, GICD_PIDR2_V3,
};
static const uint32_t named_gicr[] = {
	0x0000, GICR_IIDR, GICR_TYPER, GICR_TYPER + 4, 0x0010, GICR_WAKER, GICR_PIDR2,
};

/*
 * The access's offset from its 3 input bytes: bits 22-23 pick how. 0, 1:
 * as it is; 2: the low 12 bits (the dense part of both frames); 3: a named
 * register (bits 0-2; 7: a distributor IROUTER word, the interrupt from
 * bits 3-12, the high half with bit 13), in the frame of bits 14-16.
 * The caller reduces it modulo the region's size.
 */
static uint64_t pick_offset(uint64_t raw, bool gicr)
{
	unsigned which = raw & 7;

	switch (raw >> 22) {
	case 2:
		return raw & 0xfff;
	case 3:
		if (gicr)
			return VGIC_GICR_FRAME_SIZE * ((raw >> 14) & 7) + named_gicr[which % 7];
		if (which == 7)
			return GICD_IROUTER + 8 * ((raw >> 3) & 0x3ff) + (raw & (1u << 13) ? 4 : 0);
		return named_gicd[which];
	default:
		return raw;
	}
}

static int access(struct vm *vm, unsigned vcpu, bool gicr, uint64_t offset, unsigned size,
		  bool write, uint64_t *value)
{
	struct mmio_access a = {
		.addr = (gicr ? vm->vgic.gicr_ipa : vm->vgic.gicd_ipa) + offset,
		.size = size, .write = write,
		.value = write ? *value : 0x5a5a5a5a5a5a5a5aUL,
	};
	int ret = gicr ? vgic_gicr_access(&vm->vcpus[vcpu], &a, offset, NULL) :
			 vgic_gicd_access(&vm->vcpus[vcpu], &a, offset, NULL);

	*value = a.value;
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned widths[4] = { 1, 2, 4, 8 };
	struct vm *vm, *before;
	size_t pos = 2;
	unsigned nr_vcpus, accesses = 0;

	if (size < 2)
		return 0;
	nr_vcpus = 1 + ((data[0] >> 1) & 7);
	if (nr_vcpus > VM_MAX_VCPUS)
		nr_vcpus = VM_MAX_VCPUS;
	vm = make_vm(data[0] & 1 ? 3 : 2, nr_vcpus, 32 * (1 + data[1] % 16));
	before = malloc(sizeof(*vm));
	if (!before)
		abort();
	cur_vm = vm;

	while (pos + 4 <= size && accesses++ < 4096) {
		uint8_t ctl = data[pos];
		bool gicr = ctl & 1, write = ctl & 8, wi;
		unsigned width = widths[(ctl >> 1) & 3], vcpu = (ctl >> 4) % nr_vcpus;
		uint64_t region, offset, value = 0, mask;
		int ret;

		offset = data[pos + 1] | data[pos + 2] << 8 | (uint64_t)data[pos + 3] << 16;
		pos += 4;
		if (gicr && vm->vgic.version != 3)
			gicr = false; /* GICv2 has no redistributors */
		offset = pick_offset(offset, gicr);
		region = gicr ? VGIC_GICR_FRAME_SIZE * nr_vcpus :
			 vm->vgic.version == 3 ? VGIC_GICD_SIZE : VGIC_GICV2_DIST_SIZE;
		offset %= region;
		if (write)
			for (unsigned i = 0; i < width; i++)
				value |= (uint64_t)(pos < size ? data[pos++] : 0) << (8 * i);

		memcpy(before, vm, sizeof(*vm));
		calls = 0;
		ret = access(vm, vcpu, gicr, offset, width, write, &value);
		if (ret != 0 && ret != -SHYPER_EINVAL)
			abort();
		if ((ret || !write) && (memcmp(before, vm, sizeof(*vm)) || calls))
			abort(); /* refused, or a read: nothing changes */
		if (ret)
			continue;
		mask = raz_mask(vm, gicr, offset, width, &wi);
		if (width < 8)
			mask &= (1ULL << (8 * width)) - 1;
		if (!write) {
			if (width < 8 && value >> (8 * width))
				abort();
			if (value & mask)
				abort();
			continue;
		}
		if (wi && (memcmp(before, vm, sizeof(*vm)) || calls))
			abort();
		check_state(vm);
		/* A priority byte reads back through the same frame. */
		if (width == 1 && !mask &&
		    (gicr ? offset % VGIC_GICR_FRAME_SIZE - GICR_SGI_BASE :
			    offset) - GICD_IPRIORITYR < 0x400 &&
		    (!gicr || offset % VGIC_GICR_FRAME_SIZE >= GICR_SGI_BASE)) {
			uint64_t back = 0;

			if (access(vm, vcpu, gicr, offset, 1, false, &back) ||
			    back != (value & VGIC_PRIO_MASK))
				abort();
		}
	}
	free(before);
	free(vm);
	return 0;
}
