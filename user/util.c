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

void sb_reserve(struct sbuf *sb, size_t n)
{
	sb_grow(sb, n);
}

/* "00" to "99": two digits per division. */
static const char digits2[201] =
	"0001020304050607080910111213141516171819"
	"2021222324252627282930313233343536373839"
	"4041424344454647484950515253545556575859"
	"6061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

void sb_put_u64(struct sbuf *sb, uint64_t v)
{
	size_t len = 1;
	char *p;

	for (uint64_t t = v; t >= 10; t /= 10)
		len++;
	sb_grow(sb, len);
	/* Right to left, two digits at a time, straight into the buffer. */
	p = sb->buf + sb->len + len;
	while (v >= 100) {
		p -= 2;
		memcpy(p, digits2 + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(p - 2, digits2 + 2 * v, 2);
	else
		p[-1] = (char)('0' + v);
	sb->len += len;
}

void sb_put_u32(struct sbuf *sb, uint32_t v)
{
	sb_put_u64(sb, v);
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

/* Bytes copied into a JSON string as they are: printable ASCII but '"' and '\\'. */
static const bool json_plain[256] = {
	[0x20 ... '"' - 1] = true,
	['"' + 1 ... '\\' - 1] = true,
	['\\' + 1 ... 0x7f] = true,
};

#define BYTES_1 0x0101010101010101ULL
#define BYTES_80 0x8080808080808080ULL

/*
 * All 8 bytes of w are json_plain: none below 0x20, none '"' or '\\', none
 * with the top bit set. (x - 1) & ~x has a byte's top bit set for the lowest
 * zero byte of x; borrows only make more bits above it, so the test is exact.
 */
static bool json_plain8(uint64_t w)
{
	uint64_t quote = w ^ (BYTES_1 * '"'), bslash = w ^ (BYTES_1 * '\\');

	return !((((w - BYTES_1 * 0x20) & ~w) | ((quote - BYTES_1) & ~quote) |
		  ((bslash - BYTES_1) & ~bslash) | w) & BYTES_80);
}

/* The escape for one byte that is not copied: at most 6 bytes ("\u00XX"). */
static size_t json_escape(char *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '\\';
	switch (c) {
	case '"': out[1] = '"'; return 2;
	case '\\': out[1] = '\\'; return 2;
	case '\n': out[1] = 'n'; return 2;
	case '\t': out[1] = 't'; return 2;
	case '\r': out[1] = 'r'; return 2;
	}
	/* Other control bytes, and bytes that are not UTF-8: keep the value, stay valid JSON. */
	memcpy(out + 1, "u00", 3);
	out[4] = hex[c >> 4];
	out[5] = hex[c & 0xf];
	return 6;
}

void sb_json_str(struct sbuf *sb, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, seq;
	uint64_t w;
	char *p;

	/*
	 * Room for the quotes and every byte as it is, so plain bytes are
	 * stored without checks: there is always room for n - i more and the
	 * closing quote. An escape (up to 6 bytes for 1) asks for more.
	 */
	sb_grow(sb, n + 2);
	p = sb->buf + sb->len;
	*p++ = '"';
	while (i < n) {
		if (n - i >= 8 && (memcpy(&w, s + i, 8), json_plain8(w))) {
			memcpy(p, s + i, 8);
			p += 8;
			i += 8;
		} else if (json_plain[s[i]]) {
			*p++ = s[i++];
		} else if (s[i] >= 0x80 && (seq = utf8_seq(s + i, n - i))) {
			memcpy(p, s + i, seq);
			p += seq;
			i += seq;
		} else {
			sb->len = p - sb->buf;
			sb_grow(sb, 6 + (n - i - 1) + 1);
			p = sb->buf + sb->len;
			p += json_escape(p, s[i++]);
		}
	}
	*p++ = '"';
	sb->len = p - sb->buf;
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
