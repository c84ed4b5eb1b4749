// SPDX-License-Identifier: GPL-2.0
/* Shared by warden run, attach and daemon: see agentcommon.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentcommon.h"
#include "cgroup.h"
#include "util.h"

void agent_new_instance(char out[AGENT_INSTANCE_LEN])
{
	unsigned char b[6];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, b, sizeof(b)) != sizeof(b)) {
		/* Unique enough per host: pid and time. */
		uint64_t v = ((uint64_t)getpid() << 32) ^ (uint64_t)boot_to_realtime_offset();

		memcpy(b, &v, sizeof(b));
	}
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < 6; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

const char *agent_exe_of_pid(uint32_t pid, char *buf, size_t size)
{
	char link[32];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	n = readlink(link, buf, size - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

int agent_output_opt(struct agent_output *o, int c, const char *arg, const char *who)
{
	long v;

	switch (c) {
	case AGENT_OPT_EVENTS:
		o->events_file = arg;
		return 0;
	case AGENT_OPT_SINK:
		if (o->n_sinks == AGENT_SINKS_MAX) {
			pr_warn("%s: at most %d --sink\n", who, AGENT_SINKS_MAX);
			return -EINVAL;
		}
		o->sink_specs[o->n_sinks++] = arg;
		return 0;
	case AGENT_OPT_FORMAT:
		if (sink_parse_format(arg, &o->format)) {
			pr_warn("%s: --format %s: expected json or ocsf\n", who, arg);
			return -EINVAL;
		}
		return 0;
	case AGENT_OPT_RINGBUF:
		/* The ring buffer's size must be a power of 2 (and a multiple of the page size). */
		if (parse_long(arg, 4096, 1L << 30, &v) || (v & (v - 1))) {
			pr_warn("%s: --ringbuf-size %s: a power of 2 from 4096 to 1073741824 bytes\n",
				who, arg);
			return -EINVAL;
		}
		o->ringbuf_bytes = v;
		return 0;
	default:
		return 1;
	}
}

int agent_open_sinks(struct sink **sinks, const struct agent_output *o,
		     const struct agent_info *ai, const char *who, const char *consequence)
{
	struct sink_opts so = { .format = o->format, .ai = ai };
	struct sbuf err = {0};
	int ret = 0;

	if (o->events_file)
		ret = sink_open_file(sinks, o->events_file, &so, &err);
	for (int i = 0; !ret && i < o->n_sinks; i++)
		ret = sink_open(sinks, o->sink_specs[i], &so, &err);
	if (!ret && !*sinks)
		ret = sink_open(sinks, "stderr", &so, &err);
	if (ret) {
		sb_putc(&err, '\0');
		pr_warn("%s: %s%s\n", who, err.buf, consequence);
	}
	sb_free(&err);
	return ret;
}

void agent_move_home(const char *from, const char *home)
{
	char file[PATH_MAX + 16], *text = NULL, *line, *save;

	snprintf(file, sizeof(file), "%s/cgroup.procs", from);
	for (int round = 0; round < 100 && cgroup_populated(from) > 0; round++) {
		if (read_file(file, &text, NULL))
			break;
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			cgroup_enter(home, atoi(line));
		free(text);
		text = NULL;
	}
}
