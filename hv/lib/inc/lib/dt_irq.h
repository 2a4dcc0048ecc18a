/*
 * Phandles and interrupt parents (Devicetree Specification v0.4, 2.3.3 and
 * 2.4): what a node's "interrupts" specifiers are relative to, and how many
 * cells each one has. Built on lib/dt.h; same offset and error conventions.
 */
#ifndef LIB_DT_IRQ_H
#define LIB_DT_IRQ_H

#include <stdint.h>
#include <lib/dt.h>

/* Specifiers longer than this are refused (GIC bindings use 3 or 4). */
#define DT_MAX_INTERRUPT_CELLS	4

/*
 * The node whose "phandle" (or older "linux,phandle") is @phandle;
 * -SHYPER_ENOENT if none, -SHYPER_EINVAL for the reserved values 0 and
 * 0xffffffff.
 */
int dt_node_by_phandle(const struct dt *dt, uint32_t phandle);

/*
 * The interrupt controller @node's "interrupts" refer to (2.4.1): the
 * first node with #interrupt-cells reached by following "interrupt-parent"
 * where a node has one and the tree parent where it has none.
 * -SHYPER_ENOENT if the walk reaches the root without finding one,
 * -SHYPER_EBADMSG if a property is malformed, a phandle names no node or
 * the phandles loop.
 */
int dt_interrupt_parent(const struct dt *dt, int node);

/*
 * #interrupt-cells of interrupt controller @ctrl: 1 to
 * DT_MAX_INTERRUPT_CELLS, else -SHYPER_EBADMSG (-SHYPER_ENOENT if absent).
 */
int dt_interrupt_cells(const struct dt *dt, int ctrl);

#endif
