/* xlate_inline — call inlining: a direct CALL whose callee lies on the
 * block's page continues the translation in the callee instead of ending
 * the block, and the callee's RET continues it after the CALL, up to
 * XL_INLINE_DEPTH callees deep. A call/return pair then costs a guest store
 * and load and a predicted branch instead of two block transfers, a
 * jump-cache probe and a host indirect jump.
 *
 * The CALL still stores the return address on the guest stack, so the
 * guest sees exactly what it wrote. The inlined RET pops the return EIP
 * and checks it against the one the CALL pushed, without touching the
 * guest's flags (as the shadow return stack's landing pad does, see
 * xlate_rstack.c):
 *
 *           mov r11d, [rsp + r14 + delta]      the return EIP
 *           (ESP moves by 4 + imm16)
 *           mov r8, rcx
 *           lea ecx, [r11 - R]                 the expected return EIP R
 *           jrcxz hit
 *           mov rcx, r8
 *           lea esp, [rsp + delta]             (a pending ESP displacement)
 *           jmp bt_rt_rs_miss                  jump-cache lookup of r11
 *   hit:    mov rcx, r8
 *           ...the instructions after the CALL...
 *
 * so a callee that switches stacks, longjmps, builds its return address by
 * hand or rewrites its own return address costs a lookup, never a wrong
 * return. A RET with a 16-bit operand size is not inlined (it ends the
 * block as usual).
 *
 * The callee may lie before the block's first byte: the side table's guest
 * offsets are signed (struct tb_pcmap), and the block covers
 * [first - below, first + guest_len) of one page (struct tb), which is
 * what SMC invalidation, revalidation and page tracking use. An inlined
 * translation never crosses the page end. Only 32-bit code with flat CS and
 * SS (the target EIP is the linear offset on the same page), no segment
 * limit checks, never a single-step block,
 * never with --no-chain (the miss path enters blocks through the jump
 * cache). */
#include "bt/abi_offsets.h"
#include "bt/xlate.h"

/* CS and SS must be flat (the callee's EIP is its linear offset; stack
 * accesses need no base); other segments may have bases (Linux's per-CPU
 * FS): an operand through them is never kept lazy (xlate_espdelta.c). */
static bool inline_mode(struct xl *xl)
{
    const struct bt *bt = xl->bt;

    return bt->cfg.inline_calls && !bt->cfg.no_chain &&
           !(xl->mode & (BT_MODE_STEP | BT_MODE_CODE16 | BT_MODE_STACK16)) &&
           BT_MODE_SEGLIM(xl->mode) == 0 && xl_seg_base(xl, SEG_CS) == 0 && xl_seg_base(xl, SEG_SS) == 0;
}

bool xl_inline_call(struct xl *xl, const struct insn *in)
{
    uint32_t ret = in->eip + in->glen;
    int32_t end = (int32_t)(ret - xl->tb_eip), to = (int32_t)(in->target - xl->tb_eip);

    /* call $+5 (a PC thunk: pop, no RET) would leave a return expected forever. */
    if (!inline_mode(xl) || in->opsize != 4 || xl->inl_depth == XL_INLINE_DEPTH ||
        end > xl->page_left || to < -xl->below_max || to >= xl->page_left || in->target == ret) {
        xl_esp_materialise(xl);
        return false;
    }
    xl->esp_lazy |= !xl->bt->cfg.no_lazy_esp;
    emit_guest_store32_imm(&xl->e, H_RSP, xl->esp_delta - 4, ret);
    if (xl->esp_lazy)
        xl_esp_move(xl, -4);
    else
        emit_lea_r32(&xl->e, H_RSP, H_RSP, -1, 0, -4);
    xl->inl_ret[xl->inl_depth++] = ret;
    xl->redirect = true;
    xl->next_off = to;
    xl->inlined++;
    xl->bt->stats.inlined_calls++;
    return true;
}

bool xl_inline_ret(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;
    int32_t pop = 4 + (in->opcode == 0xc2 ? (uint16_t)in->imm : 0);
    uint32_t ret;
    size_t hit;

    if (xl->inl_depth == 0 || in->opsize != 4) {
        xl_esp_materialise(xl);
        return false;
    }
    ret = xl->inl_ret[--xl->inl_depth];
    emit_guest_load32(e, H_R11, H_RSP, xl->esp_delta);
    if (xl->esp_lazy)
        xl_esp_move(xl, pop);
    else
        emit_lea_r32(e, H_RSP, H_RSP, -1, 0, pop);
    emit_mov_r64_r64(e, H_R8, H_RCX);
    emit_lea_r32(e, H_RCX, H_R11, -1, 0, (int32_t)(0u - ret));
    hit = emit_jrcxz_rel8(e);
    emit_mov_r64_r64(e, H_RCX, H_R8);
    if (xl->esp_delta)
        emit_lea_r32(e, H_RSP, H_RSP, -1, 0, xl->esp_delta);
    emit_jmp_rel32(e, xl->bt->rt_rs_miss);
    emit_patch_rel8_here(e, hit);
    emit_mov_r64_r64(e, H_RCX, H_R8);
    xl->redirect = true;
    xl->next_off = (int32_t)(ret - xl->tb_eip);
    xl->bt->stats.inlined_rets++;
    return true;
}
