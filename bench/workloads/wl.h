/* wl.h — what the workloads may use: they are freestanding (no libc), so
 * the same sources build into a 32-bit Linux program (the native side of a
 * benchmark) and into the bench and demo kernels.
 *
 * Build them as the kernels do: gcc -m32 -O2 -march=i686 -msse2
 * -mfpmath=sse. The fp workload's checksum depends on doubles being
 * evaluated in SSE2 registers; x87 code (-mfpmath=387) gives another one. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) && !defined(__clang__)
#define WL_NOINLINE __attribute__((noinline, noipa))
#else
#define WL_NOINLINE __attribute__((noinline))
#endif

/* wl_lib.c. wl_memcpy/wl_memset use REP MOVSD/STOSD (plus the byte tail). */
void *wl_memcpy(void *d, const void *s, size_t n);
void *wl_memset(void *d, int c, size_t n);
int wl_memcmp(const void *a, const void *b, size_t n);
size_t wl_strlen(const char *s);

/* Checksums: FNV-1a over 32-bit words. */
#define WL_HASH_INIT 2166136261u
static inline uint32_t wl_mix(uint32_t h, uint32_t v)
{
    for (int i = 0; i < 4; i++, v >>= 8)
        h = (h ^ (v & 0xFF)) * 16777619u;
    return h;
}

/* A linear congruential generator (Numerical Recipes constants), with the
 * high bits folded down because the low bits of an LCG are weak. */
static inline uint32_t wl_rand(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state ^ (*state >> 16);
}
