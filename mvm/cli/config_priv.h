/* Helpers shared by the parts of the configuration parser (config*.c). */
#ifndef CLI_CONFIG_PRIV_H
#define CLI_CONFIG_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#include <json-c/json.h>
#include <stdint.h>

#include <shyper/hypercall.h>

/* The parser's state while it walks one configuration (config*.c). */
struct ctx {
	char *err;
	size_t errlen;
	const char *base_dir;
	struct cli_vm_config *cfg;
};

#define PATH_LEN 128 /* JSON paths: schema keys and indices only */
#define REQ 1U	     /* must be present */
#define UNSUP 2U     /* a Rust-Shyper field cshyper does not implement */

struct field {
	const char *key;
	unsigned flags;
};

/* The error "path: message"; always false, to return it. */
bool cfg_fail(struct ctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "path.key" and "path[i]" into out (PATH_LEN). */
const char *cfg_sub(char *out, const char *path, const char *key);
const char *cfg_idx(char *out, const char *path, size_t i);
/* "a number", "an object"...: what a JSON value is, for messages. */
const char *cfg_kind(json_object *v);
const char *cfg_plural(size_t n, const char *one, const char *many);
/* Unknown or unsupported keys, then missing required ones. */
bool cfg_check_keys(struct ctx *c, json_object *obj, const char *path,
		    const struct field *fields);
/* The value of key or NULL; *present also for a JSON null. */
json_object *cfg_get(json_object *obj, const char *key, bool *present);
bool cfg_want_type(struct ctx *c, json_object *v, const char *path, enum json_type t,
		   const char *what);
/* Numbers as integers or decimal, 0x or 0b strings. */
bool cfg_get_u64(struct ctx *c, json_object *v, const char *path, uint64_t *out);
bool cfg_get_u32(struct ctx *c, json_object *v, const char *path, uint32_t *out);
bool cfg_get_str(struct ctx *c, json_object *v, const char *path, const char **out);
bool cfg_get_name(struct ctx *c, json_object *v, const char *path, char out[SHYPER_NAME_MAX]);
bool cfg_get_array(struct ctx *c, json_object *v, const char *path, size_t *n);
/* "irq_num" / "irq_list": into *irqs (allocated) or, if NULL, fixed[max]. */
bool cfg_get_irqs(struct ctx *c, json_object *obj, const char *path, size_t max,
		  uint32_t *num, uint32_t **irqs, uint32_t *fixed);
bool cfg_range_end(struct ctx *c, const char *path, const char *what, uint64_t start,
		   uint64_t len);
bool cfg_check_aligned(struct ctx *c, const char *path, uint64_t v);
/* EMU_DEVICE_T_* / DTB_DEVICE_T_* names to the ABI's numbers. */
bool cfg_emu_type(const char *name, uint32_t *out);
bool cfg_dtb_type(const char *name, uint32_t *out);
/* The top-level object of text, or NULL with the error (line, column) in err. */
json_object *cfg_parse_json(const char *text, size_t len, char *err, size_t errlen);
/* The device sections (config_devices.c). */
bool cfg_parse_emu(struct ctx *c, json_object *obj);
bool cfg_parse_pt(struct ctx *c, json_object *obj);
bool cfg_parse_dtb(struct ctx *c, json_object *obj);
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
