// SPDX-License-Identifier: GPL-2.0
/*
 * warden attach: confine a process tree (--pid) or a cgroup (--cgroup)
 * that already runs, in the foreground, until SIGINT or SIGTERM.
 *
 * Who is a member is decided in the kernel (the end of bpf/lsm.bpf.c):
 * from the moment the attach begins, every task forked by a member is
 * marked before it runs, and an exiting member's children stay members
 * when they are reparented. Sweeps of a task iterator then mark the
 * members that already ran, until a sweep finds none unmarked. No /proc
 * scan decides membership, so no fork, double fork or exit during the
 * attach lets a process escape, and nothing needs to be frozen.
 *
 * --pid moves the tree into an instance cgroup (network rules are cgroup
 * programs; the cgroup also tells when the tree is gone), re-sweeping
 * until every marked process is in it; on detach they go back to the
 * cgroup the process came from. --cgroup hangs the network programs on
 * the cgroup itself and keeps the membership hooks on, so that processes
 * forked or moved into it later are confined too.
 *
 * Anything that fails before the attach is complete undoes it: the
 * programs are unloaded (which drops every mark) and the tree goes back.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include <cjson/cJSON.h>

#include "agentcommon.h"
#include "cgroup.h"
#include "commands.h"
#include "daemon.h"
#include "event.h"
#include "lsm.h"
#include "mxc.h"
#include "net.h"
#include "policy.h"

#define SWEEPS_MAX 200		/* passes before an attach that does not settle gives up */
#define TICK_MS 200		/* supervision: drain events, re-sweep a cgroup */

struct attach {
	struct lsm_own own;	/* warden's binary and the policy file, protected (skel) */
	const char *policy_file;
	const char *events_file;
	const char *cgroup_arg;
	pid_t pid;
	bool audit;
	bool allow_partial;
	bool foreground;	/* --foreground: never hand the attach to a daemon */
	const char *control;	/* the daemon's control socket */

	struct policy policy;
	struct compiled compiled;
	struct lsm_bpf *skel;	/* NULL only with --allow-partial --cgroup */
	struct net_compiled net_compiled;
	struct net_bpf *net;
	struct ring_buffer *rb;
	int events_fd;
	char instance[AGENT_INSTANCE_LEN];
	char cgroup[PATH_MAX];	/* where the members are: the instance's, or --cgroup's */
	char home[PATH_MAX];	/* --pid: the cgroup the tree came from */
	bool own_cgroup;	/* cgroup is the instance's: remove it at the end */
	struct lsm_sweep sweep;
	struct agent_info ai;
	int64_t boot_offset;
	uint64_t lost_reported;
	struct sbuf out;
	bool write_failed;
};

static const char attach_usage[] =
	"Usage: warden attach --policy FILE (--pid PID | --cgroup PATH) [--events FILE]\n"
	"                     [--audit] [--allow-partial]\n"
	"\n"
	"Confine processes that already run, without restarting them: with --pid,\n"
	"process PID, all its threads and descendants, and every process they start;\n"
	"with --cgroup, every process of a cgroup v2 (a container, a systemd unit),\n"
	"those there now and those forked or moved into it later.\n"
	"\n"
	"When a warden daemon runs, the attach is handed to it once it holds: warden\n"
	"prints the instance and exits 0, and the confinement lasts until 'warden\n"
	"detach INSTANCE' (with --pid, or until every process of the tree has\n"
	"exited); the daemon reports its events. Otherwise, or with --foreground,\n"
	"warden stays in the foreground, reporting events, until SIGINT or SIGTERM:\n"
	"then it detaches and the processes run unconfined again (--pid: back in the\n"
	"cgroup they came from). With --pid it also ends when every process of the\n"
	"tree has exited. A foreground attach ends with warden, even by SIGKILL.\n"
	"\n"
	"  -p, --policy FILE   policy (version 1 JSON, or MXC); required\n"
	"      --pid PID       the process tree to confine\n"
	"      --cgroup PATH   the cgroup to confine: a path in the cgroup v2 file\n"
	"                      system, absolute or relative to its mount point\n"
	"  -e, --events FILE   append events as JSON lines to FILE (default: stderr)\n"
	"  -a, --audit         deny nothing; report would-be denials as \"audit\"\n"
	"      --allow-partial with --cgroup: attach even when this kernel can enforce\n"
	"                      only the network rules (no BPF LSM); what is not\n"
	"                      enforced is listed\n"
	"      --foreground    stay in the foreground even when a daemon runs\n"
	"      --control PATH  the daemon's control socket (default " WARDEN_CONTROL ")\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit status: 0 after a detach (signal) or when the tree has exited; 1 if\n"
	"the attach failed (nothing stays confined, the tree is where it was);\n"
	"2 usage.\n"
	"\n"
	"Examples:\n"
	"  warden attach --policy policies/coding-agent.json --pid 4242\n"
	"  warden attach --policy p.json --cgroup system.slice/agent.service \\\n"
	"                --events /var/log/agent.jsonl\n"
	"  warden attach --policy p.json --pid \"$(pgrep -o agent)\" --audit &\n"
	"  kill -TERM %1        # detach (foreground)\n"
	"  warden detach 3f2a9c0d1e4b   # detach (handed to the daemon)\n";

static int parse_args(struct attach *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "pid", required_argument, NULL, 'i' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "events", required_argument, NULL, 'e' },
		{ "audit", no_argument, NULL, 'a' },
		{ "allow-partial", no_argument, NULL, 'P' },
		{ "foreground", no_argument, NULL, 'F' },
		{ "control", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	long pid;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:e:ah", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			a->policy_file = optarg;
			break;
		case 'i':
			if (parse_long(optarg, 1, INT32_MAX, &pid)) {
				pr_warn("attach: --pid %s: not a process id\n", optarg);
				return -EINVAL;
			}
			a->pid = pid;
			break;
		case 'c':
			a->cgroup_arg = optarg;
			break;
		case 'e':
			a->events_file = optarg;
			break;
		case 'a':
			a->audit = true;
			break;
		case 'P':
			a->allow_partial = true;
			break;
		case 'F':
			a->foreground = true;
			break;
		case 'C':
			a->control = optarg;
			break;
		case 'h':
			fputs(attach_usage, stdout);
			exit(EXIT_OK);
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		pr_warn("attach: unexpected argument \"%s\"\n", argv[optind]);
		return -EINVAL;
	}
	if (!a->policy_file) {
		pr_warn("attach: --policy FILE is required\n");
		return -EINVAL;
	}
	if (!a->pid == !a->cgroup_arg) {
		pr_warn("attach: give exactly one of --pid PID and --cgroup PATH\n");
		return -EINVAL;
	}
	return 0;
}

/* ---- the target ---------------------------------------------------------- */

/* The cgroup v2 path of process @pid ("0::/a/b" in /proc/PID/cgroup). */
static int cgroup_of_pid(pid_t pid, char *out, size_t size)
{
	char file[64], root[PATH_MAX], *text = NULL, *p, *nl;
	int ret;

	ret = cgroup2_mount(root, sizeof(root));
	if (ret)
		return ret;
	snprintf(file, sizeof(file), "/proc/%d/cgroup", pid);
	ret = read_file(file, &text, NULL);
	if (ret)
		return ret;
	p = strstr(text, "0::");
	if (!p || (p != text && p[-1] != '\n')) {
		free(text);
		return -ENOENT;
	}
	p += 3;
	nl = strchr(p, '\n');
	if (nl)
		*nl = '\0';
	ret = snprintf(out, size, "%s%s", root, strcmp(p, "/") ? p : "") >= (int)size ? -ENAMETOOLONG
										     : 0;
	free(text);
	return ret;
}

static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

static int check_pid(struct attach *a)
{
	char root[PATH_MAX], runs[PATH_MAX + 8];

	if (a->pid == 1) {
		pr_warn("attach: --pid 1 would confine the whole system; attach to a process tree, or use --cgroup\n");
		return -EINVAL;
	}
	if (a->pid == getpid()) {
		pr_warn("attach: --pid %d is warden itself\n", a->pid);
		return -EINVAL;
	}
	if (kill(a->pid, 0) && errno == ESRCH) {
		pr_warn("attach: --pid %d: no such process\n", a->pid);
		return -ESRCH;
	}
	if (cgroup_of_pid(a->pid, a->home, sizeof(a->home)) || cgroup2_mount(root, sizeof(root))) {
		pr_warn("attach: cannot tell the cgroup v2 of process %d (cgroup v2 needed)\n", a->pid);
		return -ENOENT;
	}
	/* Moving it would take it away from that run's network programs. */
	snprintf(runs, sizeof(runs), "%s/warden", root);
	if (path_under(a->home, runs)) {
		pr_warn("attach: process %d is already an agent of warden run (%s)\n", a->pid, a->home);
		return -EBUSY;
	}
	return 0;
}

/* --cgroup PATH: absolute in the cgroup2 mount, or relative to it. */
static int check_cgroup(struct attach *a)
{
	char root[PATH_MAX], self[PATH_MAX], real[PATH_MAX];
	struct statfs st;
	int ret;

	ret = cgroup2_mount(root, sizeof(root));
	if (ret) {
		pr_warn("attach: no cgroup v2 file system is mounted\n");
		return ret;
	}
	if (a->cgroup_arg[0] == '/')
		ret = snprintf(a->cgroup, sizeof(a->cgroup), "%s", a->cgroup_arg);
	else
		ret = snprintf(a->cgroup, sizeof(a->cgroup), "%s/%s", root, a->cgroup_arg);
	if (ret >= (int)sizeof(a->cgroup))
		return -ENAMETOOLONG;
	errno = 0;
	if (!realpath(a->cgroup, real) || statfs(real, &st) || st.f_type != CGROUP2_SUPER_MAGIC) {
		pr_warn("attach: --cgroup %s: not a cgroup v2 directory (%s)\n", a->cgroup_arg,
			errno ? strerror(errno) : "another file system");
		return -ENOENT;
	}
	snprintf(a->cgroup, sizeof(a->cgroup), "%s", real);
	if (!strcmp(real, root)) {
		pr_warn("attach: --cgroup %s is the root cgroup: that would confine the whole system\n",
			a->cgroup_arg);
		return -EINVAL;
	}
	if (!cgroup_of_pid(getpid(), self, sizeof(self)) && path_under(self, real)) {
		pr_warn("attach: warden itself is in %s; run it from outside the cgroup it confines\n",
			real);
		return -EINVAL;
	}
	return 0;
}

static uint64_t cgroup_id(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;	/* the kernfs node id, on 64-bit */
}

/* ---- policy and programs (as in run.c) ----------------------------------- */

static int load_policy(struct attach *a)
{
	char cwd[PATH_MAX];
	struct policy_env env;
	struct sbuf err = {0};
	int ret;

	ret = policy_env_of_process(&env, cwd, sizeof(cwd));
	if (ret) {
		pr_warn("cannot get the current directory: %s\n", strerror(-ret));
		return ret;
	}
	ret = policy_load(a->policy_file, &env, &a->policy, &err);
	if (!ret)
		policy_print_notes(&a->policy, stderr);
	if (!ret && a->policy.unenforceable) {
		sb_printf(&err, "%s: %s; refusing to attach with less than the policy asks\n",
			  a->policy.file, a->policy.unenforceable);
		ret = -EOPNOTSUPP;
	}
	for (size_t i = 0; !ret && i < a->policy.nnet; i++) {
		if (a->policy.net_rules[i].is_host) {
			sb_printf(&err, "%s: network.rules[%zu]: host rules need warden's resolver, which attach does not run yet; use cidr rules, or warden run\n",
				  a->policy.file, i);
			ret = -EOPNOTSUPP;
		}
	}
	if (!ret)
		ret = policy_compile(&a->policy, 1, &a->compiled, &err);
	if (!ret && a->policy.has_network)
		ret = net_compile(&a->policy, 0, &a->net_compiled, &err);
	if (ret) {
		sb_putc(&err, '\0');
		fprintf(stderr, "%s", err.buf);
		pr_warn("attach: policy rejected; nothing was attached\n");
	}
	sb_free(&err);
	if (a->audit)
		a->policy.mode = WD_MODE_AUDIT;
	return ret;
}

/* Without BPF LSM only a cgroup's network rules can hold, and only if asked for. */
static int check_partial(struct attach *a, struct sbuf *why)
{
	if (!a->allow_partial || !a->cgroup_arg || !a->policy.has_network) {
		if (a->policy.has_network && a->cgroup_arg)
			sb_puts(why, "; only this policy's network rules could be enforced here: --allow-partial attaches with them alone");
		else if (a->allow_partial && a->pid)
			sb_puts(why, "; --allow-partial works only with --cgroup: without BPF LSM a process tree cannot be followed race-free");
		return -EOPNOTSUPP;
	}
	pr_warn("attach: --allow-partial: %s\n", why->buf);
	pr_warn("attach: NOT enforced: file and exec rules, unix socket and packet socket rules, and the protections every agent has; only the network rules are\n");
	return 0;
}

static int load_programs(struct attach *a)
{
	struct sbuf why = {0};
	int ret;

	ret = lsm_active(&why);
	if (!ret)
		ret = lsm_load(&a->skel, a->compiled.n, &why);
	if (ret) {
		a->skel = NULL;
		sb_putc(&why, '\0');
		why.len--;
		ret = check_partial(a, &why);
	}
	if (!ret && a->policy.has_network) {
		struct net_opts o = {
			.mode = a->policy.mode,
			.raw = a->policy.net_raw,
			.events_fd = a->skel ? lsm_events_fd(a->skel) : -1,
			.counters_fd = a->skel ? lsm_counters_fd(a->skel) : -1,
		};

		why.len = 0;
		ret = net_load(&a->net, &a->net_compiled, &o, &why);
	}
	if (!ret && a->skel) {
		ret = lsm_add_agent(a->skel, 0, &a->compiled, &a->policy);
		if (ret)
			sb_printf(&why, "cannot install the policy in the kernel: %s", strerror(-ret));
		else
			ret = lsm_protect_own(a->skel, a->policy_file, &a->own, &why);
	}
	if (ret) {
		sb_putc(&why, '\0');
		pr_warn("attach: %s; nothing was attached\n", why.buf);
	}
	sb_free(&why);
	return ret;
}

/* ---- events (as in run.c) ------------------------------------------------ */

static void flush_out(struct attach *a)
{
	size_t off = 0;

	while (off < a->out.len) {
		ssize_t n = write(a->events_fd, a->out.buf + off, a->out.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!a->write_failed)
				pr_warn("cannot write events: %s\n", strerror(errno));
			a->write_failed = true;
			break;
		}
		off += n;
	}
	a->out.len = 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct attach *a = ctx;

	if (event_format(&a->out, data, size, &a->ai, a->boot_offset))
		pr_warn("dropped a malformed event record (%zu bytes)\n", size);
	if (a->out.len >= (1u << 20))	/* a flood: write as we go (see run.c) */
		flush_out(a);
	return 0;
}

static void drain(struct attach *a)
{
	uint64_t lost;

	if (!a->rb)
		return;
	ring_buffer__consume(a->rb);
	lost = a->skel ? lsm_counter(a->skel, WD_CNT_LOST_RINGBUF)
		       : net_counter(a->net, WD_CNT_LOST_RINGBUF);
	if (lost > a->lost_reported) {
		event_format_lost(&a->out, &a->ai, lost - a->lost_reported, "ringbuf_full",
				  realtime_ns());
		a->lost_reported = lost;
	}
	flush_out(a);
}

static int open_events(struct attach *a)
{
	int ret;

	a->rb = ring_buffer__new(a->skel ? lsm_events_fd(a->skel) : net_events_fd(a->net), on_event,
				 a, NULL);
	if (!a->rb) {
		ret = -errno;
		pr_warn("attach: cannot open the event ring buffer: %s\n", strerror(-ret));
		return ret;
	}
	a->events_fd = STDERR_FILENO;
	if (a->events_file) {
		a->events_fd = open(a->events_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (a->events_fd < 0) {
			ret = -errno;
			pr_warn("attach: cannot open %s: %s\n", a->events_file, strerror(-ret));
			return ret;
		}
		/* No agent may write or delete it. */
		ret = a->skel ? lsm_protect_fd(a->skel, a->events_fd, WD_TAMPER_EVENTS) : 0;
		if (ret)
			pr_warn("attach: cannot protect %s from the agents (%s): an agent may be able to write to it\n",
				a->events_file, strerror(-ret));
	}
	return 0;
}

/* ---- marking ------------------------------------------------------------- */

/* Move each process the sweep found outside the instance cgroup into it. */
static int move_in(struct attach *a)
{
	int ret;

	for (size_t i = 0; i < a->sweep.n; i++) {
		ret = cgroup_enter(a->cgroup, a->sweep.tgids[i]);
		if (ret && ret != -ESRCH) {
			pr_warn("attach: cannot move process %d into %s: %s\n", a->sweep.tgids[i],
				a->cgroup, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int sweep(struct attach *a)
{
	int ret = lsm_attach_sweep(a->skel, &a->sweep);

	if (ret) {
		pr_warn("attach: cannot run the task iterator: %s\n", strerror(-ret));
		return ret;
	}
	if (a->sweep.failed) {
		pr_warn("attach: %llu process(es) of the target could not be marked in the kernel (out of memory, or a process tree deeper than 64); undoing the attach\n",
			(unsigned long long)a->sweep.failed);
		return -ENOMEM;
	}
	return 0;
}

/* Sweep until a pass marks no one and (--pid) every member is in the cgroup. */
static int mark_all(struct attach *a)
{
	struct lsm_attach_target t = { .agent = 0 };
	uint64_t total = 0;
	int ret;

	if (a->pid) {
		t.mode = WD_ATTACH_TREE;
		t.pid = a->pid;
		t.dest_cgid = cgroup_id(a->cgroup);
	} else {
		t.mode = WD_ATTACH_CGROUP;
		t.cgid = cgroup_id(a->cgroup);
	}
	if ((a->pid && !t.dest_cgid) || (!a->pid && !t.cgid)) {
		pr_warn("attach: cannot stat %s: %s\n", a->cgroup, strerror(errno));
		return -ENOENT;
	}
	ret = lsm_attach_begin(a->skel, &t);
	if (ret) {
		pr_warn("attach: cannot start tracking the target in the kernel: %s\n", strerror(-ret));
		return ret;
	}
	for (int i = 0; i < SWEEPS_MAX; i++) {
		ret = sweep(a);
		if (!ret)
			ret = move_in(a);
		if (ret)
			return ret;
		total += a->sweep.marked;
		pr_debug("attach: sweep %d: %llu marked, %zu to move\n", i,
			 (unsigned long long)a->sweep.marked, a->sweep.n);
		if (!a->sweep.marked && !a->sweep.n)
			break;
		if (i == SWEEPS_MAX - 1) {
			pr_warn("attach: the target did not settle after %d passes; undoing the attach\n",
				SWEEPS_MAX);
			return -EAGAIN;
		}
	}
	if (a->pid && (!total || cgroup_populated(a->cgroup) <= 0)) {
		pr_warn("attach: process %d exited before it could be confined\n", a->pid);
		return -ESRCH;
	}
	/* A tree whose members are all marked: marks are inherited from here on. */
	if (a->pid)
		lsm_attach_end(a->skel);
	if (a->pid)
		pr_warn("attach: the process tree of %d is confined as agent \"%s\" (instance %s, %llu tasks marked); SIGINT or SIGTERM detaches\n",
			a->pid, a->policy.name, a->instance, (unsigned long long)total);
	else
		pr_warn("attach: cgroup %s is confined as agent \"%s\" (instance %s, %llu tasks marked); SIGINT or SIGTERM detaches\n",
			a->cgroup, a->policy.name, a->instance, (unsigned long long)total);
	return 0;
}

/* ---- setup, supervision, teardown --------------------------------------- */

static int attach_network(struct attach *a)
{
	struct sbuf why = {0};
	int ret;

	if (!a->net)
		return 0;
	ret = net_attach(a->net, a->cgroup, &why);
	if (ret) {
		sb_putc(&why, '\0');
		pr_warn("attach: %s; nothing was attached\n", why.buf);
	}
	sb_free(&why);
	return ret;
}

static int prepare(struct attach *a)
{
	char name[128];
	int ret;

	ret = a->pid ? check_pid(a) : check_cgroup(a);
	if (!ret)
		ret = load_policy(a);
	if (!ret)
		ret = load_programs(a);
	if (!ret)
		ret = open_events(a);
	if (ret)
		return ret;
	a->ai = (struct agent_info){ .name = a->policy.name, .identity = a->policy.identity,
				     .instance = a->instance, .exe_lookup = agent_exe_of_pid,
				     .policy = &a->policy };
	if (a->pid) {
		snprintf(name, sizeof(name), "%s.%s", a->policy.name, a->instance);
		ret = cgroup_create(name, a->cgroup, sizeof(a->cgroup));
		if (ret) {
			pr_warn("attach: cannot create the agent's cgroup (cgroup v2 needed): %s\n",
				strerror(-ret));
			a->cgroup[0] = '\0';
			return ret;
		}
		a->own_cgroup = true;
	}
	ret = attach_network(a);
	if (!ret && a->skel)
		ret = mark_all(a);
	if (!ret && !a->skel)
		pr_warn("attach: cgroup %s: network rules attached (instance %s); SIGINT or SIGTERM detaches\n",
			a->cgroup, a->instance);
	return ret;
}

static void cleanup(struct attach *a)
{
	/*
	 * --pid: the tree goes back where it came from, and the instance cgroup
	 * goes. Home first: unloading can take seconds (each trampoline waits for RCU).
	 */
	if (a->own_cgroup) {
		agent_move_home(a->cgroup, a->home);
		if (rmdir(a->cgroup))
			pr_warn("attach: cannot remove %s: %s\n", a->cgroup, strerror(errno));
	}
	if (a->rb)
		ring_buffer__free(a->rb);
	/* Unloading drops every mark and detaches every program: the detach. */
	if (a->net)
		net_unload(a->net);
	if (a->skel) {
		lsm_own_release(&a->own);
		lsm_unload(a->skel);
	}
	compiled_free(&a->compiled);
	net_compiled_free(&a->net_compiled);
	policy_free(&a->policy);
	free(a->sweep.tgids);
	sb_free(&a->out);
	if (a->events_fd > 2)
		close(a->events_fd);
}

/* ---- handing the attach to the daemon --------------------------------- */

/*
 * Pin what holds the attach (links, the iterator, the event ring buffer and
 * counters) and tell the daemon where: it reports the events, sweeps a
 * cgroup for threads moved in, and undoes the attach on `warden detach`.
 * Returns 0 once the daemon has it, 1 if no daemon runs, -errno on failure
 * (then nothing is pinned and the attach stays ours).
 */
static int handoff(struct attach *a)
{
	char dir[PATH_MAX], buf[4096];
	cJSON *req, *resp, *ok;
	char *text;
	ssize_t n;
	int fd, ret;

	if (a->foreground || !a->skel)
		return 1;
	if (access(a->control, F_OK))
		return 1;
	snprintf(dir, sizeof(dir), "%s/attach-%s", WARDEN_BPFFS, a->instance);
	ret = lsm_pin(a->skel, dir);
	if (!ret && a->net)
		ret = net_pin(a->net, dir);
	if (!ret)
		ret = lsm_pin_events(a->skel, dir);
	if (ret) {
		pr_warn("attach: cannot pin the attach for the daemon in %s: %s; staying in the foreground\n",
			dir, strerror(-ret));
		goto unpin;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "adopt");
	cJSON_AddStringToObject(req, "instance", a->instance);
	cJSON_AddStringToObject(req, "dir", dir);
	cJSON_AddStringToObject(req, "agent", a->policy.name);
	if (a->policy.identity)
		cJSON_AddStringToObject(req, "identity", a->policy.identity);
	cJSON_AddStringToObject(req, "policy_sha256", a->policy.sha256);
	cJSON_AddStringToObject(req, "policy_file", a->policy.file);
	cJSON_AddStringToObject(req, "mode", a->pid ? "pid" : "cgroup");
	cJSON_AddNumberToObject(req, "pid", a->pid);
	cJSON_AddStringToObject(req, "cgroup", a->cgroup);
	cJSON_AddStringToObject(req, "home", a->home);
	cJSON_AddBoolToObject(req, "own_cgroup", a->own_cgroup);
	cJSON_AddNumberToObject(req, "lost_reported", (double)a->lost_reported);
	text = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	drain(a);
	fd = control_request(a->control, text);
	free(text);
	if (fd < 0) {
		ret = fd;
		goto unpin;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	resp = cJSON_Parse(buf);
	ok = resp ? cJSON_GetObjectItem(resp, "ok") : NULL;
	if (!cJSON_IsTrue(ok)) {
		cJSON *err = resp ? cJSON_GetObjectItem(resp, "error") : NULL;

		pr_warn("attach: the daemon did not take the attach (%s); staying in the foreground\n",
			cJSON_IsString(err) ? err->valuestring : buf);
		cJSON_Delete(resp);
		ret = -EPROTO;
		goto unpin;
	}
	cJSON_Delete(resp);
	pr_warn("attach: handed to the daemon: instance %s stays confined until 'warden detach %s'%s\n",
		a->instance, a->instance, a->pid ? " or until the tree has exited" : "");
	return 0;

unpin:
	/* Nothing pinned stays: the attach is still ours alone. */
	remove_pin_dir(dir);
	return ret;
}

/* After a handoff: let go of our file descriptors; the pins hold everything. */
static void release(struct attach *a)
{
	if (a->rb)
		ring_buffer__free(a->rb);
	if (a->net)
		net_unload(a->net);
	if (a->skel) {
		lsm_own_release(&a->own);
		lsm_unload(a->skel);
	}
	compiled_free(&a->compiled);
	net_compiled_free(&a->net_compiled);
	policy_free(&a->policy);
	free(a->sweep.tgids);
	sb_free(&a->out);
	if (a->events_fd > 2)
		close(a->events_fd);
}

/* One tick of the foreground loop: false when the attach has nothing left to confine. */
static bool tick(struct attach *a, uint64_t *threads_seen, uint64_t *failed_seen)
{
	if (a->pid)
		return cgroup_populated(a->cgroup) > 0;
	if (access(a->cgroup, F_OK)) {
		pr_warn("attach: cgroup %s is gone\n", a->cgroup);
		return false;
	}
	/* Threads of processes moved into the cgroup since the last tick. */
	if (a->skel && !sweep(a) && a->sweep.threads != *threads_seen) {
		pr_debug("attach: marked the threads of processes moved into %s\n", a->cgroup);
		*threads_seen = a->sweep.threads;
	}
	if (a->skel && a->sweep.failed > *failed_seen) {
		/* Forks were refused; a process moved in could not be: say so, keep the rest. */
		pr_warn("attach: %llu task(s) in %s could not be marked in the kernel (out of memory?); any that run, run unconfined\n",
			(unsigned long long)(a->sweep.failed - *failed_seen), a->cgroup);
		*failed_seen = a->sweep.failed;
	}
	return true;
}

static int supervise(struct attach *a, int sfd)
{
	struct epoll_event ev = { .events = EPOLLIN }, got[2];
	struct signalfd_siginfo si;
	uint64_t threads_seen = 0, failed_seen = 0;
	int efd, n;
	bool done = false;

	efd = epoll_create1(EPOLL_CLOEXEC);
	if (efd < 0)
		return EXIT_FAIL;
	ev.data.fd = ring_buffer__epoll_fd(a->rb);
	epoll_ctl(efd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = sfd;
	epoll_ctl(efd, EPOLL_CTL_ADD, sfd, &ev);
	while (!done) {
		n = epoll_wait(efd, got, 2, TICK_MS);
		for (int i = 0; i < n; i++) {
			if (got[i].data.fd == sfd && read(sfd, &si, sizeof(si)) == sizeof(si)) {
				pr_warn("attach: %s: detaching\n", strsignal(si.ssi_signo));
				done = true;
			}
		}
		drain(a);
		if (!done && !tick(a, &threads_seen, &failed_seen)) {
			if (a->pid)
				pr_warn("attach: every process of the tree has exited\n");
			done = true;
		}
	}
	drain(a);
	close(efd);
	return EXIT_OK;
}

int cmd_attach(int argc, char **argv)
{
	struct attach a = { .events_fd = -1, .control = WARDEN_CONTROL };
	sigset_t mask;
	int sfd, status;

	if (parse_args(&a, argc, argv)) {
		fputs(attach_usage, stderr);
		return EXIT_USAGE;
	}
	agent_new_instance(a.instance);
	a.boot_offset = boot_to_realtime_offset();
	/* A signal during the setup detaches once the setup is over (or undone). */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		pr_warn("attach: signalfd: %s\n", strerror(errno));
		return EXIT_FAIL;
	}
	if (prepare(&a)) {
		drain(&a);
		status = EXIT_FAIL;
	} else if (handoff(&a) == 0) {
		close(sfd);
		release(&a);
		return EXIT_OK;
	} else {
		status = supervise(&a, sfd);
	}
	close(sfd);
	cleanup(&a);
	return status;
}
