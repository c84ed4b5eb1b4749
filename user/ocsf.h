/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --format ocsf: the contract's JSON lines reshaped as OCSF 1.1 events, for
 * SIEMs that ingest the Open Cybersecurity Schema Framework.
 *   file    -> File System Activity (class 1001)
 *   exec, process -> Process Activity (class 1007)
 *   network -> Network Activity (class 4001); its DNS questions (action
 *              resolve) -> DNS Activity (class 4003)
 *   anything else (lost, policy, tamper) -> Base Event (class 0)
 * Fields OCSF has no place for (rule, agent's policy name, ...) go to
 * "unmapped", so nothing of the original is lost.
 */
#ifndef WARDEN_OCSF_H
#define WARDEN_OCSF_H

#include <stddef.h>

#include "util.h"

#define OCSF_VERSION "1.1.0"

/*
 * Append the OCSF form of one contract JSON line (@len bytes, with or without
 * its '\n') to @out, '\n'-terminated. A line that is not a JSON object still
 * yields an event (class 0, its text in raw_data): nothing is dropped.
 * Returns 0, or -EINVAL when the line was not a JSON object.
 */
int ocsf_line(struct sbuf *out, const char *line, size_t len);

/* "2026-11-26T20:11:03.123456789Z" -> ns since the epoch; -1 if malformed. */
long long ocsf_parse_time(const char *s);

#endif
