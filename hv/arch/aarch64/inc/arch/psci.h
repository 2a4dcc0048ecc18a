/* PSCI calls from the hypervisor to the firmware (SMC conduit). */
#ifndef ARCH_PSCI_H
#define ARCH_PSCI_H

#include <stdint.h>

/* PSCI 1.1 (DEN0022D) function ids, SMC64 where there is a choice. */
#define PSCI_VERSION 0x84000000U
#define PSCI_CPU_OFF 0x84000002U
#define PSCI_CPU_ON 0xc4000003U
#define PSCI_AFFINITY_INFO 0xc4000004U
#define PSCI_SYSTEM_OFF 0x84000008U
#define PSCI_SYSTEM_RESET 0x84000009U

/* PSCI return codes (DEN0022D 5.2.2). */
#define PSCI_SUCCESS 0
#define PSCI_NOT_SUPPORTED (-1)
#define PSCI_INVALID_PARAMETERS (-2)
#define PSCI_DENIED (-3)
#define PSCI_ALREADY_ON (-4)
#define PSCI_ON_PENDING (-5)
#define PSCI_INTERNAL_FAILURE (-6)

uint64_t smc_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3);

static inline uint32_t psci_version(void)
{
	return (uint32_t)smc_call(PSCI_VERSION, 0, 0, 0);
}

static inline int64_t psci_cpu_on(uint64_t mpidr, uint64_t entry, uint64_t ctx)
{
	return (int64_t)smc_call(PSCI_CPU_ON, mpidr, entry, ctx);
}

void __attribute__((noreturn)) psci_system_off(void);
void __attribute__((noreturn)) psci_system_reset(void);

#endif
