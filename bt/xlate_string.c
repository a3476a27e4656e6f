/* xlate_string — MOVS CMPS STOS LODS SCAS with any REP prefix.
 *
 * In 64-bit mode ES:[RDI] cannot be overridden, so a copied string
 * instruction would address host memory. Instead RSI/RDI are rebased into
 * the guest address space (R14 = its base, 4 GiB aligned), the host string
 * instruction runs — DF, REP and the fast-string hardware work natively —
 * and the pointers are truncated back to 32 bits; the base's low half is
 * zero, so the truncation yields the guest's ESI/EDI exactly. Each space is
 * flanked by guards larger than the longest operation (ECX*4 = 16 GiB), so a
 * run past either end of the 4 GiB faults instead of touching host memory;
 * such a fault is the guest's wrap-around, which the monitor handles. A fault
 * mid-REP leaves ECX/ESI/EDI at the progress point, as on hardware. */
#include "bt/xlate.h"

bool bt_string_reads_esi(uint8_t op) { return op == 0xa4 || op == 0xa5 || op == 0xa6 || op == 0xa7 || op == 0xac || op == 0xad; }
bool bt_string_uses_edi(uint8_t op) { return !(op == 0xac || op == 0xad); }

bool xl_string(struct xl *xl, const struct insn *in)
{
    struct emit *e = &xl->e;
    uint8_t op = in->opcode;

    int src = in->seg != SEG_NONE ? in->seg : SEG_DS;
    int32_t ds = bt_string_reads_esi(op) ? (int32_t)xl_seg_base(xl, src) : 0;
    int32_t es = bt_string_uses_edi(op) ? (int32_t)xl_seg_base(xl, SEG_ES) : 0;

    if (in->addrsize != 4)
        return false;   /* TODO(#2): SI/DI/CX string forms (0x67 prefix) */
    /* Segment bases: added (wrapping at 32 bits) before the rebase and taken
     * off again after; the side table tells the signal handler. */
    uint16_t state = 0;
    if (ds) {
        emit_lea_r32(e, H_RSI, H_RSI, -1, 0, ds);
        xl_pc_state(xl, state |= TB_PC_STR_SRC(src));
    }
    if (es) {
        emit_lea_r32(e, H_RDI, H_RDI, -1, 0, es);
        xl_pc_state(xl, state |= TB_PC_STR_ES);
    }
    if (bt_string_reads_esi(op))
        emit_lea_r64(e, H_RSI, H_R14, H_RSI, 0, 0);   /* lea rsi, [r14+rsi] */
    if (bt_string_uses_edi(op))
        emit_lea_r64(e, H_RDI, H_R14, H_RDI, 0, 0);   /* lea rdi, [r14+rdi] */
    for (int i = 0; i < in->npfx; i++) {
        uint8_t b = in->bytes[i];
        if (b == 0x66 || b == 0xf2 || b == 0xf3)
            emit_u8(e, b);
    }
    emit_u8(e, op);
    if (bt_string_reads_esi(op))
        emit_mov_r32_r32(e, H_RSI, H_RSI);
    if (bt_string_uses_edi(op))
        emit_mov_r32_r32(e, H_RDI, H_RDI);
    if (ds)
        emit_lea_r32(e, H_RSI, H_RSI, -1, 0, -ds);
    if (es)
        emit_lea_r32(e, H_RDI, H_RDI, -1, 0, -es);
    return true;
}
