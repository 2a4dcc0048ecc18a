/*
 * The bounded message queue of one VM (IVC): pure code, no locking (the
 * caller holds hv.ivc.lock), unit-tested on the host. Delivery is at least
 * once: a receiver reads the head (ivc_queue_peek) and only then drops it
 * (ivc_queue_pop), so a receiver that dies between the two reads it again.
 */
#ifndef CORE_IVC_QUEUE_H
#define CORE_IVC_QUEUE_H

#include <shyper/ivc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ivc_msg {
	uint32_t sender;
	uint32_t len;
	uint8_t data[SHYPER_IVC_MSG_MAX];
};

struct ivc_queue {
	uint32_t head, count;
	struct ivc_msg msg[SHYPER_IVC_QUEUE_LEN];
};

/* 0, -SHYPER_EINVAL (empty or too long), -SHYPER_EAGAIN (full). */
int ivc_queue_push(struct ivc_queue *q, uint32_t sender, const void *data, size_t len);
/* The oldest message, or NULL when empty. */
const struct ivc_msg *ivc_queue_peek(const struct ivc_queue *q);
/* Drops the oldest message; false when empty. */
bool ivc_queue_pop(struct ivc_queue *q);
void ivc_queue_clear(struct ivc_queue *q);

/* Keep-alive arithmetic, in counter ticks. */
struct ivc_keepalive {
	uint32_t period_ms; /* 0: not registered */
	bool restart;
	bool missed;	    /* reported; cleared by the next heartbeat */
	uint64_t period_ticks;
	uint64_t last_beat;
};

/* Registration (period 0 unregisters); -SHYPER_EINVAL outside the limits. */
int ivc_ka_register(struct ivc_keepalive *ka, uint32_t period_ms, bool restart,
		    uint64_t now, uint64_t freq);
/* True when registered, not yet reported and more than a period late. */
bool ivc_ka_overdue(const struct ivc_keepalive *ka, uint64_t now);
/* When it becomes overdue (only meaningful if registered and not missed). */
uint64_t ivc_ka_deadline(const struct ivc_keepalive *ka);
/* A heartbeat: returns true if it ends a reported miss. */
bool ivc_ka_beat(struct ivc_keepalive *ka, uint64_t now);

#endif
