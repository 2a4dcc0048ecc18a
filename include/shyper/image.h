/*
 * What a cshyper image says about itself, for a live update
 * (docs/ARCHITECTURE.md, "Live update"). The info block sits right after the
 * 64-byte arm64 Image header of cshyper.bin, so the running hypervisor can
 * judge an uploaded image before anything stops. Shared by hv/ (which checks
 * it), the build (which stamps the digest) and the CLI (which prints it).
 */
#ifndef SHYPER_IMAGE_H
#define SHYPER_IMAGE_H

#define SHYPER_IMAGE_INFO_OFFSET 64
#define SHYPER_IMAGE_MAGIC 0x55594853 /* "SHYU" little-endian */
#define SHYPER_IMAGE_INFO_SIZE 128
#define SHYPER_IMAGE_BOARD_MAX 16
#define SHYPER_IMAGE_VERSION_MAX 24
/* Offset of sha256[] in the file: the digest is of the file with these 32
 * bytes zero (scripts/hv-image-stamp.sh writes it after linking). */
#define SHYPER_IMAGE_DIGEST_OFFSET (SHYPER_IMAGE_INFO_OFFSET + 96)

#define SHYPER_ARCH_AARCH64 1
#define SHYPER_ARCH_RISCV64 2

#ifndef __ASSEMBLY__
#include <stdint.h>

struct shyper_image_info {
	uint32_t magic;
	uint32_t info_size;	/* SHYPER_IMAGE_INFO_SIZE */
	uint32_t arch;		/* SHYPER_ARCH_* */
	uint32_t abi;		/* SHYPER_ABI_VERSION it speaks to shyper.ko */
	uint32_t state_version; /* the state-root layout it writes */
	uint32_t state_oldest;	/* the oldest layout it can import */
	uint64_t file_size;	/* bytes of the image file */
	uint64_t load_size;	/* memory it needs from its load address (.bss too) */
	uint64_t update_entry;	/* offset of the boot core's live-update entry */
	uint64_t secondary_update_entry; /* offset of the other cores' entry */
	char board[SHYPER_IMAGE_BOARD_MAX];	/* NUL-terminated */
	char version[SHYPER_IMAGE_VERSION_MAX]; /* NUL-terminated */
	uint8_t sha256[32];
};

_Static_assert(sizeof(struct shyper_image_info) == SHYPER_IMAGE_INFO_SIZE,
	       "image info layout");
_Static_assert(__builtin_offsetof(struct shyper_image_info, sha256) ==
		       SHYPER_IMAGE_DIGEST_OFFSET - SHYPER_IMAGE_INFO_OFFSET,
	       "digest offset");
#endif

#endif
