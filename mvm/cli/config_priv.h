/* Helpers shared by the parts of the configuration parser (config*.c). */
#ifndef CLI_CONFIG_PRIV_H
#define CLI_CONFIG_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct json_object;
/* The "ivc" section (config_ivc.c); false with the error in err. */
bool cli_config_parse_ivc(struct cli_vm_config *cfg, struct json_object *v, char *err,
			  size_t errlen);

void errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Keeps a warning for the caller to print (a bounded number of them). */
void add_warning(struct cli_vm_config *cfg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* name against base_dir unless absolute; malloc'ed, NULL when out of memory. */
char *join_path(const char *base_dir, const char *name);
/* The whole of a regular file, NUL-terminated; NULL with the error in err. */
char *read_file(const char *path, size_t *len, char *err, size_t errlen);
/* The directory part of a path, malloc'ed. */
char *dir_of(const char *path);

#endif
