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
#include "vm_cmds.h"

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

struct out {
	FILE *f;
	uint64_t pos;
	uint32_t nr_sections;
	bool failed;
};

static void put(struct out *o, const void *data, size_t len)
{
	if (!o->failed && len && fwrite(data, 1, len, o->f) != len)
		o->failed = true;
	o->pos += len;
}

/* One section from parts: its header's CRC covers them all. */
static void put_section(struct out *o, uint16_t type, uint16_t version, uint32_t instance,
			const void *a, size_t alen, const void *b, size_t blen)
{
	struct shyper_mig_section s = { .type = type, .version = version, .instance = instance,
					.length = alen + blen };

	s.crc = crc32_update(crc32_update(crc32(&s, offsetof(struct shyper_mig_section, crc)),
					  a, alen), b, blen);
	put(o, &s, sizeof(s));
	put(o, a, alen);
	put(o, b, blen);
	o->nr_sections++;
}

static void put_copy(struct out *o, const struct mstream_section *s)
{
	put_section(o, s->type, s->version, s->instance, s->payload, s->length, NULL, 0);
}

/* The runs of non-zero pages of one chunk read from ipa. */
static void put_pages(struct out *o, uint64_t ipa, const uint8_t *buf, size_t len,
		      uint64_t *written)
{
	static const uint8_t zero[PAGE];

	for (size_t p = 0; p < len;) {
		size_t end;

		if (!memcmp(buf + p, zero, PAGE)) {
			p += PAGE;
			continue;
		}
		for (end = p + PAGE; end < len && memcmp(buf + end, zero, PAGE); end += PAGE)
			;
		struct shyper_mig_mem m = { .ipa = ipa + p, .nr_pages = (end - p) / PAGE };

		put_section(o, SHYPER_MIG_SEC_MEM, SHYPER_MIG_MEM_VERSION, 0, &m, sizeof(m),
			    buf + p, end - p);
		*written += m.nr_pages;
		p = end;
	}
}

static int save_ram(int fd, uint32_t id, const struct mstream_vm_config_view *cfg,
		    struct out *o, uint64_t *pages, uint64_t *total, char *err, size_t errlen)
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
			put_pages(o, r.ipa + off, buf, n, pages);
			*total += n / PAGE;
		}
	}
	free(buf);
	return 0;
}

/* The hypervisor's stream, checked like any other: VM_CONFIG, then the rest. */
static int write_file(int fd, uint32_t id, const uint8_t *state, size_t state_len,
		      FILE *f, uint64_t *pages, uint64_t *total, uint64_t *size,
		      char *err, size_t errlen)
{
	struct mstream_reader r;
	struct mstream_section s;
	struct mstream_vm_config_view cfg;
	struct shyper_mig_header hdr;
	struct shyper_mig_end end = { 0 };
	struct out o = { .f = f };
	int ret;

	if (mstream_reader_open(&r, state, state_len) ||
	    mstream_reader_next(&r, &s) != MSTREAM_SECTION) {
		snprintf(err, errlen, "the hypervisor's state: %s", r.chk.err.reason);
		return -1;
	}
	mstream_parse_vm_config(s.payload, s.length, &cfg, NULL, 0);
	hdr = r.chk.hdr;
	put(&o, &hdr, sizeof(hdr)); /* completed below */
	put_copy(&o, &s);
	if (save_ram(fd, id, &cfg, &o, pages, total, err, errlen))
		return -1;
	while ((ret = mstream_reader_next(&r, &s)) == MSTREAM_SECTION)
		put_copy(&o, &s);
	if (ret != MSTREAM_END) {
		snprintf(err, errlen, "the hypervisor's state: %s", r.chk.err.reason);
		return -1;
	}
	end.total_length = o.pos + sizeof(struct shyper_mig_section) + sizeof(end);
	end.nr_sections = o.nr_sections + 1;
	put_section(&o, SHYPER_MIG_SEC_END, SHYPER_MIG_END_VERSION, 0, &end, sizeof(end), NULL, 0);
	hdr.flags = 0;
	hdr.nr_sections = o.nr_sections;
	hdr.total_length = o.pos;
	hdr.crc = crc32(&hdr, offsetof(struct shyper_mig_header, crc));
	if (o.failed || fseek(f, 0, SEEK_SET) || fwrite(&hdr, sizeof(hdr), 1, f) != 1 ||
	    fflush(f) || fsync(fileno(f))) {
		snprintf(err, errlen, "write: %s", strerror(errno));
		return -1;
	}
	*size = o.pos;
	return 0;
}

/* STATE_SAVE into a buffer of the most the call may fill. */
static uint8_t *fetch_state(int fd, uint32_t id, size_t *len, char *err, size_t errlen)
{
	uint8_t *buf = malloc(SHYPER_MIG_STATE_MAX);
	uint64_t ret[4];

	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (cli_vm_call(fd, "save its state", SHYPER_MIG_STATE_SAVE,
			(uint64_t[6]){ id, 0, SHYPER_MIG_STATE_MAX }, 2, buf, SHYPER_MIG_STATE_MAX,
			SHYPER_BUF_OUT, ret, err, errlen)) {
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
	uint64_t pages = 0, total = 0, size = 0;
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
	state = fetch_state(fd, id, &state_len, err, sizeof(err));
	if (state)
		ok = write_file(fd, id, state, state_len, f, &pages, &total, &size, err,
				sizeof(err));
	/* A snapshot: the VM runs on whatever happened. */
	if (cli_vm_call(fd, "resume", SHYPER_MIG_RESUME, (uint64_t[6]){ id }, 0, NULL, 0, 0, NULL,
			e2, sizeof(e2))) {
		if (!ok)
			snprintf(err, sizeof(err), "%.400s", e2);
		ok = -1;
	}
	paused_ms = now_ms() - t0;
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
	       "paused %.0f ms; the VM runs on (a snapshot)\n", id, path,
	       (unsigned long long)(size / 1024), (unsigned long long)pages,
	       (unsigned long long)total, state_len, paused_ms);
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
	int fd;
	uint32_t id;
	uint8_t *vm_config; /* pass 1: a copy of VM_CONFIG's payload */
	size_t vm_config_len;
	struct mstream_writer state; /* pass 2: what STATE_LOAD gets */
	uint64_t pages;
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
	return 0;
}

/* Pass 2: pages into the VM, the rest into the state stream. */
static int load_section(void *ctx, const struct mstream_section *s, char *err, size_t errlen)
{
	struct restore *rs = ctx;
	struct mstream_mem_view m;
	char what[96];

	if (s->type != SHYPER_MIG_SEC_MEM) {
		if (mstream_begin_section(&rs->state, s->type, s->version, s->instance) ||
		    mstream_append(&rs->state, s->payload, s->length) ||
		    mstream_end_section(&rs->state)) {
			snprintf(err, errlen, "the VM's state is larger than %u bytes",
				 SHYPER_MIG_STATE_MAX);
			return -1;
		}
		return 0;
	}
	mstream_parse_mem(s->payload, s->length, &m, NULL, 0);
	for (uint64_t off = 0; off < m.nr_pages * PAGE; off += CHUNK) {
		uint64_t n = m.nr_pages * PAGE - off < CHUNK ? m.nr_pages * PAGE - off : CHUNK;

		snprintf(what, sizeof(what), "write RAM at 0x%llx",
			 (unsigned long long)(m.ipa + off));
		if (cli_vm_call(rs->fd, what, SHYPER_MIG_MEM_WRITE,
				(uint64_t[6]){ rs->id, m.ipa + off, 0, n }, 3,
				(void *)(m.data + off), n, SHYPER_BUF_IN, NULL, err, errlen))
			return -1;
	}
	rs->pages += m.nr_pages;
	return 0;
}

/* VM_CONFIG as the `vm config` steps take it; the cores: vCPU 0 on the lowest. */
static int config_from_view(const struct mstream_vm_config_view *v, struct cli_vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->name, v->cfg.desc.name, sizeof(cfg->name));
	cfg->type = v->cfg.desc.type;
	memcpy(cfg->cmdline, v->cfg.desc.cmdline, sizeof(cfg->cmdline));
	cfg->cpu_num = v->cfg.nr_vcpus;
	cfg->cpu_bitmap = v->cfg.cpu_bitmap;
	cfg->cpu_master = cfg->cpu_bitmap ? (uint32_t)__builtin_ctzll(cfg->cpu_bitmap) : 0;
	cfg->cpu_slice_us = v->cfg.slice_us;
	cfg->mem = calloc(v->mem_regions.count + 1, sizeof(*cfg->mem));
	cfg->emu = calloc(v->emu_devs.count + 1, sizeof(*cfg->emu));
	cfg->pt = calloc(v->pt_regions.count + 1, sizeof(*cfg->pt));
	cfg->dtb = calloc(v->dtb_devs.count + 1, sizeof(*cfg->dtb));
	if (!cfg->mem || !cfg->emu || !cfg->pt || !cfg->dtb)
		return -1;
	for (uint32_t i = 0; i < v->mem_regions.count; i++) {
		struct shyper_mig_mem_region r;

		mstream_array_get(&v->mem_regions, i, &r, sizeof(r));
		cfg->mem[cfg->nr_mem++] = (struct cli_mem_region){ r.ipa, r.length };
	}
	for (uint32_t i = 0; i < v->emu_devs.count; i++)
		mstream_array_get(&v->emu_devs, i, &cfg->emu[cfg->nr_emu++], sizeof(*cfg->emu));
	for (uint32_t i = 0; i < v->pt_regions.count; i++) {
		struct shyper_mig_pt_region r;
		struct cli_pt_dev *p = &cfg->pt[cfg->nr_pt++];

		mstream_array_get(&v->pt_regions, i, &r, sizeof(r));
		snprintf(p->name, sizeof(p->name), "region%u", i);
		p->base_pa = r.pa;
		p->base_ipa = r.ipa;
		p->length = r.length;
	}
	for (uint32_t i = 0; i < v->dtb_devs.count; i++)
		mstream_array_get(&v->dtb_devs, i, &cfg->dtb[cfg->nr_dtb++], sizeof(*cfg->dtb));
	return 0;
}

static void free_config(struct cli_vm_config *cfg)
{
	free(cfg->mem);
	free(cfg->emu);
	free(cfg->pt);
	free(cfg->dtb);
}

/* Builds the VM; 0 with rs->id set, or -1 (nothing left behind). */
static int create_vm(struct restore *rs, const struct cli_vm_config *cfg, char *err,
		     size_t errlen)
{
	struct shyper_vm_desc desc = { .type = cfg->type, .flags = SHYPER_VM_F_RESTORE };
	uint64_t ret[4];
	char what[64];

	memcpy(desc.name, cfg->name, sizeof(desc.name));
	memcpy(desc.cmdline, cfg->cmdline, sizeof(desc.cmdline));
	snprintf(what, sizeof(what), "add VM \"%.31s\"", cfg->name);
	if (cli_vm_call(rs->fd, what, SHYPER_CFG_ADD_VM, (uint64_t[6]){ 0, sizeof(desc) }, 1,
			&desc, sizeof(desc), SHYPER_BUF_IN, ret, err, errlen))
		return -1;
	rs->id = (uint32_t)ret[1];
	if (cli_vm_configure(rs->fd, cfg, rs->id, false, err, errlen)) {
		hvc_call(rs->fd, SHYPER_VMM_REMOVE, (uint64_t[6]){ rs->id }, 0, NULL, 0, 0, NULL);
		return -1;
	}
	return 0;
}

/* After a failure past ADD_VM: a loaded VM counts as running (paused). */
static void discard_vm(struct restore *rs)
{
	hvc_call(rs->fd, SHYPER_VMM_SHUTDOWN, (uint64_t[6]){ rs->id }, 0, NULL, 0, 0, NULL);
	hvc_call(rs->fd, SHYPER_VMM_REMOVE, (uint64_t[6]){ rs->id }, 0, NULL, 0, 0, NULL);
}

static int fill_and_start(struct restore *rs, const char *path, uint8_t *sec_buf,
			  const struct shyper_mig_header *hdr, char *err, size_t errlen)
{
	struct mstream_info info = { .board = hdr->board, .arch = hdr->arch,
				     .gic_version = hdr->gic_version };
	uint8_t *state = malloc(SHYPER_MIG_STATE_MAX);
	size_t len = 0;
	int ret = -1;

	if (!state) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	mstream_writer_init(&rs->state, state, SHYPER_MIG_STATE_MAX, &info);
	if (read_pass(path, sec_buf, load_section, rs, NULL, err, errlen))
		goto out;
	if (mstream_finish(&rs->state, &len)) {
		snprintf(err, errlen, "the VM's state is larger than %u bytes",
			 SHYPER_MIG_STATE_MAX);
		goto out;
	}
	if (cli_vm_call(rs->fd, "load its state", SHYPER_MIG_STATE_LOAD,
			(uint64_t[6]){ rs->id, 0, len }, 2, state, len, SHYPER_BUF_IN, NULL, err,
			errlen) ||
	    cli_vm_call(rs->fd, "resume", SHYPER_MIG_RESUME, (uint64_t[6]){ rs->id }, 0, NULL, 0,
			0, NULL, err, errlen))
		goto out;
	ret = 0;
out:
	free(state);
	return ret;
}

int cli_vm_restore(int argc, char **argv)
{
	const char *path = argv[0];
	struct restore rs = { .fd = -1 };
	struct mstream_vm_config_view view;
	struct shyper_mig_header hdr;
	struct cli_vm_config cfg = { 0 };
	char err[ERR_MAX] = "";
	uint8_t *sec_buf = malloc(SECTION_MAX);
	double t0 = now_ms();
	int status = CLI_EXIT_ERR;

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
	mstream_parse_vm_config(rs.vm_config, rs.vm_config_len, &view, NULL, 0);
	if (config_from_view(&view, &cfg)) {
		cli_err("out of memory");
		goto out;
	}
	if (cli_open_device(&rs.fd))
		goto out;
	if (create_vm(&rs, &cfg, err, sizeof(err))) {
		cli_err("%s", err);
		goto out;
	}
	if (fill_and_start(&rs, path, sec_buf, &hdr, err, sizeof(err))) {
		discard_vm(&rs);
		cli_err("%s: %s", path, err);
		goto out;
	}
	printf("VM %u restored from %s (%llu pages of RAM, %.0f ms)\n", rs.id, path,
	       (unsigned long long)rs.pages, now_ms() - t0);
	status = CLI_EXIT_OK;
out:
	if (rs.fd >= 0)
		hvc_close(rs.fd);
	free_config(&cfg);
	free(rs.vm_config);
	free(sec_buf);
	return status;
}
