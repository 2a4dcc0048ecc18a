/*
 * The receiving end of `shyper vm migrate` (migrate_proto.h): run by
 * `shyper system daemon` in a child process per connection, with its own
 * /dev/shyper file. It checks every byte with the incremental stream
 * reader, builds the VM from VM_CONFIG (the hypervisor refuses cores,
 * memory or devices it cannot give), writes the pages as they come, loads
 * the state at END and resumes the VM only on the source's go-ahead.
 * Whatever fails, the VM it built is removed again.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lib/mstream.h>
#include <shyper/hypercall.h>
#include <shyper/migrate.h>

#include "cli.h"
#include "hvc.h"
#include "migrate_proto.h"
#include "vm_cmds.h"
#include "vm_import.h"

#define ERR_MAX 512
#define PIECE (64U * 1024)
/* The largest section a sender of ours makes: a MEM run of one copy. */
#define SECTION_MAX (sizeof(struct shyper_mig_section) + sizeof(struct shyper_mig_mem) + \
		     SHYPER_MIG_COPY_MAX)

/*
 * Fault-injection for the tests (tests/system/test_vm_migrate.py): with
 * SHYPER_MIG_STALL=<reply>:<seconds> in the daemon's environment, the
 * receiver waits that long before sending that reply (accepted, loaded or
 * running), so that a test can cut the link or kill it at that point.
 */
static void stall_before(const char *reply)
{
	const char *e = getenv("SHYPER_MIG_STALL");
	size_t n = strlen(reply);

	if (e && !strncmp(e, reply, n) && e[n] == ':') {
		printf("migration: stalling %s s before %s (SHYPER_MIG_STALL)\n", e + n + 1, reply);
		fflush(stdout);
		sleep((unsigned)atoi(e + n + 1));
	}
}

struct receiver {
	int sock;
	struct vm_import im;
	struct mstream_inc in;
	bool began, ended;
	char err[ERR_MAX];
};

/* This board must be the kind the stream came from: the state of a GIC or
 * a board it does not have cannot be loaded, so say so before any copy. */
static int same_board(struct receiver *rv)
{
	const struct shyper_mig_header *h = &rv->in.chk.hdr;
	struct shyper_sys_info si;

	if (hvc_call(rv->im.fd, SHYPER_SYS_INFO, (uint64_t[6]){ 0, sizeof(si) }, 1, &si,
		     sizeof(si), SHYPER_BUF_OUT, NULL)) {
		snprintf(rv->err, sizeof(rv->err), "cannot read this board's description");
		return -1;
	}
	si.board[sizeof(si.board) - 1] = 0;
	if (strncmp(si.board, h->board, sizeof(h->board)) || si.gic_version != h->gic_version) {
		snprintf(rv->err, sizeof(rv->err), "the VM comes from a %.32s with GICv%u, this "
			 "board is a %s with GICv%u", h->board, h->gic_version, si.board,
			 si.gic_version);
		return -1;
	}
	return 0;
}

static int on_section(struct receiver *rv, const struct mstream_section *s)
{
	if (rv->began)
		return vm_import_section(&rv->im, s, rv->err, sizeof(rv->err));
	if (!(rv->in.chk.hdr.flags & SHYPER_MIG_F_LIVE)) {
		snprintf(rv->err, sizeof(rv->err), "not a live-migration stream");
		return -1;
	}
	if (same_board(rv) ||
	    vm_import_begin(&rv->im, rv->im.fd, &rv->in.chk.hdr, s, rv->err, sizeof(rv->err)))
		return -1;
	rv->began = true;
	stall_before("accepted");
	if (mig_send_reply(rv->sock, MIG_ACCEPTED, rv->im.id, NULL)) {
		snprintf(rv->err, sizeof(rv->err), "answering the source: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The stream up to END, every section checked before it is used. */
static int receive_stream(struct receiver *rv)
{
	static uint8_t piece[PIECE];
	struct mstream_section s;

	while (!rv->ended) {
		ssize_t n = recv(rv->sock, piece, sizeof(piece), 0);
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(rv->err, sizeof(rv->err), "the stream stopped: %s",
				 n == 0 ? "connection closed"
					: errno == EAGAIN ? "nothing came for too long"
							  : strerror(errno));
			return -1;
		}
		while (off < (size_t)n) {
			size_t used = 0;
			int st;

			if (rv->ended) {
				snprintf(rv->err, sizeof(rv->err), "bytes after the stream's END");
				return -1;
			}
			st = mstream_inc_feed(&rv->in, piece + off, (size_t)n - off, &used, &s);
			off += used;
			if (st < 0) {
				snprintf(rv->err, sizeof(rv->err), "%s", rv->in.chk.err.reason);
				return -1;
			}
			if (st == MSTREAM_SECTION && on_section(rv, &s))
				return -1;
			rv->ended = st == MSTREAM_END;
		}
	}
	return 0;
}

/* LOADED, then the source's word. */
static int finish(struct receiver *rv)
{
	struct mig_cmd cmd;

	if (vm_import_load(&rv->im, rv->err, sizeof(rv->err)))
		return -1;
	stall_before("loaded");
	if (mig_send_reply(rv->sock, MIG_LOADED, rv->im.id, NULL) ||
	    mig_recv_all(rv->sock, &cmd, sizeof(cmd))) {
		snprintf(rv->err, sizeof(rv->err), "waiting for the go-ahead: %s",
			 errno == ECONNRESET ? "connection closed" : strerror(errno));
		return -1;
	}
	if (cmd.magic != MIG_CMD_MAGIC || cmd.cmd != MIG_GO) {
		snprintf(rv->err, sizeof(rv->err), "the source %s",
			 cmd.magic == MIG_CMD_MAGIC && cmd.cmd == MIG_ABORT ? "gave up"
									   : "sent no go-ahead");
		return -1;
	}
	if (vm_import_resume(&rv->im, rv->err, sizeof(rv->err)))
		return -1;
	/* Running: from here on it is ours whatever the source hears. */
	stall_before("running");
	mig_send_reply(rv->sock, MIG_RUNNING, rv->im.id, NULL);
	return 0;
}

int mig_receive(int sock, const char *peer, double timeout_s)
{
	struct receiver rv = { .sock = sock };
	uint8_t *buf = malloc(SECTION_MAX);
	int fd = -1, status = CLI_EXIT_ERR;

	rv.im.fd = -1;
	mig_set_timeout(sock, timeout_s);
	setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (!buf) {
		snprintf(rv.err, sizeof(rv.err), "out of memory");
	} else if (cli_open_device(&fd)) {
		snprintf(rv.err, sizeof(rv.err), "cannot open the hypervisor's device");
	} else {
		rv.im.fd = fd;
		mstream_inc_init(&rv.in, buf, SECTION_MAX);
		if (!receive_stream(&rv) && !finish(&rv))
			status = CLI_EXIT_OK;
	}
	if (status == CLI_EXIT_OK) {
		printf("migration from %s: VM %u runs here (%llu pages received)\n", peer,
		       rv.im.id, (unsigned long long)rv.im.pages);
	} else {
		mig_set_timeout(sock, 1);
		mig_send_reply(sock, MIG_FAILED, 0, rv.err);
		vm_import_discard(&rv.im);
		cli_err("migration from %s failed: %s; nothing of it is left here", peer, rv.err);
	}
	fflush(stdout);
	vm_import_free(&rv.im);
	if (fd >= 0)
		hvc_close(fd);
	free(buf);
	return status;
}
