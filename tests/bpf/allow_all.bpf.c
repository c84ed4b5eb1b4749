// SPDX-License-Identifier: GPL-2.0
/* A cgroup program that allows every connect: what an agent would attach to
 * a child cgroup to try to lift Warden's network rules (tests/net/cases.sh). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("cgroup/connect4")
int allow_all(struct bpf_sock_addr *ctx)
{
	return 1;
}
