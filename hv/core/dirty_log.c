/*
 * Dirty-page logging of a VM (see core/dirty_log.h): the bitmap lives in
 * frames from the pool, reachable from struct vm; stage 2 does the
 * write-protection, with its TLB hook flushing every core.
 */
#include <arch/timer.h>
#include <core/cpu.h>
#include <core/dirty_log.h>
#include <core/frame.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/smp.h>
#include <core/vm.h>
#include <shyper/errno.h>

/* RAM as the guest sees it: readable and executable, writable only once marked. */
#define RAM_PROTECTED	(STAGE2_R | STAGE2_X)
#define RAM_WRITABLE	STAGE2_RWX

_Static_assert(DIRTY_MAX_REGIONS >= VM_MAX_MEM_REGIONS, "a bit for every RAM region");
_Static_assert(DIRTY_PAGE_SIZE == FRAME_SIZE, "one bit per stage-2 page");

bool dirty_log_active(const struct vm *vm)
{
	return __atomic_load_n(&vm->dirty.map.words, __ATOMIC_ACQUIRE) != 0;
}

/* Every RAM region to @flags; the first error is returned, the rest still done. */
static int set_ram_flags(struct vm *vm, unsigned flags)
{
	const struct vm_config *cfg = vm->cfg;
	int first = 0;

	for (unsigned i = 0; i < cfg->nr_mem; i++) {
		int ret = stage2_set_flags(&vm->s2, cfg->mem[i].ipa, cfg->mem[i].size, flags);

		if (ret && !first)
			first = ret;
	}
	return first;
}

int dirty_log_start(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	uint64_t ipa[DIRTY_MAX_REGIONS], size[DIRTY_MAX_REGIONS];
	struct dirty_bitmap map;
	uint64_t pa, frames, flags;
	int ret;

	for (unsigned i = 0; i < cfg->nr_mem; i++) {
		ipa[i] = cfg->mem[i].ipa;
		size[i] = cfg->mem[i].size;
	}
	ret = dirty_bitmap_layout(&map, ipa, size, cfg->nr_mem);
	if (ret)
		return ret;
	frames = (sizeof(struct dirty_log_header) + dirty_bitmap_bytes(&map) + FRAME_SIZE - 1) /
		 FRAME_SIZE;
	pa = mem_alloc_frames(frames, 1);
	if (pa == FRAME_NONE)
		return -SHYPER_ENOMEM;
	*(struct dirty_log_header *)pa = (struct dirty_log_header){ 0 };
	dirty_bitmap_attach(&map, (uint64_t *)(pa + sizeof(struct dirty_log_header)));

	flags = vm_s2_lock(vm);
	if (dirty_log_active(vm)) {
		vm_s2_unlock(vm, flags);
		mem_free_frames(pa, frames);
		return -SHYPER_EBUSY;
	}
	/* In force before the first protection: a fault finds the log. */
	vm->dirty.storage_pa = pa;
	vm->dirty.storage_frames = frames;
	vm->dirty.map = map;
	ret = set_ram_flags(vm, RAM_PROTECTED);
	if (ret) {
		set_ram_flags(vm, RAM_WRITABLE);
		vm->dirty = (struct dirty_log){ 0 };
	}
	vm_s2_unlock(vm, flags);
	if (ret)
		mem_free_frames(pa, frames);
	return ret;
}

int dirty_log_stop(struct vm *vm)
{
	uint64_t flags = vm_s2_lock(vm);
	struct dirty_log old = vm->dirty;
	int ret;

	if (!old.map.words) {
		vm_s2_unlock(vm, flags);
		return -SHYPER_EINVAL;
	}
	/* Whole regions: only leaves change, no split, no allocation. */
	ret = vm->s2.mm ? set_ram_flags(vm, RAM_WRITABLE) : 0;
	vm->dirty = (struct dirty_log){ 0 };
	vm_s2_unlock(vm, flags);
	if (ret)
		log_err("vm%u: RAM not writable again after dirty logging (%d)", vm->id, ret);
	mem_free_frames(old.storage_pa, old.storage_frames);
	return ret;
}

static int protect_run(void *ctx, uint64_t ipa, uint64_t size)
{
	struct vm *vm = ctx;

	return stage2_set_flags(&vm->s2, ipa, size, RAM_PROTECTED);
}

int dirty_log_fetch(struct vm *vm, uint64_t ipa, void *out, uint64_t outlen,
		    uint64_t *dirty, uint64_t *pages)
{
	struct dirty_window w;
	uint64_t flags = vm_s2_lock(vm);
	int ret = -SHYPER_EINVAL;

	if (dirty_log_active(vm))
		ret = dirty_bitmap_window(&vm->dirty.map, ipa, outlen, &w);
	if (!ret) {
		*dirty = dirty_bitmap_fetch(&vm->dirty.map, &w, out, protect_run, vm);
		*pages = w.pages;
	}
	vm_s2_unlock(vm, flags);
	return ret;
}

void dirty_log_mark(struct vm *vm, uint64_t ipa, uint64_t len)
{
	uint64_t flags;

	/* The caller's writes to RAM are ordered before the look at the log
	 * (a store then a load: only a full barrier orders them). Else a write
	 * just before dirty_log_start() could be neither marked nor yet
	 * visible to round 1's copy. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!dirty_log_active(vm))
		return;
	/* Locked: stop must not free the bitmap under us. */
	flags = vm_s2_lock(vm);
	dirty_bitmap_mark(&vm->dirty.map, ipa, len);
	vm_s2_unlock(vm, flags);
}

/* The header, if this log's storage has one (see struct dirty_log_header). */
static struct dirty_log_header *header(struct vm *vm)
{
	if (!dirty_log_active(vm) || (uint64_t)vm->dirty.map.words == vm->dirty.storage_pa)
		return 0;
	return (struct dirty_log_header *)vm->dirty.storage_pa;
}

int dirty_log_throttle(struct vm *vm, uint32_t us)
{
	uint64_t flags;
	struct dirty_log_header *h;
	int ret = -SHYPER_EINVAL;

	if (us > DIRTY_LOG_THROTTLE_MAX_US)
		return -SHYPER_EINVAL;
	flags = vm_s2_lock(vm);
	h = header(vm);
	if (h) {
		__atomic_store_n(&h->throttle_us, us, __ATOMIC_RELAXED);
		ret = 0;
	}
	vm_s2_unlock(vm, flags);
	return ret;
}

static bool throttle_over(void *arg)
{
	const uint64_t *until = arg;
	const struct cpu *cpu = this_cpu();

	/* A pause or stop for this core is not kept waiting. */
	return timer_now() >= *until || __atomic_load_n(&cpu->resched, __ATOMIC_RELAXED) ||
	       __atomic_load_n(&cpu->stop_pending, __ATOMIC_RELAXED);
}

/* Auto-converge: the writer pays for the page it dirtied, on its own time
 * (interrupts are taken meanwhile). */
static void throttle(uint32_t us)
{
	uint64_t until = timer_now() + timer_us_to_ticks(us);

	wait_until(throttle_over, &until, us + 1000);
}

bool dirty_log_fault(struct vm *vm, uint64_t ipa, enum s2_fault_kind kind)
{
	uint64_t page = ipa & ~(DIRTY_PAGE_SIZE - 1), flags;
	struct dirty_log_header *h;
	uint32_t delay = 0;
	unsigned perm;
	bool retry = false;

	if (!vm_ram_ptr(vm, page, DIRTY_PAGE_SIZE))
		return false;
	/* Under the lock the map is whole again: no split is half done. */
	flags = vm_s2_lock(vm);
	if (stage2_translate(&vm->s2, page, 0, &perm)) {
		retry = false; /* RAM is always mapped: not ours to explain */
	} else if (kind == S2_FAULT_TRANSLATION || (perm & STAGE2_W)) {
		retry = true;  /* split done, or another vCPU got here first */
	} else if (dirty_log_active(vm)) {
		dirty_bitmap_mark(&vm->dirty.map, page, DIRTY_PAGE_SIZE);
		retry = !stage2_set_flags(&vm->s2, page, DIRTY_PAGE_SIZE, RAM_WRITABLE);
		h = header(vm);
		delay = h ? __atomic_load_n(&h->throttle_us, __ATOMIC_RELAXED) : 0;
	}
	vm_s2_unlock(vm, flags);
	if (retry && delay)
		throttle(delay);
	return retry;
}
