/*
 * libFuzzer harness for the device tree reader and board discovery: the
 * board tree is the first untrusted input the hypervisor parses. Any
 * input dt_open() accepts is walked completely (every node, property,
 * stringlist and reg entry) and handed to board_parse().
 *
 * fuzz-sources: hv/lib/dt.c hv/lib/dt_irq.c hv/core/board.c
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <core/board.h>
#include <lib/dt_irq.h>
#include <lib/dt.h>

/* Keep the compiler from dropping results; never read. */
static volatile unsigned long sink;

static void walk_props(const struct dt *dt, int node)
{
	const char *name, *str;
	uint32_t v;
	int prop, len;

	for (prop = dt_first_prop(dt, node); prop >= 0;
	     prop = dt_next_prop(dt, prop)) {
		if (!dt_prop_by_offset(dt, prop, &name, &len))
			continue;
		sink += dt_getprop(dt, node, name, &len) != NULL;
		sink += (unsigned long)dt_prop_u32(dt, node, name, &v);
		for (int i = 0; (str = dt_stringlist_get(dt, node, name, i, &len)); i++)
			sink += strlen(str);
		sink += dt_stringlist_contains(dt, node, name, "okay");
	}
}

static void walk_reg(const struct dt *dt, int node)
{
	uint64_t addr, size;
	int i;

	for (i = 0; i < 16 && dt_read_reg(dt, node, i, &addr, &size) == 0; i++) {
		sink += addr + size;
		sink += (unsigned long)dt_translate_address(dt, node, &addr);
	}
}

static void walk(const struct dt *dt)
{
	uint64_t addr, size;
	int node, depth = 0, sub, parent, len, irq_lookups = 0;

	for (int i = 0; i < dt_num_mem_rsv(dt); i++)
		sink += (unsigned long)dt_get_mem_rsv(dt, i, &addr, &size);
	sink += (unsigned long)dt_chosen_stdout(dt);
	sink += (unsigned long)dt_path_offset(dt, "/cpus/cpu@0");
	sink += (unsigned long)dt_path_offset(dt, "serial0/x");
	sink += (unsigned long)dt_find_compatible(dt, -1, "arm,pl011");

	for (node = dt_next_node(dt, -1, &depth); node >= 0;
	     node = dt_next_node(dt, node, &depth)) {
		const char *name = dt_node_name(dt, node);

		sink += name ? strlen(name) : 0;
		sink += (unsigned long)dt_parent_offset(dt, node);
		for (sub = dt_first_subnode(dt, node); sub >= 0;
		     sub = dt_next_subnode(dt, sub))
			sink++;
		sink += (unsigned long)dt_address_cells(dt, node);
		sink += (unsigned long)dt_size_cells(dt, node);
		sink += dt_node_is_enabled(dt, node);
		sink += dt_node_is_compatible(dt, node, "arm,gic-v3");
		/* Each resolution walks the tree: a few per input keep the
		 * harness fast (board_parse resolves the GIC, UART, timer). */
		if (irq_lookups < 8 && dt_getprop(dt, node, "interrupts", &len)) {
			irq_lookups++;
			parent = dt_interrupt_parent(dt, node);
			sink += (unsigned long)parent;
			if (parent >= 0)
				sink += (unsigned long)dt_interrupt_cells(dt, parent);
		}
		walk_props(dt, node);
		walk_reg(dt, node);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct board_info bi;
	struct dt dt;

	if (dt_open(&dt, data, size))
		return 0;
	walk(&dt);
	if (board_parse(&dt, &bi) != 0 && !bi.error)
		__builtin_trap();	/* a failure must always say why */
	return 0;
}
