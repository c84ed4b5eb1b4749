/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Learning mode: from the events of an audit-mode run to the least-privilege
 * version 1 policy that allows what the run did, never more than a base
 * policy allows. The generator is here, apart from cmd_learn, so that unit
 * tests can feed it event lines.
 */
#ifndef WARDEN_LEARN_H
#define WARDEN_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "policy.h"
#include "util.h"

struct learn;

/*
 * A generator for the environment @env (${CWD}, ${HOME}: the run's), bounded
 * by @base (NULL: no bound). @base must outlive the generator.
 */
struct learn *learn_new(const struct policy *base, const struct policy_env *env);
void learn_free(struct learn *l);

/* Events touching @dir (learn's own files) make learn_build() fail: tampering. */
void learn_guard(struct learn *l, const char *dir);

/* Feed one JSON event line. Returns 0, or -EINVAL for a line that is not an event. */
int learn_event(struct learn *l, const char *line, size_t len);
/* Feed every line of @text. Returns the number of lines that were not events. */
size_t learn_events(struct learn *l, const char *text, size_t len);

/* Events fed so far (of any kind). */
size_t learn_nevents(const struct learn *l);

/*
 * Build the policy named @name (with @identity, else the base's if any) into @out, as
 * JSON text, then check it with the policy engine: it parses, allows every
 * access seen that the base allows, and denies everything the base denies.
 * Returns 0, or -EINVAL (events lost, learn's files touched, a check failed)
 * with the reason in @err.
 */
int learn_build(struct learn *l, const char *name, const char *identity, struct sbuf *out,
		struct sbuf *err);

/* After learn_build(): a few lines on what was learned and what was not. */
void learn_summary(const struct learn *l, FILE *f);

#endif
