/* xlate_espdelta — lazy ESP: from a block's first inlined CALL on
 * (xlate_inline.c), ESP's moves are kept as a displacement known at
 * translation time instead of being made one by one. Inlined call/return
 * pairs otherwise chain every stack access through `lea esp, [esp-4]` and
 * `lea esp, [esp+4]`, and that dependency chain, not the work, bounds the
 * calls workload.
 *
 * With a displacement d pending (guest ESP = host ESP + d):
 *
 *   inlined CALL     mov dword [rsp + r14 + d - 4], R       d -= 4
 *   inlined RET      mov r11d, [rsp + r14 + d]              d += 4 + imm16
 *   PUSH r32/imm     mov [rsp + r14 + d - 4], r/imm         d -= 4
 *   POP r32          mov r, [rsp + r14 + d]                 d += 4
 *   ADD/SUB ESP,imm  the flags on a copy: lea r10d, [rsp + d]; add r10d, imm;  d += imm
 *   [esp + x]        the operand becomes [esp + x + d] (disp32)
 *
 * Each of these can fault only before its own move of d, so the side-table
 * row of every instruction carries the d in force at its start
 * (TB_PC_ESP_DELTA) and bt_recover adds it back: the guest ESP is exact at
 * every precise exception. Everything else — a block exit, a callout, an
 * instruction that names ESP as a register, one the monitor may perform
 * (adaptive memory callouts, checked divides) — first makes ESP real
 * (lea esp, [rsp + d]). A conditional exit makes it real on its taken path
 * only. d stays a multiple of 4 within [-128, 124] (the side table's field);
 * a move that leaves that range is made at once.
 *
 * Only in blocks that inlined a call: applied to every block, the extra
 * flag computations and materialisations made qsort about 6% slower. */
#include <capstone/capstone.h>

#include "bt/xlate.h"

void xl_esp_materialise(struct xl *xl)
{
    if (!xl->esp_delta)
        return;
    emit_lea_r32(&xl->e, H_RSP, H_RSP, -1, 0, xl->esp_delta);
    xl->esp_delta = 0;
    xl_pc_state(xl, xl->pc[xl->npc - 1].flags);   /* pc rows take the new delta */
}

void xl_esp_move(struct xl *xl, int32_t d)
{
    int32_t n = xl->esp_delta + d;

    if (n % 4 == 0 && n >= TB_PC_ESP_MIN && n <= TB_PC_ESP_MAX) {
        xl->esp_delta = n;
        return;
    }
    xl->esp_delta = n;
    xl_esp_materialise(xl);
}

/* Does `in` use ESP at most as the base of its memory operand, and is it
 * performed by its translation (never by the monitor)? Conservative: a
 * ModRM reg field of 4 (ESP, or an opcode extension) or an opcode register
 * of 4 count as naming ESP. */
static bool esp_base_only(const struct xl *xl, const struct insn *in)
{
    if (in->kind != K_COPY && in->kind != K_COPY_MEM && in->kind != K_LEA)
        return false;
    if (in->flags & (INSN_F_WRITES_SP | INSN_F_ADDR16))
        return false;
    if ((xl->mode & BT_MODE_FPU_TRAP) && (in->flags & (INSN_F_FPU | INSN_F_SSE)))
        return false;
    if (in->id == X86_INS_DIV || in->id == X86_INS_IDIV)
        return false;           /* may become a checked divide's callout */
    if (in->len > 10)
        return false;           /* room for REX, SIB and a disp32 within 15 bytes */
    if (in->kind != K_LEA && in->modrm_off >= 0 && in->mod != 3 &&
        xl_seg_base(xl, xl_operand_seg(in)) != 0)
        return false;           /* through a borrowed register (xl_copy_borrowed) */
    if (in->modrm_off < 0)
        return (in->opcode & 7) != 4;
    return in->reg != 4 && !(in->mod == 3 && in->rm == 4);
}

/* ADD/SUB ESP, imm (83 /0, 83 /5, 81 /0, 81 /5). */
static bool esp_add_sub(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;
    int64_t n;

    if ((in->opcode != 0x83 && in->opcode != 0x81) || in->opc_len != 1 || in->npfx ||
        in->mod != 3 || in->rm != 4 || (in->reg != 0 && in->reg != 5))
        return false;
    n = xl->esp_delta + (in->reg == 0 ? in->imm : -in->imm);
    if (n % 4 != 0 || n < TB_PC_ESP_MIN || n > TB_PC_ESP_MAX)
        return false;
    /* The guest's flags: the same operation on a copy of the real ESP. */
    emit_lea_r32(e, H_R10, H_RSP, -1, 0, xl->esp_delta);
    emit_u8(e, 0x41);
    emit_u8(e, in->opcode);
    emit_u8(e, (uint8_t)(0xc0 | in->reg << 3 | (H_R10 & 7)));
    emit_bytes(e, in->bytes + in->imm_off, in->imm_size);
    xl->esp_delta = (int32_t)n;
    return true;
}

bool xl_esp_lazy_insn(struct xl *xl, const struct insn *in, bool memop)
{
    struct emit *e = &xl->e;

    if (!xl->esp_lazy)
        return false;
    if (memop) {
        xl_esp_materialise(xl);
        return false;
    }
    switch (in->kind) {
    case K_CALL: case K_RET:            /* xlate_inline.c decides */
    case K_JCC: case K_JMP:             /* xl_exit_direct makes ESP real on exits */
        return false;
    case K_PUSH:
        if (in->opsize != 4 || in->modrm_off >= 0 || in->npfx)
            break;
        if (in->opcode >= 0x50 && in->opcode <= 0x57 && in->opcode != 0x54)
            emit_guest_store32(e, H_RSP, xl->esp_delta - 4, in->opcode & 7);
        else if (in->opcode == 0x68 || in->opcode == 0x6a)
            emit_guest_store32_imm(e, H_RSP, xl->esp_delta - 4, (uint32_t)in->imm);
        else
            break;
        xl_esp_move(xl, -4);
        return true;
    case K_POP:
        if (in->opsize != 4 || in->npfx || in->opcode < 0x58 || in->opcode > 0x5f || in->opcode == 0x5c)
            break;
        emit_guest_load32(e, in->opcode & 7, H_RSP, xl->esp_delta);
        xl_esp_move(xl, 4);
        return true;
    case K_COPY: case K_COPY_MEM:     /* 83 /0 etc. are K_COPY_MEM whatever their mod */
        if (esp_add_sub(xl, in))
            return true;
        /* fall through */
    default:
        if (esp_base_only(xl, in))
            return false;       /* xl_copy adds the displacement to [esp + x] */
        break;
    }
    xl_esp_materialise(xl);
    return false;
}
