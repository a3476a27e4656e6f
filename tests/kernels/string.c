/* string.c — MOVS CMPS STOS LODS SCAS in byte, word and dword sizes, with
 * and without REP/REPE/REPNE, forward (DF=0) and backward (DF=1).
 *
 * In 64-bit mode ES:[EDI] cannot be overridden, so the translator must
 * rewrite every one of these (a gs: loop, or host string instructions on
 * rebased RSI/RDI). What is checked after each: the memory written (and
 * that nothing around it was), ESI, EDI, ECX, EAX, and all six arithmetic
 * flags: only CMPS/SCAS change them, and with ECX=0 a REP form changes
 * nothing at all (SDM Vol. 2B REP/REPE/REPNE). */
#include "kernel.h"

struct sregs {
    uint32_t esi, edi, ecx, eax, flags;
};

/* Run one string instruction with the given registers and EFLAGS = fin. */
#define STR_FN(name, insn)                                                      \
    static void name(struct sregs *r, uint32_t fin)                             \
    {                                                                           \
        __asm__ volatile("pushl %[fin]\n\tpopfl\n\t" insn "\n\tpushfl\n\tpopl %[f]\n\tcld" \
                         : "+S"(r->esi), "+D"(r->edi), "+c"(r->ecx), "+a"(r->eax), \
                           [f] "=&r"(r->flags)                                  \
                         : [fin] "r"(fin)                                       \
                         : "memory", "cc");                                     \
    }
STR_FN(movsb, "movsb") STR_FN(movsw, "movsw") STR_FN(movsd, "movsl")
STR_FN(rep_movsb, "rep movsb") STR_FN(rep_movsw, "rep movsw") STR_FN(rep_movsd, "rep movsl")
STR_FN(stosb, "stosb") STR_FN(stosw, "stosw") STR_FN(stosd, "stosl")
STR_FN(rep_stosb, "rep stosb") STR_FN(rep_stosw, "rep stosw") STR_FN(rep_stosd, "rep stosl")
STR_FN(lodsb, "lodsb") STR_FN(lodsw, "lodsw") STR_FN(lodsd, "lodsl")
STR_FN(rep_lodsb, "rep lodsb")
STR_FN(cmpsb, "cmpsb") STR_FN(cmpsw, "cmpsw") STR_FN(cmpsd, "cmpsl")
STR_FN(repe_cmpsb, "repe cmpsb") STR_FN(repe_cmpsw, "repe cmpsw") STR_FN(repe_cmpsd, "repe cmpsl")
STR_FN(repne_cmpsb, "repne cmpsb")
STR_FN(scasb, "scasb") STR_FN(scasw, "scasw") STR_FN(scasd, "scasl")
STR_FN(repne_scasb, "repne scasb") STR_FN(repe_scasb, "repe scasb") STR_FN(repne_scasd, "repne scasl")
STR_FN(cs_lodsb, "lodsb %%cs:(%%esi), %%al")                    /* 2E AC */
STR_FN(ss_rep_movsb, "rep movsb %%ss:(%%esi), %%es:(%%edi)")    /* F3 36 A4 */

typedef void (*str_fn)(struct sregs *r, uint32_t fin);

#define ALLF (FL_FIXED | FL_ARITH)      /* flags in: all six set */
#define NOF FL_FIXED                    /* flags in: none set */

static uint8_t src[8192 + 64], dst[8192 + 64], ref[8192 + 64];
static uint8_t big[65536 + 16];

static void fill_pattern(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

/* ESI/EDI/ECX/flags after a string op. */
static void check_regs(const char *what, const struct sregs *r, uint32_t esi, uint32_t edi,
                       uint32_t ecx, uint32_t flags)
{
    CHECK_EQ_CTX(r->esi, esi, "%s: ESI", what);
    CHECK_EQ_CTX(r->edi, edi, "%s: EDI", what);
    CHECK_EQ_CTX(r->ecx, ecx, "%s: ECX", what);
    CHECK_EQ_CTX(r->flags & (FL_ARITH | FL_DF), flags & (FL_ARITH | FL_DF), "%s: flags", what);
}

/* --- MOVS ----------------------------------------------------------------- */

static void test_movs(void)
{
    static const struct { const char *name; str_fn one, rep; int size; } sizes[] = {
        { "movsb", movsb, rep_movsb, 1 }, { "movsw", movsw, rep_movsw, 2 }, { "movsd", movsd, rep_movsd, 4 },
    };
    static const uint32_t counts[] = { 0, 1, 2, 3, 7, 64, 100, 1000, 2048 };
    for (int s = 0; s < 3; s++) {
        int sz = sizes[s].size;
        for (int back = 0; back < 2; back++) {
            uint32_t df = back ? FL_DF : 0;
            int step = back ? -sz : sz;
            /* single MOVS: one element, ESI/EDI move by the size */
            fill_pattern(src, 64, 1);
            memset(dst, 0, 64);
            struct sregs r = { (uint32_t)&src[16], (uint32_t)&dst[16], 0x1234, 0x55, 0 };
            sizes[s].one(&r, ALLF | df);
            check_regs(sizes[s].name, &r, (uint32_t)&src[16] + step, (uint32_t)&dst[16] + step, 0x1234, ALLF | df);
            CHECK(!memcmp(&dst[16], &src[16], sz));
            CHECK(dst[15] == 0 && dst[16 + sz] == 0);
            /* REP MOVS of n elements */
            for (unsigned c = 0; c < sizeof counts / sizeof counts[0]; c++) {
                uint32_t n = counts[c], bytes = n * sz;
                fill_pattern(src, sizeof src, 7 + c);
                fill_pattern(dst, sizeof dst, 99);
                memcpy(ref, dst, sizeof ref);
                uint32_t lo = 32;                               /* first byte written */
                memcpy(ref + lo, src + lo, bytes);
                /* backward: ESI/EDI start at the last element */
                uint32_t start = back ? lo + bytes - sz : lo;
                struct sregs q = { (uint32_t)&src[start], (uint32_t)&dst[start], n, 0, 0 };
                uint32_t fin = (c & 1 ? NOF : ALLF) | df;
                sizes[s].rep(&q, fin);
                check_regs(sizes[s].name, &q, (uint32_t)&src[start] + step * (int)n,
                           (uint32_t)&dst[start] + step * (int)n, 0, fin);
                CHECK_EQ_CTX(memcmp(dst, ref, sizeof ref), 0, "rep %s n=%u df=%d", sizes[s].name, n, back);
            }
        }
    }

    /* Overlap, forward, distance 1: each byte is read after the previous
     * iteration wrote it, so the first byte is replicated. */
    for (int i = 0; i < 64; i++) src[i] = (uint8_t)i;
    struct sregs r = { (uint32_t)&src[0], (uint32_t)&src[1], 40, 0, 0 };
    rep_movsb(&r, NOF);
    int ok = 1;
    for (int i = 0; i <= 40; i++) ok &= src[i] == 0;
    CHECK(ok && src[41] == 41);
    /* Overlap, forward, dword elements one byte apart: still strictly
     * element by element (SDM Vol. 1 7.3.9.3: fast strings keep the
     * architectural result). Model it in C. */
    for (int i = 0; i < 64; i++) src[i] = ref[i] = (uint8_t)(i + 1);
    for (int i = 0; i < 10; i++) {
        uint32_t v;
        memcpy(&v, &ref[4 * i], 4);
        memcpy(&ref[1 + 4 * i], &v, 4);
    }
    r = (struct sregs){ (uint32_t)&src[0], (uint32_t)&src[1], 10, 0, 0 };
    rep_movsd(&r, NOF);
    CHECK_EQ(memcmp(src, ref, 64), 0);
    /* memmove to a higher overlapping address: backward with DF=1 */
    for (int i = 0; i < 128; i++) src[i] = (uint8_t)(i * 3);
    memcpy(ref, src, 128);
    memmove(ref + 10, ref, 100);
    r = (struct sregs){ (uint32_t)&src[99], (uint32_t)&src[109], 100, 0, 0 };
    rep_movsb(&r, NOF | FL_DF);
    CHECK_EQ(memcmp(src, ref, 128), 0);
    CHECK_EQ(r.esi, (uint32_t)src - 1);
    /* segment override on the source (SS is flat) */
    fill_pattern(src, 64, 5);
    memset(dst, 0, 64);
    r = (struct sregs){ (uint32_t)src, (uint32_t)dst, 33, 0, 0 };
    ss_rep_movsb(&r, NOF);
    CHECK_EQ(memcmp(src, dst, 33), 0);
    CHECK_EQ(dst[33], 0);
}

/* --- STOS and LODS ------------------------------------------------------- */

static void test_stos_lods(void)
{
    struct sregs r;
    /* REP STOSD over 64 KiB (many pages), guards untouched */
    memset(big, 0xEE, sizeof big);
    r = (struct sregs){ 0, (uint32_t)&big[8], 16384, 0xA5C3E10F, 0 };
    rep_stosd(&r, ALLF);
    check_regs("rep stosd", &r, 0, (uint32_t)&big[8 + 65536], 0, ALLF);
    int ok = big[7] == 0xEE && big[8 + 65536] == 0xEE;
    for (int i = 0; i < 65536; i += 4)
        ok &= big[8 + i] == 0x0F && big[9 + i] == 0xE1 && big[10 + i] == 0xC3 && big[11 + i] == 0xA5;
    CHECK(ok);
    /* REP STOSW backward */
    memset(dst, 0, 64);
    r = (struct sregs){ 0, (uint32_t)&dst[20], 5, 0xFFFF1234, 0 };
    rep_stosw(&r, NOF | FL_DF);
    check_regs("rep stosw df", &r, 0, (uint32_t)&dst[10], 0, NOF | FL_DF);
    CHECK(dst[11] == 0 && dst[12] == 0x34 && dst[13] == 0x12 && dst[20] == 0x34 && dst[21] == 0x12 && dst[22] == 0);
    /* REP STOSB with ECX = 0: nothing */
    r = (struct sregs){ 0, (uint32_t)&dst[0], 0, 0x77, 0 };
    rep_stosb(&r, ALLF);
    check_regs("rep stosb ecx=0", &r, 0, (uint32_t)&dst[0], 0, ALLF);
    CHECK_EQ(dst[0], 0);
    /* single STOSB/W/D */
    memset(dst, 0, 16);
    r = (struct sregs){ 0, (uint32_t)&dst[0], 9, 0x44332211, 0 };
    stosb(&r, NOF);
    stosw(&r, NOF);
    stosd(&r, NOF);
    check_regs("stos b/w/d", &r, 0, (uint32_t)&dst[7], 9, NOF);
    CHECK(dst[0] == 0x11 && dst[1] == 0x11 && dst[2] == 0x22 && dst[3] == 0x11 && dst[6] == 0x44 && dst[7] == 0);

    /* LODS: AL/AX/EAX from [ESI]; the rest of EAX kept */
    static const uint8_t bytes[8] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80 };
    r = (struct sregs){ (uint32_t)bytes, 0, 3, 0xCCCCCCCC, 0 };
    lodsb(&r, ALLF);
    CHECK_EQ(r.eax, 0xCCCCCC10);
    lodsw(&r, ALLF);
    CHECK_EQ(r.eax, 0xCCCC3020);
    lodsd(&r, ALLF);
    CHECK_EQ(r.eax, 0x70605040);
    check_regs("lods b/w/d", &r, (uint32_t)&bytes[7], 0, 3, ALLF);
    r = (struct sregs){ (uint32_t)&bytes[4], 0, 3, 0, 0 };
    lodsd(&r, NOF | FL_DF);
    CHECK_EQ(r.eax, 0x80706050);
    CHECK_EQ(r.esi, (uint32_t)&bytes[0]);
    /* REP LODSB: AL ends with the last byte */
    r = (struct sregs){ (uint32_t)bytes, 0, 6, 0, 0 };
    rep_lodsb(&r, NOF);
    check_regs("rep lodsb", &r, (uint32_t)&bytes[6], 0, 0, NOF);
    CHECK_EQ(r.eax, 0x60);
    /* CS override on LODS */
    r = (struct sregs){ (uint32_t)&bytes[1], 0, 0, 0, 0 };
    cs_lodsb(&r, NOF);
    CHECK_EQ(r.eax, 0x20);
}

/* --- CMPS and SCAS ------------------------------------------------------- */

static void test_cmps_scas(void)
{
    static const char a[] = "abcdefgh", b[] = "abcXefgh", c[] = "xxcdxxgx";
    struct sregs r;

    /* REPE CMPSB stops after the first mismatch ('d' vs 'X' at index 3):
     * ESI/EDI one past it, ECX = 6 - 4, flags of CMP 'd','X':
     * 0x64 - 0x58 = 0x0C: CF=0 ZF=0 SF=0 OF=0, AF=1 (4 - 8 borrows), PF=1. */
    r = (struct sregs){ (uint32_t)a, (uint32_t)b, 6, 0, 0 };
    repe_cmpsb(&r, ALLF);
    check_regs("repe cmpsb", &r, (uint32_t)&a[4], (uint32_t)&b[4], 2, FL_AF | FL_PF);
    /* all equal: runs out, ECX=0, ZF=1 */
    r = (struct sregs){ (uint32_t)a, (uint32_t)a, 8, 0, 0 };
    repe_cmpsb(&r, NOF);
    check_regs("repe cmpsb equal", &r, (uint32_t)&a[8], (uint32_t)&a[8], 0, FL_ZF | FL_PF);
    /* REPNE CMPSB stops at the first equal pair (index 2) */
    r = (struct sregs){ (uint32_t)a, (uint32_t)c, 8, 0, 0 };
    repne_cmpsb(&r, NOF);
    check_regs("repne cmpsb", &r, (uint32_t)&a[3], (uint32_t)&c[3], 5, FL_ZF | FL_PF);
    /* ECX = 0: no comparison, flags untouched (both ways) */
    r = (struct sregs){ (uint32_t)a, (uint32_t)b, 0, 0, 0 };
    repe_cmpsb(&r, ALLF);
    check_regs("repe cmpsb ecx=0", &r, (uint32_t)a, (uint32_t)b, 0, ALLF);
    repe_cmpsb(&r, NOF);
    check_regs("repe cmpsb ecx=0", &r, (uint32_t)a, (uint32_t)b, 0, NOF);
    /* single CMPSB: flags of [ESI] - [EDI] ('a' - 'x' = 0x61 - 0x78 = 0xE9) */
    r = (struct sregs){ (uint32_t)a, (uint32_t)c, 0, 0, 0 };
    cmpsb(&r, NOF);
    check_regs("cmpsb", &r, (uint32_t)&a[1], (uint32_t)&c[1], 0, FL_CF | FL_SF | FL_AF);
    /* CMPSW/CMPSD, and backward REPE CMPSD */
    static const uint32_t w1[4] = { 1, 2, 3, 0x80000000 }, w2[4] = { 0, 2, 3, 0x80000000 };
    r = (struct sregs){ (uint32_t)&w1[0], (uint32_t)&w2[0], 0, 0, 0 };
    cmpsd(&r, NOF);
    check_regs("cmpsd", &r, (uint32_t)&w1[1], (uint32_t)&w2[1], 0, 0);  /* 1 - 0 = 1: PF=0 */
    r = (struct sregs){ (uint32_t)&w1[3], (uint32_t)&w2[3], 4, 0, 0 };
    repe_cmpsd(&r, NOF | FL_DF);       /* 3, 2 equal; stops at index 0 (1 vs 0) */
    check_regs("repe cmpsd df", &r, (uint32_t)w1 - 4, (uint32_t)w2 - 4, 0, FL_DF);
    r = (struct sregs){ (uint32_t)&w1[1], (uint32_t)&w2[1], 0, 0, 0 };
    cmpsw(&r, NOF);
    check_regs("cmpsw", &r, (uint32_t)&w1[1] + 2, (uint32_t)&w2[1] + 2, 0, FL_ZF | FL_PF);
    r = (struct sregs){ (uint32_t)&w1[0], (uint32_t)&w1[0], 8, 0, 0 };
    repe_cmpsw(&r, NOF);
    check_regs("repe cmpsw", &r, (uint32_t)&w1[4], (uint32_t)&w1[4], 0, FL_ZF | FL_PF);

    /* REPNE SCASB as strlen: ECX from -1 ends at -(len + 2) */
    static const char str[] = "the quick brown fox";
    r = (struct sregs){ 0, (uint32_t)str, 0xFFFFFFFF, 0, 0 };
    repne_scasb(&r, NOF);
    check_regs("repne scasb", &r, 0, (uint32_t)&str[20], (uint32_t)-21, FL_ZF | FL_PF);
    CHECK_EQ(~r.ecx - 1, 19);
    /* REPE SCASB skips a run: "    x" stops one past 'x' */
    static const char sp[] = "    x ";
    r = (struct sregs){ 0, (uint32_t)sp, 100, ' ', 0 };
    repe_scasb(&r, NOF);
    CHECK_EQ(r.edi, (uint32_t)&sp[5]);
    CHECK_EQ(r.ecx, 95);
    CHECK_EQ(r.flags & (FL_ZF | FL_CF), FL_CF);           /* ' ' - 'x' borrows */
    /* REPNE SCASD finds a dword; with ECX = 0 nothing moves */
    static const uint32_t arr[6] = { 5, 6, 7, 8, 9, 10 };
    r = (struct sregs){ 0, (uint32_t)arr, 6, 8, 0 };
    repne_scasd(&r, NOF);
    check_regs("repne scasd", &r, 0, (uint32_t)&arr[4], 2, FL_ZF | FL_PF);
    r = (struct sregs){ 0, (uint32_t)arr, 0, 8, 0 };
    repne_scasd(&r, ALLF);
    check_regs("repne scasd ecx=0", &r, 0, (uint32_t)arr, 0, ALLF);
    /* single SCAS: flags of AL/AX/EAX - [EDI] */
    r = (struct sregs){ 0, (uint32_t)str, 0, 't', 0 };
    scasb(&r, NOF);
    check_regs("scasb", &r, 0, (uint32_t)&str[1], 0, FL_ZF | FL_PF);
    r = (struct sregs){ 0, (uint32_t)&arr[1], 0, 0xFFFF0006, 0 };
    scasw(&r, ALLF);
    check_regs("scasw", &r, 0, (uint32_t)&arr[1] + 2, 0, FL_ZF | FL_PF);
    r = (struct sregs){ 0, (uint32_t)&arr[5], 0, 9, 0 };
    scasd(&r, NOF | FL_DF);
    check_regs("scasd df", &r, 0, (uint32_t)&arr[4], 0, FL_CF | FL_SF | FL_AF | FL_PF | FL_DF); /* 9-10 = -1 */
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    test_movs();
    test_stos_lods();
    test_cmps_scas();
    test_finish("string");
}
