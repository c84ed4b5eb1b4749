// SPDX-License-Identifier: GPL-2.0
/*
 * Learning mode's generator: event lines in, policy text out. Every learned
 * policy is checked here with the policy engine itself (parse, compile, the
 * kernel's decision from the compiled tree), not with the generator's own
 * bookkeeping.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "learn.h"
#include "policy.h"

static const struct policy_env ENV = { .cwd = "/w", .home = "/h" };

/* A coding-agent-like base: the system readable, the workspace open, secrets denied. */
static const char BASE[] =
	"{\"version\": 1, \"name\": \"base\", \"identity\": \"spiffe://t/agent\",\n"
	" \"file\": {\"default\": \"deny\", \"rules\": [\n"
	"  {\"path\": \"/\", \"allow\": [\"read\", \"exec\"]},\n"
	"  {\"path\": \"${CWD}/\", \"allow\": [\"all\"]},\n"
	"  {\"path\": \"/tmp/\", \"allow\": [\"read\", \"write\", \"create\", \"delete\"]},\n"
	"  {\"path\": \"/dev/\", \"allow\": [\"read\", \"write\"]},\n"
	"  {\"path\": \"${HOME}/.ssh/\", \"deny\": [\"all\"]},\n"
	"  {\"path\": \"${HOME}/.netrc\", \"deny\": [\"all\"]},\n"
	"  {\"path\": \"${CWD}/.env\", \"deny\": [\"read\", \"write\"]},\n"
	"  {\"path\": \"/etc/shadow\", \"deny\": [\"all\"]},\n"
	"  {\"path\": \"/srv/\", \"deny\": [\"read\"]},\n"
	"  {\"path\": \"/srv/pub/\", \"allow\": [\"read\"]}\n"
	" ]},\n"
	" \"network\": {\"default\": \"allow\", \"rules\": [\n"
	"  {\"cidr\": \"10.0.0.0/8\", \"deny\": [\"connect\"]}]}}\n";

static void parse_ok(const char *text, struct policy *p)
{
	struct sbuf err = {0};

	if (policy_parse("t.json", text, strlen(text), &ENV, p, &err)) {
		sb_putc(&err, '\0');
		fail_msg("policy does not parse:\n%s\n%s", err.buf, text);
	}
	sb_free(&err);
}

/* Learn from @events (lines) with @base_text (or none); the policy text, to free. */
static char *learn_text(const char *base_text, const char *events, struct policy *base)
{
	struct sbuf out = {0}, err = {0};
	struct learn *l;

	if (base_text)
		parse_ok(base_text, base);
	l = learn_new(base_text ? base : NULL, &ENV);
	assert_int_equal(learn_events(l, events, strlen(events)), 0);
	if (learn_build(l, "learned", NULL, &out, &err)) {
		sb_putc(&err, '\0');
		fail_msg("learn_build: %s", err.buf);
	}
	learn_free(l);
	sb_free(&err);
	return out.buf;
}

/* The decision of the compiled policy (as the kernel walks it). */
static const char *decide(const char *text, const char *path, const char *right)
{
	struct sbuf err = {0};
	struct compiled c;
	struct policy p;
	struct wd_verdict v;

	parse_ok(text, &p);
	assert_int_equal(policy_compile(&p, 1, &c, &err), 0);
	assert_int_equal(compiled_decide(&c, path, right_parse(right), &v), 0);
	compiled_free(&c);
	policy_free(&p);
	return v.action == WD_ACT_ALLOW ? "allow" : "deny";
}

#define EV(kind, right, path) \
	"{\"event\":\"" kind "\",\"action\":\"" right "\",\"path\":\"" path "\",\"decision\":\"audit\"}\n"
#define NET(right, proto, addr, port) \
	"{\"event\":\"network\",\"action\":\"" right "\",\"protocol\":\"" proto "\",\"address\":\"" addr "\",\"port\":" port ",\"decision\":\"audit\"}\n"

static const char WORKLOAD[] =
	EV("exec", "exec", "/usr/bin/git")
	EV("file", "read", "/usr/bin/git")
	EV("file", "exec", "/usr/lib/x86_64-linux-gnu/libc.so.6")
	EV("file", "read", "/usr/lib/x86_64-linux-gnu/libc.so.6")
	EV("file", "read", "/usr/share/locale/locale.alias")
	EV("file", "read", "/etc/passwd")
	EV("file", "read", "/etc/group")
	EV("file", "read", "/etc/ld.so.cache")
	EV("file", "read", "/etc/nsswitch.conf")
	EV("file", "read", "/etc/shadow")
	EV("file", "read", "/w/src/main.c")
	EV("file", "create", "/w/build/hello")
	EV("file", "write", "/w/build/hello")
	EV("exec", "exec", "/w/build/hello")
	EV("file", "delete", "/w/old.txt")
	EV("file", "create", "/tmp/agent.Xy12ab")
	EV("file", "write", "/tmp/agent.Xy12ab")
	EV("file", "delete", "/tmp/agent.Xy12ab")
	EV("file", "read", "/proc/4242/status")
	EV("file", "read", "/proc/self/maps")
	EV("file", "write", "/dev/null")
	EV("file", "read", "/dev/pts/3")
	EV("file", "write", "/dev/pts/3")
	EV("file", "read", "/h/.gitconfig")
	EV("file", "create", "/h/.npm/_cacache/content-v2/blob")
	EV("file", "write", "/h/.npm/_cacache/content-v2/blob")
	EV("file", "read", "/h/.cache/pip/http/a/entry")
	EV("file", "create", "/var/lib/app/lock.1234")
	EV("file", "read", "/opt/tool/bin/tool");

/* Without a base: every access seen is granted; names that vary are collapsed. */
static void t_no_base(void **state)
{
	static const char want[] =
		"{\n"
		"  \"version\": 1,\n"
		"  \"name\": \"learned\",\n"
		"  \"mode\": \"enforce\",\n"
		"  \"file\": {\n"
		"    \"default\": \"deny\",\n"
		"    \"rules\": [\n"
		"      {\"path\": \"${CWD}/\", \"allow\": [\"read\", \"write\", \"create\", \"delete\", \"exec\"]},\n"
		"      {\"path\": \"${HOME}/.cache/\", \"allow\": [\"read\"]},\n"
		"      {\"path\": \"${HOME}/.gitconfig\", \"allow\": [\"read\"]},\n"
		"      {\"path\": \"${HOME}/.npm/\", \"allow\": [\"write\", \"create\"]},\n"
		"      {\"path\": \"/dev/null\", \"allow\": [\"write\"]},\n"
		"      {\"path\": \"/dev/pts/\", \"allow\": [\"read\", \"write\"]},\n"
		"      {\"path\": \"/etc/\", \"allow\": [\"read\"]},\n"
		"      {\"path\": \"/opt/tool/\", \"allow\": [\"read\"]},\n"
		"      {\"path\": \"/proc/\", \"allow\": [\"read\"]},\n"
		"      {\"path\": \"/tmp/\", \"allow\": [\"write\", \"create\", \"delete\"]},\n"
		"      {\"path\": \"/usr/bin/\", \"allow\": [\"read\", \"exec\"]},\n"
		"      {\"path\": \"/usr/lib/\", \"allow\": [\"read\", \"exec\"]},\n"
		"      {\"path\": \"/usr/share/\", \"allow\": [\"read\"]},\n"
		"      {\"path\": \"/var/lib/app/\", \"allow\": [\"create\"]}\n"
		"    ]\n"
		"  },\n"
		"  \"network\": {\n"
		"    \"default\": \"deny\",\n"
		"    \"rules\": []\n"
		"  }\n"
		"}\n";
	char *text = learn_text(NULL, WORKLOAD, NULL);

	(void)state;
	assert_string_equal(text, want);
	/* The names that vary from run to run are covered by the directories. */
	assert_string_equal(decide(text, "/tmp/agent.Zz99zz", "create"), "allow");
	assert_string_equal(decide(text, "/proc/777/status", "read"), "allow");
	assert_string_equal(decide(text, "/w/build/other.o", "create"), "allow");
	assert_string_equal(decide(text, "/usr/lib/x86_64-linux-gnu/libm.so.6", "exec"), "allow");
	/* What was not done is not granted. */
	assert_string_equal(decide(text, "/usr/share/locale/locale.alias", "exec"), "deny");
	assert_string_equal(decide(text, "/h/.bashrc", "read"), "deny");
	assert_string_equal(decide(text, "/etc/passwd", "write"), "deny");
	assert_string_equal(decide(text, "/var/lib/app/lock.1234", "read"), "deny");
	free(text);
}

/* With a base: what it denies stays denied, even what CMD did. */
static void t_base_denials_kept(void **state)
{
	static const char events[] =
		EV("file", "read", "/h/.ssh/id_ed25519")
		EV("file", "read", "/h/.ssh/config")
		EV("file", "read", "/h/.ssh/known_hosts")
		EV("file", "read", "/h/.ssh/authorized_keys")
		EV("file", "write", "/h/.ssh/authorized_keys")
		EV("file", "read", "/h/.netrc")
		EV("file", "read", "/w/.env")
		EV("file", "read", "/w/README.md")
		EV("file", "read", "/etc/passwd")
		EV("file", "read", "/etc/group")
		EV("file", "read", "/etc/hosts")
		EV("file", "read", "/etc/resolv.conf")
		EV("file", "read", "/etc/shadow")
		EV("file", "write", "/h/.bashrc");
	struct policy base;
	char *text = learn_text(BASE, events, &base);

	(void)state;
	/* Every denial of the base is in the output, as it was written. */
	assert_non_null(strstr(text, "{\"path\": \"${HOME}/.ssh/\", \"deny\": [\"read\", \"write\", \"create\", \"delete\", \"exec\"]}"));
	assert_non_null(strstr(text, "{\"path\": \"${CWD}/.env\", \"deny\": [\"read\", \"write\"]}"));
	assert_non_null(strstr(text, "{\"path\": \"/etc/shadow\", \"deny\""));
	assert_non_null(strstr(text, "{\"path\": \"/srv/\", \"deny\": [\"read\"]}"));
	/* Identity and name: from the base (the name as given to learn_build). */
	assert_non_null(strstr(text, "\"identity\": \"spiffe://t/agent\""));
	/* The secrets CMD read are denied, and nothing under ~/.ssh is allowed. */
	assert_string_equal(decide(text, "/h/.ssh/id_ed25519", "read"), "deny");
	assert_string_equal(decide(text, "/h/.ssh/config", "read"), "deny");
	assert_string_equal(decide(text, "/h/.ssh/authorized_keys", "write"), "deny");
	assert_string_equal(decide(text, "/h/.netrc", "read"), "deny");
	assert_string_equal(decide(text, "/w/.env", "read"), "deny");
	assert_null(strstr(text, "\"${HOME}/.ssh/id_ed25519\""));
	/* Four reads in /etc make /etc/ a directory rule; /etc/shadow still denied. */
	assert_string_equal(decide(text, "/etc/hostname", "read"), "allow");
	assert_string_equal(decide(text, "/etc/shadow", "read"), "deny");
	/* Outside what the base allows (default deny): not granted. */
	assert_string_equal(decide(text, "/h/.bashrc", "write"), "deny");
	assert_string_equal(decide(text, "/w/README.md", "read"), "allow");
	free(text);
	policy_free(&base);
}

/* Every base denial holds on the whole learned policy, path by path and right by right. */
static void t_never_widened(void **state)
{
	static const char *const probes[] = {
		"/h/.ssh", "/h/.ssh/id_ed25519", "/h/.ssh/sub/dir/key", "/h/.netrc", "/w/.env",
		"/etc/shadow", "/srv", "/srv/data", "/srv/x/y", "/srv/pub/a",
		"/h/.ssh2", "/w/.envrc", "/tmp/x", "/etc/passwd",
	};
	/* Reads everywhere, including all over the base-denied areas. */
	static const char events[] =
		EV("file", "read", "/h/.ssh/a") EV("file", "read", "/h/.ssh/b")
		EV("file", "read", "/h/.ssh/c") EV("file", "read", "/h/.ssh/d")
		EV("file", "read", "/srv/a") EV("file", "read", "/srv/b")
		EV("file", "read", "/srv/c") EV("file", "read", "/srv/d")
		EV("file", "read", "/srv/pub/a") EV("file", "read", "/srv/pub/b")
		EV("file", "read", "/srv/pub/c") EV("file", "read", "/srv/pub/d")
		EV("file", "create", "/h/.ssh/new") EV("file", "create", "/srv/new")
		EV("file", "read", "/w/.env") EV("file", "write", "/w/.env")
		EV("file", "read", "/etc/shadow") EV("file", "exec", "/etc/shadow")
		EV("file", "read", "/w/a") EV("file", "exec", "/tmp/x")
		EV("file", "read", "/h/.netrc") EV("file", "create", "/h/.netrc");
	struct policy base;
	char *text = learn_text(BASE, events, &base);

	(void)state;
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		for (int r = 0; r < WD_RIGHT_COUNT; r++) {
			struct wd_verdict v;

			policy_decide_reference(&base, probes[i], r, &v);
			if (v.action == WD_ACT_DENY && !strcmp(decide(text, probes[i], right_name(r)), "allow"))
				fail_msg("%s on %s: the base denies it, the learned policy allows it:\n%s",
					 right_name(r), probes[i], text);
		}
	}
	/* /srv/pub/ may be a directory rule: the base allows it there and below. */
	assert_string_equal(decide(text, "/srv/pub/e", "read"), "allow");
	assert_string_equal(decide(text, "/srv/e", "read"), "deny");
	/* "/" is never made a rule from the reads of its entries. */
	assert_null(strstr(text, "{\"path\": \"/\","));
	free(text);
	policy_free(&base);
}

/* A base that allows only exact paths: a directory rule would widen it, exact ones do not. */
static void t_exact_fallback(void **state)
{
	static const char base_text[] =
		"{\"version\": 1, \"name\": \"b\", \"file\": {\"default\": \"deny\", \"rules\": [\n"
		"  {\"path\": \"/usr/bin/tool\", \"allow\": [\"read\", \"exec\"]},\n"
		"  {\"path\": \"/usr/lib/libt.so\", \"allow\": [\"exec\"]}]}}\n";
	static const char events[] =
		EV("exec", "exec", "/usr/bin/tool") EV("file", "read", "/usr/bin/tool")
		EV("file", "exec", "/usr/lib/libt.so") EV("file", "read", "/usr/lib/libt.so");
	struct policy base;
	char *text = learn_text(base_text, events, &base);

	(void)state;
	assert_non_null(strstr(text, "{\"path\": \"/usr/bin/tool\", \"allow\": [\"read\", \"exec\"]}"));
	assert_non_null(strstr(text, "{\"path\": \"/usr/lib/libt.so\", \"allow\": [\"exec\"]}"));
	assert_null(strstr(text, "\"/usr/bin/\""));
	assert_string_equal(decide(text, "/usr/bin/other", "exec"), "deny");
	assert_string_equal(decide(text, "/usr/lib/libt.so", "read"), "deny");
	free(text);
	policy_free(&base);
}

/* Same events in any order (and repeated): the same policy, byte for byte. */
static void t_deterministic(void **state)
{
	char *lines[64], *shuffled, *a, *b, *copy = strdup(WORKLOAD);
	size_t n = 0, len = strlen(WORKLOAD);
	struct policy base1, base2;

	(void)state;
	for (char *s = strtok(copy, "\n"); s && n < 64; s = strtok(NULL, "\n"))
		lines[n++] = s;
	shuffled = calloc(1, 2 * len + 2);
	for (size_t i = n; i-- > 0;) {	/* reversed, then every line again */
		strcat(shuffled, lines[i]);
		strcat(shuffled, "\n");
	}
	for (size_t i = 0; i < n; i += 2) {
		strcat(shuffled, lines[(i * 7) % n]);
		strcat(shuffled, "\n");
	}
	a = learn_text(BASE, WORKLOAD, &base1);
	b = learn_text(BASE, shuffled, &base2);
	assert_string_equal(a, b);
	free(a);
	free(b);
	free(shuffled);
	free(copy);
	policy_free(&base1);
	policy_free(&base2);
}

static const char *net_decide(const char *text, const char *addr, int port, int proto,
			      enum net_right right)
{
	uint8_t a[16];
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	struct policy p;
	long rule;
	uint8_t act;

	assert_int_equal(inet_pton(family, addr, a), 1);
	parse_ok(text, &p);
	act = policy_net_decide(&p, family, a, port, proto, right, &rule);
	policy_free(&p);
	return act == WD_ACT_ALLOW ? "allow" : "deny";
}

/* Network events: one host and port each, ports merged into ranges; base denials kept. */
static void t_network(void **state)
{
	static const char events[] =
		NET("connect", "tcp", "93.184.216.34", "443")
		NET("connect", "tcp", "93.184.216.34", "80")
		NET("connect", "tcp", "93.184.216.34", "81")
		NET("connect", "udp", "::ffff:192.0.2.53", "53")
		NET("connect", "tcp", "2001:db8::1", "8443")
		NET("bind", "tcp", "0.0.0.0", "8080")
		NET("connect", "tcp", "10.1.2.3", "5432");
	struct policy base;
	char *text = learn_text(BASE, events, &base);

	(void)state;
	assert_non_null(strstr(text, "{\"cidr\": \"93.184.216.34/32\", \"ports\": [\"80-81\", \"443\"], \"protocol\": \"tcp\", \"allow\": [\"connect\"]}"));
	assert_non_null(strstr(text, "{\"cidr\": \"192.0.2.53/32\", \"ports\": [\"53\"], \"protocol\": \"udp\", \"allow\": [\"connect\"]}"));
	assert_non_null(strstr(text, "{\"cidr\": \"2001:db8::1/128\", \"ports\": [\"8443\"], \"protocol\": \"tcp\", \"allow\": [\"connect\"]}"));
	assert_non_null(strstr(text, "{\"cidr\": \"0.0.0.0/32\", \"ports\": [\"8080\"], \"protocol\": \"tcp\", \"allow\": [\"bind\"]}"));
	assert_non_null(strstr(text, "{\"cidr\": \"10.0.0.0/8\", \"deny\": [\"connect\"]}"));
	assert_string_equal(net_decide(text, "93.184.216.34", 443, NET_PROTO_TCP, NET_CONNECT), "allow");
	assert_string_equal(net_decide(text, "93.184.216.34", 444, NET_PROTO_TCP, NET_CONNECT), "deny");
	assert_string_equal(net_decide(text, "93.184.216.34", 443, NET_PROTO_UDP, NET_CONNECT), "deny");
	assert_string_equal(net_decide(text, "::ffff:192.0.2.53", 53, NET_PROTO_UDP, NET_CONNECT), "allow");
	assert_string_equal(net_decide(text, "10.1.2.3", 5432, NET_PROTO_TCP, NET_CONNECT), "deny");
	assert_string_equal(net_decide(text, "0.0.0.0", 8080, NET_PROTO_TCP, NET_BIND), "allow");
	assert_string_equal(net_decide(text, "0.0.0.0", 8080, NET_PROTO_TCP, NET_CONNECT), "deny");
	free(text);
	policy_free(&base);
}

/* No network event: every network right denied, raw and abstract unix sockets too. */
static void t_network_default_deny(void **state)
{
	char *text = learn_text(NULL, EV("file", "read", "/w/a"), NULL);
	struct policy p;

	(void)state;
	assert_string_equal(net_decide(text, "127.0.0.1", 80, NET_PROTO_TCP, NET_CONNECT), "deny");
	parse_ok(text, &p);
	assert_true(p.has_network);
	assert_false(p.net_raw);
	assert_false(p.net_abstract_unix);
	policy_free(&p);
	free(text);
}

/* Raw (and other non-TCP/UDP) sockets and abstract unix names: the network section's switches. */
static void t_raw_and_abstract_unix(void **state)
{
	static const char events[] =
		"{\"event\":\"network\",\"action\":\"socket\",\"protocol\":\"icmp\",\"address\":null,\"port\":null,\"decision\":\"audit\"}\n"
		"{\"event\":\"network\",\"action\":\"connect\",\"protocol\":\"unix\",\"address\":\"@/tmp/.X11-unix/X0\",\"port\":null,\"decision\":\"audit\"}\n";
	struct sbuf out = {0}, err = {0};
	struct policy p, base;
	struct learn *l;
	char *text = learn_text(NULL, events, NULL);

	(void)state;
	parse_ok(text, &p);
	assert_true(p.net_raw);
	assert_true(p.net_abstract_unix);
	policy_free(&p);
	free(text);
	/* BASE restricts the network and allows neither: both stay denied. */
	parse_ok(BASE, &base);
	l = learn_new(&base, &ENV);
	learn_events(l, events, strlen(events));
	assert_int_equal(learn_build(l, "learned", NULL, &out, &err), 0);
	parse_ok(out.buf, &p);
	assert_false(p.net_raw);
	assert_false(p.net_abstract_unix);
	policy_free(&p);
	learn_free(l);
	sb_free(&out);
	sb_free(&err);
	policy_free(&base);
}

static int build(struct learn *l, struct sbuf *err)
{
	struct sbuf out = {0};
	int ret = learn_build(l, "learned", NULL, &out, err);

	sb_free(&out);
	sb_putc(err, '\0');
	return ret;
}

/* Lost events, or events on learn's own files: no policy (fail closed). */
static void t_refuse_incomplete(void **state)
{
	static const char lost[] = EV("file", "read", "/w/a")
		"{\"event\":\"lost\",\"count\":3,\"reason\":\"ringbuf_full\"}\n";
	static const char guarded[] = EV("file", "write", "/tmp/warden-learn.abc/events.jsonl");
	struct sbuf err = {0};
	struct learn *l = learn_new(NULL, &ENV);

	(void)state;
	learn_events(l, lost, strlen(lost));
	assert_int_equal(build(l, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "3 events were lost"));
	learn_free(l);
	sb_free(&err);

	l = learn_new(NULL, &ENV);
	learn_guard(l, "/tmp/warden-learn.abc");
	learn_events(l, guarded, strlen(guarded));
	assert_int_equal(build(l, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "touched learn's own files"));
	learn_free(l);
	sb_free(&err);
}

/* What no rule can grant is left out; lines that are not events are counted, not fatal. */
static void t_unlearnable(void **state)
{
	static const char events[] =
		"{\"event\":\"file\",\"action\":\"read\",\"path\":\"/x/trunc\",\"decision\":\"audit\",\"path_truncated\":true}\n"
		"{\"event\":\"file\",\"action\":\"read\",\"path\":\"\",\"decision\":\"audit\",\"path_unresolved\":true}\n"
		"{\"event\":\"file\",\"action\":\"create\",\"path\":\"/w/link\",\"decision\":\"audit\",\"rule\":null,\"reason\":\"rename or link would widen access\"}\n"
		"{\"event\":\"tamper\",\"action\":\"ptrace\",\"decision\":\"audit\",\"rule\":\"protection\"}\n"
		"{\"event\":\"exec\",\"action\":\"exec\",\"path\":\"/memfd:x (deleted)\",\"decision\":\"audit\",\"fileless\":true}\n"
		"{\"event\":\"file\",\"action\":\"read\",\"path\":\"/w/${HOME}\",\"decision\":\"audit\"}\n"
		"not an event\n"
		"{\"event\":\"file\",\"action\":\"fly\",\"path\":\"/w/a\"}\n"
		"{\"event\":\"network\",\"action\":\"connect\",\"protocol\":\"sctp\",\"address\":\"192.0.2.1\",\"port\":1}\n";
	struct sbuf out = {0}, err = {0};
	struct learn *l = learn_new(NULL, &ENV);

	(void)state;
	assert_int_equal(learn_events(l, events, strlen(events)), 3);
	assert_int_equal(learn_build(l, "learned", NULL, &out, &err), 0);
	assert_string_equal(out.buf,
			    "{\n  \"version\": 1,\n  \"name\": \"learned\",\n  \"mode\": \"enforce\",\n"
			    "  \"file\": {\n    \"default\": \"deny\",\n"
			    "    \"fileless_exec\": \"allow\",\n    \"rules\": []\n  },\n"
			    "  \"network\": {\n    \"default\": \"deny\",\n    \"rules\": []\n  }\n}\n");
	learn_free(l);
	sb_free(&out);
	sb_free(&err);
}

/* A base that does not allow fileless exec keeps it denied. */
static void t_fileless_bounded(void **state)
{
	struct policy base;
	char *text = learn_text(BASE, "{\"event\":\"exec\",\"action\":\"exec\",\"path\":\"/memfd:x\",\"fileless\":true}\n",
				&base);

	(void)state;
	assert_null(strstr(text, "fileless_exec"));
	free(text);
	policy_free(&base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_no_base),
		cmocka_unit_test(t_base_denials_kept),
		cmocka_unit_test(t_never_widened),
		cmocka_unit_test(t_exact_fallback),
		cmocka_unit_test(t_deterministic),
		cmocka_unit_test(t_network),
		cmocka_unit_test(t_network_default_deny),
		cmocka_unit_test(t_raw_and_abstract_unix),
		cmocka_unit_test(t_refuse_incomplete),
		cmocka_unit_test(t_unlearnable),
		cmocka_unit_test(t_fileless_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
