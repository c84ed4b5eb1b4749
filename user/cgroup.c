// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mntent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"

int cgroup2_mount(char *buf, size_t size)
{
	struct mntent *m;
	FILE *f = setmntent("/proc/self/mounts", "r");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (!strcmp(m->mnt_type, "cgroup2")) {
			snprintf(buf, size, "%s", m->mnt_dir);
			ret = 0;
			break;
		}
	}
	endmntent(f);
	return ret;
}

static int write_str(const char *dir, const char *file, const char *s)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	return 0;
}

int cgroup_create(const char *name, char *path, size_t size)
{
	char root[PATH_MAX], base[PATH_MAX];
	int ret;

	ret = cgroup2_mount(root, sizeof(root));
	if (ret)
		return ret;
	if (snprintf(base, sizeof(base), "%s/warden", root) >= (int)sizeof(base))
		return -ENAMETOOLONG;
	if (mkdir(base, 0755) && errno != EEXIST)
		return -errno;
	if (snprintf(path, size, "%s/%s", base, name) >= (int)size)
		return -ENAMETOOLONG;
	if (mkdir(path, 0755))
		return -errno;
	return 0;
}

int cgroup_enter(const char *path, pid_t pid)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", pid);
	return write_str(path, "cgroup.procs", buf);
}

int cgroup_populated(const char *path)
{
	char file[PATH_MAX], *text = NULL, *p;
	int ret;

	if (snprintf(file, sizeof(file), "%s/cgroup.events", path) >= (int)sizeof(file))
		return -ENAMETOOLONG;
	ret = read_file(file, &text, NULL);
	if (ret)
		return ret;
	p = strstr(text, "populated ");
	ret = p ? p[10] == '1' : -EINVAL;
	free(text);
	return ret;
}

int cgroup_kill_remove(const char *path, int timeout_ms)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int waited = 0, ret;

	ret = write_str(path, "cgroup.kill", "1");
	if (ret)
		return ret;
	while ((ret = cgroup_populated(path)) > 0 && waited < timeout_ms) {
		nanosleep(&ts, NULL);
		waited += 10;
	}
	if (ret < 0)
		return ret;
	if (ret > 0)
		return -EBUSY;
	return rmdir(path) ? -errno : 0;
}
