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
#include "gic.h"

const char bm_name[] = "sgi-check";

static unsigned passed, failed;
/* vCPU 1's mailbox: the SGI vCPU 0 asks it to send, then its answer. */
static volatile uint32_t request, done;
static uint8_t stack1[4096] __attribute__((aligned(16)));
static struct bm_secondary sec;

/* The next interrupt vCPU 0 acknowledges within 200 ms, or SPURIOUS. */
static uint32_t next_ack(void)
{
	uint64_t end = bm_now() + bm_ms_to_ticks(200);

	while (bm_now() < end) {
		uint32_t iar = gic_ack();

		if (IAR_INTID(iar) != SPURIOUS)
			return iar;
	}
	return SPURIOUS;
}

static void secondary(void *arg)
{
	(void)arg;
	gic_cpu_setup();
	for (;;) {
		uint32_t sgi = request;

		if (!sgi)
			continue;
		request = 0;
		gic_send_sgi(sgi, 0);
		done = sgi;
	}
}

/* Asks vCPU 1 to send @sgi to vCPU 0 and waits until it did. */
static void from_vcpu1(uint32_t sgi)
{
	uint64_t end = bm_now() + bm_ms_to_ticks(1000);

	done = 0;
	request = sgi;
	while (done != sgi && bm_now() < end)
		;
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
		gic_eoi(a);
	b = next_ack();
	if (IAR_INTID(b) != SPURIOUS)
		gic_eoi(b);
	verdict(name, IAR_INTID(a) == sgi && (gic_v3 || IAR_CPUID(a) == sender) &&
			      IAR_INTID(b) == SPURIOUS, a, b);
}

int main(void)
{
	uint32_t a, b;
	int64_t ret;

	bm_irqs_off();
	gic_detect();
	gic_setup();
	for (uint32_t sgi = 1; sgi <= 3; sgi++)
		gic_private_enable(sgi, 0x80);
	bm_printf("%s: GICv%u\n", bm_name, gic_v3 ? 3 : 2);
	sec = (struct bm_secondary){ .stack_top = (uint64_t)(stack1 + sizeof(stack1)),
				     .fn = secondary };
	ret = bm_cpu_on(1, &sec);
	if (ret != PSCI_SUCCESS) {
		bm_printf("%s: CPU_ON of vCPU 1 FAILED: %ld\n", bm_name, ret);
		bm_system_off();
	}

	from_vcpu1(1);
	expect_one("from other", 1, 1);

	gic_send_sgi(2, 0);
	expect_one("from self", 2, 0);

	gic_send_sgi(3, 0);
	from_vcpu1(3);
	a = next_ack();
	if (IAR_INTID(a) != SPURIOUS)
		gic_eoi(a);
	b = next_ack();
	if (IAR_INTID(b) != SPURIOUS)
		gic_eoi(b);
	if (gic_v3)
		verdict("two senders", IAR_INTID(a) == 3 && IAR_INTID(b) == SPURIOUS, a, b);
	else
		verdict("two senders", IAR_INTID(a) == 3 && IAR_INTID(b) == 3 &&
					       (1U << IAR_CPUID(a) | 1U << IAR_CPUID(b)) == 3,
			a, b);
	bm_printf("%s: %u passed, %u failed\n", bm_name, passed, failed);
	bm_system_off();
}
