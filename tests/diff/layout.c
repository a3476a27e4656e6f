/* layout — the guest memory every backend maps, and the deterministic
 * background (memory bytes, x87/SSE registers) a case starts from. */
#include <string.h>
#include "dt.h"
#include "rng.h"

const struct dt_region dt_regions[DT_NREGIONS] = {
    { DT_LOW,   0x2000, 0x0000, "low"   },
    { DT_CODE,  0x2000, 0x2000, "code"  },
    { DT_DATA,  0x2000, 0x4000, "data"  },
    { DT_STACK, 0x2000, 0x6000, "stack" },
    { DT_HIGH,  0x1000, 0x8000, "high"  },
};

long dt_mem_index(uint32_t a) {
    for (int i = 0; i < DT_NREGIONS; i++)
        if (a - dt_regions[i].base < dt_regions[i].size)
            return dt_regions[i].off + (a - dt_regions[i].base);
    return -1;
}

bool dt_range_mapped(uint32_t a, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (dt_mem_index(a + i) < 0) return false;
    return true;
}

bool dt_paging;
unsigned dt_poll_storm;
bool dt_adapt_first;
bool dt_pae;
bool dt_real;

void dt_page_tables(uint32_t pt[3][1024]) {
    memset(pt, 0, 3 * 4096);
    pt[0][0] = (DT_PT + 0x1000) | 7;                 /* P RW US: 0..4 MiB */
    pt[0][1023] = (DT_PT + 0x2000) | 7;              /* the last 4 MiB */
    for (int i = 0; i < DT_NREGIONS; i++)
        for (uint32_t a = dt_regions[i].base; a - dt_regions[i].base < dt_regions[i].size; a += 4096)
            pt[a >> 22 ? 2 : 1][(a >> 12) & 1023] = a | 3;   /* P RW */
}

void dt_page_tables_pae(uint64_t pt[DT_PT_PAGES][512]) {
    memset(pt, 0, DT_PT_PAGES * 4096);
    pt[0][0] = (DT_PT + 0x1000) | 1;                 /* PDPTE 0 -> PD of the first GiB */
    pt[0][3] = (DT_PT + 0x2000) | 1;                 /* PDPTE 3 -> PD of the last GiB */
    pt[1][0] = (DT_PT + 0x3000) | 7;                 /* P RW US: 0..2 MiB */
    pt[2][511] = (DT_PT + 0x4000) | 7;               /* the last 2 MiB */
    for (int i = 0; i < DT_NREGIONS; i++)
        for (uint32_t a = dt_regions[i].base; a - dt_regions[i].base < dt_regions[i].size; a += 4096)
            pt[a >> 21 ? 4 : 3][(a >> 12) & 511] = a | 3;   /* P RW */
}

void dt_fx_default(uint8_t fx[512]) {
    memset(fx, 0, 512);
    fx[0] = 0x7f; fx[1] = 0x03;                     /* FCW 0x037f */
    uint32_t mxcsr = 0x1f80;
    memcpy(fx + 24, &mxcsr, 4);
}

/* One x87 register value: mostly normal numbers of moderate magnitude, with
 * the special classes mixed in. Never an unsupported encoding (unnormal,
 * pseudo-NaN...): those are a separate concern from translation. */
static void x87_value(uint64_t *r, uint8_t out[10]) {
    uint64_t m = rng_next(r);
    uint16_t e;
    switch (rng_below(r, 10)) {
    case 0: m = 0; e = 0; break;                                   /* zero */
    case 1: m = 1ull << 63; e = 0x7fff; break;                     /* inf */
    case 2: m = (3ull << 62) | (m >> 20); e = 0x7fff; break;       /* QNaN */
    case 3: m >>= 1 + rng_below(r, 8); e = 0; break;               /* denormal */
    case 4: m = (uint64_t)rng_below(r, 1000) << 53; e = 0x3fff + 10;  /* small integer-ish */
            if (!m) m = 1ull << 63;
            while (!(m >> 63)) { m <<= 1; e--; } break;
    case 5: m |= 1ull << 63; e = 1 + rng_below(r, 0x7ffe); break; /* any normal */
    default: m |= 1ull << 63; e = 0x3fff - 40 + rng_below(r, 80); break;
    }
    if (rng_chance(r, 40)) e |= 0x8000;
    memcpy(out, &m, 8);
    memcpy(out + 8, &e, 2);
}

void dt_fill(struct dt_state *s, uint64_t seed) {
    if (!seed) {
        memset(s->mem, 0, sizeof s->mem);
        dt_fx_default(s->fx);
        return;
    }
    uint64_t r = seed;
    for (size_t i = 0; i < sizeof s->mem; i += 8) {
        uint64_t v = rng_next(&r);
        /* Runs of small and zero values make comparisons and BCD interesting. */
        if ((i & 0x3f) == 0 && rng_chance(&r, 20)) v &= 0x0f0f0f0f0f0f0f0full;
        if ((i & 0x3f) == 8 && rng_chance(&r, 10)) v = 0;
        memcpy(s->mem + i, &v, 8);
    }
    uint8_t *fx = s->fx;
    memset(fx, 0, 512);
    /* FCW: exceptions masked; usually the default rounding and precision. */
    uint16_t fcw = 0x037f;
    if (rng_chance(&r, 15)) fcw = (fcw & ~0x0c00) | (rng_below(&r, 4) << 10);
    memcpy(fx + 0, &fcw, 2);
    unsigned top = rng_below(&r, 8), nvalid = rng_below(&r, 9);
    uint16_t fsw = top << 11;
    memcpy(fx + 2, &fsw, 2);
    uint8_t ftw = 0;
    for (unsigned i = 0; i < nvalid; i++) ftw |= 1 << ((top + i) & 7);
    fx[4] = ftw;
    uint32_t mxcsr = 0x1f80;
    if (rng_chance(&r, 15)) mxcsr = (mxcsr & ~0x6000) | (rng_below(&r, 4) << 13);
    /* Never FZ/DAZ: Unicorn ignores FZ in CVTPD2PS (unicorn-quirks.md U12). */
    memcpy(fx + 24, &mxcsr, 4);
    for (int i = 0; i < 8; i++) x87_value(&r, fx + 32 + 16 * i);  /* ST0..7 */
    for (int i = 0; i < 8; i++) {                                  /* XMM0..7 */
        uint8_t *x = fx + 160 + 16 * i;
        int kind = rng_below(&r, 4);
        for (int j = 0; j < 16; j += 8) {
            uint64_t v = rng_next(&r);
            if (kind == 1) {   /* packed floats of moderate exponent */
                v = (v & 0x807fffff807fffffull) | ((uint64_t)(0x7c + rng_below(&r, 8)) << 55)
                    | ((uint64_t)(0x7c + rng_below(&r, 8)) << 23);
            } else if (kind == 2) {   /* packed doubles of moderate exponent */
                v = (v & 0x800fffffffffffffull) | ((uint64_t)(0x3fc + rng_below(&r, 8)) << 52);
            }
            memcpy(x + j, &v, 8);
        }
    }
}
