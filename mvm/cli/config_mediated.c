/*
 * The daemon's mediated-disk configuration ({"mediated": [paths]}), with
 * errors naming the JSON path like the VM configuration's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config_priv.h"

/* "~/x" against $HOME, anything else relative to the file's directory. */
static char *resolve_home(const char *s, const char *base_dir)
{
	const char *home = getenv("HOME");

	if (s[0] == '~' && (s[1] == '/' || !s[1]) && home && *home) {
		size_t n = strlen(home) + strlen(s); /* '~' out, NUL in */
		char *p = malloc(n);

		if (p)
			snprintf(p, n, "%s%s", home, s + 1);
		return p;
	}
	return join_path(base_dir, s);
}

int cli_mediated_parse(struct cli_mediated_config *m, const char *text, size_t len,
		       const char *base_dir, char *err, size_t errlen)
{
	static const struct field fields[] = { { "mediated", REQ }, { NULL, 0 } };
	struct cli_vm_config dummy;
	struct ctx c = { .err = err, .errlen = errlen, .base_dir = base_dir, .cfg = &dummy };
	json_object *root, *list;
	size_t n = 0;
	bool has, ok;

	memset(m, 0, sizeof(*m));
	err[0] = '\0';
	root = cfg_parse_json(text, len, err, errlen);
	if (!root)
		return -1;
	ok = cfg_check_keys(&c, root, "", fields) &&
	     cfg_get_array(&c, list = cfg_get(root, "mediated", &has), "mediated", &n);
	if (ok && n) {
		m->paths = calloc(n, sizeof(*m->paths));
		ok = m->paths || cfg_fail(&c, "mediated", "out of memory");
	}
	for (size_t i = 0; ok && i < n; i++) {
		char p[PATH_LEN];
		const char *s;

		cfg_idx(p, "mediated", i);
		ok = cfg_get_str(&c, json_object_array_get_idx(list, i), p, &s);
		if (ok && !*s)
			ok = cfg_fail(&c, p, "must not be empty");
		if (ok) {
			m->paths[i] = resolve_home(s, base_dir);
			ok = m->paths[i] || cfg_fail(&c, p, "out of memory");
			m->nr_paths += ok;
		}
	}
	json_object_put(root);
	if (!ok) {
		cli_mediated_free(m);
		return -1;
	}
	return 0;
}

int cli_mediated_load(struct cli_mediated_config *m, const char *path, char *err,
		      size_t errlen)
{
	size_t len;
	char *text, *dir;
	int ret;

	memset(m, 0, sizeof(*m));
	text = read_file(path, &len, err, errlen);
	if (!text)
		return -1;
	dir = dir_of(path);
	ret = dir ? cli_mediated_parse(m, text, len, dir, err, errlen) : -1;
	if (!dir)
		errf(err, errlen, "out of memory");
	free(dir);
	free(text);
	return ret;
}

void cli_mediated_free(struct cli_mediated_config *m)
{
	for (size_t i = 0; i < m->nr_paths; i++)
		free(m->paths[i]);
	free(m->paths);
	memset(m, 0, sizeof(*m));
}
