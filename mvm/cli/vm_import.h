/*
 * Building a VM from a migration stream (docs/MIGRATION.md), for `shyper
 * vm restore` (a file) and the receiving end of `shyper vm migrate` (a
 * socket): the VM added with SHYPER_VM_F_RESTORE and configured from
 * VM_CONFIG, MEM sections written into its RAM and IMAGE sections uploaded
 * as its boot images as they come, the other sections gathered into the
 * stream STATE_LOAD takes.
 *
 * The sections must already have passed a stream reader (mstream_inc):
 * only checked payloads are parsed here.
 */
#ifndef CLI_VM_IMPORT_H
#define CLI_VM_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lib/mstream.h>
#include <shyper/migrate.h>

struct vm_import {
	int fd;		/* /dev/shyper */
	uint32_t id;	/* valid once created */
	bool created;
	bool loaded;	/* STATE_LOAD done: the VM counts as running (paused) */
	uint8_t *state_buf;
	struct mstream_writer state;
	uint64_t pages; /* pages written into its RAM */
	struct shyper_image_desc image; /* from VM_CONFIG */
	bool images_set;		/* its image layout given to the hypervisor */
	uint64_t image_bytes;		/* boot image bytes uploaded (IMAGE sections) */
};

/* The VM from VM_CONFIG, with the header's board and GIC on its state
 * stream. 0, or -1 with err set and nothing left behind. */
int vm_import_begin(struct vm_import *im, int fd, const struct shyper_mig_header *hdr,
		    const struct mstream_section *vm_config, char *err, size_t errlen);
/* The same, with the mediated disks' image indexes replaced: image_map[i]
 * for cfg_list[0] == i (SHYPER_MED_IMAGES_MAX entries; NULL: unchanged). */
int vm_import_begin_mapped(struct vm_import *im, int fd, const struct shyper_mig_header *hdr,
			   const struct mstream_section *vm_config, const uint32_t *image_map,
			   char *err, size_t errlen);
/* One section after VM_CONFIG (a second VM_CONFIG is ignored). */
int vm_import_section(struct vm_import *im, const struct mstream_section *s, char *err,
		      size_t errlen);
/* The gathered state into the hypervisor; the VM is then paused. */
int vm_import_load(struct vm_import *im, char *err, size_t errlen);
int vm_import_resume(struct vm_import *im, char *err, size_t errlen);
/* After a failure: the VM, if any, shut down and removed. */
void vm_import_discard(struct vm_import *im);
void vm_import_free(struct vm_import *im);

#endif
