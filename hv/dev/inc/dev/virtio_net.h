/*
 * virtio-net (virtio 1.2, 5.1) over the virtio-mmio transport: receiveq 0,
 * transmitq 1, a fixed MAC in the config space and the link always up. No
 * offloads (no checksum, no segmentation, no mergeable receive buffers): a
 * frame is at most VNET_MAX_FRAME bytes and travels with the 12-byte
 * virtio 1.x header in front of it.
 *
 * The model knows nothing of where frames go: virtio_net_tx_poll hands each
 * frame the guest sent to a callback, virtio_net_rx_deliver gives a frame
 * to the guest. Neither ever waits for the other side: a frame that cannot
 * go anywhere (bad, too long, no receive buffer) is dropped and counted.
 *
 * Locking: the device lock (virtio_dev_lock) guards the queues and is held
 * only for short copies, never across the callback. A second lock, tx_lock,
 * keeps one caller at a time in virtio_net_tx_poll (it owns the bounce
 * buffer); it may be held while other devices' locks are taken, never the
 * other way round, so the order tx_lock -> any device lock is the only one.
 */
#ifndef DEV_VIRTIO_NET_H
#define DEV_VIRTIO_NET_H

#include <dev/virtio_mmio.h>
#include <stddef.h>
#include <stdint.h>

/* Feature bits, config space and header (spec 5.1.3 - 5.1.6). */
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1
#define VIRTIO_NET_RECEIVEQ 0
#define VIRTIO_NET_TRANSMITQ 1
#define VIRTIO_NET_CONFIG_SIZE 8 /* mac[6], le16 status */
#define VIRTIO_NET_HDR_GSO_NONE 0

struct virtio_net_hdr_v1 {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

#define VNET_HDR_LEN 12
#define VNET_ETH_HLEN 14      /* destination, source, type */
#define VNET_MAX_FRAME 1514   /* Ethernet, MTU 1500, without the FCS */
#define VNET_QUEUE_SIZE 256   /* QueueNumMax of both queues */
#define VNET_MAX_SEGS 32      /* segments one chain may have */
#define VNET_TX_BUDGET 512    /* frames per virtio_net_tx_poll */
#define VNET_MAC_LEN 6

_Static_assert(sizeof(struct virtio_net_hdr_v1) == VNET_HDR_LEN, "header layout");

/* Counters; each side's are updated under its own lock, read unlocked. */
struct vnet_stats {
	uint64_t tx_packets, tx_bytes, tx_drops; /* from the guest */
	uint64_t rx_packets, rx_bytes, rx_drops; /* to the guest */
};

struct virtio_net;
/* A frame the guest sent; no device lock held. */
typedef void (*vnet_send_fn)(struct virtio_net *net, const uint8_t *frame, size_t len,
			     void *ctx);

struct virtio_net {
	struct virtio_dev dev;
	uint8_t mac[VNET_MAC_LEN];
	uint32_t tx_lock;
	uint32_t tx_kicked; /* the driver notified the transmit queue */
	struct vnet_stats stats;
	uint8_t bounce[VNET_MAX_FRAME]; /* one transmitted frame, under tx_lock */
};

/* True for a MAC a device may have: not multicast, not all zero. */
bool vnet_mac_valid(const uint8_t mac[VNET_MAC_LEN]);

/* Sets up the device over the guest's memory; irq raises/lowers its SPI. */
int virtio_net_init(struct virtio_net *net, const struct guest_mem *mem,
		    virtio_irq_fn irq, void *irq_ctx, const uint8_t mac[VNET_MAC_LEN]);

/* Live update: this image's transport pointers (virtio_dev_rebind). */
void virtio_net_rebind(struct virtio_net *net, const struct guest_mem *mem,
		       virtio_irq_fn irq, void *irq_ctx);

/* True once the driver has notified the transmit queue since the last poll. */
bool virtio_net_tx_kicked(struct virtio_net *net);

/*
 * Takes up to VNET_TX_BUDGET frames the guest sent, each copied out of the
 * guest's buffers before `send` sees it, and gives the buffers back. Takes
 * the locks itself; call with none held. Returns the frames sent.
 */
unsigned virtio_net_tx_poll(struct virtio_net *net, vnet_send_fn send, void *ctx);

/*
 * Gives one frame to the guest: the next receive buffer gets a zeroed
 * header and the frame, and the guest its interrupt. Returns true if
 * delivered; false (counted in rx_drops) if the device is not running, has
 * no buffer, or the buffer is too small or not writable. Takes the device
 * lock; call with no device lock held.
 */
bool virtio_net_rx_deliver(struct virtio_net *net, const uint8_t *frame, size_t len);
/* The same with the device lock held (the caller decides under it whether
 * the guest may be given anything at all). */
bool virtio_net_rx_deliver_locked(struct virtio_net *net, const uint8_t *frame, size_t len);

#endif
