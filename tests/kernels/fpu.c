/* fpu.c — x87, MMX, SSE and SSE2. The translator copies these instructions
 * (adding gs:/0x67 to memory operands) and the guest's FPU/vector state
 * lives in the host registers, so what can break is: memory operands,
 * CR0/CR4 emulation (EM TS MP, OSFXSR), MXCSR/FCW rounding control, and the
 * monitor clobbering guest FPU/XMM state in a callout. Results are compared
 * as bit patterns, computed from IEEE 754 correct rounding (the x87 rounds to
 * its 64-bit significand first; where that could differ from a direct double
 * result the comment says why it does not). */
#include "kernel.h"
#include "x86.h"

static uint64_t bits64(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static uint32_t bits32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* x87 status word bits */
#define FSW_C0 0x0100
#define FSW_C1 0x0200
#define FSW_C2 0x0400
#define FSW_C3 0x4000
#define FSW_TOP(sw) (((sw) >> 11) & 7)

static uint16_t fnstsw(void) { uint16_t sw; __asm__ volatile("fnstsw %0" : "=a"(sw)); return sw; }
static uint16_t fnstcw(void) { uint16_t cw; __asm__ volatile("fnstcw %0" : "=m"(cw)); return cw; }
static void fldcw(uint16_t cw) { __asm__ volatile("fldcw %0" : : "m"(cw)); }
static uint32_t stmxcsr(void) { uint32_t m; __asm__ volatile("stmxcsr %0" : "=m"(m)); return m; }
static void ldmxcsr(uint32_t m) { __asm__ volatile("ldmxcsr %0" : : "m"(m)); }

/* 32-bit protected-mode FNSTENV image (SDM Vol. 1 8.1.10, Figure 8-9) */
struct fenv { uint32_t cw, sw, tw, fip, fcs, fdp, fds; };
static struct fenv fnstenv(void) { struct fenv e; __asm__ volatile("fnstenv %0" : "=m"(e)); return e; }

static void cpuid(uint32_t leaf, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

/* --- set-up ----------------------------------------------------------------- */

static void test_setup(void)
{
    uint32_t id[4];
    cpuid(1, id);
    /* CPUID.1:EDX: FPU(0) CMOV(15) MMX(23) FXSR(24) SSE(25) SSE2(26) */
    CHECK_EQ(id[3] & 0x07808001, 0x07808001);
#ifndef KERNEL_HOSTED
    /* SSE needs CR0.EM=0 and CR4.OSFXSR, else #UD; CR0.MP=1 and TS=0 so
     * WAIT/x87 do not raise #NM (SDM Vol. 3A 13.1.3, 2.5). */
    uint32_t cr0 = read_cr0();
    write_cr0((cr0 & ~(CR0_EM | CR0_TS)) | CR0_MP);
    CHECK_EQ(read_cr0() & (CR0_EM | CR0_TS | CR0_MP | CR0_PE), CR0_MP | CR0_PE);
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    CHECK_EQ(read_cr4() & (CR4_OSFXSR | CR4_OSXMMEXCPT), CR4_OSFXSR | CR4_OSXMMEXCPT);
#endif
    __asm__ volatile("fninit");
    /* FNINIT: FCW 037F (all masked, 64-bit precision, round to nearest),
     * FSW 0, all tags empty. MXCSR is 1F80 after reset and FNINIT leaves it. */
    CHECK_EQ(fnstcw(), 0x037F);
    CHECK_EQ(fnstsw(), 0);
    CHECK_EQ(fnstenv().tw & 0xFFFF, 0xFFFF);
    CHECK_EQ(stmxcsr(), 0x1F80);
}

/* --- x87 -------------------------------------------------------------------- */

static void test_x87_arith(void)
{
    static const double two = 2.0, three = 3.0, m_third = -1.0 / 3.0;
    double r;
    uint16_t sw;

    __asm__ volatile("fninit");
    __asm__ volatile("fld1\n\tfaddl %1\n\tfstpl %0" : "=m"(r) : "m"(two));
    CHECK_EQ(bits64(r), 0x4008000000000000ull);                 /* 3.0 */
    __asm__ volatile("fld1\n\tfdivl %1\n\tfstpl %0" : "=m"(r) : "m"(three));
    CHECK_EQ(bits64(r), 0x3FD5555555555555ull);                 /* 1/3: ...AAAB in 64 bits rounds down to ...555 */
    __asm__ volatile("fldl %1\n\tfsqrt\n\tfstpl %0" : "=m"(r) : "m"(two));
    CHECK_EQ(bits64(r), 0x3FF6A09E667F3BCDull);                 /* sqrt 2: 64-bit B504F333F9DE6484 -> ...BCD */
    __asm__ volatile("fldl %1\n\tfmull %2\n\tfchs\n\tfstpl %0" : "=m"(r) : "m"(two), "m"(three));
    CHECK_EQ(bits64(r), 0xC018000000000000ull);                 /* -6 */
    __asm__ volatile("fldl %1\n\tfabs\n\tfstpl %0" : "=m"(r) : "m"(m_third));
    CHECK_EQ(bits64(r), 0x3FD5555555555555ull);
    __asm__ volatile("fldl %1\n\tfldl %2\n\tfsubrp\n\tfstpl %0" : "=m"(r) : "m"(two), "m"(three));
    CHECK_EQ(bits64(r), 0xBFF0000000000000ull);                 /* fsubrp: st1 = st0 - st1 = 2 - 3 */
    __asm__ volatile("fldl %1\n\tfldl %2\n\tfxch\n\tfstpl %0" : "=m"(r) : "m"(two), "m"(three));
    CHECK_EQ(bits64(r), 0x4000000000000000ull);                 /* after FXCH, st0 is 2 */
    __asm__ volatile("fstpl %0" : "=m"(r));
    CHECK_EQ(bits64(r), 0x4008000000000000ull);
    sw = fnstsw();
    CHECK_EQ(FSW_TOP(sw), 0);                                    /* stack empty again */
    __asm__ volatile("fld1\n\tfld1\n\tfld1");
    CHECK_EQ(FSW_TOP(fnstsw()), 5);                              /* pushes decrement TOP */
    __asm__ volatile("fninit");

    /* integer loads and stores */
    static const int16_t i16 = -300;
    static const int32_t i32 = -123456;
    static const int64_t i64 = 9007199254740993LL;              /* 2^53 + 1: exact in 64 bits */
    int32_t o32;
    int64_t o64;
    uint8_t t80[10];
    __asm__ volatile("filds %1\n\tfimull %2\n\tfistpll %0" : "=m"(o64) : "m"(i16), "m"(i32));
    CHECK_EQ(o64, 37036800);
    __asm__ volatile("fildll %2\n\tfld %%st(0)\n\tfistpll %0\n\tfstpt %1" : "=m"(o64), "=m"(t80) : "m"(i64));
    CHECK_EQ(o64, 9007199254740993LL);
    /* 80-bit: significand 2^63 + 2^10, exponent 16383 + 53 = 0x4034 */
    static const uint8_t e80[10] = { 0x00, 0x04, 0, 0, 0, 0, 0, 0x80, 0x34, 0x40 };
    CHECK_EQ(memcmp(t80, e80, 10), 0);
    __asm__ volatile("fldt %1\n\tfistpl %0" : "=m"(o32) : "m"(e80));
    CHECK_EQ((uint32_t)o32, 0x80000000);                        /* too big: integer indefinite */
    __asm__ volatile("fnclex");

    /* FIST rounds by FCW.RC (bits 10-11): 00 nearest-even, 01 down, 10 up, 11 chop */
    static const double vals[4] = { 2.5, -2.5, 3.5, -3.7 };
    static const int32_t expect[4][4] = {
        { 2, -2, 4, -4 },       /* nearest, ties to even */
        { 2, -3, 3, -4 },       /* down */
        { 3, -2, 4, -3 },       /* up */
        { 2, -2, 3, -3 },       /* toward zero */
    };
    for (int rc = 0; rc < 4; rc++) {
        fldcw((uint16_t)(0x037F | rc << 10));
        for (int i = 0; i < 4; i++) {
            __asm__ volatile("fldl %1\n\tfistpl %0" : "=m"(o32) : "m"(vals[i]));
            CHECK_EQ_CTX(o32, expect[rc][i], "fistp rc=%d value #%d", rc, i);
        }
    }
    /* FCW.PC (bits 8-9) = 10b: 53-bit precision, so the division itself
     * rounds like a double; then RC decides the last bit of 1/3 and -1/3. */
    static const uint64_t third[4] = { 0x3FD5555555555555ull, 0x3FD5555555555555ull,
                                       0x3FD5555555555556ull, 0x3FD5555555555555ull };
    for (int rc = 0; rc < 4; rc++) {
        fldcw((uint16_t)(0x027F | rc << 10));
        __asm__ volatile("fld1\n\tfdivl %1\n\tfstpl %0" : "=m"(r) : "m"(three));
        CHECK_EQ_CTX(bits64(r), third[rc], "1/3 rc=%d", rc);
        __asm__ volatile("fld1\n\tfchs\n\tfdivl %1\n\tfstpl %0" : "=m"(r) : "m"(three));
        CHECK_EQ_CTX(bits64(r), third[rc ^ 3] | 1ull << 63, "-1/3 rc=%d", rc); /* down<->up mirror */
    }
    fldcw(0x037F);
}

static void test_x87_compare(void)
{
    static const double one = 1.0, two = 2.0;
    static const uint64_t qnan_bits = 0x7FF8000000000000ull;
    double qnan;
    memcpy(&qnan, &qnan_bits, 8);
    uint16_t sw;
    uint32_t f, a;

    __asm__ volatile("fninit");
    /* FCOM m64 + FNSTSW AX: C3 C2 C0 = 000 greater, 001 less, 100 equal, 111 unordered */
    __asm__ volatile("fldl %1\n\tfcompl %2\n\tfnstsw %0" : "=a"(sw) : "m"(one), "m"(two));
    CHECK_EQ(sw & (FSW_C0 | FSW_C2 | FSW_C3), FSW_C0);
    __asm__ volatile("fldl %1\n\tfcompl %2\n\tfnstsw %0" : "=a"(sw) : "m"(two), "m"(one));
    CHECK_EQ(sw & (FSW_C0 | FSW_C2 | FSW_C3), 0);
    __asm__ volatile("fldl %1\n\tfcompl %2\n\tfnstsw %0" : "=a"(sw) : "m"(two), "m"(two));
    CHECK_EQ(sw & (FSW_C0 | FSW_C2 | FSW_C3), FSW_C3);
    __asm__ volatile("fldl %2\n\tfldl %1\n\tfucompp\n\tfnstsw %0" : "=a"(sw) : "m"(two), "m"(qnan));
    CHECK_EQ(sw & (FSW_C0 | FSW_C2 | FSW_C3), FSW_C0 | FSW_C2 | FSW_C3);
    /* FNSTSW AX; SAHF maps C0 -> CF, C2 -> PF, C3 -> ZF: then JB means less */
    __asm__ volatile("fldl %1\n\tfcompl %2\n\tfnstsw %%ax\n\tsahf\n\t"
                     "movl $0, %0\n\tjnb 1f\n\tmovl $1, %0\n1:"
                     : "=&r"(a) : "m"(one), "m"(two) : "eax", "cc");
    CHECK_EQ(a, 1);
    CHECK_EQ(FSW_TOP(fnstsw()), 0);

    /* FCOMI/FUCOMI set ZF PF CF directly. (Hardware also clears OF SF AF;
     * QEMU 7.2 leaves them, and the SDM's flag section names only ZF PF CF,
     * so only those are compared.) */
    static const struct { double x, y; uint32_t flags; } cmp[] = {
        { 1.0, 2.0, FL_CF }, { 2.0, 1.0, 0 }, { 2.0, 2.0, FL_ZF },
    };
    for (int i = 0; i < 3; i++) {
        __asm__ volatile("pushl %[fin]; popfl\n\t"
                         "fldl %[y]\n\tfldl %[x]\n\tfcomi %%st(1), %%st\n\t"
                         "pushfl; popl %[f]\n\tfstp %%st(0)\n\tfstp %%st(0)"
                         : [f] "=r"(f) : [x] "m"(cmp[i].x), [y] "m"(cmp[i].y), [fin] "r"(FL_FIXED | FL_ARITH) : "cc");
        CHECK_EQ_CTX(f & (FL_ZF | FL_PF | FL_CF), cmp[i].flags, "fcomi #%d", i);
        __asm__ volatile("fldl %[y]\n\tfldl %[x]\n\tfucomip %%st(1), %%st\n\t"
                         "pushfl; popl %[f]\n\tfstp %%st(0)"
                         : [f] "=r"(f) : [x] "m"(cmp[i].x), [y] "m"(cmp[i].y) : "cc");
        CHECK_EQ_CTX(f & (FL_ZF | FL_PF | FL_CF), cmp[i].flags, "fucomip #%d", i);
    }
    __asm__ volatile("fldl %[y]\n\tfldl %[x]\n\tfucomi %%st(1), %%st\n\t"
                     "pushfl; popl %[f]\n\tfstp %%st(0)\n\tfstp %%st(0)"
                     : [f] "=r"(f) : [x] "m"(qnan), [y] "m"(one) : "cc");
    CHECK_EQ(f & (FL_ZF | FL_PF | FL_CF), FL_ZF | FL_PF | FL_CF);
    CHECK_EQ(FSW_TOP(fnstsw()), 0);
    /* FCMOVcc uses the same flags */
    double r;
    __asm__ volatile("fldl %2\n\tfldl %1\n\tstc\n\tfcmovb %%st(1), %%st\n\tfstpl %0\n\tfstp %%st(0)"
                     : "=m"(r) : "m"(one), "m"(two) : "cc");
    CHECK_EQ(bits64(r), bits64(2.0));
}

/* --- MMX -------------------------------------------------------------------- */

static void test_mmx(void)
{
    static const uint64_t a = 0x80FF7F0102030405ull, b = 0x8001018104050607ull;
    uint64_t r;
    uint32_t lo;
    __asm__ volatile("movq %1, %%mm0\n\tpaddb %2, %%mm0\n\tmovq %%mm0, %0" : "=m"(r) : "m"(a), "m"(b));
    CHECK_EQ(r, 0x0000808206080A0Cull);                 /* per byte, wrapping: 80+80, FF+01, ... */
    __asm__ volatile("movq %1, %%mm1\n\tpmullw %2, %%mm1\n\tmovq %%mm1, %0" : "=m"(r) : "m"(a), "m"(b));
    /* low 16 bits of each signed 16x16 product */
    CHECK_EQ(r, ((uint64_t)(uint16_t)(0x80FF * 0x8001) << 48) | ((uint64_t)(uint16_t)(0x7F01 * 0x0181) << 32) |
                ((uint64_t)(uint16_t)(0x0203 * 0x0405) << 16) | (uint16_t)(0x0405 * 0x0607));
    __asm__ volatile("movq %1, %%mm2\n\tpaddd %2, %%mm2\n\tmovd %%mm2, %0" : "=r"(lo) : "m"(a), "m"(b));
    CHECK_EQ(lo, 0x02030405u + 0x04050607u);
    /* An MMX instruction marks all eight registers in use (FNSTENV then
     * classifies their contents, so only "not empty" (tag != 11b) is
     * certain); EMMS marks them all empty. */
    uint32_t tw = fnstenv().tw;
    CHECK_EQ(tw & (tw >> 1) & 0x5555, 0);
    __asm__ volatile("emms");
    CHECK_EQ(fnstenv().tw & 0xFFFF, 0xFFFF);
}

/* --- SSE -------------------------------------------------------------------- */

static uint8_t vbuf[64] __attribute__((aligned(16)));

static void test_sse(void)
{
    /* legacy-SSE memory operands of arithmetic instructions must be 16-byte aligned */
    static const float va[4] __attribute__((aligned(16))) = { 1.0f, 2.0f, 3.0f, 4.0f };
    static const float vb[4] __attribute__((aligned(16))) = { 0.5f, 0.25f, 0.125f, 0.0625f };
    static const float sq[4] __attribute__((aligned(16))) = { 4.0f, 9.0f, 2.0f, 0.25f };
    uint32_t r[4], f;
    /* unaligned MOVUPS through a misaligned buffer */
    memcpy(vbuf + 4, va, 16);
    __asm__ volatile("movups %1, %%xmm0\n\tmovups %2, %%xmm1\n\taddps %%xmm1, %%xmm0\n\tmovups %%xmm0, %0"
                     : "=m"(*(uint8_t(*)[16])(vbuf + 20)) : "m"(*(uint8_t(*)[16])(vbuf + 4)), "m"(vb));
    memcpy(r, vbuf + 20, 16);
    CHECK_EQ(r[0], 0x3FC00000);     /* 1.5 */
    CHECK_EQ(r[1], 0x40100000);     /* 2.25 */
    CHECK_EQ(r[2], 0x40480000);     /* 3.125 */
    CHECK_EQ(r[3], 0x40820000);     /* 4.0625 */
    __asm__ volatile("movups %1, %%xmm2\n\tmulps %2, %%xmm2\n\tmovups %%xmm2, %0" : "=m"(r) : "m"(va), "m"(va));
    CHECK_EQ(r[0], bits32(1.0f));
    CHECK_EQ(r[3], bits32(16.0f));
    __asm__ volatile("movups %1, %%xmm3\n\tsqrtps %%xmm3, %%xmm3\n\tmovups %%xmm3, %0" : "=m"(r) : "m"(sq));
    CHECK_EQ(r[0], 0x40000000);     /* 2 */
    CHECK_EQ(r[1], 0x40400000);     /* 3 */
    CHECK_EQ(r[2], 0x3FB504F3);     /* sqrt 2, correctly rounded to 24 bits */
    CHECK_EQ(r[3], 0x3F000000);     /* 0.5 */
    /* SHUFPS 1Bh: dst = { a[3], a[2], b[1], b[0] } */
    __asm__ volatile("movups %1, %%xmm4\n\tmovups %2, %%xmm5\n\tshufps $0x1B, %%xmm5, %%xmm4\n\tmovups %%xmm4, %0"
                     : "=m"(r) : "m"(va), "m"(vb));
    CHECK_EQ(r[0], bits32(4.0f));
    CHECK_EQ(r[1], bits32(3.0f));
    CHECK_EQ(r[2], bits32(0.25f));
    CHECK_EQ(r[3], bits32(0.5f));

    /* CVTSI2SS rounds by MXCSR.RC (bits 13-14): 2^24 + 1 is not a float */
    int32_t big = 16777217, o;
    __asm__ volatile("cvtsi2ss %1, %%xmm0\n\tmovd %%xmm0, %0" : "=r"(r[0]) : "r"(big));
    CHECK_EQ(r[0], 0x4B800000);     /* nearest (tie to even): 2^24 */
    ldmxcsr(0x1F80 | 2 << 13);      /* round up */
    CHECK_EQ(stmxcsr(), 0x5F80);
    __asm__ volatile("cvtsi2ss %1, %%xmm0\n\tmovd %%xmm0, %0" : "=r"(r[0]) : "m"(big));
    CHECK_EQ(r[0], 0x4B800001);     /* 2^24 + 2 */
    static const float two_half = 2.5f, two_nine = 2.9f;
    __asm__ volatile("cvtss2si %1, %0" : "=r"(o) : "m"(two_half));
    CHECK_EQ(o, 3);
    ldmxcsr(0x1F80);
    __asm__ volatile("cvtss2si %1, %0" : "=r"(o) : "m"(two_half));
    CHECK_EQ(o, 2);                 /* ties to even */
    __asm__ volatile("cvttss2si %1, %0" : "=r"(o) : "m"(two_nine));
    CHECK_EQ(o, 2);                 /* truncating form ignores RC */

    /* COMISS: ZF PF CF = 000 greater, 001 less, 100 equal, 111 unordered */
    static const float one = 1.0f, twof = 2.0f;
    static const uint32_t nanf = 0x7FC00000;
    ldmxcsr(0x1F80);                /* clear the sticky PE the conversions set */
    __asm__ volatile("pushl %[fin]; popfl\n\tmovss %1, %%xmm0\n\tcomiss %2, %%xmm0\n\tpushfl; popl %0"
                     : "=r"(f) : "m"(one), "m"(twof), [fin] "r"(FL_FIXED | FL_ARITH) : "cc");
    CHECK_EQ(f & FL_ARITH, FL_CF);
    __asm__ volatile("movss %1, %%xmm0\n\tcomiss %2, %%xmm0\n\tpushfl; popl %0"
                     : "=r"(f) : "m"(twof), "m"(twof) : "cc");
    CHECK_EQ(f & FL_ARITH, FL_ZF);
    __asm__ volatile("movss %1, %%xmm0\n\tucomiss %2, %%xmm0\n\tpushfl; popl %0"
                     : "=r"(f) : "m"(twof), "m"(nanf) : "cc");
    CHECK_EQ(f & FL_ARITH, FL_ZF | FL_PF | FL_CF);
    CHECK_EQ(stmxcsr() & 0x3F, 0);  /* UCOMISS with a QNaN raises nothing */
}

/* --- SSE2 ------------------------------------------------------------------- */

static void test_sse2(void)
{
    static const uint64_t qa[2] __attribute__((aligned(16))) = { 0x00000000FFFFFFFFull, 0x7FFFFFFFFFFFFFFFull };
    static const uint64_t qb[2] __attribute__((aligned(16))) = { 0x0000000000000001ull, 0x0000000000000001ull };
    uint64_t q[2] __attribute__((aligned(16)));
    uint32_t d[4];
    double r;
    int32_t o;

    __asm__ volatile("movdqu %1, %%xmm0\n\tpaddq %2, %%xmm0\n\tmovdqu %%xmm0, %0" : "=m"(q) : "m"(qa), "m"(qb));
    CHECK_EQ(q[0], 0x0000000100000000ull);      /* carries across the dword boundary */
    CHECK_EQ(q[1], 0x8000000000000000ull);
    __asm__ volatile("movdqa %1, %%xmm1\n\tpmuludq %1, %%xmm1\n\tmovdqa %%xmm1, %0" : "=m"(q) : "m"(qa));
    /* PMULUDQ multiplies the low dword of each qword: FFFFFFFF^2 twice */
    CHECK_EQ(q[0], 0xFFFFFFFE00000001ull);
    CHECK_EQ(q[1], 0xFFFFFFFE00000001ull);
    static const uint32_t dd[4] = { 0x11111111, 0x22222222, 0x33333333, 0x44444444 };
    __asm__ volatile("movdqu %1, %%xmm2\n\tpshufd $0x1B, %%xmm2, %%xmm3\n\tmovdqu %%xmm3, %0" : "=m"(d) : "m"(dd));
    CHECK_EQ(d[0], 0x44444444);
    CHECK_EQ(d[3], 0x11111111);
    /* PCMPEQB + PMOVMSKB, the strlen idiom */
    static const char text[16] = "abc\0efgh\0jklmno";
    __asm__ volatile("pxor %%xmm0, %%xmm0\n\tmovdqu %1, %%xmm1\n\tpcmpeqb %%xmm1, %%xmm0\n\tpmovmskb %%xmm0, %0"
                     : "=r"(d[0]) : "m"(text));
    CHECK_EQ(d[0], 0x8108);                     /* zero bytes at 3, 8 and 15 */

    static const double tenth = 0.1, fifth = 0.2, oned = 1.0, threed = 3.0, neg = -2.7, huge = 3e10;
    __asm__ volatile("movsd %1, %%xmm0\n\taddsd %2, %%xmm0\n\tmovsd %%xmm0, %0" : "=m"(r) : "m"(tenth), "m"(fifth));
    CHECK_EQ(bits64(r), 0x3FD3333333333334ull); /* 0.1 + 0.2 = 0.30000000000000004 */
    __asm__ volatile("movsd %1, %%xmm0\n\tdivsd %2, %%xmm0\n\tmovsd %%xmm0, %0" : "=m"(r) : "m"(oned), "m"(threed));
    CHECK_EQ(bits64(r), 0x3FD5555555555555ull);
    __asm__ volatile("cvttsd2si %1, %0" : "=r"(o) : "m"(neg));
    CHECK_EQ(o, -2);
    __asm__ volatile("cvttsd2si %1, %0" : "=r"(o) : "m"(huge));
    CHECK_EQ((uint32_t)o, 0x80000000);          /* out of range: integer indefinite, IE set */
    CHECK_EQ(stmxcsr() & 1, 1);
    ldmxcsr(0x1F80);
    /* MOVQ xmm, m64 zeroes bits 64-127; MOVQ m64, xmm stores the low half */
    static const uint64_t lowq = 0x0123456789ABCDEFull;
    __asm__ volatile("pcmpeqb %%xmm5, %%xmm5\n\tmovq %1, %%xmm5\n\tmovdqu %%xmm5, %0" : "=m"(q) : "m"(lowq));
    CHECK_EQ(q[0], 0x0123456789ABCDEFull);
    CHECK_EQ(q[1], 0);
    __asm__ volatile("pcmpeqb %%xmm6, %%xmm6\n\tmovq %%xmm6, %0" : "=m"(q[0]));
    CHECK_EQ(q[0], 0xFFFFFFFFFFFFFFFFull);
}

/* --- FXSAVE/FXRSTOR ---------------------------------------------------------- */

static uint8_t fxarea[512] __attribute__((aligned(16)));

static void test_fxsave(void)
{
    static const uint32_t pat[4] = { 0xDEADBEEF, 0x01234567, 0x89ABCDEF, 0xFEEDF00D };
    uint32_t r[4];
    __asm__ volatile("fninit\n\tfld1\n\tmovdqu %0, %%xmm0" : : "m"(pat));
    __asm__ volatile("fxsave %0" : "=m"(fxarea));
    /* layout: SDM Vol. 1 Table 10-2 */
    CHECK_EQ(fxarea[0] | fxarea[1] << 8, 0x037F);                   /* FCW */
    CHECK_EQ(FSW_TOP(fxarea[2] | fxarea[3] << 8), 7);               /* FSW.TOP after one push */
    CHECK_EQ(fxarea[4], 0x80);                                      /* abridged FTW: reg 7 valid */
    uint32_t mxcsr;
    memcpy(&mxcsr, &fxarea[24], 4);
    CHECK_EQ(mxcsr, 0x1F80);
    static const uint8_t one80[10] = { 0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF, 0x3F };
    CHECK_EQ(memcmp(&fxarea[32], one80, 10), 0);                     /* ST0 = 1.0 */
    CHECK_EQ(memcmp(&fxarea[160], pat, 16), 0);                      /* XMM0 */
    __asm__ volatile("pxor %%xmm0, %%xmm0\n\tfninit" ::: "memory");
    __asm__ volatile("fxrstor %0" : : "m"(fxarea));
    __asm__ volatile("movdqu %%xmm0, %0" : "=m"(r));
    CHECK_EQ(memcmp(r, pat, 16), 0);
    double d;
    __asm__ volatile("fstpl %0" : "=m"(d));
    CHECK_EQ(bits64(d), bits64(1.0));
}

/* --- guest FPU state across instructions the monitor emulates ------------------
 * XMM0-7 and an x87 stack are loaded, then CPUID, PUSHF/POPF, and (in the
 * kernel) OUT, IN, CLI/STI and a CR0 write run — each is a callout in bt86,
 * and the monitor's C code may use vector registers. Nothing may change. */
static void test_state_across_callouts(void)
{
    static uint32_t xin[8][4], xout[8][4];
    static const double x87in[4] = { 1.25, -2.5, 1e100, 3.0 };
    double x87out[4];
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++)
            xin[i][j] = 0x01010101u * (uint32_t)(i * 4 + j + 1) ^ 0x80000000u;
    __asm__ volatile("fninit\n\t"
                     "fldl 24(%1)\n\tfldl 16(%1)\n\tfldl 8(%1)\n\tfldl (%1)\n\t"
                     "movdqu 0(%0), %%xmm0\n\tmovdqu 16(%0), %%xmm1\n\t"
                     "movdqu 32(%0), %%xmm2\n\tmovdqu 48(%0), %%xmm3\n\t"
                     "movdqu 64(%0), %%xmm4\n\tmovdqu 80(%0), %%xmm5\n\t"
                     "movdqu 96(%0), %%xmm6\n\tmovdqu 112(%0), %%xmm7"
                     : : "r"(xin), "r"(x87in) : "memory");
    uint32_t id[4];
    cpuid(0, id);
    cpuid(1, id);
    __asm__ volatile("pushfl\n\tpopfl" ::: "cc");
#ifndef KERNEL_HOSTED
    outb(0xE9, '.');
    (void)inb(UART_LSR);
    (void)inl(0x300);
    cli();
    write_cr0(read_cr0());
    __asm__ volatile("pushfl\n\tpopfl" ::: "cc");
#endif
    __asm__ volatile("movdqu %%xmm0, 0(%0)\n\tmovdqu %%xmm1, 16(%0)\n\t"
                     "movdqu %%xmm2, 32(%0)\n\tmovdqu %%xmm3, 48(%0)\n\t"
                     "movdqu %%xmm4, 64(%0)\n\tmovdqu %%xmm5, 80(%0)\n\t"
                     "movdqu %%xmm6, 96(%0)\n\tmovdqu %%xmm7, 112(%0)\n\t"
                     "fstpl (%1)\n\tfstpl 8(%1)\n\tfstpl 16(%1)\n\tfstpl 24(%1)"
                     : : "r"(xout), "r"(x87out) : "memory");
    for (int i = 0; i < 8; i++)
        CHECK_EQ_CTX(memcmp(xin[i], xout[i], 16), 0, "xmm%d changed", i);
    CHECK_EQ(memcmp(x87in, x87out, sizeof x87in), 0);
    CHECK_EQ(fnstcw(), 0x037F);
    CHECK_EQ(stmxcsr(), 0x1F80);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    test_setup();
    test_x87_arith();
    test_x87_compare();
    test_mmx();
    test_sse();
    test_sse2();
    test_fxsave();
    test_state_across_callouts();
    test_finish("fpu");
}
