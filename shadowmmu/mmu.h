/* mmu — shadow address spaces: the guest's page tables mirrored into host
 * mappings that the host MMU walks, kept coherent by tracing (DESIGN §4).
 *
 * A *space* (space.h) is a 4 GiB host window addressed by translated code
 * relative to R14. This module owns all of them:
 *
 *   identity space   paging off: every RAM region mapped read-write at its
 *                    guest physical address (code frames read-only, §3)
 *   paging spaces    an LRU cache of `spaces` windows, each keyed by
 *                    (guest CR3 page-directory base, view). The supervisor
 *                    view (CPL 0-2) maps what a supervisor may access; the
 *                    user view (CPL 3) maps only user-accessible pages, so
 *                    the host MMU enforces U/S (SDM vol. 3A §4.6). Returning
 *                    to a cached CR3 is a new R14, no refill.
 *
 * Paging spaces start empty (PROT_NONE) and are filled lazily. A host fault
 * in a window comes to mmu_fault(), which walks the guest tables (walk.h,
 * §4.3), setting Accessed and Dirty (§4.8), and either reports a guest #PF
 * (§4.7) or maps the 4 KiB guest frame from the RAM memfd at the faulting
 * linear address — a *hidden* fault — together with the present, already
 * accessed neighbours in the same guest page table (prefetch), one mmap per
 * run of contiguous frames with the same protection. A page is mapped
 *
 *     writable  iff  the guest entries allow this view to write (R/W, U/S,
 *                    CR0.WP), the Dirty bit is already set, the frame is not
 *                    a traced page table and not a code frame;
 *     read-only otherwise: the first write faults again and sets D, or is
 *                    a traced or code write that the monitor handles.
 *
 * Tracing (DESIGN §4). Every page directory and page table a fill used is
 * recorded in the reverse map (rmap.h) and write-protected in every space
 * that maps it; a second index, frame -> (space, linear) for every mapped
 * page, finds those mappings. A guest store to such a page faults with
 * MMU_TRACED_WRITE; the monitor performs it (single-step with the host trap
 * flag between mmu_unprotect_for_store and mmu_store_done, or
 * mmu_write_phys), the rmap diffs the page and updates (below) or unmaps
 * exactly the linear pages whose guest entries changed, in every space
 * that depends on it. So
 * cached spaces stay correct across CR3 switches without any flush, and
 * INVLPG is only a courtesy. Code frames (DESIGN §3) are protected the same
 * way and fault with MMU_CODE_WRITE.
 *
 * Resources are bounded and allocated by mmu_create: the mapping records,
 * the rmap, every space's reservation. mmu_fault and everything it calls
 * are async-signal-safe (no malloc, no stdio, only mmap/mprotect). The host
 * limit vm.max_map_count is respected by modelling the VMAs of every
 * window (mappings merge when contiguous in the memfd with one protection)
 * against a budget; when the budget or the record pool runs out, or a
 * system call fails with ENOMEM, the least recently used other space is
 * emptied. Not thread-safe: one vCPU.
 *
 * Integration (the monitor, emulator/):
 *
 *   vm_create   after the RAM regions: m = mmu_create(&cfg, &vm->ram, ...)
 *               with cfg.spaces from --shadow-spaces. It replaces vm->space.
 *   vm_run      s = mmu_activate(m, cr0, cr3, cr4, cpl) (maps the identity
 *               space the first time); cpu->membase (R14) = s->base.
 *   MOV CR0/CR3/CR4, task switch, and every CPL change (interrupt/exception
 *               delivery, IRET, far RET/CALL, SYSENTER/SYSEXIT):
 *               s = mmu_activate(...) again and reload membase if it
 *               changed (mmu_activate_regs with PAE: EFER and the PDPTE
 *               registers too). Changes of CR0.PG, CR0.WP, CR4.PSE,
 *               CR4.PAE or EFER.NXE drop every cached space by themselves;
 *               a plain CR3 write just selects another cached space.
 *               Flush the jump cache on CR3 writes as today (DESIGN §3).
 *   INVLPG      mmu_invlpg(m, linear) (and the jump cache).
 *   SIGSEGV     mmu_locate(m, si_addr, &s, &linear):
 *               MMU_WINDOW -> mmu_fault(m, s, linear, write ? MMU_WRITE :
 *                 MMU_READ, cpl == 3, &r), write = gregs[REG_ERR] & 2; save
 *                 and restore errno around it. Then by r.kind:
 *                 HIDDEN        resume the faulting host instruction as is.
 *                 GUEST_PF      CR2 = r.cr2, raise #PF with r.error.
 *                 MMIO          emulate the access at r.gpa (decode the
 *                               guest instruction, call the device).
 *                 TRACED_WRITE  len = the store's size clipped to the page
 *                               (decode the guest instruction; a REP string
 *                               store: one element);
 *                               mmu_unprotect_for_store(m, s, linear, r.gpa,
 *                               len): MMU_STORE_STEP -> set TF in the
 *                               ucontext's EFLAGS, resume; in the SIGTRAP
 *                               handler clear TF (unless the guest's own TF
 *                               is set) and call mmu_store_done(m, r.gpa,
 *                               len). MMU_STORE_RETRY -> resume as is.
 *                               A store that crosses into a second traced
 *                               page faults again during the step: handle
 *                               it the same way (two may be pending). If the
 *                               step ends in another fault instead (a guest
 *                               #PF on the second page), call
 *                               mmu_store_done before delivering it: with
 *                               nothing stored it changes nothing.
 *                 CODE_WRITE    invalidate (unchain) the blocks on the page
 *                               of r.gpa, mmu_unprotect_code(m, r.gpa),
 *                               resume: the store now goes through. Re-
 *                               protect when blocks are translated again.
 *                 ERROR         out of host resources, or a shadow that
 *                               could not be made coherent: stop the VM
 *                               with an internal error.
 *               MMU_GUARD -> the guest's 4 GiB wrap (emulate), `linear` is
 *                 the wrapped guest address.
 *   translator  mmu_protect_code(m, gpa) for each guest frame a new block
 *               reads its bytes from (DESIGN §3).
 *   monitor's own guest accesses (exception frames, descriptor tables,
 *               device DMA, callouts that emulate stores): mmu_translate()
 *               for linear -> physical with the guest's A/D updates, and
 *               mmu_write_phys() for every store into guest RAM, so traced
 *               pages stay coherent; it returns true if a code frame was
 *               written (invalidate its blocks).
 *   --stats     mmu_get_stats(), MMU_STATS(X) names and descriptions.
 *
 * Costs: each space reserves 40 GiB of address space (MAP_NORESERVE); a
 * record is 32 bytes (4 MiB for the default 128 Ki); the frame index is
 * 5 MiB of lazily touched memory; the rmap 4 KiB per traced page.
 *
 * Paging modes: 32-bit and PAE (2 MiB pages, 64-bit entries traced in
 * their two halves, rmap.h). Execute-disable is not a host protection:
 * translated code never runs from a window, so instruction fetches are
 * checked where the monitor translates EIP (mmu_translate with MMU_FETCH).
 *
 * Limits: CR4.PGE/G ignored (every translation is non-global, always safe
 * since nothing is flushed on CR3 writes anyway); no SMEP/SMAP. A write flood on a page directory detaches
 * every space built on it (32-bit paging, mmu_retarget.c: its shadow is
 * kept, and checked PDE by PDE before it serves again, for its CR3 or
 * another); with PAE or cfg.no_retarget it empties them (the rmap's rule). Adaptive translation of the
 * instructions that keep faulting (a callout using mmu_translate +
 * mmu_write_phys) is the monitor's: emulator/adaptive.c.
 *
 * Edited PTEs are followed in place: when a traced store changes one PTE
 * whose page a space maps, the page is brought to what a fill would make
 * of the new entry without setting A/D — kept (no system call), its
 * protection changed, or remapped to the new frame by one populated mmap
 * over the old page — and unmapped only if the new entry is not present,
 * not accessed or not RAM. Such a store counts as use of the table for
 * the write-flood rule. INVLPG checks the pages it names the same way
 * (tracing keeps them exact, so it costs no system call).
 *
 * Soft pages (mmu_soft.c): a linear page whose PTE changed
 * cfg.soft_after times in a space is dropped from that space's host
 * mappings and not mapped again while it keeps changing: a PTE store, an
 * INVLPG and the access after them then cost no system call at all. A host
 * fault on it says MMU_SOFT; the monitor performs the access (mmu_translate
 * walks a soft page instead of filling it) and turns an instruction that
 * keeps doing so into a callout (adaptive translation). SOFT_QUIET
 * accesses without a change make it an ordinary page again.
 *
 * One view (mmu_view.c): while the supervisor-view space of a CR3 holds
 * no `over` record (one that allows the supervisor what CPL 3 may not),
 * an activation for CPL 3 returns that space itself (`lent`): no space
 * switch on ring changes. Nothing may then add an over record to it; the
 * first one a kernel makes moves mmu_key_gen, and CPL 3 goes back to the
 * user view. cfg.two_views turns this off.
 *
 * Shared fills (mmu_share.c, cfg.share): a space keyed for a new CR3
 * starts with the pages that other cached spaces of its view map through
 * identical page-directory entries (a kernel half), in runs, instead of
 * one hidden fault per page.
 *
 * Unsync page tables (mmu_unsync.c, cfg.unsync): a 32-bit page table that
 * a space maps writable when a fill starts tracing it stays writable (no
 * mprotect, and no write fault on the next burst of stores to it); the
 * shadow built from it may then lag the guest's stores until the guest
 * invalidates, as a TLB may: every mmu_tlb_flush and mmu_invlpg diffs
 * these pages against their snapshots, and a fill diffs the table it
 * walks first. A table edited entry by entry, or no longer written, is
 * protected again. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shadowmmu/space.h"

#define MMU_MAX_SPACES 256        /* a reservation is 40 GiB of address space */
#define MMU_DEFAULT_SPACES 8
#define MMU_DEFAULT_PREFETCH 16
#define MMU_DEFAULT_RECORDS (128u << 10)
#define MMU_DEFAULT_RMAP_PAGES 1024
#define MMU_DEFAULT_SOFT_AFTER 4
#define MMU_MAX_UNSYNC 64
#define MMU_DEFAULT_UNSYNC 8

enum mmu_access { MMU_READ, MMU_WRITE, MMU_FETCH };
enum mmu_view { MMU_VIEW_SUPER, MMU_VIEW_USER };

struct mmu_config {
    unsigned spaces;        /* cached paging spaces, 1..MMU_MAX_SPACES (0: 8) */
    unsigned prefetch;      /* pages a fill maps around the faulting one: a power of two
                               <= 1024 (0: 16; 1: no prefetch, the slow path) */
    uint32_t max_records;   /* 4 KiB mappings recorded over all spaces (0: 128 Ki) */
    uint32_t max_maps;      /* host mappings (VMAs) the windows may use (0: the host's
                               vm.max_map_count minus a reserve for the rest of the
                               process) */
    uint32_t rmap_pages;    /* traced page-table pages, 4 KiB of snapshot each (0: 1024) */
    bool pat;               /* CPUID reports PAT (walk.h) */
    unsigned soft_after;    /* changes of one page's PTE that make it a soft page (0: never;
                               MMU_DEFAULT_SOFT_AFTER is the monitor's default) */
    bool soft_all;          /* testing: every page of a paging space is soft */
    bool share;             /* fill a new space from the cached spaces that share its
                               page-directory entries (mmu_share.c) */
    bool no_retarget;       /* a page directory no longer traced empties its spaces, instead
                               of detaching them for a later retarget (mmu_retarget.c) */
    bool two_views;         /* never run CPL 3 in the supervisor view (mmu_view.c) */
    unsigned unsync;        /* page tables a fill may leave writable when it starts tracing
                               them, at most MMU_MAX_UNSYNC (0: none; MMU_DEFAULT_UNSYNC is
                               the monitor's default; mmu_unsync.c) */
};

struct mmu;

/* Reserves every space and allocates every pool. `ram` must outlive the
 * mmu; regions may still be added until the first activation with paging
 * off maps the identity space. NULL and a message on error. */
struct mmu *mmu_create(const struct mmu_config *cfg, const struct guest_ram *ram,
                       char *err, size_t errlen);
void mmu_destroy(struct mmu *m);

/* The paging registers a shadow is built from (SDM vol. 3A §4.1). */
struct mmu_regs {
    uint32_t cr0, cr3, cr4;
    uint64_t efer;              /* IA32_EFER: NXE counts with CR4.PAE=1 */
    uint64_t pdpte[4];          /* CR4.PAE=1: the PDPTE registers CR3's load filled (§4.4.1) */
};

/* The space translated code must use for this CPU state: the identity
 * space when CR0.PG=0, else the cached space for (CR3, cpl == 3 ? user :
 * supervisor) — for CPL 3 the supervisor one while it may be lent (One
 * view, above) — with PAE, for (PDPTE registers, view): the PDPTEs are what
 * the CPU walks from, and a PDPT edited without a CR3 load is not seen —
 * recycling the least recently used one on a miss. Drops all paging spaces
 * when CR0.PG, CR0.WP, CR4.PSE, CR4.PAE or EFER.NXE changed since the
 * previous call. NULL if the identity space cannot be mapped. Not for the
 * signal handler (the first call maps the identity space); a hit costs a
 * compare, or a scan of the cache. */
struct space *mmu_activate_regs(struct mmu *m, const struct mmu_regs *regs, unsigned cpl);
/* A space's key (CR3 or PDPTEs, view) and the rules it was built under
 * stay what they were while this number is unchanged: mmu_activate_regs
 * with the registers it returned `sp` for then returns `sp` again, and
 * mmu_reactivate(m, sp) does what that call would do, without the
 * search. */
uint64_t mmu_key_gen(const struct mmu *m);
void mmu_reactivate(struct mmu *m, struct space *sp, unsigned cpl);
/* The CPL changed and the space did not (one view for both, mmu_view.c). */
void mmu_set_cpl(struct mmu *m, unsigned cpl);
/* The same for 32-bit paging or paging off (EFER and PDPTEs zero). */
struct space *mmu_activate(struct mmu *m, uint32_t cr0, uint32_t cr3, uint32_t cr4, unsigned cpl);
/* The identity space (for the monitor's setup before the first activation). */
struct space *mmu_identity(struct mmu *m);

enum mmu_where { MMU_OUTSIDE, MMU_WINDOW, MMU_GUARD };
/* Which space a host address belongs to, and the guest linear address
 * there (for a guard: the address after the guest's 32-bit wrap). */
enum mmu_where mmu_locate(const struct mmu *m, uintptr_t host, struct space **s, uint32_t *linear);

enum mmu_result {
    MMU_HIDDEN,         /* mapped (or already fine): resume */
    MMU_GUEST_PF,       /* the guest's tables deny it: #PF with error, CR2 = cr2 */
    MMU_MMIO,           /* the frame is not RAM: emulate the access at gpa */
    MMU_TRACED_WRITE,   /* a store to a traced page table at gpa: see mmu_unprotect_for_store */
    MMU_CODE_WRITE,     /* a store to a frame holding translated code at gpa */
    MMU_SOFT,           /* a soft page (below): perform the access at gpa through
                           mmu_translate, or call mmu_fault_hard to map it after all */
    MMU_ERROR,          /* out of host resources that eviction could not free */
};

struct mmu_fault_result {
    enum mmu_result kind;
    uint32_t gpa;       /* MMIO, TRACED_WRITE, CODE_WRITE, HIDDEN: guest physical address */
    uint32_t error;     /* GUEST_PF: #PF error code (walk.h PFEC_*) */
    uint32_t cr2;       /* GUEST_PF: the faulting linear address */
    bool global;        /* mmu_translate of a fetch: G is set in the entry that maps the page */
    uint8_t exact;      /* mmu_translate: MMU_EXACT_* (answered by an exact shadow record) */
};
/* What a record that answered mmu_translate allows, for the monitor's
 * access TLB: a plain host load of the page is exact (A set as the CPU
 * would have it), a plain host store is too (D set, writable, not traced,
 * not code, not awaiting dirty logging), and CPL 3 may do the same. Valid
 * while mmu_xlate_gen is unchanged. */
#define MMU_EXACT_READ 1u
#define MMU_EXACT_STORE 2u
#define MMU_EXACT_USER 4u
/* A number that moves whenever a linear -> guest-physical translation or
 * its exactness (above) may have changed: a space switch, CR0/CR4 paging
 * changes, an unmapped, remapped or write-protected page, INVLPG, a
 * flush. The pointer stays valid for the mmu's lifetime. */
const uint64_t *mmu_xlate_gen(const struct mmu *m);

/* A host fault at `linear` of space `s` (from mmu_locate), for an access of
 * type `acc` by user (CPL 3) or supervisor code; `user` should match the
 * space's view. Fills the shadow or says what the monitor must do. Async-
 * signal-safe. Returns r->kind. */
enum mmu_result mmu_fault(struct mmu *m, struct space *s, uint32_t linear, enum mmu_access acc,
                          bool user, struct mmu_fault_result *r);

/* The same, for an access the monitor cannot perform on a soft page: the
 * page stops being soft and is filled; never returns MMU_SOFT. */
enum mmu_result mmu_fault_hard(struct mmu *m, struct space *s, uint32_t linear, enum mmu_access acc,
                               bool user, struct mmu_fault_result *r);
/* Accesses mmu_translate answered for soft pages so far (a callout tells
 * from it whether its access touched one). */
uint64_t mmu_soft_accesses(const struct mmu *m);

/* Translate `linear` under the current paging state as an access of type
 * `acc` would, setting A/D like the CPU (for the monitor's own accesses:
 * fetching guest code, IDT delivery...). Paging off: gpa = linear. A read
 * or write the shadow already maps in the view (`user`, or for a
 * supervisor access also the user view) is answered from its record,
 * without a walk; otherwise the page is filled in that view like a TLB
 * entry (a fill, as for a host fault) if the space is cached, so the next
 * access is answered too. Fetches always walk (execute-disable is not
 * recorded). Returns r->kind: MMU_HIDDEN with r->gpa, or MMU_GUEST_PF. */
enum mmu_result mmu_translate(struct mmu *m, uint32_t linear, enum mmu_access acc, bool user,
                              struct mmu_fault_result *r);

/* Traced stores (result MMU_TRACED_WRITE). `len` bytes at `gpa`, within one
 * page. STEP: the page is writable at `linear` of `s` until mmu_store_done:
 * execute exactly the store (single-step), then call it. RETRY: nothing
 * pending (the page stopped being traced — a write flood — or the mapping
 * went away): resume the instruction, it now succeeds or faults anew. */
enum mmu_store { MMU_STORE_STEP, MMU_STORE_RETRY };
enum mmu_store mmu_unprotect_for_store(struct mmu *m, struct space *s, uint32_t linear,
                                       uint32_t gpa, unsigned len);
/* The stepped store is done: write-protect the page again and unmap the
 * shadow pages whose guest entries it changed. */
void mmu_store_done(struct mmu *m, uint32_t gpa, unsigned len);
/* A store by the monitor into guest RAM: copies `len` bytes to `gpa`
 * (may cross pages; bytes outside RAM are dropped) and keeps tracing
 * coherent. Returns true if it wrote to a code frame. */
bool mmu_write_phys(struct mmu *m, uint32_t gpa, const void *src, size_t len);

/* Code pages (DESIGN §3). protect: the frame holding `gpa` holds translated
 * code; every mapping of it, in every space including the identity space,
 * becomes read-only, and so will future ones. unprotect: the blocks on it
 * were invalidated; mappings whose guest entries allow writing become
 * writable again. Idempotent; frames outside RAM are ignored. */
void mmu_protect_code(struct mmu *m, uint32_t gpa);
void mmu_unprotect_code(struct mmu *m, uint32_t gpa);
bool mmu_is_code(const struct mmu *m, uint32_t gpa);
/* Is the frame holding `gpa` a traced page directory or page table? (For
 * adaptive translation: an instruction that keeps storing to one.) */
bool mmu_is_traced(const struct mmu *m, uint32_t gpa);
/* mmu_write_phys calls so far that stored to a traced page or a code
 * frame (a callout tells from it whether its store needed the monitor). */
uint64_t mmu_special_writes(const struct mmu *m);

/* Map `linear` in s now if the guest's entries for it are present and
 * already accessed — a page a #PF handler just made present, or one an
 * INVLPG just dropped — so its next access takes no hidden fault. Sets no
 * A/D bit; anything else waits for its fault. */
void mmu_map_accessed(struct mmu *m, struct space *s, uint32_t linear, bool user);

/* INVLPG: bring the page up to date in both views of the current CR3
 * (PAE: PDPTEs): kept when exact (no system call), else remapped or
 * unmapped (see "Edited PTEs" above). */
void mmu_invlpg(struct mmu *m, uint32_t linear);
/* Drop every paging space (keys too) and all tracing. */
void mmu_flush_all(struct mmu *m);
/* The guest flushed its non-global TLB entries (MOV to CR3, also with an
 * unchanged value; a task switch; CR0/CR4 paging changes): call before
 * the activation, so unsync page tables are diffed (mmu.h "Unsync page
 * tables"). */
void mmu_tlb_flush(struct mmu *m);

/* Dirty logging for live migration (mmu_dirty.c). While on, every RAM
 * frame not written since the last sync is read-only in every space (code
 * frames and traced page tables keep their own protection on top); the
 * first store marks it dirty: guest stores through their write fault, the
 * monitor's through mmu_write_phys, the walker's A/D updates, and
 * mmu_dirty_mark for stores made by plain copies. start: all frames clean
 * (false: no memory). sync ("get and clear"): copies the bitmap — bit
 * `frame` of word frame / 64, MMU_DIRTY_WORDS words covering 4 GiB — into
 * `out`, clears it and write-protects those frames again; returns how many
 * it held. stop: logging off, every mapping may be writable again. */
#define MMU_DIRTY_WORDS ((1u << 20) / 64)
bool mmu_dirty_log_start(struct mmu *m);
uint32_t mmu_dirty_log_sync(struct mmu *m, uint64_t *out);
void mmu_dirty_log_stop(struct mmu *m);
bool mmu_dirty_logging(const struct mmu *m);
void mmu_dirty_mark(struct mmu *m, uint32_t gpa, size_t len);
/* Logging is on and the frame of `gpa` was not written since the last
 * sync: a store must mark it (a plain memcpy would go unseen). */
bool mmu_dirty_clean(const struct mmu *m, uint32_t gpa);

/* Statistics (--stats). */
#define MMU_STATS(X)                                                                      \
    X(faults,          "host faults in shadow spaces handled")                           \
    X(hidden,          "hidden faults: filled and resumed")                              \
    X(guest_pf,        "page faults reflected to the guest")                             \
    X(traced_writes,   "stores to traced page-table pages")                              \
    X(code_writes,     "stores to frames holding translated code")                       \
    X(mmio,            "accesses to device memory")                                      \
    X(fills,           "host mmaps made by fills")                                       \
    X(host_calls,      "host mmap/mprotect calls on the shadow spaces, all causes")      \
    X(prefetched,      "pages mapped ahead of use by prefetch")                          \
    X(dirty_upgrades,  "read-only mappings made writable by a later write")              \
    X(write_protects,  "mappings write-protected for tracing or code")                   \
    X(zaps,            "shadow ranges unmapped because guest entries changed")           \
    X(remaps,          "shadow pages pointed at a new frame in place (edited PTE)")      \
    X(refreshes,       "edited PTEs or INVLPGs whose shadow page was kept, no system call") \
    X(zapped_pages,    "mapped pages removed by those")                                  \
    X(invlpgs,         "INVLPGs")                                                        \
    X(shadow_xlates,   "monitor translations answered by the shadow without a walk")     \
    X(activations,     "space activations (CR3/CR0/CR4 writes, CPL changes)")            \
    X(cr3_hits,        "activations that found a cached space")                          \
    X(spaces_created,  "paging spaces keyed for the first time")                         \
    X(spaces_recycled, "cached spaces recycled for another CR3 (LRU)")                   \
    X(flushes,         "drops of all spaces (CR0.PG/WP, CR4.PSE/PAE or EFER.NXE changed)") \
    X(evictions,       "spaces emptied to free host mappings or records")                \
    X(enomem,          "host system calls that failed with ENOMEM")                      \
    X(dirty_logged,    "first stores to a frame under dirty logging (migration)")        \
    X(dirty_syncs,     "dirty-log get-and-clear passes")                                 \
    X(shared_pages,    "pages a new space took over from spaces sharing its page tables") \
    X(soft_pages,      "linear pages made soft: their PTE churned, kept out of host mappings") \
    X(soft_faults,     "host faults on soft pages (the monitor performs the access)")    \
    X(soft_xlates,     "monitor accesses to soft pages (walked, not mapped)")        \
    X(detaches,        "spaces kept, not emptied, when their directory stopped being traced") \
    X(retargets,       "detached spaces checked PDE by PDE against a directory")     \
    X(retarget_kept,   "PDEs whose shadow pages a retarget kept")                         \
    X(one_view,        "CPL-3 activations that kept the supervisor view (mmu_view.c)")    \
    X(lent_walks,      "supervisor-only pages walked, not mapped, while CPL 3 had that view") \
    X(unsync_pages,    "page tables traced without write protection (unsync, mmu_unsync.c)") \
    X(unsync_syncs,    "diffs of unsync page tables at TLB flushes, INVLPGs and fills") \
    X(unsync_edited,   "unsync page tables protected again: edited entry by entry") \
    X(unsync_idle,     "unsync page tables protected again: not written for 16 diffs")

struct mmu_stats {
#define X(name, desc) uint64_t name;
    MMU_STATS(X)
#undef X
    uint32_t maps_in_use;       /* modelled host mappings (VMAs) of all windows */
    uint32_t maps_peak;
    uint32_t maps_budget;
    uint32_t records_in_use;    /* mapped 4 KiB pages over all paging spaces */
    uint32_t records_max;
    uint32_t traced_pages;      /* page-table pages being traced (rmap) */
};
void mmu_get_stats(const struct mmu *m, struct mmu_stats *st);

/* One space's state, for tests and debugging. */
struct mmu_space_info {
    bool identity;
    bool keyed;                 /* paging: holds a (CR3, view) */
    bool detached;              /* its directory is not traced: it serves the translations
                                   it had until it is retargeted (mmu_retarget.c) */
    uint32_t cr3;
    bool pae;                   /* keyed by PDPTE registers */
    enum mmu_view view;
    uint32_t pages;             /* mapped 4 KiB pages recorded (paging spaces) */
    uint32_t maps;              /* modelled VMAs of its reservation */
    unsigned id;                /* its rmap space id */
};
void mmu_space_info(const struct mmu *m, const struct space *s, struct mmu_space_info *out);
