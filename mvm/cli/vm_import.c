#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shyper/hypercall.h>
#include <shyper/mediated.h>

#include "config.h"
#include "hvc.h"
#include "vm_cmds.h"
#include "vm_import.h"

#define PAGE SHYPER_MIG_PAGE_SIZE
#define CHUNK SHYPER_MIG_COPY_MAX

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

static int create_vm(struct vm_import *im, const struct cli_vm_config *cfg, char *err,
		     size_t errlen)
{
	struct shyper_vm_desc desc = { .type = cfg->type, .flags = SHYPER_VM_F_RESTORE };
	uint64_t ret[4];
	char what[64];

	memcpy(desc.name, cfg->name, sizeof(desc.name));
	memcpy(desc.cmdline, cfg->cmdline, sizeof(desc.cmdline));
	snprintf(what, sizeof(what), "add VM \"%.31s\"", cfg->name);
	if (cli_vm_call(im->fd, what, SHYPER_CFG_ADD_VM, (uint64_t[6]){ 0, sizeof(desc) }, 1,
			&desc, sizeof(desc), SHYPER_BUF_IN, ret, err, errlen))
		return -1;
	im->id = (uint32_t)ret[1];
	if (cli_vm_configure(im->fd, cfg, im->id, false, err, errlen)) {
		hvc_call(im->fd, SHYPER_VMM_REMOVE, (uint64_t[6]){ im->id }, 0, NULL, 0, 0, NULL);
		return -1;
	}
	im->created = true;
	return 0;
}

static int append_state(struct vm_import *im, const struct mstream_section *s, char *err,
			size_t errlen)
{
	if (mstream_begin_section(&im->state, s->type, s->version, s->instance) ||
	    mstream_append(&im->state, s->payload, s->length) ||
	    mstream_end_section(&im->state)) {
		snprintf(err, errlen, "the VM's state is larger than %u bytes",
			 SHYPER_MIG_STATE_MAX);
		return -1;
	}
	return 0;
}

int vm_import_begin(struct vm_import *im, int fd, const struct shyper_mig_header *hdr,
		    const struct mstream_section *vm_config, char *err, size_t errlen)
{
	return vm_import_begin_mapped(im, fd, hdr, vm_config, NULL, err, errlen);
}

int vm_import_begin_mapped(struct vm_import *im, int fd, const struct shyper_mig_header *hdr,
			   const struct mstream_section *vm_config, const uint32_t *image_map,
			   char *err, size_t errlen)
{
	struct mstream_info info = { .board = hdr->board, .arch = hdr->arch,
				     .gic_version = hdr->gic_version };
	struct mstream_vm_config_view view;
	struct cli_vm_config cfg = { 0 };
	int ret = -1;

	memset(im, 0, sizeof(*im));
	im->fd = fd;
	im->state_buf = malloc(SHYPER_MIG_STATE_MAX);
	if (!im->state_buf ||
	    mstream_parse_vm_config(vm_config->payload, vm_config->length, &view, NULL, 0) ||
	    config_from_view(&view, &cfg)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; image_map && i < cfg.nr_emu; i++)
		if (cfg.emu[i].type == SHYPER_EMU_VIRTIO_BLK_MEDIATED && cfg.emu[i].cfg_num &&
		    cfg.emu[i].cfg_list[0] < SHYPER_MED_IMAGES_MAX)
			cfg.emu[i].cfg_list[0] = image_map[cfg.emu[i].cfg_list[0]];
	im->image = view.cfg.image;
	mstream_writer_init(&im->state, im->state_buf, SHYPER_MIG_STATE_MAX, &info);
	if (append_state(im, vm_config, err, errlen) || create_vm(im, &cfg, err, errlen))
		goto out;
	ret = 0;
out:
	free_config(&cfg);
	return ret;
}

/* The stream's reader checked that chunks come in order and within the
 * sizes VM_CONFIG gives; the hypervisor checks again. The layout is given
 * with the first chunk: a stream without images costs no memory. */
static int import_image(struct vm_import *im, const struct mstream_section *s, char *err,
			size_t errlen)
{
	static const char *const names[3] = { "kernel", "initrd", "DTB" };
	struct mstream_image_view v;
	char what[96];

	if (!im->images_set) {
		if (cli_vm_call(im->fd, "boot image layout", SHYPER_CFG_SET_IMAGE,
				(uint64_t[6]){ im->id, 0, sizeof(im->image) }, 2, &im->image,
				sizeof(im->image), SHYPER_BUF_IN, NULL, err, errlen))
			return -1;
		im->images_set = true;
	}
	mstream_parse_image(s->payload, s->length, &v, NULL, 0);
	for (uint64_t off = 0; off < v.len; off += SHYPER_UPLOAD_CHUNK_MAX) {
		uint64_t n = v.len - off < SHYPER_UPLOAD_CHUNK_MAX ? v.len - off
								  : SHYPER_UPLOAD_CHUNK_MAX;

		snprintf(what, sizeof(what), "upload its %s image at %llu",
			 s->instance < 3 ? names[s->instance] : "?",
			 (unsigned long long)(v.offset + off));
		if (cli_vm_call(im->fd, what, SHYPER_CFG_UPLOAD,
				(uint64_t[6]){ im->id, s->instance, v.offset + off, 0, n }, 4,
				(void *)(v.data + off), n, SHYPER_BUF_IN, NULL, err, errlen))
			return -1;
	}
	im->image_bytes += v.len;
	return 0;
}

int vm_import_section(struct vm_import *im, const struct mstream_section *s, char *err,
		      size_t errlen)
{
	struct mstream_mem_view m;
	char what[96];

	if (s->type == SHYPER_MIG_SEC_VM_CONFIG)
		return 0;
	if (s->type == SHYPER_MIG_SEC_IMAGE)
		return import_image(im, s, err, errlen);
	if (s->type != SHYPER_MIG_SEC_MEM)
		return append_state(im, s, err, errlen);
	mstream_parse_mem(s->payload, s->length, &m, NULL, 0);
	for (uint64_t off = 0; off < m.nr_pages * PAGE; off += CHUNK) {
		uint64_t n = m.nr_pages * PAGE - off < CHUNK ? m.nr_pages * PAGE - off : CHUNK;

		snprintf(what, sizeof(what), "write RAM at 0x%llx",
			 (unsigned long long)(m.ipa + off));
		if (cli_vm_call(im->fd, what, SHYPER_MIG_MEM_WRITE,
				(uint64_t[6]){ im->id, m.ipa + off, 0, n }, 3,
				(void *)(m.data + off), n, SHYPER_BUF_IN, NULL, err, errlen))
			return -1;
	}
	im->pages += m.nr_pages;
	return 0;
}

int vm_import_load(struct vm_import *im, char *err, size_t errlen)
{
	size_t len = 0;

	if (mstream_finish(&im->state, &len)) {
		snprintf(err, errlen, "the VM's state is larger than %u bytes",
			 SHYPER_MIG_STATE_MAX);
		return -1;
	}
	if (cli_vm_call(im->fd, "load its state", SHYPER_MIG_STATE_LOAD,
			(uint64_t[6]){ im->id, 0, len }, 2, im->state_buf, len, SHYPER_BUF_IN,
			NULL, err, errlen))
		return -1;
	im->loaded = true;
	return 0;
}

int vm_import_resume(struct vm_import *im, char *err, size_t errlen)
{
	return cli_vm_call(im->fd, "resume", SHYPER_MIG_RESUME, (uint64_t[6]){ im->id }, 0,
			   NULL, 0, 0, NULL, err, errlen);
}

void vm_import_discard(struct vm_import *im)
{
	if (!im->created)
		return;
	/* A loaded VM counts as running (paused): shut it down first. */
	hvc_call(im->fd, SHYPER_VMM_SHUTDOWN, (uint64_t[6]){ im->id }, 0, NULL, 0, 0, NULL);
	hvc_call(im->fd, SHYPER_VMM_REMOVE, (uint64_t[6]){ im->id }, 0, NULL, 0, 0, NULL);
	im->created = false;
}

void vm_import_free(struct vm_import *im)
{
	free(im->state_buf);
	im->state_buf = NULL;
}
