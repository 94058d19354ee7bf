/* splitmix64: a small, fast, seedable generator for simulated impairments,
 * tests, and the random part of a connection's challenge-ACK budget (seeded
 * from its ISN). Not for anything secret: ISNs use SipHash with a random key. */
#ifndef TUNTCP_RNG_H
#define TUNTCP_RNG_H

#include <stdbool.h>
#include <stdint.h>

static inline uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* True with probability p. */
static inline bool rng_chance(uint64_t *state, double p)
{
    return p > 0 && (double)(rng_next(state) >> 11) * 0x1.0p-53 < p;
}

#endif
