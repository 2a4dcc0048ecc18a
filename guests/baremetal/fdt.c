/* /chosen/bootargs from a flattened device tree (Devicetree Specification
 * v0.4, chapter 5). Bytes are read one at a time: with the MMU off every
 * access is to Device memory, which faults when unaligned. */
#include "fdt.h"

#include <stdbool.h>
#include <stddef.h>

#define FDT_MAGIC 0xd00dfeedU
#define FDT_OFF_TOTALSIZE 4
#define FDT_OFF_STRUCT 8
#define FDT_OFF_STRINGS 12
#define FDT_BEGIN_NODE 1U
#define FDT_END_NODE 2U
#define FDT_PROP 3U
#define FDT_NOP 4U
#define FDT_END 9U
/* Enough for any tree the hypervisor generates; a bound on a bad one. */
#define FDT_MAX_SIZE (1U << 20)

static uint32_t be32(const volatile uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool str_eq(const volatile uint8_t *s, const char *want, uint32_t max)
{
	uint32_t i = 0;

	for (; i < max && want[i]; i++)
		if (s[i] != (uint8_t)want[i])
			return false;
	return i < max && s[i] == 0;
}

static uint32_t align4(uint32_t v)
{
	return (v + 3) & ~3U;
}

const char *bm_fdt_bootargs(uint64_t dtb)
{
	const volatile uint8_t *t = (const volatile uint8_t *)(uintptr_t)dtb;
	uint32_t size, off, strings, depth = 0;
	bool in_chosen = false;

	if (!dtb || be32(t) != FDT_MAGIC)
		return "";
	size = be32(t + FDT_OFF_TOTALSIZE);
	off = be32(t + FDT_OFF_STRUCT);
	strings = be32(t + FDT_OFF_STRINGS);
	if (size > FDT_MAX_SIZE || off >= size || strings >= size)
		return "";
	while (off + 4 <= size) {
		uint32_t tok = be32(t + off), len, name;

		off += 4;
		switch (tok) {
		case FDT_BEGIN_NODE: {
			uint32_t n = 0;

			depth++;
			in_chosen = depth == 2 && str_eq(t + off, "chosen", size - off);
			while (off + n < size && t[off + n])
				n++;
			off = align4(off + n + 1);
			break;
		}
		case FDT_END_NODE:
			if (!depth)
				return "";
			depth--;
			in_chosen = false;
			break;
		case FDT_PROP:
			if (off + 8 > size)
				return "";
			len = be32(t + off);
			name = be32(t + off + 4);
			off += 8;
			if (len > size - off || name >= size - strings)
				return "";
			if (in_chosen && str_eq(t + strings + name, "bootargs", size - strings - name) &&
			    len && t[off + len - 1] == 0)
				return (const char *)(uintptr_t)(t + off);
			off = align4(off + len);
			break;
		case FDT_NOP:
			break;
		default: /* FDT_END or garbage */
			return "";
		}
	}
	return "";
}
