/*
 * PSCI function ids as a guest issues them (DEN0022D): 0x84000000 + n over
 * SMC32, 0xc4000000 + n over SMC64. Shared by the hypervisor's PSCI for
 * guests (hv/core/vpsci.c) and the guests that test it.
 */
#ifndef SHYPER_PSCI_H
#define SHYPER_PSCI_H

#include <stdbool.h>
#include <shyper/types.h>

#define PSCI_BASE32 0x84000000U
#define PSCI_BASE64 0xc4000000U
#define PSCI_FN_MAX 0x1f

#define PSCI_FN_VERSION 0x0
#define PSCI_FN_CPU_SUSPEND 0x1
#define PSCI_FN_CPU_OFF 0x2
#define PSCI_FN_CPU_ON 0x3
#define PSCI_FN_AFFINITY_INFO 0x4
#define PSCI_FN_MIGRATE_INFO_TYPE 0x6
#define PSCI_FN_SYSTEM_OFF 0x8
#define PSCI_FN_SYSTEM_RESET 0x9
#define PSCI_FN_FEATURES 0xa

/* The function number n of a PSCI id in either convention; false if id is
 * not a PSCI call. */
static inline bool psci_fn(uint32_t id, unsigned *fn)
{
	if (id >= PSCI_BASE32 && id <= PSCI_BASE32 + PSCI_FN_MAX)
		*fn = id - PSCI_BASE32;
	else if (id >= PSCI_BASE64 && id <= PSCI_BASE64 + PSCI_FN_MAX)
		*fn = id - PSCI_BASE64;
	else
		return false;
	return true;
}

#endif
