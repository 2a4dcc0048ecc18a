/*
 * The disk copies migrations brought in (`serve` on the daemon's control
 * socket, daemon_ctl.h). Each belongs to the VM it was made for: when that
 * VM is removed, the daemon stops serving the copy and deletes its file. A
 * VM that is only shut down keeps it. Disks of the daemon's JSON
 * configuration are never deleted.
 *
 * The copies and their VMs are recorded in d->copies_path, so that a
 * daemon started again serves them again under the same index (the VMs'
 * configurations name it), and deletes those whose VM went away meanwhile.
 * A VM is known by its id and name: ids are reused.
 */
#ifndef CLI_MEDIATED_COPIES_H
#define CLI_MEDIATED_COPIES_H

#include <stddef.h>
#include <stdint.h>

#include "mediated.h"

#define MED_COPIES_PATH "/run/shyper-daemon-disks"

/* Index i was just served for control connection conn: a copy. Until its
 * VM is named, it goes (file and all) when that connection closes. */
void med_copy_pending(struct med_daemon *d, size_t i, int conn);
/* The copy at index i belongs to VM vm. 0, or -1 with err. */
int med_copy_own(struct med_daemon *d, int fd, size_t i, uint32_t vm, char *err,
		 size_t errlen);
/* No longer serves index i; a copy's file is deleted with delete_file. */
void med_copy_drop(struct med_daemon *d, int fd, size_t i, bool delete_file);
/* Control connection conn closed: its copies without a VM go. */
void med_copies_conn_closed(struct med_daemon *d, int fd, int conn);
/* VM vm was removed (SHYPER_EVENT_VM_STATE, VM_FREE): its copies go. */
void med_copies_vm_removed(struct med_daemon *d, int fd, uint32_t vm);
/* Copies whose VM is no longer there (an event missed) go. */
void med_copies_check(struct med_daemon *d, int fd);
/* At the daemon's start: the copies recorded, served again or deleted. */
void med_copies_restore(struct med_daemon *d, int fd);

#endif
