/* sys_triple.c — bad descriptor tables must end the run in a clean triple
 * fault (bt86: exit status 4 and a register dump), never a host crash.
 * The command line picks the way in:
 *   idt     LIDT of garbage bytes, then UD2
 *   gdt     LGDT of garbage, then a segment load, with a valid IDT whose
 *           handler segment is in the garbage GDT
 *   limit   an IDT of limit 0, then INT3
 *   stack   a valid IDT but the #GP and #DF gates not present: #GP, its
 *           #NP makes #DF, whose #NP is the triple fault
 * If execution continues the kernel fails through isa-debug-exit. */
#include "sys_lib.h"

static uint8_t garbage[2048] __attribute__((aligned(8)));

static void fill_garbage(void)
{
    uint32_t x = 0x12345678;
    for (unsigned i = 0; i < sizeof garbage; i++) {
        x = x * 1103515245u + 12345u;
        garbage[i] = (uint8_t)(x >> 16);
    }
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    const char *cmd = (mbi->flags & (1u << 2)) ? (const char *)mbi->cmdline : "";
    sys_init();
    fill_garbage();
    kputs("sys_triple: ");
    if (strstr(cmd, "gdt")) {
        kputs("garbage GDT\n");
        lgdt(garbage, sizeof garbage - 1);
        __asm__ volatile("mov %0, %%ds" : : "r"((uint16_t)0x10));
    } else if (strstr(cmd, "limit")) {
        kputs("IDT limit 0\n");
        lidt(idt, 0);
        __asm__ volatile("int3");
    } else if (strstr(cmd, "stack")) {
        kputs("#GP and #DF gates not present\n");
        idt[13] &= ~(1ull << 47);
        idt[8] &= ~(1ull << 47);
        __asm__ volatile("mov %0, %%es" : : "r"((uint16_t)0x7ff0));
    } else {
        kputs("garbage IDT\n");
        lidt(garbage, sizeof garbage - 1);
        __asm__ volatile("ud2");
    }
    kputs("FAIL sys_triple: execution continued\n");
    kexit(EXIT_FAIL);
}
