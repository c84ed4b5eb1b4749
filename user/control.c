// SPDX-License-Identifier: GPL-2.0
/*
 * Clients of the daemon's control socket: warden status, warden events
 * --follow, warden reload. One JSON request per connection; the reply is
 * one JSON line (status, reload) or a stream of event lines (events).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "commands.h"
#include "daemon.h"
#include "util.h"

int control_request(const char *path, const char *request)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(request);
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "warden: control socket path too long: %s\n", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		fprintf(stderr, "warden: no daemon answers on %s: %s%s\n", path, strerror(-ret),
			ret == -EACCES ? " (the control socket is root's)" :
			ret == -ENOENT || ret == -ECONNREFUSED ? " (is 'warden daemon' running?)" : "");
		close(fd);
		return ret;
	}
	if (send(fd, request, len, MSG_NOSIGNAL) != (ssize_t)len) {
		ret = -errno;
		fprintf(stderr, "warden: cannot talk to the daemon: %s\n", strerror(-ret));
		close(fd);
		return ret;
	}
	/* A follower keeps its side open: the daemon takes its hang-up for the end. */
	if (!strstr(request, "\"events\""))
		shutdown(fd, SHUT_WR);
	return fd;
}

/* The whole reply (one line); NULL with a message on failure. */
static cJSON *read_reply(int fd)
{
	struct sbuf sb = {0};
	char buf[65536];
	ssize_t n;
	cJSON *o;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sb_put(&sb, buf, n);
	sb_putc(&sb, '\0');
	o = cJSON_Parse(sb.buf);
	if (!o)
		fprintf(stderr, "warden: the daemon's reply is not JSON: %.200s\n", sb.buf);
	sb_free(&sb);
	return o;
}

/* Send @request and read the one-line reply; NULL (said why) on failure. */
static cJSON *ask(const char *path, const char *request)
{
	int fd = control_request(path, request);
	cJSON *o;

	if (fd < 0)
		return NULL;
	o = read_reply(fd);
	close(fd);
	return o;
}

/* The daemon's "error" in reply @o, or NULL when it has none. */
static const char *reply_error(const cJSON *o)
{
	const cJSON *err = cJSON_GetObjectItem(o, "error");

	return cJSON_IsString(err) ? err->valuestring : NULL;
}

/*
 * The options every client takes: --control PATH, --help, and the
 * command's own flag, if any (--@flag_name, -@flag_short: *@flag). Returns
 * -1 to go on, else the exit status (0 after --help, 2 usage).
 */
static int client_opts(int argc, char **argv, const char *usage, const char *flag_name,
		       char flag_short, bool *flag, const char **path)
{
	const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ flag_name, no_argument, NULL, flag_short },	/* flag_name NULL: the end */
		{},
	};
	char shortopts[8];
	int c;

	snprintf(shortopts, sizeof(shortopts), "%.1sc:h", flag_name ? &flag_short : "");
	*path = WARDEN_CONTROL;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		if (c == 'c') {
			*path = optarg;
		} else if (c == 'h') {
			fputs(usage, stdout);
			return EXIT_OK;
		} else if (flag_name && c == flag_short) {
			*flag = true;
		} else {
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	return -1;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	return cJSON_IsString(v) ? v->valuestring : "-";
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void print_status(const cJSON *o)
{
	const cJSON *a, *c = cJSON_GetObjectItem(o, "counters");

	printf("daemon pid %.0f, policies from %s%s\n", num(o, "pid"), str(o, "policy_dir"),
	       cJSON_IsTrue(cJSON_GetObjectItem(o, "adopted")) ? " (adopted pinned state)" : "");
	printf("%-4s %-20s %-12s %-8s %-8s %-14s %s\n", "SLOT", "AGENT", "INSTANCE", "STATE",
	       "MODE", "POLICY", "FILE");
	cJSON_ArrayForEach(a, cJSON_GetObjectItem(o, "agents")) {
		printf("%-4.0f %-20s %-12s %-8s %-8s %-14.12s %s\n", num(a, "slot"), str(a, "agent"),
		       str(a, "instance"), str(a, "state"), str(a, "mode"), str(a, "policy_sha256"),
		       str(a, "file"));
	}
	if (cJSON_GetArraySize(cJSON_GetObjectItem(o, "attached")) > 0)
		printf("attached (warden detach INSTANCE ends one):\n");
	cJSON_ArrayForEach(a, cJSON_GetObjectItem(o, "attached")) {
		printf("     %-20s %-12s %-8s %-23s %s\n", str(a, "agent"), str(a, "instance"),
		       str(a, "mode"), str(a, "policy_sha256"), str(a, "cgroup"));
	}
	printf("bound %.0f, lost %.0f, rate-limited %.0f, reloads %.0f, rejected %.0f\n",
	       num(c, "bound"), num(c, "lost_ringbuf"), num(c, "rate_limited"), num(c, "reloads"),
	       num(c, "reload_failures"));
}

static int simple_command(int argc, char **argv, const char *cmd, const char *usage)
{
	const char *path, *err;
	char req[64];
	bool json = false;
	cJSON *o;
	int status;

	status = client_opts(argc, argv, usage, "json", 'j', &json, &path);
	if (status >= 0)
		return status;
	snprintf(req, sizeof(req), "{\"cmd\":\"%s\"}", cmd);
	o = ask(path, req);
	if (!o)
		return EXIT_FAIL;
	err = reply_error(o);
	if (err) {
		fprintf(stderr, "warden: the daemon says: %s\n", err);
		cJSON_Delete(o);
		return EXIT_FAIL;
	}
	status = num(o, "rejected") > 0 ? EXIT_FAIL : EXIT_OK;
	if (json) {
		char *text = cJSON_Print(o);

		puts(text);
		free(text);
	} else {
		print_status(o);
	}
	cJSON_Delete(o);
	return status;
}

int cmd_status(int argc, char **argv)
{
	return simple_command(argc, argv, "status",
		"Usage: warden status [--json] [--control PATH]\n"
		"\n"
		"What the daemon enforces: each agent (policy file, version as sha256,\n"
		"state, mode, event counts), and the counters (processes bound at exec,\n"
		"events lost, reloads, rejected files).\n"
		"\n"
		"  -j, --json          the whole status as one JSON object\n"
		"  -c, --control PATH  the daemon's socket (default " WARDEN_CONTROL ")\n"
		"\n"
		"Exit status: 0; 1 if no daemon answers.\n"
		"\n"
		"Examples:\n"
		"  sudo warden status\n"
		"  sudo warden status --json | jq '.agents[] | {agent, policy_sha256}'\n");
}

int cmd_reload(int argc, char **argv)
{
	return simple_command(argc, argv, "reload",
		"Usage: warden reload [--json] [--control PATH]\n"
		"\n"
		"Have the daemon reload its policy directory now (as SIGHUP does) and\n"
		"print the status after it. A rejected file keeps its previous version.\n"
		"\n"
		"Exit status: 0; 1 if a file was rejected or no daemon answers.\n"
		"\n"
		"Example:\n"
		"  sudo warden reload\n");
}

static const char events_usage[] =
	"Usage: warden events --follow [--control PATH]\n"
	"\n"
	"Print the daemon's events as JSON lines as they happen, until interrupted.\n"
	"A reader that falls 8 MiB behind is disconnected (told by a \"lost\" line);\n"
	"the daemon's own sinks still get every event.\n"
	"\n"
	"Example:\n"
	"  sudo warden events --follow | grep '\"decision\":\"deny\"'\n";

int cmd_events(int argc, char **argv)
{
	const char *path;
	bool follow = false;
	char buf[65536];
	ssize_t n;
	int fd, status;

	status = client_opts(argc, argv, events_usage, "follow", 'F', &follow, &path);
	if (status >= 0)
		return status;
	if (!follow) {
		fputs("warden events: only --follow exists: past events are in the daemon's sinks\n",
		      stderr);
		return EXIT_USAGE;
	}
	fd = control_request(path, "{\"cmd\":\"events\"}");
	if (fd < 0)
		return EXIT_FAIL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, n, stdout) != (size_t)n)
			break;
	fflush(stdout);
	close(fd);
	return EXIT_OK;
}

static const char detach_usage[] =
	"Usage: warden detach [--control PATH] INSTANCE\n"
	"\n"
	"End an attach that warden attach handed to the daemon: its processes run\n"
	"unconfined again (a process tree goes back to the cgroup it came from).\n"
	"'warden status' lists the attaches and their instances.\n"
	"\n"
	"Exit status: 0 detached; 1 no such attach, or no daemon answers; 2 usage.\n"
	"\n"
	"Example:\n"
	"  sudo warden detach 3f2a9c0d1e4b\n";

int cmd_detach(int argc, char **argv)
{
	const char *path, *err;
	cJSON *req, *o;
	char *text;
	int status;

	status = client_opts(argc, argv, detach_usage, NULL, 0, NULL, &path);
	if (status >= 0)
		return status;
	status = EXIT_OK;
	if (optind != argc - 1) {
		fputs(detach_usage, stderr);
		return EXIT_USAGE;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "detach");
	cJSON_AddStringToObject(req, "instance", argv[optind]);
	text = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	o = ask(path, text);
	free(text);
	if (!o)
		return EXIT_FAIL;
	err = reply_error(o);
	if (err) {
		fprintf(stderr, "warden detach: %s: %s\n", argv[optind], err);
		status = EXIT_FAIL;
	} else {
		fprintf(stderr, "warden detach: %s detached\n", argv[optind]);
	}
	cJSON_Delete(o);
	return status;
}
