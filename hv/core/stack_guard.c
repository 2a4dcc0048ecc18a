/*
 * The canary GCC's stack protector compares in every function with a local
 * array or an address-taken local, and what happens when it differs: the
 * core that returned into a smashed frame stops with a report, the others
 * carry on (as for any hypervisor panic).
 */
#include <arch/exception.h>
#include <core/cpu.h>
#include <core/entropy.h>
#include <core/log.h>
#include <core/stack_guard.h>

/* Per image, not state: a new image (or a rollback) draws its own. */
uint64_t __stack_chk_guard;

void NO_STACK_PROTECTOR stack_guard_init(void)
{
	uint64_t g;

	entropy_fill(&g, sizeof(g));
	/* A zero low byte stops a string copy from reproducing it. */
	__stack_chk_guard = (g & ~0xffUL) ? g & ~0xffUL : 0x5a5a5a5a5a5a5a00UL;
}

void __attribute__((noreturn)) __stack_chk_fail(void)
{
	struct cpu *cpu = this_cpu();

	log_panic("PANIC: stack smashed: a function returning to 0x%lx found its canary overwritten",
		  (uint64_t)__builtin_return_address(0));
	cpu->state = CPU_HALTED;
	log_panic("cpu%u halted; the other cores keep running", cpu->id);
	halt();
}
