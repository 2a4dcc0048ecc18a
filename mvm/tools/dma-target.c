/*
 * shyper-dma-target: a page of the MVM's memory that a device must not
 * reach. It locks one page, fills it with a pattern, prints its physical
 * address (the MVM is identity-mapped, so that is also the host's) and its
 * checksum, then waits for a line on stdin and checks the page again:
 *
 *   dma-target: page at 0x5a3c1000, crc 0x1234abcd
 *   (enter)
 *   dma-target: unchanged             or  dma-target: CHANGED at byte N ...
 *
 * tests/system/test_smmu.py has a guest's device write there through the
 * SMMU, which must refuse it. Needs root (/proc/self/pagemap's frame
 * numbers).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096UL
#define PM_PRESENT (1ULL << 63)
#define PM_PFN_MASK ((1ULL << 55) - 1)

static uint8_t pattern(size_t i)
{
	return (uint8_t)(0xa5 ^ (i * 7) ^ (i >> 8));
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t c = ~0U;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320U & -(c & 1));
	}
	return ~c;
}

int main(void)
{
	uint8_t *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1, 0);
	uint64_t entry = 0;
	char line[16];
	int fd;

	if (page == MAP_FAILED || mlock(page, PAGE)) {
		perror("dma-target: page");
		return 1;
	}
	for (size_t i = 0; i < PAGE; i++)
		page[i] = pattern(i);
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0 || pread(fd, &entry, sizeof(entry), (off_t)((uintptr_t)page / PAGE * 8)) !=
			      (ssize_t)sizeof(entry)) {
		perror("dma-target: pagemap");
		return 1;
	}
	close(fd);
	if (!(entry & PM_PRESENT) || !(entry & PM_PFN_MASK)) {
		fprintf(stderr, "dma-target: no frame number (not root?)\n");
		return 1;
	}
	printf("dma-target: page at 0x%llx, crc 0x%08x\n",
	       (unsigned long long)((entry & PM_PFN_MASK) * PAGE), crc32(page, PAGE));
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (size_t i = 0; i < PAGE; i++)
		if (page[i] != pattern(i)) {
			printf("dma-target: CHANGED at byte %zu (0x%02x, not 0x%02x), crc 0x%08x\n",
			       i, page[i], pattern(i), crc32(page, PAGE));
			return 1;
		}
	printf("dma-target: unchanged, crc 0x%08x\n", crc32(page, PAGE));
	return 0;
}
