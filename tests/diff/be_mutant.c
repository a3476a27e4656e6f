/* be_mutant — Unicorn with a planted bug, one per compared field class, so
 * that a weakened comparison cannot pass silently (diff.mutant* in CI):
 *
 *   mutant       a GPR: after any BSF/BSR in the code, bit 0 of EAX flips
 *   mutant-flag  EFLAGS: the lowest arithmetic flag the reference defines
 *                at the end flips
 *   mutant-mem   memory: the first byte the case stored flips
 *   mutant-x87   an x87 register: bit 0 of ST0's significand flips (unless
 *                a transcendental ran, when ST values are not compared)
 *
 * Each must make the tester report a mismatch in that field. */
#include <string.h>
#include "backend.h"

static bool ended_normally(const struct dt_result *r) { return r->exit == DT_EXIT_STOP || r->exit == DT_EXIT_EXCEPTION; }

static void mut_gpr(void *ctx, const struct dt_case *c, struct dt_result *r) {
    be_unicorn.run(ctx, c, r);
    const uint8_t *code = c->in.mem + dt_mem_index(DT_CODE);
    for (uint32_t i = 0; i + 1 < c->code_len; i++)
        if (code[i] == 0x0f && (code[i + 1] == 0xbc || code[i + 1] == 0xbd)) { r->out.gpr[R_EAX] ^= 1; break; }
}

static void mut_flag(void *ctx, const struct dt_case *c, struct dt_result *r) {
    be_unicorn.run(ctx, c, r);
    uint32_t defined = F_COMPARED & ~r->an.eflags_unknown;
    if (ended_normally(r) && defined) r->out.eflags ^= defined & -defined;
}

static void mut_mem(void *ctx, const struct dt_case *c, struct dt_result *r) {
    be_unicorn.run(ctx, c, r);
    if (!ended_normally(r)) return;
    for (size_t i = 0; i < DT_MEM_BYTES; i++)
        if (r->out.mem[i] != c->in.mem[i]) { r->out.mem[i] ^= 0x10; break; }
}

static void mut_x87(void *ctx, const struct dt_case *c, struct dt_result *r) {
    be_unicorn.run(ctx, c, r);
    if (ended_normally(r) && !r->an.x87_approx) r->out.fx[32] ^= 1;   /* FXSAVE ST0 bits 0-7 */
}

static void *mut_open(char *err, size_t n) { return be_unicorn.open(err, n); }

const struct backend be_mutant = { "mutant", mut_open, mut_gpr };
const struct backend be_mutant_flag = { "mutant-flag", mut_open, mut_flag };
const struct backend be_mutant_mem = { "mutant-mem", mut_open, mut_mem };
const struct backend be_mutant_x87 = { "mutant-x87", mut_open, mut_x87 };
