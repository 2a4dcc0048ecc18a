/*
 * A guest's state out of and into the hypervisor as a migration stream
 * (core/vm_state.h, docs/MIGRATION.md). This file orders the sections,
 * writes VM_CONFIG from the VM's configuration and checks a loaded one
 * against it; the vCPUs (arch/vcpu_state.c), the vGIC (dev/vgic_state.c)
 * and the virtio devices (dev/vdev_state.c) serialise themselves.
 *
 * The guest's virtual counter goes on from its value at the save: the
 * load picks the VM's CNTVOFF_EL2 so that physical count - CNTVOFF equals
 * the saved count at that moment (vcpu_arch.c applies it at every entry).
 */
#include <arch/timer.h>
#include <arch/vcpu_ptimer.h>
#include <arch/vcpu_state.h>
#include <core/event.h>
#include <core/log.h>
#include <core/state.h>
#include <core/vm.h>
#include <core/vm_state.h>
#include <dev/vdev.h>
#include <dev/vgic.h>
#include <dev/vuart.h>
#include <lib/fmt.h>
#include <lib/mstream.h>
#include <lib/string.h>
#include <plat/platform.h>
#include <shyper/errno.h>
#include <shyper/migrate.h>

static struct mstream_info stream_info(void)
{
	return (struct mstream_info){
		.board = PLAT_NAME,
		.arch = SHYPER_MIG_ARCH_AARCH64,
		.gic_version = hv.board.gic.version,
	};
}

/* What the stream cannot carry yet: passthrough devices and interrupts
 * (their state is in hardware), IVC channels (shared with another VM).
 * A mediated disk with requests in flight is not ready yet (-EBUSY): the
 * daemon finishes them while the VM is paused. */
static int check_savable(struct vm *vm, char *why, size_t why_size)
{
	if (vm->cfg->nr_pt || vm->cfg->nr_pt_irqs) {
		fmt_snprintf(why, why_size, "passthrough devices or interrupts");
		return -SHYPER_ENOTSUP;
	}
	for (unsigned id = 0; id < HV_MAX_VMS; id++)
		for (unsigned c = 0; c < SHYPER_IVC_CHANNELS_PER_VM; c++) {
			const struct ivc_channel *ch = &hv.vms[id].ivc.chan[c];

			if (hv.vms[id].state != VM_FREE && ch->used &&
			    (id == vm->id || ch->peer == vm->id)) {
				fmt_snprintf(why, why_size, "IVC channel %s", ch->name);
				return -SHYPER_ENOTSUP;
			}
		}
	for (unsigned i = 0; i < vm->nr_vdevs; i++) {
		struct vdev *vd = &vm->vdevs[i];
		const struct vdev_kind *kind = vdev_kind_of(vd);
		int ret;

		if (!vdev_state_supported(vd)) {
			fmt_snprintf(why, why_size, "virtio %s device", kind ? kind->name : "?");
			return -SHYPER_ENOTSUP;
		}
		ret = kind->state_check ? kind->state_check(vd, why, why_size) : 0;
		if (ret)
			return ret;
	}
	return 0;
}

static void emu_dev(struct mstream_writer *w, const char *name, uint32_t type, uint64_t base,
		    uint64_t len, uint32_t irq)
{
	struct shyper_emu_dev d = { .base_ipa = base, .length = len, .irq_id = irq,
				    .type = type };

	memcpy(d.name, name, strlen(name) + 1);
	mstream_append(w, &d, sizeof(d));
}

static void save_config(struct vm *vm, struct mstream_writer *w)
{
	const struct vm_config *cfg = vm->cfg;
	bool v3 = vm->vgic.version == 3;
	struct shyper_mig_vm_config c = {
		.desc.type = cfg->type == VM_T_LINUX ? SHYPER_VM_T_LINUX : SHYPER_VM_T_BARE_METAL,
		.image = {
			.kernel_load_ipa = vm->images[SHYPER_IMAGE_KERNEL].load_ipa,
			.kernel_entry = cfg->kernel_entry,
			.kernel_size = vm->images[SHYPER_IMAGE_KERNEL].size,
			.dtb_load_ipa = vm->images[SHYPER_IMAGE_DTB].load_ipa,
			.dtb_size = vm->images[SHYPER_IMAGE_DTB].size,
			.ramdisk_load_ipa = vm->images[SHYPER_IMAGE_INITRD].load_ipa,
			.ramdisk_size = vm->images[SHYPER_IMAGE_INITRD].size,
		},
		.cpu_bitmap = cfg->cpu_bitmap,
		.nr_vcpus = vm->nr_vcpus,
		.slice_us = cfg->slice_us,
		.nr_mem_regions = cfg->nr_mem,
		/* GICD, GICR on v3, the PL011, the virtio devices. */
		.nr_emu_devs = 1 + v3 + vm->has_uart + vm->nr_vdevs,
		.nr_pt_regions = !v3, /* GICv2: where its CPU interface appears */
	};

	memcpy(c.desc.name, cfg->name, strnlen(cfg->name, SHYPER_NAME_MAX - 1));
	memcpy(c.desc.cmdline, cfg->cmdline, strnlen(cfg->cmdline, SHYPER_CMDLINE_MAX - 1));
	mstream_begin_section(w, SHYPER_MIG_SEC_VM_CONFIG, SHYPER_MIG_VM_CONFIG_VERSION, 0);
	mstream_append(w, &c, sizeof(c));
	for (unsigned i = 0; i < cfg->nr_mem; i++) {
		struct shyper_mig_mem_region r = { cfg->mem[i].ipa, cfg->mem[i].size };

		mstream_append(w, &r, sizeof(r));
	}
	emu_dev(w, "gicd", SHYPER_EMU_GICD, vm->vgic.gicd_ipa, vgic_gicd_size(vm), 0);
	if (v3)
		emu_dev(w, "gicr", SHYPER_EMU_GICR, vm->vgic.gicr_ipa,
			vm->nr_vcpus * VGIC_GICR_FRAME_SIZE, 0);
	if (vm->has_uart)
		emu_dev(w, "pl011", SHYPER_EMU_CONSOLE, vm->uart.base, VUART_SIZE,
			vm->uart.intid);
	for (unsigned i = 0; i < vm->nr_vdevs; i++) {
		const struct vm_vdev_cfg *v = vm->vdevs[i].cfg;
		struct shyper_emu_dev d = { .base_ipa = v->base, .length = v->size,
					    .irq_id = v->intid, .type = v->type,
					    .cfg_num = v->cfg_num };

		fmt_snprintf(d.name, sizeof(d.name), "virtio-%s",
			     vdev_kind_of(&vm->vdevs[i])->name);
		for (unsigned k = 0; k < v->cfg_num && k < SHYPER_CFG_LIST_MAX; k++)
			d.cfg_list[k] = v->cfg[k];
		mstream_append(w, &d, sizeof(d));
	}
	if (!v3) {
		struct shyper_mig_pt_region r = { hv.board.gic.gicv_base, cfg->gicc_ipa,
						  VGIC_GICV2_CPU_SIZE };

		mstream_append(w, &r, sizeof(r));
	}
	mstream_end_section(w);
}

static int write_state(struct vm *vm, struct mstream_writer *w, uint64_t cntvct,
		       uint64_t cntpct)
{
	save_config(vm, w);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct shyper_mig_vcpu v;
		struct shyper_mig_ptimer pt;

		vcpu_state_export(&vm->vcpus[i], &v);
		v.cntvct = cntvct;
		mstream_begin_section(w, SHYPER_MIG_SEC_VCPU, SHYPER_MIG_VCPU_VERSION, i);
		mstream_append(w, &v, sizeof(v));
		mstream_end_section(w);
		if (!vcpu_ptimer_export(&vm->vcpus[i], &pt, cntpct))
			continue;
		mstream_begin_section(w, SHYPER_MIG_SEC_VCPU_PTIMER,
				      SHYPER_MIG_VCPU_PTIMER_VERSION, i);
		mstream_append(w, &pt, sizeof(pt));
		mstream_end_section(w);
	}
	vgic_state_save_dist(vm, w);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vgic_state_save_cpu(&vm->vcpus[i], w);
	for (unsigned i = 0; i < vm->nr_vdevs; i++)
		vdev_state_save(&vm->vdevs[i], i, w);
	vdev_console_history_save(vm, w);
	return mstream_finish(w, 0);
}

int vm_state_save(struct vm *vm, void *buf, size_t cap, size_t *needed, char *why,
		  size_t why_size)
{
	struct mstream_info info = stream_info();
	struct mstream_writer w;
	uint64_t cntvct, cntpct;
	int ret;

	if (vm->state != VM_RUNNING || !vm_is_paused(vm)) {
		fmt_snprintf(why, why_size, "not paused");
		return -SHYPER_EINVAL;
	}
	ret = check_savable(vm, why, why_size);
	if (ret)
		return ret;
	/* The guest's count now; it does not advance for the guest while the
	 * stream rests, since the load continues from it. */
	cntpct = timer_now();
	cntvct = cntpct - vm->cntvoff;
	mstream_writer_init_count(&w, &info);
	ret = write_state(vm, &w, cntvct, cntpct);
	if (ret)
		return ret;
	*needed = w.pos;
	if (w.pos > cap)
		return -SHYPER_ENOSPC;
	mstream_writer_init(&w, buf, cap, &info);
	ret = write_state(vm, &w, cntvct, cntpct);
	if (!ret && w.pos != *needed)
		ret = -SHYPER_EAGAIN; /* the console grew between the passes */
	return ret;
}

static bool same_mem(const struct vm_config *cfg, const struct mstream_vm_config_view *v)
{
	if (v->cfg.nr_mem_regions != cfg->nr_mem)
		return false;
	for (unsigned i = 0; i < cfg->nr_mem; i++) {
		struct shyper_mig_mem_region r;

		mstream_array_get(&v->mem_regions, i, &r, sizeof(r));
		if (r.ipa != cfg->mem[i].ipa || r.length != cfg->mem[i].size)
			return false;
	}
	return true;
}

/* The stream's devices, in the order this VM was given them. */
static bool same_vdevs(const struct vm *vm, const struct mstream_vm_config_view *v)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < v->cfg.nr_emu_devs; i++) {
		struct shyper_emu_dev d;
		const struct vm_vdev_cfg *c;

		mstream_array_get(&v->emu_devs, i, &d, sizeof(d));
		if (d.type != SHYPER_EMU_VIRTIO_CONSOLE && d.type != SHYPER_EMU_VIRTIO_NET &&
		    d.type != SHYPER_EMU_VIRTIO_BLK_MEDIATED)
			continue;
		if (n == vm->nr_vdevs)
			return false;
		c = vm->vdevs[n++].cfg;
		if (d.type != c->type || d.base_ipa != c->base || d.irq_id != c->intid)
			return false;
	}
	return n == vm->nr_vdevs;
}

static int check_config(struct vm *vm, const struct mstream_section *s, char *why,
			size_t why_size)
{
	struct mstream_vm_config_view v;

	mstream_parse_vm_config(s->payload, s->length, &v, why, why_size);
	if (v.cfg.nr_vcpus != vm->nr_vcpus) {
		fmt_snprintf(why, why_size, "%u vCPUs, this VM has %u", v.cfg.nr_vcpus,
			     vm->nr_vcpus);
		return -SHYPER_EINVAL;
	}
	if (!same_mem(vm->cfg, &v)) {
		fmt_snprintf(why, why_size, "other memory regions than this VM's");
		return -SHYPER_EINVAL;
	}
	if (!same_vdevs(vm, &v)) {
		fmt_snprintf(why, why_size, "other virtio devices (types, addresses, "
			     "interrupts) than this VM's");
		return -SHYPER_EINVAL;
	}
	if (v.cfg.nr_pt_irqs || v.cfg.nr_pt_regions > (vm->vgic.version == 2)) {
		fmt_snprintf(why, why_size, "passthrough devices or interrupts");
		return -SHYPER_EINVAL;
	}
	return 0;
}

struct load {
	struct vm *vm;
	uint64_t cntvct;
	uint32_t vcpus_seen;	/* bit per VCPU section */
	uint32_t vgic_cpus_seen;
	bool dist_seen;
	unsigned vdevs_seen;
};

static int load_section(struct load *l, const struct mstream_section *s, char *why,
			size_t why_size)
{
	struct vm *vm = l->vm;
	struct shyper_mig_vcpu vcpu;
	struct mstream_vgic_dist_view dist;
	struct mstream_vgic_cpu_view cpu;
	struct mstream_vdev_view vdev;

	/* The readers checked every payload; parsing again only makes views. */
	switch (s->type) {
	case SHYPER_MIG_SEC_VM_CONFIG:
		return check_config(vm, s, why, why_size);
	case SHYPER_MIG_SEC_VCPU:
		mstream_parse_vcpu(s->payload, s->length, &vcpu, why, why_size);
		if (!l->vcpus_seen)
			l->cntvct = vcpu.cntvct;
		l->vcpus_seen |= 1U << s->instance;
		return vcpu_state_import(&vm->vcpus[s->instance], &vcpu, why, why_size);
	case SHYPER_MIG_SEC_VCPU_PTIMER: {
		struct shyper_mig_ptimer pt;

		/* After its VCPU, whose load resets the vCPU's context. */
		if (!(l->vcpus_seen & (1U << s->instance))) {
			fmt_snprintf(why, why_size, "comes before its VCPU section");
			return -SHYPER_EINVAL;
		}
		mstream_parse_ptimer(s->payload, s->length, &pt, why, why_size);
		return vcpu_ptimer_import(&vm->vcpus[s->instance], &pt, why, why_size);
	}
	case SHYPER_MIG_SEC_VGIC_DIST:
		mstream_parse_vgic_dist(s->payload, s->length, &dist, why, why_size);
		l->dist_seen = true;
		return vgic_state_load_dist(vm, &dist, why, why_size);
	case SHYPER_MIG_SEC_VGIC_CPU:
		/* After its VCPU, whose load resets the vCPU's context. */
		if (!(l->vcpus_seen & (1U << s->instance))) {
			fmt_snprintf(why, why_size, "comes before its VCPU section");
			return -SHYPER_EINVAL;
		}
		mstream_parse_vgic_cpu(s->payload, s->length, &cpu, why, why_size);
		l->vgic_cpus_seen |= 1U << s->instance;
		return vgic_state_load_cpu(&vm->vcpus[s->instance], &cpu, why, why_size);
	case SHYPER_MIG_SEC_VDEV:
		if (s->instance != l->vdevs_seen || s->instance >= vm->nr_vdevs) {
			fmt_snprintf(why, why_size, "device %u, expected %u of %u", s->instance,
				     l->vdevs_seen, vm->nr_vdevs);
			return -SHYPER_EINVAL;
		}
		mstream_parse_vdev(s->payload, s->length, &vdev, why, why_size);
		l->vdevs_seen++;
		return vdev_state_load(&vm->vdevs[s->instance], &vdev, why, why_size);
	case SHYPER_MIG_SEC_CONSOLE_HISTORY:
		return vdev_console_history_load(vm, s->payload, s->length, why, why_size);
	}
	fmt_snprintf(why, why_size, "not part of a VM's state (RAM goes through MEM_WRITE, "
		     "boot images through CFG_UPLOAD)");
	return -SHYPER_EINVAL;
}

/* Every part of the VM was in the stream. */
static int check_complete(const struct load *l, char *why, size_t why_size)
{
	uint32_t all = (1U << l->vm->nr_vcpus) - 1;

	if (l->vcpus_seen != all || l->vgic_cpus_seen != all || !l->dist_seen ||
	    l->vdevs_seen != l->vm->nr_vdevs) {
		fmt_snprintf(why, why_size, "incomplete: vCPUs 0x%x, vGIC CPUs 0x%x of 0x%x, "
			     "distributor %s, %u of %u devices", l->vcpus_seen,
			     l->vgic_cpus_seen, all, l->dist_seen ? "yes" : "no",
			     l->vdevs_seen, l->vm->nr_vdevs);
		return -SHYPER_EINVAL;
	}
	for (unsigned i = 0; i < l->vm->nr_vcpus; i++)
		if (l->vm->vcpus[i].state != VCPU_OFF)
			return 0;
	fmt_snprintf(why, why_size, "every vCPU is off");
	return -SHYPER_EINVAL;
}

static int check_header(const struct mstream_reader *r, char *why, size_t why_size)
{
	const struct shyper_mig_header *h = &r->chk.hdr;

	if (h->gic_version != hv.board.gic.version || strcmp(h->board, PLAT_NAME)) {
		fmt_snprintf(why, why_size, "header: from a %s with GICv%u, this is a %s with "
			     "GICv%u", h->board, h->gic_version, PLAT_NAME,
			     hv.board.gic.version);
		return -SHYPER_EINVAL;
	}
	return 0;
}

int vm_state_load(struct vm *vm, const void *buf, size_t len, char *why, size_t why_size)
{
	struct load l = { .vm = vm };
	struct mstream_error err;
	struct mstream_reader r;
	struct mstream_section s;
	int ret;

	if (!vm->restore || vm->state != VM_READY || !vm->setup_done) {
		fmt_snprintf(why, why_size, "not a VM built for a restore, or loaded already");
		return -SHYPER_EBUSY;
	}
	ret = mstream_validate(buf, len, &err);
	if (ret) {
		fmt_snprintf(why, why_size, "%s", err.reason);
		return ret;
	}
	mstream_reader_open(&r, buf, len);
	ret = check_header(&r, why, why_size);
	vgic_reset(vm);
	while (!ret && (ret = mstream_reader_next(&r, &s)) == MSTREAM_SECTION) {
		char part[VM_STATE_WHY_MAX];
		const char *name = mstream_section_name(s.type);

		ret = load_section(&l, &s, part, sizeof(part));
		if (ret)
			fmt_snprintf(why, why_size, "section %u (%s #%u): %s", s.index,
				     name ? name : "?", s.instance, part);
	}
	if (ret == MSTREAM_END)
		ret = check_complete(&l, why, why_size);
	if (ret) {
		/* Nothing of it may run: the VM stays READY, to be removed. */
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			vm->vcpus[i] = (struct vcpu){ .id = vm->vcpus[i].id,
						      .pcpu = vm->vcpus[i].pcpu, .vm = vm };
		vgic_reset(vm);
		return ret < 0 ? ret : -SHYPER_EINVAL;
	}
	vm->cntvoff = timer_now() - l.cntvct;
	vgic_fast_sync(vm);
	vm->pause_epoch = ++vm->pauses;
	__atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_RELEASE);
	event_post(SHYPER_EVENT_VM_STATE, vm->id, VM_RUNNING);
	log_info("vm%u (%s) loaded from a stream of %zu bytes; paused", vm->id, vm->cfg->name,
		 len);
	return 0;
}
