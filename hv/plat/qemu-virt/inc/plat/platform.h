/*
 * QEMU "virt" board (hw/arm/virt.c memory map). Only what the hypervisor needs
 * before the board device tree has been read lives here; everything else (RAM
 * size, cores, GIC flavour and bases) comes from the device tree in x0.
 */
#ifndef PLAT_PLATFORM_H
#define PLAT_PLATFORM_H

#define PLAT_NAME "qemu-virt"

/* PL011 used for messages printed before the device tree is parsed. */
#define PLAT_EARLY_UART_BASE 0x09000000UL

/* Everything below 1 GiB is MMIO on virt; RAM starts at 1 GiB. */
#define PLAT_MMIO_WINDOW_BASE 0x00000000UL
#define PLAT_MMIO_WINDOW_SIZE 0x40000000UL
#define PLAT_RAM_WINDOW_BASE 0x40000000UL
/* How much of the RAM window the boot page tables cover (QEMU allows more). */
#define PLAT_RAM_WINDOW_SIZE (16UL << 30)

/*
 * Smallest board the hypervisor accepts: its own image, page tables and heap
 * (HV_RESERVED_MIN) plus room for the management VM.
 */
#define PLAT_MIN_RAM (256UL << 20)

/* Core 0 runs the management VM; a partitioning hypervisor needs another. */
#define PLAT_MIN_CPUS 2

#endif
