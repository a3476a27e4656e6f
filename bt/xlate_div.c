/* xlate_div — DIV and IDIV that check before they divide.
 *
 * A guest divide error is a host SIGFPE round trip (thousands of cycles:
 * signal frame, side-table lookup, sigreturn). A site the monitor has seen
 * fault (bt_config.checked_div: adaptive translation, DESIGN §4) is
 * translated into a form that tests the divisor and the quotient's range
 * first and raises #DE through a callout, so a guest that divides by zero in
 * a loop takes no host signal; the division itself then cannot fault.
 *
 * SDM "DIV"/"IDIV": #DE when the divisor is 0 or the quotient does not fit
 * the destination (AL, AX or EAX). Being a fault, it leaves the registers,
 * the flags and EIP as they were before the instruction. Otherwise
 * CF OF SF ZF AF PF are undefined, so the checks may use the flags, which
 * are saved first (pushfq into the vCPU's RFLAGS slot, as PUSHF does) and
 * restored only on the #DE path.
 *
 *   pushfq through the RFLAGS slot
 *   r11 = divisor, zero- (DIV) or sign-extended (IDIV) to 64 bits; a memory
 *         operand is read once, here (a device register must not be read twice)
 *   DIV  n bits: #DE iff high half of the dividend (AH, DX, EDX) >= divisor,
 *         which covers divisor 0
 *   IDIV n bits: #DE iff divisor 0, or |q| too large: with D the 2n-bit
 *         dividend, a = |D|, b = |divisor| and L the largest |q| allowed
 *         (2^(n-1) - 1, or 2^(n-1) when D and divisor differ in sign),
 *         floor(a / b) > L  iff  a >= (L + 1) * b, computed in 64 bits
 *         ((L + 1) * b <= (2^31 + 1) * 2^31 cannot overflow)
 *   div/idiv r11 (the same operand size): cannot fault now
 *   jmp done
 *   de: popfq through the slot; callout BT_HELPER_DIVIDE_ERROR (raises #DE)
 *   done:
 *
 * Forms reached through a borrowed register (16-bit addresses, segment
 * bases) are copied as they are and keep faulting through the host. */
#include "bt/abi_offsets.h"
#include "bt/xlate.h"

enum { OP_SHL = 4, OP_SHR = 5, OP_SAR = 7 };

static void shift_imm(struct emit *e, int opc_flags, int op, int r, uint8_t n)
{
    emit_modrm_reg(e, 0xc1 | opc_flags, op, r);
    emit_u8(e, n);
}

/* r11 = the r/m operand of `in` (8, 16 or 32 bits), zero- or sign-extended. */
static void load_divisor(struct xl *xl, const struct insn *in, int bits, bool sign)
{
    struct emit *e = &xl->e;
    /* movzx r32 / movsx r64 from r/m8 and r/m16; mov r32 / movsxd r64 from r/m32 */
    static const uint8_t zx8[] = { 0x0f, 0xb6 }, sx8[] = { 0x0f, 0xbe };
    static const uint8_t zx16[] = { 0x0f, 0xb7 }, sx16[] = { 0x0f, 0xbf };
    static const uint8_t mov32[] = { 0x8b }, sx32[] = { 0x63 };
    const uint8_t *opc = bits == 8 ? (sign ? sx8 : zx8) : bits == 16 ? (sign ? sx16 : zx16)
                                                         : (sign ? sx32 : mov32);
    int opc_len = bits == 32 ? 1 : 2;

    if (in->mod != 3) {
        xl_reencode(xl, in, opc, opc_len, H_R11, sign, false);
        return;
    }
    int src = in->rm;
    if (bits == 8 && src >= 4) {
        /* AH CH DH BH: with a REX prefix these numbers mean SPL..DIL. */
        emit_mov_r32_r32(e, H_R11, src - 4);
        shift_imm(e, 0, OP_SHR, H_R11, 8);
        src = H_R11;
    }
    emit_modrm_reg(e, (opc_len == 2 ? P_EXT : 0) | opc[opc_len - 1] | (sign ? P_REXW : 0) |
                      (bits == 8 ? P_BYTERM : 0), H_R11, src);
}

bool xl_div_checked(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;
    bt_callout_fn raise = xl->bt->h.helper[BT_HELPER_DIVIDE_ERROR];
    bool sign = in->reg == 7;                           /* F6/F7 /6 DIV, /7 IDIV */
    int bits = in->opcode == 0xf6 ? 8 : in->opsize * 8;
    size_t de1, de2 = 0, done;

    if (!raise || in->modrm_off < 0 || (in->opcode != 0xf6 && in->opcode != 0xf7) ||
        (in->reg != 6 && in->reg != 7))
        return false;
    if (in->mod != 3 && ((in->flags & INSN_F_ADDR16) || xl_seg_base(xl, xl_operand_seg(in))))
        return false;

    xl_rflags_slot(e, CPU_RFLAGS_SLOT + 8, 0x9c);                /* pushfq into the slot */
    load_divisor(xl, in, bits, sign);
    if (!sign) {
        /* r10 = AH, DX or EDX; #DE iff r10 >= r11 (unsigned). */
        if (bits == 8) {
            emit_mov_r32_r32(e, H_R10, H_RAX);
            shift_imm(e, 0, OP_SHR, H_R10, 8);
            emit_modrm_reg(e, OPC_MOVZBL | P_BYTERM, H_R10, H_R10);
        } else if (bits == 16) {
            emit_movzx_r32_r16(e, H_R10, H_RDX);
        } else {
            emit_mov_r32_r32(e, H_R10, H_RDX);
        }
        emit_modrm_reg(e, 0x39 | P_REXW, H_R11, H_R10);          /* cmp r10, r11 */
        de1 = emit_jcc_rel8(e, CC_AE);
    } else {
        /* r10 = the dividend D, sign-extended to 64 bits. */
        if (bits == 8) {
            emit_modrm_reg(e, 0xbf | P_EXT | P_REXW, H_R10, H_RAX);   /* movsx r10, ax */
        } else {
            emit_mov_r32_r32(e, H_R10, H_RDX);
            shift_imm(e, bits == 32 ? P_REXW : 0, OP_SHL, H_R10, (uint8_t)bits);
            if (bits == 16)
                emit_movzx_r32_r16(e, H_R9, H_RAX);
            else
                emit_mov_r32_r32(e, H_R9, H_RAX);
            emit_modrm_reg(e, 0x09 | P_REXW, H_R9, H_R10);       /* or r10, r9 */
            if (bits == 16)
                emit_modrm_reg(e, 0x63 | P_REXW, H_R10, H_R10);  /* movsxd r10, r10d */
        }
        emit_modrm_reg(e, 0x85 | P_REXW, H_R11, H_R11);          /* test r11, r11 */
        de1 = emit_jcc_rel8(e, CC_E);
        /* r9 = L + 1 = 2^(n-1) + (D and the divisor differ in sign) */
        emit_mov_r64_r64(e, H_R9, H_R10);
        emit_modrm_reg(e, 0x31 | P_REXW, H_R11, H_R9);           /* xor r9, r11 */
        shift_imm(e, P_REXW, OP_SHR, H_R9, 63);
        emit_modrm_reg(e, 0xba | P_EXT | P_REXW, 5, H_R9);       /* bts r9, n-1 */
        emit_u8(e, (uint8_t)(bits - 1));
        /* r10 = |D|, r12 = |divisor| (r11 stays the divisor) */
        static const int absreg[2][2] = { { H_R10, H_R10 }, { H_R12, H_R11 } };
        for (int k = 0; k < 2; k++) {
            int r = absreg[k][0];
            if (r != absreg[k][1])
                emit_mov_r64_r64(e, r, absreg[k][1]);
            emit_mov_r64_r64(e, H_R8, r);
            shift_imm(e, P_REXW, OP_SAR, H_R8, 63);
            emit_modrm_reg(e, 0x31 | P_REXW, H_R8, r);           /* xor r, r8 */
            emit_modrm_reg(e, 0x29 | P_REXW, H_R8, r);           /* sub r, r8 */
        }
        emit_modrm_reg(e, 0xaf | P_EXT | P_REXW, H_R9, H_R12);   /* imul r9, r12 */
        emit_modrm_reg(e, 0x39 | P_REXW, H_R9, H_R10);           /* cmp r10, r9 */
        de2 = emit_jcc_rel8(e, CC_AE);
    }
    emit_modrm_reg(e, bits == 8 ? 0xf6 | P_BYTERM : 0xf7 | (bits == 16 ? P_DATA16 : 0), in->reg,
                   H_R11);                                       /* div/idiv r11 */
    emit_u8(e, 0xeb);                                            /* jmp done */
    emit_u8(e, 0);
    done = emit_off(e) - 1;
    emit_patch_rel8_here(e, de1);
    if (de2)
        emit_patch_rel8_here(e, de2);
    xl_rflags_slot(e, CPU_RFLAGS_SLOT, 0x9d);                    /* popfq from the slot */
    xl_callout(xl, raise, in, 0);
    emit_patch_rel8_here(e, done);
    return true;
}
