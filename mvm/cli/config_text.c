/*
 * Reading a configuration's text: the file, its directory, and json-c's
 * parse with the error placed at a line and column.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config_priv.h"
#include "jsoncheck.h"

static void line_col(const char *text, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++, (*col)++)
		if (text[i] == '\n') {
			(*line)++;
			*col = 0;
		}
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* The top-level object of text, or NULL with the error in err. */
json_object *cfg_parse_json(const char *text, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok;
	json_object *root;
	const char *nul;
	size_t i, line, col, end;
	char *buf;

	for (i = 0; i < len && is_space(text[i]); i++)
		;
	if (i == len) {
		errf(err, errlen, "file is empty");
		return NULL;
	}
	nul = memchr(text, '\0', len);
	if (nul) {
		line_col(text, (size_t)(nul - text), &line, &col);
		errf(err, errlen, "line %zu, column %zu: invalid JSON: NUL byte", line, col);
		return NULL;
	}
	if (len > CLI_CONFIG_FILE_MAX) {
		errf(err, errlen, "larger than %u bytes", CLI_CONFIG_FILE_MAX);
		return NULL;
	}
	buf = malloc(len + 1);
	tok = json_tokener_new();
	if (!buf || !tok) {
		free(buf);
		if (tok)
			json_tokener_free(tok);
		errf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* Passing the terminating NUL tells json-c the input ends there. */
	root = json_tokener_parse_ex(tok, buf, (int)len + 1);
	end = json_tokener_get_parse_end(tok);
	if (!root && json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		line_col(buf, end < len ? end : len, &line, &col);
		errf(err, errlen, "line %zu, column %zu: invalid JSON: %s", line, col,
		     e == json_tokener_continue ? "unexpected end of data"
						: json_tokener_error_desc(e));
	} else {
		for (i = end; i < len && is_space(buf[i]); i++)
			;
		if (i < len) {
			line_col(buf, i, &line, &col);
			errf(err, errlen, "line %zu, column %zu: invalid JSON: unexpected text "
					  "after the top-level object", line, col);
		} else if (json_object_get_type(root) != json_type_object) {
			errf(err, errlen, "expected a JSON object at the top level, got %s",
			     cfg_kind(root));
		} else if (cli_json_check(buf, len, err, errlen) == 0) {
			json_tokener_free(tok);
			free(buf);
			return root;
		}
	}
	json_object_put(root);
	json_tokener_free(tok);
	free(buf);
	return NULL;
}

/* The whole of a regular file, NUL-terminated; NULL with the error in err. */
char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t used = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		errf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		errf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		errf(err, errlen, "%s", strerror(EISDIR));
		goto out;
	}
	buf = malloc(CLI_CONFIG_FILE_MAX + 1);
	if (!buf) {
		errf(err, errlen, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + used, CLI_CONFIG_FILE_MAX + 1 - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errf(err, errlen, "%s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > CLI_CONFIG_FILE_MAX) {
			errf(err, errlen, "larger than %u bytes", CLI_CONFIG_FILE_MAX);
			goto fail;
		}
	}
	if (!used) {
		errf(err, errlen, "file is empty");
		goto fail;
	}
	buf[used] = '\0';
	*len = used;
	close(fd);
	return buf;
fail:
	free(buf);
	buf = NULL;
out:
	close(fd);
	return NULL;
}

/* The directory part of path: "dir/x.json" -> "dir", "x.json" -> ".", "/x" -> "/". */
char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* ------------------------------------------------------------------------ */
/* API                                                                       */
