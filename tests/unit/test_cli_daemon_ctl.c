/*
 * The daemon's side of live migration with mediated disks: write tracking
 * (mvm/cli/mediated_live.c) and the control socket's requests
 * (mvm/cli/daemon_ctl.c), over a socketpair and a fake hypervisor that
 * records REGISTER and UNREGISTER.
 *
 * unit-sources: mvm/cli/daemon_ctl.c mvm/cli/mediated_copies.c mvm/cli/mediated_copies.h mvm/cli/mediated_live.c mvm/cli/mediated.c mvm/cli/migrate_net.c mvm/cli/hvc.c mvm/cli/cli.c mvm/cli/util.c mvm/cli/jsoncheck.c mvm/cli/daemon_ctl.h mvm/cli/mediated.h mvm/cli/migrate_proto.h mvm/cli/hvc.h
 * unit-libs: -ljson-c -Wl,--wrap=hvc_call
 * unit-cflags: -Imvm/cli
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <shyper/mediated.h>

#include "daemon_ctl.h"
#include "hvc.h"
#include "mediated.h"

static uint32_t last_fid;
static uint64_t last_x[6];
static int registered; /* REGISTER minus UNREGISTER */

int __wrap_hvc_call(int fd, uint32_t fid, const uint64_t x[6], unsigned buf_arg, void *buf,
		    size_t len, unsigned dir, uint64_t ret[4])
{
	(void)fd, (void)buf_arg, (void)buf, (void)len, (void)dir, (void)ret;
	last_fid = fid;
	memcpy(last_x, x, sizeof(last_x));
	registered += fid == SHYPER_MED_REGISTER ? 1 : fid == SHYPER_MED_UNREGISTER ? -1 : 0;
	return 0;
}

/* A 64 KiB image file and a daemon serving it at index 0. */
static char image[64];

static void serve_one_image(struct med_daemon *d)
{
	char err[256];
	int fd = mkstemp(strcpy(image, "/tmp/ctl-test-XXXXXX"));

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64 << 10), 0);
	close(fd);
	memset(d, 0, sizeof(*d));
	assert_int_equal(med_add_disk(d, 3, image, err, sizeof(err)), 0);
	assert_int_equal(last_fid, SHYPER_MED_REGISTER);
	assert_int_equal(last_x[1], 128); /* sectors */
}

static void test_tracking(void **state)
{
	struct med_daemon d;
	size_t len;
	uint8_t *map;

	(void)state;
	serve_one_image(&d);
	/* Untracked: nothing recorded, nothing to take. */
	med_note_write(&d.disks[0], 0, 512);
	assert_null(med_take_written(&d, 0, &len));
	assert_int_equal(len, 0);

	assert_int_equal(med_track(&d, 0, true), 0);
	med_note_write(&d.disks[0], 4096 - 512, 1024);	/* blocks 0 and 1 */
	med_note_write(&d.disks[0], 10 * 4096, 4096);	/* block 10 only */
	med_note_write(&d.disks[0], 15 * 4096 + 1, 1);	/* block 15, the last */
	med_note_write(&d.disks[0], 64 << 10, 4096);	/* past the end: ignored */
	map = med_take_written(&d, 0, &len);
	assert_non_null(map);
	assert_int_equal(len, 8); /* 16 blocks: one word */
	assert_int_equal(map[0], 0x03);
	assert_int_equal(map[1], 0x84);
	assert_int_equal(map[2], 0);
	free(map);
	/* Taking clears. */
	map = med_take_written(&d, 0, &len);
	assert_int_equal(map[0] | map[1], 0);
	free(map);
	assert_int_equal(med_track(&d, 0, false), 0);
	assert_null(med_take_written(&d, 0, &len));
	assert_int_equal(med_track(&d, 5, true), -1); /* not served */
	med_daemon_stop(&d, 3);
	assert_int_equal(registered, 0);
	unlink(image);
}

/* One request through ctl_handle; the answer line. */
static void ask(struct daemon_ctl *c, int peer, struct med_daemon *d, const char *req, char *out,
		size_t outlen)
{
	struct pollfd p[1 + DAEMON_CTL_MAX_CONNS] = { 0 };
	size_t n = 0;

	assert_int_equal(write(peer, req, strlen(req)), (ssize_t)strlen(req));
	p[1].revents = POLLIN;
	ctl_handle(c, p, 1 + DAEMON_CTL_MAX_CONNS, d, 3);
	while (n < outlen - 1 && read(peer, out + n, 1) == 1 && out[n] != '\n')
		n++;
	out[n] = 0;
}

static void test_requests(void **state)
{
	struct daemon_ctl c = { .lsock = -1 };
	struct med_daemon d;
	char rep[600], want[600];
	uint8_t map[8];
	int sv[2];

	(void)state;
	serve_one_image(&d);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (int i = 0; i < DAEMON_CTL_MAX_CONNS; i++)
		c.conns[i] = -1;
	c.conns[0] = sv[0];

	snprintf(want, sizeof(want), "ok 128 %s", image);
	ask(&c, sv[1], &d, "status 0\n", rep, sizeof(rep));
	assert_string_equal(rep, want);
	ask(&c, sv[1], &d, "status 7\n", rep, sizeof(rep));
	assert_string_equal(rep, "err mediated image 7 is not served here");
	ask(&c, sv[1], &d, "status x\n", rep, sizeof(rep));
	assert_string_equal(rep, "err mediated image x is not served here");
	ask(&c, sv[1], &d, "track 0\n", rep, sizeof(rep));
	assert_string_equal(rep, want);
	med_note_write(&d.disks[0], 8192, 512);
	ask(&c, sv[1], &d, "written 0\n", rep, sizeof(rep));
	assert_string_equal(rep, "ok 8");
	assert_int_equal(read(sv[1], map, 8), 8);
	assert_int_equal(map[0], 0x04);
	ask(&c, sv[1], &d, "untrack 0\n", rep, sizeof(rep));
	assert_string_equal(rep, "ok");
	ask(&c, sv[1], &d, "written 0\n", rep, sizeof(rep));
	assert_string_equal(rep, "err mediated image 0 is not tracked");
	/* A second image at the next free index, then dropped: index 1 free again. */
	snprintf(want, sizeof(want), "serve %s\n", image);
	ask(&c, sv[1], &d, want, rep, sizeof(rep));
	assert_string_equal(rep, "ok 1");
	ask(&c, sv[1], &d, "drop 1\n", rep, sizeof(rep));
	assert_string_equal(rep, "ok");
	assert_int_equal(last_fid, SHYPER_MED_UNREGISTER);
	assert_int_equal(last_x[0], 1); /* x1: the index */
	ask(&c, sv[1], &d, "serve /nonexistent/x.img\n", rep, sizeof(rep));
	assert_string_equal(rep, "err /nonexistent/x.img: No such file or directory");
	ask(&c, sv[1], &d, "reboot 0\n", rep, sizeof(rep));
	assert_string_equal(rep, "err unknown request \"reboot\"");
	/* Two requests in one read are both answered. */
	ask(&c, sv[1], &d, "status 0\nstatus 1\n", rep, sizeof(rep));
	snprintf(want, sizeof(want), "ok 128 %s", image);
	assert_string_equal(rep, want);
	{
		size_t n = 0;

		while (n < sizeof(rep) - 1 && read(sv[1], rep + n, 1) == 1 && rep[n] != '\n')
			n++;
		rep[n] = 0;
		assert_string_equal(rep, "err mediated image 1 is not served here");
	}
	close(sv[1]);
	close(sv[0]);
	med_daemon_stop(&d, 3);
	assert_int_equal(registered, 0);
	unlink(image);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tracking),
		cmocka_unit_test(test_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
