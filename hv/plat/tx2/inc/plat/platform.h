/*
 * NVIDIA Jetson TX2 developer kit (Tegra186, P2771), booted by NVIDIA's
 * boot chain (MB1, MB2, CBoot) and U-Boot, PSCI from its TF-A (docs/BOARDS.md).
 */
#ifndef PLAT_PLATFORM_H
#define PLAT_PLATFORM_H

#define PLAT_NAME "tx2"

/* UARTA, the debug console on the devkit's header: 16550, 8-bit
 * registers 4 bytes apart. */
#define PLAT_UART_NS16550 1
#define PLAT_UART_REG_SHIFT 2
#define PLAT_UART_IO_WIDTH 1
#define PLAT_EARLY_UART_BASE 0x03100000UL

/* 8 GiB of RAM from 2 GiB. */
#define PLAT_RAM_WINDOW_BASE 0x80000000UL
#define PLAT_RAM_WINDOW_SIZE (8UL << 30)

/* Everything below 2 GiB is MMIO (PCIe windows included): GiB-aligned,
 * no level-2 tables. */
#define PLAT_MEMORY_MAP { \
	{ 0x0UL, 0x80000000UL, PLAT_MAP_DEVICE }, \
	{ PLAT_RAM_WINDOW_BASE, PLAT_RAM_WINDOW_SIZE, PLAT_MAP_NORMAL }, \
}
#define PLAT_MAP_L2_TABLES 0

/* Where the boot script loads the image (2 MiB aligned + text_offset, so
 * booti need not move it), and the tree it hands over: the board's tree from the boot partition. */
#define PLAT_HV_LOAD_ADDR 0x84080000UL
#define PLAT_BOOT_SCRIPT_FDT "${cshyper_load} ${fdt_addr_r} ${fdtfile}\nsetenv cshyper_fdt ${fdt_addr_r}\n"

#define PLAT_MIN_RAM (256UL << 20)
#define PLAT_MIN_CPUS 2

#endif
