/* stack.c — implicit stack accesses. The translator rewrites every one of
 * these (guest ESP is host RSP, but pushes become gs: stores plus lea), so
 * each checks the values written, the values read, and ESP afterwards.
 * Register-heavy cases are assembly functions (cdecl, results stored through
 * the pointer argument) so that every register can be used. */
#include "kernel.h"

/* Results of the assembly functions below. */
static uint32_t out[32];

/* --- PUSH/POP of registers, ESP included --------------------------------- */

uint32_t push_pop_regs(uint32_t *o);
__asm__(".text\n"
        "push_pop_regs:\n"
        "    pushl %ebp; pushl %ebx; pushl %esi; pushl %edi\n"
        "    movl 20(%esp), %edi\n"
        "    movl $0x11111111, %eax\n"
        "    movl $0x22222222, %ecx\n"
        "    movl $0x33333333, %edx\n"
        "    movl $0x44444444, %ebx\n"
        "    movl $0x55555555, %ebp\n"
        "    movl $0x66666666, %esi\n"
        "    pushl %eax; pushl %ecx; pushl %edx; pushl %ebx\n"      /* 50 51 52 53 */
        "    pushl %ebp; pushl %esi; pushl %edi\n"                  /* 55 56 57 */
        "    popl %eax; popl %ecx; popl %edx; popl %ebx\n"          /* rotated: 58.. */
        "    popl %ebp; popl %esi; popl %edi\n"
        /* now eax=edi(o) ecx=66 edx=55 ebx=44 ebp=33 esi=22 edi=11 */
        "    movl %ecx, 4(%eax); movl %edx, 8(%eax); movl %ebx, 12(%eax)\n"
        "    movl %ebp, 16(%eax); movl %esi, 20(%eax); movl %edi, 24(%eax)\n"
        "    movl %eax, %edi\n"
        /* PUSH ESP pushes the value ESP had before the push (54). */
        "    movl %esp, %edx\n"
        "    pushl %esp\n"
        "    popl %ecx\n"
        "    subl %edx, %ecx\n"
        "    movl %ecx, 28(%edi)\n"          /* 0 */
        /* POP ESP: ESP gets the popped value (5C). */
        "    leal -64(%esp), %eax\n"
        "    pushl %eax\n"
        "    popl %esp\n"
        "    movl %esp, %ecx\n"
        "    movl %edx, %esp\n"
        "    subl %edx, %ecx\n"
        "    movl %ecx, 32(%edi)\n"          /* -64 */
        "    popl %edi; popl %esi; popl %ebx; popl %ebp\n"
        "    ret\n");

static void test_push_pop_regs(void)
{
    push_pop_regs(out);
    CHECK_EQ(out[1], 0x66666666);
    CHECK_EQ(out[2], 0x55555555);
    CHECK_EQ(out[3], 0x44444444);
    CHECK_EQ(out[4], 0x33333333);
    CHECK_EQ(out[5], 0x22222222);
    CHECK_EQ(out[6], 0x11111111);
    CHECK_EQ(out[7], 0);
    CHECK_EQ(out[8], (uint32_t)-64);
}

/* --- PUSH/POP memory, ESP-based addressing -------------------------------- */

uint32_t msrc = 0xFEEDFACE, mdst;      /* used by name from assembly */

uint32_t push_pop_esp_relative(uint32_t *o);
__asm__(".text\n"
        "push_pop_esp_relative:\n"
        "    pushl %ebx\n"
        "    movl 8(%esp), %ecx\n"
        "    movl %esp, %edx\n"                  /* E */
        "    pushl $0xAAAA\n"                    /* [E-4] */
        "    pushl $0xBBBB\n"                    /* [E-8] */
        "    pushl $0xCCCC\n"                    /* [E-12] */
        /* POP m32 with an ESP base: the address is computed after ESP is
         * incremented (SDM Vol. 2B POP): pops CCCC, ESP = E-8, stores at
         * [E-8+4] = [E-4]. */
        "    popl 4(%esp)\n"
        "    movl %esp, %eax; subl %edx, %eax; movl %eax, 0(%ecx)\n"     /* -8 */
        "    movl -4(%edx), %eax; movl %eax, 4(%ecx)\n"                  /* CCCC */
        "    movl -8(%edx), %eax; movl %eax, 8(%ecx)\n"                  /* BBBB */
        /* PUSH m32 with an ESP base: the address uses ESP before the push:
         * pushes [E-8+4] = CCCC to [E-12]. */
        "    pushl 4(%esp)\n"
        "    movl -12(%edx), %eax; movl %eax, 12(%ecx)\n"                /* CCCC */
        /* POP (%esp): pops [E-12], ESP = E-8, writes it to [E-8]. */
        "    movl $0xDDDD, (%esp)\n"
        "    popl (%esp)\n"
        "    movl -8(%edx), %eax; movl %eax, 16(%ecx)\n"                 /* DDDD */
        "    movl %esp, %eax; subl %edx, %eax; movl %eax, 20(%ecx)\n"    /* -8 */
        /* PUSH/POP with absolute addresses (FF 35 / 8F 05 disp32) */
        "    pushl msrc\n"
        "    popl mdst\n"
        /* PUSH imm8 is sign-extended (6A); PUSH imm32 (68) */
        "    pushl $-1\n"
        "    pushl $0x7F\n"
        "    pushl $0x80\n"
        "    pushl $0x12345678\n"
        "    popl 24(%ecx); popl 28(%ecx); popl 32(%ecx); popl 36(%ecx)\n"
        "    movl %esp, %eax; subl %edx, %eax; movl %eax, 40(%ecx)\n"    /* -8 */
        "    movl %edx, %esp\n"
        "    popl %ebx\n"
        "    ret\n");

static void test_push_pop_mem(void)
{
    push_pop_esp_relative(out);
    CHECK_EQ(out[0], (uint32_t)-8);
    CHECK_EQ(out[1], 0xCCCC);
    CHECK_EQ(out[2], 0xBBBB);
    CHECK_EQ(out[3], 0xCCCC);
    CHECK_EQ(out[4], 0xDDDD);
    CHECK_EQ(out[5], (uint32_t)-8);
    CHECK_EQ(mdst, 0xFEEDFACE);
    CHECK_EQ(out[6], 0x12345678);
    CHECK_EQ(out[7], 0x80);
    CHECK_EQ(out[8], 0x7F);
    CHECK_EQ(out[9], 0xFFFFFFFF);
    CHECK_EQ(out[10], (uint32_t)-8);
}

/* --- 16-bit PUSH/POP (66 prefix): ESP moves by 2 -------------------------- */

uint16_t w16src = 0xBEEF, w16dst;      /* used by name from assembly */

uint32_t push_pop_16(uint32_t *o);
__asm__(".text\n"
        "push_pop_16:\n"
        "    movl 4(%esp), %ecx\n"
        "    movl %esp, %edx\n"
        "    movl $0x12345678, %eax\n"
        "    pushw %ax\n"                         /* 66 50 */
        "    pushw $0x1234\n"                     /* 66 68 iw */
        "    pushw $-2\n"                         /* 66 6A ib: 0xFFFE */
        "    pushw w16src\n"                      /* 66 FF 35 disp32 */
        "    movl %esp, %eax; subl %edx, %eax; movl %eax, 0(%ecx)\n"   /* -8 */
        "    movl (%esp), %eax; movl %eax, 4(%ecx)\n"                  /* FFFE:BEEF */
        "    movl 4(%esp), %eax; movl %eax, 8(%ecx)\n"                 /* 5678:1234 */
        "    popw w16dst\n"                       /* 66 8F 05 disp32 */
        "    movl $0xAAAAAAAA, %eax\n"
        "    popw %ax\n"                          /* 66 58: only AX */
        "    movl %eax, 12(%ecx)\n"                                    /* AAAAFFFE */
        "    popl %eax\n"                         /* 32-bit pop of two 16-bit pushes */
        "    movl %eax, 16(%ecx)\n"                                    /* 56781234 */
        "    movl %esp, %eax; subl %edx, %eax; movl %eax, 20(%ecx)\n"  /* 0 */
        "    ret\n");

static void test_push_pop_16(void)
{
    push_pop_16(out);
    CHECK_EQ(out[0], (uint32_t)-8);
    CHECK_EQ(out[1], 0xFFFEBEEF);
    CHECK_EQ(out[2], 0x56781234);
    CHECK_EQ(w16dst, 0xBEEF);
    CHECK_EQ(out[3], 0xAAAAFFFE);
    CHECK_EQ(out[4], 0x56781234);
    CHECK_EQ(out[5], 0);
}

/* --- PUSHA/POPA, 32- and 16-bit -------------------------------------------- */

uint32_t pusha_popa(uint32_t *o);
__asm__(".text\n"
        "pusha_popa:\n"
        "    pushl %ebp; pushl %ebx; pushl %esi; pushl %edi\n"
        "    movl 20(%esp), %ebp\n"
        "    movl %ebp, o_ptr\n"
        "    movl %esp, esp_save\n"
        "    movl $0xA0, %eax; movl $0xC0, %ecx; movl $0xD0, %edx; movl $0xB0, %ebx\n"
        "    movl $0x5E, %esi; movl $0xD1, %edi; movl $0xBB, %ebp\n"
        /* PUSHA: EAX ECX EDX EBX (original) ESP EBP ESI EDI, EDI lowest. */
        "    pushal\n"
        "    movl o_ptr, %eax\n"
        "    movl 0(%esp), %ecx; movl %ecx, 0(%eax)\n"     /* EDI */
        "    movl 4(%esp), %ecx; movl %ecx, 4(%eax)\n"     /* ESI */
        "    movl 8(%esp), %ecx; movl %ecx, 8(%eax)\n"     /* EBP */
        "    movl 12(%esp), %ecx; subl esp_save, %ecx; movl %ecx, 12(%eax)\n"  /* ESP: 0 */
        "    movl 16(%esp), %ecx; movl %ecx, 16(%eax)\n"   /* EBX */
        "    movl 20(%esp), %ecx; movl %ecx, 20(%eax)\n"   /* EDX */
        "    movl 24(%esp), %ecx; movl %ecx, 24(%eax)\n"   /* ECX */
        "    movl 28(%esp), %ecx; movl %ecx, 28(%eax)\n"   /* EAX */
        /* POPA loads the others and skips the ESP slot. */
        "    movl $0x1, 0(%esp); movl $0x2, 4(%esp); movl $0x3, 8(%esp)\n"
        "    movl $0xDEAD, 12(%esp)\n"
        "    movl $0x4, 16(%esp); movl $0x5, 20(%esp); movl $0x6, 24(%esp); movl $0x7, 28(%esp)\n"
        "    popal\n"
        "    pushl %eax\n"
        "    movl o_ptr, %eax\n"
        "    popl 32(%eax)\n"                               /* 7 */
        "    movl %ecx, 36(%eax); movl %edx, 40(%eax); movl %ebx, 44(%eax)\n"
        "    movl %ebp, 48(%eax); movl %esi, 52(%eax); movl %edi, 56(%eax)\n"
        "    movl %esp, %ecx; subl esp_save, %ecx; movl %ecx, 60(%eax)\n"   /* 0 */
        /* PUSHAW/POPAW: eight 16-bit registers, ESP moves by 16. */
        "    movl $0xFFFF1111, %ecx; movl $0xFFFF2222, %edx\n"
        "    pushaw\n"
        "    movl %esp, %ebx; subl esp_save, %ebx; movl %ebx, 64(%eax)\n"   /* -16 */
        /* DI SI BP SP BX DX CX AX from ESP up, two bytes each */
        "    movl 10(%esp), %ebx; movl %ebx, 68(%eax)\n"    /* CX:DX slots */
        "    movw $0x7777, 6(%esp)\n"                       /* SP slot: skipped */
        "    movw $0x3333, 12(%esp)\n"                      /* CX */
        "    movl $0x12340000, %ecx\n"
        "    popaw\n"
        "    movl %ecx, 72(%eax)\n"                         /* 12343333 */
        "    movl %esp, %ecx; subl esp_save, %ecx; movl %ecx, 76(%eax)\n"   /* 0 */
        "    popl %edi; popl %esi; popl %ebx; popl %ebp\n"
        "    ret\n"
        ".data\n"
        "o_ptr: .long 0\n"
        "esp_save: .long 0\n"
        ".text\n");

static void test_pusha_popa(void)
{
    pusha_popa(out);
    CHECK_EQ(out[0], 0xD1);
    CHECK_EQ(out[1], 0x5E);
    CHECK_EQ(out[2], 0xBB);
    CHECK_EQ(out[3], 0);
    CHECK_EQ(out[4], 0xB0);
    CHECK_EQ(out[5], 0xD0);
    CHECK_EQ(out[6], 0xC0);
    CHECK_EQ(out[7], 0xA0);
    CHECK_EQ(out[8], 7);
    CHECK_EQ(out[9], 6);
    CHECK_EQ(out[10], 5);
    CHECK_EQ(out[11], 4);
    CHECK_EQ(out[12], 3);
    CHECK_EQ(out[13], 2);
    CHECK_EQ(out[14], 1);
    CHECK_EQ(out[15], 0);
    CHECK_EQ(out[16], (uint32_t)-16);
    CHECK_EQ(out[17], 0x11112222);
    CHECK_EQ(out[18], 0x12343333);
    CHECK_EQ(out[19], 0);
}

/* --- ENTER/LEAVE ------------------------------------------------------------
 * ENTER size, level (SDM Vol. 2A): push EBP; FrameTemp = ESP; for levels
 * 2..L copy the enclosing frame pointers, EBP -= 4 and push [EBP] each time;
 * if L > 0 push FrameTemp; EBP = FrameTemp; ESP -= size.
 * enter_N(o, fake_ebp) records EBP and ESP after ENTER (relative to E, the
 * ESP before it), the four words below E, EBP/ESP after LEAVE, and E. */
#define ENTER_TEST(level)                                                       \
    "enter_" #level ":\n"                                                       \
    "    pushl %ebp; pushl %ebx; pushl %esi; pushl %edi\n"                      \
    "    movl 20(%esp), %edi\n"                                                 \
    "    movl 24(%esp), %ebp\n"                                                 \
    "    movl %esp, %esi\n"                                                     \
    "    enter $24, $" #level "\n"                                              \
    "    movl %ebp, %eax; subl %esi, %eax; movl %eax, 0(%edi)\n"                \
    "    movl %esp, %eax; subl %esi, %eax; movl %eax, 4(%edi)\n"                \
    "    movl -4(%esi), %eax; movl %eax, 8(%edi)\n"                             \
    "    movl -8(%esi), %eax; movl %eax, 12(%edi)\n"                            \
    "    movl -12(%esi), %eax; movl %eax, 16(%edi)\n"                           \
    "    movl -16(%esi), %eax; movl %eax, 20(%edi)\n"                           \
    "    leave\n"                                                               \
    "    movl %ebp, 24(%edi)\n"                                                 \
    "    movl %esp, %eax; subl %esi, %eax; movl %eax, 28(%edi)\n"               \
    "    movl %esi, 32(%edi)\n"                                                 \
    "    popl %edi; popl %esi; popl %ebx; popl %ebp\n"                          \
    "    ret\n"
void enter_0(uint32_t *o, uint32_t *fake_ebp);
void enter_1(uint32_t *o, uint32_t *fake_ebp);
void enter_2(uint32_t *o, uint32_t *fake_ebp);
void enter_3(uint32_t *o, uint32_t *fake_ebp);
__asm__(".text\n" ENTER_TEST(0) ENTER_TEST(1) ENTER_TEST(2) ENTER_TEST(3));

static void test_enter_leave(void)
{
    /* an enclosing "display" of frame pointers below the fake EBP */
    static uint32_t frame[4] = { 0xD3, 0xD2, 0xD1, 0x0 };
    uint32_t *ebp0 = &frame[3];
    void (*const fns[4])(uint32_t *, uint32_t *) = { enter_0, enter_1, enter_2, enter_3 };
    for (int level = 0; level < 4; level++) {
        memset(out, 0, sizeof out);
        fns[level](out, ebp0);
        uint32_t temp = (uint32_t)-4;                   /* FrameTemp, relative to E */
        int pushed = level == 0 ? 1 : level + 1;        /* words pushed by ENTER */
        CHECK_EQ_CTX(out[0], temp, "enter level %d: EBP", level);
        CHECK_EQ_CTX(out[1], (uint32_t)(-4 * pushed - 24), "enter level %d: ESP", level);
        CHECK_EQ_CTX(out[2], (uint32_t)ebp0, "enter level %d: saved EBP", level);
        if (level >= 2) CHECK_EQ_CTX(out[3], 0xD1, "enter level %d: display[1]", level);
        if (level >= 3) CHECK_EQ_CTX(out[4], 0xD2, "enter level %d: display[2]", level);
        if (level >= 1) CHECK_EQ_CTX(out[2 + level], out[8] - 4, "enter level %d: FrameTemp", level);
        CHECK_EQ_CTX(out[6], (uint32_t)ebp0, "leave level %d: EBP", level);
        CHECK_EQ_CTX(out[7], 0, "leave level %d: ESP", level);
    }
}

/* --- CALL/RET, RET imm16 ---------------------------------------------------- */

uint32_t add_ret8(void);
__asm__(".text\n"
        "add_ret8:\n"
        "    movl 4(%esp), %eax\n"
        "    addl 8(%esp), %eax\n"
        "    ret $8\n");                 /* C2 iw: pop the return address, then 8 bytes */

static void test_call_ret(void)
{
    uint32_t sum, delta, ret_addr, expect;
    __asm__ volatile("movl %%esp, %%edx\n\t"
                     "pushl $40\n\t"
                     "pushl $2\n\t"
                     "call add_ret8\n\t"
                     "subl %%esp, %%edx\n\t"
                     : "=a"(sum), "=d"(delta) : : "ecx", "memory", "cc");
    CHECK_EQ(sum, 42);
    CHECK_EQ(delta, 0);
    /* CALL pushes the address of the next instruction. */
    __asm__ volatile("call 1f\n"
                     "1:\tpopl %0\n\t"
                     "movl $1b, %1" : "=r"(ret_addr), "=r"(expect));
    CHECK_EQ(ret_addr, expect);
}

/* --- PUSHF/POPF ---------------------------------------------------------------
 * Arithmetic flags and DF round-trip through POPF/PUSHF (PUSHF and POPF are
 * virtualised by the translator: IF/IOPL live in the vCPU, the rest in host
 * RFLAGS). Bit 1 reads as 1; bits 3, 5, 15 read as 0 (SDM Vol. 1 3.4.3). */
static void test_pushf_popf(void)
{
    static const uint32_t bit[7] = { FL_CF, FL_PF, FL_AF, FL_ZF, FL_SF, FL_OF, FL_DF };
    for (int comb = 0; comb < 128; comb++) {
        uint32_t fin = FL_FIXED, f;
        for (int i = 0; i < 7; i++)
            if (comb & (1 << i)) fin |= bit[i];
        __asm__ volatile("pushl %1; popfl; pushfl; popl %0; cld" : "=r"(f) : "r"(fin) : "cc");
        CHECK_EQ_CTX(f & ~FL_IF, fin, "popf/pushf 0x%x", fin);
    }
    uint32_t f;
    __asm__ volatile("pushl %1; popfl; pushfl; popl %0" : "=r"(f) : "r"(0x8028) : "cc");
    CHECK_EQ(f & 0x802A, FL_FIXED);

    /* DF set by POPF steers string instructions; STD/CLD show in PUSHF. */
    static const char s[] = "abc";
    uint32_t esi = (uint32_t)&s[2], al;
    __asm__ volatile("pushl %3; popfl; lodsb; cld" : "=a"(al), "+S"(esi) : "m"(s), "r"(FL_FIXED | FL_DF) : "cc");
    CHECK_EQ(al & 0xFF, 'c');
    CHECK_EQ(esi, (uint32_t)&s[1]);
    __asm__ volatile("std; pushfl; popl %0; cld" : "=r"(f) : : "cc");
    CHECK_EQ(f & FL_DF, FL_DF);
    __asm__ volatile("cld; pushfl; popl %0" : "=r"(f) : : "cc");
    CHECK_EQ(f & FL_DF, 0);

    /* 16-bit PUSHF/POPF (66 9C / 66 9D): the low word; ESP moves by 2. */
    uint32_t lo16, f2, delta;
    __asm__ volatile("movl %%esp, %[d]\n\t"
                     "pushl %[fin]; popfl\n\t"
                     "pushfw\n\t"
                     "subl %%esp, %[d]\n\t"
                     "movzwl (%%esp), %[lo]\n\t"
                     "movw %w[fin2], (%%esp)\n\t"
                     "popfw\n\t"
                     "pushfl; popl %[f2]"
                     : [d] "=&r"(delta), [lo] "=&r"(lo16), [f2] "=&r"(f2)
                     : [fin] "r"(FL_FIXED | FL_CF | FL_SF), [fin2] "r"(FL_FIXED | FL_ZF | FL_OF)
                     : "cc", "memory");
    CHECK_EQ(delta, 2);
    CHECK_EQ(lo16 & FL_ARITH, FL_CF | FL_SF);
    CHECK_EQ(f2 & FL_ARITH, FL_ZF | FL_OF);

#ifndef KERNEL_HOSTED
    /* At CPL 0 POPF also writes IOPL (bits 12-13); IF is the io test's. */
    __asm__ volatile("pushfl; popl %%eax; orl $0x3000, %%eax; pushl %%eax; popfl;"
                     "pushfl; popl %0; andl $~0x3000, %%eax; pushl %%eax; popfl"
                     : "=r"(f) : : "eax", "cc");
    CHECK_EQ(f & FL_IOPL, FL_IOPL);
    __asm__ volatile("pushfl; popl %0" : "=r"(f));
    CHECK_EQ(f & FL_IOPL, 0);
#endif
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    test_push_pop_regs();
    test_push_pop_mem();
    test_push_pop_16();
    test_pusha_popa();
    test_enter_leave();
    test_call_ret();
    test_pushf_popf();
    test_finish("stack");
}
