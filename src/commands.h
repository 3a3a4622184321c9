/* SPDX-License-Identifier: GPL-2.0-only */
/* One function per command, each in src/cmd_<name>.c. argv[0] is the command. */
#ifndef CGWARDEN_COMMANDS_H
#define CGWARDEN_COMMANDS_H

int cmd_snapshot(int argc, char **argv);
int cmd_stream(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_check_policy(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_top(int argc, char **argv);
/* Hidden (no summary in main.c's table): what completion/ offers. */
int cmd_complete(int argc, char **argv);

#endif
