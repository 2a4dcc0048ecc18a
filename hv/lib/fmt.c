/*
 * printf engine. One pass over the format; every conversion is parsed into
 * a struct conv_spec and then rendered by a per-kind helper. Field widths
 * follow C11 7.21.6.1 so that host snprintf can serve as the test oracle.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <lib/fmt.h>
#include <shyper/errno.h>

#define FLAG_LEFT	(1u << 0)	/* '-' */
#define FLAG_ZERO	(1u << 1)	/* '0' */
#define FLAG_PLUS	(1u << 2)	/* '+' */
#define FLAG_SPACE	(1u << 3)	/* ' ' */
#define FLAG_ALT	(1u << 4)	/* '#' */

/* No precision given: C11 7.21.6.1p4, integers then get at least one digit. */
#define PRECISION_NONE	(-1)

/* Octal digits of a 64-bit value, the longest rendering: ceil(64 / 3). */
#define MAX_DIGITS	22

enum length {
	LEN_NONE,
	LEN_HH,
	LEN_H,
	LEN_L,
	LEN_LL,
	LEN_Z,
	LEN_T,
	LEN_J,
};

struct conv_spec {
	unsigned int flags;
	int width;
	int precision;
	enum length length;
};

struct sink {
	void (*out)(void *ctx, char c);
	void *ctx;
	size_t count;
};

static void emit(struct sink *s, char c)
{
	s->out(s->ctx, c);
	s->count++;
}

static void emit_repeat(struct sink *s, char c, size_t n)
{
	while (n--)
		emit(s, c);
}

static void emit_string(struct sink *s, const char *str, size_t n)
{
	while (n--)
		emit(s, *str++);
}

/* Decimal field of a format; saturates at INT_MAX instead of overflowing. */
static int parse_number(const char **fmt)
{
	int n = 0;

	while (**fmt >= '0' && **fmt <= '9') {
		int digit = **fmt - '0';

		n = n > (INT_MAX - digit) / 10 ? INT_MAX : n * 10 + digit;
		(*fmt)++;
	}
	return n;
}

static enum length parse_length(const char **fmt)
{
	const char *p = *fmt;
	enum length len = LEN_NONE;

	switch (*p) {
	case 'h':
		len = p[1] == 'h' ? LEN_HH : LEN_H;
		break;
	case 'l':
		len = p[1] == 'l' ? LEN_LL : LEN_L;
		break;
	case 'z':
		len = LEN_Z;
		break;
	case 't':
		len = LEN_T;
		break;
	case 'j':
		len = LEN_J;
		break;
	default:
		return LEN_NONE;
	}
	*fmt = p + (len == LEN_HH || len == LEN_LL ? 2 : 1);
	return len;
}

static uintmax_t fetch_unsigned(va_list *ap, enum length len)
{
	switch (len) {
	case LEN_HH:
		return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_H:
		return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_L:
		return va_arg(*ap, unsigned long);
	case LEN_LL:
		return va_arg(*ap, unsigned long long);
	case LEN_Z:
		return va_arg(*ap, size_t);
	case LEN_T:
		return (uintmax_t)(uintptr_t)va_arg(*ap, ptrdiff_t);
	case LEN_J:
		return va_arg(*ap, uintmax_t);
	default:
		return va_arg(*ap, unsigned int);
	}
}

static intmax_t fetch_signed(va_list *ap, enum length len)
{
	switch (len) {
	case LEN_HH:
		return (signed char)va_arg(*ap, int);
	case LEN_H:
		return (short)va_arg(*ap, int);
	case LEN_L:
		return va_arg(*ap, long);
	case LEN_LL:
		return va_arg(*ap, long long);
	case LEN_Z:
		/* The signed type corresponding to size_t. */
		return (ptrdiff_t)va_arg(*ap, size_t);
	case LEN_T:
		return va_arg(*ap, ptrdiff_t);
	case LEN_J:
		return va_arg(*ap, intmax_t);
	default:
		return va_arg(*ap, int);
	}
}

static void emit_padded(struct sink *s, const struct conv_spec *spec,
			const char *str, size_t len)
{
	size_t pad = (size_t)spec->width > len ? (size_t)spec->width - len : 0;

	if (!(spec->flags & FLAG_LEFT))
		emit_repeat(s, ' ', pad);
	emit_string(s, str, len);
	if (spec->flags & FLAG_LEFT)
		emit_repeat(s, ' ', pad);
}

/*
 * Render [sign or 0x prefix][precision zeros][digits] inside the field
 * width. @prefix is "", a sign, or "0x"/"0X".
 */
static void emit_integer(struct sink *s, const struct conv_spec *spec,
			 uintmax_t value, unsigned int base, bool upper,
			 const char *prefix, size_t prefix_len)
{
	const char *digit_chars = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char digits[MAX_DIGITS];
	size_t nd = 0, zeros = 0, len, pad;
	size_t precision = spec->precision == PRECISION_NONE ?
			   1 : (size_t)spec->precision;

	while (value) {
		digits[nd++] = digit_chars[value % base];
		value /= base;
	}
	if (precision > nd)
		zeros = precision - nd;
	/* '#' with 'o' raises the precision so that the first digit is 0. */
	if (base == 8 && (spec->flags & FLAG_ALT) && zeros == 0 &&
	    (nd == 0 || digits[nd - 1] != '0'))
		zeros = 1;

	len = prefix_len + zeros + nd;
	pad = (size_t)spec->width > len ? (size_t)spec->width - len : 0;
	if (!(spec->flags & FLAG_LEFT)) {
		/* '0' is ignored with '-' or an explicit precision. */
		if ((spec->flags & FLAG_ZERO) &&
		    spec->precision == PRECISION_NONE) {
			zeros += pad;
		} else {
			emit_repeat(s, ' ', pad);
		}
		pad = 0;
	}
	emit_string(s, prefix, prefix_len);
	emit_repeat(s, '0', zeros);
	while (nd)
		emit(s, digits[--nd]);
	emit_repeat(s, ' ', pad);
}

static void format_signed(struct sink *s, const struct conv_spec *spec,
			  va_list *ap)
{
	intmax_t v = fetch_signed(ap, spec->length);
	/* Negate in unsigned arithmetic: -INTMAX_MIN overflows. */
	uintmax_t magnitude = v < 0 ? 0 - (uintmax_t)v : (uintmax_t)v;
	const char *sign = "";

	if (v < 0)
		sign = "-";
	else if (spec->flags & FLAG_PLUS)
		sign = "+";
	else if (spec->flags & FLAG_SPACE)
		sign = " ";
	emit_integer(s, spec, magnitude, 10, false, sign, *sign ? 1 : 0);
}

static void format_unsigned(struct sink *s, const struct conv_spec *spec,
			    va_list *ap, char conv)
{
	uintmax_t v = fetch_unsigned(ap, spec->length);
	bool hex = conv == 'x' || conv == 'X';
	bool alt_prefix = hex && (spec->flags & FLAG_ALT) && v != 0;
	unsigned int base = hex ? 16 : conv == 'o' ? 8 : 10;

	emit_integer(s, spec, v, base, conv == 'X',
		     conv == 'X' ? "0X" : "0x", alt_prefix ? 2 : 0);
}

static void format_pointer(struct sink *s, const struct conv_spec *spec,
			   va_list *ap)
{
	uintptr_t v = (uintptr_t)va_arg(*ap, void *);

	emit_integer(s, spec, v, 16, false, "0x", 2);
}

static void format_string(struct sink *s, const struct conv_spec *spec,
			  va_list *ap)
{
	const char *str = va_arg(*ap, const char *);
	size_t len = 0;

	if (!str)
		str = "(null)";
	/* With a precision the array need not be NUL-terminated: stop early. */
	if (spec->precision != PRECISION_NONE) {
		while (len < (size_t)spec->precision && str[len])
			len++;
	} else {
		while (str[len])
			len++;
	}
	emit_padded(s, spec, str, len);
}

static void format_char(struct sink *s, const struct conv_spec *spec,
			va_list *ap)
{
	char c = (char)va_arg(*ap, int);

	emit_padded(s, spec, &c, 1);
}

/* Parse flags, width, precision and length after a '%'. */
static void parse_spec(const char **fmt, struct conv_spec *spec, va_list *ap)
{
	const char *p = *fmt;

	spec->flags = 0;
	for (;; p++) {
		if (*p == '-')
			spec->flags |= FLAG_LEFT;
		else if (*p == '0')
			spec->flags |= FLAG_ZERO;
		else if (*p == '+')
			spec->flags |= FLAG_PLUS;
		else if (*p == ' ')
			spec->flags |= FLAG_SPACE;
		else if (*p == '#')
			spec->flags |= FLAG_ALT;
		else
			break;
	}

	if (*p == '*') {
		int w = va_arg(*ap, int);

		/* A negative * width is a '-' flag and a positive width. */
		if (w < 0) {
			spec->flags |= FLAG_LEFT;
			w = w == INT_MIN ? INT_MAX : -w;
		}
		spec->width = w;
		p++;
	} else {
		spec->width = parse_number(&p);
	}

	spec->precision = PRECISION_NONE;
	if (*p == '.') {
		p++;
		if (*p == '*') {
			int prec = va_arg(*ap, int);

			spec->precision = prec < 0 ? PRECISION_NONE : prec;
			p++;
		} else {
			spec->precision = parse_number(&p);
		}
	}

	spec->length = parse_length(&p);
	*fmt = p;
}

int fmt_vformat(void (*out)(void *ctx, char c), void *ctx, const char *fmt,
		va_list ap)
{
	struct sink s = { .out = out, .ctx = ctx, .count = 0 };
	struct conv_spec spec;
	const char *start;
	va_list args;

	/* A copy so helpers can take its address portably. */
	va_copy(args, ap);
	while (*fmt) {
		if (*fmt != '%') {
			emit(&s, *fmt++);
			continue;
		}
		start = fmt++;
		parse_spec(&fmt, &spec, &args);
		switch (*fmt) {
		case 'd':
		case 'i':
			format_signed(&s, &spec, &args);
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			format_unsigned(&s, &spec, &args, *fmt);
			break;
		case 'p':
			format_pointer(&s, &spec, &args);
			break;
		case 's':
			format_string(&s, &spec, &args);
			break;
		case 'c':
			format_char(&s, &spec, &args);
			break;
		case '%':
			emit(&s, '%');
			break;
		case '\0':
			/* Incomplete trailing conversion: show it as written. */
			emit_string(&s, start, (size_t)(fmt - start));
			continue;
		default:
			emit_string(&s, start, (size_t)(fmt - start) + 1);
			break;
		}
		fmt++;
	}
	va_end(args);

	if (s.count > INT_MAX)
		return -SHYPER_EOVERFLOW;
	return (int)s.count;
}

struct buf_sink {
	char *buf;
	size_t size;
	size_t pos;
};

static void buf_out(void *ctx, char c)
{
	struct buf_sink *b = ctx;

	if (b->pos + 1 < b->size)
		b->buf[b->pos] = c;
	b->pos++;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buf_sink b = { .buf = buf, .size = size, .pos = 0 };
	int ret = fmt_vformat(buf_out, &b, fmt, ap);

	if (size)
		buf[b.pos < size ? b.pos : size - 1] = '\0';
	return ret;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return ret;
}
