#include <arch/cache.h>
#include <arch/sysreg.h>

/* CTR_EL0.DminLine: log2 of the smallest data cache line in words. */
static size_t dcache_line(void)
{
	return 4UL << ((sysreg_read(ctr_el0) >> 16) & 0xf);
}

void cache_clean_range(uint64_t addr, size_t size)
{
	size_t line = dcache_line();

	for (uint64_t a = addr & ~(line - 1); a < addr + size; a += line)
		__asm__ volatile("dc cvac, %0" ::"r"(a) : "memory");
	dsb(sy);
}

void cache_sync_code(uint64_t addr, size_t size)
{
	cache_clean_range(addr, size);
	/* Every core's instruction cache: any of them may run the code next. */
	__asm__ volatile("ic ialluis" ::: "memory");
	dsb(ish);
	isb();
}
