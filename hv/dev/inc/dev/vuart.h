/* An emulated PL011 for guests: what they write appears on the hypervisor
 * console, one line at a time with a "[vmN]" prefix. */
#ifndef DEV_VUART_H
#define DEV_VUART_H

#include <stdint.h>

#define VUART_SIZE 0x1000UL

struct vcpu;
struct mmio_access;

int vuart_access(struct vcpu *vcpu, struct mmio_access *acc, uint64_t offset,
		 void *priv);

#endif
