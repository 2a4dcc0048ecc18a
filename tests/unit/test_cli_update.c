/*
 * `shyper system update` (mvm/cli/cmd_update.c) against a fake hypervisor:
 * hvc_open, hvc_call and hvc_close are wrapped (ld --wrap), every hypercall
 * is recorded and answered here as the live-update group does
 * (docs/HYPERCALLS.md), and the command's stdout and stderr are captured.
 * Covers an update from upload to verdict, a refused image, BEGIN, upload,
 * CHECK and APPLY failing, a rollback verdict, a verdict that does not
 * come, --rollback, --status, --cancel, and usage errors.
 *
 * Options reach the command as main.c gives them, through cli_add_option();
 * cli.c keeps the pointers it is given and has no way to forget them, so
 * the test registers eight slots of its own once and rewrites them per run.
 *
 * unit-sources: tests/unit/cli_capture.h mvm/cli/cmd_update.c mvm/cli/cli.c mvm/cli/util.c mvm/cli/hvc.c mvm/cli/cli.h mvm/cli/hvc.h mvm/cli/util.h
 * unit-libs: -Wl,--wrap=hvc_open,--wrap=hvc_call,--wrap=hvc_close
 * unit-cflags: -Imvm/cli
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/image.h>
#include <shyper/ioctl.h>

#include "cli.h"
#include "cli_capture.h"
#include "hvc.h"

/* ------------------------------------------------------------------------ */
/* The fake hypervisor                                                       */

#define FAKE_FD		1000
#define MAX_CALLS	64
#define MAX_STATUS	8
#define CHUNK_MAX	(1u << 20)	/* SHYPER_UPD_CHUNK's limit */
#define SLOT		(2u << 20)

struct call {
	uint32_t fid;
	uint64_t x[6];
	unsigned buf_arg, dir;
	size_t len;
};

struct status_reply {
	int code;
	struct shyper_upd_status s;
};

static struct {
	struct call calls[MAX_CALLS];
	size_t nr_calls;
	int open_result, opened, closed;
	/* the upload */
	uint8_t *slot;
	uint64_t size, received;
	int begin_code;
	int chunk_fail_at; /* this CHUNK call (0 = first) fails ... */
	int chunk_code;	   /* ... with this; 0: none does */
	int nr_chunks;
	/* CHECK, APPLY, ROLLBACK, CANCEL */
	int check_code;
	struct shyper_upd_report report;
	int apply_code, rollback_code, cancel_code;
	/* STATUS: the replies in turn, the last one repeated */
	struct status_reply status[MAX_STATUS];
	int nr_status, status_calls;
} hv;

static void fake_reset(void)
{
	free(hv.slot);
	memset(&hv, 0, sizeof(hv));
	hv.open_result = FAKE_FD;
}

int __wrap_hvc_open(void);
void __wrap_hvc_close(int fd);
int __wrap_hvc_call(int fd, uint32_t fid, const uint64_t x[6], unsigned buf_arg, void *buf,
		    size_t len, unsigned dir, uint64_t ret[4]);

int __wrap_hvc_open(void)
{
	hv.opened++;
	return hv.open_result;
}

void __wrap_hvc_close(int fd)
{
	assert_int_equal(fd, FAKE_FD);
	hv.closed++;
}

static int fake_chunk(const uint64_t x[6], unsigned buf_arg, const void *buf, size_t len,
		      unsigned dir)
{
	int n = hv.nr_chunks++;

	assert_int_equal(buf_arg, 2);
	assert_int_equal(dir, SHYPER_BUF_IN);
	assert_int_equal(x[2], len);
	assert_true(len > 0 && len <= CHUNK_MAX && len <= SHYPER_IOC_BUF_MAX);
	assert_non_null(hv.slot);
	/* In order, no gaps, not past the size BEGIN gave. */
	assert_int_equal(x[0], hv.received);
	assert_true(len <= hv.size - hv.received);
	if (hv.chunk_code && n == hv.chunk_fail_at)
		return hv.chunk_code;
	memcpy(hv.slot + hv.received, buf, len);
	hv.received += len;
	return 0;
}

static int fake_status(const uint64_t x[6], unsigned buf_arg, void *buf, size_t len,
		       unsigned dir)
{
	const struct status_reply *reply;

	assert_int_equal(buf_arg, 1);
	assert_int_equal(dir, SHYPER_BUF_OUT);
	assert_int_equal(len, sizeof(struct shyper_upd_status));
	assert_int_equal(x[1], len);
	assert_true(hv.nr_status > 0);
	reply = &hv.status[hv.status_calls < hv.nr_status ? hv.status_calls : hv.nr_status - 1];
	hv.status_calls++;
	if (reply->code)
		return reply->code;
	memcpy(buf, &reply->s, sizeof(reply->s));
	return 0;
}

int __wrap_hvc_call(int fd, uint32_t fid, const uint64_t x[6], unsigned buf_arg, void *buf,
		    size_t len, unsigned dir, uint64_t ret[4])
{
	static const uint64_t none[6];
	struct call *c = &hv.calls[hv.nr_calls];

	assert_int_equal(fd, FAKE_FD);
	assert_true(hv.nr_calls < MAX_CALLS);
	hv.nr_calls++;
	if (!x)
		x = none;
	c->fid = fid;
	memcpy(c->x, x, sizeof(c->x));
	c->buf_arg = buf_arg;
	c->dir = dir;
	c->len = len;
	if (buf_arg)
		assert_non_null(buf);
	if (ret)
		memset(ret, 0, 4 * sizeof(*ret));

	switch (fid) {
	case SHYPER_UPD_BEGIN:
		assert_int_equal(buf_arg, 0);
		if (hv.begin_code)
			return hv.begin_code;
		assert_true(x[0] > 0 && x[0] <= SLOT);
		hv.size = x[0];
		hv.received = 0;
		free(hv.slot);
		hv.slot = malloc(hv.size);
		assert_non_null(hv.slot);
		return 0;
	case SHYPER_UPD_CHUNK:
		return fake_chunk(x, buf_arg, buf, len, dir);
	case SHYPER_UPD_CHECK:
		assert_int_equal(buf_arg, 1);
		assert_int_equal(dir, SHYPER_BUF_OUT);
		assert_int_equal(len, sizeof(struct shyper_upd_report));
		assert_int_equal(x[1], len);
		assert_int_equal(hv.received, hv.size); /* the whole file first */
		if (hv.check_code)
			return hv.check_code;
		memcpy(buf, &hv.report, sizeof(hv.report));
		return 0;
	case SHYPER_UPD_APPLY:
		assert_int_equal(buf_arg, 0);
		return hv.apply_code;
	case SHYPER_UPD_STATUS:
		return fake_status(x, buf_arg, buf, len, dir);
	case SHYPER_UPD_ROLLBACK:
		assert_int_equal(buf_arg, 0);
		return hv.rollback_code;
	case SHYPER_UPD_CANCEL:
		assert_int_equal(buf_arg, 0);
		return hv.cancel_code;
	}
	fail_msg("unexpected hypercall 0x%x", fid);
	return -SHYPER_ENOSYS;
}

static void expect_calls(const uint32_t *fids, size_t n)
{
	for (size_t i = 0; i < n && i < hv.nr_calls; i++)
		if (hv.calls[i].fid != fids[i])
			fail_msg("call %zu: 0x%x, expected 0x%x", i, hv.calls[i].fid, fids[i]);
	assert_int_equal(hv.nr_calls, n);
}

#define EXPECT_CALLS(...)                                                           \
	do {                                                                        \
		static const uint32_t want_[] = { __VA_ARGS__ };                     \
		expect_calls(want_, sizeof(want_) / sizeof(want_[0]));              \
	} while (0)

/* What the hypervisor answers once a switch is healthy or rolled back. */
static void add_status(int code, uint32_t phase, uint32_t outcome)
{
	struct status_reply *r = &hv.status[hv.nr_status++];

	assert_true(hv.nr_status <= MAX_STATUS);
	memset(r, 0, sizeof(*r));
	r->code = code;
	r->s.phase = phase;
	r->s.outcome = outcome;
	r->s.updates = 1;
	r->s.cores_paused = 4;
	r->s.pause_ticks = 62;	  /* 0.62 ms ... */
	r->s.counter_hz = 100000; /* ... of a 100 kHz counter */
	r->s.vms_kept = 3;
	r->s.has_previous = 1;
	r->s.state_version = 1;
	strcpy(r->s.running, "0.2.0-s1");
	strcpy(r->s.previous, "0.2.0");
	strcpy(r->s.vm_names, "mvm, linux-migrate, rt-latency");
}

/* A CHECK verdict of acceptance, for the image of 0.2.0-s1. */
static void accept_report(void)
{
	struct shyper_upd_report *r = &hv.report;

	memset(r, 0, sizeof(*r));
	r->result = 0;
	r->arch = SHYPER_ARCH_AARCH64;
	r->abi = 1;
	r->state_version = 1;
	r->state_oldest = 1;
	r->running_state = 2;
	r->handover_state = 1;
	r->file_size = hv.size;
	r->load_size = 300 << 10;
	r->slot_size = SLOT;
	strcpy(r->board, "qemu-virt");
	strcpy(r->version, "0.2.0-s1");
}

/* ------------------------------------------------------------------------ */
/* Running the command                                                       */

/* The table entry of cmd_system.c, for the usage line of usage errors. */
static const struct cli_cmd update_cmd = {
	"update", "[image.bin] [--rollback] [--status] [--cancel] [--timeout=S]",
	"replace the running hypervisor; every VM keeps running", NULL, 0, 1,
	cli_system_update,
};

#define OPT_SLOTS 8
static char opt_slot[OPT_SLOTS][32];
static char out[1 << 16], err[1 << 16];
static char image_path[64];
static size_t image_size;
static uint8_t *image_bytes;

/* `shyper system update ARGS...`: options as main.c separates them. */
static int run(const char *arg, ...)
{
	char *ops[4];
	int nr_ops = 0, nr_opts = 0, ret;
	va_list ap;

	memset(opt_slot, 0, sizeof(opt_slot));
	va_start(ap, arg);
	for (const char *a = arg; a; a = va_arg(ap, const char *)) {
		if (!strncmp(a, "--", 2)) {
			assert_true(nr_opts < OPT_SLOTS && strlen(a) < sizeof(opt_slot[0]));
			strcpy(opt_slot[nr_opts++], a);
		} else {
			assert_true(nr_ops < 4);
			ops[nr_ops++] = (char *)a;
		}
	}
	va_end(ap);
	assert_true(nr_ops <= update_cmd.max_args); /* main.c refuses more */
	cli_cmd_path = "system update";
	cli_current = &update_cmd;

	ret = capture_run(update_cmd.run, nr_ops, ops, out, sizeof(out), err, sizeof(err));
	/* The device is closed whenever it was opened. */
	assert_int_equal(hv.closed, hv.opened && hv.open_result >= 0 ? 1 : 0);
	return ret;
}

static int group_setup(void **state)
{
	int fd;

	(void)state;
	for (int i = 0; i < OPT_SLOTS; i++)
		if (cli_add_option(opt_slot[i]))
			return -1;
	/* 600 KiB and a bit: three chunks of the CLI's 256 KiB. */
	image_size = (600 << 10) + 123;
	image_bytes = malloc(image_size);
	if (!image_bytes)
		return -1;
	for (size_t i = 0; i < image_size; i++)
		image_bytes[i] = (uint8_t)(i * 7 + (i >> 11));
	snprintf(image_path, sizeof(image_path), "/tmp/cli-update-image-XXXXXX");
	fd = mkstemp(image_path);
	if (fd < 0 || write(fd, image_bytes, image_size) != (ssize_t)image_size || close(fd))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	unlink(image_path);
	free(image_bytes);
	fake_reset();
	return 0;
}

static int reset(void **state)
{
	(void)state;
	fake_reset();
	return 0;
}

static const char usage[] =
	" (usage: shyper system update [image.bin] [--rollback] [--status] [--cancel] "
	"[--timeout=S])\n";

/* ------------------------------------------------------------------------ */
/* shyper system update FILE                                                 */

static void test_update(void **state)
{
	(void)state;
	accept_report();
	add_status(0, SHYPER_UPD_PROBATION, SHYPER_UPD_NONE);
	add_status(0, SHYPER_UPD_PROBATION, SHYPER_UPD_NONE);
	add_status(0, SHYPER_UPD_IDLE, SHYPER_UPD_HEALTHY);

	assert_int_equal(run(image_path, NULL), CLI_EXIT_OK);
	assert_string_equal(out,
			    "loading: 600 KiB ... done\n"
			    "checking: arm64 image 0.2.0-s1, board qemu-virt, ABI 1, "
			    "state v2 -> v1, sha256 ok\n"
			    "updating: 4 cores paused 0.620 ms\n"
			    "cshyper 0.2.0-s1 running; 3 VMs kept (mvm, linux-migrate, rt-latency)\n");
	assert_string_equal(err, "");
	EXPECT_CALLS(SHYPER_UPD_BEGIN, SHYPER_UPD_CHUNK, SHYPER_UPD_CHUNK, SHYPER_UPD_CHUNK,
		     SHYPER_UPD_CHECK, SHYPER_UPD_APPLY, SHYPER_UPD_STATUS, SHYPER_UPD_STATUS,
		     SHYPER_UPD_STATUS);
	/* BEGIN the file's size, then every byte of it, in order. */
	assert_int_equal(hv.calls[0].x[0], image_size);
	assert_int_equal(hv.calls[1].x[0], 0);
	assert_int_equal(hv.calls[2].x[0], 256 << 10);
	assert_int_equal(hv.calls[3].x[0], 512 << 10);
	assert_int_equal(hv.calls[3].x[2], image_size - (512 << 10));
	assert_int_equal(hv.received, image_size);
	assert_memory_equal(hv.slot, image_bytes, image_size);
	assert_int_equal(hv.status_calls, 3);
}

/* Going up a layout, and an image of one chunk. */
static void test_update_small_image(void **state)
{
	char path[] = "/tmp/cli-update-small-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, image_bytes, 3000), 3000);
	close(fd);
	accept_report();
	hv.report.state_version = 3;
	hv.report.state_oldest = 2;
	hv.report.handover_state = 2;
	strcpy(hv.report.version, "0.3.0");
	add_status(0, SHYPER_UPD_IDLE, SHYPER_UPD_HEALTHY);
	strcpy(hv.status[0].s.running, "0.3.0");
	hv.status[0].s.vms_kept = 1;
	strcpy(hv.status[0].s.vm_names, "mvm");

	assert_int_equal(run(path, "--timeout=5", NULL), CLI_EXIT_OK);
	unlink(path);
	assert_string_equal(out,
			    "loading: 2 KiB ... done\n"
			    "checking: arm64 image 0.3.0, board qemu-virt, ABI 1, "
			    "state v2 -> v3, sha256 ok\n"
			    "updating: 4 cores paused 0.620 ms\n"
			    "cshyper 0.3.0 running; 1 VMs kept (mvm)\n");
	assert_string_equal(err, "");
	EXPECT_CALLS(SHYPER_UPD_BEGIN, SHYPER_UPD_CHUNK, SHYPER_UPD_CHECK, SHYPER_UPD_APPLY,
		     SHYPER_UPD_STATUS);
	assert_int_equal(hv.calls[1].x[2], 3000);
	assert_memory_equal(hv.slot, image_bytes, 3000);
}

static void test_refused(void **state)
{
	(void)state;
	accept_report();
	hv.report.result = -SHYPER_EINVAL;
	strcpy(hv.report.board, "rpi4");
	strcpy(hv.report.why, "wrong board: the image is for rpi4, this board is qemu-virt");

	assert_int_equal(run(image_path, NULL), CLI_EXIT_ERR);
	assert_string_equal(out, "loading: 600 KiB ... done\n");
	assert_string_equal(err, "system update: refused: wrong board: the image is for rpi4, "
				 "this board is qemu-virt\n");
	/* The hypervisor dropped it: no APPLY, nothing to cancel. */
	EXPECT_CALLS(SHYPER_UPD_BEGIN, SHYPER_UPD_CHUNK, SHYPER_UPD_CHUNK, SHYPER_UPD_CHUNK,
		     SHYPER_UPD_CHECK);
}

/* A report whose strings fill their fields: printed cut, not overrun. */
static void test_refused_unterminated(void **state)
{
	char want[300];

	(void)state;
	accept_report();
	hv.report.result = -SHYPER_EBADMSG;
	memset(hv.report.why, 'w', sizeof(hv.report.why));
	memset(hv.report.version, 'v', sizeof(hv.report.version));
	memset(hv.report.board, 'b', sizeof(hv.report.board));

	assert_int_equal(run(image_path, NULL), CLI_EXIT_ERR);
	snprintf(want, sizeof(want), "system update: refused: %.*s\n",
		 (int)sizeof(hv.report.why) - 1, hv.report.why);
	assert_string_equal(err, want);
}

static void test_begin_refused(void **state)
{
	char want[200];

	(void)state;
	hv.begin_code = -SHYPER_EALREADY;
	assert_int_equal(run(image_path, NULL), CLI_EXIT_ERR);
	assert_string_equal(out, "");
	assert_string_equal(err, "system update: EALREADY (an update is already in progress "
				 "(`shyper system update --cancel` drops an upload))\n");
	EXPECT_CALLS(SHYPER_UPD_BEGIN);

	fake_reset();
	hv.begin_code = -SHYPER_EBUSY;
	assert_int_equal(run(image_path, NULL), CLI_EXIT_ERR);
	assert_string_equal(out, "");
	assert_string_equal(err,
			    "system update: EBUSY (the last update is still on probation)\n");
	EXPECT_CALLS(SHYPER_UPD_BEGIN);

	fake_reset();
	hv.begin_code = -SHYPER_E2BIG;
	assert_int_equal(run(image_path, NULL), CLI_EXIT_ERR);
	assert_string_equal(out, "");
	snprintf(want, sizeof(want),
		 "system update: %s: too big: 600 KiB, an image slot holds 2048 KiB\n",
		 image_path);
	assert_string_equal(err, want);
	EXPECT_CALLS(SHYPER_UPD_BEGIN);

	/* Any other code: its name and meaning. */
	fake_reset();
	hv.begin_code = -SHYPER_EPERM;
	assert_int_equal(run(image_path, NULL), CLI_EXIT_ERR);
	assert_string_equal(err, "system update: EPERM (caller may not make this call)\n");
}

static void test_upload_fails(void **state)
{
	(void)state;
	hv.chunk_fail_at = 1;
	hv.chunk_code = -SHYPER_EFAULT;

	assert_int_equal(run(image_path, NULL), CLI_EXIT_ERR);
	assert_string_equal(out, "loading: 600 KiB ...\n");
	assert_string_equal(err, "system update: upload: EFAULT (bad address)\n");
	/* Dropped at once, not left for shyper.ko to notice. */
	EXPECT_CALLS(SHYPER_UPD_BEGIN, SHYPER_UPD_CHUNK, SHYPER_UPD_CHUNK, SHYPER_UPD_CANCEL);
	assert_int_equal(hv.received, 256 << 10);
}

static void test_check_fails(void **state)
{
	(void)state;
	hv.check_code = -SHYPER_EFAULT;

	assert_int_equal(run(image_path, NULL), CLI_EXIT_ERR);
	assert_string_equal(out, "loading: 600 KiB ... done\n");
	assert_string_equal(err, "system update: check: EFAULT (bad address)\n");
	EXPECT_CALLS(SHYPER_UPD_BEGIN, SHYPER_UPD_CHUNK, SHYPER_UPD_CHUNK, SHYPER_UPD_CHUNK,
		     SHYPER_UPD_CHECK);
}

/* A switch called off: nothing changed, and the checked upload is dropped
 * (shyper.ko stops owning it at APPLY, so the next update would find it). */
static void test_apply_fails(void **state)
{
	(void)state;
	accept_report();
	hv.apply_code = -SHYPER_EBUSY;

	assert_int_equal(run(image_path, NULL), CLI_EXIT_ERR);
	assert_string_equal(out, "loading: 600 KiB ... done\n"
				 "checking: arm64 image 0.2.0-s1, board qemu-virt, ABI 1, "
				 "state v2 -> v1, sha256 ok\n");
	assert_string_equal(err, "system update: switch: EBUSY (a core did not stop in time; "
				 "the running image goes on)\n");
	EXPECT_CALLS(SHYPER_UPD_BEGIN, SHYPER_UPD_CHUNK, SHYPER_UPD_CHUNK, SHYPER_UPD_CHUNK,
		     SHYPER_UPD_CHECK, SHYPER_UPD_APPLY, SHYPER_UPD_CANCEL);
}

/* The new image fails its self-check: the rollback happens during a
 * STATUS call (EAGAIN), the previous image then answers. */
static void test_rolled_back(void **state)
{
	struct shyper_upd_status *s;

	(void)state;
	accept_report();
	add_status(0, SHYPER_UPD_PROBATION, SHYPER_UPD_NONE);
	add_status(-SHYPER_EAGAIN, 0, 0);
	add_status(0, SHYPER_UPD_IDLE, SHYPER_UPD_ROLLED_BACK);
	s = &hv.status[2].s;
	strcpy(s->why, "core(s) 0x8 did not come back in 0.2.0-fault");
	strcpy(s->running, "0.2.0");
	s->vms_kept = 2;
	strcpy(s->vm_names, "mvm, linux-console-a");

	assert_int_equal(run(image_path, NULL), CLI_EXIT_ERR);
	assert_string_equal(out, "loading: 600 KiB ... done\n"
				 "checking: arm64 image 0.2.0-s1, board qemu-virt, ABI 1, "
				 "state v2 -> v1, sha256 ok\n");
	assert_string_equal(err,
			    "system update: the new image failed its self-check: core(s) 0x8 did "
			    "not come back in 0.2.0-fault\n"
			    "system update: rolled back: cshyper 0.2.0 running; 2 VMs kept "
			    "(mvm, linux-console-a)\n");
	assert_int_equal(hv.status_calls, 3);
	EXPECT_CALLS(SHYPER_UPD_BEGIN, SHYPER_UPD_CHUNK, SHYPER_UPD_CHUNK, SHYPER_UPD_CHUNK,
		     SHYPER_UPD_CHECK, SHYPER_UPD_APPLY, SHYPER_UPD_STATUS, SHYPER_UPD_STATUS,
		     SHYPER_UPD_STATUS);
}

static void test_status_fails_while_waiting(void **state)
{
	(void)state;
	accept_report();
	add_status(-SHYPER_EPERM, 0, 0);

	assert_int_equal(run(image_path, NULL), CLI_EXIT_ERR);
	assert_string_equal(err, "system update: status: EPERM (caller may not make this call)\n");
	assert_int_equal(hv.status_calls, 1);
}

/* No verdict within --timeout: said so, with where to look. */
static void test_verdict_timeout(void **state)
{
	(void)state;
	accept_report();
	add_status(0, SHYPER_UPD_PROBATION, SHYPER_UPD_NONE);

	assert_int_equal(run(image_path, "--timeout=1", NULL), CLI_EXIT_ERR);
	assert_string_equal(err, "system update: the new image has not finished its self-check "
				 "after 1 s (see `shyper system update --status`)\n");
	/* Polled every 50 ms for about a second. */
	assert_true(hv.status_calls >= 5 && hv.status_calls <= 25);
}

static void test_file_errors(void **state)
{
	char dir[] = "/tmp/cli-update-dir-XXXXXX", want[200];

	(void)state;
	assert_int_equal(run("/nonexistent/cshyper.bin", NULL), CLI_EXIT_ERR);
	assert_string_equal(out, "");
	assert_string_equal(err,
			    "system update: /nonexistent/cshyper.bin: No such file or directory\n");
	assert_int_equal(hv.nr_calls, 0);

	/* A directory is named as one. */
	fake_reset();
	assert_non_null(mkdtemp(dir));
	assert_int_equal(run(dir, NULL), CLI_EXIT_ERR);
	rmdir(dir);
	snprintf(want, sizeof(want), "system update: %s: Is a directory\n", dir);
	assert_string_equal(err, want);
	assert_int_equal(hv.nr_calls, 0);
}

static void test_open_fails(void **state)
{
	(void)state;
	hv.open_result = -ENOENT;
	assert_int_equal(run(image_path, NULL), CLI_EXIT_ERR);
	assert_string_equal(err, "system update: cannot open /dev/shyper: No such file or "
				 "directory (is shyper.ko loaded? insmod shyper.ko)\n");
	assert_int_equal(hv.nr_calls, 0);
	assert_int_equal(hv.closed, 0);
}

/* ------------------------------------------------------------------------ */
/* --rollback, --status, --cancel                                            */

static void test_rollback(void **state)
{
	(void)state;
	add_status(0, SHYPER_UPD_PROBATION, SHYPER_UPD_NONE);
	add_status(0, SHYPER_UPD_IDLE, SHYPER_UPD_HEALTHY);
	strcpy(hv.status[1].s.running, "0.2.0");

	assert_int_equal(run("--rollback", NULL), CLI_EXIT_OK);
	assert_string_equal(out, "updating: 4 cores paused 0.620 ms\n"
				 "cshyper 0.2.0 running; 3 VMs kept (mvm, linux-migrate, rt-latency)\n");
	assert_string_equal(err, "");
	EXPECT_CALLS(SHYPER_UPD_ROLLBACK, SHYPER_UPD_STATUS, SHYPER_UPD_STATUS);
}

static void test_rollback_refused(void **state)
{
	(void)state;
	hv.rollback_code = -SHYPER_ENOENT;
	assert_int_equal(run("--rollback", NULL), CLI_EXIT_ERR);
	assert_string_equal(out, "");
	assert_string_equal(err, "system update: ENOENT (no previous image kept (none ran yet, "
				 "or an upload replaced it))\n");
	EXPECT_CALLS(SHYPER_UPD_ROLLBACK);

	fake_reset();
	hv.rollback_code = -SHYPER_EALREADY;
	assert_int_equal(run("--rollback", NULL), CLI_EXIT_ERR);
	assert_string_equal(err, "system update: EALREADY (that operation is already in "
				 "progress)\n");
	EXPECT_CALLS(SHYPER_UPD_ROLLBACK);
}

static void test_status(void **state)
{
	struct shyper_upd_status *s;

	(void)state;
	add_status(0, SHYPER_UPD_IDLE, SHYPER_UPD_HEALTHY);
	s = &hv.status[0].s;
	strcpy(s->running, "0.2.0");
	strcpy(s->previous, "0.2.0-s1");
	s->state_version = 2;
	s->updates = 2;
	s->rollbacks = 1;

	assert_int_equal(run("--status", NULL), CLI_EXIT_OK);
	assert_string_equal(out, "running: cshyper 0.2.0 (state layout 2)\n"
				 "previous image: 0.2.0-s1\n"
				 "live updates: 2, rollbacks: 1\n"
				 "phase: idle\n"
				 "last switch: 4 cores paused 0.620 ms, 3 VMs kept "
				 "(mvm, linux-migrate, rt-latency)\n");
	assert_string_equal(err, "");
	EXPECT_CALLS(SHYPER_UPD_STATUS);
}

static void test_status_variants(void **state)
{
	struct shyper_upd_status *s;

	(void)state;
	/* A board that never switched; an upload arriving. */
	add_status(0, SHYPER_UPD_RECEIVING, SHYPER_UPD_NONE);
	s = &hv.status[0].s;
	strcpy(s->running, "0.2.0");
	s->state_version = 2;
	s->updates = 0;
	s->has_previous = 0;
	assert_int_equal(run("--status", NULL), CLI_EXIT_OK);
	assert_string_equal(out, "running: cshyper 0.2.0 (state layout 2)\n"
				 "previous image: none kept\n"
				 "live updates: 0, rollbacks: 0\n"
				 "phase: receiving an image\n");

	/* The last switch rolled back; a checked upload waits. */
	fake_reset();
	add_status(0, SHYPER_UPD_READY, SHYPER_UPD_ROLLED_BACK);
	s = &hv.status[0].s;
	strcpy(s->running, "0.2.0");
	strcpy(s->why, "core(s) 0x8 did not come back in 0.2.0-fault");
	strcpy(s->vm_names, "mvm, linux-console-a");
	s->vms_kept = 2;
	s->state_version = 2;
	s->rollbacks = 1;
	assert_int_equal(run("--status", NULL), CLI_EXIT_OK);
	assert_string_equal(out, "running: cshyper 0.2.0 (state layout 2)\n"
				 "previous image: 0.2.0\n"
				 "live updates: 1, rollbacks: 1\n"
				 "phase: image checked, ready\n"
				 "last switch: 4 cores paused 0.620 ms, 2 VMs kept (mvm, "
				 "linux-console-a); rolled back: core(s) 0x8 did not come back "
				 "in 0.2.0-fault\n");

	/* On probation; a phase this CLI does not know. */
	fake_reset();
	add_status(0, SHYPER_UPD_PROBATION, SHYPER_UPD_NONE);
	assert_int_equal(run("--status", NULL), CLI_EXIT_OK);
	assert_non_null(strstr(out, "phase: on probation\n"));
	fake_reset();
	add_status(0, 9, SHYPER_UPD_NONE);
	assert_int_equal(run("--status", NULL), CLI_EXIT_OK);
	assert_non_null(strstr(out, "phase: ?\n"));

	/* No counter frequency: no division by zero. */
	fake_reset();
	add_status(0, SHYPER_UPD_IDLE, SHYPER_UPD_HEALTHY);
	hv.status[0].s.counter_hz = 0;
	assert_int_equal(run("--status", NULL), CLI_EXIT_OK);
	assert_non_null(strstr(out, "last switch: 4 cores paused 0.000 ms, 3 VMs kept"));

	fake_reset();
	add_status(-SHYPER_EPERM, 0, 0);
	assert_int_equal(run("--status", NULL), CLI_EXIT_ERR);
	assert_string_equal(out, "");
	assert_string_equal(err, "system update: EPERM (caller may not make this call)\n");
}

/* Strings that fill their fields (another build of the hypervisor): cut
 * at the field's end, never read past it (ASan would say so). */
static void test_status_unterminated(void **state)
{
	struct shyper_upd_status *s;
	char want[1024];

	(void)state;
	add_status(0, SHYPER_UPD_IDLE, SHYPER_UPD_ROLLED_BACK);
	s = &hv.status[0].s;
	memset(s->running, 'r', sizeof(s->running));
	memset(s->previous, 'p', sizeof(s->previous));
	memset(s->why, 'w', sizeof(s->why));
	memset(s->vm_names, 'n', sizeof(s->vm_names));
	assert_int_equal(run("--status", NULL), CLI_EXIT_OK);
	snprintf(want, sizeof(want),
		 "running: cshyper %.23s (state layout 1)\n"
		 "previous image: %.23s\n"
		 "live updates: 1, rollbacks: 0\n"
		 "phase: idle\n"
		 "last switch: 4 cores paused 0.620 ms, 3 VMs kept (%.255s); rolled back: %.127s\n",
		 s->running, s->previous, s->vm_names, s->why);
	assert_string_equal(out, want);

	/* And in the verdict of a rollback. */
	fake_reset();
	add_status(0, SHYPER_UPD_IDLE, SHYPER_UPD_ROLLED_BACK);
	s = &hv.status[0].s;
	memset(s->running, 'r', sizeof(s->running));
	memset(s->why, 'w', sizeof(s->why));
	memset(s->vm_names, 'n', sizeof(s->vm_names));
	assert_int_equal(run("--rollback", NULL), CLI_EXIT_ERR);
	snprintf(want, sizeof(want),
		 "system update: the new image failed its self-check: %.127s\n"
		 "system update: rolled back: cshyper %.23s running; 3 VMs kept (%.255s)\n",
		 s->why, s->running, s->vm_names);
	assert_string_equal(err, want);
}

static void test_cancel(void **state)
{
	(void)state;
	assert_int_equal(run("--cancel", NULL), CLI_EXIT_OK);
	assert_string_equal(out, "upload cancelled\n");
	assert_string_equal(err, "");
	EXPECT_CALLS(SHYPER_UPD_CANCEL);

	fake_reset();
	hv.cancel_code = -SHYPER_EINVAL;
	assert_int_equal(run("--cancel", NULL), CLI_EXIT_ERR);
	assert_string_equal(out, "");
	assert_string_equal(err, "system update: EINVAL (no upload to cancel)\n");
	EXPECT_CALLS(SHYPER_UPD_CANCEL);
}

/* ------------------------------------------------------------------------ */
/* Usage errors: nothing opened, no hypercall                                */

static void expect_usage(const char *why)
{
	char want[400];

	snprintf(want, sizeof(want), "shyper system update: %s%s", why, usage);
	assert_string_equal(out, "");
	assert_string_equal(err, want);
	assert_int_equal(hv.opened, 0);
	assert_int_equal(hv.nr_calls, 0);
}

static void test_usage(void **state)
{
	static const char what[] = "give an image file, or one of --rollback, --status, --cancel";

	(void)state;
	assert_int_equal(run(NULL), CLI_EXIT_USAGE);
	expect_usage(what);
	assert_int_equal(run("--timeout=10", NULL), CLI_EXIT_USAGE);
	expect_usage(what);
	assert_int_equal(run(image_path, "--status", NULL), CLI_EXIT_USAGE);
	expect_usage(what);
	assert_int_equal(run(image_path, "--rollback", NULL), CLI_EXIT_USAGE);
	expect_usage(what);
	assert_int_equal(run("--rollback", "--cancel", NULL), CLI_EXIT_USAGE);
	expect_usage(what);
	assert_int_equal(run("--status", "--cancel", "--rollback", NULL), CLI_EXIT_USAGE);
	expect_usage(what);

	assert_int_equal(run(image_path, "--timeout=0", NULL), CLI_EXIT_USAGE);
	expect_usage("--timeout=0: expected a number from 1 to 3600");
	assert_int_equal(run("--status", "--timeout=soon", NULL), CLI_EXIT_USAGE);
	expect_usage("--timeout=soon: expected a number from 1 to 3600");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_update, reset),
		cmocka_unit_test_setup(test_update_small_image, reset),
		cmocka_unit_test_setup(test_refused, reset),
		cmocka_unit_test_setup(test_refused_unterminated, reset),
		cmocka_unit_test_setup(test_begin_refused, reset),
		cmocka_unit_test_setup(test_upload_fails, reset),
		cmocka_unit_test_setup(test_check_fails, reset),
		cmocka_unit_test_setup(test_apply_fails, reset),
		cmocka_unit_test_setup(test_rolled_back, reset),
		cmocka_unit_test_setup(test_status_fails_while_waiting, reset),
		cmocka_unit_test_setup(test_verdict_timeout, reset),
		cmocka_unit_test_setup(test_file_errors, reset),
		cmocka_unit_test_setup(test_open_fails, reset),
		cmocka_unit_test_setup(test_rollback, reset),
		cmocka_unit_test_setup(test_rollback_refused, reset),
		cmocka_unit_test_setup(test_status, reset),
		cmocka_unit_test_setup(test_status_variants, reset),
		cmocka_unit_test_setup(test_status_unterminated, reset),
		cmocka_unit_test_setup(test_cancel, reset),
		cmocka_unit_test_setup(test_usage, reset),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
