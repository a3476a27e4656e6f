/* malformed — see malformed.h. Field offsets: ELF32 (System V ABI, Intel
 * 386 supplement), Multiboot spec 3.1.1. */
#include "malformed.h"

#include <stdio.h>
#include <string.h>
#include "../diff/rng.h"      /* splitmix64, shared with the differential tester */

static long mb_header_at(const uint8_t *b, size_t n)
{
    for (size_t o = 0; o + 32 <= n && o < 8192; o += 4) {
        uint32_t m;
        memcpy(&m, b + o, 4);
        if (m == 0x1BADB002u) return (long)o;
    }
    return -1;
}

static const uint32_t interesting[] = { 0, 1, 0x7fffffff, 0x80000000u, 0xffffffffu, 0xfffffff0u, 0x1000,
                                        0x100000, 0xffff, 0x10000, 0x3fffffff, 0x40000000 };

size_t malformed_make(const uint8_t *src, size_t n, uint64_t seed, long i, uint8_t *dst, char *what, size_t wn)
{
    uint64_t s = seed ^ (uint64_t)i * 0x9e3779b97f4a7c15ull, *r = &s;
    rng_next(r);
    memcpy(dst, src, n);
    long mb = mb_header_at(src, n);
    bool elf = n >= 52 && !memcmp(src, "\x7f" "ELF", 4);
    uint32_t phoff = 0;
    if (elf) memcpy(&phoff, src + 28, 4);
    uint32_t v = rng_chance(r, 60) ? interesting[rng_below(r, 12)] : (uint32_t)rng_next(r);

    switch (i % 6) {
    case 0: {   /* truncation: inside the headers mostly */
        size_t cut = rng_chance(r, 60) ? rng_below(r, (uint32_t)(n < 8448 ? n : 8448)) : rng_below(r, (uint32_t)n);
        snprintf(what, wn, "truncated to %zu bytes", cut);
        return cut;
    }
    case 1: if (elf) {  /* an ELF header field */
        static const uint8_t off[] = { 4, 5, 6, 16, 18, 20, 24, 28, 32, 40, 42, 44, 46, 48, 50 };
        static const uint8_t sz[] = { 1, 1, 1, 2, 2, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2 };
        unsigned k = rng_below(r, 15);
        memcpy(dst + off[k], &v, sz[k]);
        snprintf(what, wn, "ELF header +%u = 0x%x", off[k], v);
        return n;
    }
    /* fall through */
    case 2: if (elf && phoff + 32 <= n) {   /* a program header field */
        unsigned k = rng_below(r, 8);
        memcpy(dst + phoff + 4 * k, &v, 4);
        snprintf(what, wn, "program header +%u = 0x%x", 4 * k, v);
        return n;
    }
    /* fall through */
    case 3: case 4: if (mb >= 0) {  /* a Multiboot header field: flags, checksum, the kludge's addresses */
        unsigned k = 1 + rng_below(r, 7);
        memcpy(dst + mb + 4 * k, &v, 4);
        if (rng_chance(r, 70)) {    /* keep the checksum right so the loader looks further */
            uint32_t f[3];
            memcpy(f, dst + mb, 12);
            f[2] = (uint32_t)-(f[0] + f[1]);
            memcpy(dst + mb + 8, &f[2], 4);
        }
        snprintf(what, wn, "Multiboot header +%u = 0x%x", 4 * k, v);
        return n;
    }
    /* fall through */
    default: {  /* random bytes in the first 8 KiB */
        size_t lim = n < 8192 ? n : 8192;
        for (unsigned k = 1 + rng_below(r, 4); k && lim; k--)
            dst[rng_below(r, (uint32_t)lim)] = (uint8_t)rng_next(r);
        snprintf(what, wn, "random bytes in the first %zu", lim);
        return n;
    }
    }
}
