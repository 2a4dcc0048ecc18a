/* Duplicate keys, 64-bit overflow and single quotes in accepted JSON text (see jsoncheck.h). */
#include "jsoncheck.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64 /* json-c stops at 32 */

struct span {
	const char *p;
	size_t n;
};

struct frame {
	bool is_obj;
	bool want_key; /* object: the next string is a key */
	size_t index;  /* array: element index */
	struct span key;
	struct span *keys; /* object: every key seen, checked for duplicates at '}' */
	size_t nr_keys, cap_keys;
};

struct scan {
	struct frame f[MAX_DEPTH];
	int depth;
	char *err;
	size_t errlen;
};

static void path_of(const struct scan *s, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < s->depth && used < len; i++) {
		const struct frame *f = &s->f[i];
		int n;

		if (f->is_obj) {
			if (!f->key.p)
				break;
			n = snprintf(buf + used, len - used, "%s%.*s", used ? "." : "",
				     (int)f->key.n, f->key.p);
		} else {
			n = snprintf(buf + used, len - used, "[%zu]", f->index);
		}
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static int fail(struct scan *s, const char *what, const char *lit, size_t litlen)
{
	char path[256];

	path_of(s, path, sizeof(path));
	if (litlen > 40)
		snprintf(s->err, s->errlen, "%s: %.40s... %s", path[0] ? path : "(top level)",
			 lit, what);
	else
		snprintf(s->err, s->errlen, "%s: %.*s %s", path[0] ? path : "(top level)",
			 (int)litlen, lit, what);
	return -1;
}

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	size_t n = x->n < y->n ? x->n : y->n;
	int c = memcmp(x->p, y->p, n);

	return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* At '}': a key twice in this object is an error, named by the object's path. */
static int check_dups(struct scan *s)
{
	struct frame *f = &s->f[s->depth - 1];

	if (f->nr_keys < 2)
		return 0;
	qsort(f->keys, f->nr_keys, sizeof(*f->keys), cmp_span);
	for (size_t i = 1; i < f->nr_keys; i++) {
		if (cmp_span(&f->keys[i - 1], &f->keys[i]) == 0) {
			f->key = f->keys[i];
			char path[256];

			path_of(s, path, sizeof(path));
			snprintf(s->err, s->errlen, "%s: duplicate key", path);
			return -1;
		}
	}
	return 0;
}

static int add_key(struct scan *s, struct frame *f, struct span k)
{
	if (f->nr_keys == f->cap_keys) {
		size_t cap = f->cap_keys ? 2 * f->cap_keys : 16;
		struct span *n = realloc(f->keys, cap * sizeof(*n));

		if (!n) {
			snprintf(s->err, s->errlen, "out of memory");
			return -1;
		}
		f->keys = n;
		f->cap_keys = cap;
	}
	f->keys[f->nr_keys++] = k;
	f->key = k;
	f->want_key = false;
	return 0;
}

/* A positive integer literal that does not fit in 64 bits. */
static bool too_big(const char *p, size_t n)
{
	static const char max[] = "18446744073709551615";

	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false; /* negative, fraction, exponent, NaN: not ours */
	while (n > 1 && *p == '0') {
		p++;
		n--;
	}
	return n > 20 || (n == 20 && memcmp(p, max, 20) > 0);
}

static int scan(struct scan *s, const char *t, size_t len)
{
	size_t i = 0;

	while (i < len) {
		char c = t[i];
		struct frame *top = s->depth ? &s->f[s->depth - 1] : NULL;

		if (c == '{' || c == '[') {
			if (s->depth == MAX_DEPTH)
				return 0; /* json-c would not have taken this */
			memset(&s->f[s->depth], 0, sizeof(s->f[0]));
			s->f[s->depth].is_obj = c == '{';
			s->f[s->depth].want_key = c == '{';
			s->depth++;
			i++;
		} else if (c == '}' || c == ']') {
			if (!top)
				return 0;
			if (top->is_obj && check_dups(s))
				return -1;
			free(top->keys);
			top->keys = NULL;
			s->depth--;
			i++;
		} else if (c == ',') {
			if (top && top->is_obj)
				top->want_key = true;
			else if (top)
				top->index++;
			i++;
		} else if (c == '"') {
			size_t start = ++i;

			while (i < len && t[i] != '"')
				i += t[i] == '\\' ? 2 : 1;
			if (top && top->is_obj && top->want_key &&
			    add_key(s, top, (struct span){ t + start, (i < len ? i : len) - start }))
				return -1;
			i++;
		} else if (c == '\'') {
			size_t line = 1, col = 1;

			for (size_t j = 0; j < i; j++, col++)
				if (t[j] == '\n') {
					line++;
					col = 0;
				}
			snprintf(s->err, s->errlen,
				 "line %zu, column %zu: invalid JSON: single-quoted string",
				 line, col);
			return -1;
		} else if (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9') ||
			   (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			size_t start = i;

			while (i < len && (t[i] == '-' || t[i] == '+' || t[i] == '.' ||
					   (t[i] >= '0' && t[i] <= '9') ||
					   (t[i] >= 'a' && t[i] <= 'z') ||
					   (t[i] >= 'A' && t[i] <= 'Z')))
				i++;
			if (too_big(t + start, i - start))
				return fail(s, "does not fit in 64 bits", t + start, i - start);
		} else {
			i++; /* whitespace, ':' */
		}
	}
	return 0;
}

int cli_json_check(const char *text, size_t len, char *err, size_t errlen)
{
	struct scan s = { .depth = 0, .err = err, .errlen = errlen };
	int ret = scan(&s, text, len);

	for (int i = 0; i < s.depth; i++)
		free(s.f[i].keys);
	return ret;
}
