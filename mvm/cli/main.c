/*
 * shyper: the management VM's command-line tool for the cshyper hypervisor.
 *   shyper <group> <command> [args]   (see `shyper --help`)
 */
#include <stdio.h>
#include <string.h>

#include <shyper/version.h>

#include "cli.h"
#include "util.h"

static const struct cli_group groups[] = {
	{ "vm", "configure, boot and manage guest VMs", cli_vm_cmds },
	{ "system", "the hypervisor and the management daemon", cli_system_cmds },
	{ "ivc", "inter-VM messages, shared memory, keep-alive (any VM)", cli_ivc_cmds },
	{ NULL, NULL, NULL },
};

static int is_help(const char *a)
{
	return !strcmp(a, "--help") || !strcmp(a, "-h");
}

static void main_help(FILE *out)
{
	fprintf(out, "Usage: shyper <group> <command> [arguments]\n"
	       "       shyper <group> --help | shyper <group> <command> --help\n"
	       "\n"
	       "The cshyper management VM's tool: it talks to the hypervisor through\n"
	       "%s (shyper.ko).\n\nGroups:\n", "/dev/shyper");
	for (const struct cli_group *g = groups; g->name; g++)
		fprintf(out, "  %-8s %s\n", g->name, g->summary);
	fprintf(out, "\nOptions:\n  -h, --help     this help\n"
	       "  -V, --version  the CLI's version and ABI version\n"
	       "\nTo start a guest:  insmod shyper.ko;  shyper system daemon &;\n"
	       "  shyper vm config guest.json  (prints the new VM's id);  shyper vm boot <id>\n");
}

static void group_help(FILE *out, const struct cli_group *g)
{
	fprintf(out, "Usage: shyper %s <command> [arguments]\n\n%s.\n\nCommands:\n", g->name,
	       g->summary);
	for (const struct cli_cmd *c = g->cmds; c->name; c++) {
		char left[64];

		snprintf(left, sizeof(left), "%s %s", c->name, c->args);
		fprintf(out, "  %-26s %s\n", left, c->summary);
	}
	fprintf(out, "\nSee `shyper %s <command> --help` for more.\n", g->name);
}

static void cmd_help(const struct cli_group *g, const struct cli_cmd *c)
{
	printf("Usage: shyper %s %s%s%s\n\n%s.\n", g->name, c->name, c->args[0] ? " " : "",
	       c->args, c->summary);
	if (c->help)
		printf("\n%s", c->help);
}

/* The options a command takes are the ones its usage shows, "[--name]" for
 * a flag or "[--name=VALUE]"; a takes one of them in the same form. */
static int declared(const struct cli_cmd *c, const char *a)
{
	size_t n = strcspn(a, "=");

	for (const char *p = strstr(c->args, "[--"); p; p = strstr(p + 1, "[--"))
		if (!strncmp(p + 1, a, n) && (p[1 + n] == '=' || p[1 + n] == ']'))
			return (a[n] == '=') == (p[1 + n] == '=');
	return 0;
}

static int run_cmd(const struct cli_group *g, const struct cli_cmd *c, int argc, char **argv)
{
	static char path[64];
	char *ops[8];
	int n = 0, dashdash = 0;

	snprintf(path, sizeof(path), "%s %s", g->name, c->name);
	cli_cmd_path = path;
	cli_current = c;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!dashdash && is_help(a)) {
			cmd_help(g, c);
			return CLI_EXIT_OK;
		}
		if (!dashdash && !strcmp(a, "--")) {
			dashdash = 1;
			continue;
		}
		if (!dashdash && !strncmp(a, "--", 2) && declared(c, a)) {
			if (cli_add_option(a))
				return cli_usage_err("too many options");
			continue;
		}
		if (!dashdash && a[0] == '-' && a[1])
			return cli_usage_err("unknown option \"%.32s\"", a);
		if (n == c->max_args || n == (int)(sizeof(ops) / sizeof(ops[0])))
			return cli_usage_err("too many arguments");
		ops[n++] = argv[i];
	}
	if (n < c->min_args)
		return cli_usage_err("missing %s", c->args);
	/* Errors from here on are the command's: "vm boot: ..." */
	return c->run(n, ops);
}

int main(int argc, char **argv)
{
	const struct cli_group *g;
	const struct cli_cmd *c;

	if (argc < 2) {
		main_help(stderr);
		return CLI_EXIT_USAGE;
	}
	if (is_help(argv[1])) {
		main_help(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("shyper %s (ABI %d)\n", SHYPER_VERSION_STRING, SHYPER_ABI_VERSION);
		return CLI_EXIT_OK;
	}
	for (g = groups; g->name && strcmp(g->name, argv[1]); g++)
		;
	if (!g->name) {
		fprintf(stderr, "shyper: unknown group \"%.32s\" (groups: vm, system, ivc; "
				"see shyper --help)\n", argv[1]);
		return CLI_EXIT_USAGE;
	}
	if (argc < 3 || is_help(argv[2])) {
		group_help(argc < 3 ? stderr : stdout, g);
		return argc < 3 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	for (c = g->cmds; c->name && strcmp(c->name, argv[2]); c++)
		;
	if (!c->name) {
		fprintf(stderr, "shyper %s: unknown command \"%.32s\" (see shyper %s --help)\n",
			g->name, argv[2], g->name);
		return CLI_EXIT_USAGE;
	}
	return run_cmd(g, c, argc - 3, argv + 3);
}
