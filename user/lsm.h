/* SPDX-License-Identifier: GPL-2.0 */
/* Loading bpf/lsm.bpf.c and feeding it agents and compiled policies. */
#ifndef WARDEN_LSM_H
#define WARDEN_LSM_H

#include <stdbool.h>
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

/* The same split of a rate over CPUs, for the network object's rodata. */
void rate_per_cpu(uint64_t rate, uint64_t *per_cpu, uint64_t *burst);
void lsm_unload(struct lsm_bpf *skel);

/* Install @c as agent @agent's policy; the agent's tasks are marked separately. */
int lsm_add_agent(struct lsm_bpf *skel, uint32_t agent, const struct compiled *c,
		  const struct policy *p);

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

/* Pin every attached link of a skeleton as @dir/<program>; unpin them. */
struct bpf_object_skeleton;
int pin_skeleton_links(const struct bpf_object_skeleton *sk, const char *dir);
void unpin_skeleton_links(const struct bpf_object_skeleton *sk);

#endif
