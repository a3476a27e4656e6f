/* mmu_share — a new space starts with what its siblings already map
 * (issue #13: "a new space for a known kernel half is filled from the
 * spaces that share its page tables").
 *
 * Every process of a kernel like Linux has its own page directory, but the
 * kernel half's entries in all of them are the same values, naming the
 * same page tables (or the same 4 MiB pages). A fresh shadow space would
 * take one hidden fault — a host signal and an mmap — per kernel page it
 * touches, the same pages every other space already maps. So when a space
 * is keyed for a new CR3 (32-bit paging), each of its present, accessed
 * PDEs that is *identical* to the PDE at the same index in another cached
 * space of the same view is served from that space: identical entries
 * under identical paging rules give identical walks, so the other space's
 * records (present and accessed pages, their frames, protections and
 * writable-once-dirty state) hold for the new one too. They are mapped in
 * runs of contiguous frames with one protection, one mmap each (a kernel's
 * direct map is one run), and the new space is registered with the rmap as
 * a user of the page directory and of each shared page table, so tracing
 * keeps it coherent from the start. Soft pages are not shared: a new space
 * has none. Bounded by the map budget and the record pool like any fill,
 * and never evicts a space for it. */
#define _GNU_SOURCE
#include "shadowmmu/mmu_internal.h"

#include <string.h>

/* Trace what the new space's walks through PDE index i would use. */
static bool trace_pde(struct mmu *m, struct mspace *s, uint32_t pd, unsigned i, uint32_t pde,
                      bool *pd_traced)
{
    if (!*pd_traced) {
        if (!mmu_trace_table(m, s, RMAP_PD, pd))
            return false;
        *pd_traced = true;
    }
    if (!(m->pse && (pde & PTE_PS)) &&
        (!ram_ptr(m->ram, pde & PTE_FRAME, 4096) || !mmu_trace_table(m, s, i, pde & PTE_FRAME)))
        return false;
    mmu_settle(m);
    return true;
}

/* Map in s the pages of PDE index i that o maps, run by run. False when
 * out of room (records or host mappings). */
static bool copy_pde(struct mmu *m, struct mspace *s, struct mspace *o, unsigned i)
{
    uint32_t base = i << 10;

    for (uint32_t l = 0; l < 1024;) {
        uint32_t r = mmu_rec_find(m, o, base + l), n = 1, frame, prot;
        const struct ram_region *rg;

        if (!r || mmu_rec_find(m, s, base + l)) {
            l++;
            continue;
        }
        frame = m->rec[r].frame;
        prot = m->rec[r].prot;
        rg = ram_region_of(m->ram, frame << 12);
        m->share_w[0] = rec_wflags(m->rec[r].want_w, m->rec[r].over);
        while (l + n < 1024) {
            uint32_t q = mmu_rec_find(m, o, base + l + n);
            if (!q || m->rec[q].frame != frame + n || m->rec[q].prot != prot ||
                !ram_region_of(m->ram, (frame + n) << 12) ||
                ram_region_of(m->ram, (frame + n) << 12) != rg || mmu_rec_find(m, s, base + l + n))
                break;
            m->share_w[n++] = rec_wflags(m->rec[q].want_w, m->rec[q].over);
        }
        if (rec_free_count(m) < n || (uint64_t)m->maps_total + 2 > m->maps_budget)
            return false;
        if (map_run(m, s, base + l, n, frame, (int)prot, m->share_w) < 0)
            return false;
        m->st.shared_pages += n;
        l += n;
    }
    return true;
}

void mmu_share_fill(struct mmu *m, struct mspace *s)
{
    uint32_t done[1024 / 32] = { 0 }, pd = s->cr3 & PTE_FRAME;
    const uint32_t *mine = ram_ptr(m->ram, pd, 4096);
    bool pd_traced = false;

    if (!m->paging || m->pae || s->identity || !mine)
        return;
    for (unsigned k = 0; k < m->cfg.spaces; k++) {
        struct mspace *o = &m->spaces[k];
        const uint32_t *theirs;

        if (o == s || !o->keyed || o->detached || o->view != s->view || !o->nrecs ||
            (o->cr3 & PTE_FRAME) == pd || !(theirs = ram_ptr(m->ram, o->cr3 & PTE_FRAME, 4096)))
            continue;
        for (unsigned i = 0; i < 1024; i++) {
            uint32_t e = __atomic_load_n(&mine[i], __ATOMIC_RELAXED);
            if ((done[i / 32] >> (i % 32)) & 1 || !(e & PTE_P) || !(e & PTE_A) ||
                e != __atomic_load_n(&theirs[i], __ATOMIC_RELAXED))
                continue;
            done[i / 32] |= 1u << (i % 32);
            if (!trace_pde(m, s, pd, i, e, &pd_traced) || !copy_pde(m, s, o, i))
                return;
        }
    }
}
