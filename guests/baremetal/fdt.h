/*
 * The one thing the bare-metal guests read from their device tree: the
 * command line (/chosen/bootargs) their VM configuration gave them.
 */
#ifndef BM_FDT_H
#define BM_FDT_H

#include <stdint.h>

/* /chosen/bootargs of the flattened device tree at dtb, or "" if there is
 * no tree there or no such property. */
const char *bm_fdt_bootargs(uint64_t dtb);

#endif
