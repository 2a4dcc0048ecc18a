/*
 * The check of a hypervisor image uploaded for a live update: its info
 * block (shyper/image.h) against what the running image expects, and its
 * SHA-256. Pure: the hypervisor runs it on the uploaded bytes, the unit
 * tests and the fuzzer on any bytes.
 */
#ifndef LIB_IMAGE_CHECK_H
#define LIB_IMAGE_CHECK_H

#include <shyper/hypercall.h>
#include <shyper/image.h>
#include <stdint.h>

struct image_expect {
	uint32_t arch, abi;
	const char *board;
	uint32_t state_version, state_oldest; /* the running image's layouts */
	uint64_t slot_size;
};

/*
 * 0 if the image may be switched to, else a negative SHYPER_E* code; r
 * gets the image's fields (those it could read), the layout the state
 * would go over in, and for a refusal one line saying why.
 */
int image_check(const uint8_t *img, uint64_t size, const struct image_expect *want,
		struct shyper_upd_report *r);

/* The newest layout both the running image and `in` know. */
uint32_t image_handover_layout(const struct shyper_image_info *in, uint32_t running);

#endif
