// SPDX-License-Identifier: GPL-2.0
/*
 * sinkfeed: the sink code (user/sink.c) driven from stdin, for the sink
 * tests against real receivers.
 *   sinkfeed [--format json|ocsf] [--flush MS] SPEC... < lines
 * Each complete line read goes to sink_write() at once; SIGHUP calls
 * sink_reopen(). At EOF, sink_flush() waits up to MS (10000) for delivery.
 * Exits 0 when everything was delivered, 3 when some is still pending,
 * 1 when a sink dropped lines, 2 on a bad spec.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "sink.h"

static const struct agent_info feed_agent = { .name = "sinkfeed", .instance = "feed" };

static int open_sinks(struct sink **list, int argc, char **argv, struct sink_opts *o,
		      int *flush_ms)
{
	struct sbuf err = {0};

	/* The format applies to every sink: take it first. */
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--format") && sink_parse_format(argv[i + 1], &o->format))
			return fprintf(stderr, "sinkfeed: bad format %s\n", argv[i + 1]), -1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc) {
			i++;
		} else if (!strcmp(argv[i], "--flush") && i + 1 < argc) {
			*flush_ms = atoi(argv[++i]);
		} else if (sink_open(list, argv[i], o, &err)) {
			sb_putc(&err, '\0');
			fprintf(stderr, "sinkfeed: %s\n", err.buf);
			sb_free(&err);
			return -1;
		}
	}
	return 0;
}

/* Hand the complete lines of @buf to the sinks; keep the rest. */
static void feed(struct sink *list, struct sbuf *buf)
{
	char *nl = buf->len ? memrchr(buf->buf, '\n', buf->len) : NULL;
	size_t n;

	if (!nl)
		return;
	n = nl + 1 - buf->buf;
	sink_write(list, buf->buf, n);
	memmove(buf->buf, buf->buf + n, buf->len - n);
	buf->len -= n;
}

int main(int argc, char **argv)
{
	struct sink_opts o = { .format = SINK_FORMAT_JSON, .ai = &feed_agent };
	struct sink *list = NULL;
	struct sbuf buf = {0};
	int flush_ms = 10000, sfd, ret;
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (open_sinks(&list, argc, argv, &o, &flush_ms))
		return 2;
	for (;;) {
		struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		char chunk[65536];
		ssize_t n;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				sink_reopen(list);
			continue;
		}
		n = read(0, chunk, sizeof(chunk));
		if (n <= 0)
			break;
		sb_put(&buf, chunk, n);
		feed(list, &buf);
	}
	ret = sink_flush(list, flush_ms) ? 3 : 0;
	if (!ret && sink_dropped(list))
		ret = 1;
	sink_close(list);
	sb_free(&buf);
	return ret;
}
