// SPDX-License-Identifier: GPL-2.0
/*
 * MXC containment policy import (user/mxc.c): a "version": "1.0.0" file
 * parses into the struct policy a version 1 file would give, its
 * filesystem lists decide as the mapping in mxc.c says (through
 * policy_compile() and compiled_decide(), checked against
 * policy_decide_reference() too), fields Warden cannot honour give notes
 * with FILE:LINE:COL, errors have the exact FILE:LINE:COL prefix, and
 * has_network follows MXC's deny-by-default network.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mxc.h"
#include "policy.h"

#define F "mxc.json"
#define ALLOW WD_ACT_ALLOW
#define DENY WD_ACT_DENY
#define RD WD_RIGHT_READ
#define WR WD_RIGHT_WRITE
#define CR WD_RIGHT_CREATE
#define DL WD_RIGHT_DELETE
#define EX WD_RIGHT_EXEC

static const struct policy_env ENV = { .cwd = "/home/u/proj", .home = "/home/u" };

/* The example of the MXC facts (shared/mxc-policy-1.0.0.md), one key per line. */
static const char EXAMPLE[] =
	"{\n"								/* 1 */
	"  \"version\": \"1.0.0\",\n"					/* 2 */
	"  \"containment\": \"process\",\n"				/* 3 */
	"  \"process\": { \"commandLine\": \"/bin/sh -c \\\"echo hello\\\"\" },\n" /* 4 */
	"  \"filesystem\": { \"readonlyPaths\": [\"/srv/inputs\"], \"readwritePaths\": [\"/srv/work\"], \"deniedPaths\": [\"/srv/work/secrets\"] },\n" /* 5 */
	"  \"network\": {\n"						/* 6 */
	"    \"egress\": { \"default\": \"deny\",\n"			/* 7 */
	"      \"allow\": [{ \"to\": [{ \"cidr\": \"192.0.2.0/24\", \"except\": [\"192.0.2.7/32\"] }], \"ports\": [{ \"protocol\": \"tcp\", \"port\": 443 }] }] },\n" /* 8 */
	"    \"ingress\": { \"default\": \"deny\", \"hostLoopback\": \"deny\" }\n" /* 9 */
	"  }\n"								/* 10 */
	"}\n";

struct result {
	int rc;
	struct policy p;
	char *err;	/* NUL-terminated copy of the error text ("" if none) */
};

static void parse_file(const char *file, const char *text, struct result *r)
{
	struct sbuf err = {0};

	r->rc = policy_parse(file, text, strlen(text), &ENV, &r->p, &err);
	r->err = strndup(err.buf ? err.buf : "", err.len);
	sb_free(&err);
}

static void result_free(struct result *r)
{
	policy_free(&r->p);
	free(r->err);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The parse succeeds with no error message; the caller inspects and frees @r. */
static void expect_ok_file(const char *file, const char *text, struct result *r)
{
	parse_file(file, text, r);
	if (r->rc != 0 || r->err[0]) {
		print_error("text:\n%s\nexpected success, got rc %d, errors:\n%s\n", text, r->rc,
			    r->err);
		result_free(r);
		fail();
	}
}

static void expect_ok(const char *text, struct result *r)
{
	expect_ok_file(F, text, r);
}

/* Is there a line in @text that starts with @prefix and has @needle after it? */
static bool has_line(const char *text, const char *prefix, const char *needle)
{
	const char *line = text;

	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		char *l = strndup(line, n);
		bool ok = !strncmp(l, prefix, strlen(prefix)) && strstr(l + strlen(prefix), needle);

		free(l);
		if (ok)
			return true;
		line += n + (nl ? 1 : 0);
	}
	return false;
}

/* The parse fails with exactly one error, "@prefix...@needle...". */
static void expect_error(const char *text, const char *prefix, const char *needle)
{
	struct result r;
	bool ok;

	parse_file(F, text, &r);
	ok = r.rc == -EINVAL && count_lines(r.err) == 1 && has_line(r.err, prefix, needle);
	if (!ok)
		print_error("text:\n%s\nexpected rc %d and one error \"%s...%s...\"\ngot rc %d, errors:\n%s\n",
			    text, -EINVAL, prefix, needle, r.rc, r.err);
	result_free(&r);
	if (!ok)
		fail();
}

/* All notes of @p, one per line. */
static char *notes_text(const struct policy *p)
{
	const char *const *v;
	size_t n = policy_notes(p, &v);
	struct sbuf sb = {0};

	for (size_t i = 0; i < n; i++)
		sb_printf(&sb, "%s\n", v[i]);
	sb_putc(&sb, '\0');
	return sb.buf;
}

/* @p has a note "@prefix...@needle...". */
static void expect_note(const struct policy *p, const char *prefix, const char *needle)
{
	char *t = notes_text(p);

	if (!has_line(t, prefix, needle)) {
		print_error("missing note \"%s...%s...\"; the notes are:\n%s", prefix, needle, t);
		free(t);
		fail();
	}
	free(t);
}

/* "FILE:LINE:COL: " of the first byte of @needle in @text (counted here, 1-based). */
static const char *pos_of(const char *text, const char *needle)
{
	static char buf[4][64];
	static int k;
	const char *at = strstr(text, needle);
	int line = 1, col = 1;

	assert_non_null(at);
	for (const char *c = text; c < at; c++) {
		if (*c == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), F ":%d:%d: ", line, col);
	return buf[k];
}

/* ---- decisions ------------------------------------------------------------ */

struct compiled_policy {
	struct result r;
	struct compiled c;
};

static void compile_ok(const char *file, const char *text, struct compiled_policy *cp)
{
	struct sbuf err = {0};
	int rc;

	expect_ok_file(file, text, &cp->r);
	rc = policy_compile(&cp->r.p, 1, &cp->c, &err);
	if (rc) {
		sb_putc(&err, '\0');
		print_error("policy_compile: %d: %s\n", rc, err.buf);
		sb_free(&err);
		fail();
	}
	sb_free(&err);
}

static void compiled_policy_free(struct compiled_policy *cp)
{
	compiled_free(&cp->c);
	result_free(&cp->r);
}

/* compiled_decide() gives @action for @right on @path, and so does the reference. */
static void expect_decision(const struct compiled_policy *cp, const char *path, enum wd_right right,
			    uint8_t action)
{
	struct wd_verdict v, ref;

	assert_int_equal(compiled_decide(&cp->c, path, right, &v), 0);
	policy_decide_reference(&cp->r.p, path, right, &ref);
	if (v.action != action || ref.action != action || v.rule != ref.rule) {
		print_error("%s %s: expected %s; compiled %s by rule %u, reference %s by rule %u\n",
			    right_name(right), path, action == ALLOW ? "allow" : "deny",
			    v.action == ALLOW ? "allow" : "deny", v.rule,
			    ref.action == ALLOW ? "allow" : "deny", ref.rule);
		fail();
	}
}

static void expect_rights(const struct compiled_policy *cp, const char *path, const char *rwcdx)
{
	for (int r = 0; r < WD_RIGHT_COUNT; r++)
		expect_decision(cp, path, r, rwcdx[r] == '-' ? DENY : ALLOW);
}

/* ---- tests ------------------------------------------------------------------ */

static void t_example_parses(void **state)
{
	struct result r;

	(void)state;
	expect_ok(EXAMPLE, &r);
	assert_string_equal(r.p.name, "mxc");
	assert_null(r.p.identity);
	assert_int_equal(r.p.mode, WD_MODE_ENFORCE);
	assert_int_equal(r.p.file_default, DENY);
	assert_false(r.p.fileless_exec);
	assert_true(r.p.has_network);
	assert_int_equal(r.p.nrules, 4);
	/* rules[0]: the baseline, then the lists in file order. */
	assert_string_equal(r.p.rules[0].path, "/");
	assert_true(r.p.rules[0].subtree);
	assert_int_equal(r.p.rules[0].allow, (1u << RD) | (1u << EX));
	assert_int_equal(r.p.rules[0].deny, 0);
	assert_string_equal(r.p.rules[1].path, "/srv/inputs");
	assert_string_equal(r.p.rules[2].path, "/srv/work");
	assert_string_equal(r.p.rules[3].path, "/srv/work/secrets");
	/* Each rule is where its path string is. */
	assert_int_equal(r.p.rules[1].line, 5);
	assert_int_equal(r.p.rules[1].col, 37);
	assert_int_equal(r.p.rules[3].line, 5);
	assert_int_equal(r.p.rules[3].col, 102);
	result_free(&r);
}

static void t_example_decisions(void **state)
{
	struct compiled_policy cp;

	(void)state;
	compile_ok(F, EXAMPLE, &cp);
	/*                                 rwcdx */
	expect_rights(&cp, "/srv/work", "rwcdx");
	expect_rights(&cp, "/srv/work/file", "rwcdx");
	expect_rights(&cp, "/srv/work/a/b/c", "rwcdx");
	expect_rights(&cp, "/srv/work/secrets", "-----");
	expect_rights(&cp, "/srv/work/secrets/x", "-----");
	expect_rights(&cp, "/srv/inputs/x", "r---x");
	expect_rights(&cp, "/srv/inputs", "r---x");
	expect_rights(&cp, "/etc/passwd", "r---x");
	expect_rights(&cp, "/srv/workshop", "r---x");
	expect_rights(&cp, "/", "r---x");
	/* The brief's four, by name. */
	expect_decision(&cp, "/srv/work/file", WR, ALLOW);
	expect_decision(&cp, "/srv/work/secrets/x", RD, DENY);
	expect_decision(&cp, "/srv/inputs/x", WR, DENY);
	expect_decision(&cp, "/srv/inputs/x", RD, ALLOW);
	expect_decision(&cp, "/etc/passwd", RD, ALLOW);
	expect_decision(&cp, "/etc/passwd", WR, DENY);
	compiled_policy_free(&cp);
}

static void t_example_notes(void **state)
{
	struct result r;

	(void)state;
	expect_ok(EXAMPLE, &r);
	/* Counted by hand: keys at these lines and columns. */
	expect_note(&r.p, F ":3:3: ", "containment \"process\"");
	expect_note(&r.p, F ":4:16: ", "process.commandLine");
	expect_note(&r.p, F ":8:52: ", "network.egress.allow[0].to[0].except");
	expect_note(&r.p, F ":9:18: ", "network.ingress.default");
	expect_note(&r.p, F ":9:37: ", "network.ingress.hostLoopback");
	expect_note(&r.p, F ":6:3: ", "network: outbound traffic is denied by default");
	{
		const char *const *v;

		assert_int_equal(policy_notes(&r.p, &v), 6);
	}
	result_free(&r);
}

static void t_unsupported_notes(void **state)
{
	static const char text[] =
		"{\n"
		"  \"version\": \"1.0.0\",\n"
		"  \"containment\": \"lxc\",\n"
		"  \"process\": {\n"
		"    \"commandLine\": \"make\",\n"
		"    \"cwd\": \"/srv/work\",\n"
		"    \"env\": [\"A=1\"],\n"
		"    \"inheritDefaultEnv\": true,\n"
		"    \"timeout\": 60000\n"
		"  },\n"
		"  \"ui\": {\"disable\": true, \"clipboard\": \"none\", \"injection\": false},\n"
		"  \"lifecycle\": {\"destroyOnExit\": true, \"preservePolicy\": false},\n"
		"  \"fallback\": {\"allowDaclMutation\": false},\n"
		"  \"runtimeConfig\": {\"networkProxy\": \"http://127.0.0.1:3128\"},\n"
		"  \"telemetry\": {\"enabled\": false},\n"
		"  \"containerId\": \"c1\",\n"
		"  \"$schema\": \"https://example.org/s.json\",\n"
		"  \"_comment\": \"annotations are accepted silently\",\n"
		"  \"lxc\": {\"distribution\": \"debian\", \"release\": \"12\"},\n"
		"  \"processContainer\": {\"learningMode\": true},\n"
		"  \"seatbelt\": {},\n"
		"  \"bubblewrap\": {},\n"
		"  \"network\": {\n"
		"    \"egress\": {\"default\": \"allow\", \"allow\": [{\"ports\": [{\"protocol\": \"icmp\"}]}]},\n"
		"    \"ingress\": {\"default\": \"allow\", \"hostLoopback\": \"allow\"}\n"
		"  }\n"
		"}\n";
	static const char *const fields[][2] = {
		{ "\"containment\"", "containment \"lxc\"" },
		{ "\"commandLine\"", "process.commandLine" },
		{ "\"cwd\"", "process.cwd" },
		{ "\"env\"", "process.env" },
		{ "\"inheritDefaultEnv\"", "process.inheritDefaultEnv" },
		{ "\"disable\"", "ui.disable" },
		{ "\"clipboard\"", "ui.clipboard" },
		{ "\"injection\"", "ui.injection" },
		{ "\"destroyOnExit\"", "lifecycle.destroyOnExit" },
		{ "\"preservePolicy\"", "lifecycle.preservePolicy" },
		{ "\"allowDaclMutation\"", "fallback.allowDaclMutation" },
		{ "\"networkProxy\"", "runtimeConfig.networkProxy" },
		{ "\"enabled\"", "telemetry.enabled" },
		{ "\"containerId\"", "containerId" },
		{ "\"lxc\": {", "lxc: " },
		{ "\"processContainer\"", "processContainer: " },
		{ "\"seatbelt\"", "seatbelt: " },
		{ "\"bubblewrap\"", "bubblewrap: " },
		{ "\"protocol\"", "network.egress.allow[0].ports[0].protocol \"icmp\"" },
	};
	struct result r;
	const char *const *v;

	(void)state;
	expect_ok(text, &r);
	/* The brief's example note, counted by hand. */
	expect_note(&r.p, F ":9:5: ", "process.timeout is not enforced by Warden (ignored)");
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		expect_note(&r.p, pos_of(text, fields[i][0]), fields[i][1]);
	/* Nothing else: no note for $schema and _comment, none for network. */
	assert_int_equal(policy_notes(&r.p, &v), 1 + sizeof(fields) / sizeof(fields[0]));
	assert_false(r.p.has_network);
	result_free(&r);
}

static void t_print_notes(void **state)
{
	struct result r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	expect_ok("{\"version\": \"1.0.0\", \"process\": {\"timeout\": 5},\n"
		  " \"network\": {\"egress\": {\"default\": \"allow\"}, \"ingress\": {\"default\": \"allow\", \"hostLoopback\": \"allow\"}}}",
		  &r);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(policy_print_notes(&r.p, f), 1);
	fclose(f);
	assert_string_equal(buf, "warning: " F ":1:34: process.timeout is not enforced by Warden (ignored)\n");
	free(buf);
	result_free(&r);
}

static void t_has_network(void **state)
{
	static const struct {
		const char *network;	/* the "network" member, or "" for none */
		bool has_network;
	} cases[] = {
		/* MXC denies by default: every restriction asks what this build cannot enforce. */
		{ "", true },
		{ ", \"network\": {}", true },
		{ ", \"network\": {\"egress\": {\"default\": \"deny\"}}", true },
		{ ", \"network\": {\"egress\": {\"default\": \"deny\"}, \"ingress\": {\"default\": \"allow\", \"hostLoopback\": \"allow\"}}", true },
		{ ", \"network\": {\"egress\": {}, \"ingress\": {\"default\": \"allow\", \"hostLoopback\": \"allow\"}}", true },
		/* Egress open, but ingress and host loopback still denied by default. */
		{ ", \"network\": {\"egress\": {\"default\": \"allow\"}}", true },
		{ ", \"network\": {\"egress\": {\"default\": \"allow\"}, \"ingress\": {\"default\": \"allow\"}}", true },
		{ ", \"network\": {\"egress\": {\"default\": \"allow\"}, \"ingress\": {\"hostLoopback\": \"allow\"}}", true },
		{ ", \"network\": {\"egress\": {\"default\": \"allow\", \"deny\": [{\"to\": [{\"cidr\": \"10.0.0.0/8\"}]}]}, \"ingress\": {\"default\": \"allow\", \"hostLoopback\": \"allow\"}}", true },
		/* Nothing restricted: egress "allow" with no deny rules, ingress all "allow". */
		{ ", \"network\": {\"egress\": {\"default\": \"allow\"}, \"ingress\": {\"default\": \"allow\", \"hostLoopback\": \"allow\"}}", false },
		{ ", \"network\": {\"egress\": {\"default\": \"allow\", \"deny\": []}, \"ingress\": {\"default\": \"allow\", \"hostLoopback\": \"allow\"}}", false },
		{ ", \"network\": {\"egress\": {\"default\": \"allow\", \"allow\": [{\"ports\": [{\"protocol\": \"tcp\", \"port\": 443}]}]}, \"ingress\": {\"default\": \"allow\", \"hostLoopback\": \"allow\"}}", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r;
		char *text, *notes;

		assert_true(asprintf(&text, "{\"version\": \"1.0.0\"%s}", cases[i].network) > 0);
		expect_ok(text, &r);
		notes = notes_text(&r.p);
		if (r.p.has_network != cases[i].has_network ||
		    (strstr(notes, "network: ") != NULL) != cases[i].has_network) {
			print_error("%s\nexpected has_network %d, got %d; notes:\n%s", text,
				    cases[i].has_network, r.p.has_network, notes);
			fail();
		}
		free(notes);
		free(text);
		result_free(&r);
	}
}

/*
 * Found by tests/fuzz/fuzz_policy: an MXC policy left network.default
 * undecided (WD_ACT_NONE), so policy explain --connect said "deny" for a
 * policy that allows every connection. It is MXC's egress default.
 */
static void t_net_default(void **state)
{
	static const struct {
		const char *network;
		uint8_t action;
	} cases[] = {
		{ "", DENY },
		{ ", \"network\": 1", DENY },
		{ ", \"network\": {\"egress\": {\"default\": \"deny\"}}", DENY },
		{ ", \"network\": {\"egress\": {\"default\": \"allow\"}}", ALLOW },
		{ ", \"network\": {\"egress\": {\"default\": \"allow\"}, \"ingress\": {\"default\": \"allow\", \"hostLoopback\": \"allow\"}}", ALLOW },
	};
	static const uint8_t addr[4] = { 8, 8, 8, 8 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r;
		char *text;
		long rule;

		assert_true(asprintf(&text, "{\"version\": \"1.0.0\"%s}", cases[i].network) > 0);
		parse_file(F, text, &r);
		assert_int_equal(r.p.net_default, cases[i].action);
		assert_int_equal(policy_net_decide(&r.p, AF_INET, addr, 53, NET_PROTO_UDP, NET_CONNECT,
						   &rule), cases[i].action);
		assert_int_equal(rule, -1);
		free(text);
		result_free(&r);
	}
}

static void t_default_egress_note(void **state)
{
	struct result r;

	(void)state;
	/* No "network" at all: the note is at the policy's "{". */
	expect_ok("\n  {\"version\": \"1.0.0\"}", &r);
	assert_true(r.p.has_network);
	expect_note(&r.p, F ":2:3: ", "network.egress.default is \"deny\" when absent");
	expect_note(&r.p, F ":2:3: ", "network.ingress.hostLoopback is \"deny\" when absent");
	result_free(&r);
}

static void t_deny_wins(void **state)
{
	struct compiled_policy cp;

	(void)state;
	/* One path both denied and read-write, in either order: denied, no error. */
	compile_ok(F, "{\"version\": \"1.0.0\", \"filesystem\": {"
		      "\"readwritePaths\": [\"/srv/a\", \"/srv/ro\", \"/srv/d\"], "
		      "\"deniedPaths\": [\"/srv/a\", \"/srv\"], "
		      "\"readonlyPaths\": [\"/srv/ro\", \"/srv/d/ro\", \"/opt/tools\"]}}",
		   &cp);
	expect_rights(&cp, "/srv/a", "-----");
	expect_rights(&cp, "/srv/a/x", "-----");
	/* Both read-only and read-write: read-only. */
	expect_rights(&cp, "/srv/ro/x", "r---x");
	/* A more specific path overrides the enclosing one... */
	expect_rights(&cp, "/srv/d/x", "rwcd-");	/* exec from the denied /srv */
	expect_rights(&cp, "/srv/d/ro/x", "r---x");	/* read-only inside read-write */
	expect_rights(&cp, "/srv/other", "-----");
	expect_rights(&cp, "/opt/tools/bin/cc", "r---x");
	compiled_policy_free(&cp);
}

static void t_root_paths(void **state)
{
	struct compiled_policy cp;

	(void)state;
	compile_ok(F, "{\"version\": \"1.0.0\", \"filesystem\": {\"readwritePaths\": [\"/\"], "
		      "\"deniedPaths\": [\"/root/\"]}}", &cp);
	expect_rights(&cp, "/etc/passwd", "rwcdx");
	expect_rights(&cp, "/root/x", "-----");
	compiled_policy_free(&cp);
	compile_ok(F, "{\"version\": \"1.0.0\", \"filesystem\": {\"deniedPaths\": [\"/\"]}}", &cp);
	expect_rights(&cp, "/etc/passwd", "-----");
	compiled_policy_free(&cp);
}

static void t_file_or_directory(void **state)
{
	char dir[] = "/tmp/wd-mxc-XXXXXX", file[64], text[512], sub[128], below[128];
	struct compiled_policy cp;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/f", dir);
	fd = creat(file, 0600);
	assert_true(fd >= 0);
	close(fd);
	/* An existing file: exactly that path. A directory, or nothing there: a subtree. */
	snprintf(text, sizeof(text),
		 "{\"version\": \"1.0.0\", \"filesystem\": {\"readwritePaths\": [\"%s\", \"%s\", \"%s/new\"]}}",
		 file, dir, dir);
	compile_ok(F, text, &cp);
	assert_int_equal(cp.r.p.nrules, 4);
	assert_false(cp.r.p.rules[1].subtree);
	assert_true(cp.r.p.rules[2].subtree);
	assert_true(cp.r.p.rules[3].subtree);
	expect_rights(&cp, file, "rwcdx");
	snprintf(sub, sizeof(sub), "%s/g", dir);
	expect_rights(&cp, sub, "rwcdx");
	compiled_policy_free(&cp);

	/* The file alone: below it is not covered. */
	snprintf(text, sizeof(text),
		 "{\"version\": \"1.0.0\", \"filesystem\": {\"readwritePaths\": [\"%s\"], \"deniedPaths\": [\"%s/f/\"]}}",
		 file, dir);
	compile_ok(F, text, &cp);
	assert_false(cp.r.p.rules[1].subtree);
	assert_true(cp.r.p.rules[2].subtree);	/* a trailing '/' is always a subtree */
	snprintf(below, sizeof(below), "%s/x", file);
	expect_rights(&cp, file, "-----");	/* deny wins on the same path */
	expect_rights(&cp, below, "-----");
	expect_rights(&cp, dir, "r---x");
	compiled_policy_free(&cp);

	snprintf(text, sizeof(text),
		 "{\"version\": \"1.0.0\", \"filesystem\": {\"readonlyPaths\": [\"%s\"]}}", file);
	compile_ok(F, text, &cp);
	snprintf(below, sizeof(below), "%s/x", file);
	expect_rights(&cp, below, "r---x");	/* default and baseline */
	compiled_policy_free(&cp);
	unlink(file);
	rmdir(dir);
}

static void t_name(void **state)
{
	static const char *const cases[][2] = {
		{ "mxc.json", "mxc" },
		{ "/etc/warden/agents/coder.json", "coder" },
		{ "dir.d/my agent.mxc.json", "my_agent.mxc" },
		{ "noext", "noext" },
		{ "/policies/.json", ".json" },
		{ "/policies/", "mxc" },
		{ "", "mxc" },
		{ "caf\xc3\xa9+1.json", "caf___1" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json",
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r;

		expect_ok_file(cases[i][0], "{\"version\": \"1.0.0\"}", &r);
		assert_string_equal(r.p.name, cases[i][1]);
		result_free(&r);
	}
}

static void t_path_errors(void **state)
{
	(void)state;
	expect_error("{\"version\": \"1.0.0\",\n \"filesystem\": {\"readwritePaths\": [\"srv/work\"]}}",
		     F ":2:36: ", "path \"srv/work\" is not absolute");
	expect_error("{\"version\": \"1.0.0\",\n \"filesystem\": {\"readonlyPaths\": [\"C:\\\\tools\"]}}",
		     F ":2:35: ", "is not absolute");
	expect_error("{\"version\": \"1.0.0\",\n \"filesystem\": {\"deniedPaths\": [\"/a//b\"]}}",
		     F ":2:33: ", "path \"/a//b\" is not normalised: empty component");
	expect_error("{\"version\": \"1.0.0\",\n \"filesystem\": {\"deniedPaths\": [\"/a/../b\"]}}",
		     F ":2:33: ", "is not normalised: \"..\" component");
	expect_error("{\"version\": \"1.0.0\",\n \"filesystem\": {\"deniedPaths\": [\"/a/./b\"]}}",
		     F ":2:33: ", "is not normalised: \".\" component");
	expect_error("{\"version\": \"1.0.0\",\n \"filesystem\": {\"deniedPaths\": [\"\"]}}",
		     F ":2:33: ", "filesystem.deniedPaths[0] is empty");
	/* ${CWD} is not MXC syntax: not expanded, so not absolute. */
	expect_error("{\"version\": \"1.0.0\",\n \"filesystem\": {\"readwritePaths\": [\"${CWD}/x\"]}}",
		     F ":2:36: ", "is not absolute");
}

static void t_type_errors(void **state)
{
	(void)state;
	expect_error("{\"version\": \"1.0.0\",\n \"filesystem\": [\"/srv\"]}", F ":2:16: ",
		     "filesystem must be an object, not an array");
	expect_error("{\"version\": \"1.0.0\",\n \"filesystem\": {\"readwritePaths\": \"/srv\"}}",
		     F ":2:35: ", "filesystem.readwritePaths must be an array of paths, not a string");
	expect_error("{\"version\": \"1.0.0\",\n \"filesystem\": {\"readonlyPaths\": [\"/a\", 7]}}",
		     F ":2:41: ", "filesystem.readonlyPaths[1] must be a string, not a number");
	expect_error("{\"version\": \"1.0.0\",\n \"process\": {\"timeout\": \"10s\"}}", F ":2:25: ",
		     "process.timeout must be an integer, not a string");
	expect_error("{\"version\": \"1.0.0\",\n \"process\": {\"timeout\": 1.5}}", F ":2:25: ",
		     "process.timeout must be an integer, not 1.5");
	expect_error("{\"version\": \"1.0.0\",\n \"process\": {\"commandLine\": \"\"}}", F ":2:29: ",
		     "process.commandLine is empty");
	expect_error("{\"version\": \"1.0.0\",\n \"process\": {\"env\": [\"A=1\", 2]}}", F ":2:29: ",
		     "process.env: an entry must be a string, not a number");
	expect_error("{\"version\": \"1.0.0\",\n \"ui\": {\"clipboard\": \"some\"}}", F ":2:22: ",
		     "ui.clipboard: \"some\" is not one of none, read, write, all");
	expect_error("{\"version\": \"1.0.0\",\n \"containment\": \"docker\"}", F ":2:17: ",
		     "containment: \"docker\" is not one of process, processcontainer, lxc");
	expect_error("{\"version\": \"1.0.0\",\n \"network\": {\"egress\": {\"default\": 0}}}",
		     F ":2:36: ", "network.egress.default must be a string, not a number");
	expect_error("{\"version\": \"1.0.0\",\n \"network\": {\"egress\": {\"allow\": {}}}}",
		     F ":2:34: ", "network.egress.allow must be an array of rules, not an object");
	expect_error("{\"version\": \"1.0.0\",\n \"network\": {\"egress\": {\"allow\": [{\"to\": [{\"cidr\": \"192.0.2.0/33\"}]}]}}}",
		     F ":2:52: ", "network.egress.allow[0].to[0].cidr: \"192.0.2.0/33\" is not an IPv4 or IPv6 CIDR");
	expect_error("{\"version\": \"1.0.0\",\n \"network\": {\"egress\": {\"deny\": [{\"ports\": [{\"port\": 0}]}]}}}",
		     F ":2:54: ", "network.egress.deny[0].ports[0].port is 0; it must be from 1 to 65535");
	expect_error("{\"version\": \"1.0.0\",\n \"network\": {\"egress\": {\"deny\": [{\"ports\": [{\"port\": 9, \"endPort\": 8}]}]}}}",
		     F ":2:68: ", "network.egress.deny[0].ports[0].endPort 8 is below port 9");
	expect_error("{\"version\": \"1.0.0\",\n \"network\": {\"egress\": {\"deny\": [{\"ports\": [{\"endPort\": 8}]}]}}}",
		     F ":2:57: ", "endPort needs \"port\"");
	expect_error("{\"version\": \"1.0.0\",\n \"network\": {\"ingress\": {\"hostLoopback\": true}}}",
		     F ":2:42: ", "network.ingress.hostLoopback must be a string, not a boolean");
	expect_error("{\"version\": \"1.0.0\",\n \"lxc\": \"debian\"}", F ":2:9: ",
		     "lxc must be an object, not a string");
}

static void t_unknown_keys(void **state)
{
	(void)state;
	expect_error("{\"version\": \"1.0.0\",\n \"name\": \"agent\"}", F ":2:2: ",
		     "unknown key \"name\" in the MXC policy (known: version, containment, process, filesystem, network, ui, lifecycle, fallback, runtimeConfig");
	expect_error("{\"version\": \"1.0.0\",\n \"file\": {}}", F ":2:2: ",
		     "unknown key \"file\" in the MXC policy");
	expect_error("{\"version\": \"1.0.0\",\n \"filesystem\": {\"writablePaths\": []}}", F ":2:17: ",
		     "unknown key \"writablePaths\" in filesystem (known: readwritePaths, readonlyPaths, deniedPaths)");
	expect_error("{\"version\": \"1.0.0\",\n \"process\": {\"args\": []}}", F ":2:14: ",
		     "unknown key \"args\" in process");
	expect_error("{\"version\": \"1.0.0\",\n \"network\": {\"egres\": {}}}", F ":2:14: ",
		     "unknown key \"egres\" in network (known: egress, ingress)");
	expect_error("{\"version\": \"1.0.0\",\n \"network\": {\"egress\": {\"allow\": [{\"host\": \"x\"}]}}}",
		     F ":2:36: ", "unknown key \"host\" in network.egress.allow[0] (known: to, ports)");
	expect_error("{\"version\": \"1.0.0\",\n \"version\": \"1.0.0\"}", F ":2:2: ",
		     "duplicate key \"version\" in the MXC policy");
}

static void t_several_errors(void **state)
{
	static const char text[] =
		"{\"version\": \"1.0.0\",\n"
		" \"filesystem\": {\"readwritePaths\": [\"rel\", \"/ok\", \"/a//b\"]},\n"
		" \"frobnicate\": 1\n"
		"}\n";
	struct result r;

	(void)state;
	parse_file(F, text, &r);
	assert_int_equal(r.rc, -EINVAL);
	assert_int_equal(count_lines(r.err), 3);
	assert_true(has_line(r.err, F ":3:2: ", "unknown key \"frobnicate\""));
	assert_true(has_line(r.err, F ":2:36: ", "\"rel\" is not absolute"));
	assert_true(has_line(r.err, F ":2:50: ", "\"/a//b\" is not normalised"));
	result_free(&r);
}

static void t_other_versions(void **state)
{
	(void)state;
	expect_error("{\"version\": \"1.1.0\", \"filesystem\": {}}", F ":1:13: ",
		     "MXC schema version \"1.1.0\" is not supported");
	expect_error("{\"version\": \"0.9.0-alpha\"}", F ":1:13: ",
		     "MXC schema version \"0.9.0-alpha\" is not supported");
	expect_error("{\n  \"version\": \"1\",\n  \"name\": \"a\"\n}\n", F ":2:14: ",
		     "version must be the number 1, not a string");
}

static void t_v1_unaffected(void **state)
{
	static const char v1[] =
		"{\"version\": 1, \"name\": \"coder\", \"file\": {\"default\": \"deny\", \"rules\": [\n"
		"  {\"path\": \"/\", \"allow\": [\"read\", \"exec\"]},\n"
		"  {\"path\": \"${CWD}/\", \"allow\": [\"read\", \"write\", \"create\", \"delete\"]}]}}";
	struct compiled_policy cp;
	const char *const *v;
	struct result r;

	(void)state;
	compile_ok("coder.json", v1, &cp);
	assert_string_equal(cp.r.p.name, "coder");
	assert_false(cp.r.p.has_network);
	assert_int_equal(cp.r.p.nrules, 2);
	assert_int_equal(policy_notes(&cp.r.p, &v), 0);
	assert_null(v);
	expect_rights(&cp, "/home/u/proj/x", "rwcdx");
	expect_rights(&cp, "/etc/passwd", "r---x");
	compiled_policy_free(&cp);
	/* A v1 "network" section still sets has_network, with no notes. */
	expect_ok("{\"version\": 1, \"name\": \"n\", \"network\": {}}", &r);
	assert_true(r.p.has_network);
	assert_int_equal(policy_notes(&r.p, &v), 0);
	result_free(&r);
	/* v1 keeps its own errors: contradicting rules, a missing name. */
	expect_error("{\"version\": 1, \"name\": \"n\", \"file\": {\"rules\": [\n"
		     "{\"path\": \"/a\", \"allow\": [\"read\"]},\n{\"path\": \"/a\", \"deny\": [\"read\"]}]}}",
		     F ":3:1: ", "rule contradicts the rule at line 2");
	expect_error("{\"version\": 1}", F ":1:1: ", "no \"name\"");
}

static void t_notes_lifetime(void **state)
{
	struct result a, b;
	const char *const *v;

	(void)state;
	expect_ok("{\"version\": \"1.0.0\", \"process\": {\"timeout\": 1}}", &a);
	expect_ok("{\"version\": \"1.0.0\", \"process\": {\"cwd\": \"/\", \"timeout\": 1}}", &b);
	/* Each policy has its own (each also has the network note). */
	assert_int_equal(policy_notes(&a.p, &v), 2);
	assert_int_equal(policy_notes(&b.p, &v), 3);
	result_free(&a);
	assert_int_equal(policy_notes(&a.p, &v), 0);
	assert_int_equal(policy_notes(&b.p, &v), 3);
	expect_note(&b.p, F ":1:34: ", "process.cwd");
	result_free(&b);
	assert_int_equal(policy_notes(&b.p, &v), 0);
	/* A policy with errors keeps its notes until policy_free() too. */
	parse_file(F, "{\"version\": \"1.0.0\", \"process\": {\"timeout\": 1}, \"x\": 1}", &a);
	assert_int_equal(a.rc, -EINVAL);
	assert_int_equal(policy_notes(&a.p, &v), 2);
	result_free(&a);
}

static void t_policy_load(void **state)
{
	char path[] = "/tmp/wd-mxc-XXXXXX";
	struct sbuf err = {0};
	struct policy p;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, EXAMPLE, strlen(EXAMPLE)), (ssize_t)strlen(EXAMPLE));
	close(fd);
	assert_int_equal(policy_load(path, &ENV, &p, &err), 0);
	assert_int_equal(err.len, 0);
	assert_string_equal(p.name, path + 5);	/* "wd-mxc-XXXXXX": no extension */
	assert_int_equal(p.nrules, 4);
	{
		const char *const *v;

		assert_int_equal(policy_notes(&p, &v), 6);
		assert_int_equal(strncmp(v[0], path, strlen(path)), 0);
	}
	policy_free(&p);
	sb_free(&err);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_example_parses),
		cmocka_unit_test(t_example_decisions),
		cmocka_unit_test(t_example_notes),
		cmocka_unit_test(t_unsupported_notes),
		cmocka_unit_test(t_print_notes),
		cmocka_unit_test(t_has_network),
		cmocka_unit_test(t_default_egress_note),
		cmocka_unit_test(t_net_default),
		cmocka_unit_test(t_deny_wins),
		cmocka_unit_test(t_root_paths),
		cmocka_unit_test(t_file_or_directory),
		cmocka_unit_test(t_name),
		cmocka_unit_test(t_path_errors),
		cmocka_unit_test(t_type_errors),
		cmocka_unit_test(t_unknown_keys),
		cmocka_unit_test(t_several_errors),
		cmocka_unit_test(t_other_versions),
		cmocka_unit_test(t_v1_unaffected),
		cmocka_unit_test(t_notes_lifetime),
		cmocka_unit_test(t_policy_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
