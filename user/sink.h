/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Event sinks: where the contract's JSON lines go. A list of sinks gets
 * complete '\n'-ended lines from the event drain and delivers each line to
 * every sink, in order:
 *   stderr | stdout                    the stream itself
 *   file:PATH[,max-size=SIZE][,keep=N] JSON lines, size-based rotation
 *   syslog:unix[:PATH] | syslog:udp:HOST:PORT | syslog:tcp:HOST:PORT  RFC 5424
 *   http://URL | https://URL          POST batches of JSON lines (spool, retry)
 *   otlp:URL                          OTLP/HTTP JSON logs (POST URL/v1/logs)
 * Nothing is dropped silently: a sink that has to drop lines (its spool or
 * buffer is full) counts them and delivers a "lost" event with reason
 * "sink_full" as soon as it has room again.
 */
#ifndef WARDEN_SINK_H
#define WARDEN_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "util.h"

enum sink_format {
	SINK_FORMAT_JSON,	/* the contract's lines, as they are */
	SINK_FORMAT_OCSF,	/* reshaped as OCSF 1.1 (user/ocsf.h) */
};

struct sink_opts {
	enum sink_format format;
	/* Who the lines are about: the sinks' own "lost" events name it. */
	const struct agent_info *ai;
};

struct sink;

/* The spec syntax, for usage texts. */
extern const char sink_spec_help[];

/* "json" or "ocsf". Returns 0 or -EINVAL. */
int sink_parse_format(const char *s, enum sink_format *out);

/*
 * Parse @spec, open the sink and append it to the list *@list (NULL: a new
 * list). Returns 0, or -errno with a precise message in @err
 * ("--sink syslog:tcp:h:x: bad port \"x\" ...", no trailing newline).
 * Nothing is appended on failure.
 */
int sink_open(struct sink **list, const char *spec, const struct sink_opts *o,
	      struct sbuf *err);

/* --events FILE: append to @path as it is named (no options), as file: does. */
int sink_open_file(struct sink **list, const char *path, const struct sink_opts *o,
		   struct sbuf *err);

/*
 * Deliver @len bytes of complete '\n'-ended lines to every sink of @list.
 * Never waits on the network: network sinks queue (http: in a spool) and
 * deliver in the background. Returns 0, or -EIO if a sink could not take
 * every line (each one it dropped is counted, and reported as lost).
 */
int sink_write(struct sink *list, const char *lines, size_t len);

/*
 * Call @hook(fd, @ctx) for each file the sinks of @list have open (--events,
 * file:), and for each one they open from now on (reopen, rotation): warden
 * makes them protections no agent may write or delete. Failures are warned.
 */
void sink_protect_files(struct sink *list, int (*hook)(int fd, void *ctx), void *ctx);

/* SIGHUP: files are reopened by name (logrotate moved them). */
void sink_reopen(struct sink *list);

/*
 * Deliver what is pending, waiting at most @timeout_ms for the network.
 * Returns 0 when everything is delivered, -ETIMEDOUT if some is still
 * pending (an http spool keeps it for the next run).
 */
int sink_flush(struct sink *list, int timeout_ms);

/* Lines dropped so far by the sinks of @list (each also reported as lost). */
uint64_t sink_dropped(const struct sink *list);

/* Close every sink of @list, saying on stderr what could not be delivered. */
void sink_close(struct sink *list);

#endif
