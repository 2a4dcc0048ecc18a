/*
 * CRC-32 as in IEEE 802.3, zlib and PNG: reflected polynomial 0xedb88320,
 * initial value and final XOR all ones. Checksums the migration stream.
 */
#ifndef LIB_CRC32_H
#define LIB_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of nothing; also the @crc to start a chain of crc32_update(). */
#define CRC32_INIT	0u

/*
 * The CRC of @crc's data followed by @len bytes at @data, zlib's
 * crc32() contract: crc32_update(crc32_update(CRC32_INIT, a, n), b, m)
 * equals the CRC of a and b back to back.
 */
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

static inline uint32_t crc32(const void *data, size_t len)
{
	return crc32_update(CRC32_INIT, data, len);
}

#endif
