/* memfault — host faults in a shadow window (DESIGN §4, §5; the protocol
 * is shadowmmu/mmu.h's "SIGSEGV" list).
 *
 * A SIGSEGV whose address lies in a space's window or guards comes here
 * from signals.c, still inside the signal context:
 *
 *   hidden fault   the MMU filled the shadow from the guest's tables:
 *                  resume the host instruction as if nothing happened.
 *   guest #PF      the guest's tables deny the access: deliver #PF with
 *                  the faulting instruction's EIP (side table), CR2 and
 *                  the error code (SDM vol. 3A §4.7).
 *   traced store   a store to a guest page table: the page is made
 *                  writable for this one store, which runs with the host
 *                  trap flag set; the SIGTRAP after it re-protects the
 *                  page and zaps exactly the shadow entries it changed
 *                  (mmu_store_done). The trap arrives on the alternate
 *                  stack like every other signal: translated code's RSP is
 *                  the guest's ESP.
 *   code write     a store to a frame holding translated code: its blocks
 *                  are invalidated (unchained, out of the jump caches) and
 *                  the frame unprotected, then the store is retried. If it
 *                  writes into the block that is running, that block's
 *                  remaining code is stale: the store is emulated instead
 *                  and the block left after it.
 *   device, wrap   a frame that is not RAM, or an access running past
 *                  4 GiB into the guard: the instruction is emulated
 *                  (memop.c; stack and branch forms in stackop.c; x87,
 *                  SSE, CMPXCHG8B, DIV... on a bounce buffer, bounce.c)
 *                  and translated code left after it.
 *   open bus       a frame that is neither RAM nor a device, touched by an
 *                  instruction memop.c does not know (x87, SSE, MUL, ...):
 *                  a private page of all-ones is lent at that place for one
 *                  single-stepped instruction, then taken back, so reads
 *                  see all-ones and writes are lost, as on the bus itself.
 *
 *   soft page      a page whose guest mapping churns (shadowmmu/mmu_soft.c):
 *                  the instruction is emulated like a device access.
 *
 * Traced, code, device, soft-page and wrap faults are counted per
 * instruction (adaptive.c).
 * Everything before the guest state is copied out runs on the signal
 * stack without allocating, except the decoder (Capstone), which is safe
 * here: these signals come from translated code, never from inside the
 * monitor's own C code. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mman.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

#include "emulator/paging.h"

#define HOST_TF 0x100

static bool decode_at(struct vcpu *v, struct tb *tb, uint32_t eip, uint32_t off, struct insn *in)
{
    uint8_t b[15];
    size_t n;

    smc_insn_bytes(v->vm, tb, off, b, &n);
    if (n && (tb->mode & BT_MODE_CODE16))
        return decode_insn16(bt_decoder(v->vm->bt), b, n, eip, in) == 0;
    return n && decode_insn(bt_decoder(v->vm->bt), b, n, eip, in) == 0;
}

/* The instruction's bytes are read again from guest memory (smc.c), as the
 * CPU fetched them. A store made since, in this very block (which goes on
 * running its old translation until it ends), may have changed them so
 * that they no longer decode: the block is invalid by then, and the CPU
 * would have fetched the new bytes, so the faulting instruction is not
 * performed and the dispatcher translates from eip again (MF_REFETCH). */

/* A traced store: make the page writable for one single-stepped store. */
static enum mf_action traced_store(struct vcpu *v, ucontext_t *uc, struct space *s, uint32_t lin,
                                   uint32_t gpa, const struct insn *in, bool decoded)
{
    unsigned len = decoded ? memop_store_size(in) : 4, room = 4096 - (gpa & 4095);

    if (len == 0 || len > room)
        len = len ? room : 4;
    if (mmu_unprotect_for_store(v->vm->mmu, s, lin, gpa, len) == MMU_STORE_STEP) {
        struct step_state *st = &v->step;
        unsigned i = st->n < 2 ? st->n++ : 1;
        st->st[i].gpa = gpa;
        st->st[i].len = (uint16_t)len;
        uc->uc_mcontext.gregs[REG_EFL] |= HOST_TF;
        v->vm->stats.traced_steps++;
    }
    return MF_RESUME;
}

/* Open bus under an instruction memop.c cannot perform: lend a page of
 * all-ones for one host single-step (memfault_trap takes it back). The
 * mmap is async-signal-safe; the page is private, so what the instruction
 * writes is dropped with it. */
static enum mf_action open_bus_step(struct vcpu *v, ucontext_t *uc, struct space *s, uint32_t lin,
                                    uintptr_t addr)
{
    struct step_state *st = &v->step;
    void *page = (void *)(addr & ~(uintptr_t)4095);

    if (st->nb == 2)
        return MF_EMULATE;      /* a third page in one instruction: let memop say so */
    if (mmap(page, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
        return MF_EMULATE;
    memset(page, 0xff, 4096);
    st->bounce[st->nb].s = s;
    st->bounce[st->nb++].lin = lin & ~4095u;
    uc->uc_mcontext.gregs[REG_EFL] |= HOST_TF;
    v->vm->stats.open_bus_steps++;
    return MF_RESUME;
}

/* The guest-physical bytes a store at gpa may write: the element, or for
 * a REP string all the elements left (host RCX counts them, DF says
 * which way), which would not fault again once the frame is unprotected. */
static void store_range(const ucontext_t *uc, const struct insn *in, uint32_t gpa, unsigned len,
                        uint64_t *lo, uint64_t *hi)
{
    *lo = gpa;
    *hi = (uint64_t)gpa + len;
    if (in->kind == K_STRING && in->rep && len) {
        uint64_t n = (uint64_t)(uint32_t)uc->uc_mcontext.gregs[REG_RCX] * len;
        if (uc->uc_mcontext.gregs[REG_EFL] & FL_DF)
            *lo = n > (uint64_t)gpa + len ? 0 : gpa + len - n;
        else
            *hi = gpa + n;
    }
}

/* A store to a code frame. */
static enum mf_action code_write(struct vcpu *v, const ucontext_t *uc, struct tb *tb, uint32_t gpa,
                                 const struct insn *in, bool decoded)
{
    struct vm *vm = v->vm;
    unsigned len = decoded ? memop_store_size(in) : 0;
    uint64_t lo, hi;
    bool into_self = false;

    if (len) {
        store_range(uc, in, gpa, len, &lo, &hi);
        into_self = tb_overlaps(tb, lo, hi);
    }

    smc_code_write(v, gpa, 4096, true);
    mmu_unprotect_code(vm->mmu, gpa);
    if (into_self && (memop_performs(in) || stackop_performs(in) || bounce_performs(in))) {
        /* The running block may hold a stale copy of what is stored: do
         * the store here and leave it (SDM vol. 3A §11.6: the CPU fetches
         * the stored bytes). */
        return MF_EMULATE;
    }
    return MF_RESUME;
}

enum mf_action memfault_segv(struct vcpu *v, void *ucv, uintptr_t addr, struct tb *tb, uint32_t eip,
                             uint32_t off)
{
    ucontext_t *uc = ucv;
    struct vm *vm = v->vm;
    struct mmu_fault_result r;
    enum mmu_result k;
    struct space *s;
    uint32_t lin;
    bool write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0, decoded;
    enum mmu_where where = mmu_locate(vm->mmu, addr, &s, &lin);
    struct insn *in = &v->mf.insn;

    v->mf.uc = uc;
    if (where == MMU_OUTSIDE)
        return MF_OUTSIDE;
    if (where == MMU_GUARD) {
        /* Past the window: the guest's address wrapped at 4 GiB. A block
         * a store has invalidated since may hold an instruction that is no
         * longer there: the CPU runs what is there now (found by
         * tests/fuzz: "wraps at 4 GiB ... daa"). */
        if (!tb->valid)
            return MF_REFETCH;
        if (decode_at(v, tb, eip, off, in)) {
            /* [base + r14 + disp] lands here whenever base + disp wraps:
             * a site that keeps wrapping becomes a callout, as for soft
             * pages, instead of a host fault each time. */
            adapt_soft_fault(v, tb, in, tb->phys + off);
            return MF_EMULATE;
        }
        snprintf(v->error, sizeof v->error, "cannot decode the instruction at EIP 0x%08x that "
                 "wraps at 4 GiB", eip);
        return MF_ERROR;
    }
    k = mmu_fault(vm->mmu, s, lin, write ? MMU_WRITE : MMU_READ, v->cpl == 3, &r);
again:
    switch (k) {
    case MMU_SOFT:
        /* A page whose mapping churns stays unmapped: perform the access
         * here, and count it so that an instruction that keeps touching
         * such pages becomes a callout. What memop.c does not perform as
         * a callout (strings, x87, SSE) gets the page mapped after all. */
        if (decode_at(v, tb, eip, off, in) && memop_supported(in)) {
            if (!tb->valid)
                return MF_REFETCH;
            adapt_soft_fault(v, tb, in, tb->phys + off);
            return MF_EMULATE;
        }
        k = mmu_fault_hard(vm->mmu, s, lin, write ? MMU_WRITE : MMU_READ, v->cpl == 3, &r);
        goto again;
    case MMU_HIDDEN:
        return MF_RESUME;
    case MMU_GUEST_PF:
        v->mf.pf = PF(r.error, r.cr2);
        if (adapt_page_fault(v, tb, tb->phys + off) && decode_at(v, tb, eip, off, in))
            adapt_fault(v, tb, in, tb->phys + off);
        return MF_PF;
    case MMU_MMIO:
        if (!decode_at(v, tb, eip, off, in))
            break;
        if (!tb->valid)
            return MF_REFETCH;  /* stale code: the CPU runs what is there now */
        if (!memop_performs(in) && mmio_is_open_bus(vm, r.gpa))
            return open_bus_step(v, uc, s, lin, addr);
        adapt_fault(v, tb, in, tb->phys + off);
        return MF_EMULATE;
    case MMU_TRACED_WRITE:
        decoded = decode_at(v, tb, eip, off, in);
        if (decoded)
            adapt_fault(v, tb, in, tb->phys + off);
        return traced_store(v, uc, s, lin, r.gpa, in, decoded);
    case MMU_CODE_WRITE:
        decoded = decode_at(v, tb, eip, off, in);
        if (decoded)
            adapt_fault(v, tb, in, tb->phys + off);
        return code_write(v, uc, tb, r.gpa, in, decoded);
    default:
        snprintf(v->error, sizeof v->error, "shadow MMU out of host resources at guest address "
                 "0x%08x (EIP 0x%08x)", lin, eip);
        return MF_ERROR;
    }
    if (!tb->valid)
        return MF_REFETCH;
    snprintf(v->error, sizeof v->error, "cannot decode the instruction at EIP 0x%08x that touches "
             "device memory at 0x%08x", eip, r.gpa);
    return MF_ERROR;
}

void memfault_finish(struct vcpu *v, enum mf_action a, struct tb *tb, uint32_t eip)
{
    struct bt_cpu *cpu = &v->bt;
    const struct insn *in = &v->mf.insn;
    char text[120];

    switch (a) {
    case MF_PF:
        raise_fault(v, v->mf.pf, eip);
        return;
    case MF_ERROR:
        v->exit = EXIT_ERROR;
        return;
    case MF_EMULATE:
        break;
    default:
        return;
    }
    v->pf.pending = false;
    v->bt.site = 0;
    v->smc_cur = NULL;
    switch (memop_run(v, in)) {
    case MEMOP_DONE:
        v->vm->stats.memop_emulated++;
        cpu->next_eip = eip + in->glen;
        return;
    case MEMOP_PARTIAL:
        cpu->next_eip = eip;    /* a REP string goes on after an interrupt */
        return;
    case MEMOP_FAULT:
        guest_mem_fail(v, eip, v->mf.fail_lin, "touches");
        return;
    default:
        /* Stack and branch forms in C, the rest on a bounce buffer. */
        if (stackop_run(v, in) >= 0 || bounce_run(v, in, v->mf.uc) >= 0)
            return;
        insn_format(bt_decoder(v->vm->bt), in, text, sizeof text);
        vcpu_stop_error(v, eip, "guest instruction at EIP 0x%08x touches device memory or wraps at "
                        "4 GiB, which the monitor cannot emulate yet: %s (TODO(#5))", eip, text);
        return;
    }
}

bool memfault_trap(struct vcpu *v, void *ucv)
{
    ucontext_t *uc = ucv;

    if (!v->step.n && !v->step.nb)
        return false;
    uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)HOST_TF;
    memfault_abort_step(v, NULL);
    return true;
}

void memfault_abort_step(struct vcpu *v, void *ucv)
{
    ucontext_t *uc = ucv;
    struct step_state *st = &v->step;

    if (uc)
        uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)HOST_TF;
    for (unsigned i = 0; i < st->n; i++)
        mmu_store_done(v->vm->mmu, st->st[i].gpa, st->st[i].len);
    st->n = 0;
    for (unsigned i = 0; i < st->nb; i++)
        space_unmap(st->bounce[i].s, st->bounce[i].lin, 4096);     /* reserved again */
    st->nb = 0;
}
