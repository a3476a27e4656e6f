/* xlate_seglimit — which segment registers an instruction accesses memory
 * through, for the limit checks of non-flat segments (BT_MODE_SEGLIM). */
#include "bt/xlate.h"

unsigned bt_insn_segments(const struct insn *in)
{
    bool mem = in->modrm_off >= 0 && in->mod != 3;
    int dflt = in->seg != SEG_NONE ? in->seg : SEG_DS;
    unsigned segs = mem && in->kind != K_LEA && !(in->flags & INSN_F_HINT_NOP) ? 1u << xl_operand_seg(in) : 0;

    switch (in->kind) {
    case K_PUSH: case K_POP: case K_PUSHA: case K_POPA: case K_ENTER: case K_LEAVE:
    case K_CALL: case K_CALL_IND: case K_RET: case K_PUSHF: case K_POPF:
        return segs | 1u << SEG_SS;
    case K_STRING:
        return (bt_string_reads_esi(in->opcode) ? 1u << dflt : 0) |
               (bt_string_uses_edi(in->opcode) ? 1u << SEG_ES : 0);
    case K_MOFFS: case K_XLAT:
        return 1u << dflt;
    case K_SYS: case K_IO: case K_MASKMOV:
        return 0;
    default:
        return segs;
    }
}
