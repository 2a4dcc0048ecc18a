#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, mkostemp */
#endif
/* The daemon's control socket (daemon_ctl.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon_ctl.h"
#include "mediated.h"
#include "mediated_copies.h"
#include "migrate_proto.h"

static struct sockaddr_un ctl_addr(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", DAEMON_CTL_PATH);
	return a;
}

int ctl_open(struct daemon_ctl *c, char *err, size_t errlen)
{
	struct sockaddr_un a = ctl_addr();

	for (int i = 0; i < DAEMON_CTL_MAX_CONNS; i++)
		c->conns[i] = -1;
	c->lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(a.sun_path); /* a daemon that died left it */
	if (c->lsock < 0 || bind(c->lsock, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(c->lsock, 4)) {
		snprintf(err, errlen, "%s: %s", a.sun_path, strerror(errno));
		if (c->lsock >= 0)
			close(c->lsock);
		c->lsock = -1;
		return -1;
	}
	return 0;
}

int ctl_pollfds(const struct daemon_ctl *c, struct pollfd *p)
{
	int n = 0;

	if (c->lsock < 0)
		return 0;
	p[n++] = (struct pollfd){ .fd = c->lsock, .events = POLLIN };
	for (int i = 0; i < DAEMON_CTL_MAX_CONNS; i++)
		p[n++] = (struct pollfd){ .fd = c->conns[i], .events = POLLIN };
	return n;
}

static void drop_conn(struct daemon_ctl *c, int i)
{
	close(c->conns[i]);
	c->conns[i] = -1;
	c->fill[i] = 0;
}

/* A connection's end; copies it asked for and did not give a VM go. */
static void end_conn(struct daemon_ctl *c, int i, struct med_daemon *med, int dev_fd)
{
	drop_conn(c, i);
	med_copies_conn_closed(med, dev_fd, i);
}

static void reply(int s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(int s, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	mig_send_all(s, line, (size_t)n);
}

/* One request of connection slot conn (socket s). */
static void answer(int s, int conn, char *req, struct med_daemon *med, int dev_fd)
{
	char *arg = strchr(req, ' ');
	struct med_disk *disk = NULL;
	unsigned long i = 0;
	char err[256];

	if (arg)
		*arg++ = 0;
	if (strcmp(req, "serve")) {
		char *end;

		i = arg ? strtoul(arg, &end, 10) : 0;
		if (!arg || !*arg || (*end && (*end != ' ' || strcmp(req, "own"))) ||
		    i >= med->nr || !med->disks[i].path) {
			reply(s, "err mediated image %s is not served here", arg ? arg : "?");
			return;
		}
		disk = &med->disks[i];
	}
	if (!strcmp(req, "serve")) {
		int idx = arg ? med_add_disk(med, dev_fd, arg, err, sizeof(err)) : -1;

		if (idx < 0) {
			reply(s, "err %s", arg ? err : "serve what?");
		} else {
			med_copy_pending(med, (size_t)idx, conn);
			reply(s, "ok %d", idx);
		}
	} else if (!strcmp(req, "status")) {
		reply(s, "ok %llu %s", (unsigned long long)disk->sectors, disk->path);
	} else if (!strcmp(req, "track")) {
		if (med_track(med, i, true))
			reply(s, "err mediated image %lu cannot be tracked (not open?)", i);
		else
			reply(s, "ok %llu %s", (unsigned long long)disk->sectors, disk->path);
	} else if (!strcmp(req, "untrack")) {
		med_track(med, i, false);
		reply(s, "ok");
	} else if (!strcmp(req, "written")) {
		size_t len;
		uint8_t *map = med_take_written(med, i, &len);

		if (!map) {
			reply(s, "err mediated image %lu is not tracked", i);
			return;
		}
		reply(s, "ok %zu", len);
		mig_send_all(s, map, len);
		free(map);
	} else if (!strcmp(req, "own")) {
		char *end, *vm_arg = strchr(arg, ' ');
		unsigned long vm = vm_arg ? strtoul(vm_arg + 1, &end, 10) : 0;

		if (!vm_arg || !vm_arg[1] || *end || vm > UINT32_MAX)
			reply(s, "err own %lu which VM?", i);
		else if (med_copy_own(med, dev_fd, i, (uint32_t)vm, err, sizeof(err)))
			reply(s, "err %s", err);
		else
			reply(s, "ok");
	} else if (!strcmp(req, "drop")) {
		med_copy_drop(med, dev_fd, i, false);
		reply(s, "ok");
	} else {
		reply(s, "err unknown request \"%.32s\"", req);
	}
}

void ctl_handle(struct daemon_ctl *c, const struct pollfd *p, int n, struct med_daemon *med,
		int dev_fd)
{
	if (n <= 0)
		return;
	if (p[0].revents & POLLIN) {
		int s = accept4(c->lsock, NULL, NULL, SOCK_CLOEXEC);

		for (int i = 0; s >= 0 && i < DAEMON_CTL_MAX_CONNS; i++)
			if (c->conns[i] < 0) {
				c->conns[i] = s;
				mig_set_timeout(s, 5);
				s = -1;
			}
		if (s >= 0)
			close(s); /* too many at once */
	}
	for (int i = 0; i < DAEMON_CTL_MAX_CONNS && 1 + i < n; i++) {
		char *nl;
		ssize_t got;

		if (c->conns[i] < 0 || !(p[1 + i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		got = recv(c->conns[i], c->line[i] + c->fill[i], sizeof(c->line[i]) - 1 - c->fill[i],
			   MSG_DONTWAIT);
		if (got <= 0) {
			if (got == 0 || (errno != EAGAIN && errno != EINTR))
				end_conn(c, i, med, dev_fd);
			continue;
		}
		c->fill[i] += (size_t)got;
		c->line[i][c->fill[i]] = 0;
		while ((nl = strchr(c->line[i], '\n'))) {
			size_t used = (size_t)(nl - c->line[i]) + 1;

			*nl = 0;
			answer(c->conns[i], i, c->line[i], med, dev_fd);
			memmove(c->line[i], c->line[i] + used, c->fill[i] - used + 1);
			c->fill[i] -= used;
		}
		if (c->fill[i] == sizeof(c->line[i]) - 1)
			end_conn(c, i, med, dev_fd); /* a line too long */
	}
}

void ctl_close(struct daemon_ctl *c)
{
	if (c->lsock < 0)
		return;
	for (int i = 0; i < DAEMON_CTL_MAX_CONNS; i++)
		if (c->conns[i] >= 0)
			drop_conn(c, i);
	close(c->lsock);
	c->lsock = -1;
	unlink(DAEMON_CTL_PATH);
}

void ctl_close_child(struct daemon_ctl *c)
{
	if (c->lsock < 0)
		return;
	for (int i = 0; i < DAEMON_CTL_MAX_CONNS; i++)
		if (c->conns[i] >= 0)
			close(c->conns[i]);
	close(c->lsock);
}

int ctl_connect(char *err, size_t errlen)
{
	struct sockaddr_un a = ctl_addr();
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a))) {
		snprintf(err, errlen, "no shyper system daemon answers at %s: %s", a.sun_path,
			 strerror(errno));
		if (s >= 0)
			close(s);
		return -1;
	}
	mig_set_timeout(s, 30);
	return s;
}

int ctl_request(int s, const char *req, char *out, size_t outlen)
{
	char line[600];
	size_t n = 0;

	snprintf(line, sizeof(line), "%s\n", req);
	if (mig_send_all(s, line, strlen(line))) {
		snprintf(out, outlen, "the daemon: %s", strerror(errno));
		return -1;
	}
	/* Byte by byte: a bitmap may follow the line. */
	while (n < sizeof(line) - 1) {
		if (mig_recv_all(s, line + n, 1)) {
			snprintf(out, outlen, "the daemon: %s", strerror(errno));
			return -1;
		}
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = 0;
	if (!strncmp(line, "ok", 2) && (!line[2] || line[2] == ' ')) {
		snprintf(out, outlen, "%s", line[2] ? line + 3 : "");
		return 0;
	}
	snprintf(out, outlen, "%s", strncmp(line, "err ", 4) ? "the daemon answered nonsense"
							      : line + 4);
	return -1;
}

int ctl_read_bytes(int s, void *buf, size_t len)
{
	return mig_recv_all(s, buf, len);
}
