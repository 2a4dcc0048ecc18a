#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
/*
 * Mediated disks of `shyper system daemon` (mediated.h): the configuration,
 * REGISTER for each image, then FETCH / pread|pwrite|fdatasync / COMPLETE.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <shyper/errno.h>
#include <shyper/ioctl.h>
#include <shyper/mediated.h>

#include "cli.h"
#include "hvc.h"
#include "jsoncheck.h"
#include "mediated.h"

#define BUF_LEN (sizeof(struct shyper_med_req) + SHYPER_MED_DATA_MAX)

static int fail(char *err, size_t errlen, const char *path, const char *msg)
{
	snprintf(err, errlen, "%s: %s", path, msg);
	return -1;
}

static const char *kind(json_object *o)
{
	return json_type_to_name(json_object_get_type(o));
}

/* "~/x" under $HOME, relative paths under base_dir, others as they are. */
static char *resolve(const char *s, const char *base_dir)
{
	const char *home = getenv("HOME");
	char *p = NULL;

	if (s[0] == '~' && (s[1] == '/' || !s[1]) && home && *home) {
		if (asprintf(&p, "%s%s", home, s + 1) < 0)
			p = NULL;
	} else if (s[0] != '/' && base_dir && *base_dir) {
		if (asprintf(&p, "%s/%s", base_dir, s) < 0)
			p = NULL;
	} else {
		p = strdup(s);
	}
	return p;
}

/* One entry: a path, or { "path": ..., "readonly": bool }. */
static int parse_entry(struct med_disk *disk, json_object *e, const char *at,
		       const char *base_dir, char *err, size_t errlen)
{
	char where[64];
	json_object *path = e, *ro = NULL;

	if (json_object_is_type(e, json_type_object)) {
		json_object_object_foreach(e, key, val) {
			(void)val;
			if (strcmp(key, "path") && strcmp(key, "readonly")) {
				snprintf(where, sizeof(where), "%s.%s", at, key);
				return fail(err, errlen, where, "unknown field");
			}
		}
		snprintf(where, sizeof(where), "%s.path", at);
		if (!json_object_object_get_ex(e, "path", &path))
			return fail(err, errlen, where, "required field is missing");
		if (json_object_object_get_ex(e, "readonly", &ro)) {
			char w[64];

			snprintf(w, sizeof(w), "%s.readonly", at);
			if (!json_object_is_type(ro, json_type_boolean)) {
				snprintf(err, errlen, "%s: expected true or false, got a %s", w,
					 kind(ro));
				return -1;
			}
			disk->readonly = json_object_get_boolean(ro);
		}
	} else {
		snprintf(where, sizeof(where), "%s", at);
	}
	if (!json_object_is_type(path, json_type_string)) {
		snprintf(err, errlen, "%s: expected a string%s, got a %s", where,
			 path == e ? " or an object" : "", kind(path));
		return -1;
	}
	if (!*json_object_get_string(path))
		return fail(err, errlen, where, "must not be empty");
	disk->path = resolve(json_object_get_string(path), base_dir);
	return disk->path ? 0 : fail(err, errlen, where, "out of memory");
}

static void free_disks(struct med_daemon *d)
{
	for (size_t i = 0; i < d->nr; i++) {
		free(d->disks[i].path);
		free(d->disks[i].written);
	}
	free(d->disks);
	d->disks = NULL;
	d->nr = 0;
}

int med_config_parse(struct med_daemon *d, const char *text, size_t len, const char *base_dir,
		     char *err, size_t errlen)
{
	enum json_tokener_error jerr = json_tokener_success;
	json_object *root, *list = NULL;
	int ret = -1;

	memset(d, 0, sizeof(*d));
	if (cli_json_check(text, len, err, errlen))
		return -1;
	root = json_tokener_parse_verbose(text, &jerr);
	if (!root)
		return fail(err, errlen, "invalid JSON", json_tokener_error_desc(jerr));
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "expected an object, got a %s", kind(root));
		goto out;
	}
	json_object_object_foreach(root, key, val) {
		(void)val;
		if (strcmp(key, "mediated")) {
			fail(err, errlen, key, "unknown field");
			goto out;
		}
	}
	if (!json_object_object_get_ex(root, "mediated", &list)) {
		fail(err, errlen, "mediated", "required field is missing");
		goto out;
	}
	if (!json_object_is_type(list, json_type_array)) {
		snprintf(err, errlen, "mediated: expected an array, got a %s", kind(list));
		goto out;
	}
	d->nr = json_object_array_length(list);
	if (d->nr > SHYPER_MED_IMAGES_MAX) {
		snprintf(err, errlen, "mediated: at most %d images", SHYPER_MED_IMAGES_MAX);
		d->nr = 0;
		goto out;
	}
	d->disks = calloc(d->nr ? d->nr : 1, sizeof(*d->disks));
	if (!d->disks) {
		d->nr = 0;
		fail(err, errlen, "mediated", "out of memory");
		goto out;
	}
	for (size_t i = 0; i < d->nr; i++) {
		char at[32];

		d->disks[i] = (struct med_disk){ .fd = -1, .owner = -1, .conn = -1 };
		snprintf(at, sizeof(at), "mediated[%zu]", i);
		if (parse_entry(&d->disks[i], json_object_array_get_idx(list, i), at, base_dir,
				err, errlen))
			goto out;
	}
	ret = 0;
out:
	json_object_put(root);
	if (ret)
		free_disks(d);
	return ret;
}

int med_config_load(struct med_daemon *d, const char *path, char *err, size_t errlen)
{
	char *text = NULL, *dir, *slash;
	size_t len = 0;
	FILE *f = fopen(path, "r");
	int ret;

	memset(d, 0, sizeof(*d));
	if (!f) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	text = malloc(1 << 20);
	if (text)
		len = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	if (!text)
		return fail(err, errlen, "mediated", "out of memory");
	text[len] = '\0';
	dir = strdup(path);
	slash = dir ? strrchr(dir, '/') : NULL;
	if (slash)
		*slash = '\0';
	ret = med_config_parse(d, text, len, slash ? dir : ".", err, errlen);
	free(dir);
	free(text);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* Serving                                                                   */

static void open_disk(struct med_disk *disk, size_t i, const char *cfg_name)
{
	struct stat st;

	disk->fd = open(disk->path, (disk->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (disk->fd < 0 && !disk->readonly && (errno == EACCES || errno == EROFS)) {
		disk->fd = open(disk->path, O_RDONLY | O_CLOEXEC);
		if (disk->fd >= 0) {
			cli_warn("%s: mediated[%zu]: %s: read-only file, served read-only",
				 cfg_name, i, disk->path);
			disk->readonly = true;
		}
	}
	if (disk->fd < 0 || fstat(disk->fd, &st) < 0) {
		cli_warn("%s: mediated[%zu]: %s: %s (I/O of its guests fails)", cfg_name, i,
			 disk->path, strerror(errno));
		if (disk->fd >= 0)
			close(disk->fd);
		disk->fd = -1;
		return;
	}
	disk->sectors = (uint64_t)st.st_size / SHYPER_MED_SECTOR;
}

int med_daemon_start(struct med_daemon *d, int fd, const char *cfg_name)
{
	d->buf = malloc(BUF_LEN);
	if (!d->buf)
		return -1;
	for (size_t i = 0; i < d->nr; i++) {
		struct med_disk *disk = &d->disks[i];
		uint64_t flags = disk->readonly ? SHYPER_MED_F_RO : 0;
		char e[160];
		int code;

		open_disk(disk, i, cfg_name);
		if (disk->fd < 0)
			flags |= SHYPER_MED_F_FAILED;
		code = hvc_call(fd, SHYPER_MED_REGISTER, (uint64_t[6]){ i, disk->sectors, flags }, 0,
				NULL, 0, 0, NULL);
		if (code)
			cli_warn("%s: mediated[%zu]: cannot register it: %s", cfg_name, i,
				 hvc_strerror(code, NULL, e, sizeof(e)));
		disk->registered = !code;
	}
	return 0;
}

static int full_io(int fd, bool write, uint8_t *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = write ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) { /* a read past the end of the file: zeros */
			memset(buf, 0, len);
			return 0;
		}
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Does the I/O; the status, data in `data` for reads. */
static uint32_t serve_one(struct med_daemon *d, const struct shyper_med_req *r, uint8_t *data)
{
	struct med_disk *disk = r->image < d->nr ? &d->disks[r->image] : NULL;
	uint64_t off = r->sector * SHYPER_MED_SECTOR;

	if (!disk || disk->fd < 0 || r->len > SHYPER_MED_DATA_MAX ||
	    r->sector > UINT64_MAX / SHYPER_MED_SECTOR || off > (uint64_t)INT64_MAX - r->len)
		return SHYPER_MED_S_IOERR;
	switch (r->type) {
	case SHYPER_MED_T_READ:
		return full_io(disk->fd, false, data, r->len, off) ? SHYPER_MED_S_IOERR
								   : SHYPER_MED_S_OK;
	case SHYPER_MED_T_WRITE:
		if (disk->readonly)
			return SHYPER_MED_S_IOERR;
		if (full_io(disk->fd, true, data, r->len, off))
			return SHYPER_MED_S_IOERR;
		med_note_write(disk, off, r->len);
		return SHYPER_MED_S_OK;
	case SHYPER_MED_T_FLUSH:
		return fdatasync(disk->fd) ? SHYPER_MED_S_IOERR : SHYPER_MED_S_OK;
	}
	return SHYPER_MED_S_UNSUPP;
}

void med_daemon_serve(struct med_daemon *d, int fd)
{
	struct shyper_med_req r;
	uint8_t *data = (uint8_t *)d->buf + sizeof(r);

	for (;;) {
		uint32_t status;
		char e[160];
		int code;

		memset(d->buf, 0, sizeof(r));
		code = hvc_call(fd, SHYPER_MED_FETCH, (uint64_t[6]){ 0, BUF_LEN }, 1, d->buf, BUF_LEN,
				SHYPER_BUF_OUT, NULL);
		if (code == -SHYPER_EAGAIN)
			return;
		if (code) {
			cli_warn("mediated: fetch: %s", hvc_strerror(code, NULL, e, sizeof(e)));
			return;
		}
		memcpy(&r, d->buf, sizeof(r));
		if (!r.id) /* not a request (the ABI never uses 0) */
			return;
		status = serve_one(d, &r, data);
		if (status == SHYPER_MED_S_OK)
			d->served++;
		else
			d->failed++;
		if (r.type == SHYPER_MED_T_READ && status == SHYPER_MED_S_OK)
			code = hvc_call(fd, SHYPER_MED_COMPLETE,
					(uint64_t[6]){ r.id, status, 0, r.len }, 3, data, r.len,
					SHYPER_BUF_IN, NULL);
		else
			code = hvc_call(fd, SHYPER_MED_COMPLETE, (uint64_t[6]){ r.id, status }, 0,
					NULL, 0, 0, NULL);
		/* ENOENT: the guest reset or went away meanwhile; nothing to do. */
		if (code && code != -SHYPER_ENOENT)
			cli_warn("mediated: complete vm%u: %s", r.vm_id,
				 hvc_strerror(code, NULL, e, sizeof(e)));
	}
}

void med_daemon_stop(struct med_daemon *d, int fd)
{
	for (size_t i = 0; i < d->nr; i++) {
		if (d->disks[i].registered && fd >= 0)
			hvc_call(fd, SHYPER_MED_UNREGISTER, (uint64_t[6]){ i }, 0, NULL, 0, 0, NULL);
		if (d->disks[i].fd >= 0)
			close(d->disks[i].fd);
	}
	free(d->buf);
	free_disks(d);
	d->buf = NULL;
}
