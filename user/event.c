// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <string.h>
#include <time.h>

#include "caps.h"
#include "event.h"
#include "policy.h"

int64_t boot_to_realtime_offset(void)
{
	struct timespec rt, bt;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	return (rt.tv_sec - bt.tv_sec) * 1000000000LL + (rt.tv_nsec - bt.tv_nsec);
}

int64_t realtime_ns(void)
{
	struct timespec rt;

	clock_gettime(CLOCK_REALTIME, &rt);
	return rt.tv_sec * 1000000000LL + rt.tv_nsec;
}

/*
 * sb_put, inline: the pieces of a line are short and mostly of constant
 * size, and a call to sb_put and memcpy costs more than copying them.
 */
static inline void put_bytes(struct sbuf *sb, const char *s, size_t n)
{
	if (!n)
		return;	/* sb->buf may be NULL, and memcpy() to NULL is undefined */
	if (sb->cap - sb->len < n)
		sb_reserve(sb, n);
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
}

/* A string literal, without strlen. */
#define put_lit(sb, s) put_bytes(sb, s, sizeof(s) - 1)

/*
 * put_key, put_str and put_u32 are inlined: their keys are literals, whose
 * strlen the compiler then knows.
 */
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/*
 * "YYYY-MM-DDTHH:MM:SS" of the second last formatted: events come in bursts
 * within a second, and gmtime_r + strftime cost more than the rest of the
 * line. Per thread, as the DNS resolver thread formats its events too.
 */
static __thread struct {
	int64_t sec;	/* INT64_MIN: empty (no int64_t ns is in that second) */
	size_t len;
	char text[32];
} time_cache = { .sec = INT64_MIN };

void format_time(struct sbuf *sb, int64_t ns)
{
	time_t sec = ns / 1000000000LL;
	int32_t frac = ns % 1000000000LL;
	char tail[11];	/* ".123456789Z" */

	/* Before 1970 the remainder is negative: borrow a second (floor division). */
	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	if (time_cache.sec != sec) {
		struct tm tm;

		gmtime_r(&sec, &tm);
		time_cache.len = strftime(time_cache.text, sizeof(time_cache.text),
					  "%Y-%m-%dT%H:%M:%S", &tm);
		time_cache.sec = sec;
	}
	put_bytes(sb, time_cache.text, time_cache.len);
	tail[0] = '.';
	for (int i = 9; i >= 1; i--, frac /= 10)
		tail[i] = (char)('0' + frac % 10);
	tail[10] = 'Z';
	put_bytes(sb, tail, sizeof(tail));
}

static __always_inline void put_key(struct sbuf *sb, const char *key)
{
	put_lit(sb, ",\"");
	put_bytes(sb, key, strlen(key));
	put_lit(sb, "\":");
}

static __always_inline void put_u32(struct sbuf *sb, const char *key, uint32_t val)
{
	put_key(sb, key);
	sb_put_u32(sb, val);
}

static __always_inline void put_str(struct sbuf *sb, const char *key, const char *val)
{
	put_key(sb, key);
	if (val)
		sb_json_str(sb, val, strlen(val));
	else
		sb_puts(sb, "null");
}

static void put_agent(struct sbuf *sb, const struct agent_info *ai, int64_t realtime_ns)
{
	sb_puts(sb, "{\"time\":\"");
	format_time(sb, realtime_ns);
	sb_putc(sb, '"');
	put_str(sb, "agent", ai->name);
	put_str(sb, "identity", ai->identity);
	put_str(sb, "instance", ai->instance);
}

static void put_tail(struct sbuf *sb, const struct agent_info *ai);

/* put_tail() for an event about process @pid: its cgroup, when the instance has no one cgroup. */
static void put_tail_pid(struct sbuf *sb, const struct agent_info *ai, uint32_t pid)
{
	char buf[4096];
	const char *cg;

	if (ai->cgroup || !ai->cgroup_lookup) {
		put_tail(sb, ai);
		return;
	}
	if (ai->policy_sha256)
		put_str(sb, "policy_sha256", ai->policy_sha256);
	cg = ai->cgroup_lookup(pid, buf, sizeof(buf));
	if (cg)
		put_str(sb, "cgroup", cg);
	sb_puts(sb, "}\n");
}

/* Fields every event ends with: the policy's version and the instance's cgroup. */
static void put_tail(struct sbuf *sb, const struct agent_info *ai)
{
	if (ai->policy_sha256)
		put_str(sb, "policy_sha256", ai->policy_sha256);
	if (ai->cgroup)
		put_str(sb, "cgroup", ai->cgroup);
	sb_puts(sb, "}\n");
}

static const char *const decisions[] = {
	[WD_DEC_ALLOW] = "allow",
	[WD_DEC_DENY] = "deny",
	[WD_DEC_AUDIT] = "audit",
};

static const char *const tamper_names[WD_TAMPER_COUNT] = {
	[WD_TAMPER_BPF] = "bpf",
	[WD_TAMPER_MODULE] = "module",
	[WD_TAMPER_MOUNT] = "mount",
	[WD_TAMPER_CGROUP] = "cgroup",
	[WD_TAMPER_SIGNAL] = "signal",
	[WD_TAMPER_PTRACE] = "ptrace",
	[WD_TAMPER_TTY] = "tty",
	[WD_TAMPER_BPFFS] = "bpffs",
	[WD_TAMPER_KCONFIG] = "kernel_config",
	[WD_TAMPER_PERF] = "perf",
	[WD_TAMPER_EVENTS] = "events_file",
	[WD_TAMPER_WARDEN] = "warden_file",
	[WD_TAMPER_DEVICE] = "device",
	[WD_TAMPER_IPC] = "ipc",
	[WD_TAMPER_CAPABILITY] = "capability",
	[WD_TAMPER_RLIMIT] = "rlimit",
	[WD_TAMPER_SCHED] = "sched",
	[WD_TAMPER_PROC_FILE] = "proc_file",
	[WD_TAMPER_NOTIFY] = "notify",
	[WD_TAMPER_UPCALL] = "upcall",
	[WD_TAMPER_KEY] = "key",
};

/* What a "sched" event refused, by enum wd_sched. */
static const char *sched_change(uint32_t aux)
{
	switch (aux) {
	case WD_SCHED_NICE:
		return "nice";
	case WD_SCHED_IOPRIO:
		return "ioprio";
	case WD_SCHED_SCHEDULER:
		return "scheduler";
	}
	return "unknown";
}

/* What a "key" event refused, by the kernel's enum key_need_perm. */
static const char *key_perm(uint32_t aux)
{
	switch (aux) {
	case 2:
		return "read";
	case 3:
		return "write";
	case 6:
		return "setattr";
	case 7:
		return "unlink";
	}
	return "unknown";
}

static bool event_valid(const struct wd_event *ev, size_t size)
{
	if (size < sizeof(*ev) || sizeof(*ev) + ev->path_len + ev->exe_len > size ||
	    ev->decision > WD_DEC_AUDIT)
		return false;
	switch (ev->type) {
	case WD_EV_FILE:
	case WD_EV_EXEC:
		return ev->right < WD_RIGHT_COUNT;
	case WD_EV_TAMPER:
		return ev->right < WD_TAMPER_COUNT;
	case WD_EV_NET:
		return ev->right <= WD_NET_UNIX && ev->proto <= WD_PROTO_OTHER &&
		       ev->path_len == 0;
	case WD_EV_PROC:
		return ev->right <= WD_PROC_BIND;
	}
	return false;
}

/* ,"rule":"SECTION.rules[N]" */
static void put_rule_index(struct sbuf *sb, const char *section, uint32_t rule)
{
	put_lit(sb, ",\"rule\":\"");
	sb_puts(sb, section);
	put_lit(sb, ".rules[");
	sb_put_u32(sb, rule);
	put_lit(sb, "]\"");
}

/* ,"rule":"presets.NAME": NAME is one of warden's own, written as it is. */
static void put_rule_preset(struct sbuf *sb, const char *name)
{
	put_lit(sb, ",\"rule\":\"presets.");
	sb_puts(sb, name);
	sb_putc(sb, '"');
}

static void put_rule(struct sbuf *sb, const struct wd_event *ev, const struct agent_info *ai)
{
	if (ev->flags & WD_EVF_REFER) {
		sb_puts(sb, ",\"rule\":null,\"reason\":\"rename or link would widen access\"");
		return;
	}
	if (ev->type == WD_EV_TAMPER)
		sb_puts(sb, ",\"rule\":\"protection\"");
	else if (ev->type == WD_EV_NET && ev->right == WD_NET_RAW)
		sb_puts(sb, ",\"rule\":\"network.raw\"");
	else if (ev->type == WD_EV_NET && ev->right == WD_NET_UNIX)
		sb_puts(sb, ",\"rule\":\"network.abstract_unix\"");
	else if (ev->type == WD_EV_NET && ev->rule == WD_RULE_SOURCE_ROUTE)
		put_str(sb, "rule", "network.source_route");
	else if (ev->type == WD_EV_NET && ev->rule == WD_RULE_DEFAULT)
		put_str(sb, "rule", "network.default");
	else if (ev->type == WD_EV_NET)
		put_rule_index(sb, "network", ev->rule);
	else if (ai->policy && ev->rule < ai->policy->nrules && ai->policy->rules[ev->rule].preset)
		put_rule_preset(sb, ai->policy->rules[ev->rule].preset);
	else if (ev->rule == WD_RULE_DEFAULT)
		put_str(sb, "rule", "file.default");
	else if (ev->rule == WD_RULE_FILELESS)
		put_str(sb, "rule", "file.fileless_exec");
	else
		put_rule_index(sb, "file", ev->rule);
}

/* IP protocols other than TCP and UDP, by the name people know them by. */
static const char *other_proto(const struct wd_event *ev, char *buf, size_t size)
{
	unsigned type = ev->aux >> 16, proto = ev->aux & 0xffff;

	if (ev->family == 17 /* AF_PACKET */)
		return "packet";
	if (ev->family != 2 /* AF_INET */ && ev->family != 10 /* AF_INET6 */) {
		switch (ev->family) {
		case 21:
			return "rds";
		case 29:
			return "can";
		case 30:
			return "tipc";
		case 31:
			return "bluetooth";
		case 40:
			return "vsock";
		case 44:
			return "xdp";
		case 255:	/* WD_FAMILY_TUN */
			return "tun";
		}
		snprintf(buf, size, "family-%u", ev->family);
		return buf;
	}
	if (type == 3 /* SOCK_RAW */)
		return "raw";
	switch (proto) {
	case 1:
		return "icmp";
	case 58:
		return "icmpv6";
	case 132:
		return "sctp";
	case 136:
		return "udplite";
	}
	snprintf(buf, size, "ip-%u", proto);
	return buf;
}

static void put_network(struct sbuf *sb, const struct wd_event *ev)
{
	static const char *const actions[] = { "connect", "bind", "socket", "connect" };
	char addr[INET6_ADDRSTRLEN], pbuf[16];

	sb_puts(sb, ",\"event\":\"network\"");
	put_str(sb, "action", actions[ev->right]);
	if (ev->right == WD_NET_UNIX) {
		/* An abstract name: '@' and its bytes (they may be binary). */
		size_t n = strnlen((const char *)ev->addr, sizeof(ev->addr));

		sb_puts(sb, ",\"protocol\":\"unix\",\"address\":");
		{
			char name[sizeof(ev->addr) + 1] = "@";

			memcpy(name + 1, ev->addr, n);
			sb_json_str(sb, name, n + 1);
		}
		sb_puts(sb, ",\"port\":null");
		return;
	}
	if (ev->right == WD_NET_RAW || ev->proto == WD_PROTO_OTHER) {
		put_str(sb, "protocol", other_proto(ev, pbuf, sizeof(pbuf)));
		sb_puts(sb, ",\"address\":null,\"port\":null");
		return;
	}
	put_str(sb, "protocol", ev->proto == WD_PROTO_TCP ? "tcp" : "udp");
	if (!inet_ntop(ev->family == AF_INET6 ? AF_INET6 : AF_INET, ev->addr, addr, sizeof(addr)))
		strcpy(addr, "?");
	put_str(sb, "address", addr);
	put_u32(sb, "port", ev->port);
}

static void put_process(struct sbuf *sb, const struct wd_event *ev)
{
	static const char *const actions[] = { "start", "exec", "exit", "bind" };

	sb_puts(sb, ",\"event\":\"process\"");
	put_str(sb, "action", actions[ev->right]);
	if (ev->right != WD_PROC_EXIT)
		return;
	if (ev->aux & 0x7f)	/* killed: the signal's number */
		put_u32(sb, "signal", ev->aux & 0x7f);
	else
		put_u32(sb, "exit_status", (ev->aux >> 8) & 0xff);
}

int event_format(struct sbuf *sb, const void *rec, size_t size, const struct agent_info *ai,
		 int64_t boot_offset)
{
	const struct wd_event *ev = rec;
	const char *path, *exe;
	char comm[sizeof(ev->comm) + 1];

	if (!event_valid(ev, size))
		return -EINVAL;
	path = (const char *)(ev + 1);
	exe = path + ev->path_len;
	memcpy(comm, ev->comm, sizeof(ev->comm));
	comm[sizeof(ev->comm)] = '\0';

	/* The fixed fields, and the paths should none need escapes: one reallocation at most. */
	sb_reserve(sb, 1024 + ev->path_len + ev->exe_len);
	/* Unsigned: the record's clock is any 64-bit value, and a signed sum could overflow. */
	put_agent(sb, ai, (int64_t)(ev->boot_ns + (uint64_t)boot_offset));
	if (ev->type == WD_EV_PROC && ev->right == WD_PROC_START) {	/* the child, by its parent */
		put_u32(sb, "pid", ev->target);
		put_u32(sb, "tid", ev->target);
		put_u32(sb, "ppid", ev->pid);
	} else {
		put_u32(sb, "pid", ev->pid);
		put_u32(sb, "tid", ev->tid);
		put_u32(sb, "ppid", ev->ppid);
	}
	put_u32(sb, "uid", ev->uid);
	put_u32(sb, "gid", ev->gid);
	put_str(sb, "comm", comm);
	put_key(sb, "exe");
	if (ev->exe_len || ev->type != WD_EV_NET) {
		sb_json_str(sb, exe, ev->exe_len);
	} else {
		char buf[4096];
		const char *e = ai->exe_lookup ? ai->exe_lookup(ev->pid, buf, sizeof(buf)) : NULL;

		if (e)
			sb_json_str(sb, e, strlen(e));
		else
			sb_puts(sb, "null");
	}
	switch (ev->type) {
	case WD_EV_PROC:
		put_process(sb, ev);
		put_tail_pid(sb, ai, ev->type == WD_EV_PROC && ev->right == WD_PROC_START ? ev->target
											  : ev->pid);
		return 0;
	case WD_EV_NET:
		put_network(sb, ev);
		break;
	case WD_EV_TAMPER:
		sb_puts(sb, ",\"event\":\"tamper\"");
		put_str(sb, "action", tamper_names[ev->right]);
		if (ev->right == WD_TAMPER_SIGNAL || ev->right == WD_TAMPER_PTRACE) {
			put_u32(sb, "target_pid", ev->target);
			put_u32(sb, ev->right == WD_TAMPER_SIGNAL ? "signal" : "mode", ev->aux);
		} else if (ev->right == WD_TAMPER_RLIMIT) {
			put_u32(sb, "target_pid", ev->target);
			put_u32(sb, "resource", ev->aux);
		} else if (ev->right == WD_TAMPER_SCHED) {
			put_u32(sb, "target_pid", ev->target);
			put_str(sb, "change", sched_change(ev->aux));
		} else if (ev->right == WD_TAMPER_PROC_FILE) {
			put_u32(sb, "target_pid", ev->target);
		} else if (ev->right == WD_TAMPER_KEY) {
			put_str(sb, "perm", key_perm(ev->aux));
		} else if (ev->right == WD_TAMPER_TTY) {
			put_u32(sb, "ioctl", ev->aux);
		} else if (ev->right == WD_TAMPER_CAPABILITY && cap_name((int)ev->aux)) {
			put_str(sb, "capability", cap_name((int)ev->aux));
		} else if (ev->right == WD_TAMPER_CAPABILITY) {
			put_u32(sb, "capability", ev->aux);
		}
		if (ev->path_len) {	/* a protected file: which one */
			put_key(sb, "path");
			sb_json_str(sb, path, ev->path_len);
		}
		break;
	default:
		sb_puts(sb, ev->type == WD_EV_EXEC ? ",\"event\":\"exec\"" : ",\"event\":\"file\"");
		put_str(sb, "action", right_name(ev->right));
		put_key(sb, "path");
		sb_json_str(sb, path, ev->path_len);
	}
	put_str(sb, "decision", decisions[ev->decision]);
	put_rule(sb, ev, ai);
	if (ev->flags & WD_EVF_PATH_TRUNC)
		sb_puts(sb, ",\"path_truncated\":true");
	if (ev->flags & WD_EVF_UNRESOLVED)
		sb_puts(sb, ",\"path_unresolved\":true");
	if (ev->flags & WD_EVF_FILELESS)
		sb_puts(sb, ",\"fileless\":true");
	if (ev->flags & WD_EVF_IDENTITY)
		sb_puts(sb, ",\"alias\":true");
	put_tail_pid(sb, ai, ev->pid);
	return 0;
}

void event_format_lost(struct sbuf *sb, const struct agent_info *ai, uint64_t count,
		       const char *reason, int64_t realtime_ns)
{
	put_agent(sb, ai, realtime_ns);
	put_lit(sb, ",\"event\":\"lost\",\"count\":");
	sb_put_u64(sb, count);
	put_str(sb, "reason", reason);
	put_tail(sb, ai);
}

/* The asking process of a resolve event, or zeros and nulls and a note that it is missing. */
static void put_asker(struct sbuf *sb, const struct agent_info *ai, const struct wd_dns_asker *who)
{
	char comm[sizeof(who->comm) + 1], buf[4096];
	const char *exe;

	if (!who) {
		sb_puts(sb, ",\"pid\":0,\"tid\":0,\"ppid\":0,\"uid\":null,\"gid\":null,\"comm\":null,\"exe\":null,\"attribution\":\"missing\"");
		return;
	}
	put_u32(sb, "pid", who->pid);
	put_u32(sb, "tid", who->tid);
	put_u32(sb, "ppid", who->ppid);
	put_u32(sb, "uid", who->uid);
	put_u32(sb, "gid", who->gid);
	memcpy(comm, who->comm, sizeof(who->comm));
	comm[sizeof(who->comm)] = '\0';
	put_str(sb, "comm", comm);
	/* The kernel does not walk the path for a query: /proc, while the asker waits. */
	exe = ai->exe_lookup ? ai->exe_lookup(who->pid, buf, sizeof(buf)) : NULL;
	put_str(sb, "exe", exe);
}

void event_format_dns(struct sbuf *sb, const struct agent_info *ai, const char *name,
		      unsigned qtype, long rule, const struct wd_dns_asker *who, int64_t realtime_ns)
{
	put_agent(sb, ai, realtime_ns);
	put_asker(sb, ai, who);
	sb_puts(sb, ",\"event\":\"network\",\"action\":\"resolve\",\"protocol\":\"dns\"");
	put_str(sb, "name", name);
	put_u32(sb, "qtype", qtype);
	if (rule >= 0) {
		put_lit(sb, ",\"decision\":\"allow\",\"rule\":\"network.rules[");
		sb_put_u64(sb, (uint64_t)rule);
		put_lit(sb, "]\"");
	} else {
		sb_puts(sb, ",\"decision\":\"deny\",\"rule\":\"network.hosts\",\"reason\":\"no host rule allows this name: refused, not forwarded\"");
	}
	put_tail(sb, ai);
}

void event_format_policy(struct sbuf *sb, const struct agent_info *ai, const char *action,
			 const char *file, const char *error, const char *reason, int64_t realtime_ns)
{
	put_agent(sb, ai, realtime_ns);
	put_lit(sb, ",\"event\":\"policy\"");
	put_str(sb, "action", action);
	put_str(sb, "file", file);
	if (error)
		put_str(sb, "error", error);
	if (reason)
		put_str(sb, "reason", reason);
	put_tail(sb, ai);
}
