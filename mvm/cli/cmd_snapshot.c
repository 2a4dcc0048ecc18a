/*
 * shyper vm save <id> <file> / shyper vm restore <file>: a VM to a file
 * and back, as one migration stream (docs/MIGRATION.md):
 *
 *   header, VM_CONFIG, MEM..., VCPU..., VGIC_DIST, VGIC_CPU..., VDEV...,
 *   CONSOLE_HISTORY, END
 *
 * VM_CONFIG and the state sections come from the hypervisor (STATE_SAVE),
 * whose stream this file copies section by section; the MEM sections are
 * the VM's RAM read with MEM_READ, zero pages left out (a new VM's RAM
 * starts zeroed). Restore checks the whole file before asking the
 * hypervisor for anything, builds the VM with the `vm config` steps from
 * VM_CONFIG, writes the pages back, hands the rest to STATE_LOAD and
 * resumes the VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lib/crc32.h>
#include <lib/mstream.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/migrate.h>

#include "cli.h"
#include "config.h"
#include "hvc.h"
#include "util.h"
#include "stream_out.h"
#include "vm_cmds.h"
#include "vm_import.h"

#define PAGE SHYPER_MIG_PAGE_SIZE
#define CHUNK SHYPER_MIG_COPY_MAX
#define READ_PIECE (64U * 1024)
/* The largest section a file of ours holds: a MEM run of one chunk. */
#define SECTION_MAX (sizeof(struct shyper_mig_section) + sizeof(struct shyper_mig_mem) + CHUNK)
#define ERR_MAX 512

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------------ */
/* Writing the file                                                          */

static int file_write(void *ctx, const void *data, size_t len)
{
	return fwrite(data, 1, len, ctx) == len ? 0 : -1;
}

static int save_ram(int fd, uint32_t id, const struct mstream_vm_config_view *cfg,
		    struct stream_out *o, uint64_t *pages, uint64_t *total, char *err, size_t errlen)
{
	uint8_t *buf = malloc(CHUNK);
	char what[96];

	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < cfg->mem_regions.count; i++) {
		struct shyper_mig_mem_region r;

		mstream_array_get(&cfg->mem_regions, i, &r, sizeof(r));
		for (uint64_t off = 0; off < r.length; off += CHUNK) {
			size_t n = r.length - off < CHUNK ? (size_t)(r.length - off) : CHUNK;

			snprintf(what, sizeof(what), "read RAM at 0x%llx",
				 (unsigned long long)(r.ipa + off));
			if (cli_vm_call(fd, what, SHYPER_MIG_MEM_READ,
					(uint64_t[6]){ id, r.ipa + off, 0, n }, 3, buf, n,
					SHYPER_BUF_OUT, NULL, err, errlen)) {
				free(buf);
				return -1;
			}
			*pages += sout_pages(o, r.ipa + off, buf, n, true);
			*total += n / PAGE;
		}
	}
	free(buf);
	return 0;
}

/* A file being written: its header is completed at the end. */
struct save_file {
	FILE *f;
	struct stream_out o;
	struct shyper_mig_header hdr;
	struct shyper_image_desc image; /* from VM_CONFIG */
};

/* While the VM is paused: the hypervisor's stream, checked like any other,
 * VM_CONFIG first, then the RAM, then the rest of the state. */
static int write_state(struct save_file *sf, int fd, uint32_t id, const uint8_t *state,
		       size_t state_len, uint64_t *pages, uint64_t *total, char *err,
		       size_t errlen)
{
	struct mstream_reader r;
	struct mstream_section s;
	struct mstream_vm_config_view cfg;
	int ret;

	if (mstream_reader_open(&r, state, state_len) ||
	    mstream_reader_next(&r, &s) != MSTREAM_SECTION) {
		snprintf(err, errlen, "the hypervisor's state: %s", r.chk.err.reason);
		return -1;
	}
	mstream_parse_vm_config(s.payload, s.length, &cfg, NULL, 0);
	for (uint32_t i = 0; i < cfg.emu_devs.count; i++) {
		struct shyper_emu_dev d;

		mstream_array_get(&cfg.emu_devs, i, &d, sizeof(d));
		if (d.type == SHYPER_EMU_VIRTIO_BLK_MEDIATED) {
			snprintf(err, errlen, "it has a mediated disk, whose image a snapshot does "
				 "not carry (shyper vm migrate moves both)");
			return -1;
		}
	}
	sf->image = cfg.cfg.image;
	sf->hdr = r.chk.hdr;
	sout_put(&sf->o, &sf->hdr, sizeof(sf->hdr)); /* completed by finish_file */
	sout_copy(&sf->o, &s);
	if (save_ram(fd, id, &cfg, &sf->o, pages, total, err, errlen))
		return -1;
	while ((ret = mstream_reader_next(&r, &s)) == MSTREAM_SECTION)
		sout_copy(&sf->o, &s);
	if (ret != MSTREAM_END) {
		snprintf(err, errlen, "the hypervisor's state: %s", r.chk.err.reason);
		return -1;
	}
	return 0;
}

/* Once the VM runs again: its boot images (they never change), END, and
 * the header with the totals. */
static int finish_file(struct save_file *sf, int fd, uint32_t id, uint64_t *images,
		       uint64_t *size, char *err, size_t errlen)
{
	struct shyper_mig_header *hdr = &sf->hdr;

	if (sout_images(&sf->o, fd, id, &sf->image, images, err, errlen))
		return -1;
	sout_end(&sf->o);
	hdr->flags = 0;
	hdr->nr_sections = sf->o.nr_sections;
	hdr->total_length = sf->o.pos;
	hdr->crc = crc32(hdr, offsetof(struct shyper_mig_header, crc));
	errno = sf->o.err;
	if (sf->o.err || fseek(sf->f, 0, SEEK_SET) || fwrite(hdr, sizeof(*hdr), 1, sf->f) != 1 ||
	    fflush(sf->f) || fsync(fileno(sf->f))) {
		snprintf(err, errlen, "write: %s", strerror(errno));
		return -1;
	}
	*size = sf->o.pos;
	return 0;
}

/* STATE_SAVE into a buffer of the most the call may fill. */
static uint8_t *fetch_state(int fd, uint32_t id, size_t *len, char *err, size_t errlen)
{
	uint8_t *buf = malloc(SHYPER_MIG_STATE_MAX);
	uint64_t ret[4];
	int r = 0;

	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* EBUSY: a mediated disk's requests are being finished. */
	for (int i = 0; i < 500; i++) {
		r = hvc_call(fd, SHYPER_MIG_STATE_SAVE, (uint64_t[6]){ id, 0, SHYPER_MIG_STATE_MAX },
			     2, buf, SHYPER_MIG_STATE_MAX, SHYPER_BUF_OUT, ret);
		if (r != -SHYPER_EBUSY)
			break;
		usleep(10000);
	}
	/* Again through cli_vm_call, for its error message. */
	if (r && cli_vm_call(fd, "save its state", SHYPER_MIG_STATE_SAVE,
			     (uint64_t[6]){ id, 0, SHYPER_MIG_STATE_MAX }, 2, buf,
			     SHYPER_MIG_STATE_MAX, SHYPER_BUF_OUT, ret, err, errlen)) {
		free(buf);
		return NULL;
	}
	*len = ret[1];
	return buf;
}

int cli_vm_save(int argc, char **argv)
{
	const char *path = argv[1];
	char err[ERR_MAX], e2[ERR_MAX], tmp[4096];
	uint64_t pages = 0, total = 0, size = 0, images = 0;
	struct save_file sf = { 0 };
	uint8_t *state = NULL;
	size_t state_len = 0;
	double t0, paused_ms;
	uint32_t id;
	FILE *f = NULL;
	int fd, st, ok = -1;

	(void)argc;
	st = cli_vm_id_arg(argv[0], &id);
	if (st)
		return st;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.partial", path) >= sizeof(tmp))
		return cli_usage_err("%s: path too long", path);
	if (cli_open_device(&fd))
		return CLI_EXIT_ERR;
	f = fopen(tmp, "wbx");
	if (!f) {
		hvc_close(fd);
		return cli_err("%s: %s", tmp, strerror(errno));
	}
	t0 = now_ms();
	if (cli_vm_call(fd, "pause", SHYPER_MIG_PAUSE, (uint64_t[6]){ id }, 0, NULL, 0, 0, NULL,
			err, sizeof(err)))
		goto out;
	sf.f = f;
	sf.o = (struct stream_out){ .write = file_write, .ctx = f };
	state = fetch_state(fd, id, &state_len, err, sizeof(err));
	if (state)
		ok = write_state(&sf, fd, id, state, state_len, &pages, &total, err,
				 sizeof(err));
	/* A snapshot: the VM runs on whatever happened. */
	if (cli_vm_call(fd, "resume", SHYPER_MIG_RESUME, (uint64_t[6]){ id }, 0, NULL, 0, 0, NULL,
			e2, sizeof(e2))) {
		if (!ok)
			snprintf(err, sizeof(err), "%.400s", e2);
		ok = -1;
	}
	paused_ms = now_ms() - t0;
	if (!ok)
		ok = finish_file(&sf, fd, id, &images, &size, err, sizeof(err));
out:
	free(state);
	if (fclose(f) && !ok) {
		snprintf(err, sizeof(err), "%.256s: %s", tmp, strerror(errno));
		ok = -1;
	}
	hvc_close(fd);
	if (ok || rename(tmp, path)) {
		if (!ok)
			snprintf(err, sizeof(err), "%.256s: %s", path, strerror(errno));
		unlink(tmp);
		return cli_err("VM %u: %s", id, err);
	}
	printf("VM %u saved to %s: %llu KiB, %llu of %llu pages of RAM, state %zu bytes, "
	       "boot images %llu KiB, paused %.0f ms; the VM runs on (a snapshot)\n", id, path,
	       (unsigned long long)(size / 1024), (unsigned long long)pages,
	       (unsigned long long)total, state_len, (unsigned long long)(images / 1024),
	       paused_ms);
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Reading the file                                                          */

/* Called for each section of a pass over the file; 0 or -1 with err set. */
typedef int (*section_fn)(void *ctx, const struct mstream_section *s, char *err,
			  size_t errlen);

/* One pass: every byte through the incremental reader, so a damaged or
 * cut file is refused naming the section, whatever the callback did. */
static int read_pass(const char *path, uint8_t *buf, section_fn fn, void *ctx,
		     struct shyper_mig_header *hdr, char *err, size_t errlen)
{
	static uint8_t piece[READ_PIECE];
	struct mstream_inc r;
	struct mstream_section s;
	bool ended = false;
	int f = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (f < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	mstream_inc_init(&r, buf, SECTION_MAX);
	for (;;) {
		ssize_t n = read(f, piece, sizeof(piece));
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s", strerror(errno));
			ret = -1;
			break;
		}
		if (n == 0) {
			if (!ended && mstream_inc_finish(&r) < 0) {
				snprintf(err, errlen, "%s", r.chk.err.reason);
				ret = -1;
			}
			break;
		}
		while (!ret && off < (size_t)n) {
			size_t used = 0;
			int st = mstream_inc_feed(&r, piece + off, (size_t)n - off, &used, &s);

			off += used;
			if (st < 0) {
				snprintf(err, errlen, "%s", r.chk.err.reason);
				ret = -1;
			} else if (st == MSTREAM_SECTION && fn) {
				ret = fn(ctx, &s, err, errlen);
			} else if (st == MSTREAM_END) {
				ended = true;
			}
		}
		if (ret)
			break;
	}
	close(f);
	if (!ret && hdr)
		*hdr = r.chk.hdr;
	return ret;
}

struct restore {
	struct vm_import im;
	uint8_t *vm_config; /* pass 1: a copy of VM_CONFIG */
	size_t vm_config_len;
	uint16_t vm_config_version;
};

static int keep_config(void *ctx, const struct mstream_section *s, char *err, size_t errlen)
{
	struct restore *rs = ctx;

	if (s->type != SHYPER_MIG_SEC_VM_CONFIG)
		return 0;
	rs->vm_config = malloc(s->length);
	if (!rs->vm_config) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(rs->vm_config, s->payload, s->length);
	rs->vm_config_len = s->length;
	rs->vm_config_version = s->version;
	return 0;
}

/* Pass 2: pages into the VM, the rest into the state stream. */
static int load_section(void *ctx, const struct mstream_section *s, char *err, size_t errlen)
{
	return vm_import_section(ctx, s, err, errlen);
}

static int fill_and_start(struct vm_import *im, const char *path, uint8_t *sec_buf, char *err,
			  size_t errlen)
{
	if (read_pass(path, sec_buf, load_section, im, NULL, err, errlen) ||
	    vm_import_load(im, err, errlen) || vm_import_resume(im, err, errlen))
		return -1;
	return 0;
}

int cli_vm_restore(int argc, char **argv)
{
	const char *path = argv[0];
	struct restore rs = { 0 };
	struct mstream_section cfg;
	struct shyper_mig_header hdr;
	char err[ERR_MAX] = "";
	uint8_t *sec_buf = malloc(SECTION_MAX);
	double t0 = now_ms();
	int fd = -1, status = CLI_EXIT_ERR;

	(void)argc;
	if (!sec_buf)
		return cli_err("out of memory");
	/* All of it first: nothing is asked of the hypervisor for a bad file. */
	if (read_pass(path, sec_buf, keep_config, &rs, &hdr, err, sizeof(err))) {
		cli_err("%s: %s", path, err);
		goto out;
	}
	if (hdr.flags & SHYPER_MIG_F_LIVE) {
		cli_err("%s: a live-migration stream, not a snapshot", path);
		goto out;
	}
	if (cli_open_device(&fd))
		goto out;
	cfg = (struct mstream_section){ .type = SHYPER_MIG_SEC_VM_CONFIG,
					.version = rs.vm_config_version,
					.payload = rs.vm_config, .length = rs.vm_config_len };
	if (vm_import_begin(&rs.im, fd, &hdr, &cfg, err, sizeof(err))) {
		cli_err("%s", err);
		goto out;
	}
	if (fill_and_start(&rs.im, path, sec_buf, err, sizeof(err))) {
		vm_import_discard(&rs.im);
		cli_err("%s: %s", path, err);
		goto out;
	}
	printf("VM %u restored from %s (%llu pages of RAM, %.0f ms)%s\n", rs.im.id, path,
	       (unsigned long long)rs.im.pages, now_ms() - t0,
	       rs.im.image_bytes ? "" : "; the file has no boot images: it cannot be rebooted");
	status = CLI_EXIT_OK;
out:
	if (fd >= 0)
		hvc_close(fd);
	vm_import_free(&rs.im);
	free(rs.vm_config);
	free(sec_buf);
	return status;
}
