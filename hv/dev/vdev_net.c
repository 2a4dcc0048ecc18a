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
#include <lib/string.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>

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
	for (unsigned i = 0; i < vm->config.nr_vdevs; i++)
		if (vm->config.vdevs[i].type == SHYPER_EMU_VIRTIO_NET)
			return -SHYPER_EEXIST; /* one port a VM */
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

	/* Paused: its RAM and rings must stay as migration copies them. */
	if (__atomic_load_n(&m->vm->state, __ATOMIC_RELAXED) != VM_RUNNING ||
	    vm_is_paused(m->vm))
		return false;
	return virtio_net_rx_deliver(&m->net, frame, len);
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
	struct guest_mem mem = { .ptr = vdev_guest_ptr, .ctx = vd->vm, .dirty = vdev_guest_dirty };
	uint8_t mac[VNET_MAC_LEN];
	int ret;

	if (!mac_of(vd->cfg, mac))
		return -SHYPER_EINVAL; /* the built-in MVM config is not checked */
	m = hv_alloc(sizeof(*m));
	if (!m)
		return -SHYPER_ENOMEM;
	memset(m, 0, sizeof(*m));
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

const struct vdev_kind vdev_net_kind = {
	.name = "net",
	.check = net_check,
	.setup = net_setup,
	.teardown = net_teardown,
	.after_access = net_after_access,
};

long vdev_net_hypercall(struct vcpu *caller, struct vm *vm, struct trap_frame *f)
{
	struct vdev *vd = vdev_find(vm, SHYPER_EMU_VIRTIO_NET);
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
