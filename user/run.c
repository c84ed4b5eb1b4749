// SPDX-License-Identifier: GPL-2.0
/*
 * warden run: start CMD as a new agent instance, confined from its first
 * instruction, drain its events, and exit with its status.
 *
 * Order matters. Everything that can fail (policy, kernel support, BPF
 * load, cgroup) is done before CMD exists. The child then waits on a pipe
 * while warden marks it in the kernel (task storage through a pidfd) and
 * moves it into the instance's cgroup; only then does it exec CMD. When CMD
 * exits, whatever it left running is killed (cgroup.kill), so no process of
 * the agent outlives the enforcement.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <time.h>

#include "agentcommon.h"
#include "cgroup.h"
#include "dns.h"
#include "commands.h"
#include "event.h"
#include "lsm.h"
#include "mxc.h"
#include "net.h"
#include "policy.h"
#include "sink.h"

struct run {
	const char *policy_file;
	int lock_fd;		/* RUN_LOCKS/run-<instance>.lock, flocked while this warden lives; -1 = none */
	struct agent_output output;	/* --events, --sink, --format, --ringbuf-size */
	bool audit;
	bool allow_partial;	/* run even if the kernel enforces only part of the policy */
	uint64_t rate;		/* --rate-limit: events a second, 0 = none */
	bool process_events;	/* --process-events */
	uint64_t rate_reported;	/* rate-limited events already reported as lost */
	const char *dns_upstream[DNS_UPSTREAM_MAX];	/* --dns-upstream, else resolv.conf */
	int ndns_upstream;
	char **argv;

	struct policy policy;
	struct compiled compiled;
	struct lsm_bpf *skel;	/* NULL when BPF LSM is not active (--allow-partial) */
	struct lsm_own own;	/* warden's binary and the policy file, protected (skel) */
	struct net_compiled net_compiled;
	struct net_bpf *net;	/* NULL when the policy has no "network" section */
	struct dns_server *dns;	/* warden's resolver, when the policy has host rules */
	pthread_mutex_t dns_lock;	/* guards dns_out: the resolver's thread writes it */
	struct sbuf dns_out;	/* DNS events waiting for the drain */
	struct ring_buffer *rb;
	struct sink *sinks;
	char instance[AGENT_INSTANCE_LEN];
	char cgroup[PATH_MAX];
	char pins[PATH_MAX];	/* where this run's links are pinned; "" = not pinned */
	struct agent_info ai;
	int64_t boot_offset;
	uint64_t lost_reported;
	struct sbuf out;
	bool write_failed;
};

static const char run_usage[] =
	"Usage: warden run [--policy FILE] [--events FILE] [--sink SPEC]... [--format json|ocsf]\n"
	"                  [--audit] [--] CMD [ARG...]\n"
	"\n"
	"Start CMD as a new agent confined by FILE's policy, in the kernel, from its\n"
	"first instruction; CMD's threads and descendants are confined too. Waits for\n"
	"CMD and exits with its status (128+N if killed by signal N); whatever CMD\n"
	"leaves running when it exits is killed.\n"
	"\n"
	"  -p, --policy FILE   policy (version 1 JSON); without it nothing is denied,\n"
	"                      but the agent is still tracked and protected\n"
	"  -e, --events FILE   append events as JSON lines to FILE (default: stderr)\n"
	"  -s, --sink SPEC     also deliver events to SPEC (repeatable; below); with\n"
	"                      --sink and no --events, nothing goes to stderr\n"
	"  -f, --format FMT    json (the default) or ocsf (OCSF 1.1 classes)\n"
	"  -a, --audit         deny nothing; report would-be denials as \"audit\"\n"
	"      --dns-upstream ADDR[:PORT]  where warden's resolver asks for the names\n"
	"                      host rules allow (repeatable, up to 4; IPv6 as [ADDR]:PORT);\n"
	"                      default: the nameservers of /etc/resolv.conf\n"
	"      --process-events  also report every agent process's start, exec and\n"
	"                      exit (with its status), to tie decisions to a process tree\n"
	"      --rate-limit N  report at most N events a second for this agent (spread\n"
	"                      over CPUs); what is suppressed is counted in \"lost\"\n"
	"                      events (reason rate_limit); default: no limit\n"
	"      --ringbuf-size BYTES  event ring buffer (power of 2, 4 KiB to 1 GiB;\n"
	"                      default 16 MiB)\n"
	"      --allow-partial run even when this kernel can enforce only part of the\n"
	"                      policy (e.g. network rules without BPF LSM); what is not\n"
	"                      enforced is listed; without it warden refuses (exit 125)\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit status: CMD's; 125 if warden failed before CMD started (CMD never runs\n"
	"unconfined), 126 if CMD cannot be executed, 127 if it is not found.\n"
	"\n"
	"Examples:\n"
	"  warden run --policy policies/coding-agent.json -- make test\n"
	"  warden run --policy p.json --events /var/log/agent.jsonl --audit -- ./agent\n"
	"  warden run --sink file:/var/log/warden.jsonl,max-size=100M,keep=9 \\\n"
	"             --sink https://siem.example/ingest,spool=/var/spool/warden -- ./agent\n"
	"\n"
	"Sinks (SIGHUP reopens files, for logrotate):\n";

static int parse_args(struct run *r, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "events", required_argument, NULL, AGENT_OPT_EVENTS },
		{ "sink", required_argument, NULL, AGENT_OPT_SINK },
		{ "format", required_argument, NULL, AGENT_OPT_FORMAT },
		{ "audit", no_argument, NULL, 'a' },
		{ "allow-partial", no_argument, NULL, 'P' },
		{ "dns-upstream", required_argument, NULL, 'D' },
		{ "rate-limit", required_argument, NULL, 'R' },
		{ "process-events", no_argument, NULL, 'X' },
		{ "ringbuf-size", required_argument, NULL, AGENT_OPT_RINGBUF },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:e:s:f:ah", opts, NULL)) != -1) {
		ret = agent_output_opt(&r->output, c, optarg, "run");
		if (ret < 0)
			return ret;
		if (!ret)
			continue;
		switch (c) {
		case 'p':
			r->policy_file = optarg;
			break;
		case 'a':
			r->audit = true;
			break;
		case 'P':
			r->allow_partial = true;
			break;
		case 'X':
			r->process_events = true;
			break;
		case 'R': {
			long v;

			if (parse_long(optarg, 1, 100000000, &v)) {
				pr_warn("run: --rate-limit %s: a number of events a second, 1 to 100000000\n",
					optarg);
				return -EINVAL;
			}
			r->rate = v;
			break;
		}
		case 'D':
			if (r->ndns_upstream == DNS_UPSTREAM_MAX) {
				pr_warn("run: at most %d --dns-upstream\n", DNS_UPSTREAM_MAX);
				return -EINVAL;
			}
			r->dns_upstream[r->ndns_upstream++] = optarg;
			break;
		case 'h':
			fputs(run_usage, stdout);
			fputs(sink_spec_help, stdout);
			exit(EXIT_OK);
		default:
			fputs(run_usage, stderr);
			fputs(sink_spec_help, stderr);
			return -EINVAL;
		}
	}
	if (optind >= argc) {
		pr_warn("run: no command given\n");
		fputs(run_usage, stderr);
		return -EINVAL;
	}
	r->argv = argv + optind;
	return 0;
}

static int load_policy(struct run *r)
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
	if (r->policy_file) {
		ret = policy_load(r->policy_file, &env, &r->policy, &err);
	} else {
		static const char allow_all[] = "{\"version\": 1, \"name\": \"agent\"}";

		ret = policy_parse("(built-in)", allow_all, sizeof(allow_all) - 1, &env, &r->policy,
				   &err);
	}
	if (!ret)
		policy_print_notes(&r->policy, stderr);
	if (!ret && r->policy.unenforceable) {
		sb_printf(&err, "%s: %s; refusing to run the agent with less than its policy asks\n",
			  r->policy.file, r->policy.unenforceable);
		ret = -EOPNOTSUPP;
	}
	if (!ret)
		ret = policy_compile(&r->policy, 1, &r->compiled, &err);
	if (!ret && r->policy.has_network)
		ret = net_compile(&r->policy, 0, &r->net_compiled, &err);
	if (ret) {
		sb_putc(&err, '\0');
		fprintf(stderr, "%s", err.buf);
		pr_warn("run: policy rejected; the agent was not started\n");
	}
	sb_free(&err);
	if (r->audit)
		r->policy.mode = WD_MODE_AUDIT;
	return ret;
}

/* ---- events ------------------------------------------------------------ */

/* Each sink warns about its own failures and counts what it drops. */
static void flush_out(struct run *r)
{
	if (r->out.len && sink_write(r->sinks, r->out.buf, r->out.len))
		r->write_failed = true;
	r->out.len = 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct run *r = ctx;

	if (event_format(&r->out, data, size, &r->ai, r->boot_offset))
		pr_warn("dropped a malformed event record (%zu bytes)\n", size);
	/*
	 * Under a flood, ring_buffer__consume() keeps going while records
	 * arrive: write every MiB rather than hold every line until it ends.
	 */
	if (r->out.len >= (1u << 20))
		flush_out(r);
	return 0;
}

static void report_lost(struct run *r)
{
	/* One counters map: the network programs share the LSM's when both run. */
	uint64_t lost = r->skel ? lsm_counter(r->skel, WD_CNT_LOST_RINGBUF)
				: net_counter(r->net, WD_CNT_LOST_RINGBUF);
	/* The network object has its own buckets, but shares the LSM's counters. */
	uint64_t limited = r->skel ? lsm_counter(r->skel, WD_CNT_RATE_LIMITED)
				   : net_counter(r->net, WD_CNT_RATE_LIMITED);

	if (limited > r->rate_reported) {
		event_format_lost(&r->out, &r->ai, limited - r->rate_reported, "rate_limit",
				  realtime_ns());
		r->rate_reported = limited;
	}

	if (lost > r->lost_reported) {
		event_format_lost(&r->out, &r->ai, lost - r->lost_reported, "ringbuf_full",
				  realtime_ns());
		r->lost_reported = lost;
	}
}

static void drain(struct run *r)
{
	ring_buffer__consume(r->rb);
	report_lost(r);
	if (r->dns) {
		pthread_mutex_lock(&r->dns_lock);
		sb_put(&r->out, r->dns_out.buf, r->dns_out.len);
		r->dns_out.len = 0;
		pthread_mutex_unlock(&r->dns_lock);
	}
	flush_out(r);
}

/* The instance's cgroup as /proc/PID/cgroup shows it: the path under the cgroup2 mount. */
static const char *cgroup_relative(const char *cg)
{
	char root[PATH_MAX];
	size_t n;

	if (!cg[0] || cgroup2_mount(root, sizeof(root)))
		return NULL;
	n = strlen(root);
	return strncmp(cg, root, n) ? cg : cg + n;
}

/* ---- the agent's first process ----------------------------------------- */

/*
 * Raw and packet sockets are denied in the kernel (sock_create and, with
 * BPF LSM, socket_create); without the capability they need, the agent
 * cannot even ask, whatever else the kernel enforces. Also covers packet
 * sockets on kernels without BPF LSM.
 */
static int drop_net_raw(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (prctl(PR_CAPBSET_DROP, CAP_NET_RAW) && errno != EINVAL)
		return -errno;
	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	for (int i = 0; i < 2; i++) {
		uint32_t bit = CAP_NET_RAW / 32 == i ? 1u << (CAP_NET_RAW % 32) : 0;

		data[i].effective &= ~bit;
		data[i].permitted &= ~bit;
		data[i].inheritable &= ~bit;
	}
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_NET_RAW, 0, 0);
	return 0;
}

/*
 * In the child: wait for the go byte (sent once we are marked and in our
 * cgroup), then exec. An exec failure is reported through @err_fd.
 */
static void __attribute__((noreturn)) child(struct run *r, int go_fd, int err_fd,
					     const sigset_t *oldmask)
{
	char go;
	int e;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (read(go_fd, &go, 1) != 1)
		_exit(EXIT_RUN_FAIL);	/* warden gave up: never run unconfined */
	close(go_fd);
	if (r->policy.has_network && !r->policy.net_raw && !r->skel && drop_net_raw())
		_exit(EXIT_RUN_FAIL);	/* fail closed */
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	execvp(r->argv[0], r->argv);
	e = errno;
	if (write(err_fd, &e, sizeof(e)) != sizeof(e))
		_exit(EXIT_CANNOT_EXEC);
	_exit(e == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
}

static int exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_FAIL;
}

/* Start the child, confine it, let it exec. Returns its pid or -errno. */
static pid_t start_agent(struct run *r, const sigset_t *oldmask, int *pidfd_out)
{
	int go[2], err[2], pidfd, ret, e;
	pid_t pid;
	char one = 1;

	if (pipe2(go, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(go[1]);
		close(err[0]);
		child(r, go[0], err[1], oldmask);
	}
	close(go[0]);
	close(err[1]);

	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		ret = -errno;
		pr_warn("run: pidfd_open: %s\n", strerror(-ret));
		goto fail;
	}
	ret = r->skel ? lsm_mark_task(r->skel, pidfd, 0) : 0;
	if (ret) {
		pr_warn("run: cannot mark the agent's process in the kernel: %s\n", strerror(-ret));
		goto fail;
	}
	ret = cgroup_enter(r->cgroup, pid);
	if (ret) {
		pr_warn("run: cannot move the agent into %s: %s\n", r->cgroup, strerror(-ret));
		goto fail;
	}
	if (write(go[1], &one, 1) != 1) {
		ret = -errno;
		goto fail;
	}
	close(go[1]);
	ret = read(err[0], &e, sizeof(e));
	close(err[0]);
	if (ret == sizeof(e)) {
		waitpid(pid, NULL, 0);
		close(pidfd);
		pr_warn("run: %s: %s\n", r->argv[0], strerror(e));
		return e == ENOENT ? -ENOENT : -ENOEXEC;
	}
	*pidfd_out = pidfd;
	return pid;

fail:
	kill(pid, SIGKILL);
	close(go[1]);
	close(err[0]);
	waitpid(pid, NULL, 0);
	if (pidfd >= 0)
		close(pidfd);
	return ret < 0 ? ret : -EIO;
}

/*
 * Forward signals sent to warden by a process; the terminal's reach CMD
 * already. SIGHUP is warden's own: logrotate asks it to reopen its files
 * (forwarded, it would kill an agent that does not expect it).
 */
static void forward_signal(int sfd, pid_t pid, struct sink *sinks)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGHUP)
			sink_reopen(sinks);
		else if (si.ssi_code <= 0)
			kill(pid, si.ssi_signo);
}

static int supervise(struct run *r, pid_t pid, int pidfd, int sfd)
{
	struct epoll_event ev = { .events = EPOLLIN }, got[4];
	int efd, status = 0, n;
	bool exited = false;

	efd = epoll_create1(EPOLL_CLOEXEC);
	if (efd < 0)
		return -errno;
	ev.data.fd = ring_buffer__epoll_fd(r->rb);
	epoll_ctl(efd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = pidfd;
	epoll_ctl(efd, EPOLL_CTL_ADD, pidfd, &ev);
	ev.data.fd = sfd;
	epoll_ctl(efd, EPOLL_CTL_ADD, sfd, &ev);
	while (!exited) {
		n = epoll_wait(efd, got, 4, 1000);
		for (int i = 0; i < n; i++) {
			if (got[i].data.fd == sfd)
				forward_signal(sfd, pid, r->sinks);
			else if (got[i].data.fd == pidfd && waitpid(pid, &status, WNOHANG) == pid)
				exited = true;
		}
		drain(r);
	}
	close(efd);
	return exit_status(status);
}

static void cleanup(struct run *r)
{
	if (r->dns) {
		dns_server_stop(r->dns);
		pthread_mutex_destroy(&r->dns_lock);
		sb_free(&r->dns_out);
	}
	if (r->rb)
		ring_buffer__free(r->rb);
	if (r->net)
		net_unload(r->net);
	if (r->skel) {
		lsm_own_release(&r->own);
		lsm_unload_later(r->skel);	/* the agent is gone: its status need not wait */
	}
	compiled_free(&r->compiled);
	net_compiled_free(&r->net_compiled);
	policy_free(&r->policy);
	sb_free(&r->out);
	/* Network sinks get a few seconds; an http spool keeps what is left. */
	sink_flush(r->sinks, 5000);
	sink_close(r->sinks);
}

/*
 * The cgroup of instance @inst: <cgroup2>/warden/<agent>.<inst>. Pin
 * directories carry only the instance: bpffs refuses names with dots.
 */
static int instance_cgroup(const char *root, const char *inst, char *out, size_t size)
{
	char base[PATH_MAX + 16];
	size_t n = strlen(inst), len;
	struct dirent *e;
	DIR *d;

	out[0] = '\0';
	snprintf(base, sizeof(base), "%s/warden", root);
	d = opendir(base);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		len = strlen(e->d_name);
		if (len > n + 1 && e->d_name[len - n - 1] == '.' && !strcmp(e->d_name + len - n, inst)) {
			snprintf(out, size, "%s/%s", base, e->d_name);
			break;
		}
	}
	closedir(d);
	return out[0] ? 0 : -ENOENT;
}

/*
 * Runs whose warden died (killed, crashed) left their links pinned, so that
 * their agents stayed confined. Once such an agent's cgroup is empty, the
 * pins and the cgroup go. A live warden holds a lock on its instance from
 * before it pins until it exits: a run starting beside it must not take its
 * pins and cgroup for a finished run's in the moment before its agent is in.
 */
#define RUN_LOCKS "/run/warden"

static int lock_instance(struct run *r)
{
	char path[PATH_MAX];

	mkdir(RUN_LOCKS, 0700);
	snprintf(path, sizeof(path), "%s/run-%s.lock", RUN_LOCKS, r->instance);
	r->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (r->lock_fd < 0 || flock(r->lock_fd, LOCK_EX | LOCK_NB)) {
		int err = errno;

		pr_warn("run: cannot lock %s (%s): a run starting beside this one could take its pins for a finished run's\n",
			path, strerror(err));
		return -err;
	}
	return 0;
}

static void unlock_instance(struct run *r)
{
	char path[PATH_MAX];

	if (r->lock_fd < 0)
		return;
	snprintf(path, sizeof(path), "%s/run-%s.lock", RUN_LOCKS, r->instance);
	unlink(path);
	close(r->lock_fd);
	r->lock_fd = -1;
}
static void clean_stale_runs(void)
{
	char root[PATH_MAX], cg[PATH_MAX * 2], dir[PATH_MAX * 2];
	DIR *d = opendir(WARDEN_BPFFS);
	struct dirent *e;

	if (!d || cgroup2_mount(root, sizeof(root))) {
		if (d)
			closedir(d);
		return;
	}
	while ((e = readdir(d))) {
		int lock;

		if (strncmp(e->d_name, "run-", 4))
			continue;
		/* Its warden lives (and may not have moved its agent in yet). */
		snprintf(dir, sizeof(dir), "%s/%s.lock", RUN_LOCKS, e->d_name);
		lock = open(dir, O_RDWR | O_CLOEXEC);
		if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB)) {
			close(lock);
			continue;
		}
		if (instance_cgroup(root, e->d_name + 4, cg, sizeof(cg)) == 0 &&
		    cgroup_populated(cg) > 0) {
			if (lock >= 0)
				close(lock);
			continue;	/* its agent still runs: keep enforcing */
		}
		if (lock >= 0) {
			unlink(dir);
			close(lock);
		}
		snprintf(dir, sizeof(dir), "%s/%s", WARDEN_BPFFS, e->d_name);
		if (!remove_pin_dir(dir))
			pr_debug("removed the pins of a finished run: %s\n", dir);
		if (cg[0])
			rmdir(cg);
	}
	closedir(d);
}

static void unpin_programs(struct run *r)
{
	if (r->net)
		net_unpin(r->net);
	if (r->skel)
		lsm_unpin(r->skel, r->pins);
	rmdir(r->pins);
	r->pins[0] = '\0';
}

/* bpffs at /sys/fs/bpf, mounted if it is not. */
static int ensure_bpffs(void)
{
	struct statfs st;

	if (!statfs("/sys/fs/bpf", &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

/*
 * Without BPF LSM only the network rules (cgroup programs) can hold. That
 * is less than any policy asks (every agent's protections are LSM hooks),
 * so it takes --allow-partial, and warden says what does not hold.
 */
static int check_partial(struct run *r, struct sbuf *why)
{
	if (!r->allow_partial) {
		if (r->policy.has_network)
			sb_puts(why, "; only this policy's network rules could be enforced here: --allow-partial runs the agent with them alone");
		return -EOPNOTSUPP;
	}
	if (!r->policy.has_network) {
		sb_puts(why, "; --allow-partial was given, but nothing of this policy can be enforced here (it has no network rules): refusing to run the agent unconfined");
		return -EOPNOTSUPP;
	}
	pr_warn("run: --allow-partial: %s\n", why->buf);
	pr_warn("run: NOT enforced: file and exec rules, unix socket and packet socket rules, and the protections every agent has (bpf, modules, mount, leaving its cgroup, signals and ptrace); only the network rules are\n");
	return 0;
}

/* ---- warden's resolver for host rules ------------------------------------ */

#define DNS_GRACE_S 2	/* the agent's cache starts its TTL a little after the kernel's entry */

static bool has_host_rules(const struct policy *p)
{
	for (size_t i = 0; i < p->nnet; i++)
		if (p->net_rules[i].is_host)
			return true;
	return false;
}

static long on_dns_name(void *ctx, const char *name)
{
	struct run *r = ctx;

	return dns_host_rule(&r->policy, name);
}

/*
 * Who sent a query from @peer: the kernel recorded it under the source
 * address and port the packet carried (bpf/net.bpf.c, wd_dns_egress).
 */
static bool on_dns_asker(void *ctx, const struct sockaddr *peer, bool tcp,
			 struct wd_dns_asker *who)
{
	struct run *r = ctx;
	struct wd_dns_asker_key k;

	if (!r->net)
		return false;
	memset(&k, 0, sizeof(k));
	k.family = peer->sa_family;
	k.proto = tcp ? WD_PROTO_TCP : WD_PROTO_UDP;
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)peer;

		memcpy(k.addr, &a->sin_addr, 4);
		k.port = ntohs(a->sin_port);
	} else if (peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)peer;

		memcpy(k.addr, &a->sin6_addr, 16);
		k.port = ntohs(a->sin6_port);
	} else {
		return false;
	}
	return net_dns_asker(r->net, &k, who) == 0;
}

static void on_dns_log(void *ctx, const char *name, uint16_t qtype, long rule, int rcode,
		       const struct wd_dns_asker *who)
{
	struct run *r = ctx;

	(void)rcode;
	if (rule >= 0 && !r->policy.net_rules[rule].audit)
		return;	/* like every allowed access: reported only where a rule audits */
	pthread_mutex_lock(&r->dns_lock);
	event_format_dns(&r->dns_out, &r->ai, name, qtype, rule, who, realtime_ns());
	pthread_mutex_unlock(&r->dns_lock);
}

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The host rule's ports and protocol, as full-length entries. */
static int add_host_entries(struct wd_net_learned *v, const struct net_rule *nr, long rule, bool v6)
{
	size_t n = nr->ports ? nr->nports : 1;

	for (size_t i = 0; i < n; i++) {
		struct wd_net_entry *e;

		if (v->count >= WD_NET_LEARNED_ENTRIES)
			return -E2BIG;
		e = &v->e[v->count++];
		e->lo = nr->ports ? nr->ports[i].lo : 0;
		e->hi = nr->ports ? nr->ports[i].hi : 65535;
		e->proto = nr->protocol;
		e->action = WD_ACT_ALLOW;
		e->audit = nr->audit;
		e->prefix = v6 ? 128 : 32;
		e->rule = rule;
	}
	return 0;
}

/*
 * An allowed name's address: the kernel lets the agent connect to it, by
 * the host rule's ports and protocol, until the TTL runs out. Called by the
 * resolver before it answers, so the agent never holds an address the
 * kernel would still refuse. Entries of other host rules for the same
 * address are kept.
 */
static int on_dns_learn(void *ctx, long rule, int family, const uint8_t *addr, uint32_t ttl)
{
	struct run *r = ctx;
	struct wd_net_learned v = {0}, old;
	uint64_t now = boot_ns(), expires = now + (ttl + DNS_GRACE_S) * 1000000000ULL;
	int ret;

	if (!r->net || rule < 0 || (size_t)rule >= r->policy.nnet)
		return -EINVAL;
	if (!net_learned_get(r->net, 0, family, addr, &old) && old.expires_ns > now) {
		for (uint32_t i = 0; i < old.count && i < WD_NET_LEARNED_ENTRIES; i++)
			if (old.e[i].rule != (uint32_t)rule)
				v.e[v.count++] = old.e[i];
		if (old.expires_ns > expires)
			expires = old.expires_ns;
	}
	ret = add_host_entries(&v, &r->policy.net_rules[rule], rule, family == AF_INET6);
	if (ret)
		return ret;
	v.expires_ns = expires;
	return net_learn(r->net, 0, family, addr, &v);
}

/* "1.2.3.4", "1.2.3.4:5353", "::1", "[::1]:5353" */
static int parse_upstream(const char *s, struct dns_upstream *u)
{
	struct sockaddr_in *in = (void *)&u->addr;
	struct sockaddr_in6 *in6 = (void *)&u->addr;
	char host[INET6_ADDRSTRLEN + 2];
	const char *port = NULL, *colon = strrchr(s, ':');
	long p = 53;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || (end[1] && end[1] != ':'))
			return -EINVAL;
		n = end - s - 1;
		port = end[1] ? end + 2 : NULL;
		s++;
	} else if (colon && strchr(s, ':') == colon) {
		n = colon - s;	/* one colon: IPv4 with a port */
		port = colon + 1;
	} else {
		n = strlen(s);
	}
	if (n >= sizeof(host) || (port && parse_long(port, 1, 65535, &p)))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(p);
		u->len = sizeof(*in);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p);
		u->len = sizeof(*in6);
	} else {
		return -EINVAL;
	}
	return 0;
}

static int start_resolver(struct run *r)
{
	struct dns_hooks hooks = { .name_rule = on_dns_name, .learn = on_dns_learn,
				   .asker = on_dns_asker, .log = on_dns_log, .ctx = r };
	struct dns_config cfg;
	int ret;

	dns_config_init(&cfg);
	for (int i = 0; i < r->ndns_upstream; i++) {
		if (parse_upstream(r->dns_upstream[i], &cfg.upstream[i])) {
			pr_warn("run: --dns-upstream %s: not ADDR, ADDR:PORT or [IPv6]:PORT\n",
				r->dns_upstream[i]);
			return -EINVAL;
		}
		cfg.nupstream++;
	}
	ret = r->ndns_upstream ? 0 : dns_config_from_resolv_conf(&cfg, NULL);
	if (ret && ret != -ENOENT) {
		pr_warn("run: cannot read the upstream resolvers from /etc/resolv.conf: %s\n",
			strerror(-ret));
		return ret;
	}
	if (!cfg.nupstream)
		pr_warn("run: no nameserver in /etc/resolv.conf: the agent's allowed names will get SERVFAIL\n");
	pthread_mutex_init(&r->dns_lock, NULL);
	ret = dns_server_start(&r->dns, &cfg, &hooks);
	if (ret) {
		pr_warn("run: cannot start the resolver for the policy's host rules: %s; the agent was not started\n",
			strerror(-ret));
		r->dns = NULL;
	}
	return ret;
}

static int load_programs(struct run *r)
{
	struct sbuf why = {0};
	int ret;

	ret = lsm_active(&why);
	if (!ret) {
		struct lsm_opts lo = { .ringbuf_bytes = r->output.ringbuf_bytes, .rate = r->rate,
				       .process_events = r->process_events };

		ret = lsm_load_opts(&r->skel, r->compiled.n, &lo, &why);
	}
	if (ret) {
		r->skel = NULL;
		sb_putc(&why, '\0');
		why.len--;
		ret = check_partial(r, &why);
	}
	if (!ret && has_host_rules(&r->policy)) {
		ret = start_resolver(r);
		if (ret)
			return ret;
	}
	if (!ret && r->policy.has_network) {
		struct net_opts o = {
			.dns_port = r->dns ? dns_server_port(r->dns) : 0,
			.mode = r->policy.mode,
			.raw = r->policy.net_raw,
			.events_fd = r->skel ? lsm_events_fd(r->skel) : -1,
			.counters_fd = r->skel ? lsm_counters_fd(r->skel) : -1,
			.rate = r->rate,
			.ringbuf_bytes = r->output.ringbuf_bytes,
		};

		why.len = 0;
		ret = net_load(&r->net, &r->net_compiled, &o, &why);
	}
	if (ret) {
		sb_putc(&why, '\0');
		pr_warn("run: %s; the agent was not started\n", why.buf);
	}
	sb_free(&why);
	return ret;
}

static int attach_network(struct run *r)
{
	struct sbuf why = {0};
	int ret;

	if (!r->net)
		return 0;
	ret = net_attach(r->net, r->cgroup, &why);
	if (ret) {
		sb_putc(&why, '\0');
		pr_warn("run: %s; the agent was not started\n", why.buf);
	}
	sb_free(&why);
	return ret;
}

static int pin_programs(struct run *r)
{
	int ret;

	/* Pinned, enforcement survives warden being killed: the agent never runs free. */
	snprintf(r->pins, sizeof(r->pins), "%s/run-%s", WARDEN_BPFFS, r->instance);
	ret = ensure_bpffs();
	if (!ret && r->skel)
		ret = lsm_pin(r->skel, r->pins);
	if (!ret && r->net)
		ret = net_pin(r->net, r->pins);
	if (ret) {
		pr_warn("run: cannot pin the BPF programs under %s (%s); without pins, killing warden would end the enforcement; is the BPF file system mounted at /sys/fs/bpf?\n",
			r->pins, strerror(-ret));
		unpin_programs(r);
	}
	return ret;
}

static int open_events(struct run *r)
{
	int ret;

	r->rb = ring_buffer__new(r->skel ? lsm_events_fd(r->skel) : net_events_fd(r->net), on_event,
				 r, NULL);
	if (!r->rb) {
		ret = -errno;
		pr_warn("run: cannot open the event ring buffer: %s\n", strerror(-ret));
		return ret;
	}
	/* A sink that cannot open stops the run. */
	ret = agent_open_sinks(&r->sinks, &r->output, &r->ai, "run", "; the agent was not started");
	if (!ret && r->skel)	/* no agent may write or delete the events files */
		sink_protect_files(r->sinks, lsm_protect_sink_file, r->skel);
	return ret;
}

/* Everything that can fail before the agent exists. */
static int prepare(struct run *r)
{
	struct sbuf why = {0};
	char name[128];
	int ret;

	ret = load_policy(r);
	if (!ret)
		ret = load_programs(r);
	if (ret)
		return ret;
	clean_stale_runs();
	if (r->skel) {
		ret = lsm_add_agent(r->skel, 0, &r->compiled, &r->policy);
		if (ret) {
			pr_warn("run: cannot install the policy in the kernel: %s\n", strerror(-ret));
			return ret;
		}
		/* Not a protection that may be missing: fail closed. */
		ret = lsm_protect_own(r->skel, r->policy_file, &r->own, &why);
		if (ret) {
			pr_warn("run: %.*s; the agent was not started\n", (int)why.len, why.buf);
			sb_free(&why);
			return ret;
		}
	}
	ret = open_events(r);
	if (ret)
		return ret;
	ret = lock_instance(r);
	if (ret)
		return ret;
	snprintf(name, sizeof(name), "%s.%s", r->policy.name, r->instance);
	ret = cgroup_create(name, r->cgroup, sizeof(r->cgroup));
	if (ret) {
		pr_warn("run: cannot create the agent's cgroup (cgroup v2 needed): %s\n",
			strerror(-ret));
		r->cgroup[0] = '\0';
		return ret;
	}
	ret = attach_network(r);
	if (!ret)
		ret = pin_programs(r);
	if (ret) {
		rmdir(r->cgroup);
		return ret;
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct run r = { .lock_fd = -1 };
	sigset_t mask, oldmask;
	int pidfd = -1, sfd, status, ret;
	pid_t pid;

	if (parse_args(&r, argc, argv))
		return EXIT_USAGE;
	agent_new_instance(r.instance);
	r.boot_offset = boot_to_realtime_offset();
	if (prepare(&r)) {
		status = EXIT_RUN_FAIL;
		goto out;
	}
	r.ai = (struct agent_info){ .name = r.policy.name, .identity = r.policy.identity,
				    .instance = r.instance, .exe_lookup = agent_exe_of_pid,
				    .policy = &r.policy, .policy_sha256 = r.policy.sha256,
				    .cgroup = cgroup_relative(r.cgroup) };

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

	pid = start_agent(&r, &oldmask, &pidfd);
	if (pid < 0) {
		status = pid == -ENOENT ? EXIT_NOT_FOUND : pid == -ENOEXEC ? EXIT_CANNOT_EXEC
									: EXIT_RUN_FAIL;
	} else {
		status = supervise(&r, pid, pidfd, sfd);
		close(pidfd);
	}
	/* CMD is gone: nothing it started may run on without us. */
	ret = cgroup_kill_remove(r.cgroup, 5000);
	if (ret)
		pr_warn("run: cannot clean up the agent's cgroup %s (%s); its programs stay pinned in %s, so whatever is left stays confined\n",
			r.cgroup, strerror(-ret), r.pins);
	else if (r.pins[0])
		unpin_programs(&r);
	if (!ret)
		unlock_instance(&r);	/* else a later run sweeps pins, cgroup and lock file */
	drain(&r);
	close(sfd);
out:
	cleanup(&r);
	return status;
}
