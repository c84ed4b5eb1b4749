// SPDX-License-Identifier: GPL-2.0
/* --format ocsf (user/ocsf.c): each kind of contract line to its OCSF class. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "ocsf.h"

#define HEAD "{\"time\":\"2026-11-26T20:11:03.123456789Z\",\"agent\":\"coding-agent\"," \
	     "\"identity\":\"spiffe://example.org/agents/coder\",\"instance\":\"3f9c0e\"," \
	     "\"pid\":4242,\"tid\":4243,\"ppid\":4200,\"uid\":1000,\"gid\":1001,\"comm\":\"cat\"," \
	     "\"exe\":\"/usr/bin/cat\","

/* 2026-11-26T20:11:03.123Z in ms since the epoch. */
#define TIME_MS 1795723863123.0

/* Convert @line; the output is exactly one JSON object and one '\n'. */
static cJSON *convert(const char *line, int want_ret)
{
	struct sbuf sb = {0};
	cJSON *o;

	assert_int_equal(ocsf_line(&sb, line, strlen(line)), want_ret);
	assert_true(sb.len > 0);
	assert_int_equal(sb.buf[sb.len - 1], '\n');
	assert_null(memchr(sb.buf, '\n', sb.len - 1));
	o = cJSON_ParseWithLength(sb.buf, sb.len);
	assert_true(cJSON_IsObject(o));
	sb_free(&sb);
	return o;
}

/* The value at a dotted path, e.g. "actor.process.pid". */
static cJSON *at(cJSON *o, const char *path)
{
	char buf[256], *save, *k;

	snprintf(buf, sizeof(buf), "%s", path);
	for (k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = cJSON_GetObjectItemCaseSensitive(o, k);
	return o;
}

static void expect_num(cJSON *o, const char *path, double want)
{
	cJSON *v = at(o, path);

	if (!cJSON_IsNumber(v))
		fail_msg("%s: not a number", path);
	if (v->valuedouble != want)
		fail_msg("%s: want %.0f, got %.0f", path, want, v->valuedouble);
}

static void expect_str(cJSON *o, const char *path, const char *want)
{
	cJSON *v = at(o, path);

	if (!cJSON_IsString(v))
		fail_msg("%s: not a string", path);
	assert_string_equal(v->valuestring, want);
}

/* What every event carries: time in ms, metadata, actor. */
static void expect_common(cJSON *o)
{
	expect_num(o, "time", TIME_MS);
	expect_str(o, "metadata.version", OCSF_VERSION);
	expect_str(o, "metadata.product.name", "Warden");
	expect_str(o, "metadata.correlation_uid", "3f9c0e");
	expect_num(o, "actor.process.pid", 4242);
	expect_num(o, "actor.process.tid", 4243);
	expect_num(o, "actor.process.parent_process.pid", 4200);
	expect_str(o, "actor.process.name", "cat");
	expect_str(o, "actor.process.file.path", "/usr/bin/cat");
	expect_str(o, "actor.user.uid", "1000");
	expect_str(o, "actor.app_name", "coding-agent");
	expect_str(o, "actor.app_uid", "spiffe://example.org/agents/coder");
}

static void file_read_denied(void **state)
{
	cJSON *o = convert(HEAD "\"event\":\"file\",\"action\":\"read\",\"path\":\"/home/u/.ssh/id_ed25519\","
			   "\"decision\":\"deny\",\"rule\":\"file.rules[2]\"}\n", 0);

	(void)state;
	expect_common(o);
	expect_num(o, "class_uid", 1001);
	expect_num(o, "category_uid", 1);
	expect_num(o, "activity_id", 2);
	expect_str(o, "activity_name", "Read");
	expect_num(o, "type_uid", 100102);
	expect_str(o, "file.path", "/home/u/.ssh/id_ed25519");
	expect_str(o, "file.name", "id_ed25519");
	expect_num(o, "disposition_id", 2);
	expect_str(o, "disposition", "Blocked");
	expect_num(o, "action_id", 2);
	expect_num(o, "severity_id", 3);
	expect_str(o, "unmapped.rule", "file.rules[2]");
	expect_str(o, "unmapped.decision", "deny");
	assert_null(at(o, "unmapped.pid"));
	cJSON_Delete(o);
}

static void file_actions(void **state)
{
	static const struct { const char *action; int id; } cases[] = {
		{ "create", 1 }, { "read", 2 }, { "write", 3 }, { "delete", 4 },
		{ "exec", 99 },	/* mapping a file executable: no OCSF file activity */
	};
	char line[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *o;

		snprintf(line, sizeof(line), HEAD "\"event\":\"file\",\"action\":\"%s\",\"path\":\"/w/f\","
			 "\"decision\":\"allow\",\"rule\":\"file.rules[0]\"}", cases[i].action);
		o = convert(line, 0);
		expect_num(o, "class_uid", 1001);
		expect_num(o, "activity_id", cases[i].id);
		expect_num(o, "type_uid", 100100 + cases[i].id);
		expect_str(o, "disposition", "Allowed");
		expect_num(o, "severity_id", 1);
		cJSON_Delete(o);
	}
}

static void exec_audit(void **state)
{
	cJSON *o = convert(HEAD "\"event\":\"exec\",\"action\":\"exec\",\"path\":\"/usr/bin/curl\","
			   "\"decision\":\"audit\",\"rule\":\"file.default\"}", 0);

	(void)state;
	expect_common(o);
	expect_num(o, "class_uid", 1007);
	expect_num(o, "category_uid", 1);
	expect_num(o, "activity_id", 1);
	expect_str(o, "activity_name", "Launch");
	expect_str(o, "process.file.path", "/usr/bin/curl");
	expect_str(o, "process.file.name", "curl");
	expect_num(o, "disposition_id", 15);	/* Detected: allowed, but flagged */
	expect_num(o, "action_id", 1);
	expect_num(o, "severity_id", 2);
	cJSON_Delete(o);
}

static void process_exit(void **state)
{
	cJSON *o = convert(HEAD "\"event\":\"process\",\"action\":\"exit\",\"status\":3}", 0);

	(void)state;
	expect_num(o, "class_uid", 1007);
	expect_num(o, "activity_id", 2);
	expect_str(o, "activity_name", "Terminate");
	expect_num(o, "exit_code", 3);
	expect_num(o, "process.pid", 4242);
	cJSON_Delete(o);
}

static void network_connect_denied(void **state)
{
	cJSON *o = convert(HEAD "\"event\":\"network\",\"action\":\"connect\",\"protocol\":\"tcp\","
			   "\"address\":\"192.0.2.1\",\"port\":443,\"decision\":\"deny\","
			   "\"rule\":\"network.default\"}", 0);

	(void)state;
	expect_common(o);
	expect_num(o, "class_uid", 4001);
	expect_num(o, "category_uid", 4);
	expect_num(o, "activity_id", 1);
	expect_num(o, "type_uid", 400101);
	expect_str(o, "dst_endpoint.ip", "192.0.2.1");
	expect_num(o, "dst_endpoint.port", 443);
	expect_str(o, "connection_info.protocol_name", "tcp");
	expect_num(o, "connection_info.protocol_num", 6);
	expect_num(o, "connection_info.direction_id", 2);
	expect_str(o, "disposition", "Blocked");
	assert_null(at(o, "src_endpoint"));
	cJSON_Delete(o);
}

static void network_bind_udp(void **state)
{
	cJSON *o = convert(HEAD "\"event\":\"network\",\"action\":\"bind\",\"protocol\":\"udp\","
			   "\"address\":\"::\",\"port\":8080,\"decision\":\"allow\",\"rule\":\"network.rules[3]\"}", 0);

	(void)state;
	expect_num(o, "class_uid", 4001);
	expect_num(o, "activity_id", 7);
	expect_str(o, "src_endpoint.ip", "::");
	expect_num(o, "src_endpoint.port", 8080);
	expect_num(o, "connection_info.protocol_num", 17);
	expect_num(o, "connection_info.direction_id", 1);
	assert_null(at(o, "dst_endpoint"));
	cJSON_Delete(o);
}

static void dns_refused(void **state)
{
	cJSON *o = convert(HEAD "\"event\":\"network\",\"action\":\"resolve\",\"protocol\":\"dns\","
			   "\"name\":\"evil.example\",\"qtype\":28,\"decision\":\"deny\","
			   "\"rule\":\"network.hosts\",\"reason\":\"no host rule allows this name\"}", 0);

	(void)state;
	expect_common(o);
	expect_num(o, "class_uid", 4003);
	expect_num(o, "category_uid", 4);
	expect_num(o, "activity_id", 1);
	expect_str(o, "query.hostname", "evil.example");
	expect_str(o, "query.type", "AAAA");
	expect_str(o, "disposition", "Blocked");
	expect_str(o, "unmapped.rule", "network.hosts");
	assert_null(at(o, "unmapped.name"));
	cJSON_Delete(o);
}

static void network_raw_socket(void **state)
{
	cJSON *o = convert(HEAD "\"event\":\"network\",\"action\":\"socket\",\"protocol\":\"raw\","
			   "\"address\":null,\"port\":null,\"decision\":\"deny\",\"rule\":\"network.raw\"}", 0);

	(void)state;
	expect_num(o, "class_uid", 4001);
	expect_num(o, "activity_id", 99);
	expect_str(o, "activity_name", "socket");
	expect_str(o, "connection_info.protocol_name", "raw");
	assert_null(at(o, "dst_endpoint.ip"));	/* null address: left out */
	cJSON_Delete(o);
}

static void lost(void **state)
{
	cJSON *o = convert("{\"time\":\"2026-11-26T20:11:03.123456789Z\",\"agent\":\"coding-agent\","
			   "\"identity\":null,\"instance\":\"3f9c0e\",\"event\":\"lost\",\"count\":17,"
			   "\"reason\":\"ringbuf_full\"}", 0);

	(void)state;
	expect_num(o, "class_uid", 0);
	expect_num(o, "category_uid", 0);
	expect_num(o, "activity_id", 99);
	expect_num(o, "severity_id", 4);
	expect_num(o, "time", TIME_MS);
	expect_str(o, "message", "17 events lost (ringbuf_full)");
	expect_num(o, "unmapped.count", 17);
	expect_str(o, "unmapped.reason", "ringbuf_full");
	expect_str(o, "actor.app_name", "coding-agent");
	assert_null(at(o, "actor.app_uid"));	/* a null identity is left out */
	assert_null(at(o, "disposition_id"));
	cJSON_Delete(o);
}

/* Tamper-like events: known kinds, unusual actions; nothing may be dropped. */
static void unusual_actions(void **state)
{
	cJSON *o = convert(HEAD "\"event\":\"file\",\"action\":\"chroot\",\"path\":\"/\","
			   "\"decision\":\"deny\",\"rule\":null,\"reason\":\"rename or link would widen access\"}", 0);

	(void)state;
	expect_num(o, "class_uid", 1001);
	expect_num(o, "activity_id", 99);
	expect_str(o, "activity_name", "chroot");
	expect_str(o, "disposition", "Blocked");
	expect_str(o, "unmapped.reason", "rename or link would widen access");
	assert_true(cJSON_IsNull(at(o, "unmapped.rule")));
	cJSON_Delete(o);

	o = convert(HEAD "\"event\":\"exec\",\"action\":\"ptrace\",\"path\":\"\",\"decision\":\"deny\","
		    "\"rule\":\"protection\",\"fileless\":true}", 0);
	expect_num(o, "class_uid", 1007);
	expect_num(o, "activity_id", 99);
	expect_num(o, "type_uid", 100799);
	assert_true(cJSON_IsTrue(at(o, "unmapped.fileless")));
	cJSON_Delete(o);

	o = convert(HEAD "\"event\":\"tamper\",\"action\":\"signal\",\"target_pid\":1,\"signal\":9,"
		    "\"decision\":\"deny\",\"rule\":\"protection\"}", 0);
	expect_num(o, "class_uid", 0);
	expect_num(o, "severity_id", 4);
	expect_str(o, "disposition", "Blocked");
	expect_num(o, "unmapped.target_pid", 1);
	expect_str(o, "unmapped.event", "tamper");
	cJSON_Delete(o);
}

static void not_json(void **state)
{
	cJSON *o = convert("this is {not json\n", -EINVAL);

	(void)state;
	expect_num(o, "class_uid", 0);
	expect_str(o, "raw_data", "this is {not json");
	cJSON_Delete(o);
}

static void parse_time(void **state)
{
	(void)state;
	assert_true(ocsf_parse_time("2026-11-26T20:11:03.123456789Z") == 1795723863123456789LL);
	assert_true(ocsf_parse_time("2026-11-26T20:11:03Z") == 1795723863000000000LL);
	assert_true(ocsf_parse_time("2026-11-26T20:11:03.5Z") == 1795723863500000000LL);
	assert_true(ocsf_parse_time("2026-11-26 20:11:03Z") == -1);
	assert_true(ocsf_parse_time("2026-11-26T20:11:03.1+01:00") == -1);
	assert_true(ocsf_parse_time(NULL) == -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(file_read_denied),
		cmocka_unit_test(file_actions),
		cmocka_unit_test(exec_audit),
		cmocka_unit_test(process_exit),
		cmocka_unit_test(network_connect_denied),
		cmocka_unit_test(network_bind_udp),
		cmocka_unit_test(dns_refused),
		cmocka_unit_test(network_raw_socket),
		cmocka_unit_test(lost),
		cmocka_unit_test(unusual_actions),
		cmocka_unit_test(not_json),
		cmocka_unit_test(parse_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
