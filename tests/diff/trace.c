/* trace — undefined-value tracking on the reference trace (see trace.h). */
#include <stdio.h>
#include <string.h>
#include <capstone/capstone.h>
#include "trace.h"

static csh cs_handle;

static csh cs(void) {
    if (!cs_handle) {
        cs_open(CS_ARCH_X86, CS_MODE_32, &cs_handle);
        cs_option(cs_handle, CS_OPT_DETAIL, CS_OPT_ON);
    }
    return cs_handle;
}

/* Capstone register → (R_*, bit mask within the 32-bit register). */
static int reg_of(unsigned r, uint32_t *mask) {
    static const unsigned r32[8] = { X86_REG_EAX, X86_REG_ECX, X86_REG_EDX, X86_REG_EBX,
                                     X86_REG_ESP, X86_REG_EBP, X86_REG_ESI, X86_REG_EDI };
    static const unsigned r16[8] = { X86_REG_AX, X86_REG_CX, X86_REG_DX, X86_REG_BX,
                                     X86_REG_SP, X86_REG_BP, X86_REG_SI, X86_REG_DI };
    static const unsigned r8l[4] = { X86_REG_AL, X86_REG_CL, X86_REG_DL, X86_REG_BL };
    static const unsigned r8h[4] = { X86_REG_AH, X86_REG_CH, X86_REG_DH, X86_REG_BH };
    for (int i = 0; i < 8; i++) {
        if (r == r32[i]) { *mask = ~0u; return i; }
        if (r == r16[i]) { *mask = 0xffff; return i; }
        if (i < 4 && r == r8l[i]) { *mask = 0xff; return i; }
        if (i < 4 && r == r8h[i]) { *mask = 0xff00; return i; }
    }
    return -1;
}

void trace_begin(struct trace *t, struct dt_analysis *an) {
    memset(an, 0, sizeof *an);
    t->an = an;
    t->has_pending = false;
}

static void commit(struct trace *t) {
    if (!t->has_pending) return;
    struct effect *e = &t->pending;
    struct dt_analysis *an = t->an;
    an->eflags_unknown = (an->eflags_unknown & ~e->defined) | e->undef;
    an->fsw_unknown = (an->fsw_unknown & ~e->fsw_defined) | e->fsw_undef;
    if (e->x87_approx) an->x87_approx = true;
    if (e->undef_reg >= 0) an->reg_unknown[e->undef_reg] |= e->undef_reg_mask;
    else if (e->undef_reg < -1 && !an->tainted) {
        an->tainted = true;
        snprintf(an->why, sizeof an->why, "undefined result in memory at %08x", t->pending_eip);
    }
    t->has_pending = false;
}

static void taint(struct trace *t, uint32_t eip, const char *what) {
    if (t->an->tainted) return;
    t->an->tainted = true;
    snprintf(t->an->why, sizeof t->an->why, "%s at %08x", what, eip);
}

/* Registers read and written by the instruction, against the unknown set. */
static void regs_check(struct trace *t, uint32_t eip, const uint8_t *b, int len, const struct dyn *d) {
    cs_insn *insn;
    if (cs_disasm(cs(), b, len, eip, 1, &insn) != 1) { taint(t, eip, "undecodable"); return; }
    cs_regs rd, wr;
    uint8_t nrd, nwr;
    if (cs_regs_access(cs(), insn, rd, &nrd, wr, &nwr) != CS_ERR_OK) nrd = nwr = 0;
    /* CMOVcc with a true condition only writes its destination (Capstone
     * counts the destination as read). */
    struct pfx p;
    pfx_scan(b, len, &p);
    bool cmov_taken = b[p.n] == 0x0f && (b[p.n + 1] & 0xf0) == 0x40;
    int cmov_dst = cmov_taken ? (b[p.n + 2] >> 3) & 7 : -1;
    if (cmov_taken) {
        /* Evaluate the condition from EFLAGS (SDM Jcc table). */
        uint32_t f = d->eflags;
        int cc = b[p.n + 1] & 15;
        bool c = false, cf = f & F_CF, zf = f & F_ZF, sf = f & F_SF, of = f & F_OF, pf = f & F_PF;
        switch (cc >> 1) {
        case 0: c = of; break; case 1: c = cf; break; case 2: c = zf; break; case 3: c = cf || zf; break;
        case 4: c = sf; break; case 5: c = pf; break; case 6: c = sf != of; break; case 7: c = zf || sf != of; break;
        }
        if (cc & 1) c = !c;
        if (!c) cmov_dst = -1;
    }
    for (int i = 0; i < nrd; i++) {
        uint32_t m;
        int r = reg_of(rd[i], &m);
        if (r >= 0 && r == cmov_dst) continue;
        if (r >= 0 && (t->an->reg_unknown[r] & m)) { taint(t, eip, "reads an undefined register"); break; }
    }
    for (int i = 0; i < nwr; i++) {
        uint32_t m;
        int r = reg_of(wr[i], &m);
        if (r >= 0 && (cmov_dst < 0 || r == cmov_dst)) t->an->reg_unknown[r] &= ~m;
    }
    cs_free(insn, 1);
}

/* U17: SSE arithmetic whose NaN result Unicorn picks differently when both
 * operands are NaN. Marks the destination XMM register and the lane width. */
static void note_sse_nan(struct trace *t, const uint8_t *b, int len, uint32_t eip) {
    static const unsigned ps[] = { X86_INS_ADDPS, X86_INS_ADDSS, X86_INS_SUBPS, X86_INS_SUBSS,
                                   X86_INS_MULPS, X86_INS_MULSS, X86_INS_DIVPS, X86_INS_DIVSS,
                                   X86_INS_ADDSUBPS, X86_INS_HADDPS, X86_INS_HSUBPS };
    static const unsigned pd[] = { X86_INS_ADDPD, X86_INS_ADDSD, X86_INS_SUBPD, X86_INS_SUBSD,
                                   X86_INS_MULPD, X86_INS_MULSD, X86_INS_DIVPD, X86_INS_DIVSD,
                                   X86_INS_ADDSUBPD, X86_INS_HADDPD, X86_INS_HSUBPD };
    cs_insn *ci;
    if (cs_disasm(cs(), b, (size_t)len, eip, 1, &ci) != 1) return;
    const cs_x86 *x = &ci->detail->x86;
    int width = 0;
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) if (ci->id == ps[i]) width = 32;
    for (size_t i = 0; i < sizeof pd / sizeof pd[0]; i++) if (ci->id == pd[i]) width = 64;
    if (width && x->op_count > 0 && x->operands[0].type == X86_OP_REG &&
        x->operands[0].reg >= X86_REG_XMM0 && x->operands[0].reg <= X86_REG_XMM7) {
        uint8_t bit = (uint8_t)(1u << (x->operands[0].reg - X86_REG_XMM0));
        if (width == 32) t->an->xmm_nan32 |= bit; else t->an->xmm_nan64 |= bit;
    }
    cs_free(ci, 1);
}

void trace_step(struct trace *t, uint32_t eip, const uint8_t *b, int len, const struct dyn *d) {
    commit(t);
    note_sse_nan(t, b, len, eip);
    t->an->steps++;
    struct effect e;
    insn_effect(b, len, d, &e);
    if (e.reads & t->an->eflags_unknown) taint(t, eip, "reads an undefined flag");
    if (e.fsw_reads & t->an->fsw_unknown) taint(t, eip, "reads undefined x87 condition codes");
    if (e.x87 && t->an->x87_approx) taint(t, eip, "x87 after a transcendental");
    bool any = false;
    for (int r = 0; r < 8; r++) any |= t->an->reg_unknown[r] != 0;
    if (any) regs_check(t, eip, b, len, d);
    t->pending = e;
    t->pending_eip = eip;
    t->has_pending = true;
}

void trace_end(struct trace *t, bool faulted, uint32_t fault_eip) {
    if (!faulted || fault_eip != t->pending_eip) commit(t);
    t->has_pending = false;
}
