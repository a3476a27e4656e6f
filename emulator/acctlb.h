/* acctlb — the monitor's access TLB: linear page -> host pointer for its
 * own guest accesses (exception frames, the IDT, descriptors, the TSS,
 * emulated operands; guestmem.c), so a system call's accesses cost a tag
 * compare instead of a shadow lookup each.
 *
 * 32 read and 32 write entries per vCPU, direct-mapped by the low bits of
 * the page number. An entry is filled only from a shadow record that
 * answered mmu_translate (MMU_EXACT_*): its guest entries are present,
 * Accessed is set, and tracing keeps them unchanged while the record
 * lives — never from a guest walk alone. A write entry needs a record
 * mapped writable, so a plain host store is exactly what the CPU would do:
 * Dirty already set, the frame neither a traced page table nor translated
 * code (SMC), nor waiting for a dirty-logging mark. An entry serves CPL 3
 * only if the record allows CPL 3 the same access (MMU_EXACT_USER).
 *
 * Everything that could make an entry stale moves mmu_xlate_gen (a space
 * switch, CR0/CR4 paging changes, a record unmapped, remapped or
 * write-protected, INVLPG, a flush); each entry holds the generation it
 * was made under and serves only while that is current. (Emptying the
 * TLB when the generation moved, a 1 KiB memset, cost PTE store + INVLPG
 * + touch about 50 ticks, measured.) Paging off, guest_xlate is the identity and the TLB is
 * not used. --no-access-tlb turns it off; --stats: acctlb_hits,
 * acctlb_misses. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define ACCTLB_ENTRIES 32
#define ACCTLB_VALID 1u
#define ACCTLB_USER 2u

struct acctlb_entry {
    uint64_t gen;               /* mmu_xlate_gen when it was made */
    uint8_t *host;              /* the monitor's pointer to the page's frame */
    uint32_t tag;               /* linear page | ACCTLB_VALID | ACCTLB_USER; 0: empty */
};

struct acctlb {
    const uint64_t *genp;       /* mmu_xlate_gen; NULL: the TLB is off */
    struct acctlb_entry rd[ACCTLB_ENTRIES], wr[ACCTLB_ENTRIES];
};

static inline void acctlb_flush(struct acctlb *t)
{
    memset(t->rd, 0, sizeof t->rd);
    memset(t->wr, 0, sizeof t->wr);
}

/* The host address of linear `lin` for this access, or NULL. */
static inline uint8_t *acctlb_probe(struct acctlb *t, uint32_t lin, bool write, bool user)
{
    const struct acctlb_entry *e = &(write ? t->wr : t->rd)[(lin >> 12) % ACCTLB_ENTRIES];

    if ((e->tag & ~ACCTLB_USER) != ((lin & ~4095u) | ACCTLB_VALID) || e->gen != *t->genp ||
        (user && !(e->tag & ACCTLB_USER)))
        return NULL;
    return e->host + (lin & 4095);
}

/* mmu_translate answered `lin` from a record with MMU_EXACT_* flags
 * `exact`; page: the host address of its frame. */
static inline void acctlb_fill(struct acctlb *t, uint32_t lin, uint8_t *page, unsigned exact)
{
    struct acctlb_entry e = { *t->genp, page, (lin & ~4095u) | ACCTLB_VALID | (exact & 4u ? ACCTLB_USER : 0) };
    unsigned i = (lin >> 12) % ACCTLB_ENTRIES;

    if (exact & 1u)
        t->rd[i] = e;
    if (exact & 2u)
        t->wr[i] = e;
}
