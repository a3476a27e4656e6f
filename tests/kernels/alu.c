/* alu.c — integer instructions and their flags.
 *
 * Most instructions here are copied by the translator byte for byte, so what
 * this tests is the rewriting around them: flags handed from one guest
 * instruction to the next across inserted code, PUSHF/POPF (virtualised),
 * and the encodings that mean something else in 64-bit mode: INC/DEC short
 * forms 40-4F (REX prefixes there), ModRM mod=00 rm=101 (RIP-relative there),
 * the moffs forms A0-A3, 0x82, SALC, XLAT with its implicit DS:[EBX+AL].
 *
 * Expected values come from a C model of the SDM's definitions (Vol. 1
 * 3.4.3.1 and the instruction pages in Vol. 2), checked over edge values and
 * pseudo-random operands, plus hand-worked vectors that pin the model down.
 * Flags the SDM leaves undefined for an instruction are masked out. */
#include "kernel.h"

/* Flags handed to POPF before an instruction: none set, or all six set. */
static const uint32_t flag_inputs[] = { FL_FIXED, FL_FIXED | FL_ARITH };

static uint32_t seed = 12345;
static uint32_t rnd(void)
{
    seed = seed * 1664525u + 1013904223u;
    return seed ^ (seed >> 15);
}

static const uint32_t edge[] = {
    0, 1, 2, 0x0F, 0x10, 0x7E, 0x7F, 0x80, 0x81, 0xFE, 0xFF, 0x100, 0x7FFF, 0x8000,
    0x8001, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFE, 0xFFFFFFFF,
};
#define NEDGE (int)(sizeof edge / sizeof edge[0])
#define NRAND 48
/* Operand i of the test set: the edge values, then pseudo-random ones. */
static uint32_t operand(int i)
{
    return i < NEDGE ? edge[i] : rnd();
}

static uint32_t mask_of(int bits) { return bits == 32 ? 0xFFFFFFFFu : (1u << bits) - 1; }
static uint32_t sign_of(int bits) { return 1u << (bits - 1); }

/* ZF SF PF of a result (PF: even number of ones in the low byte). */
static uint32_t szp(uint32_t r, int bits)
{
    uint32_t f = 0;
    r &= mask_of(bits);
    if (!r) f |= FL_ZF;
    if (r & sign_of(bits)) f |= FL_SF;
    uint32_t p = r & 0xFF;
    p ^= p >> 4;
    p ^= p >> 2;
    p ^= p >> 1;
    if (!(p & 1)) f |= FL_PF;
    return f;
}

/* Every check also requires the non-arithmetic flags to come back as they
 * went in (bit 1 set, DF clear); IF is masked: the native build runs with
 * IF=1 and POPF at CPL 3 cannot change it. */
static void check_flags(uint32_t got, uint32_t exp, uint32_t defined, const char *what,
                        int bits, uint32_t a, uint32_t b, uint32_t fin)
{
    CHECK_EQ_CTX(got & defined, exp & defined, "%s/%d a=0x%x b=0x%x flags in 0x%x", what, bits, a, b, fin);
    CHECK_EQ_CTX(got & ~(FL_ARITH | FL_IF), FL_FIXED, "%s/%d: non-arithmetic flags", what, bits);
}

/* --- two-operand ALU: ADD OR ADC SBB AND SUB XOR CMP TEST ---------------- */

enum { ADD, OR, ADC, SBB, AND, SUB, XOR, CMP, TEST };

static uint32_t ref_binop(int op, int bits, uint32_t d, uint32_t s, uint32_t fin,
                          uint32_t *fout, uint32_t *defined)
{
    uint32_t m = mask_of(bits), sign = sign_of(bits), r, f = 0;
    uint32_t c = (op == ADC || op == SBB) ? (fin & FL_CF) : 0;
    d &= m;
    s &= m;
    *defined = FL_ARITH;
    switch (op) {
    case ADD: case ADC:
        r = (d + s + c) & m;
        if ((uint64_t)d + s + c > m) f |= FL_CF;
        if ((d ^ r) & (s ^ r) & sign) f |= FL_OF;          /* both inputs differ in sign from r */
        f |= (d ^ s ^ r) & FL_AF;                          /* carry out of bit 3 */
        break;
    case SUB: case SBB: case CMP:
        r = (d - s - c) & m;
        if ((uint64_t)d < (uint64_t)s + c) f |= FL_CF;     /* borrow */
        if ((d ^ s) & (d ^ r) & sign) f |= FL_OF;
        f |= (d ^ s ^ r) & FL_AF;
        break;
    default:                                               /* logic: CF=OF=0, AF undefined */
        r = op == OR ? d | s : op == XOR ? d ^ s : d & s;
        *defined &= ~FL_AF;
        break;
    }
    *fout = f | szp(r, bits);
    return (op == CMP || op == TEST) ? d : r;
}

typedef uint32_t (*binop_fn)(uint32_t d, uint32_t s, uint32_t fin, uint32_t *fout);

/* "insn s, d" with EFLAGS = fin; returns d and the EFLAGS after. CD/CS are
 * the operand constraints: a register ("+q"/"+r") or memory ("+m"). */
#define BINOP_FN(name, insn, T, CD, CS)                                         \
    static uint32_t name(uint32_t d32, uint32_t s32, uint32_t fin, uint32_t *fout) \
    {                                                                           \
        T d = (T)d32, s = (T)s32;                                               \
        uint32_t f;                                                             \
        __asm__("pushl %[fin]\n\tpopfl\n\t" insn " %[s], %[d]\n\tpushfl\n\tpopl %[f]" \
                : [d] CD(d), [f] "=&r"(f)                                       \
                : [s] CS(s), [fin] "r"(fin)                                     \
                : "cc");                                                        \
        *fout = f;                                                              \
        return d;                                                               \
    }
#define BINOP_FNS(op)                                                           \
    BINOP_FN(op##8, #op "b", uint8_t, "+q", "q")                                \
    BINOP_FN(op##16, #op "w", uint16_t, "+r", "r")                              \
    BINOP_FN(op##32, #op "l", uint32_t, "+r", "r")                              \
    BINOP_FN(op##8m, #op "b", uint8_t, "+m", "q")                               \
    BINOP_FN(op##32m, #op "l", uint32_t, "+m", "r")
BINOP_FNS(add) BINOP_FNS(or) BINOP_FNS(adc) BINOP_FNS(sbb) BINOP_FNS(and)
BINOP_FNS(sub) BINOP_FNS(xor) BINOP_FNS(cmp) BINOP_FNS(test)

static const struct binop {
    const char *name;
    int op, bits;
    binop_fn fn;
} binops[] = {
#define BINOP_ROWS(op, OP)                                                      \
    { #op "b", OP, 8, op##8 }, { #op "w", OP, 16, op##16 }, { #op "l", OP, 32, op##32 }, \
    { #op "b mem", OP, 8, op##8m }, { #op "l mem", OP, 32, op##32m },
    BINOP_ROWS(add, ADD) BINOP_ROWS(or, OR) BINOP_ROWS(adc, ADC) BINOP_ROWS(sbb, SBB)
    BINOP_ROWS(and, AND) BINOP_ROWS(sub, SUB) BINOP_ROWS(xor, XOR) BINOP_ROWS(cmp, CMP)
    BINOP_ROWS(test, TEST)
};

static void test_binops(void)
{
    for (unsigned k = 0; k < sizeof binops / sizeof binops[0]; k++) {
        const struct binop *b = &binops[k];
        seed = 1000 + k;
        for (int i = 0; i < NEDGE + NRAND; i++) {
            uint32_t d = operand(i);
            for (int j = 0; j < NEDGE + NRAND; j += (i < NEDGE ? 1 : 7)) {
                uint32_t s = operand(j);
                for (int fi = 0; fi < 2; fi++) {
                    uint32_t fin = flag_inputs[fi], f, ef, def;
                    uint32_t r = b->fn(d, s, fin, &f);
                    uint32_t er = ref_binop(b->op, b->bits, d, s, fin, &ef, &def);
                    CHECK_EQ_CTX(r, er, "%s d=0x%x s=0x%x fin=0x%x", b->name, d, s, fin);
                    check_flags(f, ef, def, b->name, b->bits, d, s, fin);
                }
            }
        }
    }
}

/* Hand-worked vectors (SDM Vol. 1 3.4.3.1: CF carry/borrow out of the MSB,
 * OF signed overflow, AF carry/borrow out of bit 3, PF even parity of the
 * low byte, SF the MSB, ZF zero). Immediate forms, incl. the AL/EAX short
 * forms (04, 05, 2C, 2D) and the sign-extended imm8 form (83). */
static void test_alu_vectors(void)
{
    uint32_t r, f;

    r = 0x7FFFFFFF;     /* 05 id: add eax, 1 -> 0x80000000: OF SF AF PF(low byte 0) */
    __asm__("pushl %[fin]; popfl; addl $1, %[r]; pushfl; popl %[f]"
            : [r] "+a"(r), [f] "=&r"(f) : [fin] "r"(FL_FIXED) : "cc");
    CHECK_EQ(r, 0x80000000);
    CHECK_EQ(f & FL_ARITH, FL_OF | FL_SF | FL_AF | FL_PF);

    r = 0;              /* 83 /5 ib: sub ecx, 1 -> -1: CF (borrow) SF AF PF(8 ones) */
    __asm__("pushl %[fin]; popfl; subl $1, %[r]; pushfl; popl %[f]"
            : [r] "+c"(r), [f] "=&r"(f) : [fin] "r"(FL_FIXED) : "cc");
    CHECK_EQ(r, 0xFFFFFFFF);
    CHECK_EQ(f & FL_ARITH, FL_CF | FL_SF | FL_AF | FL_PF);

    r = 0xFF;           /* 04 ib: add al, 1 -> 0: CF ZF AF PF */
    __asm__("pushl %[fin]; popfl; addb $1, %b[r]; pushfl; popl %[f]"
            : [r] "+a"(r), [f] "=&r"(f) : [fin] "r"(FL_FIXED) : "cc");
    CHECK_EQ(r, 0);
    CHECK_EQ(f & FL_ARITH, FL_CF | FL_ZF | FL_AF | FL_PF);

    r = 0x80;           /* 2C ib: sub al, 1 -> 0x7F: OF AF, PF clear (7 ones) */
    __asm__("pushl %[fin]; popfl; subb $1, %b[r]; pushfl; popl %[f]"
            : [r] "+a"(r), [f] "=&r"(f) : [fin] "r"(FL_FIXED) : "cc");
    CHECK_EQ(r, 0x7F);
    CHECK_EQ(f & FL_ARITH, FL_OF | FL_AF);

    r = 0xFFFFFFFF;     /* adc with CF=1: -1 + 0 + 1 = 0, carry out: CF ZF AF PF */
    __asm__("pushl %[fin]; popfl; adcl $0, %[r]; pushfl; popl %[f]"
            : [r] "+r"(r), [f] "=&r"(f) : [fin] "r"(FL_FIXED | FL_CF) : "cc");
    CHECK_EQ(r, 0);
    CHECK_EQ(f & FL_ARITH, FL_CF | FL_ZF | FL_AF | FL_PF);

    r = 0;              /* sbb with CF=1: 0 - 0 - 1 = -1: CF SF AF PF */
    __asm__("pushl %[fin]; popfl; sbbl $0, %[r]; pushfl; popl %[f]"
            : [r] "+r"(r), [f] "=&r"(f) : [fin] "r"(FL_FIXED | FL_CF) : "cc");
    CHECK_EQ(r, 0xFFFFFFFF);
    CHECK_EQ(f & FL_ARITH, FL_CF | FL_SF | FL_AF | FL_PF);

    r = 10;             /* 83 /0 with imm8 0x83: the immediate is sign-extended, 10 + -125 = -115 */
    __asm__("pushl %[fin]; popfl; addl $-125, %[r]; pushfl; popl %[f]"
            : [r] "+r"(r), [f] "=&r"(f) : [fin] "r"(FL_FIXED) : "cc");
    CHECK_EQ(r, (uint32_t)-115);
    CHECK_EQ(f & (FL_CF | FL_OF | FL_SF | FL_ZF), FL_SF);   /* 10 + 0xFFFFFF83: no carry out */

    r = 0xF0F0F0F0;     /* and -> 0: ZF PF, CF OF cleared even when they were set */
    __asm__("pushl %[fin]; popfl; andl $0x0F0F0F0F, %[r]; pushfl; popl %[f]"
            : [r] "+r"(r), [f] "=&r"(f) : [fin] "r"(FL_FIXED | FL_CF | FL_OF) : "cc");
    CHECK_EQ(r, 0);
    CHECK_EQ(f & (FL_ARITH & ~FL_AF), FL_ZF | FL_PF);

    r = 0x8000;         /* 66 3D iw: cmp ax, 1: 0x8000 - 1 = 0x7FFF: OF AF PF(0xFF), ax unchanged */
    __asm__("pushl %[fin]; popfl; cmpw $1, %w[r]; pushfl; popl %[f]"
            : [r] "+a"(r), [f] "=&r"(f) : [fin] "r"(FL_FIXED) : "cc");
    CHECK_EQ(r, 0x8000);
    CHECK_EQ(f & FL_ARITH, FL_OF | FL_AF | FL_PF);
}

/* --- INC DEC NEG NOT, incl. the short forms 40-4F ------------------------ */

static uint32_t ref_unop(const char *op, int bits, uint32_t d, uint32_t fin, uint32_t *fout)
{
    uint32_t m = mask_of(bits), sign = sign_of(bits), r, f;
    d &= m;
    if (op[0] == 'i') {                 /* inc: like add 1, CF unchanged */
        r = (d + 1) & m;
        f = (fin & FL_CF) | ((d ^ 1 ^ r) & FL_AF) | (d == sign - 1 ? FL_OF : 0);
    } else if (op[0] == 'd') {          /* dec: like sub 1, CF unchanged */
        r = (d - 1) & m;
        f = (fin & FL_CF) | ((d ^ 1 ^ r) & FL_AF) | (d == sign ? FL_OF : 0);
    } else if (op[1] == 'e') {          /* neg: 0 - d, CF = (d != 0) */
        r = -d & m;
        f = (d ? FL_CF : 0) | ((d ^ r) & FL_AF) | (d == sign ? FL_OF : 0);
    } else {                            /* not: no flags */
        *fout = fin & FL_ARITH;
        return ~d & m;
    }
    *fout = f | szp(r, bits);
    return r;
}

#define UNOP_FN(name, insn, T, CD)                                              \
    static uint32_t name(uint32_t d32, uint32_t fin, uint32_t *fout)            \
    {                                                                           \
        T d = (T)d32;                                                           \
        uint32_t f;                                                             \
        __asm__("pushl %[fin]\n\tpopfl\n\t" insn " %[d]\n\tpushfl\n\tpopl %[f]" \
                : [d] CD(d), [f] "=&r"(f) : [fin] "r"(fin) : "cc");             \
        *fout = f;                                                              \
        return d;                                                               \
    }
/* incw/incl/decw/decl on a register are the one-byte 40+r/48+r forms */
#define UNOP_FNS(op)                                                            \
    UNOP_FN(op##8, #op "b", uint8_t, "+q") UNOP_FN(op##16, #op "w", uint16_t, "+r") \
    UNOP_FN(op##32, #op "l", uint32_t, "+r") UNOP_FN(op##16m, #op "w", uint16_t, "+m") \
    UNOP_FN(op##32m, #op "l", uint32_t, "+m")
UNOP_FNS(inc) UNOP_FNS(dec) UNOP_FNS(neg) UNOP_FNS(not)

static const struct unop {
    const char *name;
    int bits;
    uint32_t (*fn)(uint32_t d, uint32_t fin, uint32_t *fout);
} unops[] = {
#define UNOP_ROWS(op) { #op, 8, op##8 }, { #op, 16, op##16 }, { #op, 32, op##32 }, \
                      { #op, 16, op##16m }, { #op, 32, op##32m },
    UNOP_ROWS(inc) UNOP_ROWS(dec) UNOP_ROWS(neg) UNOP_ROWS(not)
};

static void test_unops(void)
{
    seed = 77;
    for (unsigned k = 0; k < sizeof unops / sizeof unops[0]; k++) {
        const struct unop *u = &unops[k];
        for (int i = 0; i < NEDGE + NRAND; i++) {
            uint32_t d = operand(i);
            for (int fi = 0; fi < 2; fi++) {
                uint32_t fin = flag_inputs[fi], f, ef;
                uint32_t r = u->fn(d, fin, &f);
                uint32_t er = ref_unop(u->name, u->bits, d, fin, &ef);
                CHECK_EQ_CTX(r, er, "%s/%d d=0x%x", u->name, u->bits, d);
                check_flags(f, ef, FL_ARITH, u->name, u->bits, d, 0, fin);
            }
        }
    }
}

/* Every register through the short forms 40-4F, including ESP (44, 4C) and
 * EBP (45, 4D), which the compiler cannot be asked to allocate. */
static uint32_t incdec_out[10];

static void test_incdec_short(void)
{
    __asm__ volatile(
        "pushl %%ebp\n\t"
        "movl $0x7FFFFFFF, %%eax\n\t"
        "movl $0xFFFFFFFF, %%ecx\n\t"
        "movl $0x0000FFFF, %%edx\n\t"
        "movl $0x80000000, %%ebx\n\t"
        "movl $0x00000010, %%ebp\n\t"
        "movl $0x00000001, %%esi\n\t"
        "movl $0x0000000F, %%edi\n\t"
        "stc\n\t"                       /* INC/DEC leave CF alone */
        "incl %%eax\n\t"                /* 40 */
        "incl %%ecx\n\t"                /* 41 */
        "incl %%edx\n\t"                /* 42 */
        "decl %%ebx\n\t"                /* 4B */
        "decl %%ebp\n\t"                /* 4D */
        "decl %%esi\n\t"                /* 4E */
        "incl %%edi\n\t"                /* 47: 0xF -> 0x10 sets AF only */
        "pushfl\n\t"
        "popl %c[o]+32\n\t"
        "movl %%eax, %c[o]\n\t"         /* A3: mov moffs32, eax */
        "movl %%ecx, %c[o]+4\n\t"       /* 89 0D disp32: mod=00 rm=101 */
        "movl %%edx, %c[o]+8\n\t"
        "movl %%ebx, %c[o]+12\n\t"
        "movl %%ebp, %c[o]+16\n\t"
        "movl %%esi, %c[o]+20\n\t"
        "movl %%edi, %c[o]+24\n\t"
        "movl %%esp, %%eax\n\t"
        "incl %%esp\n\t"                /* 44 */
        "movl %%esp, %%ecx\n\t"
        "decl %%esp\n\t"                /* 4C */
        "decl %%esp\n\t"
        "movl %%esp, %%edx\n\t"
        "incl %%esp\n\t"
        "subl %%eax, %%ecx\n\t"
        "subl %%eax, %%edx\n\t"
        "movl %%ecx, %c[o]+28\n\t"      /* +1 */
        "movl %%edx, %c[o]+36\n\t"      /* -1 */
        "popl %%ebp"
        : : [o] "i"(incdec_out)
        : "eax", "ecx", "edx", "ebx", "esi", "edi", "memory", "cc");
    CHECK_EQ(incdec_out[0], 0x80000000);
    CHECK_EQ(incdec_out[1], 0);
    CHECK_EQ(incdec_out[2], 0x10000);
    CHECK_EQ(incdec_out[3], 0x7FFFFFFF);
    CHECK_EQ(incdec_out[4], 0xF);
    CHECK_EQ(incdec_out[5], 0);
    CHECK_EQ(incdec_out[6], 0x10);
    CHECK_EQ(incdec_out[8] & FL_ARITH, FL_CF | FL_AF);
    CHECK_EQ(incdec_out[7], 1);
    CHECK_EQ(incdec_out[9], 0xFFFFFFFF);
}

/* --- absolute addressing: ModRM mod=00 rm=101, SIB without base, moffs ---- */

static uint32_t g32 = 0x11223344;
static uint16_t g16 = 0x5566;
static uint8_t g8 = 0x77;
static uint32_t gtab[4] = { 0xA0, 0xA1, 0xA2, 0xA3 };

static void test_absolute(void)
{
    uint32_t r, f;

    __asm__ volatile("movl %c1, %0" : "=c"(r) : "i"(&g32));            /* 8B 0D disp32 */
    CHECK_EQ(r, 0x11223344);
    __asm__ volatile("movl %c0, %%eax" : : "i"(&g32) : "eax");         /* A1 (moffs) */
    __asm__ volatile("movl %c1, %0" : "=a"(r) : "i"(&g32));
    CHECK_EQ(r, 0x11223344);
    __asm__ volatile("movb %c1, %b0" : "=a"(r) : "i"(&g8), "0"(0xFFFFFF00)); /* A0 */
    CHECK_EQ(r, 0xFFFFFF77);
    __asm__ volatile("movw %c1, %w0" : "=a"(r) : "i"(&g16), "0"(0xFFFF0000)); /* 66 A1 */
    CHECK_EQ(r, 0xFFFF5566);
    __asm__ volatile("movl %0, %c1" : : "a"(0xCAFEF00D), "i"(&g32) : "memory"); /* A3 */
    CHECK_EQ(g32, 0xCAFEF00D);
    __asm__ volatile("movb %b0, %c1" : : "a"(0x12345699), "i"(&g8) : "memory"); /* A2 */
    CHECK_EQ(g8, 0x99);
    __asm__ volatile("movw %w0, %c1" : : "a"(0x1234ABCD), "i"(&g16) : "memory"); /* 66 A3 */
    CHECK_EQ(g16, 0xABCD);

    g32 = 0xFFFFFFFF;                                                   /* FF 05 disp32: inc [abs] */
    __asm__ volatile("incl %c1\n\tpushfl\n\tpopl %0" : "=r"(f) : "i"(&g32) : "memory", "cc");
    CHECK_EQ(g32, 0);
    CHECK_EQ(f & (FL_ZF | FL_OF | FL_SF), FL_ZF);
    __asm__ volatile("addl %0, %c1" : : "r"(5), "i"(&g32) : "memory", "cc"); /* 01 05 disp32 */
    CHECK_EQ(g32, 5);
    __asm__ volatile("movb $0x5A, %c0" : : "i"(&g8) : "memory");       /* C6 05 disp32 ib */
    CHECK_EQ(g8, 0x5A);
    __asm__ volatile("cmpl $6, %c1\n\tpushfl\n\tpopl %0" : "=r"(f) : "i"(&g32) : "cc"); /* 83 3D disp32 ib */
    CHECK_EQ(f & (FL_CF | FL_ZF | FL_SF), FL_CF | FL_SF);                /* 5 - 6 borrows */
    __asm__ volatile("movl %c1(,%2,4), %0" : "=r"(r) : "i"(gtab), "r"(2)); /* SIB base=101: [idx*4+disp32] */
    CHECK_EQ(r, 0xA2);
    __asm__ volatile("leal %c1, %0" : "=r"(r) : "i"(&g16));            /* 8D 05 disp32 */
    CHECK_EQ(r, (uint32_t)&g16);
    __asm__ volatile("pushl %c1\n\tpopl %0" : "=r"(r) : "i"(&gtab[3]));  /* FF 35 disp32 */
    CHECK_EQ(r, 0xA3);
}

/* --- 0x82 (alias of 0x80, invalid in 64-bit mode), XLAT, SALC ------------ */

static void test_82_xlat_salc(void)
{
    uint32_t r, f;

    r = 0x1234567F;      /* 82 /0 ib, ModRM C0: add al, 1 */
    __asm__(".byte 0x82, 0xC0, 0x01\n\tpushfl\n\tpopl %1" : "+a"(r), "=r"(f) : : "cc");
    CHECK_EQ(r, 0x12345680);
    CHECK_EQ(f & FL_ARITH, FL_OF | FL_SF | FL_AF);
    r = 0x10;            /* 82 /5 ib, ModRM E8: sub al, 0x20 */
    __asm__(".byte 0x82, 0xE8, 0x20\n\tpushfl\n\tpopl %1" : "+a"(r), "=r"(f) : : "cc");
    CHECK_EQ(r, 0xF0);
    CHECK_EQ(f & (FL_CF | FL_ZF | FL_SF | FL_OF), FL_CF | FL_SF);
    r = 0x42;            /* 82 /7 ib, ModRM F8: cmp al, 0x42 */
    __asm__(".byte 0x82, 0xF8, 0x42\n\tpushfl\n\tpopl %1" : "+a"(r), "=r"(f) : : "cc");
    CHECK_EQ(r, 0x42);
    CHECK_EQ(f & FL_ARITH, FL_ZF | FL_PF);
    g8 = 0x0F;           /* 82 /1 ib, ModRM 0D disp32: or byte [g8], 0xF0 (and mod=00 rm=101) */
    __asm__ volatile(".byte 0x82, 0x0D\n\t.long %c0\n\t.byte 0xF0" : : "i"(&g8) : "memory", "cc");
    CHECK_EQ(g8, 0xFF);

    static uint8_t table[256];
    for (int i = 0; i < 256; i++)
        table[i] = (uint8_t)(i * 7 + 3);
    for (uint32_t i = 0; i < 256; i++) {   /* D7: AL = [EBX + AL], upper EAX kept */
        r = 0xABCDEF00 | i;
        __asm__("xlat" : "+a"(r) : "b"(table), "m"(table));
        CHECK_EQ_CTX(r, 0xABCDEF00 | (uint8_t)(i * 7 + 3), "xlat al=0x%x", i);
    }

    for (int cf = 0; cf < 2; cf++) {       /* D6: AL = CF ? FF : 00, no flags changed */
        uint32_t fin = FL_FIXED | (cf ? FL_ARITH : FL_ZF);
        r = 0x12345678;
        __asm__("pushl %[fin]; popfl; .byte 0xD6; pushfl; popl %[f]"
                : "+a"(r), [f] "=r"(f) : [fin] "r"(fin) : "cc");
        CHECK_EQ(r, cf ? 0x123456FF : 0x12345600);
        CHECK_EQ(f & FL_ARITH, fin & FL_ARITH);
    }
}

/* --- shifts and rotates (SDM Vol. 2B SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR) ---- */

enum { ROL, ROR, RCL, RCR, SHL, SHR, SAR };
static const char *const shift_names[] = { "rol", "ror", "rcl", "rcr", "shl", "shr", "sar" };

/* The SDM pseudo-code, step by step. *defined gets the flags that are
 * defined for this count. */
static uint32_t ref_shift(int op, int bits, uint32_t d, uint32_t count, uint32_t fin,
                          uint32_t *fout, uint32_t *defined)
{
    uint32_t m = mask_of(bits), msb = sign_of(bits);
    uint32_t c = count & 0x1F, cf = fin & FL_CF, of = fin & FL_OF, orig;
    uint32_t f = fin & FL_ARITH;
    d &= m;
    orig = d;
    *defined = FL_ARITH;
    if (c == 0) {                       /* masked count 0: nothing changes */
        *fout = f;
        return d;
    }
    if (op <= RCR) {                    /* rotates touch only CF and OF */
        /* ROL/ROR rotate by count mod size; RCL/RCR by count mod 9 (8-bit)
         * or mod 17 (16-bit), the 32-bit forms by the masked count */
        uint32_t t = op <= ROR ? c % bits : bits == 32 ? c : c % (bits + 1);
        if (op == RCR && c == 1)        /* RCR: OF from the operand before rotating */
            of = ((d & msb) ? 1 : 0) ^ (cf ? 1 : 0) ? FL_OF : 0;
        for (; t; t--) {
            uint32_t out;
            switch (op) {
            case ROL: out = d & msb; d = ((d << 1) | (out ? 1 : 0)) & m; break;
            case ROR: out = d & 1; d = (d >> 1) | (out ? msb : 0); break;
            case RCL: out = d & msb; d = ((d << 1) | (cf ? 1 : 0)) & m; cf = out ? FL_CF : 0; break;
            default:  out = d & 1; d = (d >> 1) | (cf ? msb : 0); cf = out ? FL_CF : 0; break;
            }
        }
        if (op == ROL) cf = (d & 1) ? FL_CF : 0;
        if (op == ROR) cf = (d & msb) ? FL_CF : 0;
        if (c == 1) {
            if (op == ROL || op == RCL) of = (((d & msb) != 0) ^ (cf != 0)) ? FL_OF : 0;
            if (op == ROR) of = (((d & msb) != 0) ^ ((d & (msb >> 1)) != 0)) ? FL_OF : 0;
        } else {
            *defined &= ~FL_OF;
        }
        *fout = (f & ~(FL_CF | FL_OF)) | cf | of;
        return d;
    }
    for (uint32_t t = c; t; t--) {
        if (op == SHL) {
            cf = (d & msb) ? FL_CF : 0;
            d = (d << 1) & m;
        } else {
            cf = (d & 1) ? FL_CF : 0;
            d = op == SAR ? (d >> 1) | (d & msb) : d >> 1;
        }
    }
    if (c == 1)
        of = op == SHL ? ((((d & msb) != 0) ^ (cf != 0)) ? FL_OF : 0)
           : op == SHR ? ((orig & msb) ? FL_OF : 0) : 0;
    else
        *defined &= ~FL_OF;
    *defined &= ~FL_AF;                 /* AF undefined for a non-zero count */
    if ((op == SHL || op == SHR) && c >= (uint32_t)bits)
        *defined &= ~FL_CF;             /* SHL/SHR: CF undefined if count >= size */
    *fout = cf | of | szp(d, bits);
    return d;
}

#define SHIFT_FN(name, insn, T, CD)                                             \
    static uint32_t name(uint32_t d32, uint32_t cnt, uint32_t fin, uint32_t *fout) \
    {                                                                           \
        T d = (T)d32;                                                           \
        uint32_t f;                                                             \
        __asm__("pushl %[fin]\n\tpopfl\n\t" insn " %%cl, %[d]\n\tpushfl\n\tpopl %[f]" \
                : [d] CD(d), [f] "=&r"(f) : "c"(cnt), [fin] "r"(fin) : "cc");   \
        *fout = f;                                                              \
        return d;                                                               \
    }
#define SHIFT_FNS(op)                                                           \
    SHIFT_FN(op##8, #op "b", uint8_t, "+q") SHIFT_FN(op##16, #op "w", uint16_t, "+r") \
    SHIFT_FN(op##32, #op "l", uint32_t, "+r") SHIFT_FN(op##32m, #op "l", uint32_t, "+m")
SHIFT_FNS(rol) SHIFT_FNS(ror) SHIFT_FNS(rcl) SHIFT_FNS(rcr)
SHIFT_FNS(shl) SHIFT_FNS(shr) SHIFT_FNS(sar)

typedef uint32_t (*shift_fn)(uint32_t d, uint32_t cnt, uint32_t fin, uint32_t *fout);
static const struct { int op, bits; shift_fn fn; } shifts[] = {
#define SHIFT_ROWS(op, OP) { OP, 8, op##8 }, { OP, 16, op##16 }, { OP, 32, op##32 }, { OP, 32, op##32m },
    SHIFT_ROWS(rol, ROL) SHIFT_ROWS(ror, ROR) SHIFT_ROWS(rcl, RCL) SHIFT_ROWS(rcr, RCR)
    SHIFT_ROWS(shl, SHL) SHIFT_ROWS(shr, SHR) SHIFT_ROWS(sar, SAR)
};

static void test_shifts(void)
{
    static const uint32_t counts[] = { 32, 33, 40, 63, 64, 65, 255 };  /* masked to 5 bits */
    seed = 4242;
    for (unsigned k = 0; k < sizeof shifts / sizeof shifts[0]; k++) {
        int op = shifts[k].op, bits = shifts[k].bits;
        for (int i = 0; i < NEDGE + 12; i++) {
            uint32_t d = operand(i);
            for (uint32_t n = 0; n < 32 + 7; n++) {
                uint32_t cnt = n < 32 ? n : counts[n - 32];
                for (int fi = 0; fi < 2; fi++) {
                    uint32_t fin = flag_inputs[fi], f, ef, def;
                    uint32_t r = shifts[k].fn(d, cnt, fin, &f);
                    uint32_t er = ref_shift(op, bits, d, cnt, fin, &ef, &def);
                    CHECK_EQ_CTX(r, er, "%s/%d d=0x%x count=%u fin=0x%x", shift_names[op], bits, d, cnt, fin);
                    check_flags(f, ef, def, shift_names[op], bits, d, cnt, fin);
                }
            }
        }
    }

    /* The count-1 (D1/D0) and imm8 (C1/C0) encodings. */
    uint32_t r = 0x81, f;
    __asm__("clc; rolb $1, %b0; pushfl; popl %1" : "+q"(r), "=r"(f) : : "cc");  /* D0 /0 */
    CHECK_EQ(r, 0x03);
    CHECK_EQ(f & (FL_CF | FL_OF), FL_CF | FL_OF); /* CF = new LSB = 1; OF = new MSB ^ CF = 0 ^ 1 */
    r = 0x40000000;
    __asm__("shll $1, %0; pushfl; popl %1" : "+r"(r), "=r"(f) : : "cc");        /* D1 /4 */
    CHECK_EQ(r, 0x80000000);
    CHECK_EQ(f & (FL_CF | FL_OF | FL_SF | FL_ZF), FL_OF | FL_SF);
    r = 0x80000001;
    __asm__("sarl $4, %0; pushfl; popl %1" : "+r"(r), "=r"(f) : : "cc");        /* C1 /7 ib */
    CHECK_EQ(r, 0xF8000000);
    CHECK_EQ(f & (FL_CF | FL_SF | FL_ZF), FL_SF); /* last bit out is bit 3 = 0 */
    r = 0x0001;
    __asm__("stc; rcrw $1, %w0; pushfl; popl %1" : "+r"(r), "=r"(f) : : "cc"); /* 66 D1 /3 */
    CHECK_EQ(r, 0x8000);
    CHECK_EQ(f & (FL_CF | FL_OF), FL_CF | FL_OF); /* OF = old MSB(0) ^ old CF(1) */
}

/* SHLD/SHRD (SDM Vol. 2B): count mod 32; result undefined for a 16-bit
 * operand and count > 16; OF defined only for count 1; AF undefined. */
static uint32_t ref_shd(int left, int bits, uint32_t d, uint32_t s, uint32_t count, uint32_t fin,
                        uint32_t *fout, uint32_t *defined)
{
    uint32_t m = mask_of(bits), msb = sign_of(bits), c = count & 31, r, cf;
    d &= m;
    s &= m;
    *defined = FL_ARITH & ~FL_AF;
    if (c == 0) {
        *fout = fin & FL_ARITH;
        *defined = FL_ARITH;
        return d;
    }
    uint64_t wide;
    if (left) {
        wide = ((uint64_t)d << bits | s) << c;            /* d:s shifted left */
        r = (uint32_t)(wide >> bits) & m;
        cf = (d >> (bits - c)) & 1;
    } else {
        wide = ((uint64_t)s << bits | d) >> c;            /* s:d shifted right */
        r = (uint32_t)wide & m;
        cf = (d >> (c - 1)) & 1;
    }
    if (c != 1)
        *defined &= ~FL_OF;
    *fout = (cf ? FL_CF : 0) | (((d ^ r) & msb) ? FL_OF : 0) | szp(r, bits);
    return r;
}

#define SHD_FN(name, insn, T)                                                   \
    static uint32_t name(uint32_t d32, uint32_t s32, uint32_t cnt, uint32_t fin, uint32_t *fout) \
    {                                                                           \
        T d = (T)d32, s = (T)s32;                                               \
        uint32_t f;                                                             \
        __asm__("pushl %[fin]\n\tpopfl\n\t" insn " %%cl, %[s], %[d]\n\tpushfl\n\tpopl %[f]" \
                : [d] "+r"(d), [f] "=&r"(f) : [s] "r"(s), "c"(cnt), [fin] "r"(fin) : "cc"); \
        *fout = f;                                                              \
        return d;                                                               \
    }
SHD_FN(shld16, "shldw", uint16_t) SHD_FN(shld32, "shldl", uint32_t)
SHD_FN(shrd16, "shrdw", uint16_t) SHD_FN(shrd32, "shrdl", uint32_t)

static void test_shld_shrd(void)
{
    seed = 99;
    for (int k = 0; k < 4; k++) {
        int left = k < 2, bits = (k & 1) ? 32 : 16;
        uint32_t (*fn)(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t *) =
            k == 0 ? shld16 : k == 1 ? shld32 : k == 2 ? shrd16 : shrd32;
        for (int i = 0; i < 24; i++) {
            uint32_t d = operand(i % 2 ? i : NEDGE + i), s = rnd();
            for (uint32_t c = 0; c <= (uint32_t)(bits == 16 ? 16 : 31); c++) {
                for (int fi = 0; fi < 2; fi++) {
                    uint32_t fin = flag_inputs[fi], f, ef, def;
                    uint32_t r = fn(d, s, c, fin, &f);
                    uint32_t er = ref_shd(left, bits, d, s, c, fin, &ef, &def);
                    CHECK_EQ_CTX(r, er, "sh%cd/%d d=0x%x s=0x%x count=%u", left ? 'l' : 'r', bits, d, s, c);
                    check_flags(f, ef, def, left ? "shld" : "shrd", bits, d, s, fin);
                }
            }
        }
    }
    uint32_t d = 0x12345678;        /* imm8 form: 0F A4 */
    __asm__("shldl $8, %1, %0" : "+r"(d) : "r"(0x9ABCDEF0) : "cc");
    CHECK_EQ(d, 0x3456789A);
    d = 0x12345678;                 /* 0F AC */
    __asm__("shrdl $12, %1, %0" : "+r"(d) : "r"(0x9ABCDEF0) : "cc");
    CHECK_EQ(d, 0xEF012345);
}

/* --- MUL IMUL DIV IDIV ---------------------------------------------------- */

static void test_muldiv(void)
{
    uint32_t lo, hi, f;

    /* MUL r/m8: AX = AL * src; CF = OF = (AH != 0). SF ZF AF PF undefined. */
    lo = 0xFFFF0080;
    __asm__("mulb %b2; pushfl; popl %1" : "+a"(lo), "=r"(f) : "q"(2) : "cc");
    CHECK_EQ(lo, 0xFFFF0100);
    CHECK_EQ(f & (FL_CF | FL_OF), FL_CF | FL_OF);
    lo = 0x0000000F;
    __asm__("mulb %b2; pushfl; popl %1" : "+a"(lo), "=r"(f) : "q"(0x11) : "cc");
    CHECK_EQ(lo, 0xFF);
    CHECK_EQ(f & (FL_CF | FL_OF), 0);
    /* MUL r/m16: DX:AX */
    lo = 0xAAAA1234; hi = 0xBBBB0000;
    __asm__("mulw %w3; pushfl; popl %2" : "+a"(lo), "+d"(hi), "=r"(f) : "r"(0x100) : "cc");
    CHECK_EQ(lo, 0xAAAA3400);
    CHECK_EQ(hi, 0xBBBB0012);
    CHECK_EQ(f & (FL_CF | FL_OF), FL_CF | FL_OF);
    /* MUL r/m32: EDX:EAX */
    lo = 0xFFFFFFFF;
    __asm__("mull %3; pushfl; popl %2" : "+a"(lo), "=d"(hi), "=r"(f) : "r"(0xFFFFFFFF) : "cc");
    CHECK_EQ(lo, 1);
    CHECK_EQ(hi, 0xFFFFFFFE);
    CHECK_EQ(f & (FL_CF | FL_OF), FL_CF | FL_OF);
    static uint32_t mop = 3;        /* memory operand */
    lo = 0x55555555;
    __asm__("mull %3; pushfl; popl %2" : "+a"(lo), "=d"(hi), "=r"(f) : "m"(mop) : "cc");
    CHECK_EQ(lo, 0xFFFFFFFF);
    CHECK_EQ(hi, 0);
    CHECK_EQ(f & (FL_CF | FL_OF), 0);

    /* IMUL one operand: CF = OF = (result != sign extension of its low half). */
    lo = 0xFFFFFF80;                /* AL = -128 * -1 = 128: does not fit in AL */
    __asm__("imulb %b2; pushfl; popl %1" : "+a"(lo), "=r"(f) : "q"(0xFF) : "cc");
    CHECK_EQ(lo & 0xFFFF, 0x0080);
    CHECK_EQ(f & (FL_CF | FL_OF), FL_CF | FL_OF);
    lo = 0xFFFFFFF0;                /* -16 * 4 = -64: fits */
    __asm__("imull %3; pushfl; popl %2" : "+a"(lo), "=d"(hi), "=r"(f) : "r"(4) : "cc");
    CHECK_EQ(lo, 0xFFFFFFC0);
    CHECK_EQ(hi, 0xFFFFFFFF);
    CHECK_EQ(f & (FL_CF | FL_OF), 0);
    /* IMUL r, r/m (0F AF), r, r/m, imm8 (6B), r, r/m, imm32 (69): truncated. */
    lo = 0x10000;
    __asm__("imull %2, %0; pushfl; popl %1" : "+r"(lo), "=r"(f) : "r"(0x10000) : "cc");
    CHECK_EQ(lo, 0);
    CHECK_EQ(f & (FL_CF | FL_OF), FL_CF | FL_OF);
    __asm__("imull $-3, %2, %0; pushfl; popl %1" : "=r"(lo), "=r"(f) : "r"(7) : "cc");
    CHECK_EQ(lo, (uint32_t)-21);
    CHECK_EQ(f & (FL_CF | FL_OF), 0);
    __asm__("imull $100000, %2, %0; pushfl; popl %1" : "=r"(lo), "=r"(f) : "m"(mop) : "cc");
    CHECK_EQ(lo, 300000);
    CHECK_EQ(f & (FL_CF | FL_OF), 0);
    lo = 0x4000;                    /* 16-bit: 0x4000 * 2 = 0x8000 overflows signed 16 */
    __asm__("imulw $2, %w0, %w0; pushfl; popl %1" : "+r"(lo), "=r"(f) : : "cc");
    CHECK_EQ(lo & 0xFFFF, 0x8000);
    CHECK_EQ(f & (FL_CF | FL_OF), FL_CF | FL_OF);

    /* DIV/IDIV: quotient truncated toward zero, remainder has the dividend's
     * sign (SDM Vol. 2A DIV, IDIV). All flags undefined. */
    lo = 0x12340000 | 1000;
    __asm__("divb %b1" : "+a"(lo) : "q"(7) : "cc");          /* AL = 142, AH = 6 */
    CHECK_EQ(lo, 0x12340000 | (6 << 8) | 142);
    lo = 0x5678; hi = 0x1234;
    __asm__("divw %w2" : "+a"(lo), "+d"(hi) : "r"(0x4000) : "cc");  /* 0x12345678 / 0x4000 */
    CHECK_EQ(lo & 0xFFFF, 0x48D1);
    CHECK_EQ(hi & 0xFFFF, 0x1678);
    lo = 0x00000005; hi = 0x00000001;                        /* 0x1_00000005 / 3 */
    __asm__("divl %2" : "+a"(lo), "+d"(hi) : "r"(3) : "cc");
    CHECK_EQ(lo, 0x55555557);
    CHECK_EQ(hi, 0);
    lo = (uint32_t)-7; hi = 0xFFFFFFFF;                      /* -7 / 2 = -3 rem -1 */
    __asm__("idivl %2" : "+a"(lo), "+d"(hi) : "r"(2) : "cc");
    CHECK_EQ(lo, (uint32_t)-3);
    CHECK_EQ(hi, (uint32_t)-1);
    lo = 7; hi = 0;                                          /* 7 / -2 = -3 rem 1 */
    __asm__("idivl %2" : "+a"(lo), "+d"(hi) : "m"(*(const uint32_t[]){ (uint32_t)-2 }) : "cc");
    CHECK_EQ(lo, (uint32_t)-3);
    CHECK_EQ(hi, 1);
    lo = 0xFF9C;                                             /* AX = -100 / 7: AL = -14, AH = -2 */
    __asm__("idivb %b1" : "+a"(lo) : "q"(7) : "cc");
    CHECK_EQ(lo & 0xFFFF, 0xFEF2);
    lo = 0x8000; hi = 0xFFFF;                                /* DX:AX = -32768 / -256 = 128 rem 0 */
    __asm__("idivw %w2" : "+a"(lo), "+d"(hi) : "r"(0xFF00) : "cc");
    CHECK_EQ(lo & 0xFFFF, 128);
    CHECK_EQ(hi & 0xFFFF, 0);
}

/* --- BT BTS BTR BTC, BSF BSR, BSWAP -------------------------------------- */

static void test_bits(void)
{
    static uint32_t bits[4];
    uint32_t f, r, b;

    /* Register operand: the offset is taken modulo 32. CF = the bit; ZF is
     * unaffected; OF SF AF PF undefined. */
    __asm__("stc; btl %2, %1; pushfl; popl %0" : "=r"(f) : "r"(0x80000000), "r"(63) : "cc");
    CHECK_EQ(f & FL_CF, FL_CF);
    __asm__("xorl %0, %0; btl %2, %1; pushfl; popl %0" : "=&r"(f) : "r"(0x80000000), "r"(30) : "cc");
    CHECK_EQ(f & (FL_CF | FL_ZF), FL_ZF);           /* ZF from the XOR survives */
    r = 0x0F;
    __asm__("btsl %2, %0; pushfl; popl %1" : "+r"(r), "=r"(f) : "r"(4) : "cc");
    CHECK_EQ(r, 0x1F);
    CHECK_EQ(f & FL_CF, 0);
    __asm__("btrl $3, %0; pushfl; popl %1" : "+r"(r), "=r"(f) : : "cc");
    CHECK_EQ(r, 0x17);
    CHECK_EQ(f & FL_CF, FL_CF);
    __asm__("btcl $31, %0; pushfl; popl %1" : "+r"(r), "=r"(f) : : "cc");
    CHECK_EQ(r, 0x80000017);
    CHECK_EQ(f & FL_CF, 0);
    r = 0x8000;
    __asm__("btw %w2, %w1; pushfl; popl %0" : "=r"(f) : "r"(r), "r"(31) : "cc"); /* 31 mod 16 = 15 */
    CHECK_EQ(f & FL_CF, FL_CF);

    /* Memory operand with a register offset: a bit string, the offset is
     * signed and not masked (Vol. 2A 3.1.1.9 "Bit(BitBase, BitOffset)"). */
    bits[0] = 0x80000000; bits[1] = 0; bits[2] = 0; bits[3] = 0x1;
    __asm__("btl %2, %1; pushfl; popl %0" : "=r"(f) : "m"(bits[1]), "r"(-1) : "cc", "memory");
    CHECK_EQ(f & FL_CF, FL_CF);                      /* bits[1] bit -1 = bits[0] bit 31 */
    __asm__("btsl %1, %0" : "+m"(bits) : "r"(70) : "cc");       /* bits[2] bit 6 */
    __asm__("btcl %1, %0" : "+m"(bits) : "r"(96) : "cc");       /* bits[3] bit 0: 1 -> 0 */
    __asm__("btrl %1, %0" : "+m"(bits) : "r"(31) : "cc");       /* bits[0] bit 31 */
    __asm__("lock btsl %1, %0" : "+m"(bits) : "r"(33) : "cc");  /* bits[1] bit 1 */
    CHECK_EQ(bits[0], 0);
    CHECK_EQ(bits[1], 2);
    CHECK_EQ(bits[2], 0x40);
    CHECK_EQ(bits[3], 0);
    /* With an immediate the offset is taken modulo the operand size. */
    __asm__("btsl $33, %0" : "+m"(bits[0]) : : "cc");
    CHECK_EQ(bits[0], 2);
    CHECK_EQ(bits[1], 2);

    /* BSF/BSR: ZF=1 and destination undefined for a zero source. */
    __asm__("bsfl %2, %0; pushfl; popl %1" : "=r"(b), "=r"(f) : "r"(0x00F00000) : "cc");
    CHECK_EQ(b, 20);
    CHECK_EQ(f & FL_ZF, 0);
    __asm__("bsrl %2, %0; pushfl; popl %1" : "=r"(b), "=r"(f) : "r"(0x00F00000) : "cc");
    CHECK_EQ(b, 23);
    CHECK_EQ(f & FL_ZF, 0);
    __asm__("bsrl %2, %0; pushfl; popl %1" : "=r"(b), "=r"(f) : "m"(*(const uint32_t[]){ 1 }) : "cc");
    CHECK_EQ(b, 0);
    __asm__("bsfw %w2, %w0; pushfl; popl %1" : "=r"(b), "=r"(f) : "r"(0x8000) : "cc");
    CHECK_EQ(b & 0xFFFF, 15);
    __asm__("bsfl %2, %0; pushfl; popl %1" : "=r"(b), "=r"(f) : "r"(0), "0"(0) : "cc");
    CHECK_EQ(f & FL_ZF, FL_ZF);
    __asm__("bsrl %2, %0; pushfl; popl %1" : "=r"(b), "=r"(f) : "r"(0), "0"(0) : "cc");
    CHECK_EQ(f & FL_ZF, FL_ZF);

    r = 0x12345678;
    __asm__("bswap %0" : "+r"(r));
    CHECK_EQ(r, 0x78563412);
    __asm__("bswap %0" : "+a"(r));
    CHECK_EQ(r, 0x12345678);
}

/* --- XCHG XADD CMPXCHG CMPXCHG8B ----------------------------------------- */

static void test_exchange(void)
{
    static uint32_t m32;
    static uint16_t m16;
    static uint8_t m8;
    static uint64_t m64;
    uint32_t a, b, f;

    a = 1; b = 2;
    __asm__("xchgl %0, %1" : "+r"(a), "+r"(b));
    CHECK_EQ(a, 2);
    CHECK_EQ(b, 1);
    a = 0x11; b = 0x22;
    __asm__("xchgl %%eax, %%ecx" : "+a"(a), "+c"(b));     /* 91 (one-byte form) */
    CHECK_EQ(a, 0x22);
    CHECK_EQ(b, 0x11);
    m32 = 0xAAAA; a = 0xBBBB;
    __asm__("xchgl %0, %1" : "+r"(a), "+m"(m32));           /* implicitly locked */
    CHECK_EQ(a, 0xAAAA);
    CHECK_EQ(m32, 0xBBBB);
    m8 = 0x12; a = 0xFFFFFF34;
    __asm__("xchgb %b0, %1" : "+q"(a), "+m"(m8));
    CHECK_EQ(a, 0xFFFFFF12);
    CHECK_EQ(m8, 0x34);

    /* XADD: dest = dest + src, src = old dest; flags as ADD. */
    m32 = 0x7FFFFFFF; a = 1;
    __asm__("lock xaddl %0, %1; pushfl; popl %2" : "+r"(a), "+m"(m32), "=r"(f) : : "cc");
    CHECK_EQ(a, 0x7FFFFFFF);
    CHECK_EQ(m32, 0x80000000);
    CHECK_EQ(f & FL_ARITH, FL_OF | FL_SF | FL_AF | FL_PF);
    a = 0xFF; b = 0x01;
    __asm__("xaddb %b1, %b0; pushfl; popl %2" : "+q"(a), "+q"(b), "=r"(f) : : "cc");
    CHECK_EQ(a, 0x00);
    CHECK_EQ(b, 0xFF);
    CHECK_EQ(f & (FL_CF | FL_ZF), FL_CF | FL_ZF);

    /* CMPXCHG: flags as CMP accumulator, dest; equal: dest = src;
     * not equal: accumulator = dest. */
    m32 = 100; a = 100;
    __asm__("lock cmpxchgl %3, %1; pushfl; popl %2" : "+a"(a), "+m"(m32), "=r"(f) : "r"(555) : "cc");
    CHECK_EQ(m32, 555);
    CHECK_EQ(a, 100);
    CHECK_EQ(f & (FL_ZF | FL_CF), FL_ZF);
    a = 99;
    __asm__("cmpxchgl %3, %1; pushfl; popl %2" : "+a"(a), "+m"(m32), "=r"(f) : "r"(777) : "cc");
    CHECK_EQ(m32, 555);
    CHECK_EQ(a, 555);
    CHECK_EQ(f & (FL_ZF | FL_CF | FL_SF), FL_CF | FL_SF);    /* 99 - 555 */
    m16 = 0x1234; a = 0xFFFF1234;
    __asm__("cmpxchgw %w3, %1; pushfl; popl %2" : "+a"(a), "+m"(m16), "=r"(f) : "r"(0xBEEF) : "cc");
    CHECK_EQ(m16, 0xBEEF);
    CHECK_EQ(f & FL_ZF, FL_ZF);
    m8 = 0x80; a = 0x7F;
    __asm__("cmpxchgb %b3, %1; pushfl; popl %2" : "+a"(a), "+m"(m8), "=r"(f) : "q"(1) : "cc");
    CHECK_EQ(a, 0x80);
    CHECK_EQ(m8, 0x80);
    CHECK_EQ(f & FL_ARITH, FL_CF | FL_PF | FL_SF | FL_OF);   /* 0x7F - 0x80 = 0xFF, no nibble borrow */
    b = 5; a = 5;                    /* register destination */
    __asm__("cmpxchgl %2, %1" : "+a"(a), "+r"(b) : "r"(6) : "cc");
    CHECK_EQ(b, 6);

    /* CMPXCHG8B: compare EDX:EAX with m64; only ZF changes. */
    uint32_t lo = 0x89ABCDEF, hi = 0x01234567;
    m64 = 0x0123456789ABCDEFull;
    __asm__("pushl %[fin]; popfl; lock cmpxchg8b %[m]; pushfl; popl %[f]"
            : "+a"(lo), "+d"(hi), [m] "+m"(m64), [f] "=r"(f)
            : "b"(0xDDDDDDDD), "c"(0xCCCCCCCC), [fin] "r"(FL_FIXED | FL_CF | FL_PF | FL_AF | FL_SF | FL_OF)
            : "cc");
    CHECK_EQ(m64, 0xCCCCCCCCDDDDDDDDull);
    CHECK_EQ(f & FL_ARITH, FL_ARITH);
    __asm__("pushl %[fin]; popfl; cmpxchg8b %[m]; pushfl; popl %[f]"
            : "+a"(lo), "+d"(hi), [m] "+m"(m64), [f] "=r"(f)
            : "b"(0), "c"(0), [fin] "r"(FL_FIXED | FL_ZF)
            : "cc");
    CHECK_EQ(lo, 0xDDDDDDDD);
    CHECK_EQ(hi, 0xCCCCCCCC);
    CHECK_EQ(m64, 0xCCCCCCCCDDDDDDDDull);
    CHECK_EQ(f & FL_ARITH, 0);
}

/* --- SETcc CMOVcc --------------------------------------------------------- */

/* Condition codes in encoding order (SDM Vol. 1 Appendix B). */
static int cond_holds(int cc, uint32_t f)
{
    int cf = !!(f & FL_CF), pf = !!(f & FL_PF), zf = !!(f & FL_ZF);
    int sf = !!(f & FL_SF), of = !!(f & FL_OF), r;
    switch (cc >> 1) {
    case 0: r = of; break;                  /* O */
    case 1: r = cf; break;                  /* B */
    case 2: r = zf; break;                  /* E */
    case 3: r = cf || zf; break;            /* BE */
    case 4: r = sf; break;                  /* S */
    case 5: r = pf; break;                  /* P */
    case 6: r = sf != of; break;            /* L */
    default: r = zf || sf != of; break;     /* LE */
    }
    return (cc & 1) ? !r : r;
}

#define CC_LIST(X) X(o) X(no) X(b) X(ae) X(e) X(ne) X(be) X(a) X(s) X(ns) X(p) X(np) X(l) X(ge) X(le) X(g)
#define SETCC_FN(cc)                                                            \
    static uint32_t set_##cc(uint32_t fin)                                      \
    {                                                                           \
        uint32_t r = 0xAAAAAAAA;                                                \
        __asm__("pushl %1; popfl; set" #cc " %b0" : "+q"(r) : "r"(fin) : "cc"); \
        return r;                                                               \
    }                                                                           \
    static uint32_t setm_##cc(uint32_t fin)                                     \
    {                                                                           \
        uint8_t m = 0x55;                                                       \
        __asm__("pushl %1; popfl; set" #cc " %0" : "+m"(m) : "r"(fin) : "cc");  \
        return m;                                                               \
    }                                                                           \
    static uint32_t cmov_##cc(uint32_t fin)                                     \
    {                                                                           \
        uint32_t r = 0x11111111;                                                \
        __asm__("pushl %1; popfl; cmov" #cc "l %2, %0" : "+r"(r) : "r"(fin), "r"(0x22222222) : "cc"); \
        return r;                                                               \
    }                                                                           \
    static uint32_t cmovm_##cc(uint32_t fin)                                    \
    {                                                                           \
        uint32_t r = 0x1111;                                                    \
        static const uint16_t src = 0x2222;                                     \
        __asm__("pushl %1; popfl; cmov" #cc "w %2, %w0" : "+r"(r) : "r"(fin), "m"(src) : "cc"); \
        return r;                                                               \
    }
CC_LIST(SETCC_FN)

static void test_setcc_cmov(void)
{
    static uint32_t (*const set[16])(uint32_t) = {
#define SET_PTR(cc) set_##cc,
        CC_LIST(SET_PTR)
    };
    static uint32_t (*const setm[16])(uint32_t) = {
#define SETM_PTR(cc) setm_##cc,
        CC_LIST(SETM_PTR)
    };
    static uint32_t (*const cmov[16])(uint32_t) = {
#define CMOV_PTR(cc) cmov_##cc,
        CC_LIST(CMOV_PTR)
    };
    static uint32_t (*const cmovm[16])(uint32_t) = {
#define CMOVM_PTR(cc) cmovm_##cc,
        CC_LIST(CMOVM_PTR)
    };
    static const uint32_t bit[5] = { FL_CF, FL_PF, FL_ZF, FL_SF, FL_OF };
    for (int cc = 0; cc < 16; cc++) {
        for (int comb = 0; comb < 32; comb++) {
            uint32_t fin = FL_FIXED;
            for (int i = 0; i < 5; i++)
                if (comb & (1 << i)) fin |= bit[i];
            int t = cond_holds(cc, fin);
            CHECK_EQ_CTX(set[cc](fin), 0xAAAAAA00 | t, "setcc %d flags 0x%x", cc, fin);
            CHECK_EQ_CTX(setm[cc](fin), t, "setcc mem %d flags 0x%x", cc, fin);
            CHECK_EQ_CTX(cmov[cc](fin), t ? 0x22222222 : 0x11111111, "cmovcc %d flags 0x%x", cc, fin);
            /* 16-bit CMOV writes only the low half (and only when taken) */
            CHECK_EQ_CTX(cmovm[cc](fin), t ? 0x2222 : 0x1111, "cmovcc16 %d flags 0x%x", cc, fin);
        }
    }
}

/* --- MOVZX MOVSX, CBW CWDE CWD CDQ, LEA ----------------------------------- */

static void test_extend_lea(void)
{
    uint32_t r, d;
    static const uint8_t b80 = 0x80;
    static const uint16_t w8001 = 0x8001;

    __asm__("movzbl %b1, %0" : "=r"(r) : "q"(0xFFFFFF80u));
    CHECK_EQ(r, 0x80);
    __asm__("movsbl %1, %0" : "=r"(r) : "m"(b80));
    CHECK_EQ(r, 0xFFFFFF80);
    __asm__("movzwl %1, %0" : "=r"(r) : "m"(w8001));
    CHECK_EQ(r, 0x8001);
    __asm__("movswl %w1, %0" : "=r"(r) : "r"(0x8001));
    CHECK_EQ(r, 0xFFFF8001);
    r = 0xDEAD0000;
    __asm__("movsbw %b1, %w0" : "+r"(r) : "q"(0xFE));
    CHECK_EQ(r, 0xDEADFFFE);
    r = 0xDEAD0000;
    __asm__("movzbw %1, %w0" : "+r"(r) : "m"(b80));
    CHECK_EQ(r, 0xDEAD0080);

    r = 0x12345680;
    __asm__("cbtw" : "+a"(r));           /* CBW: AX = sign-extend AL */
    CHECK_EQ(r, 0x1234FF80);
    r = 0x12348000;
    __asm__("cwtl" : "+a"(r));           /* CWDE */
    CHECK_EQ(r, 0xFFFF8000);
    r = 0x00008000; d = 0x12345678;
    __asm__("cwtd" : "+a"(r), "+d"(d));  /* CWD: DX = sign of AX */
    CHECK_EQ(d, 0x1234FFFF);
    r = 0x7FFFFFFF; d = 0x12345678;
    __asm__("cltd" : "+a"(r), "+d"(d));  /* CDQ */
    CHECK_EQ(d, 0);
    r = 0x80000000;
    __asm__("cltd" : "+a"(r), "=d"(d));
    CHECK_EQ(d, 0xFFFFFFFF);

    /* LEA computes the address without touching memory or flags. */
    uint32_t b = 0x1000, i = 0x20, f;
    __asm__("leal (%1), %0" : "=r"(r) : "r"(b));
    CHECK_EQ(r, 0x1000);
    __asm__("leal -8(%1), %0" : "=r"(r) : "r"(b));                   /* disp8 */
    CHECK_EQ(r, 0xFF8);
    __asm__("leal 0x12345(%1), %0" : "=r"(r) : "r"(b));              /* disp32 */
    CHECK_EQ(r, 0x13345);
    __asm__("leal 3(%1,%2,8), %0" : "=r"(r) : "r"(b), "r"(i));       /* SIB */
    CHECK_EQ(r, 0x1103);
    __asm__("leal 0x100(,%1,4), %0" : "=r"(r) : "r"(i));             /* SIB, no base: disp32 */
    CHECK_EQ(r, 0x180);
    __asm__("leal 0x12345678, %0" : "=r"(r));                        /* mod=00 rm=101 */
    CHECK_EQ(r, 0x12345678);
    __asm__("leal -1(%1,%2), %0" : "=r"(r) : "r"(0), "r"(0));       /* wraps to 2^32 - 1 */
    CHECK_EQ(r, 0xFFFFFFFF);
    __asm__("leal 0x10(%1,%2,2), %0" : "=r"(r) : "r"(0xFFFFFFF0), "r"(0x80000000)); /* wraps */
    CHECK_EQ(r, 0);
    __asm__("movl %%esp, %1; leal 8(%%esp), %0; subl %1, %0" : "=r"(r), "=&r"(d));
    CHECK_EQ(r, 8);
    __asm__("pushl %%ebp; movl %2, %%ebp; leal (%%ebp), %0; leal 4(%%ebp,%%ebp), %1; popl %%ebp"
            : "=&r"(r), "=&r"(d) : "r"(0x300));                      /* [ebp] is mod=01 disp8 0 */
    CHECK_EQ(r, 0x300);
    CHECK_EQ(d, 0x604);
    __asm__("xorl %1, %1; leal 1(%1), %0; pushfl; popl %1" : "=r"(r), "=&r"(f) : : "cc");
    CHECK_EQ(f & FL_ZF, FL_ZF);                                      /* ZF from the XOR survives */
    r = 0xABCD0000;                                                  /* 16-bit operand size: low half */
    __asm__("leaw 0x1234(%1), %w0" : "+r"(r) : "r"(0x00050000));
    CHECK_EQ(r, 0xABCD1234);
    /* 16-bit addressing (67 prefix): [BX+SI+disp] wraps at 64 KiB and is
     * zero-extended into a 32-bit destination. */
    __asm__("addr16 leal 0x10(%%bx,%%si), %0" : "=r"(r) : "b"(0x1FFF0), "S"(0xFFFF0008));
    CHECK_EQ(r, 0x0008);
}

/* --- LAHF SAHF ------------------------------------------------------------ */

static void test_lahf_sahf(void)
{
    /* SAHF: SF ZF AF PF CF = AH bits 7 6 4 2 0; OF unchanged.
     * LAHF: AH = SF ZF 0 AF 0 PF 1 CF. */
    for (uint32_t ah = 0; ah < 256; ah++) {
        for (int of = 0; of < 2; of++) {
            uint32_t f, r = ah << 8, fin = FL_FIXED | (of ? FL_OF : 0);
            __asm__("pushl %[fin]; popfl; sahf; pushfl; popl %[f]"
                    : [f] "=r"(f) : "a"(r), [fin] "r"(fin) : "cc");
            uint32_t ef = (ah & (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF)) | (of ? FL_OF : 0);
            CHECK_EQ_CTX(f & FL_ARITH, ef, "sahf ah=0x%x", ah);
            r = 0xFFFF00FF;
            __asm__("pushl %[fin]; popfl; lahf" : "+a"(r) : [fin] "r"(FL_FIXED | (ah & 0xD5)) : "cc");
            CHECK_EQ_CTX(r, 0xFFFF00FF | ((ah & 0xD5) | 2) << 8, "lahf flags 0x%x", ah);
        }
    }
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    test_alu_vectors();
    test_binops();
    test_unops();
    test_incdec_short();
    test_absolute();
    test_82_xlat_salc();
    test_shifts();
    test_shld_shrd();
    test_muldiv();
    test_bits();
    test_exchange();
    test_setcc_cmov();
    test_extend_lea();
    test_lahf_sahf();
    test_finish("alu");
}
