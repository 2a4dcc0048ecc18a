/*
 * IVC's pure parts: the bounded message queue (order, limits, at-least-once
 * peek/pop), keep-alive arithmetic, and the generated device tree's channel
 * nodes, checked with libfdt and `dtc`.
 *
 * unit-sources: hv/core/ivc_queue.c hv/core/vm_fdt.c hv/lib/fdt_write.c hv/lib/fmt.c
 * unit-libs: -lfdt
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <libfdt.h>

#include <core/ivc_queue.h>
#include <core/vm_fdt.h>
#include <shyper/errno.h>

static void test_queue_order_and_limits(void **state)
{
	static struct ivc_queue q;
	uint8_t big[SHYPER_IVC_MSG_MAX + 1] = { 0 };
	const struct ivc_msg *m;

	(void)state;
	ivc_queue_clear(&q);
	assert_null(ivc_queue_peek(&q));
	assert_false(ivc_queue_pop(&q));
	assert_int_equal(ivc_queue_push(&q, 1, big, 0), -SHYPER_EINVAL);
	assert_int_equal(ivc_queue_push(&q, 1, big, sizeof(big)), -SHYPER_EINVAL);
	assert_int_equal(ivc_queue_push(&q, 1, big, SHYPER_IVC_MSG_MAX), 0);
	assert_true(ivc_queue_pop(&q));
	for (int i = 0; i < SHYPER_IVC_QUEUE_LEN; i++) {
		char text[16];

		snprintf(text, sizeof(text), "m%d", i);
		assert_int_equal(ivc_queue_push(&q, (uint32_t)i, text, strlen(text)), 0);
	}
	/* Full: refused, nothing dropped. */
	assert_int_equal(ivc_queue_push(&q, 9, "x", 1), -SHYPER_EAGAIN);
	for (int i = 0; i < SHYPER_IVC_QUEUE_LEN; i++) {
		char text[16];

		snprintf(text, sizeof(text), "m%d", i);
		m = ivc_queue_peek(&q);
		assert_non_null(m);
		/* Peeking twice gives the same head: at least once. */
		assert_ptr_equal(ivc_queue_peek(&q), m);
		assert_int_equal(m->sender, i);
		assert_int_equal(m->len, strlen(text));
		assert_memory_equal(m->data, text, m->len);
		assert_true(ivc_queue_pop(&q));
		if (i == 3) /* wraps around */
			assert_int_equal(ivc_queue_push(&q, 42, "late", 4), 0);
	}
	m = ivc_queue_peek(&q);
	assert_non_null(m);
	assert_int_equal(m->sender, 42);
	assert_true(ivc_queue_pop(&q));
	assert_null(ivc_queue_peek(&q));
}

static void test_keepalive(void **state)
{
	struct ivc_keepalive ka;
	const uint64_t freq = 62500000, ms = freq / 1000;

	(void)state;
	assert_int_equal(ivc_ka_register(&ka, 9, false, 0, freq), -SHYPER_EINVAL);
	assert_int_equal(ivc_ka_register(&ka, 60001, false, 0, freq), -SHYPER_EINVAL);
	assert_int_equal(ivc_ka_register(&ka, 100, true, 1000, freq), 0);
	assert_true(ka.restart);
	assert_int_equal(ivc_ka_deadline(&ka), 1000 + 100 * ms);
	assert_false(ivc_ka_overdue(&ka, 1000 + 100 * ms));
	assert_true(ivc_ka_overdue(&ka, 1001 + 100 * ms));
	ka.missed = true; /* reported once */
	assert_false(ivc_ka_overdue(&ka, 1000 + 500 * ms));
	assert_true(ivc_ka_beat(&ka, 1000 + 500 * ms));
	assert_false(ivc_ka_overdue(&ka, 1000 + 550 * ms));
	assert_false(ivc_ka_beat(&ka, 1000 + 560 * ms));
	assert_true(ivc_ka_overdue(&ka, 1001 + 660 * ms));
	assert_int_equal(ivc_ka_register(&ka, 0, false, 0, freq), 0);
	assert_false(ivc_ka_overdue(&ka, UINT64_MAX));
}

static void base_desc(struct vm_fdt_desc *d)
{
	memset(d, 0, sizeof(*d));
	d->nr_vcpus = 1;
	d->nr_mem = 1;
	d->mem[0] = (struct vm_fdt_region){ 0x80000000, 0x8000000 };
	d->gic = (struct vm_fdt_gic){ .version = 3, .gicd_base = 0x8000000,
				      .gicd_size = 0x10000, .gicr_base = 0x80a0000,
				      .gicr_size = 0x20000 };
	d->has_uart = true;
	d->uart = (struct vm_fdt_mmio_dev){ 0x9000000, 0x1000, 33 };
	d->nr_ivc = 1;
	d->ivc[0] = (struct vm_fdt_ivc){ .base = 0x70000000, .size = 0x10000, .irq = 60,
					 .id = 4, .peer = 0, .name = "rt-link" };
	d->has_hypervisor = true;
	d->hypervisor_irq = 60;
}

static void test_fdt_channel_node(void **state)
{
	static uint8_t buf[65536];
	struct vm_fdt_desc d;
	char cmd[256], path[] = "/tmp/test_ivc_XXXXXX", out[4096] = { 0 };
	const fdt32_t *p;
	int node, len, fd;
	FILE *f;

	(void)state;
	base_desc(&d);
	assert_int_equal(vm_fdt_build(&d, buf, sizeof(buf), NULL), 0);
	node = fdt_path_offset(buf, "/ivc@70000000");
	assert_true(node >= 0);
	assert_string_equal(fdt_getprop(buf, node, "compatible", NULL), "cshyper,ivc-channel");
	assert_string_equal(fdt_getprop(buf, node, "label", NULL), "rt-link");
	p = fdt_getprop(buf, node, "cshyper,channel-id", &len);
	assert_int_equal(len, 4);
	assert_int_equal(fdt32_to_cpu(*p), 4);
	p = fdt_getprop(buf, node, "interrupts", &len);
	assert_int_equal(len, 12);
	assert_int_equal(fdt32_to_cpu(p[1]), 60 - 32);
	assert_true(fdt_node_offset_by_compatible(buf, -1, "cshyper,hypervisor") >= 0);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fwrite(buf, 1, fdt_totalsize(buf), f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "dtc -I dtb -O dts %s 2>&1", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	len = (int)fread(out, 1, sizeof(out) - 1, f);
	assert_int_equal(pclose(f), 0);
	unlink(path);
	assert_true(len > 0);
	assert_non_null(strstr(out, "ivc@70000000 {"));
	assert_non_null(strstr(out, "label = \"rt-link\";"));
	assert_null(strstr(out, "Warning"));

	/* Refused: a channel on memory, on the console's SPI, an unterminated name. */
	base_desc(&d);
	d.ivc[0].base = 0x80000000;
	assert_int_equal(vm_fdt_build(&d, buf, sizeof(buf), NULL), -SHYPER_EINVAL);
	base_desc(&d);
	d.ivc[0].irq = 33;
	assert_int_equal(vm_fdt_build(&d, buf, sizeof(buf), NULL), -SHYPER_EINVAL);
	base_desc(&d);
	memset(d.ivc[0].name, 'a', sizeof(d.ivc[0].name));
	assert_int_equal(vm_fdt_build(&d, buf, sizeof(buf), NULL), -SHYPER_EINVAL);
	base_desc(&d);
	d.nr_ivc = VM_FDT_MAX_IVC + 1;
	assert_int_equal(vm_fdt_build(&d, buf, sizeof(buf), NULL), -SHYPER_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_order_and_limits),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_fdt_channel_node),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
