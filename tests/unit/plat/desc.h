/*
 * What a board's platform.h says, captured for a test that looks at every
 * board at once: include hv/plat/<board>/inc/plat/platform.h, then
 * "plat/fill.h", then PLAT_DESC(name), then "plat/undef.h", and the next
 * board.
 */
#ifndef TESTS_PLAT_DESC_H
#define TESTS_PLAT_DESC_H

#include <arch/boot_map.h>
#include <stddef.h>
#include <stdint.h>

struct plat_desc {
	const char *name;
	const struct plat_map_region *map;
	size_t nr_map;
	size_t l2_tables;
	uint64_t uart_base;
	int uart_ns16550;
	unsigned uart_shift, uart_width;
	uint64_t ram_window_base, ram_window_size;
};

#define PLAT_DESC(var)                                                                     \
	static const struct plat_map_region var##_map[] = PLAT_MEMORY_MAP;                 \
	static const struct plat_desc var = {                                              \
		PLAT_NAME, var##_map, sizeof(var##_map) / sizeof(var##_map[0]),            \
		PLAT_MAP_L2_TABLES, PLAT_EARLY_UART_BASE, PLAT_UART_NS16550,               \
		PLAT_UART_REG_SHIFT, PLAT_UART_IO_WIDTH, PLAT_RAM_WINDOW_BASE,             \
		PLAT_RAM_WINDOW_SIZE,                                                      \
	}

#endif
