// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <string.h>
#include <time.h>

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

void format_time(struct sbuf *sb, int64_t ns)
{
	time_t sec = ns / 1000000000LL;
	long long frac = ns % 1000000000LL;
	struct tm tm;
	char buf[32];

	/* Before 1970 the remainder is negative: borrow a second (floor division). */
	if (frac < 0) {
		frac += 1000000000LL;
		sec--;
	}
	gmtime_r(&sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	sb_printf(sb, "%s.%09lldZ", buf, frac);
}

static void put_key(struct sbuf *sb, const char *key)
{
	sb_printf(sb, ",\"%s\":", key);
}

static void put_str(struct sbuf *sb, const char *key, const char *val)
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
};

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
		return ev->right <= WD_PROC_EXIT;
	}
	return false;
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
	else if (ev->type == WD_EV_NET && ev->rule == WD_RULE_DEFAULT)
		put_str(sb, "rule", "network.default");
	else if (ev->type == WD_EV_NET)
		sb_printf(sb, ",\"rule\":\"network.rules[%u]\"", ev->rule);
	else if (ai->policy && ev->rule < ai->policy->nrules && ai->policy->rules[ev->rule].preset)
		sb_printf(sb, ",\"rule\":\"presets.%s\"", ai->policy->rules[ev->rule].preset);
	else if (ev->rule == WD_RULE_DEFAULT)
		put_str(sb, "rule", "file.default");
	else if (ev->rule == WD_RULE_FILELESS)
		put_str(sb, "rule", "file.fileless_exec");
	else
		sb_printf(sb, ",\"rule\":\"file.rules[%u]\"", ev->rule);
}

/* IP protocols other than TCP and UDP, by the name people know them by. */
static const char *other_proto(const struct wd_event *ev, char *buf, size_t size)
{
	unsigned type = ev->aux >> 16, proto = ev->aux & 0xffff;

	if (ev->family == 17 /* AF_PACKET */)
		return "packet";
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
	sb_printf(sb, ",\"port\":%u", ev->port);
}

static void put_process(struct sbuf *sb, const struct wd_event *ev)
{
	static const char *const actions[] = { "start", "exec", "exit" };

	sb_puts(sb, ",\"event\":\"process\"");
	put_str(sb, "action", actions[ev->right]);
	if (ev->right != WD_PROC_EXIT)
		return;
	if (ev->aux & 0x7f)	/* killed: the signal's number */
		sb_printf(sb, ",\"signal\":%u", ev->aux & 0x7f);
	else
		sb_printf(sb, ",\"exit_status\":%u", (ev->aux >> 8) & 0xff);
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

	/* Unsigned: the record's clock is any 64-bit value, and a signed sum could overflow. */
	put_agent(sb, ai, (int64_t)(ev->boot_ns + (uint64_t)boot_offset));
	if (ev->type == WD_EV_PROC && ev->right == WD_PROC_START)	/* the child, by its parent */
		sb_printf(sb, ",\"pid\":%u,\"tid\":%u,\"ppid\":%u,\"uid\":%u,\"gid\":%u",
			  ev->target, ev->target, ev->pid, ev->uid, ev->gid);
	else
		sb_printf(sb, ",\"pid\":%u,\"tid\":%u,\"ppid\":%u,\"uid\":%u,\"gid\":%u", ev->pid,
			  ev->tid, ev->ppid, ev->uid, ev->gid);
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
		put_tail(sb, ai);
		return 0;
	case WD_EV_NET:
		put_network(sb, ev);
		break;
	case WD_EV_TAMPER:
		sb_puts(sb, ",\"event\":\"tamper\"");
		put_str(sb, "action", tamper_names[ev->right]);
		if (ev->right == WD_TAMPER_SIGNAL)
			sb_printf(sb, ",\"target_pid\":%u,\"signal\":%u", ev->target, ev->aux);
		else if (ev->right == WD_TAMPER_PTRACE)
			sb_printf(sb, ",\"target_pid\":%u,\"mode\":%u", ev->target, ev->aux);
		else if (ev->right == WD_TAMPER_TTY)
			sb_printf(sb, ",\"ioctl\":%u", ev->aux);
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
	put_tail(sb, ai);
	return 0;
}

void event_format_lost(struct sbuf *sb, const struct agent_info *ai, uint64_t count,
		       const char *reason, int64_t realtime_ns)
{
	put_agent(sb, ai, realtime_ns);
	sb_printf(sb, ",\"event\":\"lost\",\"count\":%llu", (unsigned long long)count);
	put_str(sb, "reason", reason);
	put_tail(sb, ai);
}

void event_format_dns(struct sbuf *sb, const struct agent_info *ai, const char *name,
		      unsigned qtype, long rule, int64_t realtime_ns)
{
	put_agent(sb, ai, realtime_ns);
	sb_puts(sb, ",\"event\":\"network\",\"action\":\"resolve\",\"protocol\":\"dns\"");
	put_str(sb, "name", name);
	sb_printf(sb, ",\"qtype\":%u", qtype);
	if (rule >= 0)
		sb_printf(sb, ",\"decision\":\"allow\",\"rule\":\"network.rules[%ld]\"", rule);
	else
		sb_puts(sb, ",\"decision\":\"deny\",\"rule\":\"network.hosts\",\"reason\":\"no host rule allows this name: refused, not forwarded\"");
	put_tail(sb, ai);
}
