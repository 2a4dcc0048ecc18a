/*
 * DTB writer; the buffer layout is described in lib/fdt_write.h.
 *
 * Every multi-byte value is stored byte by byte in big-endian order, so
 * the buffer needs no particular alignment (the hypervisor is built with
 * -mstrict-align and may write into Device or unaligned memory).
 */
#include <stdarg.h>
#include <lib/fdt_write.h>
#include <shyper/errno.h>

/* Devicetree Specification v0.4, 5.2: header. */
#define FDT_MAGIC		0xd00dfeedu
#define FDT_HEADER_SIZE		40u
#define FDT_VERSION		17u
#define FDT_LAST_COMP_VERSION	16u
#define HDR_MAGIC		0
#define HDR_TOTALSIZE		4
#define HDR_OFF_STRUCT		8
#define HDR_OFF_STRINGS		12
#define HDR_OFF_RSVMAP		16
#define HDR_VERSION		20
#define HDR_LAST_COMP		24
#define HDR_BOOT_CPUID		28
#define HDR_SIZE_STRINGS	32
#define HDR_SIZE_STRUCT		36

/* 5.3: a reservation is two 64-bit values; an all-zero one ends the list. */
#define FDT_RSV_ENTRY_SIZE	16u

/* 5.4.1: structure block tokens, each 32 bits and 4-byte aligned. */
#define FDT_BEGIN_NODE		1u
#define FDT_END_NODE		2u
#define FDT_PROP		3u
#define FDT_END			9u
#define FDT_TOKEN_SIZE		4u
#define FDT_PROP_HDR_SIZE	12u	/* token, len, nameoff */

/* Header fields are 32 bits, so no tree can be larger than this. */
#define FDTW_SIZE_LIMIT		0xffffffffu

static size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* True if the writer can go on; any call after fdtw_finish() is misuse. */
static bool ok(struct fdt_writer *w)
{
	if (!w->err && w->finished)
		w->err = -SHYPER_EINVAL;
	return !w->err;
}

static void fail(struct fdt_writer *w, int err)
{
	if (!w->err)
		w->err = err;
}

/* Bytes free between the structure block and the strings. */
static size_t room(const struct fdt_writer *w)
{
	return w->size - w->strings_len - w->pos;
}

/* Reserve @n bytes at the end of the structure block; NULL on overflow. */
static uint8_t *grow(struct fdt_writer *w, size_t n)
{
	uint8_t *p;

	if (n > room(w)) {
		fail(w, -SHYPER_ENOSPC);
		return NULL;
	}
	p = w->buf + w->pos;
	w->pos += n;
	return p;
}

/* Byte @i of the strings block, stored back to front at the buffer's end. */
static uint8_t *string_byte(const struct fdt_writer *w, size_t i)
{
	return w->buf + w->size - 1 - i;
}

/* Whether @s, NUL included, starts at @off in the strings block. */
static bool string_at(const struct fdt_writer *w, size_t off, const char *s,
		      size_t len)
{
	size_t i;

	for (i = 0; i <= len; i++)
		if (*string_byte(w, off + i) != (uint8_t)s[i])
			return false;
	return true;
}

/*
 * Offset of @s in the strings block, added if absent. Like dtc, a name may
 * share the tail of a longer one ("cells" inside "#size-cells").
 */
static bool string_offset(struct fdt_writer *w, const char *s, uint32_t *off)
{
	size_t len = str_len(s), i;

	for (i = 0; i + len < w->strings_len; i++) {
		if (string_at(w, i, s, len)) {
			*off = (uint32_t)i;
			return true;
		}
	}
	if (len + 1 > room(w)) {
		fail(w, -SHYPER_ENOSPC);
		return false;
	}
	for (i = 0; i <= len; i++)
		*string_byte(w, w->strings_len + i) = (uint8_t)s[i];
	*off = (uint32_t)w->strings_len;
	w->strings_len += len + 1;
	return true;
}

/* Start the structure block once the reservation list is complete. */
static bool start_struct(struct fdt_writer *w)
{
	uint8_t *p;
	size_t i;

	if (w->struct_off)
		return true;
	p = grow(w, FDT_RSV_ENTRY_SIZE);
	if (!p)
		return false;
	for (i = 0; i < FDT_RSV_ENTRY_SIZE; i++)
		p[i] = 0;
	w->struct_off = w->pos;
	return true;
}

static bool put_token(struct fdt_writer *w, uint32_t token)
{
	uint8_t *p = grow(w, FDT_TOKEN_SIZE);

	if (p)
		put_be32(p, token);
	return p != NULL;
}

void fdtw_init(struct fdt_writer *w, void *buf, size_t size)
{
	w->buf = buf;
	w->size = size > FDTW_SIZE_LIMIT ? FDTW_SIZE_LIMIT : size;
	w->struct_off = 0;
	w->pos = 0;
	w->strings_len = 0;
	w->depth = 0;
	w->root_done = false;
	w->finished = false;
	w->err = 0;
	if (!buf) {
		w->size = 0;
		w->err = -SHYPER_EINVAL;
	} else if (w->size < FDT_HEADER_SIZE) {
		w->err = -SHYPER_ENOSPC;
	} else {
		/* The header is written by fdtw_finish(); keep its room. */
		w->pos = FDT_HEADER_SIZE;
	}
}

void fdtw_add_reservation(struct fdt_writer *w, uint64_t addr, uint64_t size)
{
	uint8_t *p;

	if (!ok(w))
		return;
	if (w->struct_off) {
		fail(w, -SHYPER_EINVAL);
		return;
	}
	p = grow(w, FDT_RSV_ENTRY_SIZE);
	if (!p)
		return;
	put_be64(p, addr);
	put_be64(p + 8, size);
}

static bool valid_node_name(const struct fdt_writer *w, const char *name)
{
	size_t i;

	if (!name)
		return false;
	if (w->depth == 0)
		return name[0] == '\0' && !w->root_done;
	if (name[0] == '\0')
		return false;
	for (i = 0; name[i]; i++)
		if (name[i] == '/')
			return false;
	return true;
}

void fdtw_begin_node(struct fdt_writer *w, const char *name)
{
	size_t len, i;
	uint8_t *p;

	if (!ok(w))
		return;
	if (!valid_node_name(w, name) || w->depth >= FDTW_MAX_DEPTH) {
		fail(w, -SHYPER_EINVAL);
		return;
	}
	if (!start_struct(w) || !put_token(w, FDT_BEGIN_NODE))
		return;
	len = str_len(name) + 1;
	p = grow(w, align4(len));
	if (!p)
		return;
	for (i = 0; i < align4(len); i++)
		p[i] = i < len ? (uint8_t)name[i] : 0;
	w->depth++;
}

void fdtw_end_node(struct fdt_writer *w)
{
	if (!ok(w))
		return;
	if (w->depth == 0) {
		fail(w, -SHYPER_EINVAL);
		return;
	}
	if (!put_token(w, FDT_END_NODE))
		return;
	if (--w->depth == 0)
		w->root_done = true;
}

/*
 * Write a property header and return where its @len value bytes go (the
 * padding after them is already zeroed), or NULL after an error.
 */
static uint8_t *prop_begin(struct fdt_writer *w, const char *name, size_t len)
{
	uint32_t nameoff;
	uint8_t *p;
	size_t i;

	if (!ok(w))
		return NULL;
	if (w->depth == 0 || !name || name[0] == '\0') {
		fail(w, -SHYPER_EINVAL);
		return NULL;
	}
	/* Check the value fits before the name is added to the strings. */
	if (len > FDTW_SIZE_LIMIT ||
	    FDT_PROP_HDR_SIZE + align4(len) > room(w)) {
		fail(w, -SHYPER_ENOSPC);
		return NULL;
	}
	if (!string_offset(w, name, &nameoff))
		return NULL;
	p = grow(w, FDT_PROP_HDR_SIZE + align4(len));
	if (!p)
		return NULL;
	put_be32(p, FDT_PROP);
	put_be32(p + 4, (uint32_t)len);
	put_be32(p + 8, nameoff);
	p += FDT_PROP_HDR_SIZE;
	for (i = len; i < align4(len); i++)
		p[i] = 0;
	return p;
}

void fdtw_prop(struct fdt_writer *w, const char *name, const void *val,
	       size_t len)
{
	const uint8_t *src = val;
	uint8_t *p;
	size_t i;

	if (!val && len) {
		if (ok(w))
			fail(w, -SHYPER_EINVAL);
		return;
	}
	p = prop_begin(w, name, len);
	if (!p)
		return;
	for (i = 0; i < len; i++)
		p[i] = src[i];
}

void fdtw_prop_empty(struct fdt_writer *w, const char *name)
{
	prop_begin(w, name, 0);
}

void fdtw_prop_u32(struct fdt_writer *w, const char *name, uint32_t v)
{
	uint8_t *p = prop_begin(w, name, 4);

	if (p)
		put_be32(p, v);
}

void fdtw_prop_u64(struct fdt_writer *w, const char *name, uint64_t v)
{
	uint8_t *p = prop_begin(w, name, 8);

	if (p)
		put_be64(p, v);
}

void fdtw_prop_cells(struct fdt_writer *w, const char *name,
		     const uint32_t *cells, size_t n)
{
	uint8_t *p;
	size_t i;

	if (!cells && n) {
		if (ok(w))
			fail(w, -SHYPER_EINVAL);
		return;
	}
	if (n > FDTW_SIZE_LIMIT / 4) {
		if (ok(w))
			fail(w, -SHYPER_ENOSPC);
		return;
	}
	p = prop_begin(w, name, n * 4);
	if (!p)
		return;
	for (i = 0; i < n; i++)
		put_be32(p + 4 * i, cells[i]);
}

void fdtw_prop_string(struct fdt_writer *w, const char *name, const char *s)
{
	fdtw_prop_string_array(w, name, &s, 1);
}

/* Copy @s and its NUL to @p; returns the bytes written. */
static size_t put_string(uint8_t *p, const char *s)
{
	size_t i = 0;

	do
		p[i] = (uint8_t)s[i];
	while (s[i++]);
	return i;
}

void fdtw_prop_string_array(struct fdt_writer *w, const char *name,
			    const char *const *strs, size_t n)
{
	size_t len = 0, i;
	uint8_t *p;

	if (!ok(w))
		return;
	if (!strs && n) {
		fail(w, -SHYPER_EINVAL);
		return;
	}
	for (i = 0; i < n; i++) {
		if (!strs[i]) {
			fail(w, -SHYPER_EINVAL);
			return;
		}
		len += str_len(strs[i]) + 1;
	}
	p = prop_begin(w, name, len);
	if (!p)
		return;
	for (i = 0; i < n; i++)
		p += put_string(p, strs[i]);
}

void fdtw_prop_strings(struct fdt_writer *w, const char *name, size_t n, ...)
{
	size_t len = 0, i;
	const char *s;
	uint8_t *p;
	va_list ap;

	if (!ok(w))
		return;
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		s = va_arg(ap, const char *);
		if (!s) {
			va_end(ap);
			fail(w, -SHYPER_EINVAL);
			return;
		}
		len += str_len(s) + 1;
	}
	va_end(ap);
	p = prop_begin(w, name, len);
	if (!p)
		return;
	va_start(ap, n);
	for (i = 0; i < n; i++)
		p += put_string(p, va_arg(ap, const char *));
	va_end(ap);
}

/* Store @v, already known to fit, in @cells (0, 1 or 2) cells at @p. */
static void put_cells(uint8_t *p, unsigned int cells, uint64_t v)
{
	if (cells == 2)
		put_be64(p, v);
	else if (cells == 1)
		put_be32(p, (uint32_t)v);
}

void fdtw_prop_reg(struct fdt_writer *w, const char *name,
		   unsigned int addr_cells, unsigned int size_cells,
		   const uint64_t *pairs, size_t nr_pairs)
{
	size_t stride = 4 * (size_t)(addr_cells + size_cells), i;
	uint8_t *p;

	if (!ok(w))
		return;
	if (addr_cells < 1 || addr_cells > 2 || size_cells > 2 ||
	    (!pairs && nr_pairs)) {
		fail(w, -SHYPER_EINVAL);
		return;
	}
	if (nr_pairs > FDTW_SIZE_LIMIT / stride) {
		fail(w, -SHYPER_ENOSPC);
		return;
	}
	/* Check every value before anything is written. */
	for (i = 0; i < nr_pairs; i++) {
		if ((addr_cells == 1 && pairs[2 * i] > 0xffffffffu) ||
		    (size_cells == 1 && pairs[2 * i + 1] > 0xffffffffu) ||
		    (size_cells == 0 && pairs[2 * i + 1] != 0)) {
			fail(w, -SHYPER_EINVAL);
			return;
		}
	}
	p = prop_begin(w, name, nr_pairs * stride);
	if (!p)
		return;
	for (i = 0; i < nr_pairs; i++, p += stride) {
		put_cells(p, addr_cells, pairs[2 * i]);
		put_cells(p + 4 * addr_cells, size_cells, pairs[2 * i + 1]);
	}
}

/*
 * Turn the strings block (stored reversed in the last @n bytes of the
 * buffer) around and move it to @dst, which is at or below its start.
 * Reversing in place first makes the move a plain forward copy, which is
 * safe even when the two ranges overlap.
 */
static void place_strings(struct fdt_writer *w, size_t dst, size_t n)
{
	uint8_t *s = w->buf + w->size - n, t;
	size_t i;

	for (i = 0; i < n / 2; i++) {
		t = s[i];
		s[i] = s[n - 1 - i];
		s[n - 1 - i] = t;
	}
	if (w->buf + dst != s)
		for (i = 0; i < n; i++)
			w->buf[dst + i] = s[i];
}

int fdtw_finish(struct fdt_writer *w, size_t *total_size)
{
	uint8_t *h = w->buf;
	size_t struct_size, total;

	if (!ok(w))
		return w->err;
	if (!w->root_done) {
		fail(w, -SHYPER_EINVAL);
		return w->err;
	}
	if (!put_token(w, FDT_END))
		return w->err;
	struct_size = w->pos - w->struct_off;
	total = w->pos + w->strings_len;
	place_strings(w, w->pos, w->strings_len);

	put_be32(h + HDR_MAGIC, FDT_MAGIC);
	put_be32(h + HDR_TOTALSIZE, (uint32_t)total);
	put_be32(h + HDR_OFF_STRUCT, (uint32_t)w->struct_off);
	put_be32(h + HDR_OFF_STRINGS, (uint32_t)w->pos);
	put_be32(h + HDR_OFF_RSVMAP, FDT_HEADER_SIZE);
	put_be32(h + HDR_VERSION, FDT_VERSION);
	put_be32(h + HDR_LAST_COMP, FDT_LAST_COMP_VERSION);
	put_be32(h + HDR_BOOT_CPUID, 0);
	put_be32(h + HDR_SIZE_STRINGS, (uint32_t)w->strings_len);
	put_be32(h + HDR_SIZE_STRUCT, (uint32_t)struct_size);

	w->finished = true;
	if (total_size)
		*total_size = total;
	return 0;
}
