/* be_mutant — Unicorn with a planted bug, to check that the tester finds,
 * shrinks and prints a mismatch (--against mutant): after any BSF/BSR in the
 * code, bit 0 of the final EAX is flipped. */
#include <string.h>
#include "backend.h"

static void mut_run(void *ctx, const struct dt_case *c, struct dt_result *r) {
    be_unicorn.run(ctx, c, r);
    const uint8_t *code = c->in.mem + dt_mem_index(DT_CODE);
    for (uint32_t i = 0; i + 1 < c->code_len; i++)
        if (code[i] == 0x0f && (code[i + 1] == 0xbc || code[i + 1] == 0xbd)) { r->out.gpr[R_EAX] ^= 1; break; }
}

static void *mut_open(char *err, size_t n) { return be_unicorn.open(err, n); }

const struct backend be_mutant = { "mutant", mut_open, mut_run };
