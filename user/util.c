// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int verbose;

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("warden: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void pr_debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	fputs("warden: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		pr_warn("out of memory\n");
		abort();
	}
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (!p) {
		pr_warn("out of memory\n");
		abort();
	}
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		pr_warn("out of memory\n");
		abort();
	}
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

int read_file(const char *path, char **out, size_t *len)
{
	struct sbuf sb = {0};
	char chunk[65536];
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		sb_put(&sb, chunk, n);
	}
	close(fd);
	if (err) {
		sb_free(&sb);
		return err;
	}
	sb_putc(&sb, '\0');
	*out = sb.buf;
	if (len)
		*len = sb.len - 1;
	return 0;
}

static void sb_grow(struct sbuf *sb, size_t more)
{
	if (sb->len + more <= sb->cap)
		return;
	while (sb->len + more > sb->cap)
		sb->cap = sb->cap ? 2 * sb->cap : 256;
	sb->buf = xrealloc(sb->buf, sb->cap);
}

void sb_putc(struct sbuf *sb, char c)
{
	sb_grow(sb, 1);
	sb->buf[sb->len++] = c;
}

void sb_put(struct sbuf *sb, const char *s, size_t n)
{
	if (!n)
		return;	/* @s may be NULL then, and memcpy() from NULL is undefined */
	sb_grow(sb, n);
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
}

void sb_puts(struct sbuf *sb, const char *s)
{
	sb_put(sb, s, strlen(s));
}

void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	char tmp[256];

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < (int)sizeof(tmp)) {
		sb_put(sb, tmp, n);
		return;
	}
	sb_grow(sb, n + 1);
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, n + 1, fmt, ap);
	va_end(ap);
	sb->len += n;
}

void sb_free(struct sbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and out-of-range points are not UTF-8. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

void sb_json_str(struct sbuf *sb, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run;

	sb_putc(sb, '"');
	while (i < n) {
		unsigned char c = s[i];

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			sb_putc(sb, c);
			i++;
			continue;
		}
		switch (c) {
		case '"': sb_puts(sb, "\\\""); i++; continue;
		case '\\': sb_puts(sb, "\\\\"); i++; continue;
		case '\n': sb_puts(sb, "\\n"); i++; continue;
		case '\t': sb_puts(sb, "\\t"); i++; continue;
		case '\r': sb_puts(sb, "\\r"); i++; continue;
		}
		if (c < 0x20) {
			sb_printf(sb, "\\u%04x", c);
			i++;
			continue;
		}
		run = utf8_seq(s + i, n - i);
		if (run) {
			sb_put(sb, (const char *)s + i, run);
			i += run;
		} else {
			/* Not UTF-8: keep the byte's value, stay valid JSON. */
			sb_printf(sb, "\\u%04x", c);
			i++;
		}
	}
	sb_putc(sb, '"');
}

int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}
