/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Warden: the one place where kernel and userspace agree on data layout.
 * Included by the BPF programs (after vmlinux.h) and by userspace (after
 * <linux/types.h>). Fixed-width types only; every field says what it means.
 */
#ifndef WARDEN_H
#define WARDEN_H

/* File rights, as bit numbers. The order is the policy language's order. */
enum wd_right {
	WD_RIGHT_READ = 0,	/* open for reading, list a directory */
	WD_RIGHT_WRITE = 1,	/* modify content, mode, owner, times, xattrs */
	WD_RIGHT_CREATE = 2,	/* new file, directory, link, node; rename target */
	WD_RIGHT_DELETE = 3,	/* unlink, rmdir; rename source */
	WD_RIGHT_EXEC = 4,	/* execute, or map executable */
	WD_RIGHT_COUNT = 5,
};

/* A compiled decision for one right. */
enum wd_action {
	WD_ACT_NONE = 0,	/* no rule says anything (only in compiler input) */
	WD_ACT_ALLOW = 1,
	WD_ACT_DENY = 2,
};

/* Rule index meaning "the policy's default decided". */
#define WD_RULE_DEFAULT 0xffffffffu

/* Limits. Beyond them the compiler refuses the policy (never truncates). */
#define WD_NAME_MAX 255		/* one path component, as in NAME_MAX */
#define WD_NAME_WORDS 32	/* (WD_NAME_MAX + 1) / 8: a name in 64-bit words */
#define WD_PATH_MAX 4096	/* one policy path, as in PATH_MAX */
#define WD_RULE_DEPTH_MAX 64	/* components in one rule path */
#define WD_WALK_MAX 1024	/* dentries walked for one access; deeper = deny */
#define WD_NODES_MAX 262144	/* compiled path nodes for one load */
#define WD_AGENTS_MAX 1024	/* agent instances one load can track */

/* Effective decision for one right at one place in the path tree. */
struct wd_verdict {
	__u32 rule;		/* deciding rule index in file.rules, or WD_RULE_DEFAULT */
	__u8 action;		/* enum wd_action; never NONE once compiled */
	__u8 audit;		/* 1: report even when allowed ("audit": true) */
	__u16 pad;
};

/*
 * The policy's paths are compiled into a tree of components. Each node is
 * found by (its parent's id, hash and length of its own name); the value
 * repeats the name so the kernel confirms the match byte for byte (the hash
 * only finds, it never decides). A policy's root node ("/") is stored under
 * { .parent = 0, .len = 0, .hash = root node id }.
 */
struct wd_node_key {
	__u32 parent;		/* parent node id; node ids start at 1 */
	__u32 len;		/* length of the component name in bytes */
	__u64 hash;		/* wd_name_hash() of the component name */
};

struct wd_node {
	__u32 id;		/* this node's id (parent of its children) */
	__u8 subtree_allow;	/* bit per right: subtree[r].action == ALLOW */
	__u8 exact_allow;	/* bit per right: exact[r].action == ALLOW */
	__u16 pad;
	/* For this directory and everything below it, unless a deeper node
	 * decides: ancestors and the default are already folded in. */
	struct wd_verdict subtree[WD_RIGHT_COUNT];
	/* For exactly this path: an exact rule, or else subtree[]. */
	struct wd_verdict exact[WD_RIGHT_COUNT];
	char name[WD_NAME_WORDS * 8];	/* the component, zero-padded */
};

/* Agent modes. */
enum wd_mode {
	WD_MODE_ENFORCE = 0,
	WD_MODE_AUDIT = 1,	/* deny nothing, report would-be denials */
};

#define WD_AGENT_FILELESS_EXEC 0x1	/* "fileless_exec": "allow" */
#define WD_AGENT_NET 0x2		/* the policy has a "network" section: it restricts */
#define WD_AGENT_RAW 0x4		/* "raw": "allow": raw and packet sockets allowed */
#define WD_AGENT_NO_ABSTRACT 0x8	/* abstract unix sockets outside the instance denied */
#define WD_AGENT_NETGATE 0x10		/* daemon: no IP traffic outside the agent's network cgroups */
#define WD_AGENT_AUTOBIND4 0x20	/* the policy allows bind of TCP port 0 on 0.0.0.0: listen() unbound, IPv4 */
#define WD_AGENT_AUTOBIND6 0x40	/* the same on :: (an IPv6 socket unbound: both needed, it takes IPv4 too) */

/* Per agent instance, indexed by agent id (array map). */
struct wd_agent {
	__u32 root_node;	/* node id of "/" in this agent's policy; 0 = slot unused */
	__u32 mode;		/* enum wd_mode */
	__u32 flags;		/* WD_AGENT_* */
	__u32 match;		/* warden daemon: WD_MATCH_* kinds the policy's "match" lists */
	__u32 pad;		/* zero */
	__u64 caps_granted;	/* bit per capability of WD_CAPS_GRANTABLE the policy gives back */
};

/*
 * Capabilities an agent loses over the host (checked against the initial
 * user namespace), bit per CAP_* number: each serves only an escape or an
 * action on the whole host (docs/protections.md says what each removal
 * prevents). Those in WD_CAPS_GRANTABLE a policy may give back by name
 * ("capabilities"); the others are protections no policy lifts.
 */
#define WD_CAP(n) (1ull << (n))
#define WD_CAPS_GRANTABLE                                                                  \
	(WD_CAP(12) /* NET_ADMIN */ | WD_CAP(20) /* SYS_PACCT */ | WD_CAP(22) /* SYS_BOOT */ | \
	 WD_CAP(25) /* SYS_TIME */ | WD_CAP(26) /* SYS_TTY_CONFIG */ |                       \
	 WD_CAP(30) /* AUDIT_CONTROL */ | WD_CAP(35) /* WAKE_ALARM */)
#define WD_CAPS_REMOVED                                                                    \
	(WD_CAPS_GRANTABLE | WD_CAP(16) /* SYS_MODULE */ | WD_CAP(17) /* SYS_RAWIO */ |      \
	 WD_CAP(32) /* MAC_OVERRIDE */ | WD_CAP(33) /* MAC_ADMIN */)

/*
 * Rule paths that exist at load time are also known by identity, so that an
 * alias (bind mount, hard link to an exact-rule file, a path through another
 * mount namespace) meets the same rules: the kernel checks every dentry it
 * walks against this map, and the verdict by identity must allow too.
 */
struct wd_inode_key {
	__u64 ino;		/* inode number */
	__u32 dev;		/* superblock s_dev, kernel encoding (MKDEV 20:12) */
	__u32 root;		/* root node id of the policy the rule belongs to */
};

/*
 * A filter in front of the inodes map: bit wd_id_filter_slot(ino, dev) of
 * the BPF global id_filter[] is set (by userspace, before it inserts the
 * key) for every rule object of every policy, and never cleared. A path
 * walk looks a component's inode up in the map only when its bit is set:
 * most components are no rule object, and a bit test costs far less than
 * a hash map lookup. A stale bit only costs that lookup.
 */
#define WD_ID_FILTER_BITS 20	/* 2^20 bits: 128 KiB */
#define WD_ID_FILTER_WORDS (1u << (WD_ID_FILTER_BITS - 6))

static inline __u32 wd_id_filter_slot(__u64 ino, __u32 dev)
{
	return (ino * 0x9e3779b97f4a7c15ull ^ (__u64)dev * 0xc2b2ae3d27d4eb4full) >>
	       (64 - WD_ID_FILTER_BITS);
}

/* Stored in task local storage of every task that belongs to an agent. */
struct wd_task {
	__u32 agent;		/* agent id, index into the agents map */
	__u32 flags;		/* reserved */
};

/* In a protected_inodes value, with the enum wd_tamper kind: a directory whose entries are protected too. */
#define WD_PROTECT_CHILDREN 0x100

/* Ring buffer records. */
enum wd_event_type {
	WD_EV_FILE = 1,		/* a file access decision (read, write, create, delete) */
	WD_EV_EXEC = 2,		/* an exec decision: execve, interpreter, PROT_EXEC map */
	WD_EV_TAMPER = 3,	/* a protection every agent has (action: enum wd_tamper) */
	WD_EV_NET = 4,		/* a network decision (right: enum wd_net_right) */
	WD_EV_PROC = 5,		/* an agent process's lifecycle (right: enum wd_proc) */
};

/*
 * Process events. start: pid/tid/ppid/comm/exe are the parent's (at fork),
 * target is the new process's tgid. exec: after a successful exec, exe is
 * the new program. exit: the last thread of a process left; aux is the
 * exit code as wait(2) encodes it (status << 8, or the signal number).
 */
enum wd_proc {
	WD_PROC_START = 0,
	WD_PROC_EXEC = 1,
	WD_PROC_EXIT = 2,
	WD_PROC_BIND = 3,	/* warden daemon: bound to the agent at exec ("match") */
};

/* What a tamper event is about (its "right" field). */
enum wd_tamper {
	WD_TAMPER_BPF = 0,	/* bpf() */
	WD_TAMPER_MODULE = 1,	/* module load or request, kernel file reads, kexec */
	WD_TAMPER_MOUNT = 2,	/* mount, umount, move_mount, pivot_root, chroot */
	WD_TAMPER_CGROUP = 3,	/* cgroup file writes, CLONE_INTO_CGROUP */
	WD_TAMPER_SIGNAL = 4,	/* signal to a process outside the instance */
	WD_TAMPER_PTRACE = 5,	/* ptrace, /proc/PID/mem, process_vm_*, pidfd_getfd */
	WD_TAMPER_TTY = 6,	/* TIOCSTI / TIOCLINUX: typing into another's terminal */
	WD_TAMPER_BPFFS = 7,	/* creating or deleting in the BPF file system */
	WD_TAMPER_KCONFIG = 8,	/* writing the kernel's configuration: sysctl, sysfs, tracefs, ... */
	WD_TAMPER_PERF = 9,	/* perf_event_open: another's memory and registers, kernel tracing */
	WD_TAMPER_EVENTS = 10,	/* writing, truncating or deleting Warden's own events file */
	WD_TAMPER_WARDEN = 11,	/* changing Warden's binary, a policy file, the daemon's policy directory */
	WD_TAMPER_DEVICE = 12,	/* a block device or /dev/mem, /dev/kmem, /dev/port opened; a device node made */
	WD_TAMPER_IPC = 13,	/* a System V IPC object (shm, msg, sem) or POSIX message queue made outside the instance */
	WD_TAMPER_CAPABILITY = 14,	/* a capability of WD_CAPS_REMOVED used over the host */
	WD_TAMPER_RLIMIT = 15,	/* resource limits of a process outside the instance set */
	WD_TAMPER_SCHED = 16,	/* nice, I/O priority, scheduling policy or CPUs of an outsider; aux: enum wd_sched */
	WD_TAMPER_PROC_FILE = 17,	/* a write to an outsider's /proc/PID file (oom_score_adj, ...) */
	WD_TAMPER_NOTIFY = 18,	/* a fanotify mark on a mount or file system, or for permission events */
	WD_TAMPER_UPCALL = 19,	/* the kernel asked to start a helper program for the agent (request_key) */
	WD_TAMPER_KEY = 20,	/* a key or keyring the instance did not make read, written, changed or unlinked; aux: the kernel's key_need_perm */
	WD_TAMPER_COUNT = 21,
};

/* A network event's family for a tun/tap device attached (not a socket). */
#define WD_FAMILY_TUN 255

/* Which scheduling change of an outsider a WD_TAMPER_SCHED event refused (its aux). */
enum wd_sched {
	WD_SCHED_NICE = 0,	/* setpriority(2) */
	WD_SCHED_IOPRIO = 1,	/* ioprio_set(2) */
	WD_SCHED_SCHEDULER = 2,	/* sched_setscheduler/setattr/setparam/setaffinity(2) */
};

#define WD_RULE_FILELESS 0xfffffffeu	/* decided by file.fileless_exec */
#define WD_RULE_SOURCE_ROUTE 0xfffffffdu	/* network event: a source route (srcroute.h), refused */

enum wd_decision {
	WD_DEC_ALLOW = 0,	/* allowed, reported because the rule audits */
	WD_DEC_DENY = 1,	/* denied */
	WD_DEC_AUDIT = 2,	/* would have been denied; agent is in audit mode */
};

/* Event flags. */
#define WD_EVF_PATH_TRUNC 0x1	/* path did not fit; it is a suffix of the real one */
#define WD_EVF_UNRESOLVED 0x2	/* path could not be walked to the root */
#define WD_EVF_FILELESS 0x4	/* exec of an object without a path (memfd, deleted) */
#define WD_EVF_REFER 0x8	/* rename or link refused: it would widen access */
#define WD_EVF_IDENTITY 0x10	/* decided by the identity of a rule's object (alias) */

/*
 * One event: this header, then path_len bytes of path, then exe_len bytes of
 * the executable's path (neither NUL-terminated).
 */
struct wd_event {
	__u64 boot_ns;		/* bpf_ktime_get_boot_ns() at the decision */
	__u32 type;		/* enum wd_event_type */
	__u32 agent;		/* agent id */
	__u32 pid;		/* thread group id, as userspace sees it */
	__u32 tid;		/* thread id */
	__u32 ppid;		/* real parent's thread group id */
	__u32 uid;		/* real uid */
	__u32 gid;		/* real gid */
	__u32 rule;		/* deciding rule index, or WD_RULE_DEFAULT */
	__u8 right;		/* enum wd_right */
	__u8 decision;		/* enum wd_decision */
	__u16 flags;		/* WD_EVF_* */
	__u16 path_len;		/* bytes of path that follow */
	__u16 exe_len;		/* bytes of exe that follow the path */
	char comm[16];		/* task comm */
	__u32 target;		/* tamper: the other process's tgid (signal, ptrace) */
	__u32 aux;		/* tamper: signal number, ptrace mode, ioctl command;
				 * network: the socket's (type << 16 | IP protocol) */
	/* Network events only (zero otherwise). */
	__u8 family;		/* AF_INET, AF_INET6 (v4-mapped is reported as AF_INET), AF_UNIX, AF_PACKET, another AF_* (raw), WD_FAMILY_TUN */
	__u8 proto;		/* enum wd_net_proto */
	__u16 port;		/* host byte order */
	__u8 addr[16];		/* big endian; IPv4 in addr[0..3]; abstract unix: name prefix */
};

#define WD_EVENT_MAX (sizeof(struct wd_event) + 2 * WD_PATH_MAX)

/* ---- network --------------------------------------------------------- */

/* Network rights, as bit numbers (the policy language's "connect", "bind"). */
enum wd_net_right {
	WD_NET_CONNECT = 0,	/* TCP connect, UDP send or connect */
	WD_NET_BIND = 1,	/* bind a local address and port */
	WD_NET_RAW = 2,		/* events only: a raw, packet or other non-TCP/UDP socket */
	WD_NET_UNIX = 3,	/* events only: connect or send to an abstract unix socket */
};

/* Protocols as rules name them; 0 in a rule means any. */
enum wd_net_proto {
	WD_PROTO_ANY = 0,
	WD_PROTO_TCP = 1,	/* TCP and MPTCP */
	WD_PROTO_UDP = 2,
	WD_PROTO_OTHER = 3,	/* events only: raw, packet, ICMP, SCTP, ... */
};

/*
 * CIDR rules compile into one LPM trie. A key is the agent, a "kind" byte
 * (address family and right) and the address; prefixlen counts the fixed
 * 40 bits of agent and kind, then the rule's prefix. Every agent has a /0
 * node per kind, so every lookup finds a node.
 */
#define WD_NET_FIXED_BITS 40
#define WD_NET_KIND(v6, right) ((__u8)((v6) << 1 | (right)))

struct wd_net_key {
	__u32 prefixlen;	/* WD_NET_FIXED_BITS + address prefix length */
	__u32 agent;		/* agent id */
	__u8 kind;		/* WD_NET_KIND(family is IPv6, enum wd_net_right) */
	__u8 addr[16];		/* big endian; IPv4 in addr[0..3], the rest zero */
	__u8 pad[3];
};

/* A rule as seen from one node: ports, protocol, decision. */
struct wd_net_entry {
	__u16 lo, hi;		/* port range, inclusive, host byte order */
	__u8 proto;		/* enum wd_net_proto; ANY matches every protocol */
	__u8 action;		/* WD_ACT_ALLOW or WD_ACT_DENY */
	__u8 audit;		/* 1: report even when allowed */
	__u8 prefix;		/* the rule's prefix length (learned names: 32 or 128) */
	__u32 rule;		/* index in network.rules */
};

#define WD_NET_ENTRIES 32	/* rules that cover one node, counting each port range */

/*
 * The node of a CIDR prefix holds every rule whose prefix contains it
 * (itself and its ancestors), most specific first and deny before allow at
 * the same length: the first entry that matches port and protocol decides,
 * exactly the contract's "longest prefix, deny wins a tie". No match: the
 * policy's default.
 */
struct wd_net_node {
	__u32 count;		/* entries in use */
	__u8 dflt;		/* enum wd_action of network.default */
	__u8 pad[3];
	struct wd_net_entry e[WD_NET_ENTRIES];
};

/* An address learned from an answer of warden's DNS resolver for an allowed name. */
struct wd_net_addr_key {
	__u32 agent;		/* agent id */
	__u32 family;		/* AF_INET or AF_INET6 */
	__u8 addr[16];		/* big endian; IPv4 in addr[0..3] */
};

#define WD_NET_LEARNED_ENTRIES 8	/* host rules' entries for one address */
#define WD_NET_LEARNED_MAX 65536	/* learned addresses per load */

struct wd_net_learned {
	__u64 expires_ns;	/* bpf_ktime_get_boot_ns() after which the entry counts no more */
	__u32 count;		/* entries in use */
	__u32 pad;
	struct wd_net_entry e[WD_NET_LEARNED_ENTRIES];	/* prefix is the full length */
};

/* Per socket (sk storage): where a redirected DNS query was really going. */
struct wd_dns_orig {
	__u8 addr[16];		/* IPv4 in addr[0..3] */
	__u16 port;		/* network byte order */
	__u16 family;		/* AF_INET or AF_INET6 */
};

/* Per-CPU counters (array map "counters"). */
enum wd_counter {
	WD_CNT_LOST_RINGBUF = 0,	/* events dropped: ring buffer full */
	WD_CNT_WALK_FAIL = 1,	/* accesses denied because the path walk failed */
	WD_CNT_TRACK_FAIL = 2,	/* forks refused: child could not be tracked */
	WD_CNT_RATE_LIMITED = 3,	/* events not sent: over the agent's rate limit */
	WD_CNT_VCACHE_FILL = 4,	/* open verdicts put in the cache */
	WD_CNT_DCACHE_SERVED = 5,	/* first opens allowed by their directory's entry, no walk */
	WD_CNT_INTERLEAVED = 6,	/* judgements denied: another task used this CPU's scratch meanwhile */
	WD_CNT_MAX = 7,
};

/*
 * Hash of a path component: FNV-1a over little-endian 64-bit words of the
 * name zero-padded to 4, 8 or 32 words (up to 32, 64, 255 bytes). Used only
 * to find a node; the name itself is compared before a node is trusted.
 */

#define WD_FNV_OFFSET 0xcbf29ce484222325ULL
#define WD_FNV_PRIME 0x100000001b3ULL

/* warden attach: what the attach programs treat as a member (lsm.bpf.c, at the end). */
enum wd_attach_mode {
	WD_ATTACH_OFF = 0,	/* warden run, or attach finished marking a tree */
	WD_ATTACH_TREE = 1,	/* --pid: the process, its threads and descendants */
	WD_ATTACH_CGROUP = 2,	/* --cgroup: every task in the cgroup or below it */
};

/*
 * warden daemon: binding a process to an agent when it execs (the policy's
 * "match"). A policy listing exe paths is found by the program's path (a
 * node tree like a policy's, whose exec verdict's rule field holds the
 * agent id); one listing cgroups but no exe by the cgroup; one listing only
 * uids by the uid. The kinds a policy lists are ANDed: the other kinds
 * are then checked under the agent's own keys.
 */
#define WD_MATCH_EXE 0x1
#define WD_MATCH_CGROUP 0x2
#define WD_MATCH_UID 0x4
#define WD_MATCH_NETCG 0x8	/* key kind only: a cgroup carrying the agent's network programs */

#define WD_MATCH_CLAIM 0xffffffffu	/* wd_match_key.agent: which agent claims the value */

struct wd_match_key {
	__u32 kind;		/* WD_MATCH_CGROUP or WD_MATCH_UID */
	__u32 agent;		/* WD_MATCH_CLAIM, or the agent whose list is checked */
	__u64 value;		/* cgroup id (its directory's inode number), or uid */
};

#define WD_MATCH_MAX 65536	/* entries in the match map */

/* ---- who asked warden's resolver ---------------------------------------- */

/*
 * A redirected DNS query's sender as warden's resolver sees it: the peer of
 * a UDP datagram or of an accepted TCP connection. Written by the cgroup
 * egress program from the packet's own headers, so it is exactly what the
 * resolver's recvfrom() or accept() returns.
 */
struct wd_dns_asker_key {
	__u8 addr[16];		/* the agent socket's source address, big endian; IPv4 in addr[0..3] */
	__u16 port;		/* its source port, host byte order */
	__u8 family;		/* AF_INET or AF_INET6, the packet's (v4-mapped sends are AF_INET) */
	__u8 proto;		/* WD_PROTO_TCP or WD_PROTO_UDP */
};

/* The process that sent it, recorded when the query was redirected (LRU hash "dns_askers"). */
struct wd_dns_asker {
	__u64 boot_ns;		/* bpf_ktime_get_boot_ns() at the redirect */
	__u32 pid;		/* thread group id, as userspace sees it */
	__u32 tid;		/* thread id */
	__u32 ppid;		/* real parent's thread group id */
	__u32 uid;		/* real uid */
	__u32 gid;		/* real gid */
	__u32 pad;
	char comm[16];		/* task comm; the executable's path is read from /proc by pid */
};

#define WD_DNS_ASKERS_MAX 4096	/* senders remembered; the least recently written go first */

#endif /* WARDEN_H */
