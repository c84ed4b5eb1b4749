/* SPDX-License-Identifier: GPL-2.0 */
/* Loading bpf/lsm.bpf.c and feeding it agents and compiled policies. */
#ifndef WARDEN_LSM_H
#define WARDEN_LSM_H

#include <stdbool.h>
#include <sys/types.h>
#include "policy.h"

struct lsm_bpf;

/*
 * Is BPF LSM active on this kernel? Reads /sys/kernel/security/lsm (mounting
 * securityfs if needed). Returns 0, or -errno with the reason and the fix in @why.
 */
int lsm_active(struct sbuf *why);

/* Open, size, load and attach the LSM programs. -errno with the reason in @why. */
int lsm_load(struct lsm_bpf **skel, size_t nodes, struct sbuf *why);

struct lsm_opts {
	uint32_t ringbuf_bytes;	/* event ring buffer size (power of 2, >= 4096); 0 = default */
	uint64_t rate;		/* events a second per agent before suppression; 0 = no limit */
	bool process_events;	/* report agent processes' start, exec and exit */
};
int lsm_load_opts(struct lsm_bpf **skel, size_t nodes, const struct lsm_opts *o, struct sbuf *why);

/* The same maps, no program loaded (for measuring lsm_add_agent() anywhere). */
int lsm_load_maps(struct lsm_bpf **skel, size_t nodes, struct sbuf *why);

/* The same split of a rate over CPUs, for the network object's rodata. */
void rate_per_cpu(uint64_t rate, uint64_t *per_cpu, uint64_t *burst);
void lsm_unload(struct lsm_bpf *skel);
/* The majors of the character devices that pass raw storage commands (/proc/devices). */
void lsm_raw_char_majors(volatile uint32_t *majors, size_t max);
/* The same, but the links are let go by a child once this process has exited. */
void lsm_unload_later(struct lsm_bpf *skel);

/* Install @c as agent @agent's policy; the agent's tasks are marked separately. */
/*
 * Put policy @c's rule objects that exist now into the inodes map, by
 * identity, with their filter bits. Returns 0 or -errno (map full).
 */
int lsm_put_identities(struct lsm_bpf *skel, const struct compiled *c);
void lsm_policy_changed(struct lsm_bpf *skel);
int lsm_add_agent(struct lsm_bpf *skel, uint32_t agent, const struct compiled *c,
		  const struct policy *p);
/*
 * Make the file open on @fd a protection of kind @kind (enum wd_tamper): no
 * agent may write, truncate or delete it, whatever its policy. 0 or -errno.
 */
int lsm_protect_fd(struct lsm_bpf *skel, int fd, uint32_t kind);
/*
 * The same for the file or directory at @path (the link followed), opened
 * O_PATH into *@fd, which the caller keeps open while the protection should
 * hold (it keeps the inode, and the mark on it, in memory). 0, or -errno
 * with the reason in @why.
 */
int lsm_protect_path(struct lsm_bpf *skel, const char *path, uint32_t kind, int *fd, struct sbuf *why);
/*
 * Warden's own binary and @policy (NULL: none), what the next run loads:
 * WD_TAMPER_WARDEN protections, held while @own is (lsm_own_release()).
 */
struct lsm_own {
	int fd[2];
};
int lsm_protect_own(struct lsm_bpf *skel, const char *policy, struct lsm_own *own, struct sbuf *why);
void lsm_own_release(struct lsm_own *own);
/* lsm_protect_fd(@skel, @fd, WD_TAMPER_EVENTS): a sink's file hook (sink_protect_files()). */
int lsm_protect_sink_file(int fd, void *skel);
/* The WD_AGENT_* flags of @p, as every command that confines an agent sets them. */
uint32_t lsm_agent_flags(const struct policy *p);

/* Mark the task behind @pidfd as a member of @agent. */
int lsm_mark_task(struct lsm_bpf *skel, int pidfd, uint32_t agent);

/* Sum of a per-CPU counter (enum wd_counter). */
uint64_t lsm_counter(struct lsm_bpf *skel, uint32_t which);

int lsm_events_fd(struct lsm_bpf *skel);
int lsm_counters_fd(struct lsm_bpf *skel);

/* Sum over CPUs of entry @which of a per-CPU u64 array. */
uint64_t map_counter(int fd, uint32_t which);

/* Where runs pin their links: WARDEN_BPFFS/run-<instance>/<program>. */
#define WARDEN_BPFFS "/sys/fs/bpf/warden"
int lsm_pin(struct lsm_bpf *skel, const char *dir);
void lsm_unpin(struct lsm_bpf *skel, const char *dir);
/* Also pin the event ring buffer and the counters (map_events, map_counters): an attach handed to the daemon. */
int lsm_pin_events(struct lsm_bpf *skel, const char *dir);

/* Pin every attached link of a skeleton as @dir/<program>; unpin them. */
struct bpf_object_skeleton;
int pin_skeleton_links(const struct bpf_object_skeleton *sk, const char *dir);
void unpin_skeleton_links(const struct bpf_object_skeleton *sk);
/* Unlink every pin in @dir (one level), then remove @dir: 0 or -errno of the rmdir. */
int remove_pin_dir(const char *dir);

/*
 * warden attach: confine tasks that already run (see the end of
 * bpf/lsm.bpf.c for why this is race-free). Begin makes the kernel treat
 * the target's members as members from now on and mark each new one;
 * sweeps mark the present ones; end stops treating new tasks as members
 * (a tree whose members are all marked needs no more: marks are inherited).
 */
struct lsm_attach_target {
	uint32_t mode;		/* enum wd_attach_mode */
	uint32_t agent;
	pid_t pid;		/* tree mode: the process whose tree it is */
	uint64_t cgid;		/* cgroup mode: the cgroup's id (its inode number) */
	uint64_t dest_cgid;	/* tree mode: the instance cgroup, where members must move */
};

struct lsm_sweep {
	uint64_t marked;	/* tasks marked since the sweep began (by it or by hooks) */
	uint64_t failed;	/* members not marked, ever (any nonzero: undo the attach) */
	uint64_t threads;	/* multi-threaded processes moved into the cgroup, ever */
	pid_t *tgids;		/* tree mode: processes still outside the instance cgroup */
	size_t n, cap;
};

int lsm_attach_begin(struct lsm_bpf *skel, const struct lsm_attach_target *t);
/* Run the task iterator once: mark the unmarked members. */
int lsm_attach_sweep(struct lsm_bpf *skel, struct lsm_sweep *out);
void lsm_attach_end(struct lsm_bpf *skel);

/*
 * warden daemon: load and attach the LSM programs with the maps pinned in
 * @dir/maps (created and pinned when absent; *adopted tells which), pin the
 * links as a new generation and drop the older ones.
 */
int lsm_load_pinned(struct lsm_bpf **out, const char *dir, size_t nodes, const struct lsm_opts *o,
		    bool *adopted, struct sbuf *why);
/* Remove a daemon's pins: its programs detach and its agents run free. */
int lsm_remove_pinned(const char *dir);

#endif
