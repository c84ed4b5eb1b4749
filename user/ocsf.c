// SPDX-License-Identifier: GPL-2.0
/*
 * OCSF 1.1 shapes of the contract's events (user/ocsf.h). The mapping works
 * on the JSON line, not on the kernel record, so every producer of contract
 * lines (run, attach, daemon, lost and policy events) gets it for free.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "ocsf.h"

#ifndef WARDEN_VERSION
#define WARDEN_VERSION "unknown"
#endif

/* OCSF enumerations used here (schema 1.1.0). */
enum {
	CAT_BASE = 0, CAT_SYSTEM = 1, CAT_NETWORK = 4,
	CLASS_BASE = 0, CLASS_FILE = 1001, CLASS_PROCESS = 1007, CLASS_NETWORK = 4001,
	CLASS_DNS = 4003,
	ACT_OTHER = 99,
	SEV_INFO = 1, SEV_LOW = 2, SEV_MEDIUM = 3, SEV_HIGH = 4,
	DISP_ALLOWED = 1, DISP_BLOCKED = 2, DISP_DETECTED = 15,
	ACTION_ALLOWED = 1, ACTION_DENIED = 2,
	STATUS_SUCCESS = 1, STATUS_FAILURE = 2,
};

struct activity {
	const char *action;	/* the contract's "action" */
	int id;
	const char *name;
};

static const struct activity file_acts[] = {
	{ "create", 1, "Create" }, { "read", 2, "Read" }, { "write", 3, "Update" },
	{ "delete", 4, "Delete" }, {},
};
static const struct activity process_acts[] = {
	{ "exec", 1, "Launch" }, { "start", 1, "Launch" }, { "exit", 2, "Terminate" }, {},
};
static const struct activity dns_acts[] = {
	{ "resolve", 1, "Query" }, {},
};
static const struct activity network_acts[] = {
	{ "connect", 1, "Open" }, { "send", 6, "Traffic" }, { "bind", 7, "Listen" }, {},
};

/* Keys of the contract that have an OCSF place; the others go to "unmapped". */
static const char *const mapped_keys[] = {
	"time", "agent", "identity", "instance", "pid", "tid", "ppid", "uid", "gid", "comm",
	"exe", "path", "protocol", "address", "port", "name", "qtype", NULL,
};

long long ocsf_parse_time(const char *s)
{
	struct tm tm = {0};
	long long frac = 0;
	int digits = 0;
	const char *p;
	time_t sec;

	if (!s)
		return -1;
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -1;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 9)
				frac = frac * 10 + (*p - '0');
		for (; digits < 9; digits++)
			frac *= 10;
	}
	if (strcmp(p, "Z"))
		return -1;
	sec = timegm(&tm);
	return (long long)sec * 1000000000LL + frac;
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Copy @key of @from into @to as @as, if present. */
static void copy(cJSON *to, const char *as, const cJSON *from, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, key);

	if (v && !cJSON_IsNull(v))
		cJSON_AddItemToObject(to, as, cJSON_Duplicate(v, true));
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

/* An OCSF file object for @path. */
static cJSON *file_obj(const char *path)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "path", path);
	cJSON_AddStringToObject(f, "name", basename_of(path));
	return f;
}

/* actor: the process that acted, its user, and the agent it belongs to. */
static void add_actor(cJSON *ev, const cJSON *in)
{
	cJSON *actor = cJSON_AddObjectToObject(ev, "actor");
	cJSON *proc = cJSON_AddObjectToObject(actor, "process");
	const cJSON *uid = cJSON_GetObjectItemCaseSensitive(in, "uid");
	const char *exe = str_of(in, "exe");
	char buf[32];

	copy(proc, "pid", in, "pid");
	copy(proc, "tid", in, "tid");
	copy(proc, "name", in, "comm");
	if (exe && *exe)
		cJSON_AddItemToObject(proc, "file", file_obj(exe));
	if (cJSON_GetObjectItemCaseSensitive(in, "ppid"))
		copy(cJSON_AddObjectToObject(proc, "parent_process"), "pid", in, "ppid");
	if (cJSON_IsNumber(uid)) {
		/* OCSF user.uid is a string; the kernel's is a number. */
		snprintf(buf, sizeof(buf), "%.0f", uid->valuedouble);
		cJSON_AddStringToObject(cJSON_AddObjectToObject(proc, "user"), "uid", buf);
		cJSON_AddStringToObject(cJSON_AddObjectToObject(actor, "user"), "uid", buf);
	}
	copy(actor, "app_name", in, "agent");
	copy(actor, "app_uid", in, "identity");
}

static void add_metadata(cJSON *ev, const cJSON *in)
{
	cJSON *md = cJSON_AddObjectToObject(ev, "metadata");
	cJSON *prod = cJSON_AddObjectToObject(md, "product");

	cJSON_AddStringToObject(md, "version", OCSF_VERSION);
	cJSON_AddStringToObject(prod, "name", "Warden");
	cJSON_AddStringToObject(prod, "vendor_name", "Warden");
	cJSON_AddStringToObject(prod, "version", WARDEN_VERSION);
	copy(md, "correlation_uid", in, "instance");
	copy(md, "original_time", in, "time");
	cJSON_AddStringToObject(md, "log_name", "warden");
}

/* disposition, action, status and severity follow the decision. */
static void add_decision(cJSON *ev, const char *decision, int deny_severity)
{
	int disp = DISP_ALLOWED, sev = SEV_INFO, action = ACTION_ALLOWED, status = STATUS_SUCCESS;

	if (decision && !strcmp(decision, "deny")) {
		disp = DISP_BLOCKED;
		sev = deny_severity;
		action = ACTION_DENIED;
		status = STATUS_FAILURE;
	} else if (decision && !strcmp(decision, "audit")) {
		/* Allowed, but a denial under enforcement: flagged, not blocked. */
		disp = DISP_DETECTED;
		sev = SEV_LOW;
	}
	cJSON_AddNumberToObject(ev, "disposition_id", disp);
	cJSON_AddStringToObject(ev, "disposition", disp == DISP_BLOCKED ? "Blocked" :
						      disp == DISP_DETECTED ? "Detected" : "Allowed");
	cJSON_AddNumberToObject(ev, "action_id", action);
	cJSON_AddStringToObject(ev, "action", action == ACTION_DENIED ? "Denied" : "Allowed");
	cJSON_AddNumberToObject(ev, "status_id", status);
	cJSON_AddStringToObject(ev, "status", status == STATUS_FAILURE ? "Failure" : "Success");
	cJSON_AddNumberToObject(ev, "severity_id", sev);
	cJSON_AddStringToObject(ev, "severity", sev == SEV_HIGH ? "High" : sev == SEV_MEDIUM ?
						  "Medium" : sev == SEV_LOW ? "Low" : "Informational");
}

/* The event's class, category and activity; an unknown action is "Other" (99). */
static void add_class(cJSON *ev, int cat, int cls, const struct activity *acts,
		      const char *action)
{
	static const char *const cat_names[] = {
		[CAT_BASE] = "Other", [CAT_SYSTEM] = "System Activity",
		[CAT_NETWORK] = "Network Activity",
	};
	const char *cls_name = cls == CLASS_FILE ? "File System Activity" :
			       cls == CLASS_PROCESS ? "Process Activity" :
			       cls == CLASS_NETWORK ? "Network Activity" :
			       cls == CLASS_DNS ? "DNS Activity" : "Base Event";
	int id = ACT_OTHER;
	const char *name = action ? action : "Other";

	for (; acts && acts->action; acts++) {
		if (action && !strcmp(action, acts->action)) {
			id = acts->id;
			name = acts->name;
			break;
		}
	}
	cJSON_AddNumberToObject(ev, "category_uid", cat);
	cJSON_AddStringToObject(ev, "category_name", cat_names[cat]);
	cJSON_AddNumberToObject(ev, "class_uid", cls);
	cJSON_AddStringToObject(ev, "class_name", cls_name);
	cJSON_AddNumberToObject(ev, "activity_id", id);
	cJSON_AddStringToObject(ev, "activity_name", name);
	cJSON_AddNumberToObject(ev, "type_uid", cls * 100 + id);
}

static void add_network(cJSON *ev, const cJSON *in, const char *action)
{
	const char *proto = str_of(in, "protocol");
	bool bind = action && !strcmp(action, "bind");
	cJSON *ep = cJSON_AddObjectToObject(ev, bind ? "src_endpoint" : "dst_endpoint");
	cJSON *ci = cJSON_AddObjectToObject(ev, "connection_info");

	copy(ep, "ip", in, "address");
	copy(ep, "port", in, "port");
	if (proto) {
		cJSON_AddStringToObject(ci, "protocol_name", proto);
		if (!strcmp(proto, "tcp") || !strcmp(proto, "udp"))
			cJSON_AddNumberToObject(ci, "protocol_num", !strcmp(proto, "tcp") ? 6 : 17);
	}
	/* 1 inbound, 2 outbound: a bind waits for peers, a connect reaches out. */
	cJSON_AddNumberToObject(ci, "direction_id", bind ? 1 : 2);
	cJSON_AddStringToObject(ci, "direction", bind ? "Inbound" : "Outbound");
}

/* A DNS question the agent asked warden's resolver: query.hostname and type. */
static void add_query(cJSON *ev, const cJSON *in)
{
	static const struct { unsigned int code; const char *name; } types[] = {
		{ 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" }, { 12, "PTR" },
		{ 15, "MX" }, { 16, "TXT" }, { 28, "AAAA" }, { 33, "SRV" }, { 64, "SVCB" },
		{ 65, "HTTPS" }, {},
	};
	const cJSON *qt = cJSON_GetObjectItemCaseSensitive(in, "qtype");
	cJSON *q = cJSON_AddObjectToObject(ev, "query");
	char buf[24];

	copy(q, "hostname", in, "name");
	if (!cJSON_IsNumber(qt))
		return;
	snprintf(buf, sizeof(buf), "TYPE%d", qt->valueint);
	for (int i = 0; types[i].name; i++)
		if ((unsigned int)qt->valueint == types[i].code)
			snprintf(buf, sizeof(buf), "%s", types[i].name);
	cJSON_AddStringToObject(q, "type", buf);
	cJSON_AddStringToObject(q, "class", "IN");
}

/* Class-specific objects; returns the severity a denial of this kind has. */
static int add_specific(cJSON *ev, const cJSON *in, const char *event, const char *action)
{
	const char *path = str_of(in, "path");

	if (!strcmp(event, "file")) {
		add_class(ev, CAT_SYSTEM, CLASS_FILE, file_acts, action);
		if (path)
			cJSON_AddItemToObject(ev, "file", file_obj(path));
		return SEV_MEDIUM;
	}
	if (!strcmp(event, "exec") || !strcmp(event, "process")) {
		cJSON *proc;

		add_class(ev, CAT_SYSTEM, CLASS_PROCESS, process_acts, action);
		proc = cJSON_AddObjectToObject(ev, "process");
		copy(proc, "pid", in, "pid");
		if (path)
			cJSON_AddItemToObject(proc, "file", file_obj(path));
		copy(ev, "exit_code", in, "status");
		return SEV_MEDIUM;
	}
	if (!strcmp(event, "network") && action && !strcmp(action, "resolve")) {
		add_class(ev, CAT_NETWORK, CLASS_DNS, dns_acts, action);
		add_query(ev, in);
		return SEV_MEDIUM;
	}
	if (!strcmp(event, "network")) {
		add_class(ev, CAT_NETWORK, CLASS_NETWORK, network_acts, action);
		add_network(ev, in, action);
		return SEV_MEDIUM;
	}
	add_class(ev, CAT_BASE, CLASS_BASE, NULL, action);
	if (!strcmp(event, "lost") || !strcmp(event, "tamper"))
		return SEV_HIGH;
	return SEV_MEDIUM;
}

/* "N events lost (reason)" and the like: a human summary in "message". */
static void add_message(cJSON *ev, const cJSON *in, const char *event, const char *action)
{
	const cJSON *count = cJSON_GetObjectItemCaseSensitive(in, "count");
	const char *decision = str_of(in, "decision");
	const char *what = str_of(in, "path") ? str_of(in, "path") : str_of(in, "address");
	char buf[512];

	if (!strcmp(event, "lost"))
		snprintf(buf, sizeof(buf), "%.0f events lost (%s)",
			 cJSON_IsNumber(count) ? count->valuedouble : 0.0,
			 str_of(in, "reason") ? str_of(in, "reason") : "unknown");
	else
		snprintf(buf, sizeof(buf), "%s %s%s%s: %s", event, action ? action : "-",
			 what ? " " : "", what ? what : "", decision ? decision : "-");
	cJSON_AddStringToObject(ev, "message", buf);
}

static void add_unmapped(cJSON *ev, const cJSON *in)
{
	cJSON *um = cJSON_AddObjectToObject(ev, "unmapped");
	const cJSON *v;

	cJSON_ArrayForEach(v, in) {
		bool mapped = false;

		for (int i = 0; mapped_keys[i]; i++)
			mapped = mapped || !strcmp(v->string, mapped_keys[i]);
		if (!mapped)
			cJSON_AddItemToObject(um, v->string, cJSON_Duplicate(v, true));
	}
}

static cJSON *ocsf_of(const cJSON *in)
{
	const char *event = str_of(in, "event") ? str_of(in, "event") : "unknown";
	const char *action = str_of(in, "action");
	long long ns = ocsf_parse_time(str_of(in, "time"));
	cJSON *ev = cJSON_CreateObject();
	int deny_sev;

	deny_sev = add_specific(ev, in, event, action);
	if (!strcmp(event, "lost")) {
		cJSON_AddNumberToObject(ev, "severity_id", SEV_HIGH);
		cJSON_AddStringToObject(ev, "severity", "High");
	} else {
		add_decision(ev, str_of(in, "decision"), deny_sev);
	}
	add_message(ev, in, event, action);
	cJSON_AddNumberToObject(ev, "time", ns < 0 ? 0 : (double)(ns / 1000000));
	add_actor(ev, in);
	add_metadata(ev, in);
	add_unmapped(ev, in);
	return ev;
}

static void put_printed(struct sbuf *out, cJSON *ev)
{
	char *s = cJSON_PrintUnformatted(ev);

	if (!s) {
		pr_warn("out of memory\n");
		abort();
	}
	sb_puts(out, s);
	sb_putc(out, '\n');
	free(s);
}

/* Not a JSON object: keep its text, in an event any OCSF consumer accepts. */
static void put_raw(struct sbuf *out, const char *line, size_t len)
{
	cJSON *ev = cJSON_CreateObject(), *md;
	char *raw = xmalloc(len + 1);

	memcpy(raw, line, len);
	raw[len] = '\0';
	add_class(ev, CAT_BASE, CLASS_BASE, NULL, NULL);
	cJSON_AddNumberToObject(ev, "severity_id", SEV_MEDIUM);
	cJSON_AddStringToObject(ev, "severity", "Medium");
	cJSON_AddNumberToObject(ev, "time", (double)(time(NULL) * 1000LL));
	cJSON_AddStringToObject(ev, "message", "warden could not parse this event");
	cJSON_AddStringToObject(ev, "raw_data", raw);
	md = cJSON_AddObjectToObject(ev, "metadata");
	cJSON_AddStringToObject(md, "version", OCSF_VERSION);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(md, "product"), "name", "Warden");
	put_printed(out, ev);
	cJSON_Delete(ev);
	free(raw);
}

int ocsf_line(struct sbuf *out, const char *line, size_t len)
{
	cJSON *in, *ev;

	if (len && line[len - 1] == '\n')
		len--;
	in = cJSON_ParseWithLength(line, len);
	if (!cJSON_IsObject(in)) {
		cJSON_Delete(in);
		put_raw(out, line, len);
		return -EINVAL;
	}
	ev = ocsf_of(in);
	put_printed(out, ev);
	cJSON_Delete(ev);
	cJSON_Delete(in);
	return 0;
}
