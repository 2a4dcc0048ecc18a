/*
 * SHA-256 after FIPS 180-4, section 6.2: one 64-byte block at a time, the
 * message schedule built from big-endian words assembled byte by byte (the
 * image being hashed need not be word aligned, and the earliest code runs
 * with strict alignment).
 */
#include <lib/sha256.h>
#include <lib/string.h>

#define ROUNDS		64
#define BLOCK_WORDS	16
/* The length field ending the padding, in bytes: a 64-bit bit count. */
#define LEN_FIELD	8
#define PAD_LIMIT	(SHA256_BLOCK_SIZE - LEN_FIELD)
/* The first padding byte: a single 1 bit right after the message. */
#define PAD_START	0x80

/*
 * 4.2.2: the first 32 bits of the fractional parts of the cube roots of
 * the first 64 primes.
 */
static const uint32_t sha256_k[ROUNDS] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5,
	0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
	0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
	0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* 5.3.3: the same of the square roots of the first 8 primes. */
static const uint32_t sha256_h0[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static inline uint32_t ror32(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static inline uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* 4.1.2's functions. */
#define CH(x, y, z)	(((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z)	(((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define BSIG0(x)	(ror32(x, 2) ^ ror32(x, 13) ^ ror32(x, 22))
#define BSIG1(x)	(ror32(x, 6) ^ ror32(x, 11) ^ ror32(x, 25))
#define SSIG0(x)	(ror32(x, 7) ^ ror32(x, 18) ^ ((x) >> 3))
#define SSIG1(x)	(ror32(x, 17) ^ ror32(x, 19) ^ ((x) >> 10))

/* 6.2.2: folds @nblocks consecutive 64-byte blocks at @p into @h. */
static void sha256_blocks(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
	uint32_t w[ROUNDS];
	uint32_t a, b, c, d, e, f, g, hh, t1, t2;
	unsigned t;

	while (nblocks--) {
		for (t = 0; t < BLOCK_WORDS; t++)
			w[t] = load_be32(p + 4 * t);
		for (; t < ROUNDS; t++)
			w[t] = SSIG1(w[t - 2]) + w[t - 7] +
			       SSIG0(w[t - 15]) + w[t - 16];

		a = h[0]; b = h[1]; c = h[2]; d = h[3];
		e = h[4]; f = h[5]; g = h[6]; hh = h[7];
		for (t = 0; t < ROUNDS; t++) {
			t1 = hh + BSIG1(e) + CH(e, f, g) + sha256_k[t] + w[t];
			t2 = BSIG0(a) + MAJ(a, b, c);
			hh = g;
			g = f;
			f = e;
			e = d + t1;
			d = c;
			c = b;
			b = a;
			a = t1 + t2;
		}
		h[0] += a; h[1] += b; h[2] += c; h[3] += d;
		h[4] += e; h[5] += f; h[6] += g; h[7] += hh;

		p += SHA256_BLOCK_SIZE;
	}
}

void sha256_init(struct sha256_ctx *c)
{
	memcpy(c->h, sha256_h0, sizeof(c->h));
	c->bytes = 0;
	c->fill = 0;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t n;

	/* Also keeps a NULL @data away from memcpy(). */
	if (!len)
		return;
	c->bytes += len;
	if (c->fill) {
		n = SHA256_BLOCK_SIZE - c->fill;
		if (n > len)
			n = len;
		memcpy(c->buf + c->fill, p, n);
		c->fill += n;
		p += n;
		len -= n;
		if (c->fill < SHA256_BLOCK_SIZE)
			return;
		sha256_blocks(c->h, c->buf, 1);
		c->fill = 0;
	}
	n = len / SHA256_BLOCK_SIZE;
	sha256_blocks(c->h, p, n);
	p += n * SHA256_BLOCK_SIZE;
	len -= n * SHA256_BLOCK_SIZE;
	memcpy(c->buf, p, len);
	c->fill = len;
}

/*
 * 5.1.1: a 1 bit, zeros up to 8 bytes short of a block boundary, then the
 * message length in bits, big-endian; one extra block when the partial one
 * has no room left for the length.
 */
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_SIZE])
{
	uint64_t bits = c->bytes * 8;
	unsigned i;

	c->buf[c->fill++] = PAD_START;
	if (c->fill > PAD_LIMIT) {
		memset(c->buf + c->fill, 0, SHA256_BLOCK_SIZE - c->fill);
		sha256_blocks(c->h, c->buf, 1);
		c->fill = 0;
	}
	memset(c->buf + c->fill, 0, PAD_LIMIT - c->fill);
	store_be32(c->buf + PAD_LIMIT, (uint32_t)(bits >> 32));
	store_be32(c->buf + PAD_LIMIT + 4, (uint32_t)bits);
	sha256_blocks(c->h, c->buf, 1);

	for (i = 0; i < 8; i++)
		store_be32(out + 4 * i, c->h[i]);
}

void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE])
{
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, out);
}
