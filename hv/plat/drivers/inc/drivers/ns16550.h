/*
 * 16550-compatible UARTs (the RPi4's mini UART, Tegra's UARTs, the
 * DesignWare APB UART of the RK3588): polled output, interrupt-driven
 * input. Registers are (1 << shift) bytes apart and io_width bytes wide,
 * the device tree's reg-shift and reg-io-width.
 */
#ifndef DRIVERS_NS16550_H
#define DRIVERS_NS16550_H

#include <stdbool.h>
#include <stdint.h>

struct ns16550 {
	uint64_t base;
	unsigned shift;
	unsigned io_width; /* 1, 2 or 4 */
};

void ns16550_putc(const struct ns16550 *u, char c);
bool ns16550_rx_ready(const struct ns16550 *u);
char ns16550_getc(const struct ns16550 *u);
/* Raise the UART interrupt when a byte arrives (receive data available). */
void ns16550_enable_rx_irq(const struct ns16550 *u);

#endif
