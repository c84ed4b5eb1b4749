// SPDX-License-Identifier: GPL-2.0
/*
 * fakedns: a real upstream DNS server on 127.0.0.1 for tests, UDP and TCP
 * on one port, serving a zone given as resource records in presentation
 * format ("www.example.org. 300 IN CNAME c.example.net.").
 *
 *   fakedns [-p PORT] [-l LOG] [-z ZONEFILE] [-s NAME]... [-f NAME]... [-x RR]... [-r] [RR...]
 *
 *   -p PORT   port to listen on (default 0: any; the port is printed on stdout)
 *   -l LOG    append "NAME TYPE udp|tcp" for every query received
 *   -z FILE   records, one a line (';' or '#' start a comment)
 *   -s NAME   never answer questions for NAME (for timeouts)
 *   -f NAME   answer SERVFAIL for NAME
 *   -x RR     add RR to the answer section of every answer (an unrelated record)
 *   -r        answer records in reverse order (CNAME chains out of order)
 *
 * Answers: the records of the name and type asked, following CNAMEs; NXDOMAIN
 * when the zone has nothing under that name. A UDP answer larger than 512
 * bytes (or the query's EDNS size) goes out as header and question with TC.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ldns/ldns.h>

#define MAX_NAMES 32

static ldns_rr_list *zone, *extra;
static const char *silent[MAX_NAMES], *servfail[MAX_NAMES];
static int nsilent, nservfail;
static bool reverse;
static int logfd = -1;

static void die(const char *what)
{
	fprintf(stderr, "fakedns: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void add_rr(ldns_rr_list *l, const char *text)
{
	ldns_rr *rr;
	ldns_status st = ldns_rr_new_frm_str(&rr, text, 3600, NULL, NULL);

	if (st != LDNS_STATUS_OK) {
		fprintf(stderr, "fakedns: bad record \"%s\": %s\n", text, ldns_get_errorstr_by_id(st));
		exit(2);
	}
	ldns_rr_list_push_rr(l, rr);
}

static void load_zone(const char *path)
{
	char line[4096];
	FILE *f = fopen(path, "r");

	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n;#")] = '\0';
		if (strspn(line, " \t") != strlen(line))
			add_rr(zone, line);
	}
	fclose(f);
}

static bool listed(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcasecmp(names[i], name))
			return true;
	return false;
}

/* lower case, without the trailing dot */
static char *name_str(const ldns_rdf *d)
{
	char *s = ldns_rdf2str(d);
	size_t n = strlen(s);

	if (n > 1 && s[n - 1] == '.')
		s[n - 1] = '\0';
	for (char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	return s;
}

static void log_query(const char *name, ldns_rr_type type, const char *transport)
{
	char *t = ldns_rr_type2str(type), line[512];
	int n = snprintf(line, sizeof(line), "%s %s %s\n", name, t, transport);

	free(t);
	if (logfd >= 0 && write(logfd, line, n) != n)
		die("log");
}

/* Records of @name and @type in the zone, appended to @ans; true if any. */
static bool find(const ldns_rdf *name, ldns_rr_type type, ldns_rr_list *ans)
{
	bool found = false;

	for (size_t i = 0; i < ldns_rr_list_rr_count(zone); i++) {
		ldns_rr *rr = ldns_rr_list_rr(zone, i);

		if (!ldns_dname_compare(ldns_rr_owner(rr), name) &&
		    (ldns_rr_get_type(rr) == type || type == LDNS_RR_TYPE_ANY)) {
			ldns_rr_list_push_rr(ans, ldns_rr_clone(rr));
			found = true;
		}
	}
	return found;
}

static bool name_exists(const ldns_rdf *name)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(zone); i++)
		if (!ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(zone, i)), name))
			return true;
	return false;
}

/* The answer section for @qname/@qtype, following CNAMEs. */
static ldns_rr_list *answer(const ldns_rdf *qname, ldns_rr_type qtype)
{
	ldns_rr_list *ans = ldns_rr_list_new(), *cn = ldns_rr_list_new();
	const ldns_rdf *cur = qname;

	for (int hop = 0; hop < 8 && !find(cur, qtype, ans); hop++) {
		ldns_rr_list_free(cn);
		cn = ldns_rr_list_new();
		if (qtype == LDNS_RR_TYPE_CNAME || !find(cur, LDNS_RR_TYPE_CNAME, cn))
			break;
		ldns_rr_list_push_rr(ans, ldns_rr_list_rr(cn, 0));
		cur = ldns_rr_rdf(ldns_rr_list_rr(cn, 0), 0);
	}
	ldns_rr_list_free(cn);
	return ans;
}

/* The reply to wire message @msg, NULL to stay silent. */
static ldns_pkt *respond(const uint8_t *msg, size_t len, bool tcp, size_t *limit)
{
	ldns_pkt *q = NULL, *r;
	ldns_rr *qrr;
	ldns_rr_list *ans;
	char *name;

	if (ldns_wire2pkt(&q, msg, len) != LDNS_STATUS_OK || ldns_pkt_qdcount(q) != 1) {
		ldns_pkt_free(q);
		return NULL;
	}
	qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	name = name_str(ldns_rr_owner(qrr));
	log_query(name, ldns_rr_get_type(qrr), tcp ? "tcp" : "udp");
	*limit = ldns_pkt_edns(q) && ldns_pkt_edns_udp_size(q) > 512 ? ldns_pkt_edns_udp_size(q) : 512;
	if (listed(silent, nsilent, name)) {
		free(name);
		ldns_pkt_free(q);
		return NULL;
	}
	r = ldns_pkt_new();
	ldns_pkt_set_id(r, ldns_pkt_id(q));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_aa(r, true);
	ldns_pkt_set_rd(r, ldns_pkt_rd(q));
	ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(qrr));
	if (ldns_pkt_edns(q))
		ldns_pkt_set_edns_udp_size(r, 4096);
	if (listed(servfail, nservfail, name)) {
		ldns_pkt_set_rcode(r, LDNS_RCODE_SERVFAIL);
	} else {
		ans = answer(ldns_rr_owner(qrr), ldns_rr_get_type(qrr));
		if (!ldns_rr_list_rr_count(ans) && !name_exists(ldns_rr_owner(qrr)))
			ldns_pkt_set_rcode(r, LDNS_RCODE_NXDOMAIN);
		for (size_t i = 0; ldns_rr_list_rr_count(ans) && i < ldns_rr_list_rr_count(extra); i++)
			ldns_rr_list_push_rr(ans, ldns_rr_clone(ldns_rr_list_rr(extra, i)));
		for (size_t i = 0, n = ldns_rr_list_rr_count(ans); i < n; i++)
			ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER,
					 ldns_rr_list_rr(ans, reverse ? n - 1 - i : i));
		ldns_rr_list_free(ans);
	}
	free(name);
	ldns_pkt_free(q);
	return r;
}

/* @r as wire bytes; over UDP, cut to header and question with TC when too big. */
static uint8_t *encode(ldns_pkt *r, bool tcp, size_t limit, size_t *len)
{
	uint8_t *wire = NULL;

	if (ldns_pkt2wire(&wire, r, len) != LDNS_STATUS_OK)
		return NULL;
	if (tcp || *len <= limit)
		return wire;
	free(wire);
	wire = NULL;
	ldns_rr_list_deep_free(ldns_pkt_answer(r));
	ldns_pkt_set_answer(r, ldns_rr_list_new());
	ldns_pkt_set_ancount(r, 0);
	ldns_pkt_set_tc(r, true);
	if (ldns_pkt2wire(&wire, r, len) != LDNS_STATUS_OK)
		return NULL;
	return wire;
}

static void serve_udp(int fd)
{
	uint8_t buf[65535], *wire;
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);
	size_t len, limit = 512;
	ldns_pkt *r;

	if (n < 0)
		return;
	r = respond(buf, n, false, &limit);
	if (!r)
		return;
	wire = encode(r, false, limit, &len);
	if (wire)
		sendto(fd, wire, len, 0, (struct sockaddr *)&peer, plen);
	free(wire);
	ldns_pkt_free(r);
}

static bool read_full(int fd, uint8_t *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (size_t off = 0; off < len;) {
		ssize_t n;

		if (poll(&p, 1, 3000) <= 0)
			return false;
		n = read(fd, buf + off, len - off);
		if (n <= 0)
			return false;
		off += n;
	}
	return true;
}

/* One client connection: length-prefixed queries until it closes. */
static void serve_tcp(int lfd)
{
	int fd = accept(lfd, NULL, NULL);
	uint8_t buf[2 + 65535], *wire;
	size_t len, limit;
	ldns_pkt *r;

	if (fd < 0)
		return;
	while (read_full(fd, buf, 2) && read_full(fd, buf + 2, buf[0] << 8 | buf[1])) {
		r = respond(buf + 2, buf[0] << 8 | buf[1], true, &limit);
		if (!r)
			continue;
		wire = encode(r, true, 0, &len);
		ldns_pkt_free(r);
		if (!wire)
			continue;
		buf[0] = len >> 8;
		buf[1] = len & 0xff;
		memcpy(buf + 2, wire, len);
		free(wire);
		if (write(fd, buf, 2 + len) != (ssize_t)(2 + len))
			break;
	}
	close(fd);
}

static int bind_lo(int type, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, type, 0), one = 1;

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	if (type == SOCK_STREAM && listen(fd, 16) < 0)
		die("listen");
	return fd;
}

/* UDP and TCP on one port: the kernel picks the UDP one when @port is 0. */
static void listen_both(uint16_t port, int *udp, int *tcp)
{
	for (int tries = 0; tries < 32; tries++) {
		struct sockaddr_in a;
		socklen_t len = sizeof(a);

		*udp = bind_lo(SOCK_DGRAM, port);
		if (*udp < 0)
			die("bind udp");
		getsockname(*udp, (struct sockaddr *)&a, &len);
		*tcp = bind_lo(SOCK_STREAM, ntohs(a.sin_port));
		if (*tcp >= 0) {
			printf("%u\n", ntohs(a.sin_port));
			fflush(stdout);
			return;
		}
		close(*udp);
		if (port)
			break;
	}
	die("bind tcp");
}

int main(int argc, char **argv)
{
	uint16_t port = 0;
	int opt, udp, tcp;

	zone = ldns_rr_list_new();
	extra = ldns_rr_list_new();
	while ((opt = getopt(argc, argv, "p:l:z:s:f:x:r")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'l':
			logfd = open(optarg, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
			if (logfd < 0)
				die(optarg);
			break;
		case 'z': load_zone(optarg); break;
		case 's': if (nsilent < MAX_NAMES) silent[nsilent++] = optarg; break;
		case 'f': if (nservfail < MAX_NAMES) servfail[nservfail++] = optarg; break;
		case 'x': add_rr(extra, optarg); break;
		case 'r': reverse = true; break;
		default:
			fprintf(stderr, "usage: fakedns [-p PORT] [-l LOG] [-z ZONE] [-s NAME] [-f NAME] [-x RR] [-r] [RR...]\n");
			return 2;
		}
	}
	for (int i = optind; i < argc; i++)
		add_rr(zone, argv[i]);
	listen_both(port, &udp, &tcp);
	for (;;) {
		struct pollfd p[2] = { { .fd = udp, .events = POLLIN }, { .fd = tcp, .events = POLLIN } };

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			die("poll");
		if (p[0].revents)
			serve_udp(udp);
		if (p[1].revents)
			serve_tcp(tcp);
	}
}
