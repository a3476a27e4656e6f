/* mmu_unsync — page tables left writable while traced, and diffed when the
 * guest's TLB rules say it must see them (issue #13: fork-like bursts; KVM
 * calls such shadow pages "unsync").
 *
 * A fork writes a fresh page table through the kernel's own writable
 * mapping, then switches to the child and walks it. Tracing it then meant
 * write-protecting that mapping (an mprotect), and the next fork's copy
 * into the same page, freed and reused, took a host fault and another
 * mprotect to open it again: two system calls and a signal per table,
 * where the CPU pays a TLB refill.
 *
 * So a fill that starts tracing a 32-bit page table (never a directory:
 * a PDE governs 4 MiB and the retarget rules build on directories being
 * exact) that some space maps writable leaves it writable: the rmap keeps
 * its dependents and snapshot as for any traced page, but marks it unsync
 * (rmap.h). Guest stores to it go straight through, and the shadow built
 * from its old entries may go stale — as a TLB may, until software
 * invalidates (SDM vol. 3A §4.10.4.1, §4.10.4.2: MOV to CR3 invalidates
 * every non-global entry, INVLPG the page's; a CPU may keep translations
 * it cached, prefetched ones included, §4.10.2.3). The page is diffed
 * against its snapshot (rmap_sync_page: the zaps, in-place remaps and
 * soft-page counting of a traced store, mmu_protect.c) at:
 *
 *   mmu_tlb_flush   every CR3 load and other full flush (the monitor calls
 *                   it before activating the new space): all unsync pages;
 *   mmu_invlpg      all of them (a global page's INVLPG in one space must
 *                   reach every space that maps it: CR4.PGE is ignored);
 *   a fill          the page table its walk goes through, first: what a
 *                   fill maps (prefetch included) is then built from
 *                   entries equal to the snapshot, so the next diff sees
 *                   every later change (the walker's own A/D updates keep
 *                   the snapshot in step only where it still equals the
 *                   entry, rmap_sync_entry).
 *
 * A page becomes write-protected after all when it is also used as a
 * directory, or when its diffs keep finding a single edit (a table edited
 * PTE by PTE with an INVLPG each: a traced store is cheaper there) or
 * nothing at all (a table no longer written: measured on Linux, 8 idle
 * tables diffed at every context switch cost a pipe ping-pong 10%). At
 * most cfg.unsync pages are unsync at a time (every flush diffs all of
 * them): a new one takes the place of the oldest, which is
 * diffed and write-protected then (the mprotect the new one saves: the
 * tables written last are the likeliest to be written again). */
#include "shadowmmu/mmu_internal.h"

#include <string.h>

#define UNSYNC_EDITS 8
#define UNSYNC_IDLE 16

/* Does some space map the frame writable (a protect_frame would cost a
 * system call)? */
static bool mapped_writable(const struct mmu *m, uint32_t frame)
{
    for (uint32_t r = m->frame_head[frame]; r; r = m->rec[r].fnext)
        if (m->rec[r].prot == PROT_RW)
            return true;
    return false;
}

bool unsync_may_skip_protect(struct mmu *m, unsigned dep, uint32_t gpa)
{
    uint32_t frame = gpa >> 12;

    if (dep >= RMAP_PD || m->pae || !m->cfg.unsync || !mapped_writable(m, frame))
        return false;
    if (m->nunsync >= m->cfg.unsync)
        unsync_end(m, m->unsync[0].frame << 12);    /* the oldest is protected instead */
    if (m->nunsync >= m->cfg.unsync)
        return false;
    rmap_set_unsync(m->rm, gpa, true);
    m->unsync[m->nunsync++] = (struct unsync_page){ .frame = frame };
    m->st.unsync_pages++;
    return true;
}

void unsync_forget(struct mmu *m, uint32_t gpa)
{
    for (unsigned i = 0; i < m->nunsync; i++)
        if (m->unsync[i].frame == gpa >> 12) {
            memmove(&m->unsync[i], &m->unsync[i + 1], (m->nunsync - i - 1) * sizeof *m->unsync);
            m->nunsync--;
            return;
        }
}

/* Diff one unsync page as a traced store to all of it would be. */
static unsigned diff(struct mmu *m, uint32_t frame)
{
    const void *page = ram_ptr(m->ram, frame << 12, 4096);
    unsigned n;

    m->st.unsync_syncs++;
    if (!page)
        return 0;
    m->writing = frame;
    m->kept_live = false;
    n = rmap_sync_page(m->rm, frame << 12, page);
    m->writing = 0;
    return n;
}

/* Diff it, and protect it after UNSYNC_EDITS diffs in a row found one or
 * two entries changed: a table edited PTE by PTE, each edit followed by
 * INVLPG or a fill through it (a page-fault handler's, a kernel's kmap),
 * pays a whole-page diff per edit, where a traced store (an adaptive
 * callout, mmu_protect.c) diffs four bytes. Likewise after UNSYNC_IDLE
 * TLB flushes in a row whose diffs found nothing (`flush`; fills through
 * it are no sign of it idle): a table no longer written costs a diff at
 * every CR3 load (a context switch) for nothing, and one mprotect once. */
static void sync_one(struct mmu *m, uint32_t frame, bool flush)
{
    unsigned n = diff(m, frame);

    for (unsigned i = 0; i < m->nunsync; i++) {
        struct unsync_page *u = &m->unsync[i];
        if (u->frame != frame)
            continue;
        if (!n) {
            if (flush && ++u->idle >= UNSYNC_IDLE) {
                m->st.unsync_idle++;
                unsync_end(m, frame << 12);
            }
            return;
        }
        u->idle = 0;
        u->edits = n > 2 ? 0 : (uint8_t)(u->edits + 1);
        if (u->edits >= UNSYNC_EDITS) {
            m->st.unsync_edited++;
            unsync_end(m, frame << 12);
        }
        return;
    }
}

void unsync_sync_all(struct mmu *m, bool flush)
{
    uint32_t todo[MMU_MAX_UNSYNC];
    unsigned n = m->nunsync;

    if (!n)
        return;
    mmu_settle(m);
    for (unsigned i = 0; i < n; i++)   /* settling and protecting shorten the list */
        todo[i] = m->unsync[i].frame;
    for (unsigned i = 0; i < n; i++)
        if (rmap_is_unsync(m->rm, todo[i] << 12))
            sync_one(m, todo[i], flush);
    mmu_settle(m);
}

void unsync_before_walk(struct mmu *m, const struct mspace *s, uint32_t linear)
{
    const uint32_t *pd;
    uint32_t pde;

    if (!m->nunsync || m->pae || !(pd = ram_ptr(m->ram, s->cr3 & PTE_FRAME, 4096)))
        return;
    pde = __atomic_load_n(&pd[linear >> 22], __ATOMIC_RELAXED);
    if (!(pde & PTE_P) || (m->pse && (pde & PTE_PS)) || !rmap_is_unsync(m->rm, pde & PTE_FRAME))
        return;
    mmu_settle(m);
    sync_one(m, pde >> 12, false);
    mmu_settle(m);
}

void unsync_end(struct mmu *m, uint32_t gpa)
{
    if (!rmap_is_unsync(m->rm, gpa))
        return;
    diff(m, gpa >> 12);
    rmap_set_unsync(m->rm, gpa, false);
    unsync_forget(m, gpa);
    protect_frame(m, gpa >> 12);
}

void mmu_tlb_flush(struct mmu *m)
{
    if (m->paging)
        unsync_sync_all(m, true);
}
