/*
 * The daemon's disk copies (mvm/cli/mediated_copies.c): a copy served for
 * a migration goes, file and all, when its VM is removed or when the
 * receiver that asked for it dies before naming its VM; a shut-down VM
 * keeps it; a configured disk is never deleted; a restarted daemon serves
 * the recorded copies again or deletes those whose VM went away. The
 * hypervisor is a fake that knows a table of VMs.
 *
 * unit-sources: mvm/cli/mediated_copies.c mvm/cli/daemon_ctl.c mvm/cli/mediated_live.c mvm/cli/mediated.c mvm/cli/migrate_net.c mvm/cli/hvc.c mvm/cli/cli.c mvm/cli/util.c mvm/cli/jsoncheck.c mvm/cli/mediated_copies.h mvm/cli/daemon_ctl.h mvm/cli/mediated.h mvm/cli/hvc.h
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

#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/mediated.h>

#include "daemon_ctl.h"
#include "mediated.h"
#include "mediated_copies.h"

#define NR_VMS 8

static const char *vm_names[NR_VMS]; /* NULL: no such VM */
static int registered;		     /* REGISTER minus UNREGISTER */

int __wrap_hvc_call(int fd, uint32_t fid, const uint64_t x[6], unsigned buf_arg, void *buf,
		    size_t len, unsigned dir, uint64_t ret[4])
{
	(void)fd, (void)buf_arg, (void)dir, (void)ret;
	registered += fid == SHYPER_MED_REGISTER ? 1 : fid == SHYPER_MED_UNREGISTER ? -1 : 0;
	if (fid == SHYPER_VMM_INFO) {
		struct shyper_vm_info v = { .id = (uint32_t)x[0] };

		if (x[0] >= NR_VMS || !vm_names[x[0]])
			return -SHYPER_ENOENT;
		snprintf(v.name, sizeof(v.name), "%s", vm_names[x[0]]);
		memcpy(buf, &v, len < sizeof(v) ? len : sizeof(v));
	}
	return 0;
}

static char record[96], dir[64];

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(strcpy(dir, "/tmp/med-copies-XXXXXX")));
	snprintf(record, sizeof(record), "%s/record", dir);
	memset(vm_names, 0, sizeof(vm_names));
	registered = 0;
	return 0;
}

static int teardown(void **state)
{
	char cmd[96];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* A 4 KiB image file in the test's directory; its path. */
static const char *image(const char *name)
{
	static char path[8][128];
	static int next;
	char *p = path[next++ % 8];
	FILE *f;

	snprintf(p, 128, "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), 4096), 0);
	fclose(f);
	return p;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static struct med_daemon daemon_with(const char *configured)
{
	struct med_daemon d;
	char json[160], err[256];

	snprintf(json, sizeof(json), "{\"mediated\": [\"%s\"]}", configured);
	assert_int_equal(med_config_parse(&d, json, strlen(json), NULL, err, sizeof(err)), 0);
	assert_int_equal(med_daemon_start(&d, 3, "test.json"), 0);
	d.copies_path = record;
	return d;
}

/* A copy served at the next index for connection conn, owned by vm (-1: not yet). */
static size_t copy(struct med_daemon *d, const char *path, int conn, int vm)
{
	char err[256];
	int i = med_add_disk(d, 3, path, err, sizeof(err));

	assert_true(i >= 0);
	med_copy_pending(d, (size_t)i, conn);
	if (vm >= 0)
		assert_int_equal(med_copy_own(d, 3, (size_t)i, (uint32_t)vm, err, sizeof(err)), 0);
	return (size_t)i;
}

static void test_removed_vm_takes_its_copy(void **state)
{
	const char *conf = image("configured.img"), *c1 = image("c1"), *c2 = image("c2");
	struct med_daemon d = daemon_with(conf);
	char err[256];

	(void)state;
	vm_names[2] = "linux-migrate";
	vm_names[3] = "other";
	assert_int_equal(copy(&d, c1, 0, 2), 1);
	assert_int_equal(copy(&d, c2, 1, 3), 2);
	assert_true(exists(record));
	/* Not a copy, or no such VM: refused. */
	assert_int_equal(med_copy_own(&d, 3, 0, 2, err, sizeof(err)), -1);
	assert_string_equal(err, "mediated image 0 is not a copy served here");
	assert_int_equal(med_copy_own(&d, 3, 1, 5, err, sizeof(err)), -1);
	assert_string_equal(err, "no VM 5 here");

	/* VM 3 shut down: still there, nothing goes. */
	med_copies_check(&d, 3);
	assert_true(exists(c1) && exists(c2) && d.disks[1].path && d.disks[2].path);
	/* VM 2 removed: its copy is no longer served and is deleted. */
	vm_names[2] = NULL;
	med_copies_vm_removed(&d, 3, 2);
	assert_null(d.disks[1].path);
	assert_false(exists(c1));
	assert_true(exists(c2) && exists(conf));
	assert_int_equal(registered, 2);
	/* Index 1 is free again. */
	assert_int_equal(copy(&d, image("c3"), 0, -1), 1);
	med_copy_drop(&d, 3, 1, true);

	/* An event missed: VM 3's id now names another VM. */
	vm_names[3] = "newcomer";
	med_copies_check(&d, 3);
	assert_false(exists(c2));
	assert_false(exists(record)); /* no copy left to record */
	/* The configured disk is never deleted, even when its VM goes. */
	med_copies_vm_removed(&d, 3, 0);
	assert_true(exists(conf) && d.disks[0].path);
	med_daemon_stop(&d, 3);
	assert_int_equal(registered, 0);
}

static void test_receiver_gone_before_naming_its_vm(void **state)
{
	const char *c1 = image("c1"), *c2 = image("c2");
	struct med_daemon d = daemon_with(image("configured.img"));

	(void)state;
	vm_names[1] = "linux-migrate";
	copy(&d, c1, 4, -1);
	copy(&d, c2, 5, 1);
	med_copies_conn_closed(&d, 3, 5); /* owned: stays */
	assert_true(exists(c2) && d.disks[2].path);
	med_copies_conn_closed(&d, 3, 4);
	assert_false(exists(c1));
	assert_null(d.disks[1].path);
	med_daemon_stop(&d, 3);
}

static void test_restart(void **state)
{
	const char *conf = image("configured.img"), *keep = image("keep"), *gone = image("gone");
	const char *pending = image("pending");
	struct med_daemon d = daemon_with(conf);

	(void)state;
	vm_names[1] = "linux-migrate";
	vm_names[2] = "leaves";
	assert_int_equal(copy(&d, pending, 1, -1), 1); /* not recorded: its receiver deletes it */
	assert_int_equal(copy(&d, keep, 0, 1), 2);
	assert_int_equal(copy(&d, gone, 0, 2), 3);
	med_copy_drop(&d, 3, 1, false); /* index 1 free: the restart must not compact */
	med_daemon_stop(&d, 3);
	assert_true(exists(keep) && exists(gone));

	/* VM 2 removed while no daemon ran; VM 1 is still there. */
	vm_names[2] = NULL;
	d = daemon_with(conf);
	med_copies_restore(&d, 3);
	assert_int_equal(d.nr, 3);
	assert_null(d.disks[1].path);
	assert_string_equal(d.disks[2].path, keep);
	assert_true(d.disks[2].copy && d.disks[2].owner == 1);
	assert_false(exists(gone));
	assert_int_equal(registered, 2);
	/* And it goes with its VM as before. */
	vm_names[1] = NULL;
	med_copies_vm_removed(&d, 3, 1);
	assert_false(exists(keep));
	assert_true(exists(conf));
	med_daemon_stop(&d, 3);
	assert_false(exists(record));
}

/* "own" on the control socket, and a connection that closes. */
static void test_control_requests(void **state)
{
	struct daemon_ctl c = { .lsock = -1 };
	struct med_daemon d = daemon_with(image("configured.img"));
	struct pollfd p[1 + DAEMON_CTL_MAX_CONNS] = { 0 };
	const char *c1 = image("c1");
	char req[160], rep[300];
	const char *want;
	int sv[2];

	(void)state;
	vm_names[4] = "linux-migrate";
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (int i = 0; i < DAEMON_CTL_MAX_CONNS; i++)
		c.conns[i] = -1;
	c.conns[2] = sv[0];
	p[3].revents = POLLIN;
	snprintf(req, sizeof(req), "serve %s\nown 1\nown 1 9\nown 0 4\nown 1 4\n", c1);
	assert_int_equal(write(sv[1], req, strlen(req)), (ssize_t)strlen(req));
	ctl_handle(&c, p, 1 + DAEMON_CTL_MAX_CONNS, &d, 3);
	want = "ok 1\nerr own 1 which VM?\nerr no VM 9 here\n"
	       "err mediated image 0 is not a copy served here\nok\n";
	assert_int_equal(read(sv[1], rep, sizeof(rep) - 1), (ssize_t)strlen(want));
	rep[strlen(want)] = 0;
	assert_string_equal(rep, want);
	/* The receiver's end: the copy is owned, it stays. */
	close(sv[1]);
	ctl_handle(&c, p, 1 + DAEMON_CTL_MAX_CONNS, &d, 3);
	assert_int_equal(c.conns[2], -1);
	assert_true(exists(c1) && d.disks[1].owner == 4);
	med_daemon_stop(&d, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_removed_vm_takes_its_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receiver_gone_before_naming_its_vm, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_requests, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
