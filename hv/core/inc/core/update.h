/*
 * Live update of the hypervisor image (docs/ARCHITECTURE.md, "Live
 * update"). Two image slots of HV_SLOT_SIZE: the cold-boot image's (where
 * the boot loader put it) and one reserved at boot. A new image is uploaded
 * into the slot the running image does not use, checked, and switched to
 * with every core parked at a safe point; the state root stays where it is
 * and the new image takes it over. The slot left behind keeps the previous
 * image until the next upload, for a rollback.
 */
#ifndef CORE_UPDATE_H
#define CORE_UPDATE_H

#include <arch/asm.h>
#include <arch/exception.h>
#include <shyper/hypercall.h>
#include <shyper/image.h>
#include <stdbool.h>
#include <stdint.h>

/* Same as HV_SLOT_SIZE in arch/<arch>/cshyper.ld. */
#define HV_SLOT_SIZE (2UL << 20)
/* The state root's memory, right after the cold-boot slot: room for the
 * layouts to grow without moving it. */
#define HV_STATE_AREA (1UL << 20)

/* How long a new image has to prove itself, and cores to park or come
 * back: bounds for "broken", met in microseconds when all is well, and
 * generous because an emulated core on a busy host waits for its turn. */
#define UPDATE_PROBATION_US 3000000
#define UPDATE_PARK_TIMEOUT_US 1000000

/* In the state root: carried by every image, same layout in all of them. */
struct hv_update {
	uint32_t lock;		/* one update call at a time (update.c) */
	uint64_t slot_pa[2];	/* slot 0: the cold-boot image's */
	uint32_t running;	/* slot of the running image */
	bool has_previous;	/* the other slot holds the image that ran before */
	uint32_t phase;		/* enum shyper_upd_phase */
	uint32_t outcome;	/* enum shyper_upd_outcome of the last switch */
	uint64_t size, received; /* the upload into the other slot */
	uint32_t handover_state; /* the layout CHECK chose for the switch */
	/* The switch: the leader parks the others, each acknowledges. */
	uint32_t leader;
	volatile uint32_t park_epoch;	 /* non-zero: park at the next safe point */
	volatile uint64_t parked;	 /* cores that did */
	volatile uint64_t release_entry; /* 1: resume here; else jump there */
	volatile uint32_t release_seq;	 /* releases so far */
	uint32_t acted_seq[HV_MAX_CPUS]; /* the last release each core followed */
	volatile uint64_t back;		 /* cores running the new image */
	uint64_t online;		 /* cores that must come back */
	uint64_t pause_start, pause_ticks;
	uint32_t cores_paused, vms_kept;
	/* Probation of the new image. */
	uint64_t probation_end;
	uint64_t vcpus_waiting; /* bit vm * 8 + vcpu: not back on its core yet */
	uint64_t irqs_at[HV_MAX_CPUS]; /* each core's interrupt count at the switch */
	bool rollback_due;	/* the self-check failed: switch back */
	bool from_rollback;	/* this switch is itself a rollback */
	uint32_t updates, rollbacks;
	char running_version[SHYPER_UPD_VERSION_MAX];
	char previous_version[SHYPER_UPD_VERSION_MAX];
	char why[SHYPER_UPD_WHY_MAX];
	char vm_names[256];
};

struct vcpu;
struct trap_frame;

/* Cold boot: slot 0 is where the image runs, slot 1 is reserved. */
int update_init(uint64_t image_pa);
int64_t hc_update(struct vcpu *caller, struct trap_frame *f, unsigned fn);

/* Safe points: a core with a park request parks here (noreturn then). */
bool update_park_requested(void);
void update_park_from_exit(struct trap_frame *f);
void update_park_idle(void);
/* The switch and its probation (update_switch.c). */
int update_switch(unsigned slot, struct trap_frame *f, bool rollback);
void update_vcpu_entered(const struct vcpu *v);
/* STATUS and the leader's interrupts: judges the probation once it ends;
 * true if a rollback is due (done by update_poll_exit at the next exit). */
bool update_probation_due(void);
void update_poll_exit(struct trap_frame *f);

/* The new image's start (boot.S update_entry / secondary_update_entry). */
struct hv_state;
void hv_update_main(struct hv_state *root);
void hv_update_secondary_main(unsigned id);
/* Re-points what the state holds into the image (core/vm_rebind.c). */
void hv_state_rebind(void);

/* The image in a slot, as it describes itself. */
const struct shyper_image_info *update_slot_info(unsigned slot);
/* Layout conversions (update_convert.c): the root from `from` to `to`. */
int update_convert_state(uint32_t from, uint32_t to);

#endif
