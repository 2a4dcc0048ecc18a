/*
 * The virtio-console device model (hv/dev/virtio_console.c) with a
 * simulated guest driver working its two queues through the virtio-mmio
 * registers, over a simulated guest RAM with poisoned guard zones: probe,
 * transmit and receive, flow control both ways (a transmit chain larger
 * than the device's ring is taken piecemeal and given back only when all
 * of it is in; receive bytes wait in the ring for buffers), a sustained
 * 1 MiB stream each way with random chain shapes, random reads and skipped
 * notifications (every byte exactly once, in order), with and without
 * EVENT_IDX and indirect descriptors; a broken transmit chain (the device
 * needs a reset, bytes already accepted survive it); a live update's
 * rebind, after which the bytes in the rings and the queues carry on.
 *
 * unit-sources: hv/dev/virtio_console.c hv/dev/virtio_mmio.c hv/dev/virtq.c
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
#include <dev/virtio_console.h>
#include <shyper/errno.h>
#include <shyper/virtio.h>

#define RAM_BASE 0x40000000ULL
#define RAM_SIZE 0x60000ULL
#define GUARD 0x1000
#define GUARD_BYTE 0xc3
#define NUM 16		   /* queue size the driver picks */
#define BUF 0x1000	   /* bytes per descriptor's buffer */
#define RINGS(q) (RAM_BASE + 0x4000 * (q))	 /* desc, avail, used */
#define IND(q) (RAM_BASE + 0x8000 + 0x1000 * (q)) /* indirect tables */
#define DATA(q, d) (RAM_BASE + 0x10000 + 0x20000 * (q) + BUF * (d))
#define TX VIRTIO_CONSOLE_TRANSMITQ
#define RX VIRTIO_CONSOLE_RECEIVEQ

void log_msg(enum log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

/* The guest's view of one queue. */
struct drvq {
	unsigned q;
	uint16_t avail_idx, last_used;
	bool busy[NUM];
	uint16_t nr_desc[NUM]; /* descriptors of the chain at head i */
	uint16_t descs[NUM][4];
	uint32_t len[NUM];
};

struct env {
	uint8_t *block, *ram;
	struct virtio_console con;
	struct drvq dq[2];
	unsigned irqs;
	bool line;
	bool indirect;
	unsigned tx_notes;
	uint64_t rng;
};

static void *sim_ptr(void *ctx, uint64_t ipa, uint64_t len)
{
	struct env *e = ctx;

	if (ipa < RAM_BASE || len > RAM_SIZE || ipa - RAM_BASE > RAM_SIZE - len)
		return NULL;
	return e->ram + (ipa - RAM_BASE);
}

static uint8_t *hp(struct env *e, uint64_t ipa)
{
	return e->ram + (ipa - RAM_BASE);
}

static void irq(void *ctx, bool level)
{
	struct env *e = ctx;

	e->line = level;
	e->irqs += level;
}

static void tx_note(struct virtio_console *con, void *ctx)
{
	(void)con;
	((struct env *)ctx)->tx_notes++;
}

static uint32_t rnd(struct env *e, uint32_t n)
{
	e->rng ^= e->rng << 13;
	e->rng ^= e->rng >> 7;
	e->rng ^= e->rng << 17;
	return (uint32_t)(e->rng % n);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct guest_mem gm = { 0 };

	assert_non_null(e);
	e->block = aligned_alloc(4096, RAM_SIZE + 2 * GUARD);
	assert_non_null(e->block);
	memset(e->block, GUARD_BYTE, RAM_SIZE + 2 * GUARD);
	e->ram = e->block + GUARD;
	memset(e->ram, 0, RAM_SIZE);
	ASAN_POISON_MEMORY_REGION(e->block, GUARD);
	ASAN_POISON_MEMORY_REGION(e->ram + RAM_SIZE, GUARD);
	gm.ptr = sim_ptr;
	gm.ctx = e;
	assert_int_equal(virtio_console_init(&e->con, &gm, irq, e), 0);
	e->con.tx_notify = tx_note;
	e->con.tx_notify_ctx = e;
	e->rng = 0x9e3779b97f4a7c15ULL;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	ASAN_UNPOISON_MEMORY_REGION(e->block, GUARD);
	ASAN_UNPOISON_MEMORY_REGION(e->ram + RAM_SIZE, GUARD);
	for (unsigned i = 0; i < GUARD; i++) {
		assert_int_equal(e->block[i], GUARD_BYTE);
		assert_int_equal(e->ram[RAM_SIZE + i], GUARD_BYTE);
	}
	free(e->block);
	free(e);
	return 0;
}

static uint32_t rd(struct env *e, uint64_t off)
{
	struct mmio_access acc = { .size = 4, .write = false };

	assert_int_equal(virtio_mmio_handler(NULL, &acc, off, &e->con.dev), 0);
	return (uint32_t)acc.value;
}

static void wr(struct env *e, uint64_t off, uint32_t val)
{
	struct mmio_access acc = { .size = 4, .write = true, .value = val };

	assert_int_equal(virtio_mmio_handler(NULL, &acc, off, &e->con.dev), 0);
}

static void bring_up(struct env *e, uint64_t features)
{
	memset(e->dq, 0, sizeof(e->dq));
	wr(e, VIRTIO_MMIO_STATUS, 0);
	wr(e, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(e, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(e, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(e, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(e, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(e, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr(e, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					  VIRTIO_STATUS_FEATURES_OK);
	assert_true(rd(e, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < 2; q++) {
		memset(hp(e, RINGS(q)), 0, 0x4000);
		e->dq[q].q = q;
		wr(e, VIRTIO_MMIO_QUEUE_SEL, q);
		assert_int_equal(rd(e, VIRTIO_MMIO_QUEUE_NUM_MAX), VCON_QUEUE_SIZE);
		wr(e, VIRTIO_MMIO_QUEUE_NUM, NUM);
		wr(e, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)RINGS(q));
		wr(e, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
		wr(e, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)RINGS(q) + 0x1000);
		wr(e, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
		wr(e, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)RINGS(q) + 0x2000);
		wr(e, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
		wr(e, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(e, VIRTIO_MMIO_STATUS, rd(e, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
	e->indirect = features & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
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

/* Number of free descriptors of the driver's queue. */
static unsigned nr_free(struct drvq *d)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NUM; i++)
		n += !d->busy[i];
	return n;
}

/*
 * Makes a chain of `nseg` buffers available, each of lens[i] bytes (data for
 * a readable one from src). With indirect descriptors: one table per head.
 * Returns the head, or -1 if the driver lacks descriptors.
 */
static int add_chain(struct env *e, struct drvq *d, unsigned nseg,
		     const uint32_t *lens, const uint8_t *src, bool writable)
{
	uint8_t *table = hp(e, RINGS(d->q));
	uint16_t *avail = (uint16_t *)hp(e, RINGS(d->q) + 0x1000);
	uint16_t ids[4];
	unsigned got = 0, need = e->indirect ? 1 : nseg;
	uint16_t wflag = writable ? VIRTQ_DESC_F_WRITE : 0;

	for (unsigned i = 0; i < NUM && got < need; i++)
		if (!d->busy[i])
			ids[got++] = (uint16_t)i;
	if (got < need)
		return -1;
	uint16_t head = ids[0];
	uint32_t total = 0;

	/* Buffers: descriptor i's data area, segment s at s * 1 KiB in it
	 * for indirect chains (one area per head), else its own area. */
	for (unsigned s = 0; s < nseg; s++) {
		uint64_t addr = e->indirect ? DATA(d->q, head) + 0x400 * s :
					      DATA(d->q, ids[s]);
		uint16_t fl = wflag | (s + 1 < nseg ? VIRTQ_DESC_F_NEXT : 0);

		if (src)
			memcpy(hp(e, addr), src + total, lens[s]);
		if (e->indirect)
			put_desc(hp(e, IND(d->q)) + 0x100 * head, s, addr, lens[s], fl,
				 (uint16_t)(s + 1));
		else
			put_desc(table, ids[s], addr, lens[s], fl,
				 s + 1 < nseg ? ids[s + 1] : 0);
		total += lens[s];
	}
	if (e->indirect)
		put_desc(table, head, IND(d->q) + 0x100 * head, 16 * nseg,
			 VIRTQ_DESC_F_INDIRECT, 0);
	for (unsigned i = 0; i < need; i++) {
		d->busy[ids[i]] = true;
		d->descs[head][i] = ids[i];
	}
	d->nr_desc[head] = (uint16_t)need;
	d->len[head] = total;
	avail[2 + (d->avail_idx % NUM)] = head;
	__atomic_store_n(&avail[1], (uint16_t)(d->avail_idx + 1), __ATOMIC_RELEASE);
	d->avail_idx++;
	return head;
}

static void kick(struct env *e, unsigned q)
{
	wr(e, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

/* Takes one used element back: its head and written length; false if none. */
static bool reap(struct env *e, struct drvq *d, uint16_t *head, uint32_t *len)
{
	uint8_t *used = hp(e, RINGS(d->q) + 0x2000);
	uint16_t idx = __atomic_load_n((uint16_t *)(used + 2), __ATOMIC_ACQUIRE);
	uint32_t id;

	if (idx == d->last_used)
		return false;
	memcpy(&id, used + 4 + 8 * (d->last_used % NUM), 4);
	memcpy(len, used + 8 + 8 * (d->last_used % NUM), 4);
	d->last_used++;
	assert_true(id < NUM);
	assert_true(d->busy[id]);
	assert_true(d->nr_desc[id] > 0);
	for (unsigned i = 0; i < d->nr_desc[id]; i++)
		d->busy[d->descs[id][i]] = false;
	d->nr_desc[id] = 0;
	*head = (uint16_t)id;
	return true;
}

static void test_probe(void **state)
{
	struct env *e = *state;
	uint64_t v;

	assert_int_equal(rd(e, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
	wr(e, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t lo = rd(e, VIRTIO_MMIO_DEVICE_FEATURES);
	assert_int_equal(lo & 7, 0); /* no size, multiport, emerg_write */
	wr(e, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_true(rd(e, VIRTIO_MMIO_DEVICE_FEATURES) & 1); /* VERSION_1 */
	for (unsigned off = 0; off < VIRTIO_CONSOLE_CONFIG_SIZE; off += 2) {
		assert_int_equal(virtio_mmio_access(&e->con.dev, false, 0x100 + off, 2, &v), 0);
		assert_int_equal(v, 0);
	}
	/* Nothing can move before the driver is there. */
	assert_int_equal(virtio_console_rx_push(&e->con, "abc", 3), 3);
	assert_int_equal(virtio_console_tx_pop(&e->con, &v, 8), 0);
}

static void test_tx_simple(void **state)
{
	struct env *e = *state;
	char out[16];
	uint32_t len = 5, wlen;
	uint16_t head;

	bring_up(e, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	int h = add_chain(e, &e->dq[TX], 1, &len, (const uint8_t *)"hello", false);
	kick(e, TX);
	assert_int_equal(e->tx_notes, 1);
	assert_int_equal(virtio_console_tx_pending(&e->con), 5);
	/* All of it is in the ring: the chain is back already. */
	assert_true(reap(e, &e->dq[TX], &head, &wlen));
	assert_int_equal(head, h);
	assert_int_equal(wlen, 0);
	/* Taken during the driver's own notify: not signalled (it sees the
	 * used ring when its notify returns; Linux's hvc even polls it). */
	assert_false(e->line);
	assert_int_equal(virtio_console_tx_pop(&e->con, out, 3), 3);
	assert_memory_equal(out, "hel", 3);
	assert_int_equal(virtio_console_tx_pop(&e->con, out, sizeof(out)), 2);
	assert_memory_equal(out, "lo", 2);
	assert_int_equal(virtio_console_tx_pop(&e->con, out, sizeof(out)), 0);
	assert_int_equal(e->con.tx_bytes, 5);
}

static void test_tx_flow_control(void **state)
{
	struct env *e = *state;
	static uint8_t in[3 * BUF], out[3 * BUF + 16];
	uint32_t lens[3] = { BUF, BUF, 1808 };
	uint32_t total = BUF * 2 + 1808, got = 0, wlen;
	uint16_t head;

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + i / 251);
	bring_up(e, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	add_chain(e, &e->dq[TX], 3, lens, in, false);
	kick(e, TX);
	/* A full ring, and the chain still the guest's... */
	assert_int_equal(virtio_console_tx_pending(&e->con), VCON_RING_SIZE);
	assert_false(reap(e, &e->dq[TX], &head, &wlen));
	assert_int_equal(e->con.tx_off, VCON_RING_SIZE);
	/* ...more kicks change nothing... */
	kick(e, TX);
	assert_int_equal(virtio_console_tx_pending(&e->con), VCON_RING_SIZE);
	/* ...reading frees room, which fills from the rest of the chain. */
	got += (uint32_t)virtio_console_tx_pop(&e->con, out, 1000);
	assert_int_equal(virtio_console_tx_pending(&e->con), VCON_RING_SIZE);
	assert_false(reap(e, &e->dq[TX], &head, &wlen));
	while (got < total) {
		size_t n = virtio_console_tx_pop(&e->con, out + got, 1500);

		assert_true(n > 0);
		got += (uint32_t)n;
	}
	assert_int_equal(got, total);
	assert_memory_equal(out, in, total);
	assert_true(reap(e, &e->dq[TX], &head, &wlen));
	assert_int_equal(e->con.tx_off, 0);
	assert_int_equal(virtio_console_tx_pop(&e->con, out, sizeof(out)), 0);
}

static void test_rx_waits_for_buffers(void **state)
{
	struct env *e = *state;
	static uint8_t in[6000];
	uint32_t lens[1] = { 3000 }, wlen;
	uint16_t head;
	int h1, h2;

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i ^ (i >> 8));
	bring_up(e, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	/* No buffers: the ring takes what fits, the caller keeps the rest. */
	assert_int_equal(virtio_console_rx_push(&e->con, in, sizeof(in)), VCON_RING_SIZE);
	assert_int_equal(virtio_console_rx_room(&e->con), 0);
	assert_int_equal(virtio_console_rx_push(&e->con, in, 1), 0);
	h1 = add_chain(e, &e->dq[RX], 1, lens, NULL, true);
	h2 = add_chain(e, &e->dq[RX], 1, lens, NULL, true);
	kick(e, RX);
	assert_true(reap(e, &e->dq[RX], &head, &wlen));
	assert_int_equal(head, h1);
	assert_int_equal(wlen, 3000);
	assert_memory_equal(hp(e, DATA(RX, h1)), in, 3000);
	assert_true(reap(e, &e->dq[RX], &head, &wlen));
	assert_int_equal(head, h2);
	assert_int_equal(wlen, VCON_RING_SIZE - 3000);
	assert_memory_equal(hp(e, DATA(RX, h2)), in + 3000, wlen);
	assert_true(e->line);
	/* The rest, into a new buffer straight away. */
	h1 = add_chain(e, &e->dq[RX], 1, lens, NULL, true);
	assert_int_equal(virtio_console_rx_push(&e->con, in + VCON_RING_SIZE,
						sizeof(in) - VCON_RING_SIZE),
			 sizeof(in) - VCON_RING_SIZE);
	assert_true(reap(e, &e->dq[RX], &head, &wlen));
	assert_int_equal(wlen, sizeof(in) - VCON_RING_SIZE);
	assert_memory_equal(hp(e, DATA(RX, h1)), in + VCON_RING_SIZE, wlen);
	assert_int_equal(e->con.rx_bytes, sizeof(in));
}

#define STREAM (1u << 20)

/* 1 MiB each way, random shapes; every byte exactly once, in order. */
static void stream(struct env *e, uint64_t features)
{
	uint8_t *src = malloc(STREAM), *dst = malloc(STREAM), *rsrc = malloc(STREAM),
		*rdst = malloc(STREAM);
	uint32_t sent = 0, got = 0, rsent = 0, rgot = 0;
	unsigned rounds = 0;
	uint16_t head;
	uint32_t wlen;

	assert_non_null(src);
	assert_non_null(dst);
	assert_non_null(rsrc);
	assert_non_null(rdst);
	for (uint32_t i = 0; i < STREAM; i++) {
		src[i] = (uint8_t)rnd(e, 256);
		rsrc[i] = (uint8_t)rnd(e, 256);
	}
	bring_up(e, features);
	while (got < STREAM || rgot < STREAM) {
		assert_true(++rounds < 200000);
		/* Guest transmit: reap, then queue a few chains. */
		while (reap(e, &e->dq[TX], &head, &wlen))
			assert_int_equal(wlen, 0);
		for (unsigned k = rnd(e, 4); k && sent < STREAM; k--) {
			uint32_t lens[3], nseg = 1 + rnd(e, 3), tot = 0;
			uint32_t seg_max = e->indirect ? 0x400 : BUF;

			for (unsigned s = 0; s < nseg; s++) {
				lens[s] = 1 + rnd(e, seg_max);
				if (lens[s] > STREAM - sent - tot)
					lens[s] = STREAM - sent - tot;
				tot += lens[s];
				if (sent + tot == STREAM) {
					nseg = s + 1;
					break;
				}
			}
			if (add_chain(e, &e->dq[TX], nseg, lens, src + sent, false) < 0)
				break;
			sent += tot;
		}
		if (rnd(e, 4))
			kick(e, TX); /* and sometimes forgets to */
		/* Host reads at its own pace. */
		uint32_t want = rnd(e, 8192);

		if (want > STREAM - got)
			want = STREAM - got;
		got += (uint32_t)virtio_console_tx_pop(&e->con, dst + got, want);

		/* Host writes at its own pace. */
		if (rsent < STREAM) {
			uint32_t n = 1 + rnd(e, 6000);

			if (n > STREAM - rsent)
				n = STREAM - rsent;
			rsent += (uint32_t)virtio_console_rx_push(&e->con, rsrc + rsent, n);
		}
		/* Guest receive: reap, copy out, repost. */
		while (reap(e, &e->dq[RX], &head, &wlen)) {
			assert_true(wlen <= e->dq[RX].len[head]);
			assert_true(rgot + wlen <= rsent);
			if (e->indirect) {
				for (uint32_t off = 0; off < wlen; off += 0x400)
					memcpy(rdst + rgot + off,
					       hp(e, DATA(RX, head) + off),
					       wlen - off < 0x400 ? wlen - off : 0x400);
			} else {
				memcpy(rdst + rgot, hp(e, DATA(RX, head)), wlen);
			}
			rgot += wlen;
		}
		while (nr_free(&e->dq[RX]) && rnd(e, 3)) {
			uint32_t len = 1 + rnd(e, e->indirect ? 0x400 : BUF);

			if (add_chain(e, &e->dq[RX], 1, &len, NULL, true) < 0)
				break;
		}
		if (rnd(e, 4))
			kick(e, RX);
		/* Never more in flight than was sent. */
		assert_true(got <= sent);
		/* The device never needs a reset on a well-behaved driver. */
		assert_false(e->con.dev.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	}
	assert_int_equal(got, STREAM);
	assert_int_equal(rgot, STREAM);
	assert_memory_equal(dst, src, STREAM);
	assert_memory_equal(rdst, rsrc, STREAM);
	assert_int_equal(e->con.tx_bytes, STREAM);
	assert_int_equal(e->con.rx_bytes, STREAM);
	assert_int_equal(virtio_console_tx_pending(&e->con), 0);
	free(src);
	free(dst);
	free(rsrc);
	free(rdst);
}

static void test_stream_plain(void **state)
{
	stream(*state, VIRTIO_BIT(VIRTIO_F_VERSION_1));
}

static void test_stream_event_idx_indirect(void **state)
{
	stream(*state, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
			       VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
}

static void test_broken_chain_and_reset(void **state)
{
	struct env *e = *state;
	char out[16];
	uint32_t len = 4;

	bring_up(e, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	add_chain(e, &e->dq[TX], 1, &len, (const uint8_t *)"good", false);
	kick(e, TX);
	/* Then a chain pointing past the guest's RAM. */
	int h = add_chain(e, &e->dq[TX], 1, &len, (const uint8_t *)"evil", false);
	put_desc(hp(e, RINGS(TX)), h, RAM_BASE + RAM_SIZE - 2, 4, 0, 0);
	kick(e, TX);
	assert_true(rd(e, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(rd(e, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG,
			 VIRTIO_MMIO_INT_CONFIG);
	/* Receive stops too; the host side keeps working on its rings. */
	assert_int_equal(virtio_console_rx_push(&e->con, "x", 1), 1);
	/* The driver resets; bytes accepted before are still there. */
	bring_up(e, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	assert_false(rd(e, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(virtio_console_tx_pop(&e->con, out, sizeof(out)), 4);
	assert_memory_equal(out, "good", 4);
	add_chain(e, &e->dq[TX], 1, &len, (const uint8_t *)"more", false);
	kick(e, TX);
	assert_int_equal(virtio_console_tx_pop(&e->con, out, sizeof(out)), 4);
	assert_memory_equal(out, "more", 4);
	/* The pending receive byte reaches the new driver's first buffer. */
	uint32_t blen = 8, wlen;
	uint16_t head;
	int r = add_chain(e, &e->dq[RX], 1, &blen, NULL, true);
	kick(e, RX);
	assert_true(reap(e, &e->dq[RX], &head, &wlen));
	assert_int_equal(head, r);
	assert_int_equal(wlen, 1);
	assert_int_equal(*hp(e, DATA(RX, r)), 'x');
}

static void test_reset_mid_chain(void **state)
{
	struct env *e = *state;
	static uint8_t in[2 * BUF];
	uint32_t lens[2] = { BUF, BUF };

	memset(in, 'a', sizeof(in));
	bring_up(e, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	add_chain(e, &e->dq[TX], 2, lens, in, false);
	kick(e, TX);
	assert_int_equal(e->con.tx_off, VCON_RING_SIZE);
	wr(e, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(e->con.tx_off, 0);
	assert_int_equal(virtio_console_tx_pending(&e->con), VCON_RING_SIZE);
	/* With the device reset, reading takes nothing more from the old queue. */
	static uint8_t out[2 * BUF];
	assert_int_equal(virtio_console_tx_pop(&e->con, out, sizeof(out)), VCON_RING_SIZE);
	assert_int_equal(virtio_console_tx_pop(&e->con, out, sizeof(out)), 0);
}

/* Live update: this image's pointers again; the bytes in the ring stay
 * and the queues carry on. */
static void test_rebind(void **state)
{
	struct env *e = *state;
	struct guest_mem gm = { .ptr = sim_ptr, .ctx = e };
	uint32_t len = 2;
	char out[8];

	bring_up(e, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	add_chain(e, &e->dq[TX], 1, &len, (const uint8_t *)"hi", false);
	kick(e, TX);
	e->con.dev.ops = (const struct virtio_dev_ops *)1;
	e->con.dev.mem.ptr = (void *(*)(void *, uint64_t, uint64_t))1;
	e->con.dev.irq = (virtio_irq_fn)1;
	e->con.tx_notify = (vcon_notify_fn)1;

	virtio_console_rebind(&e->con, &gm, irq, e);
	e->con.tx_notify = tx_note; /* the owner's part */
	assert_int_equal(virtio_console_tx_pending(&e->con), 2);
	len = 3;
	add_chain(e, &e->dq[TX], 1, &len, (const uint8_t *)"you", false);
	kick(e, TX);
	assert_int_equal(e->tx_notes, 2);
	assert_int_equal(virtio_console_tx_pop(&e->con, out, sizeof(out)), 5);
	assert_memory_equal(out, "hiyou", 5);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_probe),
		T(test_tx_simple),
		T(test_tx_flow_control),
		T(test_rx_waits_for_buffers),
		T(test_stream_plain),
		T(test_stream_event_idx_indirect),
		T(test_broken_chain_and_reset),
		T(test_reset_mid_chain),
		T(test_rebind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
