/* What the vectors save on an exception, and the handler they call. */
#ifndef ARCH_EXCEPTION_H
#define ARCH_EXCEPTION_H

#include <stdint.h>

/* Must match the TF_* offsets in arch/asm.h. */
struct trap_frame {
	uint64_t x[31];
	uint64_t sp;
	uint64_t elr;
	uint64_t spsr;
	uint64_t esr;
	uint64_t far;
};

_Static_assert(sizeof(struct trap_frame) == 36 * 8, "trap frame layout");

void exception_handle(struct trap_frame *frame, uint64_t kind);

/* Prints the frame, a backtrace and stops this core only. Never returns. */
void __attribute__((noreturn))
panic_frame(const struct trap_frame *frame, const char *why);

void __attribute__((noreturn)) vcpu_enter(struct trap_frame *frame);
void __attribute__((noreturn)) stack_reset_and_call(uint64_t top, void (*fn)(void));

/* Stops this core for good, with interrupts masked. */
void __attribute__((noreturn)) halt(void);

#endif
