/*
 * The daemon's mediated disks (`shyper system daemon mediated-cfg.json`):
 * the configuration, then serving the hypervisor's requests on them with
 * ordinary file I/O (include/shyper/mediated.h, docs/USER-GUIDE.md).
 *
 *   { "mediated": [ "/mnt/vm0.img", { "path": "ro.img", "readonly": true } ] }
 *
 * Entry i serves the guest devices whose cfg_list[0] is i. Paths starting
 * with "~/" are under $HOME, relative ones under the file's directory.
 */
#ifndef CLI_MEDIATED_H
#define CLI_MEDIATED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <shyper/hypercall.h>

struct med_disk {
	char *path;
	bool readonly; /* asked for, or the file could only be opened so */
	int fd;	       /* -1: could not be opened, its I/O fails */
	uint64_t sectors;
	bool registered;
	/* While a migration copies it: the blocks written since it last
	 * asked, one bit per MED_TRACK_BLOCK bytes (mediated_live.c). */
	uint64_t *written;
	/* A copy a migration brought in (mediated_copies.h): its file is
	 * deleted once the VM it was made for is removed. */
	bool copy;
	int owner; /* that VM's id; -1 until the receiver names it */
	int conn;  /* until then: the control connection that asked for it */
	char owner_name[SHYPER_NAME_MAX];
};

#define MED_TRACK_BLOCK 4096U

struct med_daemon {
	struct med_disk *disks;
	size_t nr;
	void *buf; /* one request: header and data */
	uint64_t served, failed;
	const char *copies_path; /* where the copies are recorded; NULL: nowhere */
};

/* 0, or -1 with one line in err naming the JSON path. */
int med_config_parse(struct med_daemon *d, const char *text, size_t len, const char *base_dir,
		     char *err, size_t errlen);
int med_config_load(struct med_daemon *d, const char *path, char *err, size_t errlen);

/* Opens the images (warnings for those that fail) and registers every one
 * with the hypervisor. 0, or -1 (out of memory). */
int med_daemon_start(struct med_daemon *d, int fd, const char *cfg_name);
/* Serves requests until none waits. */
void med_daemon_serve(struct med_daemon *d, int fd);
/* Unregisters, closes, frees. */
void med_daemon_stop(struct med_daemon *d, int fd);

/* mediated_live.c: disks that come and go while the daemon runs. */
/* Serves path (created by a migration receiver) at the lowest free index;
 * the index, or -1 with err. */
int med_add_disk(struct med_daemon *d, int fd, const char *path, char *err, size_t errlen);
/* The same at index i, which must be free; 0 or -1 with err. */
int med_add_disk_at(struct med_daemon *d, int fd, const char *path, size_t i, char *err,
		    size_t errlen);
/* No longer serves index i (a migration that failed). */
void med_drop_disk(struct med_daemon *d, int fd, size_t i);
/* Write tracking of index i for a migration: on (cleared) or off. */
int med_track(struct med_daemon *d, size_t i, bool on);
/* The blocks written since the last call, as a bitmap of *len bytes
 * (malloc'd, caller frees; NULL with *len 0 if untracked); cleared. */
uint8_t *med_take_written(struct med_daemon *d, size_t i, size_t *len);
/* serve_one: a write that reached the file. */
void med_note_write(struct med_disk *disk, uint64_t off, uint64_t len);

#endif
