/* runtime — the translator object and the runtime trampolines.
 *
 * runtime.S is assembled into the bt86 binary; bt_runtime_init copies it into
 * the code cache's runtime area (which survives flushes) so that blocks reach
 * it with jmp rel32, and records its entry points in each vCPU. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bt/abi_offsets.h"
#include "bt/xlate.h"

extern const uint8_t bt_rt_begin[], bt_rt_enter[], bt_rt_exit[], bt_rt_callout[], bt_rt_callout_nofp[],
    bt_rt_signal_exit[], bt_rt_rs_miss[], bt_rt_end[];

_Static_assert(offsetof(struct bt_cpu, gpr) == CPU_GPR, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, eip) == CPU_EIP, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, eflags) == CPU_EFLAGS, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, next_eip) == CPU_NEXT_EIP, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, exit_slot) == CPU_EXIT_SLOT, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, host_rsp) == CPU_HOST_RSP, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, resume) == CPU_RESUME, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, site) == CPU_SITE, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, membase) == CPU_MEMBASE, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, jcache) == CPU_JCACHE, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, vif) == CPU_VIF, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, irq_pending) == CPU_IRQ_PENDING, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, fx_guest) == CPU_FX_GUEST, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, fcw_host) == CPU_FCW_HOST, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, mxcsr_guest) == CPU_MXCSR_GUEST, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, mxcsr_host) == CPU_MXCSR_HOST, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, xmm_guest) == CPU_XMM_GUEST, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, rflags_slot) == CPU_RFLAGS_SLOT, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, tsc_offset) == CPU_TSC_OFFSET, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, entries) == CPU_ENTRIES, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, rs_miss) == CPU_RS_MISS, "abi_offsets.h");
_Static_assert(offsetof(struct bt_cpu, rstack) == CPU_RSTACK, "abi_offsets.h");
_Static_assert(CPU_RSTACK + 8 * BT_RSTACK_SIZE <= 8192, "the verifier's vCPU window");
_Static_assert(offsetof(struct bt_site, fn) == 0, "runtime.S calls [site]");

struct bt *bt_create(struct code_cache *cache, const struct bt_config *cfg,
                     const struct bt_handlers *h, char *err, size_t errlen)
{
    struct bt *bt = calloc(1, sizeof *bt);
    size_t size = (size_t)(bt_rt_end - bt_rt_begin);
    uint8_t *rw, *rx;

    if (!bt) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    bt->cache = cache;
    bt->cfg = *cfg;
    bt->h = *h;
    bt->dec = decoder_create();
    if (!bt->dec) {
        snprintf(err, errlen, "cannot initialise the Capstone decoder");
        free(bt);
        return NULL;
    }
    rx = cache_alloc_runtime(cache, size, &rw);
    if (!rx) {
        snprintf(err, errlen, "code cache too small for the runtime");
        decoder_destroy(bt->dec);
        free(bt);
        return NULL;
    }
    memcpy(rw, bt_rt_begin, size);
    bt->rt_enter = (uint64_t)(rx + (bt_rt_enter - bt_rt_begin));
    bt->rt_exit = (uint64_t)(rx + (bt_rt_exit - bt_rt_begin));
    bt->rt_callout = (uint64_t)(rx + (bt_rt_callout - bt_rt_begin));
    bt->rt_callout_nofp = (uint64_t)(rx + (bt_rt_callout_nofp - bt_rt_begin));
    bt->rt_signal_exit = (uint64_t)(rx + (bt_rt_signal_exit - bt_rt_begin));
    bt->rt_rs_miss = (uint64_t)(rx + (bt_rt_rs_miss - bt_rt_begin));
    return bt;
}

void bt_destroy(struct bt *bt)
{
    if (!bt)
        return;
    decoder_destroy(bt->dec);
    free(bt);
}

bt_enter_fn bt_runtime_init(struct bt *bt, struct bt_cpu *cpu)
{
    cpu->tramp_signal_exit = bt->rt_signal_exit;
    cpu->rs_miss = bt->rt_rs_miss;
    cpu->rstack_on = bt->cfg.rstack;
    for (int i = 0; i < BT_RSTACK_SIZE; i++)
        cpu->rstack[i] = cpu->rs_miss;
    return (bt_enter_fn)(uintptr_t)bt->rt_enter;
}

/* Every entry to the miss path: nothing a RET pops can then be a landing
 * pad in a block that was freed, or translated for another mapping or mode. */
void bt_rstack_reset(struct bt_cpu *cpu)
{
    /* Without --rstack no block reads a slot: 2 KiB written on every
     * privilege change for nothing (a third of a paging-on system call). */
    if (!cpu->rstack_on)
        return;
    for (int i = 0; i < BT_RSTACK_SIZE; i++)
        cpu->rstack[i] = cpu->rs_miss;
}

const struct bt_stats *bt_get_stats(const struct bt *bt) { return &bt->stats; }
struct decoder *bt_decoder(struct bt *bt) { return bt->dec; }
