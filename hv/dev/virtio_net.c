/*
 * virtio-net device model (virtio 1.2, 5.1) over the virtio-mmio
 * transport, written from the specification. See dev/virtio_net.h.
 */
#include <dev/virtio_net.h>
#include <shyper/errno.h>
#include <shyper/virtio.h>
#include <string.h>

#if defined(__aarch64__)
#define vnet_relax() __asm__ volatile("yield" ::: "memory")
#else
#define vnet_relax() __asm__ volatile("" ::: "memory")
#endif

static struct virtio_net *net_of(struct virtio_dev *dev)
{
	return dev->priv;
}

static void tx_lock(struct virtio_net *net)
{
	while (__atomic_exchange_n(&net->tx_lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&net->tx_lock, __ATOMIC_RELAXED))
			vnet_relax();
}

static void tx_unlock(struct virtio_net *net)
{
	__atomic_store_n(&net->tx_lock, 0, __ATOMIC_RELEASE);
}

bool vnet_mac_valid(const uint8_t mac[VNET_MAC_LEN])
{
	uint8_t any = 0;

	for (unsigned i = 0; i < VNET_MAC_LEN; i++)
		any |= mac[i];
	return any && !(mac[0] & 1);
}

static uint32_t net_config_read(struct virtio_dev *dev, uint32_t off, unsigned size)
{
	struct virtio_net *net = net_of(dev);
	uint8_t cfg[VIRTIO_NET_CONFIG_SIZE];
	uint32_t v = 0;

	memcpy(cfg, net->mac, VNET_MAC_LEN);
	cfg[6] = VIRTIO_NET_S_LINK_UP; /* le16 status: always up */
	cfg[7] = 0;
	/* The transport checked off + size <= config_size. */
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)cfg[off + i] << (8 * i);
	return v;
}

static void net_queue_notify(struct virtio_dev *dev, unsigned q)
{
	/* Under the device lock: the frames go out from virtio_net_tx_poll,
	 * which may take other devices' locks. New receive buffers need
	 * nothing: frames that found none were dropped already. */
	if (q == VIRTIO_NET_TRANSMITQ)
		__atomic_store_n(&net_of(dev)->tx_kicked, 1, __ATOMIC_RELEASE);
}

static const struct virtio_dev_ops net_ops = {
	.device_id = VIRTIO_ID_NET,
	.features = VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_NET_F_STATUS),
	.nr_queues = 2,
	.queue_num_max = VNET_QUEUE_SIZE,
	.config_size = VIRTIO_NET_CONFIG_SIZE,
	.config_read = net_config_read, /* writes ignored: the MAC is ours */
	.queue_notify = net_queue_notify,
};

int virtio_net_init(struct virtio_net *net, const struct guest_mem *mem,
		    virtio_irq_fn irq, void *irq_ctx, const uint8_t mac[VNET_MAC_LEN])
{
	if (!vnet_mac_valid(mac))
		return -SHYPER_EINVAL;
	memset(net, 0, sizeof(*net));
	memcpy(net->mac, mac, VNET_MAC_LEN);
	return virtio_dev_init(&net->dev, &net_ops, net, mem, irq, irq_ctx);
}

void virtio_net_rebind(struct virtio_net *net, const struct guest_mem *mem,
		       virtio_irq_fn irq, void *irq_ctx)
{
	virtio_dev_rebind(&net->dev, &net_ops, mem, irq, irq_ctx);
}

bool virtio_net_tx_kicked(struct virtio_net *net)
{
	return __atomic_load_n(&net->tx_kicked, __ATOMIC_ACQUIRE);
}

/*
 * Copies the frame of a transmit chain into the bounce buffer. Returns its
 * length, or 0 for one to drop: no room for the header, a segmentation
 * request we never offered, shorter than an Ethernet header or longer than
 * a frame may be.
 */
static size_t tx_copy(struct virtio_net *net, const struct virtq_seg *segs,
		      const struct virtq_chain *c)
{
	struct virtio_net_hdr_v1 hdr;
	size_t len;

	if (c->read_len < VNET_HDR_LEN + VNET_ETH_HLEN ||
	    c->read_len > VNET_HDR_LEN + VNET_MAX_FRAME)
		return 0;
	len = c->read_len - VNET_HDR_LEN;
	if (virtq_read_chain(segs, c, 0, &hdr, VNET_HDR_LEN) != VNET_HDR_LEN ||
	    hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return 0;
	/* flags (NEEDS_CSUM) cannot be set without VIRTIO_NET_F_CSUM: the
	 * checksum is complete, nothing to do with them. */
	if (virtq_read_chain(segs, c, VNET_HDR_LEN, net->bounce, len) != len)
		return 0;
	return len;
}

unsigned virtio_net_tx_poll(struct virtio_net *net, vnet_send_fn send, void *ctx)
{
	struct virtio_dev *dev = &net->dev;
	struct virtq_seg segs[VNET_MAX_SEGS];
	struct virtq_chain c;
	unsigned sent = 0, n;

	tx_lock(net);
	__atomic_store_n(&net->tx_kicked, 0, __ATOMIC_RELAXED);
	for (n = 0; n < VNET_TX_BUDGET; n++) {
		size_t len = 0;
		int got;

		virtio_dev_lock(dev);
		got = virtio_dev_pop(dev, VIRTIO_NET_TRANSMITQ, segs, VNET_MAX_SEGS, &c);
		if (got == 1) {
			len = tx_copy(net, segs, &c);
			virtio_dev_push(dev, VIRTIO_NET_TRANSMITQ, &c, 0);
			virtio_dev_flush(dev, VIRTIO_NET_TRANSMITQ);
		}
		virtio_dev_unlock(dev);
		if (got != 1)
			break;
		if (!len) {
			net->stats.tx_drops++;
			continue;
		}
		net->stats.tx_packets++;
		net->stats.tx_bytes += len;
		sent++;
		if (send)
			send(net, net->bounce, len, ctx);
	}
	/* Out of budget, chains may be left: the next poll takes them. */
	if (n == VNET_TX_BUDGET)
		__atomic_store_n(&net->tx_kicked, 1, __ATOMIC_RELEASE);
	tx_unlock(net);
	return sent;
}

bool virtio_net_rx_deliver_locked(struct virtio_net *net, const uint8_t *frame, size_t len)
{
	struct virtio_dev *dev = &net->dev;
	struct virtq_seg segs[VNET_MAX_SEGS];
	struct virtq_chain c;
	struct virtio_net_hdr_v1 hdr = { .num_buffers = 1 };
	uint32_t written = 0;
	bool ok = false;

	if (len >= VNET_ETH_HLEN && len <= VNET_MAX_FRAME &&
	    virtio_dev_pop(dev, VIRTIO_NET_RECEIVEQ, segs, VNET_MAX_SEGS, &c) == 1) {
		/* A buffer the device cannot fill goes back empty (the driver
		 * drops it): the frame is lost, never written past the end. */
		if (!c.nr_read && c.write_len >= VNET_HDR_LEN + len) {
			virtq_write_chain(segs, &c, 0, &hdr, VNET_HDR_LEN);
			virtq_write_chain(segs, &c, VNET_HDR_LEN, frame, len);
			written = (uint32_t)(VNET_HDR_LEN + len);
			ok = true;
		}
		virtio_dev_push(dev, VIRTIO_NET_RECEIVEQ, &c, written);
		virtio_dev_flush(dev, VIRTIO_NET_RECEIVEQ);
	}
	if (ok) {
		net->stats.rx_packets++;
		net->stats.rx_bytes += len;
	} else {
		net->stats.rx_drops++;
	}
	return ok;
}

bool virtio_net_rx_deliver(struct virtio_net *net, const uint8_t *frame, size_t len)
{
	bool ok;

	virtio_dev_lock(&net->dev);
	ok = virtio_net_rx_deliver_locked(net, frame, len);
	virtio_dev_unlock(&net->dev);
	return ok;
}
