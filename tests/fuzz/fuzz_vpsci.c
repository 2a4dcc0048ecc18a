/*
 * libFuzzer harness for the calls a guest makes with HVC or SMC
 * (hv/core/vpsci.c): PSCI 1.1 in both calling conventions, SMCCC's
 * architecture calls, and the dispatch of cshyper hypercalls, with the
 * target vCPU found by hv/core/vm.c (vm_find_vcpu_by_mpidr) in a VM of the
 * state root (tests/host/vm_host.c). What the calls lead to is recorded by
 * fakes here: starting a vCPU, stopping the calling one, a VM's or the
 * board's power-off and reset (those never return: they jump back here),
 * the hypercall handler.
 *
 * The input: the VM (the MVM or a guest, 1 to 8 vCPUs, each off, pending
 * or running), which vCPU calls, whether starting a vCPU fails, then calls,
 * each a function id (PSCI functions 0 .. 0x1f over SMC32 or SMC64, SMCCC
 * ids, a cshyper hypercall, or raw; with garbage in the id's upper half)
 * and arguments x1..x3 (an MPIDR that names a vCPU, one with affinity
 * bits, or raw; levels; entry points).
 *
 * Checked against a model of the vCPUs' states, beyond no crash or
 * sanitizer report: x0 is what PSCI 1.1 / SMCCC 1.1 say for the call
 * (VERSION, FEATURES for every function, CPU_ON's SUCCESS, ALREADY_ON,
 * ON_PENDING, INVALID_PARAMETERS, INTERNAL_FAILURE, AFFINITY_INFO's states,
 * MIGRATE_INFO_TYPE, NOT_SUPPORTED); CPU_ON starts exactly the vCPU the
 * MPIDR names, of the caller's own VM, with the entry and context given,
 * and only when it is off; CPU_OFF stops the caller; SYSTEM_OFF / RESET
 * stop or reset the caller's VM, the board only for the MVM; cshyper ids
 * and only they reach the hypercall handler; x1..x3 never change (the
 * hypercall handler aside).
 *
 * Input layout:
 *   0      bits 0-2 vCPUs - 1, bit 3 the MVM (else a guest), bits 4-6 the
 *          calling vCPU (mod vCPUs), bit 7 starting a vCPU fails
 *   1-2    vCPU n's state: bits 2n+1..2n (off, pending, running, off)
 *   3-     calls: a selector byte (bits 0-4 the PSCI function, bits 5-6:
 *          PSCI over SMC32, SMC64, other ids (SMCCC VERSION,
 *          ARCH_FEATURES, a cshyper call, raw 4 bytes), bit 7 arguments
 *          raw), then per argument one byte (bits 0-2 a vCPU index, bits
 *          3-4: as it is, Aff1 set, Aff3 set, or a value of bits 5-7 for a
 *          level / a function id for FEATURES), or 8 bytes raw
 *
 * fuzz-sources: hv/core/vpsci.c hv/core/vm.c hv/core/vm_cfg.c hv/arch/aarch64/stage2.c
 * fuzz-sources: hv/dev/vgic.c hv/dev/vgic_irq.c hv/dev/vgic_mmio.c hv/dev/vuart.c
 * fuzz-sources: hv/dev/vdev.c hv/dev/vdev_net.c hv/dev/virtio_net.c hv/dev/vswitch.c
 * fuzz-sources: hv/dev/vdev_console.c hv/dev/virtio_console.c hv/dev/mediated.c
 * fuzz-sources: hv/dev/virtio_blk.c hv/dev/virtio_mmio.c hv/dev/virtq.c hv/lib/fmt.c
 * fuzz-sources: tests/host/vm_host.c tests/host/vm_host.h
 * fuzz-sources: tests/host/arch/sysreg.h tests/host/arch/spinlock.h
 * fuzz-sources: hv/core/iommu.c hv/core/io_pt.c hv/core/vm_pcie.c hv/core/board_pcie.c hv/core/board.c hv/lib/dt.c hv/lib/dt_irq.c hv/plat/drivers/smmuv3.c hv/plat/drivers/smmuv3_desc.c
 * fuzz-cflags: -Itests/host -Ihv/arch/aarch64/inc -Ihv/plat/qemu-virt/inc
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arch/psci.h>
#include <core/hypercall.h>
#include <core/state.h>
#include <core/vm.h>
#include <core/vpsci.h>
#include <shyper/hypercall.h>
#include <shyper/psci.h>

#include "vm_host.h"

#define HDR 3
#define MAX_CALLS 512
#define SMCCC_VERSION 0x80000000U
#define SMCCC_ARCH_FEATURES 0x80000001U
#define V1_1 0x10001U

/* What the last call led to. */
static struct effects {
	unsigned power_on, stop, vm_event, board_off, board_reset, hypercall;
	struct vcpu *target;
	uint64_t entry, context;
	bool reset;
} fx;

static jmp_buf out; /* where the calls that never return come back */
static struct vm *vm;
static struct vcpu *caller;
static bool power_on_fails;

int vcpu_power_on(struct vcpu *vcpu, uint64_t entry, uint64_t context)
{
	fx.power_on++;
	fx.target = vcpu;
	fx.entry = entry;
	fx.context = context;
	if (power_on_fails)
		return -1;
	vcpu->state = VCPU_PENDING;
	return 0;
}

void vcpu_stop_here(void)
{
	fx.stop++;
	longjmp(out, 1);
}

void vm_guest_system_event(struct vcpu *vcpu, bool reset)
{
	if (vcpu != caller)
		abort();
	fx.vm_event++;
	fx.reset = reset;
	longjmp(out, 1);
}

void psci_system_off(void)
{
	fx.board_off++;
	longjmp(out, 1);
}

void psci_system_reset(void)
{
	fx.board_reset++;
	longjmp(out, 1);
}

void hypercall_handle(struct vcpu *vcpu, struct trap_frame *f)
{
	if (vcpu != caller || !SHYPER_HVC_IS_OURS((uint32_t)f->x[0]))
		abort();
	fx.hypercall++;
}

struct in {
	const uint8_t *p;
	size_t n, pos;
};

static uint8_t u8(struct in *in)
{
	return in->pos < in->n ? in->p[in->pos++] : 0;
}

static uint64_t u64(struct in *in)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)u8(in) << (8 * i);
	return v;
}

/* An argument: a vCPU's MPIDR (maybe with affinity bits), a small value,
 * or raw. */
static uint64_t arg(struct in *in, bool raw)
{
	uint8_t b;

	if (raw)
		return u64(in);
	b = u8(in);
	switch ((b >> 3) & 3) {
	case 0: return b & 7;
	case 1: return (b & 7) | 0x100;		/* Aff1 */
	case 2: return (b & 7) | (1ULL << 32);	/* Aff3 */
	default: return b >> 5;
	}
}

static uint32_t function_id(struct in *in, uint8_t sel)
{
	unsigned fn = sel & 0x1f;
	uint32_t id;

	switch ((sel >> 5) & 3) {
	case 0:
		return PSCI_BASE32 + fn;
	case 1:
		return PSCI_BASE64 + fn;
	default:
		switch (fn & 3) {
		case 0: return SMCCC_VERSION;
		case 1: return SMCCC_ARCH_FEATURES;
		case 2: return SHYPER_VMM_GET_ID;
		default:
			id = u8(in);
			id |= (uint32_t)u8(in) << 8;
			id |= (uint32_t)u8(in) << 16;
			return id | (uint32_t)u8(in) << 24;
		}
	}
}

/* The vCPU an MPIDR names in this VM (ours are 0.0.0.<index>). */
static struct vcpu *named(uint64_t mpidr)
{
	mpidr &= 0xff00ffffffULL; /* the affinity fields */
	return mpidr < vm->nr_vcpus ? &vm->vcpus[mpidr] : NULL;
}

static bool supported(uint32_t id)
{
	unsigned fn;

	if (id == SMCCC_VERSION)
		return true;
	if (!psci_fn(id, &fn))
		return false;
	switch (fn) {
	case PSCI_FN_VERSION: case PSCI_FN_CPU_OFF: case PSCI_FN_CPU_ON:
	case PSCI_FN_AFFINITY_INFO: case PSCI_FN_MIGRATE_INFO_TYPE: case PSCI_FN_SYSTEM_OFF:
	case PSCI_FN_SYSTEM_RESET: case PSCI_FN_FEATURES:
		return true;
	}
	return false;
}

static void call(struct in *in)
{
	uint8_t sel = u8(in);
	bool raw = sel & 0x80;
	uint32_t id = function_id(in, sel);
	struct trap_frame f, orig;
	enum vcpu_state states[VM_MAX_VCPUS];
	struct vcpu *t;
	unsigned fn;
	int64_t want = 0;
	bool check_x0 = true;

	memset(&f, 0, sizeof(f));
	f.x[0] = (uint64_t)u8(in) << 40 | id; /* the upper half is not the id */
	for (unsigned i = 1; i <= 3; i++)
		f.x[i] = arg(in, raw);
	orig = f;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		states[i] = vm->vcpus[i].state;
	memset(&fx, 0, sizeof(fx));
	if (!setjmp(out))
		vcall_handle(caller, &f);

	if (!psci_fn(id, &fn)) {
		if (SHYPER_HVC_IS_OURS(id)) {
			if (fx.hypercall != 1)
				abort();
			return; /* the handler's results are its own */
		}
		want = id == SMCCC_VERSION ? (int64_t)V1_1 : -1;
		fn = ~0u;
	}
	switch (fn) {
	case ~0u:
		break;
	case PSCI_FN_VERSION:
		want = V1_1;
		break;
	case PSCI_FN_CPU_ON:
		t = named(orig.x[1]);
		if (!t)
			want = PSCI_INVALID_PARAMETERS;
		else if (states[t->id] == VCPU_RUNNING)
			want = PSCI_ALREADY_ON;
		else if (states[t->id] == VCPU_PENDING)
			want = PSCI_ON_PENDING;
		else
			want = power_on_fails ? PSCI_INTERNAL_FAILURE : PSCI_SUCCESS;
		if (fx.power_on != (want == PSCI_SUCCESS || want == PSCI_INTERNAL_FAILURE) ||
		    (fx.power_on && (fx.target != t || fx.entry != orig.x[2] ||
				     fx.context != orig.x[3])))
			abort();
		break;
	case PSCI_FN_CPU_OFF:
		if (fx.stop != 1)
			abort();
		check_x0 = false;
		break;
	case PSCI_FN_AFFINITY_INFO:
		t = named(orig.x[1]);
		if (orig.x[2] || !t)
			want = PSCI_INVALID_PARAMETERS;
		else
			want = states[t->id] == VCPU_RUNNING ? 0 :
			       states[t->id] == VCPU_PENDING ? 2 : 1;
		break;
	case PSCI_FN_MIGRATE_INFO_TYPE:
		want = 2; /* no Trusted OS */
		break;
	case PSCI_FN_SYSTEM_OFF:
	case PSCI_FN_SYSTEM_RESET: {
		bool reset = fn == PSCI_FN_SYSTEM_RESET;

		if (vm_is_mvm(vm) ? (reset ? fx.board_reset : fx.board_off) != 1 || fx.vm_event :
				    fx.vm_event != 1 || fx.reset != reset || fx.board_off ||
					    fx.board_reset)
			abort();
		check_x0 = false;
		break;
	}
	case PSCI_FN_FEATURES:
		want = supported((uint32_t)orig.x[1]) ? PSCI_SUCCESS : PSCI_NOT_SUPPORTED;
		break;
	default:
		want = PSCI_NOT_SUPPORTED;
		break;
	}
	if (check_x0 && f.x[0] != (uint64_t)want)
		abort();
	if (fx.hypercall || (fn != PSCI_FN_CPU_ON && fx.power_on) ||
	    (fn != PSCI_FN_CPU_OFF && fx.stop) ||
	    (fn != PSCI_FN_SYSTEM_OFF && fn != PSCI_FN_SYSTEM_RESET &&
	     (fx.vm_event || fx.board_off || fx.board_reset)))
		abort();
	if (memcmp(&f.x[1], &orig.x[1], sizeof(f.x) - sizeof(f.x[0])) || f.sp != orig.sp ||
	    f.elr != orig.elr || f.spsr != orig.spsr)
		abort();
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].state != states[i] &&
		    !(fx.power_on && !power_on_fails && &vm->vcpus[i] == fx.target &&
		      vm->vcpus[i].state == VCPU_PENDING))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct host_board board = { .gic_version = 3, .nr_cpus = 8, .nr_irqs = 128 };
	struct in in = { data, size, HDR };
	unsigned nr, calls = 0;
	uint16_t st;

	if (size < HDR)
		return 0;
	host_setup(&board);
	nr = 1 + (data[0] & 7);
	power_on_fails = data[0] & 0x80;
	if (data[0] & 8) {
		vm = &hv.vms[0]; /* the MVM, as host_setup made it */
	} else {
		vm = &hv.vms[1];
		*vm = (struct vm){ .id = 1, .state = VM_RUNNING, .cfg = &vm->config };
		vm->config.name = "guest";
	}
	vm->nr_vcpus = nr;
	st = (uint16_t)(data[1] | data[2] << 8);
	for (unsigned i = 0; i < nr; i++) {
		static const enum vcpu_state states[4] = { VCPU_OFF, VCPU_PENDING, VCPU_RUNNING,
							   VCPU_OFF };

		vm->vcpus[i] = (struct vcpu){ .id = i, .vm = vm, .pcpu = i,
					      .state = states[(st >> (2 * i)) & 3] };
	}
	caller = &vm->vcpus[((data[0] >> 4) & 7) % nr];
	caller->state = VCPU_RUNNING;
	while (in.pos < in.n && calls++ < MAX_CALLS)
		call(&in);
	return 0;
}
