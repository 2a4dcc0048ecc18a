/*
 * virtio-console (virtio 1.2, 5.3), one port, no multiport: receiveq 0
 * carries bytes to the guest, transmitq 1 bytes from it. The device keeps a
 * bounded byte ring per direction, so the hypervisor (or the MVM behind it)
 * and the guest never wait on each other inside one call, and no byte is
 * lost or duplicated:
 *  - guest to hypervisor: a transmit chain is copied into the tx ring only
 *    as far as the ring has room and is returned to the guest (used) only
 *    once all of it is in; the rest stays in the queue until
 *    virtio_console_tx_pop frees room (flow control towards the guest);
 *  - hypervisor to guest: virtio_console_rx_push accepts only what fits in
 *    the rx ring and says how much (flow control towards the caller); the
 *    ring drains into receive buffers as the guest posts them.
 * Both rings survive a device reset (the bytes were accepted); everything
 * lives in struct virtio_console, which the caller owns.
 */
#ifndef DEV_VIRTIO_CONSOLE_H
#define DEV_VIRTIO_CONSOLE_H

#include <dev/virtio_mmio.h>
#include <stddef.h>
#include <stdint.h>

#define VCON_RING_SIZE 4096 /* bytes per direction, a power of two */
#define VCON_QUEUE_SIZE 64  /* QueueNumMax of both queues */
#define VCON_MAX_SEGS 64    /* segments one chain may have */

struct vcon_ring {
	uint32_t head; /* bytes ever put (free running) */
	uint32_t tail; /* bytes ever taken */
	uint8_t buf[VCON_RING_SIZE];
};

struct virtio_console;
/* Called when the tx ring got new bytes, with the device lock held: it
 * must not call back into the console (the lock is not recursive); it
 * should only wake whoever calls virtio_console_tx_pop. */
typedef void (*vcon_notify_fn)(struct virtio_console *con, void *ctx);

struct virtio_console {
	struct virtio_dev dev;
	struct vcon_ring tx; /* from the guest, for virtio_console_tx_pop */
	struct vcon_ring rx; /* for the guest, from virtio_console_rx_push */
	uint32_t tx_off;     /* bytes of the first transmit chain already in tx */
	vcon_notify_fn tx_notify;
	void *tx_notify_ctx;
	uint64_t tx_bytes, rx_bytes; /* through each ring, ever */
};

/* Sets up the device over the guest's memory; irq raises/lowers its SPI. */
int virtio_console_init(struct virtio_console *con, const struct guest_mem *mem,
			virtio_irq_fn irq, void *irq_ctx);

/* Live update: this image's transport pointers (virtio_dev_rebind). The
 * owner sets tx_notify again if it uses one. */
void virtio_console_rebind(struct virtio_console *con, const struct guest_mem *mem,
			   virtio_irq_fn irq, void *irq_ctx);

/* Up to max bytes the guest wrote; returns how many. Takes the lock. */
size_t virtio_console_tx_pop(struct virtio_console *con, void *buf, size_t max);
/* Offers len bytes to the guest; returns how many were accepted (the rest
 * is for a later call). Takes the lock. */
size_t virtio_console_rx_push(struct virtio_console *con, const void *buf,
			      size_t len);
/* The same with the device lock held: the caller decides under it whether
 * the guest's queues may be touched at all (not once a paused VM's state was
 * taken: its RAM and rings must stay as the state describes them). */
size_t virtio_console_tx_pop_locked(struct virtio_console *con, void *buf, size_t max);
size_t virtio_console_rx_push_locked(struct virtio_console *con, const void *buf,
				     size_t len);
/* Bytes waiting in the tx ring, room left in the rx ring. Take the lock. */
size_t virtio_console_tx_pending(struct virtio_console *con);
size_t virtio_console_rx_room(struct virtio_console *con);

#endif
