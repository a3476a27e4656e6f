/* gdb_target.c — the kernel tests/kernels/gdb-test.sh debugs through bt86's
 * GDB stub. It passes only if the debugger changed a variable: the script
 * sets gdb_answer to 42 at a breakpoint in gdb_checkpoint, checks the
 * registers and memory GDB shows, steps, and detaches; the kernel then
 * finishes on its own. Run without a debugger, it fails (status 3). With
 * -append spin it first spins until the debugger sets gdb_release; with
 * -append sleep it halts for ever. */
#include "kernel.h"
#include "x86.h"

volatile uint32_t gdb_counter;
volatile uint32_t gdb_answer = 7;
volatile uint32_t gdb_words[4] = { 0x11111111, 0x22222222, 0x33333333, 0x44444444 };
volatile uint32_t gdb_release, gdb_spins, gdb_sleeping;

__attribute__((noinline)) void gdb_checkpoint(uint32_t n)
{
    gdb_counter += n;
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    /* "spin": wait for a debugger that attaches (or interrupts) to say go. */
    /* "sleep": HLT with interrupts enabled and no interrupt source, for
     * ever; only a debugger's Ctrl-C (or kill) ends it. */
    if (strstr(mb_args(mbi), "sleep")) {
        kprintf("sleeping\n");
        gdb_sleeping = 1;
        for (;;)
            __asm__ volatile("sti; hlt");
    }
    /* "echo": COM1's input, polled (LSR bit 0, data ready), printed back
     * until a 'q' (bt86's -serial mon:stdio test). */
    if (strstr(mb_args(mbi), "echo")) {
        char c = 0;
        kprintf("echo ready\n");
        while (c != 'q') {
            while (!(inb(0x3fd) & 1))
                ;
            c = (char)inb(0x3f8);
            kprintf("echo got %c\n", c);
        }
        kexit(0);
    }
    if (strstr(mb_args(mbi), "spin")) {
        kprintf("spinning\n");
        while (!gdb_release)
            gdb_spins++;
    }
    for (uint32_t i = 1; i <= 3; i++)
        gdb_checkpoint(i);
    kprintf("counter %u answer %u\n", gdb_counter, gdb_answer);
    CHECK_EQ(gdb_counter, 6);
    CHECK_EQ(gdb_answer, 42);
    test_finish("gdb_target");
}
