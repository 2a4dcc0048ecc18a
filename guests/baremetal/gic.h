/*
 * The GIC as the bare-metal guests use it, on the QEMU virt layout a
 * cshyper VM gets by default: GICv3 through its system registers and
 * redistributors, or GICv2 through its memory-mapped CPU interface.
 * gic_detect() first (ID_AA64PFR0_EL1.GIC), then the rest. vCPU n's
 * MPIDR is 0.0.0.n and its redistributor the n-th frame.
 */
#ifndef BM_GIC_H
#define BM_GIC_H

#include <stdbool.h>
#include <stdint.h>

#define GICD_BASE 0x08000000UL
#define GICD_SIZE 0x10000UL
#define GICC_BASE 0x08010000UL /* GICv2 CPU interface (the hardware's GICV) */
#define GICR_BASE 0x080a0000UL
#define GICR_FRAME 0x20000UL   /* RD_base and SGI_base, 64 KiB each */
#define GICR_SGI 0x10000UL

#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IGROUPR 0x0080
#define GICD_ISENABLER 0x0100
#define GICD_ICENABLER 0x0180
#define GICD_ISPENDR 0x0200
#define GICD_ICPENDR 0x0280
#define GICD_ISACTIVER 0x0300
#define GICD_ICACTIVER 0x0380
#define GICD_IPRIORITYR 0x0400
#define GICD_ITARGETSR 0x0800
#define GICD_ICFGR 0x0c00
#define GICD_SGIR 0x0f00
#define GICD_IROUTER 0x6000
#define GICR_CTLR 0x0000
#define GICR_WAKER 0x0014
#define GICC_CTLR 0x0000
#define GICC_PMR 0x0004
#define GICC_BPR 0x0008
#define GICC_IAR 0x000c
#define GICC_EOIR 0x0010
#define GICC_RPR 0x0014
#define GICC_HPPIR 0x0018

#define IAR_INTID(v) ((v) & 0x3ffU)
#define IAR_CPUID(v) (((v) >> 10) & 7U)
#define SPURIOUS 1023U
#define VTIMER_PPI 27U
#define PTIMER_PPI 30U

#define SYSREG_READ(r) ({ uint64_t _v; __asm__ volatile("mrs %0, " r : "=r"(_v)); _v; })
#define SYSREG_WRITE(r, v) __asm__ volatile("msr " r ", %0" : : "r"((uint64_t)(v)) : "memory")
#define ISB() __asm__ volatile("isb" ::: "memory")
#define ICC_PMR_EL1 "S3_0_C4_C6_0"
#define ICC_IAR1_EL1 "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1 "S3_0_C12_C12_1"
#define ICC_HPPIR1_EL1 "S3_0_C12_C12_2"
#define ICC_BPR1_EL1 "S3_0_C12_C12_3"
#define ICC_RPR_EL1 "S3_0_C12_C11_3"
#define ICC_SGI1R_EL1 "S3_0_C12_C11_5"
#define ICC_ASGI1R_EL1 "S3_0_C12_C11_6"
#define ICC_SGI0R_EL1 "S3_0_C12_C11_7"
#define ICC_CTLR_EL1 "S3_0_C12_C12_4"
#define ICC_SRE_EL1 "S3_0_C12_C12_5"
#define ICC_IGRPEN1_EL1 "S3_0_C12_C12_7"

/* Set by gic_detect(): the guest sees a GICv3. */
extern bool gic_v3;

static inline uint32_t rd32(uintptr_t a)
{
	uint32_t v;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline void wr32(uintptr_t a, uint32_t v)
{
	__asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(a) : "memory");
}

static inline uint8_t rd8(uintptr_t a)
{
	uint32_t v;

	__asm__ volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return (uint8_t)v;
}

static inline void wr8(uintptr_t a, uint8_t v)
{
	__asm__ volatile("strb %w0, [%1]" : : "r"((uint32_t)v), "r"(a) : "memory");
}

/* The virtual count, after whatever came before. */
static inline uint64_t bm_now(void)
{
	ISB();
	return SYSREG_READ("cntvct_el0");
}

static inline uint64_t bm_us_to_ticks(uint64_t us)
{
	return SYSREG_READ("cntfrq_el0") / 1000000 * us;
}

static inline uint64_t bm_ms_to_ticks(uint64_t ms)
{
	return SYSREG_READ("cntfrq_el0") / 1000 * ms;
}

static inline unsigned bm_cpu(void)
{
	return SYSREG_READ("mpidr_el1") & 0xff;
}

static inline void bm_irqs_on(void) { __asm__ volatile("msr daifclr, #2\n isb" ::: "memory"); }
static inline void bm_irqs_off(void) { __asm__ volatile("msr daifset, #2\n isb" ::: "memory"); }

bool gic_detect(void);
/* vCPU @cpu's redistributor (GICv3). */
uintptr_t gic_rd_base(unsigned cpu);
/* Where the calling vCPU's SGI and PPI registers are: its redistributor's
 * SGI frame on GICv3, the banked distributor registers on GICv2. */
uintptr_t gic_private_base(void);
/* The distributor on (affinity routing on GICv3), then the calling vCPU's
 * interface: awake, group 1, priority mask open, EOImode 0. */
void gic_setup(void);
/* The calling vCPU's interface alone (a secondary vCPU). */
void gic_cpu_setup(void);
/* A private interrupt (SGI or PPI) of the calling vCPU enabled at @prio. */
void gic_private_enable(uint32_t intid, uint8_t prio);
uint32_t gic_ack(void);
void gic_eoi(uint32_t iar);
/* SGI @sgi from the calling vCPU to vCPU @target. */
void gic_send_sgi(uint32_t sgi, unsigned target);

#endif
