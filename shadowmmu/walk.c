/* walk — see walk.h; the loop itself is walk_tmpl.h. The SDM sections cited
 * are those of vol. 3A, chapter 4 ("Paging"); the order of the checks is
 * the order the SDM gives them:
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

uint64_t walk_pde_rsvd(const struct walk_mode *mode, uint64_t pde)
{
    if (mode->pae) {
        /* §4.4.2, tables 4-9 and 4-10: bits 62:MAXPHYADDR always, bit 63
         * unless EFER.NXE=1 makes it XD; a 2 MiB PDE also bits 20:13, and
         * bit 12 (PAT) if the PAT is not supported. */
        uint64_t rsvd = PAE_RSVD_HIGH | (mode->nxe ? 0 : PAE_XD);
        if (pde & PTE_PS)
            rsvd |= PAE_RSVD_2M | (mode->pat ? 0 : PDE_PAT);
        return pde & rsvd;
    }
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

uint64_t walk_pte_rsvd(const struct walk_mode *mode, uint64_t pte)
{
    /* §4.3 and table 4-6: PTE bit 7 is PAT, or reserved if the PAT is not
     * supported — and even then only when CR4.PSE=1. PAE (table 4-11): as
     * the PDE, and bit 7 reserved without the PAT. */
    if (mode->pae)
        return pte & (PAE_RSVD_HIGH | (mode->nxe ? 0 : PAE_XD) | (mode->pat ? 0 : PTE_PAT));
    return mode->pse && !mode->pat ? pte & PTE_PAT : 0;
}

unsigned walk_perm(const struct walk_mode *mode, uint64_t pde, uint64_t pte)
{
    /* §4.6.1: U/S and R/W are combined by AND over every entry that
     * controls the translation (for a large page, the PDE alone); XD by OR
     * (§4.6.2; the PAE PDPTE has no XD bit). */
    uint64_t both = pde & pte;
    bool rw = both & PTE_RW, us = both & PTE_US;
    unsigned perm = 0;

    if (rw || !mode->wp)     /* CR0.WP=0: supervisor writes ignore R/W, even to user pages */
        perm |= WALK_PERM_SW;
    if (us)
        perm |= WALK_PERM_UR;
    if (us && rw)            /* user writes need R/W=1 whatever CR0.WP says */
        perm |= WALK_PERM_UW;
    if (mode->pae && mode->nxe && ((pde | pte) & PAE_XD))
        perm |= WALK_PERM_NX;
    return perm;
}

static bool walk_fault(struct walk *out, uint32_t linear, uint32_t error, uint8_t level)
{
    out->error = error;
    out->cr2 = linear;
    out->level = level;
    return false;
}

/* May the access go ahead under `perm`? (§4.6.1; a fetch needs what a
 * read needs, and no XD with EFER.NXE=1, at any CPL.) */
static bool walk_allowed(unsigned perm, enum walk_access acc, bool user)
{
    if (acc == WALK_FETCH && (perm & WALK_PERM_NX))
        return false;
    if (user)
        return acc == WALK_WRITE ? (perm & WALK_PERM_UW) != 0 : (perm & WALK_PERM_UR) != 0;
    return acc == WALK_WRITE ? (perm & WALK_PERM_SW) != 0 : true;
}

#define WALK_WIDTH 32
#include "shadowmmu/walk_tmpl.h"
#undef WALK_WIDTH
#define WALK_WIDTH 64
#include "shadowmmu/walk_tmpl.h"
#undef WALK_WIDTH

bool walk_translate(const struct walk_mem *mem, const struct walk_mode *mode, uint32_t linear,
                    enum walk_access acc, unsigned flags, struct walk *out)
{
    return mode->pae ? walk_pae(mem, mode, linear, acc, flags, out)
                     : walk32(mem, mode, linear, acc, flags, out);
}
