// SPDX-License-Identifier: GPL-2.0
/* What the running kernel offers Warden's BPF programs (kfeatures.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kfeatures.h"

/* The arity of LSM hook @hook (its bpf_lsm_ stub's prototype), or -errno. */
static int hook_arity(const struct btf *btf, const char *hook)
{
	char name[128];
	const struct btf_type *t;
	int id;

	snprintf(name, sizeof(name), "bpf_lsm_%s", hook);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC);
	if (id < 0)
		return id;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_func_proto(t))
		return -EINVAL;
	return btf_vlen(t);
}

static bool has_member(const struct btf *btf, const char *strct, const char *member)
{
	int id = btf__find_by_name_kind(btf, strct, BTF_KIND_STRUCT);
	const struct btf_type *t;
	const struct btf_member *m;

	if (id < 0)
		return false;
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), member))
			return true;
	return false;
}

/*
 * Why a BPF program can be preempted in its middle on this kernel, or NULL:
 * PREEMPT_RT; a PREEMPT_DYNAMIC kernel booted with preempt=full or lazy; a
 * kernel built fully preemptible (its version string says PREEMPT, alone).
 * A voluntary or non-preemptible kernel runs a program to its end.
 */
static const char *preempt_reason(bool rt)
{
	static const char *const modes[] = { "preempt=full", "preempt=lazy", "preempt=laziest" };
	struct utsname u;
	char *cmdline = NULL, *p;
	const char *why = NULL;

	if (rt)
		return "PREEMPT_RT";
	if (!read_file("/proc/cmdline", &cmdline, NULL)) {
		for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]) && !why; i++) {
			p = strstr(cmdline, modes[i]);
			if (p && (p == cmdline || p[-1] == ' ') &&
			    (p[strlen(modes[i])] == ' ' || p[strlen(modes[i])] == '\n' || !p[strlen(modes[i])]))
				why = modes[i];
		}
		free(cmdline);
	}
	if (!why && !uname(&u)) {
		for (p = strstr(u.version, "PREEMPT"); p && !why; p = strstr(p + 1, "PREEMPT"))
			if ((p == u.version || p[-1] == ' ') && (p[7] == ' ' || !p[7]))
				why = "a fully preemptible build (CONFIG_PREEMPT)";
	}
	return why;
}

int kfeatures_probe(struct kfeatures *f, struct sbuf *why)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int err;

	memset(f, 0, sizeof(*f));
	if (!btf) {
		err = -errno;
		sb_printf(why, "cannot read the kernel's BTF (%s): the kernel needs CONFIG_DEBUG_INFO_BTF=y",
			  strerror(-err));
		return err;
	}
	f->d_move = btf__find_by_name_kind(btf, "__d_move", BTF_KIND_FUNC) > 0;
	f->sb_mount_list = has_member(btf, "mount", "mnt_next_for_sb");
	f->setattr_args = hook_arity(btf, "inode_setattr");
	f->perf_open_args = hook_arity(btf, "perf_event_open");
	f->ioctl_compat = hook_arity(btf, "file_ioctl_compat") == 3;
	f->key_free = hook_arity(btf, "key_free") == 1;
	f->set_acl = hook_arity(btf, "inode_set_acl") == 4 && hook_arity(btf, "inode_remove_acl") == 3;
	f->rdonly_cast = btf__find_by_name_kind(btf, "bpf_rdonly_cast", BTF_KIND_FUNC) > 0;
	/* Documented: /sys/kernel/realtime exists (and reads 1) on a PREEMPT_RT kernel. */
	f->preemptible = preempt_reason(access("/sys/kernel/realtime", F_OK) == 0);
	btf__free(btf);
	return 0;
}

static const char *setattr_mechanism(int args)
{
	switch (args) {
	case 2:
		return "inode_setattr(dentry, iattr)";
	case 3:
		return "inode_setattr(idmap, dentry, iattr)";
	default:
		return "unknown prototype: chmod, chown, utimes and truncate through it cannot be judged";
	}
}

void kfeatures_describe(const struct kfeatures *f, struct sbuf *out, bool json)
{
	char preemption[192];

	if (f->preemptible)
		snprintf(preemption, sizeof(preemption),
			 "programs can be preempted (%s): pointers laundered on the program's own stack, "
			 "each judgement claims its scratch", f->preemptible);
	else
		snprintf(preemption, sizeof(preemption),
			 "programs run to their end (voluntary preemption); each judgement claims its scratch");
	const struct {
		const char *part, *mechanism;
	} rows[] = {
		{ "renames", f->d_move ? "counted at __d_move (fentry/fexit)"
				       : "rename_lock's sequence, read at each cached open" },
		{ "mounts", f->sb_mount_list ? "a super block's mounts by mnt_next_for_sb"
					     : "a super block's mounts by s_mounts" },
		{ "setattr", setattr_mechanism(f->setattr_args) },
		{ "ioctl", f->ioctl_compat ? "file_ioctl, and file_ioctl_compat for 32-bit callers"
					   : "file_ioctl (32-bit callers pass it too)" },
		{ "acl", f->set_acl ? "inode_set_acl and inode_remove_acl (setfacl no longer passes inode_setxattr)"
				    : "inode_setxattr (an ACL is an extended attribute)" },
		{ "path_walk", f->rdonly_cast ? "direct loads through bpf_rdonly_cast (untrusted BTF pointers)"
					      : "bpf_probe_read_kernel of each dentry, inode and mount" },
		{ "preemption", preemption },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (json) {
			sb_printf(out, "%s\"%s\":", i ? "," : "", rows[i].part);
			sb_json_str(out, rows[i].mechanism, strlen(rows[i].mechanism));
		} else {
			sb_printf(out, "  %-13s %s\n", rows[i].part, rows[i].mechanism);
		}
	}
}
