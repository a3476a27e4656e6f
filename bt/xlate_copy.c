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

    if (xl->esp_delta && in->mod != 3 && in->rm == 4 && in->sib_off >= 0 && (in->bytes[in->sib_off] & 7) == 4 &&
        !(in->flags & INSN_F_ADDR16)) {
        /* [esp + ...] with ESP's displacement pending (xlate_espdelta.c): disp32. */
        emit_u8(&xl->e, (uint8_t)((modrm & 0x38) | 0x84));
        emit_u8(&xl->e, in->bytes[in->sib_off]);
        emit_u32(&xl->e, (uint32_t)(in->disp + xl->esp_delta));
        return;
    }
    if (in->flags & INSN_F_DISP32_ONLY) {
        emit_u8(&xl->e, (uint8_t)((modrm & 0x38) | 0x04));
        emit_u8(&xl->e, 0x25);
    } else {
        emit_u8(&xl->e, modrm);
    }
    emit_bytes(&xl->e, in->bytes + from, (size_t)(to - from));
}

/* Does prefix byte b at position i say nothing that a later prefix does
 * not say again? A repeated prefix is redundant, and of F2/F3 only the last
 * counts (SDM vol. 2 §2.1.1 allows one prefix per group; the CPU uses the
 * last of a group). Dropping these keeps a 14- or 15-byte guest instruction
 * within the 15-byte limit once gs:, 0x67 and a SIB byte are added. */
static bool prefix_redundant(const struct insn *in, int i)
{
    uint8_t b = in->bytes[i];
    for (int j = i + 1; j < in->npfx; j++) {
        uint8_t c = in->bytes[j];
        if (c == b || ((b == 0xf2 || b == 0xf3) && (c == 0xf2 || c == 0xf3)))
            return true;
    }
    return false;
}

/* The guest's legacy prefixes, each once; for a memory operand, without
 * its segment override and 0x67 (gs: and 0x67 replace them). */
static void copy_prefixes(struct emit *e, const struct insn *in, bool mem)
{
    for (int i = 0; i < in->npfx; i++) {
        uint8_t b = in->bytes[i];
        if (mem && (is_seg_prefix(b) || b == 0x67))
            continue;
        if (prefix_redundant(in, i))
            continue;
        /* F3 0F BC/BD is TZCNT/LZCNT on a BMI1/ABM host; an i686 ignores the
         * F3 and runs BSF/BSR (Linux's __ffs uses rep bsf). */
        if (b == 0xf3 && (in->flags & INSN_F_F3_BSF))
            continue;
        emit_u8(e, b);
    }
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

static void operand_ea(const struct insn *in, int *base, int *index, int *shift, int32_t *disp);

void xl_copy(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;
    bool mem = in->modrm_off >= 0 && in->mod != 3;
    int op = in->npfx;

    if (mem)
        emit_bytes(e, "\x65\x67", 2);
    copy_prefixes(e, in, mem);
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
    uint32_t seg_base = in->mod != 3 ? xl_seg_base(xl, xl_operand_seg(in)) : 0;

    if (seg_base) {
        /* The linear address into r10 (lea wraps at 32 bits), then load. */
        int base, index, shift;
        int32_t disp;
        operand_ea(in, &base, &index, &shift, &disp);
        if (base < 0 && index < 0)
            emit_mov_r32_imm32(&xl->e, H_R10, (uint32_t)disp + seg_base);
        else
            emit_lea_r32(&xl->e, H_R10, base, index, shift, (int32_t)((uint32_t)disp + seg_base));
        emit_modrm_mem(&xl->e, (in->opsize == 2 ? OPC_MOVZWL : OPC_MOVL_GvEv) | P_GUEST, reg,
                       H_R10, -1, 0, 0);
        return;
    }
    if (in->opsize == 2)
        xl_reencode(xl, in, (const uint8_t *)"\x0f\xb7", 2, reg, false, false);  /* movzx r32, r/m16 */
    else
        xl_reencode(xl, in, (const uint8_t *)"\x8b", 1, reg, false, false);      /* mov r32, r/m32 */
}

/* The segment an operand goes through: the override, else SS for
 * EBP/ESP-based addresses and DS otherwise (SDM vol. 1 §3.7.4). */
int xl_operand_seg(const struct insn *in)
{
    if (in->seg != SEG_NONE)
        return in->seg;
    if (in->modrm_off < 0 || in->mod == 3)
        return SEG_DS;
    if (in->flags & INSN_F_ADDR16)
        return (in->rm == 2 || in->rm == 3 || (in->rm == 6 && in->mod != 0)) ? SEG_SS : SEG_DS;
    if (in->rm == 4 && in->sib_off >= 0) {
        int base = in->bytes[in->sib_off] & 7;
        return base == 4 || (base == 5 && in->mod != 0) ? SEG_SS : SEG_DS;
    }
    return in->rm == 5 && in->mod != 0 ? SEG_SS : SEG_DS;
}

/* The operand's address as base + index<<shift + disp (base/index -1: none). */
static void operand_ea(const struct insn *in, int *base, int *index, int *shift, int32_t *disp)
{
    static const int8_t base16[8] = { H_RBX, H_RBX, H_RBP, H_RBP, H_RSI, H_RDI, H_RBP, H_RBX };
    static const int8_t index16[8] = { H_RSI, H_RDI, H_RSI, H_RDI, -1, -1, -1, -1 };

    *disp = in->disp;
    *shift = 0;
    if (in->flags & INSN_F_ADDR16) {
        *base = base16[in->rm];
        *index = index16[in->rm];
        if (in->mod == 0 && in->rm == 6) {             /* [disp16] */
            *base = -1;
            *disp = (uint16_t)in->disp;
        }
        return;
    }
    if (in->rm == 4 && in->sib_off >= 0) {
        uint8_t sib = in->bytes[in->sib_off];
        *base = (sib & 7) == 5 && in->mod == 0 ? -1 : sib & 7;
        *index = (sib >> 3 & 7) == 4 ? -1 : sib >> 3 & 7;
        *shift = sib >> 6;
        return;
    }
    *base = in->mod == 0 && in->rm == 5 ? -1 : in->rm;
    *index = -1;
}

/* Operands 64-bit mode cannot express directly — 16-bit addressing (0x67 in
 * 32-bit code, SDM vol. 2 table 2-1) and segments with a non-zero base
 * (DESIGN §2) — are reached through a borrowed guest register: ESI or EDI,
 * whichever the instruction does not name, is parked in r10, loaded with the
 * linear address (lea wraps at 32 bits; 16-bit addresses are truncated to
 * 16 bits before the base is added), and the instruction runs on gs:[it].
 * No REX prefix is involved, so AH..BH keep their meaning. A fault while the
 * register is borrowed is made precise by the side table (TB_PC_SPILL). */
void xl_copy_borrowed(struct xl *xl, const struct insn *in, uint32_t seg_base)
{
    struct emit *e = &xl->e;
    int x = in->reg != H_RSI ? H_RSI : H_RDI;
    int base, index, shift;
    int32_t disp;

    operand_ea(in, &base, &index, &shift, &disp);
    emit_mov_r64_r64(e, H_R10, x);
    xl_pc_state(xl, (uint16_t)TB_PC_SPILL(x));
    if (in->flags & INSN_F_ADDR16) {
        if (base < 0)
            emit_mov_r32_imm32(e, x, (uint32_t)disp);
        else
            emit_lea_r32(e, x, base, index, 0, disp);
        emit_movzx_r32_r16(e, x, x);
        if (seg_base)
            emit_lea_r32(e, x, x, -1, 0, (int32_t)seg_base);
    } else if (base < 0 && index < 0) {
        emit_mov_r32_imm32(e, x, (uint32_t)disp + seg_base);
    } else {
        emit_lea_r32(e, x, base, index, shift, (int32_t)((uint32_t)disp + seg_base));
    }
    emit_bytes(e, "\x65\x67", 2);
    copy_prefixes(e, in, true);
    emit_opcode(e, in);
    emit_u8(e, (uint8_t)((in->reg & 7) << 3 | (x & 7)));   /* mod=00 [esi] or [edi] */
    int end = operand_end(in);
    emit_bytes(e, in->bytes + end, (size_t)(in->len - end));
    emit_mov_r64_r64(e, x, H_R10);
}
