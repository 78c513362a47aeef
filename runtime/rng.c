/* The project's one random-number family: splitmix64 (a counter hash, for
 * seeding and for hashing positions) and xoshiro256** seeded from it (for
 * streams). Deterministic on every platform; never the C library's rand(). */
#include "sc_runtime.h"

uint64_t sc_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint64_t sc_splitmix64(uint64_t *state)
{
    return sc_mix64(*state += 0x9E3779B97F4A7C15ULL);
}

void sc_rng_seed(sc_rng *r, uint64_t state)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = sc_splitmix64(&state);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sc_rng_next(sc_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double sc_rng_unit(sc_rng *r)
{
    return (double)(sc_rng_next(r) >> 11) * 0x1.0p-53;
}
