/* The hypervisor's physical memory: a frame pool over board RAM and a heap. */
#ifndef CORE_MEM_H
#define CORE_MEM_H

#include <stddef.h>
#include <stdint.h>

#define HV_HEAP_SIZE (4UL << 20)

/* Sets up frames and heap from hv.board; returns 0 or a negative error. */
int mem_init(uint64_t image_start, uint64_t image_end, uint64_t dtb_pa,
	     uint64_t dtb_size);
/* Keeps the boot loader's initramfs out of the pool until the MVM has it. */
void mem_reserve_boot_initrd(uint64_t start, uint64_t end);
void mem_release_boot_initrd(void);
uint64_t mem_alloc_frames(size_t nr, size_t align_frames);
int mem_free_frames(uint64_t pa, size_t nr);
size_t mem_free_frame_count(void);
/* Frames of RAM in the pool (its span less the holes between banks). */
size_t mem_usable_frame_count(void);
void *hv_alloc(size_t size);
int hv_free(void *p);
size_t hv_heap_free(void);

#endif
