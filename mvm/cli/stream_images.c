/*
 * A VM's boot images into a migration stream (IMAGE sections), read back
 * from the hypervisor with SHYPER_MIG_IMAGE_READ: the VM lands with what
 * it needs to be booted again (`shyper vm reboot`, or the guest's own
 * reset), not only with the RAM it runs from.
 */
#include <stdio.h>
#include <stdlib.h>

#include <shyper/hypercall.h>
#include <shyper/migrate.h>

#include "hvc.h"
#include "stream_out.h"
#include "vm_cmds.h"

#define CHUNK SHYPER_MIG_COPY_MAX

static const char *const image_names[3] = { "kernel", "initrd", "DTB" };

int sout_images(struct stream_out *o, int fd, uint32_t id, const struct shyper_image_desc *d,
		uint64_t *bytes, char *err, size_t errlen)
{
	const uint64_t size[3] = { d->kernel_size, d->ramdisk_size, d->dtb_size };
	uint8_t *buf = malloc(CHUNK);
	char what[96];

	*bytes = 0;
	/* A VM restored from a stream without images has none to pass on. */
	if (!size[SHYPER_IMAGE_KERNEL]) {
		free(buf);
		return 0;
	}
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (uint32_t k = 0; k < 3; k++) {
		for (uint64_t off = 0; off < size[k]; off += CHUNK) {
			size_t n = size[k] - off < CHUNK ? (size_t)(size[k] - off) : CHUNK;
			struct shyper_mig_image hdr = { .offset = off };

			snprintf(what, sizeof(what), "read its %s image at %llu", image_names[k],
				 (unsigned long long)off);
			if (cli_vm_call(fd, what, SHYPER_MIG_IMAGE_READ,
					(uint64_t[6]){ id, k, 0, n, off }, 3, buf, n,
					SHYPER_BUF_OUT, NULL, err, errlen)) {
				free(buf);
				return -1;
			}
			sout_section(o, SHYPER_MIG_SEC_IMAGE, SHYPER_MIG_IMAGE_VERSION, k, &hdr,
				     sizeof(hdr), buf, n);
			*bytes += n;
		}
	}
	free(buf);
	return 0;
}
