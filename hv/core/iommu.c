/*
 * DMA isolation: the SMMU, the VMs' streams and their DMA fault reports
 * (see core/iommu.h).
 */
#include <arch/cache.h>
#include <arch/gic.h>
#include <arch/sysreg.h>
#include <core/board.h>
#include <core/frame.h>
#include <core/iommu.h>
#include <core/irq.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/state.h>
#include <core/vm.h>
#include <lib/fmt.h>
#include <lib/string.h>
#include <shyper/errno.h>

#if HV_STATE_VERSION >= 4

#define io (hv.v4.iommu)
/* Lines about DMA of streams no VM has, before they are only counted. */
#define STRAY_REPORTS 32

static uint64_t pt_alloc(void *ctx)
{
	uint64_t pa = mem_alloc_frames(1, 1);

	(void)ctx;
	if (pa == FRAME_NONE)
		return IO_PT_NO_FRAME;
	memset((void *)pa, 0, FRAME_SIZE);
	return pa;
}

static void pt_free(void *ctx, uint64_t pa)
{
	(void)ctx;
	mem_free_frames(pa, 1);
}

static void *pt_virt(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (void *)pa;
}

static void pt_written(void *ctx, const void *p, size_t size)
{
	(void)ctx;
	smmu_publish(&io.smmu, p, size);
}

static const struct io_pt_ops pt_ops = {
	.alloc_table = pt_alloc, .free_table = pt_free, .to_virt = pt_virt,
	.written = pt_written,
};

/* The VM that has stream @sid, or NULL. */
static struct vm *stream_owner(uint32_t sid)
{
	for (unsigned id = 0; id < HV_MAX_VMS; id++)
		for (unsigned i = 0; i < io.vm[id].nr_streams; i++)
			if (io.vm[id].streams[i] == sid && hv.vms[id].state != VM_FREE)
				return &hv.vms[id];
	return NULL;
}

/*
 * Faults of one stream at ascending addresses, as a device's burst arrives
 * (an emulated device may split one transfer into word-sized accesses,
 * each its own event): one console line for the run.
 */
struct fault_run {
	struct smmu_event first;
	uint64_t last_addr;
	unsigned count;
};

#define RUN_GAP 64 /* bytes between two accesses of one run, at most */

static void report_run(const struct fault_run *r)
{
	const struct smmu_event *ev = &r->first;
	struct vm *vm = stream_owner(ev->sid);
	char where[80] = "";

	if (!r->count)
		return;
	if (ev->has_addr && r->count == 1)
		fmt_snprintf(where, sizeof(where), " %s 0x%lx", ev->write ? "write to" : "read of",
			     ev->addr);
	else if (ev->has_addr)
		fmt_snprintf(where, sizeof(where), " %s 0x%lx-0x%lx (%u accesses)",
			     ev->write ? "writes to" : "reads of", ev->addr, r->last_addr,
			     r->count);
	if (vm) {
		io.vm[vm->id].faults += r->count;
		if (vm_log_allowed(vm))
			log_warn("smmu: vm%u (%s) stream 0x%x: DMA%s refused (%s)", vm->id,
				 vm->cfg->name, ev->sid, where, smmu_event_name(ev->type));
		return;
	}
	if (io.stray_events++ < STRAY_REPORTS)
		log_warn("smmu: stream 0x%x: DMA%s refused (%s)", ev->sid, where,
			 smmu_event_name(ev->type));
}

static void collect(const struct smmu_event *ev, void *ctx)
{
	struct fault_run *r = ctx;
	const struct smmu_event *f = &r->first;

	if (r->count && ev->has_addr && f->has_addr && ev->sid == f->sid &&
	    ev->type == f->type && ev->write == f->write && ev->addr >= r->last_addr &&
	    ev->addr - r->last_addr <= RUN_GAP) {
		r->last_addr = ev->addr;
		r->count++;
		return;
	}
	report_run(r);
	*r = (struct fault_run){ .first = *ev, .last_addr = ev->addr, .count = 1 };
}

static enum irq_result smmu_irq(uint32_t intid)
{
	struct fault_run run = { 0 };
	bool overflowed;

	(void)intid;
	spin_lock(&io.lock);
	smmu_drain_events(&io.smmu, collect, &run, &overflowed);
	report_run(&run);
	if (overflowed && io.smmu.events_lost <= STRAY_REPORTS)
		log_warn("smmu: its event queue overflowed or it raised an error: some DMA "
			 "faults went unrecorded");
	spin_unlock(&io.lock);
	return IRQ_HANDLED;
}

void iommu_rebind(void)
{
	if (!io.smmu.present)
		return;
	irq_register(io.smmu.evt_intid, smmu_irq);
	if (io.smmu.gerr_intid)
		irq_register(io.smmu.gerr_intid, smmu_irq);
}

/* Interrupt named @name of the SMMU node, 0 if it has none. */
static uint32_t named_intid(const struct dt *dt, int node, const char *name)
{
	for (int i = 0;; i++) {
		int len;
		const char *s = dt_stringlist_get(dt, node, "interrupt-names", i, &len);
		uint32_t intid;

		if (!s)
			return 0;
		if (!strcmp(s, name))
			return board_read_intid(dt, node, i, &intid) ? 0 : intid;
	}
}

static void take_smmu(const struct dt *dt)
{
	int node = -1, ret;
	uint64_t base, size;
	uint32_t evt, gerr;

	do {
		node = dt_find_compatible(dt, node, "arm,smmu-v3");
	} while (node >= 0 && !dt_node_is_enabled(dt, node));
	if (node < 0)
		return;
	ret = board_read_dev_reg(dt, node, 0, false, &base, &size);
	evt = named_intid(dt, node, "eventq");
	gerr = named_intid(dt, node, "gerror");
	if (ret || size < 0x20000 || !evt) {
		log_warn("smmu: its node is malformed (reg, or no \"eventq\" interrupt): "
			 "DMA is not isolated");
		return;
	}
	ret = smmu_init(&io.smmu, base, evt, gerr);
	if (ret) {
		log_warn("smmu at 0x%lx not taken (%d): DMA is not isolated", base, ret);
		io.smmu.present = false;
		return;
	}
	iommu_rebind();
	gic_set_edge(evt); /* the SMMU pulses its lines */
	gic_enable(evt, 0);
	if (gerr) {
		gic_set_edge(gerr);
		gic_enable(gerr, 0);
	}
	log_info("smmu: SMMUv3 at 0x%lx, %u-bit stream ids, every stream blocked until "
		 "given to a VM", base, io.smmu.sid_bits);
}

void iommu_init(const struct dt *dt)
{
	int ret;

	memset(&io, 0, sizeof(io));
	ret = board_parse_pcie(dt, &io.pcie);
	if (ret) {
		log_warn("pcie: the host bridge's node is malformed (%d): not given to VMs", ret);
		io.pcie.present = false;
	}
	take_smmu(dt);
}

bool iommu_present(void)
{
	return io.smmu.present;
}

bool iommu_hits_smmu(uint64_t pa, uint64_t size)
{
	return io.smmu.present && pa < io.smmu.base + 0x20000 && io.smmu.base < pa + size;
}

const struct board_pcie *iommu_board_pcie(void)
{
	return &io.pcie;
}

unsigned iommu_vm_streams(const struct vm *vm)
{
	return io.vm[vm->id].nr_streams;
}

uint32_t iommu_vm_faults(const struct vm *vm)
{
	return io.vm[vm->id].faults;
}

int iommu_add_stream(struct vm *vm, uint64_t sid)
{
	struct iommu_vm *v = &io.vm[vm->id];
	uint64_t flags;
	int ret = 0;

	if (!io.smmu.present)
		return -SHYPER_ENODEV;
	if (sid >> io.smmu.sid_bits)
		return -SHYPER_EINVAL;
	flags = irq_save();
	spin_lock(&io.lock);
	for (unsigned i = 0; i < v->nr_streams; i++)
		if (v->streams[i] == sid)
			goto out;
	if (v->cd_pa)
		ret = -SHYPER_EBUSY; /* already started: its streams are set */
	else if (stream_owner((uint32_t)sid))
		ret = -SHYPER_EBUSY;
	else if (v->nr_streams == IOMMU_MAX_STREAMS)
		ret = -SHYPER_ENOSPC;
	else
		v->streams[v->nr_streams++] = (uint32_t)sid;
out:
	spin_unlock(&io.lock);
	irq_restore(flags);
	return ret;
}

/* With io.lock held: streams invalid, the ASID's TLB entries gone, tables
 * freed. Safe on a half-attached VM. */
static void detach_locked(struct vm *vm)
{
	struct iommu_vm *v = &io.vm[vm->id];

	for (unsigned i = 0; i < v->nr_streams; i++)
		if (smmu_set_ste(&io.smmu, v->streams[i], NULL))
			log_err("smmu: stream 0x%x of vm%u not invalidated", v->streams[i],
				vm->id);
	if (v->cd_pa) {
		smmu_flush_asid(&io.smmu, (uint16_t)(vm->id + 1));
		mem_free_frames(v->cd_pa, 1);
	}
	io_pt_destroy(&v->pt, &pt_ops);
	*v = (struct iommu_vm){ .faults = v->faults };
}

static int build_tables(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct iommu_vm *v = &io.vm[vm->id];

	for (unsigned i = 0; i < cfg->nr_mem; i++) {
		const struct vm_mem_cfg *m = &cfg->mem[i];
		uint64_t pa = m->identity ? m->ipa : vm->mem_pa[i];
		int ret = io_pt_map(&v->pt, &pt_ops, m->ipa, pa, m->size);

		if (ret)
			return ret;
	}
	return 0;
}

int iommu_vm_attach(struct vm *vm)
{
	struct iommu_vm *v = &io.vm[vm->id];
	uint64_t flags, ste[SMMU_STE_DWORDS];
	int ret = 0;

	if (!v->nr_streams || v->cd_pa)
		return 0;
	flags = irq_save();
	spin_lock(&io.lock);
	ret = build_tables(vm);
	if (!ret) {
		v->cd_pa = mem_alloc_frames(1, 1);
		if (v->cd_pa == FRAME_NONE) {
			v->cd_pa = 0;
			ret = -SHYPER_ENOMEM;
		}
	}
	if (!ret) {
		uint64_t *cd = (uint64_t *)v->cd_pa;

		memset(cd, 0, FRAME_SIZE);
		smmu_cd_s1(cd, v->pt.root_pa, (uint16_t)(vm->id + 1), io.smmu.oas_bits,
			   io_pt_mair());
		smmu_publish(&io.smmu, cd, SMMU_CD_DWORDS * 8);
		smmu_ste_s1(ste, v->cd_pa);
	}
	for (unsigned i = 0; !ret && i < v->nr_streams; i++)
		ret = smmu_set_ste(&io.smmu, v->streams[i], ste);
	if (ret) {
		uint32_t keep[IOMMU_MAX_STREAMS], n = v->nr_streams;

		memcpy(keep, v->streams, sizeof(keep));
		detach_locked(vm);
		memcpy(v->streams, keep, sizeof(keep)); /* still its, for a retry */
		v->nr_streams = n;
	}
	spin_unlock(&io.lock);
	irq_restore(flags);
	if (ret)
		log_err("vm%u: its DMA streams cannot be set up (%d)", vm->id, ret);
	else
		log_info("vm%u: %u DMA stream(s) translate through its RAM", vm->id,
			 v->nr_streams);
	return ret;
}

void iommu_vm_detach(struct vm *vm)
{
	struct iommu_vm *v = &io.vm[vm->id];
	uint64_t flags;

	if (!v->nr_streams && !v->cd_pa)
		return;
	flags = irq_save();
	spin_lock(&io.lock);
	detach_locked(vm);
	io.vm[vm->id].faults = 0;
	spin_unlock(&io.lock);
	irq_restore(flags);
}

#else /* an older state layout: no SMMU support */

void iommu_init(const struct dt *dt)
{
	(void)dt;
}

void iommu_rebind(void)
{
}

bool iommu_present(void)
{
	return false;
}

bool iommu_hits_smmu(uint64_t pa, uint64_t size)
{
	(void)pa;
	(void)size;
	return false;
}

const struct board_pcie *iommu_board_pcie(void)
{
	static const struct board_pcie none;

	return &none;
}

unsigned iommu_vm_streams(const struct vm *vm)
{
	(void)vm;
	return 0;
}

uint32_t iommu_vm_faults(const struct vm *vm)
{
	(void)vm;
	return 0;
}

int iommu_add_stream(struct vm *vm, uint64_t sid)
{
	(void)vm;
	(void)sid;
	return -SHYPER_ENODEV;
}

int iommu_vm_attach(struct vm *vm)
{
	(void)vm;
	return 0;
}

void iommu_vm_detach(struct vm *vm)
{
	(void)vm;
}

#endif
