#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shyper/hypercall.h>
#include <shyper/mediated.h>
#include <shyper/migrate.h>

#include "daemon_ctl.h"
#include "mediated.h"
#include "migrate_disk.h"

#define SECTOR SHYPER_MIG_SECTOR_SIZE
#define BLOCK MED_TRACK_BLOCK

int mig_disks_open(struct mig_disks *ds, const struct mstream_vm_config_view *cfg, bool copy,
		   char *err, size_t errlen)
{
	memset(ds, 0, sizeof(*ds));
	ds->ctl = -1;
	ds->d = calloc(cfg->emu_devs.count + 1, sizeof(*ds->d));
	if (!ds->d) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < cfg->emu_devs.count; i++) {
		struct shyper_emu_dev e;

		mstream_array_get(&cfg->emu_devs, i, &e, sizeof(e));
		if (e.type == SHYPER_EMU_VIRTIO_BLK_MEDIATED && e.cfg_num >= 2)
			ds->d[ds->nr++] = (struct mig_disk){ (uint32_t)e.cfg_list[0], e.cfg_list[1],
							     -1 };
	}
	if (!ds->nr || !copy)
		return 0;
	ds->ctl = ctl_connect(err, errlen);
	if (ds->ctl < 0)
		return -1;
	for (unsigned i = 0; i < ds->nr; i++) {
		struct mig_disk *d = &ds->d[i];
		char req[32], rep[512], *path;
		unsigned long long sectors;

		snprintf(req, sizeof(req), "track %u", d->image);
		if (ctl_request(ds->ctl, req, rep, sizeof(rep))) {
			snprintf(err, errlen, "mediated image %u: %s", d->image, rep);
			return -1;
		}
		sectors = strtoull(rep, &path, 10);
		if (*path != ' ' || sectors < d->sectors) {
			snprintf(err, errlen, "mediated image %u: the daemon says \"%.100s\"", d->image,
				 rep);
			return -1;
		}
		d->fd = open(path + 1, O_RDONLY | O_CLOEXEC);
		if (d->fd < 0) {
			snprintf(err, errlen, "mediated image %u: %.200s: %s", d->image, path + 1,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

static bool zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Blocks [first, first + n) of one image: read, the non-zero runs sent
 * (all of them with all_blocks: blocks written since may be zero now). */
static int send_blocks(struct mig_disk *d, struct stream_out *o, uint8_t *buf, size_t cap,
		       uint64_t first, uint64_t n, bool all_blocks, uint64_t *bytes, char *err,
		       size_t errlen)
{
	uint64_t end_byte = d->sectors * SECTOR;

	while (n) {
		uint64_t off = first * BLOCK, len = n * BLOCK;
		ssize_t got;

		if (len > cap)
			len = cap / BLOCK * BLOCK;
		if (off >= end_byte)
			return 0;
		if (off + len > end_byte)
			len = end_byte - off; /* the last block may be short: whole sectors */
		got = pread(d->fd, buf, len, (off_t)off);
		if (got < 0) {
			snprintf(err, errlen, "mediated image %u: read: %s", d->image, strerror(errno));
			return -1;
		}
		memset(buf + got, 0, len - (uint64_t)got); /* past the file's end: zeros */
		for (uint64_t p = 0; p < len;) {
			uint64_t q = p;

			if (!all_blocks && zero(buf + p, BLOCK < len - p ? BLOCK : len - p)) {
				p += BLOCK;
				continue;
			}
			while (q < len && (all_blocks || !zero(buf + q, BLOCK < len - q ? BLOCK
											: len - q)))
				q += BLOCK < len - q ? BLOCK : len - q;
			struct shyper_mig_disk_blocks h = { .offset = off + p };

			sout_section(o, SHYPER_MIG_SEC_DISK_BLOCKS, SHYPER_MIG_DISK_BLOCKS_VERSION,
				     d->image, &h, sizeof(h), buf + p, q - p);
			*bytes += q - p;
			p = q;
		}
		first += (len + BLOCK - 1) / BLOCK;
		n = n > (len + BLOCK - 1) / BLOCK ? n - (len + BLOCK - 1) / BLOCK : 0;
	}
	return 0;
}

int mig_disks_copy_all(struct mig_disks *ds, struct stream_out *o, uint8_t *buf, size_t cap,
		       uint64_t *kib, char *err, size_t errlen)
{
	uint64_t bytes = 0;

	for (unsigned i = 0; i < ds->nr; i++) {
		struct mig_disk *d = &ds->d[i];

		if (d->fd >= 0 &&
		    send_blocks(d, o, buf, cap, 0, (d->sectors * SECTOR + BLOCK - 1) / BLOCK, false,
				&bytes, err, errlen))
			return -1;
	}
	*kib += bytes / 1024;
	return 0;
}

int mig_disks_copy_written(struct mig_disks *ds, struct stream_out *o, uint8_t *buf,
			   size_t cap, uint64_t *kib, char *err, size_t errlen)
{
	uint64_t bytes = 0;

	for (unsigned i = 0; i < ds->nr; i++) {
		struct mig_disk *d = &ds->d[i];
		char req[32], rep[128];
		unsigned long long len;
		uint8_t *map;

		if (d->fd < 0)
			continue;
		snprintf(req, sizeof(req), "written %u", d->image);
		if (ctl_request(ds->ctl, req, rep, sizeof(rep))) {
			snprintf(err, errlen, "mediated image %u: %s", d->image, rep);
			return -1;
		}
		len = strtoull(rep, NULL, 10);
		map = malloc(len ? len : 1);
		if (!map || ctl_read_bytes(ds->ctl, map, len)) {
			free(map);
			snprintf(err, errlen, "mediated image %u: the daemon's bitmap", d->image);
			return -1;
		}
		for (uint64_t b = 0; b < len * 8;) {
			uint64_t e = b;

			while (e < len * 8 && (map[e / 8] >> (e % 8)) & 1)
				e++;
			if (e > b && send_blocks(d, o, buf, cap, b, e - b, true, &bytes, err, errlen)) {
				free(map);
				return -1;
			}
			b = e + 1;
		}
		free(map);
	}
	*kib += bytes / 1024;
	return 0;
}

void mig_disks_close(struct mig_disks *ds)
{
	for (unsigned i = 0; i < ds->nr; i++) {
		char req[32], rep[64];

		if (ds->d[i].fd < 0)
			continue;
		close(ds->d[i].fd);
		snprintf(req, sizeof(req), "untrack %u", ds->d[i].image);
		if (ds->ctl >= 0)
			ctl_request(ds->ctl, req, rep, sizeof(rep));
	}
	if (ds->ctl >= 0)
		close(ds->ctl);
	free(ds->d);
	memset(ds, 0, sizeof(*ds));
	ds->ctl = -1;
}
