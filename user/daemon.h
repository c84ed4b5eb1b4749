/* SPDX-License-Identifier: GPL-2.0 */
/* warden daemon and its clients (status, events --follow, reload). */
#ifndef WARDEN_DAEMON_H
#define WARDEN_DAEMON_H

#define WARDEN_RUNDIR "/run/warden"
#define WARDEN_CONTROL WARDEN_RUNDIR "/warden.sock"

/*
 * Send @request (one JSON object) to the daemon's control socket @path and
 * return the connected socket, or -errno with a message printed.
 */
int control_request(const char *path, const char *request);

#endif
