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
    size_t before;              /* bytes of the page below code, readable too */
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
    bool user = v->cpl == 3, global;
    struct insn in;

    cs->frame2 = TB_NO_FRAME2;
    cs->before = lin & 4095;    /* code points into RAM, not the stitched buffer */
    v->fetch_global = false;
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
    global = v->fetch_global;
    if (!guest_xlate(v, lin + left, MMU_FETCH, user, &phys2) ||
        !(code2 = ram_ptr(&vm->ram, phys2, MAX_INSN))) {
        int r = (v->bits16 & BT_MODE_CODE16) ? decode_insn16(bt_decoder(vm->bt), code, left, eip, &in)
                                             : decode_insn(bt_decoder(vm->bt), code, left, eip, &in);
        if (r != -2) {
            v->pf.pending = false;
            v->fetch_global = global;
            return true;        /* it does not: the block stops before the page end */
        }
        if (v->pf.pending)
            return raise_fetch_pf(v, eip);
        vcpu_stop_error(v, eip, "guest executes outside RAM at EIP 0x%08x", eip + left);
        return false;
    }
    v->fetch_global = global && v->fetch_global;
    cs->before = 0;
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

/* The keys a block for `mode` may be filed under (segsets.c): most blocks
 * fold in neither the FS nor the GS base, so those keys come first. */
static const uint32_t any_keys[4] = { BT_MODE_ANY_FSGS, BT_MODE_ANY_GS, BT_MODE_ANY_FS, 0 };

static struct tb *lookup_keys(struct vm *vm, struct vcpu *v, uint32_t phys, uint32_t eip,
                              uint32_t mode, bool stale)
{
    uint32_t keys[4];

    for (int k = 0; k < 4; k++)
        keys[k] = segset_key(v, mode, any_keys[k]);
    return cache_lookup_any(vm->cache, phys, eip, keys, 4, stale);
}

/* File a new block under the key that ignores the FS and GS bases it did
 * not fold in. */
static void key_block(struct vm *vm, struct vcpu *v, struct tb *tb)
{
    uint32_t any = (tb->seg_bases_read & 1u << SEG_FS ? 0 : BT_MODE_ANY_FS) |
                   (tb->seg_bases_read & 1u << SEG_GS ? 0 : BT_MODE_ANY_GS);
    uint32_t key = segset_key(v, tb->mode, any);

    if (key != tb->mode)
        cache_rekey(vm->cache, tb, key);
}

static struct tb *revalidate(struct vm *vm, struct vcpu *v, uint32_t eip, uint32_t mode,
                             const struct code_src *cs)
{
    struct tb *tb = lookup_keys(vm, v, cs->phys, eip, mode, true);
    const void *bytes;

    if (!tb)
        return NULL;
    bytes = tb->guest_len <= cs->avail && tb->below <= cs->before && still_mapped(tb, cs) ? cs->code : NULL;
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

    v->fetch_global = false;
    if (eip > v->seg[SEG_CS].limit)
        return NULL;
    if (paging_on(v)) {
        if (mmu_translate(vm->mmu, phys, MMU_FETCH, v->cpl == 3, &r) != MMU_HIDDEN)
            return NULL;
        phys = r.gpa;
        v->fetch_global = r.global && (v->cr4 & CR4_PGE) && (vcpu_code_lin(v, eip) & 4095) <= 4096 - 15;
    }
    tb = lookup_keys(vm, v, phys, eip, vcpu_mode(v), false);
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
    tb = lookup_keys(vm, v, cs.phys, eip, mode, false);
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
        tb = bt_translate(bt, eip, cs.phys, cs.frame2, mode, cs.code, cs.before, cs.avail);
        prof_phase = PROF_DISPATCH;
        if (tb) {
            if (cache_epoch(vm->cache) != before)
                v->bt.exit_slot = 0;
            key_block(vm, v, tb);
            smc_protect_block(v, tb);
            return tb;
        }
        vm_flush_code(vm);
    }
    vcpu_stop_error(v, eip, "cannot translate the block at EIP 0x%08x", eip);
    return NULL;
}
