/* SPDX-License-Identifier: GPL-2.0 */
/* Events: from the ring buffer's binary records to the contract's JSON lines. */
#ifndef WARDEN_EVENT_H
#define WARDEN_EVENT_H

#include <stdint.h>
#include <linux/types.h>

#include "warden.h"
#include "util.h"

struct policy;

/* What userspace knows of an agent instance; the kernel only has its id. */
struct agent_info {
	const char *name;	/* policy "name" */
	const char *identity;	/* policy "identity", or NULL */
	const char *instance;	/* this run's instance id */
	/*
	 * For events the kernel sends without the executable's path (network
	 * events come from cgroup programs, which cannot walk it): look it up
	 * by pid at drain time, or NULL to print null.
	 */
	const char *(*exe_lookup)(uint32_t pid, char *buf, size_t size);
	/* The policy in force, to name rules a preset added; may be NULL. */
	const struct policy *policy;
	const char *policy_sha256;	/* the policy's version, in every event; may be NULL */
	const char *cgroup;	/* the instance's cgroup (path under the cgroup2 root); may be NULL */
	/*
	 * When cgroup is NULL (the daemon: bound processes stay in their own
	 * cgroups): the cgroup of process @pid, or NULL; may itself be NULL.
	 */
	const char *(*cgroup_lookup)(uint32_t pid, char *buf, size_t size);
};

/* CLOCK_REALTIME minus CLOCK_BOOTTIME, to turn bpf_ktime_get_boot_ns() into wall time. */
int64_t boot_to_realtime_offset(void);

/* CLOCK_REALTIME now, in ns. */
int64_t realtime_ns(void);

/* Append "2026-11-26T20:11:03.123456789Z". */
void format_time(struct sbuf *sb, int64_t realtime_ns);

/*
 * Append one JSON line (with '\n') for a raw ring buffer record of @size
 * bytes. Returns 0, or -EINVAL for a record that is too short or whose
 * lengths do not add up (it is then not formatted).
 */
int event_format(struct sbuf *sb, const void *rec, size_t size, const struct agent_info *ai,
		 int64_t boot_offset);

/* {"event":"lost",...} for @count events that could not be delivered. */
void event_format_lost(struct sbuf *sb, const struct agent_info *ai, uint64_t count,
		       const char *reason, int64_t realtime_ns);

/*
 * {"event":"network","action":"resolve","protocol":"dns","name":...} for a
 * question to warden's resolver: @rule is the deciding host rule, or -1
 * (no host rule allows the name: refused, never forwarded). @who is the
 * process that asked; NULL (the kernel has no record): "pid":0 and
 * "attribution":"missing", the event still goes out.
 */
void event_format_dns(struct sbuf *sb, const struct agent_info *ai, const char *name,
		      unsigned qtype, long rule, const struct wd_dns_asker *who,
		      int64_t realtime_ns);

/*
 * {"event":"policy","action":...,"file":...} from the daemon: a policy file
 * was "loaded", "reloaded", "rejected" (@error says why; the previous
 * version stays in force) or "removed"; an attach handed to the daemon was
 * "attached" or "detached" (@reason says why). @error, @reason may be NULL.
 */
void event_format_policy(struct sbuf *sb, const struct agent_info *ai, const char *action,
			 const char *file, const char *error, const char *reason,
			 int64_t realtime_ns);

#endif
