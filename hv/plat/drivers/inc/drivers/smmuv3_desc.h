/*
 * SMMUv3 in-memory structures (Arm IHI 0070, "SMMU architecture version 3"):
 * stream table entries, context descriptors, commands and event records.
 * Pure encoders and decoders, tested on the host.
 */
#ifndef DRIVERS_SMMUV3_DESC_H
#define DRIVERS_SMMUV3_DESC_H

#include <stdbool.h>
#include <stdint.h>

#define SMMU_STE_DWORDS 8
#define SMMU_CD_DWORDS 8
#define SMMU_CMD_DWORDS 2
#define SMMU_EVT_DWORDS 4

/* Command opcodes (IHI 0070 4.1). */
#define SMMU_CMD_CFGI_STE	0x03
#define SMMU_CMD_CFGI_ALL	0x04	/* CFGI_STE_RANGE with Range 31 */
#define SMMU_CMD_CFGI_CD	0x05
#define SMMU_CMD_TLBI_NH_ASID	0x11
#define SMMU_CMD_TLBI_EL2_ALL	0x20
#define SMMU_CMD_TLBI_NSNH_ALL	0x30
#define SMMU_CMD_SYNC		0x46

/* Event record types (IHI 0070 7.3). */
#define SMMU_EVT_C_BAD_STREAMID	0x02
#define SMMU_EVT_C_BAD_STE	0x04
#define SMMU_EVT_F_STREAM_DISABLED 0x06
#define SMMU_EVT_C_BAD_CD	0x0a
#define SMMU_EVT_F_WALK_EABT	0x0b
#define SMMU_EVT_F_TRANSLATION	0x10
#define SMMU_EVT_F_ADDR_SIZE	0x11
#define SMMU_EVT_F_ACCESS	0x12
#define SMMU_EVT_F_PERMISSION	0x13

struct smmu_event {
	uint32_t type;
	uint32_t sid;
	bool write;	   /* fault events: the access was a write */
	bool has_addr;	   /* fault events carry the input address */
	uint64_t addr;
};

/* An STE that translates through one stage-1 context descriptor at cd_pa
 * (S2 bypassed: the SMMU has no stage 2 or the VM's tables are stage 1). */
void smmu_ste_s1(uint64_t ste[SMMU_STE_DWORDS], uint64_t cd_pa);
/* An STE that passes the stream's addresses through untranslated. */
void smmu_ste_bypass(uint64_t ste[SMMU_STE_DWORDS]);

/* A context descriptor for 48-bit input addresses through TTB0 = ttb_pa,
 * with ASID asid, output size oas_bits (32..48), faults recorded. */
void smmu_cd_s1(uint64_t cd[SMMU_CD_DWORDS], uint64_t ttb_pa, uint16_t asid,
		unsigned oas_bits, uint64_t mair);

void smmu_cmd_cfgi_ste(uint64_t cmd[SMMU_CMD_DWORDS], uint32_t sid);
void smmu_cmd_cfgi_all(uint64_t cmd[SMMU_CMD_DWORDS]);
void smmu_cmd_cfgi_cd(uint64_t cmd[SMMU_CMD_DWORDS], uint32_t sid);
void smmu_cmd_tlbi_asid(uint64_t cmd[SMMU_CMD_DWORDS], uint16_t asid);
void smmu_cmd_simple(uint64_t cmd[SMMU_CMD_DWORDS], uint8_t opcode);

void smmu_event_decode(const uint64_t rec[SMMU_EVT_DWORDS], struct smmu_event *out);
/* "translation fault", ... for a console line; "event 0xNN" types read as "other". */
const char *smmu_event_name(uint32_t type);

#endif
