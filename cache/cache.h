/* cache — the code cache (DESIGN §3).
 *
 * Host code lives in one memfd mapped twice: an RW view that the emitter
 * writes and an RX view that runs (W^X). Block descriptors (struct tb), their
 * side tables and callout sites live in a metadata arena that is reset
 * together with the code on a flush. Blocks are found by key (guest physical
 * address, guest linear EIP, mode bits) in a hash table, by host address
 * (for signals) through their ordered placement in the code area, and by
 * guest physical page (for self-modifying code).
 *
 * Direct exits are `jmp rel32` (or `jcc rel32`) instructions whose rel32
 * field is patched to the target block once it exists (chaining); each block
 * keeps the list of exits chained into it, so invalidating it unlinks them. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tb;

/* One numbered exit slot of a block. */
struct tb_exit {
    struct tb *from;
    uint32_t target_eip;   /* guest linear EIP this exit goes to */
    uint32_t patch_off;    /* host-code offset of the rel32 field to patch; 0 = not chainable */
    uint32_t stub_off;     /* host-code offset the rel32 points at when unchained */
    struct tb *to;         /* block chained to, or NULL */
    struct tb_exit *next_in; /* next exit chained into the same `to` */
};

/* Side table row: the guest instruction that starts at host offset host_off. */
struct tb_pcmap {
    uint32_t host_off;
    uint16_t guest_off;    /* from tb->eip */
    uint16_t flags;        /* TB_PC_* */
};
enum {
    TB_PC_STRING_REBASED = 1, /* RSI/RDI hold host addresses here: truncate to 32 bits */
};

#define TB_MAX_EXITS 2

struct tb {
    uint32_t eip;          /* guest linear address of the first instruction */
    uint32_t phys;         /* guest physical address of the first byte */
    uint32_t mode;         /* mode bits at translation (CPL, paging, segment bases...) */
    uint32_t guest_len;    /* guest bytes covered */
    uint32_t ninsn;        /* guest instructions */
    uint64_t hash;         /* XXH3 of the guest bytes, for SMC revalidation */
    uint8_t *host;         /* RX address of the entry */
    uint32_t host_len;
    bool     valid;
    struct tb_exit exit[TB_MAX_EXITS];
    struct tb_exit *incoming;  /* exits of other blocks chained to this one */
    struct tb_pcmap *pcmap;    /* sorted by host_off */
    uint32_t npcmap;
    struct tb *hnext;          /* key hash chain (cache private) */
    struct tb *pnext;          /* same-physical-page list (cache private) */
    void *user;                /* translator's per-block data */
};

struct cache_stats {
    uint64_t blocks, code_bytes, meta_bytes, flushes, chains, unchains, invalidations;
};

struct code_cache;

/* size: bytes of host code space. NULL (and a message in err) on failure. */
struct code_cache *cache_create(size_t code_size, size_t meta_size, char *err, size_t errlen);
void cache_destroy(struct code_cache *c);

/* Emission. cache_begin gives the RW and RX addresses of the free space and
 * how much is left; after writing n bytes at rw, cache_commit(n) makes them
 * part of the block being built. If the space or metadata runs out the
 * translator calls cache_flush and starts again. */
void cache_begin(struct code_cache *c, uint8_t **rw, uint8_t **rx, size_t *avail);
void cache_commit(struct code_cache *c, size_t n);
/* RW address for an RX address inside the cache (for patching). */
uint8_t *cache_rw(struct code_cache *c, const void *rx);

/* Metadata arena (tb, pcmap, callout sites): zeroed, 16-aligned; NULL when
 * full (then flush). Lives until the next flush. */
void *cache_meta_alloc(struct code_cache *c, size_t size);
struct tb *cache_new_tb(struct code_cache *c);   /* zeroed tb from the arena */

/* Make tb findable (after its code is committed). */
void cache_insert(struct code_cache *c, struct tb *tb);
struct tb *cache_lookup(struct code_cache *c, uint32_t phys, uint32_t eip, uint32_t mode);
/* The valid block whose host code contains host_pc, or NULL. Async-signal-safe. */
struct tb *cache_find_by_host(struct code_cache *c, const void *host_pc);
/* Guest offset (from tb->eip) and flags of the instruction containing host_pc. */
const struct tb_pcmap *tb_pc_lookup(const struct tb *tb, const void *host_pc);

/* Patch exit e of its block to jump straight to `to`. */
void cache_chain(struct code_cache *c, struct tb_exit *e, struct tb *to);
/* Invalidate one block: unlink its incoming and outgoing chains, drop it from
 * lookup. Its code stays in place until the next flush. */
void cache_invalidate(struct code_cache *c, struct tb *tb);
/* Invalidate every block with guest bytes in [phys, phys+len). Returns how many. */
unsigned cache_invalidate_phys(struct code_cache *c, uint32_t phys, uint32_t len);
/* Callback for each valid block with bytes on the 4 KiB physical page. */
void cache_for_page(struct code_cache *c, uint32_t page, void (*fn)(struct tb *, void *), void *arg);
/* Drop everything. The caller must also clear every jump cache. */
void cache_flush(struct code_cache *c);
/* Bumped on every flush: a holder of a struct tb * from an older epoch must drop it. */
uint64_t cache_epoch(const struct code_cache *c);

void cache_get_stats(const struct code_cache *c, struct cache_stats *s);
