/* gen — generator core: initial state, operand selection, emission with
 * flag bookkeeping, classes. The templates live in gen_int.c (integer),
 * gen_stack.c (stack, strings), gen_flow.c (control flow), gen_fp.c (x87,
 * SSE2, MMX). See gen.h for the soundness rules. */
#include <stdarg.h>
#include <string.h>
#include "flags.h"
#include "genp.h"

/* ---------- values, registers ---------- */

uint32_t g_rnd_val(struct gen *g) {
    switch (RND(14)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return ~0u;
    case 3: return 0x80000000u;
    case 4: return 0x7fffffffu;
    case 5: return RND(16);
    case 6: return 1u << RND(32);
    case 7: return -(uint32_t)RND(16);
    case 8: return CHANCE(50) ? 0xff : 0xffff;
    case 9: return 0x7f + RND(3);
    case 10: return 0x7fff + RND(3);
    default: return (uint32_t)rng_next(&g->r);
    }
}

unsigned g_rnd_size(struct gen *g) {
    unsigned k = RND(100);
    return k < 30 ? 1 : k < 55 ? 2 : 4;
}

bool g_writable(struct gen *g, uint32_t mask) {
    return !(mask & (g->ptr | g->locked));
}

int g_wreg(struct gen *g, unsigned size) {
    int cand[8], n = 0;
    for (int r = 0; r < 8; r++)
        if (g_writable(g, reg_mask(r, size))) cand[n++] = r;
    return n ? cand[RND(n)] : -1;
}

int g_anyreg(struct gen *g, unsigned size) { (void)size; return RND(8); }

void g_ib_imm(struct ib *x, unsigned size, uint32_t v) {
    if (size == 1) ib_put(x, v);
    else if (size == 2) ib_put16(x, v);
    else ib_put32(x, v);
}

void g_ptr_move(struct gen *g, int reg, int32_t dlo, int32_t dhi) {
    g->lo[reg] += dlo;
    g->hi[reg] += dhi;
}

/* ---------- memory operands ---------- */

bool g_mem_ok(struct gen *g, uint32_t a, uint32_t n, int acc) {
    /* An effective address may wrap at 4 GiB, but one access may not
     * straddle it: Unicorn reports it unmapped (unicorn-quirks.md U13). */
    if ((uint64_t)a + n > 0x100000000ull) return false;
    if (n > 0x2000) return false;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t x = a + i;
        if (dt_mem_index(x) < 0) return false;
        if (acc & ACC_W) {
            if (x - DT_CODE < DT_CODE_SIZE) return false;
            if (x >= g->live_lo && x < DT_STACK + 0x2000) return false;
        }
    }
    return true;
}

static uint32_t rnd_mapped(struct gen *g) {
    const struct dt_region *r = &dt_regions[RND(DT_NREGIONS)];
    if (g->wrap && CHANCE(50)) r = CHANCE(50) ? &dt_regions[0] : &dt_regions[4];
    return r->base + RND(r->size);
}

void g_mop_add_disp(struct mop *m, int32_t d) {
    int32_t v;
    memcpy(&v, m->b + m->disp32_at, 4);
    v += d;
    memcpy(m->b + m->disp32_at, &v, 4);
    m->ea += d;
}

static bool mem_pick16(struct gen *g, unsigned size, int acc, int flags, struct mop *m) {
    static const int8_t base[8] = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX };
    static const int8_t idx[8] = { R_ESI, R_EDI, R_ESI, R_EDI, -1, -1, -1, -1 };
    for (int t = 0; t < 20; t++) {
        int rm = RND(8), mod = RND(3);
        bool dispo = rm == 6 && mod == 0;
        uint32_t sum = 0;
        if (!dispo) {
            int b = base[rm], i = idx[rm];
            if (!(g->ptr & BIT(b)) || g->lo[b] != g->hi[b]) continue;
            if (i >= 0 && (!(g->ptr & BIT(i)) || g->lo[i] != g->hi[i])) continue;
            sum = g->lo[b] + (i >= 0 ? g->lo[i] : 0);
        }
        uint32_t ea = RND(0x2000 - size);           /* the low region: the only one below 64 KiB */
        uint16_t disp = (uint16_t)(ea - sum);
        if (!dispo) {
            if (disp == 0 && rm != 6 && CHANCE(50)) mod = 0;
            else if ((int16_t)disp >= -128 && (int16_t)disp < 128) mod = 1;
            else mod = 2;
        }
        if (!g_mem_ok(g, ea, size, acc)) continue;
        m->n = 0;
        m->b[m->n++] = mod << 6 | rm;
        if (mod == 1) m->b[m->n++] = disp;
        if (mod == 2 || dispo) { m->b[m->n++] = disp; m->b[m->n++] = disp >> 8; }
        m->a16 = true; m->exact = true; m->ea = ea; m->disp32_at = -1; m->acc = acc;
        (void)flags;
        return true;
    }
    return false;
}

bool g_mem_pick(struct gen *g, unsigned size, int acc, int esp_adj, unsigned align, int flags, struct mop *m) {
    if (align) flags |= MP_EXACT;
    if (g->a16 && !(flags & (MP_NO_A16 | MP_DISP32)) && CHANCE(70) && mem_pick16(g, size, acc, flags, m))
        return true;
    int ptrs[8], np = 0, idxs[8], ni = 0;
    for (int r = 0; r < 8; r++) {
        if (!(g->ptr & BIT(r))) continue;
        if ((flags & MP_EXACT) && g->lo[r] != g->hi[r]) continue;
        ptrs[np++] = r;
        if (r != R_ESP) idxs[ni++] = r;
    }
    for (int t = 0; t < 40; t++) {
        int form = RND(10), base = -1, index = -1, scale = 0;
        if (form >= 1 && form <= 7 && np == 0) form = 0;
        if (form == 9 && np == 0) form = 0;
        if ((form >= 5 && form <= 8) && ni == 0) form = 0;
        uint32_t b = 0, span = 0;
        if (form != 0 && form != 8) {
            base = ptrs[RND(np)];
            b = g->lo[base] + (base == R_ESP ? esp_adj : 0);
            span = g->hi[base] - g->lo[base];
        }
        if (form >= 5 && form <= 8) {
            index = idxs[RND(ni)];
            scale = RND(4);
            b += g->lo[index] << scale;
            span += (g->hi[index] - g->lo[index]) << scale;
        }
        uint32_t ea;
        if (form == 0 || form == 8 || CHANCE(15)) ea = rnd_mapped(g);
        else ea = b - span / 2 + RND(0x200) - 0x100;
        if (align) ea &= ~(align - 1);
        uint32_t disp = ea - b;
        if (!g_mem_ok(g, ea, span + size, acc)) continue;

        int mod;
        bool fits8 = (int32_t)disp >= -128 && (int32_t)disp < 128;
        if (form == 0 || form == 8) mod = 0;
        else if (flags & MP_DISP32) mod = 2;
        else if (disp == 0 && (base & 7) != R_EBP && CHANCE(60)) mod = 0;
        else if (fits8) mod = 1;
        else mod = 2;
        bool sib = form >= 5 || (form != 0 && base == R_ESP);
        m->n = 0;
        if (form == 0) m->b[m->n++] = 0x05;                       /* mod=00 rm=101: disp32 */
        else if (!sib) m->b[m->n++] = mod << 6 | base;
        else {
            m->b[m->n++] = mod << 6 | 4;
            int sbase = form == 8 ? 5 : base, sidx = index < 0 ? 4 : index;
            m->b[m->n++] = scale << 6 | sidx << 3 | sbase;
        }
        m->disp32_at = -1;
        if (mod == 1) m->b[m->n++] = disp;
        if (mod == 2 || form == 0 || form == 8) {
            m->disp32_at = m->n;
            memcpy(m->b + m->n, &disp, 4);
            m->n += 4;
        }
        if ((flags & MP_DISP32) && m->disp32_at < 0) continue;
        m->a16 = false;
        m->acc = acc;
        m->exact = span == 0;
        m->ea = ea;
        return true;
    }
    return false;
}

bool g_rm_pick(struct gen *g, unsigned size, int acc, int mem_pct, struct rm *o) {
    memset(o, 0, sizeof *o);
    if (CHANCE(mem_pct) && g_mem_pick(g, size, acc, 0, 0, 0, &o->m)) {
        o->mem = true;
        return true;
    }
    o->reg = (acc & ACC_W) ? g_wreg(g, size) : g_anyreg(g, size);
    if (o->reg >= 0) return true;
    if (g_mem_pick(g, size, acc, 0, 0, 0, &o->m)) { o->mem = true; return true; }
    return false;
}

void g_ib_prefixes(struct gen *g, struct ib *x, unsigned size, const struct rm *o, bool lock) {
    uint8_t p[4];
    int n = 0;
    if (size == 2) p[n++] = 0x66;
    if (o && o->mem && o->m.a16) p[n++] = 0x67;
    if (o && o->mem && CHANCE(12)) {
        static const uint8_t segs[] = { 0x26, 0x36, 0x3e, 0x64, 0x65, 0x2e };
        p[n++] = segs[RND((o->m.acc & ACC_W) ? 5 : 6)];   /* CS is not writable */
    }
    if (lock) p[n++] = 0xf0;
    for (int i = n - 1; i > 0; i--) { int j = RND(i + 1); uint8_t t = p[i]; p[i] = p[j]; p[j] = t; }
    for (int i = 0; i < n; i++) ib_put(x, p[i]);
}

void g_ib_modrm(struct ib *x, int reg, const struct rm *o) {
    if (o->mem) {
        ib_put(x, o->m.b[0] | (reg & 7) << 3);
        for (int i = 1; i < o->m.n; i++) ib_put(x, o->m.b[i]);
    } else {
        ib_put(x, 0xc0 | (reg & 7) << 3 | o->reg);
    }
}

/* ---------- emission ---------- */

static struct item *append(struct gen *g, const uint8_t *b, int n) {
    if (g->s->n >= g->items_cap) return NULL;
    struct item *it = seq_add(g->s, g->part, b, n);
    if (!it) return NULL;
    struct effect e;
    insn_effect(b, n, NULL, &e);
    g->unk = (g->unk & ~e.defined) | e.undef;
    g->fsw_unk = (g->fsw_unk & ~e.fsw_defined) | e.fsw_undef;
    return it;
}

struct item *g_emit(struct gen *g, const struct ib *x) {
    struct effect e;
    insn_effect(x->b, x->n, NULL, &e);
    if (e.reads & g->unk) {
        /* cmp r32, imm32: defines all six flags, reads and writes nothing else. */
        uint8_t d[6] = { 0x81, 0xf8 | RND(8) };
        uint32_t v = g_rnd_val(g);
        memcpy(d + 2, &v, 4);
        if (!append(g, d, 6)) return NULL;
    }
    if (e.fsw_reads & g->fsw_unk & FSW_EXC) {
        static const uint8_t fnclex[2] = { 0xdb, 0xe2 };      /* clears the exception flags */
        if (!append(g, fnclex, 2)) return NULL;
    }
    if (e.fsw_reads & g->fsw_unk) {
        static const uint8_t fxam[2] = { 0xd9, 0xe5 };        /* defines C0-C3, raises nothing */
        if (!append(g, fxam, 2)) return NULL;
    }
    uint8_t op = x->b[x->n - 1];
    if (x->n == 1 && (op == 0xfc || op == 0xfd)) g->df = op & 1;
    return append(g, x->b, x->n);
}

struct item *g_emit_bytes(struct gen *g, int n, ...) {
    struct ib x = { .n = 0 };
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) ib_put(&x, va_arg(ap, int));
    va_end(ap);
    return g_emit(g, &x);
}

void g_emit_mov_imm(struct gen *g, int reg, uint32_t v) {
    struct ib x = { .n = 0 };
    ib_put(&x, 0xb8 + reg);
    ib_put32(&x, v);
    g_emit(g, &x);
}

void g_emit_lea_esp(struct gen *g, int32_t d) {
    if (!d) return;
    struct ib x = { .n = 0 };
    ib_put(&x, 0x8d);
    if (d >= -128 && d < 128) { ib_put(&x, 0x64); ib_put(&x, 0x24); ib_put(&x, d); }
    else { ib_put(&x, 0xa4); ib_put(&x, 0x24); ib_put32(&x, d); }
    g_emit(g, &x);
    g_ptr_move(g, R_ESP, d, d);
}

/* ---------- classes ---------- */

static const char *const class_names[] = {
    "alu", "incdec", "shift", "shld", "muldiv", "bit", "xchg", "cond", "movx", "lea",
    "flags", "stack", "enter", "string", "bcd", "xlat", "branch", "loop", "call",
    "indirect", "x87", "sse", "mmx", "misc", "trap", "wrap", "addr16", "lock",
};
#define NCLASSES ((int)(sizeof class_names / sizeof class_names[0]))
enum { C_WRAP = 25, C_ADDR16 = 26, C_LOCK = 27 };
/* Classes that generate their own instructions (the last three modify how
 * the memory-using classes generate). */
static bool class_is_modifier(int c) { return c >= C_WRAP; }
/* Where bt86 is expected to differ for now: not in the "all" mix. */
static uint32_t class_excluded_from_all = 0;

int gen_class_count(void) { return NCLASSES; }
const char *gen_class_name(int c) { return c < 0 ? "all" : class_names[c]; }
int gen_class_find(const char *name) {
    for (int i = 0; i < NCLASSES; i++)
        if (!strcmp(name, class_names[i])) return i;
    return -1;
}
bool gen_class_in_all(int c) { return !(class_excluded_from_all & (1u << c)); }

static const struct { const struct tmpl *t; const int *n; } tables[] = {
    { tmpl_int, &tmpl_int_n }, { tmpl_stack, &tmpl_stack_n },
    { tmpl_flow, &tmpl_flow_n }, { tmpl_fp, &tmpl_fp_n },
};

/* Memory-using classes the modifiers draw from. */
static bool modifier_ok(int mod, const struct tmpl *t) {
    static const char *const mem_classes[] = { "alu", "incdec", "shift", "bit", "xchg", "movx",
                                               "lea", "stack", "string", "xlat", "muldiv", "cond" };
    for (size_t i = 0; i < sizeof mem_classes / sizeof *mem_classes; i++)
        if (!strcmp(t->cls, mem_classes[i])) {
            if (mod == C_LOCK) return !strcmp(t->cls, "alu") || !strcmp(t->cls, "incdec") ||
                                      !strcmp(t->cls, "xchg") || !strcmp(t->cls, "bit");
            if (mod == C_ADDR16) return strcmp(t->cls, "string") && strcmp(t->cls, "stack");
            return true;
        }
    return false;
}

static const struct tmpl *pick_tmpl(struct gen *g, int cls, bool body) {
    const struct tmpl *cand[256];
    int w[256], n = 0, total = 0;
    for (size_t k = 0; k < sizeof tables / sizeof *tables; k++)
        for (int i = 0; i < *tables[k].n; i++) {
            const struct tmpl *t = &tables[k].t[i];
            if (g->neutral && t->moves_ptr) continue;
            if (body && !t->body_ok) continue;
            if (cls >= 0) {
                if (class_is_modifier(cls) ? !modifier_ok(cls, t) : strcmp(t->cls, class_names[cls]))
                    continue;
            } else {
                int c = gen_class_find(t->cls);
                if (c >= 0 && !gen_class_in_all(c)) continue;
            }
            cand[n] = t; w[n] = t->weight; total += t->weight; n++;
        }
    if (!n) return NULL;
    uint32_t k = RND(total);
    for (int i = 0; i < n; i++) {
        if (k < (uint32_t)w[i]) return cand[i];
        k -= w[i];
    }
    return cand[n - 1];
}

static bool run_one(struct gen *g, int cls, bool body) {
    for (int tries = 0; tries < 12; tries++) {
        const struct tmpl *t = pick_tmpl(g, cls, body);
        if (!t) {
            if (cls < 0) return false;
            cls = -1;                       /* class has no body templates: use the mix */
            continue;
        }
        if (t->fn(g)) return true;
    }
    return false;
}

void gen_body(struct gen *g, int n) {
    int cls = g->cls;
    if (cls >= 0 && !class_is_modifier(cls) && CHANCE(50)) cls = -1;
    for (int i = 0; i < n; i++) run_one(g, cls, true);
}

/* ---------- the case ---------- */

static uint32_t ptr_value(struct gen *g, int reg) {
    int k = RND(100);
    if (g->wrap) {
        if (k < 35) return 0xffffff00u + RND(0x100);
        if (k < 50) return 0xfffff000u + RND(0x1000);
        if (k < 70) return RND(0x100);
    } else if (k < 5) {
        return 0xfffff000u + RND(0x1000);
    }
    if (k < 80) return DT_DATA + 0x100 + RND(0x1e00);
    if (k < 90) return DT_STACK + 0x100 + RND(0xe00);
    return 0x100 + RND(0x1e00);
}

bool gen_case(uint64_t seed, int cls, struct dt_case *c, struct seq *s, int *chosen) {
    struct gen gg, *g = &gg;
    uint64_t r0 = seed * 0x2545f4914f6cdd1dull + 0x1234567;
    for (int attempt = 0; attempt < 20; attempt++) {
        memset(g, 0, sizeof *g);
        g->r = r0 + (uint64_t)attempt * 0x9e3779b97f4a7c15ull;
        g->s = s; g->c = c;
        int ccls = cls;
        if (ccls < 0 && CHANCE(50)) {                 /* "all": one class, or a mix */
            do ccls = RND(NCLASSES); while (!gen_class_in_all(ccls));
        }
        g->cls = ccls;
        g->wrap = ccls == C_WRAP;
        g->a16 = ccls == C_ADDR16;
        seq_init(s);
        memset(c, 0, sizeof *c);
        c->fill_seed = rng_next(&g->r) | 1;
        dt_fill(&c->in, c->fill_seed);

        for (int i = 0; i < 8; i++) c->in.gpr[i] = g_rnd_val(g);
        c->in.eflags = 0x2 | ((uint32_t)rng_next(&g->r) & F_ARITH) | (CHANCE(50) ? F_DF : 0);
        g->df = !!(c->in.eflags & F_DF);
        uint32_t esp = DT_STACK + 0x1000 + RND(0x100) - 0x80;
        if (CHANCE(90)) esp &= ~3u;
        c->in.gpr[R_ESP] = esp;
        g->ptr = BIT(R_ESP);
        static const int pcand[] = { R_EBX, R_EBP, R_ESI, R_EDI, R_EAX, R_ECX, R_EDX };
        for (int i = 0; i < 7; i++)
            if (CHANCE(i < 4 ? (g->wrap || g->a16 ? 75 : 50) : 8)) g->ptr |= BIT(pcand[i]);
        if (ccls == gen_class_find("string")) g->ptr |= BIT(R_ESI) | BIT(R_EDI);
        if (ccls == gen_class_find("xlat")) g->ptr |= BIT(R_EBX);
        for (int rr = 0; rr < 8; rr++) {
            if (!(g->ptr & BIT(rr))) continue;
            if (rr != R_ESP) c->in.gpr[rr] = ptr_value(g, rr);
            g->lo[rr] = g->hi[rr] = c->in.gpr[rr];
        }
        g->live_lo = DT_STACK + 0x2000;
        /* x87 stack depth of the background image: valid tags from TOP. */
        unsigned top = (c->in.fx[3] >> 3) & 7, d = 0;
        while (d < 8 && (c->in.fx[4] >> ((top + d) & 7) & 1)) d++;
        g->fpu_depth = d;
        g->fpu_unknown = false;
        g->next_part = 1;
        g->items_cap = SEQ_MAX - 24;

        int n = 1 + RND(6);
        for (int i = 0; i < n; i++) run_one(g, ccls, false);
        if (s->n == 0 || s->n >= g->items_cap) continue;
        if (seq_assemble(s, c)) {
            if (chosen) *chosen = ccls;
            return true;
        }
    }
    return false;
}
