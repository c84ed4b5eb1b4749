/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by every part of warden: messages, files, strings. */
#ifndef WARDEN_UTIL_H
#define WARDEN_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses (../shared/CONTRACT.md). */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_RUN_FAIL 125	/* warden failed before CMD started */
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

extern int verbose;

/* "warden: " + message on stderr. */
void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only with -v. */
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole file, NUL-terminated. Returns 0 or -errno. */
int read_file(const char *path, char **out, size_t *len);

/* A growable string buffer. */
struct sbuf {
	char *buf;
	size_t len, cap;
};
void sb_putc(struct sbuf *sb, char c);
void sb_put(struct sbuf *sb, const char *s, size_t n);
void sb_puts(struct sbuf *sb, const char *s);
void sb_printf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal: quotes, escapes; bytes that are not UTF-8 as \u00XX. */
void sb_json_str(struct sbuf *sb, const char *s, size_t n);
void sb_free(struct sbuf *sb);
/* Room for @n more bytes: one reallocation up front instead of several. */
void sb_reserve(struct sbuf *sb, size_t n);
/* Decimal, exactly as printf's %u and %llu print it, without printf's cost. */
void sb_put_u32(struct sbuf *sb, uint32_t v);
void sb_put_u64(struct sbuf *sb, uint64_t v);

/* Abort on allocation failure: nothing sensible can follow it. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Parse a decimal integer in [min, max]. Returns 0 or -EINVAL/-ERANGE. */
int parse_long(const char *s, long min, long max, long *out);

#endif
