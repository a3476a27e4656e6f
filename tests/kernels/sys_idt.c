/* sys_idt.c — exceptions and software interrupts through the IDT: each
 * vector's error code and saved EIP, interrupt vs trap gates, gate DPL,
 * not-present gates, #DF, a handler reached through a ring switch
 * (SDM vol. 3 §6.12-6.15). Self-checking. */
#include "sys_lib.h"

static void test_faults(void)
{
    uint32_t zero = 0, eax = 1, edx = 0;
    struct __attribute__((packed)) { int32_t lo, hi; } bounds = { 10, 20 };

    trap_reset();                                   /* #DE: EIP of the div */
    __asm__ volatile(TRY_BEGIN "divl %2" TRY_END : "+a"(eax), "+d"(edx) : "r"(zero) : "memory");
    CHECK_TRAP(0, 0);
    CHECK_EQ(last_trap.cs, SEL_KCODE);
    trap_reset();                                   /* #UD */
    __asm__ volatile(TRY_BEGIN "ud2" TRY_END ::: "memory");
    CHECK_TRAP(6, 0);
    trap_reset();                                   /* #BR */
    __asm__ volatile(TRY_BEGIN "bound %0, %1" TRY_END : : "r"(25), "m"(bounds) : "memory");
    CHECK_TRAP(5, 0);
    trap_reset();                                   /* in bounds: nothing */
    __asm__ volatile(TRY_BEGIN "bound %0, %1" TRY_END : : "r"(15), "m"(bounds) : "memory");
    CHECK_NO_TRAP();
    trap_reset();                                   /* #GP(0): privileged MSR */
    __asm__ volatile(TRY_BEGIN "rdmsr" TRY_END : : "c"(0x12345) : "eax", "edx", "memory");
    CHECK_TRAP(13, 0);
    trap_reset();                                   /* #GP(sel): bad segment */
    __asm__ volatile(TRY_BEGIN "mov %0, %%es" TRY_END : : "r"((uint16_t)0x7ff0) : "memory");
    CHECK_TRAP(13, 0x7ff0);
}

/* Traps: INT3, INTO, INT n, INT1 push the next instruction's EIP. */
static void test_traps(void)
{
    uint32_t after;
    trap_reset();
    __asm__ volatile("int3\n1:\tmovl $1b, %0" : "=m"(after) : : "memory");
    CHECK_EQ(last_trap.vector, 3);
    CHECK_EQ(last_trap.eip, after);
    trap_reset();
    __asm__ volatile("movl $0x7fffffff, %%eax\n\taddl $1, %%eax\n\tinto\n1:\tmovl $1b, %0"
                     : "=m"(after) : : "eax", "memory");
    CHECK_EQ(last_trap.vector, 4);
    CHECK_EQ(last_trap.eip, after);
    trap_reset();                                   /* INTO with OF clear: nothing */
    __asm__ volatile("xorl %%eax, %%eax\n\tinto" : : : "eax", "memory");
    CHECK_NO_TRAP();
    trap_reset();
    __asm__ volatile("int $0x42\n1:\tmovl $1b, %0" : "=m"(after) : : "memory");
    CHECK_EQ(last_trap.vector, 0x42);
    CHECK_EQ(last_trap.eip, after);
    CHECK_EQ(last_trap.error, 0);
    trap_reset();
    __asm__ volatile(".byte 0xf1\n1:\tmovl $1b, %0" : "=m"(after) : : "memory");
    CHECK_EQ(last_trap.vector, 1);
    CHECK_EQ(last_trap.eip, after);
}

/* Interrupt gates clear IF, trap gates keep it; both restore it on IRET. */
static void test_gates(void)
{
    uint32_t fl;
    set_gate(0x43, trap_stubs[0x43], SEL_KCODE, 0xf, 0);
    trap_reset();
    __asm__ volatile("sti\n\tint $0x42\n\tcli\n\tpushf\n\tpop %0" : "=r"(fl) : : "memory");
    CHECK(last_trap.eflags & FL_IF);                /* the frame's image: IF was set */
    CHECK(!(last_trap.handler_eflags & FL_IF));     /* an interrupt gate cleared it */
    trap_reset();
    __asm__ volatile("sti\n\tint $0x43\n\tpushf\n\tpop %0\n\tcli" : "=r"(fl) : : "memory");
    CHECK_EQ(last_trap.vector, 0x43);
    CHECK(last_trap.handler_eflags & FL_IF);        /* a trap gate keeps it */
    CHECK(fl & FL_IF);                              /* IRET restored it */
    /* Not-present gate: #NP(vector*8+2), EXT=0 for INT n. */
    idt[0x44] &= ~(1ull << 47);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "int $0x44" TRY_END ::: "memory");
    CHECK_TRAP(11, 0x44 * 8 + 2);
    set_trap_gate_default(0x44);
    /* A gate of a non-gate type: #GP(vector*8+2). */
    idt[0x45] = seg_desc(0, 0xfffff, 0x92, 0xc);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "int $0x45" TRY_END ::: "memory");
    CHECK_TRAP(13, 0x45 * 8 + 2);
    set_trap_gate_default(0x45);
    /* Beyond the IDT limit: #GP(vector*8+2). */
    lidt(idt, 0x46 * 8 - 1);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "int $0x46" TRY_END ::: "memory");
    CHECK_TRAP(13, 0x46 * 8 + 2);
    lidt(idt, sizeof idt - 1);
    /* An exception through a not-present gate: #NP with EXT=1. */
    idt[6] &= ~(1ull << 47);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "ud2" TRY_END ::: "memory");
    CHECK_TRAP(11, 6 * 8 + 2 + 1);
    set_trap_gate_default(6);
}

/* #DF: a #GP whose gate is not present raises #NP, two contributory
 * faults: #DF with error code 0 (SDM table 6-5). */
static void test_double_fault(void)
{
    idt[13] &= ~(1ull << 47);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "mov %0, %%es" TRY_END : : "r"((uint16_t)0x7ff0) : "memory");
    CHECK_TRAP(8, 0);
    set_trap_gate_default(13);
    /* Benign then contributory is handled serially: #UD through a
     * not-present gate is #NP, not #DF (checked in test_gates). */
}

/* Stack frame layout and the handler's stack at the same privilege. */
static void test_frame(void)
{
    uint32_t esp;
    trap_reset();
    __asm__ volatile("mov %%esp, %0\n\tint $0x42" : "=r"(esp) : : "memory");
    /* pusha (32) + vector + error + eip cs eflags below the old ESP. */
    CHECK_EQ(last_trap.handler_esp, esp - 12 - 8 - 32);
    CHECK_EQ(last_trap.cs, SEL_KCODE);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    test_faults();
    test_traps();
    test_gates();
    test_double_fault();
    test_frame();
    test_finish("sys_idt");
}
