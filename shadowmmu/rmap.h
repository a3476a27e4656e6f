/* rmap — which shadow state depends on which guest page-table page (DESIGN §4, Tracing).
 *
 * A shadow space (one per guest CR3 and privilege view, named here by a small
 * id) is filled from guest page-table pages. For each such page the rmap
 * keeps its dependents and a snapshot of its 4 KiB:
 *
 *      traced page (gpa)          dependents                    snapshot
 *      0x00123000 (a PD)   ->  {space 3: PD}, {space 4: PD}      1024 entries
 *      0x00456000 (a PT)   ->  {space 3: PDE 768}, {space 4: PDE 768}, ...
 *
 * A dependent {space, PD} means the space's page directory is this page, so
 * entry i governs linear [i << 22, +4 MiB) of that space; {space, PDE j}
 * means the space's PDE j references this page as a page table, so entry i
 * governs the 4 KiB page at (j << 22) | (i << 12). After the monitor performs
 * a guest store to a traced page, rmap_write_end() diffs the page against the
 * snapshot and tells the caller, through ops->zap, exactly which linear
 * ranges of which spaces must be unmapped. A changed PDE also ends the
 * dependency of that space on the page table the old PDE referenced.
 *
 * Memory is bounded: rmap_create() allocates every pool (pages, snapshots,
 * dependents, the hash table, the per-space slot arrays) and nothing else
 * allocates, so all functions may run in the SIGSEGV handler. When a pool is
 * full the least recently used page is evicted: its dependents' ranges are
 * zapped and ops->untracked is called, so the caller can drop the write
 * protection. Write floods (KVM's heuristic, mmu.c detect_write_flooding):
 * `flood_writes` stores to a page with no use of it as a page table in
 * between, or one store that does not look like a PTE update, mean the page
 * is no longer a page table (fork rewriting it, or freed and reused as data):
 * tracing stops the same way.
 *
 * PAE entries are 8 bytes: a 4-byte store changes half of one (Linux's
 * set_pte writes the high half, then the low), an 8-byte one all of it.
 * The diff compares both halves of every entry a store touched and zaps
 * a dependent's range when the entry was present (P is in the low half)
 * and anything but the available bits changed in either half.
 *
 * Contract with the caller (the shadow fill and the write-fault handler):
 *   - shadow state is only ever built from present entries, so a change to
 *     an entry that was not present invalidates nothing;
 *   - a fill calls rmap_add() for the page directory and the page table it
 *     walked (this also counts as use for flood detection), and maps any
 *     frame that rmap_tracked() reports read-only;
 *   - every store the monitor makes to a traced page either goes through
 *     rmap_write_begin()/rmap_write_end() (guest stores) or is reported with
 *     rmap_sync_entry() (the walker's own A/D updates), so the snapshot
 *     always equals what the shadow was built from;
 *   - callbacks must not call back into the rmap.
 * Not thread-safe: one vCPU thread, and the handler never interrupts an rmap
 * call (the faults it handles come from translated code). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a dependent uses the page as (`pde` below). 32-bit paging: 0..1023,
 * the page table of that PDE; RMAP_PD, the page directory (1024 entries of
 * 4 bytes). PAE paging (8-byte entries, 512 a page): RMAP_PAE_PT(j), the
 * page table of PDE j = linear >> 21 (0..2047, over the four directories);
 * RMAP_PAE_PD(k), the page directory the PDPTE register k names. */
#define RMAP_PD     1024u
#define RMAP_PAE_PT(j) (1025u + (j))
#define RMAP_PAE_PD(k) (3073u + (k))
#define RMAP_DEPS   3077u       /* dependents a space can have */
#define RMAP_ALL_PAGES (1u << 20)   /* zap npages covering a whole space */

enum rmap_why {
    RMAP_UNUSED,    /* its last dependent went away */
    RMAP_EVICTED,   /* a pool was full and it was the least recently used page */
    RMAP_FLOOD,     /* write flood: it no longer looks like a page table */
};

struct rmap_ops {
    void *opaque;
    /* The shadow state of `space` for linear [linear, linear + npages * 4 KiB)
     * may be stale: unmap it. npages is 1 (a PTE changed), 1024 or 512 (a
     * PDE, or the page table behind it) or RMAP_ALL_PAGES (a page
     * directory itself is no longer traced: flush the space). */
    void (*zap)(void *opaque, unsigned space, uint32_t linear, uint32_t npages);
    /* The page at `gpa` is no longer traced: lift its write protection,
     * unless something else (translated code) still needs it. */
    void (*untracked)(void *opaque, uint32_t gpa, enum rmap_why why);
    /* Optional. The 32-bit page directory of `space` stops being traced
     * (evicted or flooded); `pd` is its snapshot, the 1024 entries the
     * space was built from. True: the caller keeps the space's shadow
     * (mmu_retarget.c), so only the directory dependent goes and the
     * space's page-table dependents stay (they keep the pages below each
     * PDE coherent). False, or no callback: the space is zapped whole
     * (RMAP_ALL_PAGES) and all its dependents go. */
    bool (*detach)(void *opaque, unsigned space, const uint32_t *pd);
};

struct rmap_config {
    uint32_t max_pages;     /* traced pages, each with a 4 KiB snapshot (>= 4) */
    uint32_t max_deps;      /* dependents in all (0: 4 * max_pages) */
    uint16_t max_spaces;    /* space ids are 0 .. max_spaces-1 */
    uint16_t flood_writes;  /* stores without use that stop tracing (0: 3, as KVM) */
};

struct rmap_stats {
    uint32_t pages, deps;   /* in use now */
    uint64_t traced;        /* pages that started being traced */
    uint64_t evicted, flooded, unused;   /* pages that stopped, by reason */
    uint64_t writes;        /* stores reported by rmap_write_begin on traced pages */
    uint64_t changed;       /* entries found changed by diffs */
    uint64_t zaps;          /* ops->zap calls */
    uint64_t detaches;      /* page directories given up through ops->detach */
};

struct rmap;

/* Allocates everything the rmap will ever use. NULL and a message on error. */
struct rmap *rmap_create(const struct rmap_config *cfg, const struct rmap_ops *ops,
                         char *err, size_t errlen);
void rmap_destroy(struct rmap *rm);

enum rmap_add_result {
    RMAP_ADD_FULL = -1,     /* could not record it (every pool entry pinned): do not
                               install the mapping */
    RMAP_ADD_KNOWN = 0,     /* the page was already traced */
    RMAP_ADD_NEW = 1,       /* the page is newly traced: write-protect it in every space */
};

/* Space `space` uses the page at `gpa` as its page directory (pde = RMAP_PD,
 * RMAP_PAE_PD(k)) or as the page table referenced by its PDE `pde`
 * (0..1023, RMAP_PAE_PT(j)). `page` is the
 * page's current 4 KiB, copied as the snapshot if the page is new. Replaces
 * whatever the same (space, pde) depended on before. Counts as use of the
 * page. May evict other pages (callbacks), never the page directory of
 * `space`. */
enum rmap_add_result rmap_add(struct rmap *rm, unsigned space, unsigned pde, uint32_t gpa,
                              const void *page);
/* Forget one dependent (no zap). */
void rmap_remove(struct rmap *rm, unsigned space, unsigned pde);
/* The page `space` uses as `pde`, or false if none. */
bool rmap_dep_page(const struct rmap *rm, unsigned space, unsigned pde, uint32_t *gpa);
/* Forget every dependent of `space` (it was flushed or evicted; no zap). */
void rmap_drop_space(struct rmap *rm, unsigned space);
/* Forget everything (e.g. all spaces flushed). */
void rmap_clear(struct rmap *rm);

/* Is the page holding `gpa` traced and write-protected (not unsync)? O(1). */
bool rmap_tracked(const struct rmap *rm, uint32_t gpa);
/* Is it in the rmap at all (traced, or unsync)? */
bool rmap_known(const struct rmap *rm, uint32_t gpa);

/* Unsync pages (the caller's choice, mmu_unsync.c): a traced page left
 * writable. Its snapshot may lag the page; guest stores to it are not
 * reported (rmap_write_begin says false) and rmap_sync_page diffs the
 * whole page later, zapping as rmap_write_end would. Its dependents stay
 * as for any traced page; rmap_tracked says false for it. */
bool rmap_is_unsync(const struct rmap *rm, uint32_t gpa);
void rmap_set_unsync(struct rmap *rm, uint32_t gpa, bool unsync);
/* Diff the whole page against `page` (its 4 KiB now): zap the dependents'
 * ranges of every entry that changed and was present, update the
 * snapshot. Returns the number of entries that changed. */
unsigned rmap_sync_page(struct rmap *rm, uint32_t gpa, const void *page);
/* The page holding `gpa` was used as a page table by a walk: mark it
 * recently used and reset its flood count. */
void rmap_note_use(struct rmap *rm, uint32_t gpa);
/* Call fn for each dependent of the page holding `gpa`. */
void rmap_for_each_dep(const struct rmap *rm, uint32_t gpa,
                       void (*fn)(void *arg, unsigned space, unsigned pde), void *arg);

/* A guest store of `len` bytes at `gpa` (within one page) is about to be
 * performed. Returns true if the page is traced and stays traced: perform
 * the store, then call rmap_write_end. Returns false if the page is not
 * traced, or if this store is a flood and stopped tracing it (dependents
 * zapped, ops->untracked called): just perform the store. */
bool rmap_write_begin(struct rmap *rm, uint32_t gpa, unsigned len);
/* The store is done; `page` is the page's new 4 KiB. Diffs the entries the
 * store touched against the snapshot, zaps the dependents' ranges for each
 * entry that changed and was present, and updates the snapshot. Returns the
 * number of entries that changed. */
unsigned rmap_write_end(struct rmap *rm, uint32_t gpa, unsigned len, const void *page);
/* The monitor itself set entry `gpa` (4-aligned) from `old` to `value`
 * (A/D updates by the walker): update the snapshot, zap nothing. On an
 * unsync page whose snapshot entry is not `old` (the guest changed it
 * since) the snapshot stays, for rmap_sync_page to see the change. */
void rmap_sync_entry(struct rmap *rm, uint32_t gpa, uint32_t old, uint32_t value);

/* The diff primitive: compare the whole page holding `gpa` with `page`,
 * call fn(index, old, new) for each 32-bit entry that differs, in index
 * order, and update the snapshot. No zaps; returns the count. fn may call
 * rmap_tracked and rmap_for_each_dep, nothing else. */
unsigned rmap_diff(struct rmap *rm, uint32_t gpa, const void *page,
                   void (*fn)(void *arg, unsigned index, uint32_t old, uint32_t new), void *arg);
/* Does changing a guest entry from `old` to `new` invalidate shadow state
 * built from it? Only if it was present and a bit other than the
 * software-available bits 11:9 changed. */
static inline bool rmap_entry_stale(uint32_t old, uint32_t new)
{
    return (old & 1u) && ((old ^ new) & ~0xe00u);
}
/* Does a store of `len` bytes at page offset `off` look like a PTE update
 * (KVM's detect_write_misaligned)? A single aligned 4-byte entry or half
 * of a PAE entry, an aligned 8-byte PAE entry (CMPXCHG8B, MOVQ), or one
 * byte at an entry's start (Linux's clear_bit on A/D/RW uses andb). */
static inline bool rmap_store_aligned(unsigned off, unsigned len)
{
    if (len == 1 && !(off & 3))
        return true;
    if (len == 8)
        return !(off & 7);
    return len == 4 && !(off & 3);
}

void rmap_get_stats(const struct rmap *rm, struct rmap_stats *st);
