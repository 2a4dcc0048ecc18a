/*
 * Conversions of the state root between layouts (core/state_version.h),
 * in place: the root never moves, and a new layout only appends, so
 * nothing that points into the root moves either.
 *
 *   1 -> 2  appends struct hv_state_v2: each running VM's boot time, which
 *           layout 1 did not keep. Its default is computed: now less the
 *           time vCPU 0 has had its core (exact for a VM on cores of its
 *           own, where an idle vCPU keeps its core; a lower bound otherwise).
 *   2 -> 1  drops it.
 *   2 -> 3  appends struct hv_state_v3: each vCPU's EL1 physical timer.
 *           Layout 2 trapped the timer, so none was running: all zero,
 *           and every vCPU's timer PPI becomes a hardware-backed one.
 *   3 -> 2  drops them (the cores parked with the timers stopped; the
 *           older image traps the registers again).
 *   3 -> 4  appends struct hv_state_v4: the SMMU and the VMs' DMA streams.
 *           Layout 3 never took the SMMU, and the new image does not
 *           either (it learns of the SMMU from the board's tree, at a
 *           cold boot): no SMMU, no streams.
 *   4 -> 3  drops it; the update is refused while a VM has streams
 *           (core/update.c), so the older image, which would free the
 *           VM's memory without stopping its DMA, never gets one. An SMMU
 *           taken stays on with every stream blocked.
 * Layouts further apart convert one step at a time.
 */
#include <arch/timer.h>
#include <arch/vcpu_ptimer.h>
#include <core/state.h>
#include <core/update.h>
#include <lib/string.h>
#include <shyper/errno.h>

uint64_t vm_run_ticks_estimate(const struct vm *vm)
{
	const struct vcpu *v = &vm->vcpus[0];

	return v->run_ticks + (v->run_since ? timer_now() - v->run_since : 0);
}

#if HV_STATE_VERSION >= 2
static void up_1_to_2(void)
{
	uint64_t now = timer_now();

	memset(&hv.v2, 0, sizeof(hv.v2));
	for (unsigned i = 0; i < HV_MAX_VMS; i++) {
		const struct vm *vm = &hv.vms[i];

		if (vm->state == VM_RUNNING && vm->nr_vcpus)
			hv.v2.vm_started_at[i] = now - vm_run_ticks_estimate(vm);
	}
}

static void down_2_to_1(void)
{
	memset(&hv.v2, 0, sizeof(hv.v2));
}
#endif

/* One step, from -> from +/- 1. */
static void convert_step(uint32_t from, uint32_t to)
{
#if HV_STATE_VERSION >= 2
	if (from == 1 && to == 2)
		up_1_to_2();
	else if (from == 2 && to == 1)
		down_2_to_1();
#endif
#if HV_STATE_VERSION >= 4
	if ((from == 3 && to == 4) || (from == 4 && to == 3))
		memset(&hv.v4, 0, sizeof(hv.v4));
#endif
#if HV_STATE_VERSION >= 3
	if (from == 2 && to == 3)
		vcpu_ptimer_adopt_all();
	else if (from == 3 && to == 2)
		vcpu_ptimer_drop_all();
#endif
	(void)from;
	(void)to;
}

int update_convert_state(uint32_t from, uint32_t to)
{
	if (from < HV_STATE_OLDEST || from > HV_STATE_VERSION || to < HV_STATE_OLDEST ||
	    to > HV_STATE_VERSION)
		return -SHYPER_EPROTO;
	while (from < to) {
		convert_step(from, from + 1);
		from++;
	}
	while (from > to) {
		convert_step(from, from - 1);
		from--;
	}
	hv.version = to;
	return 0;
}
