// SPDX-License-Identifier: GPL-2.0
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpos.h"
#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_OFF 1
#endif
#endif

struct item_pos {
	const cJSON *item;
	size_t value_off;
	size_t key_off;		/* SIZE_MAX when the item is not an object member */
};

struct jsonpos {
	const char *text;
	size_t *lines;		/* offset where each line starts */
	size_t nlines;
	struct item_pos *items;	/* in document order */
	size_t n, cap;
	uint32_t *slots;	/* hash of item pointer -> index into items + 1; 0 = empty */
	unsigned bits;		/* log2 of the number of slots */
	size_t *last;		/* the last item and line found: lookups come in document order */
};

struct scan {
	const char *p;
	struct jsonpos *jp;
};

/* As cJSON: every byte from 1 to 32 is white space. */
static void skip_ws(struct scan *s)
{
	while (*s->p && (unsigned char)*s->p <= 32)
		s->p++;
}

static void skip_string(struct scan *s)
{
	s->p++;	/* opening quote */
	while (*s->p && *s->p != '"') {
		if (*s->p == '\\' && s->p[1])
			s->p++;
		s->p++;
	}
	if (*s->p == '"')
		s->p++;
}

static size_t record(struct scan *s, size_t key_off)
{
	struct jsonpos *jp = s->jp;

	if (jp->n == jp->cap) {
		jp->cap = jp->cap ? 2 * jp->cap : 64;
		jp->items = xrealloc(jp->items, jp->cap * sizeof(*jp->items));
	}
	jp->items[jp->n].item = NULL;
	jp->items[jp->n].value_off = s->p - jp->text;
	jp->items[jp->n].key_off = key_off;
	return jp->n++;
}

static void scan_value(struct scan *s, size_t key_off);

static void scan_container(struct scan *s, char close, bool is_object)
{
	s->p++;
	for (;;) {
		size_t key_off = SIZE_MAX;

		skip_ws(s);
		if (*s->p == close || !*s->p)
			break;
		if (is_object) {
			key_off = s->p - s->jp->text;
			skip_string(s);
			skip_ws(s);
			if (*s->p == ':')
				s->p++;
		}
		scan_value(s, key_off);
		skip_ws(s);
		if (*s->p == ',')
			s->p++;
	}
	if (*s->p)
		s->p++;
}

static void scan_value(struct scan *s, size_t key_off)
{
	skip_ws(s);
	record(s, key_off);
	switch (*s->p) {
	case '{':
		scan_container(s, '}', true);
		break;
	case '[':
		scan_container(s, ']', false);
		break;
	case '"':
		skip_string(s);
		break;
	default:
		while (*s->p && (unsigned char)*s->p > 32 && !strchr(",]}", *s->p))
			s->p++;
	}
}

/* Pair tree items with scanned positions, both in document (pre-)order. */
static int assign(struct jsonpos *jp, const cJSON *item, size_t *next)
{
	for (; item; item = item->next) {
		if (*next >= jp->n)
			return -1;
		jp->items[(*next)++].item = item;
		if (item->child && assign(jp, item->child, next))
			return -1;
	}
	return 0;
}

static size_t slot_of(const struct jsonpos *jp, const cJSON *item)
{
	return ((uintptr_t)item * 0x9e3779b97f4a7c15ULL) >> (64 - jp->bits);
}

/*
 * Items by pointer in an open-addressing table, at most half full: O(1) a
 * lookup, where sorting them cost more than cJSON's parse (every rule's
 * position is looked up).
 */
static void index_items(struct jsonpos *jp)
{
	size_t mask;

	jp->bits = 4;
	while ((1ULL << jp->bits) < 2 * jp->n)
		jp->bits++;
	mask = (1ULL << jp->bits) - 1;
	jp->slots = xcalloc(mask + 1, sizeof(*jp->slots));
	for (size_t i = 0; i < jp->n; i++) {
		size_t h = slot_of(jp, jp->items[i].item);

		while (jp->slots[h])
			h = (h + 1) & mask;
		jp->slots[h] = i + 1;
	}
}

static void index_lines(struct jsonpos *jp)
{
	size_t cap = 64;

	jp->lines = xmalloc(cap * sizeof(*jp->lines));
	jp->lines[jp->nlines++] = 0;
	for (const char *c = jp->text; (c = strchr(c, '\n')); c++) {
		if (jp->nlines == cap) {
			cap *= 2;
			jp->lines = xrealloc(jp->lines, cap * sizeof(*jp->lines));
		}
		jp->lines[jp->nlines++] = c - jp->text + 1;
	}
}

/* Binary search in the line index: positions cost O(log lines), not O(offset). */
static void offset_linecol(const struct jsonpos *jp, size_t off, int *line, int *col)
{
	size_t lo = 0, hi = jp->nlines, near = jp->last[1];

	/* The line of the last lookup or one of the next few, else a search. */
	if (jp->lines[near] <= off) {
		lo = near;
		hi = near + 8 < jp->nlines ? near + 8 : jp->nlines;
		if (jp->lines[hi - 1] <= off && hi < jp->nlines) {
			lo = hi - 1;
			hi = jp->nlines;
		}
	}

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (jp->lines[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	jp->last[1] = lo;
	*line = lo + 1;
	*col = off - jp->lines[lo] + 1;
}

struct jsonpos *jsonpos_new(const char *text, const cJSON *root)
{
	struct jsonpos *jp = xcalloc(1, sizeof(*jp));
	struct scan s = { .p = text, .jp = jp };
	size_t next = 0;

	jp->text = text;
	jp->last = xcalloc(2, sizeof(*jp->last));
	index_lines(jp);
	if (!strncmp(s.p, "\xef\xbb\xbf", 3))
		s.p += 3;
	scan_value(&s, SIZE_MAX);
	/* The root has no siblings: assign only it and its children. */
	if (jp->n == 0)
		goto fail;
	jp->items[next++].item = root;
	if (root->child && assign(jp, root->child, &next))
		goto fail;
	if (next != jp->n)
		goto fail;
	if (jp->n >= UINT32_MAX)
		goto fail;
	index_items(jp);
	return jp;
fail:
	jsonpos_free(jp);
	return NULL;
}

void jsonpos_free(struct jsonpos *jp)
{
	if (!jp)
		return;
	free(jp->items);
	free(jp->slots);
	free(jp->last);
	free(jp->lines);
	free(jp);
}

void text_linecol(const char *text, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && text[i]; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static const struct item_pos *find(const struct jsonpos *jp, const cJSON *item)
{
	size_t h, mask;

	if (!jp)
		return NULL;
	/* Just after the last one found (the next rule is a few items on), else the table. */
	for (size_t i = jp->last[0]; i < jp->n && i < jp->last[0] + 16; i++)
		if (jp->items[i].item == item)
			return &jp->items[jp->last[0] = i];
	mask = (1ULL << jp->bits) - 1;
	for (h = slot_of(jp, item); jp->slots[h]; h = (h + 1) & mask)
		if (jp->items[jp->slots[h] - 1].item == item)
			return &jp->items[jp->last[0] = jp->slots[h] - 1];
	return NULL;
}

void jsonpos_value(const struct jsonpos *jp, const cJSON *item, int *line, int *col)
{
	const struct item_pos *ip = find(jp, item);

	if (!ip) {
		*line = *col = 1;
		return;
	}
	offset_linecol(jp, ip->value_off, line, col);
}

void jsonpos_key(const struct jsonpos *jp, const cJSON *item, int *line, int *col)
{
	const struct item_pos *ip = find(jp, item);

	if (!ip) {
		*line = *col = 1;
		return;
	}
	offset_linecol(jp, ip->key_off == SIZE_MAX ? ip->value_off : ip->key_off, line, col);
}

long json_find_nul_escape(const char *text)
{
	bool in_string = false;

	/* Only an escape spelt so can be one: most texts have none (one vector scan). */
	if (!strstr(text, "\\u0000"))
		return -1;
	for (const char *c = text; *c; c++) {
		if (!in_string) {
			in_string = *c == '"';
			continue;
		}
		if (*c == '"') {
			in_string = false;
		} else if (*c == '\\' && c[1]) {
			if (c[1] == 'u' && !strncmp(c + 2, "0000", 4))
				return c - text;
			c++;	/* skip the escaped character */
		}
	}
	return -1;
}

/* ---- the arena (see jsonpos.h) ------------------------------------------ */

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	_Alignas(16) char data[];
};

#define ARENA_FIRST (64u << 10)	/* doubles per block, up to ARENA_MAX */
#define ARENA_MAX (8u << 20)

static __thread struct arena_block *arena;
static __thread size_t arena_blocks;
static __thread bool arena_on;

#ifndef ARENA_OFF
static void *arena_malloc(size_t n)
{
	struct arena_block *b = arena;
	void *p;

	if (!arena_on)
		return malloc(n);
	n = (n + 15) & ~(size_t)15;
	if (!b || b->size - b->used < n) {
		size_t size = arena_blocks < 8 ? (size_t)ARENA_FIRST << arena_blocks : ARENA_MAX;

		if (size > ARENA_MAX)
			size = ARENA_MAX;
		if (size < n)
			size = n;
		b = malloc(sizeof(*b) + size);
		if (!b)
			return NULL;	/* cJSON reports the parse as failed */
		b->next = arena;
		b->used = 0;
		b->size = size;
		arena = b;
		arena_blocks++;
	}
	p = b->data + b->used;
	b->used += n;
	return p;
}

static bool in_arena(const void *p)
{
	for (const struct arena_block *b = arena; b; b = b->next)
		if ((const char *)p >= b->data && (const char *)p < b->data + b->size)
			return true;
	return false;
}

static void arena_free(void *p)
{
	if (!arena_on || !in_arena(p))
		free(p);
}

/*
 * Before main, so before any thread: cJSON's hooks are global and not to
 * be changed while another thread may allocate. Off the arena they are
 * malloc and free.
 */
__attribute__((constructor)) static void arena_hooks(void)
{
	cJSON_Hooks hooks = { .malloc_fn = arena_malloc, .free_fn = arena_free };

	cJSON_InitHooks(&hooks);
}
#endif /* ARENA_OFF */

void json_arena_begin(void)
{
	arena_on = true;
}

void json_arena_end(void)
{
	arena_on = false;
	while (arena) {
		struct arena_block *next = arena->next;

		free(arena);
		arena = next;
	}
	arena_blocks = 0;
}
