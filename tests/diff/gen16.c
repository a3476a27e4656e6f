/* gen16 — 16-bit real-mode sequences for --real (dt.h): random
 * instructions of 16-bit code, sound by construction rather than through
 * the 32-bit generator's interval tracking:
 *
 *  - Segments: CS = DT_CODE >> 4 (code at IP 0), DS = ES = FS =
 *    DT_DATA >> 4, SS = GS = DT_STACK >> 4, SP = DT16_SP; the upper halves of
 *    every register (ESP's too) are random, so a 16-bit operation that
 *    touched them would show.
 *  - Pointers: BX, SI, DI and BP hold offsets below 0x800 and are written
 *    only by the templates that keep them there (strings reload SI, DI,
 *    CX; ENTER/LEAVE restore BP). A memory operand is [base + index +
 *    disp] with disp < 0x400, so every access lies below 0x1400 in its
 *    segment's two pages, under the live stack (which starts at DT16_SP
 *    and is only used in balanced pairs).
 *  - Data registers AX, CX, DX (and their bytes, and their 32-bit forms)
 *    take any value.
 *  - Flags: a template that may leave an arithmetic flag undefined (logic
 *    ops' AF, multiplies, shifts, BT) marks them dirty; a flag-defining
 *    CMP is emitted before anything that reads flags (Jcc, ADC, SETcc,
 *    PUSHF, LAHF, ...) and at the end, so every compared flag is defined
 *    (the reference's 32-bit trace analysis does not run on 16-bit code).
 *
 * Function bodies (near CALL/RET, RET imm16, far CALL/RETF, CALL through
 * memory and a register) sit at FN_AT, after the stop address. */
#include <string.h>

#include "dt.h"
#include "rng.h"

#define FN_AT 0x1800u           /* function bodies, CS offset */
#define NFN 4

struct g16 {
    uint64_t r;
    uint8_t *code;
    uint32_t n, fn[NFN];
    bool dirty;
};

#define RND(n) rng_below(&g->r, (n))
#define CHANCE(p) rng_chance(&g->r, (p))

static void b1(struct g16 *g, uint8_t v) { g->code[g->n++] = v; }
static void b2(struct g16 *g, uint32_t v) { b1(g, (uint8_t)v); b1(g, (uint8_t)(v >> 8)); }
static void b4(struct g16 *g, uint32_t v) { b2(g, v); b2(g, v >> 16); }

static const uint8_t data_reg[3] = { 0, 1, 2 };             /* AX CX DX */
static const uint8_t data_reg8[6] = { 0, 1, 2, 4, 5, 6 };   /* AL CL DL AH CH DH */
static int dreg(struct g16 *g) { return data_reg[RND(3)]; }

/* A flag-defining CMP between two data registers. */
static void define_flags(struct g16 *g)
{
    b1(g, 0x39);
    b1(g, (uint8_t)(0xc0 | dreg(g) << 3 | dreg(g)));
    g->dirty = false;
}
static void reads_flags(struct g16 *g) { if (g->dirty) define_flags(g); }

/* ModRM (reg field `reg`) and displacement of a 16-bit memory operand. */
static void mem16(struct g16 *g, int reg)
{
    int rm = (int)RND(8), mod = (int)RND(3);
    if (mod == 0 && rm == 6) {          /* [disp16] */
        b1(g, (uint8_t)(reg << 3 | 6));
        b2(g, RND(0x1000));
        return;
    }
    if (mod == 0 && rm != 6) {
        b1(g, (uint8_t)(reg << 3 | rm));
        return;
    }
    if (rm == 6 && mod == 0)
        mod = 1;
    b1(g, (uint8_t)(mod << 6 | reg << 3 | rm));
    if (mod == 1)
        b1(g, (uint8_t)RND(0x80));
    else
        b2(g, RND(0x400));
}

static void seg_prefix(struct g16 *g)
{
    static const uint8_t pfx[4] = { 0x26, 0x64, 0x65, 0x36 };  /* ES FS GS SS: all data bases */
    if (CHANCE(20))
        b1(g, pfx[RND(4)]);
}

static void t_alu(struct g16 *g)
{
    int op = (int)RND(8), form = (int)RND(5);
    bool w32 = CHANCE(20);

    if (op == 2 || op == 3)             /* ADC, SBB read CF */
        reads_flags(g);
    if (form == 0) {                    /* r8, r8 */
        b1(g, (uint8_t)(op << 3 | 0));
        b1(g, (uint8_t)(0xc0 | RND(8) << 3 | data_reg8[RND(6)]));
    } else if (form == 1) {             /* r16/32, r16/32 */
        if (w32) b1(g, 0x66);
        b1(g, (uint8_t)(op << 3 | 1));
        b1(g, (uint8_t)(0xc0 | RND(8) << 3 | dreg(g)));
    } else if (form == 2) {             /* r16, imm */
        if (w32) b1(g, 0x66);
        bool short_imm = CHANCE(50);
        b1(g, short_imm ? 0x83 : 0x81);
        b1(g, (uint8_t)(0xc0 | op << 3 | dreg(g)));
        if (short_imm) b1(g, (uint8_t)RND(256));
        else if (w32) b4(g, (uint32_t)rng_next(&g->r));
        else b2(g, RND(0x10000));
    } else if (form == 3) {             /* r, [mem] */
        seg_prefix(g);
        if (w32) b1(g, 0x66);
        b1(g, (uint8_t)(op << 3 | 3));
        mem16(g, dreg(g));
    } else {                            /* [mem], r */
        seg_prefix(g);
        b1(g, (uint8_t)(op << 3 | 1));
        mem16(g, (int)RND(8));
    }
    g->dirty = op == 1 || op == 4 || op == 6;   /* OR AND XOR: AF undefined */
}

static void t_mov(struct g16 *g)
{
    switch (RND(7)) {
    case 0: b1(g, (uint8_t)(0xb8 + dreg(g))); b2(g, RND(0x10000)); break;
    case 1: b1(g, 0x66); b1(g, (uint8_t)(0xb8 + dreg(g))); b4(g, (uint32_t)rng_next(&g->r)); break;
    case 2: if (CHANCE(15)) b1(g, 0x2e); else seg_prefix(g);     /* cs: reads the code */
            b1(g, 0x8b); mem16(g, dreg(g)); break;
    case 3: seg_prefix(g); b1(g, 0x89); mem16(g, (int)RND(8)); break;
    case 4: seg_prefix(g); b1(g, 0xc7); mem16(g, 0); b2(g, RND(0x10000)); break;
    case 5: b1(g, (uint8_t)(0xa0 + RND(4))); b2(g, RND(0x1000)); break;   /* moffs16 */
    default: seg_prefix(g); b1(g, 0x8a); mem16(g, data_reg8[RND(6)]); break;
    }
}

static void t_incdec(struct g16 *g)
{
    reads_flags(g);                     /* CF is kept: define it first */
    if (CHANCE(20)) b1(g, 0x66);
    b1(g, (uint8_t)((CHANCE(50) ? 0x40 : 0x48) + dreg(g)));
}

static void t_pushpop(struct g16 *g)
{
    bool w32 = CHANCE(25);
    switch (RND(5)) {
    case 0:                             /* push reg; pop data reg */
        if (w32) b1(g, 0x66);
        b1(g, (uint8_t)(0x50 + RND(8)));
        if (w32) b1(g, 0x66);
        b1(g, (uint8_t)(0x58 + dreg(g)));
        break;
    case 1:                             /* push imm / [mem]; pop [mem] */
        if (CHANCE(50)) { b1(g, 0x68); b2(g, RND(0x10000)); }
        else { seg_prefix(g); b1(g, 0xff); mem16(g, 6); }
        seg_prefix(g);
        b1(g, 0x8f);
        mem16(g, 0);
        break;
    case 2:                             /* PUSHA/POPA */
        if (w32) b1(g, 0x66);
        b1(g, 0x60);
        if (w32) b1(g, 0x66);
        b1(g, 0x61);
        break;
    case 3:                             /* PUSHF; pop data reg */
        reads_flags(g);
        b1(g, 0x9c);
        b1(g, (uint8_t)(0x58 + dreg(g)));
        break;
    default:                            /* push segment; pop es (same base) */
        b1(g, (uint8_t)(CHANCE(50) ? 0x1e : 0x06));
        b1(g, 0x07);
        break;
    }
}

static void call_rel16(struct g16 *g, uint32_t target)
{
    b1(g, 0xe8);
    b2(g, target - (g->n + 2));
}

static void t_call(struct g16 *g)
{
    int k = (int)RND(7);
    switch (k) {
    case 6:                             /* far JMP to the next instruction, same CS */
        b1(g, 0xea); b2(g, g->n + 4); b2(g, DT_CODE >> 4);
        return;
    case 0: case 1:
        call_rel16(g, g->fn[k]);
        break;
    case 2:                             /* push an argument, RET 2 */
        b1(g, 0x6a); b1(g, (uint8_t)RND(256));
        call_rel16(g, g->fn[2]);
        break;
    case 3:                             /* far call to CS:fn, RETF */
        b1(g, 0x9a); b2(g, g->fn[3]); b2(g, DT_CODE >> 4);
        break;
    case 4:                             /* call [mem] */
        b1(g, 0xc7); b1(g, 0x06); b2(g, 0x0f00); b2(g, g->fn[0]);  /* mov word [0xf00], fn */
        b1(g, 0xff); b1(g, 0x16); b2(g, 0x0f00);                    /* call [0xf00] */
        break;
    default:                            /* mov ax, fn; call ax */
        b1(g, 0xb8); b2(g, g->fn[1]);
        b1(g, 0xff); b1(g, 0xd0);
        break;
    }
    g->dirty = true;                    /* the bodies leave flags as they like */
}

/* A short body that may run 0..n times: data registers only. */
static void neutral_body(struct g16 *g)
{
    for (int i = 0, n = 1 + (int)RND(3); i < n; i++) {
        switch (RND(3)) {
        case 0: b1(g, 0x01); b1(g, (uint8_t)(0xc0 | 2 << 3 | 0)); break;    /* add ax, dx */
        case 1: b1(g, 0x42); break;                                         /* inc dx */
        default: b1(g, 0x31); b1(g, (uint8_t)(0xc0 | 0 << 3 | 2)); break;   /* xor dx, ax */
        }
    }
    g->dirty = true;
}

static void t_jcc(struct g16 *g)
{
    reads_flags(g);
    bool near = CHANCE(30);
    uint32_t at;
    if (near) { b1(g, 0x0f); b1(g, (uint8_t)(0x80 + RND(16))); at = g->n; b2(g, 0); }
    else { b1(g, (uint8_t)(0x70 + RND(16))); at = g->n; b1(g, 0); }
    neutral_body(g);
    uint32_t d = g->n - (at + (near ? 2 : 1));
    g->code[at] = (uint8_t)d;
    if (near) g->code[at + 1] = (uint8_t)(d >> 8);
}

static void t_loop(struct g16 *g)
{
    b1(g, 0xb9); b2(g, 1 + RND(5));     /* mov cx, n */
    uint32_t top = g->n;
    neutral_body(g);
    b1(g, 0xe2);                        /* loop top */
    b1(g, (uint8_t)(top - (g->n + 1)));
}

static void t_string(struct g16 *g)
{
    static const uint8_t ops[8] = { 0xa4, 0xa5, 0xaa, 0xab, 0xac, 0xad, 0xa6, 0xaf };
    bool down = CHANCE(30);
    uint8_t op = ops[RND(8)];
    b1(g, down ? 0xfd : 0xfc);
    b1(g, 0xbe); b2(g, 0x100 + RND(0x700));    /* mov si */
    b1(g, 0xbf); b2(g, 0x100 + RND(0x700));    /* mov di */
    b1(g, 0xb9); b2(g, (op == 0xa6 || op == 0xaf) + RND(0x40));   /* mov cx (CMPS, SCAS: >= 1) */
    if (op == 0xa6 || op == 0xaf) b1(g, CHANCE(50) ? 0xf3 : 0xf2);
    else if (CHANCE(70)) b1(g, 0xf3);
    if ((op == 0xa4 || op == 0xa5 || op == 0xac || op == 0xad || op == 0xa6) && CHANCE(25))
        b1(g, CHANCE(50) ? 0x64 : 0x26);        /* source override */
    b1(g, op);
    b1(g, 0xfc);                                /* cld */
    if (op == 0xa6 || op == 0xaf)
        g->dirty = false;                       /* CMPS, SCAS define the flags (CX 0: unchanged) */
}

static void t_misc(struct g16 *g)
{
    switch (RND(12)) {
    case 0: b1(g, (uint8_t)(0x90 + 1 + RND(2))); break;                    /* xchg ax, cx/dx */
    case 1: seg_prefix(g); b1(g, 0x87); mem16(g, dreg(g)); break;          /* xchg [mem], r */
    case 2: b1(g, 0x0f); b1(g, (uint8_t)(CHANCE(50) ? 0xb6 : 0xbe));       /* movzx/movsx r16, m8 */
            mem16(g, dreg(g)); break;
    case 3: b1(g, 0x66); b1(g, 0x0f); b1(g, (uint8_t)(CHANCE(50) ? 0xb7 : 0xbf));
            b1(g, (uint8_t)(0xc0 | dreg(g) << 3 | RND(8))); break;         /* movzx/movsx r32, r16 */
    case 4: b1(g, 0xf7); b1(g, (uint8_t)(0xe0 | RND(2) << 3 | 1)); g->dirty = true; break;  /* mul/imul cx */
    case 5: b1(g, 0x31); b1(g, 0xd2);                                      /* xor dx, dx; mov cx, nz; div cx */
            b1(g, 0xb9); b2(g, 1 + RND(0xfffe)); b1(g, 0xf7); b1(g, 0xf1); g->dirty = true; break;
    case 6: { static const uint8_t sh[7] = { 0, 1, 2, 3, 4, 5, 7 };       /* shift/rotate r16, imm */
            uint8_t op = sh[RND(7)]; if (op == 2 || op == 3) reads_flags(g);
            b1(g, 0xc1); b1(g, (uint8_t)(0xc0 | op << 3 | dreg(g))); b1(g, (uint8_t)(1 + RND(15)));
            g->dirty = true; break; }
    case 7: b1(g, 0x8d); mem16(g, dreg(g)); break;                         /* lea */
    case 8: b1(g, 0xc8); b2(g, 2 * RND(8)); b1(g, 0);                      /* enter n, 0 */
            b1(g, 0x89); b1(g, 0x46); b1(g, 0xfe);                         /* mov [bp-2], ax */
            b1(g, 0xc9); break;                                            /* leave */
    case 9: { static const uint8_t one[6] = { 0x98, 0x99, 0xf5, 0xf8, 0xf9, 0x9e };  /* cbw cwd cmc clc stc sahf */
            uint8_t o = one[RND(6)]; if (o == 0xf5 || o == 0x9e) reads_flags(g);
            if ((o == 0x98 || o == 0x99) && CHANCE(30)) b1(g, 0x66);
            b1(g, o); if (o == 0x9e) g->dirty = false; break; }
    case 10: reads_flags(g); b1(g, 0x0f);                                  /* setcc r8 / cmovcc r16 */
            if (CHANCE(50)) { b1(g, (uint8_t)(0x90 + RND(16))); b1(g, (uint8_t)(0xc0 | data_reg8[RND(6)])); }
            else { b1(g, (uint8_t)(0x40 + RND(16))); b1(g, (uint8_t)(0xc0 | dreg(g) << 3 | RND(8))); }
            break;
    default: seg_prefix(g); b1(g, 0xd7); break;                            /* xlat */
    }
}

/* 32-bit addressing through a zero-extended SI, and segment loads. */
static void t_addr32(struct g16 *g)
{
    if (CHANCE(50)) {
        b1(g, 0x66); b1(g, 0x0f); b1(g, 0xb7); b1(g, 0xf6);                /* movzx esi, si */
        b1(g, 0x67); b1(g, 0x8b); b1(g, (uint8_t)(0x46 | dreg(g) << 3)); b1(g, (uint8_t)RND(0x80)); /* mov r, [esi+d8] */
    } else {
        b1(g, 0xb8 + 0); b2(g, DT_DATA >> 4);                              /* mov ax, DATA; mov es, ax */
        b1(g, 0x8e); b1(g, 0xc0);
    }
}

static void body(struct g16 *g, uint32_t at, int k)
{
    uint32_t save = g->n;
    g->n = at;
    switch (k) {
    case 0: b1(g, 0x01); b1(g, 0xc8); b1(g, 0xc3); break;              /* add ax, cx; ret */
    case 1: b1(g, 0x53); b1(g, 0xbb); b2(g, 7); b1(g, 0x01); b1(g, 0xd8);
            b1(g, 0x5b); b1(g, 0xc3); break;                           /* push bx; mov bx,7; add ax,bx; pop bx; ret */
    case 2: b1(g, 0xc2); b2(g, 2); break;                              /* ret 2 */
    default: b1(g, 0x83); b1(g, 0xc0); b1(g, 5); b1(g, 0xcb); break;   /* add ax, 5; retf */
    }
    g->fn[k] = at;
    g->n = save;
}

bool gen16_case(uint64_t seed, struct dt_case *c)
{
    static struct g16 gs;
    struct g16 *g = &gs;

    memset(g, 0, sizeof *g);
    g->r = seed * 0x2545f4914f6cdd1dull + 16;
    memset(c, 0, sizeof *c);
    c->fill_seed = rng_next(&g->r) | 1;
    dt_fill(&c->in, c->fill_seed);
    for (int i = 0; i < 8; i++)
        c->in.gpr[i] = (uint32_t)rng_next(&g->r);
    for (int r = R_EBX; r <= R_EDI; r++)
        if (r != R_ESP)
            c->in.gpr[r] = (c->in.gpr[r] & 0xffff0000u) | RND(0x800);
    c->in.gpr[R_ESP] = (c->in.gpr[R_ESP] & 0xffff0000u) | DT16_SP;
    c->in.eflags = 0x2 | ((uint32_t)rng_next(&g->r) & F_ARITH);
    g->code = c->in.mem + dt_mem_index(DT_CODE);
    for (int k = 0; k < NFN; k++)
        body(g, FN_AT + 16 * (uint32_t)k, k);

    for (int i = 0, n = 4 + (int)RND(20); i < n && g->n < 0x700; i++) {
        switch (RND(12)) {
        case 0: case 1: case 2: t_alu(g); break;
        case 3: case 4: t_mov(g); break;
        case 5: t_incdec(g); break;
        case 6: t_pushpop(g); break;
        case 7: t_call(g); break;
        case 8: t_jcc(g); break;
        case 9: t_loop(g); break;
        case 10: t_string(g); break;
        default: if (CHANCE(70)) t_misc(g); else t_addr32(g); break;
        }
    }
    if (g->dirty)
        define_flags(g);
    c->main_len = g->n;
    g->code[g->n] = 0xf4;               /* HLT: a translator running past the stop */
    c->code_len = FN_AT + 16 * NFN;
    return true;
}
