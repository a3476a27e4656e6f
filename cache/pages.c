/* pages — which blocks hold bytes of which guest physical page.
 *
 * A write to a write-protected code page must find that page's blocks
 * (DESIGN §3, self-modifying code). A block covers at most two pages — its
 * first frame and, when it crosses the page end, tb->frame2, which with
 * paging on may be any frame — so it carries one list link per page:
 * tb->pnext for the bucket of its first frame, tb->pnext2 for the bucket
 * of its second. No nodes to allocate, so insertion cannot fail and
 * invalidation is safe in a signal handler.
 *
 * Bucket = frame number mod 2^PAGE_BITS. When both frames fall in one
 * bucket the block is listed there once, through pnext; otherwise a walker
 * of a bucket knows which link to follow from the bucket of the block's
 * first frame. Frames 256 MiB apart share a bucket; walkers filter by
 * address. Only valid blocks are listed. */
#include "cache/internal.h"

#include <stdlib.h>
#include <string.h>

#define NBUCKETS ((size_t)1 << PAGE_BITS)

static uint32_t first_frame(const struct tb *tb)
{
    return tb->phys >> GPAGE_SHIFT;
}

static size_t bucket(uint32_t frame)
{
    return frame & (NBUCKETS - 1);
}

/* The buckets tb is listed in: 1 or 2, first frame's first. */
static int buckets_of(const struct tb *tb, size_t b[2])
{
    b[0] = bucket(first_frame(tb));
    if (tb->frame2 == TB_NO_FRAME2 || bucket(tb->frame2) == b[0])
        return 1;
    b[1] = bucket(tb->frame2);
    return 2;
}

/* The link that continues bucket b's list after tb. */
static struct tb **link_in(struct tb *tb, size_t b)
{
    return bucket(first_frame(tb)) == b ? &tb->pnext : &tb->pnext2;
}

int pages_init(struct code_cache *c)
{
    c->pages = calloc(NBUCKETS, sizeof *c->pages);
    return c->pages ? 0 : -1;
}

void pages_fini(struct code_cache *c)
{
    free(c->pages);
}

void pages_reset(struct code_cache *c)
{
    memset(c->pages, 0, NBUCKETS * sizeof *c->pages);
}

void pages_add(struct code_cache *c, struct tb *tb)
{
    size_t b[2];
    for (int i = 0, n = buckets_of(tb, b); i < n; i++) {
        *link_in(tb, b[i]) = c->pages[b[i]];
        c->pages[b[i]] = tb;
    }
}

void pages_remove(struct code_cache *c, struct tb *tb)
{
    size_t b[2];
    for (int i = 0, n = buckets_of(tb, b); i < n; i++) {
        for (struct tb **pp = &c->pages[b[i]]; *pp; pp = link_in(*pp, b[i])) {
            if (*pp == tb) {
                *pp = *link_in(tb, b[i]);
                *link_in(tb, b[i]) = NULL;
                break;
            }
        }
    }
}

/* Invalidate the blocks of bucket b that overlap [lo, hi). Reading the next
 * link before invalidating is safe: invalidation unlinks only tb from this
 * bucket, and in its other bucket it touches only that bucket's links. */
static unsigned invalidate_bucket(struct code_cache *c, size_t b, uint64_t lo, uint64_t hi)
{
    unsigned n = 0;
    for (struct tb *tb = c->pages[b], *next; tb; tb = next) {
        next = *link_in(tb, b);
        if (tb->valid && tb_overlaps(tb, lo, hi)) {
            cache_invalidate(c, tb);
            n++;
        }
    }
    return n;
}

unsigned cache_invalidate_phys(struct code_cache *c, uint32_t phys, uint32_t len)
{
    if (len == 0)
        return 0;
    uint64_t lo = phys, hi = (uint64_t)phys + len;
    uint64_t f0 = lo >> GPAGE_SHIFT, f1 = (hi - 1) >> GPAGE_SHIFT;
    unsigned n = 0;
    if (f1 - f0 + 1 >= NBUCKETS) {        /* a huge range: every bucket, once */
        for (size_t b = 0; b < NBUCKETS; b++)
            n += invalidate_bucket(c, b, lo, hi);
    } else {
        for (uint64_t f = f0; f <= f1; f++)
            n += invalidate_bucket(c, bucket((uint32_t)f), lo, hi);
    }
    return n;
}

void cache_for_page(struct code_cache *c, uint32_t page, void (*fn)(struct tb *, void *), void *arg)
{
    uint64_t lo = (uint64_t)page << GPAGE_SHIFT, hi = lo + (1u << GPAGE_SHIFT);
    size_t b = bucket(page);
    for (struct tb *tb = c->pages[b], *next; tb; tb = next) {
        next = *link_in(tb, b);
        if (tb->valid && tb_overlaps(tb, lo, hi))
            fn(tb, arg);
    }
}
