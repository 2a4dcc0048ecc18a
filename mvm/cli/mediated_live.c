/*
 * Mediated disks while `shyper system daemon` runs (mediated.h): images a
 * migration receiver brought in, served at a free index, and the write
 * tracking a migration's sender uses to re-send the blocks the guest wrote
 * while its disk was being copied.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <shyper/errno.h>
#include <shyper/mediated.h>

#include "hvc.h"
#include "mediated.h"

#define BUF_LEN (sizeof(struct shyper_med_req) + SHYPER_MED_DATA_MAX)

static uint64_t track_blocks(const struct med_disk *disk)
{
	return (disk->sectors * SHYPER_MED_SECTOR + MED_TRACK_BLOCK - 1) / MED_TRACK_BLOCK;
}

static size_t track_words(const struct med_disk *disk)
{
	return (size_t)((track_blocks(disk) + 63) / 64);
}

int med_add_disk(struct med_daemon *d, int fd, const char *path, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < d->nr && d->disks[i].path; i++)
		;
	if (i == SHYPER_MED_IMAGES_MAX) {
		snprintf(err, errlen, "all %u mediated image indexes are in use",
			 SHYPER_MED_IMAGES_MAX);
		return -1;
	}
	return med_add_disk_at(d, fd, path, i, err, errlen) ? -1 : (int)i;
}

int med_add_disk_at(struct med_daemon *d, int fd, const char *path, size_t i, char *err,
		    size_t errlen)
{
	struct med_disk *disk;
	struct stat st;
	int code;

	if (i >= SHYPER_MED_IMAGES_MAX || (i < d->nr && d->disks[i].path)) {
		snprintf(err, errlen, "mediated image %zu is taken", i);
		return -1;
	}
	if (!d->buf && !(d->buf = malloc(BUF_LEN)))
		goto oom;
	if (i >= d->nr) {
		struct med_disk *more = realloc(d->disks, (i + 1) * sizeof(*more));

		if (!more)
			goto oom;
		d->disks = more;
		while (d->nr <= i)
			d->disks[d->nr++] = (struct med_disk){ .fd = -1, .owner = -1, .conn = -1 };
	}
	disk = &d->disks[i];
	disk->path = strdup(path);
	disk->fd = open(path, O_RDWR | O_CLOEXEC);
	if (!disk->path || disk->fd < 0 || fstat(disk->fd, &st)) {
		snprintf(err, errlen, "%s: %s", path, disk->path ? strerror(errno) : "out of memory");
		med_drop_disk(d, -1, i);
		return -1;
	}
	disk->sectors = (uint64_t)st.st_size / SHYPER_MED_SECTOR;
	code = hvc_call(fd, SHYPER_MED_REGISTER, (uint64_t[6]){ i, disk->sectors, 0 }, 0, NULL,
			0, 0, NULL);
	if (code) {
		snprintf(err, errlen, "mediated[%zu]: cannot register it: %s", i,
			 hvc_strerror(code, NULL, (char[160]){ 0 }, 160));
		med_drop_disk(d, -1, i);
		return -1;
	}
	disk->registered = true;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

void med_drop_disk(struct med_daemon *d, int fd, size_t i)
{
	struct med_disk *disk = i < d->nr ? &d->disks[i] : NULL;

	if (!disk)
		return;
	if (disk->registered && fd >= 0)
		hvc_call(fd, SHYPER_MED_UNREGISTER, (uint64_t[6]){ i }, 0, NULL, 0, 0, NULL);
	if (disk->fd >= 0)
		close(disk->fd);
	free(disk->path);
	free(disk->written);
	*disk = (struct med_disk){ .fd = -1, .owner = -1, .conn = -1 };
}

int med_track(struct med_daemon *d, size_t i, bool on)
{
	struct med_disk *disk = i < d->nr ? &d->disks[i] : NULL;

	if (!disk || disk->fd < 0)
		return -1;
	free(disk->written);
	disk->written = on ? calloc(track_words(disk) + 1, 8) : NULL;
	return on && !disk->written ? -1 : 0;
}

uint8_t *med_take_written(struct med_daemon *d, size_t i, size_t *len)
{
	struct med_disk *disk = i < d->nr ? &d->disks[i] : NULL;
	uint8_t *copy;

	*len = 0;
	if (!disk || !disk->written)
		return NULL;
	*len = track_words(disk) * 8;
	copy = malloc(*len ? *len : 1);
	if (!copy) {
		*len = 0;
		return NULL;
	}
	memcpy(copy, disk->written, *len);
	memset(disk->written, 0, *len);
	return copy;
}

void med_note_write(struct med_disk *disk, uint64_t off, uint64_t len)
{
	uint64_t blocks;

	if (!disk->written || !len)
		return;
	blocks = track_blocks(disk);
	for (uint64_t b = off / MED_TRACK_BLOCK; b <= (off + len - 1) / MED_TRACK_BLOCK && b < blocks;
	     b++)
		disk->written[b / 64] |= 1ULL << (b % 64);
}
