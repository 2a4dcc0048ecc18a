/*
 * Mediated virtio-blk (docs/HYPERCALLS.md, group 4, the MVM only). A guest's
 * EMU_DEVICE_T_VIRTIO_BLK_MEDIATED device names an image index (cfg_list[0]);
 * the MVM's daemon (`shyper system daemon mediated-cfg.json`) serves each
 * index from a file:
 *   REGISTER    it serves index x1 (x2 sectors, x3 SHYPER_MED_F_*);
 *   FETCH       takes the next request into the MVM buffer x1 (x2 bytes):
 *               a struct shyper_med_req, then for writes its data;
 *   COMPLETE    ends request x1 with status x2 (SHYPER_MED_S_*); for a read
 *               that succeeded, buffer x3 (x4 bytes == len) holds the data;
 *   UNREGISTER  index x1 is no longer served: its requests in flight and
 *               to come fail with an I/O error until someone registers it.
 * The hypervisor posts SHYPER_EVENT_MEDIATED (x2 VM, x3 image index) when
 * requests wait; the daemon then FETCHes until -EAGAIN.
 */
#ifndef SHYPER_MEDIATED_H
#define SHYPER_MEDIATED_H

#include <shyper/hypercall.h>
#include <shyper/types.h>

#define SHYPER_MED_REGISTER SHYPER_HVC(SHYPER_GRP_MEDIATED, 0)   /* x1 index, x2 sectors, x3 flags */
#define SHYPER_MED_UNREGISTER SHYPER_HVC(SHYPER_GRP_MEDIATED, 1) /* x1 index */
#define SHYPER_MED_FETCH SHYPER_HVC(SHYPER_GRP_MEDIATED, 2)      /* x1 buf, x2 len; -EAGAIN: none */
#define SHYPER_MED_COMPLETE SHYPER_HVC(SHYPER_GRP_MEDIATED, 3)   /* x1 id, x2 status, x3 buf, x4 len */

#define SHYPER_MED_IMAGES_MAX 16    /* image indexes 0..15 */
#define SHYPER_MED_DATA_MAX (512U << 10) /* data bytes of one request, at most */
#define SHYPER_MED_SECTOR 512

/* REGISTER flags. */
#define SHYPER_MED_F_RO (1U << 0)     /* read-only image: writes fail */
#define SHYPER_MED_F_FAILED (1U << 1) /* could not be opened: all I/O fails */
#define SHYPER_MED_F_ALL (SHYPER_MED_F_RO | SHYPER_MED_F_FAILED)

/* Request types (the virtio-blk ones the daemon sees). */
#define SHYPER_MED_T_READ 0  /* VIRTIO_BLK_T_IN */
#define SHYPER_MED_T_WRITE 1 /* VIRTIO_BLK_T_OUT */
#define SHYPER_MED_T_FLUSH 4 /* VIRTIO_BLK_T_FLUSH */

/* COMPLETE status (the virtio-blk ones). */
#define SHYPER_MED_S_OK 0
#define SHYPER_MED_S_IOERR 1
#define SHYPER_MED_S_UNSUPP 2

/* What FETCH writes at the start of the buffer. */
struct shyper_med_req {
	uint64_t id;	 /* for COMPLETE; never 0 */
	uint32_t vm_id;	 /* the guest it comes from */
	uint32_t image;	 /* image index */
	uint32_t type;	 /* SHYPER_MED_T_* */
	uint32_t len;	 /* data bytes, a multiple of 512 (0 for FLUSH) */
	uint64_t sector; /* first 512-byte sector */
};

#endif
