/* The UART fields a PL011 board's platform.h leaves out (no guard: once
 * per board, see plat/desc.h). */
#ifndef PLAT_UART_NS16550
#define PLAT_UART_NS16550 0
#define PLAT_UART_REG_SHIFT 0
#define PLAT_UART_IO_WIDTH 4
#endif
