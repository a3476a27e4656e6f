/* genp — the generator's internals shared by the template files
 * (gen_*.c). See gen.h for the soundness rules every template follows. */
#pragma once
#include "gen.h"
#include "rng.h"

#define RND(n) rng_below(&g->r, (n))
#define CHANCE(p) rng_chance(&g->r, (p))
#define BIT(r) (1u << (r))

/* One instruction being encoded. */
struct ib { uint8_t b[15]; int n; };
static inline void ib_put(struct ib *x, uint8_t v) { x->b[x->n++] = v; }
static inline void ib_put16(struct ib *x, uint32_t v) { ib_put(x, v); ib_put(x, v >> 8); }
static inline void ib_put32(struct ib *x, uint32_t v) { ib_put16(x, v); ib_put16(x, v >> 16); }
void g_ib_imm(struct ib *x, unsigned size, uint32_t v);

/* A memory operand: ModRM (reg field 0) + SIB + displacement. */
struct mop {
    uint8_t b[7];
    int n;
    bool a16;                /* needs the 0x67 prefix */
    bool exact;              /* ea is the only possible address */
    uint32_t ea;             /* lowest possible effective address */
    int disp32_at;           /* offset of a disp32 in b, or -1 */
    int acc;                 /* ACC_R / ACC_W / ACC_RW */
};
enum { ACC_R = 1, ACC_W = 2, ACC_RW = 3 };
enum { MP_EXACT = 1, MP_DISP32 = 2, MP_NOSEG = 4, MP_NO_A16 = 8 };
/* Pick a memory operand whose size bytes (from every possible address)
 * are accessible. esp_adj: ESP-based addresses are computed with ESP+adj
 * (POP m). align: required alignment (implies exact). */
bool g_mem_pick(struct gen *g, unsigned size, int acc, int esp_adj, unsigned align, int flags, struct mop *m);
bool g_mem_ok(struct gen *g, uint32_t a, uint32_t n, int acc);
void g_mop_add_disp(struct mop *m, int32_t d);

/* A register-or-memory operand. */
struct rm { bool mem; int reg; struct mop m; };
/* mem_pct: chance of a memory operand. For ACC_W registers, only writable. */
bool g_rm_pick(struct gen *g, unsigned size, int acc, int mem_pct, struct rm *o);
/* Prefixes for an instruction with operand size `size` and operand o
 * (66, 67, a segment override, LOCK), in random order. */
void g_ib_prefixes(struct gen *g, struct ib *x, unsigned size, const struct rm *o, bool lock);
/* ModRM for reg field `reg` and r/m operand o. */
void g_ib_modrm(struct ib *x, int reg, const struct rm *o);

/* Registers. */
bool g_writable(struct gen *g, uint32_t mask);
int g_wreg(struct gen *g, unsigned size);       /* writable register number, -1 if none */
int g_anyreg(struct gen *g, unsigned size);
static inline uint32_t reg_mask(int reg, unsigned size) { return BIT(size == 1 ? reg & 3 : reg); }
uint32_t g_rnd_val(struct gen *g);
unsigned g_rnd_size(struct gen *g);             /* 1, 2 or 4 */

/* Emission: appends to the current part, inserting a flag definer first
 * when the instruction reads a possibly-undefined flag. */
struct item *g_emit(struct gen *g, const struct ib *x);
struct item *g_emit_bytes(struct gen *g, int n, ...);
void g_emit_mov_imm(struct gen *g, int reg, uint32_t v);   /* mov r32, imm32 */
void g_emit_lea_esp(struct gen *g, int32_t d);             /* lea esp,[esp+d] */

/* Pointer and stack bookkeeping. */
void g_ptr_move(struct gen *g, int reg, int32_t dlo, int32_t dhi);
static inline uint32_t esp_now(struct gen *g) { return g->lo[R_ESP]; }

/* Nested bodies: n templates drawn from the body mix. */
void gen_body(struct gen *g, int n);

/* Template tables (one per file). */
typedef bool (*tmpl_fn)(struct gen *g);
struct tmpl { const char *cls; tmpl_fn fn; int weight; bool moves_ptr; bool body_ok; };
extern const struct tmpl tmpl_int[], tmpl_stack[], tmpl_flow[], tmpl_fp[];
extern const int tmpl_int_n, tmpl_stack_n, tmpl_flow_n, tmpl_fp_n;
