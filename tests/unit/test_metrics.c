// SPDX-License-Identifier: GPL-2.0
/*
 * user/metrics.c: the exposition helpers' escaping and label sets, and a
 * real server on loopback fetched with libcurl (page, content type, HEAD,
 * 404, 405), the refusal of every address that is not loopback, and stop
 * closing the port.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "metrics.h"

/* ---- exposition helpers ------------------------------------------------ */

static char *take(struct sbuf *sb)
{
	sb_putc(sb, '\0');
	return sb->buf;
}

static void test_escape_label(void **state)
{
	struct sbuf sb = {0};

	(void)state;
	prom_escape_label(&sb, "a\\b\"c\nd\te");
	/* Tab and other bytes pass as they are; only the three the format names change. */
	assert_string_equal(take(&sb), "a\\\\b\\\"c\\nd\te");
	sb_free(&sb);
}

/* Valid UTF-8 passes; any other byte becomes U+FFFD, so one odd file name
 * cannot make Prometheus reject the whole scrape. */
static void test_escape_label_utf8(void **state)
{
	struct sbuf sb = {0};

	(void)state;
	prom_escape_label(&sb, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	assert_string_equal(take(&sb), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	sb.len = 0;
	/* lone continuation, overlong '/', truncated sequence at the end */
	prom_escape_label(&sb, "a\x80" "b\xc0\xaf" "c\xe2\x82");
	assert_string_equal(take(&sb), "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd");
	sb.len = 0;
	/* a surrogate (U+D800) and beyond U+10FFFF */
	prom_escape_label(&sb, "\xed\xa0\x80|\xf4\x90\x80\x80");
	assert_string_equal(take(&sb), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
				       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	sb_free(&sb);
}

static void test_header_escapes_help(void **state)
{
	struct sbuf sb = {0};

	(void)state;
	prom_header(&sb, "warden_denials_total", "counter", "Denials \"by\" agent\\rule\nsecond");
	/* HELP escapes backslash and newline, but not quotes. */
	assert_string_equal(take(&sb),
			    "# HELP warden_denials_total Denials \"by\" agent\\\\rule\\nsecond\n"
			    "# TYPE warden_denials_total counter\n");
	sb_free(&sb);
}

static void test_sample_values(void **state)
{
	struct sbuf sb = {0};

	(void)state;
	prom_sample(&sb, "a", NULL, 42);
	prom_sample(&sb, "b", "", 0);
	prom_sample(&sb, "c", "x=\"1\"", 0.1);
	prom_sample(&sb, "d", NULL, 1e21);
	prom_sample(&sb, "e", NULL, -2.5);
	prom_sample(&sb, "f", NULL, INFINITY);
	prom_sample(&sb, "g", NULL, -INFINITY);
	prom_sample(&sb, "h", NULL, NAN);
	prom_sample(&sb, "i", NULL, 18446744073709551615.0);
	prom_sample(&sb, "j", NULL, 1.0 / 3);
	assert_string_equal(take(&sb),
			    "a 42\n"
			    "b 0\n"
			    "c{x=\"1\"} 0.1\n"
			    "d 1e+21\n"
			    "e -2.5\n"
			    "f +Inf\n"
			    "g -Inf\n"
			    "h NaN\n"
			    "i 1.8446744073709552e+19\n"
			    "j 0.33333333333333331\n");
	sb_free(&sb);
}

static void test_labels(void **state)
{
	char buf[128];

	(void)state;
	assert_ptr_equal(prom_labels(buf, sizeof(buf), "agent", "coding-agent", "decision", "deny",
				     NULL), buf);
	assert_string_equal(buf, "agent=\"coding-agent\",decision=\"deny\"");
	prom_labels(buf, sizeof(buf), "path", "/tmp/a\"b\\c\nd", NULL);
	assert_string_equal(buf, "path=\"/tmp/a\\\"b\\\\c\\nd\"");
	prom_labels(buf, sizeof(buf), "agent", NULL, NULL);
	assert_string_equal(buf, "agent=\"\"");
	prom_labels(buf, sizeof(buf), NULL);
	assert_string_equal(buf, "");
}

/* A pair that does not fit is dropped whole: never a cut value, never an
 * unterminated quote. */
static void test_labels_overflow(void **state)
{
	char buf[24];

	(void)state;
	prom_labels(buf, sizeof(buf), "a", "1", "agent", "a-very-long-agent-name", NULL);
	assert_string_equal(buf, "a=\"1\"");
	/* One byte too long (24 characters, no room for the NUL): nothing. */
	prom_labels(buf, sizeof(buf), "agent", "0123456789abcdef", NULL);
	assert_string_equal(buf, "");
	/* Exactly full: 23 characters and the NUL. */
	prom_labels(buf, sizeof(buf), "agent", "0123456789abcde", NULL);
	assert_string_equal(buf, "agent=\"0123456789abcde\"");
}

/* ---- listen addresses -------------------------------------------------- */

static void render_never(void *ctx, struct sbuf *out)
{
	(void)ctx;
	(void)out;
	fail_msg("a refused server rendered a page");
}

static void expect_refused(const char *listen, const char *want_err)
{
	struct sbuf err = {0};
	struct metrics *m = (void *)1;

	if (metrics_start(&m, listen, render_never, NULL, &err) != -EINVAL)
		fail_msg("%s: not refused with -EINVAL", listen);
	assert_null(m);
	if (!err.buf || strcmp(take(&err), want_err))
		fail_msg("%s: error \"%s\", want \"%s\"", listen, err.buf ? err.buf : "(none)",
			 want_err);
	sb_free(&err);
}

#define HINT "metrics are served on loopback only (127.0.0.0/8, [::1] or localhost)"

static void test_refuses_non_loopback(void **state)
{
	(void)state;
	expect_refused("0.0.0.0:9464", "0.0.0.0 is not a loopback address: " HINT);
	expect_refused("10.1.2.3:9464", "10.1.2.3 is not a loopback address: " HINT);
	expect_refused("128.0.0.1:9464", "128.0.0.1 is not a loopback address: " HINT);
	expect_refused("[::]:9464", ":: is not a loopback address: " HINT);
	expect_refused("[fe80::1]:9464", "fe80::1 is not a loopback address: " HINT);
	expect_refused("[::ffff:127.0.0.1]:9464",
		       "::ffff:127.0.0.1 is not a loopback address: " HINT);
	expect_refused("example.com:9464",
		       "example.com is not an IP address nor localhost (names are not resolved): "
		       HINT);
}

static void test_refuses_garbage(void **state)
{
	(void)state;
	expect_refused("", "empty metrics address (expected HOST:PORT, e.g. 127.0.0.1:9464)");
	expect_refused("garbage", "garbage: expected HOST:PORT, e.g. 127.0.0.1:9464");
	expect_refused("127.0.0.1", "127.0.0.1: expected HOST:PORT, e.g. 127.0.0.1:9464");
	expect_refused("127.0.0.1:", "127.0.0.1:: no port after ':' (expected HOST:PORT, e.g. "
				     "127.0.0.1:9464)");
	expect_refused("127.0.0.1:http", "127.0.0.1:http: port \"http\" is not a number in 0-65535");
	expect_refused("127.0.0.1:65536",
		       "127.0.0.1:65536: port \"65536\" is not a number in 0-65535");
	expect_refused(":9464", ": no host");
	expect_refused("::1:9464", "::1:9464: an IPv6 address needs brackets: [ADDR]:PORT");
	expect_refused("[::1]9464", "[::1]9464: expected [IPV6]:PORT, e.g. [::1]:9464");
	expect_refused("127.0.0.1.5:9464",
		       "127.0.0.1.5 is not an IP address nor localhost (names are not resolved): "
		       HINT);
}

static void test_parse_accepts_loopback(void **state)
{
	struct sockaddr_storage sa;
	struct sockaddr_in *in4 = (void *)&sa;
	struct sockaddr_in6 *in6 = (void *)&sa;
	struct sbuf err = {0};

	(void)state;
	assert_int_equal(metrics_parse_listen("127.0.0.1:9464", &sa, &err), sizeof(*in4));
	assert_int_equal(in4->sin_family, AF_INET);
	assert_int_equal(ntohs(in4->sin_port), 9464);
	assert_int_equal(ntohl(in4->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(metrics_parse_listen("127.3.2.1:1", &sa, &err), sizeof(*in4));
	assert_int_equal(ntohl(in4->sin_addr.s_addr), 0x7f030201);
	/* localhost is 127.0.0.1 by definition here, never looked up. */
	assert_int_equal(metrics_parse_listen("localhost:9464", &sa, &err), sizeof(*in4));
	assert_int_equal(ntohl(in4->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(metrics_parse_listen("[::1]:9464", &sa, &err), sizeof(*in6));
	assert_int_equal(in6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(in6->sin6_port), 9464);
	assert_true(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));
	assert_null(err.buf);
}

/* ---- a real server ----------------------------------------------------- */

struct page {
	int calls;
	const char *text;
};

static void render(void *ctx, struct sbuf *out)
{
	struct page *p = ctx;
	char lb[128];

	p->calls++;
	if (!p->text) {
		prom_header(out, "warden_agents", "gauge", "Agents confined now");
		prom_sample(out, "warden_agents",
			    prom_labels(lb, sizeof(lb), "agent", "coding-agent", NULL), 3);
		return;
	}
	sb_puts(out, p->text);
}

struct reply {
	long code;
	struct sbuf body;
	char *ctype;
	char *allow;
};

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
	sb_put(&((struct reply *)ud)->body, data, size * n);
	return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t len = size * n;
	char **dst = NULL;
	size_t skip = 0;

	if (!strncasecmp(data, "Content-Type: ", 14))
		dst = &r->ctype, skip = 14;
	else if (!strncasecmp(data, "Allow: ", 7))
		dst = &r->allow, skip = 7;
	if (dst) {
		free(*dst);
		*dst = strndup(data + skip, len - skip);
		(*dst)[strcspn(*dst, "\r\n")] = '\0';
	}
	return len;
}

/* Fetch http://HOST:PORT/PATH with @method; 0 or a curl error code. */
static int fetch(const char *host, unsigned int port, const char *path, const char *method,
		 struct reply *r)
{
	char url[128];
	CURL *c = curl_easy_init();
	CURLcode rc;

	assert_non_null(c);
	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "http://%s:%u%s", host, port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
	curl_easy_cleanup(c);
	sb_putc(&r->body, '\0');
	return rc;
}

static void reply_free(struct reply *r)
{
	sb_free(&r->body);
	free(r->ctype);
	free(r->allow);
}

static struct metrics *start_ok(const char *listen, struct page *p)
{
	struct sbuf err = {0};
	struct metrics *m = NULL;
	int ret = metrics_start(&m, listen, render, p, &err);

	if (ret)
		fail_msg("metrics_start(%s): %d: %s", listen, ret, err.buf ? take(&err) : "");
	assert_non_null(m);
	assert_true(metrics_port(m) > 0);
	sb_free(&err);
	return m;
}

static void test_serves_page(void **state)
{
	struct page p = {0};
	struct metrics *m;
	struct reply r;

	(void)state;
	m = start_ok("127.0.0.1:0", &p);
	assert_int_equal(fetch("127.0.0.1", metrics_port(m), "/metrics", "GET", &r), CURLE_OK);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body.buf, "# HELP warden_agents Agents confined now\n"
					"# TYPE warden_agents gauge\n"
					"warden_agents{agent=\"coding-agent\"} 3\n");
	assert_string_equal(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
	assert_int_equal(p.calls, 1);
	reply_free(&r);

	/* Each scrape renders afresh. */
	p.text = "x 1\n";
	assert_int_equal(fetch("127.0.0.1", metrics_port(m), "/metrics", "GET", &r), CURLE_OK);
	assert_string_equal(r.body.buf, "x 1\n");
	assert_int_equal(p.calls, 2);
	reply_free(&r);

	/* An empty page is a valid (empty) exposition. */
	p.text = "";
	assert_int_equal(fetch("127.0.0.1", metrics_port(m), "/metrics", "GET", &r), CURLE_OK);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body.buf, "");
	reply_free(&r);

	assert_int_equal(fetch("127.0.0.1", metrics_port(m), "/metrics", "HEAD", &r), CURLE_OK);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body.buf, "");
	assert_string_equal(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
	reply_free(&r);
	metrics_stop(m);
}

static void test_404_and_405(void **state)
{
	struct page p = {.text = "x 1\n"};
	struct metrics *m;
	struct reply r;

	(void)state;
	m = start_ok("localhost:0", &p);
	assert_int_equal(fetch("127.0.0.1", metrics_port(m), "/", "GET", &r), CURLE_OK);
	assert_int_equal(r.code, 404);
	assert_string_equal(r.body.buf, "not found: metrics are at /metrics\n");
	reply_free(&r);
	assert_int_equal(fetch("127.0.0.1", metrics_port(m), "/metrics/x", "GET", &r), CURLE_OK);
	assert_int_equal(r.code, 404);
	reply_free(&r);
	assert_int_equal(fetch("127.0.0.1", metrics_port(m), "/metrics", "POST", &r), CURLE_OK);
	assert_int_equal(r.code, 405);
	assert_string_equal(r.allow, "GET, HEAD");
	reply_free(&r);
	assert_int_equal(fetch("127.0.0.1", metrics_port(m), "/metrics", "DELETE", &r), CURLE_OK);
	assert_int_equal(r.code, 405);
	reply_free(&r);
	/* None of those rendered the page. */
	assert_int_equal(p.calls, 0);
	metrics_stop(m);
}

static void test_ipv6_loopback(void **state)
{
	struct page p = {.text = "v6 1\n"};
	struct metrics *m;
	struct reply r;

	(void)state;
	m = start_ok("[::1]:0", &p);
	assert_int_equal(fetch("[::1]", metrics_port(m), "/metrics", "GET", &r), CURLE_OK);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body.buf, "v6 1\n");
	reply_free(&r);
	/* Bound to ::1 exactly: not reachable over IPv4. */
	assert_int_not_equal(fetch("127.0.0.1", metrics_port(m), "/metrics", "GET", &r), CURLE_OK);
	reply_free(&r);
	metrics_stop(m);
}

/* A free port, found by binding port 0 and closing: the next test binds it
 * by number, as the daemon does with --metrics 127.0.0.1:9464. */
static unsigned int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void test_fixed_port_busy_and_stop(void **state)
{
	struct page p = {.text = "x 1\n"};
	struct metrics *m, *m2 = (void *)1;
	struct sbuf err = {0};
	unsigned int port = free_port();
	char listen[32], want[128];
	struct reply r;

	(void)state;
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	m = start_ok(listen, &p);
	assert_int_equal(metrics_port(m), port);
	assert_int_equal(fetch("127.0.0.1", port, "/metrics", "GET", &r), CURLE_OK);
	assert_int_equal(r.code, 200);
	reply_free(&r);

	/* A second server on the same port: refused, with the reason. */
	assert_int_equal(metrics_start(&m2, listen, render, &p, &err), -EADDRINUSE);
	assert_null(m2);
	snprintf(want, sizeof(want), "metrics: cannot serve on %s: Address already in use", listen);
	assert_non_null(err.buf);
	assert_string_equal(take(&err), want);
	sb_free(&err);

	/* Stop closes the port: nothing answers any more, and it can be bound again. */
	metrics_stop(m);
	assert_int_equal(fetch("127.0.0.1", port, "/metrics", "GET", &r),
			 CURLE_COULDNT_CONNECT);
	reply_free(&r);
	m = start_ok(listen, &p);
	metrics_stop(m);
	metrics_stop(NULL);
}

static void test_no_render(void **state)
{
	struct sbuf err = {0};
	struct metrics *m;

	(void)state;
	assert_int_equal(metrics_start(&m, "127.0.0.1:0", NULL, NULL, &err), -EINVAL);
	assert_string_equal(take(&err), "metrics: no render callback");
	sb_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_label),
		cmocka_unit_test(test_escape_label_utf8),
		cmocka_unit_test(test_header_escapes_help),
		cmocka_unit_test(test_sample_values),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_labels_overflow),
		cmocka_unit_test(test_refuses_non_loopback),
		cmocka_unit_test(test_refuses_garbage),
		cmocka_unit_test(test_parse_accepts_loopback),
		cmocka_unit_test(test_serves_page),
		cmocka_unit_test(test_404_and_405),
		cmocka_unit_test(test_ipv6_loopback),
		cmocka_unit_test(test_fixed_port_busy_and_stop),
		cmocka_unit_test(test_no_render),
	};
	int ret;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return ret;
}
