/* derive — the derived state of a control transfer, once per transfer and
 * memoized (README "Privilege transitions").
 *
 * SYSENTER/SYSEXIT, INT/IRET, exception delivery and far transfers change
 * CS, SS and CPL together. Translated code needs what follows from them:
 * the block mode's segment-base set and 16-bit bits (segsets.c), its
 * limit-checked segments (seglimit.c), the jump cache of that mode
 * (jcache.c) and the shadow space of the CPL's view with its host base in
 * cpu->membase (paging.c). Worked out per segment register, that was most
 * of a system call's cost. A system call flips between two such states, so
 * the last DERIVE_MEMO results are kept, keyed by exactly the inputs they
 * are worked out from (struct derive_key: CPL, VM, each segment's base,
 * limit and access rights, CR0, CR3, CR4, EFER, the PDPTEs). An entry also
 * names things that can go away, and is used only while they are intact:
 *  - a jump-cache slot: while that slot still serves the entry's mode (a
 *    slot's mode is unique among the slots; flushing its entries does not
 *    change which mode it serves, and giving it another mode, jcache.c,
 *    calls derive_forget);
 *  - a segment-base set index: indexes are only added, until the table
 *    starts again (segsets.c), which calls derive_forget;
 *  - a shadow space: while the MMU's key generation is unchanged (it moves
 *    whenever a space is keyed anew or every space is flushed; mmu.h);
 *  - anything that rewrites the vCPU's state wholesale (reset, snapshot
 *    load, vm_set_control) calls derive_forget.
 * A miss does the work as before (vcpu_mode_changed if CPL changed, then
 * segset_update) and records the result when it is consistent.
 * --no-derive-memo turns the memo off (every transfer misses). */
#include <string.h>

#include "emulator/paging.h"

static void key_of(const struct vcpu *v, struct derive_key *k)
{
    k->cpl = v->cpl;
    k->vm86 = v->vm86;
    for (int s = 0; s < 6; s++) {
        k->seg[s][0] = v->seg[s].base;
        k->seg[s][1] = v->seg[s].limit;
        k->seg[s][2] = v->seg[s].ar;
    }
    k->cr0 = v->cr0;
    k->cr3 = v->cr3;
    k->cr4 = v->cr4;
    k->gen = v->derive.gen;
    k->efer = v->efer;
    memcpy(k->pdpte, v->pdpte, sizeof k->pdpte);
    k->mmu_gen = mmu_key_gen(v->vm->mmu);
}

/* Is k the key of the current state? Read straight from the vCPU: a key
 * built on the stack and compared (memcmp, or 16 bytes at a time with
 * SSE2) stalls on store forwarding — measured 22 ticks more per SYSENTER
 * round trip than this. CPL and the CS and SS access rights first, which
 * tell most entries apart, then the rest without branches. */
static bool key_is_current(const struct vcpu *v, const struct derive_key *k, uint64_t mmu_gen)
{
    if ((k->cpl ^ v->cpl) | (k->seg[SEG_CS][2] ^ v->seg[SEG_CS].ar) | (k->seg[SEG_SS][2] ^ v->seg[SEG_SS].ar))
        return false;
    uint64_t d = (k->vm86 ^ v->vm86) | (k->cr0 ^ v->cr0) | (k->cr3 ^ v->cr3) |
                 (k->cr4 ^ v->cr4) | (k->gen ^ v->derive.gen) | (k->efer ^ v->efer) |
                 (k->mmu_gen ^ mmu_gen);

    for (int s = 0; s < 6; s++)
        d |= (k->seg[s][0] ^ v->seg[s].base) | (k->seg[s][1] ^ v->seg[s].limit) |
             (k->seg[s][2] ^ v->seg[s].ar);
    for (int i = 0; i < 4; i++)
        d |= k->pdpte[i] ^ v->pdpte[i];
    return d == 0;
}

void derive_install(struct vcpu *v, const struct derived *e, unsigned old_cpl)
{
    struct vm *vm = v->vm;

    v->segset = e->segset;
    memcpy(v->segset_any, e->segset_any, sizeof v->segset_any);
    v->seglim = e->seglim;
    v->bits16 = e->bits16;
    if (e->slot != v->jc_cur) {
        v->bt.exit_slot = 0;    /* never chain across a mode change */
        jc_use(v, e->slot);
    }
    if (e->space != vm->cur_space) {
        mmu_reactivate(vm->mmu, e->space, v->cpl);
        vm->cur_space = e->space;
        v->bt.membase = (uint64_t)(uintptr_t)e->space->base;
    } else if ((old_cpl == 3) != (v->cpl == 3) && v->pg) {
        mmu_set_cpl(vm->mmu, v->cpl);   /* one view for both rings: who runs in it */
    }
}

bool derive_whole(const struct vcpu *v)
{
    const struct vm *vm = v->vm;

    return v->exit == EXIT_NONE && vm->cur_space && v->jc[v->jc_cur].mode == vcpu_mode(v) &&
           v->pg == paging_on(v) && v->bt.membase == (uint64_t)(uintptr_t)vm->cur_space->base;
}

void derive_capture(const struct vcpu *v, struct derived *r)
{
    r->slot = v->jc_cur;
    r->segset = v->segset;
    memcpy(r->segset_any, v->segset_any, sizeof r->segset_any);
    r->seglim = v->seglim;
    r->bits16 = v->bits16;
    r->space = v->vm->cur_space;
}

/* After a miss: remember the state just worked out, if it is the whole
 * of it (no error stopped the work half way). */
static void record(struct vcpu *v)
{
    struct derive_state *d = &v->derive;
    struct derive_memo *e = &d->e[d->next];

    if (!derive_whole(v))
        return;
    key_of(v, &e->key);
    derive_capture(v, &e->r);
    e->valid = true;
    d->last[v->cpl & 3] = d->next;
    d->next = (d->next + 1) % DERIVE_MEMO;
}

void vcpu_derive(struct vcpu *v, unsigned old_cpl)
{
    struct derive_state *d = &v->derive;

    if (!v->vm->cfg.no_derive_memo) {
        uint64_t mmu_gen = mmu_key_gen(v->vm->mmu);
        unsigned c = v->cpl & 3;

        /* A system call goes back to the state its ring had last: that
         * entry first, then the rest. */
        for (unsigned i = 0, at = d->last[c]; i <= DERIVE_MEMO; at = i++) {
            const struct derive_memo *e = &d->e[at];
            if (e->valid && key_is_current(v, &e->key, mmu_gen)) {
                v->vm->stats.derive_hits++;
                d->last[c] = at;
                derive_install(v, &e->r, old_cpl);
                return;
            }
        }
    }
    v->vm->stats.derive_misses++;
    if (v->cpl != old_cpl)
        vcpu_mode_changed(v);
    segset_update(v);
    if (!v->vm->cfg.no_derive_memo)
        record(v);
}

void derive_forget(struct vcpu *v)
{
    v->derive.gen++;
}
