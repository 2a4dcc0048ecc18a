/* The sockets of `shyper vm migrate` (migrate_proto.h). */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "migrate_proto.h"

void mig_set_timeout(int sock, double timeout_s)
{
	struct timeval tv = { (time_t)timeout_s,
			      (suseconds_t)((timeout_s - (time_t)timeout_s) * 1e6) };

	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int split_dest(const char *dest, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon;
	size_t n;

	if (dest[0] == '[') {
		const char *close = strchr(dest, ']');

		if (!close)
			return -1;
		n = (size_t)(close - dest - 1);
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] && !colon)
			return -1;
		dest++;
	} else {
		colon = strrchr(dest, ':');
		if (colon && strchr(dest, ':') != colon)
			colon = NULL; /* a bare IPv6 address */
		n = colon ? (size_t)(colon - dest) : strlen(dest);
	}
	if (!n || n >= hlen)
		return -1;
	memcpy(host, dest, n);
	host[n] = 0;
	snprintf(port, plen, "%s", colon ? colon + 1 : "");
	if (!port[0])
		snprintf(port, plen, "%u", MIG_PORT);
	return 0;
}

/* connect() bounded by the timeout. */
static int connect_within(int s, const struct sockaddr *a, socklen_t len, double timeout_s)
{
	struct pollfd p = { .fd = s, .events = POLLOUT };
	int e = 0;
	socklen_t elen = sizeof(e);
	int flags;

	if (!connect(s, a, len))
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	flags = poll(&p, 1, (int)(timeout_s * 1000));
	if (flags == 0)
		errno = ETIMEDOUT;
	if (flags <= 0)
		return -1;
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &elen) || e) {
		errno = e ? e : EIO;
		return -1;
	}
	return 0;
}

/* A numeric address only: the MVM's static binary has no name service. */
static int parse_addr(const char *host, const char *port, struct sockaddr_storage *a,
		      socklen_t *len)
{
	char *end;
	unsigned long p = strtoul(port, &end, 10);
	struct sockaddr_in *v4 = (struct sockaddr_in *)a;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)a;

	if (!*port || *end || !p || p > 65535)
		return -1;
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*v6);
		return 0;
	}
	return -1;
}

int mig_parse_dest(const char *dest, struct sockaddr_storage *a, socklen_t *len, char *err,
		   size_t errlen)
{
	char host[64], port[16];

	if (split_dest(dest, host, sizeof(host), port, sizeof(port)) ||
	    parse_addr(host, port, a, len)) {
		snprintf(err, errlen, "%.64s: expected an IP address, address:port or "
			 "[IPv6 address]:port", dest);
		return -1;
	}
	return 0;
}

int mig_connect(const char *dest, double timeout_s, char *err, size_t errlen)
{
	struct sockaddr_storage a;
	socklen_t alen;
	char host[INET6_ADDRSTRLEN] = "?";
	int s, one = 1;

	if (mig_parse_dest(dest, &a, &alen, err, errlen))
		return -1;
	s = socket(a.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0 || connect_within(s, (struct sockaddr *)&a, alen, timeout_s)) {
		int e = errno;
		uint16_t port = a.ss_family == AF_INET ? ((struct sockaddr_in *)&a)->sin_port
						      : ((struct sockaddr_in6 *)&a)->sin6_port;

		inet_ntop(a.ss_family, a.ss_family == AF_INET
			  ? (void *)&((struct sockaddr_in *)&a)->sin_addr
			  : (void *)&((struct sockaddr_in6 *)&a)->sin6_addr, host, sizeof(host));
		snprintf(err, errlen, "connect to %s port %u: %s", host, ntohs(port), strerror(e));
		if (s >= 0)
			close(s);
		return -1;
	}
	fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK);
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	mig_set_timeout(s, timeout_s);
	return s;
}

int mig_listen(uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_ANY) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4)) {
		snprintf(err, errlen, "TCP port %u: %s", port, strerror(errno));
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

int mig_send_all(int sock, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = send(sock, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int mig_recv_all(int sock, void *data, size_t len)
{
	char *p = data;

	while (len) {
		ssize_t n = recv(sock, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ECONNRESET;
			else if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int mig_wait_acked(int sock, double timeout_s)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		int queued;

		if (ioctl(sock, SIOCOUTQ, &queued))
			return -1;
		if (!queued)
			return 0;
		if (poll(&p, 1, 1) > 0) {
			errno = EPROTO;
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 > timeout_s) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

int mig_recv_reply(int sock, struct mig_reply *r, char *err, size_t errlen)
{
	if (mig_recv_all(sock, r, sizeof(*r))) {
		snprintf(err, errlen, "no answer from the destination: %s",
			 errno == ECONNRESET ? "connection closed" : strerror(errno));
		return -1;
	}
	if (r->magic != MIG_REPLY_MAGIC || r->kind < MIG_ACCEPTED || r->kind > MIG_FAILED) {
		snprintf(err, errlen, "the destination's answer is not one of shyper's");
		return -1;
	}
	r->msg[sizeof(r->msg) - 1] = 0;
	return 0;
}

int mig_send_reply(int sock, uint32_t kind, uint32_t vm_id, const char *msg)
{
	struct mig_reply r = { .magic = MIG_REPLY_MAGIC, .kind = kind, .vm_id = vm_id };

	snprintf(r.msg, sizeof(r.msg), "%s", msg ? msg : "");
	return mig_send_all(sock, &r, sizeof(r));
}

int mig_send_loaded(int sock, uint32_t vm_id, uint32_t load_us)
{
	struct mig_reply r = { .magic = MIG_REPLY_MAGIC, .kind = MIG_LOADED, .vm_id = vm_id,
			       .load_us = load_us };

	return mig_send_all(sock, &r, sizeof(r));
}

uint32_t mig_resent_segments(int sock)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(sock, IPPROTO_TCP, TCP_INFO, &ti, &len) ||
	    len < offsetof(struct tcp_info, tcpi_total_retrans) + sizeof(ti.tcpi_total_retrans))
		return 0;
	return ti.tcpi_total_retrans;
}
