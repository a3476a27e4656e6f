/* xlate_copy — copying guest instructions into host code.
 *
 * Guest and host share register numbers, so an instruction whose meaning is
 * the same in 64-bit mode is copied byte for byte. A memory operand gets the
 * gs: and 0x67 prefixes (the address is computed in 32 bits, wraps like the
 * guest's, and lands in the guest address space that GS points at), and the
 * one ModRM form whose meaning changes — mod=00 rm=101, disp32 in 32-bit mode
 * but RIP-relative in 64-bit mode (SDM vol. 2 §2.2.1.6) — is re-encoded with
 * a SIB byte that says "no base, no index": mov eax,[0x1000] = 8b 05 .. becomes
 * 65 67 8b 04 25 00 10 00 00. */
#include "bt/xlate.h"

#include <string.h>

static bool is_seg_prefix(uint8_t b)
{
    return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65;
}

/* ModRM (+SIB +disp) of `in` with its reg field set to reg&7. */
static void emit_rm_operand(struct xl *xl, const struct insn *in, int reg)
{
    uint8_t modrm = (uint8_t)((in->bytes[in->modrm_off] & 0xc7) | (reg & 7) << 3);
    int from = in->modrm_off + 1;
    int to = in->disp_off >= 0 ? in->disp_off + in->disp_size : (in->sib_off >= 0 ? in->sib_off + 1 : from);

    if (in->flags & INSN_F_DISP32_ONLY) {
        emit_u8(&xl->e, (uint8_t)((modrm & 0x38) | 0x04));
        emit_u8(&xl->e, 0x25);
    } else {
        emit_u8(&xl->e, modrm);
    }
    emit_bytes(&xl->e, in->bytes + from, (size_t)(to - from));
}

/* The opcode bytes; 0x82 is 0x80 under another name, invalid in 64-bit mode. */
static void emit_opcode(struct emit *e, const struct insn *in)
{
    if (in->flags & INSN_F_OP82)
        emit_u8(e, 0x80);
    else
        emit_bytes(e, in->bytes + in->npfx, in->opc_len);
}

static int operand_end(const struct insn *in)
{
    if (in->disp_off >= 0)
        return in->disp_off + in->disp_size;
    if (in->sib_off >= 0)
        return in->sib_off + 1;
    return in->modrm_off + 1;
}

void xl_copy(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;
    bool mem = in->modrm_off >= 0 && in->mod != 3;
    int op = in->npfx;

    if (mem)
        emit_bytes(e, "\x65\x67", 2);
    for (int i = 0; i < in->npfx; i++) {
        uint8_t b = in->bytes[i];
        if (mem && (is_seg_prefix(b) || b == 0x67))
            continue;
        /* F3 0F BC/BD is TZCNT/LZCNT on a BMI1/ABM host; an i686 ignores the
         * F3 and runs BSF/BSR (Linux's __ffs uses rep bsf). */
        if (b == 0xf3 && (in->flags & INSN_F_F3_BSF))
            continue;
        emit_u8(e, b);
    }
    emit_opcode(e, in);
    if (!mem) {
        emit_bytes(e, in->bytes + op + in->opc_len, (size_t)(in->len - op - in->opc_len));
        return;
    }
    emit_rm_operand(xl, in, in->reg);
    int end = operand_end(in);
    emit_bytes(e, in->bytes + end, (size_t)(in->len - end));
}

void xl_reencode(struct xl *xl, const struct insn *in, const uint8_t *opc, int opc_len,
                 int reg, bool rexw, bool copy_imm)
{
    struct emit *e = &xl->e;
    bool mem = in->mod != 3;
    uint8_t rex = (uint8_t)((rexw ? 8 : 0) | (reg >= 8 ? 4 : 0));

    if (mem)
        emit_bytes(e, "\x65\x67", 2);
    if (rex)
        emit_u8(e, 0x40 | rex);
    emit_bytes(e, opc, (size_t)opc_len);
    emit_rm_operand(xl, in, reg);
    if (copy_imm) {
        int end = operand_end(in);
        emit_bytes(e, in->bytes + end, (size_t)(in->len - end));
    }
}

void xl_load_rm(struct xl *xl, const struct insn *in, int reg)
{
    if (in->opsize == 2)
        xl_reencode(xl, in, (const uint8_t *)"\x0f\xb7", 2, reg, false, false);  /* movzx r32, r/m16 */
    else
        xl_reencode(xl, in, (const uint8_t *)"\x8b", 1, reg, false, false);      /* mov r32, r/m32 */
}

/* 16-bit addressing (0x67 in 32-bit code, SDM vol. 2 table 2-1): 64-bit mode
 * has no such forms, so the effective address is computed into a guest
 * register the instruction does not use (ESI, EDI or EBP, parked in r10),
 * truncated to 16 bits, and the instruction runs on gs:[that register]. No
 * REX prefix is involved, so AH..BH keep their meaning. A fault while the
 * register is borrowed is made precise by the side table (TB_PC_SPILL). */
void xl_copy_addr16(struct xl *xl, const struct insn *in)
{
    static const int8_t base16[8] = { H_RBX, H_RBX, H_RBP, H_RBP, H_RSI, H_RDI, H_RBP, H_RBX };
    static const int8_t index16[8] = { H_RSI, H_RDI, H_RSI, H_RDI, -1, -1, -1, -1 };
    struct emit *e = &xl->e;
    int x = in->reg != H_RSI ? H_RSI : H_RDI;
    int base = base16[in->rm], index = index16[in->rm];
    int32_t disp = in->disp;
    int end = in->modrm_off + 1 + in->disp_size;

    if (in->mod == 0 && in->rm == 6)
        base = -1;                                  /* [disp16] */
    if (in->mod == 0 && in->rm == 6)
        disp = (uint16_t)in->disp;
    emit_mov_r64_r64(e, H_R10, x);
    xl->pc[xl->npc - 1].flags |= (uint16_t)TB_PC_SPILL(x);
    if (base < 0)
        emit_mov_r32_imm32(e, x, (uint32_t)disp);
    else
        emit_lea_r32(e, x, base, index, 0, disp);
    emit_movzx_r32_r16(e, x, x);
    emit_bytes(e, "\x65\x67", 2);
    for (int i = 0; i < in->npfx; i++) {
        uint8_t b = in->bytes[i];
        if (b != 0x67 && b != 0x26 && b != 0x2e && b != 0x36 && b != 0x3e && b != 0x64 && b != 0x65)
            emit_u8(e, b);
    }
    emit_opcode(e, in);
    emit_u8(e, (uint8_t)((in->reg & 7) << 3 | (x & 7)));   /* mod=00 [esi] or [edi] */
    emit_bytes(e, in->bytes + end, (size_t)(in->len - end));
    emit_mov_r64_r64(e, x, H_R10);
}
