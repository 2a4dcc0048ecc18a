/*
 * shyper vm console <id> [quiet-seconds]: the VM's virtio-console (hvc0) on
 * this terminal, through SHYPER_VMM_CONSOLE. Interactive: the terminal goes
 * raw, every key (Ctrl-C included) goes to the guest, Ctrl-] detaches.
 * With stdin not a terminal (scripts, tests) it sends stdin, then keeps
 * printing until the guest has been quiet for quiet-seconds (default 1).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <shyper/errno.h>
#include <shyper/hypercall.h>

#include "cli.h"
#include "hvc.h"

#define DETACH_KEY 0x1d	      /* Ctrl-] */
#define CHUNK (64 * 1024)     /* what one call moves at most */
#define WRITE_PATIENCE_MS 5000 /* a guest not reading its console */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int console_op(int fd, uint32_t id, uint64_t op, void *buf, size_t len, unsigned dir,
		      uint64_t *out)
{
	uint64_t x[6] = { id, op, 0, len, 0, 0 }, ret[4] = { 0 };
	int st = hvc_call(fd, SHYPER_VMM_CONSOLE, x, buf ? 3 : 0, buf, len, dir, ret);

	if (out)
		*out = ret[1];
	return st;
}

static int fail(int st, uint32_t id)
{
	char msg[160];

	if (st == -SHYPER_ENODEV)
		return cli_err("VM %u has no virtio console (EMU_DEVICE_T_VIRTIO_CONSOLE)", id);
	if (st == -SHYPER_EBUSY)
		return cli_err("someone else is attached to VM %u's console", id);
	if (st == -SHYPER_ENOENT)
		return cli_err("no VM %u", id);
	return cli_err("VM %u's console: %s", id, hvc_strerror(st, NULL, msg, sizeof(msg)));
}

/* Hands `len` bytes to the guest, waiting while its receive ring is full. */
static int send_input(int fd, uint32_t id, const char *in, size_t len)
{
	uint64_t since = now_ms();

	while (len) {
		uint64_t taken = 0;
		int st = console_op(fd, id, SHYPER_CONSOLE_WRITE, (void *)in, len,
				    SHYPER_BUF_IN, &taken);

		if (st)
			return st;
		if (taken > len)
			taken = len;
		in += taken;
		len -= taken;
		if (taken) {
			since = now_ms();
		} else if (now_ms() - since > WRITE_PATIENCE_MS) {
			fprintf(stderr, "\r\nshyper vm console: the guest is not reading its "
					"console; %zu bytes not sent\r\n", len);
			return 0;
		} else {
			usleep(1000);
		}
	}
	return 0;
}

static int console_loop(int fd, uint32_t id, bool tty, uint64_t quiet_ms)
{
	static char out[CHUNK];
	char in[4096];
	bool in_open = true;
	uint64_t last_out = now_ms();

	while (!stop) {
		uint64_t n = 0;
		struct pollfd p = { .fd = 0, .events = POLLIN };
		int st = console_op(fd, id, SHYPER_CONSOLE_READ, out, sizeof(out), SHYPER_BUF_OUT, &n);

		if (st)
			return st;
		if (n) {
			if (fwrite(out, 1, n > sizeof(out) ? sizeof(out) : n, stdout) != n)
				return -EIO;
			fflush(stdout);
			last_out = now_ms();
		} else if (!in_open && now_ms() - last_out >= quiet_ms) {
			return 0;
		}
		/* Output waiting: look at the keys without sleeping. */
		if (poll(&p, in_open ? 1 : 0, n ? 0 : 10) > 0 && in_open) {
			ssize_t r = read(0, in, sizeof(in));
			char *key;

			if (r <= 0) {
				in_open = false; /* EOF: keep printing until quiet */
				last_out = now_ms();
				continue;
			}
			key = tty ? memchr(in, DETACH_KEY, (size_t)r) : NULL;
			if ((st = send_input(fd, id, in, key ? (size_t)(key - in) : (size_t)r)))
				return st;
			if (key)
				return 0;
		}
	}
	return 0;
}

int cli_vm_console(int argc, char **argv)
{
	struct termios saved, raw;
	uint64_t dropped = 0, quiet_ms = 1000;
	bool tty = isatty(0);
	uint32_t id;
	char msg[256];
	int fd, st;

	st = cli_vm_id_arg(argv[0], &id);
	if (st)
		return st;
	if (argc > 1) {
		char *end;
		double s = strtod(argv[1], &end);

		if (*end || s < 0 || s > 3600)
			return cli_usage_err("quiet-seconds must be a number from 0 to 3600");
		quiet_ms = (uint64_t)(s * 1000);
	}
	fd = hvc_open();
	if (fd < 0)
		return cli_err("%s", hvc_open_error(fd, msg, sizeof(msg)));
	st = console_op(fd, id, SHYPER_CONSOLE_ATTACH, NULL, 0, 0, &dropped);
	if (st) {
		hvc_close(fd);
		return fail(st, id);
	}
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGINT, on_signal); /* only without a terminal: raw mode sends ^C on */
	if (tty) {
		tcgetattr(0, &saved);
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
		fprintf(stderr, "[vm%u console; Ctrl-] detaches]\r\n", id);
	}
	if (dropped)
		fprintf(stderr, "[%llu bytes of earlier output were not kept]\r\n",
			(unsigned long long)dropped);
	st = console_loop(fd, id, tty, quiet_ms);
	if (tty) {
		tcsetattr(0, TCSANOW, &saved);
		fprintf(stderr, "\r\n[detached from vm%u]\n", id);
	}
	console_op(fd, id, SHYPER_CONSOLE_DETACH, NULL, 0, 0, NULL);
	hvc_close(fd);
	return st ? fail(st, id) : CLI_EXIT_OK;
}
