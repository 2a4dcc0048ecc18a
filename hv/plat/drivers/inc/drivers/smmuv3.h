/*
 * The SMMUv3 driver: the hypervisor owns the SMMU's register page, its
 * stream table and its queues. A stream with no entry of its own is
 * invalid: its DMA is refused and reported (C_BAD_STE), so a device nobody
 * was given cannot reach memory at all.
 *
 * All state lives in struct smmu (in the state root, core/iommu.h), so a
 * new image takes the SMMU over as it is.
 */
#ifndef DRIVERS_SMMUV3_H
#define DRIVERS_SMMUV3_H

#include <drivers/smmuv3_desc.h>
#include <stdbool.h>
#include <stdint.h>

/* Stream table entries: stream ids 0 .. 2^SMMU_SID_BITS_MAX - 1 (a PCIe
 * requester id is bus << 8 | devfn: buses 0..3). */
#define SMMU_SID_BITS_MAX 10
#define SMMU_CMDQ_LOG2 8  /* 256 commands, one frame */
#define SMMU_EVTQ_LOG2 7  /* 128 events, one frame */

struct smmu {
	bool present;
	bool coherent;		/* table walks snoop the caches (IDR0.COHACC) */
	uint64_t base;
	uint32_t sid_bits;	/* stream table size */
	uint32_t oas_bits;	/* output address size */
	uint64_t strtab_pa;
	uint64_t cmdq_pa, evtq_pa;
	uint32_t cmdq_prod;	/* index with wrap bit, as the register holds it */
	uint32_t evtq_cons;
	uint32_t evt_intid, gerr_intid;
	uint32_t events_seen, events_lost;
};

/*
 * Resets and enables the SMMU at @base with every stream invalid. Its tables
 * and queues come from frames. -SHYPER_ENOTSUP if it cannot do what the
 * hypervisor needs (stage 1 with AArch64 tables, a 4 KiB granule, a linear
 * stream table), -SHYPER_ETIMEDOUT if it does not acknowledge,
 * -SHYPER_ENOMEM without frames.
 */
int smmu_init(struct smmu *s, uint64_t base, uint32_t evt_intid, uint32_t gerr_intid);

/* Writes the stream's STE (NULL: invalid again) and makes the SMMU forget
 * what it cached of it. 0, -SHYPER_EINVAL for a stream beyond the table,
 * -SHYPER_ETIMEDOUT if the command queue stalls. */
int smmu_set_ste(struct smmu *s, uint32_t sid, const uint64_t ste[SMMU_STE_DWORDS]);
/* Forgets cached translations of an address space. */
int smmu_flush_asid(struct smmu *s, uint16_t asid);

/* Calls @report for every new event record; returns how many there were.
 * *@overflowed: the queue was full and the SMMU dropped records since the
 * last call, or a global error was raised (both counted in events_lost). */
unsigned smmu_drain_events(struct smmu *s, void (*report)(const struct smmu_event *ev, void *ctx),
			   void *ctx, bool *overflowed);

/* Makes the CPU's writes to an STE, CD or table visible to the SMMU. */
void smmu_publish(const struct smmu *s, const void *p, uint64_t size);

#endif
