/* SPDX-License-Identifier: GPL-2.0 */
/* Loading bpf/net.bpf.c: network rules as cgroup programs on an instance's cgroup. */
#ifndef WARDEN_NET_H
#define WARDEN_NET_H

#include <stdbool.h>
#include "netcompile.h"

struct net_bpf;

struct net_opts {
	uint32_t agent;		/* agent id (key of its rules) */
	uint32_t mode;		/* enum wd_mode */
	bool raw;		/* "raw": "allow" */
	uint16_t dns_port;	/* warden's resolver on loopback; 0 = no DNS redirect */
	int events_fd;		/* ring buffer to share (the LSM's), or -1 for its own */
	int counters_fd;	/* counters to share, or -1 */
	uint64_t rate;		/* events a second before suppression; 0 = no limit */
	uint32_t ringbuf_bytes;	/* its own ring buffer's size (when not shared); 0 = default */
};

/* Open, size, load, fill in @c. -errno with the reason in @why. */
int net_load(struct net_bpf **out, const struct net_compiled *c, const struct net_opts *o,
	     struct sbuf *why);
/* Attach every program to the cgroup at @cgroup (links: multi, never overridable). */
int net_attach(struct net_bpf *skel, const char *cgroup, struct sbuf *why);
void net_unload(struct net_bpf *skel);

/* Let @agent connect to @addr per @v until v->expires_ns (a DNS answer's address). */
int net_learn(struct net_bpf *skel, uint32_t agent, int family, const uint8_t *addr,
	      const struct wd_net_learned *v);
/* The entry for @addr, if any (0, or -ENOENT). */
int net_learned_get(struct net_bpf *skel, uint32_t agent, int family, const uint8_t *addr,
		    struct wd_net_learned *v);

/*
 * Who sent the DNS query whose peer (as warden's resolver sees it) is @k:
 * 0, or -ENOENT when the kernel has no record of it.
 */
int net_dns_asker(struct net_bpf *skel, const struct wd_dns_asker_key *k,
		  struct wd_dns_asker *who);

int net_events_fd(struct net_bpf *skel);
uint64_t net_counter(struct net_bpf *skel, uint32_t which);
int net_pin(struct net_bpf *skel, const char *dir);
void net_unpin(struct net_bpf *skel);

/* Can this kernel load and attach cgroup socket programs? 0 or -errno with @why. */
int net_probe(struct sbuf *why);

#endif
