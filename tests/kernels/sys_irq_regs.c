/* sys_irq_regs.c — guest registers survive timer interrupts taken at any
 * block entry (issue #10 item 3, issue #15 item 12).
 *
 * Interrupts reach translated code through the poll at each block's entry.
 * Every block of the loop below starts with an instruction that bt86 has
 * to rewrite around a borrowed or rebased register: an %fs:-based operand
 * (FS has a non-zero base, as Linux's per-CPU accesses do) borrows ESI, or
 * EDI when the instruction names ESI, and an %fs: LODS adds FS's base to
 * ESI. So every interrupt is taken at the entry of such a block, and the
 * monitor must see the registers as they were before the block's first
 * instruction. Consecutive blocks borrow different registers, so that the
 * borrowing register (R10) holds a value other than the one an entry
 * interrupt must see. All eight registers are checked on every pass, for
 * TARGET timer interrupts (PIT at RATE Hz); with --poll-storm the monitor
 * also stops at block entries on its own, many times per interrupt. */
#include "sys_lib.h"

#define PIT_HZ 1193182u
#define RATE   4000u
#define TARGET 2000u

enum { S_FS = 7 };

volatile uint32_t ticks;

/* FS points here. Offsets are fixed: the loop reads them through %fs. */
static struct fs_area {
    uint32_t scratch[4];     /* 0x00 */
    uint32_t want[8];        /* 0x10: EAX ECX EDX EBX ESP EBP ESI EDI as the loop keeps them */
    uint32_t target;         /* 0x30 */
    uint32_t lods_value;     /* 0x34 */
    uint32_t got[8];         /* 0x38: registers at a mismatch (pusha order reversed) */
    uint32_t where;          /* 0x58: which check failed, 0 = none */
} fsa __attribute__((aligned(64)));

static void on_irq(struct trap_frame *f)
{
    if (f->vector == 0x20)
        ticks++;
    outb(0x20, 0x20);
}

/* irq_loop(): EBX = 0 (FS-relative base register), ESI = 0x34 (the LODS
 * source offset), EDI = 0x7e57d1, ECX, EDX, EBP known constants; loops until
 * ticks reaches fsa.target. Returns 0, or the number of the failed check
 * with the registers in fsa.got. */
uint32_t irq_loop(void);
__asm__(
    ".text\n"
    ".globl irq_loop\n"
    "irq_loop:\n"
    "  push %ebx; push %esi; push %edi; push %ebp\n"
    "  mov %esp, fsa+0x10+16\n"             /* want ESP */
    "  mov fsa+0x10+4, %ecx\n"
    "  mov fsa+0x10+8, %edx\n"
    "  xor %ebx, %ebx\n"
    "  mov fsa+0x10+20, %ebp\n"
    "  mov fsa+0x10+24, %esi\n"
    "  mov fsa+0x10+28, %edi\n"
    "  jmp 1f\n"
    /* Each label starts a block (the jmp before it ends one). */
    "1: mov %fs:0x10(%ebx), %eax\n"         /* borrows ESI */
    "   mov %eax, %fs:0x00(%ebx)\n"
    "   jmp 2f\n"
    "2: mov %esi, %fs:0x04(%ebx)\n"         /* names ESI: borrows EDI */
    "   cmp %fs:0x04(%ebx), %esi\n"
    "   jne 90f\n"
    "3: mov %edi, %fs:0x08(%ebx)\n"         /* borrows ESI */
    "   cmp %fs:0x08(%ebx), %edi\n"
    "   jne 91f\n"
    "4: cmp %fs:0x10+24(%ebx), %esi\n"      /* names ESI: borrows EDI */
    "   jne 92f\n"
    "5: cmp %fs:0x10+28(%ebx), %edi\n"      /* borrows ESI */
    "   jne 93f\n"
    "6: lodsl %fs:(%esi), %eax\n"           /* ESI rebased by FS's base */
    "   sub $4, %esi\n"
    "   cmp %fs:0x34(%ebx), %eax\n"
    "   jne 94f\n"
    "7: cmp %fs:0x10+4(%ebx), %ecx\n"       /* borrows ESI */
    "   jne 95f\n"
    "8: cmp %fs:0x10+8(%ebx), %edx\n"       /* borrows ESI */
    "   jne 95f\n"
    "9: cmp %fs:0x10+20(%ebx), %ebp\n"      /* borrows ESI */
    "   jne 95f\n"
    "10: cmp %fs:0x10+16(%ebx), %esp\n"     /* borrows ESI */
    "   jne 95f\n"
    "11: cmp %fs:0x10+12(%ebx), %ebx\n"     /* borrows ESI */
    "   jne 95f\n"
    "12: mov %fs:0x30(%ebx), %eax\n"        /* borrows ESI */
    "   cmp ticks, %eax\n"
    "   ja 1b\n"
    "  xor %eax, %eax\n"
    "  jmp 99f\n"
    "90: movl $1, fsa+0x58; jmp 98f\n"
    "91: movl $2, fsa+0x58; jmp 98f\n"
    "92: movl $3, fsa+0x58; jmp 98f\n"
    "93: movl $4, fsa+0x58; jmp 98f\n"
    "94: movl $5, fsa+0x58; jmp 98f\n"
    "95: movl $6, fsa+0x58\n"
    "98: pusha\n"
    "  mov %esp, %esi\n"
    "  mov $fsa+0x38, %edi\n"
    "  mov $8, %ecx\n"
    "  cld; rep movsl\n"
    "  popa\n"
    "  mov fsa+0x58, %eax\n"
    "99: pop %ebp; pop %edi; pop %esi; pop %ebx\n"
    "  ret\n");

void kmain(uint32_t magic, struct mb_info *mbi)
{
    static const char *const reg[8] = { "EDI", "ESI", "EBP", "ESP", "EBX", "EDX", "ECX", "EAX" };

    sys_init();
    sys_irq_hook = on_irq;
    gdt[S_FS] = seg_desc((uint32_t)&fsa, 0xfff, 0x92, 0x4);
    __asm__ volatile("mov %0, %%fs" :: "r"((uint16_t)(S_FS * 8)));
    fsa.want[0] = 0xa11a11a1;
    fsa.want[1] = 0xc0c0c0c0;
    fsa.want[2] = 0xd0d0d0d0;
    fsa.want[3] = 0;
    fsa.want[5] = 0xb0b0b0b0;
    fsa.want[6] = 0x34;
    fsa.want[7] = 0x7e57d1;
    fsa.lods_value = 0x10d5;
    fsa.target = TARGET;
    outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
    outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 0x02); outb(0xa1, 0x01);
    outb(0x21, 0xfe);                    /* IRQ 0 only */
    outb(0xa1, 0xff);
    outb(0x43, 0x34);                    /* PIT channel 0, mode 2, RATE Hz */
    outb(0x40, (uint8_t)(PIT_HZ / RATE));
    outb(0x40, (uint8_t)((PIT_HZ / RATE) >> 8));
    __asm__ volatile("sti");
    uint32_t bad = irq_loop();
    __asm__ volatile("cli");
    if (bad) {
        kprintf("sys_irq_regs: check %u failed after %u interrupts:", bad, ticks);
        for (int i = 7; i >= 0; i--)
            kprintf(" %s=%08x", reg[i], fsa.got[i]);
        kprintf("\n");
    }
    CHECK_EQ(bad, 0);
    CHECK(ticks >= TARGET);
    __asm__ volatile("mov %0, %%fs" :: "r"((uint16_t)SEL_KDATA));
    test_finish("sys_irq_regs");
}
