// SPDX-License-Identifier: GPL-2.0
/*
 * evgen (bench only, never part of warden): sends ring buffer records at a
 * rate no real denial reaches under emulation, so that the event drain can
 * be measured at 200,000 events a second (tests/bench/evrate.c).
 *
 * One BPF_PROG_TEST_RUN of "emit" sends args->count copies of the record
 * userspace put in rec[] (a struct wd_event, then its path and exe, as
 * bpf/lsm.bpf.c's wd_emit() lays it out), each stamped with the time it was
 * sent. Each is sent the way wd_emit() sends: one bpf_ringbuf_output() of
 * the whole record, and a failure (ring buffer full) counted in
 * counters[WD_CNT_LOST_RINGBUF], which is what warden reports as lost.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "warden.h"

char LICENSE[] SEC("license") = "GPL";

/* Warden's default size (bpf/lsm.bpf.c); evrate --ringbuf-size resizes it. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

/* As in bpf/lsm.bpf.c: per CPU, summed by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WD_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

#define EVGEN_REC_MAX 1024	/* header + path + exe: far more than a typical event */
#define EVGEN_BATCH_MAX 100000	/* records per call */

/* Written by userspace before the first call (the .bss map is mmapped). */
char rec[EVGEN_REC_MAX] __attribute__((aligned(8)));
__u32 rec_size;

/* BPF_PROG_TEST_RUN's ctx_in. */
struct evgen_args {
	__u32 count;	/* records to send */
};

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		*c += 1;
}

static long emit_one(__u32 i, void *unused)
{
	__u32 size = rec_size;

	if (size < sizeof(struct wd_event) || size > sizeof(rec))
		return 1;
	((struct wd_event *)rec)->boot_ns = bpf_ktime_get_boot_ns();
	if (bpf_ringbuf_output(&events, &rec, size, 0))
		count(WD_CNT_LOST_RINGBUF);
	return 0;
}

/* Returns the records it tried to send (sent + counted lost), or -1 for bad arguments. */
SEC("syscall")
int emit(struct evgen_args *args)
{
	__u32 n = args->count;

	if (n > EVGEN_BATCH_MAX || rec_size < sizeof(struct wd_event) || rec_size > sizeof(rec))
		return -1;
	return bpf_loop(n, emit_one, NULL, 0);
}
