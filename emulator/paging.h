/* paging — the internal interface of the shadow-paging half of the monitor
 * (issue #5; DESIGN §3 "Self-modifying code", §4). The space manager
 * itself is shadowmmu/ (mmu.h); this is the monitor's side of it:
 *
 *   paging.c    which space runs (CR0/CR3/CR4 writes, CPL changes, INVLPG),
 *               cpu->membase (R14), the jump caches on mapping changes
 *   guestmem.c  the monitor's own guest accesses: linear -> physical
 *               through the guest's tables, #PF notes, device memory,
 *               stores that keep tracing and translated code coherent
 *   fetch.c     the dispatcher's block lookup: EIP -> physical, code bytes
 *               across a page end, revalidation, code-page protection
 *   smc.c       self-modifying code: invalidating what a store changed
 *   memfault.c  host SIGSEGV/SIGTRAP in a shadow window (hidden faults,
 *               guest page faults, traced stores, code writes, devices)
 *   memop.c     the emulator of memory instructions (memop.h)
 *   adaptive.c  instructions that keep faulting become monitor callouts
 *   mmio.c      device ranges (vm_mmio_register) */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "emulator/memop.h"
#include "emulator/system.h"

/* ---- paging.c ------------------------------------------------------------ */

int paging_init(struct vm *vm, char *err, size_t errlen);
void paging_fini(struct vm *vm);
/* Point cpu->membase (which R14 is loaded from) at the space for
 * the vCPU's CR0/CR3/CR4 and CPL (SDM vol. 3A §4.1.1: CR0.PG, CR4.PSE and
 * PAE select the paging mode); a change of CR0.PG also empties the jump
 * caches. false: the run was stopped (PAE paging is not supported). */
bool paging_sync(struct vcpu *v);
/* MOV to CRn changed the register from `old`: flush what the change makes
 * stale and resync. CR3 writes always flush the jump caches (a CR3 load
 * flushes the guest's non-global TLB entries, SDM vol. 3A §4.10.4.1). */
bool paging_cr_written(struct vcpu *v, int cr, uint32_t old);
/* PAE paging would be in use with these CR0/CR4 (SDM vol. 3A §4.1.1). */
static inline bool paging_pae(uint32_t cr0, uint32_t cr4)
{
    return (cr0 & CR0_PG) && (cr4 & (1u << 5));
}
/* Load the four PDPTE registers from the PDPT at cr3[31:5] (SDM vol. 3A
 * §4.4.1). false, loading nothing, if a present one has a reserved bit
 * set: the MOV to CR0/CR3/CR4 then fails with #GP(0). */
bool paging_load_pdptes(struct vcpu *v, uint32_t cr3);
/* WRMSR IA32_EFER changed it from `old`: NXE changes what a walk allows. */
bool paging_efer_written(struct vcpu *v, uint64_t old);
/* INVLPG (SDM vol. 3A §4.10.4.1). */
void paging_invlpg(struct vcpu *v, uint32_t lin);
/* IRET to eip with a #PF pending return: if it returns to the faulting
 * instruction, map the page its handler made present (paging.c). */
void paging_pf_return(struct vcpu *v, uint32_t eip);
static inline bool paging_on(const struct vcpu *v) { return (v->cr0 & CR0_PG) != 0; }

/* ---- guestmem.c ---------------------------------------------------------- */

enum {
    GM_WRITE = 1,               /* a store (D bit, R/W check) */
    GM_USER = 2,                /* a user-mode access (SDM vol. 3A §4.6) */
    GM_PROBE = 4,               /* translate and check only */
};
/* n bytes (at most 8 KiB) at linear lin: every page is translated before
 * anything is read or written. false with v->pf set on a page fault, or
 * false alone on memory that is neither RAM nor a device. */
bool guest_access(struct vcpu *v, uint32_t lin, void *buf, size_t n, unsigned flags);
/* Implicit supervisor accesses (descriptor tables, the TSS, the IDT; SDM
 * vol. 3A §4.6: "implicit supervisor-mode access" at any CPL). */
bool sys_read(struct vcpu *v, uint32_t lin, void *dst, size_t n);
bool sys_write(struct vcpu *v, uint32_t lin, const void *src, size_t n);
/* Linear -> physical for an access by the vCPU (user: CPL 3). false with
 * v->pf set when the guest's tables deny it. */
bool guest_xlate(struct vcpu *v, uint32_t lin, enum mmu_access acc, bool user, uint32_t *gpa);
/* The page fault of v->pf as a fault to raise, CR2 set; `otherwise` if
 * none is pending. */
struct fault pf_take(struct vcpu *v, struct fault otherwise);
/* A failed guest access at `lin` by the instruction at eip: raise the
 * pending #PF, or stop the run ("guest <what> unbacked physical memory").
 * Returns BT_EXIT. */
int guest_mem_fail(struct vcpu *v, uint32_t eip, uint32_t lin, const char *what);
/* Guest physical memory, RAM or device; one page at most. Stores keep
 * tracing coherent and invalidate translated code they overwrite. */
bool phys_read(struct vcpu *v, uint32_t gpa, void *dst, size_t n);
bool phys_write(struct vcpu *v, uint32_t gpa, const void *src, size_t n);

/* ---- mmio.c -------------------------------------------------------------- */

const struct mmio_region *mmio_find(const struct vm *vm, uint32_t gpa);
/* Neither RAM nor a device: reads all-ones, writes lost. */
bool mmio_is_open_bus(const struct vm *vm, uint32_t gpa);
/* n bytes of the device at gpa (split into 4-, 2- and 1-byte accesses). */
void mmio_read(const struct mmio_region *d, uint32_t gpa, void *dst, size_t n);
void mmio_write(const struct mmio_region *d, uint32_t gpa, const void *src, size_t n);

/* ---- fetch.c ------------------------------------------------------------- */

/* The block for EIP: code cache, revalidated, or translated. NULL: an
 * exception is pending (a #PF on the fetch) or the run was stopped. */
struct tb *find_block(struct vm *vm, struct vcpu *v, uint32_t eip, uint64_t stop_eip, bool step);
/* The block for EIP if one is translated and valid, without translating
 * or raising anything (callouts that continue into the next block). */
struct tb *find_cached_block(struct vm *vm, struct vcpu *v, uint32_t eip);

/* ---- smc.c --------------------------------------------------------------- */

/* The one way to invalidate a block: out of the jump cache and the code
 * cache (which unchains it); notes it if it is the block a memory callout
 * runs in (v->smc_cur). Async-signal-safe. */
void block_invalidate(struct vcpu *v, struct tb *tb);
/* A block was translated or revalidated: write-protect its frames (both,
 * if it crosses a page end). */
void smc_protect_block(struct vcpu *v, struct tb *tb);
/* Guest bytes [gpa, gpa+len) were (about to be) written: invalidate the
 * blocks they overlap (whole: every block with bytes on gpa's frame) and
 * their jump-cache entries. Sets v->smc_cur_hit if v->smc_cur was one.
 * Returns how many. Async-signal-safe. */
unsigned smc_code_write(struct vcpu *v, uint32_t gpa, uint32_t len, bool whole);
/* Instruction bytes of tb at guest offset off (signed: below the block's
 * first byte in an inlined callee; up to 15, across its page end): *n of them in out. Async-signal-safe. */
void smc_insn_bytes(const struct vm *vm, const struct tb *tb, uint32_t off, uint8_t out[15], size_t *n);

/* ---- memfault.c ---------------------------------------------------------- */

enum mf_action {
    MF_OUTSIDE,                 /* not a shadow window: not ours */
    MF_RESUME,                  /* resume translated code as the context says */
    MF_PF,                      /* deliver #PF (v->mf.pf) */
    MF_EMULATE,                 /* emulate v->mf.insn, continue after it */
    MF_ERROR,                   /* stop the run (v->error) */
    MF_REFETCH,                 /* run the instruction at eip again, from its current bytes */
};
/* A SIGSEGV/SIGBUS at host address addr in translated code (block tb, the
 * guest instruction at eip). Decides, and does what can be done without
 * leaving translated code. Async-signal-safe but for the decoder. */
enum mf_action memfault_segv(struct vcpu *v, void *ucontext, uintptr_t addr, struct tb *tb,
                             uint32_t eip, uint32_t guest_off);
/* After the guest state was copied out: carry out MF_PF / MF_EMULATE. */
void memfault_finish(struct vcpu *v, enum mf_action a, struct tb *tb, uint32_t eip);
/* SIGTRAP: the single-stepped store is done. false: no step was pending. */
bool memfault_trap(struct vcpu *v, void *ucontext);
/* Leaving translated code with a step pending (a fault during the step):
 * finish it and clear the host trap flag. */
void memfault_abort_step(struct vcpu *v, void *ucontext);

/* ---- adaptive.c ---------------------------------------------------------- */

/* The guest instruction `in` at guest physical phys (in block tb) took a
 * traced, code or device fault: count it; the fourth turns it into a
 * monitor callout (tb is invalidated and translated anew). */
void adapt_fault(struct vcpu *v, struct tb *tb, const struct insn *in, uint32_t phys);
/* The instruction at guest physical phys (in block tb) raised a guest #PF
 * through a host fault: count it. True when it is to be marked: decode it
 * and call adapt_fault, which turns it into a callout whose #PF costs no
 * host signal. */
bool adapt_page_fault(struct vcpu *v, struct tb *tb, uint32_t phys);
/* The instruction `in` took a fault on a soft page (shadowmmu/mmu_soft.c)
 * and is emulated: count it; the fourth makes it a callout, native again
 * once PF_CLEAN executions touch no soft page. */
void adapt_soft_fault(struct vcpu *v, struct tb *tb, const struct insn *in, uint32_t phys);
/* bt_config.slow_mem */
bool adapt_slow_mem(void *opaque, uint32_t eip, uint32_t phys);
/* BT_HELPER_MEMOP */
int co_memop(struct bt_cpu *cpu, const struct bt_site *site);
/* The DIV/IDIV at guest physical phys (in block tb) raised #DE through a
 * host SIGFPE: from now on it is translated to check first (tb goes). */
void adapt_divide_error(struct vcpu *v, struct tb *tb, uint32_t phys);
/* bt_config.checked_div */
bool adapt_checked_div(void *opaque, uint32_t eip, uint32_t phys);
/* BT_HELPER_DIVIDE_ERROR: #DE, the guest state as before the instruction. */
int co_divide_error(struct bt_cpu *cpu, const struct bt_site *site);
/* Perform `in` on the vCPU's registers with the monitor's accesses
 * (translation, tracing, devices). MEMOP_FAULT: v->pf says which #PF, or
 * nothing when the memory is not backed. */
enum memop_result memop_run(struct vcpu *v, const struct insn *in);
/* CALL RET JMP/CALL r/m PUSHF POPF ENTER performed in C (stackop.c):
 * BT_EXIT with cpu->next_eip set or an exception raised; -1 for any other
 * instruction. */
int stackop_run(struct vcpu *v, const struct insn *in);
bool stackop_performs(const struct insn *in);
/* An instruction neither memop.c nor stackop.c performs (x87, MMX, SSE,
 * CMPXCHG8B, DIV, ...), run on the host against a copy of its memory
 * operand (bounce.c); uc is the signal context that holds the guest's FPU
 * state, NULL in a callout. BT_EXIT with cpu->next_eip set or an
 * exception raised; -1 for forms it does not know. */
int bounce_run(struct vcpu *v, const struct insn *in, void *uc);
bool bounce_performs(const struct insn *in);
