/* SPDX-License-Identifier: GPL-2.0 */
/* Inside the sinks: what every kind of sink implements and shares. */
#ifndef WARDEN_SINK_IMPL_H
#define WARDEN_SINK_IMPL_H

#include <stdbool.h>

#include "sink.h"

/* One line as a sink sees it. */
struct sink_line {
	const char *text;	/* formatted (json or ocsf), ends with '\n' */
	size_t len;
	const char *event;	/* the contract's "event" ("file", "lost", ...) */
	bool warning;		/* a denial or a loss: syslog warning, OTLP WARN */
	const char *time;	/* the contract's "time", or NULL */
};

struct sink_ops {
	bool needs_meta;	/* wants event/warning/time filled in */
	/* Take one line; -ENOSPC if there is no room (the caller counts it). */
	int (*put)(struct sink *s, const struct sink_line *l);
	/* End of one sink_write(): write out what put() gathered. */
	int (*commit)(struct sink *s);
	void (*reopen)(struct sink *s);
	int (*flush)(struct sink *s, int timeout_ms);
	void (*close)(struct sink *s);	/* and free */
};

struct sink {
	const struct sink_ops *ops;
	struct sink *next;
	char *spec;
	struct sink_opts opts;
	uint64_t dropped;	/* lines it could not take */
	uint64_t reported;	/* of which already reported in a lost event */
};

/* A spec's "KEY=VALUE" options after the target: "file:/x,keep=3". */
struct sink_opt {
	const char *key;
	char *val;	/* NULL if absent */
};

/*
 * Split @rest ("TARGET,k=v,...") at the first ",WORD=": the
 * target is returned (malloc'd), values are filled in @opts (a NULL-key
 * terminated array). Returns NULL with a message in @err on an unknown or
 * repeated option.
 */
char *sink_split_opts(const char *spec, const char *rest, struct sink_opt *opts,
		      struct sbuf *err);
void sink_free_opts(struct sink_opt *opts);

/* "10M", "512k", "1G", "4096" -> bytes. Returns 0 or -EINVAL. */
int sink_parse_size(const char *s, uint64_t *out);

/* "HOST:PORT" or "[V6]:PORT" -> malloc'd host and port string. */
int sink_split_hostport(const char *s, char **host, char **port);

/* The kinds of sink; each fills *out with its struct sink. */
int sink_file_open(struct sink **out, const char *spec, const char *rest, struct sbuf *err);
int sink_syslog_open(struct sink **out, const char *spec, const char *rest, struct sbuf *err);
int sink_http_open(struct sink **out, const char *spec, const char *url, bool otlp,
		   struct sbuf *err);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t sink_now_ms(void);

#endif
