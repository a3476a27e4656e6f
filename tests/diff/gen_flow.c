/* gen_flow — control-flow templates: forward Jcc/JMP (rel8 and rel32) over
 * blocks that may be skipped, backward JMP, counted loops closed by a
 * backward Jcc or by LOOP/LOOPE/LOOPNE, JECXZ, CALL/RET (RET imm16) to local
 * functions, and indirect JMP/CALL through registers and memory.
 *
 * Every loop is counted (at most 4 iterations, nesting at most 2) and its
 * body is neutral (gen.h). Flags at a join are the union of both paths. */
#include <string.h>
#include "genp.h"

static int jcc_rel(struct gen *g, int cc, int label) {
    struct ib x = { .n = 0 };
    bool near = CHANCE(40);
    if (near) { ib_put(&x, 0x0f); ib_put(&x, 0x80 + cc); ib_put32(&x, 0); }
    else { ib_put(&x, 0x70 + cc); ib_put(&x, 0); }
    struct item *it = g_emit(g, &x);
    if (!it) return -1;
    it->target = label; it->rel_size = near ? 4 : 1;
    return 0;
}

static int jmp_rel(struct gen *g, int label) {
    struct ib x = { .n = 0 };
    bool near = CHANCE(40);
    if (near) { ib_put(&x, 0xe9); ib_put32(&x, 0); } else { ib_put(&x, 0xeb); ib_put(&x, 0); }
    struct item *it = g_emit(g, &x);
    if (!it) return -1;
    it->target = label; it->rel_size = near ? 4 : 1;
    return 0;
}

/* x87/MMX state across a region that runs 0..n times: the stack depth and
 * MMX state are only known afterwards if the region left them unchanged. */
struct fpu_mark { int depth; bool mmx; };
static struct fpu_mark fpu_mark(const struct gen *g) { return (struct fpu_mark){ g->fpu_depth, g->mmx_dirty }; }
static void fpu_join(struct gen *g, struct fpu_mark m)
{
    if (g->fpu_depth != m.depth || g->mmx_dirty != m.mmx)
        g->fpu_unknown = true;
}

/* A block executed 0 or 1 times: neutral, and its effects joined. */
static void skippable_block(struct gen *g) {
    uint32_t unk = g->unk;
    uint16_t fsw = g->fsw_unk;
    int df = g->df;
    struct fpu_mark fm = fpu_mark(g);
    g->neutral++; g->depth++;
    gen_body(g, 1 + RND(2));
    g->neutral--; g->depth--;
    fpu_join(g, fm);
    g->unk |= unk;
    g->fsw_unk |= fsw;
    if (g->df != df) g->df = -1;
}

static bool t_jcc_fwd(struct gen *g) {
    if (g->depth > 1) return false;
    int l = seq_label_new(g->s);
    if (l < 0 || jcc_rel(g, RND(16), l) < 0) return false;
    skippable_block(g);
    seq_bind(g->s, l, g->part);
    return true;
}

static bool t_jecxz(struct gen *g) {
    if (g->depth > 1) return false;
    if (CHANCE(50) && g_writable(g, BIT(R_ECX))) g_emit_mov_imm(g, R_ECX, CHANCE(50) ? 0 : g_rnd_val(g));
    int l = seq_label_new(g->s);
    struct ib x = { .n = 0 };
    if (g->a16 && CHANCE(60)) ib_put(&x, 0x67);             /* JCXZ */
    ib_put(&x, 0xe3); ib_put(&x, 0);
    struct item *it = l < 0 ? NULL : g_emit(g, &x);
    if (!it) return false;
    it->target = l; it->rel_size = 1;
    skippable_block(g);
    seq_bind(g->s, l, g->part);
    return true;
}

/* JMP forward over dead code, or the backward pattern
 * jmp L2; L1: block; jmp L3; L2: jmp L1; L3: */
static bool t_jmp(struct gen *g) {
    if (g->depth > 1) return false;
    if (CHANCE(50)) {
        int l = seq_label_new(g->s);
        if (l < 0 || jmp_rel(g, l) < 0) return false;
        g_emit_bytes(g, 1, 0xf4);                             /* dead: HLT */
        seq_bind(g->s, l, g->part);
        return true;
    }
    int l1 = seq_label_new(g->s), l2 = seq_label_new(g->s), l3 = seq_label_new(g->s);
    if (l3 < 0 || jmp_rel(g, l2) < 0) return false;
    seq_bind(g->s, l1, g->part);
    g->depth++;
    gen_body(g, 1 + RND(2));
    g->depth--;
    jmp_rel(g, l3);
    seq_bind(g->s, l2, g->part);
    jmp_rel(g, l1);
    seq_bind(g->s, l3, g->part);
    return true;
}

/* mov r, n; L: body; (dec r; jnz L) | (inc r; cmp r, n; jb/jl/jne/jbe... L) */
static bool t_loop(struct gen *g) {
    if (g->depth > 1) return false;
    int r = g_wreg(g, 4);
    if (r < 0) return false;
    uint32_t n = 1 + RND(4);
    int variant = RND(3);
    g_emit_mov_imm(g, r, variant == 0 ? n : 0);
    g->locked |= BIT(r);
    int l = seq_label_new(g->s);
    if (l < 0) return false;
    seq_bind(g->s, l, g->part);
    if (variant == 0) g->unk |= F_CF;                       /* DEC keeps the body's CF */
    struct fpu_mark fm = fpu_mark(g);
    g->neutral++; g->depth++;
    gen_body(g, 1 + RND(2));
    g->neutral--; g->depth--;
    fpu_join(g, fm);
    if (variant == 0) {
        g_emit_bytes(g, 1, 0x48 + r);                         /* dec r (short form) */
        jcc_rel(g, 5, l);                                   /* jnz */
    } else {
        if (CHANCE(50)) g_emit_bytes(g, 1, 0x40 + r); else g_emit_bytes(g, 3, 0x83, 0xc0 | r, 1);
        g_emit_bytes(g, 3, 0x83, 0xf8 | r, n);                /* cmp r, n */
        static const int cc[4] = { 2, 0xc, 5, 6 };          /* jb jl jne jbe(n-1)... */
        int k = cc[RND(3)];
        jcc_rel(g, k, l);
    }
    g->locked &= ~BIT(r);
    return true;
}

static bool t_loopx(struct gen *g) {
    if (g->depth > 1 || !g_writable(g, BIT(R_ECX))) return false;
    uint32_t n = 1 + RND(4);
    g_emit_mov_imm(g, R_ECX, n);
    g->locked |= BIT(R_ECX);
    int l = seq_label_new(g->s);
    if (l < 0) return false;
    seq_bind(g->s, l, g->part);
    g->unk = F_ARITH;                    /* LOOP defines no flag: the back edge brings the body's */
    struct fpu_mark fm = fpu_mark(g);
    g->neutral++; g->depth++;
    gen_body(g, 1 + RND(2));
    g->neutral--; g->depth--;
    fpu_join(g, fm);
    struct ib x = { .n = 0 };
    if (g->a16 && CHANCE(50)) ib_put(&x, 0x67);             /* counter CX */
    ib_put(&x, 0xe0 + RND(3)); ib_put(&x, 0);               /* LOOPNE LOOPE LOOP */
    struct item *it = g_emit(g, &x);
    if (!it) return false;
    it->target = l; it->rel_size = 1;
    g->locked &= ~BIT(R_ECX);
    return true;
}

/* Emit a control transfer to label l: kind 0 rel32, 1 register, 2 memory.
 * op_ext: /2 CALL, /4 JMP. */
static bool xfer(struct gen *g, int kind, int op_ext, int l) {
    struct ib x = { .n = 0 };
    if (kind == 0) {
        ib_put(&x, op_ext == 2 ? 0xe8 : 0xe9); ib_put32(&x, 0);
        struct item *it = g_emit(g, &x);
        if (!it) return false;
        it->target = l; it->rel_size = 4;
        return true;
    }
    if (kind == 1) {
        int r = g_wreg(g, 4);
        if (r < 0) return false;
        ib_put(&x, 0xb8 + r); ib_put32(&x, 0);
        struct item *it = g_emit(g, &x);
        if (!it) return false;
        it->abs_target = l; it->abs_off = 1;
        x.n = 0;
        ib_put(&x, 0xff); ib_put(&x, 0xc0 | op_ext << 3 | r);
        return g_emit(g, &x) != NULL;
    }
    if (g->s->nptr >= SEQ_PTRS) return false;
    int k = g->s->nptr++;
    g->s->ptr_label[k] = l;
    uint32_t slot = SEQ_PTR_AREA + 4 * k;
    int base = -1;
    for (int r = 0; r < 8; r++)
        if (r != R_ESP && (g->ptr & BIT(r)) && g->lo[r] == g->hi[r] && CHANCE(50)) base = r;
    if (CHANCE(20)) ib_put(&x, (uint8_t[]){ 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 }[RND(6)]);
    ib_put(&x, 0xff);
    if (base < 0) { ib_put(&x, 0x05 | op_ext << 3); ib_put32(&x, slot); }
    else { ib_put(&x, 0x80 | op_ext << 3 | base); ib_put32(&x, slot - g->lo[base]); }
    return g_emit(g, &x) != NULL;
}

/* CALL to a local function (its own part), RET or RET imm16. */
static bool t_call(struct gen *g) {
    if (g->depth > 1 || g->next_part >= SEQ_PARTS) return false;
    unsigned nargs = CHANCE(35) ? 1 + RND(3) : 0;
    if (esp_now(g) < DT_STACK + 0x400) return false;
    uint32_t esp0 = esp_now(g);
    for (unsigned i = 0; i < nargs; i++) {
        struct ib x = { .n = 0 };
        ib_put(&x, 0x68); ib_put32(&x, g_rnd_val(g));
        g_emit(g, &x);
        g_ptr_move(g, R_ESP, -4, -4);
    }
    int part = g->next_part++, l = seq_label_new(g->s);
    int kind = g->cls == gen_class_find("indirect") ? 1 + RND(2) : CHANCE(80) ? 0 : 1 + RND(2);
    if (l < 0 || !xfer(g, kind, 2, l)) return false;
    g_ptr_move(g, R_ESP, -4, -4);
    uint32_t live = g->live_lo, entry = esp_now(g);
    g->live_lo = entry;                                     /* the return address */
    int saved = g->part;
    g->part = part;
    seq_bind(g->s, l, part);
    g->depth++;
    gen_body(g, 1 + RND(3));
    g->depth--;
    g_emit_lea_esp(g, (int32_t)(entry - esp_now(g)));         /* rebalance for RET */
    bool retn = nargs && (g->neutral || CHANCE(70));
    if (retn) g_emit_bytes(g, 3, 0xc2, 4 * nargs, 0);
    else g_emit_bytes(g, 1, 0xc3);
    g->part = saved;
    g->live_lo = live;
    g->lo[R_ESP] = g->hi[R_ESP] = retn ? esp0 : entry + 4;
    return true;
}

/* JMP through a register or memory to a label after a dead HLT. */
static bool t_ind_jmp(struct gen *g) {
    if (g->depth > 1) return false;
    int l = seq_label_new(g->s);
    if (l < 0 || !xfer(g, 1 + RND(2), 4, l)) return false;
    g_emit_bytes(g, 1, 0xf4);
    seq_bind(g->s, l, g->part);
    return true;
}

const struct tmpl tmpl_flow[] = {
    { "branch", t_jcc_fwd, 5, false, true },
    { "branch", t_jecxz, 2, false, true },
    { "branch", t_jmp, 3, false, true },
    { "loop", t_loop, 4, false, true },
    { "loop", t_loopx, 3, false, true },
    { "call", t_call, 5, false, true },
    { "indirect", t_ind_jmp, 4, false, true },
    { "indirect", t_call, 3, false, true },
};
const int tmpl_flow_n = sizeof tmpl_flow / sizeof tmpl_flow[0];
