// SPDX-License-Identifier: GPL-2.0
/*
 * wtest: the actions enforcement tests need, done the way an agent would do
 * them, each reporting exactly what the kernel answered.
 *
 *   wtest open PATH [r|w|rw]        open(2); prints "ok" or the errno name
 *   wtest thread-open PATH          the same from a second thread
 *   wtest threads-loop PATH N       N threads opening PATH every 100 ms, forever,
 *                                   each printing "T<i> ok|EACCES|..." per try
 *   wtest open-loop PATH SECONDS [US]  open PATH for SECONDS, as fast as it can
 *                                   or sleeping US microseconds after each;
 *                                   prints "ok=N denied=N other=N"
 *   wtest fork-open PATH            from a forked child
 *   wtest setsid-open PATH          from a child in a new session
 *   wtest double-fork-open PATH     from an orphaned grandchild
 *   wtest as UID GID CMD...         setgid/setuid, then exec CMD
 *   wtest fifo PRIO CMD...          SCHED_FIFO at PRIO, then exec CMD
 *   wtest ids                       prints "pid=N tid=N ppid=N"
 *   wtest nvme-read PATH            block 0's first bytes by NVMe passthrough
 *   wtest do ACTION ARGS...         one system call, see do_action(); prints
 *                                   "ok" or the errno's name (EACCES, EXDEV...)
 *
 * Exit: 0 opened, 1 denied (EACCES or EPERM), 2 any other failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/netlink.h>
#include <linux/nvme_ioctl.h>
#include <linux/reboot.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <linux/sockios.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/quota.h>
#include <linux/android/binder.h>
#include <linux/if_tun.h>
#include <linux/serial.h>
#include <sys/klog.h>
#include <sys/inotify.h>
#include <sys/fanotify.h>
#include <linux/keyctl.h>
#include <mqueue.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <termios.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int flags_of(const char *mode)
{
	if (!mode || !strcmp(mode, "r"))
		return O_RDONLY;
	if (!strcmp(mode, "w"))
		return O_WRONLY;
	return O_RDWR;
}

static int try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		printf("ok\n");
		fflush(stdout);
		return 0;
	}
	printf("%s\n", errno == EACCES ? "EACCES" : errno == EPERM ? "EPERM" : strerror(errno));
	fflush(stdout);
	return errno == EACCES || errno == EPERM ? 1 : 2;
}

static const char *thread_path;
static void *thread_main(void *arg)
{
	(void)arg;
	printf("thread tid=%ld\n", (long)syscall(SYS_gettid));
	return (void *)(long)try_open(thread_path, O_RDONLY);
}

static void *loop_main(void *arg)
{
	for (;;) {
		int fd = open(thread_path, O_RDONLY | O_CLOEXEC);

		printf("T%ld %s\n", (long)arg,
		       fd >= 0 ? "ok" : errno == EACCES ? "EACCES" : strerror(errno));
		fflush(stdout);
		if (fd >= 0)
			close(fd);
		usleep(100000);
	}
	return NULL;
}

/* As many opens of @path as @seconds allow: how many were allowed, denied, other. */
static int open_loop(const char *path, int seconds, int pause_us)
{
	long ok = 0, denied = 0, other = 0;
	time_t end = time(NULL) + seconds;

	while (time(NULL) < end) {
		for (int i = 0; i < 100; i++) {
			int fd = open(path, O_RDONLY | O_CLOEXEC);

			if (fd >= 0) {
				ok++;
				close(fd);
			} else if (errno == EACCES || errno == EPERM) {
				denied++;
			} else {
				other++;
			}
			if (pause_us)
				usleep(pause_us);
		}
	}
	printf("ok=%ld denied=%ld other=%ld\n", ok, denied, other);
	return 0;
}

static int child_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 2;
	return WEXITSTATUS(status);
}

static int in_child(const char *path, int new_session)
{
	pid_t pid = fork();

	if (pid < 0)
		return 2;
	if (pid == 0) {
		if (new_session && setsid() < 0)
			_exit(2);
		_exit(try_open(path, O_RDONLY));
	}
	return child_status(pid);
}

/* The grandchild outlives its parent; its answer comes back through a pipe. */
static int double_fork(const char *path)
{
	int p[2];
	char rc = 2;
	pid_t pid;

	if (pipe(p))
		return 2;
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		if (fork() == 0) {
			while (getppid() == pid)	/* wait to be orphaned */
				usleep(1000);
			rc = try_open(path, O_RDONLY);
			if (write(p[1], &rc, 1) != 1)
				_exit(2);
			_exit(0);
		}
		_exit(0);
	}
	close(p[1]);
	child_status(pid);
	if (read(p[0], &rc, 1) != 1)
		return 2;
	return rc;
}

static const char *errname(int e)
{
	switch (e) {
	case 0: return "ok";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EXDEV: return "EXDEV";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case ENOEXEC: return "ENOEXEC";
	case EBADF: return "EBADF";
	case ENOSYS: return "ENOSYS";
	case ESRCH: return "ESRCH";
	case EFAULT: return "EFAULT";
	case ENOTSUP: return "ENOTSUP";
	case ENODEV: return "ENODEV";
	case EBUSY: return "EBUSY";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case ENOTEMPTY: return "ENOTEMPTY";
	case ENXIO: return "ENXIO";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EIO: return "EIO";
	case EBADMSG: return "EBADMSG";
	case ENOKEY: return "ENOKEY";
	}
	return strerror(e);
}

static int map_exec(const char *path, int later)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *p;

	if (fd < 0)
		return errno;
	p = mmap(NULL, 4096, later ? PROT_READ : PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return errno;
	if (later && mprotect(p, 4096, PROT_READ | PROT_EXEC))
		return errno;
	return 0;
}

/* Copy @path into a memfd and exec it from there, with @argv. */
static int memfd_exec(const char *path, char **argv)
{
	char buf[65536];
	ssize_t n;
	int in = open(path, O_RDONLY | O_CLOEXEC), mfd;

	if (in < 0)
		return errno;
	mfd = memfd_create("payload", 0);
	if (mfd < 0)
		return errno;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(mfd, buf, n) != n)
			return EIO;
	close(in);
	fexecve(mfd, argv, (char *[]){ NULL });
	return errno;
}

/*
 * openat through io_uring, with raw system calls: the kernel's io-wq worker
 * (or the submitting task) does the open, and must be judged the same.
 */
static int uring_open(const char *path)
{
	struct io_uring_params p = { 0 };
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	unsigned *sq_tail, *sq_array, *cq_head, *cq_tail;
	void *sq, *cq;
	int ring, res;

	ring = syscall(SYS_io_uring_setup, 4, &p);
	if (ring < 0)
		return errno;
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return errno;
	sq_tail = (unsigned *)((char *)sq + p.sq_off.tail);
	sq_array = (unsigned *)((char *)sq + p.sq_off.array);
	cq_head = (unsigned *)((char *)cq + p.cq_off.head);
	cq_tail = (unsigned *)((char *)cq + p.cq_off.tail);
	cqes = (struct io_uring_cqe *)((char *)cq + p.cq_off.cqes);
	memset(&sqes[0], 0, sizeof(sqes[0]));
	sqes[0].opcode = IORING_OP_OPENAT;
	sqes[0].fd = AT_FDCWD;
	sqes[0].addr = (unsigned long)path;
	sqes[0].open_flags = O_RDONLY;
	sq_array[0] = 0;
	__atomic_store_n(sq_tail, *sq_tail + 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return errno;
	if (__atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) == *cq_head)
		return EIO;
	res = cqes[*cq_head & (p.cq_entries - 1)].res;
	close(ring);
	if (res >= 0) {
		close(res);
		return 0;
	}
	return -res;
}

/* @tty, or with "pty" the terminal end of a new pseudo-terminal (nobody reads what is typed into it). */
static int open_tty(const char *tty)
{
	int m;

	if (strcmp(tty, "pty"))
		return open(tty, O_RDWR | O_NOCTTY | O_CLOEXEC);
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) || unlockpt(m))
		return -1;
	return open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);	/* the master stays open until exit */
}

/*
 * TIOCSTI through the 32-bit system call table (int 0x80 from this 64-bit
 * process: compat_sys_ioctl, the file_ioctl_compat hook where the kernel
 * has it). The character must lie below 4 GiB for a 32-bit pointer.
 */
static int tiocsti_int80(const char *tty)
{
	char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	long ret;
	int fd;

	if (low == MAP_FAILED)
		return errno;
	low[0] = ' ';
	fd = open_tty(tty);
	if (fd < 0)
		return errno;
	/* 54: ioctl in the i386 table */
	asm volatile("int $0x80" : "=a"(ret) : "a"(54L), "b"((long)fd), "c"((long)TIOCSTI),
		     "d"((long)(unsigned long)low) : "memory");
	close(fd);
	munmap(low, 4096);
	return ret < 0 ? (int)-ret : 0;
}

/*
 * Make the kernel send @sig to @pid as a pipe's owner (O_ASYNC), then
 * write to it: the owner named by @how, F_SETOWN, F_SETOWN_EX
 * (setown_ex) or ioctl FIOSETOWN (fiosetown).
 */
static int sigio(int pid, int sig, const char *how)
{
	struct f_owner_ex ex = { .type = F_OWNER_PID, .pid = pid };
	int p[2], e = 0;

	/* FIOSETOWN is a socket's ioctl: a socket pair then, a pipe otherwise. */
	if (!strcmp(how, "fiosetown") ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, p)
				      : pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return errno;
	if (!strcmp(how, "setown"))
		e = fcntl(p[0], F_SETOWN, pid) ? errno : 0;
	else if (!strcmp(how, "setown_ex"))
		e = fcntl(p[0], F_SETOWN_EX, &ex) ? errno : 0;
	else if (!strcmp(how, "fiosetown"))
		e = ioctl(p[0], FIOSETOWN, &pid) ? errno : 0;
	else
		e = EINVAL;
	if (!e && sig && fcntl(p[0], F_SETSIG, sig))
		e = errno;
	if (!e && fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK))
		e = errno;
	if (!e && write(p[1], "x", 1) != 1)
		e = errno;
	close(p[0]);
	close(p[1]);
	return e;
}

/*
 * One use of a capability an agent loses (WD_CAPS_REMOVED), each harmless
 * where it works: 0 or the errno.
 */
static int audit_get(void)
{
	struct {
		struct nlmsghdr h;
		char pad[256];
	} req = { .h = { .nlmsg_len = NLMSG_LENGTH(0), .nlmsg_type = AUDIT_GET,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK } }, rsp;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT), e = 0;

	if (fd < 0)
		return errno;
	if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		e = errno;
	/* The answer: AUDIT_GET's status, or an NLMSG_ERROR with the errno. */
	while (!e && recv(fd, &rsp, sizeof(rsp), 0) > 0) {
		if (rsp.h.nlmsg_type == NLMSG_ERROR) {
			e = -((struct nlmsgerr *)NLMSG_DATA(&rsp.h))->error;
			if (!e)
				continue;	/* the ACK; the status follows or came first */
		}
		break;
	}
	close(fd);
	return e;
}

static int route_add_del(void)
{
	struct rtentry rt = { .rt_flags = RTF_UP, .rt_dev = "lo" };
	struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst,
			   *mask = (struct sockaddr_in *)&rt.rt_genmask;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), e = 0;

	if (fd < 0)
		return errno;
	dst->sin_family = mask->sin_family = AF_INET;
	dst->sin_addr.s_addr = htonl(0xc6336400);	/* 198.51.100.0/24 (TEST-NET-2) */
	mask->sin_addr.s_addr = htonl(0xffffff00);
	if (ioctl(fd, SIOCADDRT, &rt))
		e = errno;
	else
		ioctl(fd, SIOCDELRT, &rt);
	close(fd);
	return e;
}

static int vhangup_no_tty(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		setsid();	/* no controlling terminal: there is nothing to hang up */
		_exit(vhangup() ? errno : 0);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : EINTR;
}

/* In a user and network namespace of its own: lo up, then a route. */
static int net_admin_in_own_userns(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		struct ifreq lo = { .ifr_name = "lo" };
		int fd;

		if (unshare(CLONE_NEWUSER | CLONE_NEWNET))
			_exit(errno);
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &lo))
			_exit(errno);
		lo.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &lo))
			_exit(errno);
		_exit(route_add_del());
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : EINTR;
}

static int use_capability(const char *cap)
{
	struct timespec now;
	int fd;

	if (!strcmp(cap, "SYS_RAWIO")) {	/* I/O port 0x80 (POST codes) */
		if (ioperm(0x80, 1, 1))
			return errno;
		ioperm(0x80, 1, 0);
		return 0;
	}
	if (!strcmp(cap, "SYS_TIME")) {
		clock_gettime(CLOCK_REALTIME, &now);
		return clock_settime(CLOCK_REALTIME, &now) ? errno : 0;
	}
	if (!strcmp(cap, "SYS_BOOT"))	/* Ctrl-Alt-Del: a signal to init, as by default */
		return syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
			       LINUX_REBOOT_CMD_CAD_OFF, NULL) ? errno : 0;
	if (!strcmp(cap, "SYS_PACCT"))	/* process accounting off (it is) */
		return acct(NULL) ? errno : 0;
	if (!strcmp(cap, "SYS_MODULE"))	/* unload a module that is not there */
		return syscall(SYS_delete_module, "wd_none", O_NONBLOCK) ? errno : 0;
	if (!strcmp(cap, "SYS_TTY_CONFIG"))
		return vhangup_no_tty();
	if (!strcmp(cap, "WAKE_ALARM")) {
		fd = timerfd_create(CLOCK_REALTIME_ALARM, TFD_CLOEXEC);
		if (fd < 0)
			return errno;
		close(fd);
		return 0;
	}
	if (!strcmp(cap, "NET_ADMIN"))	/* a route added, then removed */
		return route_add_del();
	if (!strcmp(cap, "AUDIT_CONTROL"))
		return audit_get();
	if (!strcmp(cap, "NET_ADMIN-userns"))	/* over a namespace the agent made */
		return net_admin_in_own_userns();
	return EINVAL;
}


/* A synthetic uevent, as a container manager injects one (needs CAP_SYS_ADMIN). */
static int uevent_send(void)
{
	static const char ev[] = "add@/devices/warden\0ACTION=add\0DEVPATH=/devices/warden\0"
				 "SUBSYSTEM=warden\0WARDEN_TEST=1";
	struct {
		struct nlmsghdr h;
		char data[sizeof(ev)];
	} m = { .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(ev)), .nlmsg_type = NLMSG_MIN_TYPE,
		       .nlmsg_flags = NLM_F_REQUEST } };
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT), e;

	if (fd < 0)
		return errno;
	memcpy(m.data, ev, sizeof(ev));
	e = sendto(fd, &m, m.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0 ? errno : 0;
	close(fd);
	return e;
}

/* /dev/binder opened and mapped (a process needs a mapping to take part). */
static int binder_open(void)
{
	int fd = open("/dev/binder", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (mmap(NULL, 128 * 1024, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A one-way transaction to the context manager (handle 0): ok when the
 * kernel delivered it (BR_TRANSACTION_COMPLETE), EPERM when it refused it
 * (BR_FAILED_REPLY), ECONNREFUSED when nobody listens (BR_DEAD_REPLY).
 */
static int binder_send(void)
{
	struct {
		uint32_t cmd;
		struct binder_transaction_data tr;
	} __attribute__((packed)) w = { .cmd = BC_TRANSACTION, .tr = { .flags = TF_ONE_WAY } };
	uint32_t r[32];
	struct binder_write_read bwr = {
		.write_size = sizeof(w), .write_buffer = (uintptr_t)&w,
		.read_size = sizeof(r), .read_buffer = (uintptr_t)r,
	};
	int fd = binder_open();

	if (fd < 0)
		return errno;
	alarm(20);	/* a read that never ends fails the test, not the suite */
	for (int round = 0; round < 4; round++) {
		if (ioctl(fd, BINDER_WRITE_READ, &bwr) < 0)
			return errno;
		for (size_t i = 0; i < bwr.read_consumed / sizeof(uint32_t); i++) {
			if (r[i] == BR_TRANSACTION_COMPLETE)
				return 0;
			if (r[i] == BR_FAILED_REPLY)
				return EPERM;
			if (r[i] == BR_DEAD_REPLY)
				return ECONNREFUSED;
		}
		bwr.write_size = 0;
		bwr.read_consumed = 0;
	}
	return EIO;
}

static int do_action(int argc, char **argv)
{
	const char *a = argv[0];
	int fd, e;

#define RET(expr) return (expr) ? errno : 0
	if (!strcmp(a, "read") && argc == 2) {
		fd = open(argv[1], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		close(fd);
		return 0;
	}
	if (!strcmp(a, "write") && argc == 2) {
		fd = open(argv[1], O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		close(fd);
		return 0;
	}
	if (!strcmp(a, "create") && argc == 2) {
		fd = open(argv[1], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			return errno;
		close(fd);
		return 0;
	}
	if (!strcmp(a, "openat") && argc == 3) {
		/* Relative to a directory fd. */
		int dfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd < 0)
			return errno;
		fd = openat(dfd, argv[2], O_RDONLY | O_CLOEXEC);
		e = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		close(dfd);
		return e;
	}
	if (!strcmp(a, "by-handle") && argc == 3) {
		/* name_to_handle_at, then open_by_handle_at relative to a
		 * directory (argv[2]) on the same file system: no path at all. */
		struct file_handle *h = malloc(sizeof(*h) + MAX_HANDLE_SZ);
		int mount_id, mfd;

		h->handle_bytes = MAX_HANDLE_SZ;
		if (name_to_handle_at(AT_FDCWD, argv[1], h, &mount_id, 0))
			return errno;
		mfd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (mfd < 0)
			return errno;
		fd = open_by_handle_at(mfd, h, O_RDONLY | O_CLOEXEC);
		e = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		close(mfd);
		free(h);
		return e;
	}
	if (!strcmp(a, "uring-open") && argc == 2)
		return uring_open(argv[1]);
	if (!strcmp(a, "userns-mount") && argc == 2) {
		/* A user namespace makes the agent "root" in it; mounting stays denied. */
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS))
			return errno;
		RET(mount("none", argv[1], "tmpfs", 0, NULL));
	}
	if (!strcmp(a, "truncate") && argc == 2)
		RET(truncate(argv[1], 0));
	if (!strcmp(a, "open-trunc-ro") && argc == 2) {	/* O_RDONLY|O_TRUNC: Linux truncates */
		int fd = open(argv[1], O_RDONLY | O_TRUNC);

		if (fd < 0)
			return errno;
		close(fd);
		return 0;
	}
	if (!strcmp(a, "chmod") && argc == 2)
		RET(chmod(argv[1], 0600));
	if (!strcmp(a, "chown") && argc == 2)
		RET(chown(argv[1], 0, 0));
	if (!strcmp(a, "utimes") && argc == 2)
		RET(utimensat(AT_FDCWD, argv[1], NULL, 0));
	if (!strcmp(a, "setxattr") && argc == 2)
		RET(setxattr(argv[1], "trusted.warden", "1", 1, 0));	/* tmpfs: trusted.*, not user.* */
	if (!strcmp(a, "removexattr") && argc == 2)
		RET(removexattr(argv[1], "trusted.warden"));
	if (!strcmp(a, "mkdir") && argc == 2)
		RET(mkdir(argv[1], 0755));
	if (!strcmp(a, "sysv-make") && argc == 2) {
		/* A shared memory segment and a message queue with key KEY (hex), mode 0666. */
		key_t k = (key_t)strtol(argv[1], NULL, 16);

		if (shmget(k, 4096, IPC_CREAT | 0666) < 0 || msgget(k, IPC_CREAT | 0666) < 0)
			return errno;
		return 0;
	}
	if (!strcmp(a, "shm-attach") && argc == 2) {
		int id = shmget((key_t)strtol(argv[1], NULL, 16), 0, 0);
		void *p;

		if (id < 0)
			return errno;
		p = shmat(id, NULL, 0);
		if (p == (void *)-1)
			return errno;
		shmdt(p);
		return 0;
	}
	if (!strcmp(a, "msg-send") && argc == 2) {
		struct { long type; char text[4]; } m = { 1, "hi" };
		int id = msgget((key_t)strtol(argv[1], NULL, 16), 0);

		if (id < 0)
			return errno;
		RET(msgsnd(id, &m, sizeof(m.text), IPC_NOWAIT));
	}
	if (!strcmp(a, "sysv-remove") && argc == 2) {
		key_t k = (key_t)strtol(argv[1], NULL, 16);
		int s = shmget(k, 0, 0), q = msgget(k, 0);

		if (s < 0 || q < 0)
			return errno;
		if (shmctl(s, IPC_RMID, NULL) || msgctl(q, IPC_RMID, NULL))
			return errno;
		return 0;
	}
	if (!strcmp(a, "shm-rmid") && argc == 2) {
		/* IPC_RMID of KEY's segment found by its id in /proc/sysvipc/shm: no shmget, so
		 * only the control hook stands in the way. */
		key_t k = (key_t)strtol(argv[1], NULL, 16);
		FILE *f = fopen("/proc/sysvipc/shm", "re");
		char line[512];
		int key, id = -1;

		if (!f)
			return errno;
		while (id < 0 && fgets(line, sizeof(line), f))
			if (sscanf(line, "%d %d", &key, &e) == 2 && key == k)
				id = e;
		fclose(f);
		if (id < 0)
			return ENOENT;
		RET(shmctl(id, IPC_RMID, NULL));
	}
	if (!strcmp(a, "shm-own") && argc == 1) {
		/* The agent's own segment: made, attached, removed. */
		int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
		void *p;

		if (id < 0)
			return errno;
		p = shmat(id, NULL, 0);
		if (p == (void *)-1)
			return errno;
		shmdt(p);
		RET(shmctl(id, IPC_RMID, NULL));
	}
	if (!strcmp(a, "rlimit-cpu") && argc == 2) {	/* PID: at most an hour of CPU */
		struct rlimit hour = { 3600, 3600 };

		RET(prlimit(atoi(argv[1]), RLIMIT_CPU, &hour, NULL));
	}
	if (!strcmp(a, "nice") && argc == 2)	/* PID: its nice value set to 5 */
		RET(setpriority(PRIO_PROCESS, atoi(argv[1]), 5));
	if (!strcmp(a, "ioprio") && argc == 2)	/* PID: best effort, level 7 */
		RET(syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, atoi(argv[1]),
			    2 << 13 /* IOPRIO_CLASS_BE */ | 7) < 0);
	if (!strcmp(a, "sched") && argc == 2) {	/* PID: its CPUs set to CPU 0 only */
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(0, &set);
		RET(sched_setaffinity(atoi(argv[1]), sizeof(set), &set));
	}
	if (!strcmp(a, "write-str") && argc == 3) {	/* PATH TEXT: written at once */
		ssize_t n;

		fd = open(argv[1], O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		n = write(fd, argv[2], strlen(argv[2]));
		e = n < 0 ? errno : 0;
		close(fd);
		return e;
	}
	if (!strcmp(a, "mmap-zero") && argc == 1) {	/* a page mapped at address 0 */
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

		if (p == MAP_FAILED)
			return errno;
		munmap(p, 4096);
		return 0;
	}
	if (!strcmp(a, "setacl") && argc == 2) {
		/* PATH: a POSIX access ACL (the xattr form setfacl sends) giving the group rwx */
		const uint32_t acl[] = { 2,				/* POSIX_ACL_XATTR_VERSION */
					 0x1 | 6u << 16, ~0u,		/* ACL_USER_OBJ rw- */
					 0x4 | 7u << 16, ~0u,		/* ACL_GROUP_OBJ rwx */
					 0x20 | 4u << 16, ~0u };	/* ACL_OTHER r-- */
		RET(setxattr(argv[1], "system.posix_acl_access", acl, sizeof(acl), 0));
	}
	if (!strcmp(a, "removeacl") && argc == 2)
		RET(removexattr(argv[1], "system.posix_acl_access"));
	if (!strcmp(a, "mq-make") && argc == 2) {	/* NAME: a queue anyone may use */
		mqd_t q = mq_open(argv[1], O_CREAT | O_RDWR, 0666, NULL);

		if (q == (mqd_t)-1)
			return errno;
		mq_close(q);
		return 0;
	}
	if (!strcmp(a, "mq-send") && argc == 2) {	/* NAME: one message sent to it */
		mqd_t q = mq_open(argv[1], O_WRONLY);

		if (q == (mqd_t)-1)
			return errno;
		e = mq_send(q, "hi", 2, 0) ? errno : 0;
		mq_close(q);
		return e;
	}
	if (!strcmp(a, "mq-unlink") && argc == 2)
		RET(mq_unlink(argv[1]));
	if (!strcmp(a, "mq-own") && argc == 1) {	/* the agent's own queue: made, used, removed */
		mqd_t q = mq_open("/wd-own", O_CREAT | O_EXCL | O_RDWR, 0600, NULL);

		if (q == (mqd_t)-1)
			return errno;
		mq_close(q);
		q = mq_open("/wd-own", O_WRONLY);
		if (q == (mqd_t)-1)
			return errno;
		e = mq_send(q, "hi", 2, 0) ? errno : 0;
		mq_close(q);
		if (!e && mq_unlink("/wd-own"))
			e = errno;
		return e;
	}
	if (!strcmp(a, "inotify") && argc == 2) {	/* PATH: a watch for names made under it */
		int in = inotify_init1(IN_CLOEXEC);

		if (in < 0)
			return errno;
		e = inotify_add_watch(in, argv[1], IN_CREATE | IN_DELETE | IN_OPEN) < 0 ? errno : 0;
		close(in);
		return e;
	}
	if (!strcmp(a, "fanotify-mount") && argc == 2) {	/* PATH: every open on its mount */
		int fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY);

		if (fan < 0)
			return errno;
		e = fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN, AT_FDCWD, argv[1])
			    ? errno : 0;
		close(fan);
		return e;
	}
	if (!strcmp(a, "fanotify-perm") && argc == 2) {	/* PATH: its opens held for an answer */
		int fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY);

		if (fan < 0)
			return errno;
		e = fanotify_mark(fan, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD, argv[1]) ? errno : 0;
		close(fan);
		return e;
	}
	if (!strcmp(a, "request-key") && argc == 2) {
		/* DESC: a "user" key that does not exist, with callout info: the kernel runs
		 * /sbin/request-key to make it. ENOKEY when that program made none. */
		long id = syscall(SYS_request_key, "user", argv[1], "warden-callout",
				  KEY_SPEC_PROCESS_KEYRING);

		return id < 0 ? errno : 0;
	}
	if (!strcmp(a, "key-add") && argc == 3) {	/* DESC DATA: a "user" key in the user keyring */
		long id = syscall(SYS_add_key, "user", argv[1], argv[2], strlen(argv[2]),
				  KEY_SPEC_USER_KEYRING);

		return id < 0 ? errno : 0;
	}
	if ((!strcmp(a, "key-read") || !strcmp(a, "key-revoke")) && argc == 3) {
		/* DESC KEYRING (user, process): the key found, then read (ok: its data is
		 * "s3cret") or revoked */
		long ring = strcmp(argv[2], "user") ? KEY_SPEC_PROCESS_KEYRING : KEY_SPEC_USER_KEYRING;
		long id = syscall(SYS_keyctl, KEYCTL_SEARCH, ring, "user", argv[1], 0);
		char buf[64] = "";
		long n;

		if (id < 0)
			return errno;
		if (!strcmp(a, "key-revoke"))
			RET(syscall(SYS_keyctl, KEYCTL_REVOKE, id));
		n = syscall(SYS_keyctl, KEYCTL_READ, id, buf, sizeof(buf) - 1);
		if (n < 0)
			return errno;
		return strcmp(buf, "s3cret") ? EBADMSG : 0;
	}
	if (!strcmp(a, "key-own") && argc == 1) {
		/* a key of the agent's own, in a process keyring it makes: added, read, revoked */
		long id = syscall(SYS_add_key, "user", "wd:own", "s3cret", 6, KEY_SPEC_PROCESS_KEYRING);
		char buf[16] = "";

		if (id < 0 || syscall(SYS_keyctl, KEYCTL_READ, id, buf, sizeof(buf) - 1) < 0)
			return errno;
		RET(syscall(SYS_keyctl, KEYCTL_REVOKE, id));
	}
	if (!strcmp(a, "tiocsserial") && argc == 2) {	/* TTY: its serial settings set, unchanged */
		struct serial_struct ss;

		fd = open(argv[1], O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return errno;
		e = ioctl(fd, TIOCGSERIAL, &ss) || ioctl(fd, TIOCSSERIAL, &ss) ? errno : 0;
		close(fd);
		return e;
	}
	if ((!strcmp(a, "tun-attach") || !strcmp(a, "tun-persist") || !strcmp(a, "tun-delete")) &&
	    argc == 2) {
		/* NAME: attach to the tun device NAME (made if missing); persist: keep it,
		 * owned by uid 0; delete: let it go */
		struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };

		fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return errno;
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
		e = ioctl(fd, TUNSETIFF, &ifr) ? errno : 0;
		if (!e && !strcmp(a, "tun-persist"))
			e = ioctl(fd, TUNSETOWNER, 0) || ioctl(fd, TUNSETPERSIST, 1) ? errno : 0;
		if (!e && !strcmp(a, "tun-delete"))
			e = ioctl(fd, TUNSETPERSIST, 0) ? errno : 0;
		close(fd);
		return e;
	}
	if (!strcmp(a, "binder-set-mgr") && argc == 1) {	/* become binder's context manager */
		fd = binder_open();
		if (fd < 0)
			return errno;
		e = ioctl(fd, BINDER_SET_CONTEXT_MGR, 0) ? errno : 0;
		close(fd);
		return e;
	}
	if (!strcmp(a, "binder-send") && argc == 1)
		return binder_send();
	if ((!strcmp(a, "quota-set") || !strcmp(a, "quota-get")) && argc == 2) {
		/* PATH: uid 4242's block limit on PATH's file system set (or read) */
		struct dqblk q = { .dqb_bhardlimit = 100, .dqb_bsoftlimit = 50, .dqb_valid = QIF_BLIMITS };
		int set = !strcmp(a, "quota-set");

		fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		e = syscall(SYS_quotactl_fd, fd, QCMD(set ? Q_SETQUOTA : Q_GETQUOTA, USRQUOTA), 4242, &q)
			    ? errno : 0;
		close(fd);
		return e;
	}
	if (!strcmp(a, "uevent-send") && argc == 1)
		return uevent_send();
	if (!strcmp(a, "syslog-clear") && argc == 1)	/* the kernel log emptied */
		RET(klogctl(5 /* SYSLOG_ACTION_CLEAR */, NULL, 0) < 0);
	if (!strcmp(a, "cap") && argc == 2)	/* CAP (without CAP_): one use of it */
		return use_capability(argv[1]);
	if (!strcmp(a, "mknod-dev") && argc == 5)	/* PATH b|c MAJOR MINOR */
		RET(mknod(argv[1], (strcmp(argv[2], "b") ? S_IFCHR : S_IFBLK) | 0600,
			  makedev(atoi(argv[3]), atoi(argv[4]))));
	if (!strcmp(a, "mknod") && argc == 2)
		RET(mknod(argv[1], S_IFIFO | 0644, 0));
	if (!strcmp(a, "symlink") && argc == 3)
		RET(symlink(argv[1], argv[2]));
	if (!strcmp(a, "link") && argc == 3)
		RET(link(argv[1], argv[2]));
	if (!strcmp(a, "rename") && argc == 3)
		RET(rename(argv[1], argv[2]));
	if (!strcmp(a, "exchange") && argc == 3)
		RET(renameat2(AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE));
	if (!strcmp(a, "unlink") && argc == 2)
		RET(unlink(argv[1]));
	if (!strcmp(a, "rmdir") && argc == 2)
		RET(rmdir(argv[1]));
	if (!strcmp(a, "exec") && argc >= 2) {
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, STDOUT_FILENO);
			execv(argv[1], argv + 1);
			_exit(100 + (errno & 0x7f));
		}
		waitpid(pid, &st, 0);
		return WIFEXITED(st) && WEXITSTATUS(st) >= 100 ? WEXITSTATUS(st) - 100 : 0;
	}
	if (!strcmp(a, "mmap-exec") && argc == 2)
		return map_exec(argv[1], 0);
	if (!strcmp(a, "mprotect-exec") && argc == 2)
		return map_exec(argv[1], 1);
	if (!strcmp(a, "memfd-exec") && argc >= 2) {
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, STDOUT_FILENO);
			_exit(100 + (memfd_exec(argv[1], argv + 1) & 0x7f));
		}
		waitpid(pid, &st, 0);
		return WIFEXITED(st) && WEXITSTATUS(st) >= 100 ? WEXITSTATUS(st) - 100 : 0;
	}
	if (!strcmp(a, "deleted-exec") && argc == 2) {
		/* Copy, open, unlink, then run it through its fd: a program without a path. */
		char tmp[4096], buf[65536];
		ssize_t n;
		pid_t pid;
		int in, st;

		snprintf(tmp, sizeof(tmp), "%s.deleted", argv[1]);
		in = open(argv[1], O_RDONLY | O_CLOEXEC);
		fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
		if (in < 0 || fd < 0)
			return errno;
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(fd, buf, n) != n)
				return EIO;
		close(in);
		close(fd);
		fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || unlink(tmp))
			return errno;
		pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, STDOUT_FILENO);
			fexecve(fd, (char *[]){ "x", "ids", NULL }, (char *[]){ NULL });
			_exit(100 + (errno & 0x7f));
		}
		waitpid(pid, &st, 0);
		return WIFEXITED(st) && WEXITSTATUS(st) >= 100 ? WEXITSTATUS(st) - 100 : 0;
	}
	if (!strcmp(a, "bpf") && argc == 1) {
		union bpf_attr attr = { .map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
					.value_size = 4, .max_entries = 1 };

		fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
		if (fd < 0)
			return errno;
		close(fd);
		return 0;
	}
	if (!strcmp(a, "mount") && argc == 2)
		RET(mount("none", argv[1], "tmpfs", 0, NULL));
	if (!strcmp(a, "umount") && argc == 2)
		RET(umount2(argv[1], MNT_DETACH));
	if (!strcmp(a, "chroot") && argc == 2)
		RET(chroot(argv[1]));
	if (!strcmp(a, "unshare-mount") && argc == 2) {
		/* A new mount namespace of its own, then a mount in it. */
		if (unshare(CLONE_NEWNS))
			return errno;
		RET(mount("none", argv[1], "tmpfs", 0, NULL));
	}
	if (!strcmp(a, "ns-hold") && argc == 3) {
		/* A mount namespace of its own (the mounts copied, no mount made),
		 * held until argv[2] exists (60 s at most); argv[1] gets the pid. */
		FILE *f;

		if (unshare(CLONE_NEWNS))
			return errno;
		f = fopen(argv[1], "w");
		if (!f)
			return errno;
		fprintf(f, "%d\n", (int)getpid());
		if (fclose(f))
			return errno;
		for (int i = 0; i < 1200 && access(argv[2], F_OK); i++)
			usleep(50000);
		return 0;
	}
	if (!strcmp(a, "finit_module") && argc == 2) {
		fd = open(argv[1], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		e = syscall(SYS_finit_module, fd, "", 0) ? errno : 0;
		close(fd);
		return e;
	}
	if (!strcmp(a, "kill") && argc == 3)
		RET(kill(atoi(argv[1]), atoi(argv[2])));
	if (!strcmp(a, "ptrace") && argc == 2) {
		pid_t pid = atoi(argv[1]);

		if (ptrace(PTRACE_ATTACH, pid, 0, 0))
			return errno;
		waitpid(pid, NULL, 0);
		ptrace(PTRACE_DETACH, pid, 0, 0);
		return 0;
	}
	if (!strcmp(a, "perf-open") && argc == 2) {
		/* A software clock event on another process: the way in to sampling it. */
		struct perf_event_attr pa = { .type = PERF_TYPE_SOFTWARE, .size = sizeof(pa),
					      .config = PERF_COUNT_SW_CPU_CLOCK, .disabled = 1 };

		fd = syscall(SYS_perf_event_open, &pa, atoi(argv[1]), -1, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0)
			return errno;
		close(fd);
		return 0;
	}
	if (!strcmp(a, "vmread") && argc == 2) {
		char buf[8];
		struct iovec local = { buf, sizeof(buf) }, remote = { (void *)0x400000, sizeof(buf) };
		ssize_t n = process_vm_readv(atoi(argv[1]), &local, 1, &remote, 1, 0);

		return n < 0 && errno != EFAULT ? errno : 0;
	}
	if (!strcmp(a, "procmem") && argc == 2) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%s/mem", argv[1]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		close(fd);
		return 0;
	}
	if (!strcmp(a, "pidfd_getfd") && argc == 2) {
		int pfd = syscall(SYS_pidfd_open, atoi(argv[1]), 0);

		if (pfd < 0)
			return errno;
		fd = syscall(SYS_pidfd_getfd, pfd, 0, 0);
		e = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		close(pfd);
		return e;
	}
	if (!strcmp(a, "tiocsti") && argc == 2) {
		char c = ' ';

		fd = open(argv[1], O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		e = ioctl(fd, TIOCSTI, &c) ? errno : 0;
		close(fd);
		return e;
	}
	if (!strcmp(a, "chattr") && argc == 3) {
		/* chattr: FLAG "i" (immutable), "a" (append only), "-" (neither), by FS_IOC_SETFLAGS. */
		int flags = 0;

		fd = open(argv[1], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		if (ioctl(fd, FS_IOC_GETFLAGS, &flags)) {
			e = errno;
			close(fd);
			return e;
		}
		flags &= ~(FS_IMMUTABLE_FL | FS_APPEND_FL);
		flags |= !strcmp(argv[2], "i") ? FS_IMMUTABLE_FL : !strcmp(argv[2], "a") ? FS_APPEND_FL : 0;
		e = ioctl(fd, FS_IOC_SETFLAGS, &flags) ? errno : 0;
		close(fd);
		return e;
	}
	if (!strcmp(a, "mount-setattr") && argc == 2) {
		/* mount_setattr(2): make the mount at PATH read-only. */
		struct { uint64_t set, clr, propagation, userns_fd; } attr = { .set = 0x1 /* RDONLY */ };

		RET(syscall(SYS_mount_setattr, AT_FDCWD, argv[1], 0, &attr, sizeof(attr)));
	}
	if (!strcmp(a, "fspick") && argc == 2)
		RET((fd = syscall(SYS_fspick, AT_FDCWD, argv[1], 1 /* CLOEXEC */)) < 0);
	if (!strcmp(a, "open-tree-clone") && argc == 2)
		RET((fd = syscall(SYS_open_tree, AT_FDCWD, argv[1], 1 /* CLONE */ | O_CLOEXEC)) < 0);
	if (!strcmp(a, "fsopen") && argc == 2)
		RET((fd = syscall(SYS_fsopen, argv[1], 1 /* CLOEXEC */)) < 0);
	if (!strcmp(a, "tiocsti-int80") && argc == 2)
		return tiocsti_int80(argv[1]);
	if (!strcmp(a, "setsig-write") && argc == 4) {
		/* F_SETSIG on fd argv[1] (its owner set by whoever made it), O_ASYNC, a write to fd argv[2]. */
		fd = atoi(argv[1]);
		if (fcntl(fd, F_SETSIG, atoi(argv[3])) || fcntl(fd, F_SETFL, O_ASYNC))
			return errno;
		RET(write(atoi(argv[2]), "x", 1) != 1);
	}
	if (!strcmp(a, "sigio") && argc == 4)
		return sigio(strcmp(argv[1], "self") ? atoi(argv[1]) : getpid(), atoi(argv[2]), argv[3]);
	if (!strcmp(a, "clone-into-cgroup") && argc == 2) {
		/* clone3(CLONE_INTO_CGROUP): a child born in another cgroup. */
		struct clone_args ca = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD };
		int cfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		long pid;

		if (cfd < 0)
			return errno;
		ca.cgroup = cfd;
		pid = syscall(SYS_clone3, &ca, sizeof(ca));
		if (pid == 0)
			_exit(0);
		e = pid < 0 ? errno : 0;
		if (pid > 0)
			waitpid(pid, NULL, 0);
		close(cfd);
		return e;
	}
	if (!strcmp(a, "cgroup-move") && argc == 2) {
		/* Write our own pid into another cgroup's cgroup.procs. */
		char path[4096], pid[32];
		int n = snprintf(pid, sizeof(pid), "%d", getpid());

		snprintf(path, sizeof(path), "%s/cgroup.procs", argv[1]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		e = write(fd, pid, n) < 0 ? errno : 0;
		close(fd);
		return e;
	}
	fprintf(stderr, "wtest do: unknown action %s\n", a);
	return EINVAL;
#undef RET
}

/* Listen as udevd does for SECONDS: "ready", then "seen" if a WARDEN_TEST uevent came, else "none". */
static int uevent_listen(int seconds)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	struct timeval tv = { .tv_sec = 1 };
	char buf[8192];
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	time_t end = time(NULL) + seconds;

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return 2;
	printf("ready\n");
	fflush(stdout);
	while (time(NULL) < end) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n > 0 && memmem(buf, (size_t)n, "WARDEN_TEST=1", 13)) {
			printf("seen\n");
			return 0;
		}
	}
	printf("none\n");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "uevent-listen"))
		return uevent_listen(atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "binder-mgr")) {
		/* SECONDS: the binder context manager, "ready" on stdout, for SECONDS */
		int fd = binder_open();

		if (fd < 0 || ioctl(fd, BINDER_SET_CONTEXT_MGR, 0) < 0) {
			printf("%s\n", errname(errno));
			return 1;
		}
		printf("ready\n");
		fflush(stdout);
		sleep(atoi(argv[2]));
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "open"))
		return try_open(argv[2], flags_of(argc > 3 ? argv[3] : NULL));
	if (argc == 3 && !strcmp(argv[1], "thread-open")) {
		pthread_t t;
		void *rc;

		thread_path = argv[2];
		if (pthread_create(&t, NULL, thread_main, NULL) || pthread_join(t, &rc))
			return 2;
		return (int)(long)rc;
	}
	if (argc == 4 && !strcmp(argv[1], "threads-loop")) {
		pthread_t t;

		thread_path = argv[2];
		for (long i = 0; i < atoi(argv[3]); i++)
			if (pthread_create(&t, NULL, loop_main, (void *)i))
				return 2;
		pause();
		return 0;
	}
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "open-loop"))
		return open_loop(argv[2], atoi(argv[3]), argc == 5 ? atoi(argv[4]) : 0);
	if (argc == 3 && !strcmp(argv[1], "fork-open"))
		return in_child(argv[2], 0);
	if (argc == 3 && !strcmp(argv[1], "setsid-open"))
		return in_child(argv[2], 1);
	if (argc == 3 && !strcmp(argv[1], "double-fork-open"))
		return double_fork(argv[2]);
	if (argc >= 5 && !strcmp(argv[1], "as")) {
		if (setgid(atoi(argv[3])) || setuid(atoi(argv[2])))
			return 2;
		execvp(argv[4], argv + 4);
		return 2;
	}
	if (argc >= 4 && !strcmp(argv[1], "fifo")) {
		struct sched_param sp = { .sched_priority = atoi(argv[2]) };

		if (sched_setscheduler(0, SCHED_FIFO, &sp))
			return 2;
		execvp(argv[3], argv + 3);
		return 2;
	}
	if (argc >= 4 && !strcmp(argv[1], "owned-pipe")) {
		/* A pipe on fds 3 (read end, O_ASYNC, owner PID) and 4, kept across exec of CMD. */
		int p[2];

		if (pipe(p) || dup2(p[0], 3) < 0 || dup2(p[1], 4) < 0 || fcntl(3, F_SETOWN, atoi(argv[2])))
			return 2;
		execvp(argv[3], argv + 3);
		return 2;
	}
	if (argc >= 3 && !strcmp(argv[1], "do")) {
		int e = do_action(argc - 2, argv + 2);

		printf("%s\n", errname(e));
		return e == 0 ? 0 : (e == EACCES || e == EPERM) ? 1 : 2;
	}
	if (argc == 3 && !strcmp(argv[1], "nvme-read")) {
		/* An NVMe read of block 0 by passthrough ioctl on PATH (a generic char node): its bytes. */
		static char block[4096];
		struct nvme_passthru_cmd cmd = { .opcode = 0x02, .nsid = 1, .data_len = 512,
						 .addr = (__u64)(unsigned long)block };
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC);

		if (fd < 0 || ioctl(fd, NVME_IOCTL_IO_CMD, &cmd) < 0) {
			printf("%s\n", errname(errno));
			return 1;
		}
		printf("%.22s\n", block);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "ids")) {
		printf("pid=%d tid=%ld ppid=%d\n", getpid(), (long)syscall(SYS_gettid), getppid());
		return 0;
	}
	fprintf(stderr, "usage: see the comment at the top of tests/helpers/wtest.c\n");
	return 2;
}
