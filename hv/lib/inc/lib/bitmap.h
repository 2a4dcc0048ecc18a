/*
 * Bitmaps stored in arrays of unsigned long; bit i lives in word
 * i / BITS_PER_LONG at position i % BITS_PER_LONG. The caller owns the
 * storage (BITMAP_WORDS(nbits) words) and any locking.
 */
#ifndef LIB_BITMAP_H
#define LIB_BITMAP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define BITS_PER_LONG		(sizeof(unsigned long) * CHAR_BIT)
/* Written without (nbits + BITS_PER_LONG - 1) so it cannot overflow. */
#define BITMAP_WORDS(nbits)	\
	((nbits) / BITS_PER_LONG + ((nbits) % BITS_PER_LONG != 0))

static inline unsigned long bitmap_bit_mask(size_t bit)
{
	return 1UL << (bit % BITS_PER_LONG);
}

static inline void bitmap_set(unsigned long *map, size_t bit)
{
	map[bit / BITS_PER_LONG] |= bitmap_bit_mask(bit);
}

static inline void bitmap_clear(unsigned long *map, size_t bit)
{
	map[bit / BITS_PER_LONG] &= ~bitmap_bit_mask(bit);
}

static inline bool bitmap_test(const unsigned long *map, size_t bit)
{
	return (map[bit / BITS_PER_LONG] & bitmap_bit_mask(bit)) != 0;
}

/* Clear all of the first @nbits bits (whole words). */
void bitmap_zero(unsigned long *map, size_t nbits);

/* Set or clear bits [start, start + count). */
void bitmap_set_range(unsigned long *map, size_t start, size_t count);
void bitmap_clear_range(unsigned long *map, size_t start, size_t count);

/* Index of the first set (zero) bit >= @start and < @nbits, or @nbits. */
size_t bitmap_find_next_set(const unsigned long *map, size_t nbits,
			    size_t start);
size_t bitmap_find_next_zero(const unsigned long *map, size_t nbits,
			     size_t start);

/*
 * First index i >= @start with i % @align == 0 such that bits
 * [i, i + @count) are all clear and i + @count <= @nbits; @nbits when there
 * is none, when @count is 0 or when @align is not a power of two
 * (0 counts as 1).
 */
size_t bitmap_find_zero_area(const unsigned long *map, size_t nbits,
			     size_t start, size_t count, size_t align);

/* Number of set bits among the first @nbits. */
size_t bitmap_weight(const unsigned long *map, size_t nbits);

#endif
