/*
 * Live update, the MVM's side (SHYPER_GRP_UPDATE): the upload into the
 * free slot, its check, and the calls that switch (update_switch.c).
 * Every field of the image is judged before anything stops; a refused
 * image leaves the running one untouched.
 */
#include <arch/cache.h>
#include <arch/timer.h>
#include <core/hypercall.h>
#include <core/iommu.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/state.h>
#include <core/update.h>
#include <lib/fmt.h>
#include <lib/image_check.h>
#include <lib/string.h>
#include <plat/platform.h>
#include <shyper/errno.h>

/* One CHUNK copies at most this much: a hypercall stays short. */
#define UPDATE_CHUNK_MAX (1UL << 20)

int update_init(uint64_t image_pa)
{
	uint64_t pa = mem_alloc_frames(HV_SLOT_SIZE / FRAME_SIZE, 16);

	if (pa == FRAME_NONE)
		return -SHYPER_ENOMEM;
	hv.update.slot_pa[0] = image_pa;
	hv.update.slot_pa[1] = pa;
	hv.update.running = 0;
	memcpy(hv.update.running_version, HV_VERSION_STRING, sizeof(HV_VERSION_STRING));
	return 0;
}

const struct shyper_image_info *update_slot_info(unsigned slot)
{
	return (const void *)(hv.update.slot_pa[slot & 1] + SHYPER_IMAGE_INFO_OFFSET);
}

static unsigned free_slot(void)
{
	return hv.update.running ^ 1;
}

static uint8_t *slot_bytes(unsigned slot)
{
	return (uint8_t *)hv.update.slot_pa[slot];
}

/* The running image's side of the check (lib/image_check.c). */
static int check_image(struct shyper_upd_report *r)
{
	const struct image_expect want = {
		.arch = SHYPER_ARCH_AARCH64,
		.abi = SHYPER_ABI_VERSION,
		.board = PLAT_NAME,
		.state_version = HV_STATE_VERSION,
		.state_oldest = HV_STATE_OLDEST,
		.slot_size = HV_SLOT_SIZE,
	};

	return image_check(slot_bytes(free_slot()), hv.update.size, &want, r);
}

/*
 * An image of a layout before 4 knows no SMMU: it would free a VM's memory
 * with the VM's devices still translating into it. Refused while a VM has
 * DMA streams; the reason goes to @why.
 */
static bool layout_drops_streams(uint32_t layout, char *why, size_t why_size)
{
	if (layout >= 4)
		return false;
	for (unsigned id = 0; id < HV_MAX_VMS; id++)
		if (hv.vms[id].state != VM_FREE && iommu_vm_streams(&hv.vms[id])) {
			fmt_snprintf(why, why_size, "vm%u has DMA streams, and that image "
				     "(state layout %u) has no SMMU support: remove the VM first",
				     id, layout);
			return true;
		}
	return false;
}

static int upd_begin(uint64_t size)
{
	if (hv.update.phase == SHYPER_UPD_PROBATION)
		return -SHYPER_EBUSY;
	if (hv.update.phase != SHYPER_UPD_IDLE)
		return -SHYPER_EALREADY;
	if (size > HV_SLOT_SIZE)
		return -SHYPER_E2BIG;
	if (!size)
		return -SHYPER_EINVAL;
	/* From here the other slot no longer holds the previous image. */
	hv.update.has_previous = false;
	hv.update.size = size;
	hv.update.received = 0;
	hv.update.phase = SHYPER_UPD_RECEIVING;
	return 0;
}

static int upd_chunk(struct vcpu *caller, uint64_t off, uint64_t ipa, uint64_t len)
{
	const void *src;

	if (hv.update.phase != SHYPER_UPD_RECEIVING)
		return -SHYPER_EINVAL;
	if (off != hv.update.received || !len || len > UPDATE_CHUNK_MAX ||
	    len > hv.update.size - off)
		return -SHYPER_EINVAL;
	src = hc_mvm_buffer(caller, ipa, len);
	if (!src)
		return -SHYPER_EFAULT;
	memcpy(slot_bytes(free_slot()) + off, src, len);
	hv.update.received += len;
	return 0;
}

static int upd_check(struct vcpu *caller, uint64_t ipa, uint64_t len)
{
	struct shyper_upd_report r;
	void *buf;

	if (len < sizeof(r))
		return -SHYPER_EINVAL;
	buf = hc_mvm_buffer(caller, ipa, sizeof(r));
	if (!buf)
		return -SHYPER_EFAULT;
	memset(&r, 0, sizeof(r));
	r.result = -SHYPER_EINVAL;
	if (hv.update.phase != SHYPER_UPD_RECEIVING) {
		fmt_snprintf(r.why, sizeof(r.why), "no upload to check");
	} else if (hv.update.received != hv.update.size) {
		fmt_snprintf(r.why, sizeof(r.why), "truncated: %lu of %lu bytes uploaded",
			     hv.update.received, hv.update.size);
		hv.update.phase = SHYPER_UPD_IDLE;
	} else {
		if (check_image(&r) ||
		    layout_drops_streams(r.state_version, r.why, sizeof(r.why))) {
			r.result = r.result ? r.result : -SHYPER_EBUSY;
			hv.update.phase = SHYPER_UPD_IDLE;
			log_warn("live update refused: %s", r.why);
		} else {
			cache_sync_code(hv.update.slot_pa[free_slot()], HV_SLOT_SIZE);
			hv.update.handover_state = r.handover_state;
			hv.update.phase = SHYPER_UPD_READY;
			log_info("live update: %s checked (%lu KiB, state layout %u -> %u)",
				 r.version, hv.update.size >> 10, HV_STATE_VERSION, r.state_version);
		}
	}
	memcpy(buf, &r, sizeof(r));
	/* The verdict is in the report: a refusal is a successful call. */
	return 0;
}

static int upd_status(struct vcpu *caller, struct trap_frame *f, uint64_t ipa, uint64_t len)
{
	struct shyper_upd_status s;
	void *buf;

	if (len < sizeof(s))
		return -SHYPER_EINVAL;
	buf = hc_mvm_buffer(caller, ipa, sizeof(s));
	if (!buf)
		return -SHYPER_EFAULT;
	if (update_probation_due()) {
		/* The verdict is a rollback: the caller asks again, then
		 * from the previous image. */
		f->x[0] = (uint64_t)-SHYPER_EAGAIN;
		update_switch(hv.update.running ^ 1, f, true);
		return -SHYPER_EAGAIN; /* the rollback could not park the cores */
	}
	memset(&s, 0, sizeof(s));
	s.phase = hv.update.phase;
	s.outcome = hv.update.outcome;
	s.updates = hv.update.updates;
	s.rollbacks = hv.update.rollbacks;
	s.cores_paused = hv.update.cores_paused;
	s.vms_kept = hv.update.vms_kept;
	s.pause_ticks = hv.update.pause_ticks;
	s.counter_hz = timer_freq();
	s.has_previous = hv.update.has_previous;
	s.state_version = HV_STATE_VERSION;
	memcpy(s.running, hv.update.running_version, sizeof(s.running));
	memcpy(s.previous, hv.update.previous_version, sizeof(s.previous));
	memcpy(s.why, hv.update.why, sizeof(s.why));
	memcpy(s.vm_names, hv.update.vm_names, sizeof(s.vm_names));
	s.running[sizeof(s.running) - 1] = s.previous[sizeof(s.previous) - 1] = 0;
	s.why[sizeof(s.why) - 1] = s.vm_names[sizeof(s.vm_names) - 1] = 0;
	memcpy(buf, &s, sizeof(s));
	return 0;
}

static int upd_apply(struct trap_frame *f, bool to_previous)
{
	unsigned slot = free_slot();
	const struct shyper_image_info *in = update_slot_info(slot);

	if (to_previous) {
		if (hv.update.phase == SHYPER_UPD_PROBATION)
			return -SHYPER_EBUSY;
		if (hv.update.phase != SHYPER_UPD_IDLE)
			return -SHYPER_EALREADY;
		if (!hv.update.has_previous || in->magic != SHYPER_IMAGE_MAGIC)
			return -SHYPER_ENOENT;
		if (layout_drops_streams(in->state_version, hv.update.why,
					 sizeof(hv.update.why))) {
			log_warn("live update refused: %s", hv.update.why);
			return -SHYPER_EBUSY;
		}
		hv.update.handover_state = image_handover_layout(in, HV_STATE_VERSION);
	} else if (hv.update.phase != SHYPER_UPD_READY) {
		return -SHYPER_EINVAL;
	}
	f->x[0] = 0; /* what the caller sees, from the new image */
	return update_switch(slot, f, false);
}

int64_t hc_update(struct vcpu *caller, struct trap_frame *f, unsigned fn)
{
	int ret;

	if (!hc_caller_is_mvm(caller))
		return -SHYPER_EPERM;
	/* One update call at a time, whichever vCPU of the MVM makes it. */
	if (!__atomic_compare_exchange_n(&hv.update.lock, &(uint32_t){ 0 }, 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return -SHYPER_EBUSY;
	switch (fn) {
	case SHYPER_HVC_FN(SHYPER_UPD_BEGIN):
		ret = upd_begin(f->x[1]);
		break;
	case SHYPER_HVC_FN(SHYPER_UPD_CHUNK):
		ret = upd_chunk(caller, f->x[1], f->x[2], f->x[3]);
		break;
	case SHYPER_HVC_FN(SHYPER_UPD_CHECK):
		ret = upd_check(caller, f->x[1], f->x[2]);
		break;
	case SHYPER_HVC_FN(SHYPER_UPD_APPLY):
	case SHYPER_HVC_FN(SHYPER_UPD_ROLLBACK):
		/* A switch ends in the other image: that one's lock is free. */
		__atomic_store_n(&hv.update.lock, 0, __ATOMIC_RELEASE);
		return upd_apply(f, fn == SHYPER_HVC_FN(SHYPER_UPD_ROLLBACK));
	case SHYPER_HVC_FN(SHYPER_UPD_STATUS):
		__atomic_store_n(&hv.update.lock, 0, __ATOMIC_RELEASE);
		return upd_status(caller, f, f->x[1], f->x[2]);
	case SHYPER_HVC_FN(SHYPER_UPD_CANCEL):
		ret = hv.update.phase == SHYPER_UPD_RECEIVING || hv.update.phase == SHYPER_UPD_READY
			      ? 0 : -SHYPER_EINVAL;
		if (!ret)
			hv.update.phase = SHYPER_UPD_IDLE;
		break;
	default:
		ret = -SHYPER_ENOSYS;
	}
	__atomic_store_n(&hv.update.lock, 0, __ATOMIC_RELEASE);
	return ret;
}
