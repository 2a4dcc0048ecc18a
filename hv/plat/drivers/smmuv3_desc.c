/*
 * SMMUv3 structure encodings (see drivers/smmuv3_desc.h). Field positions
 * are those of IHI 0070 (STE 5.2, CD 5.4, commands 4, events 7.3).
 */
#include <drivers/smmuv3_desc.h>

/* STE dword 0 */
#define STE0_V			(1ULL << 0)
#define STE0_CFG_SHIFT		1
#define STE0_CFG_BYPASS		4ULL
#define STE0_CFG_S1		5ULL
#define STE0_CTXPTR_MASK	0x000fffffffffffc0ULL	/* S1ContextPtr[51:6] */
/* STE dword 1 */
#define STE1_S1CIR_WBRA		(1ULL << 2)
#define STE1_S1COR_WBRA		(1ULL << 4)
#define STE1_S1CSH_INNER	(3ULL << 6)
#define STE1_SHCFG_INCOMING	(1ULL << 44)

/* CD dword 0 */
#define CD0_T0SZ(bits)		(64ULL - (bits))
#define CD0_TG0_4K		(0ULL << 6)
#define CD0_IRGN0_WBWA		(1ULL << 8)
#define CD0_ORGN0_WBWA		(1ULL << 10)
#define CD0_SH0_INNER		(3ULL << 12)
#define CD0_EPD1		(1ULL << 30)	/* no TTB1 walks */
#define CD0_V			(1ULL << 31)
#define CD0_IPS_SHIFT		32
#define CD0_AFFD		(1ULL << 35)
#define CD0_AA64		(1ULL << 41)
#define CD0_R			(1ULL << 45)	/* record faults */
#define CD0_A			(1ULL << 46)	/* abort faulting transactions */
#define CD0_ASID_SHIFT		48
#define CD1_TTB0_MASK		0x000ffffffffffff0ULL

#define CMD_SID_SHIFT		32
#define CMD_ASID_SHIFT		48
#define CMD_CFGI_LEAF		1ULL
#define CMD_RANGE_ALL		31ULL

#define EVT_TYPE_MASK		0xffULL
#define EVT_SID_SHIFT		32
#define EVT1_RNW		(1ULL << 35)

static void zero(uint64_t *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = 0;
}

void smmu_ste_s1(uint64_t ste[SMMU_STE_DWORDS], uint64_t cd_pa)
{
	zero(ste, SMMU_STE_DWORDS);
	ste[1] = STE1_S1CIR_WBRA | STE1_S1COR_WBRA | STE1_S1CSH_INNER | STE1_SHCFG_INCOMING;
	ste[0] = STE0_V | (STE0_CFG_S1 << STE0_CFG_SHIFT) | (cd_pa & STE0_CTXPTR_MASK);
}

void smmu_ste_bypass(uint64_t ste[SMMU_STE_DWORDS])
{
	zero(ste, SMMU_STE_DWORDS);
	ste[1] = STE1_SHCFG_INCOMING;
	ste[0] = STE0_V | (STE0_CFG_BYPASS << STE0_CFG_SHIFT);
}

/* Output size as the IPS encoding (the PARange one). */
static uint64_t ips_encoding(unsigned bits)
{
	static const unsigned char sizes[] = { 32, 36, 40, 42, 44, 48 };
	uint64_t enc = 0;

	for (unsigned i = 0; i < sizeof(sizes); i++)
		if (bits >= sizes[i])
			enc = i;
	return enc;
}

void smmu_cd_s1(uint64_t cd[SMMU_CD_DWORDS], uint64_t ttb_pa, uint16_t asid,
		unsigned oas_bits, uint64_t mair)
{
	zero(cd, SMMU_CD_DWORDS);
	cd[1] = ttb_pa & CD1_TTB0_MASK;
	cd[3] = mair;
	cd[0] = CD0_T0SZ(48) | CD0_TG0_4K | CD0_IRGN0_WBWA | CD0_ORGN0_WBWA | CD0_SH0_INNER |
		CD0_EPD1 | CD0_V | (ips_encoding(oas_bits) << CD0_IPS_SHIFT) | CD0_AFFD |
		CD0_AA64 | CD0_R | CD0_A | ((uint64_t)asid << CD0_ASID_SHIFT);
}

void smmu_cmd_simple(uint64_t cmd[SMMU_CMD_DWORDS], uint8_t opcode)
{
	cmd[0] = opcode;
	cmd[1] = 0;
}

void smmu_cmd_cfgi_ste(uint64_t cmd[SMMU_CMD_DWORDS], uint32_t sid)
{
	cmd[0] = SMMU_CMD_CFGI_STE | ((uint64_t)sid << CMD_SID_SHIFT);
	cmd[1] = CMD_CFGI_LEAF;
}

void smmu_cmd_cfgi_all(uint64_t cmd[SMMU_CMD_DWORDS])
{
	cmd[0] = SMMU_CMD_CFGI_ALL;
	cmd[1] = CMD_RANGE_ALL;
}

void smmu_cmd_cfgi_cd(uint64_t cmd[SMMU_CMD_DWORDS], uint32_t sid)
{
	cmd[0] = SMMU_CMD_CFGI_CD | ((uint64_t)sid << CMD_SID_SHIFT); /* SSID 0 */
	cmd[1] = CMD_CFGI_LEAF;
}

void smmu_cmd_tlbi_asid(uint64_t cmd[SMMU_CMD_DWORDS], uint16_t asid)
{
	cmd[0] = SMMU_CMD_TLBI_NH_ASID | ((uint64_t)asid << CMD_ASID_SHIFT); /* VMID 0 */
	cmd[1] = 0;
}

static bool is_fault(uint32_t type)
{
	return type >= SMMU_EVT_F_TRANSLATION && type <= SMMU_EVT_F_PERMISSION;
}

void smmu_event_decode(const uint64_t rec[SMMU_EVT_DWORDS], struct smmu_event *out)
{
	out->type = (uint32_t)(rec[0] & EVT_TYPE_MASK);
	out->sid = (uint32_t)(rec[0] >> EVT_SID_SHIFT);
	out->has_addr = is_fault(out->type);
	out->write = out->has_addr && !(rec[1] & EVT1_RNW);
	out->addr = out->has_addr ? rec[2] : 0;
}

const char *smmu_event_name(uint32_t type)
{
	switch (type) {
	case SMMU_EVT_C_BAD_STREAMID:
		return "stream id beyond the stream table";
	case SMMU_EVT_C_BAD_STE:
		return "stream not given to any VM";
	case SMMU_EVT_F_STREAM_DISABLED:
		return "stream disabled";
	case SMMU_EVT_C_BAD_CD:
		return "bad context descriptor";
	case SMMU_EVT_F_WALK_EABT:
		return "table walk abort";
	case SMMU_EVT_F_TRANSLATION:
		return "translation fault";
	case SMMU_EVT_F_ADDR_SIZE:
		return "address size fault";
	case SMMU_EVT_F_ACCESS:
		return "access flag fault";
	case SMMU_EVT_F_PERMISSION:
		return "permission fault";
	}
	return "other event";
}
