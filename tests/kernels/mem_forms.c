/* mem_forms — every way translated code addresses guest memory
 * (bt/xlate_copy.c: [base + r14 + disp], [r14 + disp32], lea r11d + [r11 +
 * r14], the borrowed ESI/EDI of byte instructions naming AH..BH, XLAT, the
 * MOFFS forms A0-A3 with and without 0x66, the stack), at the places where
 * a form could go wrong: addresses that wrap at 4 GiB (SDM vol. 3A §3.3.6:
 * a linear address is the 32-bit sum, carries out of bit 31 dropped), that
 * straddle 0xFFFFFFFF/0, that lie above 2 GiB (no sign-extended disp32
 * reaches them), and base + displacement sums on both sides of the -65536
 * cut between the direct and the LEA form.
 *
 * Paging is on; linear 0xFFFFF000, 0x00000000 and 0xC0000000-0xC0002FFF
 * map pool frames, which the kernel also reaches through the identity map
 * (the "alias"), so every load is checked against what the alias holds and
 * every store is seen through the alias, its neighbours untouched.
 *
 *   forms     loads, stores and RMW through each form (item by item
 *             below), MOFFS, XLAT, 16-bit addressing, FS bases
 *   high      byte instructions naming AH/CH/DH/BH, memory against the
 *             same instruction on a register: result, flags, memory, and
 *             the borrowed ESI/EDI intact; also on [esp + ...]
 *   stack     PUSH/POP/CALL with ESP = 0, 2, 4, 0xFFFFFFFC (flat SS), and
 *             on 16-bit stack segments whose base + SP wraps or whose
 *             host form [r11 + r14 + SS.base] lands below the window
 *   hot       wrapping accesses in a loop of 1000
 *   faults    a #PF through each form: CR2, error code, EIP, and ESI/EDI/
 *             ESP as they were before the instruction (precise). A
 *             read-modify-write that faults reports W, as the CPU does
 *             (QEMU 7.2's TCG does not: the test is bt86-only). */
#include <stdbool.h>
#include "pg_lib.h"

#define LIN_C    0xc0000000u    /* three mapped pages */
#define LIN_NP   0xc0003000u    /* not present (PDE present, PTE 0) */
#define LIN_NPLO 0x40000000u    /* not present, no page table, below 2 GiB */

static uint32_t *pd;
static uint8_t *fr_top, *fr_zero, *fr_c[3];

/* The kernel's registers around one guest instruction sequence: LOADR
 * loads them from rin (flags too), SAVER stores them to rout (ESP as the
 * sequence left it) and brings back the compiler's stack. */
struct regs { uint32_t eax, ebx, ecx, edx, esi, edi, ebp, fl, esp; };
volatile struct regs rin, rout;

#define LOADR                                                                          \
    "pushl %%ebp\n\tmovl %%esp, rin+32\n\tpushl rin+28\n\tpopfl\n\t"                   \
    "movl rin+0, %%eax\n\tmovl rin+4, %%ebx\n\tmovl rin+8, %%ecx\n\tmovl rin+12, %%edx\n\t" \
    "movl rin+16, %%esi\n\tmovl rin+20, %%edi\n\tmovl rin+24, %%ebp\n\t"
#define SAVER                                                                          \
    "\n\tmovl %%esp, rout+32\n\tmovl rin+32, %%esp\n\tpushfl\n\tpopl rout+28\n\t"      \
    "movl %%eax, rout+0\n\tmovl %%ebx, rout+4\n\tmovl %%ecx, rout+8\n\tmovl %%edx, rout+12\n\t" \
    "movl %%esi, rout+16\n\tmovl %%edi, rout+20\n\tmovl %%ebp, rout+24\n\tpopl %%ebp\n\t"
#define CLOBBERS "eax", "ebx", "ecx", "edx", "esi", "edi", "memory", "cc"
#define RUN(insn)  __asm__ volatile(LOADR insn SAVER : : : CLOBBERS)
/* The same, insn may fault: the trap handler resumes after it with the
 * registers as the fault left them. */
#define RUNF2(pre, insn)                                                       \
    do {                                                                       \
        trap_reset();                                                          \
        __asm__ volatile(LOADR pre TRY_BEGIN insn TRY_END SAVER : : : CLOBBERS); \
    } while (0)
#define RUNF(insn) RUNF2("", insn)

static void set_regs(uint32_t eax, uint32_t ebx, uint32_t ecx, uint32_t edx, uint32_t esi, uint32_t edi,
                     uint32_t ebp)
{
    rin.eax = eax, rin.ebx = ebx, rin.ecx = ecx, rin.edx = edx;
    rin.esi = esi, rin.edi = edi, rin.ebp = ebp, rin.fl = FL_FIXED;
}

/* --- the alias ------------------------------------------------------------ */

static volatile uint8_t *alias(uint32_t lin)
{
    uint32_t page = lin & ~4095u, off = lin & 4095u;

    if (page == 0xfffff000u)
        return fr_top + off;
    if (page == 0)
        return fr_zero + off;
    if (page - LIN_C < 3 * 4096u)
        return fr_c[(page - LIN_C) >> 12] + off;
    kprintf("FAIL: no alias for 0x%08x\n", lin);
    kexit(EXIT_FAIL);
}

static uint8_t pattern(uint32_t lin) { return (uint8_t)((lin * 0x9e3779b1u) >> 24 ^ lin); }

/* Every mapped test page back to its pattern. */
static void fill(void)
{
    static const uint32_t pages[] = { 0xfffff000u, 0, LIN_C, LIN_C + 0x1000, LIN_C + 0x2000 };
    for (unsigned p = 0; p < sizeof pages / sizeof pages[0]; p++)
        for (uint32_t i = 0; i < 4096; i++)
            *alias(pages[p] + i) = pattern(pages[p] + i);
}

/* n bytes at lin, little-endian, the address wrapping at 4 GiB. */
static uint32_t peek(uint32_t lin, int n)
{
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | *alias(lin + (uint32_t)i);
    return v;
}

static void poke(uint32_t lin, int n, uint32_t v)
{
    for (int i = 0; i < n; i++, v >>= 8)
        *alias(lin + (uint32_t)i) = (uint8_t)v;
}

/* The pattern's n bytes at lin. */
static uint32_t pat(uint32_t lin, int n)
{
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | pattern(lin + (uint32_t)i);
    return v;
}

/* n bytes at lin hold v and the 8 bytes either side their pattern. */
static void check_mem(uint32_t lin, int n, uint32_t v, int line)
{
    CHECK_EQ_CTX(peek(lin, n), v, "line %d: %d bytes at 0x%08x", line, n, lin);
    for (int i = 1; i <= 8; i++) {
        CHECK_EQ_CTX(*alias(lin - (uint32_t)i), pattern(lin - (uint32_t)i), "line %d: below 0x%08x", line, lin);
        CHECK_EQ_CTX(*alias(lin + (uint32_t)(n - 1 + i)), pattern(lin + (uint32_t)(n - 1 + i)),
                     "line %d: above 0x%08x", line, lin);
    }
}

/* A load of n bytes at lin into reg (a field of rout) after fill(). */
#define CHECK_LOAD(reg, lin, n) CHECK_EQ_CTX(rout.reg, pat((lin), (n)), "load at 0x%08x", (uint32_t)(lin))
#define CHECK_STORE(lin, n, v) check_mem((lin), (n), (v), __LINE__)

/* --- 1. the operand forms ---------------------------------------------------- */

/* A load, a store and a read-modify-write through one operand at lin. */
#define LSR(desc, lin, operand)                                                        \
    do {                                                                               \
        fill();                                                                        \
        RUN("movl " operand ", %%edi");                                                \
        CHECK_EQ_CTX(rout.edi, pat(lin, 4), "%s: load", desc);                         \
        fill();                                                                        \
        rin.edx = 0x8badf00d;                                                          \
        RUN("movl %%edx, " operand);                                                   \
        check_mem(lin, 4, 0x8badf00d, __LINE__);                                       \
        fill();                                                                        \
        rin.edx = 0x01010101;                                                          \
        RUN("addl %%edx, " operand);                                                   \
        check_mem(lin, 4, pat(lin, 4) + 0x01010101, __LINE__);                         \
        fill();                                                                        \
        RUN("movb " operand ", %%al");                                                 \
        CHECK_EQ_CTX(rout.eax & 0xff, pat(lin, 1), "%s: byte load", desc);             \
        fill();                                                                        \
        RUN("movw $0x1234, " operand);                                                 \
        check_mem(lin, 2, 0x1234, __LINE__);                                           \
    } while (0)

static void test_forms(void)
{
    set_regs(0, 4, 0, 0, 0, 0, 0);
    /* [base + disp] that wraps below 0: [ebx - 8], ebx = 4 (and EBP, ESI bases). */
    LSR("[ebx-8]", 0xfffffffcu, "-8(%%ebx)");
    rin.ebp = 4;
    LSR("[ebp-8]", 0xfffffffcu, "-8(%%ebp)");
    rin.esi = 0xf000;
    LSR("[esi-0xffe0]", 0xfffff020u, "-0xffe0(%%esi)");
    /* The displacements either side of the -65536 cut, wrapping below. */
    rin.esi = 0xfff0;
    LSR("[esi-0x10000]", 0xfffffff0u, "-0x10000(%%esi)");
    rin.esi = 0xfff1;
    LSR("[esi-0x10001]", 0xfffffff0u, "-0x10001(%%esi)");
    /* ... and above 4 GiB: [ebx + 0x10], ebx = 0xFFFFFFF8. */
    rin.ebx = 0xfffffff8u;
    LSR("[ebx+0x10]", 0x8u, "0x10(%%ebx)");
    /* A large positive displacement that carries out: 0x80001010 + 0x7FFFF000. */
    rin.ecx = 0x80001010u;
    LSR("[ecx+0x7ffff000]", 0x10u, "0x7ffff000(%%ecx)");
    /* The 4 bytes at 0xFFFFFFFE: 2 at the top of the space, 2 at 0. */
    rin.ebx = 0xfffffffeu;
    LSR("[ebx] straddling", 0xfffffffeu, "(%%ebx)");
    rin.ebx = 2;
    LSR("[ebx-4] straddling", 0xfffffffeu, "-4(%%ebx)");
    rin.ebx = 0xfffffff0u;
    LSR("[ebx+0xe] straddling", 0xfffffffeu, "0xe(%%ebx)");
    rin.esi = 7;
    LSR("[esi*2+0xfffffff0] straddling", 0xfffffffeu, "0xfffffff0(,%%esi,2)");
    LSR("[0xfffffffe] straddling", 0xfffffffeu, "0xfffffffe");
    /* [ecx + 0xC0000000] with a small ECX (a base and a displacement below
     * -65536: the LEA form), and the displacements either side of the cut. */
    set_regs(0, 0, 0x1004, 0, 0, 0, 0);
    LSR("[ecx+0xc0000000]", 0xc0001004u, "0xc0000000(%%ecx)");
    rin.ecx = 0xc0011000u;
    LSR("[ecx-0x10000]", 0xc0001000u, "-0x10000(%%ecx)");
    rin.ecx = 0xc0011001u;
    LSR("[ecx-0x10001]", 0xc0001000u, "-0x10001(%%ecx)");
    rin.ecx = 0xc0000ffcu;
    LSR("[ecx+4]", 0xc0001000u, "4(%%ecx)");
    /* Indexed: [esi*4 + 0xC0001000], [ebx + esi*4 + disp] wrapping above and below. */
    set_regs(0, 0xffffff00u, 0, 0, 3, 0, 0);
    LSR("[esi*4+0xc0001000]", 0xc000100cu, "0xc0001000(,%%esi,4)");
    rin.esi = 0x40;
    LSR("[ebx+esi*4+8] wrapping", 0x8u, "8(%%ebx,%%esi,4)");
    rin.ebx = 4, rin.esi = 1;
    LSR("[ebx+esi*4-0x20] wrapping", 0xffffffe8u, "-0x20(%%ebx,%%esi,4)");
    rin.ebx = 0xc0000800u, rin.esi = 0x200;
    LSR("[ebx+esi*4+0x10]", 0xc0001010u, "0x10(%%ebx,%%esi,4)");
    /* Absolute: high (LEA form) and low ([r14 + disp32]), ModRM and SIB encodings. */
    LSR("[0xc0001000]", 0xc0001000u, "0xc0001000");
    LSR("[0x10]", 0x10u, "0x10");
    fill();
    RUN(".byte 0x8b, 0x04, 0x25\n\t.long 0xc0001ff8");  /* mov eax, [sib: disp32] */
    CHECK_LOAD(eax, 0xc0001ff8u, 4);
    RUN(".byte 0x8b, 0x1c, 0x25\n\t.long 0x18");        /* mov ebx, [sib: disp32] */
    CHECK_LOAD(ebx, 0x18u, 4);
    fill();
    RUN(".byte 0xc7, 0x04, 0x25\n\t.long 0xc0002004, 0x5eed5eed");
    CHECK_STORE(0xc0002004u, 4, 0x5eed5eed);
    /* 16-bit addressing: [bx + si + 0x10] wraps at 64 KiB, to page 0. */
    fill();
    set_regs(0, 0x1234fff0u, 0, 0, 0x20, 0, 0);
    RUN("movl 0x10(%%bx,%%si), %%eax");
    CHECK_LOAD(eax, 0x20u, 4);
    RUN("movw $0xbeef, 0x10(%%bx,%%si)");
    CHECK_STORE(0x20u, 2, 0xbeef);
    /* [esp + disp] with ESP's moves pending (xlate_espdelta.c). */
    fill();
    RUN("movl $8, %%esp\n\tpushl $0x11\n\tpushl $0x22\n\tmovl -8(%%esp), %%eax\n\tmovl 0x10(%%esp), %%ebx\n\t"
        "movl %%ecx, -4(%%esp)\n\tpopl %%edx\n\tpopl %%edx");
    CHECK_LOAD(eax, 0xfffffff8u, 4);
    CHECK_LOAD(ebx, 0x10u, 4);
    CHECK_EQ(rout.edx, 0x11);
    CHECK_EQ(rout.esp, 8);
    CHECK_EQ(peek(0xfffffffcu, 4), rin.ecx);
    CHECK_EQ(peek(0, 4), 0x22);
    CHECK_EQ(peek(4, 4), 0x11);
}

/* Wrapping accesses run many times (the guard's emulation, and whatever
 * the monitor makes of a site that keeps faulting). */
static void test_hot_wraps(void)
{
    uint32_t lo = pat(0xfffffffcu, 4), z = pat(0, 4);

    fill();
    set_regs(0x00000300u, 4, 1000, 1, 0, 0, 0);
    RUN("3:\taddl %%edx, -8(%%ebx)\n\taddb %%ah, -6(%%ebx)\n\tincl 0xfffffff0(%%ebx,%%ebx,2)\n\t"
        "addl %%edx, 0xfffffff8(%%ebx,%%ebx,1)\n\tdecl %%ecx\n\tjnz 3b");
    for (int i = 0; i < 1000; i++) {
        lo += 1;
        lo = (lo & 0xff00ffffu) | ((lo + 0x30000u) & 0x00ff0000u);
        lo += 1;
        z += 1;
    }
    CHECK_EQ(peek(0xfffffffcu, 4), lo);
    CHECK_EQ(peek(0, 4), z);
    CHECK_EQ(rout.ecx, 0);
}

/* Segment bases (xl_copy_borrowed with a base): FS at 0xC0000000, and at
 * 0xFFFFFFF0, where base + offset wraps. */
static void load_fs(uint32_t base)
{
    gdt[10] = seg_desc(base, 0xfffff, 0x92, 0xc);
    __asm__ volatile("movw %w0, %%fs" : : "r"(0x50) : "memory");
}

static void test_seg_bases(void)
{
    load_fs(0xc0000000u);
    set_regs(0x1234, 0x1f00, 0, 0, 0x1000, 0, 0);
    LSR("fs:[0x1000]", 0xc0001000u, "%%fs:0x1000");
    LSR("fs:[esi+0x20]", 0xc0001020u, "%%fs:0x20(%%esi)");
    LSR("fs:[esi*2+0x10]", 0xc0002010u, "%%fs:0x10(,%%esi,2)");
    fill();
    RUN("movl %%fs:0x1010, %%eax");                 /* A1 with FS */
    CHECK_LOAD(eax, 0xc0001010u, 4);
    RUN("movb %%ah, %%fs:0x30(%%esi)");
    CHECK_STORE(0xc0001030u, 1, 0x12);
    rin.eax = 0x30;
    RUN("xlat %%fs:(%%ebx)");
    CHECK_EQ(rout.eax, pattern(0xc0001f30u));
    load_fs(0xfffffff0u);
    set_regs(0x5678, 0x18, 0, 0, 0x20, 0, 0);
    LSR("fs:[0x20] wrapping", 0x10u, "%%fs:0x20");
    LSR("fs:[0xe] straddling", 0xfffffffeu, "%%fs:0xe");
    LSR("fs:[ebx] wrapping", 0x8u, "%%fs:(%%ebx)");
    fill();
    RUN("movl %%fs:0x1e, %%eax");                   /* A1 with FS, wrapping */
    CHECK_LOAD(eax, 0xeu, 4);
    RUN("movb %%ah, %%fs:(%%esi)");
    CHECK_STORE(0x10u, 1, 0x56);
    load_fs(0);
    __asm__ volatile("movw %w0, %%fs" : : "r"(SEL_KDATA) : "memory");
}

/* The MOFFS forms A0-A3 and 66 A1/A3 at a high and at a low address, and
 * straddling 4 GiB. */
static void test_moffs(void)
{
    set_regs(0x89abcdefu, 0, 0, 0, 0, 0, 0);
#define MOFFS(lin)                                                              \
    fill();                                                                     \
    RUN("movb " #lin ", %%al");                                                 \
    CHECK_EQ(rout.eax, (0x89abcd00u | pat(lin, 1)));                            \
    RUN("movw " #lin ", %%ax");                                                 \
    CHECK_EQ(rout.eax, (0x89ab0000u | pat(lin, 2)));                            \
    RUN("movl " #lin ", %%eax");                                                \
    CHECK_LOAD(eax, lin, 4);                                                    \
    RUN("movb %%al, " #lin);                                                    \
    CHECK_STORE(lin, 1, 0xef);                                                  \
    fill();                                                                     \
    RUN("movw %%ax, " #lin);                                                    \
    CHECK_STORE(lin, 2, 0xcdef);                                                \
    fill();                                                                     \
    RUN("movl %%eax, " #lin);                                                   \
    CHECK_STORE(lin, 4, 0x89abcdefu);
    MOFFS(0xc0001ffe)
    MOFFS(0xc0002000)
    MOFFS(0x00000020)
    MOFFS(0x00000ff0)
    MOFFS(0xfffffffe)
    MOFFS(0xffffffff)
#undef MOFFS
}

/* XLAT: AL = [EBX + AL], the sum wrapping at 4 GiB. */
static void test_xlat(void)
{
    static const struct { uint32_t ebx; uint8_t al; } c[] = {
        { 0xc0001f00u, 0x30 }, { 0xc0000000u, 0xff }, { 0xfffffff0u, 0x20 }, { 0xffffff80u, 0x7f },
        { 0x00000010u, 0x80 },
    };
    fill();
    for (unsigned i = 0; i < sizeof c / sizeof c[0]; i++) {
        set_regs(0x12345600u | c[i].al, c[i].ebx, 0, 0, 0, 0, 0);
        RUN("xlat");
        CHECK_EQ_CTX(rout.eax, 0x12345600u | pattern(c[i].ebx + c[i].al), "xlat ebx 0x%08x al 0x%02x",
                     c[i].ebx, c[i].al);
    }
}

/* --- 2. byte instructions naming AH..BH ------------------------------------------ */

enum { R_EAX, R_EBX, R_ECX, R_EDX, R_ESI, R_EDI, R_EBP };
static volatile uint32_t *reg_of(volatile struct regs *r, int i) { return &r->eax + i; }
static struct regs ref;                  /* the register form's outcome */
static uint8_t junk = 0x6d;

/* One combination of operands: the high register, the memory byte, CF,
 * AL = the memory byte (CMPXCHG's equal outcome) or not. */
static const struct { uint8_t hi, m; bool cf, al_eq; } hb_vals[] = {
    { 0x00, 0x00, 0, 1 }, { 0x7f, 0x01, 1, 0 }, { 0x80, 0xff, 0, 0 }, { 0xff, 0xff, 1, 1 },
    { 0x5a, 0xa5, 1, 0 }, { 0x01, 0x80, 0, 1 },
};
static unsigned hb_i;

/* rin for combination hb_i: the high byte `hi` (0 AH .. 3 BH) and the
 * register form's byte register (reg ri) set to the memory byte m. The
 * memory forms address 0xFFFFFFFC as [esi - 8], 0xC0000123 as
 * [edi + 0x123], 0x20 as [ebp + esi*4 + 0x20] (wrapping), and absolute. */
static void hb_setup(int hi, int ri, bool ref_form)
{
    uint8_t m = hb_vals[hb_i].m;
    set_regs(0xa1b2c3d4u, 0xe5f60718u, 0x293a4b5cu, 0x6d7e8f90u, 4, 0xc0000000u, 0xfffffff0u);
    if (hb_vals[hb_i].al_eq)
        rin.eax = (rin.eax & ~0xffu) | m;
    static const int hreg[4] = { R_EAX, R_ECX, R_EDX, R_EBX };
    volatile uint32_t *h = reg_of(&rin, hreg[hi]);
    *h = (*h & ~0xff00u) | (uint32_t)hb_vals[hb_i].hi << 8;
    volatile uint32_t *r = reg_of(&rin, ri);
    *r = (*r & ~0xffu) | (ref_form ? m : junk);
    rin.fl = FL_FIXED | (hb_vals[hb_i].cf ? FL_CF : 0) | FL_ZF;
}

static void hb_ref_done(void) { ref = *(struct regs *)&rout; }

/* The pattern back around lin (a whole fill() per case would make the
 * slow-path variants of this test take minutes). */
static void fill_near(uint32_t lin)
{
    for (uint32_t i = lin - 8; i != lin + 8; i++)
        *alias(i) = pattern(i);
}

static void hb_prep(uint32_t lin, int hi, int ri)
{
    static uint32_t last = 0xc0000100u;
    fill_near(last);
    fill_near(lin);
    last = lin;
    poke(lin, 1, hb_vals[hb_i].m);
    hb_setup(hi, ri, false);
}

/* The memory form did what the register form did. */
static void hb_check(const char *insn, const char *form, uint32_t lin, int ri, int line)
{
    for (int i = R_EAX; i <= R_EBP; i++) {
        uint32_t want = *reg_of(&ref, i);
        if (i == ri)
            want = (want & ~0xffu) | junk;
        CHECK_EQ_CTX(*reg_of(&rout, i), want, "line %d: %s %s, register %d, case %u", line, insn, form, i, hb_i);
    }
    CHECK_EQ_CTX(rout.fl & FL_ARITH, ref.fl & FL_ARITH, "line %d: %s %s flags, case %u", line, insn, form, hb_i);
    CHECK_EQ_CTX(rout.esp, ref.esp, "line %d: %s %s ESP", line, insn, form);
    CHECK_EQ_CTX(peek(lin, 1), (*reg_of(&ref, ri) & 0xff), "line %d: %s %s memory, case %u",
                 line, insn, form, hb_i);
    CHECK_EQ_CTX(*alias(lin - 1), pattern(lin - 1), "line %d: %s %s below", line, insn, form);
    CHECK_EQ_CTX(*alias(lin + 1), pattern(lin + 1), "line %d: %s %s above", line, insn, form);
}

/* mk(op, hi, operand) is the instruction; the reference has the register
 * ref (reg ri) where the others have memory. */
#define GE(op, hi, m) op " " m ", %%" hi        /* op hi, [m] */
#define EG(op, hi, m) op " %%" hi ", " m        /* op [m], hi */
#define HB_ONE(mk, op, hi, h, lin, operand)                                      \
    hb_prep(lin, h, ri);                                                         \
    RUN(mk(op, hi, operand));                                                    \
    hb_check(op " " hi, operand, lin, ri, __LINE__);
#define HB(mk, op, hi, h, refr, r)                                               \
    do {                                                                         \
        int ri = (r);                                                            \
        for (hb_i = 0; hb_i < sizeof hb_vals / sizeof hb_vals[0]; hb_i++) {     \
            hb_setup(h, ri, true);                                               \
            RUN(mk(op, hi, "%%" refr));                                          \
            hb_ref_done();                                                       \
            HB_ONE(mk, op, hi, h, 0xfffffffcu, "-8(%%esi)")                      \
            HB_ONE(mk, op, hi, h, 0xc0000123u, "0x123(%%edi)")                   \
            HB_ONE(mk, op, hi, h, 0x20u, "0x20(%%ebp,%%esi,4)")                  \
            HB_ONE(mk, op, hi, h, 0xc0000fffu, "0xffb(%%edi,%%esi,1)")             \
            HB_ONE(mk, op, hi, h, 0xc0002456u, "0xc0002456")                     \
            HB_ONE(mk, op, hi, h, 0x44u, "0x44")                                 \
            HB_ONE(mk, op, hi, h, 0xc0001000u, "-0x3fffeff0(%%ebp)")             \
        }                                                                        \
    } while (0)
#define HB_REGS(mk, op)                                                          \
    HB(mk, op, "ah", 0, "dl", R_EDX);                                            \
    HB(mk, op, "ch", 1, "dl", R_EDX);                                            \
    HB(mk, op, "dh", 2, "cl", R_ECX);                                            \
    HB(mk, op, "bh", 3, "dl", R_EDX)

static void test_high_bytes(void)
{
    HB_REGS(EG, "movb");
    HB_REGS(GE, "movb");
    HB_REGS(EG, "addb");
    HB_REGS(GE, "addb");
    HB_REGS(EG, "orb");
    HB_REGS(GE, "orb");
    HB_REGS(EG, "adcb");
    HB_REGS(GE, "adcb");
    HB_REGS(EG, "sbbb");
    HB_REGS(GE, "sbbb");
    HB_REGS(EG, "andb");
    HB_REGS(GE, "andb");
    HB_REGS(EG, "subb");
    HB_REGS(GE, "subb");
    HB_REGS(EG, "xorb");
    HB_REGS(GE, "xorb");
    HB_REGS(EG, "cmpb");
    HB_REGS(GE, "cmpb");
    HB_REGS(EG, "testb");
    HB_REGS(EG, "xchgb");
    HB_REGS(EG, "cmpxchgb");
    HB_REGS(EG, "xaddb");
}

/* AH..BH on [esp + ...], with ESP's moves pending, and on [esp + esi]. */
static void test_high_bytes_esp(void)
{
    set_regs(0x0000a100u, 0x0000b200u, 0x0000c300u, 0x0000d400u, 2, 0x77, 0);
    RUN("pushl $0x11223344\n\tpushl $0x55667788\n\taddb %%ah, 5(%%esp)\n\tmovb 6(%%esp), %%bh\n\t"
        "xchgb %%ch, (%%esp,%%esi,1)\n\tsubb 3(%%esp), %%dh\n\tpopl %%edi\n\tpopl %%ebp");
    CHECK_EQ(rout.ebp, 0x1122d444u);                /* 0x33 + 0xa1 */
    CHECK_EQ(rout.ebx, 0x00002200u);
    CHECK_EQ(rout.ecx, 0x00006600u);
    CHECK_EQ(rout.edi, 0x55c37788u);
    CHECK_EQ(rout.edx, 0x0000d400u - 0x5500u);      /* 0xd4 - 0x55 = 0x7f */
    CHECK_EQ(rout.esi, 2);
    CHECK_EQ(rout.esp, rin.esp);
    CHECK_EQ(rout.fl & (FL_CF | FL_OF | FL_SF | FL_ZF), FL_OF); /* 0xd4 - 0x55: signed overflow */
}

/* --- 3. the stack at the wrap ------------------------------------------------------ */

static void test_stack(void)
{
    set_regs(0xa0a0a0a0u, 0, 0, 0, 0, 0, 0);
    fill();
    /* ESP = 0: PUSH writes 0xFFFFFFFC. */
    RUN("movl $0, %%esp\n\tpushl %%eax\n\tmovl %%esp, %%ebx");
    CHECK_EQ(rout.ebx, 0xfffffffcu);
    CHECK_STORE(0xfffffffcu, 4, 0xa0a0a0a0u);
    /* ESP = 0xFFFFFFFC: POP wraps to 0. */
    fill();
    RUN("movl $0xfffffffc, %%esp\n\tpopl %%ecx\n\tmovl %%esp, %%ebx");
    CHECK_EQ(rout.ebx, 0);
    CHECK_LOAD(ecx, 0xfffffffcu, 4);
    /* ESP = 2: the pushed dword straddles the wrap; popped back. */
    fill();
    RUN("movl $2, %%esp\n\tpushl %%eax\n\tmovl %%esp, %%ebx\n\tmovl $0, %%eax\n\tpopl %%ecx\n\tmovl %%esp, %%edx");
    CHECK_EQ(rout.ebx, 0xfffffffeu);
    CHECK_EQ(rout.ecx, 0xa0a0a0a0u);
    CHECK_EQ(rout.edx, 2);
    CHECK_STORE(0xfffffffeu, 4, 0xa0a0a0a0u);
    /* Three pushes across the wrap with ESP's moves pending, an [esp+d]
     * load across it, then three pops. */
    fill();
    RUN("movl $4, %%esp\n\tpushl $0x111\n\tpushl %%eax\n\tpushw $0x2222\n\tpushw $0x3333\n\t"
        "movl 2(%%esp), %%ebx\n\tpopl %%ecx\n\tpopl %%edx\n\tpopl %%esi");
    CHECK_EQ(rout.ebx, 0xa0a02222u);
    CHECK_EQ(rout.ecx, 0x22223333u);
    CHECK_EQ(rout.edx, 0xa0a0a0a0u);
    CHECK_EQ(rout.esi, 0x111);
    CHECK_EQ(rout.esp, 4);
    CHECK_EQ(peek(0, 4), 0x111);
    CHECK_EQ(peek(0xfffffff8u, 4), 0x22223333u);
    /* PUSH and POP of memory, CALL, at ESP = 0. */
    fill();
    rin.ebx = 0xc0001000u;
    RUN("movl $0, %%esp\n\tpushl 0x10(%%ebx)\n\tpopl -4(%%ebx)\n\tpushl 0xc0000000\n\tpopl %%edx\n\t"
        "call 3f\n3:\tmovl %%esp, %%ecx\n\tpopl %%esi\n\tmovl $3b, %%edi");
    CHECK_LOAD(edx, 0xc0000000u, 4);
    CHECK_EQ(peek(0xc0000ffcu, 4), pat(0xc0001010u, 4));
    CHECK_EQ(rout.ecx, 0xfffffffcu);
    CHECK_EQ(rout.esi, rout.edi);
    CHECK_EQ(rout.esp, 0);
    CHECK_EQ(peek(0xfffffffcu, 4), rout.edi);
}

/* A 16-bit stack segment (B=0: SP wraps at 64 KiB, the upper half of ESP
 * stays; SDM vol. 1 §6.2.3) at a base: [r11 + r14 + SS.base] on the host. */
static void stack16(uint32_t base, uint32_t esp, int line)
{
    uint32_t sp = esp & 0xffff, hi = esp & ~0xffffu;
#define AT(off) (base + ((sp - (off)) & 0xffff))

    gdt[11] = seg_desc(base, 0xffff, 0x92, 0);
    fill();
    set_regs(0xa1b2c3d4u, 0, 0, 0, 0, esp, 0);
    RUN("movw $0x58, %%si\n\tmovw %%si, %%ss\n\tmovl %%edi, %%esp\n\t"
        "pushl %%eax\n\tpushw $0x2222\n\tmovl %%esp, %%ebx\n\tpopl %%ecx\n\tpopw %%dx\n\t"
        "call 3f\n3:\tpopl %%esi\n\tmovl %%esp, %%edi\n\tmovl $3b, %%ebp\n\t"
        "movw $0x10, %%ax\n\tmovw %%ax, %%ss");
    CHECK_EQ_CTX(rout.ebx, hi | ((sp - 6) & 0xffff), "line %d", line);
    CHECK_EQ_CTX(rout.ecx, 0xc3d42222u, "line %d", line);
    CHECK_EQ_CTX(rout.edx & 0xffff, 0xa1b2, "line %d", line);
    CHECK_EQ_CTX(rout.esi, rout.ebp, "line %d", line);
    CHECK_EQ_CTX(rout.edi, esp, "line %d", line);
    CHECK_EQ_CTX(peek(AT(4), 4), rout.ebp, "line %d: the return address at 0x%08x", line, AT(4));
    CHECK_EQ_CTX(peek(AT(6), 2), 0x2222, "line %d: pushw at 0x%08x", line, AT(6));
#undef AT
}

static void test_stack16(void)
{
    stack16(0xbfff1000u, 0x12340000u, __LINE__);    /* 0xC0000FFC: base + SP below the window */
    stack16(0xc0000000u, 0x00001008u, __LINE__);    /* 0xC0001004 */
    stack16(0xffff1000u, 0x56780000u, __LINE__);    /* base + 0xFFFC wraps to 0xFFC */
    stack16(0xffff0008u, 0x0000fff8u, __LINE__);    /* 0xFFFFFFFC, not wrapping: r14 - 4 on the host */
    stack16(0xffff0008u, 0x0000fffau, __LINE__);    /* the return address straddles 0xFFFFFFFF */
    stack16(0xffff0008u, 0x9abc0000u, __LINE__);    /* base + 0xFFFC wraps to 4 */
}

/* --- 4. faults through each form -------------------------------------------------- */

/* The last trap was a #PF at the instruction (TRY_BEGIN) with err and cr2;
 * ESI, EDI and ESP as they were before it (rin; ESP: esp_want). */
static void check_fault(uint32_t err, uint32_t cr2, uint32_t esp_want, int line)
{
    pg_check_pf(err, cr2, line);
    CHECK_EQ_CTX(rout.esi, rin.esi, "line %d: ESI", line);
    CHECK_EQ_CTX(rout.edi, rin.edi, "line %d: EDI", line);
    CHECK_EQ_CTX(rout.esp, esp_want, "line %d: ESP", line);
}
#define FAULT(err, cr2) check_fault((err), (cr2), rin.esp, __LINE__)

static void test_faults(void)
{
    /* AH..BH (the borrowed register), address from ESI and from EDI. */
    set_regs(0x1100, 0x2200, 0x3300, 0x4400, LIN_NP, LIN_NP + 0x100, 0);
    RUNF("movb %%ah, 0x10(%%esi)");
    FAULT(PFE_W, LIN_NP + 0x10);
    RUNF("movb %%dh, 0x10(%%edi)");
    FAULT(PFE_W, LIN_NP + 0x110);
    RUNF("movb %%dh, 0x10(%%esi)");
    FAULT(PFE_W, LIN_NP + 0x10);
    RUNF("addb 0x20(%%edi), %%bh");
    FAULT(0, LIN_NP + 0x120);
    RUNF("xchgb %%ch, 0x30(%%esi,%%edi,1)");
    FAULT(PFE_W, LIN_NP + LIN_NP + 0x130);
    rin.esi = 0x30, rin.edi = 0x40;
    RUNF("cmpxchgb %%ch, 0xc0003000(%%esi,%%edi,2)");
    FAULT(PFE_W, LIN_NP + 0xb0);
    RUNF("movb %%bh, 0x40000123");
    FAULT(PFE_W, LIN_NPLO + 0x123);
    /* Indexed, base + displacement, absolute high and low. */
    rin.esi = 5;
    RUNF("movl %%eax, 0xc0003000(,%%esi,4)");
    FAULT(PFE_W, LIN_NP + 0x14);
    rin.ebx = LIN_NP - 0x100;
    RUNF("movl %%ecx, 0x100(%%ebx,%%esi,8)");
    FAULT(PFE_W, LIN_NP + 0x28);
    RUNF("movl 0x120(%%ebx), %%eax");
    FAULT(0, LIN_NP + 0x20);
    rin.ecx = 0x44;
    RUNF("addl %%eax, 0xc0003000(%%ecx)");
    FAULT(PFE_W, LIN_NP + 0x44);
    RUNF("movl 0xc0003ffc, %%edx");
    FAULT(0, LIN_NP + 0xffc);
    RUNF("movl %%edx, 0x40000ffc");
    FAULT(PFE_W, LIN_NPLO + 0xffc);
    /* MOFFS. */
    RUNF("movl 0xc0003030, %%eax");
    FAULT(0, LIN_NP + 0x30);
    RUNF("movb %%al, 0x40000040");
    FAULT(PFE_W, LIN_NPLO + 0x40);
    RUNF("movw %%ax, 0xc0003050");
    FAULT(PFE_W, LIN_NP + 0x50);
    RUNF("movw 0x40000060, %%ax");
    FAULT(0, LIN_NPLO + 0x60);
    /* XLAT. */
    rin.ebx = LIN_NP, rin.eax = 0x55;
    RUNF("xlat");
    FAULT(0, LIN_NP + 0x55);
    /* A fault after a push: ESP includes the push (xlate_espdelta.c). */
    set_regs(0x1100, 0, 0, 0, 0, 0x99, 0);
    RUNF2("pushl $7\n\tmovl %%esp, %%esi\n\tnegl %%esi\n\taddl $0xc0003008, %%esi\n\t",
          "movb %%ah, (%%esp,%%esi,1)");
    pg_check_pf(PFE_W, LIN_NP + 8, __LINE__);
    CHECK_EQ(rout.esp, rin.esp - 4);
    CHECK_EQ(rout.edi, 0x99);
    CHECK_EQ(rout.esi + rout.esp, LIN_NP + 8);

    /* Through the guard: the top page not present, then page 0. */
    volatile uint32_t *top = pg_pte(pd, 0xfffff000u), *zero = pg_pte(pd, 0);
    uint32_t top_pte = *top, zero_pte = *zero;
    *top = 0;
    invlpg((void *)0xfffff000u);
    set_regs(0, 4, 0xfffffff8u, 0, 0, 0, 0);
    RUNF("movl -8(%%ebx), %%eax");
    FAULT(0, 0xfffffffcu);
    RUNF("movb %%ah, -6(%%ebx)");
    FAULT(PFE_W, 0xfffffffeu);
    RUNF("movl %%eax, 0xfffffff0(%%ebx,%%ebx,2)");
    FAULT(PFE_W, 0xfffffffcu);
    fill();
    RUNF("movl $0x12345678, 6(%%ecx)");             /* straddles: the first page faults */
    FAULT(PFE_W, 0xfffffffeu);
    *top = top_pte;
    invlpg((void *)0xfffff000u);
    *zero = 0;
    invlpg((void *)0);
    RUNF("movl $0x12345678, 6(%%ecx)");             /* the second page faults: nothing is written */
    FAULT(PFE_W, 0);
    RUNF("movl $0x12345678, 0xfffffffe");
    FAULT(PFE_W, 0);
    RUNF("movl 0x8(%%ecx), %%eax");
    FAULT(0, 0);
    *zero = zero_pte;
    invlpg((void *)0);
    CHECK_EQ(peek(0xfffffffeu, 4), pat(0xfffffffeu, 4));
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    pd = pg_setup();
    fr_top = (uint8_t *)pg_alloc();
    fr_zero = (uint8_t *)pg_alloc();
    for (int i = 0; i < 3; i++)
        fr_c[i] = (uint8_t *)pg_alloc();
    pg_map(pd, 0xfffff000u, (uint32_t)fr_top, PG_RW);
    pg_map(pd, 0, (uint32_t)fr_zero, PG_RW);
    for (uint32_t i = 0; i < 3; i++)
        pg_map(pd, LIN_C + i * 4096, (uint32_t)fr_c[i], PG_RW);
    pg_map(pd, LIN_NP, 0, PG_RW);
    *pg_pte(pd, LIN_NP) = 0;
    pg_enable(pd);

    test_forms();
    test_moffs();
    test_xlat();
    test_high_bytes();
    test_high_bytes_esp();
    test_stack();
    test_stack16();
    test_hot_wraps();
    test_seg_bases();
    test_faults();
    test_finish("mem_forms");
}
