/*
 * What the hypervisor does with its own exceptions: interrupts go to the
 * interrupt core; anything else taken at EL2 is a hypervisor bug, reported
 * with enough to find it (class, ELR, FAR, backtrace) while only the faulting
 * core stops.
 */
#include <arch/asm.h>
#include <arch/exception.h>
#include <arch/sysreg.h>
#include <core/cpu.h>
#include <core/irq.h>
#include <core/log.h>
#include <core/vm.h>

#define BACKTRACE_MAX_DEPTH 16

static const char *const ec_names[] = {
	[EC_UNKNOWN] = "unknown reason",
	[EC_WFX] = "WFI/WFE",
	[EC_FP_ASIMD] = "FP/SIMD access",
	[EC_ILLEGAL] = "illegal execution state",
	[EC_SVC64] = "SVC",
	[EC_HVC64] = "HVC",
	[EC_SMC64] = "SMC",
	[EC_SYSREG] = "system register access",
	[EC_IABT_LOW] = "instruction abort from a lower EL",
	[EC_IABT_CUR] = "instruction abort",
	[EC_PC_ALIGN] = "PC alignment fault",
	[EC_DABT_LOW] = "data abort from a lower EL",
	[EC_DABT_CUR] = "data abort",
	[EC_SP_ALIGN] = "SP alignment fault",
	[EC_SERROR] = "SError",
	[EC_BRK64] = "BRK instruction",
};

static const char *ec_name(unsigned ec)
{
	if (ec < sizeof(ec_names) / sizeof(ec_names[0]) && ec_names[ec])
		return ec_names[ec];
	return "unhandled class";
}

static bool on_stack(uint64_t fp, uint64_t lo, uint64_t hi)
{
	return fp >= lo && fp + 16 <= hi && !(fp & 0xf);
}

/* Walks AAPCS64 frame records (x29 chain) that stay inside this core's stack. */
static void backtrace(const struct trap_frame *frame)
{
	unsigned id = this_cpu_id();
	uint64_t lo = (uint64_t)hv_stacks + (uint64_t)id * HV_STACK_SIZE + HV_STACK_GUARD;
	uint64_t hi = lo + HV_STACK_SIZE - HV_STACK_GUARD;
	uint64_t fp = frame->x[29];

	log_panic("backtrace: pc 0x%lx lr 0x%lx", frame->elr, frame->x[30]);
	for (int depth = 0; depth < BACKTRACE_MAX_DEPTH && on_stack(fp, lo, hi);
	     depth++) {
		const uint64_t *record = (const uint64_t *)fp;

		if (!record[1])
			break;
		log_panic("  #%d 0x%lx", depth, record[1]);
		if (record[0] <= fp)
			break; /* frames must grow towards the stack top */
		fp = record[0];
	}
}

/* An abort's fault status (ISS bits[5:0], Arm ARM D19.2.44): which kind,
 * at which level of the hypervisor's tables; a BRK's immediate. */
static void describe_abort(uint64_t esr, unsigned ec)
{
	static const char *const kinds[] = { "address size", "translation", "access flag",
					     "permission" };
	unsigned fsc = esr & 0x3f;

	if (ec == EC_BRK64) {
		/* GCC's __builtin_trap, which UBSan's trap mode calls. */
		log_panic("BRK #0x%lx%s", esr & 0xffff,
			  (esr & 0xffff) == 0x3e8 ? ": undefined behaviour caught by UBSan (trap mode)"
						  : "");
		return;
	}
	if (ec != EC_DABT_CUR && ec != EC_IABT_CUR)
		return;
	if (fsc < 16)
		log_panic("%s fault at level %u%s", kinds[fsc >> 2], fsc & 3,
			  ec == EC_IABT_CUR ? ", instruction fetch"
					    : (esr & (1UL << 6)) ? ", write" : ", read");
	else
		log_panic("fault status 0x%x", fsc);
}

void panic_frame(const struct trap_frame *frame, const char *why)
{
	unsigned ec = (frame->esr >> ESR_EC_SHIFT) & ESR_EC_MASK;
	struct cpu *cpu = this_cpu();

	log_panic("PANIC: %s", why);
	log_panic("exception class 0x%02x (%s), ESR 0x%lx", ec, ec_name(ec),
		  frame->esr);
	describe_abort(frame->esr, ec);
	log_panic("ELR 0x%lx FAR 0x%lx SPSR 0x%lx SP 0x%lx", frame->elr,
		  frame->far, frame->spsr, frame->sp);
	backtrace(frame);
	cpu->state = CPU_HALTED;
	dsb(sy);
	log_panic("cpu%u halted; the other cores keep running", cpu->id);
	halt();
}

/* vectors.S: the hypervisor's stack ran into its guard page; @frame is on
 * the core's overflow stack. */
void hv_stack_overflow(struct trap_frame *frame)
{
	panic_frame(frame, "hypervisor stack overflow: this core's stack ran into its guard "
			   "page");
}

void exception_handle(struct trap_frame *frame, uint64_t kind)
{
	unsigned vec = kind & 3;

	if (vec == VEC_IRQ) {
		irq_handle_pending();
		if (kind & VEC_FROM_LOWER64)
			guest_irq_exit(frame);
		return;
	}
	if (kind >= 16)
		panic_frame(frame, "exception taken on SP_EL0, which EL2 never uses");
	if ((kind & ~3UL) == VEC_FROM_CURRENT) {
		panic_frame(frame, vec == VEC_SERROR ? "SError in the hypervisor" :
				   vec == VEC_FIQ    ? "FIQ in the hypervisor" :
						       "synchronous exception in the hypervisor");
	}
	if ((kind & ~3UL) == VEC_FROM_LOWER64 && vec == VEC_SYNC && current_vcpu()) {
		guest_sync_exception(frame);
		return;
	}
	if ((kind & ~3UL) == VEC_FROM_LOWER64 && vec == VEC_SERROR && current_vcpu()) {
		log_err("SError from a guest at pc 0x%lx, ESR 0x%lx", frame->elr, frame->esr);
		return;
	}
	panic_frame(frame, "unexpected exception from a lower exception level");
}
