/*
 * Population count for the hypervisor. Not __builtin_popcount*: without
 * an inline instruction for it (-mgeneral-regs-only) GCC calls libgcc's
 * __popcountdi2, which counts with SIMD registers (cnt v0.8b) and so
 * overwrites the FP/SIMD registers of the guest that runs on the core,
 * live there while the hypervisor handles its exit.
 */
#ifndef LIB_POPCOUNT_H
#define LIB_POPCOUNT_H

#include <stdint.h>

static inline unsigned popcount64(uint64_t w)
{
	w = w - ((w >> 1) & 0x5555555555555555ULL);
	w = (w & 0x3333333333333333ULL) + ((w >> 2) & 0x3333333333333333ULL);
	w = (w + (w >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (unsigned)((w * 0x0101010101010101ULL) >> 56);
}

#endif
