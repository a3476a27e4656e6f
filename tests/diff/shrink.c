/* shrink — delta debugging of a failing case: drop instructions (with
 * their labels moving to the next instruction), then reset registers,
 * flags, memory and the FPU image to plain values, keeping each step only
 * if the case still fails (a case whose reference becomes unusable — an
 * unmapped access, a consumed undefined flag — does not count as failing). */
#include <string.h>
#include "run.h"

static struct dt_case scratch;
static uint64_t want;       /* the original difference signature */

/* Still failing, and in no field the original did not differ in (a
 * simplification must not trade the bug for another difference, e.g. an
 * x87 stack underflow after the FPU image is reset). */
static bool still_fails(struct pair *p, const struct dt_case *c, int *runs) {
    (*runs)++;
    return run_pair(p, c) == V_FAIL && !(p->sig & ~want);
}

/* Reassemble s over a copy of the original case. */
static bool rebuild(const struct dt_case *orig, const struct seq *s, struct dt_case *out) {
    *out = *orig;
    return seq_assemble(s, out);
}

int dt_shrink(struct pair *p, struct dt_case *c, struct seq *s) {
    int runs = 0;
    run_pair(p, c);
    want = p->sig;
    if (s) {
        static struct seq trial;
        bool progress = true;
        while (progress && runs < 3000) {
            progress = false;
            for (int i = s->n - 1; i >= 0; i--) {
                trial = *s;
                seq_delete(&trial, i);
                if (trial.n == 0) continue;
                if (!rebuild(c, &trial, &scratch)) continue;
                if (still_fails(p, &scratch, &runs)) {
                    *s = trial;
                    *c = scratch;
                    progress = true;
                }
            }
        }
    }
    /* Initial state: registers to 0, flags to just bit 1 (keeping DF),
     * memory outside the code region to 0, the FPU to its reset image. */
    for (int r = 0; r < 8; r++) {
        if (c->in.gpr[r] == 0) continue;
        scratch = *c;
        scratch.in.gpr[r] = 0;
        if (still_fails(p, &scratch, &runs)) *c = scratch;
    }
    scratch = *c;
    scratch.in.eflags = 0x2 | (c->in.eflags & F_DF);
    if (scratch.in.eflags != c->in.eflags && still_fails(p, &scratch, &runs)) *c = scratch;
    for (int i = 0; i < DT_NREGIONS; i++) {
        if (dt_regions[i].base == DT_CODE) continue;
        scratch = *c;
        memset(scratch.in.mem + dt_regions[i].off, 0, dt_regions[i].size);
        if (memcmp(scratch.in.mem, c->in.mem, DT_MEM_BYTES) && still_fails(p, &scratch, &runs)) *c = scratch;
    }
    /* The code region's background: everything but the code and the
     * indirect-branch table. */
    scratch = *c;
    uint8_t *cr = scratch.in.mem + dt_mem_index(DT_CODE);
    memset(cr + c->code_len, 0, SEQ_PTR_AREA - DT_CODE - c->code_len);
    memset(cr + (SEQ_PTR_AREA - DT_CODE) + 4 * SEQ_PTRS, 0, DT_CODE + DT_CODE_SIZE - SEQ_PTR_AREA - 4 * SEQ_PTRS);
    if (memcmp(scratch.in.mem, c->in.mem, DT_MEM_BYTES) && still_fails(p, &scratch, &runs)) *c = scratch;
    scratch = *c;
    dt_fx_default(scratch.in.fx);
    if (memcmp(scratch.in.fx, c->in.fx, 512) && still_fails(p, &scratch, &runs)) *c = scratch;
    run_pair(p, c);                                  /* leave the final results in p */
    return runs;
}
