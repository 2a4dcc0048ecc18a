/*
 * Flattened device tree (DTB) writer, Devicetree Specification v0.4,
 * chapter 5: header, memory reservation block, structure block, strings
 * block with every property name stored once.
 *
 * The tree is written in one pass into a caller buffer. Layout while
 * building:
 *
 *   [header][reservations][structure block ->   free   <- strings, reversed]
 *
 * The structure block grows up from the front. The strings block grows
 * down from the end of the buffer with its bytes stored back to front
 * (byte i of the final strings block is buf[size - 1 - i]), so a name's
 * offset inside the strings block is known the moment it is added.
 * fdtw_finish() turns the strings around, moves them right behind the
 * structure block and writes the header, so the result is a packed tree of
 * exactly *total_size bytes at the start of the buffer.
 *
 * Errors are sticky: the first one is kept, every later call is a no-op,
 * and fdtw_finish() returns it. Nothing is ever written outside the buffer.
 *   -SHYPER_ENOSPC  the buffer is too small;
 *   -SHYPER_EINVAL  misuse: a reservation after the first node, a property
 *                   outside a node, unbalanced begin/end, a second root,
 *                   nesting deeper than FDTW_MAX_DEPTH, a bad name, a value
 *                   that does not fit its cells, a call after finish.
 */
#ifndef LIB_FDT_WRITE_H
#define LIB_FDT_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deepest nesting accepted, the root being depth 1; lib/dt.h reads the same. */
#define FDTW_MAX_DEPTH	64

struct fdt_writer {
	uint8_t *buf;
	size_t size;		/* usable bytes, at most 4 GiB - 1 */
	size_t struct_off;	/* start of the structure block, 0 before */
	size_t pos;		/* end of the structure block so far */
	size_t strings_len;	/* bytes of the (reversed) strings block */
	unsigned int depth;	/* open nodes */
	bool root_done;		/* the root node was closed */
	bool finished;
	int err;		/* first error, 0 if none */
};

/* Start a tree in @buf (@size bytes). Nothing is written past @size. */
void fdtw_init(struct fdt_writer *w, void *buf, size_t size);

/* A memory reservation entry; only before the first node. */
void fdtw_add_reservation(struct fdt_writer *w, uint64_t addr, uint64_t size);

/*
 * Open a node. The first node is the root and must be named ""; any other
 * name must be non-empty and contain no '/'.
 */
void fdtw_begin_node(struct fdt_writer *w, const char *name);
void fdtw_end_node(struct fdt_writer *w);

/* A property of the innermost open node; @val may be NULL when @len is 0. */
void fdtw_prop(struct fdt_writer *w, const char *name, const void *val,
	       size_t len);
void fdtw_prop_empty(struct fdt_writer *w, const char *name);
void fdtw_prop_u32(struct fdt_writer *w, const char *name, uint32_t v);
/* Two cells, most significant first. */
void fdtw_prop_u64(struct fdt_writer *w, const char *name, uint64_t v);
void fdtw_prop_cells(struct fdt_writer *w, const char *name,
		     const uint32_t *cells, size_t n);
void fdtw_prop_string(struct fdt_writer *w, const char *name, const char *s);
/* A string list: @n strings given as arguments / in an array. */
void fdtw_prop_strings(struct fdt_writer *w, const char *name, size_t n, ...);
void fdtw_prop_string_array(struct fdt_writer *w, const char *name,
			    const char *const *strs, size_t n);
/*
 * @nr_pairs (address, size) couples from @pairs encoded with @addr_cells
 * (1 or 2) and @size_cells (0, 1 or 2) cells each. A value that does not
 * fit its cells (any non-zero size when @size_cells is 0) is -SHYPER_EINVAL.
 */
void fdtw_prop_reg(struct fdt_writer *w, const char *name,
		   unsigned int addr_cells, unsigned int size_cells,
		   const uint64_t *pairs, size_t nr_pairs);

/*
 * Check that the root was closed, pack the tree and write its header.
 * Returns 0 with the tree's size in *@total_size (may be NULL), or the
 * first error. The writer accepts nothing afterwards.
 */
int fdtw_finish(struct fdt_writer *w, size_t *total_size);

#endif
