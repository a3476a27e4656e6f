/* mmu_internal — the state shared by mmu.c (spaces, activation), mmu_map.c
 * (mapping records and the host-mapping model), mmu_fill.c (faults, walks,
 * prefetch) and mmu_protect.c (tracing, code pages, traced stores).
 *
 * Mapping records. Every 4 KiB page mapped in a paging space has one record
 * (struct mrec) in a pool allocated at create, linked three ways:
 *
 *     hash[(space id, linear page)] -> record      find what a page maps
 *     frame_head[gpa >> 12] -> records of a frame  every mapping of a frame:
 *                                                  write-protect it when it
 *                                                  becomes traced or code
 *     space->recs -> records of a space            empty a space
 *
 * Index 0 is never a record, so 0 ends every list and zeroed memory is an
 * empty index. The identity space has no records: its page for a frame is
 * at linear == gpa, mapped iff the frame is RAM, read-only iff code.
 *
 * Host-mapping model. The kernel merges neighbouring pages into one VMA
 * when both are unmapped (the PROT_NONE reservation), or both map
 * contiguous memfd offsets with the same protection (checked on Linux 6.x:
 * mmap, mprotect and MAP_FIXED replacement all merge). A reservation then
 * holds 1 + (number of adjacent page pairs that do not merge) VMAs, a
 * function of the pages' state alone, so each change updates the count by
 * looking at the pairs around the pages it changed (breaks_around). This
 * is what the map budget (vm.max_map_count) is checked against. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "shadowmmu/mmu.h"
#include "shadowmmu/rmap.h"
#include "shadowmmu/walk.h"

#define LPNS (1u << 20)            /* 4 KiB pages in a window */
#define FRAMES (1u << 20)          /* 4 KiB frames in the 32-bit physical space */
#define PROT_R 1                   /* == PROT_READ */
#define PROT_RW 3                  /* == PROT_READ | PROT_WRITE */
#define FRAME_CODE 1u              /* frame_flags: holds translated code */
#define FRAME_LOGWP 2u             /* frame_flags: dirty logging on, not written in a paging
                                      space since the last sync: read-only there */
#define FRAME_IDWP 4u              /* the same for the identity space (mmu_dirty.c) */
#define IDENT_ID 0xffffu
#define MREC_FREE 0xffffffffu      /* the key of a record on the free list */
#define XL_ENTRIES 16
#define SOFT_ENTRIES 1024          /* churn table (mmu_soft.c): 256 sets of 4 */

struct mrec {
    uint32_t frame;                /* gpa >> 12 */
    uint32_t key;                  /* space id << 20 | linear >> 12 */
    uint32_t fprev, fnext;         /* the frame's records */
    uint32_t sprev, snext;         /* the space's records */
    uint32_t hnext;                /* hash chain; free list */
    uint8_t prot;                  /* PROT_R or PROT_RW, as mapped now */
    uint8_t want_w;                /* guest entries let this view write and D is set:
                                      writable once neither traced nor code */
    uint8_t over;                  /* supervisor view: CPL 3 may not do what this record
                                      allows (mmu_view.c) */
};
/* The per-page byte map_run and mmu_remap_page take: want_w, and `over`. */
#define MREC_WANT_W 1u
#define MREC_OVER 2u

struct mspace {
    struct space sp;               /* first: a struct space * is a struct mspace * */
    uint16_t id;                   /* rmap space id, IDENT_ID for the identity space */
    bool identity;
    bool keyed;                    /* holds (cr3, view) */
    bool drop_pending;             /* emptied inside an rmap callback: rmap_drop_space later */
    bool detached;                 /* its directory is no longer traced: mmu_retarget before
                                      it serves anything again (mmu_retarget.c) */
    uint8_t view;                  /* enum mmu_view */
    uint32_t cr3;                  /* page-directory base (CR3 & PTE_FRAME); PAE: CR3 */
    uint64_t pdpte[4];             /* PAE: the PDPTE registers it was keyed with */
    uint64_t lru;                  /* last activation; 0: emptied, recycle first */
    uint32_t recs, nrecs;          /* its records */
    uint32_t maps;                 /* modelled VMAs of the reservation */
    uint32_t *saved;               /* detached: the 1024 PDEs its records were built from */
    uint32_t over;                 /* its records with `over` set (mmu_view.c) */
    bool was_lent;                 /* CPL 3 ran in it (supervisor view) since it was keyed */
};

/* A linear page whose guest mapping changes (mmu_soft.c): key as a
 * record's, +1 so that zeroed memory is empty. */
struct churn {
    uint32_t key1;
    uint8_t changes;               /* PTE changes seen while not soft */
    uint8_t soft;                  /* kept out of the host mappings */
    uint16_t quiet;                /* soft accesses since the last change */
};

/* A page a fill may map: the faulting one or a prefetch candidate. */
struct cand {
    uint32_t frame;
    uint8_t ok, prot, want_w, over;
};

/* An unsync page table (mmu_unsync.c). */
struct unsync_page {
    uint32_t frame;
    uint8_t edits;                 /* diffs in a row that found one or two entries changed */
    uint8_t idle;                  /* diffs in a row that found nothing changed */
};

/* A traced store being single-stepped (mmu_unprotect_for_store). */
struct pending {
    struct mspace *s;
    uint32_t lpn, frame;
    bool used;
    bool traced;                   /* rmap_write_begin said so: diff at the end */
    bool temp;                     /* mapped only for the store: unmap at the end */
};

struct mmu {
    struct mmu_config cfg;
    const struct guest_ram *ram;
    struct mspace ident;
    struct mspace *spaces;         /* cfg.spaces paging spaces, id = index */
    uint32_t *saved_pds;           /* cfg.spaces * 1024: mspace.saved */
    struct mspace *cur;            /* the last one activated */
    bool ident_mapped;
    bool broken;                   /* a shadow could not be made coherent: faults say ERROR */
    /* Paging state of the last activation (walk.h struct walk_mode). */
    bool paging, wp, pse, pae, nxe;
    uint32_t cr3;
    uint64_t pdpte[4];
    uint64_t tick;
    /* Records. */
    struct mrec *rec;
    uint32_t rec_free, rec_used;
    uint32_t *hash;
    uint32_t hash_shift;
    uint32_t *frame_head;          /* FRAMES */
    uint8_t *frame_flags;          /* FRAMES */
    /* Host mappings. */
    uint32_t maps_total, maps_budget;
    uint64_t evict_gen;            /* bumped whenever a space is emptied */
    uint64_t special_writes;       /* mmu_special_writes */
    uint64_t key_gen;              /* bumped whenever a space may serve another key (mmu_key_gen) */
    uint64_t xlate_gen;            /* mmu_xlate_gen: bumped whenever a translation may go stale */
    bool lent;                     /* cur is a supervisor-view space CPL 3 runs in (mmu_view.c) */
    struct rmap *rm;
    struct walk_mem mem;
    bool in_cb;                    /* inside an rmap callback: no rmap calls */
    /* mmu_translate's memory of recent answers (the monitor touches the
     * same IDT entry, descriptors and stack page on every system call):
     * the space of each view, and records by key, valid while the record
     * still holds that key (a removed record's key is MREC_FREE). */
    struct mspace *view_sp[2];
    uint32_t xl_key[2][XL_ENTRIES], xl_rec[2][XL_ENTRIES];
    uint32_t writing;              /* frame of the traced store being diffed, or 0 */
    bool kept_live;                /* that diff kept a mapped page (remapped in place) */
    bool drops_pending;
    struct pending pend[2];
    struct cand *cand;             /* cfg.prefetch entries: scratch of a fill (the
                                      signal stack is too small for it) */
    uint8_t *want_w;               /* cfg.prefetch entries: scratch for map_run */
    struct churn churn[SOFT_ENTRIES];
    uint8_t share_w[1024];         /* mmu_share.c: want_w of a run */
    uint32_t soft_pages;           /* entries now soft (0: nothing to look up) */
    struct unsync_page unsync[MMU_MAX_UNSYNC];  /* the unsync page tables, oldest first */
    unsigned nunsync;
    struct mmu_stats st;
    /* Dirty logging (mmu_dirty.c): one bit per frame written since the
     * last sync, allocated while logging is on. */
    uint64_t *dirty;
};

static inline struct mspace *ms_of(struct space *s) { return (struct mspace *)s; }
static inline struct mspace *space_of_rec(struct mmu *m, const struct mrec *r)
{
    return &m->spaces[r->key >> 20];
}
static inline uint32_t lpn_of_rec(const struct mrec *r) { return r->key & (LPNS - 1); }
static inline bool frame_is_code(const struct mmu *m, uint32_t frame)
{
    return (m->frame_flags[frame] & FRAME_CODE) != 0;
}
/* Protection the identity space gives a RAM frame. */
static inline int ident_prot(const struct mmu *m, uint32_t frame)
{
    return (m->frame_flags[frame] & (FRAME_CODE | FRAME_IDWP)) ? PROT_R : PROT_RW;
}
/* A store to `frame` happened or is about to (dirty logging on): the next
 * sync hands it out. Its FRAME_LOGWP/IDWP stay until a write fault opens
 * the mappings (mmu_dirty_open). Async-signal-safe. */
static inline void dirty_mark_frame(struct mmu *m, uint32_t frame)
{
    if (m->dirty)
        m->dirty[frame >> 6] |= 1ull << (frame & 63);
}
/* rmap_tracked is a hash lookup; this is the protection rule of mmu.h. */
static inline int prot_want(const struct mmu *m, uint32_t frame, bool want_w)
{
    if (want_w && !(m->frame_flags[frame] & (FRAME_CODE | FRAME_LOGWP)) &&
        !rmap_tracked(m->rm, frame << 12))
        return PROT_RW;
    return PROT_R;
}
/* The walk mode of a space keyed (cr3, pdpte) under the current rules. */
static inline struct walk_mode mmu_mode(const struct mmu *m, uint32_t cr3, const uint64_t *pdpte)
{
    struct walk_mode w = { .cr3 = cr3, .wp = m->wp, .pse = m->pse, .pat = m->cfg.pat,
                           .pae = m->pae, .nxe = m->nxe };
    if (m->pae)
        for (int i = 0; i < 4; i++)
            w.pdpte[i] = pdpte[i];
    return w;
}

/* mmu.c: the cached space of the current paging registers for `view`,
 * or NULL (paging off, or not cached). */
struct mspace *mmu_current_space(struct mmu *m, enum mmu_view view);

/* mmu_map.c: records and host mappings. Functions that change mappings
 * return 0 or -errno and keep records, model and host in step. `keep` is
 * the space being worked on: eviction never empties it. */
uint32_t mmu_rec_find(const struct mmu *m, const struct mspace *s, uint32_t lpn);
/* Protection a record should have now: writable only if the guest allows
 * it and the frame is neither traced nor code. */
int rec_desired_prot(const struct mmu *m, const struct mrec *r);
/* Map n pages at lpn (all without records) to frames frame.. frame+n-1,
 * which lie in one RAM region, with prot; want_w[i] per page. */
int map_run(struct mmu *m, struct mspace *s, uint32_t lpn, uint32_t n, uint32_t frame, int prot,
            const uint8_t *want_w);
int mmu_set_prot(struct mmu *m, uint32_t r, int prot);
/* Point record r's page at another frame (one mmap over the old page). */
int mmu_remap_page(struct mmu *m, uint32_t r, uint32_t frame, int prot, uint8_t wflags);
/* Unmap the recorded pages of [lpn, lpn + n). */
int mmu_zap_range(struct mmu *m, struct mspace *s, uint32_t lpn, uint32_t n);
/* Unmap everything in s; drop_deps: also forget its rmap dependents (now,
 * or after the callback we are in). */
void space_reset(struct mmu *m, struct mspace *s, bool drop_deps);
/* Make room for `maps` more VMAs and `recs` more records by emptying other
 * spaces, least recently used first. False if that was not enough. */
bool mmu_reserve(struct mmu *m, struct mspace *keep, uint32_t maps, uint32_t recs);
/* A system call failed with ENOMEM: empty one other space. False if none. */
bool mmu_relieve(struct mmu *m, struct mspace *keep);
uint32_t rec_free_count(const struct mmu *m);
/* Identity space: map RAM; set a frame's code protection. */
int ident_map(struct mmu *m);
int ident_set_code(struct mmu *m, uint32_t frame, bool code);
/* Set or clear `flag` (FRAME_CODE, FRAME_IDWP) on frames [first, first+n)
 * of one RAM region and bring their identity pages to ident_prot with one
 * mprotect. 0 or -errno. */
int ident_set_flag_run(struct mmu *m, uint32_t first, uint32_t n, uint8_t flag, bool on);
void model_adjust(struct mmu *m, struct mspace *s, int delta);

/* mmu_protect.c */
void protect_frame(struct mmu *m, uint32_t frame);
void mmu_rmap_zap(void *opaque, unsigned space, uint32_t linear, uint32_t npages);
void mmu_rmap_untracked(void *opaque, uint32_t gpa, enum rmap_why why);
/* Deferred rmap_drop_space calls (see struct mspace). */
void mmu_settle(struct mmu *m);

/* mmu_dirty.c: a write fault on a frame held read-only by dirty logging:
 * mark it and drop the flag of the space kind it faulted in (identity:
 * FRAME_IDWP, and the page is opened; else FRAME_LOGWP: the caller then
 * gives the faulting mapping the protection prot_want says). */
void mmu_dirty_open(struct mmu *m, uint32_t frame, bool identity);

/* mmu_soft.c: pages kept out of the host mappings because their guest
 * mapping churns (see mmu.h "Soft pages"). */
/* A guest entry of page lpn of s changed, while the page was mapped or
 * not; true if the page is soft now. */
bool soft_note_change(struct mmu *m, const struct mspace *s, uint32_t lpn, bool mapped);
/* A guest entry above the leaves changed (a PDE): every mapped page of
 * [lpn, lpn + n) of s changes. */
void soft_note_range(struct mmu *m, const struct mspace *s, uint32_t lpn, uint32_t n);
/* Is page lpn of s soft? access: count this access towards un-softening
 * it (a soft page that stops changing is mapped again). */
bool soft_page(struct mmu *m, const struct mspace *s, uint32_t lpn, bool access);
/* Page lpn of s must be mapped after all (an access the monitor cannot
 * perform for it): it is no longer soft. */
void soft_end(struct mmu *m, const struct mspace *s, uint32_t lpn);
/* Space s is keyed anew: forget its pages. */
void soft_forget_space(struct mmu *m, const struct mspace *s);

/* mmu_share.c: fill a newly keyed space from the cached spaces whose
 * page-directory entries it shares (mmu.h "Shared fills"). */
void mmu_share_fill(struct mmu *m, struct mspace *s);

/* mmu_retarget.c: the rmap's detach callback, and the check of a
 * detached space against the directory at its (possibly new) s->cr3. */
bool mmu_rmap_detach(void *opaque, unsigned space, const uint32_t *pd);
void mmu_retarget(struct mmu *m, struct mspace *s);

/* mmu_unsync.c: traced page tables left writable (mmu.h "Unsync page
 * tables"). A fill starts tracing the page table at gpa as `dep`: true if
 * it is left unsync (no write protection needed). */
bool unsync_may_skip_protect(struct mmu *m, unsigned dep, uint32_t gpa);
/* The rmap released the page: it is no longer unsync. */
void unsync_forget(struct mmu *m, uint32_t gpa);
/* Diff every unsync page (flush: a TLB flush, which counts an idle table
 * towards its protection; else INVLPG). */
void unsync_sync_all(struct mmu *m, bool flush);
/* A fill of `linear` in s walks now: diff the page table it goes through
 * if that one is unsync. */
void unsync_before_walk(struct mmu *m, const struct mspace *s, uint32_t linear);
/* Diff the page at gpa if unsync, and write-protect it from now on. */
void unsync_end(struct mmu *m, uint32_t gpa);

/* mmu_fill.c */
/* Space s uses the table at gpa (an rmap dependency `dep`): trace it,
 * write-protecting it if it is new. False if the rmap is full. */
bool mmu_trace_table(struct mmu *m, struct mspace *s, unsigned dep, uint32_t gpa);
/* Bring record r of space s up to date with the guest's entries for its
 * page as they are now, without setting A/D (an edited PTE, INVLPG): keep
 * it, change its protection or remap it in place (at most one system
 * call). -1: the entries no longer allow a mapping (not present, A clear,
 * not RAM, or walked through `avoid`, the page being written): zap it. */
int mmu_rec_refresh(struct mmu *m, struct mspace *s, uint32_t r, uint32_t avoid);
uint32_t mmu_mem_read32(void *opaque, uint32_t gpa, bool *ok);
bool mmu_mem_cmpxchg32(void *opaque, uint32_t gpa, uint32_t old, uint32_t new);

/* mmu_view.c: one view for both privilege levels while they agree.
 * A record is `over` when it lets the supervisor view do what CPL 3 may
 * not: a page that is not user-readable, or one the supervisor view may
 * write (want_w, e.g. CR0.WP=0) that CPL 3 may not. perm: WALK_PERM_*;
 * user: the fill was made with user rights (never over then). */
static inline bool perm_over(unsigned perm, bool user, bool want_w)
{
    return !user && (!(perm & WALK_PERM_UR) || (want_w && !(perm & WALK_PERM_UW)));
}
static inline uint8_t rec_wflags(bool want_w, bool over)
{
    return (uint8_t)((want_w ? MREC_WANT_W : 0) | (over ? MREC_OVER : 0));
}
/* Is s lent to CPL 3 right now? Nothing may make it hold an `over` record. */
static inline bool view_lent(const struct mmu *m, const struct mspace *s)
{
    return m->lent && m->cur == s;
}
/* A translation the monitor may have cached (mmu_xlate_gen) may be stale. */
static inline void xlate_moved(struct mmu *m) { m->xlate_gen++; }
/* Record r was inserted / is being removed: count its `over`. */
void view_rec_added(struct mmu *m, struct mspace *s, const struct mrec *p);
void view_rec_removed(struct mmu *m, struct mspace *s, const struct mrec *p);
/* Change a record's want_w and over in place. */
void view_rec_set(struct mmu *m, uint32_t r, bool want_w, bool over);
/* The supervisor-view space of the current key if CPL 3 may run in it
 * (no `over` record, one view allowed), or NULL. */
struct mspace *view_lendable(struct mmu *m);
/* A space any user access may be answered from: the user view of the
 * current key, else a lendable supervisor view. */
struct mspace *view_user_space(struct mmu *m);
