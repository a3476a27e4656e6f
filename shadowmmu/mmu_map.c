/* mmu_map — mapping records and host mappings of the shadow spaces
 * (mmu_internal.h explains the records and the VMA model).
 *
 * Every function here that changes host mappings makes one system call
 * and keeps three things in step: the host, the records, and the model
 * (the non-merging page pairs around the changed pages are counted before
 * and after the records change; the difference goes to the space's VMA
 * count). Records change only once the call succeeded, so on failure they
 * still describe the window. A call that fails with ENOMEM —
 * vm.max_map_count reached — is retried after emptying the least recently
 * used other space (DESIGN §4, "Limits"), which never fails for that reason
 * itself (space_reset). All of it is async-signal-safe. */
#define _GNU_SOURCE
#include "decoder/x86.h"
#include "shadowmmu/mmu_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

/* ---- records ------------------------------------------------------------- */

static uint32_t key_of(const struct mspace *s, uint32_t lpn) { return (uint32_t)s->id << 20 | lpn; }

static uint32_t *bucket(const struct mmu *m, uint32_t key)
{
    return &m->hash[fib_hash32(key, 32 - m->hash_shift)];
}

uint32_t mmu_rec_find(const struct mmu *m, const struct mspace *s, uint32_t lpn)
{
    uint32_t key = key_of(s, lpn);
    for (uint32_t r = *bucket(m, key); r; r = m->rec[r].hnext)
        if (m->rec[r].key == key)
            return r;
    return 0;
}

uint32_t rec_free_count(const struct mmu *m) { return m->cfg.max_records - m->rec_used; }

int rec_desired_prot(const struct mmu *m, const struct mrec *r)
{
    return prot_want(m, r->frame, r->want_w);
}

/* Callers check rec_free_count first. */
static uint32_t rec_insert(struct mmu *m, struct mspace *s, uint32_t lpn, uint32_t frame, int prot,
                           uint8_t wflags)
{
    uint32_t r = m->rec_free, *b;
    struct mrec *p = &m->rec[r];

    m->rec_free = p->hnext;
    m->rec_used++;
    *p = (struct mrec){ .frame = frame, .key = key_of(s, lpn), .prot = (uint8_t)prot,
                        .want_w = (wflags & MREC_WANT_W) != 0, .over = (wflags & MREC_OVER) != 0 };
    view_rec_added(m, s, p);
    b = bucket(m, p->key);
    p->hnext = *b;
    *b = r;
    p->fnext = m->frame_head[frame];
    if (p->fnext)
        m->rec[p->fnext].fprev = r;
    m->frame_head[frame] = r;
    p->snext = s->recs;
    if (p->snext)
        m->rec[p->snext].sprev = r;
    s->recs = r;
    s->nrecs++;
    return r;
}

static void rec_remove(struct mmu *m, uint32_t r)
{
    struct mrec *p = &m->rec[r];
    struct mspace *s = space_of_rec(m, p);
    uint32_t *b = bucket(m, p->key);

    view_rec_removed(m, s, p);
    while (*b != r)
        b = &m->rec[*b].hnext;
    *b = p->hnext;
    if (p->fprev)
        m->rec[p->fprev].fnext = p->fnext;
    else
        m->frame_head[p->frame] = p->fnext;
    if (p->fnext)
        m->rec[p->fnext].fprev = p->fprev;
    if (p->sprev)
        m->rec[p->sprev].snext = p->snext;
    else
        s->recs = p->snext;
    if (p->snext)
        m->rec[p->snext].sprev = p->sprev;
    s->nrecs--;
    for (unsigned i = 0; i < 2; i++)
        if (m->pend[i].used && m->pend[i].s == s && m->pend[i].lpn == lpn_of_rec(p))
            m->pend[i].used = false;
    p->key = MREC_FREE;
    p->hnext = m->rec_free;
    m->rec_free = r;
    m->rec_used--;
}

/* ---- the VMA model ----------------------------------------------------- */

struct pstate {
    bool mapped;
    uint8_t prot;
    uint64_t fdpage;    /* memfd offset >> 12 */
};

static struct pstate page_state(const struct mmu *m, const struct mspace *s, int64_t lpn)
{
    struct pstate st = { 0 };
    const struct ram_region *rg;
    uint32_t frame;

    if (lpn < 0 || lpn >= LPNS)
        return st;          /* a guard: PROT_NONE like an unmapped page */
    if (s->identity) {
        if (!m->ident_mapped)
            return st;
        frame = (uint32_t)lpn;
        st.prot = ident_prot(m, frame);
    } else {
        uint32_t r = mmu_rec_find(m, s, (uint32_t)lpn);
        if (!r)
            return st;
        frame = m->rec[r].frame;
        st.prot = m->rec[r].prot;
    }
    rg = ram_region_of(m->ram, frame << 12);
    if (!rg)
        return st;
    st.mapped = true;
    st.fdpage = (rg->fd_off + ((frame << 12) - rg->gpa)) >> 12;
    return st;
}

/* Do pages lpn and lpn + 1 fall in one VMA? */
static bool joined(const struct mmu *m, const struct mspace *s, int64_t lpn)
{
    struct pstate a = page_state(m, s, lpn), b = page_state(m, s, lpn + 1);
    if (!a.mapped || !b.mapped)
        return a.mapped == b.mapped;
    return a.prot == b.prot && b.fdpage == a.fdpage + 1;
}

/* Non-merging pairs that involve page lpn. */
static int breaks_around(const struct mmu *m, const struct mspace *s, int64_t lpn)
{
    return !joined(m, s, lpn - 1) + !joined(m, s, lpn);
}

void model_adjust(struct mmu *m, struct mspace *s, int delta)
{
    s->maps = (uint32_t)((int64_t)s->maps + delta);
    m->maps_total = (uint32_t)((int64_t)m->maps_total + delta);
    if (m->maps_total > m->st.maps_peak)
        m->st.maps_peak = m->maps_total;
}

/* ---- eviction ----------------------------------------------------------- */

/* The least recently used non-empty paging space other than keep; the
 * active one only as a last resort. */
static struct mspace *victim(struct mmu *m, struct mspace *keep)
{
    struct mspace *best = NULL;
    for (unsigned i = 0; i < m->cfg.spaces; i++) {
        struct mspace *s = &m->spaces[i];
        if (s == keep || !s->nrecs)
            continue;
        if (!best || (s != m->cur && best == m->cur) ||
            ((s == m->cur) == (best == m->cur) && s->lru < best->lru))
            best = s;
    }
    return best;
}

static bool evict_other(struct mmu *m, struct mspace *keep)
{
    struct mspace *s = victim(m, keep);
    if (!s)
        return false;
    space_reset(m, s, true);
    s->lru = 0;
    m->st.evictions++;
    return true;
}

bool mmu_relieve(struct mmu *m, struct mspace *keep)
{
    m->st.enomem++;
    return evict_other(m, keep);
}

bool mmu_reserve(struct mmu *m, struct mspace *keep, uint32_t maps, uint32_t recs)
{
    while ((uint64_t)m->maps_total + maps > m->maps_budget || rec_free_count(m) < recs)
        if (!evict_other(m, keep))
            return false;
    return true;
}

/* ---- host mappings ----------------------------------------------------- */

static uint64_t fd_off_of(const struct mmu *m, uint32_t frame)
{
    const struct ram_region *rg = ram_region_of(m->ram, frame << 12);
    return rg->fd_off + ((frame << 12) - rg->gpa);
}

int map_run(struct mmu *m, struct mspace *s, uint32_t lpn, uint32_t n, uint32_t frame, int prot,
            const uint8_t *want_w)
{
    int before = 0, after = 0, rc;

    if (rec_free_count(m) < n)
        return -ENOMEM;
    /* The run's pages are unmapped, so pairs inside it merge before and
     * after: only its two edges change. */
    before = !joined(m, s, (int64_t)lpn - 1) + !joined(m, s, (int64_t)lpn + n - 1);
    m->st.host_calls++;
    while ((rc = space_map(&s->sp, lpn << 12, (size_t)n << 12, m->ram->fd, fd_off_of(m, frame),
                           prot)) == -ENOMEM && mmu_relieve(m, s))
        ;
    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < n; i++)
        rec_insert(m, s, lpn + i, frame + i, prot, want_w[i]);
    after = !joined(m, s, (int64_t)lpn - 1) + !joined(m, s, (int64_t)lpn + n - 1);
    model_adjust(m, s, after - before);
    m->st.fills++;
    return 0;
}

int mmu_remap_page(struct mmu *m, uint32_t r, uint32_t frame, int prot, uint8_t wflags)
{
    struct mrec *p = &m->rec[r];
    struct mspace *s = space_of_rec(m, p);
    uint32_t lpn = lpn_of_rec(p);
    int before = breaks_around(m, s, lpn), rc;

    mmu_reserve(m, s, 2, 0);
    /* MAP_FIXED replaces the old page in the same call: no unmap. */
    m->st.host_calls++;
    while ((rc = space_remap(&s->sp, lpn << 12, m->ram->fd, fd_off_of(m, frame), prot)) == -ENOMEM &&
           mmu_relieve(m, s))
        ;
    if (rc < 0)
        return rc;
    rec_remove(m, r);
    rec_insert(m, s, lpn, frame, prot, wflags);
    model_adjust(m, s, breaks_around(m, s, lpn) - before);
    m->st.remaps++;
    return 0;
}

int mmu_set_prot(struct mmu *m, uint32_t r, int prot)
{
    struct mrec *p = &m->rec[r];
    struct mspace *s = space_of_rec(m, p);
    uint32_t lpn = lpn_of_rec(p);
    int before, after, rc, old = p->prot;

    if (old == prot)
        return 0;
    xlate_moved(m);
    before = breaks_around(m, s, lpn);
    p->prot = (uint8_t)prot;
    after = breaks_around(m, s, lpn);
    p->prot = (uint8_t)old;
    if (after > before)
        mmu_reserve(m, s, (uint32_t)(after - before), 0);
    /* Eviction only empties other spaces, so r is still ours. */
    m->st.host_calls++;
    while ((rc = space_protect(&s->sp, lpn << 12, 4096, prot)) == -ENOMEM && mmu_relieve(m, s))
        ;
    if (rc < 0)
        return rc;
    p->prot = (uint8_t)prot;
    model_adjust(m, s, after - before);
    return 0;
}

int mmu_zap_range(struct mmu *m, struct mspace *s, uint32_t lpn, uint32_t n)
{
    bool sparse, found = false;
    int delta = 0, rc;

    if (lpn >= LPNS || !s->nrecs)
        return 0;
    if (n > LPNS - lpn)
        n = LPNS - lpn;
    /* A sparse space is searched through its own list. */
    sparse = s->nrecs < n / 8;
    if (sparse) {
        for (uint32_t r = s->recs; r && !found; r = m->rec[r].snext)
            found = lpn_of_rec(&m->rec[r]) - lpn < n;
    } else {
        for (uint32_t i = 0; i < n && !found; i++)
            found = mmu_rec_find(m, s, lpn + i) != 0;
    }
    if (!found)
        return 0;

    /* The system call first: if even eviction cannot make it succeed, the
     * records still describe the window and space_reset can unmap it. */
    mmu_reserve(m, s, 2, 0);
    m->st.host_calls++;
    while ((rc = space_unmap(&s->sp, lpn << 12, (uint64_t)n << 12)) == -ENOMEM && mmu_relieve(m, s))
        ;
    if (rc < 0) {
        space_reset(m, s, false);
        return rc;
    }
    /* Page by page, so the model needs only the pairs around each page:
     * the state after all removals is what the one call produced. */
    if (sparse) {
        for (uint32_t r = s->recs, next; r; r = next) {
            uint32_t l = lpn_of_rec(&m->rec[r]);
            next = m->rec[r].snext;
            if (l - lpn < n) {
                delta -= breaks_around(m, s, l);
                rec_remove(m, r);
                delta += breaks_around(m, s, l);
                m->st.zapped_pages++;
            }
        }
    } else {
        for (uint32_t i = 0; i < n; i++) {
            uint32_t r = mmu_rec_find(m, s, lpn + i);
            if (!r)
                continue;
            delta -= breaks_around(m, s, lpn + i);
            rec_remove(m, r);
            delta += breaks_around(m, s, lpn + i);
            m->st.zapped_pages++;
        }
    }
    model_adjust(m, s, delta);
    return 0;
}

/* The unmap covers exactly the recorded pages, from the first to the last:
 * both ends are VMA boundaries (a hole lies beyond each), so the kernel
 * splits nothing and the call succeeds even at vm.max_map_count — which
 * is when eviction needs it to. */
void space_reset(struct mmu *m, struct mspace *s, bool drop_deps)
{
    if (s->nrecs) {
        uint32_t lo = LPNS - 1, hi = 0;
        int rc;

        for (uint32_t r = s->recs; r; r = m->rec[r].snext) {
            uint32_t l = lpn_of_rec(&m->rec[r]);
            lo = l < lo ? l : lo;
            hi = l > hi ? l : hi;
        }
        while (s->recs)
            rec_remove(m, s->recs);
        m->st.host_calls++;
        rc = space_unmap(&s->sp, lo << 12, (uint64_t)(hi - lo + 1) << 12);
        if (rc < 0) {
            m->st.enomem += rc == -ENOMEM;
            m->st.host_calls++;
            rc = space_unmap(&s->sp, 0, SPACE_WINDOW);
        }
        if (rc < 0)
            m->broken = true;   /* pages we can no longer find stay mapped */
        model_adjust(m, s, 1 - (int)s->maps);
        m->evict_gen++;
    }
    for (unsigned i = 0; i < 2; i++)
        if (m->pend[i].s == s)
            m->pend[i].used = false;
    s->detached = false;        /* nothing left to retarget */
    if (drop_deps && !s->identity) {
        if (m->in_cb) {
            s->drop_pending = true;
            m->drops_pending = true;
        } else {
            rmap_drop_space(m->rm, s->id);
            s->drop_pending = false;
        }
    }
}

/* ---- the identity space ------------------------------------------------ */

int ident_map(struct mmu *m)
{
    struct mspace *s = &m->ident;
    char err[160];
    int delta = 0;

    if (m->ident_mapped)
        return 0;
    m->st.host_calls++;
    if (space_map_identity(&s->sp, m->ram, err, sizeof err) < 0)
        return -ENOMEM;
    m->ident_mapped = true;
    /* The region edges are the only pairs that can fail to merge. */
    for (int i = 0; i < m->ram->n; i++) {
        const struct ram_region *rg = &m->ram->r[i];
        int64_t first = rg->gpa >> 12, last = first + (int64_t)(rg->size >> 12) - 1;
        delta += !joined(m, s, first - 1) + !joined(m, s, last);
    }
    model_adjust(m, s, delta);
    /* Code frames registered (and frames dirty logging protected) before
     * the first activation. */
    for (int i = 0; i < m->ram->n; i++) {
        const struct ram_region *rg = &m->ram->r[i];
        for (uint64_t off = 0; off < rg->size; off += 4096) {
            uint32_t frame = (uint32_t)((rg->gpa + off) >> 12);
            uint8_t f = m->frame_flags[frame] & (FRAME_CODE | FRAME_IDWP);
            if (f) {
                m->frame_flags[frame] &= (uint8_t)~f;
                ident_set_flag_run(m, frame, 1, f, true);
            }
        }
    }
    return 0;
}

int ident_set_code(struct mmu *m, uint32_t frame, bool code)
{
    if (code == frame_is_code(m, frame))
        return 0;
    return ident_set_flag_run(m, frame, 1, FRAME_CODE, code);
}

/* Non-merging pairs that involve pages [first, first + n). */
static int breaks_in(const struct mmu *m, const struct mspace *s, uint32_t first, uint32_t n)
{
    int b = 0;
    for (int64_t j = (int64_t)first - 1; j < (int64_t)first + n; j++)
        b += !joined(m, s, j);
    return b;
}

int ident_set_flag_run(struct mmu *m, uint32_t first, uint32_t n, uint8_t flag, bool on)
{
    struct mspace *s = &m->ident;
    uint8_t old0 = m->frame_flags[first];
    int before = 0, after, rc = 0;
    bool mapped = m->ident_mapped && ram_region_of(m->ram, first << 12);

    if (mapped)
        before = breaks_in(m, s, first, n);
    for (uint32_t i = 0; i < n; i++)
        m->frame_flags[first + i] = on ? m->frame_flags[first + i] | flag
                                       : m->frame_flags[first + i] & (uint8_t)~flag;
    if (!mapped)
        return 0;
    after = breaks_in(m, s, first, n);
    if (after > before)
        mmu_reserve(m, s, (uint32_t)(after - before), 0);
    /* One mprotect per stretch of equal protection (the other flag may
     * hold some frames read-only). */
    for (uint32_t i = 0, j; i < n && rc == 0; i = j) {
        int prot = ident_prot(m, first + i);
        for (j = i + 1; j < n && ident_prot(m, first + j) == prot; j++)
            ;
        m->st.host_calls++;
        while ((rc = space_protect(&s->sp, (first + i) << 12, (size_t)(j - i) << 12, prot)) == -ENOMEM &&
               mmu_relieve(m, s))
            ;
    }
    if (rc < 0) {
        /* Unprotect: the frames just stay read-only (a write fault restates
         * them). Protect: writes in the identity space would go unseen. */
        if (on)
            m->broken = true;
        if (n == 1)
            m->frame_flags[first] = old0;
        return rc;
    }
    model_adjust(m, s, after - before);
    return 0;
}
