/* mmu_dirty — dirty logging of guest RAM for live migration (DESIGN §6a).
 *
 * While logging is on, every RAM frame not written since the last sync
 * carries FRAME_LOGWP (paging spaces, prot_want()) and FRAME_IDWP (the
 * identity space, ident_prot()): it is read-only everywhere, exactly as
 * code frames and traced page tables are kept read-only for their own
 * reasons. The first guest store faults; mmu_fault (mmu_fill.c) marks the
 * frame dirty and drops the flag of the kind of space it faulted in, so
 * that mapping becomes writable — unless the frame is also code or a
 * traced page table, whose own handling then follows. The two flags are
 * separate so that a guest running with paging on costs no identity-space
 * system call per store or per sync (the identity pages stay read-only; a
 * store there later just faults once more). The
 * monitor's stores (mmu_write_phys, the walker's A/D updates,
 * mmu_dirty_mark for plain copies) only set the bit: the frame stays
 * read-only until a guest store opens it, so the identity space's
 * protection is always what its flags say (the mapping model relies on
 * it).
 *
 * A sync (get and clear) hands out the bitmap and sets FRAME_LOGWP again on
 * the frames it held: their writable mappings become read-only (one
 * mprotect per mapping in paging spaces, one per run of frames in the
 * identity space). Stopping clears every FRAME_LOGWP; the identity space is
 * opened at once, paging-space mappings lazily on their next write fault.
 * Nothing of this runs while logging is off: the cost is paid only during
 * a migration. */
#define _GNU_SOURCE
#include "shadowmmu/mmu_internal.h"

#include <stdlib.h>
#include <string.h>

#define WORDS MMU_DIRTY_WORDS

bool mmu_dirty_logging(const struct mmu *m) { return m->dirty != NULL; }

/* Set or clear the logging flags on frames [first, first + n) of one RAM
 * region: FRAME_LOGWP and the paging-space mappings frame by frame; the
 * identity pages in runs, only where FRAME_IDWP changes (with paging on,
 * no identity page was opened, so a sync makes no identity call). */
static void set_logwp(struct mmu *m, uint32_t first, uint32_t n, bool on)
{
    for (uint32_t i = 0, j; i < n; i = j) {
        bool has = (m->frame_flags[first + i] & FRAME_IDWP) != 0;
        for (j = i + 1; j < n && ((m->frame_flags[first + j] & FRAME_IDWP) != 0) == has; j++)
            ;
        if (has != on)
            ident_set_flag_run(m, first + i, j - i, FRAME_IDWP, on);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (on) {
            m->frame_flags[first + i] |= FRAME_LOGWP;
            protect_frame(m, first + i);
        } else {
            m->frame_flags[first + i] &= (uint8_t)~FRAME_LOGWP;
        }
    }
}

bool mmu_dirty_log_start(struct mmu *m)
{
    if (m->dirty)
        return true;
    if (!(m->dirty = calloc(WORDS, sizeof *m->dirty)))
        return false;
    mmu_settle(m);
    for (int i = 0; i < m->ram->n; i++) {
        const struct ram_region *rg = &m->ram->r[i];
        set_logwp(m, (uint32_t)(rg->gpa >> 12), (uint32_t)(rg->size >> 12), true);
    }
    mmu_settle(m);
    return true;
}

void mmu_dirty_log_stop(struct mmu *m)
{
    if (!m->dirty)
        return;
    mmu_settle(m);
    for (int i = 0; i < m->ram->n; i++) {
        const struct ram_region *rg = &m->ram->r[i];
        set_logwp(m, (uint32_t)(rg->gpa >> 12), (uint32_t)(rg->size >> 12), false);
    }
    free(m->dirty);
    m->dirty = NULL;
}

uint32_t mmu_dirty_log_sync(struct mmu *m, uint64_t *out)
{
    uint32_t count = 0;

    if (!m->dirty) {
        memset(out, 0, WORDS * sizeof *out);
        return 0;
    }
    mmu_settle(m);
    m->st.dirty_syncs++;
    memcpy(out, m->dirty, WORDS * sizeof *out);
    memset(m->dirty, 0, WORDS * sizeof *m->dirty);
    /* Runs of dirty frames within one region: one identity mprotect each. */
    for (uint32_t f = 0; f < FRAMES;) {
        uint64_t bits = out[f >> 6] >> (f & 63);
        const struct ram_region *rg;
        uint32_t n = 0;
        if (!bits) {
            f = (f | 63) + 1;
            continue;
        }
        f += (uint32_t)__builtin_ctzll(bits);
        rg = ram_region_of(m->ram, f << 12);
        while (f + n < FRAMES && (out[(f + n) >> 6] >> ((f + n) & 63) & 1) && rg &&
               ram_region_of(m->ram, (f + n) << 12) == rg)
            n++;
        if (n)
            set_logwp(m, f, n, true);
        count += n;
        f += n ? n : 1;
    }
    mmu_settle(m);
    return count;
}

void mmu_dirty_open(struct mmu *m, uint32_t frame, bool identity)
{
    dirty_mark_frame(m, frame);
    if (identity)
        ident_set_flag_run(m, frame, 1, FRAME_IDWP, false);
    else
        m->frame_flags[frame] &= (uint8_t)~FRAME_LOGWP;
}

void mmu_dirty_mark(struct mmu *m, uint32_t gpa, size_t len)
{
    if (!m->dirty || !len)
        return;
    for (uint64_t a = gpa & ~4095u; a < (uint64_t)gpa + len && a < (1ull << 32); a += 4096)
        if (ram_region_of(m->ram, (uint32_t)a))
            dirty_mark_frame(m, (uint32_t)(a >> 12));
}

bool mmu_dirty_clean(const struct mmu *m, uint32_t gpa)
{
    uint32_t frame = gpa >> 12;
    return m->dirty && !(m->dirty[frame >> 6] >> (frame & 63) & 1);
}
