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
 */
#include <arch/timer.h>
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

int update_convert_state(uint32_t from, uint32_t to)
{
	if (from < HV_STATE_OLDEST || from > HV_STATE_VERSION || to < HV_STATE_OLDEST ||
	    to > HV_STATE_VERSION)
		return -SHYPER_EPROTO;
#if HV_STATE_VERSION >= 2
	if (from == 1 && to == 2)
		up_1_to_2();
	else if (from == 2 && to == 1)
		down_2_to_1();
#endif
	hv.version = to;
	return 0;
}
