/*
 * Seeds for the VMs' device trees (/chosen/rng-seed), so that a guest's
 * random pool is ready at boot instead of blocking its first user for
 * seconds. The bits come from the board's own seed (QEMU and U-Boot pass
 * one in /chosen) stretched with a counter-based generator: as good as the
 * board's seed, not a cryptographic source of its own.
 */
#ifndef CORE_ENTROPY_H
#define CORE_ENTROPY_H

#include <lib/dt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_RNG_SEED_SIZE 64

struct entropy {
	uint64_t state[4];
	bool from_board; /* false: only the counter; said on the console */
};

void entropy_init(const struct dt *board_dt);
void entropy_fill(void *buf, size_t len);

#endif
