/* Data cache maintenance by address. */
#ifndef ARCH_CACHE_H
#define ARCH_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* Writes dirty lines of [addr, addr + size) back to memory (to the point of
 * coherency), e.g. before a guest reads them with its MMU and caches off. */
void cache_clean_range(uint64_t addr, size_t size);

/* Makes code written to [addr, addr + size) safe to execute on any core. */
void cache_sync_code(uint64_t addr, size_t size);

#endif
