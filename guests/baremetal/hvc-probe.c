/*
 * hvc-probe: from inside a guest VM, checks that cshyper answers the standard
 * calls and refuses what a guest may not do (docs/HYPERCALLS.md). One line per
 * check on the UART, "hvc-probe: <name>: ok" or "... FAIL (...)", then
 * "hvc-probe: N passed, M failed", then PSCI SYSTEM_OFF.
 *
 * Run natively (no cshyper underneath: QEMU's own PSCI answers HVC) it says
 * so, skips the cshyper checks and the external-abort check, and still runs
 * the PSCI and SMCCC ones.
 *
 * The calls that would damage the board or this VM if wrongly allowed
 * (SYS_REBOOT, VMM_SHUTDOWN of itself, ...) run last: if one of them goes
 * through, the summary line never comes.
 */
#include "bm.h"

#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/ivc.h>
#include <shyper/mediated.h>
#include <shyper/version.h>

const char bm_name[] = "hvc-probe";

/* An address outside the VM's memory and devices: the hypervisor's image. */
#define FOREIGN_ADDR 0x40080000UL
#define SENTINEL 0x5a5a5a5a5a5a5a5aUL
#define GARBAGE 0xdeadbeefUL
#define ALL_ONES (~0UL)
#define BUF_FILL 0xa5

static unsigned passed, failed;

static void pass(const char *name)
{
	passed++;
	bm_printf("%s: %s: ok\n", bm_name, name);
}

static void __attribute__((format(printf, 3, 4)))
report(const char *name, bool ok, const char *why, ...)
{
	va_list ap;

	if (ok) {
		pass(name);
		return;
	}
	failed++;
	bm_printf("%s: %s: FAIL (", bm_name, name);
	va_start(ap, why);
	bm_vprintf(why, ap);
	va_end(ap);
	bm_puts(")\n");
}

static void check_eq(const char *name, uint64_t got, uint64_t want, const char *what)
{
	report(name, got == want, "got 0x%lx, want 0x%lx%s%s", got, want,
	       what ? " = " : "", what ? what : "");
}

/* 1, 2: the standard services. */
static void check_standard(bool cshyper)
{
	check_eq("PSCI_VERSION", bm_hvc0(PSCI_VERSION), 0x10001, "PSCI 1.1");

	uint64_t v = bm_hvc0(SMCCC_VERSION);

	/* Natively, firmware without SMCCC_VERSION is SMCCC 1.0: it answers
	 * NOT_SUPPORTED. cshyper must say 1.1. */
	if (!cshyper && v == (uint64_t)SMCCC_NOT_SUPPORTED) {
		bm_printf("%s: SMCCC_VERSION: skipped (NOT_SUPPORTED natively: SMCCC 1.0 firmware)\n",
			  bm_name);
		return;
	}
	check_eq("SMCCC_VERSION", v, 0x10001, "SMCCC 1.1");
}

/* 3: SYS_VERSION. */
static void check_sys_version(struct bm_smccc_res r)
{
	if (r.x0 == 0)
		bm_printf("%s: cshyper %lu.%lu.%lu, ABI %lu\n", bm_name, (r.x1 >> 16) & 0xff,
			  (r.x1 >> 8) & 0xff, r.x1 & 0xff, r.x2);
	if (r.x0 != 0)
		check_eq("SYS_VERSION", r.x0, 0, NULL);
	else
		check_eq("SYS_VERSION", r.x2, SHYPER_ABI_VERSION, "SHYPER_ABI_VERSION in x2");
}

/* 4: VMM_GET_ID; returns the VM's id. */
static uint64_t check_get_id(void)
{
	struct bm_smccc_res r = bm_hvc(SHYPER_VMM_GET_ID, 0, 0, 0, 0, 0, 0);

	if (r.x0 != 0) {
		check_eq("VMM_GET_ID", r.x0, 0, NULL);
		return 0;
	}
	bm_printf("%s: running as VM %lu\n", bm_name, r.x1);
	report("VMM_GET_ID", r.x1 != 0, "got VM id 0: a guest is never the MVM");
	return r.x1;
}

/* 6: unknown function ids. */
static void check_unknown(void)
{
	static const struct {
		const char *name;
		uint32_t fid;
	} ours[] = {
		{ "unknown 0xc60000ff", 0xc60000ffU },
		{ "unknown 0xc6000700", 0xc6000700U },
		{ "unknown 0xc600ff00", 0xc600ff00U },
	};

	for (unsigned i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		check_eq(ours[i].name, bm_hvc(ours[i].fid, GARBAGE, ALL_ONES, GARBAGE,
					      ALL_ONES, GARBAGE, ALL_ONES).x0,
			 (uint64_t)-SHYPER_ENOSYS, "-ENOSYS");
	check_eq("unknown SMCCC 0x82000000", bm_hvc0(0x82000000U),
		 (uint64_t)SMCCC_NOT_SUPPORTED, "NOT_SUPPORTED");
}

/* 7: PSCI on vCPUs. */
static void check_psci_cpus(void)
{
	check_eq("CPU_ON(mpidr 7)",
		 bm_hvc(PSCI_CPU_ON_64, 7, (uint64_t)(uintptr_t)bm_park, 0, 0, 0, 0).x0,
		 (uint64_t)PSCI_INVALID_PARAMETERS, "INVALID_PARAMETERS");
	check_eq("AFFINITY_INFO(0, 0)", bm_hvc(PSCI_AFFINITY_INFO_64, 0, 0, 0, 0, 0, 0).x0,
		 0, "ON");
}

/* 8: a load outside the VM's memory and devices comes back as a synchronous
 * external abort. */
static void check_external_abort(void)
{
	const char *name = "external abort";
	struct bm_fault f;
	uint64_t v;

	bm_fault_expect();
	v = bm_probe_load(FOREIGN_ADDR, SENTINEL);
	f = bm_fault_result();
	if (!f.taken) {
		report(name, false, "no exception; the load of 0x%lx returned 0x%lx",
		       FOREIGN_ADDR, v);
		return;
	}
	bm_printf("%s: load of 0x%lx: ESR_EL1 0x%lx (EC 0x%lx, DFSC 0x%lx) FAR_EL1 0x%lx "
		  "ELR_EL1 0x%lx\n", bm_name, FOREIGN_ADDR, f.esr, ESR_EC(f.esr),
		  ESR_DFSC(f.esr), f.far, f.elr);
	if (ESR_EC(f.esr) != ESR_EC_DABT_CUR)
		report(name, false, "got EC 0x%lx, want 0x%x (data abort, same EL)",
		       ESR_EC(f.esr), ESR_EC_DABT_CUR);
	else if (ESR_DFSC(f.esr) != DFSC_SYNC_EXTERNAL)
		report(name, false, "got DFSC 0x%lx, want 0x%x (synchronous external abort)",
		       ESR_DFSC(f.esr), DFSC_SYNC_EXTERNAL);
	else if (f.far != FOREIGN_ADDR)
		report(name, false, "got FAR_EL1 0x%lx, want 0x%lx", f.far, FOREIGN_ADDR);
	else if (f.elr != (uint64_t)(uintptr_t)bm_probe_load_insn)
		report(name, false, "got ELR_EL1 0x%lx, want 0x%lx (the load)", f.elr,
		       (uint64_t)(uintptr_t)bm_probe_load_insn);
	else if (v != SENTINEL)
		report(name, false, "the skipped load returned 0x%lx", v);
	else
		pass(name);
}

/* 5: MVM-only calls. A buffer in this VM's RAM that nothing may write. */
static uint8_t probe_buf[4096] __attribute__((aligned(16)));
static struct shyper_vm_desc probe_desc __attribute__((aligned(16)));

static void fill_buf(void)
{
	for (unsigned i = 0; i < sizeof(probe_buf); i++)
		probe_buf[i] = BUF_FILL;
}

static bool buf_intact(void)
{
	for (unsigned i = 0; i < sizeof(probe_buf); i++)
		if (probe_buf[i] != BUF_FILL)
			return false;
	return true;
}

static void expect_eperm(const char *call, const char *variant, uint32_t fid, uint64_t a1,
			 uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6)
{
	uint64_t got;
	bool intact;

	fill_buf();
	got = bm_hvc(fid, a1, a2, a3, a4, a5, a6).x0;
	intact = buf_intact();
	if (got == (uint64_t)-SHYPER_EPERM && intact) {
		passed++;
		bm_printf("%s: %s(%s): ok\n", bm_name, call, variant);
		return;
	}
	failed++;
	bm_printf("%s: %s(%s): FAIL (got 0x%lx, want 0x%lx = -EPERM%s)\n", bm_name, call,
		  variant, got, (uint64_t)-SHYPER_EPERM,
		  intact ? "" : "; and it wrote into the VM's buffer");
}

#define EPERM_GARBAGE(call, fid) \
	expect_eperm(call, "garbage", fid, GARBAGE, ALL_ONES, 0xdeadbeefdeadbeefUL, \
		     ALL_ONES, GARBAGE, ALL_ONES)

static void check_mvm_only(uint64_t self)
{
	static const struct {
		const char *name;
		uint32_t fid;
	} cfg[] = {
		{ "CFG_ADD_VM", SHYPER_CFG_ADD_VM },
		{ "CFG_SET_CPU", SHYPER_CFG_SET_CPU },
		{ "CFG_ADD_MEM", SHYPER_CFG_ADD_MEM },
		{ "CFG_ADD_EMU_DEV", SHYPER_CFG_ADD_EMU_DEV },
		{ "CFG_ADD_PT_REGION", SHYPER_CFG_ADD_PT_REGION },
		{ "CFG_ADD_PT_IRQ", SHYPER_CFG_ADD_PT_IRQ },
		{ "CFG_ADD_DTB_DEV", SHYPER_CFG_ADD_DTB_DEV },
		{ "CFG_SET_IMAGE", SHYPER_CFG_SET_IMAGE },
		{ "CFG_UPLOAD", SHYPER_CFG_UPLOAD },
		{ "CFG_FINISH", SHYPER_CFG_FINISH },
		{ "CFG_ADD_PT_STREAM", SHYPER_CFG_ADD_PT_STREAM },
	};
	/* Replacing the hypervisor is the MVM's alone too. */
	static const struct {
		const char *name;
		uint32_t fid;
	} upd[] = {
		{ "UPD_BEGIN", SHYPER_UPD_BEGIN },	 { "UPD_CHUNK", SHYPER_UPD_CHUNK },
		{ "UPD_CHECK", SHYPER_UPD_CHECK },	 { "UPD_APPLY", SHYPER_UPD_APPLY },
		{ "UPD_STATUS", SHYPER_UPD_STATUS },	 { "UPD_ROLLBACK", SHYPER_UPD_ROLLBACK },
		{ "UPD_CANCEL", SHYPER_UPD_CANCEL },
	};
	static const struct {
		const char *name;
		uint32_t fid;
	} mig[] = {
		{ "MIG_PAUSE", SHYPER_MIG_PAUSE },
		{ "MIG_RESUME", SHYPER_MIG_RESUME },
		{ "MIG_DIRTY_START", SHYPER_MIG_DIRTY_START },
		{ "MIG_DIRTY_STOP", SHYPER_MIG_DIRTY_STOP },
		{ "MIG_DIRTY_FETCH", SHYPER_MIG_DIRTY_FETCH },
		{ "MIG_MEM_READ", SHYPER_MIG_MEM_READ },
		{ "MIG_MEM_WRITE", SHYPER_MIG_MEM_WRITE },
		{ "MIG_STATE_SAVE", SHYPER_MIG_STATE_SAVE },
		{ "MIG_STATE_LOAD", SHYPER_MIG_STATE_LOAD },
		{ "MIG_IMAGE_READ", SHYPER_MIG_IMAGE_READ },
		{ "MIG_THROTTLE", SHYPER_MIG_THROTTLE },
	}, med[] = {
		{ "MED_REGISTER", SHYPER_MED_REGISTER },
		{ "MED_UNREGISTER", SHYPER_MED_UNREGISTER },
		{ "MED_FETCH", SHYPER_MED_FETCH },
		{ "MED_COMPLETE", SHYPER_MED_COMPLETE },
	};
	static const char evil[] = "hvc-probe-child";
	uint64_t buf = (uint64_t)(uintptr_t)probe_buf, len = sizeof(probe_buf);

	/* Calls that only read or return state. */
	expect_eperm("SYS_INFO", "own buffer", SHYPER_SYS_INFO, buf, len, 0, 0, 0, 0);
	EPERM_GARBAGE("SYS_INFO", SHYPER_SYS_INFO);
	expect_eperm("SYS_NOTIFY", "0", SHYPER_SYS_NOTIFY, 0, 0, 0, 0, 0, 0);
	expect_eperm("VMM_LIST", "own buffer", SHYPER_VMM_LIST, buf, len, 0, 0, 0, 0);
	EPERM_GARBAGE("VMM_LIST", SHYPER_VMM_LIST);
	expect_eperm("VMM_INFO", "id=0", SHYPER_VMM_INFO, 0, buf, len, 0, 0, 0);
	expect_eperm("VMM_INFO", "id=self", SHYPER_VMM_INFO, self, buf, len, 0, 0, 0);

	/* Configuration: every call with garbage, and ADD_VM with a valid request. */
	for (unsigned i = 0; i < sizeof(cfg) / sizeof(cfg[0]); i++)
		EPERM_GARBAGE(cfg[i].name, cfg[i].fid);
	memset(&probe_desc, 0, sizeof(probe_desc));
	for (unsigned i = 0; i < sizeof(evil); i++)
		probe_desc.name[i] = evil[i];
	probe_desc.type = SHYPER_VM_T_BARE_METAL;
	expect_eperm("CFG_ADD_VM", "valid desc", SHYPER_CFG_ADD_VM,
		     (uint64_t)(uintptr_t)&probe_desc, sizeof(probe_desc), 0, 0, 0, 0);

	/* Life cycle of the MVM and of this VM. */
	expect_eperm("VMM_BOOT", "id=0", SHYPER_VMM_BOOT, 0, 0, 0, 0, 0, 0);
	expect_eperm("VMM_BOOT", "id=self", SHYPER_VMM_BOOT, self, 0, 0, 0, 0, 0);
	expect_eperm("VMM_REMOVE", "id=0", SHYPER_VMM_REMOVE, 0, 0, 0, 0, 0, 0);
	expect_eperm("VMM_REMOVE", "id=self", SHYPER_VMM_REMOVE, self, 0, 0, 0, 0, 0);
	expect_eperm("VMM_REBOOT", "id=0", SHYPER_VMM_REBOOT, 0, 0, 0, 0, 0, 0);
	expect_eperm("VMM_REBOOT", "id=self", SHYPER_VMM_REBOOT, self, 0, 0, 0, 0, 0);
	expect_eperm("VMM_SHUTDOWN", "id=0", SHYPER_VMM_SHUTDOWN, 0, 0, 0, 0, 0, 0);
	expect_eperm("VMM_SHUTDOWN", "id=self", SHYPER_VMM_SHUTDOWN, self, 0, 0, 0, 0, 0);

	/* Live update: every call with garbage, an upload, a switch back. */
	for (unsigned i = 0; i < sizeof(upd) / sizeof(upd[0]); i++)
		EPERM_GARBAGE(upd[i].name, upd[i].fid);
	expect_eperm("UPD_BEGIN", "4 KiB", SHYPER_UPD_BEGIN, 4096, 0, 0, 0, 0, 0);
	expect_eperm("UPD_CHUNK", "own buffer", SHYPER_UPD_CHUNK, 0, buf, len, 0, 0, 0);
	expect_eperm("UPD_ROLLBACK", "0", SHYPER_UPD_ROLLBACK, 0, 0, 0, 0, 0, 0);

	/* The MVM's other views of VMs, with this VM and the MVM named. */
	expect_eperm("VMM_VCPU_INFO", "id=self", SHYPER_VMM_VCPU_INFO, self, 0, buf, len, 0, 0);
	expect_eperm("VMM_CONSOLE", "id=0", SHYPER_VMM_CONSOLE, 0, 0, buf, len, 0, 0);
	expect_eperm("VMM_NET_INFO", "id=self", SHYPER_VMM_NET_INFO, self, buf, len, 0, 0, 0);
	expect_eperm("VMM_UPTIME", "id=self", SHYPER_VMM_UPTIME, self, 0, 0, 0, 0, 0);

	/* Migration (its own memory and state, the MVM's), the mediated disk
	 * daemon's calls, and IVC channels set up by the MVM. */
	for (unsigned i = 0; i < sizeof(mig) / sizeof(mig[0]); i++) {
		EPERM_GARBAGE(mig[i].name, mig[i].fid);
		expect_eperm(mig[i].name, "id=self", mig[i].fid, self, 0x40000000, buf, len, 0, 0);
		expect_eperm(mig[i].name, "id=0", mig[i].fid, 0, 0x50000000, buf, len, 0, 0);
	}
	for (unsigned i = 0; i < sizeof(med) / sizeof(med[0]); i++)
		EPERM_GARBAGE(med[i].name, med[i].fid);
	expect_eperm("MED_FETCH", "own buffer", SHYPER_MED_FETCH, buf, len, 0, 0, 0, 0);
	expect_eperm("MED_REGISTER", "index 0", SHYPER_MED_REGISTER, 0, 64, 0, 0, 0, 0);
	EPERM_GARBAGE("IVC_ADD_CHANNEL", SHYPER_IVC_ADD_CHANNEL);
	expect_eperm("IVC_ADD_CHANNEL", "id=self", SHYPER_IVC_ADD_CHANNEL, self, buf, len, 0, 0, 0);

	/* The board. */
	expect_eperm("SYS_SHUTDOWN", "0", SHYPER_SYS_SHUTDOWN, 0, 0, 0, 0, 0, 0);
	expect_eperm("SYS_REBOOT", "0", SHYPER_SYS_REBOOT, 0, 0, 0, 0, 0, 0);

	/* Still here, and still the same VM. */
	struct bm_smccc_res r = bm_hvc(SHYPER_VMM_GET_ID, 0, 0, 0, 0, 0, 0);

	report("VMM_GET_ID(after)", r.x0 == 0 && r.x1 == self,
	       "got x0 0x%lx x1 %lu, want 0 and VM %lu", r.x0, r.x1, self);
}

int main(void);
int main(void)
{
	struct bm_smccc_res ver;
	bool cshyper;

	bm_printf("%s: start\n", bm_name);
	ver = bm_hvc(SHYPER_SYS_VERSION, 0, 0, 0, 0, 0, 0);
	/* Natively QEMU's firmware answers every unknown call NOT_SUPPORTED. */
	cshyper = ver.x0 != (uint64_t)SMCCC_NOT_SUPPORTED;
	if (!cshyper)
		bm_printf("%s: no cshyper hypervisor (SYS_VERSION returned 0x%lx): "
			  "skipping the cshyper and external abort checks\n",
			  bm_name, ver.x0);

	check_standard(cshyper);
	if (cshyper) {
		uint64_t self;

		check_sys_version(ver);
		self = check_get_id();
		check_unknown();
		check_psci_cpus();
		check_external_abort();
		check_mvm_only(self);
	} else {
		check_psci_cpus();
	}

	bm_printf("%s: %u passed, %u failed\n", bm_name, passed, failed);
	bm_system_off();
}
