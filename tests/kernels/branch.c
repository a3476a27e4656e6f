/* branch.c — control transfers: every block ends in one, and the translator
 * rewrites them all (chained direct exits, indirect-branch lookups, returns).
 *
 *  - Jcc, all 16 conditions, rel8 and rel32 forms, forward and backward,
 *    under all 32 combinations of CF PF ZF SF OF;
 *  - JMP rel8/rel32, LOOP LOOPE LOOPNE JECXZ (and JCXZ, 67 E3, which tests CX);
 *  - indirect JMP and CALL through registers and memory (a compiled switch
 *    with a jump table, function-pointer tables, ESP-relative operands);
 *  - deep recursion, and returns that do not pair with their calls (pushed
 *    return addresses, inline data skipped by adjusting the return address,
 *    longjmp), which a shadow return stack must detect;
 *  - arithmetic flags surviving an indirect JMP, an indirect CALL and a RET
 *    (the indirect-branch lookup must not clobber them). */
#include "kernel.h"

static const uint32_t flag_bits[5] = { FL_CF, FL_PF, FL_ZF, FL_SF, FL_OF };

static uint32_t flags_of(int comb)
{
    uint32_t f = FL_FIXED;
    for (int i = 0; i < 5; i++)
        if (comb & (1 << i)) f |= flag_bits[i];
    return f;
}

/* SDM Vol. 1 Appendix B, in encoding order 0..15. */
static int cond_holds(int cc, uint32_t f)
{
    int cf = !!(f & FL_CF), pf = !!(f & FL_PF), zf = !!(f & FL_ZF);
    int sf = !!(f & FL_SF), of = !!(f & FL_OF), r;
    switch (cc >> 1) {
    case 0: r = of; break;
    case 1: r = cf; break;
    case 2: r = zf; break;
    case 3: r = cf || zf; break;
    case 4: r = sf; break;
    case 5: r = pf; break;
    case 6: r = sf != of; break;
    default: r = zf || sf != of; break;
    }
    return (cc & 1) ? !r : r;
}

/* --- Jcc ------------------------------------------------------------------ */

#define CC_LIST(X) X(o) X(no) X(b) X(ae) X(e) X(ne) X(be) X(a) X(s) X(ns) X(p) X(np) X(l) X(ge) X(le) X(g)
/* FWD: "j<cc> 1f" (7x rel8 or, with {disp32}, 0F 8x rel32); BACK: a jump to
 * an earlier address. Each returns 1 if the branch was taken. */
#define JCC_FNS(cc)                                                             \
    static int jf8_##cc(uint32_t fin)                                           \
    {                                                                           \
        int t;                                                                  \
        __asm__("pushl %[fin]\n\tpopfl\n\t"                                     \
                "j" #cc " 1f\n\t"                                               \
                "movl $0, %[t]\n\tjmp 2f\n"                                     \
                "1:\tmovl $1, %[t]\n"                                           \
                "2:" : [t] "=r"(t) : [fin] "r"(fin) : "cc");                    \
        return t;                                                               \
    }                                                                           \
    static int jf32_##cc(uint32_t fin)                                          \
    {                                                                           \
        int t;                                                                  \
        __asm__("pushl %[fin]\n\tpopfl\n\t"                                     \
                "%{disp32%} j" #cc " 1f\n\t"                                      \
                "movl $0, %[t]\n\tjmp 2f\n"                                     \
                "1:\tmovl $1, %[t]\n"                                           \
                "2:" : [t] "=r"(t) : [fin] "r"(fin) : "cc");                    \
        return t;                                                               \
    }                                                                           \
    static int jb8_##cc(uint32_t fin)                                           \
    {                                                                           \
        int t;                                                                  \
        __asm__("jmp 3f\n"                                                      \
                "1:\tmovl $1, %[t]\n\tjmp 2f\n"                                 \
                "3:\tpushl %[fin]\n\tpopfl\n\t"                                 \
                "j" #cc " 1b\n\t"                                               \
                "movl $0, %[t]\n"                                               \
                "2:" : [t] "=r"(t) : [fin] "r"(fin) : "cc");                    \
        return t;                                                               \
    }                                                                           \
    static int jb32_##cc(uint32_t fin)                                          \
    {                                                                           \
        int t;                                                                  \
        __asm__("%{disp32%} jmp 3f\n"                                             \
                "1:\tmovl $1, %[t]\n\t%{disp32%} jmp 2f\n"                        \
                "3:\tpushl %[fin]\n\tpopfl\n\t"                                 \
                "%{disp32%} j" #cc " 1b\n\t"                                      \
                "movl $0, %[t]\n"                                               \
                "2:" : [t] "=r"(t) : [fin] "r"(fin) : "cc");                    \
        return t;                                                               \
    }
CC_LIST(JCC_FNS)

static void test_jcc(void)
{
    typedef int (*jfn)(uint32_t);
    static const jfn fns[4][16] = {
#define JF8(cc) jf8_##cc,
#define JF32(cc) jf32_##cc,
#define JB8(cc) jb8_##cc,
#define JB32(cc) jb32_##cc,
        { CC_LIST(JF8) }, { CC_LIST(JF32) }, { CC_LIST(JB8) }, { CC_LIST(JB32) },
    };
    static const char *const form[4] = { "rel8 forward", "rel32 forward", "rel8 backward", "rel32 backward" };
    for (int k = 0; k < 4; k++)
        for (int cc = 0; cc < 16; cc++)
            for (int comb = 0; comb < 32; comb++) {
                uint32_t fin = flags_of(comb);
                CHECK_EQ_CTX(fns[k][cc](fin), cond_holds(cc, fin), "jcc %d %s flags 0x%x", cc, form[k], fin);
            }
}

/* --- JMP, LOOP family, JECXZ ----------------------------------------------- */

static void test_jmp_loop(void)
{
    uint32_t a, c, f;

    __asm__("movl $1, %0\n\t"
            "jmp 1f\n\t"                 /* EB */
            "movl $2, %0\n"
            "1:\t%{disp32%} jmp 2f\n\t"    /* E9 */
            "movl $3, %0\n"
            "2:" : "=r"(a));
    CHECK_EQ(a, 1);

    /* LOOP: ECX-- then jump if ECX != 0; flags untouched (SDM Vol. 2A LOOPcc). */
    __asm__("xorl %0, %0\n\t"
            "pushl %[fin]; popfl\n"
            "1:\tleal 1(%0), %0\n\t"
            "loop 1b\n\t"
            "pushfl; popl %[f]"
            : "=&a"(a), "=c"(c), [f] "=r"(f) : "1"(7), [fin] "r"(FL_FIXED | FL_ARITH) : "cc");
    CHECK_EQ(a, 7);
    CHECK_EQ(c, 0);
    CHECK_EQ(f & FL_ARITH, FL_ARITH);
    /* LOOPNE: stops when ZF=1 (eax reaches 3) */
    __asm__("xorl %0, %0\n"
            "1:\tleal 1(%0), %0\n\t"
            "cmpl $3, %0\n\t"
            "loopne 1b"
            : "=&a"(a), "=c"(c) : "1"(10) : "cc");
    CHECK_EQ(a, 3);
    CHECK_EQ(c, 7);
    /* LOOPE: walks zero words until a non-zero one */
    static const uint32_t words[8] = { 0, 0, 0, 0, 9, 0, 0, 0 };
    uint32_t p = (uint32_t)words;
    __asm__("1:\tmovl (%0), %%edx\n\t"
            "leal 4(%0), %0\n\t"
            "testl %%edx, %%edx\n\t"
            "loope 1b"
            : "+r"(p), "=c"(c) : "1"(8), "m"(words) : "edx", "cc");
    CHECK_EQ(p, (uint32_t)&words[5]);
    CHECK_EQ(c, 3);
    /* LOOPE running out of ECX with ZF still 1 */
    p = (uint32_t)words;
    __asm__("1:\tmovl (%0), %%edx\n\t"
            "leal 4(%0), %0\n\t"
            "testl %%edx, %%edx\n\t"
            "loope 1b"
            : "+r"(p), "=c"(c) : "1"(3), "m"(words) : "edx", "cc");
    CHECK_EQ(p, (uint32_t)&words[3]);
    CHECK_EQ(c, 0);

    /* JECXZ (E3): taken iff ECX == 0, flags untouched. */
    static const uint32_t ecxs[4] = { 0, 1, 0x10000, 0xFFFFFFFF };
    for (int i = 0; i < 4; i++) {
        __asm__("pushl %[fin]; popfl\n\t"
                "movl $1, %0\n\t"
                "jecxz 1f\n\t"
                "movl $0, %0\n"
                "1:\tpushfl; popl %[f]"
                : "=&r"(a), [f] "=r"(f) : "c"(ecxs[i]), [fin] "r"(FL_FIXED | FL_CF | FL_SF) : "cc");
        CHECK_EQ_CTX(a, ecxs[i] == 0, "jecxz ecx=0x%x", ecxs[i]);
        CHECK_EQ(f & FL_ARITH, FL_CF | FL_SF);
        /* JCXZ (67 E3): the 16-bit address size makes it test CX. In 64-bit
         * mode 67 E3 means JECXZ, so it cannot be copied. */
        __asm__("movl $1, %0\n\t"
                "jcxz 1f\n\t"
                "movl $0, %0\n"
                "1:" : "=&r"(a) : "c"(ecxs[i]));
        CHECK_EQ_CTX(a, (ecxs[i] & 0xFFFF) == 0, "jcxz ecx=0x%x", ecxs[i]);
    }
}

/* --- indirect JMP and CALL ------------------------------------------------- */

/* Dense cases: gcc compiles this to jmp *table(,%reg,4). */
__attribute__((noinline)) static uint32_t dispatch(uint32_t op, uint32_t x)
{
    switch (op) {
    case 0: return x + 1;
    case 1: return x * 3;
    case 2: return x ^ 0x5A5A;
    case 3: return x - 7;
    case 4: return x << 2;
    case 5: return x >> 1;
    case 6: return ~x;
    case 7: return x | 0x100;
    case 8: return x & 0xFF;
    case 9: return x * x;
    case 10: return x + 1000;
    case 11: return x - 1000;
    case 12: return x / 3;
    case 13: return x % 7;
    case 14: return (x << 4) | (x >> 28);
    case 15: return x + 0x12345;
    case 16: return x ^ 0xFFFFFFFF;
    case 17: return 17;
    case 18: return x * 5 + 1;
    case 19: return x >> 3;
    default: return 0xDEFA;
    }
}

static uint32_t ref_dispatch(uint32_t op, uint32_t x)
{
    /* the same function written as a chain of ifs (no table) */
    if (op == 0) return x + 1;
    if (op == 1) return x * 3;
    if (op == 2) return x ^ 0x5A5A;
    if (op == 3) return x - 7;
    if (op == 4) return x << 2;
    if (op == 5) return x >> 1;
    if (op == 6) return ~x;
    if (op == 7) return x | 0x100;
    if (op == 8) return x & 0xFF;
    if (op == 9) return x * x;
    if (op == 10) return x + 1000;
    if (op == 11) return x - 1000;
    if (op == 12) return x / 3;
    if (op == 13) return x % 7;
    if (op == 14) return (x << 4) | (x >> 28);
    if (op == 15) return x + 0x12345;
    if (op == 16) return x ^ 0xFFFFFFFF;
    if (op == 17) return 17;
    if (op == 18) return x * 5 + 1;
    if (op == 19) return x >> 3;
    return 0xDEFA;
}

static uint32_t f_add(uint32_t a, uint32_t b) { return a + b; }
static uint32_t f_sub(uint32_t a, uint32_t b) { return a - b; }
static uint32_t f_mul(uint32_t a, uint32_t b) { return a * b; }
static uint32_t f_xor(uint32_t a, uint32_t b) { return a ^ b; }
static uint32_t f_max(uint32_t a, uint32_t b) { return a > b ? a : b; }
uint32_t (*volatile fn_table[5])(uint32_t, uint32_t) = { f_add, f_sub, f_mul, f_xor, f_max };

uint32_t ret_42(void);
uint32_t ret_arg(uint32_t);
__asm__(".text\n"
        "ret_42:\n\tmovl $42, %eax\n\tret\n"
        "ret_arg:\n\tmovl 4(%esp), %eax\n\tret\n");

static void test_indirect(void)
{
    /* many targets from one indirect jump site */
    uint32_t sum = 0, ref = 0;
    for (uint32_t round = 0; round < 50; round++)
        for (uint32_t op = 0; op < 24; op++) {
            sum = sum * 31 + dispatch((op * 7 + round) % 24, round * 1234567 + op);
            ref = ref * 31 + ref_dispatch((op * 7 + round) % 24, round * 1234567 + op);
        }
    CHECK_EQ(sum, ref);

    /* function-pointer table: call *table(,%reg,4) or call *%reg */
    uint32_t acc = 1;
    for (int i = 0; i < 100; i++)
        acc = fn_table[i % 5](acc, (uint32_t)i + 3);
    uint32_t racc = 1;
    for (int i = 0; i < 100; i++) {
        uint32_t b = (uint32_t)i + 3;
        switch (i % 5) {
        case 0: racc = racc + b; break;
        case 1: racc = racc - b; break;
        case 2: racc = racc * b; break;
        case 3: racc = racc ^ b; break;
        default: racc = racc > b ? racc : b; break;
        }
    }
    CHECK_EQ(acc, racc);
    /* CALL m32 with a SIB operand: call *fn_table(,%ecx,4), f(10, 3) each */
    static const uint32_t f10_3[5] = { 13, 7, 30, 9, 10 };
    for (uint32_t i = 0; i < 5; i++) {
        uint32_t idx = i, res;
        __asm__ volatile("pushl $3\n\tpushl $10\n\t"
                         "call *fn_table(,%1,4)\n\t"      /* FF 14 8D disp32 */
                         "addl $8, %%esp"
                         : "=a"(res), "+c"(idx) : : "edx", "memory", "cc");
        CHECK_EQ_CTX(res, f10_3[i], "call *fn_table[%u]", i);
    }

    uint32_t r, t;
    /* JMP r32 (FF /4, mod=3) */
    __asm__("movl $1f, %1\n\t"
            "movl $0, %0\n\t"
            "jmp *%1\n\t"
            "movl $99, %0\n"
            "1:" : "=&r"(r), "=&r"(t));
    CHECK_EQ(r, 0);
    /* JMP m32 through an absolute address and through a SIB address */
    static uint32_t targets[3];
    __asm__("movl $1f, %c2\n\t"
            "movl $2f, %c2+4\n\t"
            "movl $3f, %c2+8\n\t"
            "movl $0, %0\n\t"
            "jmp *%c2\n"                /* FF 25 disp32 */
            "1:\tincl %0\n\t"
            "movl $1, %1\n\t"
            "jmp *%c2(,%1,4)\n"         /* FF 24 8D disp32 */
            "2:\tincl %0\n\t"
            "movl $%c2, %1\n\t"
            "jmp *8(%1)\n"              /* FF 61 08 */
            "3:\tincl %0"
            : "=&r"(r), "=&r"(t) : "i"(targets) : "memory", "cc");
    CHECK_EQ(r, 3);
    /* CALL r32, CALL m32, CALL with an ESP-relative operand: the address is
     * computed before the return address is pushed, so *(%esp) is the
     * function pointer that was just pushed. */
    uint32_t (*volatile fp)(void) = ret_42;
    __asm__ volatile("call *%1" : "=a"(r) : "r"(fp) : "ecx", "edx", "memory", "cc");
    CHECK_EQ(r, 42);
    __asm__ volatile("call *%1" : "=a"(r) : "m"(fp) : "ecx", "edx", "memory", "cc");
    CHECK_EQ(r, 42);
    __asm__ volatile("pushl $77\n\t"            /* argument */
                     "pushl %1\n\t"             /* function pointer */
                     "call *(%%esp)\n\t"        /* FF 14 24: pushes, then ret_arg reads 4(%esp) = fptr... */
                     "addl $8, %%esp"
                     : "=a"(r) : "r"(ret_arg) : "ecx", "edx", "memory", "cc");
    CHECK_EQ(r, (uint32_t)ret_arg);             /* ...so its "argument" is the pointer */
    __asm__ volatile("pushl $77\n\t"
                     "pushl %1\n\t"
                     "call *(%%esp)\n\t"
                     "addl $8, %%esp\n\t"
                     "pushl $78\n\t"
                     "pushl $0\n\t"
                     "pushl %1\n\t"
                     "call *(%%esp)\n\t"
                     "addl $12, %%esp"
                     : "=a"(r) : "r"(ret_arg) : "ecx", "edx", "memory", "cc");
    CHECK_EQ(r, (uint32_t)ret_arg);
}

/* --- recursion and unpaired returns ----------------------------------------- */

__attribute__((noinline)) static uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

__attribute__((noinline)) static uint32_t ack(uint32_t m, uint32_t n)
{
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

__attribute__((noinline)) static uint32_t depth(uint32_t n)
{
    volatile uint32_t pad = n;          /* keep a frame per call */
    return n ? depth(n - 1) + (pad & 1) : 0;
}

/* setjmp/longjmp (klib.c): the longjmp "returns" from setjmp's call site a
 * second time, abandoning the frames in between. */
static struct jbuf jb;
static int unwound;
__attribute__((noinline)) static void dive(int n)
{
    if (n > 0)
        dive(n - 1);
    else
        my_longjmp(&jb, 17);
    unwound = -1;                       /* never reached */
}

/* `call skip4; .long DATA`: skip4 returns past the inline data. */
uint32_t skip4(void);
__asm__(".text\n"
        "skip4:\n"
        "    movl (%esp), %ecx\n"
        "    movl (%ecx), %eax\n"
        "    addl $4, (%esp)\n"
        "    ret\n");

static void test_calls(void)
{
    CHECK_EQ(fib(24), 46368);
    CHECK_EQ(ack(2, 3), 9);
    CHECK_EQ(ack(3, 5), 253);           /* ~42k calls, recursion ~250 deep */
    CHECK_EQ(depth(1000), 500);

    uint32_t r;
    __asm__ volatile("call skip4\n\t"
                     ".long 0xC0DEDA7A\n\t"
                     : "=a"(r) : : "ecx", "memory");
    CHECK_EQ(r, 0xC0DEDA7A);
    /* RET to an address that no CALL pushed */
    __asm__ volatile("pushl $1f\n\t"
                     "movl $5, %0\n\t"
                     "ret\n\t"
                     "movl $6, %0\n"
                     "1:" : "=r"(r) : : "memory");
    CHECK_EQ(r, 5);
    /* a call whose return address is popped (the get-EIP idiom) and later
     * calls that return normally */
    for (int i = 0; i < 3; i++) {
        uint32_t here, label;
        __asm__ volatile("call 1f\n1:\tpopl %0\n\tmovl $1b, %1" : "=r"(here), "=r"(label));
        CHECK_EQ(here, label);
        CHECK_EQ(fib(10), 55);
    }
    /* longjmp out of 50 frames, twice, then normal calls still return right */
    for (int round = 0; round < 2; round++) {
        volatile int v = my_setjmp(&jb);
        if (v == 0)
            dive(50);
        CHECK_EQ(v, 17);
        CHECK_EQ(fib(12), 144);
    }
    CHECK_EQ(unwound, 0);
}

/* --- flags across indirect branches and returns ----------------------------- */

uint32_t ret_with_flags(uint32_t f);        /* popf f; ret */
uint32_t read_flags_after_call(void);       /* pushf as its first instruction */
__asm__(".text\n"
        "ret_with_flags:\n"
        "    pushl 4(%esp)\n"
        "    popfl\n"
        "    ret\n"
        "read_flags_after_call:\n"
        "    pushfl\n"
        "    popl %eax\n"
        "    ret\n");

static void test_flags_across(void)
{
    static const uint32_t pats[4] = {
        FL_FIXED | FL_ARITH, FL_FIXED, FL_FIXED | FL_CF | FL_ZF | FL_OF, FL_FIXED | FL_PF | FL_AF | FL_SF,
    };
    for (int i = 0; i < 4; i++) {
        uint32_t fin = pats[i], f, t;
        /* after RET */
        __asm__ volatile("pushl %1\n\tcall ret_with_flags\n\tpushfl\n\tpopl %0\n\taddl $4, %%esp"
                         : "=r"(f) : "r"(fin) : "eax", "ecx", "edx", "memory", "cc");
        CHECK_EQ_CTX(f & FL_ARITH, fin & FL_ARITH, "flags after ret, in 0x%x", fin);
        /* after JMP r32 */
        __asm__ volatile("movl $1f, %1\n\t"
                         "pushl %2\n\tpopfl\n\t"
                         "jmp *%1\n\t"
                         "nop\n"
                         "1:\tpushfl\n\tpopl %0"
                         : "=r"(f), "=&r"(t) : "r"(fin) : "cc");
        CHECK_EQ_CTX(f & FL_ARITH, fin & FL_ARITH, "flags after jmp reg, in 0x%x", fin);
        /* after JMP m32 */
        static uint32_t tgt;
        __asm__ volatile("movl $1f, %c1\n\t"
                         "pushl %2\n\tpopfl\n\t"
                         "jmp *%c1\n\t"
                         "nop\n"
                         "1:\tpushfl\n\tpopl %0"
                         : "=r"(f) : "i"(&tgt), "r"(fin) : "memory", "cc");
        CHECK_EQ_CTX(f & FL_ARITH, fin & FL_ARITH, "flags after jmp mem, in 0x%x", fin);
        /* into a CALL r32 target */
        __asm__ volatile("pushl %2\n\tpopfl\n\tcall *%1"
                         : "=a"(f) : "r"(read_flags_after_call), "r"(fin) : "ecx", "edx", "memory", "cc");
        CHECK_EQ_CTX(f & FL_ARITH, fin & FL_ARITH, "flags after call reg, in 0x%x", fin);
        /* a Jcc right after a RET consumes flags set before it */
        __asm__ volatile("pushl %1\n\tcall ret_with_flags\n\tleal 4(%%esp), %%esp\n\t"
                         "movl $0, %0\n\t"
                         "jnc 1f\n\t"
                         "movl $1, %0\n"
                         "1:" : "=&r"(t) : "r"(fin) : "eax", "ecx", "edx", "memory", "cc");
        CHECK_EQ_CTX(t, !!(fin & FL_CF), "jc after ret, flags in 0x%x", fin);
    }
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    test_jcc();
    test_jmp_loop();
    test_indirect();
    test_calls();
    test_flags_across();
    test_finish("branch");
}
