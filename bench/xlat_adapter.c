/* xlat_adapter — bt/ behind the four calls of xlat_adapter.h.
 *
 * The translator is set up as the monitor sets it up (a code cache, a
 * handler for every kind that needs the monitor, the runtime trampolines
 * emitted once) but nothing is ever run: every block is translated at its
 * linear address, which also serves as its physical address, in mode 0. */
#include "bench/xlat_adapter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/bt.h"

struct xa {
    struct code_cache *cache;
    struct bt *bt;
    struct bt_cpu *cpu;
    struct decoder *dec;
    unsigned flushes;
};

/* Never called: the benchmark translates only. */
static int never_called(struct bt_cpu *cpu, const struct bt_site *site)
{
    abort();
}

struct xa *xa_create(size_t guest_bytes, char *err, size_t errlen)
{
    struct xa *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* Room for a whole pass without a flush: host code at up to 8x the guest
     * bytes, metadata (blocks, side tables, callout sites) likewise. */
    size_t room = guest_bytes * 8 + (16u << 20);
    x->cache = cache_create(room, room, err, errlen);
    if (!x->cache)
        goto fail;
    struct bt_handlers h;
    for (int k = 0; k < K_COUNT; k++)
        h.kind[k] = never_called;
    h.invalid = never_called;
    for (int i = 0; i < BT_HELPER_COUNT; i++)
        h.helper[i] = never_called;
    struct bt_config cfg = { .max_insns = 0 };
    x->bt = bt_create(x->cache, &cfg, &h, err, errlen);
    if (!x->bt)
        goto fail;
    x->cpu = aligned_alloc(64, (sizeof *x->cpu + 63) & ~(size_t)63);
    if (!x->cpu) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    memset(x->cpu, 0, sizeof *x->cpu);
    bt_runtime_init(x->bt, x->cpu);
    x->dec = bt_decoder(x->bt);
    return x;
fail:
    xa_destroy(x);
    return NULL;
}

void xa_destroy(struct xa *x)
{
    if (!x)
        return;
    if (x->bt)
        bt_destroy(x->bt);
    if (x->cache)
        cache_destroy(x->cache);
    free(x->cpu);
    free(x);
}

int xa_translate(struct xa *x, uint32_t eip, const uint8_t *code, size_t avail,
                 struct xa_block *out, char *err, size_t errlen)
{
    struct tb *tb = bt_translate(x->bt, eip, eip, TB_NO_FRAME2, 0, code, 0, avail);
    if (!tb) {
        /* Full: flush and retry, as the dispatcher does (the runtime
         * trampolines live in an area that survives flushes). */
        cache_flush(x->cache);
        x->flushes++;
        tb = bt_translate(x->bt, eip, eip, TB_NO_FRAME2, 0, code, 0, avail);
        if (!tb) {
            snprintf(err, errlen, "bt_translate failed at %#x on an empty cache", eip);
            return -1;
        }
    }
    out->guest_len = tb->guest_len;
    out->ninsn = tb->ninsn;
    out->host_len = tb->host_len;
    return 0;
}

void xa_capstone_only(struct xa *x)
{
    decoder_use_fast(x->dec, false);
}

unsigned xa_decode(struct xa *x, uint32_t eip, const uint8_t *code, size_t avail)
{
    struct insn in;
    int r = decode_insn(x->dec, code, avail, eip, &in);
    return r == 0 ? in.len : 0;
}

void xa_empty(struct xa *x)
{
    cache_flush(x->cache);
    x->flushes = 0;
}

unsigned xa_flushes(const struct xa *x)
{
    return x->flushes;
}
