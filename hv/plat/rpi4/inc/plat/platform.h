/*
 * Raspberry Pi 4 Model B (BCM2711), booted by the VideoCore firmware, TF-A's
 * BL31 (PSCI) and U-Boot (docs/BOARDS.md). RAM, cores and the GIC-400 come
 * from the device tree; what is needed before it is read lives here.
 */
#ifndef PLAT_PLATFORM_H
#define PLAT_PLATFORM_H

#define PLAT_NAME "rpi4"

/* The mini UART (serial1, the tree's stdout-path and the GPIO 14/15
 * console): 16550-like, 32-bit registers 4 bytes apart. */
#define PLAT_UART_NS16550 1
#define PLAT_UART_REG_SHIFT 2
#define PLAT_UART_IO_WIDTH 4
#define PLAT_EARLY_UART_BASE 0xfe215040UL

/* RAM is at 0 (an 8 GiB board: three banks below 8 GiB). */
#define PLAT_RAM_WINDOW_BASE 0x0UL
#define PLAT_RAM_WINDOW_SIZE (8UL << 30)

/* The peripherals (0xfc000000: the GIC, UARTs, EMMC2, GENET, PCIe
 * registers) share the fourth GiB with RAM, so that GiB is mapped in 2 MiB
 * blocks; the PCIe outbound window is at 0x600000000. */
#define PLAT_MEMORY_MAP { \
	{ PLAT_RAM_WINDOW_BASE, PLAT_RAM_WINDOW_SIZE, PLAT_MAP_NORMAL }, \
	{ 0xfc000000UL, 0x04000000UL, PLAT_MAP_DEVICE }, \
	{ 0x600000000UL, 0x40000000UL, PLAT_MAP_DEVICE }, \
}
#define PLAT_MAP_L2_TABLES 1

/* Where the boot script loads the image (2 MiB aligned + text_offset, so
 * booti need not move it), and the tree it hands over: the firmware's tree, which TF-A gave PSCI. */
#define PLAT_HV_LOAD_ADDR 0x01080000UL
#define PLAT_BOOT_SCRIPT_FDT "setenv cshyper_fdt ${fdt_addr}\n"

#define PLAT_MIN_RAM (256UL << 20)
#define PLAT_MIN_CPUS 2

#endif
