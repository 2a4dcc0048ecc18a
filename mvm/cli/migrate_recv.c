#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, mkostemp */
#endif
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
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <lib/mstream.h>
#include <shyper/hypercall.h>
#include <shyper/mediated.h>
#include <shyper/migrate.h>

#include "cli.h"
#include "daemon_ctl.h"
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

/* A mediated disk of the incoming VM. */
struct in_disk {
	uint32_t src_image, image; /* its index on the source, and here */
	uint64_t sectors;
	int fd;			   /* the file being filled; -1 if shared */
	bool served;		   /* the daemon serves it (we asked) */
	char path[256];
};

struct receiver {
	int sock;
	struct vm_import im;
	struct mstream_inc in;
	bool began, ended;
	uint32_t flags;	      /* HELLO's */
	const char *disk_dir; /* where copied disks go */
	int ctl;	      /* the daemon's control socket, -1 */
	struct in_disk disks[SHYPER_MED_IMAGES_MAX];
	unsigned nr_disks;
	char err[ERR_MAX];
};

/* A mediated disk from VM_CONFIG: shared, the daemon must serve it under
 * the same index; copied, a new file the daemon serves at a free one. */
static int prepare_disk(struct receiver *rv, const struct shyper_emu_dev *e, const char *vm_name,
			uint32_t *map)
{
	struct in_disk *d = &rv->disks[rv->nr_disks];
	char req[320], rep[320];
	unsigned long long sectors;
	char *rest;

	/* The hypervisor's own bounds (blk_check): 1 .. 2^40 sectors. */
	if (rv->nr_disks == SHYPER_MED_IMAGES_MAX || e->cfg_num < 2 ||
	    e->cfg_list[0] >= SHYPER_MED_IMAGES_MAX || !e->cfg_list[1] ||
	    e->cfg_list[1] > (1ULL << 40)) {
		snprintf(rv->err, sizeof(rv->err), "mediated disk %.32s: bad configuration", e->name);
		return -1;
	}
	*d = (struct in_disk){ .src_image = (uint32_t)e->cfg_list[0], .sectors = e->cfg_list[1],
			       .fd = -1 };
	rv->nr_disks++;
	if (rv->ctl < 0 && (rv->ctl = ctl_connect(rv->err, sizeof(rv->err))) < 0)
		return -1;
	if (rv->flags & MIG_F_SHARED_DISK) {
		snprintf(req, sizeof(req), "status %u", d->src_image);
		if (ctl_request(rv->ctl, req, rep, sizeof(rep)) ||
		    (sectors = strtoull(rep, &rest, 10)) < d->sectors) {
			snprintf(rv->err, sizeof(rv->err), "--shared-disk, but this board's daemon "
				 "does not serve mediated image %u of %llu sectors", d->src_image,
				 (unsigned long long)d->sectors);
			return -1;
		}
		d->image = d->src_image;
		map[d->src_image] = d->image;
		return 0;
	}
	/* The name comes from the stream: only safe characters reach the path. */
	char safe[65];
	size_t n = 0;

	for (; n < sizeof(safe) - 1 && vm_name[n]; n++) {
		char c = vm_name[n];

		safe[n] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				  (c >= '0' && c <= '9') || c == '-' || c == '_' ? c : '_';
	}
	safe[n] = 0;
	snprintf(d->path, sizeof(d->path), "%s/%s-disk%u-XXXXXX", rv->disk_dir,
		 n ? safe : "vm", d->src_image);
	d->fd = mkostemp(d->path, O_CLOEXEC);
	if (d->fd < 0 || ftruncate(d->fd, (off_t)(d->sectors * SHYPER_MED_SECTOR))) {
		snprintf(rv->err, sizeof(rv->err), "%.200s: %s", d->path, strerror(errno));
		return -1;
	}
	snprintf(req, sizeof(req), "serve %s", d->path);
	if (ctl_request(rv->ctl, req, rep, sizeof(rep))) {
		snprintf(rv->err, sizeof(rv->err), "serving %.200s: %.200s", d->path, rep);
		return -1;
	}
	d->served = true;
	d->image = (uint32_t)strtoul(rep, NULL, 10);
	map[d->src_image] = d->image;
	return 0;
}

static int prepare_disks(struct receiver *rv, const struct mstream_section *s, uint32_t *map)
{
	struct mstream_vm_config_view v;

	for (uint32_t i = 0; i < SHYPER_MED_IMAGES_MAX; i++)
		map[i] = i;
	mstream_parse_vm_config(s->payload, s->length, &v, NULL, 0);
	for (uint32_t i = 0; i < v.emu_devs.count; i++) {
		struct shyper_emu_dev e;

		mstream_array_get(&v.emu_devs, i, &e, sizeof(e));
		if (e.type == SHYPER_EMU_VIRTIO_BLK_MEDIATED &&
		    prepare_disk(rv, &e, v.cfg.desc.name, map))
			return -1;
	}
	return 0;
}

static int write_blocks(struct receiver *rv, const struct mstream_section *s)
{
	struct mstream_disk_view v;
	struct in_disk *d = NULL;

	for (unsigned i = 0; i < rv->nr_disks; i++)
		if (rv->disks[i].src_image == s->instance && rv->disks[i].fd >= 0)
			d = &rv->disks[i];
	mstream_parse_disk_blocks(s->payload, s->length, &v, NULL, 0);
	if (!d || v.offset > d->sectors * SHYPER_MED_SECTOR ||
	    v.len > d->sectors * SHYPER_MED_SECTOR - v.offset) {
		snprintf(rv->err, sizeof(rv->err), "section %u (DISK_BLOCKS #%u): %s", s->index,
			 s->instance, d ? "past the end of the disk" : "no such disk being copied");
		return -1;
	}
	for (uint64_t done = 0; done < v.len;) {
		ssize_t n = pwrite(d->fd, v.data + done, v.len - done, (off_t)(v.offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(rv->err, sizeof(rv->err), "%.200s: %s", d->path,
				 n < 0 ? strerror(errno) : "short write");
			return -1;
		}
		done += (uint64_t)n;
	}
	return 0;
}

/* The copies are the new VM's: the daemon deletes them when it is
 * removed, even if this receiver dies first. */
static int own_disks(struct receiver *rv)
{
	for (unsigned i = 0; i < rv->nr_disks; i++) {
		struct in_disk *d = &rv->disks[i];
		char req[48], rep[320];

		if (!d->served || d->fd < 0)
			continue;
		snprintf(req, sizeof(req), "own %u %u", d->image, rv->im.id);
		if (ctl_request(rv->ctl, req, rep, sizeof(rep))) {
			snprintf(rv->err, sizeof(rv->err), "the daemon would not keep %.200s for "
				 "VM %u: %.200s", d->path, rv->im.id, rep);
			return -1;
		}
	}
	return 0;
}

/* After a failure: the disks it brought are no longer served, and gone. */
static void drop_disks(struct receiver *rv)
{
	for (unsigned i = 0; i < rv->nr_disks; i++) {
		struct in_disk *d = &rv->disks[i];
		char req[32], rep[128];

		if (d->served) {
			snprintf(req, sizeof(req), "drop %u", d->image);
			ctl_request(rv->ctl, req, rep, sizeof(rep));
		}
		if (d->fd >= 0) {
			close(d->fd);
			unlink(d->path);
		}
	}
	rv->nr_disks = 0;
}

/* This board must be the kind the stream came from: the state of a GIC or
 * a board it does not have cannot be loaded, so say so before any copy.
 * Its free memory must hold the VM's RAM: said in words here, before a
 * disk file is made, rather than as the memory region the hypervisor
 * refuses. */
static int board_fits(struct receiver *rv, const struct mstream_section *vm_config)
{
	const struct shyper_mig_header *h = &rv->in.chk.hdr;
	struct mstream_vm_config_view v;
	struct shyper_sys_info si;
	uint64_t need = 0;

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
	mstream_parse_vm_config(vm_config->payload, vm_config->length, &v, NULL, 0);
	for (uint32_t i = 0; i < v.mem_regions.count; i++) {
		struct shyper_mig_mem_region r;

		mstream_array_get(&v.mem_regions, i, &r, sizeof(r));
		need += r.length;
	}
	if (need > si.free_ram) {
		snprintf(rv->err, sizeof(rv->err), "not enough free memory on this board: the VM "
			 "needs %llu MiB, %llu MiB are free", (unsigned long long)(need >> 20),
			 (unsigned long long)(si.free_ram >> 20));
		return -1;
	}
	return 0;
}

static int on_section(struct receiver *rv, const struct mstream_section *s)
{
	uint32_t map[SHYPER_MED_IMAGES_MAX];

	if (rv->began && s->type == SHYPER_MIG_SEC_DISK_BLOCKS)
		return write_blocks(rv, s);
	if (rv->began)
		return vm_import_section(&rv->im, s, rv->err, sizeof(rv->err));
	if (!(rv->in.chk.hdr.flags & SHYPER_MIG_F_LIVE)) {
		snprintf(rv->err, sizeof(rv->err), "not a live-migration stream");
		return -1;
	}
	if (board_fits(rv, s) || prepare_disks(rv, s, map) ||
	    vm_import_begin_mapped(&rv->im, rv->im.fd, &rv->in.chk.hdr, s, map, rv->err,
				   sizeof(rv->err)))
		return -1;
	rv->began = true;
	if (own_disks(rv))
		return -1;
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

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* LOADED (saying how long loading took: the source splits its downtime
 * into the network's share and ours), then the source's word. */
static int finish(struct receiver *rv)
{
	struct mig_cmd cmd;
	double t0 = now_s();

	if (vm_import_load(&rv->im, rv->err, sizeof(rv->err)))
		return -1;
	stall_before("loaded");
	if (mig_send_loaded(rv->sock, rv->im.id, (uint32_t)((now_s() - t0) * 1e6)) ||
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

/* HELLO: the flags of this migration. */
static int hello(struct receiver *rv)
{
	struct mig_cmd h;

	if (mig_recv_all(rv->sock, &h, sizeof(h))) {
		snprintf(rv->err, sizeof(rv->err), "no greeting: %s", strerror(errno));
		return -1;
	}
	if (h.magic != MIG_CMD_MAGIC || h.cmd != MIG_HELLO || (h.flags & ~MIG_F_SHARED_DISK) ||
	    h.reserved) {
		snprintf(rv->err, sizeof(rv->err), "not shyper vm migrate (or another version)");
		return -1;
	}
	rv->flags = h.flags;
	return 0;
}

int mig_receive(int sock, const char *peer, double timeout_s, const char *disk_dir)
{
	struct receiver rv = { .sock = sock, .ctl = -1, .disk_dir = disk_dir };
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
		if (!hello(&rv) && !receive_stream(&rv) && !finish(&rv))
			status = CLI_EXIT_OK;
	}
	if (status == CLI_EXIT_OK) {
		printf("migration from %s: VM %u runs here (%llu pages received)\n", peer,
		       rv.im.id, (unsigned long long)rv.im.pages);
		for (unsigned i = 0; i < rv.nr_disks; i++) {
			if (rv.disks[i].fd >= 0) {
				close(rv.disks[i].fd);
				printf("migration from %s: VM %u's disk is %s (mediated image %u)\n",
				       peer, rv.im.id, rv.disks[i].path, rv.disks[i].image);
			}
		}
	} else {
		mig_set_timeout(sock, 1);
		mig_send_reply(sock, MIG_FAILED, 0, rv.err);
		/* The disks first: once the VM is gone the daemon drops its
		 * copies itself, and their indexes may serve another. */
		drop_disks(&rv);
		vm_import_discard(&rv.im);
		cli_err("migration from %s failed: %s; nothing of it is left here", peer, rv.err);
	}
	fflush(stdout);
	vm_import_free(&rv.im);
	if (rv.ctl >= 0)
		close(rv.ctl);
	if (fd >= 0)
		hvc_close(fd);
	free(buf);
	return status;
}
