/* Reverse map of traced guest page-table pages (shadowmmu/rmap.c): adding
 * and removing dependents, diffs that report exactly the changed entries,
 * the zaps a store causes, unsync pages, LRU eviction under the caps, write
 * floods, and a randomised run against a naive model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shadowmmu/rmap.h"

/* ---- what the callbacks saw --------------------------------------------- */

#define MAX_EVENTS 4096

struct zap_ev { unsigned space; uint32_t linear, npages; };
struct untrack_ev { uint32_t gpa; enum rmap_why why; };

struct log {
    struct zap_ev zap[MAX_EVENTS];
    unsigned nzap;
    struct untrack_ev un[MAX_EVENTS];
    unsigned nun;
};

static void on_zap(void *opaque, unsigned space, uint32_t linear, uint32_t npages)
{
    struct log *l = opaque;
    if (l->nzap < MAX_EVENTS)
        l->zap[l->nzap] = (struct zap_ev){ space, linear, npages };
    l->nzap++;
}

static void on_untracked(void *opaque, uint32_t gpa, enum rmap_why why)
{
    struct log *l = opaque;
    if (l->nun < MAX_EVENTS)
        l->un[l->nun] = (struct untrack_ev){ gpa, why };
    l->nun++;
}

static bool saw_zap(const struct log *l, unsigned space, uint32_t linear, uint32_t npages)
{
    for (unsigned i = 0; i < l->nzap && i < MAX_EVENTS; i++)
        if (l->zap[i].space == space && l->zap[i].linear == linear && l->zap[i].npages == npages)
            return true;
    return false;
}

static bool saw_untrack(const struct log *l, uint32_t gpa, enum rmap_why why)
{
    for (unsigned i = 0; i < l->nun && i < MAX_EVENTS; i++)
        if (l->un[i].gpa == gpa && l->un[i].why == why)
            return true;
    return false;
}

static void log_clear(struct log *l)
{
    l->nzap = l->nun = 0;
}

/* ---- fixture ------------------------------------------------------------ */

struct fx {
    struct log log;
    struct rmap *rm;
    uint32_t page[4][1024];     /* guest page contents to hand in */
};

static struct rmap *make(struct fx *f, uint32_t pages, uint32_t deps, uint16_t spaces, uint16_t flood)
{
    struct rmap_config cfg = { .max_pages = pages, .max_deps = deps, .max_spaces = spaces,
                               .flood_writes = flood };
    struct rmap_ops ops = { .opaque = &f->log, .zap = on_zap, .untracked = on_untracked };
    char err[200];

    rmap_destroy(f->rm);
    f->rm = rmap_create(&cfg, &ops, err, sizeof err);
    if (!f->rm)
        fail_msg("rmap_create: %s", err);
    log_clear(&f->log);
    return f->rm;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    *state = f;
    make(f, 64, 0, 8, 0);
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    rmap_destroy(f->rm);
    free(f);
    return 0;
}

struct deps_seen { unsigned n; unsigned space[64], pde[64]; };

static void collect_dep(void *arg, unsigned space, unsigned pde)
{
    struct deps_seen *d = arg;
    if (d->n < 64) {
        d->space[d->n] = space;
        d->pde[d->n] = pde;
    }
    d->n++;
}

static struct deps_seen deps_of(struct rmap *rm, uint32_t gpa)
{
    struct deps_seen d = { 0 };
    rmap_for_each_dep(rm, gpa, collect_dep, &d);
    return d;
}

static bool has_dep(const struct deps_seen *d, unsigned space, unsigned pde)
{
    for (unsigned i = 0; i < d->n && i < 64; i++)
        if (d->space[i] == space && d->pde[i] == pde)
            return true;
    return false;
}

/* ---- tests -------------------------------------------------------------- */

static void test_create_rejects_bad_config(void **state)
{
    struct rmap_ops ops = { .zap = on_zap, .untracked = on_untracked };
    struct rmap_config tiny = { .max_pages = 3, .max_spaces = 1 };
    struct rmap_config nospace = { .max_pages = 16 };
    struct rmap_ops nocb = { 0 };
    struct rmap_config ok = { .max_pages = 16, .max_spaces = 1 };
    char err[200];

    assert_null(rmap_create(&tiny, &ops, err, sizeof err));
    assert_null(rmap_create(&nospace, &ops, err, sizeof err));
    assert_null(rmap_create(&ok, &nocb, err, sizeof err));
    assert_true(strlen(err) > 0);
}

static void test_add_lookup_remove(void **state)
{
    struct fx *f = *state;
    struct rmap *rm = f->rm;
    struct rmap_stats st;
    struct deps_seen d;

    /* Space 0 and 1 share a kernel page table; each has its own PD. */
    assert_int_equal(rmap_add(rm, 0, RMAP_PD, 0x1000, f->page[0]), RMAP_ADD_NEW);
    assert_int_equal(rmap_add(rm, 0, 768, 0x5000, f->page[1]), RMAP_ADD_NEW);
    assert_int_equal(rmap_add(rm, 1, RMAP_PD, 0x2000, f->page[2]), RMAP_ADD_NEW);
    assert_int_equal(rmap_add(rm, 1, 768, 0x5000, f->page[1]), RMAP_ADD_KNOWN);
    assert_int_equal(rmap_add(rm, 1, 768, 0x5abc, f->page[1]), RMAP_ADD_KNOWN);   /* any gpa in the page */

    assert_true(rmap_tracked(rm, 0x1000));
    assert_true(rmap_tracked(rm, 0x1ffc));
    assert_true(rmap_tracked(rm, 0x5000));
    assert_false(rmap_tracked(rm, 0x3000));
    assert_false(rmap_tracked(rm, 0x0));

    d = deps_of(rm, 0x5000);
    assert_int_equal(d.n, 2);
    assert_true(has_dep(&d, 0, 768) && has_dep(&d, 1, 768));
    d = deps_of(rm, 0x1000);
    assert_int_equal(d.n, 1);
    assert_true(has_dep(&d, 0, RMAP_PD));

    rmap_get_stats(rm, &st);
    assert_int_equal(st.pages, 3);
    assert_int_equal(st.deps, 4);
    assert_int_equal(st.traced, 3);

    /* Removing one of two dependents keeps the page; the last releases it. */
    rmap_remove(rm, 0, 768);
    assert_true(rmap_tracked(rm, 0x5000));
    assert_int_equal(f->log.nun, 0);
    rmap_remove(rm, 1, 768);
    assert_false(rmap_tracked(rm, 0x5000));
    assert_int_equal(f->log.nun, 1);
    assert_true(saw_untrack(&f->log, 0x5000, RMAP_UNUSED));
    rmap_remove(rm, 1, 768);    /* nothing there: no-op */
    assert_int_equal(f->log.nun, 1);

    /* The same (space, pde) now referencing another table replaces it. */
    assert_int_equal(rmap_add(rm, 0, 5, 0x7000, f->page[0]), RMAP_ADD_NEW);
    assert_int_equal(rmap_add(rm, 0, 5, 0x8000, f->page[0]), RMAP_ADD_NEW);
    assert_false(rmap_tracked(rm, 0x7000));
    assert_true(saw_untrack(&f->log, 0x7000, RMAP_UNUSED));
    /* ... and a new CR3 for space 0. */
    assert_int_equal(rmap_add(rm, 0, RMAP_PD, 0x9000, f->page[0]), RMAP_ADD_NEW);
    assert_false(rmap_tracked(rm, 0x1000));

    /* Dropping a space releases what only it used. */
    rmap_drop_space(rm, 0);
    assert_false(rmap_tracked(rm, 0x9000));
    assert_false(rmap_tracked(rm, 0x8000));
    assert_true(rmap_tracked(rm, 0x2000));
    assert_int_equal(f->log.nzap, 0);   /* removal never zaps: the caller is the one dropping */

    rmap_clear(rm);
    assert_false(rmap_tracked(rm, 0x2000));
    rmap_get_stats(rm, &st);
    assert_int_equal(st.pages, 0);
    assert_int_equal(st.deps, 0);
}

struct diff_seen { unsigned n; unsigned idx[1024]; uint32_t old[1024], new[1024]; };

static void collect_diff(void *arg, unsigned index, uint32_t old, uint32_t new)
{
    struct diff_seen *d = arg;
    d->idx[d->n] = index;
    d->old[d->n] = old;
    d->new[d->n] = new;
    d->n++;
}

static void test_diff_reports_exactly_the_changes(void **state)
{
    struct fx *f = *state;
    struct rmap *rm = f->rm;
    static struct diff_seen d;
    static const unsigned changed[] = { 0, 1, 15, 16, 17, 511, 512, 1000, 1023 };
    uint32_t *pg = f->page[0];

    for (unsigned i = 0; i < 1024; i++)
        pg[i] = i * 0x1001u;
    assert_int_equal(rmap_add(rm, 0, 3, 0x40000, pg), RMAP_ADD_NEW);

    memset(&d, 0, sizeof d);
    assert_int_equal(rmap_diff(rm, 0x40000, pg, collect_diff, &d), 0);
    assert_int_equal(d.n, 0);

    for (unsigned k = 0; k < sizeof changed / sizeof changed[0]; k++)
        pg[changed[k]] ^= 0x80000000u >> k;
    assert_int_equal(rmap_diff(rm, 0x40123, pg, collect_diff, &d), 9);
    assert_int_equal(d.n, 9);
    for (unsigned k = 0; k < 9; k++) {
        unsigned i = changed[k];
        assert_int_equal(d.idx[k], i);                      /* in index order */
        assert_int_equal(d.old[k], i * 0x1001u);
        assert_int_equal(d.new[k], (i * 0x1001u) ^ (0x80000000u >> k));
    }
    /* The snapshot follows: a second diff finds nothing. */
    memset(&d, 0, sizeof d);
    assert_int_equal(rmap_diff(rm, 0x40000, pg, collect_diff, &d), 0);
    /* Diffing a page that is not traced reports nothing. */
    assert_int_equal(rmap_diff(rm, 0x41000, pg, collect_diff, &d), 0);
    /* A NULL callback just counts and syncs. */
    pg[7] = 0;
    assert_int_equal(rmap_diff(rm, 0x40000, pg, NULL, NULL), 1);
    assert_int_equal(f->log.nzap, 0);   /* the primitive never zaps */
}

/* A guest store to a page table: the 4 KiB linear page of every space that
 * maps through it, and nothing else. */
static void test_write_to_page_table(void **state)
{
    struct fx *f = *state;
    struct rmap *rm = f->rm;
    uint32_t *pt = f->page[0];

    memset(pt, 0, 4096);
    pt[0x10] = 0x00123000u | 0x27;           /* present */
    pt[0x11] = 0x00124000u;                  /* not present */
    pt[0x12] = 0x00125000u | 0x67;           /* present, accessed, dirty */
    rmap_add(rm, 2, RMAP_PD, 0x1000, f->page[1]);
    rmap_add(rm, 2, 0x300, 0x6000, pt);      /* kernel table, space 2 and 3 */
    rmap_add(rm, 3, RMAP_PD, 0x2000, f->page[2]);
    rmap_add(rm, 3, 0x300, 0x6000, pt);
    rmap_add(rm, 3, 0x301, 0x6000, pt);      /* and mapped twice in space 3 */

    /* Present entry rewritten: zaps in each dependent. */
    assert_true(rmap_write_begin(rm, 0x6000 + 0x10 * 4, 4));
    pt[0x10] = 0x00999000u | 0x27;
    assert_int_equal(rmap_write_end(rm, 0x6000 + 0x10 * 4, 4, pt), 1);
    assert_int_equal(f->log.nzap, 3);
    assert_true(saw_zap(&f->log, 2, 0xc0010000u, 1));
    assert_true(saw_zap(&f->log, 3, 0xc0010000u, 1));
    assert_true(saw_zap(&f->log, 3, 0xc0410000u, 1));

    /* A not-present entry made present: nothing was built from it. */
    log_clear(&f->log);
    rmap_note_use(rm, 0x6000);
    assert_true(rmap_write_begin(rm, 0x6000 + 0x11 * 4, 4));
    pt[0x11] |= 1;
    assert_int_equal(rmap_write_end(rm, 0x6000 + 0x11 * 4, 4, pt), 1);
    assert_int_equal(f->log.nzap, 0);

    /* Only the software-available bits: no zap either. */
    rmap_note_use(rm, 0x6000);
    assert_true(rmap_write_begin(rm, 0x6000 + 0x12 * 4, 4));
    pt[0x12] |= 0xe00;
    assert_int_equal(rmap_write_end(rm, 0x6000 + 0x12 * 4, 4, pt), 1);
    assert_int_equal(f->log.nzap, 0);

    /* The guest clearing A or D does zap: the next access must fault so
     * that the walker sets it again. A one-byte store (andb) is allowed. */
    rmap_note_use(rm, 0x6000);
    assert_true(rmap_write_begin(rm, 0x6000 + 0x12 * 4, 1));
    ((uint8_t *)pt)[0x12 * 4] &= (uint8_t)~0x40;   /* D */
    assert_int_equal(rmap_write_end(rm, 0x6000 + 0x12 * 4, 1, pt), 1);
    assert_int_equal(f->log.nzap, 3);
    assert_true(saw_zap(&f->log, 3, 0xc0412000u, 1));

    /* A store that changes nothing. */
    log_clear(&f->log);
    rmap_note_use(rm, 0x6000);
    assert_true(rmap_write_begin(rm, 0x6000 + 0x10 * 4, 4));
    assert_int_equal(rmap_write_end(rm, 0x6000 + 0x10 * 4, 4, pt), 0);
    assert_int_equal(f->log.nzap, 0);

    /* The walker's own A/D update is synced, not diffed. */
    pt[0x10] |= 0x40;
    rmap_sync_entry(rm, 0x6000 + 0x10 * 4, pt[0x10] & ~0x40u, pt[0x10]);
    assert_int_equal(rmap_write_end(rm, 0x6000, 4096, pt), 0);
    assert_int_equal(f->log.nzap, 0);

    /* Stores to pages that are not traced. */
    assert_false(rmap_write_begin(rm, 0x7000, 4));
    assert_int_equal(rmap_write_end(rm, 0x7000, 4, pt), 0);
}

/* A guest store to a page directory: the 4 MiB range, and the end of the
 * dependency on the table the old PDE referenced. */
/* An unsync page (shadowmmu/mmu_unsync.c): not reported as traced, its
 * stores not taken, and one whole-page diff zaps what changed since the
 * snapshot; the walker's A/D update keeps a snapshot entry only where the
 * guest did not change it first. */
static void test_unsync_page(void **state)
{
    struct fx *f = *state;
    struct rmap *rm = f->rm;
    uint32_t *pt = f->page[0];

    memset(pt, 0, 4096);
    pt[0x10] = 0x00123000u | 0x27;
    pt[0x20] = 0x00124000u | 0x07;           /* present, A clear */
    pt[0x3ff] = 0x00125000u | 0x27;
    rmap_add(rm, 2, RMAP_PD, 0x1000, f->page[1]);
    rmap_add(rm, 2, 0x300, 0x6000, pt);
    rmap_set_unsync(rm, 0x6000, true);
    assert_true(rmap_is_unsync(rm, 0x6000) && rmap_known(rm, 0x6000));
    assert_false(rmap_tracked(rm, 0x6000));
    assert_false(rmap_write_begin(rm, 0x6000 + 0x10 * 4, 4));
    assert_true(rmap_known(rm, 0x6000));     /* no flood either */

    /* Stores made as they are; nothing zapped until the diff. */
    log_clear(&f->log);
    pt[0x10] = 0x00999000u | 0x27;
    pt[0x3ff] = 0;
    assert_int_equal(f->log.nzap, 0);
    assert_int_equal(rmap_sync_page(rm, 0x6000, pt), 2);
    assert_int_equal(f->log.nzap, 2);
    assert_true(saw_zap(&f->log, 2, 0xc0010000u, 1));
    assert_true(saw_zap(&f->log, 2, 0xc03ff000u, 1));
    log_clear(&f->log);
    assert_int_equal(rmap_sync_page(rm, 0x6000, pt), 0);

    /* A/D by the walker on an unchanged entry: synced, no later zap. */
    pt[0x20] |= 0x20;
    rmap_sync_entry(rm, 0x6000 + 0x20 * 4, pt[0x20] & ~0x20u, pt[0x20]);
    assert_int_equal(rmap_sync_page(rm, 0x6000, pt), 0);
    /* On an entry the guest changed since: the snapshot keeps the old
     * value, and the diff zaps. */
    pt[0x10] = 0x00777000u | 0x07;
    pt[0x10] |= 0x20;
    rmap_sync_entry(rm, 0x6000 + 0x10 * 4, 0x00777000u | 0x07, pt[0x10]);
    assert_int_equal(rmap_sync_page(rm, 0x6000, pt), 1);
    assert_true(saw_zap(&f->log, 2, 0xc0010000u, 1));

    rmap_set_unsync(rm, 0x6000, false);
    assert_true(rmap_tracked(rm, 0x6000));
    assert_true(rmap_write_begin(rm, 0x6000 + 0x10 * 4, 4));
}

static void test_write_to_page_directory(void **state)
{
    struct fx *f = *state;
    struct rmap *rm = f->rm;
    uint32_t *pd = f->page[0];
    struct deps_seen d;

    memset(pd, 0, 4096);
    pd[0x300] = 0x6000u | 0x23;
    pd[0x301] = 0x7000u | 0x23;
    pd[0x3ff] = 0x1000u | 0x23;              /* self-map: the PD is its own table at 0xffc00000 */
    rmap_add(rm, 0, RMAP_PD, 0x1000, pd);
    rmap_add(rm, 0, 0x300, 0x6000, f->page[1]);
    rmap_add(rm, 0, 0x301, 0x7000, f->page[1]);
    rmap_add(rm, 0, 0x3ff, 0x1000, pd);
    rmap_add(rm, 1, 0x300, 0x6000, f->page[1]);   /* another space shares table 0x6000 */

    /* PDE 0x300 now points elsewhere. */
    assert_true(rmap_write_begin(rm, 0x1000 + 0x300 * 4, 4));
    pd[0x300] = 0x8000u | 0x23;
    assert_int_equal(rmap_write_end(rm, 0x1000 + 0x300 * 4, 4, pd), 1);
    /* Zapped: the 4 MiB range, and through the self-map the one page of
     * 0xffc00000.. that shows this PDE. */
    assert_int_equal(f->log.nzap, 2);
    assert_true(saw_zap(&f->log, 0, 0xc0000000u, 1024));
    assert_true(saw_zap(&f->log, 0, 0xfff00000u, 1));
    /* Space 0 no longer depends on 0x6000; space 1 still does. */
    d = deps_of(rm, 0x6000);
    assert_int_equal(d.n, 1);
    assert_true(has_dep(&d, 1, 0x300));
    assert_int_equal(f->log.nun, 0);

    /* PDE 0x301 cleared: 0x7000 loses its only dependent. */
    log_clear(&f->log);
    rmap_note_use(rm, 0x1000);
    assert_true(rmap_write_begin(rm, 0x1000 + 0x301 * 4, 4));
    pd[0x301] = 0;
    assert_int_equal(rmap_write_end(rm, 0x1000 + 0x301 * 4, 4, pd), 1);
    assert_true(saw_zap(&f->log, 0, 0xc0400000u, 1024));
    assert_false(rmap_tracked(rm, 0x7000));
    assert_true(saw_untrack(&f->log, 0x7000, RMAP_UNUSED));

    /* The self-mapping PDE itself changes: its PT dependent on the PD page
     * goes, the PD dependent stays. */
    log_clear(&f->log);
    rmap_note_use(rm, 0x1000);
    assert_true(rmap_write_begin(rm, 0x1000 + 0x3ff * 4, 4));
    pd[0x3ff] = 0;
    assert_int_equal(rmap_write_end(rm, 0x1000 + 0x3ff * 4, 4, pd), 1);
    assert_true(saw_zap(&f->log, 0, 0xffc00000u, 1024));
    assert_true(saw_zap(&f->log, 0, 0xfffff000u, 1));
    d = deps_of(rm, 0x1000);
    assert_int_equal(d.n, 1);
    assert_true(has_dep(&d, 0, RMAP_PD));
    assert_true(rmap_tracked(rm, 0x1000));
}

/* PAE tables (8-byte entries, 512 a page): a 4-byte store changes half an
 * entry; the diff judges the whole entry (P in the low half) and zaps the
 * dependent's range once, the 2 MiB of a PDE of directory k or the page of
 * a PTE of table j; a changed PDE ends the dependency on its old table. */
static void test_pae_entries(void **state)
{
    struct fx *f = *state;
    struct rmap *rm = f->rm;
    uint64_t pd[512], pt[512];
    struct deps_seen d;

    memset(pd, 0, sizeof pd);
    memset(pt, 0, sizeof pt);
    pd[5] = 0x6000u | 0x23;                  /* PDE 5 of directory 3: linear 0xc0a00000 */
    pt[7] = 0x00abc000u | 0x23;              /* PTE 7 of table j = 0x605 */
    pt[8] = 0x00abd000u;                     /* not present */
    assert_int_equal(rmap_add(rm, 0, RMAP_PAE_PD(3), 0x1000, pd), RMAP_ADD_NEW);
    assert_int_equal(rmap_add(rm, 0, RMAP_PAE_PT(3 * 512 + 5), 0x6000, pt), RMAP_ADD_NEW);
    assert_int_equal(rmap_add(rm, 1, RMAP_PAE_PT(3 * 512 + 5), 0x6000, pt), RMAP_ADD_KNOWN);

    /* The high half of a present PTE (Linux's set_pte writes it first). */
    assert_true(rmap_write_begin(rm, 0x6000 + 7 * 8 + 4, 4));
    pt[7] |= 1ull << 63;
    assert_int_equal(rmap_write_end(rm, 0x6000 + 7 * 8 + 4, 4, pt), 1);
    assert_int_equal(f->log.nzap, 2);
    assert_true(saw_zap(&f->log, 0, 0xc0a07000u, 1));
    assert_true(saw_zap(&f->log, 1, 0xc0a07000u, 1));
    /* Available bits 11:9 of the low half: nothing to do. */
    log_clear(&f->log);
    rmap_note_use(rm, 0x6000);
    assert_true(rmap_write_begin(rm, 0x6000 + 7 * 8, 4));
    pt[7] |= 0xe00;
    assert_int_equal(rmap_write_end(rm, 0x6000 + 7 * 8, 4, pt), 1);
    assert_int_equal(f->log.nzap, 0);
    /* A not-present entry, both halves in one 8-byte store: nothing either. */
    rmap_note_use(rm, 0x6000);
    assert_true(rmap_write_begin(rm, 0x6000 + 8 * 8, 8));
    pt[8] = 0x00123000u | 0x3 | 1ull << 40;
    assert_int_equal(rmap_write_end(rm, 0x6000 + 8 * 8, 8, pt), 2);
    assert_int_equal(f->log.nzap, 0);
    /* Both halves of a present entry in one store: one zap per dependent. */
    rmap_note_use(rm, 0x6000);
    assert_true(rmap_write_begin(rm, 0x6000 + 8 * 8, 8));
    pt[8] = 0;
    assert_int_equal(rmap_write_end(rm, 0x6000 + 8 * 8, 8, pt), 2);
    assert_int_equal(f->log.nzap, 2);
    assert_true(saw_zap(&f->log, 0, 0xc0a08000u, 1));

    /* The PDE's high half changes: the 2 MiB range, and the table
     * dependency of that PDE ends. */
    log_clear(&f->log);
    assert_true(rmap_write_begin(rm, 0x1000 + 5 * 8 + 4, 4));
    pd[5] |= 1ull << 63;
    assert_int_equal(rmap_write_end(rm, 0x1000 + 5 * 8 + 4, 4, pd), 1);
    assert_int_equal(f->log.nzap, 1);
    assert_true(saw_zap(&f->log, 0, 0xc0a00000u, 512));
    d = deps_of(rm, 0x6000);
    assert_int_equal(d.n, 1);
    assert_true(has_dep(&d, 1, RMAP_PAE_PT(3 * 512 + 5)));

    /* Evicting a page table zaps its 2 MiB; a PAE directory, the space. */
    log_clear(&f->log);
    assert_false(rmap_write_begin(rm, 0x6000 + 3, 4));      /* misaligned: flood */
    assert_true(saw_zap(&f->log, 1, 0xc0a00000u, 512));
    assert_false(rmap_tracked(rm, 0x6000));
    log_clear(&f->log);
    assert_false(rmap_write_begin(rm, 0x1000 + 2, 2));
    assert_true(saw_zap(&f->log, 0, 0, RMAP_ALL_PAGES));
    assert_false(rmap_tracked(rm, 0x1000));
}

static void test_lru_eviction(void **state)
{
    struct fx *f = *state;
    struct rmap *rm = make(f, 4, 0, 4, 0);
    struct rmap_stats st;

    /* Four page tables of space 0 (no PD registered: nothing pinned). */
    for (unsigned j = 0; j < 4; j++)
        assert_int_equal(rmap_add(rm, 0, j, 0x10000 + j * 0x1000, f->page[0]), RMAP_ADD_NEW);
    rmap_note_use(rm, 0x10000);              /* 0x11000 is now the least recently used */
    assert_int_equal(rmap_add(rm, 0, 4, 0x20000, f->page[0]), RMAP_ADD_NEW);
    assert_false(rmap_tracked(rm, 0x11000));
    assert_true(rmap_tracked(rm, 0x10000));
    assert_true(saw_untrack(&f->log, 0x11000, RMAP_EVICTED));
    assert_int_equal(f->log.nzap, 1);
    assert_true(saw_zap(&f->log, 0, 1u << 22, 1024));

    /* Evicting a page directory flushes its space whole and drops every
     * dependent of it. Space 1: PD 0x30000, tables 0x31000 and 0x10000. */
    rm = make(f, 4, 0, 4, 0);
    rmap_add(rm, 1, RMAP_PD, 0x30000, f->page[0]);
    rmap_add(rm, 1, 7, 0x31000, f->page[0]);
    rmap_add(rm, 2, 7, 0x31000, f->page[0]);  /* shared with space 2 */
    rmap_add(rm, 2, 8, 0x32000, f->page[0]);
    rmap_add(rm, 2, 9, 0x33000, f->page[0]);  /* full; LRU order: 0x30000 oldest */
    log_clear(&f->log);
    assert_int_equal(rmap_add(rm, 2, 10, 0x34000, f->page[0]), RMAP_ADD_NEW);
    assert_false(rmap_tracked(rm, 0x30000));
    assert_true(saw_zap(&f->log, 1, 0, RMAP_ALL_PAGES));
    assert_true(rmap_tracked(rm, 0x31000));   /* space 2 still uses it */
    struct deps_seen d = deps_of(rm, 0x31000);
    assert_int_equal(d.n, 1);
    assert_true(has_dep(&d, 2, 7));
    rmap_get_stats(rm, &st);
    assert_int_equal(st.evicted, 1);
    assert_int_equal(st.pages, 4);
}

static void test_space_pd_is_pinned(void **state)
{
    struct fx *f = *state;
    struct rmap *rm = make(f, 4, 0, 4, 0);

    /* Space 0's PD is the oldest page, but a fill of space 0 must not
     * evict it: the next oldest goes instead. */
    rmap_add(rm, 0, RMAP_PD, 0x1000, f->page[0]);
    rmap_add(rm, 1, 0, 0x2000, f->page[0]);
    rmap_add(rm, 1, 1, 0x3000, f->page[0]);
    rmap_add(rm, 1, 2, 0x4000, f->page[0]);
    assert_int_equal(rmap_add(rm, 0, 5, 0x5000, f->page[0]), RMAP_ADD_NEW);
    assert_true(rmap_tracked(rm, 0x1000));
    assert_false(rmap_tracked(rm, 0x2000));
    assert_true(rmap_tracked(rm, 0x5000));
}

static void test_dependent_pool_cap(void **state)
{
    struct fx *f = *state;
    struct rmap *rm = make(f, 16, 4, 8, 0);
    struct rmap_stats st;

    /* Four dependents fill the pool; a fifth evicts the least recent page. */
    rmap_add(rm, 0, 0, 0x1000, f->page[0]);
    rmap_add(rm, 1, 0, 0x1000, f->page[0]);
    rmap_add(rm, 2, 0, 0x2000, f->page[0]);
    rmap_add(rm, 3, 0, 0x3000, f->page[0]);
    assert_int_equal(rmap_add(rm, 4, 0, 0x4000, f->page[0]), RMAP_ADD_NEW);
    assert_false(rmap_tracked(rm, 0x1000));
    assert_true(saw_zap(&f->log, 0, 0, 1024) && saw_zap(&f->log, 1, 0, 1024));
    rmap_get_stats(rm, &st);
    assert_int_equal(st.deps, 3);

    /* When every dependent belongs to pinned pages there is nothing to
     * evict: the add fails and leaves no trace. */
    rm = make(f, 16, 2, 8, 0);
    rmap_add(rm, 0, RMAP_PD, 0x1000, f->page[0]);
    rmap_add(rm, 0, 1, 0x2000, f->page[0]);
    log_clear(&f->log);
    assert_int_equal(rmap_add(rm, 0, 2, 0x2000, f->page[0]), RMAP_ADD_FULL);
    assert_true(rmap_tracked(rm, 0x1000) && rmap_tracked(rm, 0x2000));
    assert_int_equal(f->log.nzap, 0);
    /* A new page can still get one by evicting an unpinned page (0x2000). */
    assert_int_equal(rmap_add(rm, 0, 3, 0x3000, f->page[0]), RMAP_ADD_NEW);
    assert_false(rmap_tracked(rm, 0x2000));
    assert_true(saw_zap(&f->log, 0, 1u << 22, 1024));
    rmap_get_stats(rm, &st);
    assert_int_equal(st.deps, 2);
    /* Now let the pinned PD own every dependent (space 1 shares the
     * directory; that evicts 0x3000): a new page fails and is not left
     * traced. */
    assert_int_equal(rmap_add(rm, 1, RMAP_PD, 0x1000, f->page[0]), RMAP_ADD_KNOWN);
    assert_false(rmap_tracked(rm, 0x3000));
    log_clear(&f->log);
    assert_int_equal(rmap_add(rm, 0, 4, 0x4000, f->page[0]), RMAP_ADD_FULL);
    assert_false(rmap_tracked(rm, 0x4000));
    assert_true(saw_untrack(&f->log, 0x4000, RMAP_UNUSED));
    assert_int_equal(f->log.nzap, 0);
}

static void test_flood_detection(void **state)
{
    struct fx *f = *state;
    struct rmap *rm = make(f, 16, 0, 4, 3);
    uint32_t *pt = f->page[0];
    struct rmap_stats st;

    memset(pt, 0, 4096);
    for (unsigned i = 0; i < 8; i++)
        pt[i] = (i << 12) | 0x27;
    rmap_add(rm, 0, RMAP_PD, 0x1000, f->page[1]);
    rmap_add(rm, 0, 0x10, 0x6000, pt);
    rmap_add(rm, 1, 0x10, 0x6000, pt);

    /* Two stores, a use, two more: still traced. */
    for (unsigned i = 0; i < 4; i++) {
        if (i == 2)
            rmap_note_use(rm, 0x6000);
        assert_true(rmap_write_begin(rm, 0x6000 + i * 4, 4));
        pt[i] = 0;
        assert_int_equal(rmap_write_end(rm, 0x6000 + i * 4, 4, pt), 1);
    }
    /* A third store without an intervening use stops tracing. */
    log_clear(&f->log);
    assert_false(rmap_write_begin(rm, 0x6000 + 4 * 4, 4));
    assert_false(rmap_tracked(rm, 0x6000));
    assert_true(saw_untrack(&f->log, 0x6000, RMAP_FLOOD));
    assert_int_equal(f->log.nzap, 2);
    assert_true(saw_zap(&f->log, 0, 0x10u << 22, 1024));
    assert_true(saw_zap(&f->log, 1, 0x10u << 22, 1024));
    assert_true(rmap_tracked(rm, 0x1000));

    /* rmap_add counts as use too. */
    rmap_add(rm, 0, 0x10, 0x6000, pt);
    assert_true(rmap_write_begin(rm, 0x6000, 4));
    assert_true(rmap_write_begin(rm, 0x6004, 4));
    rmap_add(rm, 0, 0x10, 0x6000, pt);
    assert_true(rmap_write_begin(rm, 0x6008, 4));

    /* Stores that do not look like PTE updates stop tracing at once. */
    static const struct { unsigned off, len; bool ok; } st_[] = {
        { 0, 4, true }, { 4, 1, true }, { 1, 1, false }, { 0, 2, false },
        { 2, 4, false }, { 0, 8, true }, { 4, 8, false }, { 8, 16, false },
    };
    for (size_t k = 0; k < sizeof st_ / sizeof st_[0]; k++) {
        assert_int_equal(rmap_store_aligned(st_[k].off, st_[k].len), st_[k].ok);
        rmap_add(rm, 0, 0x10, 0x6000, pt);
        assert_int_equal(rmap_write_begin(rm, 0x6000 + st_[k].off, st_[k].len), st_[k].ok);
        assert_int_equal(rmap_tracked(rm, 0x6000), st_[k].ok);
    }
    rmap_get_stats(rm, &st);
    assert_int_equal(st.flooded, 1 + 5);
}

/* ---- randomised run against a model ------------------------------------- */

#define R_SPACES 6
#define R_GPAS   24

struct model {
    int32_t slot[R_SPACES][RMAP_PD + 1];     /* gpa index or -1 */
    unsigned users[R_GPAS];
};

static void model_set(struct model *m, unsigned s, unsigned j, int g)
{
    if (m->slot[s][j] >= 0)
        m->users[m->slot[s][j]]--;
    m->slot[s][j] = g;
    if (g >= 0)
        m->users[g]++;
}

static void test_random_against_model(void **state)
{
    struct fx *f = *state;
    /* Caps big enough that nothing is evicted: the model has no LRU. */
    struct rmap *rm = make(f, 64, 512, R_SPACES, 1000);
    static struct model m;
    uint32_t x = 12345;
    static const unsigned pdes[] = { 0, 1, 2, 767, 768, 1023, RMAP_PD };

    memset(&m, 0, sizeof m);
    for (unsigned s = 0; s < R_SPACES; s++)
        for (unsigned j = 0; j <= RMAP_PD; j++)
            m.slot[s][j] = -1;
    for (unsigned step = 0; step < 200000; step++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        unsigned s = x % R_SPACES, j = pdes[(x >> 8) % 7], op = (x >> 16) % 8;
        int g = (int)((x >> 20) % R_GPAS);
        uint32_t gpa = 0x100000u + (uint32_t)g * 0x3000u;   /* spread over the hash */

        if (op < 5) {
            bool was = m.users[g] > 0;
            enum rmap_add_result r = rmap_add(rm, s, j, gpa, f->page[0]);
            int old = m.slot[s][j];
            model_set(&m, s, j, g);
            if (old != g && r != (was ? RMAP_ADD_KNOWN : RMAP_ADD_NEW))
                fail_msg("step %u: add result %d, traced before: %d", step, r, was);
        } else if (op < 7) {
            rmap_remove(rm, s, j);
            model_set(&m, s, j, -1);
        } else {
            rmap_drop_space(rm, s);
            for (unsigned k = 0; k <= RMAP_PD; k++)
                model_set(&m, s, k, -1);
        }
        /* Check every gpa: traced iff some dependent, with that count. */
        for (int h = 0; h < R_GPAS; h++) {
            uint32_t hg = 0x100000u + (uint32_t)h * 0x3000u;
            unsigned users = m.users[h];
            struct deps_seen d = deps_of(rm, hg);
            if (rmap_tracked(rm, hg) != (users > 0) || d.n != users)
                fail_msg("step %u: gpa %#x traced %d deps %u, model %u", step, hg,
                         rmap_tracked(rm, hg), d.n, users);
        }
    }
    assert_int_equal(f->log.nzap, 0);
}

/* The same under churn, with small caps so that pages and dependents are
 * evicted, and with guest stores. The model cannot predict LRU choices, so
 * it follows the callbacks: zap(space, 0, RMAP_ALL_PAGES) means the space's
 * dependents are gone, untracked(gpa) means nothing depends on gpa any
 * more. After every step the rmap must agree with it exactly, and a store
 * must zap once per dependent of the page when a present entry changes. */
#define C_GPAS 16

struct churn {
    struct model m;
    uint32_t page[C_GPAS][1024];
    unsigned zaps, bad_zaps;
    int writing;                /* gpa index being written, or -1 */
    unsigned write_index;
};

static void churn_zap(void *opaque, unsigned space, uint32_t linear, uint32_t npages)
{
    struct churn *c = opaque;
    c->zaps++;
    if (npages == RMAP_ALL_PAGES) {
        for (unsigned k = 0; k <= RMAP_PD; k++)
            model_set(&c->m, space, k, -1);
        return;
    }
    if (c->writing >= 0) {
        /* A store to page `writing`, entry write_index: the range must be
         * one this page governs for `space`. */
        int g = c->writing;
        unsigned i = c->write_index;
        bool ok = (c->m.slot[space][RMAP_PD] == g && linear == i << 22 && npages == 1024);
        for (unsigned j = 0; j < RMAP_PD && !ok; j++)
            ok = c->m.slot[space][j] == g && linear == (j << 22 | i << 12) && npages == 1;
        c->bad_zaps += !ok;
    }
}

static void churn_untracked(void *opaque, uint32_t gpa, enum rmap_why why)
{
    struct churn *c = opaque;
    int g = (int)((gpa - 0x100000u) / 0x3000u);
    for (unsigned s = 0; s < R_SPACES; s++)
        for (unsigned k = 0; k <= RMAP_PD; k++)
            if (c->m.slot[s][k] == g)
                model_set(&c->m, s, k, -1);
}

static void test_churn_against_model(void **state)
{
    static struct churn c;
    struct rmap_config cfg = { .max_pages = 8, .max_deps = 24, .max_spaces = R_SPACES,
                               .flood_writes = 3 };
    struct rmap_ops ops = { .opaque = &c, .zap = churn_zap, .untracked = churn_untracked };
    static const unsigned pdes[] = { 0, 1, 2, 767, 768, 1023, RMAP_PD };
    struct rmap_stats st;
    char err[200];
    uint32_t x = 777;
    struct rmap *rm = rmap_create(&cfg, &ops, err, sizeof err);

    assert_non_null(rm);
    memset(&c, 0, sizeof c);
    c.writing = -1;
    for (unsigned s = 0; s < R_SPACES; s++)
        for (unsigned j = 0; j <= RMAP_PD; j++)
            c.m.slot[s][j] = -1;
    for (unsigned g = 0; g < C_GPAS; g++)
        for (unsigned i = 0; i < 1024; i++)
            c.page[g][i] = (i & 1) ? (g << 12 | 0x27) : 0;   /* odd entries present */

    for (unsigned step = 0; step < 300000; step++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        unsigned s = x % R_SPACES, j = pdes[(x >> 8) % 7], op = (x >> 16) % 16;
        int g = (int)((x >> 20) % C_GPAS);
        uint32_t gpa = 0x100000u + (uint32_t)g * 0x3000u;

        if (op < 8) {
            enum rmap_add_result r = rmap_add(rm, s, j, gpa, c.page[g]);
            if (r != RMAP_ADD_FULL)
                model_set(&c.m, s, j, g);
            else if (c.m.slot[s][j] != g)
                model_set(&c.m, s, j, -1);   /* the old dependent went, the new one failed */
        } else if (op < 10) {
            rmap_remove(rm, s, j);
            model_set(&c.m, s, j, -1);
        } else if (op < 11) {
            rmap_drop_space(rm, s);
            for (unsigned k = 0; k <= RMAP_PD; k++)
                model_set(&c.m, s, k, -1);
        } else {
            /* A guest store to entry i of page g (mostly entries 0..7 and
             * the PDE slots the test uses, so it hits dependents). */
            static const unsigned idx[] = { 0, 1, 2, 3, 767, 768, 1023, 5 };
            unsigned i = idx[(x >> 4) % 8];
            uint32_t old = c.page[g][i], new = old ^ ((x & 8) ? 0x1 : 0x1000);
            unsigned deps_before = c.m.users[g], zaps_before = c.zaps;
            bool traced = rmap_tracked(rm, gpa);

            if (!rmap_write_begin(rm, gpa + i * 4, 4)) {
                c.page[g][i] = new;          /* untraced, or a flood: just store */
                if (traced && rmap_tracked(rm, gpa))
                    fail_msg("step %u: write_begin false but still traced", step);
            } else {
                c.writing = g;
                c.write_index = i;
                c.page[g][i] = new;
                unsigned n = rmap_write_end(rm, gpa + i * 4, 4, c.page[g]);
                c.writing = -1;
                if (n != 1)
                    fail_msg("step %u: %u entries changed", step, n);
                if ((old & 1) && c.zaps - zaps_before != deps_before)
                    fail_msg("step %u: %u zaps for %u dependents", step, c.zaps - zaps_before,
                             deps_before);
                if (!(old & 1) && c.zaps != zaps_before)
                    fail_msg("step %u: zap for a not-present entry", step);
                /* A changed PDE ends the dependency on the old table. */
                if (old & 1)
                    for (unsigned t = 0; t < R_SPACES; t++)
                        if (c.m.slot[t][RMAP_PD] == g)
                            model_set(&c.m, t, i, -1);
            }
        }
        if (c.bad_zaps)
            fail_msg("step %u: a zap outside what the page governs", step);
        unsigned pages = 0, deps = 0;
        for (int h = 0; h < C_GPAS; h++) {
            uint32_t hg = 0x100000u + (uint32_t)h * 0x3000u;
            struct deps_seen d = deps_of(rm, hg);
            if (rmap_tracked(rm, hg) != (c.m.users[h] > 0) || d.n != c.m.users[h])
                fail_msg("step %u (op %u): gpa %#x traced %d deps %u, model %u", step, op, hg,
                         rmap_tracked(rm, hg), d.n, c.m.users[h]);
            for (unsigned k = 0; k < d.n; k++)
                if (c.m.slot[d.space[k]][d.pde[k]] != h)
                    fail_msg("step %u: dependent (%u, %u) of %#x not in the model", step,
                             d.space[k], d.pde[k], hg);
            pages += d.n > 0;
            deps += d.n;
        }
        rmap_get_stats(rm, &st);
        if (st.pages != pages || st.deps != deps || pages > cfg.max_pages || deps > cfg.max_deps)
            fail_msg("step %u: stats %u pages %u deps, counted %u %u", step, st.pages, st.deps,
                     pages, deps);
    }
    rmap_get_stats(rm, &st);
    print_message("churn: %llu traced, %llu evicted, %llu flooded, %llu unused, %llu zaps\n",
                  (unsigned long long)st.traced, (unsigned long long)st.evicted,
                  (unsigned long long)st.flooded, (unsigned long long)st.unused,
                  (unsigned long long)st.zaps);
    assert_true(st.evicted > 1000 && st.flooded > 10 && st.zaps > 1000);
    rmap_destroy(rm);
}

/* Nothing allocates after rmap_create: the SIGSEGV handler calls these. */
static void test_no_allocation_after_create(void **state)
{
    struct fx *f = *state;
    struct rmap *rm = make(f, 8, 16, 4, 3);
    uint32_t *pt = f->page[0];
    struct mallinfo2 before, after;
    unsigned bad = 0;

    memset(pt, 0xff, 4096);
    before = mallinfo2();
    for (unsigned i = 0; i < 2000; i++) {
        unsigned s = i % 4;
        uint32_t gpa = 0x1000u * (i % 13 + 1);
        rmap_add(rm, s, RMAP_PD, gpa, pt);
        rmap_add(rm, s, i % 1024, gpa + 0x100000, pt);
        if (rmap_write_begin(rm, gpa + (i % 1024) * 4, 4)) {
            pt[i % 1024] ^= 0x20;
            rmap_write_end(rm, gpa + (i % 1024) * 4, 4, pt);
        }
        bad += rmap_diff(rm, gpa, pt, NULL, NULL) > 1024;
        if (i % 97 == 0)
            rmap_drop_space(rm, s);
    }
    rmap_clear(rm);
    after = mallinfo2();
    assert_int_equal(bad, 0);
    assert_int_equal(before.uordblks, after.uordblks);
    assert_int_equal(before.hblkhd, after.hblkhd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_rejects_bad_config),
        cmocka_unit_test_setup_teardown(test_add_lookup_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diff_reports_exactly_the_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_to_page_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_to_page_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsync_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pae_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lru_eviction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_space_pd_is_pinned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dependent_pool_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flood_detection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_against_model, setup, teardown),
        cmocka_unit_test(test_churn_against_model),
        cmocka_unit_test_setup_teardown(test_no_allocation_after_create, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
