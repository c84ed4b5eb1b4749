/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's DNS resolver. The kernel redirects every DNS packet the agent
 * sends (UDP and TCP to port 53) to this stub on 127.0.0.1:PORT and
 * [::1]:PORT. Names the policy does not allow are REFUSED and never leave
 * the machine; allowed names are forwarded to the real upstream, and every
 * A/AAAA address of the answer is handed to learn() (for the kernel's allow
 * map) before the agent sees it, with TTLs clamped in both places.
 */
#ifndef WARDEN_DNS_H
#define WARDEN_DNS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/types.h>

#include "warden.h"

struct policy;

#define DNS_UPSTREAM_MAX 4
#define DNS_TIMEOUT_MS_DEFAULT 2000
#define DNS_TTL_MIN_DEFAULT 5
#define DNS_TTL_MAX_DEFAULT 3600

struct dns_upstream { struct sockaddr_storage addr; socklen_t len; };
struct dns_config {
	struct dns_upstream upstream[4];	/* tried in order */
	int nupstream;
	int timeout_ms;		/* per upstream attempt; after all fail: SERVFAIL (default 2000) */
	uint32_t ttl_min, ttl_max;	/* clamp for learned addresses, seconds (defaults 5 and 3600) */
	uint16_t port;		/* 0 = pick a free port (same number for v4 and v6, UDP and TCP) */
};
struct dns_hooks {
	/* Decide a queried name (lower case, no trailing dot). >= 0: allowed, the value is an
	 * opaque rule id passed back to learn(); < 0: refused (REFUSED, never forwarded). */
	long (*name_rule)(void *ctx, const char *name);
	/* Called for every A/AAAA address in an allowed answer (also those reached through a
	 * CNAME chain inside the answer: the rule of the QUESTION name decides), BEFORE the
	 * answer is sent to the client. @ttl is already clamped. Nonzero return: the client
	 * gets SERVFAIL instead (fail closed: never hand out an address the kernel will refuse). */
	int (*learn)(void *ctx, long rule, int family, const uint8_t *addr, uint32_t ttl);
	/* Optional: who sent what arrives from @peer (TCP: the connection's peer), looked up
	 * once per UDP datagram and once per TCP connection, so the hot path stays one lookup.
	 * true: @who is filled in; false: unknown (log() then gets NULL). */
	bool (*asker)(void *ctx, const struct sockaddr *peer, bool tcp, struct wd_dns_asker *who);
	/* Optional: every query, for audit events: name, qtype, rule (-1 refused), rcode sent,
	 * and who asked (NULL: unknown, or no asker hook). */
	void (*log)(void *ctx, const char *name, uint16_t qtype, long rule, int rcode,
		    const struct wd_dns_asker *who);
	void *ctx;
};

struct dns_server;

/* Defaults: no upstream, timeout 2000 ms, TTLs clamped to [5, 3600], port 0. */
void dns_config_init(struct dns_config *cfg);
/*
 * dns_config_init(), then the nameserver lines of resolv.conf (default
 * /etc/resolv.conf when @path is NULL; port 53; at most 4). A file without
 * nameserver lines leaves nupstream 0. 0 or -errno (-EINVAL: a nameserver
 * line that is not an IP address).
 */
int dns_config_from_resolv_conf(struct dns_config *cfg, const char *path);
/*
 * Bind the sockets (fail early: errors here must stop `warden run` before
 * the agent starts), then serve in a background thread. Zero timeout_ms,
 * ttl_min or ttl_max mean their defaults. 0 or -errno.
 */
int dns_server_start(struct dns_server **out, const struct dns_config *cfg,
		     const struct dns_hooks *hooks);
uint16_t dns_server_port(const struct dns_server *s);
/*
 * Queries dropped unanswered because a cap was reached (outstanding queries,
 * TCP connections, unsent replies on a connection), for "lost" events.
 * Safe to call from any thread.
 */
uint64_t dns_server_dropped(const struct dns_server *s);
void dns_server_stop(struct dns_server *s);	/* joins the thread, closes everything */

/*
 * The contract's decision for @name (lower case, no trailing dot) from the
 * policy's host rules that name "connect": "x.y" matches exactly x.y, "*.y"
 * any name strictly under y; the most specific match decides (exact beats
 * wildcard, a longer wildcard suffix beats a shorter one), deny wins a tie.
 * Returns the deciding rule's index if it allows, else -1 (denied or no match).
 */
long dns_host_rule(const struct policy *p, const char *name);

#endif
