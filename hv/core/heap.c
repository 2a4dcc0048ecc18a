/*
 * First-fit heap with block splitting and coalescing. Each block starts
 * with a header holding its size and a check word tying magic, size and
 * position together, so a stray write into a header or a forged header is
 * noticed. heap_free() finds its block by walking from the start rather
 * than trusting the header in front of the pointer.
 */
#include <stdbool.h>
#include <core/heap.h>
#include <shyper/errno.h>

#define HEAP_GRANULE	16
#define HEAP_MAGIC_FREE	0x46524545u	/* "FREE" */
#define HEAP_MAGIC_USED	0x55534544u	/* "USED" */
#define HEAP_CHECK_SALT	0x9e3779b9u	/* any constant; golden ratio */

struct heap_block {
	uint32_t magic;
	uint32_t check;
	uint64_t size;		/* whole block, header included */
};

_Static_assert(sizeof(struct heap_block) == HEAP_GRANULE,
	       "the header keeps payloads granule aligned");

#define HDR		sizeof(struct heap_block)
/* A block must hold its header and at least one granule of payload. */
#define MIN_BLOCK	(HDR + HEAP_GRANULE)

static size_t align_up(size_t x, size_t align)
{
	return (x + align - 1) & ~(align - 1);
}

static uint32_t block_check(uint32_t magic, uint64_t size, size_t off)
{
	uint64_t v = (uint64_t)magic ^ (size * HEAP_CHECK_SALT) ^
		     ((uint64_t)off << 7) ^ HEAP_CHECK_SALT;

	return (uint32_t)(v ^ (v >> 32));
}

static struct heap_block *block_at(const struct heap *h, size_t off)
{
	return (struct heap_block *)(h->base + off);
}

static void write_block(struct heap *h, size_t off, uint32_t magic,
			size_t size)
{
	struct heap_block *b = block_at(h, off);

	b->magic = magic;
	b->size = size;
	b->check = block_check(magic, size, off);
}

/* The header at @off if it is intact and fits in the heap, else NULL. */
static struct heap_block *valid_block(const struct heap *h, size_t off)
{
	struct heap_block *b = block_at(h, off);

	if (b->magic != HEAP_MAGIC_FREE && b->magic != HEAP_MAGIC_USED)
		return NULL;
	if (b->check != block_check(b->magic, b->size, off))
		return NULL;
	if (b->size < MIN_BLOCK || b->size % HEAP_GRANULE ||
	    b->size > h->size - off)
		return NULL;
	return b;
}

int heap_init(struct heap *h, void *base, size_t size)
{
	uintptr_t start = (uintptr_t)base;
	uintptr_t aligned;

	if (!h || !base || size < HEAP_GRANULE)
		return -SHYPER_EINVAL;
	aligned = align_up(start, HEAP_GRANULE);
	size -= aligned - start;
	size &= ~(size_t)(HEAP_GRANULE - 1);
	if (size < MIN_BLOCK)
		return -SHYPER_EINVAL;

	h->base = (uint8_t *)aligned;
	h->size = size;
	h->free_bytes = size - HDR;
	write_block(h, 0, HEAP_MAGIC_FREE, size);
	return 0;
}

/* Payload bytes a free block of @size contributes to free_bytes. */
static size_t payload(size_t size)
{
	return size - HDR;
}

/*
 * Carve a used block of @need bytes out of the free block at @off whose
 * payload starts @gap bytes later than the block's own would.
 */
static void *carve(struct heap *h, size_t off, size_t bsize, size_t gap,
		   size_t need)
{
	size_t rest;

	h->free_bytes -= payload(bsize);
	if (gap) {
		write_block(h, off, HEAP_MAGIC_FREE, gap);
		h->free_bytes += payload(gap);
		off += gap;
		bsize -= gap;
	}
	rest = bsize - need;
	if (rest >= MIN_BLOCK) {
		write_block(h, off + need, HEAP_MAGIC_FREE, rest);
		h->free_bytes += payload(rest);
		bsize = need;
	}
	write_block(h, off, HEAP_MAGIC_USED, bsize);
	return h->base + off + HDR;
}

void *heap_alloc(struct heap *h, size_t size, size_t align)
{
	struct heap_block *b;
	size_t off, need, gap;
	uintptr_t pay;

	if (align == 0)
		align = HEAP_GRANULE;
	if ((align & (align - 1)) || align > HEAP_MAX_ALIGN)
		return NULL;
	if (align < HEAP_GRANULE)
		align = HEAP_GRANULE;
	if (size == 0 || size > h->size)
		return NULL;
	need = HDR + align_up(size, HEAP_GRANULE);

	for (off = 0; off < h->size; off += b->size) {
		b = valid_block(h, off);
		if (!b)
			return NULL;
		if (b->magic != HEAP_MAGIC_FREE || b->size < need)
			continue;
		/* A gap before an aligned payload becomes a free block. */
		pay = (uintptr_t)(h->base + off + HDR);
		gap = align_up(pay, align) - pay;
		while (gap && gap < MIN_BLOCK)
			gap += align;
		if (gap <= b->size && need <= b->size - gap)
			return carve(h, off, b->size, gap, need);
	}
	return NULL;
}

int heap_free(struct heap *h, void *p)
{
	struct heap_block *b, *prev = NULL, *next = NULL;
	size_t off, target, prev_off = 0, size;
	uintptr_t addr, start;

	if (!p)
		return 0;
	/* Integers: @p may point into some other object entirely. */
	addr = (uintptr_t)p;
	start = (uintptr_t)h->base;
	if (addr < start + HDR || addr - start >= h->size)
		return -SHYPER_EINVAL;
	target = addr - start - HDR;

	for (off = 0; off < target; off += b->size) {
		b = valid_block(h, off);
		if (!b)
			return -SHYPER_EINVAL;
		prev = b;
		prev_off = off;
	}
	if (off != target)
		return -SHYPER_EINVAL;
	b = valid_block(h, off);
	if (!b || b->magic != HEAP_MAGIC_USED)
		return -SHYPER_EINVAL;
	if (off + b->size < h->size) {
		next = valid_block(h, off + b->size);
		if (!next)
			return -SHYPER_EINVAL;
	}

	/* Everything checked: now merge with free neighbours. */
	size = b->size;
	h->free_bytes += payload(size);
	if (next && next->magic == HEAP_MAGIC_FREE) {
		size += next->size;
		h->free_bytes += HDR;
		next->magic = 0;
	}
	if (prev && prev->magic == HEAP_MAGIC_FREE) {
		b->magic = 0;
		off = prev_off;
		size += prev->size;
		h->free_bytes += HDR;
	}
	write_block(h, off, HEAP_MAGIC_FREE, size);
	return 0;
}

size_t heap_free_bytes(const struct heap *h)
{
	return h->free_bytes;
}

int heap_check(const struct heap *h)
{
	const struct heap_block *b;
	bool prev_free = false;
	size_t off, free_bytes = 0;

	for (off = 0; off < h->size; off += b->size) {
		b = valid_block(h, off);
		if (!b)
			return -SHYPER_EBADMSG;
		if (b->magic == HEAP_MAGIC_FREE) {
			/* Coalescing leaves no two free neighbours. */
			if (prev_free)
				return -SHYPER_EBADMSG;
			free_bytes += payload(b->size);
		}
		prev_free = b->magic == HEAP_MAGIC_FREE;
	}
	if (off != h->size || free_bytes != h->free_bytes)
		return -SHYPER_EBADMSG;
	return 0;
}
