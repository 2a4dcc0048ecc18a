/* System register access and the EL2 register bits the hypervisor uses. */
#ifndef ARCH_SYSREG_H
#define ARCH_SYSREG_H

#include <stdint.h>

#define sysreg_read(reg)                                              \
	({                                                            \
		uint64_t _v;                                          \
		__asm__ volatile("mrs %0, " #reg : "=r"(_v)::"memory"); \
		_v;                                                   \
	})

#define sysreg_write(reg, val)                                              \
	do {                                                                \
		uint64_t _v = (uint64_t)(val);                              \
		__asm__ volatile("msr " #reg ", %0" ::"r"(_v) : "memory"); \
	} while (0)

#define isb() __asm__ volatile("isb" ::: "memory")
#define dsb(opt) __asm__ volatile("dsb " #opt ::: "memory")
#define dmb(opt) __asm__ volatile("dmb " #opt ::: "memory")
#define wfi() __asm__ volatile("wfi" ::: "memory")
#define wfe() __asm__ volatile("wfe" ::: "memory")
#define sev() __asm__ volatile("sev" ::: "memory")

/* Arm ARM D19.2.36 ESR_ELx: exception class field. */
#define ESR_EC_SHIFT 26
#define ESR_EC_MASK 0x3fUL
#define ESR_IL (1UL << 25)
#define ESR_ISS_MASK 0x1ffffffUL

/* Exception classes (Arm ARM D19.2.36). */
#define EC_UNKNOWN 0x00
#define EC_WFX 0x01
#define EC_FP_ASIMD 0x07
#define EC_ILLEGAL 0x0e
#define EC_SVC64 0x15
#define EC_HVC64 0x16
#define EC_SMC64 0x17
#define EC_SYSREG 0x18
#define EC_IABT_LOW 0x20
#define EC_IABT_CUR 0x21
#define EC_PC_ALIGN 0x22
#define EC_DABT_LOW 0x24
#define EC_DABT_CUR 0x25
#define EC_SP_ALIGN 0x26
#define EC_SERROR 0x2f
#define EC_BRK64 0x3c

/* Arm ARM D19.2.47 ID_AA64MMFR0_EL1.PARange encodings, in bits. */
#define ID_AA64MMFR0_PARANGE_MASK 0xfUL

/* MPIDR_EL1 affinity fields (Arm ARM D19.2.87). */
#define MPIDR_AFF_MASK 0xff00ffffffUL
#define MPIDR_AFF0(m) ((m) & 0xffUL)
#define MPIDR_AFF1(m) (((m) >> 8) & 0xffUL)
#define MPIDR_AFF2(m) (((m) >> 16) & 0xffUL)
#define MPIDR_AFF3(m) (((m) >> 32) & 0xffUL)

/* PSTATE.DAIF bits as written by "msr daifset/daifclr". */
#define DAIF_IRQ 0x2

static inline void irq_disable(void)
{
	__asm__ volatile("msr daifset, #2" ::: "memory");
}

static inline void irq_enable(void)
{
	__asm__ volatile("msr daifclr, #2" ::: "memory");
}

static inline uint64_t irq_save(void)
{
	uint64_t flags = sysreg_read(daif);
	irq_disable();
	return flags;
}

static inline void irq_restore(uint64_t flags)
{
	sysreg_write(daif, flags);
}

#endif
