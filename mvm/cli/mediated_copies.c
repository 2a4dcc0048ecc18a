/* Disk copies that belong to a VM (mediated_copies.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/mediated.h>

#include "cli.h"
#include "hvc.h"
#include "mediated_copies.h"

/* A VM's name as recorded: one word of printable characters. */
static void name_key(const char *name, char out[SHYPER_NAME_MAX])
{
	size_t n = 0;

	for (; n < SHYPER_NAME_MAX - 1 && name[n]; n++)
		out[n] = name[n] > ' ' && name[n] <= '~' ? name[n] : '?';
	if (!n)
		out[n++] = '-';
	out[n] = 0;
}

/* VM vm's name key: 0; -1 if there is no such VM; 1 if the hypervisor
 * did not say (then nothing is deleted). */
static int vm_key(int fd, uint32_t vm, char out[SHYPER_NAME_MAX])
{
	struct shyper_vm_info v;
	int code;

	memset(&v, 0, sizeof(v));
	code = hvc_call(fd, SHYPER_VMM_INFO, (uint64_t[6]){ vm, 0, sizeof(v) }, 2, &v, sizeof(v),
			SHYPER_BUF_OUT, NULL);
	if (code == -SHYPER_ENOENT)
		return -1;
	if (code)
		return 1;
	v.name[SHYPER_NAME_MAX - 1] = 0;
	name_key(v.name, out);
	return 0;
}

/* The record: one line per copy with its VM, rewritten whole (renamed
 * into place, so that a daemon killed meanwhile leaves the old one). */
static void save(const struct med_daemon *d)
{
	char tmp[256];
	FILE *f;
	int n = 0;

	if (!d->copies_path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.new", d->copies_path);
	f = fopen(tmp, "w");
	if (!f) {
		cli_warn("%s: %s (a restarted daemon will not know the disk copies)", tmp,
			 strerror(errno));
		return;
	}
	for (size_t i = 0; i < d->nr; i++) {
		const struct med_disk *disk = &d->disks[i];

		if (disk->path && disk->copy && disk->owner >= 0) {
			fprintf(f, "%zu %d %s %s\n", i, disk->owner, disk->owner_name, disk->path);
			n++;
		}
	}
	if (fclose(f) || rename(tmp, d->copies_path)) {
		cli_warn("%s: %s (a restarted daemon will not know the disk copies)",
			 d->copies_path, strerror(errno));
		unlink(tmp);
		return;
	}
	if (!n)
		unlink(d->copies_path);
}

void med_copy_pending(struct med_daemon *d, size_t i, int conn)
{
	if (i < d->nr && d->disks[i].path) {
		d->disks[i].copy = true;
		d->disks[i].conn = conn;
	}
}

int med_copy_own(struct med_daemon *d, int fd, size_t i, uint32_t vm, char *err,
		 size_t errlen)
{
	struct med_disk *disk = i < d->nr ? &d->disks[i] : NULL;
	char key[SHYPER_NAME_MAX];

	if (!disk || !disk->path || !disk->copy) {
		snprintf(err, errlen, "mediated image %zu is not a copy served here", i);
		return -1;
	}
	if (vm > INT32_MAX || vm_key(fd, vm, key)) {
		snprintf(err, errlen, "no VM %u here", vm);
		return -1;
	}
	disk->owner = (int)vm;
	disk->conn = -1;
	memcpy(disk->owner_name, key, sizeof(key));
	save(d);
	return 0;
}

void med_copy_drop(struct med_daemon *d, int fd, size_t i, bool delete_file)
{
	struct med_disk *disk = i < d->nr ? &d->disks[i] : NULL;
	bool recorded;

	if (!disk || !disk->path)
		return;
	recorded = disk->copy && disk->owner >= 0;
	if (delete_file && disk->copy && unlink(disk->path) && errno != ENOENT)
		cli_warn("%s: %s", disk->path, strerror(errno));
	med_drop_disk(d, fd, i);
	if (recorded)
		save(d);
}

void med_copies_conn_closed(struct med_daemon *d, int fd, int conn)
{
	for (size_t i = 0; i < d->nr; i++) {
		struct med_disk *disk = &d->disks[i];

		if (!disk->path || !disk->copy || disk->owner >= 0 || disk->conn != conn)
			continue;
		printf("mediated image %zu: the migration that brought %s ended without its VM; "
		       "the copy is no longer served and is deleted\n", i, disk->path);
		fflush(stdout);
		med_copy_drop(d, fd, i, true);
	}
}

static void drop_gone(struct med_daemon *d, int fd, size_t i)
{
	struct med_disk *disk = &d->disks[i];

	printf("mediated image %zu: VM %d (%s) was removed; its disk copy %s is no longer "
	       "served and is deleted\n", i, disk->owner, disk->owner_name, disk->path);
	fflush(stdout);
	med_copy_drop(d, fd, i, true);
}

void med_copies_vm_removed(struct med_daemon *d, int fd, uint32_t vm)
{
	for (size_t i = 0; i < d->nr; i++)
		if (d->disks[i].path && d->disks[i].copy && d->disks[i].owner == (int64_t)vm)
			drop_gone(d, fd, i);
}

void med_copies_check(struct med_daemon *d, int fd)
{
	for (size_t i = 0; i < d->nr; i++) {
		struct med_disk *disk = &d->disks[i];
		char key[SHYPER_NAME_MAX];
		int st;

		if (!disk->path || !disk->copy || disk->owner < 0)
			continue;
		st = vm_key(fd, (uint32_t)disk->owner, key);
		if (st < 0 || (!st && strcmp(key, disk->owner_name)))
			drop_gone(d, fd, i);
	}
}

/* One recorded copy: served again at its index, or deleted. */
static void restore_one(struct med_daemon *d, int fd, size_t i, uint32_t vm, const char *name,
			const char *path)
{
	char key[SHYPER_NAME_MAX], err[320];
	int st = vm_key(fd, vm, key);

	if (st < 0 || (!st && strcmp(key, name))) {
		printf("mediated image %zu: VM %u (%s) was removed meanwhile; its disk copy %s is "
		       "deleted\n", i, vm, name, path);
		if (unlink(path) && errno != ENOENT)
			cli_warn("%s: %s", path, strerror(errno));
		return;
	}
	if (med_add_disk_at(d, fd, path, i, err, sizeof(err))) {
		cli_warn("VM %u's disk copy is not served again: %s", vm, err);
		return;
	}
	d->disks[i].copy = true;
	d->disks[i].owner = (int)vm;
	snprintf(d->disks[i].owner_name, sizeof(d->disks[i].owner_name), "%s", name);
	printf("mediated image %zu: %s served again (the disk copy of VM %u, %s)\n", i, path, vm,
	       name);
}

void med_copies_restore(struct med_daemon *d, int fd)
{
	char line[600], name[SHYPER_NAME_MAX], *path;
	FILE *f = d->copies_path ? fopen(d->copies_path, "r") : NULL;
	unsigned long i, vm;
	int off;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		off = 0;
		if (sscanf(line, "%lu %lu %31s %n", &i, &vm, name, &off) != 3 || !off ||
		    i >= SHYPER_MED_IMAGES_MAX || vm > INT32_MAX || !*(path = line + off)) {
			cli_warn("%s: a line that makes no sense: \"%.100s\"", d->copies_path, line);
			continue;
		}
		restore_one(d, fd, i, (uint32_t)vm, name, path);
	}
	fclose(f);
	fflush(stdout);
	save(d);
}
