/*
 * Host stand-in for hv/arch/aarch64/inc/arch/sysreg.h, for host builds that
 * link hypervisor sources whose inline functions touch system registers
 * (interrupt masking around a lock, the counter). Such a build puts
 * -Itests/host before -Ihv/arch/aarch64/inc and defines the two hooks
 * below (tests/host/vm_host.c does). The barriers are compiler barriers;
 * interrupt masking does nothing (one thread, no interrupts). Only what
 * the headers shared with host builds use is here; an arch .c file needs
 * the real header.
 */
#ifndef ARCH_SYSREG_H
#define ARCH_SYSREG_H

#include <stdint.h>

/* The harness's view of a system register, by name ("cntpct_el0"). */
uint64_t host_sysreg_read(const char *name);
void host_sysreg_write(const char *name, uint64_t value);

#define sysreg_read(reg) host_sysreg_read(#reg)
#define sysreg_write(reg, val) host_sysreg_write(#reg, (uint64_t)(val))

#define isb() __asm__ volatile("" ::: "memory")
#define dsb(opt) __asm__ volatile("" ::: "memory")
#define dmb(opt) __asm__ volatile("" ::: "memory")

#define MPIDR_AFF_MASK 0xff00ffffffUL
#define MPIDR_AFF0(m) ((m) & 0xffUL)
#define MPIDR_AFF1(m) (((m) >> 8) & 0xffUL)
#define MPIDR_AFF2(m) (((m) >> 16) & 0xffUL)
#define MPIDR_AFF3(m) (((m) >> 32) & 0xffUL)
#define DAIF_IRQ 0x2

static inline void irq_disable(void)
{
}

static inline void irq_enable(void)
{
}

static inline uint64_t irq_save(void)
{
	return 0;
}

static inline void irq_restore(uint64_t flags)
{
	(void)flags;
}

#endif
