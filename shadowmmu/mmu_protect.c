/* mmu_protect — write protection: traced page tables and code frames
 * (DESIGN §4 "Tracing", §3 "Self-modifying code").
 *
 * One service protects both kinds of frame. A frame becomes protected when
 * the rmap starts tracing it (rmap_add -> RMAP_ADD_NEW, called by a fill)
 * or when the translator registers code on it; protect_frame() then walks
 * the frame's mapping records and makes every writable mapping read-only,
 * in every space. Fills consult rmap_tracked() and the code flag, so later
 * mappings start read-only. Lifting protection is lazy for page tables
 * (the rmap's untracked callback does nothing: the next write fault finds
 * the frame untraced and upgrades the mapping) and eager for code frames
 * (mmu_unprotect_code, since the store that faulted is about to be retried).
 *
 * A guest store to a traced page is carried out by the monitor, one of two
 * ways: single-stepped through a mapping made writable for the one store
 * (mmu_unprotect_for_store ... mmu_store_done), or performed by the monitor
 * itself (mmu_write_phys). Either way rmap_write_begin/rmap_write_end
 * bracket it, and the rmap diffs the page against its snapshot and zaps,
 * through mmu_rmap_zap, exactly the linear pages whose guest entries
 * changed in every space that depends on the page. */
#define _GNU_SOURCE
#include "shadowmmu/mmu_internal.h"

#include <string.h>

/* ---- rmap callbacks ----------------------------------------------------- */

void mmu_rmap_zap(void *opaque, unsigned space, uint32_t linear, uint32_t npages)
{
    struct mmu *m = opaque;
    struct mspace *s = &m->spaces[space];
    bool was = m->in_cb;

    m->in_cb = true;
    if (npages >= RMAP_ALL_PAGES) {
        m->st.zaps++;
        space_reset(m, s, false);   /* the rmap drops the space's dependents itself */
    } else if (npages == 1 && m->writing) {
        /* One PTE changed (TODO(#5) in mmu.h): follow it in place — a
         * remap, a protection change or nothing — instead of unmapping
         * now and refilling on the next access. Not through the page being
         * written as a directory (a self-map: that PDE may be changing
         * too). */
        uint32_t r = mmu_rec_find(m, s, linear >> 12);
        bool soft = soft_note_change(m, s, linear >> 12, r != 0);
        if (soft)
            m->kept_live = true;    /* in use as a page table all the same (mmu_soft.c) */
        if (r && (soft || mmu_rec_refresh(m, s, r, m->writing) < 0)) {
            m->st.zaps++;
            mmu_zap_range(m, s, linear >> 12, 1);
        } else if (r) {
            m->kept_live = true;
        }
    } else {
        if (m->writing)
            soft_note_range(m, s, linear >> 12, npages);
        m->st.zaps++;
        mmu_zap_range(m, s, linear >> 12, npages);
    }
    m->in_cb = was;
}

void mmu_rmap_untracked(void *opaque, uint32_t gpa, enum rmap_why why)
{
    /* Mappings of the frame stay read-only until a write faults and finds
     * it untraced (mmu_fault upgrades them). Not eagerly (measured on Linux
     * fork+exec: a table flooded or left unused is mostly traced again
     * soon, and making it writable at once doubled the mprotects). An
     * unsync page (mmu_unsync.c) stops being one. */
    unsync_forget(opaque, gpa);
    (void)why;
}

void mmu_settle(struct mmu *m)
{
    if (!m->drops_pending || m->in_cb)
        return;
    m->drops_pending = false;
    for (unsigned i = 0; i < m->cfg.spaces; i++)
        if (m->spaces[i].drop_pending) {
            m->spaces[i].drop_pending = false;
            rmap_drop_space(m->rm, m->spaces[i].id);
        }
}

/* ---- protecting a frame ------------------------------------------------- */

/* Make every writable mapping of `frame` read-only. A mmu_set_prot that fails
 * even after evictions falls back to unmapping the page, then the space:
 * a writable alias of a protected frame must not survive. */
void protect_frame(struct mmu *m, uint32_t frame)
{
restart:
    for (uint32_t r = m->frame_head[frame], next; r; r = next) {
        uint64_t gen = m->evict_gen;
        struct mrec *p = &m->rec[r];

        next = p->fnext;
        if (p->prot != PROT_RW)
            continue;
        m->st.write_protects++;
        if (mmu_set_prot(m, r, PROT_R) < 0) {
            struct mspace *s = space_of_rec(m, p);
            if (mmu_zap_range(m, s, lpn_of_rec(p), 1) < 0)
                space_reset(m, s, false);
            goto restart;
        }
        if (m->evict_gen != gen)    /* evictions may have freed `next` */
            goto restart;
    }
}

void mmu_protect_code(struct mmu *m, uint32_t gpa)
{
    uint32_t frame = gpa >> 12;

    if (frame_is_code(m, frame) || !ram_region_of(m->ram, gpa))
        return;
    mmu_settle(m);
    ident_set_code(m, frame, true);     /* sets the flag */
    protect_frame(m, frame);
}

void mmu_unprotect_code(struct mmu *m, uint32_t gpa)
{
    uint32_t frame = gpa >> 12;

    if (!frame_is_code(m, frame))
        return;
    mmu_settle(m);
    ident_set_code(m, frame, false);
    if (frame_is_code(m, frame))        /* the identity space could not be changed */
        m->frame_flags[frame] &= (uint8_t)~FRAME_CODE;
    /* Failures leave a mapping read-only: its next write faults and
     * upgrades it. */
restart:
    for (uint32_t r = m->frame_head[frame], next; r; r = next) {
        uint64_t gen = m->evict_gen;
        next = m->rec[r].fnext;
        if (m->rec[r].prot != PROT_RW && rec_desired_prot(m, &m->rec[r]) == PROT_RW) {
            mmu_set_prot(m, r, PROT_RW);
            if (m->evict_gen != gen)
                goto restart;
        }
    }
}

bool mmu_is_code(const struct mmu *m, uint32_t gpa)
{
    return frame_is_code(m, gpa >> 12);
}

bool mmu_is_traced(const struct mmu *m, uint32_t gpa)
{
    return rmap_tracked(m->rm, gpa);
}

uint64_t mmu_special_writes(const struct mmu *m) { return m->special_writes; }

/* ---- traced stores ------------------------------------------------------ */

/* The diff of a traced store. A PTE it changed whose page stays mapped
 * (followed in place by mmu_rmap_zap) shows the page in use as a page
 * table, as a fill through it would: the write-flood count starts over,
 * or a PTE edited again and again with no refault in between (the point
 * of following it) would end the tracing every few stores. */
static void traced_write_end(struct mmu *m, uint32_t gpa, unsigned len, const void *page)
{
    m->writing = gpa >> 12;
    m->kept_live = false;
    rmap_write_end(m->rm, gpa, len, page);
    m->writing = 0;
    if (m->kept_live)
        rmap_note_use(m->rm, gpa);
}

/* The store must be able to complete whatever happened to the page: when
 * it stopped being traced and its mapping may simply be writable, the
 * instruction is resumed (RETRY); otherwise the page is made writable for
 * one single-stepped store (STEP). That includes a write flood on the
 * space's own page directory, which empties the very space the store runs
 * in: the page is then mapped just for the step, or the instruction would
 * fault, refill, trace the page again and flood again forever. */
enum mmu_store mmu_unprotect_for_store(struct mmu *m, struct space *sp, uint32_t linear,
                                       uint32_t gpa, unsigned len)
{
    static const uint8_t not_writable = 0;
    struct mspace *s = ms_of(sp);
    uint32_t lpn = linear >> 12, frame = gpa >> 12, r;
    struct pending *pd;
    bool traced, temp = false;

    mmu_settle(m);
    traced = rmap_write_begin(m->rm, gpa, len);
    mmu_settle(m);
    r = mmu_rec_find(m, s, lpn);
    if (r && m->rec[r].frame != frame) {
        mmu_zap_range(m, s, lpn, 1);
        r = 0;
    }
    if (!traced && r && rec_desired_prot(m, &m->rec[r]) == PROT_RW &&
        mmu_set_prot(m, r, PROT_RW) == 0) {
        m->st.dirty_upgrades++;
        return MMU_STORE_RETRY;
    }
    if (!r) {
        if (!ram_region_of(m->ram, gpa))
            return MMU_STORE_RETRY;
        if (!mmu_reserve(m, s, 2, 1))
            space_reset(m, s, false);
        if (map_run(m, s, lpn, 1, frame, PROT_RW, &not_writable) < 0)
            return MMU_STORE_RETRY;
        r = mmu_rec_find(m, s, lpn);
        temp = true;
    } else if (m->rec[r].prot != PROT_RW && mmu_set_prot(m, r, PROT_RW) < 0) {
        return MMU_STORE_RETRY;
    }
    pd = !m->pend[0].used ? &m->pend[0] : !m->pend[1].used ? &m->pend[1] : &m->pend[0];
    *pd = (struct pending){ .s = s, .lpn = lpn, .frame = frame, .used = true, .traced = traced,
                            .temp = temp };
    return MMU_STORE_STEP;
}

void mmu_store_done(struct mmu *m, uint32_t gpa, unsigned len)
{
    const void *page = ram_ptr(m->ram, gpa & PTE_FRAME, 4096);
    bool traced = false;

    for (unsigned i = 0; i < 2; i++) {
        struct pending *pd = &m->pend[i];
        uint32_t r;
        if (!pd->used || pd->frame != gpa >> 12)
            continue;
        pd->used = false;
        traced |= pd->traced;
        r = mmu_rec_find(m, pd->s, pd->lpn);
        if (!r || m->rec[r].frame != pd->frame)
            continue;
        if (pd->temp || mmu_set_prot(m, r, rec_desired_prot(m, &m->rec[r])) < 0)
            mmu_zap_range(m, pd->s, pd->lpn, 1);
    }
    if (traced && page)
        traced_write_end(m, gpa, len, page);
    mmu_settle(m);
}

bool mmu_write_phys(struct mmu *m, uint32_t gpa, const void *src, size_t len)
{
    const uint8_t *from = src;
    bool code = false;

    mmu_settle(m);
    while (len) {
        size_t n = 4096 - (gpa & 4095);
        uint8_t *to;
        if (n > len)
            n = len;
        to = ram_ptr(m->ram, gpa, n);
        if (to) {
            m->special_writes += rmap_tracked(m->rm, gpa) || frame_is_code(m, gpa >> 12);
            dirty_mark_frame(m, gpa >> 12);
            if (rmap_write_begin(m->rm, gpa, (unsigned)n)) {
                memcpy(to, from, n);
                traced_write_end(m, gpa, (unsigned)n, ram_ptr(m->ram, gpa & PTE_FRAME, 4096));
            } else {
                memcpy(to, from, n);
            }
            code |= frame_is_code(m, gpa >> 12);
        }
        mmu_settle(m);
        gpa += (uint32_t)n;
        from += n;
        len -= n;
        if (!gpa)
            break;      /* 4 GiB wrap: nothing above */
    }
    return code;
}
