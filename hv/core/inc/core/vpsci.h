/* Calls a guest makes with HVC or SMC: PSCI, SMCCC architecture calls, and
 * (later) cshyper hypercalls. */
#ifndef CORE_VPSCI_H
#define CORE_VPSCI_H

#include <arch/exception.h>

struct vcpu;

/* Function id in x0, arguments in x1..x6; results in x0..x3. */
void vcall_handle(struct vcpu *vcpu, struct trap_frame *frame);

#endif
