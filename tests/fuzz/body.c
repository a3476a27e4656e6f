/* body — the random part of a kernel: instructions drawn from a table of
 * forms (with random prefixes, ModRM/SIB operands and values that point
 * into the scratch area, near 0 and 4 GiB, or to open bus), random bytes,
 * or I/O to random ports. Encodings: SDM vol. 2, appendix A. */
#include "kernel.h"
#include "../diff/rng.h"      /* splitmix64, shared with the differential tester */

#define R(n) rng_below(b->rng, n)
#define CHANCE(p) rng_chance(b->rng, p)

uint32_t body_value(uint64_t *rng)
{
    switch (rng_below(rng, 10)) {
    case 0: return rng_below(rng, 16);
    case 1: return 0u - 1 - rng_below(rng, 16);
    case 2: return (uint32_t)rng_next(rng);
    case 3: return rng_below(rng, 16u << 20);             /* RAM (-m 16) */
    case 4: return IMG_BODY + rng_below(rng, 0x100);
    default: return IMG_SCRATCH + rng_below(rng, IMG_SCRATCH_LEN);
    }
}

/* A value for a register or an absolute address: diff kernels keep to
 * the scratch area, where Unicorn's memory is the same as bt86's. */
static uint32_t value(struct body_ctx *b)
{
    return b->d->body == BODY_DIFF ? diff_value(b->rng) : body_value(b->rng);
}

/* An absolute address: diff kernels' stay in the scratch area. */
static uint32_t address(struct body_ctx *b)
{
    return b->d->body == BODY_DIFF ? IMG_SCRATCH + R(IMG_SCRATCH_LEN - 16) : body_value(b->rng);
}

static void emit_prefixes(struct body_ctx *b)
{
    static const uint8_t pf[] = { 0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };
    static const uint8_t diff[] = { 0x66, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };
    /* Diff kernels: no LOCK (Unicorn runs non-lockable LOCK forms, or
     * aborts), no F2/F3 (F3 0F BC is TZCNT there), no 67 (16-bit
     * addresses land in the low MiB, where bt86 keeps firmware tables). */
    bool d = b->d->body == BODY_DIFF;
    while (CHANCE(12))
        code_byte(b->c, d ? diff[R(sizeof diff)] : pf[R(sizeof pf)]);
}

/* ModRM (+SIB, displacement) with `reg`; memory operands mostly. */
static void modrm(struct body_ctx *b, unsigned reg, bool mem_only)
{
    struct code *c = b->c;
    unsigned mod = mem_only || CHANCE(75) ? R(3) : 3, rm = R(8);
    /* Diff kernels: addresses that stay in the scratch area (absolute
     * ones, small displacements, no index), so that Unicorn can compare. */
    bool diff = b->d->body == BODY_DIFF;
    if (diff && mod != 3 && CHANCE(40)) {
        mod = 0;
        rm = 5;
    }
    code_byte(c, (uint8_t)(mod << 6 | (reg & 7) << 3 | rm));
    if (mod == 3)
        return;
    if (rm == 4)
        code_byte(c, diff ? (uint8_t)(0x20 | R(8)) : (uint8_t)R(256));     /* diff: index none */
    if (diff && rm == 4 && mod == 0 && (c->p[c->len - 1] & 7) == 5)
        code_u32(c, address(b));                                        /* SIB: no base, disp32 */
    if (mod == 1)
        code_byte(c, (uint8_t)R(256));
    else if (mod == 2 || (mod == 0 && rm == 5))
        code_u32(c, mod == 0 ? address(b) : (CHANCE(70) || diff ? R(0x100) : (uint32_t)rng_next(b->rng)));
}

static const uint16_t selectors[] = { 0, 0x08, 0x10, 0x1b, 0x23, 0x28, 0x30, 0x38, 0x40, 0x48,
                                      0x50, 0x5b, 0x60, 0x68, 0x70, 0x78, 0x04, 0x0c, 0x0f, 0x13,
                                      0x29, 0x2b, 0x7b, 0xfff8 };
static uint16_t sel(struct body_ctx *b) { return selectors[R(sizeof selectors / sizeof *selectors)]; }

/* mov ax, sel (16-bit) */
static void load_ax_sel(struct body_ctx *b) { code_bytes(b->c, "\x66\xb8", 2); code_u16(b->c, sel(b)); }

static void f_alu(struct body_ctx *b)
{
    code_byte(b->c, (uint8_t)(R(8) << 3 | R(4)));
    modrm(b, R(8), false);
}

static void f_alu_imm(struct body_ctx *b)
{
    uint8_t op = (uint8_t)(0x80 + R(4));
    code_byte(b->c, op);
    modrm(b, R(8), false);
    if (op == 0x81) code_u32(b->c, value(b));
    else code_byte(b->c, (uint8_t)R(256));
}

static void f_mov(struct body_ctx *b)
{
    switch (R(4)) {
    case 0: code_byte(b->c, (uint8_t)(0x88 + R(4))); modrm(b, R(8), false); break;
    case 1: code_byte(b->c, 0xc7); modrm(b, 0, false); code_u32(b->c, value(b)); break;
    case 2: code_byte(b->c, (uint8_t)(0xa0 + R(4))); code_u32(b->c, address(b)); break;
    default: {
        unsigned r = R(8);
        if (r == 4 && CHANCE(80)) r = 0;
        code_byte(b->c, (uint8_t)(0xb8 + r)); code_u32(b->c, r == 4 ? IMG_STACK_TOP - R(64) : value(b));
    }
    }
}

static void f_shift_unary(struct body_ctx *b)
{
    static const uint8_t ops[] = { 0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3, 0xf6, 0xf7, 0xfe, 0xff };
    uint8_t op = ops[R(sizeof ops)];
    unsigned reg = R(8);
    if (op == 0xfe) reg &= 1;
    if (op == 0xff) reg = R(2) ? reg & 1 : 6;                  /* inc dec push */
    code_byte(b->c, op);
    modrm(b, reg, false);
    if (op == 0xc0 || op == 0xc1 || ((op == 0xf6) && reg < 2)) code_byte(b->c, (uint8_t)R(256));
    if (op == 0xf7 && reg < 2) code_u32(b->c, (uint32_t)rng_next(b->rng));
}

static void f_0f_int(struct body_ctx *b)
{
    static const uint8_t ops[] = { 0xa3, 0xab, 0xb3, 0xbb, 0xba, 0xbc, 0xbd, 0xb6, 0xb7, 0xbe, 0xbf,
                                   0x90, 0x94, 0x9f, 0x40, 0x45, 0x4f, 0xa4, 0xa5, 0xac, 0xad,
                                   0xc0, 0xc1, 0xb0, 0xb1, 0xc7, 0xc8, 0xaf };
    uint8_t op = ops[R(sizeof ops)];
    code_byte(b->c, 0x0f);
    code_byte(b->c, op == 0xc8 ? (uint8_t)(0xc8 + R(8)) : op);
    if (op == 0xc8) return;                                   /* BSWAP */
    unsigned reg = op == 0xba ? 4 + R(4) : op == 0xc7 ? 1 : R(8);
    modrm(b, reg, op == 0xc7);                                /* CMPXCHG8B m64 */
    if (op == 0xba || op == 0xa4 || op == 0xac) code_byte(b->c, (uint8_t)R(256));
}

static void f_stack(struct body_ctx *b)
{
    struct code *c = b->c;
    switch (R(9)) {
    case 0: code_byte(c, (uint8_t)(0x50 + R(8))); break;
    case 1: code_byte(c, (uint8_t)(0x58 + R(8))); break;
    case 2: code_byte(c, 0x68); code_u32(c, value(b)); break;
    case 3: code_byte(c, 0x6a); code_byte(c, (uint8_t)R(256)); break;
    case 4: code_byte(c, 0xff); modrm(b, 6, true); break;      /* push m */
    case 5: code_byte(c, 0x8f); modrm(b, 0, true); break;      /* pop m */
    case 6: code_byte(c, (uint8_t)(0x60 + R(2))); break;       /* pusha popa */
    case 7: code_byte(c, 0xc8); code_u16(c, (uint16_t)R(64)); code_byte(c, (uint8_t)R(4)); break;  /* enter */
    default: code_byte(c, 0xc9); break;                        /* leave */
    }
}

/* POPF / IRET with random flags: never TF (not modelled), VM or NT
 * (task return) unless asked for by random bytes. */
static uint32_t rand_flags(struct body_ctx *b)
{
    return 2 | ((uint32_t)rng_next(b->rng) & (0x8d5 | 0x600 | 0x3000 | 0x40000 | 0x200000));
}

static void f_popf(struct body_ctx *b)
{
    if (CHANCE(50)) { code_byte(b->c, 0x9c); }                 /* pushf; popf */
    else { code_byte(b->c, 0x68); code_u32(b->c, rand_flags(b)); }
    if (CHANCE(15)) code_byte(b->c, 0x66);
    code_byte(b->c, 0x9d);
}

static void f_branch(struct body_ctx *b)
{
    struct code *c = b->c;
    switch (R(6)) {
    case 0: code_byte(c, (uint8_t)(0x70 + R(16))); code_byte(c, (uint8_t)R(4)); break;
    case 1: code_byte(c, 0xeb); code_byte(c, (uint8_t)R(4)); break;
    case 2: code_byte(c, 0xe8); code_u32(c, R(3)); break;      /* call forward */
    case 3: code_byte(c, (uint8_t)(CHANCE(50) ? 0xc3 : 0xc2)); if (c->p[c->len - 1] == 0xc2) code_u16(c, (uint16_t)R(16)); break;
    case 4: code_byte(c, 0xff); modrm(b, 2 + 2 * R(2), false); break;   /* call/jmp r/m */
    default: code_byte(c, (uint8_t)(0xe0 + R(4))); code_byte(c, (uint8_t)R(3)); break;  /* loop jcxz */
    }
}

static void f_string(struct body_ctx *b)
{
    static const uint8_t ops[] = { 0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xd7 };
    if (CHANCE(60)) code_byte(b->c, CHANCE(70) ? 0xf3 : 0xf2);
    if (CHANCE(15)) code_byte(b->c, 0x67);
    if (CHANCE(15)) code_byte(b->c, 0x66);
    code_byte(b->c, ops[R(sizeof ops)]);
}

static void f_segload(struct body_ctx *b)
{
    struct code *c = b->c;
    static const uint8_t sregs[] = { 0, 2, 3, 4, 5 };          /* es ss ds fs gs */
    static const uint8_t pops[] = { 0x07, 0x17, 0x1f };
    switch (R(5)) {
    case 0: load_ax_sel(b); code_byte(c, 0x8e); code_byte(c, (uint8_t)(0xc0 | sregs[R(5)] << 3)); break;
    case 1: code_byte(c, 0x68); code_u32(c, sel(b));
            if (CHANCE(50)) code_byte(c, pops[R(3)]); else { code_byte(c, 0x0f); code_byte(c, CHANCE(50) ? 0xa1 : 0xa9); }
            break;
    case 2: {                                                  /* lds/les/lss/lfs/lgs r, m */
        static const uint8_t l[][2] = { { 0xc5, 0 }, { 0xc4, 0 }, { 0x0f, 0xb2 }, { 0x0f, 0xb4 }, { 0x0f, 0xb5 } };
        int k = R(5);
        code_byte(c, l[k][0]); if (l[k][1]) code_byte(c, l[k][1]);
        modrm(b, R(8), true);
        break;
    }
    case 3: code_byte(c, 0x8c); modrm(b, R(6), false); break;   /* mov r/m, sreg */
    default: code_byte(c, (uint8_t)(0x06 + 8 * R(4))); break;   /* push es cs ss ds */
    }
}

static void f_far(struct body_ctx *b)
{
    struct code *c = b->c;
    uint16_t s = CHANCE(70) ? SEL_CODE0 : sel(b);
    switch (R(5)) {
    case 0: code_byte(c, 0xea); code_u32(c, code_here(c) + 6); code_u16(c, s); break;
    case 1: code_byte(c, 0x9a); code_u32(c, code_here(c) + 6); code_u16(c, s); break;
    case 2: code_byte(c, 0x68); code_u32(c, s);                /* push cs; push eip; retf */
            code_byte(c, 0x68); code_u32(c, code_here(c) + 5); code_byte(c, 0xcb); break;
    case 3: code_byte(c, 0xff); modrm(b, CHANCE(50) ? 3 : 5, true); break;   /* call/jmp far m */
    default: code_byte(c, 0xca); code_u16(c, (uint16_t)R(8)); break;        /* retf imm */
    }
}

static void f_iret(struct body_ctx *b)
{
    struct code *c = b->c;
    bool ring3 = CHANCE(25);
    if (ring3) {
        code_byte(c, 0x6a); code_byte(c, SEL_DATA3);           /* ss */
        code_byte(c, 0x68); code_u32(c, IMG_STACK_TOP - 0x1000);
    }
    code_byte(c, 0x68); code_u32(c, rand_flags(b) & ~0x4000u);
    code_byte(c, 0x6a); code_byte(c, ring3 ? SEL_CODE3 : CHANCE(90) ? SEL_CODE0 : (uint8_t)sel(b));
    code_byte(c, 0x68); code_u32(c, code_here(c) + 5);
    code_byte(c, 0xcf);
}

static void f_int(struct body_ctx *b)
{
    struct code *c = b->c;
    switch (R(6)) {
    case 0: code_byte(c, 0xcc); break;
    case 1: code_byte(c, 0xce); break;                          /* into */
    case 2: code_byte(c, 0x62); modrm(b, R(8), true); break;    /* bound */
    case 3: code_byte(c, 0xd4); code_byte(c, (uint8_t)R(3)); break;   /* aam (0: #DE) */
    default: code_byte(c, 0xcd); code_byte(c, CHANCE(50) ? 0x20 : (uint8_t)R(256)); break;
    }
}

static void f_crn(struct body_ctx *b)
{
    struct code *c = b->c;
    unsigned cr = (unsigned[]){ 0, 2, 3, 4 }[R(4)];
    if (CHANCE(30)) {                                          /* mov r, crN */
        code_bytes(c, "\x0f\x20", 2); code_byte(c, (uint8_t)(0xc0 | cr << 3 | R(8)));
        return;
    }
    code_bytes(c, "\x0f\x20", 2); code_byte(c, (uint8_t)(0xc0 | cr << 3));   /* mov eax, crN */
    /* Toggle one bit the SDM lets ring 0 change: CR0 TS EM MP WP NE AM PG
     * CD (never PE: real mode is out of scope), CR4 PSE TSD DE OSFXSR
     * OSXMMEXCPT PGE PAE and two reserved ones, CR3 to the directory or
     * anywhere. */
    static const uint32_t cr0b[] = { 8, 4, 2, 0x10000, 0x20, 0x40000, 0x80000000u, 0x40000000 };
    static const uint32_t cr4b[] = { 0x10, 4, 8, 0x200, 0x400, 0x80, 0x20, 1 << 14, 0x800 };
    switch (cr) {
    case 0: code_byte(c, 0x35); code_u32(c, cr0b[R(8)]); break;
    case 4: code_byte(c, 0x35); code_u32(c, cr4b[R(9)]); break;
    case 3: code_byte(c, 0xb8); code_u32(c, CHANCE(70) ? IMG_PD : body_value(b->rng) & ~0xfffu); break;
    default: code_byte(c, 0xb8); code_u32(c, body_value(b->rng)); break;
    }
    code_bytes(c, "\x0f\x22", 2); code_byte(c, (uint8_t)(0xc0 | cr << 3));
}

static void f_dt(struct body_ctx *b)
{
    struct code *c = b->c;
    switch (R(6)) {
    case 0: case 1: {                                          /* lgdt/lidt/sgdt/sidt [scratch or random] */
        unsigned reg = R(4);
        code_bytes(c, "\x0f\x01", 2);
        if (CHANCE(70)) { code_byte(c, (uint8_t)(reg << 3 | 5)); code_u32(c, IMG_SCRATCH + (reg & 1) * 8); }
        else modrm(b, reg, true);
        break;
    }
    case 2: load_ax_sel(b); code_bytes(c, "\x0f\x00", 2); code_byte(c, (uint8_t)(0xc0 | (2 + R(2)) << 3)); break;  /* lldt/ltr ax */
    case 3: code_bytes(c, "\x0f\x00", 2); modrm(b, R(6), false); break;   /* sldt str lldt ltr verr verw */
    case 4: load_ax_sel(b); code_byte(c, 0x0f); code_byte(c, CHANCE(50) ? 0x02 : 0x03); code_byte(c, (uint8_t)(0xc0 | R(8) << 3)); break;  /* lar lsl */
    default: code_bytes(c, "\x0f\x01", 2); modrm(b, 4 + 2 * R(2), false); break;   /* smsw lmsw */
    }
}

static void f_x87(struct body_ctx *b)
{
    struct code *c = b->c;
    if (CHANCE(25)) {
        static const char *const one[] = { "\xd9\xe8", "\xd9\xee", "\xd9\xfa", "\xd9\xe0", "\xd9\xe1", "\xde\xc1",
                                           "\xd9\xc9", "\xdb\xe3", "\x9b", "\xdf\xe0", "\xd9\xfe", "\xd9\xf8" };
        const char *s = one[R(12)];
        code_bytes(c, s, s[1] ? 2 : 1);
        return;
    }
    code_byte(c, (uint8_t)(0xd8 + R(8)));
    modrm(b, R(8), false);
}

static void f_sse(struct body_ctx *b)
{
    struct code *c = b->c;
    static const uint8_t ops[] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x28, 0x29, 0x2a, 0x2c, 0x2d, 0x2e, 0x2f,
                                   0x51, 0x54, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x62, 0x64,
                                   0x67, 0x6e, 0x6f, 0x70, 0x74, 0x7e, 0x7f, 0xc2, 0xc6, 0xd4, 0xd6, 0xdb, 0xe5, 0xe7,
                                   0xeb, 0xef, 0xf4, 0xfe, 0x2b, 0xc3, 0x77, 0xae, 0xf7, 0xd7, 0xc4, 0xc5 };
    uint8_t op = ops[R(sizeof ops)];
    if (op != 0x77 && op != 0xae && CHANCE(50)) code_byte(c, (uint8_t)(uint8_t[]){ 0x66, 0xf2, 0xf3 }[R(3)]);
    code_byte(c, 0x0f);
    code_byte(c, op);
    if (op == 0x77) return;                                    /* emms */
    if (op == 0xae) { modrm(b, R(4), true); return; }          /* fxsave fxrstor ldmxcsr stmxcsr */
    if (op == 0xf7 || op == 0xd7) {                            /* maskmov, pmovmskb: registers */
        code_byte(c, (uint8_t)(0xc0 | R(64)));
        return;
    }
    modrm(b, R(8), false);
    if (op == 0x70 || op == 0xc2 || op == 0xc6 || op == 0xc4 || op == 0xc5) code_byte(c, (uint8_t)R(256));
}

static void f_misc(struct body_ctx *b)
{
    static const char *const one[] = {
        "\x0f\xa2", "\x0f\x31", "\x0f\x32", "\xfa", "\xfb", "\xf4", "\x9e", "\x9f", "\x99", "\x27", "\x0f\x06",
        "\x0f\x09", "\x0f\x0b", "\xf5", "\xf8", "\xf9", "\xfc", "\xfd", "\xd6", "\x90", "\x0f\x01\xf8" };
    struct code *c = b->c;
    switch (R(6)) {
    case 0: code_bytes(c, "\x0f\x01", 2); modrm(b, 7, true); break;     /* invlpg */
    case 1: code_bytes(c, "\x0f\x21", 2); code_byte(c, (uint8_t)(0xc0 | R(64))); break;  /* mov r, drN */
    case 2: code_byte(c, 0x63); modrm(b, R(8), false); break;          /* arpl */
    default: { const char *s = one[R(21)]; code_bytes(c, s, s[1] ? (s[2] ? 3 : 2) : 1); }
    }
}

/* Ports in/out may hit: the devices, their neighbours, random. Never
 * isa-debug-exit's (it ends the run) unless asked for. */
static uint16_t port(struct body_ctx *b)
{
    static const uint16_t p[] = { 0x20, 0x21, 0xa0, 0xa1, 0x40, 0x41, 0x42, 0x43, 0x61, 0x70, 0x71, 0x60,
                                  0x64, 0x80, 0x92, 0xe9, 0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe,
                                  0x3ff, 0x2f8, 0xcf8, 0xcfc, 0xcfe, 0x4d0, 0x4d1 };
    if (CHANCE(85))
        return p[R(sizeof p / sizeof *p)];
    uint16_t r = (uint16_t)R(0x10000);
    return r >= 0xf4 && r <= 0xf7 ? 0x80 : r;
}

static void f_io(struct body_ctx *b)
{
    struct code *c = b->c;
    uint16_t pt;
    do pt = CHANCE(50) ? (uint16_t)R(0x400) : (uint16_t)R(0x10000);
    while ((pt >= 0x20 && pt <= 0x21) || (pt >= 0xa0 && pt <= 0xa1) || (pt >= 0x40 && pt <= 0x43) ||
           (pt >= 0xf4 && pt <= 0xf7));   /* keep the timer that ends idle runs */
    code_byte(c, 0xba); code_u32(c, pt);                         /* mov edx, port */
    static const uint8_t ops[] = { 0xec, 0xed, 0xee, 0xef, 0x6c, 0x6d, 0x6e, 0x6f };
    uint8_t op = ops[R(8)];
    if (op >= 0x6c && CHANCE(50)) code_byte(c, 0xf3);
    if (CHANCE(20)) code_byte(c, 0x66);
    code_byte(c, op);
}

static void f_bytes(struct body_ctx *b)
{
    for (unsigned n = 1 + R(4); n; n--) code_byte(b->c, (uint8_t)R(256));
}

struct form { void (*gen)(struct body_ctx *); int weight; };

/* n instructions drawn from t by weight, each after random prefixes. */
static int emit_forms(struct body_ctx *b, int n, const struct form *t, size_t nt)
{
    int total = 0, k;
    for (size_t i = 0; i < nt; i++) total += t[i].weight;
    for (k = 0; k < n && code_room(b->c, 32); k++) {
        int w = (int)R((uint32_t)total);
        size_t i = 0;
        while (w >= t[i].weight) w -= t[i++].weight;
        emit_prefixes(b);
        t[i].gen(b);
    }
    return k;
}

static const struct form forms[] = {
    { f_alu, 10 }, { f_alu_imm, 6 }, { f_mov, 14 }, { f_shift_unary, 6 }, { f_0f_int, 6 }, { f_stack, 8 },
    { f_popf, 3 }, { f_branch, 4 }, { f_string, 5 }, { f_segload, 4 }, { f_far, 3 }, { f_iret, 2 },
    { f_int, 2 }, { f_crn, 3 }, { f_dt, 3 }, { f_x87, 6 }, { f_sse, 6 }, { f_misc, 3 }, { f_io, 2 },
    { f_bytes, 1 },
};

int body_insns(struct body_ctx *b, int n)
{
    return emit_forms(b, n, forms, sizeof forms / sizeof *forms);
}

void body_bytes(struct body_ctx *b, int n)
{
    for (int i = 0; i < n; i++) code_byte(b->c, (uint8_t)R(256));
}

/* I/O: random ports and values, byte/word/dword, string forms, with the
 * PIC vectors returning (kernel.c) and interrupts on; the body loops until
 * the tick budget ends it. Unmasking random IRQ lines is part of it. */
void body_io(struct body_ctx *b, int n)
{
    struct code *c = b->c;
    uint32_t top = code_here(c);
    code_byte(c, 0xfb);                                          /* sti */
    for (int i = 0; i < n && code_room(c, 32); i++) {
        uint16_t pt = port(b);
        uint32_t v = CHANCE(50) ? R(256) : (uint32_t)rng_next(b->rng);
        if (pt == 0x21) v &= ~1u;                                /* the timer stays unmasked */
        if (pt == 0x43 || pt == 0x40) pt = 0x42;                 /* and at its rate */
        code_byte(c, 0xba); code_u32(c, pt);                     /* mov edx, port */
        code_byte(c, 0xb8); code_u32(c, v);                      /* mov eax, v */
        code_byte(c, 0xbf); code_u32(c, IMG_SCRATCH + R(0x100)); /* edi, esi: buffers */
        code_byte(c, 0xbe); code_u32(c, IMG_SCRATCH + R(0x100));
        code_byte(c, 0xb9); code_u32(c, R(8));                   /* ecx: a REP count */
        static const uint8_t ops[] = { 0xec, 0xed, 0xee, 0xef, 0x6c, 0x6d, 0x6e, 0x6f, 0xe4, 0xe6 };
        uint8_t op = ops[R(10)];
        if (op >= 0x6c && op <= 0x6f && CHANCE(50)) code_byte(c, 0xf3);
        if (op != 0xe4 && op != 0xe6 && CHANCE(25)) code_byte(c, 0x66);
        code_byte(c, op);
        if (op == 0xe4 || op == 0xe6) code_byte(c, (uint8_t)(pt < 0x100 ? pt : 0x80));
    }
    code_byte(c, 0xe9); code_u32(c, top - (code_here(c) + 4));   /* again */
}

/* BODY_DIFF: the forms Unicorn 2.0.1 runs as the SDM says
 * (tests/diff/unicorn-quirks.md): integer ALU, MOV, shifts, MUL/DIV, the
 * 0F integer forms, the stack, strings, forward branches, INT n (never
 * one of the vectors with an error code, which the report could not tell
 * from the exception), INT3, INTO, BOUND, AAM. */
static void f_branch_fwd(struct body_ctx *b)
{
    struct code *c = b->c;
    switch (R(4)) {
    case 0: code_byte(c, (uint8_t)(0x70 + R(16))); code_byte(c, (uint8_t)R(4)); break;
    case 1: code_byte(c, 0xeb); code_byte(c, (uint8_t)R(4)); break;
    case 2: code_byte(c, 0xe8); code_u32(c, R(3)); break;
    default: code_byte(c, (uint8_t)(0xe0 + R(4))); code_byte(c, (uint8_t)R(3)); break;
    }
}

static void f_int_diff(struct body_ctx *b)
{
    struct code *c = b->c;
    uint8_t v;
    switch (R(5)) {
    case 0: code_byte(c, 0xcc); return;
    case 1: code_byte(c, 0xce); return;                         /* into */
    case 2: code_byte(c, 0x62); modrm(b, R(8), true); return;   /* bound */
    case 3: code_byte(c, 0xd4); code_byte(c, (uint8_t)R(3)); return;   /* aam (0: #DE) */
    default:
        do v = (uint8_t)R(256);
        while (v == 8 || (v >= 10 && v <= 14) || v == 17);
        code_byte(c, 0xcd); code_byte(c, v);
    }
}

int body_diff(struct body_ctx *b, int n)
{
    static const struct form diff_forms[] = {
        { f_alu, 10 }, { f_alu_imm, 6 }, { f_mov, 14 }, { f_shift_unary, 6 }, { f_0f_int, 6 },
        { f_stack, 8 }, { f_string, 3 }, { f_branch_fwd, 4 }, { f_int_diff, 1 },
    };
    return emit_forms(b, n, diff_forms, sizeof diff_forms / sizeof *diff_forms);
}
