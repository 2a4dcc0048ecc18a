/*
 * Split virtqueues (hv/dev/virtq.c) over a simulated guest RAM, driven the
 * way a virtio driver fills the rings: good chains (readable, writable,
 * mixed, indirect, wrapping indices), interrupt suppression (NO_INTERRUPT,
 * EVENT_IDX), and every malformed input a guest can make (bad sizes and
 * ring addresses, indices out of range, loops, buffers outside RAM or
 * wrapping, writable before readable, avail idx jumps, bad indirect
 * tables). Guard zones around the RAM are poisoned for ASan and checked
 * for their pattern after each test: nothing outside the guest's RAM may be
 * touched; a broken queue must stay broken.
 *
 * unit-sources: hv/dev/virtq.c
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

#include <dev/virtq.h>
#include <shyper/errno.h>
#include <shyper/virtio.h>

#define RAM_BASE 0x40000000ULL
#define RAM_SIZE 0x20000ULL
#define GUARD 0x1000
#define GUARD_BYTE 0xa5
#define DESC_IPA (RAM_BASE + 0x0000)
#define AVAIL_IPA (RAM_BASE + 0x1000)
#define USED_IPA (RAM_BASE + 0x2000)
#define DATA_IPA (RAM_BASE + 0x8000)
#define IND_IPA (RAM_BASE + 0x6000)

struct sim {
	uint8_t *block; /* guard | ram | guard */
	uint8_t *ram;
	struct guest_mem gm;
	struct virtq vq;
	unsigned ptr_calls;
	uint8_t *marked;	/* bytes guest_mem.dirty was told of */
	unsigned marks;
};

static void *sim_ptr(void *ctx, uint64_t ipa, uint64_t len)
{
	struct sim *s = ctx;

	s->ptr_calls++;
	assert_true(len > 0);
	if (ipa < RAM_BASE || len > RAM_SIZE || ipa - RAM_BASE > RAM_SIZE - len)
		return NULL;
	return s->ram + (ipa - RAM_BASE);
}

static uint8_t *hp(struct sim *s, uint64_t ipa)
{
	return s->ram + (ipa - RAM_BASE);
}

static int setup(void **state)
{
	struct sim *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->block = aligned_alloc(4096, RAM_SIZE + 2 * GUARD);
	assert_non_null(s->block);
	memset(s->block, GUARD_BYTE, RAM_SIZE + 2 * GUARD);
	s->ram = s->block + GUARD;
	memset(s->ram, 0, RAM_SIZE);
	ASAN_POISON_MEMORY_REGION(s->block, GUARD);
	ASAN_POISON_MEMORY_REGION(s->ram + RAM_SIZE, GUARD);
	s->gm.ptr = sim_ptr;
	s->gm.ctx = s;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct sim *s = *state;

	ASAN_UNPOISON_MEMORY_REGION(s->block, GUARD);
	ASAN_UNPOISON_MEMORY_REGION(s->ram + RAM_SIZE, GUARD);
	for (unsigned i = 0; i < GUARD; i++) {
		assert_int_equal(s->block[i], GUARD_BYTE);
		assert_int_equal(s->ram[RAM_SIZE + i], GUARD_BYTE);
	}
	free(s->block);
	free(s);
	return 0;
}

/* Driver side. */
static void set_desc_at(uint8_t *table, unsigned i, uint64_t addr,
			uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = table + 16 * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void set_desc(struct sim *s, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	set_desc_at(hp(s, DESC_IPA), i, addr, len, flags, next);
}

static uint16_t *avail16(struct sim *s, unsigned i)
{
	return (uint16_t *)hp(s, AVAIL_IPA) + i;
}

static void avail_add(struct sim *s, uint16_t head)
{
	uint16_t idx = *avail16(s, 1);

	*avail16(s, 2 + (idx & (s->vq.num - 1))) = head;
	*avail16(s, 1) = idx + 1;
}

static void set_used_event(struct sim *s, uint16_t v)
{
	*avail16(s, 2 + s->vq.num) = v;
}

static uint16_t used_idx(struct sim *s)
{
	return *(uint16_t *)(hp(s, USED_IPA) + 2);
}

static uint32_t used_elem(struct sim *s, unsigned i, unsigned field)
{
	uint32_t v;

	memcpy(&v, hp(s, USED_IPA) + 4 + 8 * (i & (s->vq.num - 1)) + 4 * field, 4);
	return v;
}

static uint16_t avail_event(struct sim *s)
{
	uint16_t v;

	memcpy(&v, hp(s, USED_IPA) + 4 + 8 * s->vq.num, 2);
	return v;
}

static int enable(struct sim *s, uint16_t num, bool event_idx, bool indirect)
{
	virtq_reset(&s->vq);
	s->vq.num = num;
	s->vq.desc_ipa = DESC_IPA;
	s->vq.avail_ipa = AVAIL_IPA;
	s->vq.used_ipa = USED_IPA;
	return virtq_enable(&s->vq, &s->gm, VIRTQ_MAX_SIZE, event_idx, indirect);
}

#define SEGS 16

/* Pops one chain that must fail with `err`, then checks it stays broken. */
static void expect_broken(struct sim *s, int err)
{
	struct virtq_seg segs[SEGS];
	struct virtq_chain c;
	uint16_t used = used_idx(s);

	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), err);
	assert_true(s->vq.broken);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), err);
	assert_int_equal(virtq_peek(&s->vq, segs, SEGS, &c), err);
	c.head = 0;
	c.write_len = 0;
	assert_int_equal(virtq_push(&s->vq, &c, 0), err);
	assert_false(virtq_should_notify(&s->vq));
	assert_false(virtq_has_avail(&s->vq));
	assert_int_equal(used_idx(s), used);
}

static void test_enable_checks(void **state)
{
	struct sim *s = *state;
	static const uint16_t bad_nums[] = { 0, 3, 6, 255, 512, 1024, 0xffff };

	for (unsigned i = 0; i < sizeof(bad_nums) / sizeof(bad_nums[0]); i++) {
		assert_int_equal(enable(s, bad_nums[i], false, false), -SHYPER_EINVAL);
		assert_false(s->vq.ready);
	}
	/* A device offering fewer than the driver asks for. */
	virtq_reset(&s->vq);
	s->vq.num = 64;
	s->vq.desc_ipa = DESC_IPA;
	s->vq.avail_ipa = AVAIL_IPA;
	s->vq.used_ipa = USED_IPA;
	assert_int_equal(virtq_enable(&s->vq, &s->gm, 32, false, false), -SHYPER_EINVAL);
	assert_false(s->vq.ready);

	/* Alignment: 16 for descriptors, 2 for the driver area, 4 for used. */
	struct {
		uint64_t desc, avail, used;
		int err;
	} cases[] = {
		{ DESC_IPA + 8, AVAIL_IPA, USED_IPA, -SHYPER_EINVAL },
		{ DESC_IPA, AVAIL_IPA + 1, USED_IPA, -SHYPER_EINVAL },
		{ DESC_IPA, AVAIL_IPA, USED_IPA + 2, -SHYPER_EINVAL },
		/* Outside RAM, straddling its end, wrapping around 2^64. */
		{ RAM_BASE - 0x1000, AVAIL_IPA, USED_IPA, -SHYPER_EFAULT },
		{ DESC_IPA, RAM_BASE + RAM_SIZE, USED_IPA, -SHYPER_EFAULT },
		{ DESC_IPA, AVAIL_IPA, RAM_BASE + RAM_SIZE - 0x100, -SHYPER_EFAULT },
		{ RAM_BASE + RAM_SIZE - 0x800, AVAIL_IPA, USED_IPA, -SHYPER_EFAULT },
		{ 0xfffffffffffff000ULL, AVAIL_IPA, USED_IPA, -SHYPER_EFAULT },
		{ DESC_IPA, 0xfffffffffffffffeULL, USED_IPA, -SHYPER_EFAULT },
		{ DESC_IPA, AVAIL_IPA, 0xfffffffffffffffcULL, -SHYPER_EFAULT },
		{ 0, 0, 0, -SHYPER_EFAULT },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		virtq_reset(&s->vq);
		s->vq.num = 256;
		s->vq.desc_ipa = cases[i].desc;
		s->vq.avail_ipa = cases[i].avail;
		s->vq.used_ipa = cases[i].used;
		assert_int_equal(virtq_enable(&s->vq, &s->gm, 256, false, false),
				 cases[i].err);
		assert_false(s->vq.ready);
	}
	/* A queue that is not ready has nothing and takes nothing. */
	struct virtq_seg segs[SEGS];
	struct virtq_chain c = { 0 };

	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 0);
	assert_int_equal(virtq_push(&s->vq, &c, 0), -SHYPER_EINVAL);
	assert_false(virtq_should_notify(&s->vq));

	/* Largest queue, rings packed against the very end of RAM: fine. */
	virtq_reset(&s->vq);
	s->vq.num = 256;
	s->vq.desc_ipa = RAM_BASE + RAM_SIZE - VIRTQ_DESC_TABLE_BYTES(256);
	s->vq.avail_ipa = s->vq.desc_ipa - VIRTQ_AVAIL_BYTES(256);
	s->vq.used_ipa = (s->vq.avail_ipa - VIRTQ_USED_BYTES(256)) & ~3ULL;
	assert_int_equal(virtq_enable(&s->vq, &s->gm, 256, true, true), 0);
	assert_true(s->vq.ready);
}

static void test_empty(void **state)
{
	struct sim *s = *state;
	struct virtq_seg segs[SEGS];
	struct virtq_chain c;

	assert_int_equal(enable(s, 8, false, false), 0);
	assert_false(virtq_has_avail(&s->vq));
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 0);
	assert_int_equal(virtq_peek(&s->vq, segs, SEGS, &c), 0);
	assert_false(s->vq.broken);
}

static void test_readable_chain(void **state)
{
	struct sim *s = *state;
	struct virtq_seg segs[SEGS];
	struct virtq_chain c;
	char buf[16] = { 0 };

	assert_int_equal(enable(s, 8, false, false), 0);
	memcpy(hp(s, DATA_IPA), "hello", 5);
	set_desc(s, 5, DATA_IPA, 5, 0, 0);
	avail_add(s, 5);
	assert_true(virtq_has_avail(&s->vq));
	/* Peek leaves it there. */
	assert_int_equal(virtq_peek(&s->vq, segs, SEGS, &c), 1);
	assert_int_equal(s->vq.last_avail, 0);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
	assert_int_equal(s->vq.last_avail, 1);
	assert_int_equal(c.head, 5);
	assert_int_equal(c.nr_segs, 1);
	assert_int_equal(c.nr_read, 1);
	assert_int_equal(c.read_len, 5);
	assert_int_equal(c.write_len, 0);
	assert_ptr_equal(segs[0].host_ptr, hp(s, DATA_IPA));
	assert_int_equal(segs[0].len, 5);
	assert_false(segs[0].device_writable);
	assert_int_equal(virtq_read_chain(segs, &c, 0, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(virtq_read_chain(segs, &c, 3, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "lo", 2);
	/* Nothing writable: written length clamps to 0. */
	assert_int_equal(virtq_write_chain(segs, &c, 0, "x", 1), 0);
	assert_int_equal(virtq_push(&s->vq, &c, 100), 0);
	assert_int_equal(used_idx(s), 1);
	assert_int_equal(used_elem(s, 0, 0), 5);
	assert_int_equal(used_elem(s, 0, 1), 0);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 0);
}

static void test_mixed_chain(void **state)
{
	struct sim *s = *state;
	struct virtq_seg segs[SEGS];
	struct virtq_chain c;
	char buf[32];

	assert_int_equal(enable(s, 4, false, false), 0);
	memcpy(hp(s, DATA_IPA), "abc", 3);
	memcpy(hp(s, DATA_IPA + 0x100), "defg", 4);
	/* 2 -> 0 -> 3 -> 1: two readable, two writable. */
	set_desc(s, 2, DATA_IPA, 3, VIRTQ_DESC_F_NEXT, 0);
	set_desc(s, 0, DATA_IPA + 0x100, 4, VIRTQ_DESC_F_NEXT, 3);
	set_desc(s, 3, DATA_IPA + 0x200, 2, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set_desc(s, 1, DATA_IPA + 0x300, 6, VIRTQ_DESC_F_WRITE, 0);
	avail_add(s, 2);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
	assert_int_equal(c.head, 2);
	assert_int_equal(c.nr_segs, 4);
	assert_int_equal(c.nr_read, 2);
	assert_int_equal(c.read_len, 7);
	assert_int_equal(c.write_len, 8);
	assert_false(segs[1].device_writable);
	assert_true(segs[2].device_writable);
	assert_int_equal(virtq_read_chain(segs, &c, 0, buf, sizeof(buf)), 7);
	assert_memory_equal(buf, "abcdefg", 7);
	assert_int_equal(virtq_write_chain(segs, &c, 1, "WXYZUVTS", 8), 7);
	assert_memory_equal(hp(s, DATA_IPA + 0x200), "\0W", 2);
	assert_memory_equal(hp(s, DATA_IPA + 0x300), "XYZUVT", 6);
	assert_int_equal(virtq_push(&s->vq, &c, 1000), 0);
	assert_int_equal(used_elem(s, 0, 0), 2);
	assert_int_equal(used_elem(s, 0, 1), 8); /* clamped */

	/* Every descriptor of the table in one chain: allowed (= size). */
	for (unsigned i = 0; i < 4; i++)
		set_desc(s, i, DATA_IPA + i, 1, i < 3 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	avail_add(s, 0);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
	assert_int_equal(c.nr_segs, 4);
	/* Segment array exactly as long as the chain: fine. */
	avail_add(s, 0);
	assert_int_equal(virtq_pop(&s->vq, segs, 4, &c), 1);
}

static void test_zero_length_skipped(void **state)
{
	struct sim *s = *state;
	struct virtq_seg segs[SEGS];
	struct virtq_chain c;

	assert_int_equal(enable(s, 8, false, false), 0);
	/* Empty buffers with addresses outside RAM: skipped, never mapped. */
	set_desc(s, 0, 0xdead0000, 0, VIRTQ_DESC_F_NEXT, 1);
	set_desc(s, 1, DATA_IPA, 4, VIRTQ_DESC_F_NEXT, 2);
	set_desc(s, 2, 0xffffffffffffffffULL, 0, VIRTQ_DESC_F_WRITE, 0);
	avail_add(s, 0);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
	assert_int_equal(c.nr_segs, 1);
	assert_int_equal(c.read_len, 4);
	assert_int_equal(c.write_len, 0);
	/* Alone in a chain: a chain of nothing. */
	set_desc(s, 3, 0, 0, 0, 0);
	avail_add(s, 3);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
	assert_int_equal(c.nr_segs, 0);
	assert_int_equal(virtq_push(&s->vq, &c, 5), 0);
	assert_int_equal(used_elem(s, 0, 1), 0);
	/* Still ordered: empty writable then readable is refused. */
	set_desc(s, 4, DATA_IPA, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 5);
	set_desc(s, 5, DATA_IPA, 4, 0, 0);
	avail_add(s, 4);
	expect_broken(s, -SHYPER_EPROTO);
}

static void test_writable_before_readable(void **state)
{
	struct sim *s = *state;

	assert_int_equal(enable(s, 8, false, false), 0);
	set_desc(s, 0, DATA_IPA, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(s, 1, DATA_IPA + 16, 4, 0, 0);
	avail_add(s, 0);
	expect_broken(s, -SHYPER_EPROTO);
}

static void test_bad_head(void **state)
{
	struct sim *s = *state;

	assert_int_equal(enable(s, 8, false, false), 0);
	avail_add(s, 8); /* == size */
	expect_broken(s, -SHYPER_EINVAL);

	assert_int_equal(enable(s, 8, false, false), 0);
	*avail16(s, 1) = 0;
	avail_add(s, 0xffff);
	expect_broken(s, -SHYPER_EINVAL);
}

static void test_bad_next(void **state)
{
	struct sim *s = *state;

	assert_int_equal(enable(s, 8, false, false), 0);
	set_desc(s, 0, DATA_IPA, 4, VIRTQ_DESC_F_NEXT, 8);
	avail_add(s, 0);
	expect_broken(s, -SHYPER_EINVAL);
}

static void test_loops(void **state)
{
	struct sim *s = *state;

	/* Self loop. */
	assert_int_equal(enable(s, 8, false, false), 0);
	set_desc(s, 3, DATA_IPA, 4, VIRTQ_DESC_F_NEXT, 3);
	avail_add(s, 3);
	expect_broken(s, -SHYPER_EPROTO);

	/* 0 -> 1 -> 2 -> 0, writable so ordering holds. */
	memset(hp(s, AVAIL_IPA), 0, 0x100);
	assert_int_equal(enable(s, 8, false, false), 0);
	for (unsigned i = 0; i < 3; i++)
		set_desc(s, i, DATA_IPA + 16 * i, 4,
			 VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (i + 1) % 3);
	avail_add(s, 0);
	expect_broken(s, -SHYPER_EPROTO);

	/* Zero-length descriptors cannot sneak a loop through either. */
	memset(hp(s, AVAIL_IPA), 0, 0x100);
	assert_int_equal(enable(s, 8, false, false), 0);
	set_desc(s, 0, 0, 0, VIRTQ_DESC_F_NEXT, 1);
	set_desc(s, 1, 0, 0, VIRTQ_DESC_F_NEXT, 0);
	avail_add(s, 0);
	expect_broken(s, -SHYPER_EPROTO);
}

static void test_buffer_outside_ram(void **state)
{
	struct sim *s = *state;
	struct {
		uint64_t addr;
		uint32_t len;
	} cases[] = {
		{ RAM_BASE - 0x10, 0x10 },		 /* just below */
		{ RAM_BASE - 0x8, 0x10 },		 /* straddles the start */
		{ RAM_BASE + RAM_SIZE - 4, 8 },		 /* straddles the end */
		{ RAM_BASE + RAM_SIZE, 1 },		 /* just after */
		{ 0xfffffffffffff000ULL, 0x2000 },	 /* wraps */
		{ 0xffffffffffffffffULL, 1 },		 /* ends at 2^64 */
		{ RAM_BASE, 0xffffffffu },		 /* too long */
		{ 0, 0x1000 },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(hp(s, AVAIL_IPA), 0, 0x100);
		assert_int_equal(enable(s, 8, false, false), 0);
		set_desc(s, 0, DATA_IPA, 4, VIRTQ_DESC_F_NEXT, 1);
		set_desc(s, 1, cases[i].addr, cases[i].len, VIRTQ_DESC_F_WRITE, 0);
		avail_add(s, 0);
		expect_broken(s, cases[i].len > VIRTQ_MAX_CHAIN_BYTES ?
					 -SHYPER_E2BIG : -SHYPER_EFAULT);
	}
}

static void test_total_length(void **state)
{
	struct sim *s = *state;

	/* Each buffer is fine alone, together they exceed the bound. */
	assert_int_equal(enable(s, 8, false, false), 0);
	set_desc(s, 0, DATA_IPA, VIRTQ_MAX_CHAIN_BYTES / 2 + 1, VIRTQ_DESC_F_NEXT, 1);
	set_desc(s, 1, DATA_IPA, VIRTQ_MAX_CHAIN_BYTES / 2, 0, 0);
	avail_add(s, 0);
	/* The first one is outside our small RAM anyway: EFAULT first. */
	expect_broken(s, -SHYPER_EFAULT);

	/* Many in-RAM buffers adding up past the bound. */
	memset(hp(s, AVAIL_IPA), 0, 0x100);
	assert_int_equal(enable(s, 8, false, false), 0);
	set_desc(s, 0, DATA_IPA, 0x10000, VIRTQ_DESC_F_NEXT, 1);
	set_desc(s, 1, 0xffffffff00000000ULL, VIRTQ_MAX_CHAIN_BYTES, 0, 0);
	avail_add(s, 0);
	expect_broken(s, -SHYPER_E2BIG);
}

static void test_too_many_segments(void **state)
{
	struct sim *s = *state;
	struct virtq_seg segs[SEGS];
	struct virtq_chain c;

	assert_int_equal(enable(s, 8, false, false), 0);
	for (unsigned i = 0; i < 3; i++)
		set_desc(s, i, DATA_IPA + 16 * i, 4, i < 2 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	avail_add(s, 0);
	assert_int_equal(virtq_pop(&s->vq, segs, 2, &c), -SHYPER_E2BIG);
	assert_true(s->vq.broken);
}

static void test_avail_jump(void **state)
{
	struct sim *s = *state;
	struct virtq_seg segs[SEGS];
	struct virtq_chain c;

	assert_int_equal(enable(s, 8, false, false), 0);
	set_desc(s, 0, DATA_IPA, 4, 0, 0);
	/* A full ring is fine... */
	*avail16(s, 1) = 8;
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
		assert_int_equal(virtq_push(&s->vq, &c, 0), 0);
	}
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 0);
	/* ...one more than a ring is not. */
	*avail16(s, 1) = 8 + 9;
	expect_broken(s, -SHYPER_EPROTO);

	/* Going backwards is a jump of almost 2^16. */
	memset(hp(s, AVAIL_IPA), 0, 0x100);
	assert_int_equal(enable(s, 8, false, false), 0);
	*avail16(s, 1) = 0xffff;
	expect_broken(s, -SHYPER_EPROTO);
}

static void test_wraparound(void **state)
{
	struct sim *s = *state;
	struct virtq_seg segs[SEGS];
	struct virtq_chain c;

	assert_int_equal(enable(s, 4, false, false), 0);
	for (unsigned i = 0; i < 4; i++)
		set_desc(s, i, DATA_IPA + 16 * i, 16, VIRTQ_DESC_F_WRITE, 0);
	for (unsigned n = 0; n < 70000; n++) {
		avail_add(s, n % 4);
		if (n % 3 == 0)
			continue; /* let two build up now and then */
		while (virtq_pop(&s->vq, segs, SEGS, &c) == 1)
			assert_int_equal(virtq_push(&s->vq, &c, c.head), 0);
	}
	while (virtq_pop(&s->vq, segs, SEGS, &c) == 1)
		assert_int_equal(virtq_push(&s->vq, &c, c.head), 0);
	assert_false(s->vq.broken);
	assert_int_equal(used_idx(s), (uint16_t)70000);
	assert_int_equal(s->vq.last_avail, (uint16_t)70000);
	assert_int_equal(used_elem(s, 69999, 0), 69999 % 4);
}

static void test_notify_flags(void **state)
{
	struct sim *s = *state;
	struct virtq_seg segs[SEGS];
	struct virtq_chain c;

	assert_int_equal(enable(s, 8, false, false), 0);
	set_desc(s, 0, DATA_IPA, 4, 0, 0);
	avail_add(s, 0);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
	assert_int_equal(virtq_push(&s->vq, &c, 0), 0);
	assert_true(virtq_should_notify(&s->vq));
	/* Nothing new since: no second interrupt. */
	assert_false(virtq_should_notify(&s->vq));
	*avail16(s, 0) = VIRTQ_AVAIL_F_NO_INTERRUPT;
	avail_add(s, 0);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
	assert_int_equal(virtq_push(&s->vq, &c, 0), 0);
	assert_false(virtq_should_notify(&s->vq));
	/* Without EVENT_IDX, used_event is not looked at and not written. */
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 0);
	assert_int_equal(avail_event(s), 0);
}

static void test_event_idx(void **state)
{
	struct sim *s = *state;
	struct virtq_seg segs[SEGS];
	struct virtq_chain c;

	assert_int_equal(enable(s, 8, true, false), 0);
	set_desc(s, 0, DATA_IPA, 4, 0, 0);
	/* NO_INTERRUPT is ignored with EVENT_IDX. */
	*avail16(s, 0) = VIRTQ_AVAIL_F_NO_INTERRUPT;
	set_used_event(s, 0);
	for (unsigned i = 0; i < 3; i++)
		avail_add(s, 0);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
	assert_int_equal(virtq_push(&s->vq, &c, 0), 0); /* used 0 -> 1 */
	assert_true(virtq_should_notify(&s->vq));	/* first decision */
	/* Driver: "interrupt me when used idx passes 2" (used_event = 2). */
	set_used_event(s, 2);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
	assert_int_equal(virtq_push(&s->vq, &c, 0), 0); /* 1 -> 2 */
	assert_false(virtq_should_notify(&s->vq));
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
	assert_int_equal(virtq_push(&s->vq, &c, 0), 0); /* 2 -> 3 */
	assert_true(virtq_should_notify(&s->vq));
	/* Empty queue: we ask to be notified at the next avail index. */
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 0);
	assert_int_equal(avail_event(s), 3);
	/* A batch jumping over used_event still notifies once. */
	set_used_event(s, 4);
	for (unsigned i = 0; i < 4; i++)
		avail_add(s, 0);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
		assert_int_equal(virtq_push(&s->vq, &c, 0), 0);
	}
	assert_true(virtq_should_notify(&s->vq)); /* 3 -> 7 crosses 4 */
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 0);
	assert_int_equal(avail_event(s), 7);
	/* used_event behind: the driver did not ask. */
	set_used_event(s, 1);
	avail_add(s, 0);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
	assert_int_equal(virtq_push(&s->vq, &c, 0), 0);
	assert_false(virtq_should_notify(&s->vq));
}

static void test_indirect_good(void **state)
{
	struct sim *s = *state;
	struct virtq_seg segs[SEGS];
	struct virtq_chain c;
	uint8_t *ind = hp(s, IND_IPA);

	assert_int_equal(enable(s, 8, false, true), 0);
	memcpy(hp(s, DATA_IPA), "req", 3);
	set_desc_at(ind, 0, DATA_IPA, 3, VIRTQ_DESC_F_NEXT, 2);
	set_desc_at(ind, 2, DATA_IPA + 0x100, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc_at(ind, 1, DATA_IPA + 0x200, 8, VIRTQ_DESC_F_WRITE, 0);
	/* The table's own WRITE flag is ignored. */
	set_desc(s, 6, IND_IPA, 3 * 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	avail_add(s, 6);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
	assert_int_equal(c.head, 6);
	assert_int_equal(c.nr_segs, 3);
	assert_int_equal(c.nr_read, 1);
	assert_int_equal(c.read_len, 3);
	assert_int_equal(c.write_len, 16);
	assert_ptr_equal(segs[2].host_ptr, hp(s, DATA_IPA + 0x200));
	/* Direct descriptors, then an indirect table closing the chain. */
	set_desc(s, 0, DATA_IPA + 0x300, 2, VIRTQ_DESC_F_NEXT, 6);
	avail_add(s, 0);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
	assert_int_equal(c.nr_segs, 4);
	assert_int_equal(c.read_len, 5);
	/* An unaligned table is fine (no alignment is required of it). */
	memmove(ind + 4, ind, 3 * 16);
	set_desc(s, 6, IND_IPA + 4, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(s, 6);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
	assert_int_equal(c.nr_segs, 3);
}

static void indirect_bad(struct sim *s, uint64_t addr, uint32_t len,
			 uint16_t flags, bool feature, int err)
{
	memset(hp(s, AVAIL_IPA), 0, 0x100);
	assert_int_equal(enable(s, 8, false, feature), 0);
	set_desc(s, 0, addr, len, flags, 1);
	set_desc(s, 1, DATA_IPA, 4, 0, 0);
	avail_add(s, 0);
	expect_broken(s, err);
}

static void test_indirect_bad(void **state)
{
	struct sim *s = *state;
	uint8_t *ind = hp(s, IND_IPA);
	const uint16_t F = VIRTQ_DESC_F_INDIRECT;

	for (unsigned i = 0; i < 4; i++)
		set_desc_at(ind, i, DATA_IPA + 16 * i, 4, i < 3 ? VIRTQ_DESC_F_NEXT : 0,
			    i + 1);
	/* Not negotiated. */
	indirect_bad(s, IND_IPA, 64, F, false, -SHYPER_EPROTO);
	/* INDIRECT with NEXT. */
	indirect_bad(s, IND_IPA, 64, F | VIRTQ_DESC_F_NEXT, true, -SHYPER_EPROTO);
	/* Sizes: 0, not a multiple of 16, more than the bound. */
	indirect_bad(s, IND_IPA, 0, F, true, -SHYPER_EINVAL);
	indirect_bad(s, IND_IPA, 40, F, true, -SHYPER_EINVAL);
	indirect_bad(s, IND_IPA, 16 * (VIRTQ_MAX_INDIRECT + 1), F, true, -SHYPER_EINVAL);
	/* Table outside RAM, straddling its end, wrapping. */
	indirect_bad(s, RAM_BASE + RAM_SIZE - 32, 64, F, true, -SHYPER_EFAULT);
	indirect_bad(s, 0xfffffffffffffff0ULL, 64, F, true, -SHYPER_EFAULT);
	indirect_bad(s, 0x1000, 64, F, true, -SHYPER_EFAULT);

	/* Index past the table's end. */
	set_desc_at(ind, 3, DATA_IPA, 4, VIRTQ_DESC_F_NEXT, 4);
	indirect_bad(s, IND_IPA, 64, F, true, -SHYPER_EINVAL);
	/* Loop inside the table. */
	set_desc_at(ind, 3, DATA_IPA, 4, VIRTQ_DESC_F_NEXT, 1);
	indirect_bad(s, IND_IPA, 64, F, true, -SHYPER_EPROTO);
	/* Nested table. */
	set_desc_at(ind, 3, IND_IPA, 64, F, 0);
	indirect_bad(s, IND_IPA, 64, F, true, -SHYPER_EPROTO);
	/* Buffer in the table outside RAM. */
	set_desc_at(ind, 3, RAM_BASE + RAM_SIZE, 4, 0, 0);
	indirect_bad(s, IND_IPA, 64, F, true, -SHYPER_EFAULT);
	/* Writable before readable inside the table. */
	set_desc_at(ind, 2, DATA_IPA, 4, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
	set_desc_at(ind, 3, DATA_IPA, 4, 0, 0);
	indirect_bad(s, IND_IPA, 64, F, true, -SHYPER_EPROTO);
	/* Readable table after writable direct descriptors. */
	set_desc_at(ind, 2, DATA_IPA, 4, 0, 0);
	memset(hp(s, AVAIL_IPA), 0, 0x100);
	assert_int_equal(enable(s, 8, false, true), 0);
	set_desc(s, 0, DATA_IPA, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(s, 1, IND_IPA, 48, F, 0);
	avail_add(s, 0);
	expect_broken(s, -SHYPER_EPROTO);
}

static void test_reenable_clears_broken(void **state)
{
	struct sim *s = *state;
	struct virtq_seg segs[SEGS];
	struct virtq_chain c;

	assert_int_equal(enable(s, 8, false, false), 0);
	avail_add(s, 9);
	expect_broken(s, -SHYPER_EINVAL);
	/* After a device reset the driver starts over. */
	memset(hp(s, AVAIL_IPA), 0, 0x100);
	*(uint16_t *)(hp(s, USED_IPA) + 2) = 0x5555;
	assert_int_equal(enable(s, 8, false, false), 0);
	assert_false(s->vq.broken);
	assert_int_equal(used_idx(s), 0);
	set_desc(s, 0, DATA_IPA, 4, 0, 0);
	avail_add(s, 0);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
}

static void test_remap(void **state)
{
	struct sim *s = *state;
	struct virtq_seg segs[SEGS];
	struct virtq_chain c;
	struct virtq copy;

	assert_int_equal(enable(s, 8, false, false), 0);
	set_desc(s, 0, DATA_IPA, 4, 0, 0);
	avail_add(s, 0);
	avail_add(s, 0);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
	assert_int_equal(virtq_push(&s->vq, &c, 0), 0);
	/* Carried over without its pointers: remap, then carry on. */
	copy = s->vq;
	copy.mem = NULL;
	copy.desc = copy.avail = copy.used = NULL;
	assert_int_equal(virtq_remap(&copy, &s->gm), 0);
	assert_int_equal(virtq_pop(&copy, segs, SEGS, &c), 1);
	assert_int_equal(virtq_push(&copy, &c, 0), 0);
	assert_int_equal(used_idx(s), 2);
	/* Rings no longer in RAM: the queue goes off. */
	copy.used_ipa = RAM_BASE + RAM_SIZE;
	assert_int_equal(virtq_remap(&copy, &s->gm), -SHYPER_EFAULT);
	assert_false(copy.ready);
}

/* ---- dirty logging: every byte the device writes is reported ---- */

static void sim_dirty(void *ctx, uint64_t ipa, uint64_t len)
{
	struct sim *s = ctx;

	assert_true(len > 0);
	assert_true(ipa >= RAM_BASE && len <= RAM_SIZE && ipa - RAM_BASE <= RAM_SIZE - len);
	memset(s->marked + (ipa - RAM_BASE), 1, len);
	s->marks++;
}

/* Every byte that changed since @before was reported; none reported in @quiet. */
static void expect_marked(struct sim *s, const uint8_t *before)
{
	unsigned changed = 0;

	for (uint64_t i = 0; i < RAM_SIZE; i++)
		if (s->ram[i] != before[i]) {
			assert_true(s->marked[i]);
			changed++;
		}
	assert_true(changed > 0);
}

static void test_device_writes_marked(void **state)
{
	struct sim *s = *state;
	struct virtq_seg segs[SEGS];
	struct virtq_chain c;
	uint8_t *before = malloc(RAM_SIZE);

	assert_non_null(before);
	s->marked = calloc(RAM_SIZE, 1);
	assert_non_null(s->marked);
	s->gm.dirty = sim_dirty;
	memset(hp(s, USED_IPA), 0xff, 0x1000);
	memset(hp(s, DATA_IPA), 0xee, 0x1000);

	/* Enabling resets the used ring's flags and index. */
	memcpy(before, s->ram, RAM_SIZE);
	assert_int_equal(enable(s, 8, true, true), 0);
	expect_marked(s, before);

	/* Indirect chain: one readable, two writable buffers. */
	set_desc(s, 0, IND_IPA, 3 * VIRTQ_DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc_at(hp(s, IND_IPA), 0, DATA_IPA, 4, VIRTQ_DESC_F_NEXT, 1);
	set_desc_at(hp(s, IND_IPA), 1, DATA_IPA + 0x300, 3,
		    VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	set_desc_at(hp(s, IND_IPA), 2, DATA_IPA + 0xffd, 0x10, VIRTQ_DESC_F_WRITE, 0);
	avail_add(s, 0);
	memcpy(before, s->ram, RAM_SIZE);
	memset(s->marked, 0, RAM_SIZE);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 1);
	assert_int_equal(segs[1].ipa, DATA_IPA + 0x300);
	assert_int_equal(virtq_write_chain(segs, &c, 1, "ABCDEFGH", 8), 8);
	assert_int_equal(virtq_push(&s->vq, &c, 9), 0);
	expect_marked(s, before);
	/* Exactly the written bytes and the used element and index. */
	assert_false(s->marked[DATA_IPA + 0x300 - RAM_BASE]);
	assert_true(s->marked[DATA_IPA + 0x301 - RAM_BASE]);
	assert_true(s->marked[DATA_IPA + 0xffd + 5 - RAM_BASE]);
	assert_false(s->marked[DATA_IPA + 0xffd + 6 - RAM_BASE]);
	for (uint64_t i = 0; i < 0x1000; i++) {
		assert_false(s->marked[DESC_IPA - RAM_BASE + i]);
		assert_false(s->marked[AVAIL_IPA - RAM_BASE + i]);
		assert_false(s->marked[IND_IPA - RAM_BASE + i]);
	}
	assert_false(s->marked[DATA_IPA - RAM_BASE]); /* the readable buffer */

	/* EVENT_IDX: an empty queue makes the device write avail_event. */
	memcpy(before, s->ram, RAM_SIZE);
	memset(s->marked, 0, RAM_SIZE);
	assert_int_equal(virtq_pop(&s->vq, segs, SEGS, &c), 0);
	expect_marked(s, before);
	assert_int_equal(avail_event(s), 1);
	free(s->marked);
	s->marked = 0;
	free(before);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_enable_checks),
		T(test_empty),
		T(test_readable_chain),
		T(test_mixed_chain),
		T(test_zero_length_skipped),
		T(test_writable_before_readable),
		T(test_bad_head),
		T(test_bad_next),
		T(test_loops),
		T(test_buffer_outside_ram),
		T(test_total_length),
		T(test_too_many_segments),
		T(test_avail_jump),
		T(test_wraparound),
		T(test_notify_flags),
		T(test_event_idx),
		T(test_indirect_good),
		T(test_indirect_bad),
		T(test_reenable_clears_broken),
		T(test_remap),
		T(test_device_writes_marked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
