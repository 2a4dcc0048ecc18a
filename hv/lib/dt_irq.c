/*
 * Phandle lookup and interrupt-parent resolution. A tree has no index of
 * phandles, so a lookup walks every node: boards look up a handful at boot.
 */
#include <lib/dt_irq.h>
#include <shyper/errno.h>

static int read_phandle(const struct dt *dt, int node, const char *name,
			uint32_t *out)
{
	int len;
	const void *p = dt_getprop(dt, node, name, &len);

	if (!p)
		return len;
	if (len != (int)sizeof(uint32_t))
		return -SHYPER_EBADMSG;
	*out = dt_be32(p);
	return 0;
}

int dt_node_by_phandle(const struct dt *dt, uint32_t phandle)
{
	uint32_t v;
	int node;

	if (phandle == 0 || phandle == UINT32_MAX)
		return -SHYPER_EINVAL;
	for (node = dt_next_node(dt, -1, NULL); node >= 0;
	     node = dt_next_node(dt, node, NULL)) {
		if ((read_phandle(dt, node, "phandle", &v) == 0 ||
		     read_phandle(dt, node, "linux,phandle", &v) == 0) &&
		    v == phandle)
			return node;
	}
	return -SHYPER_ENOENT;
}

/*
 * As Linux's of_irq_find_parent(): follow "interrupt-parent", or else go up
 * one level, until a node that has #interrupt-cells. Bounded, since
 * phandles can form a loop.
 */
int dt_interrupt_parent(const struct dt *dt, int node)
{
	uint32_t phandle;
	int ret, step;

	for (step = 0; step < 2 * DT_MAX_DEPTH; step++) {
		ret = read_phandle(dt, node, "interrupt-parent", &phandle);
		if (ret == 0) {
			node = dt_node_by_phandle(dt, phandle);
			if (node < 0)
				return -SHYPER_EBADMSG;
		} else if (ret == -SHYPER_ENOENT) {
			if (node == dt->root)
				return -SHYPER_ENOENT;
			node = dt_parent_offset(dt, node);
			if (node < 0)
				return node;
		} else {
			return -SHYPER_EBADMSG;
		}
		if (dt_getprop(dt, node, "#interrupt-cells", &ret))
			return node;
	}
	return -SHYPER_EBADMSG;
}

int dt_interrupt_cells(const struct dt *dt, int ctrl)
{
	uint32_t cells;
	int ret = dt_prop_u32(dt, ctrl, "#interrupt-cells", &cells);

	if (ret)
		return ret == -SHYPER_ENOENT ? ret : -SHYPER_EBADMSG;
	if (cells < 1 || cells > DT_MAX_INTERRUPT_CELLS)
		return -SHYPER_EBADMSG;
	return (int)cells;
}
