// SPDX-License-Identifier: GPL-2.0
/*
 * wtest: the actions enforcement tests need, done the way an agent would do
 * them, each reporting exactly what the kernel answered.
 *
 *   wtest open PATH [r|w|rw]        open(2); prints "ok" or the errno name
 *   wtest thread-open PATH          the same from a second thread
 *   wtest fork-open PATH            from a forked child
 *   wtest setsid-open PATH          from a child in a new session
 *   wtest double-fork-open PATH     from an orphaned grandchild
 *   wtest as UID GID CMD...         setgid/setuid, then exec CMD
 *   wtest ids                       prints "pid=N tid=N ppid=N"
 *
 * Exit: 0 opened, 1 denied (EACCES or EPERM), 2 any other failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

int main(int argc, char **argv)
{
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
	if (argc == 2 && !strcmp(argv[1], "ids")) {
		printf("pid=%d tid=%ld ppid=%d\n", getpid(), (long)syscall(SYS_gettid), getppid());
		return 0;
	}
	fprintf(stderr, "usage: see the comment at the top of tests/helpers/wtest.c\n");
	return 2;
}
