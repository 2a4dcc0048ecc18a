/*
 * Read-only flattened device tree (DTB) reader.
 *
 * dt_open() checks the header and walks the whole structure block once, so
 * every later call works on a blob whose tokens, names, property lengths and
 * nesting depth are known to be sound; the accessors still bounds-check
 * each read, so a wrong offset from the caller is an error, never a fault.
 *
 * Node and property offsets are ints relative to the start of the structure
 * block, like libfdt's; a negative value is an error code (-SHYPER_*), with
 * -SHYPER_ENOENT meaning "no such node/property".
 */
#ifndef LIB_DT_H
#define LIB_DT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deepest node nesting dt_open() accepts; the root is at depth 0. */
#define DT_MAX_DEPTH	64

struct dt {
	const uint8_t *blob;
	uint32_t totalsize;
	uint32_t version;
	uint32_t off_struct;
	uint32_t size_struct;
	uint32_t off_strings;
	uint32_t size_strings;
	uint32_t off_mem_rsvmap;
	uint32_t nr_mem_rsv;
	int root;		/* offset of the root node */
};

/*
 * Validate @blob (at most @max_size bytes readable) and fill @dt.
 * -SHYPER_EINVAL: NULL arguments or not a DTB (bad magic);
 * -SHYPER_E2BIG: totalsize larger than @max_size;
 * -SHYPER_EBADMSG: unsupported version or any inconsistent header field,
 * block, token, name or nesting.
 */
int dt_open(struct dt *dt, const void *blob, size_t max_size);

/* Memory reservation block entries (Devicetree Specification v0.4, 5.3). */
int dt_num_mem_rsv(const struct dt *dt);
int dt_get_mem_rsv(const struct dt *dt, int index, uint64_t *addr,
		   uint64_t *size);

/*
 * Next node in document order after @offset (-1: the root). If @depth is
 * not NULL it is set to 0 for the root, incremented when entering a child,
 * decremented when leaving a node, and -SHYPER_ENOENT is returned when it
 * would drop below 0 (the walk left the starting subtree).
 */
int dt_next_node(const struct dt *dt, int offset, int *depth);
int dt_first_subnode(const struct dt *dt, int parent);
int dt_next_subnode(const struct dt *dt, int node);
int dt_parent_offset(const struct dt *dt, int node);

/* The node's name including any "@unit-address"; "" for the root; NULL on error. */
const char *dt_node_name(const struct dt *dt, int node);

/*
 * Node at an absolute path ("/cpus/cpu@0") or at an alias from /aliases
 * ("serial0", "serial0/child"). A component without '@' also matches a
 * node name with a unit address ("/memory" finds "memory@40000000").
 */
int dt_path_offset(const struct dt *dt, const char *path);

/* Property value (in the blob, big-endian) or NULL; *len gets its length or an error. */
const void *dt_getprop(const struct dt *dt, int node, const char *name,
		       int *len);

/* Iterate over a node's properties: offsets of PROP tokens. */
int dt_first_prop(const struct dt *dt, int node);
int dt_next_prop(const struct dt *dt, int prop);
const void *dt_prop_by_offset(const struct dt *dt, int prop, const char **name,
			      int *len);

/* A one-cell property; -SHYPER_ENOENT if absent, -SHYPER_EBADMSG if not 4 bytes. */
int dt_prop_u32(const struct dt *dt, int node, const char *name,
		uint32_t *val);

/*
 * String @index of a stringlist property, or NULL (absent, out of range, or
 * not NUL-terminated); *len (if not NULL) gets its length without the NUL.
 */
const char *dt_stringlist_get(const struct dt *dt, int node, const char *name,
			      int index, int *len);
bool dt_stringlist_contains(const struct dt *dt, int node, const char *name,
			    const char *str);

bool dt_node_is_compatible(const struct dt *dt, int node, const char *compat);

/* "status" absent, "okay" or "ok" (Devicetree Specification v0.4, 2.3.4). */
bool dt_node_is_enabled(const struct dt *dt, int node);

/* First node after @start (-1: search from the root) compatible with @compat. */
int dt_find_compatible(const struct dt *dt, int start, const char *compat);

/*
 * #address-cells / #size-cells of @node itself (what its children's reg
 * uses): 2 and 1 when absent (Devicetree Specification v0.4, 2.3.5);
 * -SHYPER_EBADMSG when malformed or above DT_MAX_CELLS.
 */
#define DT_MAX_CELLS	4
int dt_address_cells(const struct dt *dt, int node);
int dt_size_cells(const struct dt *dt, int node);

/*
 * Entry @index of @node's "reg" (a bus address: see dt_translate_address),
 * decoded with the parent's #address-cells
 * (1 or 2) and #size-cells (0, 1 or 2; 0 gives *size = 0, as under /cpus).
 * -SHYPER_ENOTSUP for other cell counts, -SHYPER_ENOENT when there is no
 * such entry, -SHYPER_EBADMSG when reg is not a whole number of entries.
 */
int dt_read_reg(const struct dt *dt, int node, int index, uint64_t *addr,
		uint64_t *size);

/*
 * Translate @addr, an address in @node's reg (so in its parent bus's
 * address space), to the root's (CPU physical) address space through every
 * ancestor bus's "ranges" (Devicetree Specification v0.4, 2.3.8): empty
 * ranges is the identity; -SHYPER_ENOENT if a bus has no ranges or none
 * covers the address, -SHYPER_ENOTSUP for cell counts other than 1 or 2.
 */
int dt_translate_address(const struct dt *dt, int node, uint64_t *addr);

/*
 * The node /chosen "stdout-path" names (a path or an alias; options after
 * ':' are ignored). Negative if absent or naming no node.
 */
int dt_chosen_stdout(const struct dt *dt);

/* Big-endian loads from the blob; the blob needs no particular alignment. */
static inline uint32_t dt_be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static inline uint64_t dt_be64(const void *p)
{
	const uint8_t *b = p;

	return (uint64_t)dt_be32(b) << 32 | dt_be32(b + 4);
}

#endif
