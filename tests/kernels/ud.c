/* ud.c — executes an invalid opcode with no IDT: bt86 must stop with
 * "guest #UD at EIP 0x..." and exit status 4 (the ctest checks both).
 *   ud.elf          UD2 (0F 0B), the architectural #UD
 *   ud-invalid.elf  0F 04, an opcode no IA-32 processor defines
 *                   (-DUD_INVALID_OPCODE)
 * If execution continues past it, the kernel reports that and fails with
 * debug-exit status 3. (QEMU would triple-fault; this one is bt86-only.) */
#include "kernel.h"

extern const char ud_here[];

void kmain(uint32_t magic, struct mb_info *mbi)
{
    kprintf("ud: invalid opcode at EIP 0x%08x\n", (uint32_t)ud_here);
#ifdef UD_INVALID_OPCODE
    __asm__ volatile(".globl ud_here\nud_here:\n\t.byte 0x0F, 0x04");
#else
    __asm__ volatile(".globl ud_here\nud_here:\n\tud2");
#endif
    kputs("FAIL ud: execution continued past the invalid opcode\n");
    kexit(EXIT_FAIL);
}
