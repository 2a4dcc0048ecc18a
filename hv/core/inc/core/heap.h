/*
 * Small-object heap over one memory area. No locking inside: the caller
 * serialises access. Blocks are found by walking the area from its start,
 * so the heap holds no pointers besides struct heap's base and can be
 * handed over in a live update as is.
 */
#ifndef CORE_HEAP_H
#define CORE_HEAP_H

#include <stddef.h>
#include <stdint.h>

/* Largest alignment heap_alloc() accepts. */
#define HEAP_MAX_ALIGN	4096

struct heap {
	uint8_t *base;		/* first block header */
	size_t size;		/* bytes managed, a multiple of the granule */
	size_t free_bytes;	/* payload bytes in free blocks */
};

/* -SHYPER_EINVAL if the area is NULL or too small for one block. */
int heap_init(struct heap *h, void *base, size_t size);

/*
 * @size bytes aligned to @align (a power of two <= HEAP_MAX_ALIGN; 0 means
 * the default, 16). NULL when @size is 0 or too big, @align is invalid, no
 * free block fits, or a corrupted header is met.
 */
void *heap_alloc(struct heap *h, size_t size, size_t align);

/*
 * 0 (also for NULL), or -SHYPER_EINVAL with nothing changed for a pointer
 * heap_alloc() did not return, a double free or a corrupted header.
 */
int heap_free(struct heap *h, void *p);

size_t heap_free_bytes(const struct heap *h);

/* 0 if every header and the free-byte count are consistent, else -SHYPER_EBADMSG. */
int heap_check(const struct heap *h);

#endif
