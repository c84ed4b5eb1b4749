/* SPDX-License-Identifier: GPL-2.0 */
/* Subcommands: each returns the process exit status (util.h EXIT_*). */
#ifndef WARDEN_COMMANDS_H
#define WARDEN_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_learn(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_detach(int argc, char **argv);

#endif
