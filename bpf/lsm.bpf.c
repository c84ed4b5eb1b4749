// SPDX-License-Identifier: GPL-2.0
/*
 * Warden's BPF LSM programs: who belongs to an agent, and what it may do
 * to files.
 *
 * Identity: every task of an agent instance carries a wd_task in task local
 * storage. Userspace marks the first task (through a pidfd) before it runs
 * a single instruction of the agent's program; task_alloc copies the mark to
 * every new task and thread, so the mark survives fork, exec, setsid and
 * double fork, and can't be shed by the agent.
 *
 * Files: the policy's paths are compiled into a tree of components
 * (struct wd_node). An access walks the object's dentries up to the task's
 * root (crossing mounts), then descends the tree from "/" one component at
 * a time; the deepest node reached decides. Work per access is bounded by
 * the path's depth, never by the number of rules.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "warden.h"

char LICENSE[] SEC("license") = "GPL";

#define EACCES 13
#define ENOMEM 12
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define MNT_INTERNAL 0x4000

/* Set by userspace before load. */
const volatile __u32 warden_tgid = 0;	/* the warden process itself */

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct wd_task);
} tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WD_AGENTS_MAX);
	__type(key, __u32);
	__type(value, struct wd_agent);
} agents SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WD_NODES_MAX);
	__type(key, struct wd_node_key);
	__type(value, struct wd_node);
} nodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);	/* resized by userspace before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WD_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Per-CPU scratch: too big for the 512-byte BPF stack. */
#define WD_EV_DATA (2 * WD_PATH_MAX + 2 * (WD_NAME_MAX + 1))
struct scratch {
	struct dentry *comp[WD_WALK_MAX];	/* leaf first */
	char name[WD_NAME_WORDS * 8];
	struct wd_event ev;
	char data[WD_EV_DATA];			/* path, then exe */
};

_Static_assert(__builtin_offsetof(struct scratch, data) ==
	       __builtin_offsetof(struct scratch, ev) + sizeof(struct wd_event),
	       "event header and data must be adjacent: they go out in one copy");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		*c += 1;
}

static __always_inline struct wd_task *task_mark(struct task_struct *task)
{
	return bpf_task_storage_get(&tasks, task, 0, 0);
}

/* ---- identity ---------------------------------------------------------- */

SEC("lsm/task_alloc")
int BPF_PROG(wd_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	struct wd_task *parent, *child;

	if (ret)
		return ret;
	parent = task_mark(bpf_get_current_task_btf());
	if (!parent)
		return 0;
	child = bpf_task_storage_get(&tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!child) {
		/* A child we cannot mark would run unconfined: refuse the fork. */
		count(WD_CNT_TRACK_FAIL);
		return -ENOMEM;
	}
	*child = *parent;
	return 0;
}

/* ---- path walk --------------------------------------------------------- */

struct walk {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	struct scratch *s;
	__u32 depth;		/* components collected into s->comp */
	bool done;		/* reached the task's root or the global root */
	bool internal;		/* object lives on a kernel-internal mount */
	bool foreign;		/* reached a root that is not the task's root */
};

static long walk_step(__u32 i, void *arg)
{
	struct walk *w = arg;
	struct dentry *d = w->dentry, *parent;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt;

	if (d == w->root_dentry && vfsmnt == w->root_mnt) {
		w->done = true;
		return 1;
	}
	if (d == BPF_CORE_READ(vfsmnt, mnt_root)) {
		struct mount *up;

		mnt = container_of(vfsmnt, struct mount, mnt);
		up = BPF_CORE_READ(mnt, mnt_parent);
		if (up == mnt) {
			/* The top of a mount tree that is not our root. */
			w->done = true;
			w->foreign = true;
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->vfsmnt = &up->mnt;
		return 0;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (parent == d) {
		/* Detached dentry tree (unlinked directory, internal fs). */
		w->done = true;
		w->foreign = true;
		return 1;
	}
	if (w->depth >= WD_WALK_MAX)
		return 1;
	w->s->comp[w->depth & (WD_WALK_MAX - 1)] = d;
	w->depth++;
	w->dentry = parent;
	return 0;
}

/* Collect the components of (@dentry, @vfsmnt), leaf first, into s->comp. */
static __always_inline int walk_path(struct walk *w, struct scratch *s, struct dentry *dentry,
				     struct vfsmount *vfsmnt)
{
	struct task_struct *task = bpf_get_current_task_btf();
	int mnt_flags;

	w->s = s;
	w->dentry = dentry;
	w->vfsmnt = vfsmnt;
	w->root_dentry = BPF_CORE_READ(task, fs, root.dentry);
	w->root_mnt = BPF_CORE_READ(task, fs, root.mnt);
	w->depth = 0;
	w->done = false;
	w->foreign = false;
	mnt_flags = BPF_CORE_READ(vfsmnt, mnt_flags);
	w->internal = mnt_flags & MNT_INTERNAL;
	bpf_loop(2 * WD_WALK_MAX, walk_step, w, 0);
	return w->done ? 0 : -1;
}

/* ---- policy lookup ----------------------------------------------------- */

struct match {
	struct scratch *s;
	struct wd_node *node;	/* deepest node reached */
	__u32 left;		/* components not yet matched; loop index base */
	bool all;		/* every component matched a node */
};

/*
 * Word at a time: at most 32 iterations for the longest name, which keeps
 * both the verifier and the hot path short. Bytes past @len in the last
 * word are masked off, so what follows the name in the buffer never counts.
 */
static __always_inline __u64 name_word(const char *name, __u32 i, __u32 len)
{
	__u64 w = *(const __u64 *)(name + i * 8);

	if (i * 8 + 8 > len)
		w &= (1ULL << ((len & 7) * 8)) - 1;
	return w;
}

static __noinline __u64 name_hash(const char *name, __u32 len)
{
	__u64 h = WD_FNV_OFFSET;

	for (__u32 i = 0; i < WD_NAME_WORDS; i++) {
		if (i * 8 >= len)
			break;
		h ^= name_word(name, i, len);
		h *= WD_FNV_PRIME;
	}
	return h;
}

/* @b is zero-padded (a node's name): compare whole words. */
static __noinline bool name_equal(const char *a, const char *b, __u32 len)
{
	for (__u32 i = 0; i < WD_NAME_WORDS; i++) {
		if (i * 8 >= len)
			break;
		if (name_word(a, i, len) != *(const __u64 *)(b + i * 8))
			return false;
	}
	return true;
}

static long match_step(__u32 i, void *arg)
{
	struct match *m = arg;
	struct scratch *s = m->s;
	struct wd_node_key key = {};
	struct wd_node *child;
	struct dentry *d;
	const unsigned char *name;
	__u32 len;

	if (i >= m->left)
		return 1;
	d = s->comp[(m->left - 1 - i) & (WD_WALK_MAX - 1)];
	len = BPF_CORE_READ(d, d_name.len);
	if (len == 0 || len > WD_NAME_MAX)
		return 1;	/* no rule can name it */
	name = BPF_CORE_READ(d, d_name.name);
	if (bpf_probe_read_kernel(s->name, len & WD_NAME_MAX, name))
		return 1;
	key.parent = m->node->id;
	key.len = len;
	key.hash = name_hash(s->name, len);
	child = bpf_map_lookup_elem(&nodes, &key);
	if (!child || !name_equal(s->name, child->name, len))
		return 1;
	m->node = child;
	if (i + 1 == m->left)
		m->all = true;
	return 0;
}

/* The verdict of @agent's policy for @right on the walked path. */
static __always_inline struct wd_verdict *decide(struct wd_agent *agent, struct scratch *s,
						 __u32 depth, __u32 right)
{
	struct wd_node_key root = { .parent = 0, .len = 0, .hash = agent->root_node };
	struct match m = { .s = s, .left = depth };

	m.node = bpf_map_lookup_elem(&nodes, &root);
	if (!m.node)
		return NULL;
	m.all = depth == 0;
	bpf_loop(WD_WALK_MAX, match_step, &m, 0);
	if (right >= WD_RIGHT_COUNT)
		return NULL;
	return m.all ? &m.node->exact[right] : &m.node->subtree[right];
}

/* ---- events ------------------------------------------------------------ */

struct emit {
	struct scratch *s;
	__u32 off;		/* bytes written to s->data */
	__u32 limit;		/* stop before this offset */
	__u32 left;		/* components still to write, root side first */
	bool trunc;
};

static long emit_step(__u32 i, void *arg)
{
	struct emit *e = arg;
	struct scratch *s = e->s;
	struct dentry *d;
	__u32 len;
	long n;

	if (i >= e->left)
		return 1;
	if (e->off + WD_NAME_MAX + 1 >= e->limit) {
		e->trunc = true;
		return 1;
	}
	d = s->comp[(e->left - 1 - i) & (WD_WALK_MAX - 1)];
	len = BPF_CORE_READ(d, d_name.len);
	s->data[e->off & (2 * WD_PATH_MAX - 1)] = '/';
	e->off++;
	n = bpf_probe_read_kernel(&s->data[e->off & (2 * WD_PATH_MAX - 1)], len & WD_NAME_MAX,
				  BPF_CORE_READ(d, d_name.name));
	if (n == 0)
		e->off += len & WD_NAME_MAX;
	return 0;
}

/* Append the walked path (s->comp, @depth components) to s->data. */
static __always_inline __u32 emit_path(struct scratch *s, __u32 off, __u32 depth, bool *trunc)
{
	struct emit e = { .s = s, .off = off, .limit = off + WD_PATH_MAX, .left = depth };

	if (depth == 0) {
		s->data[off & (2 * WD_PATH_MAX - 1)] = '/';
		return 1;
	}
	bpf_loop(WD_WALK_MAX, emit_step, &e, 0);
	if (e.trunc)
		*trunc = true;
	return e.off - off;
}

static __always_inline void fill_task(struct wd_event *ev, __u32 agent)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	ev->boot_ns = bpf_ktime_get_boot_ns();
	ev->agent = agent;
	ev->pid = pid_tgid >> 32;
	ev->tid = (__u32)pid_tgid;
	ev->ppid = BPF_CORE_READ(task, real_parent, tgid);
	ev->uid = (__u32)uid_gid;
	ev->gid = uid_gid >> 32;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
}

/*
 * Report a file decision. s->comp holds the walk of the object (@depth
 * components); the exe walk reuses it, so the object's path goes first.
 * A global function: the verifier checks it once, not at every caller.
 */
#define EMIT_WHAT(right, decision, flags) ((right) | (decision) << 8 | (flags) << 16)

__noinline int wd_emit(__u32 agent, __u32 what, __u32 rule, __u32 depth)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct scratch *s;
	struct wd_event *ev;
	struct file *exe;
	struct walk xw = {};
	bool trunc = false;
	__u32 zero = 0, path_len, exe_len = 0, total;

	s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s)
		return 0;
	ev = &s->ev;
	fill_task(ev, agent);
	ev->type = WD_EV_FILE;
	ev->right = what & 0xff;
	ev->decision = (what >> 8) & 0xff;
	ev->rule = rule;
	ev->flags = what >> 16;
	path_len = emit_path(s, 0, depth, &trunc);
	exe = BPF_CORE_READ(task, mm, exe_file);
	if (exe && walk_path(&xw, s, BPF_CORE_READ(exe, f_path.dentry),
			     BPF_CORE_READ(exe, f_path.mnt)) == 0)
		exe_len = emit_path(s, path_len, xw.depth, &trunc);
	if (trunc)
		ev->flags |= WD_EVF_PATH_TRUNC;
	ev->path_len = path_len;
	ev->exe_len = exe_len;
	/* Header and data are adjacent in scratch: one copy into the ring. */
	total = sizeof(*ev) + ((path_len + exe_len) & (2 * WD_PATH_MAX - 1));
	if (bpf_ringbuf_output(&events, ev, total, 0))
		count(WD_CNT_LOST_RINGBUF);
	return 0;
}

/* ---- file rights ------------------------------------------------------- */

/*
 * Judge @right on the object at (@dentry, @vfsmnt) for the current task.
 * Returns 0 or -EACCES. Objects on kernel-internal mounts (pipes, sockets,
 * anon inodes reached through /proc/PID/fd) have no path in the policy's
 * namespace: file rules don't judge them. A walk that fails is denied
 * (fail closed). Global: verified once for all callers.
 */
__noinline int wd_check(__u64 dentry, __u64 vfsmnt, __u32 right)
{
	struct wd_task *t = task_mark(bpf_get_current_task_btf());
	struct wd_verdict *v;
	struct wd_agent *agent;
	struct scratch *s;
	struct walk w = {};
	__u32 zero = 0, agent_id, rule, decision, flags = 0;
	bool deny;

	if (!t)
		return 0;
	agent_id = t->agent;
	agent = bpf_map_lookup_elem(&agents, &agent_id);
	s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!agent || !s || !agent->root_node)
		return -EACCES;	/* marked, but no policy: never run unconfined */

	if (walk_path(&w, s, (struct dentry *)dentry, (struct vfsmount *)vfsmnt) == 0 &&
	    w.internal)
		return 0;
	if (!w.done || w.foreign) {
		count(WD_CNT_WALK_FAIL);
		deny = true;
		rule = WD_RULE_DEFAULT;
		flags = WD_EVF_UNRESOLVED;
	} else {
		v = decide(agent, s, w.depth, right);
		if (!v)
			return -EACCES;
		deny = v->action != WD_ACT_ALLOW;
		rule = v->rule;
		if (!deny && !v->audit)
			return 0;
	}
	if (!deny)
		decision = WD_DEC_ALLOW;
	else if (agent->mode == WD_MODE_AUDIT)
		decision = WD_DEC_AUDIT;
	else
		decision = WD_DEC_DENY;
	wd_emit(agent_id, EMIT_WHAT(right, decision, flags), rule, w.depth);
	return decision == WD_DEC_DENY ? -EACCES : 0;
}

static __always_inline int check_file(struct file *file, __u32 right)
{
	return wd_check((__u64)BPF_CORE_READ(file, f_path.dentry),
			(__u64)BPF_CORE_READ(file, f_path.mnt), right);
}

SEC("lsm/file_open")
int BPF_PROG(wd_file_open, struct file *file, int ret)
{
	unsigned int fmode;
	int err;

	if (ret)
		return ret;
	fmode = BPF_CORE_READ(file, f_mode);
	if (fmode & FMODE_READ) {
		err = check_file(file, WD_RIGHT_READ);
		if (err)
			return err;
	}
	if (fmode & FMODE_WRITE)
		return check_file(file, WD_RIGHT_WRITE);
	return 0;
}
