/* mmu_fill — hidden faults: filling a shadow space from the guest's page
 * tables (DESIGN §4), called from the SIGSEGV handler.
 *
 * mmu_fault() for a paging space:
 *   1. walk32 the guest tables for the access, with WALK_SET_AD: A in every
 *      entry used, D in the leaf on a write (SDM vol. 3A §4.8). A denial is
 *      the guest's #PF with the error code of §4.7; nothing is written then.
 *   2. Trace the page directory and, for a 4 KiB page, the page table it
 *      used (rmap_add; PAE: the PDPT is not traced, the space is keyed by
 *      the PDPTE registers). A page newly traced is write-protected in
 *      every space (mmu_protect.c).
 *   3. The frame is not RAM: device memory, never mapped (MMU_MMIO).
 *   4. Map it, read-only unless this view may write (§4.6: R/W and U/S
 *      ANDed over both levels, CR0.WP), D is already set, and the frame is
 *      neither traced nor code. Together with it, map the other pages of
 *      the aligned group of cfg.prefetch pages around it that the guest
 *      has present *and accessed* in the same page table (or the same
 *      4 MiB or 2 MiB page): mapping a page whose A bit is clear would let the first
 *      access go unrecorded, so those wait for their own fault. A
 *      prefetched page with D clear is read-only like any other. Runs of
 *      contiguous frames with one protection become one mmap.
 *   5. A write that still cannot go through is a traced or code write,
 *      returned for the monitor to perform.
 * A page that is already mapped only has its protection brought up to date
 * (the write after D was clear; a frame no longer traced). */
#define _GNU_SOURCE
#include "shadowmmu/mmu_internal.h"

#include <errno.h>
#include <string.h>

_Static_assert((int)MMU_READ == (int)WALK_READ && (int)MMU_WRITE == (int)WALK_WRITE &&
               (int)MMU_FETCH == (int)WALK_FETCH, "mmu_access and walk_access agree");

/* ---- guest physical memory for the walker ------------------------------- */

uint32_t mmu_mem_read32(void *opaque, uint32_t gpa, bool *ok)
{
    struct mmu *m = opaque;
    uint32_t *p = ram_ptr(m->ram, gpa, 4);

    *ok = p != NULL;
    return p ? __atomic_load_n(p, __ATOMIC_RELAXED) : 0;
}

/* The walker's A/D updates. The rmap's snapshot of a traced page must
 * follow them (rmap.h contract), or the next diff would take them for a
 * guest store. */
bool mmu_mem_cmpxchg32(void *opaque, uint32_t gpa, uint32_t old, uint32_t new)
{
    struct mmu *m = opaque;
    uint32_t *p = ram_ptr(m->ram, gpa, 4);

    if (!p)
        return true;
    if (!__atomic_compare_exchange_n(p, &old, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        return false;
    dirty_mark_frame(m, gpa >> 12);     /* an A/D bit is guest memory too */
    rmap_sync_entry(m->rm, gpa, old, new);
    return true;
}

/* ---- permissions -------------------------------------------------------- */

static bool may_read(unsigned perm, bool user) { return !user || (perm & WALK_PERM_UR); }
static bool may_write(unsigned perm, bool user)
{
    return (perm & (user ? WALK_PERM_UW : WALK_PERM_SW)) != 0;
}

static bool same_region(const struct ram_region *rg, uint32_t frame)
{
    uint64_t gpa = (uint64_t)frame << 12;
    return gpa >= rg->gpa && gpa - rg->gpa < rg->size;
}

/* ---- the fill ----------------------------------------------------------- */

/* Prefetch candidates of the group [base, base + n) in m->cand: pages of
 * the same page table (or large page) as the faulting page lpn. */
static void gather(struct mmu *m, struct mspace *s, const struct walk_mode *mode,
                   const struct walk *w, uint32_t base, uint32_t n, uint32_t lpn0, bool user)
{
    const unsigned per = walk_pt_entries(mode), tshift = walk_pde_shift(mode) - 12;
    const void *pt = NULL;

    if (w->page_size == PAGE_4K)
        pt = ram_ptr(m->ram, (uint32_t)w->pde & PTE_FRAME, 4096);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t lpn = base + i, frame;
        uint64_t leaf;
        unsigned perm;
        bool want_w, over;

        if (m->cand[i].ok || lpn >> tshift != lpn0 >> tshift)
            continue;   /* the faulting page; another table's (PAE: 512 per table) */
        if (pt) {
            leaf = mode->pae ? ((const uint64_t *)pt)[lpn & (per - 1)]
                             : ((const uint32_t *)pt)[lpn & (per - 1)];
            if (!(leaf & PTE_P) || !(leaf & PTE_A) || walk_pte_rsvd(mode, leaf))
                continue;
            perm = walk_perm(mode, w->pde, leaf);
            frame = (uint32_t)((leaf & (mode->pae ? PAE_FRAME : PTE_FRAME)) >> 12);
        } else {
            leaf = w->pde;   /* one large page: its A is set, D covers all of it */
            perm = w->perm;
            frame = (uint32_t)((leaf & (mode->pae ? PAE_FRAME_2M : PDE_FRAME_4M)) >> 12) |
                    (lpn & (per - 1));
        }
        if (!may_read(perm, user) || !ram_region_of(m->ram, frame << 12) || mmu_rec_find(m, s, lpn) ||
            soft_page(m, s, lpn, false))
            continue;
        want_w = may_write(perm, user) && (leaf & PTE_D);
        over = perm_over(perm, user, want_w);
        if (over && view_lent(m, s))
            continue;   /* CPL 3 runs in s (mmu_view.c) */
        m->cand[i] = (struct cand){ .frame = frame, .ok = 1, .want_w = want_w, .over = over,
                                    .prot = (uint8_t)prot_want(m, frame, want_w) };
    }
}

/* Extent of the run through candidate i: contiguous frames in one region,
 * one protection. */
static uint32_t run_end(const struct mmu *m, uint32_t i, uint32_t n)
{
    const struct cand *c = m->cand;
    const struct ram_region *rg = ram_region_of(m->ram, c[i].frame << 12);
    uint32_t j = i;

    while (j + 1 < n && c[j + 1].ok && c[j + 1].frame == c[j].frame + 1 &&
           c[j + 1].prot == c[i].prot && same_region(rg, c[j + 1].frame))
        j++;
    return j;
}

static int map_cands(struct mmu *m, struct mspace *s, uint32_t base, uint32_t lo, uint32_t hi)
{
    for (uint32_t i = lo; i <= hi; i++) {
        m->want_w[i - lo] = rec_wflags(m->cand[i].want_w, m->cand[i].over);
        m->cand[i].ok = 0;
    }
    return map_run(m, s, base + lo, hi - lo + 1, m->cand[lo].frame, m->cand[lo].prot, m->want_w);
}

static int fill(struct mmu *m, struct mspace *s, const struct walk_mode *mode, const struct walk *w,
                uint32_t linear, bool user, int prot, bool want_w, bool over)
{
    uint32_t n = m->cfg.prefetch, lpn = linear >> 12, base = lpn & ~(n - 1), at = lpn - base;
    const struct ram_region *rg;
    uint32_t lo, hi;
    int rc;

    memset(m->cand, 0, n * sizeof *m->cand);
    m->cand[at] = (struct cand){ .frame = w->frame >> 12, .ok = 1, .prot = (uint8_t)prot,
                                 .want_w = want_w, .over = over };
    if (n > 1)
        gather(m, s, mode, w, base, n, lpn, user);

    /* The run through the faulting page first, with whatever eviction it
     * takes; the faulting page alone if room is short; in an empty space
     * if even that is short. */
    rg = ram_region_of(m->ram, m->cand[at].frame << 12);
    for (lo = at; lo > 0; lo--) {
        const struct cand *c = &m->cand[lo - 1];
        if (!c->ok || c->frame + 1 != m->cand[lo].frame || c->prot != prot ||
            !same_region(rg, c->frame))
            break;
    }
    hi = run_end(m, lo, n);
    if (!mmu_reserve(m, s, 2, hi - lo + 1)) {
        lo = hi = at;
        if (!mmu_reserve(m, s, 2, 1))
            space_reset(m, s, false);
    }
    rc = map_cands(m, s, base, lo, hi);
    if (rc == -ENOMEM) {
        /* The host refused even after other spaces were emptied: this
         * space's own mappings go, then the faulting page alone. */
        space_reset(m, s, false);
        lo = hi = at;
        m->want_w[0] = rec_wflags(want_w, over);
        rc = map_run(m, s, lpn, 1, w->frame >> 12, prot, m->want_w);
    }
    if (rc < 0)
        return rc;
    m->st.prefetched += hi - lo;

    /* The other runs only while there is room without evicting anything:
     * a prefetch is a guess. */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j;
        if (!m->cand[i].ok)
            continue;
        j = run_end(m, i, n);
        if (rec_free_count(m) >= j - i + 1 && (uint64_t)m->maps_total + 2 <= m->maps_budget &&
            map_cands(m, s, base, i, j) == 0)
            m->st.prefetched += j - i + 1;
        i = j;
    }
    return 0;
}

/* ---- faults ------------------------------------------------------------- */

static enum mmu_result done(struct mmu_fault_result *r, enum mmu_result kind)
{
    r->kind = kind;
    return kind;
}

/* Paging off: RAM is mapped read-write at its physical address except code
 * frames; anything else is device memory. */
static enum mmu_result ident_fault(struct mmu *m, uint32_t linear, enum mmu_access acc,
                                   struct mmu_fault_result *r)
{
    uint32_t frame = linear >> 12;

    r->gpa = linear;
    if (!ram_region_of(m->ram, linear)) {
        m->st.mmio++;
        return done(r, MMU_MMIO);
    }
    if (!m->ident_mapped)
        return done(r, MMU_ERROR);      /* mmu_activate maps it, outside the handler */
    if (acc == MMU_WRITE && (m->frame_flags[frame] & FRAME_IDWP)) {
        /* Dirty logging: the first store here since the last sync. */
        m->st.dirty_logged++;
        mmu_dirty_open(m, frame, true);
        if (!frame_is_code(m, frame)) {
            m->st.hidden++;
            return done(r, MMU_HIDDEN);
        }
    }
    if (acc == MMU_WRITE && frame_is_code(m, frame)) {
        m->st.code_writes++;
        return done(r, MMU_CODE_WRITE);
    }
    /* A stale fault: restate the page's protection. */
    m->st.host_calls++;
    space_protect(&m->ident.sp, frame << 12, 4096, ident_prot(m, frame));
    m->st.hidden++;
    return done(r, MMU_HIDDEN);
}

/* Record the tables a walk used (DESIGN §4, Tracing): the page directory
 * and, for a 4 KiB page, the page table. With PAE the PDPT is not traced:
 * the CPU reads it only when CR3 is loaded (SDM vol. 3A §4.4.1), and the
 * space is keyed by what it read then. */
bool mmu_trace_table(struct mmu *m, struct mspace *s, unsigned dep, uint32_t gpa)
{
    enum rmap_add_result res;

    if (m->nunsync && (dep == RMAP_PD || dep >= RMAP_PAE_PD(0)))
        unsync_end(m, gpa);     /* a directory is always write-protected (mmu_unsync.c) */
    res = rmap_add(m->rm, s->id, dep, gpa, ram_ptr(m->ram, gpa, 4096));
    if (res == RMAP_ADD_NEW && !unsync_may_skip_protect(m, dep, gpa))
        protect_frame(m, gpa >> 12);
    return res != RMAP_ADD_FULL;
}

static bool trace_tables(struct mmu *m, struct mspace *s, const struct walk_mode *mode,
                         const struct walk *w, uint32_t linear)
{
    uint32_t pd = w->pde_gpa & PTE_FRAME, pt = w->pte_gpa & PTE_FRAME;
    unsigned pd_dep = mode->pae ? RMAP_PAE_PD(linear >> 30) : RMAP_PD;
    unsigned pt_dep = mode->pae ? RMAP_PAE_PT(linear >> 21) : linear >> 22;

    if (!mmu_trace_table(m, s, pd_dep, pd) ||
        (w->page_size == PAGE_4K && !mmu_trace_table(m, s, pt_dep, pt)))
        return false;
    mmu_settle(m);
    return true;
}

/* mmu_fault, counting what it found in *st: also the monitor's own fills
 * (mmu_translate), which are no host faults. */
static enum mmu_result shadow_fill(struct mmu *m, struct space *sp, uint32_t linear,
                                   enum mmu_access acc, bool user, struct mmu_fault_result *r,
                                   struct mmu_stats *st, bool hard)
{
    struct mspace *s = ms_of(sp);
    struct walk_mode mode;
    struct walk w;
    uint32_t frame, lpn = linear >> 12, rec;
    bool want_w, over;
    int prot;

    memset(r, 0, sizeof *r);
    if (m->broken)
        return done(r, MMU_ERROR);
    mmu_settle(m);
    if (s->identity)
        return ident_fault(m, linear, acc, r);
    if (!s->keyed)
        return done(r, MMU_ERROR);
    if (s->detached)
        mmu_retarget(m, s);
    user = user || s->view == MMU_VIEW_USER;    /* the user view maps only what CPL 3 may touch */
    mode = mmu_mode(m, s->cr3, s->pdpte);
    unsync_before_walk(m, s, linear);   /* the fill is built from its snapshot */

    if (!walk_translate(&m->mem, &mode, linear, (enum walk_access)acc,
                        (user ? WALK_USER : 0) | WALK_SET_AD, &w)) {
        r->error = w.error;
        r->cr2 = w.cr2;
        st->guest_pf++;
        return done(r, MMU_GUEST_PF);
    }
    r->gpa = w.gpa;
    if (!trace_tables(m, s, &mode, &w, linear))
        return done(r, MMU_ERROR);
    frame = w.frame >> 12;
    if (!ram_region_of(m->ram, w.frame)) {
        st->mmio++;
        return done(r, MMU_MMIO);
    }
    want_w = may_write(w.perm, user) && w.dirty;
    over = perm_over(w.perm, user, want_w);
    if (over && view_lent(m, s)) {
        /* CPL 3 runs in s: a supervisor-only right must not appear in it
         * (mmu_view.c). Walked, A/D set: the monitor does the access. */
        st->lent_walks++;
        return done(r, MMU_SOFT);
    }
    if (acc == MMU_WRITE && (m->frame_flags[frame] & FRAME_LOGWP)) {
        /* Dirty logging: the walk allowed the store; it is the frame's
         * first since the last sync (tracing and code protection keep
         * their own reasons below). */
        st->dirty_logged++;
        mmu_dirty_open(m, frame, false);
    }
    prot = prot_want(m, frame, want_w);

    rec = mmu_rec_find(m, s, lpn);
    if (!rec && !hard && soft_page(m, s, lpn, true)) {
        /* Walked, A/D set, tables traced: the monitor does the access. */
        st->soft_faults++;
        return done(r, MMU_SOFT);
    }
    if (rec && m->rec[rec].frame == frame) {
        view_rec_set(m, rec, want_w, over);
        if (m->rec[rec].prot != prot) {
            if (mmu_set_prot(m, rec, prot) < 0)
                return done(r, MMU_ERROR);
            if (prot == PROT_RW)
                m->st.dirty_upgrades++;
        }
    } else {
        /* A record for another frame cannot outlive a traced change of its
         * PTE; unmap it properly all the same. */
        if (rec && mmu_zap_range(m, s, lpn, 1) < 0)
            return done(r, MMU_ERROR);
        if (fill(m, s, &mode, &w, linear, user, prot, want_w, over) < 0)
            return done(r, MMU_ERROR);
    }

    if (acc == MMU_WRITE && prot != PROT_RW) {
        /* The walk allowed the write and set D, so only tracing or code
         * protection holds it back. Code first: the monitor invalidates
         * the blocks, and the retried store faults again if traced. */
        if (frame_is_code(m, frame)) {
            st->code_writes++;
            return done(r, MMU_CODE_WRITE);
        }
        st->traced_writes++;
        return done(r, MMU_TRACED_WRITE);
    }
    st->hidden++;
    return done(r, MMU_HIDDEN);
}

enum mmu_result mmu_fault(struct mmu *m, struct space *sp, uint32_t linear, enum mmu_access acc,
                          bool user, struct mmu_fault_result *r)
{
    m->st.faults++;
    return shadow_fill(m, sp, linear, acc, user, r, &m->st, false);
}

enum mmu_result mmu_fault_hard(struct mmu *m, struct space *sp, uint32_t linear, enum mmu_access acc,
                               bool user, struct mmu_fault_result *r)
{
    if (!ms_of(sp)->identity)
        soft_end(m, ms_of(sp), linear >> 12);
    return shadow_fill(m, sp, linear, acc, user, r, &m->st, true);
}

uint64_t mmu_soft_accesses(const struct mmu *m) { return m->st.soft_xlates; }

/* The shadow already answers for a page it maps: a record exists only
 * while the guest entries it was filled from are unchanged (they are
 * traced), their Accessed bits are set, and want_w says the view may write
 * with D set. A user-view record serves supervisor reads and writes too:
 * what CPL 3 may read or write, a supervisor may (SDM vol. 3A §4.6; no
 * SMAP). Instruction fetches walk (execute-disable is not recorded). */
static bool translate_from_shadow(struct mmu *m, uint32_t linear, enum mmu_access acc, bool user,
                                  struct mmu_fault_result *r)
{
    for (int view = user ? MMU_VIEW_USER : MMU_VIEW_SUPER;; view = MMU_VIEW_USER) {
        struct mspace *s = view == MMU_VIEW_USER ? view_user_space(m) : mmu_current_space(m, MMU_VIEW_SUPER);
        uint32_t key = s ? (uint32_t)s->id << 20 | linear >> 12 : 0, i = (linear >> 12) % XL_ENTRIES;
        uint32_t rec = m->xl_rec[view][i];
        if (s && (!rec || m->xl_key[view][i] != key || m->rec[rec].key != key)) {
            rec = mmu_rec_find(m, s, linear >> 12);
            m->xl_key[view][i] = key;
            m->xl_rec[view][i] = rec;
        }
        if (s && rec && (acc == MMU_READ || m->rec[rec].want_w)) {
            const struct mrec *p = &m->rec[rec];
            r->gpa = p->frame << 12 | (linear & 4095);
            /* Exact: a plain host load (and, mapped writable, store) does
             * what the CPU would; CPL 3 may do the same unless over. */
            r->exact = MMU_EXACT_READ | (p->prot == PROT_RW ? MMU_EXACT_STORE : 0) |
                       (s->view == MMU_VIEW_USER || !p->over ? MMU_EXACT_USER : 0);
            return true;
        }
        if (view == MMU_VIEW_USER)
            return false;
    }
}

enum mmu_result mmu_translate(struct mmu *m, uint32_t linear, enum mmu_access acc, bool user,
                              struct mmu_fault_result *r)
{
    struct walk_mode mode;
    struct walk w;

    memset(r, 0, sizeof *r);
    if (!m->paging) {
        r->gpa = linear;
        return done(r, MMU_HIDDEN);
    }
    mmu_settle(m);
    if (acc != MMU_FETCH && translate_from_shadow(m, linear, acc, user, r)) {
        m->st.shadow_xlates++;
        return done(r, MMU_HIDDEN);
    }
    if (acc != MMU_FETCH) {
        /* Fill the page in the view the access is made in, as the CPU's
         * TLB takes the translation in: the monitor's next access to it
         * (the same IDT entry, descriptor, TSS field or stack frame on the
         * next system call) is answered by the shadow. The fill's walk
         * sets A/D as the one below would. */
        struct mspace *s = user ? view_user_space(m) : mmu_current_space(m, MMU_VIEW_SUPER);
        struct mmu_stats quiet = { 0 };
        struct mmu_fault_result f;
        enum mmu_result k = s ? shadow_fill(m, &s->sp, linear, acc, user, &f, &quiet, false) : MMU_ERROR;
        m->st.soft_xlates += k == MMU_SOFT;
        m->st.lent_walks += quiet.lent_walks;
        if (k == MMU_GUEST_PF) {
            *r = f;
            return done(r, MMU_GUEST_PF);
        }
        if (k != MMU_ERROR) {
            r->gpa = f.gpa;
            if (k == MMU_HIDDEN && translate_from_shadow(m, linear, acc, user, &f) && f.gpa == r->gpa)
                r->exact = f.exact;     /* the fill made a record: exact from now on */
            return done(r, MMU_HIDDEN);
        }
    }
    mode = mmu_mode(m, m->pae ? m->cr3 : m->cr3 & PTE_FRAME, m->pdpte);
    if (!walk_translate(&m->mem, &mode, linear, (enum walk_access)acc,
                        (user ? WALK_USER : 0) | WALK_SET_AD, &w)) {
        r->error = w.error;
        r->cr2 = w.cr2;
        return done(r, MMU_GUEST_PF);
    }
    r->gpa = w.gpa;
    r->global = ((w.page_size == PAGE_4K ? w.pte : w.pde) & PTE_G) != 0;
    return done(r, MMU_HIDDEN);
}

int mmu_rec_refresh(struct mmu *m, struct mspace *s, uint32_t r, uint32_t avoid)
{
    struct mrec *p = &m->rec[r];
    uint32_t linear = lpn_of_rec(p) << 12, frame;
    bool user = s->view == MMU_VIEW_USER, want_w, over;
    struct walk_mode mode = mmu_mode(m, s->cr3, s->pdpte);
    struct walk w;
    int prot;

    /* The record stands for a fill the walk below would repeat: present,
     * both levels accessed (a fill sets A; prefetch only maps accessed
     * pages), a 4 KiB page of the page table the space already traces. */
    if (!walk_translate(&m->mem, &mode, linear, WALK_READ, user ? WALK_USER : 0, &w) ||
        w.page_size != PAGE_4K || !(w.pde & PTE_A) || !(w.pte & PTE_A) ||
        (w.pde_gpa >> 12) == avoid || !ram_region_of(m->ram, w.frame))
        return -1;
    frame = w.frame >> 12;
    want_w = may_write(w.perm, user) && w.dirty;
    over = perm_over(w.perm, user, want_w);
    if (over && view_lent(m, s))
        return -1;      /* CPL 3 runs in s: unmapped, its next access walks (mmu_view.c) */
    prot = prot_want(m, frame, want_w);
    if (frame == p->frame && prot == p->prot) {
        view_rec_set(m, r, want_w, over);
        m->st.refreshes++;
        return 0;
    }
    if (frame == p->frame) {
        view_rec_set(m, r, want_w, over);
        return mmu_set_prot(m, r, prot);
    }
    return mmu_remap_page(m, r, frame, prot, rec_wflags(want_w, over));
}

void mmu_map_accessed(struct mmu *m, struct space *sp, uint32_t linear, bool user)
{
    struct mspace *s = ms_of(sp);
    struct mmu_fault_result r;
    struct walk_mode mode;
    struct walk w;

    if (s->identity || !s->keyed || mmu_rec_find(m, s, linear >> 12) ||
        soft_page(m, s, linear >> 12, false))
        return;     /* mapped already (INVLPG found it exact), or soft */
    mmu_settle(m);
    mode = mmu_mode(m, s->cr3, s->pdpte);
    user = user || s->view == MMU_VIEW_USER;
    /* A probe: no A/D written. Only entries the guest already marked
     * accessed, so the fill sets nothing the guest did not set. */
    if (!walk_translate(&m->mem, &mode, linear, WALK_READ, user ? WALK_USER : 0, &w) ||
        !(w.pde & PTE_A) || (w.page_size == PAGE_4K && !(w.pte & PTE_A)))
        return;
    shadow_fill(m, sp, linear, MMU_READ, user, &r, &m->st, false);     /* no host fault */
}
