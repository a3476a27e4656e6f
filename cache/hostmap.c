/* hostmap — from a host PC back to its block and guest instruction.
 *
 * The SIGSEGV handler needs this, so it must not allocate or lock. Blocks are
 * laid out in increasing host address in the order they are inserted, so an
 * array of them in insertion order is already sorted and a binary search
 * finds the block: no tree, no per-block bookkeeping. The array is mapped at
 * its worst-case size (every block takes at least 16 bytes of code) and only
 * the used part is ever touched.
 *
 * Blocks stay in the array when invalidated, because their code stays in
 * place and may still be running; a flush empties it. An insert writes the
 * new last entry before publishing the count, so a handler that interrupts
 * it sees either the old array or the new one. */
#include "cache/internal.h"

#include <string.h>

int hostmap_init(struct code_cache *c)
{
    c->order_cap = c->size / CACHE_ALIGN + 1;
    c->order = cache_map_anon(c->order_cap * sizeof *c->order);
    atomic_init(&c->norder, 0);
    return c->order ? 0 : -1;
}

void hostmap_fini(struct code_cache *c)
{
    cache_unmap(c->order, c->order_cap * sizeof *c->order);
}

void hostmap_reset(struct code_cache *c)
{
    atomic_store_explicit(&c->norder, 0, memory_order_release);
}

/* Index of the last block whose host start is <= p, or -1. */
static ptrdiff_t last_at_or_below(struct tb *const *v, size_t n, const uint8_t *p)
{
    size_t lo = 0, hi = n;           /* answer is lo - 1 when the loop ends */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid]->host <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ptrdiff_t)lo - 1;
}

void hostmap_add(struct code_cache *c, struct tb *tb)
{
    size_t n = atomic_load_explicit(&c->norder, memory_order_relaxed);
    if (tb->host_len == 0 || n == c->order_cap)   /* no code, nothing to find */
        return;
    /* Always the end unless a translator inserted out of emission order;
     * stay correct then too. */
    size_t at = (size_t)(last_at_or_below(c->order, n, tb->host) + 1);
    memmove(&c->order[at + 1], &c->order[at], (n - at) * sizeof *c->order);
    c->order[at] = tb;
    atomic_store_explicit(&c->norder, n + 1, memory_order_release);
}

struct tb *cache_find_by_host(struct code_cache *c, const void *host_pc)
{
    const uint8_t *p = host_pc;
    if (p < c->rx || p >= c->rx + c->size)
        return NULL;
    size_t n = atomic_load_explicit(&c->norder, memory_order_acquire);
    ptrdiff_t i = last_at_or_below(c->order, n, p);
    if (i < 0)
        return NULL;
    struct tb *tb = c->order[i];
    return p < tb->host + tb->host_len ? tb : NULL;
}

const struct tb_pcmap *tb_pc_lookup(const struct tb *tb, const void *host_pc)
{
    const uint8_t *p = host_pc;
    if (p < tb->host || p >= tb->host + tb->host_len)
        return NULL;
    uint32_t off = (uint32_t)(p - tb->host);
    size_t lo = 0, hi = tb->npcmap;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tb->pcmap[mid].host_off <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? &tb->pcmap[lo - 1] : NULL;
}
