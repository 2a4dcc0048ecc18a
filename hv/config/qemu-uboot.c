/*
 * The management VM of QEMU virt booted through U-Boot (plat/qemu-uboot):
 * QEMU virt's own (qemu-virt.c), but its device tree is made at build time
 * by tools/mvm-dtb and loaded by the boot script, as on the boards.
 */
#define MVM_DTB_GIVEN true
#include "qemu-virt.c"
