/* Routing of physical interrupts taken at EL2 to their handlers. */
#ifndef CORE_IRQ_H
#define CORE_IRQ_H

#include <stdbool.h>
#include <stdint.h>

/* Software-generated interrupts the hypervisor uses between cores. */
#define SGI_PING 1
#define SGI_PONG 2
#define SGI_WORK 3

enum irq_result {
	IRQ_HANDLED,   /* done: the hypervisor deactivates it */
	IRQ_FORWARDED, /* given to a guest, whose EOI deactivates it */
};

typedef enum irq_result (*irq_handler_t)(uint32_t intid);

int irq_register(uint32_t intid, irq_handler_t handler);
void irq_unregister(uint32_t intid);
bool irq_is_registered(uint32_t intid);
/* The board's GIC, as its device tree describes it, for the driver. */
struct gic_desc;
void irq_board_gic(struct gic_desc *desc);
/* Acknowledges and runs every pending interrupt (vector IRQ entry). */
void irq_handle_pending(void);

#endif
