/*
 * Physical memory. The frame pool covers every RAM bank of the board in the
 * hypervisor's RAM window (core/mem_layout.c), the holes between them kept
 * reserved; its bitmap sits right after the image. The image, the bitmap and
 * the board device tree are reserved; the heap is carved from the pool.
 */
#include <arch/sysreg.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/mem_layout.h>
#include <core/state.h>
#include <plat/platform.h>
#include <lib/string.h>
#include <shyper/errno.h>

#define ALIGN_UP(x, a) (((x) + (a)-1) & ~((uint64_t)(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a)-1))

int mem_init(uint64_t image_start, uint64_t image_end, uint64_t dtb_pa,
	     uint64_t dtb_size)
{
	struct mem_layout lay;
	uint64_t map_pa, map_bytes, reserved_end, bank_end;
	int ret;

	ret = mem_layout_plan(hv.board.ram, hv.board.nr_ram, PLAT_RAM_WINDOW_BASE,
			      PLAT_RAM_WINDOW_SIZE, image_start, &lay);
	if (ret) {
		log_err("memory: the image at 0x%lx is outside every RAM region of the device tree",
			image_start);
		return -SHYPER_ENOENT;
	}
	/* The bitmap follows the image, in the image's bank. */
	bank_end = lay.image_bank.base + lay.image_bank.size;
	map_pa = ALIGN_UP(image_end, FRAME_SIZE);
	map_bytes = FRAME_MAP_WORDS(lay.nr_frames) * sizeof(unsigned long);
	reserved_end = ALIGN_UP(map_pa + map_bytes, FRAME_SIZE);
	if (reserved_end >= bank_end)
		return -SHYPER_ENOMEM;
	memset((void *)map_pa, 0, map_bytes);
	frame_pool_init(&hv.frames, lay.base, lay.nr_frames, (unsigned long *)map_pa);
	/* Between banks is no RAM: those frames stay taken for good. */
	for (unsigned i = 0; i < lay.nr_holes; i++) {
		ret = frame_pool_reserve(&hv.frames, lay.holes[i].base,
					 lay.holes[i].size / FRAME_SIZE);
		if (ret)
			return ret;
	}

	/* Below the image is the boot loader's stub; keep it out of reach too. */
	ret = frame_pool_reserve(&hv.frames, lay.image_bank.base,
				 (reserved_end - lay.image_bank.base) / FRAME_SIZE);
	if (ret)
		return ret;
	hv.reserved_base = lay.image_bank.base;
	hv.reserved_end = reserved_end;
	/* The board's tree, wherever the loader put it: frame by frame, as it
	 * may straddle a bank's end, and frames already taken (the image's,
	 * a hole's) are fine. */
	if (dtb_size) {
		uint64_t pool_end = lay.base + lay.nr_frames * FRAME_SIZE;
		uint64_t lo = ALIGN_DOWN(dtb_pa, FRAME_SIZE);
		uint64_t hi = ALIGN_UP(dtb_pa + dtb_size, FRAME_SIZE);

		for (uint64_t pa = lo < lay.base ? lay.base : lo; pa < hi && pa < pool_end;
		     pa += FRAME_SIZE) {
			ret = frame_pool_reserve(&hv.frames, pa, 1);
			if (ret && ret != -SHYPER_EBUSY)
				return ret;
		}
	}

	hv.heap_base = frame_alloc(&hv.frames, HV_HEAP_SIZE / FRAME_SIZE, 1);
	if (hv.heap_base == FRAME_NONE)
		return -SHYPER_ENOMEM;
	hv.heap_size = HV_HEAP_SIZE;
	return heap_init(&hv.heap, (void *)hv.heap_base, HV_HEAP_SIZE);
}

void mem_reserve_boot_initrd(uint64_t start, uint64_t end)
{
	uint64_t lo = ALIGN_DOWN(start, FRAME_SIZE), hi = ALIGN_UP(end, FRAME_SIZE);

	if (frame_pool_reserve(&hv.frames, lo, (hi - lo) / FRAME_SIZE) == 0) {
		hv.boot_initrd_start = lo;
		hv.boot_initrd_end = hi;
	}
}

void mem_release_boot_initrd(void)
{
	if (hv.boot_initrd_end > hv.boot_initrd_start)
		mem_free_frames(hv.boot_initrd_start,
				(hv.boot_initrd_end - hv.boot_initrd_start) / FRAME_SIZE);
	hv.boot_initrd_start = hv.boot_initrd_end = 0;
}

uint64_t mem_alloc_frames(size_t nr, size_t align_frames)
{
	uint64_t flags = irq_save(), pa;

	spin_lock(&hv.frames_lock);
	pa = frame_alloc(&hv.frames, nr, align_frames);
	spin_unlock(&hv.frames_lock);
	irq_restore(flags);
	return pa;
}

int mem_free_frames(uint64_t pa, size_t nr)
{
	uint64_t flags = irq_save();
	int ret;

	spin_lock(&hv.frames_lock);
	ret = frame_free(&hv.frames, pa, nr);
	spin_unlock(&hv.frames_lock);
	irq_restore(flags);
	return ret;
}

size_t mem_free_frame_count(void)
{
	return frame_pool_free(&hv.frames);
}

size_t mem_usable_frame_count(void)
{
	struct mem_layout lay;

	/* Planned again from the board: nothing more to carry in an update. */
	if (mem_layout_plan(hv.board.ram, hv.board.nr_ram, PLAT_RAM_WINDOW_BASE,
			    PLAT_RAM_WINDOW_SIZE, hv.reserved_base, &lay))
		return 0;
	return lay.nr_usable;
}

void *hv_alloc(size_t size)
{
	uint64_t flags = irq_save();
	void *p;

	spin_lock(&hv.heap_lock);
	p = heap_alloc(&hv.heap, size, 16);
	spin_unlock(&hv.heap_lock);
	irq_restore(flags);
	return p;
}

int hv_free(void *p)
{
	uint64_t flags = irq_save();
	int ret;

	spin_lock(&hv.heap_lock);
	ret = heap_free(&hv.heap, p);
	spin_unlock(&hv.heap_lock);
	irq_restore(flags);
	return ret;
}

size_t hv_heap_free(void)
{
	return heap_free_bytes(&hv.heap);
}
