/* xlate_copy — copying guest instructions into host code.
 *
 * Guest and host share register numbers, so an instruction whose meaning is
 * the same in 64-bit mode is copied byte for byte. A memory operand is
 * rewritten to land in the guest window that R14 points at (bt/abi.h):
 *
 *   [base + disp]          [base + r14 + disp]: base is a zero-extended
 *                          32-bit guest register, disp sign-extended, so the
 *                          sum is the guest's whenever base + disp does not
 *                          wrap at 4 GiB; when it does, the access lands in a
 *                          guard below or above the window and the monitor
 *                          emulates it (emulator/memfault.c).
 *   [disp32], disp < 2^31  [r14 + disp32]
 *   anything else          lea r11d, [the guest's form] (a 32-bit LEA wraps
 *                          at 4 GiB as the guest's address does; an address
 *                          of 0x80000000 and up cannot be a sign-extended
 *                          disp32), then [r11 + r14].
 *
 * The rewritten operand needs a REX prefix (R14), with which a ModRM reg
 * field of 4..7 in a byte instruction means SPL..DIL instead of AH..BH
 * (SDM vol. 2 §2.2.1.2): those instructions go through a borrowed register
 * (xl_copy_borrowed), which needs none. LEA computes an address and touches
 * no memory: it is copied with the guest's own form. The one ModRM form
 * whose meaning changes in 64-bit mode — mod=00 rm=101, disp32 in 32-bit
 * mode but RIP-relative in 64-bit mode (SDM vol. 2 §2.2.1.6) — never
 * reaches the host as such. */
#include "bt/xlate.h"

#include <string.h>

/* A base register with a displacement below this is taken to be a pointer
 * with a small negative offset ([ebp-8]), not a small index into a table
 * at a high address ([eax+0xc0000000]), which goes through the LEA. */
#define NEG_DISP_DIRECT (-65536)

static bool is_seg_prefix(uint8_t b)
{
    return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65;
}

static void operand_ea(const struct insn *in, int *base, int *index, int *shift, int32_t *disp);

/* The guest's ModRM (+SIB +disp), its reg field set to reg&7, as a 32-bit
 * address computation (LEA, or a borrowed register's address). */
static void emit_guest_form(struct xl *xl, const struct insn *in, int reg)
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

/* The host operand of a guest memory access: [base + index + disp], index
 * R14 or base R14 (see the top of the file). */
struct host_ea {
    int base, index;
    int32_t disp;
};

/* The guest address as base + index<<shift + disp, ESP's pending
 * displacement (xlate_espdelta.c) included. */
static void operand_ea_now(const struct xl *xl, const struct insn *in, int *base, int *index, int *shift,
                           int32_t *disp)
{
    operand_ea(in, base, index, shift, disp);
    if (*base == H_RSP && !(in->flags & INSN_F_ADDR16))
        *disp += xl->esp_delta;
}

/* Load scratch with the zero-extended linear address base + index<<shift +
 * disp (+ seg_base), 16-bit addresses truncated before the base is added. */
static void emit_linear(struct xl *xl, const struct insn *in, int scratch, uint32_t seg_base)
{
    struct emit *e = &xl->e;
    int base, index, shift;
    int32_t disp;

    operand_ea_now(xl, in, &base, &index, &shift, &disp);
    if (in->flags & INSN_F_ADDR16) {
        if (base < 0)
            emit_mov_r32_imm32(e, scratch, (uint32_t)disp);
        else
            emit_lea_r32(e, scratch, base, index, 0, disp);
        emit_movzx_r32_r16(e, scratch, scratch);
        if (seg_base)
            emit_lea_r32(e, scratch, scratch, -1, 0, (int32_t)seg_base);
    } else if (base < 0 && index < 0) {
        emit_mov_r32_imm32(e, scratch, (uint32_t)disp + seg_base);
    } else {
        emit_lea_r32(e, scratch, base, index, shift, (int32_t)((uint32_t)disp + seg_base));
    }
}

/* Plan `in`'s memory operand, emitting the LEA it needs first (into
 * scratch, which the instruction itself may only write). */
static struct host_ea guest_operand(struct xl *xl, const struct insn *in, int scratch)
{
    int base, index, shift;
    int32_t disp;

    operand_ea_now(xl, in, &base, &index, &shift, &disp);
    if (!(in->flags & INSN_F_ADDR16)) {
        if (index < 0 && base >= 0 && disp >= NEG_DISP_DIRECT)
            return (struct host_ea){ base, H_R14, disp };
        if (index < 0 && base < 0 && disp >= 0)
            return (struct host_ea){ H_R14, -1, disp };
    }
    emit_linear(xl, in, scratch, 0);
    return (struct host_ea){ scratch, H_R14, 0 };
}

/* Does prefix byte b at position i say nothing that a later prefix does
 * not say again? A repeated prefix is redundant, and of F2/F3 only the last
 * counts (SDM vol. 2 §2.1.1 allows one prefix per group; the CPU uses the
 * last of a group). Dropping these keeps a 14- or 15-byte guest instruction
 * within the 15-byte limit once REX and a SIB byte are added. */
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
 * its segment override and 0x67 (the rewritten operand replaces them). */
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

/* Byte instructions whose ModRM reg field names a byte register (Gb):
 * ALU Eb,Gb / Gb,Eb, TEST, XCHG, MOV, CMPXCHG, XADD. */
static bool reg_is_high_byte(const struct insn *in)
{
    uint8_t op = in->opcode;

    if (in->reg < 4)
        return false;
    if (in->opc_len == 1)
        return (op < 0x40 && (op & 7) <= 2 && !(op & 1)) || op == 0x84 || op == 0x86 || op == 0x88 ||
               op == 0x8a;
    return in->opc_len == 2 && (op == 0xb0 || op == 0xc0);
}

void xl_copy(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;
    bool mem = in->modrm_off >= 0 && in->mod != 3;
    int op = in->npfx;

    if (!mem) {
        copy_prefixes(e, in, false);
        emit_opcode(e, in);
        emit_bytes(e, in->bytes + op + in->opc_len, (size_t)(in->len - op - in->opc_len));
        return;
    }
    if (in->kind != K_LEA && reg_is_high_byte(in)) {
        xl_copy_borrowed(xl, in, 0);
        return;
    }
    if (in->kind == K_LEA) {
        /* A 32-bit LEA of a 64-bit sum keeps its low 32 bits: the guest's. */
        copy_prefixes(e, in, true);
        emit_opcode(e, in);
        emit_guest_form(xl, in, in->reg);
    } else {
        struct host_ea a = guest_operand(xl, in, H_R11);
        copy_prefixes(e, in, true);
        emit_rex(e, false, 0, a.base, a.index, false);
        emit_opcode(e, in);
        emit_mem_operand(e, in->reg, a.base, a.index, 0, a.disp);
    }
    int end = operand_end(in);
    emit_bytes(e, in->bytes + end, (size_t)(in->len - end));
}

void xl_reencode(struct xl *xl, const struct insn *in, const uint8_t *opc, int opc_len,
                 int reg, bool rexw, bool copy_imm)
{
    struct emit *e = &xl->e;
    bool lea = opc_len == 1 && opc[0] == 0x8d;

    if (in->mod == 3) {
        emit_rex(e, rexw, reg, in->rm, -1, false);
        emit_bytes(e, opc, (size_t)opc_len);
        emit_u8(e, (uint8_t)(0xc0 | (reg & 7) << 3 | in->rm));
    } else if (lea) {
        emit_rex(e, rexw, reg, -1, -1, false);
        emit_bytes(e, opc, (size_t)opc_len);
        emit_guest_form(xl, in, reg);
    } else {
        struct host_ea a = guest_operand(xl, in, H_R11);
        emit_rex(e, rexw, reg, a.base, a.index, false);
        emit_bytes(e, opc, (size_t)opc_len);
        emit_mem_operand(e, reg, a.base, a.index, 0, a.disp);
    }
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
        emit_linear(xl, in, H_R10, seg_base);
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

/* Operands that need a register without REX — a byte instruction naming
 * AH..BH (see the top of the file) — and those 64-bit mode cannot express
 * directly — 16-bit addressing (0x67 in 32-bit code, SDM vol. 2 table 2-1)
 * and segments with a non-zero base (DESIGN §2) — are reached through a
 * borrowed guest register: ESI or EDI, whichever the instruction does not
 * name, is parked in r10, loaded with the linear address (lea wraps at 32
 * bits; 16-bit addresses are truncated to 16 bits before the base is
 * added), rebased into the window (lea with r14), and the instruction runs
 * on [it]. A fault while the register is borrowed is made precise by the
 * side table (TB_PC_SPILL). */
void xl_copy_borrowed(struct xl *xl, const struct insn *in, uint32_t seg_base)
{
    struct emit *e = &xl->e;
    int x = in->reg != H_RSI ? H_RSI : H_RDI;

    emit_mov_r64_r64(e, H_R10, x);
    xl_pc_state(xl, (uint16_t)TB_PC_SPILL(x));
    emit_linear(xl, in, x, seg_base);
    if (in->kind != K_LEA)
        emit_lea_r64(e, x, H_R14, x, 0, 0);                 /* lea x, [r14 + x] */
    copy_prefixes(e, in, true);
    emit_opcode(e, in);
    emit_u8(e, (uint8_t)((in->reg & 7) << 3 | (x & 7)));   /* mod=00 [rsi] or [rdi] */
    int end = operand_end(in);
    emit_bytes(e, in->bytes + end, (size_t)(in->len - end));
    emit_mov_r64_r64(e, x, H_R10);
}
