/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus metrics endpoint (libmicrohttpd): GET /metrics on a loopback
 * address, text exposition format 0.0.4. The caller renders the whole page;
 * this module serves it and offers helpers that escape correctly.
 */
#ifndef WARDEN_METRICS_H
#define WARDEN_METRICS_H

#include <stddef.h>

#include "util.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics;

/* Render the whole exposition into @out (Prometheus text format 0.0.4). Called from the
 * HTTP thread for each scrape; must be thread-safe on the caller's side (the daemon locks). */
typedef void (*metrics_render_fn)(void *ctx, struct sbuf *out);

/* Serve GET /metrics on @listen ("127.0.0.1:9464", "[::1]:9464", "localhost:9464").
 * Refuses (-EINVAL, precise reason in @err) any address that is not loopback: metrics
 * reveal agent names and policy versions, so exposing them is opt-in AND loopback-only.
 * Port 0 binds a free port (metrics_port() tells which). Other paths: 404. Methods other
 * than GET/HEAD: 405. Returns 0 or -errno (bind failures: the reason in @err). */
int metrics_start(struct metrics **out, const char *listen, metrics_render_fn render, void *ctx,
		  struct sbuf *err);
/* Stop serving (waits for the HTTP thread: no render call runs after it returns) and free.
 * NULL is a no-op. */
void metrics_stop(struct metrics *m);
/* The port actually bound (useful after asking for port 0). */
unsigned int metrics_port(const struct metrics *m);

/* Parse and check @listen without binding: fills @sa (struct sockaddr_in or _in6, as big
 * as struct sockaddr_storage) and returns its length, or -EINVAL with the reason in @err. */
int metrics_parse_listen(const char *listen, void *sa, struct sbuf *err);

/* Exposition helpers (escape label values per the format: backslash, quote, newline). */
/* "# HELP name help\n# TYPE name type\n"; @help escaped (backslash, newline). */
void prom_header(struct sbuf *out, const char *name, const char *type, const char *help);
/* "name{labels} value\n", or "name value\n" when @labels is NULL or "". @labels is the inner
 * part prom_labels() builds. Values print as the shortest exact decimal, +Inf, -Inf, NaN. */
void prom_sample(struct sbuf *out, const char *name, const char *labels /* may be NULL */,
		 double value);
/* Build a label set: prom_labels(buf, size, "agent", name, "decision", "deny", NULL)
 * gives `agent="...",decision="deny"` with each value escaped; a NULL value counts as "".
 * Returns @buf. A pair that does not fit in @size is dropped whole, with all after it (a
 * value is never cut), and a warning says so: size buffers for the longest names. */
const char *prom_labels(char *buf, size_t size, ...) __attribute__((sentinel));
/* Append @s to @out escaped as a label value (without quotes); bytes that are not
 * well-formed UTF-8 become U+FFFD (Prometheus refuses a scrape over one such value). */
void prom_escape_label(struct sbuf *out, const char *s);

#endif
