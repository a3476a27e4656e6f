/* cache — life cycle of the code cache and of its blocks.
 *
 * A block is born in the arena (cache_new_tb), gets code (cache_begin/
 * cache_commit), becomes findable (cache_insert: by key, by host address, by
 * physical page), may be invalidated (unfindable by key and page, unchained,
 * parked for revalidation, code left in place) and dies with everything else
 * at the next flush. The other files each own one index; this one keeps them
 * in step. */
#define _GNU_SOURCE
#include "cache/internal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void *cache_map_anon(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void cache_unmap(void *p, size_t size)
{
    if (p)
        munmap(p, size);
}

struct code_cache *cache_create(size_t code_size, size_t meta_size, char *err, size_t errlen)
{
    char scratch[1];
    if (!err) {
        err = scratch;
        errlen = sizeof scratch;
    }
    struct code_cache *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "code cache: out of memory");
        return NULL;
    }
    if (codemem_init(c, code_size, err, errlen) < 0 ||
        arena_init(c, meta_size, err, errlen) < 0) {
        cache_destroy(c);
        return NULL;
    }
    if (lookup_init(c) < 0 || hostmap_init(c) < 0 || pages_init(c) < 0) {
        snprintf(err, errlen, "code cache: out of memory for its tables");
        cache_destroy(c);
        return NULL;
    }
    c->epoch = 1;
    return c;
}

void cache_destroy(struct code_cache *c)
{
    if (!c)
        return;
    pages_fini(c);
    hostmap_fini(c);
    lookup_fini(c);
    arena_fini(c);
    codemem_fini(c);
    free(c);
}

void cache_insert(struct code_cache *c, struct tb *tb)
{
    assert(tb->host >= c->rx && tb->host < c->rx + c->cur);
    /* The page index has two links per block (pages.c). */
    assert((((uint64_t)tb->phys + (tb->guest_len ? tb->guest_len : 1) - 1) >> 12) -
           (tb->phys >> 12) <= 1);
    if (tb->host_len == 0)
        tb->host_len = (uint32_t)(c->rx + c->cur - tb->host);
    if (!tb_crosses(tb))
        tb->frame2 = TB_NO_FRAME2;
    else if (tb->frame2 == TB_NO_FRAME2)
        tb->frame2 = (tb->phys >> 12) + 1;
    tb->valid = true;
    for (int i = 0; i < TB_MAX_EXITS; i++)
        tb->exit[i].from = tb;
    lookup_add(c, tb);
    pages_add(c, tb);
    hostmap_add(c, tb);
    codemem_close_block(c);
    c->st.blocks++;
    c->st.live_blocks++;
}

void cache_invalidate(struct code_cache *c, struct tb *tb)
{
    if (!tb->valid)
        return;
    tb->valid = false;
    lookup_remove(c, tb);
    pages_remove(c, tb);
    chain_unlink_all(c, tb);
    c->st.invalidations++;
    c->st.live_blocks--;
}

void cache_flush(struct code_cache *c)
{
    /* The host-address index first: a signal handler must never see blocks
     * whose memory is about to be reused. */
    hostmap_reset(c);
    lookup_reset(c);
    pages_reset(c);
    arena_reset(c);
    codemem_reset(c);
    c->epoch++;
    c->st.flushes++;
    c->st.live_blocks = 0;
}

uint64_t cache_epoch(const struct code_cache *c)
{
    return c->epoch;
}

void cache_get_stats(const struct code_cache *c, struct cache_stats *s)
{
    *s = c->st;
    s->code_bytes = c->cur;
    s->meta_bytes = c->meta_used;
}
