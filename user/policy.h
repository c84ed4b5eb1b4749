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
	const char *preset;	/* the preset (NAME of presets.NAME) that added the rule, else NULL */
	uint8_t allow;		/* rights allowed, bit per enum wd_right */
	uint8_t deny;		/* rights denied */
	bool audit;		/* report allowed accesses too */
	int line, col;		/* where the rule starts in the policy file */
};

/* Network rights, bit numbers. */
enum net_right {
	NET_CONNECT = 0,	/* TCP connect, UDP send or connect */
	NET_BIND = 1,		/* bind a local port */
	NET_RIGHT_COUNT = 2,
};

enum net_proto {
	NET_PROTO_ANY = 0,
	NET_PROTO_TCP = 1,
	NET_PROTO_UDP = 2,
};

#define NET_PORT_RANGES_MAX 64	/* "ports" entries in one rule */

struct port_range {
	uint16_t lo, hi;	/* inclusive */
};

struct net_rule {
	bool is_host;		/* a "host" rule, else "cidr" */
	char *host;		/* lower case, without a leading "*." */
	bool wildcard;		/* "*.example.com": every name under it */
	int family;		/* AF_INET or AF_INET6 (cidr rules) */
	uint8_t addr[16];	/* network address, big endian; IPv4 in addr[0..3] */
	int prefix;		/* prefix length */
	struct port_range *ports;	/* NULL: every port */
	size_t nports;
	uint8_t protocol;	/* enum net_proto */
	uint8_t allow, deny;	/* bit per enum net_right */
	bool audit;
	int line, col;
};

struct policy {
	char *file;		/* file name, for messages */
	char sha256[65];	/* of the policy text as loaded, lower-case hex: its version in events */
	char *name;
	char *identity;		/* NULL when absent */
	uint32_t mode;		/* enum wd_mode */
	uint8_t file_default;	/* enum wd_action: ALLOW or DENY */
	bool fileless_exec;	/* "fileless_exec": "allow" */
	struct file_rule *rules;
	size_t nrules;
	bool has_network;	/* the policy restricts the network */
	uint8_t net_default;	/* enum wd_action: ALLOW or DENY */
	bool net_raw;		/* "raw": "allow" */
	bool net_abstract_unix;	/* "abstract_unix": "allow" */
	bool no_abstract_unix;	/* abstract unix sockets outside the instance are denied */
	uint64_t caps_granted;	/* "capabilities": bit per CAP_* given back (of WD_CAPS_GRANTABLE) */
	struct net_rule *net_rules;
	size_t nnet;
	char *unenforceable;	/* why run must refuse this policy (MXC parts not translated), or NULL */
	bool has_match;		/* the policy has a "match" section */
	struct match_entry *match_exe, *match_cgroups, *match_uids;
	size_t nmatch_exe, nmatch_cgroups, nmatch_uids;
	char **notes;		/* MXC: "FILE:LINE:COL: ..." for fields Warden cannot honour */
	size_t nnotes;
};

/*
 * "match" (warden daemon): which processes the daemon binds to the policy
 * when they exec. Kinds are ANDed, the entries of one kind ORed.
 */
struct match_entry {
	char *path;		/* exe: absolute, normalised; cgroups: under the cgroup2 mount, no leading '/' */
	bool subtree;		/* exe written with a trailing '/': every program below */
	uint32_t uid;		/* uids: the uid (a user name is resolved at load) */
	int line, col;		/* where the entry is, for messages about it */
};

/* Values for ${CWD} and ${HOME}. */
struct policy_env {
	const char *cwd;
	const char *home;
	const char *ssh_auth_sock;	/* $SSH_AUTH_SOCK, for the no-desktop preset; may be NULL */
	const char *dbus_session;	/* $DBUS_SESSION_BUS_ADDRESS, the same; may be NULL */
};

/* ${CWD} and ${HOME} of this process: getcwd() into @cwd, $HOME or the passwd entry. */
int policy_env_of_process(struct policy_env *env, char *cwd, size_t size);

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

/*
 * The contract's network decision for @right to @addr (AF_INET: 4 bytes,
 * AF_INET6: 16; a v4-mapped v6 address is judged as IPv4) and @port with
 * @protocol (TCP or UDP). Host rules are not consulted: they only match
 * addresses learned from DNS answers. Sets *rule (-1 = default).
 */
uint8_t policy_net_decide(const struct policy *p, int family, const uint8_t *addr, uint16_t port,
			  uint8_t protocol, enum net_right right, long *rule);

uint64_t wd_name_hash(const char *name, size_t len);
const char *right_name(enum wd_right r);
int right_parse(const char *s);	/* enum wd_right, or -1 */

#endif
