/*
 * libFuzzer harness for the virtio-net device model (hv/dev/virtio_net.c)
 * over its virtio-mmio transport (hv/dev/virtio_mmio.c) and split
 * virtqueues (hv/dev/virtq.c), two guests joined by the board's switch
 * (hv/dev/vswitch.c) as vdev_net.c joins them: each guest's RAM, a driver
 * bringing its device up through the registers, transmit chains polled
 * after the access that notified them (their frames forwarded to the
 * switch), frames from outside delivered to receive buffers.
 *
 * The input is both guests: their RAM (descriptor tables, rings, headers,
 * frames; where the queues are and how large) and a sequence of what
 * drivers, the switch and the hypervisor do: notifications, raw register
 * accesses of every width and offset, transmit polls, frames of any length
 * to one guest or through the switch, resets, changes to a guest's RAM
 * between steps (more chains made available), interrupt acks, a live
 * update's rebind, ports leaving and joining the switch. Each RAM is its
 * own heap block of exactly its size, so ASan reports any access outside.
 *
 * Checked (beyond no crash or sanitizer report), through each guest's
 * dirty hook, which sees every write the device makes to its RAM:
 *  - a device writes only its guest's RAM;
 *  - transmit: nothing is written but used elements (and the avail_event
 *    word), each naming a descriptor inside the queue with 0 bytes
 *    written; one element per frame sent or dropped; frames handed on are
 *    14 to 1514 bytes;
 *  - receive: a frame delivered is written as a zeroed header with
 *    num_buffers 1 followed by the frame, byte for byte, then one used
 *    element of exactly that length; a frame not delivered writes nothing
 *    but at most an empty element; the counters agree;
 *  - the switch: no frame goes back to its sender, none with another
 *    port's source address, a unicast frame to a port's MAC only to it;
 *  - the config space reads the MAC and link up; a rebind changes nothing;
 *  - the interrupt line follows the interrupt status; no lock is left
 *    held; bounded work: no step touches guest memory more than WORK_MAX
 *    times.
 *
 * Input layout (little endian):
 *   0      bit 0/1: guest A/B not brought up (raw register accesses only),
 *          bit 2 EVENT_IDX, bit 3 INDIRECT_DESC, bit 4/5: A/B on the switch
 *   1      log2 of the receive queue's size (bits 0-2), of the transmit
 *          queue's (bits 4-6): 1 .. 128
 *   2-13   receive queue: descriptor table, driver area, device area
 *          offsets in RAM; then the transmit queue's (the same in both)
 *   14-15  L: bytes of steps that follow
 *   16-    L bytes of steps, then guest A's RAM, then B's (the rest zero).
 *          Steps: opcode byte (low 3 bits; bit 3: guest B), operands:
 *            0 notify      bit 4 transmit queue (else receive), bit 5 queue 2
 *            1 poll        transmit poll; bit 4: frames dropped, not sent
 *            2 frame       from outside, to (bits 4-5) A's MAC, B's, broadcast
 *                          or unknown; bit 6 straight to the guest, not
 *                          through the switch; length (2 bytes, % 1600),
 *                          payload seed (1 byte)
 *            3 register    offset (1 byte, times 2), width 1/2/4/8 (bits
 *                          4-5), write (bit 6), value (4 bytes)
 *            4 reset       the driver resets the device and brings it up
 *            5 RAM write   bit 4: avail idx of queue (bit 5) += 1 + bits
 *                          6-7; else offset (2 bytes) and value (1 byte)
 *            6 interrupt   read the status, ack it
 *            7 other       bits 4-5: rebind, leave the switch, join it,
 *                          read the config space
 *
 * Seeds: run with FUZZ_VIRTIO_NET_WRITE_SEEDS=<dir>, the harness writes
 * well-formed guests there (frames of every kind both ways, receive
 * buffers good and bad) and exits; fuzz.mk does that before the smoke run.
 *
 * fuzz-sources: hv/dev/virtio_net.c hv/dev/vswitch.c hv/dev/virtio_mmio.c hv/dev/virtq.c
 * fuzz-cflags: -Ihv/arch/aarch64/inc -Ihv/plat/qemu-virt/inc
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <core/log.h>
#include <core/vm.h>
#include <dev/virtio_net.h>
#include <dev/vswitch.h>
#include <shyper/errno.h>
#include <shyper/virtio.h>

#define RAM_BASE 0x40000000ULL
#define RAM_SIZE 0x2000u
#define HDR 16
#define WORK_MAX (1u << 20)
#define MAX_MARKS 256
#define CAPTURE 4096
#define MAX_FRAME_IN 1600
#define RX VIRTIO_NET_RECEIVEQ
#define TX VIRTIO_NET_TRANSMITQ

void log_msg(enum log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

static const uint8_t macs[2][6] = {
	{ 0x52, 0x54, 0x00, 0x12, 0x34, 0x0a },
	{ 0x52, 0x54, 0x00, 0x12, 0x34, 0x0b },
};

/* A write the device made to guest RAM: where, and its bytes from `at`. */
struct mark {
	uint64_t ipa;
	uint32_t len, at;
};

struct guest {
	unsigned idx;
	uint8_t *ram;
	struct virtio_net net;
	struct guest_mem gm;
	struct vswitch_port port;
	bool level;
	unsigned work;
	/* The device's writes since the log was last cleared. */
	struct mark marks[MAX_MARKS];
	unsigned nr_marks;
	uint32_t captured;
	uint8_t capture[CAPTURE];
	bool overflow;
	unsigned sent; /* frames the send callback got */
};

struct env {
	struct guest g[2];
	struct vswitch sw;
	unsigned num[2];	     /* queue sizes: RX, TX */
	uint64_t desc[2], avail[2], used[2];
	bool event_idx, indirect;
	const struct vswitch_port *sender; /* the port forwarding now, or NULL */
	uint8_t frame[MAX_FRAME_IN];	     /* the frame in flight, for checks */
	size_t frame_len;
};

static struct env *env;
static bool trace; /* FUZZ_VIRTIO_NET_TRACE set: the counters after each step */

static void *sim_ptr(void *ctx, uint64_t ipa, uint64_t len)
{
	struct guest *g = ctx;

	if (len == 0 || ++g->work > WORK_MAX)
		abort();
	if (ipa < RAM_BASE || len > RAM_SIZE || ipa - RAM_BASE > RAM_SIZE - len)
		return NULL;
	return g->ram + (ipa - RAM_BASE);
}

/* The device wrote [ipa, ipa + len) of this guest's RAM, just now. */
static void sim_dirty(void *ctx, uint64_t ipa, uint64_t len)
{
	struct guest *g = ctx;
	struct mark *m;

	if (!len || ipa < RAM_BASE || len > RAM_SIZE || ipa - RAM_BASE > RAM_SIZE - len)
		abort(); /* only the guest's own RAM is ever written */
	if (g->nr_marks == MAX_MARKS || g->captured + len > CAPTURE) {
		g->overflow = true;
		return;
	}
	m = &g->marks[g->nr_marks++];
	*m = (struct mark){ ipa, (uint32_t)len, g->captured };
	memcpy(g->capture + g->captured, g->ram + (ipa - RAM_BASE), len);
	g->captured += (uint32_t)len;
}

static void clear_marks(struct guest *g)
{
	g->nr_marks = 0;
	g->captured = 0;
	g->overflow = false;
}

static void sim_irq(void *ctx, bool level)
{
	struct guest *g = ctx;

	if (level == g->level)
		abort(); /* told only of changes */
	g->level = level;
}

static uint32_t ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Mark i is used element k of queue q (k: the used index it was pushed
 * at), and mark i + 1 the index covering it; returns its written length. */
static uint32_t check_elem(const struct guest *g, unsigned q, unsigned i, uint16_t k)
{
	const struct virtq *vq = &g->net.dev.vq[q];
	const struct mark *e = &g->marks[i], *x = &g->marks[i + 1];
	uint64_t elem = vq->used_ipa + 4 + 8 * (uint64_t)(k & (vq->num - 1));
	uint16_t idx;

	if (i + 1 >= g->nr_marks || e->ipa != elem || e->len != 8 ||
	    x->ipa != vq->used_ipa + 2 || x->len != 2)
		abort();
	memcpy(&idx, g->capture + x->at, 2);
	if (idx != (uint16_t)(k + 1) || ld32(g->capture + e->at) >= vq->num)
		abort();
	return ld32(g->capture + e->at + 4);
}

static bool is_avail_event(const struct guest *g, unsigned q, const struct mark *m)
{
	const struct virtq *vq = &g->net.dev.vq[q];

	return vq->event_idx && m->len == 2 && m->ipa == vq->used_ipa + 4 + 8 * (uint64_t)vq->num;
}

/*
 * A frame to guest g's receive queue; the receive path's checks. The
 * frame is env->frame (the switch hands the same bytes on).
 */
static bool rx(struct guest *g, const uint8_t *frame, size_t len)
{
	static const uint8_t hdr[VNET_HDR_LEN] = { [10] = 1 }; /* num_buffers 1 */
	struct vnet_stats st = g->net.stats;
	uint16_t used = g->net.dev.vq[RX].used_idx;
	bool ok;

	clear_marks(g);
	ok = virtio_net_rx_deliver(&g->net, frame, len);
	if (g->overflow)
		abort();
	if (ok) {
		uint32_t payload;

		if (g->net.stats.rx_packets != st.rx_packets + 1 ||
		    g->net.stats.rx_bytes != st.rx_bytes + len ||
		    g->net.stats.rx_drops != st.rx_drops ||
		    g->net.dev.vq[RX].used_idx != (uint16_t)(used + 1) || g->nr_marks < 3)
			abort();
		if (check_elem(g, RX, g->nr_marks - 2, used) != VNET_HDR_LEN + len)
			abort();
		/* Everything before the element: the header, then the frame. */
		payload = g->marks[g->nr_marks - 2].at;
		if (payload != VNET_HDR_LEN + len || memcmp(g->capture, hdr, VNET_HDR_LEN) ||
		    memcmp(g->capture + VNET_HDR_LEN, frame, len))
			abort();
	} else {
		uint16_t pushed = (uint16_t)(g->net.dev.vq[RX].used_idx - used);

		if (g->net.stats.rx_drops != st.rx_drops + 1 ||
		    g->net.stats.rx_packets != st.rx_packets || pushed > 1)
			abort();
		if (pushed) {
			if (g->nr_marks != 2 || check_elem(g, RX, 0, used))
				abort();
		} else if (g->nr_marks > 1 ||
			   (g->nr_marks && !is_avail_event(g, RX, &g->marks[0]))) {
			abort();
		}
	}
	return ok;
}

/* The switch's side of guest g's port. */
static bool port_deliver(struct vswitch_port *port, const uint8_t *frame, size_t len)
{
	struct guest *g = (struct guest *)((uint8_t *)port - offsetof(struct guest, port));
	const struct vswitch_port *from = env->sender;

	if (port == from || !port->attached || len != env->frame_len ||
	    memcmp(frame, env->frame, len))
		abort();
	if (from && memcmp(frame + 6, from->mac, 6))
		abort(); /* another port's source address */
	if (!(frame[0] & 1))
		for (unsigned i = 0; i < 2; i++)
			if (env->g[i].port.attached && &env->g[i].port != port &&
			    !memcmp(frame, env->g[i].port.mac, 6))
				abort(); /* unicast to another port's MAC */
	return rx(g, frame, len);
}

static void send_frame(struct virtio_net *net, const uint8_t *frame, size_t len, void *ctx)
{
	struct guest *g = ctx;

	if (net != &g->net || len < VNET_ETH_HLEN || len > VNET_MAX_FRAME)
		abort();
	g->sent++;
	if (!g->port.attached)
		return;
	memcpy(env->frame, frame, len);
	env->frame_len = len;
	env->sender = &g->port;
	vswitch_forward(&env->sw, &g->port, frame, len);
	env->sender = NULL;
}

/* A transmit poll; its checks. */
static void tx(struct guest *g, bool send)
{
	struct vnet_stats st = g->net.stats;
	uint16_t used = g->net.dev.vq[TX].used_idx;
	unsigned sent_before = g->sent, sent, elems = 0;

	clear_marks(g);
	sent = virtio_net_tx_poll(&g->net, send ? send_frame : NULL, g);
	if (g->overflow)
		abort();
	if (g->net.stats.tx_packets != st.tx_packets + sent ||
	    g->net.stats.tx_bytes < st.tx_bytes + (uint64_t)VNET_ETH_HLEN * sent ||
	    (send && g->sent != sent_before + sent) || (!send && g->sent != sent_before))
		abort();
	/* Only used elements, each for a chain with nothing written. */
	for (unsigned i = 0; i < g->nr_marks; i++) {
		if (is_avail_event(g, TX, &g->marks[i]))
			continue;
		if (check_elem(g, TX, i, (uint16_t)(used + elems)))
			abort();
		elems++;
		i++;
	}
	if (elems != g->net.stats.tx_packets + g->net.stats.tx_drops - st.tx_packets -
			     st.tx_drops ||
	    (uint16_t)(used + elems) != g->net.dev.vq[TX].used_idx)
		abort();
}

static uint64_t reg(struct guest *g, uint64_t off, unsigned size, bool write, uint64_t val)
{
	struct mmio_access acc = { .size = size, .write = write, .value = val };

	(void)virtio_mmio_handler(NULL, &acc, off, &g->net.dev);
	return acc.value;
}

/* As vdev_net.c after a guest's register access: send what it kicked. */
static void after_access(struct guest *g)
{
	if (virtio_net_tx_kicked(&g->net))
		tx(g, true);
}

static void bring_up(struct guest *g)
{
	uint32_t lo, hi, st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	reg(g, VIRTIO_MMIO_STATUS, 4, true, 0);
	reg(g, VIRTIO_MMIO_STATUS, 4, true, st);
	reg(g, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, true, 0);
	lo = (uint32_t)reg(g, VIRTIO_MMIO_DEVICE_FEATURES, 4, false, 0);
	reg(g, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, true, 1);
	hi = (uint32_t)reg(g, VIRTIO_MMIO_DEVICE_FEATURES, 4, false, 0);
	if (!env->event_idx)
		lo &= ~(1u << VIRTIO_F_EVENT_IDX);
	if (!env->indirect)
		lo &= ~(1u << VIRTIO_F_INDIRECT_DESC);
	reg(g, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, true, 0);
	reg(g, VIRTIO_MMIO_DRIVER_FEATURES, 4, true, lo);
	reg(g, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, true, 1);
	reg(g, VIRTIO_MMIO_DRIVER_FEATURES, 4, true, hi);
	st |= VIRTIO_STATUS_FEATURES_OK;
	reg(g, VIRTIO_MMIO_STATUS, 4, true, st);
	for (unsigned q = 0; q < 2; q++) {
		reg(g, VIRTIO_MMIO_QUEUE_SEL, 4, true, q);
		reg(g, VIRTIO_MMIO_QUEUE_NUM, 4, true, env->num[q]);
		reg(g, VIRTIO_MMIO_QUEUE_DESC_LOW, 4, true, (uint32_t)env->desc[q]);
		reg(g, VIRTIO_MMIO_QUEUE_DESC_HIGH, 4, true, (uint32_t)(env->desc[q] >> 32));
		reg(g, VIRTIO_MMIO_QUEUE_DRIVER_LOW, 4, true, (uint32_t)env->avail[q]);
		reg(g, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 4, true, (uint32_t)(env->avail[q] >> 32));
		reg(g, VIRTIO_MMIO_QUEUE_DEVICE_LOW, 4, true, (uint32_t)env->used[q]);
		reg(g, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 4, true, (uint32_t)(env->used[q] >> 32));
		reg(g, VIRTIO_MMIO_QUEUE_READY, 4, true, 1);
	}
	reg(g, VIRTIO_MMIO_STATUS, 4, true, st | VIRTIO_STATUS_DRIVER_OK);
}

/* A frame of len bytes to dst from outside (the source a made-up MAC). */
static void outside_frame(uint8_t op, uint16_t len, uint8_t seed)
{
	static const uint8_t unknown[6] = { 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const uint8_t *dst;
	struct guest *g = &env->g[(op >> 3) & 1];
	size_t n = len % MAX_FRAME_IN;

	switch ((op >> 4) & 3) {
	case 0: dst = macs[0]; break;
	case 1: dst = macs[1]; break;
	case 2: dst = bcast; break;
	default: dst = unknown; break;
	}
	for (size_t i = 0; i < n; i++)
		env->frame[i] = (uint8_t)(seed + i);
	memcpy(env->frame, dst, n < 6 ? n : 6);
	if (n > 6)
		memcpy(env->frame + 6, unknown, n < 12 ? n - 6 : 6);
	env->frame_len = n;
	if (op & 64)
		(void)rx(g, env->frame, n);
	else
		vswitch_forward(&env->sw, NULL, env->frame, n);
}

/* The config space through the registers: the MAC, the link up. */
static void check_config(struct guest *g)
{
	for (unsigned i = 0; i < 6; i++)
		if (reg(g, VIRTIO_MMIO_CONFIG + i, 1, false, 0) != macs[g->idx][i])
			abort();
	if (reg(g, VIRTIO_MMIO_CONFIG + 6, 2, false, 0) != VIRTIO_NET_S_LINK_UP)
		abort();
}

static void other(struct guest *g, uint8_t op)
{
	static struct virtio_net before;

	switch ((op >> 4) & 3) {
	case 0: /* a live update: the same accessors again change nothing */
		before = g->net;
		virtio_net_rebind(&g->net, &g->gm, sim_irq, g);
		if (memcmp(&before, &g->net, sizeof(before)))
			abort();
		break;
	case 1:
		vswitch_detach(&env->sw, &g->port);
		if (g->port.attached)
			abort();
		break;
	case 2:
		if (vswitch_attach(&env->sw, &g->port) || !g->port.attached)
			abort(); /* two ports, two MACs: always room */
		break;
	default:
		check_config(g);
		break;
	}
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void guest_init(struct guest *g, unsigned idx, const uint8_t *ram, size_t n)
{
	g->idx = idx;
	g->ram = malloc(RAM_SIZE);
	if (!g->ram)
		abort();
	memset(g->ram, 0, RAM_SIZE);
	memcpy(g->ram, ram, n < RAM_SIZE ? n : RAM_SIZE);
	g->gm = (struct guest_mem){ .ptr = sim_ptr, .ctx = g, .dirty = sim_dirty };
	if (virtio_net_init(&g->net, &g->gm, sim_irq, g, macs[idx]))
		abort();
	memcpy(g->port.mac, macs[idx], 6);
	g->port.deliver = port_deliver;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *steps, *ram;
	size_t nsteps, nram, pos = 0;
	uint8_t flags;

	if (size < HDR)
		return 0;
	env = calloc(1, sizeof(*env));
	if (!env)
		abort();
	flags = data[0];
	nsteps = le16(data + 14);
	if (nsteps > size - HDR)
		nsteps = size - HDR;
	steps = data + HDR;
	ram = steps + nsteps;
	nram = size - HDR - nsteps;
	env->num[RX] = 1u << (data[1] & 7);
	env->num[TX] = 1u << ((data[1] >> 4) & 7);
	for (unsigned q = 0; q < 2; q++) {
		env->desc[q] = RAM_BASE + le16(data + 2 + 6 * q);
		env->avail[q] = RAM_BASE + le16(data + 4 + 6 * q);
		env->used[q] = RAM_BASE + le16(data + 6 + 6 * q);
	}
	env->event_idx = flags & 4;
	env->indirect = flags & 8;
	guest_init(&env->g[0], 0, ram, nram);
	guest_init(&env->g[1], 1, nram > RAM_SIZE ? ram + RAM_SIZE : ram, nram > RAM_SIZE ?
			       nram - RAM_SIZE : 0);
	for (unsigned i = 0; i < 2; i++) {
		if (flags & (16 << i) && vswitch_attach(&env->sw, &env->g[i].port))
			abort();
		if (!(flags & (1 << i)))
			bring_up(&env->g[i]);
	}

#define NEXT() (pos < nsteps ? steps[pos++] : 0)
	while (pos < nsteps) {
		uint8_t op = NEXT();
		struct guest *g = &env->g[(op >> 3) & 1];

		env->g[0].work = env->g[1].work = 0;
		switch (op & 7) {
		case 0:
			reg(g, VIRTIO_MMIO_QUEUE_NOTIFY, 4, true, op & 32 ? 2 : (op >> 4) & 1);
			after_access(g);
			break;
		case 1:
			tx(g, !(op & 16));
			break;
		case 2: {
			uint16_t len = NEXT();

			len = (uint16_t)(len | NEXT() << 8);
			outside_frame(op, len, NEXT());
			break;
		}
		case 3: {
			static const unsigned widths[4] = { 1, 2, 4, 8 };
			uint64_t off = 2u * NEXT(), v = 0;

			for (unsigned i = 0; i < 4; i++)
				v |= (uint64_t)NEXT() << (8 * i);
			reg(g, off, widths[(op >> 4) & 3], op & 64, v);
			after_access(g);
			break;
		}
		case 4:
			bring_up(g);
			break;
		case 5:
			if (op & 16) {
				unsigned q = (op >> 5) & 1;
				uint64_t a = env->avail[q] - RAM_BASE + 2;

				if (a + 2 <= RAM_SIZE) {
					uint16_t idx = (uint16_t)(le16(g->ram + a) + 1 + (op >> 6));

					g->ram[a] = (uint8_t)idx;
					g->ram[a + 1] = (uint8_t)(idx >> 8);
				}
			} else {
				unsigned off = NEXT();

				off |= (unsigned)NEXT() << 8;
				g->ram[off % RAM_SIZE] = NEXT();
			}
			break;
		case 6: {
			uint64_t isr = reg(g, VIRTIO_MMIO_INTERRUPT_STATUS, 4, false, 0);

			reg(g, VIRTIO_MMIO_INTERRUPT_ACK, 4, true, isr);
			break;
		}
		case 7:
			other(g, op);
			break;
		}
		if (trace)
			for (unsigned i = 0; i < 2; i++)
				fprintf(stderr, "%s%c: tx %lu/%lu drop %lu, rx %lu/%lu drop %lu, "
					"status 0x%x%s\n", i ? "   " : "step ", 'A' + i,
					env->g[i].net.stats.tx_packets, env->g[i].net.stats.tx_bytes,
					env->g[i].net.stats.tx_drops, env->g[i].net.stats.rx_packets,
					env->g[i].net.stats.rx_bytes, env->g[i].net.stats.rx_drops,
					env->g[i].net.dev.status,
					env->g[i].port.attached ? ", on the switch" : "");
		for (unsigned i = 0; i < 2; i++) {
			const struct guest *h = &env->g[i];

			if (h->level != (h->net.dev.isr != 0) || h->net.dev.lock || h->net.tx_lock)
				abort();
		}
		if (env->sw.lock || env->sender)
			abort();
	}
#undef NEXT
	for (unsigned i = 0; i < 2; i++)
		free(env->g[i].ram);
	free(env);
	env = NULL;
	return 0;
}

/* ---- seeds: two guests sending to each other ---- */

#define S_NUM 8
#define S_RX_DESC 0x000u
#define S_RX_AVAIL 0x080u
#define S_RX_USED 0x100u
#define S_TX_DESC 0x180u
#define S_TX_AVAIL 0x200u
#define S_TX_USED 0x280u
#define S_RXBUF 0x300u /* two of 0x600 */
#define S_TXBUF 0xf00u

struct seed {
	uint8_t hdr[HDR];
	uint8_t steps[64];
	uint8_t ram[2][RAM_SIZE];
	unsigned nsteps;
	unsigned ndesc[2][2], navail[2][2];
	unsigned txoff[2];
};

static void seed_desc(struct seed *s, unsigned g, unsigned q, uint64_t off, uint32_t len,
		      uint16_t flags, bool more)
{
	unsigned i = s->ndesc[g][q]++;
	uint8_t *d = s->ram[g] + (q == RX ? S_RX_DESC : S_TX_DESC) + 16 * i;
	uint64_t addr = RAM_BASE + off;
	uint16_t next = (uint16_t)(i + 1);

	flags |= more ? VIRTQ_DESC_F_NEXT : 0;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void seed_avail(struct seed *s, unsigned g, unsigned q, unsigned head)
{
	uint8_t *a = s->ram[g] + (q == RX ? S_RX_AVAIL : S_TX_AVAIL);
	uint16_t idx = (uint16_t)++s->navail[g][q], h = (uint16_t)head;

	memcpy(a + 4 + 2 * ((idx - 1) % S_NUM), &h, 2);
	memcpy(a + 2, &idx, 2);
}

/* A receive buffer of len bytes (split: header apart). */
static void seed_rxbuf(struct seed *s, unsigned g, unsigned k, uint32_t len, bool split)
{
	unsigned head = s->ndesc[g][RX];
	uint64_t off = S_RXBUF + 0x600u * k;

	if (split) {
		seed_desc(s, g, RX, off, VNET_HDR_LEN, VIRTQ_DESC_F_WRITE, true);
		seed_desc(s, g, RX, off + VNET_HDR_LEN, len - VNET_HDR_LEN, VIRTQ_DESC_F_WRITE,
			  false);
	} else {
		seed_desc(s, g, RX, off, len, VIRTQ_DESC_F_WRITE, false);
	}
	seed_avail(s, g, RX, head);
}

/* A frame of len bytes from guest g to dst, gso_type gso (split: the
 * header in its own descriptor). */
static void seed_tx(struct seed *s, unsigned g, const uint8_t *dst, uint32_t len, uint8_t gso,
		    bool split)
{
	unsigned head = s->ndesc[g][TX];
	uint8_t *p = s->ram[g] + S_TXBUF + s->txoff[g];
	uint64_t off = S_TXBUF + s->txoff[g];

	memset(p, 0, VNET_HDR_LEN);
	p[1] = gso;
	memcpy(p + VNET_HDR_LEN, dst, 6);
	memcpy(p + VNET_HDR_LEN + 6, macs[g], 6);
	for (uint32_t i = 12; i < len; i++)
		p[VNET_HDR_LEN + i] = (uint8_t)i;
	if (split) {
		seed_desc(s, g, TX, off, VNET_HDR_LEN, 0, true);
		seed_desc(s, g, TX, off + VNET_HDR_LEN, len, 0, false);
	} else {
		seed_desc(s, g, TX, off, VNET_HDR_LEN + len, 0, false);
	}
	seed_avail(s, g, TX, head);
	s->txoff[g] += (VNET_HDR_LEN + len + 15) & ~15u;
}

static void seed_start(struct seed *s, uint8_t flags)
{
	memset(s, 0, sizeof(*s));
	s->hdr[0] = flags;
	s->hdr[1] = 3 | 3 << 4; /* S_NUM both */
	s->hdr[2] = (uint8_t)S_RX_DESC;
	s->hdr[3] = S_RX_DESC >> 8;
	s->hdr[4] = (uint8_t)S_RX_AVAIL;
	s->hdr[5] = S_RX_AVAIL >> 8;
	s->hdr[6] = (uint8_t)S_RX_USED;
	s->hdr[7] = S_RX_USED >> 8;
	s->hdr[8] = (uint8_t)S_TX_DESC;
	s->hdr[9] = S_TX_DESC >> 8;
	s->hdr[10] = (uint8_t)S_TX_AVAIL;
	s->hdr[11] = S_TX_AVAIL >> 8;
	s->hdr[12] = (uint8_t)S_TX_USED;
	s->hdr[13] = S_TX_USED >> 8;
}

static void seed_step(struct seed *s, unsigned n, const uint8_t *b)
{
	memcpy(s->steps + s->nsteps, b, n);
	s->nsteps += n;
}

static void seed_write(const char *dir, const char *name, struct seed *s)
{
	char path[4096];
	size_t ram = sizeof(s->ram);
	FILE *f;

	while (ram && !s->ram[ram / RAM_SIZE - (ram % RAM_SIZE ? 0 : 1)][(ram - 1) % RAM_SIZE])
		ram--; /* the rest is zero anyway */
	s->hdr[14] = (uint8_t)s->nsteps;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->hdr, 1, HDR, f) != HDR ||
	    fwrite(s->steps, 1, s->nsteps, f) != s->nsteps ||
	    fwrite(s->ram, 1, ram, f) != ram || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void write_seeds(const char *dir)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static struct seed s;

	for (unsigned v = 0; v < 2; v++) {
		/* Both on the switch; B has two receive buffers (one split),
		 * A one; A sends to B, broadcasts, sends a GSO frame, an
		 * oversize one and a runt; B answers A. */
		seed_start(&s, (uint8_t)(16 | 32 | (v ? 4 | 8 : 0)));
		seed_rxbuf(&s, 1, 0, VNET_HDR_LEN + VNET_MAX_FRAME, false);
		seed_rxbuf(&s, 1, 1, VNET_HDR_LEN + VNET_MAX_FRAME, true);
		seed_rxbuf(&s, 0, 0, VNET_HDR_LEN + VNET_MAX_FRAME, false);
		seed_rxbuf(&s, 0, 1, 64, false); /* too small for most */
		seed_tx(&s, 0, macs[1], 60, 0, false);
		seed_tx(&s, 0, bcast, 100, 0, true);
		seed_tx(&s, 0, macs[1], 60, 1, false);	 /* GSO: dropped */
		seed_tx(&s, 0, macs[1], 1600, 0, false); /* too long */
		seed_tx(&s, 0, macs[1], 10, 0, false);	 /* runt */
		seed_tx(&s, 1, macs[0], 200, 0, true);
		seed_step(&s, 1, (const uint8_t[]){ 0 | 16 });		/* A: notify TX */
		seed_step(&s, 1, (const uint8_t[]){ 6 | 8 });		/* B: ack */
		seed_step(&s, 1, (const uint8_t[]){ 0 | 8 | 16 });	/* B: notify TX */
		seed_step(&s, 4, (const uint8_t[]){ 2 | 2 << 4, 60, 0, 7 }); /* broadcast */
		seed_step(&s, 4, (const uint8_t[]){ 2 | 64, 20, 0, 1 });	/* to A */
		seed_step(&s, 1, (const uint8_t[]){ 5 | 16 });	/* A: one RX more */
		seed_step(&s, 1, (const uint8_t[]){ 7 | 3 << 4 });	/* A: config */
		seed_step(&s, 1, (const uint8_t[]){ 7 });		/* A: rebind */
		seed_step(&s, 1, (const uint8_t[]){ 7 | 8 | 1 << 4 });	/* B leaves */
		seed_step(&s, 4, (const uint8_t[]){ 2 | 1 << 4, 80, 0, 3 });	/* to B */
		seed_step(&s, 1, (const uint8_t[]){ 7 | 8 | 2 << 4 });	/* B joins */
		seed_step(&s, 1, (const uint8_t[]){ 4 | 8 });		/* B: reset */
		seed_step(&s, 1, (const uint8_t[]){ 6 });		/* A: ack */
		seed_write(dir, v ? "event-idx" : "both-ways", &s);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_VIRTIO_NET_WRITE_SEEDS");

	(void)argc;
	(void)argv;
	trace = getenv("FUZZ_VIRTIO_NET_TRACE");
	if (dir) {
		write_seeds(dir);
		exit(0);
	}
	return 0;
}
