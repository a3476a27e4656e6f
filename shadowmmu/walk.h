/* walk — the guest page-table walker for IA-32 32-bit and PAE paging.
 *
 * What the CPU's page walker does for CR0.PG=1 (SDM vol. 3A §4.3, §4.4):
 *
 *   32-bit paging (CR4.PAE=0): read the PDE selected by linear[31:22] from
 *   the page directory at CR3[31:12]; if CR4.PSE=1 and the PDE has PS=1 it
 *   maps a 4 MiB page, otherwise read the PTE selected by linear[21:12] from
 *   the page table at PDE[31:12]. 32-bit entries.
 *
 *   PAE paging (CR4.PAE=1): the PDPTE selected by linear[31:30] comes from
 *   the four PDPTE registers, loaded from the table at CR3[31:5] when CR3
 *   was written (§4.4.1: a later edit of that table is not seen). It names
 *   a page directory of 512 64-bit PDEs indexed by linear[29:21]; PS=1
 *   maps a 2 MiB page (whatever CR4.PSE says), else a page table of 512
 *   PTEs indexed by linear[20:12]. Bit 63 is execute-disable when
 *   IA32_EFER.NXE=1, and reserved otherwise; bits 62:MAXPHYADDR are
 *   reserved (§4.4.2).
 *
 *      31  30 29     21 20     12 11            0
 *     +------+---------+---------+---------------+
 *     |PDPTE | PDE idx | PTE idx |  page offset  |   PAE, 4 KiB page
 *     +------+---------+---------+---------------+
 *     |PDPTE | PDE idx |    2 MiB page offset    |   PAE, 2 MiB page
 *     +------+---------+-------------------------+
 *
 * One loop over the two levels held in memory (walk_tmpl.h), compiled once
 * per entry width, as KVM's arch/x86/kvm/mmu/paging_tmpl.h. Then the
 * access rights of §4.6, the #PF error code of §4.7, and the Accessed and
 * Dirty flags of §4.8 set with compare-and-exchange, as a locked RMW would.
 *
 *   PDE/PTE:  31 .. 12  | 11 9 | 8 | 7     | 6 | 5 | 4   | 3   | 2   | 1   | 0
 *             frame     | AVL  | G | PS/PAT| D | A | PCD | PWT | U/S | R/W | P
 *   4 MiB PDE: 31..22 frame, 21..13 reserved (no PSE-36), 12 PAT, 7 PS=1.
 *   2 MiB PDE (PAE): 31..21 frame, 20..13 reserved, 12 PAT, 7 PS=1; 63 XD.
 *
 * Guest-physical memory is reached only through the callbacks in struct
 * walk_mem, so the walker has no state of its own and can run in the SIGSEGV
 * handler (no allocation, no globals). A 64-bit entry is read as two dwords
 * and A/D are set in its low dword (one vCPU: nobody tears it).
 *
 * The CPU modelled reports PSE, PAE, PGE, PAT and NX but not PSE-36, SMEP
 * or SMAP, and MAXPHYADDR = 32 (CPUID.80000008H:EAX[7:0], as on the 32-bit
 * Pentium M and Core Duo that had PAE and NX): nothing lies above 4 GiB
 * here, so PAE entry bits 62:32 are reserved (§4.4.2: bits 62:MAXPHYADDR)
 * and every physical address fits in 32 bits. CR4.PGE/G: every
 * translation is treated as non-global, which is always safe for a shadow
 * kept coherent by tracing (global pages only matter to a guest relying on
 * stale TLB entries). TODO(#5): SMEP/SMAP. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "decoder/x86.h"

/* Paging-structure entry bits, 32-bit paging (SDM vol. 3A tables 4-4..4-6). */
#define PTE_P    (1u << 0)   /* present */
#define PTE_RW   (1u << 1)   /* writable */
#define PTE_US   (1u << 2)   /* user-accessible */
#define PTE_PWT  (1u << 3)
#define PTE_PCD  (1u << 4)
#define PTE_A    (1u << 5)   /* accessed */
#define PTE_D    (1u << 6)   /* dirty (entries that map a page only) */
#define PTE_PS   (1u << 7)   /* PDE: page size, honoured only when CR4.PSE=1 */
#define PTE_PAT  (1u << 7)   /* PTE: PAT index bit */
#define PTE_G    (1u << 8)   /* global (ignored here, see above) */
#define PTE_AVL  (7u << 9)   /* available to software */
#define PDE_PAT  (1u << 12)  /* 4 MiB PDE: PAT index bit */
#define PDE_RSVD_4M 0x003fe000u   /* 4 MiB PDE bits 21:13: reserved without PSE-36 */
#define PTE_FRAME   0xfffff000u
#define PDE_FRAME_4M 0xffc00000u

/* #PF error code (SDM vol. 3A §4.7, figure 4-12). */
#define PFEC_P    (1u << 0)  /* 0: not present; 1: protection or reserved bit */
#define PFEC_W    (1u << 1)  /* the access was a write */
#define PFEC_U    (1u << 2)  /* the access was a user-mode access */
#define PFEC_RSVD (1u << 3)  /* a reserved bit was set in a present entry */
#define PFEC_I    (1u << 4)  /* instruction fetch, with PAE paging and EFER.NXE=1 (no SMEP) */

#define PAGE_4K  0x1000u
#define PAGE_2M  0x200000u
#define PAGE_4M  0x400000u

/* PAE entries (SDM vol. 3A §4.4, tables 4-8..4-11). */
#define WALK_MAXPHYADDR 32       /* CPUID.80000008H:EAX[7:0] */
#define PAE_XD        (1ull << 63)                /* execute-disable (EFER.NXE=1) */
#define PAE_FRAME     0x000ffffffffff000ull       /* bits 51:12; above M-1 reserved */
#define PAE_FRAME_2M  0x000fffffffe00000ull
#define PAE_RSVD_HIGH (((1ull << 63) - 1) & ~((1ull << WALK_MAXPHYADDR) - 1))  /* 62:M */
#define PAE_RSVD_2M   0x001fe000ull               /* 2 MiB PDE bits 20:13 */
#define PDPTE_RSVD    (~((1ull << WALK_MAXPHYADDR) - 1) | 0x1e6ull)   /* 63:M, 8:5, 2:1 */
#define PDPTE_FRAME   0x0000000ffffff000ull

/* Guest-physical memory. read32 reads the aligned dword at gpa and sets *ok
 * (false: no memory there). cmpxchg32 stores `new` at gpa if it still holds
 * `old` and returns whether it did; it must return false only when the
 * dword changed (a store to ROM that is dropped counts as success). Both are
 * called with 4-byte aligned addresses. */
struct walk_mem {
    void *opaque;
    uint32_t (*read32)(void *opaque, uint32_t gpa, bool *ok);
    bool (*cmpxchg32)(void *opaque, uint32_t gpa, uint32_t old, uint32_t new);
};

/* The paging mode: the parts of CR0, CR3, CR4 and CPUID the walk depends on. */
struct walk_mode {
    uint32_t cr3;       /* page-directory base in bits 31:12; PWT/PCD ignored (PAE: unused,
                           the PDPTEs below are what CR3 loaded) */
    bool wp;            /* CR0.WP */
    bool pse;           /* CR4.PSE */
    bool pat;           /* CPUID.01H:EDX.PAT: without it, PAT bits are reserved when CR4.PSE=1 */
    bool pae;           /* CR4.PAE */
    bool nxe;           /* IA32_EFER.NXE (PAE only) */
    uint64_t pdpte[4];  /* PAE: the PDPTE registers (checked for reserved bits when loaded) */
};

/* 32-bit paging (CR4.PAE must be 0, or see walk_mode_pae). */
static inline struct walk_mode walk_mode_of(uint32_t cr0, uint32_t cr3, uint32_t cr4, bool pat)
{
    return (struct walk_mode){ .cr3 = cr3, .wp = (cr0 & CR0_WP) != 0,
                               .pse = (cr4 & CR4_PSE) != 0, .pat = pat };
}
/* Either mode: with CR4.PAE=1, the PDPTE registers and IA32_EFER. */
static inline struct walk_mode walk_mode_pae(uint32_t cr0, uint32_t cr3, uint32_t cr4,
                                             uint64_t efer, const uint64_t pdpte[4], bool pat)
{
    struct walk_mode m = walk_mode_of(cr0, cr3, cr4, pat);

    if (cr4 & CR4_PAE) {
        m.pae = true;
        m.nxe = (efer & EFER_NXE) != 0;
        for (int i = 0; i < 4; i++)
            m.pdpte[i] = pdpte[i];
    }
    return m;
}
/* Reserved bits of a PDPTE being loaded (§4.4.1): a present PDPTE with any
 * of them set makes MOV CR0/CR3/CR4 fail with #GP(0). */
static inline uint64_t walk_pdpte_rsvd(uint64_t pdpte)
{
    return (pdpte & 1) ? pdpte & PDPTE_RSVD : 0;
}

enum walk_access { WALK_READ, WALK_WRITE, WALK_FETCH };

/* walk32 flags. */
#define WALK_USER   (1u << 0)   /* a user-mode access: CPL=3 and not an implicit
                                   supervisor access (GDT/LDT/IDT/TSS reads are
                                   supervisor at any CPL, SDM §4.6) */
#define WALK_SET_AD (1u << 1)   /* set A/D as the CPU would; leave it off for probes
                                   (prefetch, debugger, translation of EIP for logs) */

/* Effective access rights of a translation, combined over PDE and PTE
 * (SDM §4.6.1). A supervisor read of a valid translation is always allowed
 * (no SMEP/SMAP), so it has no bit; fetches need what reads need and, with
 * PAE and EFER.NXE=1, XD=0 in every entry (§4.6.2). */
#define WALK_PERM_SW (1u << 0)  /* supervisor may write: R/W=1 at both levels, or CR0.WP=0 */
#define WALK_PERM_UR (1u << 1)  /* user may read and fetch: U/S=1 at both levels */
#define WALK_PERM_UW (1u << 2)  /* user may write: U/S=1 and R/W=1 at both levels */
#define WALK_PERM_NX (1u << 3)  /* no instruction fetch: XD=1 in an entry, EFER.NXE=1 */

#define WALK_NO_PTE 0xffffffffu   /* pte_gpa of a 4 MiB or 2 MiB translation */

struct walk {
    /* Filled on success and on faults, as far as the walk got. */
    uint32_t pde_gpa;           /* the PDE used */
    uint32_t pte_gpa;           /* the PTE, or WALK_NO_PTE for a large page */
    uint64_t pde, pte;          /* their values (after A/D updates); pte 0 for a large page */
    uint64_t pdpte;             /* PAE: the PDPTE register used */
    /* Translation (the walk returned true). */
    uint32_t frame;             /* gpa of the 4 KiB frame holding the linear address;
                                   inside a large page, the 4 KiB frame within it (below
                                   4 GiB: higher bits are reserved, MAXPHYADDR = 32) */
    uint32_t gpa;               /* frame | linear[11:0] */
    uint32_t page_size;         /* PAGE_4K, PAGE_2M or PAGE_4M */
    uint8_t perm;               /* WALK_PERM_* */
    bool dirty;                 /* D set in the final entry (after this walk): a shadow
                                   maps the page read-only until it is */
    /* Fault (walk32 returned false): deliver #PF with these. */
    uint32_t error;             /* #PF error code, PFEC_* */
    uint32_t cr2;               /* the faulting linear address */
    uint8_t level;              /* 3: at the PDPTE (PAE, not present), 2: at the PDE, 1: at
                                   the PTE (not present or reserved bit); 0: a valid
                                   translation that denies the access */
    bool bus_error;             /* a table entry could not be read (gpa not backed):
                                   reported as not present, like KVM */
};

/* Translate `linear` for an access of type `acc` (flags: WALK_USER,
 * WALK_SET_AD) under mode->pae's paging mode. Returns true and fills the
 * translation, or false and fills the fault. With WALK_SET_AD, A is set in
 * every entry used and D in the final entry of a write, each only if clear,
 * and only on success: a faulting walk writes nothing. */
bool walk_translate(const struct walk_mem *mem, const struct walk_mode *mode, uint32_t linear,
                    enum walk_access acc, unsigned flags, struct walk *out);
/* The same for one paging mode, which mode->pae must match: 32-bit or PAE. */
bool walk32(const struct walk_mem *mem, const struct walk_mode *mode, uint32_t linear,
            enum walk_access acc, unsigned flags, struct walk *out);
bool walk_pae(const struct walk_mem *mem, const struct walk_mode *mode, uint32_t linear,
              enum walk_access acc, unsigned flags, struct walk *out);

/* The pieces of the walk that need no memory, for a shadow fill that looks
 * at neighbouring PTEs of a table it already walked (prefetch). Entries are
 * 32-bit or PAE's 64-bit according to mode->pae. */

/* Reserved bits of a present PDE (SDM §4.3, §4.4.2): 32-bit paging, none
 * unless CR4.PSE=1. */
uint64_t walk_pde_rsvd(const struct walk_mode *mode, uint64_t pde);
/* Reserved bits of a present PTE (SDM §4.3, §4.4.2): 32-bit paging, bit 7
 * if CR4.PSE=1 and no PAT. */
uint64_t walk_pte_rsvd(const struct walk_mode *mode, uint64_t pte);
/* Is `pde` a large (4 MiB, or PAE's 2 MiB) mapping under this mode? */
static inline bool walk_pde_is_large(const struct walk_mode *mode, uint64_t pde)
{
    return (mode->pae || mode->pse) && (pde & PTE_PS);
}
static inline bool walk_pde_is_4m(const struct walk_mode *mode, uint64_t pde)
{
    return !mode->pae && walk_pde_is_large(mode, pde);
}
/* Entries per table and the shift of a PDE's range (22 or 21). */
static inline unsigned walk_pt_entries(const struct walk_mode *mode) { return mode->pae ? 512 : 1024; }
static inline unsigned walk_pde_shift(const struct walk_mode *mode) { return mode->pae ? 21 : 22; }
/* WALK_PERM_* for a translation through `pde` and leaf `pte` (pass the PDE
 * twice for a large page). */
unsigned walk_perm(const struct walk_mode *mode, uint64_t pde, uint64_t pte);
