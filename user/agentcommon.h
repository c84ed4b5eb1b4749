/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What warden run, warden attach and warden daemon share about the agents
 * they start or adopt: instance ids, the exe lookup of events, the event
 * output options and sinks, and sending a process tree back to its cgroup.
 */
#ifndef WARDEN_AGENTCOMMON_H
#define WARDEN_AGENTCOMMON_H

#include <stdint.h>
#include <stddef.h>
#include "event.h"
#include "sink.h"

#define AGENT_INSTANCE_LEN 13	/* 12 hex digits and the NUL */
#define AGENT_SINKS_MAX 16

/* A new instance id: 12 random hex digits (pid and time without /dev/urandom). */
void agent_new_instance(char out[AGENT_INSTANCE_LEN]);

/* /proc/PID/exe for agent_info.exe_lookup; NULL if the process is gone. */
const char *agent_exe_of_pid(uint32_t pid, char *buf, size_t size);

/* --events FILE, --sink SPEC..., --format FMT, --ringbuf-size BYTES. */
struct agent_output {
	const char *events_file;
	const char *sink_specs[AGENT_SINKS_MAX];
	int n_sinks;
	enum sink_format format;
	uint32_t ringbuf_bytes;	/* 0: the default */
};

/* The getopt_long codes agent_output_opt() takes. */
#define AGENT_OPT_EVENTS 'e'
#define AGENT_OPT_SINK 's'
#define AGENT_OPT_FORMAT 'f'
#define AGENT_OPT_RINGBUF 'B'

/*
 * Take option @c with argument @arg into @o. Returns 0 if taken, 1 if @c
 * is not one of these options, -EINVAL with a message ("@who: ...") if
 * @arg is not valid.
 */
int agent_output_opt(struct agent_output *o, int c, const char *arg, const char *who);

/*
 * Open --events FILE, each --sink, or else stderr, appending to *@sinks.
 * On failure says "@who: REASON@consequence" and returns -errno.
 */
int agent_open_sinks(struct sink **sinks, const struct agent_output *o,
		     const struct agent_info *ai, const char *who, const char *consequence);

/*
 * Move every process of cgroup @from into @home, again while processes
 * forking meanwhile land in @from (at most 100 rounds). @from stays.
 */
void agent_move_home(const char *from, const char *home);

#endif
