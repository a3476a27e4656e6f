/* smc — self-modifying code (DESIGN §3): every guest frame holding bytes
 * of a translated block is write-protected in every shadow space
 * (mmu_protect_code). A guest store to one faults (memfault.c) and
 * invalidates the frame's blocks, which unchains them; the monitor's own
 * stores and the emulated ones invalidate only the blocks whose bytes they
 * overlap. Before a block is translated anew, fetch.c compares the XXH3 of
 * its bytes with the one recorded at translation (cache_revalidate), so a
 * store next to code, not into it, costs no retranslation.
 *
 * With paging on, the last instruction of a block may continue on a page
 * whose frame is not the next one: the block records that frame
 * (tb->frame2) and the code cache indexes it under both frames, so a store
 * to either finds it. */
#include <string.h>

#include "emulator/paging.h"

static uint32_t first_len(const struct tb *tb) { return 4096 - (tb->eip & 4095); }

void block_invalidate(struct vcpu *v, struct tb *tb)
{
    if (!tb->valid)
        return;
    if (tb == v->smc_cur)
        v->smc_cur_hit = true;
    jc_drop(v, tb->eip, tb->host);
    cache_invalidate(v->vm->cache, tb);
}

void smc_protect_block(struct vcpu *v, struct tb *tb)
{
    mmu_protect_code(v->vm->mmu, tb->phys);
    if (tb->frame2 != TB_NO_FRAME2)
        mmu_protect_code(v->vm->mmu, tb->frame2 << 12);
}

/* ---- invalidation --------------------------------------------------------- */

struct inv {
    struct vcpu *v;
    uint32_t lo, hi;            /* guest physical bytes written, [lo, hi) */
    bool whole;
    unsigned n;
};

static void inv_one(struct tb *tb, void *arg)
{
    struct inv *c = arg;
    if (!c->whole && !tb_overlaps(tb, c->lo, c->hi))
        return;
    block_invalidate(c->v, tb);
    c->n++;
}

unsigned smc_code_write(struct vcpu *v, uint32_t gpa, uint32_t len, bool whole)
{
    struct vm *vm = v->vm;
    struct inv c = { .v = v, .lo = gpa, .hi = gpa + len, .whole = whole };
    uint32_t first = gpa >> 12, last = (uint32_t)(((uint64_t)gpa + len - 1) >> 12);

    if (whole) {
        c.lo = gpa & ~4095u;
        c.hi = c.lo + 4096;
        last = first;
    }
    for (uint32_t f = first; f <= last && f >= first; f++)
        cache_for_page(vm->cache, f, inv_one, &c);
    vm->stats.smc_blocks += c.n;
    return c.n;
}

void smc_insn_bytes(const struct vm *vm, const struct tb *tb, uint32_t off, uint8_t out[15], size_t *n)
{
    uint32_t f2 = tb->frame2, left = first_len(tb);
    const uint8_t *p;

    *n = 0;
    /* off is signed: negative in a callee inlined from below the block. */
    for (int32_t i = (int32_t)off; i < (int32_t)off + 15 && i < (int32_t)tb->guest_len; i++) {
        uint32_t gpa = (f2 != TB_NO_FRAME2 && i >= (int32_t)left) ? (f2 << 12) + ((uint32_t)i - left)
                                                                : tb->phys + (uint32_t)i;
        if (!(p = ram_ptr(&vm->ram, gpa, 1)))
            break;
        out[(*n)++] = *p;
    }
}
