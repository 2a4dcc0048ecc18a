/*
 * shyper vm migrate <id> <host[:port]>: a running guest to the MVM of
 * another board, whose `shyper system daemon` rebuilds it (migrate_recv.c).
 * The protocol is in migrate_proto.h, the stream in docs/MIGRATION.md.
 *
 * Pre-copy: with the guest running and its writes logged, all its RAM is
 * sent (zero pages left out: the destination's RAM starts zeroed), then the
 * pages it dirtied meanwhile, round after round, until what is left could be
 * sent within the downtime target, or the rounds stop shrinking it. Then the
 * guest is paused, the last dirty pages and its state go over, and the
 * destination resumes it. The guest leaves this board only once the
 * destination says it runs.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lib/crc32.h>
#include <lib/mstream.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/ioctl.h>
#include <shyper/migrate.h>

#include "cli.h"
#include "hvc.h"
#include "migrate_disk.h"
#include "migrate_proto.h"
#include "stream_out.h"
#include "util.h"
#include "vm_cmds.h"

#define PAGE SHYPER_MIG_PAGE_SIZE
#define CHUNK SHYPER_MIG_COPY_MAX
#define ERR_MAX 512
#define MIN_FINAL_PAGES 16 /* never worth another round below this */
#define STALLED_ROUNDS 3   /* rounds in a row that do not shrink the dirty set */
#define THROTTLE_FIRST_US 100 /* auto-converge's first step, doubled from there */

struct region {
	uint64_t ipa, pages;
	uint64_t *dirty; /* one bit per page, fetched and not yet sent */
};

struct migration {
	int fd, sock;
	uint32_t id;
	/* Options. */
	double downtime_ms, bandwidth, timeout_s, max_rounds;
	/* The VM's configuration and state as the hypervisor wrote them. */
	uint8_t *state;
	size_t state_len;
	struct region *regions;
	unsigned nr_regions;
	struct mig_disks disks;
	bool shared_disk, auto_converge;
	uint32_t throttle_us; /* what each page the guest dirties costs it now */
	uint64_t disk_kib;
	uint8_t *buf, *fetch_buf;
	struct stream_out out;
	/* Progress. */
	bool dirty_logging, paused, go_sent;
	/* The downtime's parts (s): paused, state taken, pages and blocks
	 * read, all sent, LOADED, RUNNING. */
	double t_pause, t_state, t_read, t_sent, t_loaded, t_running;
	double dest_load_s;	      /* of t_loaded - t_sent: the destination's own */
	uint32_t resent_before_pause, resent_paused; /* TCP segments sent again */
	double t_start, pace_t0;
	uint64_t pace_bytes;
	char err[ERR_MAX];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The socket behind the stream, paced when a bandwidth is set. */
static int sock_write(void *ctx, const void *data, size_t len)
{
	struct migration *m = ctx;

	if (mig_send_all(m->sock, data, len))
		return -1;
	if (m->bandwidth > 0) {
		double due;

		m->pace_bytes += len;
		due = m->pace_t0 + m->pace_bytes / (m->bandwidth * 1048576.0) - now_s();
		if (due > 0)
			usleep((useconds_t)(due * 1e6));
	}
	return 0;
}

static int call(struct migration *m, const char *what, uint32_t fid, uint64_t a2, uint64_t a3,
		uint64_t a4, void *buf, size_t len, unsigned dir, uint64_t ret[4])
{
	return cli_vm_call(m->fd, what, fid, (uint64_t[6]){ m->id, a2, a3, a4 },
			   buf ? (fid == SHYPER_MIG_STATE_SAVE ? 2 : 3) : 0, buf, len, dir, ret,
			   m->err, sizeof(m->err));
}

/* STATE_SAVE of the paused guest into m->state. */
static int save_state(struct migration *m)
{
	uint64_t ret[4];
	int tries = 0, drain = 0;

	if (!m->state)
		m->state = malloc(SHYPER_MIG_STATE_MAX);
	if (!m->state) {
		snprintf(m->err, sizeof(m->err), "out of memory");
		return -1;
	}
	for (;;) {
		/* Room for twice the last size: the bounce buffer is cleared and
		 * copied whole, in the downtime (ENOSPC says how much is needed). */
		uint64_t cap = m->state_len ? (m->state_len * 2 + 4095) / 4096 * 4096
					    : SHYPER_MIG_STATE_MAX;
		int r;

		if (cap > SHYPER_MIG_STATE_MAX)
			cap = SHYPER_MIG_STATE_MAX;
		r = hvc_call(m->fd, SHYPER_MIG_STATE_SAVE, (uint64_t[6]){ m->id, 0, cap }, 2,
			     m->state, cap, SHYPER_BUF_OUT, ret);
		if (r == -SHYPER_ENOSPC && cap < SHYPER_MIG_STATE_MAX && ret[1] <= SHYPER_MIG_STATE_MAX &&
		    ++tries < 5) {
			m->state_len = ret[1];
			continue;
		}
		/* EAGAIN: the console grew between the hypervisor's two passes. */
		if (r == -SHYPER_EAGAIN && ++tries < 5)
			continue;
		/* EBUSY: disk requests in flight; the daemon finishes them. */
		if (r == -SHYPER_EBUSY && ++drain < 500) {
			usleep(10000);
			continue;
		}
		if (r == -SHYPER_ENOTSUP) {
			snprintf(m->err, sizeof(m->err),
				 "VM %u cannot be migrated: it has passthrough devices or interrupts "
				 "or an IVC channel (the hypervisor's console names which)", m->id);
			return -1;
		}
		if (r)
			return call(m, "save its state", SHYPER_MIG_STATE_SAVE, 0,
				    SHYPER_MIG_STATE_MAX, 0, m->state, SHYPER_MIG_STATE_MAX,
				    SHYPER_BUF_OUT, ret);
		m->state_len = ret[1];
		return 0;
	}
}

static int pause_vm(struct migration *m)
{
	if (call(m, "pause", SHYPER_MIG_PAUSE, 0, 0, 0, NULL, 0, 0, NULL))
		return -1;
	m->paused = true;
	return 0;
}

static int resume_vm(struct migration *m)
{
	if (call(m, "resume", SHYPER_MIG_RESUME, 0, 0, 0, NULL, 0, 0, NULL))
		return -1;
	m->paused = false;
	return 0;
}

/* Only a running guest migrates: anything else is said as it is, before
 * the guest is touched (a pause would only answer EINVAL or ENOENT). */
static int check_running(struct migration *m)
{
	struct shyper_vm_info v;
	char state[32];
	int e;

	if (m->id == 0) {
		snprintf(m->err, sizeof(m->err), "VM 0 is the management VM: it cannot migrate");
		return -1;
	}
	e = hvc_call(m->fd, SHYPER_VMM_INFO, (uint64_t[6]){ m->id, 0, sizeof(v) }, 2, &v,
		     sizeof(v), SHYPER_BUF_OUT, NULL);
	if (e == -SHYPER_ENOENT) {
		snprintf(m->err, sizeof(m->err), "there is no VM %u (see `shyper vm list`)", m->id);
		return -1;
	}
	if (!e && v.state != SHYPER_VM_S_RUNNING) {
		snprintf(m->err, sizeof(m->err), "VM %u is %s: only a running VM migrates "
			 "(`shyper vm boot %u` first)", m->id,
			 cli_vm_state_name(v.state, state, sizeof(state)), m->id);
		return -1;
	}
	return 0; /* an error here is the pause's to report */
}

/* The VM's configuration, taken in a pause of a few milliseconds: also
 * where a VM that cannot migrate is refused, before anything is sent. */
static int take_config(struct migration *m, struct mstream_reader *r,
		       struct mstream_section *cfg)
{
	struct mstream_vm_config_view v;
	int ret;

	if (pause_vm(m))
		return -1;
	ret = save_state(m);
	if (resume_vm(m) || ret)
		return -1;
	if (mstream_reader_open(r, m->state, m->state_len) ||
	    mstream_reader_next(r, cfg) != MSTREAM_SECTION) {
		snprintf(m->err, sizeof(m->err), "the hypervisor's state: %s", r->chk.err.reason);
		return -1;
	}
	mstream_parse_vm_config(cfg->payload, cfg->length, &v, NULL, 0);
	m->nr_regions = v.mem_regions.count;
	m->regions = calloc(m->nr_regions + 1, sizeof(*m->regions));
	if (!m->regions)
		goto oom;
	for (unsigned i = 0; i < m->nr_regions; i++) {
		struct shyper_mig_mem_region mr;

		mstream_array_get(&v.mem_regions, i, &mr, sizeof(mr));
		m->regions[i].ipa = mr.ipa;
		m->regions[i].pages = mr.length / PAGE;
		m->regions[i].dirty = calloc((m->regions[i].pages + 63) / 64 + 1, 8);
		if (!m->regions[i].dirty)
			goto oom;
	}
	return mig_disks_open(&m->disks, &v, !m->shared_disk, m->err, sizeof(m->err));
oom:
	snprintf(m->err, sizeof(m->err), "out of memory");
	return -1;
}

/* A FAILED reply the destination may have sent before closing. */
static void peer_reason(struct migration *m, const char *what)
{
	struct mig_reply rep;
	char e[ERR_MAX];

	mig_set_timeout(m->sock, 2);
	if (!mig_recv_reply(m->sock, &rep, e, sizeof(e)) && rep.kind == MIG_FAILED)
		snprintf(m->err, sizeof(m->err), "the destination refused: %.400s", rep.msg);
	else
		snprintf(m->err, sizeof(m->err), "%s: %s", what,
			 m->out.err == EPIPE || m->out.err == ECONNRESET ? "connection lost"
									 : strerror(m->out.err));
}

static int sent_ok(struct migration *m, const char *what)
{
	if (!m->out.err)
		return 0;
	peer_reason(m, what);
	return -1;
}

static int expect_reply(struct migration *m, uint32_t kind, const char *what,
			struct mig_reply *rep)
{
	if (mig_recv_reply(m->sock, rep, m->err, sizeof(m->err)))
		return -1;
	if (rep->kind == MIG_FAILED) {
		snprintf(m->err, sizeof(m->err), "the destination refused: %.400s", rep->msg);
		return -1;
	}
	if (rep->kind != kind) {
		snprintf(m->err, sizeof(m->err), "the destination answered out of turn %s", what);
		return -1;
	}
	return 0;
}

/* The stream's header and VM_CONFIG; the destination builds the VM. */
static int begin(struct migration *m, const struct mstream_reader *r,
		 const struct mstream_section *cfg, uint32_t *dest_id)
{
	struct shyper_mig_header hdr = r->chk.hdr;
	struct mig_cmd hello = { .magic = MIG_CMD_MAGIC, .cmd = MIG_HELLO,
				 .flags = m->shared_disk ? MIG_F_SHARED_DISK : 0 };
	struct mig_reply rep;

	/* Not part of the stream (its length counts from the header). */
	if (mig_send_all(m->sock, &hello, sizeof(hello))) {
		snprintf(m->err, sizeof(m->err), "greeting the destination: %s", strerror(errno));
		return -1;
	}
	hdr.flags = SHYPER_MIG_F_STREAMED | SHYPER_MIG_F_LIVE;
	hdr.nr_sections = 0;
	hdr.total_length = 0;
	hdr.crc = crc32(&hdr, offsetof(struct shyper_mig_header, crc));
	sout_put(&m->out, &hdr, sizeof(hdr));
	sout_copy(&m->out, cfg);
	if (sent_ok(m, "sending the configuration") ||
	    expect_reply(m, MIG_ACCEPTED, "to the configuration", &rep))
		return -1;
	*dest_id = rep.vm_id;
	return 0;
}

/* The boot images, before round 1: they never change, and with them the
 * VM can be rebooted where it lands. */
static int send_images(struct migration *m, const struct mstream_section *cfg)
{
	struct mstream_vm_config_view v;
	uint64_t bytes = 0;

	mstream_parse_vm_config(cfg->payload, cfg->length, &v, NULL, 0);
	if (sout_images(&m->out, m->fd, m->id, &v.cfg.image, &bytes, m->err, sizeof(m->err)) ||
	    sent_ok(m, "sending the boot images"))
		return -1;
	if (bytes)
		printf("boot images: %llu KiB sent\n", (unsigned long long)(bytes / 1024));
	else
		printf("boot images: none (VM %u was restored without them): it cannot be "
		       "rebooted there\n", m->id);
	return 0;
}

/* Round 1: all of RAM, zero pages left out. */
static int copy_all(struct migration *m, uint64_t *pages)
{
	char what[96];

	for (unsigned i = 0; i < m->nr_regions; i++) {
		struct region *r = &m->regions[i];

		for (uint64_t off = 0; off < r->pages * PAGE; off += CHUNK) {
			size_t n = r->pages * PAGE - off < CHUNK ? r->pages * PAGE - off : CHUNK;

			snprintf(what, sizeof(what), "read RAM at 0x%llx",
				 (unsigned long long)(r->ipa + off));
			if (call(m, what, SHYPER_MIG_MEM_READ, r->ipa + off, 0, n, m->buf, n,
				 SHYPER_BUF_OUT, NULL))
				return -1;
			*pages += sout_pages(&m->out, r->ipa + off, m->buf, n, true);
			if (sent_ok(m, "sending RAM"))
				return -1;
		}
	}
	if (mig_disks_copy_all(&m->disks, &m->out, m->buf, CHUNK, &m->disk_kib, m->err,
			       sizeof(m->err)))
		return -1;
	return sent_ok(m, "sending the disk");
}

/* The disks' blocks written since the last round. */
static int send_written(struct migration *m)
{
	if (mig_disks_copy_written(&m->disks, &m->out, m->buf, CHUNK, &m->disk_kib, m->err,
				   sizeof(m->err)))
		return -1;
	return sent_ok(m, "sending the disk");
}

/* The pages dirtied since the last fetch, added to those not yet sent;
 * returns how many are waiting, or -1. */
static int64_t fetch_dirty(struct migration *m)
{
	uint64_t waiting = 0;

	for (unsigned i = 0; i < m->nr_regions; i++) {
		struct region *r = &m->regions[i];
		uint64_t page = 0;

		while (page < r->pages) {
			uint64_t want = (r->pages - page + 63) / 64 * 8, ret[4];

			if (want > SHYPER_IOC_BUF_MAX)
				want = SHYPER_IOC_BUF_MAX;
			if (call(m, "fetch the dirty log", SHYPER_MIG_DIRTY_FETCH,
				 r->ipa + page * PAGE, 0, want, m->fetch_buf, want, SHYPER_BUF_OUT,
				 ret))
				return -1;
			if (!ret[2]) {
				snprintf(m->err, sizeof(m->err), "dirty log: window of %llu pages",
					 (unsigned long long)ret[2]);
				return -1;
			}
			for (uint64_t b = 0; b < (ret[2] + 7) / 8; b++)
				((uint8_t *)r->dirty)[page / 8 + b] |= m->fetch_buf[b];
			page += ret[2];
		}
		for (uint64_t w = 0; w < (r->pages + 63) / 64; w++)
			waiting += (uint64_t)__builtin_popcountll(r->dirty[w]);
	}
	return (int64_t)waiting;
}

static bool is_dirty(const struct region *r, uint64_t p)
{
	return (r->dirty[p / 64] >> (p % 64)) & 1;
}

/* Every page waiting, read in runs and sent; the set is then empty. */
static int send_dirty(struct migration *m, uint64_t *pages)
{
	char what[96];

	for (unsigned i = 0; i < m->nr_regions; i++) {
		struct region *r = &m->regions[i];

		for (uint64_t p = 0; p < r->pages;) {
			uint64_t end = p + 1;

			if (!is_dirty(r, p)) {
				p++;
				continue;
			}
			while (end < r->pages && end - p < CHUNK / PAGE && is_dirty(r, end))
				end++;
			snprintf(what, sizeof(what), "read RAM at 0x%llx",
				 (unsigned long long)(r->ipa + p * PAGE));
			if (call(m, what, SHYPER_MIG_MEM_READ, r->ipa + p * PAGE, 0,
				 (end - p) * PAGE, m->buf, (end - p) * PAGE, SHYPER_BUF_OUT, NULL))
				return -1;
			*pages += sout_pages(&m->out, r->ipa + p * PAGE, m->buf, (end - p) * PAGE,
					     false);
			if (sent_ok(m, "sending RAM"))
				return -1;
			p = end;
		}
		memset(r->dirty, 0, (r->pages + 63) / 64 * 8);
	}
	return 0;
}

static void round_line(unsigned round, uint64_t pages, int64_t dirtied, double secs)
{
	printf("round %u: %llu KiB sent, %lld pages dirtied meanwhile (%.1f MiB/s)\n", round,
	       (unsigned long long)(pages * PAGE / 1024), (long long)dirtied,
	       secs > 0 ? pages * PAGE / 1048576.0 / secs : 0.0);
	fflush(stdout);
}

/*
 * Auto-converge: rounds stopped shrinking the dirty set, so the guest's
 * writes are made slower (docs/MIGRATION.md): from then on each page it
 * dirties costs the writing vCPU throttle_us, doubled each time the rounds
 * stall again, up to the hypervisor's bound. 0 when throttled harder; -1
 * when it cannot be (at the bound, turned off, or not in this hypervisor).
 */
static int slow_down(struct migration *m)
{
	uint32_t us = m->throttle_us ? m->throttle_us * 2 : THROTTLE_FIRST_US;

	if (!m->auto_converge || m->throttle_us >= SHYPER_MIG_THROTTLE_MAX_US)
		return -1;
	if (us > SHYPER_MIG_THROTTLE_MAX_US)
		us = SHYPER_MIG_THROTTLE_MAX_US;
	/* A hypervisor without it (an older image) migrates on unthrottled. */
	if (call(m, "slow its writes", SHYPER_MIG_THROTTLE, us, 0, 0, NULL, 0, 0, NULL)) {
		cli_warn("auto-converge is not available: %s", m->err);
		m->err[0] = '\0';
		m->auto_converge = false;
		return -1;
	}
	m->throttle_us = us;
	printf("auto-converge: the guest dirties pages as fast as they are sent; each page it "
	       "dirties now costs it %u us\n", us);
	fflush(stdout);
	return 0;
}

/* Until the destination has every byte of the round: what a round leaves
 * in the network would otherwise cross it in the downtime, and the rate
 * would be the local socket's, not the link's. */
static int drained(struct migration *m, const char *what)
{
	if (!mig_wait_acked(m->sock, m->timeout_s))
		return 0;
	if (errno == ETIMEDOUT) {
		snprintf(m->err, sizeof(m->err), "%s: the destination took nothing for %.0f s",
			 what, m->timeout_s);
		return -1;
	}
	m->out.err = errno == EPROTO ? ECONNRESET : errno;
	peer_reason(m, what);
	return -1;
}

/* Rounds until the rest fits the downtime target; the pages still waiting. */
static int precopy(struct migration *m, unsigned *rounds, uint64_t *sent_pages)
{
	int64_t dirty, best = -1;
	unsigned stalled = 0;
	double t0 = now_s(), rate = 0;
	uint64_t pages = 0;

	if (call(m, "start its dirty log", SHYPER_MIG_DIRTY_START, 0, 0, 0, NULL, 0, 0, NULL))
		return -1;
	m->dirty_logging = true;
	if (copy_all(m, &pages) || drained(m, "sending RAM") || (dirty = fetch_dirty(m)) < 0)
		return -1;
	*rounds = 1;
	*sent_pages += pages;
	rate = pages * PAGE / (now_s() - t0 + 1e-6);
	round_line(1, pages, dirty, now_s() - t0);
	for (;;) {
		/* What half the downtime target lets the final copy carry at this
		 * rate (the other half: the state, the destination's load and
		 * the hand-over). */
		double fits = m->downtime_ms / 2e3 * rate / PAGE;

		if (dirty <= MIN_FINAL_PAGES || dirty <= fits)
			break;
		if (*rounds >= m->max_rounds) {
			printf("not converging: %lld pages dirty after %u rounds\n", (long long)dirty,
			       *rounds);
			break;
		}
		stalled = best >= 0 && dirty >= best * 0.95 ? stalled + 1 : 0;
		if (best < 0 || dirty < best)
			best = dirty;
		if (stalled >= STALLED_ROUNDS) {
			if (slow_down(m)) {
				printf("the guest dirties pages as fast as they are sent: %lld pages "
				       "left for the stop-and-copy\n", (long long)dirty);
				break;
			}
			stalled = 0;
			best = -1;
		}
		t0 = now_s();
		pages = 0;
		if (send_dirty(m, &pages) || send_written(m) || drained(m, "sending RAM") ||
		    (dirty = fetch_dirty(m)) < 0)
			return -1;
		++*rounds;
		*sent_pages += pages;
		/* The link's rate is what its fullest round showed: a small
		 * round's time is mostly the round trip. */
		if (now_s() > t0 && pages * PAGE / (now_s() - t0) > rate)
			rate = pages * PAGE / (now_s() - t0);
		round_line(*rounds, pages, dirty, now_s() - t0);
	}
	return 0;
}

/* Paused: the last pages, the state (all but VM_CONFIG, sent first), END. */
static int stop_and_copy(struct migration *m, uint64_t *sent_pages)
{
	struct mstream_reader r;
	struct mstream_section s;
	uint64_t pages = 0, before;
	int ret;

	/* With a mediated disk the state comes first: it waits until the
	 * daemon has finished the disk's requests, whose completions still
	 * write guest memory. Without, the last pages go first, so that the
	 * destination writes them while the state is taken. */
	bool drain = m->disks.nr > 0;

	m->t_pause = now_s();
	m->resent_before_pause = mig_resent_segments(m->sock);
	if (pause_vm(m) || (drain && save_state(m)))
		return -1;
	m->t_state = now_s();
	if (fetch_dirty(m) < 0 || send_dirty(m, &pages) || send_written(m))
		return -1;
	m->t_read = now_s();
	/* A device may still have written the paused guest's RAM meanwhile
	 * (console input): those pages go after the state is fixed. */
	if (!drain && (save_state(m) || fetch_dirty(m) < 0 || send_dirty(m, &pages)))
		return -1;
	*sent_pages += pages;
	before = m->out.pos;
	if (mstream_reader_open(&r, m->state, m->state_len)) {
		snprintf(m->err, sizeof(m->err), "the hypervisor's state: %s", r.chk.err.reason);
		return -1;
	}
	while ((ret = mstream_reader_next(&r, &s)) == MSTREAM_SECTION)
		if (s.type != SHYPER_MIG_SEC_VM_CONFIG)
			sout_copy(&m->out, &s);
	if (ret != MSTREAM_END) {
		snprintf(m->err, sizeof(m->err), "the hypervisor's state: %s", r.chk.err.reason);
		return -1;
	}
	sout_end(&m->out);
	if (sent_ok(m, "sending the state"))
		return -1;
	m->t_sent = now_s();
	printf("stop-and-copy: %llu pages, vCPU/vGIC/timer/devices %llu KiB\n",
	       (unsigned long long)pages,
	       (unsigned long long)((m->out.pos - before + 1023) / 1024));
	fflush(stdout);
	return 0;
}

/* LOADED, GO, RUNNING. After GO the guest may run there: never resume it here. */
static int hand_over(struct migration *m)
{
	struct mig_cmd go = { .magic = MIG_CMD_MAGIC, .cmd = MIG_GO };
	struct mig_reply rep;

	if (expect_reply(m, MIG_LOADED, "to the state", &rep))
		return -1;
	m->t_loaded = now_s();
	m->dest_load_s = rep.load_us / 1e6;
	m->resent_paused = mig_resent_segments(m->sock) - m->resent_before_pause;
	m->go_sent = true;
	if (mig_send_all(m->sock, &go, sizeof(go))) {
		snprintf(m->err, sizeof(m->err), "sending the go-ahead: %s", strerror(errno));
		return -1;
	}
	if (expect_reply(m, MIG_RUNNING, "to the go-ahead", &rep))
		return -1;
	m->t_running = now_s();
	return 0;
}

/* After a failure: the guest runs on here unless the destination may run it. */
static void roll_back(struct migration *m)
{
	struct mig_cmd abort_cmd = { .magic = MIG_CMD_MAGIC, .cmd = MIG_ABORT };
	char keep[ERR_MAX];

	memcpy(keep, m->err, sizeof(keep));
	if (m->sock >= 0 && !m->go_sent) {
		mig_set_timeout(m->sock, 1);
		mig_send_all(m->sock, &abort_cmd, sizeof(abort_cmd));
	}
	if (m->dirty_logging)
		call(m, "stop its dirty log", SHYPER_MIG_DIRTY_STOP, 0, 0, 0, NULL, 0, 0, NULL);
	if (m->paused && !m->go_sent && resume_vm(m))
		cli_warn("VM %u could not be resumed: %s", m->id, m->err);
	memcpy(m->err, keep, sizeof(keep));
}

static int options(struct migration *m)
{
	if (cli_option_number("--downtime", 50, 1, 60000, &m->downtime_ms) ||
	    cli_option_number("--bandwidth", 0, 0, 1e6, &m->bandwidth) ||
	    cli_option_number("--timeout", MIG_TIMEOUT_S, 1, 3600, &m->timeout_s) ||
	    cli_option_number("--max-rounds", 30, 1, 1000, &m->max_rounds))
		return CLI_EXIT_USAGE;
	m->shared_disk = cli_option("--shared-disk") != NULL;
	m->auto_converge = cli_option("--no-auto-converge") == NULL;
	return CLI_EXIT_OK;
}

static void release(struct migration *m)
{
	mig_disks_close(&m->disks);
	for (unsigned i = 0; i < m->nr_regions; i++)
		free(m->regions[i].dirty);
	free(m->regions);
	free(m->state);
	free(m->buf);
	free(m->fetch_buf);
	if (m->sock >= 0)
		close(m->sock);
	if (m->fd >= 0)
		hvc_close(m->fd);
}

int cli_vm_migrate(int argc, char **argv)
{
	struct migration m = { .fd = -1, .sock = -1, .disks = { .ctl = -1 } };
	struct mstream_reader r;
	struct mstream_section cfg;
	uint64_t sent_pages = 0;
	unsigned rounds = 0;
	uint32_t dest_id = 0;
	double t_pause = 0, t_end;
	int st;

	(void)argc;
	st = cli_vm_id_arg(argv[0], &m.id);
	if (st || (st = options(&m)))
		return st;
	m.buf = malloc(CHUNK);
	m.fetch_buf = malloc(SHYPER_IOC_BUF_MAX);
	if (!m.buf || !m.fetch_buf) {
		release(&m);
		return cli_err("out of memory");
	}
	{
		struct sockaddr_storage a;
		socklen_t alen;

		/* A bad address is a usage error: nothing is touched for it. */
		if (mig_parse_dest(argv[1], &a, &alen, m.err, sizeof(m.err))) {
			release(&m);
			return cli_usage_err("%s", m.err);
		}
	}
	if (cli_open_device(&m.fd)) {
		release(&m);
		return CLI_EXIT_ERR;
	}
	if (check_running(&m)) {
		cli_err("%s", m.err);
		release(&m);
		return CLI_EXIT_ERR;
	}
	m.t_start = m.pace_t0 = now_s();
	m.out = (struct stream_out){ .write = sock_write, .ctx = &m };
	if (take_config(&m, &r, &cfg))
		goto fail;
	m.sock = mig_connect(argv[1], m.timeout_s, m.err, sizeof(m.err));
	if (m.sock < 0 || begin(&m, &r, &cfg, &dest_id) || send_images(&m, &cfg) ||
	    precopy(&m, &rounds, &sent_pages))
		goto fail;
	if (stop_and_copy(&m, &sent_pages) || hand_over(&m))
		goto fail;
	t_pause = m.t_pause;
	t_end = now_s();
	/* It runs there: gone from here, its memory back. */
	call(&m, "stop its dirty log", SHYPER_MIG_DIRTY_STOP, 0, 0, 0, NULL, 0, 0, NULL);
	if (call(&m, "shut down", SHYPER_VMM_SHUTDOWN, 0, 0, 0, NULL, 0, 0, NULL) ||
	    call(&m, "remove", SHYPER_VMM_REMOVE, 0, 0, 0, NULL, 0, 0, NULL))
		cli_warn("VM %u runs on %s but was not removed here: %s", m.id, argv[1], m.err);
	printf("VM %u is now VM %u on %s: total %.1f s, downtime %.0f ms, %.1f MiB sent in %u "
	       "rounds (%llu pages", m.id, dest_id, argv[1], t_end - m.t_start,
	       (t_end - t_pause) * 1e3, m.out.pos / 1048576.0, rounds + 1,
	       (unsigned long long)sent_pages);
	if (m.disks.nr && m.shared_disk)
		printf(", %u shared disks", m.disks.nr);
	else if (m.disks.nr)
		printf(", disks %llu KiB", (unsigned long long)m.disk_kib);
	printf(")\n");
	/* "destination loaded" counts from the last byte handed to this
	 * MVM's TCP: the network's transit, the destination's writes, its
	 * load (said apart) and the answer's way back. */
	printf("downtime: paused%s %.1f ms, last pages read and sent %.1f ms, %sstate sent "
	       "%.1f ms, destination loaded %.1f ms (its load %.1f ms, %u TCP segments resent), "
	       "resumed %.1f ms\n",
	       m.disks.nr ? " and disk requests done" : "", (m.t_state - m.t_pause) * 1e3,
	       (m.t_read - m.t_state) * 1e3, m.disks.nr ? "" : "state taken and ",
	       (m.t_sent - m.t_read) * 1e3, (m.t_loaded - m.t_sent) * 1e3,
	       m.dest_load_s * 1e3, m.resent_paused, (m.t_running - m.t_loaded) * 1e3);
	release(&m);
	return CLI_EXIT_OK;
fail:
	roll_back(&m);
	if (m.go_sent)
		cli_err("%s; the destination may already run VM %u, so it stays paused here: "
			"check there, then `shyper vm resume %u` or `shyper vm remove %u` here",
			m.err, m.id, m.id, m.id);
	else
		cli_err("%s; VM %u keeps running here", m.err, m.id);
	release(&m);
	return CLI_EXIT_ERR;
}
