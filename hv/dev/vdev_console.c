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
#include <lib/string.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>

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

/* Moves what the guest has sent into the history, as far as allowed. */
static void drain(struct vcon_model *m)
{
	uint8_t buf[256];

	spin_lock(&m->lock);
	for (;;) {
		uint32_t room = VCON_HISTORY - (m->head - m->tail);
		size_t want = sizeof(buf);
		size_t n;

		if (m->attached && room < want)
			want = room;
		if (!want)
			break;
		n = virtio_console_tx_pop(&m->con, buf, want);
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
	drain(vd->model);
}

static int console_setup(struct vdev *vd)
{
	struct vcon_model *m = hv_alloc(sizeof(*m));
	struct guest_mem mem = { .ptr = vdev_guest_ptr, .ctx = vd->vm, .dirty = vdev_guest_dirty };
	int ret;

	if (!m)
		return -SHYPER_ENOMEM;
	memset(m, 0, sizeof(*m));
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

const struct vdev_kind vdev_console_kind = {
	.name = "console",
	.check = console_check,
	.setup = console_setup,
	.teardown = console_teardown,
	.after_access = console_after_access,
};

static int64_t console_read(struct vcon_model *m, uint8_t *out, uint64_t len)
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
	drain(m); /* room again: the guest's waiting buffers can come in */
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
		f->x[1] = (uint64_t)console_read(m, buf, len);
		return 0;
	case SHYPER_CONSOLE_WRITE:
		f->x[1] = len ? virtio_console_rx_push(&m->con, buf, len) : 0;
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
		drain(m);
		return 0;
	}
	return -SHYPER_EINVAL;
}
