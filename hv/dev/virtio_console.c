/*
 * virtio-console device model, one port (virtio 1.2, 5.3), over the
 * virtio-mmio transport. See dev/virtio_console.h.
 */
#include <dev/virtio_console.h>
#include <shyper/errno.h>
#include <shyper/virtio.h>
#include <string.h>

_Static_assert((VCON_RING_SIZE & (VCON_RING_SIZE - 1)) == 0,
	       "ring size must be a power of two");

static uint32_t ring_used(const struct vcon_ring *r)
{
	return r->head - r->tail;
}

static uint32_t ring_room(const struct vcon_ring *r)
{
	return VCON_RING_SIZE - ring_used(r);
}

static struct virtio_console *con_of(struct virtio_dev *dev)
{
	return dev->priv;
}

/* Copies up to `room` more bytes of the first transmit chain into tx.
 * Returns true when the chain is all in (and may be given back). */
static bool tx_take(struct virtio_console *con, const struct virtq_seg *segs,
		    const struct virtq_chain *c, uint32_t *added)
{
	struct vcon_ring *r = &con->tx;
	uint32_t left = c->read_len > con->tx_off ? c->read_len - con->tx_off : 0;
	uint32_t n = left < ring_room(r) ? left : ring_room(r);
	uint32_t pos = r->head & (VCON_RING_SIZE - 1);
	uint32_t first = n < VCON_RING_SIZE - pos ? n : VCON_RING_SIZE - pos;
	size_t got;

	got = virtq_read_chain(segs, c, con->tx_off, r->buf + pos, first);
	got += virtq_read_chain(segs, c, con->tx_off + first, r->buf, n - first);
	/* The segments hold read_len bytes: got == n. */
	r->head += (uint32_t)got;
	con->tx_off += (uint32_t)got;
	con->tx_bytes += got;
	*added += (uint32_t)got;
	return con->tx_off >= c->read_len;
}

/*
 * Moves transmit chains into the tx ring while it has room. Lock held.
 * Chains taken during the driver's own notify are not signalled: the
 * driver is still in its notify and sees them in the used ring when it
 * returns. Linux's hvc console even spins on the used ring with interrupts
 * off, so such an interrupt would always find nothing new, and a stream of
 * them makes Linux disable the device's interrupt ("nobody cared"). Chains
 * completed later (room made by a reader) are signalled as usual.
 */
static void tx_drain(struct virtio_console *con, bool from_kick)
{
	struct virtio_dev *dev = &con->dev;
	struct virtq_seg segs[VCON_MAX_SEGS];
	struct virtq_chain c;
	unsigned budget = VCON_QUEUE_SIZE; /* bounded work per call */
	uint32_t added = 0;
	bool pushed = false;

	while (budget--) {
		if (virtio_dev_peek(dev, VIRTIO_CONSOLE_TRANSMITQ, segs,
				    VCON_MAX_SEGS, &c) != 1)
			break;
		if (!tx_take(con, segs, &c, &added))
			break; /* ring full: the chain waits in the queue */
		virtio_dev_advance(dev, VIRTIO_CONSOLE_TRANSMITQ);
		con->tx_off = 0;
		if (virtio_dev_push(dev, VIRTIO_CONSOLE_TRANSMITQ, &c, 0))
			break;
		pushed = true;
	}
	if (pushed && !from_kick)
		virtio_dev_flush(dev, VIRTIO_CONSOLE_TRANSMITQ);
	if (added && con->tx_notify)
		con->tx_notify(con, con->tx_notify_ctx);
}

/* Moves rx ring bytes into receive buffers. Returns bytes moved. */
static uint32_t rx_fill(struct virtio_console *con)
{
	struct virtio_dev *dev = &con->dev;
	struct vcon_ring *r = &con->rx;
	struct virtq_seg segs[VCON_MAX_SEGS];
	struct virtq_chain c;
	unsigned budget = VCON_QUEUE_SIZE;
	uint32_t moved = 0;
	bool pushed = false;

	while (ring_used(r) && budget--) {
		uint32_t n, pos, first;
		size_t put;

		if (virtio_dev_pop(dev, VIRTIO_CONSOLE_RECEIVEQ, segs, VCON_MAX_SEGS,
				   &c) != 1)
			break;
		n = ring_used(r) < c.write_len ? ring_used(r) : c.write_len;
		pos = r->tail & (VCON_RING_SIZE - 1);
		first = n < VCON_RING_SIZE - pos ? n : VCON_RING_SIZE - pos;
		put = virtq_write_chain(segs, &c, 0, r->buf + pos, first);
		put += virtq_write_chain(segs, &c, first, r->buf, n - first);
		r->tail += (uint32_t)put;
		con->rx_bytes += put;
		moved += (uint32_t)put;
		if (virtio_dev_push(dev, VIRTIO_CONSOLE_RECEIVEQ, &c, (uint32_t)put))
			break;
		pushed = true;
	}
	if (pushed)
		virtio_dev_flush(dev, VIRTIO_CONSOLE_RECEIVEQ);
	return moved;
}

static void con_queue_notify(struct virtio_dev *dev, unsigned q)
{
	if (q == VIRTIO_CONSOLE_TRANSMITQ)
		tx_drain(con_of(dev), true);
	else if (q == VIRTIO_CONSOLE_RECEIVEQ)
		rx_fill(con_of(dev));
}

static void con_reset(struct virtio_dev *dev)
{
	/* The queue is gone: a partly taken chain will come again whole
	 * after the driver restarts, so forget how far into it we were. Bytes
	 * already in the rings stay: they were accepted. */
	con_of(dev)->tx_off = 0;
}

static const struct virtio_dev_ops console_ops = {
	.device_id = VIRTIO_ID_CONSOLE,
	.features = 0, /* no size, no multiport, no emergency write */
	.nr_queues = 2,
	.queue_num_max = VCON_QUEUE_SIZE,
	.config_size = VIRTIO_CONSOLE_CONFIG_SIZE, /* all zero */
	.queue_notify = con_queue_notify,
	.reset = con_reset,
};

int virtio_console_init(struct virtio_console *con, const struct guest_mem *mem,
			virtio_irq_fn irq, void *irq_ctx)
{
	memset(con, 0, sizeof(*con));
	return virtio_dev_init(&con->dev, &console_ops, con, mem, irq, irq_ctx);
}

void virtio_console_rebind(struct virtio_console *con, const struct guest_mem *mem,
			   virtio_irq_fn irq, void *irq_ctx)
{
	virtio_dev_rebind(&con->dev, &console_ops, mem, irq, irq_ctx);
}

size_t virtio_console_tx_pop_locked(struct virtio_console *con, void *buf, size_t max)
{
	struct vcon_ring *r = &con->tx;
	uint32_t n, pos, first;

	n = ring_used(r);
	if (n > max)
		n = (uint32_t)max;
	if (n) {
		pos = r->tail & (VCON_RING_SIZE - 1);
		first = n < VCON_RING_SIZE - pos ? n : VCON_RING_SIZE - pos;
		memcpy(buf, r->buf + pos, first);
		memcpy((uint8_t *)buf + first, r->buf, n - first);
		r->tail += n;
	}
	/* Room again (or a kick the guest left out): take what it still has. */
	tx_drain(con, false);
	return n;
}

size_t virtio_console_tx_pop(struct virtio_console *con, void *buf, size_t max)
{
	size_t n;

	virtio_dev_lock(&con->dev);
	n = virtio_console_tx_pop_locked(con, buf, max);
	virtio_dev_unlock(&con->dev);
	return n;
}

size_t virtio_console_rx_push_locked(struct virtio_console *con, const void *buf,
				     size_t len)
{
	struct vcon_ring *r = &con->rx;
	size_t done = 0;

	for (;;) {
		uint32_t room = ring_room(r), n, pos, first;

		n = len - done < room ? (uint32_t)(len - done) : room;
		pos = r->head & (VCON_RING_SIZE - 1);
		first = n < VCON_RING_SIZE - pos ? n : VCON_RING_SIZE - pos;
		memcpy(r->buf + pos, (const uint8_t *)buf + done, first);
		memcpy(r->buf, (const uint8_t *)buf + done + first, n - first);
		r->head += n;
		done += n;
		/* Deliver; stop when the guest takes nothing more. */
		if (!rx_fill(con) || done == len)
			break;
	}
	return done;
}

size_t virtio_console_rx_push(struct virtio_console *con, const void *buf,
			      size_t len)
{
	size_t done;

	virtio_dev_lock(&con->dev);
	done = virtio_console_rx_push_locked(con, buf, len);
	virtio_dev_unlock(&con->dev);
	return done;
}

size_t virtio_console_tx_pending(struct virtio_console *con)
{
	return ring_used(&con->tx);
}

size_t virtio_console_rx_room(struct virtio_console *con)
{
	return ring_room(&con->rx);
}
