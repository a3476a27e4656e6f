/* derive — the state a control transfer derives from CPL, the segment
 * registers and the paging registers, worked out once per transfer and
 * remembered (derive.c). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define DERIVE_MEMO 8

struct space;

/* Exactly what derive.c's results are computed from. */
struct derive_key {
    uint32_t cpl, vm86;
    uint32_t seg[6][3];         /* base, limit, ar of ES CS SS DS FS GS */
    uint32_t cr0, cr3, cr4, gen;
    uint64_t efer, pdpte[4];
    uint64_t mmu_gen;           /* mmu_key_gen */
};

/* What a transfer derives from them: what derive_install puts in place. */
struct derived {
    int slot;                   /* the jump-cache slot of its mode */
    uint32_t segset, segset_any[4], seglim, bits16;
    struct space *space;        /* the shadow space translated code runs in */
};

struct derive_memo {
    struct derive_key key;
    bool valid;
    struct derived r;
};

struct derive_state {
    struct derive_memo e[DERIVE_MEMO];
    unsigned last[4];           /* per CPL: the entry hit or made last */
    unsigned next;              /* the next to replace */
    uint32_t gen;               /* bumped by derive_forget */
};
