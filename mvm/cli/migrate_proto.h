/*
 * `shyper vm migrate` between two MVMs over TCP (docs/MIGRATION.md,
 * "Live migration"). The source sends one migration stream (STREAMED |
 * LIVE); the destination answers at three points, and the source gives
 * the final word:
 *
 *   source                               destination (shyper system daemon)
 *   HELLO (flags)                ->
 *   header, VM_CONFIG            ->
 *                                <-      ACCEPTED (VM created) | FAILED
 *   MEM, DISK_BLOCKS ... (rounds) ->      written into the new VM and disks
 *   (pause) MEM, DISK_BLOCKS,
 *   state, END                   ->
 *                                <-      LOADED (state loaded, paused) | FAILED
 *   GO | ABORT                   ->
 *                                <-      RUNNING (resumed) | FAILED
 *
 * A FAILED reply may come at any time, and the destination then removes
 * what it built. Until the source has sent GO it resumes its guest on any
 * failure; once GO is sent it never does: a guest whose destination may
 * have resumed it stays paused on the source.
 */
#ifndef CLI_MIGRATE_PROTO_H
#define CLI_MIGRATE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define MIG_PORT 7740
#define MIG_TIMEOUT_S 30 /* default: the longest wait for the peer */

#define MIG_REPLY_MAGIC 0x52594853U /* "SHYR" */
#define MIG_CMD_MAGIC 0x43594853U   /* "SHYC" */

enum mig_reply_kind {
	MIG_ACCEPTED = 1,
	MIG_LOADED = 2,
	MIG_RUNNING = 3,
	MIG_FAILED = 4,
};

struct mig_reply {
	uint32_t magic;
	uint32_t kind;	/* enum mig_reply_kind */
	uint32_t vm_id; /* the VM on the destination */
	uint32_t load_us; /* LOADED: microseconds from END to the reply; else 0 */
	char msg[240];	/* FAILED: why, NUL-terminated */
};
_Static_assert(sizeof(struct mig_reply) == 256, "reply layout");

enum mig_cmd_kind {
	MIG_GO = 1,
	MIG_ABORT = 2,
	MIG_HELLO = 3, /* before the stream: flags */
};

/* HELLO flags. */
#define MIG_F_SHARED_DISK (1U << 0) /* the destination has the disks: none copied */

struct mig_cmd {
	uint32_t magic;
	uint32_t cmd;	/* enum mig_cmd_kind */
	uint32_t flags; /* HELLO: MIG_F_* */
	uint32_t reserved;
};
_Static_assert(sizeof(struct mig_cmd) == 16, "command layout");

/* migrate_net.c: sockets with every wait bounded by timeout_s. */
struct sockaddr_storage;
/* "address", "address:port" or "[v6]:port" (default port MIG_PORT). */
int mig_parse_dest(const char *dest, struct sockaddr_storage *a, unsigned *len, char *err,
		   size_t errlen);
/* "host", "host:port" or "[v6]:port"; a connected socket or -1 with err. */
int mig_connect(const char *dest, double timeout_s, char *err, size_t errlen);
int mig_listen(uint16_t port, char *err, size_t errlen);
void mig_set_timeout(int sock, double timeout_s);
/* All of len, or -1 (errno; ETIMEDOUT when the wait ran out). */
int mig_send_all(int sock, const void *data, size_t len);
/* All of len: 0, or -1 (errno; ECONNRESET for an early end). */
int mig_recv_all(int sock, void *data, size_t len);
/* Until the peer has acknowledged every byte sent (0); -1 with errno
 * ETIMEDOUT after timeout_s, or EPROTO when the peer spoke meanwhile (a
 * FAILED reply or a close: read it). */
int mig_wait_acked(int sock, double timeout_s);
/* A reply, refusing a malformed one. */
int mig_recv_reply(int sock, struct mig_reply *r, char *err, size_t errlen);
int mig_send_reply(int sock, uint32_t kind, uint32_t vm_id, const char *msg);
/* LOADED, with the time the destination took from END to it. */
int mig_send_loaded(int sock, uint32_t vm_id, uint32_t load_us);
/* Segments the socket's TCP resent so far (0 where it cannot tell). */
uint32_t mig_resent_segments(int sock);

/* migrate_recv.c: one incoming migration, every wait bounded by
 * timeout_s; the exit status. */
int mig_receive(int sock, const char *peer, double timeout_s, const char *disk_dir);

#endif
