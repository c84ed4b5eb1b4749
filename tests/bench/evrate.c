// SPDX-License-Identifier: GPL-2.0
/*
 * evrate: does warden's event drain keep up with N events a second?
 *
 *   evrate [--rate N] [--seconds S] [--batch N] [--events FILE] [--ringbuf-size BYTES]
 *          [--flush-at BYTES]
 *
 * Real denials cannot be produced at 200,000 a second under emulation, so a
 * producer thread feeds the ring buffer directly: it calls the bench-only
 * BPF program evgen (tests/bench/evgen.bpf.c) with BPF_PROG_TEST_RUN,
 * --batch records a call, paced to --rate for --seconds. Each record is a
 * file denial as bpf/lsm.bpf.c sends it (header, path, exe), and a record
 * the ring buffer has no room for is counted in the same counter warden
 * reports as lost (WD_CNT_LOST_RINGBUF).
 *
 * The main thread is warden run's drain (user/run.c: supervise, drain,
 * on_event, report_lost, flush_out): wait on the ring buffer's epoll fd,
 * ring_buffer__consume() with event_format() into one buffer, the lost
 * counter turned into "lost" lines, then one sink_write() to a file sink
 * opened by sink_open_file() (--events, default /dev/null). Those are
 * static in run.c, so the loop is repeated here, call for call.
 * Like warden run, the callback writes once 1 MiB of lines waits
 * (--flush-at BYTES changes it; 0 writes only when consume returns).
 *
 * When the producer is done, the drain goes on until every record is
 * either decoded or counted lost (or 60 s pass). Prints:
 *   EVRATE target=N achieved=N seconds=S produced=N decoded=N written=N
 *     lost=N unaccounted=N ringbuf=BYTES batch=N record_bytes=N
 *     behind_ms=N backlog_ms=N bytes=N maxrss_kb=N sink=FILE
 * lost is the kernel's count, never a difference; unaccounted is
 * produced - decoded - lost (0 unless something is wrong).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "event.h"
#include "sink.h"
#include "evgen.skel.h"

#define DRAIN_TIMEOUT_S 60.0	/* after the producer stops */

struct bench {
	/* arguments */
	double rate;
	double seconds;
	uint32_t batch;
	const char *events;
	uint32_t ringbuf_bytes;	/* 0: evgen's, which is warden's default */
	size_t flush_at;	/* write out once this many bytes wait (run: 1 MiB); 0 = never */

	struct evgen_bpf *skel;
	struct ring_buffer *rb;
	struct sink *sinks;
	struct agent_info ai;
	int64_t boot_offset;
	struct sbuf out;
	uint64_t decoded;	/* records event_format() turned into a line */
	uint64_t malformed;	/* records it refused */
	uint64_t pending;	/* decoded records in out, not yet written */
	uint64_t written;	/* decoded records a sink_write() took */
	uint64_t bytes;		/* bytes those writes took */
	uint64_t lost_reported;
	bool write_failed;

	/* producer */
	pthread_t thread;
	_Atomic uint64_t produced;	/* records the BPF program tried to send */
	_Atomic bool done;
	double elapsed;		/* from the first call to the end of the schedule */
	double behind;		/* the producer's worst delay against its schedule, s */
	int err;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	struct timespec ts = { .tv_sec = (time_t)t, .tv_nsec = (long)((t - (time_t)t) * 1e9) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* The sum over CPUs of evgen's counters[which], as lsm_counter() sums warden's. */
static uint64_t counter(struct bench *b, uint32_t which)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t vals[ncpu > 0 ? ncpu : 1], sum = 0;

	if (ncpu <= 0 || bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.counters), &which, vals))
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}

/* A file read denial as wd_emit() lays it out: evbench's record. */
static uint32_t make_record(char *rec, size_t size)
{
	static const char path[] = "/home/user/project/.ssh/id_ed25519";
	static const char exe[] = "/usr/bin/cat";
	struct wd_event *ev = (struct wd_event *)rec;
	uint32_t n = sizeof(*ev) + strlen(path) + strlen(exe);

	if (n > size)
		return 0;
	memset(rec, 0, size);
	ev->type = WD_EV_FILE;
	ev->agent = 1;
	ev->pid = ev->tid = getpid();
	ev->ppid = getppid();
	ev->uid = getuid();
	ev->gid = getgid();
	ev->rule = 2;
	ev->right = WD_RIGHT_READ;
	ev->decision = WD_DEC_DENY;
	ev->path_len = strlen(path);
	ev->exe_len = strlen(exe);
	memcpy(ev->comm, "cat", 4);
	memcpy(rec + sizeof(*ev), path, ev->path_len);
	memcpy(rec + sizeof(*ev) + ev->path_len, exe, ev->exe_len);
	return n;
}

/* ---- the producer ------------------------------------------------------- */

/* Calls of --batch records at start + k * batch / rate, for --seconds. */
static void *produce(void *arg)
{
	struct bench *b = arg;
	struct { __u32 count; } args = { .count = b->batch };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &args, .ctx_size_in = sizeof(args));
	int fd = bpf_program__fd(b->skel->progs.emit);
	double period = b->batch / b->rate, start = now(), t, late;

	for (uint64_t k = 0; (t = k * period) < b->seconds; k++) {
		sleep_until(start + t);
		late = now() - (start + t);
		if (late > b->behind)
			b->behind = late;
		if (bpf_prog_test_run_opts(fd, &o)) {
			b->err = -errno;
			break;
		}
		if (o.retval != args.count) {
			b->err = -EPROTO;
			break;
		}
		atomic_fetch_add(&b->produced, args.count);
	}
	sleep_until(start + b->seconds);
	b->elapsed = now() - start;
	atomic_store(&b->done, true);
	return NULL;
}

/* ---- the drain: user/run.c's, call for call ------------------------------ */

static void flush_out(struct bench *b)
{
	if (b->out.len) {
		if (sink_write(b->sinks, b->out.buf, b->out.len)) {
			b->write_failed = true;
		} else {
			b->written += b->pending;
			b->bytes += b->out.len;
		}
	}
	b->pending = 0;
	b->out.len = 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct bench *b = ctx;

	if (event_format(&b->out, data, size, &b->ai, b->boot_offset)) {
		b->malformed++;
		return 0;
	}
	b->decoded++;
	b->pending++;
	/*
	 * As warden run does: under a flood ring_buffer__consume() keeps going
	 * while records arrive, so write every MiB (--flush-at) rather than
	 * hold every line until it returns (--flush-at 0 shows that).
	 */
	if (b->flush_at && b->out.len >= b->flush_at)
		flush_out(b);
	return 0;
}

static void report_lost(struct bench *b)
{
	uint64_t lost = counter(b, WD_CNT_LOST_RINGBUF);

	if (lost > b->lost_reported) {
		event_format_lost(&b->out, &b->ai, lost - b->lost_reported, "ringbuf_full",
				  realtime_ns());
		b->lost_reported = lost;
	}
}

static void drain(struct bench *b)
{
	ring_buffer__consume(b->rb);
	report_lost(b);
	flush_out(b);
}

/* Until the producer is done and every record it sent is decoded or counted lost. */
static int drain_loop(struct bench *b, double *backlog)
{
	struct epoll_event ev = { .events = EPOLLIN }, got;
	double done_at = 0;
	int efd;

	efd = epoll_create1(EPOLL_CLOEXEC);
	if (efd < 0)
		return -errno;
	ev.data.fd = ring_buffer__epoll_fd(b->rb);
	if (epoll_ctl(efd, EPOLL_CTL_ADD, ev.data.fd, &ev)) {
		close(efd);
		return -errno;
	}
	for (;;) {
		/* 100 ms, not run's 1 s: only to notice the end sooner. */
		epoll_wait(efd, &got, 1, 100);
		drain(b);
		if (!atomic_load(&b->done))
			continue;
		if (!done_at)
			done_at = now();
		if (b->decoded + b->malformed + b->lost_reported >= atomic_load(&b->produced) ||
		    now() - done_at > DRAIN_TIMEOUT_S)
			break;
	}
	*backlog = now() - done_at;
	close(efd);
	return 0;
}

/* ---- setup -------------------------------------------------------------- */

static int setup(struct bench *b)
{
	struct sink_opts so = { .format = SINK_FORMAT_JSON, .ai = &b->ai };
	struct sbuf err = { 0 }, probe = { 0 };
	uint32_t size;
	int ret;

	b->skel = evgen_bpf__open();
	if (!b->skel)
		return fprintf(stderr, "evrate: cannot open evgen: %s\n", strerror(errno)), -1;
	if (b->ringbuf_bytes &&
	    (ret = bpf_map__set_max_entries(b->skel->maps.events, b->ringbuf_bytes)))
		return fprintf(stderr, "evrate: --ringbuf-size: %s\n", strerror(-ret)), -1;
	ret = evgen_bpf__load(b->skel);
	if (ret)
		return fprintf(stderr, "evrate: cannot load evgen: %s\n", strerror(-ret)), -1;
	size = make_record(b->skel->bss->rec, sizeof(b->skel->bss->rec));
	/* The drain must accept the record, or nothing below measures it. */
	if (!size || event_format(&probe, b->skel->bss->rec, size, &b->ai, 0)) {
		fprintf(stderr, "evrate: event_format refuses the bench record\n");
		return -1;
	}
	sb_free(&probe);
	b->skel->bss->rec_size = size;
	b->rb = ring_buffer__new(bpf_map__fd(b->skel->maps.events), on_event, b, NULL);
	if (!b->rb)
		return fprintf(stderr, "evrate: ring_buffer__new: %s\n", strerror(errno)), -1;
	ret = sink_open_file(&b->sinks, b->events, &so, &err);
	if (ret) {
		sb_putc(&err, '\0');
		fprintf(stderr, "evrate: %s\n", err.buf);
	}
	sb_free(&err);
	return ret;
}

static double number(const char *opt, const char *s, double min, double max)
{
	char *end;
	double v = strtod(s, &end);

	if (!*s || *end || v < min || v > max) {
		fprintf(stderr, "evrate: --%s %s: a number from %.0f to %.0f\n", opt, s, min, max);
		exit(2);
	}
	return v;
}

static void parse_args(struct bench *b, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "events", required_argument, NULL, 'e' },
		{ "ringbuf-size", required_argument, NULL, 'B' },
		{ "flush-at", required_argument, NULL, 'F' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': b->rate = number("rate", optarg, 1, 1e9); break;
		case 's': b->seconds = number("seconds", optarg, 0.1, 3600); break;
		case 'b': b->batch = number("batch", optarg, 1, 100000); break;
		case 'e': b->events = optarg; break;
		case 'B': b->ringbuf_bytes = number("ringbuf-size", optarg, 4096, 1 << 30); break;
		case 'F': b->flush_at = number("flush-at", optarg, 0, 1 << 30); break;
		default:
			fprintf(stderr, "usage: evrate [--rate N] [--seconds S] [--batch N] [--events FILE] [--ringbuf-size BYTES] [--flush-at BYTES]\n");
			exit(2);
		}
	}
}

int main(int argc, char **argv)
{
	struct bench b = {
		.rate = 200000, .seconds = 5, .batch = 200, .events = "/dev/null", .flush_at = 1 << 20,
		.ai = { .name = "bench-agent", .identity = "spiffe://example.org/agents/bench",
			.instance = "0123456789ab" },
	};
	struct rusage ru;
	uint64_t produced;
	double backlog = 0;
	int ret;

	parse_args(&b, argc, argv);
	b.boot_offset = boot_to_realtime_offset();
	if (setup(&b))
		return 1;
	ret = pthread_create(&b.thread, NULL, produce, &b);
	if (ret) {
		fprintf(stderr, "evrate: pthread_create: %s\n", strerror(ret));
		return 1;
	}
	ret = drain_loop(&b, &backlog);
	pthread_join(b.thread, NULL);
	if (ret || b.err) {
		fprintf(stderr, "evrate: %s: %s\n", ret ? "epoll" : "BPF_PROG_TEST_RUN",
			strerror(-(ret ? ret : b.err)));
		return 1;
	}
	produced = atomic_load(&b.produced);
	getrusage(RUSAGE_SELF, &ru);
	printf("EVRATE target=%.0f achieved=%.0f seconds=%.3f produced=%llu decoded=%llu written=%llu lost=%llu unaccounted=%lld ringbuf=%u batch=%u record_bytes=%u behind_ms=%.1f backlog_ms=%.1f bytes=%llu malformed=%llu write_failed=%d maxrss_kb=%ld flush_at=%zu sink=%s\n",
	       b.rate, produced / b.elapsed, b.elapsed, (unsigned long long)produced,
	       (unsigned long long)b.decoded, (unsigned long long)b.written,
	       (unsigned long long)b.lost_reported,
	       (long long)(produced - b.decoded - b.malformed - b.lost_reported),
	       bpf_map__max_entries(b.skel->maps.events), b.batch, b.skel->bss->rec_size,
	       b.behind * 1e3, backlog * 1e3, (unsigned long long)b.bytes,
	       (unsigned long long)b.malformed, b.write_failed, ru.ru_maxrss, b.flush_at, b.events);
	ring_buffer__free(b.rb);
	sink_flush(b.sinks, 5000);
	sink_close(b.sinks);
	sb_free(&b.out);
	evgen_bpf__destroy(b.skel);
	return 0;
}
