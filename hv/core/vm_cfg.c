/*
 * The config hypercall group: the MVM builds a guest step by step (the
 * `shyper vm config` sequence), and the hypervisor checks each step again,
 * whatever the CLI already checked. A failed step changes nothing; the CLI
 * removes a half-built VM with SHYPER_VMM_REMOVE.
 */
#include <arch/cache.h>
#include <arch/gic.h>
#include <arch/stage2.h>
#include <core/event.h>
#include <core/hypercall.h>
#include <core/iommu.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/state.h>
#include <core/vm.h>
#include <core/vm_pcie.h>
#include <dev/vgic.h>
#include <dev/vuart.h>
#include <lib/string.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <lib/popcount.h>

#define VM_IPA_LIMIT (1UL << 40)
#define IMAGE_MAX (256UL << 20)
#define DTB_WINDOW (64UL << 10)
/* arm64 Image header: image_size at 16, magic "ARM\x64" at 56. */
#define IMAGE_SIZE_OFFSET 16
#define IMAGE_MAGIC_OFFSET 56
#define IMAGE_MAGIC 0x644d5241U
#define TWO_MIB_FRAMES 512
/* Where the QEMU virt layout puts things, used when the config is silent. */
#define DEFAULT_GICD_IPA 0x08000000UL
#define DEFAULT_GICC_IPA 0x08010000UL
#define DEFAULT_GICR_IPA 0x080a0000UL
#define DEFAULT_UART_IPA 0x09000000UL
#define DEFAULT_UART_INTID 33

static bool page_aligned(uint64_t v)
{
	return !(v & (FRAME_SIZE - 1));
}

/* A NUL inside the buffer, and only printable characters before it. */
static bool valid_string(const char *s, size_t max, bool allow_empty)
{
	size_t i;

	for (i = 0; i < max && s[i]; i++)
		if (s[i] < ' ' || s[i] > '~')
			return false;
	return i < max && (allow_empty || i > 0);
}

/* Copies a structure out of the MVM's buffer once, so the MVM cannot change
 * it between the checks and the use. */
static int read_from_mvm(struct vcpu *caller, uint64_t ipa, uint64_t len, void *out,
			 size_t size)
{
	const void *buf;

	if (len != size)
		return -SHYPER_EINVAL;
	buf = hc_mvm_buffer(caller, ipa, size);
	if (!buf)
		return -SHYPER_EFAULT;
	memcpy(out, buf, size);
	return 0;
}

static int cfg_add_vm(struct vcpu *caller, struct trap_frame *f)
{
	struct shyper_vm_desc desc;
	struct vm *vm = 0;
	int ret = read_from_mvm(caller, f->x[1], f->x[2], &desc, sizeof(desc));

	if (ret)
		return ret;
	if (!valid_string(desc.name, sizeof(desc.name), false) ||
	    !valid_string(desc.cmdline, sizeof(desc.cmdline), true) ||
	    desc.type > SHYPER_VM_T_BARE_METAL || (desc.flags & ~SHYPER_VM_F_KNOWN))
		return -SHYPER_EINVAL;
	unsigned id;

	for (id = 1; id < HV_MAX_VMS && !vm; id++)
		if (hv.vms[id].state == VM_FREE)
			vm = &hv.vms[id];
	if (!vm)
		return -SHYPER_ENOSPC;
	*vm = (struct vm){ .id = id - 1, .state = VM_CONFIGURING,
			   .restore = desc.flags & SHYPER_VM_F_RESTORE };
	vm->cfg = &vm->config;
	memcpy(vm->name, desc.name, sizeof(vm->name));
	memcpy(vm->cmdline, desc.cmdline, sizeof(vm->cmdline));
	vm->config = (struct vm_config){
		.name = vm->name,
		.type = desc.type == SHYPER_VM_T_LINUX ? VM_T_LINUX : VM_T_BARE_METAL,
		.cmdline = vm->cmdline,
		.gicd_ipa = DEFAULT_GICD_IPA,
		.gicc_ipa = DEFAULT_GICC_IPA,
		.gicr_ipa = DEFAULT_GICR_IPA,
		.pmu = desc.flags & SHYPER_VM_F_PMU,
	};
	ret = vm_stage2_init(vm);
	if (ret) {
		vm_destroy(vm);
		return ret;
	}
	f->x[1] = vm->id;
	return 0;
}

static int cfg_set_cpu(struct vm *vm, uint64_t num, uint64_t bitmap, uint64_t master,
		       uint64_t slice_us)
{
	int ret;

	if (slice_us && (slice_us < SHYPER_SLICE_MIN_US || slice_us > SHYPER_SLICE_MAX_US))
		return -SHYPER_EINVAL;
	if (!num || num > VM_MAX_VCPUS || !bitmap || bitmap >> hv.nr_cpus ||
	    (uint64_t)popcount64(bitmap) < num || master >= hv.nr_cpus ||
	    !(bitmap & (1UL << master)))
		return -SHYPER_EINVAL;
	ret = vm_claim_cpus(vm, bitmap);
	if (ret) {
		log_warn("vm%u config: cores 0x%lx: %s", vm->id, bitmap,
			 ret == -SHYPER_EBUSY ?
				 "owned by the MVM, a bare-metal VM, or shared with one" :
				 "not online");
		return ret;
	}
	vm->config.nr_vcpus = (unsigned)num;
	vm->config.master = (unsigned)master;
	vm->config.slice_us = (uint32_t)slice_us;
	vm->cpus_set = true;
	return 0;
}

static int cfg_add_mem(struct vm *vm, uint64_t ipa, uint64_t len)
{
	struct vm_config *cfg = &vm->config;
	size_t frames = len / FRAME_SIZE;
	uint64_t pa;
	int ret;

	if (!len || !page_aligned(ipa) || !page_aligned(len) || ipa + len < ipa ||
	    ipa + len > VM_IPA_LIMIT)
		return -SHYPER_EINVAL;
	if (cfg->nr_mem == VM_MAX_MEM_REGIONS)
		return -SHYPER_ENOSPC;
	pa = mem_alloc_frames(frames, len >= (TWO_MIB_FRAMES * FRAME_SIZE) ?
					      TWO_MIB_FRAMES : 1);
	if (pa == FRAME_NONE) {
		log_warn("vm%u config: no %lu MiB of contiguous free memory", vm->id, len >> 20);
		return -SHYPER_ENOMEM;
	}
	ret = stage2_map(&vm->s2, ipa, pa, len, STAGE2_RWX);
	if (ret) {
		mem_free_frames(pa, frames);
		return ret;
	}
	/* Whatever these frames held before (another VM's images or tables,
	 * the boot initramfs) must not reach this VM, which starts with its
	 * caches off and so reads RAM itself. */
	memset((void *)pa, 0, len);
	cache_clean_range(pa, len);
	cfg->mem[cfg->nr_mem] = (struct vm_mem_cfg){ .ipa = ipa, .size = len };
	vm->mem_pa[cfg->nr_mem++] = pa;
	return 0;
}

static int cfg_add_emu_dev(struct vcpu *caller, struct vm *vm, uint64_t ipa, uint64_t len)
{
	struct shyper_emu_dev dev;
	int ret = read_from_mvm(caller, ipa, len, &dev, sizeof(dev));

	if (ret)
		return ret;
	if (!page_aligned(dev.base_ipa) || dev.base_ipa >= VM_IPA_LIMIT)
		return -SHYPER_EINVAL;
	switch (dev.type) {
	case SHYPER_EMU_GICD:
		vm->config.gicd_ipa = dev.base_ipa;
		return 0;
	case SHYPER_EMU_GICR:
		vm->config.gicr_ipa = dev.base_ipa;
		return 0;
	case SHYPER_EMU_CONSOLE:
		if (vm->has_uart || dev.irq_id < GIC_FIRST_SPI || dev.irq_id >= VGIC_MAX_IRQS)
			return -SHYPER_EINVAL;
		vm->has_uart = true;
		vm->uart.base = dev.base_ipa;
		vm->uart.intid = dev.irq_id;
		return 0;
	case SHYPER_EMU_VIRTIO_CONSOLE:
	case SHYPER_EMU_VIRTIO_NET:
	case SHYPER_EMU_VIRTIO_BLK_MEDIATED:
		return vdev_config_add(vm, &dev);
	default:
		log_warn("vm%u config: emulated device type %u is not supported yet",
			 vm->id, dev.type);
		return -SHYPER_ENOTSUP;
	}
}

/* A physical region may be passed through to one VM only. */
static bool pt_region_taken(const struct vm *vm, uint64_t pa, uint64_t len)
{
	for (unsigned id = 0; id < HV_MAX_VMS; id++) {
		const struct vm *o = &hv.vms[id];

		if (o == vm || o->state == VM_FREE || !o->cfg)
			continue;
		for (unsigned i = 0; i < o->cfg->nr_pt; i++)
			if (pa < o->cfg->pt[i].pa + o->cfg->pt[i].size &&
			    o->cfg->pt[i].pa < pa + len)
				return true;
	}
	return false;
}

static int cfg_add_pt_region(struct vm *vm, uint64_t pa, uint64_t ipa, uint64_t len)
{
	struct vm_config *cfg = &vm->config;
	int ret;

	/* The template hands GICv2's virtual CPU interface over as a
	 * passthrough region: that is where the vGIC's CPU interface goes. */
	if (hv.board.gic.version == 2 && pa == hv.board.gic.gicv_base) {
		if (len < VGIC_GICV2_CPU_SIZE || !page_aligned(ipa))
			return -SHYPER_EINVAL;
		cfg->gicc_ipa = ipa;
		return 0;
	}
	/* A VM built for a restore is what a stream describes, and no stream
	 * carries a passthrough device (its state is in hardware): one that
	 * names a device would hand a guest from a file or the network this
	 * board's device, with its DMA. */
	if (vm->restore) {
		log_warn("vm%u config: passthrough 0x%lx+0x%lx refused: a VM built for a "
			 "restore has no passthrough devices", vm->id, pa, len);
		return -SHYPER_ENOTSUP;
	}
	if (cfg->nr_pt == VM_MAX_PASSTHROUGH)
		return -SHYPER_ENOSPC;
	/* Malformed first: an owner is only looked for over a valid range. */
	if (!len || ((pa | ipa | len) & (FRAME_SIZE - 1)) || pa + len < pa)
		return -SHYPER_EINVAL;
	if (pt_region_taken(vm, pa, len)) {
		log_warn("vm%u config: passthrough 0x%lx+0x%lx: another VM has it", vm->id, pa,
			 len);
		return -SHYPER_EBUSY;
	}
	ret = vm_map_passthrough(vm, pa, ipa, len);
	if (ret) {
		log_warn("vm%u config: passthrough 0x%lx+0x%lx: %s", vm->id, pa, len,
			 ret == -SHYPER_EPERM ? "RAM or the hypervisor's own device" :
			 ret == -SHYPER_EEXIST ? "overlaps another mapping" : "invalid");
		return ret;
	}
	cfg->pt[cfg->nr_pt++] = (struct vm_passthrough_cfg){ pa, ipa, len };
	return 0;
}

static int cfg_add_pt_irq(struct vm *vm, uint64_t intid)
{
	struct vm_config *cfg = &vm->config;
	int ret;

	/* The virtual timer is always given to every vCPU. */
	if (intid == hv.board.timer.virt_intid)
		return 0;
	if (intid > GIC_MAX_INTID)
		return -SHYPER_EINVAL;
	if (vm->restore) { /* as for regions: no stream carries one */
		log_warn("vm%u config: interrupt %lu refused: a VM built for a restore has no "
			 "passthrough interrupts", vm->id, intid);
		return -SHYPER_ENOTSUP;
	}
	if (cfg->nr_pt_irqs == VM_MAX_PASSTHROUGH_IRQS)
		return -SHYPER_ENOSPC;
	ret = vm_claim_irq(vm, (uint32_t)intid);
	if (ret) {
		log_warn("vm%u config: interrupt %lu: %s", vm->id, intid,
			 ret == -SHYPER_EBUSY ? "owned by another VM or the hypervisor" :
						"not a shared peripheral interrupt");
		return ret;
	}
	for (unsigned i = 0; i < cfg->nr_pt_irqs; i++)
		if (cfg->pt_irqs[i] == intid)
			return 0;
	cfg->pt_irqs[cfg->nr_pt_irqs++] = (uint32_t)intid;
	return 0;
}

static int cfg_add_pt_stream(struct vm *vm, uint64_t sid)
{
	int ret;

	if (vm->restore) { /* as for regions: no stream carries a device */
		log_warn("vm%u config: DMA stream 0x%lx refused: a VM built for a restore has "
			 "no passthrough devices", vm->id, sid);
		return -SHYPER_ENOTSUP;
	}
	ret = iommu_add_stream(vm, sid);
	if (ret)
		log_warn("vm%u config: DMA stream 0x%lx: %s", vm->id, sid,
			 ret == -SHYPER_ENODEV ? "the hypervisor has no SMMU" :
			 ret == -SHYPER_EBUSY ? "another VM has it" :
			 ret == -SHYPER_ENOSPC ? "too many streams" : "beyond the stream table");
	return ret;
}

static int cfg_add_dtb_dev(struct vcpu *caller, struct vm *vm, uint64_t ipa, uint64_t len)
{
	struct shyper_dtb_dev dev;
	int ret = read_from_mvm(caller, ipa, len, &dev, sizeof(dev));

	if (ret)
		return ret;
	if (!page_aligned(dev.addr_ipa) || dev.addr_ipa >= VM_IPA_LIMIT ||
	    dev.irq_num > SHYPER_CFG_LIST_MAX)
		return -SHYPER_EINVAL;
	switch (dev.type) {
	case SHYPER_DTB_GICD:
		vm->config.gicd_ipa = dev.addr_ipa;
		return 0;
	case SHYPER_DTB_GICC:
		vm->config.gicc_ipa = dev.addr_ipa;
		return 0;
	case SHYPER_DTB_GICR:
		vm->config.gicr_ipa = dev.addr_ipa;
		return 0;
	case SHYPER_DTB_CONSOLE:
		return vm->has_uart && dev.addr_ipa == vm->uart.base ? 0 : -SHYPER_EINVAL;
	case SHYPER_DTB_PCIE:
		return vm_pcie_add(vm, &dev);
	}
	return -SHYPER_EINVAL;
}

static void free_images(struct vm *vm)
{
	for (unsigned k = 0; k < 3; k++) {
		struct vm_image *img = &vm->images[k];

		if (img->store_pa)
			mem_free_frames(img->store_pa, (img->size + FRAME_SIZE - 1) / FRAME_SIZE);
		*img = (struct vm_image){ 0 };
	}
	vm->images_set = false;
}

static int cfg_set_image(struct vcpu *caller, struct vm *vm, uint64_t ipa, uint64_t len)
{
	struct shyper_image_desc d;
	struct vm_image fresh[3];
	int ret = read_from_mvm(caller, ipa, len, &d, sizeof(d));

	if (ret)
		return ret;
	if (!d.kernel_size || d.kernel_size > IMAGE_MAX || d.ramdisk_size > IMAGE_MAX ||
	    d.dtb_size > DTB_WINDOW || (d.dtb_load_ipa & 7))
		return -SHYPER_EINVAL;
	fresh[SHYPER_IMAGE_KERNEL] = (struct vm_image){ .size = d.kernel_size,
							.load_ipa = d.kernel_load_ipa };
	fresh[SHYPER_IMAGE_INITRD] = (struct vm_image){ .size = d.ramdisk_size,
							.load_ipa = d.ramdisk_load_ipa };
	fresh[SHYPER_IMAGE_DTB] = (struct vm_image){ .size = d.dtb_size,
						     .load_ipa = d.dtb_load_ipa };
	/* The new stores first: short of frames, the images set before stay. */
	for (unsigned k = 0; k < 3; k++) {
		uint64_t pa;

		if (!fresh[k].size)
			continue;
		pa = mem_alloc_frames((fresh[k].size + FRAME_SIZE - 1) / FRAME_SIZE, 1);
		if (pa == FRAME_NONE) {
			while (k--)
				if (fresh[k].store_pa)
					mem_free_frames(fresh[k].store_pa,
							(fresh[k].size + FRAME_SIZE - 1) / FRAME_SIZE);
			return -SHYPER_ENOMEM;
		}
		fresh[k].store_pa = pa;
	}
	free_images(vm);
	memcpy(vm->images, fresh, sizeof(fresh));
	vm->config.kernel_ipa = d.kernel_load_ipa;
	vm->config.kernel_entry = d.kernel_entry;
	vm->config.dtb_ipa = d.dtb_load_ipa;
	vm->config.initrd_ipa = d.ramdisk_load_ipa;
	vm->images_set = true;
	return 0;
}

static int cfg_upload(struct vcpu *caller, struct vm *vm, struct trap_frame *f)
{
	uint64_t kind = f->x[2], offset = f->x[3], len = f->x[5];
	struct vm_image *img;
	const void *src;

	if (kind > SHYPER_IMAGE_DTB || !vm->images_set)
		return -SHYPER_EINVAL;
	img = &vm->images[kind];
	/* In order and within the declared size: a gap or overlap is a bug. */
	if (!len || len > SHYPER_UPLOAD_CHUNK_MAX || offset != img->received ||
	    len > img->size - img->received)
		return -SHYPER_EINVAL;
	src = hc_mvm_buffer(caller, f->x[4], len);
	if (!src)
		return -SHYPER_EFAULT;
	memcpy((void *)(img->store_pa + offset), src, len);
	img->received += len;
	return 0;
}

static bool overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return as && bs && a < b + bs && b < a + as;
}

/* Every image is there and fits in the VM's RAM without overlapping. */
int vm_images_check(struct vm *vm)
{
	struct vm_image *k = &vm->images[SHYPER_IMAGE_KERNEL];
	struct vm_image *rd = &vm->images[SHYPER_IMAGE_INITRD];
	struct vm_image *dtb = &vm->images[SHYPER_IMAGE_DTB];
	uint64_t kernel_span = k->size, dtb_span = dtb->size ? dtb->size : DTB_WINDOW;
	const uint8_t *hdr = (const uint8_t *)k->store_pa;

	if (!vm->images_set)
		return -SHYPER_EINVAL;
	for (unsigned i = 0; i < 3; i++)
		if (vm->images[i].received != vm->images[i].size)
			return -SHYPER_EINVAL;
	/* A Linux Image's bss reaches past the file: count its image_size. */
	if (k->size >= 64 && *(const uint32_t *)(hdr + IMAGE_MAGIC_OFFSET) == IMAGE_MAGIC) {
		uint64_t image_size = *(const uint64_t *)(hdr + IMAGE_SIZE_OFFSET);

		if (image_size > kernel_span && image_size <= IMAGE_MAX)
			kernel_span = image_size;
	}
	if (!vm_ram_ptr(vm, k->load_ipa, kernel_span) ||
	    (rd->size && !vm_ram_ptr(vm, rd->load_ipa, rd->size)) ||
	    !vm_ram_ptr(vm, dtb->load_ipa, dtb_span) ||
	    !vm_ram_ptr(vm, vm->config.kernel_entry, 4))
		return -SHYPER_ERANGE;
	if (overlaps(k->load_ipa, kernel_span, rd->load_ipa, rd->size) ||
	    overlaps(k->load_ipa, kernel_span, dtb->load_ipa, dtb_span) ||
	    overlaps(rd->load_ipa, rd->size, dtb->load_ipa, dtb_span))
		return -SHYPER_EEXIST;
	return 0;
}

static int check_complete(struct vm *vm)
{
	if (!vm->cpus_set || !vm->config.nr_mem)
		return -SHYPER_EINVAL;
	/* Its RAM and state come from MEM_WRITE and STATE_LOAD; its images, if
	 * the stream carries them, come after this. */
	if (vm->restore)
		return 0;
	return vm_images_check(vm);
}

/* Without a console the user would never see the guest: give it the PL011
 * where QEMU's virt board has one, if that address is still free. */
static void add_default_console(struct vm *vm)
{
	uint64_t pa;
	unsigned flags;

	if (vm->has_uart || !stage2_translate(&vm->s2, DEFAULT_UART_IPA, &pa, &flags))
		return;
	vm->has_uart = true;
	vm->uart.base = DEFAULT_UART_IPA;
	vm->uart.intid = DEFAULT_UART_INTID;
	log_info("vm%u: no console configured; an emulated PL011 at 0x%lx prints its output",
		 vm->id, DEFAULT_UART_IPA);
}

static int cfg_finish(struct vm *vm)
{
	int ret = check_complete(vm);
	bool had_uart = vm->has_uart;

	if (ret) {
		log_warn("vm%u config: incomplete or does not fit (%d)", vm->id, ret);
		return ret;
	}
	add_default_console(vm);
	ret = vm_setup(vm); /* undoes itself when it fails */
	if (ret) {
		if (!had_uart) {
			vm->has_uart = false;
			vm->uart = (struct vuart){ 0 };
		}
		return ret;
	}
	log_info("vm%u (%s) configured: %u vCPU(s) on cores 0x%lx", vm->id, vm->name,
		 vm->config.nr_vcpus, vm->config.cpu_bitmap);
	event_post(SHYPER_EVENT_VM_STATE, vm->id, VM_READY);
	return 0;
}

/* A VM built for a restore gets the images from the stream after its RAM
 * is laid out, until its state is loaded. */
static bool images_after_finish(const struct vm *vm, unsigned fn)
{
	return vm->restore && vm->state == VM_READY &&
	       (fn == SHYPER_HVC_FN(SHYPER_CFG_SET_IMAGE) ||
		fn == SHYPER_HVC_FN(SHYPER_CFG_UPLOAD));
}

int64_t hc_config(struct vcpu *caller, struct trap_frame *f, unsigned fn)
{
	struct vm *vm;

	if (fn > SHYPER_HVC_FN(SHYPER_CFG_ADD_PT_STREAM))
		return -SHYPER_ENOSYS;
	if (!hc_caller_is_mvm(caller))
		return -SHYPER_EPERM;
	if (fn == SHYPER_HVC_FN(SHYPER_CFG_ADD_VM))
		return cfg_add_vm(caller, f);
	vm = f->x[1] && f->x[1] < HV_MAX_VMS ? vm_by_id((unsigned)f->x[1]) : 0;
	if (!vm)
		return -SHYPER_ENOENT;
	if (vm->state != VM_CONFIGURING && !images_after_finish(vm, fn))
		return -SHYPER_EBUSY; /* finished VMs are not reconfigured */
	switch (fn) {
	case SHYPER_HVC_FN(SHYPER_CFG_SET_CPU):
		return cfg_set_cpu(vm, f->x[2], f->x[3], f->x[4], f->x[5]);
	case SHYPER_HVC_FN(SHYPER_CFG_ADD_MEM):
		return cfg_add_mem(vm, f->x[2], f->x[3]);
	case SHYPER_HVC_FN(SHYPER_CFG_ADD_EMU_DEV):
		return cfg_add_emu_dev(caller, vm, f->x[2], f->x[3]);
	case SHYPER_HVC_FN(SHYPER_CFG_ADD_PT_REGION):
		return cfg_add_pt_region(vm, f->x[2], f->x[3], f->x[4]);
	case SHYPER_HVC_FN(SHYPER_CFG_ADD_PT_IRQ):
		return cfg_add_pt_irq(vm, f->x[2]);
	case SHYPER_HVC_FN(SHYPER_CFG_ADD_DTB_DEV):
		return cfg_add_dtb_dev(caller, vm, f->x[2], f->x[3]);
	case SHYPER_HVC_FN(SHYPER_CFG_SET_IMAGE):
		return cfg_set_image(caller, vm, f->x[2], f->x[3]);
	case SHYPER_HVC_FN(SHYPER_CFG_UPLOAD):
		return cfg_upload(caller, vm, f);
	case SHYPER_HVC_FN(SHYPER_CFG_FINISH):
		return cfg_finish(vm);
	case SHYPER_HVC_FN(SHYPER_CFG_ADD_PT_STREAM):
		return cfg_add_pt_stream(vm, f->x[2]);
	}
	return -SHYPER_ENOSYS;
}
