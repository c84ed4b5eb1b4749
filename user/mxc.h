/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Microsoft MXC containment policies (schema "1.0.0") read as Warden
 * policies: policy_parse() hands a file whose "version" is the string
 * "1.0.0" to mxc_parse_top(), which fills the same struct policy a version 1
 * file gives (see the mapping at the top of mxc.c).
 *
 * What an MXC policy asks and Warden cannot honour is never dropped
 * silently: each such field gives a note, "FILE:LINE:COL: message", kept
 * with the policy until policy_free(). Callers print them as warnings.
 */
#ifndef WARDEN_MXC_H
#define WARDEN_MXC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "policy.h"

/*
 * The notes of @p (an MXC policy; a version 1 policy has none): *notes points
 * to them, each "FILE:LINE:COL: message" without a newline, valid until
 * policy_free(@p). Returns how many there are.
 */
size_t policy_notes(const struct policy *p, const char *const **notes);
/* Print each note as "warning: NOTE\n" on @f; returns how many. */
size_t policy_print_notes(const struct policy *p, FILE *f);

/* ---- between policy.c and mxc.c only ------------------------------------ */

struct parser;		/* policy.c's parse state */

/* Parse the MXC policy @root into @p; errors as for version 1. */
void mxc_parse_top(struct parser *ps, const cJSON *root, struct policy *p);
/* Forget @p's notes; policy_free() calls it. */
void mxc_policy_free(struct policy *p);

/* Hooks policy.c lends the importer, so that both formats check alike. */
void policy_parser_error(struct parser *ps, const cJSON *item, bool at_key, const char *msg);
void policy_parser_pos(struct parser *ps, const cJSON *item, bool at_key, int *line, int *col);
const char *policy_parser_file(const struct parser *ps);
const char *policy_parser_type_name(const cJSON *v);
void policy_parser_check_keys(struct parser *ps, const cJSON *obj, const char *where,
			      const char *const *known);
/* The version 1 path checks: absolute, normalised, limits; strips a trailing '/'. */
bool policy_parser_check_path(struct parser *ps, const cJSON *item, char *path, bool *subtree);

#endif
