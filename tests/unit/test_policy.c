// SPDX-License-Identifier: GPL-2.0
/*
 * Policy parser and validator (user/policy.c, user/jsonpos.c): valid
 * policies and every error, with the exact FILE:LINE:COL prefix. Positions
 * below are counted by hand from the test text (lines and columns 1-based,
 * columns in bytes).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy.h"

#define F "t.json"

static const struct policy_env ENV = { .cwd = "/home/u/proj", .home = "/home/u" };

/*
 * Every rule test uses this frame: the first rule is on line 6 and its
 * "{" at column 7, so in a rule written as {"path": "...", ...} the path
 * value starts at column 16.
 */
#define HEAD "{\n  \"version\": 1,\n  \"name\": \"t\",\n  \"file\": {\n    \"rules\": [\n"
#define TAIL "\n    ]\n  }\n}\n"
#define R "      "

struct result {
	int rc;
	struct policy p;
	char *err;	/* NUL-terminated copy of the error text ("" if none) */
};

static void parse_env_len(const char *text, size_t len, const struct policy_env *env,
			  struct result *r)
{
	struct sbuf err = {0};

	r->rc = policy_parse(F, text, len, env, &r->p, &err);
	r->err = strndup(err.buf ? err.buf : "", err.len);
	sb_free(&err);
}

static void parse(const char *text, struct result *r)
{
	parse_env_len(text, strlen(text), &ENV, r);
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

/* Is there an error line that starts with @prefix and contains @needle? */
static bool has_error(const char *err, const char *prefix, const char *needle)
{
	const char *line = err;

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

/* Does the parse fail with exactly one error "@prefix...@needle..."? Says why not. */
static bool check_error_r(const char *text, size_t len, const struct policy_env *env,
			  const char *prefix, const char *needle)
{
	struct result r;
	bool ok;

	parse_env_len(text, len, env, &r);
	ok = r.rc == -EINVAL && count_lines(r.err) == 1 && has_error(r.err, prefix, needle);
	if (!ok)
		print_error("text:\n%s\nexpected rc %d and one error \"%s...%s...\"\ngot rc %d, errors:\n%s\n",
			    text, -EINVAL, prefix, needle, r.rc, r.err);
	result_free(&r);
	return ok;
}

static void expect_error_r(const char *text, size_t len, const struct policy_env *env,
			   const char *prefix, const char *needle)
{
	if (!check_error_r(text, len, env, prefix, needle))
		fail();
}

static void expect_error(const char *text, const char *prefix, const char *needle)
{
	expect_error_r(text, strlen(text), &ENV, prefix, needle);
}

/* The parse succeeds with no message; the caller inspects and frees @r. */
static void expect_ok_env(const char *text, const struct policy_env *env, struct result *r)
{
	parse_env_len(text, strlen(text), env, r);
	if (r->rc != 0 || r->err[0]) {
		print_error("text:\n%s\nexpected success, got rc %d, errors:\n%s\n", text, r->rc,
			    r->err);
		result_free(r);
		fail();
	}
}

static void expect_ok(const char *text, struct result *r)
{
	expect_ok_env(text, &ENV, r);
}

/* A policy with one rule line @rule (written after R). */
static char *one_rule(const char *rule)
{
	char *s;

	assert_true(asprintf(&s, HEAD R "%s" TAIL, rule) > 0);
	return s;
}

static void expect_rule_error(const char *rule, const char *prefix, const char *needle)
{
	char *text = one_rule(rule);

	expect_error(text, prefix, needle);
	free(text);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- valid policies ---------------------------------------------------- */

/* The policy's sha256 (the daemon's "unchanged?" and events') is the text's, as sha256sum gives. */
static void t_sha256(void **state)
{
	struct sbuf text = {0};
	struct result r;

	(void)state;
	expect_ok("{\"version\": 1, \"name\": \"a\"}", &r);
	assert_string_equal(r.p.sha256,
			    "22e8d369da884ce053cc233a7414edeb70bf20efe7a24475c7ab704b31af5dd9");
	result_free(&r);

	/* Many 64-byte blocks and a partial last one (1,518 bytes). */
	sb_printf(&text, "{\"version\": 1, \"name\": \"a\", \"file\": {\"rules\": [");
	for (int i = 0; i < 40; i++)
		sb_printf(&text, "%s{\"path\": \"/r%d\", \"allow\": [\"read\"]}", i ? ", " : "", i);
	sb_printf(&text, "]}}");
	sb_putc(&text, '\0');
	assert_int_equal(strlen(text.buf), 1518);
	expect_ok(text.buf, &r);
	assert_string_equal(r.p.sha256,
			    "0e44f2d9fdafa83480a6e840a1ef3a9a757e1bd93638be4f07d1588e767fd2c3");
	result_free(&r);
	sb_free(&text);
}

static void t_minimal(void **state)
{
	struct result r;

	(void)state;
	expect_ok("{\"version\": 1, \"name\": \"a\"}", &r);
	assert_string_equal(r.p.file, F);
	assert_string_equal(r.p.name, "a");
	assert_null(r.p.identity);
	assert_int_equal(r.p.mode, WD_MODE_ENFORCE);
	assert_int_equal(r.p.file_default, WD_ACT_ALLOW);
	assert_false(r.p.fileless_exec);
	assert_int_equal(r.p.nrules, 0);
	assert_false(r.p.has_network);
	result_free(&r);

	/* An empty "file" section and empty rules. */
	expect_ok("{\"version\": 1, \"name\": \"a\", \"file\": {}}", &r);
	assert_int_equal(r.p.file_default, WD_ACT_ALLOW);
	assert_int_equal(r.p.nrules, 0);
	result_free(&r);
	expect_ok("{\"version\": 1, \"name\": \"a\", \"file\": {\"rules\": []}}", &r);
	assert_int_equal(r.p.nrules, 0);
	result_free(&r);
}

/* The contract's example, file and network sections. */
static const char FULL[] =
	"{\n"
	"  \"version\": 1,\n"
	"  \"name\": \"coding-agent\",\n"
	"  \"identity\": \"spiffe://example.org/agents/coder\",\n"
	"  \"mode\": \"enforce\",\n"
	"  \"file\": {\n"
	"    \"default\": \"deny\",\n"
	"    \"rules\": [\n"
	"      {\"path\": \"/\", \"allow\": [\"read\", \"exec\"]},\n"
	"      {\"path\": \"${CWD}/\", \"allow\": [\"read\", \"write\", \"create\", \"delete\"]},\n"
	"      {\"path\": \"${HOME}/.ssh/\", \"deny\": [\"read\", \"write\", \"create\", \"delete\", \"exec\"]},\n"
	"      {\"path\": \"${CWD}/.env\", \"deny\": [\"read\"]}\n"
	"    ]\n"
	"  },\n"
	"  \"network\": {\n"
	"    \"default\": \"deny\",\n"
	"    \"rules\": [\n"
	"      {\"cidr\": \"127.0.0.0/8\", \"allow\": [\"connect\"]},\n"
	"      {\"cidr\": \"10.20.0.0/16\", \"ports\": [\"443\", \"8000-8080\"], \"protocol\": \"tcp\", \"allow\": [\"connect\"]},\n"
	"      {\"host\": \"api.github.com\", \"ports\": [\"443\"], \"allow\": [\"connect\"]},\n"
	"      {\"cidr\": \"0.0.0.0/0\", \"ports\": [\"8080\"], \"protocol\": \"tcp\", \"allow\": [\"bind\"]}\n"
	"    ]\n"
	"  }\n"
	"}\n";

#define B(r) (1u << WD_RIGHT_##r)

static void t_full(void **state)
{
	struct result r;
	const struct file_rule *fr;

	(void)state;
	expect_ok(FULL, &r);
	assert_string_equal(r.p.name, "coding-agent");
	assert_string_equal(r.p.identity, "spiffe://example.org/agents/coder");
	assert_int_equal(r.p.mode, WD_MODE_ENFORCE);
	assert_int_equal(r.p.file_default, WD_ACT_DENY);
	assert_false(r.p.fileless_exec);
	assert_true(r.p.has_network);
	assert_int_equal(r.p.nrules, 4);
	fr = r.p.rules;

	assert_string_equal(fr[0].path, "/");
	assert_true(fr[0].subtree);
	assert_int_equal(fr[0].allow, B(READ) | B(EXEC));
	assert_int_equal(fr[0].deny, 0);
	assert_false(fr[0].audit);
	assert_int_equal(fr[0].line, 9);
	assert_int_equal(fr[0].col, 7);

	assert_string_equal(fr[1].path, "/home/u/proj");
	assert_true(fr[1].subtree);
	assert_int_equal(fr[1].allow, B(READ) | B(WRITE) | B(CREATE) | B(DELETE));
	assert_int_equal(fr[1].deny, 0);
	assert_int_equal(fr[1].line, 10);
	assert_int_equal(fr[1].col, 7);

	assert_string_equal(fr[2].path, "/home/u/.ssh");
	assert_true(fr[2].subtree);
	assert_int_equal(fr[2].allow, 0);
	assert_int_equal(fr[2].deny, RIGHTS_ALL);
	assert_int_equal(fr[2].line, 11);

	assert_string_equal(fr[3].path, "/home/u/proj/.env");
	assert_false(fr[3].subtree);
	assert_int_equal(fr[3].deny, B(READ));
	assert_int_equal(fr[3].line, 12);
	assert_int_equal(fr[3].col, 7);
	result_free(&r);
}

static void t_modes(void **state)
{
	struct result r;

	(void)state;
	expect_ok("{\"version\": 1, \"name\": \"a\", \"mode\": \"audit\"}", &r);
	assert_int_equal(r.p.mode, WD_MODE_AUDIT);
	result_free(&r);
	expect_ok("{\"version\": 1, \"name\": \"a\", \"mode\": \"enforce\"}", &r);
	assert_int_equal(r.p.mode, WD_MODE_ENFORCE);
	result_free(&r);
}

static void t_file_section(void **state)
{
	struct result r;

	(void)state;
	expect_ok("{\"version\": 1, \"name\": \"a\", \"file\": {\"default\": \"allow\"}}", &r);
	assert_int_equal(r.p.file_default, WD_ACT_ALLOW);
	result_free(&r);
	expect_ok("{\"version\": 1, \"name\": \"a\", \"file\": {\"default\": \"deny\"}}", &r);
	assert_int_equal(r.p.file_default, WD_ACT_DENY);
	result_free(&r);
	expect_ok("{\"version\": 1, \"name\": \"a\", \"file\": {\"fileless_exec\": \"allow\"}}", &r);
	assert_true(r.p.fileless_exec);
	result_free(&r);
	expect_ok("{\"version\": 1, \"name\": \"a\", \"file\": {\"fileless_exec\": \"deny\"}}", &r);
	assert_false(r.p.fileless_exec);
	result_free(&r);
}

static void t_rules(void **state)
{
	struct result r;

	(void)state;
	expect_ok(HEAD
		  R "{\"path\": \"/a\", \"allow\": [\"all\"]},\n"
		  R "{\"path\": \"/b/\", \"deny\": [\"all\"], \"audit\": true},\n"
		  R "{\"path\": \"/c\", \"allow\": [\"read\", \"exec\"], \"deny\": [\"write\"], \"audit\": false},\n"
		  R "{\"path\": \"/d\", \"allow\": [\"read\", \"read\", \"all\"]},\n"
		  R "{\"deny\": [\"create\", \"delete\"], \"path\": \"/e/f/\"}"
		  TAIL, &r);
	assert_int_equal(r.p.nrules, 5);
	assert_string_equal(r.p.rules[0].path, "/a");
	assert_false(r.p.rules[0].subtree);
	assert_int_equal(r.p.rules[0].allow, RIGHTS_ALL);
	assert_int_equal(r.p.rules[0].deny, 0);
	assert_false(r.p.rules[0].audit);
	assert_int_equal(r.p.rules[0].line, 6);
	assert_int_equal(r.p.rules[0].col, 7);

	assert_string_equal(r.p.rules[1].path, "/b");
	assert_true(r.p.rules[1].subtree);
	assert_int_equal(r.p.rules[1].allow, 0);
	assert_int_equal(r.p.rules[1].deny, RIGHTS_ALL);
	assert_true(r.p.rules[1].audit);
	assert_int_equal(r.p.rules[1].line, 7);

	assert_int_equal(r.p.rules[2].allow, B(READ) | B(EXEC));
	assert_int_equal(r.p.rules[2].deny, B(WRITE));
	assert_false(r.p.rules[2].audit);

	assert_int_equal(r.p.rules[3].allow, RIGHTS_ALL);

	assert_string_equal(r.p.rules[4].path, "/e/f");
	assert_true(r.p.rules[4].subtree);
	assert_int_equal(r.p.rules[4].deny, B(CREATE) | B(DELETE));
	assert_int_equal(r.p.rules[4].line, 10);
	assert_int_equal(r.p.rules[4].col, 7);
	result_free(&r);
}

static void t_expand(void **state)
{
	struct result r;

	(void)state;
	expect_ok(HEAD
		  R "{\"path\": \"${CWD}\", \"allow\": [\"read\"]},\n"
		  R "{\"path\": \"${CWD}/\", \"allow\": [\"read\"]},\n"
		  R "{\"path\": \"${CWD}/src/main.c\", \"allow\": [\"read\"]},\n"
		  R "{\"path\": \"${HOME}\", \"allow\": [\"read\"]},\n"
		  R "{\"path\": \"${HOME}/\", \"allow\": [\"read\"]},\n"
		  R "{\"path\": \"${HOME}/.ssh/\", \"deny\": [\"read\"]},\n"
		  R "{\"path\": \"/srv${HOME}/x\", \"allow\": [\"read\"]},\n"
		  R "{\"path\": \"${HOME}${CWD}\", \"allow\": [\"read\"]},\n"
		  R "{\"path\": \"/cost$5/{x}/$\", \"allow\": [\"read\"]}"
		  TAIL, &r);
	assert_int_equal(r.p.nrules, 9);
	assert_string_equal(r.p.rules[0].path, "/home/u/proj");
	assert_false(r.p.rules[0].subtree);
	assert_string_equal(r.p.rules[1].path, "/home/u/proj");
	assert_true(r.p.rules[1].subtree);
	assert_string_equal(r.p.rules[2].path, "/home/u/proj/src/main.c");
	assert_false(r.p.rules[2].subtree);
	assert_string_equal(r.p.rules[3].path, "/home/u");
	assert_false(r.p.rules[3].subtree);
	assert_string_equal(r.p.rules[4].path, "/home/u");
	assert_true(r.p.rules[4].subtree);
	assert_string_equal(r.p.rules[5].path, "/home/u/.ssh");
	assert_true(r.p.rules[5].subtree);
	assert_string_equal(r.p.rules[6].path, "/srv/home/u/x");
	assert_string_equal(r.p.rules[7].path, "/home/u/home/u/proj");
	/* A '$' that does not start "${" is an ordinary character. */
	assert_string_equal(r.p.rules[8].path, "/cost$5/{x}/$");
	result_free(&r);
}

/* Variables whose values end in '/', and a value that is the root itself. */
static void t_expand_slashes(void **state)
{
	const struct policy_env slash = { .cwd = "/work/", .home = "/home/u/" };
	struct result r;

	(void)state;
	expect_ok_env(HEAD
		      R "{\"path\": \"${CWD}/a\", \"allow\": [\"read\"]},\n"
		      R "{\"path\": \"${CWD}/\", \"allow\": [\"read\"]},\n"
		      R "{\"path\": \"${HOME}/.ssh/\", \"deny\": [\"read\"]}"
		      TAIL, &slash, &r);
	assert_string_equal(r.p.rules[0].path, "/work/a");
	assert_false(r.p.rules[0].subtree);
	assert_string_equal(r.p.rules[1].path, "/work");
	assert_true(r.p.rules[1].subtree);
	assert_string_equal(r.p.rules[2].path, "/home/u/.ssh");
	assert_true(r.p.rules[2].subtree);
	result_free(&r);
}

/* ${CWD} = "/": "${CWD}/" is the root, "${CWD}/x" is "/x" (policy.c's own comment). */
static void t_expand_root_cwd(void **state)
{
	const struct policy_env root = { .cwd = "/", .home = "/root" };
	struct result r;

	(void)state;
	expect_ok_env(HEAD
		      R "{\"path\": \"${CWD}/\", \"allow\": [\"read\"]},\n"
		      R "{\"path\": \"${CWD}\", \"deny\": [\"write\"]}"
		      TAIL, &root, &r);
	assert_string_equal(r.p.rules[0].path, "/");
	assert_true(r.p.rules[0].subtree);
	assert_string_equal(r.p.rules[1].path, "/");
	result_free(&r);

	expect_ok_env(HEAD
		      R "{\"path\": \"${CWD}/x\", \"allow\": [\"read\"]},\n"
		      R "{\"path\": \"${CWD}/x/y/\", \"allow\": [\"read\"]}"
		      TAIL, &root, &r);
	assert_string_equal(r.p.rules[0].path, "/x");
	assert_false(r.p.rules[0].subtree);
	assert_string_equal(r.p.rules[1].path, "/x/y");
	assert_true(r.p.rules[1].subtree);
	result_free(&r);
}

static void t_root_and_subtree(void **state)
{
	struct result r;

	(void)state;
	expect_ok(HEAD
		  R "{\"path\": \"/\", \"deny\": [\"write\"]},\n"
		  R "{\"path\": \"/etc/\", \"allow\": [\"read\"]},\n"
		  R "{\"path\": \"/etc\", \"deny\": [\"read\"]},\n"
		  R "{\"path\": \"/etc/passwd\", \"allow\": [\"read\"]}"
		  TAIL, &r);
	assert_string_equal(r.p.rules[0].path, "/");
	assert_true(r.p.rules[0].subtree);
	assert_string_equal(r.p.rules[1].path, "/etc");
	assert_true(r.p.rules[1].subtree);
	assert_string_equal(r.p.rules[2].path, "/etc");
	assert_false(r.p.rules[2].subtree);
	assert_string_equal(r.p.rules[3].path, "/etc/passwd");
	assert_false(r.p.rules[3].subtree);
	result_free(&r);
}

/* Names that are not "." or "..", and non-ASCII bytes, are ordinary components. */
static void t_unusual_components(void **state)
{
	struct result r;

	(void)state;
	expect_ok(HEAD
		  R "{\"path\": \"/...\", \"allow\": [\"read\"]},\n"
		  R "{\"path\": \"/.a/..b/c.\", \"allow\": [\"read\"]},\n"
		  R "{\"path\": \"/caf\xc3\xa9/\\u00e9t\\u00e9\", \"allow\": [\"read\"]},\n"
		  R "{\"path\": \"/with space/tab\\there\", \"allow\": [\"read\"]}"
		  TAIL, &r);
	assert_string_equal(r.p.rules[0].path, "/...");
	assert_string_equal(r.p.rules[1].path, "/.a/..b/c.");
	assert_string_equal(r.p.rules[2].path, "/caf\xc3\xa9/\xc3\xa9t\xc3\xa9");
	assert_string_equal(r.p.rules[3].path, "/with space/tab\there");
	result_free(&r);
}

static void t_non_contradicting_duplicates(void **state)
{
	struct result r;

	(void)state;
	expect_ok(HEAD
		  R "{\"path\": \"/a\", \"allow\": [\"read\"]},\n"
		  R "{\"path\": \"/a\", \"allow\": [\"read\", \"write\"]},\n"
		  R "{\"path\": \"/a\", \"deny\": [\"exec\"]},\n"
		  R "{\"path\": \"/a/\", \"deny\": [\"read\"]},\n"
		  R "{\"path\": \"/a/\", \"deny\": [\"read\"], \"audit\": true},\n"
		  R "{\"path\": \"/a/\", \"allow\": [\"exec\"]}"
		  TAIL, &r);
	assert_int_equal(r.p.nrules, 6);
	result_free(&r);
}

static void t_limits_accepted(void **state)
{
	char *name = repeat('n', 63), *ident = repeat('i', 255), *text;
	struct sbuf id8 = {0};
	struct result r;

	(void)state;
	assert_true(asprintf(&text, "{\"version\": 1, \"name\": \"%s\", \"identity\": \"%s\"}", name,
			     ident) > 0);
	expect_ok(text, &r);
	assert_string_equal(r.p.name, name);
	assert_string_equal(r.p.identity, ident);
	result_free(&r);
	free(text);

	/* 255 bytes of identity as 127 two-byte characters and one ASCII byte. */
	for (int i = 0; i < 127; i++)
		sb_puts(&id8, "\xc3\xa9");
	sb_puts(&id8, "x");
	sb_putc(&id8, '\0');
	assert_true(asprintf(&text, "{\"version\": 1, \"name\": \"a\", \"identity\": \"%s\"}",
			     id8.buf) > 0);
	expect_ok(text, &r);
	assert_int_equal(strlen(r.p.identity), 255);
	result_free(&r);
	free(text);
	sb_free(&id8);
	free(name);
	free(ident);

	/* Empty identity is a string of 0 bytes: accepted. */
	expect_ok("{\"version\": 1, \"name\": \"a\", \"identity\": \"\"}", &r);
	assert_string_equal(r.p.identity, "");
	result_free(&r);
	/* Every allowed name character. */
	expect_ok("{\"version\": 1, \"name\": \"AZaz09._-\"}", &r);
	result_free(&r);
}

static void t_policy_load(void **state)
{
	char tmpl[] = "/tmp/warden-test-XXXXXX";
	int fd = mkstemp(tmpl);
	struct sbuf err = {0};
	struct policy p;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, FULL, sizeof(FULL) - 1), (ssize_t)sizeof(FULL) - 1);
	close(fd);
	assert_int_equal(policy_load(tmpl, &ENV, &p, &err), 0);
	assert_int_equal(err.len, 0);
	assert_string_equal(p.file, tmpl);
	assert_int_equal(p.nrules, 4);
	policy_free(&p);
	unlink(tmpl);

	assert_true(policy_load(tmpl, &ENV, &p, &err) < 0);
	sb_putc(&err, '\0');
	assert_int_equal(strncmp(err.buf, tmpl, strlen(tmpl)), 0);
	assert_non_null(strstr(err.buf, "cannot read policy"));
	policy_free(&p);
	sb_free(&err);
}

/* ---- malformed text ---------------------------------------------------- */

static void t_json_truncated(void **state)
{
	(void)state;
	/* Line 2 is ` "name": "a"` (12 bytes): the end of file is at column 13. */
	expect_error("{\"version\": 1,\n \"name\": \"a\"", F ":2:13: ",
		     "malformed JSON: unexpected end of file");
	expect_error("", F ":1:1: ", "malformed JSON: unexpected end of file");
	expect_error("  \n", F ":2:1: ", "malformed JSON: unexpected end of file");
	expect_error("{\"version\": 1,\n", F ":2:1: ", "malformed JSON: unexpected end of file");
}

static void t_json_trailing_garbage(void **state)
{
	struct result r;

	(void)state;
	expect_error("{\"version\": 1, \"name\": \"a\"}\n}\n", F ":2:1: ", "malformed JSON");
	expect_error("{\"version\": 1, \"name\": \"a\"} x", F ":1:29: ", "malformed JSON");
	/* Not "end of file": the fault is the garbage. */
	parse("{\"version\": 1, \"name\": \"a\"}\n}\n", &r);
	assert_null(strstr(r.err, "end of file"));
	result_free(&r);
}

static void t_json_missing_comma(void **state)
{
	(void)state;
	expect_error("{\n  \"version\": 1\n  \"name\": \"a\"\n}\n", F ":3:3: ", "malformed JSON");
	/* In an array: at the second element. */
	expect_error(HEAD R "{\"path\": \"/a\", \"allow\": [\"read\" \"write\"]}" TAIL,
		     F ":6:39: ", "malformed JSON");
	/* Missing colon: at the value that follows the key. */
	expect_error("{\"version\" 1}", F ":1:12: ", "malformed JSON");
}

static void t_json_nul_byte(void **state)
{
	static const char text[] = "{\"version\": 1,\n  \0\"name\": \"a\"}";

	(void)state;
	expect_error_r(text, sizeof(text) - 1, &ENV, F ":2:3: ", "NUL byte");
}

/*
 * A form feed is not JSON whitespace (RFC 8259 has only space, tab, CR, LF),
 * though cJSON skips it. Either refuse it there, or place later errors right;
 * never report a wrong position.
 */
static void t_json_other_whitespace(void **state)
{
	static const char text[] = "{\"version\": 1,\n\f\"name\": 5}";
	struct result r;

	(void)state;
	parse(text, &r);
	assert_int_equal(r.rc, -EINVAL);
	assert_int_equal(count_lines(r.err), 1);
	if (!has_error(r.err, F ":2:1: ", "malformed JSON") &&
	    !has_error(r.err, F ":2:10: ", "name must be a string, not a number")) {
		print_error("want \"" F ":2:1: malformed JSON\" or \"" F ":2:10: name must be a string...\", got:\n%s",
			    r.err);
		result_free(&r);
		fail();
	}
	result_free(&r);
}

static void t_too_big(void **state)
{
	size_t len = POLICY_FILE_MAX + 1;
	char *text = malloc(len + 1);

	(void)state;
	memset(text, ' ', len);
	memcpy(text, "{\"version\": 1, \"name\": \"a\"}", 27);
	text[len] = '\0';
	expect_error_r(text, len, &ENV, F ":1:1: ", "limit");
	free(text);
}

/* ---- top level --------------------------------------------------------- */

static void t_not_an_object(void **state)
{
	(void)state;
	expect_error("[1, 2]", F ":1:1: ", "must be a JSON object, not an array");
	expect_error("\n  42\n", F ":2:3: ", "must be a JSON object, not a number");
	expect_error("\"x\"", F ":1:1: ", "must be a JSON object, not a string");
	expect_error("null", F ":1:1: ", "must be a JSON object, not null");
}

static void t_version(void **state)
{
	(void)state;
	expect_error("{\n  \"name\": \"a\"\n}\n", F ":1:1: ", "no \"version\"");
	expect_error("{\n  \"version\": 2,\n  \"name\": \"a\"\n}\n", F ":2:14: ",
		     "unsupported version 2");
	expect_error("{\n  \"version\": 0,\n  \"name\": \"a\"\n}\n", F ":2:14: ",
		     "unsupported version 0");
	expect_error("{\n  \"version\": 1.5,\n  \"name\": \"a\"\n}\n", F ":2:14: ",
		     "unsupported version 1.5");
	expect_error("{\n  \"version\": \"1\",\n  \"name\": \"a\"\n}\n", F ":2:14: ",
		     "version must be the number 1, not a string");
	expect_error("{\n  \"version\": true,\n  \"name\": \"a\"\n}\n", F ":2:14: ",
		     "version must be the number 1, not a boolean");
	expect_error("{\n  \"version\": null,\n  \"name\": \"a\"\n}\n", F ":2:14: ",
		     "version must be the number 1, not null");
	/* "1.0.0" is an MXC policy (tests/unit/test_mxc.c); other schema versions are not. */
	expect_error("{\n  \"version\": \"1.1.0\",\n  \"containment\": \"process\"\n}\n", F ":2:14: ",
		     "MXC schema version \"1.1.0\" is not supported");
}

static void t_unknown_keys(void **state)
{
	(void)state;
	expect_error("{\n  \"version\": 1,\n  \"name\": \"t\",\n  \"netwrok\": {}\n}\n", F ":4:3: ",
		     "unknown key \"netwrok\" in the policy (known: version, name, identity, mode, file, network, presets, match, capabilities)");
	/* Line 4 is `  "file": {"defualt": "deny"}`: the key is at column 12. */
	expect_error("{\n  \"version\": 1,\n  \"name\": \"t\",\n  \"file\": {\"defualt\": \"deny\"}\n}\n",
		     F ":4:12: ", "unknown key \"defualt\" in file (known: default, rules, fileless_exec)");
	expect_rule_error(("{\"path\": \"/a\", \"allow\": [\"read\"], \"audti\": true}"), F ":6:41: ",
		     "unknown key \"audti\" in file.rules[0] (known: path, allow, deny, audit)");
}

/* "match" (warden daemon): exe paths, cgroups, uids, with positions kept for the daemon's messages. */
static void t_match_section(void **state)
{
	struct result r;

	(void)state;
	expect_ok("{\"version\": 1, \"name\": \"m\",\n \"match\": {\"exe\": [\"/usr/bin/agent\", \"/opt/agents/\"],\n"
		  "  \"cgroups\": [\"/system.slice/agent.service/\"], \"uids\": [1000, \"root\"]}}\n", &r);
	assert_true(r.p.has_match);
	assert_int_equal(r.p.nmatch_exe, 2);
	assert_string_equal(r.p.match_exe[0].path, "/usr/bin/agent");
	assert_false(r.p.match_exe[0].subtree);
	assert_string_equal(r.p.match_exe[1].path, "/opt/agents");
	assert_true(r.p.match_exe[1].subtree);
	assert_int_equal(r.p.match_exe[1].line, 2);
	assert_int_equal(r.p.match_exe[1].col, 38);
	assert_int_equal(r.p.nmatch_cgroups, 1);
	assert_string_equal(r.p.match_cgroups[0].path, "system.slice/agent.service");
	assert_int_equal(r.p.nmatch_uids, 2);
	assert_int_equal(r.p.match_uids[0].uid, 1000);
	assert_int_equal(r.p.match_uids[1].uid, 0);
	result_free(&r);

	expect_error("{\"version\": 1, \"name\": \"m\",\n \"match\": {\"exe\": [\"bin/agent\"]}}\n",
		     F ":2:20: ", "path \"bin/agent\" is not absolute");
	expect_error("{\"version\": 1, \"name\": \"m\",\n \"match\": {\"exe\": \"/bin/a\"}}\n",
		     F ":2:19: ", "match.exe must be an array, not a string");
	expect_error("{\"version\": 1, \"name\": \"m\",\n \"match\": {\"cgroups\": [\"/\"]}}\n",
		     F ":2:24: ", "match.cgroups[0] is the root cgroup");
	expect_error("{\"version\": 1, \"name\": \"m\",\n \"match\": {\"cgroups\": [\"a/../b\"]}}\n",
		     F ":2:24: ", "not a normalised cgroup path");
	expect_error("{\"version\": 1, \"name\": \"m\",\n \"match\": {\"uids\": [-1]}}\n",
		     F ":2:21: ", "match.uids[0]: -1 is not a uid");
	expect_error("{\"version\": 1, \"name\": \"m\",\n \"match\": {\"uids\": [\"no-such-user-here\"]}}\n",
		     F ":2:21: ", "no user \"no-such-user-here\" on this machine");
	expect_error("{\"version\": 1, \"name\": \"m\",\n \"match\": {\"uids\": [0]}}\n",
		     F ":2:20: ", "match.uids alone with uid 0");
	expect_error("{\"version\": 1, \"name\": \"m\",\n \"match\": {}}\n",
		     F ":2:11: ", "match is empty");
	expect_error("{\"version\": 1, \"name\": \"m\",\n \"match\": {\"exe\": []}}\n",
		     F ":2:19: ", "match.exe is empty");
	expect_error("{\"version\": 1, \"name\": \"m\",\n \"match\": {\"exes\": [\"/a\"]}}\n",
		     F ":2:12: ", "unknown key \"exes\" in match (known: exe, cgroups, uids)");
}

static void t_duplicate_keys(void **state)
{
	(void)state;
	expect_error("{\n  \"version\": 1,\n  \"name\": \"t\",\n  \"name\": \"u\"\n}\n", F ":4:3: ",
		     "duplicate key \"name\" in the policy");
	expect_error("{\n  \"version\": 1,\n  \"name\": \"t\",\n  \"file\": {\"default\": \"deny\", \"default\": \"allow\"}\n}\n",
		     F ":4:31: ", "duplicate key \"default\" in file");
	expect_rule_error(("{\"path\": \"/a\", \"path\": \"/b\", \"allow\": [\"read\"]}"), F ":6:22: ",
		     "duplicate key \"path\" in file.rules[0]");
}

/* One top-level member on line 4, value at column @col. */
#define TOP(member) "{\n  \"version\": 1,\n  \"name\": \"t\",\n  " member "\n}\n"

static void t_wrong_types_top(void **state)
{
	(void)state;
	expect_error("{\n  \"version\": 1,\n  \"name\": 5\n}\n", F ":3:11: ",
		     "name must be a string, not a number");
	expect_error("{\n  \"version\": 1,\n  \"name\": [\"a\"]\n}\n", F ":3:11: ",
		     "name must be a string, not an array");
	expect_error(TOP("\"identity\": 5"), F ":4:15: ", "identity must be a string, not a number");
	expect_error(TOP("\"identity\": null"), F ":4:15: ", "identity must be a string, not null");
	expect_error(TOP("\"mode\": 1"), F ":4:11: ", "mode must be a string, not a number");
	expect_error(TOP("\"file\": []"), F ":4:11: ", "\"file\" must be an object, not an array");
	expect_error(TOP("\"file\": \"deny\""), F ":4:11: ", "\"file\" must be an object, not a string");
	expect_error(TOP("\"network\": [1]"), F ":4:14: ", "\"network\" must be an object, not an array");
}

static void t_wrong_types_file(void **state)
{
	(void)state;
	/* `  "file": {"default": 1}`: the value is at column 23. */
	expect_error(TOP("\"file\": {\"default\": 1}"), F ":4:23: ",
		     "file.default must be a string, not a number");
	expect_error(TOP("\"file\": {\"default\": \"maybe\"}"), F ":4:23: ",
		     "file.default: \"maybe\" is not one of allow or deny");
	/* `  "file": {"fileless_exec": true}`: column 29. */
	expect_error(TOP("\"file\": {\"fileless_exec\": true}"), F ":4:29: ",
		     "file.fileless_exec must be a string, not a boolean");
	expect_error(TOP("\"file\": {\"fileless_exec\": \"yes\"}"), F ":4:29: ",
		     "file.fileless_exec: \"yes\" is not one of allow or deny");
	/* `  "file": {"rules": {}}`: column 21. */
	expect_error(TOP("\"file\": {\"rules\": {}}"), F ":4:21: ",
		     "file.rules must be an array, not an object");
	expect_error(TOP("\"file\": {\"rules\": null}"), F ":4:21: ",
		     "file.rules must be an array, not null");
}

static void t_wrong_types_rule(void **state)
{
	(void)state;
	expect_rule_error(("\"/a\""), F ":6:7: ", "file.rules[0] must be an object, not a string");
	expect_rule_error(("[\"/a\"]"), F ":6:7: ", "file.rules[0] must be an object, not an array");
	expect_rule_error(("{\"path\": 1, \"allow\": [\"read\"]}"), F ":6:16: ",
		     "file.rules[0].path must be a string, not a number");
	expect_rule_error(("{\"path\": \"\", \"allow\": [\"read\"]}"), F ":6:16: ",
		     "file.rules[0].path is empty");
	expect_rule_error(("{\"allow\": [\"read\"]}"), F ":6:7: ", "file.rules[0] has no \"path\"");
	/* {"path": "/a", "allow": "read"}: "read" at index 24. */
	expect_rule_error(("{\"path\": \"/a\", \"allow\": \"read\"}"), F ":6:31: ",
		     "allow must be an array of rights, not a string");
	expect_rule_error(("{\"path\": \"/a\", \"deny\": {}}"), F ":6:30: ",
		     "deny must be an array of rights, not an object");
	/* {"path": "/a", "allow": ["read", 1]}: 1 at index 33. */
	expect_rule_error(("{\"path\": \"/a\", \"allow\": [\"read\", 1]}"), F ":6:40: ",
		     "a right must be a string, not a number");
	/* {"path": "/a", "allow": ["read"], "audit": "yes"}: "yes" at index 43. */
	expect_rule_error(("{\"path\": \"/a\", \"allow\": [\"read\"], \"audit\": \"yes\"}"), F ":6:50: ",
		     "file.rules[0].audit must be true or false, not a string");
	expect_rule_error(("{\"path\": \"/a\", \"allow\": [\"read\"], \"audit\": 1}"), F ":6:50: ",
		     "file.rules[0].audit must be true or false, not a number");
}

/* The rule index in messages counts from 0 in file order. */
static void t_rule_index_in_message(void **state)
{
	(void)state;
	expect_error(HEAD
		     R "{\"path\": \"/a\", \"allow\": [\"read\"]},\n"
		     R "{\"path\": \"/b\", \"allow\": [\"read\"]},\n"
		     R "{\"path\": 7, \"allow\": [\"read\"]}"
		     TAIL, F ":8:16: ", "file.rules[2].path must be a string");
}

static void t_bad_name(void **state)
{
	char *n64 = repeat('n', 64), *text;

	(void)state;
	expect_error("{\n  \"version\": 1,\n  \"name\": \"\"\n}\n", F ":3:11: ",
		     "name \"\" is invalid: 1 to 63 characters");
	assert_true(asprintf(&text, "{\n  \"version\": 1,\n  \"name\": \"%s\"\n}\n", n64) > 0);
	expect_error(text, F ":3:11: ", "is invalid: 1 to 63 characters");
	free(text);
	free(n64);
	expect_error("{\n  \"version\": 1,\n  \"name\": \"a b\"\n}\n", F ":3:11: ",
		     "name \"a b\" is invalid");
	expect_error("{\n  \"version\": 1,\n  \"name\": \"a/b\"\n}\n", F ":3:11: ",
		     "name \"a/b\" is invalid");
	expect_error("{\n  \"version\": 1,\n  \"name\": \"caf\xc3\xa9\"\n}\n", F ":3:11: ",
		     "is invalid");
	expect_error("{\n  \"version\": 1\n}\n", F ":1:1: ", "no \"name\"");
}

static void t_identity_too_long(void **state)
{
	char *id = repeat('i', 256), *text;
	struct sbuf id8 = {0};

	(void)state;
	assert_true(asprintf(&text, TOP("\"identity\": \"%s\""), id) > 0);
	expect_error(text, F ":4:15: ", "identity is 256 bytes long; the limit is 255");
	free(text);
	free(id);

	/* Bytes, not characters: 128 two-byte characters. */
	for (int i = 0; i < 128; i++)
		sb_puts(&id8, "\xc3\xa9");
	sb_putc(&id8, '\0');
	assert_true(asprintf(&text, TOP("\"identity\": \"%s\""), id8.buf) > 0);
	expect_error(text, F ":4:15: ", "identity is 256 bytes long");
	free(text);
	sb_free(&id8);
}

static void t_unknown_mode(void **state)
{
	(void)state;
	expect_error(TOP("\"mode\": \"strict\""), F ":4:11: ",
		     "mode: \"strict\" is not one of enforce or audit");
	expect_error(TOP("\"mode\": \"Enforce\""), F ":4:11: ", "is not one of enforce or audit");
}

/* ---- paths ------------------------------------------------------------- */

static void t_relative_path(void **state)
{
	(void)state;
	expect_rule_error(("{\"path\": \"a/b\", \"allow\": [\"read\"]}"), F ":6:16: ",
		     "path \"a/b\" is not absolute");
	expect_rule_error(("{\"path\": \"~/.ssh/\", \"deny\": [\"read\"]}"), F ":6:16: ",
		     "is not absolute");
	expect_rule_error(("{\"path\": \" /a\", \"deny\": [\"read\"]}"), F ":6:16: ",
		     "is not absolute");
}

/* Every one at the path value, whatever the position of the fault in the path. */
static void t_unnormalised_paths(void **state)
{
	static const char *const bad[] = {
		"//", "/a//b", "/a//", "//a", "/a/b//", "/./", "/.", "/a/./b", "/a/.", "/a/./",
		"/..", "/../", "/a/../b", "/a/..", "/a/b/../",
	};

	(void)state;
	size_t failed = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *rule, *text;

		assert_true(asprintf(&rule, "{\"path\": \"%s\", \"allow\": [\"read\"]}", bad[i]) > 0);
		text = one_rule(rule);
		if (!check_error_r(text, strlen(text), &ENV, F ":6:16: ", "is not normalised")) {
			print_error("^ path %s was not refused as it should be\n", bad[i]);
			failed++;
		}
		free(text);
		free(rule);
	}
	assert_int_equal(failed, 0);
}

static void t_unknown_variable(void **state)
{
	(void)state;
	expect_rule_error(("{\"path\": \"${USER}/x\", \"allow\": [\"read\"]}"), F ":6:16: ",
		     "unknown variable \"${USER}\"");
	expect_rule_error(("{\"path\": \"${cwd}/x\", \"allow\": [\"read\"]}"), F ":6:16: ",
		     "unknown variable \"${cwd}\"");
	expect_rule_error(("{\"path\": \"/a/${HOME\", \"allow\": [\"read\"]}"), F ":6:16: ",
		     "unknown variable \"${HOME\"");
}

static void t_variable_without_absolute_value(void **state)
{
	const struct policy_env rel = { .cwd = "work", .home = "" };

	(void)state;
	expect_error_r(HEAD R "{\"path\": \"${CWD}/x\", \"allow\": [\"read\"]}" TAIL,
		       strlen(HEAD R "{\"path\": \"${CWD}/x\", \"allow\": [\"read\"]}" TAIL), &rel,
		       F ":6:16: ", "${CWD} has no absolute value");
	expect_error_r(HEAD R "{\"path\": \"${HOME}/x\", \"allow\": [\"read\"]}" TAIL,
		       strlen(HEAD R "{\"path\": \"${HOME}/x\", \"allow\": [\"read\"]}" TAIL), &rel,
		       F ":6:16: ", "${HOME} has no absolute value");
}

/* "\u0000" inside a path must not silently cut the path short. */
static void t_escaped_nul_in_path(void **state)
{
	(void)state;
	/* The error points at the escape itself. */
	expect_rule_error(("{\"path\": \"/tmp\\u0000/secret\", \"deny\": [\"read\"]}"), F ":6:21: ",
		     "\\u0000 in a string");
}

static void t_component_limit(void **state)
{
	char *c255 = repeat('c', 255), *c256 = repeat('c', 256), *rule, *text;
	struct result r;

	(void)state;
	assert_true(asprintf(&rule, "{\"path\": \"/x/%s/y\", \"allow\": [\"read\"]}", c255) > 0);
	text = one_rule(rule);
	expect_ok(text, &r);
	assert_int_equal(strlen(r.p.rules[0].path), 2 + 1 + 255 + 2);
	result_free(&r);
	free(text);
	free(rule);

	assert_true(asprintf(&rule, "{\"path\": \"/x/%s/y\", \"allow\": [\"read\"]}", c256) > 0);
	text = one_rule(rule);
	expect_error(text, F ":6:16: ", "path component is 256 bytes long; the limit is 255");
	free(text);
	free(rule);

	/* Also as the last component of a subtree rule. */
	assert_true(asprintf(&rule, "{\"path\": \"/%s/\", \"allow\": [\"read\"]}", c255) > 0);
	text = one_rule(rule);
	expect_ok(text, &r);
	assert_true(r.p.rules[0].subtree);
	result_free(&r);
	free(text);
	free(rule);
	assert_true(asprintf(&rule, "{\"path\": \"/%s/\", \"allow\": [\"read\"]}", c256) > 0);
	text = one_rule(rule);
	expect_error(text, F ":6:16: ", "path component is 256 bytes long");
	free(text);
	free(rule);
	free(c255);
	free(c256);
}

/* @n bytes of path: components of 255 bytes, the last one shorter. */
static char *long_path(size_t n)
{
	struct sbuf sb = {0};

	while (sb.len < n) {
		size_t left = n - sb.len - 1;	/* after the '/' */

		sb_putc(&sb, '/');
		for (size_t i = 0; i < (left < 255 ? left : 255); i++)
			sb_putc(&sb, 'p');
	}
	sb_putc(&sb, '\0');
	return sb.buf;
}

static void t_path_length_limit(void **state)
{
	char *p4095 = long_path(4095), *p4096 = long_path(4096), *rule, *text;
	struct result r;

	(void)state;
	assert_int_equal(strlen(p4095), 4095);
	assert_int_equal(strlen(p4096), 4096);
	assert_true(asprintf(&rule, "{\"path\": \"%s\", \"allow\": [\"read\"]}", p4095) > 0);
	text = one_rule(rule);
	expect_ok(text, &r);
	assert_string_equal(r.p.rules[0].path, p4095);
	result_free(&r);
	free(text);
	free(rule);

	assert_true(asprintf(&rule, "{\"path\": \"%s\", \"allow\": [\"read\"]}", p4096) > 0);
	text = one_rule(rule);
	expect_error(text, F ":6:16: ", "path is 4096 bytes long; the limit is 4095");
	free(text);
	free(rule);

	/* The limit is on the expanded path: "${HOME}" (7 bytes) becomes 11 bytes. */
	{
		const struct policy_env env = { .cwd = "/c", .home = "/home/user1" };
		char *tail4085 = long_path(4085), *tail4084 = long_path(4084);

		assert_true(asprintf(&rule, "{\"path\": \"${HOME}%s\", \"allow\": [\"read\"]}", tail4085) > 0);
		text = one_rule(rule);
		expect_error_r(text, strlen(text), &env, F ":6:16: ", "path is 4096 bytes long");
		free(text);
		free(rule);
		assert_true(asprintf(&rule, "{\"path\": \"${HOME}%s\", \"allow\": [\"read\"]}", tail4084) > 0);
		text = one_rule(rule);
		expect_ok_env(text, &env, &r);
		assert_int_equal(strlen(r.p.rules[0].path), 4095);
		result_free(&r);
		free(text);
		free(rule);
		free(tail4085);
		free(tail4084);
	}
	free(p4095);
	free(p4096);
}

static char *deep_path(int n, bool slash)
{
	struct sbuf sb = {0};

	for (int i = 0; i < n; i++)
		sb_puts(&sb, "/d");
	if (slash)
		sb_putc(&sb, '/');
	sb_putc(&sb, '\0');
	return sb.buf;
}

static void t_depth_limit(void **state)
{
	struct result r;

	(void)state;
	for (int slash = 0; slash < 2; slash++) {
		char *p64 = deep_path(64, slash), *p65 = deep_path(65, slash), *rule, *text;

		assert_true(asprintf(&rule, "{\"path\": \"%s\", \"allow\": [\"read\"]}", p64) > 0);
		text = one_rule(rule);
		expect_ok(text, &r);
		assert_int_equal(r.p.rules[0].subtree, slash);
		assert_int_equal(strlen(r.p.rules[0].path), 128);
		result_free(&r);
		free(text);
		free(rule);

		assert_true(asprintf(&rule, "{\"path\": \"%s\", \"allow\": [\"read\"]}", p65) > 0);
		text = one_rule(rule);
		expect_error(text, F ":6:16: ", "path has more than 64 components");
		free(text);
		free(rule);
		free(p64);
		free(p65);
	}
}

/* ---- rights ------------------------------------------------------------ */

static void t_rights_errors(void **state)
{
	(void)state;
	/* {"path": "/a", "allow": ["read", "execute"]}: "execute" at index 33. */
	expect_rule_error(("{\"path\": \"/a\", \"allow\": [\"read\", \"execute\"]}"), F ":6:40: ",
		     "unknown right \"execute\" (known: read, write, create, delete, exec, all)");
	expect_rule_error(("{\"path\": \"/a\", \"deny\": [\"READ\"]}"), F ":6:31: ",
		     "unknown right \"READ\"");
	/* Empty arrays: at the "[". */
	expect_rule_error(("{\"path\": \"/a\", \"allow\": []}"), F ":6:31: ",
		     "allow is empty: name at least one right");
	expect_rule_error(("{\"path\": \"/a\", \"deny\": []}"), F ":6:30: ",
		     "deny is empty: name at least one right");
	expect_rule_error(("{\"path\": \"/a\"}"), F ":6:7: ",
		     "file.rules[0] has neither \"allow\" nor \"deny\"");
	expect_rule_error(("{\"path\": \"/a\", \"audit\": true}"), F ":6:7: ",
		     "has neither \"allow\" nor \"deny\"");
	/* {"path": "/a", "allow": ["read"], "deny": ["write", "read"]}: deny's "[" at index 42. */
	expect_rule_error(("{\"path\": \"/a\", \"allow\": [\"read\"], \"deny\": [\"write\", \"read\"]}"),
		     F ":6:49: ", "file.rules[0] both allows and denies the same right");
	expect_rule_error(("{\"path\": \"/a\", \"allow\": [\"all\"], \"deny\": [\"exec\"]}"), F ":6:48: ",
		     "both allows and denies the same right");
}

/* ---- contradictions ---------------------------------------------------- */

static void t_contradiction(void **state)
{
	(void)state;
	expect_error(HEAD
		     R "{\"path\": \"/a/\", \"allow\": [\"read\"]},\n"
		     R "{\"path\": \"/b\", \"allow\": [\"read\"]},\n"
		     R "{\"path\": \"/a/\", \"deny\": [\"write\", \"read\"]}"
		     TAIL, F ":8:7: ", "rule contradicts the rule at line 6 on the same path \"/a/\"");
	/* Deny first, allow second; exact paths; through a variable. */
	expect_error(HEAD
		     R "{\"path\": \"${CWD}/.env\", \"deny\": [\"read\"]},\n"
		     R "{\"path\": \"/home/u/proj/.env\", \"allow\": [\"all\"]}"
		     TAIL, F ":7:7: ", "rule contradicts the rule at line 6 on the same path \"/home/u/proj/.env\"");
	/* The root. */
	expect_error(HEAD
		     R "{\"path\": \"/\", \"deny\": [\"exec\"]},\n"
		     R "{\"path\": \"/\", \"allow\": [\"exec\"]}"
		     TAIL, F ":7:7: ", "rule contradicts the rule at line 6 on the same path \"/\"");
}

/* Three rules on one path: the contradiction is between the first and the third. */
static void t_contradiction_not_adjacent(void **state)
{
	(void)state;
	expect_error(HEAD
		     R "{\"path\": \"/a\", \"allow\": [\"read\"]},\n"
		     R "{\"path\": \"/a\", \"deny\": [\"write\"]},\n"
		     R "{\"path\": \"/a\", \"deny\": [\"read\"]}"
		     TAIL, F ":8:7: ", "rule contradicts the rule at line 6 on the same path \"/a\"");
}

/*
 * Several contradicting groups, interleaved with rules on paths no other
 * rule has: every contradiction, groups in path order, "/x" and "/x/"
 * apart (the whole error text is compared).
 */
static void t_contradiction_groups(void **state)
{
	struct result r;

	(void)state;
	parse(HEAD
	      R "{\"path\": \"/b\", \"allow\": [\"read\"]},\n"
	      R "{\"path\": \"/a\", \"allow\": [\"read\"]},\n"
	      R "{\"path\": \"/c\", \"deny\": [\"read\"]},\n"
	      R "{\"path\": \"/b\", \"deny\": [\"read\"]},\n"
	      R "{\"path\": \"/a/\", \"deny\": [\"read\"]},\n"
	      R "{\"path\": \"/a\", \"deny\": [\"read\"]},\n"
	      R "{\"path\": \"/b\", \"deny\": [\"write\"]},\n"
	      R "{\"path\": \"/a/\", \"allow\": [\"read\"]}"
	      TAIL, &r);
	assert_int_equal(r.rc, -EINVAL);
	assert_string_equal(r.err,
			    F ":11:7: rule contradicts the rule at line 7 on the same path \"/a\"\n"
			    F ":13:7: rule contradicts the rule at line 10 on the same path \"/a/\"\n"
			    F ":9:7: rule contradicts the rule at line 6 on the same path \"/b\"\n");
	result_free(&r);
}

/* One rule past the limit is refused as a whole, at the array. */
static void t_too_many_rules(void **state)
{
	struct sbuf sb = {0};

	(void)state;
	/* `{"version": 1, "name": "t", "file": {"rules": [`: the "[" is at column 47. */
	sb_puts(&sb, "{\"version\": 1, \"name\": \"t\", \"file\": {\"rules\": [");
	for (int i = 0; i < POLICY_RULES_MAX + 1; i++)
		sb_puts(&sb, i ? ",0" : "0");
	sb_puts(&sb, "]}}");
	sb_putc(&sb, '\0');
	expect_error(sb.buf, F ":1:47: ", "file.rules has 200001 rules; the limit is 200000");
	sb_free(&sb);
}

/* ---- several errors ---------------------------------------------------- */

/* "capabilities": names given back, each wrong one with its position and why. */
static void t_capabilities(void **state)
{
	struct result r;

	(void)state;
	parse("{\"version\": 1, \"name\": \"a\", \"capabilities\": [\"CAP_SYS_TIME\", \"CAP_NET_ADMIN\"]}",
	      &r);
	assert_int_equal(r.rc, 0);
	assert_true(r.p.caps_granted == ((1ull << 25) | (1ull << 12)));
	result_free(&r);
	parse("{\"version\": 1, \"name\": \"a\"}", &r);
	assert_int_equal(r.rc, 0);
	assert_true(r.p.caps_granted == 0);
	result_free(&r);
	expect_error("{\"version\": 1, \"name\": \"a\",\n \"capabilities\": \"CAP_SYS_TIME\"}", F ":2:18: ",
		     "capabilities must be an array of capability names");
	expect_error("{\"version\": 1, \"name\": \"a\",\n \"capabilities\": [\"CAP_CHOWN\"]}", F ":2:19: ",
		     "CAP_CHOWN is not one an agent loses");
	expect_error("{\"version\": 1, \"name\": \"a\",\n \"capabilities\": [\"CAP_SYS_MODULE\"]}",
		     F ":2:19: ", "CAP_SYS_MODULE serves only an escape");
	expect_error("{\"version\": 1, \"name\": \"a\",\n \"capabilities\": [\"sys_time\"]}", F ":2:19: ",
		     "\"sys_time\" is not a Linux capability");
	expect_error("{\"version\": 1, \"name\": \"a\",\n \"capabilities\": [\"CAP_SYS_BOOT\", \"CAP_SYS_BOOT\"]}",
		     F ":2:35: ", "CAP_SYS_BOOT is listed twice");
	expect_error("{\"version\": 1, \"name\": \"a\",\n \"capabilities\": [12]}", F ":2:19: ",
		     "a capability is a name");
}

static void t_multiple_errors(void **state)
{
	static const char text[] =
		"{\n"					/* 1 */
		"  \"version\": 2,\n"			/* 2: value at 14 */
		"  \"name\": \"bad name\",\n"		/* 3: value at 11 */
		"  \"mode\": \"strict\",\n"		/* 4: value at 11 */
		"  \"file\": {\n"			/* 5 */
		"    \"default\": \"maybe\",\n"		/* 6: value at 16 */
		"    \"rules\": [\n"			/* 7 */
		"      {\"path\": \"rel\", \"allow\": [\"read\"]},\n"	/* 8: path at 16 */
		"      {\"path\": \"/a\", \"allow\": [\"fly\"]},\n"	/* 9: "fly" at 32 */
		"      {\"path\": \"/b\"}\n"		/* 10: rule at 7 */
		"    ]\n"				/* 11 */
		"  },\n"				/* 12 */
		"  \"extra\": 1\n"			/* 13: key at 3 */
		"}\n";
	static const char *const want[][2] = {
		{ F ":2:14: ", "unsupported version 2" },
		{ F ":3:11: ", "name \"bad name\" is invalid" },
		{ F ":4:11: ", "\"strict\" is not one of enforce or audit" },
		{ F ":6:16: ", "\"maybe\" is not one of allow or deny" },
		{ F ":8:16: ", "path \"rel\" is not absolute" },
		{ F ":9:32: ", "unknown right \"fly\"" },
		{ F ":10:7: ", "file.rules[2] has neither" },
		{ F ":13:3: ", "unknown key \"extra\"" },
	};
	struct result r;

	(void)state;
	parse(text, &r);
	assert_int_equal(r.rc, -EINVAL);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!has_error(r.err, want[i][0], want[i][1])) {
			print_error("missing \"%s%s\" in:\n%s\n", want[i][0], want[i][1], r.err);
			fail();
		}
	}
	assert_int_equal(count_lines(r.err), sizeof(want) / sizeof(want[0]));
	result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_minimal),
		cmocka_unit_test(t_sha256),
		cmocka_unit_test(t_full),
		cmocka_unit_test(t_modes),
		cmocka_unit_test(t_file_section),
		cmocka_unit_test(t_rules),
		cmocka_unit_test(t_expand),
		cmocka_unit_test(t_expand_slashes),
		cmocka_unit_test(t_expand_root_cwd),
		cmocka_unit_test(t_root_and_subtree),
		cmocka_unit_test(t_unusual_components),
		cmocka_unit_test(t_non_contradicting_duplicates),
		cmocka_unit_test(t_limits_accepted),
		cmocka_unit_test(t_policy_load),
		cmocka_unit_test(t_json_truncated),
		cmocka_unit_test(t_json_trailing_garbage),
		cmocka_unit_test(t_json_missing_comma),
		cmocka_unit_test(t_json_nul_byte),
		cmocka_unit_test(t_json_other_whitespace),
		cmocka_unit_test(t_too_big),
		cmocka_unit_test(t_not_an_object),
		cmocka_unit_test(t_version),
		cmocka_unit_test(t_unknown_keys),
		cmocka_unit_test(t_match_section),
		cmocka_unit_test(t_duplicate_keys),
		cmocka_unit_test(t_wrong_types_top),
		cmocka_unit_test(t_wrong_types_file),
		cmocka_unit_test(t_wrong_types_rule),
		cmocka_unit_test(t_rule_index_in_message),
		cmocka_unit_test(t_bad_name),
		cmocka_unit_test(t_identity_too_long),
		cmocka_unit_test(t_unknown_mode),
		cmocka_unit_test(t_relative_path),
		cmocka_unit_test(t_unnormalised_paths),
		cmocka_unit_test(t_unknown_variable),
		cmocka_unit_test(t_variable_without_absolute_value),
		cmocka_unit_test(t_escaped_nul_in_path),
		cmocka_unit_test(t_component_limit),
		cmocka_unit_test(t_path_length_limit),
		cmocka_unit_test(t_depth_limit),
		cmocka_unit_test(t_rights_errors),
		cmocka_unit_test(t_contradiction),
		cmocka_unit_test(t_contradiction_not_adjacent),
		cmocka_unit_test(t_contradiction_groups),
		cmocka_unit_test(t_too_many_rules),
		cmocka_unit_test(t_multiple_errors),
		cmocka_unit_test(t_capabilities),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
