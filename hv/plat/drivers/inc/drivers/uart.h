/*
 * The board's console UART, driven by the driver its platform.h names
 * (PLAT_UART_PL011 or PLAT_UART_NS16550 with its register layout): chosen
 * when the image is built, so the first message needs nothing parsed.
 */
#ifndef DRIVERS_UART_H
#define DRIVERS_UART_H

#include <plat/platform.h>
#include <stdbool.h>
#include <stdint.h>

#if defined(PLAT_UART_NS16550)
#include <drivers/ns16550.h>

#define UART_DEV(b) (&(const struct ns16550){ (b), PLAT_UART_REG_SHIFT, PLAT_UART_IO_WIDTH })

static inline void uart_putc(uint64_t base, char c) { ns16550_putc(UART_DEV(base), c); }
static inline bool uart_rx_ready(uint64_t base) { return ns16550_rx_ready(UART_DEV(base)); }
static inline char uart_getc(uint64_t base) { return ns16550_getc(UART_DEV(base)); }
static inline void uart_enable_rx_irq(uint64_t base) { ns16550_enable_rx_irq(UART_DEV(base)); }

#elif defined(PLAT_UART_PL011)
#include <drivers/pl011.h>

static inline void uart_putc(uint64_t base, char c) { pl011_putc(base, c); }
static inline bool uart_rx_ready(uint64_t base) { return pl011_rx_ready(base); }
static inline char uart_getc(uint64_t base) { return pl011_getc(base); }
static inline void uart_enable_rx_irq(uint64_t base) { pl011_enable_rx_irq(base); }

#else
#error "platform.h names no console UART driver (PLAT_UART_PL011 or PLAT_UART_NS16550)"
#endif

#endif
