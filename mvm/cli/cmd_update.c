/*
 * shyper system update FILE | --rollback | --status | --cancel
 *
 * Uploads a new hypervisor image into the slot the running one does not
 * use, has the hypervisor check it, switches to it while every VM keeps
 * running, and waits for the new image's self-check (docs/USER-GUIDE.md,
 * "Live update").
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/image.h>
#include <shyper/ioctl.h>

#include "cli.h"
#include "hvc.h"
#include "util.h"

#define CHUNK (256u * 1024)

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static double ticks_ms(uint64_t ticks, uint64_t hz)
{
	return hz ? (double)ticks * 1000.0 / (double)hz : 0;
}

/* The whole file, at most max bytes; 0 or -1 with errno set. */
static int read_file(const char *path, void **out, size_t *size, size_t max)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0, n;

	if (!f)
		return -1;
	errno = 0;
	do {
		if (len == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 1 << 20;
			if (cap > max + 1 || !(nb = realloc(buf, cap))) {
				free(buf);
				fclose(f);
				errno = cap > max + 1 ? EFBIG : ENOMEM;
				return -1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n);
	if (ferror(f) || len > max) {
		/* fread's own errno (EISDIR for a directory), if it set one. */
		int e = len > max ? EFBIG : errno ? errno : EIO;

		free(buf);
		fclose(f);
		errno = e;
		return -1;
	}
	fclose(f);
	*out = buf;
	*size = len;
	return 0;
}

static int get_status(int fd, struct shyper_upd_status *s)
{
	int code;

	memset(s, 0, sizeof(*s));
	code = hvc_call(fd, SHYPER_UPD_STATUS, (uint64_t[6]){ 0, sizeof(*s) }, 1, s,
			sizeof(*s), SHYPER_BUF_OUT, NULL);
	/* Printed with %s: whatever another build of the hypervisor sent. */
	s->running[sizeof(s->running) - 1] = s->previous[sizeof(s->previous) - 1] = 0;
	s->why[sizeof(s->why) - 1] = s->vm_names[sizeof(s->vm_names) - 1] = 0;
	return code;
}

/* The switch is done; the new image judges itself. Waits for its verdict. */
static int wait_verdict(int fd, double timeout_s)
{
	struct shyper_upd_status s;
	char e[160];
	struct timespec t0, t;
	int code;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		code = get_status(fd, &s);
		/* EAGAIN: the check failed and the previous image took over
		 * during the call; ask that one. */
		if (code && code != -SHYPER_EAGAIN)
			return cli_err("status: %s", hvc_strerror(code, NULL, e, sizeof(e)));
		if (!code && s.phase != SHYPER_UPD_PROBATION)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >
		    timeout_s)
			return cli_err("the new image has not finished its self-check after %.0f s "
				       "(see `shyper system update --status`)", timeout_s);
		sleep_ms(50);
	}
	if (s.outcome == SHYPER_UPD_ROLLED_BACK) {
		fprintf(stderr, "system update: the new image failed its self-check: %s\n", s.why);
		fprintf(stderr, "system update: rolled back: cshyper %s running; %u VMs kept (%s)\n",
			s.running, s.vms_kept, s.vm_names);
		return CLI_EXIT_ERR;
	}
	printf("updating: %u cores paused %.3f ms\n", s.cores_paused,
	       ticks_ms(s.pause_ticks, s.counter_hz));
	printf("cshyper %s running; %u VMs kept (%s)\n", s.running, s.vms_kept, s.vm_names);
	return CLI_EXIT_OK;
}

static int print_status(int fd)
{
	struct shyper_upd_status s;
	static const char *const phases[] = { "idle", "receiving an image", "image checked, ready",
					      "on probation" };
	char e[160];
	int code = get_status(fd, &s);

	if (code)
		return cli_err("%s", hvc_strerror(code, NULL, e, sizeof(e)));
	printf("running: cshyper %s (state layout %u)\n", s.running, s.state_version);
	printf("previous image: %s\n", s.has_previous ? s.previous : "none kept");
	printf("live updates: %u, rollbacks: %u\n", s.updates, s.rollbacks);
	printf("phase: %s\n", s.phase < 4 ? phases[s.phase] : "?");
	if (s.updates || s.rollbacks)
		printf("last switch: %u cores paused %.3f ms, %u VMs kept (%s)%s%s\n",
		       s.cores_paused, ticks_ms(s.pause_ticks, s.counter_hz), s.vms_kept,
		       s.vm_names, s.outcome == SHYPER_UPD_ROLLED_BACK ? "; rolled back: " : "",
		       s.outcome == SHYPER_UPD_ROLLED_BACK ? s.why : "");
	return CLI_EXIT_OK;
}

static const char *arch_name(uint32_t arch)
{
	return arch == SHYPER_ARCH_AARCH64 ? "arm64" : arch == SHYPER_ARCH_RISCV64 ? "riscv64" : "unknown-arch";
}

/* Upload in order; 0 or the failing call's code. */
static int upload(int fd, const uint8_t *img, size_t size)
{
	for (size_t off = 0; off < size; off += CHUNK) {
		size_t n = size - off < CHUNK ? size - off : CHUNK;
		int code = hvc_call(fd, SHYPER_UPD_CHUNK, (uint64_t[6]){ off, 0, n }, 2,
				    (void *)(img + off), n, SHYPER_BUF_IN, NULL);

		if (code)
			return code;
	}
	return 0;
}

static int update_file(int fd, const char *path, double timeout_s)
{
	struct shyper_upd_report r;
	uint8_t *img;
	size_t size;
	char e[160];
	int code;

	if (read_file(path, (void **)&img, &size, (size_t)64 << 20))
		return cli_err("%s: %s", path, strerror(errno));
	code = hvc_call(fd, SHYPER_UPD_BEGIN, (uint64_t[6]){ size }, 0, NULL, 0, 0, NULL);
	if (code == -SHYPER_E2BIG) {
		free(img);
		return cli_err("%s: too big: %zu KiB, an image slot holds 2048 KiB", path, size >> 10);
	}
	if (code) {
		free(img);
		return cli_err("%s", hvc_strerror(code, code == -SHYPER_EALREADY
					? "an update is already in progress (`shyper system update --cancel` drops an upload)"
					: code == -SHYPER_EBUSY ? "the last update is still on probation"
					: NULL, e, sizeof(e)));
	}
	printf("loading: %zu KiB ...", size >> 10);
	fflush(stdout);
	code = upload(fd, img, size);
	free(img);
	if (code) {
		printf("\n");
		hvc_call(fd, SHYPER_UPD_CANCEL, NULL, 0, NULL, 0, 0, NULL);
		return cli_err("upload: %s", hvc_strerror(code, NULL, e, sizeof(e)));
	}
	printf(" done\n");
	memset(&r, 0, sizeof(r));
	code = hvc_call(fd, SHYPER_UPD_CHECK, (uint64_t[6]){ 0, sizeof(r) }, 1, &r, sizeof(r),
			SHYPER_BUF_OUT, NULL);
	r.why[sizeof(r.why) - 1] = r.version[sizeof(r.version) - 1] = r.board[sizeof(r.board) - 1] = 0;
	if (code)
		return cli_err("check: %s", hvc_strerror(code, NULL, e, sizeof(e)));
	if (r.result)
		return cli_err("refused: %s", r.why);
	printf("checking: %s image %s, board %s, ABI %u, state v%u -> v%u, sha256 ok\n",
	       arch_name(r.arch), r.version, r.board, r.abi, r.running_state, r.state_version);
	code = hvc_call(fd, SHYPER_UPD_APPLY, NULL, 0, NULL, 0, 0, NULL);
	if (code) {
		/* Nothing changed, but the checked upload would stay behind
		 * and refuse the next update as "in progress" (shyper.ko no
		 * longer owns it after an APPLY, so closing does not drop it). */
		hvc_call(fd, SHYPER_UPD_CANCEL, NULL, 0, NULL, 0, 0, NULL);
		return cli_err("switch: %s", hvc_strerror(code, code == -SHYPER_EBUSY
				? "a core did not stop in time; the running image goes on" : NULL, e, sizeof(e)));
	}
	return wait_verdict(fd, timeout_s);
}

int cli_system_update(int argc, char **argv)
{
	bool rollback = cli_option("--rollback") != NULL, status = cli_option("--status") != NULL,
	     cancel = cli_option("--cancel") != NULL;
	double timeout_s;
	char e[160];
	int fd, code, ret;

	if (cli_option_number("--timeout", 30, 1, 3600, &timeout_s))
		return CLI_EXIT_USAGE;
	if ((argc == 1) + rollback + status + cancel != 1)
		return cli_usage_err("give an image file, or one of --rollback, --status, --cancel");
	fd = hvc_open();
	if (fd < 0)
		return cli_err("%s", hvc_open_error(fd, e, sizeof(e)));
	if (status) {
		ret = print_status(fd);
	} else if (cancel) {
		code = hvc_call(fd, SHYPER_UPD_CANCEL, NULL, 0, NULL, 0, 0, NULL);
		ret = code ? cli_err("%s", hvc_strerror(code, "no upload to cancel", e, sizeof(e)))
			   : (printf("upload cancelled\n"), CLI_EXIT_OK);
	} else if (rollback) {
		code = hvc_call(fd, SHYPER_UPD_ROLLBACK, NULL, 0, NULL, 0, 0, NULL);
		if (code)
			ret = cli_err("%s", hvc_strerror(code, code == -SHYPER_ENOENT
					? "no previous image kept (none ran yet, or an upload replaced it)"
					: NULL, e, sizeof(e)));
		else
			ret = wait_verdict(fd, timeout_s);
	} else {
		ret = update_file(fd, argv[0], timeout_s);
	}
	hvc_close(fd);
	return ret;
}
