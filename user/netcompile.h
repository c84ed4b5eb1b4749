/* SPDX-License-Identifier: GPL-2.0 */
/* The network section compiled for the kernel's LPM trie (see bpf/warden.h). */
#ifndef WARDEN_NETCOMPILE_H
#define WARDEN_NETCOMPILE_H

#include <linux/types.h>
#include "warden.h"
#include "policy.h"

struct net_compiled {
	struct wd_net_key *keys;
	struct wd_net_node *nodes;	/* nodes[i] is stored under keys[i] */
	size_t n;
};

/*
 * Compile @p's CIDR rules for agent @agent: one /0 node per family and
 * right (carrying network.default), one node per distinct prefix. Returns 0,
 * or -E2BIG with "FILE:LINE:COL: ..." in @err when too many rules overlap.
 */
int net_compile(const struct policy *p, uint32_t agent, struct net_compiled *out, struct sbuf *err);
void net_compiled_free(struct net_compiled *c);

/* The decision the kernel reaches from @c (same arguments as policy_net_decide). */
uint8_t net_compiled_decide(const struct net_compiled *c, int family, const uint8_t *addr,
			    uint16_t port, uint8_t protocol, enum net_right right, long *rule);

#endif
