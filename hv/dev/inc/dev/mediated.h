/*
 * Mediated virtio-blk: guests' EMU_DEVICE_T_VIRTIO_BLK_MEDIATED devices
 * (vdev_blk_kind) served by the MVM's daemon through the MEDIATED
 * hypercall group (include/shyper/mediated.h, docs/HYPERCALLS.md).
 */
#ifndef DEV_MEDIATED_H
#define DEV_MEDIATED_H

#include <stdint.h>

struct vcpu;
struct trap_frame;

/* The SHYPER_GRP_MEDIATED handler (hv/core/hypercall.c); the MVM only. */
int64_t hc_mediated(struct vcpu *caller, struct trap_frame *f, unsigned fn);

#endif
