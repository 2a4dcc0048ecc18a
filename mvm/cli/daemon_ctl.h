/*
 * The control socket of `shyper system daemon` (a UNIX socket in /run), for
 * the migration tools on the same MVM: the sender asks it to track the
 * writes to a mediated disk it copies, a receiver asks it to serve a disk
 * it brought in. One request line, one answer line ("ok ..." or "err why"):
 *
 *   track <index>      ok <sectors> <path>     start tracking writes
 *   written <index>    ok <bytes>, then that many bytes: the blocks
 *                      (MED_TRACK_BLOCK each) written since, as a bitmap
 *   untrack <index>    ok
 *   serve <path>       ok <index>              serve that image file, a
 *                                              copy (mediated_copies.h)
 *   own <index> <vm>   ok                      the copy is VM <vm>'s: it
 *                                              goes when that VM is removed
 *   drop <index>       ok                      no longer serve it
 *   status <index>     ok <sectors> <path>     what an index serves
 */
#ifndef CLI_DAEMON_CTL_H
#define CLI_DAEMON_CTL_H

#include <poll.h>
#include <stddef.h>

#define DAEMON_CTL_PATH "/run/shyper-daemon.sock"
#define DAEMON_CTL_MAX_CONNS 8

struct med_daemon;

struct daemon_ctl {
	int lsock;
	int conns[DAEMON_CTL_MAX_CONNS];
	char line[DAEMON_CTL_MAX_CONNS][512];
	size_t fill[DAEMON_CTL_MAX_CONNS];
};

/* The daemon's side. */
int ctl_open(struct daemon_ctl *c, char *err, size_t errlen);
/* Its sockets into p (room for 1 + DAEMON_CTL_MAX_CONNS); how many. */
int ctl_pollfds(const struct daemon_ctl *c, struct pollfd *p);
/* Accepts and answers what the poll found ready on those sockets. */
void ctl_handle(struct daemon_ctl *c, const struct pollfd *p, int n, struct med_daemon *med,
		int dev_fd);
void ctl_close(struct daemon_ctl *c);
/* In a forked child: the daemon's sockets closed, the path left alone. */
void ctl_close_child(struct daemon_ctl *c);

/* A tool's side: -1 with err when no daemon listens. */
int ctl_connect(char *err, size_t errlen);
/* One request; 0 with the text after "ok " in reply, or -1 with the
 * reason in reply. */
int ctl_request(int s, const char *req, char *reply, size_t replylen);
int ctl_read_bytes(int s, void *buf, size_t len);

#endif
