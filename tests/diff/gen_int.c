/* gen_int — templates for the integer instructions: ALU, INC/DEC, shifts
 * and rotates, SHLD/SHRD, MUL/IMUL/DIV/IDIV, bit instructions, exchanges,
 * SETcc/CMOVcc, MOVZX/MOVSX and conversions, LEA, BCD, XLAT, flag
 * instructions, and the odd ones (BOUND, INTO, INT, UD2, NOP). */
#include <string.h>
#include "genp.h"

static bool lock_class(struct gen *g) { return g->cls == gen_class_find("lock"); }
/* LOCK only on the lockable memory-destination forms (SDM LOCK; Unicorn
 * aborts on some non-lockable ones, note §3.5). */
static bool want_lock(struct gen *g, const struct rm *o) {
    return o->mem && (lock_class(g) ? CHANCE(90) : CHANCE(6));
}
static int mem_pct(struct gen *g) { return g->wrap || g->a16 || lock_class(g) ? 85 : 40; }

static uint32_t imm_for(struct gen *g, unsigned size) {
    uint32_t v = g_rnd_val(g);
    return size == 1 ? v & 0xff : size == 2 ? v & 0xffff : v;
}

/* ADD OR ADC SBB AND SUB XOR CMP in every encoding (00-3D, 80-83; 82 is
 * invalid in 64-bit mode and must be rewritten). */
static bool t_alu(struct gen *g) {
    int k = RND(8), form = RND(6);
    unsigned size = g_rnd_size(g);
    bool wr = k != 7;
    struct ib x = { .n = 0 };
    struct rm o;
    if (form == 4 && size == 1) form = 5;
    if (form == 5 && size != 1) form = 4;
    if (lock_class(g) && (form == 1 || form == 2)) form = 0;
    switch (form) {
    case 0: {                                        /* r/m, r */
        if (!g_rm_pick(g, size, wr ? ACC_RW : ACC_R, mem_pct(g), &o)) return false;
        g_ib_prefixes(g, &x, size, &o, wr && want_lock(g, &o));
        ib_put(&x, k * 8 + (size != 1));
        g_ib_modrm(&x, g_anyreg(g, size), &o);
        break;
    }
    case 1: {                                        /* r, r/m */
        int d = wr ? g_wreg(g, size) : g_anyreg(g, size);
        if (d < 0 || !g_rm_pick(g, size, ACC_R, mem_pct(g), &o)) return false;
        g_ib_prefixes(g, &x, size, &o, false);
        ib_put(&x, k * 8 + 2 + (size != 1));
        g_ib_modrm(&x, d, &o);
        break;
    }
    case 2:                                          /* AL/AX/EAX, imm */
        if (wr && !g_writable(g, BIT(R_EAX))) return false;
        g_ib_prefixes(g, &x, size, NULL, false);
        ib_put(&x, k * 8 + 4 + (size != 1));
        g_ib_imm(&x, size, imm_for(g, size));
        break;
    default: {                                       /* 80/81/83/82 /k */
        if (!g_rm_pick(g, size, wr ? ACC_RW : ACC_R, mem_pct(g), &o)) return false;
        g_ib_prefixes(g, &x, size, &o, wr && want_lock(g, &o));
        ib_put(&x, form == 3 ? 0x80 + (size != 1) : form == 4 ? 0x83 : 0x82);
        g_ib_modrm(&x, k, &o);
        if (form == 3) g_ib_imm(&x, size, imm_for(g, size));
        else ib_put(&x, g_rnd_val(g));
    }
    }
    return g_emit(g, &x) != NULL;
}

/* TEST, NOT, NEG, MOV in all forms including moffs (A0-A3). */
static bool t_test_not_neg(struct gen *g) {
    unsigned size = g_rnd_size(g);
    struct ib x = { .n = 0 };
    struct rm o;
    int k = RND(5);
    if (k == 0) {                                    /* TEST r/m, r */
        if (!g_rm_pick(g, size, ACC_R, mem_pct(g), &o)) return false;
        g_ib_prefixes(g, &x, size, &o, false);
        ib_put(&x, 0x84 + (size != 1));
        g_ib_modrm(&x, g_anyreg(g, size), &o);
    } else if (k == 1) {                             /* TEST acc, imm */
        g_ib_prefixes(g, &x, size, NULL, false);
        ib_put(&x, 0xa8 + (size != 1));
        g_ib_imm(&x, size, imm_for(g, size));
    } else if (k == 2) {                             /* TEST r/m, imm (F6/F7 /0 and the /1 alias) */
        if (!g_rm_pick(g, size, ACC_R, mem_pct(g), &o)) return false;
        g_ib_prefixes(g, &x, size, &o, false);
        ib_put(&x, 0xf6 + (size != 1));
        g_ib_modrm(&x, 0, &o);
        g_ib_imm(&x, size, imm_for(g, size));
    } else {                                         /* NOT, NEG */
        if (!g_rm_pick(g, size, ACC_RW, mem_pct(g), &o)) return false;
        g_ib_prefixes(g, &x, size, &o, want_lock(g, &o));
        ib_put(&x, 0xf6 + (size != 1));
        g_ib_modrm(&x, k == 3 ? 2 : 3, &o);
    }
    return g_emit(g, &x) != NULL;
}

static bool t_mov(struct gen *g) {
    unsigned size = g_rnd_size(g);
    struct ib x = { .n = 0 };
    struct rm o;
    switch (RND(6)) {
    case 0: {                                        /* 88/89: r/m, r */
        if (!g_rm_pick(g, size, ACC_W, mem_pct(g), &o)) return false;
        g_ib_prefixes(g, &x, size, &o, false);
        ib_put(&x, 0x88 + (size != 1));
        g_ib_modrm(&x, g_anyreg(g, size), &o);
        break;
    }
    case 1: {                                        /* 8A/8B: r, r/m */
        int d = g_wreg(g, size);
        if (d < 0 || !g_rm_pick(g, size, ACC_R, mem_pct(g), &o)) return false;
        g_ib_prefixes(g, &x, size, &o, false);
        ib_put(&x, 0x8a + (size != 1));
        g_ib_modrm(&x, d, &o);
        break;
    }
    case 2: {                                        /* C6/C7: r/m, imm */
        if (!g_rm_pick(g, size, ACC_W, mem_pct(g), &o)) return false;
        g_ib_prefixes(g, &x, size, &o, false);
        ib_put(&x, 0xc6 + (size != 1));
        g_ib_modrm(&x, 0, &o);
        g_ib_imm(&x, size, imm_for(g, size));
        break;
    }
    case 3: {                                        /* B0/B8+r: r, imm */
        int d = g_wreg(g, size);
        if (d < 0) return false;
        g_ib_prefixes(g, &x, size, NULL, false);
        ib_put(&x, (size == 1 ? 0xb0 : 0xb8) + d);
        g_ib_imm(&x, size, imm_for(g, size));
        break;
    }
    default: {                                       /* A0-A3: moffs (disp32 or disp16 with 67) */
        bool store = CHANCE(50);
        if (!store && !g_writable(g, BIT(R_EAX))) return false;
        struct mop m;
        bool a16 = g->a16 && CHANCE(70);
        uint32_t ea = 0;
        for (int t = 0; t < 20; t++) {
            if (a16) ea = RND(0x2000 - size);
            else { const struct dt_region *r = &dt_regions[RND(DT_NREGIONS)]; ea = r->base + RND(r->size); }
            if (g_mem_ok(g, ea, size, store ? ACC_W : ACC_R)) break;
            ea = 1;
        }
        if (!g_mem_ok(g, ea, size, store ? ACC_W : ACC_R)) return false;
        memset(&o, 0, sizeof o);
        o.mem = true; o.m.a16 = a16; o.m.acc = store ? ACC_W : ACC_R;
        g_ib_prefixes(g, &x, size, &o, false);
        ib_put(&x, 0xa0 + (store ? 2 : 0) + (size != 1));
        if (a16) ib_put16(&x, ea); else ib_put32(&x, ea);
        (void)m;
    }
    }
    return g_emit(g, &x) != NULL;
}

/* INC/DEC: 40-4F (REX in 64-bit mode: rewritten) and FE/FF /0 /1. */
static bool t_incdec(struct gen *g) {
    unsigned size = g_rnd_size(g);
    struct ib x = { .n = 0 };
    struct rm o;
    bool dec = CHANCE(50);
    if (size != 1 && CHANCE(40) && !g->a16 && !lock_class(g)) {
        int r = g_wreg(g, size);
        if (r < 0) return false;
        g_ib_prefixes(g, &x, size, NULL, false);
        ib_put(&x, (dec ? 0x48 : 0x40) + r);
    } else {
        if (!g_rm_pick(g, size, ACC_RW, mem_pct(g), &o)) return false;
        g_ib_prefixes(g, &x, size, &o, want_lock(g, &o));
        ib_put(&x, size == 1 ? 0xfe : 0xff);
        g_ib_modrm(&x, dec, &o);
    }
    return g_emit(g, &x) != NULL;
}

static uint8_t rnd_count(struct gen *g) {
    switch (RND(6)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return RND(256);
    default: return RND(40);
    }
}

/* ROL ROR RCL RCR SHL SHR SAR by 1, imm8 and CL (counts 0, 1, up to 255). */
static bool t_shift(struct gen *g) {
    unsigned size = g_rnd_size(g);
    static const int kinds[7] = { 0, 1, 2, 3, 4, 5, 7 };
    int k = kinds[RND(7)], form = RND(3);
    struct ib x = { .n = 0 };
    struct rm o;
    if (form == 2 && CHANCE(70) && g_writable(g, BIT(R_ECX)))
        g_emit_bytes(g, 2, 0xb1, rnd_count(g));                  /* mov cl, imm8 */
    if (!g_rm_pick(g, size, ACC_RW, mem_pct(g), &o)) return false;
    g_ib_prefixes(g, &x, size, &o, false);
    ib_put(&x, (form == 0 ? 0xd0 : form == 1 ? 0xc0 : 0xd2) + (size != 1));
    g_ib_modrm(&x, k, &o);
    if (form == 1) ib_put(&x, rnd_count(g));
    return g_emit(g, &x) != NULL;
}

/* SHLD/SHRD imm8 and CL. 16-bit counts above 16 leave the result undefined
 * (SDM SHLD): kept <= 16. */
static bool t_shld(struct gen *g) {
    unsigned size = CHANCE(40) ? 2 : 4;
    bool cl = CHANCE(50), right = CHANCE(50);
    uint8_t cnt = rnd_count(g);
    if (size == 2 && (cnt & 31) > 16) cnt &= 15;
    struct ib x = { .n = 0 };
    struct rm o;
    if (cl) {
        if (g_writable(g, BIT(R_ECX)) && (size == 2 || CHANCE(70))) g_emit_bytes(g, 2, 0xb1, cnt);
        else if (size == 2) return false;
    }
    if (!g_rm_pick(g, size, ACC_RW, mem_pct(g), &o)) return false;
    g_ib_prefixes(g, &x, size, &o, false);
    ib_put(&x, 0x0f);
    ib_put(&x, (right ? 0xac : 0xa4) + cl);
    g_ib_modrm(&x, g_anyreg(g, size), &o);
    if (!cl) ib_put(&x, cnt);
    return g_emit(g, &x) != NULL;
}

/* MUL/IMUL one-operand, IMUL two- and three-operand. */
static bool t_mul(struct gen *g) {
    unsigned size = g_rnd_size(g);
    struct ib x = { .n = 0 };
    struct rm o;
    int form = RND(4);
    if (form == 0 || (form == 1 && size == 1)) {
        uint32_t w = BIT(R_EAX) | (size == 1 ? 0 : BIT(R_EDX));
        if (!g_writable(g, w) || !g_rm_pick(g, size, ACC_R, mem_pct(g), &o)) return false;
        g_ib_prefixes(g, &x, size, &o, false);
        ib_put(&x, 0xf6 + (size != 1));
        g_ib_modrm(&x, 4 + RND(2), &o);
    } else {
        if (size == 1) size = 4;
        int d = g_wreg(g, size);
        if (d < 0 || !g_rm_pick(g, size, ACC_R, mem_pct(g), &o)) return false;
        g_ib_prefixes(g, &x, size, &o, false);
        if (form == 1) { ib_put(&x, 0x0f); ib_put(&x, 0xaf); g_ib_modrm(&x, d, &o); }
        else if (form == 2) { ib_put(&x, 0x69); g_ib_modrm(&x, d, &o); g_ib_imm(&x, size, imm_for(g, size)); }
        else { ib_put(&x, 0x6b); g_ib_modrm(&x, d, &o); ib_put(&x, g_rnd_val(g)); }
    }
    return g_emit(g, &x) != NULL;
}

/* DIV/IDIV: usually with the high half prepared so that the quotient fits;
 * otherwise random, which raises #DE (divisor 0 or overflow). */
static bool t_div(struct gen *g) {
    unsigned size = g_rnd_size(g);
    bool sign = CHANCE(50);
    struct ib x = { .n = 0 };
    struct rm o;
    uint32_t w = BIT(R_EAX) | (size == 1 ? 0 : BIT(R_EDX));
    if (!g_writable(g, w)) return false;
    if (CHANCE(75)) {
        if (size == 1) { if (sign) g_emit_bytes(g, 2, 0x66, 0x98); else g_emit_bytes(g, 2, 0xb4, 0x00); }  /* cbw / mov ah,0 */
        else if (size == 2) { if (sign) g_emit_bytes(g, 2, 0x66, 0x99); else g_emit_bytes(g, 3, 0x66, 0x31, 0xd2); }
        else { if (sign) g_emit_bytes(g, 1, 0x99); else g_emit_bytes(g, 2, 0x31, 0xd2); }
    }
    if (!g_rm_pick(g, size, ACC_R, mem_pct(g), &o)) return false;
    if (!o.mem && CHANCE(75)) {
        /* Keep the divisor non-zero unless the case wants #DE. */
        int r = o.reg;
        if (g_writable(g, reg_mask(r, size)) && !(reg_mask(r, size) & w))
            g_emit_bytes(g, 3, size == 1 ? 0x80 : 0x83, 0xc8 | r, 1 + RND(0x7f));  /* or r, imm8 */
    }
    g_ib_prefixes(g, &x, size, &o, false);
    ib_put(&x, 0xf6 + (size != 1));
    g_ib_modrm(&x, 6 + sign, &o);
    return g_emit(g, &x) != NULL;
}

/* BT/BTS/BTR/BTC with register offsets (memory forms address outside the
 * operand: SDM BT "bit base / bit offset") and imm8 offsets. */
static bool t_bt(struct gen *g) {
    unsigned size = CHANCE(35) ? 2 : 4;
    int k = RND(4);                                  /* BT BTS BTR BTC */
    int acc = k ? ACC_RW : ACC_R;
    struct ib x = { .n = 0 };
    struct rm o;
    if (CHANCE(40)) {                                /* 0F BA /4-7 ib */
        if (!g_rm_pick(g, size, acc, mem_pct(g), &o)) return false;
        g_ib_prefixes(g, &x, size, &o, k && want_lock(g, &o));
        ib_put(&x, 0x0f); ib_put(&x, 0xba);
        g_ib_modrm(&x, 4 + k, &o);
        ib_put(&x, CHANCE(70) ? RND(size * 8) : RND(256));
        return g_emit(g, &x) != NULL;
    }
    if (CHANCE(35) || g->a16) {
        if (!g_rm_pick(g, size, acc, 0, &o)) return false;    /* register form: offset mod width */
        g_ib_prefixes(g, &x, size, &o, false);
        ib_put(&x, 0x0f); ib_put(&x, 0xa3 + 8 * k);
        g_ib_modrm(&x, g_anyreg(g, size), &o);
        return g_emit(g, &x) != NULL;
    }
    /* Memory with a register offset: load the offset, then the access is at
     * ea + (offset >> log2(width)) * width/8, the offset taken as signed. */
    int r = g_wreg(g, 4);
    if (r < 0 || !g_mem_pick(g, size, acc, 0, 0, 0, &o.m)) return false;
    o.mem = true;
    int32_t off = 0;
    bool ok = false;
    for (int t = 0; t < 20 && !ok; t++) {
        int32_t range = t < 10 ? 8 * 0x400 : 8 * 0x40;
        off = (int32_t)RND(2 * range) - range;
        if (size == 2) off = (int16_t)off;
        int32_t byte = size == 2 ? (off >> 4) * 2 : (off >> 5) * 4;
        ok = g_mem_ok(g, o.m.ea + byte, size, acc);
        if (ok && o.m.exact == false) ok = g_mem_ok(g, o.m.ea + byte, size + 0x40, acc);
    }
    if (!ok) return false;
    if (size == 2) {                                 /* mov r16, imm16: the upper half is ignored */
        struct ib y = { .n = 0 };
        ib_put(&y, 0x66); ib_put(&y, 0xb8 + r); ib_put16(&y, off);
        g_emit(g, &y);
    } else {
        g_emit_mov_imm(g, r, off);
    }
    g_ib_prefixes(g, &x, size, &o, k && want_lock(g, &o));
    ib_put(&x, 0x0f); ib_put(&x, 0xa3 + 8 * k);
    g_ib_modrm(&x, r, &o);
    return g_emit(g, &x) != NULL;
}

/* BSF/BSR, then CMOVZ of the same destination: defined even for a zero
 * source (gen.h). */
static bool t_bsf(struct gen *g) {
    unsigned size = CHANCE(30) ? 2 : 4;
    int d = g_wreg(g, size);
    struct ib x = { .n = 0 };
    struct rm o;
    if (d < 0 || !g_rm_pick(g, size, ACC_R, mem_pct(g), &o)) return false;
    g_ib_prefixes(g, &x, size, &o, false);
    ib_put(&x, 0x0f); ib_put(&x, 0xbc + RND(2));
    g_ib_modrm(&x, d, &o);
    if (!g_emit(g, &x)) return false;
    struct ib y = { .n = 0 };
    if (size == 2) ib_put(&y, 0x66);
    ib_put(&y, 0x0f); ib_put(&y, 0x44); ib_put(&y, 0xc0 | d << 3 | RND(8));
    return g_emit(g, &y) != NULL;
}

static bool t_bswap(struct gen *g) {
    int r = g_wreg(g, 4);
    if (r < 0) return false;
    return g_emit_bytes(g, 2, 0x0f, 0xc8 + r) != NULL;
}

/* XCHG (86/87, 90+r), XADD, CMPXCHG, CMPXCHG8B. */
static bool t_xchg(struct gen *g) {
    unsigned size = g_rnd_size(g);
    struct ib x = { .n = 0 };
    struct rm o;
    int k = RND(lock_class(g) ? 3 : 4);
    if (k == 3 && size != 1) {                       /* 90+r: xchg eAX, r */
        int r = g_wreg(g, size);
        if (r < 0 || !g_writable(g, BIT(R_EAX))) return false;
        g_ib_prefixes(g, &x, size, NULL, false);
        ib_put(&x, 0x90 + r);
        return g_emit(g, &x) != NULL;
    }
    int r = g_wreg(g, size);
    if (r < 0 || !g_rm_pick(g, size, ACC_RW, mem_pct(g), &o)) return false;
    if (k == 2) {                                    /* CMPXCHG: accumulator compared, maybe written */
        if (!g_writable(g, BIT(R_EAX))) return false;
        if (CHANCE(40) && !(o.mem && o.m.a16)) {     /* make them equal */
            struct ib y = { .n = 0 };
            g_ib_prefixes(g, &y, size, &o, false);
            ib_put(&y, 0x8a + (size != 1));
            g_ib_modrm(&y, 0, &o);
            if (!o.mem && o.reg == 0) y.n = 0;
            if (y.n) g_emit(g, &y);
        }
        r = g_anyreg(g, size);
    }
    g_ib_prefixes(g, &x, size, &o, (k != 0 || o.mem) && want_lock(g, &o));
    if (k == 0 || k == 3) ib_put(&x, 0x86 + (size != 1));
    else { ib_put(&x, 0x0f); ib_put(&x, (k == 1 ? 0xc0 : 0xb0) + (size != 1)); }
    g_ib_modrm(&x, r, &o);
    return g_emit(g, &x) != NULL;
}

static bool t_cmpxchg8b(struct gen *g) {
    struct ib x = { .n = 0 };
    struct rm o = { .mem = true };
    if (!g_writable(g, BIT(R_EAX) | BIT(R_EDX))) return false;
    if (!g_mem_pick(g, 8, ACC_RW, 0, 0, MP_DISP32, &o.m)) return false;
    if (CHANCE(50)) {                                /* EDX:EAX := m64 so the exchange happens */
        struct rm o2 = o;
        struct ib y = { .n = 0 };
        g_ib_prefixes(g, &y, 4, &o2, false); ib_put(&y, 0x8b); g_ib_modrm(&y, R_EAX, &o2); g_emit(g, &y);
        g_mop_add_disp(&o2.m, 4);
        y.n = 0;
        g_ib_prefixes(g, &y, 4, &o2, false); ib_put(&y, 0x8b); g_ib_modrm(&y, R_EDX, &o2); g_emit(g, &y);
    }
    g_ib_prefixes(g, &x, 4, &o, want_lock(g, &o));
    ib_put(&x, 0x0f); ib_put(&x, 0xc7);
    g_ib_modrm(&x, 1, &o);
    return g_emit(g, &x) != NULL;
}

static bool t_setcc_cmov(struct gen *g) {
    struct ib x = { .n = 0 };
    struct rm o;
    if (CHANCE(50)) {
        if (!g_rm_pick(g, 1, ACC_W, mem_pct(g), &o)) return false;
        g_ib_prefixes(g, &x, 1, &o, false);
        ib_put(&x, 0x0f); ib_put(&x, 0x90 + RND(16));
        g_ib_modrm(&x, 0, &o);
    } else {
        unsigned size = CHANCE(30) ? 2 : 4;
        int d = g_wreg(g, size);
        if (d < 0 || !g_rm_pick(g, size, ACC_R, mem_pct(g), &o)) return false;
        g_ib_prefixes(g, &x, size, &o, false);
        ib_put(&x, 0x0f); ib_put(&x, 0x40 + RND(16));
        g_ib_modrm(&x, d, &o);
    }
    return g_emit(g, &x) != NULL;
}

/* MOVZX/MOVSX, CBW/CWDE, CWD/CDQ. */
static bool t_movx(struct gen *g) {
    struct ib x = { .n = 0 };
    struct rm o;
    if (CHANCE(25)) {
        bool wide = CHANCE(50);                      /* 98: eAX from AL/AX; 99: eDX from eAX */
        if (!g_writable(g, wide ? BIT(R_EDX) : BIT(R_EAX))) return false;
        unsigned size = CHANCE(40) ? 2 : 4;
        g_ib_prefixes(g, &x, size, NULL, false);
        ib_put(&x, wide ? 0x99 : 0x98);
        return g_emit(g, &x) != NULL;
    }
    unsigned dsize = CHANCE(30) ? 2 : 4, ssize = CHANCE(50) ? 1 : 2;
    int d = g_wreg(g, dsize);
    if (d < 0 || !g_rm_pick(g, ssize, ACC_R, mem_pct(g), &o)) return false;
    g_ib_prefixes(g, &x, dsize, &o, false);
    ib_put(&x, 0x0f); ib_put(&x, (CHANCE(50) ? 0xb6 : 0xbe) + (ssize == 2));
    g_ib_modrm(&x, d, &o);
    return g_emit(g, &x) != NULL;
}

/* LEA with every ModRM/SIB form (any registers: no memory is touched). */
static bool t_lea(struct gen *g) {
    unsigned size = CHANCE(25) ? 2 : 4;
    int d = g_wreg(g, size);
    if (d < 0) return false;
    struct ib x = { .n = 0 };
    bool a16 = g->a16 ? CHANCE(80) : CHANCE(5);
    if (size == 2) ib_put(&x, 0x66);
    if (a16) ib_put(&x, 0x67);
    if (CHANCE(10)) ib_put(&x, 0x3e);
    ib_put(&x, 0x8d);
    int mod = RND(3), rm = RND(8);
    ib_put(&x, mod << 6 | d << 3 | rm);
    if (a16) {
        if (mod == 1) ib_put(&x, g_rnd_val(g));
        if (mod == 2 || (mod == 0 && rm == 6)) ib_put16(&x, g_rnd_val(g));
    } else {
        int base = rm;
        if (rm == 4) {
            uint8_t sib = RND(256);
            ib_put(&x, sib);
            base = sib & 7;
        }
        if (mod == 1) ib_put(&x, g_rnd_val(g));
        if (mod == 2 || (mod == 0 && base == 5)) ib_put32(&x, g_rnd_val(g));
    }
    return g_emit(g, &x) != NULL;
}

/* LAHF/SAHF, CLC/STC/CMC, CLD/STD. */
static bool t_flagops(struct gen *g) {
    switch (RND(4)) {
    case 0:
        if (!g_writable(g, BIT(R_EAX))) return false;
        return g_emit_bytes(g, 1, 0x9f) != NULL;                          /* LAHF */
    case 1:
        if (CHANCE(50) && g_writable(g, BIT(R_EAX))) g_emit_bytes(g, 2, 0xb4, RND(256));
        return g_emit_bytes(g, 1, 0x9e) != NULL;                          /* SAHF */
    case 2: {
        static const uint8_t ops[3] = { 0xf8, 0xf9, 0xf5 };
        return g_emit_bytes(g, 1, ops[RND(3)]) != NULL;
    }
    default:
        if (g->neutral) g->df = -1;
        return g_emit_bytes(g, 1, CHANCE(50) ? 0xfc : 0xfd) != NULL;
    }
}

/* DAA DAS AAA AAS AAM AAD (invalid in 64-bit mode: rewritten). */
static bool t_bcd(struct gen *g) {
    if (!g_writable(g, BIT(R_EAX))) return false;
    int k = RND(6);
    if (CHANCE(50)) {                                /* a BCD-ish operand, sometimes from an ADD */
        uint8_t v = (RND(10) << 4) | RND(10);
        if (CHANCE(20)) v = RND(256);
        g_emit_bytes(g, 2, 0xb0, v);
        if (CHANCE(50)) g_emit_bytes(g, 2, k == 1 || k == 3 ? 0x2c : 0x04, (RND(10) << 4) | RND(10));
    }
    switch (k) {
    case 0: return g_emit_bytes(g, 1, 0x27) != NULL;
    case 1: return g_emit_bytes(g, 1, 0x2f) != NULL;
    case 2: return g_emit_bytes(g, 1, 0x37) != NULL;
    case 3: return g_emit_bytes(g, 1, 0x3f) != NULL;
    case 4: return g_emit_bytes(g, 2, 0xd4, CHANCE(60) ? 10 : CHANCE(10) ? 0 : RND(256)) != NULL;  /* AAM 0: #DE */
    default: return g_emit_bytes(g, 2, 0xd5, CHANCE(60) ? 10 : RND(256)) != NULL;
    }
}

/* XLAT: AL := [EBX + AL], with the segment overridable. */
static bool t_xlat(struct gen *g) {
    if (!(g->ptr & BIT(R_EBX)) || !g_writable(g, BIT(R_EAX))) return false;
    if (!g_mem_ok(g, g->lo[R_EBX], g->hi[R_EBX] - g->lo[R_EBX] + 256, ACC_R)) return false;
    struct ib x = { .n = 0 };
    if (CHANCE(30)) ib_put(&x, (uint8_t[]){ 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 }[RND(6)]);
    ib_put(&x, 0xd7);
    return g_emit(g, &x) != NULL;
}

/* NOP forms, BOUND (#BR), and rarely-used one-byte instructions. */
static bool t_misc(struct gen *g) {
    struct ib x = { .n = 0 };
    switch (RND(4)) {
    case 0:
        return g_emit_bytes(g, 1, 0x90) != NULL;
    case 1: return g_emit_bytes(g, 3, 0x0f, 0x1f, 0x00) != NULL;          /* nop dword [eax] */
    case 2: return g_emit_bytes(g, 5, 0x0f, 0x1f, 0x44, 0x00, 0x00) != NULL;
    default: {                                       /* BOUND r, m16&16 / m32&32 */
        unsigned size = CHANCE(30) ? 2 : 4;
        struct rm o = { .mem = true };
        if (!g_mem_pick(g, 2 * size, ACC_R, 0, 0, MP_EXACT, &o.m)) return false;
        if (CHANCE(60)) {                            /* make the bounds pass (usually) */
            long i = dt_mem_index(o.m.ea);
            uint32_t lo = size == 2 ? 0x8000 : 0x80000000u, hi = size == 2 ? 0x7fff : 0x7fffffff;
            if (CHANCE(30)) { lo = RND(100); hi = lo + RND(1000); }
            if (i >= 0 && dt_mem_index(o.m.ea + 2 * size - 1) == i + 2 * size - 1) {
                memcpy(g->c->in.mem + i, &lo, size);
                memcpy(g->c->in.mem + i + size, &hi, size);
            }
        }
        g_ib_prefixes(g, &x, size, &o, false);
        ib_put(&x, 0x62);
        g_ib_modrm(&x, g_anyreg(g, size), &o);
        return g_emit(g, &x) != NULL;
    }
    }
}

/* Traps and faults the monitor must report with the right EIP:
 * INT3, INT n, INTO (OF=1), UD2. */
static bool t_trap(struct gen *g) {
    switch (RND(5)) {
    case 0: return g_emit_bytes(g, 1, 0xcc) != NULL;
    case 1: return g_emit_bytes(g, 2, 0xcd, 0x20 + RND(0xe0)) != NULL;
    case 2: if (CHANCE(50)) g_emit_bytes(g, 6, 0x81, 0xf8 | RND(8), 0, 0, 0, 0x80); /* cmp r,0x80000000: OF varies */
            return g_emit_bytes(g, 1, 0xce) != NULL;
    case 3: return g_emit_bytes(g, 2, 0x0f, 0x0b) != NULL;
    default: return g_emit_bytes(g, 2, 0xd4, 0) != NULL;                  /* AAM 0: #DE */
    }
}

const struct tmpl tmpl_int[] = {
    { "alu", t_alu, 6, false, true },
    { "alu", t_test_not_neg, 2, false, true },
    { "alu", t_mov, 3, false, true },
    { "incdec", t_incdec, 3, false, true },
    { "shift", t_shift, 5, false, true },
    { "shld", t_shld, 3, false, true },
    { "muldiv", t_mul, 3, false, true },
    { "muldiv", t_div, 3, false, false },
    { "bit", t_bt, 4, false, true },
    { "bit", t_bsf, 2, false, true },
    { "bit", t_bswap, 1, false, true },
    { "xchg", t_xchg, 4, false, true },
    { "xchg", t_cmpxchg8b, 2, false, true },
    { "cond", t_setcc_cmov, 4, false, true },
    { "movx", t_movx, 4, false, true },
    { "lea", t_lea, 4, false, true },
    { "flags", t_flagops, 3, false, true },
    { "bcd", t_bcd, 4, false, true },
    { "xlat", t_xlat, 3, false, true },
    { "misc", t_misc, 3, false, false },
    { "trap", t_trap, 3, false, false },
};
const int tmpl_int_n = sizeof tmpl_int / sizeof tmpl_int[0];
