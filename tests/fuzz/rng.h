/* rng — splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and every seed
 * gives an independent-looking stream, which is all a fuzzer needs. */
#pragma once
#include <stdint.h>

static inline uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
/* Uniform in [0, n). n > 0. */
static inline uint32_t rng_below(uint64_t *s, uint32_t n) {
    return (uint32_t)(((rng_next(s) >> 32) * (uint64_t)n) >> 32);
}
static inline int rng_chance(uint64_t *s, int percent) { return (int)rng_below(s, 100) < percent; }
