/* SPDX-License-Identifier: GPL-2.0 */
/* The agent instance's own cgroup v2: so that nothing of it outlives warden. */
#ifndef WARDEN_CGROUP_H
#define WARDEN_CGROUP_H

#include <sys/types.h>
#include "util.h"

/* Path of the cgroup v2 mount into @buf, or -ENOENT. */
int cgroup2_mount(char *buf, size_t size);

/* Create <cgroup2>/warden/<name>; its path into @path. */
int cgroup_create(const char *name, char *path, size_t size);
/* Move process @pid into the cgroup at @path. */
int cgroup_enter(const char *path, pid_t pid);
/* 1 if processes are in the cgroup at @path, 0 if not, -errno. */
int cgroup_populated(const char *path);
/* Kill every process in it, wait (up to @timeout_ms) until it is empty, remove it. */
int cgroup_kill_remove(const char *path, int timeout_ms);

#endif
