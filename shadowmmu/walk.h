/* walk — the guest page-table walker for IA-32 32-bit paging.
 *
 * One function, walk32(), does what the CPU's page walker does for
 * CR0.PG=1, CR4.PAE=0 (SDM vol. 3A §4.3): read the PDE selected by
 * linear[31:22] from the page directory at CR3[31:12]; if CR4.PSE=1 and the
 * PDE has PS=1 it maps a 4 MiB page, otherwise read the PTE selected by
 * linear[21:12] from the page table at PDE[31:12]. Then it applies the access
 * rights of §4.6, produces the #PF error code of §4.7, and sets the Accessed
 * and Dirty flags of §4.8 with compare-and-exchange, as a locked RMW would.
 *
 *      31          22 21          12 11            0
 *     +--------------+--------------+---------------+
 *     |  PDE index   |  PTE index   |  page offset  |   4 KiB page
 *     +--------------+--------------+---------------+
 *     |  PDE index   |       4 MiB page offset      |   4 MiB page (PSE)
 *     +--------------+------------------------------+
 *
 *   PDE/PTE:  31 .. 12 | 11 9 | 8 | 7     | 6 | 5 | 4   | 3   | 2   | 1   | 0
 *             frame    | AVL  | G | PS/PAT| D | A | PCD | PWT | U/S | R/W | P
 *   4 MiB PDE: 31..22 frame, 21..13 reserved (no PSE-36), 12 PAT, 7 PS=1.
 *
 * Guest-physical memory is reached only through the callbacks in struct
 * walk_mem, so the walker has no state of its own and can run in the SIGSEGV
 * handler (no allocation, no globals). Modelled on KVM's
 * arch/x86/kvm/mmu/paging_tmpl.h.
 *
 * The CPU modelled reports PSE, optionally PAT, and neither PSE-36 nor PAE,
 * nor SMEP/SMAP (CPUID.01H:EDX), so MAXPHYADDR = 32 (§4.1.4) and every
 * physical address fits in 32 bits. CR4.PGE/G is not modelled: every
 * translation is treated as non-global, which is always safe for a shadow
 * that is flushed on CR3 writes. TODO(#5): SMEP/SMAP and PAE paging. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

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
#define PFEC_I    (1u << 4)  /* instruction fetch; only with SMEP or PAE+NXE, so never here */

#define PAGE_4K  0x1000u
#define PAGE_4M  0x400000u

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
    uint32_t cr3;       /* page-directory base in bits 31:12; PWT/PCD ignored */
    bool wp;            /* CR0.WP */
    bool pse;           /* CR4.PSE */
    bool pat;           /* CPUID.01H:EDX.PAT: without it, PAT bits are reserved when CR4.PSE=1 */
};

#define WALK_CR0_WP   (1u << 16)
#define WALK_CR4_PSE  (1u << 4)
static inline struct walk_mode walk_mode_of(uint32_t cr0, uint32_t cr3, uint32_t cr4, bool pat)
{
    return (struct walk_mode){ .cr3 = cr3, .wp = (cr0 & WALK_CR0_WP) != 0,
                               .pse = (cr4 & WALK_CR4_PSE) != 0, .pat = pat };
}

enum walk_access { WALK_READ, WALK_WRITE, WALK_FETCH };

/* walk32 flags. */
#define WALK_USER   (1u << 0)   /* a user-mode access: CPL=3 and not an implicit
                                   supervisor access (GDT/LDT/IDT/TSS reads are
                                   supervisor at any CPL, SDM §4.6) */
#define WALK_SET_AD (1u << 1)   /* set A/D as the CPU would; leave it off for probes
                                   (prefetch, debugger, translation of EIP for logs) */

/* Effective access rights of a translation, combined over PDE and PTE
 * (SDM §4.6.1). A supervisor read or fetch of a valid translation is always
 * allowed (no SMEP/SMAP), so it has no bit. */
#define WALK_PERM_SW (1u << 0)  /* supervisor may write: R/W=1 at both levels, or CR0.WP=0 */
#define WALK_PERM_UR (1u << 1)  /* user may read and fetch: U/S=1 at both levels */
#define WALK_PERM_UW (1u << 2)  /* user may write: U/S=1 and R/W=1 at both levels */

#define WALK_NO_PTE 0xffffffffu   /* pte_gpa of a 4 MiB translation */

struct walk {
    /* Filled on success and on faults, as far as the walk got. */
    uint32_t pde_gpa, pde;      /* the PDE used and its value (after A/D updates) */
    uint32_t pte_gpa, pte;      /* the PTE, or WALK_NO_PTE and 0 for a 4 MiB page */
    /* Translation (walk32 returned true). */
    uint32_t frame;             /* gpa of the 4 KiB frame holding the linear address;
                                   inside a 4 MiB page, the 4 KiB frame within it */
    uint32_t gpa;               /* frame | linear[11:0] */
    uint32_t page_size;         /* PAGE_4K or PAGE_4M */
    uint8_t perm;               /* WALK_PERM_* */
    bool dirty;                 /* D set in the final entry (after this walk): a shadow
                                   maps the page read-only until it is */
    /* Fault (walk32 returned false): deliver #PF with these. */
    uint32_t error;             /* #PF error code, PFEC_* */
    uint32_t cr2;               /* the faulting linear address */
    uint8_t level;              /* 2: stopped at the PDE, 1: at the PTE (not present or
                                   reserved bit); 0: a valid translation that denies the access */
    bool bus_error;             /* a table entry could not be read (gpa not backed):
                                   reported as not present, like KVM */
};

/* Translate `linear` for an access of type `acc` (flags: WALK_USER,
 * WALK_SET_AD). Returns true and fills the translation, or false and fills
 * the fault. With WALK_SET_AD, A is set in every entry used and D in the
 * final entry of a write, each only if clear, and only on success: a
 * faulting walk writes nothing. */
bool walk32(const struct walk_mem *mem, const struct walk_mode *mode, uint32_t linear,
            enum walk_access acc, unsigned flags, struct walk *out);

/* The pieces of walk32 that need no memory, for a shadow fill that looks at
 * neighbouring PTEs of a table it already walked (prefetch). */

/* Reserved bits of a present PDE (SDM §4.3): none unless CR4.PSE=1. */
uint32_t walk_pde_rsvd(const struct walk_mode *mode, uint32_t pde);
/* Reserved bits of a present PTE (SDM §4.3): bit 7 if CR4.PSE=1 and no PAT. */
uint32_t walk_pte_rsvd(const struct walk_mode *mode, uint32_t pte);
/* Is `pde` a 4 MiB mapping under this mode? */
static inline bool walk_pde_is_4m(const struct walk_mode *mode, uint32_t pde)
{
    return mode->pse && (pde & PTE_PS);
}
/* WALK_PERM_* for a translation through `pde` and leaf `pte` (pass the PDE
 * twice for a 4 MiB page). */
unsigned walk_perm(const struct walk_mode *mode, uint32_t pde, uint32_t pte);
