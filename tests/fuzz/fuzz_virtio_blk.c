/*
 * libFuzzer harness for the virtio-blk device model (hv/dev/virtio_blk.c)
 * over its virtio-mmio transport (hv/dev/virtio_mmio.c) and split virtqueue
 * (hv/dev/virtq.c), as tests/unit/test_virtio_blk.c drives them: a guest
 * RAM buffer, a driver bringing the device up through its registers, and
 * the harness in the backend's place (the MVM's daemon: fetch, complete).
 *
 * The input is the guest: its RAM (descriptor table, rings, headers, data;
 * the queue's addresses and size) and a sequence of what a driver and the
 * backend do: notify, raw register accesses of every width and offset,
 * resets, changes to its own RAM between steps (more chains made
 * available), interrupt acks; fetches and completions (right and wrong),
 * the backend coming and going. The RAM is its own heap block of exactly
 * its size and every buffer the backend passes is exactly its length, so
 * ASan reports any access outside them.
 *
 * Checked (beyond no crash or sanitizer report):
 *  - what the backend fetches is a request the device may pass on: IN or
 *    OUT of a non-zero multiple of 512 bytes, at most VBLK_DATA_MAX, inside
 *    the capacity; FLUSH with no data at sector 0; never while the backend
 *    is down; never more than VBLK_INFLIGHT in flight;
 *  - completions return what the contract says (EINVAL for a bad status
 *    or a read's wrong length, ENOENT for a request dropped meanwhile);
 *  - every used element the device publishes (seen through the guest
 *    memory's dirty hook, right after the device wrote it) names a
 *    descriptor inside the queue and comes after its status byte: 0 or 1
 *    byte written for a request ending in error, more only for GET_ID and
 *    a read completed OK, whose length is exactly the read's plus the
 *    status byte; a completion's element carries the completion's status;
 *  - the interrupt line follows the interrupt status;
 *  - bounded work: no step touches guest memory more than WORK_MAX times.
 *
 * Input layout (little endian):
 *   0      bit 0 backend up, bit 1 read-only, bit 2 EVENT_IDX, bit 3
 *          INDIRECT_DESC, bit 4 no bring-up (raw register accesses only)
 *   1      log2 of the queue size (mod 8: 1 .. 128)
 *   2-3    capacity in sectors
 *   4-5    descriptor table offset in RAM, 6-7 driver area, 8-9 device area
 *   10-11  L: bytes of steps that follow
 *   12-15  unused
 *   16-    L bytes of steps (opcode byte, low 3 bits, then operands), then
 *          the RAM contents (the rest of RAM is zero):
 *            0 notify      queue (opcode bit 3: queue 1, which is none)
 *            1 fetch       data buffer of 0, 512, 4096 or RAM bytes (bits 3-4)
 *            2 complete    which fetched one (bits 3-7), status (1 byte,
 *                          mod 4), read length: right, 512 more, none
 *                          (1 byte, mod 3)
 *            3 backend     up (bit 3), read-only (bit 4)
 *            4 reset       the driver resets the device and brings it up again
 *            5 register    offset (1 byte, times 2), width 1/2/4/8 (bits
 *                          3-4), write (bit 5), value (4 bytes)
 *            6 RAM write   bit 3: avail idx += 1 + bits 4-7; else offset (2
 *                          bytes) and value (1 byte)
 *            7 interrupt   read the status, ack it
 *
 * Seeds: run with FUZZ_VIRTIO_BLK_WRITE_SEEDS=<dir>, the harness writes
 * well-formed devices there (every request type, good and bad, with steps
 * that fetch and complete them) and exits; fuzz.mk does that before the
 * smoke run.
 *
 * fuzz-sources: hv/dev/virtio_blk.c hv/dev/virtio_mmio.c hv/dev/virtq.c
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
#include <dev/virtio_blk.h>
#include <shyper/errno.h>
#include <shyper/virtio.h>

#define RAM_BASE 0x40000000ULL
#define RAM_SIZE 0x8000u
#define HDR 16
#define WORK_MAX (1u << 20)
#define MAX_FETCHED 64
/* The GET_ID answer: bytes no used index or element is likely to be. */
#define DISK_ID "ZZZZZZZZZZZZZZZZZZZZ"

void log_msg(enum log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

struct mark {
	uint64_t ipa, len;
	uint8_t first; /* the first byte written, read at once */
};

struct env {
	uint8_t *ram;
	struct virtio_blk blk;
	struct guest_mem gm;
	unsigned work;
	bool level;
	/* The last two marks before the current one. */
	struct mark prev, prev2;
	unsigned elems;
	/* A completion's used element: its length and status. */
	bool expect;
	uint32_t expect_len;
	uint8_t expect_status;
	struct vblk_fetched fetched[MAX_FETCHED];
	unsigned nr_fetched;
	/* The guest's queue setup. */
	unsigned num;
	uint64_t desc, avail, used;
	bool event_idx, indirect;
};

static void *sim_ptr(void *ctx, uint64_t ipa, uint64_t len)
{
	struct env *e = ctx;

	if (len == 0 || ++e->work > WORK_MAX)
		abort();
	if (ipa < RAM_BASE || len > RAM_SIZE || ipa - RAM_BASE > RAM_SIZE - len)
		return NULL;
	return e->ram + (ipa - RAM_BASE);
}

static uint32_t ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The device wrote [ipa, ipa + len) of guest RAM, just now. */
static void sim_dirty(void *ctx, uint64_t ipa, uint64_t len)
{
	struct env *e = ctx;
	const struct virtq *vq = &e->blk.dev.vq[0];
	struct mark m = { ipa, len, 0 };

	if (!len || ipa < RAM_BASE || len > RAM_SIZE || ipa - RAM_BASE > RAM_SIZE - len)
		abort(); /* only guest RAM is ever written */
	m.first = e->ram[ipa - RAM_BASE];
	/* virtq_push: the element, then the index covering it. */
	if (vq->ready && vq->num && len == 2 && ipa == vq->used_ipa + 2 &&
	    e->prev.len == 8 &&
	    e->prev.ipa == vq->used_ipa + 4 + 8 * (uint64_t)((vq->used_idx - 1) & (vq->num - 1)) &&
	    (uint16_t)(e->ram[ipa - RAM_BASE] | e->ram[ipa - RAM_BASE + 1] << 8) == vq->used_idx) {
		const uint8_t *el = e->ram + (e->prev.ipa - RAM_BASE);
		uint32_t id = ld32(el), written = ld32(el + 4);
		bool status_before = e->prev2.len == 1;

		e->elems++;
		if (id >= vq->num || written > VIRTQ_MAX_CHAIN_BYTES)
			abort();
		if (written && (!status_before || e->prev2.first > VIRTIO_BLK_S_UNSUPP))
			abort();
		if (written > 1 && e->prev2.first != VIRTIO_BLK_S_OK)
			abort();
		if (e->expect) {
			if (written != e->expect_len || e->prev2.first != e->expect_status)
				abort();
			e->expect = false;
		}
	}
	e->prev2 = e->prev;
	e->prev = m;
}

static void sim_irq(void *ctx, bool level)
{
	struct env *e = ctx;

	if (level == e->level)
		abort(); /* told only of changes */
	e->level = level;
}

static uint64_t reg(struct env *e, uint64_t off, unsigned size, bool write, uint64_t val)
{
	struct mmio_access acc = { .size = size, .write = write, .value = val };

	(void)virtio_mmio_handler(NULL, &acc, off, &e->blk.dev);
	return acc.value;
}

static void bring_up(struct env *e)
{
	uint32_t lo, hi, st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	reg(e, VIRTIO_MMIO_STATUS, 4, true, 0);
	reg(e, VIRTIO_MMIO_STATUS, 4, true, st);
	reg(e, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, true, 0);
	lo = (uint32_t)reg(e, VIRTIO_MMIO_DEVICE_FEATURES, 4, false, 0);
	reg(e, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, true, 1);
	hi = (uint32_t)reg(e, VIRTIO_MMIO_DEVICE_FEATURES, 4, false, 0);
	if (!e->event_idx)
		lo &= ~(1u << VIRTIO_F_EVENT_IDX);
	if (!e->indirect)
		lo &= ~(1u << VIRTIO_F_INDIRECT_DESC);
	reg(e, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, true, 0);
	reg(e, VIRTIO_MMIO_DRIVER_FEATURES, 4, true, lo);
	reg(e, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, true, 1);
	reg(e, VIRTIO_MMIO_DRIVER_FEATURES, 4, true, hi);
	st |= VIRTIO_STATUS_FEATURES_OK;
	reg(e, VIRTIO_MMIO_STATUS, 4, true, st);
	reg(e, VIRTIO_MMIO_QUEUE_SEL, 4, true, 0);
	reg(e, VIRTIO_MMIO_QUEUE_NUM, 4, true, e->num);
	reg(e, VIRTIO_MMIO_QUEUE_DESC_LOW, 4, true, (uint32_t)e->desc);
	reg(e, VIRTIO_MMIO_QUEUE_DESC_HIGH, 4, true, (uint32_t)(e->desc >> 32));
	reg(e, VIRTIO_MMIO_QUEUE_DRIVER_LOW, 4, true, (uint32_t)e->avail);
	reg(e, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 4, true, (uint32_t)(e->avail >> 32));
	reg(e, VIRTIO_MMIO_QUEUE_DEVICE_LOW, 4, true, (uint32_t)e->used);
	reg(e, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 4, true, (uint32_t)(e->used >> 32));
	reg(e, VIRTIO_MMIO_QUEUE_READY, 4, true, 1);
	reg(e, VIRTIO_MMIO_STATUS, 4, true, st | VIRTIO_STATUS_DRIVER_OK);
}

static void check_fetched(const struct env *e, const struct vblk_fetched *f)
{
	const struct virtio_blk *b = &e->blk;

	if (!b->backend_up || f->slot >= VBLK_INFLIGHT || !f->seq)
		abort();
	switch (f->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (!f->len || f->len % VBLK_SECTOR || f->len > VBLK_DATA_MAX ||
		    f->sector > b->capacity || f->len / VBLK_SECTOR > b->capacity - f->sector)
			abort();
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (f->len || f->sector)
			abort();
		break;
	default:
		abort();
	}
}

static void fetch(struct env *e, uint8_t op)
{
	static const size_t sizes[4] = { 0, 512, 4096, RAM_SIZE };
	size_t max = sizes[(op >> 3) & 3];
	uint8_t *buf = max ? malloc(max) : NULL;
	struct vblk_fetched f;
	int ret;

	if (max && !buf)
		abort();
	ret = virtio_blk_fetch(&e->blk, &f, buf, max);
	if (ret == 1) {
		check_fetched(e, &f);
		if (f.type == VIRTIO_BLK_T_OUT && f.len > max)
			abort();
		if (e->nr_fetched < MAX_FETCHED)
			e->fetched[e->nr_fetched++] = f;
	} else if (ret != 0 && ret != -SHYPER_EOVERFLOW) {
		abort();
	}
	free(buf);
}

static void complete(struct env *e, uint8_t op, uint8_t status_b, uint8_t len_b)
{
	struct vblk_fetched f;
	const struct vblk_req *r;
	uint32_t status = status_b % 4;
	size_t len = 0;
	uint8_t *data = NULL;
	bool live;
	int want, ret;
	unsigned i;

	if (!e->nr_fetched)
		return;
	i = (op >> 3) % e->nr_fetched;
	f = e->fetched[i];
	r = &e->blk.req[f.slot];
	live = r->state == VBLK_FETCHED && r->seq == f.seq;
	if (f.type == VIRTIO_BLK_T_IN) {
		len = len_b % 3 == 0 ? f.len : len_b % 3 == 1 ? f.len + 512 : 0;
		if (len) {
			data = malloc(len);
			if (!data)
				abort();
			memset(data, 0xa5, len);
		}
	}
	if (status > VIRTIO_BLK_S_UNSUPP)
		want = -SHYPER_EINVAL;
	else if (!live)
		want = -SHYPER_ENOENT;
	else if (f.type == VIRTIO_BLK_T_IN && status == VIRTIO_BLK_S_OK && len != f.len)
		want = -SHYPER_EINVAL;
	else
		want = 0;
	if (want == 0 && virtio_dev_queue_usable(&e->blk.dev, 0)) {
		e->expect = true;
		e->expect_status = (uint8_t)status;
		e->expect_len = f.type == VIRTIO_BLK_T_IN && status == VIRTIO_BLK_S_OK ?
					f.len + 1 : 1;
	}
	ret = virtio_blk_complete(&e->blk, f.slot, f.seq, status, data, len);
	free(data);
	if (ret != want)
		abort();
	/* The expected element was the first one pushed (unless the queue
	 * could not take it: the device then needs a reset). */
	if (e->expect && virtio_dev_queue_usable(&e->blk.dev, 0))
		abort();
	e->expect = false;
	if (ret == -SHYPER_EINVAL && live)
		return; /* the request stays */
	if (!ret && r->state == VBLK_FETCHED && r->seq == f.seq)
		abort();
	e->fetched[i] = e->fetched[--e->nr_fetched];
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct env *e;
	const uint8_t *steps;
	size_t nsteps, pos = 0;
	uint8_t flags;

	if (size < HDR)
		return 0;
	e = calloc(1, sizeof(*e));
	if (!e)
		abort();
	e->ram = malloc(RAM_SIZE);
	if (!e->ram)
		abort();
	flags = data[0];
	nsteps = le16(data + 10);
	if (nsteps > size - HDR)
		nsteps = size - HDR;
	steps = data + HDR;
	memset(e->ram, 0, RAM_SIZE);
	memcpy(e->ram, data + HDR + nsteps,
	       size - HDR - nsteps < RAM_SIZE ? size - HDR - nsteps : RAM_SIZE);
	e->num = 1u << (data[1] % 8);
	e->desc = RAM_BASE + le16(data + 4);
	e->avail = RAM_BASE + le16(data + 6);
	e->used = RAM_BASE + le16(data + 8);
	e->event_idx = flags & 4;
	e->indirect = flags & 8;
	e->gm = (struct guest_mem){ .ptr = sim_ptr, .ctx = e, .dirty = sim_dirty };

	if (virtio_blk_init(&e->blk, le16(data + 2), DISK_ID, &e->gm, sim_irq, e))
		abort();
	virtio_blk_set_backend(&e->blk, flags & 1, flags & 2);
	if (!(flags & 16))
		bring_up(e);

#define NEXT() (pos < nsteps ? steps[pos++] : 0)
	while (pos < nsteps) {
		uint8_t op = NEXT();

		e->work = 0;
		switch (op & 7) {
		case 0:
			reg(e, VIRTIO_MMIO_QUEUE_NOTIFY, 4, true, (op >> 3) & 1);
			break;
		case 1:
			fetch(e, op);
			break;
		case 2: {
			uint8_t st = NEXT(), l = NEXT();

			complete(e, op, st, l);
			break;
		}
		case 3:
			virtio_blk_set_backend(&e->blk, op & 8, op & 16);
			if (!(op & 8) && virtio_blk_inflight(&e->blk))
				abort(); /* down: nothing stays in flight */
			break;
		case 4:
			reg(e, VIRTIO_MMIO_STATUS, 4, true, 0);
			if (virtio_blk_inflight(&e->blk))
				abort(); /* a reset drops every request */
			bring_up(e);
			break;
		case 5: {
			static const unsigned widths[4] = { 1, 2, 4, 8 };
			uint64_t off = 2u * NEXT(), v = 0;

			for (unsigned i = 0; i < 4; i++)
				v |= (uint64_t)NEXT() << (8 * i);
			reg(e, off, widths[(op >> 3) & 3], op & 32, v);
			break;
		}
		case 6:
			if (op & 8) {
				uint64_t a = e->avail - RAM_BASE + 2;

				if (a + 2 <= RAM_SIZE) {
					uint16_t idx = (uint16_t)(le16(e->ram + a) + 1 + (op >> 4));

					e->ram[a] = (uint8_t)idx;
					e->ram[a + 1] = (uint8_t)(idx >> 8);
				}
			} else {
				unsigned off = NEXT();

				off |= (unsigned)NEXT() << 8;
				e->ram[off % RAM_SIZE] = NEXT();
			}
			break;
		case 7: {
			uint64_t isr = reg(e, VIRTIO_MMIO_INTERRUPT_STATUS, 4, false, 0);

			reg(e, VIRTIO_MMIO_INTERRUPT_ACK, 4, true, isr);
			break;
		}
		}
		if (e->level != (e->blk.dev.isr != 0) || e->expect)
			abort();
		if (virtio_blk_inflight(&e->blk) > VBLK_INFLIGHT ||
		    e->elems > e->blk.done_ok + e->blk.done_err)
			abort();
	}
#undef NEXT
	free(e->ram);
	free(e);
	return 0;
}

/* Seed corpus: a well-behaved driver's requests, and steps serving them. */
#define SEED_NUM 32
#define S_DESC 0x0000u
#define S_AVAIL 0x0800u
#define S_USED 0x1000u
#define S_HDR(k) (0x1800u + 0x40u * (k))
#define S_STATUS(k) (S_HDR(k) + 0x20u)
#define S_DATA(k) (0x2000u + 0x400u * (k))

struct seed {
	uint8_t hdr[HDR];
	uint8_t steps[64];
	uint8_t ram[0x3c00]; /* within fuzz.mk's -max_len */
	unsigned nsteps, nreq, ndesc;
};

static void seed_desc(struct seed *s, unsigned i, uint64_t off, uint32_t len, uint16_t flags,
		      uint16_t next)
{
	uint8_t *d = s->ram + S_DESC + 16 * i;
	uint64_t addr = RAM_BASE + off;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/* Request k: header, `len` data bytes (readable for writes), status. */
static void seed_req(struct seed *s, uint32_t type, uint64_t sector, uint32_t len,
		     bool readable)
{
	unsigned k = s->nreq++, d = s->ndesc, head = d;
	uint32_t h[4] = { type, 0, (uint32_t)sector, (uint32_t)(sector >> 32) };
	uint16_t idx;

	memcpy(s->ram + S_HDR(k), h, sizeof(h));
	seed_desc(s, d, S_HDR(k), 16, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
	d++;
	if (len) {
		seed_desc(s, d, S_DATA(k), len,
			  VIRTQ_DESC_F_NEXT | (readable ? 0 : VIRTQ_DESC_F_WRITE),
			  (uint16_t)(d + 1));
		d++;
	}
	seed_desc(s, d, S_STATUS(k), 1, VIRTQ_DESC_F_WRITE, 0);
	s->ndesc = d + 1;
	idx = le16(s->ram + S_AVAIL + 2);
	memcpy(s->ram + S_AVAIL + 4 + 2 * (idx % SEED_NUM), &(uint16_t){ (uint16_t)head }, 2);
	idx++;
	memcpy(s->ram + S_AVAIL + 2, &idx, 2);
}

static void seed_start(struct seed *s, uint8_t flags)
{
	memset(s, 0, sizeof(*s));
	s->hdr[0] = flags;
	s->hdr[1] = 5; /* SEED_NUM */
	s->hdr[2] = 100; /* sectors */
	s->hdr[5] = S_DESC >> 8;
	s->hdr[7] = S_AVAIL >> 8;
	s->hdr[9] = S_USED >> 8;
}

static void seed_step(struct seed *s, uint8_t b)
{
	s->steps[s->nsteps++] = b;
}

static void seed_write(const char *dir, const char *name, struct seed *s)
{
	char path[4096];
	FILE *f;

	s->hdr[10] = (uint8_t)s->nsteps;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->hdr, 1, HDR, f) != HDR ||
	    fwrite(s->steps, 1, s->nsteps, f) != s->nsteps ||
	    fwrite(s->ram, 1, sizeof(s->ram), f) != sizeof(s->ram) || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void write_seeds(const char *dir)
{
	static struct seed s;

	/* Good requests of every type, and bad ones that end at once. */
	for (unsigned ro = 0; ro < 2; ro++) {
		seed_start(&s, (uint8_t)(1 | ro << 1 | (ro ? 4 : 0)));
		seed_req(&s, VIRTIO_BLK_T_OUT, 2, 1024, true);
		seed_req(&s, VIRTIO_BLK_T_IN, 98, 1024, false);
		seed_req(&s, VIRTIO_BLK_T_FLUSH, 0, 0, false);
		seed_req(&s, VIRTIO_BLK_T_GET_ID, 0, 20, false);
		seed_req(&s, VIRTIO_BLK_T_IN, 99, 1024, false);	 /* past the end */
		seed_req(&s, VIRTIO_BLK_T_OUT, 0, 100, true);	 /* not sectors */
		seed_req(&s, 77, 0, 512, false);		 /* unsupported */
		seed_step(&s, 0);		   /* notify */
		seed_step(&s, 1 | 2 << 3);	   /* fetch, 4 KiB */
		seed_step(&s, 1 | 2 << 3);
		seed_step(&s, 1);		   /* fetch, no buffer */
		seed_step(&s, 2 | 0 << 3);	   /* complete OK */
		seed_step(&s, 0);
		seed_step(&s, 0);
		seed_step(&s, 2 | 0 << 3);
		seed_step(&s, 0);
		seed_step(&s, 0);
		seed_step(&s, 2 | 0 << 3);
		seed_step(&s, 1);
		seed_step(&s, 0);
		seed_step(&s, 7);		   /* interrupt */
		seed_step(&s, 6 | 8);		   /* one more available */
		seed_step(&s, 0);
		seed_step(&s, 3);		   /* backend down */
		seed_step(&s, 3 | 8);		   /* and up */
		seed_step(&s, 5 | 2 << 3);	   /* read the capacity */
		seed_step(&s, 0x80);
		seed_step(&s, 0);
		seed_step(&s, 0);
		seed_step(&s, 0);
		seed_step(&s, 0);
		seed_step(&s, 4);		   /* reset */
		seed_write(dir, ro ? "ro-event-idx" : "requests", &s);
	}

	/* A read fetched, then the device reset: the completion finds nothing. */
	seed_start(&s, 1 | 8);
	seed_req(&s, VIRTIO_BLK_T_IN, 0, 512, false);
	seed_req(&s, VIRTIO_BLK_T_OUT, 1, 512, true);
	seed_step(&s, 0);
	seed_step(&s, 1 | 1 << 3);
	seed_step(&s, 4);
	seed_step(&s, 2);
	seed_step(&s, 0);
	seed_step(&s, 0);
	seed_write(dir, "reset-in-flight", &s);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_VIRTIO_BLK_WRITE_SEEDS");

	(void)argc;
	(void)argv;
	if (dir) {
		write_seeds(dir);
		exit(0);
	}
	return 0;
}
