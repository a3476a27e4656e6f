/* halt.c — ends with CLI; HLT. With interrupts disabled nothing can wake
 * the CPU, so bt86 ends the run: "guest halted", exit status 0.
 * (QEMU would wait forever; this one is bt86-only.) */
#include "kernel.h"

void kmain(uint32_t magic, struct mb_info *mbi)
{
    kputs("halt: cli; hlt\n");
    khalt();
}
