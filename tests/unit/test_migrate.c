/*
 * The migration hypercall group (hv/core/migrate.c) against stubs of the VM
 * table, the MVM's buffers, guest RAM, pause and the dirty log: who may
 * call, which VM, function ids, every length and address check (zero,
 * over the copy limit, outside RAM, straddling a region's end, wrapping),
 * MEM_WRITE refused while the guest runs, and the results in x1..x3.
 *
 * unit-sources: hv/core/migrate.c
 * unit-cflags: -Ihv/arch/aarch64/inc -Ihv/plat/qemu-virt/inc
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arch/cache.h>
#include <core/dirty_log.h>
#include <core/hypercall.h>
#include <core/log.h>
#include <core/frame.h>
#include <core/mem.h>
#include <core/vm.h>
#include <core/vm_state.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>

#define MVM_BASE 0x50000000ULL
#define MVM_SIZE 0x200000ULL
#define G_BASE 0x80000000ULL
#define G_SIZE 0x400000ULL

static struct vm vms[HV_MAX_VMS];
static uint8_t *mvm_ram, *guest_ram;

static struct calls {
	int pause, resume, start, stop, fetch, mark, sync, throttle;
	uint32_t throttle_us;
	struct vm *vm;
	int ret; /* what the stubbed operation returns */
	uint64_t fetch_ipa, fetch_len, mark_ipa, mark_len;
	void *fetch_out;
} calls;

/* ---- stubs ---- */

struct vm *vm_by_id(unsigned id)
{
	return id < HV_MAX_VMS && vms[id].state != VM_FREE ? &vms[id] : 0;
}

bool vm_is_mvm(const struct vm *vm)
{
	return vm->id == 0;
}

bool hc_caller_is_mvm(const struct vcpu *caller)
{
	return caller->vm->id == 0;
}

static void *range(uint8_t *base_ptr, uint64_t base, uint64_t size, uint64_t ipa,
		   uint64_t len)
{
	if (ipa >= base && len <= size && ipa - base <= size - len)
		return base_ptr + (ipa - base);
	return 0;
}

void *hc_mvm_buffer(struct vcpu *caller, uint64_t ipa, uint64_t len)
{
	if (!hc_caller_is_mvm(caller) || !len)
		return 0;
	return range(mvm_ram, MVM_BASE, MVM_SIZE, ipa, len);
}

void *vm_ram_ptr(struct vm *vm, uint64_t ipa, uint64_t len)
{
	assert_int_not_equal(vm->id, 0);
	return range(guest_ram, G_BASE, G_SIZE, ipa, len);
}

int vm_pause(struct vm *vm)
{
	calls.pause++;
	calls.vm = vm;
	return calls.ret;
}

int vm_resume(struct vm *vm)
{
	calls.resume++;
	calls.vm = vm;
	return calls.ret;
}

int dirty_log_start(struct vm *vm)
{
	calls.start++;
	calls.vm = vm;
	return calls.ret;
}

int dirty_log_throttle(struct vm *vm, uint32_t us)
{
	calls.throttle++;
	calls.vm = vm;
	calls.throttle_us = us;
	return calls.ret;
}

int dirty_log_stop(struct vm *vm)
{
	calls.stop++;
	calls.vm = vm;
	return calls.ret;
}

int dirty_log_fetch(struct vm *vm, uint64_t ipa, void *out, uint64_t outlen,
		    uint64_t *dirty, uint64_t *pages)
{
	calls.fetch++;
	calls.vm = vm;
	calls.fetch_ipa = ipa;
	calls.fetch_len = outlen;
	calls.fetch_out = out;
	*dirty = 5;
	*pages = 70;
	return calls.ret;
}

void dirty_log_mark(struct vm *vm, uint64_t ipa, uint64_t len)
{
	calls.mark++;
	calls.vm = vm;
	calls.mark_ipa = ipa;
	calls.mark_len = len;
}

void cache_sync_code(uint64_t addr, size_t size)
{
	(void)addr;
	(void)size;
	calls.sync++;
}

/* STATE_SAVE writes this many bytes of 0xab; STATE_LOAD records its copy. */
static size_t state_size = 100;
static uint8_t loaded[256];
static size_t loaded_len;
static const void *loaded_from;

int vm_state_save(struct vm *vm, void *buf, size_t cap, size_t *needed, char *why,
		  size_t why_size)
{
	(void)vm;
	(void)why;
	(void)why_size;
	*needed = state_size;
	if (cap < state_size)
		return -SHYPER_ENOSPC;
	memset(buf, 0xab, state_size);
	return 0;
}

int vm_state_load(struct vm *vm, const void *buf, size_t len, char *why, size_t why_size)
{
	(void)vm;
	(void)why;
	(void)why_size;
	loaded_len = len < sizeof(loaded) ? len : sizeof(loaded);
	memcpy(loaded, buf, loaded_len);
	loaded_from = buf;
	return 0;
}

uint64_t mem_alloc_frames(size_t nr, size_t align_frames)
{
	void *p = 0;

	(void)align_frames;
	if (posix_memalign(&p, 4096, nr * 4096))
		return FRAME_NONE;
	return (uint64_t)(uintptr_t)p;
}

int mem_free_frames(uint64_t pa, size_t nr)
{
	(void)nr;
	free((void *)(uintptr_t)pa);
	return 0;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

/* ---- helpers ---- */

static struct vcpu mvm_vcpu = { .vm = &vms[0] };
static struct vcpu guest_vcpu = { .vm = &vms[1] };

static int setup(void **state)
{
	(void)state;
	memset(vms, 0, sizeof(vms));
	memset(&calls, 0, sizeof(calls));
	for (unsigned i = 0; i < HV_MAX_VMS; i++)
		vms[i].id = i;
	vms[0].state = VM_RUNNING;
	vms[1].state = VM_RUNNING;
	vms[1].setup_done = true;
	vms[2].state = VM_CONFIGURING;
	vms[3].state = VM_READY;
	vms[3].setup_done = true;
	mvm_ram = calloc(1, MVM_SIZE);
	guest_ram = calloc(1, G_SIZE);
	assert_non_null(mvm_ram);
	assert_non_null(guest_ram);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(mvm_ram);
	free(guest_ram);
	return 0;
}

static int64_t call(struct vcpu *caller, uint32_t fid, uint64_t a1, uint64_t a2,
		    uint64_t a3, uint64_t a4, struct trap_frame *out)
{
	struct trap_frame f = { 0 };

	f.x[0] = fid;
	f.x[1] = a1;
	f.x[2] = a2;
	f.x[3] = a3;
	f.x[4] = a4;
	int64_t ret = hc_migrate(caller, &f, SHYPER_HVC_FN(fid));
	if (out)
		*out = f;
	return ret;
}

static int nr_calls(void)
{
	return calls.pause + calls.resume + calls.start + calls.stop + calls.fetch +
	       calls.mark + calls.sync + calls.throttle;
}

/* ---- tests ---- */

static void test_who_and_which(void **state)
{
	static const uint32_t fids[] = {
		SHYPER_MIG_PAUSE, SHYPER_MIG_RESUME, SHYPER_MIG_DIRTY_START,
		SHYPER_MIG_DIRTY_STOP, SHYPER_MIG_DIRTY_FETCH, SHYPER_MIG_MEM_READ,
		SHYPER_MIG_MEM_WRITE, SHYPER_MIG_STATE_SAVE, SHYPER_MIG_STATE_LOAD,
		SHYPER_MIG_IMAGE_READ, SHYPER_MIG_THROTTLE,
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(fids) / sizeof(fids[0]); i++) {
		/* A guest may not call, not even on itself. */
		assert_int_equal(call(&guest_vcpu, fids[i], 1, G_BASE, MVM_BASE, 8, 0),
				 -SHYPER_EPERM);
		/* The MVM itself is never the target. */
		assert_int_equal(call(&mvm_vcpu, fids[i], 0, G_BASE, MVM_BASE, 8, 0),
				 -SHYPER_EPERM);
		/* No such VM: beyond the table, huge, a free slot. */
		assert_int_equal(call(&mvm_vcpu, fids[i], HV_MAX_VMS, G_BASE, MVM_BASE, 8, 0),
				 -SHYPER_ENOENT);
		assert_int_equal(call(&mvm_vcpu, fids[i], 1ULL << 32 | 1, G_BASE, MVM_BASE, 8, 0),
				 -SHYPER_ENOENT);
		assert_int_equal(call(&mvm_vcpu, fids[i], 5, G_BASE, MVM_BASE, 8, 0),
				 -SHYPER_ENOENT);
	}
	assert_int_equal(nr_calls(), 0);
	assert_int_equal(call(&mvm_vcpu, SHYPER_HVC(SHYPER_GRP_MIGRATE, 11), 1, 0, 0, 0, 0),
			 -SHYPER_ENOSYS);
	assert_int_equal(call(&mvm_vcpu, SHYPER_HVC(SHYPER_GRP_MIGRATE, 0xff), 1, 0, 0, 0, 0),
			 -SHYPER_ENOSYS);
}

static void test_pause_resume_routed(void **state)
{
	(void)state;
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_PAUSE, 1, 0, 0, 0, 0), 0);
	assert_int_equal(calls.pause, 1);
	assert_ptr_equal(calls.vm, &vms[1]);
	calls.ret = -SHYPER_EBUSY;
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_PAUSE, 3, 0, 0, 0, 0), -SHYPER_EBUSY);
	assert_ptr_equal(calls.vm, &vms[3]);
	calls.ret = -SHYPER_EINVAL;
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_RESUME, 1, 0, 0, 0, 0), -SHYPER_EINVAL);
	assert_int_equal(calls.resume, 1);
}

static void test_dirty_start_stop(void **state)
{
	(void)state;
	/* Still being configured: its RAM may still grow. */
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_DIRTY_START, 2, 0, 0, 0, 0), -SHYPER_EINVAL);
	assert_int_equal(calls.start, 0);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_DIRTY_START, 1, 0, 0, 0, 0), 0);
	assert_int_equal(calls.start, 1);
	calls.ret = -SHYPER_EBUSY;
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_DIRTY_START, 1, 0, 0, 0, 0), -SHYPER_EBUSY);
	calls.ret = 0;
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_DIRTY_STOP, 1, 0, 0, 0, 0), 0);
	assert_int_equal(calls.stop, 1);
	assert_ptr_equal(calls.vm, &vms[1]);
}

static void test_dirty_fetch_args(void **state)
{
	struct trap_frame f;

	(void)state;
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_DIRTY_FETCH, 1, G_BASE, MVM_BASE, 0, 0),
			 -SHYPER_EINVAL);
	/* Buffers not wholly in the MVM's RAM. */
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_DIRTY_FETCH, 1, G_BASE, MVM_BASE - 8, 16, 0),
			 -SHYPER_EFAULT);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_DIRTY_FETCH, 1, G_BASE,
			      MVM_BASE + MVM_SIZE - 8, 16, 0), -SHYPER_EFAULT);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_DIRTY_FETCH, 1, G_BASE, MVM_BASE,
			      UINT64_MAX, 0), -SHYPER_EFAULT);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_DIRTY_FETCH, 1, G_BASE, UINT64_MAX - 7,
			      16, 0), -SHYPER_EFAULT);
	assert_int_equal(calls.fetch, 0);

	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_DIRTY_FETCH, 1, G_BASE + 0x40000,
			      MVM_BASE + 0x100, 64, &f), 0);
	assert_int_equal(calls.fetch, 1);
	assert_int_equal(calls.fetch_ipa, G_BASE + 0x40000);
	assert_int_equal(calls.fetch_len, 64);
	assert_ptr_equal(calls.fetch_out, mvm_ram + 0x100);
	assert_int_equal(f.x[1], 5);
	assert_int_equal(f.x[2], 70);
	assert_int_equal(f.x[3], 9);
	/* The log's own refusal (not logging, window not aligned) is passed on. */
	calls.ret = -SHYPER_EINVAL;
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_DIRTY_FETCH, 1, G_BASE + 0x1000,
			      MVM_BASE, 64, 0), -SHYPER_EINVAL);
}

static void test_mem_read(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 256; i++)
		guest_ram[0x3000 + i] = (uint8_t)i;
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_MEM_READ, 1, G_BASE + 0x3000,
			      MVM_BASE + 0x10, 256, 0), 0);
	assert_memory_equal(mvm_ram + 0x10, guest_ram + 0x3000, 256);
	/* Exactly the limit is fine, one byte more is not. */
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_MEM_READ, 1, G_BASE, MVM_BASE,
			      SHYPER_MIG_COPY_MAX, 0), 0);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_MEM_READ, 1, G_BASE, MVM_BASE,
			      SHYPER_MIG_COPY_MAX + 1, 0), -SHYPER_EINVAL);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_MEM_READ, 1, G_BASE, MVM_BASE, 0, 0),
			 -SHYPER_EINVAL);
	/* Outside the guest's RAM, straddling its end or start, wrapping. */
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_MEM_READ, 1, G_BASE + G_SIZE, MVM_BASE,
			      8, 0), -SHYPER_ERANGE);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_MEM_READ, 1, G_BASE + G_SIZE - 4,
			      MVM_BASE, 8, 0), -SHYPER_ERANGE);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_MEM_READ, 1, G_BASE - 4, MVM_BASE, 8, 0),
			 -SHYPER_ERANGE);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_MEM_READ, 1, UINT64_MAX - 3, MVM_BASE,
			      8, 0), -SHYPER_ERANGE);
	/* The MVM's buffer must hold all of it. */
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_MEM_READ, 1, G_BASE,
			      MVM_BASE + MVM_SIZE - 4, 8, 0), -SHYPER_EFAULT);
	/* A VM still being configured has no RAM layout yet. */
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_MEM_READ, 2, G_BASE, MVM_BASE, 8, 0),
			 -SHYPER_EINVAL);
	assert_int_equal(calls.mark + calls.sync, 0);
}

static void test_mem_write(void **state)
{
	(void)state;
	memset(mvm_ram, 0x5a, 64);
	/* Running and not paused: refused, nothing written. */
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_MEM_WRITE, 1, G_BASE + 0x2000, MVM_BASE,
			      64, 0), -SHYPER_EBUSY);
	assert_int_equal(guest_ram[0x2000], 0);
	/* Paused. */
	vms[1].pause_epoch = 1;
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_MEM_WRITE, 1, G_BASE + 0x2000, MVM_BASE,
			      64, 0), 0);
	assert_memory_equal(guest_ram + 0x2000, mvm_ram, 64);
	assert_int_equal(calls.sync, 1);
	assert_int_equal(calls.mark, 1);
	assert_int_equal(calls.mark_ipa, G_BASE + 0x2000);
	assert_int_equal(calls.mark_len, 64);
	/* Not running (a VM being filled in before it resumes). */
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_MEM_WRITE, 3, G_BASE, MVM_BASE, 64, 0), 0);
	/* Same bounds as MEM_READ. */
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_MEM_WRITE, 3, G_BASE, MVM_BASE,
			      SHYPER_MIG_COPY_MAX + 1, 0), -SHYPER_EINVAL);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_MEM_WRITE, 3, G_BASE + G_SIZE - 8,
			      MVM_BASE, 16, 0), -SHYPER_ERANGE);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_MEM_WRITE, 3, G_BASE, MVM_BASE - 8, 16, 0),
			 -SHYPER_EFAULT);
	assert_int_equal(calls.sync, 2);
}

static void test_state_save_load(void **state)
{
	struct trap_frame f;

	(void)state;
	/* Too small: -ENOSPC and the size needed. */
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_STATE_SAVE, 1, MVM_BASE, 10, 0, &f),
			 -SHYPER_ENOSPC);
	assert_int_equal(f.x[1], state_size);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_STATE_SAVE, 1, MVM_BASE, 4096, 0, &f), 0);
	assert_int_equal(f.x[1], state_size);
	assert_int_equal(mvm_ram[state_size - 1], 0xab);
	assert_int_equal(mvm_ram[state_size], 0);
	/* Bounds: empty, above the limit, outside the MVM's RAM; guests may not. */
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_STATE_SAVE, 1, MVM_BASE, 0, 0, 0),
			 -SHYPER_EINVAL);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_STATE_SAVE, 1, MVM_BASE,
			      SHYPER_MIG_STATE_MAX + 1, 0, 0), -SHYPER_EINVAL);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_STATE_SAVE, 1, MVM_BASE - 8, 64, 0, 0),
			 -SHYPER_EFAULT);
	assert_int_equal(call(&guest_vcpu, SHYPER_MIG_STATE_SAVE, 1, MVM_BASE, 64, 0, 0),
			 -SHYPER_EPERM);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_STATE_LOAD, 0, MVM_BASE, 64, 0, 0),
			 -SHYPER_EPERM);
	/* Loaded from a private copy, never from the MVM's buffer itself. */
	memset(mvm_ram, 0x33, 64);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_STATE_LOAD, 3, MVM_BASE, 64, 0, 0), 0);
	assert_int_equal(loaded_len, 64);
	assert_int_equal(loaded[63], 0x33);
	assert_ptr_not_equal(loaded_from, mvm_ram);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_STATE_LOAD, 3, MVM_BASE,
			      SHYPER_MIG_STATE_MAX + 1, 0, 0), -SHYPER_EINVAL);
}

static int64_t image_read(unsigned vm, uint64_t kind, uint64_t buf, uint64_t len,
			  uint64_t offset, struct trap_frame *out)
{
	struct trap_frame f = { 0 };
	int64_t ret;

	f.x[0] = SHYPER_MIG_IMAGE_READ;
	f.x[1] = vm;
	f.x[2] = kind;
	f.x[3] = buf;
	f.x[4] = len;
	f.x[5] = offset;
	ret = hc_migrate(&mvm_vcpu, &f, SHYPER_HVC_FN(SHYPER_MIG_IMAGE_READ));
	if (out)
		*out = f;
	return ret;
}

static void test_image_read(void **state)
{
	static uint8_t kernel[3000], initrd[100];
	struct trap_frame f;

	(void)state;
	for (unsigned i = 0; i < sizeof(kernel); i++)
		kernel[i] = (uint8_t)(i * 13);
	vms[1].images_set = true;
	vms[1].images[SHYPER_IMAGE_KERNEL] = (struct vm_image){
		.store_pa = (uint64_t)kernel, .size = sizeof(kernel), .received = sizeof(kernel) };
	/* An upload that never finished is not an image to pass on. */
	vms[1].images[SHYPER_IMAGE_INITRD] = (struct vm_image){
		.store_pa = (uint64_t)initrd, .size = sizeof(initrd), .received = 50 };
	assert_int_equal(image_read(1, SHYPER_IMAGE_KERNEL, MVM_BASE, 1000, 1000, &f), 0);
	assert_memory_equal(mvm_ram, kernel + 1000, 1000);
	assert_int_equal(f.x[1], sizeof(kernel));
	/* The last byte, and no further. */
	assert_int_equal(image_read(1, SHYPER_IMAGE_KERNEL, MVM_BASE, 1, 2999, 0), 0);
	assert_int_equal(mvm_ram[0], kernel[2999]);
	assert_int_equal(image_read(1, SHYPER_IMAGE_KERNEL, MVM_BASE, 2, 2999, 0),
			 -SHYPER_ERANGE);
	assert_int_equal(image_read(1, SHYPER_IMAGE_KERNEL, MVM_BASE, 1, 3000, 0),
			 -SHYPER_ERANGE);
	assert_int_equal(image_read(1, SHYPER_IMAGE_KERNEL, MVM_BASE, 8, UINT64_MAX - 3, 0),
			 -SHYPER_ERANGE);
	/* Half uploaded, not configured (the DTB), no such kind. */
	assert_int_equal(image_read(1, SHYPER_IMAGE_INITRD, MVM_BASE, 10, 0, 0), -SHYPER_ENOENT);
	assert_int_equal(image_read(1, SHYPER_IMAGE_DTB, MVM_BASE, 10, 0, 0), -SHYPER_ENOENT);
	assert_int_equal(image_read(1, 3, MVM_BASE, 10, 0, 0), -SHYPER_EINVAL);
	/* Empty or too long a copy, a buffer outside the MVM. */
	assert_int_equal(image_read(1, SHYPER_IMAGE_KERNEL, MVM_BASE, 0, 0, 0), -SHYPER_EINVAL);
	assert_int_equal(image_read(1, SHYPER_IMAGE_KERNEL, MVM_BASE, SHYPER_MIG_COPY_MAX + 1, 0,
				   0), -SHYPER_EINVAL);
	assert_int_equal(image_read(1, SHYPER_IMAGE_KERNEL, MVM_BASE + MVM_SIZE - 8, 16, 0, 0),
			 -SHYPER_EFAULT);
	/* A VM without images, one still being configured, the MVM itself. */
	assert_int_equal(image_read(3, SHYPER_IMAGE_KERNEL, MVM_BASE, 10, 0, 0), -SHYPER_ENOENT);
	assert_int_equal(image_read(2, SHYPER_IMAGE_KERNEL, MVM_BASE, 10, 0, 0), -SHYPER_EINVAL);
	assert_int_equal(image_read(0, SHYPER_IMAGE_KERNEL, MVM_BASE, 10, 0, 0), -SHYPER_EPERM);
	assert_int_equal(nr_calls(), 0);
}

static void test_throttle(void **state)
{
	(void)state;
	/* Above the bound: refused here, the log never asked. */
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_THROTTLE, 1, SHYPER_MIG_THROTTLE_MAX_US + 1,
			      0, 0, 0), -SHYPER_EINVAL);
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_THROTTLE, 1, 1ULL << 32, 0, 0, 0),
			 -SHYPER_EINVAL);
	assert_int_equal(calls.throttle, 0);
	/* The bound itself and 0 reach the VM's log, which has the last word. */
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_THROTTLE, 1, SHYPER_MIG_THROTTLE_MAX_US, 0,
			      0, 0), 0);
	assert_int_equal(calls.throttle_us, SHYPER_MIG_THROTTLE_MAX_US);
	assert_ptr_equal(calls.vm, &vms[1]);
	calls.ret = -SHYPER_EINVAL; /* not logging */
	assert_int_equal(call(&mvm_vcpu, SHYPER_MIG_THROTTLE, 1, 0, 0, 0, 0), -SHYPER_EINVAL);
	assert_int_equal(calls.throttle, 2);
	assert_int_equal(calls.throttle_us, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_who_and_which, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume_routed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty_start_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty_fetch_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_save_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttle, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
