/*
 * IVC hypercall wrappers for bare-metal guests (docs/HYPERCALLS.md, IVC
 * group). Buffers are guest-physical addresses: with the MMU off, a
 * pointer's value. Each returns 0 or a negative SHYPER_E* code.
 */
#ifndef BM_IVC_H
#define BM_IVC_H

#include <stddef.h>
#include <stdint.h>

#include <shyper/ivc.h>

int ivc_send(uint32_t vm, const void *buf, size_t len);
/* *delivered (may be NULL): how many VMs got it. */
int ivc_broadcast(const void *buf, size_t len, uint32_t *delivered);
/* The head message, left in the queue: its sender and length. */
int ivc_recv(void *buf, size_t len, uint32_t *sender, size_t *msg_len);
int ivc_ack(void);
int ivc_notify(uint32_t channel);
int ivc_keepalive(uint32_t period_ms, int restart);
int ivc_heartbeat(void);
/* The hypervisor's counter and its frequency (Hz). */
void ivc_time(uint64_t *counter, uint64_t *freq);
int ivc_channel_info(uint32_t index, struct shyper_ivc_channel *out);

#endif
