/*
 * virtio-evil: a bare-metal guest that drives its virtio-console
 * (virtio-evil.json: virtio-mmio at 0xa002000) like a broken or malicious
 * driver. For each malformed descriptor chain below it resets the device,
 * sets up the transmit queue, offers the chain and notifies; the hypervisor
 * must refuse it: DEVICE_NEEDS_RESET in the status, no used entry, no byte
 * of it on the console. Between cases, and at the end, one good chain must
 * still get through ("evil-ok <case>"), so the device recovers with a reset.
 *
 *   virtio-evil: <case>: refused (status 0x..)     or  ... ACCEPTED
 *   virtio-evil: done refused=<n> of <m>
 *
 * The MVM reads what got through with `shyper vm console`.
 */
#include <stdint.h>

#include <shyper/virtio.h>

#include "bm.h"

const char bm_name[] = "virtio-evil";

#define DEV 0x0a002000UL
#define RAM_BASE 0x80000000UL
#define RAM_SIZE 0x00400000UL
#define QSIZE 8
#define TXQ 1

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static struct desc table[QSIZE] __attribute__((aligned(16)));
static struct {
	uint16_t flags, idx, ring[QSIZE], used_event;
} avail __attribute__((aligned(2)));
static struct {
	uint16_t flags, idx;
	struct { uint32_t id, len; } ring[QSIZE];
	uint16_t avail_event;
} used __attribute__((aligned(4)));
static char good[32];

static uint32_t rd(unsigned off)
{
	return *(volatile uint32_t *)(DEV + off);
}

static void wr(unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(DEV + off) = v;
}

static void barrier(void)
{
	__asm__ volatile("dsb sy" ::: "memory");
}

/* Reset, features (VERSION_1 and INDIRECT_DESC), the transmit queue. */
static int bring_up(void)
{
	uint64_t a = (uint64_t)table, v = (uint64_t)&avail, u = (uint64_t)&used;

	wr(VIRTIO_MMIO_STATUS, 0);
	for (unsigned i = 0; i < sizeof(used) / 2; i++)
		((volatile uint16_t *)&used)[i] = 0;
	for (unsigned i = 0; i < sizeof(avail) / 2; i++)
		((volatile uint16_t *)&avail)[i] = 0;
	if (rd(VIRTIO_MMIO_MAGIC_VALUE) != 0x74726976 || rd(VIRTIO_MMIO_VERSION) != 2 ||
	    rd(VIRTIO_MMIO_DEVICE_ID) != 3)
		return -1;
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1U << VIRTIO_F_INDIRECT_DESC);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK);
	if (!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return -2;
	wr(VIRTIO_MMIO_QUEUE_SEL, TXQ);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)a);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(a >> 32));
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)v);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(v >> 32));
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)u);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(u >> 32));
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	return 0;
}

static void set(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	table[i] = (struct desc){ addr, len, flags, next };
}

static void offer(uint16_t head, uint16_t new_idx)
{
	avail.ring[avail.idx % QSIZE] = head;
	barrier();
	avail.idx = new_idx;
	barrier();
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, TXQ);
	barrier();
}

/* One good chain: it must come back used, its bytes on the console. */
static bool good_chain(const char *tag)
{
	unsigned n = 0;

	if (bring_up())
		return false;
	for (const char *p = "evil-ok "; *p; p++)
		good[n++] = *p;
	for (; *tag && n < sizeof(good) - 2; tag++)
		good[n++] = *tag;
	good[n++] = '\n';
	set(0, (uint64_t)good, n, 0, 0);
	offer(0, 1);
	return used.idx == 1 && !(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

static unsigned cases, refused, recovered;

static void expect_refused(const char *name)
{
	uint32_t st = rd(VIRTIO_MMIO_STATUS);
	bool ok = (st & VIRTIO_STATUS_DEVICE_NEEDS_RESET) && used.idx == 0;

	cases++;
	refused += ok;
	bm_printf("%s: %s: %s (status 0x%x, used %u)\n", bm_name, name,
		  ok ? "refused" : "ACCEPTED", st, used.idx);
	recovered += good_chain(name);
}

int main(void);
int main(void)
{
	uint64_t mine = (uint64_t)good; /* a valid buffer of ours */

	if (bring_up()) {
		bm_printf("%s: no virtio-console at 0x%lx\n", bm_name, DEV);
		return 0;
	}
	bring_up(); set(0, 0x50000000UL, 16, 0, 0); offer(0, 1);
	expect_refused("address in another VM's RAM");
	bring_up(); set(0, 0x40000000UL, 16, 0, 0); offer(0, 1);
	expect_refused("address in the hypervisor");
	bring_up(); set(0, RAM_BASE + RAM_SIZE - 16, 64, 0, 0); offer(0, 1);
	expect_refused("buffer past the end of its RAM");
	bring_up(); set(0, 0xfffffffffffffff0UL, 64, 0, 0); offer(0, 1);
	expect_refused("address wrapping around");
	bring_up(); set(0, mine, 0xffffffffU, 0, 0); offer(0, 1);
	expect_refused("huge length");
	bring_up(); set(0, mine, 4, VIRTQ_DESC_F_NEXT, 1); set(1, mine, 4, VIRTQ_DESC_F_NEXT, 0);
	offer(0, 1);
	expect_refused("descriptor loop");
	bring_up(); set(0, mine, 4, VIRTQ_DESC_F_NEXT, 200); offer(0, 1);
	expect_refused("next index out of range");
	bring_up(); set(0, mine, 4, 0, 0); offer(100, 1);
	expect_refused("head index out of range");
	bring_up(); set(0, mine, 4, 0, 0); offer(0, 1000);
	expect_refused("avail index jumping past the queue");
	bring_up(); set(0, 0x50000000UL, 64, VIRTQ_DESC_F_INDIRECT, 0); offer(0, 1);
	expect_refused("indirect table outside its RAM");
	bring_up(); set(0, mine, 4, VIRTQ_DESC_F_WRITE, 1); set(1, mine, 4, 0, 0);
	table[0].flags |= VIRTQ_DESC_F_NEXT; offer(0, 1);
	expect_refused("readable after writable");
	/* A zero-length buffer carries nothing: its address is never used, so
	 * an empty chain is harmless and comes back with nothing written. */
	bring_up(); set(0, 0x50000000UL, 0, 0, 0); offer(0, 1);
	bm_printf("%s: zero-length buffer outside its RAM: %s (used %u)\n", bm_name,
		  used.idx == 1 && !(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) ?
			  "ignored" : "REFUSED", used.idx);
	bm_printf("%s: done refused=%u of %u recovered=%u\n", bm_name, refused, cases, recovered);
	bm_system_off();
	return 0;
}
