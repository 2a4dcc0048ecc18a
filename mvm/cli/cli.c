/* Error and usage lines shared by every command (see cli.h). */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *cli_cmd_path = "shyper";
const struct cli_cmd *cli_current;

#define MAX_OPTIONS 8
static const char *options[MAX_OPTIONS];
static int nr_options;

int cli_add_option(const char *arg)
{
	if (nr_options == MAX_OPTIONS)
		return -1;
	options[nr_options++] = arg;
	return 0;
}

const char *cli_option(const char *name)
{
	size_t n = strlen(name);
	const char *found = NULL;

	/* The last one given wins, as with most tools. */
	for (int i = 0; i < nr_options; i++)
		if (!strncmp(options[i], name, n) && (!options[i][n] || options[i][n] == '='))
			found = options[i][n] ? options[i] + n + 1 : "";
	return found;
}

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

int cli_option_number(const char *name, double def, double min, double max, double *out)
{
	const char *v = cli_option(name);
	char *end;

	*out = def;
	if (!v)
		return CLI_EXIT_OK;
	*out = strtod(v, &end);
	if (!*v || *end || !(*out >= min && *out <= max))
		return cli_usage_err("%s=%.32s: expected a number from %g to %g", name, v, min, max);
	return CLI_EXIT_OK;
}
