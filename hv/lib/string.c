/*
 * Freestanding string and memory functions. Built with -mstrict-align, so
 * word accesses are used only when both pointers share their alignment.
 */
#include <stdint.h>
#include <lib/string.h>

/*
 * gcc turns byte loops into calls to memcpy/memset, which here would call
 * themselves; keep this file's loops as written.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

/* A word type that may alias any object, like char. */
typedef uintptr_t __attribute__((may_alias)) word_t;

#define WORD_SIZE	sizeof(word_t)
#define WORD_MASK	(WORD_SIZE - 1)

static int same_alignment(const void *a, const void *b)
{
	return (((uintptr_t)a ^ (uintptr_t)b) & WORD_MASK) == 0;
}

/* Also used by memmove, so no restrict: dst may start below an overlapping src. */
static void copy_forward(unsigned char *d, const unsigned char *s, size_t n)
{
	if (same_alignment(d, s)) {
		while (n && ((uintptr_t)d & WORD_MASK)) {
			*d++ = *s++;
			n--;
		}
		/* 64 bytes a round: all loads before the stores, which become
		 * load/store pairs; forward order keeps memmove's dst < src safe. */
		for (; n >= 8 * WORD_SIZE; n -= 8 * WORD_SIZE) {
			const word_t *sw = (const word_t *)s;
			word_t *dw = (word_t *)d;
			word_t w0 = sw[0], w1 = sw[1], w2 = sw[2], w3 = sw[3];
			word_t w4 = sw[4], w5 = sw[5], w6 = sw[6], w7 = sw[7];

			dw[0] = w0; dw[1] = w1; dw[2] = w2; dw[3] = w3;
			dw[4] = w4; dw[5] = w5; dw[6] = w6; dw[7] = w7;
			d += 8 * WORD_SIZE;
			s += 8 * WORD_SIZE;
		}
		for (; n >= WORD_SIZE; n -= WORD_SIZE) {
			*(word_t *)d = *(const word_t *)s;
			d += WORD_SIZE;
			s += WORD_SIZE;
		}
	}
	while (n--)
		*d++ = *s++;
}

static void copy_backward(unsigned char *d, const unsigned char *s, size_t n)
{
	d += n;
	s += n;
	if (same_alignment(d, s)) {
		while (n && ((uintptr_t)d & WORD_MASK)) {
			*--d = *--s;
			n--;
		}
		for (; n >= WORD_SIZE; n -= WORD_SIZE) {
			d -= WORD_SIZE;
			s -= WORD_SIZE;
			*(word_t *)d = *(const word_t *)s;
		}
	}
	while (n--)
		*--d = *--s;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	copy_forward(dst, src, n);
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	/* Forward is safe unless dst starts inside [src, src + n). */
	if ((uintptr_t)dst - (uintptr_t)src >= n)
		copy_forward(dst, src, n);
	else
		copy_backward(dst, src, n);
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	unsigned char byte = (unsigned char)c;
	word_t pattern = (word_t)-1 / 0xff * byte;

	while (n && ((uintptr_t)d & WORD_MASK)) {
		*d++ = byte;
		n--;
	}
	for (; n >= 8 * WORD_SIZE; n -= 8 * WORD_SIZE) {
		word_t *dw = (word_t *)d;

		dw[0] = pattern; dw[1] = pattern; dw[2] = pattern; dw[3] = pattern;
		dw[4] = pattern; dw[5] = pattern; dw[6] = pattern; dw[7] = pattern;
		d += 8 * WORD_SIZE;
	}
	for (; n >= WORD_SIZE; n -= WORD_SIZE) {
		*(word_t *)d = pattern;
		d += WORD_SIZE;
	}
	while (n--)
		*d++ = byte;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return *x - *y;
	}
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;
	unsigned char byte = (unsigned char)c;

	for (; n; n--, p++) {
		if (*p == byte)
			return (void *)p;
	}
	return NULL;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t maxlen)
{
	size_t n = 0;

	while (n < maxlen && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;

	while (*x && *x == *y) {
		x++;
		y++;
	}
	return *x - *y;
}

int strncmp(const char *a, const char *b, size_t n)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;

	for (; n; n--, x++, y++) {
		if (*x != *y || !*x)
			return *x - *y;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	char ch = (char)c;

	for (;; s++) {
		if (*s == ch)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}
