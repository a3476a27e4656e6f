/* The byte layout of an instruction, and the fields decoded from it.
 *
 * Capstone's encoding.modrm_offset is reliable, its disp/imm fields are not
 * (in 4.0.2 they are wrong for far ptr16:32, ENTER, IN/OUT imm8
 * and 66+F2/F3 imm16 are wrong). So only the ModRM position and the total
 * length come from Capstone; everything else is recomputed from the bytes
 * (SDM vol. 2 §2.1, tables 2-1 to 2-3):
 *
 *   [prefixes][0F [38|3A]] opcode [ModRM [SIB] [disp]] [imm]
 *
 * With a ModRM byte the immediate is whatever follows the displacement.
 * Without one, a one-byte opcode is followed by its immediate (A0-A3: the
 * moffs, which is an address and so reported as disp), and in the 0F map
 * only Jcc rel16/32 has one. */
#include "decoder/decoder_impl.h"

enum opmap layout_opmap(const uint8_t *b, const struct prefixes *p, uint8_t *opc_len)
{
    const uint8_t *o = b + p->n;
    if (o[0] != 0x0f) {
        *opc_len = 1;
        return MAP_1B;
    }
    if (o[1] == 0x38 || o[1] == 0x3a) {
        *opc_len = 3;
        return o[1] == 0x38 ? MAP_0F38 : MAP_0F3A;
    }
    *opc_len = 2;
    return MAP_0F;
}

/* Offset just past ModRM, SIB and displacement; -2 if the SIB byte that
 * decides the displacement is beyond n. The result may exceed n. */
int layout_modrm_end(const uint8_t *b, size_t n, int modrm_off, bool addr16)
{
    if ((size_t)modrm_off >= n)
        return modrm_off + 1;
    uint8_t m = b[modrm_off], mod = m >> 6, rm = m & 7;
    int end = modrm_off + 1, disp = 0;
    if (mod == 3)
        return end;
    if (addr16) {
        disp = mod == 1 ? 1 : (mod == 2 || (mod == 0 && rm == 6)) ? 2 : 0;
    } else {
        int base = rm;
        if (rm == 4) {
            if ((size_t)end >= n)
                return -2;
            base = b[end++] & 7;
        }
        disp = mod == 1 ? 1 : (mod == 2 || (mod == 0 && base == 5)) ? 4 : 0;
    }
    return end + disp;
}

static int64_t read_le(const uint8_t *b, int size, bool sign)
{
    uint64_t v = 0;
    for (int i = size - 1; i >= 0; i--)
        v = v << 8 | b[i];
    if (sign && size < 8 && (v >> (size * 8 - 1)) & 1)
        v |= ~0ull << (size * 8);
    return (int64_t)v;
}

/* Immediates the instruction sign-extends (or adds to EIP). Every other
 * immediate is unsigned: ports, vectors, shift counts, ENTER/RET sizes,
 * AAM/AAD bases, SSE selectors, far pointers. */
static bool imm_signed(enum opmap map, uint8_t op)
{
    if (map == MAP_0F)
        return op >= 0x80 && op <= 0x8f;
    if (map != MAP_1B)
        return false;
    if (op < 0x40)
        return (op & 7) == 4 || (op & 7) == 5;          /* ALU AL/eAX, imm */
    if ((op >= 0x70 && op <= 0x7f) || (op >= 0xb0 && op <= 0xbf) || (op >= 0xe0 && op <= 0xe3))
        return true;
    switch (op) {
    case 0x68: case 0x69: case 0x6a: case 0x6b:
    case 0x80: case 0x81: case 0x82: case 0x83:
    case 0xa8: case 0xa9: case 0xc6: case 0xc7:
    case 0xe8: case 0xe9: case 0xeb: case 0xf6: case 0xf7:
        return true;
    default:
        return false;
    }
}

static bool rel_branch(enum opmap map, uint8_t op)
{
    if (map == MAP_0F)
        return op >= 0x80 && op <= 0x8f;
    return map == MAP_1B && ((op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xe3) ||
                             op == 0xe8 || op == 0xe9 || op == 0xeb);
}

static void fill_imm(struct insn *in, enum opmap map)
{
    const uint8_t *b = in->bytes + in->imm_off;
    uint8_t op = in->opcode;
    int first = in->imm_size;

    if (map == MAP_1B && (op == 0x9a || op == 0xea) && in->imm_size >= 4) {
        first = in->imm_size - 2;                       /* ptr16:32 or ptr16:16 */
        in->imm2 = (uint16_t)read_le(b + first, 2, false);
    } else if (map == MAP_1B && op == 0xc8 && in->imm_size == 3) {
        first = 2;                                      /* ENTER iw, ib */
        in->imm2 = b[2];
    }
    if (first > 8)
        return;                                         /* not an instruction of ours */
    in->imm = read_le(b, first, imm_signed(map, op));
    if (rel_branch(map, op)) {
        uint32_t t = in->eip + in->len + (uint32_t)in->imm;
        /* SDM Jcc/JMP/CALL/LOOP/JCXZ: with a 16-bit operand size EIP is
         * truncated to 16 bits. */
        in->target = in->opsize == 2 ? (t & 0xffff) : t;
    }
}

/* Fills opc_len, opcode, the ModRM/SIB/disp/imm layout, mod/reg/rm, disp,
 * imm, imm2, target, INSN_F_MEM, INSN_F_DISP32_ONLY and INSN_F_ADDR16 from
 * in->bytes[0..len), in->npfx, in->opsize, in->addrsize and the ModRM
 * offset (-1 when there is none). Returns the opcode map. */
enum opmap layout_fill(struct insn *in, int modrm_off)
{
    const uint8_t *b = in->bytes;
    struct prefixes p = { .n = in->npfx };
    bool addr16 = in->addrsize == 2;
    enum opmap map = layout_opmap(b, &p, &in->opc_len);
    int end;

    in->opcode = b[in->npfx + in->opc_len - 1];
    in->modrm_off = in->sib_off = in->disp_off = in->imm_off = -1;
    if (addr16)
        in->flags |= INSN_F_ADDR16;

    if (modrm_off > 0 && modrm_off < in->len) {
        uint8_t m = b[modrm_off];
        in->modrm_off = (int8_t)modrm_off;
        in->mod = m >> 6;
        in->reg = (m >> 3) & 7;
        in->rm = m & 7;
        end = modrm_off + 1;
        if (map == MAP_0F && in->opcode >= 0x20 && in->opcode <= 0x23) {
            /* MOV to/from CRn/DRn: "the mod field is ignored" (SDM MOV-Move
             * to/from Control Registers); the operand is always a register. */
            in->mod = 3;
        } else if (in->mod != 3) {
            in->flags |= INSN_F_MEM;
            if (!addr16 && in->rm == 4 && end < in->len)
                in->sib_off = (int8_t)end;
            if (!addr16 && in->mod == 0 && in->rm == 5)
                in->flags |= INSN_F_DISP32_ONLY;
            /* Never past the bytes, even where Capstone's length and the
             * ModRM layout disagree (only encodings the table rejects). */
            int dend = layout_modrm_end(b, in->len, modrm_off, addr16);
            if (dend < 0 || dend > in->len)
                dend = in->len;
            if (dend > end + (in->sib_off >= 0)) {
                in->disp_off = (int8_t)(end + (in->sib_off >= 0));
                in->disp_size = (uint8_t)(dend - in->disp_off);
                in->disp = (int32_t)read_le(b + in->disp_off, in->disp_size, true);
            }
            end = dend;
        }
        if (map == MAP_0F && in->opcode == 0x0f)
            return map;                                 /* 3DNow!: suffix, not an imm */
    } else {
        end = in->npfx + in->opc_len;
        if (map == MAP_1B && in->opcode >= 0xa0 && in->opcode <= 0xa3) {
            /* moffs: an absolute offset, zero-extended (SDM MOV, "moffs"). */
            in->disp_off = (int8_t)end;
            in->disp_size = (uint8_t)(in->len - end);
            in->disp = (int32_t)read_le(b + end, in->disp_size, false);
            return map;
        }
        if (map == MAP_0F && !rel_branch(map, in->opcode))
            end = in->len;
    }
    if (end < in->len) {
        in->imm_off = (int8_t)end;
        in->imm_size = (uint8_t)(in->len - end);
        fill_imm(in, map);
    }
    return map;
}
