/*
 * The SMMUv3 pieces the hypervisor builds in memory (hv/plat/drivers/
 * smmuv3_desc.c), checked field by field against IHI 0070 (STE 5.2, CD 5.4,
 * commands 4, event records 7.3), and the PCIe host bridge read from QEMU
 * virt's real tree with the SMMU in front of it (hv/core/board_pcie.c).
 *
 * unit-sources: hv/plat/drivers/smmuv3_desc.c hv/core/board_pcie.c hv/core/board.c
 * unit-sources: hv/lib/dt.c hv/lib/dt_irq.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <core/board.h>
#include <core/board_pcie.h>
#include <drivers/smmuv3_desc.h>
#include <shyper/errno.h>

static uint64_t field(uint64_t v, unsigned hi, unsigned lo)
{
	return (v >> lo) & ((hi - lo == 63) ? ~0ULL : ((1ULL << (hi - lo + 1)) - 1));
}

static void test_ste_stage1(void **state)
{
	uint64_t ste[SMMU_STE_DWORDS];

	(void)state;
	memset(ste, 0xa5, sizeof(ste));
	smmu_ste_s1(ste, 0x4512345000ULL);
	assert_int_equal(field(ste[0], 0, 0), 1);	     /* V */
	assert_int_equal(field(ste[0], 3, 1), 5);	     /* Config: S1 translate, S2 bypass */
	assert_int_equal(field(ste[0], 5, 4), 0);	     /* S1Fmt: one CD */
	assert_int_equal(field(ste[0], 51, 6) << 6, 0x4512345000ULL); /* S1ContextPtr */
	assert_int_equal(field(ste[0], 63, 59), 0);	     /* S1CDMax 0 */
	assert_int_equal(field(ste[1], 27, 27), 0);	     /* S1STALLD */
	assert_int_equal(field(ste[1], 29, 28), 0);	     /* EATS: no ATS */
	assert_int_equal(field(ste[1], 31, 30), 0);	     /* StreamWorld NS-EL1 */
	for (unsigned i = 2; i < SMMU_STE_DWORDS; i++)
		assert_int_equal(ste[i], 0);
	smmu_ste_bypass(ste);
	assert_int_equal(field(ste[0], 3, 0), (4 << 1) | 1);
}

static void test_context_descriptor(void **state)
{
	uint64_t cd[SMMU_CD_DWORDS];

	(void)state;
	memset(cd, 0xa5, sizeof(cd));
	smmu_cd_s1(cd, 0x4077777000ULL, 3, 44, 0xff);
	assert_int_equal(field(cd[0], 5, 0), 16);	/* T0SZ: 48-bit IOVAs */
	assert_int_equal(field(cd[0], 7, 6), 0);	/* TG0 4 KiB */
	assert_int_equal(field(cd[0], 14, 14), 0);	/* EPD0: TTB0 walked */
	assert_int_equal(field(cd[0], 30, 30), 1);	/* EPD1: TTB1 never */
	assert_int_equal(field(cd[0], 31, 31), 1);	/* V */
	assert_int_equal(field(cd[0], 34, 32), 4);	/* IPS: 44 bits */
	assert_int_equal(field(cd[0], 41, 41), 1);	/* AA64 */
	assert_int_equal(field(cd[0], 43, 42), 0);	/* no hardware A/D updates */
	assert_int_equal(field(cd[0], 44, 44), 0);	/* S: no stalls */
	assert_int_equal(field(cd[0], 45, 45), 1);	/* R: faults recorded */
	assert_int_equal(field(cd[0], 46, 46), 1);	/* A: faulting DMA aborted */
	assert_int_equal(field(cd[0], 63, 48), 3);	/* ASID */
	assert_int_equal(field(cd[1], 51, 4) << 4, 0x4077777000ULL); /* TTB0 */
	assert_int_equal(cd[3], 0xff);			/* MAIR */
	smmu_cd_s1(cd, 0, 1, 48, 0);
	assert_int_equal(field(cd[0], 34, 32), 5);
	smmu_cd_s1(cd, 0, 1, 40, 0);
	assert_int_equal(field(cd[0], 34, 32), 2);
}

static void test_commands(void **state)
{
	uint64_t cmd[SMMU_CMD_DWORDS];

	(void)state;
	smmu_cmd_cfgi_ste(cmd, 0x10);
	assert_int_equal(field(cmd[0], 7, 0), 0x03);
	assert_int_equal(field(cmd[0], 63, 32), 0x10);
	assert_int_equal(field(cmd[1], 0, 0), 1);	/* Leaf */
	smmu_cmd_cfgi_all(cmd);
	assert_int_equal(field(cmd[0], 7, 0), 0x04);	/* CFGI_STE_RANGE */
	assert_int_equal(field(cmd[1], 4, 0), 31);	/* Range: every stream */
	smmu_cmd_tlbi_asid(cmd, 7);
	assert_int_equal(field(cmd[0], 7, 0), 0x11);
	assert_int_equal(field(cmd[0], 63, 48), 7);
	smmu_cmd_simple(cmd, SMMU_CMD_SYNC);
	assert_int_equal(cmd[0], 0x46);		/* CS = 0: no signal, polled */
	assert_int_equal(cmd[1], 0);
}

static void test_events(void **state)
{
	/* F_TRANSLATION of a write by stream 8 to 0x5000 1234. */
	const uint64_t fault[4] = { 0x10 | (8ULL << 32), 0, 0x50001234, 0 };
	/* The same as a read (RnW, dword 1 bit 35). */
	const uint64_t read[4] = { 0x10 | (8ULL << 32), 1ULL << 35, 0x50001234, 0 };
	const uint64_t bad_ste[4] = { 0x04 | (0x18ULL << 32), 0, 0, 0 };
	struct smmu_event ev;

	(void)state;
	smmu_event_decode(fault, &ev);
	assert_int_equal(ev.type, SMMU_EVT_F_TRANSLATION);
	assert_int_equal(ev.sid, 8);
	assert_true(ev.has_addr && ev.write);
	assert_int_equal(ev.addr, 0x50001234);
	smmu_event_decode(read, &ev);
	assert_true(ev.has_addr && !ev.write);
	smmu_event_decode(bad_ste, &ev);
	assert_int_equal(ev.type, SMMU_EVT_C_BAD_STE);
	assert_int_equal(ev.sid, 0x18);
	assert_false(ev.has_addr);
	assert_string_equal(smmu_event_name(ev.type), "stream not given to any VM");
	assert_string_equal(smmu_event_name(0x10), "translation fault");
	assert_string_equal(smmu_event_name(0x77), "other event");
}

static void *load(const char *name, size_t *size)
{
	const char *dir = getenv("UNIT_DATA") ? getenv("UNIT_DATA") : "build/unit";
	char path[512];
	FILE *f;
	long n;
	void *buf;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run through `make unit`)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*size = (size_t)n;
	return buf;
}

static void test_qemu_host_bridge(void **state)
{
	size_t size;
	void *blob = load("qemu-virt-smmuv3.dtb", &size);
	struct board_pcie p;
	struct dt dt;
	int node;
	uint32_t intid;

	(void)state;
	assert_int_equal(dt_open(&dt, blob, size), 0);
	assert_int_equal(board_parse_pcie(&dt, &p), 0);
	assert_true(p.present);
	assert_int_equal(p.ecam_base, 0x4010000000ULL);
	assert_int_equal(p.ecam_size, 0x10000000);
	assert_int_equal(p.bus_first, 0);
	assert_int_equal(p.bus_last, 255);
	assert_int_equal(p.nr_ranges, 3);
	/* I/O: bus 0 at 0x3eff0000; 32-bit and 64-bit memory, identity. */
	assert_int_equal(p.ranges[0].space, 0x01000000);
	assert_int_equal(p.ranges[0].pci_addr, 0);
	assert_int_equal(p.ranges[0].cpu_addr, 0x3eff0000);
	assert_int_equal(p.ranges[0].size, 0x10000);
	assert_int_equal(p.ranges[1].space, 0x02000000);
	assert_int_equal(p.ranges[1].pci_addr, 0x10000000);
	assert_int_equal(p.ranges[1].cpu_addr, 0x10000000);
	assert_int_equal(p.ranges[1].size, 0x2eff0000);
	assert_int_equal(p.ranges[2].space, 0x03000000);
	assert_int_equal(p.ranges[2].cpu_addr, 0x8000000000ULL);
	/* The SMMU's event interrupt: SPI 74, first of its four. */
	node = dt_find_compatible(&dt, -1, "arm,smmu-v3");
	assert_true(node >= 0);
	assert_int_equal(board_read_intid(&dt, node, 0, &intid), 0);
	assert_int_equal(intid, 32 + 74);
	free(blob);

	/* A tree without a host bridge has none. */
	blob = load("qemu-virt-gicv2.dtb", &size);
	assert_int_equal(dt_open(&dt, blob, size), 0);
	assert_int_equal(board_parse_pcie(&dt, &p), 0);
	assert_true(p.present); /* QEMU virt always has one */
	free(blob);
	blob = load("dts/board_ok.dtb", &size);
	assert_int_equal(dt_open(&dt, blob, size), 0);
	assert_int_equal(board_parse_pcie(&dt, &p), 0);
	assert_false(p.present);
	free(blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ste_stage1),
		cmocka_unit_test(test_context_descriptor),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_qemu_host_bridge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
