/* inline_calls — calls and returns that call inlining (bt/xlate_inline.c)
 * and lazy ESP (bt/xlate_espdelta.c) must get right. All the code under
 * test is on one page (the asm block below, page-aligned), so a translation
 * inlines its callees, whether they lie before or after the call site.
 * Each case checks what it computed and where it arrived: nested calls,
 * calls back to an earlier address, a hand-built return (push addr; ret), a
 * longjmp-like stack switch, RET imm16, a callee that rewrites its own
 * return address, a #GP inside an inlined callee whose handler checks EIP
 * and ESP exactly (pending pushes and calls included), timer interrupts
 * while inlined code runs (with --poll-storm: many more stops), and a
 * callee whose code is rewritten after it was inlined, from outside and by
 * another inlined callee, a conditional exit taken with ESP's moves
 * pending. Run by default,
 * with --no-inline-calls and with --verify; the results must be the same
 * (and under QEMU). */
#include "sys_lib.h"

#define PIT_HZ 1193182u

uint32_t nested(uint32_t x);
uint32_t handmade(void);
uint32_t longjmp_like(void);
uint32_t stdcall_twice(void);
uint32_t skipper(void);
uint32_t ret_copy(uint32_t *top);
uint32_t fault_outer(void);
uint32_t smc_caller(void);
uint32_t lazy_mix(uint32_t x);
uint32_t smc2_caller(uint32_t v);
uint32_t jcc_caller(uint32_t x);
uint32_t fs_caller(uint32_t x);
extern uint8_t fault_at[], fault_after[], smc_imm[], leaf_before[], inl_page_end[];
extern volatile uint32_t fault_base, lj_esp;

__asm__(".text\n"
        ".balign 4096\n"
        /* Below every caller: calls back to an earlier address. */
        "leaf_before:\n"
        "    leal 1(%eax,%eax,2), %eax\n"   /* 3x + 1 */
        "    ret\n"
        "smc_callee:\n"
        "    movl $0x11111111, %eax\n"
        "smc_imm = . - 4\n"
        "    ret\n"
        /* Rewritten by an inlined callee of a block that starts above it. */
        "smc2_target:\n"
        "    movl $5, %eax\n"
        "smc2_imm = . - 4\n"
        "    ret\n"
        "smc2_writer:\n"
        "    movl %ecx, smc2_imm\n"
        "    movl %ecx, smc2_after_imm\n"
        "    ret\n"
        /* A conditional exit taken with pushes and a call pending in ESP. */
        "jcc_callee:\n"
        "    pushl %ebx\n"
        "    movl 8(%esp), %ebx\n"
        "    testl %ebx, %ebx\n"
        "    jz 1f\n"
        "    leal 5(%ebx), %eax\n"
        "    popl %ebx\n"
        "    ret\n"
        "1:  movl $77, %eax\n"
        "    popl %ebx\n"
        "    ret\n"
        /* Nested calls, 3 deep, callees before and after. */
        "nest3:\n"
        "    call leaf_before\n"
        "    call leaf_after\n"
        "    ret\n"
        "nest2:\n"
        "    pushl %ebx\n"
        "    movl %eax, %ebx\n"
        "    call nest3\n"
        "    addl %ebx, %eax\n"
        "    popl %ebx\n"
        "    ret\n"
        "nested:\n"                          /* cdecl: x at 4(%esp) */
        "    movl 4(%esp), %eax\n"
        "    call nest2\n"
        "    call nest2\n"
        "    ret\n"
        /* A hand-built return inside an inlined callee. */
        "hm_callee:\n"
        "    movl $1, %eax\n"
        "    pushl $1f\n"
        "    ret\n"
        "    movl $99, %eax\n"
        "1:  addl $10, %eax\n"
        "    ret\n"
        "handmade:\n"
        "    call hm_callee\n"
        "    addl $1, %eax\n"
        "    ret\n"
        /* longjmp: two calls deep, back to the saved ESP and a label. */
        "lj_b:\n"
        "    movl lj_esp, %esp\n"
        "    jmp lj_land\n"
        "lj_a:\n"
        "    pushl %ebx\n"
        "    call lj_b\n"
        "    movl $99, %eax\n"
        "    popl %ebx\n"
        "    ret\n"
        "longjmp_like:\n"
        "    movl %esp, lj_esp\n"
        "    call lj_a\n"
        "    movl $98, %eax\n"
        "    ret\n"
        "lj_land:\n"
        "    movl $42, %eax\n"
        "    ret\n"
        /* RET imm16 (stdcall), twice in a row. */
        "sc_sum:\n"
        "    movl 4(%esp), %eax\n"
        "    addl 8(%esp), %eax\n"
        "    ret $8\n"
        "stdcall_twice:\n"
        "    pushl $20\n"
        "    pushl $22\n"
        "    call sc_sum\n"
        "    pushl %eax\n"
        "    pushl $100\n"
        "    call sc_sum\n"
        "    ret\n"
        /* The callee moves its return address past the caller's next insn. */
        "skip_ret:\n"
        "    addl $5, (%esp)\n"
        "    ret\n"
        "skipper:\n"
        "    movl $7, %eax\n"
        "    call skip_ret\n"
        "    movl $99, %eax\n"              /* 5 bytes: skipped */
        "    addl $1, %eax\n"
        "    ret\n"
        /* The callee returns through a copy of its frame on another stack. */
        "rc_callee:\n"
        "    movl 4(%esp), %ecx\n"
        "    movl (%esp), %edx\n"
        "    movl %esp, -4(%ecx)\n"
        "    movl %edx, -8(%ecx)\n"
        "    leal -8(%ecx), %esp\n"
        "    movl $5, %eax\n"
        "    ret\n"
        "ret_copy:\n"
        "    movl 4(%esp), %ecx\n"
        "    pushl %ecx\n"
        "    call rc_callee\n"
        "    popl %esp\n"
        "    addl $8, %esp\n"
        "    addl $3, %eax\n"
        "    ret\n"
        /* #GP (a misaligned MOVAPS) two inlined calls and three pushes deep:
         * the handler resumes at fault_after with the ESP of the fault. */
        "fault_leaf:\n"
        "    pushl %edi\n"
        "    movl $0x1234, %edi\n"
        "fault_at:\n"
        "    movaps 1(%esp), %xmm0\n"
        "fault_after:\n"
        "    movl %edi, %eax\n"
        "    popl %edi\n"
        "    ret\n"
        "fault_mid:\n"
        "    pushl %ebx\n"
        "    pushl %esi\n"
        "    call fault_leaf\n"
        "    popl %esi\n"
        "    popl %ebx\n"
        "    addl $1, %eax\n"
        "    ret\n"
        "fault_outer:\n"
        "    pushl %ebp\n"
        "    movl %esp, %ebp\n"
        "    andl $-16, %esp\n"
        "    movl %esp, fault_base\n"
        "    call fault_mid\n"
        "    movl %ebp, %esp\n"
        "    popl %ebp\n"
        "    ret\n"
        /* A callee whose code is rewritten after it was inlined. */
        "smc_caller:\n"
        "    call smc_callee\n"
        "    addl $1, %eax\n"
        "    ret\n"
        /* Lazy ESP through [esp+d] operands, push/pop, ADD/SUB ESP with
         * their flags read, and LEA of ESP. */
        "mix_callee:\n"
        "    subl $12, %esp\n"
        "    movl 16(%esp), %eax\n"
        "    movl %eax, 4(%esp)\n"
        "    leal 4(%esp), %ecx\n"
        "    movl (%ecx), %eax\n"
        "    addl $12, %esp\n"
        "    setnz %cl\n"                    /* ZF of the ADD: ESP != 0 */
        "    movzbl %cl, %ecx\n"
        "    addl %ecx, %eax\n"
        "    ret\n"
        "lazy_mix:\n"
        "    pushl %esi\n"
        "    pushl %edi\n"
        "    movl 12(%esp), %esi\n"
        "    pushl %esi\n"
        "    call mix_callee\n"
        "    addl $4, %esp\n"
        "    movl %esp, %edi\n"
        "    call leaf_after\n"
        "    cmpl %esp, %edi\n"
        "    jne 1f\n"
        "    popl %edi\n"
        "    popl %esi\n"
        "    ret\n"
        "1:  movl $0xdead, %eax\n"
        "    popl %edi\n"
        "    popl %esi\n"
        "    ret\n"
        "smc2_caller:\n"
        "    movl 4(%esp), %ecx\n"
        "    call smc2_target\n"
        "    call smc2_writer\n"
        "    call smc2_target\n"
        "    movl $5, %edx\n"                /* rewritten too: after the RET */
        "smc2_after_imm = . - 4\n"
        "    addl %edx, %eax\n"
        "    ret\n"
        "jcc_caller:\n"
        "    movl 4(%esp), %eax\n"
        "    pushl %eax\n"
        "    call jcc_callee\n"
        "    addl $4, %esp\n"
        "    ret\n"
        /* With FS based at -4 (a block with a segment base, as Linux's
         * per-CPU FS): an FS operand on ESP with pushes pending. */
        "fs_callee:\n"
        "    pushl %ebx\n"
        "    movl %fs:12(%esp), %eax\n"     /* linear ESP + 8: the argument */
        "    popl %ebx\n"
        "    ret\n"
        "fs_caller:\n"
        "    movl 4(%esp), %eax\n"
        "    pushl %eax\n"
        "    call fs_callee\n"
        "    addl $4, %esp\n"
        "    ret\n"
        /* Above every caller. */
        "leaf_after:\n"
        "    addl $7, %eax\n"
        "    ret\n"
        "inl_page_end:\n");

volatile uint32_t fault_base, lj_esp;
static volatile uint32_t ticks;

static uint32_t ref_nest2(uint32_t x)
{
    uint32_t a = (3 * x + 1) + 7;
    return a + x;
}

static uint32_t ref_nested(uint32_t x) { return ref_nest2(ref_nest2(x)); }

static void on_irq(struct trap_frame *f)
{
    if (f->vector == 0x20)
        ticks++;
    outb(0x20, 0x20);
}

static void check_fault(void)
{
    trap_reset();
    resume_eip = (uint32_t)fault_after;
    CHECK_EQ(fault_outer(), 0x1235u);
    CHECK_EQ(last_trap.vector, 13);
    CHECK_EQ(last_trap.error, 0u);
    CHECK_EQ(last_trap.eip, (uint32_t)fault_at);
    /* At the fault: fault_mid's return, EBX, ESI, fault_leaf's return, EDI
     * below the aligned base; the frame is EFLAGS CS EIP, error, vector and
     * PUSHA's 32 bytes (sys_idt.c). */
    CHECK_EQ(last_trap.handler_esp + 12 + 8 + 32, fault_base - 20);
}

static uint32_t storm(uint32_t n)
{
    uint32_t h = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t x = i * 2654435761u;
        if (nested(x) != ref_nested(x) || lazy_mix(x) != x + 1 + 7)
            return i + 1;
        h += stdcall_twice();
    }
    return h == n * 142 ? 0 : 0xffffffff;
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    uint32_t cr4;

    sys_init();
    CHECK(inl_page_end - leaf_before <= 4096);     /* the code under test is on one page */
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    cr4 |= 0x600;                       /* OSFXSR, OSXMMEXCPT: SSE for the #GP case */
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
    for (int round = 0; round < 4; round++) {      /* translated, then chained */
        CHECK_EQ(nested(5), ref_nested(5));
        CHECK_EQ(nested(0xfffffff0u), ref_nested(0xfffffff0u));
        CHECK_EQ(handmade(), 12u);
        CHECK_EQ(longjmp_like(), 42u);
        CHECK_EQ(stdcall_twice(), 142u);
        CHECK_EQ(skipper(), 8u);
        static uint32_t other[64];
        CHECK_EQ(ret_copy(&other[64]), 8u);
        CHECK_EQ(lazy_mix(40), 48u);
        CHECK_EQ(jcc_caller(3), 8u);
        CHECK_EQ(jcc_caller(0), 77u);
        CHECK_EQ(smc2_caller(5), 10u);          /* the same bytes: nothing changes */
        check_fault();
    }
    /* Rewrite the inlined callee's immediate from outside. */
    CHECK_EQ(smc_caller(), 0x11111112u);
    *(volatile uint32_t *)smc_imm = 0x22222222;
    CHECK_EQ(smc_caller(), 0x22222223u);
    /* An inlined callee rewrites another one below the block's first byte,
     * which the same translation called before, and an instruction after
     * its own return: the block must stop. */
    CHECK_EQ(smc2_caller(6), 12u);
    CHECK_EQ(smc2_caller(7), 14u);

    /* FS based at -4: the callees of a block with a segment base are inlined too. */
    gdt[7] = seg_desc(0xfffffffcu, 0xfffff, 0x92, 0xc);
    __asm__ volatile("mov %0, %%fs" : : "r"(0x38) : "memory");
    for (int round = 0; round < 3; round++)
        CHECK_EQ(fs_caller(0x5a5a0000u + (uint32_t)round), 0x5a5a0000u + (uint32_t)round);
    __asm__ volatile("mov %0, %%fs" : : "r"(SEL_KDATA) : "memory");

    /* Timer interrupts (and, with --poll-storm, monitor stops) at every
     * block entry of the inlined code. */
    sys_irq_hook = on_irq;
    pic_init_masks(0xfe, 0xff);
    pit_rate(PIT_HZ / 4000);
    __asm__ volatile("sti");
    uint32_t bad = 0;
    for (int k = 0; k < 50 && !bad; k++)
        bad = storm(2000);
    __asm__ volatile("cli");
    CHECK_EQ(bad, 0u);
    kprintf("inline_calls: %u timer interrupts\n", ticks);
    test_finish("inline_calls");
}
