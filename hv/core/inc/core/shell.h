/* The hypervisor's own console shell (core 0), for bring-up and diagnosis. */
#ifndef CORE_SHELL_H
#define CORE_SHELL_H

void __attribute__((noreturn)) shell_run(void);
/* Runs one command line; returns 0, or -1 for an unknown or bad command. */
int shell_exec(char *line);

#endif
