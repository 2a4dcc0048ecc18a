/*
 * PL011 registers (Arm DDI 0183G, 3.2). The boot loader or QEMU has already
 * set the baud rate; the hypervisor keeps it and only adds the RX interrupt.
 */
#include <drivers/pl011.h>

#define UARTDR 0x00
#define UARTFR 0x18
#define UARTCR 0x30
#define UARTIMSC 0x38
#define UARTICR 0x44

#define FR_RXFE (1U << 4)
#define FR_TXFF (1U << 5)
#define IMSC_RXIM (1U << 4)
#define IMSC_RTIM (1U << 6)
#define CR_UARTEN (1U << 0)
#define CR_TXE (1U << 8)
#define CR_RXE (1U << 9)

static inline volatile uint32_t *reg(uint64_t base, unsigned off)
{
	return (volatile uint32_t *)(base + off);
}

void pl011_putc(uint64_t base, char c)
{
	while (*reg(base, UARTFR) & FR_TXFF)
		;
	*reg(base, UARTDR) = (uint8_t)c;
}

bool pl011_rx_ready(uint64_t base)
{
	return !(*reg(base, UARTFR) & FR_RXFE);
}

char pl011_getc(uint64_t base)
{
	return (char)(*reg(base, UARTDR) & 0xff);
}

void pl011_enable_rx_irq(uint64_t base)
{
	*reg(base, UARTCR) |= CR_UARTEN | CR_TXE | CR_RXE;
	*reg(base, UARTICR) = IMSC_RXIM | IMSC_RTIM;
	*reg(base, UARTIMSC) |= IMSC_RXIM | IMSC_RTIM;
}
