/* io.c — port I/O and the interrupt flag, all sensitive instructions that
 * bt86 emulates: IN/OUT in 8/16/32-bit sizes with DX and imm8 ports,
 * INS/OUTS with REP and DF, and CLI/STI/POPF/PUSHF on the virtual IF.
 *
 * Ports used (all present in QEMU's pc machine and in bt86's platform):
 *   0x3F8-0x3FF 16550 UART   (LSR bits 5,6 = transmitter empty; SCR, LCR, IER r/w)
 *   0x21, 0xA1  8259 PIC IMR (r/w; masking everything keeps STI safe)
 *   0xCF8/0xCFC PCI config   (the address latch reads back; device 31.7 is absent)
 *   0xE9        debug console (write only here: QEMU without -debugcon has nothing there)
 *   0xE0, 0x300 unclaimed    (reads return all ones, writes are dropped) */
#include "kernel.h"
#include "x86.h"

#define UART_IER (COM1 + 1)
#define UART_LCR (COM1 + 3)
#define UART_SCR (COM1 + 7)
#define PIC1_DATA 0x21
#define PIC2_DATA 0xA1
#define PCI_ADDR 0xCF8
#define PCI_DATA 0xCFC
#define FREE_PORT 0x300

static void test_devices(void)
{
    /* debug console: imm8 and DX forms */
    __asm__ volatile("outb %%al, $0xE9" : : "a"('i'));
    __asm__ volatile("outb %%al, %%dx" : : "a"('o'), "d"(0xE9));
    outb(0xE9, '\n');

    /* UART: idle transmitter has THRE and TEMT set, also right after a write */
    CHECK_EQ(inb(UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT), UART_LSR_THRE | UART_LSR_TEMT);
    kputs("io: uart\n");
    CHECK_EQ(inb(UART_LSR) & UART_LSR_THRE, UART_LSR_THRE);
    outb(UART_SCR, 0x5A);               /* scratch register */
    CHECK_EQ(inb(UART_SCR), 0x5A);
    outb(UART_SCR, 0xA5);
    CHECK_EQ(inb(UART_SCR), 0xA5);
    uint8_t lcr = inb(UART_LCR);
    outb(UART_LCR, 0x1B);               /* 8 bits, even parity */
    CHECK_EQ(inb(UART_LCR), 0x1B);
    outb(UART_LCR, lcr);
    CHECK_EQ(inb(UART_LCR), lcr);
    outb(UART_IER, 0);                  /* no UART interrupts */
    CHECK_EQ(inb(UART_IER), 0);

    /* PIC interrupt mask registers, imm8 port forms */
    uint32_t v;
    __asm__ volatile("outb %%al, $0x21" : : "a"(0xFF));
    __asm__ volatile("outb %%al, $0xA1" : : "a"(0xFF));
    __asm__ volatile("inb $0x21, %%al" : "=a"(v) : "0"(0x12345600));
    CHECK_EQ(v, 0x123456FF);            /* only AL is written */
    CHECK_EQ(inb(PIC2_DATA), 0xFF);
    outb(PIC1_DATA, 0xFB);              /* IRQ2 (cascade) unmasked: still reads back */
    CHECK_EQ(inb(PIC1_DATA), 0xFB);
    outb(PIC1_DATA, 0xFF);

    /* PCI configuration mechanism #1: 32-bit address latch, 16/32-bit data */
    outl(PCI_ADDR, 0x8000FF00);         /* bus 0, device 31, function 7, register 0 */
    CHECK_EQ(inl(PCI_ADDR), 0x8000FF00);
    CHECK_EQ(inl(PCI_DATA), 0xFFFFFFFF); /* no device: vendor ID reads FFFF */
    CHECK_EQ(inw(PCI_DATA), 0xFFFF);
    outl(PCI_ADDR, 0);
    CHECK_EQ(inl(PCI_ADDR), 0);
}

static void test_unclaimed(void)
{
    uint32_t v;
    /* DX port: 8/16/32-bit reads return all ones and leave the rest of EAX */
    __asm__ volatile("inb %%dx, %%al" : "=a"(v) : "d"(FREE_PORT), "0"(0x11223344));
    CHECK_EQ(v, 0x112233FF);
    __asm__ volatile("inw %%dx, %%ax" : "=a"(v) : "d"(FREE_PORT), "0"(0x11223344));
    CHECK_EQ(v, 0x1122FFFF);
    __asm__ volatile("inl %%dx, %%eax" : "=a"(v) : "d"(FREE_PORT), "0"(0x11223344));
    CHECK_EQ(v, 0xFFFFFFFF);
    /* imm8 port */
    __asm__ volatile("inb $0xE0, %%al" : "=a"(v) : "0"(0));
    CHECK_EQ(v, 0xFF);
    __asm__ volatile("inw $0xE0, %%ax" : "=a"(v) : "0"(0));
    CHECK_EQ(v, 0xFFFF);
    __asm__ volatile("inl $0xE0, %%eax" : "=a"(v));
    CHECK_EQ(v, 0xFFFFFFFF);
    /* writes of every size go nowhere */
    __asm__ volatile("outb %%al, $0xE0\n\toutw %%ax, $0xE0\n\toutl %%eax, $0xE0" : : "a"(0x12345678));
    __asm__ volatile("outb %%al, %%dx\n\toutw %%ax, %%dx\n\toutl %%eax, %%dx" : : "a"(0x12345678), "d"(FREE_PORT));
    CHECK_EQ(inl(FREE_PORT), 0xFFFFFFFF);
}

/* INS/OUTS: memory at ES:EDI / DS:ESI, one element per iteration. */
static void test_string_io(void)
{
    static uint8_t buf[32];
    static const char msg[] = "io: rep outsb to COM1\n";
    uint32_t esi = (uint32_t)msg, edi, ecx = sizeof msg - 1;
    /* the UART's THR is written as fast as OUTSB goes: fine for QEMU and bt86,
     * whose transmitter is always ready */
    __asm__ volatile("rep outsb" : "+S"(esi), "+c"(ecx) : "d"(COM1), "m"(msg) : "memory");
    CHECK_EQ(esi, (uint32_t)msg + sizeof msg - 1);
    CHECK_EQ(ecx, 0);

    memset(buf, 0, sizeof buf);
    edi = (uint32_t)&buf[4];
    ecx = 8;
    __asm__ volatile("rep insb" : "+D"(edi), "+c"(ecx) : "d"(FREE_PORT) : "memory");
    CHECK_EQ(edi, (uint32_t)&buf[12]);
    CHECK_EQ(ecx, 0);
    CHECK(buf[3] == 0 && buf[4] == 0xFF && buf[11] == 0xFF && buf[12] == 0);

    memset(buf, 0, sizeof buf);
    edi = (uint32_t)&buf[16];
    __asm__ volatile("insw\n\tinsl" : "+D"(edi) : "d"(FREE_PORT) : "memory");
    CHECK_EQ(edi, (uint32_t)&buf[22]);
    CHECK(buf[15] == 0 && buf[16] == 0xFF && buf[21] == 0xFF && buf[22] == 0);

    memset(buf, 0, sizeof buf);         /* backward, DF=1 */
    edi = (uint32_t)&buf[20];
    ecx = 3;
    __asm__ volatile("std\n\trep insw\n\tcld" : "+D"(edi), "+c"(ecx) : "d"(FREE_PORT) : "memory", "cc");
    CHECK_EQ(edi, (uint32_t)&buf[14]);
    CHECK(buf[15] == 0 && buf[16] == 0xFF && buf[21] == 0xFF && buf[22] == 0);

    esi = (uint32_t)buf;
    ecx = 4;
    __asm__ volatile("rep outsl" : "+S"(esi), "+c"(ecx) : "d"(FREE_PORT), "m"(buf) : "memory");
    CHECK_EQ(esi, (uint32_t)&buf[16]);
    __asm__ volatile("outsw" : "+S"(esi) : "d"(FREE_PORT), "m"(buf) : "memory");
    CHECK_EQ(esi, (uint32_t)&buf[18]);
}

/* IF (bit 9): Multiboot enters with IF=0. CLI/STI and, at CPL 0, POPF write
 * it; PUSHF reads it; arithmetic leaves it alone. With every PIC line
 * masked (test_devices) no interrupt can arrive while IF=1. No HLT: there
 * is no interrupt to wake it. */
static void test_interrupt_flag(void)
{
    uint32_t f;
    CHECK_EQ(boot_eflags & FL_IF, 0);
    CHECK_EQ(read_eflags() & FL_IF, 0);
    sti();
    CHECK_EQ(read_eflags() & FL_IF, FL_IF);
    __asm__ volatile("addl $1, %%eax\n\tpushfl\n\tpopl %0" : "=r"(f) : "a"(0xFFFFFFFF) : "cc");
    CHECK_EQ(f & (FL_IF | FL_ZF | FL_CF), FL_IF | FL_ZF | FL_CF);
    cli();
    CHECK_EQ(read_eflags() & FL_IF, 0);
    __asm__ volatile("stc\n\tsti\n\tpushfl\n\tcli\n\tpopl %0" : "=r"(f) : : "cc");
    CHECK_EQ(f & (FL_IF | FL_CF), FL_IF | FL_CF);   /* STI leaves CF */
    write_eflags(FL_FIXED | FL_IF | FL_SF);
    f = read_eflags();
    CHECK_EQ(f & (FL_IF | FL_ARITH), FL_IF | FL_SF);
    write_eflags(FL_FIXED | FL_ZF);
    f = read_eflags();
    CHECK_EQ(f & (FL_IF | FL_ARITH), FL_ZF);
    /* 16-bit POPF writes IF too (bit 9 is in the low word) */
    __asm__ volatile("pushw %1\n\tpopfw\n\tpushfl\n\tpopl %0\n\tcli" : "=r"(f) : "r"((uint16_t)(FL_FIXED | FL_IF)) : "cc");
    CHECK_EQ(f & FL_IF, FL_IF);
    CHECK_EQ(read_eflags() & FL_IF, 0);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    test_devices();
    test_unclaimed();
    test_string_io();
    test_interrupt_flag();
    test_finish("io");
}
