// SPDX-License-Identifier: GPL-2.0
/*
 * Warden's network rules, as cgroup programs attached to an agent
 * instance's cgroup: every socket call of every process in it meets them,
 * and they need no BPF LSM (so they work on kernels without it too).
 *
 * - connect4/6 and sendmsg4/6 judge "connect" (TCP connect, TCP fast open,
 *   UDP connect, UDP sendto/sendmsg/sendmmsg; io_uring goes through the same
 *   kernel paths). An IPv4-mapped IPv6 address is judged as IPv4.
 * - bind4/6 judge "bind".
 * - sock_create refuses raw sockets and every IP protocol but TCP, UDP and
 *   MPTCP unless the policy says "raw": "allow" (ICMP, SCTP, UDP-Lite... have
 *   paths these hooks do not see: fail closed).
 * - With host rules, DNS (UDP and TCP port 53, to any address) goes to
 *   warden's resolver on loopback instead; recvmsg and getpeername put the
 *   original server back, so the agent sees a normal answer.
 *
 * Programs are attached with BPF link (multi semantics): a child cgroup can
 * add programs, never replace or skip these; every attached program must
 * allow.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "warden.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_MPTCP 262

/* Load-time settings, written by userspace before load. */
const volatile __u32 agent_id = 0;	/* the agent these programs judge for */
const volatile __u32 agent_mode = WD_MODE_ENFORCE;	/* enum wd_mode */
const volatile __u8 raw_allowed = 0;	/* "raw": "allow" */
const volatile __u16 dns_port = 0;	/* warden's resolver, host order; 0 = no redirect */

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(key_size, sizeof(struct wd_net_key));
	__uint(value_size, sizeof(struct wd_net_node));
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);	/* sized by userspace */
} net_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(key_size, sizeof(struct wd_net_addr_key));
	__uint(value_size, sizeof(struct wd_net_learned));
	__uint(max_entries, WD_NET_LEARNED_MAX);
} net_learned SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct wd_dns_orig);
} dns_orig SEC(".maps");

/*
 * Per redirected socket: who sent the query last (filled at the redirect,
 * in the sender's context), and the keys it was published under in
 * dns_askers, one per family, so they can be withdrawn when it closes.
 */
struct dns_sock {
	struct wd_dns_asker who;
	struct wd_dns_asker_key key[2];	/* [0] IPv4, [1] IPv6 */
	__u8 keyed[2];		/* key[i] is in dns_askers */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct dns_sock);
} dns_sock SEC(".maps");

/*
 * The resolver's view of who asked: keyed by the peer address it sees. LRU:
 * bounded, and a full map forgets old senders instead of refusing new ones.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WD_DNS_ASKERS_MAX);
	__type(key, struct wd_dns_asker_key);
	__type(value, struct wd_dns_asker);
} dns_askers SEC(".maps");

/* Shared with the LSM object when it is loaded (userspace reuses its fds). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WD_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/*
 * Scratch for one event with the executable's path: cgroup programs cannot
 * use the LSM object's walk, so the path is built here, backwards, one
 * component at a time (mounts crossed), then copied after the header.
 */
#define EXE_DEPTH 32
#define EXE_BUF 4096
struct exe_scratch {
	struct wd_event ev;
	char path[EXE_BUF];	/* follows ev: one bpf_ringbuf_output of both */
	char tmp[EXE_BUF + 256];	/* built backwards from the end */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exe_scratch);
} exe_scratch SEC(".maps");

/* One judgement: what it is about, and what decided it. */
struct net_req {
	__u8 addr[16];		/* IPv4 in addr[0..3] */
	__u16 port;		/* host order */
	__u8 v6;		/* 1: an IPv6 address (not v4-mapped) */
	__u8 proto;		/* WD_PROTO_TCP or WD_PROTO_UDP */
	__u8 right;		/* enum wd_net_right */
	__u32 sotype;		/* socket type << 16 | IP protocol, for the event */
};

struct net_verdict {
	__u32 rule;		/* network.rules index, or WD_RULE_DEFAULT */
	__u8 action;		/* WD_ACT_ALLOW or WD_ACT_DENY */
	__u8 audit;
	__u8 prefix;		/* prefix length of the deciding rule */
	__u8 matched;		/* an entry matched (else the default decided) */
};

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		__sync_fetch_and_add(c, 1);
}

#include "ratelimit.h"
#include "srcroute.h"

static __always_inline bool entry_matches(const struct wd_net_entry *e, const struct net_req *q)
{
	return (!e->proto || e->proto == q->proto) && q->port >= e->lo && q->port <= e->hi;
}

/* The first entry of @n that matches decides (entries are in precedence order). */
static __always_inline void scan_node(const struct wd_net_node *n, const struct net_req *q,
				      struct net_verdict *v)
{
	v->rule = WD_RULE_DEFAULT;
	v->action = n->dflt;
	v->audit = 0;
	v->prefix = 0;
	v->matched = 0;
	for (int i = 0; i < WD_NET_ENTRIES; i++) {
		const struct wd_net_entry *e = &n->e[i];

		if (i >= n->count)
			break;
		if (!entry_matches(e, q))
			continue;
		v->rule = e->rule;
		v->action = e->action;
		v->audit = e->audit;
		v->prefix = e->prefix;
		v->matched = 1;
		break;
	}
}

/*
 * An address learned from DNS counts as a full-length prefix: it beats
 * every shorter CIDR rule, and ties with a /32 (/128) one, where deny wins.
 */
static __always_inline void consult_learned(const struct net_req *q, struct net_verdict *v)
{
	struct wd_net_addr_key key = { .agent = agent_id, .family = q->v6 ? AF_INET6 : AF_INET };
	struct wd_net_learned *l;
	__u8 full = q->v6 ? 128 : 32;

	/* Only the resolver (dns_port set: the policy has host rules) fills the map. */
	if (!dns_port || q->right != WD_NET_CONNECT)
		return;
	__builtin_memcpy(key.addr, q->addr, sizeof(key.addr));
	l = bpf_map_lookup_elem(&net_learned, &key);
	if (!l || bpf_ktime_get_boot_ns() > l->expires_ns)
		return;
	for (int i = 0; i < WD_NET_LEARNED_ENTRIES; i++) {
		const struct wd_net_entry *e = &l->e[i];

		if (i >= l->count)
			break;
		if (!entry_matches(e, q))
			continue;
		if (v->matched && v->prefix >= full && (v->action == WD_ACT_DENY || e->action != WD_ACT_DENY))
			return;	/* a full-length CIDR rule ties: deny wins, else first */
		v->rule = e->rule;
		v->action = e->action;
		v->audit = e->audit;
		v->prefix = full;
		v->matched = 1;
		return;
	}
}

/* State of the walk up from the executable, for bpf_loop (verified once). */
struct exe_walk {
	struct exe_scratch *s;
	struct dentry *d;
	struct vfsmount *mnt;
	struct mount *m;
	__u32 pos;		/* where the path built so far starts in s->tmp */
	__u32 failed;		/* too long: rather no path than a wrong one */
};

static long exe_step(__u32 i, void *arg)
{
	struct exe_walk *w = arg;
	/* Locals: CO-RE reads must not relocate through struct exe_walk. */
	struct dentry *d = w->d, *parent;
	struct vfsmount *mnt = w->mnt;
	struct mount *m = w->m, *up;
	const unsigned char *name;
	__u32 len;

	if (d == BPF_CORE_READ(mnt, mnt_root)) {
		up = BPF_CORE_READ(m, mnt_parent);
		if (up == m)
			return 1;	/* the namespace's root */
		w->d = BPF_CORE_READ(m, mnt_mountpoint);
		w->m = up;
		w->mnt = &up->mnt;
		return 0;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (parent == d)
		return 1;
	len = BPF_CORE_READ(d, d_name.len) & 255;
	name = BPF_CORE_READ(d, d_name.name);
	if (len + 1 > w->pos) {
		w->failed = 1;
		return 1;
	}
	w->pos -= len;
	bpf_probe_read_kernel(&w->s->tmp[w->pos & (EXE_BUF - 1)], len, name);
	w->pos--;
	w->s->tmp[w->pos & (EXE_BUF - 1)] = '/';
	w->d = parent;
	return 0;
}

/* The current task's executable's path into s->path; its length, 0 if unknown. */
static __always_inline __u32 exe_path(struct exe_scratch *s, struct task_struct *task)
{
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	struct exe_walk w = { .s = s, .pos = EXE_BUF };
	__u32 len;

	if (!exe)
		return 0;
	{
		struct vfsmount *mnt = BPF_CORE_READ(exe, f_path.mnt);

		w.d = BPF_CORE_READ(exe, f_path.dentry);
		w.mnt = mnt;
		w.m = container_of(mnt, struct mount, mnt);
	}
	bpf_loop(EXE_DEPTH, exe_step, &w, 0);
	if (w.failed || w.pos >= EXE_BUF)
		return 0;
	len = EXE_BUF - w.pos;
	bpf_probe_read_kernel(s->path, len & (EXE_BUF - 1), &s->tmp[w.pos & (EXE_BUF - 1)]);
	return len & (EXE_BUF - 1);
}

static __always_inline void emit(const struct net_req *q, const struct net_verdict *v, __u8 decision)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	struct exe_scratch *s;
	struct wd_event *ev;
	__u32 zero = 0, exe_len;

	if (!rate_ok())
		return;
	s = bpf_map_lookup_elem(&exe_scratch, &zero);
	if (!s) {
		count(WD_CNT_LOST_RINGBUF);
		return;
	}
	ev = &s->ev;
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->boot_ns = bpf_ktime_get_boot_ns();
	ev->type = WD_EV_NET;
	ev->agent = agent_id;
	ev->pid = pid_tgid >> 32;
	ev->tid = (__u32)pid_tgid;
	ev->ppid = BPF_CORE_READ(task, real_parent, tgid);
	ev->uid = (__u32)uid_gid;
	ev->gid = uid_gid >> 32;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	ev->rule = v->rule;
	ev->right = q->right;
	ev->decision = decision;
	ev->aux = q->sotype;
	ev->family = q->v6 ? AF_INET6 : AF_INET;
	ev->proto = q->proto;
	ev->port = q->port;
	__builtin_memcpy(ev->addr, q->addr, sizeof(ev->addr));
	exe_len = exe_path(s, task);
	ev->exe_len = exe_len;
	if (bpf_ringbuf_output(&events, ev, sizeof(*ev) + (exe_len & (EXE_BUF - 1)), 0))
		count(WD_CNT_LOST_RINGBUF);
}

/* 1: let the call go on; 0: refuse it (the caller gets EPERM). */
static __always_inline int decide(const struct net_req *q)
{
	struct wd_net_key key = {
		.prefixlen = WD_NET_FIXED_BITS + (q->v6 ? 128 : 32),
		.agent = agent_id,
		.kind = WD_NET_KIND(q->v6, q->right),
	};
	struct net_verdict v = { .rule = WD_RULE_DEFAULT, .action = WD_ACT_DENY };
	struct wd_net_node *n;
	bool deny;

	__builtin_memcpy(key.addr, q->addr, sizeof(key.addr));
	n = bpf_map_lookup_elem(&net_rules, &key);
	if (n)
		scan_node(n, q, &v);	/* no node: the map is not filled in, deny */
	consult_learned(q, &v);
	deny = v.action != WD_ACT_ALLOW;
	if (!deny) {
		if (v.audit)
			emit(q, &v, WD_DEC_ALLOW);
		return 1;
	}
	if (agent_mode == WD_MODE_AUDIT) {
		emit(q, &v, WD_DEC_AUDIT);
		return 1;
	}
	emit(q, &v, WD_DEC_DENY);
	return 0;
}

static __always_inline __u8 proto_of(__u32 type, __u32 protocol)
{
	if (type == SOCK_STREAM)
		return WD_PROTO_TCP;
	if (type == SOCK_DGRAM && (protocol == IPPROTO_UDP || protocol == 0))
		return WD_PROTO_UDP;
	return WD_PROTO_OTHER;
}

static __always_inline void req_v4(struct net_req *q, __u32 ip, __u32 port, struct bpf_sock_addr *ctx)
{
	__builtin_memset(q, 0, sizeof(*q));
	__builtin_memcpy(q->addr, &ip, 4);
	q->port = bpf_ntohs((__u16)port);
	q->proto = proto_of(ctx->type, ctx->protocol);
	q->sotype = ctx->type << 16 | (ctx->protocol & 0xffff);
}

/* ctx->FIELD = v as one store at ctx's own register and a constant
 * offset: the verifier refuses a store through a pointer derived from ctx,
 * which is what clang may make of a field write next to field reads. */
#define ctx_store_u32(ctx, field, v)						\
	asm volatile("*(u32 *)(%[c] + %[o]) = %[x]" ::[c] "r"(ctx),		\
		     [o] "i"(__builtin_offsetof(struct bpf_sock_addr, field)), [x] "r"((__u32)(v)))

/*
 * @outbound: a destination. The unspecified address as a destination is
 * where the kernel sends it: loopback (ip_route_output_key_hash_rcu() and
 * tcp_v6_connect() turn 0.0.0.0 and :: into 127.0.0.1 and ::1 when the
 * socket has no source address; with one, into that local address). Judged
 * as written, a policy that allows 0.0.0.0/0 but denies a loopback port
 * would be stepped around: the destination is rewritten to loopback (ctx
 * too, so that is where it goes), and that is judged.
 */
static __always_inline void req_v6(struct net_req *q, struct bpf_sock_addr *ctx, bool outbound)
{
	__u32 a[4];

	__builtin_memset(q, 0, sizeof(*q));
	a[0] = ctx->user_ip6[0];
	a[1] = ctx->user_ip6[1];
	a[2] = ctx->user_ip6[2];
	a[3] = ctx->user_ip6[3];
	if (outbound && !(a[0] | a[1] | a[3]) && (a[2] == 0 || a[2] == bpf_htonl(0xffff))) {
		/* :: -> ::1, ::ffff:0.0.0.0 -> 127.0.0.1 */
		a[3] = a[2] ? bpf_htonl(0x7f000001) : bpf_htonl(1);
		ctx_store_u32(ctx, user_ip6[3], a[3]);
	}
	if (a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff)) {
		__builtin_memcpy(q->addr, &a[3], 4);	/* v4-mapped: judged as IPv4 */
	} else {
		__builtin_memcpy(q->addr, a, 16);
		q->v6 = 1;
	}
	q->port = bpf_ntohs((__u16)ctx->user_port);
	q->proto = proto_of(ctx->type, ctx->protocol);
	q->sotype = ctx->type << 16 | (ctx->protocol & 0xffff);
}

/* ---- DNS redirect -------------------------------------------------------- */

static __always_inline bool is_dns(const struct net_req *q)
{
	return dns_port && q->port == 53 && q->proto != WD_PROTO_OTHER;
}

/*
 * Who is sending, into the socket's dns_sock. The local port is not known
 * yet on every path (a TCP or UDP connect() binds it after this hook), so
 * the egress program publishes it once the packet has its source.
 */
static __always_inline bool note_asker(struct bpf_sock_addr *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	struct dns_sock *ds;

	ds = bpf_sk_storage_get(&dns_sock, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!ds)
		return false;
	ds->who.boot_ns = bpf_ktime_get_boot_ns();
	ds->who.pid = pid_tgid >> 32;
	ds->who.tid = (__u32)pid_tgid;
	ds->who.ppid = BPF_CORE_READ(task, real_parent, tgid);
	ds->who.uid = (__u32)uid_gid;
	ds->who.gid = uid_gid >> 32;
	bpf_get_current_comm(ds->who.comm, sizeof(ds->who.comm));
	return true;
}

/* Remember where the query was going and who sent it, then send it to warden's resolver. */
static __always_inline int redirect_dns(struct bpf_sock_addr *ctx, const struct net_req *q,
					bool ip6_ctx)
{
	struct wd_dns_orig *o;

	if (!ctx->sk)
		return 0;
	o = bpf_sk_storage_get(&dns_orig, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o)
		return 0;	/* cannot undo the rewrite for the reply: refuse */
	if (!note_asker(ctx))
		return 0;	/* the query could not be attributed: refuse, like the above */
	__builtin_memcpy(o->addr, q->addr, sizeof(o->addr));
	o->port = bpf_htons(53);
	o->family = q->v6 ? AF_INET6 : AF_INET;
	if (!ip6_ctx) {
		ctx->user_ip4 = bpf_htonl(0x7f000001);
	} else if (q->v6) {
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = 0;
		ctx->user_ip6[3] = bpf_htonl(1);
	} else {
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = bpf_htonl(0xffff);
		ctx->user_ip6[3] = bpf_htonl(0x7f000001);
	}
	ctx->user_port = bpf_htons(dns_port);
	return 1;
}

/* A reply from warden's resolver: show the server the agent asked. */
static __always_inline void restore_dns(struct bpf_sock_addr *ctx, bool ip6_ctx)
{
	struct wd_dns_orig *o;
	__u32 a;

	if (!dns_port || ctx->user_port != bpf_htons(dns_port) || !ctx->sk)
		return;
	o = bpf_sk_storage_get(&dns_orig, ctx->sk, 0, 0);
	if (!o)
		return;
	if (!ip6_ctx) {
		if (ctx->user_ip4 != bpf_htonl(0x7f000001) || o->family != AF_INET)
			return;
		__builtin_memcpy(&a, o->addr, 4);
		ctx->user_ip4 = a;
	} else if (o->family == AF_INET6) {
		if (ctx->user_ip6[0] || ctx->user_ip6[1] || ctx->user_ip6[2] ||
		    ctx->user_ip6[3] != bpf_htonl(1))
			return;
		__builtin_memcpy(&a, o->addr, 4);
		ctx->user_ip6[0] = a;
		__builtin_memcpy(&a, o->addr + 4, 4);
		ctx->user_ip6[1] = a;
		__builtin_memcpy(&a, o->addr + 8, 4);
		ctx->user_ip6[2] = a;
		__builtin_memcpy(&a, o->addr + 12, 4);
		ctx->user_ip6[3] = a;
	} else {
		if (ctx->user_ip6[0] || ctx->user_ip6[1] || ctx->user_ip6[2] != bpf_htonl(0xffff) ||
		    ctx->user_ip6[3] != bpf_htonl(0x7f000001))
			return;
		__builtin_memcpy(&a, o->addr, 4);
		ctx->user_ip6[3] = a;
	}
	ctx->user_port = o->port;
}

/* ---- who asked ------------------------------------------------------------ */

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

/*
 * The key the resolver will look up for this packet, if it is a query to
 * the resolver: its source as the resolver will see it. From the headers,
 * not the socket: an unconnected UDP socket has no source address of its own.
 * Returns the family index (0 IPv4, 1 IPv6), or -1 for any other packet.
 */
static __always_inline int asker_key(struct __sk_buff *skb, struct wd_dns_asker_key *k)
{
	__u8 h[40];
	__u16 ports[2];
	__u32 off;
	int fam;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, 0, h, 20))
			return -1;
		/* to 127.0.0.1, and the first fragment (the one with the ports) */
		if (h[16] != 127 || h[17] || h[18] || h[19] != 1 || ((h[6] & 0x1f) | h[7]))
			return -1;
		k->proto = h[9];
		off = (h[0] & 0xf) * 4;
		__builtin_memcpy(k->addr, h + 12, 4);
		k->family = AF_INET;
		fam = 0;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		__u64 d[2];

		if (bpf_skb_load_bytes(skb, 0, h, 40))
			return -1;
		__builtin_memcpy(d, h + 24, 16);
		if (d[0] || d[1] != bpf_cpu_to_be64(1))
			return -1;	/* to ::1 only (extension headers: not ours) */
		k->proto = h[6];
		off = 40;
		__builtin_memcpy(k->addr, h + 8, 16);
		k->family = AF_INET6;
		fam = 1;
	} else {
		return -1;
	}
	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
		return -1;
	if (bpf_skb_load_bytes(skb, off & 0x3f, ports, sizeof(ports)) ||
	    ports[1] != bpf_htons(dns_port))
		return -1;
	k->port = bpf_ntohs(ports[0]);
	k->proto = k->proto == IPPROTO_TCP ? WD_PROTO_TCP : WD_PROTO_UDP;
	return fam;
}

/*
 * Every packet the agent sends passes here; only those of redirected
 * sockets (dns_sock present) to the resolver publish their sender. For UDP
 * this runs before the datagram is queued to the resolver, for TCP before
 * the SYN: the record is in place before the resolver can look.
 */
SEC("cgroup_skb/egress")
int wd_dns_egress(struct __sk_buff *skb)
{
	struct wd_dns_asker_key k = {};
	struct bpf_sock *sk = skb->sk;
	struct dns_sock *ds;
	int fam;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	ds = bpf_sk_storage_get(&dns_sock, sk, 0, 0);
	if (!ds)
		return 1;
	fam = asker_key(skb, &k);
	if (fam < 0)
		return 1;
	/* A failed update leaves the query unattributed (pid 0), never dropped. */
	bpf_map_update_elem(&dns_askers, &k, &ds->who, BPF_ANY);
	ds->key[fam & 1] = k;
	ds->keyed[fam & 1] = 1;
	return 1;
}

/*
 * A redirected socket closes: its port may go to someone else, whose
 * queries must not be taken for this process's.
 */
SEC("cgroup/sock_release")
int wd_dns_release(struct bpf_sock *sk)
{
	struct dns_sock *ds = bpf_sk_storage_get(&dns_sock, sk, 0, 0);

	if (!ds)
		return 1;
	if (ds->keyed[0])
		bpf_map_delete_elem(&dns_askers, &ds->key[0]);
	if (ds->keyed[1])
		bpf_map_delete_elem(&dns_askers, &ds->key[1]);
	return 1;
}

/* ---- hooks --------------------------------------------------------------- */

/*
 * The unspecified address, as a destination, is where the kernel sends it:
 * loopback (ip_route_output_key_hash_rcu() and tcp_v6_connect() turn
 * 0.0.0.0 and :: into 127.0.0.1 and ::1 when the socket has no source
 * address; with one, to that local address). Judged as it was written, a
 * policy that allows 0.0.0.0/0 but denies a loopback port would be stepped
 * around: the destination is rewritten to loopback, and that is judged.
 */
/* ctx->FIELD = v as one store at ctx's own register and a constant
 * offset: the verifier refuses a store through a pointer derived from ctx,
 * which is what clang may make of a field write next to field reads. */
#define ctx_store_u32(ctx, field, v)						\
	asm volatile("*(u32 *)(%[c] + %[o]) = %[x]" ::[c] "r"(ctx),		\
		     [o] "i"(__builtin_offsetof(struct bpf_sock_addr, field)), [x] "r"((__u32)(v)))

static __always_inline int outbound4(struct bpf_sock_addr *ctx)
{
	struct net_req q;
	__u32 ip = ctx->user_ip4;

	if (ip == 0) {	/* 0.0.0.0 -> 127.0.0.1 (req_v6()) */
		ip = bpf_htonl(0x7f000001);
		ctx_store_u32(ctx, user_ip4, ip);
	}
	req_v4(&q, ip, ctx->user_port, ctx);
	q.right = WD_NET_CONNECT;
	if (is_dns(&q))
		return redirect_dns(ctx, &q, false);
	return decide(&q);
}

static __always_inline int outbound6(struct bpf_sock_addr *ctx)
{
	struct net_req q;

	req_v6(&q, ctx, true);
	q.right = WD_NET_CONNECT;
	if (is_dns(&q))
		return redirect_dns(ctx, &q, true);
	return decide(&q);
}

SEC("cgroup/connect4")
int wd_connect4(struct bpf_sock_addr *ctx)
{
	return outbound4(ctx);
}

SEC("cgroup/connect6")
int wd_connect6(struct bpf_sock_addr *ctx)
{
	return outbound6(ctx);
}

SEC("cgroup/sendmsg4")
int wd_sendmsg4(struct bpf_sock_addr *ctx)
{
	return outbound4(ctx);
}

SEC("cgroup/sendmsg6")
int wd_sendmsg6(struct bpf_sock_addr *ctx)
{
	return outbound6(ctx);
}

SEC("cgroup/bind4")
int wd_bind4(struct bpf_sock_addr *ctx)
{
	struct net_req q;

	req_v4(&q, ctx->user_ip4, ctx->user_port, ctx);
	q.right = WD_NET_BIND;
	return decide(&q);
}

SEC("cgroup/bind6")
int wd_bind6(struct bpf_sock_addr *ctx)
{
	struct net_req q;

	req_v6(&q, ctx, false);
	q.right = WD_NET_BIND;
	return decide(&q);
}

/*
 * The option walk's state (map memory: see struct ipopt_walk). Where BPF
 * programs are preemptible another task's setsockopt can take this CPU's
 * copy in the middle of a walk: the walk claims it, and a walk that lost
 * its claim refuses (fail closed).
 */
struct ipopt_scratch {
	__u64 owner;		/* pid_tgid of the walk using it */
	struct ipopt_walk w;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ipopt_scratch);
} ipopt_scratch SEC(".maps");

/* Does this setsockopt set a source route (or could its walk not be trusted)? */
static __always_inline bool setsockopt_source_route(struct bpf_sockopt *ctx)
{
	__u64 me = bpf_get_current_pid_tgid();
	__u8 *p = ctx->optval, *end = ctx->optval_end;
	struct ipopt_scratch *s;
	__u32 zero = 0, len;
	bool found;

	len = ctx->optlen > 0 ? ctx->optlen : 0;
	if (ctx->level != WD_SOL_IP || ctx->optname != WD_IP_OPTIONS)	/* no walk needed */
		return sets_source_route(ctx->level, ctx->optname, NULL, len);
	s = bpf_map_lookup_elem(&ipopt_scratch, &zero);
	if (!s)
		return true;
	s->owner = me;
	__builtin_memset(s->w.o, 0, sizeof(s->w.o));
	/* Straight-line copy: no state forks on the (unknown) length. */
#pragma unroll
	for (int i = 0; i < WD_IPOPT_MAX; i++) {
		if (p + i + 1 > end)
			break;
		s->w.o[i] = p[i];
	}
	found = sets_source_route(ctx->level, ctx->optname, &s->w, len);
	return found || s->owner != me;
}

/*
 * setsockopt of a source route (bpf/srcroute.h): refused, as a network
 * event of the socket's protocol with rule network.source_route. The
 * kernel copied the first page of the value for this program.
 */
SEC("cgroup/setsockopt")
int wd_setsockopt(struct bpf_sockopt *ctx)
{
	struct net_verdict v = { .rule = WD_RULE_SOURCE_ROUTE, .action = WD_ACT_DENY };
	struct bpf_sock *sk;
	struct net_req q;

	if (ctx->level != WD_SOL_IP && ctx->level != WD_SOL_IPV6)
		return 1;
	if (!setsockopt_source_route(ctx))
		return 1;
	__builtin_memset(&q, 0, sizeof(q));
	sk = ctx->sk;
	if (sk) {
		q.v6 = sk->family == AF_INET6;
		q.proto = proto_of(sk->type, sk->protocol);
		q.sotype = sk->type << 16 | (sk->protocol & 0xffff);
	}
	q.right = WD_NET_CONNECT;
	if (agent_mode == WD_MODE_AUDIT) {
		emit(&q, &v, WD_DEC_AUDIT);
		return 1;
	}
	emit(&q, &v, WD_DEC_DENY);
	return 0;
}

SEC("cgroup/recvmsg4")
int wd_recvmsg4(struct bpf_sock_addr *ctx)
{
	restore_dns(ctx, false);
	return 1;
}

SEC("cgroup/recvmsg6")
int wd_recvmsg6(struct bpf_sock_addr *ctx)
{
	restore_dns(ctx, true);
	return 1;
}

SEC("cgroup/getpeername4")
int wd_getpeername4(struct bpf_sock_addr *ctx)
{
	restore_dns(ctx, false);
	return 1;
}

SEC("cgroup/getpeername6")
int wd_getpeername6(struct bpf_sock_addr *ctx)
{
	restore_dns(ctx, true);
	return 1;
}

SEC("cgroup/sock_create")
int wd_sock_create(struct bpf_sock *sk)
{
	struct net_verdict v = { .rule = WD_RULE_DEFAULT, .action = WD_ACT_DENY };
	struct net_req q = {};
	__u32 type = sk->type, protocol = sk->protocol;

	if (raw_allowed)
		return 1;
	if ((type == SOCK_STREAM && (protocol == IPPROTO_TCP || protocol == IPPROTO_MPTCP ||
				     protocol == 0)) ||
	    (type == SOCK_DGRAM && (protocol == IPPROTO_UDP || protocol == 0)))
		return 1;
	q.v6 = sk->family == AF_INET6;
	q.proto = WD_PROTO_OTHER;
	q.right = WD_NET_RAW;
	q.sotype = type << 16 | (protocol & 0xffff);
	if (agent_mode == WD_MODE_AUDIT) {
		emit(&q, &v, WD_DEC_AUDIT);
		return 1;
	}
	emit(&q, &v, WD_DEC_DENY);
	return 0;
}
