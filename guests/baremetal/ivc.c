/* IVC hypercall wrappers for bare-metal guests (ivc.h). */
#include "ivc.h"

#include "bm.h"

static int status(struct bm_smccc_res r)
{
	return (int)(int64_t)r.x0;
}

int ivc_send(uint32_t vm, const void *buf, size_t len)
{
	return status(bm_hvc(SHYPER_IVC_SEND, vm, (uint64_t)buf, len, 0, 0, 0));
}

int ivc_broadcast(const void *buf, size_t len, uint32_t *delivered)
{
	struct bm_smccc_res r = bm_hvc(SHYPER_IVC_BROADCAST, (uint64_t)buf, len, 0, 0, 0, 0);

	if (delivered)
		*delivered = (uint32_t)r.x1;
	return status(r);
}

int ivc_recv(void *buf, size_t len, uint32_t *sender, size_t *msg_len)
{
	struct bm_smccc_res r = bm_hvc(SHYPER_IVC_RECV, (uint64_t)buf, len, 0, 0, 0, 0);

	if (!status(r)) {
		*sender = (uint32_t)r.x1;
		*msg_len = r.x2;
	}
	return status(r);
}

int ivc_ack(void)
{
	return status(bm_hvc(SHYPER_IVC_ACK, 0, 0, 0, 0, 0, 0));
}

int ivc_notify(uint32_t channel)
{
	return status(bm_hvc(SHYPER_IVC_NOTIFY, channel, 0, 0, 0, 0, 0));
}

int ivc_keepalive(uint32_t period_ms, int restart)
{
	return status(bm_hvc(SHYPER_IVC_KEEPALIVE, period_ms, restart ? 1 : 0, 0, 0, 0, 0));
}

int ivc_heartbeat(void)
{
	return status(bm_hvc(SHYPER_IVC_HEARTBEAT, 0, 0, 0, 0, 0, 0));
}

void ivc_time(uint64_t *counter, uint64_t *freq)
{
	struct bm_smccc_res r = bm_hvc(SHYPER_IVC_TIME, 0, 0, 0, 0, 0, 0);

	*counter = r.x1;
	*freq = r.x2;
}

int ivc_channel_info(uint32_t index, struct shyper_ivc_channel *out)
{
	return status(bm_hvc(SHYPER_IVC_CHANNEL_INFO, index, (uint64_t)out, sizeof(*out), 0,
			     0, 0));
}
