/*
 * The virtio-mmio transport, version 2 (virtio 1.2, 4.2): the register
 * block a guest's virtio_mmio driver probes, feature negotiation, the
 * device status state machine, queue setup, notifications and the
 * interrupt status register. A device model (console, block, net) supplies
 * an ops table and keeps its own state next to the struct virtio_dev it
 * embeds; everything lives in memory the caller owns (no statics), so a
 * VM's devices can be carried over a live update or a migration.
 *
 * Locking: one lock per device. virtio_mmio_handler takes it around each
 * guest access, and the ops callbacks run under it. Backends calling in
 * from elsewhere (another core feeding a console) take it with
 * virtio_dev_lock. virtio_mmio_access and the virtio_dev_* helpers below
 * expect it held (or a single-threaded caller, as in tests).
 */
#ifndef DEV_VIRTIO_MMIO_H
#define DEV_VIRTIO_MMIO_H

#include <dev/virtq.h>
#include <shyper/virtio.h>
#include <stdbool.h>
#include <stdint.h>

#define VIRTIO_MAX_QUEUES 4
#define VIRTIO_MAX_CONFIG (VIRTIO_MMIO_SIZE - VIRTIO_MMIO_CONFIG)
#define VIRTIO_VENDOR_ID 0x50594853 /* "SHYP" */
/* Feature bits the transport and virtq.c implement for every device. */
#define VIRTIO_TRANSPORT_FEATURES                                              \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |     \
	 VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))

struct virtio_dev;
struct vcpu;
struct mmio_access;

struct virtio_dev_ops {
	uint32_t device_id;	 /* VIRTIO_ID_* */
	uint64_t features;	 /* device-specific bits; transport ones added */
	unsigned nr_queues;	 /* <= VIRTIO_MAX_QUEUES */
	uint16_t queue_num_max;	 /* power of two, <= VIRTQ_MAX_SIZE */
	uint32_t config_size;	 /* bytes at 0x100, <= VIRTIO_MAX_CONFIG */
	/* Config space access, off + size <= config_size, size 1, 2 or 4,
	 * naturally aligned. Optional: reads 0, writes ignored. */
	uint32_t (*config_read)(struct virtio_dev *dev, uint32_t off, unsigned size);
	void (*config_write)(struct virtio_dev *dev, uint32_t off, unsigned size,
			     uint32_t value);
	/* The driver notified queue q (ready, DRIVER_OK set). Optional. */
	void (*queue_notify)(struct virtio_dev *dev, unsigned q);
	/* The driver set DRIVER_OK. Optional. */
	void (*driver_ok)(struct virtio_dev *dev);
	/* The driver reset the device; queues are already cleared. Optional. */
	void (*reset)(struct virtio_dev *dev);
};

/* Raises (level true) or lowers the device's interrupt line. */
typedef void (*virtio_irq_fn)(void *ctx, bool level);

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *priv; /* the device model's state */
	struct guest_mem mem;
	virtio_irq_fn irq;
	void *irq_ctx;
	uint32_t lock;
	/* Transport registers. */
	uint32_t status;
	uint32_t dev_features_sel, drv_features_sel;
	uint64_t driver_features;
	bool driver_features_bad; /* bits set beyond the 64 we know */
	uint32_t queue_sel;
	uint32_t isr;
	uint32_t config_generation;
	bool irq_level;
	/* Accesses the spec forbids or we do not know, logged once. */
	uint32_t bad_accesses;
	bool bad_logged;
	uint64_t notifies;
	struct virtq vq[VIRTIO_MAX_QUEUES];
};

/* Sets up dev for ops; mem is copied. 0 or -SHYPER_EINVAL (bad ops). */
int virtio_dev_init(struct virtio_dev *dev, const struct virtio_dev_ops *ops,
		    void *priv, const struct guest_mem *mem, virtio_irq_fn irq,
		    void *irq_ctx);

/*
 * Live update: a device set up by another image gets this image's ops,
 * memory accessors and interrupt line (the models' *_rebind call it with
 * what their init gave). Registers, queues and priv stay as they are; the
 * queues reach the accessors through dev->mem, which does not move. Same
 * values again change nothing. No vCPU may use the device meanwhile.
 */
void virtio_dev_rebind(struct virtio_dev *dev, const struct virtio_dev_ops *ops,
		       const struct guest_mem *mem, virtio_irq_fn irq, void *irq_ctx);

/*
 * One guest access to the register block: offset from its base, size 1, 2,
 * 4 or 8 bytes, *value written or read. Returns 0, or -SHYPER_EINVAL for an
 * access the spec forbids (registers are 32-bit aligned words; the config
 * space takes 1, 2 and 4 byte aligned accesses): the guest gets an abort.
 * Lock held.
 */
int virtio_mmio_access(struct virtio_dev *dev, bool write, uint64_t offset,
		       unsigned size, uint64_t *value);

/* One guest access to the device's register window; priv: the virtio_dev. */
int virtio_mmio_handler(struct vcpu *vcpu, struct mmio_access *acc,
			uint64_t offset, void *priv);

void virtio_dev_lock(struct virtio_dev *dev);
void virtio_dev_unlock(struct virtio_dev *dev);

/* Helpers for device models (lock held). */

/* True if queue q may be used: DRIVER_OK, queue ready, device not failed. */
bool virtio_dev_queue_usable(struct virtio_dev *dev, unsigned q);
/* virtq_peek / virtq_pop on queue q; 0 when it is not usable. A broken
 * queue makes the device need a reset (status, config interrupt). */
int virtio_dev_peek(struct virtio_dev *dev, unsigned q, struct virtq_seg *segs,
		    unsigned max_segs, struct virtq_chain *chain);
int virtio_dev_pop(struct virtio_dev *dev, unsigned q, struct virtq_seg *segs,
		   unsigned max_segs, struct virtq_chain *chain);
/* Takes the chain virtio_dev_peek returned (virtq_advance). */
void virtio_dev_advance(struct virtio_dev *dev, unsigned q);
/* virtq_push on queue q; no interrupt yet. */
int virtio_dev_push(struct virtio_dev *dev, unsigned q,
		    const struct virtq_chain *chain, uint32_t written);
/* After a batch of pushes on q: raise the used buffer interrupt if the
 * driver wants one. */
void virtio_dev_flush(struct virtio_dev *dev, unsigned q);
/* Sets DEVICE_NEEDS_RESET and, once the driver is running, tells it. */
void virtio_dev_needs_reset(struct virtio_dev *dev);
/* The device changed its config space: new generation, interrupt. */
void virtio_dev_config_changed(struct virtio_dev *dev);
/* Recomputes the queues' host pointers after a restore. 0 or error. */
int virtio_dev_remap(struct virtio_dev *dev);

#endif
