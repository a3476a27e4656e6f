/* sys_div.c — divide errors (SDM "DIV", "IDIV", vol. 3 §6.15 "Interrupt 0"):
 * #DE for a zero divisor and for a quotient too large for AL/AX/EAX, for
 * DIV and IDIV at every operand size, with a register and a memory divisor.
 * #DE is a fault: EIP points at the divide and EAX, EDX and the flags are
 * as they were. Each divide is one site that runs a sequence of cases —
 * first fine, then faulting, then fine again, and so on — because bt86
 * translates a site that has faulted into a checked form (bt/xlate_div.c):
 * both forms, and the switch between them, are checked against a model of
 * the SDM's rules. Results of the divides that do not fault are checked too;
 * their flags are undefined and are not. */
#include "sys_lib.h"

#define ARITH 0x8d5u        /* CF PF AF ZF SF OF */

static volatile uint32_t divisor_mem;

/* One divide site per function (noinline: a site is one address). EBX and
 * ECX both hold the divisor (BH: the divisor << 8 for the high-byte form). */
#define SITE(name, insn)                                                                   \
    static __attribute__((noinline)) void name(uint32_t *eax, uint32_t *edx, uint32_t ebx, \
                                               uint32_t ecx, uint32_t flags)               \
    {                                                                                      \
        uint32_t a = *eax, d = *edx;                                                       \
        trap_reset();                                                                      \
        __asm__ volatile("pushl %[fl]\n\tpopfl\n\t" TRY_BEGIN insn TRY_END                 \
                         : "+a"(a), "+d"(d)                                                \
                         : "b"(ebx), "c"(ecx), [fl] "r"(flags), [m] "m"(divisor_mem)       \
                         : "memory", "cc");                                                \
        *eax = a;                                                                          \
        *edx = d;                                                                          \
    }

SITE(div8_cl, "divb %%cl")
SITE(div8_mem, "divb %[m]")
SITE(div16_reg, "divw %%bx")
SITE(div16_mem, "divw %[m]")
SITE(div32_reg, "divl %%ebx")
SITE(div32_mem, "divl %[m]")
SITE(idiv8_bh, "idivb %%bh")
SITE(idiv8_mem, "idivb %[m]")
SITE(idiv16_reg, "idivw %%cx")
SITE(idiv16_mem, "idivw %[m]")
SITE(idiv32_reg, "idivl %%ecx")
SITE(idiv32_mem, "idivl %[m]")

typedef void (*site_fn)(uint32_t *, uint32_t *, uint32_t, uint32_t, uint32_t);

struct variant {
    const char *name;
    site_fn fn;
    int bits, sign;
    int bh;                 /* the divisor is BH */
};

static const struct variant variants[] = {
    { "div r8", div8_cl, 8, 0, 0 },       { "div m8", div8_mem, 8, 0, 0 },
    { "div r16", div16_reg, 16, 0, 0 },   { "div m16", div16_mem, 16, 0, 0 },
    { "div r32", div32_reg, 32, 0, 0 },   { "div m32", div32_mem, 32, 0, 0 },
    { "idiv bh", idiv8_bh, 8, 1, 1 },     { "idiv m8", idiv8_mem, 8, 1, 0 },
    { "idiv r16", idiv16_reg, 16, 1, 0 }, { "idiv m16", idiv16_mem, 16, 1, 0 },
    { "idiv r32", idiv32_reg, 32, 1, 0 }, { "idiv m32", idiv32_mem, 32, 1, 0 },
};

/* The SDM's rule: 1 for #DE, else 0 with the quotient and remainder. The
 * dividend is 2n bits, the divisor n bits. */
static int model(int sign, int bits, uint64_t dividend, uint32_t src, uint32_t *q, uint32_t *r)
{
    uint64_t mask = bits == 32 ? 0xffffffffull : (1ull << bits) - 1;
    uint64_t dmask = bits == 32 ? ~0ull : (1ull << 2 * bits) - 1;
    dividend &= dmask;
    src &= (uint32_t)mask;
    if (src == 0)
        return 1;
    if (!sign) {
        uint64_t qq = dividend / src;
        if (qq > mask)
            return 1;
        *q = (uint32_t)qq;
        *r = (uint32_t)(dividend % src);
        return 0;
    }
    int64_t d = (int64_t)(dividend << (64 - 2 * bits)) >> (64 - 2 * bits);
    int64_t s = (int64_t)((uint64_t)src << (64 - bits)) >> (64 - bits);
    int64_t lim = (int64_t)1 << (bits - 1);
    if (d == INT64_MIN)                 /* |q| >= 2^63 / 2^31: never fits */
        return 1;
    int64_t qq = d / s;
    if (qq < -lim || qq > lim - 1)
        return 1;
    *q = (uint32_t)qq;
    *r = (uint32_t)(d % s);
    return 0;
}

struct dcase {
    uint64_t dividend;      /* 2n bits */
    uint32_t divisor;
};

static uint32_t lcg = 12345;
static uint32_t rnd(void) { lcg = lcg * 1103515245u + 12345u; return lcg ^ (lcg >> 16); }

/* The cases for n-bit divides, first one fine, then alternating. */
static int cases_for(int bits, struct dcase *c)
{
    uint64_t half = 1ull << (bits - 1), full = bits == 32 ? 1ull << 32 : 1ull << bits;
    int n = 0;
    c[n++] = (struct dcase){ 703, 7 };
    c[n++] = (struct dcase){ 5, 0 };                                /* #DE: 0 */
    c[n++] = (struct dcase){ 703, 7 };
    c[n++] = (struct dcase){ (full - 1) * 3 + 2, 3 };               /* DIV: largest quotient */
    c[n++] = (struct dcase){ full * 3, 3 };                         /* DIV: one too large */
    c[n++] = (struct dcase){ (half - 1) * 3 + 2, 3 };               /* IDIV: largest positive */
    c[n++] = (struct dcase){ half * 3, 3 };                         /* IDIV: one too large */
    c[n++] = (struct dcase){ -(half * 3), 3 };                      /* IDIV: most negative */
    c[n++] = (struct dcase){ -(half * 3) - 3, 3 };                  /* IDIV: one too small */
    c[n++] = (struct dcase){ half, (uint32_t)-1 };                  /* IDIV: -2^(n-1) */
    c[n++] = (struct dcase){ -half, (uint32_t)-1 };                 /* IDIV: +2^(n-1) */
    c[n++] = (struct dcase){ -(half * 3 + 2), 3 };                  /* IDIV: truncation */
    c[n++] = (struct dcase){ 1ull << 63, (uint32_t)-1 };            /* IDIV 32: INT64_MIN */
    c[n++] = (struct dcase){ 0, 0 };
    c[n++] = (struct dcase){ 0, 1 };
    for (int i = 0; i < 24; i++) {
        uint64_t d = (uint64_t)rnd() << 32 | rnd();
        uint32_t s = rnd();
        if (i & 1)
            s >>= rnd() % 32;
        if (i % 3 == 0)
            d >>= bits;             /* small dividends: mostly fine */
        c[n++] = (struct dcase){ d, s };
    }
    return n;
}

static void run_variant(const struct variant *v)
{
    struct dcase c[64];
    int n = cases_for(v->bits, c), faults = 0, fine = 0;
    uint32_t canary_a = 0xa5000000u, canary_d = 0x5a5a0000u;

    for (int i = 0; i < n; i++) {
        uint64_t D = c[i].dividend;
        uint32_t s = c[i].divisor, q = 0, r = 0;
        uint32_t eax, edx;
        /* The dividend: AX, DX:AX or EDX:EAX; the rest of EAX/EDX is a canary. */
        if (v->bits == 8) {
            eax = canary_a | (uint32_t)(D & 0xffff);
            edx = canary_d | 0x1234;
        } else if (v->bits == 16) {
            eax = canary_a | (uint32_t)(D & 0xffff);
            edx = canary_d | (uint32_t)(D >> 16 & 0xffff);
        } else {
            eax = (uint32_t)D;
            edx = (uint32_t)(D >> 32);
        }
        uint32_t in_eax = eax, in_edx = edx;
        uint32_t flags = 0x2 | (i & 1 ? ARITH : 0);
        divisor_mem = s;
        int de = model(v->sign, v->bits, D, s, &q, &r);
        v->fn(&eax, &edx, v->bh ? s << 8 : s, s, flags);
        if (de) {
            faults++;
            CHECK_EQ_CTX(last_trap.vector, 0, "%s case %d", v->name, i);
            CHECK_EQ_CTX(last_trap.eip, expect_eip, "%s case %d", v->name, i);
            CHECK_EQ_CTX(last_trap.eflags & ARITH, flags & ARITH, "%s case %d", v->name, i);
            CHECK_EQ_CTX(eax, in_eax, "%s case %d", v->name, i);
            CHECK_EQ_CTX(edx, in_edx, "%s case %d", v->name, i);
            continue;
        }
        fine++;
        CHECK_EQ_CTX(last_trap.vector, -1, "%s case %d", v->name, i);
        uint32_t want_eax, want_edx;
        if (v->bits == 8) {
            want_eax = (in_eax & 0xffff0000u) | (r & 0xff) << 8 | (q & 0xff);
            want_edx = in_edx;
        } else if (v->bits == 16) {
            want_eax = (in_eax & 0xffff0000u) | (q & 0xffff);
            want_edx = (in_edx & 0xffff0000u) | (r & 0xffff);
        } else {
            want_eax = q;
            want_edx = r;
        }
        CHECK_EQ_CTX(eax, want_eax, "%s case %d", v->name, i);
        CHECK_EQ_CTX(edx, want_edx, "%s case %d", v->name, i);
    }
    CHECK_EQ_CTX(faults >= 3 && fine >= 3, 1, "%s: %d faults, %d fine", v->name, faults, fine);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    /* Twice: the second round starts on the checked translations. */
    for (int round = 0; round < 2; round++)
        for (unsigned i = 0; i < sizeof variants / sizeof variants[0]; i++)
            run_variant(&variants[i]);
    test_finish("sys_div");
}
