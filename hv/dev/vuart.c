/*
 * PL011 registers (Arm DDI 0183G, 3.2) as far as Linux's amba-pl011 driver
 * and earlycon use them. Transmit never fills; receive is always empty.
 */
#include <core/log.h>
#include <core/vm.h>
#include <dev/vuart.h>
#include <shyper/errno.h>

#define UARTDR 0x000
#define UARTFR 0x018
#define UART_PERIPH_ID0 0xfe0
#define UART_ID_END 0x1000
#define FR_RXFE (1U << 4)
#define FR_TXFE (1U << 7)

/* PeriphID0-3 then PCellID0-3 (DDI 0183G 3.3.14): a PL011 revision r1p5. */
static const uint8_t id_regs[8] = { 0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

static void flush_line(struct vm *vm)
{
	vm->uart.line[vm->uart.len] = 0;
	con_printf("[vm%u] %s\n", vm->id, vm->uart.line);
	vm->uart.len = 0;
}

static void put_char(struct vm *vm, char c)
{
	if (c == '\r')
		return;
	if (c == '\n') {
		flush_line(vm);
		return;
	}
	if (c == '\t' || (c >= ' ' && c < 0x7f))
		vm->uart.line[vm->uart.len++] = c;
	if (vm->uart.len == sizeof(vm->uart.line) - 1)
		flush_line(vm);
}

int vuart_access(struct vcpu *vcpu, struct mmio_access *acc, uint64_t offset,
		 void *priv)
{
	struct vm *vm = vcpu->vm;
	(void)priv;

	if (acc->size > 4)
		return -SHYPER_EINVAL;
	if (acc->write) {
		if (offset == UARTDR) {
			spin_lock(&vm->lock);
			put_char(vm, (char)(acc->value & 0xff));
			spin_unlock(&vm->lock);
		}
		return 0; /* control registers: accepted, nothing to program */
	}
	if (offset == UARTFR)
		acc->value = FR_TXFE | FR_RXFE;
	else if (offset >= UART_PERIPH_ID0 && offset < UART_ID_END && !(offset & 3))
		acc->value = id_regs[(offset - UART_PERIPH_ID0) / 4];
	else
		acc->value = 0;
	return 0;
}
