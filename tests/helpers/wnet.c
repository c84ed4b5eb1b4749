// SPDX-License-Identifier: GPL-2.0
/*
 * wnet: the network calls enforcement tests need, each done the way an
 * agent would, printing "ok" or the errno's name (EPERM...).
 *
 *   wnet connect tcp|udp|mptcp ADDR PORT   connect(2) (udp: then send)
 *   wnet sendto ADDR PORT                  UDP sendto(2), unconnected
 *   wnet sendmsg ADDR PORT                 UDP sendmsg(2) with msg_name
 *   wnet sendmmsg ADDR PORT                UDP sendmmsg(2), two messages
 *   wnet tfo ADDR PORT                     TCP fast open: sendto(MSG_FASTOPEN)
 *   wnet uring-connect ADDR PORT           TCP connect through io_uring
 *   wnet uring-sendmsg ADDR PORT           UDP sendmsg through io_uring
 *   wnet bind tcp|udp ADDR PORT            bind(2)
 *   wnet listen 4|6                        listen(2) on a TCP socket never bound
 *   wnet srcroute ADDR PORT HOP setsockopt|cmsg|uring   UDP to ADDR with a source route via HOP
 *   wnet capture HOP SECONDS               watch lo for UDP to HOP ("ready", then seen/none)
 *   wnet peer tcp ADDR PORT                connect, print the peer getpeername(2) gives
 *   wnet socket raw|packet|icmp|sctp|udplite   socket(2) of that kind
 *   wnet unix PATH | unix-dgram PATH       connect / sendto a path-named unix socket
 *   wnet abstract NAME                     connect to the abstract unix socket @NAME
 *   wnet serve tcp|udp ADDR PORT           echo server, forever (prints "ready")
 *   wnet serve-unix PATH | serve-abstract NAME   stream server, forever
 *   wnet query SERVER NAME [tcp] [aaaa]    a DNS query for NAME; prints the rcode
 *                                          name and each address, one per line
 *
 * ADDR may be IPv4, IPv6 or v4-mapped (::ffff:a.b.c.d, sent on an IPv6 socket).
 * Exit: 0 ok, 1 EPERM/EACCES, 2 anything else.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static socklen_t make_addr(const char *addr, const char *port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (void *)ss;
	struct sockaddr_in6 *in6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(atoi(port));
		return sizeof(*in);
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(atoi(port));
		return sizeof(*in6);
	}
	fprintf(stderr, "wnet: bad address %s\n", addr);
	exit(2);
}

static const char *errname(int e)
{
	switch (e) {
	case 0: return "ok";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case ENETUNREACH: return "ENETUNREACH";
	case EINPROGRESS: return "EINPROGRESS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	}
	return strerror(e);
}

static int tcp_connect(int proto, const char *a, const char *p)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(a, p, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, proto), e;

	if (fd < 0)
		return errno;
	e = connect(fd, (void *)&ss, len) ? errno : 0;
	close(fd);
	return e;
}

static int udp_connect(const char *a, const char *p)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(a, p, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0), e;

	if (fd < 0)
		return errno;
	e = connect(fd, (void *)&ss, len) || send(fd, "x", 1, 0) < 0 ? errno : 0;
	close(fd);
	return e;
}

static int udp_send(const char *how, const char *a, const char *p)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(a, p, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0), e = 0;
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct mmsghdr mm[2];

	if (fd < 0)
		return errno;
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < 2; i++) {
		mm[i].msg_hdr.msg_name = &ss;
		mm[i].msg_hdr.msg_namelen = len;
		mm[i].msg_hdr.msg_iov = &iov;
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	if (!strcmp(how, "sendto"))
		e = sendto(fd, "x", 1, 0, (void *)&ss, len) < 0 ? errno : 0;
	else if (!strcmp(how, "sendmsg"))
		e = sendmsg(fd, &mm[0].msg_hdr, 0) < 0 ? errno : 0;
	else
		e = sendmmsg(fd, mm, 2, 0) != 2 ? (errno ? errno : EIO) : 0;
	close(fd);
	return e;
}

static int tfo(const char *a, const char *p)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(a, p, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0), e;

	if (fd < 0)
		return errno;
	e = sendto(fd, "x", 1, MSG_FASTOPEN, (void *)&ss, len) < 0 ? errno : 0;
	close(fd);
	return e;
}

/* One io_uring operation, with raw system calls; returns its result as an errno. */
static int uring_one(struct io_uring_sqe *want)
{
	struct io_uring_params prm = { 0 };
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	unsigned *sq_tail, *sq_array, *cq_head, *cq_tail;
	void *sq, *cq;
	int ring, res;

	ring = syscall(SYS_io_uring_setup, 4, &prm);
	if (ring < 0)
		return errno;
	sq = mmap(NULL, prm.sq_off.array + prm.sq_entries * sizeof(unsigned),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	cq = mmap(NULL, prm.cq_off.cqes + prm.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, prm.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return errno;
	sq_tail = (unsigned *)((char *)sq + prm.sq_off.tail);
	sq_array = (unsigned *)((char *)sq + prm.sq_off.array);
	cq_head = (unsigned *)((char *)cq + prm.cq_off.head);
	cq_tail = (unsigned *)((char *)cq + prm.cq_off.tail);
	cqes = (struct io_uring_cqe *)((char *)cq + prm.cq_off.cqes);
	sqes[0] = *want;
	sq_array[0] = 0;
	__atomic_store_n(sq_tail, *sq_tail + 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return errno;
	if (__atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) == *cq_head)
		return EIO;
	res = cqes[*cq_head & (prm.cq_entries - 1)].res;
	close(ring);
	return res < 0 ? -res : 0;
}

/*
 * setsockopt(2) through io_uring (IORING_OP_URING_CMD, SOCKET_URING_OP_SETSOCKOPT,
 * 6.7 and later): the fields by their offsets in the 6.1 header's names
 * (cmd_op in off, level and optname in addr, optlen in splice_fd_in, optval
 * in addr3). EOPNOTSUPP on kernels without socket commands.
 */
#define SOCKET_URING_OP_SETSOCKOPT 3

static int uring_setsockopt(int fd, int level, int optname, const void *val, unsigned len)
{
	struct io_uring_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = IORING_OP_URING_CMD;
	sqe.fd = fd;
	sqe.off = SOCKET_URING_OP_SETSOCKOPT;
	sqe.addr = (unsigned)level | (unsigned long long)(unsigned)optname << 32;
	sqe.splice_fd_in = (int)len;
	sqe.addr3 = (unsigned long long)(unsigned long)val;
	return uring_one(&sqe);
}

static int uring(const char *how, const char *a, const char *p)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(a, p, &ss);
	bool tcp = !strcmp(how, "uring-connect");
	int fd = socket(ss.ss_family, tcp ? SOCK_STREAM : SOCK_DGRAM, 0), e;
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr mh = { .msg_name = &ss, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1 };
	struct io_uring_sqe sqe;

	if (fd < 0)
		return errno;
	memset(&sqe, 0, sizeof(sqe));
	sqe.fd = fd;
	if (tcp) {
		sqe.opcode = IORING_OP_CONNECT;
		sqe.addr = (unsigned long)&ss;
		sqe.off = len;
	} else {
		sqe.opcode = IORING_OP_SENDMSG;
		sqe.addr = (unsigned long)&mh;
		sqe.len = 1;
	}
	e = uring_one(&sqe);
	close(fd);
	return e;
}

static int do_bind(const char *proto, const char *a, const char *p)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(a, p, &ss);
	int fd = socket(ss.ss_family, strcmp(proto, "udp") ? SOCK_STREAM : SOCK_DGRAM, 0), e;

	if (fd < 0)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	e = bind(fd, (void *)&ss, len) ? errno : 0;
	close(fd);
	return e;
}

/* listen(2) on a TCP socket of @family (4 or 6) never bound: the kernel picks the port. */
static int listen_unbound(const char *family)
{
	int fd = socket(strcmp(family, "6") ? AF_INET : AF_INET6, SOCK_STREAM, 0), e;

	if (fd < 0)
		return errno;
	e = listen(fd, 1) ? errno : 0;
	close(fd);
	return e;
}

/*
 * UDP to ADDR:PORT with a loose source route through HOP, set by @how:
 * setsockopt(IP_OPTIONS) or an IP_RETOPTS control message. The kernel then
 * sends the packet to HOP (its first hop), not to ADDR.
 */
/*
 * The same over IPv6: a type 2 routing header (one address, the hop) by
 * setsockopt(IPV6_RTHDR) or an IPV6_RTHDR control message; the kernel sends
 * the packet to that address (fl6_update_dst).
 */
static int srcroute6(const char *addr, const char *port, const char *hop, const char *how)
{
	unsigned char rh[24] = { 0 /* next header: the kernel's */, 2 /* hdrlen */, 2 /* type */, 1 };
	char ctl[CMSG_SPACE(sizeof(rh))] = {0};
	struct sockaddr_in6 dst = { .sin6_family = AF_INET6, .sin6_port = htons(atoi(port)) };
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr m = { .msg_name = &dst, .msg_namelen = sizeof(dst), .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	int fd, e = 0;

	if (inet_pton(AF_INET6, addr, &dst.sin6_addr) != 1 || inet_pton(AF_INET6, hop, rh + 8) != 1)
		return EINVAL;
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (!strcmp(how, "setsockopt")) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_RTHDR, rh, sizeof(rh)))
			e = errno;
	} else if (!strcmp(how, "uring")) {
		e = uring_setsockopt(fd, IPPROTO_IPV6, IPV6_RTHDR, rh, sizeof(rh));
	} else {
		m.msg_control = ctl;
		m.msg_controllen = sizeof(ctl);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_RTHDR;
		c->cmsg_len = CMSG_LEN(sizeof(rh));
		memcpy(CMSG_DATA(c), rh, sizeof(rh));
	}
	if (!e && sendmsg(fd, &m, 0) < 0)
		e = errno;
	close(fd);
	return e;
}

static int srcroute(const char *addr, const char *port, const char *hop, const char *how)
{
	unsigned char opt[8] = { 1 /* NOP */, 131 /* LSRR */, 7, 4 };
	char ctl[CMSG_SPACE(sizeof(opt))] = {0};
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr m = { .msg_name = &dst, .msg_namelen = sizeof(dst), .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	int fd, e = 0;

	if (strchr(addr, ':'))
		return srcroute6(addr, port, hop, how);
	if (inet_pton(AF_INET, addr, &dst.sin_addr) != 1 || inet_pton(AF_INET, hop, opt + 4) != 1)
		return EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (!strcmp(how, "setsockopt")) {
		if (setsockopt(fd, IPPROTO_IP, IP_OPTIONS, opt, sizeof(opt)))
			e = errno;
	} else if (!strcmp(how, "uring")) {
		e = uring_setsockopt(fd, IPPROTO_IP, IP_OPTIONS, opt, sizeof(opt));
	} else {
		m.msg_control = ctl;
		m.msg_controllen = sizeof(ctl);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_RETOPTS;
		c->cmsg_len = CMSG_LEN(sizeof(opt));
		memcpy(CMSG_DATA(c), opt, sizeof(opt));
	}
	if (!e && sendmsg(fd, &m, 0) < 0)
		e = errno;
	close(fd);
	return e;
}

/*
 * Watch loopback for SECONDS (or until SIGTERM) for a packet to HOP:
 * prints "ready", then "seen" (exit 0) or "none" (exit 1). Run outside any
 * agent (a packet socket).
 */
static volatile sig_atomic_t capture_stop;

static void on_term(int sig)
{
	(void)sig;
	capture_stop = 1;
}

static int capture(const char *hop, const char *seconds)
{
	struct timeval tv = { .tv_usec = 100000 };
	bool v6 = strchr(hop, ':');
	int eth = v6 ? ETH_P_IPV6 : ETH_P_IP;
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(eth) };
	unsigned char want[16], buf[2048];
	int fd, rounds = atoi(seconds) * 10;

	if (inet_pton(v6 ? AF_INET6 : AF_INET, hop, want) != 1)
		return EINVAL;
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(eth));
	ll.sll_ifindex = if_nametoindex("lo");
	if (fd < 0 || !ll.sll_ifindex || bind(fd, (void *)&ll, sizeof(ll)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return errno;
	signal(SIGTERM, on_term);
	printf("ready\n");
	fflush(stdout);
	while (rounds-- > 0 && !capture_stop) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct iphdr *ip = (void *)buf;

		struct ip6_hdr *ip6 = (void *)buf;

		/* IPv6: to the hop, carrying a routing header (the route's own packet). */
		if (v6 ? n >= (ssize_t)sizeof(*ip6) && ip6->ip6_nxt == IPPROTO_ROUTING &&
			     !memcmp(&ip6->ip6_dst, want, 16)
		       : n >= (ssize_t)sizeof(*ip) && ip->protocol == IPPROTO_UDP &&
			     !memcmp(&ip->daddr, want, 4)) {
			printf("seen\n");
			exit(0);
		}
	}
	printf("none\n");
	exit(1);
}

static int peer(const char *a, const char *p)
{
	struct sockaddr_storage ss, got;
	socklen_t len = make_addr(a, p, &ss), glen = sizeof(got);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);
	char buf[INET6_ADDRSTRLEN];
	void *ip;
	int port;

	if (fd < 0 || connect(fd, (void *)&ss, len) || getpeername(fd, (void *)&got, &glen))
		return errno;
	if (got.ss_family == AF_INET) {
		ip = &((struct sockaddr_in *)&got)->sin_addr;
		port = ntohs(((struct sockaddr_in *)&got)->sin_port);
	} else {
		ip = &((struct sockaddr_in6 *)&got)->sin6_addr;
		port = ntohs(((struct sockaddr_in6 *)&got)->sin6_port);
	}
	inet_ntop(got.ss_family, ip, buf, sizeof(buf));
	printf("peer %s %d\n", buf, port);
	close(fd);
	return 0;
}

static int make_socket(const char *kind)
{
	static const struct { const char *name; int family, type, proto; } kinds[] = {
		{ "raw", AF_INET, SOCK_RAW, IPPROTO_ICMP },
		{ "raw6", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 },
		{ "packet", AF_PACKET, SOCK_RAW, 0 },
		{ "icmp", AF_INET, SOCK_DGRAM, IPPROTO_ICMP },
		{ "sctp", AF_INET, SOCK_STREAM, IPPROTO_SCTP },
		{ "udplite", AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE },
		{ "tcp", AF_INET, SOCK_STREAM, 0 },
		{ "mptcp", AF_INET, SOCK_STREAM, IPPROTO_MPTCP },
		{ "udp", AF_INET6, SOCK_DGRAM, 0 },
		{ "xdp", 44 /* AF_XDP */, SOCK_RAW, 0 },
		{ "netlink", AF_NETLINK, SOCK_RAW, 0 /* NETLINK_ROUTE */ },
		{ "vsock", 40 /* AF_VSOCK */, SOCK_STREAM, 0 },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kind, kinds[i].name))
			continue;
		int fd = socket(kinds[i].family, kinds[i].type, kinds[i].proto);

		if (fd < 0)
			return errno;
		close(fd);
		return 0;
	}
	return EINVAL;
}

static socklen_t unix_addr(const char *name, bool abstract, struct sockaddr_un *un)
{
	size_t n = strlen(name);

	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	if (n >= sizeof(un->sun_path) - 1)
		exit(2);
	memcpy(un->sun_path + abstract, name, n);
	return offsetof(struct sockaddr_un, sun_path) + n + abstract + !abstract;
}

static int unix_connect(const char *name, bool abstract, int type)
{
	struct sockaddr_un un;
	socklen_t len = unix_addr(name, abstract, &un);
	int fd = socket(AF_UNIX, type, 0), e;

	if (fd < 0)
		return errno;
	if (type == SOCK_DGRAM)
		e = sendto(fd, "x", 1, 0, (void *)&un, len) < 0 ? errno : 0;
	else
		e = connect(fd, (void *)&un, len) ? errno : 0;
	close(fd);
	return e;
}

static int serve_unix(const char *name, bool abstract)
{
	struct sockaddr_un un;
	socklen_t len = unix_addr(name, abstract, &un);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), dfd = -1, c;

	if (fd < 0 || bind(fd, (void *)&un, len) || listen(fd, 64))
		return errno;
	if (!abstract) {
		/* A datagram socket beside it, for unix-dgram: NAME.dgram */
		char d[108];
		struct sockaddr_un du;

		snprintf(d, sizeof(d), "%s.dgram", name);
		dfd = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (dfd >= 0)
			bind(dfd, (void *)&du, unix_addr(d, false, &du));
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		char buf[64];

		c = accept(fd, NULL, NULL);
		if (c >= 0)
			close(c);
		if (dfd >= 0)
			while (recv(dfd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
				;
	}
}

static int serve(const char *proto, const char *a, const char *p)
{
	struct sockaddr_storage ss, from;
	socklen_t len = make_addr(a, p, &ss), flen;
	bool udp = !strcmp(proto, "udp");
	int fd = socket(ss.ss_family, udp ? SOCK_DGRAM : SOCK_STREAM, 0), c;
	char buf[2048];
	ssize_t n;

	if (fd < 0)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &(int){ 16 }, sizeof(int));
	if (bind(fd, (void *)&ss, len) || (!udp && listen(fd, 64)))
		return errno;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (udp) {
			flen = sizeof(from);
			n = recvfrom(fd, buf, sizeof(buf), 0, (void *)&from, &flen);
			if (n > 0)
				sendto(fd, buf, n, 0, (void *)&from, flen);
			continue;
		}
		c = accept(fd, NULL, NULL);
		if (c >= 0)
			close(c);
	}
}

/* ---- a minimal DNS client (test side only: trusts nothing it cannot check) ---- */

static size_t put_name(unsigned char *q, const char *name)
{
	size_t off = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		q[off++] = l;
		memcpy(q + off, name, l);
		off += l;
		name += l + (dot ? 1 : 0);
	}
	q[off++] = 0;
	return off;
}

static size_t skip_name(const unsigned char *m, size_t len, size_t off)
{
	while (off < len) {
		if (m[off] == 0)
			return off + 1;
		if ((m[off] & 0xc0) == 0xc0)
			return off + 2;
		off += m[off] + 1;
	}
	return len + 1;
}

static int query(const char *server, const char *name, bool tcp, bool aaaa)
{
	static const char *const rcodes[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					      "NOTIMP", "REFUSED" };
	unsigned char q[512], r[4096];
	struct sockaddr_storage ss;
	socklen_t len = make_addr(server, "53", &ss);
	struct timeval tv = { .tv_sec = 5 };
	size_t qlen = 12, off;
	ssize_t n;
	int fd, an, rcode;

	memset(q, 0, sizeof(q));
	q[0] = 0x12, q[1] = 0x34, q[2] = 0x01, q[5] = 1;	/* id, RD, one question */
	qlen += put_name(q + 12, name);
	q[qlen++] = 0, q[qlen++] = aaaa ? 28 : 1, q[qlen++] = 0, q[qlen++] = 1;
	fd = socket(ss.ss_family, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (fd < 0)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (void *)&ss, len))
		return errno;
	if (tcp) {
		unsigned char l[2] = { qlen >> 8, qlen & 0xff };

		if (write(fd, l, 2) != 2 || write(fd, q, qlen) != (ssize_t)qlen)
			return errno;
		if (recv(fd, l, 2, MSG_WAITALL) != 2)
			return errno ? errno : EIO;
		size_t want = (size_t)(l[0] << 8 | l[1]);

		n = recv(fd, r, want > sizeof(r) ? sizeof(r) : want, MSG_WAITALL);
	} else {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		char fb[INET6_ADDRSTRLEN];

		if (send(fd, q, qlen, 0) < 0)
			return errno;
		n = recvfrom(fd, r, sizeof(r), 0, (void *)&from, &flen);
		if (n > 0) {
			inet_ntop(from.ss_family, from.ss_family == AF_INET ?
				  (void *)&((struct sockaddr_in *)&from)->sin_addr :
				  (void *)&((struct sockaddr_in6 *)&from)->sin6_addr, fb, sizeof(fb));
			printf("from %s\n", fb);
		}
	}
	if (n < 12)
		return n < 0 ? errno : EIO;
	close(fd);
	rcode = r[3] & 0xf;
	printf("%s\n", rcode < 6 ? rcodes[rcode] : "rcode?");
	if (r[2] & 0x02)
		printf("truncated\n");
	an = r[6] << 8 | r[7];
	off = skip_name(r, n, 12) + 4;
	for (int i = 0; i < an && off < (size_t)n; i++) {
		int type, rdlen;
		unsigned ttl;
		char buf[INET6_ADDRSTRLEN];

		off = skip_name(r, n, off);
		if (off + 10 > (size_t)n)
			break;
		type = r[off] << 8 | r[off + 1];
		ttl = (unsigned)r[off + 4] << 24 | r[off + 5] << 16 | r[off + 6] << 8 | r[off + 7];
		rdlen = r[off + 8] << 8 | r[off + 9];
		off += 10;
		if (off + rdlen > (size_t)n)
			break;
		if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
			inet_ntop(type == 1 ? AF_INET : AF_INET6, r + off, buf, sizeof(buf));
			printf("%s %s ttl=%u\n", type == 1 ? "A" : "AAAA", buf, ttl);
		}
		off += rdlen;
	}
	return 0;
}

static int run(int argc, char **argv)
{
	const char *a = argv[1];

	if (argc == 5 && !strcmp(a, "connect"))
		return !strcmp(argv[2], "udp") ? udp_connect(argv[3], argv[4])
		       : tcp_connect(!strcmp(argv[2], "mptcp") ? IPPROTO_MPTCP : 0, argv[3], argv[4]);
	if (argc == 4 && (!strcmp(a, "sendto") || !strcmp(a, "sendmsg") || !strcmp(a, "sendmmsg")))
		return udp_send(a, argv[2], argv[3]);
	if (argc == 4 && !strcmp(a, "tfo"))
		return tfo(argv[2], argv[3]);
	if (argc == 4 && !strncmp(a, "uring-", 6))
		return uring(a, argv[2], argv[3]);
	if (argc == 5 && !strcmp(a, "bind"))
		return do_bind(argv[2], argv[3], argv[4]);
	if (argc == 6 && !strcmp(a, "srcroute"))
		return srcroute(argv[2], argv[3], argv[4], argv[5]);
	if (argc == 4 && !strcmp(a, "capture"))
		return capture(argv[2], argv[3]);
	if (argc == 3 && !strcmp(a, "listen"))
		return listen_unbound(argv[2]);
	if (argc == 5 && !strcmp(a, "peer"))
		return peer(argv[3], argv[4]);
	if (argc == 3 && !strcmp(a, "socket"))
		return make_socket(argv[2]);
	if (argc == 3 && !strcmp(a, "unix"))
		return unix_connect(argv[2], false, SOCK_STREAM);
	if (argc == 3 && !strcmp(a, "unix-dgram"))
		return unix_connect(argv[2], false, SOCK_DGRAM);
	if (argc == 3 && !strcmp(a, "abstract"))
		return unix_connect(argv[2], true, SOCK_STREAM);
	if (argc == 5 && !strcmp(a, "serve"))
		return serve(argv[2], argv[3], argv[4]);
	if (argc == 3 && !strcmp(a, "serve-unix"))
		return serve_unix(argv[2], false);
	if (argc == 3 && !strcmp(a, "serve-abstract"))
		return serve_unix(argv[2], true);
	if (argc >= 4 && !strcmp(a, "query")) {
		bool tcp = false, aaaa = false;

		for (int i = 4; i < argc; i++) {
			tcp |= !strcmp(argv[i], "tcp");
			aaaa |= !strcmp(argv[i], "aaaa");
		}
		return query(argv[2], argv[3], tcp, aaaa);
	}
	fprintf(stderr, "usage: see the comment at the top of tests/helpers/wnet.c\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int e;

	if (argc < 2) {
		fprintf(stderr, "usage: see the comment at the top of tests/helpers/wnet.c\n");
		return 2;
	}
	e = run(argc, argv);
	if (strcmp(argv[1], "query") && strcmp(argv[1], "peer"))
		printf("%s\n", errname(e));
	else if (e)
		printf("%s\n", errname(e));
	return e == 0 ? 0 : (e == EPERM || e == EACCES) ? 1 : 2;
}
