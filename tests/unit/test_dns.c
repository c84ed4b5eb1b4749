// SPDX-License-Identifier: GPL-2.0
/*
 * The DNS stub resolver against a real upstream (build/tests/fakedns) over
 * loopback: what the agent gets, what learn() is told, and what the
 * upstream saw (its query log).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <ldns/ldns.h>

#include "dns.h"
#include "policy.h"

#define TIMEOUT_MS 300
#define TTL_MIN 10
#define TTL_MAX 100

static const struct policy_env ENV = { .cwd = "/w", .home = "/h" };

/* The name_rule under test: "api.example.com" and "*.example.org", from a real policy. */
static const char POLICY[] =
	"{\"version\": 1, \"name\": \"d\", \"network\": {\"default\": \"deny\", \"rules\": [\n"
	" {\"host\": \"api.example.com\", \"ports\": [\"443\"], \"allow\": [\"connect\"]},\n"
	" {\"host\": \"*.example.org\", \"allow\": [\"connect\"]},\n"
	" {\"host\": \"bad.example.org\", \"deny\": [\"connect\"]}\n"
	"]}}\n";

static char dir[] = "/tmp/test_dns.XXXXXX";
static char logpath[PATH_MAX];
static pid_t fake_pid = -1;
static uint16_t fake_port;
static struct policy pol;
static struct dns_server *srv;

struct learned {
	long rule;
	int family;
	uint8_t addr[16];
	uint32_t ttl;
};
struct logged {
	char name[256];
	uint16_t qtype;
	long rule;
	int rcode;
	bool who_known;		/* log() got an asker */
	struct wd_dns_asker who;
};
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct learned learned[1024];
static int nlearned;
static struct logged logged[4096];
static int nlogged;

static long h_name_rule(void *ctx, const char *name)
{
	return dns_host_rule(ctx, name);
}

static int h_learn(void *ctx, long rule, int family, const uint8_t *addr, uint32_t ttl)
{
	static const uint8_t refused[4] = { 192, 0, 2, 99 };	/* the kernel "fails" this one */

	(void)ctx;
	if (family == AF_INET && !memcmp(addr, refused, 4))
		return -ENOSPC;
	pthread_mutex_lock(&mu);
	if (nlearned < 1024) {
		learned[nlearned] = (struct learned){ .rule = rule, .family = family, .ttl = ttl };
		memcpy(learned[nlearned].addr, addr, family == AF_INET ? 4 : 16);
		nlearned++;
	}
	pthread_mutex_unlock(&mu);
	return 0;
}

static void h_log(void *ctx, const char *name, uint16_t qtype, long rule, int rcode,
		  const struct wd_dns_asker *who)
{
	(void)ctx;
	pthread_mutex_lock(&mu);
	if (nlogged < 4096) {
		snprintf(logged[nlogged].name, sizeof(logged[nlogged].name), "%s", name);
		logged[nlogged].qtype = qtype;
		logged[nlogged].rule = rule;
		logged[nlogged].rcode = rcode;
		logged[nlogged].who_known = who != NULL;
		if (who)
			logged[nlogged].who = *who;
		nlogged++;
	}
	pthread_mutex_unlock(&mu);
}

/*
 * Stands in for the kernel's record: the asker "is" the client's port
 * (pid), tid 6 for TCP, 17 for UDP; none at all while asker_off is set.
 */
static int asker_calls;
static bool asker_off;

static bool h_asker(void *ctx, const struct sockaddr *peer, bool tcp, struct wd_dns_asker *who)
{
	uint16_t port = peer->sa_family == AF_INET ? ((const struct sockaddr_in *)peer)->sin_port
						   : ((const struct sockaddr_in6 *)peer)->sin6_port;

	(void)ctx;
	pthread_mutex_lock(&mu);
	asker_calls++;
	pthread_mutex_unlock(&mu);
	if (__atomic_load_n(&asker_off, __ATOMIC_RELAXED))
		return false;
	who->pid = ntohs(port);
	who->tid = tcp ? 6 : 17;
	memcpy(who->comm, "asker", 6);
	return true;
}

static const struct dns_hooks HOOKS = { .name_rule = h_name_rule, .learn = h_learn,
					.asker = h_asker, .log = h_log, .ctx = &pol };

/* Index of @addr among the learned addresses, or -1. */
static int find_learned(const char *addr)
{
	uint8_t a[16];
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET, found = -1;

	assert_int_equal(inet_pton(family, addr, a), 1);
	pthread_mutex_lock(&mu);
	for (int i = 0; i < nlearned && found < 0; i++)
		if (learned[i].family == family && !memcmp(learned[i].addr, a, family == AF_INET ? 4 : 16))
			found = i;
	pthread_mutex_unlock(&mu);
	return found;
}

/* The last log entry for @name, or NULL. */
static const struct logged *find_logged(const char *name)
{
	const struct logged *l = NULL;

	pthread_mutex_lock(&mu);
	for (int i = 0; i < nlogged; i++)
		if (!strcmp(logged[i].name, name))
			l = &logged[i];
	pthread_mutex_unlock(&mu);
	return l;
}

/* How many lines of the upstream's query log are exactly @line. */
static int upstream_saw(const char *line)
{
	char buf[512];
	int n = 0;
	FILE *f = fopen(logpath, "r");

	if (!f)
		return 0;
	while (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		n += !strcmp(buf, line);
	}
	fclose(f);
	return n;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- fakedns ---- */

static const char ZONE[] =
	"api.example.com. 100000 IN A 192.0.2.1\n"
	"secret.example.com. 60 IN A 192.0.2.66\n"
	"bad.example.org. 60 IN A 192.0.2.67\n"
	"short.example.org. 1 IN A 192.0.2.2\n"
	"; a CNAME chain leaving the allowed domain; fakedns -r sends it backwards\n"
	"www.example.org. 60 IN CNAME c1.example.net.\n"
	"c1.example.net. 60 IN CNAME c2.example.net.\n"
	"c2.example.net. 60 IN A 192.0.2.7\n"
	"v6.example.org. 300 IN AAAA 2001:db8::1\n"
	"fail.example.org. 60 IN A 192.0.2.99\n"
	"mx.example.org. 60 IN MX 10 mail.example.net.\n"
	"mail.example.net. 60 IN A 192.0.2.25\n";

static void write_zone(const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(ZONE, f);
	/* 100 addresses: more than the 1232 bytes of EDNS the resolver asks for */
	for (int i = 1; i <= 100; i++)
		fprintf(f, "big.example.org. 60 IN A 198.51.100.%d\n", i);
	fclose(f);
}

/* Start fakedns next to this test binary; returns its port. */
static uint16_t fakedns_start(const char *zone, pid_t *pid)
{
	char self[PATH_MAX], bin[PATH_MAX + 16], line[32] = "";
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int pfd[2];
	FILE *f;

	assert_true(n > 0);
	self[n] = '\0';
	snprintf(bin, sizeof(bin), "%s/fakedns", dirname(self));
	assert_int_equal(pipe(pfd), 0);
	*pid = fork();
	assert_true(*pid >= 0);
	if (*pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(bin, "fakedns", "-l", logpath, "-z", zone, "-r", "-s", "slow.example.org",
		      "-f", "sf.example.org", "-x", "evil.example.net. 60 IN A 203.0.113.66",
		      (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	if (!fgets(line, sizeof(line), f))
		fail_msg("fakedns did not start (%s)", bin);
	fclose(f);
	return atoi(line);
}

static void upstream_of(struct dns_upstream *u, uint16_t port)
{
	struct sockaddr_in *a = (struct sockaddr_in *)&u->addr;

	memset(u, 0, sizeof(*u));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	u->len = sizeof(*a);
}

static void config(struct dns_config *c, int n, const uint16_t *ports)
{
	dns_config_init(c);
	c->timeout_ms = TIMEOUT_MS;
	c->ttl_min = TTL_MIN;
	c->ttl_max = TTL_MAX;
	c->nupstream = n;
	for (int i = 0; i < n; i++)
		upstream_of(&c->upstream[i], ports[i]);
}

static int setup(void **state)
{
	struct sbuf err = {0};
	char zone[PATH_MAX];
	struct dns_config c;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir))
		return -1;
	snprintf(logpath, sizeof(logpath), "%s/queries.log", dir);
	snprintf(zone, sizeof(zone), "%s/zone", dir);
	write_zone(zone);
	fake_port = fakedns_start(zone, &fake_pid);
	if (policy_parse("d.json", POLICY, strlen(POLICY), &ENV, &pol, &err)) {
		fprintf(stderr, "%.*s", (int)err.len, err.buf);
		return -1;
	}
	config(&c, 1, &fake_port);
	return dns_server_start(&srv, &c, &HOOKS) ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	dns_server_stop(srv);
	if (fake_pid > 0) {
		kill(fake_pid, SIGTERM);
		waitpid(fake_pid, NULL, 0);
	}
	policy_free(&pol);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* ---- a client ---- */

static ldns_pkt *mkquery(const char *name, ldns_rr_type type, uint16_t edns)
{
	ldns_pkt *q = NULL;

	assert_int_equal(ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, LDNS_RD),
			 LDNS_STATUS_OK);
	ldns_pkt_set_random_id(q);
	if (edns)
		ldns_pkt_set_edns_udp_size(q, edns);
	return q;
}

static void sockaddr_lo(int family, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = in6addr_loopback;
		*len = sizeof(*a);
	}
}

static int udp_client(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(family, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	sockaddr_lo(family, port, &ss, &len);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	return fd;
}

static void send_pkt(int fd, const ldns_pkt *q, bool tcp)
{
	uint8_t *wire = NULL, buf[2 + 65535];
	size_t len;

	assert_int_equal(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
	buf[0] = len >> 8;
	buf[1] = len & 0xff;
	memcpy(buf + 2, wire, len);
	free(wire);
	if (tcp)
		assert_int_equal(write(fd, buf, 2 + len), 2 + len);
	else
		assert_int_equal(send(fd, buf + 2, len, 0), len);
}

static bool wait_in(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1;
}

/* The next reply on UDP socket @fd, NULL after @timeout_ms. */
static ldns_pkt *udp_recv(int fd, int timeout_ms)
{
	uint8_t buf[65535];
	ldns_pkt *r = NULL;
	ssize_t n;

	if (!wait_in(fd, timeout_ms))
		return NULL;
	n = recv(fd, buf, sizeof(buf), 0);
	assert_true(n > 0);
	assert_int_equal(ldns_wire2pkt(&r, buf, n), LDNS_STATUS_OK);
	return r;
}

/* Ask @name/@type over UDP (v4 or v6); the reply must carry our ID and question. */
static ldns_pkt *ask_udp_at(uint16_t port, int family, const char *name, ldns_rr_type type,
			    uint16_t edns)
{
	int fd = udp_client(family, port);
	ldns_pkt *q = mkquery(name, type, edns), *r;

	send_pkt(fd, q, false);
	r = udp_recv(fd, 5000);
	close(fd);
	if (!r)
		fail_msg("no reply for %s", name);
	assert_int_equal(ldns_pkt_id(r), ldns_pkt_id(q));
	assert_true(ldns_pkt_qr(r));
	assert_int_equal(ldns_pkt_qdcount(r), 1);
	assert_int_equal(ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(r), 0)),
					    ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(q), 0))), 0);
	ldns_pkt_free(q);
	return r;
}

static ldns_pkt *ask_udp(const char *name, ldns_rr_type type, uint16_t edns)
{
	return ask_udp_at(dns_server_port(srv), AF_INET, name, type, edns);
}

static int tcp_client(int family)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(family, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sockaddr_lo(family, dns_server_port(srv), &ss, &len);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	return fd;
}

static bool read_full(int fd, uint8_t *buf, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t n;

		if (!wait_in(fd, 5000))
			return false;
		n = read(fd, buf + off, len - off);
		if (n <= 0)
			return false;
		off += n;
	}
	return true;
}

/* The next length-prefixed reply on @fd, NULL on EOF or timeout. */
static ldns_pkt *tcp_recv(int fd)
{
	uint8_t buf[65535];
	ldns_pkt *r = NULL;
	size_t len;

	if (!read_full(fd, buf, 2))
		return NULL;
	len = buf[0] << 8 | buf[1];
	if (!read_full(fd, buf, len))
		return NULL;
	assert_int_equal(ldns_wire2pkt(&r, buf, len), LDNS_STATUS_OK);
	return r;
}

/* The first answer record of @type and its rdata as text, or NULL. */
static ldns_rr *answer_rr(const ldns_pkt *r, ldns_rr_type type, const char *rdata)
{
	ldns_rr_list *ans = ldns_pkt_answer(r);

	for (size_t i = 0; i < ldns_rr_list_rr_count(ans); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ans, i);
		char *s;
		bool same;

		if (ldns_rr_get_type(rr) != type)
			continue;
		s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		same = !rdata || !strcmp(s, rdata);
		free(s);
		if (same)
			return rr;
	}
	return NULL;
}

static void expect_rcode(ldns_pkt *r, ldns_pkt_rcode rc)
{
	assert_non_null(r);
	assert_int_equal(ldns_pkt_get_rcode(r), rc);
	ldns_pkt_free(r);
}

/* ---- host rules ---- */

static void t_host_rule(void **state)
{
	static const char text[] =
		"{\"version\": 1, \"name\": \"h\", \"network\": {\"default\": \"deny\", \"rules\": [\n"
		" {\"host\": \"*.example.com\", \"allow\": [\"connect\"]},\n"
		" {\"host\": \"*.internal.example.com\", \"deny\": [\"connect\"]},\n"
		" {\"host\": \"ok.internal.example.com\", \"allow\": [\"connect\"]},\n"
		" {\"host\": \"tie.example.net\", \"allow\": [\"connect\"]},\n"
		" {\"host\": \"tie.example.net\", \"deny\": [\"connect\"]},\n"
		" {\"cidr\": \"0.0.0.0/0\", \"allow\": [\"connect\"]},\n"
		" {\"host\": \"EXACT.example.net\", \"allow\": [\"connect\"]}\n"
		"]}}\n";
	struct sbuf err = {0};
	struct policy p;

	(void)state;
	if (policy_parse("h.json", text, strlen(text), &ENV, &p, &err))
		fail_msg("%.*s", (int)err.len, err.buf);
	assert_int_equal(dns_host_rule(&p, "a.example.com"), 0);
	assert_int_equal(dns_host_rule(&p, "b.a.example.com"), 0);
	assert_int_equal(dns_host_rule(&p, "example.com"), -1);	/* "*." is strictly under */
	assert_int_equal(dns_host_rule(&p, "aexample.com"), -1);	/* a label boundary */
	assert_int_equal(dns_host_rule(&p, "internal.example.com"), 0);
	assert_int_equal(dns_host_rule(&p, "x.internal.example.com"), -1);	/* longer suffix */
	assert_int_equal(dns_host_rule(&p, "y.x.internal.example.com"), -1);
	assert_int_equal(dns_host_rule(&p, "ok.internal.example.com"), 2);	/* exact wins */
	assert_int_equal(dns_host_rule(&p, "tie.example.net"), -1);	/* deny wins a tie */
	assert_int_equal(dns_host_rule(&p, "exact.example.net"), 6);	/* stored lower case */
	assert_int_equal(dns_host_rule(&p, "x.exact.example.net"), -1);	/* exact is exact */
	assert_int_equal(dns_host_rule(&p, "other.org"), -1);
	assert_int_equal(dns_host_rule(&p, ""), -1);
	policy_free(&p);
}

static void t_resolv_conf(void **state)
{
	char path[PATH_MAX];
	struct dns_config c;
	struct sockaddr_in *a4;
	struct sockaddr_in6 *a6;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/resolv.conf", dir);
	f = fopen(path, "w");
	fputs("# comment\nsearch example.org\n; nameserver 9.9.9.9\nnameserver 192.0.2.53\n"
	      "options ndots:2\nnameserver   2001:db8::53\nnameserver 192.0.2.54\n"
	      "nameserver 192.0.2.55\nnameserver 192.0.2.56\n", f);
	fclose(f);
	assert_int_equal(dns_config_from_resolv_conf(&c, path), 0);
	assert_int_equal(c.nupstream, 4);	/* a fifth is ignored */
	a4 = (struct sockaddr_in *)&c.upstream[0].addr;
	assert_int_equal(a4->sin_family, AF_INET);
	assert_int_equal(ntohl(a4->sin_addr.s_addr), 0xc0000235);
	assert_int_equal(ntohs(a4->sin_port), 53);
	a6 = (struct sockaddr_in6 *)&c.upstream[1].addr;
	assert_int_equal(a6->sin6_family, AF_INET6);
	assert_int_equal(c.upstream[1].len, sizeof(*a6));
	assert_int_equal(a6->sin6_addr.s6_addr[15], 0x53);
	assert_int_equal(ntohs(a6->sin6_port), 53);
	assert_int_equal(c.timeout_ms, 2000);
	assert_int_equal(c.ttl_min, 5);
	assert_int_equal(c.ttl_max, 3600);

	f = fopen(path, "w");
	fputs("search example.org\n", f);
	fclose(f);
	assert_int_equal(dns_config_from_resolv_conf(&c, path), 0);
	assert_int_equal(c.nupstream, 0);

	f = fopen(path, "w");
	fputs("nameserver dns.example.org\n", f);
	fclose(f);
	assert_int_equal(dns_config_from_resolv_conf(&c, path), -EINVAL);
	assert_int_equal(dns_config_from_resolv_conf(&c, "/nonexistent/resolv.conf"), -ENOENT);
}

/* ---- the resolver ---- */

static void t_allowed_a(void **state)
{
	ldns_pkt *r = ask_udp("api.example.com", LDNS_RR_TYPE_A, 0);
	ldns_rr *rr = answer_rr(r, LDNS_RR_TYPE_A, "192.0.2.1");
	const struct logged *l;
	int i;

	(void)state;
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_non_null(rr);
	assert_int_equal(ldns_rr_ttl(rr), TTL_MAX);	/* 100000 in the zone */
	i = find_learned("192.0.2.1");
	assert_true(i >= 0);
	assert_int_equal(learned[i].rule, 0);
	assert_int_equal(learned[i].family, AF_INET);
	assert_int_equal(learned[i].ttl, TTL_MAX);
	/* an address outside the question's chain is passed on, never learned */
	assert_non_null(answer_rr(r, LDNS_RR_TYPE_A, "203.0.113.66"));
	assert_int_equal(find_learned("203.0.113.66"), -1);
	assert_int_equal(upstream_saw("api.example.com A udp"), 1);
	l = find_logged("api.example.com");
	assert_non_null(l);
	assert_int_equal(l->qtype, LDNS_RR_TYPE_A);
	assert_int_equal(l->rule, 0);
	assert_int_equal(l->rcode, LDNS_RCODE_NOERROR);
	ldns_pkt_free(r);

	/* a TTL below the minimum is raised, in learn() and in the reply alike */
	r = ask_udp("Short.Example.ORG", LDNS_RR_TYPE_A, 0);
	rr = answer_rr(r, LDNS_RR_TYPE_A, "192.0.2.2");
	assert_non_null(rr);
	assert_int_equal(ldns_rr_ttl(rr), TTL_MIN);
	i = find_learned("192.0.2.2");
	assert_true(i >= 0);
	assert_int_equal(learned[i].ttl, TTL_MIN);
	assert_int_equal(learned[i].rule, 1);
	assert_non_null(find_logged("short.example.org"));	/* lower case for name_rule */
	ldns_pkt_free(r);
}

static void t_refused(void **state)
{
	static const char *const names[] = { "secret.example.com", "example.org", "bad.example.org",
					     "x.api.example.com", "exfil-c2vjcmv0.evil.example.net" };
	char line[128];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct logged *l;

		expect_rcode(ask_udp(names[i], LDNS_RR_TYPE_A, 0), LDNS_RCODE_REFUSED);
		snprintf(line, sizeof(line), "%s A udp", names[i]);
		assert_int_equal(upstream_saw(line), 0);
		l = find_logged(names[i]);
		assert_non_null(l);
		assert_int_equal(l->rule, -1);
		assert_int_equal(l->rcode, LDNS_RCODE_REFUSED);
	}
	assert_int_equal(find_learned("192.0.2.66"), -1);
	assert_int_equal(find_learned("192.0.2.67"), -1);
	/* a dot inside a label is not a way under *.example.org */
	expect_rcode(ask_udp("a\\.example.org.evil.net", LDNS_RR_TYPE_A, 0), LDNS_RCODE_REFUSED);
	expect_rcode(ask_udp("x\\000.example.org", LDNS_RR_TYPE_A, 0), LDNS_RCODE_REFUSED);
}

static void t_cname_chain(void **state)
{
	ldns_pkt *r = ask_udp("www.example.org", LDNS_RR_TYPE_A, 0);
	int i;

	(void)state;
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_non_null(answer_rr(r, LDNS_RR_TYPE_CNAME, "c1.example.net."));
	assert_non_null(answer_rr(r, LDNS_RR_TYPE_A, "192.0.2.7"));
	/* every TTL of the reply is clamped, not only the addresses' */
	for (size_t k = 0; k < ldns_rr_list_rr_count(ldns_pkt_answer(r)); k++) {
		uint32_t ttl = ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(r), k));

		assert_true(ttl >= TTL_MIN && ttl <= TTL_MAX);
	}
	i = find_learned("192.0.2.7");
	assert_true(i >= 0);
	assert_int_equal(learned[i].rule, 1);	/* the question's rule */
	assert_int_equal(learned[i].ttl, 60);
	ldns_pkt_free(r);
	/* the chain's targets are not allowed names themselves */
	expect_rcode(ask_udp("c2.example.net", LDNS_RR_TYPE_A, 0), LDNS_RCODE_REFUSED);
}

static void t_aaaa_over_ipv6(void **state)
{
	ldns_pkt *r = ask_udp_at(dns_server_port(srv), AF_INET6, "v6.example.org",
				 LDNS_RR_TYPE_AAAA, 1232);
	int i;

	(void)state;
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_edns(r));	/* EDNS asked, EDNS answered */
	assert_non_null(answer_rr(r, LDNS_RR_TYPE_AAAA, "2001:db8::1"));
	i = find_learned("2001:db8::1");
	assert_true(i >= 0);
	assert_int_equal(learned[i].family, AF_INET6);
	assert_int_equal(learned[i].ttl, TTL_MAX);
	assert_int_equal(upstream_saw("v6.example.org AAAA udp"), 1);
	ldns_pkt_free(r);
}

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* log() names who asked, as the asker hook found it from the client's address. */
static void t_asker(void **state)
{
	ldns_pkt *q, *r;
	const struct logged *l;
	int fd, calls;

	(void)state;
	/* UDP: looked up per datagram, by the datagram's source port */
	fd = udp_client(AF_INET, dns_server_port(srv));
	q = mkquery("who-udp.example.net", LDNS_RR_TYPE_A, 0);
	send_pkt(fd, q, false);
	expect_rcode(udp_recv(fd, 5000), LDNS_RCODE_REFUSED);
	l = find_logged("who-udp.example.net");
	assert_non_null(l);
	assert_true(l->who_known);
	assert_int_equal(l->who.pid, local_port(fd));
	assert_int_equal(l->who.tid, 17);
	assert_string_equal(l->who.comm, "asker");
	ldns_pkt_free(q);
	close(fd);

	/* TCP: once per connection, every query on it carries it */
	pthread_mutex_lock(&mu);
	calls = asker_calls;	/* before connecting: the accept may come at once */
	pthread_mutex_unlock(&mu);
	fd = tcp_client(AF_INET6);
	for (int i = 0; i < 2; i++) {
		q = mkquery(i ? "who-tcp2.example.net" : "who-tcp1.example.net", LDNS_RR_TYPE_A, 0);
		send_pkt(fd, q, true);
		r = tcp_recv(fd);
		expect_rcode(r, LDNS_RCODE_REFUSED);
		ldns_pkt_free(q);
	}
	for (int i = 0; i < 2; i++) {
		l = find_logged(i ? "who-tcp2.example.net" : "who-tcp1.example.net");
		assert_non_null(l);
		assert_true(l->who_known);
		assert_int_equal(l->who.pid, local_port(fd));
		assert_int_equal(l->who.tid, 6);
	}
	pthread_mutex_lock(&mu);
	calls = asker_calls - calls;
	pthread_mutex_unlock(&mu);	/* a failed assert must not leave it held */
	assert_int_equal(calls, 1);
	close(fd);

	/* no record: still answered and logged, without an asker */
	__atomic_store_n(&asker_off, true, __ATOMIC_RELAXED);
	expect_rcode(ask_udp("who-none.example.net", LDNS_RR_TYPE_A, 0), LDNS_RCODE_REFUSED);
	__atomic_store_n(&asker_off, false, __ATOMIC_RELAXED);
	l = find_logged("who-none.example.net");
	assert_non_null(l);
	assert_false(l->who_known);
}

static void t_tcp_pipelined(void **state)
{
	static const char *const names[] = { "api.example.com", "secret.example.com",
					     "v6.example.org", "nothere.example.org" };
	static const ldns_pkt_rcode want[] = { LDNS_RCODE_NOERROR, LDNS_RCODE_REFUSED,
					       LDNS_RCODE_NOERROR, LDNS_RCODE_NXDOMAIN };
	ldns_pkt *q[4];
	bool seen[4] = { false };
	int fd = tcp_client(AF_INET6);

	(void)state;
	/* all four in one go, before reading any reply */
	for (int i = 0; i < 4; i++) {
		q[i] = mkquery(names[i], i == 2 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A, 0);
		send_pkt(fd, q[i], true);
	}
	for (int n = 0; n < 4; n++) {
		ldns_pkt *r = tcp_recv(fd);
		int i;

		assert_non_null(r);
		for (i = 0; i < 4 && ldns_pkt_id(q[i]) != ldns_pkt_id(r); i++)
			;
		assert_true(i < 4 && !seen[i]);
		seen[i] = true;
		assert_int_equal(ldns_pkt_get_rcode(r), want[i]);
		assert_false(ldns_pkt_tc(r));
		ldns_pkt_free(r);
	}
	for (int i = 0; i < 4; i++)
		ldns_pkt_free(q[i]);
	close(fd);
	assert_int_equal(upstream_saw("secret.example.com A tcp"), 0);
}

static void t_truncation(void **state)
{
	ldns_pkt *r, *q;
	int fd;

	(void)state;
	/* plain UDP: 512 bytes, so TC and nothing else */
	r = ask_udp("big.example.org", LDNS_RR_TYPE_A, 0);
	assert_true(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_ancount(r), 0);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	ldns_pkt_free(r);
	/* the upstream truncated too, so the resolver asked again over TCP */
	assert_true(upstream_saw("big.example.org A udp") >= 1);
	assert_true(upstream_saw("big.example.org A tcp") >= 1);
	assert_true(find_learned("198.51.100.1") >= 0);
	assert_true(find_learned("198.51.100.100") >= 0);

	/* the client retries over TCP, as told: everything */
	fd = tcp_client(AF_INET);
	q = mkquery("big.example.org", LDNS_RR_TYPE_A, 0);
	send_pkt(fd, q, true);
	r = tcp_recv(fd);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_id(r), ldns_pkt_id(q));
	assert_false(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_ancount(r), 101);	/* 100 and fakedns's extra record */
	ldns_pkt_free(r);
	ldns_pkt_free(q);
	close(fd);

	/* EDNS 4096 over UDP: fits, no TC */
	r = ask_udp("big.example.org", LDNS_RR_TYPE_A, 4096);
	assert_false(ldns_pkt_tc(r));
	assert_int_equal(ldns_pkt_ancount(r), 101);
	ldns_pkt_free(r);
}

static void t_timeout_servfail(void **state)
{
	int64_t t0 = now_ms(), dt;
	const struct logged *l;

	(void)state;
	expect_rcode(ask_udp("slow.example.org", LDNS_RR_TYPE_A, 0), LDNS_RCODE_SERVFAIL);
	dt = now_ms() - t0;
	if (dt < TIMEOUT_MS - 20 || dt > TIMEOUT_MS + 1500)
		fail_msg("SERVFAIL after %lld ms, want about %d", (long long)dt, TIMEOUT_MS);
	assert_true(upstream_saw("slow.example.org A udp") >= 1);
	l = find_logged("slow.example.org");
	assert_non_null(l);
	assert_int_equal(l->rcode, LDNS_RCODE_SERVFAIL);
	/* an upstream's SERVFAIL is passed on as SERVFAIL */
	expect_rcode(ask_udp("sf.example.org", LDNS_RR_TYPE_A, 0), LDNS_RCODE_SERVFAIL);
}

/* A silent upstream does not hold up the other queries. */
static void t_parallel(void **state)
{
	int fd = udp_client(AF_INET, dns_server_port(srv));
	ldns_pkt *slow = mkquery("slow.example.org", LDNS_RR_TYPE_A, 0), *r;
	int64_t t0;

	(void)state;
	send_pkt(fd, slow, false);
	t0 = now_ms();
	r = ask_udp("api.example.com", LDNS_RR_TYPE_A, 0);
	/* answered while the silent one is still waiting for its timeout */
	assert_false(wait_in(fd, 0));
	assert_true(now_ms() - t0 < TIMEOUT_MS);
	expect_rcode(r, LDNS_RCODE_NOERROR);
	r = udp_recv(fd, 5000);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_id(r), ldns_pkt_id(slow));
	expect_rcode(r, LDNS_RCODE_SERVFAIL);
	ldns_pkt_free(slow);
	close(fd);
}

static void t_garbage(void **state)
{
	int fd = udp_client(AF_INET, dns_server_port(srv));
	uint8_t junk[512];
	ldns_pkt *p, *r;

	(void)state;
	srand(42);
	for (int i = 0; i < 200; i++) {
		size_t n = 1 + rand() % sizeof(junk);

		for (size_t k = 0; k < n; k++)
			junk[k] = rand();
		junk[2] &= 0x7f;	/* QR=0: a "query" that ldns must reject or we answer */
		assert_int_equal(send(fd, junk, n, 0), n);
	}
	assert_int_equal(send(fd, "", 0, 0), 0);
	/* a response (QR=1) for an allowed name: dropped, never forwarded */
	p = mkquery("resp.example.org", LDNS_RR_TYPE_A, 0);
	ldns_pkt_set_qr(p, true);
	send_pkt(fd, p, false);
	ldns_pkt_free(p);
	/* two questions: FORMERR (or nothing), never forwarded */
	p = mkquery("two1.example.org", LDNS_RR_TYPE_A, 0);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION,
			 ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(p), 0)));
	send_pkt(fd, p, false);
	r = udp_recv(fd, 1000);
	/* whatever the junk drew out, it is a FORMERR/REFUSED/NOTIMP/SERVFAIL, never data */
	while (r) {
		assert_int_equal(ldns_pkt_ancount(r), 0);
		ldns_pkt_free(r);
		r = udp_recv(fd, 200);
	}
	ldns_pkt_free(p);
	close(fd);

	/* junk over TCP: a bogus message, then a valid one on the same stream */
	fd = tcp_client(AF_INET);
	assert_int_equal(write(fd, "\x00\x05hello", 7), 7);
	p = mkquery("api.example.com", LDNS_RR_TYPE_A, 0);
	send_pkt(fd, p, true);
	r = tcp_recv(fd);
	assert_non_null(r);
	assert_int_equal(ldns_pkt_id(r), ldns_pkt_id(p));
	expect_rcode(r, LDNS_RCODE_NOERROR);
	ldns_pkt_free(p);
	close(fd);

	assert_int_equal(upstream_saw("resp.example.org A udp"), 0);
	assert_int_equal(upstream_saw("two1.example.org A udp"), 0);
	/* still alive and well */
	expect_rcode(ask_udp("api.example.com", LDNS_RR_TYPE_A, 0), LDNS_RCODE_NOERROR);
}

static void t_learn_fails(void **state)
{
	ldns_pkt *r = ask_udp("fail.example.org", LDNS_RR_TYPE_A, 0);

	(void)state;
	/* the kernel could not take the address: the agent never sees it */
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_SERVFAIL);
	assert_int_equal(ldns_pkt_ancount(r), 0);
	assert_int_equal(find_logged("fail.example.org")->rcode, LDNS_RCODE_SERVFAIL);
	ldns_pkt_free(r);
}

static void t_other_types(void **state)
{
	ldns_pkt *r = ask_udp("mx.example.org", LDNS_RR_TYPE_MX, 0);

	(void)state;
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_non_null(answer_rr(r, LDNS_RR_TYPE_MX, NULL));
	assert_int_equal(upstream_saw("mx.example.org MX udp"), 1);
	/* the MX target's address is not learned: only A/AAAA of the asked name */
	assert_int_equal(find_learned("192.0.2.25"), -1);
	ldns_pkt_free(r);
	expect_rcode(ask_udp("nothere.example.org", LDNS_RR_TYPE_TXT, 0), LDNS_RCODE_NXDOMAIN);
}

/* Other servers of this test, each with its own upstreams. */
static struct dns_server *start_with(int n, const uint16_t *ports)
{
	struct dns_config c;
	struct dns_server *s;

	config(&c, n, ports);
	assert_int_equal(dns_server_start(&s, &c, &HOOKS), 0);
	return s;
}

/* A UDP port nothing listens on. */
static uint16_t closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	close(fd);
	return ntohs(a.sin_port);
}

static void t_upstreams_in_order(void **state)
{
	uint16_t ports[2] = { closed_port(), fake_port };
	uint16_t both[2] = { fake_port, fake_port };
	struct dns_server *s = start_with(2, ports);
	int before = upstream_saw("slow.example.org A udp");
	int64_t t0, dt;

	(void)state;
	/* the first upstream refuses (ICMP): the second answers */
	expect_rcode(ask_udp_at(dns_server_port(s), AF_INET, "api.example.com", LDNS_RR_TYPE_A, 0),
		     LDNS_RCODE_NOERROR);
	dns_server_stop(s);

	/* two silent upstreams: SERVFAIL once each has had its timeout */
	s = start_with(2, both);
	t0 = now_ms();
	expect_rcode(ask_udp_at(dns_server_port(s), AF_INET, "slow.example.org", LDNS_RR_TYPE_A, 0),
		     LDNS_RCODE_SERVFAIL);
	dt = now_ms() - t0;
	if (dt < 2 * TIMEOUT_MS - 20 || dt > 2 * TIMEOUT_MS + 1500)
		fail_msg("SERVFAIL after %lld ms, want about %d", (long long)dt, 2 * TIMEOUT_MS);
	assert_int_equal(upstream_saw("slow.example.org A udp"), before + 2);
	dns_server_stop(s);
}

static void t_no_upstream(void **state)
{
	struct dns_server *s = start_with(0, NULL);

	(void)state;
	/* never an answer from nowhere */
	expect_rcode(ask_udp_at(dns_server_port(s), AF_INET, "api.example.com", LDNS_RR_TYPE_A, 0),
		     LDNS_RCODE_SERVFAIL);
	expect_rcode(ask_udp_at(dns_server_port(s), AF_INET, "secret.example.com", LDNS_RR_TYPE_A, 0),
		     LDNS_RCODE_REFUSED);
	dns_server_stop(s);
}

static void t_start_errors(void **state)
{
	struct dns_config c;
	struct dns_server *s = NULL;
	struct dns_hooks nolearn = HOOKS;

	(void)state;
	config(&c, 1, &fake_port);
	c.port = dns_server_port(srv);	/* taken: fail early, say so */
	assert_int_equal(dns_server_start(&s, &c, &HOOKS), -EADDRINUSE);
	c.port = 0;
	nolearn.learn = NULL;
	assert_int_equal(dns_server_start(&s, &c, &nolearn), -EINVAL);
	c.ttl_min = 200;
	c.ttl_max = 100;
	assert_int_equal(dns_server_start(&s, &c, &HOOKS), -EINVAL);
	c.ttl_min = TTL_MIN;
	c.nupstream = 5;
	assert_int_equal(dns_server_start(&s, &c, &HOOKS), -EINVAL);
	assert_null(s);
}

/* A flood of queries that never finish: bounded, and the resolver recovers. */
static void t_flood(void **state)
{
	int fd = udp_client(AF_INET, dns_server_port(srv));
	int before = upstream_saw("slow.example.org A udp"), forwarded;
	uint64_t dropped = dns_server_dropped(srv);
	ldns_pkt *q = mkquery("slow.example.org", LDNS_RR_TYPE_A, 0);

	(void)state;
	for (int i = 0; i < 2000; i++) {
		ldns_pkt_set_id(q, i);
		send_pkt(fd, q, false);
	}
	ldns_pkt_free(q);
	/* Until the upstream has seen every forwarded query: the count stops
	 * moving (a loaded machine may take longer than the timeout). */
	usleep((TIMEOUT_MS + 400) * 1000);
	for (int still = 0, last = -1, waited = 0; still < 3 && waited < 10000; waited += 200) {
		forwarded = upstream_saw("slow.example.org A udp") - before;
		still = forwarded == last ? still + 1 : 0;
		last = forwarded;
		usleep(200 * 1000);
	}
	forwarded = upstream_saw("slow.example.org A udp") - before;
	if (forwarded < 1 || forwarded > 256 * 2)
		fail_msg("%d of 2000 flooding queries forwarded; the table holds 256", forwarded);
	/*
	 * What the resolver read but could not take was counted (the kernel's
	 * socket buffer drops the rest before the resolver sees it).
	 */
	if (forwarded >= 256 && dns_server_dropped(srv) == dropped)
		fail_msg("table full after %d queries, yet nothing counted as dropped", forwarded);
	close(fd);
	/* The flood's entries time out and free the table: a new query is then
	 * answered (asked again while a loaded machine is still expiring them). */
	for (int i = 0;; i++) {
		int c = udp_client(AF_INET, dns_server_port(srv));
		ldns_pkt *ask = mkquery("api.example.com", LDNS_RR_TYPE_A, 0), *r;

		send_pkt(c, ask, false);
		r = udp_recv(c, 1000);
		close(c);
		ldns_pkt_free(ask);
		if (r) {
			expect_rcode(r, LDNS_RCODE_NOERROR);
			break;
		}
		if (i == 10)
			fail_msg("no answer within 11 s of the flood: the table stays full");
	}
}

static void t_tcp_connection_cap(void **state)
{
	int fds[80], refused = 0, fd;
	ldns_pkt *q, *r;

	(void)state;
	for (int i = 0; i < 80; i++)
		fds[i] = tcp_client(AF_INET);
	/* beyond 64, the resolver closes them */
	for (int i = 0; i < 80; i++) {
		uint8_t b;

		if (wait_in(fds[i], i < 60 ? 0 : 1000) && read(fds[i], &b, 1) <= 0)
			refused++;
	}
	if (refused != 16)
		fail_msg("%d of 80 connections closed, want 16", refused);
	assert_true(dns_server_dropped(srv) >= 16);
	for (int i = 0; i < 80; i++)
		close(fds[i]);
	usleep(100 * 1000);
	fd = tcp_client(AF_INET);
	q = mkquery("api.example.com", LDNS_RR_TYPE_A, 0);
	send_pkt(fd, q, true);
	r = tcp_recv(fd);
	expect_rcode(r, LDNS_RCODE_NOERROR);
	ldns_pkt_free(q);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_host_rule),
		cmocka_unit_test(t_resolv_conf),
		cmocka_unit_test(t_allowed_a),
		cmocka_unit_test(t_refused),
		cmocka_unit_test(t_cname_chain),
		cmocka_unit_test(t_aaaa_over_ipv6),
		cmocka_unit_test(t_asker),
		cmocka_unit_test(t_tcp_pipelined),
		cmocka_unit_test(t_truncation),
		cmocka_unit_test(t_timeout_servfail),
		cmocka_unit_test(t_parallel),
		cmocka_unit_test(t_garbage),
		cmocka_unit_test(t_learn_fails),
		cmocka_unit_test(t_other_types),
		cmocka_unit_test(t_upstreams_in_order),
		cmocka_unit_test(t_no_upstream),
		cmocka_unit_test(t_start_errors),
		cmocka_unit_test(t_flood),
		cmocka_unit_test(t_tcp_connection_cap),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
