/* sys_exact.c — guest-visible exactness of string I/O and of corner cases
 * found by mutation testing (issue #15): interrupts taken between the
 * iterations of a long REP OUTS. */
#include "sys_lib.h"

/* ---- an interrupt between REP iterations --------------------------------
 * SDM vol. 2B "REP": interrupts are recognized between iterations, with
 * ECX/ESI updated and EIP still at the string instruction. The third byte
 * `rep outsb` writes to the UART's IER enables the THRE interrupt (IRQ 4):
 * it must be taken right after that iteration, not after the last one. */

static volatile uint32_t irq_count, irq_eip, irq_ecx, irq_esi;

static void on_irq(struct trap_frame *f)
{
    if (f->vector == 0x24) {
        if (irq_count++ == 0) {
            irq_eip = f->eip;
            irq_ecx = f->ecx;
            irq_esi = f->esi;
        }
        inb(COM1 + 2);                  /* IIR: reading it clears the THRE source */
    }
    outb(0x20, 0x20);
}

static void pic_init(uint8_t mask)
{
    outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
    outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 0x02); outb(0xa1, 0x01);
    outb(0x21, mask);
    outb(0xa1, 0xff);
}

static uint8_t ier_bytes[200];
extern const char rep_outs_insn[];

static void test_rep_outs_interrupt(void)
{
    uint32_t ecx = sizeof ier_bytes, esi = (uint32_t)ier_bytes;

    ier_bytes[2] = 0x02;                /* ETBEI */
    sys_irq_hook = on_irq;
    pic_init(0xef);                     /* IRQ 4 only */
    __asm__ volatile("sti\n\t"
                     ".globl rep_outs_insn\nrep_outs_insn:\n\t"
                     "rep outsb\n\t"
                     "cli"
                     : "+c"(ecx), "+S"(esi) : "d"(COM1 + 1) : "memory");
    outb(0x21, 0xff);
    CHECK_EQ(irq_count, 1);
    CHECK_EQ(irq_eip, (uint32_t)rep_outs_insn);
    CHECK_EQ(irq_ecx, sizeof ier_bytes - 3);
    CHECK_EQ(irq_esi, (uint32_t)ier_bytes + 3);
    CHECK_EQ(ecx, 0);
    CHECK_EQ(esi, (uint32_t)ier_bytes + sizeof ier_bytes);
    sys_irq_hook = NULL;
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    test_rep_outs_interrupt();
    test_finish("sys_exact");
}
