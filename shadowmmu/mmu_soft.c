/* mmu_soft — soft pages: linear pages whose guest mapping churns are kept
 * out of the host mappings (issue #13; VMware's answer to page-table
 * updates without host traps).
 *
 * Following an edited PTE in place costs one host mmap per change (tens
 * of thousands of cycles on a VM host), where a CPU or QEMU's software TLB
 * refills one entry. So every single-PTE change the rmap reports for a
 * page that is mapped (one that costs a system call: a remap, a protection
 * change or an unmap) — or, for a changed PDE, for every page it maps — is
 * counted against the (space, linear page), in a small 4-way set-
 * associative table; at cfg.soft_after changes the page becomes *soft*: its
 * mapping is dropped (once) and no fill, prefetch or INVLPG refill maps it
 * again. Further changes of its PTE then cost nothing at all, and an
 * access to it faults once per instruction: mmu_fault answers MMU_SOFT
 * (the walk done, A/D set, the tables traced), the monitor performs the
 * access through mmu_translate — which answers a soft page with a walk,
 * never a fill — and adaptive translation turns an instruction that keeps
 * touching soft pages into a callout that does so without a host fault.
 *
 * A soft page that stops changing comes back: SOFT_QUIET accesses without
 * a change in between end its softness, and the next access maps it. An
 * access the monitor cannot perform (x87, SSE, a string instruction) maps
 * it at once (soft_end). A full set forgets its least changed page (a
 * soft one last), which is mapped again at its next access: the table only ever makes
 * mappings lazier, never wrong, since a soft page simply has no record.
 * All of it is async-signal-safe. */
#define _GNU_SOURCE
#include "decoder/x86.h"
#include "shadowmmu/mmu_internal.h"

#include <string.h>

#define SOFT_QUIET 8

#define WAYS 4

static uint32_t key1(const struct mspace *s, uint32_t lpn) { return ((uint32_t)s->id << 20 | lpn) + 1; }

/* The page's entry in its set of WAYS, or NULL. */
static struct churn *find(struct mmu *m, const struct mspace *s, uint32_t lpn)
{
    struct churn *set = &m->churn[fib_hash32(key1(s, lpn), 8) * WAYS];     /* 256 sets */

    for (unsigned i = 0; i < WAYS; i++)
        if (set[i].key1 == key1(s, lpn))
            return &set[i];
    return NULL;
}

static void set_soft(struct mmu *m, struct churn *c, bool soft);

/* A new entry for the page: an empty way, else the one with the fewest
 * changes that is not soft, else the first (which stops being soft: its
 * page is mapped again at its next access). */
static struct churn *add(struct mmu *m, const struct mspace *s, uint32_t lpn)
{
    struct churn *set = &m->churn[fib_hash32(key1(s, lpn), 8) * WAYS], *c = &set[0];

    for (unsigned i = 0; i < WAYS; i++) {
        if (!set[i].key1) {
            c = &set[i];
            break;
        }
        if (!set[i].soft && (c->soft || set[i].changes < c->changes))
            c = &set[i];
    }
    set_soft(m, c, false);
    *c = (struct churn){ .key1 = key1(s, lpn) };
    return c;
}

static void set_soft(struct mmu *m, struct churn *c, bool soft)
{
    if (c->soft == soft)
        return;
    c->soft = soft;
    if (soft) {
        m->soft_pages++;
        m->st.soft_pages++;
    } else {
        m->soft_pages--;
    }
}

bool soft_note_change(struct mmu *m, const struct mspace *s, uint32_t lpn, bool mapped)
{
    struct churn *c = find(m, s, lpn);

    if (m->cfg.soft_all)
        return true;
    if (!m->cfg.soft_after)
        return false;
    if (!mapped) {
        /* Free: only a soft page notes it (it is still churning). */
        if (!c || !c->soft)
            return false;
        c->quiet = 0;
        return true;
    }
    if (!c)
        c = add(m, s, lpn);
    c->quiet = 0;
    if (!c->soft && ++c->changes >= m->cfg.soft_after)
        set_soft(m, c, true);
    return c->soft;
}

void soft_note_range(struct mmu *m, const struct mspace *s, uint32_t lpn, uint32_t n)
{
    if (!m->cfg.soft_after || m->cfg.soft_all || n > 1024)
        return;
    /* A small space through its own list, as mmu_zap_range does. */
    if (s->nrecs < n / 8) {
        for (uint32_t r = s->recs; r; r = m->rec[r].snext)
            if (lpn_of_rec(&m->rec[r]) - lpn < n)
                soft_note_change(m, s, lpn_of_rec(&m->rec[r]), true);
    } else {
        for (uint32_t i = 0; i < n; i++)
            if (mmu_rec_find(m, s, lpn + i))
                soft_note_change(m, s, lpn + i, true);
    }
    /* A soft page under the changed entry is no mapping, yet it is still
     * churning: its quiet count starts over, or a page table swapped under
     * one PDE again and again (a fork's) would map it every SOFT_QUIET
     * accesses, only to unmap it at the next swap. */
    for (unsigned i = 0; m->soft_pages && i < SOFT_ENTRIES; i++) {
        struct churn *c = &m->churn[i];
        if (c->soft && (c->key1 - 1) >> 20 == s->id && ((c->key1 - 1) & (LPNS - 1)) - lpn < n)
            c->quiet = 0;
    }
}

bool soft_page(struct mmu *m, const struct mspace *s, uint32_t lpn, bool access)
{
    struct churn *c;

    if (m->cfg.soft_all)
        return true;
    if (!m->soft_pages)
        return false;
    c = find(m, s, lpn);
    if (!c || !c->soft)
        return false;
    if (access && ++c->quiet >= SOFT_QUIET) {
        set_soft(m, c, false);          /* it stopped changing: map it again */
        c->changes = 0;
        return false;
    }
    return true;
}

void soft_end(struct mmu *m, const struct mspace *s, uint32_t lpn)
{
    struct churn *c = find(m, s, lpn);

    if (c) {
        set_soft(m, c, false);
        c->changes = 0;
    }
}

void soft_forget_space(struct mmu *m, const struct mspace *s)
{
    if (!m->soft_pages)
        return;
    for (unsigned i = 0; i < SOFT_ENTRIES; i++)
        if (m->churn[i].key1 && (m->churn[i].key1 - 1) >> 20 == s->id) {
            set_soft(m, &m->churn[i], false);
            memset(&m->churn[i], 0, sizeof m->churn[i]);
        }
}
