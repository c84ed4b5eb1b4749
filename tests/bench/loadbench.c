// SPDX-License-Identifier: GPL-2.0
/*
 * loadbench: what installing a policy costs, phase by phase, with the same
 * functions `warden run` calls (user/run.c prepare()).
 *
 *   loadbench --policy FILE [--reps N]
 *
 *   parse    policy_load(): read the file, cJSON, validate every rule
 *   compile  policy_compile(): rules -> the component tree the kernel walks
 *   fill     lsm_add_agent(): the tree into the BPF maps (batch update) and
 *            the rule objects that exist into the identity map
 *   progload lsm_load(): open, verify, load and attach the BPF LSM programs,
 *            maps sized for this policy; the same whatever the rule count
 *            but for map sizes, and paid once per `warden run`
 *
 * parse and compile are the median of --reps runs (user space only, any
 * kernel). Where BPF LSM programs load (the VM), progload and fill are
 * measured once (a second load would find the first attached). Where they
 * do not (the host), fill is measured natively all the same, every rep, on
 * fresh maps of the same object and sizes with no program loaded
 * (lsm_load_maps()), and total = parse + compile + fill of one rep.
 *
 *   RESULT label=L op=parse rules=N ns=N reps=N
 *   RESULT label=L op=fill rules=N ns=N reps=N maps=programs|maps-only
 *   NOTMEASURED op=progload why=...
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lsm.h"
#include "policy.h"

#define REPS_MAX 51

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

static void report(const char *op, size_t rules, double *t, int reps)
{
	qsort(t, reps, sizeof(t[0]), cmp_double);
	printf("RESULT label=load op=%s rules=%zu ns=%.0f min=%.0f max=%.0f reps=%d\n", op, rules,
	       t[reps / 2], t[0], t[reps - 1], reps);
}

static void report_fill(size_t rules, double *t, int reps, const char *maps)
{
	qsort(t, reps, sizeof(t[0]), cmp_double);
	printf("RESULT label=load op=fill rules=%zu ns=%.0f min=%.0f max=%.0f reps=%d maps=%s\n",
	       rules, t[reps / 2], t[0], t[reps - 1], reps, maps);
}

/* Parse and compile @file once; their times go to @tp and @tc. */
static int parse_compile(const char *file, struct policy *p, struct compiled *c, double *tp,
			 double *tc)
{
	char cwd[PATH_MAX];
	struct policy_env env;
	struct sbuf err = { 0 };
	double t0;
	int ret = policy_env_of_process(&env, cwd, sizeof(cwd));

	t0 = now_ns();
	if (!ret)
		ret = policy_load(file, &env, p, &err);
	*tp = now_ns() - t0;
	t0 = now_ns();
	if (!ret)
		ret = policy_compile(p, 1, c, &err);
	*tc = now_ns() - t0;
	if (ret) {
		sb_putc(&err, '\0');
		fprintf(stderr, "loadbench: %s: %s\n%s", file, strerror(-ret), err.buf ? err.buf : "");
	}
	sb_free(&err);
	return ret;
}

/* lsm_add_agent() into fresh maps made without programs; its time to *@t. */
static int fill_maps_only(const struct policy *p, const struct compiled *c, double *t)
{
	struct lsm_bpf *skel = NULL;
	struct sbuf why = { 0 };
	double t0;
	int ret = lsm_load_maps(&skel, c->n, &why);

	if (ret) {
		sb_putc(&why, '\0');
		fprintf(stderr, "loadbench: %s\n", why.buf);
		sb_free(&why);
		return ret;
	}
	t0 = now_ns();
	ret = lsm_add_agent(skel, 0, c, p);
	*t = now_ns() - t0;
	if (ret)
		fprintf(stderr, "loadbench: lsm_add_agent: %s\n", strerror(-ret));
	lsm_unload(skel);
	return ret;
}

/*
 * The kernel half with the programs, once: program load, then the policy's
 * maps. Returns 1 if the programs cannot load here (fill is then measured
 * on maps alone), 0 once measured, -errno if the fill failed.
 */
static int kernel_phases(const struct policy *p, const struct compiled *c)
{
	struct lsm_bpf *skel = NULL;
	struct sbuf why = { 0 };
	double t0, t;
	int ret = lsm_active(&why);

	if (!ret) {
		t0 = now_ns();
		ret = lsm_load(&skel, c->n, &why);
		t = now_ns() - t0;
		if (!ret)
			report("progload", p->nrules, &t, 1);
	}
	if (ret) {
		sb_putc(&why, '\0');
		printf("NOTMEASURED op=progload why=%s\n", why.buf);
		sb_free(&why);
		return 1;	/* not an error: this kernel cannot do it */
	}
	t0 = now_ns();
	ret = lsm_add_agent(skel, 0, c, p);
	t = now_ns() - t0;
	if (ret)
		fprintf(stderr, "loadbench: lsm_add_agent: %s\n", strerror(-ret));
	else
		report_fill(p->nrules, &t, 1, "programs");
	lsm_unload(skel);
	sb_free(&why);
	return ret;
}

int main(int argc, char **argv)
{
	double tp[REPS_MAX], tc[REPS_MAX], tf[REPS_MAX], tt[REPS_MAX];
	const char *file = NULL;
	struct policy p;
	struct compiled c;
	int reps = 5, ret = 0, kernel = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--policy"))
			file = argv[i + 1];
		else if (!strcmp(argv[i], "--reps"))
			reps = atoi(argv[i + 1]);
	}
	if (!file || argc % 2 != 1 || reps < 1 || reps > REPS_MAX) {
		fprintf(stderr, "usage: loadbench --policy FILE [--reps 1..%d]\n", REPS_MAX);
		return 2;
	}
	for (int r = 0; r < reps && !ret; r++) {
		memset(&p, 0, sizeof(p));
		memset(&c, 0, sizeof(c));
		ret = parse_compile(file, &p, &c, &tp[r], &tc[r]);
		/* The first rep tells whether the programs load here. */
		if (!ret && r == 0)
			ret = kernel = kernel_phases(&p, &c);
		if (ret == 1)
			ret = 0;
		if (!ret && kernel == 1) {
			ret = fill_maps_only(&p, &c, &tf[r]);
			tt[r] = tp[r] + tc[r] + tf[r];
		}
		if (!ret && r + 1 < reps) {
			compiled_free(&c);
			policy_free(&p);
		}
	}
	if (ret)
		return 1;
	report("parse", p.nrules, tp, reps);
	report("compile", p.nrules, tc, reps);
	if (kernel == 1) {
		report_fill(p.nrules, tf, reps, "maps-only");
		report("total", p.nrules, tt, reps);
	}
	printf("INFO nodes_for_%zu_rules=%zu\n", p.nrules, c.n);
	compiled_free(&c);
	policy_free(&p);
	return 0;
}
