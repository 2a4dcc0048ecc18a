/*
 * The virtio-mmio transport (hv/dev/virtio_mmio.c) driven the way Linux's
 * virtio_mmio driver drives it: probe (magic, version, ids), reset,
 * ACKNOWLEDGE/DRIVER, feature negotiation, queue setup, DRIVER_OK, then
 * notifications, used-buffer interrupts and their acknowledgement, over a
 * fake two-queue device whose rings live in a simulated guest RAM with
 * poisoned guard zones. Then what a driver must not do: features not
 * offered or without VERSION_1, status bits cleared or out of order, queue
 * registers changed while ready, bad queue sizes and ring addresses, wrong
 * access sizes and alignments, unknown registers, a broken queue (which
 * must set DEVICE_NEEDS_RESET and raise a config interrupt). Last, a live
 * update's rebind: new ops, memory accessors and interrupt line, nothing
 * else changed, and the device carries on through them.
 *
 * unit-sources: hv/dev/virtio_mmio.c hv/dev/virtq.c
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
#include <dev/virtio_mmio.h>
#include <shyper/errno.h>
#include <shyper/virtio.h>

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE 0x10000ULL
#define GUARD 0x1000
#define GUARD_BYTE 0x5a
#define QMAX 16

/* Queue q's rings: 0x1000 apart per queue; data from 0x8000. */
#define DESC_IPA(q) (RAM_BASE + 0x1000 * (3 * (q)))
#define AVAIL_IPA(q) (DESC_IPA(q) + 0x1000)
#define USED_IPA(q) (DESC_IPA(q) + 0x2000)
#define DATA_IPA (RAM_BASE + 0x8000)

static unsigned log_calls;

void log_msg(enum log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
	log_calls++;
}

struct fake {
	struct virtio_dev dev;
	uint8_t *block, *ram;
	uint8_t config[8];
	unsigned notified[VIRTIO_MAX_QUEUES];
	unsigned driver_oks, resets;
	int last_pop;
	unsigned irq_raises, irq_lowers;
	bool irq_line;
	unsigned rebound_ptrs, rebound_raises; /* through test_rebind's pointers */
};

static void *sim_ptr(void *ctx, uint64_t ipa, uint64_t len)
{
	struct fake *f = ctx;

	if (ipa < RAM_BASE || len > RAM_SIZE || ipa - RAM_BASE > RAM_SIZE - len)
		return NULL;
	return f->ram + (ipa - RAM_BASE);
}

static uint8_t *hp(struct fake *f, uint64_t ipa)
{
	return f->ram + (ipa - RAM_BASE);
}

static uint32_t fake_config_read(struct virtio_dev *dev, uint32_t off,
				 unsigned size)
{
	struct fake *f = dev->priv;
	uint32_t v = 0;

	assert_true(off + size <= sizeof(f->config));
	memcpy(&v, f->config + off, size);
	return v;
}

static void fake_config_write(struct virtio_dev *dev, uint32_t off,
			      unsigned size, uint32_t value)
{
	struct fake *f = dev->priv;

	assert_true(off + size <= sizeof(f->config));
	memcpy(f->config + off, &value, size);
}

/* Answers every chain: "ok" into its writable part. */
static void fake_notify(struct virtio_dev *dev, unsigned q)
{
	struct fake *f = dev->priv;
	struct virtq_seg segs[8];
	struct virtq_chain c;
	int ret;

	f->notified[q]++;
	while ((ret = virtio_dev_pop(dev, q, segs, 8, &c)) == 1) {
		size_t n = virtq_write_chain(segs, &c, 0, "ok", 2);

		assert_int_equal(virtio_dev_push(dev, q, &c, (uint32_t)n), 0);
	}
	f->last_pop = ret;
	virtio_dev_flush(dev, q);
}

static void fake_driver_ok(struct virtio_dev *dev)
{
	((struct fake *)dev->priv)->driver_oks++;
}

static void fake_reset(struct virtio_dev *dev)
{
	((struct fake *)dev->priv)->resets++;
}

static const struct virtio_dev_ops fake_ops = {
	.device_id = 42,
	.features = VIRTIO_BIT(0) | VIRTIO_BIT(5),
	.nr_queues = 2,
	.queue_num_max = QMAX,
	.config_size = 8,
	.config_read = fake_config_read,
	.config_write = fake_config_write,
	.queue_notify = fake_notify,
	.driver_ok = fake_driver_ok,
	.reset = fake_reset,
};

/* The same device model as another image would have it: its own table. */
static const struct virtio_dev_ops fake_ops_rebound = {
	.device_id = 42,
	.features = VIRTIO_BIT(0) | VIRTIO_BIT(5),
	.nr_queues = 2,
	.queue_num_max = QMAX,
	.config_size = 8,
	.config_read = fake_config_read,
	.config_write = fake_config_write,
	.queue_notify = fake_notify,
	.driver_ok = fake_driver_ok,
	.reset = fake_reset,
};

static void *rebound_ptr(void *ctx, uint64_t ipa, uint64_t len)
{
	((struct fake *)ctx)->rebound_ptrs++;
	return sim_ptr(ctx, ipa, len);
}

static void rebound_irq(void *ctx, bool level)
{
	struct fake *f = ctx;

	f->irq_line = level;
	f->rebound_raises += level;
}

static void fake_irq(void *ctx, bool level)
{
	struct fake *f = ctx;

	assert_true(level != f->irq_line); /* transitions only */
	f->irq_line = level;
	if (level)
		f->irq_raises++;
	else
		f->irq_lowers++;
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct guest_mem gm = { 0 };

	assert_non_null(f);
	f->block = aligned_alloc(4096, RAM_SIZE + 2 * GUARD);
	assert_non_null(f->block);
	memset(f->block, GUARD_BYTE, RAM_SIZE + 2 * GUARD);
	f->ram = f->block + GUARD;
	memset(f->ram, 0, RAM_SIZE);
	ASAN_POISON_MEMORY_REGION(f->block, GUARD);
	ASAN_POISON_MEMORY_REGION(f->ram + RAM_SIZE, GUARD);
	gm.ptr = sim_ptr;
	gm.ctx = f;
	assert_int_equal(virtio_dev_init(&f->dev, &fake_ops, f, &gm, fake_irq, f), 0);
	memcpy(f->config, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	log_calls = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	ASAN_UNPOISON_MEMORY_REGION(f->block, GUARD);
	ASAN_UNPOISON_MEMORY_REGION(f->ram + RAM_SIZE, GUARD);
	for (unsigned i = 0; i < GUARD; i++) {
		assert_int_equal(f->block[i], GUARD_BYTE);
		assert_int_equal(f->ram[RAM_SIZE + i], GUARD_BYTE);
	}
	free(f->block);
	free(f);
	return 0;
}

static uint32_t rd(struct fake *f, uint64_t off)
{
	uint64_t v = 0xdeadbeefdeadbeefULL;

	assert_int_equal(virtio_mmio_access(&f->dev, false, off, 4, &v), 0);
	assert_true(v <= 0xffffffffULL);
	return (uint32_t)v;
}

static void wr(struct fake *f, uint64_t off, uint32_t val)
{
	uint64_t v = val;

	assert_int_equal(virtio_mmio_access(&f->dev, true, off, 4, &v), 0);
}

static uint64_t device_features(struct fake *f)
{
	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	uint64_t hi = rd(f, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return hi << 32 | rd(f, VIRTIO_MMIO_DEVICE_FEATURES);
}

static void write_driver_features(struct fake *f, uint64_t feat)
{
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> 32));
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)feat);
}

static void add_status(struct fake *f, uint32_t bits)
{
	wr(f, VIRTIO_MMIO_STATUS, rd(f, VIRTIO_MMIO_STATUS) | bits);
}

/* Linux's virtio_dev_probe up to FEATURES_OK; returns the status read back. */
static uint32_t negotiate(struct fake *f, uint64_t feat)
{
	wr(f, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS), 0);
	add_status(f, VIRTIO_STATUS_ACKNOWLEDGE);
	add_status(f, VIRTIO_STATUS_DRIVER);
	(void)device_features(f);
	write_driver_features(f, feat);
	add_status(f, VIRTIO_STATUS_FEATURES_OK);
	return rd(f, VIRTIO_MMIO_STATUS);
}

static void setup_queue(struct fake *f, unsigned q, uint32_t num)
{
	wr(f, VIRTIO_MMIO_QUEUE_SEL, q);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), QMAX);
	wr(f, VIRTIO_MMIO_QUEUE_NUM, num);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC_IPA(q));
	wr(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(DESC_IPA(q) >> 32));
	wr(f, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)AVAIL_IPA(q));
	wr(f, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(AVAIL_IPA(q) >> 32));
	wr(f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)USED_IPA(q));
	wr(f, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(USED_IPA(q) >> 32));
	wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
}

#define FEAT_V1 VIRTIO_BIT(VIRTIO_F_VERSION_1)

/* The whole probe: both queues of size 8, DRIVER_OK. */
static void bring_up(struct fake *f, uint64_t feat)
{
	assert_true(negotiate(f, feat) & VIRTIO_STATUS_FEATURES_OK);
	setup_queue(f, 0, 8);
	setup_queue(f, 1, 8);
	add_status(f, VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS),
			 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* Driver side of a queue: one descriptor per chain, writable if w. */
static void give_buffer(struct fake *f, unsigned q, uint16_t d, uint64_t addr,
			uint32_t len, uint16_t flags)
{
	uint8_t *desc = hp(f, DESC_IPA(q)) + 16 * d;
	uint16_t *avail = (uint16_t *)hp(f, AVAIL_IPA(q));
	uint16_t idx = avail[1];
	uint16_t next = 0;

	memcpy(desc, &addr, 8);
	memcpy(desc + 8, &len, 4);
	memcpy(desc + 12, &flags, 2);
	memcpy(desc + 14, &next, 2);
	avail[2 + (idx % 8)] = d;
	avail[1] = idx + 1;
}

static uint16_t used_idx(struct fake *f, unsigned q)
{
	return ((uint16_t *)hp(f, USED_IPA(q)))[1];
}

static void test_probe(void **state)
{
	struct fake *f = *state;

	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rd(f, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(rd(f, VIRTIO_MMIO_DEVICE_ID), 42);
	assert_int_equal(rd(f, VIRTIO_MMIO_VENDOR_ID), VIRTIO_VENDOR_ID);
	assert_int_equal(device_features(f),
			 VIRTIO_BIT(0) | VIRTIO_BIT(5) | VIRTIO_TRANSPORT_FEATURES);
	assert_true(device_features(f) & FEAT_V1);
	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(rd(f, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG_GENERATION), 0);
	/* No shared memory regions. */
	assert_int_equal(rd(f, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	assert_int_equal(rd(f, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
	assert_int_equal(f->dev.bad_accesses, 0);
	assert_int_equal(log_calls, 0);
}

static void test_linux_bring_up_and_io(void **state)
{
	struct fake *f = *state;

	bring_up(f, FEAT_V1 | VIRTIO_BIT(5) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	assert_int_equal(f->driver_oks, 1);
	assert_true(f->dev.vq[0].event_idx);
	assert_false(f->dev.vq[0].indirect);
	assert_int_equal(f->dev.driver_features,
			 FEAT_V1 | VIRTIO_BIT(5) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	for (unsigned q = 0; q < 2; q++) {
		wr(f, VIRTIO_MMIO_QUEUE_SEL, q);
		assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 1);
	}
	/* A request on queue 1. */
	give_buffer(f, 1, 3, DATA_IPA, 16, VIRTQ_DESC_F_WRITE);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(f->notified[1], 1);
	assert_int_equal(f->last_pop, 0);
	assert_int_equal(used_idx(f, 1), 1);
	assert_memory_equal(hp(f, DATA_IPA), "ok", 2);
	/* Used buffer interrupt, then Linux's vm_interrupt: read, ack. */
	assert_true(f->irq_line);
	uint32_t isr = rd(f, VIRTIO_MMIO_INTERRUPT_STATUS);
	assert_int_equal(isr, VIRTIO_MMIO_INT_VRING);
	wr(f, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	assert_false(f->irq_line);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(f->irq_raises, 1);
	assert_int_equal(f->irq_lowers, 1);
	/* Notifying a queue that does not exist does nothing. */
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 7);
	assert_int_equal(f->dev.notifies, 2);
	/* Config space: bytes, halves, words, and a write. */
	uint64_t v;
	assert_int_equal(virtio_mmio_access(&f->dev, false, 0x101, 1, &v), 0);
	assert_int_equal(v, 0x22);
	assert_int_equal(virtio_mmio_access(&f->dev, false, 0x102, 2, &v), 0);
	assert_int_equal(v, 0x4433);
	assert_int_equal(virtio_mmio_access(&f->dev, false, 0x104, 4, &v), 0);
	assert_int_equal(v, 0x88776655);
	v = 0xab;
	assert_int_equal(virtio_mmio_access(&f->dev, true, 0x100, 1, &v), 0);
	assert_int_equal(f->config[0], 0xab);
	/* Config generation and change interrupt. */
	virtio_dev_config_changed(&f->dev);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG_GENERATION), 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_true(f->irq_line);
	wr(f, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	assert_false(f->irq_line);
	assert_int_equal(f->dev.bad_accesses, 0);

	/* Reset: queues cleared, device told, interrupt low. */
	give_buffer(f, 0, 0, DATA_IPA, 16, VIRTQ_DESC_F_WRITE);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_true(f->irq_line);
	wr(f, VIRTIO_MMIO_STATUS, 0);
	assert_false(f->irq_line);
	assert_int_equal(f->resets, 2); /* the probe's and this one */
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	for (unsigned q = 0; q < 2; q++) {
		wr(f, VIRTIO_MMIO_QUEUE_SEL, q);
		assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
		assert_int_equal(f->dev.vq[q].num, 0);
	}
	assert_int_equal(f->dev.driver_features, 0);
}

static void test_indirect_negotiated(void **state)
{
	struct fake *f = *state;

	bring_up(f, FEAT_V1 | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
	assert_true(f->dev.vq[1].indirect);
	assert_false(f->dev.vq[1].event_idx);
}

static void test_feature_refusal(void **state)
{
	struct fake *f = *state;

	/* Not offered. */
	assert_false(negotiate(f, FEAT_V1 | VIRTIO_BIT(1)) & VIRTIO_STATUS_FEATURES_OK);
	assert_false(negotiate(f, FEAT_V1 | VIRTIO_BIT(VIRTIO_F_RING_PACKED)) &
		     VIRTIO_STATUS_FEATURES_OK);
	/* Legacy drivers (no VERSION_1). */
	assert_false(negotiate(f, VIRTIO_BIT(0)) & VIRTIO_STATUS_FEATURES_OK);
	/* Bits beyond 64. */
	wr(f, VIRTIO_MMIO_STATUS, 0);
	add_status(f, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	write_driver_features(f, FEAT_V1);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	add_status(f, VIRTIO_STATUS_FEATURES_OK);
	assert_false(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	/* Refused, then DRIVER_OK: refused too. */
	add_status(f, VIRTIO_STATUS_DRIVER_OK);
	assert_false(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(f->driver_oks, 0);
	/* The driver gives up: FAILED is taken. */
	add_status(f, VIRTIO_STATUS_FAILED);
	assert_true(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FAILED);

	/* Features written before DRIVER are ignored. */
	wr(f, VIRTIO_MMIO_STATUS, 0);
	write_driver_features(f, FEAT_V1);
	assert_int_equal(f->dev.driver_features, 0);
	/* A subset is fine, and cannot change after FEATURES_OK. */
	assert_true(negotiate(f, FEAT_V1) & VIRTIO_STATUS_FEATURES_OK);
	unsigned bad = f->dev.bad_accesses;
	write_driver_features(f, FEAT_V1 | VIRTIO_BIT(0));
	assert_int_equal(f->dev.driver_features, FEAT_V1);
	assert_true(f->dev.bad_accesses > bad);
	assert_int_equal(log_calls, 1); /* once */
}

static void test_status_rules(void **state)
{
	struct fake *f = *state;

	/* DRIVER_OK before FEATURES_OK. */
	add_status(f, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	add_status(f, VIRTIO_STATUS_DRIVER_OK);
	assert_false(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK);
	/* FEATURES_OK without DRIVER. */
	wr(f, VIRTIO_MMIO_STATUS, 0);
	add_status(f, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	add_status(f, VIRTIO_STATUS_FEATURES_OK);
	assert_false(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);

	bring_up(f, FEAT_V1);
	uint32_t st = rd(f, VIRTIO_MMIO_STATUS);
	/* Clearing a bit (other than by reset) is ignored. */
	wr(f, VIRTIO_MMIO_STATUS, st & ~VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS), st);
	/* So is DEVICE_NEEDS_RESET set by the driver, and unknown bits. */
	wr(f, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS), st);
	wr(f, VIRTIO_MMIO_STATUS, st | 0x100);
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS), st);
	wr(f, VIRTIO_MMIO_STATUS, st | 0x10);
	assert_int_equal(rd(f, VIRTIO_MMIO_STATUS), st);
	/* Writing the same status again is harmless: no second DRIVER_OK. */
	wr(f, VIRTIO_MMIO_STATUS, st);
	assert_int_equal(f->driver_oks, 1);
}

static void test_queue_registers(void **state)
{
	struct fake *f = *state;

	/* Before FEATURES_OK a queue cannot be made ready. */
	wr(f, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	setup_queue(f, 0, 8);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);

	assert_true(negotiate(f, FEAT_V1) & VIRTIO_STATUS_FEATURES_OK);
	setup_queue(f, 0, 8);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 1);
	/* Layout frozen while ready. */
	wr(f, VIRTIO_MMIO_QUEUE_NUM, 4);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	wr(f, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 1);
	wr(f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0);
	assert_int_equal(f->dev.vq[0].num, 8);
	assert_int_equal(f->dev.vq[0].desc_ipa, DESC_IPA(0));
	assert_int_equal(f->dev.vq[0].avail_ipa, AVAIL_IPA(0));
	assert_int_equal(f->dev.vq[0].used_ipa, USED_IPA(0));
	/* Ready twice, or other values: ignored. */
	wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(f, VIRTIO_MMIO_QUEUE_READY, 2);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 1);
	/* Ready 0 turns it off (Linux's del_vq reads it back). */
	wr(f, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	wr(f, VIRTIO_MMIO_QUEUE_NUM, 4);
	assert_int_equal(f->dev.vq[0].num, 4);
	/* Queues the device does not have. */
	wr(f, VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	wr(f, VIRTIO_MMIO_QUEUE_NUM, 8);
	wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	wr(f, VIRTIO_MMIO_QUEUE_SEL, 0xffffffff);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1234);
	for (unsigned q = 2; q < VIRTIO_MAX_QUEUES; q++)
		assert_int_equal(f->dev.vq[q].desc_ipa, 0);
	assert_false(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

/* Each bad queue layout: not ready, device needs a reset. */
static void bad_layout(struct fake *f, uint32_t num, uint64_t desc, uint64_t avail,
		       uint64_t used)
{
	assert_true(negotiate(f, FEAT_V1) & VIRTIO_STATUS_FEATURES_OK);
	wr(f, VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(f, VIRTIO_MMIO_QUEUE_NUM, num);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	wr(f, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
	wr(f, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
	wr(f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
	wr(f, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
	wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	/* No interrupt before DRIVER_OK. */
	assert_false(f->irq_line);
	/* ... and DRIVER_OK does not make it usable, but tells the driver. */
	add_status(f, VIRTIO_STATUS_DRIVER_OK);
	assert_false(virtio_dev_queue_usable(&f->dev, 1));
	assert_true(f->irq_line);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
}

static void test_bad_queue_layouts(void **state)
{
	struct fake *f = *state;

	bad_layout(f, 0, DESC_IPA(1), AVAIL_IPA(1), USED_IPA(1));
	bad_layout(f, 12, DESC_IPA(1), AVAIL_IPA(1), USED_IPA(1));
	bad_layout(f, QMAX * 2, DESC_IPA(1), AVAIL_IPA(1), USED_IPA(1));
	bad_layout(f, 0x10008, DESC_IPA(1), AVAIL_IPA(1), USED_IPA(1));
	bad_layout(f, 8, DESC_IPA(1) + 4, AVAIL_IPA(1), USED_IPA(1));
	bad_layout(f, 8, DESC_IPA(1), AVAIL_IPA(1) + 1, USED_IPA(1));
	bad_layout(f, 8, DESC_IPA(1), AVAIL_IPA(1), USED_IPA(1) + 2);
	bad_layout(f, 8, RAM_BASE + RAM_SIZE, AVAIL_IPA(1), USED_IPA(1));
	bad_layout(f, 8, DESC_IPA(1), RAM_BASE - 0x100, USED_IPA(1));
	bad_layout(f, 8, DESC_IPA(1), AVAIL_IPA(1), RAM_BASE + RAM_SIZE - 0x10);
	bad_layout(f, 8, DESC_IPA(1) + (1ULL << 32), AVAIL_IPA(1), USED_IPA(1));
	bad_layout(f, 8, 0xfffffffffffffff0ULL, AVAIL_IPA(1), USED_IPA(1));
	/* After a reset the same driver can get it right. */
	assert_int_equal(negotiate(f, FEAT_V1) & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
	setup_queue(f, 1, 8);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 1);
}

static void test_access_rules(void **state)
{
	struct fake *f = *state;
	uint64_t v;

	bring_up(f, FEAT_V1);
	/* Registers: 32-bit aligned words only. */
	for (unsigned size = 1; size <= 8; size *= 2) {
		if (size == 4)
			continue;
		v = 0;
		assert_int_equal(virtio_mmio_access(&f->dev, false, VIRTIO_MMIO_MAGIC_VALUE,
						    size, &v), -SHYPER_EINVAL);
		v = 0;
		assert_int_equal(virtio_mmio_access(&f->dev, true, VIRTIO_MMIO_STATUS,
						    size, &v), -SHYPER_EINVAL);
	}
	assert_int_equal(virtio_mmio_access(&f->dev, false, 0x2, 4, &v), -SHYPER_EINVAL);
	v = 0;
	assert_int_equal(virtio_mmio_access(&f->dev, true, VIRTIO_MMIO_STATUS + 1, 4, &v),
			 -SHYPER_EINVAL);
	/* Nothing changed: still running. */
	assert_true(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK);
	/* Unknown offsets and write-only registers read 0; writes to them and
	 * to read-only registers are ignored; all counted, logged once. */
	unsigned bad = f->dev.bad_accesses;
	assert_int_equal(rd(f, 0x018), 0);
	assert_int_equal(rd(f, 0x0c0), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NOTIFY), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
	wr(f, VIRTIO_MMIO_MAGIC_VALUE, 0);
	wr(f, VIRTIO_MMIO_DEVICE_ID, 7);
	wr(f, VIRTIO_MMIO_INTERRUPT_STATUS, 1);
	wr(f, 0x0f8, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
	assert_int_equal(rd(f, VIRTIO_MMIO_DEVICE_ID), 42);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(f->dev.bad_accesses, bad + 8);
	assert_int_equal(log_calls, 1);
	/* Config space: aligned 1, 2, 4 bytes; beyond it reads 0. */
	assert_int_equal(virtio_mmio_access(&f->dev, false, 0x101, 2, &v), -SHYPER_EINVAL);
	assert_int_equal(virtio_mmio_access(&f->dev, false, 0x102, 4, &v), -SHYPER_EINVAL);
	assert_int_equal(virtio_mmio_access(&f->dev, false, 0x100, 8, &v), -SHYPER_EINVAL);
	v = 0x1234;
	assert_int_equal(virtio_mmio_access(&f->dev, false, 0x108, 4, &v), 0);
	assert_int_equal(v, 0);
	v = 0x1234;
	assert_int_equal(virtio_mmio_access(&f->dev, false, 0x1ff, 1, &v), 0);
	assert_int_equal(v, 0);
	v = 0xff;
	assert_int_equal(virtio_mmio_access(&f->dev, true, 0x108, 1, &v), 0);
	assert_memory_equal(f->config, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	/* Beyond the register block. */
	v = 5;
	assert_int_equal(virtio_mmio_access(&f->dev, false, 0x1000, 4, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(log_calls, 1);
}

static void test_broken_queue_needs_reset(void **state)
{
	struct fake *f = *state;

	bring_up(f, FEAT_V1);
	/* Buffer outside RAM. */
	give_buffer(f, 0, 2, RAM_BASE + RAM_SIZE - 4, 16, VIRTQ_DESC_F_WRITE);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(f->last_pop, -SHYPER_EFAULT);
	assert_true(f->dev.vq[0].broken);
	assert_true(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_true(f->irq_line);
	assert_int_equal(used_idx(f, 0), 0);
	/* The device stops: the other queue is not served either. */
	give_buffer(f, 1, 0, DATA_IPA, 16, VIRTQ_DESC_F_WRITE);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(f->notified[1], 0);
	assert_int_equal(used_idx(f, 1), 0);
	/* The driver's status writes keep DEVICE_NEEDS_RESET... */
	add_status(f, VIRTIO_STATUS_FAILED);
	assert_true(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	wr(f, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	/* ...until it resets; then it all works again. */
	memset(f->ram, 0, 0x6000);
	bring_up(f, FEAT_V1);
	give_buffer(f, 0, 2, DATA_IPA, 16, VIRTQ_DESC_F_WRITE);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(used_idx(f, 0), 1);
	assert_int_equal(f->last_pop, 0);
}

static void test_notify_before_driver_ok(void **state)
{
	struct fake *f = *state;

	assert_true(negotiate(f, FEAT_V1) & VIRTIO_STATUS_FEATURES_OK);
	setup_queue(f, 0, 8);
	setup_queue(f, 1, 8);
	give_buffer(f, 0, 0, DATA_IPA, 4, VIRTQ_DESC_F_WRITE);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(f->notified[0], 0);
	assert_int_equal(used_idx(f, 0), 0);
	/* DRIVER_OK looks at what was made available before. */
	add_status(f, VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(f->notified[0], 1);
	assert_int_equal(used_idx(f, 0), 1);
}

static void test_no_interrupt_flag(void **state)
{
	struct fake *f = *state;

	bring_up(f, FEAT_V1);
	((uint16_t *)hp(f, AVAIL_IPA(0)))[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	give_buffer(f, 0, 0, DATA_IPA, 4, VIRTQ_DESC_F_WRITE);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(used_idx(f, 0), 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_false(f->irq_line);
}

static void test_handler_and_remap(void **state)
{
	struct fake *f = *state;
	struct mmio_access acc = { .addr = 0x0a000000, .size = 4, .write = false };

	assert_int_equal(virtio_mmio_handler(NULL, &acc, VIRTIO_MMIO_MAGIC_VALUE, &f->dev), 0);
	assert_int_equal(acc.value, VIRTIO_MMIO_MAGIC);
	acc.write = true;
	acc.value = VIRTIO_STATUS_ACKNOWLEDGE;
	assert_int_equal(virtio_mmio_handler(NULL, &acc, VIRTIO_MMIO_STATUS, &f->dev), 0);
	assert_int_equal(f->dev.status, VIRTIO_STATUS_ACKNOWLEDGE);
	acc.size = 2;
	acc.value = 0;
	assert_int_equal(virtio_mmio_handler(NULL, &acc, VIRTIO_MMIO_STATUS, &f->dev),
			 -SHYPER_EINVAL);
	assert_int_equal(f->dev.status, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(f->dev.lock, 0);

	/* Carried over (pointers lost), remapped, carries on. */
	bring_up(f, FEAT_V1);
	give_buffer(f, 0, 0, DATA_IPA, 4, VIRTQ_DESC_F_WRITE);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	for (unsigned q = 0; q < 2; q++)
		f->dev.vq[q].desc = f->dev.vq[q].avail = f->dev.vq[q].used = NULL;
	assert_int_equal(virtio_dev_remap(&f->dev), 0);
	give_buffer(f, 0, 1, DATA_IPA, 4, VIRTQ_DESC_F_WRITE);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(used_idx(f, 0), 2);
}

/* Live update: the old image's pointers lead nowhere; rebinding gives the
 * new ones and changes nothing else, and I/O goes on through them. */
static void test_rebind(void **state)
{
	struct fake *f = *state;
	struct guest_mem gm = { .ptr = rebound_ptr, .ctx = f };
	struct virtio_dev before;

	bring_up(f, FEAT_V1);
	give_buffer(f, 1, 0, DATA_IPA, 16, VIRTQ_DESC_F_WRITE);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	wr(f, VIRTIO_MMIO_INTERRUPT_ACK, rd(f, VIRTIO_MMIO_INTERRUPT_STATUS));
	wr(f, VIRTIO_MMIO_QUEUE_SEL, 1);
	memcpy(&before, &f->dev, sizeof(before));
	f->dev.ops = (const struct virtio_dev_ops *)1;
	f->dev.mem.ptr = (void *(*)(void *, uint64_t, uint64_t))1;
	f->dev.irq = (virtio_irq_fn)1;

	virtio_dev_rebind(&f->dev, &fake_ops_rebound, &gm, rebound_irq, f);
	before.ops = &fake_ops_rebound;
	before.mem = gm;
	before.irq = rebound_irq;
	assert_memory_equal(&f->dev, &before, sizeof(before));
	assert_ptr_equal(f->dev.vq[1].mem, &f->dev.mem);

	give_buffer(f, 1, 1, DATA_IPA + 0x100, 16, VIRTQ_DESC_F_WRITE);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(used_idx(f, 1), 2);
	assert_memory_equal(hp(f, DATA_IPA + 0x100), "ok", 2);
	assert_true(f->rebound_ptrs > 0);
	assert_int_equal(f->rebound_raises, 1);
	assert_int_equal(f->irq_raises, 1); /* the old line saw only the first */
	assert_int_equal(f->dev.bad_accesses, 0);

	/* Again with the same values: nothing changes. */
	memcpy(&before, &f->dev, sizeof(before));
	virtio_dev_rebind(&f->dev, &fake_ops_rebound, &gm, rebound_irq, f);
	assert_memory_equal(&f->dev, &before, sizeof(before));
}

static void test_init_checks(void **state)
{
	struct fake *f = *state;
	struct virtio_dev d;
	struct virtio_dev_ops ops = fake_ops;
	struct guest_mem gm = { .ptr = sim_ptr, .ctx = f };

	ops.nr_queues = VIRTIO_MAX_QUEUES + 1;
	assert_int_equal(virtio_dev_init(&d, &ops, f, &gm, NULL, NULL), -SHYPER_EINVAL);
	ops = fake_ops;
	ops.queue_num_max = 24;
	assert_int_equal(virtio_dev_init(&d, &ops, f, &gm, NULL, NULL), -SHYPER_EINVAL);
	ops.queue_num_max = 512;
	assert_int_equal(virtio_dev_init(&d, &ops, f, &gm, NULL, NULL), -SHYPER_EINVAL);
	ops = fake_ops;
	ops.config_size = VIRTIO_MAX_CONFIG + 1;
	assert_int_equal(virtio_dev_init(&d, &ops, f, &gm, NULL, NULL), -SHYPER_EINVAL);
	assert_int_equal(virtio_dev_init(&d, &fake_ops, f, NULL, NULL, NULL), -SHYPER_EINVAL);
	/* No irq callback: fine. */
	assert_int_equal(virtio_dev_init(&d, &fake_ops, f, &gm, NULL, NULL), 0);
	virtio_dev_config_changed(&d);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_probe),
		T(test_linux_bring_up_and_io),
		T(test_indirect_negotiated),
		T(test_feature_refusal),
		T(test_status_rules),
		T(test_queue_registers),
		T(test_bad_queue_layouts),
		T(test_access_rules),
		T(test_broken_queue_needs_reset),
		T(test_notify_before_driver_ok),
		T(test_no_interrupt_flag),
		T(test_handler_and_remap),
		T(test_rebind),
		T(test_init_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
