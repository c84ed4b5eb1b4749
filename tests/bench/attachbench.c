// SPDX-License-Identifier: GPL-2.0
/*
 * attachbench: how long `warden attach --pid` takes to confine a tree of
 * processes that already run, and whether every one of them ends up
 * confined.
 *
 *   attachbench --warden PATH --policy FILE --secret FILE
 *               [--fanout N] [--depth D] [--runs R] [--events FILE]
 *
 * Forks a tree: a root, its FANOUT children, theirs, down to DEPTH levels
 * below the root (fanout 10, depth 3: 1 + 10 + 100 + 1,000 = 1,111
 * processes), all in one process group, each asleep in sigwaitinfo(). On
 * SIGUSR1 every member tries to open SECRET (which the policy denies for
 * reading) and writes {pid, 0 or errno} to a pipe: that is the probe, a
 * real denied read by each member, collected one per member.
 *
 * Each run: probe (every member must read the file: nothing is confined
 * yet), start warden attach --pid ROOT, time it from fork until its stderr
 * says the tree "is confined" (the line test_attach.sh waits for), probe
 * (every member must get EACCES), SIGTERM warden (detach), probe again
 * (every member reads again, so the next run starts from the same state).
 * Prints per run:
 *   ATTACH procs=N run=R ms=T marked=M denied=D readable_before=B
 *     readable_after=A replies=Q
 * and exits 1 if any probe is not what it must be (then FAILED lines say
 * why).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROBE_TIMEOUT_MS 120000	/* a probe of 1,111 members under TCG takes seconds */
#define ATTACH_TIMEOUT_MS 300000

struct reply {
	int pid;
	int result;	/* 0: the open succeeded; else its errno; -1: the member is up */
};

struct opts {
	const char *warden, *policy, *secret, *events;
	int fanout, depth, runs;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- a member of the tree ------------------------------------------------ */

static void say(int fd, int result)
{
	struct reply r = { .pid = getpid(), .result = result };

	/* Smaller than PIPE_BUF: one write is one whole reply, never interleaved. */
	if (write(fd, &r, sizeof(r)) != sizeof(r))
		_exit(3);
}

/* Fork the subtree below this member, then answer probes until killed. */
static __attribute__((noreturn)) void member(const struct opts *o, int depth, int out)
{
	sigset_t set;
	int sig, i = 0;

	while (depth > 0 && i < o->fanout) {
		pid_t c = fork();

		if (c < 0)
			_exit(4);
		if (c == 0) {
			/* The child is a member one level down: it forks its own children. */
			depth--;
			i = 0;
		} else {
			i++;
		}
	}
	say(out, -1);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		sig = sigwaitinfo(&set, NULL);
		if (sig == SIGUSR1) {
			int fd = open(o->secret, O_RDONLY | O_CLOEXEC);

			say(out, fd >= 0 ? 0 : errno);
			if (fd >= 0)
				close(fd);
		}
	}
}

/* ---- the bench ------------------------------------------------------------ */

static int cmp_reply(const void *a, const void *b)
{
	return ((const struct reply *)a)->pid - ((const struct reply *)b)->pid;
}

/* Read @n replies into @r; the number read (fewer on timeout or error). */
static int collect(int fd, struct reply *r, int n)
{
	double end = now_ms() + PROBE_TIMEOUT_MS;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int got = 0;

	while (got < n) {
		int left = (int)(end - now_ms());
		ssize_t k;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		k = read(fd, &r[got], (n - got) * sizeof(*r));
		if (k <= 0)
			break;
		got += k / sizeof(*r);	/* replies are written whole */
	}
	return got;
}

/* Probe every member; how many replied with @want; -1 if not all replied, once each. */
static int probe(pid_t pgid, int fd, struct reply *r, int n, int want, const char *when)
{
	int got, match = 0;

	if (kill(-pgid, SIGUSR1)) {
		printf("FAILED probe %s: kill: %s\n", when, strerror(errno));
		return -1;
	}
	got = collect(fd, r, n);
	qsort(r, got, sizeof(*r), cmp_reply);
	for (int i = 0; i < got; i++) {
		if (i && r[i].pid == r[i - 1].pid) {
			printf("FAILED probe %s: process %d replied twice\n", when, r[i].pid);
			return -1;
		}
		match += r[i].result == want;
	}
	if (got != n) {
		printf("FAILED probe %s: %d of %d members replied\n", when, got, n);
		return -1;
	}
	return match;
}

/* Start warden attach --pid @root; its pid, its stderr in *@err. */
static pid_t start_attach(const struct opts *o, pid_t root, int *err)
{
	char pid[16];
	int p[2];
	pid_t w;

	snprintf(pid, sizeof(pid), "%d", root);
	if (pipe2(p, O_CLOEXEC))
		return -1;
	w = fork();
	if (w == 0) {
		sigset_t all;

		/* Not the members' mask: warden gets its signals as usual. */
		sigfillset(&all);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		dup2(p[1], STDERR_FILENO);
		execl(o->warden, o->warden, "attach", "--policy", o->policy, "--pid", pid,
		      "--events", o->events, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*err = p[0];
	return w;
}

/*
 * Read warden's stderr until the line that says the tree is confined; the
 * tasks it says it marked, or -1 if it ended (or timed out) before.
 */
static long long wait_confined(int fd, char *buf, size_t size)
{
	double end = now_ms() + ATTACH_TIMEOUT_MS;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t len = 0;
	char *line;

	buf[0] = '\0';
	while (len + 1 < size) {
		int left = (int)(end - now_ms());
		ssize_t k;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -1;
		k = read(fd, buf + len, size - 1 - len);
		if (k <= 0)
			return -1;
		len += k;
		buf[len] = '\0';
		line = strstr(buf, "is confined");
		if (line && strchr(line, '\n')) {
			line = strstr(buf, "instance ");
			line = line ? strchr(line, ',') : NULL;
			return line ? strtoll(line + 1, NULL, 10) : 0;
		}
	}
	return -1;
}

/* One timed attach + its probes; 0 if every probe was right. */
static int run_once(const struct opts *o, pid_t root, int res, struct reply *r, int n, int run)
{
	int before, denied = -1, after, err, status;
	char out[4096];
	long long marked;
	double t0, ms;
	pid_t w;

	before = probe(root, res, r, n, 0, "before the attach");
	t0 = now_ms();
	w = start_attach(o, root, &err);
	if (w < 0) {
		printf("FAILED run=%d: cannot start warden: %s\n", run, strerror(errno));
		return -1;
	}
	marked = wait_confined(err, out, sizeof(out));
	ms = now_ms() - t0;
	if (marked >= 0)
		denied = probe(root, res, r, n, EACCES, "while attached");
	kill(w, SIGTERM);
	waitpid(w, &status, 0);
	close(err);
	after = probe(root, res, r, n, 0, "after the detach");
	if (marked < 0) {
		printf("FAILED run=%d: warden attach did not report the tree confined: %s\n", run,
		       out);
		return -1;
	}
	printf("ATTACH procs=%d run=%d ms=%.1f marked=%lld denied=%d readable_before=%d readable_after=%d detach_status=%d\n",
	       n, run, ms, marked, denied, before, after,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	fflush(stdout);
	return before == n && denied == n && after == n ? 0 : -1;
}

static int number(const char *opt, const char *s, int min, int max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < min || v > max) {
		fprintf(stderr, "attachbench: --%s %s: a number from %d to %d\n", opt, s, min, max);
		exit(2);
	}
	return v;
}

static void parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "warden", required_argument, NULL, 'w' },
		{ "policy", required_argument, NULL, 'p' },
		{ "secret", required_argument, NULL, 's' },
		{ "events", required_argument, NULL, 'e' },
		{ "fanout", required_argument, NULL, 'f' },
		{ "depth", required_argument, NULL, 'd' },
		{ "runs", required_argument, NULL, 'r' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'w': o->warden = optarg; break;
		case 'p': o->policy = optarg; break;
		case 's': o->secret = optarg; break;
		case 'e': o->events = optarg; break;
		case 'f': o->fanout = number("fanout", optarg, 1, 100); break;
		case 'd': o->depth = number("depth", optarg, 0, 6); break;
		case 'r': o->runs = number("runs", optarg, 1, 100); break;
		default: o->warden = NULL; optind = argc; break;
		}
	}
	if (!o->warden || !o->policy || !o->secret || optind != argc) {
		fprintf(stderr, "usage: attachbench --warden PATH --policy FILE --secret FILE [--fanout N] [--depth D] [--runs R] [--events FILE]\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct opts o = { .fanout = 10, .depth = 3, .runs = 3, .events = "/dev/null" };
	struct reply *r;
	sigset_t set;
	int res[2], n = 0, level = 1, fails = 0, up;
	pid_t root;

	parse_args(&o, argc, argv);
	for (int d = 0; d <= o.depth; d++, level *= o.fanout)
		n += level;
	if (n > 20000) {
		fprintf(stderr, "attachbench: %d processes is too many\n", n);
		return 2;
	}
	r = calloc(n, sizeof(*r));
	if (!r || pipe2(res, O_CLOEXEC))
		return perror("attachbench"), 1;
	/* Blocked before the fork: a probe never kills a member that is not waiting yet. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	root = fork();
	if (root == 0) {
		setpgid(0, 0);
		close(res[0]);
		member(&o, o.depth, res[1]);
	}
	setpgid(root, root);
	close(res[1]);
	up = collect(res[0], r, n);
	if (up != n) {
		printf("FAILED tree: %d of %d processes started\n", up, n);
		kill(-root, SIGKILL);
		return 1;
	}
	for (int i = 1; i <= o.runs; i++)
		fails += run_once(&o, root, res[0], r, n, i) != 0;
	kill(-root, SIGKILL);
	waitpid(root, NULL, 0);
	free(r);
	if (fails)
		printf("FAILED attach: %d of %d runs had a member not confined, or not released\n", fails, o.runs);
	return fails ? 1 : 0;
}
