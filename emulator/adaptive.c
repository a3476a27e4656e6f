/* adaptive — adaptive translation (DESIGN §4, VMware's answer to trace
 * faults): a host SIGSEGV round trip costs thousands of cycles, a callout
 * tens. Each traced-store, code-frame or device fault is counted against
 * the faulting guest instruction (keyed by its physical address); at the
 * ADAPT_THRESHOLD-th, if memop.c can perform it, the instruction is marked
 * slow and its block invalidated for good (no revalidation). The
 * translator asks adapt_slow_mem() about every memory instruction it
 * translates and emits a marked one as a BT_HELPER_MEMOP callout, whose
 * handler performs the access with mmu_translate and mmu_write_phys: a PTE
 * store is diffed and zapped, a device register read, without a fault.
 * String instructions are never marked: a memcpy that once copied a page
 * table would crawl through C forever after (write floods end their
 * tracing instead).
 *
 * Guest page faults count the same way (issue #13: a #PF that repeats at
 * one instruction — the guest's fault loops, copy-on-write, a handler
 * that skips the access — should not cost a host signal each time): the
 * callout's access walks the guest tables (or finds the page in the
 * shadow) and raises #PF itself. Such a mark is not for good: a demand-
 * paging loop faults once per page and then runs thousands of times
 * without, so PF_CLEAN executions without a fault translate it natively
 * again (at most one re-translation per PF_CLEAN callouts).
 *
 * The other marks expire too (unless --sticky-memops): a store that hit a
 * page table may run millions of times after the page stopped being one
 * (Linux's fork and exec reuse the same copy and clear routines on page
 * tables and on data). A callout whose access needed the monitor — a
 * store to a traced page or a code frame (mmu_special_writes), a device
 * access, a soft page — starts the count over; MEMOP_CLEAN << k clean
 * executions translate the site natively again, and k (at most
 * MEMOP_LEVELS - 1) grows by one each time, so a site that keeps being
 * re-marked costs at most ADAPT_THRESHOLD signals per 1024 callouts. */
#include <string.h>

#include "emulator/paging.h"

#define ADAPT_THRESHOLD 4
#define PF_CLEAN 256
#define MEMOP_CLEAN 256
#define MEMOP_LEVELS 3
#define PROBES 16

static struct adapt_slot *slot(struct vm *vm, uint32_t phys, bool add)
{
    uint32_t h = fib_hash32(phys, 12);            /* ADAPT_SLOTS = 4096 */

    for (unsigned i = 0; i < PROBES; i++) {
        struct adapt_slot *s = &vm->adapt[(h + i) & (ADAPT_SLOTS - 1)];
        if (s->used && s->phys == phys)
            return s;
        if (!s->used) {
            if (!add)
                return NULL;
            *s = (struct adapt_slot){ .phys = phys, .used = 1 };
            return s;
        }
    }
    return NULL;    /* full around here: that instruction stays as it is */
}

static unsigned threshold(const struct vm *vm)
{
    return vm->cfg.adapt_first_fault ? 1 : ADAPT_THRESHOLD;
}

/* Invalidate tb and keep it from being revalidated (its bytes did not
 * change, but its translation must): it is translated anew. Signal-safe. */
static void drop_for_good(struct vcpu *v, struct tb *tb)
{
    block_invalidate(v, tb);
    cache_revalidate(v->vm->cache, tb, NULL);
}

void adapt_fault(struct vcpu *v, struct tb *tb, const struct insn *in, uint32_t phys)
{
    struct vm *vm = v->vm;
    struct adapt_slot *s;

    if ((tb->mode & BT_MODE_STEP) || !memop_supported(in) || !(s = slot(vm, phys, true)))
        return;
    if (!s->slow) {
        if (++s->faults < threshold(vm))
            return;
        s->slow = 1;
        s->clean = 0;
        vm->stats.adaptive++;
    }
    /* Marked: this block (any block still holding the fast form) goes. */
    drop_for_good(v, tb);
}

/* A fault on a soft page (shadowmmu/mmu_soft.c), or in a window's guard
 * after a guest address wrapped at 4 GiB (memfault.c): marked like a #PF
 * site, native again once its accesses stop being special. */
void adapt_soft_fault(struct vcpu *v, struct tb *tb, const struct insn *in, uint32_t phys)
{
    struct adapt_slot *s;

    if ((tb->mode & BT_MODE_STEP) || !memop_supported(in) || !(s = slot(v->vm, phys, true)))
        return;
    if (!s->slow) {
        if (++s->faults < threshold(v->vm))
            return;
        s->slow = 1;
        s->page_faults = 1;
        s->clean = 0;
        v->vm->stats.adaptive++;
    }
    drop_for_good(v, tb);
}

bool adapt_page_fault(struct vcpu *v, struct tb *tb, uint32_t phys)
{
    struct adapt_slot *s;

    if ((tb->mode & BT_MODE_STEP) || !(s = slot(v->vm, phys, true)) || s->slow)
        return false;
    if (s->faults + 1 < threshold(v->vm)) {
        s->faults++;
        return false;
    }
    s->page_faults = 1;
    s->clean = 0;
    return true;
}

bool adapt_slow_mem(void *opaque, uint32_t eip, uint32_t phys)
{
    struct adapt_slot *s = slot(opaque, phys, false);
    (void)eip;
    return s && s->slow;
}

/* Divide errors: one host SIGFPE is enough to mark the site (a guest that
 * divides by zero once at an address tends to do it again: a loop, a
 * test suite, a fault-injecting kernel). bt/xlate_div.c explains the form. */
void adapt_divide_error(struct vcpu *v, struct tb *tb, uint32_t phys)
{
    struct adapt_slot *s = slot(v->vm, phys, true);

    if (!s || s->divide_error)
        return;
    s->divide_error = 1;
    if (!(tb->mode & BT_MODE_STEP))
        drop_for_good(v, tb);
}

bool adapt_checked_div(void *opaque, uint32_t eip, uint32_t phys)
{
    struct adapt_slot *s = slot(opaque, phys, false);
    (void)eip;
    return s && s->divide_error;
}

/* Delivered here, as the dispatcher would, and continued into the handler's
 * block through the jump cache (like INT n): no round trip. */
int co_divide_error(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    v->vm->stats.divide_errors++;
    raise_fault(v, FAULT(EXC_DE, 0), site->eip);
    if (v->vm->cfg.stop_on_exception)
        return BT_EXIT;
    exc_deliver_pending(v);
    return callout_continue(v);
}

/* ---- performing the instruction ------------------------------------------ */

static unsigned flags_of(const struct vcpu *v, bool write)
{
    return (write ? GM_WRITE : 0) | (v->cpl == 3 ? GM_USER : 0);
}

static bool bus_check(void *opaque, uint32_t lin, unsigned n, bool write)
{
    struct vcpu *v = opaque;
    if (guest_access(v, lin, NULL, n, flags_of(v, write) | GM_PROBE))
        return true;
    v->mf.fail_lin = lin;
    return false;
}

static bool bus_read(void *opaque, uint32_t lin, void *dst, unsigned n)
{
    struct vcpu *v = opaque;
    if (guest_access(v, lin, dst, n, flags_of(v, false)))
        return true;
    v->mf.fail_lin = lin;
    return false;
}

static bool bus_write(void *opaque, uint32_t lin, const void *src, unsigned n)
{
    struct vcpu *v = opaque;
    if (guest_access(v, lin, (void *)src, n, flags_of(v, true)))
        return true;
    v->mf.fail_lin = lin;
    return false;
}

static bool bus_yield(void *opaque, unsigned done)
{
    return rep_should_yield(opaque, done);
}

enum memop_result memop_run(struct vcpu *v, const struct insn *in)
{
    struct bt_cpu *cpu = &v->bt;
    struct memop_bus bus = { v, bus_check, bus_read, bus_write, bus_yield };
    struct memop_regs r;
    enum memop_result res;

    memcpy(r.gpr, cpu->gpr, sizeof r.gpr);
    r.eflags = cpu->eflags;
    for (int i = 0; i < 6; i++)
        r.seg_base[i] = v->seg[i].base;
    r.stack16 = vcpu_stack16(v);
    res = memop_exec(in, &r, &bus);
    if (res == MEMOP_UNSUPPORTED)
        return res;
    memcpy(cpu->gpr, r.gpr, sizeof r.gpr);      /* a REP string's progress too */
    cpu->eflags = (cpu->eflags & ~FL_ARITH) | (r.eflags & FL_ARITH);
    return res;
}

/* The physical address of a callout site's instruction: its block's
 * first frame plus the offset (an instruction starts on that page). */
static uint32_t site_phys(struct vcpu *v, const struct bt_site *site)
{
    const struct tb *tb = cache_find_by_host(v->vm->cache, (const void *)(uintptr_t)v->bt.resume);
    return tb ? tb->phys + (site->eip - tb->eip) : 0;
}

/* Snapshot of what tells a callout's access needed the monitor. */
struct special {
    uint64_t soft, writes, mmio;
};

static struct special special_now(const struct vm *vm)
{
    return (struct special){ mmu_soft_accesses(vm->mmu), mmu_special_writes(vm->mmu),
                             vm->stats.mmio_accesses };
}

/* A callout of marked site sl ran to completion: true when its mark
 * expires now (counted clean runs, see the top of the file). */
static bool clean_run(struct vm *vm, struct adapt_slot *sl, const struct special *before)
{
    struct special now = special_now(vm);

    if (sl->page_faults) {
        if (now.soft != before->soft) {
            sl->clean = 0;      /* it touched a soft page: stays a callout */
            return false;
        }
        return ++sl->clean >= PF_CLEAN;
    }
    if (vm->cfg.sticky_memops)
        return false;
    if (now.soft != before->soft || now.writes != before->writes || now.mmio != before->mmio) {
        sl->clean = 0;
        return false;
    }
    if (++sl->clean < MEMOP_CLEAN << sl->level)
        return false;
    vm->stats.adapt_unmarks++;
    if (sl->level + 1 < MEMOP_LEVELS)
        sl->level++;
    return true;
}

int co_memop(struct bt_cpu *cpu, const struct bt_site *site)
{
    struct vcpu *v = vcpu_of(cpu);
    const struct insn *in = SITE_INSN(site);
    enum memop_result res;
    struct adapt_slot *sl = NULL;
    struct tb *tb;
    struct special before;
    char text[120];

    v->vm->stats.memop_callouts++;
    v->pf.pending = false;
    tb = cache_find_by_host(v->vm->cache, (const void *)(uintptr_t)cpu->resume);
    v->smc_cur = tb;
    v->smc_cur_hit = false;
    before = special_now(v->vm);
    res = memop_run(v, in);
    v->smc_cur = NULL;
    switch (res) {
    case MEMOP_DONE:
        if (tb && (sl = slot(v->vm, tb->phys + (site->eip - tb->eip), false)) && sl->slow &&
            clean_run(v->vm, sl, &before)) {
            /* It stopped faulting: native again, from the next instruction. */
            sl->slow = sl->faults = sl->page_faults = 0;
            sl->clean = 0;
            drop_for_good(v, tb);
            cpu->next_eip = site->next_eip;
            return BT_EXIT;
        }
        break;
    case MEMOP_FAULT:
        if (v->pf.pending && tb && (sl = slot(v->vm, tb->phys + (site->eip - tb->eip), false)))
            sl->clean = 0;
        v->vm->stats.memop_page_faults += v->pf.pending;
        return guest_mem_fail(v, site->eip, v->mf.fail_lin, "touches");
    case MEMOP_PARTIAL:
        cpu->next_eip = site->eip;
        return BT_EXIT;
    default: {
        /* A mark left by an instruction that used to be at this address
         * (code rewritten since): forget it and run the instruction anew
         * from a fresh translation. */
        sl = slot(v->vm, site_phys(v, site), false);
        if (!sl || !sl->slow || !tb) {
            insn_format(bt_decoder(v->vm->bt), in, text, sizeof text);
            return vcpu_stop_error(v, site->eip, "the monitor cannot emulate the instruction at EIP "
                                   "0x%08x: %s (TODO(#5))", site->eip, text);
        }
        sl->slow = 0;
        sl->faults = 0;
        drop_for_good(v, tb);
        cpu->next_eip = site->eip;
        return BT_EXIT;
    }
    }
    /* It overwrote the rest of this very block, or the run must stop, or
     * an interrupt became deliverable: leave after it. */
    if (v->smc_cur_hit || v->exit != EXIT_NONE || intr_deliverable(v)) {
        cpu->next_eip = site->next_eip;
        return BT_EXIT;
    }
    return BT_RESUME;
}
