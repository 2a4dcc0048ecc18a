/*
 * The image files a VM configuration names: present, regular, their sizes,
 * and whether kernel, device tree and ramdisk fit the VM's memory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "jsoncheck.h"
#include "util.h"

#define PATH_LEN 128 /* JSON paths: schema keys and indices only */
#define FILE_PATH_MAX 4096
#include "config_priv.h"

/* ------------------------------------------------------------------------ */
/* Image files                                                               */

static int file_size(const char *field, const char *path, uint64_t *size, char *err,
		     size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		errf(err, errlen, "%s: %s: %s", field, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		errf(err, errlen, "%s: %s: not a regular file", field, path);
		return -1;
	}
	if (!st.st_size) {
		errf(err, errlen, "%s: %s: file is empty", field, path);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

/* [start, start+len) inside one memory region. */
static bool in_memory(const struct cli_vm_config *cfg, uint64_t start, uint64_t len)
{
	for (size_t i = 0; i < cfg->nr_mem; i++) {
		const struct cli_mem_region *m = &cfg->mem[i];

		if (start >= m->ipa && start - m->ipa <= m->length &&
		    len <= m->length - (start - m->ipa))
			return true;
	}
	return false;
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

struct blob {
	const char *field; /* the load_ipa field, for errors */
	const char *what;
	uint64_t ipa, size;
	const char *note; /* how size was found, or "" */
};

/* "kernel 0x80080000+0x1000", "generated device tree 0x80000000+0x10000". */
static const char *describe(const struct blob *b, char *buf, size_t len)
{
	snprintf(buf, len, "%s 0x%llx+0x%llx%s", b->what, (unsigned long long)b->ipa,
		 (unsigned long long)b->size, b->note);
	return buf;
}

static int check_blob(const struct cli_vm_config *cfg, const struct blob *b,
		      const struct blob *before, size_t nr_before, char *err, size_t errlen)
{
	uint64_t size = b->size;
	char d1[128], d2[128];

	if (size > UINT64_MAX - b->ipa || !in_memory(cfg, b->ipa, size)) {
		errf(err, errlen, "%s: %s is outside the VM's memory regions", b->field,
		     describe(b, d1, sizeof(d1)));
		return -1;
	}
	for (size_t i = 0; i < nr_before; i++) {
		const struct blob *o = &before[i];

		if (overlap(b->ipa, size, o->ipa, o->size)) {
			errf(err, errlen, "%s: %s overlaps the %s", b->field,
			     describe(b, d1, sizeof(d1)), describe(o, d2, sizeof(d2)));
			return -1;
		}
	}
	return 0;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * An arm64 Linux Image has "ARM\x64" at offset 0x38 of its 64-byte header and
 * the bytes it occupies once running (bss included) at 0x10 (0 before Linux
 * 3.17). Returns that image_size, or 0 (with a warning for a Linux VM) when
 * the file is no Image.
 */
static uint64_t kernel_image_size(struct cli_vm_config *cfg)
{
	unsigned char hdr[64];
	ssize_t n = 0;
	int fd = open(cfg->image.kernel_path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = read(fd, hdr, sizeof(hdr));
		close(fd);
	}
	if (n == (ssize_t)sizeof(hdr) && !memcmp(hdr + 0x38, "ARM\x64", 4))
		return le64(hdr + 0x10);
	if (cfg->type != SHYPER_VM_T_LINUX)
		return 0;
	if (n >= 2 && hdr[0] == 0x1f && hdr[1] == 0x8b)
		add_warning(cfg, "image.kernel_filename: %s is gzip-compressed; "
				 "use the uncompressed arm64 Image", cfg->image.kernel_path);
	else
		add_warning(cfg, "image.kernel_filename: %s is not an arm64 Linux Image "
				 "(no ARM\\x64 magic at offset 0x38)", cfg->image.kernel_path);
	return 0;
}

int cli_config_check_images(struct cli_vm_config *cfg, char *err, size_t errlen)
{
	struct cli_image *im = &cfg->image;
	struct blob b[3];
	size_t nb = 0;

	if (file_size("image.kernel_filename", im->kernel_path, &im->kernel_size, err,
		      errlen) ||
	    (im->dtb_path && file_size("image.device_tree_filename", im->dtb_path,
				       &im->dtb_size, err, errlen)) ||
	    (im->ramdisk_path && file_size("image.ramdisk_filename", im->ramdisk_path,
					   &im->ramdisk_size, err, errlen)))
		return -1;

	im->kernel_extent = kernel_image_size(cfg);
	b[nb] = (struct blob){ "image.kernel_load_ipa", "kernel", im->kernel_load_ipa,
			       im->kernel_size, "" };
	if (im->kernel_extent > im->kernel_size) {
		b[nb].size = im->kernel_extent;
		b[nb].note = " (image_size of its header)";
	} else {
		im->kernel_extent = im->kernel_size;
	}
	if (check_blob(cfg, &b[nb], b, 0, err, errlen))
		return -1;
	if (im->kernel_entry < im->kernel_load_ipa ||
	    im->kernel_entry - im->kernel_load_ipa >= im->kernel_size) {
		errf(err, errlen, "image.kernel_entry_point: 0x%llx is outside the kernel "
				  "0x%llx+0x%llx", (unsigned long long)im->kernel_entry,
		     (unsigned long long)im->kernel_load_ipa, (unsigned long long)im->kernel_size);
		return -1;
	}
	nb++;
	b[nb] = (struct blob){ "image.device_tree_load_ipa", "device tree", im->dtb_load_ipa,
			       im->dtb_size, "" };
	if (!im->dtb_path) {
		b[nb].what = "generated device tree";
		b[nb].size = CLI_GENERATED_DTB_SIZE;
	}
	if (check_blob(cfg, &b[nb], b, nb, err, errlen))
		return -1;
	nb++;
	if (im->ramdisk_path) {
		b[nb] = (struct blob){ "image.ramdisk_load_ipa", "ramdisk", im->ramdisk_load_ipa,
				       im->ramdisk_size, "" };
		if (check_blob(cfg, &b[nb], b, nb, err, errlen))
			return -1;
	}
	return 0;
}
