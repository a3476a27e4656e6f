/* flags — the SDM's "Flags Affected" for every instruction the generator
 * emits, keyed by opcode bytes. References are to the Intel SDM vol. 2
 * (Instruction Set Reference), per instruction. Anything not listed here
 * touches no arithmetic flag. */
#include <string.h>
#include "dt.h"
#include "flags.h"

#define ALL6 F_ARITH
#define LOGIC_DEF (F_CF | F_OF | F_SF | F_ZF | F_PF)   /* AND/OR/XOR/TEST: AF undefined */

void pfx_scan(const uint8_t *b, int len, struct pfx *p) {
    memset(p, 0, sizeof *p);
    for (; p->n < len; p->n++) {
        switch (b[p->n]) {
        case 0x66: p->p66 = true; continue;
        case 0x67: p->p67 = true; continue;
        case 0xf0: p->lock = true; continue;
        case 0xf2: p->repne = true; p->rep = false; continue;
        case 0xf3: p->rep = true; p->repne = false; continue;
        case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
            p->seg = b[p->n]; continue;
        }
        break;
    }
}

uint32_t cc_reads(int cc) {
    static const uint32_t t[8] = {
        F_OF, F_CF, F_ZF, F_CF | F_ZF, F_SF, F_PF, F_SF | F_OF, F_ZF | F_SF | F_OF,
    };
    return t[(cc >> 1) & 7];
}

/* Effective address of a 32- or 16-bit ModRM memory operand (segment bases
 * are 0: flat). m points at the ModRM byte. */
uint32_t insn_mem_ea(const uint8_t *m, bool a16, const uint32_t *g) {
    int mod = m[0] >> 6, rm = m[0] & 7;
    if (a16) {
        static const int8_t base[8] = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX };
        static const int8_t idx[8] = { R_ESI, R_EDI, R_ESI, R_EDI, -1, -1, -1, -1 };
        uint32_t ea = 0;
        const uint8_t *d = m + 1;
        if (mod == 0 && rm == 6) ea = (uint16_t)(d[0] | d[1] << 8);
        else {
            ea = g[base[rm]] + (idx[rm] >= 0 ? g[idx[rm]] : 0);
            if (mod == 1) ea += (int8_t)d[0];
            if (mod == 2) ea += (int16_t)(d[0] | d[1] << 8);
        }
        return ea & 0xffff;
    }
    const uint8_t *d = m + 1;
    uint32_t ea = 0;
    int base = rm;
    if (rm == 4) {
        uint8_t sib = *d++;
        int ss = sib >> 6, ix = (sib >> 3) & 7;
        base = sib & 7;
        if (ix != 4) ea += g[ix] << ss;
        if (base == 5 && mod == 0) { int32_t v; memcpy(&v, d, 4); return ea + v; }
    } else if (rm == 5 && mod == 0) {
        int32_t v; memcpy(&v, d, 4); return v;
    }
    ea += g[base];
    if (mod == 1) ea += (int8_t)d[0];
    if (mod == 2) { int32_t v; memcpy(&v, d, 4); ea += v; }
    return ea;
}

/* Shifts and rotates, group 2 (SDM: SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR). */
static void shift_effect(int kind, int width, int count, bool known, struct effect *e) {
    if (kind == 2 || kind == 3) e->reads |= F_CF;              /* RCL/RCR rotate through CF */
    if (!known) {                                              /* count from CL: worst case */
        e->undef |= F_OF;
        if (kind >= 4) e->undef |= F_AF | (width < 32 && kind != 7 ? F_CF : 0);
        return;
    }
    int c = count & 0x1f;
    if (c == 0) return;                                        /* "flags are not affected" */
    if (kind < 4) {                                            /* rotates: CF, OF only */
        e->defined |= F_CF;
        if (c == 1) e->defined |= F_OF; else e->undef |= F_OF;
        return;
    }
    /* SHL/SHR/SAR: SF ZF PF defined; AF undefined; OF only for 1-bit shifts;
     * CF undefined for SHL/SHR when the count >= the operand width. */
    e->defined |= F_SF | F_ZF | F_PF;
    e->undef |= F_AF;
    if (c == 1) e->defined |= F_OF; else e->undef |= F_OF;
    if (kind != 7 && c >= width) e->undef |= F_CF; else e->defined |= F_CF;
}

/* x87 escape D8-DF (SDM "FPU Flags Affected" of each instruction). */
enum { X_ARITH, X_CMP, X_UNDEF, X_NONE_C1, X_APPROX, X_STSW, X_INIT };
static int x87_kind(uint8_t op, uint8_t m) {
    int reg = (m >> 3) & 7;
    if ((m >> 6) != 3) {                                      /* memory forms */
        switch (op) {
        case 0xd8: case 0xda: case 0xdc: case 0xde:
            return reg == 2 || reg == 3 ? X_CMP : X_ARITH;
        case 0xd9: return reg == 4 ? X_INIT : reg >= 5 || reg == 6 ? X_UNDEF : X_ARITH; /* FLDENV loads */
        case 0xdd: return reg == 4 || reg == 6 ? X_INIT : reg == 7 ? X_STSW : X_ARITH;
        default:   return X_ARITH;                            /* DB, DF: loads/stores */
        }
    }
    switch (op) {
    case 0xd8: case 0xdc: return reg == 2 || reg == 3 ? X_CMP : X_ARITH;
    case 0xde: return m == 0xd9 ? X_CMP : X_ARITH;
    case 0xd9:
        if (m < 0xd0) return X_ARITH;                          /* FLD st(i), FXCH */
        if (m == 0xd0) return X_UNDEF;                         /* FNOP */
        if (m == 0xe4 || m == 0xe5 || m == 0xf5 || m == 0xf8) return X_CMP; /* FTST FXAM FPREM1 FPREM */
        if (m == 0xf0 || m == 0xf1 || m == 0xf2 || m == 0xf3 || m == 0xf9 ||
            m == 0xfb || m == 0xfe || m == 0xff) return X_APPROX;
        return X_ARITH;
    case 0xda: return m == 0xe9 ? X_CMP : X_ARITH;             /* FUCOMPP; FCMOVcc */
    case 0xdb:
        if (m == 0xe2) return X_UNDEF;                         /* FNCLEX */
        if (m == 0xe3) return X_INIT;                          /* FNINIT */
        return m >= 0xe8 ? X_NONE_C1 : X_ARITH;                /* FUCOMI/FCOMI; FCMOVNcc */
    case 0xdd: return m < 0xc8 ? X_UNDEF : m >= 0xe0 ? X_CMP : X_ARITH; /* FFREE; FUCOM(P) */
    case 0xdf: return m == 0xe0 ? X_STSW : m >= 0xe8 ? X_NONE_C1 : X_ARITH;
    }
    return X_ARITH;
}

static void x87_effect(uint8_t op, uint8_t m, struct effect *e) {
    e->x87 = true;
    if ((m >> 6) == 3) {
        if (op == 0xda && m < 0xe0) e->reads |= cc_reads(m < 0xc8 ? 2 : m < 0xd0 ? 4 : m < 0xd8 ? 6 : 10);
        if (op == 0xdb && m < 0xe0) e->reads |= cc_reads(m < 0xc8 ? 2 : m < 0xd0 ? 4 : m < 0xd8 ? 6 : 10);
        if ((op == 0xdb || op == 0xdf) && m >= 0xe8 && m < 0xf8) {    /* FCOMI family */
            /* ZF PF CF defined; OF SF AF are cleared per the SDM, but
             * Unicorn keeps them (unicorn-quirks.md U4): tracked as unknown. */
            e->defined |= F_ZF | F_PF | F_CF;
            e->undef |= F_OF | F_SF | F_AF;
        }
    }
    switch (x87_kind(op, m)) {
    case X_ARITH:   e->fsw_undef = FSW_CC | FSW_EXC; break;           /* C1: round-up, U7 */
    case X_CMP:     e->fsw_defined = FSW_C0 | FSW_C2 | FSW_C3; e->fsw_undef = FSW_C1 | FSW_EXC; break; /* C1: U7 */
    case X_INIT:    e->fsw_defined = FSW_CC | FSW_EXC; break;
    case X_UNDEF:   e->fsw_undef = FSW_CC; if (op == 0xdb && m == 0xe2) e->fsw_defined = FSW_EXC; break; /* FNCLEX */
    case X_NONE_C1: e->fsw_undef = FSW_CC | FSW_EXC; break;
    case X_APPROX:  e->fsw_undef = FSW_CC | FSW_EXC; e->x87_approx = true; break;
    case X_STSW:    e->fsw_reads = FSW_CC | FSW_EXC; e->fsw_undef = FSW_CC; break;
    }
    if (op == 0xd9 && m == 0xe5) {                             /* FXAM: all four defined, raises nothing */
        e->fsw_defined = FSW_CC;
        e->fsw_undef = 0;
    }
}

void insn_effect(const uint8_t *b, int len, const struct dyn *dyn, struct effect *e) {
    memset(e, 0, sizeof *e);
    e->undef_reg = -1;
    struct pfx p;
    pfx_scan(b, len, &p);
    const uint8_t *o = b + p.n;
    uint8_t op = o[0];
    int width = (op & 1) ? (p.p66 ? 16 : 32) : 8;
    int reg = (o[1] >> 3) & 7;
    const uint32_t *g = dyn ? dyn->gpr : NULL;

    if (op == 0x0f) {
        uint8_t op2 = o[1];
        reg = (o[2] >> 3) & 7;
        int w = p.p66 ? 16 : 32;
        if ((op2 & 0xf0) == 0x40 || (op2 & 0xf0) == 0x80 || (op2 & 0xf0) == 0x90) {
            e->reads = cc_reads(op2 & 15);                     /* CMOVcc, Jcc, SETcc */
        } else if (op2 == 0xa3 || op2 == 0xab || op2 == 0xb3 || op2 == 0xbb ||
                   (op2 == 0xba && reg >= 4)) {
            e->defined = F_CF;                                 /* BT*: OF SF AF PF undefined */
            e->undef = F_OF | F_SF | F_AF | F_PF;
        } else if (op2 == 0xa4 || op2 == 0xa5 || op2 == 0xac || op2 == 0xad) {
            /* SHLD/SHRD: count masked to 5 bits; 0 = no change; CF SF ZF PF
             * defined; OF for 1-bit; AF undefined; count > width: result and
             * all flags undefined. */
            int c = -1;
            if (op2 == 0xa4 || op2 == 0xac) c = b[len - 1] & 0x1f;
            else if (g) c = g[R_ECX] & 0x1f;
            if (c < 0) {
                e->undef = ALL6;
                if (w == 16) { e->undef_reg = -2; }            /* possible: generator avoids */
            } else if (c > 0) {
                if (c > w) {
                    e->undef = ALL6;
                    if ((o[2] >> 6) == 3) { e->undef_reg = o[2] & 7; e->undef_reg_mask = 0xffff; }
                    else e->undef_reg = -3;                     /* memory result undefined */
                } else {
                    e->defined = F_CF | F_SF | F_ZF | F_PF | (c == 1 ? F_OF : 0);
                    e->undef = F_AF | (c == 1 ? 0 : F_OF);
                }
            }
        } else if (op2 == 0xaf) {
            e->defined = F_CF | F_OF;                          /* IMUL: SF ZF AF PF undefined */
            e->undef = F_SF | F_ZF | F_AF | F_PF;
        } else if (op2 == 0xb0 || op2 == 0xb1 || op2 == 0xc0 || op2 == 0xc1) {
            e->defined = ALL6;                                 /* CMPXCHG, XADD */
        } else if (op2 == 0xc7 && reg == 1) {
            e->defined = F_ZF;                                 /* CMPXCHG8B */
        } else if (op2 == 0xbc || op2 == 0xbd) {
            /* BSF/BSR: ZF defined; CF OF SF AF PF undefined; dest undefined
             * when the source is 0. */
            e->defined = F_ZF;
            e->undef = F_CF | F_OF | F_SF | F_AF | F_PF;
            uint32_t src = 1;
            int mod = o[2] >> 6;
            if (!g) src = 0;
            else if (mod == 3) src = g[o[2] & 7];
            else if (!dyn->read(dyn->ctx, insn_mem_ea(o + 2, p.p67, g), &src, w / 8)) src = 1;
            if (w == 16) src &= 0xffff;
            if (!src) { e->undef_reg = reg; e->undef_reg_mask = w == 16 ? 0xffff : ~0u; }
        } else if (op2 == 0x2e || op2 == 0x2f) {
            e->defined = ALL6;                                 /* (U)COMISS/SD: OF SF AF cleared */
        }
        return;
    }
    if (op >= 0xd8 && op <= 0xdf) { x87_effect(op, o[1], e); return; }

    if (op < 0x40 && (op & 7) < 6) {                           /* ALU families */
        int k = op >> 3;
        if (k == 2 || k == 3) e->reads = F_CF;
        if (k == 1 || k == 4 || k == 6) { e->defined = LOGIC_DEF; e->undef = F_AF; }
        else e->defined = ALL6;
        return;
    }
    if (op >= 0x80 && op <= 0x83) {
        if (reg == 2 || reg == 3) e->reads = F_CF;
        if (reg == 1 || reg == 4 || reg == 6) { e->defined = LOGIC_DEF; e->undef = F_AF; }
        else e->defined = ALL6;
        return;
    }
    switch (op) {
    case 0x27: case 0x2f:                                      /* DAA/DAS: OF undefined */
        e->reads = F_CF | F_AF; e->defined = F_CF | F_AF | F_SF | F_ZF | F_PF; e->undef = F_OF; return;
    case 0x37: case 0x3f:                                      /* AAA/AAS */
        e->reads = F_AF; e->defined = F_AF | F_CF; e->undef = F_OF | F_SF | F_ZF | F_PF; return;
    case 0x69: case 0x6b:
        e->defined = F_CF | F_OF; e->undef = F_SF | F_ZF | F_AF | F_PF; return;
    case 0x84: case 0x85: case 0xa8: case 0xa9:
        e->defined = LOGIC_DEF; e->undef = F_AF; return;
    case 0x9c: e->reads = ALL6 | F_DF; return;                 /* PUSHF */
    case 0x9d: e->defined = ALL6 | F_DF; return;               /* POPF */
    case 0x9e: e->defined = F_SF | F_ZF | F_AF | F_PF | F_CF; return;   /* SAHF */
    case 0x9f: e->reads = F_SF | F_ZF | F_AF | F_PF | F_CF; return;     /* LAHF */
    case 0xa6: case 0xa7: case 0xae: case 0xaf:               /* CMPS, SCAS */
        if (p.rep || p.repne) {
            uint32_t cnt = 1;
            if (!g) cnt = 0;
            else cnt = p.p67 ? (g[R_ECX] & 0xffff) : g[R_ECX];
            if (cnt) e->defined = ALL6;                        /* ECX=0: nothing runs */
        } else {
            e->defined = ALL6;
        }
        return;
    case 0xc0: case 0xc1: shift_effect(reg, width, b[len - 1], true, e); return;
    case 0xd0: case 0xd1: shift_effect(reg, width, 1, true, e); return;
    case 0xd2: case 0xd3:
        shift_effect(reg, width, g ? (int)(g[R_ECX] & 0xff) : 0, g != NULL, e); return;
    case 0xce: e->reads = F_OF; return;                        /* INTO */
    case 0xd4: case 0xd5:                                      /* AAM/AAD */
        e->defined = F_SF | F_ZF | F_PF; e->undef = F_OF | F_AF | F_CF; return;
    case 0xe0: case 0xe1: e->reads = F_ZF; return;             /* LOOPNE/LOOPE */
    case 0xf5: e->reads = F_CF; e->defined = F_CF; return;     /* CMC */
    case 0xf8: case 0xf9: e->defined = F_CF; return;           /* CLC/STC */
    case 0xfc: case 0xfd: e->defined = F_DF; return;           /* CLD/STD */
    case 0xf6: case 0xf7:
        if (reg <= 1) { e->defined = LOGIC_DEF; e->undef = F_AF; }            /* TEST */
        else if (reg == 3) {                                                   /* NEG */
            e->defined = ALL6;
            /* LOCK NEG m: Unicorn computes SF ZF PF from the operand
             * (unicorn-quirks.md U5): tracked as unknown. */
            if (p.lock && (o[1] >> 6) != 3) { e->defined = F_CF | F_OF | F_AF; e->undef = F_SF | F_ZF | F_PF; }
        }
        else if (reg == 4 || reg == 5) { e->defined = F_CF | F_OF; e->undef = F_SF | F_ZF | F_AF | F_PF; }
        else if (reg >= 6) e->undef = ALL6;                                    /* DIV/IDIV */
        return;
    case 0xfe: case 0xff:
        if (reg <= 1) e->defined = F_OF | F_SF | F_ZF | F_AF | F_PF;          /* INC/DEC keep CF */
        return;
    }
    if (op >= 0x40 && op <= 0x4f) { e->defined = F_OF | F_SF | F_ZF | F_AF | F_PF; return; }
    if (op >= 0x70 && op <= 0x7f) { e->reads = cc_reads(op & 15); return; }
}
