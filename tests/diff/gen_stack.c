/* gen_stack — stack and string templates: PUSH/POP of registers, memory
 * and immediates (16 and 32 bit), PUSH ESP/POP ESP, PUSHF/POPF, PUSHA/POPA,
 * ENTER/LEAVE, and MOVS/CMPS/SCAS/LODS/STOS with REP/REPE/REPNE and DF 0/1.
 *
 * ESP is always exact (gen.h): pushes and pops move it by known amounts;
 * the stack between ESP and live_lo is free, above live_lo it is live. */
#include <string.h>
#include "genp.h"

static bool room(struct gen *g, uint32_t n) { return esp_now(g) - n >= DT_STACK + 0x40 && esp_now(g) >= n; }

/* Pop size bytes into a data register (8F /0 or 58+r). */
static bool pop_reg(struct gen *g, unsigned size) {
    if (esp_now(g) + size > g->live_lo) return false;
    int r = g_wreg(g, size == 2 ? 2 : 4);
    if (r < 0) return false;
    struct ib x = { .n = 0 };
    if (size == 2) ib_put(&x, 0x66);
    if (CHANCE(80)) ib_put(&x, 0x58 + r);
    else { ib_put(&x, 0x8f); ib_put(&x, 0xc0 | r); }
    if (!g_emit(g, &x)) return false;
    g_ptr_move(g, R_ESP, size, size);
    return true;
}

static bool t_push(struct gen *g) {
    unsigned size = CHANCE(25) ? 2 : 4;
    if (!room(g, size)) return false;
    struct ib x = { .n = 0 };
    struct rm o;
    if (size == 2) ib_put(&x, 0x66);
    switch (RND(5)) {
    case 0: case 1: ib_put(&x, 0x50 + RND(8)); break;                  /* PUSH r (incl. ESP: old value) */
    case 2: ib_put(&x, 0x6a); ib_put(&x, g_rnd_val(g)); break;          /* PUSH imm8 (sign-extended) */
    case 3: ib_put(&x, 0x68); g_ib_imm(&x, size, g_rnd_val(g)); break;    /* PUSH imm16/32 */
    default:                                                           /* PUSH r/m: EA before the push */
        x.n = 0;
        if (!g_rm_pick(g, size, ACC_R, 80, &o)) return false;
        g_ib_prefixes(g, &x, size, &o, false);
        ib_put(&x, 0xff); g_ib_modrm(&x, 6, &o);
    }
    if (!g_emit(g, &x)) return false;
    g_ptr_move(g, R_ESP, -(int)size, -(int)size);
    if (g->neutral) return pop_reg(g, size) || (g_emit_lea_esp(g, size), true);
    return true;
}

static bool t_pop(struct gen *g) {
    unsigned size = CHANCE(25) ? 2 : 4;
    if (esp_now(g) + size > g->live_lo) return false;
    if (CHANCE(50)) return pop_reg(g, size);
    /* POP m: the address uses ESP after the increment (SDM POP). */
    struct rm o = { .mem = true };
    if (!g_mem_pick(g, size, ACC_W, size, 0, 0, &o.m)) return false;
    struct ib x = { .n = 0 };
    g_ib_prefixes(g, &x, size, &o, false);
    ib_put(&x, 0x8f); g_ib_modrm(&x, 0, &o);
    if (!g_emit(g, &x)) return false;
    g_ptr_move(g, R_ESP, size, size);
    return true;
}

/* A balanced pair, allowed in neutral regions. */
static bool t_pushpop(struct gen *g) {
    unsigned size = CHANCE(25) ? 2 : 4;
    if (!room(g, size)) return false;
    struct ib x = { .n = 0 };
    if (size == 2) ib_put(&x, 0x66);
    ib_put(&x, 0x50 + RND(8));
    if (!g_emit(g, &x)) return false;
    g_ptr_move(g, R_ESP, -(int)size, -(int)size);
    if (CHANCE(20) && size == 4) {                   /* POP ESP: ESP := the pushed word */
        uint8_t pushed = x.b[x.n - 1] - 0x50;
        if (pushed == R_ESP) {
            g_emit_bytes(g, 1, 0x5c);
            g_ptr_move(g, R_ESP, size, size);
            return true;
        }
    }
    if (pop_reg(g, size)) return true;
    g_emit_lea_esp(g, size);
    return true;
}

/* PUSHF then POP, or PUSH imm; POPF with only the arithmetic flags, DF and
 * bit 1 (IF stays 0, never TF/AC/NT/IOPL: ring 0 would load them). */
static bool t_pushf_popf(struct gen *g) {
    bool w16 = CHANCE(25);
    unsigned size = w16 ? 2 : 4;
    if (!room(g, size)) return false;
    if (CHANCE(50)) {
        if (w16) g_emit_bytes(g, 2, 0x66, 0x9c); else g_emit_bytes(g, 1, 0x9c);
        g_ptr_move(g, R_ESP, -(int)size, -(int)size);
        if (!pop_reg(g, size)) g_emit_lea_esp(g, size);
        return true;
    }
    uint32_t v = 0x2 | ((uint32_t)rng_next(&g->r) & F_ARITH) | (CHANCE(50) ? F_DF : 0);
    struct ib x = { .n = 0 };
    if (w16) { ib_put(&x, 0x66); ib_put(&x, 0x68); ib_put16(&x, v); }
    else { ib_put(&x, 0x68); ib_put32(&x, v); }
    if (!g_emit(g, &x)) return false;
    if (w16) g_emit_bytes(g, 2, 0x66, 0x9d); else g_emit_bytes(g, 1, 0x9d);
    g->df = g->neutral ? -1 : !!(v & F_DF);
    return true;
}

/* PUSHA ... POPA around a neutral body (POPA restores every register from
 * the frame, so the frame is live meanwhile). */
static bool t_pusha(struct gen *g) {
    bool w16 = CHANCE(25);
    unsigned frame = w16 ? 16 : 32;
    if (!room(g, frame) || g->depth > 1) return false;
    if (w16) g_emit_bytes(g, 2, 0x66, 0x60); else g_emit_bytes(g, 1, 0x60);
    g_ptr_move(g, R_ESP, -(int)frame, -(int)frame);
    uint32_t live = g->live_lo;
    g->live_lo = esp_now(g);
    g->neutral++; g->depth++;
    gen_body(g, RND(3));
    g->neutral--; g->depth--;
    g->live_lo = live;
    if (w16) g_emit_bytes(g, 2, 0x66, 0x61); else g_emit_bytes(g, 1, 0x61);
    g_ptr_move(g, R_ESP, frame, frame);
    return true;
}

/* ENTER alloc, level ... LEAVE. Level > 1 copies frame pointers from the
 * old EBP downwards (SDM ENTER), so it needs EBP to be a pointer. */
static bool t_enter(struct gen *g) {
    if (g->depth > 1 || (g->locked & BIT(R_EBP))) return false;
    bool ebp_ptr = g->ptr & BIT(R_EBP);
    if (!ebp_ptr && !g_writable(g, BIT(R_EBP))) return false;
    unsigned level = RND(4);
    if (ebp_ptr && g->lo[R_EBP] == g->hi[R_EBP] && CHANCE(30)) level = RND(32);
    if (level > 1 && !(ebp_ptr && g_mem_ok(g, g->lo[R_EBP] - 4 * (level - 1), 4 * (level - 1) + (g->hi[R_EBP] - g->lo[R_EBP]), ACC_R)))
        level = RND(2);
    uint16_t alloc = CHANCE(30) ? 0 : RND(0x200);
    uint32_t total = 4 + (level ? 4 * level : 0) + alloc;
    if (!room(g, total + 0x40)) return false;
    if (!g_emit_bytes(g, 4, 0xc8, alloc & 0xff, alloc >> 8, CHANCE(10) ? level | 0x20 * (1 + RND(7)) : level))
        return false;
    uint32_t save_lo = g->lo[R_EBP], save_hi = g->hi[R_EBP], save_live = g->live_lo;
    uint32_t frame = esp_now(g) - 4;
    g->lo[R_EBP] = g->hi[R_EBP] = frame;
    g->ptr |= BIT(R_EBP);
    g->locked |= BIT(R_EBP);
    g->live_lo = frame;
    g_ptr_move(g, R_ESP, -(int)total, -(int)total);
    g->depth++;
    gen_body(g, RND(3));
    g->depth--;
    g_emit_bytes(g, 1, 0xc9);                          /* LEAVE: ESP := EBP; POP EBP */
    g->lo[R_ESP] = g->hi[R_ESP] = frame + 4;
    g->locked &= ~BIT(R_EBP);
    if (!ebp_ptr) g->ptr &= ~BIT(R_EBP);
    g->lo[R_EBP] = save_lo; g->hi[R_EBP] = save_hi;
    g->live_lo = save_live;
    return true;
}

/* String instructions. ECX bounded; ESI/EDI pointers; DF known. */
static bool t_string(struct gen *g) {
    static const uint8_t ops[5] = { 0xa4, 0xa6, 0xaa, 0xac, 0xae };   /* MOVS CMPS STOS LODS SCAS */
    int k = RND(5);
    unsigned size = g_rnd_size(g);
    bool uses_si = k == 0 || k == 1 || k == 3, uses_di = k != 3;
    if ((uses_si && !(g->ptr & BIT(R_ESI))) || (uses_di && !(g->ptr & BIT(R_EDI)))) return false;
    if ((k == 1 || k == 3 || k == 4) && k == 3 && !g_writable(g, BIT(R_EAX))) return false;
    int rep = RND(3);                                /* none, F3, F2 (CMPS/SCAS only) */
    if (rep == 2 && k != 1 && k != 4) rep = 1;
    if (rep && !g_writable(g, BIT(R_ECX))) rep = 0;
    uint32_t n = 1;
    if (rep) {
        n = CHANCE(10) ? 0 : 1 + RND(CHANCE(80) ? 16 : 64);
        g_emit_mov_imm(g, R_ECX, n);
    }
    if (g->df < 0 || CHANCE(25)) g_emit_bytes(g, 1, CHANCE(50) ? 0xfc : 0xfd);
    int dir = g->df ? -1 : 1;
    uint32_t bytes = n * size;
    /* The range each pointer sweeps, from its lowest possible start. */
    for (int p = 0; p < 2; p++) {
        int r = p ? R_EDI : R_ESI;
        if (!(p ? uses_di : uses_si)) continue;
        int acc = p && (k == 0 || k == 2) ? ACC_W : ACC_R;
        uint32_t start = dir > 0 ? g->lo[r] : g->lo[r] - (n ? bytes - size : 0);
        if (!g_mem_ok(g, start, g->hi[r] - g->lo[r] + (n ? bytes : 0), acc)) return false;
    }
    if (k == 1 && rep && n && CHANCE(60) && g->lo[R_ESI] == g->hi[R_ESI] && g->lo[R_EDI] == g->hi[R_EDI]) {
        /* REPE CMPS: make a prefix of the two areas equal so the repeat runs. */
        uint32_t same = RND(n + 1) * size;
        for (uint32_t i = 0; i < same; i++) {
            uint32_t s = g->lo[R_ESI] + dir * (int32_t)i, d = g->lo[R_EDI] + dir * (int32_t)i;
            long is = dt_mem_index(s), id = dt_mem_index(d);
            if (is >= 0 && id >= 0) g->c->in.mem[id] = g->c->in.mem[is];
        }
    }
    struct ib x = { .n = 0 };
    uint8_t pf[3];
    int np = 0;
    if (size == 2) pf[np++] = 0x66;
    if (rep) pf[np++] = rep == 1 ? 0xf3 : 0xf2;
    if (uses_si && CHANCE(20)) pf[np++] = (uint8_t[]){ 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 }[RND(6)];
    for (int i = np - 1; i > 0; i--) { int j = RND(i + 1); uint8_t t = pf[i]; pf[i] = pf[j]; pf[j] = t; }
    for (int i = 0; i < np; i++) ib_put(&x, pf[i]);
    ib_put(&x, ops[k] + (size != 1));
    if (!g_emit(g, &x)) return false;
    /* Pointer updates: exact unless REPE/REPNE may stop early. */
    int32_t d = dir * (int32_t)bytes;
    bool early = rep && (k == 1 || k == 4);
    for (int p = 0; p < 2; p++) {
        int r = p ? R_EDI : R_ESI;
        if (!(p ? uses_di : uses_si)) continue;
        if (!early) g_ptr_move(g, r, d, d);
        else if (n) g_ptr_move(g, r, dir > 0 ? (int32_t)size : d, dir > 0 ? d : -(int32_t)size);
    }
    return true;
}

const struct tmpl tmpl_stack[] = {
    { "stack", t_push, 4, true, true },
    { "stack", t_pop, 3, true, true },
    { "stack", t_pushpop, 3, false, true },
    { "flags", t_pushf_popf, 3, false, true },
    { "stack", t_pusha, 2, false, false },
    { "enter", t_enter, 3, false, false },
    { "string", t_string, 6, true, true },
};
const int tmpl_stack_n = sizeof tmpl_stack / sizeof tmpl_stack[0];
