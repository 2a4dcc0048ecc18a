/*
 * Physical memory. The frame pool covers the RAM region the image was loaded
 * into; its bitmap sits right after the image. The image, the bitmap and the
 * board device tree are reserved; the heap is carved from the pool.
 */
#include <arch/sysreg.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/state.h>
#include <lib/string.h>
#include <shyper/errno.h>

#define ALIGN_UP(x, a) (((x) + (a)-1) & ~((uint64_t)(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a)-1))

static int find_image_region(uint64_t image_start, uint64_t *base, uint64_t *size)
{
	for (unsigned i = 0; i < hv.board.nr_ram; i++) {
		uint64_t b = hv.board.ram[i].base, s = hv.board.ram[i].size;

		if (image_start >= b && image_start < b + s) {
			*base = ALIGN_UP(b, FRAME_SIZE);
			*size = ALIGN_DOWN(b + s, FRAME_SIZE) - *base;
			return 0;
		}
	}
	return -SHYPER_ENOENT;
}

int mem_init(uint64_t image_start, uint64_t image_end, uint64_t dtb_pa,
	     uint64_t dtb_size)
{
	uint64_t base, size, map_pa, map_bytes, reserved_end;
	size_t nr_frames;
	int ret;

	if (find_image_region(image_start, &base, &size)) {
		log_err("memory: the image at 0x%lx is outside every RAM region of the device tree",
			image_start);
		return -SHYPER_ENOENT;
	}
	nr_frames = size / FRAME_SIZE;
	map_pa = ALIGN_UP(image_end, FRAME_SIZE);
	map_bytes = FRAME_MAP_WORDS(nr_frames) * sizeof(unsigned long);
	reserved_end = ALIGN_UP(map_pa + map_bytes, FRAME_SIZE);
	if (reserved_end >= base + size)
		return -SHYPER_ENOMEM;
	memset((void *)map_pa, 0, map_bytes);
	frame_pool_init(&hv.frames, base, nr_frames, (unsigned long *)map_pa);

	/* Below the image is the boot loader's stub; keep it out of reach too. */
	ret = frame_pool_reserve(&hv.frames, base, (reserved_end - base) / FRAME_SIZE);
	if (ret)
		return ret;
	hv.reserved_base = base;
	hv.reserved_end = reserved_end;
	if (dtb_pa >= base && dtb_pa < base + size) {
		uint64_t lo = ALIGN_DOWN(dtb_pa, FRAME_SIZE);
		uint64_t hi = ALIGN_UP(dtb_pa + dtb_size, FRAME_SIZE);

		if (hi > base + size)
			hi = base + size;
		if (lo >= reserved_end) {
			ret = frame_pool_reserve(&hv.frames, lo, (hi - lo) / FRAME_SIZE);
			if (ret)
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
