/*
 * virtio-blk device model (virtio 1.2, 5.2), one request queue, whose
 * requests are served elsewhere (the MVM's daemon, hv/dev/mediated.c).
 *
 * A guest's request chain is parsed and checked here (header readable,
 * data, status byte writable and last; type, length a multiple of 512 and
 * at most VBLK_DATA_MAX, sectors inside the capacity). A bad request, or any
 * request while no backend serves the device, completes at once with
 * IOERR or UNSUPP: only that I/O fails. A good one takes a slot of a bounded
 * in-flight table (the queue is left alone while the table is full) until
 * the backend fetches and completes it. The slots keep the chain's host
 * pointers into guest RAM only while the request is in flight: a device
 * reset (the guest's, or the VM rebooting) and virtio_blk_set_backend(down)
 * drop them; the owner drops the device before the VM's RAM goes.
 *
 * All of it lives in struct virtio_blk, which the caller owns. The public
 * calls take the device lock themselves.
 */
#ifndef DEV_VIRTIO_BLK_H
#define DEV_VIRTIO_BLK_H

#include <dev/virtio_mmio.h>
#include <stddef.h>
#include <stdint.h>

/* virtio-blk constants (virtio 1.2, 5.2). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_HDR_BYTES 16 /* type, reserved, sector */
#define VIRTIO_BLK_CONFIG_SIZE 24 /* capacity .. blk_size */

#define VBLK_SECTOR 512
#define VBLK_QUEUE_SIZE 128
#define VBLK_SEG_MAX 64	       /* data segments of one request (seg_max) */
#define VBLK_SIZE_MAX 8192     /* bytes of one segment (size_max) */
#define VBLK_DATA_MAX (512U << 10) /* == SHYPER_MED_DATA_MAX */
#define VBLK_INFLIGHT 32       /* requests waiting for or at the backend */

enum vblk_slot_state { VBLK_FREE = 0, VBLK_PENDING, VBLK_FETCHED };

struct vblk_req {
	uint8_t state; /* enum vblk_slot_state */
	uint32_t seq;  /* never 0; names it in virtio_blk_complete */
	uint32_t type;
	uint32_t len;  /* data bytes */
	uint64_t sector;
	struct virtq_chain chain;
	struct virtq_seg segs[VBLK_SEG_MAX + 2]; /* + header, + status */
};

/* What virtio_blk_fetch hands the backend. */
struct vblk_fetched {
	unsigned slot;
	uint32_t seq, type, len;
	uint64_t sector;
};

struct virtio_blk;
/* New requests wait for the backend; device lock held: only wake it. */
typedef void (*vblk_announce_fn)(struct virtio_blk *blk, void *ctx);

struct virtio_blk {
	struct virtio_dev dev;
	uint64_t capacity; /* sectors */
	bool backend_up;   /* else every request fails at once */
	bool ro;	   /* writes fail; F_RO offered from the next reset */
	bool ro_offered;   /* F_RO offered since the last reset (which ops) */
	uint32_t next_seq;
	char id[VIRTIO_BLK_ID_BYTES];
	vblk_announce_fn announce;
	void *announce_ctx;
	uint64_t done_ok, done_err; /* requests completed, ever */
	struct vblk_req req[VBLK_INFLIGHT];
};

/* capacity in sectors; id: the GET_ID answer (up to 20 bytes, copied). */
int virtio_blk_init(struct virtio_blk *blk, uint64_t capacity, const char *id,
		    const struct guest_mem *mem, virtio_irq_fn irq, void *irq_ctx);

/* Live update: this image's transport pointers (virtio_dev_rebind), with
 * the features offered since the last reset. The owner sets announce again. */
void virtio_blk_rebind(struct virtio_blk *blk, const struct guest_mem *mem,
		       virtio_irq_fn irq, void *irq_ctx);

/* The backend came (up) or went: down fails every request in flight and
 * those to come with IOERR. ro takes effect for requests to come. */
void virtio_blk_set_backend(struct virtio_blk *blk, bool up, bool ro);

/*
 * The oldest request waiting for the backend: *out describes it, and for a
 * write its data is copied to data (max bytes). 1: taken, 0: none waits,
 * -SHYPER_EOVERFLOW: data too small (it stays waiting).
 */
int virtio_blk_fetch(struct virtio_blk *blk, struct vblk_fetched *out, void *data,
		     size_t max);

/*
 * Ends the fetched request (slot, seq) with a VIRTIO_BLK_S_* status; for a
 * read with status OK, data holds exactly its len bytes for the guest.
 * 0, -SHYPER_ENOENT (no such request in flight: dropped meanwhile) or
 * -SHYPER_EINVAL (status or length wrong; the request stays).
 */
int virtio_blk_complete(struct virtio_blk *blk, unsigned slot, uint32_t seq,
			uint32_t status, const void *data, size_t len);

/* Requests in flight (waiting or fetched). */
unsigned virtio_blk_inflight(struct virtio_blk *blk);

#endif
