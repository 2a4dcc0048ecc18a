/*
 * Stage-2 translation table builder (see arch/stage2.h).
 *
 * Every operation that changes the tables runs in two passes. The first
 * only reads: it checks the request against what is mapped and counts the
 * tables the change will need; those are then allocated up front. The second
 * pass cannot fail. So an error (-SHYPER_EEXIST, -SHYPER_ENOMEM) always
 * leaves the tables as they were, and no descriptor a table walker may
 * already have seen is ever written and then taken back.
 *
 * Tables waiting to be used (the pool) or to be freed (the dead list) are
 * chained through their first entry. That entry then holds a frame address,
 * whose bit[0] is clear, so a walker that still sees the frame reads an
 * invalid descriptor.
 */
#include <arch/stage2.h>
#include <shyper/errno.h>
#include <stdbool.h>

/* 4 KiB granule: 512 entries per table, each level resolves 9 bits. */
#define S2_PAGE_SHIFT		12
#define S2_PAGE_SIZE		(1ULL << S2_PAGE_SHIFT)
#define S2_LEVEL_BITS		9
#define S2_ENTRIES		(1U << S2_LEVEL_BITS)
#define S2_LAST_LEVEL		3
/* Largest IPA one level-1 root resolves; beyond, concatenated roots (D8.2). */
#define S2_L1_ROOT_BITS		39
#define S2_L1_CONCAT_MAX_BITS	42
#define S2_OA_BITS_MAX		48
/* Everything in a Block or Page descriptor that is not address or type. */
#define S2_DESC_ATTRS		(~(S2_DESC_ADDR_MASK | S2_DESC_TYPE_MASK))

/*
 * VTCR_EL2 fields (Arm ARM, "VTCR_EL2, Virtualization Translation Control
 * Register"). Left 0: VS[19] (8-bit VMID), HA[21] and HD[22] (access flag
 * and dirty state managed by software).
 */
#define VTCR_T0SZ(ipa_bits)	(64ULL - (ipa_bits))	/* T0SZ[5:0]: 2^(64-T0SZ) IPAs */
#define VTCR_SL0_SHIFT		6	/* SL0[7:6], 4 KiB: 0b10 level 0, 0b01 level 1 */
#define VTCR_SL0_LEVEL2		2	/* SL0 = VTCR_SL0_LEVEL2 - start level */
#define VTCR_IRGN0_WBWA		(1ULL << 8)	/* IRGN0[9:8] 0b01: walks inner WBWA */
#define VTCR_ORGN0_WBWA		(1ULL << 10)	/* ORGN0[11:10] 0b01: walks outer WBWA */
#define VTCR_SH0_INNER		(3ULL << 12)	/* SH0[13:12] 0b11: Inner Shareable */
#define VTCR_TG0_4K		(0ULL << 14)	/* TG0[15:14] 0b00: 4 KiB granule */
#define VTCR_PS_SHIFT		16	/* PS[18:16]: output size, PARange encoding */
#define VTCR_RES1		(1ULL << 31)

/* VTTBR_EL2 (Arm ARM, "VTTBR_EL2"): VMID[63:48], BADDR[47:1], CnP[0] = 0. */
#define VTTBR_VMID_SHIFT	48

/* PARange (ID_AA64MMFR0_EL1) encodings 0..5 in bits; 6 (52) needs FEAT_LPA2. */
static const unsigned char parange_bits[] = { 32, 36, 40, 42, 44, 48 };

struct s2_op {
	struct stage2 *s2;
	uint64_t start;		/* map: IPA that pa maps */
	uint64_t pa;		/* map: output address of start */
	uint64_t attrs;		/* map: leaf attributes */
	unsigned flags;		/* set_flags: the new permissions */
	bool unmap;		/* unmap, else set_flags (map does not use it) */
	bool changed;		/* a valid descriptor was changed */
	size_t need;		/* tables the second pass will take */
	uint64_t pool;		/* allocated ahead, not yet linked */
	size_t pool_nr;
	uint64_t dead;		/* unlinked, freed after the TLB flush */
	size_t dead_nr;
};

static unsigned level_shift(unsigned level)
{
	return S2_PAGE_SHIFT + S2_LEVEL_BITS * (S2_LAST_LEVEL - level);
}

static uint64_t level_size(unsigned level)
{
	return 1ULL << level_shift(level);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t *table_at(const struct stage2 *s2, uint64_t pa)
{
	return s2->mm->to_virt(s2->mm->ctx, pa);
}

static size_t root_entries(const struct stage2 *s2)
{
	return (size_t)1 << (s2->ipa_bits - level_shift(s2->start_level));
}

/* One 64-bit store: a walker sees the old or the new descriptor, never half. */
static void desc_write(uint64_t *entry, uint64_t desc)
{
	*(volatile uint64_t *)entry = desc;
}

static bool desc_is_table(uint64_t desc, unsigned level)
{
	return level < S2_LAST_LEVEL && (desc & S2_DESC_TYPE_MASK) == S2_DESC_TABLE;
}

static bool desc_is_leaf(uint64_t desc, unsigned level)
{
	uint64_t type = desc & S2_DESC_TYPE_MASK;

	if (level == S2_LAST_LEVEL)
		return type == S2_DESC_PAGE;
	return (level == 1 || level == 2) && type == S2_DESC_BLOCK;
}

static bool desc_is_device(uint64_t desc)
{
	return (desc & S2_MEMATTR_DEVICE_MASK) == 0;
}

static uint64_t perm_bits(unsigned flags, bool device)
{
	uint64_t bits = 0;

	if (flags & STAGE2_R)
		bits |= S2_S2AP_R;
	if (flags & STAGE2_W)
		bits |= S2_S2AP_W;
	if (!(flags & STAGE2_X) || device)
		bits |= S2_XN;
	return bits;
}

static unsigned desc_flags(uint64_t desc)
{
	unsigned flags = 0;

	if (desc & S2_S2AP_R)
		flags |= STAGE2_R;
	if (desc & S2_S2AP_W)
		flags |= STAGE2_W;
	if (!(desc & S2_XN))
		flags |= STAGE2_X;
	if (desc_is_device(desc))
		flags |= STAGE2_DEVICE;
	return flags;
}

static int check_range(const struct stage2 *s2, uint64_t ipa, uint64_t size)
{
	if (!s2->mm || !size || ((ipa | size) & (S2_PAGE_SIZE - 1)))
		return -SHYPER_EINVAL;
	if (ipa + size < ipa || ipa + size > (1ULL << s2->ipa_bits))
		return -SHYPER_ERANGE;
	return 0;
}

static bool frame_usable(uint64_t pa, uint64_t size)
{
	return !(pa & (size - 1)) && pa < (1ULL << S2_OA_BITS_MAX);
}

/* Give every pooled table back, zeroed as it came. */
static void pool_drain(struct s2_op *op)
{
	const struct stage2_mm *mm = op->s2->mm;

	while (op->pool_nr) {
		uint64_t pa = op->pool;
		uint64_t *t = table_at(op->s2, pa);

		op->pool = t[0];
		t[0] = 0;
		op->pool_nr--;
		mm->free_table(mm->ctx, pa);
	}
}

static int pool_fill(struct s2_op *op)
{
	const struct stage2_mm *mm = op->s2->mm;

	while (op->pool_nr < op->need) {
		uint64_t pa = mm->alloc_table(mm->ctx);

		if (pa == STAGE2_NO_FRAME) {
			pool_drain(op);
			return -SHYPER_ENOMEM;
		}
		if (!frame_usable(pa, S2_PAGE_SIZE)) {
			mm->free_table(mm->ctx, pa);
			pool_drain(op);
			return -SHYPER_EINVAL;
		}
		table_at(op->s2, pa)[0] = op->pool;
		op->pool = pa;
		op->pool_nr++;
	}
	return 0;
}

static uint64_t pool_take(struct s2_op *op)
{
	uint64_t pa = op->pool;
	uint64_t *t = table_at(op->s2, pa);

	op->pool = t[0];
	t[0] = 0;
	op->pool_nr--;
	op->s2->nr_tables++;
	return pa;
}

static void table_retire(struct s2_op *op, uint64_t pa)
{
	table_at(op->s2, pa)[0] = op->dead;
	op->dead = pa;
	op->dead_nr++;
}

/*
 * End of an operation: flush what changed, then free the tables unlinked
 * (no walker can reach them once the flush is done) and the unused pool.
 */
static void op_finish(struct s2_op *op, uint64_t ipa, uint64_t size)
{
	const struct stage2_mm *mm = op->s2->mm;

	if (op->changed && mm->tlb_flush)
		mm->tlb_flush(mm->ctx, ipa, size);
	while (op->dead_nr) {
		uint64_t pa = op->dead;
		uint64_t *t = table_at(op->s2, pa);

		op->dead = t[0];
		t[0] = 0;
		op->dead_nr--;
		op->s2->nr_tables--;
		mm->free_table(mm->ctx, pa);
	}
	pool_drain(op);
}

/*
 * Iterate the entries of @table (level @level, @n entries, first one at IPA
 * @base) that overlap [start, end): @i the index, @eb the entry's IPA,
 * [@lo, @hi) the part of the range inside the entry.
 */
#define for_each_entry(i, eb, lo, hi, level, base, n, start, end)              \
	for (size_t i = (size_t)(((start) - (base)) >> level_shift(level));     \
	     i < (n) && ((eb) = (base) + i * level_size(level)) < (end) &&       \
	     ((lo) = max_u64((start), (eb)),                                      \
	     (hi) = min_u64((end), (eb) + level_size(level)), true);              \
	     i++)

/* ---- map ---- */

static bool map_block_fits(const struct s2_op *op, unsigned level, uint64_t eb,
			   uint64_t lo, uint64_t hi)
{
	uint64_t size = level_size(level);

	return (level == 1 || level == 2) && lo == eb && hi - lo == size &&
	       !((op->pa + (lo - op->start)) & (size - 1));
}

/* First pass: refuse overlaps, count tables. @table NULL: one to be made. */
static int map_check(struct s2_op *op, const uint64_t *table, unsigned level,
		     uint64_t base, size_t n, uint64_t start, uint64_t end)
{
	uint64_t eb, lo, hi;

	for_each_entry(i, eb, lo, hi, level, base, n, start, end) {
		uint64_t desc = table ? table[i] : 0;
		int ret;

		if (level == S2_LAST_LEVEL || map_block_fits(op, level, eb, lo, hi)) {
			if (desc & S2_DESC_VALID)
				return -SHYPER_EEXIST;
			continue;
		}
		if (!(desc & S2_DESC_VALID)) {
			op->need++;
			if (level + 1 == S2_LAST_LEVEL)
				continue;
			ret = map_check(op, NULL, level + 1, eb, S2_ENTRIES, lo, hi);
		} else if (desc_is_table(desc, level)) {
			ret = map_check(op, table_at(op->s2, desc & S2_DESC_ADDR_MASK),
					level + 1, eb, S2_ENTRIES, lo, hi);
		} else {
			return -SHYPER_EEXIST;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static void map_apply(struct s2_op *op, uint64_t *table, unsigned level,
		      uint64_t base, size_t n, uint64_t start, uint64_t end)
{
	uint64_t eb, lo, hi;

	for_each_entry(i, eb, lo, hi, level, base, n, start, end) {
		uint64_t oa = op->pa + (lo - op->start);

		if (level == S2_LAST_LEVEL) {
			desc_write(&table[i], oa | op->attrs | S2_DESC_PAGE);
			continue;
		}
		if (map_block_fits(op, level, eb, lo, hi)) {
			desc_write(&table[i], oa | op->attrs | S2_DESC_BLOCK);
			continue;
		}
		if (!(table[i] & S2_DESC_VALID))
			desc_write(&table[i], pool_take(op) | S2_DESC_TABLE);
		map_apply(op, table_at(op->s2, table[i] & S2_DESC_ADDR_MASK),
			  level + 1, eb, S2_ENTRIES, lo, hi);
	}
}

int stage2_map(struct stage2 *s2, uint64_t ipa, uint64_t pa, uint64_t size,
	       unsigned flags)
{
	struct s2_op op = { .s2 = s2, .start = ipa, .pa = pa };
	bool device = flags & STAGE2_DEVICE;
	int ret = check_range(s2, ipa, size);

	if (ret)
		return ret;
	if ((pa & (S2_PAGE_SIZE - 1)) || (flags & ~(STAGE2_RWX | STAGE2_DEVICE)) ||
	    (device && (flags & STAGE2_X)))
		return -SHYPER_EINVAL;
	if (pa + size < pa || pa + size > (1ULL << s2->pa_bits))
		return -SHYPER_ERANGE;

	op.attrs = S2_AF | perm_bits(flags, device) |
		   (device ? S2_MEMATTR_DEVICE_nGnRE : (S2_MEMATTR_NORMAL_WB | S2_SH_INNER));
	ret = map_check(&op, table_at(s2, s2->root_pa), s2->start_level, 0,
			root_entries(s2), ipa, ipa + size);
	if (!ret)
		ret = pool_fill(&op);
	if (ret)
		return ret;
	map_apply(&op, table_at(s2, s2->root_pa), s2->start_level, 0,
		  root_entries(s2), ipa, ipa + size);
	pool_drain(&op);
	return 0;
}

/* ---- unmap and set_flags: the leaves in a range change ---- */

static bool leaf_changes(const struct s2_op *op, uint64_t desc)
{
	return op->unmap || (desc & S2_PERM_MASK) !=
				    perm_bits(op->flags, desc_is_device(desc));
}

/*
 * Tables needed to split the level-@level block at @eb until [start, end)
 * covers whole entries: one for the block, and more for the (at most two)
 * next-level blocks at the edges of the range that it covers partly.
 */
static size_t split_need(unsigned level, uint64_t eb, uint64_t start, uint64_t end)
{
	unsigned child = level + 1;
	uint64_t size = level_size(child);
	uint64_t lo = max_u64(start, eb), hi = min_u64(end, eb + level_size(level));
	uint64_t first = lo & ~(size - 1), last = (hi - 1) & ~(size - 1);
	size_t need = 1;

	if (child == S2_LAST_LEVEL)
		return need;
	if (lo != first || hi < first + size)
		need += split_need(child, first, start, end);
	if (last != first && hi != last + size)
		need += split_need(child, last, start, end);
	return need;
}

/* First pass: count tables for the splits. Only the range's edges can need them. */
static void change_count(struct s2_op *op, const uint64_t *table, unsigned level,
			 uint64_t base, size_t n, uint64_t start, uint64_t end)
{
	uint64_t eb, lo, hi;

	for_each_entry(i, eb, lo, hi, level, base, n, start, end) {
		uint64_t desc = table[i];

		if (lo == eb && hi == eb + level_size(level))
			continue;
		if (desc_is_table(desc, level))
			change_count(op, table_at(op->s2, desc & S2_DESC_ADDR_MASK),
				     level + 1, eb, S2_ENTRIES, lo, hi);
		else if (desc_is_leaf(desc, level) && leaf_changes(op, desc))
			op->need += split_need(level, eb, lo, hi);
	}
}

/*
 * Replace the block at @entry by a table of next-level entries mapping the
 * same addresses with the same attributes, break-before-make (Arm ARM D8,
 * "Using break-before-make when updating translation table entries").
 */
static void split_block(struct s2_op *op, uint64_t *entry, unsigned level,
			uint64_t eb)
{
	const struct stage2_mm *mm = op->s2->mm;
	uint64_t desc = *entry;
	uint64_t table_pa = pool_take(op);
	uint64_t *table = table_at(op->s2, table_pa);
	unsigned child = level + 1;
	uint64_t type = child == S2_LAST_LEVEL ? S2_DESC_PAGE : S2_DESC_BLOCK;
	uint64_t oa = desc & S2_DESC_ADDR_MASK;

	for (size_t i = 0; i < S2_ENTRIES; i++)
		desc_write(&table[i], (oa + i * level_size(child)) |
					      (desc & S2_DESC_ATTRS) | type);
	desc_write(entry, 0);
	if (mm->tlb_flush)
		mm->tlb_flush(mm->ctx, eb, level_size(level));
	desc_write(entry, table_pa | S2_DESC_TABLE);
}

static bool table_empty(const uint64_t *table)
{
	for (size_t i = 0; i < S2_ENTRIES; i++)
		if (table[i] & S2_DESC_VALID)
			return false;
	return true;
}

static void change_apply(struct s2_op *op, uint64_t *table, unsigned level,
			 uint64_t base, size_t n, uint64_t start, uint64_t end)
{
	uint64_t eb, lo, hi;

	for_each_entry(i, eb, lo, hi, level, base, n, start, end) {
		uint64_t desc = table[i];
		uint64_t *child;

		if (desc_is_leaf(desc, level)) {
			if (!leaf_changes(op, desc))
				continue;
			op->changed = true;
			if (lo == eb && hi == eb + level_size(level)) {
				desc_write(&table[i], op->unmap ? 0 :
					   (desc & ~S2_PERM_MASK) |
					   perm_bits(op->flags, desc_is_device(desc)));
				continue;
			}
			split_block(op, &table[i], level, eb);
			desc = table[i];
		} else if (!desc_is_table(desc, level)) {
			continue;
		}
		child = table_at(op->s2, desc & S2_DESC_ADDR_MASK);
		change_apply(op, child, level + 1, eb, S2_ENTRIES, lo, hi);
		if (op->unmap && table_empty(child)) {
			desc_write(&table[i], 0);
			table_retire(op, desc & S2_DESC_ADDR_MASK);
		}
	}
}

static int change_range(struct s2_op *op, uint64_t ipa, uint64_t size)
{
	struct stage2 *s2 = op->s2;
	uint64_t *root;
	int ret;

	root = table_at(s2, s2->root_pa);
	change_count(op, root, s2->start_level, 0, root_entries(s2), ipa, ipa + size);
	ret = pool_fill(op);
	if (ret)
		return ret;
	change_apply(op, root, s2->start_level, 0, root_entries(s2), ipa, ipa + size);
	op_finish(op, ipa, size);
	return 0;
}

int stage2_unmap(struct stage2 *s2, uint64_t ipa, uint64_t size)
{
	struct s2_op op = { .s2 = s2, .unmap = true };
	int ret = check_range(s2, ipa, size);

	return ret ? ret : change_range(&op, ipa, size);
}

int stage2_set_flags(struct stage2 *s2, uint64_t ipa, uint64_t size,
		     unsigned flags)
{
	struct s2_op op = { .s2 = s2, .flags = flags };
	int ret = check_range(s2, ipa, size);

	if (ret)
		return ret;
	if (flags & ~STAGE2_RWX)
		return -SHYPER_EINVAL;
	return change_range(&op, ipa, size);
}

/* ---- lookups, registers, life cycle ---- */

int stage2_translate(const struct stage2 *s2, uint64_t ipa, uint64_t *pa,
		     unsigned *flags)
{
	const uint64_t *table;
	unsigned level;
	size_t idx;

	if (!s2->mm)
		return -SHYPER_EINVAL;
	if (ipa >> s2->ipa_bits)
		return -SHYPER_ERANGE;
	table = table_at(s2, s2->root_pa);
	idx = ipa >> level_shift(s2->start_level);
	for (level = s2->start_level;; level++) {
		uint64_t desc = table[idx];

		if (desc_is_leaf(desc, level)) {
			uint64_t offset = ipa & (level_size(level) - 1);

			if (pa)
				*pa = (desc & S2_DESC_ADDR_MASK) + offset;
			if (flags)
				*flags = desc_flags(desc);
			return 0;
		}
		if (!desc_is_table(desc, level))
			return -SHYPER_ENOENT;
		table = table_at(s2, desc & S2_DESC_ADDR_MASK);
		idx = (ipa >> level_shift(level + 1)) & (S2_ENTRIES - 1);
	}
}

uint64_t stage2_vtcr(const struct stage2 *s2, unsigned cpu_pa_bits)
{
	uint64_t ps = 0;

	for (size_t i = 0; i < sizeof(parange_bits); i++)
		if (parange_bits[i] <= cpu_pa_bits)
			ps = i;
	return VTCR_RES1 | (ps << VTCR_PS_SHIFT) | VTCR_TG0_4K |
	       VTCR_SH0_INNER | VTCR_ORGN0_WBWA | VTCR_IRGN0_WBWA |
	       ((uint64_t)(VTCR_SL0_LEVEL2 - s2->start_level) << VTCR_SL0_SHIFT) |
	       VTCR_T0SZ(s2->ipa_bits);
}

uint64_t stage2_vttbr(const struct stage2 *s2, uint16_t vmid)
{
	if (vmid > STAGE2_VMID_MAX)
		return STAGE2_VTTBR_INVALID;
	return ((uint64_t)vmid << VTTBR_VMID_SHIFT) | s2->root_pa;
}

int stage2_init(struct stage2 *s2, unsigned cpu_pa_bits, unsigned ipa_bits,
		const struct stage2_mm *mm)
{
	unsigned start_level = 1, root_tables = 1;
	uint64_t root, *table;
	struct stage2 init;

	if (!mm || !mm->alloc_table || !mm->free_table || !mm->alloc_root ||
	    !mm->free_root || !mm->to_virt)
		return -SHYPER_EINVAL;
	if (ipa_bits < STAGE2_IPA_BITS_MIN || ipa_bits > STAGE2_IPA_BITS_MAX ||
	    ipa_bits > cpu_pa_bits)
		return -SHYPER_EINVAL;
	if (ipa_bits > S2_L1_CONCAT_MAX_BITS)
		start_level = 0;
	else if (ipa_bits > S2_L1_ROOT_BITS)
		root_tables = 1U << (ipa_bits - S2_L1_ROOT_BITS);

	root = mm->alloc_root(mm->ctx, root_tables);
	if (root == STAGE2_NO_FRAME)
		return -SHYPER_ENOMEM;
	if (!frame_usable(root, root_tables * S2_PAGE_SIZE)) {
		mm->free_root(mm->ctx, root, root_tables);
		return -SHYPER_EINVAL;
	}
	init = (struct stage2){
		.root_pa = root,
		.ipa_bits = ipa_bits,
		.pa_bits = cpu_pa_bits < S2_OA_BITS_MAX ? cpu_pa_bits : S2_OA_BITS_MAX,
		.start_level = start_level,
		.root_tables = root_tables,
		.mm = mm,
		.nr_tables = root_tables,
	};
	table = table_at(&init, root);
	for (size_t i = 0; i < root_entries(&init); i++)
		desc_write(&table[i], 0);
	*s2 = init;
	return 0;
}

static void free_tables(struct stage2 *s2, const uint64_t *table, unsigned level,
			size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t pa = table[i] & S2_DESC_ADDR_MASK;

		if (!desc_is_table(table[i], level))
			continue;
		if (level + 1 < S2_LAST_LEVEL)
			free_tables(s2, table_at(s2, pa), level + 1, S2_ENTRIES);
		s2->mm->free_table(s2->mm->ctx, pa);
		s2->nr_tables--;
	}
}

void stage2_destroy(struct stage2 *s2)
{
	if (!s2->mm)
		return;
	free_tables(s2, table_at(s2, s2->root_pa), s2->start_level, root_entries(s2));
	s2->mm->free_root(s2->mm->ctx, s2->root_pa, s2->root_tables);
	s2->nr_tables = 0;
	s2->root_pa = 0;
	s2->mm = NULL;
}
