/*
 * The board's virtual Ethernet switch. See dev/vswitch.h.
 */
#include <dev/vswitch.h>
#include <shyper/errno.h>
#include <string.h>

#if defined(__aarch64__)
#define vsw_relax() __asm__ volatile("yield" ::: "memory")
#else
#define vsw_relax() __asm__ volatile("" ::: "memory")
#endif

#define ETH_HLEN 14

static void sw_lock(struct vswitch *sw)
{
	while (__atomic_exchange_n(&sw->lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&sw->lock, __ATOMIC_RELAXED))
			vsw_relax();
}

static void sw_unlock(struct vswitch *sw)
{
	__atomic_store_n(&sw->lock, 0, __ATOMIC_RELEASE);
}

static bool mac_ok(const uint8_t *mac)
{
	uint8_t any = 0;

	for (unsigned i = 0; i < VSWITCH_MAC_LEN; i++)
		any |= mac[i];
	return any && !(mac[0] & 1);
}

static struct vswitch_port *port_by_mac(struct vswitch *sw, const uint8_t *mac,
					const struct vswitch_port *except)
{
	for (unsigned i = 0; i < VSWITCH_MAX_PORTS; i++) {
		struct vswitch_port *p = sw->ports[i];

		if (p && p != except && !memcmp(p->mac, mac, VSWITCH_MAC_LEN))
			return p;
	}
	return NULL;
}

bool vswitch_mac_in_use(struct vswitch *sw, const uint8_t mac[VSWITCH_MAC_LEN],
			const struct vswitch_port *except)
{
	bool used;

	sw_lock(sw);
	used = port_by_mac(sw, mac, except) != NULL;
	sw_unlock(sw);
	return used;
}

int vswitch_attach(struct vswitch *sw, struct vswitch_port *port)
{
	int ret = -SHYPER_ENOSPC;

	if (!port->deliver || !mac_ok(port->mac))
		return -SHYPER_EINVAL;
	sw_lock(sw);
	if (port->attached) {
		ret = 0;
	} else if (port_by_mac(sw, port->mac, port)) {
		ret = -SHYPER_EEXIST;
	} else {
		for (unsigned i = 0; i < VSWITCH_MAX_PORTS; i++)
			if (!sw->ports[i]) {
				sw->ports[i] = port;
				port->attached = true;
				ret = 0;
				break;
			}
	}
	sw_unlock(sw);
	return ret;
}

void vswitch_detach(struct vswitch *sw, struct vswitch_port *port)
{
	sw_lock(sw);
	for (unsigned i = 0; i < VSWITCH_MAX_PORTS; i++)
		if (sw->ports[i] == port)
			sw->ports[i] = NULL;
	port->attached = false;
	sw_unlock(sw);
}

unsigned vswitch_forward(struct vswitch *sw, const struct vswitch_port *from,
			 const uint8_t *frame, size_t len)
{
	struct vswitch_port *to;
	unsigned took = 0;

	if (len < ETH_HLEN)
		return 0;
	/* A VM sends as itself: a frame claiming another source address (to
	 * steal or poison another VM's traffic) goes nowhere. */
	for (unsigned i = 0; from && i < VSWITCH_MAC_LEN; i++)
		if (frame[VSWITCH_MAC_LEN + i] != from->mac[i]) {
			__atomic_fetch_add(&sw->spoofed, 1, __ATOMIC_RELAXED);
			return 0;
		}
	sw_lock(sw);
	/* frame[0..5] is the destination; bit 0 of its first octet: group. */
	to = (frame[0] & 1) ? NULL : port_by_mac(sw, frame, NULL);
	if (to) {
		if (to != from) /* addressed to itself: nothing to do */
			took = to->deliver(to, frame, len);
		sw->unicast++;
	} else {
		for (unsigned i = 0; i < VSWITCH_MAX_PORTS; i++) {
			struct vswitch_port *p = sw->ports[i];

			if (p && p != from)
				took += p->deliver(p, frame, len);
		}
		if (frame[0] & 1)
			sw->flooded++;
		else
			sw->unknown++;
	}
	sw_unlock(sw);
	return took;
}
