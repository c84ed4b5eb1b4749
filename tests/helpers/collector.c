// SPDX-License-Identifier: GPL-2.0
/*
 * collector: a loopback HTTP log collector for the sink tests (libmicrohttpd).
 *   collector PORT OUT [--otlp] [--fail N]
 * Listens on 127.0.0.1:PORT and appends every POST body to OUT as it came
 * (JSON lines). With --otlp, a body must be an OTLP/HTTP JSON logs request;
 * each log record becomes one line of OUT: its body turned back into a JSON
 * object, plus "_severity", "_time" and "_event" (the event.name attribute);
 * a body that is not such a request is refused with 400. --fail N answers
 * the first N requests 503. It runs until SIGTERM or SIGINT.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <cjson/cJSON.h>

static FILE *out;
static const char *out_path;
static int otlp, fail_left;

struct req {
	char *buf;
	size_t len;
};

static cJSON *from_any(const cJSON *v);

static cJSON *from_kvlist(const cJSON *values)
{
	cJSON *o = cJSON_CreateObject();
	const cJSON *kv;

	cJSON_ArrayForEach(kv, values) {
		const cJSON *k = cJSON_GetObjectItem(kv, "key");

		if (cJSON_IsString(k))
			cJSON_AddItemToObject(o, k->valuestring,
					      from_any(cJSON_GetObjectItem(kv, "value")));
	}
	return o;
}

/* An OTLP AnyValue back to plain JSON. */
static cJSON *from_any(const cJSON *v)
{
	const cJSON *x;

	if ((x = cJSON_GetObjectItem(v, "stringValue")))
		return cJSON_CreateString(x->valuestring);
	if ((x = cJSON_GetObjectItem(v, "intValue")))
		return cJSON_CreateNumber(strtod(x->valuestring, NULL));
	if ((x = cJSON_GetObjectItem(v, "doubleValue")))
		return cJSON_CreateNumber(x->valuedouble);
	if ((x = cJSON_GetObjectItem(v, "boolValue")))
		return cJSON_CreateBool(cJSON_IsTrue(x));
	if ((x = cJSON_GetObjectItem(v, "kvlistValue")))
		return from_kvlist(cJSON_GetObjectItem(x, "values"));
	if ((x = cJSON_GetObjectItem(v, "arrayValue"))) {
		cJSON *a = cJSON_CreateArray();
		const cJSON *e;

		cJSON_ArrayForEach(e, cJSON_GetObjectItem(x, "values"))
			cJSON_AddItemToArray(a, from_any(e));
		return a;
	}
	return cJSON_CreateNull();
}

static void write_record(const cJSON *r)
{
	cJSON *o = from_any(cJSON_GetObjectItem(r, "body"));
	const cJSON *attrs = cJSON_GetObjectItem(r, "attributes"), *a, *t;
	char *s;

	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = cJSON_CreateObject();
	}
	cJSON_AddItemToObject(o, "_severity",
			      cJSON_Duplicate(cJSON_GetObjectItem(r, "severityNumber"), 1));
	t = cJSON_GetObjectItem(r, "timeUnixNano");
	cJSON_AddStringToObject(o, "_time", cJSON_IsString(t) ? t->valuestring : "missing");
	cJSON_ArrayForEach(a, attrs) {
		if (!strcmp(cJSON_GetObjectItem(a, "key")->valuestring, "event.name"))
			cJSON_AddItemToObject(o, "_event", from_any(cJSON_GetObjectItem(a, "value")));
	}
	s = cJSON_PrintUnformatted(o);
	fprintf(out, "%s\n", s);
	free(s);
	cJSON_Delete(o);
}

/* resourceLogs[].scopeLogs[].logRecords[] -> lines; -1 if the shape is wrong. */
static int write_otlp(const char *body, size_t len)
{
	cJSON *req = cJSON_ParseWithLength(body, len);
	const cJSON *rl, *sl, *r;
	int n = 0;

	cJSON_ArrayForEach(rl, cJSON_GetObjectItem(req, "resourceLogs"))
		cJSON_ArrayForEach(sl, cJSON_GetObjectItem(rl, "scopeLogs"))
			cJSON_ArrayForEach(r, cJSON_GetObjectItem(sl, "logRecords")) {
				write_record(r);
				n++;
			}
	cJSON_Delete(req);
	return n ? 0 : -1;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(c, code, r);

	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *data,
			      size_t *size, void **ctx)
{
	struct req *q = *ctx;

	(void)cls;
	(void)version;
	if (strcmp(method, "POST"))
		return reply(c, 405);
	if (!q) {
		*ctx = calloc(1, sizeof(struct req));
		return MHD_YES;
	}
	if (*size) {
		q->buf = realloc(q->buf, q->len + *size);
		memcpy(q->buf + q->len, data, *size);
		q->len += *size;
		*size = 0;
		return MHD_YES;
	}
	if (fail_left > 0) {
		fail_left--;
		return reply(c, 503);
	}
	/* Opened per request: a test may remove OUT between requests. */
	out = fopen(out_path, "a");
	if (!out)
		return reply(c, 500);
	if (otlp && (strcmp(url, "/v1/logs") || write_otlp(q->buf, q->len))) {
		fclose(out);
		return reply(c, 400);
	}
	if (!otlp)
		fwrite(q->buf, 1, q->len, out);
	fclose(out);
	return reply(c, 200);
}

static void done(void *cls, struct MHD_Connection *c, void **ctx,
		 enum MHD_RequestTerminationCode toe)
{
	struct req *q = *ctx;

	(void)cls;
	(void)c;
	(void)toe;
	if (q)
		free(q->buf);
	free(q);
	*ctx = NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct MHD_Daemon *d;
	sigset_t set;
	int sig;

	if (argc < 3) {
		fprintf(stderr, "usage: collector PORT OUT [--otlp] [--fail N]\n");
		return 2;
	}
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--otlp"))
			otlp = 1;
		else if (!strcmp(argv[i], "--fail") && i + 1 < argc)
			fail_left = atoi(argv[++i]);
	}
	out_path = argv[2];
	sa.sin_port = htons(atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle, NULL,
			     MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
			     MHD_OPTION_NOTIFY_COMPLETED, done, NULL, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "collector: cannot listen on 127.0.0.1:%s\n", argv[1]);
		return 1;
	}
	fprintf(stderr, "collector: listening on 127.0.0.1:%s\n", argv[1]);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
