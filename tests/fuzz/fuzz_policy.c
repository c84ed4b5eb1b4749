// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: policy text (version 1 or MXC "1.0.0") through
 * policy_parse(), and for every accepted policy policy_compile(), then
 * compiled_decide() checked against policy_decide_reference() on paths the
 * policy itself names (the differential the unit tests run, on inputs the
 * fuzzer makes), and policy_net_decide() on a few addresses.
 * Any disagreement aborts: a wrong decision is a bug as much as a crash.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxc.h"
#include "policy.h"

#define PATHS_MAX 48	/* decisions per input: keep each run fast */

static const struct policy_env ENV = { .cwd = "/work/project", .home = "/home/agent" };

static void fail(const char *what, const char *path, int right, const struct wd_verdict *c,
		 const struct wd_verdict *r)
{
	fprintf(stderr, "fuzz_policy: %s: %s right %d: compiled action %u rule %u audit %u, reference action %u rule %u audit %u\n",
		what, path, right, c->action, c->rule, c->audit, r->action, r->rule, r->audit);
	abort();
}

static void check_path(const struct policy *p, const struct compiled *c, const char *path)
{
	for (int r = 0; r < WD_RIGHT_COUNT; r++) {
		struct wd_verdict vc = {0}, vr = {0};

		if (compiled_decide(c, path, r, &vc))
			fail("compiled_decide failed", path, r, &vc, &vr);
		policy_decide_reference(p, path, r, &vr);
		if (vc.action != vr.action || vc.rule != vr.rule || vc.audit != vr.audit)
			fail("compiled tree and reference disagree", path, r, &vc, &vr);
		if (vc.action != WD_ACT_ALLOW && vc.action != WD_ACT_DENY)
			fail("undecided", path, r, &vc, &vr);
	}
}

/* "/", each rule path, a child of it and its parent: where decisions change. */
static void check_files(const struct policy *p, const struct compiled *c)
{
	char buf[WD_PATH_MAX + 8];
	size_t n = p->nrules < PATHS_MAX / 3 ? p->nrules : PATHS_MAX / 3;

	check_path(p, c, "/");
	check_path(p, c, "/nonexistent/x");
	for (size_t i = 0; i < n; i++) {
		const char *path = p->rules[i].path;
		char *slash;

		check_path(p, c, path);
		snprintf(buf, sizeof(buf), "%s/x", strcmp(path, "/") ? path : "");
		check_path(p, c, buf);
		snprintf(buf, sizeof(buf), "%s", path);
		slash = strrchr(buf, '/');
		if (slash && slash != buf) {
			*slash = '\0';
			check_path(p, c, buf);
		}
	}
}

static void check_net(const struct policy *p)
{
	static const char *const addrs[] = { "127.0.0.1", "10.1.2.3", "192.168.0.1", "8.8.8.8",
					     "::1", "::ffff:10.1.2.3", "2001:db8::1", "fe80::1" };
	static const uint16_t ports[] = { 0, 22, 53, 443, 65535 };
	uint8_t addr[16];

	for (size_t a = 0; a < sizeof(addrs) / sizeof(addrs[0]); a++) {
		int family = strchr(addrs[a], ':') ? AF_INET6 : AF_INET;

		if (inet_pton(family, addrs[a], addr) != 1)
			abort();
		for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
			for (int r = 0; r < NET_RIGHT_COUNT; r++) {
				long rule;
				uint8_t act = policy_net_decide(p, family, addr, ports[i],
								i & 1 ? NET_PROTO_UDP : NET_PROTO_TCP,
								r, &rule);

				if ((act != WD_ACT_ALLOW && act != WD_ACT_DENY) || rule < -1 ||
				    rule >= (long)p->nnet) {
					fprintf(stderr, "fuzz_policy: net %s port %u: action %u rule %ld of %zu\n",
						addrs[a], ports[i], act, rule, p->nnet);
					abort();
				}
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct sbuf err = {0};
	struct compiled c = {0};
	struct policy p;
	const char *const *notes;
	size_t nnotes;

	memcpy(text, data, size);
	text[size] = '\0';
	if (policy_parse("fuzz.json", text, size, &ENV, &p, &err) == 0) {
		/* An accepted policy never carries an error message. */
		if (err.len)
			abort();
		nnotes = policy_notes(&p, &notes);
		for (size_t i = 0; i < nnotes; i++)
			if (!strlen(notes[i]))
				abort();
		check_net(&p);
		if (policy_compile(&p, 1, &c, &err) == 0)
			check_files(&p, &c);
		else if (!err.len)
			abort();	/* a refusal always says why */
		compiled_free(&c);
	} else if (!err.len) {
		abort();		/* a rejection always says why */
	}
	policy_free(&p);
	sb_free(&err);
	free(text);
	return 0;
}
