// SPDX-License-Identifier: GPL-2.0
/*
 * evbench: events per second that event_format() turns from ring buffer
 * records into JSON lines, on one core (the thread is pinned to one CPU).
 *
 *   evbench [--events N] [--reps N]
 *
 * The records are what the kernel sends for a denial: a file event and an
 * exec event with realistic path and exe lengths, alternating. Formatting
 * only: the line is built in memory and discarded, as the cost of writing
 * it depends on where --events points. Prints the median of the reps:
 *
 *   RESULT label=host op=event_format events_per_s=N ns=N reps=N iters=N
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"

#define REPS_MAX 51

struct rec {
	size_t size;
	union {
		struct wd_event ev;
		char bytes[WD_EVENT_MAX];
	};
};

static void make_rec(struct rec *r, uint32_t type, const char *path, const char *exe)
{
	struct wd_event *ev = &r->ev;

	memset(r, 0, sizeof(*r));
	ev->boot_ns = 123456789012345ULL;
	ev->type = type;
	ev->agent = 1;
	ev->pid = ev->tid = 4242;
	ev->ppid = 4200;
	ev->uid = ev->gid = 1000;
	ev->rule = 2;
	ev->right = type == WD_EV_EXEC ? WD_RIGHT_EXEC : WD_RIGHT_READ;
	ev->decision = WD_DEC_DENY;
	ev->path_len = strlen(path);
	ev->exe_len = strlen(exe);
	memcpy(ev->comm, "cat", 4);
	memcpy(r->bytes + sizeof(*ev), path, ev->path_len);
	memcpy(r->bytes + sizeof(*ev) + ev->path_len, exe, ev->exe_len);
	r->size = sizeof(*ev) + ev->path_len + ev->exe_len;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static long arg(const char *s, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 1 || v > max) {
		fprintf(stderr, "evbench: '%s' is not a number in 1..%ld\n", s, max);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static struct rec recs[2];
	const struct agent_info ai = {
		.name = "coding-agent",
		.identity = "spiffe://example.org/agents/coder",
		.instance = "3f9c0e",
	};
	struct sbuf sb = { 0 };
	double per[REPS_MAX];
	long events = 1000000, reps = 5;
	int64_t off = boot_to_realtime_offset();
	cpu_set_t one;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--events"))
			events = arg(argv[i + 1], 1000000000);
		else if (!strcmp(argv[i], "--reps"))
			reps = arg(argv[i + 1], REPS_MAX);
		else
			argc = 0;
	}
	if (argc % 2 != 1) {
		fprintf(stderr, "usage: evbench [--events N] [--reps N]\n");
		return 2;
	}
	/* One core: the claim is per core, and migration would add noise. */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);
	make_rec(&recs[0], WD_EV_FILE, "/home/user/project/.ssh/id_ed25519", "/usr/bin/cat");
	make_rec(&recs[1], WD_EV_EXEC, "/home/user/project/node_modules/.bin/esbuild",
		 "/usr/bin/node");
	for (long r = 0; r < reps; r++) {
		double t0 = now_ns();

		for (long i = 0; i < events; i++) {
			sb.len = 0;	/* the reader reuses one buffer per record too */
			if (event_format(&sb, recs[i & 1].bytes, recs[i & 1].size, &ai, off)) {
				fprintf(stderr, "evbench: event_format refused a valid record\n");
				return 1;
			}
		}
		per[r] = (now_ns() - t0) / events;
	}
	qsort(per, reps, sizeof(per[0]), cmp_double);
	printf("RESULT label=host op=event_format events_per_s=%.0f ns=%.1f min=%.1f max=%.1f reps=%ld iters=%ld bytes=%zu\n",
	       1e9 / per[reps / 2], per[reps / 2], per[0], per[reps - 1], reps, events, sb.len);
	sb_free(&sb);
	return 0;
}
