/* xlate_stack — PUSH POP PUSHA POPA ENTER LEAVE.
 *
 * Guest ESP is host RSP, but the host stack instructions would address host
 * memory, so every stack access is a [rsp + r14 + d] move and ESP moves with a
 * flag-free lea. The store (or load) comes first and ESP moves last, so a
 * fault leaves ESP as it was: the exception is precise (DESIGN §2). */
#include "bt/xlate.h"

static void lea_esp(struct emit *e, int32_t delta) { emit_lea_r32(e, H_RSP, H_RSP, -1, 0, delta); }

/* Does the r/m operand use ESP as its base? (SIB base=100 with mod!=3) */
static bool rm_based_on_esp(const struct insn *in)
{
    return in->mod != 3 && in->rm == 4 && in->sib_off >= 0 && (in->bytes[in->sib_off] & 7) == 4;
}

/* Store host reg (32 or 16 bits) at SS:[esp-size] and move ESP down. */
static void push_reg(struct emit *e, int32_t ss, int size, int reg)
{
    if (size == 4)
        emit_guest_store32(e, H_RSP, ss - 4, reg);
    else
        emit_guest_store16(e, H_RSP, ss - 2, reg);
    lea_esp(e, -size);
}

static bool xl_push(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;
    int size = in->opsize;
    uint8_t op = in->opcode;

    if (in->opc_len == 1 && op >= 0x50 && op <= 0x57) {
        push_reg(e, xl_ss(xl), size, op & 7);   /* push esp stores the old ESP, as the SDM says */
    } else if (op == 0x68 || op == 0x6a) {
        if (size == 4)
            emit_guest_store32_imm(e, H_RSP, xl_ss(xl) - 4, (uint32_t)in->imm);
        else
            emit_guest_store16_imm(e, H_RSP, xl_ss(xl) - 2, (uint16_t)in->imm);
        lea_esp(e, -size);
    } else if (op == 0xff) {
        xl_load_rm(xl, in, H_R11);    /* the operand is read with the old ESP */
        push_reg(e, xl_ss(xl), size, H_R11);
    } else {
        return false;
    }
    return true;
}

static void pop_to_reg(struct emit *e, int32_t ss, int size, int reg)
{
    if (size == 4) {
        emit_guest_load32(e, reg, H_RSP, ss);
        if (reg != H_RSP)             /* pop esp: ESP = the value popped */
            lea_esp(e, 4);
    } else {
        emit_guest_load16z(e, H_R11, H_RSP, ss);
        lea_esp(e, 2);
        emit_modrm_reg(e, OPC_MOVL_EvGv | P_DATA16, H_R11, reg);   /* mov r16, r11w */
    }
}

static bool xl_pop(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;
    int size = in->opsize;

    if (in->opc_len == 1 && in->opcode >= 0x58 && in->opcode <= 0x5f) {
        pop_to_reg(e, xl_ss(xl), size, in->opcode & 7);
        return true;
    }
    if (in->opcode != 0x8f)
        return false;
    if (in->mod == 3) {
        pop_to_reg(e, xl_ss(xl), size, in->rm);
        return true;
    }
    /* pop m: the address is computed after ESP is incremented (SDM POP).
     * Compute it first into r10 with that adjustment, store, then move ESP. */
    xl_reencode(xl, in, (const uint8_t *)"\x8d", 1, H_R10, false, false);   /* lea r10d, [m] */
    int32_t adjust = (rm_based_on_esp(in) ? size : 0) + (int32_t)xl_seg_base(xl, xl_operand_seg(in));
    if (adjust)
        emit_lea_r32(e, H_R10, H_R10, -1, 0, adjust);
    if (size == 4) {
        emit_guest_load32(e, H_R11, H_RSP, xl_ss(xl));
        emit_modrm_mem(e, OPC_MOVL_EvGv | P_GUEST, H_R11, H_R10, -1, 0, 0);
    } else {
        emit_guest_load16z(e, H_R11, H_RSP, xl_ss(xl));
        emit_modrm_mem(e, OPC_MOVL_EvGv | P_GUEST | P_DATA16, H_R11, H_R10, -1, 0, 0);
    }
    lea_esp(e, size);
    return true;
}

/* PUSHA: EAX ECX EDX EBX (original ESP) EBP ESI EDI, then ESP -= 8*size. */
static void xl_pusha(struct emit *e, int32_t ss, int size)
{
    for (int r = 0; r < 8; r++) {
        int32_t disp = ss - (r + 1) * size;
        if (size == 4)
            emit_guest_store32(e, H_RSP, disp, r);
        else
            emit_guest_store16(e, H_RSP, disp, r);
    }
    lea_esp(e, -8 * size);
}

/* POPA: the reverse, skipping the saved ESP. The two ends of the 8-slot
 * area are read first (EAX's slot into r11), so a fault happens before any
 * register changes. */
static void xl_popa(struct emit *e, int32_t ss, int size)
{
    int32_t top = ss + 7 * size;

    if (size == 4)
        emit_guest_load32(e, H_R11, H_RSP, top);
    else
        emit_guest_load16z(e, H_R11, H_RSP, top);
    for (int r = 7; r >= 1; r--) {
        int32_t disp = ss + (7 - r) * size;
        if (r == R_ESP)
            continue;
        if (size == 4)
            emit_modrm_mem(e, OPC_MOVL_GvEv | P_GUEST, r, H_RSP, -1, 0, disp);
        else
            emit_modrm_mem(e, OPC_MOVL_GvEv | P_GUEST | P_DATA16, r, H_RSP, -1, 0, disp);
    }
    if (size == 4)
        emit_mov_r32_r32(e, H_RAX, H_R11);
    else
        emit_modrm_reg(e, OPC_MOVL_EvGv | P_DATA16, H_R11, H_RAX);
    lea_esp(e, 8 * size);
}

bool xl_stack(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;

    switch (in->kind) {
    case K_PUSH:
        return xl_push(xl, in);
    case K_POP:
        return xl_pop(xl, in);
    case K_PUSHA:
        xl_pusha(e, xl_ss(xl), in->opsize);
        return true;
    case K_POPA:
        xl_popa(e, xl_ss(xl), in->opsize);
        return true;
    case K_ENTER: {
        uint16_t size = (uint16_t)in->imm;
        uint8_t level = in->bytes[in->imm_off + 2] & 31;
        if (level != 0 || in->opsize != 4) {
            /* Nested frames copy the display from the old frame: done in C. */
            xl_callout(xl, xl->bt->h.helper[BT_HELPER_ENTER] ? xl->bt->h.helper[BT_HELPER_ENTER]
                                                             : xl->bt->h.invalid, in, 0);
            return true;
        }
        emit_guest_store32(e, H_RSP, xl_ss(xl) - 4, H_RBP);    /* push ebp */
        emit_lea_r32(e, H_RBP, H_RSP, -1, 0, -4);              /* ebp = new esp */
        lea_esp(e, -4 - (int32_t)size);
        return true;
    }
    case K_LEAVE:
        /* ESP = EBP; EBP = pop. Load first so that a fault changes nothing. */
        if (in->opsize == 4) {
            emit_guest_load32(e, H_R11, H_RBP, xl_ss(xl));
            emit_lea_r32(e, H_RSP, H_RBP, -1, 0, 4);
            emit_mov_r32_r32(e, H_RBP, H_R11);
        } else {
            emit_guest_load16z(e, H_R11, H_RBP, xl_ss(xl));
            emit_lea_r32(e, H_RSP, H_RBP, -1, 0, 2);
            emit_modrm_reg(e, OPC_MOVL_EvGv | P_DATA16, H_R11, H_RBP);
        }
        return true;
    default:
        return false;
    }
}
