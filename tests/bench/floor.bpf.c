// SPDX-License-Identifier: GPL-2.0
/*
 * floor (bench only, never part of warden): the least a BPF LSM hook on
 * file_open costs on this kernel, for tests/bench/floor-run.c. With
 * task_lookup unset the program returns at once: what is left is the BPF
 * trampoline (enter, exit, RCU, migrate_disable). With it set, the program
 * also does what any per-agent hook must do first, and what Warden's does:
 * look up the current task's local storage to learn whether it is an
 * agent's (it is not: the lookup misses, as for every other process).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile bool task_lookup = false;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} marks SEC(".maps");

SEC("lsm/file_open")
int BPF_PROG(floor_file_open, struct file *file, int ret)
{
	if (ret)
		return ret;
	if (task_lookup && bpf_task_storage_get(&marks, bpf_get_current_task_btf(), 0, 0))
		return -1;
	return 0;
}
