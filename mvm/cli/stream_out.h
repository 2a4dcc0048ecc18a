/*
 * Writing a migration stream (docs/MIGRATION.md) section by section to a
 * file or a socket: `shyper vm save` and the sender of `shyper vm migrate`.
 */
#ifndef CLI_STREAM_OUT_H
#define CLI_STREAM_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lib/mstream.h>

struct stream_out {
	/* Writes all of len or fails (returns -1, errno set). */
	int (*write)(void *ctx, const void *data, size_t len);
	void *ctx;
	uint64_t pos;	      /* bytes put so far */
	uint32_t nr_sections; /* sections put so far */
	int err;	      /* the first write's errno, 0 while all went well */
};

void sout_put(struct stream_out *o, const void *data, size_t len);
/* One section from two parts; its header's CRC covers both. */
void sout_section(struct stream_out *o, uint16_t type, uint16_t version, uint32_t instance,
		  const void *a, size_t alen, const void *b, size_t blen);
void sout_copy(struct stream_out *o, const struct mstream_section *s);
/* MEM sections for len bytes of RAM read from ipa into buf: every page, or
 * with skip_zero only the runs of non-zero pages. Returns the pages put. */
uint64_t sout_pages(struct stream_out *o, uint64_t ipa, const uint8_t *buf, size_t len,
		    bool skip_zero);
/* IMAGE sections of VM id's boot images as d sizes them (none if it has no
 * kernel: a VM restored without them), read from the hypervisor through
 * fd. 0 with *bytes the image bytes put, or -1 with err set. */
struct shyper_image_desc;
int sout_images(struct stream_out *o, int fd, uint32_t id, const struct shyper_image_desc *d,
		uint64_t *bytes, char *err, size_t errlen);
/* END with the totals; the section count and length it states include it. */
void sout_end(struct stream_out *o);

#endif
