/* Events for the management VM (VM state changes), fetched with SYS_NOTIFY. */
#ifndef CORE_EVENT_H
#define CORE_EVENT_H

#include <arch/spinlock.h>
#include <core/mvm_notify.h>
#include <stdbool.h>
#include <stdint.h>

#define EVENT_QUEUE_LEN 32

struct event {
	uint32_t type, vm, state;
};

struct event_queue {
	spinlock_t lock;
	uint32_t head, count;
	uint32_t dropped;
	struct event ev[EVENT_QUEUE_LEN];
};

/* Queues an event (the oldest goes when full) and interrupts the MVM. */
void event_post(uint32_t type, uint32_t vm, uint32_t state);
bool event_pop(struct event *out);

#endif
