// SPDX-License-Identifier: GPL-2.0
/*
 * Warden's BPF LSM programs: who belongs to an agent, what it may do to
 * files, and what no agent may do at all.
 *
 * Identity: every task of an agent instance carries a wd_task in task local
 * storage. Userspace marks the first task (through a pidfd) before it runs
 * a single instruction of the agent's program; task_alloc copies the mark to
 * every new task and thread, so the mark survives fork, exec, setsid and
 * double fork, and the agent cannot shed it.
 *
 * Files: the policy's paths are compiled into a tree of components
 * (struct wd_node). An access walks the object's dentries up to the task's
 * root (crossing mounts), then descends the tree from "/" one component at
 * a time; the deepest node reached decides. Work per access is bounded by
 * the path's depth, never by the number of rules. Rule objects that existed
 * at load time are also known by inode: any dentry on the walk that is one
 * of them judges the access again from that node, and both must allow, so
 * an alias (bind mount, hard link, another mount namespace) gains nothing.
 *
 * The heavy parts are global functions (wd_judge, wd_emit, ...): the
 * verifier checks each once, however many hooks call it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "warden.h"

char LICENSE[] SEC("license") = "GPL";

#define EPERM 1
#define ENOMEM 12
#define EACCES 13
#define EXDEV 18
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_EXEC 0x20
#define MNT_INTERNAL 0x4000
#define PROT_EXEC 0x4
#define VM_EXEC 0x4
#define CLONE_INTO_CGROUP 0x200000000ULL
#define RENAME_EXCHANGE 0x2
#define TIOCSTI 0x5412
#define TIOCLINUX 0x541c
#define CGROUP_SUPER_MAGIC 0x27e0eb
#define CGROUP2_SUPER_MAGIC 0x63677270
#define BPF_FS_MAGIC 0xcafe4a11
/* The kernel's configuration, as files (include/uapi/linux/magic.h). */
#define PROC_SUPER_MAGIC 0x9fa0
#define MQUEUE_MAGIC 0x19800202
#define SYSFS_MAGIC 0x62656572
#define DEBUGFS_MAGIC 0x64626720
#define TRACEFS_MAGIC 0x74726163
#define SECURITYFS_MAGIC 0x73636673
#define CONFIGFS_MAGIC 0x62656570
#define EFIVARFS_MAGIC 0xde5e81e4
#define BINFMTFS_MAGIC 0x42494e4d
#define SELINUX_MAGIC 0xf97cff8c
#define S_IFMT 00170000
#define S_IFDIR 0040000
#define S_IFBLK 0060000
#define S_IFCHR 0020000

/* wd_judge() flags, above the right in its third argument. */
#define JUDGE_QUIET 0x100	/* no event; return the mask of allowed rights */
#define JUDGE_SKIP_FOREIGN 0x200	/* not under this mount: return 1, no event */
#define JUDGE_SAY_SILENT 0x400	/* an allow with no event returns 1 (the open cache) */
#define JUDGE_CLAIMED 0x800	/* the caller claimed the scratch (scratch_claim()) and keeps state in it */
#define MASK_NODE (1 << 8)	/* in that mask: rules exist at or below this path */

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
	/* Sizes, not BTF types: clang 14 emits wd_node only as a forward declaration. */
	__uint(key_size, sizeof(struct wd_node_key));
	__uint(value_size, sizeof(struct wd_node));
} nodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WD_NODES_MAX);
	__type(key, struct wd_inode_key);
	__type(value, struct wd_node_key);
} inodes SEC(".maps");

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

/* The fields of a dentry a walk step reads (read_dentry()). */
struct dentry_fields {
	struct dentry *parent;
	__u64 hash_len;		/* d_name: hash in the low, length in the high half */
	const unsigned char *name;
	struct inode *inode;
};

struct walk {
	struct dentry_fields f;	/* walk_step(): the dentry read (here, not on the stack) */
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	__u32 depth;		/* components collected into comp_name/comp_len */
	__u32 root_node;	/* policy whose inode rules apply; 0 = none */
	__u32 id_depth;		/* components below the deepest identity match */
	struct wd_node_key id_key;	/* that match's node; .len == ~0 = none */
	/*
	 * A bind mount of a subdirectory: its root's own ancestors in its file
	 * system are no part of the path, yet the object is below them. The
	 * deepest of them that is a rule object (.len == ~0: none), and the
	 * dentry the climb to it is at.
	 */
	struct wd_node_key hidden_key;
	struct dentry *hidden;
	bool hidden_failed;	/* a hidden ancestor could not be read: fail closed */
	struct dentry *mnt_root;	/* vfsmnt's root: read once per mount */
	struct super_block *sb;	/* the last inode's super block, and its */
	__u32 dev;		/* s_dev: read once per file system */
	bool done;		/* reached the task's root or the global root */
	bool internal;		/* object lives on a kernel-internal mount */
	bool foreign;		/* reached a root that is not the task's root */
};

struct match {
	struct wd_node_key key;	/* the deepest node reached */
	__u32 id;		/* its id */
	__u32 left;		/* components to match: left - 1 .. 0 */
	__u32 mark_level;	/* remember the node reached after this many */
	struct wd_node_key marked;	/* that node, if reached (mark_hit) */
	__u32 matched;		/* components matched, root side first */
	bool mark_hit;
	bool all;		/* every component matched a node */
};

struct emit {
	__u32 off;		/* bytes written to data[] */
	__u32 limit;		/* stop before this offset */
	__u32 left;		/* components still to write, root side first */
	bool trunc;		/* sticky until wd_emit starts the next event */
};

/*
 * Mounts of one file system in the agent's namespace that a dentry-only
 * hook judges under (a root file system bind-mounted into a container a
 * dozen times is common), and the mounts of it in all namespaces looked
 * at to find them. More of either: fail closed.
 */
#define DENTRY_MOUNTS_MAX 16
#define SB_MOUNTS_SCAN 1024

struct mounts {
	__u64 cand[DENTRY_MOUNTS_MAX];	/* struct mount *, in the agent's namespace */
	__u64 ns;		/* struct mnt_namespace * of the agent */
	__u64 pos;		/* iteration: current mount, or list_head */
	__u64 head;		/* iteration (before 6.8): the list head */
	__u32 n;
	bool more;		/* more mounts than we look at: fail closed */
};

/*
 * Per-CPU scratch: too big for the 512-byte BPF stack, which the chain of
 * calls shares. Loop state lives here as well: the bpf_loop callbacks find
 * it themselves. Only scalars and kernel pointers: a map value pointer
 * stored here would lose its type for the verifier.
 */
#define WD_EV_DATA (2 * WD_PATH_MAX + 2 * (WD_NAME_MAX + 1))
struct scratch {
	/* The walked components, leaf first: each one's d_name.name and .len. */
	const unsigned char *comp_name[WD_WALK_MAX];
	__u32 comp_len[WD_WALK_MAX];
	__u64 name[WD_NAME_WORDS];
	struct walk w;
	struct match m;
	struct emit e;
	struct mounts mo;
	__u64 launder;				/* see scalar() */
	__u64 owner;		/* pid_tgid of the judgement using it (scratch_claim()) */
	__u32 dir_rights;	/* file_rights(): children_rights() of every right judged */
	__u32 dir_node;		/* and the node the directory is, if any (children_rights()) */
	__u32 dir_up;		/* and how many levels above the directory the same holds */
	__u32 pad;
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

/*
 * What an LSM program returns: 0, or a negative errno the hook passes on.
 * Since 6.x the verifier refuses an LSM program that may return anything
 * else (a positive value, or below -MAX_ERRNO), and it cannot know the range
 * of a global function's result (wd_judge, wd_tamper, ...), which it
 * verifies apart. Every computed result goes through here; a value out of
 * range, which would be a bug, denies (fail closed).
 */
#define MAX_ERRNO 4095

static __noinline int lsm_verdict(int err)
{
	long e = err;

	/*
	 * Kernels check the range on R0's lower 32 bits or (before "bpf: Fix
	 * compare error of function retval_range_within") on all 64: the value
	 * is made and returned sign-extended, so it passes both. Left to
	 * itself, clang compares a copy and returns the original register, or
	 * makes -EPERM as 0xffffffff, and the verifier sees neither in range.
	 * A static subprogram, not inlined: the verifier follows it in its
	 * caller's context, and the caller's frame keeps its size (6.1 allows
	 * 512 bytes for a whole call chain, and the open path uses them all).
	 */
	barrier_var(e);
	if (e >= 0)
		e = 0;
	else if (e < -MAX_ERRNO)
		e = -EPERM;
	barrier_var(e);
	return e;
}

static __always_inline struct scratch *scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch_map, &zero);
}

/*
 * A program runs with migration disabled, but where BPF programs are
 * preemptible (PREEMPT_RT, preempt=full) another task can run on this CPU
 * in the middle of it, and judge with the same per-CPU scratch. A
 * judgement claims the scratch with its thread's pid_tgid; before it
 * allows, it checks that no other task claimed it since. If one did, what
 * the walk left may be the other's: it denies (fail closed) and counts it.
 */
static __always_inline void scratch_claim(struct scratch *s)
{
	s->owner = bpf_get_current_pid_tgid();
}

static __always_inline bool scratch_interleaved(struct scratch *s)
{
	return s->owner != bpf_get_current_pid_tgid();
}

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

static __always_inline struct wd_task *current_mark(void)
{
	return task_mark(bpf_get_current_task_btf());
}

/*
 * The verifier checks a program's global functions once per program; the
 * pieces below are global so that each is checked once, small, instead of
 * once per caller, inlined into one large state space.
 */

/* ---- path walk --------------------------------------------------------- */

/*
 * How the walk reads kernel objects. Where the kernel has the kfunc
 * bpf_rdonly_cast() (6.2 and later), a walked pointer becomes an untrusted
 * BTF pointer and each field is one direct load: the verifier turns the
 * cast into a register move and the load into a guarded one (a fault reads
 * 0, never oopses). Elsewhere (6.1) every read is a bpf_probe_read_kernel()
 * helper call. Userspace sets walk_direct from the kernel's BTF
 * (user/kfeatures.c); with it unset the verifier never sees the kfunc call
 * (dead code: libbpf leaves an absent __weak kfunc's call unresolved, and
 * the kernel accepts that in code it prunes).
 */
const volatile __u8 walk_direct = 0;
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
#define kernel_view(type, p) ((type *)bpf_rdonly_cast((const void *)(p), bpf_core_type_id_kernel(type)))

/*
 * A path walk reads a few fields of every dentry and inode on the way, and
 * each bpf_probe_read_kernel() is a helper call: the walk's main cost. The
 * fields it needs lie next to each other (d_parent, d_name, d_inode in
 * struct dentry; i_sb .. i_ino in struct inode), so one read takes each
 * group, after checking against the running kernel's BTF (CO-RE: the
 * offsets below are the kernel's, the checks fold to constants at load)
 * that they still do; a kernel laid out otherwise is read field by field.
 */
static __always_inline int read_dentry(struct dentry *d, struct dentry_fields *f, const bool direct)
{
	const __u32 at = bpf_core_field_offset(struct dentry, d_parent);

	if (direct) {
		struct dentry *k = kernel_view(struct dentry, d);

		f->parent = k->d_parent;
		f->hash_len = (__u64)k->d_name.len << 32;
		f->name = k->d_name.name;
		f->inode = k->d_inode;
		return f->parent ? 0 : -1;	/* never NULL: 0 means the load faulted */
	}
	if (bpf_core_field_offset(struct dentry, d_name) == at + 8 &&
	    bpf_core_field_offset(struct dentry, d_inode) == at + 24 &&
	    bpf_core_field_size(struct dentry, d_name) == 16)
		return bpf_probe_read_kernel(f, sizeof(*f), (void *)d + at);
	f->parent = BPF_CORE_READ(d, d_parent);
	f->hash_len = (__u64)BPF_CORE_READ(d, d_name.len) << 32;
	f->name = BPF_CORE_READ(d, d_name.name);
	f->inode = BPF_CORE_READ(d, d_inode);
	return 0;
}

/*
 * Two fields of one object, at byte offsets @at and @at2 (the kernel's,
 * CO-RE), in one read when the second lies 8-aligned within 32 bytes of
 * the first: *a and *b are the 64-bit words there. Returns 0, -1 if the
 * read failed, 1 if the layout does not allow it (read field by field).
 */
static __always_inline int read_two(const void *obj, __u32 at, __u32 at2, __u64 *a, __u64 *b)
{
	__u64 buf[4];

	if (at2 <= at || at2 - at >= sizeof(buf) || (at2 - at) & 7)
		return 1;
	if (bpf_probe_read_kernel(buf, sizeof(buf), obj + at))
		return -1;
	*a = buf[0];
	*b = buf[((at2 - at) / 8) & 3];
	return 0;
}

static __always_inline int read_inode(struct inode *inode, struct super_block **sb, __u64 *ino,
				      const bool direct)
{
	if (direct) {
		struct inode *k = kernel_view(struct inode, inode);

		*sb = k->i_sb;
		*ino = k->i_ino;
		return *sb ? 0 : -1;
	}
	__u64 first = 0;
	int err = bpf_core_field_size(struct inode, i_ino) != 8 ? 1 :
		  read_two(inode, bpf_core_field_offset(struct inode, i_sb),
			   bpf_core_field_offset(struct inode, i_ino), &first, ino);

	if (err <= 0) {
		*sb = (struct super_block *)first;
		return err;
	}
	*sb = BPF_CORE_READ(inode, i_sb);
	*ino = BPF_CORE_READ(inode, i_ino);
	return 0;
}

/* A mount's root dentry and flags: adjacent in struct vfsmount. */
static __always_inline int read_mount(struct vfsmount *m, struct dentry **root, __u32 *flags,
				      const bool direct)
{
	if (direct) {
		struct vfsmount *k = kernel_view(struct vfsmount, m);

		*root = k->mnt_root;
		*flags = k->mnt_flags;
		return *root ? 0 : -1;
	}
	__u64 first = 0, second = 0;
	int err = read_two(m, bpf_core_field_offset(struct vfsmount, mnt_root),
			   bpf_core_field_offset(struct vfsmount, mnt_flags), &first, &second);

	if (err <= 0) {
		*root = (struct dentry *)first;
		*flags = (__u32)second;	/* little-endian int */
		return err;
	}
	*root = BPF_CORE_READ(m, mnt_root);
	*flags = BPF_CORE_READ(m, mnt_flags);
	return 0;
}

/* See wd_id_filter_slot(): set by userspace, read here. */
volatile __u64 id_filter[WD_ID_FILTER_WORDS];

static __always_inline bool maybe_rule_object(__u64 ino, __u32 dev)
{
	__u32 slot = wd_id_filter_slot(ino, dev);

	return id_filter[(slot >> 6) & (WD_ID_FILTER_WORDS - 1)] & (1ull << (slot & 63));
}

/* The node of the rule object whose inode is @inode, for the policy of @w; NULL if none. */
static __always_inline struct wd_node_key *identity_of(struct walk *w, struct inode *inode,
						      const bool direct)
{
	struct wd_inode_key key = {};
	struct super_block *sb;

	if (!inode || read_inode(inode, &sb, &key.ino, direct))
		return NULL;
	if (sb != w->sb) {
		w->sb = sb;
		w->dev = direct ? kernel_view(struct super_block, sb)->s_dev
				     : BPF_CORE_READ(sb, s_dev);
	}
	key.dev = w->dev;
	if (!maybe_rule_object(key.ino, key.dev))
		return NULL;
	key.root = w->root_node;
	return bpf_map_lookup_elem(&inodes, &key);
}

/* Is the dentry whose inode is @inode one of the policy's rule objects? Remember the deepest. */
static __always_inline void identity_check(struct walk *w, struct inode *inode, const bool direct)
{
	struct wd_node_key *node;

	if (!w->root_node || w->id_key.len != ~0u)
		return;
	node = identity_of(w, inode, direct);
	if (!node)
		return;
	w->id_key = *node;
	w->id_depth = w->depth;
}

/*
 * One step of the climb from a bind mount's root through its hidden
 * ancestors (a bpf_loop callback), up to its file system's root or the
 * first rule object.
 */
static __always_inline long hidden_step(const bool direct)
{
	struct scratch *s = scratch_get();
	struct wd_node_key *node;
	struct dentry *d;
	struct walk *w;

	if (!s)
		return 1;
	w = &s->w;
	d = w->hidden;
	if (!d)
		return 1;
	if (read_dentry(d, &w->f, direct)) {
		w->hidden_failed = true;
		return 1;
	}
	node = identity_of(w, w->f.inode, direct);
	if (node) {
		w->hidden_key = *node;
		return 1;
	}
	if (w->f.parent == d)
		return 1;	/* the file system's root */
	w->hidden = w->f.parent;
	return 0;
}

static long hidden_step_direct(__u32 i, void *arg)
{
	return hidden_step(true);
}

static long hidden_step_probe(__u32 i, void *arg)
{
	return hidden_step(false);
}

/* One step up: the dentry's name collected, or a mount crossed. */
static __always_inline long walk_step(const bool direct)
{
	struct scratch *s = scratch_get();
	struct dentry_fields *f;
	struct vfsmount *vfsmnt;
	struct dentry *d, *mountpoint;
	struct mount *mnt, *up;
	struct walk *w;
	__u32 at;

	if (!s)
		return 1;
	w = &s->w;
	d = w->dentry;
	vfsmnt = w->vfsmnt;
	f = &w->f;
	if (read_dentry(d, f, direct))
		return 1;	/* unreadable: w->done stays false, the walk fails closed */
	identity_check(w, f->inode, direct);
	if (d == w->root_dentry && vfsmnt == w->root_mnt) {
		w->done = true;
		return 1;
	}
	if (d == w->mnt_root) {
		/* The root of a bind mount of a subdirectory: its hidden ancestors
		 * are climbed once the walk is done (wd_walk(); the lowest such mount). */
		if (f->parent != d && !w->hidden)
			w->hidden = f->parent;
		mnt = container_of(vfsmnt, struct mount, mnt);
		if (direct) {
			struct mount *k = kernel_view(struct mount, mnt);

			up = k->mnt_parent;
			mountpoint = k->mnt_mountpoint;
			if (!up || !mountpoint)
				return 1;	/* a fault: the walk fails closed */
		} else {
			up = BPF_CORE_READ(mnt, mnt_parent);
			mountpoint = BPF_CORE_READ(mnt, mnt_mountpoint);
		}
		if (up == mnt) {
			/* The top of a mount tree that is not our root. */
			w->done = true;
			w->foreign = true;
			return 1;
		}
		vfsmnt = &up->mnt;
		w->dentry = mountpoint;
		w->vfsmnt = vfsmnt;
		w->mnt_root = direct ? kernel_view(struct vfsmount, vfsmnt)->mnt_root
					  : BPF_CORE_READ(vfsmnt, mnt_root);
		return 0;
	}
	if (f->parent == d) {
		/* Top of a dentry tree that is not a mount root: disconnected
		 * (open_by_handle_at) or not under this mount. */
		w->done = true;
		w->foreign = true;
		return 1;
	}
	if (w->depth >= WD_WALK_MAX)
		return 1;
	at = w->depth & (WD_WALK_MAX - 1);
	s->comp_name[at] = f->name;
	s->comp_len[at] = f->hash_len >> 32;
	w->depth++;
	w->dentry = f->parent;
	return 0;
}

/* bpf_loop callbacks: one per way of reading, chosen once per walk. */
static long walk_step_direct(__u32 i, void *arg)
{
	return walk_step(true);
}

static long walk_step_probe(__u32 i, void *arg)
{
	return walk_step(false);
}

/*
 * Collect the components of (@dentry, @vfsmnt), leaf first, into s->comp_*,
 * up to the task's root, noting rule objects of policy @root_node met on
 * the way. Returns 0 when the walk reached a root (see s->w).
 */
__noinline int wd_walk(__u64 dentry, __u64 vfsmnt, __u32 root_node)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct scratch *s = scratch_get();
	struct fs_struct *fs;
	__u32 mnt_flags;
	struct walk *w;

	if (!s)
		return -1;
	w = &s->w;
	w->dentry = (struct dentry *)dentry;
	w->vfsmnt = (struct vfsmount *)vfsmnt;
	/* current is a trusted BTF pointer: plain loads, no helper calls. */
	fs = task->fs;
	w->root_dentry = fs->root.dentry;
	w->root_mnt = fs->root.mnt;
	w->sb = NULL;
	w->dev = 0;
	w->depth = 0;
	w->id_depth = 0;
	w->root_node = root_node;
	w->id_key.len = ~0u;
	w->hidden_key.len = ~0u;
	w->hidden = NULL;
	w->hidden_failed = false;
	w->done = false;
	w->foreign = false;
	w->internal = false;
	if (read_mount((struct vfsmount *)vfsmnt, &w->mnt_root, &mnt_flags, walk_direct))
		return -1;	/* w->done is false: the walk failed */
	w->internal = mnt_flags & MNT_INTERNAL;
	/*
	 * Two calls, never one call with a selected callback: the verifier
	 * leaves the unused callback unchecked and drops it, and a callback
	 * loaded into a register on every path would then point at nothing
	 * (6.12 refuses the program). The asm tails keep the compiler from
	 * merging the calls.
	 */
	if (walk_direct) {
		bpf_loop(2 * WD_WALK_MAX, walk_step_direct, NULL, 0);
		asm volatile("r0 = 1" ::: "r0");
	} else {
		bpf_loop(2 * WD_WALK_MAX, walk_step_probe, NULL, 0);
		asm volatile("r0 = 2" ::: "r0");
	}
	/* Here, not in walk_step: 6.1 allows 512 bytes of stack for the whole
	 * call chain, and the open path has no frame to spare. */
	if (w->hidden && w->root_node && w->done) {
		if (walk_direct) {
			bpf_loop(WD_WALK_MAX, hidden_step_direct, NULL, 0);
			asm volatile("r0 = 3" ::: "r0");
		} else {
			bpf_loop(WD_WALK_MAX, hidden_step_probe, NULL, 0);
			asm volatile("r0 = 4" ::: "r0");
		}
	}
	if (w->hidden_failed)
		w->done = false;	/* an ancestor unread: the walk failed */
	return w->done ? 0 : -1;
}

/* ---- policy lookup ----------------------------------------------------- */

/*
 * Names are hashed and compared as zero-padded 64-bit words: 4 words for
 * names up to 32 bytes, 8 up to 64, else 32 (WD_NAME_WORDS). Each class is
 * straight-line code; user/policy.c hashes the same way.
 */
static __always_inline __u64 words_hash(const __u64 *w, const int n)
{
	__u64 h = WD_FNV_OFFSET;

#pragma unroll
	for (int i = 0; i < n; i++) {
		h ^= w[i];
		h *= WD_FNV_PRIME;
	}
	return h;
}

static __always_inline bool words_equal(const __u64 *a, const __u64 *b, const int n)
{
	__u64 diff = 0;

#pragma unroll
	for (int i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

static __always_inline void words_zero(__u64 *w, const int n)
{
#pragma unroll
	for (int i = 0; i < n; i++)
		w[i] = 0;
}

#define FIND_CHILD(n)								\
	do {									\
		words_zero(w, n);						\
		if (bpf_probe_read_kernel(w, len, name))			\
			return 0;						\
		key.hash = words_hash(w, n);					\
		child = bpf_map_lookup_elem(&nodes, &key);			\
		if (!child || !words_equal(w, (const __u64 *)child->name, n))	\
			return 0;						\
		goto found;							\
	} while (0)

/*
 * Does node @parent have a child named like walked component @at? If so,
 * it becomes s->m's node and 1 is returned. The hash only finds; the name
 * decides.
 */
__noinline int wd_child(__u32 parent, __u32 at)
{
	struct scratch *s = scratch_get();
	struct wd_node_key key = { .parent = parent };
	const unsigned char *name;
	struct wd_node *child;
	__u64 *w;
	__u32 len;

	if (!s)
		return 0;
	w = s->name;
	at &= WD_WALK_MAX - 1;
	len = s->comp_len[at];
	if (len == 0 || len > WD_NAME_MAX)
		return 0;	/* no rule can name it */
	name = s->comp_name[at];
	key.len = len;
	if (len <= 32)
		FIND_CHILD(4);
	if (len <= 64)
		FIND_CHILD(8);
	FIND_CHILD(WD_NAME_WORDS);
found:
	s->m.key = key;
	s->m.id = child->id;
	return 1;
}

static long match_step(__u32 i, void *arg)
{
	struct scratch *s = scratch_get();
	struct match *m;

	if (!s)
		return 1;
	m = &s->m;
	if (i >= m->left)
		return 1;
	if (!wd_child(m->id, m->left - 1 - i))
		return 1;
	m->matched = i + 1;
	if (i + 1 == m->mark_level) {
		m->marked = m->key;
		m->mark_hit = true;
	}
	if (i + 1 == m->left)
		m->all = true;
	return 0;
}

/*
 * From the node under key (@parent, @len, @hash), descend through the
 * walked components @depth - 1 .. 0 (s->comp_*); the deepest node
 * reached is left in s->m, and the one reached after @mark_level
 * components in s->m.marked (~0: none). Returns 0, or -1 if the start node
 * is missing.
 */
__noinline int wd_descend(__u32 parent, __u32 len, __u64 hash, __u32 depth, __u32 mark_level)
{
	struct wd_node_key key = { .parent = parent, .len = len, .hash = hash };
	struct scratch *s = scratch_get();
	struct wd_node *start;

	if (!s)
		return -1;
	start = bpf_map_lookup_elem(&nodes, &key);
	if (!start)
		return -1;
	s->m.key = key;
	s->m.id = start->id;
	s->m.left = depth;
	s->m.matched = 0;
	s->m.all = depth == 0;
	s->m.mark_level = mark_level;
	s->m.mark_hit = mark_level == 0;
	s->m.marked = key;
	bpf_loop(WD_WALK_MAX, match_step, NULL, 0);
	return 0;
}

/* The node wd_descend() reached, and whether it is the whole path. */
static __always_inline struct wd_node *descended(struct scratch *s, bool *all)
{
	struct wd_node_key key = s->m.key;

	*all = s->m.all;
	return bpf_map_lookup_elem(&nodes, &key);
}

/* A copy of the verdict for @right; constant offsets only, as the verifier likes. */
static __always_inline int verdict_of(struct wd_node *node, bool all, __u32 right,
				      struct wd_verdict *out)
{
	struct wd_verdict *arr = all ? node->exact : node->subtree;

	switch (right) {
	case WD_RIGHT_READ: *out = arr[WD_RIGHT_READ]; return 0;
	case WD_RIGHT_WRITE: *out = arr[WD_RIGHT_WRITE]; return 0;
	case WD_RIGHT_CREATE: *out = arr[WD_RIGHT_CREATE]; return 0;
	case WD_RIGHT_DELETE: *out = arr[WD_RIGHT_DELETE]; return 0;
	case WD_RIGHT_EXEC: *out = arr[WD_RIGHT_EXEC]; return 0;
	}
	return -1;
}

/* ---- events ------------------------------------------------------------ */

static long emit_step(__u32 i, void *arg)
{
	struct scratch *s = scratch_get();
	struct emit *e;
	__u32 len, at;
	long n;

	if (!s)
		return 1;
	e = &s->e;
	if (i >= e->left)
		return 1;
	if (e->off + WD_NAME_MAX + 1 >= e->limit) {
		e->trunc = true;
		return 1;
	}
	at = (e->left - 1 - i) & (WD_WALK_MAX - 1);
	len = s->comp_len[at];
	s->data[e->off & (2 * WD_PATH_MAX - 1)] = '/';
	e->off++;
	n = bpf_probe_read_kernel(&s->data[e->off & (2 * WD_PATH_MAX - 1)], len & WD_NAME_MAX,
				  s->comp_name[at]);
	if (n == 0)
		e->off += len & WD_NAME_MAX;
	return 0;
}

/* Append the walked path (s->comp_*, @depth components) at s->data + @off; its length. */
__noinline int wd_emit_path(__u32 off, __u32 depth)
{
	struct scratch *s = scratch_get();
	struct emit *e;

	off &= WD_PATH_MAX - 1;	/* callers pass a path length: < WD_PATH_MAX */
	if (!s)
		return 0;
	if (depth == 0) {
		s->data[off & (2 * WD_PATH_MAX - 1)] = '/';
		return 1;
	}
	e = &s->e;
	e->off = off;
	e->limit = off + WD_PATH_MAX;
	e->left = depth;
	bpf_loop(WD_WALK_MAX, emit_step, NULL, 0);
	return e->off - off;
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

#include "ratelimit.h"
#include "srcroute.h"

/* what: right (or enum wd_tamper) | decision << 8 | flags << 16; type: enum wd_event_type */
#define EMIT_WHAT(type, right, decision, flags) \
	((right) | (decision) << 8 | (flags) << 16 | (__u64)(type) << 32)
#define NO_PATH 0xffffffffu

/*
 * Send one event. When @depth is not NO_PATH, s->comp_* hold the walk of the
 * object (@depth components); the exe walk then reuses it, so the object's
 * path is written first. @aux is target tgid << 32 | aux for tamper events.
 */
__noinline int wd_emit(__u32 agent, __u64 what, __u32 rule, __u32 depth, __u64 aux)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct scratch *s = scratch_get();
	struct wd_event *ev;
	struct file *exe;
	__u32 path_len = 0, exe_len = 0, total;

	if (!s || !rate_ok())
		return 0;
	ev = &s->ev;
	fill_task(ev, agent);
	ev->type = what >> 32;
	ev->right = what & 0xff;
	ev->decision = (what >> 8) & 0xff;
	ev->flags = (what >> 16) & 0xffff;
	ev->rule = rule;
	ev->target = aux >> 32;
	ev->aux = (__u32)aux;
	if (ev->type != WD_EV_NET) {
		ev->family = 0;
		ev->proto = 0;
		ev->port = 0;
		__builtin_memset(ev->addr, 0, sizeof(ev->addr));
	}
	s->e.trunc = false;
	if (depth != NO_PATH)
		path_len = wd_emit_path(0, depth) & (WD_PATH_MAX - 1);
	exe = BPF_CORE_READ(task, mm, exe_file);
	if (exe && wd_walk((__u64)BPF_CORE_READ(exe, f_path.dentry),
			   (__u64)BPF_CORE_READ(exe, f_path.mnt), 0) == 0)
		exe_len = wd_emit_path(path_len, s->w.depth) & (WD_PATH_MAX - 1);
	if (s->e.trunc)
		ev->flags |= WD_EVF_PATH_TRUNC;
	ev->path_len = path_len;
	ev->exe_len = exe_len;
	/* Header and data are adjacent in scratch: one copy into the ring. */
	total = sizeof(*ev) + path_len + exe_len;
	if (bpf_ringbuf_output(&events, ev, total, 0))
		count(WD_CNT_LOST_RINGBUF);
	return 0;
}

static __always_inline __u32 decision_for(struct wd_agent *agent, bool deny)
{
	if (!deny)
		return WD_DEC_ALLOW;
	return agent->mode == WD_MODE_AUDIT ? WD_DEC_AUDIT : WD_DEC_DENY;
}

/* ---- protections ------------------------------------------------------- */

/*
 * What no agent may do, whatever its policy. Returns 0 or -EPERM; only
 * called for marked tasks. Global: verified once.
 */
#define TAMPER_QUIET 0x80	/* in wd_tamper's @what: a probe, deny without an event */
#define PTRACE_MODE_NOAUDIT 0x04

__noinline int wd_tamper(__u32 agent_id, __u32 what, __u32 target, __u32 aux)
{
	struct wd_agent *agent = bpf_map_lookup_elem(&agents, &agent_id);
	__u32 decision;

	if (!agent)
		return -EPERM;
	decision = decision_for(agent, true);
	if (what & TAMPER_QUIET)
		return decision == WD_DEC_DENY ? -EPERM : 0;
	wd_emit(agent_id, EMIT_WHAT(WD_EV_TAMPER, what, decision, 0), WD_RULE_DEFAULT, NO_PATH,
		(__u64)target << 32 | aux);
	return decision == WD_DEC_DENY ? -EPERM : 0;
}

static __always_inline int deny_agents(__u32 what)
{
	struct wd_task *t = current_mark();

	return t ? wd_tamper(t->agent, what, 0, 0) : 0;
}

/* May the current task (an agent's, or not) act on @target? */
static __always_inline int outside_instance(struct task_struct *target, __u32 what, __u32 aux)
{
	struct wd_task *t = current_mark(), *o;

	if (!t)
		return 0;
	o = task_mark(target);
	if (o && o->agent == t->agent)
		return 0;	/* an agent manages its own processes */
	return wd_tamper(t->agent, what, BPF_CORE_READ(target, tgid), aux);
}

/* ---- file rights ------------------------------------------------------- */

/*
 * The files whose writes are protections, whatever the policy: the tamper
 * kind, or 0. Cgroups (leaving the instance), bpffs (Warden's pins), and
 * the kernel's configuration: a write there changes what the kernel does
 * for every process, or makes it start a program outside the agent
 * (kernel.core_pattern, kernel.modprobe, binfmt_misc's register,
 * uevent_helper), or switches tracing and with it BPF trampolines off
 * (kernel.ftrace_enabled, tracefs). In procfs the sysctls and the kernel's
 * own files are; a process's files are the agent's to write when the
 * process is in its instance (proc_file_outsider()).
 */
/*
 * Files that are protections by identity (enum wd_tamper: WD_TAMPER_EVENTS,
 * WD_TAMPER_WARDEN; WD_PROTECT_CHILDREN: a directory's entries too):
 * userspace marks each by an fd it holds open (lsm_protect_fd()), which
 * keeps the inode, and the mark with it, in memory.
 */
struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} protected_inodes SEC(".maps");

static __always_inline __u32 protected_inode(struct inode *inode)
{
	__u32 *kind;

	if (!inode)
		return 0;
	kind = bpf_inode_storage_get(&protected_inodes, inode, 0, 0);
	return kind ? *kind : 0;
}

static __always_inline __u32 protected_fs(struct dentry *d)
{
	unsigned long magic = BPF_CORE_READ(d, d_sb, s_magic);
	struct proc_inode *pi;
	struct inode *inode;

	switch (magic) {
	case CGROUP2_SUPER_MAGIC:
	case CGROUP_SUPER_MAGIC:
		return WD_TAMPER_CGROUP;
	case BPF_FS_MAGIC:
		return WD_TAMPER_BPFFS;
	case SYSFS_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case SECURITYFS_MAGIC:
	case CONFIGFS_MAGIC:
	case EFIVARFS_MAGIC:
	case BINFMTFS_MAGIC:
	case SELINUX_MAGIC:
		return WD_TAMPER_KCONFIG;
	case PROC_SUPER_MAGIC:
		/*
		 * A sysctl's inode is a proc_inode with its table header set; a
		 * process's files (/proc/PID/..., /proc/self/...) have their pid
		 * set. The rest is the kernel's: /proc/sysrq-trigger (crash,
		 * reboot, kill every process), /proc/irq, /proc/mtrr, /proc/scsi,
		 * /proc/bus/pci, /proc/net's tables, /proc/acpi, ...
		 */
		inode = BPF_CORE_READ(d, d_inode);
		if (!inode)
			return 0;
		pi = (void *)inode - bpf_core_field_offset(struct proc_inode, vfs_inode);
		if (BPF_CORE_READ(pi, sysctl) || !BPF_CORE_READ(pi, pid))
			return WD_TAMPER_KCONFIG;
		/* A process's: an outsider's is refused by proc_file_outsider();
		 * nothing under /proc keeps a write in the directory cache. */
		return WD_TAMPER_PROC_FILE;
	}
	return 0;
}

static __always_inline bool special_fs(struct dentry *d, __u32 right, __u32 *what)
{
	if (right == WD_RIGHT_READ || right == WD_RIGHT_EXEC)
		return false;
	*what = protected_fs(d);
	return *what != 0 && *what != WD_TAMPER_PROC_FILE;
}

/* Rights a node's verdicts allow (precomputed: no branches for the verifier), plus MASK_NODE. */
static __always_inline __u32 allowed_mask(struct wd_node *node, bool all)
{
	return all ? node->exact_allow | MASK_NODE : node->subtree_allow;
}

/* An exec of something with no path: a memfd, or a file since deleted. */
static __always_inline bool is_fileless(struct dentry *dentry, bool internal)
{
	struct inode *inode = BPF_CORE_READ(dentry, d_inode);

	return internal || (inode && BPF_CORE_READ(inode, __i_nlink) == 0);
}

/*
 * What every other entry of the judged object's directory would be allowed
 * with no event, judged as the object was (1 << WD_RIGHT_*; 0: unknown).
 * Known when the descent by name stopped at or above that directory, at
 * @node, the object itself not being a node: each entry's verdict is then
 * @node's subtree verdict, the same walk up, the same identities met on
 * the way, unless the directory is @node itself and the entry one of its
 * children by name (s->dir_node is then @node's id, for dir_serves() to
 * look the name up; else 0). It holds as well for whatever lies under any
 * directory between @node's level and the object's directory: s->dir_up
 * is how many there are above that directory (no rule names anything
 * under them). Not known when the object itself is a rule object (what
 * its directory's chain holds was then not looked at) or when an identity
 * other than the names' decided (@by_id). Rule objects below the directory
 * an entry is kept for are checked where it is used (dir_serves()); writes
 * on the protected file systems, in dir_put().
 */
static __always_inline __u32 children_rights(struct scratch *s, struct wd_node *node, __u32 depth,
					     bool by_id)
{
	__u32 rights;

	if (depth < 2 || s->m.matched >= depth || by_id)
		return 0;
	if (s->w.id_key.len != ~0u && s->w.id_depth == 0)
		return 0;
	rights = node->subtree_allow;
#pragma unroll
	for (__u32 r = 0; r < WD_RIGHT_COUNT; r++)
		if (node->subtree[r].audit)
			rights &= ~(1u << r);
	s->dir_node = s->m.matched + 1 == depth ? node->id : 0;
	/* The directories at levels matched + 1 .. depth - 1 are none of @node's
	 * children's: all that lies under any of them gets this verdict. */
	s->dir_up = s->m.matched + 2 <= depth ? depth - s->m.matched - 2 : 0;
	return rights;
}

/*
 * Judge the right in @how (low byte; JUDGE_* flags above it) on the object
 * at (@dentry, @vfsmnt) for the current task. Returns 0 or -EACCES (-EPERM
 * for protections); with JUDGE_QUIET, the mask of allowed rights (plus
 * MASK_NODE) and no event; with JUDGE_SAY_SILENT, 1 for an allow that sent
 * no event; with JUDGE_SKIP_FOREIGN, 1 when the object is
 * not under @vfsmnt.
 *
 * Objects on kernel-internal mounts (pipes, sockets, memfds reached through
 * /proc/PID/fd) have no path in the policy's namespace: file rules do not
 * judge reading or writing them; executing them is fileless exec. A walk
 * that fails is denied (fail closed).
 */
/* What wd_judge() returns when it does not deny: @ret, unless the scratch was not its own throughout. */
static __always_inline int judged(struct scratch *s, int ret)
{
	if (scratch_interleaved(s)) {
		count(WD_CNT_INTERLEAVED);
		return -EACCES;
	}
	return ret;
}

__noinline int wd_judge(__u64 dentry, __u64 vfsmnt, __u32 how)
{
	struct wd_task *t = current_mark();
	__u32 agent_id, right = how & 0xff, rule = WD_RULE_DEFAULT, flags = 0;
	__u32 decision, what, mask = 0, depth, root_node;
	struct wd_node_key id_key;
	struct wd_verdict v;
	struct wd_node *node;
	struct wd_agent *agent;
	struct scratch *s;
	struct walk *w;
	bool all, deny, by_id, audit = false;

	if (!t)
		return 0;
	agent_id = t->agent;
	agent = bpf_map_lookup_elem(&agents, &agent_id);
	s = scratch_get();
	if (!agent || !s || !agent->root_node || right >= WD_RIGHT_COUNT)
		return -EACCES;	/* marked, but no policy: never run unconfined */
	if (!(how & JUDGE_CLAIMED))
		scratch_claim(s);
	root_node = agent->root_node;
	w = &s->w;
	wd_walk(dentry, vfsmnt, root_node);
	depth = w->depth;
	/* A protection, whatever the policy; the event says which file. */
	if (!(how & JUDGE_QUIET) && special_fs((struct dentry *)dentry, right, &what)) {
		decision = decision_for(agent, true);
		wd_emit(agent_id, EMIT_WHAT(WD_EV_TAMPER, what, decision,
					    w->done ? 0 : WD_EVF_UNRESOLVED), WD_RULE_DEFAULT, depth, 0);
		return decision == WD_DEC_DENY ? -EPERM : 0;
	}
	if (right == WD_RIGHT_EXEC && is_fileless((struct dentry *)dentry, w->internal)) {
		deny = !(agent->flags & WD_AGENT_FILELESS_EXEC);
		rule = WD_RULE_FILELESS;
		flags = WD_EVF_FILELESS;
		mask = deny ? 0 : 1 << WD_RIGHT_EXEC;
	} else if (w->done && w->internal) {
		if (how & JUDGE_QUIET)
			return judged(s, (1 << WD_RIGHT_COUNT) - 1);
		s->dir_rights = 0;	/* no path: nothing said about a directory */
		return judged(s, how & JUDGE_SAY_SILENT ? 1 : 0);
	} else if (!w->done || w->foreign) {
		if (how & JUDGE_SKIP_FOREIGN && w->done)
			return judged(s, 1);
		count(WD_CNT_WALK_FAIL);
		deny = true;
		flags = WD_EVF_UNRESOLVED;
	} else {
		id_key = w->id_key;
		by_id = id_key.len != ~0u && w->id_depth <= depth;
		if (wd_descend(0, 0, root_node, depth, by_id ? depth - w->id_depth : ~0u))
			return -EACCES;
		/*
		 * The object reached by identity is the node its name reached:
		 * the identity's descent would repeat this one, verdict and all
		 * (the usual case: a path under a rule's directory, by its name).
		 */
		if (by_id && s->m.mark_hit && s->m.marked.parent == id_key.parent &&
		    s->m.marked.len == id_key.len && s->m.marked.hash == id_key.hash)
			by_id = false;
		node = descended(s, &all);
		if (!node || verdict_of(node, all, right, &v))
			return -EACCES;
		mask = allowed_mask(node, all);
		deny = v.action != WD_ACT_ALLOW;
		rule = v.rule;
		audit = v.audit;
		/* The same object by identity: its own rules must allow too. */
		if (by_id) {
			node = NULL;
			if (!wd_descend(id_key.parent, id_key.len, id_key.hash, w->id_depth, ~0u))
				node = descended(s, &all);
			if (!node || verdict_of(node, all, right, &v)) {
				deny = true;
				mask &= MASK_NODE;
			} else {
				if (v.action != WD_ACT_ALLOW && !deny) {
					deny = true;
					rule = v.rule;
					flags = WD_EVF_IDENTITY;
				}
				mask &= allowed_mask(node, all) | MASK_NODE;
			}
		}
		/* Below a hidden ancestor (a bind mount of its subdirectory): its rules too. */
		if (w->hidden_key.len != ~0u) {
			id_key = w->hidden_key;
			node = bpf_map_lookup_elem(&nodes, &id_key);
			if (!node || verdict_of(node, false, right, &v))
				return -EACCES;
			if (v.action != WD_ACT_ALLOW && !deny) {
				deny = true;
				rule = v.rule;
				flags = WD_EVF_IDENTITY;
			}
			mask &= allowed_mask(node, false) | MASK_NODE;
		}
		if (!deny && !audit && !(how & JUDGE_QUIET)) {
			if (!(how & JUDGE_SAY_SILENT))
				return judged(s, 0);
			if (w->hidden_key.len != ~0u)
				s->dir_rights = 0;	/* below a hidden ancestor: no directory verdict kept */
			else	/* by_id is false: node is still the one the names reached */
				s->dir_rights &= children_rights(s, node, depth, by_id);
			return judged(s, 1);
		}
	}
	if (how & JUDGE_QUIET)
		return judged(s, mask);
	decision = decision_for(agent, deny);
	wd_emit(agent_id, EMIT_WHAT(right == WD_RIGHT_EXEC ? WD_EV_EXEC : WD_EV_FILE, right,
				    decision, flags), rule, depth, 0);
	return decision == WD_DEC_DENY ? -EACCES : judged(s, 0);
}

/*
 * Global functions take scalars; a hook's typed pointer argument must be
 * laundered into one first (the verifier refuses a BTF pointer there).
 * A round trip through the per-CPU scratch does it: what a program loads
 * from a map value is a scalar to the verifier, and storing a kernel
 * pointer there is allowed to a privileged loader, as warden always is.
 * (Cheaper than a bpf_probe_read_kernel() call on an open's path.) Where
 * programs can be preempted (user/kfeatures.c), another task on this CPU
 * could store its own pointer between the two: there the pointer is copied
 * from this program's own stack by bpf_probe_read_kernel() instead. No
 * scratch: 0, which every global function refuses, closed.
 */
const volatile __u8 preemptible = 0;

/* A subprogram: its stack slots are its own, not its callers' frame's. */
static __noinline __u64 scalar_private(const void *p)
{
	__u64 v = 0;

	if (bpf_probe_read_kernel(&v, sizeof(v), &p))
		return 0;
	return v;
}

static __always_inline __u64 scalar(const void *p)
{
	struct scratch *s;

	if (preemptible)
		return scalar_private(p);
	s = scratch_get();
	if (!s)
		return 0;
	*(volatile __u64 *)&s->launder = (__u64)p;
	return *(volatile __u64 *)&s->launder;
}

/*
 * /proc/PID files of an outsider: writes to oom_score_adj (the OOM killer
 * then picks warden, or spares a runaway), coredump_filter, clear_refs,
 * autogroup and the rest need no ptrace check, only the file's mode. The
 * kernel asks task_to_inode each time it makes or revalidates such an
 * inode (every path lookup through one), with the task: the inode keeps
 * the agent of that task (agent id + 1; none: not an agent's). Only agents'
 * inodes get an entry; an outsider's that had one is cleared.
 */
struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} proc_owner SEC(".maps");

/*
 * A write to a /proc/PID file (or its attributes) of a process outside the
 * current agent's instance: 0, or what wd_tamper() says. Sysctls and the
 * kernel's own procfs files are protected_fs()'s. @dentry: a BTF pointer.
 */
static __noinline int proc_file_outsider(struct dentry *dentry)
{
	struct inode *inode = dentry->d_inode;
	struct proc_inode *pi;
	struct wd_task *t;
	__u32 *owner;

	if (!inode || inode->i_sb->s_magic != PROC_SUPER_MAGIC)
		return 0;
	pi = (void *)(scalar(inode) - bpf_core_field_offset(struct proc_inode, vfs_inode));
	if (BPF_CORE_READ(pi, sysctl) || !BPF_CORE_READ(pi, pid))
		return 0;
	t = current_mark();
	if (!t)
		return 0;
	owner = bpf_inode_storage_get(&proc_owner, inode, 0, 0);
	if (owner && *owner == t->agent + 1)
		return 0;
	return wd_tamper(t->agent, WD_TAMPER_PROC_FILE, BPF_CORE_READ(pi, pid, numbers[0].nr), 0);
}

/*
 * A write, create or delete of one of Warden's own files (the events file
 * an agent's events go to: an agent under a default-allow policy could
 * truncate it, or append events of its own making), whatever the policy.
 * @dentry must be a BTF pointer. The right first: reads pay nothing.
 */
static __always_inline int protected_file(struct dentry *dentry, __u32 how)
{
	__u32 right = how & 0xff, kind;
	struct wd_task *t;
	int ret;

	if ((how & JUDGE_QUIET) || right == WD_RIGHT_READ || right == WD_RIGHT_EXEC)
		return 0;
	ret = proc_file_outsider(dentry);
	if (ret)
		return ret;
	kind = protected_inode(dentry->d_inode);
	if (!kind) {
		/* A name made, removed or replaced in a protected directory. */
		kind = protected_inode(dentry->d_parent->d_inode);
		if (!(kind & WD_PROTECT_CHILDREN))
			return 0;
	}
	t = current_mark();
	return t ? wd_tamper(t->agent, kind & 0xff, 0, 0) : 0;
}

/* @dentry: a BTF pointer (a hook's argument, or loaded from one). */
static __always_inline int judge(struct dentry *dentry, struct vfsmount *mnt, __u32 right)
{
	int ret = protected_file(dentry, right);

	return ret ? ret : wd_judge(scalar(dentry), scalar(mnt), right);
}

__noinline int wd_judge_dentry(__u64 dentry, __u32 right);

/* The dentry-only hooks (setattr, xattrs): under every mount of its file system. */
static __always_inline int judge_dentry(struct dentry *dentry, __u32 right)
{
	int ret = protected_file(dentry, right);

	return ret ? ret : wd_judge_dentry(scalar(dentry), right);
}

static __always_inline int judge_path(const struct path *path, __u32 right)
{
	return judge(path->dentry, path->mnt, right);
}

/* (dir, dentry) hooks: the new or old name lives in dir's mount. */
static __always_inline int judge_in(const struct path *dir, struct dentry *dentry, __u32 right)
{
	return judge(dentry, BPF_CORE_READ(dir, mnt), right);
}

static __always_inline int judge_file(struct file *file, __u32 right)
{
	return judge(file->f_path.dentry, file->f_path.mnt, right);
}

/*
 * A rename or link gives an object a new path. Refuse (-EXDEV, so tools
 * fall back to copying, which is judged piece by piece) when the object
 * or anything below it has rules of its own, or when its new place allows
 * a right its old place denies. Global: verified once.
 */
__noinline int wd_refer(__u64 src, __u64 dst, __u64 vfsmnt)
{
	struct wd_task *t = current_mark();
	struct wd_agent *agent;
	struct scratch *s;
	__u32 agent_id, decision;
	int from, to;

	if (!t)
		return 0;
	agent_id = t->agent;
	agent = bpf_map_lookup_elem(&agents, &agent_id);
	if (!agent)
		return -EACCES;
	from = wd_judge(src, vfsmnt, JUDGE_QUIET);
	to = wd_judge(dst, vfsmnt, JUDGE_QUIET);	/* leaves dst's walk in scratch */
	if (from >= 0 && to >= 0 && !(from & MASK_NODE) && !(to & MASK_NODE) &&
	    !(to & ~from & ((1 << WD_RIGHT_COUNT) - 1)))
		return 0;
	decision = decision_for(agent, true);
	s = scratch_get();
	if (!s)
		return -EXDEV;
	wd_walk(dst, vfsmnt, 0);
	wd_emit(agent_id, EMIT_WHAT(WD_EV_FILE, WD_RIGHT_CREATE, decision, WD_EVF_REFER),
		WD_RULE_DEFAULT, s->w.depth, 0);
	return decision == WD_DEC_DENY ? -EXDEV : 0;
}

/* ---- hooks: identity --------------------------------------------------- */

SEC("lsm/task_alloc")
int BPF_PROG(wd_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	struct wd_task *parent, *child;

	if (ret)
		return ret;
	parent = current_mark();
	if (!parent)
		return 0;
	if (clone_flags & CLONE_INTO_CGROUP) {
		ret = wd_tamper(parent->agent, WD_TAMPER_CGROUP, 0, 0);
		if (ret)
			return lsm_verdict(ret);
	}
	child = bpf_task_storage_get(&tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!child) {
		/* A child we cannot mark would run unconfined: refuse the fork. */
		count(WD_CNT_TRACK_FAIL);
		return -ENOMEM;
	}
	*child = *parent;
	return 0;
}

/* ---- the open verdict cache -------------------------------------------- */

/*
 * An agent opens the same files again and again (headers, sources, its own
 * libraries); each open would walk the path and descend the policy tree
 * again. The verdict of an open that was allowed with no event is kept in
 * the opened inode's local storage (freed with the inode: no stale key can
 * outlive it), together with everything the verdict depended on:
 *
 *   - the agent and the policy epoch (userspace bumps policy_epoch after
 *     every change of an agent's policy, see lsm_policy_changed());
 *   - the opened (dentry, mount), the dentry's parent and name, and the
 *     task's root mount: the same objects;
 *   - two generations, read before the walk and compared at every use:
 *     renames, which every dentry move (__d_move) moves by one as it
 *     begins and one as it ends (odd while one runs: wd_rename_begins,
 *     wd_rename_ends), every rename included, even those the kernel makes
 *     with no LSM hook, as when it finds a rename done on a network file
 *     system; and the task's mount namespace's event count, moved by every
 *     mount, unmount or move in it, automount expiry included (the count
 *     poll() on /proc/self/mounts reports). The walk that fills an entry
 *     begins only when renames is even and mount_lock has no writer (an
 *     even sequence): the mount code moves the count inside that writer's
 *     section, so a rename or mount change that the walk may have seen
 *     half done leaves a generation ahead of the entry's, and with it
 *     every entry. A kernel that lacks either counter gives its seqlock's
 *     sequence instead (renames_counted, mount_events());
 *   - a single name for the inode: a directory, or a file with one link
 *     (checked again at every use: link() moves neither sequence).
 *
 * The same holds for an exec (bprm_check_security) and an executable
 * mapping (mmap_file), which judge the exec right on a file. A task whose
 * root is not the root of its mount (after chroot) is never cached.
 * Denials, audited allows and every other hook go the full way: only a
 * silent allow is skipped, so the events are the same with or without the
 * cache. If either sequence cannot be read, nothing is cached. The event
 * count is the task's namespace's: a file whose walk reaches the task's
 * root is on mounts of that namespace (a mount is attached only to one of
 * its own namespace), and any other is denied (an unresolved path), never
 * kept.
 */
extern const void rename_lock __ksym __weak;

/* 0: neither cache is read or filled (WARDEN_VERDICT_CACHE=off, lsm_open_configure()). */
const volatile __u8 verdict_cache = 1;
extern const void mount_lock __ksym __weak;

/* Bumped by userspace after it changes any agent's policy (lsm_policy_changed). */
volatile __u64 policy_epoch;

/*
 * 1: wd_rename_begins and wd_rename_ends count every dentry move in renames
 * (userspace sets it when the kernel's BTF has __d_move, and attaches them
 * before any other program); 0: rename_lock's sequence is read instead, a
 * probe read per open.
 */
const volatile __u8 renames_counted = 0;
volatile __u64 renames;
/* A move's beginning was counted: its end is counted too. */
volatile __u8 rename_running;

/*
 * Every change to a dentry's parent or name is made by __d_move(), inside
 * rename_lock's writer section (d_move, d_exchange, d_splice_alias): one
 * move at a time in the whole system, so plain flags do. A move that was
 * under way when wd_rename_begins was attached (wd_rename_ends is attached
 * first) ends uncounted: renames stays even when none runs.
 */
SEC("fentry/__d_move")
int BPF_PROG(wd_rename_begins)
{
	__sync_fetch_and_add(&renames, 1);
	rename_running = 1;
	return 0;
}

SEC("fexit/__d_move")
int BPF_PROG(wd_rename_ends)
{
	if (!rename_running)
		return 0;
	rename_running = 0;
	__sync_fetch_and_add(&renames, 1);
	return 0;
}

/* What a cached verdict was judged on. */
struct vkey {
	__u64 epoch;		/* policy_epoch before the walk */
	__u64 dentry;		/* the opened dentry, */
	__u64 parent;		/* its parent, */
	__u64 hash_len;		/* its name's d_name.hash_len, */
	__u64 mnt;		/* its mount, */
	__u64 root_mnt;		/* and the task's root (a mount's root) */
	__u64 root_dentry;
	__u32 agent;		/* the agent judged */
	__u32 rename_seq;	/* renames before the walk (or rename_lock's sequence) */
	__u32 mount_seq;	/* the namespace's mount events (or mount_lock's sequence) */
	__u32 busy;		/* not in a stored key: a rename or mount change
				 * ran when the walk began, or a sequence was
				 * unreadable */
};

struct vcache {
	__u64 ver;		/* odd while a writer fills the entry */
	__u32 rights;		/* 1 << WD_RIGHT_*: allowed with no event */
	__u32 node;		/* dcache: the policy node this directory is, whose
				 * children are looked up by name; 0: none */
	struct vkey key;
};

struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct vcache);
} vcache SEC(".maps");

/* Bits of a directory's entry's served-file filter (struct dcache_entry). */
#define SEEN_WORDS 16
#define SEEN_BITS_LOG2 10	/* 64 * SEEN_WORDS bits */

/*
 * A directory's entry: what any entry in it is allowed with no event (see
 * children_rights()), on the directory's own key. A first open there needs
 * no walk (dir_serves()).
 */
struct dcache_entry {
	struct vcache c;
	/* The files this entry served since it got its key, a bit each
	 * (seen_before()): a file served again gets an entry of its own. Only
	 * a hint on when to fill: it never decides a verdict. */
	__u64 seen[SEEN_WORDS];
};

struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct dcache_entry);
} dcache SEC(".maps");

/* A seqlock's sequence; odd (never cached) when it cannot be read. */
static __always_inline __u32 seq_of(const void *lock)
{
	__u32 seq;

	if (!lock || bpf_probe_read_kernel(&seq, sizeof(seq), lock))
		return 1;
	return seq;
}

/* One name only: a directory, or a file with a single link. */
static __always_inline bool one_name(struct inode *inode)
{
	return inode->__i_nlink == 1 || (inode->i_mode & S_IFMT) == S_IFDIR;
}

/* A dentry's name: d_name's hash and length. */
static __always_inline __u64 name_of(struct dentry *d)
{
	/* hash and len apart: BTF resolves hash_len's union to the smaller member */
	return (__u64)d->d_name.len << 32 | d->d_name.hash;
}

/* @k for an open of @file by @task of @agent, but for the sequences. */
static __always_inline void vkey_of(struct file *file, struct task_struct *task, __u32 agent,
				    struct vkey *k)
{
	struct fs_struct *fs = task->fs;
	struct dentry *dentry = file->f_path.dentry;

	k->epoch = policy_epoch;
	k->agent = agent;
	k->dentry = (__u64)dentry;
	k->parent = (__u64)dentry->d_parent;
	k->hash_len = name_of(dentry);
	k->mnt = (__u64)file->f_path.mnt;
	k->root_mnt = (__u64)fs->root.mnt;
	k->root_dentry = (__u64)fs->root.dentry;
}

/* Does this kernel's mount namespace keep an event count (mnt_namespace.event)? */
static __always_inline bool mount_events(void)
{
	return bpf_core_field_exists(struct mnt_namespace, event);
}

/* The generations of @k, for @task: plain loads, but on a kernel lacking a counter. */
static __always_inline void vkey_seqs(struct vkey *k, struct task_struct *task)
{
	k->rename_seq = renames_counted ? (__u32)renames : seq_of(&rename_lock);
	k->mount_seq = mount_events() ? (__u32)task->nsproxy->mnt_ns->event : seq_of(&mount_lock);
}

/*
 * Before a walk that may fill an entry, after vkey_seqs() (a mount change
 * that begins later moves the count): is one under way, a writer in
 * mount_lock (a probe read where the namespace's count is the generation),
 * or a rename (vcache_hit() set busy)?
 */
static __always_inline __u32 walk_busy(const struct vkey *k)
{
	return k->busy | ((mount_events() ? seq_of(&mount_lock) : k->mount_seq) & 1);
}

/*
 * Were all of @want allowed silently on the very key @k? @k comes filled
 * but for the generations, which this reads when the rest matches, and
 * before it returns false in any case, with busy if a rename is under way:
 * the walk that follows a miss is then keyed by them. The entry read
 * is lock-free: one whose ver moved meanwhile (a writer) is a miss. The
 * task's root is compared, not checked to be a mount's root: only such a
 * root is stored, and the mount that pins it cannot go without an unmount,
 * which moves the namespace's count (or mount_lock's sequence). *@entry:
 * the inode's entry, if it has one.
 */
static __always_inline bool vcache_hit(struct file *file, struct task_struct *task,
				       struct vkey *k, __u32 want, struct vcache **entry)
{
	struct vcache *c = bpf_inode_storage_get(&vcache, file->f_inode, 0, 0);
	volatile struct vcache *v = c;
	__u32 rename_seq, mount_seq;
	__u64 ver;
	bool same;

	*entry = c;
	if (!c)
		goto miss;
	ver = v->ver;
	if ((ver & 1) || (v->rights & want) != want || !one_name(file->f_inode))
		goto miss;
	same = v->key.agent == k->agent && v->key.epoch == k->epoch &&
	       v->key.dentry == k->dentry && v->key.parent == k->parent &&
	       v->key.hash_len == k->hash_len && v->key.mnt == k->mnt &&
	       v->key.root_mnt == k->root_mnt && v->key.root_dentry == k->root_dentry;
	/* Every field of the entry is read before ver is read again. */
	rename_seq = v->key.rename_seq;
	mount_seq = v->key.mount_seq;
	asm volatile("" ::: "memory");
	if (!same || v->ver != ver)
		goto miss;
	vkey_seqs(k, task);
	if (rename_seq == k->rename_seq && mount_seq == k->mount_seq)
		return true;
	goto busy;
miss:
	vkey_seqs(k, task);
busy:
	k->busy = k->rename_seq & 1;
	return false;
}

static __always_inline bool vkey_same(const struct vkey *a, const struct vkey *b)
{
	return a->agent == b->agent && a->epoch == b->epoch && a->dentry == b->dentry &&
	       a->parent == b->parent && a->hash_len == b->hash_len && a->mnt == b->mnt &&
	       a->root_mnt == b->root_mnt && a->root_dentry == b->root_dentry &&
	       a->rename_seq == b->rename_seq && a->mount_seq == b->mount_seq;
}

/*
 * May an open of @file with key @k be kept? One name, a root that is its
 * mount's root (not after chroot), no rename or mount change under way when
 * the walk began.
 */
static __always_inline bool vkey_storable(struct file *file, struct task_struct *task,
					  const struct vkey *k)
{
	struct fs_struct *fs = task->fs;

	return !k->busy && k->root_mnt && k->root_dentry == (__u64)fs->root.mnt->mnt_root &&
	       one_name(file->f_inode);
}

/*
 * Keep @rights (judged allowed, silently, on key @k) for @inode in @map, in
 * its entry @c (NULL: none yet, made here). One writer at a time (compare-
 * and-swap on ver); a reader that sees ver move walks instead of trusting a
 * half-written entry. @dir: @map is dcache (struct dcache_entry).
 */
static __always_inline void entry_put(void *map, struct inode *inode, struct vcache *c,
				      const struct vkey *k, __u32 rights, __u32 node, bool dir)
{
	__u64 ver;

	if (!c)
		c = bpf_inode_storage_get(map, inode, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c)
		return;
	ver = c->ver;
	if ((ver & 1) || __sync_val_compare_and_swap(&c->ver, ver, ver + 1) != ver)
		return;
	if (!vkey_same(&c->key, k)) {
		c->rights = 0;
		c->key = *k;
		if (dir)	/* dcache: a new key, nothing served on it yet */
			words_zero(((struct dcache_entry *)c)->seen, SEEN_WORDS);
	}
	c->node = node;		/* the same key, the same node */
	c->rights |= rights;
	asm volatile("" ::: "memory");
	__sync_fetch_and_add(&c->ver, 1);
}

static __always_inline void vcache_put(struct file *file, struct vcache *c, const struct vkey *k,
				       __u32 rights)
{
	entry_put(&vcache, file->f_inode, c, k, rights, 0, false);
	count(WD_CNT_VCACHE_FILL);
}

/*
 * @file's directory, when it is on @file's mount: @file is not the root of
 * its mount. Its key is @file's (the sequences read) with the directory's
 * dentry, parent and name (dir_key()).
 */
static __always_inline struct dentry *dir_of(struct file *file)
{
	if (file->f_path.dentry == file->f_path.mnt->mnt_root)
		return NULL;
	return file->f_path.dentry->d_parent;
}

/* How far up a first open looks for a directory's entry (dir_serves()). */
#define DIR_CLIMB 4

/*
 * Had @e served @inode before (since it got its key)? It has now.
 * A bit per file, by a hash of its inode number: another file may share it
 * (then the fill comes early), and a bit set by one CPU as another sets one
 * beside it may be lost (then it comes late).
 */
static __always_inline bool seen_before(struct dcache_entry *e, struct inode *inode)
{
	__u64 h = inode->i_ino * 0x9e3779b97f4a7c15ULL >> (64 - SEEN_BITS_LOG2);
	__u64 bit = 1ULL << (h & 63), *w = &e->seen[(h >> 6) & (SEEN_WORDS - 1)];

	if (*w & bit)
		return true;
	*w |= bit;
	return false;
}

/*
 * Does @dir's entry allow all of @want silently for its entry @below (a
 * child of @dir on the opened file's path), on the key @k of the open (the
 * sequences included)? The entry's key is @dir's own. When @dir is a node
 * (the entry's node), @below must not be one of its children by name: that
 * child has rules of its own, and no entry above can serve either (-1).
 * 1: served @inode, the opened file, for the first time since the entry
 * got its key; 2: served it again; 0: no entry that holds (look further
 * up).
 */
static __always_inline int dir_entry_serves(struct dentry *dir, struct dentry *below,
					    const struct vkey *k, __u32 want,
					    struct inode *inode)
{
	struct dcache_entry *c = bpf_inode_storage_get(&dcache, dir->d_inode, 0, 0);
	volatile struct vcache *v = &c->c;
	struct scratch *s;
	__u32 node;
	__u64 ver;
	bool same;

	if (!c)
		return 0;
	ver = v->ver;
	if ((ver & 1) || (v->rights & want) != want)
		return 0;
	same = v->key.agent == k->agent && v->key.epoch == k->epoch &&
	       v->key.dentry == (__u64)dir && v->key.parent == (__u64)dir->d_parent &&
	       v->key.hash_len == name_of(dir) && v->key.mnt == k->mnt &&
	       v->key.root_mnt == k->root_mnt && v->key.root_dentry == k->root_dentry &&
	       v->key.rename_seq == k->rename_seq && v->key.mount_seq == k->mount_seq;
	node = v->node;
	asm volatile("" ::: "memory");
	if (!same || v->ver != ver)
		return 0;
	if (node) {
		s = scratch_get();
		if (!s)
			return -1;
		scratch_claim(s);
		s->comp_name[0] = below->d_name.name;
		s->comp_len[0] = below->d_name.len;
		/* Another task's name in comp_name[0] could hide this one's rule. */
		if (wd_child(node, 0) || scratch_interleaved(s))
			return -1;
	}
	return seen_before(c, inode) ? 2 : 1;
}

/* May the dentry whose inode is @inode be on a path served from an entry above it? */
static __always_inline bool servable(struct inode *inode)
{
	return inode && one_name(inode) && !maybe_rule_object(inode->i_ino, inode->i_sb->s_dev);
}

/*
 * A first open of @file, served from the entry of its directory or of one
 * of the directories above it, up to DIR_CLIMB levels and not above the
 * root of @file's mount: allowed with no event when that entry allows all
 * of @want on the very key, and neither @file nor any directory between it
 * and that one is a rule object (the filter of the policy's identities
 * says so; it has no false negatives). @file must have a single name (a
 * deleted file is a fileless exec, a hard link may be an identity) and not
 * be a directory. All on the dentries' inodes, as the walk looks at them
 * (on overlayfs, f_inode is the real file's). No rename anywhere since the
 * entry was kept (the count of renames is in the key): the path from
 * @file up to that directory is the one the entry's walk saw below it.
 * An entry of a node's directory that names the child on the path ends
 * the search: rules lie below, so no entry above can serve either.
 * Returns 0: not served; 1: served, for the first time from that entry
 * since it got its key; 2: served again.
 */
static __noinline int dir_serves(struct file *file, const struct vkey *k, __u32 want)
{
	struct dentry *below = file->f_path.dentry;
	struct dentry *top = file->f_path.mnt->mnt_root;
	struct inode *inode = below->d_inode;
	struct dentry *dir;
	int served;

	if (!servable(inode) || (inode->i_mode & S_IFMT) == S_IFDIR)
		return false;
	/* A protection is judged, never served: an entry above it (/proc's,
	 * for a sysctl) may hold rights its own directory would not. */
	if ((want & ~(1u << WD_RIGHT_READ | 1u << WD_RIGHT_EXEC)) &&
	    (protected_fs(below) || protected_inode(inode) || protected_inode(below->d_parent->d_inode)))
		return false;
	for (int i = 0; i < DIR_CLIMB; i++) {
		if (below == top)
			return false;
		dir = below->d_parent;
		served = dir_entry_serves(dir, below, k, want, inode);
		if (served < 0)
			return 0;
		if (served)
			return served;
		if (!servable(dir->d_inode))
			return false;
		below = dir;
	}
	return false;
}

/* Keep @rights, with @node, as @dir's entry on @k, which becomes @dir's key. */
static __always_inline void dir_entry_put(struct dentry *dir, struct vkey *k, __u32 rights,
					  __u32 node)
{
	k->dentry = (__u64)dir;
	k->parent = (__u64)dir->d_parent;
	k->hash_len = name_of(dir);
	entry_put(&dcache, dir->d_inode, NULL, k, rights, node, true);
}

/*
 * Keep what any entry of @file's directory gets, as the judging of @file
 * left it in scratch (children_rights(): rights, node, levels up), as that
 * directory's entry, and, when levels above the directory are as well under
 * no node of their own, as what anything under the highest of them within
 * DIR_CLIMB levels of @file gets: a first open anywhere under it then needs
 * no walk. @k, @file's key, becomes each directory's. On the file systems
 * whose writes are protections (special_fs(): cgroups, bpffs) only reads
 * and execs: a write there is judged each time, by special_fs().
 */
static __noinline void dir_put(struct file *file, struct vkey *k)
{
	struct dentry *top = file->f_path.mnt->mnt_root;
	struct dentry *dir = dir_of(file), *high;
	struct scratch *s = scratch_get();
	__u32 rights, node, up;

	if (!dir || !s)
		return;
	rights = s->dir_rights;
	node = s->dir_node;
	up = s->dir_up;
	/* Read, then checked: what file_rights() learnt (it claimed the
	 * scratch) is kept only if no other task used the scratch since. */
	if (scratch_interleaved(s))
		return;
	if (!rights || rights == ~0u)
		return;		/* a right judged said nothing, or none was judged */
	if (protected_fs(file->f_path.dentry))	/* what special_fs() judges by */
		rights &= 1u << WD_RIGHT_READ | 1u << WD_RIGHT_EXEC;
	high = dir;
	for (int i = 0; i < DIR_CLIMB - 1; i++) {
		if (i >= up || high == top)
			break;
		high = high->d_parent;
	}
	dir_entry_put(dir, k, rights, node);
	if (high != dir)
		dir_entry_put(high, k, rights, 0);
}

/* ---- hooks: read and write --------------------------------------------- */

/*
 * One right on a file: < 0 denied; else the right's bit if allowed with no
 * event, 0 if allowed with one. @file is the hook's own (trusted) argument:
 * plain loads, no helper calls.
 */
static __always_inline int open_right(struct file *file, __u32 right)
{
	int ret = judge(file->f_path.dentry, file->f_path.mnt,
			right | JUDGE_SAY_SILENT | JUDGE_CLAIMED);

	return ret <= 0 ? ret : 1 << right;
}

/*
 * Judge the rights in @want (1 << WD_RIGHT_*: read, write, exec) on @file,
 * a trusted BTF pointer, for the current task: through the open verdict
 * cache, and into it when every right judged was allowed with no event.
 */
static __always_inline int file_rights(struct file *file, __u32 want)
{
	__u32 silent = 0;
	struct task_struct *task;
	struct vcache *entry;
	struct scratch *s;
	struct wd_task *t;
	struct vkey k;
	int ret, served;

	task = bpf_get_current_task_btf();
	t = task_mark(task);
	if (!want || !t)
		return 0;
	if (!verdict_cache)
		goto judge;
	/* The key (the epoch and sequences with it) before the walk it guards. */
	vkey_of(file, task, t->agent, &k);
	if (vcache_hit(file, task, &k, want, &entry))
		return 0;
	served = dir_serves(file, &k, want);
	if (served) {
		count(WD_CNT_DCACHE_SERVED);
		/* A serve repeated (an agent reads a file again, a shell runs
		 * the same program): the file's own entry makes the next open a
		 * hit, cheaper than a serve (a climb, a child lookup). Not at
		 * the first (1): a file read once (a search, a build) would pay
		 * for an entry, about 700 instructions and its memory, for
		 * nothing. It holds on the generations the serving entry holds
		 * on, unless a rename was under way (busy) as dir_serves() read
		 * the path. */
		if (served == 2 && vkey_storable(file, task, &k))
			vcache_put(file, entry, &k, want);
		return 0;
	}
judge:
	s = scratch_get();
	if (!s)
		return -EACCES;
	if (verdict_cache)
		k.busy = walk_busy(&k);
	scratch_claim(s);	/* dir_rights and the rest live across the judgements */
	s->dir_rights = ~0u;	/* each silent allow below narrows it */
	/* Each right asked for, in the order of enum wd_right (read first). */
#pragma unroll
	for (__u32 right = 0; right < WD_RIGHT_COUNT; right++) {
		if (!(want & (1 << right)))
			continue;
		ret = open_right(file, right);
		if (ret < 0)
			return ret;
		silent |= ret;
	}
	/*
	 * The sequences read before the walk are kept, not re-read: a rename or
	 * mount change during the walk leaves the kernel's sequence ahead of
	 * them, so this entry never serves an open.
	 */
	if (verdict_cache && silent && vkey_storable(file, task, &k)) {
		vcache_put(file, entry, &k, silent);
		/* Every right judged was a silent allow, each one's children_rights() set. */
		if (silent == want)
			dir_put(file, &k);
	}
	return 0;
}

static __always_inline int open_rights(struct file *file)
{
	unsigned int fmode = file->f_mode;
	__u32 want = 0;

	/* The kernel opening a program or interpreter to run it: that is exec,
	 * judged by bprm_check_security, not a read by the agent. */
	if (fmode & FMODE_EXEC)
		return 0;
	if (fmode & FMODE_READ)
		want |= 1 << WD_RIGHT_READ;
	if (fmode & FMODE_WRITE)
		want |= 1 << WD_RIGHT_WRITE;
	return file_rights(file, want);
}

/*
 * Raw storage and memory: a block device read or written goes around every
 * file rule of the file systems on it, and so do the character devices
 * that pass storage commands; /dev/mem, /dev/kmem and /dev/port
 * (char 1:1, 1:2, 1:4) reach the kernel's memory and I/O ports, and
 * /dev/snapshot (10:231) makes and restores hibernation images of it. No agent
 * opens one, whatever its policy, nor makes a device node (one made at an
 * allowed path would carry any device there: wd_path_mknod).
 */
#define MEM_MAJOR 1
#define MISC_MAJOR 10
#define SNAPSHOT_MINOR 231	/* /dev/snapshot: a hibernation image, all of memory */

/*
 * Character devices that carry raw storage commands (SCSI generic, bsg,
 * NVMe controllers and namespaces' generic nodes, MTD): an ioctl or an
 * io_uring command reads and writes a disk's blocks around every file
 * rule. And RDMA's (InfiniBand verbs and MADs, RoCE): their traffic goes
 * from user memory to the wire, past every socket hook and cgroup program. Their majors are dynamic: userspace reads them from /proc/devices
 * at load (lsm_raw_char_majors()); 0 ends the list.
 */
#define WD_RAW_MAJORS_MAX 12
const volatile __u32 raw_char_majors[WD_RAW_MAJORS_MAX] = {};

static __always_inline bool raw_device(struct inode *inode)
{
	__u32 mode = inode->i_mode & S_IFMT, rdev = inode->i_rdev;
	__u32 minor = rdev & 0xfffff, major = rdev >> 20;

	if (mode == S_IFBLK)
		return true;
	if (mode != S_IFCHR)
		return false;
	if (major == MEM_MAJOR)
		return minor == 1 || minor == 2 || minor == 4;
	if (major == MISC_MAJOR)
		return minor == SNAPSHOT_MINOR;
#pragma unroll
	for (int i = 0; i < WD_RAW_MAJORS_MAX; i++)
		if (raw_char_majors[i] && raw_char_majors[i] == major)
			return true;
	return false;
}

static __always_inline int open_rights_dev(struct file *file)
{
	struct inode *inode = file->f_inode;

	if (inode && raw_device(inode))
		return deny_agents(WD_TAMPER_DEVICE);
	return open_rights(file);
}

/* ---- POSIX message queues ---------------------------------------------- */

/*
 * mq_open() reaches a queue by name through the IPC namespace's internal
 * mount, which no file rule judges (and /dev/mqueue, where mounted, shows
 * the same queues): an agent could read or fill an outsider's queue, or
 * mq_unlink() it. As for System V objects, each queue an agent makes is
 * recorded with its agent, by its dentry (it lives as long as the queue:
 * made at inode_create, gone at inode_unlink, the only ways in and out);
 * an agent opens and removes only those. Any create on the file system
 * passes inode_create first, so an address reused is written over.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);	/* struct dentry * */
	__type(value, __u32);	/* agent id */
} mq_owners SEC(".maps");

static __always_inline bool on_mqueue(struct inode *inode)
{
	return inode && inode->i_sb->s_magic == MQUEUE_MAGIC;
}

/* May the current task use or remove the queue at @dentry? */
static __noinline int mq_use(__u64 dentry)
{
	struct wd_task *t = current_mark();
	__u32 *owner;

	if (!t)
		return 0;
	owner = bpf_map_lookup_elem(&mq_owners, &dentry);
	if (owner && *owner == t->agent)
		return 0;
	return wd_tamper(t->agent, WD_TAMPER_IPC, 0, 0);
}

SEC("lsm/file_open")
int BPF_PROG(wd_file_open, struct file *file, int ret)
{
	if (ret)
		return ret;
	/* mq_open(): an outsider's queue (see mq_owners); then, through a
	 * mounted /dev/mqueue, the file rules. */
	if (on_mqueue(file->f_inode)) {
		ret = mq_use((__u64)file->f_path.dentry);
		if (ret)
			return lsm_verdict(ret);
	}
	return lsm_verdict(open_rights_dev(file));
}

/* A file passed in over a unix socket is judged as if the agent opened it. */
SEC("lsm/file_receive")
int BPF_PROG(wd_file_receive, struct file *file, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(open_rights_dev(file));
}

SEC("lsm/path_truncate")
int BPF_PROG(wd_path_truncate, const struct path *path, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_path(path, WD_RIGHT_WRITE));
}

SEC("lsm/path_chmod")
int BPF_PROG(wd_path_chmod, const struct path *path, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_path(path, WD_RIGHT_WRITE));
}

SEC("lsm/path_chown")
int BPF_PROG(wd_path_chown, const struct path *path, __u32 uid, __u32 gid, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_path(path, WD_RIGHT_WRITE));
}

/*
 * Hooks that get a dentry but no mount (times, xattrs): judge the object
 * under every mount of its file system in the agent's mount namespace that
 * holds it (a bind mount is one more path to it); all must allow, and at
 * least one must hold it. The superblock's list of mounts changed shape
 * in 6.8; both are read through CO-RE.
 */
struct super_block___v61 {
	struct list_head s_mounts;
} __attribute__((preserve_access_index));

struct mount___v61 {
	struct list_head mnt_instance;
} __attribute__((preserve_access_index));

static __always_inline void add_mount(struct mounts *mo, struct mount *m)
{
	if ((__u64)BPF_CORE_READ(m, mnt_ns) != mo->ns)
		return;
	if (mo->n >= DENTRY_MOUNTS_MAX) {
		mo->more = true;
		return;
	}
	mo->cand[mo->n & (DENTRY_MOUNTS_MAX - 1)] = (__u64)m;
	mo->n++;
}

/* Since 6.8: a singly linked list through mnt_next_for_sb. */
static long mounts_step(__u32 i, void *arg)
{
	struct scratch *s = scratch_get();
	struct mount *m;

	if (!s || !s->mo.pos)
		return 1;
	m = (struct mount *)s->mo.pos;
	add_mount(&s->mo, m);
	s->mo.pos = (__u64)BPF_CORE_READ(m, mnt_next_for_sb);
	return 0;
}

/* Before 6.8: a list_head through mnt_instance. */
static long mounts_step_v61(__u32 i, void *arg)
{
	struct scratch *s = scratch_get();
	struct list_head *pos;

	if (!s || !s->mo.pos || s->mo.pos == s->mo.head)
		return 1;
	pos = (struct list_head *)s->mo.pos;
	add_mount(&s->mo, (struct mount *)((char *)pos -
					   bpf_core_field_offset(struct mount___v61, mnt_instance)));
	s->mo.pos = (__u64)BPF_CORE_READ(pos, next);
	return 0;
}

__noinline int wd_judge_dentry(__u64 dentry, __u32 right)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct super_block *sb = BPF_CORE_READ((struct dentry *)dentry, d_sb);
	struct scratch *s = scratch_get();
	struct mounts *mo;
	int held = 0, ret;
	__u64 cand;

	if (!current_mark() || !s)
		return 0;
	scratch_claim(s);	/* the mounts found are judged from the scratch */
	mo = &s->mo;
	__builtin_memset(mo, 0, sizeof(*mo));
	mo->ns = (__u64)BPF_CORE_READ(task, nsproxy, mnt_ns);
	if (bpf_core_field_exists(struct mount, mnt_next_for_sb)) {
		mo->pos = (__u64)BPF_CORE_READ(sb, s_mounts);
		bpf_loop(SB_MOUNTS_SCAN, mounts_step, NULL, 0);
		mo->more |= mo->pos != 0;
	} else {
		struct super_block___v61 *old = (void *)sb;

		mo->head = (__u64)&old->s_mounts;
		mo->pos = (__u64)BPF_CORE_READ(old, s_mounts.next);
		bpf_loop(SB_MOUNTS_SCAN, mounts_step_v61, NULL, 0);
		mo->more |= mo->pos && mo->pos != mo->head;
	}
	for (int i = 0; i < DENTRY_MOUNTS_MAX; i++) {
		s = scratch_get();
		if (!s || i >= s->mo.n)
			break;
		cand = s->mo.cand[i];
		ret = wd_judge(dentry, (__u64)&((struct mount *)cand)->mnt,
			       right | JUDGE_SKIP_FOREIGN | JUDGE_CLAIMED);
		if (ret < 0)
			return ret;
		if (ret == 0)
			held++;
	}
	s = scratch_get();
	if (s && held && !s->mo.more && !scratch_interleaved(s))
		return 0;
	/* Not found under any mount we could see: fail closed. */
	return wd_judge(dentry, 0, right);
}

/*
 * The hook gained the mount's idmap as its first argument in 6.3 (6.1:
 * dentry, iattr). Both are here; user/lsm.c loads the one whose arity the
 * kernel's BTF prototype of bpf_lsm_inode_setattr has (hook_variants[]).
 */
SEC("lsm/inode_setattr")
int BPF_PROG(wd_inode_setattr, struct dentry *dentry, struct iattr *attr, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_dentry(dentry, WD_RIGHT_WRITE));
}

SEC("lsm/inode_setattr")
int BPF_PROG(wd_inode_setattr_idmap, struct mnt_idmap *idmap, struct dentry *dentry,
	     struct iattr *attr, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_dentry(dentry, WD_RIGHT_WRITE));
}

SEC("lsm/inode_setxattr")
int BPF_PROG(wd_inode_setxattr, struct user_namespace *mnt_userns, struct dentry *dentry,
	     const char *name, const void *value, size_t size, int flags, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_dentry(dentry, WD_RIGHT_WRITE));
}

SEC("lsm/inode_removexattr")
int BPF_PROG(wd_inode_removexattr, struct user_namespace *mnt_userns, struct dentry *dentry,
	     const char *name, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_dentry(dentry, WD_RIGHT_WRITE));
}

/*
 * File system notifications: inotify_add_watch() and fanotify_mark() (not
 * dnotify, which needs a directory already opened). A watch on an inode
 * reports the names made, opened and removed under it: it needs read on
 * its path, as listing does. A mark on a whole mount or file system
 * reports every process's files there, beyond any rule; a permission event
 * holds every open (or read, or exec) of the object, warden's and the
 * host's, until the agent answers. Neither is an agent's (protection
 * "notify"); both need CAP_SYS_ADMIN, which root keeps.
 */
#define FSNOTIFY_OBJ_TYPE_INODE 0
#define FS_ALL_PERM_EVENTS 0x00070000ull	/* FS_OPEN_PERM | FS_ACCESS_PERM | FS_OPEN_EXEC_PERM */

SEC("lsm/path_notify")
int BPF_PROG(wd_path_notify, const struct path *path, __u64 mask, unsigned int obj_type, int ret)
{
	if (ret)
		return ret;
	if (obj_type != FSNOTIFY_OBJ_TYPE_INODE || (mask & FS_ALL_PERM_EVENTS))
		return lsm_verdict(deny_agents(WD_TAMPER_NOTIFY));
	return lsm_verdict(judge_path(path, WD_RIGHT_READ));
}

/*
 * POSIX ACLs: since 6.2, setfacl (a setxattr of system.posix_acl_access or
 * _default) and its removal come here instead of inode_setxattr. An ACL
 * changes who may write, and with it the group mode bits: a write.
 * Loaded where the kernel has the hooks (kfeatures: set_acl).
 */
SEC("lsm/inode_set_acl")
int BPF_PROG(wd_inode_set_acl, struct mnt_idmap *idmap, struct dentry *dentry,
	     const char *acl_name, struct posix_acl *kacl, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_dentry(dentry, WD_RIGHT_WRITE));
}

SEC("lsm/inode_remove_acl")
int BPF_PROG(wd_inode_remove_acl, struct mnt_idmap *idmap, struct dentry *dentry,
	     const char *acl_name, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_dentry(dentry, WD_RIGHT_WRITE));
}

/* ---- hooks: create and delete ------------------------------------------ */

SEC("lsm/path_mknod")	/* also every open(O_CREAT) of a new file */
int BPF_PROG(wd_path_mknod, const struct path *dir, struct dentry *dentry, umode_t mode,
	     unsigned int dev, int ret)
{
	if (ret)
		return ret;
	/* A device node, but an overlayfs whiteout (char 0:0). */
	if (((mode & S_IFMT) == S_IFBLK || (mode & S_IFMT) == S_IFCHR) && dev)
		return lsm_verdict(deny_agents(WD_TAMPER_DEVICE));
	return lsm_verdict(judge_in(dir, dentry, WD_RIGHT_CREATE));
}

SEC("lsm/path_mkdir")
int BPF_PROG(wd_path_mkdir, const struct path *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_in(dir, dentry, WD_RIGHT_CREATE));
}

SEC("lsm/path_symlink")
int BPF_PROG(wd_path_symlink, const struct path *dir, struct dentry *dentry, const char *old_name,
	     int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_in(dir, dentry, WD_RIGHT_CREATE));
}

SEC("lsm/path_link")
int BPF_PROG(wd_path_link, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, int ret)
{
	struct vfsmount *mnt;

	if (ret)
		return ret;
	mnt = BPF_CORE_READ(new_dir, mnt);
	ret = judge(new_dentry, mnt, WD_RIGHT_CREATE);
	if (ret)
		return lsm_verdict(ret);
	return lsm_verdict(wd_refer(scalar(old_dentry), scalar(new_dentry), scalar(mnt)));
}

SEC("lsm/path_unlink")
int BPF_PROG(wd_path_unlink, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_in(dir, dentry, WD_RIGHT_DELETE));
}

SEC("lsm/path_rmdir")
int BPF_PROG(wd_path_rmdir, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_in(dir, dentry, WD_RIGHT_DELETE));
}

/*
 * Rename: delete at the source, create at the destination (and delete
 * there, when it replaces something); an exchange is both ways round.
 */
SEC("lsm/path_rename")
int BPF_PROG(wd_path_rename, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry, unsigned int flags, int ret)
{
	struct vfsmount *mnt;
	bool exchange = flags & RENAME_EXCHANGE;

	if (ret)
		return ret;
	if (!current_mark())
		return 0;
	mnt = BPF_CORE_READ(old_dir, mnt);	/* rename never crosses mounts */
	ret = judge(old_dentry, mnt, WD_RIGHT_DELETE);
	if (!ret)
		ret = judge(new_dentry, mnt, WD_RIGHT_CREATE);
	if (!ret && BPF_CORE_READ(new_dentry, d_inode))
		ret = judge(new_dentry, mnt, WD_RIGHT_DELETE);
	if (!ret && exchange)
		ret = judge(old_dentry, mnt, WD_RIGHT_CREATE);
	if (!ret)
		ret = wd_refer(scalar(old_dentry), scalar(new_dentry), scalar(mnt));
	if (!ret && exchange)
		ret = wd_refer(scalar(new_dentry), scalar(old_dentry), scalar(mnt));
	return lsm_verdict(ret);
}

/* ---- hooks: exec ------------------------------------------------------- */

/* Called for the program and again for each interpreter (#!, binfmt_misc). */
SEC("lsm/bprm_check_security")
int BPF_PROG(wd_bprm_check, struct linux_binprm *bprm, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(file_rights(bprm->file, 1 << WD_RIGHT_EXEC));
}

/* ld.so and dlopen map libraries executable; so can anyone. */
SEC("lsm/mmap_file")
int BPF_PROG(wd_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	if (ret)
		return ret;
	if (!file || !(prot & PROT_EXEC))
		return 0;
	return lsm_verdict(file_rights(file, 1 << WD_RIGHT_EXEC));
}

SEC("lsm/file_mprotect")
int BPF_PROG(wd_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	struct file *file;

	if (ret)
		return ret;
	if (!(prot & PROT_EXEC) || (BPF_CORE_READ(vma, vm_flags) & VM_EXEC))
		return 0;
	file = vma->vm_file;	/* a BTF pointer, as judge_file() wants */
	if (!file)
		return 0;
	return lsm_verdict(judge_file(file, WD_RIGHT_EXEC));
}

/* ---- hooks: protections ------------------------------------------------ */

SEC("lsm/bpf")
int BPF_PROG(wd_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(deny_agents(WD_TAMPER_BPF));
}

/*
 * perf_event_open: sampling another process reads its registers and user
 * stacks (CAP_PERFMON skips the ptrace check), and a CPU-wide or kernel
 * event watches every process; none serves a coding agent. The hook lost
 * its attr in 6.x: one program per prototype (user/lsm.c, hook_variants).
 */
SEC("lsm/perf_event_open")
int BPF_PROG(wd_perf_event_open, struct perf_event_attr *attr, int type, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(deny_agents(WD_TAMPER_PERF));
}

SEC("lsm/perf_event_open")
int BPF_PROG(wd_perf_event_open_noattr, int type, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(deny_agents(WD_TAMPER_PERF));
}

SEC("lsm/kernel_module_request")
int BPF_PROG(wd_module_request, char *kmod_name, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(deny_agents(WD_TAMPER_MODULE));
}

SEC("lsm/kernel_read_file")	/* finit_module, firmware, kexec, policy */
int BPF_PROG(wd_kernel_read_file, struct file *file, enum kernel_read_file_id id, bool contents,
	     int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(deny_agents(WD_TAMPER_MODULE));
}

SEC("lsm/kernel_load_data")	/* init_module, kexec_load */
int BPF_PROG(wd_kernel_load_data, enum kernel_load_data_id id, bool contents, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(deny_agents(WD_TAMPER_MODULE));
}

/*
 * The kernel log: clearing it (evidence of what the agent did, warden's
 * messages) and the console's level and switch are the host's. Reading is
 * left to dmesg_restrict.
 */
#define SYSLOG_ACTION_READ_CLEAR 4
#define SYSLOG_ACTION_CONSOLE_LEVEL 8

SEC("lsm/syslog")
int BPF_PROG(wd_syslog, int type, int ret)
{
	if (ret || type < SYSLOG_ACTION_READ_CLEAR || type > SYSLOG_ACTION_CONSOLE_LEVEL)
		return ret;
	return lsm_verdict(deny_agents(WD_TAMPER_KCONFIG));
}

/*
 * Disk quotas: the limits and grace times of every user on a file system,
 * quotas switched on or off (CAP_SYS_ADMIN, which root keeps): the host's
 * administration (kernel_config). Reading them, and syncing, are left
 * alone. Q_QUOTAON passes here before quota_on.
 */
static __always_inline bool quota_reads(int cmd)
{
	switch (cmd) {
	case 0x800001:	/* Q_SYNC */
	case 0x800004:	/* Q_GETFMT */
	case 0x800005:	/* Q_GETINFO */
	case 0x800007:	/* Q_GETQUOTA */
	case 0x800009:	/* Q_GETNEXTQUOTA */
	case 0x5803:	/* Q_XGETQUOTA */
	case 0x5805:	/* Q_XGETQSTAT */
	case 0x5807:	/* Q_XQUOTASYNC */
	case 0x5808:	/* Q_XGETQSTATV */
	case 0x5809:	/* Q_XGETNEXTQUOTA */
		return true;
	}
	return false;
}

SEC("lsm/quotactl")
int BPF_PROG(wd_quotactl, int cmd, int type, int id, const struct super_block *sb, int ret)
{
	if (ret || quota_reads(cmd))
		return ret;
	return lsm_verdict(deny_agents(WD_TAMPER_KCONFIG));
}

/*
 * Mount changes that never pass sb_mount: mount_setattr (a mount's flags,
 * propagation, idmapping), and the new mount API's open_tree(OPEN_TREE_CLONE),
 * fsopen, fspick and fsmount (a new or reconfigured super block, a detached
 * mount). None has an LSM hook of its own; each asks may_mount() for
 * CAP_SYS_ADMIN first, so the capable hook refuses it, knowing the call by
 * its system call number (the 32-bit table numbers these alike).
 */
#define CAP_SYS_ADMIN 21
#define NR_open_tree 428
#define NR_fsopen 430
#define NR_fsmount 432
#define NR_fspick 433
#define NR_mount_setattr 442
#define X32_SYSCALL_BIT 0x40000000

static __always_inline bool mount_api_call(void)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	long nr;

	if (!regs)
		return false;
	nr = BPF_CORE_READ(regs, orig_ax) & ~X32_SYSCALL_BIT;
	return nr == NR_open_tree || nr == NR_fsopen || nr == NR_fsmount || nr == NR_fspick ||
	       nr == NR_mount_setattr;
}

/*
 * The capabilities an agent loses (WD_CAPS_REMOVED, less what its policy
 * gives back). Only a check against the initial user namespace is one over
 * the host: in a namespace the agent made, a capability governs that
 * namespace's own objects. A probe (CAP_OPT_NOAUDIT: the kernel asking
 * whether to offer something) is refused without an event. Only root's
 * checks get here: the capability module refused the rest first (ret).
 */
#define CAP_OPT_NOAUDIT 0x2
#define CAP_SYS_MODULE 16

static __always_inline int capability_removed(int ns_level, int cap, unsigned int opts)
{
	struct wd_task *t;
	struct wd_agent *agent;

	if (cap < 0 || cap > 63 || !(WD_CAPS_REMOVED & (1ull << cap)))
		return 0;
	t = current_mark();
	if (!t || ns_level != 0)
		return 0;
	agent = bpf_map_lookup_elem(&agents, &t->agent);
	if (agent && (agent->caps_granted & WD_CAPS_GRANTABLE & (1ull << cap)))
		return 0;
	/* CAP_SYS_MODULE: the check before every module load or unload */
	return wd_tamper(t->agent, (cap == CAP_SYS_MODULE ? WD_TAMPER_MODULE : WD_TAMPER_CAPABILITY) |
				   (opts & CAP_OPT_NOAUDIT ? TAMPER_QUIET : 0), 0, cap);
}

SEC("lsm/capable")
int BPF_PROG(wd_capable, const struct cred *cred, struct user_namespace *ns, int cap,
	     unsigned int opts, int ret)
{
	if (ret)
		return ret;
	if (cap == CAP_SYS_ADMIN)
		return mount_api_call() ? lsm_verdict(deny_agents(WD_TAMPER_MOUNT)) : 0;
	return lsm_verdict(capability_removed(BPF_CORE_READ(ns, level), cap, opts));
}

/*
 * A mapping below vm.mmap_min_addr (page 0: a kernel NULL dereference
 * then reads what the agent put there). The capability module checks
 * CAP_SYS_RAWIO here with cap_capable() itself, not through the capable
 * hook, so the removal is applied here too. The sysctl's value at load
 * (an agent cannot change it: kernel_config).
 */
#define CAP_SYS_RAWIO 17
const volatile __u64 mmap_min_addr = 0;

SEC("lsm/mmap_addr")
int BPF_PROG(wd_mmap_addr, unsigned long addr, int ret)
{
	if (ret || addr >= mmap_min_addr)
		return ret;
	return lsm_verdict(capability_removed(0, CAP_SYS_RAWIO, 0));
}

/*
 * request_key(2) of a key that does not exist yet: the kernel constructs it
 * by starting /sbin/request-key (keyutils) as root from a kernel thread,
 * outside the instance and unmarked, with arguments the agent chose: a
 * program started for it. The construction allocates the key first; an
 * agent's key_alloc inside request_key(2) is refused (protection
 * "upcall"). add_key and the keyrings a session makes are the agent's. The
 * 32-bit table's number (287) is timerfd_gettime in the 64-bit one, which
 * makes no key.
 */
#define NR_request_key 249
#define NR_request_key_32 287

static __always_inline bool in_request_key(void)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	long nr;

	if (!regs)
		return false;
	nr = BPF_CORE_READ(regs, orig_ax) & ~X32_SYSCALL_BIT;
	return nr == NR_request_key || nr == NR_request_key_32;
}

/*
 * Keys and keyrings are shared by uid, not by process: the user keyring
 * (@u) is every process's of the uid, a login's session keyring is its
 * children's, and a root agent can reach any uid's. An agent could read an
 * outsider's Kerberos ticket or CIFS/NFS password, revoke or change its
 * keys, or plant a key where an outsider will search. As for System V
 * objects, each key an agent makes is recorded with its agent; on any
 * other key an agent may view, search and link (what finding its own keys
 * needs), not read, write (update, revoke, add to or remove from a
 * keyring), set attributes or unlink. EPERM, not EACCES: keyctl_read()
 * takes EACCES as "try the possessor's way" and would read anyway.
 */
#define KEY_NEED_READ 2
#define KEY_NEED_WRITE 3
#define KEY_NEED_SETATTR 6
#define KEY_NEED_UNLINK 7

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);	/* struct key * */
	__type(value, __u32);	/* agent id */
} key_owners SEC(".maps");

SEC("lsm/key_alloc")
int BPF_PROG(wd_key_alloc, struct key *key, const struct cred *cred, unsigned long flags, int ret)
{
	__u64 k = (__u64)key;
	struct wd_task *t;

	if (ret)
		return ret;
	t = current_mark();
	if (!t) {
		bpf_map_delete_elem(&key_owners, &k);	/* a reused address */
		return 0;
	}
	if (in_request_key())
		return lsm_verdict(wd_tamper(t->agent, WD_TAMPER_UPCALL, 0, 0));
	/* A full map refuses the key: it could not be the agent's later. */
	return bpf_map_update_elem(&key_owners, &k, &t->agent, BPF_ANY) ? -ENOMEM : 0;
}

/*
 * Where the kernel has the hook (not 6.12): a freed key's entry goes at
 * once. Elsewhere it stays until the address is reused, which the
 * allocation then overwrites (key_alloc), or the map fills (refused).
 */
SEC("lsm/key_free")
int BPF_PROG(wd_key_free, struct key *key)
{
	__u64 k = (__u64)key;

	bpf_map_delete_elem(&key_owners, &k);
	return 0;
}

/*
 * key_permission(key_ref_t key_ref, const struct cred *cred, enum
 * key_need_perm need_perm): key_ref points to a structure the kernel never
 * defines (a key pointer with a flag in its low bit), which the 6.1
 * verifier will not let a program load from its context; it is read from
 * the context's memory instead.
 */
SEC("lsm/key_permission")
int wd_key_permission(unsigned long long *ctx)
{
	int need_perm = (int)ctx[2], ret = (int)ctx[3];
	struct wd_task *t;
	__u32 *owner;
	__u64 k = 0;

	if (ret)
		return ret;
	if (need_perm != KEY_NEED_READ && need_perm != KEY_NEED_WRITE &&
	    need_perm != KEY_NEED_SETATTR && need_perm != KEY_NEED_UNLINK)
		return 0;
	t = current_mark();
	if (!t)
		return 0;
	if (bpf_probe_read_kernel(&k, sizeof(k), &ctx[0]))
		return lsm_verdict(-EPERM);	/* cannot tell whose key: refuse */
	k &= ~1ull;	/* the low bit: "possessed" */
	owner = bpf_map_lookup_elem(&key_owners, &k);
	if (owner && *owner == t->agent)
		return 0;
	return lsm_verdict(wd_tamper(t->agent, WD_TAMPER_KEY, 0, need_perm));
}

SEC("lsm/sb_mount")
int BPF_PROG(wd_sb_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(deny_agents(WD_TAMPER_MOUNT));
}

SEC("lsm/sb_umount")
int BPF_PROG(wd_sb_umount, struct vfsmount *mnt, int flags, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(deny_agents(WD_TAMPER_MOUNT));
}

SEC("lsm/move_mount")
int BPF_PROG(wd_move_mount, const struct path *from_path, const struct path *to_path, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(deny_agents(WD_TAMPER_MOUNT));
}

SEC("lsm/sb_pivotroot")
int BPF_PROG(wd_sb_pivotroot, const struct path *old_path, const struct path *new_path, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(deny_agents(WD_TAMPER_MOUNT));
}

SEC("lsm/path_chroot")
int BPF_PROG(wd_path_chroot, const struct path *path, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(deny_agents(WD_TAMPER_MOUNT));
}

SEC("lsm/task_kill")
int BPF_PROG(wd_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(outside_instance(p, WD_TAMPER_SIGNAL, sig));
}

/*
 * Resource limits of another process (prlimit(2) with new limits): a low
 * RLIMIT_CPU makes the kernel kill it, warden included, a signal by
 * another route. Reading another's limits is left alone.
 */
SEC("lsm/task_setrlimit")
int BPF_PROG(wd_task_setrlimit, struct task_struct *p, unsigned int resource,
	     struct rlimit *new_rlim, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(outside_instance(p, WD_TAMPER_RLIMIT, resource));
}

/*
 * An outsider's scheduling: its nice value (setpriority(2), PRIO_PGRP and
 * PRIO_USER too: each process of the group or user is asked about), its
 * I/O priority, its policy, priority or CPUs. A root agent could starve
 * warden's user space (events are then lost, and counted) or any service
 * on the host. The agent's own processes are its own to change.
 */
SEC("lsm/task_setnice")
int BPF_PROG(wd_task_setnice, struct task_struct *p, int nice, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(outside_instance(p, WD_TAMPER_SCHED, WD_SCHED_NICE));
}

SEC("lsm/task_setioprio")
int BPF_PROG(wd_task_setioprio, struct task_struct *p, int ioprio, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(outside_instance(p, WD_TAMPER_SCHED, WD_SCHED_IOPRIO));
}

SEC("lsm/task_setscheduler")
int BPF_PROG(wd_task_setscheduler, struct task_struct *p, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(outside_instance(p, WD_TAMPER_SCHED, WD_SCHED_SCHEDULER));
}

/* /proc/PID files of an outsider: see proc_file_outsider(). */
SEC("lsm/task_to_inode")
int BPF_PROG(wd_task_to_inode, struct task_struct *p, struct inode *inode)
{
	struct wd_task *o = task_mark(p);
	__u32 *owner;

	if (o)
		owner = bpf_inode_storage_get(&proc_owner, inode, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	else
		owner = bpf_inode_storage_get(&proc_owner, inode, 0, 0);
	if (owner)
		*owner = o ? o->agent + 1 : 0;
	return 0;
}

/* ---- System V IPC ------------------------------------------------------ */

/*
 * Shared memory, message queues and semaphore sets are named by a number,
 * not a path: an agent could attach an outsider's shared memory, read or
 * fill its queues, or remove them. Each object an agent makes is recorded
 * here with its agent; an agent may use and control only those (with
 * IPC_PRIVATE or a key, as it likes). Objects are few (kernel.shmmni,
 * msgmni, semmni); a full map refuses the new object (fail closed).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);	/* struct kern_ipc_perm * */
	__type(value, __u32);	/* agent id */
} ipc_owners SEC(".maps");

static __always_inline int ipc_made(struct kern_ipc_perm *perm)
{
	struct wd_task *t = current_mark();
	__u64 key = (__u64)perm;

	if (!t) {
		bpf_map_delete_elem(&ipc_owners, &key);	/* a reused address */
		return 0;
	}
	return bpf_map_update_elem(&ipc_owners, &key, &t->agent, BPF_ANY) ? -ENOMEM : 0;
}

static __always_inline void ipc_gone(struct kern_ipc_perm *perm)
{
	__u64 key = (__u64)perm;

	bpf_map_delete_elem(&ipc_owners, &key);
}

/* May the current task (an agent's, or not) use or control @perm? */
static __always_inline int ipc_use(struct kern_ipc_perm *perm)
{
	struct wd_task *t;
	__u64 key = (__u64)perm;
	__u32 *owner;

	if (!perm)
		return 0;	/* IPC_INFO and the like: no object */
	t = current_mark();
	if (!t)
		return 0;
	owner = bpf_map_lookup_elem(&ipc_owners, &key);
	if (owner && *owner == t->agent)
		return 0;
	return wd_tamper(t->agent, WD_TAMPER_IPC, 0, 0);
}

SEC("lsm/shm_alloc_security")
int BPF_PROG(wd_shm_alloc, struct kern_ipc_perm *perm, int ret)
{
	return ret ? ret : lsm_verdict(ipc_made(perm));
}

SEC("lsm/msg_queue_alloc_security")
int BPF_PROG(wd_msg_alloc, struct kern_ipc_perm *perm, int ret)
{
	return ret ? ret : lsm_verdict(ipc_made(perm));
}

SEC("lsm/sem_alloc_security")
int BPF_PROG(wd_sem_alloc, struct kern_ipc_perm *perm, int ret)
{
	return ret ? ret : lsm_verdict(ipc_made(perm));
}

SEC("lsm/shm_free_security")
int BPF_PROG(wd_shm_free, struct kern_ipc_perm *perm)
{
	ipc_gone(perm);
	return 0;
}

SEC("lsm/msg_queue_free_security")
int BPF_PROG(wd_msg_free, struct kern_ipc_perm *perm)
{
	ipc_gone(perm);
	return 0;
}

SEC("lsm/sem_free_security")
int BPF_PROG(wd_sem_free, struct kern_ipc_perm *perm)
{
	ipc_gone(perm);
	return 0;
}

/* Every use past the file-like permission check: get, attach, send, receive, semop. */
SEC("lsm/ipc_permission")
int BPF_PROG(wd_ipc_permission, struct kern_ipc_perm *ipcp, short flag, int ret)
{
	return ret ? ret : lsm_verdict(ipc_use(ipcp));
}

/* Control (IPC_RMID, IPC_SET, ...): the owner's or root's, without ipc_permission. */
SEC("lsm/shm_shmctl")
int BPF_PROG(wd_shm_shmctl, struct kern_ipc_perm *perm, int cmd, int ret)
{
	return ret ? ret : lsm_verdict(ipc_use(perm));
}

SEC("lsm/msg_queue_msgctl")
int BPF_PROG(wd_msg_msgctl, struct kern_ipc_perm *perm, int cmd, int ret)
{
	return ret ? ret : lsm_verdict(ipc_use(perm));
}

SEC("lsm/sem_semctl")
int BPF_PROG(wd_sem_semctl, struct kern_ipc_perm *perm, int cmd, int ret)
{
	return ret ? ret : lsm_verdict(ipc_use(perm));
}

/* ---- POSIX message queues: made and removed (mq_owners, above file_open) */

SEC("lsm/inode_create")
int BPF_PROG(wd_inode_create, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	__u64 key = (__u64)dentry;
	struct wd_task *t;

	if (ret || !on_mqueue(dir))
		return ret;
	t = current_mark();
	if (!t) {
		bpf_map_delete_elem(&mq_owners, &key);
		return 0;
	}
	/* A full map refuses the queue: it could not be the agent's later. */
	return bpf_map_update_elem(&mq_owners, &key, &t->agent, BPF_ANY) ? -ENOMEM : 0;
}

SEC("lsm/inode_unlink")
int BPF_PROG(wd_inode_unlink, struct inode *dir, struct dentry *dentry, int ret)
{
	__u64 key = (__u64)dentry;

	if (ret || !on_mqueue(dir))
		return ret;
	ret = lsm_verdict(mq_use(key));
	if (!ret)
		bpf_map_delete_elem(&mq_owners, &key);
	return ret;
}

/* ---- binder -------------------------------------------------------------- */

/*
 * Binder (Android's IPC; a module of Debian's standard kernels, loaded by
 * hosts that run Android containers): a transaction reaches another
 * process's service, a transferred binder or file is a capability into
 * another process. The hooks name the two ends by credentials, not tasks,
 * so an agent's own processes cannot be told from outsiders: agents do not
 * use binder at all (protection "ipc"). What an outsider sends an agent is
 * the outsider's choice.
 */
SEC("lsm/binder_set_context_mgr")
int BPF_PROG(wd_binder_set_context_mgr, const struct cred *mgr, int ret)
{
	return ret ? ret : lsm_verdict(deny_agents(WD_TAMPER_IPC));
}

SEC("lsm/binder_transaction")
int BPF_PROG(wd_binder_transaction, const struct cred *from, const struct cred *to, int ret)
{
	return ret ? ret : lsm_verdict(deny_agents(WD_TAMPER_IPC));
}

SEC("lsm/binder_transfer_binder")
int BPF_PROG(wd_binder_transfer_binder, const struct cred *from, const struct cred *to, int ret)
{
	return ret ? ret : lsm_verdict(deny_agents(WD_TAMPER_IPC));
}

SEC("lsm/binder_transfer_file")
int BPF_PROG(wd_binder_transfer_file, const struct cred *from, const struct cred *to,
	     const struct file *file, int ret)
{
	return ret ? ret : lsm_verdict(deny_agents(WD_TAMPER_IPC));
}

/* ptrace, /proc/PID/mem and other /proc files, process_vm_*, pidfd_getfd */
SEC("lsm/ptrace_access_check")
int BPF_PROG(wd_ptrace_access_check, struct task_struct *child, unsigned int mode, int ret)
{
	if (ret)
		return ret;
	/* ps and friends probe /proc/PID with NOAUDIT: deny those quietly. */
	return lsm_verdict(outside_instance(child, WD_TAMPER_PTRACE |
				(mode & PTRACE_MODE_NOAUDIT ? TAMPER_QUIET : 0), mode));
}

/* ---- SIGIO: signals the kernel sends on a file's owner's behalf -------- */

/*
 * F_SETOWN names the process the kernel signals when I/O is possible on a
 * file (O_ASYNC), F_SETSIG the signal: any signal, to any process, sent at
 * each delivery with no task_kill check (file_send_sigiotask says nothing
 * of who chose the owner). So an agent may name only itself as a file's
 * owner, and choose the signal only of a file it owns or that has no
 * owner: F_SETOWN's argument is a number, checked here as the kernel will
 * read it. F_SETOWN_EX, FIOSETOWN and SIOCSPGRP pass the owner through
 * memory the agent can change between this check and the kernel's read,
 * so agents are refused them (F_SETOWN does the same). A process group
 * may hold outsiders: refused too.
 */
#define F_SETOWN 8
#define F_SETSIG 10
#define F_SETOWN_EX 15
#define FIOSETOWN 0x8901
#define SIOCSPGRP 0x8902
#define SIGIO 29

/* @pid's number in its own (deepest) namespace: the one its task's own calls use. */
static __always_inline __s32 pid_nr_own_ns(struct pid *pid)
{
	__u32 level = BPF_CORE_READ(pid, level);
	__s32 nr = 0;

	bpf_probe_read_kernel(&nr, sizeof(nr), (void *)pid + bpf_core_field_offset(struct pid, numbers) +
			      (level & 63) * bpf_core_type_size(struct upid) +
			      bpf_core_field_offset(struct upid, nr));
	return nr;
}

/* Does F_SETOWN's @who name the calling process (or clear the owner)? */
static __always_inline bool owner_arg_is_self(long who)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return who == 0 || who == pid_nr_own_ns(task->thread_pid) ||
	       who == pid_nr_own_ns(task->group_leader->thread_pid);
}

/* 6.1 embeds a file's owner; later kernels point to it (NULL until set). */
struct file___fown_embedded {
	struct fown_struct f_owner;
} __attribute__((preserve_access_index));

struct file___fown_pointer {
	struct fown_struct *f_owner;
} __attribute__((preserve_access_index));

/* Is @file's owner unset, or the calling process itself (not its group)? */
static __always_inline bool file_owner_is_self(struct file *file)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fown_struct *fown;
	struct pid *pid;
	int type;

	if (bpf_core_field_exists(struct file___fown_embedded, f_owner))
		fown = &((struct file___fown_embedded *)file)->f_owner;
	else
		fown = BPF_CORE_READ((struct file___fown_pointer *)file, f_owner);
	if (!fown)
		return true;
	pid = BPF_CORE_READ(fown, pid);
	type = BPF_CORE_READ(fown, pid_type);
	if (!pid)
		return true;
	return (type == PIDTYPE_PID || type == PIDTYPE_TGID) &&
	       (pid == task->thread_pid || pid == task->group_leader->thread_pid);
}

SEC("lsm/file_fcntl")
int BPF_PROG(wd_file_fcntl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	struct wd_task *t;
	long who = (int)arg;

	if (ret)
		return ret;
	if (cmd != F_SETOWN && cmd != F_SETOWN_EX && cmd != F_SETSIG)
		return 0;
	t = current_mark();
	if (!t)
		return 0;
	if (cmd == F_SETOWN && owner_arg_is_self(who))
		return 0;
	if (cmd == F_SETSIG && file_owner_is_self(file))
		return 0;
	return lsm_verdict(wd_tamper(t->agent, WD_TAMPER_SIGNAL, cmd == F_SETOWN ? (who < 0 ? -who : who) : 0,
				     cmd == F_SETSIG ? (__u32)arg : SIGIO));
}

/* The owner through ioctl; and the tty requests that type into a terminal. */
/*
 * chattr's ioctls: immutable, append-only and the other inode flags,
 * changed with the file open read-only and no setattr hook on the way
 * (vfs_fileattr_set()). A write of the file, as chmod is: an agent may not
 * make a file immutable that it may not write, nor Warden's events file.
 */
#define FS_IOC_SETFLAGS 0x40086602
#define FS_IOC32_SETFLAGS 0x40046602
#define FS_IOC_FSSETXATTR 0x401c5820

/*
 * TIOCSSERIAL: a serial port's I/O port and interrupt (CAP_SYS_ADMIN, kept):
 * raw I/O port access by another name, refused under kernel lockdown for
 * that reason. The host's configuration.
 */
#define TIOCSSERIAL 0x541f

static __always_inline int judge_ioctl(struct file *file, unsigned int cmd)
{
	struct wd_task *t;

	if (cmd == FS_IOC_SETFLAGS || cmd == FS_IOC32_SETFLAGS || cmd == FS_IOC_FSSETXATTR)
		return judge_file(file, WD_RIGHT_WRITE);
	if (cmd != TIOCSTI && cmd != TIOCLINUX && cmd != FIOSETOWN && cmd != SIOCSPGRP &&
	    cmd != TIOCSSERIAL)
		return 0;
	t = current_mark();
	if (!t)
		return 0;
	if (cmd == TIOCSSERIAL)
		return wd_tamper(t->agent, WD_TAMPER_KCONFIG, 0, 0);
	if (cmd == FIOSETOWN || cmd == SIOCSPGRP)
		return wd_tamper(t->agent, WD_TAMPER_SIGNAL, 0, SIGIO);
	return wd_tamper(t->agent, WD_TAMPER_TTY, 0, cmd);
}

SEC("lsm/file_ioctl")
int BPF_PROG(wd_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_ioctl(file, cmd));
}

/*
 * A 32-bit caller's ioctl (compat_sys_ioctl, also reached from a 64-bit
 * process by int 0x80) passes this hook instead of file_ioctl, on kernels
 * that have it (6.8, and stable kernels it was backported to); loaded
 * where the kernel's BTF has it (user/lsm.c).
 */
SEC("lsm/file_ioctl_compat")
int BPF_PROG(wd_file_ioctl_compat, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_ioctl(file, cmd));
}

/* ---- sockets ------------------------------------------------------------ */

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define AF_PACKET 17
#define SOCK_RAW 3
#define SOCK_PACKET 10

/*
 * A network event from an LSM hook (raw or packet socket, abstract unix
 * socket): @name is an abstract socket's name (kernel pointer) or 0.
 */
__noinline int wd_net_event(__u32 agent_id, __u32 right_family, __u32 sotype, __u64 name,
			    __u32 name_len)
{
	__u32 right = right_family >> 16, family = right_family & 0xffff;
	struct wd_agent *agent = bpf_map_lookup_elem(&agents, &agent_id);
	struct scratch *s = scratch_get();
	__u32 decision;

	if (!agent || !s)
		return -EPERM;
	decision = decision_for(agent, true);
	s->ev.family = family;
	s->ev.proto = sotype == (SOCK_STREAM << 16 | IPPROTO_TCP) ? WD_PROTO_TCP : WD_PROTO_OTHER;
	s->ev.port = 0;
	__builtin_memset(s->ev.addr, 0, sizeof(s->ev.addr));
	if (name)
		bpf_probe_read_kernel(s->ev.addr, name_len < 15 ? name_len & 15 : 15, (void *)name);
	wd_emit(agent_id, EMIT_WHAT(WD_EV_NET, right, decision, 0), WD_RULE_DEFAULT, NO_PATH,
		sotype);
	return decision == WD_DEC_DENY ? -EPERM : 0;
}

static __always_inline struct wd_agent *net_agent(__u32 *agent_id)
{
	struct wd_task *t = current_mark();

	if (!t)
		return NULL;
	*agent_id = t->agent;
	return bpf_map_lookup_elem(&agents, agent_id);
}

/*
 * Netlink families whose messages only CAP_SYS_ADMIN guards (which root
 * keeps), and that act for the whole host: a synthetic uevent
 * (NETLINK_KOBJECT_UEVENT) reaches udevd as if the kernel had sent it,
 * and udevd acts on it as root outside the instance (a MODALIAS makes it
 * load that module); iSCSI and SCSI transport messages manage the host's
 * storage sessions. The other families that change the host check
 * CAP_NET_ADMIN or CAP_AUDIT_CONTROL, which agents lose.
 */
#define NETLINK_SCSITRANSPORT 18
#define NETLINK_ISCSI 8
#define NETLINK_KOBJECT_UEVENT 15

SEC("lsm/netlink_send")
int BPF_PROG(wd_netlink_send, struct sock *sk, struct sk_buff *skb, int ret)
{
	__u16 proto;

	if (ret)
		return ret;
	proto = BPF_CORE_READ(sk, sk_protocol);
	if (proto != NETLINK_KOBJECT_UEVENT && proto != NETLINK_ISCSI &&
	    proto != NETLINK_SCSITRANSPORT)
		return 0;
	return lsm_verdict(deny_agents(WD_TAMPER_KCONFIG));
}

/*
 * Sockets whose traffic the cgroup programs do not see, judged as "raw"
 * (allowed by "raw": "allow"): raw IP sockets, packet sockets, and every
 * family that is neither IP nor local: AF_VSOCK (to the hypervisor's host),
 * AF_TIPC, AF_RDS, AF_XDP, AF_CAN, Bluetooth, ... where the host has them.
 * Local families are not: unix (judged at connect and send), netlink (the
 * kernel's own; what changes the host needs CAP_NET_ADMIN, removed) and
 * AF_ALG (the kernel's crypto).
 */
#define AF_NETLINK 16
#define AF_ALG 38

static __always_inline bool judged_as_raw(int family, int type)
{
	switch (family) {
	case AF_UNIX:
	case AF_NETLINK:
	case AF_ALG:
		return false;
	case AF_INET:
	case AF_INET6:
		return type == SOCK_RAW || type == SOCK_PACKET;
	}
	return true;
}

/* A raw socket or device for the current task: refused unless "raw": "allow". */
static __always_inline int judge_raw(int family, int type, int protocol)
{
	struct wd_agent *agent;
	__u32 agent_id;

	agent = net_agent(&agent_id);
	if (!agent || !(agent->flags & WD_AGENT_NET) || (agent->flags & WD_AGENT_RAW))
		return 0;
	return wd_net_event(agent_id, WD_NET_RAW << 16 | family, type << 16 | (protocol & 0xffff),
			    0, 0);
}

SEC("lsm/socket_create")
int BPF_PROG(wd_socket_create, int family, int type, int protocol, int kern, int ret)
{
	if (ret)
		return ret;
	/* The socket's kind first: most are judged elsewhere, and then no
	 * agent lookup is needed. */
	if (kern || !judged_as_raw(family, type))
		return 0;
	return lsm_verdict(judge_raw(family, type, protocol));
}

/*
 * A persistent tun/tap device the host made, attached (TUNSETIFF) by an
 * agent whose uid or gid owns it, or that nobody owns: no capability is
 * needed, and the frames the agent writes enter the host's stack from that
 * interface, past every cgroup program. Judged as a raw socket. Making a
 * device needs CAP_NET_ADMIN, which agents lose over the host.
 */
SEC("lsm/tun_dev_open")
int BPF_PROG(wd_tun_dev_open, void *security, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_raw(WD_FAMILY_TUN, 0, 0));
}

/*
 * Connecting (stream) or sending (datagram) to a unix socket: a path-named
 * one needs write on its path; an abstract one is allowed by
 * "abstract_unix": "allow" (or without a network section and the
 * no-desktop preset), or when the agent's own instance created it
 * (the agent may talk to itself); unnamed ones (socketpair) are private.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);	/* agent id + 1 of the instance that created the socket */
} unix_owner SEC(".maps");

SEC("lsm/socket_post_create")
int BPF_PROG(wd_socket_post_create, struct socket *sock, int family, int type, int protocol,
	     int kern, int ret)
{
	struct wd_task *t;
	struct sock *sk;
	__u32 *owner;

	if (ret || family != AF_UNIX || kern)
		return ret;
	t = current_mark();
	/* Read once: 6.x verifiers take each read of sock->sk as maybe NULL. */
	sk = sock->sk;
	if (!t || !sk)
		return 0;
	owner = bpf_sk_storage_get(&unix_owner, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!owner)
		return -ENOMEM;	/* cannot tell it is ours later: refuse now */
	*owner = t->agent + 1;
	return 0;
}

static __always_inline int judge_unix(struct sock *other)
{
	struct unix_sock *u = (struct unix_sock *)other;
	struct unix_address *addr;
	struct wd_agent *agent;
	struct dentry *d;
	__u32 agent_id, *owner;
	int len;

	/* other->sk of unix_may_send is, to 6.x verifiers, maybe NULL; the
	 * kernel passes a peer that has one, so there is nothing to judge. */
	if (!other)
		return 0;
	agent = net_agent(&agent_id);
	if (!agent)
		return 0;
	d = BPF_CORE_READ(u, path.dentry);
	if (d)	/* a socket: never one of Warden's files (judge() wants a BTF pointer) */
		return wd_judge(scalar(d), scalar(BPF_CORE_READ(u, path.mnt)), WD_RIGHT_WRITE);
	addr = BPF_CORE_READ(u, addr);
	if (!addr || !(agent->flags & WD_AGENT_NO_ABSTRACT))
		return 0;
	owner = bpf_sk_storage_get(&unix_owner, other, 0, 0);
	if (owner && *owner == agent_id + 1)
		return 0;
	len = BPF_CORE_READ(addr, len) - (int)__builtin_offsetof(struct sockaddr_un, sun_path) - 1;
	return wd_net_event(agent_id, WD_NET_UNIX << 16 | AF_UNIX, 0,
			    scalar(&addr->name[0].sun_path[1]), len > 0 ? len : 0);
}

SEC("lsm/unix_stream_connect")
int BPF_PROG(wd_unix_stream_connect, struct sock *sock, struct sock *other, struct sock *newsk,
	     int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_unix(other));
}

SEC("lsm/unix_may_send")
int BPF_PROG(wd_unix_may_send, struct socket *sock, struct socket *other, int ret)
{
	if (ret)
		return ret;
	return lsm_verdict(judge_unix(other->sk));
}

/* ---- process lifecycle ---------------------------------------------------- */

/*
 * Raw tracepoints with BTF: no trampolines needed, no decision taken.
 * Only with run --process-events (they can outnumber decisions by far).
 */
const volatile __u8 proc_events = 0;

SEC("tp_btf/sched_process_fork")
int BPF_PROG(wd_proc_fork, struct task_struct *parent, struct task_struct *child)
{
	struct wd_task *t = task_mark(child);

	if (!proc_events || !t || child->pid != child->tgid)
		return 0;	/* not wanted, not an agent's, or a new thread */
	wd_emit(t->agent, EMIT_WHAT(WD_EV_PROC, WD_PROC_START, WD_DEC_ALLOW, 0), WD_RULE_DEFAULT,
		NO_PATH, (__u64)child->tgid << 32);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(wd_proc_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct wd_task *t = proc_events ? current_mark() : NULL;

	if (t)
		wd_emit(t->agent, EMIT_WHAT(WD_EV_PROC, WD_PROC_EXEC, WD_DEC_ALLOW, 0),
			WD_RULE_DEFAULT, NO_PATH, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(wd_proc_exit, struct task_struct *p)
{
	struct wd_task *t = proc_events ? current_mark() : NULL;

	/* signal->live is already decremented here: 0 once the last thread goes. */
	if (!t || BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	wd_emit(t->agent, EMIT_WHAT(WD_EV_PROC, WD_PROC_EXIT, WD_DEC_ALLOW, 0), WD_RULE_DEFAULT,
		NO_PATH, (__u64)BPF_CORE_READ(p, tgid) << 32 | (__u32)BPF_CORE_READ(p, exit_code));
	return 0;
}

/* ======================================================================== */
/* ---- warden attach: confining tasks that already run -------------------- */
/*
 * Everything below is used by `warden attach` only; `warden run` loads it
 * too, with attach_mode 0, where each program returns at once.
 *
 * Membership is decided in the kernel, never by scanning /proc: a scan
 * races with fork, exit and reparenting (a double fork between reading
 * /proc and acting lets the grandchild escape). From the moment userspace
 * sets attach_mode:
 *
 *   tree mode (--pid R): a task is a member when it, or an ancestor on its
 *   real_parent chain, belongs to a thread group in attach_roots (R at
 *   first). The chain can break when an ancestor exits and its children
 *   are reparented: sched_process_exit runs before that (do_exit calls it
 *   before exit_notify), so an exiting member's children are added to
 *   attach_roots first, and stay members.
 *
 *   cgroup mode (--cgroup C): a task is a member when its cgroup v2 is C or
 *   below C.
 *
 * New members are marked before they run a single instruction:
 * lsm/task_alloc marks the child of an unmarked member (and can refuse the
 * fork when it cannot), tp_btf/sched_process_fork marks a child that is a
 * member once it is visible (a fork already under way when attach began;
 * a child cloned into C with CLONE_INTO_CGROUP), before it is woken up;
 * tp_btf/cgroup_attach_task marks a process moved into C. Marked tasks'
 * children are marked by wd_task_alloc above, as in warden run.
 *
 * Present members are marked by the task iterator (wd_attach_iter), which
 * userspace runs until a pass marks nothing new: any member it misses was
 * forked after the hooks were live (marked at birth) or is found by the
 * next pass. Failures are counted in attach_failed; userspace then undoes
 * the whole attach (fail closed).
 */
#define PF_KTHREAD 0x00200000
#define ATTACH_CHAIN_MAX 64	/* ancestors looked at; deeper counts as a failure */
#define ATTACH_CGROUP_DEPTH 64
#define ATTACH_CHILDREN_MAX 65536

/* Written by userspace (enum wd_attach_mode); zero in warden run. */
volatile __u32 attach_mode;
volatile __u32 attach_agent;
volatile __u32 attach_self;	/* warden's own tgid: never a member */
volatile __u64 attach_cgid;	/* cgroup mode: id of C */
volatile __u64 attach_dest_cgid;	/* tree mode: the instance cgroup; 0 = none */
/* Read by userspace. */
volatile __u64 attach_marked;	/* tasks marked by the programs below */
volatile __u64 attach_failed;	/* members that could not be marked or judged */
volatile __u64 attach_threads;	/* multi-threaded processes moved in: sweep */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u32);	/* tgid */
	__type(value, __u8);
} attach_roots SEC(".maps");

static __always_inline void attach_fail(void)
{
	__sync_fetch_and_add(&attach_failed, 1);
}

/*
 * The walk up @task's cgroup v2 and its ancestors, nearest first, that
 * attach's cgroup mode and the daemon's cgroup keys share. Without @map:
 * is a level's id @id? With @map: is a level's id, as @k->value (@k's
 * kind and agent set by the caller), a key of @map; its value goes in
 * *@val. Always inlined: @map is then a constant, as the verifier wants.
 */
static __always_inline bool cgroup_walk(struct task_struct *task, __u64 id, void *map,
					struct wd_match_key *k, __u32 *val)
{
	struct cgroup *cg = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	struct cgroup_subsys_state *up;
	__u32 *v;
	__u64 cgid;

	for (int i = 0; i < ATTACH_CGROUP_DEPTH && cg; i++) {
		cgid = BPF_CORE_READ(cg, kn, id);
		if (!map && cgid == id)
			return true;
		if (map) {
			k->value = cgid;
			v = bpf_map_lookup_elem(map, k);
			if (v) {
				*val = *v;
				return true;
			}
		}
		up = BPF_CORE_READ(cg, self.parent);
		if (!up)
			return false;
		cg = (void *)up - bpf_core_field_offset(struct cgroup, self);
	}
	return false;	/* cgroup v2 nests at most a few levels in practice */
}

static __always_inline int cgroup_member(struct task_struct *task)
{
	return cgroup_walk(task, attach_cgid, NULL, NULL, NULL);
}

static __always_inline int tree_member(struct task_struct *task)
{
	struct task_struct *up;
	__u32 tgid;

	for (int i = 0; i < ATTACH_CHAIN_MAX; i++) {
		tgid = BPF_CORE_READ(task, tgid);
		if (tgid <= 1 || tgid == attach_self)
			return 0;
		if (bpf_map_lookup_elem(&attach_roots, &tgid))
			return 1;
		up = BPF_CORE_READ(task, real_parent);
		if (!up || up == task)
			return 0;
		task = up;
	}
	attach_fail();	/* cannot tell: userspace gives up rather than guess */
	return 0;
}

/* Is @taskp (a task_struct *) a member of what is being attached? */
__noinline int wd_attach_member(__u64 taskp)
{
	struct task_struct *task = (struct task_struct *)taskp;

	if (!task || BPF_CORE_READ(task, tgid) == attach_self ||
	    (BPF_CORE_READ(task, flags) & PF_KTHREAD))
		return 0;
	if (attach_mode == WD_ATTACH_CGROUP)
		return cgroup_member(task);
	if (attach_mode == WD_ATTACH_TREE)
		return tree_member(task);
	return 0;
}

static __always_inline int attach_mark(struct task_struct *task)
{
	struct wd_task *t;

	if (bpf_task_storage_get(&tasks, task, 0, 0))
		return 0;
	t = bpf_task_storage_get(&tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		attach_fail();
		return -ENOMEM;
	}
	t->agent = attach_agent;
	__sync_fetch_and_add(&attach_marked, 1);
	return 0;
}

SEC("lsm/task_alloc")
int BPF_PROG(wd_attach_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	if (ret || !attach_mode || current_mark())
		return ret;
	if (!wd_attach_member(bpf_get_current_task()))
		return 0;
	return lsm_verdict(attach_mark(task));	/* a member's child we cannot mark is not born */
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(wd_attach_fork, struct task_struct *parent, struct task_struct *child)
{
	if (!attach_mode || !child || bpf_task_storage_get(&tasks, child, 0, 0))
		return 0;
	if (wd_attach_member(scalar(child)))
		attach_mark(child);
	return 0;
}

struct adopt {
	__u64 pos;		/* struct list_head * in the children list */
	__u64 head;		/* &task->children */
	__u64 off;		/* offsetof(struct task_struct, sibling) */
	int err;
};

static long adopt_step(__u32 i, void *arg)
{
	struct adopt *a = arg;
	struct task_struct *child;
	struct list_head *list;
	__u32 tgid;
	__u8 one = 1;

	if (!a->pos || a->pos == a->head)
		return 1;
	/* Outside BPF_CORE_READ: its relocation would cover struct adopt too. */
	child = (struct task_struct *)(a->pos - a->off);
	tgid = BPF_CORE_READ(child, tgid);
	if (bpf_map_update_elem(&attach_roots, &tgid, &one, BPF_ANY)) {
		a->err = 1;
		return 1;
	}
	list = (struct list_head *)a->pos;
	a->pos = (__u64)BPF_CORE_READ(list, next);
	return 0;
}

/* An exiting member's children (about to be reparented) stay members. */
__noinline int wd_attach_adopt(__u64 taskp)
{
	struct task_struct *task = (struct task_struct *)taskp;
	struct adopt a = {
		.head = taskp + bpf_core_field_offset(struct task_struct, children),
		.off = bpf_core_field_offset(struct task_struct, sibling),
	};

	if (!task)
		return 0;
	a.pos = (__u64)BPF_CORE_READ(task, children.next);
	bpf_loop(ATTACH_CHILDREN_MAX, adopt_step, &a, 0);
	if (a.err || (a.pos && a.pos != a.head))
		attach_fail();
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(wd_attach_exit, struct task_struct *task)
{
	if (attach_mode != WD_ATTACH_TREE || !task)
		return 0;
	if (bpf_task_storage_get(&tasks, task, 0, 0) || wd_attach_member(scalar(task)))
		wd_attach_adopt(scalar(task));
	return 0;
}

SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(wd_attach_cgroup_move, struct cgroup *dst, const char *path, struct task_struct *task,
	     bool threadgroup)
{
	if (attach_mode != WD_ATTACH_CGROUP || !task || bpf_task_storage_get(&tasks, task, 0, 0))
		return 0;
	if (!wd_attach_member(scalar(task)))
		return 0;
	attach_mark(task);
	/* Its other threads are reached by userspace's next sweep of the iterator. */
	if (threadgroup && BPF_CORE_READ(task, signal, nr_threads) > 1)
		__sync_fetch_and_add(&attach_threads, 1);
	return 0;
}

/*
 * One pass over every task: mark unmarked members; in tree mode, print the
 * tgid of each marked task outside the instance cgroup, for userspace to
 * move it there (the network programs hang on that cgroup).
 */
SEC("iter/task")
int wd_attach_iter(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	__u32 tgid;

	if (!task || !attach_mode)
		return 0;
	if (!bpf_task_storage_get(&tasks, task, 0, 0)) {
		if (!wd_attach_member(scalar(task)) || attach_mark(task))
			return 0;
	}
	if (!attach_dest_cgid || BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id) == attach_dest_cgid)
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	BPF_SEQ_PRINTF(seq, "%u\n", tgid);
	return 0;
}

/* ======================================================================== */
/* ---- warden daemon: binding processes to agents at exec ----------------- */
/*
 * The daemon's policies say which processes are theirs ("match": exe
 * paths, cgroups, uids; see struct wd_match_key). An unmarked task that
 * execs a matching program is marked here, in bprm_check_security: before
 * the point of no return, so that a task we cannot mark is refused the
 * exec rather than run free, and before the new program runs a single
 * instruction (its own mappings, ld.so's included, are judged by the
 * agent's policy). A task already marked stays in its instance.
 */

/* Written by the daemon. */
volatile __u32 match_root;	/* root node id of the exe tree; 0 = no policy lists exe */
volatile __u32 match_kinds;	/* WD_MATCH_* listed by any policy; 0 = binding off */
/* The daemon's bookkeeping, here so that it survives the daemon (the map is pinned). */
volatile __u64 daemon_lost_reported;	/* ring buffer losses already reported */
volatile __u64 daemon_limited_reported;	/* rate-limited events already reported */
volatile __u64 bound;		/* tasks bound at exec */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WD_MATCH_MAX);
	__type(key, struct wd_match_key);
	__type(value, __u32);	/* claim: the agent id; an agent's own list: 1 */
} matches SEC(".maps");

#define MATCH_NONE 0xffffffffu

/* The agent whose exe list holds @file's path, or MATCH_NONE. Global: verified once. */
__noinline __u32 wd_match_exe(__u64 dentry, __u64 vfsmnt)
{
	struct scratch *s = scratch_get();
	struct wd_verdict v;
	struct wd_node *node;
	__u32 root = match_root;
	bool all;

	if (!s || !root)
		return MATCH_NONE;
	wd_walk(dentry, vfsmnt, 0);
	if (!s->w.done || s->w.foreign || s->w.internal)
		return MATCH_NONE;
	if (wd_descend(0, 0, root, s->w.depth, ~0u))
		return MATCH_NONE;
	node = descended(s, &all);
	if (!node || verdict_of(node, all, WD_RIGHT_EXEC, &v) || v.action != WD_ACT_ALLOW)
		return MATCH_NONE;
	return v.rule;
}

/* Under @agent's key (or WD_MATCH_CLAIM): the value of the current cgroup or an ancestor. */
static __always_inline __u32 match_cgroup(__u32 agent)
{
	struct wd_match_key k = { .kind = WD_MATCH_CGROUP, .agent = agent };
	__u32 v;

	if (cgroup_walk(bpf_get_current_task_btf(), 0, &matches, &k, &v))
		return v;
	return MATCH_NONE;
}

static __always_inline __u32 match_uid(__u32 agent, __u32 uid)
{
	struct wd_match_key k = { .kind = WD_MATCH_UID, .agent = agent, .value = uid };
	__u32 *v = bpf_map_lookup_elem(&matches, &k);

	return v ? *v : MATCH_NONE;
}

/* Does @agent_id's policy accept the current task by the kinds it lists besides @found_by? */
static __always_inline bool match_rest(__u32 agent_id, __u32 found_by, __u32 uid)
{
	struct wd_agent *agent = bpf_map_lookup_elem(&agents, &agent_id);

	if (!agent || !agent->root_node)
		return false;
	/* Found by a lesser kind while the policy lists a greater one: not this way. */
	if (found_by != WD_MATCH_EXE && (agent->match & WD_MATCH_EXE))
		return false;
	if (found_by == WD_MATCH_UID && (agent->match & WD_MATCH_CGROUP))
		return false;
	if (found_by != WD_MATCH_CGROUP && (agent->match & WD_MATCH_CGROUP) &&
	    match_cgroup(agent_id) == MATCH_NONE)
		return false;
	if (found_by != WD_MATCH_UID && (agent->match & WD_MATCH_UID) &&
	    match_uid(agent_id, uid) == MATCH_NONE)
		return false;
	return true;
}

/* The agent the current task execing @file belongs to, or MATCH_NONE. */
static __always_inline __u32 match_current(struct file *file)
{
	__u32 uid = bpf_get_current_uid_gid() & 0xffffffff, kinds = match_kinds, agent;

	if (kinds & WD_MATCH_EXE) {
		agent = wd_match_exe(scalar(BPF_CORE_READ(file, f_path.dentry)),
				     scalar(BPF_CORE_READ(file, f_path.mnt)));
		if (agent != MATCH_NONE)
			return match_rest(agent, WD_MATCH_EXE, uid) ? agent : MATCH_NONE;
	}
	if (kinds & WD_MATCH_CGROUP) {
		agent = match_cgroup(WD_MATCH_CLAIM);
		if (agent != MATCH_NONE)
			return match_rest(agent, WD_MATCH_CGROUP, uid) ? agent : MATCH_NONE;
	}
	if (kinds & WD_MATCH_UID) {
		agent = match_uid(WD_MATCH_CLAIM, uid);
		if (agent != MATCH_NONE && match_rest(agent, WD_MATCH_UID, uid))
			return agent;
	}
	return MATCH_NONE;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(wd_bind_exec, struct linux_binprm *bprm, int ret)
{
	struct wd_task *t;
	__u32 agent;

	if (ret || !match_kinds || current_mark())
		return ret;
	agent = match_current(BPF_CORE_READ(bprm, file));
	if (agent == MATCH_NONE)
		return 0;
	t = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		/* It would run unconfined: no exec. */
		count(WD_CNT_TRACK_FAIL);
		return -ENOMEM;
	}
	t->agent = agent;
	__sync_fetch_and_add(&bound, 1);
	wd_emit(agent, EMIT_WHAT(WD_EV_PROC, WD_PROC_BIND, WD_DEC_ALLOW, 0), WD_RULE_DEFAULT,
		NO_PATH, 0);
	return 0;
}

/*
 * A process bound at exec stays in its cgroup, where the agent's network
 * programs (cgroup programs) may not hang: until the daemon has moved it
 * into the agent's network cgroup, it may not connect, send or bind over
 * IP (fail closed). WD_MATCH_NETCG keys list the cgroups that carry the
 * agent's network programs: its instance cgroup and its matched cgroups.
 */
static __always_inline bool in_net_cgroup(struct task_struct *task, __u32 agent)
{
	struct wd_match_key k = { .kind = WD_MATCH_NETCG, .agent = agent };
	__u32 v;

	return cgroup_walk(task, 0, &matches, &k, &v);
}

/* Set by the daemon's loader: only its programs gate (run and attach leave the gate programs out). */
const volatile __u8 net_gate_on = 0;

static __always_inline int net_gate(struct socket *sock, __u32 right)
{
	struct wd_agent *agent;
	__u32 agent_id, family;

	agent = net_agent(&agent_id);
	if (!agent || !(agent->flags & WD_AGENT_NETGATE))
		return 0;
	family = BPF_CORE_READ(sock, sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return 0;
	if (in_net_cgroup(bpf_get_current_task_btf(), agent_id))
		return 0;
	return wd_net_event(agent_id, right << 16 | family,
			    (__u32)BPF_CORE_READ(sock, type) << 16, 0, 0);
}

/*
 * listen() on a TCP socket never bound: the kernel binds it to a port of
 * its choosing (inet_csk_listen_start, get_port(0)) and no bind hook, no
 * cgroup/bind program, sees it. Judged as what it is, a bind of port 0 on
 * the wildcard address: userspace asked the policy that question when it
 * loaded the agent (WD_AGENT_AUTOBIND4/6). A bound socket's bind was judged.
 */
SEC("lsm/socket_listen")
int BPF_PROG(wd_socket_listen, struct socket *sock, int backlog, int ret)
{
	struct wd_agent *agent;
	struct sock *sk;
	__u32 agent_id, family, need;

	if (ret)
		return ret;
	agent = net_agent(&agent_id);
	if (!agent || !(agent->flags & WD_AGENT_NET))
		return 0;
	sk = sock->sk;
	if (!sk)
		return 0;
	family = sk->__sk_common.skc_family;
	if ((family != AF_INET && family != AF_INET6) || sk->__sk_common.skc_num)
		return 0;
	need = family == AF_INET ? WD_AGENT_AUTOBIND4 : WD_AGENT_AUTOBIND4 | WD_AGENT_AUTOBIND6;
	if ((agent->flags & need) == need)
		return 0;
	return lsm_verdict(wd_net_event(agent_id, WD_NET_BIND << 16 | family,
					SOCK_STREAM << 16 | IPPROTO_TCP, 0, 0));
}

SEC("lsm/socket_connect")
int BPF_PROG(wd_gate_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	return ret ? ret : lsm_verdict(net_gate(sock, WD_NET_CONNECT));
}

/*
 * A source route in a sendmsg control message (bpf/srcroute.h): the
 * cgroup programs judge the destination and never see control messages.
 * The kernel copied them into its own buffer (____sys_sendmsg) before this
 * hook. The first WD_CMSG_MAX are read; a message with more is refused.
 */
#define WD_CMSG_MAX 8

struct wd_cmsghdr {
	__u64 len;
	int level;
	int type;
};

static __always_inline int read_ctl(void *dst, __u32 size, const void *src, bool user)
{
	return user ? bpf_probe_read_user(dst, size, src) : bpf_probe_read_kernel(dst, size, src);
}

/*
 * The walk over control messages, one bpf_loop step each (cmsg_step), in
 * the sending task's storage (map memory: see struct ipopt_walk). Only an
 * agent's task that sends control messages under a network policy has one.
 */
struct cmsg_walk {
	struct ipopt_walk w;	/* the IPv4 options of an IP_RETOPTS message */
	const void *ctl;	/* msg_control */
	__u64 total;		/* msg_controllen */
	__u64 off;		/* the next message's offset */
	bool user;		/* msg_control points to user memory */
	bool refused;		/* a source route, or a message that cannot be read */
	bool done;		/* every message was read */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct cmsg_walk);
} cmsg_walks SEC(".maps");

struct cmsg_ref {
	struct cmsg_walk *c;
};

/* One control message (a bpf_loop callback). */
static long cmsg_step(__u32 i, void *arg)
{
	struct cmsg_walk *c = ((struct cmsg_ref *)arg)->c;
	struct wd_cmsghdr h;
	__u64 off = c->off, total = c->total;
	__u32 n;

	if (off > total || off + sizeof(h) > total)
		goto done;
	if (read_ctl(&h, sizeof(h), c->ctl + off, c->user))
		goto refused;
	if (h.len < sizeof(h) || h.len > total - off)
		goto done;	/* the kernel refuses it (EINVAL) */
	n = h.len - sizeof(h);
	__builtin_memset(c->w.o, 0, sizeof(c->w.o));
	if (h.level == WD_SOL_IP && h.type == WD_IP_RETOPTS &&
	    read_ctl(c->w.o, ipopt_len(n), c->ctl + off + sizeof(h), c->user))
		goto refused;
	if (sets_source_route(h.level, h.type, &c->w, n))
		goto refused;
	c->off = off + ((h.len + 7) & ~7ull);
	return 0;
refused:
	c->refused = true;
	return 1;
done:
	c->done = true;
	return 1;
}

static __always_inline bool cmsg_source_route(struct msghdr *msg, __u64 total)
{
	struct cmsg_ref ref;
	struct cmsg_walk *c;

	c = bpf_task_storage_get(&cmsg_walks, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c)
		return true;	/* no memory for the walk: refused */
	c->ctl = BPF_CORE_READ(msg, msg_control);
	c->total = total;
	c->off = 0;
	c->user = bpf_core_field_exists(struct msghdr, msg_control_is_user) &&
		  BPF_CORE_READ_BITFIELD_PROBED(msg, msg_control_is_user);
	c->refused = false;
	c->done = false;
	ref.c = c;
	bpf_loop(WD_CMSG_MAX, cmsg_step, &ref, 0);
	/* More messages than WD_CMSG_MAX: refused, not read. */
	return c->refused || (!c->done && c->off < c->total);
}

/* The event: a network one of the socket's protocol, rule network.source_route. */
__noinline int wd_srcroute_event(__u32 agent_id, __u32 family, __u32 proto, __u32 sotype)
{
	struct wd_agent *agent = bpf_map_lookup_elem(&agents, &agent_id);
	struct scratch *s = scratch_get();
	__u32 decision;

	if (!agent || !s)
		return -EPERM;
	decision = decision_for(agent, true);
	s->ev.family = family;
	s->ev.proto = proto;
	s->ev.port = 0;
	__builtin_memset(s->ev.addr, 0, sizeof(s->ev.addr));
	wd_emit(agent_id, EMIT_WHAT(WD_EV_NET, WD_NET_CONNECT, decision, 0), WD_RULE_SOURCE_ROUTE,
		NO_PATH, sotype);
	return decision == WD_DEC_DENY ? -EPERM : 0;
}

static __always_inline int sendmsg_source_route(struct socket *sock, struct msghdr *msg)
{
	__u64 total = msg->msg_controllen;	/* a plain load: every send on the host pays it */
	struct wd_agent *agent;
	__u32 agent_id, family, type, protocol;
	struct sock *sk;

	if (!total)
		return 0;
	agent = net_agent(&agent_id);
	if (!agent || !(agent->flags & WD_AGENT_NET))
		return 0;
	sk = sock->sk;
	if (!sk)
		return 0;
	family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	if (!cmsg_source_route(msg, total))
		return 0;
	type = sock->type;
	protocol = sk->sk_protocol;
	return wd_srcroute_event(agent_id, family,
				 type == SOCK_STREAM ? WD_PROTO_TCP : type == SOCK_DGRAM ? WD_PROTO_UDP
											  : WD_PROTO_OTHER,
				 type << 16 | (protocol & 0xffff));
}

/* The daemon's gate (net_gate()), and a source route in control messages for every agent. */
SEC("lsm/socket_sendmsg")
int BPF_PROG(wd_socket_sendmsg, struct socket *sock, struct msghdr *msg, int size, int ret)
{
	if (ret)
		return ret;
	ret = net_gate_on ? net_gate(sock, WD_NET_CONNECT) : 0;
	if (!ret)
		ret = sendmsg_source_route(sock, msg);
	return lsm_verdict(ret);
}

SEC("lsm/socket_bind")
int BPF_PROG(wd_gate_bind, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	return ret ? ret : lsm_verdict(net_gate(sock, WD_NET_BIND));
}

/* The daemon's sweep: "AGENT TGID" of each bound process outside its network cgroups. */
SEC("iter/task")
int wd_daemon_iter(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct wd_agent *agent;
	struct wd_task *t;
	__u32 agent_id;

	if (!task || task->pid != task->tgid)
		return 0;
	t = bpf_task_storage_get(&tasks, task, 0, 0);
	if (!t)
		return 0;
	agent_id = t->agent;
	agent = bpf_map_lookup_elem(&agents, &agent_id);
	if (!agent || !(agent->flags & WD_AGENT_NETGATE) || in_net_cgroup(task, agent_id))
		return 0;
	BPF_SEQ_PRINTF(seq, "%u %u\n", agent_id, task->tgid);
	return 0;
}
