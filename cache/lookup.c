/* lookup — finding blocks by key, and taking invalidated ones back.
 *
 * The key is (guest physical address, guest linear EIP, mode bits): the
 * physical address makes a translation shareable across address spaces that
 * map the same code, the EIP is in it because translated code embeds linear
 * addresses (return addresses, relative branch targets), and the mode bits
 * capture everything else translation depended on (DESIGN §3).
 *
 * Two chained hash tables share tb->hnext, since a block is in at most one:
 * `live` holds valid blocks; `stale` holds invalidated ones until their guest
 * bytes are rehashed (cache_revalidate). A write next to code, not to it, is
 * common in kernels (data and code share pages), and rehashing a block is far
 * cheaper than translating it again. */
#include "cache/internal.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static size_t key_hash(uint32_t phys, uint32_t eip, uint32_t mode, unsigned bits)
{
    uint64_t k = ((uint64_t)phys << 32 | eip) ^ ((uint64_t)mode * 0xc2b2ae3d27d4eb4fULL);
    /* Fibonacci hashing: the top bits of the product mix every input bit. */
    return (size_t)((k * 0x9e3779b97f4a7c15ULL) >> (64 - bits));
}

static bool key_eq(const struct tb *tb, uint32_t phys, uint32_t eip, uint32_t mode)
{
    return tb->phys == phys && tb->eip == eip && tb->mode == mode;
}

static bool chain_unlink(struct tb **head, struct tb *tb)
{
    for (struct tb **pp = head; *pp; pp = &(*pp)->hnext) {
        if (*pp == tb) {
            *pp = tb->hnext;
            tb->hnext = NULL;
            return true;
        }
    }
    return false;
}

static struct tb **live_head(struct code_cache *c, uint32_t phys, uint32_t eip, uint32_t mode)
{
    return &c->live[key_hash(phys, eip, mode & ~c->variant_bits, KEY_BITS)];
}

static struct tb **stale_head(struct code_cache *c, uint32_t phys, uint32_t eip, uint32_t mode)
{
    return &c->stale[key_hash(phys, eip, mode & ~c->variant_bits, STALE_BITS)];
}

void cache_set_variant_bits(struct code_cache *c, uint32_t bits)
{
    c->variant_bits = bits;
}

int lookup_init(struct code_cache *c)
{
    c->live = calloc((size_t)1 << KEY_BITS, sizeof *c->live);
    c->stale = calloc((size_t)1 << STALE_BITS, sizeof *c->stale);
    return c->live && c->stale ? 0 : -1;
}

void lookup_fini(struct code_cache *c)
{
    free(c->live);
    free(c->stale);
}

void lookup_reset(struct code_cache *c)
{
    memset(c->live, 0, ((size_t)1 << KEY_BITS) * sizeof *c->live);
    memset(c->stale, 0, ((size_t)1 << STALE_BITS) * sizeof *c->stale);
}

/* A new translation supersedes any invalidated block with its key: the new
 * one was made from the current bytes, so the old one could only match a
 * later write that happens to restore the old bytes. This keeps at most one
 * stale block per key and the stale table from filling with dead blocks. */
void lookup_add(struct code_cache *c, struct tb *tb)
{
    struct tb **sh = stale_head(c, tb->phys, tb->eip, tb->mode);
    for (struct tb **pp = sh; *pp;) {
        struct tb *s = *pp;
        if (key_eq(s, tb->phys, tb->eip, tb->mode)) {
            *pp = s->hnext;
            s->hnext = NULL;
        } else {
            pp = &s->hnext;
        }
    }
    struct tb **h = live_head(c, tb->phys, tb->eip, tb->mode);
    tb->hnext = *h;
    *h = tb;
}

void lookup_remove(struct code_cache *c, struct tb *tb)
{
    chain_unlink(live_head(c, tb->phys, tb->eip, tb->mode), tb);
    struct tb **sh = stale_head(c, tb->phys, tb->eip, tb->mode);
    tb->hnext = *sh;
    *sh = tb;
}

void cache_rekey(struct code_cache *c, struct tb *tb, uint32_t mode)
{
    chain_unlink(live_head(c, tb->phys, tb->eip, tb->mode), tb);
    tb->mode = mode;
    lookup_add(c, tb);
}

struct tb *cache_lookup(struct code_cache *c, uint32_t phys, uint32_t eip, uint32_t mode)
{
    for (struct tb *tb = *live_head(c, phys, eip, mode); tb; tb = tb->hnext)
        if (key_eq(tb, phys, eip, mode))
            return tb;
    return NULL;
}

struct tb *cache_lookup_stale(struct code_cache *c, uint32_t phys, uint32_t eip, uint32_t mode)
{
    for (struct tb *tb = *stale_head(c, phys, eip, mode); tb; tb = tb->hnext)
        if (key_eq(tb, phys, eip, mode))
            return tb;
    return NULL;
}

/* modes[0..n) differ only in variant_bits, so they share one chain. */
struct tb *cache_lookup_any(struct code_cache *c, uint32_t phys, uint32_t eip,
                            const uint32_t *modes, int n, bool stale)
{
    struct tb *head = stale ? *stale_head(c, phys, eip, modes[0]) : *live_head(c, phys, eip, modes[0]);

    for (struct tb *tb = head; tb; tb = tb->hnext)
        for (int k = 0; k < n; k++)
            if (key_eq(tb, phys, eip, modes[k]))
                return tb;
    return NULL;
}

uint64_t cache_hash_guest(const void *bytes, size_t len)
{
    return XXH3_64bits(bytes, len);
}

bool cache_revalidate(struct code_cache *c, struct tb *tb, const void *guest)
{
    if (tb->valid)
        return true;
    /* Only a block still in the stale table may come back: one that was
     * superseded or failed a check before has a successor, or none is due. */
    if (!chain_unlink(stale_head(c, tb->phys, tb->eip, tb->mode), tb))
        return false;
    if (!guest || cache_hash_guest((const uint8_t *)guest - tb->below, tb->below + tb->guest_len) != tb->hash)
        return false;
    tb->valid = true;
    struct tb **h = live_head(c, tb->phys, tb->eip, tb->mode);
    tb->hnext = *h;
    *h = tb;
    pages_add(c, tb);
    c->st.live_blocks++;
    c->st.revalidations++;
    return true;
}
