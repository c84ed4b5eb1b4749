// SPDX-License-Identifier: GPL-2.0
/* warden doctor: what this kernel lets Warden enforce. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cgroup.h"
#include "kfeatures.h"
#include "commands.h"
#include "lsm.h"
#include "net.h"

struct check {
	const char *name;	/* what is checked */
	const char *needed_for;	/* what Warden loses without it */
	int (*probe)(struct sbuf *detail);
};

static int probe_bpf_lsm(struct sbuf *detail)
{
	struct lsm_bpf *skel;
	int ret = lsm_active(detail);

	if (ret)
		return ret;
	/* Listed is not enough: a test load and attach proves it (trampolines may be off). */
	ret = lsm_load(&skel, 1, detail);
	if (ret)
		return ret;
	lsm_unload(skel);
	sb_puts(detail, "bpf is in the LSM list and the programs load and attach");
	return 0;
}

static int probe_cgroup2(struct sbuf *detail)
{
	char path[PATH_MAX];
	int ret = cgroup2_mount(path, sizeof(path));

	if (ret) {
		sb_puts(detail, "no cgroup2 file system is mounted (mount -t cgroup2 none /sys/fs/cgroup)");
		return ret;
	}
	sb_printf(detail, "mounted at %s", path);
	return 0;
}

static int probe_btf(struct sbuf *detail)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		int ret = -errno;

		sb_printf(detail, "/sys/kernel/btf/vmlinux: %s (kernel needs CONFIG_DEBUG_INFO_BTF=y)",
			  strerror(errno));
		return ret;
	}
	sb_puts(detail, "/sys/kernel/btf/vmlinux");
	return 0;
}

static int probe_map(enum bpf_map_type type, const char *what, struct sbuf *detail)
{
	int ret = libbpf_probe_bpf_map_type(type, NULL);

	if (ret == 1) {
		sb_printf(detail, "%s maps can be created", what);
		return 0;
	}
	sb_printf(detail, "%s maps are not supported (%s)", what,
		  ret < 0 ? strerror(-ret) : "kernel too old");
	return ret < 0 ? ret : -EOPNOTSUPP;
}

static int probe_ringbuf(struct sbuf *detail)
{
	return probe_map(BPF_MAP_TYPE_RINGBUF, "ring buffer", detail);
}

static int probe_task_storage(struct sbuf *detail)
{
	return probe_map(BPF_MAP_TYPE_TASK_STORAGE, "task storage", detail);
}

static int probe_cgroup_sock(struct sbuf *detail)
{
	/* Warden's own network programs, loaded for real (attach needs a cgroup: run does it). */
	int ret = net_probe(detail);

	if (!ret)
		sb_puts(detail, "Warden's connect, sendmsg, recvmsg, bind and socket programs load");
	return ret;
}

static const struct check checks[] = {
	{ "bpf_lsm", "file, exec and tamper rules", probe_bpf_lsm },
	{ "cgroup_v2", "agent lifetime and network rules", probe_cgroup2 },
	{ "btf", "CO-RE relocation of the BPF programs", probe_btf },
	{ "ringbuf", "audit events", probe_ringbuf },
	{ "task_storage", "agent identity across fork and exec", probe_task_storage },
	{ "cgroup_sock", "network rules", probe_cgroup_sock },
};

enum { CHK_LSM, CHK_CGROUP2, CHK_BTF, CHK_RINGBUF, CHK_TASK, CHK_SOCK, CHK_COUNT };

/* What a policy can ask for, and which checks it needs. */
static const struct {
	const char *name;
	unsigned needs;	/* bit per check */
} parts[] = {
	{ "file", 1u << CHK_LSM | 1u << CHK_BTF | 1u << CHK_RINGBUF | 1u << CHK_TASK | 1u << CHK_CGROUP2 },
	{ "protections", 1u << CHK_LSM | 1u << CHK_BTF | 1u << CHK_TASK | 1u << CHK_CGROUP2 },
	{ "network", 1u << CHK_SOCK | 1u << CHK_CGROUP2 | 1u << CHK_RINGBUF },
	{ "unix_sockets", 1u << CHK_LSM | 1u << CHK_BTF | 1u << CHK_TASK },
	{ "raw_sockets", 1u << CHK_LSM | 1u << CHK_SOCK | 1u << CHK_CGROUP2 },
};

static void print_parts(struct sbuf *out, unsigned okmask, bool json)
{
	bool partial = false;

	sb_puts(out, json ? ",\"enforce\":{" : "\nWhat a policy can ask for, on this kernel:\n");
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		bool ok = (parts[i].needs & okmask) == parts[i].needs;

		partial |= !ok;
		if (json)
			sb_printf(out, "%s\"%s\":%s", i ? "," : "", parts[i].name, ok ? "true" : "false");
		else
			sb_printf(out, "  %-13s %s\n", parts[i].name, ok ? "enforced" : "NOT enforced");
	}
	if (json)
		sb_putc(out, '}');
	else if (partial && (okmask & (1u << CHK_SOCK)) && (okmask & (1u << CHK_CGROUP2)))
		sb_puts(out, "warden run refuses a policy it cannot fully enforce; --allow-partial runs it with the network rules alone.\n");
}

/* Which of its ways each part works by here (kfeatures.h): what -v also says at load. */
static void print_mechanisms(struct sbuf *out, bool json)
{
	struct kfeatures kf;
	struct sbuf why = {0};

	if (kfeatures_probe(&kf, &why)) {
		sb_putc(&why, '\0');
		if (json)
			sb_puts(out, ",\"mechanisms\":null");
		else
			sb_printf(out, "\nMechanisms: unknown (%s)\n", why.buf);
		sb_free(&why);
		return;
	}
	sb_puts(out, json ? ",\"mechanisms\":{" : "\nHow each part works on this kernel:\n");
	kfeatures_describe(&kf, out, json);
	if (json)
		sb_putc(out, '}');
}

static const char doctor_usage[] =
	"Usage: warden doctor [--json]\n"
	"\n"
	"Check what this kernel lets Warden enforce. Exit 0 when everything is\n"
	"available, 1 otherwise. Must run as root (it loads test programs).\n"
	"\n"
	"  -j, --json   one JSON object: {\"ok\": bool, \"checks\": [...]}\n"
	"\n"
	"Examples:\n"
	"  sudo warden doctor\n"
	"  sudo warden doctor --json | jq '.checks[] | select(.ok == false)'\n";

int cmd_doctor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	bool json = false, all_ok = true;
	unsigned okmask = 0;
	struct sbuf out = {0};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c == 'j') {
			json = true;
		} else if (c == 'h') {
			fputs(doctor_usage, stdout);
			return EXIT_OK;
		} else {
			fputs(doctor_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fputs(doctor_usage, stderr);
		return EXIT_USAGE;
	}
	if (json)
		sb_puts(&out, "{\"checks\":[");
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		struct sbuf detail = {0};
		bool ok = checks[i].probe(&detail) == 0;

		sb_putc(&detail, '\0');
		all_ok &= ok;
		okmask |= ok ? 1u << i : 0;
		if (json) {
			sb_printf(&out, "%s{\"name\":\"%s\",\"ok\":%s,\"needed_for\":\"%s\",\"detail\":",
				  i ? "," : "", checks[i].name, ok ? "true" : "false",
				  checks[i].needed_for);
			sb_json_str(&out, detail.buf, strlen(detail.buf));
			sb_putc(&out, '}');
		} else {
			sb_printf(&out, "%-8s %-13s %s\n", ok ? "ok" : "MISSING", checks[i].name,
				  detail.buf);
			if (!ok)
				sb_printf(&out, "%-8s %-13s without it: no %s\n", "", "",
					  checks[i].needed_for);
		}
		sb_free(&detail);
	}
	if (json)
		sb_putc(&out, ']');
	print_parts(&out, okmask, json);
	print_mechanisms(&out, json);
	if (json)
		sb_printf(&out, ",\"ok\":%s}\n", all_ok ? "true" : "false");
	else
		sb_puts(&out, all_ok ? "Warden can enforce everything on this kernel.\n"
				     : "Warden cannot enforce everything on this kernel (see MISSING).\n");
	fwrite(out.buf, 1, out.len, stdout);
	sb_free(&out);
	return all_ok ? EXIT_OK : EXIT_FAIL;
}
