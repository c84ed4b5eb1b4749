/* SPDX-License-Identifier: GPL-2.0 */
/* Included by the BPF objects after their count() helper. */
#ifndef WARDEN_RATELIMIT_H
#define WARDEN_RATELIMIT_H

/*
 * Rate limit: a token bucket per CPU (rate_per_cpu events a second, burst
 * rate_burst), so one agent flooding denials cannot drown the ring buffer;
 * what it suppresses is counted and reported as a lost event
 * ("reason": "rate_limit"). 0: no limit.
 */
const volatile __u64 rate_per_cpu = 0;
const volatile __u64 rate_burst = 0;

struct wd_bucket {
	__u64 tokens_milli;	/* tokens * 1000 */
	__u64 last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wd_bucket);
} buckets SEC(".maps");

static __always_inline bool rate_ok(void)
{
	__u32 zero = 0;
	struct wd_bucket *b;
	__u64 now, add, cap;

	if (!rate_per_cpu)
		return true;
	b = bpf_map_lookup_elem(&buckets, &zero);
	if (!b)
		return true;
	now = bpf_ktime_get_boot_ns();
	cap = rate_burst * 1000;
	add = (now - b->last_ns) / 1000;	/* microseconds, capped: no overflow below */
	if (add > 10000000)
		add = 10000000;
	add = add * rate_per_cpu / 1000;	/* milli-tokens */
	b->last_ns = now;
	b->tokens_milli = b->tokens_milli + add > cap ? cap : b->tokens_milli + add;
	if (b->tokens_milli < 1000) {
		count(WD_CNT_RATE_LIMITED);
		return false;
	}
	b->tokens_milli -= 1000;
	return true;
}

#endif
