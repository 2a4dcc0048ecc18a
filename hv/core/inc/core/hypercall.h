/* Routing of cshyper hypercalls to the subsystem that owns each group. */
#ifndef CORE_HYPERCALL_H
#define CORE_HYPERCALL_H

#include <arch/exception.h>
#include <stdbool.h>
#include <stdint.h>

struct vcpu;

typedef int64_t (*hc_group_handler)(struct vcpu *caller, struct trap_frame *f,
				    unsigned fn);

void hypercall_handle(struct vcpu *caller, struct trap_frame *f);
/* The MVM's buffer [ipa, ipa + len), or NULL (not the MVM, not its RAM). */
void *hc_mvm_buffer(struct vcpu *caller, uint64_t ipa, uint64_t len);
bool hc_caller_is_mvm(const struct vcpu *caller);

int64_t hc_sys(struct vcpu *caller, struct trap_frame *f, unsigned fn);
int64_t hc_vmm(struct vcpu *caller, struct trap_frame *f, unsigned fn);
int64_t hc_config(struct vcpu *caller, struct trap_frame *f, unsigned fn);
/* Pause, dirty log, RAM copies of a guest (migrate.c). */
int64_t hc_migrate(struct vcpu *caller, struct trap_frame *f, unsigned fn);
/* Upload, check and switch of a new hypervisor image (update.c). */
int64_t hc_update(struct vcpu *caller, struct trap_frame *f, unsigned fn);

#endif
