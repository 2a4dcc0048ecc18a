/*
 * The frame pool's span over the board's RAM banks (core/mem_layout.h).
 * A bitmap over the span costs one bit per frame of the holes too: 32 KiB
 * per GiB of hole, small beside what it makes usable.
 */
#include <core/frame.h>
#include <core/mem_layout.h>
#include <lib/string.h>
#include <shyper/errno.h>

#define ALIGN_UP(x, a) (((x) + (a)-1) & ~((uint64_t)(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a)-1))

/* Bank @b cut to the window and to whole frames; false if nothing is left. */
static bool clip(const struct board_mem_region *b, uint64_t win_base, uint64_t win_end,
		 struct mem_range *out)
{
	uint64_t lo = b->base, hi = b->base + b->size; /* board_parse: no wrap */

	if (lo < win_base)
		lo = win_base;
	if (hi > win_end)
		hi = win_end;
	lo = ALIGN_UP(lo, FRAME_SIZE);
	hi = ALIGN_DOWN(hi, FRAME_SIZE);
	if (hi <= lo)
		return false;
	*out = (struct mem_range){ lo, hi - lo };
	return true;
}

int mem_layout_plan(const struct board_mem_region *ram, size_t nr_ram,
		    uint64_t win_base, uint64_t win_size, uint64_t image_start,
		    struct mem_layout *out)
{
	uint64_t win_end = win_base + win_size, end = 0;
	struct mem_range r;
	bool have_image = false;

	if (!ram || !out || nr_ram > BOARD_MAX_RAM || !win_size || win_end < win_base)
		return -SHYPER_EINVAL;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < nr_ram; i++) {
		if (!clip(&ram[i], win_base, win_end, &r))
			continue;
		if (out->nr_banks == 0) {
			out->base = r.base;
		} else if (r.base < end) {
			return -SHYPER_EINVAL; /* unsorted or overlapping */
		} else if (r.base > end) {
			out->holes[out->nr_holes++] = (struct mem_range){ end, r.base - end };
		}
		if (image_start >= r.base && image_start < r.base + r.size) {
			out->image_bank = r;
			have_image = true;
		}
		end = r.base + r.size;
		out->nr_usable += r.size / FRAME_SIZE;
		out->nr_banks++;
	}
	if (!have_image)
		return -SHYPER_ENOENT;
	out->nr_frames = (end - out->base) / FRAME_SIZE;
	return 0;
}
