/*
 * Runs one CLI command with its stdout and stderr captured into buffers
 * (for the CLI tests that wrap the hypervisor calls: test_cli_cmds.c,
 * test_cli_update.c). Header-only: each test includes it once.
 */
#ifndef TESTS_CLI_CAPTURE_H
#define TESTS_CLI_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void capture_slurp(int fd, char *buf, size_t size)
{
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
}

/* fn(argc, argv)'s return; what it printed goes to out and err. */
static int capture_run(int (*fn)(int, char **), int argc, char **argv, char *out,
		       size_t out_size, char *err, size_t err_size)
{
	char o[] = "/tmp/cli-out-XXXXXX", e[] = "/tmp/cli-err-XXXXXX";
	int fo = mkstemp(o), fe = mkstemp(e), so, se, ret;

	if (fo < 0 || fe < 0)
		abort();
	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	dup2(fo, 1);
	dup2(fe, 2);
	ret = fn(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	capture_slurp(fo, out, out_size);
	capture_slurp(fe, err, err_size);
	close(fo);
	close(fe);
	unlink(o);
	unlink(e);
	return ret;
}

#endif
