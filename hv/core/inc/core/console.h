/* The hypervisor console: output on the board UART, buffered input from it. */
#ifndef CORE_CONSOLE_H
#define CORE_CONSOLE_H

#include <arch/spinlock.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_RX_SIZE 256 /* power of two */

struct console {
	uint64_t uart_base;
	spinlock_t lock;
	volatile uint32_t rx_head, rx_tail;
	char rx[CONSOLE_RX_SIZE];
};

void console_init(uint64_t uart_base);
/* Writes without the lock: only for panics, when the owner may be dead. */
void console_write_raw(const char *s, size_t len);
void console_write(const char *s, size_t len);
bool console_lock_timeout(void);
void console_unlock(void);
/* Moves received bytes from the UART into the buffer (IRQ handler). */
void console_rx_poll(void);
int console_getc(void); /* -1 when nothing is buffered */
bool console_has_input(void);
/* Its receive interrupt, when the console is the board UART that has one
 * and no VM owns that interrupt. */
void console_register_irq(void);
void console_enable_rx_irq(uint32_t intid, unsigned cpu);

#endif
