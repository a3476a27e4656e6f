/* paging — which shadow space translated code runs in (DESIGN §4).
 *
 * Translated code reaches guest memory through R14, loaded from
 * cpu->membase on entry and after every callout. Paging off, that is the
 * identity space; paging on, the space the shadow MMU caches for (CR3,
 * view), where the view is user at CPL 3 and supervisor otherwise, so the
 * host MMU enforces U/S (SDM vol. 3A §4.6). paging_sync() runs after every
 * change of CR0, CR3, CR4 and CPL; a hit in the MMU's cache of spaces
 * makes a CR3 switch a store to cpu->membase: no system call.
 *
 * Translations are keyed on the guest *physical* address, so a changed
 * mapping makes the lookup find another block; only the jump caches map
 * linear EIPs and need flushing (DESIGN §3): on CR3 writes, CR0.PG and
 * CR4.PSE/PAE/PGE changes, EFER.NXE changes, and for the page of an
 * INVLPG. That also makes execute-disable exact: a block is only entered
 * through a jump-cache entry made by a fetch walk (fetch.c) under the same
 * mapping, or a chain within its linear page. Chains never cross a
 * linear page with paging on (bt_link, BT_MODE_PG). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/paging.h"
#include "shadowmmu/walk.h"

_Static_assert(SPACE_GUARD >= BT_GUARD_BELOW && SPACE_GUARD >= BT_GUARD_ABOVE && SPACE_WINDOW == BT_WINDOW,
               "translated code's reach (bt/abi.h) within a space's reservation");


int paging_init(struct vm *vm, char *err, size_t errlen)
{
    /* CPUID reports PAT (sysinsn.c), so PAT bits are not reserved (walk.h). */
    struct mmu_config mc = { .spaces = vm->cfg.shadow_spaces, .pat = true,
                             .soft_after = vm->cfg.soft_pages == 0 ? MMU_DEFAULT_SOFT_AFTER
                                         : vm->cfg.soft_pages > 0 ? (unsigned)vm->cfg.soft_pages : 0,
                             .soft_all = vm->cfg.soft_pages == -2, .share = vm->cfg.shared_fills,
                             .no_retarget = vm->cfg.no_retarget,
                             .unsync = vm->cfg.unsync_tables == 0 ? MMU_DEFAULT_UNSYNC
                                     : vm->cfg.unsync_tables > 0 ? (unsigned)vm->cfg.unsync_tables : 0,
                             .two_views = vm->cfg.two_views };

    vm->mmu = mmu_create(&mc, &vm->ram, err, errlen);
    if (!vm->mmu)
        return -1;
    vm->adapt = calloc(ADAPT_SLOTS, sizeof *vm->adapt);
    vm->code_buf = malloc(4096 + 16);
    if (!vm->adapt || !vm->code_buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void paging_fini(struct vm *vm)
{
    mmu_destroy(vm->mmu);
    vm->mmu = NULL;
    free(vm->adapt);
    vm->adapt = NULL;
    free(vm->code_buf);
    vm->code_buf = NULL;
}

bool paging_sync(struct vcpu *v)
{
    struct vm *vm = v->vm;
    bool pg = paging_on(v);
    struct space *s;
    uint64_t base;

    if (!pg && !v->pg && vm->cur_space && vm->cur_space == mmu_identity(vm->mmu) &&
        v->bt.membase == (uint64_t)(uintptr_t)vm->cur_space->base)
        return true;            /* paging off: one space whatever the CPL */
    if (pg != v->pg) {
        /* Every linear EIP may now mean another physical address, and
         * the ring-0 block mode is another one. */
        v->pg = pg;
        jc_reset_modes(v);
        v->bt.exit_slot = 0;
        if (!jc_select(v, vcpu_mode(v)))
            return false;
    }
    {
        struct mmu_regs regs = { .cr0 = v->cr0, .cr3 = v->cr3, .cr4 = v->cr4, .efer = v->efer };
        memcpy(regs.pdpte, v->pdpte, sizeof regs.pdpte);
        s = mmu_activate_regs(vm->mmu, &regs, v->cpl);
    }
    if (!s) {
        vcpu_stop_error(v, v->bt.eip, "cannot map guest RAM into its address space");
        return false;
    }
    vm->ram_mapped = true;
    vm->cur_space = s;
    base = (uint64_t)(uintptr_t)s->base;
    v->bt.membase = base;
    return true;
}

bool paging_cr_written(struct vcpu *v, int cr, uint32_t old)
{
    uint32_t now = cr == 0 ? v->cr0 : cr == 3 ? v->cr3 : v->cr4;

    if (cr == 3) {
        v->vm->stats.cr3_writes++;
        if (paging_on(v))
            jc_flush_nonglobal(v);
    } else if (cr == 0) {
        if (!((old ^ now) & (CR0_PG | CR0_WP)))
            return true;
    } else {
        /* SDM vol. 3A §4.10.4.1: a change of CR4.PGE (or PAE, PSE) flushes
         * every TLB entry, global ones included. */
        if (!((old ^ now) & (CR4_PSE | CR4_PAE | CR4_PGE)))
            return true;
        if (paging_on(v))
            jc_flush_all(v);
    }
    mmu_tlb_flush(v->vm->mmu);  /* unsync page tables (shadowmmu/mmu_unsync.c) */
    return paging_sync(v);
}

bool paging_load_pdptes(struct vcpu *v, uint32_t cr3)
{
    uint64_t pdpte[4];

    /* 32 bytes at a 32-byte aligned address: one page. Not RAM: the open
     * bus reads all-ones, a present entry with reserved bits (#GP). */
    if (!phys_read(v, cr3 & ~31u, pdpte, sizeof pdpte))
        memset(pdpte, 0xff, sizeof pdpte);
    for (int i = 0; i < 4; i++)
        if (walk_pdpte_rsvd(pdpte[i]))
            return false;
    memcpy(v->pdpte, pdpte, sizeof pdpte);
    return true;
}

bool paging_efer_written(struct vcpu *v, uint64_t old)
{
    if (!((old ^ v->efer) & EFER_NXE))
        return true;
    /* Executable pages may have become XD or the reverse (§4.6.2): the
     * jump caches hold translations made under the old rule. */
    if (paging_on(v))
        jc_flush_all(v);
    return paging_sync(v);
}

/* After INVLPG, map the page again at once if the guest's entries for it
 * are present and already accessed: the access that usually follows (an
 * INVLPG comes after a PTE update) then takes no hidden fault, and no
 * Accessed bit is set that the guest did not set (the same rule as the
 * fill's prefetch, mmu_fill.c). Anything else waits for its fault. */
static void refill(struct vcpu *v, uint32_t lin)
{
    if (v->vm->cur_space)
        mmu_map_accessed(v->vm->mmu, v->vm->cur_space, lin, v->cpl == 3);
}

/* A page-fault handler returns to the instruction that faulted: the page
 * it made present (with A set, as Linux's protections have it) is mapped
 * now, in the view the instruction runs in, instead of by a second host
 * fault when it runs again. */
void paging_pf_return(struct vcpu *v, uint32_t eip)
{
    struct pf_return *p = &v->pf_return;

    if (p->pending && eip == p->eip && paging_on(v))
        refill(v, p->lin);
    p->pending = false;
}

void paging_invlpg(struct vcpu *v, uint32_t lin)
{
    mmu_invlpg(v->vm->mmu, lin);
    jc_flush_page(v, lin >> 12);
    if (paging_on(v))
        refill(v, lin);
}

void vm_set_control(struct vm *vm, uint32_t cr0, uint32_t cr3, uint32_t cr4)
{
    struct vcpu *v = vm->vcpu;

    v->cr0 = cr0;
    v->cr3 = cr3;
    v->cr4 = cr4;
    derive_forget(v);                   /* the space is not activated until vm_run */
    if (paging_pae(cr0, cr4))
        paging_load_pdptes(v, cr3);     /* a loader's tables: reserved bits are its bug */
    if (paging_on(v))
        jc_flush_all(v);
    /* vm_run activates the space. */
}
