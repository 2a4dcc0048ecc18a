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

/*
 * Only the functions that take 64-bit arguments have an SMC64 id
 * (DEN0022D 5.1.1 to 5.1.23): CPU_SUSPEND, CPU_ON, AFFINITY_INFO, MIGRATE,
 * MIGRATE_INFO_UP_CPU, CPU_DEFAULT_SUSPEND, NODE_HW_STATE, SYSTEM_SUSPEND,
 * PSCI_STAT_RESIDENCY, PSCI_STAT_COUNT, SYSTEM_RESET2 and
 * MEM_PROTECT_CHECK_RANGE. 0xc4000000 (VERSION), 0xc4000002 (CPU_OFF) and
 * the like are no PSCI calls at all.
 */
static inline bool psci_fn_has_smc64(unsigned fn)
{
	switch (fn) {
	case 0x1: case 0x3: case 0x4: case 0x5: case 0x7: case 0xc: case 0xd: case 0xe:
	case 0x10: case 0x11: case 0x12: case 0x14:
		return true;
	}
	return false;
}

/* The function number n of a PSCI id in either convention; false if id is
 * not a PSCI call. */
static inline bool psci_fn(uint32_t id, unsigned *fn)
{
	if (id >= PSCI_BASE32 && id <= PSCI_BASE32 + PSCI_FN_MAX)
		*fn = id - PSCI_BASE32;
	else if (id >= PSCI_BASE64 && id <= PSCI_BASE64 + PSCI_FN_MAX &&
		 psci_fn_has_smc64(id - PSCI_BASE64))
		*fn = id - PSCI_BASE64;
	else
		return false;
	return true;
}

#endif
