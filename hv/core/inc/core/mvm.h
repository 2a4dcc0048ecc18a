/* Starting the management VM at boot. */
#ifndef CORE_MVM_H
#define CORE_MVM_H

#include <lib/dt.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Creates the MVM from the board's built-in configuration, adjusted by the
 * hypervisor command line (/chosen/bootargs: "mvm.vcpus=N", "mvm=off"), and
 * enters it on this core. Returns only if it cannot start (with the reason
 * already printed); the hypervisor console then stays available.
 */
int mvm_boot(const struct dt *board_dt);
/* Where the boot loader put the initramfs (/chosen linux,initrd-*). */
bool mvm_boot_initrd(const struct dt *board_dt, uint64_t *start, uint64_t *end);

#endif
