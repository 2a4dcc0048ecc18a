/*
 * A VM's emulated virtio-mmio devices: the JSON template's
 * EMU_DEVICE_T_VIRTIO_{CONSOLE,NET,BLK_MEDIATED} entries (docs/CONFIG.md).
 * This file ties a device model (hv/dev/virtio_<kind>.c) to the VM: its
 * guest memory, its interrupt, its MMIO window and its device-tree node.
 */
#ifndef DEV_VDEV_H
#define DEV_VDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_MAX_VDEVS 4
#define VDEV_CFG_MAX 16

/* As configured (struct vm_config); type is an enum shyper_emu_type. */
struct vm_vdev_cfg {
	uint32_t type;
	uint32_t intid; /* its SPI */
	uint64_t base, size;
	uint32_t cfg_num;
	uint64_t cfg[VDEV_CFG_MAX];
};

struct vm;
struct vdev;
struct virtio_dev;
struct vm_fdt_desc;
struct vm_fdt_mmio_dev;
struct shyper_emu_dev;
struct mstream_writer;
struct mstream_vdev_view;

/* What each kind of device provides (virtio_<kind>.c). */
struct vdev_kind {
	const char *name;
	/* Config time: the device's cfg_list and limits; 0 or -SHYPER_E*. */
	int (*check)(struct vm *vm, const struct vm_vdev_cfg *cfg);
	/* vm_setup: allocate and initialise the model, set vd->dev and
	 * vd->model (virtio_dev_init with vdev_guest_mem and vdev_irq). */
	int (*setup)(struct vdev *vd);
	void (*teardown)(struct vdev *vd);
	/* Live update (vm_rebind), no vCPU running: set again every pointer
	 * into the image that setup stored (the transport's ops, memory
	 * accessors and interrupt line, the model's own callbacks), and
	 * nothing else: the device's state goes on as it was. */
	void (*rebind)(struct vdev *vd);
	/* After a guest register access, outside the device lock. Optional. */
	void (*after_access)(struct vdev *vd);
	/* Migration (vdev_state.c), device lock held: the bytes of the
	 * model's own state in a VDEV section (shyper/migrate.h), written by
	 * state_save; state_load checks and installs them (0 or
	 * -SHYPER_EINVAL with why). Without them the device is not carried. */
	uint64_t (*state_size)(struct vdev *vd);
	int (*state_save)(struct vdev *vd, struct mstream_writer *w);
	int (*state_load)(struct vdev *vd, const uint8_t *blob, uint64_t len, char *why,
			  size_t why_size);
	/* Optional: -SHYPER_EBUSY (with why) while the paused device still
	 * has work that must finish before its state is taken. */
	int (*state_check)(struct vdev *vd, char *why, size_t why_size);
};

/* Lives in the state root (struct vm): its pointers lead into the root or
 * the heap, never into the image; the kind follows from cfg->type. */
struct vdev {
	const struct vm_vdev_cfg *cfg;
	struct vm *vm;
	struct virtio_dev *dev; /* the transport inside the model */
	void *model;		/* the model's state, from the hypervisor heap */
};

extern const struct vdev_kind vdev_console_kind;
extern const struct vdev_kind vdev_net_kind;
extern const struct vdev_kind vdev_blk_kind;

/* What the device is, from its configured type; NULL for none we know. */
const struct vdev_kind *vdev_kind_of(const struct vdev *vd);
/* SHYPER_CFG_ADD_EMU_DEV of a virtio type: checks and records it. */
int vdev_config_add(struct vm *vm, const struct shyper_emu_dev *dev);
/* vm_setup / vm_destroy: every configured device of the VM. */
int vdev_setup_all(struct vm *vm);
void vdev_teardown_all(struct vm *vm);
/* Live update: each set-up device's rebind hook. */
void vdev_rebind_all(struct vm *vm);
/* At every boot of the VM: the devices come up reset. */
void vdev_reset_all(struct vm *vm);
/* Adds the VM's transports to its device tree; `slots` holds `max`. */
void vdev_fdt_describe(struct vm *vm, struct vm_fdt_desc *d,
		       struct vm_fdt_mmio_dev *slots, unsigned max);
/* The device of `type` of VM `vm`, or NULL. */
struct vdev *vdev_find(struct vm *vm, uint32_t type);
/* The n-th (from 0) device of that type, in configuration order. */
struct vdev *vdev_find_nth(struct vm *vm, uint32_t type, uint64_t n);

/* Snapshot and migration (vdev_state.c); the VM paused or never run. */
bool vdev_state_supported(const struct vdev *vd);
/* One VDEV section, instance @index. */
int vdev_state_save(struct vdev *vd, unsigned index, struct mstream_writer *w);
/* 0, or -SHYPER_EINVAL with why: the view does not fit this device. */
int vdev_state_load(struct vdev *vd, const struct mstream_vdev_view *v, char *why,
		    size_t why_size);
/* The CONSOLE_HISTORY section of the VM's virtio console, if it has one. */
int vdev_console_history_save(struct vm *vm, struct mstream_writer *w);
int vdev_console_history_load(struct vm *vm, const uint8_t *bytes, uint64_t len,
			      char *why, size_t why_size);

/* A guest access to a device's register window (MMIO_VDEV, priv: the vdev). */
struct vcpu;
struct mmio_access;
int vdev_mmio_access(struct vcpu *vcpu, struct mmio_access *acc, uint64_t offset,
		     void *priv);

/* SHYPER_VMM_CONSOLE from the MVM (vdev_console.c). */
struct trap_frame;
long vdev_console_hypercall(struct vcpu *caller, struct vm *vm, struct trap_frame *f);

/* For the models: the VM's RAM as a guest_mem (writes go to its dirty log,
 * if it has one running), and the interrupt line (ctx: the vdev). */
struct guest_mem;
void vdev_guest_mem(struct vdev *vd, struct guest_mem *out);
void vdev_irq(void *vdev, bool level);

#endif
