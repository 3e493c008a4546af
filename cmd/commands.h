/*
 * cmd/commands.h - the subcommands main() dispatches to.
 *
 * Each takes argv with argv[0] = the subcommand name and returns the exit
 * status: 0, or 1 after printing one line per failure on stderr.
 */
#ifndef SL_CMD_COMMANDS_H
#define SL_CMD_COMMANDS_H

int sl_cmd_serve(int argc, char **argv);
int sl_cmd_apply(int argc, char **argv);
int sl_cmd_get(int argc, char **argv);
int sl_cmd_describe(int argc, char **argv);
int sl_cmd_delete(int argc, char **argv);
int sl_cmd_send(int argc, char **argv);
int sl_cmd_display(int argc, char **argv);
int sl_cmd_explain(int argc, char **argv);

#endif
