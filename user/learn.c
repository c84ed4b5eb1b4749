// SPDX-License-Identifier: GPL-2.0
/*
 * warden learn: run CMD with nothing denied and every would-be denial
 * reported, then write the least-privilege policy that allows what CMD did.
 *
 * The run is `warden run --audit` on a policy that denies every file right
 * (default deny, no rule), started as a child of this process, so that every
 * file access CMD makes is an event. The generator below turns those events
 * into rules:
 *
 * Paths are collapsed where an exact name would not come again on a rerun,
 * or where a tree is plainly used as a whole (README.md, "Learning mode"):
 *  1. under ${CWD} (the workspace): one "${CWD}/" rule with every right used
 *     there (a build creates names nobody can list in advance);
 *  2. under a scratch directory (/tmp, /var/tmp, /dev/shm, ${HOME}/.cache):
 *     one rule on it (mktemp names are random);
 *  3. /proc and /dev/pts: one rule each (process and terminal numbers change);
 *  4. read and exec under system directories: /usr/X/ and /opt/X/ (/usr/lib/,
 *     /usr/share/, ...), /bin/, /sbin/, /lib/, /lib64/: libraries, interpreters and
 *     data files are loaded by name lists that vary from run to run;
 *  5. a path CMD created or deleted elsewhere: its directory (lock and temp
 *     files), or ${HOME}/X/ for one under a directory X of the home; a file
 *     directly in the home stays exact;
 *  6. anything else is exact, then COLLAPSE_MIN or more names read (or run)
 *     in one directory become that directory, except "/" and ${HOME}.
 * A right is granted on a collapsed rule only if the base policy allows it
 * on that directory and on everything below it that no rule of its own
 * names; otherwise the exact paths seen are granted. Nothing the base denies
 * is granted: every base rule that denies is copied, and the result is
 * checked with the policy engine before it is written. Rules made redundant
 * by a wider one are dropped; the output is sorted, so the same events
 * always give the same policy.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "commands.h"
#include "learn.h"

#define COLLAPSE_MIN 4	/* names read in one directory that make it a directory rule */
#define SUMMARY_MAX 10	/* refused accesses listed in the summary */
#define RULE_PORTS_MAX NET_PORT_RANGES_MAX

/* A name no rule names, to ask what a subtree rule would grant below a directory. */
static const char PROBE[] = "\x01warden-learn-probe";

/* qsort() that takes an empty array: qsort(NULL, 0, ...) is undefined behaviour. */
static void sort_array(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n)
		qsort(base, n, size, cmp);
}

struct access {
	char *path;
	uint8_t rights;
	uint8_t seen;		/* rights seen, before the base's refusals */
};

struct net_access {
	int family;
	uint8_t addr[16];
	uint16_t port;
	uint8_t proto;		/* NET_PROTO_TCP or UDP */
	uint8_t right;		/* enum net_right */
};

/* A rule being built: expanded path; @text is the path as written. */
struct grant {
	char *path;
	bool subtree;
	uint8_t allow, deny;
	char *text;
};

struct learn {
	const struct policy *base;
	char *cwd, *home;	/* NULL when unusable ("/" or not absolute) */
	char *guard;
	struct access *acc;
	size_t nacc, acap;
	struct net_access *net;
	size_t nnet, ncap;
	bool fileless, raw, abstract_unix;
	uint64_t lost;
	size_t events, bad, truncated, unresolved, refer, tamper, guard_hits, too_long;
	/* learn_build() results */
	struct access *refused;	/* one right per entry */
	size_t nrefused;
	struct net_access *net_refused;
	size_t nnet_refused;
	bool fileless_refused, raw_refused, abstract_unix_refused;
	size_t nfile_rules, nnet_rules;
};

/* ---- small helpers -------------------------------------------------------- */

/* Is @path @root or below it? */
static bool under(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return path[0] == '/';
	return !strncmp(path, root, n) && (path[n] == '\0' || path[n] == '/');
}

static char *parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash == path ? xstrdup("/") : strndup(path, slash - path);
}

static char *child_of(const char *dir, const char *name)
{
	struct sbuf sb = {0};

	sb_printf(&sb, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name);
	sb_putc(&sb, '\0');
	return sb.buf;
}

/* A copy of @dir without trailing '/', or NULL if it cannot anchor rules. */
static char *usable_dir(const char *dir)
{
	size_t n;

	if (!dir || dir[0] != '/')
		return NULL;
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return n > 1 ? strndup(dir, n) : NULL;
}

/* ---- feeding events ------------------------------------------------------- */

struct learn *learn_new(const struct policy *base, const struct policy_env *env)
{
	struct learn *l = xcalloc(1, sizeof(*l));

	l->base = base;
	l->cwd = usable_dir(env->cwd);
	l->home = usable_dir(env->home);
	return l;
}

void learn_free(struct learn *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nacc; i++)
		free(l->acc[i].path);
	for (size_t i = 0; i < l->nrefused; i++)
		free(l->refused[i].path);
	free(l->acc);
	free(l->refused);
	free(l->net);
	free(l->net_refused);
	free(l->cwd);
	free(l->home);
	free(l->guard);
	free(l);
}

void learn_guard(struct learn *l, const char *dir)
{
	free(l->guard);
	l->guard = usable_dir(dir);
}

size_t learn_nevents(const struct learn *l)
{
	return l->events;
}

static void add_access(struct learn *l, const char *path, uint8_t rights)
{
	if (l->nacc == l->acap) {
		l->acap = l->acap ? 2 * l->acap : 256;
		l->acc = xrealloc(l->acc, l->acap * sizeof(*l->acc));
	}
	l->acc[l->nacc++] = (struct access){ .path = xstrdup(path), .rights = rights };
}

static const char *str_field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool true_field(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* Can @path be a rule's path? Within the compiler's limits, normalised. */
static bool rule_path_ok(const char *path)
{
	size_t depth = 0;

	if (path[0] != '/' || strlen(path) >= WD_PATH_MAX || strstr(path, "//") ||
	    strstr(path, "${"))
		return false;
	for (const char *c = path + 1; *c; ) {
		const char *end = strchrnul(c, '/');
		size_t n = end - c;

		if (n == 0 || n > WD_NAME_MAX || ++depth > WD_RULE_DEPTH_MAX ||
		    (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c = *end ? end + 1 : end;
	}
	return true;
}

static int file_event(struct learn *l, const cJSON *o)
{
	const char *action = str_field(o, "action"), *path = str_field(o, "path");
	int right = action ? right_parse(action) : -1;

	if (right < 0)
		return -EINVAL;
	if (cJSON_GetObjectItemCaseSensitive(o, "reason")) {
		l->refer++;	/* a link or rename refused as such: no rule makes it pass */
		return 0;
	}
	if (true_field(o, "fileless")) {
		l->fileless = true;
		return 0;
	}
	if (true_field(o, "path_truncated")) {
		l->truncated++;
		return 0;
	}
	if (!path || path[0] != '/' || true_field(o, "path_unresolved")) {
		l->unresolved++;
		return 0;
	}
	if (l->guard && under(path, l->guard))
		l->guard_hits++;
	if (!rule_path_ok(path)) {
		l->too_long++;
		return 0;
	}
	add_access(l, path, 1u << right);
	return 0;
}

static int network_event(struct learn *l, const cJSON *o)
{
	const char *action = str_field(o, "action"), *proto = str_field(o, "protocol");
	const char *addr = str_field(o, "address");
	const cJSON *port = cJSON_GetObjectItemCaseSensitive(o, "port");
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct net_access a = {0};

	/* Raw, packet and other non-TCP/UDP sockets: "raw"; abstract unix names: "abstract_unix". */
	if (action && !strcmp(action, "socket")) {
		l->raw = true;
		return 0;
	}
	if (proto && !strcmp(proto, "unix")) {
		l->abstract_unix = true;
		return 0;
	}
	if (!action || !proto || !addr || !cJSON_IsNumber(port) || port->valuedouble < 0 ||
	    port->valuedouble > 65535 || port->valuedouble != (int)port->valuedouble)
		return -EINVAL;
	if (!strcmp(action, "connect"))
		a.right = NET_CONNECT;
	else if (!strcmp(action, "bind"))
		a.right = NET_BIND;
	else
		return -EINVAL;
	if (!strcmp(proto, "tcp"))
		a.proto = NET_PROTO_TCP;
	else if (!strcmp(proto, "udp"))
		a.proto = NET_PROTO_UDP;
	else
		return -EINVAL;
	if (inet_pton(AF_INET, addr, a.addr) == 1) {
		a.family = AF_INET;
	} else if (inet_pton(AF_INET6, addr, a.addr) == 1) {
		a.family = AF_INET6;
		/* Judged as IPv4 by the contract: learned as IPv4 too. */
		if (!memcmp(a.addr, mapped, sizeof(mapped))) {
			memmove(a.addr, a.addr + 12, 4);
			memset(a.addr + 4, 0, 12);
			a.family = AF_INET;
		}
	} else {
		return -EINVAL;
	}
	a.port = port->valuedouble;
	if (l->nnet == l->ncap) {
		l->ncap = l->ncap ? 2 * l->ncap : 64;
		l->net = xrealloc(l->net, l->ncap * sizeof(*l->net));
	}
	l->net[l->nnet++] = a;
	return 0;
}

int learn_event(struct learn *l, const char *line, size_t len)
{
	cJSON *o = cJSON_ParseWithLength(line, len);
	const char *ev = o ? str_field(o, "event") : NULL;
	const cJSON *count;
	int ret = 0;

	if (!cJSON_IsObject(o) || !ev) {
		cJSON_Delete(o);
		l->bad++;
		return -EINVAL;
	}
	l->events++;
	if (!strcmp(ev, "file") || !strcmp(ev, "exec")) {
		ret = file_event(l, o);
	} else if (!strcmp(ev, "network")) {
		ret = network_event(l, o);
	} else if (!strcmp(ev, "tamper")) {
		l->tamper++;	/* a protection every agent has: not a policy's to grant */
	} else if (!strcmp(ev, "lost")) {
		count = cJSON_GetObjectItemCaseSensitive(o, "count");
		/* An unreadable count is still a loss. */
		l->lost += cJSON_IsNumber(count) && count->valuedouble >= 1 ? count->valuedouble : 1;
	}
	if (ret) {
		l->events--;
		l->bad++;
	}
	cJSON_Delete(o);
	return ret;
}

size_t learn_events(struct learn *l, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	size_t bad = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n && learn_event(l, p, n))
			bad++;
		p += n + 1;
	}
	return bad;
}

/* ---- decisions ------------------------------------------------------------ */

static bool policy_allows(const struct policy *p, const char *path, enum wd_right r)
{
	struct wd_verdict v;

	policy_decide_reference(p, path, r, &v);
	return v.action == WD_ACT_ALLOW;
}

/* Would a rule on @path (@subtree) granting @r stay within the base? */
static bool base_allows(const struct learn *l, const char *path, bool subtree, enum wd_right r)
{
	char *probe;
	bool ok;

	if (!l->base)
		return true;
	if (!policy_allows(l->base, path, r))
		return false;
	if (!subtree)
		return true;
	/*
	 * Below @path, the base decides by the rule that allows @path's probe,
	 * except where a longer base rule denies: those are copied, and win.
	 */
	probe = child_of(path, PROBE);
	ok = policy_allows(l->base, probe, r);
	free(probe);
	return ok;
}

/* ---- anchors: where a right seen on a path is granted ------------------- */

struct want {
	char *anchor;		/* rule path */
	bool subtree;
	uint8_t right;
	const char *member;	/* the path seen */
};

static const char *const scratch_roots[] = { "/tmp", "/var/tmp", "/dev/shm", NULL };
static const char *const system_roots[] = { "/bin", "/sbin", "/lib", "/lib32", "/lib64",
					    "/libx32", NULL };
static const char *const system_parents[] = { "/usr", "/opt", NULL };	/* one level below */
static const char *const volatile_roots[] = { "/proc", "/dev/pts", NULL };

static const char *root_of(const char *path, const char *const *roots)
{
	for (const char *const *r = roots; *r; r++)
		if (under(path, *r))
			return *r;
	return NULL;
}

/* "/usr/lib/x/y" with @parent "/usr": "/usr/lib"; "/usr" itself: NULL. */
static char *first_below(const char *path, const char *parent)
{
	size_t n = strlen(parent);
	const char *end;

	if (path[n] != '/')
		return NULL;
	end = strchrnul(path + n + 1, '/');
	return strndup(path, end - path);
}

static char *scratch_root(const struct learn *l, const char *path)
{
	const char *r = root_of(path, scratch_roots);
	char *cache;

	if (l->home) {
		cache = child_of(l->home, ".cache");
		if (under(path, cache))
			return cache;
		free(cache);
	}
	return r ? xstrdup(r) : NULL;
}

/* Rule 5: where a right on a path CMD created or deleted goes. */
static char *created_anchor(const struct learn *l, const char *path)
{
	char *dir;

	if (l->home && under(path, l->home) && strcmp(path, l->home)) {
		dir = first_below(path, l->home);
		if (strcmp(dir, path))
			return dir;	/* ${HOME}/X/ */
		free(dir);
		return NULL;	/* directly in the home: exact */
	}
	dir = parent_of(path);
	if (!strcmp(dir, "/")) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* Rules 1 to 5 of the heading comment; NULL: the exact path (rule 6). */
static char *anchor_for(const struct learn *l, const char *path, enum wd_right r, bool created)
{
	const char *root;
	char *a;

	if (l->cwd && under(path, l->cwd))
		return xstrdup(l->cwd);
	if ((a = scratch_root(l, path)))
		return a;
	if ((root = root_of(path, volatile_roots)))
		return xstrdup(root);
	if (r == WD_RIGHT_READ || r == WD_RIGHT_EXEC) {
		if ((root = root_of(path, system_roots)))
			return xstrdup(root);
		if ((root = root_of(path, system_parents)) && (a = first_below(path, root)))
			return a;
	}
	return created ? created_anchor(l, path) : NULL;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct access *)a)->path, ((const struct access *)b)->path);
}

/* Sort the accesses and merge those on one path. */
static void merge_accesses(struct learn *l)
{
	size_t n = 0;

	sort_array(l->acc, l->nacc, sizeof(*l->acc), by_path);
	for (size_t i = 0; i < l->nacc; i++) {
		if (n && !strcmp(l->acc[n - 1].path, l->acc[i].path)) {
			l->acc[n - 1].rights |= l->acc[i].rights;
			free(l->acc[i].path);
			continue;
		}
		l->acc[n++] = l->acc[i];
	}
	l->nacc = n;
}

/* Take out (and remember) the rights the base denies on the very path. */
static void refuse_base_denied(struct learn *l)
{
	for (size_t i = 0; i < l->nacc; i++) {
		l->acc[i].seen = l->acc[i].rights;
		for (int r = 0; r < WD_RIGHT_COUNT; r++) {
			if (!(l->acc[i].rights & (1u << r)) || base_allows(l, l->acc[i].path, false, r))
				continue;
			l->acc[i].rights &= ~(1u << r);
			l->refused = xrealloc(l->refused, (l->nrefused + 1) * sizeof(*l->refused));
			l->refused[l->nrefused++] = (struct access){ .path = xstrdup(l->acc[i].path),
								     .rights = 1u << r };
		}
	}
}

static size_t make_wants(const struct learn *l, struct want **out)
{
	struct want *w = xcalloc(l->nacc * WD_RIGHT_COUNT, sizeof(*w));
	size_t n = 0;

	for (size_t i = 0; i < l->nacc; i++) {
		const struct access *a = &l->acc[i];
		/* Even if the base refused the create: the name is still one made at run time. */
		bool created = a->seen & (1u << WD_RIGHT_CREATE | 1u << WD_RIGHT_DELETE);

		for (int r = 0; r < WD_RIGHT_COUNT; r++) {
			char *anchor;

			if (!(a->rights & (1u << r)))
				continue;
			anchor = anchor_for(l, a->path, r, created);
			w[n++] = (struct want){ .anchor = anchor ? anchor : xstrdup(a->path),
						.subtree = anchor != NULL, .right = r,
						.member = a->path };
		}
	}
	*out = w;
	return n;
}

/* For rule 6: exact reads and execs ordered by directory, right, name. */
static int by_dir_right(const void *a, const void *b)
{
	const struct want *x = a, *y = b;
	int c;

	if (x->subtree != y->subtree)
		return x->subtree - y->subtree;
	c = strncmp(x->anchor, y->anchor, strrchr(x->anchor, '/') - x->anchor);
	if (c)
		return c;
	c = (int)(strrchr(x->anchor, '/') - x->anchor) - (int)(strrchr(y->anchor, '/') - y->anchor);
	if (c)
		return c;
	if (x->right != y->right)
		return x->right - y->right;
	return strcmp(x->anchor, y->anchor);
}

static bool same_dir_right(const struct want *x, const struct want *y)
{
	size_t nx = strrchr(x->anchor, '/') - x->anchor, ny = strrchr(y->anchor, '/') - y->anchor;

	return !x->subtree && !y->subtree && x->right == y->right && nx == ny &&
	       !strncmp(x->anchor, y->anchor, nx);
}

/* Rule 6: COLLAPSE_MIN or more exact reads (or execs) in one directory. */
static void collapse_siblings(const struct learn *l, struct want *w, size_t n)
{
	sort_array(w, n, sizeof(*w), by_dir_right);
	for (size_t i = 0, j; i < n; i = j) {
		char *dir;

		for (j = i + 1; j < n && same_dir_right(&w[i], &w[j]); j++)
			;
		if (w[i].subtree || j - i < COLLAPSE_MIN ||
		    (w[i].right != WD_RIGHT_READ && w[i].right != WD_RIGHT_EXEC))
			continue;
		dir = parent_of(w[i].anchor);
		if (strcmp(dir, "/") && !(l->home && !strcmp(dir, l->home))) {
			for (size_t k = i; k < j; k++) {
				free(w[k].anchor);
				w[k].anchor = xstrdup(dir);
				w[k].subtree = true;
			}
		}
		free(dir);
	}
}

/* ---- grants ------------------------------------------------------------- */

struct grants {
	struct grant *g;
	size_t n, cap;
};

static void grant_add(struct grants *gs, const char *path, bool subtree, uint8_t allow,
		      uint8_t deny)
{
	if (gs->n == gs->cap) {
		gs->cap = gs->cap ? 2 * gs->cap : 64;
		gs->g = xrealloc(gs->g, gs->cap * sizeof(*gs->g));
	}
	gs->g[gs->n++] = (struct grant){ .path = xstrdup(path), .subtree = subtree, .allow = allow,
					 .deny = deny };
}

static void grants_free(struct grants *gs)
{
	for (size_t i = 0; i < gs->n; i++) {
		free(gs->g[i].path);
		free(gs->g[i].text);
	}
	free(gs->g);
	memset(gs, 0, sizeof(*gs));
}

static int by_anchor(const void *a, const void *b)
{
	const struct want *x = a, *y = b;
	int c = strcmp(x->anchor, y->anchor);

	if (c)
		return c;
	if (x->subtree != y->subtree)
		return x->subtree - y->subtree;
	return x->right - y->right;
}

/* Grant each anchor its rights if the base allows them there, else the exact paths. */
static void grant_wants(const struct learn *l, struct want *w, size_t n, struct grants *gs)
{
	sort_array(w, n, sizeof(*w), by_anchor);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && !by_anchor(&w[i], &w[j]); j++)
			;
		if (base_allows(l, w[i].anchor, w[i].subtree, w[i].right)) {
			grant_add(gs, w[i].anchor, w[i].subtree, 1u << w[i].right, 0);
			continue;
		}
		for (size_t k = i; k < j; k++)
			grant_add(gs, w[k].member, false, 1u << w[k].right, 0);
	}
}

/* Every base rule that denies, with only its denials. */
static void copy_base_denials(const struct learn *l, struct grants *gs)
{
	for (size_t i = 0; l->base && i < l->base->nrules; i++) {
		const struct file_rule *r = &l->base->rules[i];

		if (r->deny && r->path)
			grant_add(gs, r->path, r->subtree, 0, r->deny);
	}
}

static int by_rule(const void *a, const void *b)
{
	const struct grant *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : x->subtree - y->subtree;
}

static void merge_grants(struct grants *gs)
{
	size_t n = 0;

	sort_array(gs->g, gs->n, sizeof(*gs->g), by_rule);
	for (size_t i = 0; i < gs->n; i++) {
		if (n && !by_rule(&gs->g[n - 1], &gs->g[i])) {
			gs->g[n - 1].allow |= gs->g[i].allow;
			gs->g[n - 1].deny |= gs->g[i].deny;
			free(gs->g[i].path);
			continue;
		}
		gs->g[n++] = gs->g[i];
	}
	gs->n = n;
	/* Never both on one path (base_allows() keeps that from happening): deny wins. */
	for (size_t i = 0; i < gs->n; i++)
		gs->g[i].allow &= ~gs->g[i].deny;
}

/* The grants as a policy's file rules (paths shared, not copied). */
static void grants_policy(const struct grants *gs, struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->file_default = WD_ACT_DENY;
	p->rules = xcalloc(gs->n, sizeof(*p->rules));
	p->nrules = gs->n;
	for (size_t i = 0; i < gs->n; i++)
		p->rules[i] = (struct file_rule){ .path = gs->g[i].path, .subtree = gs->g[i].subtree,
						  .allow = gs->g[i].allow, .deny = gs->g[i].deny };
}

static const struct grants *sort_grants;
static int deepest_first(const void *a, const void *b)
{
	const struct grant *x = &sort_grants->g[*(const size_t *)a];
	const struct grant *y = &sort_grants->g[*(const size_t *)b];
	size_t nx = strlen(x->path), ny = strlen(y->path);

	if (nx != ny)
		return nx > ny ? -1 : 1;
	return by_rule(x, y);
}

/* Does @p allow @r on @path, and below it for a subtree rule? */
static bool still_allowed(const struct policy *p, const char *path, bool subtree, enum wd_right r)
{
	char *probe;
	bool ok = policy_allows(p, path, r);

	if (ok && subtree) {
		probe = child_of(path, PROBE);
		ok = policy_allows(p, probe, r);
		free(probe);
	}
	return ok;
}

/* Drop each right a wider rule already grants, deepest rules first. */
static void prune(struct grants *gs)
{
	size_t *order = xcalloc(gs->n, sizeof(*order)), n = 0;
	struct policy p;

	grants_policy(gs, &p);
	for (size_t i = 0; i < gs->n; i++)
		order[i] = i;
	sort_grants = gs;
	sort_array(order, gs->n, sizeof(*order), deepest_first);
	for (size_t k = 0; k < gs->n; k++) {
		struct file_rule *r = &p.rules[order[k]];

		for (int b = 0; b < WD_RIGHT_COUNT; b++) {
			if (!(r->allow & (1u << b)))
				continue;
			r->allow &= ~(1u << b);
			if (!still_allowed(&p, r->path, r->subtree, b))
				r->allow |= 1u << b;
		}
	}
	for (size_t i = 0; i < gs->n; i++) {
		gs->g[i].allow = p.rules[i].allow;
		if (gs->g[i].allow || gs->g[i].deny)
			gs->g[n++] = gs->g[i];
		else
			free(gs->g[i].path);
	}
	gs->n = n;
	free(p.rules);
	free(order);
}

/* The path as written in the policy: ${CWD} or ${HOME} for the longer that applies. */
static char *rule_text(const struct learn *l, const char *path, bool subtree)
{
	const char *var = NULL, *rest = path;
	struct sbuf sb = {0};

	if (l->cwd && under(path, l->cwd)) {
		var = "${CWD}";
		rest = path + strlen(l->cwd);
	}
	if (l->home && under(path, l->home) && strlen(l->home) > (size_t)(rest - path)) {
		var = "${HOME}";
		rest = path + strlen(l->home);
	}
	sb_printf(&sb, "%s%s%s", var ? var : "", rest,
		  subtree && strcmp(path, "/") ? "/" : "");
	sb_putc(&sb, '\0');
	return sb.buf;
}

static int by_text(const void *a, const void *b)
{
	return strcmp(((const struct grant *)a)->text, ((const struct grant *)b)->text);
}

/* ---- network ------------------------------------------------------------ */

static int by_net(const void *a, const void *b)
{
	const struct net_access *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family - y->family;
	c = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (c)
		return c;
	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->right != y->right)
		return x->right - y->right;
	return (int)x->port - (int)y->port;
}

static bool same_endpoint(const struct net_access *x, const struct net_access *y)
{
	return x->family == y->family && !memcmp(x->addr, y->addr, sizeof(x->addr)) &&
	       x->proto == y->proto && x->right == y->right;
}

/* Sort, deduplicate, and take out what the base denies. */
static void sort_network(struct learn *l)
{
	size_t n = 0;
	long rule;

	sort_array(l->net, l->nnet, sizeof(*l->net), by_net);
	for (size_t i = 0; i < l->nnet; i++) {
		const struct net_access *a = &l->net[i];

		if (n && !by_net(&l->net[n - 1], a))
			continue;
		if (l->base && policy_net_decide(l->base, a->family, a->addr, a->port, a->proto,
						 a->right, &rule) != WD_ACT_ALLOW) {
			if (!l->nnet_refused || by_net(&l->net_refused[l->nnet_refused - 1], a)) {
				l->net_refused = xrealloc(l->net_refused,
							  (l->nnet_refused + 1) * sizeof(*a));
				l->net_refused[l->nnet_refused++] = *a;
			}
			continue;
		}
		l->net[n++] = *a;
	}
	l->nnet = n;
}

static const char *const net_rights[] = { "connect", "bind" };
static const char *const protos[] = { "any", "tcp", "udp" };

static void put_cidr(struct sbuf *sb, int family, const uint8_t *addr, int prefix)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, buf, sizeof(buf));
	sb_printf(sb, "\"cidr\": \"%s/%d\"", buf, prefix);
}

static void put_ports(struct sbuf *sb, const struct port_range *r, size_t n)
{
	sb_puts(sb, ", \"ports\": [");
	for (size_t i = 0; i < n; i++) {
		if (r[i].lo == r[i].hi)
			sb_printf(sb, "%s\"%u\"", i ? ", " : "", r[i].lo);
		else
			sb_printf(sb, "%s\"%u-%u\"", i ? ", " : "", r[i].lo, r[i].hi);
	}
	sb_putc(sb, ']');
}

/* One rule per endpoint, its ports as ranges (several rules past RULE_PORTS_MAX). */
static void put_learned_net(struct learn *l, struct sbuf *sb, bool *first)
{
	struct port_range r[RULE_PORTS_MAX];

	for (size_t i = 0, j; i < l->nnet; i = j) {
		size_t n = 0;

		for (j = i; j < l->nnet && same_endpoint(&l->net[i], &l->net[j]); j++) {
			if (n && l->net[j].port == r[n - 1].hi + 1) {
				r[n - 1].hi = l->net[j].port;
				continue;
			}
			if (n == RULE_PORTS_MAX)
				break;
			r[n++] = (struct port_range){ l->net[j].port, l->net[j].port };
		}
		sb_printf(sb, "%s\n      {", *first ? "" : ",");
		*first = false;
		put_cidr(sb, l->net[i].family, l->net[i].addr, l->net[i].family == AF_INET ? 32 : 128);
		put_ports(sb, r, n);
		sb_printf(sb, ", \"protocol\": \"%s\", \"allow\": [\"%s\"]}", protos[l->net[i].proto],
			  net_rights[l->net[i].right]);
		l->nnet_rules++;
	}
}

static void put_rights(struct sbuf *sb, const char *key, uint8_t mask, int count,
		       const char *(*name)(int))
{
	bool first = true;

	sb_printf(sb, ", \"%s\": [", key);
	for (int r = 0; r < count; r++) {
		if (!(mask & (1u << r)))
			continue;
		sb_printf(sb, "%s\"%s\"", first ? "" : ", ", name(r));
		first = false;
	}
	sb_putc(sb, ']');
}

static const char *net_right_str(int r)
{
	return net_rights[r];
}

static const char *file_right_str(int r)
{
	return right_name(r);
}

/* The base's denying network rules, with only their denials. */
static void put_base_net_denials(struct learn *l, struct sbuf *sb, bool *first)
{
	for (size_t i = 0; l->base && i < l->base->nnet; i++) {
		const struct net_rule *r = &l->base->net_rules[i];

		if (!r->deny)
			continue;
		sb_printf(sb, "%s\n      {", *first ? "" : ",");
		*first = false;
		if (r->is_host) {
			sb_puts(sb, "\"host\": ");
			sb_printf(sb, "\"%s%s\"", r->wildcard ? "*." : "", r->host);
		} else {
			put_cidr(sb, r->family, r->addr, r->prefix);
		}
		if (r->ports)
			put_ports(sb, r->ports, r->nports);
		if (r->protocol)
			sb_printf(sb, ", \"protocol\": \"%s\"", protos[r->protocol]);
		put_rights(sb, "deny", r->deny, NET_RIGHT_COUNT, net_right_str);
		sb_putc(sb, '}');
		l->nnet_rules++;
	}
}

/* A base without a network section allows every network right. */
static bool base_net_switch(const struct learn *l, bool on)
{
	return !l->base || !l->base->has_network || on;
}

static void put_network(struct learn *l, struct sbuf *sb)
{
	bool first = true, raw, abstract;

	raw = l->raw && base_net_switch(l, l->base && l->base->net_raw);
	abstract = l->abstract_unix && base_net_switch(l, l->base && l->base->net_abstract_unix);
	l->raw_refused = l->raw && !raw;
	l->abstract_unix_refused = l->abstract_unix && !abstract;
	sb_puts(sb, ",\n  \"network\": {\n    \"default\": \"deny\",\n");
	if (raw)
		sb_puts(sb, "    \"raw\": \"allow\",\n");
	if (abstract)
		sb_puts(sb, "    \"abstract_unix\": \"allow\",\n");
	sb_puts(sb, "    \"rules\": [");
	put_base_net_denials(l, sb, &first);
	put_learned_net(l, sb, &first);
	sb_puts(sb, first ? "]\n  }" : "\n    ]\n  }");
}

/* ---- output ------------------------------------------------------------- */

static void put_policy(struct learn *l, struct grants *gs, const char *name,
		       const char *identity, struct sbuf *sb)
{
	sb_puts(sb, "{\n  \"version\": 1,\n  \"name\": ");
	sb_json_str(sb, name, strlen(name));
	if (identity) {
		sb_puts(sb, ",\n  \"identity\": ");
		sb_json_str(sb, identity, strlen(identity));
	}
	sb_puts(sb, ",\n  \"mode\": \"enforce\",\n  \"file\": {\n    \"default\": \"deny\",\n");
	if (l->fileless && (!l->base || l->base->fileless_exec))
		sb_puts(sb, "    \"fileless_exec\": \"allow\",\n");
	l->fileless_refused = l->fileless && l->base && !l->base->fileless_exec;
	sb_puts(sb, "    \"rules\": [");
	for (size_t i = 0; i < gs->n; i++)
		gs->g[i].text = rule_text(l, gs->g[i].path, gs->g[i].subtree);
	sort_array(gs->g, gs->n, sizeof(*gs->g), by_text);
	for (size_t i = 0; i < gs->n; i++) {
		sb_printf(sb, "%s\n      {\"path\": ", i ? "," : "");
		sb_json_str(sb, gs->g[i].text, strlen(gs->g[i].text));
		if (gs->g[i].allow)
			put_rights(sb, "allow", gs->g[i].allow, WD_RIGHT_COUNT, file_right_str);
		if (gs->g[i].deny)
			put_rights(sb, "deny", gs->g[i].deny, WD_RIGHT_COUNT, file_right_str);
		sb_putc(sb, '}');
	}
	l->nfile_rules = gs->n;
	sb_puts(sb, gs->n ? "\n    ]\n  }" : "]\n  }");
	put_network(l, sb);
	sb_puts(sb, "\n}\n");
}

/* ---- the check ---------------------------------------------------------- */

/* The compiled tree (what the kernel walks) and the reference must agree on @want. */
static bool decides(const struct policy *p, const struct compiled *c, const char *path,
		    enum wd_right r, uint8_t want)
{
	struct wd_verdict v, ref;

	if (compiled_decide(c, path, r, &v))
		return false;
	policy_decide_reference(p, path, r, &ref);
	return v.action == want && ref.action == want;
}

static int check_files(const struct learn *l, const struct policy *p, const struct compiled *c,
		       struct sbuf *err)
{
	for (size_t i = 0; i < l->nacc; i++)
		for (int r = 0; r < WD_RIGHT_COUNT; r++)
			if ((l->acc[i].rights & (1u << r)) &&
			    !decides(p, c, l->acc[i].path, r, WD_ACT_ALLOW)) {
				sb_printf(err, "the learned policy would deny %s on %s, which the command did\n",
					  right_name(r), l->acc[i].path);
				return -EINVAL;
			}
	for (size_t i = 0; i < l->nrefused; i++) {
		int r = __builtin_ctz(l->refused[i].rights);

		if (!decides(p, c, l->refused[i].path, r, WD_ACT_DENY)) {
			sb_printf(err, "the learned policy would allow %s on %s, which the base denies\n",
				  right_name(r), l->refused[i].path);
			return -EINVAL;
		}
	}
	return 0;
}

/* Every base rule's denials hold on its path (and below, for a subtree). */
static int check_base_denials(const struct learn *l, const struct policy *p,
			      const struct compiled *c, struct sbuf *err)
{
	for (size_t i = 0; l->base && i < l->base->nrules; i++) {
		const struct file_rule *br = &l->base->rules[i];
		char *probe = br->subtree ? child_of(br->path, PROBE) : NULL;
		const char *at[2] = { br->path, probe };

		for (int k = 0; k < 2 && at[k]; k++) {
			for (int r = 0; r < WD_RIGHT_COUNT; r++) {
				if (!(br->deny & (1u << r)) || policy_allows(l->base, at[k], r) ||
				    decides(p, c, at[k], r, WD_ACT_DENY))
					continue;
				sb_printf(err, "the learned policy would allow %s on %s, which the base denies\n",
					  right_name(r), at[k]);
				free(probe);
				return -EINVAL;
			}
		}
		free(probe);
	}
	return 0;
}

static int check_network(const struct learn *l, const struct policy *p, struct sbuf *err)
{
	char buf[INET6_ADDRSTRLEN];
	long rule;

	for (size_t i = 0; i < l->nnet + l->nnet_refused; i++) {
		bool refused = i >= l->nnet;
		const struct net_access *a = refused ? &l->net_refused[i - l->nnet] : &l->net[i];
		uint8_t got = policy_net_decide(p, a->family, a->addr, a->port, a->proto, a->right,
						&rule);

		if ((got == WD_ACT_ALLOW) != !refused) {
			inet_ntop(a->family, a->addr, buf, sizeof(buf));
			sb_printf(err, "the learned policy would %s %s to %s port %u\n",
				  refused ? "allow" : "deny", net_rights[a->right], buf, a->port);
			return -EINVAL;
		}
	}
	if ((l->raw && !l->raw_refused) != p->net_raw ||
	    (l->abstract_unix && !l->abstract_unix_refused) != p->net_abstract_unix) {
		sb_puts(err, "the learned policy's raw or abstract_unix switch is not what was seen and the base allows\n");
		return -EINVAL;
	}
	return 0;
}

/* Parse @text as `warden run` would, compile it, and check it against what was seen. */
static int check_policy(const struct learn *l, const char *text, struct sbuf *err)
{
	struct policy_env env = { .cwd = l->cwd ? l->cwd : "/", .home = l->home ? l->home : "/" };
	struct compiled c = {0};
	struct policy p;
	int ret;

	ret = policy_parse("(learned)", text, strlen(text), &env, &p, err);
	if (!ret)
		ret = policy_compile(&p, 1, &c, err);
	if (!ret)
		ret = check_files(l, &p, &c, err);
	if (!ret)
		ret = check_base_denials(l, &p, &c, err);
	if (!ret)
		ret = check_network(l, &p, err);
	compiled_free(&c);
	policy_free(&p);
	return ret;
}

static int refuse_incomplete(const struct learn *l, struct sbuf *err)
{
	if (l->lost) {
		sb_printf(err, "%llu events were lost: what the command did is not fully known, so no policy is written; run it again\n",
			  (unsigned long long)l->lost);
		return -EINVAL;
	}
	if (l->guard_hits) {
		sb_printf(err, "the command touched learn's own files under %s (%zu times): its events cannot be trusted, so no policy is written\n",
			  l->guard, l->guard_hits);
		return -EINVAL;
	}
	return 0;
}

int learn_build(struct learn *l, const char *name, const char *identity, struct sbuf *out,
		struct sbuf *err)
{
	struct grants gs = {0};
	struct want *w;
	size_t n;
	int ret;

	ret = refuse_incomplete(l, err);
	if (ret)
		return ret;
	if (!identity && l->base)
		identity = l->base->identity;
	merge_accesses(l);
	refuse_base_denied(l);
	n = make_wants(l, &w);
	collapse_siblings(l, w, n);
	grant_wants(l, w, n, &gs);
	for (size_t i = 0; i < n; i++)
		free(w[i].anchor);
	free(w);
	copy_base_denials(l, &gs);
	merge_grants(&gs);
	prune(&gs);
	sort_network(l);
	put_policy(l, &gs, name, identity, out);
	grants_free(&gs);
	sb_putc(out, '\0');
	out->len--;
	return check_policy(l, out->buf, err);
}

void learn_summary(const struct learn *l, FILE *f)
{
	size_t skipped = l->truncated + l->unresolved + l->refer + l->tamper + l->too_long;
	char buf[INET6_ADDRSTRLEN];

	fprintf(f, "warden: learn: %zu events, %zu paths: %zu file rules, %zu network rules\n",
		l->events, l->nacc, l->nfile_rules, l->nnet_rules);
	if (l->nrefused || l->nnet_refused || l->fileless_refused || l->raw_refused ||
	    l->abstract_unix_refused)
		fprintf(f, "warden: learn: not granted, the base policy denies it (%zu):\n",
			l->nrefused + l->nnet_refused + l->fileless_refused + l->raw_refused +
				l->abstract_unix_refused);
	for (size_t i = 0; i < l->nrefused && i < SUMMARY_MAX; i++)
		fprintf(f, "  %s %s\n", right_name(__builtin_ctz(l->refused[i].rights)),
			l->refused[i].path);
	if (l->nrefused > SUMMARY_MAX)
		fprintf(f, "  ... and %zu more\n", l->nrefused - SUMMARY_MAX);
	for (size_t i = 0; i < l->nnet_refused && i < SUMMARY_MAX; i++) {
		inet_ntop(l->net_refused[i].family, l->net_refused[i].addr, buf, sizeof(buf));
		fprintf(f, "  %s %s port %u\n", net_rights[l->net_refused[i].right], buf,
			l->net_refused[i].port);
	}
	if (l->fileless_refused)
		fprintf(f, "  exec of a program without a path (fileless_exec)\n");
	if (l->raw_refused)
		fprintf(f, "  raw, packet or other non-TCP/UDP sockets (raw)\n");
	if (l->abstract_unix_refused)
		fprintf(f, "  connecting to abstract unix sockets (abstract_unix)\n");
	if (skipped)
		fprintf(f, "warden: learn: %zu events no rule can grant (truncated or unresolved path: %zu, path beyond the policy limits: %zu, link or rename refused: %zu, protections: %zu)\n",
			skipped, l->truncated + l->unresolved, l->too_long, l->refer, l->tamper);
	if (l->bad)
		fprintf(f, "warden: learn: %zu lines were not events and were ignored\n", l->bad);
}

/* ---- warden learn ------------------------------------------------------- */

static const char learn_usage[] =
	"Usage: warden learn [--base FILE] [--name NAME] --output NEW [--] CMD [ARG...]\n"
	"\n"
	"Run CMD with nothing denied (warden run --audit on a policy that denies every\n"
	"file and network right, so that every access is reported), then write to NEW the\n"
	"least-privilege policy that allows what CMD did, paths collapsed to\n"
	"directories where names vary (workspace, /tmp, system libraries). Exits with\n"
	"CMD's status, like run.\n"
	"\n"
	"  -b, --base FILE     never grant what FILE's policy denies: its deny rules are\n"
	"                      kept, and nothing it does not allow is granted (secrets\n"
	"                      stay denied even if CMD read them); NEW gets its name\n"
	"  -n, --name NAME     the policy's name (default: the base's, else \"learned\")\n"
	"  -o, --output NEW    where to write the policy (atomically; never the base)\n"
	"  -h, --help          this text\n"
	"\n"
	"CMD runs unconfined while it is learned from: learn only from a run you trust.\n"
	"\n"
	"Exit status: CMD's; 125 if warden failed before CMD started, 1 if the policy\n"
	"could not be made or written (events lost, a check failed).\n"
	"\n"
	"Example:\n"
	"  warden learn --base policies/coding-agent.json --output agent.json -- make test\n";

struct learn_cmd {
	const char *base_file, *output, *name;
	char **argv;
	struct policy base;
	bool has_base;
	char cwd[PATH_MAX];
	struct policy_env env;
	char tmpdir[64];
	char policy_file[96], events_file[96];
	int events_fd;
};

static int learn_args(struct learn_cmd *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "base", required_argument, NULL, 'b' },
		{ "name", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "+b:n:o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'b':
			c->base_file = optarg;
			break;
		case 'n':
			c->name = optarg;
			break;
		case 'o':
			c->output = optarg;
			break;
		case 'h':
			fputs(learn_usage, stdout);
			exit(EXIT_OK);
		default:
			fputs(learn_usage, stderr);
			return -EINVAL;
		}
	}
	if (!c->output || optind >= argc) {
		pr_warn("learn: %s\n", c->output ? "no command given" : "no --output given");
		fputs(learn_usage, stderr);
		return -EINVAL;
	}
	c->argv = argv + optind;
	return 0;
}

/* The output must not be the base (same name or same file), and its directory writable. */
static int check_output(const struct learn_cmd *c)
{
	const char *slash = strrchr(c->output, '/');
	char *dir = slash ? strndup(c->output, slash - c->output + 1) : xstrdup(".");
	struct sbuf probe = {0};
	struct stat a, b;
	int fd;

	if (c->base_file && (!strcmp(c->base_file, c->output) ||
			     (!stat(c->base_file, &a) && !stat(c->output, &b) && a.st_dev == b.st_dev &&
			      a.st_ino == b.st_ino))) {
		pr_warn("learn: --output %s is the base policy; write the learned policy elsewhere\n",
			c->output);
		free(dir);
		return -EINVAL;
	}
	/* Found out now, not after CMD has run. */
	sb_printf(&probe, "%s/.warden-learn.XXXXXX", dir);
	sb_putc(&probe, '\0');
	fd = mkstemp(probe.buf);
	if (fd < 0) {
		pr_warn("learn: cannot write in %s, where --output %s goes: %s\n", dir, c->output,
			strerror(errno));
	} else {
		close(fd);
		unlink(probe.buf);
	}
	sb_free(&probe);
	free(dir);
	return fd < 0 ? -EACCES : 0;
}

static int load_base(struct learn_cmd *c)
{
	struct sbuf err = {0};
	int ret;

	ret = policy_env_of_process(&c->env, c->cwd, sizeof(c->cwd));
	if (ret) {
		pr_warn("learn: cannot get the current directory: %s\n", strerror(-ret));
		return ret;
	}
	if (!c->base_file)
		return 0;
	ret = policy_load(c->base_file, &c->env, &c->base, &err);
	if (ret) {
		sb_putc(&err, '\0');
		fputs(err.buf, stderr);
		pr_warn("learn: base policy rejected; CMD was not started\n");
	}
	c->has_base = !ret;
	sb_free(&err);
	return ret;
}

/* learn's own files: the deny-everything policy and the events, in a private directory. */
static int make_tmp(struct learn_cmd *c, const char *name)
{
	struct sbuf pol = {0};
	int fd, ret = 0;

	snprintf(c->tmpdir, sizeof(c->tmpdir), "/tmp/warden-learn.XXXXXX");
	if (!mkdtemp(c->tmpdir)) {
		pr_warn("learn: cannot create a directory in /tmp: %s\n", strerror(errno));
		c->tmpdir[0] = '\0';
		return -errno;
	}
	snprintf(c->policy_file, sizeof(c->policy_file), "%s/policy.json", c->tmpdir);
	snprintf(c->events_file, sizeof(c->events_file), "%s/events.jsonl", c->tmpdir);
	sb_puts(&pol, "{\"version\": 1, \"name\": ");
	sb_json_str(&pol, name, strlen(name));
	/* Every network right denied too, so that connects, binds and raw sockets are reported. */
	sb_puts(&pol, ", \"mode\": \"audit\", \"file\": {\"default\": \"deny\"},"
		     " \"network\": {\"default\": \"deny\"}}\n");
	fd = open(c->policy_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, pol.buf, pol.len) != (ssize_t)pol.len)
		ret = -errno;
	if (fd >= 0)
		close(fd);
	/* Read back through this descriptor: renaming the file away changes nothing. */
	c->events_fd = ret ? -1 : open(c->events_file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (!ret && c->events_fd < 0)
		ret = -errno;
	if (ret)
		pr_warn("learn: cannot write in %s: %s\n", c->tmpdir, strerror(-ret));
	sb_free(&pol);
	return ret;
}

static void remove_tmp(struct learn_cmd *c)
{
	if (c->events_fd >= 0)
		close(c->events_fd);
	if (!c->tmpdir[0])
		return;
	unlink(c->policy_file);
	unlink(c->events_file);
	rmdir(c->tmpdir);
}

/* `warden run --audit` as a child; returns its exit status (CMD's). */
static int run_audit(struct learn_cmd *c)
{
	size_t n = 0;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
	int status;
	pid_t pid;
	char **av;

	while (c->argv[n])
		n++;
	av = xcalloc(n + 12, sizeof(*av));
	av[0] = "warden";
	n = 1;
	for (int v = 0; v < verbose && v < 2; v++)
		av[n++] = "-v";
	av[n++] = "run";
	av[n++] = "--audit";
	av[n++] = "--policy";
	av[n++] = c->policy_file;
	av[n++] = "--events";
	av[n++] = c->events_file;
	av[n++] = "--";
	for (size_t i = 0; c->argv[i]; i++)
		av[n++] = c->argv[i];
	/* As system() does: ^C is for CMD; learn goes on to write what was seen. */
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	pid = fork();
	if (pid == 0) {
		/* Learning without learn is pointless: end the run if learn dies. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		execv("/proc/self/exe", av);
		pr_warn("learn: cannot run warden itself (/proc/self/exe): %s\n", strerror(errno));
		_exit(EXIT_RUN_FAIL);
	}
	free(av);
	if (pid < 0) {
		pr_warn("learn: fork: %s\n", strerror(errno));
		status = EXIT_RUN_FAIL;
	} else {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	return status;
}

static int read_events(struct learn_cmd *c, struct learn *l)
{
	struct sbuf sb = {0};
	char chunk[65536];
	ssize_t n;

	if (lseek(c->events_fd, 0, SEEK_SET) < 0)
		return -errno;
	while ((n = read(c->events_fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sb_free(&sb);
			return -errno;
		}
		sb_put(&sb, chunk, n);
	}
	learn_events(l, sb.buf ? sb.buf : "", sb.len);
	sb_free(&sb);
	return 0;
}

/* Temp file beside @path, then rename: a reader sees the old policy or the new one. */
static int write_atomic(const char *path, const char *text, size_t len)
{
	struct sbuf tmp = {0};
	size_t off = 0;
	int fd, ret = 0;

	sb_printf(&tmp, "%s.tmp.XXXXXX", path);
	sb_putc(&tmp, '\0');
	fd = mkstemp(tmp.buf);
	if (fd < 0) {
		ret = -errno;
		sb_free(&tmp);
		return ret;
	}
	while (off < len && !ret) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno != EINTR)
			ret = -errno;
		else if (n > 0)
			off += n;
	}
	if (!ret && (fchmod(fd, 0644) || fsync(fd)))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp.buf, path))
		ret = -errno;
	if (ret)
		unlink(tmp.buf);
	sb_free(&tmp);
	return ret;
}

/* From the events to the output file; EXIT_OK or EXIT_FAIL. */
static int learn_write(struct learn_cmd *c, const char *name)
{
	struct learn *l = learn_new(c->has_base ? &c->base : NULL, &c->env);
	struct sbuf out = {0}, err = {0};
	int ret;

	learn_guard(l, c->tmpdir);
	ret = read_events(c, l);
	if (ret) {
		pr_warn("learn: cannot read the events: %s\n", strerror(-ret));
	} else if (!learn_nevents(l)) {
		pr_warn("learn: no event was recorded: CMD did not run; no policy written\n");
		ret = -ENOENT;
	} else if ((ret = learn_build(l, name, NULL, &out, &err))) {
		sb_putc(&err, '\0');
		pr_warn("learn: %s", err.buf);
	} else if ((ret = write_atomic(c->output, out.buf, out.len))) {
		pr_warn("learn: cannot write %s: %s\n", c->output, strerror(-ret));
	} else {
		learn_summary(l, stderr);
		fprintf(stderr, "warden: learn: wrote %s\n", c->output);
	}
	sb_free(&out);
	sb_free(&err);
	learn_free(l);
	return ret ? EXIT_FAIL : EXIT_OK;
}

int cmd_learn(int argc, char **argv)
{
	struct learn_cmd c = { .events_fd = -1 };
	const char *name;
	int status;

	if (learn_args(&c, argc, argv))
		return EXIT_USAGE;
	if (check_output(&c) || load_base(&c)) {
		status = EXIT_RUN_FAIL;
		goto out;
	}
	name = c.name ? c.name : c.has_base ? c.base.name : "learned";
	if (!name || make_tmp(&c, name)) {
		if (!name)
			pr_warn("learn: the base policy has no name; give one with --name\n");
		status = EXIT_RUN_FAIL;
		goto out;
	}
	status = run_audit(&c);
	if (learn_write(&c, name) != EXIT_OK && status == EXIT_OK)
		status = EXIT_FAIL;
out:
	remove_tmp(&c);
	if (c.has_base)
		policy_free(&c.base);
	return status;
}
