/*
 * SMMUv3 register interface (Arm IHI 0070, chapter 6): bring-up, the
 * command queue and the event queue. See drivers/smmuv3.h.
 */
#include <arch/sysreg.h>
#include <arch/cache.h>
#include <core/frame.h>
#include <core/mem.h>
#include <drivers/smmuv3.h>
#include <lib/string.h>
#include <shyper/errno.h>

#define SMMU_IDR0		0x00
#define  IDR0_S1P		(1U << 1)
#define  IDR0_TTF_AA64		(2U << 2)
#define  IDR0_COHACC		(1U << 4)
#define SMMU_IDR1		0x04
#define  IDR1_TABLES_PRESET	(1U << 30)
#define  IDR1_QUEUES_PRESET	(1U << 29)
#define  IDR1_CMDQS(v)		(((v) >> 21) & 0x1f)
#define  IDR1_EVTQS(v)		(((v) >> 16) & 0x1f)
#define  IDR1_SIDSIZE(v)	((v) & 0x3f)
#define SMMU_IDR5		0x14
#define  IDR5_GRAN4K		(1U << 4)
#define  IDR5_OAS(v)		((v) & 7)
#define SMMU_CR0		0x20
#define  CR0_SMMUEN		(1U << 0)
#define  CR0_EVENTQEN		(1U << 2)
#define  CR0_CMDQEN		(1U << 3)
#define SMMU_CR0ACK		0x24
#define SMMU_CR1		0x28
/* Queues and tables: Inner Shareable, inner and outer write-back. */
#define  CR1_ATTRS		((3U << 10) | (1U << 8) | (1U << 6) | (3U << 4) | \
				 (1U << 2) | (1U << 0))
#define SMMU_CR2		0x2c
#define  CR2_RECINVSID		(1U << 1)	/* report stream ids beyond the table */
#define SMMU_IRQ_CTRL		0x50
#define  IRQ_CTRL_GERROR	(1U << 0)
#define  IRQ_CTRL_EVENTQ	(1U << 2)
#define SMMU_IRQ_CTRLACK	0x54
#define SMMU_GERROR		0x60
#define SMMU_GERRORN		0x64
#define SMMU_STRTAB_BASE	0x80
#define SMMU_STRTAB_BASE_CFG	0x88	/* FMT[17:16] 0: linear, LOG2SIZE[5:0] */
#define SMMU_CMDQ_BASE		0x90
#define SMMU_CMDQ_PROD		0x98
#define SMMU_CMDQ_CONS		0x9c
#define  CMDQ_CONS_ERR(v)	(((v) >> 24) & 0x7f)
#define SMMU_EVTQ_BASE		0xa0
#define SMMU_EVTQ_PROD		0x100a8	/* page 1 */
#define SMMU_EVTQ_CONS		0x100ac
#define Q_BASE_WA_RA		(1ULL << 62)
#define Q_BASE_ADDR_MASK	0x000fffffffffffe0ULL

#define POLL_SPINS		1000000

static const unsigned char oas_sizes[] = { 32, 36, 40, 42, 44, 48, 52 };

static uint32_t rd32(const struct smmu *s, unsigned off)
{
	return *(volatile uint32_t *)(s->base + off);
}

static void wr32(const struct smmu *s, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(s->base + off) = v;
}

static void wr64(const struct smmu *s, unsigned off, uint64_t v)
{
	*(volatile uint64_t *)(s->base + off) = v;
}

static int wait_ack(const struct smmu *s, unsigned ack_off, uint32_t want)
{
	for (unsigned long i = 0; i < POLL_SPINS; i++)
		if (rd32(s, ack_off) == want)
			return 0;
	return -SHYPER_ETIMEDOUT;
}

static int write_cr0(const struct smmu *s, uint32_t v)
{
	wr32(s, SMMU_CR0, v);
	return wait_ack(s, SMMU_CR0ACK, v);
}

void smmu_publish(const struct smmu *s, const void *p, uint64_t size)
{
	if (!s->coherent)
		cache_clean_range((uint64_t)p, size);
	dsb(ishst);
}

static uint64_t zeroed_frames(size_t nr)
{
	uint64_t pa = mem_alloc_frames(nr, nr);

	if (pa != FRAME_NONE)
		memset((void *)pa, 0, nr * FRAME_SIZE);
	return pa;
}

/* Queue index arithmetic: log2 entries plus a wrap bit above them. */
static uint32_t q_next(uint32_t idx, unsigned log2)
{
	return (idx + 1) & ((2U << log2) - 1);
}

static bool q_full(uint32_t prod, uint32_t cons, unsigned log2)
{
	uint32_t mask = (1U << log2) - 1;

	return (prod & mask) == (cons & mask) && (prod ^ cons) & (1U << log2);
}

static int submit(struct smmu *s, const uint64_t cmd[SMMU_CMD_DWORDS])
{
	uint64_t *q = (uint64_t *)s->cmdq_pa;
	unsigned long spins = 0;

	while (q_full(s->cmdq_prod, rd32(s, SMMU_CMDQ_CONS), SMMU_CMDQ_LOG2))
		if (++spins > POLL_SPINS)
			return -SHYPER_ETIMEDOUT;
	uint64_t *slot = &q[(s->cmdq_prod & ((1U << SMMU_CMDQ_LOG2) - 1)) * SMMU_CMD_DWORDS];

	slot[0] = cmd[0];
	slot[1] = cmd[1];
	smmu_publish(s, slot, SMMU_CMD_DWORDS * 8);
	s->cmdq_prod = q_next(s->cmdq_prod, SMMU_CMDQ_LOG2);
	wr32(s, SMMU_CMDQ_PROD, s->cmdq_prod);
	return 0;
}

/* CMD_SYNC, then wait until the SMMU consumed everything up to it. */
static int sync(struct smmu *s)
{
	uint64_t cmd[SMMU_CMD_DWORDS];
	int ret;

	smmu_cmd_simple(cmd, SMMU_CMD_SYNC);
	ret = submit(s, cmd);
	if (ret)
		return ret;
	for (unsigned long i = 0; i < POLL_SPINS; i++) {
		uint32_t cons = rd32(s, SMMU_CMDQ_CONS);

		if (CMDQ_CONS_ERR(cons))
			return -SHYPER_EIO;
		if ((cons & ((2U << SMMU_CMDQ_LOG2) - 1)) == s->cmdq_prod)
			return 0;
	}
	return -SHYPER_ETIMEDOUT;
}

static int submit_sync(struct smmu *s, const uint64_t cmd[SMMU_CMD_DWORDS])
{
	int ret = submit(s, cmd);

	return ret ? ret : sync(s);
}

static unsigned min_u(unsigned a, unsigned b)
{
	return a < b ? a : b;
}

int smmu_init(struct smmu *s, uint64_t base, uint32_t evt_intid, uint32_t gerr_intid)
{
	uint32_t idr0, idr1, idr5;
	uint64_t cmd[SMMU_CMD_DWORDS];
	size_t strtab_frames;
	int ret;

	*s = (struct smmu){ .base = base, .evt_intid = evt_intid, .gerr_intid = gerr_intid };
	idr0 = rd32(s, SMMU_IDR0);
	idr1 = rd32(s, SMMU_IDR1);
	idr5 = rd32(s, SMMU_IDR5);
	if (!(idr0 & IDR0_S1P) || !(idr0 & IDR0_TTF_AA64) || !(idr5 & IDR5_GRAN4K) ||
	    (idr1 & (IDR1_TABLES_PRESET | IDR1_QUEUES_PRESET)) ||
	    IDR1_CMDQS(idr1) < SMMU_CMDQ_LOG2 || IDR1_EVTQS(idr1) < SMMU_EVTQ_LOG2 ||
	    IDR5_OAS(idr5) >= sizeof(oas_sizes))
		return -SHYPER_ENOTSUP;
	s->coherent = idr0 & IDR0_COHACC;
	s->sid_bits = min_u(IDR1_SIDSIZE(idr1), SMMU_SID_BITS_MAX);
	s->oas_bits = min_u(oas_sizes[IDR5_OAS(idr5)], 48);

	/* Off first: firmware or a bootloader may have left it running. */
	ret = write_cr0(s, 0);
	if (ret)
		return ret;
	strtab_frames = ((size_t)SMMU_STE_DWORDS * 8 << s->sid_bits) / FRAME_SIZE;
	if (!strtab_frames)
		strtab_frames = 1;
	s->strtab_pa = zeroed_frames(strtab_frames);
	s->cmdq_pa = zeroed_frames(1);
	s->evtq_pa = zeroed_frames(1);
	if (s->strtab_pa == FRAME_NONE || s->cmdq_pa == FRAME_NONE || s->evtq_pa == FRAME_NONE)
		return -SHYPER_ENOMEM; /* at boot: the frames stay lost, nothing runs */
	smmu_publish(s, (void *)s->strtab_pa, strtab_frames * FRAME_SIZE);

	wr32(s, SMMU_CR1, CR1_ATTRS);
	wr32(s, SMMU_CR2, CR2_RECINVSID);
	wr64(s, SMMU_STRTAB_BASE, s->strtab_pa);
	wr32(s, SMMU_STRTAB_BASE_CFG, s->sid_bits);
	wr64(s, SMMU_CMDQ_BASE, Q_BASE_WA_RA | (s->cmdq_pa & Q_BASE_ADDR_MASK) | SMMU_CMDQ_LOG2);
	wr32(s, SMMU_CMDQ_PROD, 0);
	wr32(s, SMMU_CMDQ_CONS, 0);
	wr64(s, SMMU_EVTQ_BASE, Q_BASE_WA_RA | (s->evtq_pa & Q_BASE_ADDR_MASK) | SMMU_EVTQ_LOG2);
	wr32(s, SMMU_EVTQ_PROD, 0);
	wr32(s, SMMU_EVTQ_CONS, 0);
	ret = write_cr0(s, CR0_CMDQEN);
	if (ret)
		return ret;
	smmu_cmd_cfgi_all(cmd);
	ret = submit(s, cmd);
	smmu_cmd_simple(cmd, SMMU_CMD_TLBI_NSNH_ALL);
	if (!ret)
		ret = submit(s, cmd);
	smmu_cmd_simple(cmd, SMMU_CMD_TLBI_EL2_ALL);
	if (!ret)
		ret = submit_sync(s, cmd);
	if (ret)
		return ret;
	wr32(s, SMMU_IRQ_CTRL, IRQ_CTRL_EVENTQ | IRQ_CTRL_GERROR);
	ret = wait_ack(s, SMMU_IRQ_CTRLACK, IRQ_CTRL_EVENTQ | IRQ_CTRL_GERROR);
	if (!ret)
		ret = write_cr0(s, CR0_CMDQEN | CR0_EVENTQEN);
	if (!ret)
		ret = write_cr0(s, CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN);
	if (ret)
		return ret;
	s->present = true;
	return 0;
}

int smmu_set_ste(struct smmu *s, uint32_t sid, const uint64_t ste[SMMU_STE_DWORDS])
{
	uint64_t *e, cmd[SMMU_CMD_DWORDS];
	int ret;

	if (!s->present || sid >> s->sid_bits)
		return -SHYPER_EINVAL;
	e = (uint64_t *)s->strtab_pa + (uint64_t)sid * SMMU_STE_DWORDS;
	/* Invalid first, so the SMMU never sees half of the old and the new. */
	*(volatile uint64_t *)&e[0] = 0;
	smmu_publish(s, e, SMMU_STE_DWORDS * 8);
	smmu_cmd_cfgi_ste(cmd, sid);
	ret = submit_sync(s, cmd);
	if (ret || !ste)
		return ret;
	for (unsigned i = 1; i < SMMU_STE_DWORDS; i++)
		e[i] = ste[i];
	smmu_publish(s, e, SMMU_STE_DWORDS * 8);
	*(volatile uint64_t *)&e[0] = ste[0];
	smmu_publish(s, e, 8);
	return submit_sync(s, cmd);
}

int smmu_flush_asid(struct smmu *s, uint16_t asid)
{
	uint64_t cmd[SMMU_CMD_DWORDS];

	if (!s->present)
		return -SHYPER_EINVAL;
	smmu_cmd_tlbi_asid(cmd, asid);
	return submit_sync(s, cmd);
}

#define EVTQ_OVFLG (1U << 31) /* PROD: toggled when records were dropped */

unsigned smmu_drain_events(struct smmu *s, void (*report)(const struct smmu_event *ev, void *ctx),
			   void *ctx, bool *overflowed)
{
	const uint64_t *q = (const uint64_t *)s->evtq_pa;
	const uint32_t mask = (1U << SMMU_EVTQ_LOG2) - 1;
	uint32_t gerror, prod, raw;
	unsigned n = 0;

	*overflowed = false;
	if (!s->present)
		return 0;
	gerror = rd32(s, SMMU_GERROR);
	if (gerror != rd32(s, SMMU_GERRORN)) {
		s->events_lost++;
		*overflowed = true;
		wr32(s, SMMU_GERRORN, gerror); /* acknowledged: toggled to match */
	}
	raw = rd32(s, SMMU_EVTQ_PROD);
	if ((raw ^ rd32(s, SMMU_EVTQ_CONS)) & EVTQ_OVFLG) {
		s->events_lost++;
		*overflowed = true;
	}
	prod = raw & ((2U << SMMU_EVTQ_LOG2) - 1);
	while (s->evtq_cons != prod) {
		struct smmu_event ev;
		const uint64_t *rec = &q[(s->evtq_cons & mask) * SMMU_EVT_DWORDS];

		if (!s->coherent)
			cache_clean_range((uint64_t)rec, SMMU_EVT_DWORDS * 8); /* clean+inval */
		smmu_event_decode(rec, &ev);
		report(&ev, ctx);
		s->evtq_cons = q_next(s->evtq_cons, SMMU_EVTQ_LOG2);
		n++;
	}
	/* OVACKFLG = OVFLG: the overflow is seen. */
	wr32(s, SMMU_EVTQ_CONS, s->evtq_cons | (raw & EVTQ_OVFLG));
	s->events_seen += n;
	return n;
}
