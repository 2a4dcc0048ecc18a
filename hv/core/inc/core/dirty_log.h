/*
 * Dirty-page logging of a VM for migration pre-copy (core/dirty_log.c).
 *
 * While logging, the VM's RAM is write-protected in stage 2; the guest's
 * first write to a page faults, the page is marked and made writable
 * again, and the write re-executed. The hypervisor's own writes to guest
 * RAM (virtio used rings and device-writable buffers, IVC receive buffers)
 * bypass stage 2 and are marked with dirty_log_mark() after the write.
 * A fetch takes the marks of a window and write-protects those pages again.
 *
 * Everything that changes the VM's stage 2 while it may run, and every
 * access to the bitmap, holds the VM's stage-2 lock (vm_s2_lock), so a
 * fault and a fetch never interleave: a page is marked and writable, or
 * unmarked and protected.
 */
#ifndef CORE_DIRTY_LOG_H
#define CORE_DIRTY_LOG_H

#include <core/dirty_bitmap.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

/*
 * At the start of the log's storage frames, before the bitmap's words:
 * migration's auto-converge setting. It exists only while logging, in
 * memory the root points to, so a live update carries it; an image that
 * predates it put the words at storage_pa itself (map.words == storage_pa:
 * no header, no throttle).
 */
struct dirty_log_header {
	uint32_t throttle_us; /* each first write to a page costs the guest this */
	uint32_t reserved[15];
};
#define DIRTY_LOG_THROTTLE_MAX_US 2000

/* In struct vm. */
struct dirty_log {
	struct dirty_bitmap map;	/* map.words NULL: not logging */
	uint64_t storage_pa;		/* frames holding map.words */
	uint64_t storage_frames;
};

/* 0, -SHYPER_EBUSY (already logging), -SHYPER_ENOMEM, -SHYPER_EINVAL (no RAM). */
int dirty_log_start(struct vm *vm);
/* Every page writable again, storage freed. -SHYPER_EINVAL if not logging. */
int dirty_log_stop(struct vm *vm);
/*
 * Takes the marks of the window at @ipa that fits @outlen bytes (see
 * dirty_bitmap_window), writes them to @out and protects those pages again.
 * *dirty: marked pages, *pages: pages the window covered.
 */
int dirty_log_fetch(struct vm *vm, uint64_t ipa, void *out, uint64_t outlen,
		    uint64_t *dirty, uint64_t *pages);
/* The hypervisor wrote [ipa, ipa + len) of the VM's RAM (call after the write). */
void dirty_log_mark(struct vm *vm, uint64_t ipa, uint64_t len);

bool dirty_log_active(const struct vm *vm);

/* Auto-converge: from now on each first write to a page while logging
 * costs the writing vCPU @us microseconds (0 ends it). -SHYPER_EINVAL if
 * not logging or above DIRTY_LOG_THROTTLE_MAX_US. */
int dirty_log_throttle(struct vm *vm, uint32_t us);

/* Why a stage-2 fault on RAM may be only a moment's state. */
enum s2_fault_kind {
	S2_FAULT_TRANSLATION,	/* a block being split (break-before-make) */
	S2_FAULT_PERMISSION,	/* a write to a write-protected page */
};

/*
 * A guest vCPU's stage-2 fault at @ipa: true if it is one of logging's own
 * (the page is now marked and writable, or was being split, or another
 * vCPU already made it writable) and the guest should just re-execute the
 * access; false for a fault the VM's memory map does not explain.
 */
bool dirty_log_fault(struct vm *vm, uint64_t ipa, enum s2_fault_kind kind);

#endif
