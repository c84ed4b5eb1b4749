// SPDX-License-Identifier: GPL-2.0
/*
 * syslog sinks: RFC 5424 messages
 *   <PRI>1 TIMESTAMP HOSTNAME warden PROCID MSGID - MSG
 * with MSGID the event type and MSG the JSON line, severity warning for
 * denials and losses, info otherwise. unix and udp: one datagram each. tcp:
 * octet-counting framing (RFC 6587 3.4.1), through a bounded buffer so that
 * a slow or absent receiver never stalls the event drain; while the buffer
 * is full, messages are counted as dropped (and reported as lost).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sink_impl.h"

#define TCP_BUF_MAX (4u << 20)	/* bytes queued for a TCP receiver */
#define RECONNECT_MS 1000
#define SEV_WARNING 4
#define SEV_INFO 6

enum transport { T_UNIX, T_UDP, T_TCP };

struct syslog_sink {
	struct sink base;
	enum transport t;
	int fd;
	int facility;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int socktype;
	char host[256];
	struct sbuf msg;	/* one message being built */
	struct sbuf out;	/* tcp: frames not yet sent */
	size_t sent;		/* tcp: bytes of out already sent */
	int64_t next_connect;	/* tcp: when to try again, ms */
	bool warned;
};

static const struct { const char *name; int code; } facilities[] = {
	{ "kern", 0 }, { "user", 1 }, { "daemon", 3 }, { "auth", 4 }, { "syslog", 5 },
	{ "authpriv", 10 }, { "local0", 16 }, { "local1", 17 }, { "local2", 18 },
	{ "local3", 19 }, { "local4", 20 }, { "local5", 21 }, { "local6", 22 },
	{ "local7", 23 }, {},
};

/* HEADER SP STRUCTURED-DATA SP MSG, without the trailing '\n' of the line. */
static void build(struct syslog_sink *y, const struct sink_line *l)
{
	int sev = l->warning ? SEV_WARNING : SEV_INFO;
	size_t n = l->len;

	y->msg.len = 0;
	sb_printf(&y->msg, "<%d>1 ", y->facility * 8 + sev);
	/* RFC 5424 allows 6 digits of fraction: cut the contract's 9. */
	if (l->time && strlen(l->time) >= 27 && l->time[19] == '.')
		sb_printf(&y->msg, "%.26sZ", l->time);
	else
		format_time(&y->msg, realtime_ns());
	sb_printf(&y->msg, " %s warden %d ", y->host, (int)getpid());
	/* MSGID: 1 to 32 printable ASCII characters. */
	for (size_t i = 0; i < 32 && l->event[i]; i++)
		sb_putc(&y->msg, l->event[i] > 32 && l->event[i] < 127 ? l->event[i] : '_');
	sb_puts(&y->msg, " - ");
	if (n && l->text[n - 1] == '\n')
		n--;
	sb_put(&y->msg, l->text, n);
}

static int dgram_put(struct syslog_sink *y)
{
	ssize_t n;

	do
		n = send(y->fd, y->msg.buf, y->msg.len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return 0;
	if (!y->warned)
		pr_warn("%s: cannot send: %s\n", y->base.spec, strerror(errno));
	y->warned = true;
	return -ENOSPC;
}

static int tcp_connect(struct syslog_sink *y)
{
	y->fd = socket(y->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (y->fd < 0)
		return -errno;
	if (connect(y->fd, (struct sockaddr *)&y->addr, y->addrlen) && errno != EINPROGRESS) {
		int e = -errno;

		close(y->fd);
		y->fd = -1;
		return e;
	}
	return 0;
}

/* Back to the start of the frame that @sent was in: a new connection gets it whole. */
static void tcp_rewind(struct syslog_sink *y)
{
	size_t off = 0;

	while (off < y->out.len) {
		size_t len = strtoul(y->out.buf + off, NULL, 10);
		size_t next = off + (strchr(y->out.buf + off, ' ') - (y->out.buf + off)) + 1 + len;

		if (next > y->sent)
			break;
		off = next;
	}
	y->sent = off;
}

static void tcp_lost_connection(struct syslog_sink *y, int err)
{
	if (!y->warned)
		pr_warn("%s: connection lost (%s); retrying every second\n", y->base.spec,
			strerror(err));
	y->warned = true;
	close(y->fd);
	y->fd = -1;
	y->next_connect = sink_now_ms() + RECONNECT_MS;
	tcp_rewind(y);
}

/* Send what the socket takes now. */
static void tcp_pump(struct syslog_sink *y)
{
	if (y->fd < 0 && sink_now_ms() >= y->next_connect && tcp_connect(y))
		y->next_connect = sink_now_ms() + RECONNECT_MS;
	while (y->fd >= 0 && y->sent < y->out.len) {
		ssize_t n = send(y->fd, y->out.buf + y->sent, y->out.len - y->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EINPROGRESS))
			break;
		if (n <= 0) {
			tcp_lost_connection(y, n < 0 ? errno : ECONNRESET);
			break;
		}
		y->sent += n;
		y->warned = false;
	}
	if (y->sent == y->out.len) {
		y->out.len = 0;
		y->sent = 0;
	} else if (y->sent > y->out.cap / 2) {
		memmove(y->out.buf, y->out.buf + y->sent, y->out.len - y->sent);
		y->out.len -= y->sent;
		y->sent = 0;
	}
}

static int syslog_put(struct sink *s, const struct sink_line *l)
{
	struct syslog_sink *y = (struct syslog_sink *)s;

	build(y, l);
	if (y->t != T_TCP)
		return dgram_put(y);
	if (y->out.len - y->sent + y->msg.len + 16 > TCP_BUF_MAX)
		return -ENOSPC;
	sb_printf(&y->out, "%zu ", y->msg.len);
	sb_put(&y->out, y->msg.buf, y->msg.len);
	return 0;
}

static int syslog_commit(struct sink *s)
{
	struct syslog_sink *y = (struct syslog_sink *)s;

	if (y->t == T_TCP)
		tcp_pump(y);
	return 0;
}

static int syslog_flush(struct sink *s, int timeout_ms)
{
	struct syslog_sink *y = (struct syslog_sink *)s;
	int64_t deadline = sink_now_ms() + timeout_ms;

	if (y->t != T_TCP)
		return 0;
	for (;;) {
		struct pollfd p = { .fd = y->fd, .events = POLLOUT };
		int64_t left;

		tcp_pump(y);
		left = deadline - sink_now_ms();
		if (y->out.len == 0)
			return 0;
		if (left <= 0)
			return -ETIMEDOUT;
		if (y->fd < 0)
			poll(NULL, 0, left < 100 ? (int)left : 100);
		else
			poll(&p, 1, left < 100 ? (int)left : 100);
	}
}

static void syslog_close(struct sink *s)
{
	struct syslog_sink *y = (struct syslog_sink *)s;

	if (y->t == T_TCP && y->out.len > y->sent) {
		size_t frames = 0;

		for (size_t off = y->sent; off < y->out.len; frames++) {
			const char *sp = strchr(y->out.buf + off, ' ');

			off = sp - y->out.buf + 1 + strtoul(y->out.buf + off, NULL, 10);
		}
		pr_warn("%s: %zu events could not be delivered\n", s->spec, frames);
	}
	if (y->fd >= 0)
		close(y->fd);
	sb_free(&y->msg);
	sb_free(&y->out);
	free(y);
}

static const struct sink_ops syslog_ops = {
	.needs_meta = true, .put = syslog_put, .commit = syslog_commit, .flush = syslog_flush,
	.close = syslog_close,
};

static int resolve(struct syslog_sink *y, const char *spec, const char *hostport,
		   struct sbuf *err)
{
	struct addrinfo hints = { .ai_socktype = y->socktype }, *ai;
	char *host, *port;
	long p;
	int ret;

	if (sink_split_hostport(hostport, &host, &port)) {
		sb_printf(err, "--sink %s: \"%s\" is not HOST:PORT", spec, hostport);
		return -EINVAL;
	}
	if (parse_long(port, 1, 65535, &p)) {
		sb_printf(err, "--sink %s: bad port \"%s\" (1 to 65535)", spec, port);
		ret = -EINVAL;
	} else if ((ret = getaddrinfo(host, port, &hints, &ai))) {
		sb_printf(err, "--sink %s: cannot resolve %s: %s", spec, host, gai_strerror(ret));
		ret = -EINVAL;
	} else {
		memcpy(&y->addr, ai->ai_addr, ai->ai_addrlen);
		y->addrlen = ai->ai_addrlen;
		freeaddrinfo(ai);
	}
	free(host);
	free(port);
	return ret;
}

static int unix_addr(struct syslog_sink *y, const char *spec, const char *path,
		     struct sbuf *err)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&y->addr;

	if (strlen(path) >= sizeof(un->sun_path)) {
		sb_printf(err, "--sink %s: socket path too long", spec);
		return -ENAMETOOLONG;
	}
	un->sun_family = AF_UNIX;
	strcpy(un->sun_path, path);
	y->addrlen = sizeof(*un);
	return 0;
}

/* unix, udp: a connected datagram socket; unix falls back to a stream. */
static int dgram_connect(struct syslog_sink *y, const char *spec, struct sbuf *err)
{
	int e;

	y->fd = socket(y->addr.ss_family, y->socktype | SOCK_CLOEXEC, 0);
	if (y->fd < 0)
		goto fail;
	if (!connect(y->fd, (struct sockaddr *)&y->addr, y->addrlen))
		return 0;
	if (errno != EPROTOTYPE || y->t != T_UNIX)
		goto fail;
	close(y->fd);
	y->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (y->fd < 0 || connect(y->fd, (struct sockaddr *)&y->addr, y->addrlen) ||
	    fcntl(y->fd, F_SETFL, O_NONBLOCK))
		goto fail;
	y->t = T_TCP;	/* a stream socket: octet-counted frames, buffered */
	return 0;
fail:
	e = errno;
	sb_printf(err, "--sink %s: cannot connect: %s", spec, strerror(e));
	return -e;
}

/* "unix[:PATH]", "udp:HOST:PORT", "tcp:HOST:PORT" */
static int parse_target(struct syslog_sink *y, const char *spec, const char *target,
			struct sbuf *err)
{
	if (!strcmp(target, "unix") || !strncmp(target, "unix:", 5)) {
		y->t = T_UNIX;
		y->socktype = SOCK_DGRAM;
		return unix_addr(y, spec, target[4] ? target + 5 : "/dev/log", err);
	}
	if (!strncmp(target, "udp:", 4) || !strncmp(target, "tcp:", 4)) {
		y->t = target[0] == 'u' ? T_UDP : T_TCP;
		y->socktype = y->t == T_UDP ? SOCK_DGRAM : SOCK_STREAM;
		return resolve(y, spec, target + 4, err);
	}
	sb_printf(err, "--sink %s: expected syslog:unix[:PATH], syslog:udp:HOST:PORT or syslog:tcp:HOST:PORT",
		  spec);
	return -EINVAL;
}

static int parse_facility(struct syslog_sink *y, const char *spec, const char *name,
			  struct sbuf *err)
{
	y->facility = 4;	/* auth: security events */
	if (!name)
		return 0;
	for (int i = 0; facilities[i].name; i++) {
		if (!strcmp(name, facilities[i].name)) {
			y->facility = facilities[i].code;
			return 0;
		}
	}
	sb_printf(err, "--sink %s: unknown facility \"%s\" (auth, authpriv, user, daemon, local0 ... local7, ...)",
		  spec, name);
	return -EINVAL;
}

/* Connect now: a receiver that is not there at start is an error worth stopping for. */
static int tcp_first_connect(struct syslog_sink *y, const char *spec, struct sbuf *err)
{
	struct pollfd p = { .events = POLLOUT };
	int ret = tcp_connect(y), soerr = 0;
	socklen_t len = sizeof(soerr);

	if (!ret) {
		p.fd = y->fd;
		if (poll(&p, 1, 3000) != 1)
			ret = -ETIMEDOUT;
		else if (getsockopt(y->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) || soerr)
			ret = -(soerr ? soerr : errno);
	}
	if (ret)
		sb_printf(err, "--sink %s: cannot connect: %s", spec, strerror(-ret));
	return ret;
}

int sink_syslog_open(struct sink **out, const char *spec, const char *rest, struct sbuf *err)
{
	struct sink_opt opts[] = { { "facility", NULL }, { NULL, NULL } };
	char *target = sink_split_opts(spec, rest, opts, err);
	struct syslog_sink *y;
	int ret;

	if (!target)
		return -EINVAL;
	y = xcalloc(1, sizeof(*y));
	y->base.ops = &syslog_ops;
	y->fd = -1;
	ret = parse_facility(y, spec, opts[0].val, err);
	if (!ret)
		ret = parse_target(y, spec, target, err);
	if (!ret)
		ret = y->t == T_TCP ? tcp_first_connect(y, spec, err) : dgram_connect(y, spec, err);
	sink_free_opts(opts);
	free(target);
	if (ret) {
		if (y->fd >= 0)
			close(y->fd);
		free(y);
		return ret;
	}
	if (gethostname(y->host, sizeof(y->host)) || !y->host[0])
		strcpy(y->host, "-");
	*out = &y->base;
	return 0;
}
