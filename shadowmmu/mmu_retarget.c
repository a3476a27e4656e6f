/* mmu_retarget — a space whose page directory stops being traced keeps its
 * shadow, and is later checked PDE by PDE against a guest page directory
 * instead of being emptied (issue #13: Linux fork+exec).
 *
 * When a process exits, Linux zeroes its page tables and clears its user
 * PDEs: a write flood on the directory, which used to empty every space
 * built on it — the kernel half too, that the next process maps again one
 * hidden fault (a host signal and an mmap) at a time. Then the directory
 * page is freed and soon reused as the next process's directory, with the
 * same kernel-half entries.
 *
 * Detach (the rmap's detach callback, 32-bit paging): the space keeps its
 * records and remembers the rmap's snapshot of the directory — the entries
 * its records were built from. Only the directory dependent goes; the
 * page-table dependents stay, so everything under a PDE remains exact
 * while detached. The directory itself is not traced any more, so a PDE
 * the guest changes now is not seen at once: the space serves its old
 * translations until the next CR3 load, which the SDM allows (vol. 3A
 * §4.10.4.3: a change other than not-present to present needs an
 * invalidation before the processor must use it; INVLPG of a page is
 * still exact, mmu_invlpg walks anew).
 *
 * Retarget (before a detached space serves anything again: an activation,
 * a fill, or being recycled for another CR3 of its view): compare each
 * remembered PDE with the guest directory's entry now. Identical, present
 * and accessed (A included: a fill sets it, and an entry with A clear
 * would not get it set by accesses the shadow serves), and the space still
 * traces the page table it names: the PDE's records are what a fresh fill
 * through it would produce, so they stay. Anything else is unmapped and
 * its page-table dependent dropped. Then the directory is traced again
 * (its snapshot is the guest's directory now), and so is every kept page
 * table (a use, for the write-flood rule). */
#include "shadowmmu/mmu_internal.h"

#include <string.h>

bool mmu_rmap_detach(void *opaque, unsigned space, const uint32_t *pd)
{
    struct mmu *m = opaque;
    struct mspace *s = &m->spaces[space];

    if (m->cfg.no_retarget || m->pae || !s->keyed || !s->nrecs)
        return false;
    memcpy(s->saved, pd, 4096);
    s->detached = true;
    m->st.detaches++;
    return true;
}

/* Does the space hold a record in PDE i's range? One pass over its list. */
static void pdes_mapped(const struct mmu *m, const struct mspace *s, uint32_t *bits)
{
    memset(bits, 0, 1024 / 8);
    for (uint32_t r = s->recs; r; r = m->rec[r].snext) {
        uint32_t i = lpn_of_rec(&m->rec[r]) >> 10;
        bits[i / 32] |= 1u << (i % 32);
    }
}

/* Can the records of PDE i, built from `old`, stand for the entry `now`? */
static bool pde_keeps(struct mmu *m, const struct mspace *s, unsigned i, uint32_t old, uint32_t now)
{
    uint32_t pt;

    if (old != now || !(now & PTE_P) || !(now & PTE_A))
        return false;
    if (m->pse && (now & PTE_PS))
        return true;
    return rmap_dep_page(m->rm, s->id, i, &pt) && pt == (now & PTE_FRAME);
}

void mmu_retarget(struct mmu *m, struct mspace *s)
{
    uint32_t mapped[1024 / 32], pd = s->cr3 & PTE_FRAME;
    const uint32_t *now = ram_ptr(m->ram, pd, 4096);

    if (!s->detached)
        return;
    s->detached = false;
    m->st.retargets++;
    if (!now) {
        space_reset(m, s, true);
        return;
    }
    pdes_mapped(m, s, mapped);      /* from here on: the PDEs kept */
    for (unsigned i = 0; i < 1024; i++) {
        uint32_t e = __atomic_load_n(&now[i], __ATOMIC_RELAXED);
        bool has = (mapped[i / 32] >> (i % 32)) & 1;
        if (has && pde_keeps(m, s, i, s->saved[i], e)) {
            m->st.retarget_kept++;
            continue;
        }
        if (has) {
            m->st.zaps++;
            mmu_zap_range(m, s, i << 10, 1024);
            mapped[i / 32] &= ~(1u << (i % 32));
        }
        rmap_remove(m->rm, s->id, i);
    }
    /* Trace the directory again, then the kept tables: every one is a use. */
    if (!mmu_trace_table(m, s, RMAP_PD, pd)) {
        space_reset(m, s, true);
        return;
    }
    for (unsigned i = 0; i < 1024; i++) {
        uint32_t e = s->saved[i];
        if (((mapped[i / 32] >> (i % 32)) & 1) && !(m->pse && (e & PTE_PS)) &&
            !mmu_trace_table(m, s, i, e & PTE_FRAME)) {
            space_reset(m, s, true);
            return;
        }
    }
    mmu_settle(m);
}
