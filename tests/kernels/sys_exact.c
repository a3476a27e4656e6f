/* sys_exact.c — guest-visible exactness of string I/O and of corner cases
 * found by mutation testing (issue #15): interrupts taken between the
 * iterations of a long REP OUTS; INS/OUTS with a 16-bit address size and
 * with segment bases and overrides; valid 15-byte instructions made of
 * redundant prefixes. */
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

/* ---- INS/OUTS with the 0x67 prefix ---------------------------------------
 * 16-bit addressing counts in CX and addresses through SI/DI, which wrap
 * within 64 KiB; the upper halves of ECX/ESI/EDI are left alone. */

#define SCR (COM1 + 7)                  /* the UART's scratch register */
#define LOW_BUF 0x7000u                 /* below 64 KiB: reachable by SI/DI */

static void test_addr16(void)
{
    volatile uint8_t *low = (volatile uint8_t *)LOW_BUF;
    uint32_t ecx = 0x00010003, esi = 0xabcd0000 | LOW_BUF;

    low[0] = 0x11; low[1] = 0x22; low[2] = 0x33; low[3] = 0x44;
    __asm__ volatile("addr16 rep outsb" : "+c"(ecx), "+S"(esi) : "d"(SCR) : "memory");
    CHECK_EQ(ecx, 0x00010000);
    CHECK_EQ(esi, 0xabcd0000 | (LOW_BUF + 3));
    CHECK_EQ(inb(SCR), 0x33);

    /* INS backwards across DI = 0: 0x0001, 0x0000, 0xffff. */
    uint32_t edi = 0x12340001, zero = 0;
    __asm__("" : "+r"(zero));           /* address 0 is RAM here, not a null pointer */
    volatile uint8_t *low0 = (volatile uint8_t *)zero, *top = low0 + 0xffff;
    uint8_t saved[2] = { low0[0], low0[1] }, savedf = *top;
    ecx = 0x7fff0003;
    outb(SCR, 0x5a);
    __asm__ volatile("std\n\taddr16 rep insb\n\tcld" : "+c"(ecx), "+D"(edi) : "d"(SCR) : "memory");
    CHECK_EQ(ecx, 0x7fff0000);
    CHECK_EQ(edi, 0x1234fffe);
    CHECK_EQ(*top, 0x5a);
    CHECK_EQ(low0[0], 0x5a);
    CHECK_EQ(low0[1], 0x5a);
    low0[0] = saved[0]; low0[1] = saved[1]; *top = savedf;
}

/* ---- INS/OUTS through segments -------------------------------------------
 * OUTS reads DS:ESI or its override's segment, INS writes ES:EDI whatever
 * the prefix says (SDM vol. 2 "INS", "OUTS"). */

#define SEL_BASED 0x38                  /* gdt[7]: data, base = seg_buf - 0x1000 */
static uint8_t seg_buf[64];

static void test_segments(void)
{
    uint32_t base = (uint32_t)seg_buf - 0x1000;
    uint32_t esi = 0x1010, edi = 0x1020;

    gdt[7] = seg_desc(base, 0xfffff, 0x92, 0xc);
    seg_buf[0x10] = 0xa5;
    /* fs: outsb reads fs:[esi]. */
    __asm__ volatile("mov %[sel], %%fs\n\tfs outsb\n\tmov %[kd], %%fs"
                     : "+S"(esi) : "d"(SCR), [sel] "r"(SEL_BASED), [kd] "r"(SEL_KDATA) : "memory");
    CHECK_EQ(inb(SCR), 0xa5);
    CHECK_EQ(esi, 0x1011);
    /* outsb with DS based. */
    seg_buf[0x11] = 0x3c;
    __asm__ volatile("mov %[sel], %%ds\n\toutsb\n\tmov %[kd], %%ds"
                     : "+S"(esi) : "d"(SCR), [sel] "r"(SEL_BASED), [kd] "r"(SEL_KDATA) : "memory");
    CHECK_EQ(inb(SCR), 0x3c);
    /* insb writes es:[edi]; an fs: prefix does not change that. */
    outb(SCR, 0x77);
    __asm__ volatile("mov %[sel], %%es\n\tinsb\n\tmov %[kd], %%es"
                     : "+D"(edi) : "d"(SCR), [sel] "r"(SEL_BASED), [kd] "r"(SEL_KDATA) : "memory");
    CHECK_EQ(seg_buf[0x20], 0x77);
    outb(SCR, 0x78);
    __asm__ volatile("mov %[sel], %%es\n\t.byte 0x64\n\tinsb\n\tmov %[kd], %%es"
                     : "+D"(edi) : "d"(SCR), [sel] "r"(SEL_BASED), [kd] "r"(SEL_KDATA) : "memory");
    CHECK_EQ(seg_buf[0x21], 0x78);
    CHECK_EQ(edi, 0x1022);
}

/* ---- the longest valid instructions --------------------------------------
 * 15 bytes thanks to redundant prefixes (SDM vol. 2 §2.1: the limit is 15
 * bytes, repeats are allowed). The translation adds gs:, 0x67 and a SIB
 * byte to a [disp32] operand and must still be a valid host instruction. */

static volatile uint32_t long_target;

static void test_long_insns(void)
{
    long_target = 0x10;
    __asm__ volatile(".byte 0xf0, 0xf0, 0xf0, 0xf0, 0x81, 0x05\n\t.long long_target\n\t"
                     ".long 0x01020304" ::: "memory");        /* lock x4 add [m], imm32 */
    CHECK_EQ(long_target, 0x01020314);
    __asm__ volatile(".byte 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0xc7, 0x05\n\t"
                     ".long long_target\n\t.word 0xbeef" ::: "memory");   /* 66 x7 mov word [m], imm16 */
    CHECK_EQ(long_target, 0x0102beef);
    __asm__ volatile(".byte 0xf3, 0xf2, 0xf3, 0xf2, 0xf0, 0x81, 0x05\n\t.long long_target\n\t"
                     ".long 0x00010000" ::: "memory");        /* F2/F3 (hints) lock add */
    CHECK_EQ(long_target, 0x0103beef);
    uint32_t eax = 0;
    __asm__ volatile(".byte 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x8b, 0x05\n\t"
                     ".long long_target" : "+a"(eax) : : "memory");        /* ds x9 mov eax, [m] */
    CHECK_EQ(eax, 0x0103beef);
}

/* Encodings an i686 runs as fences or hint NOPs, translated and accepted
 * by the verifier (this kernel also runs under --verify). */
static void test_hint_encodings(void)
{
    uint32_t eax = 1;
    __asm__ volatile(".byte 0x0f, 0xae, 0xe9\n\t"          /* lfence, r/m = 1 */
                     ".byte 0x0f, 0xae, 0xf3\n\t"          /* mfence, r/m = 3 */
                     ".byte 0x0f, 0xae, 0xfe\n\t"          /* sfence, r/m = 6 */
                     ".byte 0xf3, 0x0f, 0x1b, 0xc0\n\t"    /* hint NOPs */
                     ".byte 0xf2, 0x0f, 0x1a, 0xc8\n\t"
                     ".byte 0xf3, 0x0f, 0x1a, 0x03\n\t"    /* ... with a memory operand [ebx] */
                     "inc %0" : "+a"(eax) : "b"(&long_target) : "memory");
    CHECK_EQ(eax, 2);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    test_rep_outs_interrupt();
    test_addr16();
    test_segments();
    test_long_insns();
    test_hint_encodings();
    test_finish("sys_exact");
}
