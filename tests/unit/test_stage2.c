/*
 * Stage-2 table builder on a simulated physical memory: block sizes chosen
 * (checked on the raw descriptors), exact attribute bits, translate round
 * trips, overlap and allocation failure leaving every byte of table memory
 * as it was, block splitting on unmap and set_flags (break-before-make
 * through the flush hook), the three root shapes, VTCR/VTTBR values,
 * rejected arguments, and a randomized run (with allocation failures) against
 * a page-granular model.
 *
 * unit-sources: hv/arch/aarch64/stage2.c
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

#include <arch/stage2.h>
#include <shyper/errno.h>

#define KIB		0x400ull
#define MIB		(1024 * KIB)
#define GIB		(1024 * MIB)
#define PAGE		(4 * KIB)

/* Simulated physical memory for the tables: frames at SIM_BASE. */
#define SIM_BASE	0x40000000ull
#define SIM_FRAMES	2048

static uint8_t sim_mem[SIM_FRAMES * PAGE] __attribute__((aligned(4096)));

static struct sim {
	bool used[SIM_FRAMES];
	size_t in_use;
	long fail_after;	/* allocations that still succeed; < 0: all */
	bool misalign;		/* hand out a root that is not aligned */
	size_t freed_dirty;	/* frames given back with non-zero content */
	struct stage2 *s2;	/* for the flush hook */
	size_t flushes;
	size_t flushes_unmapped;	/* flushes during which ipa was unmapped */
	uint64_t flush_ipa, flush_size;
} sim;

static bool sim_fail(void)
{
	if (sim.fail_after == 0)
		return true;
	if (sim.fail_after > 0)
		sim.fail_after--;
	return false;
}

static uint64_t sim_alloc(size_t nr, size_t align)
{
	for (size_t f = 0; f + nr <= SIM_FRAMES; f += align) {
		size_t k;

		for (k = 0; k < nr && !sim.used[f + k]; k++)
			;
		if (k < nr)
			continue;
		for (k = 0; k < nr; k++)
			sim.used[f + k] = true;
		sim.in_use += nr;
		memset(&sim_mem[f * PAGE], 0, nr * PAGE);
		return SIM_BASE + f * PAGE;
	}
	return STAGE2_NO_FRAME;
}

static size_t sim_frame(uint64_t pa)
{
	assert_true(pa >= SIM_BASE && pa < SIM_BASE + SIM_FRAMES * PAGE);
	assert_int_equal(pa % PAGE, 0);
	assert_true(sim.used[(pa - SIM_BASE) / PAGE]);
	return (pa - SIM_BASE) / PAGE;
}

static void sim_release(uint64_t pa)
{
	size_t f = sim_frame(pa);

	for (size_t i = 0; i < PAGE; i++)
		if (sim_mem[f * PAGE + i]) {
			sim.freed_dirty++;
			break;
		}
	/* Poison, so that a table read after its free shows. */
	memset(&sim_mem[f * PAGE], 0xa5, PAGE);
	sim.used[f] = false;
	sim.in_use--;
}

static uint64_t mm_alloc_table(void *ctx)
{
	assert_ptr_equal(ctx, &sim);
	return sim_fail() ? STAGE2_NO_FRAME : sim_alloc(1, 1);
}

static void mm_free_table(void *ctx, uint64_t pa)
{
	assert_ptr_equal(ctx, &sim);
	sim_release(pa);
}

static uint64_t mm_alloc_root(void *ctx, unsigned nr)
{
	uint64_t pa;

	assert_ptr_equal(ctx, &sim);
	if (sim_fail())
		return STAGE2_NO_FRAME;
	if (sim.misalign) {
		/* Skip frame 0 so the block starts at an odd frame. */
		sim.used[0] = true;
		pa = sim_alloc(nr, 1);
		sim.used[0] = false;
		return pa;
	}
	return sim_alloc(nr, nr);
}

static void mm_free_root(void *ctx, uint64_t pa, unsigned nr)
{
	assert_ptr_equal(ctx, &sim);
	for (unsigned i = 0; i < nr; i++)
		sim_release(pa + i * PAGE);
}

static void *mm_to_virt(void *ctx, uint64_t pa)
{
	assert_ptr_equal(ctx, &sim);
	return &sim_mem[sim_frame(pa) * PAGE];
}

static void mm_tlb_flush(void *ctx, uint64_t ipa, uint64_t size)
{
	assert_ptr_equal(ctx, &sim);
	sim.flushes++;
	sim.flush_ipa = ipa;
	sim.flush_size = size;
	if (stage2_translate(sim.s2, ipa, NULL, NULL) == -SHYPER_ENOENT)
		sim.flushes_unmapped++;
}

static const struct stage2_mm mm = {
	.alloc_table = mm_alloc_table,
	.free_table = mm_free_table,
	.alloc_root = mm_alloc_root,
	.free_root = mm_free_root,
	.to_virt = mm_to_virt,
	.ctx = &sim,
};

static const struct stage2_mm mm_flush = {
	.alloc_table = mm_alloc_table,
	.free_table = mm_free_table,
	.alloc_root = mm_alloc_root,
	.free_root = mm_free_root,
	.to_virt = mm_to_virt,
	.tlb_flush = mm_tlb_flush,
	.ctx = &sim,
};

static int sim_setup(void **state)
{
	(void)state;
	memset(&sim, 0, sizeof(sim));
	memset(sim_mem, 0xa5, sizeof(sim_mem));
	sim.fail_after = -1;
	return 0;
}

static void s2_new(struct stage2 *s2, unsigned cpu_pa_bits, unsigned ipa_bits)
{
	assert_int_equal(stage2_init(s2, cpu_pa_bits, ipa_bits, &mm), 0);
	sim.s2 = s2;
}

/* Destroy and check that every frame came back. */
static void s2_done(struct stage2 *s2)
{
	stage2_destroy(s2);
	assert_int_equal(s2->nr_tables, 0);
	assert_int_equal(sim.in_use, 0);
}

static uint64_t *tbl(uint64_t pa)
{
	return mm_to_virt(&sim, pa);
}

static unsigned shift_of(unsigned level)
{
	return 12 + 9 * (3 - level);
}

/*
 * The raw descriptor that maps @ipa at @level, walked independently of the
 * code under test; 0 if the walk ends above @level.
 */
static uint64_t raw_desc(const struct stage2 *s2, uint64_t ipa, unsigned level)
{
	uint64_t *t = tbl(s2->root_pa);
	size_t idx = ipa >> shift_of(s2->start_level);

	for (unsigned l = s2->start_level;; l++) {
		uint64_t d = t[idx];

		if (l == level)
			return d;
		if ((d & 3) != 3)
			return 0;
		t = tbl(d & S2_DESC_ADDR_MASK);
		idx = (ipa >> shift_of(l + 1)) & 511;
	}
}

/* Count valid leaves at each level of the whole tree. */
static void count_leaves_in(uint64_t *t, unsigned level, size_t n, size_t leaves[4])
{
	for (size_t i = 0; i < n; i++) {
		uint64_t d = t[i];

		if (!(d & 1))
			continue;
		if (level < 3 && (d & 3) == 3)
			count_leaves_in(tbl(d & S2_DESC_ADDR_MASK), level + 1, 512, leaves);
		else
			leaves[level]++;
	}
}

static void count_leaves(const struct stage2 *s2, size_t leaves[4])
{
	memset(leaves, 0, 4 * sizeof(leaves[0]));
	count_leaves_in(tbl(s2->root_pa), s2->start_level,
			(size_t)1 << (s2->ipa_bits - shift_of(s2->start_level)), leaves);
}

static void expect_leaves(const struct stage2 *s2, size_t l1, size_t l2, size_t l3)
{
	size_t leaves[4];

	count_leaves(s2, leaves);
	assert_int_equal(leaves[0], 0);
	assert_int_equal(leaves[1], l1);
	assert_int_equal(leaves[2], l2);
	assert_int_equal(leaves[3], l3);
}

static void expect_pa(const struct stage2 *s2, uint64_t ipa, uint64_t pa,
		      unsigned flags)
{
	uint64_t got;
	unsigned got_flags;

	assert_int_equal(stage2_translate(s2, ipa, &got, &got_flags), 0);
	assert_int_equal(got, pa);
	assert_int_equal(got_flags, flags);
}

static void expect_unmapped(const struct stage2 *s2, uint64_t ipa)
{
	assert_int_equal(stage2_translate(s2, ipa, NULL, NULL), -SHYPER_ENOENT);
}

/* Deterministic xorshift64*. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

struct snapshot {
	uint8_t *mem;
	bool used[SIM_FRAMES];
	size_t in_use;
};

static void snap_take(struct snapshot *s)
{
	s->mem = malloc(sizeof(sim_mem));
	assert_non_null(s->mem);
	memcpy(s->mem, sim_mem, sizeof(sim_mem));
	memcpy(s->used, sim.used, sizeof(s->used));
	s->in_use = sim.in_use;
}

static void snap_expect_same(const struct snapshot *s)
{
	assert_int_equal(sim.in_use, s->in_use);
	assert_memory_equal(s->used, sim.used, sizeof(s->used));
	/* Only frames in use: freed ones are poisoned again anyway. */
	for (size_t f = 0; f < SIM_FRAMES; f++)
		if (sim.used[f])
			assert_memory_equal(&s->mem[f * PAGE], &sim_mem[f * PAGE], PAGE);
}

static void snap_free(struct snapshot *s)
{
	free(s->mem);
}

/* ---- tests ---- */

static void test_init_geometry(void **state)
{
	static const struct {
		unsigned bits, level, tables;
	} cases[] = {
		{ 32, 1, 1 }, { 36, 1, 1 }, { 39, 1, 1 }, { 40, 1, 2 }, { 41, 1, 4 },
		{ 42, 1, 8 }, { 43, 0, 1 }, { 44, 0, 1 }, { 48, 0, 1 },
	};
	struct stage2 s2;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s2_new(&s2, 48, cases[i].bits);
		assert_int_equal(s2.ipa_bits, cases[i].bits);
		assert_int_equal(s2.start_level, cases[i].level);
		assert_int_equal(s2.root_tables, cases[i].tables);
		assert_int_equal(s2.nr_tables, cases[i].tables);
		assert_int_equal(sim.in_use, cases[i].tables);
		assert_int_equal(s2.root_pa % (cases[i].tables * PAGE), 0);
		assert_int_equal(s2.pa_bits, 48);
		s2_done(&s2);
	}
	s2_new(&s2, 52, 48);
	assert_int_equal(s2.pa_bits, 48);	/* no FEAT_LPA2 descriptors */
	s2_done(&s2);
	s2_new(&s2, 36, 32);
	assert_int_equal(s2.pa_bits, 36);
	s2_done(&s2);
}

static void test_init_rejects(void **state)
{
	struct stage2_mm partial = mm;
	struct stage2 s2 = { .root_pa = 0x1234 };

	(void)state;
	assert_int_equal(stage2_init(&s2, 48, 31, &mm), -SHYPER_EINVAL);
	assert_int_equal(stage2_init(&s2, 52, 49, &mm), -SHYPER_EINVAL);
	assert_int_equal(stage2_init(&s2, 40, 42, &mm), -SHYPER_EINVAL);
	assert_int_equal(stage2_init(&s2, 30, 32, &mm), -SHYPER_EINVAL);
	assert_int_equal(stage2_init(&s2, 48, 40, NULL), -SHYPER_EINVAL);
	partial.to_virt = NULL;
	assert_int_equal(stage2_init(&s2, 48, 40, &partial), -SHYPER_EINVAL);
	partial = mm;
	partial.alloc_root = NULL;
	assert_int_equal(stage2_init(&s2, 48, 40, &partial), -SHYPER_EINVAL);

	sim.fail_after = 0;
	assert_int_equal(stage2_init(&s2, 48, 40, &mm), -SHYPER_ENOMEM);
	sim.fail_after = -1;
	sim.misalign = true;
	assert_int_equal(stage2_init(&s2, 48, 40, &mm), -SHYPER_EINVAL);
	sim.misalign = false;
	assert_int_equal(sim.in_use, 0);
	/* A failed init leaves the struct alone. */
	assert_int_equal(s2.root_pa, 0x1234);
}

static void test_vtcr_vttbr(void **state)
{
	struct stage2 s2;

	(void)state;
	/* T0SZ 24, SL0 level 1, IRGN0/ORGN0 WBWA, SH0 inner, TG0 4K, PS 40 bits. */
	s2_new(&s2, 40, 40);
	assert_int_equal(stage2_vtcr(&s2, 40), 0x80023558);
	assert_int_equal(stage2_vttbr(&s2, 0), s2.root_pa);
	assert_int_equal(stage2_vttbr(&s2, 5), (5ull << 48) | s2.root_pa);
	assert_int_equal(stage2_vttbr(&s2, 255), (255ull << 48) | s2.root_pa);
	assert_int_equal(stage2_vttbr(&s2, 256), STAGE2_VTTBR_INVALID);
	assert_int_equal(stage2_vttbr(&s2, 0xffff), STAGE2_VTTBR_INVALID);
	s2_done(&s2);

	/* T0SZ 25, SL0 level 1, PS 44 bits (0b100). */
	s2_new(&s2, 44, 39);
	assert_int_equal(stage2_vtcr(&s2, 44), 0x80043559);
	s2_done(&s2);

	/* T0SZ 20, SL0 level 0 (0b10), PS 48 bits (0b101); 52 bits capped at 48. */
	s2_new(&s2, 48, 44);
	assert_int_equal(stage2_vtcr(&s2, 48), 0x80053594);
	assert_int_equal(stage2_vtcr(&s2, 52), 0x80053594);
	s2_done(&s2);

	/* T0SZ 32, PS 32 bits (0b000); 42 bits is PARange 0b011. */
	s2_new(&s2, 32, 32);
	assert_int_equal(stage2_vtcr(&s2, 32), 0x80003560);
	assert_int_equal(stage2_vtcr(&s2, 42), 0x80033560);
	s2_done(&s2);
}

static void test_map_1g_block(void **state)
{
	struct stage2 s2;

	(void)state;
	s2_new(&s2, 40, 39);
	assert_int_equal(stage2_map(&s2, GIB, 2 * GIB, GIB, STAGE2_RWX), 0);
	/* One level-1 block, no table allocated. */
	assert_int_equal(sim.in_use, 1);
	assert_int_equal(s2.nr_tables, 1);
	assert_int_equal(tbl(s2.root_pa)[1], 0x800007fdull);
	expect_leaves(&s2, 1, 0, 0);
	expect_pa(&s2, GIB, 2 * GIB, STAGE2_RWX);
	expect_pa(&s2, GIB + 0x12345678, 2 * GIB + 0x12345678, STAGE2_RWX);
	expect_pa(&s2, 2 * GIB - 1, 3 * GIB - 1, STAGE2_RWX);
	expect_unmapped(&s2, GIB - 1);
	expect_unmapped(&s2, 2 * GIB);

	/* 1 GiB aligned IPA, PA only 2 MiB aligned: 512 level-2 blocks. */
	assert_int_equal(stage2_map(&s2, 3 * GIB, 4 * GIB + 2 * MIB, GIB, STAGE2_R), 0);
	assert_int_equal(sim.in_use, 2);
	expect_leaves(&s2, 1, 512, 0);
	expect_pa(&s2, 4 * GIB - 1, 5 * GIB + 2 * MIB - 1, STAGE2_R);
	s2_done(&s2);
}

static void test_map_2m_blocks(void **state)
{
	struct stage2 s2;

	(void)state;
	s2_new(&s2, 40, 39);
	assert_int_equal(stage2_map(&s2, 2 * MIB, 64 * MIB, 6 * MIB, STAGE2_R | STAGE2_W), 0);
	/* One level-2 table with blocks at index 1, 2, 3. */
	assert_int_equal(sim.in_use, 2);
	expect_leaves(&s2, 0, 3, 0);
	for (unsigned i = 1; i <= 3; i++) {
		uint64_t d = raw_desc(&s2, i * 2 * MIB, 2);

		assert_int_equal(d & 3, S2_DESC_BLOCK);
		assert_int_equal(d & S2_DESC_ADDR_MASK, 64 * MIB + (i - 1) * 2 * MIB);
	}
	assert_int_equal(raw_desc(&s2, 0, 2), 0);
	assert_int_equal(raw_desc(&s2, 8 * MIB, 2), 0);
	/* A whole GiB minus nothing, but PA 4 KiB aligned only: pages. */
	assert_int_equal(stage2_map(&s2, GIB, 8 * GIB + PAGE, 4 * MIB, STAGE2_R), 0);
	expect_leaves(&s2, 0, 3, 1024);
	s2_done(&s2);
}

static void test_map_pages_and_mixed(void **state)
{
	struct stage2 s2;
	uint64_t d;

	(void)state;
	s2_new(&s2, 40, 39);
	assert_int_equal(stage2_map(&s2, PAGE, 0x80000000 + PAGE, 3 * PAGE, STAGE2_R), 0);
	assert_int_equal(sim.in_use, 3);	/* root, level 2, level 3 */
	expect_leaves(&s2, 0, 0, 3);
	for (unsigned i = 1; i <= 3; i++) {
		d = raw_desc(&s2, i * PAGE, 3);
		assert_int_equal(d & 3, S2_DESC_PAGE);
		assert_int_equal(d & S2_DESC_ADDR_MASK, 0x80000000 + i * PAGE);
	}
	assert_int_equal(raw_desc(&s2, 0, 3), 0);
	assert_int_equal(raw_desc(&s2, 4 * PAGE, 3), 0);

	/* Page, 2 MiB block, page, crossing the 1 GiB line too. */
	assert_int_equal(stage2_map(&s2, GIB - PAGE, 16 * GIB - PAGE, 2 * MIB + 2 * PAGE,
				    STAGE2_RWX), 0);
	expect_leaves(&s2, 0, 1, 5);
	assert_int_equal(raw_desc(&s2, GIB - PAGE, 3) & S2_DESC_ADDR_MASK, 16 * GIB - PAGE);
	d = raw_desc(&s2, GIB, 2);
	assert_int_equal(d & 3, S2_DESC_BLOCK);
	assert_int_equal(d & S2_DESC_ADDR_MASK, 16 * GIB);
	assert_int_equal(raw_desc(&s2, GIB + 2 * MIB, 3) & S2_DESC_ADDR_MASK,
			 16 * GIB + 2 * MIB);
	expect_pa(&s2, GIB + 2 * MIB + 0xfff, 16 * GIB + 2 * MIB + 0xfff, STAGE2_RWX);
	expect_unmapped(&s2, GIB + 2 * MIB + PAGE);
	s2_done(&s2);
}

static void test_attributes(void **state)
{
	static const struct {
		unsigned flags;
		uint64_t attrs;	/* everything but the address */
	} cases[] = {
		{ STAGE2_RWX, 0x00000000000007ffull },
		{ STAGE2_R | STAGE2_W, 0x00400000000007ffull },
		{ STAGE2_R, 0x004000000000077full },
		{ STAGE2_W, 0x00400000000007bfull },
		{ STAGE2_R | STAGE2_X, 0x000000000000077full },
		{ 0, 0x004000000000073full },
		/* Device-nGnRE: MemAttr 0b0001, SH 0, always XN. */
		{ STAGE2_DEVICE | STAGE2_R | STAGE2_W, 0x00400000000004c7ull },
		{ STAGE2_DEVICE | STAGE2_R, 0x0040000000000447ull },
	};
	struct stage2 s2;

	(void)state;
	s2_new(&s2, 40, 39);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ipa = 0x10000000 + i * PAGE, pa = 0x09000000 + i * PAGE;

		assert_int_equal(stage2_map(&s2, ipa, pa, PAGE, cases[i].flags), 0);
		assert_int_equal(raw_desc(&s2, ipa, 3), pa | cases[i].attrs);
		expect_pa(&s2, ipa + 8, pa + 8, cases[i].flags);
	}
	/* Block descriptors carry the same attributes with type 0b01. */
	assert_int_equal(stage2_map(&s2, GIB, GIB, GIB, STAGE2_R | STAGE2_W), 0);
	assert_int_equal(raw_desc(&s2, GIB, 1), GIB | 0x00400000000007fdull);
	assert_int_equal(stage2_map(&s2, 2 * GIB, 0, 2 * MIB, STAGE2_DEVICE | STAGE2_R), 0);
	assert_int_equal(raw_desc(&s2, 2 * GIB, 2), 0x0040000000000445ull);

	assert_int_equal(stage2_map(&s2, 0, 0, PAGE, STAGE2_DEVICE | STAGE2_X), -SHYPER_EINVAL);
	assert_int_equal(stage2_map(&s2, 0, 0, PAGE, 1U << 4), -SHYPER_EINVAL);
	s2_done(&s2);
}

static void test_translate_random(void **state)
{
	enum { SLOTS = 64 };
	struct { uint64_t ipa, pa, size; unsigned flags; } r[SLOTS];
	struct stage2 s2;

	(void)state;
	s2_new(&s2, 44, 39);
	/* Slot i owns [i * 8 GiB, (i + 1) * 8 GiB); mappings never overlap. */
	for (size_t i = 0; i < SLOTS; i++) {
		uint64_t slot = i * 8 * GIB;

		switch (rnd_below(3)) {
		case 0:	/* pages */
			r[i].size = (1 + rnd_below(600)) * PAGE;
			r[i].ipa = slot + rnd_below(4 * GIB / PAGE) * PAGE;
			r[i].pa = rnd_below((1ull << 43) / PAGE) * PAGE;
			break;
		case 1:	/* 2 MiB aligned, with an odd tail */
			r[i].size = (1 + rnd_below(8)) * 2 * MIB + rnd_below(4) * PAGE;
			r[i].ipa = slot + rnd_below(4 * GIB / (2 * MIB)) * 2 * MIB;
			r[i].pa = rnd_below((1ull << 43) / (2 * MIB)) * 2 * MIB;
			break;
		default: /* around a whole GiB */
			r[i].size = GIB + rnd_below(3) * 2 * MIB;
			r[i].ipa = slot + rnd_below(4) * GIB;
			r[i].pa = rnd_below(8) * GIB;
			break;
		}
		r[i].flags = rnd_below(8);
		assert_int_equal(stage2_map(&s2, r[i].ipa, r[i].pa, r[i].size, r[i].flags), 0);
	}
	for (size_t n = 0; n < 20000; n++) {
		size_t i = rnd_below(SLOTS);
		uint64_t off = rnd_below(r[i].size);

		expect_pa(&s2, r[i].ipa + off, r[i].pa + off, r[i].flags);
		/* Just outside, on either side (the slot leaves room). */
		if (r[i].ipa)
			expect_unmapped(&s2, r[i].ipa - 1 - rnd_below(PAGE));
		expect_unmapped(&s2, r[i].ipa + r[i].size + rnd_below(PAGE));
	}
	s2_done(&s2);
}

static void test_overlap_refused(void **state)
{
	static const struct { uint64_t ipa, size; } tries[] = {
		{ GIB, GIB },			/* the block itself */
		{ GIB - PAGE, 2 * PAGE },	/* the block's first page */
		{ 2 * GIB - PAGE, PAGE },	/* its last page */
		{ 0, 4 * GIB },			/* everything around */
		{ 4 * GIB + 5 * PAGE, PAGE },	/* one page among pages */
		{ 4 * GIB, 16 * PAGE },		/* a range ending in them */
		{ 4 * GIB + 2 * MIB - PAGE, 2 * MIB },	/* a 2 MiB block */
		{ 4 * GIB + 3 * MIB, 2 * MIB },	/* straddling a 2 MiB block */
		{ 4 * GIB - PAGE, 7 * PAGE },	/* new tables needed before the overlap */
	};
	struct snapshot snap;
	struct stage2 s2;

	(void)state;
	s2_new(&s2, 40, 39);
	assert_int_equal(stage2_map(&s2, GIB, 8 * GIB, GIB, STAGE2_RWX), 0);
	assert_int_equal(stage2_map(&s2, 4 * GIB + 5 * PAGE, 0, 10 * PAGE, STAGE2_R), 0);
	assert_int_equal(stage2_map(&s2, 4 * GIB + 2 * MIB, 4 * MIB, 2 * MIB, STAGE2_R), 0);
	assert_int_equal(stage2_map(&s2, 4 * GIB + 4 * MIB + PAGE, 0, PAGE, STAGE2_R), 0);
	snap_take(&snap);
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		assert_int_equal(stage2_map(&s2, tries[i].ipa, 16 * GIB, tries[i].size,
					    STAGE2_R), -SHYPER_EEXIST);
		snap_expect_same(&snap);
	}
	snap_free(&snap);
	s2_done(&s2);
}

static void test_enomem_map(void **state)
{
	/* Pages, 2 MiB block, pages, across a GiB line: three new tables. */
	const uint64_t ipa = GIB - 3 * PAGE, size = 3 * PAGE + 2 * MIB + 2 * PAGE;
	struct snapshot snap;
	struct stage2 s2;

	(void)state;
	s2_new(&s2, 40, 39);
	/* Something already there, so the failure path sees existing tables. */
	assert_int_equal(stage2_map(&s2, GIB - 4 * MIB, 0, PAGE, STAGE2_R), 0);
	snap_take(&snap);
	for (long n = 0; n < 3; n++) {
		sim.fail_after = n;
		assert_int_equal(stage2_map(&s2, ipa, 4 * GIB + ipa, size, STAGE2_RWX),
				 -SHYPER_ENOMEM);
		snap_expect_same(&snap);
		assert_int_equal(s2.nr_tables, 3);
		for (uint64_t a = ipa; a < ipa + size; a += PAGE)
			expect_unmapped(&s2, a);
	}
	sim.fail_after = 3;
	assert_int_equal(stage2_map(&s2, ipa, 4 * GIB + ipa, size, STAGE2_RWX), 0);
	assert_int_equal(sim.fail_after, 0);
	assert_int_equal(s2.nr_tables, 6);
	for (uint64_t a = ipa; a < ipa + size; a += PAGE)
		expect_pa(&s2, a, 4 * GIB + a, STAGE2_RWX);
	snap_free(&snap);
	sim.fail_after = -1;
	s2_done(&s2);
}

static void test_unmap_split_1g(void **state)
{
	const uint64_t hole = GIB + 0x12345000;
	struct stage2 s2;

	(void)state;
	s2_new(&s2, 40, 39);
	assert_int_equal(stage2_map(&s2, GIB, 8 * GIB, GIB, STAGE2_R | STAGE2_W), 0);
	assert_int_equal(stage2_unmap(&s2, hole, PAGE), 0);
	/* 1 GiB -> 511 2 MiB blocks + a table of 511 pages. */
	assert_int_equal(s2.nr_tables, 3);
	expect_leaves(&s2, 0, 511, 511);
	assert_int_equal(raw_desc(&s2, hole, 3), 0);
	assert_int_equal(raw_desc(&s2, hole + PAGE, 3),
			 (8 * GIB + 0x12346000) | 0x00400000000007ffull);
	assert_int_equal(raw_desc(&s2, GIB, 2), (8 * GIB) | 0x00400000000007fdull);
	expect_unmapped(&s2, hole);
	expect_unmapped(&s2, hole + PAGE - 1);
	expect_pa(&s2, hole - 1, 8 * GIB + 0x12344fff, STAGE2_R | STAGE2_W);
	expect_pa(&s2, hole + PAGE, 8 * GIB + 0x12346000, STAGE2_R | STAGE2_W);
	for (int n = 0; n < 10000; n++) {
		uint64_t a = GIB + rnd_below(GIB);

		if (a >> 12 == hole >> 12)
			continue;
		expect_pa(&s2, a, 8 * GIB + (a - GIB), STAGE2_R | STAGE2_W);
	}

	/* Both edges in different 2 MiB blocks: 2 more tables, middle cleared. */
	assert_int_equal(stage2_unmap(&s2, GIB + 2 * MIB - PAGE, 2 * MIB + 2 * PAGE), 0);
	assert_int_equal(s2.nr_tables, 5);
	expect_unmapped(&s2, GIB + 3 * MIB);
	expect_pa(&s2, GIB + 2 * MIB - PAGE - 1, 8 * GIB + 2 * MIB - PAGE - 1,
		  STAGE2_R | STAGE2_W);
	expect_pa(&s2, GIB + 4 * MIB + PAGE, 8 * GIB + 4 * MIB + PAGE, STAGE2_R | STAGE2_W);

	/* Unmapping the rest frees every table below the root, zeroed. */
	assert_int_equal(stage2_unmap(&s2, 0, 4 * GIB), 0);
	assert_int_equal(s2.nr_tables, 1);
	assert_int_equal(sim.in_use, 1);
	assert_int_equal(sim.freed_dirty, 0);
	assert_int_equal(tbl(s2.root_pa)[1], 0);
	s2_done(&s2);
}

static void test_unmap_holes_and_free(void **state)
{
	struct stage2 s2;

	(void)state;
	s2_new(&s2, 40, 39);
	assert_int_equal(stage2_unmap(&s2, 0, 512 * GIB), 0);	/* all hole */
	assert_int_equal(stage2_map(&s2, 5 * PAGE, 0, 2 * PAGE, STAGE2_R), 0);
	assert_int_equal(stage2_map(&s2, 9 * PAGE, 0, PAGE, STAGE2_R), 0);
	assert_int_equal(s2.nr_tables, 3);
	/* Part of the table emptied: it stays. */
	assert_int_equal(stage2_unmap(&s2, 0, 6 * PAGE), 0);
	assert_int_equal(s2.nr_tables, 3);
	expect_unmapped(&s2, 5 * PAGE);
	expect_pa(&s2, 6 * PAGE, PAGE, STAGE2_R);
	/* The range does not cover the whole table, but what is left is empty. */
	assert_int_equal(stage2_unmap(&s2, 6 * PAGE, 4 * PAGE), 0);
	assert_int_equal(s2.nr_tables, 1);
	assert_int_equal(sim.in_use, 1);
	assert_int_equal(sim.freed_dirty, 0);
	s2_done(&s2);
}

static void test_set_flags(void **state)
{
	struct stage2 s2;
	size_t in_use;

	(void)state;
	s2_new(&s2, 40, 39);
	assert_int_equal(stage2_map(&s2, 0, 2 * GIB, GIB, STAGE2_RWX), 0);
	/* Same permissions: no split, nothing allocated. */
	assert_int_equal(stage2_set_flags(&s2, 5 * PAGE, PAGE, STAGE2_RWX), 0);
	assert_int_equal(sim.in_use, 1);
	/* Write-protect one page: 1 GiB -> 2 MiB -> 4 KiB. */
	assert_int_equal(stage2_set_flags(&s2, 5 * PAGE, PAGE, STAGE2_R | STAGE2_X), 0);
	assert_int_equal(s2.nr_tables, 3);
	expect_leaves(&s2, 0, 511, 512);
	expect_pa(&s2, 5 * PAGE + 7, 2 * GIB + 5 * PAGE + 7, STAGE2_R | STAGE2_X);
	expect_pa(&s2, 4 * PAGE, 2 * GIB + 4 * PAGE, STAGE2_RWX);
	expect_pa(&s2, 6 * PAGE, 2 * GIB + 6 * PAGE, STAGE2_RWX);
	expect_pa(&s2, 700 * MIB, 2 * GIB + 700 * MIB, STAGE2_RWX);
	assert_int_equal(raw_desc(&s2, 5 * PAGE, 3), (2 * GIB + 5 * PAGE) | 0x77f);

	/* The whole GiB read-only: leaves change in place, no more tables. */
	in_use = sim.in_use;
	assert_int_equal(stage2_set_flags(&s2, 0, GIB, STAGE2_R), 0);
	assert_int_equal(sim.in_use, in_use);
	for (int n = 0; n < 2000; n++) {
		uint64_t a = rnd_below(GIB);

		expect_pa(&s2, a, 2 * GIB + a, STAGE2_R);
	}

	/* Device memory keeps its type and stays execute-never; holes skipped. */
	assert_int_equal(stage2_map(&s2, 3 * GIB, 0x08000000, 2 * MIB,
				    STAGE2_DEVICE | STAGE2_R | STAGE2_W), 0);
	assert_int_equal(stage2_set_flags(&s2, 0, 4 * GIB, STAGE2_RWX), 0);
	expect_pa(&s2, 3 * GIB + PAGE, 0x08000000 + PAGE,
		  STAGE2_DEVICE | STAGE2_R | STAGE2_W);
	expect_pa(&s2, 5 * PAGE, 2 * GIB + 5 * PAGE, STAGE2_RWX);
	expect_unmapped(&s2, 2 * GIB);
	assert_int_equal(stage2_set_flags(&s2, 0, PAGE, STAGE2_DEVICE | STAGE2_R),
			 -SHYPER_EINVAL);
	assert_int_equal(stage2_set_flags(&s2, 0, PAGE, 1U << 5), -SHYPER_EINVAL);
	s2_done(&s2);
}

/*
 * Dirty logging's use of set_flags: the whole RAM read-only (blocks change
 * in place), then single pages made writable again inside a 1 GiB and a
 * 2 MiB block (split down to that page only, flushed, break-before-make),
 * re-protected without any allocation, and everything writable at the end.
 */
static void test_write_protect_pages_in_blocks(void **state)
{
	const uint64_t ram = GIB, pa = 4 * GIB;	/* 1 GiB block */
	const uint64_t ram2 = 2 * GIB, pa2 = 6 * GIB + 2 * MIB; /* 2 MiB blocks */
	const unsigned ro = STAGE2_R | STAGE2_X;
	const uint64_t page = ram + 300 * MIB + 5 * PAGE;
	const uint64_t page2 = ram2 + 4 * MIB + 511 * PAGE;
	struct snapshot snap;
	struct stage2 s2;
	size_t in_use;

	(void)state;
	assert_int_equal(stage2_init(&s2, 40, 39, &mm_flush), 0);
	sim.s2 = &s2;
	assert_int_equal(stage2_map(&s2, ram, pa, GIB, STAGE2_RWX), 0);
	assert_int_equal(stage2_map(&s2, ram2, pa2, 8 * MIB, STAGE2_RWX), 0);
	expect_leaves(&s2, 1, 4, 0);

	/* Start: every block read-only where it is, one flush per call. */
	in_use = sim.in_use;
	assert_int_equal(stage2_set_flags(&s2, ram, GIB, ro), 0);
	assert_int_equal(stage2_set_flags(&s2, ram2, 8 * MIB, ro), 0);
	assert_int_equal(sim.in_use, in_use);
	assert_int_equal(sim.flushes, 2);
	expect_leaves(&s2, 1, 4, 0);
	expect_pa(&s2, page, pa + (page - ram), ro);
	expect_pa(&s2, ram2 + 7 * MIB, pa2 + 7 * MIB, ro);

	/* A fault in the 1 GiB block: that page writable, 1 GiB -> 2 MiB -> 4 KiB. */
	sim.flushes = sim.flushes_unmapped = 0;
	assert_int_equal(stage2_set_flags(&s2, page, PAGE, STAGE2_RWX), 0);
	assert_int_equal(sim.in_use, in_use + 2);
	assert_int_equal(sim.flushes_unmapped, 2);	/* each split: break, flush, make */
	assert_int_equal(sim.flush_ipa, page);
	assert_int_equal(sim.flush_size, PAGE);
	expect_leaves(&s2, 0, 4 + 511, 512);
	expect_pa(&s2, page + 9, pa + (page - ram) + 9, STAGE2_RWX);
	expect_pa(&s2, page - PAGE, pa + (page - ram) - PAGE, ro);
	expect_pa(&s2, page + PAGE, pa + (page - ram) + PAGE, ro);
	expect_pa(&s2, ram, pa, ro);
	expect_pa(&s2, ram + GIB - 1, pa + GIB - 1, ro);
	/* Its 2 MiB neighbours stay blocks. */
	assert_int_equal(raw_desc(&s2, page + 2 * MIB, 2) & 3, S2_DESC_BLOCK);
	assert_int_equal(raw_desc(&s2, page - 2 * MIB, 2) & 3, S2_DESC_BLOCK);

	/* A second vCPU faulting on the same page: nothing left to change. */
	sim.flushes = 0;
	assert_int_equal(stage2_set_flags(&s2, page, PAGE, STAGE2_RWX), 0);
	assert_int_equal(sim.flushes, 0);

	/* A fault in a 2 MiB block (last page of it): one table. */
	assert_int_equal(stage2_set_flags(&s2, page2, PAGE, STAGE2_RWX), 0);
	assert_int_equal(sim.in_use, in_use + 3);
	expect_pa(&s2, page2, pa2 + (page2 - ram2), STAGE2_RWX);
	expect_pa(&s2, page2 - PAGE, pa2 + (page2 - ram2) - PAGE, ro);
	expect_pa(&s2, page2 + PAGE, pa2 + (page2 - ram2) + PAGE, ro);
	assert_int_equal(raw_desc(&s2, page2 + PAGE, 2) & 3, S2_DESC_BLOCK);

	/* Fetch: both pages read-only again, no allocation even when none is left. */
	sim.fail_after = 0;
	sim.flushes = 0;
	assert_int_equal(stage2_set_flags(&s2, page, PAGE, ro), 0);
	assert_int_equal(stage2_set_flags(&s2, page2, PAGE, ro), 0);
	assert_int_equal(sim.flushes, 2);
	assert_int_equal(sim.in_use, in_use + 3);
	expect_pa(&s2, page, pa + (page - ram), ro);
	expect_pa(&s2, page2, pa2 + (page2 - ram2), ro);
	/* ...and a page of an untouched block cannot be unprotected then:
	 * refused with the tables exactly as they were. */
	snap_take(&snap);
	assert_int_equal(stage2_set_flags(&s2, ram2, PAGE, STAGE2_RWX), -SHYPER_ENOMEM);
	snap_expect_same(&snap);
	snap_free(&snap);
	sim.fail_after = -1;

	/* Stop: everything writable again, in place. */
	assert_int_equal(stage2_set_flags(&s2, ram, GIB, STAGE2_RWX), 0);
	assert_int_equal(stage2_set_flags(&s2, ram2, 8 * MIB, STAGE2_RWX), 0);
	assert_int_equal(sim.in_use, in_use + 3);
	for (int n = 0; n < 2000; n++) {
		uint64_t a = rnd_below(GIB), b = rnd_below(8 * MIB);

		expect_pa(&s2, ram + a, pa + a, STAGE2_RWX);
		expect_pa(&s2, ram2 + b, pa2 + b, STAGE2_RWX);
	}
	s2_done(&s2);
}

static void test_enomem_split(void **state)
{
	/* Edges in two different 2 MiB blocks of one 1 GiB block: 3 tables. */
	const uint64_t ipa = GIB + 2 * MIB - PAGE, size = 2 * MIB + 2 * PAGE;
	struct snapshot snap;
	struct stage2 s2;

	(void)state;
	s2_new(&s2, 40, 39);
	assert_int_equal(stage2_map(&s2, GIB, 4 * GIB, GIB, STAGE2_RWX), 0);
	snap_take(&snap);
	for (long n = 0; n < 3; n++) {
		sim.fail_after = n;
		assert_int_equal(stage2_unmap(&s2, ipa, size), -SHYPER_ENOMEM);
		snap_expect_same(&snap);
		sim.fail_after = n;
		assert_int_equal(stage2_set_flags(&s2, ipa, size, STAGE2_R), -SHYPER_ENOMEM);
		snap_expect_same(&snap);
	}
	sim.fail_after = 3;
	assert_int_equal(stage2_set_flags(&s2, ipa, size, STAGE2_R), 0);
	assert_int_equal(s2.nr_tables, 4);
	expect_pa(&s2, ipa, 3 * GIB + ipa, STAGE2_R);
	expect_pa(&s2, ipa + size - 1, 3 * GIB + ipa + size - 1, STAGE2_R);
	expect_pa(&s2, ipa - 1, 3 * GIB + ipa - 1, STAGE2_RWX);
	expect_pa(&s2, ipa + size, 3 * GIB + ipa + size, STAGE2_RWX);
	/* Now the unmap needs no table. */
	sim.fail_after = 0;
	assert_int_equal(stage2_unmap(&s2, ipa, size), 0);
	expect_unmapped(&s2, ipa);
	expect_pa(&s2, ipa + size, 3 * GIB + ipa + size, STAGE2_RWX);
	sim.fail_after = -1;
	snap_free(&snap);
	s2_done(&s2);
}

static void test_flush_hook(void **state)
{
	struct stage2 s2;

	(void)state;
	assert_int_equal(stage2_init(&s2, 40, 39, &mm_flush), 0);
	sim.s2 = &s2;
	assert_int_equal(stage2_map(&s2, 0, 0, GIB, STAGE2_RWX), 0);
	assert_int_equal(sim.flushes, 0);	/* filling invalid entries */
	/* Split 1 GiB then 2 MiB, each with the block invalid during the flush. */
	assert_int_equal(stage2_set_flags(&s2, 3 * MIB, PAGE, STAGE2_R), 0);
	assert_int_equal(sim.flushes, 3);
	assert_int_equal(sim.flushes_unmapped, 2);
	assert_int_equal(sim.flush_ipa, 3 * MIB);
	assert_int_equal(sim.flush_size, PAGE);
	/* Nothing changes, nothing to flush. */
	assert_int_equal(stage2_set_flags(&s2, 3 * MIB, PAGE, STAGE2_R), 0);
	assert_int_equal(stage2_unmap(&s2, GIB, GIB), 0);
	assert_int_equal(sim.flushes, 3);
	/* Unmap: flushed before the emptied tables go. */
	assert_int_equal(stage2_unmap(&s2, 0, GIB), 0);
	assert_int_equal(sim.flushes, 4);
	assert_int_equal(sim.flush_ipa, 0);
	assert_int_equal(sim.flush_size, GIB);
	assert_int_equal(sim.in_use, 1);
	s2_done(&s2);
}

static void test_concat_roots(void **state)
{
	const uint64_t top = 1ull << 40;
	struct stage2 s2;

	(void)state;
	s2_new(&s2, 40, 40);
	assert_int_equal(s2.root_tables, 2);
	assert_int_equal(stage2_map(&s2, top - GIB, GIB, GIB, STAGE2_R), 0);
	/* Entry 1023 of the concatenated root: the second frame's last entry. */
	assert_int_equal(tbl(s2.root_pa + PAGE)[511], GIB | 0x004000000000077dull);
	assert_int_equal(stage2_map(&s2, 512 * GIB, 2 * GIB, 2 * MIB, STAGE2_R), 0);
	assert_int_equal(raw_desc(&s2, 512 * GIB, 1) & 3, S2_DESC_TABLE);
	assert_int_equal(tbl(s2.root_pa + PAGE)[0], raw_desc(&s2, 512 * GIB, 1));
	expect_pa(&s2, top - 1, 2 * GIB - 1, STAGE2_R);
	expect_pa(&s2, 512 * GIB + 5, 2 * GIB + 5, STAGE2_R);
	expect_unmapped(&s2, 511 * GIB);
	assert_int_equal(stage2_map(&s2, top, 0, PAGE, STAGE2_R), -SHYPER_ERANGE);
	assert_int_equal(stage2_translate(&s2, top, NULL, NULL), -SHYPER_ERANGE);
	assert_int_equal(stage2_unmap(&s2, top - 2 * MIB, 4 * MIB), -SHYPER_ERANGE);
	assert_int_equal(stage2_unmap(&s2, 0, top), 0);
	assert_int_equal(sim.in_use, 2);
	s2_done(&s2);

	s2_new(&s2, 42, 42);
	assert_int_equal(s2.root_tables, 8);
	assert_int_equal(s2.root_pa % (8 * PAGE), 0);
	assert_int_equal(stage2_map(&s2, (1ull << 42) - PAGE, 0, PAGE, STAGE2_R), 0);
	expect_pa(&s2, (1ull << 42) - 1, PAGE - 1, STAGE2_R);
	s2_done(&s2);
}

static void test_level0_root(void **state)
{
	const uint64_t ipa = (1ull << 43) + 2 * MIB;
	struct stage2 s2;

	(void)state;
	s2_new(&s2, 44, 44);
	assert_int_equal(s2.start_level, 0);
	assert_int_equal(stage2_map(&s2, ipa, 2 * MIB, 2 * MIB, STAGE2_RWX), 0);
	/* Level 0 never holds blocks: root[16] -> level 1 -> level-2 block. */
	assert_int_equal(s2.nr_tables, 3);
	assert_int_equal(tbl(s2.root_pa)[16] & 3, S2_DESC_TABLE);
	assert_int_equal(raw_desc(&s2, ipa, 2), 2 * MIB | 0x7fd);
	expect_leaves(&s2, 0, 1, 0);
	expect_pa(&s2, ipa + 0x1234, 2 * MIB + 0x1234, STAGE2_RWX);
	/* A 1 GiB block below level 0. */
	assert_int_equal(stage2_map(&s2, 1024 * GIB, 4 * GIB, GIB, STAGE2_R), 0);
	assert_int_equal(raw_desc(&s2, 1024 * GIB, 1), 4 * GIB | 0x004000000000077dull);
	assert_int_equal(stage2_map(&s2, (1ull << 44) - PAGE, (1ull << 44) - PAGE, PAGE,
				    STAGE2_R), 0);
	assert_int_equal(stage2_map(&s2, 0, (1ull << 44) - PAGE, 2 * PAGE, STAGE2_R),
			 -SHYPER_ERANGE);
	assert_int_equal(stage2_map(&s2, 1ull << 44, 0, PAGE, STAGE2_R), -SHYPER_ERANGE);
	s2_done(&s2);

	s2_new(&s2, 48, 48);
	assert_int_equal(stage2_map(&s2, (1ull << 48) - PAGE, (1ull << 48) - PAGE, PAGE,
				    STAGE2_R), 0);
	expect_pa(&s2, (1ull << 48) - 1, (1ull << 48) - 1, STAGE2_R);
	assert_int_equal(tbl(s2.root_pa)[511] & 3, S2_DESC_TABLE);
	s2_done(&s2);
}

static void test_bad_args(void **state)
{
	const uint64_t top = 1ull << 39;
	struct stage2 s2;

	(void)state;
	s2_new(&s2, 40, 39);
	assert_int_equal(stage2_map(&s2, 1, 0, PAGE, STAGE2_R), -SHYPER_EINVAL);
	assert_int_equal(stage2_map(&s2, 0, 0x800, PAGE, STAGE2_R), -SHYPER_EINVAL);
	assert_int_equal(stage2_map(&s2, 0, 0, 0x800, STAGE2_R), -SHYPER_EINVAL);
	assert_int_equal(stage2_map(&s2, 0, 0, PAGE + 1, STAGE2_R), -SHYPER_EINVAL);
	assert_int_equal(stage2_map(&s2, 0, 0, 0, STAGE2_R), -SHYPER_EINVAL);
	assert_int_equal(stage2_map(&s2, top - PAGE, 0, 2 * PAGE, STAGE2_R), -SHYPER_ERANGE);
	assert_int_equal(stage2_map(&s2, top, 0, PAGE, STAGE2_R), -SHYPER_ERANGE);
	assert_int_equal(stage2_map(&s2, UINT64_MAX - PAGE + 1, 0, 2 * PAGE, STAGE2_R),
			 -SHYPER_ERANGE);
	assert_int_equal(stage2_map(&s2, 0, 0, UINT64_MAX - PAGE + 1, STAGE2_R),
			 -SHYPER_ERANGE);
	/* Output beyond the 40-bit PA space, or wrapping. */
	assert_int_equal(stage2_map(&s2, 0, 1ull << 40, PAGE, STAGE2_R), -SHYPER_ERANGE);
	assert_int_equal(stage2_map(&s2, 0, (1ull << 40) - PAGE, 2 * PAGE, STAGE2_R),
			 -SHYPER_ERANGE);
	assert_int_equal(stage2_map(&s2, 0, UINT64_MAX - PAGE + 1, 2 * PAGE, STAGE2_R),
			 -SHYPER_ERANGE);
	assert_int_equal(stage2_map(&s2, 0, (1ull << 40) - PAGE, PAGE, STAGE2_R), 0);

	assert_int_equal(stage2_unmap(&s2, 0x800, PAGE), -SHYPER_EINVAL);
	assert_int_equal(stage2_unmap(&s2, 0, 0), -SHYPER_EINVAL);
	assert_int_equal(stage2_unmap(&s2, top - PAGE, 2 * PAGE), -SHYPER_ERANGE);
	assert_int_equal(stage2_set_flags(&s2, 0, 0x1800, STAGE2_R), -SHYPER_EINVAL);
	assert_int_equal(stage2_set_flags(&s2, 0, 0, STAGE2_R), -SHYPER_EINVAL);
	assert_int_equal(stage2_set_flags(&s2, top, PAGE, STAGE2_R), -SHYPER_ERANGE);
	assert_int_equal(stage2_translate(&s2, top, NULL, NULL), -SHYPER_ERANGE);
	assert_int_equal(stage2_translate(&s2, UINT64_MAX, NULL, NULL), -SHYPER_ERANGE);
	expect_unmapped(&s2, PAGE);
	expect_pa(&s2, 0, (1ull << 40) - PAGE, STAGE2_R);
	assert_int_equal(s2.nr_tables, 3);
	assert_int_equal(sim.in_use, 3);

	/* A destroyed stage 2 refuses everything; destroying again is harmless. */
	s2_done(&s2);
	assert_int_equal(stage2_map(&s2, 0, 0, PAGE, STAGE2_R), -SHYPER_EINVAL);
	assert_int_equal(stage2_unmap(&s2, 0, PAGE), -SHYPER_EINVAL);
	assert_int_equal(stage2_set_flags(&s2, 0, PAGE, STAGE2_R), -SHYPER_EINVAL);
	assert_int_equal(stage2_translate(&s2, 0, NULL, NULL), -SHYPER_EINVAL);
	stage2_destroy(&s2);
	assert_int_equal(sim.in_use, 0);
}

static void test_destroy_returns_all(void **state)
{
	struct stage2 s2;

	(void)state;
	s2_new(&s2, 42, 42);
	for (int i = 0; i < 200; i++) {
		uint64_t ipa = rnd_below((1ull << 42) / (2 * MIB)) * 2 * MIB;

		/* Collisions are fine: -SHYPER_EEXIST. */
		(void)stage2_map(&s2, ipa + PAGE, 0, 3 * PAGE, STAGE2_R);
		(void)stage2_map(&s2, ipa & ~(GIB - 1), 0, GIB, STAGE2_R);
	}
	assert_true(sim.in_use > 100);
	assert_int_equal(s2.nr_tables, sim.in_use);
	s2_done(&s2);
}

/* ---- randomized run against a page-granular model of [0, 2 GiB) ---- */

#define MODEL_PAGES	(2 * GIB / PAGE)
#define MODEL_MAPPED	0x80

struct model_page {
	uint64_t pa;
	uint8_t state;	/* MODEL_MAPPED | STAGE2_* flags */
};

static void model_check_page(const struct stage2 *s2, const struct model_page *m,
			     uint64_t page)
{
	uint64_t ipa = page * PAGE + rnd_below(PAGE);

	if (m[page].state & MODEL_MAPPED)
		expect_pa(s2, ipa, m[page].pa + ipa % PAGE, m[page].state & ~MODEL_MAPPED);
	else
		expect_unmapped(s2, ipa);
}

static void random_range(uint64_t *ipa, uint64_t *size)
{
	uint64_t start = rnd_below(MODEL_PAGES) * PAGE;
	uint64_t len;

	switch (rnd_below(3)) {
	case 0:
		len = (1 + rnd_below(64)) * PAGE;
		break;
	case 1:
		len = (1 + rnd_below(3)) * 2 * MIB + rnd_below(512) * PAGE;
		break;
	default:
		len = rnd_below(GIB / PAGE) * PAGE + PAGE;
		break;
	}
	if (len > 2 * GIB - start)
		len = 2 * GIB - start;
	*ipa = start;
	*size = len;
}

static void random_map(struct stage2 *s2, struct model_page *m)
{
	uint64_t ipa, pa, size, align;
	unsigned flags = rnd_below(16);
	bool overlap = false;
	int ret;

	switch (rnd_below(3)) {
	case 0:
		align = PAGE;
		size = (1 + rnd_below(64)) * PAGE;
		break;
	case 1:
		align = 2 * MIB;
		size = (1 + rnd_below(3)) * 2 * MIB;
		break;
	default:
		align = GIB;
		size = GIB;
		break;
	}
	ipa = rnd_below((2 * GIB - size) / align + 1) * align;
	if (align == GIB && rnd_below(2)) {
		/* Make room now and then, so that 1 GiB blocks exist to split. */
		assert_int_equal(stage2_unmap(s2, ipa, size), 0);
		memset(&m[ipa / PAGE], 0, size / PAGE * sizeof(*m));
	}
	/* Mostly as aligned as the IPA, sometimes only to a page. */
	pa = rnd_below((1ull << 39) / align) * align + (rnd_below(4) ? 0 : PAGE);
	if (flags & STAGE2_DEVICE)
		flags &= ~STAGE2_X;
	for (uint64_t p = ipa / PAGE; p < (ipa + size) / PAGE; p++)
		overlap |= m[p].state & MODEL_MAPPED;
	ret = stage2_map(s2, ipa, pa, size, flags);
	if (overlap) {
		assert_int_equal(ret, -SHYPER_EEXIST);
		return;
	}
	if (ret == -SHYPER_ENOMEM)
		return;
	assert_int_equal(ret, 0);
	for (uint64_t p = 0; p < size / PAGE; p++) {
		m[ipa / PAGE + p].pa = pa + p * PAGE;
		m[ipa / PAGE + p].state = MODEL_MAPPED | flags;
	}
}

static void random_change(struct stage2 *s2, struct model_page *m, bool unmap)
{
	unsigned flags = rnd_below(8);
	uint64_t ipa, size;
	int ret;

	random_range(&ipa, &size);
	ret = unmap ? stage2_unmap(s2, ipa, size) : stage2_set_flags(s2, ipa, size, flags);
	if (ret == -SHYPER_ENOMEM)
		return;
	assert_int_equal(ret, 0);
	for (uint64_t p = ipa / PAGE; p < (ipa + size) / PAGE; p++) {
		if (!(m[p].state & MODEL_MAPPED))
			continue;
		if (unmap)
			m[p].state = 0;
		else if (m[p].state & STAGE2_DEVICE)
			m[p].state = MODEL_MAPPED | STAGE2_DEVICE | (flags & ~STAGE2_X);
		else
			m[p].state = MODEL_MAPPED | flags;
	}
}

static void test_random_model(void **state)
{
	struct model_page *m = calloc(MODEL_PAGES, sizeof(*m));
	struct stage2 s2;

	(void)state;
	assert_non_null(m);
	assert_int_equal(stage2_init(&s2, 40, 39, &mm_flush), 0);
	sim.s2 = &s2;
	for (int op = 1; op <= 600; op++) {
		uint64_t r = rnd_below(8);

		/* Now and then the allocator runs dry part way. */
		sim.fail_after = rnd_below(8) ? -1 : (long)rnd_below(3);
		if (r < 4)
			random_map(&s2, m);
		else if (r < 6)
			random_change(&s2, m, true);
		else
			random_change(&s2, m, false);
		sim.fail_after = -1;
		assert_int_equal(s2.nr_tables, sim.in_use);
		for (int n = 0; n < 256; n++)
			model_check_page(&s2, m, rnd_below(MODEL_PAGES));
		if (op % 100 == 0)
			for (uint64_t p = 0; p < MODEL_PAGES; p++)
				model_check_page(&s2, m, p);
	}
	assert_int_equal(stage2_unmap(&s2, 0, 2 * GIB), 0);
	assert_int_equal(sim.in_use, 1);
	assert_int_equal(sim.freed_dirty, 0);
	free(m);
	s2_done(&s2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_init_geometry, sim_setup),
		cmocka_unit_test_setup(test_init_rejects, sim_setup),
		cmocka_unit_test_setup(test_vtcr_vttbr, sim_setup),
		cmocka_unit_test_setup(test_map_1g_block, sim_setup),
		cmocka_unit_test_setup(test_map_2m_blocks, sim_setup),
		cmocka_unit_test_setup(test_map_pages_and_mixed, sim_setup),
		cmocka_unit_test_setup(test_attributes, sim_setup),
		cmocka_unit_test_setup(test_translate_random, sim_setup),
		cmocka_unit_test_setup(test_overlap_refused, sim_setup),
		cmocka_unit_test_setup(test_enomem_map, sim_setup),
		cmocka_unit_test_setup(test_unmap_split_1g, sim_setup),
		cmocka_unit_test_setup(test_unmap_holes_and_free, sim_setup),
		cmocka_unit_test_setup(test_set_flags, sim_setup),
		cmocka_unit_test_setup(test_write_protect_pages_in_blocks, sim_setup),
		cmocka_unit_test_setup(test_enomem_split, sim_setup),
		cmocka_unit_test_setup(test_flush_hook, sim_setup),
		cmocka_unit_test_setup(test_concat_roots, sim_setup),
		cmocka_unit_test_setup(test_level0_root, sim_setup),
		cmocka_unit_test_setup(test_bad_args, sim_setup),
		cmocka_unit_test_setup(test_destroy_returns_all, sim_setup),
		cmocka_unit_test_setup(test_random_model, sim_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
