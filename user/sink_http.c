// SPDX-License-Identifier: GPL-2.0
/*
 * http and otlp sinks: lines are gathered into batches, sealed after
 * `interval` ms or `batch` bytes, queued, and POSTed in order by a
 * background thread (libcurl), so the event drain never waits on the
 * network. A batch leaves the queue only when the collector answered 2xx;
 * any other outcome is retried after an exponential backoff (0.5 s doubling
 * to 30 s): an outage loses nothing, and order is kept.
 *
 * With spool=DIR every batch is also a file, DIR/<20-digit seq>.open while
 * it fills (appended at each sink_write) and .batch once sealed; files left
 * by an earlier run are sent first. The queue is bounded (max-spool): when
 * full, new lines are dropped and counted, and a "lost" event with reason
 * sink_full goes out as soon as there is room again.
 *
 * otlp: each batch becomes one OTLP/HTTP JSON ExportLogsServiceRequest
 * (resourceLogs/scopeLogs/logRecords, body = the event object).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "ocsf.h"
#include "sink_impl.h"

#ifndef WARDEN_VERSION
#define WARDEN_VERSION "unknown"
#endif

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000

struct batch {
	struct batch *next;
	uint64_t seq;
	char *data;	/* NULL: in the spool file */
	size_t len;
	size_t lines;
};

struct http_sink {
	struct sink base;
	char *url;
	bool otlp;
	char *spool;		/* NULL: memory only */
	int lock_fd;
	uint64_t max_queue, batch_max;
	int interval_ms, timeout_ms;

	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;	/* work for the thread, or progress for flush */
	bool stop, seal_now;
	bool fresh;		/* a batch was started: the thread must time it */
	/* the batch being filled */
	struct sbuf cur;
	size_t cur_lines, cur_written;
	int64_t cur_since;
	int cur_fd;
	uint64_t next_seq;
	/* sealed batches, oldest first */
	struct batch *head, **tail;
	uint64_t queued;	/* bytes, sealed and being filled */
	bool failing;		/* warned about the current outage */
};

/* ---- the spool directory --------------------------------------------- */

static void spool_name(const struct http_sink *h, uint64_t seq, const char *ext, char *buf,
		       size_t size)
{
	snprintf(buf, size, "%s/%020llu.%s", h->spool, (unsigned long long)seq, ext);
}

static int cmp_seq(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void enqueue(struct http_sink *h, struct batch *b)
{
	b->next = NULL;
	*h->tail = b;
	h->tail = &b->next;
}

/* Batches an earlier run left: they go first, in their order. */
static int spool_load(struct http_sink *h, struct sbuf *err)
{
	DIR *d = opendir(h->spool);
	uint64_t *seqs = NULL, seq;
	size_t n = 0, cap = 0;
	struct dirent *e;
	char a[4200], b[4200];
	struct stat st;

	if (!d) {
		sb_printf(err, "--sink %s: cannot open spool %s: %s", h->base.spec, h->spool,
			  strerror(errno));
		return -errno;
	}
	while ((e = readdir(d))) {
		char ext[8];

		if (strlen(e->d_name) < 26 || sscanf(e->d_name, "%20llu.%7s",
						      (unsigned long long *)&seq, ext) != 2 ||
		    (strcmp(ext, "open") && strcmp(ext, "batch")))
			continue;
		if (!strcmp(ext, "open")) {	/* warden stopped while it filled */
			spool_name(h, seq, "open", a, sizeof(a));
			spool_name(h, seq, "batch", b, sizeof(b));
			rename(a, b);
		}
		if (n == cap)
			seqs = xrealloc(seqs, (cap = cap * 2 + 16) * sizeof(*seqs));
		seqs[n++] = seq;
	}
	closedir(d);
	if (n)
		qsort(seqs, n, sizeof(*seqs), cmp_seq);
	for (size_t i = 0; i < n; i++) {
		struct batch *bt = xcalloc(1, sizeof(*bt));

		bt->seq = seqs[i];
		spool_name(h, seqs[i], "batch", a, sizeof(a));
		bt->len = stat(a, &st) ? 0 : st.st_size;
		h->queued += bt->len;
		enqueue(h, bt);
		h->next_seq = seqs[i] + 1;
	}
	if (n)
		pr_warn("%s: %zu batches (%llu bytes) left in %s by an earlier run are sent first\n",
			h->base.spec, n, (unsigned long long)h->queued, h->spool);
	free(seqs);
	return 0;
}

/* One warden per spool: two would interleave and reorder batches. */
static int spool_lock(struct http_sink *h, struct sbuf *err)
{
	char path[4200];

	if (mkdir(h->spool, 0700) && errno != EEXIST) {
		sb_printf(err, "--sink %s: cannot create spool %s: %s", h->base.spec, h->spool,
			  strerror(errno));
		return -errno;
	}
	snprintf(path, sizeof(path), "%s/lock", h->spool);
	h->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (h->lock_fd < 0 || flock(h->lock_fd, LOCK_EX | LOCK_NB)) {
		int e = errno;

		sb_printf(err, "--sink %s: cannot lock spool %s: %s", h->base.spec, h->spool,
			  e == EWOULDBLOCK ? "another warden uses it" : strerror(e));
		return -e;
	}
	return spool_load(h, err);
}

/* Append what the current batch gained to its .open file. Under mu. */
static void spool_append(struct http_sink *h)
{
	char path[4200];

	if (!h->spool || h->cur_written == h->cur.len)
		return;
	if (h->cur_fd < 0) {
		spool_name(h, h->next_seq, "open", path, sizeof(path));
		h->cur_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (h->cur_fd < 0) {
			pr_warn("%s: cannot write %s: %s; the batch stays in memory only\n",
				h->base.spec, path, strerror(errno));
			return;
		}
	}
	while (h->cur_written < h->cur.len) {
		ssize_t n = write(h->cur_fd, h->cur.buf + h->cur_written,
				  h->cur.len - h->cur_written);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pr_warn("%s: cannot write the spool: %s\n", h->base.spec,
				strerror(n < 0 ? errno : EIO));
			return;
		}
		h->cur_written += n;
	}
}

/* The current batch joins the queue. Under mu. */
static void seal(struct http_sink *h)
{
	struct batch *b;
	char a[4200], c[4200];

	if (!h->cur.len)
		return;
	b = xcalloc(1, sizeof(*b));
	b->seq = h->next_seq++;
	b->len = h->cur.len;
	b->lines = h->cur_lines;
	spool_append(h);
	if (h->cur_fd >= 0 && h->cur_written == h->cur.len) {
		close(h->cur_fd);
		spool_name(h, b->seq, "open", a, sizeof(a));
		spool_name(h, b->seq, "batch", c, sizeof(c));
		if (rename(a, c) == 0) {
			free(h->cur.buf);	/* it lives in the file now */
			h->cur = (struct sbuf){0};
		}
	} else if (h->cur_fd >= 0) {
		close(h->cur_fd);
		spool_name(h, b->seq, "open", a, sizeof(a));
		unlink(a);	/* incomplete: the memory copy is the batch */
	}
	h->cur_fd = -1;
	if (h->cur.len) {
		b->data = h->cur.buf;
		h->cur = (struct sbuf){0};
	}
	enqueue(h, b);
	h->cur_lines = 0;
	h->cur_written = 0;
}

/* ---- OTLP ------------------------------------------------------------- */

static cJSON *any_value(const cJSON *v);

static cJSON *kv(const char *key, cJSON *value)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "key", key);
	cJSON_AddItemToObject(o, "value", value);
	return o;
}

/* A JSON value as an OTLP AnyValue (int64 as a decimal string, as OTLP/JSON wants). */
static cJSON *any_value(const cJSON *v)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	const cJSON *c;
	char buf[32];

	if (cJSON_IsString(v)) {
		cJSON_AddStringToObject(o, "stringValue", v->valuestring);
	} else if (cJSON_IsBool(v)) {
		cJSON_AddBoolToObject(o, "boolValue", cJSON_IsTrue(v));
	} else if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble) {
		snprintf(buf, sizeof(buf), "%lld", (long long)v->valuedouble);
		cJSON_AddStringToObject(o, "intValue", buf);
	} else if (cJSON_IsNumber(v)) {
		cJSON_AddNumberToObject(o, "doubleValue", v->valuedouble);
	} else if (cJSON_IsArray(v)) {
		arr = cJSON_AddArrayToObject(cJSON_AddObjectToObject(o, "arrayValue"), "values");
		cJSON_ArrayForEach(c, v)
			cJSON_AddItemToArray(arr, any_value(c));
	} else if (cJSON_IsObject(v)) {
		arr = cJSON_AddArrayToObject(cJSON_AddObjectToObject(o, "kvlistValue"), "values");
		cJSON_ArrayForEach(c, v)
			cJSON_AddItemToArray(arr, kv(c->string, any_value(c)));
	}
	return o;	/* null: an empty AnyValue */
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A denial or a loss is WARN (13), the rest INFO (9); contract or OCSF lines. */
static bool is_warning(const cJSON *e)
{
	const char *dec = str_of(e, "decision"), *ev = str_of(e, "event");
	const cJSON *disp = cJSON_GetObjectItemCaseSensitive(e, "disposition_id");
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(e, "class_uid");
	const cJSON *sev = cJSON_GetObjectItemCaseSensitive(e, "severity_id");

	if (cJSON_IsNumber(cls))	/* OCSF */
		return (cJSON_IsNumber(disp) && disp->valueint == 2) ||
		       (cJSON_IsNumber(sev) && sev->valueint >= 4);
	return (dec && !strcmp(dec, "deny")) || (ev && !strcmp(ev, "lost"));
}

static void add_attr(cJSON *attrs, const char *key, const char *val)
{
	cJSON *v;

	if (!val)
		return;
	v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "stringValue", val);
	cJSON_AddItemToArray(attrs, kv(key, v));
}

static cJSON *log_record(const char *line, size_t len, const char *now)
{
	cJSON *e = cJSON_ParseWithLength(line, len), *r = cJSON_CreateObject(), *attrs;
	const char *t = str_of(e, "time");
	long long ns = ocsf_parse_time(t);
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(e, "time");
	bool warn = is_warning(e);
	char buf[32];

	if (ns < 0 && cJSON_IsNumber(ms))	/* OCSF: ms since the epoch */
		ns = (long long)ms->valuedouble * 1000000LL;
	snprintf(buf, sizeof(buf), "%lld", ns < 0 ? 0 : ns);
	cJSON_AddStringToObject(r, "timeUnixNano", ns < 0 ? now : buf);
	cJSON_AddStringToObject(r, "observedTimeUnixNano", now);
	cJSON_AddNumberToObject(r, "severityNumber", warn ? 13 : 9);
	cJSON_AddStringToObject(r, "severityText", warn ? "WARN" : "INFO");
	if (e) {
		cJSON_AddItemToObject(r, "body", any_value(e));
	} else {
		char *s = strndup(line, len);

		cJSON_AddItemToObject(cJSON_AddObjectToObject(r, "body"), "stringValue",
				      cJSON_CreateString(s));
		free(s);
	}
	attrs = cJSON_AddArrayToObject(r, "attributes");
	add_attr(attrs, "event.name", str_of(e, "event") ? str_of(e, "event") :
				      str_of(e, "class_name"));
	add_attr(attrs, "warden.agent", str_of(e, "agent"));
	add_attr(attrs, "warden.instance", str_of(e, "instance"));
	add_attr(attrs, "warden.decision", str_of(e, "decision"));
	cJSON_Delete(e);
	return r;
}

/* One ExportLogsServiceRequest for the lines of @data. */
static char *otlp_body(const char *data, size_t len)
{
	cJSON *req = cJSON_CreateObject(), *rl, *res, *sl, *scope, *recs;
	const char *p = data, *end = data + len;
	char now[32], host[256] = "";
	char *out;

	snprintf(now, sizeof(now), "%lld", (long long)realtime_ns());
	gethostname(host, sizeof(host) - 1);
	rl = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(req, "resourceLogs"), rl);
	res = cJSON_AddObjectToObject(rl, "resource");
	recs = cJSON_AddArrayToObject(res, "attributes");
	add_attr(recs, "service.name", "warden");
	add_attr(recs, "service.version", WARDEN_VERSION);
	add_attr(recs, "host.name", host);
	sl = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(rl, "scopeLogs"), sl);
	scope = cJSON_AddObjectToObject(sl, "scope");
	cJSON_AddStringToObject(scope, "name", "warden");
	cJSON_AddStringToObject(scope, "version", WARDEN_VERSION);
	recs = cJSON_AddArrayToObject(sl, "logRecords");
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = (nl ? nl : end) - p;

		if (n)
			cJSON_AddItemToArray(recs, log_record(p, n, now));
		p += n + 1;
	}
	out = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	return out;
}

/* ---- delivery (the thread) --------------------------------------------- */

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

/* The batch's bytes: from memory, or read back from the spool. */
static char *batch_data(struct http_sink *h, const struct batch *b, size_t *len)
{
	char path[4200], *data;
	int ret;

	if (b->data) {
		*len = b->len;
		data = xmalloc(b->len + 1);
		memcpy(data, b->data, b->len);
		return data;
	}
	spool_name(h, b->seq, "batch", path, sizeof(path));
	ret = read_file(path, &data, len);
	if (ret) {
		pr_warn("%s: cannot read %s: %s; the batch is lost\n", h->base.spec, path,
			strerror(-ret));
		return NULL;
	}
	return data;
}

/* POST one batch. Returns 0 when the collector took it (2xx). */
static int post(struct http_sink *h, CURL *c, const char *data, size_t len, char *why,
		size_t size)
{
	struct curl_slist *hdr = NULL;
	char *body = NULL;
	long code = 0;
	CURLcode rc;

	if (h->otlp) {
		body = otlp_body(data, len);
		data = body;
		len = strlen(body);
	}
	hdr = curl_slist_append(hdr, h->otlp ? "Content-Type: application/json" :
					       "Content-Type: application/x-ndjson");
	hdr = curl_slist_append(hdr, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, h->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdr);
	free(body);
	if (rc != CURLE_OK)
		snprintf(why, size, "%s", curl_easy_strerror(rc));
	else if (code < 200 || code > 299)
		snprintf(why, size, "HTTP status %ld", code);
	return rc == CURLE_OK && code >= 200 && code <= 299 ? 0 : -EIO;
}

/* Delivered: the batch leaves the queue (and the spool). Under mu. */
static void done(struct http_sink *h, struct batch *b)
{
	char path[4200];

	h->head = b->next;
	if (!h->head)
		h->tail = &h->head;
	h->queued -= b->len;
	if (!b->data) {
		spool_name(h, b->seq, "batch", path, sizeof(path));
		unlink(path);
	}
	free(b->data);
	free(b);
}

static void wait_ms(struct http_sink *h, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&h->cv, &h->mu, &ts);
}

/* Try the oldest batch once. Called with mu held; drops it while posting. */
static int send_head(struct http_sink *h, CURL *c)
{
	struct batch *b = h->head;
	char why[256];
	size_t len;
	char *data;
	int ret;

	pthread_mutex_unlock(&h->mu);
	data = batch_data(h, b, &len);
	ret = data ? post(h, c, data, len, why, sizeof(why)) : 0;
	free(data);
	pthread_mutex_lock(&h->mu);
	if (ret) {
		if (!h->failing)
			pr_warn("%s: cannot deliver events (%s); retrying, they are kept%s\n",
				h->base.spec, why, h->spool ? " in the spool" : " in memory");
		h->failing = true;
		return ret;
	}
	if (h->failing)
		pr_warn("%s: delivering again\n", h->base.spec);
	h->failing = false;
	done(h, b);
	pthread_cond_broadcast(&h->cv);
	return 0;
}

static void *sender(void *arg)
{
	struct http_sink *h = arg;
	CURL *c = curl_easy_init();
	int64_t backoff = 0, retry_at = 0;

	pthread_mutex_lock(&h->mu);
	while (!h->stop) {
		int64_t now = sink_now_ms();

		if (h->cur.len && (h->seal_now || now - h->cur_since >= h->interval_ms ||
				   h->cur.len >= h->batch_max))
			seal(h);
		h->seal_now = false;
		if (!h->head) {
			wait_ms(h, h->cur.len ? h->interval_ms - (now - h->cur_since) + 1 : 1000);
			continue;
		}
		if (now < retry_at) {
			wait_ms(h, retry_at - now);
			continue;
		}
		if (!c || send_head(h, c)) {
			backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
			if (backoff > BACKOFF_MAX_MS)
				backoff = BACKOFF_MAX_MS;
			retry_at = sink_now_ms() + backoff;
		} else {
			backoff = 0;
			retry_at = 0;
		}
	}
	pthread_mutex_unlock(&h->mu);
	if (c)
		curl_easy_cleanup(c);
	return NULL;
}

/* ---- the sink ---------------------------------------------------------- */

static int http_put(struct sink *s, const struct sink_line *l)
{
	struct http_sink *h = (struct http_sink *)s;
	int ret = 0;

	pthread_mutex_lock(&h->mu);
	if (h->queued + l->len > h->max_queue) {
		ret = -ENOSPC;
	} else {
		if (!h->cur.len) {
			h->cur_since = sink_now_ms();
			h->fresh = true;
		}
		sb_put(&h->cur, l->text, l->len);
		h->cur_lines++;
		h->queued += l->len;
	}
	pthread_mutex_unlock(&h->mu);
	return ret;
}

static int http_commit(struct sink *s)
{
	struct http_sink *h = (struct http_sink *)s;

	pthread_mutex_lock(&h->mu);
	spool_append(h);
	if (h->fresh || h->cur.len >= h->batch_max)
		pthread_cond_broadcast(&h->cv);
	h->fresh = false;
	pthread_mutex_unlock(&h->mu);
	return 0;
}

static int http_flush(struct sink *s, int timeout_ms)
{
	struct http_sink *h = (struct http_sink *)s;
	int64_t deadline = sink_now_ms() + timeout_ms;
	int ret = 0;

	pthread_mutex_lock(&h->mu);
	spool_append(h);
	h->seal_now = true;
	pthread_cond_broadcast(&h->cv);
	while (h->head || h->cur.len) {
		int64_t left = deadline - sink_now_ms();

		if (left <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		wait_ms(h, left);
	}
	pthread_mutex_unlock(&h->mu);
	return ret;
}

/* What never reached the collector: in the spool for next time, or lost. */
static void report_pending(struct http_sink *h)
{
	size_t lines = h->cur_lines, batches = 0;

	for (struct batch *b = h->head; b; b = b->next, batches++)
		lines += b->lines;
	if (h->spool && (h->head || h->cur.len))
		pr_warn("%s: %llu bytes of events not delivered yet stay in %s and are sent first by the next warden using it\n",
			h->base.spec, (unsigned long long)h->queued, h->spool);
	else if (!h->spool && lines)
		pr_warn("%s: %zu events could not be delivered and are lost (a spool=DIR keeps them)\n",
			h->base.spec, lines);
}

static void http_close(struct sink *s)
{
	struct http_sink *h = (struct http_sink *)s;

	if (h->started) {
		pthread_mutex_lock(&h->mu);
		h->stop = true;
		pthread_cond_broadcast(&h->cv);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->thread, NULL);
	}
	if (h->spool)
		seal(h);	/* a complete .batch for the next run */
	report_pending(h);
	while (h->head) {
		struct batch *b = h->head;

		h->head = b->next;
		free(b->data);
		free(b);
	}
	if (h->cur_fd >= 0)
		close(h->cur_fd);
	if (h->lock_fd >= 0)
		close(h->lock_fd);
	sb_free(&h->cur);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	free(h->url);
	free(h->spool);
	free(h);
}

static const struct sink_ops http_ops = {
	.put = http_put, .commit = http_commit, .flush = http_flush, .close = http_close,
};

static int set_options(struct http_sink *h, const char *spec, struct sink_opt *o,
		       struct sbuf *err)
{
	long ms;

	h->max_queue = h->spool ? 1ull << 30 : 64u << 20;
	h->batch_max = 1u << 20;
	h->interval_ms = 1000;
	h->timeout_ms = 10000;
	if (o[1].val && sink_parse_size(o[1].val, &h->max_queue)) {
		sb_printf(err, "--sink %s: bad max-spool \"%s\" (a size, with k, M or G)", spec, o[1].val);
		return -EINVAL;
	}
	if (o[2].val && sink_parse_size(o[2].val, &h->batch_max)) {
		sb_printf(err, "--sink %s: bad batch \"%s\" (a size, with k, M or G)", spec, o[2].val);
		return -EINVAL;
	}
	if (o[3].val) {
		if (parse_long(o[3].val, 1, 3600000, &ms)) {
			sb_printf(err, "--sink %s: bad interval \"%s\" (1 to 3600000 ms)", spec, o[3].val);
			return -EINVAL;
		}
		h->interval_ms = ms;
	}
	if (o[4].val) {
		if (parse_long(o[4].val, 1, 3600000, &ms)) {
			sb_printf(err, "--sink %s: bad timeout \"%s\" (1 to 3600000 ms)", spec, o[4].val);
			return -EINVAL;
		}
		h->timeout_ms = ms;
	}
	return 0;
}

/* http(s)://HOST[:PORT][/PATH]; otlp appends /v1/logs to an empty path. */
static int set_url(struct http_sink *h, const char *spec, const char *url, struct sbuf *err)
{
	const char *host, *path;

	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
		sb_printf(err, "--sink %s: bad URL \"%s\" (http://HOST[:PORT]/PATH or https://...)",
			  spec, url);
		return -EINVAL;
	}
	host = strstr(url, "://") + 3;
	path = strchrnul(host, '/');
	if (path == host) {
		sb_printf(err, "--sink %s: bad URL \"%s\": no host", spec, url);
		return -EINVAL;
	}
	h->url = xmalloc(strlen(url) + 16);
	strcpy(h->url, url);
	if (h->otlp && (!*path || !strcmp(path, "/")))
		strcpy(h->url + (path - url), "/v1/logs");
	return 0;
}

int sink_http_open(struct sink **out, const char *spec, const char *url, bool otlp,
		   struct sbuf *err)
{
	struct sink_opt o[] = { { "spool", NULL }, { "max-spool", NULL }, { "batch", NULL },
				{ "interval", NULL }, { "timeout", NULL }, { NULL, NULL } };
	char *target = sink_split_opts(spec, url, o, err);
	struct http_sink *h;
	int ret;

	if (!target)
		return -EINVAL;
	h = xcalloc(1, sizeof(*h));
	h->base.ops = &http_ops;
	h->base.spec = xstrdup(spec);	/* the thread's messages name it from the start */
	h->otlp = otlp;
	h->cur_fd = h->lock_fd = -1;
	h->tail = &h->head;
	h->spool = o[0].val ? xstrdup(o[0].val) : NULL;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	ret = set_url(h, spec, target, err);
	if (!ret)
		ret = set_options(h, spec, o, err);
	if (!ret && h->spool)
		ret = spool_lock(h, err);
	if (!ret && curl_global_init(CURL_GLOBAL_DEFAULT)) {
		sb_printf(err, "--sink %s: cannot initialise libcurl", spec);
		ret = -ENOMEM;
	}
	if (!ret && (ret = -pthread_create(&h->thread, NULL, sender, h)))
		sb_printf(err, "--sink %s: cannot start its thread: %s", spec, strerror(-ret));
	h->started = !ret;
	sink_free_opts(o);
	free(target);
	if (ret) {
		free(h->base.spec);
		http_close(&h->base);
		return ret;
	}
	*out = &h->base;
	return 0;
}
