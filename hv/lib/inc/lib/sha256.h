/*
 * SHA-256 (FIPS 180-4). Live update checks an uploaded image against the
 * digest in its trailer before the hypervisor replaces itself with it.
 */
#ifndef LIB_SHA256_H
#define LIB_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE	32
#define SHA256_BLOCK_SIZE	64

/*
 * A digest in progress: the chaining value @h, the message length so far
 * in @bytes, and the @fill bytes of a partial block waiting in @buf.
 */
struct sha256_ctx {
	uint32_t h[8];
	uint64_t bytes;
	uint8_t buf[SHA256_BLOCK_SIZE];
	unsigned fill;
};

void sha256_init(struct sha256_ctx *c);

/* Appends @len bytes at @data, in any number of calls of any size. */
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);

/*
 * Writes the digest of everything passed to sha256_update(). @c is spent
 * afterwards; sha256_init() it again to start another digest.
 */
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_SIZE]);

/* The digest of @len bytes at @data in one call. */
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE]);

#endif
