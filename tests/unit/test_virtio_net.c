/*
 * The virtio-net device model (hv/dev/virtio_net.c) with a simulated guest
 * driver working its queues through the virtio-mmio registers, over a
 * simulated guest RAM with poisoned guard zones: probe and config space
 * (MAC, link up), transmit (header stripped, split chains, oversize, short
 * and segmentation-offload frames dropped and counted), receive (zeroed
 * header with num_buffers 1, split buffers, buffers too small or read-only
 * returned empty and never written past, no buffer or no driver: dropped),
 * and two devices joined by the switch (hv/dev/vswitch.c): frames cross,
 * a full receive queue drops without stalling the sender, counters add up;
 * a live update's rebind, after which frames go on both ways.
 *
 * unit-sources: hv/dev/virtio_net.c hv/dev/vswitch.c hv/dev/virtio_mmio.c hv/dev/virtq.c
 * unit-cflags: -Ihv/arch/aarch64/inc -Ihv/plat/qemu-virt/inc
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sanitizer/asan_interface.h>

#include <core/log.h>
#include <core/vm.h>
#include <dev/virtio_net.h>
#include <dev/vswitch.h>
#include <shyper/errno.h>
#include <shyper/virtio.h>

#define RAM_BASE 0x40000000ULL
#define RAM_SIZE 0x40000ULL
#define GUARD 0x1000
#define GUARD_BYTE 0xc3
#define NUM 16
#define BUF 0x800 /* bytes per descriptor's buffer */
#define RINGS(q) (RAM_BASE + 0x4000 * (q))
#define DATA(q, d) (RAM_BASE + 0x10000 + 0x10000 * (q) + BUF * (d))
#define RX VIRTIO_NET_RECEIVEQ
#define TX VIRTIO_NET_TRANSMITQ
#define FEATURES                                                               \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC) |       \
	 VIRTIO_BIT(VIRTIO_NET_F_STATUS))

void log_msg(enum log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0xa };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0xb };

struct drvq {
	uint16_t avail_idx, last_used, next_desc;
};

/* One guest with one device. */
struct guest {
	uint8_t *block, *ram;
	struct virtio_net net;
	struct drvq dq[2];
	unsigned irqs;
	/* What the device sent (the send callback). */
	unsigned sent;
	size_t sent_len;
	uint8_t sent_frame[2048];
	/* On the switch. */
	struct vswitch_port port;
};

struct env {
	struct guest g[2];
	struct vswitch sw;
};

static void *sim_ptr(void *ctx, uint64_t ipa, uint64_t len)
{
	struct guest *g = ctx;

	if (ipa < RAM_BASE || len > RAM_SIZE || ipa - RAM_BASE > RAM_SIZE - len)
		return NULL;
	return g->ram + (ipa - RAM_BASE);
}

static uint8_t *hp(struct guest *g, uint64_t ipa)
{
	return g->ram + (ipa - RAM_BASE);
}

static void irq(void *ctx, bool level)
{
	((struct guest *)ctx)->irqs += level;
}

static void record(struct virtio_net *net, const uint8_t *frame, size_t len, void *ctx)
{
	struct guest *g = ctx;

	assert_ptr_equal(net, &g->net);
	assert_true(len <= sizeof(g->sent_frame));
	memcpy(g->sent_frame, frame, len);
	g->sent_len = len;
	g->sent++;
}

static bool port_deliver(struct vswitch_port *port, const uint8_t *frame, size_t len)
{
	struct guest *g = (struct guest *)((uint8_t *)port - offsetof(struct guest, port));

	return virtio_net_rx_deliver(&g->net, frame, len);
}

static void guest_init(struct guest *g, const uint8_t mac[6])
{
	struct guest_mem gm = { .ptr = sim_ptr, .ctx = g };

	g->block = aligned_alloc(4096, RAM_SIZE + 2 * GUARD);
	assert_non_null(g->block);
	memset(g->block, GUARD_BYTE, RAM_SIZE + 2 * GUARD);
	g->ram = g->block + GUARD;
	memset(g->ram, 0, RAM_SIZE);
	ASAN_POISON_MEMORY_REGION(g->block, GUARD);
	ASAN_POISON_MEMORY_REGION(g->ram + RAM_SIZE, GUARD);
	assert_int_equal(virtio_net_init(&g->net, &gm, irq, g, mac), 0);
	memcpy(g->port.mac, mac, 6);
	g->port.deliver = port_deliver;
}

static void guest_fini(struct guest *g)
{
	ASAN_UNPOISON_MEMORY_REGION(g->block, GUARD);
	ASAN_UNPOISON_MEMORY_REGION(g->ram + RAM_SIZE, GUARD);
	for (unsigned i = 0; i < GUARD; i++) {
		assert_int_equal(g->block[i], GUARD_BYTE);
		assert_int_equal(g->ram[RAM_SIZE + i], GUARD_BYTE);
	}
	free(g->block);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	guest_init(&e->g[0], MAC_A);
	guest_init(&e->g[1], MAC_B);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	guest_fini(&e->g[0]);
	guest_fini(&e->g[1]);
	free(e);
	return 0;
}

static uint32_t rd(struct guest *g, uint64_t off)
{
	struct mmio_access acc = { .size = 4, .write = false };

	assert_int_equal(virtio_mmio_handler(NULL, &acc, off, &g->net.dev), 0);
	return (uint32_t)acc.value;
}

static void wr(struct guest *g, uint64_t off, uint32_t val)
{
	struct mmio_access acc = { .size = 4, .write = true, .value = val };

	assert_int_equal(virtio_mmio_handler(NULL, &acc, off, &g->net.dev), 0);
}

static void bring_up(struct guest *g)
{
	memset(g->dq, 0, sizeof(g->dq));
	wr(g, VIRTIO_MMIO_STATUS, 0);
	wr(g, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(g, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(g, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)FEATURES);
	wr(g, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(g, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(FEATURES >> 32));
	wr(g, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					  VIRTIO_STATUS_FEATURES_OK);
	assert_true(rd(g, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < 2; q++) {
		memset(hp(g, RINGS(q)), 0, 0x4000);
		wr(g, VIRTIO_MMIO_QUEUE_SEL, q);
		assert_int_equal(rd(g, VIRTIO_MMIO_QUEUE_NUM_MAX), VNET_QUEUE_SIZE);
		wr(g, VIRTIO_MMIO_QUEUE_NUM, NUM);
		wr(g, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)RINGS(q));
		wr(g, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)RINGS(q) + 0x1000);
		wr(g, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)RINGS(q) + 0x2000);
		wr(g, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(g, VIRTIO_MMIO_STATUS, rd(g, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

static void put_desc(uint8_t *table, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	uint8_t *d = table + 16 * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/*
 * Makes a chain of nseg buffers of lens[i] bytes available on queue q,
 * each writable or not by `writable`; readable ones get src's bytes in
 * order. Descriptors are used round-robin (the tests never have more than
 * NUM in flight). Returns the head.
 */
static uint16_t add_chain(struct guest *g, unsigned q, unsigned nseg, const uint32_t *lens,
			  const uint8_t *src, bool writable)
{
	struct drvq *d = &g->dq[q];
	uint16_t *avail = (uint16_t *)hp(g, RINGS(q) + 0x1000);
	uint16_t head = d->next_desc % NUM;
	size_t off = 0;

	for (unsigned s = 0; s < nseg; s++) {
		uint16_t i = (d->next_desc + s) % NUM, next = (d->next_desc + s + 1) % NUM;
		uint64_t addr = DATA(q, i);

		assert_true(lens[s] <= BUF);
		if (src)
			memcpy(hp(g, addr), src + off, lens[s]);
		put_desc(hp(g, RINGS(q)), i, addr, lens[s],
			 (writable ? VIRTQ_DESC_F_WRITE : 0) |
				 (s + 1 < nseg ? VIRTQ_DESC_F_NEXT : 0),
			 next);
		off += lens[s];
	}
	d->next_desc = (uint16_t)(d->next_desc + nseg);
	avail[2 + d->avail_idx % NUM] = head;
	__atomic_store_n(&avail[1], (uint16_t)(d->avail_idx + 1), __ATOMIC_RELEASE);
	d->avail_idx++;
	return head;
}

static bool reap(struct guest *g, unsigned q, uint16_t *head, uint32_t *len)
{
	struct drvq *d = &g->dq[q];
	uint8_t *used = hp(g, RINGS(q) + 0x2000);
	uint16_t idx = __atomic_load_n((uint16_t *)(used + 2), __ATOMIC_ACQUIRE);
	uint32_t id;

	if (idx == d->last_used)
		return false;
	memcpy(&id, used + 4 + 8 * (d->last_used % NUM), 4);
	memcpy(len, used + 8 + 8 * (d->last_used % NUM), 4);
	d->last_used++;
	*head = (uint16_t)id;
	return true;
}

/* A frame from src to dst of len bytes; payload byte i is seed + i. */
static void make_frame(uint8_t *f, size_t len, const uint8_t dst[6], const uint8_t src[6],
		       uint8_t seed)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i);
}

/* Sends hdr + frame as the guest: header in its own descriptor or not. */
static uint16_t send_frame(struct guest *g, const uint8_t *frame, size_t len, bool split,
			   uint8_t gso)
{
	uint8_t buf[VNET_HDR_LEN + 2 * BUF] = { 0 };
	uint32_t lens[3];
	unsigned n = 0;
	size_t total = VNET_HDR_LEN + len;

	buf[1] = gso;
	memcpy(buf + VNET_HDR_LEN, frame, len);
	if (split) {
		lens[n++] = VNET_HDR_LEN;
		total -= VNET_HDR_LEN;
	}
	while (total) {
		lens[n] = total > BUF ? BUF : (uint32_t)total;
		total -= lens[n++];
	}
	uint16_t h = add_chain(g, TX, n, lens, buf, false);
	wr(g, VIRTIO_MMIO_QUEUE_NOTIFY, TX);
	return h;
}

static void test_probe(void **state)
{
	struct env *e = *state;
	struct guest *g = &e->g[0];
	struct guest_mem gm = { .ptr = sim_ptr, .ctx = g };
	struct virtio_net other;
	uint64_t v;

	assert_int_equal(rd(g, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	wr(g, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t lo = rd(g, VIRTIO_MMIO_DEVICE_FEATURES);
	assert_true(lo & (1u << VIRTIO_NET_F_MAC));
	assert_true(lo & (1u << VIRTIO_NET_F_STATUS));
	assert_false(lo & 1u); /* no checksum offload */
	wr(g, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_true(rd(g, VIRTIO_MMIO_DEVICE_FEATURES) & 1); /* VERSION_1 */
	for (unsigned i = 0; i < 6; i++) {
		assert_int_equal(virtio_mmio_access(&g->net.dev, false, 0x100 + i, 1, &v), 0);
		assert_int_equal(v, MAC_A[i]);
	}
	assert_int_equal(virtio_mmio_access(&g->net.dev, false, 0x106, 2, &v), 0);
	assert_int_equal(v, VIRTIO_NET_S_LINK_UP);
	assert_int_equal(virtio_mmio_access(&g->net.dev, false, 0x104, 4, &v), 0);
	assert_int_equal(v, 0x0a00 | (VIRTIO_NET_S_LINK_UP << 16));
	v = 0xff; /* the MAC is not the driver's to change */
	virtio_mmio_access(&g->net.dev, true, 0x100, 1, &v);
	assert_int_equal(virtio_mmio_access(&g->net.dev, false, 0x100, 1, &v), 0);
	assert_int_equal(v, MAC_A[0]);
	/* Past the config space: reads 0. */
	assert_int_equal(virtio_mmio_access(&g->net.dev, false, 0x108, 4, &v), 0);
	assert_int_equal(v, 0);

	/* MACs a device may not have. */
	assert_int_equal(virtio_net_init(&other, &gm, irq, g, (uint8_t[6]){ 0 }), -SHYPER_EINVAL);
	assert_int_equal(virtio_net_init(&other, &gm, irq, g, (uint8_t[6]){ 1, 0, 0x5e, 0, 0, 1 }),
			 -SHYPER_EINVAL);
	assert_true(vnet_mac_valid(MAC_B));
}

static void test_tx(void **state)
{
	struct env *e = *state;
	struct guest *g = &e->g[0];
	uint8_t f[VNET_MAX_FRAME + 1];
	uint16_t head, h;
	uint32_t len;

	bring_up(g);
	/* Before the driver kicks, nothing to do. */
	assert_false(virtio_net_tx_kicked(&g->net));
	make_frame(f, 60, MAC_B, MAC_A, 1);
	h = send_frame(g, f, 60, true, 0);
	assert_true(virtio_net_tx_kicked(&g->net));
	assert_int_equal(virtio_net_tx_poll(&g->net, record, g), 1);
	assert_false(virtio_net_tx_kicked(&g->net));
	assert_int_equal(g->sent, 1);
	assert_int_equal(g->sent_len, 60);
	assert_memory_equal(g->sent_frame, f, 60);
	assert_true(reap(g, TX, &head, &len));
	assert_int_equal(head, h);
	assert_int_equal(len, 0);
	assert_true(g->irqs > 0);

	/* Header and frame in one buffer; the largest frame; a frame across
	 * two buffers. */
	make_frame(f, VNET_MAX_FRAME, MAC_B, MAC_A, 7);
	send_frame(g, f, 100, false, 0);
	send_frame(g, f, VNET_MAX_FRAME, false, 0);
	send_frame(g, f, VNET_MAX_FRAME, true, 0);
	assert_int_equal(virtio_net_tx_poll(&g->net, record, g), 3);
	assert_int_equal(g->sent_len, VNET_MAX_FRAME);
	assert_memory_equal(g->sent_frame, f, VNET_MAX_FRAME);
	for (int i = 0; i < 3; i++)
		assert_true(reap(g, TX, &head, &len));
	assert_int_equal(g->net.stats.tx_packets, 4);
	assert_int_equal(g->net.stats.tx_bytes, 60 + 100 + 2 * VNET_MAX_FRAME);
	assert_int_equal(g->net.stats.tx_drops, 0);
}

static void test_tx_bad_frames(void **state)
{
	struct env *e = *state;
	struct guest *g = &e->g[0];
	uint8_t f[VNET_MAX_FRAME + 1];
	uint32_t lens[1] = { 8 }, len;
	uint16_t head;

	bring_up(g);
	make_frame(f, sizeof(f), MAC_B, MAC_A, 3);
	send_frame(g, f, VNET_MAX_FRAME + 1, false, 0); /* too long */
	send_frame(g, f, 13, false, 0);			/* no Ethernet header */
	send_frame(g, f, 200, false, 1);		/* TSO never offered */
	add_chain(g, TX, 1, lens, f, false);		/* not even a header */
	wr(g, VIRTIO_MMIO_QUEUE_NOTIFY, TX);
	send_frame(g, f, 64, true, 0); /* and a good one still goes */
	assert_int_equal(virtio_net_tx_poll(&g->net, record, g), 1);
	assert_int_equal(g->sent, 1);
	assert_int_equal(g->sent_len, 64);
	for (int i = 0; i < 5; i++)
		assert_true(reap(g, TX, &head, &len));
	assert_false(reap(g, TX, &head, &len));
	assert_int_equal(g->net.stats.tx_drops, 4);
	assert_int_equal(g->net.stats.tx_packets, 1);
	/* The queue is fine: the device did not need a reset. */
	assert_false(rd(g, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

static void check_hdr(const uint8_t *h)
{
	static const uint8_t want[VNET_HDR_LEN] = { [10] = 1 }; /* num_buffers 1 */

	assert_memory_equal(h, want, VNET_HDR_LEN);
}

static void test_rx(void **state)
{
	struct env *e = *state;
	struct guest *g = &e->g[0];
	uint8_t f[VNET_MAX_FRAME];
	uint32_t one[1] = { VNET_HDR_LEN + VNET_MAX_FRAME }, two[2] = { VNET_HDR_LEN, 1600 };
	uint32_t len;
	uint16_t head, h1, h2;
	unsigned irqs;

	make_frame(f, sizeof(f), MAC_A, MAC_B, 9);
	/* No driver yet: dropped. */
	assert_false(virtio_net_rx_deliver(&g->net, f, 100));
	bring_up(g);
	/* No buffer: dropped. */
	assert_false(virtio_net_rx_deliver(&g->net, f, 100));
	assert_int_equal(g->net.stats.rx_drops, 2);

	memset(hp(g, DATA(RX, 0)), 0xee, BUF * 4);
	h1 = add_chain(g, RX, 1, one, NULL, true);
	h2 = add_chain(g, RX, 2, two, NULL, true);
	irqs = g->irqs;
	assert_true(virtio_net_rx_deliver(&g->net, f, 100));
	assert_true(g->irqs > irqs);
	assert_true(reap(g, RX, &head, &len));
	assert_int_equal(head, h1);
	assert_int_equal(len, VNET_HDR_LEN + 100);
	check_hdr(hp(g, DATA(RX, h1)));
	assert_memory_equal(hp(g, DATA(RX, h1)) + VNET_HDR_LEN, f, 100);
	assert_int_equal(hp(g, DATA(RX, h1))[VNET_HDR_LEN + 100], 0xee);

	/* Header in one buffer, the frame in the next. */
	assert_true(virtio_net_rx_deliver(&g->net, f, VNET_MAX_FRAME));
	assert_true(reap(g, RX, &head, &len));
	assert_int_equal(head, h2);
	assert_int_equal(len, VNET_HDR_LEN + VNET_MAX_FRAME);
	check_hdr(hp(g, DATA(RX, h2)));
	assert_memory_equal(hp(g, DATA(RX, h2 + 1)), f, VNET_MAX_FRAME);

	/* Frames no guest may get. */
	add_chain(g, RX, 1, one, NULL, true);
	assert_false(virtio_net_rx_deliver(&g->net, f, VNET_MAX_FRAME + 1));
	assert_false(virtio_net_rx_deliver(&g->net, f, 10));
	assert_false(reap(g, RX, &head, &len)); /* the buffer is still there */
	assert_int_equal(g->net.stats.rx_packets, 2);
	assert_int_equal(g->net.stats.rx_bytes, 100 + VNET_MAX_FRAME);
	assert_int_equal(g->net.stats.rx_drops, 4);
}

static void test_rx_bad_buffers(void **state)
{
	struct env *e = *state;
	struct guest *g = &e->g[0];
	uint8_t f[200];
	uint32_t tiny[1] = { 50 }, hdr_only[1] = { VNET_HDR_LEN }, ok[1] = { 300 };
	uint32_t len;
	uint16_t head, h;

	bring_up(g);
	make_frame(f, sizeof(f), MAC_A, MAC_B, 5);
	memset(hp(g, DATA(RX, 0)), 0xee, BUF * 4);
	/* Too small for header + frame: back empty, nothing written. */
	h = add_chain(g, RX, 1, tiny, NULL, true);
	assert_false(virtio_net_rx_deliver(&g->net, f, sizeof(f)));
	assert_true(reap(g, RX, &head, &len));
	assert_int_equal(head, h);
	assert_int_equal(len, 0);
	for (unsigned i = 0; i < BUF; i++)
		assert_int_equal(hp(g, DATA(RX, h))[i], 0xee);
	/* Room for the header only. */
	h = add_chain(g, RX, 1, hdr_only, NULL, true);
	assert_false(virtio_net_rx_deliver(&g->net, f, sizeof(f)));
	assert_true(reap(g, RX, &head, &len));
	assert_int_equal(len, 0);
	assert_int_equal(hp(g, DATA(RX, h))[0], 0xee);
	/* Read-only: the device must not write it. */
	h = add_chain(g, RX, 1, ok, NULL, false);
	assert_false(virtio_net_rx_deliver(&g->net, f, sizeof(f)));
	assert_true(reap(g, RX, &head, &len));
	assert_int_equal(len, 0);
	for (unsigned i = 0; i < 300; i++)
		assert_int_equal(hp(g, DATA(RX, h))[i], 0xee);
	/* A good buffer after them works. */
	add_chain(g, RX, 1, ok, NULL, true);
	assert_true(virtio_net_rx_deliver(&g->net, f, sizeof(f)));
	assert_int_equal(g->net.stats.rx_drops, 3);
	assert_int_equal(g->net.stats.rx_packets, 1);
	assert_false(rd(g, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

static void fwd(struct virtio_net *net, const uint8_t *frame, size_t len, void *ctx)
{
	struct env *e = ctx;
	struct vswitch_port *from = net == &e->g[0].net ? &e->g[0].port : &e->g[1].port;

	vswitch_forward(&e->sw, from, frame, len);
}

static void test_two_guests_on_switch(void **state)
{
	struct env *e = *state;
	struct guest *a = &e->g[0], *b = &e->g[1];
	uint32_t big[1] = { VNET_HDR_LEN + VNET_MAX_FRAME }, len;
	uint8_t f[VNET_MAX_FRAME];
	uint16_t head;

	bring_up(a);
	bring_up(b);
	assert_int_equal(vswitch_attach(&e->sw, &a->port), 0);
	assert_int_equal(vswitch_attach(&e->sw, &b->port), 0);
	/* b has one receive buffer; a sends three frames to it, one
	 * broadcast: one arrives, the others are dropped, a never waits. */
	add_chain(b, RX, 1, big, NULL, true);
	add_chain(a, RX, 1, big, NULL, true);
	make_frame(f, 1000, MAC_B, MAC_A, 11);
	send_frame(a, f, 1000, true, 0);
	send_frame(a, f, 1000, true, 0);
	memset(f, 0xff, 6);
	send_frame(a, f, 1000, true, 0);
	assert_int_equal(virtio_net_tx_poll(&a->net, fwd, e), 3);
	for (int i = 0; i < 3; i++)
		assert_true(reap(a, TX, &head, &len));
	assert_true(reap(b, RX, &head, &len));
	assert_int_equal(len, VNET_HDR_LEN + 1000);
	assert_memory_equal(hp(b, DATA(RX, head)) + VNET_HDR_LEN, MAC_B, 6);
	assert_false(reap(b, RX, &head, &len));
	assert_false(reap(a, RX, &head, &len)); /* the broadcast is not echoed */
	assert_int_equal(a->net.stats.tx_packets, 3);
	assert_int_equal(a->net.stats.tx_bytes, 3000);
	assert_int_equal(b->net.stats.rx_packets, 1);
	assert_int_equal(b->net.stats.rx_drops, 2);
	assert_int_equal(a->net.stats.rx_packets + a->net.stats.rx_drops, 0);

	/* And back: b answers a. */
	make_frame(f, 80, MAC_A, MAC_B, 12);
	send_frame(b, f, 80, false, 0);
	assert_int_equal(virtio_net_tx_poll(&b->net, fwd, e), 1);
	assert_true(reap(a, RX, &head, &len));
	assert_int_equal(len, VNET_HDR_LEN + 80);
	assert_memory_equal(hp(a, DATA(RX, head)) + VNET_HDR_LEN, f, 80);
	vswitch_detach(&e->sw, &a->port);
	vswitch_detach(&e->sw, &b->port);
}

/* Many rounds over the same descriptors: every frame exactly once. */
static void test_tx_many(void **state)
{
	struct env *e = *state;
	struct guest *g = &e->g[0];
	uint8_t f[64];
	uint32_t len;
	uint16_t head;
	unsigned total = 0;

	bring_up(g);
	make_frame(f, sizeof(f), MAC_B, MAC_A, 2);
	for (unsigned round = 0; round < VNET_TX_BUDGET / NUM + 2; round++) {
		for (unsigned i = 0; i < NUM / 2; i++)
			send_frame(g, f, sizeof(f), true, 0);
		total += virtio_net_tx_poll(&g->net, record, g);
		while (reap(g, TX, &head, &len))
			;
	}
	assert_int_equal(total, (VNET_TX_BUDGET / NUM + 2) * (NUM / 2));
	assert_int_equal(g->net.stats.tx_packets, total);
}

/* Live update: this image's pointers again; frames go on both ways. */
static void test_rebind(void **state)
{
	struct env *e = *state;
	struct guest *g = &e->g[0];
	struct guest_mem gm = { .ptr = sim_ptr, .ctx = g };
	uint32_t one[1] = { VNET_HDR_LEN + VNET_MAX_FRAME }, len;
	uint8_t f[60];
	uint16_t head;
	unsigned irqs;

	bring_up(g);
	add_chain(g, RX, 1, one, NULL, true);
	g->net.dev.ops = (const struct virtio_dev_ops *)1;
	g->net.dev.mem.ptr = (void *(*)(void *, uint64_t, uint64_t))1;
	g->net.dev.irq = (virtio_irq_fn)1;

	virtio_net_rebind(&g->net, &gm, irq, g);
	irqs = g->irqs;
	make_frame(f, sizeof(f), MAC_B, MAC_A, 3);
	send_frame(g, f, sizeof(f), true, 0);
	assert_int_equal(virtio_net_tx_poll(&g->net, record, g), 1);
	assert_memory_equal(g->sent_frame, f, sizeof(f));
	assert_true(reap(g, TX, &head, &len));
	assert_true(g->irqs > irqs);
	wr(g, VIRTIO_MMIO_INTERRUPT_ACK, rd(g, VIRTIO_MMIO_INTERRUPT_STATUS));
	irqs = g->irqs;
	make_frame(f, sizeof(f), MAC_A, MAC_B, 5);
	assert_true(virtio_net_rx_deliver(&g->net, f, sizeof(f)));
	assert_true(g->irqs > irqs);
	assert_true(reap(g, RX, &head, &len));
	assert_int_equal(len, VNET_HDR_LEN + sizeof(f));
	assert_memory_equal(hp(g, DATA(RX, 0)) + VNET_HDR_LEN, f, sizeof(f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_bad_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_bad_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_guests_on_switch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebind, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
