/* Error and usage lines shared by every command (see cli.h). */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>

#include "util.h"

const char *cli_cmd_path = "shyper";
const struct cli_cmd *cli_current;

int cli_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", cli_cmd_path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_ERR;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: warning: ", cli_cmd_path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "shyper %s: ", cli_cmd_path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cli_current)
		fprintf(stderr, " (usage: shyper %s%s%s)", cli_cmd_path,
			cli_current->args[0] ? " " : "", cli_current->args);
	fputc('\n', stderr);
	return CLI_EXIT_USAGE;
}

int cli_vm_id_arg(const char *s, uint32_t *id)
{
	if (cli_parse_vm_id(s, id))
		return cli_usage_err("invalid VM id \"%.32s\": expected a decimal number "
				     "from 0 to 4294967295", s);
	return CLI_EXIT_OK;
}
