/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where in the text each cJSON item came from. cJSON parses (and so
 * validates) the document but keeps no positions; error messages need
 * FILE:LINE:COL. After cJSON accepted a text, a scanner walks the same text
 * in document order and pairs each value (and object key) with the cJSON
 * item that a pre-order walk of the tree meets at the same index.
 */
#ifndef WARDEN_JSONPOS_H
#define WARDEN_JSONPOS_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

struct jsonpos;

/* @text must be the exact text @root was parsed from. NULL on a mismatch. */
struct jsonpos *jsonpos_new(const char *text, const cJSON *root);
void jsonpos_free(struct jsonpos *jp);

/* 1-based line and column (in bytes) of an item's value, or of its key. */
void jsonpos_value(const struct jsonpos *jp, const cJSON *item, int *line, int *col);
void jsonpos_key(const struct jsonpos *jp, const cJSON *item, int *line, int *col);

/*
 * Offset of the first "\u0000" escape inside a JSON string, or -1. cJSON
 * would cut the string there without telling: "/tmp\u0000/x" would read as
 * "/tmp".
 */
long json_find_nul_escape(const char *text);

/*
 * cJSON's allocations on this thread between json_arena_begin() and
 * json_arena_end() come from an arena freed at the end, in one go: a
 * 10,000-rule policy is 110,000 allocations, and malloc and free were a
 * third of its parse. Every cJSON tree made in between must be deleted
 * before the end (cJSON_Delete() of arena memory does nothing). Elsewhere,
 * and on other threads, cJSON allocates with malloc as always. Off under
 * AddressSanitizer, which must see every allocation.
 */
void json_arena_begin(void);
void json_arena_end(void);

/* 1-based line and column of a byte offset into text. */
void text_linecol(const char *text, size_t off, int *line, int *col);

#endif
