#include <arch/timer.h>
#include <core/entropy.h>
#include <core/log.h>
#include <core/state.h>
#include <lib/string.h>

/* splitmix64 (Steele, Lea, Flood 2014): spreads seed bits over the state. */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15UL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman, Vigna 2018). */
static uint64_t next(struct entropy *e)
{
	uint64_t *s = e->state;
	uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

static void absorb(struct entropy *e, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		e->state[i % 4] = rotl(e->state[i % 4], 8) ^ p[i];
}

void entropy_init(const struct dt *dt)
{
	struct entropy *e = &hv.entropy;
	int chosen = dt_path_offset(dt, "/chosen");
	uint64_t mix = timer_now();
	int len;

	for (unsigned i = 0; i < 4; i++)
		e->state[i] = splitmix64(&mix);
	for (unsigned k = 0; chosen >= 0 && k < 2; k++) {
		const uint8_t *seed = dt_getprop(dt, chosen, k ? "kaslr-seed" : "rng-seed", &len);

		if (seed && len > 0) {
			absorb(e, seed, (size_t)len);
			e->from_board = true;
		}
	}
	for (unsigned i = 0; i < 4; i++) {
		mix ^= e->state[i];
		e->state[i] = splitmix64(&mix);
	}
	if (!e->from_board)
		log_warn("the board gave no rng-seed: VM random seeds come from the counter only");
}

void entropy_fill(void *buf, size_t len)
{
	uint8_t *p = buf;

	/* The counter keeps two calls with equal state apart. */
	hv.entropy.state[0] ^= timer_now();
	while (len) {
		uint64_t v = next(&hv.entropy);
		size_t n = len < 8 ? len : 8;

		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
}
