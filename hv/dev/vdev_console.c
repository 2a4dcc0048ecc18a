/*
 * virtio-console of a guest, connected to the MVM (JSON cfg_list
 * ["0", "<addr>"]: peer VM 0). What the guest writes to hvc0 goes into a
 * 64 KiB history here; `shyper vm console <id>` in the MVM reads it and
 * writes the user's keys back (SHYPER_VMM_CONSOLE). While someone is
 * attached the guest is flow-controlled: its transmit buffers come back
 * only when the history has room, so no byte is lost. Detached, the oldest
 * history goes instead, as on a serial line nobody listens to, so that a
 * guest never stalls on its console.
 */
#include <arch/spinlock.h>
#include <core/hypercall.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/vm.h>
#include <dev/vdev.h>
#include <dev/virtio_console.h>
#include <lib/fmt.h>
#include <lib/mstream.h>
#include <lib/string.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/migrate.h>

#define VCON_HISTORY (64U * 1024) /* a power of two */

struct vcon_model {
	struct virtio_console con;
	spinlock_t lock; /* the history and `attached` */
	bool attached;
	uint32_t head, tail; /* free running, into hist */
	uint64_t dropped;    /* bytes overwritten while detached */
	uint8_t hist[VCON_HISTORY];
};

static int console_check(struct vm *vm, const struct vm_vdev_cfg *cfg)
{
	/* cfg_list[0] names the peer; only the MVM can be one. cfg_list[1],
	 * Rust-Shyper's MVM-side address, has no use here (docs/CONFIG.md). */
	if (cfg->cfg_num >= 1 && cfg->cfg[0] != 0) {
		log_warn("vm%u config: virtio console peer %lu: only the MVM (0) can be one",
			 vm->id, cfg->cfg[0]);
		return -SHYPER_EINVAL;
	}
	for (unsigned i = 0; i < vm->config.nr_vdevs; i++)
		if (vm->config.vdevs[i].type == SHYPER_EMU_VIRTIO_CONSOLE)
			return -SHYPER_EEXIST; /* one console a VM */
	return 0;
}

/*
 * A paused VM's queues are not touched from this side: its state may have
 * been taken for a migration or a snapshot, and a chain taken or a buffer
 * filled afterwards would leave the rings ahead of the saved device (the
 * destination would hand the guest a used entry twice, or a buffer it had
 * already freed). Decided under the device lock, which the state save holds.
 */
static bool queues_frozen(const struct vm *vm)
{
	return vm_is_paused(vm);
}

/* Moves what the guest has sent into the history, as far as allowed. */
static void drain(const struct vm *vm, struct vcon_model *m)
{
	uint8_t buf[256];

	spin_lock(&m->lock);
	for (;;) {
		uint32_t room = VCON_HISTORY - (m->head - m->tail);
		size_t want = sizeof(buf);
		size_t n = 0;

		if (m->attached && room < want)
			want = room;
		if (!want)
			break;
		virtio_dev_lock(&m->con.dev);
		if (!queues_frozen(vm))
			n = virtio_console_tx_pop_locked(&m->con, buf, want);
		virtio_dev_unlock(&m->con.dev);
		if (!n)
			break;
		for (size_t i = 0; i < n; i++)
			m->hist[(m->head + i) & (VCON_HISTORY - 1)] = buf[i];
		m->head += n;
		if (m->head - m->tail > VCON_HISTORY) { /* detached: oldest out */
			m->dropped += m->head - m->tail - VCON_HISTORY;
			m->tail = m->head - VCON_HISTORY;
		}
	}
	spin_unlock(&m->lock);
}

static void console_after_access(struct vdev *vd)
{
	drain(vd->vm, vd->model);
}

static int console_setup(struct vdev *vd)
{
	struct vcon_model *m = hv_alloc(sizeof(*m));
	struct guest_mem mem;
	int ret;

	if (!m)
		return -SHYPER_ENOMEM;
	memset(m, 0, sizeof(*m));
	vdev_guest_mem(vd, &mem);
	ret = virtio_console_init(&m->con, &mem, vdev_irq, vd);
	if (ret) {
		hv_free(m);
		return ret;
	}
	vd->model = m;
	vd->dev = &m->con.dev;
	return 0;
}

static void console_teardown(struct vdev *vd)
{
	hv_free(vd->model);
}

/* No tx_notify: the history is filled after each register access. */
static void console_rebind(struct vdev *vd)
{
	struct vcon_model *m = vd->model;
	struct guest_mem mem;

	vdev_guest_mem(vd, &mem);
	virtio_console_rebind(&m->con, &mem, vdev_irq, vd);
}

static uint32_t ring_len(const struct vcon_ring *r)
{
	return r->head - r->tail;
}

static uint64_t console_state_size(struct vdev *vd)
{
	struct vcon_model *m = vd->model;

	return sizeof(struct shyper_mig_vcon) + ring_len(&m->con.tx) + ring_len(&m->con.rx);
}

static void ring_save(const struct vcon_ring *r, struct mstream_writer *w)
{
	for (uint32_t i = r->tail; i != r->head; i++)
		mstream_append(w, &r->buf[i & (VCON_RING_SIZE - 1)], 1);
}

static int console_state_save(struct vdev *vd, struct mstream_writer *w)
{
	struct vcon_model *m = vd->model;
	struct shyper_mig_vcon s = {
		.tx_off = m->con.tx_off,
		.tx_len = ring_len(&m->con.tx),
		.rx_len = ring_len(&m->con.rx),
		.tx_bytes = m->con.tx_bytes,
		.rx_bytes = m->con.rx_bytes,
	};

	mstream_append(w, &s, sizeof(s));
	ring_save(&m->con.tx, w);
	ring_save(&m->con.rx, w);
	return 0;
}

static void ring_load(struct vcon_ring *r, const uint8_t *bytes, uint32_t len)
{
	memcpy(r->buf, bytes, len);
	r->tail = 0;
	r->head = len;
}

static int console_state_load(struct vdev *vd, const uint8_t *blob, uint64_t len, char *why,
			      size_t why_size)
{
	struct vcon_model *m = vd->model;
	struct shyper_mig_vcon s;

	if (len < sizeof(s)) {
		fmt_snprintf(why, why_size, "console state of %lu bytes", len);
		return -SHYPER_EINVAL;
	}
	memcpy(&s, blob, sizeof(s));
	if (s.reserved || s.tx_len > VCON_RING_SIZE || s.rx_len > VCON_RING_SIZE ||
	    len != sizeof(s) + (uint64_t)s.tx_len + s.rx_len) {
		fmt_snprintf(why, why_size, "console state: %u + %u buffered bytes (at most %u "
			     "each) in %lu bytes", s.tx_len, s.rx_len, VCON_RING_SIZE, len);
		return -SHYPER_EINVAL;
	}
	ring_load(&m->con.tx, blob + sizeof(s), s.tx_len);
	ring_load(&m->con.rx, blob + sizeof(s) + s.tx_len, s.rx_len);
	m->con.tx_off = s.tx_off;
	m->con.tx_bytes = s.tx_bytes;
	m->con.rx_bytes = s.rx_bytes;
	return 0;
}

const struct vdev_kind vdev_console_kind = {
	.name = "console",
	.check = console_check,
	.setup = console_setup,
	.teardown = console_teardown,
	.rebind = console_rebind,
	.after_access = console_after_access,
	.state_size = console_state_size,
	.state_save = console_state_save,
	.state_load = console_state_load,
};

int vdev_console_history_save(struct vm *vm, struct mstream_writer *w)
{
	struct vdev *vd = vdev_find(vm, SHYPER_EMU_VIRTIO_CONSOLE);
	struct vcon_model *m;

	if (!vd || !vd->model)
		return 0;
	m = vd->model;
	spin_lock(&m->lock);
	mstream_begin_section(w, SHYPER_MIG_SEC_CONSOLE_HISTORY,
			      SHYPER_MIG_CONSOLE_HISTORY_VERSION, 0);
	/* In at most two pieces: the ring wraps once. */
	for (uint32_t at = m->tail; at != m->head;) {
		uint32_t off = at & (VCON_HISTORY - 1);
		uint32_t n = m->head - at;

		if (n > VCON_HISTORY - off)
			n = VCON_HISTORY - off;
		mstream_append(w, &m->hist[off], n);
		at += n;
	}
	spin_unlock(&m->lock);
	return mstream_end_section(w);
}

int vdev_console_history_load(struct vm *vm, const uint8_t *bytes, uint64_t len, char *why,
			      size_t why_size)
{
	struct vdev *vd = vdev_find(vm, SHYPER_EMU_VIRTIO_CONSOLE);
	struct vcon_model *m;

	if (!vd || !vd->model) {
		fmt_snprintf(why, why_size, "console history for a VM without a virtio console");
		return -SHYPER_EINVAL;
	}
	m = vd->model;
	/* Like output while detached: only the newest VCON_HISTORY bytes stay. */
	spin_lock(&m->lock);
	for (uint64_t i = 0; i < len; i++)
		m->hist[(m->head + i) & (VCON_HISTORY - 1)] = bytes[i];
	m->head += (uint32_t)len;
	if (m->head - m->tail > VCON_HISTORY || len > VCON_HISTORY) {
		m->dropped += len > VCON_HISTORY ? len - VCON_HISTORY : 0;
		m->tail = m->head - VCON_HISTORY;
	}
	spin_unlock(&m->lock);
	return 0;
}

static int64_t console_read(const struct vm *vm, struct vcon_model *m, uint8_t *out,
			   uint64_t len)
{
	uint32_t n;

	spin_lock(&m->lock);
	n = m->head - m->tail;
	if (n > len)
		n = (uint32_t)len;
	for (uint32_t i = 0; i < n; i++)
		out[i] = m->hist[(m->tail + i) & (VCON_HISTORY - 1)];
	m->tail += n;
	spin_unlock(&m->lock);
	drain(vm, m); /* room again: the guest's waiting buffers can come in */
	return n;
}

long vdev_console_hypercall(struct vcpu *caller, struct vm *vm, struct trap_frame *f)
{
	struct vdev *vd = vdev_find(vm, SHYPER_EMU_VIRTIO_CONSOLE);
	struct vcon_model *m;
	uint64_t op = f->x[2], len = f->x[4];
	void *buf = 0;

	if (!vd || !vd->model)
		return -SHYPER_ENODEV;
	m = vd->model;
	if (op == SHYPER_CONSOLE_READ || op == SHYPER_CONSOLE_WRITE) {
		if (len > SHYPER_UPLOAD_CHUNK_MAX)
			return -SHYPER_EINVAL;
		if (len && !(buf = hc_mvm_buffer(caller, f->x[3], len)))
			return -SHYPER_EFAULT;
	}
	switch (op) {
	case SHYPER_CONSOLE_READ:
		f->x[1] = (uint64_t)console_read(vm, m, buf, len);
		return 0;
	case SHYPER_CONSOLE_WRITE:
		/* Paused: nothing taken (the writer tries again, or sees the
		 * VM gone after a migration); accepted bytes would not be in
		 * a state already taken. */
		f->x[1] = 0;
		virtio_dev_lock(&m->con.dev);
		if (len && !queues_frozen(vm))
			f->x[1] = virtio_console_rx_push_locked(&m->con, buf, len);
		virtio_dev_unlock(&m->con.dev);
		return 0;
	case SHYPER_CONSOLE_ATTACH:
		spin_lock(&m->lock);
		if (m->attached) {
			spin_unlock(&m->lock);
			return -SHYPER_EBUSY;
		}
		m->attached = true;
		f->x[1] = m->dropped;
		spin_unlock(&m->lock);
		return 0;
	case SHYPER_CONSOLE_DETACH:
		spin_lock(&m->lock);
		m->attached = false;
		spin_unlock(&m->lock);
		drain(vm, m);
		return 0;
	case SHYPER_CONSOLE_STATS:
		drain(vm, m); /* what the guest sent so far counts */
		spin_lock(&m->lock);
		f->x[1] = m->head - m->tail;
		f->x[2] = m->dropped;
		f->x[3] = m->attached;
		spin_unlock(&m->lock);
		return 0;
	}
	return -SHYPER_EINVAL;
}
