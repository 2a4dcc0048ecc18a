/*
 * The switch of a live update, and the new image's start.
 *
 * The leader (the core whose MVM vCPU asked) parks every other online core
 * at a safe point: the end of a guest exit (sched_on_exit) or the idle
 * loop, where no emulation is half done and no lock is held. A parked core
 * has its vCPU's whole context saved in the state root, its interrupts
 * masked, and waits for the next release: release_entry 1 sends it to its
 * idle loop (the switch was called off, or every core is back and all
 * resume), any other value is an image's secondary entry. The leader saves
 * its own vCPU, converts the root to the layout both images know and jumps
 * into the new image, which takes the root over, rebuilds what is derived
 * from the board, releases the others into itself, waits for every one to
 * report back and park again, lets them all resume and runs its
 * self-check on probation. Every core then finds its vCPU in its idle loop
 * and resumes it exactly where it was; interrupts that came meanwhile are
 * still pending in the GIC.
 */
#include <arch/cpu.h>
#include <arch/gic.h>
#include <arch/mmu.h>
#include <arch/timer.h>
#include <core/console.h>
#include <core/cpu.h>
#include <core/irq.h>
#include <core/ivc.h>
#include <core/log.h>
#include <core/selftest.h>
#include <core/smp.h>
#include <core/stack_guard.h>
#include <core/state.h>
#include <core/update.h>
#include <core/vm.h>
#include <dev/vgic.h>
#include <lib/fmt.h>
#include <lib/string.h>
#include <shyper/errno.h>
#include <lib/popcount.h>

#define RELEASE_RESUME 1UL

void __attribute__((noreturn)) halt(void);

bool update_park_requested(void)
{
	return __atomic_load_n(&hv.update.park_epoch, __ATOMIC_ACQUIRE) != 0;
}

static uint64_t bit(unsigned core)
{
	return 1UL << core;
}

/*
 * Parked (interrupts masked, context saved) until the next release this core has not acted on (each release
 * counts, release_seq): one that was already there when the core parked,
 * or that it followed before, never moves it again. Returns on a resume
 * only if asked to; else a resume goes to the idle loop, and an entry is
 * jumped to.
 */
static void park_until_released(bool return_on_resume)
{
	unsigned me = this_cpu_id();

	irq_disable();
	this_cpu()->resched = true; /* the idle loop looks for its vCPU */
	for (;;) {
		uint32_t seq = __atomic_load_n(&hv.update.release_seq, __ATOMIC_ACQUIRE);

		/* Set again each time: a later switch clears the mask first. */
		if (!(__atomic_load_n(&hv.update.parked, __ATOMIC_ACQUIRE) & bit(me)))
			__atomic_fetch_or(&hv.update.parked, bit(me), __ATOMIC_ACQ_REL);
		if (seq != hv.update.acted_seq[me]) {
			uint64_t entry = __atomic_load_n(&hv.update.release_entry, __ATOMIC_ACQUIRE);

			hv.update.acted_seq[me] = seq;
			__atomic_fetch_and(&hv.update.parked, ~bit(me), __ATOMIC_ACQ_REL);
			if (entry != RELEASE_RESUME) {
				/* Into the other image: the leader opened it. */
				mmu_allow_foreign_code();
				((void (*)(uint64_t))entry)(me);
			}
			if (return_on_resume)
				return;
			cpu_park_here();
		}
		__asm__ volatile("wfe" ::: "memory");
	}
}

static void __attribute__((noreturn)) park_loop(void)
{
	park_until_released(false);
	halt();
}

void update_park_from_exit(struct trap_frame *f)
{
	if (current_vcpu())
		vcpu_save_and_leave(f);
	park_loop();
}

void update_park_idle(void)
{
	park_loop();
}

static bool parked_all(void *arg)
{
	uint64_t want = *(uint64_t *)arg;

	return (__atomic_load_n(&hv.update.parked, __ATOMIC_ACQUIRE) & want) == want;
}

static bool released_all(void *arg)
{
	(void)arg;
	return !__atomic_load_n(&hv.update.parked, __ATOMIC_ACQUIRE);
}

/* Sends the parked cores on; the leader counts the release as seen. */
static void release(uint64_t entry)
{
	uint32_t seq = hv.update.release_seq + 1;

	__atomic_store_n(&hv.update.release_entry, entry, __ATOMIC_RELEASE);
	__atomic_store_n(&hv.update.release_seq, seq, __ATOMIC_RELEASE);
	hv.update.acted_seq[this_cpu_id()] = seq;
	dsb(sy);
	__asm__ volatile("sev" ::: "memory");
}

/* Called off: every parked core back to its idle loop, in this image. */
static void resume_parked(void)
{
	__atomic_store_n(&hv.update.park_epoch, 0, __ATOMIC_RELEASE);
	release(RELEASE_RESUME);
	wait_until(released_all, 0, UPDATE_PARK_TIMEOUT_US);
}

static uint64_t online_cores(void)
{
	uint64_t m = 0;

	for (unsigned c = 0; c < hv.nr_cpus; c++)
		if (hv.cpus[c].state == CPU_ONLINE)
			m |= bit(c);
	return m;
}

static void note_vms(void)
{
	size_t at = 0;

	hv.update.vms_kept = 0;
	hv.update.vm_names[0] = 0;
	for (unsigned i = 0; i < HV_MAX_VMS; i++) {
		const struct vm *vm = &hv.vms[i];
		bool runs = false;

		for (unsigned v = 0; v < vm->nr_vcpus && vm->setup_done; v++)
			runs |= vm->vcpus[v].state != VCPU_OFF;
		if (!runs)
			continue;
		hv.update.vms_kept++;
		at += (size_t)fmt_snprintf(hv.update.vm_names + at, sizeof(hv.update.vm_names) - at,
					   "%s%s", at ? ", " : "", vm->cfg->name);
		if (at >= sizeof(hv.update.vm_names))
			at = sizeof(hv.update.vm_names) - 1;
	}
}

int update_switch(unsigned slot, struct trap_frame *f, bool rollback)
{
	const struct shyper_image_info *in = update_slot_info(slot);
	unsigned me = this_cpu_id();
	uint64_t others = online_cores() & ~bit(me);
	uint64_t entry = hv.update.slot_pa[slot] + in->update_entry;
	uint32_t layout = in->state_version < HV_STATE_VERSION ? in->state_version : HV_STATE_VERSION;

	irq_disable();
	/* A rollback from inside a switch keeps the pause's first start. */
	if (f || !rollback)
		hv.update.pause_start = timer_now();
	hv.update.leader = me;
	hv.update.parked = 0;
	hv.update.back = 0;
	__atomic_store_n(&hv.update.park_epoch, 1, __ATOMIC_RELEASE);
	dsb(sy);
	__asm__ volatile("sev" ::: "memory"); /* cores already parked say so again */
	for (unsigned c = 0; c < hv.nr_cpus; c++)
		if (others & bit(c)) {
			__atomic_store_n(&hv.cpus[c].resched, true, __ATOMIC_SEQ_CST);
			gic_send_sgi(c, SGI_WORK);
		}
	if (!wait_until(parked_all, &others, UPDATE_PARK_TIMEOUT_US)) {
		uint64_t late = others & ~hv.update.parked;

		resume_parked();
		log_err("live update called off: core(s) 0x%lx did not stop in time", late);
		return -SHYPER_EBUSY;
	}
	/* Nothing can fail from here in this image. */
	if (f && current_vcpu())
		vcpu_save_and_leave(f);
	this_cpu()->resched = true;
	hv.update.online = others | bit(me);
	hv.update.cores_paused = (uint32_t)popcount64(hv.update.online);
	note_vms();
	hv.update.from_rollback = rollback;
	memcpy(hv.update.previous_version, hv.update.running_version,
	       sizeof(hv.update.previous_version));
	memcpy(hv.update.running_version, in->version, sizeof(hv.update.running_version));
	hv.update.running = slot;
	hv.update.has_previous = true;
	hv.update.phase = SHYPER_UPD_IDLE;
	update_convert_state(HV_STATE_VERSION, layout);
	mmu_open_image(hv.update.slot_pa[slot], HV_SLOT_SIZE);
	((void (*)(uint64_t))entry)((uint64_t)hv_state_root);
	halt();
}

/* ---- The new image ------------------------------------------------------ */

static void rebuild_interrupts(void)
{
	struct gic_desc desc;

	irq_board_gic(&desc);
	gic_attach(&desc);
	smp_register_ipis();
	selftest_register_timer();
	console_register_irq();
	ivc_init();
	/* The VMs' passthrough interrupts: hv_state_rebind(). */
}

/* This core's share: its GIC interface and virtual-interface state. */
static int attach_core(unsigned id)
{
	int ret = gic_cpu_attach(id, hv.cpus[id].mpidr);

	return ret ?: vgic_cpu_init();
}

static bool back_all(void *arg)
{
	(void)arg;
	return (__atomic_load_n(&hv.update.back, __ATOMIC_ACQUIRE) & hv.update.online) ==
	       hv.update.online;
}

/* Interrupts the core took: the general path's count, and the virtual
 * timer interrupts the vectors' fast path delivered to its vCPUs. */
static uint64_t core_interrupts(unsigned c)
{
	uint64_t n = hv.cpus[c].irqs;

	for (unsigned i = 0; i < HV_MAX_VMS; i++)
		for (unsigned v = 0; v < hv.vms[i].nr_vcpus && hv.vms[i].setup_done; v++)
			if (hv.vms[i].vcpus[v].pcpu == c)
				n += hv.vms[i].vcpus[v].fast_timer_exits;
	return n;
}

static void note_waiting_vcpus(void)
{
	hv.update.vcpus_waiting = 0;
	for (unsigned i = 0; i < HV_MAX_VMS; i++) {
		const struct vm *vm = &hv.vms[i];

		/* Paused ones and ones waiting in WFI for their core are not
		 * due to run: only those that had their core. */
		for (unsigned v = 0; v < vm->nr_vcpus && vm->setup_done && !vm_is_paused(vm); v++)
			if (vm->vcpus[v].state == VCPU_RUNNING && !vm->vcpus[v].blocked)
				hv.update.vcpus_waiting |= bit(i * VM_MAX_VCPUS + v);
	}
	for (unsigned c = 0; c < hv.nr_cpus; c++)
		hv.update.irqs_at[c] = core_interrupts(c);
}

/* The new image could not take over at all: back to the previous one
 * with the root as it came (nothing was converted yet). */
static void __attribute__((noreturn)) hand_back(const char *why)
{
	unsigned prev = hv.update.running ^ 1;
	const struct shyper_image_info *in = update_slot_info(prev);

	fmt_snprintf(hv.update.why, sizeof(hv.update.why), "%s", why);
	hv.update.running = prev;
	hv.update.from_rollback = true;
	memcpy(hv.update.running_version, hv.update.previous_version,
	       sizeof(hv.update.running_version));
	mmu_open_image(hv.update.slot_pa[prev], HV_SLOT_SIZE);
	((void (*)(uint64_t))(hv.update.slot_pa[prev] + in->update_entry))((uint64_t)hv_state_root);
	halt();
}

void NO_STACK_PROTECTOR hv_update_main(struct hv_state *root)
{
	unsigned me;

	hv_state_root = root;
	me = hv.update.leader;
	arch_set_this_cpu(&hv.cpus[me]);
	hv.update.rollback_due = false;
	if (hv.magic != HV_STATE_MAGIC || update_convert_state(hv.version, HV_STATE_VERSION))
		hand_back("the new image could not import the state root");
	mmu_build_boot_tables(hv.dtb_pa);
	mmu_switch_tables();
	stack_guard_init(); /* from the carried pool, before any other core runs here */
	hv_state_rebind();
	rebuild_interrupts();
	if (attach_core(me))
		hand_back("the new image found no GIC interface on the boot core");
	__atomic_fetch_or(&hv.update.back, bit(me), __ATOMIC_ACQ_REL);
	release(hv.update.slot_pa[hv.update.running] +
		update_slot_info(hv.update.running)->secondary_update_entry);
	if (!wait_until(back_all, 0, UPDATE_PARK_TIMEOUT_US)) {
		uint64_t late = hv.update.online & ~hv.update.back;

		fmt_snprintf(hv.update.why, sizeof(hv.update.why),
			     "core(s) 0x%lx did not come back in %s", late, hv.update.running_version);
		log_err("live update: %s; rolling back", hv.update.why);
		/* Every vCPU is still saved: straight back. The cores that came
		 * back wait parked here, a late one in either image's loop. */
		update_switch(hv.update.running ^ 1, 0, true);
	}
	hv.update.pause_ticks = timer_now() - hv.update.pause_start;
	if (hv.update.from_rollback) {
		hv.update.outcome = SHYPER_UPD_ROLLED_BACK;
		hv.update.rollbacks++;
		/* The other slot holds the image that failed: not one to go
		 * back to on request. */
		hv.update.has_previous = false;
		log_warn("live update rolled back to %s: %s", HV_VERSION_STRING, hv.update.why);
	} else {
		hv.update.why[0] = 0;
		hv.update.updates++;
		hv.update.outcome = SHYPER_UPD_NONE;
		hv.update.phase = SHYPER_UPD_PROBATION;
		hv.update.probation_end = timer_now() + timer_us_to_ticks(UPDATE_PROBATION_US);
		note_waiting_vcpus();
	}
	log_info("cshyper %s running: %u cores paused %lu us, %u VMs kept", HV_VERSION_STRING,
		 hv.update.cores_paused, timer_ticks_to_us(hv.update.pause_ticks),
		 hv.update.vms_kept);
	/* Every core back: all resume together. */
	__atomic_store_n(&hv.update.park_epoch, 0, __ATOMIC_RELEASE);
	release(RELEASE_RESUME);
	this_cpu()->resched = true;
	smp_idle_loop();
}

void hv_update_secondary_main(unsigned id)
{
	arch_set_this_cpu(&hv.cpus[id]);
	if (attach_core(id)) {
		log_err("live update: no GIC interface on this core");
		halt();
	}
#if HV_UPDATE_FAULT == 1
	/* Built to fail its self-check (tests): the last core never reports
	 * back, and waits to be sent on like a parked one. */
	if (id == hv.nr_cpus - 1)
		park_loop();
#endif
	__atomic_fetch_or(&hv.update.back, bit(id), __ATOMIC_ACQ_REL);
#if HV_UPDATE_FAULT == 2
	/* Built to fail its self-check later (tests): core 1 comes back but
	 * never resumes its vCPUs; it still answers interrupts and parks. */
	if (id == 1) {
		park_until_released(true);
		for (;;) {
			irq_disable();
			if (update_park_requested())
				park_loop();
			wfi();
			irq_enable();
		}
	}
#endif
	/* Parked until the leader has seen every core: then all resume
	 * together, or all go back if one did not come. */
	park_loop();
}

/* ---- Probation ---------------------------------------------------------- */

void update_vcpu_entered(const struct vcpu *v)
{
	uint64_t b = bit(v->vm->id * VM_MAX_VCPUS + v->id);

	if (__atomic_load_n(&hv.update.vcpus_waiting, __ATOMIC_RELAXED) & b)
		__atomic_fetch_and(&hv.update.vcpus_waiting, ~b, __ATOMIC_RELAXED);
}

/*
 * Every core took an interrupt since the switch. A core whose guest sits in
 * WFI may take none for seconds, so a core that has not is sent SGI_WORK
 * (nothing to do): taking it is the proof, seen at the next judgement.
 */
static bool interrupts_flow(unsigned *stuck)
{
	bool all = true;

	for (unsigned c = 0; c < hv.nr_cpus; c++) {
		if (!(hv.update.online & bit(c)) || core_interrupts(c) != hv.update.irqs_at[c])
			continue;
		gic_send_sgi(c, SGI_WORK);
		*stuck = c;
		all = false;
	}
	return all;
}

bool update_probation_due(void)
{
	unsigned stuck = 0;
	bool healthy;

	if (hv.update.phase != SHYPER_UPD_PROBATION)
		return false;
	if (hv.update.rollback_due)
		return true;
	healthy = !hv.update.vcpus_waiting && interrupts_flow(&stuck);
	if (healthy) {
		hv.update.phase = SHYPER_UPD_IDLE;
		hv.update.outcome = SHYPER_UPD_HEALTHY;
		log_info("live update: %s passed its self-check", HV_VERSION_STRING);
		return false;
	}
	if (timer_now() < hv.update.probation_end)
		return false;
	if (hv.update.vcpus_waiting)
		fmt_snprintf(hv.update.why, sizeof(hv.update.why),
			     "self-check: a vCPU did not run again (mask 0x%lx)", hv.update.vcpus_waiting);
	else
		fmt_snprintf(hv.update.why, sizeof(hv.update.why),
			     "self-check: core %u took no interrupt since the switch, not even an IPI",
			     stuck);
	log_err("live update: %s; rolling back", hv.update.why);
	hv.update.rollback_due = true;
	return true;
}

void update_poll_exit(struct trap_frame *f)
{
	if (update_park_requested() && this_cpu_id() != hv.update.leader)
		update_park_from_exit(f);
	if (this_cpu_id() == hv.update.leader && update_probation_due())
		update_switch(hv.update.running ^ 1, f, true);
}
