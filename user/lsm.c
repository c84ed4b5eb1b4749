// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <dirent.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kfeatures.h"
#include "lsm.h"
#include "lsm.skel.h"

#define LSM_LIST "/sys/kernel/security/lsm"
#define LSM_FIX "add \"bpf\" to the kernel's lsm= boot parameter (for example lsm=landlock,lockdown,yama,integrity,apparmor,bpf) and reboot"

/* Is BPF LSM built into this kernel (CONFIG_BPF_LSM)? Its hook stubs are in BTF only then. */
static int bpf_lsm_built_in(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int id;

	if (!btf)
		return -errno;
	id = btf__find_by_name_kind(btf, "bpf_lsm_file_open", BTF_KIND_FUNC);
	btf__free(btf);
	return id > 0;
}

/*
 * What to do when "bpf" is not in the active list @list: the exact lsm=
 * value (the active ones in their order, then bpf; "capability" is always
 * first and never named) and where to put it, when the kernel has BPF LSM
 * built in; else that no boot parameter can help.
 */
static void say_lsm_fix(struct sbuf *why, char *list)
{
	char *tok, *save;
	bool first = true;
	int built_in = bpf_lsm_built_in();

	if (built_in == 0) {
		sb_puts(why, "this kernel is built without BPF LSM (CONFIG_BPF_LSM), so no boot parameter "
			     "can turn it on: boot a kernel that has it (Debian 12's linux-image-*-amd64 "
			     "and -cloud-amd64 do)");
		return;
	}
	sb_printf(why, "add \"bpf\" to the kernel's lsm= boot parameter: %s boot it with lsm=",
		  built_in > 0 ? "this kernel has BPF LSM built in (CONFIG_BPF_LSM), so"
			       : "if it has BPF LSM built in (CONFIG_BPF_LSM; its BTF cannot be read to tell),");
	for (tok = strtok_r(list, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save)) {
		if (!strcmp(tok, "capability"))
			continue;
		sb_printf(why, "%s%s", first ? "" : ",", tok);
		first = false;
	}
	sb_printf(why, "%sbpf: in /etc/default/grub add it to GRUB_CMDLINE_LINUX_DEFAULT "
		       "(replacing any lsm= there), then run update-grub and reboot",
		  first ? "" : ",");
}

int lsm_active(struct sbuf *why)
{
	char *list = NULL, *tok, *save, *copy;
	int ret;

	ret = read_file(LSM_LIST, &list, NULL);
	if (ret == -ENOENT && mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL) == 0)
		ret = read_file(LSM_LIST, &list, NULL);
	if (ret) {
		sb_printf(why, "cannot read %s (%s): securityfs is not available, so BPF LSM cannot be confirmed active; %s",
			  LSM_LIST, strerror(-ret), LSM_FIX);
		return ret;
	}
	copy = strdup(list);
	for (tok = strtok_r(list, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save)) {
		if (!strcmp(tok, "bpf")) {
			free(list);
			free(copy);
			return 0;
		}
	}
	sb_printf(why, "BPF LSM is not active on this kernel (%s has no \"bpf\"); ", LSM_LIST);
	if (copy)
		say_lsm_fix(why, copy);
	else
		sb_puts(why, LSM_FIX);
	free(list);
	free(copy);
	return -EOPNOTSUPP;
}

/* With -vv: the verifier's statistics per program (its cost shows at every run). */
#define STATS_PROGS 128
static char stats_buf[STATS_PROGS][4096];

static void want_verifier_stats(struct bpf_object *obj)
{
	struct bpf_program *prog;
	int i = 0;

	bpf_object__for_each_program(prog, obj) {
		if (i >= STATS_PROGS)
			break;
		bpf_program__set_log_level(prog, 4);
		bpf_program__set_log_buf(prog, stats_buf[i++], sizeof(stats_buf[0]));
	}
}

static void print_verifier_stats(struct bpf_object *obj)
{
	struct bpf_program *prog;
	int i = 0;

	bpf_object__for_each_program(prog, obj) {
		const char *stats;

		if (i >= STATS_PROGS)
			break;
		stats = stats_buf[i++];
		if (bpf_program__autoload(prog))
			fprintf(stderr, "warden: verifier: %s: %s", bpf_program__name(prog), stats);
	}
}

int lsm_load(struct lsm_bpf **out, size_t nodes, struct sbuf *why)
{
	struct lsm_opts o = {0};

	return lsm_load_opts(out, nodes, &o, why);
}

/* Each CPU gets its share (at least 1/s); a burst of one second's worth. */
void rate_per_cpu(uint64_t rate, uint64_t *per_cpu, uint64_t *burst)
{
	int ncpu = libbpf_num_possible_cpus();

	*per_cpu = *burst = 0;
	if (!rate)
		return;
	*per_cpu = rate / (ncpu > 0 ? ncpu : 1);
	if (!*per_cpu)
		*per_cpu = 1;
	*burst = *per_cpu;
}

/*
 * WARDEN_VERDICT_CACHE=off: every open, exec and mapping is judged by the
 * whole walk; neither the files' nor the directories' verdicts are kept.
 * A way around the caches, should one ever be suspected, that needs no new
 * build; decisions and events are the same either way.
 */
static bool verdict_cache_wanted(void)
{
	const char *v = getenv("WARDEN_VERDICT_CACHE");

	if (v && !strcmp(v, "off")) {
		pr_warn("WARDEN_VERDICT_CACHE=off: the open verdict caches are not used\n");
		return false;
	}
	return true;
}

static int lsm_open_configure(struct lsm_bpf **out, size_t nodes, const struct lsm_opts *o,
			      struct sbuf *why)
{
	struct lsm_bpf *skel;
	int err;

	skel = lsm_bpf__open();
	if (!skel) {
		err = -errno;
		sb_printf(why, "cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	rate_per_cpu(o->rate, (uint64_t *)&skel->rodata->rate_per_cpu,
		     (uint64_t *)&skel->rodata->rate_burst);
	skel->rodata->proc_events = o->process_events;
	skel->rodata->verdict_cache = verdict_cache_wanted();
	err = o->ringbuf_bytes ? bpf_map__set_max_entries(skel->maps.events, o->ringbuf_bytes) : 0;
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.nodes, nodes ? nodes : 1);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.inodes, nodes ? nodes : 1);
	if (err) {
		sb_printf(why, "cannot size the policy map: %s", strerror(-err));
		lsm_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

/*
 * The open verdict cache compares a count of renames (bpf/lsm.bpf.c, "the
 * open verdict cache"), kept by wd_rename_begins and wd_rename_ends at
 * __d_move, where the kernel's BTF has that function; elsewhere each open
 * reads rename_lock's sequence instead, a probe read. Before the load.
 */
static void want_rename_count(struct lsm_bpf *skel, const struct kfeatures *kf)
{
	struct bpf_program *counters[] = { skel->progs.wd_rename_begins,
					   skel->progs.wd_rename_ends };

	skel->rodata->renames_counted = kf->d_move;
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		bpf_program__set_autoload(counters[i], kf->d_move);
		/* attach_rename_count() attaches them, first */
		bpf_program__set_autoattach(counters[i], false);
	}
}

/*
 * Hooks whose prototype changed across the kernels Warden runs on: one
 * program per prototype, and the one whose arity the kernel's BTF has is
 * loaded. A kernel with none of a hook's cannot have it judged: the load
 * fails (fail closed), saying so.
 */
static int want_hook_variants(struct lsm_bpf *skel, const struct kfeatures *kf, struct sbuf *why)
{
	const struct {
		const char *hook;
		struct bpf_program *prog;
		int args;	/* the hook's own arguments (BPF_PROG adds ret) */
		int have;	/* the kernel's */
	} variants[] = {
		{ "inode_setattr", skel->progs.wd_inode_setattr, 2, kf->setattr_args },
		{ "inode_setattr", skel->progs.wd_inode_setattr_idmap, 3, kf->setattr_args },
		{ "perf_event_open", skel->progs.wd_perf_event_open, 2, kf->perf_open_args },
		{ "perf_event_open", skel->progs.wd_perf_event_open_noattr, 1, kf->perf_open_args },
	};
	const size_t n = sizeof(variants) / sizeof(variants[0]);

	for (size_t i = 0; i < n; i++)
		bpf_program__set_autoload(variants[i].prog, variants[i].args == variants[i].have);
	for (size_t i = 0; i < n; i++) {
		bool found = false;

		for (size_t j = 0; j < n; j++)
			found |= !strcmp(variants[j].hook, variants[i].hook) &&
				 variants[j].args == variants[j].have;
		if (!found) {
			sb_printf(why, "the kernel's %s hook has %d arguments (%s), a prototype this "
				       "Warden has no program for, so what it guards could not be judged; "
				       "nothing was loaded",
				  variants[i].hook, variants[i].have,
				  variants[i].have < 0 ? strerror(-variants[i].have) : "BTF");
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/*
 * WARDEN_PATH_WALK=probe-read: the path walk reads with
 * bpf_probe_read_kernel() even where the kernel has bpf_rdonly_cast(), as
 * it does on 6.1. For benchmarks (both ways on one kernel, in one run) and
 * as a way around the direct loads, should one ever be suspected.
 */
static bool walk_direct_wanted(const struct kfeatures *kf)
{
	const char *v = getenv("WARDEN_PATH_WALK");

	if (v && !strcmp(v, "probe-read")) {
		pr_warn("WARDEN_PATH_WALK=probe-read: the path walk reads with bpf_probe_read_kernel\n");
		return false;
	}
	return kf->rdonly_cast;
}

/*
 * The majors of the character devices that pass raw storage commands, from
 * /proc/devices (their majors are dynamic but for sg's): at most @max, the
 * rest 0. A driver loaded after this load is not known (documented).
 */
void lsm_raw_char_majors(volatile uint32_t *majors, size_t max)
{
	static const char *const names[] = { "sg", "bsg", "nvme", "nvme-generic", "mtd",
					     "infiniband_verbs", "infiniband_mad" };
	char line[128], name[64];
	bool chars = false;
	size_t n = 0;
	unsigned int major;
	FILE *f;

	for (size_t i = 0; i < max; i++)
		majors[i] = 0;
	majors[n++] = 21;	/* SCSI_GENERIC_MAJOR: sg may be loaded later */
	majors[n++] = 231;	/* IB_UVERBS_MAJOR, IB_UMAD_MAJOR: RDMA, likewise */
	f = fopen("/proc/devices", "re");
	if (!f)
		return;
	while (n < max && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Character devices:", 18)) {
			chars = true;
			continue;
		}
		if (!strncmp(line, "Block devices:", 14))
			break;
		if (!chars || sscanf(line, "%u %63s", &major, name) != 2 || major == 21 || major == 231)
			continue;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(name, names[i]) && n < max)
				majors[n++] = major;
	}
	fclose(f);
}

/*
 * vm.mmap_min_addr: agents map nothing below it (wd_mmap_addr). Unreadable:
 * the kernel's default on x86 (CONFIG_DEFAULT_MMAP_MIN_ADDR), which is the
 * safe side; an agent cannot change the sysctl later (kernel_config).
 */
static uint64_t lsm_mmap_min_addr(void)
{
	unsigned long long v = 65536;
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "re");

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 65536;
		fclose(f);
	}
	return v;
}

static int probe_kernel(struct lsm_bpf *skel, struct sbuf *why)
{
	struct kfeatures kf;
	struct sbuf desc = {0};
	int err = kfeatures_probe(&kf, why);

	if (err)
		return err;
	want_rename_count(skel, &kf);
	skel->rodata->preemptible = kf.preemptible != NULL;
	/* Where the hook exists it is the only one 32-bit ioctls pass. */
	bpf_program__set_autoload(skel->progs.wd_file_ioctl_compat, kf.ioctl_compat);
	bpf_program__set_autoload(skel->progs.wd_inode_set_acl, kf.set_acl);
	bpf_program__set_autoload(skel->progs.wd_inode_remove_acl, kf.set_acl);
	bpf_program__set_autoload(skel->progs.wd_key_free, kf.key_free);
	skel->rodata->mmap_min_addr = lsm_mmap_min_addr();
	kf.rdonly_cast = walk_direct_wanted(&kf);
	skel->rodata->walk_direct = kf.rdonly_cast;
	lsm_raw_char_majors(skel->rodata->raw_char_majors,
			    sizeof(skel->rodata->raw_char_majors) / sizeof(skel->rodata->raw_char_majors[0]));
	err = want_hook_variants(skel, &kf, why);
	if (verbose) {
		kfeatures_describe(&kf, &desc, false);
		sb_putc(&desc, '\0');
		pr_debug("this kernel's mechanisms:\n%s", desc.buf);
		sb_free(&desc);
	}
	return err;
}

static int attach_counter(struct bpf_program *prog, struct bpf_link **link, struct sbuf *why)
{
	int err;

	*link = bpf_program__attach(prog);
	if (!*link) {
		err = -errno;
		sb_printf(why, "cannot attach %s to __d_move (%s); run 'warden doctor' and 'warden -v run ...' for details",
			  bpf_program__name(prog), strerror(-err));
		return err;
	}
	return 0;
}

/*
 * Before any program that judges: an entry kept while renames went
 * uncounted would outlive the rename that voids it. The end first: a move
 * whose beginning went uncounted is not counted at its end either.
 */
static int attach_rename_count(struct lsm_bpf *skel, struct sbuf *why)
{
	int err;

	if (!skel->rodata->renames_counted)
		return 0;
	err = attach_counter(skel->progs.wd_rename_ends, &skel->links.wd_rename_ends, why);
	if (!err)
		err = attach_counter(skel->progs.wd_rename_begins, &skel->links.wd_rename_begins,
				     why);
	return err;
}

/* With -vv: how long each step of a load took (a start's cost, step by step). */
static void step_done(const char *step)
{
	static struct timespec last;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last.tv_sec && verbose >= 2)
		pr_debug("%s: %ld ms\n", step, (now.tv_sec - last.tv_sec) * 1000 +
						   (now.tv_nsec - last.tv_nsec) / 1000000);
	last = now;
}

static int lsm_load_attach(struct lsm_bpf *skel, struct sbuf *why)
{
	int err;

	step_done("start");
	err = probe_kernel(skel, why);
	step_done("kernel features probed (BTF)");
	if (err)
		return err;
	if (verbose >= 2)
		want_verifier_stats(skel->obj);
	err = lsm_bpf__load(skel);
	step_done("programs loaded and verified");
	if (verbose >= 2)
		print_verifier_stats(skel->obj);
	if (err) {
		sb_printf(why, "cannot load the BPF LSM programs (%s); %s", strerror(-err),
			  err == -EPERM ? "the kernel refused them: warden must run as root, and the "
					  "kernel needs CONFIG_BPF_LSM, a BPF JIT with trampolines, and "
					  "\"bpf\" in its LSM list; if it is listed, trampolines are "
					  "disabled here and enforcement needs another kernel; otherwise " LSM_FIX
					: "run 'warden doctor' and 'warden -v run ...' for details");
		return err;
	}
	err = attach_rename_count(skel, why);
	if (err)
		return err;
	err = lsm_bpf__attach(skel);
	step_done("programs attached");
	if (err) {
		sb_printf(why, "cannot attach the BPF LSM programs (%s); %s", strerror(-err),
			  LSM_FIX);
		return err;
	}
	return 0;
}

/*
 * The node map of one run holds exactly the policy's nodes: preallocated,
 * it takes the same memory, and the fill (lsm_add_agent()) costs half or
 * less (10,101 nodes on the host: 7 ms instead of 13 to 21, for 1 ms more
 * at map creation). The daemon's map is sized for every agent's policies,
 * so it stays allocated on demand (BPF_F_NO_PREALLOC, bpf/lsm.bpf.c).
 */
static int prealloc_nodes(struct lsm_bpf *skel, struct sbuf *why)
{
	int err = bpf_map__set_map_flags(skel->maps.nodes,
					 bpf_map__map_flags(skel->maps.nodes) & ~BPF_F_NO_PREALLOC);

	if (err) {
		sb_printf(why, "cannot set the policy map's flags: %s", strerror(-err));
		lsm_bpf__destroy(skel);
	}
	return err;
}

int lsm_load_opts(struct lsm_bpf **out, size_t nodes, const struct lsm_opts *o, struct sbuf *why)
{
	struct lsm_bpf *skel;
	int err;

	err = lsm_open_configure(&skel, nodes, o, why);
	if (!err)
		err = prealloc_nodes(skel, why);
	if (err)
		return err;
	/* warden run and attach never bind at exec: the daemon's programs do
	 * (wd_socket_sendmsg gates too, but judges source routes for all). */
	bpf_program__set_autoload(skel->progs.wd_bind_exec, false);
	bpf_program__set_autoload(skel->progs.wd_gate_connect, false);
	bpf_program__set_autoload(skel->progs.wd_gate_bind, false);
	bpf_program__set_autoload(skel->progs.wd_daemon_iter, false);
	err = lsm_load_attach(skel, why);
	if (err) {
		lsm_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

/*
 * The maps lsm_load() creates, sized alike, with no program loaded: what
 * lsm_add_agent() fills, on a kernel that cannot load BPF LSM programs
 * (tests/bench/loadbench measures the fill natively with it).
 */
int lsm_load_maps(struct lsm_bpf **out, size_t nodes, struct sbuf *why)
{
	struct lsm_opts o = {0};
	struct bpf_program *prog;
	struct lsm_bpf *skel;
	int err;

	err = lsm_open_configure(&skel, nodes, &o, why);
	if (!err)
		err = prealloc_nodes(skel, why);
	if (err)
		return err;
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, false);
	err = lsm_bpf__load(skel);
	if (err) {
		sb_printf(why, "cannot create the BPF maps: %s", strerror(-err));
		lsm_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

/* ---- the daemon's pinned state ------------------------------------------- */

/*
 * The daemon's maps live in @dir/maps (bpffs refuses dots in names: "." of
 * ".bss" becomes "_"). The read-only data is per load; everything else,
 * .bss included, is the state that outlives a daemon.
 */
static bool map_persists(const struct bpf_map *m)
{
	return !bpf_map__is_internal(m) || strstr(bpf_map__name(m), ".bss");
}

static void map_pin_path(const struct bpf_map *m, const char *dir, char *path, size_t size)
{
	char name[128];

	snprintf(name, sizeof(name), "%s", bpf_map__name(m));
	for (char *c = name; *c; c++)
		if (*c == '.')
			*c = '_';
	snprintf(path, size, "%s/maps/%s", dir, name);
}

/* A pinned map of another warden build would be misread: refuse it. */
static int check_compatible(struct bpf_map *m, int fd, const char *path, struct sbuf *why)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != bpf_map__type(m) || info.key_size != bpf_map__key_size(m) ||
	    info.value_size != bpf_map__value_size(m)) {
		sb_printf(why, "the pinned map %s does not fit this build of warden (type %u key %u value %u, expected %u %u %u): it was left by another version; stop its agents and remove %s/.. with 'warden daemon --reset', or run the matching warden",
			  path, info.type, info.key_size, info.value_size, bpf_map__type(m),
			  bpf_map__key_size(m), bpf_map__value_size(m), path);
		return -EINVAL;
	}
	return 0;
}

static int reuse_pinned_maps(struct lsm_bpf *skel, const char *dir, bool *adopted,
			     struct sbuf *why)
{
	char path[PATH_MAX];
	struct bpf_map *m;
	int fd, err;

	*adopted = false;
	bpf_object__for_each_map(m, skel->obj) {
		if (!map_persists(m))
			continue;
		map_pin_path(m, dir, path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			err = -errno;
			sb_printf(why, "cannot open the pinned map %s: %s", path, strerror(-err));
			return err;
		}
		err = check_compatible(m, fd, path, why);
		if (!err)
			err = bpf_map__reuse_fd(m, fd);
		close(fd);
		if (err) {
			if (!why->len)
				sb_printf(why, "cannot reuse the pinned map %s: %s", path,
					  strerror(-err));
			return err;
		}
		*adopted = true;
	}
	return 0;
}

static int pin_new_maps(struct lsm_bpf *skel, const char *dir, struct sbuf *why)
{
	char path[PATH_MAX];
	struct bpf_map *m;
	int err;

	snprintf(path, sizeof(path), "%s/maps", dir);
	if (mkdir(path, 0700) && errno != EEXIST) {
		err = -errno;
		sb_printf(why, "cannot create %s: %s", path, strerror(-err));
		return err;
	}
	bpf_object__for_each_map(m, skel->obj) {
		if (!map_persists(m))
			continue;
		map_pin_path(m, dir, path, sizeof(path));
		if (!access(path, F_OK))
			continue;	/* reused */
		err = bpf_obj_pin(bpf_map__fd(m), path);
		if (err) {
			err = -errno;
			sb_printf(why, "cannot pin %s: %s", path, strerror(-err));
			return err;
		}
	}
	return 0;
}

int remove_pin_dir(const char *dir)
{
	char path[PATH_MAX * 2];
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	return rmdir(dir) ? -errno : 0;
}

/* The BPF object's identity: a daemon of the same build keeps the programs that run. */
static uint64_t object_hash(void)
{
	size_t n;
	const unsigned char *p = lsm_bpf__elf_bytes(&n);
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* Drop every generation of links in @dir but @keep. */
static void drop_generations(const char *dir, const char *keep)
{
	char old[PATH_MAX * 2];
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "links-", 6))
			continue;
		snprintf(old, sizeof(old), "%s/%s", dir, e->d_name);
		if (strcmp(old, keep))
			remove_pin_dir(old);
	}
	if (d)
		closedir(d);
}

/* Does @links hold pinned links? (A daemon of this build attached them.) */
static bool generation_present(const char *links)
{
	struct dirent *e;
	DIR *d = opendir(links);
	bool any = false;

	while (d && (e = readdir(d)) && !any)
		any = e->d_name[0] != '.';
	if (d)
		closedir(d);
	return any;
}

/*
 * The links of a build live in @dir/links-<hash of its BPF object>. A
 * daemon of the same build leaves the programs that run in place (no
 * moment without them, no double judging, no trampoline churn under
 * load). Another build attaches its own first, then drops the old ones:
 * for a moment both judge, with the same maps: the same decisions.
 */
int lsm_load_pinned(struct lsm_bpf **out, const char *dir, size_t nodes, const struct lsm_opts *o,
		    bool *adopted, struct sbuf *why)
{
	char links[PATH_MAX];
	struct lsm_bpf *skel;
	bool keep;
	int err;

	if (mkdir(WARDEN_BPFFS, 0700) && errno != EEXIST) {
		err = -errno;
		sb_printf(why, "cannot create %s: %s", WARDEN_BPFFS, strerror(-err));
		return err;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		err = -errno;
		sb_printf(why, "cannot create %s: %s", dir, strerror(-err));
		return err;
	}
	snprintf(links, sizeof(links), "%s/links-%016llx", dir, (unsigned long long)object_hash());
	err = lsm_open_configure(&skel, nodes, o, why);
	if (err)
		return err;
	skel->rodata->net_gate_on = 1;	/* the daemon's agents are bound at exec (net_gate()) */
	err = reuse_pinned_maps(skel, dir, adopted, why);
	keep = !err && *adopted && generation_present(links);
	if (!err && keep) {
		err = probe_kernel(skel, why);
		if (!err) {
			err = lsm_bpf__load(skel);
			if (err)
				sb_printf(why, "cannot load the BPF LSM programs: %s", strerror(-err));
		}
	} else if (!err) {
		err = lsm_load_attach(skel, why);
		if (!err) {
			remove_pin_dir(links);	/* a partial generation of this build */
			err = pin_skeleton_links(skel->skeleton, links);
			if (err)
				sb_printf(why, "cannot pin the programs' links in %s: %s", links,
					  strerror(-err));
		}
	}
	if (!err)
		err = pin_new_maps(skel, dir, why);
	if (!err)
		drop_generations(dir, links);
	if (err) {
		lsm_bpf__destroy(skel);
		return err;
	}
	pr_debug("daemon: %s the programs of %s\n", keep ? "kept" : "attached", links);
	/* Another build's programs may have judged what the cache holds. */
	lsm_policy_changed(skel);
	*out = skel;
	return 0;
}

/* End what a daemon left: its programs detach, its maps (and every mark) go. */
int lsm_remove_pinned(const char *dir)
{
	char path[PATH_MAX * 2];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		remove_pin_dir(path);
	}
	closedir(d);
	return rmdir(dir) ? -errno : 0;
}

void lsm_unload(struct lsm_bpf *skel)
{
	lsm_bpf__destroy(skel);
}

/* In a child of a threaded process: raw system calls only (no malloc). */
static void close_all_but_links(int keep)
{
	char buf[4096], path[64], target[64];
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long n;

	if (dir < 0)
		_exit(0);	/* cannot tell: release now, here */
	while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct linux_dirent64 {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *e = (void *)(buf + off);
			int fd = atoi(e->name);
			ssize_t len;

			off += e->reclen;
			if (e->name[0] == '.' || fd == dir || fd == keep)
				continue;
			snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
			len = readlink(path, target, sizeof(target) - 1);
			if (len < 0 || len != (ssize_t)strlen("anon_inode:bpf_link") ||
			    memcmp(target, "anon_inode:bpf_link", (size_t)len))
				close(fd);
		}
	}
	close(dir);
}

/*
 * Releasing an LSM program's link waits for RCU-tasks grace periods
 * (ftrace_shutdown()), one hook after the other under ftrace's lock: about
 * 0.1 s a hook, mostly asleep, some 7 s for all of Warden's on any machine.
 * The command's status should not wait for that: a child inherits the
 * links, keeps nothing else open (not the caller's pipes: a shell waiting
 * for output is not held), and lets go of them once this process has
 * exited (its end of a pipe closes). Nothing stays attached longer than
 * that: killed, the child's exit releases them as well. Only once the
 * agent is gone: a detach of a live agent must end its confinement at once.
 */
void lsm_unload_later(struct lsm_bpf *skel)
{
	int gate[2];
	pid_t pid;
	char c;

	if (pipe2(gate, O_CLOEXEC) == 0) {
		pid = fork();
		if (pid == 0) {
			close(gate[1]);
			close_all_but_links(gate[0]);
			setsid();
			while (read(gate[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		close(gate[0]);
		if (pid < 0)
			close(gate[1]);
		/* else gate[1] stays open until this process exits (O_CLOEXEC) */
	}
	lsm_bpf__destroy(skel);
}

/*
 * @n elements in one BPF_MAP_UPDATE_BATCH, else one call each (kernels
 * before 5.6). The batch takes no BPF_NOEXIST (generic_map_update_batch()
 * accepts only BPF_F_LOCK): @flags are the fallback's, and a batch applies
 * its elements in order, as the calls would (a repeated key: the last wins).
 */
static int put_batch(int fd, const void *keys, size_t ksz, const void *vals, size_t vsz,
		     size_t n, __u64 flags)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = n;
	int err;

	if (!n)
		return 0;
	err = bpf_map_update_batch(fd, keys, vals, &count, &opts);
	if (!err)
		return 0;
	if (err != -EINVAL && err != -ENOTSUP && err != -EOPNOTSUPP)
		return err;
	for (size_t i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, (const char *)keys + i * ksz,
					(const char *)vals + i * vsz, flags))
			return -errno;
	return 0;
}

/* Let the path walk look (ino, dev) up: see wd_id_filter_slot(). */
static void id_filter_set(volatile __u64 *filter, __u64 ino, __u32 dev)
{
	__u32 slot = wd_id_filter_slot(ino, dev);

	filter[slot >> 6] |= 1ull << (slot & 63);
}

/*
 * The map is new and check_collisions() made the keys unique, so the
 * batch's BPF_ANY adds every node as BPF_NOEXIST (the fallback's) would.
 */
static int put_nodes(int fd, const struct compiled *c)
{
	return put_batch(fd, c->keys, sizeof(*c->keys), c->nodes, sizeof(*c->nodes), c->n,
			 BPF_NOEXIST);
}

/*
 * The rule objects that exist now, by identity (see struct wd_inode_key).
 * lstat: a rule on a symlink's path is about the link itself. Nodes come
 * after their parent (policy_compile()), and under a path that cannot be
 * looked up nothing can: its subtree is skipped without a call each.
 * Each one's filter bit is set before its key goes in, so the walk never
 * skips it.
 */
static int put_inodes(int fd, volatile __u64 *filter, const struct compiled *c)
{
	struct wd_inode_key *keys = xcalloc(c->n, sizeof(*keys));
	struct wd_node_key *vals = xcalloc(c->n, sizeof(*vals));
	bool *gone = xcalloc(c->n, sizeof(*gone));
	struct stat st;
	size_t n = 0;
	int err;

	for (size_t i = 0; i < c->n; i++) {
		if (i && gone[c->keys[i].parent - c->root_id]) {
			gone[i] = true;
			continue;
		}
		if (lstat(c->paths[i], &st)) {
			/* not there yet: the name alone decides */
			gone[i] = errno == ENOENT || errno == ENOTDIR;
			continue;
		}
		keys[n] = (struct wd_inode_key){ .root = c->root_id, .ino = st.st_ino,
						 .dev = major(st.st_dev) << 20 | minor(st.st_dev) };
		id_filter_set(filter, keys[n].ino, keys[n].dev);
		vals[n++] = c->keys[i];
	}
	err = put_batch(fd, keys, sizeof(*keys), vals, sizeof(*vals), n, BPF_ANY);
	free(keys);
	free(vals);
	free(gone);
	return err;
}

int lsm_put_identities(struct lsm_bpf *skel, const struct compiled *c)
{
	return put_inodes(bpf_map__fd(skel->maps.inodes), skel->bss->id_filter, c);
}

/* Does @p allow binding TCP port 0 (the kernel's choice) on @family's wildcard address? */
static bool autobind_allowed(const struct policy *p, int family)
{
	static const uint8_t any[16];
	long rule;

	return policy_net_decide(p, family, any, 0, NET_PROTO_TCP, NET_BIND, &rule) == WD_ACT_ALLOW;
}

uint32_t lsm_agent_flags(const struct policy *p)
{
	return (p->fileless_exec ? WD_AGENT_FILELESS_EXEC : 0) |
	       (p->has_network ? WD_AGENT_NET : 0) | (p->net_raw ? WD_AGENT_RAW : 0) |
	       (p->no_abstract_unix ? WD_AGENT_NO_ABSTRACT : 0) |
	       (p->has_network && autobind_allowed(p, AF_INET) ? WD_AGENT_AUTOBIND4 : 0) |
	       (p->has_network && autobind_allowed(p, AF_INET6) ? WD_AGENT_AUTOBIND6 : 0);
}

int lsm_protect_fd(struct lsm_bpf *skel, int fd, uint32_t kind)
{
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.protected_inodes), &fd, &kind, BPF_ANY))
		return -errno;
	return 0;
}

int lsm_protect_path(struct lsm_bpf *skel, const char *path, uint32_t kind, int *fd, struct sbuf *why)
{
	int ret;

	*fd = open(path, O_PATH | O_CLOEXEC);
	if (*fd < 0) {
		ret = -errno;
		sb_printf(why, "cannot open %s to protect it: %s", path, strerror(-ret));
		return ret;
	}
	ret = lsm_protect_fd(skel, *fd, kind);
	if (ret) {
		sb_printf(why, "cannot protect %s: %s", path, strerror(-ret));
		close(*fd);
		*fd = -1;
	}
	return ret;
}

int lsm_protect_own(struct lsm_bpf *skel, const char *policy, struct lsm_own *own, struct sbuf *why)
{
	const char *paths[] = { "/proc/self/exe", policy };
	int ret = 0;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		own->fd[i] = -1;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]) && !ret; i++)
		if (paths[i])
			ret = lsm_protect_path(skel, paths[i], WD_TAMPER_WARDEN, &own->fd[i], why);
	return ret;
}

void lsm_own_release(struct lsm_own *own)
{
	for (size_t i = 0; i < sizeof(own->fd) / sizeof(own->fd[0]); i++)
		if (own->fd[i] > 0)
			close(own->fd[i]);
}

int lsm_protect_sink_file(int fd, void *skel)
{
	return lsm_protect_fd(skel, fd, WD_TAMPER_EVENTS);
}

int lsm_add_agent(struct lsm_bpf *skel, uint32_t agent, const struct compiled *c,
		  const struct policy *p)
{
	struct wd_agent a = {
		.root_node = c->root_id,
		.mode = p->mode,
		.flags = lsm_agent_flags(p),
		.caps_granted = p->caps_granted,
	};
	int err;

	err = put_nodes(bpf_map__fd(skel->maps.nodes), c);
	if (!err)
		err = lsm_put_identities(skel, c);
	if (err)
		return err;
	/* The agent slot last: its tasks are judged only once the whole tree is in. */
	err = bpf_map_update_elem(bpf_map__fd(skel->maps.agents), &agent, &a, BPF_ANY);
	if (err)
		return -errno;
	lsm_policy_changed(skel);
	return 0;
}

/*
 * After an agent's policy changed: the open verdict cache (lsm.bpf.c) keeps
 * no verdict across an epoch. Called after the agents map update, so that a
 * walk that reads the new epoch also reads the new agent.
 */
void lsm_policy_changed(struct lsm_bpf *skel)
{
	__atomic_add_fetch(&skel->bss->policy_epoch, 1, __ATOMIC_SEQ_CST);
}

int lsm_mark_task(struct lsm_bpf *skel, int pidfd, uint32_t agent)
{
	struct wd_task t = { .agent = agent };

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.tasks), &pidfd, &t, BPF_NOEXIST))
		return -errno;
	return 0;
}

uint64_t map_counter(int fd, uint32_t which)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum = 0, *vals;

	if (ncpu <= 0)
		return 0;
	vals = xcalloc(ncpu, sizeof(*vals));
	if (!bpf_map_lookup_elem(fd, &which, vals))
		for (int i = 0; i < ncpu; i++)
			sum += vals[i];
	free(vals);
	return sum;
}

uint64_t lsm_counter(struct lsm_bpf *skel, uint32_t which)
{
	return map_counter(bpf_map__fd(skel->maps.counters), which);
}

int lsm_counters_fd(struct lsm_bpf *skel)
{
	return bpf_map__fd(skel->maps.counters);
}

int lsm_events_fd(struct lsm_bpf *skel)
{
	return bpf_map__fd(skel->maps.events);
}

/*
 * Pin every link under @dir, so that enforcement outlives warden: if warden
 * is killed, the agent's processes stay confined (fail closed) until a
 * later run finds them gone and removes the pins (lsm_clean_stale).
 */
int pin_skeleton_links(const struct bpf_object_skeleton *sk, const char *dir)
{
	char path[PATH_MAX];
	int err;

	if (mkdir(WARDEN_BPFFS, 0700) && errno != EEXIST) {
		err = -errno;
		if (err == -ENOENT || err == -EACCES)
			return err;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		err = -errno;
		pr_debug("pin: mkdir %s: %s\n", dir, strerror(-err));
		return err;
	}
	for (int i = 0; i < sk->prog_cnt; i++) {
		struct bpf_link *link = *sk->progs[i].link;

		if (!link)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, sk->progs[i].name);
		err = bpf_link__pin(link, path);
		if (err) {
			pr_debug("pin: %s: %s\n", path, strerror(-err));
			return err;
		}
	}
	return 0;
}

void unpin_skeleton_links(const struct bpf_object_skeleton *sk)
{
	for (int i = 0; i < sk->prog_cnt; i++)
		if (*sk->progs[i].link)
			bpf_link__unpin(*sk->progs[i].link);
}

int lsm_pin_events(struct lsm_bpf *skel, const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/map_events", dir);
	if (bpf_obj_pin(bpf_map__fd(skel->maps.events), path))
		return -errno;
	snprintf(path, sizeof(path), "%s/map_counters", dir);
	if (bpf_obj_pin(bpf_map__fd(skel->maps.counters), path))
		return -errno;
	return 0;
}

int lsm_pin(struct lsm_bpf *skel, const char *dir)
{
	return pin_skeleton_links(skel->skeleton, dir);
}

void lsm_unpin(struct lsm_bpf *skel, const char *dir)
{
	unpin_skeleton_links(skel->skeleton);
	rmdir(dir);
}

/* ---- warden attach (see the end of bpf/lsm.bpf.c) ------------------------ */

int lsm_attach_begin(struct lsm_bpf *skel, const struct lsm_attach_target *t)
{
	__u8 one = 1;

	skel->bss->attach_agent = t->agent;
	skel->bss->attach_self = getpid();
	skel->bss->attach_cgid = t->cgid;
	skel->bss->attach_dest_cgid = t->dest_cgid;
	if (t->mode == WD_ATTACH_TREE &&
	    bpf_map_update_elem(bpf_map__fd(skel->maps.attach_roots), &t->pid, &one, BPF_ANY))
		return -errno;
	/* Last: the hooks act from here on, with everything above in place. */
	__atomic_store_n(&skel->bss->attach_mode, t->mode, __ATOMIC_SEQ_CST);
	return 0;
}

void lsm_attach_end(struct lsm_bpf *skel)
{
	int fd = bpf_map__fd(skel->maps.attach_roots);
	__u32 key, next;

	__atomic_store_n(&skel->bss->attach_mode, WD_ATTACH_OFF, __ATOMIC_SEQ_CST);
	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		key = next;
		if (bpf_map_delete_elem(fd, &key))
			break;
	}
}

/* The iterator's output: one tgid per line, of marked tasks outside dest_cgid. */
static int parse_tgids(char *text, struct lsm_sweep *out)
{
	char *line, *save, *end;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		long v = strtol(line, &end, 10);

		if (*end || v <= 0)
			return -EPROTO;
		if (out->n && out->tgids[out->n - 1] == (pid_t)v)
			continue;	/* threads of one process come in a row */
		if (out->n == out->cap) {
			out->cap = out->cap ? out->cap * 2 : 64;
			out->tgids = realloc(out->tgids, out->cap * sizeof(*out->tgids));
			if (!out->tgids)
				return -ENOMEM;
		}
		out->tgids[out->n++] = v;
	}
	return 0;
}

int lsm_attach_sweep(struct lsm_bpf *skel, struct lsm_sweep *out)
{
	uint64_t before = skel->bss->attach_marked;
	struct sbuf text = {0};
	char buf[4096];
	ssize_t n;
	int fd, err = 0;

	out->n = 0;
	if (!skel->links.wd_attach_iter) {
		skel->links.wd_attach_iter = bpf_program__attach_iter(skel->progs.wd_attach_iter, NULL);
		if (!skel->links.wd_attach_iter)
			return -errno;
	}
	fd = bpf_iter_create(bpf_link__fd(skel->links.wd_attach_iter));
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		sb_put(&text, buf, n);
	}
	close(fd);
	sb_putc(&text, '\0');
	if (!err)
		err = parse_tgids(text.buf, out);
	sb_free(&text);
	out->marked = skel->bss->attach_marked - before;
	out->failed = skel->bss->attach_failed;
	out->threads = skel->bss->attach_threads;
	return err;
}
