/* xlate_branch — control transfers. Direct targets become chainable exits;
 * returns and indirect jumps/calls end in the inline jump-cache lookup. */
#include "bt/xlate.h"

/* Push the return address (32 or 16 bits) the way CALL does. */
static void push_return(struct emit *e, int32_t ss, const struct insn *in)
{
    uint32_t next = in->eip + in->glen;

    if (in->opsize == 4)
        emit_guest_store32_imm(e, H_RSP, ss - 4, next);
    else
        emit_guest_store16_imm(e, H_RSP, ss - 2, (uint16_t)next);
    emit_lea_r32(e, H_RSP, H_RSP, -1, 0, -in->opsize);
}

/* loop/loope/loopne/jecxz: the host instruction with 0x67 (ECX), jumping
 * over the fall-through exit to the taken exit. */
static void counted_branch(struct xl *xl, const struct insn *in)
{
    uint8_t code[3] = { 0x67, in->opcode, 5 };

    emit_bytes(&xl->e, code, 3);
    xl_exit_direct(xl, -1, in->eip + in->glen);
    xl->ended = false;
    xl_exit_direct(xl, -1, in->target);
}

/* The CX-counted forms (0x67 prefix): run the ECX form on a zero-extended
 * copy of CX, then put the low 16 bits back under the untouched upper half.
 * LOOP's ECX != 0 test on the copy is exactly CX != 0. */
static void counted_branch_cx(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;
    uint8_t code[3] = { 0x67, in->opcode, 12 };
    static const uint8_t restore[7] = { 0x66, 0x41, 0x89, 0xca,    /* mov r10w, cx */
                                        0x4c, 0x89, 0xd1 };        /* mov rcx, r10 */

    emit_mov_r64_r64(e, H_R10, H_RCX);
    emit_movzx_r32_r16(e, H_RCX, H_RCX);
    emit_bytes(e, code, 3);
    emit_bytes(e, restore, sizeof restore);
    xl_exit_direct(xl, -1, in->eip + in->glen);
    xl->ended = false;
    emit_bytes(e, restore, sizeof restore);
    xl_exit_direct(xl, -1, in->target);
}

bool xl_branch(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;

    switch (in->kind) {
    case K_JCC:
        xl_exit_direct(xl, in->opcode & 15, in->target);
        if (xl_superblock_continues(xl))
            xl->bt->stats.superblock_jccs++;
        else
            xl_exit_direct(xl, -1, in->eip + in->glen);
        return true;
    case K_JMP:
        if (xl_superblock_jumps(xl, in)) {
            xl->redirect = true;
            xl->next_off = (int32_t)(in->target - xl->tb_eip);
            xl->bt->stats.superblock_jmps++;
            return true;
        }
        xl_exit_direct(xl, -1, in->target);
        return true;
    case K_CALL:
        if (xl_inline_call(xl, in))
            return true;
        push_return(e, xl_ss(xl), in);
        if (in->opsize == 4 && xl_rstack_on(xl)) {
            xl_rstack_call(xl, in);
            xl_exit_direct(xl, -1, in->target);
            xl_rstack_land(xl, in);
        } else {
            xl_exit_direct(xl, -1, in->target);
        }
        return true;
    case K_RET: {
        uint16_t extra = in->opcode == 0xc2 ? (uint16_t)in->imm : 0;
        if (xl_inline_ret(xl, in))
            return true;
        if (in->opsize == 4)
            emit_guest_load32(e, H_R11, H_RSP, xl_ss(xl));
        else
            emit_guest_load16z(e, H_R11, H_RSP, xl_ss(xl));
        if (xl_rstack_on(xl)) {
            xl_rstack_ret(xl, in->opsize + extra);
            return true;
        }
        emit_lea_r32(e, H_RSP, H_RSP, -1, 0, in->opsize + extra);
        xl_exit_return_r11(xl);
        return true;
    }
    case K_LOOP:
    case K_JCXZ:
        if (in->addrsize == 4)
            counted_branch(xl, in);
        else
            counted_branch_cx(xl, in);
        return true;
    case K_JMP_IND:
        xl_load_rm(xl, in, H_R11);
        xl_exit_indirect_r11(xl);
        return true;
    case K_CALL_IND:
        xl_load_rm(xl, in, H_R11);   /* read before ESP moves: call [esp+4] */
        push_return(e, xl_ss(xl), in);
        if (in->opsize == 4 && xl_rstack_on(xl)) {
            xl_rstack_call(xl, in);
            xl_exit_indirect_r11(xl);
            xl_rstack_land(xl, in);
        } else {
            xl_exit_indirect_r11(xl);
        }
        return true;
    default:
        return false;
    }
}
