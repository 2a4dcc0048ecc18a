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
 *
 * The first write to each page goes in with all 32 FP/SIMD registers
 * holding a pattern, checked right after: under dirty logging that write
 * traps to the hypervisor, which must hand the guest back its registers
 * untouched ("BAD fp register" otherwise).
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

#define DUP(n) "dup v" #n ".2d, %[t]\n\t"
#define SAVE(a, b, off) "stp q" #a ", q" #b ", [%[o], #" #off "]\n\t"

/* Writes @v to @p with every FP/SIMD register set to @tag; the first
 * register that lost it, or -1. */
static int fp_write(uint64_t *p, uint64_t v, uint64_t tag, uint64_t *found)
{
	uint64_t out[64];

	__asm__ volatile(
		DUP(0) DUP(1) DUP(2) DUP(3) DUP(4) DUP(5) DUP(6) DUP(7)
		DUP(8) DUP(9) DUP(10) DUP(11) DUP(12) DUP(13) DUP(14) DUP(15)
		DUP(16) DUP(17) DUP(18) DUP(19) DUP(20) DUP(21) DUP(22) DUP(23)
		DUP(24) DUP(25) DUP(26) DUP(27) DUP(28) DUP(29) DUP(30) DUP(31)
		"str %[v], [%[p]]\n\t"
		SAVE(0, 1, 0) SAVE(2, 3, 32) SAVE(4, 5, 64) SAVE(6, 7, 96)
		SAVE(8, 9, 128) SAVE(10, 11, 160) SAVE(12, 13, 192) SAVE(14, 15, 224)
		SAVE(16, 17, 256) SAVE(18, 19, 288) SAVE(20, 21, 320) SAVE(22, 23, 352)
		SAVE(24, 25, 384) SAVE(26, 27, 416) SAVE(28, 29, 448) SAVE(30, 31, 480)
		:
		: [t] "r"(tag), [v] "r"(v), [p] "r"(p), [o] "r"(out)
		: "memory", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10",
		  "v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21",
		  "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31");
	for (int i = 0; i < 64; i++) {
		if (out[i] != tag) {
			*found = out[i];
			return i / 2;
		}
	}
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
		uint64_t tag = word(p, gen[p] + 1, WORDS), lost;
		int reg = fp_write(page, word(p, gen[p] + 1, 0), tag, &lost);

		if (reg >= 0) {
			printf("memcheck: BAD fp register v%d after a write to page %llu: expected "
			       "%#llx, found %#llx, after %llu pages checked\n", reg,
			       (unsigned long long)p, (unsigned long long)tag,
			       (unsigned long long)lost, (unsigned long long)checked);
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
