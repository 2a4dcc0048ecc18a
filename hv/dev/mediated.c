/*
 * Mediated virtio-blk (dev/mediated.h): the registry of the images the MVM's
 * daemon serves, every guest device attached to one, and the MEDIATED
 * hypercalls that move requests between the two.
 *
 * Locking: med.lock, then a device's lock (virtio_blk_* take it). The guest
 * side (its MMIO exits) only takes the device lock; it reaches the registry
 * only through the device's backend state, which REGISTER / UNREGISTER set
 * under both locks. A device leaves the registry (under med.lock) before its
 * memory and its VM's RAM go, so a request id from the MVM can never reach
 * freed or foreign memory.
 */
#include <arch/spinlock.h>
#include <core/entropy.h>
#include <core/event.h>
#include <core/hypercall.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/state.h>
#include <core/vm.h>
#include <dev/mediated.h>
#include <dev/vdev.h>
#include <dev/virtio_blk.h>
#include <lib/fmt.h>
#include <lib/mstream.h>
#include <lib/string.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/mediated.h>
#include <shyper/migrate.h>

/* Request id: device slot << 40 | request slot << 32 | sequence. */
#define MED_ID(dev, slot, seq) (((uint64_t)(dev) << 40) | ((uint64_t)(slot) << 32) | (seq))

_Static_assert(VBLK_DATA_MAX == SHYPER_MED_DATA_MAX, "one request fits the daemon's buffer");


struct med_dev {
	struct virtio_blk blk;
	unsigned vm_id, image, slot;
};

/* The registry lives in the state root (a live update carries it). */
#define med hv.mediated

static bool image_up(const struct med_image *im)
{
	return im->registered && !(im->flags & SHYPER_MED_F_FAILED);
}

/* ------------------------------------------------------------------------ */
/* The guest device (vdev_blk_kind)                                          */

static int blk_check(struct vm *vm, const struct vm_vdev_cfg *cfg)
{
	/* cfg_list: [image index, capacity in 512-byte sectors]. */
	if (cfg->cfg_num < 2 || cfg->cfg[0] >= SHYPER_MED_IMAGES_MAX || !cfg->cfg[1] ||
	    cfg->cfg[1] > (1ULL << 40)) {
		log_warn("vm%u config: mediated virtio-blk at 0x%lx: cfg_list must be [image index "
			 "0..%u, capacity in sectors 1..2^40]",
			 vm->id, cfg->base, SHYPER_MED_IMAGES_MAX - 1);
		return -SHYPER_EINVAL;
	}
	return 0;
}

/* Device lock held: only post (the daemon FETCHes under med.lock). */
static void announce(struct virtio_blk *blk, void *ctx)
{
	struct med_dev *m = ctx;

	(void)blk;
	if (!__atomic_exchange_n(&med.kicked, 1, __ATOMIC_ACQ_REL))
		event_post(SHYPER_EVENT_MEDIATED, m->vm_id, m->image);
}

static int blk_setup(struct vdev *vd)
{
	struct med_dev *m = hv_alloc(sizeof(*m));
	struct guest_mem mem;
	unsigned idx = (unsigned)(vd - vd->vm->vdevs);
	char id[VIRTIO_BLK_ID_BYTES + 1];
	int ret;

	if (!m)
		return -SHYPER_ENOMEM;
	vdev_guest_mem(vd, &mem);
	fmt_snprintf(id, sizeof(id), "cshyper-vm%u-blk%u", vd->vm->id, idx);
	ret = virtio_blk_init(&m->blk, vd->cfg->cfg[1], id, &mem, vdev_irq, vd);
	if (ret) {
		hv_free(m);
		return ret;
	}
	/* Request ids name the registry slot, which a later device may reuse:
	 * its numbers start somewhere else, so an id the daemon fetched from
	 * this device never names a request of that one. */
	entropy_fill(&m->blk.next_seq, sizeof(m->blk.next_seq));
	m->vm_id = vd->vm->id;
	m->image = (unsigned)vd->cfg->cfg[0];
	m->blk.announce = announce;
	m->blk.announce_ctx = m;

	spin_lock(&med.lock);
	for (m->slot = 0; m->slot < MED_MAX_DEVS && med.devs[m->slot]; m->slot++)
		;
	if (m->slot == MED_MAX_DEVS) {
		spin_unlock(&med.lock);
		hv_free(m);
		return -SHYPER_ENOSPC;
	}
	med.devs[m->slot] = m;
	virtio_blk_set_backend(&m->blk, image_up(&med.img[m->image]),
			       med.img[m->image].flags & SHYPER_MED_F_RO);
	spin_unlock(&med.lock);
	vd->model = m;
	vd->dev = &m->blk.dev;
	return 0;
}

static void blk_teardown(struct vdev *vd)
{
	struct med_dev *m = vd->model;

	if (!m)
		return;
	spin_lock(&med.lock);
	med.devs[m->slot] = 0;
	spin_unlock(&med.lock);
	hv_free(m);
	vd->model = 0;
}

/* Its registry slot (med.devs, in the state root) stays as it is. */
static void blk_rebind(struct vdev *vd)
{
	struct med_dev *m = vd->model;
	struct guest_mem mem;

	vdev_guest_mem(vd, &mem);
	virtio_blk_rebind(&m->blk, &mem, vdev_irq, vd);
	m->blk.announce = announce;
	m->blk.announce_ctx = m;
}

/* Migration: the paused guest's requests must all be done (the daemon
 * goes on serving them) before its state is taken. */
static int blk_state_check(struct vdev *vd, char *why, size_t why_size)
{
	struct med_dev *m = vd->model;
	unsigned n = virtio_blk_inflight(&m->blk);

	if (!n)
		return 0;
	fmt_snprintf(why, why_size, "mediated virtio-blk at 0x%lx: %u requests in flight",
		     vd->cfg->base, n);
	return -SHYPER_EBUSY;
}

static uint64_t blk_state_size(struct vdev *vd)
{
	(void)vd;
	return sizeof(struct shyper_mig_vblk);
}

/* Device lock held. */
static int blk_state_save(struct vdev *vd, struct mstream_writer *w)
{
	struct med_dev *m = vd->model;
	struct shyper_mig_vblk s = { .capacity = m->blk.capacity, .done_ok = m->blk.done_ok,
				     .done_err = m->blk.done_err, .next_seq = m->blk.next_seq };

	return mstream_append(w, &s, sizeof(s));
}

static int blk_state_load(struct vdev *vd, const uint8_t *blob, uint64_t len, char *why,
			  size_t why_size)
{
	struct med_dev *m = vd->model;
	struct shyper_mig_vblk s;

	if (len != sizeof(s)) {
		fmt_snprintf(why, why_size, "blk state of %lu bytes, not %zu", len, sizeof(s));
		return -SHYPER_EINVAL;
	}
	memcpy(&s, blob, sizeof(s));
	if (s.capacity != m->blk.capacity || s.reserved) {
		fmt_snprintf(why, why_size, "blk of %lu sectors; this one has %lu", s.capacity,
			     m->blk.capacity);
		return -SHYPER_EINVAL;
	}
	m->blk.done_ok = s.done_ok;
	m->blk.done_err = s.done_err;
	m->blk.next_seq = s.next_seq;
	return 0;
}

const struct vdev_kind vdev_blk_kind = {
	.name = "blk (mediated)",
	.check = blk_check,
	.setup = blk_setup,
	.teardown = blk_teardown,
	.rebind = blk_rebind,
	.state_size = blk_state_size,
	.state_save = blk_state_save,
	.state_load = blk_state_load,
	.state_check = blk_state_check,
};

/* ------------------------------------------------------------------------ */
/* The MEDIATED hypercalls (the daemon)                                      */

/* The image's devices follow its state. med.lock held. */
static void image_changed(unsigned image)
{
	const struct med_image *im = &med.img[image];

	for (unsigned i = 0; i < MED_MAX_DEVS; i++)
		if (med.devs[i] && med.devs[i]->image == image)
			virtio_blk_set_backend(&med.devs[i]->blk, image_up(im),
					       im->flags & SHYPER_MED_F_RO);
}

static int64_t med_register(uint64_t image, uint64_t sectors, uint64_t flags)
{
	if (image >= SHYPER_MED_IMAGES_MAX || (flags & ~(uint64_t)SHYPER_MED_F_ALL))
		return -SHYPER_EINVAL;
	spin_lock(&med.lock);
	med.img[image] = (struct med_image){ true, (uint32_t)flags, sectors };
	image_changed((unsigned)image);
	spin_unlock(&med.lock);
	log_info("mediated image %lu: served%s%s, %lu sectors", image,
		 (flags & SHYPER_MED_F_RO) ? ", read-only" : "",
		 (flags & SHYPER_MED_F_FAILED) ? ", failing (no backing file)" : "", sectors);
	return 0;
}

static int64_t med_unregister(uint64_t image)
{
	if (image >= SHYPER_MED_IMAGES_MAX)
		return -SHYPER_EINVAL;
	spin_lock(&med.lock);
	med.img[image] = (struct med_image){ 0 };
	image_changed((unsigned)image); /* in flight: IOERR */
	spin_unlock(&med.lock);
	log_info("mediated image %lu: no longer served", image);
	return 0;
}

static int64_t med_fetch(struct vcpu *caller, struct trap_frame *f)
{
	uint64_t len = f->x[2];
	struct shyper_med_req req;
	struct vblk_fetched got;
	uint8_t *buf;
	int64_t ret = -SHYPER_EAGAIN;

	if (len < sizeof(req))
		return -SHYPER_EINVAL;
	if (len > sizeof(req) + SHYPER_MED_DATA_MAX)
		len = sizeof(req) + SHYPER_MED_DATA_MAX;
	buf = hc_mvm_buffer(caller, f->x[1], len);
	if (!buf)
		return -SHYPER_EFAULT;
	/* From here on a new request posts a new event (see announce). */
	__atomic_store_n(&med.kicked, 0, __ATOMIC_RELEASE);
	spin_lock(&med.lock);
	for (unsigned n = 0; n < MED_MAX_DEVS && ret == -SHYPER_EAGAIN; n++) {
		unsigned i = (med.next + n) % MED_MAX_DEVS;
		struct med_dev *m = med.devs[i];
		int r;

		if (!m)
			continue;
		r = virtio_blk_fetch(&m->blk, &got, buf + sizeof(req), len - sizeof(req));
		if (r < 0) {
			ret = r;
		} else if (r == 1) {
			req = (struct shyper_med_req){
				.id = MED_ID(i, got.slot, got.seq), .vm_id = m->vm_id,
				.image = m->image, .type = got.type, .len = got.len,
				.sector = got.sector };
			memcpy(buf, &req, sizeof(req));
			med.next = (i + 1) % MED_MAX_DEVS; /* fair between guests */
			ret = 0;
		}
	}
	spin_unlock(&med.lock);
	if (!ret) /* the daemon comes back until -EAGAIN: no event needed */
		__atomic_store_n(&med.kicked, 1, __ATOMIC_RELEASE);
	return ret;
}

static int64_t med_complete(struct vcpu *caller, struct trap_frame *f)
{
	uint64_t id = f->x[1], status = f->x[2], len = f->x[4];
	unsigned dev = (unsigned)(id >> 40), slot = (unsigned)(id >> 32) & 0xff;
	const void *buf = 0;
	int64_t ret = -SHYPER_ENOENT;

	if (status > SHYPER_MED_S_UNSUPP || len > SHYPER_MED_DATA_MAX)
		return -SHYPER_EINVAL;
	if (len && !(buf = hc_mvm_buffer(caller, f->x[3], len)))
		return -SHYPER_EFAULT;
	if (dev >= MED_MAX_DEVS)
		return -SHYPER_ENOENT; /* the slot is checked by virtio_blk_complete */
	spin_lock(&med.lock);
	if (med.devs[dev])
		ret = virtio_blk_complete(&med.devs[dev]->blk, slot, (uint32_t)id,
					  (uint32_t)status, buf, len);
	spin_unlock(&med.lock);
	return ret;
}

int64_t hc_mediated(struct vcpu *caller, struct trap_frame *f, unsigned fn)
{
	if (!hc_caller_is_mvm(caller))
		return -SHYPER_EPERM;
	switch (fn) {
	case SHYPER_HVC_FN(SHYPER_MED_REGISTER):
		return med_register(f->x[1], f->x[2], f->x[3]);
	case SHYPER_HVC_FN(SHYPER_MED_UNREGISTER):
		return med_unregister(f->x[1]);
	case SHYPER_HVC_FN(SHYPER_MED_FETCH):
		return med_fetch(caller, f);
	case SHYPER_HVC_FN(SHYPER_MED_COMPLETE):
		return med_complete(caller, f);
	}
	return -SHYPER_ENOSYS;
}
