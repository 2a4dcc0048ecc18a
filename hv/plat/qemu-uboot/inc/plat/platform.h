/*
 * QEMU virt started the way the boards are (docs/BOARDS.md): U-Boot
 * (Debian's u-boot-qemu) runs the board boot script, the MVM gets a device
 * tree made at build time (tools/mvm-dtb, from QEMU's GICv3 tree) instead
 * of one the hypervisor writes. The board is QEMU virt in every other way,
 * so the board-image flow runs in the system tests.
 */
#ifndef PLAT_PLATFORM_H
#include "../../../qemu-virt/inc/plat/platform.h"

#undef PLAT_NAME
#define PLAT_NAME "qemu-uboot"

/* QEMU's own RAM layout, as with -kernel; U-Boot keeps its copy of the
 * board's tree at ${fdtcontroladdr}. */
#define PLAT_HV_LOAD_ADDR 0x40080000UL
#define PLAT_BOOT_SCRIPT_FDT "setenv cshyper_fdt ${fdtcontroladdr}\n"
#endif
