// SPDX-License-Identifier: GPL-2.0
/*
 * Prometheus metrics endpoint: one libmicrohttpd polling thread serving
 * GET /metrics on a loopback address. The page is rendered afresh by the
 * caller's callback for every scrape, so there is no cache to go stale.
 *
 * Loopback only: the page names agents and their policy versions, which
 * an attacker mapping a fleet would like to read. Remote scraping goes
 * through something the operator chooses (node exporter textfile, a
 * sidecar proxy with TLS and auth), not through this socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "metrics.h"

/* A scraper that stalls must not hold a slot for long: loopback clients are
 * few (Prometheus, an agent, curl), so a small limit is plenty. */
#define METRICS_CONN_LIMIT 16
#define METRICS_CONN_TIMEOUT_S 10

struct metrics {
	struct MHD_Daemon *d;
	metrics_render_fn render;
	void *ctx;
	unsigned int port;
	/* While metrics_start runs, MHD's own error text (e.g. why bind
	 * failed) lands here, to be handed to the caller; afterwards it goes
	 * to the debug log. Read and written with atomics: MHD's thread may
	 * log while start is still returning. */
	int starting;
	char start_err[256];
};

static const char loopback_hint[] =
	"metrics are served on loopback only (127.0.0.0/8, [::1] or localhost)";

/* ---- listen address ---------------------------------------------------- */

static int parse_port(const char *s, const char *listen, struct sbuf *err)
{
	long port;

	if (!*s) {
		sb_printf(err, "%s: no port after ':' (expected HOST:PORT, e.g. 127.0.0.1:9464)",
			  listen);
		return -EINVAL;
	}
	if (parse_long(s, 0, 65535, &port)) {
		sb_printf(err, "%s: port \"%s\" is not a number in 0-65535", listen, s);
		return -EINVAL;
	}
	return (int)port;
}

/* Split "HOST:PORT" / "[V6]:PORT" into @host (brackets removed) and the port. */
static int split_listen(const char *listen, char *host, size_t size, struct sbuf *err)
{
	const char *colon, *end;
	size_t n;

	if (listen[0] == '[') {
		end = strchr(listen, ']');
		if (!end || end[1] != ':') {
			sb_printf(err, "%s: expected [IPV6]:PORT, e.g. [::1]:9464", listen);
			return -EINVAL;
		}
		n = end - listen - 1;
		colon = end + 1;
		listen++;
	} else {
		colon = strrchr(listen, ':');
		if (!colon) {
			sb_printf(err, "%s: expected HOST:PORT, e.g. 127.0.0.1:9464", listen);
			return -EINVAL;
		}
		if (memchr(listen, ':', colon - listen)) {
			sb_printf(err, "%s: an IPv6 address needs brackets: [ADDR]:PORT", listen);
			return -EINVAL;
		}
		n = colon - listen;
	}
	if (n == 0 || n >= size) {
		sb_printf(err, "%.*s: %s host", (int)(colon - listen), listen,
			  n ? "too long a" : "no");
		return -EINVAL;
	}
	memcpy(host, listen, n);
	host[n] = '\0';
	return 0;
}

static int refuse_host(const char *host, struct sbuf *err)
{
	sb_printf(err, "%s is not a loopback address: %s", host, loopback_hint);
	return -EINVAL;
}

int metrics_parse_listen(const char *listen, void *sa, struct sbuf *err)
{
	struct sockaddr_in *in4 = sa;
	struct sockaddr_in6 *in6 = sa;
	char host[INET6_ADDRSTRLEN + 1];
	int port, ret;

	if (!listen || !*listen) {
		sb_puts(err, "empty metrics address (expected HOST:PORT, e.g. 127.0.0.1:9464)");
		return -EINVAL;
	}
	ret = split_listen(listen, host, sizeof(host), err);
	if (ret)
		return ret;
	port = parse_port(strrchr(listen, ':') + 1, listen, err);
	if (port < 0)
		return port;
	memset(sa, 0, sizeof(struct sockaddr_storage));
	/* "localhost" is not resolved: /etc/hosts could map it anywhere. */
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		/* 127.0.0.0/8 is loopback; 0.0.0.0 would be every interface. */
		if ((ntohl(in4->sin_addr.s_addr) >> 24) != 127)
			return refuse_host(host, err);
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		return sizeof(*in4);
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		/* Only ::1: "::" is every interface, a mapped 127.x is spelled as IPv4. */
		if (!IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return refuse_host(host, err);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		return sizeof(*in6);
	}
	sb_printf(err, "%s is not an IP address nor localhost (names are not resolved): %s",
		  host, loopback_hint);
	return -EINVAL;
}

/* ---- HTTP -------------------------------------------------------------- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct metrics *m = cls;
	char msg[sizeof(m->start_err)];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strcspn(msg, "\n");
	msg[n] = '\0';
	if (__atomic_load_n(&m->starting, __ATOMIC_ACQUIRE) && !m->start_err[0]) {
		memcpy(m->start_err, msg, n + 1);
		return;
	}
	pr_debug("metrics: %s\n", msg);
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int code, const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_metrics(struct metrics *m, struct MHD_Connection *c)
{
	struct sbuf page = {0};
	struct MHD_Response *r;
	enum MHD_Result ret;

	m->render(m->ctx, &page);
	/* MHD frees the page with free() once it is sent. */
	r = MHD_create_response_from_buffer(page.len, page.buf ? page.buf : (void *)"",
					    page.buf ? MHD_RESPMEM_MUST_FREE :
						       MHD_RESPMEM_PERSISTENT);
	if (!r) {
		sb_free(&page);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
	/* A scrape is a snapshot: no proxy may serve an old one. */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **req_cls)
{
	(void)version;
	(void)upload_data;
	(void)req_cls;
	/* A body (say, a POST's) is never read: we answer before it and MHD
	 * closes the connection rather than parse what nobody asked for. */
	(void)upload_size;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: GET or HEAD\n");
	if (strcmp(url, "/metrics"))
		return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: metrics are at /metrics\n");
	/* HEAD: MHD sends the headers only; rendering keeps Content-Length true. */
	return reply_metrics(cls, c);
}

static unsigned int bound_port(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);

	return info ? info->port : 0;
}

int metrics_start(struct metrics **out, const char *listen, metrics_render_fn render, void *ctx,
		  struct sbuf *err)
{
	struct sockaddr_storage sa;
	struct metrics *m;
	unsigned int flags;
	int len, e;

	*out = NULL;
	if (!render) {
		sb_puts(err, "metrics: no render callback");
		return -EINVAL;
	}
	len = metrics_parse_listen(listen, &sa, err);
	if (len < 0)
		return len;
	m = xcalloc(1, sizeof(*m));
	m->render = render;
	m->ctx = ctx;
	__atomic_store_n(&m->starting, 1, __ATOMIC_RELEASE);
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	if (sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	m->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m,
				/* First, so that it sees every message. */
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, m,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONN_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_CONN_TIMEOUT_S,
				MHD_OPTION_END);
	e = errno;
	if (!m->d) {
		/* errno from bind() is the plainest reason; MHD's own text names
		 * "port 0" (the port rides in the address), so it comes second. */
		sb_printf(err, "metrics: cannot serve on %s: %s", listen,
			  e ? strerror(e) : m->start_err[0] ? m->start_err : strerror(EIO));
		free(m);
		return -(e ? e : EIO);
	}
	__atomic_store_n(&m->starting, 0, __ATOMIC_RELEASE);
	m->port = bound_port(m->d);
	*out = m;
	return 0;
}

unsigned int metrics_port(const struct metrics *m)
{
	return m->port;
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	/* Joins the polling thread and closes every connection. */
	MHD_stop_daemon(m->d);
	free(m);
}

/* ---- exposition -------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at @s (RFC 3629: no overlongs,
 * no surrogates, at most U+10FFFF), 0 if there is none. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Prometheus rejects a whole scrape over one label value that is not UTF-8
 * (a file name or comm can be any bytes): such bytes become U+FFFD. */
void prom_escape_label(struct sbuf *out, const char *s)
{
	size_t n;

	while (s && *s) {
		switch (*s) {
		case '\\': sb_put(out, "\\\\", 2); break;
		case '"': sb_put(out, "\\\"", 2); break;
		case '\n': sb_put(out, "\\n", 2); break;
		default:
			n = utf8_len((const unsigned char *)s);
			if (n) {
				sb_put(out, s, n);
				s += n;
			} else {
				sb_puts(out, "\xef\xbf\xbd");
				s++;
			}
			continue;
		}
		s++;
	}
}

/* HELP text escapes backslash and newline, not quotes (format 0.0.4). */
static void escape_help(struct sbuf *out, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			sb_put(out, "\\\\", 2);
		else if (*s == '\n')
			sb_put(out, "\\n", 2);
		else
			sb_putc(out, *s);
	}
}

void prom_header(struct sbuf *out, const char *name, const char *type, const char *help)
{
	sb_printf(out, "# HELP %s ", name);
	escape_help(out, help);
	sb_printf(out, "\n# TYPE %s %s\n", name, type);
}

/* Shortest decimal that reads back as @v: counters print as integers. */
static void put_value(struct sbuf *out, double v)
{
	char buf[32];

	if (isnan(v)) {
		sb_puts(out, "NaN");
		return;
	}
	if (isinf(v)) {
		sb_puts(out, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	sb_puts(out, buf);
}

void prom_sample(struct sbuf *out, const char *name, const char *labels, double value)
{
	sb_puts(out, name);
	if (labels && *labels) {
		sb_putc(out, '{');
		sb_puts(out, labels);
		sb_putc(out, '}');
	}
	sb_putc(out, ' ');
	put_value(out, value);
	sb_putc(out, '\n');
}

const char *prom_labels(char *buf, size_t size, ...)
{
	struct sbuf pair = {0};
	const char *k, *v;
	size_t len = 0;
	va_list ap;

	if (!size)
		return buf;
	buf[0] = '\0';
	va_start(ap, size);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		pair.len = 0;
		if (len)
			sb_putc(&pair, ',');
		sb_printf(&pair, "%s=\"", k);
		prom_escape_label(&pair, v);
		sb_putc(&pair, '"');
		if (len + pair.len >= size) {
			pr_warn("metrics: label %s does not fit in %zu bytes: dropped with those after it\n",
				k, size);
			break;
		}
		memcpy(buf + len, pair.buf, pair.len);
		len += pair.len;
		buf[len] = '\0';
	}
	va_end(ap);
	sb_free(&pair);
	return buf;
}
