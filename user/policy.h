/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Policy language, version 1 (../shared/CONTRACT.md): parse with cJSON,
 * validate with FILE:LINE:COL errors, compile the file rules into the
 * component tree the kernel walks (struct wd_node), and decide from that
 * tree exactly as the kernel does.
 */
#ifndef WARDEN_POLICY_H
#define WARDEN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "warden.h"
#include "util.h"

/* Limits; beyond them a policy is refused, never truncated. */
#define POLICY_FILE_MAX (16u << 20)	/* bytes of policy text */
#define POLICY_RULES_MAX 200000	/* file rules */
#define POLICY_NAME_MAX 63	/* "name" */
#define POLICY_IDENTITY_MAX 255	/* "identity" */
#define POLICY_NODES_MAX (1u << 20)	/* compiled tree nodes */

#define RIGHTS_ALL ((1u << WD_RIGHT_COUNT) - 1)

struct file_rule {
	char *path;		/* absolute, normalised, variables expanded, no trailing '/' except "/" */
	bool subtree;		/* written with a trailing '/': the directory and all below */
	uint8_t allow;		/* rights allowed, bit per enum wd_right */
	uint8_t deny;		/* rights denied */
	bool audit;		/* report allowed accesses too */
	int line, col;		/* where the rule starts in the policy file */
};

struct policy {
	char *file;		/* file name, for messages */
	char *name;
	char *identity;		/* NULL when absent */
	uint32_t mode;		/* enum wd_mode */
	uint8_t file_default;	/* enum wd_action: ALLOW or DENY */
	bool fileless_exec;	/* "fileless_exec": "allow" */
	struct file_rule *rules;
	size_t nrules;
	bool has_network;	/* a "network" section is present */
};

/* Values for ${CWD} and ${HOME}. */
struct policy_env {
	const char *cwd;
	const char *home;
};

/*
 * Parse and validate @text (from @file). On error, every problem found is
 * appended to @err as "FILE:LINE:COL: message\n" and -EINVAL is returned.
 */
int policy_parse(const char *file, const char *text, size_t len, const struct policy_env *env,
		 struct policy *out, struct sbuf *err);
/* Read @file and parse it; I/O errors are reported in @err as well. */
int policy_load(const char *file, const struct policy_env *env, struct policy *out,
		struct sbuf *err);
void policy_free(struct policy *p);

/* A policy's file rules as the kernel sees them. */
struct compiled {
	struct wd_node_key *keys;
	struct wd_node *nodes;	/* nodes[i] is stored under keys[i] */
	size_t n;
	uint32_t root_id;	/* node id of "/" */
	char **paths;		/* paths[i]: node i's absolute path, for identity lookups */
	size_t *order;		/* indexes into keys, sorted for lookup */
};

/* Node ids are @first_id, @first_id + 1, ...; returns 0 or -E2BIG/-EINVAL with @err. */
int policy_compile(const struct policy *p, uint32_t first_id, struct compiled *out,
		   struct sbuf *err);
void compiled_free(struct compiled *c);

/* The kernel's decision for @right on absolute @path, from the compiled tree. */
int compiled_decide(const struct compiled *c, const char *path, enum wd_right right,
		    struct wd_verdict *out);
/* The same decision, straight from the rules by the contract's definition. */
void policy_decide_reference(const struct policy *p, const char *path, enum wd_right right,
			     struct wd_verdict *out);

uint64_t wd_name_hash(const char *name, size_t len);
const char *right_name(enum wd_right r);
int right_parse(const char *s);	/* enum wd_right, or -1 */

#endif
