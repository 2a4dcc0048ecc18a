/*
 * Console on the board's UART, through the platform's driver
 * (drivers/uart.h). Output is polled (the UART FIFO is the only buffer, so a
 * message printed before a hang is never lost); input arrives by interrupt
 * into a small ring that the shell reads.
 */
#include <arch/gic.h>
#include <core/console.h>
#include <core/irq.h>
#include <core/state.h>
#include <drivers/uart.h>

#define PANIC_LOCK_SPINS 2000000UL

void console_init(uint64_t uart_base)
{
	struct console *con = &hv.console;

	con->uart_base = uart_base;
	con->rx_head = con->rx_tail = 0;
}

void console_write_raw(const char *s, size_t len)
{
	uint64_t base = hv.console.uart_base;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc(base, '\r');
		uart_putc(base, s[i]);
	}
}

void console_write(const char *s, size_t len)
{
	uint64_t flags = irq_save();

	spin_lock(&hv.console.lock);
	console_write_raw(s, len);
	spin_unlock(&hv.console.lock);
	irq_restore(flags);
}

bool console_lock_timeout(void)
{
	return spin_lock_timeout(&hv.console.lock, PANIC_LOCK_SPINS);
}

void console_unlock(void)
{
	spin_unlock(&hv.console.lock);
}

void console_rx_poll(void)
{
	struct console *con = &hv.console;

	while (uart_rx_ready(con->uart_base)) {
		char c = uart_getc(con->uart_base);
		uint32_t next = (con->rx_head + 1) & (CONSOLE_RX_SIZE - 1);

		if (next == con->rx_tail)
			continue; /* full: drop, the user will see it was not echoed */
		con->rx[con->rx_head] = c;
		__atomic_store_n(&con->rx_head, next, __ATOMIC_RELEASE);
	}
}

bool console_has_input(void)
{
	return __atomic_load_n(&hv.console.rx_head, __ATOMIC_ACQUIRE) !=
	       hv.console.rx_tail;
}

int console_getc(void)
{
	struct console *con = &hv.console;
	char c;

	if (!console_has_input())
		return -1;
	c = con->rx[con->rx_tail];
	con->rx_tail = (con->rx_tail + 1) & (CONSOLE_RX_SIZE - 1);
	return (unsigned char)c;
}

static enum irq_result console_irq(uint32_t intid)
{
	(void)intid;
	console_rx_poll();
	return IRQ_HANDLED;
}

void console_register_irq(void)
{
	/* Not once the MVM has the UART's interrupt (mvm.c gives it away). */
	if (hv.board.uart.base == hv.console.uart_base && hv.board.uart.intid &&
	    !hv.irq_owner[hv.board.uart.intid])
		irq_register(hv.board.uart.intid, console_irq);
}

void console_enable_rx_irq(uint32_t intid, unsigned cpu)
{
	uart_enable_rx_irq(hv.console.uart_base);
	gic_enable(intid, cpu);
}
