/*
 * printf-style formatting without libc or floating point.
 *
 * Conversions: d i u x X o p s c %; flags - 0 + space #; width and
 * precision (also as *); length modifiers hh h l ll z t j. %s of NULL
 * prints "(null)", %p prints 0x-prefixed lower-case hex (0x0 for NULL).
 * Anything else after a '%' is copied to the output unchanged.
 */
#ifndef LIB_FMT_H
#define LIB_FMT_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Format into @out one character at a time; returns the number produced,
 * or -SHYPER_EOVERFLOW if that exceeds INT_MAX (all three functions).
 */
int fmt_vformat(void (*out)(void *ctx, char c), void *ctx, const char *fmt,
		va_list ap) __attribute__((format(printf, 3, 0)));

/*
 * C99 snprintf semantics: writes at most @size - 1 characters plus a NUL
 * (nothing when @size is 0) and returns the untruncated length.
 */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
