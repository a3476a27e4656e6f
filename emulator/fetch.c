/* fetch — the dispatcher's block lookup (DESIGN §3, §4).
 *
 * A block is keyed by the guest *physical* address of its first byte, its
 * linear EIP and the mode bits. With paging on, the EIP is translated like
 * an instruction fetch at the current CPL (mmu_translate: Accessed bits
 * set, a denial is the guest's #PF with CR2 and the error code, SDM vol. 3A
 * §4.7), and the bytes are read through the frame. A block stops at its
 * page end; only an instruction that starts in the last 14 bytes can run
 * into the next page, whose frame is translated then: the two frames'
 * bytes are stitched into one buffer, both are protected as code, and the
 * second is checked again on every lookup (the cache keys only the first).
 * Paging off, physical = linear and the next frame is the next page.
 *
 * A block invalidated by a store to its frame is revalidated when its
 * bytes hash as they did (smc.c), else translated anew. */
#include <string.h>

#include "emulator/paging.h"
#include "emulator/profile.h"

#define MAX_INSN 15

struct code_src {
    const uint8_t *code;
    size_t avail;
    uint32_t phys;
    uint32_t frame2;            /* paging: the next page's frame, if stitched */
};

static bool raise_fetch_pf(struct vcpu *v, uint32_t eip)
{
    raise_fault(v, pf_take(v, NO_FAULT), eip);
    return false;
}

/* An instruction fetch from the open bus reads all-ones: FF FF is FF /7,
 * a reserved encoding (SDM vol. 2D table A-6), so the CPU raises #UD at
 * that EIP. Executing device memory stops the run. */
static bool outside_ram(struct vcpu *v, uint32_t eip, uint32_t phys)
{
    if (mmio_is_open_bus(v->vm, phys)) {
        raise_fault(v, FAULT(EXC_UD, 0), eip);
        return false;
    }
    vcpu_stop_error(v, eip, "guest executes device memory at EIP 0x%08x (physical 0x%08x)", eip, phys);
    return false;
}

static bool code_source(struct vm *vm, struct vcpu *v, uint32_t eip, struct code_src *cs)
{
    uint32_t lin = vcpu_code_lin(v, eip), left = 4096 - (lin & 4095), phys2;
    const uint8_t *code, *code2;
    bool user = v->cpl == 3;
    struct insn in;

    cs->frame2 = TB_NO_FRAME2;
    /* An EIP beyond the CS limit: #GP(0) at it (SDM vol. 3A §5.3; real
     * mode's IP past 0xFFFF). */
    if (eip > v->seg[SEG_CS].limit) {
        raise_fault(v, GP(0), eip);
        return false;
    }
    if (!paging_on(v)) {
        uint64_t avail = ram_avail(&vm->ram, lin);
        cs->phys = lin;
        cs->code = ram_ptr(&vm->ram, lin, 1);
        if (!cs->code || avail == 0)
            return outside_ram(v, eip, lin);
        cs->avail = avail > 4096 + 16 ? 4096 + 16 : avail;
        return true;
    }
    v->pf.pending = false;
    if (!guest_xlate(v, lin, MMU_FETCH, user, &cs->phys))
        return raise_fetch_pf(v, eip);
    code = ram_ptr(&vm->ram, cs->phys, left);
    if (!code)
        return outside_ram(v, eip, cs->phys);
    cs->code = code;
    cs->avail = left;
    if (left >= MAX_INSN)
        return true;            /* the block ends before an instruction crosses */
    /* The first instruction may continue on the next page. */
    if (!guest_xlate(v, lin + left, MMU_FETCH, user, &phys2) ||
        !(code2 = ram_ptr(&vm->ram, phys2, MAX_INSN))) {
        int r = (v->bits16 & BT_MODE_CODE16) ? decode_insn16(bt_decoder(vm->bt), code, left, eip, &in)
                                             : decode_insn(bt_decoder(vm->bt), code, left, eip, &in);
        if (r != -2) {
            v->pf.pending = false;
            return true;        /* it does not: the block stops before the page end */
        }
        if (v->pf.pending)
            return raise_fetch_pf(v, eip);
        vcpu_stop_error(v, eip, "guest executes outside RAM at EIP 0x%08x", eip + left);
        return false;
    }
    memcpy(vm->code_buf, code, left);
    memcpy(vm->code_buf + left, code2, MAX_INSN);
    cs->code = vm->code_buf;
    cs->avail = left + MAX_INSN;
    cs->frame2 = phys2 >> 12;
    return true;
}

/* A cached crossing block is only right if its second page still maps
 * the frame it was translated from. */
static bool still_mapped(const struct tb *tb, const struct code_src *cs)
{
    return !(tb->mode & BT_MODE_PG) || !tb_crosses(tb) || tb->frame2 == cs->frame2;
}

static struct tb *revalidate(struct vm *vm, struct vcpu *v, uint32_t eip, uint32_t mode,
                             const struct code_src *cs)
{
    struct tb *tb = cache_lookup_stale(vm->cache, cs->phys, eip, mode);
    const void *bytes;

    if (!tb)
        return NULL;
    bytes = tb->guest_len <= cs->avail && still_mapped(tb, cs) ? cs->code : NULL;
    if (!cache_revalidate(vm->cache, tb, bytes))
        return NULL;
    smc_protect_block(v, tb);
    return tb;
}

struct tb *find_cached_block(struct vm *vm, struct vcpu *v, uint32_t eip)
{
    struct mmu_fault_result r;
    uint32_t phys = vcpu_code_lin(v, eip);
    struct tb *tb;

    if (eip > v->seg[SEG_CS].limit)
        return NULL;
    if (paging_on(v)) {
        if (mmu_translate(vm->mmu, phys, MMU_FETCH, v->cpl == 3, &r) != MMU_HIDDEN)
            return NULL;
        phys = r.gpa;
    }
    tb = cache_lookup(vm->cache, phys, eip, vcpu_mode(v));
    return tb && bt_enterable(tb) ? tb : NULL;
}

struct tb *find_block(struct vm *vm, struct vcpu *v, uint32_t eip, uint64_t stop_eip, bool step)
{
    uint32_t mode = vcpu_mode(v) | (step ? BT_MODE_STEP : 0);
    struct bt *bt = step ? vm->bt_step : vm->bt;
    struct code_src cs;
    struct tb *tb;

    if (!code_source(vm, v, eip, &cs))
        return NULL;
    tb = cache_lookup(vm->cache, cs.phys, eip, mode);
    if (tb && !still_mapped(tb, &cs)) {
        block_invalidate(v, tb);
        tb = NULL;
    }
    if (tb) {
        vm->stats.lookups_hit++;
        return tb;
    }
    if ((tb = revalidate(vm, v, eip, mode, &cs)))
        return tb;
    /* A block never runs into the stop address: the caller owns the bytes there. */
    if (stop_eip > eip && stop_eip - eip < cs.avail)
        cs.avail = stop_eip - eip;
    for (int attempt = 0; attempt < 2; attempt++) {
        uint64_t before = cache_epoch(vm->cache);
        prof_phase = PROF_TRANSLATE;
        tb = bt_translate(bt, eip, cs.phys, cs.frame2, mode, cs.code, cs.avail);
        prof_phase = PROF_DISPATCH;
        if (tb) {
            if (cache_epoch(vm->cache) != before)
                v->bt.exit_slot = 0;
            smc_protect_block(v, tb);
            return tb;
        }
        vm_flush_code(vm);
    }
    vcpu_stop_error(v, eip, "cannot translate the block at EIP 0x%08x", eip);
    return NULL;
}
