/*
 * virtio-net of a VM (JSON cfg_list: the MAC, six bytes), a port on the
 * board's switch (hv.vswitch, dev/vswitch.h). The port joins the switch on
 * the guest's first access to the device, when the VM is wholly set up, and
 * leaves it at teardown; frames for a VM that is not running are not
 * delivered. What the guest sends goes out on its own vCPU, after the
 * register access that notified it, with no device lock held.
 */
#include <stdbool.h>
#include <core/hypercall.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/state.h>
#include <core/vm.h>
#include <dev/vdev.h>
#include <dev/virtio_net.h>
#include <dev/vswitch.h>
#include <lib/list.h>
#include <lib/fmt.h>
#include <lib/mstream.h>
#include <lib/string.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/migrate.h>

struct vnet_model {
	struct virtio_net net;
	struct vswitch_port port;
	struct vm *vm;
	bool refused; /* the switch would not take the port: stays off it */
};

static bool mac_of(const struct vm_vdev_cfg *cfg, uint8_t mac[VNET_MAC_LEN])
{
	if (cfg->cfg_num != VNET_MAC_LEN)
		return false;
	for (unsigned i = 0; i < VNET_MAC_LEN; i++) {
		if (cfg->cfg[i] > 0xff)
			return false;
		mac[i] = (uint8_t)cfg->cfg[i];
	}
	return vnet_mac_valid(mac);
}

/* A VM (configured or running) with a net device of this MAC. */
static bool mac_taken(const uint8_t mac[VNET_MAC_LEN])
{
	for (unsigned id = 0; id < HV_MAX_VMS; id++) {
		const struct vm *vm = &hv.vms[id];
		const struct vm_config *c = vm->cfg ? vm->cfg : &vm->config;
		uint8_t other[VNET_MAC_LEN];

		if (vm->state == VM_FREE || !c)
			continue;
		for (unsigned i = 0; i < c->nr_vdevs; i++)
			if (c->vdevs[i].type == SHYPER_EMU_VIRTIO_NET &&
			    mac_of(&c->vdevs[i], other) && !memcmp(mac, other, VNET_MAC_LEN))
				return true;
	}
	return false;
}

static int net_check(struct vm *vm, const struct vm_vdev_cfg *cfg)
{
	uint8_t mac[VNET_MAC_LEN];

	if (!mac_of(cfg, mac)) {
		log_warn("vm%u config: virtio-net cfg_list must be a MAC: 6 bytes, "
			 "not multicast, not all zero", vm->id);
		return -SHYPER_EINVAL;
	}
	if (mac_taken(mac)) {
		log_warn("vm%u config: MAC %02x:%02x:%02x:%02x:%02x:%02x is another VM's",
			 vm->id, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		return -SHYPER_EEXIST;
	}
	return 0;
}

static bool port_deliver(struct vswitch_port *port, const uint8_t *frame, size_t len)
{
	struct vnet_model *m = container_of(port, struct vnet_model, port);

	bool ok = false;

	/* Paused: its RAM and rings must stay as migration copies them.
	 * Decided under the device lock, which the state save holds: a
	 * frame checked in before the pause cannot land after the save. */
	virtio_dev_lock(&m->net.dev);
	if (__atomic_load_n(&m->vm->state, __ATOMIC_RELAXED) == VM_RUNNING &&
	    !vm_is_paused(m->vm))
		ok = virtio_net_rx_deliver_locked(&m->net, frame, len);
	else
		m->net.stats.rx_drops++;
	virtio_dev_unlock(&m->net.dev);
	return ok;
}

static void port_send(struct virtio_net *net, const uint8_t *frame, size_t len, void *ctx)
{
	struct vnet_model *m = ctx;

	(void)net;
	vswitch_forward(&hv.vswitch, &m->port, frame, len);
}

static void net_after_access(struct vdev *vd)
{
	struct vnet_model *m = vd->model;

	if (!__atomic_load_n(&m->port.attached, __ATOMIC_ACQUIRE) && !m->refused) {
		int ret = vswitch_attach(&hv.vswitch, &m->port);

		if (ret) { /* a MAC clash the config check could not see */
			log_warn("vm%u: virtio-net not on the switch: %d", vd->vm->id, ret);
			m->refused = true;
		}
	}
	if (virtio_net_tx_kicked(&m->net))
		virtio_net_tx_poll(&m->net, m->port.attached ? port_send : 0, m);
}

static int net_setup(struct vdev *vd)
{
	struct vnet_model *m;
	struct guest_mem mem;
	uint8_t mac[VNET_MAC_LEN];
	int ret;

	if (!mac_of(vd->cfg, mac))
		return -SHYPER_EINVAL; /* the built-in MVM config is not checked */
	m = hv_alloc(sizeof(*m));
	if (!m)
		return -SHYPER_ENOMEM;
	memset(m, 0, sizeof(*m));
	vdev_guest_mem(vd, &mem);
	ret = virtio_net_init(&m->net, &mem, vdev_irq, vd, mac);
	if (ret) {
		hv_free(m);
		return ret;
	}
	m->vm = vd->vm;
	memcpy(m->port.mac, mac, VNET_MAC_LEN);
	m->port.deliver = port_deliver;
	vd->model = m;
	vd->dev = &m->net.dev;
	return 0;
}

static void net_teardown(struct vdev *vd)
{
	struct vnet_model *m = vd->model;

	if (!m)
		return;
	vswitch_detach(&hv.vswitch, &m->port);
	hv_free(m);
}

/* The port stays on the switch (hv.vswitch.ports leads to it, in the
 * heap); only its callback is the image's. The frames the guest sends go
 * to port_send as an argument of each poll, never stored. */
static void net_rebind(struct vdev *vd)
{
	struct vnet_model *m = vd->model;
	struct guest_mem mem;

	vdev_guest_mem(vd, &mem);
	virtio_net_rebind(&m->net, &mem, vdev_irq, vd);
	m->port.deliver = port_deliver;
}

static uint64_t net_state_size(struct vdev *vd)
{
	(void)vd;
	return sizeof(struct shyper_mig_vnet);
}

static int net_state_save(struct vdev *vd, struct mstream_writer *w)
{
	struct vnet_model *m = vd->model;
	const struct vnet_stats *st = &m->net.stats;
	struct shyper_mig_vnet s = {
		.tx_kicked = __atomic_load_n(&m->net.tx_kicked, __ATOMIC_ACQUIRE) != 0,
		.tx_packets = st->tx_packets, .tx_bytes = st->tx_bytes, .tx_drops = st->tx_drops,
		.rx_packets = st->rx_packets, .rx_bytes = st->rx_bytes, .rx_drops = st->rx_drops,
	};

	memcpy(s.mac, m->net.mac, VNET_MAC_LEN);
	return mstream_append(w, &s, sizeof(s));
}

static int net_state_load(struct vdev *vd, const uint8_t *blob, uint64_t len, char *why,
			  size_t why_size)
{
	struct vnet_model *m = vd->model;
	struct shyper_mig_vnet s;

	if (len != sizeof(s)) {
		fmt_snprintf(why, why_size, "net state of %lu bytes, not %zu", len, sizeof(s));
		return -SHYPER_EINVAL;
	}
	memcpy(&s, blob, sizeof(s));
	if (memcmp(s.mac, m->net.mac, VNET_MAC_LEN) || s.tx_kicked > 1 || s.reserved) {
		fmt_snprintf(why, why_size, "net state: another MAC, or bad flags");
		return -SHYPER_EINVAL;
	}
	m->net.tx_kicked = s.tx_kicked;
	m->net.stats = (struct vnet_stats){
		.tx_packets = s.tx_packets, .tx_bytes = s.tx_bytes, .tx_drops = s.tx_drops,
		.rx_packets = s.rx_packets, .rx_bytes = s.rx_bytes, .rx_drops = s.rx_drops,
	};
	return 0;
}

const struct vdev_kind vdev_net_kind = {
	.name = "net",
	.check = net_check,
	.setup = net_setup,
	.teardown = net_teardown,
	.rebind = net_rebind,
	.after_access = net_after_access,
	.state_size = net_state_size,
	.state_save = net_state_save,
	.state_load = net_state_load,
};

long vdev_net_hypercall(struct vcpu *caller, struct vm *vm, struct trap_frame *f)
{
	struct vdev *vd = vdev_find_nth(vm, SHYPER_EMU_VIRTIO_NET, f->x[4]);
	struct shyper_net_info info;
	struct vnet_model *m;
	void *buf;

	if (!vd || !vd->model)
		return -SHYPER_ENODEV;
	if (f->x[3] < sizeof(info))
		return -SHYPER_EINVAL;
	buf = hc_mvm_buffer(caller, f->x[2], sizeof(info));
	if (!buf)
		return -SHYPER_EFAULT;
	m = vd->model;
	memset(&info, 0, sizeof(info));
	/* Updated on other cores meanwhile: each a snapshot. */
	info.tx_packets = __atomic_load_n(&m->net.stats.tx_packets, __ATOMIC_RELAXED);
	info.tx_bytes = __atomic_load_n(&m->net.stats.tx_bytes, __ATOMIC_RELAXED);
	info.tx_drops = __atomic_load_n(&m->net.stats.tx_drops, __ATOMIC_RELAXED);
	info.rx_packets = __atomic_load_n(&m->net.stats.rx_packets, __ATOMIC_RELAXED);
	info.rx_bytes = __atomic_load_n(&m->net.stats.rx_bytes, __ATOMIC_RELAXED);
	info.rx_drops = __atomic_load_n(&m->net.stats.rx_drops, __ATOMIC_RELAXED);
	memcpy(info.mac, m->net.mac, VNET_MAC_LEN);
	info.link_up = vm->state == VM_RUNNING && m->port.attached;
	memcpy(buf, &info, sizeof(info));
	return 0;
}
