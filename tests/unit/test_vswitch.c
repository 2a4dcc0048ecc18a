/*
 * The board's virtual switch (hv/dev/vswitch.c) with recording ports:
 * attach and detach (bad MACs, duplicates, a full table, attaching twice),
 * unicast to the port with the destination MAC only, broadcast, multicast
 * and unknown unicast flooded to every port but the sender, never an echo
 * (not even a frame addressed to the sender itself), runt frames dropped,
 * a port that refuses a frame, counters.
 *
 * unit-sources: hv/dev/vswitch.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dev/vswitch.h>
#include <shyper/errno.h>

#define NPORTS 4

struct rec_port {
	struct vswitch_port port; /* first: the callback casts back */
	unsigned got;
	size_t last_len;
	uint8_t last[64];
	bool refuse;
};

struct env {
	struct vswitch sw;
	struct rec_port p[NPORTS];
};

static bool rec_deliver(struct vswitch_port *port, const uint8_t *frame, size_t len)
{
	struct rec_port *r = (struct rec_port *)port;

	if (r->refuse)
		return false;
	r->got++;
	r->last_len = len;
	memcpy(r->last, frame, len < sizeof(r->last) ? len : sizeof(r->last));
	return true;
}

static void mac_n(uint8_t mac[6], unsigned n)
{
	static const uint8_t base[6] = { 0x02, 0x53, 0x48, 0x59, 0x50, 0x00 };

	memcpy(mac, base, 6);
	mac[5] = (uint8_t)n;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	for (unsigned i = 0; i < NPORTS; i++) {
		mac_n(e->p[i].port.mac, i + 1);
		e->p[i].port.deliver = rec_deliver;
		assert_int_equal(vswitch_attach(&e->sw, &e->p[i].port), 0);
	}
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* A 60-byte frame to dst from src. */
static void frame(uint8_t f[60], const uint8_t dst[6], const uint8_t src[6])
{
	memset(f, 0x5a, 60);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
}

static void counts(struct env *e, unsigned a, unsigned b, unsigned c, unsigned d)
{
	assert_int_equal(e->p[0].got, a);
	assert_int_equal(e->p[1].got, b);
	assert_int_equal(e->p[2].got, c);
	assert_int_equal(e->p[3].got, d);
}

static void test_attach_detach(void **state)
{
	struct env *e = *state;
	struct rec_port extra[VSWITCH_MAX_PORTS] = { 0 };
	struct rec_port bad = { .port.deliver = rec_deliver };
	unsigned added = 0;
	int ret;

	/* Twice the same port: fine. Another port with a MAC in use: no. */
	assert_int_equal(vswitch_attach(&e->sw, &e->p[0].port), 0);
	mac_n(bad.port.mac, 2);
	assert_int_equal(vswitch_attach(&e->sw, &bad.port), -SHYPER_EEXIST);
	assert_true(vswitch_mac_in_use(&e->sw, bad.port.mac, NULL));
	assert_false(vswitch_mac_in_use(&e->sw, bad.port.mac, &e->p[1].port));
	/* Multicast, all zero, no callback. */
	mac_n(bad.port.mac, 9);
	bad.port.mac[0] = 0x03;
	assert_int_equal(vswitch_attach(&e->sw, &bad.port), -SHYPER_EINVAL);
	memset(bad.port.mac, 0, 6);
	assert_int_equal(vswitch_attach(&e->sw, &bad.port), -SHYPER_EINVAL);
	mac_n(bad.port.mac, 9);
	bad.port.deliver = NULL;
	assert_int_equal(vswitch_attach(&e->sw, &bad.port), -SHYPER_EINVAL);
	assert_false(bad.port.attached);

	/* Fill the table. */
	for (unsigned i = 0; i < VSWITCH_MAX_PORTS; i++) {
		mac_n(extra[i].port.mac, 0x80 + i);
		extra[i].port.deliver = rec_deliver;
		ret = vswitch_attach(&e->sw, &extra[i].port);
		if (ret) {
			assert_int_equal(ret, -SHYPER_ENOSPC);
			break;
		}
		added++;
	}
	assert_int_equal(added, VSWITCH_MAX_PORTS - NPORTS);
	/* Detached ports leave room and get nothing more. */
	vswitch_detach(&e->sw, &e->p[3].port);
	assert_false(e->p[3].port.attached);
	assert_int_equal(vswitch_attach(&e->sw, &extra[added].port), 0);
	vswitch_detach(&e->sw, &e->p[3].port); /* twice: harmless */
	uint8_t f[60], bcast[6];

	memset(bcast, 0xff, 6);
	frame(f, bcast, e->p[0].port.mac);
	assert_int_equal(vswitch_forward(&e->sw, &e->p[0].port, f, 60),
			 VSWITCH_MAX_PORTS - 1);
	counts(e, 0, 1, 1, 0);
}

static void test_unicast(void **state)
{
	struct env *e = *state;
	uint8_t f[60];

	frame(f, e->p[2].port.mac, e->p[0].port.mac);
	assert_int_equal(vswitch_forward(&e->sw, &e->p[0].port, f, 60), 1);
	counts(e, 0, 0, 1, 0);
	assert_int_equal(e->p[2].last_len, 60);
	assert_memory_equal(e->p[2].last, f, 60);
	/* Addressed to the sender itself: nobody, certainly not the sender. */
	frame(f, e->p[1].port.mac, e->p[1].port.mac);
	assert_int_equal(vswitch_forward(&e->sw, &e->p[1].port, f, 60), 0);
	counts(e, 0, 0, 1, 0);
	/* A port that refuses (no receive buffer): counted as not taken. */
	e->p[3].refuse = true;
	frame(f, e->p[3].port.mac, e->p[0].port.mac);
	assert_int_equal(vswitch_forward(&e->sw, &e->p[0].port, f, 60), 0);
	counts(e, 0, 0, 1, 0);
	assert_int_equal(e->sw.unicast, 3);
	assert_int_equal(e->sw.flooded + e->sw.unknown, 0);
	/* Sent as another port (its source address): dropped, counted. */
	e->p[3].refuse = false;
	frame(f, e->p[3].port.mac, e->p[1].port.mac);
	assert_int_equal(vswitch_forward(&e->sw, &e->p[0].port, f, 60), 0);
	uint8_t all[6];

	memset(all, 0xff, sizeof(all));
	frame(f, all, e->p[2].port.mac);
	assert_int_equal(vswitch_forward(&e->sw, &e->p[0].port, f, 60), 0);
	counts(e, 0, 0, 1, 0);
	assert_int_equal(e->sw.spoofed, 2);
	assert_int_equal(e->sw.unicast, 3);
}

static void test_flood(void **state)
{
	struct env *e = *state;
	uint8_t f[60], bcast[6], mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	uint8_t nobody[6] = { 0x02, 0x99, 0, 0, 0, 1 };

	memset(bcast, 0xff, 6);
	frame(f, bcast, e->p[1].port.mac);
	assert_int_equal(vswitch_forward(&e->sw, &e->p[1].port, f, 60), 3);
	counts(e, 1, 0, 1, 1);
	frame(f, mcast, e->p[0].port.mac);
	assert_int_equal(vswitch_forward(&e->sw, &e->p[0].port, f, 60), 3);
	counts(e, 1, 1, 2, 2);
	/* Unknown unicast: flooded too (documented), never echoed. */
	frame(f, nobody, e->p[3].port.mac);
	assert_int_equal(vswitch_forward(&e->sw, &e->p[3].port, f, 60), 3);
	counts(e, 2, 2, 3, 2);
	/* From outside every port (NULL): everyone. */
	frame(f, bcast, nobody);
	assert_int_equal(vswitch_forward(&e->sw, NULL, f, 60), 4);
	counts(e, 3, 3, 4, 3);
	assert_int_equal(e->sw.flooded, 3);
	assert_int_equal(e->sw.unknown, 1);
}

static void test_runt(void **state)
{
	struct env *e = *state;
	uint8_t f[60];

	memset(f, 0xff, sizeof(f));
	assert_int_equal(vswitch_forward(&e->sw, &e->p[0].port, f, 13), 0);
	assert_int_equal(vswitch_forward(&e->sw, &e->p[0].port, f, 0), 0);
	counts(e, 0, 0, 0, 0);
	memcpy(f + 6, e->p[0].port.mac, 6); /* a header and nothing else: fine */
	assert_int_equal(vswitch_forward(&e->sw, &e->p[0].port, f, 14), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_attach_detach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unicast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runt, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
