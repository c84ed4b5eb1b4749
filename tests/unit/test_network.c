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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_contract_example),
		cmocka_unit_test(t_deny_wins_tie),
		cmocka_unit_test(t_errors),
		cmocka_unit_test(t_host_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
