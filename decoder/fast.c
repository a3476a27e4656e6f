/* The common opcodes, measured without Capstone.
 *
 * Capstone 4.0.2 formats the text of every instruction it decodes and has no
 * option to skip it (CS_OPT_DETAIL off saves only the operand details; the
 * printer runs whatever the options), so a Capstone decode costs about
 * 300 ns, two thirds of it formatting (perf on bench/xlat_throughput). bt86 never reads that text. For the
 * opcodes below — the integer instructions that make up nine in ten of
 * compiled code — this file gives decode_insn what it takes from Capstone:
 * the length, the Capstone id, the ModRM offset and whether an explicit
 * operand writes ESP/SP. Everything else (layout, table row, refinement,
 * validity) is decode_insn's shared path, so the two routes differ only in
 * those four values, and tests/unit/test_decoder_fast.c checks that they
 * agree with Capstone's on every instruction of a real libc and on random
 * encodings of every opcode listed here.
 *
 * Only the forms whose meaning the prefixes cannot change are taken: no
 * LOCK, no F2/F3 (mandatory prefixes, REP, PAUSE), no 67 (16-bit
 * addressing); a 66 only where it just selects the 16-bit operand size, not
 * on branches, RET, LEAVE and NOP whose form it changes. Capstone 4.0.2's
 * decoding bugs (prefix.c, fallback.c, refine.c; test_decoder_capstone.c)
 * all involve F2/F3, LOCK, 67 or opcodes not listed here, so none of them
 * can reach this path, and the checks that guard against them (refine_valid)
 * run on both routes. Anything else returns false and goes to Capstone. */
#include "decoder/decoder_impl.h"

enum {
    F_MODRM   = 1u << 0,
    F_NO66    = 1u << 1,   /* the form changes with 66: Capstone only */
    F_NOPFX   = 1u << 2,   /* any prefix changes it (90: XCHG/PAUSE/NOP) */
    F_MEMONLY = 1u << 3,   /* mod = 3 is #UD (LEA) */
    F_GROUP   = 1u << 4,   /* id and the rest from a group table by ModRM.reg */
    /* Immediate. */
    I_B       = 1u << 5,   /* imm8 */
    I_W       = 2u << 5,   /* imm16 (RET iw) */
    I_Z       = 3u << 5,   /* imm16 or imm32 by operand size */
    I_MOFFS   = 4u << 5,   /* A0-A3: a 32-bit offset (no 67 here) */
    I_REL8    = 5u << 5,
    I_REL32   = 6u << 5,
    I_MASK    = 7u << 5,
    /* The explicit operand that is written, for INSN_F_WRITES_SP: a full-
     * size (16/32-bit) register there that is ESP/SP sets the flag. */
    W_REG     = 1u << 8,   /* ModRM.reg */
    W_RM      = 2u << 8,   /* ModRM.rm with mod = 3 */
    W_BOTH    = 3u << 8,   /* both (XCHG, XADD) */
    W_OPREG   = 4u << 8,   /* the register in the opcode's low 3 bits */
    W_MASK    = 7u << 8,
};

struct fast_op {
    uint16_t id;           /* Capstone id; with F_GROUP the group's index */
    uint16_t f;
};

#define OP(id, f) { (id), (f) }
#define M F_MODRM
/* The six ALU forms at 8*k: Eb,Gb  Ev,Gv  Gb,Eb  Gv,Ev  AL,ib  eAX,iz.
 * CMP writes nothing. */
#define ALU(id, w1, w3) \
    OP(id, M), OP(id, M | (w1)), OP(id, M), OP(id, M | (w3)), OP(id, I_B), OP(id, I_Z)

enum { G1B = 1, G1V, G2B, G2V, G3B, G3V, G4, G5, G11B, G11V, G8, NGROUPS };

static const struct fast_op map1[256] = {
    [0x00] = ALU(X86_INS_ADD, W_RM, W_REG),
    [0x08] = ALU(X86_INS_OR,  W_RM, W_REG),
    [0x10] = ALU(X86_INS_ADC, W_RM, W_REG),
    [0x18] = ALU(X86_INS_SBB, W_RM, W_REG),
    [0x20] = ALU(X86_INS_AND, W_RM, W_REG),
    [0x28] = ALU(X86_INS_SUB, W_RM, W_REG),
    [0x30] = ALU(X86_INS_XOR, W_RM, W_REG),
    [0x38] = ALU(X86_INS_CMP, 0, 0),
    [0x40 ... 0x47] = OP(X86_INS_INC, W_OPREG),
    [0x48 ... 0x4f] = OP(X86_INS_DEC, W_OPREG),
    [0x50 ... 0x57] = OP(X86_INS_PUSH, 0),
    [0x58 ... 0x5f] = OP(X86_INS_POP, W_OPREG),
    [0x68] = OP(X86_INS_PUSH, I_Z),
    [0x69] = OP(X86_INS_IMUL, M | I_Z | W_REG),
    [0x6a] = OP(X86_INS_PUSH, I_B),
    [0x6b] = OP(X86_INS_IMUL, M | I_B | W_REG),
    [0x70] = OP(X86_INS_JO, I_REL8 | F_NO66),  [0x71] = OP(X86_INS_JNO, I_REL8 | F_NO66),
    [0x72] = OP(X86_INS_JB, I_REL8 | F_NO66),  [0x73] = OP(X86_INS_JAE, I_REL8 | F_NO66),
    [0x74] = OP(X86_INS_JE, I_REL8 | F_NO66),  [0x75] = OP(X86_INS_JNE, I_REL8 | F_NO66),
    [0x76] = OP(X86_INS_JBE, I_REL8 | F_NO66), [0x77] = OP(X86_INS_JA, I_REL8 | F_NO66),
    [0x78] = OP(X86_INS_JS, I_REL8 | F_NO66),  [0x79] = OP(X86_INS_JNS, I_REL8 | F_NO66),
    [0x7a] = OP(X86_INS_JP, I_REL8 | F_NO66),  [0x7b] = OP(X86_INS_JNP, I_REL8 | F_NO66),
    [0x7c] = OP(X86_INS_JL, I_REL8 | F_NO66),  [0x7d] = OP(X86_INS_JGE, I_REL8 | F_NO66),
    [0x7e] = OP(X86_INS_JLE, I_REL8 | F_NO66), [0x7f] = OP(X86_INS_JG, I_REL8 | F_NO66),
    [0x80] = OP(G1B, F_GROUP | M | I_B),
    [0x81] = OP(G1V, F_GROUP | M | I_Z),
    [0x83] = OP(G1V, F_GROUP | M | I_B),
    [0x84] = OP(X86_INS_TEST, M),
    [0x85] = OP(X86_INS_TEST, M),
    [0x86] = OP(X86_INS_XCHG, M),
    [0x87] = OP(X86_INS_XCHG, M | W_BOTH),
    [0x88] = OP(X86_INS_MOV, M),
    [0x89] = OP(X86_INS_MOV, M | W_RM),
    [0x8a] = OP(X86_INS_MOV, M),
    [0x8b] = OP(X86_INS_MOV, M | W_REG),
    [0x8d] = OP(X86_INS_LEA, M | F_MEMONLY | W_REG),
    [0x90] = OP(X86_INS_NOP, F_NOPFX),
    [0x98] = OP(X86_INS_CWDE, 0),                   /* CBW with 66 */
    [0x99] = OP(X86_INS_CDQ, 0),                    /* CWD with 66 */
    [0xa0] = OP(X86_INS_MOV, I_MOFFS), [0xa1] = OP(X86_INS_MOV, I_MOFFS),
    [0xa2] = OP(X86_INS_MOV, I_MOFFS), [0xa3] = OP(X86_INS_MOV, I_MOFFS),
    [0xa8] = OP(X86_INS_TEST, I_B),
    [0xa9] = OP(X86_INS_TEST, I_Z),
    [0xb0 ... 0xb7] = OP(X86_INS_MOV, I_B),
    [0xb8 ... 0xbf] = OP(X86_INS_MOV, I_Z | W_OPREG),
    [0xc0] = OP(G2B, F_GROUP | M | I_B),
    [0xc1] = OP(G2V, F_GROUP | M | I_B),
    [0xc2] = OP(X86_INS_RET, I_W | F_NO66),
    [0xc3] = OP(X86_INS_RET, F_NO66),
    [0xc6] = OP(G11B, F_GROUP | M | I_B),
    [0xc7] = OP(G11V, F_GROUP | M | I_Z),
    [0xc9] = OP(X86_INS_LEAVE, F_NO66),
    [0xd0] = OP(G2B, F_GROUP | M),
    [0xd1] = OP(G2V, F_GROUP | M),
    [0xd2] = OP(G2B, F_GROUP | M),
    [0xd3] = OP(G2V, F_GROUP | M),
    [0xe8] = OP(X86_INS_CALL, I_REL32 | F_NO66),
    [0xe9] = OP(X86_INS_JMP, I_REL32 | F_NO66),
    [0xeb] = OP(X86_INS_JMP, I_REL8 | F_NO66),
    [0xf6] = OP(G3B, F_GROUP | M),
    [0xf7] = OP(G3V, F_GROUP | M),
    [0xfe] = OP(G4, F_GROUP | M),
    [0xff] = OP(G5, F_GROUP | M),
};

/* Group members by ModRM.reg; id 0 = not taken here. Their flags add to the
 * opcode's. */
#define SHIFTS(w) { OP(X86_INS_ROL, w), OP(X86_INS_ROR, w), OP(X86_INS_RCL, w), \
                    OP(X86_INS_RCR, w), OP(X86_INS_SHL, w), OP(X86_INS_SHR, w), \
                    OP(X86_INS_SAL, w), OP(X86_INS_SAR, w) }
static const struct fast_op groups[NGROUPS][8] = {
    [G1B] = { OP(X86_INS_ADD, 0), OP(X86_INS_OR, 0), OP(X86_INS_ADC, 0), OP(X86_INS_SBB, 0),
              OP(X86_INS_AND, 0), OP(X86_INS_SUB, 0), OP(X86_INS_XOR, 0), OP(X86_INS_CMP, 0) },
    [G1V] = { OP(X86_INS_ADD, W_RM), OP(X86_INS_OR, W_RM), OP(X86_INS_ADC, W_RM),
              OP(X86_INS_SBB, W_RM), OP(X86_INS_AND, W_RM), OP(X86_INS_SUB, W_RM),
              OP(X86_INS_XOR, W_RM), OP(X86_INS_CMP, 0) },
    [G2B] = SHIFTS(0),
    [G2V] = SHIFTS(W_RM),
    /* F6/F7 /1 is an undocumented alias of TEST: Capstone only. */
    [G3B] = { OP(X86_INS_TEST, I_B), OP(0, 0), OP(X86_INS_NOT, 0), OP(X86_INS_NEG, 0),
              OP(X86_INS_MUL, 0), OP(X86_INS_IMUL, 0), OP(X86_INS_DIV, 0), OP(X86_INS_IDIV, 0) },
    [G3V] = { OP(X86_INS_TEST, I_Z), OP(0, 0), OP(X86_INS_NOT, W_RM), OP(X86_INS_NEG, W_RM),
              OP(X86_INS_MUL, 0), OP(X86_INS_IMUL, 0), OP(X86_INS_DIV, 0), OP(X86_INS_IDIV, 0) },
    [G4]  = { OP(X86_INS_INC, 0), OP(X86_INS_DEC, 0) },
    /* FF /3 and /5 are far transfers, /7 is invalid: Capstone. */
    [G5]  = { OP(X86_INS_INC, W_RM), OP(X86_INS_DEC, W_RM), OP(X86_INS_CALL, F_NO66), OP(0, 0),
              OP(X86_INS_JMP, F_NO66), OP(0, 0), OP(X86_INS_PUSH, 0) },
    [G11B] = { OP(X86_INS_MOV, 0) },
    [G11V] = { OP(X86_INS_MOV, W_RM) },
    [G8]  = { [4] = OP(X86_INS_BT, 0), OP(X86_INS_BTS, W_RM), OP(X86_INS_BTR, W_RM),
              OP(X86_INS_BTC, W_RM) },
};

static const struct fast_op map0f[256] = {
    [0x40] = OP(X86_INS_CMOVO, M | W_REG),  [0x41] = OP(X86_INS_CMOVNO, M | W_REG),
    [0x42] = OP(X86_INS_CMOVB, M | W_REG),  [0x43] = OP(X86_INS_CMOVAE, M | W_REG),
    [0x44] = OP(X86_INS_CMOVE, M | W_REG),  [0x45] = OP(X86_INS_CMOVNE, M | W_REG),
    [0x46] = OP(X86_INS_CMOVBE, M | W_REG), [0x47] = OP(X86_INS_CMOVA, M | W_REG),
    [0x48] = OP(X86_INS_CMOVS, M | W_REG),  [0x49] = OP(X86_INS_CMOVNS, M | W_REG),
    [0x4a] = OP(X86_INS_CMOVP, M | W_REG),  [0x4b] = OP(X86_INS_CMOVNP, M | W_REG),
    [0x4c] = OP(X86_INS_CMOVL, M | W_REG),  [0x4d] = OP(X86_INS_CMOVGE, M | W_REG),
    [0x4e] = OP(X86_INS_CMOVLE, M | W_REG), [0x4f] = OP(X86_INS_CMOVG, M | W_REG),
    [0x80] = OP(X86_INS_JO, I_REL32 | F_NO66),  [0x81] = OP(X86_INS_JNO, I_REL32 | F_NO66),
    [0x82] = OP(X86_INS_JB, I_REL32 | F_NO66),  [0x83] = OP(X86_INS_JAE, I_REL32 | F_NO66),
    [0x84] = OP(X86_INS_JE, I_REL32 | F_NO66),  [0x85] = OP(X86_INS_JNE, I_REL32 | F_NO66),
    [0x86] = OP(X86_INS_JBE, I_REL32 | F_NO66), [0x87] = OP(X86_INS_JA, I_REL32 | F_NO66),
    [0x88] = OP(X86_INS_JS, I_REL32 | F_NO66),  [0x89] = OP(X86_INS_JNS, I_REL32 | F_NO66),
    [0x8a] = OP(X86_INS_JP, I_REL32 | F_NO66),  [0x8b] = OP(X86_INS_JNP, I_REL32 | F_NO66),
    [0x8c] = OP(X86_INS_JL, I_REL32 | F_NO66),  [0x8d] = OP(X86_INS_JGE, I_REL32 | F_NO66),
    [0x8e] = OP(X86_INS_JLE, I_REL32 | F_NO66), [0x8f] = OP(X86_INS_JG, I_REL32 | F_NO66),
    /* SETcc: the CPU ignores ModRM.reg; Capstone is asked about reg != 0. */
    [0x90] = OP(X86_INS_SETO, M),  [0x91] = OP(X86_INS_SETNO, M),
    [0x92] = OP(X86_INS_SETB, M),  [0x93] = OP(X86_INS_SETAE, M),
    [0x94] = OP(X86_INS_SETE, M),  [0x95] = OP(X86_INS_SETNE, M),
    [0x96] = OP(X86_INS_SETBE, M), [0x97] = OP(X86_INS_SETA, M),
    [0x98] = OP(X86_INS_SETS, M),  [0x99] = OP(X86_INS_SETNS, M),
    [0x9a] = OP(X86_INS_SETP, M),  [0x9b] = OP(X86_INS_SETNP, M),
    [0x9c] = OP(X86_INS_SETL, M),  [0x9d] = OP(X86_INS_SETGE, M),
    [0x9e] = OP(X86_INS_SETLE, M), [0x9f] = OP(X86_INS_SETG, M),
    [0xa3] = OP(X86_INS_BT, M),
    [0xa4] = OP(X86_INS_SHLD, M | I_B | W_RM),
    [0xa5] = OP(X86_INS_SHLD, M | W_RM),
    [0xab] = OP(X86_INS_BTS, M | W_RM),
    [0xac] = OP(X86_INS_SHRD, M | I_B | W_RM),
    [0xad] = OP(X86_INS_SHRD, M | W_RM),
    [0xaf] = OP(X86_INS_IMUL, M | W_REG),
    [0xb0] = OP(X86_INS_CMPXCHG, M),
    [0xb1] = OP(X86_INS_CMPXCHG, M | W_RM),
    [0xb3] = OP(X86_INS_BTR, M | W_RM),
    [0xb6] = OP(X86_INS_MOVZX, M | W_REG),
    [0xb7] = OP(X86_INS_MOVZX, M | W_REG),
    [0xba] = OP(G8, F_GROUP | M | I_B),
    [0xbb] = OP(X86_INS_BTC, M | W_RM),
    [0xbc] = OP(X86_INS_BSF, M | W_REG),
    [0xbd] = OP(X86_INS_BSR, M | W_REG),
    [0xbe] = OP(X86_INS_MOVSX, M | W_REG),
    [0xbf] = OP(X86_INS_MOVSX, M | W_REG),
    [0xc0] = OP(X86_INS_XADD, M),
    [0xc1] = OP(X86_INS_XADD, M | W_BOTH),
    [0xc8 ... 0xcf] = OP(X86_INS_BSWAP, W_OPREG),
};

static int imm_bytes(unsigned f, unsigned opsize)
{
    switch (f & I_MASK) {
    case I_B: case I_REL8: return 1;
    case I_W:              return 2;
    case I_Z:              return opsize == 2 ? 2 : 4;
    case I_MOFFS: case I_REL32: return 4;
    default:               return 0;
    }
}

bool fast_match(const uint8_t *b, size_t n, const struct prefixes *p, struct fast_result *r)
{
    if (p->lock || p->rep || p->addrsize != 4 || p->n + 1u >= n)
        return false;
    const uint8_t *o = b + p->n;
    struct fast_op op;
    int at = p->n + 1;                              /* just past the opcode */
    if (o[0] == 0x0f) {
        op = map0f[o[1]];
        at++;
    } else {
        op = map1[o[0]];
    }
    if (!op.id)
        return false;
    unsigned f = op.f;
    uint8_t modrm = 0;
    if (f & F_MODRM) {
        if ((size_t)at >= n)
            return false;
        modrm = b[at];
        if (f & F_GROUP) {
            struct fast_op g = groups[op.id][(modrm >> 3) & 7];
            if (!g.id)
                return false;
            op.id = g.id;
            f |= g.f;
        } else if (o[0] == 0x0f && o[1] >= 0x90 && o[1] <= 0x9f && (modrm & 0x38)) {
            return false;
        }
        if ((f & F_MEMONLY) && modrm >= 0xc0)
            return false;
    }
    if (((f & F_NO66) && p->opsize == 2) || ((f & F_NOPFX) && p->n))
        return false;

    int end = at;
    if (f & F_MODRM) {
        end = layout_modrm_end(b, n, at, false);
        if (end < 0)
            return false;
    }
    end += imm_bytes(f, p->opsize);
    if (end > X86_MAX_INSN_LEN || (size_t)end > n)
        return false;

    unsigned id = op.id;
    if (o[0] == 0x98)
        id = p->opsize == 2 ? X86_INS_CBW : X86_INS_CWDE;
    else if (o[0] == 0x99)
        id = p->opsize == 2 ? X86_INS_CWD : X86_INS_CDQ;

    bool wsp = false;
    switch (f & W_MASK) {
    case W_REG:   wsp = ((modrm >> 3) & 7) == 4; break;
    case W_RM:    wsp = modrm >= 0xc0 && (modrm & 7) == 4; break;
    case W_BOTH:  wsp = ((modrm >> 3) & 7) == 4 || (modrm >= 0xc0 && (modrm & 7) == 4); break;
    case W_OPREG: wsp = (o[o[0] == 0x0f] & 7) == 4; break;
    default:      break;
    }
    r->len = end;
    r->id = id;
    r->modrm_off = (f & F_MODRM) ? at : -1;
    r->writes_sp = wsp;
    return true;
}
