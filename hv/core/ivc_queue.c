/* IVC message queue and keep-alive arithmetic: pure (see core/ivc_queue.h). */
#include <core/ivc_queue.h>
#include <lib/string.h>
#include <shyper/errno.h>

int ivc_queue_push(struct ivc_queue *q, uint32_t sender, const void *data, size_t len)
{
	struct ivc_msg *m;

	if (!len || len > SHYPER_IVC_MSG_MAX)
		return -SHYPER_EINVAL;
	if (q->count == SHYPER_IVC_QUEUE_LEN)
		return -SHYPER_EAGAIN; /* never block, never drop */
	m = &q->msg[(q->head + q->count) % SHYPER_IVC_QUEUE_LEN];
	m->sender = sender;
	m->len = (uint32_t)len;
	memcpy(m->data, data, len);
	q->count++;
	return 0;
}

const struct ivc_msg *ivc_queue_peek(const struct ivc_queue *q)
{
	return q->count ? &q->msg[q->head] : 0;
}

bool ivc_queue_pop(struct ivc_queue *q)
{
	if (!q->count)
		return false;
	/* What was read must not linger for a later owner of the slot. */
	memset(&q->msg[q->head], 0, sizeof(q->msg[q->head]));
	q->head = (q->head + 1) % SHYPER_IVC_QUEUE_LEN;
	q->count--;
	return true;
}

void ivc_queue_clear(struct ivc_queue *q)
{
	memset(q, 0, sizeof(*q));
}

int ivc_ka_register(struct ivc_keepalive *ka, uint32_t period_ms, bool restart,
		    uint64_t now, uint64_t freq)
{
	if (!period_ms) {
		*ka = (struct ivc_keepalive){ 0 };
		return 0;
	}
	if (period_ms < SHYPER_IVC_PERIOD_MIN_MS || period_ms > SHYPER_IVC_PERIOD_MAX_MS ||
	    !freq)
		return -SHYPER_EINVAL;
	*ka = (struct ivc_keepalive){
		.period_ms = period_ms,
		.restart = restart,
		.period_ticks = freq / 1000 * period_ms,
		.last_beat = now,
	};
	return 0;
}

uint64_t ivc_ka_deadline(const struct ivc_keepalive *ka)
{
	return ka->last_beat + ka->period_ticks;
}

bool ivc_ka_overdue(const struct ivc_keepalive *ka, uint64_t now)
{
	return ka->period_ms && !ka->missed && now > ivc_ka_deadline(ka);
}

bool ivc_ka_beat(struct ivc_keepalive *ka, uint64_t now)
{
	bool was_missed = ka->missed;

	ka->last_beat = now;
	ka->missed = false;
	return was_missed;
}
