/*
 * Creating a VM from its configuration: memory owned by it alone (stage 2),
 * passthrough devices and interrupts, the virtual GIC, vCPUs placed on the
 * cores of its bitmap.
 */
#include <arch/gic.h>
#include <arch/mmu.h>
#include <arch/stage2.h>
#include <core/cpu.h>
#include <core/irq.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/state.h>
#include <core/vm.h>
#include <dev/vgic.h>
#include <lib/string.h>
#include <shyper/errno.h>

#define VM_IPA_BITS 40

/* Stage-2 tables come from the frame pool; EL2 maps RAM with VA == PA. */
static uint64_t s2_alloc_table(void *ctx)
{
	uint64_t pa = mem_alloc_frames(1, 1);
	(void)ctx;
	if (pa == FRAME_NONE)
		return STAGE2_NO_FRAME;
	memset((void *)pa, 0, FRAME_SIZE);
	return pa;
}

static void s2_free_table(void *ctx, uint64_t pa)
{
	(void)ctx;
	mem_free_frames(pa, 1);
}

static uint64_t s2_alloc_root(void *ctx, unsigned nr)
{
	uint64_t pa = mem_alloc_frames(nr, nr);
	(void)ctx;
	if (pa == FRAME_NONE)
		return STAGE2_NO_FRAME;
	memset((void *)pa, 0, nr * FRAME_SIZE);
	return pa;
}

static void s2_free_root(void *ctx, uint64_t pa, unsigned nr)
{
	(void)ctx;
	mem_free_frames(pa, nr);
}

static void *s2_to_virt(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (void *)pa;
}

static const struct stage2_mm s2_mm = {
	.alloc_table = s2_alloc_table,
	.free_table = s2_free_table,
	.alloc_root = s2_alloc_root,
	.free_root = s2_free_root,
	.to_virt = s2_to_virt,
};

static bool ranges_overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as;
}

/* Devices the hypervisor itself drives may never be handed to a VM. */
static bool hits_hypervisor_device(uint64_t pa, uint64_t size)
{
	const struct board_gic *g = &hv.board.gic;

	return ranges_overlap(pa, size, g->gicd_base, g->gicd_size) ||
	       (g->gicr_size && ranges_overlap(pa, size, g->gicr_base, g->gicr_size)) ||
	       (g->gicc_size && ranges_overlap(pa, size, g->gicc_base, g->gicc_size)) ||
	       (g->gich_size && ranges_overlap(pa, size, g->gich_base, g->gich_size));
}

static enum irq_result passthrough_irq(uint32_t intid)
{
	unsigned owner = hv.irq_owner[intid];

	if (!owner || hv.vms[owner - 1].state != VM_RUNNING)
		return IRQ_HANDLED;
	vgic_forward_hw(&hv.vms[owner - 1], intid);
	return IRQ_FORWARDED;
}

static int map_memory(struct vm *vm, const struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_mem; i++) {
		const struct vm_mem_cfg *m = &cfg->mem[i];
		int ret;

		if (!m->identity)
			return -SHYPER_ENOTSUP; /* guests from the MVM come later */
		ret = frame_pool_reserve(&hv.frames, m->ipa, m->size / FRAME_SIZE);
		if (ret) {
			log_err("vm %s: memory 0x%lx-0x%lx is not free RAM (%d)", cfg->name,
				m->ipa, m->ipa + m->size, ret);
			return ret;
		}
		ret = stage2_map(&vm->s2, m->ipa, m->ipa, m->size, STAGE2_RWX);
		if (ret)
			return ret;
	}
	return 0;
}

static int map_passthrough(struct vm *vm, const struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_pt; i++) {
		const struct vm_passthrough_cfg *p = &cfg->pt[i];
		int ret;

		if (hits_hypervisor_device(p->pa, p->size)) {
			log_err("vm %s: passthrough 0x%lx is the hypervisor's interrupt controller",
				cfg->name, p->pa);
			return -SHYPER_EPERM;
		}
		ret = stage2_map(&vm->s2, p->ipa, p->pa, p->size,
				 STAGE2_R | STAGE2_W | STAGE2_DEVICE);
		if (ret)
			return ret;
	}
	for (unsigned i = 0; i < cfg->nr_pt_irqs; i++) {
		uint32_t intid = cfg->pt_irqs[i];

		if (intid < GIC_FIRST_SPI || intid >= gic_nr_irqs() ||
		    intid >= VGIC_MAX_IRQS)
			return -SHYPER_EINVAL;
		if (hv.irq_owner[intid] || irq_is_registered(intid)) {
			log_err("vm %s: interrupt %u already belongs to %s", cfg->name,
				intid, hv.irq_owner[intid] ? "another VM" : "the hypervisor");
			return -SHYPER_EBUSY;
		}
		hv.irq_owner[intid] = (uint8_t)(vm->id + 1);
		vm->vgic.spi[intid - VGIC_NR_PRIVATE].hw = true;
	}
	return 0;
}

int vm_create(const struct vm_config *cfg, struct vm **out)
{
	struct vm *vm = 0;
	uint64_t bitmap = cfg->cpu_bitmap;
	int ret;

	for (unsigned i = 0; i < HV_MAX_VMS; i++)
		if (hv.vms[i].state == VM_FREE) {
			vm = &hv.vms[i];
			vm->id = i;
			break;
		}
	if (!vm)
		return -SHYPER_ENOSPC;
	if (!cfg->nr_vcpus || cfg->nr_vcpus > VM_MAX_VCPUS ||
	    (unsigned)__builtin_popcountl(bitmap) < cfg->nr_vcpus ||
	    !(bitmap & (1UL << cfg->master)))
		return -SHYPER_EINVAL;

	vm->cfg = cfg;
	vm->vmid = (uint16_t)(vm->id + 1);
	vm->nr_vcpus = cfg->nr_vcpus;
	ret = stage2_init(&vm->s2, mmu_pa_bits(), VM_IPA_BITS, &s2_mm);
	if (ret)
		return ret;
	/* vCPU 0 on the master core, the others on the next cores of the bitmap. */
	bitmap &= ~(1UL << cfg->master);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		vcpu->id = i;
		vcpu->vm = vm;
		vcpu->state = VCPU_OFF;
		if (i == 0) {
			vcpu->pcpu = cfg->master;
		} else {
			vcpu->pcpu = (unsigned)__builtin_ctzl(bitmap);
			bitmap &= bitmap - 1;
		}
		if (vcpu->pcpu >= hv.nr_cpus || hv.cpus[vcpu->pcpu].state != CPU_ONLINE)
			return -SHYPER_ENODEV;
	}
	ret = vgic_init(vm);
	if (!ret)
		ret = map_memory(vm, cfg);
	if (!ret)
		ret = map_passthrough(vm, cfg);
	if (ret)
		return ret; /* the caller reports it; a failed MVM stops here */
	for (unsigned i = 0; i < cfg->nr_pt_irqs; i++)
		irq_register(cfg->pt_irqs[i], passthrough_irq);
	vm->state = VM_CREATED;
	*out = vm;
	return 0;
}

int vm_add_mmio(struct vm *vm, uint64_t base, uint64_t size, mmio_handler_t h,
		void *priv)
{
	if (vm->nr_mmio == VM_MAX_MMIO_HANDLERS)
		return -SHYPER_ENOSPC;
	vm->mmio[vm->nr_mmio++] = (struct mmio_region){ base, size, h, priv };
	return 0;
}

int vm_mmio_dispatch(struct vcpu *vcpu, struct mmio_access *acc)
{
	struct vm *vm = vcpu->vm;

	for (unsigned i = 0; i < vm->nr_mmio; i++) {
		struct mmio_region *r = &vm->mmio[i];

		if (acc->addr >= r->base && acc->addr - r->base < r->size)
			return r->handler(vcpu, acc, acc->addr - r->base, r->priv);
	}
	return -SHYPER_ENOENT;
}

struct vcpu *vm_find_vcpu_by_mpidr(struct vm *vm, uint64_t mpidr)
{
	/* Our vCPUs are 0.0.0.<index>. */
	if (mpidr & ~0xffUL)
		return 0;
	return mpidr < vm->nr_vcpus ? &vm->vcpus[mpidr] : 0;
}
