/* What the id alone does not tell: refinement by opcode, the operand-
 * dependent parts of the classification, and the validity checks that
 * Capstone 4.0.2 misses.
 *
 * A Capstone id can cover encodings that bt/ translates differently: MOV is
 * also the moffs form, MOV Sreg and MOV CRn; PUSH/POP also push and pop
 * segment registers; JMP/CALL FF /4 and /2 are indirect; MOVSD and CMPSD
 * are both string and SSE2 instructions. Rows marked R_REFINE are looked up
 * here by (id, opcode map, opcode range, ModRM.reg). */
#include "decoder/decoder_impl.h"

#define ANY (-1)
#define SEG_ROW   INSN_ROW(K_SEG, CLS_SENSITIVE, INSN_F_ENDS_BLK, 0, 0)
#define HINT_ROW  INSN_ROW(K_COPY_MEM, CLS_MEMORY, INSN_F_HINT_NOP, 0, 0)
#define SIMD_ROW  INSN_ROW(K_COPY_MEM, CLS_MEMORY, INSN_F_SSE, 0, 0)
#define SHORT_ROW INSN_ROW(K_INCDEC_SHORT, CLS_NO64, 0, 0, FL_ARITH & ~FL_CF)

struct refinement {
    uint16_t id;
    uint8_t  map, lo, hi;       /* opcode map and last opcode byte range */
    int8_t   reg;               /* ModRM.reg, or ANY */
    struct insn_row row;
};

static const struct refinement refinements[] = {
    { X86_INS_MOV, MAP_1B, 0xa0, 0xa3, ANY, INSN_ROW(K_MOFFS, CLS_NO64, 0, 0, 0) },
    { X86_INS_MOV, MAP_1B, 0x8c, 0x8c, ANY, SEG_ROW },
    { X86_INS_MOV, MAP_1B, 0x8e, 0x8e, ANY, SEG_ROW },
    /* MOV CRn/DRn: CPL 0 only, and "the OF, SF, ZF, AF, PF and CF flags
     * are undefined" (SDM MOV-Move to/from Control/Debug Registers). */
    { X86_INS_MOV, MAP_0F, 0x20, 0x23, ANY,
      INSN_ROW(K_SYS, CLS_SENSITIVE, INSN_F_ENDS_BLK | INSN_F_PRIV, 0, FL_ARITH) },
    { X86_INS_INC, MAP_1B, 0x40, 0x47, ANY, SHORT_ROW },
    { X86_INS_DEC, MAP_1B, 0x48, 0x4f, ANY, SHORT_ROW },
    { X86_INS_PUSH, MAP_1B, 0x06, 0x06, ANY, SEG_ROW },   /* ES */
    { X86_INS_PUSH, MAP_1B, 0x0e, 0x0e, ANY, SEG_ROW },   /* CS */
    { X86_INS_PUSH, MAP_1B, 0x16, 0x16, ANY, SEG_ROW },   /* SS */
    { X86_INS_PUSH, MAP_1B, 0x1e, 0x1e, ANY, SEG_ROW },   /* DS */
    { X86_INS_PUSH, MAP_0F, 0xa0, 0xa0, ANY, SEG_ROW },   /* FS */
    { X86_INS_PUSH, MAP_0F, 0xa8, 0xa8, ANY, SEG_ROW },   /* GS */
    { X86_INS_POP, MAP_1B, 0x07, 0x07, ANY, SEG_ROW },
    { X86_INS_POP, MAP_1B, 0x17, 0x17, ANY, SEG_ROW },
    { X86_INS_POP, MAP_1B, 0x1f, 0x1f, ANY, SEG_ROW },
    { X86_INS_POP, MAP_0F, 0xa1, 0xa1, ANY, SEG_ROW },
    { X86_INS_POP, MAP_0F, 0xa9, 0xa9, ANY, SEG_ROW },
    { X86_INS_JMP, MAP_1B, 0xff, 0xff, 4, INSN_ROW(K_JMP_IND, CLS_BRANCH, INSN_F_ENDS_BLK, 0, 0) },
    { X86_INS_CALL, MAP_1B, 0xff, 0xff, 2, INSN_ROW(K_CALL_IND, CLS_BRANCH, INSN_F_ENDS_BLK, 0, 0) },
    { X86_INS_MOVSD, MAP_0F, 0x10, 0x11, ANY, SIMD_ROW }, /* F2 0F 10/11: MOVSD xmm */
    { X86_INS_CMPSD, MAP_0F, 0xc2, 0xc2, ANY, SIMD_ROW }, /* F2 0F C2 ib: CMPSD xmm */
    { X86_INS_NOP, MAP_0F, 0x0d, 0x0d, ANY, HINT_ROW },
    { X86_INS_NOP, MAP_0F, 0x18, 0x1f, ANY, HINT_ROW },
};

const struct insn_row *refine_row(const struct insn_row *row, const struct insn *in,
                                  enum opmap map)
{
    for (size_t i = 0; i < sizeof refinements / sizeof refinements[0]; i++) {
        const struct refinement *r = &refinements[i];
        if (r->id == in->id && r->map == map && in->opcode >= r->lo && in->opcode <= r->hi &&
            (r->reg == ANY || (in->modrm_off >= 0 && in->reg == r->reg)))
            return &r->row;
    }
    return row;
}

/* One-byte opcodes that are invalid or mean something else in 64-bit mode
 * (SDM vol. 2 table A-2, "i64"/"o64" and the REX row): PUSH/POP ES CS SS DS,
 * DAA DAS AAA AAS, INC/DEC r (REX), PUSHA POPA BOUND ARPL (MOVSXD), 0x82,
 * far CALL ptr, moffs (8-byte offset), LES LDS (VEX), INTO, AAM AAD SALC,
 * far JMP ptr. */
static bool no64_opcode(uint8_t op)
{
    static const uint32_t bits[8] = {
        [0] = 1u << 0x06 | 1u << 0x07 | 1u << 0x0e | 1u << 0x16 | 1u << 0x17 | 1u << 0x1e |
              1u << 0x1f,
        [1] = 1u << (0x27 - 0x20) | 1u << (0x2f - 0x20) | 1u << (0x37 - 0x20) |
              1u << (0x3f - 0x20),
        [2] = 0xffffu,                                              /* 40-4F */
        [3] = 1u << (0x60 - 0x60) | 1u << (0x61 - 0x60) | 1u << (0x62 - 0x60) |
              1u << (0x63 - 0x60),
        [4] = 1u << (0x82 - 0x80) | 1u << (0x9a - 0x80),
        [5] = 0xfu,                                                 /* A0-A3 */
        [6] = 1u << (0xc4 - 0xc0) | 1u << (0xc5 - 0xc0) | 1u << (0xce - 0xc0) |
              1u << (0xd4 - 0xc0) | 1u << (0xd5 - 0xc0) | 1u << (0xd6 - 0xc0),
        [7] = 1u << (0xea - 0xe0),
    };
    return bits[op >> 5] >> (op & 31) & 1;
}

/* Which mandatory prefixes each MMX/SSE/SSE2/SSE3 opcode of the 0F map
 * accepts (SDM vol. 2 table A-3, and each instruction's "Opcode" column).
 * Capstone ignores a prefix an opcode has no form for ("F3 0F 74" decodes
 * as pcmpeqb mm), but that encoding is reserved and the CPU raises #UD.
 * The effective prefix is the last F2/F3 if any, else 66 (SDM vol. 2
 * §2.1.2). 0 = not an SSE opcode, no restriction. */
enum { NP = 1, P66 = 2, PF3 = 4, PF2 = 8, ALL = NP | P66 | PF3 | PF2 };

static const uint8_t sse_prefixes[256] = {
    [0x10 ... 0x12] = ALL,              /* movups movupd movss movsd, movlps.. movsldup movddup */
    [0x13 ... 0x15] = NP | P66,
    [0x16] = NP | P66 | PF3,            /* movhps movhpd movshdup */
    [0x17] = NP | P66,
    [0x28 ... 0x29] = NP | P66,
    [0x2a] = ALL,                       /* cvtpi2ps cvtpi2pd cvtsi2ss cvtsi2sd */
    [0x2b] = NP | P66,                  /* F2/F3: AMD SSE4a movnts[sd] */
    [0x2c ... 0x2d] = ALL,
    [0x2e ... 0x2f] = NP | P66,
    [0x50] = NP | P66,
    [0x51] = ALL,
    [0x52 ... 0x53] = NP | PF3,         /* rsqrt rcp: ps and ss only */
    [0x54 ... 0x57] = NP | P66,
    [0x58 ... 0x5a] = ALL,
    [0x5b] = NP | P66 | PF3,            /* cvtdq2ps cvtps2dq cvttps2dq */
    [0x5c ... 0x5f] = ALL,
    [0x60 ... 0x6b] = NP | P66,
    [0x6c ... 0x6d] = P66,              /* punpcklqdq punpckhqdq */
    [0x6e] = NP | P66,
    [0x6f] = NP | P66 | PF3,            /* movq movdqa movdqu */
    [0x70] = ALL,                       /* pshufw pshufd pshufhw pshuflw */
    [0x71 ... 0x76] = NP | P66,
    [0x77] = NP,                        /* emms */
    [0x7c ... 0x7d] = P66 | PF2,        /* haddpd haddps, hsubpd hsubps */
    [0x7e ... 0x7f] = NP | P66 | PF3,   /* movd movd movq, movq movdqa movdqu */
    [0xc2] = ALL,
    [0xc3] = NP,                        /* movnti */
    [0xc4 ... 0xc6] = NP | P66,
    [0xd0] = P66 | PF2,                 /* addsubpd addsubps */
    [0xd1 ... 0xd5] = NP | P66,
    [0xd6] = P66 | PF3 | PF2,           /* movq movq2dq movdq2q */
    [0xd7 ... 0xe5] = NP | P66,
    [0xe6] = P66 | PF3 | PF2,           /* cvttpd2dq cvtdq2pd cvtpd2dq */
    [0xe7 ... 0xef] = NP | P66,
    [0xf0] = PF2,                       /* lddqu */
    [0xf1 ... 0xfe] = NP | P66,
};

static unsigned mandatory_prefix(const struct insn *in)
{
    if (in->rep)
        return in->rep == 0xf3 ? PF3 : PF2;
    return in->opsize == 2 ? P66 : NP;
}

/* Checks the decoder adds to Capstone's. in->flags carries INSN_F_LOCK
 * when a LOCK prefix is present. */
bool refine_valid(const struct insn *in, enum opmap map, uint32_t row_flags)
{
    if (in->kind == K_INVALID)
        return false;
    if (in->flags & INSN_F_LOCK) {
        /* LOCK needs a lockable instruction with a memory destination, else
         * #UD (SDM LOCK). Capstone accepts "lock add eax,[eax]": the ALU
         * forms 02/03/0A/0B/.../32/33 have a register destination. */
        if (!(row_flags & R_LOCKABLE) || in->modrm_off < 0 || in->mod == 3)
            return false;
        if (map == MAP_1B && in->opcode < 0x40 && (in->opcode & 2))
            return false;
    }
    /* MOV Sreg: Sreg 6 and 7 do not exist, and loading CS with MOV is #UD
     * (SDM MOV-Move: "If the DS, ES, FS, GS or SS register is being
     * loaded"; "#UD if attempt is made to load the CS register"). Capstone
     * accepts 8E /1. */
    if (map == MAP_1B && (in->opcode == 0x8c || in->opcode == 0x8e) &&
        (in->reg > SEG_GS || (in->opcode == 0x8e && in->reg == SEG_CS)))
        return false;
    if (map == MAP_0F && sse_prefixes[in->opcode] && !(sse_prefixes[in->opcode] & mandatory_prefix(in)))
        return false;
    /* MOVLPD/MOVHPD (66 0F 12/16) take only a memory operand; MOVHLPS and
     * MOVLHPS, the register forms, have no 66 form (SDM). Capstone accepts
     * 66 0F 12/16 with mod=3 as MOVHLPS/MOVLHPS. */
    if (map == MAP_0F && (in->opcode == 0x12 || in->opcode == 0x16) &&
        mandatory_prefix(in) == P66 && in->mod == 3)
        return false;
    return true;
}

/* Operand-dependent parts of the classification, after the row is known. */
void refine_insn(struct insn *in, enum opmap map, uint32_t row_flags)
{
    if (in->kind == K_COPY_MEM && in->modrm_off < 0)
        in->kind = K_COPY;
    if (in->kind == K_XLAT || in->kind == K_MOFFS || in->kind == K_MASKMOV)
        in->flags |= INSN_F_MEM;                        /* implicit or moffs operand */
    if (in->cls == CLS_MEMORY && !(in->flags & INSN_F_MEM))
        in->cls = CLS_IDENT;
    if (map == MAP_1B && no64_opcode(in->opcode))
        in->cls = CLS_NO64;
    if (map == MAP_1B && in->opcode == 0x82)
        in->flags |= INSN_F_OP82;

    if (row_flags & R_COUNT) {
        /* "If the masked count is 0, the flags are not affected" (SDM
         * SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR, SHLD, SHRD). D0/D1 shift by 1;
         * C0/C1 and 0F A4/AC by an immediate; D2/D3 and 0F A5/AD by CL. */
        bool by_imm = (map == MAP_1B && (in->opcode == 0xc0 || in->opcode == 0xc1)) ||
                      (map == MAP_0F && (in->opcode == 0xa4 || in->opcode == 0xac));
        bool by_cl = (map == MAP_1B && (in->opcode == 0xd2 || in->opcode == 0xd3)) ||
                     (map == MAP_0F && (in->opcode == 0xa5 || in->opcode == 0xad));
        if (by_imm && (in->imm & 0x1f) == 0)
            in->flags_written = 0;
        else if (by_cl)
            in->flags_read |= in->flags_written;
    }
    /* REPE/REPNE CMPS/SCAS with ECX = 0 compare nothing: flags pass through. */
    if ((row_flags & R_REPCMP) && in->rep)
        in->flags_read |= in->flags_written;
}
