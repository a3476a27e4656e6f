/* xlate_stack16 — PUSH r, POP r, CALL rel and RET on a 16-bit stack
 * (BT_MODE_STACK16: real mode, virtual-8086 mode, a 16-bit SS), inline.
 *
 * The host has no addressing mode that wraps SP at 64 KiB, so the new SP
 * is computed in r11 and zero-extended, the access goes through
 * [r11 + r14 + SS.base] (an SS.base + SP that wraps at 4 GiB lands in the
 * window's guard and is emulated, emulator/memfault.c),
 * and only then is SP written with a 16-bit move, which keeps the upper
 * half of ESP (SDM vol. 1 §6.2.3). The access comes before SP changes, so
 * a fault leaves the instruction without effect; r10/r11 are scratch, dead
 * at instruction boundaries. Other forms (PUSH m/imm, POP m, PUSHA, ENTER,
 * LEAVE, indirect CALL) go to the monitor (xlate_block.c). Measured with
 * sys_real's `-append bench` (real-mode fib(20), six stack operations a
 * call): 155-200 ns of host CPU per call with every one a callout, 4.1 ns
 * inline. */
#include "bt/xlate.h"

/* mov sp, r11w / mov sp, r10w: the low 16 bits of RSP, flag-free. */
static void set_sp(struct emit *e, int r)
{
    emit_u8(e, 0x66);
    emit_u8(e, 0x44);
    emit_u8(e, 0x89);
    emit_u8(e, (uint8_t)(0xc0 | (r & 7) << 3 | 4));
}

/* r11d = (SP - n) mod 64 KiB. */
static void sp_minus(struct emit *e, int n)
{
    emit_lea_r32(e, H_R11, H_RSP, -1, 0, -n);
    emit_movzx_r32_r16(e, H_R11, H_R11);
}

/* [66] op [r11 + r14 + disp]. */
static void guest_r11(struct emit *e, bool o16, uint8_t op, int reg, int32_t disp)
{
    emit_modrm_mem(e, op | (o16 ? P_DATA16 : 0) | P_GUEST, reg, H_R11, -1, 0, disp);
}

bool xl_stack16(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;
    int32_t ss = xl_ss(xl);
    unsigned n = in->opsize;
    uint8_t op = in->opcode;

    if (in->opc_len != 1 || in->rep || in->seg != SEG_NONE)
        return false;
    switch (in->kind) {
    case K_PUSH:
        if (op < 0x50 || op > 0x57)
            return false;
        sp_minus(e, (int)n);
        guest_r11(e, n == 2, 0x89, op - 0x50, ss);         /* mov [r11+r14+ss], reg */
        set_sp(e, H_R11);
        return true;
    case K_POP:
        if (op < 0x58 || op > 0x5f || op == 0x5c)
            return false;                                   /* POP SP: the monitor */
        emit_u8(e, 0x44);                                   /* movzx r11d, sp */
        emit_u8(e, 0x0f);
        emit_u8(e, 0xb7);
        emit_u8(e, 0xdc);
        guest_r11(e, n == 2, 0x8b, op - 0x58, ss);         /* mov reg, [r11+r14+ss] */
        emit_lea_r32(e, H_R11, H_R11, -1, 0, (int32_t)n);
        set_sp(e, H_R11);
        return true;
    case K_CALL:
        if (op != 0xe8)
            return false;
        sp_minus(e, (int)n);
        guest_r11(e, n == 2, 0xc7, 0, ss);                 /* mov [r11+r14+ss], imm */
        if (n == 2)
            emit_u16(e, (uint16_t)(in->eip + in->glen));
        else
            emit_u32(e, in->eip + in->glen);
        set_sp(e, H_R11);
        xl_exit_direct(xl, -1, in->target);
        return true;
    case K_RET: {
        uint16_t extra = op == 0xc2 ? (uint16_t)in->imm : 0;
        emit_u8(e, 0x44);                                   /* movzx r10d, sp */
        emit_u8(e, 0x0f);
        emit_u8(e, 0xb7);
        emit_u8(e, 0xd4);
        /* r11d = the return EIP: movzx r11d, word [r10+r14+ss] or mov r11d, ... */
        emit_modrm_mem(e, (n == 2 ? OPC_MOVZWL : OPC_MOVL_GvEv) | P_GUEST, H_R11, H_R10, -1, 0, ss);
        emit_lea_r32(e, H_R10, H_R10, -1, 0, (int32_t)(n + extra));
        set_sp(e, H_R10);
        xl_exit_indirect_r11(xl);
        return true;
    }
    default:
        return false;
    }
}
