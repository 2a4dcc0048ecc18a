/*
 * 16550 registers (the PC16550D data sheet; the BCM2711 mini UART, Tegra and
 * DesignWare UARTs keep this layout). The boot loader has set the baud
 * rate and line format; the hypervisor keeps them and only adds the
 * receive interrupt.
 */
#include <drivers/ns16550.h>

#define UART_RBR 0 /* read */
#define UART_THR 0 /* write */
#define UART_IER 1
#define UART_LSR 5

#define IER_RDI 0x01U  /* receive data available */
#define LSR_DR 0x01U   /* a byte is waiting */
#define LSR_THRE 0x20U /* the transmit holding register (or FIFO) has room */

static uint32_t rd(const struct ns16550 *u, unsigned reg)
{
	uint64_t a = u->base + ((uint64_t)reg << u->shift);

	if (u->io_width == 4)
		return *(volatile uint32_t *)a;
	if (u->io_width == 2)
		return *(volatile uint16_t *)a;
	return *(volatile uint8_t *)a;
}

static void wr(const struct ns16550 *u, unsigned reg, uint32_t v)
{
	uint64_t a = u->base + ((uint64_t)reg << u->shift);

	if (u->io_width == 4)
		*(volatile uint32_t *)a = v;
	else if (u->io_width == 2)
		*(volatile uint16_t *)a = (uint16_t)v;
	else
		*(volatile uint8_t *)a = (uint8_t)v;
}

void ns16550_putc(const struct ns16550 *u, char c)
{
	while (!(rd(u, UART_LSR) & LSR_THRE))
		;
	wr(u, UART_THR, (uint8_t)c);
}

bool ns16550_rx_ready(const struct ns16550 *u)
{
	return rd(u, UART_LSR) & LSR_DR;
}

char ns16550_getc(const struct ns16550 *u)
{
	return (char)(rd(u, UART_RBR) & 0xff);
}

void ns16550_enable_rx_irq(const struct ns16550 *u)
{
	wr(u, UART_IER, rd(u, UART_IER) | IER_RDI);
}
