/* arena — block metadata (struct tb, side tables, callout sites).
 *
 * Everything in it lives exactly as long as the code it describes: until the
 * next flush. So a bump pointer is the whole allocator, a flush frees it all
 * at once, and nothing is freed one by one. Failing (NULL) is the signal to
 * flush, the same as running out of code space. */
#include "cache/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int arena_init(struct code_cache *c, size_t size, char *err, size_t errlen)
{
    size = align_up(size ? size : 1, (size_t)sysconf(_SC_PAGESIZE));
    c->meta = cache_map_anon(size);
    if (!c->meta) {
        snprintf(err, errlen, "code cache: metadata arena of %zu bytes: %s", size, strerror(errno));
        return -1;
    }
    c->meta_size = size;
    c->meta_used = 0;
    return 0;
}

void arena_fini(struct code_cache *c)
{
    cache_unmap(c->meta, c->meta_size);
}

void arena_reset(struct code_cache *c)
{
    c->meta_used = 0;
}

void *cache_meta_alloc(struct code_cache *c, size_t size)
{
    size = align_up(size ? size : 1, CACHE_ALIGN);
    if (size < CACHE_ALIGN || size > c->meta_size - c->meta_used)   /* first test: overflow */
        return NULL;
    void *p = c->meta + c->meta_used;
    c->meta_used += size;
    /* Reused after a flush, so not zero any more. */
    memset(p, 0, size);
    return p;
}

struct tb *cache_new_tb(struct code_cache *c)
{
    return cache_meta_alloc(c, sizeof(struct tb));
}
