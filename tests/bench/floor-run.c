// SPDX-License-Identifier: GPL-2.0
/*
 * floor-run [--task-lookup] -- CMD [ARG...]: run CMD with the bench-only
 * BPF LSM program of tests/bench/floor.bpf.c attached to file_open; exits
 * with CMD's status. The floor of what a BPF LSM hook costs an open, to set
 * Warden's cost beside (tests/bench/vm.sh, scenarios floor-*).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "floor.skel.h"

int main(int argc, char **argv)
{
	struct floor_bpf *skel;
	int i = 1, status, err;
	pid_t pid;

	if (i < argc && !strcmp(argv[i], "--task-lookup"))
		i++;
	if (i >= argc || strcmp(argv[i], "--") || i + 1 >= argc) {
		fprintf(stderr, "usage: floor-run [--task-lookup] -- CMD [ARG...]\n");
		return 2;
	}
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor-run: cannot open the BPF object: %s\n", strerror(errno));
		return 125;
	}
	skel->rodata->task_lookup = i == 2;
	err = floor_bpf__load(skel);
	if (!err)
		err = floor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "floor-run: cannot load or attach: %s\n", strerror(-err));
		floor_bpf__destroy(skel);
		return 125;
	}
	pid = fork();
	if (pid == 0) {
		execvp(argv[i + 1], argv + i + 1);
		fprintf(stderr, "floor-run: cannot run %s: %s\n", argv[i + 1], strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		fprintf(stderr, "floor-run: cannot run %s: %s\n", argv[i + 1], strerror(errno));
		floor_bpf__destroy(skel);
		return 125;
	}
	floor_bpf__destroy(skel);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
