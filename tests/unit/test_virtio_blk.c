/*
 * The virtio-blk device model (hv/dev/virtio_blk.c) with a simulated guest
 * driver over a simulated guest RAM with poisoned guard zones, and the test
 * in the backend's place: probe and config space; writes, reads and flushes
 * going to the backend and back; bad requests (length, range, type, chain
 * shape, read-only, no backend) ending at once with the right status and
 * never reaching the backend; the bounded in-flight table (the queue is left
 * alone while it is full, and drained as requests complete); a backend that
 * goes away failing what is in flight; a reset dropping requests so that a
 * late completion writes nothing; a live update's rebind keeping what the
 * device offers and what it has in flight.
 *
 * unit-sources: hv/dev/virtio_blk.c hv/dev/virtio_mmio.c hv/dev/virtq.c
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
#include <dev/virtio_blk.h>
#include <shyper/errno.h>
#include <shyper/virtio.h>

#define RAM_BASE 0x40000000ULL
#define RAM_SIZE 0x100000ULL
#define GUARD 0x1000
#define GUARD_BYTE 0xc3
#define NUM 128 /* queue size: 42 requests of 3 descriptors */
#define DESC (RAM_BASE)
#define AVAIL (RAM_BASE + 0x1000)
#define USED (RAM_BASE + 0x2000)
#define HDR(k) (RAM_BASE + 0x4000 + 0x100 * (k))
#define STATUS(k) (HDR(k) + 0x80)
#define DATA(k) (RAM_BASE + 0x10000 + 0x2000 * (k))
#define CAPACITY 1000 /* sectors */
#define STATUS_UNTOUCHED 0xee

void log_msg(enum log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

struct env {
	uint8_t *block, *ram;
	struct virtio_blk blk;
	uint16_t avail_idx, last_used;
	unsigned irqs, announces;
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
	((struct env *)ctx)->irqs += level;
}

static void announce(struct virtio_blk *blk, void *ctx)
{
	(void)blk;
	((struct env *)ctx)->announces++;
}

static uint32_t rd(struct env *e, uint64_t off)
{
	struct mmio_access acc = { .size = 4, .write = false };

	assert_int_equal(virtio_mmio_handler(NULL, &acc, off, &e->blk.dev), 0);
	return (uint32_t)acc.value;
}

static void wr(struct env *e, uint64_t off, uint32_t val)
{
	struct mmio_access acc = { .size = 4, .write = true, .value = val };

	assert_int_equal(virtio_mmio_handler(NULL, &acc, off, &e->blk.dev), 0);
}

static uint64_t device_features(struct env *e)
{
	wr(e, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = rd(e, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(e, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return lo | (uint64_t)rd(e, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

static void bring_up(struct env *e)
{
	uint64_t f;

	e->avail_idx = e->last_used = 0;
	wr(e, VIRTIO_MMIO_STATUS, 0);
	wr(e, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	f = device_features(e);
	wr(e, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(e, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f & ~(1U << VIRTIO_F_EVENT_IDX));
	wr(e, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(e, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(e, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					  VIRTIO_STATUS_FEATURES_OK);
	memset(hp(e, DESC), 0, 0x4000);
	wr(e, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(rd(e, VIRTIO_MMIO_QUEUE_NUM_MAX), VBLK_QUEUE_SIZE);
	wr(e, VIRTIO_MMIO_QUEUE_NUM, NUM);
	wr(e, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC);
	wr(e, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)AVAIL);
	wr(e, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)USED);
	wr(e, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(e, VIRTIO_MMIO_STATUS, rd(e, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct guest_mem gm = { .ptr = sim_ptr, .ctx = e };

	assert_non_null(e);
	e->block = aligned_alloc(4096, RAM_SIZE + 2 * GUARD);
	assert_non_null(e->block);
	memset(e->block, GUARD_BYTE, RAM_SIZE + 2 * GUARD);
	e->ram = e->block + GUARD;
	memset(e->ram, 0, RAM_SIZE);
	ASAN_POISON_MEMORY_REGION(e->block, GUARD);
	ASAN_POISON_MEMORY_REGION(e->ram + RAM_SIZE, GUARD);
	assert_int_equal(virtio_blk_init(&e->blk, CAPACITY, "test-disk", &gm, irq, e), 0);
	e->blk.announce = announce;
	e->blk.announce_ctx = e;
	virtio_blk_set_backend(&e->blk, true, false);
	bring_up(e);
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

static void put_desc(struct env *e, unsigned i, uint64_t addr, uint32_t len, uint16_t flags)
{
	uint8_t *d = hp(e, DESC) + 16 * i;
	uint16_t next = (uint16_t)(i + 1);

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/*
 * Request k (descriptors 3k..3k+2): header, `len` data bytes at DATA(k)
 * (readable if data_readable), status. len 0: no data descriptor. The
 * driver notifies when `kick`.
 */
static void submit_shape(struct env *e, unsigned k, uint32_t type, uint64_t sector,
			 uint32_t len, bool data_readable, bool kick)
{
	uint16_t *avail = (uint16_t *)hp(e, AVAIL);
	unsigned d = 3 * k;
	uint32_t hdr[4] = { type, 0, (uint32_t)sector, (uint32_t)(sector >> 32) };

	memcpy(hp(e, HDR(k)), hdr, sizeof(hdr));
	*hp(e, STATUS(k)) = STATUS_UNTOUCHED;
	put_desc(e, d, HDR(k), 16, VIRTQ_DESC_F_NEXT);
	if (len)
		put_desc(e, ++d, DATA(k), len,
			 VIRTQ_DESC_F_NEXT | (data_readable ? 0 : VIRTQ_DESC_F_WRITE));
	put_desc(e, ++d, STATUS(k), 1, VIRTQ_DESC_F_WRITE);
	avail[2 + e->avail_idx % NUM] = (uint16_t)(3 * k);
	e->avail_idx++;
	__atomic_store_n(&avail[1], e->avail_idx, __ATOMIC_RELEASE);
	if (kick)
		wr(e, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static void submit(struct env *e, unsigned k, uint32_t type, uint64_t sector, uint32_t len)
{
	submit_shape(e, k, type, sector, len, type == VIRTIO_BLK_T_OUT, true);
}

/* The next used element: its request number; -1 if none. */
static int next_used(struct env *e, uint32_t *written)
{
	uint16_t *used = (uint16_t *)hp(e, USED);
	uint32_t *elem;

	if (used[1] == e->last_used)
		return -1;
	elem = (uint32_t *)(hp(e, USED) + 4 + 8 * (e->last_used % NUM));
	e->last_used++;
	if (written)
		*written = elem[1];
	return (int)(elem[0] / 3);
}

static uint8_t status_of(struct env *e, unsigned k)
{
	return *hp(e, STATUS(k));
}

static void test_probe_and_config(void **state)
{
	struct env *e = *state;
	uint64_t f = device_features(e);
	uint32_t cap_lo;

	assert_int_equal(rd(e, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	assert_true(f & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
	assert_true(f & VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX));
	assert_true(f & VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE));
	assert_false(f & VIRTIO_BIT(VIRTIO_BLK_F_RO));
	cap_lo = rd(e, VIRTIO_MMIO_CONFIG);
	assert_int_equal(cap_lo, CAPACITY);
	assert_int_equal(rd(e, VIRTIO_MMIO_CONFIG + 4), 0);
	assert_int_equal(rd(e, VIRTIO_MMIO_CONFIG + 8), VBLK_SIZE_MAX);
	assert_int_equal(rd(e, VIRTIO_MMIO_CONFIG + 12), VBLK_SEG_MAX);
	assert_int_equal(rd(e, VIRTIO_MMIO_CONFIG + 20), 512);

	/* Read-only from the next reset on. */
	virtio_blk_set_backend(&e->blk, true, true);
	bring_up(e);
	assert_true(device_features(e) & VIRTIO_BIT(VIRTIO_BLK_F_RO));
}

static void test_write_read_flush(void **state)
{
	struct env *e = *state;
	struct vblk_fetched got;
	uint8_t data[2048], back[2048];
	uint32_t written;

	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	memcpy(hp(e, DATA(0)), data, sizeof(data));
	submit(e, 0, VIRTIO_BLK_T_OUT, 10, sizeof(data));
	assert_int_equal(e->announces, 1);
	assert_int_equal(virtio_blk_inflight(&e->blk), 1);
	/* A buffer too small for the data: it stays waiting. */
	assert_int_equal(virtio_blk_fetch(&e->blk, &got, back, 100), -SHYPER_EOVERFLOW);
	memset(back, 0, sizeof(back));
	assert_int_equal(virtio_blk_fetch(&e->blk, &got, back, sizeof(back)), 1);
	assert_int_equal(got.type, VIRTIO_BLK_T_OUT);
	assert_int_equal(got.sector, 10);
	assert_int_equal(got.len, sizeof(data));
	assert_memory_equal(back, data, sizeof(data));
	assert_int_equal(virtio_blk_fetch(&e->blk, &got, back, sizeof(back)), 0);
	assert_int_equal(next_used(e, NULL), -1);
	assert_int_equal(status_of(e, 0), STATUS_UNTOUCHED);
	assert_int_equal(virtio_blk_complete(&e->blk, got.slot, got.seq, VIRTIO_BLK_S_OK, 0, 0), 0);
	assert_int_equal(next_used(e, NULL), 0);
	assert_int_equal(status_of(e, 0), VIRTIO_BLK_S_OK);
	assert_true(e->irqs > 0);
	/* Completed once only. */
	assert_int_equal(virtio_blk_complete(&e->blk, got.slot, got.seq, VIRTIO_BLK_S_OK, 0, 0),
			 -SHYPER_ENOENT);

	/* A read: the data comes with the completion, exactly len bytes. */
	submit(e, 1, VIRTIO_BLK_T_IN, CAPACITY - 4, sizeof(data));
	assert_int_equal(virtio_blk_fetch(&e->blk, &got, NULL, 0), 1);
	assert_int_equal(got.type, VIRTIO_BLK_T_IN);
	assert_int_equal(got.sector, CAPACITY - 4);
	assert_int_equal(virtio_blk_complete(&e->blk, got.slot, got.seq, VIRTIO_BLK_S_OK, data, 512),
			 -SHYPER_EINVAL);
	assert_int_equal(virtio_blk_complete(&e->blk, got.slot, got.seq, 7, data, sizeof(data)),
			 -SHYPER_EINVAL);
	assert_int_equal(virtio_blk_complete(&e->blk, got.slot, got.seq + 1, VIRTIO_BLK_S_OK, data,
					     sizeof(data)),
			 -SHYPER_ENOENT);
	assert_int_equal(virtio_blk_complete(&e->blk, got.slot, got.seq, VIRTIO_BLK_S_OK, data,
					     sizeof(data)),
			 0);
	assert_int_equal(next_used(e, &written), 1);
	assert_int_equal(written, sizeof(data) + 1);
	assert_memory_equal(hp(e, DATA(1)), data, sizeof(data));
	assert_int_equal(status_of(e, 1), VIRTIO_BLK_S_OK);

	/* A failed read leaves the guest's buffer alone. */
	memset(hp(e, DATA(2)), 0x5a, 512);
	submit(e, 2, VIRTIO_BLK_T_IN, 0, 512);
	assert_int_equal(virtio_blk_fetch(&e->blk, &got, NULL, 0), 1);
	assert_int_equal(virtio_blk_complete(&e->blk, got.slot, got.seq, VIRTIO_BLK_S_IOERR, 0, 0), 0);
	assert_int_equal(next_used(e, NULL), 2);
	assert_int_equal(status_of(e, 2), VIRTIO_BLK_S_IOERR);
	assert_int_equal(hp(e, DATA(2))[0], 0x5a);

	/* Flush goes to the backend too. */
	submit(e, 3, VIRTIO_BLK_T_FLUSH, 0, 0);
	assert_int_equal(virtio_blk_fetch(&e->blk, &got, NULL, 0), 1);
	assert_int_equal(got.type, VIRTIO_BLK_T_FLUSH);
	assert_int_equal(got.len, 0);
	assert_int_equal(virtio_blk_complete(&e->blk, got.slot, got.seq, VIRTIO_BLK_S_OK, 0, 0), 0);
	assert_int_equal(next_used(e, NULL), 3);
	assert_int_equal(status_of(e, 3), VIRTIO_BLK_S_OK);
}

/* Request k ends at once with `status`; the backend sees nothing. */
static void ends_at_once(struct env *e, unsigned k, uint8_t status)
{
	struct vblk_fetched got;

	assert_int_equal(next_used(e, NULL), (int)k);
	assert_int_equal(status_of(e, k), status);
	assert_int_equal(virtio_blk_fetch(&e->blk, &got, NULL, 0), 0);
}

static void test_bad_requests(void **state)
{
	struct env *e = *state;
	unsigned announces = e->announces;
	uint32_t written;

	submit(e, 0, VIRTIO_BLK_T_IN, 0, 100); /* not a multiple of 512 */
	ends_at_once(e, 0, VIRTIO_BLK_S_IOERR);
	submit(e, 1, VIRTIO_BLK_T_IN, CAPACITY - 1, 1024); /* past the end */
	ends_at_once(e, 1, VIRTIO_BLK_S_IOERR);
	submit(e, 2, VIRTIO_BLK_T_OUT, ~0ULL, 512); /* sector overflow */
	ends_at_once(e, 2, VIRTIO_BLK_S_IOERR);
	submit(e, 3, 99, 0, 512);
	ends_at_once(e, 3, VIRTIO_BLK_S_UNSUPP);
	submit_shape(e, 4, VIRTIO_BLK_T_IN, 0, 512, true, true); /* read into a readable buffer */
	ends_at_once(e, 4, VIRTIO_BLK_S_IOERR);
	submit_shape(e, 5, VIRTIO_BLK_T_OUT, 0, 512, false, true); /* write from a writable one */
	ends_at_once(e, 5, VIRTIO_BLK_S_IOERR);
	submit(e, 6, VIRTIO_BLK_T_IN, 0, 0); /* no data */
	ends_at_once(e, 6, VIRTIO_BLK_S_IOERR);
	submit(e, 7, VIRTIO_BLK_T_IN, 0, VBLK_DATA_MAX + 512); /* more than one request may carry */
	ends_at_once(e, 7, VIRTIO_BLK_S_IOERR);
	assert_int_equal(e->announces, announces);

	/* GET_ID is answered here. */
	submit_shape(e, 8, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, false, true);
	assert_int_equal(next_used(e, &written), 8);
	assert_int_equal(written, VIRTIO_BLK_ID_BYTES + 1);
	assert_memory_equal(hp(e, DATA(8)), "test-disk", 10);
	assert_int_equal(status_of(e, 8), VIRTIO_BLK_S_OK);

	/* Read-only: writes fail, reads go on. */
	virtio_blk_set_backend(&e->blk, true, true);
	submit(e, 9, VIRTIO_BLK_T_OUT, 0, 512);
	ends_at_once(e, 9, VIRTIO_BLK_S_IOERR);
}

static void test_inflight_table(void **state)
{
	struct env *e = *state;
	struct vblk_fetched got[VBLK_INFLIGHT + 1];
	unsigned n = VBLK_INFLIGHT + 8;

	for (unsigned k = 0; k < n; k++)
		submit_shape(e, k, VIRTIO_BLK_T_IN, k, 512, false, k + 1 == n);
	assert_int_equal(virtio_blk_inflight(&e->blk), VBLK_INFLIGHT);
	for (unsigned i = 0; i < VBLK_INFLIGHT; i++) {
		assert_int_equal(virtio_blk_fetch(&e->blk, &got[i], NULL, 0), 1);
		assert_int_equal(got[i].sector, i); /* oldest first */
	}
	assert_int_equal(virtio_blk_fetch(&e->blk, &got[VBLK_INFLIGHT], NULL, 0), 0);
	/* Completing in any order frees slots: the queue's rest comes in. */
	for (unsigned i = 0; i < 8; i++) {
		unsigned j = VBLK_INFLIGHT - 1 - i;
		uint8_t buf[512];

		memset(buf, (int)j, sizeof(buf));
		assert_int_equal(virtio_blk_complete(&e->blk, got[j].slot, got[j].seq,
						     VIRTIO_BLK_S_OK, buf, sizeof(buf)),
				 0);
		assert_int_equal(next_used(e, NULL), (int)j);
		assert_int_equal(hp(e, DATA(j))[511], j);
		assert_int_equal(virtio_blk_inflight(&e->blk), VBLK_INFLIGHT);
	}
	for (unsigned i = 0; i < 8; i++) {
		struct vblk_fetched g;

		assert_int_equal(virtio_blk_fetch(&e->blk, &g, NULL, 0), 1);
		assert_int_equal(g.sector, VBLK_INFLIGHT + i);
	}
}

static void test_backend_goes_away(void **state)
{
	struct env *e = *state;
	struct vblk_fetched got;

	submit(e, 0, VIRTIO_BLK_T_IN, 0, 512);
	submit(e, 1, VIRTIO_BLK_T_OUT, 1, 512);
	assert_int_equal(virtio_blk_fetch(&e->blk, &got, NULL, 0), 1); /* 0 at the backend */
	virtio_blk_set_backend(&e->blk, false, false);
	assert_int_equal(virtio_blk_inflight(&e->blk), 0);
	assert_int_equal(next_used(e, NULL), 0);
	assert_int_equal(next_used(e, NULL), 1);
	assert_int_equal(status_of(e, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(e, 1), VIRTIO_BLK_S_IOERR);
	/* The old backend's late answer changes nothing. */
	assert_int_equal(virtio_blk_complete(&e->blk, got.slot, got.seq, VIRTIO_BLK_S_OK, NULL, 0),
			 -SHYPER_ENOENT);
	/* While nobody serves: at once. */
	submit(e, 2, VIRTIO_BLK_T_IN, 0, 512);
	ends_at_once(e, 2, VIRTIO_BLK_S_IOERR);
	submit(e, 3, VIRTIO_BLK_T_FLUSH, 0, 0);
	ends_at_once(e, 3, VIRTIO_BLK_S_IOERR);
	/* Back: I/O works again. */
	virtio_blk_set_backend(&e->blk, true, false);
	submit(e, 4, VIRTIO_BLK_T_IN, 0, 512);
	assert_int_equal(virtio_blk_fetch(&e->blk, &got, NULL, 0), 1);
	assert_int_equal(virtio_blk_complete(&e->blk, got.slot, got.seq, VIRTIO_BLK_S_OK,
					     hp(e, DATA(10)), 512),
			 0);
	assert_int_equal(next_used(e, NULL), 4);
	assert_int_equal(status_of(e, 4), VIRTIO_BLK_S_OK);
}

static void test_reset_drops_requests(void **state)
{
	struct env *e = *state;
	struct vblk_fetched got;
	uint8_t buf[512];

	memset(buf, 0x77, sizeof(buf));
	submit(e, 0, VIRTIO_BLK_T_IN, 0, 512);
	submit(e, 1, VIRTIO_BLK_T_IN, 1, 512);
	assert_int_equal(virtio_blk_fetch(&e->blk, &got, NULL, 0), 1);
	wr(e, VIRTIO_MMIO_STATUS, 0); /* the guest (or its VM rebooting) resets */
	assert_int_equal(virtio_blk_inflight(&e->blk), 0);
	assert_int_equal(virtio_blk_complete(&e->blk, got.slot, got.seq, VIRTIO_BLK_S_OK, buf,
					     sizeof(buf)),
			 -SHYPER_ENOENT);
	assert_int_equal(status_of(e, 0), STATUS_UNTOUCHED);
	assert_int_equal(hp(e, DATA(0))[0], 0);
	/* After the driver's restart the same slot serves new requests. */
	bring_up(e);
	submit(e, 2, VIRTIO_BLK_T_IN, 2, 512);
	assert_int_equal(virtio_blk_fetch(&e->blk, &got, NULL, 0), 1);
	assert_int_equal(got.sector, 2);
	assert_int_equal(virtio_blk_complete(&e->blk, got.slot, got.seq, VIRTIO_BLK_S_OK, buf,
					     sizeof(buf)),
			 0);
	assert_int_equal(next_used(e, NULL), 2);
	assert_int_equal(hp(e, DATA(2))[0], 0x77);
}

/* Live update: the transport's pointers are this image's again; the
 * features offered since the last reset (read-only here, though the
 * backend is no longer) and the requests in flight stay. */
static void test_rebind(void **state)
{
	struct env *e = *state;
	struct guest_mem gm = { .ptr = sim_ptr, .ctx = e };
	struct vblk_fetched got;
	uint8_t buf[512] = { 0x42 };
	unsigned irqs;

	virtio_blk_set_backend(&e->blk, true, true);
	bring_up(e);
	virtio_blk_set_backend(&e->blk, true, false); /* from the next reset on */
	submit(e, 0, VIRTIO_BLK_T_IN, 0, 512);
	irqs = e->irqs;
	e->blk.dev.ops = (const struct virtio_dev_ops *)1;
	e->blk.dev.mem.ptr = (void *(*)(void *, uint64_t, uint64_t))1;
	e->blk.dev.irq = (virtio_irq_fn)1;
	e->blk.announce = (vblk_announce_fn)1;

	virtio_blk_rebind(&e->blk, &gm, irq, e);
	e->blk.announce = announce; /* the owner's part */
	assert_true(device_features(e) & VIRTIO_BIT(VIRTIO_BLK_F_RO));
	assert_int_equal(virtio_blk_inflight(&e->blk), 1);
	assert_int_equal(virtio_blk_fetch(&e->blk, &got, NULL, 0), 1);
	assert_int_equal(virtio_blk_complete(&e->blk, got.slot, got.seq, VIRTIO_BLK_S_OK, buf,
					     sizeof(buf)),
			 0);
	assert_int_equal(next_used(e, NULL), 0);
	assert_int_equal(status_of(e, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(hp(e, DATA(0))[0], 0x42);
	assert_true(e->irqs > irqs);
	submit(e, 1, VIRTIO_BLK_T_IN, 1, 512);
	assert_int_equal(e->announces, 2);
	/* The next reset offers what the backend says now. */
	bring_up(e);
	assert_false(device_features(e) & VIRTIO_BIT(VIRTIO_BLK_F_RO));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe_and_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_read_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inflight_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backend_goes_away, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_drops_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebind, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
