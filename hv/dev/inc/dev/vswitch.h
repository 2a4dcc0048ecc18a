/*
 * The board's virtual Ethernet switch: one for the whole hypervisor (in the
 * state root, hv.vswitch), its ports the virtio-net devices of the VMs, the
 * MVM's included. Every port has the fixed MAC of its device (the JSON
 * cfg_list); there is no learning:
 *  - unicast to a port's MAC goes to that port only;
 *  - broadcast and multicast (first octet bit 0) go to every other port;
 *  - unicast to a MAC no port has is flooded like broadcast (a guest that
 *    changed its interface's MAC still gets its frames; no port is outside
 *    the board, so nothing leaks further);
 *  - a frame never goes back to the port it came from.
 * Delivery never waits: a port without a free receive buffer drops.
 *
 * Locking: the switch lock is held while a frame is delivered, so that a
 * port, once vswitch_detach returns, is used by nobody. Order: the sender's
 * transmit lock -> the switch lock -> the receiver's device lock; a
 * deliver callback must not come back into the switch.
 */
#ifndef DEV_VSWITCH_H
#define DEV_VSWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VSWITCH_MAX_PORTS 16
#define VSWITCH_MAC_LEN 6

struct vswitch_port {
	uint8_t mac[VSWITCH_MAC_LEN];
	bool attached; /* written under the switch lock */
	/* Gives one frame to the port's guest; true if it took it. */
	bool (*deliver)(struct vswitch_port *port, const uint8_t *frame, size_t len);
};

struct vswitch {
	uint32_t lock;
	struct vswitch_port *ports[VSWITCH_MAX_PORTS];
	/* Frames the switch saw: to one port, flooded, with no taker. */
	uint64_t unicast, flooded, unknown;
	uint64_t spoofed; /* dropped: source address not the sender's own */
};

/* Adds a port; 0, -SHYPER_EEXIST (its MAC is taken; attaching a port twice
 * is fine), -SHYPER_EINVAL (bad MAC or no callback) or -SHYPER_ENOSPC. */
int vswitch_attach(struct vswitch *sw, struct vswitch_port *port);
/* Removes a port; once this returns the switch no longer calls it. */
void vswitch_detach(struct vswitch *sw, struct vswitch_port *port);
/* True if a port other than `except` has this MAC. */
bool vswitch_mac_in_use(struct vswitch *sw, const uint8_t mac[VSWITCH_MAC_LEN],
			const struct vswitch_port *except);
/* Forwards a frame from port `from` (NULL: from outside every port).
 * Returns the ports that took it. Frames shorter than an Ethernet header
 * are dropped. */
unsigned vswitch_forward(struct vswitch *sw, const struct vswitch_port *from,
			 const uint8_t *frame, size_t len);

/* The VM side (vdev_net.c): SHYPER_VMM_NET_INFO from the MVM. */
struct vcpu;
struct vm;
struct trap_frame;
long vdev_net_hypercall(struct vcpu *caller, struct vm *vm, struct trap_frame *f);

#endif
