/* ea — the effective address of a decoded ModRM memory operand. */
#include "decoder/decoder.h"

/* SDM vol. 2 §2.1.5 (32-bit addressing): base + index<<scale + disp, with
 * mod=00 base=101 meaning "no base"; the default segment is SS when the
 * base is ESP or EBP (vol. 1 §3.7.4), else DS, unless overridden. */
uint32_t insn_ea32(const struct insn *in, const uint32_t gpr[8], int *seg)
{
    uint32_t ea = (uint32_t)in->disp;
    int s = SEG_DS;

    if (in->sib_off >= 0) {
        uint8_t sib = in->bytes[in->sib_off];
        unsigned base = sib & 7, index = sib >> 3 & 7, scale = sib >> 6;
        if (!(base == 5 && in->mod == 0)) {
            ea += gpr[base];
            if (base == 4 || base == 5)
                s = SEG_SS;
        }
        if (index != 4)
            ea += gpr[index] << scale;
    } else if (!(in->mod == 0 && in->rm == 5)) {
        ea += gpr[in->rm];
        if (in->rm == 5)
            s = SEG_SS;
    }
    *seg = in->seg != SEG_NONE ? in->seg : s;
    return ea;
}

/* SDM vol. 2 table 2-1 (16-bit addressing): BX/BP plus SI/DI plus the
 * displacement, modulo 64 KiB; the BP-based forms default to SS. */
static uint32_t insn_ea16(const struct insn *in, const uint32_t gpr[8], int *seg)
{
    static const int8_t base[8] = { 3, 3, 5, 5, -1, -1, 5, 3 };     /* BX BX BP BP - - BP BX */
    static const int8_t index[8] = { 6, 7, 6, 7, 6, 7, -1, -1 };    /* SI DI SI DI SI DI - - */
    uint32_t ea = (uint32_t)in->disp;
    int s = SEG_DS;

    if (!(in->mod == 0 && in->rm == 6)) {
        if (base[in->rm] >= 0)
            ea += gpr[base[in->rm]];
        if (index[in->rm] >= 0)
            ea += gpr[index[in->rm]];
        if (base[in->rm] == 5)
            s = SEG_SS;
    }
    *seg = in->seg != SEG_NONE ? in->seg : s;
    return ea & 0xffff;
}

uint32_t insn_ea(const struct insn *in, const uint32_t gpr[8], int *seg)
{
    return (in->flags & INSN_F_ADDR16) ? insn_ea16(in, gpr, seg) : insn_ea32(in, gpr, seg);
}
