/* gen_fp — x87, SSE/SSE2 and MMX templates.
 *
 * x87: the generator tracks the register-stack depth (valid ST0..ST(d-1))
 * so that nothing overflows or reads an empty register: stack faults are a
 * separate subject. FLD m80 and FLDCW read values the generator writes into
 * memory first (valid encodings, exceptions masked). A transcendental ends
 * the x87 part of a case (its result is compared with a tolerance).
 * SSE: aligned operands where the SDM requires them (#GP otherwise).
 * MMX: aliases the x87 registers; EMMS before the next x87 instruction. */
#include <string.h>
#include "genp.h"

static bool fmem(struct gen *g, unsigned size, int acc, int flags, struct rm *o) {
    memset(o, 0, sizeof *o);
    o->mem = true;
    return g_mem_pick(g, size, acc, 0, 0, flags, &o->m);
}

static bool fmem_op(struct gen *g, uint8_t op, int ext, unsigned size, int acc) {
    struct rm o;
    if (!fmem(g, size, acc, 0, &o)) return false;
    struct ib x = { .n = 0 };
    g_ib_prefixes(g, &x, 4, &o, false);
    ib_put(&x, op);
    g_ib_modrm(&x, ext, &o);
    return g_emit(g, &x) != NULL;
}

static void patch(struct gen *g, uint32_t a, const void *v, unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        long k = dt_mem_index(a + i);
        if (k >= 0) g->c->in.mem[k] = ((const uint8_t *)v)[i];
    }
}

static bool x87_load(struct gen *g) {
    if (g->fpu_depth >= 8) return false;
    bool ok;
    switch (RND(6)) {
    case 0: ok = fmem_op(g, 0xd9, 0, 4, ACC_R); break;                  /* FLD m32 */
    case 1: ok = fmem_op(g, 0xdd, 0, 8, ACC_R); break;                  /* FLD m64 */
    case 2: {                                                           /* FILD m16/m32/m64 */
        static const uint8_t op[3] = { 0xdf, 0xdb, 0xdf }, ext[3] = { 0, 0, 5 }, sz[3] = { 2, 4, 8 };
        int k = RND(3);
        ok = fmem_op(g, op[k], ext[k], sz[k], ACC_R);
        break;
    }
    case 3: {                                                           /* FLD m80 of a valid value */
        struct rm o;
        if (!fmem(g, 10, ACC_R, MP_EXACT, &o)) return false;
        uint8_t v[10];
        uint64_t m = rng_next(&g->r) | 1ull << 63;
        uint16_t e = (0x3fff - 30 + RND(60)) | (CHANCE(30) ? 0x8000 : 0);
        memcpy(v, &m, 8); memcpy(v + 8, &e, 2);
        patch(g, o.m.ea, v, 10);
        struct ib x = { .n = 0 };
        g_ib_prefixes(g, &x, 4, &o, false);
        ib_put(&x, 0xdb); g_ib_modrm(&x, 5, &o);
        ok = g_emit(g, &x) != NULL;
        break;
    }
    case 4:
        if (!g->fpu_depth) return false;
        ok = g_emit_bytes(g, 2, 0xd9, 0xc0 + RND(g->fpu_depth)) != NULL;  /* FLD st(i) */
        break;
    default:
        ok = g_emit_bytes(g, 2, 0xd9, 0xe8 + RND(7)) != NULL;             /* FLD1 FLDL2T ... FLDZ */
    }
    if (ok) g->fpu_depth++;
    return ok;
}

static bool x87_store(struct gen *g) {
    if (!g->fpu_depth) return false;
    bool ok, pop = false;
    switch (RND(5)) {
    case 0: { int k = RND(2); pop = CHANCE(50);                        /* FST(P) m32/m64 */
              ok = fmem_op(g, k ? 0xdd : 0xd9, 2 + pop, k ? 8 : 4, ACC_W); break; }
    case 1: pop = true; ok = fmem_op(g, 0xdb, 7, 10, ACC_W); break;     /* FSTP m80 */
    case 2: { static const uint8_t op[5] = { 0xdf, 0xdb, 0xdf, 0xdb, 0xdf }, ext[5] = { 2, 2, 3, 3, 7 },
                                   sz[5] = { 2, 4, 2, 4, 8 };
              int k = RND(5); pop = ext[k] != 2;                        /* FIST(P) m16/m32/m64 */
              ok = fmem_op(g, op[k], ext[k], sz[k], ACC_W); break; }
    default: pop = CHANCE(50);                                          /* FST(P) st(i) */
              ok = g_emit_bytes(g, 2, 0xdd, (pop ? 0xd8 : 0xd0) + RND(g->fpu_depth)) != NULL;
    }
    if (ok && pop) g->fpu_depth--;
    return ok;
}

static bool x87_arith(struct gen *g) {
    int d = g->fpu_depth;
    if (!d) return false;
    int r = RND(8);
    bool pop = r == 3;                                                  /* FCOMP */
    bool ok;
    if (CHANCE(40)) {                                                   /* memory operand */
        static const uint8_t op[4] = { 0xd8, 0xdc, 0xda, 0xde }, sz[4] = { 4, 8, 4, 2 };
        int k = RND(4);
        ok = fmem_op(g, op[k], r, sz[k], ACC_R);
    } else {
        int k = RND(3);                                                 /* D8 st0,sti  DC sti,st0  DE ...p */
        if (k == 2 && d < 2) k = 0;
        int i = RND(d);
        if (k == 2) { if (!i) i = 1; pop = true; if (r == 2 || r == 3) { r = 3; i = 1; } } /* DE D9 FCOMPP */
        if (k == 2 && r == 3) { ok = g_emit_bytes(g, 2, 0xde, 0xd9) != NULL; if (ok) g->fpu_depth -= 2; return ok; }
        if (k == 1 && (r == 2 || r == 3)) k = 0;
        ok = g_emit_bytes(g, 2, k == 0 ? 0xd8 : k == 1 ? 0xdc : 0xde, 0xc0 | r << 3 | i) != NULL;
    }
    if (ok && pop) g->fpu_depth--;
    return ok;
}

static bool x87_cmp_misc(struct gen *g) {
    int d = g->fpu_depth;
    if (!d) return false;
    bool ok;
    switch (RND(8)) {
    case 0: ok = g_emit_bytes(g, 2, CHANCE(50) ? 0xdb : 0xdf, (CHANCE(50) ? 0xe8 : 0xf0) + RND(d)) != NULL; /* (U)COMI(P) */
            if (ok && g->s->it[g->s->n - 1].b[0] == 0xdf) g->fpu_depth--;
            return ok;
    case 1: ok = g_emit_bytes(g, 2, 0xdd, (CHANCE(50) ? 0xe0 : 0xe8) + RND(d)) != NULL;  /* FUCOM(P) */
            if (ok && (g->s->it[g->s->n - 1].b[1] & 0xf8) == 0xe8) g->fpu_depth--;
            return ok;
    case 2: if (d < 2) return false;
            ok = g_emit_bytes(g, 2, 0xda, 0xe9) != NULL; if (ok) g->fpu_depth -= 2; return ok;  /* FUCOMPP */
    case 3: { static const uint8_t u[6] = { 0xe0, 0xe1, 0xe4, 0xe5, 0xfa, 0xfc };   /* FCHS FABS FTST FXAM FSQRT FRNDINT */
              return g_emit_bytes(g, 2, 0xd9, u[RND(6)]) != NULL; }
    case 4: case 5:
        /* FSCALE FPREM FPREM1 FXTRACT: Unicorn computes them through host
         * doubles (unicorn-quirks.md U9); not generated. */
        return false;
    case 6: return g_emit_bytes(g, 2, 0xd9, 0xc8 + RND(d)) != NULL;                          /* FXCH */
    default:                                                                                /* FCMOVcc */
        return g_emit_bytes(g, 2, CHANCE(50) ? 0xda : 0xdb, 0xc0 + RND(32) / 8 * 8 + RND(d)) != NULL;
    }
}

static bool x87_control(struct gen *g) {
    switch (RND(6)) {
    case 0: if (!g_writable(g, BIT(R_EAX))) return false;
            return g_emit_bytes(g, 2, 0xdf, 0xe0) != NULL;                /* FNSTSW AX */
    case 1: return fmem_op(g, 0xdd, 7, 2, ACC_W);                       /* FNSTSW m16 */
    case 2: return fmem_op(g, 0xd9, 7, 2, ACC_W);                       /* FNSTCW m16 */
    case 3: {                                                           /* FLDCW: all exceptions masked */
        struct rm o;
        if (!fmem(g, 2, ACC_RW, MP_EXACT, &o)) return false;
        static const uint16_t pc[3] = { 0, 2, 3 };
        uint16_t cw = 0x007f | pc[RND(3)] << 8 | RND(4) << 10;
        /* Store the word right before loading it: an earlier instruction of
         * the sequence (FNSTSW m16, say) may have overwritten the patched
         * background, and an unmasked exception is U6 territory. */
        struct ib st = { .n = 0 };
        g_ib_prefixes(g, &st, 2, &o, false);
        ib_put(&st, 0xc7); g_ib_modrm(&st, 0, &o);                      /* mov word [m], cw */
        ib_put(&st, (uint8_t)cw); ib_put(&st, (uint8_t)(cw >> 8));
        if (!g_emit(g, &st)) return false;
        struct ib x = { .n = 0 };
        g_ib_prefixes(g, &x, 4, &o, false);
        ib_put(&x, 0xd9); g_ib_modrm(&x, 5, &o);
        return g_emit(g, &x) != NULL;
    }
    case 4: return g_emit_bytes(g, 2, 0xdb, 0xe2) != NULL;                /* FNCLEX */
    default: if (!g_emit_bytes(g, 2, 0xdb, 0xe3)) return false;          /* FNINIT */
             g->fpu_depth = 0; return true;
    }
}

static bool x87_transcendental(struct gen *g) {
    int d = g->fpu_depth;
    static const uint8_t one[4] = { 0xfe, 0xff, 0xf0, 0xf2 };          /* FSIN FCOS F2XM1 FPTAN */
    int k = RND(6);
    bool ok;
    if (k < 4) {
        if (!d || (one[k] == 0xf2 && d >= 8)) return false;
        ok = g_emit_bytes(g, 2, 0xd9, one[k]) != NULL;
        if (ok && one[k] == 0xf2) g->fpu_depth++;
    } else if (k == 4) {
        if (!d || d >= 8) return false;
        ok = g_emit_bytes(g, 2, 0xd9, 0xfb) != NULL;                     /* FSINCOS */
        if (ok) g->fpu_depth++;
    } else {
        if (d < 2) return false;
        ok = g_emit_bytes(g, 2, 0xd9, (uint8_t[]){ 0xf3, 0xf1, 0xf9 }[RND(3)]) != NULL;  /* FPATAN FYL2X FYL2XP1 */
        if (ok) g->fpu_depth--;
    }
    if (ok) g->x87_done = true;
    return ok;
}

static bool t_x87(struct gen *g) {
    if (g->fpu_unknown) return false;
    if (g->x87_done) return false;
    if (g->mmx_dirty) {
        if (!g_emit_bytes(g, 2, 0x0f, 0x77)) return false;               /* EMMS */
        g->mmx_dirty = false;
        g->fpu_depth = 0;
    }
    switch (RND(g->cls == gen_class_find("x87") ? 13 : 12)) {
    case 0: case 1: case 2: return x87_load(g);
    case 3: case 4: return x87_store(g);
    case 5: case 6: case 7: return x87_arith(g);
    case 8: case 9: return x87_cmp_misc(g);
    case 10: case 11: return x87_control(g);
    default: return x87_transcendental(g);
    }
}

/* ---------- SSE/SSE2 ---------- */

enum { K_XX, K_XXI, K_ST, K_XR, K_RX, K_RXI, K_SHI, K_LDM, K_RM32 };
struct sse_op { uint8_t pfx, op, kind, msize, align; };
static const struct sse_op sse_ops[] = {
    /* moves */
    { 0x00, 0x28, K_XX, 16, 16 }, { 0x00, 0x29, K_ST, 16, 16 },   /* movaps */
    { 0x00, 0x10, K_XX, 16, 0 },  { 0x00, 0x11, K_ST, 16, 0 },    /* movups */
    { 0x66, 0x6f, K_XX, 16, 16 }, { 0x66, 0x7f, K_ST, 16, 16 },   /* movdqa */
    { 0xf3, 0x6f, K_XX, 16, 0 },  { 0xf3, 0x7f, K_ST, 16, 0 },    /* movdqu */
    { 0xf3, 0x10, K_XX, 4, 0 },   { 0xf3, 0x11, K_ST, 4, 0 },     /* movss */
    { 0xf2, 0x10, K_XX, 8, 0 },   { 0xf2, 0x11, K_ST, 8, 0 },     /* movsd */
    { 0x66, 0x6e, K_XR, 4, 0 },   { 0x66, 0x7e, K_RM32, 4, 0 },   /* movd */
    { 0xf3, 0x7e, K_XX, 8, 0 },   { 0x66, 0xd6, K_ST, 8, 0 },     /* movq */
    { 0x00, 0x12, K_LDM, 8, 0 },  { 0x00, 0x13, K_ST, 8, 0 },     /* movlps (mem forms) */
    { 0x00, 0x16, K_LDM, 8, 0 },  { 0x00, 0x17, K_ST, 8, 0 },     /* movhps */
    { 0x66, 0x12, K_LDM, 8, 0 },  { 0x66, 0x17, K_ST, 8, 0 },     /* movlpd, movhpd */
    { 0x00, 0x50, K_RX, 0, 0 },   { 0x66, 0x50, K_RX, 0, 0 },     /* movmskps/pd */
    { 0x66, 0xd7, K_RX, 0, 0 },                                   /* pmovmskb */
    { 0x66, 0xc5, K_RXI, 0, 0 },  { 0x66, 0xc4, K_XR, 2, 0 },     /* pextrw, pinsrw (+ib) */
    /* float arithmetic: ps, pd, ss, sd */
#define FARITH(o) { 0x00, o, K_XX, 16, 16 }, { 0x66, o, K_XX, 16, 16 }, { 0xf3, o, K_XX, 4, 0 }, { 0xf2, o, K_XX, 8, 0 }
    FARITH(0x58), FARITH(0x59), FARITH(0x5c), FARITH(0x5d), FARITH(0x5e), FARITH(0x5f), FARITH(0x51),
    FARITH(0xc2),
    { 0x00, 0x54, K_XX, 16, 16 }, { 0x66, 0x54, K_XX, 16, 16 }, { 0x00, 0x55, K_XX, 16, 16 },
    { 0x00, 0x56, K_XX, 16, 16 }, { 0x66, 0x57, K_XX, 16, 16 }, { 0x00, 0x57, K_XX, 16, 16 },
    { 0x00, 0x14, K_XX, 16, 16 }, { 0x00, 0x15, K_XX, 16, 16 }, { 0x00, 0xc6, K_XXI, 16, 16 },
    { 0x66, 0xc6, K_XXI, 16, 16 },
    /* conversions */
    { 0x00, 0x5a, K_XX, 8, 0 },   { 0x66, 0x5a, K_XX, 16, 16 }, { 0xf3, 0x5a, K_XX, 4, 0 }, { 0xf2, 0x5a, K_XX, 8, 0 },
    { 0x00, 0x5b, K_XX, 16, 16 }, { 0x66, 0x5b, K_XX, 16, 16 }, { 0xf3, 0x5b, K_XX, 16, 16 },
    { 0xf3, 0xe6, K_XX, 8, 0 },   { 0xf2, 0xe6, K_XX, 16, 16 }, { 0x66, 0xe6, K_XX, 16, 16 },
    { 0xf3, 0x2a, K_XR, 4, 0 },   { 0xf2, 0x2a, K_XR, 4, 0 },
    { 0xf3, 0x2c, K_RX, 4, 0 },   { 0xf3, 0x2d, K_RX, 4, 0 }, { 0xf2, 0x2c, K_RX, 8, 0 }, { 0xf2, 0x2d, K_RX, 8, 0 },
    /* compares into EFLAGS */
    { 0x00, 0x2e, K_XX, 4, 0 },   { 0x00, 0x2f, K_XX, 4, 0 }, { 0x66, 0x2e, K_XX, 8, 0 }, { 0x66, 0x2f, K_XX, 8, 0 },
    /* shuffles */
    { 0x66, 0x70, K_XXI, 16, 16 }, { 0xf3, 0x70, K_XXI, 16, 16 }, { 0xf2, 0x70, K_XXI, 16, 16 },
    /* SSE2 integer */
#define I(o) { 0x66, o, K_XX, 16, 16 }
    I(0x60), I(0x61), I(0x62), I(0x63), I(0x64), I(0x65), I(0x66), I(0x67), I(0x68), I(0x69), I(0x6a),
    I(0x6b), I(0x6c), I(0x6d), I(0x74), I(0x75), I(0x76), I(0xd1), I(0xd2), I(0xd3), I(0xd4), I(0xd5),
    I(0xd8), I(0xd9), I(0xda), I(0xdb), I(0xdc), I(0xdd), I(0xde), I(0xdf), I(0xe0), I(0xe1), I(0xe2),
    I(0xe3), I(0xe4), I(0xe5), I(0xe8), I(0xe9), I(0xea), I(0xeb), I(0xec), I(0xed), I(0xee), I(0xef),
    I(0xf1), I(0xf2), I(0xf3), I(0xf4), I(0xf5), I(0xf6), I(0xf8), I(0xf9), I(0xfa), I(0xfb), I(0xfc),
    I(0xfd), I(0xfe),
    { 0x66, 0x71, K_SHI, 0, 0 }, { 0x66, 0x72, K_SHI, 0, 0 }, { 0x66, 0x73, K_SHI, 0, 0 },
};
#define NSSE (sizeof sse_ops / sizeof sse_ops[0])

/* One SSE or MMX instruction from the table. mmx: no 66 prefix, MM registers. */
static bool sse_insn(struct gen *g, const struct sse_op *s, bool mmx) {
    struct ib x = { .n = 0 };
    struct rm o;
    memset(&o, 0, sizeof o);
    int reg = RND(8);
    unsigned msize = mmx && s->msize == 16 ? 8 : s->msize;
    unsigned align = mmx ? 0 : s->align;
    bool mem = false;
    switch (s->kind) {
    case K_XX: case K_XXI: mem = CHANCE(40); break;
    case K_ST: mem = CHANCE(60) || s->op == 0x13 || s->op == 0x17; break;
    case K_LDM: mem = true; break;
    case K_XR: mem = CHANCE(40); break;
    case K_RM32: mem = CHANCE(50); break;
    case K_RX: mem = msize && CHANCE(40); break;
    }
    if (mem) {
        int acc = s->kind == K_ST || s->kind == K_RM32 ? ACC_W : ACC_R;
        o.mem = true;
        if (!g_mem_pick(g, msize, acc, 0, align, 0, &o.m)) return false;
    } else if (s->kind == K_XR) {
        o.reg = g_anyreg(g, 4);
    } else if (s->kind == K_RM32) {
        o.reg = g_wreg(g, 4);
        if (o.reg < 0) return false;
    } else {
        o.reg = RND(8);
    }
    if (s->kind == K_RX || s->kind == K_RXI) {
        reg = g_wreg(g, 4);
        if (reg < 0) return false;
    }
    /* The mandatory prefix goes right before 0F (a segment prefix between
     * them defeats Capstone 4, note §2.4). */
    uint8_t p[3]; int n = 0;
    if (o.mem && o.m.a16) p[n++] = 0x67;
    if (o.mem && CHANCE(10)) p[n++] = (o.m.acc & ACC_W) ? 0x3e : 0x2e;
    for (int i = 0; i < n; i++) ib_put(&x, p[i]);
    if (!mmx && s->pfx) ib_put(&x, s->pfx);
    ib_put(&x, 0x0f); ib_put(&x, s->op);
    if (s->kind == K_SHI) {
        static const uint8_t ext[3][3] = { { 2, 4, 6 }, { 2, 4, 6 }, { 2, 6, 3 } };  /* 73: /3 /7 SSE2 only */
        int e = ext[s->op - 0x71][RND(3)];
        if (mmx && s->op == 0x73 && e == 3) e = 6;
        if (s->op == 0x73 && !mmx && CHANCE(30)) e = 7;
        ib_put(&x, 0xc0 | e << 3 | RND(8));
        ib_put(&x, CHANCE(70) ? RND(18) : RND(256));
    } else {
        g_ib_modrm(&x, reg, &o);
        if (s->kind == K_XXI || s->kind == K_RXI || s->op == 0xc2 || (s->kind == K_XR && s->op == 0xc4))
            ib_put(&x, s->op == 0xc2 ? RND(8) : RND(256));
    }
    return g_emit(g, &x) != NULL;
}

static bool t_sse(struct gen *g) {
    return sse_insn(g, &sse_ops[RND(NSSE)], false);
}

static bool t_mmx(struct gen *g) {
    if (g->fpu_unknown) return false;
    if (CHANCE(8)) {
        if (!g_emit_bytes(g, 2, 0x0f, 0x77)) return false;
        g->mmx_dirty = false; g->fpu_depth = 0;
        return true;
    }
    for (int t = 0; t < 10; t++) {
        const struct sse_op *s = &sse_ops[RND(NSSE)];
        /* MMX has the integer ops, movd/movq 6E/7E/6F/7F, pmovmskb, pextrw/pinsrw, shifts. */
        bool ok = s->pfx == 0x66 && ((s->op >= 0x60 && s->op <= 0x6b) || (s->op >= 0x71 && s->op <= 0x76) ||
                                     s->op >= 0xd1 || s->op == 0x6e || s->op == 0x7e || s->op == 0x6f ||
                                     s->op == 0x7f || s->op == 0xc4 || s->op == 0xc5);
        if (!ok || s->op == 0xd6 || s->op == 0xd4 || s->op == 0xfb || s->op == 0xf4 || s->op == 0xe6) {
            if (!(s->op == 0xd4 || s->op == 0xfb || s->op == 0xf4) || s->pfx != 0x66) continue;
        }
        if (!sse_insn(g, s, true)) return false;
        g->mmx_dirty = true;
        return true;
    }
    return false;
}

const struct tmpl tmpl_fp[] = {
    { "x87", t_x87, 8, false, false },
    { "sse", t_sse, 8, false, true },
    { "mmx", t_mmx, 6, false, true },
};
const int tmpl_fp_n = sizeof tmpl_fp / sizeof tmpl_fp[0];
