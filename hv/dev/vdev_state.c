/*
 * A virtio device in the migration stream (VDEV; docs/MIGRATION.md): the
 * virtio-mmio transport's registers, each queue's addresses and progress,
 * then the model's own state (vdev_kind.state_*). Requests are never in
 * flight here: the console and net models complete every chain within the
 * access or poll that took it, so a paused VM's devices hold only what the
 * rings and the models' buffers show.
 *
 * The record of the last used-buffer notification (event index) is not
 * carried: the loaded queue treats it as unknown, which at most sends the
 * guest one interrupt it did not need.
 */
#include <core/vm.h>
#include <dev/vdev.h>
#include <dev/virtio_mmio.h>
#include <lib/fmt.h>
#include <lib/mstream.h>
#include <lib/string.h>
#include <shyper/errno.h>
#include <shyper/migrate.h>
#include <shyper/virtio.h>

/* Virtio 1.2, 2.1: the device status bits a driver may set. */
#define STATUS_KNOWN (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
		      VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK | \
		      VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED)
/* Virtio 1.2, 4.2.2: InterruptStatus has the used-buffer and config bits. */
#define ISR_KNOWN 0x3U

static uint64_t offered(const struct virtio_dev *dev)
{
	return dev->ops->features | VIRTIO_TRANSPORT_FEATURES;
}

bool vdev_state_supported(const struct vdev *vd)
{
	const struct vdev_kind *kind = vdev_kind_of(vd);

	return kind && kind->state_save && kind->state_load && kind->state_size;
}

int vdev_state_save(struct vdev *vd, unsigned index, struct mstream_writer *w)
{
	struct virtio_dev *dev = vd->dev;
	const struct vdev_kind *kind = vdev_kind_of(vd);
	struct shyper_mig_vdev hdr;
	uint64_t blob_len;
	int ret;

	virtio_dev_lock(dev);
	hdr = (struct shyper_mig_vdev){
		.device_id = dev->ops->device_id,
		.nr_queues = dev->ops->nr_queues,
		.mmio_base = vd->cfg->base,
		.device_features = offered(dev),
		.driver_features = dev->driver_features,
		.status = dev->status,
		.interrupt_status = dev->isr,
		.config_generation = dev->config_generation,
		.device_features_sel = dev->dev_features_sel,
		.driver_features_sel = dev->drv_features_sel,
		.queue_sel = dev->queue_sel,
	};
	mstream_begin_section(w, SHYPER_MIG_SEC_VDEV, SHYPER_MIG_VDEV_VERSION, index);
	mstream_append(w, &hdr, sizeof(hdr));
	for (unsigned q = 0; q < dev->ops->nr_queues; q++) {
		const struct virtq *vq = &dev->vq[q];
		struct shyper_mig_vq out = {
			.size = vq->num,
			.ready = vq->ready,
			.last_avail_idx = vq->last_avail,
			.used_idx = vq->used_idx,
			.desc_ipa = vq->desc_ipa,
			.avail_ipa = vq->avail_ipa,
			.used_ipa = vq->used_ipa,
		};

		mstream_append(w, &out, sizeof(out));
	}
	blob_len = kind->state_size(vd);
	mstream_append(w, &blob_len, sizeof(blob_len));
	kind->state_save(vd, w);
	ret = mstream_end_section(w);
	virtio_dev_unlock(dev);
	return ret;
}

static int check_header(const struct vdev *vd, const struct shyper_mig_vdev *h, char *why,
			size_t why_size)
{
	const struct virtio_dev *dev = vd->dev;

	if (h->device_id != dev->ops->device_id || h->mmio_base != vd->cfg->base ||
	    h->nr_queues != dev->ops->nr_queues) {
		fmt_snprintf(why, why_size, "virtio device %u at 0x%lx with %u queues; this VM "
			     "has device %u at 0x%lx with %u", h->device_id, h->mmio_base,
			     h->nr_queues, dev->ops->device_id, vd->cfg->base,
			     dev->ops->nr_queues);
		return -SHYPER_EINVAL;
	}
	if (h->device_features != offered(dev) || (h->driver_features & ~offered(dev))) {
		fmt_snprintf(why, why_size, "features offered 0x%lx / accepted 0x%lx; this "
			     "device offers 0x%lx", h->device_features, h->driver_features,
			     offered(dev));
		return -SHYPER_EINVAL;
	}
	if ((h->status & ~STATUS_KNOWN) || (h->interrupt_status & ~ISR_KNOWN)) {
		fmt_snprintf(why, why_size, "status 0x%x or interrupt status 0x%x has "
			     "unknown bits", h->status, h->interrupt_status);
		return -SHYPER_EINVAL;
	}
	return 0;
}

static int load_queues(struct virtio_dev *dev, const struct mstream_vdev_view *v, char *why,
		       size_t why_size)
{
	bool event_idx = dev->driver_features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	bool indirect = dev->driver_features & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);

	for (unsigned q = 0; q < dev->ops->nr_queues; q++) {
		struct virtq *vq = &dev->vq[q];
		struct shyper_mig_vq in;

		mstream_array_get(&v->queues, q, &in, sizeof(in));
		if (in.size > dev->ops->queue_num_max || (in.size & (in.size - 1)) ||
		    (in.ready && !in.size)) {
			fmt_snprintf(why, why_size, "queue %u: size %u (at most %u, a power of "
				     "two, not 0 when ready)", q, in.size, dev->ops->queue_num_max);
			return -SHYPER_EINVAL;
		}
		virtq_reset(vq);
		vq->num = in.size;
		vq->desc_ipa = in.desc_ipa;
		vq->avail_ipa = in.avail_ipa;
		vq->used_ipa = in.used_ipa;
		vq->event_idx = event_idx;
		vq->indirect = indirect;
		vq->last_avail = in.last_avail_idx;
		vq->used_idx = in.used_idx;
		vq->ready = in.ready;
		if (virtq_remap(vq, &dev->mem)) {
			fmt_snprintf(why, why_size, "queue %u: rings at 0x%lx/0x%lx/0x%lx are not "
				     "this VM's RAM", q, in.desc_ipa, in.avail_ipa, in.used_ipa);
			return -SHYPER_EINVAL;
		}
	}
	return 0;
}

int vdev_state_load(struct vdev *vd, const struct mstream_vdev_view *v, char *why,
		    size_t why_size)
{
	struct virtio_dev *dev = vd->dev;
	int ret = check_header(vd, &v->dev, why, why_size);

	if (ret)
		return ret;
	virtio_dev_lock(dev);
	dev->driver_features = v->dev.driver_features;
	dev->driver_features_bad = false;
	dev->status = v->dev.status;
	dev->isr = v->dev.interrupt_status;
	/* The line is where the interrupt left it: a raised one is pending or
	 * active in the vGIC already, and must not be raised again. */
	dev->irq_level = dev->isr != 0;
	dev->config_generation = v->dev.config_generation;
	dev->dev_features_sel = v->dev.device_features_sel;
	dev->drv_features_sel = v->dev.driver_features_sel;
	dev->queue_sel = v->dev.queue_sel;
	ret = load_queues(dev, v, why, why_size);
	if (!ret)
		ret = vdev_kind_of(vd)->state_load(vd, v->blob, v->blob_len, why, why_size);
	virtio_dev_unlock(dev);
	return ret;
}
