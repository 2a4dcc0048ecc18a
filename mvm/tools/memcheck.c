/*
 * shyper-memcheck MIB: a detector of lost writes. It keeps MIB MiB of
 * pages, each holding a pattern of its own number and generation, and
 * forever takes the next page, checks it still holds the pattern it last
 * wrote, and rewrites it with the next generation. A migration (or a
 * snapshot) that drops a guest's write makes a page come back with an older
 * generation, or anything else: reported with what was found, then exit 1.
 * Every 2^16 pages checked it prints "memcheck: N pages checked, 0 bad".
 * The generations live in a second array, rewritten as often, so a lost
 * write there is caught too (its page no longer matches).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096UL
#define WORDS (PAGE / sizeof(uint64_t))
#define REPORT_EVERY (1UL << 16)

static uint64_t word(uint64_t page, uint64_t gen, uint64_t i)
{
	uint64_t x = (page << 40) ^ (gen << 12) ^ i;

	/* A bijective mix: neighbouring words and generations differ widely. */
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ULL;
	x ^= x >> 27;
	return x;
}

static void fill(uint64_t *p, uint64_t page, uint64_t gen)
{
	for (uint64_t i = 0; i < WORDS; i++)
		p[i] = word(page, gen, i);
}

/* The first word that differs, or -1. */
static long check(const uint64_t *p, uint64_t page, uint64_t gen)
{
	for (uint64_t i = 0; i < WORDS; i++)
		if (p[i] != word(page, gen, i))
			return (long)i;
	return -1;
}

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 8;
	uint64_t pages, *mem, *gen, checked = 0;

	if (!mib || mib > 1024) {
		fprintf(stderr, "usage: shyper-memcheck [MiB, 1..1024]\n");
		return 2;
	}
	pages = mib * 1024 * 1024 / PAGE;
	mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	gen = calloc(pages, sizeof(*gen));
	if (mem == MAP_FAILED || !gen || mlock(mem, pages * PAGE)) {
		perror("shyper-memcheck");
		return 2;
	}
	for (uint64_t p = 0; p < pages; p++)
		fill(mem + p * WORDS, p, 0);
	printf("memcheck: %lu MiB in %llu pages\n", mib, (unsigned long long)pages);
	fflush(stdout);
	for (uint64_t p = 0;; p = p + 1 == pages ? 0 : p + 1) {
		uint64_t *page = mem + p * WORDS;
		long bad = check(page, p, gen[p]);

		if (bad >= 0) {
			/* Which generation it holds, if any recent one. */
			long found = -1;

			for (uint64_t g = gen[p] > 64 ? gen[p] - 64 : 0; g <= gen[p] + 1; g++)
				if (page[bad] == word(p, g, (uint64_t)bad))
					found = (long)g;
			printf("memcheck: BAD page %llu word %ld: expected generation %llu, found "
			       "%#llx (", (unsigned long long)p, bad, (unsigned long long)gen[p],
			       (unsigned long long)page[bad]);
			if (found >= 0)
				printf("generation %ld", found);
			else
				printf("no recent generation");
			printf(") after %llu pages checked\n", (unsigned long long)checked);
			fflush(stdout);
			return 1;
		}
		fill(page, p, ++gen[p]);
		if (++checked % REPORT_EVERY == 0) {
			printf("memcheck: %llu pages checked, 0 bad\n", (unsigned long long)checked);
			fflush(stdout);
		}
	}
}
