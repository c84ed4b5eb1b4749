// SPDX-License-Identifier: GPL-2.0
/*
 * The fast event formatter (user/event.c, sb_json_str and the integer
 * formatters in user/util.c) must print exactly what the printf-based one
 * did: the contract's readers, and users' log parsers, see every byte.
 * The previous implementation is kept below, verbatim but for ref_ names, as
 * the reference; random records of every kind (every event type, flag,
 * rule kind, odd and invalid UTF-8 bytes, extreme numbers, times that cross
 * seconds and go back) are formatted by both and compared byte for byte.
 * The generator is seeded: a failure names the seed and iteration.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <cmocka.h>

#include "caps.h"
#include "event.h"
#include "policy.h"

/* ---- the reference: user/util.c and user/event.c before the fast path --- */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t ref_utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and out-of-range points are not UTF-8. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static void ref_sb_json_str(struct sbuf *sb, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run;

	sb_putc(sb, '"');
	while (i < n) {
		unsigned char c = s[i];

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			sb_putc(sb, c);
			i++;
			continue;
		}
		switch (c) {
		case '"': sb_puts(sb, "\\\""); i++; continue;
		case '\\': sb_puts(sb, "\\\\"); i++; continue;
		case '\n': sb_puts(sb, "\\n"); i++; continue;
		case '\t': sb_puts(sb, "\\t"); i++; continue;
		case '\r': sb_puts(sb, "\\r"); i++; continue;
		}
		if (c < 0x20) {
			sb_printf(sb, "\\u%04x", c);
			i++;
			continue;
		}
		run = ref_utf8_seq(s + i, n - i);
		if (run) {
			sb_put(sb, (const char *)s + i, run);
			i += run;
		} else {
			/* Not UTF-8: keep the byte's value, stay valid JSON. */
			sb_printf(sb, "\\u%04x", c);
			i++;
		}
	}
	sb_putc(sb, '"');
}

static void ref_format_time(struct sbuf *sb, int64_t ns)
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

static void ref_put_key(struct sbuf *sb, const char *key)
{
	sb_printf(sb, ",\"%s\":", key);
}

static void ref_put_str(struct sbuf *sb, const char *key, const char *val)
{
	ref_put_key(sb, key);
	if (val)
		ref_sb_json_str(sb, val, strlen(val));
	else
		sb_puts(sb, "null");
}

static void ref_put_agent(struct sbuf *sb, const struct agent_info *ai, int64_t realtime_ns)
{
	sb_puts(sb, "{\"time\":\"");
	ref_format_time(sb, realtime_ns);
	sb_putc(sb, '"');
	ref_put_str(sb, "agent", ai->name);
	ref_put_str(sb, "identity", ai->identity);
	ref_put_str(sb, "instance", ai->instance);
}

/* Fields every event ends with: the policy's version and the instance's cgroup. */
static void ref_put_tail(struct sbuf *sb, const struct agent_info *ai)
{
	if (ai->policy_sha256)
		ref_put_str(sb, "policy_sha256", ai->policy_sha256);
	if (ai->cgroup)
		ref_put_str(sb, "cgroup", ai->cgroup);
	sb_puts(sb, "}\n");
}

static const char *const ref_decisions[] = {
	[WD_DEC_ALLOW] = "allow",
	[WD_DEC_DENY] = "deny",
	[WD_DEC_AUDIT] = "audit",
};

static const char *const ref_tamper_names[WD_TAMPER_COUNT] = {
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

static bool ref_event_valid(const struct wd_event *ev, size_t size)
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

static void ref_put_rule(struct sbuf *sb, const struct wd_event *ev, const struct agent_info *ai)
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
		ref_put_str(sb, "rule", "network.source_route");
	else if (ev->type == WD_EV_NET && ev->rule == WD_RULE_DEFAULT)
		ref_put_str(sb, "rule", "network.default");
	else if (ev->type == WD_EV_NET)
		sb_printf(sb, ",\"rule\":\"network.rules[%u]\"", ev->rule);
	else if (ai->policy && ev->rule < ai->policy->nrules && ai->policy->rules[ev->rule].preset)
		sb_printf(sb, ",\"rule\":\"presets.%s\"", ai->policy->rules[ev->rule].preset);
	else if (ev->rule == WD_RULE_DEFAULT)
		ref_put_str(sb, "rule", "file.default");
	else if (ev->rule == WD_RULE_FILELESS)
		ref_put_str(sb, "rule", "file.fileless_exec");
	else
		sb_printf(sb, ",\"rule\":\"file.rules[%u]\"", ev->rule);
}

/* IP protocols other than TCP and UDP, by the name people know them by. */
static const char *ref_other_proto(const struct wd_event *ev, char *buf, size_t size)
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

static void ref_put_network(struct sbuf *sb, const struct wd_event *ev)
{
	static const char *const actions[] = { "connect", "bind", "socket", "connect" };
	char addr[INET6_ADDRSTRLEN], pbuf[16];

	sb_puts(sb, ",\"event\":\"network\"");
	ref_put_str(sb, "action", actions[ev->right]);
	if (ev->right == WD_NET_UNIX) {
		/* An abstract name: '@' and its bytes (they may be binary). */
		size_t n = strnlen((const char *)ev->addr, sizeof(ev->addr));

		sb_puts(sb, ",\"protocol\":\"unix\",\"address\":");
		{
			char name[sizeof(ev->addr) + 1] = "@";

			memcpy(name + 1, ev->addr, n);
			ref_sb_json_str(sb, name, n + 1);
		}
		sb_puts(sb, ",\"port\":null");
		return;
	}
	if (ev->right == WD_NET_RAW || ev->proto == WD_PROTO_OTHER) {
		ref_put_str(sb, "protocol", ref_other_proto(ev, pbuf, sizeof(pbuf)));
		sb_puts(sb, ",\"address\":null,\"port\":null");
		return;
	}
	ref_put_str(sb, "protocol", ev->proto == WD_PROTO_TCP ? "tcp" : "udp");
	if (!inet_ntop(ev->family == AF_INET6 ? AF_INET6 : AF_INET, ev->addr, addr, sizeof(addr)))
		strcpy(addr, "?");
	ref_put_str(sb, "address", addr);
	sb_printf(sb, ",\"port\":%u", ev->port);
}

static void ref_put_process(struct sbuf *sb, const struct wd_event *ev)
{
	static const char *const actions[] = { "start", "exec", "exit", "bind" };

	sb_puts(sb, ",\"event\":\"process\"");
	ref_put_str(sb, "action", actions[ev->right]);
	if (ev->right != WD_PROC_EXIT)
		return;
	if (ev->aux & 0x7f)	/* killed: the signal's number */
		sb_printf(sb, ",\"signal\":%u", ev->aux & 0x7f);
	else
		sb_printf(sb, ",\"exit_status\":%u", (ev->aux >> 8) & 0xff);
}

static int ref_event_format(struct sbuf *sb, const void *rec, size_t size, const struct agent_info *ai,
		 int64_t boot_offset)
{
	const struct wd_event *ev = rec;
	const char *path, *exe;
	char comm[sizeof(ev->comm) + 1];

	if (!ref_event_valid(ev, size))
		return -EINVAL;
	path = (const char *)(ev + 1);
	exe = path + ev->path_len;
	memcpy(comm, ev->comm, sizeof(ev->comm));
	comm[sizeof(ev->comm)] = '\0';

	/* Unsigned: the record's clock is any 64-bit value, and a signed sum could overflow. */
	ref_put_agent(sb, ai, (int64_t)(ev->boot_ns + (uint64_t)boot_offset));
	if (ev->type == WD_EV_PROC && ev->right == WD_PROC_START)	/* the child, by its parent */
		sb_printf(sb, ",\"pid\":%u,\"tid\":%u,\"ppid\":%u,\"uid\":%u,\"gid\":%u",
			  ev->target, ev->target, ev->pid, ev->uid, ev->gid);
	else
		sb_printf(sb, ",\"pid\":%u,\"tid\":%u,\"ppid\":%u,\"uid\":%u,\"gid\":%u", ev->pid,
			  ev->tid, ev->ppid, ev->uid, ev->gid);
	ref_put_str(sb, "comm", comm);
	ref_put_key(sb, "exe");
	if (ev->exe_len || ev->type != WD_EV_NET) {
		ref_sb_json_str(sb, exe, ev->exe_len);
	} else {
		char buf[4096];
		const char *e = ai->exe_lookup ? ai->exe_lookup(ev->pid, buf, sizeof(buf)) : NULL;

		if (e)
			ref_sb_json_str(sb, e, strlen(e));
		else
			sb_puts(sb, "null");
	}
	switch (ev->type) {
	case WD_EV_PROC:
		ref_put_process(sb, ev);
		ref_put_tail(sb, ai);
		return 0;
	case WD_EV_NET:
		ref_put_network(sb, ev);
		break;
	case WD_EV_TAMPER:
		sb_puts(sb, ",\"event\":\"tamper\"");
		ref_put_str(sb, "action", ref_tamper_names[ev->right]);
		if (ev->right == WD_TAMPER_SIGNAL)
			sb_printf(sb, ",\"target_pid\":%u,\"signal\":%u", ev->target, ev->aux);
		else if (ev->right == WD_TAMPER_PTRACE)
			sb_printf(sb, ",\"target_pid\":%u,\"mode\":%u", ev->target, ev->aux);
		else if (ev->right == WD_TAMPER_RLIMIT)
			sb_printf(sb, ",\"target_pid\":%u,\"resource\":%u", ev->target, ev->aux);
		else if (ev->right == WD_TAMPER_SCHED)
			sb_printf(sb, ",\"target_pid\":%u,\"change\":\"%s\"", ev->target,
				  ev->aux == WD_SCHED_NICE ? "nice" : ev->aux == WD_SCHED_IOPRIO ? "ioprio"
					: ev->aux == WD_SCHED_SCHEDULER ? "scheduler" : "unknown");
		else if (ev->right == WD_TAMPER_PROC_FILE)
			sb_printf(sb, ",\"target_pid\":%u", ev->target);
		else if (ev->right == WD_TAMPER_KEY)
			sb_printf(sb, ",\"perm\":\"%s\"", ev->aux == 2 ? "read" : ev->aux == 3 ? "write"
				  : ev->aux == 6 ? "setattr" : ev->aux == 7 ? "unlink" : "unknown");
		else if (ev->right == WD_TAMPER_TTY)
			sb_printf(sb, ",\"ioctl\":%u", ev->aux);
		else if (ev->right == WD_TAMPER_CAPABILITY && cap_name((int)ev->aux))
			sb_printf(sb, ",\"capability\":\"%s\"", cap_name((int)ev->aux));
		else if (ev->right == WD_TAMPER_CAPABILITY)
			sb_printf(sb, ",\"capability\":%u", ev->aux);
		if (ev->path_len) {
			ref_put_key(sb, "path");
			ref_sb_json_str(sb, path, ev->path_len);
		}
		break;
	default:
		sb_puts(sb, ev->type == WD_EV_EXEC ? ",\"event\":\"exec\"" : ",\"event\":\"file\"");
		ref_put_str(sb, "action", right_name(ev->right));
		ref_put_key(sb, "path");
		ref_sb_json_str(sb, path, ev->path_len);
	}
	ref_put_str(sb, "decision", ref_decisions[ev->decision]);
	ref_put_rule(sb, ev, ai);
	if (ev->flags & WD_EVF_PATH_TRUNC)
		sb_puts(sb, ",\"path_truncated\":true");
	if (ev->flags & WD_EVF_UNRESOLVED)
		sb_puts(sb, ",\"path_unresolved\":true");
	if (ev->flags & WD_EVF_FILELESS)
		sb_puts(sb, ",\"fileless\":true");
	if (ev->flags & WD_EVF_IDENTITY)
		sb_puts(sb, ",\"alias\":true");
	ref_put_tail(sb, ai);
	return 0;
}

static void ref_event_format_lost(struct sbuf *sb, const struct agent_info *ai, uint64_t count,
		       const char *reason, int64_t realtime_ns)
{
	ref_put_agent(sb, ai, realtime_ns);
	sb_printf(sb, ",\"event\":\"lost\",\"count\":%llu", (unsigned long long)count);
	ref_put_str(sb, "reason", reason);
	ref_put_tail(sb, ai);
}

static void ref_event_format_dns(struct sbuf *sb, const struct agent_info *ai, const char *name,
		      unsigned qtype, long rule, const struct wd_dns_asker *who,
		      int64_t realtime_ns)
{
	ref_put_agent(sb, ai, realtime_ns);
	if (who) {
		char comm[sizeof(who->comm) + 1], buf[4096];

		memcpy(comm, who->comm, sizeof(who->comm));
		comm[sizeof(who->comm)] = '\0';
		sb_printf(sb, ",\"pid\":%u,\"tid\":%u,\"ppid\":%u,\"uid\":%u,\"gid\":%u", who->pid,
			  who->tid, who->ppid, who->uid, who->gid);
		ref_put_str(sb, "comm", comm);
		ref_put_str(sb, "exe", ai->exe_lookup ? ai->exe_lookup(who->pid, buf, sizeof(buf)) : NULL);
	} else {
		sb_puts(sb, ",\"pid\":0,\"tid\":0,\"ppid\":0,\"uid\":null,\"gid\":null,\"comm\":null,\"exe\":null,\"attribution\":\"missing\"");
	}
	sb_puts(sb, ",\"event\":\"network\",\"action\":\"resolve\",\"protocol\":\"dns\"");
	ref_put_str(sb, "name", name);
	sb_printf(sb, ",\"qtype\":%u", qtype);
	if (rule >= 0)
		sb_printf(sb, ",\"decision\":\"allow\",\"rule\":\"network.rules[%ld]\"", rule);
	else
		sb_puts(sb, ",\"decision\":\"deny\",\"rule\":\"network.hosts\",\"reason\":\"no host rule allows this name: refused, not forwarded\"");
	ref_put_tail(sb, ai);
}

/* ---- random inputs ------------------------------------------------------ */

struct rng {
	uint64_t s;
};

/* xorshift64*: reproducible from the seed, good enough to spread cases. */
static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

static uint32_t below(struct rng *r, uint32_t n)
{
	return rnd(r) % n;
}

/* Numbers around every digit-count boundary, the extremes, and random ones. */
static uint64_t rnd_num(struct rng *r, uint64_t max)
{
	uint64_t p = 1, v;
	unsigned digits = below(r, 21);

	switch (below(r, 5)) {
	case 0:
		return below(r, 2) ? 0 : max;
	case 1:
		for (unsigned i = 0; i < digits && p <= UINT64_MAX / 10; i++)
			p *= 10;
		v = p + below(r, 3) - 1;	/* 10^k - 1, 10^k, 10^k + 1 */
		break;
	case 2:
		v = below(r, 1000);
		break;
	default:
		v = rnd(r) >> below(r, 64);
	}
	return v > max ? v % (max + 1) : v;	/* v > max: max + 1 does not wrap */
}

/* The UTF-8 encoding of @cp at @p; returns its length. */
static size_t put_utf8(unsigned char *p, uint32_t cp)
{
	if (cp < 0x80) {
		p[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		p[0] = 0xc0 | cp >> 6;
		p[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		p[0] = 0xe0 | cp >> 12;
		p[1] = 0x80 | (cp >> 6 & 0x3f);
		p[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	p[0] = 0xf0 | cp >> 18;
	p[1] = 0x80 | (cp >> 12 & 0x3f);
	p[2] = 0x80 | (cp >> 6 & 0x3f);
	p[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/*
 * @n bytes (a piece that does not fit at the end is cut, which makes
 * truncated sequences too): mostly plain ASCII, with quotes,
 * backslashes, control bytes, DEL, valid UTF-8 of each length, and invalid
 * forms: lone continuation bytes, overlong forms, surrogates, code points
 * above U+10FFFF, bytes 0xf5-0xff, sequences cut short.
 */
static size_t rnd_bytes(struct rng *r, unsigned char *out, size_t n)
{
	static const unsigned char bad[][4] = {
		{ 0xc0, 0x80 }, { 0xc1, 0xbf }, { 0xe0, 0x80, 0x80 }, { 0xf0, 0x80, 0x80, 0x80 },
		{ 0xed, 0xa0, 0x80 }, { 0xed, 0xbf, 0xbf }, { 0xf4, 0x90, 0x80, 0x80 },
		{ 0xf7, 0xbf, 0xbf, 0xbf }, { 0xe2, 0x82 }, { 0xf0, 0x9f, 0x98 },
	};
	static const size_t bad_len[] = { 2, 2, 3, 4, 3, 3, 4, 4, 2, 3 };
	unsigned char piece[4];
	size_t i = 0, k;
	/* Per string, how odd it is: many are all plain, like real paths. */
	unsigned odd = below(r, 4) ? below(r, 40) : 0;

	while (i < n) {
		unsigned kind = below(r, 100) < odd ? below(r, 10) : 0;

		switch (kind) {
		case 0:
			piece[0] = 0x20 + below(r, 0x5f);	/* printable ASCII */
			k = 1;
			break;
		case 1:
			piece[0] = "\"\\/"[below(r, 3)];
			k = 1;
			break;
		case 2:
			piece[0] = below(r, 2) ? below(r, 0x20) : 0x7f;
			k = 1;
			break;
		case 3:
			k = put_utf8(piece, 0x80 + below(r, 0x800 - 0x80));
			break;
		case 4: {
			uint32_t cp = 0x800 + below(r, 0x10000 - 0x800);

			if (cp >= 0xd800 && cp <= 0xdfff)
				cp += 0x800;
			k = put_utf8(piece, cp);
			break;
		}
		case 5:
			k = put_utf8(piece, 0x10000 + below(r, 0x110000 - 0x10000));
			break;
		case 6:
			piece[0] = 0x80 + below(r, 0x40);	/* lone continuation */
			k = 1;
			break;
		case 7:
			k = below(r, sizeof(bad_len) / sizeof(bad_len[0]));
			memcpy(piece, bad[k], 4);
			k = bad_len[k];
			break;
		case 8:
			piece[0] = 0xf5 + below(r, 11);
			k = 1;
			break;
		default:
			piece[0] = below(r, 256);
			k = 1;
		}
		if (k > n - i)
			k = n - i;	/* cut: a truncated sequence at the end */
		memcpy(out + i, piece, k);
		i += k;
	}
	return n;
}

/* Lengths around the 8-byte steps of the fast scan, short ones, long ones. */
static size_t rnd_len(struct rng *r, size_t max)
{
	size_t n;

	switch (below(r, 4)) {
	case 0:
		n = below(r, 20);
		break;
	case 1:
		n = below(r, 80);
		break;
	case 2:
		n = 8 * below(r, 10) + below(r, 3) - 1;
		break;
	default:
		n = below(r, 16) ? below(r, 300) : below(r, max + 1);
	}
	return n > max ? max : n;
}

/* A NUL-terminated random string (for names, reasons, DNS names). */
static char *rnd_str(struct rng *r, char *buf, size_t size)
{
	size_t n = rnd_len(r, size - 1);

	rnd_bytes(r, (unsigned char *)buf, n);
	buf[n] = '\0';
	return buf;
}

/* ---- comparison ---------------------------------------------------------- */

/* Whether the outputs are equal; prints the first difference's details. */
static bool equal(const struct sbuf *want, const struct sbuf *got, const char *what,
		  uint64_t seed, long iter)
{
	static _Atomic int printed;

	if (want->len == got->len && (!want->len || !memcmp(want->buf, got->buf, want->len)))
		return true;
	if (printed++ < 5)
		print_error("%s differs (seed %llu, iteration %ld)\nwant: %.*s\ngot:  %.*s\n",
			    what, (unsigned long long)seed, iter, (int)want->len, want->buf,
			    (int)got->len, got->buf);
	return false;
}

static void same(const struct sbuf *want, const struct sbuf *got, const char *what,
		 uint64_t seed, long iter)
{
	if (!equal(want, got, what, seed, iter))
		fail();
}

/* Both buffers start with the same prefix, sometimes empty, sometimes full. */
static void start(struct rng *r, struct sbuf *a, struct sbuf *b)
{
	a->len = b->len = 0;
	if (below(r, 4) == 0) {
		sb_free(a);
		sb_free(b);
	} else if (below(r, 2)) {
		char pre[300];
		size_t n = below(r, sizeof(pre));

		memset(pre, 'p', n);
		sb_put(a, pre, n);
		sb_put(b, pre, n);
	}
}

/* ---- records ----------------------------------------------------------- */

struct rec {
	size_t size;
	union {
		struct wd_event ev;
		unsigned char bytes[WD_EVENT_MAX + 64];
	};
};

/* For network events without an exe: the same answer for a pid every time. */
static const char *lookup(uint32_t pid, char *buf, size_t size)
{
	struct rng r = { pid * 2654435761ULL + 1 };

	if (pid % 3 == 0)
		return NULL;
	return rnd_str(&r, buf, size < 300 ? size : 300);
}

static struct file_rule rules[6];
static struct policy pol = { .rules = rules, .nrules = 6 };

static void rnd_agent(struct rng *r, struct agent_info *ai, char bufs[5][128])
{
	ai->name = below(r, 8) ? rnd_str(r, bufs[0], 64) : NULL;
	ai->identity = below(r, 3) ? rnd_str(r, bufs[1], 128) : NULL;
	ai->instance = below(r, 8) ? rnd_str(r, bufs[2], 16) : NULL;
	ai->exe_lookup = below(r, 4) ? lookup : NULL;
	ai->policy = below(r, 2) ? &pol : NULL;
	ai->policy_sha256 = below(r, 2) ? rnd_str(r, bufs[3], 80) : NULL;
	ai->cgroup_lookup = NULL;	/* the reference predates it: tested in test_event.c */
	ai->cgroup = below(r, 2) ? rnd_str(r, bufs[4], 128) : NULL;
}

static uint32_t rnd_rule(struct rng *r)
{
	switch (below(r, 6)) {
	case 0:
		return WD_RULE_DEFAULT;
	case 1:
		return WD_RULE_FILELESS;
	case 2:
		return below(r, 8);	/* some name a preset rule */
	default:
		return rnd_num(r, UINT32_MAX);
	}
}

static void rnd_rec(struct rng *r, struct rec *rec)
{
	static const uint8_t families[] = { AF_INET, AF_INET6, AF_UNIX, 17 /* AF_PACKET */, 0, 99 };
	static const uint16_t protos[] = { 1, 58, 132, 136, 6, 17, 0, 255, 65535 };
	struct wd_event *ev = &rec->ev;
	size_t path_len, exe_len;

	memset(rec, 0, sizeof(*rec));
	ev->boot_ns = rnd(r) >> 2;
	ev->type = below(r, 16) ? 1 + below(r, 5) : rnd_num(r, UINT32_MAX);
	ev->agent = rnd(r);
	ev->pid = rnd_num(r, UINT32_MAX);
	ev->tid = rnd_num(r, UINT32_MAX);
	ev->ppid = rnd_num(r, UINT32_MAX);
	ev->uid = rnd_num(r, UINT32_MAX);
	ev->gid = rnd_num(r, UINT32_MAX);
	ev->rule = rnd_rule(r);
	/* Mostly a right the type has (5 file rights, 8 tampers, 4 network, 3 process), sometimes not. */
	ev->right = below(r, 8) ? below(r, ev->type == WD_EV_TAMPER ? 8 : ev->type == WD_EV_NET ? 4 :
					   ev->type == WD_EV_PROC ? 3 : 5)
				: rnd(r);
	ev->decision = below(r, 16) ? below(r, 3) : rnd(r);
	ev->flags = below(r, 2) ? rnd(r) : rnd(r) & 0x1f;
	rnd_bytes(r, (unsigned char *)ev->comm, below(r, 4) ? below(r, 17) : 16);
	ev->target = rnd_num(r, UINT32_MAX);
	ev->aux = below(r, 2) ? rnd_num(r, UINT32_MAX)
			      : (below(r, 5) << 16 | protos[below(r, sizeof(protos) / 2)]);
	ev->family = below(r, 8) ? families[below(r, sizeof(families))] : rnd(r);
	ev->proto = below(r, 8) ? below(r, 4) : rnd(r);
	ev->port = rnd_num(r, 65535);
	for (int i = 0; i < 16; i++)
		ev->addr[i] = below(r, 3) ? rnd(r) : 0;
	path_len = ev->type == WD_EV_NET && below(r, 8) ? 0 : rnd_len(r, WD_PATH_MAX);
	exe_len = ev->type == WD_EV_NET && below(r, 2) ? 0 : rnd_len(r, WD_PATH_MAX);
	ev->path_len = path_len;
	ev->exe_len = exe_len;
	rnd_bytes(r, rec->bytes + sizeof(*ev), path_len + exe_len);
	rec->size = sizeof(*ev) + path_len + exe_len;
	switch (below(r, 16)) {
	case 0:
		rec->size -= 1 + below(r, rec->size);	/* short: refused */
		break;
	case 1:
		rec->size += below(r, 64);	/* longer than its lengths: fine */
		break;
	}
}

/* Wall times: mostly a clock moving on, sometimes jumps, back too, and edges. */
static int64_t rnd_time(struct rng *r, int64_t *clock)
{
	switch (below(r, 16)) {
	case 0:
		*clock = (int64_t)(rnd(r) >> 2);	/* room to move on without overflow */
		break;
	case 1:
		*clock -= below(r, 3000000000u);
		break;
	case 2:
		*clock = (*clock / 1000000000 + below(r, 2)) * 1000000000 - below(r, 2);
		break;
	case 3:
		return -(int64_t)rnd_num(r, 5000000000ULL);	/* before 1970 */
	case 4:
		return (int64_t)rnd(r);	/* any clock value, 1677 to 2262 */
	default:
		*clock += below(r, 300000000);
	}
	if (*clock < 0)
		*clock = -*clock;
	return *clock;
}

#define ROUNDS 50000

/*
 * event_format over random records: return value and bytes. Returns the
 * number of differences (no cmocka asserts: threads run it too).
 */
static long run_events(uint64_t seed, long rounds)
{
	struct rng r = { seed };
	struct sbuf want = {0}, got = {0};
	struct rec *rec = malloc(sizeof(*rec));
	int64_t clock = 1795723863123456789LL;
	char bufs[5][128];
	struct agent_info ai;
	long valid = 0, bad = 0;

	if (!rec)
		return -1;
	for (long i = 0; i < rounds; i++) {
		int64_t t = rnd_time(&r, &clock), off;
		int a, b;

		rnd_agent(&r, &ai, bufs);
		rnd_rec(&r, rec);
		/* boot_ns + offset is the wall time (event_format adds them unsigned). */
		off = (int64_t)((uint64_t)t - rec->ev.boot_ns);
		start(&r, &want, &got);
		a = ref_event_format(&want, rec->bytes, rec->size, &ai, off);
		b = event_format(&got, rec->bytes, rec->size, &ai, off);
		if (a != b) {
			print_error("event_format returned %d, reference %d (seed %llu, iteration %ld)\n",
				    b, a, (unsigned long long)seed, i);
			bad++;
		}
		bad += !equal(&want, &got, "event_format", seed, i);
		valid += !a;
	}
	sb_free(&want);
	sb_free(&got);
	free(rec);
	/* The generator must reach the formatter, not only its refusals. */
	if (valid <= rounds / 2) {
		print_error("only %ld of %ld records valid (seed %llu)\n", valid, rounds,
			    (unsigned long long)seed);
		bad++;
	}
	return bad;
}

static void t_event_format_same(void **state)
{
	(void)state;
	assert_int_equal(run_events(0x9e3779b97f4a7c15ULL, ROUNDS), 0);
}

/* Each event type, with every flag bit, on its own: coverage not left to chance. */
static void t_each_type_and_flag(void **state)
{
	struct rng r = { 42 };
	struct sbuf want = {0}, got = {0};
	struct rec *rec = malloc(sizeof(*rec));
	struct agent_info ai = { "a", "i", "n", lookup, &pol, "0123abcd", "/warden/a-1", NULL };
	long n = 0;

	(void)state;
	assert_non_null(rec);
	for (uint32_t type = WD_EV_FILE; type <= WD_EV_PROC; type++)
		for (unsigned right = 0; right < WD_TAMPER_COUNT; right++)
			for (unsigned flag = 0; flag <= 5; flag++)
				for (int k = 0; k < 20; k++) {
					rnd_rec(&r, rec);
					rec->ev.type = type;
					rec->ev.right = right;
					rec->ev.decision = k % 3;
					rec->ev.flags = flag < 5 ? 1u << flag : 0;
					rec->ev.proto = k % 4;
					if (type == WD_EV_NET)
						rec->ev.path_len = 0;
					rec->size = sizeof(rec->ev) + rec->ev.path_len + rec->ev.exe_len;
					want.len = got.len = 0;
					assert_int_equal(ref_event_format(&want, rec->bytes, rec->size, &ai, 1),
							 event_format(&got, rec->bytes, rec->size, &ai, 1));
					same(&want, &got, "event_format", 42, n++);
				}
	sb_free(&want);
	sb_free(&got);
	free(rec);
}

static void t_lost_same(void **state)
{
	struct rng r = { 7 };
	struct sbuf want = {0}, got = {0};
	int64_t clock = 0;
	char bufs[5][128], reason[200];
	struct agent_info ai;

	(void)state;
	for (long i = 0; i < ROUNDS / 4; i++) {
		int64_t t = rnd_time(&r, &clock);
		uint64_t count = rnd_num(&r, UINT64_MAX);

		rnd_agent(&r, &ai, bufs);
		rnd_str(&r, reason, sizeof(reason));
		start(&r, &want, &got);
		ref_event_format_lost(&want, &ai, count, reason, t);
		event_format_lost(&got, &ai, count, reason, t);
		same(&want, &got, "event_format_lost", 7, i);
	}
	sb_free(&want);
	sb_free(&got);
}

static void t_dns_same(void **state)
{
	struct rng r = { 11 };
	struct wd_dns_asker who = {0};
	const struct wd_dns_asker *w;
	struct sbuf want = {0}, got = {0};
	int64_t clock = 1795723863000000000LL;
	char bufs[5][128], name[300];
	struct agent_info ai;

	(void)state;
	for (long i = 0; i < ROUNDS / 4; i++) {
		int64_t t = rnd_time(&r, &clock);
		unsigned qtype = rnd_num(&r, UINT_MAX);
		long rule = below(&r, 3) ? (long)rnd_num(&r, LONG_MAX) : -1 - (long)rnd_num(&r, 5);

		if (below(&r, 8) == 0)
			rule = below(&r, 2) ? LONG_MAX : LONG_MIN;
		rnd_agent(&r, &ai, bufs);
		rnd_str(&r, name, sizeof(name));
		start(&r, &want, &got);
		who.pid = rnd_num(&r, UINT_MAX);
		who.tid = rnd_num(&r, UINT_MAX);
		who.ppid = rnd_num(&r, UINT_MAX);
		who.uid = rnd_num(&r, UINT_MAX);
		who.gid = rnd_num(&r, UINT_MAX);
		for (size_t j = 0; j < sizeof(who.comm); j++)
			who.comm[j] = (char)rnd(&r);	/* no NUL at times: all 16 bytes are the name */
		w = below(&r, 4) ? &who : NULL;	/* NULL: the kernel had no record */
		ref_event_format_dns(&want, &ai, name, qtype, rule, w, t);
		event_format_dns(&got, &ai, name, qtype, rule, w, t);
		same(&want, &got, "event_format_dns", 11, i);
	}
	sb_free(&want);
	sb_free(&got);
}

/* sb_json_str alone, every length to 70 and long strings, including NUL bytes. */
static void t_json_str_same(void **state)
{
	struct rng r = { 13 };
	struct sbuf want = {0}, got = {0};
	static unsigned char s[3 * WD_PATH_MAX];

	(void)state;
	for (long i = 0; i < ROUNDS; i++) {
		size_t n = i < 70 * 64 ? (size_t)i / 64 : rnd_len(&r, sizeof(s));

		rnd_bytes(&r, s, n);
		start(&r, &want, &got);
		ref_sb_json_str(&want, (const char *)s, n);
		sb_json_str(&got, (const char *)s, n);
		same(&want, &got, "sb_json_str", 13, i);
	}
	/* Every byte value alone, and at each position of an 8-byte block. */
	for (int c = 0; c < 256; c++)
		for (size_t at = 0; at < 17; at++) {
			memset(s, 'a', 17);
			s[at] = c;
			want.len = got.len = 0;
			ref_sb_json_str(&want, (const char *)s, 17);
			sb_json_str(&got, (const char *)s, 17);
			same(&want, &got, "sb_json_str one byte", 0, c * 17 + at);
		}
	sb_free(&want);
	sb_free(&got);
}

static void t_integers_same(void **state)
{
	struct rng r = { 17 };
	struct sbuf want = {0}, got = {0};

	(void)state;
	for (long i = 0; i < ROUNDS; i++) {
		uint64_t v = rnd_num(&r, UINT64_MAX);

		want.len = got.len = 0;
		sb_printf(&want, "%u|%llu", (unsigned)v, (unsigned long long)v);
		sb_put_u32(&got, (uint32_t)v);
		sb_putc(&got, '|');
		sb_put_u64(&got, v);
		same(&want, &got, "sb_put_u32/u64", 17, i);
	}
	sb_free(&want);
	sb_free(&got);
}

/* format_time at the edges, and along a clock that crosses seconds and goes back. */
static void t_time_same(void **state)
{
	static const int64_t edges[] = {
		0, 1, 999999999, 1000000000, -1, -5, -999999999, -1000000000, -1000000001,
		INT64_MAX, INT64_MIN, INT64_MIN + 1, 946684799999999999LL, 951782400000000000LL,
		4107542399999999999LL, 253402300799999999LL, 253402300800000000LL,
	};
	struct rng r = { 19 };
	struct sbuf want = {0}, got = {0};
	int64_t clock = 1795723863123456789LL;

	(void)state;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]) * 2; i++) {
		int64_t t = edges[i % (sizeof(edges) / sizeof(edges[0]))];

		want.len = got.len = 0;
		ref_format_time(&want, t);
		format_time(&got, t);
		same(&want, &got, "format_time", 0, i);
	}
	for (long i = 0; i < ROUNDS; i++) {
		int64_t t = rnd_time(&r, &clock);

		want.len = got.len = 0;
		ref_format_time(&want, t);
		format_time(&got, t);
		same(&want, &got, "format_time", 19, i);
	}
	sb_free(&want);
	sb_free(&got);
}

/*
 * The drain and the DNS resolver thread format at once, each at its own
 * times: a cache of the formatted second shared between them would show,
 * most surely in format_time_thread, where every call changes the second.
 */
static void *format_thread(void *arg)
{
	return (void *)run_events((uintptr_t)arg, ROUNDS / 4);
}

static void *format_time_thread(void *arg)
{
	int64_t base = 1795723863000000000LL + (int64_t)(uintptr_t)arg * 86400000000000LL;
	struct sbuf want = {0}, got = {0};
	long bad = 0;

	for (long i = 0; i < ROUNDS * 4; i++) {
		int64_t t = base + (i & 1) * 1000000000LL + i;

		want.len = got.len = 0;
		ref_format_time(&want, t);
		format_time(&got, t);
		bad += !equal(&want, &got, "format_time in a thread", (uintptr_t)arg, i);
	}
	sb_free(&want);
	sb_free(&got);
	return (void *)bad;
}

static void t_threads_same(void **state)
{
	void *(*const fn[4])(void *) = {
		format_thread, format_thread, format_time_thread, format_time_thread,
	};
	pthread_t th[4];
	void *bad;

	(void)state;
	for (uintptr_t i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, fn[i], (void *)(i + 101)), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], &bad), 0);
		assert_int_equal((long)bad, 0);
	}
}

int main(void)
{
	static const char *const names[] = { "web", "no-desktop", "we\"ird\\one", "" };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_event_format_same),
		cmocka_unit_test(t_each_type_and_flag),
		cmocka_unit_test(t_lost_same),
		cmocka_unit_test(t_dns_same),
		cmocka_unit_test(t_json_str_same),
		cmocka_unit_test(t_integers_same),
		cmocka_unit_test(t_time_same),
		cmocka_unit_test(t_threads_same),
	};

	/* Rules 1, 3, 4, 5 came from presets (put_rule prints their names as they are). */
	rules[1].preset = names[0];
	rules[3].preset = names[1];
	rules[4].preset = names[2];
	rules[5].preset = names[3];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
