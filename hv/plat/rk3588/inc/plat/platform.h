/*
 * RK3588 and RK3588S boards (checked against the Radxa ROCK 5A's tree, the
 * upstream board closest to Firefly's ROC-RK3588S-PC), booted by Rockchip's
 * TPL/SPL, TF-A's BL31 (PSCI) and U-Boot (docs/BOARDS.md).
 */
#ifndef PLAT_PLATFORM_H
#define PLAT_PLATFORM_H

#define PLAT_NAME "rk3588"

/* UART2, the debug console (1 500 000 baud): a DesignWare APB UART,
 * 32-bit registers 4 bytes apart. */
#define PLAT_UART_NS16550 1
#define PLAT_UART_REG_SHIFT 2
#define PLAT_UART_IO_WIDTH 4
#define PLAT_EARLY_UART_BASE 0xfeb50000UL

/* RAM from 0 (TF-A keeps the first 2 MiB) up to 16 GiB. */
#define PLAT_RAM_WINDOW_BASE 0x0UL
#define PLAT_RAM_WINDOW_SIZE (16UL << 30)

/* TF-A's first 2 MiB are left unmapped (secure memory must not be reached
 * even speculatively), the I/O window 0xf0000000-4 GiB shares the fourth
 * GiB with RAM (2 MiB blocks there too); PCIe is at 0xa00000000. */
#define PLAT_MEMORY_MAP { \
	{ 0x200000UL, PLAT_RAM_WINDOW_SIZE - 0x200000UL, PLAT_MAP_NORMAL }, \
	{ 0xf0000000UL, 0x10000000UL, PLAT_MAP_DEVICE }, \
	{ 0xa00000000UL, 0x80000000UL, PLAT_MAP_DEVICE }, \
}
#define PLAT_MAP_L2_TABLES 2

/* Where the boot script loads the image (2 MiB aligned + text_offset, so
 * booti need not move it), and the tree it hands over: the board's tree from the boot partition. */
#define PLAT_HV_LOAD_ADDR 0x02080000UL
#define PLAT_BOOT_SCRIPT_FDT "${cshyper_load} ${fdt_addr_r} ${fdtfile}\nsetenv cshyper_fdt ${fdt_addr_r}\n"

#define PLAT_MIN_RAM (256UL << 20)
#define PLAT_MIN_CPUS 2

#endif
