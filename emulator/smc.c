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
 * whose frame is not the next one. The code cache only knows a block's
 * first frame and the physically following one, so such a block's real
 * second frame is kept here (xpage) for invalidation and for the lookup's
 * check that the page still maps it. */
#include <string.h>

#include "emulator/paging.h"

#define NONE 0xffffffffu

static uint32_t first_len(const struct tb *tb) { return 4096 - (tb->eip & 4095); }

/* ---- the second frames of crossing blocks ------------------------------- */

static struct xpage *xpage_of(const struct vm *vm, const struct tb *tb)
{
    for (unsigned i = 0; i < XPAGE_N; i++)
        if (vm->xpage[i].tb == tb)
            return (struct xpage *)&vm->xpage[i];
    return NULL;
}

uint32_t smc_frame2(const struct vm *vm, const struct tb *tb)
{
    const struct xpage *x = xpage_of(vm, tb);
    return x ? x->frame2 : NONE;
}

static void drop_block(struct vcpu *v, struct tb *tb)
{
    if (tb == v->smc_cur)
        v->smc_cur_hit = true;
    jc_drop(v, tb->eip, tb->host);
    cache_invalidate(v->vm->cache, tb);
}

void smc_protect_block(struct vcpu *v, struct tb *tb, uint32_t frame2)
{
    struct vm *vm = v->vm;

    mmu_protect_code(vm->mmu, tb->phys);
    if (!tb_crosses(tb))
        return;
    if (frame2 == NONE) {       /* paging off: the next frame */
        mmu_protect_code(vm->mmu, tb->phys + tb->guest_len - 1);
        return;
    }
    mmu_protect_code(vm->mmu, frame2 << 12);
    if (!xpage_of(vm, tb)) {
        struct xpage *x = &vm->xpage[vm->xpage_next++ % XPAGE_N];
        /* Full: the oldest such block goes, so that none escapes invalidation. */
        if (x->tb && x->tb->valid)
            drop_block(v, x->tb);
        x->tb = tb;
    }
    xpage_of(vm, tb)->frame2 = frame2;
}

void smc_flushed(struct vm *vm)
{
    memset(vm->xpage, 0, sizeof vm->xpage);
}

/* ---- invalidation --------------------------------------------------------- */

struct inv {
    struct vcpu *v;
    uint32_t lo, hi;            /* guest physical bytes written, [lo, hi) */
    bool whole;
    unsigned n;
};

/* Do tb's bytes overlap [lo, hi)? Its first part is contiguous from
 * tb->phys; a crossing block's second part is on its recorded frame. */
bool smc_overlaps(const struct vm *vm, const struct tb *tb, uint64_t lo, uint64_t hi)
{
    uint32_t f2 = tb_crosses(tb) ? smc_frame2(vm, tb) : NONE;
    uint64_t a = tb->phys, b = a + (f2 == NONE ? tb->guest_len : first_len(tb));

    if (lo < b && a < hi)
        return true;
    if (f2 != NONE) {
        a = (uint64_t)f2 << 12;
        b = a + tb->guest_len - first_len(tb);
        return lo < b && a < hi;
    }
    return false;
}

static void inv_one(struct tb *tb, void *arg)
{
    struct inv *c = arg;
    if (!c->whole && !smc_overlaps(c->v->vm, tb, c->lo, c->hi))
        return;
    drop_block(c->v, tb);
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
    for (uint32_t f = first; f <= last && f >= first; f++) {
        cache_for_page(vm->cache, f, inv_one, &c);
        for (unsigned i = 0; i < XPAGE_N; i++) {
            struct tb *tb = vm->xpage[i].tb;
            if (tb && tb->valid && vm->xpage[i].frame2 == f && (whole || smc_overlaps(vm, tb, c.lo, c.hi))) {
                drop_block(v, tb);
                c.n++;
            }
        }
    }
    vm->stats.smc_blocks += c.n;
    return c.n;
}

void smc_insn_bytes(const struct vm *vm, const struct tb *tb, uint32_t off, uint8_t out[15], size_t *n)
{
    uint32_t f2 = tb_crosses(tb) ? smc_frame2(vm, tb) : NONE, left = first_len(tb);
    const uint8_t *p;

    *n = 0;
    for (uint32_t i = off; i < off + 15 && i < tb->guest_len; i++) {
        uint32_t gpa = (f2 != NONE && i >= left) ? (f2 << 12) + (i - left) : tb->phys + i;
        if (!(p = ram_ptr(&vm->ram, gpa, 1)))
            break;
        out[(*n)++] = *p;
    }
}
