/* cache/internal.h — state shared by the cache's own files; not for users.
 *
 * Layout of the code area (one memfd, two views of the same pages):
 *
 *   0                cur                         rt_low            size
 *   | blocks ...     | free                        | runtime code    |
 *   +----------------+-----------------------------+-----------------+
 *      grows up, reset by flush                      grows down, kept
 *
 * Offsets are the same in both views: rx + off executes, rw + off writes. */
#pragma once
#include "cache/cache.h"
#include <stdatomic.h>

#define CACHE_ALIGN 16u
#define KEY_BITS    16           /* live blocks by key: 64K buckets */
#define STALE_BITS  12           /* invalidated blocks kept for revalidation */
#define PAGE_BITS   16           /* blocks by physical page */
#define GPAGE_SHIFT 12

struct code_cache {
    /* codemem.c */
    uint8_t *rw, *rx;            /* the two views */
    size_t size;                 /* bytes in each view */
    size_t cur;                  /* next free byte for blocks */
    size_t rt_low;               /* runtime area is [rt_low, size) */

    /* arena.c */
    uint8_t *meta;
    size_t meta_size, meta_used;

    /* lookup.c: heads of hash chains linked through tb->hnext; mode bits
     * in variant_bits stay out of the hash (cache_lookup_any) */
    uint32_t variant_bits;
    struct tb **live;
    struct tb **stale;

    /* hostmap.c: blocks in increasing host address, read by signal handlers */
    struct tb **order;
    size_t order_cap;
    atomic_size_t norder;

    /* pages.c: heads of lists linked through tb->pnext / tb->pnext2 */
    struct tb **pages;

    uint64_t epoch;
    struct cache_stats st;
};

int  codemem_init(struct code_cache *c, size_t size, char *err, size_t errlen);
void codemem_fini(struct code_cache *c);
void codemem_close_block(struct code_cache *c);
void codemem_reset(struct code_cache *c);

int  arena_init(struct code_cache *c, size_t size, char *err, size_t errlen);
void arena_fini(struct code_cache *c);
void arena_reset(struct code_cache *c);

int  lookup_init(struct code_cache *c);
void lookup_fini(struct code_cache *c);
void lookup_reset(struct code_cache *c);
void lookup_add(struct code_cache *c, struct tb *tb);
void lookup_remove(struct code_cache *c, struct tb *tb);   /* live -> stale */

int  hostmap_init(struct code_cache *c);
void hostmap_fini(struct code_cache *c);
void hostmap_reset(struct code_cache *c);
void hostmap_add(struct code_cache *c, struct tb *tb);

int  pages_init(struct code_cache *c);
void pages_fini(struct code_cache *c);
void pages_reset(struct code_cache *c);
void pages_add(struct code_cache *c, struct tb *tb);
void pages_remove(struct code_cache *c, struct tb *tb);

/* Unchain everything into and out of tb (chain.c). */
void chain_unlink_all(struct code_cache *c, struct tb *tb);

/* Map a whole anonymous region, or NULL; for tables sized by the caches'
 * limits, only the touched part costs memory. */
void *cache_map_anon(size_t size);
void cache_unmap(void *p, size_t size);

static inline size_t align_up(size_t v, size_t a)
{
    return (v + a - 1) & ~(a - 1);
}
