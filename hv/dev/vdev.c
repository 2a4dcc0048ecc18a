/*
 * Emulated virtio-mmio devices of a VM (dev/vdev.h): configuration checks,
 * set-up and tear-down, MMIO dispatch to the transport, the interrupt line
 * into the vGIC and the device-tree nodes.
 */
#include <core/log.h>
#include <core/state.h>
#include <core/vm.h>
#include <core/vm_fdt.h>
#include <dev/vdev.h>
#include <dev/vgic.h>
#include <dev/virtio_mmio.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/virtio.h>

static const struct vdev_kind *kind_of(uint32_t type)
{
	switch (type) {
	case SHYPER_EMU_VIRTIO_CONSOLE: return &vdev_console_kind;
	case SHYPER_EMU_VIRTIO_NET: return &vdev_net_kind;
	case SHYPER_EMU_VIRTIO_BLK_MEDIATED: return &vdev_blk_kind;
	default: return 0;
	}
}

/* Looked up at each use: a stored pointer would lead into the image that
 * set the device up, gone after a live update. */
const struct vdev_kind *vdev_kind_of(const struct vdev *vd)
{
	return vd->cfg ? kind_of(vd->cfg->type) : 0;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* An SPI no other emulated device of the VM or passthrough uses. */
static bool intid_free(const struct vm_config *cfg, uint32_t intid)
{
	for (unsigned i = 0; i < cfg->nr_pt_irqs; i++)
		if (cfg->pt_irqs[i] == intid)
			return false;
	for (unsigned i = 0; i < cfg->nr_vdevs; i++)
		if (cfg->vdevs[i].intid == intid)
			return false;
	return true;
}

int vdev_config_add(struct vm *vm, const struct shyper_emu_dev *dev)
{
	struct vm_config *cfg = &vm->config;
	const struct vdev_kind *kind = kind_of(dev->type);
	struct vm_vdev_cfg *v;
	int ret;

	if (!kind)
		return -SHYPER_ENOTSUP;
	if (cfg->nr_vdevs >= VM_MAX_VDEVS) {
		log_warn("vm%u config: more than %u virtio devices", vm->id, VM_MAX_VDEVS);
		return -SHYPER_ENOSPC;
	}
	/* One transport: 0x200 bytes (the template gives 0x1000), aligned. */
	if ((dev->base_ipa & (VIRTIO_MMIO_SIZE - 1)) || dev->length < VIRTIO_MMIO_SIZE ||
	    dev->length > 0x10000 || (dev->length & 0xfff & (VIRTIO_MMIO_SIZE - 1)))
		return -SHYPER_EINVAL;
	if (dev->irq_id < 32 || dev->irq_id >= VGIC_MAX_IRQS || !intid_free(cfg, dev->irq_id) ||
	    (vm->has_uart && vm->uart.intid == dev->irq_id))
		return -SHYPER_EINVAL;
	if (dev->cfg_num > VDEV_CFG_MAX)
		return -SHYPER_EINVAL;
	for (unsigned i = 0; i < cfg->nr_vdevs; i++)
		if (overlaps(cfg->vdevs[i].base, cfg->vdevs[i].size, dev->base_ipa, dev->length))
			return -SHYPER_EEXIST;
	for (unsigned i = 0; i < cfg->nr_mem; i++)
		if (overlaps(cfg->mem[i].ipa, cfg->mem[i].size, dev->base_ipa, dev->length))
			return -SHYPER_EEXIST;
	v = &cfg->vdevs[cfg->nr_vdevs];
	*v = (struct vm_vdev_cfg){ .type = dev->type, .intid = dev->irq_id,
				   .base = dev->base_ipa, .size = dev->length,
				   .cfg_num = dev->cfg_num };
	for (unsigned i = 0; i < dev->cfg_num; i++)
		v->cfg[i] = dev->cfg_list[i];
	ret = kind->check ? kind->check(vm, v) : 0;
	if (ret)
		return ret;
	cfg->nr_vdevs++;
	return 0;
}

/* The register window: the transport, then the model's deferred work. */
int vdev_mmio_access(struct vcpu *vcpu, struct mmio_access *acc, uint64_t offset,
		     void *priv)
{
	struct vdev *vd = priv;
	const struct vdev_kind *kind = vdev_kind_of(vd);
	int ret;

	if (offset >= VIRTIO_MMIO_SIZE) { /* the rest of the template's 4 KiB */
		if (!acc->write)
			acc->value = 0;
		return 0;
	}
	ret = virtio_mmio_handler(vcpu, acc, offset, vd->dev);
	if (kind->after_access)
		kind->after_access(vd);
	return ret;
}

static void *guest_ptr(void *vm, uint64_t ipa, uint64_t len)
{
	return vm_ram_ptr(vm, ipa, len);
}

static void guest_dirty(void *vm, uint64_t ipa, uint64_t len)
{
	dirty_log_mark(vm, ipa, len);
}

void vdev_guest_mem(struct vdev *vd, struct guest_mem *out)
{
	*out = (struct guest_mem){ .ptr = guest_ptr, .ctx = vd->vm, .dirty = guest_dirty };
}

/* Edge-triggered in the device tree: a rising level is one interrupt. */
void vdev_irq(void *ctx, bool level)
{
	struct vdev *vd = ctx;
	struct vcpu *target;

	if (!level || !vd->vm->setup_done)
		return;
	target = vgic_irq_target(vd->vm, vd->cfg->intid);
	vgic_inject(target ? target : &vd->vm->vcpus[0], vd->cfg->intid);
}

int vdev_setup_all(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;

	for (unsigned i = 0; i < cfg->nr_vdevs; i++) {
		struct vdev *vd = &vm->vdevs[i];
		const struct vdev_kind *kind = kind_of(cfg->vdevs[i].type);
		int ret;

		*vd = (struct vdev){ .cfg = &cfg->vdevs[i], .vm = vm };
		if (!kind)
			return -SHYPER_ENOTSUP;
		ret = kind->setup(vd);
		if (!ret && (ret = vm_add_mmio(vm, vd->cfg->base, vd->cfg->size, MMIO_VDEV, vd)) &&
		    kind->teardown)
			kind->teardown(vd); /* set up, but unreachable: undo it */
		if (ret) {
			log_err("vm%u: virtio %s at 0x%lx: %d", vm->id, kind->name,
				vd->cfg->base, ret);
			return ret;
		}
		vm->nr_vdevs = i + 1;
	}
	return 0;
}

void vdev_teardown_all(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vdevs; i++) {
		struct vdev *vd = &vm->vdevs[i];
		const struct vdev_kind *kind = vdev_kind_of(vd);

		if (kind && kind->teardown)
			kind->teardown(vd);
		*vd = (struct vdev){ 0 };
	}
	vm->nr_vdevs = 0;
}

void vdev_rebind_all(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vdevs; i++) {
		struct vdev *vd = &vm->vdevs[i];
		const struct vdev_kind *kind = vdev_kind_of(vd);

		if (kind && vd->model)
			kind->rebind(vd);
	}
}

void vdev_reset_all(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vdevs; i++) {
		uint64_t zero = 0;

		/* What the driver does first anyway: status 0 resets. */
		virtio_dev_lock(vm->vdevs[i].dev);
		virtio_mmio_access(vm->vdevs[i].dev, true, VIRTIO_MMIO_STATUS, 4, &zero);
		virtio_dev_unlock(vm->vdevs[i].dev);
	}
}

void vdev_fdt_describe(struct vm *vm, struct vm_fdt_desc *d, struct vm_fdt_mmio_dev *slots,
		       unsigned max)
{
	if (!d->virtio)
		d->virtio = slots;
	for (unsigned i = 0; i < vm->nr_vdevs && d->nr_virtio < max; i++) {
		const struct vm_vdev_cfg *c = vm->vdevs[i].cfg;

		slots[d->nr_virtio++] = (struct vm_fdt_mmio_dev){ c->base, VIRTIO_MMIO_SIZE,
								  c->intid };
	}
}

struct vdev *vdev_find_nth(struct vm *vm, uint32_t type, uint64_t n)
{
	for (unsigned i = 0; i < vm->nr_vdevs; i++)
		if (vm->vdevs[i].cfg->type == type && !n--)
			return &vm->vdevs[i];
	return 0;
}

struct vdev *vdev_find(struct vm *vm, uint32_t type)
{
	return vdev_find_nth(vm, type, 0);
}
