/*
 * QEMU "virt" board (hw/arm/virt.c memory map). Only what the hypervisor needs
 * before the board device tree has been read lives here; everything else (RAM
 * size, cores, GIC flavour and bases) comes from the device tree in x0.
 */
#ifndef PLAT_PLATFORM_H
#define PLAT_PLATFORM_H

#define PLAT_NAME "qemu-virt"

/* PL011 used for messages printed before the device tree is parsed. */
#define PLAT_UART_PL011 1
#define PLAT_EARLY_UART_BASE 0x09000000UL

/* Where the frame pool may find RAM (QEMU allows more than 16 GiB). */
#define PLAT_RAM_WINDOW_BASE 0x40000000UL
#define PLAT_RAM_WINDOW_SIZE (16UL << 30)

/* The hypervisor's identity map (arch/boot_map.h): everything below 1 GiB
 * is MMIO on virt, RAM starts at 1 GiB. */
#define PLAT_MEMORY_MAP { \
	{ 0x00000000UL, 0x40000000UL, PLAT_MAP_DEVICE }, \
	{ PLAT_RAM_WINDOW_BASE, PLAT_RAM_WINDOW_SIZE, PLAT_MAP_NORMAL }, \
}
#define PLAT_MAP_L2_TABLES 0

/*
 * Smallest board the hypervisor accepts: its own image, page tables and heap
 * (HV_RESERVED_MIN) plus room for the management VM.
 */
#define PLAT_MIN_RAM (256UL << 20)

/*
 * QEMU's GICv2 (hw/intc/arm_gic.c, up to at least 7.2) deactivates the
 * physical interrupt of a HW list register when the guest EOIs it, but does
 * not then re-evaluate the physical CPU interface: an interrupt that became
 * pending again meanwhile (a level line still high, e.g. the virtual timer
 * or a UART) is not signalled until some other GIC event, which on an idle
 * core may never come. So on this board a GICv2 forwards hardware interrupts
 * without the HW bit and deactivates them itself on the EOI maintenance
 * interrupt; that deactivation goes through GICC_DIR, which QEMU follows
 * with a full update. GICv3 is not affected.
 */
#define PLAT_GICV2_DEACTIVATE_ON_EOI_MAINTENANCE 1

/* Core 0 runs the management VM; a partitioning hypervisor needs another. */
#define PLAT_MIN_CPUS 2

#endif
