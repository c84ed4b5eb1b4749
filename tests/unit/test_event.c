// SPDX-License-Identifier: GPL-2.0
/*
 * Events (user/event.c, sb_json_str in user/util.c): ring buffer records to
 * the contract's JSON lines. Every line produced is also checked with cJSON.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "event.h"
#include "policy.h"

/* 2026-11-26T20:11:03Z is 1795723863 s after the epoch. */
#define WALL_NS 1795723863123456789LL
#define BOOT_NS 12345678901ULL
#define OFFSET ((int64_t)(WALL_NS - (int64_t)BOOT_NS))

static const struct agent_info AGENT = {
	.name = "coding-agent",
	.identity = "spiffe://example.org/agents/coder",
	.instance = "3f9c0e",
};

struct rec {
	size_t size;
	union {
		struct wd_event ev;
		unsigned char bytes[WD_EVENT_MAX + 64];
	};
};

/* The contract's example record: cat reads ~/.ssh/id_ed25519, denied by rule 2. */
static void mkrec_n(struct rec *r, const char *path, size_t path_len, const char *exe,
		    size_t exe_len)
{
	memset(r, 0, sizeof(*r));
	r->ev.boot_ns = BOOT_NS;
	r->ev.type = WD_EV_FILE;
	r->ev.agent = 3;
	r->ev.pid = 4242;
	r->ev.tid = 4243;
	r->ev.ppid = 4200;
	r->ev.uid = 1000;
	r->ev.gid = 1001;
	r->ev.rule = 2;
	r->ev.right = WD_RIGHT_READ;
	r->ev.decision = WD_DEC_DENY;
	r->ev.path_len = path_len;
	r->ev.exe_len = exe_len;
	memcpy(r->ev.comm, "cat", 3);
	memcpy(r->bytes + sizeof(struct wd_event), path, path_len);
	memcpy(r->bytes + sizeof(struct wd_event) + path_len, exe, exe_len);
	r->size = sizeof(struct wd_event) + path_len + exe_len;
}

static void mkrec(struct rec *r, const char *path, const char *exe)
{
	mkrec_n(r, path, strlen(path), exe, strlen(exe));
}

/* One line, valid JSON, a single object; returns it parsed. */
static cJSON *valid_line(const struct sbuf *sb)
{
	cJSON *j;
	char *s;

	assert_true(sb->len > 2);
	assert_null(memchr(sb->buf, '\0', sb->len));
	assert_int_equal(sb->buf[sb->len - 1], '\n');
	assert_null(memchr(sb->buf, '\n', sb->len - 1));
	s = strndup(sb->buf, sb->len);
	j = cJSON_Parse(s);
	if (!j)
		print_error("not JSON: %s", s);
	assert_non_null(j);
	assert_true(cJSON_IsObject(j));
	free(s);
	return j;
}

/* Format @r; the output must equal @want exactly and parse as JSON. */
static cJSON *expect_line(const struct rec *r, const struct agent_info *ai, int64_t offset,
			  const char *want)
{
	struct sbuf sb = {0};
	cJSON *j;

	assert_int_equal(event_format(&sb, r->bytes, r->size, ai, offset), 0);
	sb_putc(&sb, '\0');
	if (strcmp(sb.buf, want)) {
		print_error("want: %sgot:  %s", want, sb.buf);
		fail();
	}
	sb.len--;
	j = valid_line(&sb);
	sb_free(&sb);
	return j;
}

static const char *str_of(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

#define HEAD_JSON "{\"time\":\"2026-11-26T20:11:03.123456789Z\",\"agent\":\"coding-agent\"," \
	"\"identity\":\"spiffe://example.org/agents/coder\",\"instance\":\"3f9c0e\"," \
	"\"pid\":4242,\"tid\":4243,\"ppid\":4200,\"uid\":1000,\"gid\":1001,\"comm\":\"cat\"," \
	"\"exe\":\"/usr/bin/cat\",\"event\":\"file\""

static void t_deny_event(void **state)
{
	struct rec r;
	cJSON *j;

	(void)state;
	mkrec(&r, "/home/u/.ssh/id_ed25519", "/usr/bin/cat");
	j = expect_line(&r, &AGENT, OFFSET,
			HEAD_JSON ",\"action\":\"read\",\"path\":\"/home/u/.ssh/id_ed25519\","
			"\"decision\":\"deny\",\"rule\":\"file.rules[2]\"}\n");
	assert_string_equal(str_of(j, "path"), "/home/u/.ssh/id_ed25519");
	assert_int_equal(cJSON_GetObjectItem(j, "pid")->valuedouble, 4242);
	cJSON_Delete(j);
}

#define HEAD_NOEV "{\"time\":\"2026-11-26T20:11:03.123456789Z\",\"agent\":\"coding-agent\"," \
	"\"identity\":\"spiffe://example.org/agents/coder\",\"instance\":\"3f9c0e\"," \
	"\"pid\":4242,\"tid\":4243,\"ppid\":4200,\"uid\":1000,\"gid\":1001,\"comm\":\"cat\"," \
	"\"exe\":\"/usr/bin/cat\""

static void t_exec_and_tamper_events(void **state)
{
	struct rec r;

	(void)state;
	mkrec(&r, "/tmp/x", "/usr/bin/cat");
	r.ev.type = WD_EV_EXEC;
	r.ev.right = WD_RIGHT_EXEC;
	cJSON_Delete(expect_line(&r, &AGENT, OFFSET,
				 HEAD_NOEV ",\"event\":\"exec\",\"action\":\"exec\",\"path\":\"/tmp/x\","
				 "\"decision\":\"deny\",\"rule\":\"file.rules[2]\"}\n"));
	r.ev.rule = WD_RULE_FILELESS;
	r.ev.flags = WD_EVF_FILELESS;
	cJSON_Delete(expect_line(&r, &AGENT, OFFSET,
				 HEAD_NOEV ",\"event\":\"exec\",\"action\":\"exec\",\"path\":\"/tmp/x\","
				 "\"decision\":\"deny\",\"rule\":\"file.fileless_exec\",\"fileless\":true}\n"));
	mkrec(&r, "", "/usr/bin/cat");
	r.ev.type = WD_EV_TAMPER;
	r.ev.right = WD_TAMPER_SIGNAL;
	r.ev.target = 1;
	r.ev.aux = 9;
	cJSON_Delete(expect_line(&r, &AGENT, OFFSET,
				 HEAD_NOEV ",\"event\":\"tamper\",\"action\":\"signal\",\"target_pid\":1,"
				 "\"signal\":9,\"decision\":\"deny\",\"rule\":\"protection\"}\n"));
	r.ev.right = WD_TAMPER_BPF;
	cJSON_Delete(expect_line(&r, &AGENT, OFFSET,
				 HEAD_NOEV ",\"event\":\"tamper\",\"action\":\"bpf\","
				 "\"decision\":\"deny\",\"rule\":\"protection\"}\n"));
	mkrec(&r, "/w/b", "/usr/bin/cat");
	r.ev.right = WD_RIGHT_CREATE;
	r.ev.flags = WD_EVF_REFER | WD_EVF_IDENTITY;
	cJSON_Delete(expect_line(&r, &AGENT, OFFSET,
				 HEAD_NOEV ",\"event\":\"file\",\"action\":\"create\",\"path\":\"/w/b\","
				 "\"decision\":\"deny\",\"rule\":null,\"reason\":\"rename or link would widen access\","
				 "\"alias\":true}\n"));
}

static void t_actions(void **state)
{
	static const char *const names[] = { "read", "write", "create", "delete", "exec" };
	struct rec r;

	(void)state;
	for (int i = 0; i < WD_RIGHT_COUNT; i++) {
		char want[1024];

		mkrec(&r, "/f", "/usr/bin/cat");
		r.ev.right = i;
		snprintf(want, sizeof(want),
			 HEAD_JSON ",\"action\":\"%s\",\"path\":\"/f\",\"decision\":\"deny\",\"rule\":\"file.rules[2]\"}\n",
			 names[i]);
		cJSON_Delete(expect_line(&r, &AGENT, OFFSET, want));
	}
}

static void t_decisions_and_rules(void **state)
{
	struct rec r;

	(void)state;
	mkrec(&r, "/f", "/usr/bin/cat");
	r.ev.decision = WD_DEC_AUDIT;
	r.ev.rule = 0;
	cJSON_Delete(expect_line(&r, &AGENT, OFFSET,
				 HEAD_JSON ",\"action\":\"read\",\"path\":\"/f\",\"decision\":\"audit\",\"rule\":\"file.rules[0]\"}\n"));
	r.ev.decision = WD_DEC_ALLOW;
	r.ev.rule = 199999;
	cJSON_Delete(expect_line(&r, &AGENT, OFFSET,
				 HEAD_JSON ",\"action\":\"read\",\"path\":\"/f\",\"decision\":\"allow\",\"rule\":\"file.rules[199999]\"}\n"));
	r.ev.decision = WD_DEC_DENY;
	r.ev.rule = WD_RULE_DEFAULT;
	cJSON_Delete(expect_line(&r, &AGENT, OFFSET,
				 HEAD_JSON ",\"action\":\"read\",\"path\":\"/f\",\"decision\":\"deny\",\"rule\":\"file.default\"}\n"));
}

static void t_identity_null(void **state)
{
	const struct agent_info ai = { .name = "a", .identity = NULL, .instance = "i1" };
	struct rec r;
	cJSON *j;

	(void)state;
	mkrec(&r, "/f", "/bin/x");
	j = expect_line(&r, &ai, OFFSET,
			"{\"time\":\"2026-11-26T20:11:03.123456789Z\",\"agent\":\"a\",\"identity\":null,"
			"\"instance\":\"i1\",\"pid\":4242,\"tid\":4243,\"ppid\":4200,\"uid\":1000,\"gid\":1001,"
			"\"comm\":\"cat\",\"exe\":\"/bin/x\",\"event\":\"file\",\"action\":\"read\",\"path\":\"/f\","
			"\"decision\":\"deny\",\"rule\":\"file.rules[2]\"}\n");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "identity")));
	cJSON_Delete(j);
}

/* Numbers at their limits, a full 16-byte comm with no NUL, empty path and exe. */
static void t_fields_limits(void **state)
{
	struct rec r;

	(void)state;
	mkrec(&r, "", "");
	r.ev.pid = 4294967295u;
	r.ev.tid = 1;
	r.ev.ppid = 0;
	r.ev.uid = 4294967294u;
	r.ev.gid = 65534;
	memcpy(r.ev.comm, "0123456789abcdef", 16);
	cJSON_Delete(expect_line(&r, &AGENT, OFFSET,
				 "{\"time\":\"2026-11-26T20:11:03.123456789Z\",\"agent\":\"coding-agent\","
				 "\"identity\":\"spiffe://example.org/agents/coder\",\"instance\":\"3f9c0e\","
				 "\"pid\":4294967295,\"tid\":1,\"ppid\":0,\"uid\":4294967294,\"gid\":65534,"
				 "\"comm\":\"0123456789abcdef\",\"exe\":\"\",\"event\":\"file\",\"action\":\"read\","
				 "\"path\":\"\",\"decision\":\"deny\",\"rule\":\"file.rules[2]\"}\n"));
}

static void t_flags(void **state)
{
	struct rec r;

	(void)state;
	mkrec(&r, "/f", "/usr/bin/cat");
	r.ev.flags = WD_EVF_PATH_TRUNC | WD_EVF_UNRESOLVED;
	cJSON_Delete(expect_line(&r, &AGENT, OFFSET,
				 HEAD_JSON ",\"action\":\"read\",\"path\":\"/f\",\"decision\":\"deny\",\"rule\":\"file.rules[2]\","
				 "\"path_truncated\":true,\"path_unresolved\":true}\n"));
}

/* ---- time -------------------------------------------------------------- */

static void t_time(void **state)
{
	static const struct {
		int64_t ns;
		const char *want;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00.000000000Z" },
		{ 5, "1970-01-01T00:00:00.000000005Z" },
		{ 946684799999999999LL, "1999-12-31T23:59:59.999999999Z" },
		{ 1795723863000000000LL, "2026-11-26T20:11:03.000000000Z" },
		{ 1795723863100000000LL, "2026-11-26T20:11:03.100000000Z" },
		{ WALL_NS, "2026-11-26T20:11:03.123456789Z" },
		/* Before the epoch: the fraction counts up from the earlier second. */
		{ -1, "1969-12-31T23:59:59.999999999Z" },
		{ -1000000000LL, "1969-12-31T23:59:59.000000000Z" },
		{ INT64_MIN, "1677-09-21T00:12:43.145224192Z" },
		{ INT64_MAX, "2262-04-11T23:47:16.854775807Z" },
	};
	struct rec r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbuf sb = {0};

		format_time(&sb, cases[i].ns);
		sb_putc(&sb, '\0');
		assert_string_equal(sb.buf, cases[i].want);
		sb_free(&sb);
	}

	/* In an event: boot time plus the offset. */
	mkrec(&r, "/f", "/e");
	r.ev.boot_ns = 1;
	{
		struct sbuf sb = {0};

		assert_int_equal(event_format(&sb, r.bytes, r.size, &AGENT, 1795723863000000004LL), 0);
		sb_putc(&sb, '\0');
		assert_non_null(strstr(sb.buf, "{\"time\":\"2026-11-26T20:11:03.000000005Z\","));
		sb_free(&sb);
	}
}

/* ---- escaping ---------------------------------------------------------- */

/* The "path" member as written for @path_len bytes of @path. */
static char *path_json(const char *path, size_t len, cJSON **parsed)
{
	struct sbuf sb = {0};
	struct rec r;
	char *start, *end, *out;

	mkrec_n(&r, path, len, "/e", 2);
	assert_int_equal(event_format(&sb, r.bytes, r.size, &AGENT, OFFSET), 0);
	*parsed = valid_line(&sb);
	sb_putc(&sb, '\0');
	start = strstr(sb.buf, ",\"path\":");
	assert_non_null(start);
	start += strlen(",\"path\":");
	end = strstr(start, ",\"decision\":");
	assert_non_null(end);
	out = strndup(start, end - start);
	sb_free(&sb);
	return out;
}

static void expect_path_json(const char *path, size_t len, const char *want, const char *decoded,
			     size_t decoded_len)
{
	cJSON *j;
	char *got = path_json(path, len, &j);
	const char *v = str_of(j, "path");

	if (strcmp(got, want)) {
		print_error("want %s\ngot  %s\n", want, got);
		fail();
	}
	/* What a JSON reader gets back. */
	assert_int_equal(strlen(v), decoded_len);
	assert_memory_equal(v, decoded, decoded_len);
	free(got);
	cJSON_Delete(j);
}

#define EXPECT_PATH(raw, want, decoded) \
	expect_path_json(raw, sizeof(raw) - 1, want, decoded, sizeof(decoded) - 1)

/*
 * Found by tests/fuzz/fuzz_event: boot_ns + offset overflowed int64_t
 * (undefined behaviour) for a record with a huge boot_ns. The sum wraps
 * instead, and the line stays valid JSON; the regression input is
 * tests/fuzz/corpus/event/crash-time-overflow.
 */
static void t_time_overflow(void **state)
{
	static const struct {
		uint64_t boot_ns;
		int64_t offset;
		const char *want;
	} cases[] = {
		{ 7147052532558164595ULL, 8443967826343100640LL, "{\"time\":\"1879-07-04T15:24:45.191713619Z\"," },
		{ UINT64_MAX, 0, "{\"time\":\"1969-12-31T23:59:59.999999999Z\"," },
		{ 0, INT64_MIN, "{\"time\":\"1677-09-21T00:12:43.145224192Z\"," },
	};
	struct rec r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbuf sb = {0};

		mkrec(&r, "/f", "/e");
		r.ev.boot_ns = cases[i].boot_ns;
		assert_int_equal(event_format(&sb, r.bytes, r.size, &AGENT, cases[i].offset), 0);
		cJSON_Delete(valid_line(&sb));
		sb_putc(&sb, '\0');
		if (strncmp(sb.buf, cases[i].want, strlen(cases[i].want))) {
			print_error("want: %s\ngot:  %s", cases[i].want, sb.buf);
			fail();
		}
		sb_free(&sb);
	}
}

static void t_escape_ascii(void **state)
{
	(void)state;
	EXPECT_PATH("/a\"b", "\"/a\\\"b\"", "/a\"b");
	EXPECT_PATH("/a\\b", "\"/a\\\\b\"", "/a\\b");
	EXPECT_PATH("/\n\t\r", "\"/\\n\\t\\r\"", "/\n\t\r");
	EXPECT_PATH("/\x01\x08\x0c\x1f", "\"/\\u0001\\u0008\\u000c\\u001f\"", "/\x01\x08\x0c\x1f");
	EXPECT_PATH("/ ~\x7f", "\"/ ~\x7f\"", "/ ~\x7f");
	EXPECT_PATH("/a/b c/'d'", "\"/a/b c/'d'\"", "/a/b c/'d'");
}

/* A NUL byte inside the path is escaped, not a terminator. */
static void t_escape_nul(void **state)
{
	struct sbuf sb = {0};

	(void)state;
	sb_json_str(&sb, "a\0b", 3);
	sb_putc(&sb, '\0');
	assert_string_equal(sb.buf, "\"a\\u0000b\"");
	sb_free(&sb);
}

static void t_escape_utf8(void **state)
{
	(void)state;
	/* Valid sequences of 2, 3 and 4 bytes, and the extremes, are kept as they are. */
	EXPECT_PATH("/caf\xc3\xa9", "\"/caf\xc3\xa9\"", "/caf\xc3\xa9");
	EXPECT_PATH("/\xe2\x82\xac", "\"/\xe2\x82\xac\"", "/\xe2\x82\xac");
	EXPECT_PATH("/\xf0\x9f\x98\x80", "\"/\xf0\x9f\x98\x80\"", "/\xf0\x9f\x98\x80");
	EXPECT_PATH("/\xc2\x80\xdf\xbf", "\"/\xc2\x80\xdf\xbf\"", "/\xc2\x80\xdf\xbf");
	EXPECT_PATH("/\xe0\xa0\x80\xef\xbf\xbf", "\"/\xe0\xa0\x80\xef\xbf\xbf\"", "/\xe0\xa0\x80\xef\xbf\xbf");
	EXPECT_PATH("/\xed\x9f\xbf\xee\x80\x80", "\"/\xed\x9f\xbf\xee\x80\x80\"", "/\xed\x9f\xbf\xee\x80\x80");
	EXPECT_PATH("/\xf4\x8f\xbf\xbf", "\"/\xf4\x8f\xbf\xbf\"", "/\xf4\x8f\xbf\xbf");
}

static void t_escape_invalid_utf8(void **state)
{
	(void)state;
	/* Lone bytes that cannot start a sequence. */
	EXPECT_PATH("/\xff", "\"/\\u00ff\"", "/\xc3\xbf");
	EXPECT_PATH("/\x80", "\"/\\u0080\"", "/\xc2\x80");
	EXPECT_PATH("/\xfe\xf8", "\"/\\u00fe\\u00f8\"", "/\xc3\xbe\xc3\xb8");
	/* A lead byte followed by a non-continuation byte, or by nothing. */
	EXPECT_PATH("/\xc3(", "\"/\\u00c3(\"", "/\xc3\x83(");
	EXPECT_PATH("/\xc3", "\"/\\u00c3\"", "/\xc3\x83");
	EXPECT_PATH("/\xe2\x82", "\"/\\u00e2\\u0082\"", "/\xc3\xa2\xc2\x82");
	EXPECT_PATH("/\xf0\x9f\x98", "\"/\\u00f0\\u009f\\u0098\"", "/\xc3\xb0\xc2\x9f\xc2\x98");
	/* Overlong forms. */
	EXPECT_PATH("/\xc0\xaf", "\"/\\u00c0\\u00af\"", "/\xc3\x80\xc2\xaf");
	EXPECT_PATH("/\xc1\xbf", "\"/\\u00c1\\u00bf\"", "/\xc3\x81\xc2\xbf");
	EXPECT_PATH("/\xe0\x9f\xbf", "\"/\\u00e0\\u009f\\u00bf\"", "/\xc3\xa0\xc2\x9f\xc2\xbf");
	EXPECT_PATH("/\xf0\x8f\xbf\xbf", "\"/\\u00f0\\u008f\\u00bf\\u00bf\"",
		    "/\xc3\xb0\xc2\x8f\xc2\xbf\xc2\xbf");
	/* Surrogates, and beyond U+10FFFF. */
	EXPECT_PATH("/\xed\xa0\x80", "\"/\\u00ed\\u00a0\\u0080\"", "/\xc3\xad\xc2\xa0\xc2\x80");
	EXPECT_PATH("/\xed\xbf\xbf", "\"/\\u00ed\\u00bf\\u00bf\"", "/\xc3\xad\xc2\xbf\xc2\xbf");
	EXPECT_PATH("/\xf4\x90\x80\x80", "\"/\\u00f4\\u0090\\u0080\\u0080\"",
		    "/\xc3\xb4\xc2\x90\xc2\x80\xc2\x80");
	/* A valid character right after an invalid byte survives. */
	EXPECT_PATH("/\xff\xc3\xa9", "\"/\\u00ff\xc3\xa9\"", "/\xc3\xbf\xc3\xa9");
}

/* A sequence cut by the end of the path must not read the exe bytes that follow. */
static void t_escape_sequence_at_end_of_path(void **state)
{
	struct sbuf sb = {0};
	struct rec r;
	cJSON *j;

	(void)state;
	/* Path "/\xc3", exe "\xa9x": together they would make "é". */
	mkrec_n(&r, "/\xc3", 2, "\xa9x", 2);
	assert_int_equal(event_format(&sb, r.bytes, r.size, &AGENT, OFFSET), 0);
	j = valid_line(&sb);
	sb_putc(&sb, '\0');
	assert_non_null(strstr(sb.buf, ",\"exe\":\"\\u00a9x\","));
	assert_non_null(strstr(sb.buf, ",\"path\":\"/\\u00c3\","));
	cJSON_Delete(j);
	sb_free(&sb);
}

/* comm, exe, agent name, identity and instance are escaped too. */
static void t_escape_other_fields(void **state)
{
	const struct agent_info ai = { .name = "a\"b", .identity = "x\\y\n", .instance = "\xff" };
	struct rec r;
	cJSON *j;

	(void)state;
	mkrec(&r, "/f", "/bin/\"q\"");
	memcpy(r.ev.comm, "c\"\t\xff", 4);
	j = expect_line(&r, &ai, OFFSET,
			"{\"time\":\"2026-11-26T20:11:03.123456789Z\",\"agent\":\"a\\\"b\",\"identity\":\"x\\\\y\\n\","
			"\"instance\":\"\\u00ff\",\"pid\":4242,\"tid\":4243,\"ppid\":4200,\"uid\":1000,\"gid\":1001,"
			"\"comm\":\"c\\\"\\t\\u00ff\",\"exe\":\"/bin/\\\"q\\\"\",\"event\":\"file\",\"action\":\"read\","
			"\"path\":\"/f\",\"decision\":\"deny\",\"rule\":\"file.rules[2]\"}\n");
	assert_string_equal(str_of(j, "agent"), "a\"b");
	assert_string_equal(str_of(j, "exe"), "/bin/\"q\"");
	cJSON_Delete(j);
}

/* Every byte value, in a maximal path, gives valid JSON that round-trips valid UTF-8. */
static void t_escape_all_bytes(void **state)
{
	char path[WD_PATH_MAX];
	struct sbuf sb = {0};
	struct rec r;
	cJSON *j;

	(void)state;
	for (size_t i = 0; i < sizeof(path); i++)
		path[i] = (char)(i * 7 + 3);
	mkrec_n(&r, path, sizeof(path), path, sizeof(path));
	assert_int_equal(r.size, WD_EVENT_MAX);
	assert_int_equal(event_format(&sb, r.bytes, r.size, &AGENT, OFFSET), 0);
	j = valid_line(&sb);
	cJSON_Delete(j);
	sb_free(&sb);
}

/* ---- malformed records ------------------------------------------------- */

static void expect_einval(const void *rec, size_t size)
{
	struct sbuf sb = {0};

	assert_int_equal(event_format(&sb, rec, size, &AGENT, OFFSET), -EINVAL);
	assert_int_equal(sb.len, 0);
	sb_free(&sb);
}

static void t_bad_records(void **state)
{
	struct rec r;
	struct sbuf sb = {0};

	(void)state;
	mkrec(&r, "/path", "/exe");
	/* Too short for the header. */
	expect_einval(r.bytes, 0);
	expect_einval(r.bytes, 1);
	expect_einval(r.bytes, sizeof(struct wd_event) - 1);
	/* One byte short of the path and exe. */
	expect_einval(r.bytes, r.size - 1);
	expect_einval(r.bytes, sizeof(struct wd_event));
	/* Exactly right, and with ring buffer padding after it: fine. */
	assert_int_equal(event_format(&sb, r.bytes, r.size, &AGENT, OFFSET), 0);
	assert_int_equal(event_format(&sb, r.bytes, r.size + 7, &AGENT, OFFSET), 0);
	sb_free(&sb);

	/* Lengths whose sum would overflow 16 bits, or that exceed the record. */
	mkrec(&r, "", "");
	r.ev.path_len = 0xffff;
	r.ev.exe_len = 0xffff;
	expect_einval(r.bytes, sizeof(r.bytes));
	r.ev.path_len = 0x8000;
	r.ev.exe_len = 0x8000;
	expect_einval(r.bytes, sizeof(r.bytes));
	r.ev.path_len = 1;
	r.ev.exe_len = 0xffff;
	expect_einval(r.bytes, sizeof(r.bytes));
	r.ev.path_len = 0xffff;
	r.ev.exe_len = 0;
	expect_einval(r.bytes, sizeof(struct wd_event) + 10);

	/* Fields out of range. */
	mkrec(&r, "/p", "/e");
	r.ev.type = 0;
	expect_einval(r.bytes, r.size);
	r.ev.type = 99;
	expect_einval(r.bytes, r.size);
	mkrec(&r, "/p", "/e");
	r.ev.type = WD_EV_TAMPER;
	r.ev.right = WD_TAMPER_COUNT;
	expect_einval(r.bytes, r.size);
	mkrec(&r, "/p", "/e");
	r.ev.decision = 3;
	expect_einval(r.bytes, r.size);
	mkrec(&r, "/p", "/e");
	r.ev.right = WD_RIGHT_COUNT;
	expect_einval(r.bytes, r.size);
	r.ev.right = 255;
	expect_einval(r.bytes, r.size);
}

/* The daemon's processes stay in their own cgroups: looked up per event's process. */
static uint32_t looked_up_pid;

static const char *cgroup_by_pid(uint32_t pid, char *buf, size_t size)
{
	looked_up_pid = pid;
	if (pid == 4242) {
		snprintf(buf, size, "/user.slice/session-1.scope");
		return buf;
	}
	return NULL;
}

static void t_cgroup_lookup(void **state)
{
	struct agent_info ai = { .name = "a", .instance = "i", .policy_sha256 = "ab",
				 .cgroup_lookup = cgroup_by_pid };
	struct rec r;
	struct sbuf sb = {0};

	(void)state;
	mkrec(&r, "/x", "/bin/cat");
	assert_int_equal(event_format(&sb, r.bytes, r.size, &ai, 0), 0);
	sb_putc(&sb, '\0');
	assert_int_equal(looked_up_pid, 4242);
	assert_non_null(strstr(sb.buf, ",\"policy_sha256\":\"ab\",\"cgroup\":\"/user.slice/session-1.scope\"}\n"));
	sb.len = 0;
	r.ev.pid = 7;	/* gone: no cgroup field rather than a wrong one */
	assert_int_equal(event_format(&sb, r.bytes, r.size, &ai, 0), 0);
	sb_putc(&sb, '\0');
	assert_null(strstr(sb.buf, "\"cgroup\""));
	sb.len = 0;
	ai.cgroup = "/warden/a.i";	/* an instance's own cgroup wins: no lookup */
	looked_up_pid = 0;
	r.ev.pid = 4242;
	assert_int_equal(event_format(&sb, r.bytes, r.size, &ai, 0), 0);
	sb_putc(&sb, '\0');
	assert_int_equal(looked_up_pid, 0);
	assert_non_null(strstr(sb.buf, "\"cgroup\":\"/warden/a.i\"}\n"));
	sb_free(&sb);
}

/* ---- lost events ------------------------------------------------------- */

static void t_lost(void **state)
{
	const struct agent_info ai = { .name = "a", .identity = NULL, .instance = "i" };
	struct sbuf sb = {0};
	cJSON *j;

	(void)state;
	event_format_lost(&sb, &AGENT, 17, "ringbuf_full", WALL_NS);
	sb_putc(&sb, '\0');
	assert_string_equal(sb.buf,
			    "{\"time\":\"2026-11-26T20:11:03.123456789Z\",\"agent\":\"coding-agent\","
			    "\"identity\":\"spiffe://example.org/agents/coder\",\"instance\":\"3f9c0e\","
			    "\"event\":\"lost\",\"count\":17,\"reason\":\"ringbuf_full\"}\n");
	sb.len--;
	j = valid_line(&sb);
	assert_string_equal(str_of(j, "event"), "lost");
	cJSON_Delete(j);
	sb_free(&sb);

	event_format_lost(&sb, &ai, 18446744073709551615ULL, "rate_limit", 0);
	sb_putc(&sb, '\0');
	assert_string_equal(sb.buf,
			    "{\"time\":\"1970-01-01T00:00:00.000000000Z\",\"agent\":\"a\",\"identity\":null,"
			    "\"instance\":\"i\",\"event\":\"lost\",\"count\":18446744073709551615,"
			    "\"reason\":\"rate_limit\"}\n");
	sb.len--;
	cJSON_Delete(valid_line(&sb));
	sb_free(&sb);

	event_format_lost(&sb, &ai, 0, "odd\"reason", 1);
	sb_putc(&sb, '\0');
	assert_non_null(strstr(sb.buf, ",\"count\":0,\"reason\":\"odd\\\"reason\"}\n"));
	sb.len--;
	cJSON_Delete(valid_line(&sb));
	sb_free(&sb);
}

/* Several events appended to one buffer stay one JSON object per line. */
static void t_appends(void **state)
{
	struct sbuf sb = {0};
	struct rec r;
	char *s, *line, *save = NULL;
	int n = 0;

	(void)state;
	mkrec(&r, "/a\nb", "/e");
	assert_int_equal(event_format(&sb, r.bytes, r.size, &AGENT, OFFSET), 0);
	event_format_lost(&sb, &AGENT, 1, "ringbuf_full", WALL_NS);
	assert_int_equal(event_format(&sb, r.bytes, r.size, &AGENT, OFFSET), 0);
	s = strndup(sb.buf, sb.len);
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *j = cJSON_Parse(line);

		assert_non_null(j);
		cJSON_Delete(j);
		n++;
	}
	assert_int_equal(n, 3);
	free(s);
	sb_free(&sb);
}

/* Network, process and tail fields: exact lines. */
static void t_network_event(void **state)
{
	struct agent_info ai = AGENT;
	struct rec r;
	cJSON *j;

	(void)state;
	mkrec(&r, "", "/usr/bin/curl");
	r.ev.type = WD_EV_NET;
	r.ev.right = WD_NET_CONNECT;
	r.ev.family = 10;
	r.ev.proto = WD_PROTO_TCP;
	r.ev.port = 443;
	r.ev.addr[0] = 0x20, r.ev.addr[1] = 0x01, r.ev.addr[2] = 0x0d, r.ev.addr[3] = 0xb8;
	r.ev.addr[15] = 1;
	r.ev.rule = WD_RULE_DEFAULT;
	memcpy(r.ev.comm, "curl", 5);
	ai.policy_sha256 = "ab12";
	ai.cgroup = "/warden/coding-agent.3f9c0e";
	j = expect_line(&r, &ai, OFFSET,
		"{\"time\":\"2026-11-26T20:11:03.123456789Z\",\"agent\":\"coding-agent\","
		"\"identity\":\"spiffe://example.org/agents/coder\",\"instance\":\"3f9c0e\","
		"\"pid\":4242,\"tid\":4243,\"ppid\":4200,\"uid\":1000,\"gid\":1001,\"comm\":\"curl\","
		"\"exe\":\"/usr/bin/curl\",\"event\":\"network\",\"action\":\"connect\",\"protocol\":\"tcp\","
		"\"address\":\"2001:db8::1\",\"port\":443,\"decision\":\"deny\",\"rule\":\"network.default\","
		"\"policy_sha256\":\"ab12\",\"cgroup\":\"/warden/coding-agent.3f9c0e\"}\n");
	cJSON_Delete(j);
	/* A refused raw socket: no address, no port. */
	r.ev.right = WD_NET_RAW;
	r.ev.family = 17;
	r.ev.proto = WD_PROTO_OTHER;
	r.ev.aux = 3 << 16;
	j = expect_line(&r, &AGENT, OFFSET,
		"{\"time\":\"2026-11-26T20:11:03.123456789Z\",\"agent\":\"coding-agent\","
		"\"identity\":\"spiffe://example.org/agents/coder\",\"instance\":\"3f9c0e\","
		"\"pid\":4242,\"tid\":4243,\"ppid\":4200,\"uid\":1000,\"gid\":1001,\"comm\":\"curl\","
		"\"exe\":\"/usr/bin/curl\",\"event\":\"network\",\"action\":\"socket\",\"protocol\":\"packet\","
		"\"address\":null,\"port\":null,\"decision\":\"deny\",\"rule\":\"network.raw\"}\n");
	cJSON_Delete(j);
	/* A network record may not carry a path. */
	r.ev.path_len = 1;
	r.size += 1;
	expect_einval(r.bytes, r.size);
}

static void t_process_events(void **state)
{
	struct rec r;
	cJSON *j;

	(void)state;
	mkrec(&r, "", "/bin/sh");
	r.ev.type = WD_EV_PROC;
	r.ev.right = WD_PROC_START;
	r.ev.target = 5000;
	memcpy(r.ev.comm, "sh\0", 4);
	j = expect_line(&r, &AGENT, OFFSET,
		"{\"time\":\"2026-11-26T20:11:03.123456789Z\",\"agent\":\"coding-agent\","
		"\"identity\":\"spiffe://example.org/agents/coder\",\"instance\":\"3f9c0e\","
		"\"pid\":5000,\"tid\":5000,\"ppid\":4242,\"uid\":1000,\"gid\":1001,\"comm\":\"sh\","
		"\"exe\":\"/bin/sh\",\"event\":\"process\",\"action\":\"start\"}\n");
	cJSON_Delete(j);
	r.ev.right = WD_PROC_EXIT;
	r.ev.aux = 3 << 8;
	j = expect_line(&r, &AGENT, OFFSET,
		"{\"time\":\"2026-11-26T20:11:03.123456789Z\",\"agent\":\"coding-agent\","
		"\"identity\":\"spiffe://example.org/agents/coder\",\"instance\":\"3f9c0e\","
		"\"pid\":4242,\"tid\":4243,\"ppid\":4200,\"uid\":1000,\"gid\":1001,\"comm\":\"sh\","
		"\"exe\":\"/bin/sh\",\"event\":\"process\",\"action\":\"exit\",\"exit_status\":3}\n");
	cJSON_Delete(j);
	r.ev.aux = 9;
	{
		struct sbuf sb = {0};

		assert_int_equal(event_format(&sb, r.bytes, r.size, &AGENT, OFFSET), 0);
		sb_putc(&sb, '\0');
		assert_non_null(strstr(sb.buf, "\"action\":\"exit\",\"signal\":9}"));
		sb_free(&sb);
	}
	r.ev.right = 7;
	expect_einval(r.bytes, r.size);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_deny_event),
		cmocka_unit_test(t_network_event),
		cmocka_unit_test(t_process_events),
		cmocka_unit_test(t_actions),
		cmocka_unit_test(t_decisions_and_rules),
		cmocka_unit_test(t_identity_null),
		cmocka_unit_test(t_fields_limits),
		cmocka_unit_test(t_flags),
		cmocka_unit_test(t_time),
		cmocka_unit_test(t_time_overflow),
		cmocka_unit_test(t_escape_ascii),
		cmocka_unit_test(t_escape_nul),
		cmocka_unit_test(t_escape_utf8),
		cmocka_unit_test(t_escape_invalid_utf8),
		cmocka_unit_test(t_escape_sequence_at_end_of_path),
		cmocka_unit_test(t_escape_other_fields),
		cmocka_unit_test(t_escape_all_bytes),
		cmocka_unit_test(t_bad_records),
		cmocka_unit_test(t_exec_and_tamper_events),
		cmocka_unit_test(t_cgroup_lookup),
		cmocka_unit_test(t_lost),
		cmocka_unit_test(t_appends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
