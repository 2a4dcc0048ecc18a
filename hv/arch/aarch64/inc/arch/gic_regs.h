/*
 * GIC register blocks as C structs (GICv3/v4 architecture spec IHI 0069H,
 * chapter 12; GICv2 spec IHI 0048B, chapter 4). Offsets are checked below.
 */
#ifndef ARCH_GIC_REGS_H
#define ARCH_GIC_REGS_H

#include <stddef.h>
#include <stdint.h>

struct gicd_regs {
	uint32_t ctlr;			/* 0x0000 */
	uint32_t typer;			/* 0x0004 */
	uint32_t iidr;			/* 0x0008 */
	uint32_t typer2;		/* 0x000c */
	uint32_t statusr;		/* 0x0010 */
	uint8_t res0[0x080 - 0x014];
	uint32_t igroupr[32];		/* 0x0080 */
	uint32_t isenabler[32];		/* 0x0100 */
	uint32_t icenabler[32];		/* 0x0180 */
	uint32_t ispendr[32];		/* 0x0200 */
	uint32_t icpendr[32];		/* 0x0280 */
	uint32_t isactiver[32];		/* 0x0300 */
	uint32_t icactiver[32];		/* 0x0380 */
	uint8_t ipriorityr[1024];	/* 0x0400 */
	uint8_t itargetsr[1024];	/* 0x0800, v2 only */
	uint32_t icfgr[64];		/* 0x0c00 */
	uint32_t igrpmodr[32];		/* 0x0d00, v3 only */
	uint8_t res1[0xe00 - 0xd80];
	uint32_t nsacr[64];		/* 0x0e00 */
	uint32_t sgir;			/* 0x0f00, v2 only */
	uint8_t res2[0xf10 - 0xf04];
	uint8_t cpendsgir[16];		/* 0x0f10 */
	uint8_t spendsgir[16];		/* 0x0f20 */
	uint8_t res3[0x6000 - 0xf30];
	uint64_t irouter[1024];		/* 0x6000, v3 only (index = INTID) */
};

_Static_assert(offsetof(struct gicd_regs, igroupr) == 0x080, "GICD_IGROUPR");
_Static_assert(offsetof(struct gicd_regs, ipriorityr) == 0x400, "GICD_IPRIORITYR");
_Static_assert(offsetof(struct gicd_regs, icfgr) == 0xc00, "GICD_ICFGR");
_Static_assert(offsetof(struct gicd_regs, sgir) == 0xf00, "GICD_SGIR");
_Static_assert(offsetof(struct gicd_regs, irouter) == 0x6000, "GICD_IROUTER");

/* GICD_ICFGR: SPI @intid edge-triggered (Int_config[1] of its 2-bit field);
 * a device that pulses its line (an SMMU's event interrupt) is otherwise
 * missed, since a level interrupt is pending only while the line is high. */
static inline void gicd_set_edge(volatile struct gicd_regs *d, uint32_t intid)
{
	d->icfgr[intid / 16] |= 2U << ((intid % 16) * 2);
}

/* GICD_CTLR bits. With a single security state (DS=1) as on QEMU virt. */
#define GICD_CTLR_ENABLE_GRP0 (1U << 0)
#define GICD_CTLR_ENABLE_GRP1 (1U << 1)
#define GICD_CTLR_ARE (1U << 4)
#define GICD_CTLR_DS (1U << 6)
#define GICD_CTLR_RWP (1U << 31)
/* GICD_TYPER.ITLinesNumber: (N + 1) * 32 interrupt ids. */
#define GICD_TYPER_ITLINES(t) ((((t) & 0x1fU) + 1) * 32)

/* GICD_SGIR (v2): target list in 23:16, interrupt id in 3:0. */
#define GICD_SGIR_TARGETS_SHIFT 16

/* GICv3 redistributor: RD_base frame, then SGI_base frame 64 KiB above. */
struct gicr_rd_regs {
	uint32_t ctlr;			/* 0x0000 */
	uint32_t iidr;			/* 0x0004 */
	uint64_t typer;			/* 0x0008 */
	uint32_t statusr;		/* 0x0010 */
	uint32_t waker;			/* 0x0014 */
};

struct gicr_sgi_regs {
	uint8_t res0[0x080];
	uint32_t igroupr0;		/* 0x0080 */
	uint8_t res1[0x100 - 0x084];
	uint32_t isenabler0;		/* 0x0100 */
	uint8_t res2[0x180 - 0x104];
	uint32_t icenabler0;		/* 0x0180 */
	uint8_t res3[0x200 - 0x184];
	uint32_t ispendr0;		/* 0x0200 */
	uint8_t res4[0x280 - 0x204];
	uint32_t icpendr0;		/* 0x0280 */
	uint8_t res5[0x300 - 0x284];
	uint32_t isactiver0;		/* 0x0300 */
	uint8_t res6[0x380 - 0x304];
	uint32_t icactiver0;		/* 0x0380 */
	uint8_t res7[0x400 - 0x384];
	uint8_t ipriorityr[32];		/* 0x0400 */
	uint8_t res8[0xc00 - 0x420];
	uint32_t icfgr[2];		/* 0x0c00 */
	uint8_t res9[0xd00 - 0xc08];
	uint32_t igrpmodr0;		/* 0x0d00 */
};

_Static_assert(offsetof(struct gicr_sgi_regs, isenabler0) == 0x100, "GICR_ISENABLER0");
_Static_assert(offsetof(struct gicr_sgi_regs, ipriorityr) == 0x400, "GICR_IPRIORITYR");
_Static_assert(offsetof(struct gicr_sgi_regs, igrpmodr0) == 0xd00, "GICR_IGRPMODR0");

#define GICR_SGI_OFFSET 0x10000UL
#define GICR_FRAME_STRIDE 0x20000UL	/* RD_base + SGI_base */
#define GICR_FRAME_STRIDE_VLPI 0x40000UL /* plus VLPI and reserved frames (v4) */
#define GICR_TYPER_VLPIS (1UL << 1)
#define GICR_TYPER_LAST (1UL << 4)
#define GICR_TYPER_AFF(t) ((t) >> 32)
#define GICR_WAKER_PROCESSOR_SLEEP (1U << 1)
#define GICR_WAKER_CHILDREN_ASLEEP (1U << 2)

/* GICv2 CPU interface (IHI 0048B 4.3). */
struct gicc_regs {
	uint32_t ctlr;			/* 0x0000 */
	uint32_t pmr;			/* 0x0004 */
	uint32_t bpr;			/* 0x0008 */
	uint32_t iar;			/* 0x000c */
	uint32_t eoir;			/* 0x0010 */
	uint32_t rpr;			/* 0x0014 */
	uint32_t hppir;			/* 0x0018 */
};

_Static_assert(offsetof(struct gicc_regs, eoir) == 0x10, "GICC_EOIR");

#define GICC_CTLR_ENABLE (1U << 0)
#define GICC_CTLR_EOIMODE (1U << 9) /* EOImodeNS: EOIR drops priority only */
#define GICC_DIR_OFFSET 0x1000

/* ICC_CTLR_EL1.EOImode: ICC_EOIR1_EL1 drops priority, ICC_DIR_EL1 deactivates. */
#define ICC_CTLR_EOIMODE (1UL << 1)

/* ICC_SRE_EL2 (IHI 0069H, ICC_SRE_EL2): SRE, and Enable lets EL1 use SRE too. */
#define ICC_SRE_EL2_SRE (1UL << 0)
#define ICC_SRE_EL2_ENABLE (1UL << 3)
/* ICC_SGI1R_EL1 fields. */
#define ICC_SGI1R_TARGETS(aff0) (1UL << ((aff0) & 0xf))
#define ICC_SGI1R_AFF1_SHIFT 16
#define ICC_SGI1R_INTID_SHIFT 24
#define ICC_SGI1R_AFF2_SHIFT 32
#define ICC_SGI1R_RS_SHIFT 44
#define ICC_SGI1R_AFF3_SHIFT 48

#endif
