/*
 * A guest's state as a migration stream (docs/MIGRATION.md): the
 * STATE_SAVE and STATE_LOAD hypercalls. Its RAM is not part of it: that
 * goes through MEM_READ and MEM_WRITE.
 */
#ifndef CORE_VM_STATE_H
#define CORE_VM_STATE_H

#include <stddef.h>
#include <stdint.h>

struct vm;

#define VM_STATE_WHY_MAX 160

/*
 * A paused guest's VM_CONFIG, VCPU, VGIC_DIST, VGIC_CPU, VDEV and
 * CONSOLE_HISTORY sections into @buf. -SHYPER_ENOSPC with *needed set if
 * @cap is too small; -SHYPER_EINVAL not paused; -SHYPER_ENOTSUP something
 * the stream cannot carry yet (reason in @why). *needed is the length.
 */
int vm_state_save(struct vm *vm, void *buf, size_t cap, size_t *needed, char *why,
		  size_t why_size);
/*
 * Such a stream (untrusted: checked whole, then section by section against
 * the VM's configuration) into a VM added with SHYPER_VM_F_RESTORE and
 * finished, never started. On success the VM is running but paused.
 * -SHYPER_EPROTO / _EBADMSG / _ENOTSUP a malformed stream, -SHYPER_EINVAL
 * one that does not fit the VM, -SHYPER_EBUSY the VM is not such a VM.
 */
int vm_state_load(struct vm *vm, const void *buf, size_t len, char *why, size_t why_size);

#endif
