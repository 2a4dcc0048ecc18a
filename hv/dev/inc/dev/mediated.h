/*
 * Mediated virtio-blk: guests' EMU_DEVICE_T_VIRTIO_BLK_MEDIATED devices
 * (vdev_blk_kind) served by the MVM's daemon through the MEDIATED
 * hypercall group (include/shyper/mediated.h, docs/HYPERCALLS.md).
 */
#ifndef DEV_MEDIATED_H
#define DEV_MEDIATED_H

#include <arch/spinlock.h>
#include <shyper/mediated.h>
#include <stdbool.h>
#include <stdint.h>

#define MED_MAX_DEVS 16 /* attached guest devices, all VMs */

/* What the daemon said about one image index (SHYPER_MED_REGISTER). */
struct med_image {
	bool registered;
	uint32_t flags; /* SHYPER_MED_F_* */
	uint64_t sectors;
};

struct med_dev;

/* The images and the guest devices waiting on them (hv.mediated). */
struct med_state {
	spinlock_t lock;
	struct med_image img[SHYPER_MED_IMAGES_MAX];
	struct med_dev *devs[MED_MAX_DEVS];
	unsigned next;	 /* FETCH's round-robin start */
	uint32_t kicked; /* an event is out and no FETCH came since */
};

struct vcpu;
struct trap_frame;

/* The SHYPER_GRP_MEDIATED handler (hv/core/hypercall.c); the MVM only. */
int64_t hc_mediated(struct vcpu *caller, struct trap_frame *f, unsigned fn);

#endif
