/* Arm PrimeCell UART (PL011), polled output and interrupt-driven input. */
#ifndef DRIVERS_PL011_H
#define DRIVERS_PL011_H

#include <stdbool.h>
#include <stdint.h>

void pl011_putc(uint64_t base, char c);
bool pl011_rx_ready(uint64_t base);
char pl011_getc(uint64_t base);
/* Raise the UART interrupt when bytes arrive (receive and receive timeout). */
void pl011_enable_rx_irq(uint64_t base);

#endif
