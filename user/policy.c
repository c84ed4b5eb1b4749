// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "jsonpos.h"
#include "mxc.h"
#include <nettle/sha2.h>

#include "caps.h"
#include "policy.h"

static const char *const right_names[WD_RIGHT_COUNT] = {
	[WD_RIGHT_READ] = "read",
	[WD_RIGHT_WRITE] = "write",
	[WD_RIGHT_CREATE] = "create",
	[WD_RIGHT_DELETE] = "delete",
	[WD_RIGHT_EXEC] = "exec",
};

const char *right_name(enum wd_right r)
{
	return r < WD_RIGHT_COUNT ? right_names[r] : "?";
}

int right_parse(const char *s)
{
	for (int r = 0; r < WD_RIGHT_COUNT; r++)
		if (!strcmp(s, right_names[r]))
			return r;
	return -1;
}

/* Must equal name_load() in bpf/lsm.bpf.c: zero-padded words, 4, 8 or 32 of them. */
uint64_t wd_name_hash(const char *name, size_t len)
{
	size_t words = len <= 32 ? 4 : len <= 64 ? 8 : WD_NAME_WORDS;
	uint64_t h = WD_FNV_OFFSET;

	for (size_t i = 0; i < words; i++) {
		uint64_t w = 0;

		if (i * 8 < len)
			memcpy(&w, name + i * 8, len - i * 8 < 8 ? len - i * 8 : 8);	/* little endian */
		h ^= w;
		h *= WD_FNV_PRIME;
	}
	return h;
}

/* ---- parsing ----------------------------------------------------------- */

struct parser {
	const char *file;
	const char *text;
	struct jsonpos *jp;
	const struct policy_env *env;
	struct sbuf *err;
	int errors;
};

static void __attribute__((format(printf, 4, 5)))
perr_at(struct parser *ps, const cJSON *item, bool at_key, const char *fmt, ...)
{
	int line = 1, col = 1;
	va_list ap;
	char msg[1024];

	if (item && at_key)
		jsonpos_key(ps->jp, item, &line, &col);
	else if (item)
		jsonpos_value(ps->jp, item, &line, &col);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sb_printf(ps->err, "%s:%d:%d: %s\n", ps->file, line, col, msg);
	ps->errors++;
}

#define perr(ps, item, ...) perr_at(ps, item, false, __VA_ARGS__)
#define perr_key(ps, item, ...) perr_at(ps, item, true, __VA_ARGS__)

static const char *type_name(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "invalid";
}

/* Reject unknown and repeated keys; @known is NULL-terminated. */
static void check_keys(struct parser *ps, const cJSON *obj, const char *where,
		       const char *const *known)
{
	for (const cJSON *it = obj->child; it; it = it->next) {
		const char *const *k;

		for (k = known; *k; k++)
			if (!strcmp(*k, it->string))
				break;
		if (!*k) {
			struct sbuf list = {0};

			for (k = known; *k; k++)
				sb_printf(&list, "%s%s", k == known ? "" : ", ", *k);
			sb_putc(&list, '\0');
			perr_key(ps, it, "unknown key \"%s\" in %s (known: %s)", it->string, where,
				 list.buf);
			sb_free(&list);
		}
		for (const cJSON *prev = obj->child; prev != it; prev = prev->next) {
			if (!strcmp(prev->string, it->string)) {
				perr_key(ps, it, "duplicate key \"%s\" in %s", it->string, where);
				break;
			}
		}
	}
}

static const cJSON *get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* A string member that must be one of @choices; returns its index or @dflt. */
static int get_enum(struct parser *ps, const cJSON *obj, const char *key, const char *where,
		    const char *const *choices, int dflt)
{
	const cJSON *v = get(obj, key);

	if (!v)
		return dflt;
	if (!cJSON_IsString(v)) {
		perr(ps, v, "%s.%s must be a string, not %s", where, key, type_name(v));
		return dflt;
	}
	for (int i = 0; choices[i]; i++)
		if (!strcmp(v->valuestring, choices[i]))
			return i;
	perr(ps, v, "%s.%s: \"%s\" is not one of %s%s%s", where, key, v->valuestring, choices[0],
	     choices[1] ? " or " : "", choices[1] ? choices[1] : "");
	return dflt;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > POLICY_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* Expand ${CWD} and ${HOME}. Returns NULL (and reports) on an unknown variable. */
static char *expand(struct parser *ps, const cJSON *item, const char *in)
{
	struct sbuf sb = {0};
	const char *p = in;

	if (!strstr(in, "${"))
		return xstrdup(in);	/* the common case, without a call a byte */
	while (*p) {
		const char *val = NULL;
		size_t skip = 0, vlen;

		if (!strncmp(p, "${CWD}", 6)) {
			val = ps->env->cwd;
			skip = 6;
		} else if (!strncmp(p, "${HOME}", 7)) {
			val = ps->env->home;
			skip = 7;
		} else if (!strncmp(p, "${", 2)) {
			const char *end = strchr(p, '}');

			perr(ps, item, "unknown variable \"%.*s\" in path (known: ${CWD}, ${HOME})",
			     end ? (int)(end - p + 1) : (int)strlen(p), p);
			sb_free(&sb);
			return NULL;
		}
		if (!skip) {
			sb_putc(&sb, *p++);
			continue;
		}
		if (!val || val[0] != '/') {
			perr(ps, item, "%.*s has no absolute value here", (int)skip, p);
			sb_free(&sb);
			return NULL;
		}
		p += skip;
		/* The value without trailing '/', so "${HOME}" stays an exact path... */
		vlen = strlen(val);
		while (vlen > 1 && val[vlen - 1] == '/')
			vlen--;
		sb_put(&sb, val, vlen);
		/* ...and "${CWD}/x" with CWD "/" is "/x", not "//x". */
		if (vlen == 1 && *p == '/')
			p++;
	}
	sb_putc(&sb, '\0');
	return sb.buf;
}

/*
 * Check a policy path: absolute, no empty, "." or ".." components, limits.
 * Sets *subtree for a trailing '/' and strips it (except for "/").
 */
static bool check_path(struct parser *ps, const cJSON *item, char *path, bool *subtree)
{
	size_t len = strlen(path), depth = 0;
	const char *c;

	if (path[0] != '/') {
		perr(ps, item, "path \"%s\" is not absolute (start it with /, ${CWD} or ${HOME})",
		     path);
		return false;
	}
	if (len >= WD_PATH_MAX) {
		perr(ps, item, "path is %zu bytes long; the limit is %d", len, WD_PATH_MAX - 1);
		return false;
	}
	if (strstr(path, "//")) {
		perr(ps, item, "path \"%s\" is not normalised: empty component (\"//\")", path);
		return false;
	}
	*subtree = path[len - 1] == '/';
	if (*subtree && len > 1)
		path[--len] = '\0';
	for (c = path + 1; *c || c == path + 1; ) {
		const char *end = strchr(c, '/');
		size_t n = end ? (size_t)(end - c) : strlen(c);

		if (len == 1)
			break;	/* "/" */
		if (n == 0) {
			perr(ps, item, "path \"%s\" is not normalised: empty component (\"//\")",
			     path);
			return false;
		}
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) {
			perr(ps, item, "path \"%s\" is not normalised: \"%.*s\" component", path,
			     (int)n, c);
			return false;
		}
		if (n > WD_NAME_MAX) {
			perr(ps, item, "path component is %zu bytes long; the limit is %d", n,
			     WD_NAME_MAX);
			return false;
		}
		if (++depth > WD_RULE_DEPTH_MAX) {
			perr(ps, item, "path has more than %d components", WD_RULE_DEPTH_MAX);
			return false;
		}
		if (!end)
			break;
		c = end + 1;
	}
	return true;
}

/* "allow"/"deny": an array of right names (or "all") into a mask. */
static uint8_t parse_rights(struct parser *ps, const cJSON *arr, const char *where)
{
	uint8_t mask = 0;

	if (!cJSON_IsArray(arr)) {
		perr(ps, arr, "%s must be an array of rights, not %s", where, type_name(arr));
		return 0;
	}
	if (!arr->child)
		perr(ps, arr, "%s is empty: name at least one right", where);
	for (const cJSON *it = arr->child; it; it = it->next) {
		int r;

		if (!cJSON_IsString(it)) {
			perr(ps, it, "a right must be a string, not %s", type_name(it));
			continue;
		}
		if (!strcmp(it->valuestring, "all")) {
			mask |= RIGHTS_ALL;
			continue;
		}
		r = right_parse(it->valuestring);
		if (r < 0) {
			perr(ps, it, "unknown right \"%s\" (known: read, write, create, delete, exec, all)",
			     it->valuestring);
			continue;
		}
		mask |= 1u << r;
	}
	return mask;
}

static const char *const rule_keys[] = { "path", "allow", "deny", "audit", NULL };

/* "file.rules[IDX]" into @buf (64 bytes), as snprintf would, at a tenth of its cost. */
static void rule_where(char *buf, size_t idx)
{
	char digits[24];
	int n = 0;

	do
		digits[n++] = '0' + idx % 10;
	while (idx /= 10);
	memcpy(buf, "file.rules[", 11);
	for (int i = 0; i < n; i++)
		buf[11 + i] = digits[n - 1 - i];
	memcpy(buf + 11 + n, "]", 2);
}

static void parse_rule(struct parser *ps, const cJSON *obj, size_t idx, struct file_rule *r)
{
	const cJSON *path, *allow, *deny, *audit;
	char where[64];

	memset(r, 0, sizeof(*r));
	jsonpos_value(ps->jp, obj, &r->line, &r->col);
	rule_where(where, idx);
	if (!cJSON_IsObject(obj)) {
		perr(ps, obj, "%s must be an object, not %s", where, type_name(obj));
		return;
	}
	check_keys(ps, obj, where, rule_keys);
	path = get(obj, "path");
	allow = get(obj, "allow");
	deny = get(obj, "deny");
	audit = get(obj, "audit");
	if (!path) {
		perr(ps, obj, "%s has no \"path\"", where);
	} else if (!cJSON_IsString(path)) {
		perr(ps, path, "%s.path must be a string, not %s", where, type_name(path));
	} else if (strlen(path->valuestring) == 0) {
		perr(ps, path, "%s.path is empty", where);
	} else {
		r->path = expand(ps, path, path->valuestring);
		if (r->path && !check_path(ps, path, r->path, &r->subtree)) {
			free(r->path);
			r->path = NULL;
		}
	}
	if (!allow && !deny)
		perr(ps, obj, "%s has neither \"allow\" nor \"deny\"", where);
	if (allow)
		r->allow = parse_rights(ps, allow, "allow");
	if (deny)
		r->deny = parse_rights(ps, deny, "deny");
	if (r->allow & r->deny)
		perr(ps, deny, "%s both allows and denies the same right", where);
	if (audit && !cJSON_IsBool(audit))
		perr(ps, audit, "%s.audit must be true or false, not %s", where, type_name(audit));
	r->audit = cJSON_IsTrue(audit);
}

/* Rules on the same path that allow and deny one right contradict. */
static int by_rule_path(const void *a, const void *b)
{
	const struct file_rule *x = *(struct file_rule *const *)a, *y = *(struct file_rule *const *)b;
	int c = strcmp(x->path, y->path);

	return c ? c : (int)x->subtree - (int)y->subtree;
}

static int by_rule_path_then_order(const void *a, const void *b)
{
	const struct file_rule *x = *(struct file_rule *const *)a, *y = *(struct file_rule *const *)b;
	int c = by_rule_path(a, b);

	return c ? c : x < y ? -1 : x > y;
}

static uint64_t rule_path_hash(const struct file_rule *r)
{
	uint64_t h = WD_FNV_OFFSET ^ r->subtree;

	for (const char *c = r->path; *c; c++)
		h = (h ^ (unsigned char)*c) * WD_FNV_PRIME;
	return h;
}

/*
 * Mark the rules whose path (and subtree flag) another rule has too, with
 * an open-addressing table of the first rule on each: only those can
 * contradict, and sorting them all cost as much as the compile.
 */
static bool *shared_paths(const struct policy *p)
{
	size_t bits = 4, mask;
	bool *shared = xcalloc(p->nrules ? p->nrules : 1, sizeof(*shared));
	size_t *slots;

	while ((1ULL << bits) < 2 * p->nrules)
		bits++;
	mask = (1ULL << bits) - 1;
	slots = xcalloc(mask + 1, sizeof(*slots));
	for (size_t i = 0; i < p->nrules; i++) {
		const struct file_rule *r = &p->rules[i];
		size_t h;

		if (!r->path)
			continue;
		for (h = (rule_path_hash(r) >> (64 - bits)) & mask; slots[h]; h = (h + 1) & mask) {
			const struct file_rule *q = &p->rules[slots[h] - 1];

			if (q->subtree == r->subtree && !strcmp(q->path, r->path)) {
				shared[i] = shared[slots[h] - 1] = true;
				break;
			}
		}
		if (!slots[h])
			slots[h] = i + 1;
	}
	free(slots);
	return shared;
}

static void check_contradictions(struct parser *ps, struct policy *p)
{
	struct file_rule **v = xcalloc(p->nrules, sizeof(*v));
	bool *shared = shared_paths(p);
	size_t n = 0, start = 0;

	for (size_t i = 0; i < p->nrules; i++)
		if (shared[i])
			v[n++] = &p->rules[i];
	free(shared);
	/* As many groups, in the same order, as with every rule sorted. */
	qsort(v, n, sizeof(*v), by_rule_path_then_order);
	/* Within each group of rules on one path, in file order. */
	for (size_t i = 0; i <= n; i++) {
		if (i < n && (i == start || !by_rule_path(&v[start], &v[i])))
			continue;
		for (size_t a = start; a < i; a++) {
			for (size_t b = start; b < a; b++) {
				if (!((v[a]->allow & v[b]->deny) || (v[a]->deny & v[b]->allow)))
					continue;
				sb_printf(ps->err, "%s:%d:%d: rule contradicts the rule at line %d on the same path \"%s%s\"\n",
					  ps->file, v[a]->line, v[a]->col, v[b]->line, v[b]->path,
					  v[b]->subtree && strcmp(v[b]->path, "/") ? "/" : "");
				ps->errors++;
				break;
			}
		}
		start = i;
	}
	free(v);
}

static void parse_file_section(struct parser *ps, const cJSON *file, struct policy *p)
{
	static const char *const keys[] = { "default", "rules", "fileless_exec", NULL };
	static const char *const actions[] = { "allow", "deny", NULL };
	const cJSON *rules;
	size_t i = 0, n;

	if (!cJSON_IsObject(file)) {
		perr(ps, file, "\"file\" must be an object, not %s", type_name(file));
		return;
	}
	check_keys(ps, file, "file", keys);
	p->file_default = get_enum(ps, file, "default", "file", actions, 0) == 1 ? WD_ACT_DENY
										 : WD_ACT_ALLOW;
	p->fileless_exec = get_enum(ps, file, "fileless_exec", "file", actions, 1) == 0;
	rules = get(file, "rules");
	if (!rules)
		return;
	if (!cJSON_IsArray(rules)) {
		perr(ps, rules, "file.rules must be an array, not %s", type_name(rules));
		return;
	}
	n = cJSON_GetArraySize(rules);
	if (n > POLICY_RULES_MAX) {
		perr(ps, rules, "file.rules has %zu rules; the limit is %d", n, POLICY_RULES_MAX);
		return;
	}
	p->rules = xcalloc(n, sizeof(*p->rules));
	p->nrules = n;
	for (const cJSON *it = rules->child; it; it = it->next, i++)
		parse_rule(ps, it, i, &p->rules[i]);
}

/* ---- hooks for the MXC importer (mxc.c) ---------------------------------- */

void policy_parser_error(struct parser *ps, const cJSON *item, bool at_key, const char *msg)
{
	perr_at(ps, item, at_key, "%s", msg);
}

void policy_parser_pos(struct parser *ps, const cJSON *item, bool at_key, int *line, int *col)
{
	*line = *col = 1;
	if (item && at_key)
		jsonpos_key(ps->jp, item, line, col);
	else if (item)
		jsonpos_value(ps->jp, item, line, col);
}

const char *policy_parser_file(const struct parser *ps)
{
	return ps->file;
}

const char *policy_parser_type_name(const cJSON *v)
{
	return type_name(v);
}

void policy_parser_check_keys(struct parser *ps, const cJSON *obj, const char *where,
			      const char *const *known)
{
	check_keys(ps, obj, where, known);
}

bool policy_parser_check_path(struct parser *ps, const cJSON *item, char *path, bool *subtree)
{
	return check_path(ps, item, path, subtree);
}

#include "policy_net.inc"

/*
 * Presets: rules every demanding user would otherwise write by hand, kept
 * in one place. "write" on a unix socket's path is what connecting to it
 * needs, so denying it cuts the agent off from the service behind it.
 */
struct preset_rule {
	const char *path;	/* ${HOME} and ${SSH_AUTH_SOCK} expanded; trailing '/' = subtree */
	uint8_t deny;
};

#define R (1u << WD_RIGHT_READ)
#define W (1u << WD_RIGHT_WRITE)
static const struct preset_rule no_escalation[] = {
	/* Container engines: their socket is root on the host. */
	{ "/run/docker.sock", W }, { "/var/run/docker.sock", W }, { "/run/docker/", W },
	{ "/run/containerd/", W }, { "/run/podman/", W }, { "/run/crio/", W },
	{ "/run/libvirt/", W }, { "/run/snapd.socket", W }, { "/run/snapd-snap.socket", W },
	{ "${HOME}/.docker/run/", W },
	/* The system bus (polkit, systemd, NetworkManager...) and systemd's private socket. */
	{ "/run/dbus/system_bus_socket", W }, { "/var/run/dbus/system_bus_socket", W },
	{ "/run/systemd/private", W }, { "/run/systemd/journal/stdout", 0 },
	/* Per-user runtime dirs: rootless docker/podman, the user's systemd manager. */
	{ "/run/user/", W },
	{ NULL, 0 },
};
static const struct preset_rule no_desktop[] = {
	/* Display servers: X11 (and its auth cookie), Wayland, session bus, audio, keyrings. */
	{ "/tmp/.X11-unix/", W }, { "/tmp/.ICE-unix/", W }, { "${HOME}/.Xauthority", R | W },
	{ "/run/user/", W },
	/* Agents holding keys. */
	{ "${HOME}/.gnupg/S.gpg-agent", W }, { "${HOME}/.gnupg/S.gpg-agent.ssh", W },
	{ "${HOME}/.gnupg/S.gpg-agent.extra", W }, { "${SSH_AUTH_SOCK}", W },
	/* The session bus wherever it is (unix:path=/tmp/dbus-XXXX,guid=...). */
	{ "${DBUS_SESSION_BUS_PATH}", W },
	/* Keyboards and mice: reading them is keylogging, uinput is typing. */
	{ "/dev/input/", R | W }, { "/dev/uinput", R | W },
	{ NULL, 0 },
};
#undef R
#undef W

static const struct {
	const char *name;
	const struct preset_rule *rules;
	bool no_abstract;	/* abstract unix sockets (X11's @/tmp/.X11-unix/X0) too */
} presets[] = {
	{ "no-escalation", no_escalation, false },
	{ "no-desktop", no_desktop, true },
};

static char *preset_path(const struct policy_env *env, const char *path)
{
	struct sbuf sb = {0};

	if (!strncmp(path, "${HOME}", 7)) {
		sb_puts(&sb, env->home);
		path += 7;
	} else if (!strcmp(path, "${SSH_AUTH_SOCK}")) {
		if (!env->ssh_auth_sock || env->ssh_auth_sock[0] != '/')
			return NULL;
		path = env->ssh_auth_sock;
	} else if (!strcmp(path, "${DBUS_SESSION_BUS_PATH}")) {
		/* The first "unix:path=" address; abstract ones are denied as abstract sockets. */
		const char *a = env->dbus_session ? strstr(env->dbus_session, "unix:path=") : NULL;

		if (!a || a[10] != '/')
			return NULL;
		a += 10;
		sb_put(&sb, a, strcspn(a, ",;"));
		sb_putc(&sb, '\0');
		return sb.buf;
	}
	sb_puts(&sb, path);
	sb_putc(&sb, '\0');
	return sb.buf;
}

static void add_preset(struct parser *ps, const cJSON *item, size_t idx, struct policy *p)
{
	char label[64];

	snprintf(label, sizeof(label), "presets[%zu]", idx);
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
		if (strcmp(item->valuestring, presets[i].name))
			continue;
		for (const struct preset_rule *pr = presets[i].rules; pr->path; pr++) {
			struct file_rule *r;
			char *path = pr->deny ? preset_path(ps->env, pr->path) : NULL;

			if (!path)
				continue;
			p->rules = xrealloc(p->rules, (p->nrules + 1) * sizeof(*p->rules));
			r = &p->rules[p->nrules++];
			memset(r, 0, sizeof(*r));
			r->path = path;
			if (!check_path(ps, item, r->path, &r->subtree)) {
				free(r->path);
				r->path = NULL;
			}
			r->deny = pr->deny;
			r->preset = presets[i].name;
			jsonpos_value(ps->jp, item, &r->line, &r->col);
		}
		p->no_abstract_unix |= presets[i].no_abstract;
		return;
	}
	perr(ps, item, "%s: unknown preset \"%s\" (known: no-escalation, no-desktop)", label,
	     item->valuestring);
}

static void parse_presets(struct parser *ps, const cJSON *arr, struct policy *p)
{
	size_t i = 0;

	if (!cJSON_IsArray(arr)) {
		perr(ps, arr, "presets must be an array of preset names, not %s", type_name(arr));
		return;
	}
	for (const cJSON *it = arr->child; it; it = it->next, i++) {
		if (!cJSON_IsString(it))
			perr(ps, it, "presets[%zu] must be a preset name, not %s", i, type_name(it));
		else
			add_preset(ps, it, i, p);
	}
}

/* ---- match (warden daemon) --------------------------------------------- */

static struct match_entry *match_add(struct parser *ps, const cJSON *item, struct match_entry **arr,
				     size_t *n)
{
	struct match_entry *e;

	*arr = xrealloc(*arr, (*n + 1) * sizeof(**arr));
	e = &(*arr)[(*n)++];
	memset(e, 0, sizeof(*e));
	jsonpos_value(ps->jp, item, &e->line, &e->col);
	return e;
}

static void parse_match_exe(struct parser *ps, const cJSON *item, size_t i, struct policy *p)
{
	char *path;
	bool subtree;

	if (!cJSON_IsString(item)) {
		perr(ps, item, "match.exe[%zu] must be a path, not %s", i, type_name(item));
		return;
	}
	path = expand(ps, item, item->valuestring);
	if (!path)
		return;
	if (!check_path(ps, item, path, &subtree)) {
		free(path);
		return;
	}
	match_add(ps, item, &p->match_exe, &p->nmatch_exe)->path = path;
	p->match_exe[p->nmatch_exe - 1].subtree = subtree;
}

static void parse_match_cgroup(struct parser *ps, const cJSON *item, size_t i, struct policy *p)
{
	const char *s;
	size_t len;

	if (!cJSON_IsString(item)) {
		perr(ps, item, "match.cgroups[%zu] must be a cgroup path, not %s", i, type_name(item));
		return;
	}
	s = item->valuestring;
	while (*s == '/')
		s++;
	len = strlen(s);
	while (len && s[len - 1] == '/')
		len--;
	if (!len) {
		perr(ps, item, "match.cgroups[%zu] is the root cgroup: that would bind every process of the machine; name a cgroup below it (e.g. \"system.slice/agent.service\")",
		     i);
		return;
	}
	if (len >= WD_PATH_MAX || strstr(item->valuestring, "//") ||
	    strstr(item->valuestring, "/../") || !strncmp(s, "../", 3) || !strcmp(s, "..") ||
	    (len >= 3 && !strncmp(s + len - 3, "/..", 3))) {
		perr(ps, item, "match.cgroups[%zu]: \"%s\" is not a normalised cgroup path (relative to the cgroup2 mount, e.g. \"system.slice/agent.service\")",
		     i, item->valuestring);
		return;
	}
	{
		char *c = xmalloc(len + 1);

		memcpy(c, s, len);
		c[len] = '\0';
		match_add(ps, item, &p->match_cgroups, &p->nmatch_cgroups)->path = c;
	}
}

static void parse_match_uid(struct parser *ps, const cJSON *item, size_t i, struct policy *p)
{
	struct passwd *pw;
	double d;

	if (cJSON_IsNumber(item)) {
		d = item->valuedouble;
		if (d < 0 || d >= 4294967295.0 || d != (double)(uint32_t)d) {
			perr(ps, item, "match.uids[%zu]: %g is not a uid (an integer from 0 to 4294967294)",
			     i, d);
			return;
		}
		match_add(ps, item, &p->match_uids, &p->nmatch_uids)->uid = (uint32_t)d;
		return;
	}
	if (!cJSON_IsString(item)) {
		perr(ps, item, "match.uids[%zu] must be a uid or a user name, not %s", i,
		     type_name(item));
		return;
	}
	pw = getpwnam(item->valuestring);
	if (!pw) {
		perr(ps, item, "match.uids[%zu]: no user \"%s\" on this machine", i, item->valuestring);
		return;
	}
	match_add(ps, item, &p->match_uids, &p->nmatch_uids)->uid = pw->pw_uid;
}

static void parse_match_list(struct parser *ps, const cJSON *sec, const char *key, struct policy *p,
			     void (*one)(struct parser *, const cJSON *, size_t, struct policy *))
{
	const cJSON *arr = get(sec, key);
	size_t i = 0;

	if (!arr)
		return;
	if (!cJSON_IsArray(arr)) {
		perr(ps, arr, "match.%s must be an array, not %s", key, type_name(arr));
		return;
	}
	if (!arr->child)
		perr(ps, arr, "match.%s is empty: it would match nothing; leave it out instead", key);
	for (const cJSON *it = arr->child; it; it = it->next)
		one(ps, it, i++, p);
}

static void parse_match_section(struct parser *ps, const cJSON *sec, struct policy *p)
{
	static const char *const keys[] = { "exe", "cgroups", "uids", NULL };

	if (!cJSON_IsObject(sec)) {
		perr(ps, sec, "match must be an object, not %s", type_name(sec));
		return;
	}
	check_keys(ps, sec, "match", keys);
	if (!sec->child) {
		perr(ps, sec, "match is empty: give at least one of exe, cgroups, uids");
		return;
	}
	p->has_match = true;
	parse_match_list(ps, sec, "exe", p, parse_match_exe);
	parse_match_list(ps, sec, "cgroups", p, parse_match_cgroup);
	parse_match_list(ps, sec, "uids", p, parse_match_uid);
	if (p->nmatch_uids && !p->nmatch_exe && !p->nmatch_cgroups)
		for (size_t i = 0; i < p->nmatch_uids; i++)
			if (p->match_uids[i].uid == 0) {
				perr(ps, get(sec, "uids"), "match.uids alone with uid 0 would bind every program root runs, the daemon's own helpers included; combine it with exe or cgroups");
				break;
			}
}

/*
 * "capabilities": the names of capabilities an agent loses by default that
 * this policy gives back (WD_CAPS_GRANTABLE). Naming one no agent loses,
 * or one that is a protection, is an error: it would not do what it says.
 */
static void parse_capabilities(struct parser *ps, const cJSON *sec, struct policy *p)
{
	char grantable[512];
	const cJSON *it;

	cap_list(WD_CAPS_GRANTABLE, grantable, sizeof(grantable));
	if (!cJSON_IsArray(sec)) {
		perr(ps, sec, "capabilities must be an array of capability names (%s), not %s",
		     grantable, type_name(sec));
		return;
	}
	cJSON_ArrayForEach(it, sec) {
		int cap = cJSON_IsString(it) ? cap_by_name(it->valuestring) : -1;

		if (!cJSON_IsString(it))
			perr(ps, it, "a capability is a name such as \"CAP_SYS_TIME\", not %s",
			     type_name(it));
		else if (cap < 0)
			perr(ps, it, "\"%s\" is not a Linux capability (names are CAP_..., in upper case)",
			     it->valuestring);
		else if (!(WD_CAPS_REMOVED & (1ull << cap)))
			perr(ps, it, "%s is not one an agent loses, so there is nothing to give back: agents lose only %s and the protections' capabilities (docs/protections.md)",
			     it->valuestring, grantable);
		else if (!(WD_CAPS_GRANTABLE & (1ull << cap)))
			perr(ps, it, "%s serves only an escape from confinement and no policy can give it back; capabilities a policy may give back: %s",
			     it->valuestring, grantable);
		else if (p->caps_granted & (1ull << cap))
			perr(ps, it, "%s is listed twice", it->valuestring);
		else
			p->caps_granted |= 1ull << cap;
	}
}

static void parse_top(struct parser *ps, const cJSON *root, struct policy *p)
{
	static const char *const keys[] = { "version", "name", "identity", "mode", "file",
					    "network", "presets", "match", "capabilities", NULL };
	static const char *const modes[] = { "enforce", "audit", NULL };
	const cJSON *v;

	if (!cJSON_IsObject(root)) {
		perr(ps, root, "a policy must be a JSON object, not %s", type_name(root));
		return;
	}
	v = get(root, "version");
	if (!v) {
		perr(ps, root, "no \"version\": this format is version 1 (\"version\": 1)");
	} else if (cJSON_IsString(v) && !strcmp(v->valuestring, "1.0.0")) {
		mxc_parse_top(ps, root, p);	/* an MXC containment policy: mxc.c */
		return;
	} else if (cJSON_IsString(v) && strchr(v->valuestring, '.')) {
		perr(ps, v, "MXC schema version \"%s\" is not supported: this build reads MXC containment policies of version \"1.0.0\" (and Warden policies, \"version\": 1)",
		     v->valuestring);
		return;
	} else if (!cJSON_IsNumber(v)) {
		perr(ps, v, "version must be the number 1, not %s", type_name(v));
	} else if (v->valuedouble != 1) {
		perr(ps, v, "unsupported version %g: this build reads version 1", v->valuedouble);
	}
	check_keys(ps, root, "the policy", keys);

	v = get(root, "name");
	if (!v)
		perr(ps, root, "no \"name\": every policy names its agent");
	else if (!cJSON_IsString(v))
		perr(ps, v, "name must be a string, not %s", type_name(v));
	else if (!valid_name(v->valuestring))
		perr(ps, v, "name \"%s\" is invalid: 1 to %d characters of A-Z a-z 0-9 . _ -",
		     v->valuestring, POLICY_NAME_MAX);
	else
		p->name = xstrdup(v->valuestring);

	v = get(root, "identity");
	if (v && !cJSON_IsString(v))
		perr(ps, v, "identity must be a string, not %s", type_name(v));
	else if (v && strlen(v->valuestring) > POLICY_IDENTITY_MAX)
		perr(ps, v, "identity is %zu bytes long; the limit is %d", strlen(v->valuestring),
		     POLICY_IDENTITY_MAX);
	else if (v)
		p->identity = xstrdup(v->valuestring);

	p->mode = get_enum(ps, root, "mode", "policy", modes, 0) == 1 ? WD_MODE_AUDIT
								     : WD_MODE_ENFORCE;
	p->file_default = WD_ACT_ALLOW;
	v = get(root, "file");
	if (v)
		parse_file_section(ps, v, p);
	v = get(root, "presets");
	if (v)
		parse_presets(ps, v, p);
	check_contradictions(ps, p);
	p->net_default = WD_ACT_ALLOW;
	v = get(root, "network");
	if (v)
		parse_network_section(ps, v, p);
	if (p->has_network && !p->net_abstract_unix)
		p->no_abstract_unix = true;
	v = get(root, "match");
	if (v)
		parse_match_section(ps, v, p);
	v = get(root, "capabilities");
	if (v)
		parse_capabilities(ps, v, p);
}

int policy_parse(const char *file, const char *text, size_t len, const struct policy_env *env,
		 struct policy *out, struct sbuf *err)
{
	struct parser ps = { .file = file, .text = text, .env = env, .err = err };
	const char *end = NULL;
	cJSON *root;
	int line, col;

	memset(out, 0, sizeof(*out));
	out->file = xstrdup(file);
	if (len > POLICY_FILE_MAX) {
		sb_printf(err, "%s:1:1: policy is %zu bytes; the limit is %u\n", file, len,
			  POLICY_FILE_MAX);
		return -EINVAL;
	}
	if (strlen(text) != len) {
		text_linecol(text, strlen(text), &line, &col);
		sb_printf(err, "%s:%d:%d: NUL byte in policy text\n", file, line, col);
		return -EINVAL;
	}
	{
		long nul = json_find_nul_escape(text);

		if (nul >= 0) {
			text_linecol(text, nul, &line, &col);
			sb_printf(err, "%s:%d:%d: \\u0000 in a string: a NUL would cut the string short\n",
				  file, line, col);
			return -EINVAL;
		}
	}
	{
		/*
		 * Nettle's: it uses the CPU's SHA instructions where there are
		 * (0.5 ms for 10,000 rules, where ldns's took 5 to 8 ms), with
		 * no set-up cost at the first call (OpenSSL 3's SHA256() has one).
		 */
		unsigned char digest[SHA256_DIGEST_SIZE];
		struct sha256_ctx ctx;

		sha256_init(&ctx);
		sha256_update(&ctx, len, (const uint8_t *)text);
		sha256_digest(&ctx, sizeof(digest), digest);
		for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
			snprintf(out->sha256 + 2 * i, 3, "%02x", digest[i]);
	}
	json_arena_begin();
	root = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1);
	if (!root) {
		const char *at = end ? end : cJSON_GetErrorPtr();
		size_t off = at && at >= text && at <= text + len ? (size_t)(at - text) : 0;

		text_linecol(text, off, &line, &col);
		sb_printf(err, "%s:%d:%d: malformed JSON%s\n", file, line, col,
			  off >= len ? ": unexpected end of file" : "");
		json_arena_end();
		return -EINVAL;
	}
	ps.jp = jsonpos_new(text, root);
	parse_top(&ps, root, out);
	jsonpos_free(ps.jp);
	cJSON_Delete(root);
	json_arena_end();
	return ps.errors ? -EINVAL : 0;
}

int policy_env_of_process(struct policy_env *env, char *cwd, size_t size)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (!home || home[0] != '/') {
		pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : "/";
	}
	env->home = home;
	env->cwd = cwd;
	env->ssh_auth_sock = getenv("SSH_AUTH_SOCK");
	env->dbus_session = getenv("DBUS_SESSION_BUS_ADDRESS");
	if (!getcwd(cwd, size))
		return -errno;
	return 0;
}

int policy_load(const char *file, const struct policy_env *env, struct policy *out,
		struct sbuf *err)
{
	char *text;
	size_t len;
	int ret;

	ret = read_file(file, &text, &len);
	if (ret) {
		memset(out, 0, sizeof(*out));
		sb_printf(err, "%s:0:0: cannot read policy: %s\n", file, strerror(-ret));
		return ret;
	}
	ret = policy_parse(file, text, len, env, out, err);
	free(text);
	return ret;
}

void policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->nnet; i++) {
		free(p->net_rules[i].host);
		free(p->net_rules[i].ports);
	}
	free(p->net_rules);
	free(p->unenforceable);
	mxc_policy_free(p);
	for (size_t i = 0; i < p->nrules; i++)
		free(p->rules[i].path);
	free(p->rules);
	for (size_t i = 0; i < p->nmatch_exe; i++)
		free(p->match_exe[i].path);
	for (size_t i = 0; i < p->nmatch_cgroups; i++)
		free(p->match_cgroups[i].path);
	free(p->match_exe);
	free(p->match_cgroups);
	free(p->match_uids);
	free(p->file);
	free(p->name);
	free(p->identity);
	memset(p, 0, sizeof(*p));
}

/* ---- reference decision ------------------------------------------------ */

/* Does @r cover @path? Returns the covering length (components), or -1. */
static int covers(const struct file_rule *r, const char *path)
{
	size_t n = strlen(r->path);
	int depth = 0;

	if (!strcmp(r->path, "/")) {
		if (!r->subtree && strcmp(path, "/"))
			return -1;
		return 0;
	}
	if (strncmp(path, r->path, n) || (path[n] && (path[n] != '/' || !r->subtree)))
		return -1;
	for (size_t i = 0; i < n; i++)
		depth += r->path[i] == '/';
	return depth;
}

void policy_decide_reference(const struct policy *p, const char *path, enum wd_right right,
			     struct wd_verdict *out)
{
	int best = -1;

	out->action = p->file_default;
	out->rule = WD_RULE_DEFAULT;
	out->audit = 0;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct file_rule *r = &p->rules[i];
		bool names = (r->allow | r->deny) & (1u << right);
		int d;

		if (!names || (d = covers(r, path)) < 0)
			continue;
		if (d > best || (d == best && (r->deny & (1u << right)) && out->action != WD_ACT_DENY)) {
			best = d;
			out->action = (r->deny & (1u << right)) ? WD_ACT_DENY : WD_ACT_ALLOW;
			out->rule = i;
			out->audit = r->audit;
		}
	}
}

/* ---- compiler ------------------------------------------------------------ */

struct tnode {
	const char *name;	/* in a rule's path, not NUL-terminated; NULL for "/" */
	size_t len;		/* of name */
	size_t path_len;	/* the node's absolute path: the rule's path up to name's end */
	size_t parent;		/* index; root is 0 and its own parent */
	struct wd_verdict sub[WD_RIGHT_COUNT];	/* own subtree rules; action NONE = none */
	struct wd_verdict ex[WD_RIGHT_COUNT];	/* own exact rules */
};

/* Order paths so that a directory comes right before everything below it. */
static int path_rank(char c)
{
	return c == '/' ? 1 : c ? (unsigned char)c + 1 : 0;
}

static int path_cmp(const char *a, const char *b)
{
	/*
	 * '/' sorts right after the end of a string, before every other byte.
	 * The ranks are one-to-one: the first differing byte decides.
	 */
	while (*a == *b && *a)
		a++, b++;
	return path_rank(*a) - path_rank(*b);
}

/* Rules by path; equal paths in file order (glibc's qsort is stable, others need not be). */
static int by_path_then_order(const void *a, const void *b)
{
	const struct file_rule *x = *(const struct file_rule *const *)a;
	const struct file_rule *y = *(const struct file_rule *const *)b;
	int c = path_cmp(x->path, y->path);

	return c ? c : (x > y) - (x < y);
}

/*
 * Fold rule @idx into a node's own verdicts. Between rules on one path, deny
 * wins; between rules with the same action, the first in the file decides
 * (and its "audit" counts), as in policy_decide_reference().
 */
static bool verdict_beats(uint8_t act, uint32_t idx, const struct wd_verdict *cur)
{
	if (cur->action == WD_ACT_NONE)
		return true;
	if (act != cur->action)
		return act == WD_ACT_DENY;
	return idx < cur->rule;
}

static void add_rule(struct wd_verdict *v, const struct file_rule *r, uint32_t idx)
{
	for (int i = 0; i < WD_RIGHT_COUNT; i++) {
		uint8_t bit = 1u << i;
		uint8_t act = (r->deny & bit) ? WD_ACT_DENY : (r->allow & bit) ? WD_ACT_ALLOW : 0;

		if (act && verdict_beats(act, idx, &v[i]))
			v[i] = (struct wd_verdict){ .rule = idx, .action = act, .audit = r->audit };
	}
}

/* Build the component tree; returns node count or -E2BIG. */
static long build_tree(const struct policy *p, struct tnode **out)
{
	const struct file_rule **by_path = xcalloc(p->nrules ? p->nrules : 1, sizeof(*by_path));
	size_t cap = 64, n = 1;
	size_t stack[WD_RULE_DEPTH_MAX + 1] = { 0 };	/* node per depth of the current path */
	struct tnode *t = xcalloc(cap, sizeof(*t));
	size_t depth = 0;	/* stack depth of the previous path */

	for (size_t i = 0; i < p->nrules; i++)
		by_path[i] = &p->rules[i];
	qsort(by_path, p->nrules, sizeof(*by_path), by_path_then_order);
	for (size_t k = 0; k < p->nrules; k++) {
		const struct file_rule *r = by_path[k];
		const char *c = r->path + 1;
		size_t d = 0;

		/* Walk down the stack while components match, then add new nodes. */
		while (*c) {
			const char *end = strchr(c, '/');
			size_t len = end ? (size_t)(end - c) : strlen(c);
			size_t cur = stack[d];

			if (d < depth && t[stack[d + 1]].len == len &&
			    !memcmp(t[stack[d + 1]].name, c, len)) {
				d++;
			} else {
				if (n >= POLICY_NODES_MAX) {
					free(by_path);
					free(t);
					return -E2BIG;
				}
				if (n == cap) {
					cap *= 2;
					t = xrealloc(t, cap * sizeof(*t));
				}
				memset(&t[n], 0, sizeof(t[n]));
				t[n].name = c;
				t[n].len = len;
				t[n].path_len = c + len - r->path;
				t[n].parent = cur;
				stack[++d] = n++;
				depth = d;	/* the stack above d is no longer this path's */
			}
			c += len + (end ? 1 : 0);
		}
		depth = d;
		add_rule(r->subtree ? t[stack[d]].sub : t[stack[d]].ex, r, r - p->rules);
	}
	free(by_path);
	*out = t;
	return n;
}

/* An exact path's verdict: its own exact and subtree rules (same length), else inherited. */
static struct wd_verdict fold_exact(const struct wd_verdict *ex, const struct wd_verdict *own_sub,
				    const struct wd_verdict *sub_eff)
{
	if (ex->action && own_sub->action)
		return verdict_beats(ex->action, ex->rule, own_sub) ? *ex : *own_sub;
	if (ex->action)
		return *ex;
	return *sub_eff;
}

static int check_collisions(const struct policy *p, struct compiled *c, struct sbuf *err);

int policy_compile(const struct policy *p, uint32_t first_id, struct compiled *out,
		   struct sbuf *err)
{
	struct tnode *t;
	long n;

	memset(out, 0, sizeof(*out));
	n = build_tree(p, &t);
	if (n < 0) {
		sb_printf(err, "%s:1:1: the rules make more than %u path nodes\n", p->file,
			  POLICY_NODES_MAX);
		return -E2BIG;
	}
	out->n = n;
	out->root_id = first_id;
	out->keys = xcalloc(n, sizeof(*out->keys));
	out->nodes = xcalloc(n, sizeof(*out->nodes));
	out->paths = xcalloc(n, sizeof(*out->paths));
	/* Parents come before children: one pass folds inheritance downwards. */
	for (long i = 0; i < n; i++) {
		struct wd_node *nd = &out->nodes[i];
		const struct wd_verdict *inherit = i ? out->nodes[t[i].parent].subtree : NULL;

		nd->id = first_id + i;
		for (int r = 0; r < WD_RIGHT_COUNT; r++) {
			if (t[i].sub[r].action)
				nd->subtree[r] = t[i].sub[r];
			else if (inherit)
				nd->subtree[r] = inherit[r];
			else
				nd->subtree[r] = (struct wd_verdict){ .rule = WD_RULE_DEFAULT,
								      .action = p->file_default };
			nd->exact[r] = fold_exact(&t[i].ex[r], &t[i].sub[r], &nd->subtree[r]);
			if (nd->subtree[r].action == WD_ACT_ALLOW)
				nd->subtree_allow |= 1u << r;
			if (nd->exact[r].action == WD_ACT_ALLOW)
				nd->exact_allow |= 1u << r;
		}
		if (i == 0) {
			out->keys[i] = (struct wd_node_key){ .hash = first_id };
			out->paths[i] = xstrdup("/");
		} else {
			size_t len = t[i].len;

			/* Normalised (check_path()): the rule's path up to here is the node's. */
			out->paths[i] = xmalloc(t[i].path_len + 1);
			memcpy(out->paths[i], t[i].name + len - t[i].path_len, t[i].path_len);
			out->paths[i][t[i].path_len] = '\0';

			memcpy(nd->name, t[i].name, len);
			out->keys[i] = (struct wd_node_key){ .parent = first_id + t[i].parent,
							     .len = len,
							     .hash = wd_name_hash(t[i].name, len) };
		}
	}
	free(t);
	return check_collisions(p, out, err);
}

void compiled_free(struct compiled *c)
{
	for (size_t i = 0; c->paths && i < c->n; i++)
		free(c->paths[i]);
	free(c->paths);
	free(c->keys);
	free(c->nodes);
	free(c->order);
	memset(c, 0, sizeof(*c));
}

static const struct compiled *sort_compiled;
static int key_cmp(const struct wd_node_key *a, const struct wd_node_key *b)
{
	if (a->parent != b->parent)
		return a->parent < b->parent ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	return 0;
}

static int by_key(const void *a, const void *b)
{
	return key_cmp(&sort_compiled->keys[*(const size_t *)a],
		       &sort_compiled->keys[*(const size_t *)b]);
}

static void sort_keys(struct compiled *c)
{
	if (c->order)
		return;
	c->order = xcalloc(c->n, sizeof(*c->order));
	for (size_t i = 0; i < c->n; i++)
		c->order[i] = i;
	sort_compiled = c;
	qsort(c->order, c->n, sizeof(*c->order), by_key);
}

/* Two sibling names with one hash would make one node unreachable: refuse. */
static int check_collisions(const struct policy *p, struct compiled *c, struct sbuf *err)
{
	sort_keys(c);
	for (size_t i = 1; i < c->n; i++) {
		const struct wd_node *a = &c->nodes[c->order[i - 1]], *b = &c->nodes[c->order[i]];

		if (key_cmp(&c->keys[c->order[i - 1]], &c->keys[c->order[i]]))
			continue;
		sb_printf(err, "%s:1:1: path components \"%s\" and \"%s\" have the same hash; rename one\n",
			  p->file, a->name, b->name);
		compiled_free(c);
		return -EINVAL;
	}
	return 0;
}

static const struct wd_node *lookup(const struct compiled *c, const struct wd_node_key *key)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int cmp = key_cmp(&c->keys[c->order[mid]], key);

		if (!cmp)
			return &c->nodes[c->order[mid]];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Mirrors bpf/lsm.bpf.c: decide() and match_step(). */
int compiled_decide(const struct compiled *c, const char *path, enum wd_right right,
		    struct wd_verdict *out)
{
	struct wd_node_key key = { .hash = c->root_id };
	const struct wd_node *node;
	const char *p = path;
	bool all = true;

	if (right >= WD_RIGHT_COUNT || path[0] != '/')
		return -EINVAL;
	sort_keys((struct compiled *)c);
	node = lookup(c, &key);
	if (!node)
		return -ENOENT;
	while (*p == '/')
		p++;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const struct wd_node *child;

		key = (struct wd_node_key){ .parent = node->id, .len = len,
					    .hash = wd_name_hash(p, len) };
		child = len && len <= WD_NAME_MAX ? lookup(c, &key) : NULL;
		if (!child || memcmp(child->name, p, len)) {
			all = false;
			break;
		}
		node = child;
		p += len;
		while (*p == '/')
			p++;
	}
	*out = all ? node->exact[right] : node->subtree[right];
	return 0;
}
