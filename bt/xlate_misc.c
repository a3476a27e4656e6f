/* xlate_misc — single instructions whose 32-bit encodings mean something
 * else (or nothing) in 64-bit mode, and the inline virtual-IF updates. */
#include <string.h>

#include "bt/abi_offsets.h"
#include "bt/xlate.h"

static void copy_data16(struct emit *e, const struct insn *in)
{
    if (in->opsize == 2)
        emit_u8(e, 0x66);
}

/* After STI or an inline POPF: if an interrupt is waiting for IF, tell the
 * monitor, which leaves translated code after this instruction and takes
 * the interrupt once IF allows it (after STI's one-instruction shadow);
 * with `tf`, also when the POPF set EFLAGS.TF (cpu->tf_set), so that the
 * dispatcher single-steps from the next instruction on. The test is flag-free: RCX is parked in r8 and
 * jrcxz tests the pending byte. The callout reloads RCX itself, so the
 * resume path jumps over the `mov rcx, r8` of the no-interrupt path. */
void xl_check_irq_window(struct xl *xl, const struct insn *in, bool tf)
{
    struct emit *e = &xl->e;
    size_t skip, over;

    if (!xl->bt->h.helper[BT_HELPER_IRQ_WINDOW])
        return;

    emit_mov_r64_r64(e, H_R8, H_RCX);                                   /* mov r8, rcx */
    emit_modrm_mem(e, OPC_MOVZBL, H_RCX, H_R15, -1, 0, CPU_IRQ_PENDING); /* movzx ecx, byte [r15+irq_pending] */
    if (tf) {                   /* ... + byte [r15+tf_set], flag-free */
        emit_modrm_mem(e, OPC_MOVZBL, H_R9, H_R15, -1, 0, CPU_TF_SET);
        emit_lea_r32(e, H_RCX, H_RCX, H_R9, 0, 0);
    }
    skip = emit_jrcxz_rel8(e);
    emit_mov_r64_r64(e, H_RCX, H_R8);
    xl_callout(xl, xl->bt->h.helper[BT_HELPER_IRQ_WINDOW], in, 0);
    emit_u8(e, 0xeb);                                                   /* jmp over */
    over = emit_off(e);
    emit_u8(e, 0);
    emit_patch_rel8_here(e, skip);
    emit_mov_r64_r64(e, H_RCX, H_R8);
    emit_patch_rel8_here(e, over);
}

bool xl_misc(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;
    uint8_t op = in->opcode;

    switch (in->kind) {
    case K_INCDEC_SHORT:
        /* 40+r / 48+r are REX prefixes in 64-bit mode: use FF /0, FF /1. */
        copy_data16(e, in);
        emit_u8(e, 0xff);
        emit_u8(e, (uint8_t)(0xc0 | (op & 8) | (op & 7)));
        return true;
    case K_MOFFS: {
        /* A0-A3: mov al/eax <-> [moffs32] becomes 8A/8B/88/89 on the window. */
        static const int as_modrm[4] = { OPC_MOVB_GbEb, OPC_MOVL_GvEv, OPC_MOVB_EbGb, OPC_MOVL_EvGv };
        uint32_t moffs = 0;
        /* With 0x67 the offset is 16 bits wide (SDM "MOV": moffs16). */
        memcpy(&moffs, in->bytes + in->npfx + 1, in->addrsize);
        moffs += xl_seg_base(xl, in->seg != SEG_NONE ? in->seg : SEG_DS);
        int opc = as_modrm[op - 0xa0] | P_GUEST | (in->opsize == 2 ? P_DATA16 : 0);
        if (moffs < 0x80000000u) {
            emit_modrm_mem(e, opc, H_RAX, -1, -1, 0, (int32_t)moffs);
        } else {    /* not a sign-extended disp32 */
            emit_mov_r32_imm32(e, H_R11, moffs);
            emit_modrm_mem(e, opc, H_RAX, H_R11, -1, 0, 0);
        }
        return true;
    }
    case K_XLAT:
        /* AL = [EBX + AL], the sum wrapping at 4 GiB. */
        if (in->addrsize != 4)
            return false;
        emit_modrm_reg(e, OPC_MOVZBL, H_R11, H_RAX);                      /* movzx r11d, al */
        emit_lea_r32(e, H_R11, H_RBX, H_R11, 0,
                     (int32_t)xl_seg_base(xl, in->seg != SEG_NONE ? in->seg : SEG_DS));
        emit_modrm_mem(e, OPC_MOVB_GbEb | P_GUEST, H_RAX, H_R11, -1, 0, 0);  /* mov al, [r11 + r14] */
        return true;
    case K_SALC:
        /* AL = CF ? 0xFF : 0, flags untouched: build both candidates, cmovc. */
        emit_mov_r32_r32(e, H_R10, H_RAX);
        emit_bytes(e, "\x41\xb2\xff", 3);           /* mov r10b, 0xff */
        emit_mov_r32_r32(e, H_R11, H_RAX);
        emit_bytes(e, "\x41\xb3\x00", 3);           /* mov r11b, 0 */
        emit_bytes(e, "\x45\x0f\x42\xda", 4);       /* cmovc r11d, r10d */
        emit_mov_r32_r32(e, H_RAX, H_R11);
        return true;
    case K_MASKMOV:
        /* MASKMOVQ/MASKMOVDQU store to the implicit ds:[edi]: rebase EDI into
         * the guest space around the host instruction, as for strings. */
        if (in->addrsize != 4)
            return false;
        emit_lea_r64(e, H_RDI, H_R14, H_RDI, 0, 0);
        for (int i = 0; i < in->npfx; i++)
            if (in->bytes[i] == 0x66)
                emit_u8(e, 0x66);
        emit_bytes(e, in->bytes + in->npfx, (size_t)(in->len - in->npfx));
        emit_mov_r32_r32(e, H_RDI, H_RDI);
        return true;
    case K_CLI:
    case K_STI:
        /* SDM "CLI"/"STI": #GP(0) when CPL > IOPL. At CPL 0 that cannot
         * happen; above it the monitor's handler decides (see BT_MODE_*). */
        if (BT_MODE_CPL(xl->mode) > 0) {
            bt_callout_fn fn = xl->bt->h.kind[in->kind];
            xl_callout(xl, fn ? fn : xl->bt->h.invalid, in, 0);
            return true;
        }
        emit_mov_m8_imm8(e, H_R15, CPU_VIF, in->kind == K_STI);
        if (in->kind == K_STI)
            xl_check_irq_window(xl, in, false);
        return true;
    default:
        return false;
    }
}
