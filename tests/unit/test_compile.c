// SPDX-License-Identifier: GPL-2.0
/*
 * Policy compiler (user/policy.c): policy_compile() then compiled_decide()
 * against hand-computed decisions, the node layout the kernel reads, and a
 * differential test of compiled_decide() against policy_decide_reference()
 * over many random policies.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "policy.h"

#define F "t.json"
#define DEF WD_RULE_DEFAULT
#define ALLOW WD_ACT_ALLOW
#define DENY WD_ACT_DENY
#define RD WD_RIGHT_READ
#define WR WD_RIGHT_WRITE
#define CR WD_RIGHT_CREATE
#define DL WD_RIGHT_DELETE
#define EX WD_RIGHT_EXEC
#define B(r) (1u << (r))

static const struct policy_env ENV = { .cwd = "/home/u/proj", .home = "/home/u" };

/* A policy and its compiled tree. */
struct fixture {
	struct policy p;
	struct compiled c;
	bool parsed;		/* p came from policy_parse (policy_free it) */
};

/* Parse {"file": {"default": @dflt, "rules": [@rules]}} and compile it. */
static void build(struct fixture *fx, const char *dflt, const char *rules)
{
	struct sbuf err = {0};
	char *text;
	int rc;

	if (dflt)
		assert_true(asprintf(&text, "{\"version\": 1, \"name\": \"t\", \"file\": {\"default\": \"%s\", \"rules\": [\n%s\n]}}",
				     dflt, rules) > 0);
	else
		assert_true(asprintf(&text, "{\"version\": 1, \"name\": \"t\", \"file\": {\"rules\": [\n%s\n]}}",
				     rules) > 0);
	rc = policy_parse(F, text, strlen(text), &ENV, &fx->p, &err);
	if (rc) {
		sb_putc(&err, '\0');
		print_error("policy refused:\n%s\n%s", text, err.buf);
		fail();
	}
	free(text);
	fx->parsed = true;
	rc = policy_compile(&fx->p, 1, &fx->c, &err);
	if (rc) {
		sb_putc(&err, '\0');
		print_error("policy_compile: %d: %s", rc, err.buf);
		fail();
	}
	sb_free(&err);
}

/* A policy built directly (bypassing the parser's checks); rules are not freed. */
static void build_direct(struct fixture *fx, uint8_t dflt, struct file_rule *rules, size_t n)
{
	struct sbuf err = {0};
	int rc;

	memset(fx, 0, sizeof(*fx));
	fx->p.file = (char *)F;
	fx->p.name = (char *)"t";
	fx->p.file_default = dflt;
	fx->p.rules = rules;
	fx->p.nrules = n;
	rc = policy_compile(&fx->p, 1, &fx->c, &err);
	if (rc) {
		sb_putc(&err, '\0');
		print_error("policy_compile: %d: %s", rc, err.buf);
		fail();
	}
	sb_free(&err);
}

static void fixture_free(struct fixture *fx)
{
	compiled_free(&fx->c);
	if (fx->parsed)
		policy_free(&fx->p);
}

static const char *act_name(int a)
{
	return a == ALLOW ? "allow" : a == DENY ? "deny" : "none";
}

/*
 * Both the compiled tree and the reference must give @action by rule @rule
 * (with @audit). @rule < 0 / @audit < 0: only require that both agree on it.
 */
static bool decision_is(struct fixture *fx, const char *path, enum wd_right right, int action,
			long rule, int audit, int line)
{
	struct wd_verdict c = {0}, r = {0};
	int rc = compiled_decide(&fx->c, path, right, &c);
	bool ok;

	policy_decide_reference(&fx->p, path, right, &r);
	ok = rc == 0 && c.action == action && r.action == action && c.rule == r.rule &&
	     c.audit == r.audit && (rule < 0 || c.rule == (uint32_t)rule) &&
	     (audit < 0 || c.audit == audit);
	if (!ok)
		print_error("line %d: %s %s: want %s rule %ld audit %d; compiled (rc %d) %s rule %d audit %d; reference %s rule %d audit %d\n",
			    line, right_name(right), path, act_name(action), rule, audit, rc,
			    act_name(c.action), (int)c.rule, c.audit, act_name(r.action), (int)r.rule,
			    r.audit);
	return ok;
}

#define EXPECT(fx, path, right, action, rule, audit) \
	assert_true(decision_is(fx, path, right, action, rule, audit, __LINE__))

/* ---- hashing and layout ------------------------------------------------ */

/* FNV-1a over little-endian 64-bit words, written independently of policy.c. */
/* The kernel's definition (bpf/lsm.bpf.c): zero-padded words, 4, 8 or 32 of them. */
static uint64_t fnv_words(const char *s, size_t n)
{
	size_t words = n <= 32 ? 4 : n <= 64 ? 8 : 32;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < words * 8; i += 8) {
		uint64_t w = 0;

		for (size_t k = 0; k < 8 && i + k < n; k++)
			w |= (uint64_t)(unsigned char)s[i + k] << (8 * k);
		h ^= w;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void t_name_hash(void **state)
{
	static const char *const names[] = {
		"a", "ab", "abcdefg", "abcdefgh", "abcdefghi", "a.b", "\xc3\xa9t\xc3\xa9",
		"0123456789abcdef0123456789abcdef!",
	};
	char big[255];

	(void)state;
	memset(big, 0xfe, sizeof(big));
	/* "a": the word 0x61, then three zero words. */
	{
		uint64_t h = (0xcbf29ce484222325ULL ^ 0x61) * 0x100000001b3ULL;

		for (int k = 0; k < 3; k++)
			h *= 0x100000001b3ULL;
		assert_true(wd_name_hash("a", 1) == h);
	}
	/* The size classes: 32 and 33 bytes, 64 and 65. */
	assert_true(wd_name_hash(big, 32) == fnv_words(big, 32));
	assert_true(wd_name_hash(big, 33) == fnv_words(big, 33));
	assert_true(wd_name_hash(big, 64) == fnv_words(big, 64));
	assert_true(wd_name_hash(big, 65) == fnv_words(big, 65));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_true(wd_name_hash(names[i], strlen(names[i])) == fnv_words(names[i], strlen(names[i])));
	memset(big, 0xfe, sizeof(big));
	assert_true(wd_name_hash(big, sizeof(big)) == fnv_words(big, sizeof(big)));
	/* Only @len bytes count. */
	assert_true(wd_name_hash("abXYZ", 2) == wd_name_hash("ab", 2));
	assert_true(wd_name_hash("ab", 2) != wd_name_hash("ba", 2));
}

static void t_rights_names(void **state)
{
	static const char *const names[] = { "read", "write", "create", "delete", "exec" };

	(void)state;
	for (int r = 0; r < WD_RIGHT_COUNT; r++) {
		assert_string_equal(right_name(r), names[r]);
		assert_int_equal(right_parse(names[r]), r);
	}
	assert_int_equal(right_parse("all"), -1);
	assert_int_equal(right_parse("Read"), -1);
	assert_int_equal(right_parse(""), -1);
	assert_string_equal(right_name(WD_RIGHT_COUNT), "?");
}

static const struct wd_node *node_by_key(const struct compiled *c, uint32_t parent,
					 const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->keys[i].parent == parent && c->keys[i].len == strlen(name) &&
		    c->keys[i].hash == wd_name_hash(name, strlen(name)) &&
		    !memcmp(c->nodes[i].name, name, strlen(name)))
			return &c->nodes[i];
	return NULL;
}

static void expect_verdict(const struct wd_verdict *v, int action, uint32_t rule, int audit)
{
	assert_int_equal(v->action, action);
	assert_int_equal(v->rule, rule);
	assert_int_equal(v->audit, audit);
}

/* What the kernel reads: ids from first_id, keys, zero-padded names, folded verdicts. */
/*
 * paths[i] is node i's absolute path (lsm.c lstat()s it for the identity
 * map), parents before children, one node per distinct prefix.
 */
static void t_node_paths(void **state)
{
	static const char *const want[] = { "/", "/a", "/a/bb", "/a/bb/c", "/a/bc", "/ab",
					    "/home", "/home/u", "/home/u/.ssh" };
	struct fixture fx = {0};
	bool seen[sizeof(want) / sizeof(want[0])] = { false };

	(void)state;
	build(&fx, "deny",
	      "{\"path\": \"/ab\", \"allow\": [\"read\"]},\n"
	      "{\"path\": \"/a/bb/c/\", \"allow\": [\"read\"]},\n"
	      "{\"path\": \"/a/bc\", \"deny\": [\"read\"]},\n"
	      "{\"path\": \"${HOME}/.ssh/\", \"deny\": [\"read\"]},\n"
	      "{\"path\": \"/a/bb\", \"allow\": [\"write\"]},\n"
	      "{\"path\": \"/\", \"allow\": [\"exec\"]}");
	assert_int_equal(fx.c.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < fx.c.n; i++) {
		size_t k = 0, parent = i ? fx.c.keys[i].parent - fx.c.root_id : 0;

		while (k < fx.c.n && strcmp(want[k], fx.c.paths[i]))
			k++;
		if (k == fx.c.n) {
			print_error("unexpected node path \"%s\"\n", fx.c.paths[i]);
			fail();
		}
		assert_false(seen[k]);
		seen[k] = true;
		/* The parent's path is this one without its last component. */
		assert_true(parent < i || i == 0);
		if (i) {
			const char *slash = strrchr(fx.c.paths[i], '/');
			size_t plen = slash == fx.c.paths[i] ? 1 : (size_t)(slash - fx.c.paths[i]);

			assert_int_equal(strlen(fx.c.paths[parent]), plen);
			assert_memory_equal(fx.c.paths[parent], fx.c.paths[i], plen);
			assert_string_equal(fx.c.nodes[i].name, slash + 1);
		}
	}
	fixture_free(&fx);
}

static void t_node_layout(void **state)
{
	struct fixture fx = {0};
	struct sbuf err = {0};
	const struct wd_node *root, *x, *y;

	(void)state;
	build(&fx, "deny",
	      "{\"path\": \"/\", \"allow\": [\"read\"]},\n"
	      "{\"path\": \"/x/y\", \"deny\": [\"read\"]},\n"
	      "{\"path\": \"/x/\", \"allow\": [\"write\"], \"audit\": true}");
	compiled_free(&fx.c);
	assert_int_equal(policy_compile(&fx.p, 100, &fx.c, &err), 0);
	assert_int_equal(err.len, 0);
	assert_int_equal(fx.c.n, 3);
	assert_int_equal(fx.c.root_id, 100);

	/* The root: { .parent = 0, .len = 0, .hash = root id }. */
	root = NULL;
	for (size_t i = 0; i < fx.c.n; i++) {
		if (fx.c.keys[i].parent == 0) {
			assert_null(root);
			assert_int_equal(fx.c.keys[i].len, 0);
			assert_true(fx.c.keys[i].hash == 100);
			root = &fx.c.nodes[i];
		}
	}
	assert_non_null(root);
	assert_int_equal(root->id, 100);
	x = node_by_key(&fx.c, root->id, "x");
	assert_non_null(x);
	y = node_by_key(&fx.c, x->id, "y");
	assert_non_null(y);
	/* Ids are 100, 101, 102 in some order. */
	assert_int_equal(root->id + x->id + y->id, 303);
	assert_true(x->id >= 100 && x->id <= 102 && y->id >= 100 && y->id <= 102 && x->id != y->id);
	for (size_t i = 1; i < sizeof(x->name); i++)
		assert_int_equal(x->name[i], 0);
	for (size_t i = 0; i < fx.c.n; i++)
		for (int r = 0; r < WD_RIGHT_COUNT; r++) {
			assert_int_not_equal(fx.c.nodes[i].subtree[r].action, WD_ACT_NONE);
			assert_int_not_equal(fx.c.nodes[i].exact[r].action, WD_ACT_NONE);
		}

	expect_verdict(&root->subtree[RD], ALLOW, 0, 0);
	expect_verdict(&root->exact[RD], ALLOW, 0, 0);
	expect_verdict(&root->subtree[WR], DENY, DEF, 0);
	expect_verdict(&root->subtree[EX], DENY, DEF, 0);
	expect_verdict(&x->subtree[RD], ALLOW, 0, 0);
	expect_verdict(&x->subtree[WR], ALLOW, 2, 1);
	expect_verdict(&x->exact[WR], ALLOW, 2, 1);
	expect_verdict(&x->subtree[CR], DENY, DEF, 0);
	expect_verdict(&y->exact[RD], DENY, 1, 0);
	expect_verdict(&y->subtree[RD], ALLOW, 0, 0);
	expect_verdict(&y->exact[WR], ALLOW, 2, 1);
	expect_verdict(&y->subtree[WR], ALLOW, 2, 1);
	expect_verdict(&y->exact[DL], DENY, DEF, 0);

	/* Decisions do not depend on first_id. */
	EXPECT(&fx, "/x/y", RD, DENY, 1, 0);
	EXPECT(&fx, "/x/y/z", RD, ALLOW, 0, 0);
	sb_free(&err);
	fixture_free(&fx);
}

static void t_decide_errors(void **state)
{
	struct fixture fx = {0};
	struct wd_verdict v;

	(void)state;
	build(&fx, NULL, "{\"path\": \"/a\", \"deny\": [\"read\"]}");
	assert_int_equal(compiled_decide(&fx.c, "a", RD, &v), -EINVAL);
	assert_int_equal(compiled_decide(&fx.c, "", RD, &v), -EINVAL);
	assert_int_equal(compiled_decide(&fx.c, "/a", WD_RIGHT_COUNT, &v), -EINVAL);
	assert_int_equal(compiled_decide(&fx.c, "/a", RD, &v), 0);
	fixture_free(&fx);
}

/* ---- decisions --------------------------------------------------------- */

static void t_defaults(void **state)
{
	static const char *const paths[] = { "/", "/a", "/a/b/c", "/home/u/.ssh/id_rsa" };
	struct fixture fx = {0};

	(void)state;
	build(&fx, NULL, "");
	assert_int_equal(fx.c.n, 1);
	for (size_t i = 0; i < 4; i++)
		for (int r = 0; r < WD_RIGHT_COUNT; r++)
			EXPECT(&fx, paths[i], r, ALLOW, DEF, 0);
	fixture_free(&fx);

	build(&fx, "deny", "");
	for (size_t i = 0; i < 4; i++)
		for (int r = 0; r < WD_RIGHT_COUNT; r++)
			EXPECT(&fx, paths[i], r, DENY, DEF, 0);
	fixture_free(&fx);

	build(&fx, "allow", "{\"path\": \"/a\", \"deny\": [\"read\"]}");
	EXPECT(&fx, "/b", RD, ALLOW, DEF, 0);
	EXPECT(&fx, "/a", WR, ALLOW, DEF, 0);
	EXPECT(&fx, "/a", RD, DENY, 0, 0);
	fixture_free(&fx);
}

static void t_longest_path_wins(void **state)
{
	struct fixture fx = {0};

	(void)state;
	build(&fx, "deny",
	      "{\"path\": \"/\", \"allow\": [\"all\"]},\n"			/* 0 */
	      "{\"path\": \"/home/\", \"deny\": [\"read\"]},\n"			/* 1 */
	      "{\"path\": \"/home/u/\", \"allow\": [\"read\"]},\n"		/* 2 */
	      "{\"path\": \"/home/u/secret\", \"deny\": [\"read\", \"write\"]},\n"	/* 3 */
	      "{\"path\": \"/home/u/secret/inner/\", \"allow\": [\"write\"]}");	/* 4 */
	EXPECT(&fx, "/", RD, ALLOW, 0, 0);
	EXPECT(&fx, "/etc/passwd", RD, ALLOW, 0, 0);
	EXPECT(&fx, "/home", RD, DENY, 1, 0);
	EXPECT(&fx, "/home/x", RD, DENY, 1, 0);
	EXPECT(&fx, "/home/x", WR, ALLOW, 0, 0);	/* rule 1 does not name write */
	EXPECT(&fx, "/home/u", RD, ALLOW, 2, 0);
	EXPECT(&fx, "/home/u/a/b/c", RD, ALLOW, 2, 0);
	EXPECT(&fx, "/home/u/secret", RD, DENY, 3, 0);
	EXPECT(&fx, "/home/u/secret", WR, DENY, 3, 0);
	EXPECT(&fx, "/home/u/secret", EX, ALLOW, 0, 0);
	/* An exact rule does not cover what is below its path. */
	EXPECT(&fx, "/home/u/secret/x", RD, ALLOW, 2, 0);
	EXPECT(&fx, "/home/u/secret/x", WR, ALLOW, 0, 0);
	EXPECT(&fx, "/home/u/secret/inner", WR, ALLOW, 4, 0);
	EXPECT(&fx, "/home/u/secret/inner/deeper", RD, ALLOW, 2, 0);
	EXPECT(&fx, "/home/u/secretx", RD, ALLOW, 2, 0);
	EXPECT(&fx, "/home/uu", RD, DENY, 1, 0);
	fixture_free(&fx);
}

static void t_exact_does_not_cover_children(void **state)
{
	struct fixture fx = {0};

	(void)state;
	build(&fx, "allow",
	      "{\"path\": \"/a\", \"deny\": [\"all\"]},\n"
	      "{\"path\": \"/b/c\", \"deny\": [\"exec\"]}");
	EXPECT(&fx, "/a", RD, DENY, 0, 0);
	EXPECT(&fx, "/a", EX, DENY, 0, 0);
	EXPECT(&fx, "/a/b", RD, ALLOW, DEF, 0);
	EXPECT(&fx, "/a/b/c", DL, ALLOW, DEF, 0);
	EXPECT(&fx, "/b", EX, ALLOW, DEF, 0);
	EXPECT(&fx, "/b/c", EX, DENY, 1, 0);
	EXPECT(&fx, "/b/c/d", EX, ALLOW, DEF, 0);
	fixture_free(&fx);
}

/* Same path, one exact and one subtree rule: a tie that deny wins, in either order. */
static void t_deny_wins_exact_vs_subtree(void **state)
{
	struct fixture fx = {0};

	(void)state;
	build(&fx, "allow",
	      "{\"path\": \"/a/\", \"deny\": [\"read\"]},\n"		/* 0 */
	      "{\"path\": \"/a\", \"allow\": [\"read\", \"write\"]},\n"	/* 1 */
	      "{\"path\": \"/b\", \"deny\": [\"read\"]},\n"		/* 2 */
	      "{\"path\": \"/b/\", \"allow\": [\"read\", \"write\"]}");	/* 3 */
	EXPECT(&fx, "/a", RD, DENY, 0, 0);
	EXPECT(&fx, "/a", WR, ALLOW, 1, 0);
	EXPECT(&fx, "/a/x", RD, DENY, 0, 0);
	EXPECT(&fx, "/a/x", WR, ALLOW, DEF, 0);
	EXPECT(&fx, "/b", RD, DENY, 2, 0);
	EXPECT(&fx, "/b", WR, ALLOW, 3, 0);
	EXPECT(&fx, "/b/x", RD, ALLOW, 3, 0);
	EXPECT(&fx, "/b/x", WR, ALLOW, 3, 0);
	fixture_free(&fx);
}

/*
 * Two rules on one path that allow and deny the same right: the parser
 * refuses them, so build the policy directly. Deny wins the tie.
 */
static void t_deny_wins_same_path(void **state)
{
	struct file_rule r1[] = {
		{ .path = (char *)"/a", .allow = B(RD) },
		{ .path = (char *)"/a", .deny = B(RD) },
		{ .path = (char *)"/d", .subtree = true, .deny = B(WR), .audit = true },
		{ .path = (char *)"/d", .subtree = true, .allow = B(WR) },
	};
	struct file_rule r2[] = {
		{ .path = (char *)"/a", .allow = B(RD) },
		{ .path = (char *)"/a", .deny = B(RD) },
		{ .path = (char *)"/a", .deny = B(RD) },
		{ .path = (char *)"/a", .allow = B(RD) },
	};
	struct fixture fx;

	(void)state;
	build_direct(&fx, ALLOW, r1, 4);
	EXPECT(&fx, "/a", RD, DENY, 1, 0);
	EXPECT(&fx, "/d", WR, DENY, 2, 1);
	EXPECT(&fx, "/d/e", WR, DENY, 2, 1);
	fixture_free(&fx);

	/* The first deny among several decides. */
	build_direct(&fx, ALLOW, r2, 4);
	EXPECT(&fx, "/a", RD, DENY, 1, 0);
	fixture_free(&fx);
}

/*
 * Same path, exact and subtree rules with the SAME action: a tie between two
 * allows (or two denies). The contract does not say which rule is reported,
 * but the compiled tree and the reference must name the same one (and carry
 * its audit flag).
 */
static void t_tie_two_allows_exact_vs_subtree(void **state)
{
	struct fixture fx = {0};

	(void)state;
	build(&fx, "deny",
	      "{\"path\": \"/a/\", \"allow\": [\"read\"]},\n"			/* 0 */
	      "{\"path\": \"/a\", \"allow\": [\"read\"], \"audit\": true}");	/* 1 */
	EXPECT(&fx, "/a/x", RD, ALLOW, 0, 0);
	EXPECT(&fx, "/a", RD, ALLOW, -1, -1);
	fixture_free(&fx);
}

static void t_tie_two_denies_exact_vs_subtree(void **state)
{
	struct fixture fx = {0};

	(void)state;
	build(&fx, "allow",
	      "{\"path\": \"/b/\", \"deny\": [\"read\"], \"audit\": true},\n"	/* 0 */
	      "{\"path\": \"/b\", \"deny\": [\"read\"]}");			/* 1 */
	EXPECT(&fx, "/b/x", RD, DENY, 0, 1);
	EXPECT(&fx, "/b", RD, DENY, -1, -1);
	fixture_free(&fx);
}

/* Two rules on one path with the same action, one auditing: both sides agree. */
static void t_audit_same_path(void **state)
{
	struct file_rule r[] = {
		{ .path = (char *)"/a", .allow = B(RD) },
		{ .path = (char *)"/a", .allow = B(RD), .audit = true },
		{ .path = (char *)"/b", .subtree = true, .deny = B(RD), .audit = true },
		{ .path = (char *)"/b", .subtree = true, .deny = B(RD) },
	};
	struct wd_verdict c, ref;
	struct fixture fx;
	static const char *const paths[] = { "/a", "/b", "/b/c" };

	(void)state;
	build_direct(&fx, DENY, r, 4);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(compiled_decide(&fx.c, paths[i], RD, &c), 0);
		policy_decide_reference(&fx.p, paths[i], RD, &ref);
		print_message("%s: compiled %s rule %u audit %d, reference %s rule %u audit %d\n",
			      paths[i], act_name(c.action), c.rule, c.audit, act_name(ref.action),
			      ref.rule, ref.audit);
		assert_int_equal(c.action, ref.action);
		assert_int_equal(c.rule, ref.rule);
		assert_int_equal(c.audit, ref.audit);
	}
	fixture_free(&fx);
}

static void t_rule_index_and_audit(void **state)
{
	struct fixture fx = {0};

	(void)state;
	build(&fx, "deny",
	      "{\"path\": \"/usr/\", \"allow\": [\"read\", \"exec\"]},\n"			/* 0 */
	      "{\"path\": \"/tmp/\", \"allow\": [\"all\"], \"audit\": true},\n"		/* 1 */
	      "{\"path\": \"/tmp/quiet/\", \"allow\": [\"read\"]},\n"			/* 2 */
	      "{\"path\": \"/etc/shadow\", \"deny\": [\"read\"], \"audit\": true},\n"	/* 3 */
	      "{\"path\": \"/etc/\", \"allow\": [\"read\"], \"audit\": false},\n"		/* 4 */
	      "{\"path\": \"/tmp/x\", \"allow\": [\"write\"]}");				/* 5 */
	EXPECT(&fx, "/usr/bin/cat", EX, ALLOW, 0, 0);
	EXPECT(&fx, "/usr/bin/cat", WR, DENY, DEF, 0);
	EXPECT(&fx, "/tmp", CR, ALLOW, 1, 1);
	EXPECT(&fx, "/tmp/a/b", DL, ALLOW, 1, 1);
	EXPECT(&fx, "/tmp/quiet/f", RD, ALLOW, 2, 0);
	EXPECT(&fx, "/tmp/quiet/f", WR, ALLOW, 1, 1);
	EXPECT(&fx, "/tmp/x", WR, ALLOW, 5, 0);
	EXPECT(&fx, "/tmp/x", RD, ALLOW, 1, 1);
	EXPECT(&fx, "/tmp/x/y", WR, ALLOW, 1, 1);
	EXPECT(&fx, "/etc/shadow", RD, DENY, 3, 1);
	EXPECT(&fx, "/etc/passwd", RD, ALLOW, 4, 0);
	EXPECT(&fx, "/etc/shadow", WR, DENY, DEF, 0);
	fixture_free(&fx);
}

static void t_root_subtree_rule(void **state)
{
	struct fixture fx = {0};

	(void)state;
	build(&fx, "allow",
	      "{\"path\": \"/\", \"deny\": [\"write\"], \"audit\": true},\n"	/* 0 */
	      "{\"path\": \"/w/\", \"allow\": [\"write\"]}");			/* 1 */
	EXPECT(&fx, "/", WR, DENY, 0, 1);
	EXPECT(&fx, "/", RD, ALLOW, DEF, 0);
	EXPECT(&fx, "/x", WR, DENY, 0, 1);
	EXPECT(&fx, "/x/y/z/w", WR, DENY, 0, 1);
	EXPECT(&fx, "/w", WR, ALLOW, 1, 0);
	EXPECT(&fx, "/w/1/2", WR, ALLOW, 1, 0);
	EXPECT(&fx, "/ww", WR, DENY, 0, 1);
	fixture_free(&fx);
}

static void t_deeper_than_rules(void **state)
{
	struct fixture fx = {0};

	(void)state;
	build(&fx, "deny",
	      "{\"path\": \"/a/b/\", \"allow\": [\"read\"]},\n"	/* 0 */
	      "{\"path\": \"/a/b/c/d\", \"deny\": [\"read\"]}");	/* 1 */
	EXPECT(&fx, "/a/b/c/d/e/f/g/h/i/j/k", RD, ALLOW, 0, 0);
	EXPECT(&fx, "/a/b/c/d", RD, DENY, 1, 0);
	EXPECT(&fx, "/a/b/c", RD, ALLOW, 0, 0);
	EXPECT(&fx, "/a", RD, DENY, DEF, 0);
	EXPECT(&fx, "/a/c/b", RD, DENY, DEF, 0);
	fixture_free(&fx);
}

/* Sibling names sharing a prefix must stay distinct nodes, whatever the sort order. */
static void t_sibling_prefixes(void **state)
{
	struct fixture fx = {0};

	(void)state;
	build(&fx, "allow",
	      "{\"path\": \"/a-b\", \"deny\": [\"read\"]},\n"		/* 0 */
	      "{\"path\": \"/a/\", \"deny\": [\"read\"]},\n"		/* 1 */
	      "{\"path\": \"/ab/\", \"allow\": [\"read\"], \"audit\": true},\n"	/* 2 */
	      "{\"path\": \"/a.b/\", \"deny\": [\"exec\"]},\n"		/* 3 */
	      "{\"path\": \"/a/b\", \"allow\": [\"read\"]},\n"		/* 4 */
	      "{\"path\": \"/a/b-c/\", \"deny\": [\"write\"]},\n"	/* 5 */
	      "{\"path\": \"/a/b/c/\", \"deny\": [\"delete\"]},\n"	/* 6 */
	      "{\"path\": \"/ab/c\", \"deny\": [\"read\"]},\n"		/* 7 */
	      "{\"path\": \"/a0\", \"deny\": [\"create\"]},\n"		/* 8 */
	      "{\"path\": \"/a/b.c\", \"deny\": [\"exec\"]}");		/* 9 */
	EXPECT(&fx, "/a", RD, DENY, 1, 0);
	EXPECT(&fx, "/a/x", RD, DENY, 1, 0);
	EXPECT(&fx, "/a/b", RD, ALLOW, 4, 0);
	EXPECT(&fx, "/a/b/x", RD, DENY, 1, 0);
	EXPECT(&fx, "/a/b/c/d", DL, DENY, 6, 0);
	EXPECT(&fx, "/a/b-c/x", WR, DENY, 5, 0);
	EXPECT(&fx, "/a/b.c", EX, DENY, 9, 0);
	EXPECT(&fx, "/a/b.c", WR, ALLOW, DEF, 0);
	EXPECT(&fx, "/a/bc", WR, ALLOW, DEF, 0);
	EXPECT(&fx, "/ab", RD, ALLOW, 2, 1);
	EXPECT(&fx, "/ab/c", RD, DENY, 7, 0);
	EXPECT(&fx, "/ab/d", RD, ALLOW, 2, 1);
	EXPECT(&fx, "/a-b", RD, DENY, 0, 0);
	EXPECT(&fx, "/a-b/x", RD, ALLOW, DEF, 0);
	EXPECT(&fx, "/a.b/x/y", EX, DENY, 3, 0);
	EXPECT(&fx, "/a.b", RD, ALLOW, DEF, 0);
	EXPECT(&fx, "/a0", CR, DENY, 8, 0);
	EXPECT(&fx, "/abc", RD, ALLOW, DEF, 0);
	EXPECT(&fx, "/b", RD, ALLOW, DEF, 0);
	fixture_free(&fx);
}

/* A component that sorts between "/a/..." paths (byte 0x01 < '/'-as-separator) must not split /a. */
static void t_component_with_control_byte(void **state)
{
	struct fixture fx = {0};

	(void)state;
	build(&fx, "allow",
	      "{\"path\": \"/a/b\", \"deny\": [\"read\"]},\n"		/* 0 */
	      "{\"path\": \"/a\\u0001c\", \"deny\": [\"read\"]},\n"	/* 1 */
	      "{\"path\": \"/a/d\", \"deny\": [\"write\"]}");		/* 2 */
	EXPECT(&fx, "/a/b", RD, DENY, 0, 0);
	EXPECT(&fx, "/a\001c", RD, DENY, 1, 0);
	EXPECT(&fx, "/a/d", WR, DENY, 2, 0);
	fixture_free(&fx);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* A query component longer than 255 bytes matches no node: the deepest match's subtree decides. */
static void t_long_query_component(void **state)
{
	char *c255 = repeat('b', 255), *c256 = repeat('b', 256), *c300 = repeat('b', 300);
	char *rules, *path;
	struct fixture fx = {0};

	(void)state;
	assert_true(asprintf(&rules,
			     "{\"path\": \"/a/\", \"deny\": [\"read\"]},\n"		/* 0 */
			     "{\"path\": \"/a/%s\", \"allow\": [\"read\"]},\n"		/* 1 */
			     "{\"path\": \"/a/%s/\", \"allow\": [\"write\"]},\n"	/* 2 */
			     "{\"path\": \"/a/b/\", \"allow\": [\"read\"]}",		/* 3 */
			     c255, c255) > 0);
	build(&fx, "allow", rules);
	assert_true(asprintf(&path, "/a/%s", c255) > 0);
	EXPECT(&fx, path, RD, ALLOW, 1, 0);
	EXPECT(&fx, path, WR, ALLOW, 2, 0);
	free(path);
	assert_true(asprintf(&path, "/a/%s", c256) > 0);
	EXPECT(&fx, path, RD, DENY, 0, 0);
	EXPECT(&fx, path, WR, ALLOW, DEF, 0);
	free(path);
	assert_true(asprintf(&path, "/a/%s/x", c300) > 0);
	EXPECT(&fx, path, RD, DENY, 0, 0);
	free(path);
	assert_true(asprintf(&path, "/a/b/%s", c300) > 0);
	EXPECT(&fx, path, RD, ALLOW, 3, 0);
	free(path);
	assert_true(asprintf(&path, "/%s/a", c300) > 0);
	EXPECT(&fx, path, RD, ALLOW, DEF, 0);
	free(path);
	assert_true(asprintf(&path, "/a/%s/x", c255) > 0);
	EXPECT(&fx, path, RD, DENY, 0, 0);
	EXPECT(&fx, path, WR, ALLOW, 2, 0);
	free(path);
	fixture_free(&fx);
	free(rules);
	free(c255);
	free(c256);
	free(c300);
}

/* Rule paths at the parser's limits compile and decide. */
static void t_limit_paths(void **state)
{
	struct sbuf p4095 = {0}, p64 = {0}, rules = {0};
	struct fixture fx = {0};
	char *below;

	(void)state;
	for (int i = 0; i < 15; i++) {
		sb_putc(&p4095, '/');
		for (int k = 0; k < 255; k++)
			sb_putc(&p4095, 'a' + i);
	}
	sb_putc(&p4095, '/');
	for (int k = 0; k < 254; k++)
		sb_putc(&p4095, 'z');
	sb_putc(&p4095, '\0');
	assert_int_equal(strlen(p4095.buf), 4095);
	for (int i = 0; i < 64; i++)
		sb_printf(&p64, "/%d", i);
	sb_putc(&p64, '\0');
	sb_printf(&rules, "{\"path\": \"%s\", \"deny\": [\"read\"]},\n", p4095.buf);
	sb_printf(&rules, "{\"path\": \"%s/\", \"deny\": [\"write\"]}", p64.buf);
	sb_putc(&rules, '\0');
	build(&fx, "allow", rules.buf);
	assert_int_equal(fx.c.n, 1 + 16 + 64);
	EXPECT(&fx, p4095.buf, RD, DENY, 0, 0);
	p4095.buf[4094] = 'y';
	EXPECT(&fx, p4095.buf, RD, ALLOW, DEF, 0);
	EXPECT(&fx, p64.buf, WR, DENY, 1, 0);
	assert_true(asprintf(&below, "%s/x/y", p64.buf) > 0);
	EXPECT(&fx, below, WR, DENY, 1, 0);
	free(below);
	p64.buf[p64.len - 2] = '\0';	/* "/0/.../62/6": the 64th component is not "63" */
	EXPECT(&fx, p64.buf, WR, ALLOW, DEF, 0);
	fixture_free(&fx);
	sb_free(&p4095);
	sb_free(&p64);
	sb_free(&rules);
}

/* ---- random policies --------------------------------------------------- */

/* xorshift64*: fixed seed, same sequence everywhere. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned rndn(unsigned n)
{
	return (unsigned)((rnd() >> 11) % n);
}

static const char *const ALPHA[] = { "a", "b", "ab", "a.b", "c" };
#define NALPHA (sizeof(ALPHA) / sizeof(ALPHA[0]))

struct grule {
	char path[64];		/* normalised, no trailing '/' except "/" */
	bool subtree;
	uint8_t allow, deny;
	bool audit;
};

struct gpolicy {
	struct grule r[30];
	int n;
	bool deny_default, has_default;
};

static void gen_path(char *buf, size_t size, int depth)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < depth; i++)
		len += snprintf(buf + len, size - len, "/%s", ALPHA[rndn(NALPHA)]);
	if (!depth)
		snprintf(buf, size, "/");
}

/* Rights named by a random rule; mostly consistent per (path, right) so that most policies are valid. */
static void gen_policy(struct gpolicy *g)
{
	uint64_t polarity_seed = rnd();

	g->n = rndn(31);
	g->has_default = rndn(3) != 0;
	g->deny_default = rndn(2);
	for (int i = 0; i < g->n; i++) {
		struct grule *r = &g->r[i];
		static const unsigned depth_w[] = { 0, 1, 1, 1, 2, 2, 2, 3, 3, 4 };
		int depth = depth_w[rndn(10)];
		uint64_t h = polarity_seed;

		gen_path(r->path, sizeof(r->path), depth);
		r->subtree = depth == 0 || rndn(2);
		r->allow = r->deny = 0;
		r->audit = rndn(4) == 0;
		for (const char *s = r->path; *s; s++)
			h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
		h ^= r->subtree;
		do {
			for (int b = 0; b < WD_RIGHT_COUNT; b++) {
				bool deny;

				if (rndn(5) >= 2)
					continue;
				deny = rndn(25) == 0 ? rndn(2) : (h >> (7 * b + 3)) & 1;
				if (deny)
					r->deny |= B(b);
				else
					r->allow |= B(b);
			}
		} while (!(r->allow | r->deny));
	}
}

static void put_rights(struct sbuf *sb, const char *key, uint8_t mask)
{
	bool first = true;

	sb_printf(sb, ", \"%s\": [", key);
	if (mask == RIGHTS_ALL && rndn(2)) {
		sb_puts(sb, "\"all\"]");
		return;
	}
	for (int b = 0; b < WD_RIGHT_COUNT; b++) {
		if (!(mask & B(b)))
			continue;
		sb_printf(sb, "%s\"%s\"", first ? "" : ", ", right_name(b));
		first = false;
	}
	sb_putc(sb, ']');
}

static char *policy_json(const struct gpolicy *g)
{
	struct sbuf sb = {0};

	sb_puts(&sb, "{\"version\": 1, \"name\": \"gen\", \"file\": {");
	if (g->has_default)
		sb_printf(&sb, "\"default\": \"%s\", ", g->deny_default ? "deny" : "allow");
	sb_puts(&sb, "\"rules\": [\n");
	for (int i = 0; i < g->n; i++) {
		const struct grule *r = &g->r[i];

		sb_printf(&sb, "  {\"path\": \"%s%s\"", r->path, r->subtree && strcmp(r->path, "/") ? "/" : "");
		if (r->allow)
			put_rights(&sb, "allow", r->allow);
		if (r->deny)
			put_rights(&sb, "deny", r->deny);
		if (r->audit || rndn(8) == 0)
			sb_printf(&sb, ", \"audit\": %s", r->audit ? "true" : "false");
		sb_printf(&sb, "}%s\n", i + 1 < g->n ? "," : "");
	}
	sb_puts(&sb, "]}}");
	sb_putc(&sb, '\0');
	return sb.buf;
}

/* Two rules on one path (and kind) that allow and deny one right. */
static bool contradicts(const struct gpolicy *g)
{
	for (int i = 0; i < g->n; i++)
		for (int j = i + 1; j < g->n; j++)
			if (!strcmp(g->r[i].path, g->r[j].path) && g->r[i].subtree == g->r[j].subtree &&
			    ((g->r[i].allow & g->r[j].deny) || (g->r[i].deny & g->r[j].allow)))
				return true;
	return false;
}

#define NPOLICIES 2000
#define NPATHS 40
#define SEED 0x5eed0f0a11ULL

struct diff_stats {
	long accepted, rejected, decisions;
	long mismatch;		/* action or rule index differ */
	long mismatch_tie;	/* ... where both deciding rules are on the same path, one exact one subtree */
	long audit_mismatch;	/* action and rule agree, audit differs */
	long wrong_reject, wrong_accept;	/* parser vs our own contradiction check */
	long compile_fail;
};

static void print_policy_rules(const struct policy *p)
{
	for (size_t i = 0; i < p->nrules; i++)
		print_message("    rules[%zu] %s%s allow %#x deny %#x audit %d\n", i, p->rules[i].path,
			      p->rules[i].subtree && strcmp(p->rules[i].path, "/") ? "/" : "",
			      p->rules[i].allow, p->rules[i].deny, p->rules[i].audit);
}

static void run_differential_once(struct diff_stats *st)
{
	int shown = 0, shown_audit = 0, shown_parse = 0;

	memset(st, 0, sizeof(*st));
	rng_state = SEED;
	for (int k = 0; k < NPOLICIES; k++) {
		struct gpolicy g;
		struct policy p;
		struct compiled c;
		struct sbuf err = {0};
		char *text;
		bool bad;
		int rc;

		gen_policy(&g);
		text = policy_json(&g);
		bad = contradicts(&g);
		rc = policy_parse(F, text, strlen(text), &ENV, &p, &err);
		if (rc != 0 && !bad)
			st->wrong_reject++;
		if (rc == 0 && bad) {
			st->wrong_accept++;
			if (shown_parse++ < 2)
				print_message("parser accepted contradicting policy #%d (rules below)\n", k);
		}
		free(text);
		if (rc) {
			st->rejected++;
			policy_free(&p);
			sb_free(&err);
			continue;
		}
		st->accepted++;
		if (bad && shown_parse <= 2)
			print_policy_rules(&p);
		if (policy_compile(&p, 1 + k, &c, &err)) {
			st->compile_fail++;
			policy_free(&p);
			sb_free(&err);
			continue;
		}
		for (int q = 0; q < NPATHS; q++) {
			char path[4096];
			int depth = rndn(7);
			size_t len = 0;

			for (int i = 0; i < depth; i++) {
				unsigned pick = rndn(40);

				if (pick == 0)
					len += snprintf(path + len, sizeof(path) - len, "/%0300d", 0);
				else if (pick == 1)
					len += snprintf(path + len, sizeof(path) - len, "/zz");
				else
					len += snprintf(path + len, sizeof(path) - len, "/%s", ALPHA[rndn(NALPHA)]);
			}
			if (!depth)
				strcpy(path, "/");
			for (int r = 0; r < WD_RIGHT_COUNT; r++) {
				struct wd_verdict vc = {0}, vr = {0};

				assert_int_equal(compiled_decide(&c, path, r, &vc), 0);
				policy_decide_reference(&p, path, r, &vr);
				st->decisions++;
				if (vc.action != vr.action || vc.rule != vr.rule) {
					bool tie = vc.rule != DEF && vr.rule != DEF &&
						   !strcmp(p.rules[vc.rule].path, p.rules[vr.rule].path) &&
						   p.rules[vc.rule].subtree != p.rules[vr.rule].subtree;

					st->mismatch++;
					st->mismatch_tie += tie;
					if (shown++ < 2 || (!tie && shown < 20)) {
						print_message("policy #%d %s %s: compiled %s rule %d, reference %s rule %d%s\n",
							      k, right_name(r), path, act_name(vc.action),
							      (int)vc.rule, act_name(vr.action), (int)vr.rule,
							      tie ? " (exact/subtree tie)" : "");
						print_policy_rules(&p);
					}
				} else if (vc.audit != vr.audit) {
					st->audit_mismatch++;
					if (shown_audit++ < 2) {
						print_message("policy #%d %s %s: rule %d, compiled audit %d, reference audit %d\n",
							      k, right_name(r), path, (int)vc.rule, vc.audit,
							      vr.audit);
						print_policy_rules(&p);
					}
				}
			}
		}
		compiled_free(&c);
		policy_free(&p);
		sb_free(&err);
	}
	print_message("%d policies: %ld accepted, %ld rejected; %ld decisions; %ld action/rule mismatches (%ld exact/subtree ties), %ld audit-only mismatches; parser: %ld wrongly rejected, %ld wrongly accepted; %ld compile failures\n",
		      NPOLICIES, st->accepted, st->rejected, st->decisions, st->mismatch,
		      st->mismatch_tie, st->audit_mismatch, st->wrong_reject, st->wrong_accept,
		      st->compile_fail);
}

/* The three tests below look at one run. */
static void run_differential(struct diff_stats *st)
{
	static struct diff_stats cached;
	static bool done;

	if (!done)
		run_differential_once(&cached);
	done = true;
	*st = cached;
}

/* compiled_decide() == policy_decide_reference(): action and rule index, every right. */
static void t_differential(void **state)
{
	struct diff_stats st;

	(void)state;
	run_differential(&st);
	assert_true(st.accepted + st.rejected == NPOLICIES);
	assert_true(st.accepted > NPOLICIES * 3 / 4);
	assert_true(st.rejected > 0);	/* contradictions are generated too */
	assert_true(st.decisions > 100000);
	assert_int_equal(st.compile_fail, 0);
	assert_int_equal(st.mismatch, 0);
}

/* Same random policies: the audit flag also agrees. */
static void t_differential_audit(void **state)
{
	struct diff_stats st;

	(void)state;
	run_differential(&st);
	assert_int_equal(st.audit_mismatch, 0);
}

/* Same random policies: the parser refuses exactly those with contradicting rules. */
static void t_differential_contradictions(void **state)
{
	struct diff_stats st;

	(void)state;
	run_differential(&st);
	assert_int_equal(st.wrong_reject, 0);
	assert_int_equal(st.wrong_accept, 0);
}

/* ---- scale ------------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * 100,000 rules: /dNN/ (i % 1000 == 0) allows read and denies write below
 * it; /dNN/fMMM denies read (odd i) or allows read and write (even i).
 */
#define SCALE_RULES 100000

static void scale_rule(int i, char *path, size_t size, struct file_rule *r)
{
	memset(r, 0, sizeof(*r));
	if (i % 1000 == 0) {
		snprintf(path, size, "/d%02d", i / 1000);
		r->subtree = true;
		r->allow = B(RD);
		r->deny = B(WR);
	} else {
		snprintf(path, size, "/d%02d/f%03d", i / 1000, i % 1000);
		if (i % 2)
			r->deny = B(RD);
		else
			r->allow = B(RD) | B(WR);
	}
}

static void scale_checks(struct fixture *fx)
{
	EXPECT(fx, "/d05/f001", RD, DENY, 5001, 0);
	EXPECT(fx, "/d05/f001", WR, DENY, 5000, 0);
	EXPECT(fx, "/d05/f002", RD, ALLOW, 5002, 0);
	EXPECT(fx, "/d05/f002", WR, ALLOW, 5002, 0);
	EXPECT(fx, "/d05/f000", RD, ALLOW, 5000, 0);
	EXPECT(fx, "/d05", RD, ALLOW, 5000, 0);
	EXPECT(fx, "/d05/x/y", WR, DENY, 5000, 0);
	EXPECT(fx, "/d05/f002/x", WR, DENY, 5000, 0);
	EXPECT(fx, "/d00/f000", EX, DENY, DEF, 0);
	EXPECT(fx, "/d99/f999", RD, DENY, 99999, 0);
	EXPECT(fx, "/d99/f998", WR, ALLOW, 99998, 0);
	EXPECT(fx, "/d100/f001", RD, DENY, DEF, 0);
	EXPECT(fx, "/x", RD, DENY, DEF, 0);
}

/*
 * Time limits below are multiplied by $WARDEN_TIME_SCALE (default 1): under
 * valgrind (tests/valgrind/run.sh) everything runs some 20 times slower, and
 * what is checked there is memory, not speed.
 */
static double time_scale(void)
{
	const char *s = getenv("WARDEN_TIME_SCALE");
	double v = s ? atof(s) : 1.0;

	return v >= 1.0 ? v : 1.0;
}

/* The compiler and decisions at scale, on a policy built directly. */
static void t_scale_compile(void **state)
{
	struct file_rule *rules = calloc(SCALE_RULES, sizeof(*rules));
	char (*paths)[16] = calloc(SCALE_RULES, sizeof(*paths));
	struct fixture fx;
	double t0 = now(), t1;

	(void)state;
	for (int i = 0; i < SCALE_RULES; i++) {
		scale_rule(i, paths[i], sizeof(paths[i]), &rules[i]);
		rules[i].path = paths[i];
	}
	build_direct(&fx, DENY, rules, SCALE_RULES);
	assert_int_equal(fx.c.n, 1 + 100 + 99900);
	scale_checks(&fx);
	t1 = now();
	print_message("%d rules: compile and %d decisions in %.2f s\n", SCALE_RULES, 13, t1 - t0);
	assert_true(t1 - t0 < 5.0 * time_scale());
	fixture_free(&fx);
	free(rules);
	free(paths);
}

/*
 * The same 100,000 rules as policy text, through policy_parse(): the policy
 * format allows 200,000 rules, so 100,000 must parse in seconds. Run in a
 * child with a 10 s alarm so that a slow parser fails the test quickly.
 */
static void t_scale_parse(void **state)
{
	struct sbuf sb = {0};
	int status;
	pid_t pid;

	(void)state;
	for (int i = 0; i < SCALE_RULES; i++) {
		const char *sep = i ? ",\n" : "";
		struct file_rule r;
		char path[16];

		scale_rule(i, path, sizeof(path), &r);
		sb_printf(&sb, "%s{\"path\": \"%s%s\"", sep, path, r.subtree ? "/" : "");
		if (r.allow)
			put_rights(&sb, "allow", r.allow);
		if (r.deny)
			put_rights(&sb, "deny", r.deny);
		sb_putc(&sb, '}');
	}
	sb_putc(&sb, '\0');
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct fixture fx = {0};
		double t0;

		alarm(10 * time_scale());
		t0 = now();
		build(&fx, "deny", sb.buf);
		assert_int_equal(fx.p.nrules, SCALE_RULES);
		assert_int_equal(fx.p.rules[SCALE_RULES - 1].line, SCALE_RULES + 1);
		scale_checks(&fx);
		print_message("%d rules: parse, compile and %d decisions in %.2f s\n", SCALE_RULES, 13,
			      now() - t0);
		_exit(now() - t0 < 5.0 * time_scale() ? 0 : 3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		print_error("policy_parse() of %d rules took more than 10 s\n", SCALE_RULES);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		print_error("policy_parse() of %d rules took more than 5 s\n", SCALE_RULES);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	sb_free(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_name_hash),
		cmocka_unit_test(t_rights_names),
		cmocka_unit_test(t_node_layout),
		cmocka_unit_test(t_node_paths),
		cmocka_unit_test(t_decide_errors),
		cmocka_unit_test(t_defaults),
		cmocka_unit_test(t_longest_path_wins),
		cmocka_unit_test(t_exact_does_not_cover_children),
		cmocka_unit_test(t_deny_wins_exact_vs_subtree),
		cmocka_unit_test(t_deny_wins_same_path),
		cmocka_unit_test(t_tie_two_allows_exact_vs_subtree),
		cmocka_unit_test(t_tie_two_denies_exact_vs_subtree),
		cmocka_unit_test(t_audit_same_path),
		cmocka_unit_test(t_rule_index_and_audit),
		cmocka_unit_test(t_root_subtree_rule),
		cmocka_unit_test(t_deeper_than_rules),
		cmocka_unit_test(t_sibling_prefixes),
		cmocka_unit_test(t_component_with_control_byte),
		cmocka_unit_test(t_long_query_component),
		cmocka_unit_test(t_limit_paths),
		cmocka_unit_test(t_differential),
		cmocka_unit_test(t_differential_audit),
		cmocka_unit_test(t_differential_contradictions),
		cmocka_unit_test(t_scale_compile),
		cmocka_unit_test(t_scale_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
