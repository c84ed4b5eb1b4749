// SPDX-License-Identifier: GPL-2.0
/*
 * MXC containment policies (Microsoft MXC, schema "1.0.0") read as Warden
 * policies. policy_parse() sends a file whose top-level "version" is the
 * string "1.0.0" here; the result is the same struct policy a version 1 file
 * gives, and goes through policy_compile() unchanged.
 *
 * The mapping
 * -----------
 * name       MXC has none: the file's base name without its extension, each
 *            byte outside [A-Za-z0-9._-] made '_', at most 63 bytes; "mxc"
 *            if that leaves nothing. identity: none. mode: enforce.
 * baseline   MXC backends let the contained process read the system
 *            (their own baseline of readable system locations). Warden:
 *            file.default "deny", and rules[0] = {"path": "/", "allow":
 *            ["read", "exec"]}: everything readable and executable, nothing
 *            writable, creatable or deletable but what the lists below grant.
 *            fileless_exec: deny (the version 1 default).
 * filesystem.readwritePaths
 *            allow read, write, create, delete. exec is not named, so it is
 *            decided by the nearest enclosing rule that names it: the
 *            baseline (allow), a read-only path (allow) or a denied path
 *            (deny).
 * filesystem.readonlyPaths
 *            allow read and exec (MXC read-only locations are where the
 *            contained programs run from: toolchains, runtimes), and deny
 *            write, create, delete, so that a read-only path inside a
 *            read-write one stays read-only.
 * filesystem.deniedPaths
 *            deny all five rights.
 * path form  An MXC path names a directory or a file. If the path exists
 *            now (stat(), when the policy is read) and is not a directory,
 *            the rule is exact; otherwise (a directory, a path ending in
 *            '/', or nothing there yet) it covers the path and everything
 *            below it. Paths must be absolute and normalised as in version
 *            1 (no "//", ".", ".."; same limits); ${CWD} and ${HOME} are not
 *            MXC syntax and are not expanded.
 * precedence Warden's own: the longest covering path decides, and on one
 *            path deny wins. So a path listed both as denied and read-write
 *            (or read-only) is denied, as MXC's "explicit deny beats allow"
 *            asks: no error. A path both read-only and read-write is
 *            read-only. A more specific path overrides an enclosing one
 *            ("/srv" denied, "/srv/work" read-write: /srv/work is usable).
 * network    This build enforces no network rules; struct policy only says
 *            has_network, and warden run refuses such a policy (fail
 *            closed). MXC denies by default: egress.default, ingress.default
 *            and ingress.hostLoopback are each "deny" when absent. So
 *            has_network is set unless the policy sets egress.default,
 *            ingress.default and ingress.hostLoopback all to "allow" and has
 *            no egress deny rules, i.e. unless it asks for no network
 *            restriction at all (the shape MXC itself requires of a backend
 *            that cannot restrict networking). Egress rules are validated.
 *
 * What Warden cannot honour gives a note (see policy_notes()), never
 * silence: containment (the MXC backend: informational), process.*, ui.*,
 * lifecycle.*, fallback.*, runtimeConfig.* (networkProxy), telemetry.*,
 * containerId, backend-named sections (processContainer, lxc, seatbelt,
 * wslc, bubblewrap, isolationSession), ingress "deny", egress ICMP
 * selectors and "except" lists, and, when has_network is set, why.
 * "$schema" and "_comment" (editor and human annotations) are accepted
 * silently. Any other top-level key, a wrongly typed value or a bad path is
 * an error, FILE:LINE:COL as in version 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mxc.h"
#include "policy.h"
#include "util.h"

#define R_READ (1u << WD_RIGHT_READ)
#define R_WRITE (1u << WD_RIGHT_WRITE)
#define R_CREATE (1u << WD_RIGHT_CREATE)
#define R_DELETE (1u << WD_RIGHT_DELETE)
#define R_EXEC (1u << WD_RIGHT_EXEC)

/* ---- notes, kept beside the policy ---------------------------------------- */

size_t policy_notes(const struct policy *p, const char *const **notes)
{
	*notes = (const char *const *)p->notes;
	return p->nnotes;
}

size_t policy_print_notes(const struct policy *p, FILE *f)
{
	for (size_t i = 0; i < p->nnotes; i++)
		fprintf(f, "warning: %s\n", p->notes[i]);
	return p->nnotes;
}

void mxc_policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->nnotes; i++)
		free(p->notes[i]);
	free(p->notes);
	p->notes = NULL;
	p->nnotes = 0;
}

/* ---- parsing ------------------------------------------------------------- */

struct mxc {
	struct parser *ps;
	struct policy *p;
	const cJSON *root;
	char **notes;
	size_t nnotes, cap_notes, cap_rules;
	bool too_many_rules;
};

static void __attribute__((format(printf, 4, 5)))
err_at(struct mxc *m, const cJSON *item, bool at_key, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	policy_parser_error(m->ps, item, at_key, msg);
}

#define merr(m, item, ...) err_at(m, item, false, __VA_ARGS__)

/* A note at @item's key (or, with !@at_key, its value). */
static void __attribute__((format(printf, 4, 5)))
note_at(struct mxc *m, const cJSON *item, bool at_key, const char *fmt, ...)
{
	struct sbuf sb = {0};
	char msg[1024];
	int line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	policy_parser_pos(m->ps, item, at_key, &line, &col);
	sb_printf(&sb, "%s:%d:%d: %s", policy_parser_file(m->ps), line, col, msg);
	sb_putc(&sb, '\0');
	if (m->nnotes == m->cap_notes) {
		m->cap_notes = m->cap_notes ? 2 * m->cap_notes : 8;
		m->notes = xrealloc(m->notes, m->cap_notes * sizeof(*m->notes));
	}
	m->notes[m->nnotes++] = sb.buf;
}

#define note(m, item, ...) note_at(m, item, true, __VA_ARGS__)

static const cJSON *get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static const char *tname(const cJSON *v)
{
	return policy_parser_type_name(v);
}

static bool want_object(struct mxc *m, const cJSON *v, const char *where)
{
	if (cJSON_IsObject(v))
		return true;
	merr(m, v, "%s must be an object, not %s", where, tname(v));
	return false;
}

static bool want_integer(struct mxc *m, const cJSON *v, const char *where, double min,
			 double max)
{
	if (!cJSON_IsNumber(v)) {
		merr(m, v, "%s must be an integer, not %s", where, tname(v));
		return false;
	}
	if (v->valuedouble < min || v->valuedouble > max) {
		merr(m, v, "%s is %.17g; it must be from %.0f to %.0f", where, v->valuedouble, min,
		     max);
		return false;
	}
	if ((double)(long long)v->valuedouble != v->valuedouble) {
		merr(m, v, "%s must be an integer, not %.17g", where, v->valuedouble);
		return false;
	}
	return true;
}

/* A member that must be one of @choices (NULL-terminated): its index, or -1. */
static int want_enum(struct mxc *m, const cJSON *v, const char *where, const char *const *choices)
{
	struct sbuf list = {0};
	int i;

	if (!cJSON_IsString(v)) {
		merr(m, v, "%s must be a string, not %s", where, tname(v));
		return -1;
	}
	for (i = 0; choices[i]; i++)
		if (!strcmp(v->valuestring, choices[i]))
			return i;
	for (i = 0; choices[i]; i++)
		sb_printf(&list, "%s%s", i ? ", " : "", choices[i]);
	sb_putc(&list, '\0');
	merr(m, v, "%s: \"%s\" is not one of %s", where, v->valuestring, list.buf);
	sb_free(&list);
	return -1;
}

/* ---- sections Warden does not enforce ------------------------------------ */

enum ftype { F_STRING, F_NONEMPTY, F_BOOL, F_STRINGS, F_UINT32, F_CLIPBOARD };

struct field {
	const char *key;
	enum ftype type;
	const char *why;	/* the note after "SECTION.KEY ", or NULL for the usual one */
};

static const char *const clipboard_levels[] = { "none", "read", "write", "all", NULL };

static bool check_field(struct mxc *m, const cJSON *v, const char *where, enum ftype type)
{
	switch (type) {
	case F_STRING:
	case F_NONEMPTY:
		if (!cJSON_IsString(v)) {
			merr(m, v, "%s must be a string, not %s", where, tname(v));
			return false;
		}
		if (type == F_NONEMPTY && !v->valuestring[0]) {
			merr(m, v, "%s is empty", where);
			return false;
		}
		return true;
	case F_BOOL:
		if (!cJSON_IsBool(v)) {
			merr(m, v, "%s must be true or false, not %s", where, tname(v));
			return false;
		}
		return true;
	case F_STRINGS:
		if (!cJSON_IsArray(v)) {
			merr(m, v, "%s must be an array of strings, not %s", where, tname(v));
			return false;
		}
		for (const cJSON *it = v->child; it; it = it->next) {
			if (!cJSON_IsString(it)) {
				merr(m, it, "%s: an entry must be a string, not %s", where, tname(it));
				return false;
			}
		}
		return true;
	case F_UINT32:
		return want_integer(m, v, where, 0, 4294967295.0);
	case F_CLIPBOARD:
		return want_enum(m, v, where, clipboard_levels) >= 0;
	}
	return false;
}

/*
 * Validate section @name against @fields (NULL-key terminated): unknown keys
 * and bad values are errors, and each field present gives a note.
 */
static void ignored_section(struct mxc *m, const cJSON *sec, const char *name,
			    const struct field *fields)
{
	const char *keys[16];
	size_t n = 0;

	if (!want_object(m, sec, name))
		return;
	for (const struct field *f = fields; f->key && n < 15; f++)
		keys[n++] = f->key;
	keys[n] = NULL;
	policy_parser_check_keys(m->ps, sec, name, keys);
	for (const struct field *f = fields; f->key; f++) {
		const cJSON *v = get(sec, f->key);
		char where[128];

		if (!v)
			continue;
		snprintf(where, sizeof(where), "%s.%s", name, f->key);
		if (!check_field(m, v, where, f->type))
			continue;
		note(m, v, "%s %s", where, f->why ? f->why : "is not enforced by Warden (ignored)");
	}
}

static const struct field process_fields[] = {
	{ "commandLine", F_NONEMPTY,
	  "is not used by Warden, which confines the command it is given (ignored)" },
	{ "cwd", F_STRING,
	  "is not applied by Warden: the agent starts in warden's working directory (ignored)" },
	{ "env", F_STRINGS,
	  "is not applied by Warden: the agent inherits warden's environment (ignored)" },
	{ "inheritDefaultEnv", F_BOOL,
	  "is not applied by Warden: the agent inherits warden's environment (ignored)" },
	{ "timeout", F_UINT32, NULL },
	{ NULL, 0, NULL },
};

static const struct field ui_fields[] = {
	{ "disable", F_BOOL, NULL },
	{ "clipboard", F_CLIPBOARD, NULL },
	{ "injection", F_BOOL, NULL },
	{ NULL, 0, NULL },
};

static const struct field lifecycle_fields[] = {
	{ "destroyOnExit", F_BOOL, "does not apply to Warden, which runs no container (ignored)" },
	{ "preservePolicy", F_BOOL, "does not apply to Warden, which runs no container (ignored)" },
	{ NULL, 0, NULL },
};

static const struct field fallback_fields[] = {
	{ "allowDaclMutation", F_BOOL, "does not apply to Warden (ignored)" },
	{ NULL, 0, NULL },
};

static const struct field runtime_fields[] = {
	{ "networkProxy", F_STRING,
	  "is not enforced by Warden: traffic is not forced through the proxy (ignored)" },
	{ NULL, 0, NULL },
};

static const struct field telemetry_fields[] = {
	{ "enabled", F_BOOL, "does not apply to Warden, which sends no telemetry (ignored)" },
	{ NULL, 0, NULL },
};

/* ---- filesystem ------------------------------------------------------------ */

static struct file_rule *new_rule(struct mxc *m, const cJSON *at)
{
	struct policy *p = m->p;
	struct file_rule *r;

	if (p->nrules >= POLICY_RULES_MAX) {
		if (!m->too_many_rules)
			merr(m, at, "filesystem lists more than %d paths; the limit is %d",
			     POLICY_RULES_MAX - 1, POLICY_RULES_MAX - 1);
		m->too_many_rules = true;
		return NULL;
	}
	if (p->nrules == m->cap_rules) {
		m->cap_rules = m->cap_rules ? 2 * m->cap_rules : 16;
		p->rules = xrealloc(p->rules, m->cap_rules * sizeof(*p->rules));
	}
	r = &p->rules[p->nrules++];
	memset(r, 0, sizeof(*r));
	policy_parser_pos(m->ps, at, false, &r->line, &r->col);
	return r;
}

static void add_paths(struct mxc *m, const cJSON *arr, const char *key, uint8_t allow,
		      uint8_t deny)
{
	size_t i = 0;

	if (!cJSON_IsArray(arr)) {
		merr(m, arr, "filesystem.%s must be an array of paths, not %s", key, tname(arr));
		return;
	}
	for (const cJSON *it = arr->child; it; it = it->next, i++) {
		struct file_rule *r;
		struct stat st;
		bool subtree;
		char *path;

		if (!cJSON_IsString(it)) {
			merr(m, it, "filesystem.%s[%zu] must be a string, not %s", key, i, tname(it));
			continue;
		}
		if (!it->valuestring[0]) {
			merr(m, it, "filesystem.%s[%zu] is empty", key, i);
			continue;
		}
		if (it->valuestring[0] != '/') {
			merr(m, it, "path \"%s\" is not absolute (start it with /)", it->valuestring);
			continue;
		}
		path = xstrdup(it->valuestring);
		if (!policy_parser_check_path(m->ps, it, path, &subtree)) {
			free(path);
			continue;
		}
		/* A file that exists now: exactly it; a directory or nothing yet: a subtree. */
		if (!subtree)
			subtree = stat(path, &st) || S_ISDIR(st.st_mode);
		r = new_rule(m, it);
		if (!r) {
			free(path);
			return;
		}
		r->path = path;
		r->subtree = subtree;
		r->allow = allow;
		r->deny = deny;
	}
}

static void parse_filesystem(struct mxc *m, const cJSON *fs)
{
	static const char *const keys[] = { "readwritePaths", "readonlyPaths", "deniedPaths",
					    NULL };

	if (!want_object(m, fs, "filesystem"))
		return;
	policy_parser_check_keys(m->ps, fs, "filesystem", keys);
	/* In file order, so that rules[i] follow the text. */
	for (const cJSON *it = fs->child; it; it = it->next) {
		if (!strcmp(it->string, "readwritePaths"))
			add_paths(m, it, it->string, R_READ | R_WRITE | R_CREATE | R_DELETE, 0);
		else if (!strcmp(it->string, "readonlyPaths"))
			add_paths(m, it, it->string, R_READ | R_EXEC, R_WRITE | R_CREATE | R_DELETE);
		else if (!strcmp(it->string, "deniedPaths"))
			add_paths(m, it, it->string, 0, RIGHTS_ALL);
	}
}

/* ---- network ---------------------------------------------------------------- */

static const char *const actions[] = { "allow", "deny", NULL };
enum { ACT_ALLOW, ACT_DENY };

/* "A.B.C.D[/N]" or "X:...[/N]". */
static bool valid_cidr(const char *s)
{
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned char addr[16];
	char buf[INET6_ADDRSTRLEN + 1];
	bool v6;
	long len;

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	v6 = strchr(buf, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, addr) != 1)
		return false;
	return !slash || (slash[1] >= '0' && slash[1] <= '9' &&
			  !parse_long(slash + 1, 0, v6 ? 128 : 32, &len));
}

static void check_cidr(struct mxc *m, const cJSON *v, const char *where)
{
	if (!cJSON_IsString(v))
		merr(m, v, "%s must be a string, not %s", where, tname(v));
	else if (!valid_cidr(v->valuestring))
		merr(m, v, "%s: \"%s\" is not an IPv4 or IPv6 CIDR (like 192.0.2.0/24 or 2001:db8::/32)",
		     where, v->valuestring);
}

static void parse_peer(struct mxc *m, const cJSON *peer, const char *where)
{
	static const char *const keys[] = { "cidr", "except", NULL };
	const cJSON *cidr, *except;
	char w[192];
	size_t i = 0;

	if (!want_object(m, peer, where))
		return;
	policy_parser_check_keys(m->ps, peer, where, keys);
	cidr = get(peer, "cidr");
	except = get(peer, "except");
	snprintf(w, sizeof(w), "%s.cidr", where);
	if (!cidr)
		merr(m, peer, "%s has no \"cidr\"", where);
	else
		check_cidr(m, cidr, w);
	if (!except)
		return;
	snprintf(w, sizeof(w), "%s.except", where);
	if (!cJSON_IsArray(except)) {
		merr(m, except, "%s must be an array of CIDRs, not %s", w, tname(except));
		return;
	}
	for (const cJSON *it = except->child; it; it = it->next, i++) {
		char e[224];

		snprintf(e, sizeof(e), "%s[%zu]", w, i);
		check_cidr(m, it, e);
	}
	note(m, except, "%s is not supported by Warden, whose rules cannot exclude addresses (not enforced)",
	     w);
}

static void parse_port(struct mxc *m, const cJSON *sel, const char *where)
{
	static const char *const keys[] = { "protocol", "port", "endPort", NULL };
	static const char *const protocols[] = { "tcp", "udp", "icmp", "any", NULL };
	const cJSON *proto, *port, *end;
	char w[192];
	int pr = -1;
	bool port_ok = false, end_ok = false;

	if (!want_object(m, sel, where))
		return;
	policy_parser_check_keys(m->ps, sel, where, keys);
	proto = get(sel, "protocol");
	port = get(sel, "port");
	end = get(sel, "endPort");
	if (proto) {
		snprintf(w, sizeof(w), "%s.protocol", where);
		pr = want_enum(m, proto, w, protocols);
	}
	if (port) {
		snprintf(w, sizeof(w), "%s.port", where);
		port_ok = want_integer(m, port, w, 1, 65535);
	}
	if (end) {
		snprintf(w, sizeof(w), "%s.endPort", where);
		end_ok = want_integer(m, end, w, 1, 65535);
		if (!port)
			merr(m, end, "%s needs \"port\": it ends the range that \"port\" starts", w);
		else if (end_ok && port_ok && end->valuedouble < port->valuedouble)
			merr(m, end, "%s %.0f is below port %.0f", w, end->valuedouble,
			     port->valuedouble);
	}
	if (pr == 2) {
		if (port || end)
			merr(m, port ? port : end, "%s: an ICMP selector takes no port", where);
		note(m, proto, "%s.protocol \"icmp\" is not supported by Warden, which has no ICMP rules (not enforced)",
		     where);
	}
}

/* An egress rule: {"to": [peer...], "ports": [selector...]}. */
static void parse_net_rule(struct mxc *m, const cJSON *rule, const char *where)
{
	static const char *const keys[] = { "to", "ports", NULL };
	const cJSON *to, *ports;
	char w[160];
	size_t i;

	if (!want_object(m, rule, where))
		return;
	policy_parser_check_keys(m->ps, rule, where, keys);
	to = get(rule, "to");
	ports = get(rule, "ports");
	if (to) {
		if (!cJSON_IsArray(to))
			merr(m, to, "%s.to must be an array, not %s", where, tname(to));
		else if (!to->child)
			merr(m, to, "%s.to is empty: leave it out to match every address", where);
		i = 0;
		for (const cJSON *it = cJSON_IsArray(to) ? to->child : NULL; it; it = it->next, i++) {
			snprintf(w, sizeof(w), "%s.to[%zu]", where, i);
			parse_peer(m, it, w);
		}
	}
	if (ports) {
		if (!cJSON_IsArray(ports))
			merr(m, ports, "%s.ports must be an array, not %s", where, tname(ports));
		else if (!ports->child)
			merr(m, ports, "%s.ports is empty: leave it out to match every port", where);
		i = 0;
		for (const cJSON *it = cJSON_IsArray(ports) ? ports->child : NULL; it;
		     it = it->next, i++) {
			snprintf(w, sizeof(w), "%s.ports[%zu]", where, i);
			parse_port(m, it, w);
		}
	}
}

/* Returns the number of rules in network.egress.@key. */
static size_t parse_net_rules(struct mxc *m, const cJSON *arr, const char *key)
{
	char where[64];
	size_t i = 0;

	if (!cJSON_IsArray(arr)) {
		merr(m, arr, "network.egress.%s must be an array of rules, not %s", key, tname(arr));
		return 0;
	}
	for (const cJSON *it = arr->child; it; it = it->next, i++) {
		snprintf(where, sizeof(where), "network.egress.%s[%zu]", key, i);
		parse_net_rule(m, it, where);
	}
	return i;
}

/* Sets has_network unless the policy asks for no network restriction at all. */
static void parse_network(struct mxc *m, const cJSON *net)
{
	static const char *const net_keys[] = { "egress", "ingress", NULL };
	static const char *const egress_keys[] = { "default", "allow", "deny", NULL };
	static const char *const ingress_keys[] = { "default", "hostLoopback", NULL };
	const cJSON *egress = NULL, *ingress = NULL, *v;
	int egress_default = ACT_DENY, ingress_default = ACT_DENY, loopback = ACT_DENY;
	size_t ndeny = 0;
	struct sbuf why = {0};
	int act = -1;

	/* What policy explain --connect reports with no rule: MXC's egress default. */
	m->p->net_default = WD_ACT_DENY;
	if (net && !want_object(m, net, "network")) {
		m->p->has_network = true;
		return;
	}
	if (net) {
		policy_parser_check_keys(m->ps, net, "network", net_keys);
		egress = get(net, "egress");
		ingress = get(net, "ingress");
	}
	if (egress && want_object(m, egress, "network.egress")) {
		policy_parser_check_keys(m->ps, egress, "network.egress", egress_keys);
		v = get(egress, "default");
		if (v && want_enum(m, v, "network.egress.default", actions) == ACT_ALLOW) {
			egress_default = ACT_ALLOW;
			m->p->net_default = WD_ACT_ALLOW;
		}
		if ((v = get(egress, "allow")))
			parse_net_rules(m, v, "allow");
		if ((v = get(egress, "deny")))
			ndeny = parse_net_rules(m, v, "deny");
	}
	if (ingress && want_object(m, ingress, "network.ingress")) {
		policy_parser_check_keys(m->ps, ingress, "network.ingress", ingress_keys);
		v = get(ingress, "default");
		if (v && (act = want_enum(m, v, "network.ingress.default", actions)) == ACT_ALLOW)
			ingress_default = ACT_ALLOW;
		else if (v && act == ACT_DENY)
			note(m, v, "network.ingress.default \"deny\" is not enforced by Warden, which has no rules for inbound traffic");
		v = get(ingress, "hostLoopback");
		if (v && (act = want_enum(m, v, "network.ingress.hostLoopback", actions)) == ACT_ALLOW)
			loopback = ACT_ALLOW;
		else if (v && act == ACT_DENY)
			note(m, v, "network.ingress.hostLoopback \"deny\" is not enforced by Warden, which has no rules for host loopback traffic");
	}

	/* What the policy restricts, defaults included. */
	if (egress_default == ACT_DENY)
		sb_printf(&why, "outbound traffic is denied by default (network.egress.default %s)",
			  egress && get(egress, "default") ? "is \"deny\"" : "is \"deny\" when absent");
	else if (ndeny)
		sb_printf(&why, "network.egress.deny has %zu rule%s", ndeny, ndeny == 1 ? "" : "s");
	if (ingress_default == ACT_DENY)
		sb_printf(&why, "%sinbound traffic is denied (network.ingress.default %s)",
			  why.len ? "; " : "",
			  ingress && get(ingress, "default") ? "is \"deny\"" : "is \"deny\" when absent");
	if (loopback == ACT_DENY)
		sb_printf(&why, "%shost loopback traffic is denied (network.ingress.hostLoopback %s)",
			  why.len ? "; " : "",
			  ingress && get(ingress, "hostLoopback") ? "is \"deny\""
								 : "is \"deny\" when absent");
	if (why.len) {
		sb_putc(&why, '\0');
		m->p->has_network = true;
		/* At the "network" key, or at the policy's "{" if there is none. */
		note_at(m, net ? net : m->root, net != NULL,
			"network: %s; Warden does not translate MXC network rules yet, so warden run refuses this policy (set network.egress.default, network.ingress.default and network.ingress.hostLoopback to \"allow\" to run without network restrictions, or write the rules as a version 1 \"network\" section)",
			why.buf);
		m->p->unenforceable = xstrdup("its MXC network rules are not translated by this build");
	}
	sb_free(&why);
}

/* ---- the policy ------------------------------------------------------------- */

/* The file's base name without extension, sanitised to a valid policy name. */
static char *name_from_file(const char *file)
{
	const char *base = strrchr(file, '/'), *dot;
	size_t n;
	char *name;

	base = base ? base + 1 : file;
	dot = strrchr(base, '.');
	n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	if (n > POLICY_NAME_MAX)
		n = POLICY_NAME_MAX;
	if (!n)
		return xstrdup("mxc");
	name = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		char c = base[i];

		name[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
				  c == '.' || c == '_' || c == '-' ? c : '_';
	}
	name[n] = '\0';
	return name;
}

static const char *const top_keys[] = {
	"version", "containment", "process", "filesystem", "network", "ui", "lifecycle",
	"fallback", "runtimeConfig", "telemetry", "containerId", "$schema", "_comment",
	/* backend-named sections */
	"processContainer", "processcontainer", "lxc", "bubblewrap", "seatbelt",
	"isolationSession", "isolation_session", "wslc",
	NULL
};

/* Settings of one backend each: the schema's spelling, and the containment value's. */
static const char *const backend_sections[] = {
	"processContainer", "processcontainer", "lxc", "bubblewrap", "seatbelt",
	"isolationSession", "isolation_session", "wslc", NULL
};

static const char *const backends[] = { "process", "processcontainer", "lxc", "bubblewrap",
					"seatbelt", "isolation_session", "wslc", NULL };

void mxc_parse_top(struct parser *ps, const cJSON *root, struct policy *p)
{
	struct mxc m = { .ps = ps, .p = p, .root = root };
	struct file_rule *base;
	const cJSON *v;

	policy_parser_check_keys(ps, root, "the MXC policy", top_keys);

	p->name = name_from_file(p->file ? p->file : "");
	p->identity = NULL;
	p->mode = WD_MODE_ENFORCE;
	p->file_default = WD_ACT_DENY;
	p->fileless_exec = false;

	/* rules[0]: the backends' baseline, the whole system readable and executable. */
	base = new_rule(&m, root);
	base->path = xstrdup("/");
	base->subtree = true;
	base->allow = R_READ | R_EXEC;

	v = get(root, "containment");
	if (v && want_enum(&m, v, "containment", backends) >= 0)
		note(&m, v, "containment \"%s\" chooses an MXC backend; Warden confines the agent with its own BPF LSM instead (informational)",
		     v->valuestring);
	if ((v = get(root, "process")))
		ignored_section(&m, v, "process", process_fields);
	if ((v = get(root, "filesystem")))
		parse_filesystem(&m, v);
	parse_network(&m, get(root, "network"));
	if ((v = get(root, "ui")))
		ignored_section(&m, v, "ui", ui_fields);
	if ((v = get(root, "lifecycle")))
		ignored_section(&m, v, "lifecycle", lifecycle_fields);
	if ((v = get(root, "fallback")))
		ignored_section(&m, v, "fallback", fallback_fields);
	if ((v = get(root, "runtimeConfig")))
		ignored_section(&m, v, "runtimeConfig", runtime_fields);
	if ((v = get(root, "telemetry")))
		ignored_section(&m, v, "telemetry", telemetry_fields);
	if ((v = get(root, "containerId"))) {
		if (!cJSON_IsString(v))
			merr(&m, v, "containerId must be a string, not %s", tname(v));
		else
			note(&m, v, "containerId does not apply to Warden, which runs no container (ignored)");
	}
	if ((v = get(root, "$schema")) && !cJSON_IsString(v))
		merr(&m, v, "$schema must be a string, not %s", tname(v));
	/* Backend-named sections: settings of one MXC backend, in file order. */
	for (const cJSON *it = root->child; it; it = it->next) {
		const char *const *k;

		for (k = backend_sections; *k; k++)
			if (!strcmp(*k, it->string))
				break;
		if (!*k)
			continue;
		if (want_object(&m, it, it->string))
			note(&m, it, "%s: settings of the MXC %s backend do not apply to Warden (ignored)",
			     it->string, it->string);
	}

	p->notes = m.notes;
	p->nnotes = m.nnotes;
}
