// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's DNS stub resolver (dns.h). One thread runs a poll() loop over
 * the four listening sockets, the TCP client connections and one upstream
 * socket per outstanding query, so a slow or silent upstream never blocks
 * other queries. Every table is fixed-size: beyond the caps, work is
 * dropped, never queued without bound.
 *
 * Every byte from a client or an upstream is parsed by ldns. The query sent
 * upstream is built afresh from the client's question (no client bytes are
 * relayed), and the reply to the client is built afresh from the upstream's
 * records, so neither side can smuggle anything through the other.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "dns.h"
#include "policy.h"
#include "util.h"

#define DNS_MAX_QUERIES 256	/* outstanding upstream queries */
#define DNS_MAX_TCP 64		/* client TCP connections */
#define DNS_TCP_IDLE_MS 10000	/* an idle client connection is closed after this */
#define DNS_TCP_OUT_MAX (256u << 10)	/* unsent replies on one connection */
#define DNS_EDNS_SIZE 1232	/* what we advertise (the DNS flag day 2020 value) */
#define DNS_UDP_BATCH 64	/* datagrams read per wakeup, so TCP is served too */
#define DNS_MSG_MAX 65535
#define DNS_CHAIN_MAX 16	/* names in one CNAME chain */

enum { L_UDP4, L_UDP6, L_TCP4, L_TCP6, L_COUNT };

/* Where a query came from, to send its reply back there. */
struct dns_client {
	int udp_fd;		/* listening UDP socket, or -1 for a TCP client */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	int conn;		/* TCP: index in srv->conn */
	uint32_t gen;		/* TCP: the connection's generation, in case the slot was reused */
	bool who_known;		/* the asker hook found who sent it */
	struct wd_dns_asker who;
};

struct dns_query {
	bool used;
	uint32_t gen;		/* new for each upstream attempt: tells stale poll events */
	struct dns_client client;
	ldns_pkt *query;	/* the client's query */
	ldns_pkt *up_query;	/* what we send upstream (fresh ID) */
	char *name;		/* lower case, no trailing dot */
	uint16_t qtype;
	long rule;
	int up;			/* upstream being tried */
	bool up_tcp;
	int fd;			/* upstream socket, -1 when none */
	bool connecting;	/* TCP connect in progress */
	uint8_t *buf;		/* TCP: query out, then reply in (length prefixed) */
	size_t len, off;
	int64_t deadline;
};

struct dns_conn {
	int fd;			/* -1: free slot */
	uint32_t gen;
	uint8_t *in;		/* 2 + DNS_MSG_MAX bytes */
	size_t inlen;
	uint8_t *out;
	size_t outlen, outoff;
	int pending;		/* queries of this connection in the table */
	bool eof;		/* client closed its side: close once replies are out */
	int64_t idle;		/* deadline while nothing is pending */
	bool who_known;		/* who opened the connection, as the asker hook found it */
	struct wd_dns_asker who;
};

struct dns_server {
	struct dns_config cfg;
	struct dns_hooks hooks;
	int lfd[L_COUNT];	/* -1 when absent (no IPv6 on this host) */
	int wake;		/* eventfd: stop */
	uint16_t port;
	pthread_t thread;
	struct dns_query q[DNS_MAX_QUERIES];
	int nq;
	struct dns_conn conn[DNS_MAX_TCP];
	uint32_t gen;
	uint64_t dropped;	/* dns_server_dropped() */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- configuration ---- */

void dns_config_init(struct dns_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->timeout_ms = DNS_TIMEOUT_MS_DEFAULT;
	cfg->ttl_min = DNS_TTL_MIN_DEFAULT;
	cfg->ttl_max = DNS_TTL_MAX_DEFAULT;
}

/* "1.2.3.4" or "fe80::1%eth0" into @u, port 53. */
static int upstream_parse(struct dns_upstream *u, const char *s)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&u->addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&u->addr;
	char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2], *pct;

	memset(u, 0, sizeof(*u));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(53);
		u->len = sizeof(*a4);
		return 0;
	}
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	pct = strchr(buf, '%');
	if (pct) {
		*pct++ = '\0';
		a6->sin6_scope_id = if_nametoindex(pct);
		if (!a6->sin6_scope_id)
			return -EINVAL;
	}
	if (inet_pton(AF_INET6, buf, &a6->sin6_addr) != 1)
		return -EINVAL;
	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(53);
	u->len = sizeof(*a6);
	return 0;
}

int dns_config_from_resolv_conf(struct dns_config *cfg, const char *path)
{
	char line[512], word[16], addr[128];
	FILE *f;
	int err = 0;

	dns_config_init(cfg);
	f = fopen(path ? path : "/etc/resolv.conf", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %15s %127s", word, addr) != 2 || strcmp(word, "nameserver"))
			continue;
		/* resolv.conf(5): at most MAXNS (3) are used; we take the contract's 4. */
		if (cfg->nupstream == DNS_UPSTREAM_MAX)
			break;
		err = upstream_parse(&cfg->upstream[cfg->nupstream], addr);
		if (err)
			break;
		cfg->nupstream++;
	}
	fclose(f);
	return err;
}

/* ---- host rules ---- */

/* How specifically @r matches @name: 0 no match, else higher is more specific. */
static size_t host_match(const struct net_rule *r, const char *name)
{
	size_t n = strlen(name), h = strlen(r->host);

	if (!r->wildcard)
		return strcasecmp(name, r->host) ? 0 : SIZE_MAX;
	/* strictly under: at least one more label, then '.', then the domain */
	if (n <= h + 1 || name[n - h - 1] != '.' || strcasecmp(name + n - h, r->host))
		return 0;
	return h + 1;
}

long dns_host_rule(const struct policy *p, const char *name)
{
	size_t best = 0, spec;
	long best_rule = -1;
	bool best_deny = false;

	for (size_t i = 0; i < p->nnet; i++) {
		const struct net_rule *r = &p->net_rules[i];
		bool deny = r->deny & (1u << NET_CONNECT);

		if (!r->is_host || !r->host || !((r->allow | r->deny) & (1u << NET_CONNECT)))
			continue;
		spec = host_match(r, name);
		if (!spec || spec < best || (spec == best && (best_deny || !deny)))
			continue;
		best = spec;
		best_rule = (long)i;
		best_deny = deny;
	}
	return best && !best_deny ? best_rule : -1;
}

/* ---- sockets ---- */

/* One listening socket on loopback, @type SOCK_DGRAM or SOCK_STREAM. */
static int listen_one(int family, int type, uint16_t port, int *fdp)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1, err;

	fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (family == AF_INET) {
		a4->sin_family = AF_INET;
		a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a4->sin_port = htons(port);
		len = sizeof(*a4);
	} else {
		/* ::1 only, never the v4 side through a dual-stack socket */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_loopback;
		a6->sin6_port = htons(port);
		len = sizeof(*a6);
	}
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) < 0)) {
		err = -errno;
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return 0;
	return ntohs(a.sin_port);
}

static void close_listeners(struct dns_server *s)
{
	for (int i = 0; i < L_COUNT; i++) {
		if (s->lfd[i] >= 0)
			close(s->lfd[i]);
		s->lfd[i] = -1;
	}
}

/*
 * All four sockets on one port. IPv6 is left out only when this host has
 * no IPv6 loopback at all (then the agent has no IPv6 DNS path either).
 */
static int listen_all(struct dns_server *s, uint16_t port)
{
	static const int fam[L_COUNT] = { AF_INET, AF_INET6, AF_INET, AF_INET6 };
	static const int type[L_COUNT] = { SOCK_DGRAM, SOCK_DGRAM, SOCK_STREAM, SOCK_STREAM };
	int err;

	for (int i = 0; i < L_COUNT; i++) {
		err = listen_one(fam[i], type[i], port, &s->lfd[i]);
		if (err && fam[i] == AF_INET6 && (err == -EAFNOSUPPORT || err == -EADDRNOTAVAIL))
			continue;
		if (err) {
			close_listeners(s);
			return err;
		}
		if (!port)
			port = bound_port(s->lfd[i]);
	}
	s->port = port;
	return 0;
}

/* With port 0, the kernel picks the UDP port; TCP or v6 may hold it already. */
static int listen_any(struct dns_server *s)
{
	int err = -EADDRINUSE;

	for (int tries = 0; tries < 32 && err == -EADDRINUSE; tries++)
		err = listen_all(s, 0);
	return err;
}

/* ---- building messages ---- */

static bool client_edns(const struct dns_query *q)
{
	return ldns_pkt_edns(q->query);
}

/* Header and question of a reply to @query, with @rcode. */
static ldns_pkt *reply_new(const ldns_pkt *query, ldns_pkt_rcode rcode)
{
	ldns_pkt *r = ldns_pkt_new();
	ldns_rr_list *qs = ldns_pkt_question(query);

	if (!r)
		return NULL;
	ldns_pkt_set_id(r, ldns_pkt_id(query));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_opcode(r, ldns_pkt_get_opcode(query));
	ldns_pkt_set_rd(r, ldns_pkt_rd(query));
	ldns_pkt_set_cd(r, ldns_pkt_cd(query));
	ldns_pkt_set_ra(r, true);
	ldns_pkt_set_rcode(r, rcode);
	if (ldns_rr_list_rr_count(qs) == 1)
		ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(qs, 0)));
	if (ldns_pkt_edns(query))
		ldns_pkt_set_edns_udp_size(r, DNS_EDNS_SIZE);
	return r;
}

static uint32_t ttl_clamp(const struct dns_config *c, uint32_t ttl)
{
	return ttl < c->ttl_min ? c->ttl_min : ttl > c->ttl_max ? c->ttl_max : ttl;
}

static ldns_rr_list *section(const ldns_pkt *p, ldns_pkt_section sec)
{
	return sec == LDNS_SECTION_ANSWER ? ldns_pkt_answer(p) :
	       sec == LDNS_SECTION_AUTHORITY ? ldns_pkt_authority(p) : ldns_pkt_additional(p);
}

/* Copy @sec of @from into @to, every TTL clamped. */
static bool copy_section(const struct dns_server *s, ldns_pkt *to, const ldns_pkt *from,
			 ldns_pkt_section sec)
{
	ldns_rr_list *l = section(from, sec);

	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_clone(ldns_rr_list_rr(l, i));

		if (!rr)
			return false;
		ldns_rr_set_ttl(rr, ttl_clamp(&s->cfg, ldns_rr_ttl(rr)));
		if (!ldns_pkt_push_rr(to, sec, rr)) {
			ldns_rr_free(rr);
			return false;
		}
	}
	return true;
}

/* The reply the client gets for upstream answer @a: its records, our header. */
static ldns_pkt *reply_from_answer(const struct dns_server *s, const struct dns_query *q,
				   const ldns_pkt *a)
{
	ldns_pkt *r = reply_new(q->query, ldns_pkt_get_rcode(a));

	if (!r)
		return NULL;
	ldns_pkt_set_aa(r, ldns_pkt_aa(a));
	ldns_pkt_set_ad(r, ldns_pkt_ad(a));
	if (client_edns(q))
		ldns_pkt_set_edns_do(r, ldns_pkt_edns_do(a));
	if (!copy_section(s, r, a, LDNS_SECTION_ANSWER) ||
	    !copy_section(s, r, a, LDNS_SECTION_AUTHORITY) ||
	    !copy_section(s, r, a, LDNS_SECTION_ADDITIONAL)) {
		ldns_pkt_free(r);
		return NULL;
	}
	return r;
}

/* ---- learning ---- */

static bool chain_has(ldns_rdf *const *chain, int n, const ldns_rdf *name)
{
	for (int i = 0; i < n; i++)
		if (ldns_dname_compare(chain[i], name) == 0)
			return true;
	return false;
}

/*
 * The question name and the names its CNAMEs lead to within @ans, in any
 * order of the records. Returns how many (at most DNS_CHAIN_MAX).
 */
static int cname_chain(const ldns_rr_list *ans, ldns_rdf *qname, ldns_rdf **chain)
{
	int n = 1;
	bool grew = true;

	chain[0] = qname;
	while (grew && n < DNS_CHAIN_MAX) {
		grew = false;
		for (size_t i = 0; i < ldns_rr_list_rr_count(ans) && n < DNS_CHAIN_MAX; i++) {
			ldns_rr *rr = ldns_rr_list_rr(ans, i);
			ldns_rdf *target = ldns_rr_rdf(rr, 0);

			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME || !target ||
			    ldns_rdf_get_type(target) != LDNS_RDF_TYPE_DNAME ||
			    !chain_has(chain, n, ldns_rr_owner(rr)) || chain_has(chain, n, target))
				continue;
			chain[n++] = target;
			grew = true;
		}
	}
	return n;
}

/* learn() every A/AAAA of the question's chain in @reply (TTLs already clamped). */
static int learn_answer(const struct dns_server *s, const struct dns_query *q,
			const ldns_pkt *reply)
{
	ldns_rr_list *ans = ldns_pkt_answer(reply);
	ldns_rr *qrr = ldns_rr_list_rr(ldns_pkt_question(q->query), 0);
	ldns_rdf *chain[DNS_CHAIN_MAX];
	int n = cname_chain(ans, ldns_rr_owner(qrr), chain);

	for (size_t i = 0; i < ldns_rr_list_rr_count(ans); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ans, i);
		ldns_rr_type t = ldns_rr_get_type(rr);
		ldns_rdf *rd = ldns_rr_rdf(rr, 0);
		int family = t == LDNS_RR_TYPE_A ? AF_INET : AF_INET6;
		size_t want = t == LDNS_RR_TYPE_A ? 4 : 16;

		if ((t != LDNS_RR_TYPE_A && t != LDNS_RR_TYPE_AAAA) ||
		    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN || !chain_has(chain, n, ldns_rr_owner(rr)))
			continue;
		if (!rd || ldns_rdf_size(rd) != want)
			return -EINVAL;
		if (s->hooks.learn(s->hooks.ctx, q->rule, family, ldns_rdf_data(rd), ldns_rr_ttl(rr)))
			return -EPERM;
	}
	return 0;
}

/* ---- replying ---- */

static void conn_close(struct dns_server *s, int ci);

static void conn_flush(struct dns_server *s, int ci)
{
	struct dns_conn *c = &s->conn[ci];
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(s, ci);
			return;
		}
		c->outoff += n;
	}
	c->outoff = c->outlen = 0;
	if (c->eof && !c->pending)
		conn_close(s, ci);
}

static void conn_queue(struct dns_server *s, int ci, const uint8_t *wire, size_t len)
{
	struct dns_conn *c = &s->conn[ci];

	if (c->outoff) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
	}
	if (c->outlen + 2 + len > DNS_TCP_OUT_MAX) {
		__atomic_add_fetch(&s->dropped, 1, __ATOMIC_RELAXED);
		/* a client that does not read its replies loses its connection */
		conn_close(s, ci);
		return;
	}
	c->out = xrealloc(c->out, c->outlen + 2 + len);
	c->out[c->outlen] = len >> 8;
	c->out[c->outlen + 1] = len & 0xff;
	memcpy(c->out + c->outlen + 2, wire, len);
	c->outlen += 2 + len;
	conn_flush(s, ci);
}

/* A UDP reply larger than the client accepts: header and question, TC set. */
static ldns_status truncated_wire(const ldns_pkt *r, const ldns_pkt *query, uint8_t **wire,
				  size_t *len)
{
	ldns_pkt *t = reply_new(query, ldns_pkt_get_rcode(r));
	ldns_status st;

	if (!t)
		return LDNS_STATUS_MEM_ERR;
	ldns_pkt_set_tc(t, true);
	ldns_pkt_set_aa(t, ldns_pkt_aa(r));
	free(*wire);
	*wire = NULL;
	st = ldns_pkt2wire(wire, t, len);
	ldns_pkt_free(t);
	return st;
}

static size_t udp_limit(const ldns_pkt *query)
{
	uint16_t n = ldns_pkt_edns_udp_size(query);

	return ldns_pkt_edns(query) && n > 512 ? n : 512;
}

/* @r (a reply to @query) as @cl gets it: truncated for a small UDP limit. */
static bool encode_reply(const struct dns_client *cl, const ldns_pkt *query, const ldns_pkt *r,
			 uint8_t **wire, size_t *len)
{
	*wire = NULL;
	if (ldns_pkt2wire(wire, r, len) != LDNS_STATUS_OK || *len > DNS_MSG_MAX ||
	    (cl->udp_fd >= 0 && *len > udp_limit(query) &&
	     truncated_wire(r, query, wire, len) != LDNS_STATUS_OK)) {
		free(*wire);
		*wire = NULL;
		return false;
	}
	return true;
}

static void transmit(struct dns_server *s, const struct dns_client *cl, const uint8_t *wire,
		     size_t len)
{
	if (cl->udp_fd >= 0)
		/* a full socket buffer loses this reply; the client retries */
		sendto(cl->udp_fd, wire, len, MSG_DONTWAIT, (struct sockaddr *)&cl->peer, cl->peerlen);
	else if (s->conn[cl->conn].fd >= 0 && s->conn[cl->conn].gen == cl->gen)
		conn_queue(s, cl->conn, wire, len);
}

static void log_query(const struct dns_server *s, const struct dns_client *cl, const char *name,
		      uint16_t qtype, long rule, int rcode)
{
	if (s->hooks.log)
		s->hooks.log(s->hooks.ctx, name, qtype, rule, rcode, cl->who_known ? &cl->who : NULL);
}

/* Who sent what comes from @peer: one lookup, through the asker hook. */
static bool find_asker(const struct dns_server *s, const struct sockaddr *peer, bool tcp,
		       struct wd_dns_asker *who)
{
	memset(who, 0, sizeof(*who));
	if (!s->hooks.asker || !s->hooks.asker(s->hooks.ctx, peer, tcp, who)) {
		memset(who, 0, sizeof(*who));
		return false;
	}
	return true;
}

/* Reply with just @rcode (REFUSED, SERVFAIL, FORMERR, NOTIMP). */
static void send_rcode(struct dns_server *s, const struct dns_client *cl, const ldns_pkt *query,
		       ldns_pkt_rcode rcode)
{
	ldns_pkt *r = reply_new(query, rcode);
	uint8_t *wire;
	size_t len;

	if (r && encode_reply(cl, query, r, &wire, &len)) {
		transmit(s, cl, wire, len);
		free(wire);
	}
	ldns_pkt_free(r);
}

/* ---- the query table ---- */

static void query_close_upstream(struct dns_query *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	free(q->buf);
	q->buf = NULL;
	q->len = q->off = 0;
	q->connecting = false;
}

static void query_free(struct dns_server *s, struct dns_query *q)
{
	query_close_upstream(q);
	ldns_pkt_free(q->query);
	ldns_pkt_free(q->up_query);
	free(q->name);
	if (q->client.udp_fd < 0) {
		struct dns_conn *c = &s->conn[q->client.conn];

		if (c->fd >= 0 && c->gen == q->client.gen && --c->pending == 0) {
			c->idle = now_ms() + DNS_TCP_IDLE_MS;
			if (c->eof && !c->outlen)
				conn_close(s, q->client.conn);
		}
	}
	memset(q, 0, sizeof(*q));
	q->fd = -1;
	s->nq--;
}

/*
 * The final word on @q: @r, or SERVFAIL when @r is NULL or cannot be
 * encoded. Logged before it is sent, so the audit trail is never behind.
 */
static void query_finish(struct dns_server *s, struct dns_query *q, const ldns_pkt *r)
{
	int rcode = r ? (int)ldns_pkt_get_rcode(r) : LDNS_RCODE_SERVFAIL;
	uint8_t *wire = NULL;
	size_t len;

	if (!r || !encode_reply(&q->client, q->query, r, &wire, &len)) {
		log_query(s, &q->client, q->name, q->qtype, q->rule, LDNS_RCODE_SERVFAIL);
		send_rcode(s, &q->client, q->query, LDNS_RCODE_SERVFAIL);
	} else {
		log_query(s, &q->client, q->name, q->qtype, q->rule, rcode);
		transmit(s, &q->client, wire, len);
	}
	free(wire);
	query_free(s, q);
}

static void query_attempt(struct dns_server *s, struct dns_query *q, int up, bool tcp);

/* This upstream failed or timed out: the next one, or SERVFAIL. */
static void query_next(struct dns_server *s, struct dns_query *q)
{
	if (q->up + 1 < s->cfg.nupstream)
		query_attempt(s, q, q->up + 1, false);
	else
		query_finish(s, q, NULL);
}

/* Send the query to upstream @up over UDP or TCP; failures move on at once. */
static void query_attempt(struct dns_server *s, struct dns_query *q, int up, bool tcp)
{
	const struct dns_upstream *u = &s->cfg.upstream[up];
	uint8_t *wire = NULL;
	size_t len;
	int fd;

	query_close_upstream(q);
	q->gen = ++s->gen;
	q->up = up;
	q->up_tcp = tcp;
	q->deadline = now_ms() + s->cfg.timeout_ms;
	if (ldns_pkt2wire(&wire, q->up_query, &len) != LDNS_STATUS_OK) {
		free(wire);
		query_finish(s, q, NULL);
		return;
	}
	fd = socket(u->addr.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
	q->fd = fd;
	if (fd < 0 || (connect(fd, (struct sockaddr *)&u->addr, u->len) < 0 &&
		       errno != EINPROGRESS)) {
		free(wire);
		query_next(s, q);
		return;
	}
	if (!tcp) {
		/* connected: the kernel drops datagrams from any other address */
		bool sent = send(fd, wire, len, 0) == (ssize_t)len;

		free(wire);
		if (!sent)
			query_next(s, q);
		return;
	}
	q->buf = xmalloc(2 + len);
	q->buf[0] = len >> 8;
	q->buf[1] = len & 0xff;
	memcpy(q->buf + 2, wire, len);
	free(wire);
	q->len = 2 + len;
	q->connecting = true;
}

/* Does @a answer exactly what we asked upstream? Anything else is ignored. */
static bool answer_matches(const ldns_pkt *a, const ldns_pkt *asked)
{
	ldns_rr_list *qa = ldns_pkt_question(a), *qs = ldns_pkt_question(asked);
	ldns_rr *x, *y;

	if (!ldns_pkt_qr(a) || ldns_pkt_id(a) != ldns_pkt_id(asked) ||
	    ldns_pkt_get_opcode(a) != LDNS_PACKET_QUERY || ldns_rr_list_rr_count(qa) != 1)
		return false;
	x = ldns_rr_list_rr(qa, 0);
	y = ldns_rr_list_rr(qs, 0);
	return ldns_rr_get_type(x) == ldns_rr_get_type(y) &&
	       ldns_rr_get_class(x) == ldns_rr_get_class(y) &&
	       ldns_dname_compare(ldns_rr_owner(x), ldns_rr_owner(y)) == 0;
}

/* An upstream message for @q arrived. */
static void query_answer(struct dns_server *s, struct dns_query *q, const uint8_t *msg,
			 size_t len)
{
	ldns_pkt *a = NULL, *r;
	ldns_pkt_rcode rc;

	if (ldns_wire2pkt(&a, msg, len) != LDNS_STATUS_OK || !answer_matches(a, q->up_query)) {
		ldns_pkt_free(a);
		/* UDP: maybe a stray datagram, keep waiting; TCP: this stream is broken */
		if (q->up_tcp)
			query_next(s, q);
		return;
	}
	rc = ldns_pkt_get_rcode(a);
	if (ldns_pkt_tc(a) && !q->up_tcp) {
		ldns_pkt_free(a);
		query_attempt(s, q, q->up, true);
		return;
	}
	if (ldns_pkt_tc(a) || rc == LDNS_RCODE_SERVFAIL || rc == LDNS_RCODE_REFUSED ||
	    rc == LDNS_RCODE_NOTIMPL || rc == LDNS_RCODE_FORMERR) {
		/* this server cannot answer: ask the next one */
		ldns_pkt_free(a);
		query_next(s, q);
		return;
	}
	r = reply_from_answer(s, q, a);
	ldns_pkt_free(a);
	if (r && learn_answer(s, q, r)) {
		ldns_pkt_free(r);
		r = NULL;
	}
	query_finish(s, q, r);
	ldns_pkt_free(r);
}

static void query_udp_readable(struct dns_server *s, struct dns_query *q)
{
	uint8_t buf[DNS_MSG_MAX];
	ssize_t n = recv(q->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {		/* ECONNREFUSED: nothing listens there */
		query_next(s, q);
		return;
	}
	query_answer(s, q, buf, n);
}

/* TCP to the upstream: finish connecting, write the query, read the reply. */
static void query_tcp_io(struct dns_server *s, struct dns_query *q, short revents)
{
	ssize_t n;
	size_t want;

	if (revents & (POLLERR | POLLNVAL)) {
		query_next(s, q);
		return;
	}
	if (q->connecting) {
		n = write(q->fd, q->buf + q->off, q->len - q->off);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			query_next(s, q);
			return;
		}
		q->off += n;
		if (q->off == q->len) {
			q->connecting = false;
			free(q->buf);
			q->buf = xmalloc(2 + DNS_MSG_MAX);
			q->len = q->off = 0;
		}
		return;
	}
	want = q->off < 2 ? 2 : 2 + ((size_t)q->buf[0] << 8 | q->buf[1]);
	n = read(q->fd, q->buf + q->off, want - q->off);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		query_next(s, q);
		return;
	}
	q->off += n;
	if (q->off >= 2 && q->off == 2 + ((size_t)q->buf[0] << 8 | q->buf[1]))
		query_answer(s, q, q->buf + 2, q->off - 2);
}

static struct dns_query *query_slot(struct dns_server *s)
{
	for (int i = 0; i < DNS_MAX_QUERIES; i++)
		if (!s->q[i].used)
			return &s->q[i];
	return NULL;
}

/*
 * The question's name as name_rule() sees it (lower case, no trailing dot);
 * *@bad when a label holds bytes that ldns escapes ('.', '\\', unprintable):
 * such a name would read as another name to a suffix match, so it is refused.
 */
static char *question_name(const ldns_rr *qrr, bool *bad)
{
	char *name = ldns_rdf2str(ldns_rr_owner(qrr));
	size_t n;

	*bad = !name || strchr(name, '\\');
	if (!name)
		return xstrdup("");
	for (char *p = name; *p; p++)
		*p = (*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p;
	n = strlen(name);
	if (n && name[n - 1] == '.')
		name[n - 1] = '\0';
	return name;
}

/* The query sent upstream: the client's question and flags, nothing else. */
static ldns_pkt *upstream_query(const ldns_pkt *query, const ldns_rr *qrr)
{
	uint16_t flags = (ldns_pkt_rd(query) ? LDNS_RD : 0) | (ldns_pkt_cd(query) ? LDNS_CD : 0);
	ldns_pkt *p = ldns_pkt_query_new(ldns_rdf_clone(ldns_rr_owner(qrr)), ldns_rr_get_type(qrr),
					 LDNS_RR_CLASS_IN, flags);
	uint16_t id;

	if (!p)
		return NULL;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id)) {
		ldns_pkt_free(p);
		return NULL;
	}
	ldns_pkt_set_id(p, id);
	ldns_pkt_set_edns_udp_size(p, DNS_EDNS_SIZE);
	ldns_pkt_set_edns_do(p, ldns_pkt_edns_do(query));
	return p;
}

/* Start forwarding an allowed query; @query and @name pass to the table. */
static void query_start(struct dns_server *s, const struct dns_client *cl, ldns_pkt *query,
			char *name, uint16_t qtype, long rule)
{
	struct dns_query *q = query_slot(s);

	if (!q) {		/* table full: drop, the client will retry */
		__atomic_add_fetch(&s->dropped, 1, __ATOMIC_RELAXED);
		ldns_pkt_free(query);
		free(name);
		return;
	}
	q->used = true;
	q->fd = -1;
	q->client = *cl;
	q->query = query;
	q->name = name;
	q->qtype = qtype;
	q->rule = rule;
	s->nq++;
	if (cl->udp_fd < 0)
		s->conn[cl->conn].pending++;
	q->up_query = upstream_query(query, ldns_rr_list_rr(ldns_pkt_question(query), 0));
	if (!q->up_query || !s->cfg.nupstream) {
		/* no upstream: never answer from nowhere */
		query_finish(s, q, NULL);
		return;
	}
	query_attempt(s, q, 0, false);
}

/* One message from a client. */
static void handle_message(struct dns_server *s, const struct dns_client *cl, const uint8_t *msg,
			   size_t len)
{
	ldns_pkt *query = NULL;
	ldns_rr *qrr;
	char *name;
	uint16_t qtype;
	long rule;
	bool bad;

	if (ldns_wire2pkt(&query, msg, len) != LDNS_STATUS_OK || ldns_pkt_qr(query)) {
		ldns_pkt_free(query);	/* garbage, or a response: dropped */
		return;
	}
	if (ldns_pkt_get_opcode(query) != LDNS_PACKET_QUERY || ldns_pkt_qdcount(query) != 1) {
		send_rcode(s, cl, query, ldns_pkt_get_opcode(query) != LDNS_PACKET_QUERY ?
				   LDNS_RCODE_NOTIMPL : LDNS_RCODE_FORMERR);
		ldns_pkt_free(query);
		return;
	}
	qrr = ldns_rr_list_rr(ldns_pkt_question(query), 0);
	qtype = ldns_rr_get_type(qrr);
	name = question_name(qrr, &bad);
	rule = !bad && ldns_rr_get_class(qrr) == LDNS_RR_CLASS_IN ?
		       s->hooks.name_rule(s->hooks.ctx, name) : -1;
	if (rule < 0) {
		log_query(s, cl, name, qtype, -1, LDNS_RCODE_REFUSED);
		send_rcode(s, cl, query, LDNS_RCODE_REFUSED);
		ldns_pkt_free(query);
		free(name);
		return;
	}
	query_start(s, cl, query, name, qtype, rule);
}

/* ---- client sockets ---- */

static void udp_readable(struct dns_server *s, int fd)
{
	uint8_t buf[DNS_MSG_MAX];
	struct dns_client cl = { .udp_fd = fd };

	for (int i = 0; i < DNS_UDP_BATCH; i++) {
		ssize_t n;

		cl.peerlen = sizeof(cl.peer);
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&cl.peer,
			     &cl.peerlen);
		if (n < 0)
			return;
		cl.who_known = find_asker(s, (struct sockaddr *)&cl.peer, false, &cl.who);
		handle_message(s, &cl, buf, n);
	}
}

static void conn_close(struct dns_server *s, int ci)
{
	struct dns_conn *c = &s->conn[ci];

	close(c->fd);
	free(c->in);
	free(c->out);
	/* its queries stay in the table; their replies are dropped (generation) */
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void tcp_accept(struct dns_server *s, int lfd)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct dns_conn *c = NULL;
	int ci;

	if (fd < 0)
		return;
	for (ci = 0; ci < DNS_MAX_TCP && !c; ci++)
		if (s->conn[ci].fd < 0)
			c = &s->conn[ci];
	if (!c) {		/* too many connections: this one is refused */
		__atomic_add_fetch(&s->dropped, 1, __ATOMIC_RELAXED);
		close(fd);
		return;
	}
	c->fd = fd;
	c->gen = ++s->gen;
	c->in = xmalloc(2 + DNS_MSG_MAX);
	c->idle = now_ms() + DNS_TCP_IDLE_MS;
	c->who_known = find_asker(s, (struct sockaddr *)&peer, true, &c->who);
}

/* Handle the complete messages buffered on @ci while the table has room. */
static void conn_drain(struct dns_server *s, int ci)
{
	struct dns_conn *c = &s->conn[ci];
	struct dns_client cl = { .udp_fd = -1, .conn = ci, .gen = c->gen,
				 .who_known = c->who_known, .who = c->who };
	size_t mlen;

	while (c->fd >= 0 && c->gen == cl.gen && c->inlen >= 2 && s->nq < DNS_MAX_QUERIES) {
		mlen = (size_t)c->in[0] << 8 | c->in[1];
		if (c->inlen < 2 + mlen)
			return;
		handle_message(s, &cl, c->in + 2, mlen);
		if (c->fd < 0 || c->gen != cl.gen)
			return;	/* closed while replying */
		memmove(c->in, c->in + 2 + mlen, c->inlen - 2 - mlen);
		c->inlen -= 2 + mlen;
		c->idle = now_ms() + DNS_TCP_IDLE_MS;
	}
}

static void conn_readable(struct dns_server *s, int ci)
{
	struct dns_conn *c = &s->conn[ci];
	ssize_t n;

	if (c->inlen == 2 + DNS_MSG_MAX)
		return;		/* a whole message waits for room in the table */
	n = read(c->fd, c->in + c->inlen, 2 + DNS_MSG_MAX - c->inlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		c->eof = true;
		if (!c->pending && !c->outlen)
			conn_close(s, ci);
		return;
	}
	c->inlen += n;
	conn_drain(s, ci);
}

/* ---- the loop ---- */

enum src { SRC_LISTEN, SRC_WAKE, SRC_CONN, SRC_QUERY };

struct loop {
	struct pollfd pfd[L_COUNT + 1 + DNS_MAX_TCP + DNS_MAX_QUERIES];
	uint8_t src[L_COUNT + 1 + DNS_MAX_TCP + DNS_MAX_QUERIES];
	int idx[L_COUNT + 1 + DNS_MAX_TCP + DNS_MAX_QUERIES];
	uint32_t gen[L_COUNT + 1 + DNS_MAX_TCP + DNS_MAX_QUERIES];
	int n;
};

static void loop_add(struct loop *l, int fd, short events, enum src src, int idx, uint32_t gen)
{
	l->pfd[l->n] = (struct pollfd){ .fd = fd, .events = events };
	l->src[l->n] = src;
	l->idx[l->n] = idx;
	l->gen[l->n] = gen;
	l->n++;
}

/* The poll set, and how long poll() may wait for the next deadline. */
static int loop_build(struct dns_server *s, struct loop *l)
{
	int64_t now = now_ms(), next = now + 60000;
	bool room = s->nq < DNS_MAX_QUERIES;

	l->n = 0;
	/* UDP is always read: beyond the table's room, queries are dropped */
	for (int i = 0; i < L_COUNT; i++)
		if (s->lfd[i] >= 0)
			loop_add(l, s->lfd[i], POLLIN, SRC_LISTEN, i, 0);
	loop_add(l, s->wake, POLLIN, SRC_WAKE, 0, 0);
	for (int i = 0; i < DNS_MAX_TCP; i++) {
		struct dns_conn *c = &s->conn[i];
		short ev = (room && !c->eof ? POLLIN : 0) | (c->outlen ? POLLOUT : 0);

		if (c->fd < 0)
			continue;
		loop_add(l, c->fd, ev, SRC_CONN, i, c->gen);
		if (!c->pending && c->idle < next)
			next = c->idle;
	}
	for (int i = 0; i < DNS_MAX_QUERIES; i++) {
		struct dns_query *q = &s->q[i];

		if (!q->used || q->fd < 0)
			continue;
		loop_add(l, q->fd, q->connecting ? POLLOUT : POLLIN, SRC_QUERY, i, q->gen);
		if (q->deadline < next)
			next = q->deadline;
	}
	return next > now ? (int)(next - now) : 0;
}

static void loop_timers(struct dns_server *s)
{
	int64_t now = now_ms();

	for (int i = 0; i < DNS_MAX_QUERIES; i++)
		if (s->q[i].used && s->q[i].deadline <= now)
			query_next(s, &s->q[i]);
	for (int i = 0; i < DNS_MAX_TCP; i++)
		if (s->conn[i].fd >= 0 && !s->conn[i].pending && s->conn[i].idle <= now)
			conn_close(s, i);
	/* messages that waited for room in the table */
	for (int i = 0; i < DNS_MAX_TCP; i++)
		if (s->conn[i].fd >= 0 && s->conn[i].inlen)
			conn_drain(s, i);
}

/* One event; returns false when asked to stop. */
static bool loop_event(struct dns_server *s, const struct loop *l, int i)
{
	short re = l->pfd[i].revents;
	int idx = l->idx[i];

	if (!re)
		return true;
	switch (l->src[i]) {
	case SRC_WAKE:
		return false;
	case SRC_LISTEN:
		if (idx >= L_TCP4)
			tcp_accept(s, s->lfd[idx]);
		else
			udp_readable(s, s->lfd[idx]);
		break;
	case SRC_CONN:
		/* the slot may have been closed or reused by an earlier event */
		if (s->conn[idx].fd < 0 || s->conn[idx].gen != l->gen[i])
			break;
		if (re & POLLOUT)
			conn_flush(s, idx);
		if (s->conn[idx].fd >= 0 && s->conn[idx].gen == l->gen[i] &&
		    (re & (POLLIN | POLLHUP | POLLERR)))
			conn_readable(s, idx);
		break;
	case SRC_QUERY:
		if (!s->q[idx].used || s->q[idx].fd < 0 || s->q[idx].gen != l->gen[i])
			break;
		if (s->q[idx].up_tcp)
			query_tcp_io(s, &s->q[idx], re);
		else
			query_udp_readable(s, &s->q[idx]);
		break;
	}
	return true;
}

static void *serve(void *arg)
{
	struct dns_server *s = arg;
	struct loop *l = xmalloc(sizeof(*l));
	bool run = true;

	while (run) {
		int timeout = loop_build(s, l);
		int n = poll(l->pfd, l->n, timeout);

		if (n < 0 && errno != EINTR) {
			pr_warn("dns: poll: %s", strerror(errno));
			break;
		}
		for (int i = 0; run && n > 0 && i < l->n; i++)
			run = loop_event(s, l, i);
		loop_timers(s);
	}
	free(l);
	return NULL;
}

/* ---- start and stop ---- */

static int config_check(struct dns_config *c, const struct dns_hooks *h)
{
	if (!h || !h->name_rule || !h->learn || c->nupstream < 0 ||
	    c->nupstream > DNS_UPSTREAM_MAX || c->timeout_ms < 0)
		return -EINVAL;
	for (int i = 0; i < c->nupstream; i++) {
		int fam = c->upstream[i].addr.ss_family;

		if ((fam != AF_INET && fam != AF_INET6) || !c->upstream[i].len ||
		    c->upstream[i].len > sizeof(c->upstream[i].addr))
			return -EINVAL;
	}
	if (!c->timeout_ms)
		c->timeout_ms = DNS_TIMEOUT_MS_DEFAULT;
	if (!c->ttl_min)
		c->ttl_min = DNS_TTL_MIN_DEFAULT;
	if (!c->ttl_max)
		c->ttl_max = DNS_TTL_MAX_DEFAULT;
	return c->ttl_min > c->ttl_max ? -EINVAL : 0;
}

static void server_free(struct dns_server *s)
{
	for (int i = 0; i < DNS_MAX_QUERIES; i++)
		if (s->q[i].used)
			query_free(s, &s->q[i]);
	for (int i = 0; i < DNS_MAX_TCP; i++)
		if (s->conn[i].fd >= 0)
			conn_close(s, i);
	close_listeners(s);
	if (s->wake >= 0)
		close(s->wake);
	free(s);
}

int dns_server_start(struct dns_server **out, const struct dns_config *cfg,
		     const struct dns_hooks *hooks)
{
	struct dns_server *s = xcalloc(1, sizeof(*s));
	sigset_t all, old;
	int err;

	s->cfg = *cfg;
	s->hooks = hooks ? *hooks : (struct dns_hooks){0};
	s->wake = -1;
	for (int i = 0; i < L_COUNT; i++)
		s->lfd[i] = -1;
	for (int i = 0; i < DNS_MAX_QUERIES; i++)
		s->q[i].fd = -1;
	for (int i = 0; i < DNS_MAX_TCP; i++)
		s->conn[i].fd = -1;
	err = config_check(&s->cfg, hooks);
	if (!err)
		err = s->cfg.port ? listen_all(s, s->cfg.port) : listen_any(s);
	if (!err) {
		s->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (s->wake < 0)
			err = -errno;
	}
	if (!err) {
		/* signals are for the main thread: the server thread takes none */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		err = -pthread_create(&s->thread, NULL, serve, s);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (err) {
		server_free(s);
		return err;
	}
	*out = s;
	return 0;
}

uint16_t dns_server_port(const struct dns_server *s)
{
	return s->port;
}

uint64_t dns_server_dropped(const struct dns_server *s)
{
	return __atomic_load_n(&s->dropped, __ATOMIC_RELAXED);
}

void dns_server_stop(struct dns_server *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (write(s->wake, &one, sizeof(one)) != sizeof(one))
		pr_warn("dns: cannot wake the resolver thread: %s", strerror(errno));
	pthread_join(s->thread, NULL);
	server_free(s);
}
