/*
 * Virtual machines: memory owned by one VM alone (stage 2), passthrough
 * devices and interrupts, vCPUs placed on the cores of its bitmap, the vGIC.
 * The MVM is created whole from the built-in configuration (vm_create);
 * guests are built piece by piece by config hypercalls (vm_cfg.c) and
 * completed with vm_setup().
 */
#include <arch/cache.h>
#include <arch/gic.h>
#include <arch/mmu.h>
#include <arch/timer.h>
#include <arch/stage2.h>
#include <arch/stage2_tlb.h>
#include <arch/sysreg.h>
#include <core/cpu.h>
#include <core/irq.h>
#include <core/iommu.h>
#include <core/ivc.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/state.h>
#include <core/vm.h>
#include <dev/vdev.h>
#include <dev/vgic.h>
#include <dev/vuart.h>
#include <core/vm_fdt.h>
#include <lib/string.h>
#include <shyper/errno.h>
#include <lib/popcount.h>

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

/* The VM may run on other cores while its stage 2 changes. */
static void s2_tlb_flush(void *ctx, uint64_t ipa, uint64_t size)
{
	struct vm *vm = ctx;

	stage2_tlb_flush_vm(stage2_vttbr(&vm->s2, vm->vmid), ipa, size);
}

struct vm *vm_by_id(unsigned id)
{
	return id < HV_MAX_VMS && hv.vms[id].state != VM_FREE ? &hv.vms[id] : 0;
}

bool vm_is_mvm(const struct vm *vm)
{
	return vm->id == 0;
}

void vm_stage2_hooks(struct vm *vm)
{
	vm->s2_mm = (struct stage2_mm){
		.alloc_table = s2_alloc_table,
		.free_table = s2_free_table,
		.alloc_root = s2_alloc_root,
		.free_root = s2_free_root,
		.to_virt = s2_to_virt,
		.tlb_flush = s2_tlb_flush,
		.ctx = vm,
	};
}

int vm_stage2_init(struct vm *vm)
{
	int ret;

	vm->vmid = (uint16_t)(vm->id + 1);
	vm_stage2_hooks(vm);
	ret = stage2_init(&vm->s2, mmu_pa_bits(), VM_IPA_BITS, &vm->s2_mm);
	/*
	 * The VMID is the slot's, so an earlier VM in this slot may have left
	 * entries tagged with it in every core's TLBs, and the architecture
	 * lets a VMID be reused only once those are invalidated. A VM that starts fresh
	 * flushes as its vCPUs start; one built for a restore or an incoming
	 * migration resumes without a start, so flush here, for every VM.
	 * (QEMU hides the difference: it empties its TLB whenever HCR_EL2.VM
	 * changes, as it does each time a core takes a vCPU on from idle.)
	 */
	if (!ret)
		stage2_tlb_flush_vm(stage2_vttbr(&vm->s2, vm->vmid), 0, 0);
	return ret;
}

uint64_t vm_s2_lock(struct vm *vm)
{
	uint64_t flags = irq_save();

	spin_lock(&vm->s2_lock);
	return flags;
}

void vm_s2_unlock(struct vm *vm, uint64_t flags)
{
	spin_unlock(&vm->s2_lock);
	irq_restore(flags);
}

void *vm_ram_ptr(struct vm *vm, uint64_t ipa, uint64_t len)
{
	const struct vm_config *cfg = vm->cfg;

	for (unsigned i = 0; i < cfg->nr_mem; i++) {
		const struct vm_mem_cfg *m = &cfg->mem[i];

		if (ipa >= m->ipa && len <= m->size && ipa - m->ipa <= m->size - len)
			return (void *)(vm->mem_pa[i] + (ipa - m->ipa));
	}
	return 0;
}

static bool ranges_overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as;
}

bool hits_hypervisor_device(uint64_t pa, uint64_t size)
{
	const struct board_gic *g = &hv.board.gic;

	return iommu_hits_smmu(pa, size) ||
	       ranges_overlap(pa, size, g->gicd_base, g->gicd_size) ||
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

int vm_passthrough_irqs(struct vm *vm)
{
	int first = 0;

	for (unsigned i = 0; i < vm->cfg->nr_pt_irqs; i++) {
		int ret = irq_register(vm->cfg->pt_irqs[i], passthrough_irq);

		if (ret && !first)
			first = ret;
	}
	return first;
}

/*
 * Linux VMs may share cores (they take turns); a bare-metal (real-time) VM
 * and the MVM never share theirs.
 */
static bool may_share(const struct vm *a, const struct vm *b)
{
	return !vm_is_mvm(a) && !vm_is_mvm(b) && a->cfg->type == VM_T_LINUX &&
	       b->cfg->type == VM_T_LINUX;
}

static uint64_t claimed_cores(const struct vm *vm)
{
	return vm->id == 0 || vm->cpus_set ? vm->cfg->cpu_bitmap : 0;
}

/* cpu_owner names the first VM on a core; recomputed when one leaves. */
static void recompute_cpu_owners(void)
{
	for (unsigned c = 0; c < HV_MAX_CPUS; c++) {
		hv.cpu_owner[c] = 0;
		for (unsigned id = 0; id < HV_MAX_VMS && !hv.cpu_owner[c]; id++)
			if (hv.vms[id].state != VM_FREE &&
			    (claimed_cores(&hv.vms[id]) & (1UL << c)))
				hv.cpu_owner[c] = (uint8_t)(id + 1);
	}
}

int vm_claim_cpus(struct vm *vm, uint64_t bitmap)
{
	for (unsigned c = 0; c < HV_MAX_CPUS; c++) {
		if (!(bitmap & (1UL << c)))
			continue;
		if (c >= hv.nr_cpus || hv.cpus[c].state != CPU_ONLINE)
			return -SHYPER_ENODEV;
		for (unsigned id = 0; id < HV_MAX_VMS; id++) {
			const struct vm *other = &hv.vms[id];

			if (other != vm && other->state != VM_FREE &&
			    (claimed_cores(other) & (1UL << c)) && !may_share(vm, other))
				return -SHYPER_EBUSY;
		}
	}
	vm->config.cpu_bitmap = bitmap; /* guests; the MVM's is its own config */
	vm->cpus_set = true;
	recompute_cpu_owners();
	return 0;
}

int vm_claim_irq(struct vm *vm, uint32_t intid)
{
	if (intid < GIC_FIRST_SPI || intid >= gic_nr_irqs() || intid >= VGIC_MAX_IRQS)
		return -SHYPER_EINVAL;
	if (hv.irq_owner[intid] == vm->id + 1)
		return 0;
	if (hv.irq_owner[intid] || irq_is_registered(intid))
		return -SHYPER_EBUSY;
	hv.irq_owner[intid] = (uint8_t)(vm->id + 1);
	return 0;
}

static int map_identity_memory(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;

	for (unsigned i = 0; i < cfg->nr_mem; i++) {
		const struct vm_mem_cfg *m = &cfg->mem[i];
		int ret = frame_pool_reserve(&hv.frames, m->ipa, m->size / FRAME_SIZE);

		if (ret) {
			log_err("vm %s: memory 0x%lx-0x%lx is not free RAM (%d)", cfg->name,
				m->ipa, m->ipa + m->size, ret);
			return ret;
		}
		vm->mem_pa[i] = m->ipa;
		ret = stage2_map(&vm->s2, m->ipa, m->ipa, m->size, STAGE2_RWX);
		if (ret)
			return ret;
	}
	return 0;
}

int vm_map_passthrough(struct vm *vm, uint64_t pa, uint64_t ipa, uint64_t size)
{
	if (!size || (pa | ipa | size) & (FRAME_SIZE - 1) || pa + size < pa)
		return -SHYPER_EINVAL;
	if (hits_hypervisor_device(pa, size))
		return -SHYPER_EPERM;
	for (unsigned i = 0; i < hv.board.nr_ram; i++)
		if (ranges_overlap(pa, size, hv.board.ram[i].base, hv.board.ram[i].size))
			return -SHYPER_EPERM; /* RAM is given as memory regions only */
	return stage2_map(&vm->s2, ipa, pa, size, STAGE2_R | STAGE2_W | STAGE2_DEVICE);
}

/* vCPU 0 on the master core, the others on the next cores of the bitmap. */
static int place_vcpus(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	uint64_t bitmap = cfg->cpu_bitmap & ~(1UL << cfg->master);

	if (!cfg->nr_vcpus || cfg->nr_vcpus > VM_MAX_VCPUS ||
	    (unsigned)popcount64(cfg->cpu_bitmap) < cfg->nr_vcpus ||
	    !(cfg->cpu_bitmap & (1UL << cfg->master)))
		return -SHYPER_EINVAL;
	vm->nr_vcpus = cfg->nr_vcpus;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		*vcpu = (struct vcpu){ .id = i, .vm = vm, .state = VCPU_OFF };
		if (i == 0) {
			vcpu->pcpu = cfg->master;
		} else {
			vcpu->pcpu = (unsigned)__builtin_ctzl(bitmap);
			bitmap &= bitmap - 1;
		}
		if (vcpu->pcpu >= hv.nr_cpus || hv.cpus[vcpu->pcpu].state != CPU_ONLINE)
			return -SHYPER_ENODEV;
	}
	return 0;
}

/* The emulated devices may not sit on memory or passthrough mappings. */
static int check_emulated_ranges(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_mmio; i++)
		for (uint64_t a = vm->mmio[i].base;
		     a < vm->mmio[i].base + vm->mmio[i].size; a += FRAME_SIZE) {
			uint64_t pa;
			unsigned flags;

			if (!stage2_translate(&vm->s2, a, &pa, &flags))
				return -SHYPER_EEXIST;
		}
	return 0;
}

/* A vm_setup that failed part way: nothing of it stays, so that the MVM
 * can fix the configuration and FINISH again (or remove the VM) without
 * devices set up twice or torn down twice. */
static void setup_undo(struct vm *vm, bool gicc_mapped)
{
	vdev_teardown_all(vm);
	if (gicc_mapped) /* pages of its own tables: unmapping allocates nothing */
		(void)stage2_unmap(&vm->s2, vm->cfg->gicc_ipa, VGIC_GICV2_CPU_SIZE);
	memset(vm->vdevs, 0, sizeof(vm->vdevs));
	memset(vm->mmio, 0, sizeof(vm->mmio));
	vm->nr_mmio = 0;
	memset(&vm->vgic, 0, sizeof(vm->vgic));
	memset(vm->vcpus, 0, sizeof(vm->vcpus));
	vm->nr_vcpus = 0;
}

int vm_setup(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	bool gicc_mapped = false;
	int ret = place_vcpus(vm);

	if (!ret) {
		ret = vgic_init(vm);
		gicc_mapped = !ret && vm->vgic.version == 2;
	}
	if (!ret && vm->has_uart)
		ret = vm_add_mmio(vm, vm->uart.base, VUART_SIZE, MMIO_VUART, 0);
	if (!ret)
		ret = vdev_setup_all(vm);
	if (!ret)
		ret = check_emulated_ranges(vm);
	if (ret) {
		setup_undo(vm, gicc_mapped);
		return ret;
	}
	for (unsigned i = 0; i < cfg->nr_pt_irqs; i++)
		vm->vgic.spi[cfg->pt_irqs[i] - VGIC_NR_PRIVATE].hw = true;
	vm_passthrough_irqs(vm);
	vm->setup_done = true;
	vm->state = VM_READY;
	return 0;
}

int vm_create(const struct vm_config *cfg, struct vm **out)
{
	struct vm *vm = &hv.vms[0]; /* the built-in VM is the MVM, id 0 */
	int ret;

	if (vm->state != VM_FREE)
		return -SHYPER_EEXIST;
	*vm = (struct vm){ .id = 0, .cfg = cfg, .state = VM_CONFIGURING };
	ret = vm_stage2_init(vm);
	if (!ret)
		ret = vm_claim_cpus(vm, cfg->cpu_bitmap);
	for (unsigned i = 0; !ret && i < cfg->nr_mem; i++)
		if (!cfg->mem[i].identity)
			ret = -SHYPER_ENOTSUP;
	if (!ret)
		ret = map_identity_memory(vm);
	for (unsigned i = 0; !ret && i < cfg->nr_pt; i++) {
		ret = vm_map_passthrough(vm, cfg->pt[i].pa, cfg->pt[i].ipa, cfg->pt[i].size);
		if (ret)
			log_err("vm %s: passthrough 0x%lx: %d", cfg->name, cfg->pt[i].pa, ret);
	}
	for (unsigned i = 0; !ret && i < cfg->nr_pt_irqs; i++) {
		ret = vm_claim_irq(vm, cfg->pt_irqs[i]);
		if (ret)
			log_err("vm %s: interrupt %u: %d", cfg->name, cfg->pt_irqs[i], ret);
	}
	if (!ret)
		ret = vm_setup(vm);
	if (ret)
		return ret; /* a failed MVM leaves the hypervisor console in charge */
	*out = vm;
	return 0;
}

void vm_destroy(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;

	/* Its devices' DMA stops before any of its memory can be freed. */
	iommu_vm_detach(vm);
	ivc_vm_destroy(vm); /* unmapped from peers before anything goes */
	vdev_teardown_all(vm);
	for (unsigned i = 0; i <= GIC_MAX_INTID; i++)
		if (hv.irq_owner[i] == vm->id + 1) {
			gic_disable(i, 0);
			irq_unregister(i);
			hv.irq_owner[i] = 0;
		}
	dirty_log_stop(vm); /* its storage back; harmless when not logging */
	vm->cpus_set = false;
	vm->state = VM_FREE;
	recompute_cpu_owners();
	if (vm->s2.mm)
		stage2_destroy(&vm->s2);
	/* Scrubbed before the frames can reach anyone else. */
	for (unsigned i = 0; cfg && i < cfg->nr_mem; i++)
		if (vm->mem_pa[i] && !cfg->mem[i].identity) {
			memset((void *)vm->mem_pa[i], 0, cfg->mem[i].size);
			cache_clean_range(vm->mem_pa[i], cfg->mem[i].size);
			mem_free_frames(vm->mem_pa[i], cfg->mem[i].size / FRAME_SIZE);
		}
	for (unsigned k = 0; k < 3; k++)
		if (vm->images[k].store_pa)
			mem_free_frames(vm->images[k].store_pa,
					(vm->images[k].size + FRAME_SIZE - 1) / FRAME_SIZE);
	*vm = (struct vm){ .id = vm->id, .state = VM_FREE };
}

int vm_add_mmio(struct vm *vm, uint64_t base, uint64_t size, enum mmio_kind kind,
		void *priv)
{
	for (unsigned i = 0; i < vm->nr_mmio; i++)
		if (ranges_overlap(base, size, vm->mmio[i].base, vm->mmio[i].size))
			return -SHYPER_EEXIST;
	if (vm->nr_mmio == VM_MAX_MMIO_HANDLERS)
		return -SHYPER_ENOSPC;
	vm->mmio[vm->nr_mmio++] = (struct mmio_region){ base, size, kind, priv };
	return 0;
}

/* Direct calls (tail calls for the vGIC's reads, a latency figure). */
static int mmio_call(const struct mmio_region *r, struct vcpu *vcpu,
		     struct mmio_access *acc)
{
	uint64_t offset = acc->addr - r->base;

	switch (r->kind) {
	case MMIO_VGIC_GICD:
		return vgic_gicd_trap(vcpu, acc, offset, r->priv);
	case MMIO_VGIC_GICR:
		return vgic_gicr_trap(vcpu, acc, offset, r->priv);
	case MMIO_VUART:
		return vuart_access(vcpu, acc, offset, r->priv);
	case MMIO_VDEV:
		return vdev_mmio_access(vcpu, acc, offset, r->priv);
	}
	return -SHYPER_EINVAL;
}

int vm_mmio_dispatch(struct vcpu *vcpu, struct mmio_access *acc)
{
	struct vm *vm = vcpu->vm;

	for (unsigned i = 0; i < vm->nr_mmio; i++) {
		const struct mmio_region *r = &vm->mmio[i];

		if (acc->addr >= r->base && acc->addr - r->base < r->size)
			return mmio_call(r, vcpu, acc);
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

void vm_fdt_describe_vm(struct vm *vm, struct vm_fdt_desc *d)
{
	const struct vm_config *cfg = vm->cfg;

	for (unsigned i = 0; i < cfg->nr_mem; i++)
		d->mem[i] = (struct vm_fdt_region){ cfg->mem[i].ipa, cfg->mem[i].size };
	d->gic.version = vm->vgic.version;
	d->gic.gicd_base = cfg->gicd_ipa;
	d->gic.gicd_size = vgic_gicd_size(vm);
	d->gic.gicc_base = cfg->gicc_ipa;
	d->gic.gicc_size = VGIC_GICV2_CPU_SIZE;
	d->gic.gicr_base = cfg->gicr_ipa;
	d->gic.gicr_size = vm->nr_vcpus * VGIC_GICR_FRAME_SIZE;
}

bool vm_log_allowed(struct vm *vm)
{
	uint64_t now = timer_now(), period = timer_freq() / VM_LOG_PER_SECOND;

	if (!vm->log_refill_at) {
		vm->log_tokens = VM_LOG_BURST;
		vm->log_refill_at = now + period;
	}
	while (now >= vm->log_refill_at && vm->log_tokens < VM_LOG_BURST) {
		vm->log_tokens++;
		vm->log_refill_at += period;
	}
	if (now >= vm->log_refill_at)
		vm->log_refill_at = now + period;
	if (!vm->log_tokens) {
		vm->log_suppressed++;
		return false;
	}
	vm->log_tokens--;
	if (vm->log_suppressed) {
		log_warn("vm%u (%s): %u fault reports suppressed", vm->id, vm->cfg->name,
			 vm->log_suppressed);
		vm->log_suppressed = 0;
	}
	return true;
}
