/* The dispatcher only routes; each group's owner checks its caller and
 * arguments (docs/HYPERCALLS.md). */
#include <arch/psci.h>
#include <core/event.h>
#include <core/hypercall.h>
#include <core/ivc.h>
#include <core/log.h>
#include <core/mem.h>
#include <core/state.h>
#include <core/update.h>
#include <core/vm.h>
#include <dev/mediated.h>
#include <lib/string.h>
#include <plat/platform.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/version.h>

static const hc_group_handler groups[] = {
	[SHYPER_GRP_SYS] = hc_sys,
	[SHYPER_GRP_VMM] = hc_vmm,
	[SHYPER_GRP_CONFIG] = hc_config,
	[SHYPER_GRP_IVC] = hc_ivc,
	[SHYPER_GRP_MEDIATED] = hc_mediated,
	[SHYPER_GRP_MIGRATE] = hc_migrate,
	[SHYPER_GRP_UPDATE] = hc_update,
};

void hypercall_handle(struct vcpu *caller, struct trap_frame *f)
{
	uint32_t fid = (uint32_t)f->x[0];
	unsigned group = SHYPER_HVC_GROUP(fid);
	int64_t ret = -SHYPER_ENOSYS;

	if (group < sizeof(groups) / sizeof(groups[0]) && groups[group])
		ret = groups[group](caller, f, SHYPER_HVC_FN(fid));
	f->x[0] = (uint64_t)ret;
}

bool hc_caller_is_mvm(const struct vcpu *caller)
{
	return vm_is_mvm(caller->vm);
}

void *hc_mvm_buffer(struct vcpu *caller, uint64_t ipa, uint64_t len)
{
	if (!hc_caller_is_mvm(caller) || !len)
		return 0;
	return vm_ram_ptr(caller->vm, ipa, len);
}

static void fill_sys_info(struct shyper_sys_info *info)
{
	memset(info, 0, sizeof(*info));
	info->version = (SHYPER_VERSION_MAJOR << 16) | (SHYPER_VERSION_MINOR << 8) |
			SHYPER_VERSION_PATCH;
	info->abi = SHYPER_ABI_VERSION;
	memcpy(info->board, PLAT_NAME, sizeof(PLAT_NAME));
	info->nr_cpus = hv.nr_cpus;
	info->gic_version = hv.board.gic.version;
	info->total_ram = hv.board.total_ram;
	info->free_ram = mem_free_frame_count() * FRAME_SIZE;
	for (unsigned c = 0; c < hv.nr_cpus && c < SHYPER_MAX_CPUS; c++)
		info->cpu_owner[c] = hv.cpu_owner[c];
	memcpy(info->version_string, HV_VERSION_STRING, sizeof(HV_VERSION_STRING));
	info->state_version = HV_STATE_VERSION;
	info->updates = hv.update.updates;
	info->heap_free = hv_heap_free();
	for (unsigned i = 0; i <= GIC_MAX_INTID; i++)
		info->irqs_owned += hv.irq_owner[i] != 0;
}

_Static_assert(__builtin_offsetof(struct shyper_sys_info, irqs_owned) ==
		       SHYPER_SYS_INFO_MIN_SIZE, "SYS_INFO's first layout");

int64_t hc_sys(struct vcpu *caller, struct trap_frame *f, unsigned fn)
{
	struct shyper_sys_info info;
	struct event ev;
	uint64_t len;
	void *buf;

	if (fn == SHYPER_HVC_FN(SHYPER_SYS_VERSION)) {
		f->x[1] = (SHYPER_VERSION_MAJOR << 16) | (SHYPER_VERSION_MINOR << 8) |
			  SHYPER_VERSION_PATCH;
		f->x[2] = SHYPER_ABI_VERSION;
		return 0;
	}
	if (fn > SHYPER_HVC_FN(SHYPER_SYS_NOTIFY))
		return -SHYPER_ENOSYS;
	if (!hc_caller_is_mvm(caller))
		return -SHYPER_EPERM;
	switch (fn) {
	case SHYPER_HVC_FN(SHYPER_SYS_INFO):
		/* An older caller's shorter struct gets what it knows. */
		if (f->x[2] < SHYPER_SYS_INFO_MIN_SIZE)
			return -SHYPER_EINVAL;
		len = f->x[2] < sizeof(info) ? f->x[2] : sizeof(info);
		buf = hc_mvm_buffer(caller, f->x[1], len);
		if (!buf)
			return -SHYPER_EFAULT;
		fill_sys_info(&info);
		memcpy(buf, &info, len);
		return 0;
	case SHYPER_HVC_FN(SHYPER_SYS_REBOOT):
		log_info("the management VM asked for a board reset");
		psci_system_reset();
	case SHYPER_HVC_FN(SHYPER_SYS_SHUTDOWN):
		log_info("the management VM asked to power the board off");
		psci_system_off();
	case SHYPER_HVC_FN(SHYPER_SYS_NOTIFY):
		if (!event_pop(&ev))
			return -SHYPER_EAGAIN;
		f->x[1] = ev.type;
		f->x[2] = ev.vm;
		f->x[3] = ev.state;
		return 0;
	}
	return -SHYPER_ENOSYS;
}
