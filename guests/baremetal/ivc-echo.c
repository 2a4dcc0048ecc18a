/*
 * ivc-echo: the bare-metal end of the IVC tests. It registers keep-alive
 * (200 ms, restart on a miss) and heart-beats every 50 ms, answers every
 * message with the same bytes, and understands a few commands:
 *   "stop-heartbeat"  stops heart-beating (a keep-alive miss follows)
 *   "shm-sum"         FNV-1a of the first 4 KiB of its first channel, written
 *                     as 8 hex digits at offset 4096 and sent back
 *   "probe <hex>"     one load from that address: "probe faulted" or the value
 *   "broadcast"       sends "hello-all" to every VM it has a channel with
 */
#include "bm.h"
#include "ivc.h"

#include <shyper/errno.h>

const char bm_name[] = "ivc-echo";

#define KA_PERIOD_MS 200
#define BEAT_MS 50
#define SUM_LEN 4096

static uint8_t msg[SHYPER_IVC_MSG_MAX] __attribute__((aligned(16)));
static uint8_t reply[SHYPER_IVC_MSG_MAX] __attribute__((aligned(16)));
static struct shyper_ivc_channel chan __attribute__((aligned(16)));

static bool is(const uint8_t *m, size_t len, const char *word)
{
	size_t i;

	for (i = 0; i < len && word[i]; i++)
		if (m[i] != (uint8_t)word[i])
			return false;
	return !word[i] && (i == len || m[i] == ' ');
}

static size_t put_hex(uint8_t *out, uint64_t v, unsigned digits)
{
	for (unsigned i = 0; i < digits; i++)
		out[i] = (uint8_t)"0123456789abcdef"[(v >> (4 * (digits - 1 - i))) & 0xf];
	return digits;
}

static size_t put_str(uint8_t *out, const char *s)
{
	size_t n = 0;

	while (s[n]) {
		out[n] = (uint8_t)s[n];
		n++;
	}
	return n;
}

static uint64_t parse_hex(const uint8_t *s, size_t len)
{
	uint64_t v = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = s[i];

		if (c == 'x' || c == 'X')
			v = 0;
		else if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
	}
	return v;
}

static size_t shm_sum(void)
{
	volatile uint8_t *shm = (volatile uint8_t *)chan.ipa;
	uint32_t h = 2166136261U;
	size_t n;

	if (!chan.length || chan.length < 2 * SUM_LEN)
		return put_str(reply, "shm-sum no-channel");
	for (size_t i = 0; i < SUM_LEN; i++)
		h = (h ^ shm[i]) * 16777619U;
	for (unsigned i = 0; i < 8; i++)
		shm[SUM_LEN + i] = (uint8_t)"0123456789abcdef"[(h >> (28 - 4 * i)) & 0xf];
	n = put_str(reply, "shm-sum ");
	return n + put_hex(reply + n, h, 8);
}

static size_t probe(size_t len)
{
	uint64_t addr = parse_hex(msg + 6, len - 6), v;
	size_t n;

	v = bm_probe_load(addr & ~7UL, 0x5a5a5a5a5a5a5a5aUL);
	if (bm_fault_result().taken)
		return put_str(reply, "probe faulted");
	n = put_str(reply, "probe read ");
	return n + put_hex(reply + n, v, 16);
}

static void handle(uint32_t sender, size_t len, bool *beating)
{
	size_t n = len;
	uint32_t count;
	int r;

	if (is(msg, len, "stop-heartbeat")) {
		*beating = false;
		bm_printf("%s: heartbeat stopped\n", bm_name);
		return;
	}
	if (is(msg, len, "shm-sum")) {
		n = shm_sum();
	} else if (is(msg, len, "probe") && len > 6) {
		bm_fault_expect();
		n = probe(len);
	} else if (is(msg, len, "broadcast")) {
		r = ivc_broadcast("hello-all", 9, &count);
		bm_printf("%s: broadcast: %d, %u VM(s)\n", bm_name, r, count);
		return;
	} else {
		for (size_t i = 0; i < len; i++)
			reply[i] = msg[i];
	}
	r = ivc_send(sender, reply, n);
	if (r)
		bm_printf("%s: reply to vm%u failed (%d)\n", bm_name, sender, r);
}

int main(void);
int main(void)
{
	uint64_t now, freq, next_beat;
	bool beating = true;
	int r;

	if (ivc_channel_info(0, &chan))
		chan.length = 0;
	r = ivc_keepalive(KA_PERIOD_MS, 1);
	ivc_time(&now, &freq);
	bm_printf("%s: started, channel %s at 0x%lx (%lu KiB), keep-alive %d ms (%d), "
		  "counter %lu Hz\n", bm_name, chan.length ? chan.name : "-", chan.ipa,
		  chan.length >> 10, KA_PERIOD_MS, r, freq);
	next_beat = now;
	for (;;) {
		uint32_t sender;
		size_t len;

		ivc_time(&now, &freq);
		if (beating && now >= next_beat) {
			ivc_heartbeat();
			next_beat = now + freq / 1000 * BEAT_MS;
		}
		r = ivc_recv(msg, sizeof(msg), &sender, &len);
		if (r == -SHYPER_EAGAIN)
			continue;
		if (r) {
			bm_printf("%s: recv failed (%d)\n", bm_name, r);
			bm_system_off();
		}
		/* At least once: answered first, acknowledged after. */
		handle(sender, len, &beating);
		ivc_ack();
	}
}
