/* Forget one board's platform.h before the next (no guard: see plat/desc.h). */
#undef PLAT_PLATFORM_H
#undef PLAT_NAME
#undef PLAT_UART_PL011
#undef PLAT_UART_NS16550
#undef PLAT_UART_REG_SHIFT
#undef PLAT_UART_IO_WIDTH
#undef PLAT_EARLY_UART_BASE
#undef PLAT_RAM_WINDOW_BASE
#undef PLAT_RAM_WINDOW_SIZE
#undef PLAT_MEMORY_MAP
#undef PLAT_MAP_L2_TABLES
#undef PLAT_MIN_RAM
#undef PLAT_MIN_CPUS
#undef PLAT_GICV2_DEACTIVATE_ON_EOI_MAINTENANCE
#undef PLAT_HV_LOAD_ADDR
#undef PLAT_BOOT_SCRIPT_FDT
