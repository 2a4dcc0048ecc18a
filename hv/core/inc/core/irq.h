/* Routing of physical interrupts taken at EL2 to their handlers. */
#ifndef CORE_IRQ_H
#define CORE_IRQ_H

#include <stdint.h>

/* Software-generated interrupts the hypervisor uses between cores. */
#define SGI_PING 1
#define SGI_PONG 2
#define SGI_WORK 3

typedef void (*irq_handler_t)(uint32_t intid);

int irq_register(uint32_t intid, irq_handler_t handler);
/* Acknowledges and runs every pending interrupt (vector IRQ entry). */
void irq_handle_pending(void);

#endif
