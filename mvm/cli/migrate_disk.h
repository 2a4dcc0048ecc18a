/*
 * The mediated disks of a migrating VM, on the sender's side: their image
 * files copied as DISK_BLOCKS sections (instance: the image index in the
 * VM's configuration) while the guest runs, then the blocks it wrote
 * meanwhile, which the local `shyper system daemon` tracks (daemon_ctl.h).
 */
#ifndef CLI_MIGRATE_DISK_H
#define CLI_MIGRATE_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lib/mstream.h>

#include "stream_out.h"

struct mig_disk {
	uint32_t image;	  /* cfg_list[0] */
	uint64_t sectors; /* cfg_list[1] */
	int fd;		  /* the image file, read-only */
};

struct mig_disks {
	struct mig_disk *d;
	unsigned nr;
	int ctl; /* the daemon's control socket, -1 when not tracking */
};

/* The mediated devices of VM_CONFIG; with copy, tracked and opened. 0, or
 * -1 with err. */
int mig_disks_open(struct mig_disks *ds, const struct mstream_vm_config_view *cfg, bool copy,
		   char *err, size_t errlen);
/* All of every image (zero blocks left out); the KiB sent. */
int mig_disks_copy_all(struct mig_disks *ds, struct stream_out *o, uint8_t *buf, size_t cap,
		       uint64_t *kib, char *err, size_t errlen);
/* The blocks written since the last call. */
int mig_disks_copy_written(struct mig_disks *ds, struct stream_out *o, uint8_t *buf,
			   size_t cap, uint64_t *kib, char *err, size_t errlen);
/* Tracking stopped, files closed. */
void mig_disks_close(struct mig_disks *ds);

#endif
