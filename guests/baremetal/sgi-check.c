/*
 * sgi-check: software-generated interrupts between the two vCPUs of a VM,
 * as a guest sees them through the GIC it finds (GICv3 system registers,
 * or GICv2 memory-mapped). vCPU 0 takes them by polling its interrupt
 * acknowledge register (IRQs stay masked at PSTATE); vCPU 1 sends on
 * request.
 *
 *   from other  SGI 1 sent by vCPU 1 to vCPU 0: acknowledged as SGI 1, and
 *               on GICv2 with GICC_IAR.CPUID = 1, the sender;
 *   from self   SGI 2 sent by vCPU 0 to itself: CPUID 0 on GICv2;
 *   two senders SGI 3 sent by both before vCPU 0 looks: on GICv2 two
 *               distinct interrupts, acknowledged one after the other with
 *               CPUIDs 0 and 1 (IHI 0048B 3.2.3: an SGI is pending per
 *               source); on GICv3 one (SGIs have no source there).
 *
 * Prints "sgi-check: <name> ok|FAILED ..." per check, then
 * "sgi-check: N passed, M failed" and powers the VM off.
 */
#include "bm.h"

const char bm_name[] = "sgi-check";

#define GICD_BASE 0x08000000UL
#define GICC_BASE 0x08010000UL /* GICv2 CPU interface (the VM's default) */
#define GICR_BASE 0x080a0000UL /* GICv3: vCPU 0's redistributor */
#define GICD_CTLR 0x0000
#define GICD_ISENABLER0 0x0100
#define GICD_IPRIORITYR 0x0400
#define GICD_SGIR 0x0f00
#define GICR_WAKER 0x0014
#define GICR_SGI 0x10000UL
#define GICC_CTLR 0x0000
#define GICC_PMR 0x0004
#define GICC_IAR 0x000c
#define GICC_EOIR 0x0010
#define IAR_INTID(v) ((v) & 0x3ffU)
#define IAR_CPUID(v) (((v) >> 10) & 7U)
#define SPURIOUS 1023U

#define SYSREG_READ(r) ({ uint64_t _v; __asm__ volatile("mrs %0, " r : "=r"(_v)); _v; })
#define SYSREG_WRITE(r, v) __asm__ volatile("msr " r ", %0" : : "r"((uint64_t)(v)) : "memory")
#define ICC_PMR_EL1 "S3_0_C4_C6_0"
#define ICC_IAR1_EL1 "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1 "S3_0_C12_C12_1"
#define ICC_SGI1R_EL1 "S3_0_C12_C11_5"
#define ICC_CTLR_EL1 "S3_0_C12_C12_4"
#define ICC_SRE_EL1 "S3_0_C12_C12_5"
#define ICC_IGRPEN1_EL1 "S3_0_C12_C12_7"

static bool v3;
static unsigned passed, failed;
/* vCPU 1's mailbox: the SGI vCPU 0 asks it to send, then its answer. */
static volatile uint32_t request, done;
static uint8_t stack1[4096] __attribute__((aligned(16)));
static struct bm_secondary sec;

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

static uint64_t now(void)
{
	__asm__ volatile("isb" ::: "memory");
	return SYSREG_READ("cntvct_el0");
}

static uint64_t ms_to_ticks(uint64_t ms)
{
	return SYSREG_READ("cntfrq_el0") / 1000 * ms;
}

/* SGI @sgi to vCPU @target (its MPIDR is 0.0.0.target). */
static void send_sgi(uint32_t sgi, unsigned target)
{
	if (v3) {
		SYSREG_WRITE(ICC_SGI1R_EL1, ((uint64_t)sgi << 24) | (1UL << target));
		__asm__ volatile("isb" ::: "memory");
	} else {
		wr32(GICD_BASE + GICD_SGIR, (1U << (16 + target)) | sgi);
	}
}

static uint32_t ack(void)
{
	return v3 ? (uint32_t)SYSREG_READ(ICC_IAR1_EL1) : rd32(GICC_BASE + GICC_IAR);
}

static void eoi(uint32_t iar)
{
	if (v3)
		SYSREG_WRITE(ICC_EOIR1_EL1, iar);
	else
		wr32(GICC_BASE + GICC_EOIR, iar);
	__asm__ volatile("isb" ::: "memory");
}

/* The next interrupt vCPU 0 acknowledges within 200 ms, or SPURIOUS. */
static uint32_t next_ack(void)
{
	uint64_t end = now() + ms_to_ticks(200);

	while (now() < end) {
		uint32_t iar = ack();

		if (IAR_INTID(iar) != SPURIOUS)
			return iar;
	}
	return SPURIOUS;
}

static void secondary(void *arg)
{
	(void)arg;
	if (v3) {
		SYSREG_WRITE(ICC_SRE_EL1, SYSREG_READ(ICC_SRE_EL1) | 1);
		__asm__ volatile("isb" ::: "memory");
	}
	for (;;) {
		uint32_t sgi = request;

		if (!sgi)
			continue;
		request = 0;
		send_sgi(sgi, 0);
		done = sgi;
	}
}

/* Asks vCPU 1 to send @sgi to vCPU 0 and waits until it did. */
static void from_vcpu1(uint32_t sgi)
{
	uint64_t end = now() + ms_to_ticks(1000);

	done = 0;
	request = sgi;
	while (done != sgi && now() < end)
		;
}

static void sgi_enable(uint32_t intid)
{
	uintptr_t base = v3 ? GICR_BASE + GICR_SGI : GICD_BASE;
	uintptr_t prio = base + GICD_IPRIORITYR + (intid & ~3U);
	unsigned shift = (intid & 3U) * 8;

	if (v3)
		wr32(base + 0x0080, rd32(base + 0x0080) | (1U << intid)); /* IGROUPR0 */
	wr32(prio, (rd32(prio) & ~(0xffU << shift)) | (0x80U << shift));
	wr32(base + GICD_ISENABLER0, 1U << intid);
}

static void gic_setup(void)
{
	v3 = (SYSREG_READ("id_aa64pfr0_el1") >> 24) & 0xf;
	if (v3) {
		SYSREG_WRITE(ICC_SRE_EL1, SYSREG_READ(ICC_SRE_EL1) | 1);
		__asm__ volatile("isb" ::: "memory");
		wr32(GICD_BASE + GICD_CTLR, 0x12); /* ARE, EnableGrp1 */
		wr32(GICR_BASE + GICR_WAKER, rd32(GICR_BASE + GICR_WAKER) & ~2U);
	} else {
		wr32(GICD_BASE + GICD_CTLR, 1);
	}
	for (uint32_t sgi = 1; sgi <= 3; sgi++)
		sgi_enable(sgi);
	if (v3) {
		SYSREG_WRITE(ICC_PMR_EL1, 0xff);
		SYSREG_WRITE(ICC_CTLR_EL1, 0); /* EOImode 0 */
		SYSREG_WRITE(ICC_IGRPEN1_EL1, 1);
	} else {
		wr32(GICC_BASE + GICC_PMR, 0xff);
		wr32(GICC_BASE + GICC_CTLR, 1);
	}
	__asm__ volatile("isb" ::: "memory");
}

static void verdict(const char *name, bool ok, uint32_t got1, uint32_t got2)
{
	if (ok) {
		passed++;
		bm_printf("%s: %s ok\n", bm_name, name);
	} else {
		failed++;
		bm_printf("%s: %s FAILED: acknowledged 0x%x then 0x%x\n", bm_name, name, got1,
			  got2);
	}
}

/* One acknowledge of @sgi, from @sender on GICv2; nothing after it. */
static void expect_one(const char *name, uint32_t sgi, unsigned sender)
{
	uint32_t a = next_ack(), b;

	if (IAR_INTID(a) != SPURIOUS)
		eoi(a);
	b = next_ack();
	if (IAR_INTID(b) != SPURIOUS)
		eoi(b);
	verdict(name, IAR_INTID(a) == sgi && (v3 || IAR_CPUID(a) == sender) &&
			      IAR_INTID(b) == SPURIOUS, a, b);
}

int main(void)
{
	uint32_t a, b;
	int64_t ret;

	__asm__ volatile("msr daifset, #2\n isb" ::: "memory");
	gic_setup();
	bm_printf("%s: GICv%u\n", bm_name, v3 ? 3 : 2);
	sec = (struct bm_secondary){ .stack_top = (uint64_t)(stack1 + sizeof(stack1)),
				     .fn = secondary };
	ret = bm_cpu_on(1, &sec);
	if (ret != PSCI_SUCCESS) {
		bm_printf("%s: CPU_ON of vCPU 1 FAILED: %ld\n", bm_name, ret);
		bm_system_off();
	}

	from_vcpu1(1);
	expect_one("from other", 1, 1);

	send_sgi(2, 0);
	expect_one("from self", 2, 0);

	send_sgi(3, 0);
	from_vcpu1(3);
	a = next_ack();
	if (IAR_INTID(a) != SPURIOUS)
		eoi(a);
	b = next_ack();
	if (IAR_INTID(b) != SPURIOUS)
		eoi(b);
	if (v3)
		verdict("two senders", IAR_INTID(a) == 3 && IAR_INTID(b) == SPURIOUS, a, b);
	else
		verdict("two senders", IAR_INTID(a) == 3 && IAR_INTID(b) == 3 &&
					       (1U << IAR_CPUID(a) | 1U << IAR_CPUID(b)) == 3,
			a, b);
	bm_printf("%s: %u passed, %u failed\n", bm_name, passed, failed);
	bm_system_off();
}
