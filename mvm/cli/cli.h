/*
 * The command table and the conventions every command follows: output on
 * stdout, one error line on stderr; exit 0 on success, 1 on an error, 2 on a
 * usage error (bad arguments, unknown command).
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdint.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_ERR 1
#define CLI_EXIT_USAGE 2

struct cli_cmd {
	const char *name;
	const char *args;    /* usage after the command name: "<id>" */
	const char *summary; /* one line for the group's help */
	const char *help;    /* more text for `shyper <group> <cmd> --help`, or NULL */
	int min_args, max_args;
	int (*run)(int argc, char **argv); /* argv: the operands, options stripped */
};

struct cli_group {
	const char *name;
	const char *summary;
	const struct cli_cmd *cmds; /* ends with a NULL name */
};

extern const struct cli_cmd cli_vm_cmds[];
/* shyper vm console (cmd_console.c). */
int cli_vm_console(int argc, char **argv);
extern const struct cli_cmd cli_system_cmds[];
/* shyper system update (cmd_update.c). */
int cli_system_update(int argc, char **argv);
extern const struct cli_cmd cli_ivc_cmds[];

/* Options of the running command ("--name" or "--name=value", see the
 * usage string): the value, "" for a flag, NULL when not given. */
const char *cli_option(const char *name);
int cli_add_option(const char *arg); /* main.c, while parsing */
/* A numeric option in [min, max], def when absent; a usage error if bad. */
int cli_option_number(const char *name, double def, double min, double max, double *out);

/* "vm config" while a command runs: the prefix of its error lines. */
extern const char *cli_cmd_path;
/* The command running, for the usage line of usage errors; NULL: none. */
extern const struct cli_cmd *cli_current;

/* "<group> <cmd>: <message>" on stderr; returns CLI_EXIT_ERR. */
int cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "<group> <cmd>: warning: <message>" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "shyper <group> <cmd>: <message> (usage: ...)" on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses a VM id operand: CLI_EXIT_OK, or CLI_EXIT_USAGE after printing why not. */
int cli_vm_id_arg(const char *s, uint32_t *id);

#endif
