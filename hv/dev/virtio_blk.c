/*
 * virtio-blk device model whose requests a backend serves (see
 * dev/virtio_blk.h), over the virtio-mmio transport.
 */
#include <dev/virtio_blk.h>
#include <shyper/errno.h>
#include <shyper/virtio.h>
#include <string.h>

#define BLK_FEATURES                                                           \
	(VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | \
	 VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH))

static struct virtio_blk *blk_of(struct virtio_dev *dev)
{
	return dev->priv;
}

/* Hands a request back: its status byte (the last writable byte), then
 * the used ring. Lock held; the caller flushes. */
static void finish(struct virtio_blk *blk, const struct virtq_seg *segs,
		   const struct virtq_chain *c, uint8_t status, uint32_t written)
{
	if (c->write_len)
		virtq_write_chain(segs, c, c->write_len - 1, &status, 1);
	virtio_dev_push(&blk->dev, 0, c, c->write_len ? written : 0);
	if (status == VIRTIO_BLK_S_OK)
		blk->done_ok++;
	else
		blk->done_err++;
}

static bool in_capacity(const struct virtio_blk *blk, uint64_t sector, uint32_t len)
{
	return sector <= blk->capacity && len / VBLK_SECTOR <= blk->capacity - sector;
}

/* parse(): the request goes to the backend (r->type, sector, len set). */
#define TO_BACKEND 0xff

/*
 * Checks a popped chain. Returns TO_BACKEND, or the VIRTIO_BLK_S_* status
 * it ends with now (GET_ID is answered here; *written says how much).
 */
static uint8_t parse(struct virtio_blk *blk, struct vblk_req *r, uint32_t *written)
{
	const struct virtq_chain *c = &r->chain;
	struct {
		uint32_t type, reserved;
		uint64_t sector;
	} hdr;

	*written = 1;
	/* Header readable, then at least the status byte writable. */
	if (c->nr_read == 0 || c->write_len == 0 ||
	    virtq_read_chain(r->segs, c, 0, &hdr, sizeof(hdr)) != sizeof(hdr))
		return VIRTIO_BLK_S_IOERR;
	r->type = hdr.type;
	r->sector = hdr.sector;
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		if (c->read_len != VIRTIO_BLK_HDR_BYTES)
			return VIRTIO_BLK_S_IOERR;
		r->len = c->write_len - 1;
		break;
	case VIRTIO_BLK_T_OUT:
		if (c->write_len != 1)
			return VIRTIO_BLK_S_IOERR;
		r->len = c->read_len - VIRTIO_BLK_HDR_BYTES;
		if (blk->ro)
			return VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (c->read_len != VIRTIO_BLK_HDR_BYTES || c->write_len != 1)
			return VIRTIO_BLK_S_IOERR;
		r->len = 0;
		r->sector = 0;
		return blk->backend_up ? TO_BACKEND : VIRTIO_BLK_S_IOERR;
	case VIRTIO_BLK_T_GET_ID: {
		uint32_t n = c->write_len - 1;

		if (c->read_len != VIRTIO_BLK_HDR_BYTES)
			return VIRTIO_BLK_S_IOERR;
		if (n > VIRTIO_BLK_ID_BYTES)
			n = VIRTIO_BLK_ID_BYTES;
		virtq_write_chain(r->segs, c, 0, blk->id, n);
		*written = c->write_len;
		return VIRTIO_BLK_S_OK;
	}
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
	if (!r->len || r->len % VBLK_SECTOR || r->len > VBLK_DATA_MAX ||
	    !in_capacity(blk, r->sector, r->len) || !blk->backend_up)
		return VIRTIO_BLK_S_IOERR;
	return TO_BACKEND;
}

static struct vblk_req *free_slot(struct virtio_blk *blk)
{
	for (unsigned i = 0; i < VBLK_INFLIGHT; i++)
		if (blk->req[i].state == VBLK_FREE)
			return &blk->req[i];
	return 0;
}

/* Takes chains from the queue while the in-flight table has room: bad ones
 * end at once, good ones wait for the backend. Lock held. */
static void take_requests(struct virtio_blk *blk)
{
	struct vblk_req *r;
	bool pushed = false, queued = false;

	while ((r = free_slot(blk))) {
		uint32_t written;
		uint8_t st;

		if (virtio_dev_pop(&blk->dev, 0, r->segs, VBLK_SEG_MAX + 2, &r->chain) != 1)
			break;
		st = parse(blk, r, &written);
		if (st != TO_BACKEND) {
			finish(blk, r->segs, &r->chain, st, written);
			pushed = true;
			continue;
		}
		if (!++blk->next_seq)
			blk->next_seq = 1;
		r->seq = blk->next_seq;
		r->state = VBLK_PENDING;
		queued = true;
	}
	if (pushed)
		virtio_dev_flush(&blk->dev, 0);
	if (queued && blk->announce)
		blk->announce(blk, blk->announce_ctx);
}

static void fail_inflight(struct virtio_blk *blk)
{
	bool pushed = false;

	for (unsigned i = 0; i < VBLK_INFLIGHT; i++) {
		struct vblk_req *r = &blk->req[i];

		if (r->state == VBLK_FREE)
			continue;
		finish(blk, r->segs, &r->chain, VIRTIO_BLK_S_IOERR, 1);
		r->state = VBLK_FREE;
		pushed = true;
	}
	if (pushed)
		virtio_dev_flush(&blk->dev, 0);
}

static void blk_queue_notify(struct virtio_dev *dev, unsigned q)
{
	if (q == 0)
		take_requests(blk_of(dev));
}

static const struct virtio_dev_ops blk_ops, blk_ops_ro;

static void blk_reset(struct virtio_dev *dev)
{
	struct virtio_blk *blk = blk_of(dev);

	/* The rings are gone: nothing may be written for these requests. */
	for (unsigned i = 0; i < VBLK_INFLIGHT; i++)
		blk->req[i].state = VBLK_FREE;
	/* The driver reads the features after a reset: offer RO now. */
	blk->ro_offered = blk->ro;
	dev->ops = blk->ro ? &blk_ops_ro : &blk_ops;
}

static uint32_t blk_config_read(struct virtio_dev *dev, uint32_t off, unsigned size)
{
	struct virtio_blk *blk = blk_of(dev);
	uint8_t cfg[VIRTIO_BLK_CONFIG_SIZE] = { 0 };
	uint32_t v = 0, size_max = VBLK_SIZE_MAX, seg_max = VBLK_SEG_MAX, bs = VBLK_SECTOR;

	memcpy(cfg, &blk->capacity, 8);
	memcpy(cfg + 8, &size_max, 4);
	memcpy(cfg + 12, &seg_max, 4);
	/* 16: geometry, left 0 */
	memcpy(cfg + 20, &bs, 4);
	memcpy(&v, cfg + off, size); /* the transport checked off + size */
	return v;
}

static const struct virtio_dev_ops blk_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.features = BLK_FEATURES,
	.nr_queues = 1,
	.queue_num_max = VBLK_QUEUE_SIZE,
	.config_size = VIRTIO_BLK_CONFIG_SIZE,
	.config_read = blk_config_read,
	.queue_notify = blk_queue_notify,
	.reset = blk_reset,
};

static const struct virtio_dev_ops blk_ops_ro = {
	.device_id = VIRTIO_ID_BLOCK,
	.features = BLK_FEATURES | VIRTIO_BIT(VIRTIO_BLK_F_RO),
	.nr_queues = 1,
	.queue_num_max = VBLK_QUEUE_SIZE,
	.config_size = VIRTIO_BLK_CONFIG_SIZE,
	.config_read = blk_config_read,
	.queue_notify = blk_queue_notify,
	.reset = blk_reset,
};

int virtio_blk_init(struct virtio_blk *blk, uint64_t capacity, const char *id,
		    const struct guest_mem *mem, virtio_irq_fn irq, void *irq_ctx)
{
	memset(blk, 0, sizeof(*blk));
	blk->capacity = capacity;
	for (unsigned i = 0; id && id[i] && i < VIRTIO_BLK_ID_BYTES; i++)
		blk->id[i] = id[i];
	return virtio_dev_init(&blk->dev, &blk_ops, blk, mem, irq, irq_ctx);
}

void virtio_blk_rebind(struct virtio_blk *blk, const struct guest_mem *mem,
		       virtio_irq_fn irq, void *irq_ctx)
{
	virtio_dev_rebind(&blk->dev, blk->ro_offered ? &blk_ops_ro : &blk_ops, mem, irq,
			  irq_ctx);
}

void virtio_blk_set_backend(struct virtio_blk *blk, bool up, bool ro)
{
	virtio_dev_lock(&blk->dev);
	blk->backend_up = up;
	blk->ro = ro;
	if (!up)
		fail_inflight(blk);
	take_requests(blk); /* what waited for room now fails or waits */
	virtio_dev_unlock(&blk->dev);
}

int virtio_blk_fetch(struct virtio_blk *blk, struct vblk_fetched *out, void *data,
		     size_t max)
{
	struct vblk_req *r = 0;
	int ret = 0;

	virtio_dev_lock(&blk->dev);
	for (unsigned i = 0; i < VBLK_INFLIGHT; i++) {
		struct vblk_req *c = &blk->req[i];

		if (c->state == VBLK_PENDING && (!r || (int32_t)(c->seq - r->seq) < 0))
			r = c;
	}
	if (r && r->type == VIRTIO_BLK_T_OUT && r->len > max) {
		ret = -SHYPER_EOVERFLOW;
	} else if (r) {
		if (r->type == VIRTIO_BLK_T_OUT)
			virtq_read_chain(r->segs, &r->chain, VIRTIO_BLK_HDR_BYTES, data, r->len);
		r->state = VBLK_FETCHED;
		*out = (struct vblk_fetched){ .slot = (unsigned)(r - blk->req), .seq = r->seq,
					      .type = r->type, .len = r->len,
					      .sector = r->sector };
		ret = 1;
	}
	virtio_dev_unlock(&blk->dev);
	return ret;
}

int virtio_blk_complete(struct virtio_blk *blk, unsigned slot, uint32_t seq,
			uint32_t status, const void *data, size_t len)
{
	struct vblk_req *r;
	uint32_t written = 1;

	if (slot >= VBLK_INFLIGHT)
		return -SHYPER_ENOENT;
	if (status > VIRTIO_BLK_S_UNSUPP)
		return -SHYPER_EINVAL;
	virtio_dev_lock(&blk->dev);
	r = &blk->req[slot];
	if (r->state != VBLK_FETCHED || r->seq != seq) {
		virtio_dev_unlock(&blk->dev);
		return -SHYPER_ENOENT;
	}
	if (r->type == VIRTIO_BLK_T_IN && status == VIRTIO_BLK_S_OK) {
		if (len != r->len || !data) {
			virtio_dev_unlock(&blk->dev);
			return -SHYPER_EINVAL;
		}
		virtq_write_chain(r->segs, &r->chain, 0, data, len);
		written = r->chain.write_len;
	}
	finish(blk, r->segs, &r->chain, (uint8_t)status, written);
	r->state = VBLK_FREE;
	take_requests(blk); /* a slot is free: what waited in the queue */
	virtio_dev_flush(&blk->dev, 0);
	virtio_dev_unlock(&blk->dev);
	return 0;
}

unsigned virtio_blk_inflight(struct virtio_blk *blk)
{
	unsigned n = 0;

	virtio_dev_lock(&blk->dev);
	for (unsigned i = 0; i < VBLK_INFLIGHT; i++)
		n += blk->req[i].state != VBLK_FREE;
	virtio_dev_unlock(&blk->dev);
	return n;
}
