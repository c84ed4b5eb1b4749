// SPDX-License-Identifier: GPL-2.0
/* The "network" section: parsing, errors with positions, and the decision. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "netcompile.h"
#include "policy.h"

static const struct policy_env ENV = { .cwd = "/w", .home = "/h" };

static int parse(const char *text, struct policy *p, struct sbuf *err)
{
	return policy_parse("n.json", text, strlen(text), &ENV, p, err);
}

static void expect_error(const char *text, const char *want)
{
	struct sbuf err = {0};
	struct policy p;

	assert_int_equal(parse(text, &p, &err), -EINVAL);
	sb_putc(&err, '\0');
	if (!strstr(err.buf, want))
		fail_msg("want \"%s\" in:\n%s", want, err.buf);
	sb_free(&err);
	policy_free(&p);
}

static const char *decide(const struct policy *p, const char *addr, int port, int proto,
			  enum net_right right, long *rule)
{
	uint8_t a[16];
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(family, addr, a), 1);
	return policy_net_decide(p, family, a, port, proto, right, rule) == WD_ACT_ALLOW ? "allow"
											 : "deny";
}

static const char CONTRACT[] =
	"{\"version\": 1, \"name\": \"n\", \"network\": {\"default\": \"deny\", \"rules\": [\n"
	" {\"cidr\": \"127.0.0.0/8\", \"allow\": [\"connect\"]},\n"
	" {\"cidr\": \"10.20.0.0/16\", \"ports\": [\"443\", \"8000-8080\"], \"protocol\": \"tcp\", \"allow\": [\"connect\"]},\n"
	" {\"host\": \"api.github.com\", \"ports\": [\"443\"], \"allow\": [\"connect\"]},\n"
	" {\"cidr\": \"0.0.0.0/0\", \"ports\": [\"8080\"], \"protocol\": \"tcp\", \"allow\": [\"bind\"]},\n"
	" {\"cidr\": \"10.20.30.0/24\", \"deny\": [\"connect\"]},\n"
	" {\"cidr\": \"2001:db8::/32\", \"allow\": [\"connect\"], \"audit\": true},\n"
	" {\"cidr\": \"2001:db8::/32\", \"deny\": [\"bind\"]}\n"
	"]}}\n";

static void t_contract_example(void **state)
{
	struct sbuf err = {0};
	struct policy p;
	long rule;

	(void)state;
	assert_int_equal(parse(CONTRACT, &p, &err), 0);
	assert_true(p.has_network);
	assert_int_equal(p.nnet, 7);
	assert_int_equal(p.net_default, WD_ACT_DENY);
	assert_false(p.net_raw);
	assert_true(p.net_rules[2].is_host);
	assert_string_equal(p.net_rules[2].host, "api.github.com");
	assert_int_equal(p.net_rules[1].nports, 2);
	assert_int_equal(p.net_rules[1].ports[1].lo, 8000);
	assert_int_equal(p.net_rules[1].ports[1].hi, 8080);

	assert_string_equal(decide(&p, "127.1.2.3", 22, NET_PROTO_TCP, NET_CONNECT, &rule), "allow");
	assert_int_equal(rule, 0);
	assert_string_equal(decide(&p, "10.20.1.1", 443, NET_PROTO_TCP, NET_CONNECT, &rule), "allow");
	assert_string_equal(decide(&p, "10.20.1.1", 8080, NET_PROTO_TCP, NET_CONNECT, &rule), "allow");
	assert_string_equal(decide(&p, "10.20.1.1", 8081, NET_PROTO_TCP, NET_CONNECT, &rule), "deny");
	assert_int_equal(rule, -1);
	assert_string_equal(decide(&p, "10.20.1.1", 443, NET_PROTO_UDP, NET_CONNECT, &rule), "deny");
	/* Longest prefix: the /24 deny beats the /16 allow. */
	assert_string_equal(decide(&p, "10.20.30.4", 443, NET_PROTO_TCP, NET_CONNECT, &rule), "deny");
	assert_int_equal(rule, 4);
	/* v4-mapped v6 is judged as IPv4. */
	assert_string_equal(decide(&p, "::ffff:127.0.0.1", 1, NET_PROTO_TCP, NET_CONNECT, &rule), "allow");
	assert_string_equal(decide(&p, "::ffff:10.20.30.4", 443, NET_PROTO_TCP, NET_CONNECT, &rule), "deny");
	/* Rights are separate. */
	assert_string_equal(decide(&p, "127.0.0.1", 8080, NET_PROTO_TCP, NET_BIND, &rule), "allow");
	assert_int_equal(rule, 3);
	assert_string_equal(decide(&p, "127.0.0.1", 8081, NET_PROTO_TCP, NET_BIND, &rule), "deny");
	assert_string_equal(decide(&p, "2001:db8::1", 80, NET_PROTO_TCP, NET_CONNECT, &rule), "allow");
	assert_string_equal(decide(&p, "2001:db8::1", 80, NET_PROTO_TCP, NET_BIND, &rule), "deny");
	assert_int_equal(rule, 6);
	/* Host rules never decide an address by themselves. */
	assert_string_equal(decide(&p, "140.82.112.6", 443, NET_PROTO_TCP, NET_CONNECT, &rule), "deny");
	policy_free(&p);
	sb_free(&err);
}

static void t_deny_wins_tie(void **state)
{
	struct sbuf err = {0};
	struct policy p;
	long rule;

	(void)state;
	assert_int_equal(parse("{\"version\": 1, \"name\": \"n\", \"network\": {\"rules\": [\n"
			       " {\"cidr\": \"10.0.0.0/8\", \"allow\": [\"connect\"]},\n"
			       " {\"cidr\": \"10.0.0.0/8\", \"ports\": [\"22\"], \"deny\": [\"connect\"]}]}}\n",
			       &p, &err), 0);
	assert_string_equal(decide(&p, "10.1.1.1", 22, NET_PROTO_TCP, NET_CONNECT, &rule), "deny");
	assert_int_equal(rule, 1);
	assert_string_equal(decide(&p, "10.1.1.1", 23, NET_PROTO_TCP, NET_CONNECT, &rule), "allow");
	/* No default: allow. */
	assert_string_equal(decide(&p, "192.0.2.1", 1, NET_PROTO_UDP, NET_CONNECT, &rule), "allow");
	policy_free(&p);
	sb_free(&err);
}

#define NET(rules) "{\"version\": 1, \"name\": \"n\", \"network\": {\"rules\": [\n" rules "\n]}}\n"

static void t_errors(void **state)
{
	(void)state;
	expect_error(NET(" {\"cidr\": \"10.0.0.1/8\", \"allow\": [\"connect\"]}"),
		     "n.json:2:11: cidr \"10.0.0.1/8\" has bits set after the /8 prefix");
	expect_error(NET(" {\"cidr\": \"10.0.0.0/33\", \"allow\": [\"connect\"]}"),
		     "n.json:2:11: cidr \"10.0.0.0/33\": the prefix length must be a number from 0 to 32");
	expect_error(NET(" {\"cidr\": \"10.0.0.300\", \"allow\": [\"connect\"]}"),
		     "is not an IPv4 or IPv6 address");
	expect_error(NET(" {\"cidr\": \"::1/129\", \"allow\": [\"connect\"]}"), "from 0 to 128");
	expect_error(NET(" {\"host\": \"a..b\", \"allow\": [\"connect\"]}"), "n.json:2:11: host \"a..b\"");
	expect_error(NET(" {\"host\": \"a.*.b\", \"allow\": [\"connect\"]}"), "'*' is not allowed");
	expect_error(NET(" {\"host\": \"-a.b\", \"allow\": [\"connect\"]}"), "inner hyphens");
	expect_error(NET(" {\"cidr\": \"10.0.0.0/8\", \"host\": \"a.b\", \"allow\": [\"connect\"]}"),
		     "n.json:2:2: network.rules[0] needs exactly one of \"cidr\" and \"host\"");
	expect_error(NET(" {\"allow\": [\"connect\"]}"), "needs exactly one of");
	expect_error(NET(" {\"cidr\": \"10.0.0.0/8\", \"ports\": [\"9-2\"], \"allow\": [\"connect\"]}"),
		     "n.json:2:35: port range \"9-2\" is backwards");
	expect_error(NET(" {\"cidr\": \"10.0.0.0/8\", \"ports\": [\"65536\"], \"allow\": [\"connect\"]}"),
		     "from 0 to 65535");
	expect_error(NET(" {\"cidr\": \"10.0.0.0/8\", \"ports\": [443], \"allow\": [\"connect\"]}"),
		     "a port must be a string");
	expect_error(NET(" {\"cidr\": \"10.0.0.0/8\", \"ports\": [], \"allow\": [\"connect\"]}"),
		     "ports must list 1 to 64 entries");
	expect_error(NET(" {\"cidr\": \"10.0.0.0/8\", \"protocol\": \"icmp\", \"allow\": [\"connect\"]}"),
		     "\"icmp\" is not one of any");
	expect_error(NET(" {\"cidr\": \"10.0.0.0/8\", \"allow\": [\"listen\"]}"),
		     "unknown network right \"listen\" (known: connect, bind)");
	expect_error(NET(" {\"cidr\": \"10.0.0.0/8\", \"allow\": [\"connect\"], \"deny\": [\"connect\"]}"),
		     "both allows and denies the same right");
	expect_error(NET(" {\"cidr\": \"10.0.0.0/8\"}"), "has neither \"allow\" nor \"deny\"");
	expect_error(NET(" {\"cidr\": \"10.0.0.0/8\", \"allow\": [\"connect\"], \"port\": [\"1\"]}"),
		     "n.json:2:47: unknown key \"port\" in network.rules[0]");
	expect_error("{\"version\": 1, \"name\": \"n\", \"network\": {\"default\": \"block\"}}",
		     "network.default: \"block\" is not one of allow or deny");
	expect_error("{\"version\": 1, \"name\": \"n\", \"network\": {\"raw\": true}}",
		     "network.raw must be a string");
	expect_error("{\"version\": 1, \"name\": \"n\", \"network\": []}", "\"network\" must be an object");
}

static void t_host_forms(void **state)
{
	struct sbuf err = {0};
	struct policy p;

	(void)state;
	assert_int_equal(parse(NET(" {\"host\": \"*.Example.COM.\", \"allow\": [\"connect\"]}"), &p, &err), 0);
	assert_true(p.net_rules[0].wildcard);
	assert_string_equal(p.net_rules[0].host, "example.com");
	policy_free(&p);
	assert_int_equal(parse("{\"version\": 1, \"name\": \"n\", \"network\": {\"raw\": \"allow\"}}", &p,
			       &err), 0);
	assert_true(p.net_raw);
	assert_true(p.has_network);
	policy_free(&p);
	sb_free(&err);
}

/*
 * The compiled LPM nodes must reach the contract's decision (and the same
 * deciding rule) for every address, port, protocol and right: random
 * policies over a small address space, so prefixes nest and overlap.
 */
static unsigned rnd_state = 12345;

static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245 + 12345;
	return (rnd_state >> 8) % n;
}

static void random_policy(struct sbuf *sb)
{
	static const char *const protos[] = { "any", "tcp", "udp" };
	int n = 1 + rnd(24);

	sb_printf(sb, "{\"version\": 1, \"name\": \"r\", \"network\": {\"default\": \"%s\", \"rules\": [",
		  rnd(2) ? "deny" : "allow");
	for (int i = 0; i < n; i++) {
		int v6 = rnd(4) == 0, prefix = v6 ? 120 + rnd(9) : 24 + rnd(9);
		unsigned host = rnd(256) & (prefix % 8 || prefix == (v6 ? 128 : 32) ? 0xff : 0);
		unsigned bits = (v6 ? 128 : 32) - prefix;

		host &= ~((1u << bits) - 1) & 0xff;
		if (prefix == (v6 ? 120 : 24))
			host = 0;
		if (v6)
			sb_printf(sb, "%s{\"cidr\": \"fd00::%x/%d\"", i ? "," : "", host, prefix);
		else
			sb_printf(sb, "%s{\"cidr\": \"10.0.0.%u/%d\"", i ? "," : "", host, prefix);
		if (rnd(2)) {
			int lo = rnd(8), hi = lo + rnd(4);

			sb_printf(sb, ", \"ports\": [\"%d-%d\"%s]", lo, hi, rnd(3) ? "" : ", \"20\"");
		}
		sb_printf(sb, ", \"protocol\": \"%s\", \"%s\": [\"%s\"]}", protos[rnd(3)],
			  rnd(2) ? "allow" : "deny", rnd(3) ? "connect" : "bind");
	}
	sb_puts(sb, "]}}");
	sb_putc(sb, '\0');
}

static void t_compiled_matches_contract(void **state)
{
	(void)state;
	for (int round = 0; round < 300; round++) {
		struct sbuf text = {0}, err = {0};
		struct net_compiled c;
		struct policy p;

		random_policy(&text);
		if (parse(text.buf, &p, &err)) {
			sb_putc(&err, '\0');
			fail_msg("generated policy rejected: %s\n%s", err.buf, text.buf);
		}
		assert_int_equal(net_compile(&p, 7, &c, &err), 0);
		for (int q = 0; q < 400; q++) {
			uint8_t a[16] = {0};
			int v6 = rnd(3) == 0, family = v6 ? AF_INET6 : AF_INET;
			uint16_t port = rnd(24);
			uint8_t proto = 1 + rnd(2);
			enum net_right right = rnd(2) ? NET_CONNECT : NET_BIND;
			long want_rule, got_rule;
			uint8_t want, got;

			if (v6) {
				a[0] = 0xfd;
				a[15] = rnd(256);
			} else {
				a[0] = 10;
				a[3] = rnd(256);
			}
			want = policy_net_decide(&p, family, a, port, proto, right, &want_rule);
			got = net_compiled_decide(&c, family, a, port, proto, right, &got_rule);
			if (want != got || want_rule != got_rule)
				fail_msg("%s: addr byte %u port %u proto %u right %d: contract %u rule %ld, compiled %u rule %ld",
					 text.buf, a[v6 ? 15 : 3], port, proto, right, want, want_rule, got,
					 got_rule);
		}
		net_compiled_free(&c);
		policy_free(&p);
		sb_free(&text);
		sb_free(&err);
	}
}

/* Too many rules over one address range: a precise error, never a truncation. */
static void t_compile_overlap_limit(void **state)
{
	struct sbuf text = {0}, err = {0};
	struct net_compiled c;
	struct policy p;

	(void)state;
	sb_puts(&text, "{\"version\": 1, \"name\": \"o\", \"network\": {\"rules\": [");
	for (int i = 0; i <= WD_NET_ENTRIES; i++)
		sb_printf(&text, "%s\n{\"cidr\": \"10.0.0.0/%d\", \"ports\": [\"%d\"], \"allow\": [\"connect\"]}",
			  i ? "," : "", 8 + i % 24, i);
	sb_puts(&text, "]}}");
	sb_putc(&text, '\0');
	assert_int_equal(parse(text.buf, &p, &err), 0);
	assert_int_equal(net_compile(&p, 0, &c, &err), -E2BIG);
	sb_putc(&err, '\0');
	if (!strstr(err.buf, "n.json:") || !strstr(err.buf, "cover the same addresses"))
		fail_msg("unexpected error: %s", err.buf);
	policy_free(&p);
	sb_free(&text);
	sb_free(&err);
}

static void t_host_rule_cannot_bind(void **state)
{
	(void)state;
	expect_error("{\"version\": 1, \"name\": \"h\", \"network\": {\"rules\": [{\"host\": \"a.example\", \"allow\": [\"bind\"]}]}}",
		     "a host rule can only name \"connect\"");
	expect_error("{\"version\": 1, \"name\": \"h\", \"network\": {\"abstract_unix\": \"maybe\"}}",
		     "network.abstract_unix");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_contract_example),
		cmocka_unit_test(t_deny_wins_tie),
		cmocka_unit_test(t_errors),
		cmocka_unit_test(t_host_forms),
		cmocka_unit_test(t_compiled_matches_contract),
		cmocka_unit_test(t_compile_overlap_limit),
		cmocka_unit_test(t_host_rule_cannot_bind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
