/* walk — see walk.h. The SDM sections cited are those of vol. 3A, chapter 4
 * ("Paging"); the order of the checks is the order the SDM gives them:
 *
 *   1. no translation: an entry with P=0, or a present entry with a reserved
 *      bit set, ends the walk (§4.3); the fault has P=0 or P=1|RSVD (§4.7);
 *   2. a valid translation whose combined rights deny the access (§4.6):
 *      P=1, RSVD=0 — so a not-present PTE under a supervisor-only PDE is a
 *      not-present fault even for a user access;
 *   3. only then Accessed and Dirty (§4.8).
 *
 * W/R and U/S of the error code describe the access, not the entries
 * (§4.7), so they are the same for all three kinds of fault. */
#include "shadowmmu/walk.h"

#include <string.h>

/* A cmpxchg that loses a race means the entry changed under us: walk again,
 * like KVM's retry_walk. One vCPU cannot lose a race forever; the cap only
 * stops a broken callback from hanging the monitor. */
#define WALK_MAX_RETRIES 64

uint32_t walk_pde_rsvd(const struct walk_mode *mode, uint32_t pde)
{
    /* §4.3: "If CR4.PSE = 0, no bits are reserved with 32-bit paging" — in
     * particular PS=1 is then ignored and the PDE references a page table
     * (table 4-5, bit 7). With CR4.PSE=1 only a 4 MiB PDE has reserved bits:
     * without PSE-36 bits 21:13 (with PSE-36 they would carry physical
     * address bits 39:32), and bit 12 (PAT) if the PAT is not supported.
     * A PDE that references a page table has none. */
    if (!walk_pde_is_4m(mode, pde))
        return 0;
    return pde & (PDE_RSVD_4M | (mode->pat ? 0 : PDE_PAT));
}

uint32_t walk_pte_rsvd(const struct walk_mode *mode, uint32_t pte)
{
    /* §4.3 and table 4-6: PTE bit 7 is PAT, or reserved if the PAT is not
     * supported — and even then only when CR4.PSE=1. */
    return mode->pse && !mode->pat ? pte & PTE_PAT : 0;
}

unsigned walk_perm(const struct walk_mode *mode, uint32_t pde, uint32_t pte)
{
    /* §4.6.1: U/S and R/W are combined by AND over every entry that
     * controls the translation (for a 4 MiB page, the PDE alone). */
    uint32_t both = pde & pte;
    bool rw = both & PTE_RW, us = both & PTE_US;
    unsigned perm = 0;

    if (rw || !mode->wp)     /* CR0.WP=0: supervisor writes ignore R/W, even to user pages */
        perm |= WALK_PERM_SW;
    if (us)
        perm |= WALK_PERM_UR;
    if (us && rw)            /* user writes need R/W=1 whatever CR0.WP says */
        perm |= WALK_PERM_UW;
    return perm;
}

static bool walk_fault(struct walk *out, uint32_t linear, uint32_t error, uint8_t level)
{
    out->error = error;
    out->cr2 = linear;
    out->level = level;
    return false;
}

/* May the access go ahead under `perm`? (§4.6.1; 32-bit paging has no
 * execute-disable, so a fetch needs what a read needs.) */
static bool walk_allowed(unsigned perm, enum walk_access acc, bool user)
{
    if (user)
        return acc == WALK_WRITE ? (perm & WALK_PERM_UW) != 0 : (perm & WALK_PERM_UR) != 0;
    return acc == WALK_WRITE ? (perm & WALK_PERM_SW) != 0 : true;
}

bool walk32(const struct walk_mem *mem, const struct walk_mode *mode, uint32_t linear,
            enum walk_access acc, unsigned flags, struct walk *out)
{
    const bool write = acc == WALK_WRITE;
    const bool user = (flags & WALK_USER) != 0;
    /* §4.7: I/D (bit 4) needs SMEP or PAE with EFER.NXE, neither of which
     * exists here, so a fetch reports like a read. */
    const uint32_t pfec = (write ? PFEC_W : 0) | (user ? PFEC_U : 0);
    unsigned retries = 0;
    uint32_t leaf, leaf_gpa, frame, size;
    bool ok;

retry:
    memset(out, 0, sizeof *out);
    out->pte_gpa = WALK_NO_PTE;

    /* Level 2: the PDE, from the page directory at CR3[31:12] (§4.3). */
    out->pde_gpa = (mode->cr3 & PTE_FRAME) | (linear >> 22) << 2;
    out->pde = mem->read32(mem->opaque, out->pde_gpa, &ok);
    if (!ok) {
        out->bus_error = true;
        return walk_fault(out, linear, pfec, 2);
    }
    if (!(out->pde & PTE_P))
        return walk_fault(out, linear, pfec, 2);
    /* Reserved bits are checked only in present entries, hence RSVD
     * implies P in the error code (§4.7). */
    if (walk_pde_rsvd(mode, out->pde))
        return walk_fault(out, linear, PFEC_P | PFEC_RSVD | pfec, 2);

    if (walk_pde_is_4m(mode, out->pde)) {
        /* A 4 MiB page: physical address bits 31:22 from the PDE, 21:0 from
         * the linear address (§4.3; no PSE-36, so no bits above 31). */
        leaf = out->pde;
        leaf_gpa = out->pde_gpa;
        frame = (leaf & PDE_FRAME_4M) | (linear & (PAGE_4M - 1) & PTE_FRAME);
        size = PAGE_4M;
    } else {
        /* Level 1: the PTE, from the page table at PDE[31:12]. */
        out->pte_gpa = (out->pde & PTE_FRAME) | ((linear >> 12) & 0x3ff) << 2;
        out->pte = mem->read32(mem->opaque, out->pte_gpa, &ok);
        if (!ok) {
            out->bus_error = true;
            return walk_fault(out, linear, pfec, 1);
        }
        if (!(out->pte & PTE_P))
            return walk_fault(out, linear, pfec, 1);
        if (walk_pte_rsvd(mode, out->pte))
            return walk_fault(out, linear, PFEC_P | PFEC_RSVD | pfec, 1);
        leaf = out->pte;
        leaf_gpa = out->pte_gpa;
        frame = leaf & PTE_FRAME;
        size = PAGE_4K;
    }

    /* A valid translation: now the access rights (§4.6). */
    out->perm = (uint8_t)walk_perm(mode, out->pde, leaf);
    if (!walk_allowed(out->perm, acc, user))
        return walk_fault(out, linear, PFEC_P | pfec, 0);

    /* §4.8: A in every entry used, D in the entry that maps the page on a
     * write, each written only if it was clear. The SDM leaves open whether
     * a walk that faults sets A in the entries it did use; we set nothing
     * then (as KVM does; kvm-unit-tests access.c accepts either), so a #PF
     * has no side effect on guest memory. D is never written in a PDE that
     * references a page table: bit 6 is ignored there (table 4-5). */
    if (flags & WALK_SET_AD) {
        uint32_t want = leaf | PTE_A | (write ? PTE_D : 0);

        if (size == PAGE_4K && !(out->pde & PTE_A)) {
            if (!mem->cmpxchg32(mem->opaque, out->pde_gpa, out->pde, out->pde | PTE_A))
                goto raced;
            out->pde |= PTE_A;
        }
        if (want != leaf) {
            /* One update for A and D together, as the CPU's locked RMW. */
            if (!mem->cmpxchg32(mem->opaque, leaf_gpa, leaf, want))
                goto raced;
            leaf = want;
            if (size == PAGE_4M)
                out->pde = leaf;
            else
                out->pte = leaf;
        }
    }

    out->frame = frame;
    out->gpa = frame | (linear & (PAGE_4K - 1));
    out->page_size = size;
    out->dirty = (leaf & PTE_D) != 0;
    return true;

raced:
    if (++retries < WALK_MAX_RETRIES)
        goto retry;
    out->bus_error = true;
    return walk_fault(out, linear, pfec, size == PAGE_4M ? 2 : 1);
}
