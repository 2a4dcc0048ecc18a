/*
 * Bitmap range operations and searches, a word at a time where possible:
 * the frame allocator scans bitmaps of hundreds of thousands of bits.
 */
#include <stdint.h>
#include <lib/bitmap.h>
#include <lib/popcount.h>

#define ALL_ONES	(~0UL)

void bitmap_zero(unsigned long *map, size_t nbits)
{
	size_t i;

	for (i = 0; i < BITMAP_WORDS(nbits); i++)
		map[i] = 0;
}

void bitmap_set_range(unsigned long *map, size_t start, size_t count)
{
	size_t end = start + count;

	while (start < end && start % BITS_PER_LONG)
		bitmap_set(map, start++);
	while (end - start >= BITS_PER_LONG) {
		map[start / BITS_PER_LONG] = ALL_ONES;
		start += BITS_PER_LONG;
	}
	while (start < end)
		bitmap_set(map, start++);
}

void bitmap_clear_range(unsigned long *map, size_t start, size_t count)
{
	size_t end = start + count;

	while (start < end && start % BITS_PER_LONG)
		bitmap_clear(map, start++);
	while (end - start >= BITS_PER_LONG) {
		map[start / BITS_PER_LONG] = 0;
		start += BITS_PER_LONG;
	}
	while (start < end)
		bitmap_clear(map, start++);
}

/* Find the first bit >= start that differs from @invert's bits. */
static size_t find_next(const unsigned long *map, size_t nbits, size_t start,
			unsigned long invert)
{
	size_t words = BITMAP_WORDS(nbits);
	size_t i, bit;
	unsigned long word;

	if (start >= nbits)
		return nbits;
	i = start / BITS_PER_LONG;
	word = (map[i] ^ invert) & (ALL_ONES << (start % BITS_PER_LONG));
	for (;;) {
		if (word) {
			bit = i * BITS_PER_LONG + (size_t)__builtin_ctzl(word);
			return bit < nbits ? bit : nbits;
		}
		if (++i >= words)
			return nbits;
		word = map[i] ^ invert;
	}
}

size_t bitmap_find_next_set(const unsigned long *map, size_t nbits,
			    size_t start)
{
	return find_next(map, nbits, start, 0);
}

size_t bitmap_find_next_zero(const unsigned long *map, size_t nbits,
			     size_t start)
{
	return find_next(map, nbits, start, ALL_ONES);
}

/* Round @x up to a multiple of the power of two @align; SIZE_MAX on overflow. */
static size_t align_up_or_max(size_t x, size_t align)
{
	if (x > SIZE_MAX - (align - 1))
		return SIZE_MAX;
	return (x + align - 1) & ~(align - 1);
}

size_t bitmap_find_zero_area(const unsigned long *map, size_t nbits,
			     size_t start, size_t count, size_t align)
{
	size_t i, set;

	if (align == 0)
		align = 1;
	if ((align & (align - 1)) || count == 0 || count > nbits)
		return nbits;

	i = align_up_or_max(start, align);
	while (i <= nbits - count) {
		i = bitmap_find_next_zero(map, nbits, i);
		if (i >= nbits)
			break;
		i = align_up_or_max(i, align);
		if (i > nbits - count)
			break;
		set = bitmap_find_next_set(map, i + count, i);
		if (set >= i + count)
			return i;
		i = align_up_or_max(set + 1, align);
	}
	return nbits;
}

size_t bitmap_weight(const unsigned long *map, size_t nbits)
{
	size_t full = nbits / BITS_PER_LONG;
	size_t rest = nbits % BITS_PER_LONG;
	size_t i, n = 0;

	for (i = 0; i < full; i++)
		n += popcount64(map[i]);
	if (rest)
		n += popcount64(map[full] & ((1UL << rest) - 1));
	return n;
}
