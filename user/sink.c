// SPDX-License-Identifier: GPL-2.0
/*
 * Event sinks (user/sink.h): the list, the per-line dispatch with the
 * optional OCSF reshaping, spec parsing, and the stream and file sinks.
 * syslog is in sink_syslog.c, http and otlp in sink_http.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "ocsf.h"
#include "sink_impl.h"

const char sink_spec_help[] =
	"  SPEC is one of:\n"
	"    stderr | stdout                   JSON lines on that stream\n"
	"    file:PATH[,max-size=SIZE][,keep=N]  append to PATH; past SIZE (k, M, G)\n"
	"                                      rotate to PATH.1 ... PATH.N (keep=5),\n"
	"                                      reopened on SIGHUP (logrotate)\n"
	"    syslog:unix[:PATH]                RFC 5424 to PATH (/dev/log)\n"
	"    syslog:udp:HOST:PORT | syslog:tcp:HOST:PORT  [,facility=NAME] (auth)\n"
	"    http://URL | https://URL          POST batches of JSON lines; options\n"
	"                                      ,spool=DIR (outages lose nothing,\n"
	"                                      even across restarts) ,max-spool=SIZE\n"
	"                                      ,batch=SIZE ,interval=MS ,timeout=MS\n"
	"    otlp:URL                          OTLP/HTTP JSON logs to URL/v1/logs,\n"
	"                                      same options as http\n";

int64_t sink_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int sink_parse_format(const char *s, enum sink_format *out)
{
	if (!strcmp(s, "json"))
		*out = SINK_FORMAT_JSON;
	else if (!strcmp(s, "ocsf"))
		*out = SINK_FORMAT_OCSF;
	else
		return -EINVAL;
	return 0;
}

int sink_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'M')
		shift = 20;
	else if (*end == 'G')
		shift = 30;
	if (shift)
		end++;
	if (*end || v == 0 || v > (~0ULL >> (shift + 1)))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

int sink_split_hostport(const char *s, char **host, char **port)
{
	const char *colon;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		*host = strndup(s + 1, close - s - 1);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		*host = strndup(s, colon - s);
	}
	*port = xstrdup(colon + 1);
	if (!**host || !**port) {
		free(*host);
		free(*port);
		return -EINVAL;
	}
	return 0;
}

/*
 * Where the options start: the first ",WORD=" (WORD in [a-z-]), known or
 * not, so that a misspelt option is an error rather than part of a path.
 */
static const char *first_opt(const char *rest)
{
	for (const char *p = strchr(rest, ','); p; p = strchr(p + 1, ',')) {
		const char *q = p + 1;

		while ((*q >= 'a' && *q <= 'z') || *q == '-')
			q++;
		if (q > p + 1 && *q == '=')
			return p;
	}
	return NULL;
}

static int set_opt(const char *spec, struct sink_opt *opts, const char *kv, size_t n,
		   struct sbuf *err)
{
	const char *eq = memchr(kv, '=', n);

	for (struct sink_opt *o = opts; eq && o->key; o++) {
		if (strlen(o->key) != (size_t)(eq - kv) || strncmp(kv, o->key, eq - kv))
			continue;
		if (o->val) {
			sb_printf(err, "--sink %s: option %s given twice", spec, o->key);
			return -EINVAL;
		}
		o->val = strndup(eq + 1, n - (eq + 1 - kv));
		return 0;
	}
	sb_printf(err, "--sink %s: unknown option \"%.*s\" (known:", spec, (int)n, kv);
	for (struct sink_opt *o = opts; o->key; o++)
		sb_printf(err, " %s=", o->key);
	sb_putc(err, ')');
	return -EINVAL;
}

char *sink_split_opts(const char *spec, const char *rest, struct sink_opt *opts,
		      struct sbuf *err)
{
	const char *start = first_opt(rest), *p, *end;

	if (!start)
		return xstrdup(rest);
	for (p = start + 1; *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ',');
		if (set_opt(spec, opts, p, end - p, err)) {
			sink_free_opts(opts);
			return NULL;
		}
	}
	return strndup(rest, start - rest);
}

void sink_free_opts(struct sink_opt *opts)
{
	for (struct sink_opt *o = opts; o->key; o++) {
		free(o->val);
		o->val = NULL;
	}
}

/* ---- stream sinks: stderr, stdout ------------------------------------- */

struct fd_sink {
	struct sink base;
	int fd;
	char *path;		/* file sinks: reopened by name */
	uint64_t max_size;	/* 0: no rotation */
	unsigned int keep;
	uint64_t size;		/* of the current file */
	struct sbuf buf;	/* lines of this sink_write() */
	size_t lines;
	bool warned;
};

static int fd_put(struct sink *s, const struct sink_line *l)
{
	struct fd_sink *f = (struct fd_sink *)s;

	sb_put(&f->buf, l->text, l->len);
	f->lines++;
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= w;
	}
	return 0;
}

/* Lines of @p..@p+@n not written: dropped, counted once warned. */
static void fd_failed(struct fd_sink *f, int ret, const char *p, size_t n)
{
	size_t lines = 0;

	for (const char *q = p; (q = memchr(q, '\n', p + n - q)); q++)
		lines++;
	f->base.dropped += lines;
	if (!f->warned)
		pr_warn("cannot write events to %s: %s\n", f->base.spec, strerror(-ret));
	f->warned = true;
}

/* PATH.N goes, PATH.i becomes PATH.i+1, PATH becomes PATH.1, a new PATH opens. */
static int rotate(struct fd_sink *f)
{
	char from[4096 + 16], to[4096 + 16];

	close(f->fd);
	f->fd = -1;
	for (unsigned int i = f->keep; i > 0; i--) {
		snprintf(to, sizeof(to), "%s.%u", f->path, i);
		if (i == 1)
			snprintf(from, sizeof(from), "%s", f->path);
		else
			snprintf(from, sizeof(from), "%s.%u", f->path, i - 1);
		if (rename(from, to) && errno != ENOENT)
			pr_warn("cannot rotate %s to %s: %s\n", from, to, strerror(errno));
	}
	if (!f->keep)
		unlink(f->path);
	f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	f->size = 0;
	return f->fd < 0 ? -errno : 0;
}

/* Write whole lines, rotating before a line that would take the file past max-size. */
static int fd_commit_rotating(struct fd_sink *f)
{
	const char *p = f->buf.buf, *end = p + f->buf.len;
	int ret = 0;

	while (p < end && !ret) {
		const char *q = p;

		/* As many lines as fit; at least one, even a line longer than max-size. */
		while (q < end) {
			const char *nl = memchr(q, '\n', end - q);
			size_t n = (nl ? nl + 1 : end) - q;

			if (f->size + (q - p) + n > f->max_size && (q > p || f->size > 0))
				break;
			q += n;
		}
		if (q == p) {
			ret = rotate(f);
			continue;
		}
		ret = write_all(f->fd, p, q - p);
		if (!ret) {
			f->size += q - p;
			p = q;
		}
	}
	if (ret)
		fd_failed(f, ret, p, end - p);
	return ret;
}

static int fd_commit(struct sink *s)
{
	struct fd_sink *f = (struct fd_sink *)s;
	int ret = 0;

	if (!f->buf.len)
		return 0;
	if (f->fd < 0)
		ret = -EBADF;	/* a reopen failed; it is retried at the next SIGHUP */
	else if (f->max_size)
		ret = fd_commit_rotating(f);
	else
		ret = write_all(f->fd, f->buf.buf, f->buf.len);
	if (ret && !f->max_size)
		fd_failed(f, ret, f->buf.buf, f->buf.len);
	else if (!ret)
		f->warned = false;
	f->buf.len = 0;
	f->lines = 0;
	return ret;
}

/* sink_protect_files(): called with each file a sink opens from then on. */
static int (*file_hook)(int fd, void *ctx);
static void *file_hook_ctx;

static void protect_file(const struct fd_sink *f)
{
	int ret;

	if (!file_hook || f->fd < 0)
		return;
	ret = file_hook(f->fd, file_hook_ctx);
	if (ret)
		pr_warn("cannot protect %s from the agents (%s): an agent may be able to write to it\n",
			f->path, strerror(-ret));
}

static int open_file(struct fd_sink *f)
{
	struct stat st;

	f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (f->fd < 0)
		return -errno;
	f->size = fstat(f->fd, &st) ? 0 : (uint64_t)st.st_size;
	protect_file(f);
	return 0;
}


static void fd_reopen(struct sink *s)
{
	struct fd_sink *f = (struct fd_sink *)s;
	int ret;

	if (!f->path)
		return;
	if (f->fd >= 0)
		close(f->fd);
	ret = open_file(f);
	if (ret)
		pr_warn("cannot reopen %s: %s\n", f->path, strerror(-ret));
}

static int fd_flush(struct sink *s, int timeout_ms)
{
	(void)timeout_ms;
	return fd_commit(s);
}

static void fd_close(struct sink *s)
{
	struct fd_sink *f = (struct fd_sink *)s;

	if (f->path && f->fd >= 0)
		close(f->fd);
	free(f->path);
	sb_free(&f->buf);
	free(f);
}

static const struct sink_ops fd_ops = {
	.put = fd_put, .commit = fd_commit, .reopen = fd_reopen, .flush = fd_flush,
	.close = fd_close,
};

void sink_protect_files(struct sink *list, int (*hook)(int fd, void *ctx), void *ctx)
{
	file_hook = hook;
	file_hook_ctx = ctx;
	for (struct sink *s = list; s; s = s->next)
		if (s->ops == &fd_ops && ((struct fd_sink *)s)->path)
			protect_file((struct fd_sink *)s);
}

static struct sink *stream_open(int fd)
{
	struct fd_sink *f = xcalloc(1, sizeof(*f));

	f->base.ops = &fd_ops;
	f->fd = fd;
	return &f->base;
}

int sink_file_open(struct sink **out, const char *spec, const char *rest, struct sbuf *err)
{
	struct sink_opt opts[] = { { "max-size", NULL }, { "keep", NULL }, { NULL, NULL } };
	char *path = sink_split_opts(spec, rest, opts, err);
	struct fd_sink *f;
	long keep = 5;
	int ret = 0;

	if (!path)
		return -EINVAL;
	f = xcalloc(1, sizeof(*f));
	f->base.ops = &fd_ops;
	f->path = path;
	if (!*path) {
		sb_printf(err, "--sink %s: no file name", spec);
		ret = -EINVAL;
	} else if (opts[0].val && sink_parse_size(opts[0].val, &f->max_size)) {
		sb_printf(err, "--sink %s: bad max-size \"%s\" (a size in bytes, with k, M or G)",
			  spec, opts[0].val);
		ret = -EINVAL;
	} else if (opts[1].val && parse_long(opts[1].val, 0, 1000, &keep)) {
		sb_printf(err, "--sink %s: bad keep \"%s\" (0 to 1000 rotated files)", spec,
			  opts[1].val);
		ret = -EINVAL;
	} else if (opts[1].val && !f->max_size) {
		sb_printf(err, "--sink %s: keep= needs max-size=", spec);
		ret = -EINVAL;
	}
	f->keep = keep;
	if (!ret) {
		ret = open_file(f);
		if (ret)
			sb_printf(err, "--sink %s: cannot open %s: %s", spec, path, strerror(-ret));
	}
	sink_free_opts(opts);
	if (ret) {
		free(path);
		free(f);
		return ret;
	}
	*out = &f->base;
	return 0;
}

/* --events FILE: append, no rotation, the name taken as it is. */
static int plain_file_open(struct sink **out, const char *path, struct sbuf *err)
{
	struct fd_sink *f = xcalloc(1, sizeof(*f));
	int ret;

	f->base.ops = &fd_ops;
	f->path = xstrdup(path);
	ret = open_file(f);
	if (ret) {
		sb_printf(err, "cannot open %s: %s", path, strerror(-ret));
		free(f->path);
		free(f);
		return ret;
	}
	*out = &f->base;
	return 0;
}

/* ---- the list ----------------------------------------------------------- */

static void append(struct sink **list, struct sink *s, const char *spec,
		   const struct sink_opts *o)
{
	if (!s->spec)
		s->spec = xstrdup(spec);
	s->opts = *o;
	while (*list)
		list = &(*list)->next;
	*list = s;
}

int sink_open_file(struct sink **list, const char *path, const struct sink_opts *o,
		   struct sbuf *err)
{
	struct sink *s;
	int ret = plain_file_open(&s, path, err);

	if (!ret)
		append(list, s, path, o);
	return ret;
}

int sink_open(struct sink **list, const char *spec, const struct sink_opts *o,
	      struct sbuf *err)
{
	struct sink *s = NULL;
	int ret = 0;

	if (!strcmp(spec, "stderr") || !strcmp(spec, "-"))
		s = stream_open(STDERR_FILENO);
	else if (!strcmp(spec, "stdout"))
		s = stream_open(STDOUT_FILENO);
	else if (!strncmp(spec, "file:", 5))
		ret = sink_file_open(&s, spec, spec + 5, err);
	else if (!strncmp(spec, "syslog:", 7))
		ret = sink_syslog_open(&s, spec, spec + 7, err);
	else if (!strncmp(spec, "http://", 7) || !strncmp(spec, "https://", 8))
		ret = sink_http_open(&s, spec, spec, false, err);
	else if (!strncmp(spec, "http:", 5))
		ret = sink_http_open(&s, spec, spec + 5, false, err);
	else if (!strncmp(spec, "otlp:", 5))
		ret = sink_http_open(&s, spec, spec + 5, true, err);
	else {
		sb_printf(err, "--sink %s: unknown kind of sink (stderr, stdout, file:, syslog:, http://, https://, otlp:)",
			  spec);
		ret = -EINVAL;
	}
	if (ret)
		return ret;
	append(list, s, spec, o);
	return 0;
}

/* What syslog and OTLP need of a contract line. */
static void line_meta(struct sink_line *l, cJSON *o)
{
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "event");
	const cJSON *dec = cJSON_GetObjectItemCaseSensitive(o, "decision");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "time");

	l->event = cJSON_IsString(ev) ? ev->valuestring : "unknown";
	l->time = cJSON_IsString(t) ? t->valuestring : NULL;
	l->warning = !strcmp(l->event, "lost") ||
		     (cJSON_IsString(dec) && !strcmp(dec->valuestring, "deny"));
}

/* One contract line to one sink, with a pending lost event first. */
static int put_one(struct sink *s, const struct sink_line *l);

static void put_lost(struct sink *s)
{
	struct sink_line l = { .event = "lost", .warning = true };
	struct sbuf raw = {0}, shaped = {0};
	uint64_t n = s->dropped - s->reported;
	static const struct agent_info nobody = { .name = "warden" };

	event_format_lost(&raw, s->opts.ai ? s->opts.ai : &nobody, n, "sink_full",
			  realtime_ns());
	l.text = raw.buf;
	l.len = raw.len;
	if (s->opts.format == SINK_FORMAT_OCSF) {
		ocsf_line(&shaped, raw.buf, raw.len);
		l.text = shaped.buf;
		l.len = shaped.len;
	}
	if (s->ops->put(s, &l) == 0)
		s->reported += n;
	sb_free(&raw);
	sb_free(&shaped);
}

static int put_one(struct sink *s, const struct sink_line *l)
{
	if (s->dropped > s->reported)
		put_lost(s);
	if (s->ops->put(s, l)) {
		s->dropped++;
		return -EIO;
	}
	return 0;
}

static bool list_needs_meta(const struct sink *list)
{
	for (; list; list = list->next)
		if (list->ops->needs_meta)
			return true;
	return false;
}

int sink_write(struct sink *list, const char *lines, size_t len)
{
	const char *p = lines, *end = lines + len;
	bool meta = list_needs_meta(list);
	struct sbuf shaped = {0};
	int ret = 0;

	if (!list)
		return 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = (nl ? nl + 1 : end) - p;
		struct sink_line l = { .text = p, .len = n, .event = "unknown" };
		cJSON *o = meta ? cJSON_ParseWithLength(p, n) : NULL;

		if (o)
			line_meta(&l, o);
		if (list->opts.format == SINK_FORMAT_OCSF) {
			shaped.len = 0;
			ocsf_line(&shaped, p, n);
			l.text = shaped.buf;
			l.len = shaped.len;
		}
		for (struct sink *s = list; s; s = s->next)
			ret |= put_one(s, &l);
		cJSON_Delete(o);
		p += n;
	}
	sb_free(&shaped);
	for (struct sink *s = list; s; s = s->next)
		ret |= s->ops->commit(s);
	return ret ? -EIO : 0;
}

void sink_reopen(struct sink *list)
{
	for (; list; list = list->next)
		if (list->ops->reopen)
			list->ops->reopen(list);
}

int sink_flush(struct sink *list, int timeout_ms)
{
	int64_t deadline = sink_now_ms() + timeout_ms;
	int ret = 0;

	for (; list; list = list->next) {
		int64_t left = deadline - sink_now_ms();
		int r = list->ops->flush(list, left > 0 ? (int)left : 0);

		/* A loss not reported yet: once there is room again, it goes out too. */
		if (!r && list->dropped > list->reported) {
			put_lost(list);
			list->ops->commit(list);
			left = deadline - sink_now_ms();
			r = list->ops->flush(list, left > 0 ? (int)left : 0);
		}
		if (r)
			ret = -ETIMEDOUT;
	}
	return ret;
}

uint64_t sink_dropped(const struct sink *list)
{
	uint64_t n = 0;

	for (; list; list = list->next)
		n += list->dropped;
	return n;
}

void sink_close(struct sink *list)
{
	while (list) {
		struct sink *next = list->next;
		char *spec = list->spec;

		if (list->dropped > list->reported)
			pr_warn("%s: %llu events dropped and never reported there\n", spec,
				(unsigned long long)(list->dropped - list->reported));
		list->ops->close(list);
		free(spec);
		list = next;
	}
}
