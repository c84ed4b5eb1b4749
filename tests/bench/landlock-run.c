// SPDX-License-Identifier: GPL-2.0
/*
 * landlock-run: run a command under a Landlock ruleset, the peer Warden is
 * benchmarked against.
 *
 *   landlock-run --rules FILE [--] CMD [ARG...]
 *   landlock-run --abi            print the kernel's Landlock ABI version
 *
 * FILE has one rule a line ('#' starts a comment):
 *   RIGHTS PATH    RIGHTS: comma-separated read, write, create, delete, exec
 *                  or all; granted on PATH and everything beneath it
 *   connect PORT   TCP connect to PORT allowed (needs ABI >= 4)
 *   bind PORT      TCP bind of PORT allowed (needs ABI >= 4)
 *
 * Every file access right the kernel's ABI knows is handled, so what no
 * rule grants is denied, as under a Warden policy with "default": "deny".
 * TCP is handled only when FILE has connect or bind rules; if it has and
 * the kernel cannot enforce them, landlock-run refuses (never runs CMD with
 * less than FILE asks). Exit status: CMD's (it is exec'd), 125 if the
 * ruleset cannot be applied, 126 if CMD cannot be executed, 127 if not found.
 *
 * The UAPI is declared here rather than taken from <linux/landlock.h>: the
 * build machine's headers may predate the ABI the running kernel has.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

#define LL_CREATE_RULESET_VERSION (1u << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2

#define FS_EXECUTE (1ull << 0)
#define FS_WRITE_FILE (1ull << 1)
#define FS_READ_FILE (1ull << 2)
#define FS_READ_DIR (1ull << 3)
#define FS_REMOVE_DIR (1ull << 4)
#define FS_REMOVE_FILE (1ull << 5)
#define FS_MAKE_ALL (0x7full << 6)	/* char, dir, reg, sock, fifo, block, sym */
#define FS_REFER (1ull << 13)		/* ABI 2 */
#define FS_TRUNCATE (1ull << 14)	/* ABI 3 */
#define FS_IOCTL_DEV (1ull << 15)	/* ABI 5 */
#define NET_BIND_TCP (1ull << 0)	/* ABI 4 */
#define NET_CONNECT_TCP (1ull << 1)	/* ABI 4 */

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
};

struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port {
	uint64_t allowed_access;
	uint64_t port;
};

static int abi;

static void die(int status, const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "landlock-run: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	exit(status);
}

/* The file rights this ABI handles: all of them. */
static uint64_t fs_handled(void)
{
	uint64_t m = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_READ_DIR | FS_REMOVE_DIR |
		     FS_REMOVE_FILE | FS_MAKE_ALL;

	if (abi >= 2)
		m |= FS_REFER;
	if (abi >= 3)
		m |= FS_TRUNCATE;
	if (abi >= 5)
		m |= FS_IOCTL_DEV;
	return m;
}

/* Warden's right names, mapped to the Landlock rights that cover the same acts. */
static uint64_t fs_right(const char *name)
{
	if (!strcmp(name, "read"))
		return FS_READ_FILE | FS_READ_DIR;
	if (!strcmp(name, "write"))
		return FS_WRITE_FILE | FS_TRUNCATE | FS_IOCTL_DEV;
	if (!strcmp(name, "create"))
		return FS_MAKE_ALL | FS_REFER;
	if (!strcmp(name, "delete"))
		return FS_REMOVE_DIR | FS_REMOVE_FILE | FS_REFER;
	if (!strcmp(name, "exec"))
		return FS_EXECUTE;
	if (!strcmp(name, "all"))
		return ~0ull;
	return 0;
}

static uint64_t parse_rights(char *list, const char *where)
{
	uint64_t m = 0;

	for (char *save, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		uint64_t r = fs_right(t);

		if (!r)
			die(125, "%s: unknown right '%s'", where, t);
		m |= r;
	}
	return m;
}

static void add_path_rule(int rs, uint64_t access, const char *path, const char *where)
{
	struct ll_path_beneath pb = { .allowed_access = access & fs_handled() };
	struct stat st;

	pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0 || fstat(pb.parent_fd, &st))
		die(125, "%s: %s", where, strerror(errno));
	/* Landlock refuses directory rights on a file: keep those a file has. */
	if (!S_ISDIR(st.st_mode))
		pb.allowed_access &= FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE |
				     FS_IOCTL_DEV;
	if (syscall(__NR_landlock_add_rule, rs, LL_RULE_PATH_BENEATH, &pb, 0))
		die(125, "%s: landlock_add_rule: %s", where, strerror(errno));
	close(pb.parent_fd);
}

static void add_port_rule(int rs, uint64_t access, const char *port, const char *where)
{
	char *end;
	struct ll_net_port np = { .allowed_access = access };

	np.port = strtoull(port, &end, 10);
	if (*port == '\0' || *end || np.port > 65535)
		die(125, "%s: '%s' is not a port", where, port);
	if (syscall(__NR_landlock_add_rule, rs, LL_RULE_NET_PORT, &np, 0))
		die(125, "%s: landlock_add_rule: %s", where, strerror(errno));
}

/* Does @file name any TCP rule? Then TCP must be handled (and enforceable). */
static int wants_net(FILE *f)
{
	char line[4096], word[16];
	int net = 0;

	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%15s", word) == 1 &&
		    (!strcmp(word, "connect") || !strcmp(word, "bind")))
			net = 1;
	rewind(f);
	return net;
}

static int build_ruleset(const char *file)
{
	FILE *f = fopen(file, "r");
	char line[4096], where[4200], a[4096], b[4096];
	struct ll_ruleset_attr attr = { .handled_access_fs = fs_handled() };
	size_t attr_size = sizeof(attr);
	int rs, lineno = 0;

	if (!f)
		die(125, "%s: %s", file, strerror(errno));
	if (wants_net(f)) {
		if (abi < 4)
			die(125, "%s: TCP rules need Landlock ABI 4 (Linux 6.7); this kernel has ABI %s: refusing to run with less than the rules ask",
			    file, (snprintf(a, sizeof(a), "%d", abi), a));
		attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP;
	} else {
		attr_size = offsetof(struct ll_ruleset_attr, handled_access_net);
	}
	rs = syscall(__NR_landlock_create_ruleset, &attr, attr_size, 0);
	if (rs < 0)
		die(125, "landlock_create_ruleset: %s%s", strerror(errno), "");
	while (fgets(line, sizeof(line), f)) {
		int n;

		lineno++;
		snprintf(where, sizeof(where), "%s:%d", file, lineno);
		line[strcspn(line, "#\n")] = '\0';
		n = sscanf(line, "%4095s %4095s", a, b);
		if (n <= 0)
			continue;
		if (n != 2)
			die(125, "%s: want 'RIGHTS PATH' or 'connect|bind PORT'%s", where, "");
		if (!strcmp(a, "connect"))
			add_port_rule(rs, NET_CONNECT_TCP, b, where);
		else if (!strcmp(a, "bind"))
			add_port_rule(rs, NET_BIND_TCP, b, where);
		else
			add_path_rule(rs, parse_rights(a, where), b, where);
	}
	fclose(f);
	return rs;
}

int main(int argc, char **argv)
{
	const char *rules = NULL;
	int i = 1, rs;

	abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	if (argc == 2 && !strcmp(argv[1], "--abi")) {
		printf("%d\n", abi < 0 ? 0 : abi);
		return abi < 0;
	}
	if (argc > 2 && !strcmp(argv[1], "--rules")) {
		rules = argv[2];
		i = 3;
	}
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (!rules || i >= argc) {
		fprintf(stderr, "usage: landlock-run --rules FILE [--] CMD [ARG...] | landlock-run --abi\n");
		return 2;
	}
	if (abi < 1)
		die(125, "Landlock is not available (%s): it must be built in and listed in the kernel's lsm= boot parameter%s",
		    strerror(errno), "");
	rs = build_ruleset(rules);
	/* Unprivileged callers need no_new_privs; root gets it too, as an agent should. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		die(125, "prctl(PR_SET_NO_NEW_PRIVS): %s%s", strerror(errno), "");
	if (syscall(__NR_landlock_restrict_self, rs, 0))
		die(125, "landlock_restrict_self: %s%s", strerror(errno), "");
	close(rs);
	execvp(argv[i], argv + i);
	die(errno == ENOENT ? 127 : 126, "%s: %s", argv[i], strerror(errno));
}
