/*
 * The migration hypercall group (docs/HYPERCALLS.md): pause and resume a
 * guest, its dirty-page log, bounded copies of its RAM to and from the
 * MVM, and its state as a stream. Every argument is checked here; the work
 * is done by vm_pause.c, dirty_log.c, vm_ram_ptr() and vm_state.c.
 */
#include <arch/cache.h>
#include <core/dirty_log.h>
#include <core/frame.h>
#include <core/hypercall.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/vm.h>
#include <core/vm_state.h>
#include <lib/string.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>

_Static_assert(SHYPER_MIG_WINDOW_ALIGN == DIRTY_WINDOW_ALIGN, "ABI window = bitmap word");
_Static_assert(SHYPER_MIG_PAGE_SIZE == DIRTY_PAGE_SIZE, "ABI page = logged page");
_Static_assert(SHYPER_MIG_THROTTLE_MAX_US == DIRTY_LOG_THROTTLE_MAX_US, "ABI bound = log's");

/* The guest the call names: -ENOENT none, -EPERM the MVM. */
static int target(uint64_t id, struct vm **out)
{
	struct vm *vm = id < HV_MAX_VMS ? vm_by_id((unsigned)id) : 0;

	if (!vm)
		return -SHYPER_ENOENT;
	if (vm_is_mvm(vm))
		return -SHYPER_EPERM;
	*out = vm;
	return 0;
}

/* Its RAM is laid out for good: the configuration is finished. */
static bool has_ram_layout(const struct vm *vm)
{
	return vm->setup_done && vm->state != VM_CONFIGURING && vm->state != VM_FREE;
}

static int64_t dirty_fetch(struct vcpu *caller, struct vm *vm, struct trap_frame *f)
{
	uint64_t ipa = f->x[2], len = f->x[4], dirty = 0, pages = 0;
	void *buf;
	int ret;

	if (!len)
		return -SHYPER_EINVAL;
	buf = hc_mvm_buffer(caller, f->x[3], len);
	if (!buf)
		return -SHYPER_EFAULT;
	ret = dirty_log_fetch(vm, ipa, buf, len, &dirty, &pages);
	if (ret)
		return ret;
	f->x[1] = dirty;
	f->x[2] = pages;
	f->x[3] = (pages + 7) / 8;
	return 0;
}

/* MEM_READ (any state with RAM, running too: pre-copy) and MEM_WRITE. */
static int64_t mem_copy(struct vcpu *caller, struct vm *vm, struct trap_frame *f,
			bool write)
{
	uint64_t ipa = f->x[2], len = f->x[4];
	void *guest, *buf;

	if (!len || len > SHYPER_MIG_COPY_MAX)
		return -SHYPER_EINVAL;
	if (!has_ram_layout(vm))
		return -SHYPER_EINVAL;
	/* The guest may not run while its memory changes under it. */
	if (write && vm->state == VM_RUNNING && !vm_is_paused(vm))
		return -SHYPER_EBUSY;
	guest = vm_ram_ptr(vm, ipa, len);
	if (!guest)
		return -SHYPER_ERANGE;
	buf = hc_mvm_buffer(caller, f->x[3], len);
	if (!buf)
		return -SHYPER_EFAULT;
	if (!write) {
		memcpy(buf, guest, len);
		return 0;
	}
	memcpy(guest, buf, len);
	/* A guest that starts with its caches off reads RAM itself, and may
	 * run these bytes as code: frames that ran other code hold no stale
	 * instruction lines. */
	cache_sync_code((uint64_t)guest, len);
	dirty_log_mark(vm, ipa, len);
	return 0;
}

static int64_t state_save(struct vcpu *caller, struct vm *vm, struct trap_frame *f)
{
	uint64_t len = f->x[3];
	char why[VM_STATE_WHY_MAX] = "";
	size_t needed = 0;
	void *buf;
	int ret;

	if (!len || len > SHYPER_MIG_STATE_MAX)
		return -SHYPER_EINVAL;
	buf = hc_mvm_buffer(caller, f->x[2], len);
	if (!buf)
		return -SHYPER_EFAULT;
	ret = vm_state_save(vm, buf, len, &needed, why, sizeof(why));
	/* EBUSY: asked again until the daemon has finished the disk's requests. */
	if (ret && ret != -SHYPER_ENOSPC && ret != -SHYPER_EBUSY && why[0])
		log_warn("vm%u: state not saved: %s", vm->id, why);
	if (!ret || ret == -SHYPER_ENOSPC)
		f->x[1] = needed;
	return ret;
}

/* The stream is copied in first: the MVM cannot change it under the checks. */
static int64_t state_load(struct vcpu *caller, struct vm *vm, struct trap_frame *f)
{
	uint64_t len = f->x[3], frames = (len + FRAME_SIZE - 1) / FRAME_SIZE, copy;
	char why[VM_STATE_WHY_MAX] = "";
	const void *buf;
	int ret;

	if (!len || len > SHYPER_MIG_STATE_MAX)
		return -SHYPER_EINVAL;
	buf = hc_mvm_buffer(caller, f->x[2], len);
	if (!buf)
		return -SHYPER_EFAULT;
	copy = mem_alloc_frames(frames, 1);
	if (copy == FRAME_NONE)
		return -SHYPER_ENOMEM;
	memcpy((void *)copy, buf, len);
	ret = vm_state_load(vm, (const void *)copy, len, why, sizeof(why));
	mem_free_frames(copy, frames);
	if (ret)
		log_warn("vm%u: state not loaded: %s", vm->id, why);
	return ret;
}

/* IMAGE_READ: a boot image as uploaded, whole; any state but configuring. */
static int64_t image_read(struct vcpu *caller, struct vm *vm, struct trap_frame *f)
{
	uint64_t kind = f->x[2], len = f->x[4], offset = f->x[5];
	const struct vm_image *img;
	void *buf;

	if (kind > SHYPER_IMAGE_DTB || !len || len > SHYPER_MIG_COPY_MAX || !has_ram_layout(vm))
		return -SHYPER_EINVAL;
	img = &vm->images[kind];
	if (!vm->images_set || !img->size || img->received != img->size)
		return -SHYPER_ENOENT;
	if (offset >= img->size || len > img->size - offset)
		return -SHYPER_ERANGE;
	buf = hc_mvm_buffer(caller, f->x[3], len);
	if (!buf)
		return -SHYPER_EFAULT;
	memcpy(buf, (const void *)(img->store_pa + offset), len);
	f->x[1] = img->size;
	return 0;
}

int64_t hc_migrate(struct vcpu *caller, struct trap_frame *f, unsigned fn)
{
	struct vm *vm;
	int ret;

	if (fn > SHYPER_HVC_FN(SHYPER_MIG_THROTTLE))
		return -SHYPER_ENOSYS;
	if (!hc_caller_is_mvm(caller))
		return -SHYPER_EPERM;
	ret = target(f->x[1], &vm);
	if (ret)
		return ret;
	switch (fn) {
	case SHYPER_HVC_FN(SHYPER_MIG_PAUSE):
		return vm_pause(vm);
	case SHYPER_HVC_FN(SHYPER_MIG_RESUME):
		return vm_resume(vm);
	case SHYPER_HVC_FN(SHYPER_MIG_DIRTY_START):
		if (!has_ram_layout(vm))
			return -SHYPER_EINVAL;
		return dirty_log_start(vm);
	case SHYPER_HVC_FN(SHYPER_MIG_DIRTY_STOP):
		return dirty_log_stop(vm);
	case SHYPER_HVC_FN(SHYPER_MIG_DIRTY_FETCH):
		return dirty_fetch(caller, vm, f);
	case SHYPER_HVC_FN(SHYPER_MIG_MEM_READ):
		return mem_copy(caller, vm, f, false);
	case SHYPER_HVC_FN(SHYPER_MIG_MEM_WRITE):
		return mem_copy(caller, vm, f, true);
	case SHYPER_HVC_FN(SHYPER_MIG_STATE_SAVE):
		return state_save(caller, vm, f);
	case SHYPER_HVC_FN(SHYPER_MIG_STATE_LOAD):
		return state_load(caller, vm, f);
	case SHYPER_HVC_FN(SHYPER_MIG_IMAGE_READ):
		return image_read(caller, vm, f);
	case SHYPER_HVC_FN(SHYPER_MIG_THROTTLE):
		return f->x[2] > SHYPER_MIG_THROTTLE_MAX_US ? -SHYPER_EINVAL :
		       dirty_log_throttle(vm, (uint32_t)f->x[2]);
	}
	return -SHYPER_ENOSYS;
}
