/* superblock — translations that run on past not-taken conditional
 * branches (bt/xlate_block.c, superblocks): each taken side exit must go to
 * its target with the state of that point, a chain of more branches than a
 * block has exits must split correctly, and a fault after some not-taken
 * branches must report the faulting instruction and the registers as they
 * were there; the same through forward JMPs the translation continues at.
 * Run with and without --no-superblocks. */
#include "sys_lib.h"

/* Which of eight consecutive tests of ECX's bits is the first one set?
 * Each is a Jcc whose fall-through continues the translation. */
uint32_t first_bit(uint32_t x);
__asm__(".text\n"
        "first_bit:\n"
        "    movl 4(%esp), %ecx\n"
        "    xorl %eax, %eax\n"
        "    testl $1, %ecx;   jnz 1f; incl %eax\n"
        "    testl $2, %ecx;   jnz 1f; incl %eax\n"
        "    testl $4, %ecx;   jnz 1f; incl %eax\n"
        "    testl $8, %ecx;   jnz 1f; incl %eax\n"
        "    testl $16, %ecx;  jnz 1f; incl %eax\n"
        "    testl $32, %ecx;  jnz 1f; incl %eax\n"
        "    testl $64, %ecx;  jnz 1f; incl %eax\n"
        "    testl $128, %ecx; jnz 1f; incl %eax\n"
        "1:  ret\n");

/* A divide by zero after two not-taken branches, registers changed
 * between them: the #DE must name the DIV, with EBX and ESI as written. */
uint32_t fault_mid(uint32_t divisor, uint32_t *regs);
extern const uint8_t fault_mid_div[], fault_mid_resume[];
__asm__(".text\n"
        "fault_mid:\n"
        "    pushl %ebx; pushl %esi\n"
        "    movl 12(%esp), %ecx\n"
        "    movl $100, %eax\n"
        "    xorl %edx, %edx\n"
        "    movl $0x1234, %ebx\n"
        "    cmpl $7, %ecx;  je 2f\n"        /* not taken for 0 */
        "    movl $0x5678, %esi\n"
        "    cmpl $8, %ecx;  je 2f\n"        /* not taken for 0 */
        "    addl $1, %ebx\n"
        "fault_mid_div:\n"
        "    divl %ecx\n"
        "    cmpl $9, %ecx;  je 2f\n"
        "    jmp 3f\n"
        "fault_mid_resume:\n"
        "    movl $0xdead, %eax\n"
        "3:\n"
        "fault_mid_tail:\n"                    /* also jumps_fault's */
        "    movl 16(%esp), %ecx\n"
        "    movl %ebx, 0(%ecx); movl %esi, 4(%ecx)\n"
        "    popl %esi; popl %ebx\n"
        "    ret\n"
        "2:\n"
        "fault_mid_side:\n"
        "    movl $0xbeef, %eax\n"
        "    popl %esi; popl %ebx\n"
        "    ret\n");

/* Forward JMPs the translation continues through (an if/else shape): the
 * skipped bytes must not run, and a #DE after two JMPs must name the DIV
 * with the registers written before and between them. */
uint32_t jumps_fault(uint32_t divisor, uint32_t *regs);
extern const uint8_t jumps_div[], jumps_resume[];
__asm__(".text\n"
        "jumps_fault:\n"
        "    pushl %ebx; pushl %esi\n"
        "    movl 12(%esp), %ecx\n"
        "    movl $100, %eax\n"
        "    xorl %edx, %edx\n"
        "    movl $0x1111, %ebx\n"
        "    jmp 4f\n"
        "    movl $0xbad, %ebx\n"               /* skipped */
        "    ud2\n"
        "4:  movl $0x2222, %esi\n"
        "    cmpl $7, %ecx;  je fault_mid_side\n"   /* not taken for 0 */
        "    jmp 5f\n"
        "    .fill 40, 1, 0xcc\n"              /* skipped: int3 */
        "5:  addl $2, %ebx\n"
        "jumps_div:\n"
        "    divl %ecx\n"
        "    jmp fault_mid_tail\n"
        "jumps_resume:\n"
        "    movl $0xdead, %eax\n"
        "    jmp fault_mid_tail\n");

/* fn(7) and fn(8) take the side exit (the latter only for fault_mid),
 * fn(5) divides, fn(0) raises #DE at div, resumed at resume; EBX and ESI
 * must read ebx and esi both times. */
static void check_fault(uint32_t (*fn)(uint32_t, uint32_t *), const uint8_t *div,
                        const uint8_t *resume, uint32_t ebx, uint32_t esi)
{
    uint32_t regs[2] = { 0, 0 };

    CHECK_EQ(fn(7, regs), 0xbeefu);
    CHECK_EQ(fn(5, regs), 20u);
    CHECK_EQ(regs[0], ebx);
    CHECK_EQ(regs[1], esi);
    trap_reset();
    resume_eip = (uint32_t)resume;
    regs[0] = regs[1] = 0;
    CHECK_EQ(fn(0, regs), 0xdeadu);
    CHECK_EQ(last_trap.vector, 0);
    CHECK_EQ(last_trap.eip, (uint32_t)div);
    CHECK_EQ(regs[0], ebx);
    CHECK_EQ(regs[1], esi);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    for (int round = 0; round < 3; round++) {
        for (uint32_t b = 0; b < 9; b++)
            CHECK_EQ(first_bit(b < 8 ? 1u << b | 0x100 : 0x100), b);
        CHECK_EQ(first_bit(6), 1u);
        uint32_t regs[2];
        CHECK_EQ(fault_mid(8, regs), 0xbeefu);
        check_fault(fault_mid, fault_mid_div, fault_mid_resume, 0x1235, 0x5678);
        check_fault(jumps_fault, jumps_div, jumps_resume, 0x1113, 0x2222);
    }
    test_finish("superblock");
}
