/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the running kernel offers Warden's BPF programs, read from its BTF
 * (never from its version number): which of two ways a part works here.
 * The loader picks programs by it; doctor and -v say which were picked.
 */
#ifndef WARDEN_KFEATURES_H
#define WARDEN_KFEATURES_H

#include <stdbool.h>
#include "util.h"

struct kfeatures {
	bool d_move;		/* __d_move is in BTF: renames are counted at it (fentry/fexit) */
	bool sb_mount_list;	/* struct mount has mnt_next_for_sb (newer kernels): a super block's mounts are a singly linked list */
	int setattr_args;	/* arguments of the inode_setattr hook: 2 (dentry, iattr), 3 (idmap first, 6.3+), or -errno */
	int perf_open_args;	/* arguments of the perf_event_open hook: 2 (attr, type), 1 (type), or -errno */
	bool ioctl_compat;	/* the file_ioctl_compat hook (6.8+, some stable kernels): 32-bit ioctls pass it, not file_ioctl */
	bool set_acl;		/* the inode_set_acl and inode_remove_acl hooks (6.2+): POSIX ACLs pass them, not inode_setxattr */
	bool key_free;		/* the key_free hook (gone in 6.12: a key's address is simply reused) */
	bool rdonly_cast;	/* the kfunc bpf_rdonly_cast (6.2+): the path walk reads kernel objects by direct loads */
	const char *preemptible;	/* why a BPF program can be preempted here (docs/kernels.md), or NULL */
};

/* Read @f from /sys/kernel/btf/vmlinux. 0, or -errno with the reason in @why. */
int kfeatures_probe(struct kfeatures *f, struct sbuf *why);

/* One line per part, "  NAME  MECHANISM\n", or a JSON object when @json. */
void kfeatures_describe(const struct kfeatures *f, struct sbuf *out, bool json);

#endif
