/*
 * libFuzzer harness for the IVC message queue and keep-alive arithmetic
 * (hv/core/ivc_queue.c), checked against a model.
 *
 * The queue lives in hypervisor memory (struct vm_ivc), not in memory a
 * guest shares: what a guest controls is what reaches these calls through
 * the IVC hypercalls (hv/core/ivc.c): message lengths (any 64-bit value)
 * and bytes, senders, the order of send/broadcast, recv (peek) and ack
 * (pop), the VM stopping (clear), and the keep-alive period, restart flag
 * and the timing of heartbeats. So the input is a sequence of those
 * operations, run against a queue that is its own heap block of exactly
 * its size (ASan reports any access outside it) and a plain model FIFO.
 * After every operation: head and count are in range and count is the
 * model's; each queued slot holds exactly what the model says (sender,
 * length <= SHYPER_IVC_MSG_MAX, bytes); every other slot is all zero (what
 * was read does not linger); peek returns the model's head, inside the
 * queue. A push reads exactly len bytes of a buffer of exactly len bytes,
 * and none of a refused one (its buffer is 1 byte).
 *
 * Input layout:
 *   0      the queue's starting head (mod SHYPER_IVC_QUEUE_LEN), as after
 *          that many messages came and went, so wrap-around is reached
 *   1-     operations, each an opcode byte (low 3 bits) and its operands:
 *            0 push    sender (1 byte), len (2 bytes LE; opcode bit 3: a
 *                      64-bit length far beyond the limit instead), then
 *                      the message bytes (zero past the input's end)
 *            1 peek    (ivc recv), twice: the same message both times
 *            2 pop     (ivc ack)
 *            3 clear   (the VM stopped)
 *            4 fill    pushes valid messages until the queue is full
 *            5 ka_register   period (4 bytes; top bit set: folded to
 *                      around the limits), restart (opcode bit 3), now
 *                      (8 bytes), freq (8 bytes)
 *            6 ka_overdue, then (as ivc_timer_irq) missed, then ka_beat
 *                      now (8 bytes)
 *            7 drain   peeks and pops until empty
 *
 * fuzz-sources: hv/core/ivc_queue.c
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <core/ivc_queue.h>
#include <shyper/errno.h>
#include <shyper/ivc.h>

#define QLEN SHYPER_IVC_QUEUE_LEN
/*
 * The counter and its frequency come from the hardware, not the guest:
 * kept where a real one is (below 2^62 ticks, below 1 THz), so deadlines
 * do not wrap. (At 1 GHz a 64-bit counter wraps after 584 years.)
 */
#define NOW_MASK ((1ull << 62) - 1)
#define FREQ_MASK ((1ull << 40) - 1)

struct model_msg {
	uint32_t sender, len;
	uint8_t data[SHYPER_IVC_MSG_MAX];
};

struct model {
	unsigned head, count; /* of the model's own ring, independent of q's */
	struct model_msg msg[QLEN];
};

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t take8(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)take8(in) << (8 * i);
	return v;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* The queue holds exactly the model's messages, in order, and nothing else. */
static void check_queue(const struct ivc_queue *q, const struct model *m)
{
	bool live[QLEN] = { false };

	if (q->head >= QLEN || q->count > QLEN || q->count != m->count)
		abort();
	for (unsigned i = 0; i < q->count; i++) {
		const struct ivc_msg *s = &q->msg[(q->head + i) % QLEN];
		const struct model_msg *want = &m->msg[(m->head + i) % QLEN];

		live[(q->head + i) % QLEN] = true;
		if (s->sender != want->sender || s->len != want->len || !s->len ||
		    s->len > SHYPER_IVC_MSG_MAX || memcmp(s->data, want->data, s->len) ||
		    !all_zero(s->data + s->len, SHYPER_IVC_MSG_MAX - s->len))
			abort();
	}
	for (unsigned i = 0; i < QLEN; i++)
		if (!live[i] && !all_zero(&q->msg[i], sizeof(q->msg[i])))
			abort();
}

/* The guest's buffer: exactly len bytes on the heap (1 when refused). */
static int push(struct ivc_queue *q, struct model *m, uint32_t sender, const void *src,
		size_t len)
{
	bool ok = len && len <= SHYPER_IVC_MSG_MAX;
	uint8_t *buf = malloc(ok ? len : 1);
	int ret, want;

	if (!buf)
		abort();
	if (ok)
		memcpy(buf, src, len);
	else
		buf[0] = 0x5a;
	want = !ok ? -SHYPER_EINVAL : m->count == QLEN ? -SHYPER_EAGAIN : 0;
	ret = ivc_queue_push(q, sender, buf, len);
	free(buf);
	if (ret != want)
		abort();
	if (!ret) {
		struct model_msg *n = &m->msg[(m->head + m->count) % QLEN];

		n->sender = sender;
		n->len = (uint32_t)len;
		memcpy(n->data, src, len);
		m->count++;
	}
	return ret;
}

static void peek(const struct ivc_queue *q, const struct model *m)
{
	const struct ivc_msg *a = ivc_queue_peek(q), *b = ivc_queue_peek(q);

	if (a != b)
		abort();
	if (!m->count) {
		if (a)
			abort();
		return;
	}
	if (!a || a < &q->msg[0] || a >= &q->msg[QLEN] || a != &q->msg[q->head])
		abort();
	if (a->sender != m->msg[m->head].sender || a->len != m->msg[m->head].len ||
	    a->len > SHYPER_IVC_MSG_MAX || memcmp(a->data, m->msg[m->head].data, a->len))
		abort();
}

static void pop(struct ivc_queue *q, struct model *m)
{
	unsigned slot = q->head;

	if (ivc_queue_pop(q) != (m->count != 0))
		abort();
	if (!m->count)
		return;
	if (!all_zero(&q->msg[slot], sizeof(q->msg[slot])))
		abort();
	m->head = (m->head + 1) % QLEN;
	m->count--;
}

static void keepalive_register(struct ivc_keepalive *ka, struct input *in, bool restart)
{
	uint32_t period = (uint32_t)take(in, 4);
	uint64_t now = take(in, 8) & NOW_MASK, freq = take(in, 8) & FREQ_MASK;
	struct ivc_keepalive before = *ka;
	bool valid;
	int ret;

	/* Both extremes matter, and the counter's usual range too. */
	if (period & 0x80000000u)
		period = SHYPER_IVC_PERIOD_MIN_MS + period % (SHYPER_IVC_PERIOD_MAX_MS + 10);
	valid = !period || (period >= SHYPER_IVC_PERIOD_MIN_MS &&
			    period <= SHYPER_IVC_PERIOD_MAX_MS && freq);
	ret = ivc_ka_register(ka, period, restart, now, freq);
	if (ret != (valid ? 0 : -SHYPER_EINVAL))
		abort();
	if (ret) {
		if (memcmp(&before, ka, sizeof(*ka)))
			abort(); /* a refused registration changes nothing */
		return;
	}
	if (!period) {
		if (ka->period_ms || ka->missed || ka->period_ticks || ka->last_beat ||
		    ka->restart || ivc_ka_overdue(ka, UINT64_MAX))
			abort();
		return;
	}
	if (ka->period_ms != period || ka->restart != restart || ka->missed ||
	    ka->last_beat != now || ka->period_ticks != freq / 1000 * period ||
	    ivc_ka_deadline(ka) != now + ka->period_ticks)
		abort();
	/* Not overdue at its own start, nor at the deadline itself. */
	if (ivc_ka_overdue(ka, now) || ivc_ka_overdue(ka, ivc_ka_deadline(ka)))
		abort();
}

static void keepalive_beat(struct ivc_keepalive *ka, struct input *in)
{
	uint64_t now = take(in, 8) & NOW_MASK;
	bool overdue = ivc_ka_overdue(ka, now), was_missed = ka->missed;
	uint64_t deadline = ivc_ka_deadline(ka);

	if (overdue && (!ka->period_ms || ka->missed || now <= deadline))
		abort();
	if (ka->period_ms && !ka->missed && now > deadline && !overdue)
		abort();
	if (overdue) {
		ka->missed = true; /* what ivc_timer_irq does: reported once */
		if (ivc_ka_overdue(ka, now) || ivc_ka_overdue(ka, UINT64_MAX))
			abort();
		was_missed = true;
	}
	if (!ka->period_ms)
		return; /* ivc_heartbeat refuses it */
	if (ivc_ka_beat(ka, now) != was_missed || ka->missed || ka->last_beat != now)
		abort();
	if (ivc_ka_overdue(ka, now))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct ivc_queue *q;
	struct model *m;
	struct ivc_keepalive ka = { 0 };
	unsigned ops = 0;

	if (!size)
		return 0;
	q = malloc(sizeof(*q));
	m = calloc(1, sizeof(*m));
	if (!q || !m)
		abort();
	ivc_queue_clear(q);
	if (!all_zero(q, sizeof(*q)))
		abort();
	q->head = take8(&in) % QLEN; /* the state after that many came and went */
	m->head = 0;
	check_queue(q, m);

	while (in.left && ops++ < 4096) {
		uint8_t op = take8(&in);

		switch (op & 7) {
		case 0: {
			uint8_t msg[SHYPER_IVC_MSG_MAX] = { 0 };
			uint32_t sender = take8(&in);
			size_t len = (size_t)take(&in, 2);

			if (op & 8)
				len = (size_t)1 << (32 + (op >> 4)); /* up to 2^47 */
			else
				len %= 2 * SHYPER_IVC_MSG_MAX;
			for (size_t i = 0; i < len && i < sizeof(msg); i++)
				msg[i] = take8(&in);
			push(q, m, sender, msg, len);
			break;
		}
		case 1:
			peek(q, m);
			break;
		case 2:
			pop(q, m);
			break;
		case 3:
			ivc_queue_clear(q);
			if (!all_zero(q, sizeof(*q)))
				abort();
			m->head = m->count = 0;
			break;
		case 4: {
			uint8_t msg[SHYPER_IVC_MSG_MAX];
			unsigned n = 0;

			while (m->count < QLEN) {
				size_t len = 1 + (op + 37u * n) % SHYPER_IVC_MSG_MAX;

				memset(msg, (int)(op ^ n), len);
				if (push(q, m, op >> 3, msg, len))
					abort();
				n++;
			}
			/* Full: refused, never dropped or overwritten. */
			if (push(q, m, 1, msg, 1) != -SHYPER_EAGAIN)
				abort();
			break;
		}
		case 5:
			keepalive_register(&ka, &in, op & 8);
			break;
		case 6:
			keepalive_beat(&ka, &in);
			break;
		case 7:
			while (m->count) {
				peek(q, m);
				pop(q, m);
			}
			pop(q, m);
			peek(q, m);
			break;
		}
		check_queue(q, m);
	}
	free(q);
	free(m);
	return 0;
}
