/* xlate_rdtsc — RDTSC translated inline: the host's time-stamp counter plus
 * the vCPU's offset (guest TSC = host TSC + cpu->tsc_offset, which WRMSR
 * to IA32_TIME_STAMP_COUNTER sets), without leaving translated code.
 *
 * SDM "RDTSC": EDX:EAX = TSC, high dwords of RAX/RDX cleared in 64-bit mode,
 * no flags affected; #GP(0) when CR4.TSD is set and CPL > 0. The block mode
 * carries that case (BT_MODE_TSC_TRAP) and such blocks keep the callout.
 *
 * Guest flags live in host RFLAGS, so the 64-bit add must not touch them:
 *
 *   rdtsc                       rax = TSC[31:0], rdx = TSC[63:32]
 *   rorx rdx, rdx, 32           rdx = TSC[63:32] << 32 (its high half was 0)
 *   lea  rax, [rax + rdx]       rax = TSC
 *   mov  r11, [r15 + tsc_offset]
 *   lea  rax, [rax + r11]       rax = guest TSC (wraps mod 2^64, as the MSR does)
 *   rorx rdx, rax, 32
 *   mov  eax, eax               EAX = low half, RAX[63:32] = 0
 *   mov  edx, edx               EDX = high half, RDX[63:32] = 0
 *
 * RORX (BMI2) shifts without flags; a host without BMI2 keeps the callout.
 * The verifier accepts RDTSC only at the head of exactly this sequence
 * (bt/verify.c), so a guest RDTSC copied by mistake is still rejected. */
#include "bt/abi_offsets.h"
#include "bt/xlate.h"

static void rorx_r64_imm(struct emit *e, int dst, int src, uint8_t imm)
{
    /* VEX.LZ.F2.0F3A.W1 F0 /r ib, both registers below r8. */
    uint8_t b[6] = { 0xc4, 0xe3, 0xfb, 0xf0, (uint8_t)(0xc0 | dst << 3 | src), imm };
    emit_bytes(e, b, sizeof b);
}

bool xl_rdtsc(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;

    (void)in;
    if ((xl->mode & BT_MODE_TSC_TRAP) || !__builtin_cpu_supports("bmi2"))
        return false;
    emit_bytes(e, "\x0f\x31", 2);                          /* rdtsc */
    rorx_r64_imm(e, H_RDX, H_RDX, 32);
    emit_lea_r64(e, H_RAX, H_RAX, H_RDX, 0, 0);
    emit_mov_r64_m64(e, H_R11, H_R15, CPU_TSC_OFFSET);
    emit_lea_r64(e, H_RAX, H_RAX, H_R11, 0, 0);
    rorx_r64_imm(e, H_RDX, H_RAX, 32);
    emit_mov_r32_r32(e, H_RAX, H_RAX);
    emit_mov_r32_r32(e, H_RDX, H_RDX);
    return true;
}
