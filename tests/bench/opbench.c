// SPDX-License-Identifier: GPL-2.0
/*
 * opbench: per-operation cost of the system calls an enforcer hooks.
 *
 *   opbench [--label L] [--reps N] [--iters N] [--exec PATH]
 *           [--open PATH]... [--deny PATH] [--ops LIST] [--port N] [--mark]
 *
 * Each operation runs --reps times --iters iterations; a rep's cost is its
 * wall time (CLOCK_MONOTONIC) over its iterations, and the number printed
 * is the median of the reps, so one preempted rep does not move it. One
 * line per result:
 *
 *   RESULT label=L op=open depth=D ns=123.4 min=120.1 max=130.2 reps=N iters=N
 *
 * Operations (--ops, comma separated; default all):
 *   open    open(O_RDONLY) + close of each --open PATH (depth = components)
 *   coldopen the same, each iteration on another file, PATH.0, PATH.1, ...
 *           (made beforehand: --iters of them), after a rename of a file of
 *           our own before each rep: no open finds its verdict in Warden's
 *           cache (a rename anywhere voids it), so this is the cost of the
 *           first open of a file; all but the first of a rep find their
 *           directory's verdict
 *  walkopen the same, each file in a directory of its own: DIR.w0/NAME,
 *           DIR.w1/NAME, ... for --open PATH = DIR/NAME (depth 3 and more),
 *           so every open is the first in its directory: the whole walk
 *   stat    stat() of each --open PATH
 *   exec    fork + execve(--exec PATH) + waitpid: the whole cost of a
 *           short-lived child, which is what an agent's shell pays
 *   connect TCP: socket + connect to a loopback listener + accept + close of
 *           both ends (the client resets: no TIME_WAIT), in one thread;
 *           the accept is the same in every scenario, so ratios stay fair
 *   sendto  UDP: sendto of 1 byte to a bound loopback socket, reused socket
 *   (--port N: the listener's and receiver's port, for port-based rules)
 *
 * --deny PATH: before measuring, check that open(PATH) is refused (EACCES
 * or EPERM) and print "ENFORCED label=L yes|no", so a run whose confinement
 * silently did not apply is visible in the results. A connect or sendto
 * that fails is reported as "RESULT ... ns=-1 error=ERRNO" (a policy that
 * denies it) rather than timed.
 *
 * --mark: bracket every timed rep with the markers of the insncount QEMU
 * plugin (tests/bench/insncount.c), which counts the guest instructions
 * executed between them, and print after each rep, in marker order:
 *
 *   MARK label=L op=open depth=D rep=R iters=N error=ERRNO (0: none)
 *
 * The host pairs the k-th MARK line with the plugin's k-th start/stop pair.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define MAX_PATHS 64
#define MAX_REPS 101

struct opts {
	const char *label;
	int reps;
	long iters;
	const char *exec_path;
	const char *paths[MAX_PATHS];
	int npaths;
	const char *deny;
	const char *ops;
	int port;		/* loopback port for connect/sendto; 0 = any free one */
	int mark;		/* --mark: insncount markers around each rep */
};

/*
 * The insncount plugin's markers: 7-byte no-ops (nopl disp32(%rax)) with
 * "DW" in the displacement's top half, which no compiler emits. Tag 1
 * starts a measurement, tag 2 stops it. Without the plugin they are no-ops.
 */
static inline void mark_start(void)
{
	__asm__ volatile(".byte 0x0f, 0x1f, 0x80, 0x01, 0x00, 0x44, 0x57" ::: "memory");
}

static inline void mark_stop(void)
{
	__asm__ volatile(".byte 0x0f, 0x1f, 0x80, 0x02, 0x00, 0x44, 0x57" ::: "memory");
}

/* One timed loop body: returns 0, or -errno to abandon the operation. */
typedef int (*op_fn)(void *ctx, long iters);

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Path depth: the number of components ("/a/b/c" = 3). */
static int depth_of(const char *p)
{
	int d = 0;

	for (; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			d++;
	return d;
}

/* Run before each rep, outside the measured time (NULL: nothing). */
static int (*before_rep)(void);

/* Run @fn for o->reps reps (one untimed warm-up first); print the median. */
static int measure(const struct opts *o, const char *op, int depth, op_fn fn, void *ctx,
		   long iters)
{
	double per[MAX_REPS];
	int err = before_rep ? before_rep() : 0;

	if (!err)
		err = fn(ctx, iters / 10 + 1);	/* warm caches: dentries, sockets, pages */
	for (int r = 0; !err && r < o->reps; r++) {
		double t0;

		if (before_rep && (err = before_rep()))
			break;
		t0 = now_ns();

		if (o->mark)
			mark_start();
		err = fn(ctx, iters);
		if (o->mark)
			mark_stop();
		per[r] = (now_ns() - t0) / iters;
		if (o->mark)	/* even after an error: pairs stay in step */
			printf("MARK label=%s op=%s depth=%d rep=%d iters=%ld error=%d\n", o->label,
			       op, depth, r, iters, -err);
	}
	if (err) {
		printf("RESULT label=%s op=%s depth=%d ns=-1 error=%s\n", o->label, op, depth,
		       strerror(-err));
		return err;
	}
	qsort(per, o->reps, sizeof(per[0]), cmp_double);
	printf("RESULT label=%s op=%s depth=%d ns=%.1f min=%.1f max=%.1f reps=%d iters=%ld\n",
	       o->label, op, depth, per[o->reps / 2], per[0], per[o->reps - 1], o->reps, iters);
	fflush(stdout);
	return 0;
}

static int op_open(void *ctx, long iters)
{
	const char *path = ctx;

	for (long i = 0; i < iters; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return -errno;
		close(fd);
	}
	return 0;
}

/* coldopen: PATH.0 .. PATH.(iters - 1), one open each. */
static int op_coldopen(void *ctx, long iters)
{
	char path[4096];

	for (long i = 0; i < iters; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s.%ld", (const char *)ctx, i);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		close(fd);
	}
	return 0;
}

/* walkopen: DIR.w0/NAME .. DIR.w(iters - 1)/NAME for PATH = DIR/NAME, one open each. */
static int op_walkopen(void *ctx, long iters)
{
	const char *path = ctx, *slash = strrchr(path, '/');
	char p[4096];

	for (long i = 0; i < iters; i++) {
		int fd;

		snprintf(p, sizeof(p), "%.*s.w%ld%s", (int)(slash - path), path, i, slash);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		close(fd);
	}
	return 0;
}

/* Rename a file of our own back and forth: moves the kernel's rename_lock sequence. */
static const char *flip_path;

static int flip(void)
{
	static int n;
	char a[4096], b[4096];

	snprintf(a, sizeof(a), "%s.flip%d", flip_path, n & 1);
	snprintf(b, sizeof(b), "%s.flip%d", flip_path, !(n & 1));
	if (n == 0) {
		int fd = open(a, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0)
			return -errno;
		close(fd);
	}
	n++;
	return rename(a, b) ? -errno : 0;
}

static int op_stat(void *ctx, long iters)
{
	const char *path = ctx;
	struct stat st;

	for (long i = 0; i < iters; i++)
		if (stat(path, &st))
			return -errno;
	return 0;
}

static int op_exec(void *ctx, long iters)
{
	char *const argv[] = { (char *)ctx, NULL };
	char *const envp[] = { NULL };

	for (long i = 0; i < iters; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0)
			return -errno;
		if (pid == 0) {
			execve(argv[0], argv, envp);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0)
			return -errno;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			return -ENOEXEC;	/* the exec itself failed or was refused */
	}
	return 0;
}

struct net_ctx {
	int lfd;		/* TCP listener, or the UDP receiver */
	int ufd;		/* UDP sender */
	struct sockaddr_in addr;
};

static int op_connect(void *ctx, long iters)
{
	struct net_ctx *n = ctx;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	for (long i = 0; i < iters; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), afd, err = 0;

		if (fd < 0)
			return -errno;
		/* Reset on close: thousands of TIME_WAIT sockets would exhaust ports. */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		if (connect(fd, (struct sockaddr *)&n->addr, sizeof(n->addr)))
			err = -errno;
		/*
		 * Accept before the client's reset: a reset that overtakes the
		 * handshake's last ACK drops the connection from the accept
		 * queue, and accept() would wait forever (seen under TCG).
		 */
		afd = err ? -1 : accept(n->lfd, NULL, NULL);
		if (!err && afd < 0)
			err = -errno;
		close(fd);
		if (afd >= 0)
			close(afd);
		if (err)
			return err;
	}
	return 0;
}

/* Empty the receiver so every rep sends into the same (non-full) queue. */
static void udp_drain(int fd)
{
	char b[16];

	while (recv(fd, b, sizeof(b), MSG_DONTWAIT) >= 0)
		;
}

static int op_sendto(void *ctx, long iters)
{
	struct net_ctx *n = ctx;

	udp_drain(n->lfd);
	for (long i = 0; i < iters; i++)
		if (sendto(n->ufd, "x", 1, 0, (struct sockaddr *)&n->addr, sizeof(n->addr)) < 0)
			return -errno;
	return 0;
}

static int loopback_socket(int type, int port, struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr->sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)addr, sizeof(*addr)) ||
	    getsockname(fd, (struct sockaddr *)addr, &len) ||
	    (type == SOCK_STREAM && listen(fd, 64))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void bench_net(const struct opts *o, int do_connect, int do_sendto)
{
	struct net_ctx n;

	if (do_connect) {
		n.lfd = loopback_socket(SOCK_STREAM, o->port, &n.addr);
		if (n.lfd < 0)
			printf("RESULT label=%s op=connect depth=0 ns=-1 error=%s\n", o->label,
			       strerror(-n.lfd));
		else {
			measure(o, "connect", 0, op_connect, &n, o->iters);
			close(n.lfd);
		}
	}
	if (do_sendto) {
		n.lfd = loopback_socket(SOCK_DGRAM, o->port, &n.addr);
		n.ufd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (n.lfd < 0 || n.ufd < 0)
			printf("RESULT label=%s op=sendto depth=0 ns=-1 error=%s\n", o->label,
			       strerror(n.lfd < 0 ? -n.lfd : errno));
		else
			measure(o, "sendto", 0, op_sendto, &n, o->iters);
		if (n.lfd >= 0)
			close(n.lfd);
		if (n.ufd >= 0)
			close(n.ufd);
	}
}

static int want(const struct opts *o, const char *op)
{
	size_t n = strlen(op);

	for (const char *p = o->ops; p && *p;) {
		const char *end = strchrnul(p, ',');

		if ((size_t)(end - p) == n && !strncmp(p, op, n))
			return 1;
		p = *end ? end + 1 : end;
	}
	return !o->ops;
}

static void check_denied(const struct opts *o)
{
	int fd = open(o->deny, O_RDONLY | O_CLOEXEC);
	int refused = fd < 0 && (errno == EACCES || errno == EPERM);

	if (fd >= 0)
		close(fd);
	printf("ENFORCED label=%s %s\n", o->label, refused ? "yes" : "no");
}

static void usage(void)
{
	fprintf(stderr, "usage: opbench [--label L] [--reps N] [--iters N] [--exec PATH] "
			"[--open PATH]... [--deny PATH] [--ops open,coldopen,walkopen,stat,exec,connect,sendto] [--port N] "
			"[--mark]\n");
	exit(2);
}

static long num_arg(const char *s, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end || v < 1 || v > max) {
		fprintf(stderr, "opbench: '%s' is not a number in 1..%ld\n", s, max);
		exit(2);
	}
	return v;
}

static void parse(struct opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--mark")) {
			o->mark = 1;
			continue;
		}
		if (!v)
			usage();
		if (!strcmp(a, "--label"))
			o->label = v;
		else if (!strcmp(a, "--reps"))
			o->reps = num_arg(v, MAX_REPS);
		else if (!strcmp(a, "--iters"))
			o->iters = num_arg(v, 100000000);
		else if (!strcmp(a, "--exec"))
			o->exec_path = v;
		else if (!strcmp(a, "--open") && o->npaths < MAX_PATHS)
			o->paths[o->npaths++] = v;
		else if (!strcmp(a, "--deny"))
			o->deny = v;
		else if (!strcmp(a, "--port"))
			o->port = num_arg(v, 65535);
		else if (!strcmp(a, "--ops"))
			o->ops = v;
		else
			usage();
		i++;
	}
}

int main(int argc, char **argv)
{
	struct opts o = { .label = "none", .reps = 11, .iters = 1000 };
	int failed = 0;

	parse(&o, argc, argv);
	/* A benchmark that hangs must not hold the VM run: die loudly instead. */
	alarm(1200);
	if (o.deny)
		check_denied(&o);
	for (int i = 0; i < o.npaths; i++) {
		if (want(&o, "open"))
			failed |= measure(&o, "open", depth_of(o.paths[i]), op_open,
					  (void *)o.paths[i], o.iters) != 0;
		if (want(&o, "coldopen")) {
			flip_path = o.paths[0];
			before_rep = flip;
			failed |= measure(&o, "coldopen", depth_of(o.paths[i]), op_coldopen,
					  (void *)o.paths[i], o.iters) != 0;
			before_rep = NULL;
		}
		if (want(&o, "walkopen") && depth_of(o.paths[i]) >= 3) {
			flip_path = o.paths[0];
			before_rep = flip;
			failed |= measure(&o, "walkopen", depth_of(o.paths[i]), op_walkopen,
					  (void *)o.paths[i], o.iters) != 0;
			before_rep = NULL;
		}
		if (want(&o, "stat"))
			failed |= measure(&o, "stat", depth_of(o.paths[i]), op_stat,
					  (void *)o.paths[i], o.iters) != 0;
	}
	if (o.exec_path && want(&o, "exec"))
		/* A process costs ~100x a syscall: fewer iterations, same reps. */
		failed |= measure(&o, "exec", depth_of(o.exec_path), op_exec,
				  (void *)o.exec_path, o.iters / 20 + 1) != 0;
	bench_net(&o, want(&o, "connect"), want(&o, "sendto"));
	return failed;
}
