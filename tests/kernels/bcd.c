/* bcd.c — DAA DAS AAA AAS AAM AAD (all invalid in 64-bit mode, so the
 * translator must emulate or rewrite them). Every AL (and for AAA/AAS
 * several AH) with every AF/CF input is compared against a C transcription
 * of the SDM pseudo-code (Vol. 2A). Only defined flags are compared:
 *   DAA DAS    OF undefined
 *   AAA AAS    OF SF ZF PF undefined
 *   AAM AAD    OF AF CF undefined
 * AAM/AAD take their base from the immediate byte (D4 ib / D5 ib); gas only
 * emits base 10, so the others are spelled with .byte. */
#include "kernel.h"

static uint32_t szp8(uint32_t r)
{
    uint32_t f = 0, p = r & 0xFF;
    if (!(r & 0xFF)) f |= FL_ZF;
    if (r & 0x80) f |= FL_SF;
    p ^= p >> 4;
    p ^= p >> 2;
    p ^= p >> 1;
    if (!(p & 1)) f |= FL_PF;
    return f;
}

static uint32_t ref_daa(uint32_t ax, uint32_t fin, uint32_t *fout)
{
    uint32_t al = ax & 0xFF, old_al = al, old_cf = fin & FL_CF, f = 0;
    if ((al & 0x0F) > 9 || (fin & FL_AF)) {
        f |= old_cf | (al + 6 > 0xFF ? FL_CF : 0);
        al = (al + 6) & 0xFF;
        f |= FL_AF;
    }
    if (old_al > 0x99 || old_cf) {
        al = (al + 0x60) & 0xFF;
        f |= FL_CF;
    } else {
        f &= ~FL_CF;
    }
    *fout = f | szp8(al);
    return (ax & ~0xFFu) | al;
}

static uint32_t ref_das(uint32_t ax, uint32_t fin, uint32_t *fout)
{
    uint32_t al = ax & 0xFF, old_al = al, old_cf = fin & FL_CF, f = 0;
    if ((al & 0x0F) > 9 || (fin & FL_AF)) {
        f |= old_cf | (al < 6 ? FL_CF : 0);       /* borrow from AL - 6 */
        al = (al - 6) & 0xFF;
        f |= FL_AF;
    }
    if (old_al > 0x99 || old_cf) {                 /* no ELSE: CF may stay from above */
        al = (al - 0x60) & 0xFF;
        f |= FL_CF;
    }
    *fout = f | szp8(al);
    return (ax & ~0xFFu) | al;
}

static uint32_t ref_aaa(uint32_t ax, uint32_t fin, uint32_t *fout)
{
    uint32_t a = ax & 0xFFFF;
    if ((a & 0x0F) > 9 || (fin & FL_AF)) {
        a = (a + 0x106) & 0xFFFF;                  /* AX = AX + 106H (carries into AH) */
        *fout = FL_AF | FL_CF;
    } else {
        *fout = 0;
    }
    a &= 0xFF0F;                                   /* AL = AL AND 0FH */
    return (ax & 0xFFFF0000u) | a;
}

static uint32_t ref_aas(uint32_t ax, uint32_t fin, uint32_t *fout)
{
    uint32_t a = ax & 0xFFFF;
    if ((a & 0x0F) > 9 || (fin & FL_AF)) {
        a = (a - 6) & 0xFFFF;                      /* AX = AX - 6; AH = AH - 1 */
        a = (a - 0x100) & 0xFFFF;
        *fout = FL_AF | FL_CF;
    } else {
        *fout = 0;
    }
    a &= 0xFF0F;
    return (ax & 0xFFFF0000u) | a;
}

static uint32_t ref_aam(uint32_t ax, uint32_t base, uint32_t *fout)
{
    uint32_t al = ax & 0xFF;
    uint32_t ah = al / base;
    al %= base;
    *fout = szp8(al);
    return (ax & 0xFFFF0000u) | ah << 8 | al;
}

static uint32_t ref_aad(uint32_t ax, uint32_t base, uint32_t *fout)
{
    uint32_t al = ((ax & 0xFF) + ((ax >> 8) & 0xFF) * base) & 0xFF;
    *fout = szp8(al);
    return (ax & 0xFFFF0000u) | al;                /* AH = 0 */
}

#define BCD_FN(name, bytes)                                                     \
    static uint32_t name(uint32_t ax, uint32_t fin, uint32_t *fout)             \
    {                                                                           \
        uint32_t f;                                                             \
        __asm__("pushl %[fin]\n\tpopfl\n\t" bytes "\n\tpushfl\n\tpopl %[f]"     \
                : "+a"(ax), [f] "=r"(f) : [fin] "r"(fin) : "cc");               \
        *fout = f;                                                              \
        return ax;                                                              \
    }
BCD_FN(do_daa, "daa")
BCD_FN(do_das, "das")
BCD_FN(do_aaa, "aaa")
BCD_FN(do_aas, "aas")
BCD_FN(do_aam10, "aam")                 /* D4 0A */
BCD_FN(do_aam16, ".byte 0xD4, 0x10")
BCD_FN(do_aam7, ".byte 0xD4, 0x07")
BCD_FN(do_aam1, ".byte 0xD4, 0x01")
BCD_FN(do_aam255, ".byte 0xD4, 0xFF")
BCD_FN(do_aad10, "aad")                 /* D5 0A */
BCD_FN(do_aad16, ".byte 0xD5, 0x10")
BCD_FN(do_aad7, ".byte 0xD5, 0x07")
BCD_FN(do_aad0, ".byte 0xD5, 0x00")
BCD_FN(do_aad255, ".byte 0xD5, 0xFF")

typedef uint32_t (*bcd_fn)(uint32_t ax, uint32_t fin, uint32_t *fout);

static void test_adjust(const char *name, bcd_fn fn,
                        uint32_t (*ref)(uint32_t, uint32_t, uint32_t *), uint32_t defined)
{
    static const uint32_t ahs[] = { 0x00, 0x12, 0x99, 0xFF };
    static const uint32_t others[] = { FL_FIXED, FL_FIXED | FL_ARITH };   /* the other flags */
    for (int h = 0; h < 4; h++) {
        for (uint32_t al = 0; al < 256; al++) {
            for (int in = 0; in < 8; in++) {
                uint32_t fin = (others[in >> 2] & ~(FL_AF | FL_CF)) |
                               ((in & 1) ? FL_AF : 0) | ((in & 2) ? FL_CF : 0);
                uint32_t ax = 0x5A5A0000 | ahs[h] << 8 | al, f, ef;
                uint32_t r = fn(ax, fin, &f);
                uint32_t er = ref(ax, fin, &ef);
                CHECK_EQ_CTX(r, er, "%s ax=0x%x flags in 0x%x", name, ax & 0xFFFF, fin);
                CHECK_EQ_CTX(f & defined, ef & defined, "%s ax=0x%x flags in 0x%x: flags", name, ax & 0xFFFF, fin);
            }
        }
    }
}

static void test_aam_aad(void)
{
    static const struct { const char *name; bcd_fn fn; uint32_t base; int aad; } cases[] = {
        { "aam 10", do_aam10, 10, 0 }, { "aam 16", do_aam16, 16, 0 }, { "aam 7", do_aam7, 7, 0 },
        { "aam 1", do_aam1, 1, 0 }, { "aam 255", do_aam255, 255, 0 },
        { "aad 10", do_aad10, 10, 1 }, { "aad 16", do_aad16, 16, 1 }, { "aad 7", do_aad7, 7, 1 },
        { "aad 0", do_aad0, 0, 1 }, { "aad 255", do_aad255, 255, 1 },
    };
    const uint32_t defined = FL_SF | FL_ZF | FL_PF;
    for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        /* AAD: every AX; AAM ignores AH: every AL with two AH values */
        uint32_t end = cases[k].aad ? 0x10000 : 0x200;
        for (uint32_t ax = 0; ax < end; ax++) {
            uint32_t in = 0xA5A50000 | ax, f, ef, r, er;
            r = cases[k].fn(in, FL_FIXED, &f);
            er = cases[k].aad ? ref_aad(in, cases[k].base, &ef) : ref_aam(in, cases[k].base, &ef);
            CHECK_EQ_CTX(r, er, "%s ax=0x%x", cases[k].name, ax);
            CHECK_EQ_CTX(f & defined, ef, "%s ax=0x%x: flags", cases[k].name, ax);
        }
    }
}

/* Hand-worked vectors, straight from the SDM's examples. */
static void test_vectors(void)
{
    uint32_t ax, f;
    /* ADD AL,BL with AL=79h BL=35h gives AL=AEh; DAA: AL=14h, CF=1 (79+35=114) */
    ax = 0xAE;
    ax = do_daa(ax, FL_FIXED, &f);
    CHECK_EQ(ax & 0xFF, 0x14);
    CHECK_EQ(f & FL_CF, FL_CF);
    /* SUB AL,BL with AL=35h BL=47h gives AL=EEh, CF=1, AF=1; DAS: AL=88h, CF=1 (35-47 = -12 -> 88 borrow) */
    ax = do_das(0xEE, FL_FIXED | FL_CF | FL_AF, &f);
    CHECK_EQ(ax & 0xFF, 0x88);
    CHECK_EQ(f & FL_CF, FL_CF);
    /* AAA after ADD AL,BL with AL=39h ('9') BL=35h ('5'): AL=6Eh -> AX=0104h (9+5 = 14) */
    ax = do_aaa(0x006E, FL_FIXED, &f);
    CHECK_EQ(ax & 0xFFFF, 0x0104);
    CHECK_EQ(f & (FL_CF | FL_AF), FL_CF | FL_AF);
    /* AAM: AL=3Fh (63) -> AH=06 AL=03 */
    ax = do_aam10(0x003F, FL_FIXED, &f);
    CHECK_EQ(ax & 0xFFFF, 0x0603);
    /* AAD: AX=0607h -> AL=67 (43h), AH=0 */
    ax = do_aad10(0x0607, FL_FIXED, &f);
    CHECK_EQ(ax & 0xFFFF, 0x0043);
    /* AAM 16 splits nibbles: AL=A7h -> AH=0Ah AL=07h */
    ax = do_aam16(0x00A7, FL_FIXED, &f);
    CHECK_EQ(ax & 0xFFFF, 0x0A07);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    test_vectors();
    test_adjust("daa", do_daa, ref_daa, FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF);
    test_adjust("das", do_das, ref_das, FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF);
    test_adjust("aaa", do_aaa, ref_aaa, FL_CF | FL_AF);
    test_adjust("aas", do_aas, ref_aas, FL_CF | FL_AF);
    test_aam_aad();
    test_finish("bcd");
}
