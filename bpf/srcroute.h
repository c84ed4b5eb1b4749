/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Source routes: IPv4 options LSRR and SSRR, IPv6 routing headers. With
 * one, the kernel sends a packet to the route's first hop, not to the
 * destination that connect/sendmsg judged (udp_sendmsg and ip_queue_xmit
 * route to opt.faddr). Both BPF objects refuse them to agents whose policy
 * restricts the network: net.bpf.c where setsockopt sets them (cgroup
 * program), lsm.bpf.c where a sendmsg control message carries them.
 */
#ifndef WARDEN_SRCROUTE_H
#define WARDEN_SRCROUTE_H

#define WD_SOL_IP 0
#define WD_SOL_IPV6 41
#define WD_IP_OPTIONS 4		/* setsockopt */
#define WD_IP_RETOPTS 7		/* control message */
#define WD_IPV6_2292RTHDR 5	/* setsockopt and control message */
#define WD_IPV6_RTHDR 57	/* the same */
#define WD_IPOPT_LSRR 131
#define WD_IPOPT_SSRR 137
#define WD_IPOPT_MAX 40		/* IPv4 options: at most 40 bytes */

/*
 * The walk's state lives in map memory (task storage, a per-CPU array),
 * never on the stack: what a program loads from a map the verifier knows
 * only by its bounds, so each bpf_loop step looks alike to it and it checks
 * the step once. On the stack it would know the offset exactly, step after
 * step (a NOOP option adds 1), and since 6.8 it verifies a callback until
 * its states repeat: 170,000 instructions per start, 2.8 s under TCG.
 */
struct ipopt_walk {
	__u8 o[64];		/* the options, zero-padded */
	__u32 i;		/* the next option's offset */
	__u32 len;		/* bytes of options */
	bool found;		/* a source route */
};

/* What bpf_loop is given (it takes only stack memory): where the state is. */
struct ipopt_ref {
	struct ipopt_walk *w;
};

/* Bytes of options to copy out of @n: at most WD_IPOPT_MAX, bounded where the verifier sees it. */
static __always_inline __u32 ipopt_len(__u32 n)
{
	if (n > WD_IPOPT_MAX)
		n = WD_IPOPT_MAX;
	asm volatile("%[n] &= 63" : [n] "+r"(n));
	return n;
}

/* One option (a bpf_loop callback: one state per step, not one per path). */
static long ipopt_step(__u32 n, void *arg)
{
	struct ipopt_walk *w = ((struct ipopt_ref *)arg)->w;
	__u32 i = w->i;
	__u8 type, olen;

	if (i >= w->len || i >= WD_IPOPT_MAX)
		return 1;
	type = w->o[i & 63];
	if (type == 0)
		return 1;
	if (type == 1) {
		w->i = i + 1;
		return 0;
	}
	if (type == WD_IPOPT_LSRR || type == WD_IPOPT_SSRR) {
		w->found = true;
		return 1;
	}
	if (i + 1 >= w->len)
		return 1;
	olen = w->o[(i + 1) & 63];
	if (olen < 2)
		return 1;
	w->i = i + olen;
	return 0;
}

/*
 * Is there a source route among the IPv4 options in @w->o (its len set)?
 * Parsed as ip_options_compile() does: END stops, NOOP is one byte, every
 * other option has its length in its second byte. A malformed list has
 * none (the kernel refuses it).
 */
static __always_inline bool ipv4_source_route(struct ipopt_walk *w)
{
	struct ipopt_ref ref = { .w = w };

	w->i = 0;
	w->found = false;
	bpf_loop(WD_IPOPT_MAX, ipopt_step, &ref, 0);
	return w->found;
}

/* Does (@level, @name) set a source route? @w (map memory): its value (IPv4 options), @len bytes of it. */
static __always_inline bool sets_source_route(int level, int name, struct ipopt_walk *w, __u32 len)
{
	if (level == WD_SOL_IPV6)
		return (name == WD_IPV6_RTHDR || name == WD_IPV6_2292RTHDR) && len > 0;
	if (level != WD_SOL_IP || (name != WD_IP_OPTIONS && name != WD_IP_RETOPTS) || !w)
		return false;
	w->len = len;
	return ipv4_source_route(w);
}

#endif
