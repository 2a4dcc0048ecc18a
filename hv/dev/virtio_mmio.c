/*
 * virtio-mmio transport, version 2 (virtio 1.2, 4.2.2 and 3.1), written
 * from the specification. See dev/virtio_mmio.h.
 */
#include <core/log.h>
#include <core/vm.h>
#include <dev/virtio_mmio.h>
#include <shyper/errno.h>
#include <string.h>

#if defined(__aarch64__)
#define cpu_relax() __asm__ volatile("yield" ::: "memory")
#else
#define cpu_relax() __asm__ volatile("" ::: "memory")
#endif

#define STATUS_DRIVER_BITS                                                     \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |                    \
	 VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK |                 \
	 VIRTIO_STATUS_FAILED)

void virtio_dev_lock(struct virtio_dev *dev)
{
	while (__atomic_exchange_n(&dev->lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&dev->lock, __ATOMIC_RELAXED))
			cpu_relax();
}

void virtio_dev_unlock(struct virtio_dev *dev)
{
	__atomic_store_n(&dev->lock, 0, __ATOMIC_RELEASE);
}

static uint64_t offered_features(const struct virtio_dev *dev)
{
	return dev->ops->features | VIRTIO_TRANSPORT_FEATURES;
}

static bool negotiated(const struct virtio_dev *dev, unsigned bit)
{
	return dev->driver_features & VIRTIO_BIT(bit);
}

static void update_irq(struct virtio_dev *dev)
{
	bool level = dev->isr != 0;

	if (level == dev->irq_level)
		return;
	dev->irq_level = level;
	if (dev->irq)
		dev->irq(dev->irq_ctx, level);
}

static void raise_isr(struct virtio_dev *dev, uint32_t bits)
{
	dev->isr |= bits;
	update_irq(dev);
}

static void bad_access(struct virtio_dev *dev, bool write, uint64_t offset,
		       unsigned size)
{
	dev->bad_accesses++;
	if (dev->bad_logged)
		return;
	dev->bad_logged = true;
	log_warn("virtio-mmio (type %u): guest %s of %u byte(s) at +0x%lx refused "
		 "or unknown; later ones only counted\n",
		 dev->ops->device_id, write ? "write" : "read", size,
		 (unsigned long)offset);
}

int virtio_dev_init(struct virtio_dev *dev, const struct virtio_dev_ops *ops,
		    void *priv, const struct guest_mem *mem, virtio_irq_fn irq,
		    void *irq_ctx)
{
	uint16_t qmax;

	if (!ops || !mem || !mem->ptr || ops->nr_queues > VIRTIO_MAX_QUEUES ||
	    ops->config_size > VIRTIO_MAX_CONFIG)
		return -SHYPER_EINVAL;
	qmax = ops->queue_num_max;
	if (ops->nr_queues &&
	    (qmax == 0 || qmax > VIRTQ_MAX_SIZE || (qmax & (qmax - 1))))
		return -SHYPER_EINVAL;
	memset(dev, 0, sizeof(*dev));
	dev->ops = ops;
	dev->priv = priv;
	dev->mem = *mem;
	dev->irq = irq;
	dev->irq_ctx = irq_ctx;
	return 0;
}

void virtio_dev_rebind(struct virtio_dev *dev, const struct virtio_dev_ops *ops,
		       const struct guest_mem *mem, virtio_irq_fn irq, void *irq_ctx)
{
	dev->ops = ops;
	dev->mem = *mem;
	dev->irq = irq;
	dev->irq_ctx = irq_ctx;
}

static void device_reset(struct virtio_dev *dev)
{
	dev->status = 0;
	dev->dev_features_sel = 0;
	dev->drv_features_sel = 0;
	dev->driver_features = 0;
	dev->driver_features_bad = false;
	dev->queue_sel = 0;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		virtq_reset(&dev->vq[q]);
	dev->isr = 0;
	update_irq(dev);
	if (dev->ops->reset)
		dev->ops->reset(dev);
}

bool virtio_dev_queue_usable(struct virtio_dev *dev, unsigned q)
{
	return q < dev->ops->nr_queues &&
	       (dev->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(dev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) &&
	       dev->vq[q].ready && !dev->vq[q].broken;
}

void virtio_dev_needs_reset(struct virtio_dev *dev)
{
	if (dev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		return;
	dev->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	if (dev->status & VIRTIO_STATUS_DRIVER_OK)
		raise_isr(dev, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_dev_config_changed(struct virtio_dev *dev)
{
	dev->config_generation++;
	if (dev->status & VIRTIO_STATUS_DRIVER_OK)
		raise_isr(dev, VIRTIO_MMIO_INT_CONFIG);
}

int virtio_dev_peek(struct virtio_dev *dev, unsigned q, struct virtq_seg *segs,
		    unsigned max_segs, struct virtq_chain *chain)
{
	int ret;

	if (!virtio_dev_queue_usable(dev, q))
		return 0;
	ret = virtq_peek(&dev->vq[q], segs, max_segs, chain);
	if (ret < 0)
		virtio_dev_needs_reset(dev);
	return ret;
}

int virtio_dev_pop(struct virtio_dev *dev, unsigned q, struct virtq_seg *segs,
		   unsigned max_segs, struct virtq_chain *chain)
{
	int ret;

	if (!virtio_dev_queue_usable(dev, q))
		return 0;
	ret = virtq_pop(&dev->vq[q], segs, max_segs, chain);
	if (ret < 0)
		virtio_dev_needs_reset(dev);
	return ret;
}

void virtio_dev_advance(struct virtio_dev *dev, unsigned q)
{
	if (virtio_dev_queue_usable(dev, q))
		virtq_advance(&dev->vq[q]);
}

int virtio_dev_push(struct virtio_dev *dev, unsigned q,
		    const struct virtq_chain *chain, uint32_t written)
{
	int ret;

	if (!virtio_dev_queue_usable(dev, q))
		return -SHYPER_EIO;
	ret = virtq_push(&dev->vq[q], chain, written);
	if (ret < 0)
		virtio_dev_needs_reset(dev);
	return ret;
}

void virtio_dev_flush(struct virtio_dev *dev, unsigned q)
{
	if (q < dev->ops->nr_queues && virtq_should_notify(&dev->vq[q]))
		raise_isr(dev, VIRTIO_MMIO_INT_VRING);
}

int virtio_dev_remap(struct virtio_dev *dev)
{
	int ret = 0;

	for (unsigned q = 0; q < dev->ops->nr_queues; q++) {
		int r = virtq_remap(&dev->vq[q], &dev->mem);

		if (r && !ret)
			ret = r;
	}
	if (ret)
		virtio_dev_needs_reset(dev);
	return ret;
}

/* The queue QueueSel names, or NULL if the device has no such queue. */
static struct virtq *sel_queue(struct virtio_dev *dev)
{
	if (dev->queue_sel >= dev->ops->nr_queues)
		return NULL;
	return &dev->vq[dev->queue_sel];
}

static bool features_acceptable(const struct virtio_dev *dev)
{
	return !dev->driver_features_bad &&
	       !(dev->driver_features & ~offered_features(dev)) &&
	       negotiated(dev, VIRTIO_F_VERSION_1);
}

static void kick_pending(struct virtio_dev *dev)
{
	if (!dev->ops->queue_notify)
		return;
	for (unsigned q = 0; q < dev->ops->nr_queues; q++)
		if (virtio_dev_queue_usable(dev, q) && virtq_has_avail(&dev->vq[q]))
			dev->ops->queue_notify(dev, q);
}

static void write_status(struct virtio_dev *dev, uint32_t v)
{
	uint32_t old = dev->status, next, added;

	if (v == 0) {
		device_reset(dev);
		return;
	}
	/* The driver only ever adds bits (spec 2.1.1), DEVICE_NEEDS_RESET
	 * is ours to set. */
	if ((v & ~STATUS_DRIVER_BITS & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET) ||
	    (old & STATUS_DRIVER_BITS & ~v)) {
		bad_access(dev, true, VIRTIO_MMIO_STATUS, 4);
		return;
	}
	next = (v & STATUS_DRIVER_BITS) | (old & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	added = next & ~old;
	/* FEATURES_OK only for an acceptable subset of what we offered; the
	 * driver sees it refused when it reads the status back (3.1.1). */
	if ((added & VIRTIO_STATUS_FEATURES_OK) &&
	    (!(next & VIRTIO_STATUS_DRIVER) || !features_acceptable(dev)))
		next &= ~VIRTIO_STATUS_FEATURES_OK;
	if ((added & VIRTIO_STATUS_DRIVER_OK) && !(next & VIRTIO_STATUS_FEATURES_OK)) {
		bad_access(dev, true, VIRTIO_MMIO_STATUS, 4);
		next &= ~VIRTIO_STATUS_DRIVER_OK;
	}
	dev->status = next;
	if (next & ~old & VIRTIO_STATUS_DRIVER_OK) {
		/* A device that failed during setup says so now (2.1.2). */
		if (next & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
			raise_isr(dev, VIRTIO_MMIO_INT_CONFIG);
		if (dev->ops->driver_ok)
			dev->ops->driver_ok(dev);
		/* Buffers made available before DRIVER_OK: look at them now. */
		kick_pending(dev);
	}
}

static void write_queue_ready(struct virtio_dev *dev, struct virtq *vq,
			      uint32_t v)
{
	int ret;

	if (v == 0) {
		vq->ready = false; /* keeps size and addresses for a re-enable */
		return;
	}
	if (v != 1 || vq->ready) {
		bad_access(dev, true, VIRTIO_MMIO_QUEUE_READY, 4);
		return;
	}
	if (!(dev->status & VIRTIO_STATUS_FEATURES_OK) ||
	    (dev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)) {
		bad_access(dev, true, VIRTIO_MMIO_QUEUE_READY, 4);
		return;
	}
	ret = virtq_enable(vq, &dev->mem, dev->ops->queue_num_max,
			   negotiated(dev, VIRTIO_F_EVENT_IDX),
			   negotiated(dev, VIRTIO_F_INDIRECT_DESC));
	if (ret) {
		/* Bad size or rings: the queue stays off, and the driver learns
		 * it from the status (Linux does not read QueueReady back). */
		bad_access(dev, true, VIRTIO_MMIO_QUEUE_READY, 4);
		virtio_dev_needs_reset(dev);
	}
}

static void set_half(uint64_t *reg, bool high, uint32_t v)
{
	if (high)
		*reg = (*reg & 0xffffffffULL) | ((uint64_t)v << 32);
	else
		*reg = (*reg & ~0xffffffffULL) | v;
}

static void write_reg(struct virtio_dev *dev, uint64_t offset, uint32_t v)
{
	struct virtq *vq = sel_queue(dev);

	switch (offset) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		dev->dev_features_sel = v;
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		dev->drv_features_sel = v;
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		/* Only between DRIVER and FEATURES_OK (3.1.1 steps 4-5). */
		if (!(dev->status & VIRTIO_STATUS_DRIVER) ||
		    (dev->status & VIRTIO_STATUS_FEATURES_OK))
			break;
		if (dev->drv_features_sel < 2)
			set_half(&dev->driver_features, dev->drv_features_sel == 1, v);
		else if (v)
			dev->driver_features_bad = true;
		return;
	case VIRTIO_MMIO_QUEUE_SEL:
		dev->queue_sel = v;
		return;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		/* Queue layout is fixed while the queue is ready. */
		if (!vq || vq->ready)
			break;
		if (offset == VIRTIO_MMIO_QUEUE_NUM) {
			if (v > 0xffff)
				break;
			vq->num = (uint16_t)v;
		} else if (offset <= VIRTIO_MMIO_QUEUE_DESC_HIGH) {
			set_half(&vq->desc_ipa, offset & 4, v);
		} else if (offset <= VIRTIO_MMIO_QUEUE_DRIVER_HIGH) {
			set_half(&vq->avail_ipa, offset & 4, v);
		} else {
			set_half(&vq->used_ipa, offset & 4, v);
		}
		return;
	case VIRTIO_MMIO_QUEUE_READY:
		if (!vq)
			break;
		write_queue_ready(dev, vq, v);
		return;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		dev->notifies++;
		if (v < dev->ops->nr_queues && dev->ops->queue_notify &&
		    virtio_dev_queue_usable(dev, v))
			dev->ops->queue_notify(dev, v);
		return;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		dev->isr &= ~v;
		update_irq(dev);
		return;
	case VIRTIO_MMIO_STATUS:
		write_status(dev, v);
		return;
	case VIRTIO_MMIO_SHM_SEL:
		return; /* no shared memory regions: every id is unused */
	default:
		break;
	}
	bad_access(dev, true, offset, 4);
}

static uint32_t read_reg(struct virtio_dev *dev, uint64_t offset)
{
	struct virtq *vq = sel_queue(dev);
	uint64_t features;

	switch (offset) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return VIRTIO_MMIO_VERSION_MODERN;
	case VIRTIO_MMIO_DEVICE_ID:
		return dev->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_VENDOR_ID;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		features = offered_features(dev);
		if (dev->dev_features_sel == 0)
			return (uint32_t)features;
		if (dev->dev_features_sel == 1)
			return (uint32_t)(features >> 32);
		return 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return vq ? dev->ops->queue_num_max : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return vq ? vq->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return dev->isr;
	case VIRTIO_MMIO_STATUS:
		return dev->status;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return dev->config_generation;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff; /* no such region (4.2.2) */
	default:
		bad_access(dev, false, offset, 4);
		return 0;
	}
}

static int config_access(struct virtio_dev *dev, bool write, uint64_t offset,
			 unsigned size, uint64_t *value)
{
	uint64_t off = offset - VIRTIO_MMIO_CONFIG;

	if ((size != 1 && size != 2 && size != 4) || (off & (size - 1))) {
		bad_access(dev, write, offset, size);
		return -SHYPER_EINVAL;
	}
	if (off + size > dev->ops->config_size) {
		bad_access(dev, write, offset, size);
		if (!write)
			*value = 0;
		return 0;
	}
	if (write) {
		if (dev->ops->config_write)
			dev->ops->config_write(dev, (uint32_t)off, size,
					       (uint32_t)*value);
	} else {
		uint32_t v = dev->ops->config_read ?
				     dev->ops->config_read(dev, (uint32_t)off, size) : 0;

		if (size < 4)
			v &= (1U << (8 * size)) - 1;
		*value = v;
	}
	return 0;
}

int virtio_mmio_access(struct virtio_dev *dev, bool write, uint64_t offset,
		       unsigned size, uint64_t *value)
{
	if (offset >= VIRTIO_MMIO_SIZE) {
		bad_access(dev, write, offset, size);
		if (!write)
			*value = 0;
		return 0;
	}
	if (offset >= VIRTIO_MMIO_CONFIG)
		return config_access(dev, write, offset, size, value);
	if (size != 4 || (offset & 3)) {
		bad_access(dev, write, offset, size);
		return -SHYPER_EINVAL;
	}
	if (write)
		write_reg(dev, offset, (uint32_t)*value);
	else
		*value = read_reg(dev, offset);
	return 0;
}

int virtio_mmio_handler(struct vcpu *vcpu, struct mmio_access *acc,
			uint64_t offset, void *priv)
{
	struct virtio_dev *dev = priv;
	uint64_t v = acc->write ? acc->value : 0;
	int ret;

	(void)vcpu;
	virtio_dev_lock(dev);
	ret = virtio_mmio_access(dev, acc->write, offset, acc->size, &v);
	virtio_dev_unlock(dev);
	if (!ret && !acc->write)
		acc->value = v;
	return ret;
}
