/* rmap — see rmap.h.
 *
 * Pools, all allocated by rmap_create and linked by 32-bit indices (NIL ends
 * a list):
 *   pages[]   one record per traced page; in the hash table (open addressing,
 *             linear probing, backward-shift deletion, so no tombstones), in
 *             the LRU list (head = most recently used), and the head of its
 *             list of dependents. Free records are chained through lru_next.
 *   snap[]    the 4 KiB snapshot of pages[i] is snap[i].
 *   deps[]    one record per (space, pde) -> page; doubly linked in the
 *             page's list. Free records are chained through next.
 *   slot[]    per space, RMAP_DEPS dependents: slot[space][j] is the
 *             dependent for PDE j (a page table), slot[space][RMAP_PD] the
 *             page directory, and the PAE ones (rmap.h). A space's PDE
 *             references one table at a time, so this finds, replaces or
 *             removes a dependent in O(1).
 *
 * A page with no dependents is released at once (RMAP_UNUSED), except while
 * `pinned` (being added to, or the page directory of the space being added
 * to) or `dying` (being evicted: it is released once, at the end). */
#include "decoder/x86.h"
#include "shadowmmu/rmap.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NIL 0xffffffffu
#define ENTRIES 1024u
#define SLOTS RMAP_DEPS

struct rpage {
    uint32_t gpa;               /* page aligned */
    uint32_t deps;              /* first dependent */
    uint32_t ndeps;
    uint32_t lru_prev, lru_next;
    uint16_t writes;            /* stores since last use as a page table */
    uint8_t pinned, dying;
    uint8_t unsync;             /* not write-protected: diffed by rmap_sync_page (rmap.h) */
};

struct rdep {
    uint32_t page;
    uint32_t prev, next;
    uint16_t space, pde;
};

struct rhash {
    uint32_t key;               /* gpa >> 12 */
    uint32_t page;              /* NIL: empty */
};

struct rmap {
    struct rmap_config cfg;
    struct rmap_ops ops;
    struct rpage *pages;
    uint32_t (*snap)[ENTRIES];
    uint32_t page_free, lru_head, lru_tail;
    struct rdep *deps;
    uint32_t dep_free;
    struct rhash *hash;
    uint32_t hash_mask, hash_shift;
    uint32_t *slot;             /* max_spaces * SLOTS */
    uint32_t *scratch;          /* slots (space * SLOTS + pde) collected during a diff */
    struct rmap_stats st;
    bool busy;                  /* in a callback: re-entry is a caller bug */
};

/* ---- hash table: page-frame number -> page record ---------------------- */

static uint32_t hash_home(const struct rmap *rm, uint32_t key)
{
    return fib_hash32(key, 32 - rm->hash_shift);
}

static uint32_t hash_find(const struct rmap *rm, uint32_t gpa)
{
    uint32_t key = gpa >> 12;
    for (uint32_t i = hash_home(rm, key);; i = (i + 1) & rm->hash_mask) {
        if (rm->hash[i].page == NIL)
            return NIL;
        if (rm->hash[i].key == key)
            return rm->hash[i].page;
    }
}

static void hash_insert(struct rmap *rm, uint32_t gpa, uint32_t page)
{
    uint32_t key = gpa >> 12, i = hash_home(rm, key);
    while (rm->hash[i].page != NIL)
        i = (i + 1) & rm->hash_mask;
    rm->hash[i] = (struct rhash){ key, page };
}

static void hash_delete(struct rmap *rm, uint32_t gpa)
{
    uint32_t key = gpa >> 12, i = hash_home(rm, key);
    while (rm->hash[i].key != key || rm->hash[i].page == NIL)
        i = (i + 1) & rm->hash_mask;
    /* Backward shift: pull later members of the probe run into the hole if
     * the hole lies between their home slot and where they sit. */
    for (uint32_t j = i;;) {
        rm->hash[i].page = NIL;
        for (;;) {
            j = (j + 1) & rm->hash_mask;
            if (rm->hash[j].page == NIL)
                return;
            uint32_t home = hash_home(rm, rm->hash[j].key);
            /* Movable unless home lies cyclically in (i, j]. */
            if (((j - home) & rm->hash_mask) >= ((j - i) & rm->hash_mask))
                break;
        }
        rm->hash[i] = rm->hash[j];
        i = j;
    }
}

/* ---- LRU ---------------------------------------------------------------- */

static void lru_unlink(struct rmap *rm, uint32_t p)
{
    struct rpage *pg = &rm->pages[p];
    if (pg->lru_prev != NIL)
        rm->pages[pg->lru_prev].lru_next = pg->lru_next;
    else
        rm->lru_head = pg->lru_next;
    if (pg->lru_next != NIL)
        rm->pages[pg->lru_next].lru_prev = pg->lru_prev;
    else
        rm->lru_tail = pg->lru_prev;
}

static void lru_push(struct rmap *rm, uint32_t p)
{
    struct rpage *pg = &rm->pages[p];
    pg->lru_prev = NIL;
    pg->lru_next = rm->lru_head;
    if (rm->lru_head != NIL)
        rm->pages[rm->lru_head].lru_prev = p;
    else
        rm->lru_tail = p;
    rm->lru_head = p;
}

static void page_touch(struct rmap *rm, uint32_t p)
{
    rm->pages[p].writes = 0;
    if (rm->lru_head != p) {
        lru_unlink(rm, p);
        lru_push(rm, p);
    }
}

/* ---- pages and dependents ---------------------------------------------- */

static uint32_t *slot_of(const struct rmap *rm, unsigned space, unsigned pde)
{
    return &rm->slot[(size_t)space * SLOTS + pde];
}

/* ---- dependent geometry (rmap.h: what `pde` names) ----------------------- */

static bool dep_is_dir(unsigned pde) { return pde == RMAP_PD || pde >= RMAP_PAE_PD(0); }
static bool dep_is_wide(unsigned pde) { return pde > RMAP_PD; }

/* The linear range entry e of the page governs for this dependent, and for
 * a directory the slot of the table dependency the entry carries. */
static void dep_range(unsigned pde, unsigned e, uint32_t *linear, uint32_t *npages, unsigned *child)
{
    if (pde < RMAP_PD) {                       /* 32-bit page table of PDE pde */
        *linear = (uint32_t)pde << 22 | (uint32_t)e << 12;
        *npages = 1;
    } else if (pde == RMAP_PD) {               /* 32-bit page directory */
        *linear = (uint32_t)e << 22;
        *npages = 1024;
        *child = e;
    } else if (pde < RMAP_PAE_PD(0)) {         /* PAE page table of PDE j */
        *linear = (uint32_t)(pde - RMAP_PAE_PT(0)) << 21 | (uint32_t)e << 12;
        *npages = 1;
    } else {                                   /* PAE page directory k */
        unsigned k = pde - RMAP_PAE_PD(0);
        *linear = (uint32_t)k << 30 | (uint32_t)e << 21;
        *npages = 512;
        *child = RMAP_PAE_PT(k * 512 + e);
    }
}

/* The whole range of a page table dependent. */
static void table_range(unsigned pde, uint32_t *linear, uint32_t *npages)
{
    if (pde < RMAP_PD) {
        *linear = (uint32_t)pde << 22;
        *npages = ENTRIES;
    } else {
        *linear = (uint32_t)(pde - RMAP_PAE_PT(0)) << 21;
        *npages = 512;
    }
}

static void zap(struct rmap *rm, unsigned space, uint32_t linear, uint32_t npages)
{
    rm->st.zaps++;
    rm->busy = true;
    rm->ops.zap(rm->ops.opaque, space, linear, npages);
    rm->busy = false;
}

static bool detach(struct rmap *rm, unsigned space, const uint32_t *pd)
{
    bool kept;

    rm->busy = true;
    kept = rm->ops.detach(rm->ops.opaque, space, pd);
    rm->busy = false;
    rm->st.detaches += kept;
    return kept;
}

/* Free a page with no dependents left. */
static void page_release(struct rmap *rm, uint32_t p, enum rmap_why why)
{
    struct rpage *pg = &rm->pages[p];
    uint32_t gpa = pg->gpa;

    assert(pg->ndeps == 0);
    hash_delete(rm, gpa);
    lru_unlink(rm, p);
    pg->lru_next = rm->page_free;
    rm->page_free = p;
    rm->st.pages--;
    if (why == RMAP_UNUSED)
        rm->st.unused++;
    else if (why == RMAP_EVICTED)
        rm->st.evicted++;
    else
        rm->st.flooded++;
    rm->busy = true;
    rm->ops.untracked(rm->ops.opaque, gpa, why);
    rm->busy = false;
}

static void dep_unlink(struct rmap *rm, uint32_t d)
{
    struct rdep *dp = &rm->deps[d];
    struct rpage *pg = &rm->pages[dp->page];
    uint32_t p = dp->page;

    if (dp->prev != NIL)
        rm->deps[dp->prev].next = dp->next;
    else
        pg->deps = dp->next;
    if (dp->next != NIL)
        rm->deps[dp->next].prev = dp->prev;
    *slot_of(rm, dp->space, dp->pde) = NIL;
    dp->next = rm->dep_free;
    rm->dep_free = d;
    rm->st.deps--;
    if (--pg->ndeps == 0 && !pg->pinned && !pg->dying)
        page_release(rm, p, RMAP_UNUSED);
}

static void drop_space(struct rmap *rm, unsigned space)
{
    for (unsigned j = 0; j < SLOTS; j++) {
        uint32_t d = *slot_of(rm, space, j);
        if (d != NIL)
            dep_unlink(rm, d);
    }
}

/* Stop tracing page p: zap what depends on it, then release it. A space
 * whose page directory this is can no longer be kept coherent at all, so
 * it is flushed whole and all of its dependents go — unless ops->detach
 * takes it over (32-bit directories): then only that dependent goes. */
static void page_evict(struct rmap *rm, uint32_t p, enum rmap_why why)
{
    struct rpage *pg = &rm->pages[p];

    pg->dying = 1;
    while (pg->deps != NIL) {
        struct rdep *dp = &rm->deps[pg->deps];
        unsigned space = dp->space;
        if (dp->pde == RMAP_PD && rm->ops.detach && detach(rm, space, rm->snap[p])) {
            dep_unlink(rm, pg->deps);       /* the page tables' dependents stay */
        } else if (dep_is_dir(dp->pde)) {
            zap(rm, space, 0, RMAP_ALL_PAGES);
            drop_space(rm, space);          /* removes dp and anything else of space */
        } else {
            uint32_t linear, npages;
            table_range(dp->pde, &linear, &npages);
            zap(rm, space, linear, npages);
            dep_unlink(rm, pg->deps);
        }
    }
    pg->dying = 0;
    page_release(rm, p, why);
}

/* Evict the least recently used page that is not pinned. */
static bool evict_one(struct rmap *rm)
{
    for (uint32_t p = rm->lru_tail; p != NIL; p = rm->pages[p].lru_prev)
        if (!rm->pages[p].pinned) {
            page_evict(rm, p, RMAP_EVICTED);
            return true;
        }
    return false;
}

static uint32_t page_new(struct rmap *rm, uint32_t gpa, const void *contents)
{
    uint32_t p;

    if (rm->page_free == NIL && !evict_one(rm))
        return NIL;
    p = rm->page_free;
    rm->page_free = rm->pages[p].lru_next;
    rm->pages[p] = (struct rpage){ .gpa = gpa, .deps = NIL };
    memcpy(rm->snap[p], contents, sizeof rm->snap[p]);
    hash_insert(rm, gpa, p);
    lru_push(rm, p);
    rm->st.pages++;
    rm->st.traced++;
    return p;
}

static uint32_t dep_new(struct rmap *rm)
{
    uint32_t d;

    while (rm->dep_free == NIL)
        if (!evict_one(rm))
            return NIL;
    d = rm->dep_free;
    rm->dep_free = rm->deps[d].next;
    rm->st.deps++;
    return d;
}

/* ---- public ------------------------------------------------------------- */

struct rmap *rmap_create(const struct rmap_config *cfg, const struct rmap_ops *ops,
                         char *err, size_t errlen)
{
    struct rmap *rm;
    uint32_t hsize = 16, bits = 4;

    if (cfg->max_pages < 4 || cfg->max_spaces == 0 || !ops->zap || !ops->untracked) {
        snprintf(err, errlen, "reverse map: need at least 4 pages, 1 space and both callbacks");
        return NULL;
    }
    rm = calloc(1, sizeof *rm);
    if (!rm) {
        snprintf(err, errlen, "reverse map: out of memory");
        return NULL;
    }
    rm->cfg = *cfg;
    if (!rm->cfg.max_deps)
        rm->cfg.max_deps = 4 * cfg->max_pages;
    if (!rm->cfg.flood_writes)
        rm->cfg.flood_writes = 3;
    rm->ops = *ops;
    while (hsize < 2 * rm->cfg.max_pages) {   /* load factor <= 1/2 */
        hsize <<= 1;
        bits++;
    }
    rm->hash_mask = hsize - 1;
    rm->hash_shift = 32 - bits;
    rm->pages = calloc(rm->cfg.max_pages, sizeof *rm->pages);
    rm->snap = calloc(rm->cfg.max_pages, sizeof *rm->snap);
    rm->deps = calloc(rm->cfg.max_deps, sizeof *rm->deps);
    rm->hash = calloc(hsize, sizeof *rm->hash);
    rm->slot = calloc((size_t)rm->cfg.max_spaces * SLOTS, sizeof *rm->slot);
    /* A page may be up to 5 directories of one space (PD and PAE PDs). */
    rm->scratch = calloc((size_t)rm->cfg.max_spaces * 5, sizeof *rm->scratch);
    if (!rm->pages || !rm->snap || !rm->deps || !rm->hash || !rm->slot || !rm->scratch) {
        rmap_destroy(rm);
        snprintf(err, errlen, "reverse map: cannot allocate %u pages", cfg->max_pages);
        return NULL;
    }
    /* Touch the snapshots now: the cap is then real memory from the start,
     * and the handler never pays a first-touch fault on it. */
    memset(rm->snap, 0, (size_t)rm->cfg.max_pages * sizeof *rm->snap);
    for (uint32_t i = 0; i < hsize; i++)
        rm->hash[i].page = NIL;
    for (size_t i = 0; i < (size_t)rm->cfg.max_spaces * SLOTS; i++)
        rm->slot[i] = NIL;
    rmap_clear(rm);
    return rm;
}

void rmap_destroy(struct rmap *rm)
{
    if (!rm)
        return;
    free(rm->pages);
    free(rm->snap);
    free(rm->deps);
    free(rm->hash);
    free(rm->slot);
    free(rm->scratch);
    free(rm);
}

void rmap_clear(struct rmap *rm)
{
    assert(!rm->busy);
    /* Release through the normal path so the caller hears of every page. */
    for (unsigned s = 0; s < rm->cfg.max_spaces; s++)
        drop_space(rm, s);
    /* Everything is free now: rebuild the free lists in index order (this
     * is also the initialisation). */
    for (uint32_t p = 0; p < rm->cfg.max_pages; p++)
        rm->pages[p].lru_next = p + 1 < rm->cfg.max_pages ? p + 1 : NIL;
    rm->page_free = 0;
    for (uint32_t d = 0; d < rm->cfg.max_deps; d++)
        rm->deps[d].next = d + 1 < rm->cfg.max_deps ? d + 1 : NIL;
    rm->dep_free = 0;
    rm->lru_head = rm->lru_tail = NIL;
}

enum rmap_add_result rmap_add(struct rmap *rm, unsigned space, unsigned pde, uint32_t gpa,
                              const void *page)
{
    uint32_t *slot, p, d, pd_page = NIL;
    enum rmap_add_result res = RMAP_ADD_KNOWN;

    assert(!rm->busy && space < rm->cfg.max_spaces && pde < RMAP_DEPS);
    gpa &= ~0xfffu;
    slot = slot_of(rm, space, pde);
    p = hash_find(rm, gpa);
    if (*slot != NIL) {
        if (rm->deps[*slot].page == p) {        /* already recorded: just a use */
            page_touch(rm, p);
            return RMAP_ADD_KNOWN;
        }
        dep_unlink(rm, *slot);                  /* the PDE (or CR3) now points elsewhere */
    }

    /* Pin what eviction must not take: this space's page directory (a fill
     * registers it first, and evicting it would flush the space being
     * filled) and, once it exists, the page being added to. */
    if (!dep_is_dir(pde)) {
        unsigned dir = pde < RMAP_PD ? RMAP_PD : RMAP_PAE_PD((pde - RMAP_PAE_PT(0)) >> 9);
        if (*slot_of(rm, space, dir) != NIL) {
            pd_page = rm->deps[*slot_of(rm, space, dir)].page;
            rm->pages[pd_page].pinned++;
        }
    }
    if (p == NIL) {
        p = page_new(rm, gpa, page);
        if (p == NIL) {
            res = RMAP_ADD_FULL;
            goto out;
        }
        res = RMAP_ADD_NEW;
    }
    rm->pages[p].pinned++;
    d = dep_new(rm);
    rm->pages[p].pinned--;
    if (d == NIL) {
        if (rm->pages[p].ndeps == 0)
            page_release(rm, p, RMAP_UNUSED);
        res = RMAP_ADD_FULL;
        goto out;
    }
    rm->deps[d] = (struct rdep){ .page = p, .prev = NIL, .next = rm->pages[p].deps,
                                 .space = (uint16_t)space, .pde = (uint16_t)pde };
    if (rm->pages[p].deps != NIL)
        rm->deps[rm->pages[p].deps].prev = d;
    rm->pages[p].deps = d;
    rm->pages[p].ndeps++;
    *slot = d;
    page_touch(rm, p);
out:
    if (pd_page != NIL)
        rm->pages[pd_page].pinned--;
    return res;
}

void rmap_remove(struct rmap *rm, unsigned space, unsigned pde)
{
    uint32_t d;

    assert(!rm->busy && space < rm->cfg.max_spaces && pde < RMAP_DEPS);
    d = *slot_of(rm, space, pde);
    if (d != NIL)
        dep_unlink(rm, d);
}

bool rmap_dep_page(const struct rmap *rm, unsigned space, unsigned pde, uint32_t *gpa)
{
    uint32_t d = *slot_of(rm, space, pde);

    if (d == NIL)
        return false;
    *gpa = rm->pages[rm->deps[d].page].gpa;
    return true;
}

void rmap_drop_space(struct rmap *rm, unsigned space)
{
    assert(!rm->busy && space < rm->cfg.max_spaces);
    drop_space(rm, space);
}

bool rmap_tracked(const struct rmap *rm, uint32_t gpa)
{
    uint32_t p = hash_find(rm, gpa & ~0xfffu);
    return p != NIL && !rm->pages[p].unsync;
}

bool rmap_known(const struct rmap *rm, uint32_t gpa)
{
    return hash_find(rm, gpa & ~0xfffu) != NIL;
}

bool rmap_is_unsync(const struct rmap *rm, uint32_t gpa)
{
    uint32_t p = hash_find(rm, gpa & ~0xfffu);
    return p != NIL && rm->pages[p].unsync;
}

void rmap_set_unsync(struct rmap *rm, uint32_t gpa, bool unsync)
{
    uint32_t p = hash_find(rm, gpa & ~0xfffu);
    if (p != NIL)
        rm->pages[p].unsync = unsync;
}

void rmap_note_use(struct rmap *rm, uint32_t gpa)
{
    uint32_t p = hash_find(rm, gpa & ~0xfffu);
    if (p != NIL)
        page_touch(rm, p);
}

void rmap_for_each_dep(const struct rmap *rm, uint32_t gpa,
                       void (*fn)(void *arg, unsigned space, unsigned pde), void *arg)
{
    uint32_t p = hash_find(rm, gpa & ~0xfffu);
    if (p == NIL)
        return;
    for (uint32_t d = rm->pages[p].deps; d != NIL; d = rm->deps[d].next)
        fn(arg, rm->deps[d].space, rm->deps[d].pde);
}

bool rmap_write_begin(struct rmap *rm, uint32_t gpa, unsigned len)
{
    uint32_t p;

    assert(!rm->busy);
    p = hash_find(rm, gpa & ~0xfffu);
    if (p == NIL || rm->pages[p].unsync)
        return false;   /* unsync: stored as it is, diffed at the next rmap_sync_page */
    rm->st.writes++;
    if (!rmap_store_aligned(gpa & 0xfff, len) || ++rm->pages[p].writes >= rm->cfg.flood_writes) {
        page_evict(rm, p, RMAP_FLOOD);
        return false;
    }
    return true;
}

/* Is a change of an entry from old to new stale for its shadow state?
 * (rmap_entry_stale; a PAE entry's P is in its low half, and any change of
 * its high half — frame bits, XD — matters.) */
static bool wide_stale(uint64_t old, uint64_t new)
{
    return (old & 1u) && ((old ^ new) & ~(uint64_t)0xe00u);
}

/* Dword i (32-bit entry i, or half of PAE entry i/2) of page p changed from
 * old to new: zap the range of every dependent whose entry went stale. For
 * a page directory, the space's dependency on the table the old PDE
 * referenced ends too — after the walk over p's list, since that table may
 * be p itself (a self-mapping directory). narrow: stale as a 32-bit entry;
 * wide: stale as (half of) a PAE entry. */
static void zap_entry(struct rmap *rm, uint32_t p, unsigned i, bool narrow, bool wide)
{
    unsigned npd = 0;

    if (!narrow && !wide)
        return;
    for (uint32_t d = rm->pages[p].deps; d != NIL; d = rm->deps[d].next) {
        const struct rdep *dp = &rm->deps[d];
        bool w = dep_is_wide(dp->pde);
        uint32_t linear, npages;
        unsigned child = 0;

        if (!(w ? wide : narrow))
            continue;
        dep_range(dp->pde, w ? i >> 1 : i, &linear, &npages, &child);
        zap(rm, dp->space, linear, npages);
        if (dep_is_dir(dp->pde))
            rm->scratch[npd++] = dp->space * SLOTS + child;
    }
    for (unsigned k = 0; k < npd; k++) {
        uint32_t d = rm->slot[rm->scratch[k]];
        if (d != NIL)
            dep_unlink(rm, d);   /* never releases p: p keeps its directory dependent */
    }
}

/* Diff the 8-byte pairs [first, last] of page p against `now`, zapping and
 * updating the snapshot. Whole pairs, so a PAE entry is judged with both
 * halves; the extra dword of a pair is unchanged unless stored, and costs
 * nothing. */
static unsigned diff_pairs(struct rmap *rm, uint32_t p, unsigned first, unsigned last,
                           const uint32_t *now)
{
    unsigned n = 0;

    for (unsigned i = first; i <= last; i += 2) {
        uint32_t old[2] = { rm->snap[p][i], rm->snap[p][i + 1] }, new[2];
        uint64_t old64, new64;
        bool wide;

        memcpy(new, &now[i], 8);
        if (old[0] == new[0] && old[1] == new[1])
            continue;
        n += (old[0] != new[0]) + (old[1] != new[1]);
        rm->snap[p][i] = new[0];
        rm->snap[p][i + 1] = new[1];
        old64 = (uint64_t)old[1] << 32 | old[0];
        new64 = (uint64_t)new[1] << 32 | new[0];
        wide = wide_stale(old64, new64);
        for (unsigned h = 0; h < 2; h++)
            if (old[h] != new[h]) {
                zap_entry(rm, p, i + h, rmap_entry_stale(old[h], new[h]), wide);
                wide = false;   /* one zap per PAE entry */
            }
    }
    rm->st.changed += n;
    return n;
}

unsigned rmap_write_end(struct rmap *rm, uint32_t gpa, unsigned len, const void *page)
{
    uint32_t p, off = gpa & 0xfff;

    assert(!rm->busy);
    p = hash_find(rm, gpa & ~0xfffu);
    if (p == NIL || len == 0)
        return 0;
    if (len > 4096 - off)
        len = 4096 - off;
    return diff_pairs(rm, p, (off >> 2) & ~1u, ((off + len - 1) >> 2) | 1u, page);
}

unsigned rmap_sync_page(struct rmap *rm, uint32_t gpa, const void *page)
{
    const uint8_t *now = page;
    uint32_t p;
    unsigned n = 0;

    assert(!rm->busy);
    p = hash_find(rm, gpa & ~0xfffu);
    /* Mostly nothing changed: one compare of the page (a few hundred
     * cycles), then 512-byte blocks and 64-byte lines down to the pairs. */
    if (p == NIL || !memcmp(rm->snap[p], now, 4096))
        return 0;
    for (unsigned blk = 0; blk < 4096; blk += 512) {
        if (!memcmp((const uint8_t *)rm->snap[p] + blk, now + blk, 512))
            continue;
        for (unsigned line = blk; line < blk + 512; line += 64) {
            if (!memcmp((const uint8_t *)rm->snap[p] + line, now + line, 64))
                continue;
            n += diff_pairs(rm, p, line >> 2, ((line + 64) >> 2) - 1, page);
            if ((p = hash_find(rm, gpa & ~0xfffu)) == NIL)
                return n;       /* a zap released it (not for a page table; cheap to check) */
        }
    }
    return n;
}

void rmap_sync_entry(struct rmap *rm, uint32_t gpa, uint32_t old, uint32_t value)
{
    uint32_t p = hash_find(rm, gpa & ~0xfffu), *e;

    if (p == NIL)
        return;
    /* An unsync page whose entry the guest changed since its snapshot keeps
     * the snapshot's value: the next rmap_sync_page sees the change. */
    e = &rm->snap[p][(gpa & 0xfff) >> 2];
    if (!rm->pages[p].unsync || *e == old)
        *e = value;
}

unsigned rmap_diff(struct rmap *rm, uint32_t gpa, const void *page,
                   void (*fn)(void *arg, unsigned index, uint32_t old, uint32_t new), void *arg)
{
    const uint8_t *now = page;
    uint32_t p = hash_find(rm, gpa & ~0xfffu);
    unsigned n = 0;

    if (p == NIL)
        return 0;
    /* Skip equal 64-byte lines with memcmp; most of a page is unchanged. */
    for (unsigned line = 0; line < 4096; line += 64) {
        if (!memcmp((const uint8_t *)rm->snap[p] + line, now + line, 64))
            continue;
        for (unsigned i = line >> 2; i < (line + 64) >> 2; i++) {
            uint32_t old = rm->snap[p][i], new;
            memcpy(&new, now + i * 4, 4);
            if (old == new)
                continue;
            n++;
            rm->snap[p][i] = new;
            if (fn) {
                rm->busy = true;
                fn(arg, i, old, new);
                rm->busy = false;
            }
        }
    }
    rm->st.changed += n;
    return n;
}

void rmap_get_stats(const struct rmap *rm, struct rmap_stats *st)
{
    *st = rm->st;
}
