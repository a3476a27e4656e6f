/* pg_lib.h — 32-bit page tables for the paging test kernels (pg_*.c,
 * issue #5), on top of sys_lib.h (GDT, IDT, TSS, trap recording, ring 3).
 *
 * Frames come from a pool in .bss; the kernel is identity-mapped, so a
 * frame's linear address is its physical address and page tables are
 * edited through plain pointers. pg_kernel_pd() maps the first 16 MiB
 * (the kernel, its pool, its stacks) with 4 KiB pages, user-accessible so
 * that run_user() can call into the image; tests add their own mappings
 * above that. pg_enable() loads CR3 and sets CR4.PSE and CR0.PG|WP.
 *
 * Page faults: pg_fault_hook, when set, sees every #PF first (CR2 and the
 * frame); returning nonzero retries the instruction (demand paging),
 * zero hands the fault to sys_lib's trap recording (TRY_BEGIN/TRY_END,
 * CHECK_TRAP). pg_last_cr2 holds CR2 as the last #PF left it. */
#pragma once
#include <stdint.h>
#include "sys_lib.h"

#define PG_P   0x001u
#define PG_RW  0x002u
#define PG_US  0x004u
#define PG_PWT 0x008u
#define PG_PCD 0x010u
#define PG_A   0x020u
#define PG_D   0x040u
#define PG_PS  0x080u
#define PG_G   0x100u
#define PG_FRAME 0xfffff000u

#define PFE_P    0x1u       /* #PF error code (SDM vol. 3A §4.7) */
#define PFE_W    0x2u
#define PFE_U    0x4u
#define PFE_RSVD 0x8u

#define CR0_WP  (1u << 16)
#define CR4_PSE (1u << 4)

#define PG_KERNEL_END 0x01000000u       /* identity-mapped by pg_kernel_pd() */

/* A zeroed 4 KiB frame from the pool (physical == linear). */
uint32_t *pg_alloc(void);
uint32_t pg_frames_left(void);
/* A new page directory that shares the kernel's page tables for [0, 16 MiB). */
uint32_t *pg_kernel_pd(void);
/* Map the 4 KiB page at lin to phys with flags (P is added); the page
 * table is allocated (P|RW|US) if the PDE is empty. */
void pg_map(uint32_t *pd, uint32_t lin, uint32_t phys, uint32_t flags);
/* A 4 MiB page (PDE with PS; CR4.PSE must be set to use it). */
void pg_map4m(uint32_t *pd, uint32_t lin, uint32_t phys, uint32_t flags);
/* The PTE for lin, or NULL if its PDE has no page table. */
volatile uint32_t *pg_pte(uint32_t *pd, uint32_t lin);
static inline volatile uint32_t *pg_pde(uint32_t *pd, uint32_t lin) { return &pd[lin >> 22]; }
void pg_enable(uint32_t *pd);
/* sys_init, pg_install_pf, and a pg_kernel_pd() to start from. */
uint32_t *pg_setup(void);
void pg_disable(void);

extern int (*volatile pg_fault_hook)(struct trap_frame *f, uint32_t cr2);
extern volatile uint32_t pg_last_cr2, pg_faults;
void pg_install_pf(void);

/* A #PF at expect_eip (TRY_BEGIN) with this error code and CR2. */
void pg_check_pf(uint32_t err, uint32_t cr2, int line);
#define CHECK_PF(err, cr2) pg_check_pf((err), (cr2), __LINE__)
/* A 4-byte read or write of linear a that may fault (then resumes after it). */
#define TRY_READ(a)                                                                         \
    do {                                                                                    \
        trap_reset();                                                                       \
        __asm__ volatile(TRY_BEGIN "movl (%0), %%eax" TRY_END : : "r"(a) : "eax", "memory"); \
    } while (0)
#define TRY_WRITE(a)                                                                        \
    do {                                                                                    \
        trap_reset();                                                                       \
        __asm__ volatile(TRY_BEGIN "movl $0x5a5a, (%0)" TRY_END : : "r"(a) : "memory");     \
    } while (0)

/* What a ring-3 access that may fault saw (U_TRY): the trap (-1: none),
 * its error code and EIP, the EIP expected, CR2. The notes are taken by
 * the code at CPL 3 from what the kernel's handler recorded (the kernel
 * image is user-accessible). */
struct pg_user_note { uint32_t vector, error, eip, expect, cr2; };
static inline struct pg_user_note pg_note(void)
{
    return (struct pg_user_note){ (uint32_t)last_trap.vector, last_trap.error, last_trap.eip,
                                  expect_eip, pg_last_cr2 };
}
/* Run insn (operand %0 = a), which may fault and resume after itself;
 * store what happened in note n. */
#define U_TRY(n, insn, a)                                                              \
    do {                                                                               \
        trap_reset();                                                                  \
        __asm__ volatile(TRY_BEGIN insn TRY_END : : "r"(a) : "eax", "memory", "cc");   \
        (n) = pg_note();                                                               \
    } while (0)

static inline void invlpg(const volatile void *p) { __asm__ volatile("invlpg (%0)" : : "r"(p) : "memory"); }
static inline uint32_t read_cr2(void) { uint32_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint32_t read_cr3(void) { uint32_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void write_cr3(uint32_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline uint32_t peek32(uint32_t lin) { return *(volatile uint32_t *)lin; }
static inline void poke32(uint32_t lin, uint32_t v) { *(volatile uint32_t *)lin = v; }
