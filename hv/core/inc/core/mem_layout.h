/*
 * Where the frame pool goes: every RAM bank of the board that lies in the
 * window the hypervisor maps, as one span whose gaps (the holes between
 * banks) are kept reserved. Pure: unit-tested on the real boards' banks.
 */
#ifndef CORE_MEM_LAYOUT_H
#define CORE_MEM_LAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include <core/board.h>

struct mem_range {
	uint64_t base, size;
};

struct mem_layout {
	uint64_t base;			/* frame 0 of the pool */
	size_t nr_frames;		/* the whole span, holes included */
	size_t nr_usable;		/* frames in banks */
	struct mem_range image_bank;	/* the bank the image runs from */
	struct mem_range holes[BOARD_MAX_RAM];	/* between banks, in order */
	unsigned nr_holes;
	unsigned nr_banks;		/* banks used (in the window, not empty) */
};

/*
 * Plans the pool over the @nr_ram banks of @ram (sorted by base, not
 * overlapping, as board_parse() gives them), each cut to the window
 * [@win_base, @win_base + @win_size) and to whole frames. -SHYPER_ENOENT if
 * @image_start is in none of them, -SHYPER_EINVAL for bad arguments.
 */
int mem_layout_plan(const struct board_mem_region *ram, size_t nr_ram,
		    uint64_t win_base, uint64_t win_size, uint64_t image_start,
		    struct mem_layout *out);

#endif
