/*
 * Flattened device tree reader (Devicetree Specification v0.4, chapter 5).
 *
 * Everything is read byte-wise through dt_be32(), so neither the blob nor
 * any field needs to be aligned in memory. next_tag() is the one place that
 * decodes tokens and checks them against the structure block's bounds;
 * every walk goes through it.
 */
#include <limits.h>
#include <lib/dt.h>
#include <lib/string.h>
#include <shyper/errno.h>

/* Devicetree Specification v0.4, 5.2: header, all fields big-endian. */
#define FDT_MAGIC		0xd00dfeedu
#define FDT_LAST_COMP_VERSION	17	/* the newest layout we can read */
#define FDT_MIN_VERSION		16	/* oldest with the v16 structure block */

struct fdt_header_be {
	uint32_t magic;
	uint32_t totalsize;
	uint32_t off_dt_struct;
	uint32_t off_dt_strings;
	uint32_t off_mem_rsvmap;
	uint32_t version;
	uint32_t last_comp_version;
	uint32_t boot_cpuid_phys;
	uint32_t size_dt_strings;
	uint32_t size_dt_struct;	/* version 17 and later */
};

#define HDR_FIELD(blob, field) \
	dt_be32((blob) + offsetof(struct fdt_header_be, field))
#define HDR_SIZE_V16	offsetof(struct fdt_header_be, size_dt_struct)
#define HDR_SIZE_V17	sizeof(struct fdt_header_be)

/* 5.3: reservation entries are two 64-bit values, block 8-byte aligned. */
#define RSV_ENTRY_SIZE	16
#define RSV_ALIGN	8

/* 5.4.1: structure block tokens, each 32-bit and 4-byte aligned. */
#define FDT_BEGIN_NODE	0x1
#define FDT_END_NODE	0x2
#define FDT_PROP	0x3
#define FDT_NOP		0x4
#define FDT_END		0x9
#define FDT_TAG_SIZE	4
/* 5.4.1 FDT_PROP: len and nameoff follow the token. */
#define FDT_PROP_HDR	12

static const uint8_t *struct_base(const struct dt *dt)
{
	return dt->blob + dt->off_struct;
}

static uint32_t align_tag(uint32_t off)
{
	return (off + FDT_TAG_SIZE - 1) & ~(uint32_t)(FDT_TAG_SIZE - 1);
}

/*
 * Decode the token at @offset: its tag, or a negative error if it does
 * not lie wholly inside the structure block; *next gets the offset of the
 * token after it (after the name or value and the padding).
 */
static int next_tag(const struct dt *dt, int offset, int *next)
{
	const uint8_t *s = struct_base(dt);
	uint32_t size = dt->size_struct;
	uint32_t off, len, tag;
	const uint8_t *nul;

	if (offset < 0 || offset % FDT_TAG_SIZE ||
	    size < FDT_TAG_SIZE || (uint32_t)offset > size - FDT_TAG_SIZE)
		return -SHYPER_EBADMSG;
	off = (uint32_t)offset;
	tag = dt_be32(s + off);
	off += FDT_TAG_SIZE;

	switch (tag) {
	case FDT_BEGIN_NODE:
		nul = memchr(s + off, '\0', size - off);
		if (!nul)
			return -SHYPER_EBADMSG;
		off = (uint32_t)(nul - s) + 1;
		break;
	case FDT_PROP:
		if (size - off < FDT_PROP_HDR - FDT_TAG_SIZE)
			return -SHYPER_EBADMSG;
		len = dt_be32(s + off);
		off += FDT_PROP_HDR - FDT_TAG_SIZE;
		if (len > size - off)
			return -SHYPER_EBADMSG;
		off += len;
		break;
	case FDT_END_NODE:
	case FDT_NOP:
	case FDT_END:
		break;
	default:
		return -SHYPER_EBADMSG;
	}
	off = align_tag(off);
	if (off > size)
		return -SHYPER_EBADMSG;
	*next = (int)off;
	return (int)tag;
}

/* The NUL-terminated string at @nameoff in the strings block, or NULL. */
static const char *string_at(const struct dt *dt, uint32_t nameoff)
{
	const uint8_t *strings = dt->blob + dt->off_strings;

	if (nameoff >= dt->size_strings ||
	    !memchr(strings + nameoff, '\0', dt->size_strings - nameoff))
		return NULL;
	return (const char *)strings + nameoff;
}

static int check_header(struct dt *dt, const uint8_t *b, size_t max_size)
{
	uint32_t hdr_size;

	if (max_size < sizeof(uint32_t) || HDR_FIELD(b, magic) != FDT_MAGIC)
		return -SHYPER_EINVAL;
	if (max_size < HDR_SIZE_V16)
		return -SHYPER_EBADMSG;

	dt->blob = b;
	dt->totalsize = HDR_FIELD(b, totalsize);
	dt->version = HDR_FIELD(b, version);
	if (dt->totalsize > max_size)
		return -SHYPER_E2BIG;
	/* Offsets are ints, like libfdt's. */
	if (dt->totalsize > INT_MAX)
		return -SHYPER_EBADMSG;
	if (dt->version < FDT_MIN_VERSION ||
	    HDR_FIELD(b, last_comp_version) > FDT_LAST_COMP_VERSION)
		return -SHYPER_EBADMSG;
	hdr_size = dt->version >= 17 ? HDR_SIZE_V17 : HDR_SIZE_V16;
	if (dt->totalsize < hdr_size)
		return -SHYPER_EBADMSG;

	dt->off_struct = HDR_FIELD(b, off_dt_struct);
	dt->off_strings = HDR_FIELD(b, off_dt_strings);
	dt->size_strings = HDR_FIELD(b, size_dt_strings);
	dt->off_mem_rsvmap = HDR_FIELD(b, off_mem_rsvmap);
	if (dt->off_struct < hdr_size || dt->off_struct > dt->totalsize ||
	    dt->off_struct % FDT_TAG_SIZE)
		return -SHYPER_EBADMSG;
	/* Version 16 has no size_dt_struct: the block may run to the end. */
	if (dt->version >= 17)
		dt->size_struct = HDR_FIELD(b, size_dt_struct);
	else
		dt->size_struct = dt->totalsize - dt->off_struct;
	if (dt->size_struct > dt->totalsize - dt->off_struct)
		return -SHYPER_EBADMSG;
	if (dt->off_strings < hdr_size || dt->off_strings > dt->totalsize ||
	    dt->size_strings > dt->totalsize - dt->off_strings)
		return -SHYPER_EBADMSG;
	return 0;
}

/* The reservation block must end with a zero entry inside the blob. */
static int check_mem_rsvmap(struct dt *dt)
{
	uint32_t off = dt->off_mem_rsvmap;
	uint32_t nr = 0;

	if (off < HDR_SIZE_V16 || off % RSV_ALIGN)
		return -SHYPER_EBADMSG;
	for (; off <= dt->totalsize && dt->totalsize - off >= RSV_ENTRY_SIZE;
	     off += RSV_ENTRY_SIZE, nr++) {
		const uint8_t *e = dt->blob + off;

		if (dt_be64(e) == 0 && dt_be64(e + 8) == 0) {
			dt->nr_mem_rsv = nr;
			return 0;
		}
	}
	return -SHYPER_EBADMSG;
}

/*
 * One pass over the structure block: exactly one root, balanced nodes,
 * bounded depth, properties only inside nodes and named by a string inside
 * the strings block, and an FDT_END after the root.
 */
static int check_structure(struct dt *dt)
{
	int offset = 0, next, tag, depth = -1;
	bool seen_root = false;

	for (;;) {
		tag = next_tag(dt, offset, &next);
		if (tag < 0)
			return tag;
		switch (tag) {
		case FDT_BEGIN_NODE:
			if (depth < 0) {
				if (seen_root)
					return -SHYPER_EBADMSG;
				seen_root = true;
				dt->root = offset;
			}
			if (++depth > DT_MAX_DEPTH)
				return -SHYPER_EBADMSG;
			break;
		case FDT_END_NODE:
			if (depth < 0)
				return -SHYPER_EBADMSG;
			depth--;
			break;
		case FDT_PROP:
			if (depth < 0 ||
			    !string_at(dt, dt_be32(struct_base(dt) + offset + 8)))
				return -SHYPER_EBADMSG;
			break;
		case FDT_END:
			return seen_root && depth < 0 ? 0 : -SHYPER_EBADMSG;
		default:
			break;
		}
		offset = next;
	}
}

int dt_open(struct dt *dt, const void *blob, size_t max_size)
{
	struct dt tmp = { 0 };
	int ret;

	if (!dt || !blob)
		return -SHYPER_EINVAL;
	ret = check_header(&tmp, blob, max_size);
	if (!ret)
		ret = check_mem_rsvmap(&tmp);
	if (!ret)
		ret = check_structure(&tmp);
	if (ret)
		return ret;
	*dt = tmp;
	return 0;
}

int dt_num_mem_rsv(const struct dt *dt)
{
	return (int)dt->nr_mem_rsv;
}

int dt_get_mem_rsv(const struct dt *dt, int index, uint64_t *addr,
		   uint64_t *size)
{
	const uint8_t *e;

	if (index < 0 || (uint32_t)index >= dt->nr_mem_rsv)
		return -SHYPER_ENOENT;
	e = dt->blob + dt->off_mem_rsvmap + (uint32_t)index * RSV_ENTRY_SIZE;
	*addr = dt_be64(e);
	*size = dt_be64(e + 8);
	return 0;
}

/* Offset of the token after @node's BEGIN_NODE, or an error if @node is not one. */
static int node_body(const struct dt *dt, int node)
{
	int next, tag = next_tag(dt, node, &next);

	if (tag < 0)
		return tag;
	return tag == FDT_BEGIN_NODE ? next : -SHYPER_EINVAL;
}

int dt_next_node(const struct dt *dt, int offset, int *depth)
{
	int next, tag;

	if (offset < 0) {
		if (depth)
			*depth = 0;
		return dt->root;
	}
	next = node_body(dt, offset);
	for (;;) {
		if (next < 0)
			return next;
		offset = next;
		tag = next_tag(dt, offset, &next);
		switch (tag) {
		case FDT_BEGIN_NODE:
			if (depth)
				(*depth)++;
			return offset;
		case FDT_END_NODE:
			if (depth && --(*depth) < 0)
				return -SHYPER_ENOENT;
			break;
		case FDT_END:
			return -SHYPER_ENOENT;
		case FDT_PROP:
		case FDT_NOP:
			break;
		default:
			return tag;
		}
	}
}

int dt_first_subnode(const struct dt *dt, int parent)
{
	int depth = 0;
	int node = dt_next_node(dt, parent, &depth);

	if (node < 0)
		return node;
	return depth == 1 ? node : -SHYPER_ENOENT;
}

int dt_next_subnode(const struct dt *dt, int node)
{
	int depth = 1;

	/* Skip the descendants of @node: they come out at depth > 1. */
	do {
		node = dt_next_node(dt, node, &depth);
		if (node < 0)
			return node;
		if (depth < 1)
			return -SHYPER_ENOENT;
	} while (depth > 1);
	return node;
}

int dt_parent_offset(const struct dt *dt, int node)
{
	int stack[DT_MAX_DEPTH + 1];
	int depth = 0, off;

	if (node_body(dt, node) < 0)
		return -SHYPER_EINVAL;
	for (off = dt->root; off >= 0; off = dt_next_node(dt, off, &depth)) {
		if (depth < 0 || depth > DT_MAX_DEPTH)
			return -SHYPER_EBADMSG;
		stack[depth] = off;
		if (off == node)
			return depth ? stack[depth - 1] : -SHYPER_ENOENT;
	}
	/* A BEGIN_NODE token that is not on the walk: not a node offset. */
	return off == -SHYPER_ENOENT ? -SHYPER_EINVAL : off;
}

const char *dt_node_name(const struct dt *dt, int node)
{
	if (node_body(dt, node) < 0)
		return NULL;
	return (const char *)struct_base(dt) + node + FDT_TAG_SIZE;
}

/* Does @name match the path component comp[0..len)? */
static bool node_name_matches(const char *name, const char *comp, size_t len)
{
	if (strncmp(name, comp, len))
		return false;
	if (name[len] == '\0')
		return true;
	/* "memory" matches "memory@40000000", but "cpu@0" must match exactly. */
	return name[len] == '@' && !memchr(comp, '@', len);
}

static int subnode_namelen(const struct dt *dt, int parent, const char *comp,
			   size_t len)
{
	const char *name;
	int node;

	for (node = dt_first_subnode(dt, parent); node >= 0;
	     node = dt_next_subnode(dt, node)) {
		name = dt_node_name(dt, node);
		if (name && node_name_matches(name, comp, len))
			return node;
	}
	return node;
}

/* Follow the '/'-separated components of [p, end) from @node. */
static int walk_path(const struct dt *dt, int node, const char *p,
		     const char *end)
{
	const char *slash;

	while (node >= 0 && p < end) {
		if (*p == '/') {
			p++;
			continue;
		}
		slash = memchr(p, '/', (size_t)(end - p));
		if (!slash)
			slash = end;
		node = subnode_namelen(dt, node, p, (size_t)(slash - p));
		p = slash;
	}
	return node;
}

static const void *getprop_namelen(const struct dt *dt, int node,
				   const char *name, size_t namelen, int *len);

static int path_offset_len(const struct dt *dt, const char *path, size_t len)
{
	const char *end = path + len, *alias_end, *alias;
	int node, alias_len;

	if (len == 0)
		return -SHYPER_EINVAL;
	if (*path == '/')
		return walk_path(dt, dt->root, path, end);

	/* An alias, possibly followed by a relative path. */
	alias_end = memchr(path, '/', len);
	if (!alias_end)
		alias_end = end;
	node = subnode_namelen(dt, dt->root, "aliases", sizeof("aliases") - 1);
	if (node < 0)
		return node;
	alias = getprop_namelen(dt, node, path, (size_t)(alias_end - path),
				&alias_len);
	if (!alias)
		return alias_len;
	/* The alias value is an absolute path, so this does not recurse. */
	if (alias_len < 1 || alias[0] != '/' ||
	    strnlen(alias, (size_t)alias_len) == (size_t)alias_len)
		return -SHYPER_EBADMSG;
	node = walk_path(dt, dt->root, alias, alias + strlen(alias));
	return walk_path(dt, node, alias_end, end);
}

int dt_path_offset(const struct dt *dt, const char *path)
{
	return path_offset_len(dt, path, strlen(path));
}

/* First PROP token at or after @offset among one node's properties. */
static int prop_from(const struct dt *dt, int offset)
{
	int next, tag;

	for (;;) {
		tag = next_tag(dt, offset, &next);
		if (tag < 0)
			return tag;
		if (tag == FDT_PROP)
			return offset;
		if (tag != FDT_NOP)
			return -SHYPER_ENOENT;
		offset = next;
	}
}

int dt_first_prop(const struct dt *dt, int node)
{
	int body = node_body(dt, node);

	return body < 0 ? body : prop_from(dt, body);
}

int dt_next_prop(const struct dt *dt, int prop)
{
	int next, tag = next_tag(dt, prop, &next);

	if (tag < 0)
		return tag;
	return tag == FDT_PROP ? prop_from(dt, next) : -SHYPER_EINVAL;
}

const void *dt_prop_by_offset(const struct dt *dt, int prop, const char **name,
			      int *len)
{
	const uint8_t *p;
	const char *n;
	int next, tag = next_tag(dt, prop, &next);

	if (tag != FDT_PROP) {
		if (len)
			*len = tag < 0 ? tag : -SHYPER_EINVAL;
		return NULL;
	}
	p = struct_base(dt) + prop;
	n = string_at(dt, dt_be32(p + 8));
	if (!n) {
		if (len)
			*len = -SHYPER_EBADMSG;
		return NULL;
	}
	if (name)
		*name = n;
	/* next_tag() checked the value lies inside the block. */
	if (len)
		*len = (int)dt_be32(p + 4);
	return p + FDT_PROP_HDR;
}

static const void *getprop_namelen(const struct dt *dt, int node,
				   const char *name, size_t namelen, int *len)
{
	const void *val;
	const char *n;
	int prop, vlen;

	for (prop = dt_first_prop(dt, node); prop >= 0;
	     prop = dt_next_prop(dt, prop)) {
		val = dt_prop_by_offset(dt, prop, &n, &vlen);
		if (!val) {
			prop = vlen;
			break;
		}
		if (!strncmp(n, name, namelen) && n[namelen] == '\0') {
			*len = vlen;
			return val;
		}
	}
	*len = prop;
	return NULL;
}

const void *dt_getprop(const struct dt *dt, int node, const char *name,
		       int *len)
{
	int dummy;

	return getprop_namelen(dt, node, name, strlen(name), len ? len : &dummy);
}

int dt_prop_u32(const struct dt *dt, int node, const char *name,
		uint32_t *val)
{
	int len;
	const void *p = dt_getprop(dt, node, name, &len);

	if (!p)
		return len;
	if (len != sizeof(uint32_t))
		return -SHYPER_EBADMSG;
	*val = dt_be32(p);
	return 0;
}

const char *dt_stringlist_get(const struct dt *dt, int node, const char *name,
			      int index, int *len)
{
	int plen, dummy;
	const char *p = dt_getprop(dt, node, name, &plen);
	const char *end;
	size_t l;

	if (!len)
		len = &dummy;
	if (!p) {
		*len = plen;
		return NULL;
	}
	for (end = p + plen; p < end; p += l + 1) {
		l = strnlen(p, (size_t)(end - p));
		if (l == (size_t)(end - p)) {
			*len = -SHYPER_EBADMSG;
			return NULL;
		}
		if (index-- == 0) {
			*len = (int)l;
			return p;
		}
	}
	*len = -SHYPER_ENOENT;
	return NULL;
}

bool dt_stringlist_contains(const struct dt *dt, int node, const char *name,
			    const char *str)
{
	int plen;
	const char *p = dt_getprop(dt, node, name, &plen);
	const char *end;
	size_t l;

	if (!p)
		return false;
	for (end = p + plen; p < end; p += l + 1) {
		l = strnlen(p, (size_t)(end - p));
		if (l == (size_t)(end - p))
			return false;
		if (!strcmp(p, str))
			return true;
	}
	return false;
}

bool dt_node_is_compatible(const struct dt *dt, int node, const char *compat)
{
	return dt_stringlist_contains(dt, node, "compatible", compat);
}

bool dt_node_is_enabled(const struct dt *dt, int node)
{
	int len;
	const char *status = dt_getprop(dt, node, "status", &len);

	if (!status)
		return len == -SHYPER_ENOENT;
	if (strnlen(status, (size_t)len) == (size_t)len)
		return false;
	return !strcmp(status, "okay") || !strcmp(status, "ok");
}

int dt_find_compatible(const struct dt *dt, int start, const char *compat)
{
	int node;

	for (node = dt_next_node(dt, start, NULL); node >= 0;
	     node = dt_next_node(dt, node, NULL)) {
		if (dt_node_is_compatible(dt, node, compat))
			return node;
	}
	return node;
}

static int read_cells(const struct dt *dt, int node, const char *name,
		      int dflt)
{
	uint32_t val = 0; /* UBSan builds see a path gcc -O2 does not */
	int ret = dt_prop_u32(dt, node, name, &val);

	if (ret == -SHYPER_ENOENT)
		return dflt;
	if (ret < 0)
		return ret;
	return val > DT_MAX_CELLS ? -SHYPER_EBADMSG : (int)val;
}

/* Devicetree Specification v0.4, 2.3.5: defaults when absent. */
#define DT_DEFAULT_ADDRESS_CELLS	2
#define DT_DEFAULT_SIZE_CELLS		1

int dt_address_cells(const struct dt *dt, int node)
{
	return read_cells(dt, node, "#address-cells", DT_DEFAULT_ADDRESS_CELLS);
}

int dt_size_cells(const struct dt *dt, int node)
{
	return read_cells(dt, node, "#size-cells", DT_DEFAULT_SIZE_CELLS);
}

static uint64_t read_cells_value(const uint8_t *p, int cells)
{
	if (cells == 0)
		return 0;
	return cells == 2 ? dt_be64(p) : dt_be32(p);
}

int dt_read_reg(const struct dt *dt, int node, int index, uint64_t *addr,
		uint64_t *size)
{
	int parent, ac, sc, len, entry;
	const uint8_t *reg;

	parent = dt_parent_offset(dt, node);
	if (parent < 0)
		return parent;
	ac = dt_address_cells(dt, parent);
	if (ac < 0)
		return ac;
	sc = dt_size_cells(dt, parent);
	if (sc < 0)
		return sc;
	if (ac < 1 || ac > 2 || sc > 2)
		return -SHYPER_ENOTSUP;

	reg = dt_getprop(dt, node, "reg", &len);
	if (!reg)
		return len;
	entry = (ac + sc) * (int)sizeof(uint32_t);
	if (len % entry)
		return -SHYPER_EBADMSG;
	if (index < 0 || index >= len / entry)
		return -SHYPER_ENOENT;
	reg += index * entry;
	if (addr)
		*addr = read_cells_value(reg, ac);
	if (size)
		*size = read_cells_value(reg + ac * sizeof(uint32_t), sc);
	return 0;
}

/* Map @addr through one bus's ranges into its parent's address space. */
static int translate_one(const struct dt *dt, int bus, int parent,
			 uint64_t *addr)
{
	int len, cac, pac, csc, entry;
	const uint8_t *r = dt_getprop(dt, bus, "ranges", &len);
	const uint8_t *end;

	if (!r)
		return len;
	if (len == 0)
		return 0;
	cac = dt_address_cells(dt, bus);
	pac = dt_address_cells(dt, parent);
	csc = dt_size_cells(dt, bus);
	if (cac < 0 || pac < 0 || csc < 0)
		return -SHYPER_EBADMSG;
	if (cac < 1 || cac > 2 || pac < 1 || pac > 2 || csc < 1 || csc > 2)
		return -SHYPER_ENOTSUP;
	entry = (cac + pac + csc) * (int)sizeof(uint32_t);
	if (len % entry)
		return -SHYPER_EBADMSG;
	for (end = r + len; r < end; r += entry) {
		uint64_t child = read_cells_value(r, cac);
		uint64_t target = read_cells_value(r + cac * sizeof(uint32_t), pac);
		uint64_t size = read_cells_value(r + (cac + pac) * sizeof(uint32_t),
						 csc);

		if (*addr >= child && *addr - child < size) {
			*addr = target + (*addr - child);
			return 0;
		}
	}
	return -SHYPER_ENOENT;
}

int dt_translate_address(const struct dt *dt, int node, uint64_t *addr)
{
	int bus = dt_parent_offset(dt, node);
	int parent, ret;

	/* Each step moves one level up, so this ends at the root. */
	while (bus >= 0 && bus != dt->root) {
		parent = dt_parent_offset(dt, bus);
		if (parent < 0)
			return parent;
		ret = translate_one(dt, bus, parent, addr);
		if (ret)
			return ret;
		bus = parent;
	}
	return bus < 0 ? bus : 0;
}

int dt_chosen_stdout(const struct dt *dt)
{
	const char *path, *colon;
	int chosen, len;
	size_t l;

	chosen = dt_path_offset(dt, "/chosen");
	if (chosen < 0)
		return chosen;
	path = dt_getprop(dt, chosen, "stdout-path", &len);
	if (!path)
		path = dt_getprop(dt, chosen, "linux,stdout-path", &len);
	if (!path)
		return len;
	l = strnlen(path, (size_t)len);
	if (l == (size_t)len)
		return -SHYPER_EBADMSG;
	colon = memchr(path, ':', l);
	if (colon)
		l = (size_t)(colon - path);
	return path_offset_len(dt, path, l);
}
