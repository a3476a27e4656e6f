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
 * keeps the list of exits chained into it, so invalidating it unlinks them.
 *
 * All code — blocks and the runtime area (cache_alloc_runtime) — lies in one
 * mapping of at most 2 GiB, so any rel32 between two of its bytes reaches.
 * One thread owns a cache; nothing here locks. */
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
    uint32_t ic_off;       /* indirect site: offset of the imm32 holding -(cached target EIP), 1 - it at a RET;
                              0 for a direct exit */
    /* An indirect site's first way (the exit its miss path names) also
     * holds the site: its number of ways (consecutive exits), how often it
     * sent a jump-cache hit to the dispatcher to learn a way, and the rel8
     * of that jump and where it goes once the site stops learning
     * (bt/xlate_icache.c). */
    uint8_t ic_ways, ic_learns;
    uint32_t ic_learn_off, ic_go_off;
};

/* Side table row: from host offset host_off up to the next row, the host
 * code belongs to the guest instruction at guest_off, in the state that
 * flags describe. An instruction may have several rows: the state changes
 * (e.g. a register is borrowed) at host instructions inside it. The flags
 * are the translator's (bt/sidetable.h); the cache only stores them. */
struct tb_pcmap {
    uint32_t host_off;
    int16_t guest_off;     /* from tb->eip; negative in a callee inlined from below
                              the block's first byte (bt/xlate_inline.c) */
    uint16_t flags;        /* the translator's state word */
};

/* Exits per block: a plain block has at most two (a Jcc's taken and
 * fall-through exits); a superblock continues past up to four Jccs, each
 * leaving one taken exit behind (bt/xlate_block.c); an indirect site has
 * one exit per way of its inline cache (up to 4), an indirect CALL through
 * the shadow return stack one more for its landing pad. */
#define TB_MAX_EXITS 9

struct tb {
    uint32_t eip;          /* guest linear address of the first instruction */
    uint32_t phys;         /* guest physical address of the first byte */
    uint32_t mode;         /* mode bits at translation (CPL, paging, segment bases...) */
    uint32_t guest_len;    /* guest bytes covered from the first one on */
    /* Bytes covered below the first one, on the same page: a translation
     * that inlined a callee lying before the block (bt/xlate_inline.c)
     * covers [phys - below, phys + guest_len), never crossing a page. */
    uint16_t below;
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
    struct tb *pnext2;         /* second page's list, for a block spanning two (cache private) */
    /* The frame (gpa >> 12) holding the bytes past the first page, for a
     * block that crosses one; TB_NO_FRAME2 otherwise. With paging on it
     * need not be the next frame (QEMU's TB page_addr[1]). Whoever fills
     * the block sets it before cache_insert; TB_NO_FRAME2 on a crossing
     * block means the physically next frame. */
    uint32_t frame2;
    /* Bit s (SEG_* order: ES CS SS DS FS GS) for each segment whose base the
     * translation folded in; what else the block's code depends on is in
     * its mode. Set by the translator. */
    uint8_t seg_bases_read;
};
#define TB_NO_FRAME2 0xffffffffu

/* Does the block run past the end of its first page? */
static inline bool tb_crosses(const struct tb *tb)
{
    return (tb->phys & 4095) + tb->guest_len > 4096;
}

/* Do the block's guest bytes overlap physical [lo, hi)? The first part runs
 * from tb->phys to the page end, the rest from the start of frame2 (valid
 * once the block is inserted). */
static inline bool tb_overlaps(const struct tb *tb, uint64_t lo, uint64_t hi)
{
    uint64_t len = tb->below + (tb->guest_len ? tb->guest_len : 1), a = tb->phys - tb->below;
    uint64_t first = tb->frame2 == TB_NO_FRAME2 ? len : 4096 - (a & 4095);

    if (a < hi && lo < a + first)
        return true;
    if (tb->frame2 == TB_NO_FRAME2)
        return false;
    a = (uint64_t)tb->frame2 << 12;
    return a < hi && lo < a + (len - first);
}

/* Counters are totals since cache_create; *_bytes and live_blocks are the
 * current occupancy. */
/* The code cache's counters, each with its --stats description. */
#define CACHE_STATS(X)                                                               \
    X(blocks,        "blocks added to the cache")                                    \
    X(code_bytes,    "code cache bytes in use")                                      \
    X(meta_bytes,    "metadata arena bytes in use")                                  \
    X(flushes,       "code cache flushes")                                           \
    X(chains,        "exits chained to their target block")                          \
    X(unchains,      "chained exits undone (target invalidated)")                    \
    X(invalidations, "blocks invalidated")                                           \
    X(live_blocks,   "valid blocks now")                                             \
    X(runtime_bytes, "runtime trampoline bytes")                                     \
    X(revalidations, "invalidated blocks brought back: their bytes had not changed")

struct cache_stats {
#define X(name, desc) uint64_t name;
    CACHE_STATS(X)
#undef X
};

struct code_cache;

/* size: bytes of host code space (at most 2 GiB), meta_size: bytes of the
 * metadata arena; both rounded up to pages. NULL (and a message in err) on
 * failure. */
struct code_cache *cache_create(size_t code_size, size_t meta_size, char *err, size_t errlen);
void cache_destroy(struct code_cache *c);

/* Emission. cache_begin gives the RW and RX addresses of the free space and
 * how much is left; after writing n bytes at rw, cache_commit(n) makes them
 * part of the block being built. If the space or metadata runs out the
 * translator calls cache_flush and starts again.
 *
 * A block may be committed in several pieces (they are contiguous); it ends
 * at cache_insert, which pads the code area to the next 16-byte boundary
 * with int3, so the rx of the first cache_begin after an insert or a flush
 * is 16-byte aligned: use it as tb->host. Insert each block before emitting
 * the next one (the host-address index relies on that order). */
void cache_begin(struct code_cache *c, uint8_t **rw, uint8_t **rx, size_t *avail);
void cache_commit(struct code_cache *c, size_t n);
/* RW address for an RX address inside the cache (for patching); NULL if rx
 * is not in the code area. */
uint8_t *cache_rw(struct code_cache *c, const void *rx);

/* Runtime code (trampolines, callout stubs, the indirect-branch lookup):
 * size bytes of RX memory, 16-aligned and filled with int3, that survive
 * cache_flush and are never handed out again. *rw (if rw is not NULL) gets
 * the RW view of it. Taken from the top of the code area, so it can be
 * called at any time, before or after blocks exist, and is in rel32 reach of
 * every block. NULL if the free space is smaller than size (flush first). */
void *cache_alloc_runtime(struct code_cache *c, size_t size, uint8_t **rw);

/* Metadata arena (tb, pcmap, callout sites): zeroed, 16-aligned; NULL when
 * full (then flush). Lives until the next flush. */
void *cache_meta_alloc(struct code_cache *c, size_t size);
struct tb *cache_new_tb(struct code_cache *c);   /* zeroed tb from the arena */

/* Make tb findable (after its code is committed) and close the block. The
 * translator fills eip, phys, mode, guest_len (contiguous physical bytes on
 * at most two pages), hash, host (and host_len, else it is taken as every
 * byte committed from host on), the exits' offsets and pcmap. cache_insert
 * sets valid and each exit's `from`. */
void cache_insert(struct code_cache *c, struct tb *tb);
struct tb *cache_lookup(struct code_cache *c, uint32_t phys, uint32_t eip, uint32_t mode);
/* Mode bits that tell variants of one translation apart (bt: the segment
 * bases): left out of the hash, so that cache_lookup_any finds any of
 * modes[0..n), which differ only in those bits, in one chain; stale: in
 * the invalidated blocks instead. Set before the first block is inserted. */
void cache_set_variant_bits(struct code_cache *c, uint32_t bits);
struct tb *cache_lookup_any(struct code_cache *c, uint32_t phys, uint32_t eip,
                            const uint32_t *modes, int n, bool stale);
/* File a live block, just inserted, under another mode: its code depends on
 * less than the mode it was translated in (the caller's policy). */
void cache_rekey(struct code_cache *c, struct tb *tb, uint32_t mode);
/* The block whose host code contains host_pc, or NULL. Async-signal-safe (no
 * allocation, no locks). An invalidated block's code stays in place until
 * the next flush, and it may still be running (a write to its own page
 * invalidates it mid-block), so such a block IS returned, with valid false:
 * its pcmap is still right; the caller must not re-enter or chain it. */
struct tb *cache_find_by_host(struct code_cache *c, const void *host_pc);
/* Guest offset (from tb->eip) and flags of the instruction containing
 * host_pc: the last row with host_off <= host_pc - tb->host; NULL if host_pc
 * is outside the block or before the first row. */
const struct tb_pcmap *tb_pc_lookup(const struct tb *tb, const void *host_pc);

/* Patch exit e of its block to jump straight to `to`. Does nothing unless
 * both blocks are valid and e->patch_off != 0 (check e->to == to to see
 * whether it chained); an exit already chained elsewhere is unchained first.
 * The rel32 must be the last 4 bytes of the jump instruction. */
void cache_chain(struct code_cache *c, struct tb_exit *e, struct tb *to);
/* Undo cache_chain: the exit jumps to its stub again. No-op if unchained. */
void cache_unchain(struct code_cache *c, struct tb_exit *e);
/* Invalidate one block: unlink its incoming and outgoing chains, drop it from
 * lookup. Its code stays in place until the next flush. Neither this nor
 * cache_invalidate_phys allocates or locks, so the SIGSEGV handler may call
 * them for a write fault raised by translated code. */
void cache_invalidate(struct code_cache *c, struct tb *tb);
/* Invalidate every block with guest bytes in [phys, phys+len). Returns how many. */
unsigned cache_invalidate_phys(struct code_cache *c, uint32_t phys, uint32_t len);
/* Callback for each valid block with bytes on the 4 KiB physical page whose
 * frame number (physical address >> 12) is `page`. fn may invalidate the
 * block it is given, and no other. */
void cache_for_page(struct code_cache *c, uint32_t page, void (*fn)(struct tb *, void *), void *arg);

/* Self-modifying code (DESIGN §3): a write to a code page invalidates its
 * blocks, but if the guest bytes turn out unchanged the old translation is
 * taken back instead of translating again:
 *
 *     tb = cache_lookup(c, phys, eip, mode);
 *     if (!tb && (tb = cache_lookup_stale(c, phys, eip, mode)) &&
 *         !cache_revalidate(c, tb, guest_ptr(tb->phys, tb->guest_len)))
 *         tb = NULL;
 *     if (!tb) ...translate, with tb->hash = cache_hash_guest(bytes, len)...
 *
 * cache_hash_guest is the hash for tb->hash (XXH3-64). cache_lookup_stale
 * finds the invalidated block with that key (there is at most one: inserting
 * a new block with the same key drops it). cache_revalidate hashes tb's
 * guest bytes (guest points at the bytes of guest physical memory at
 * tb->phys, readable from guest - tb->below to guest + tb->guest_len; NULL
 * counts as changed): if they match tb->hash the block is
 * valid and findable again (unchained; chain it anew), otherwise it is
 * dropped for good. Returns whether the block is valid. */
uint64_t cache_hash_guest(const void *bytes, size_t len);
struct tb *cache_lookup_stale(struct code_cache *c, uint32_t phys, uint32_t eip, uint32_t mode);
bool cache_revalidate(struct code_cache *c, struct tb *tb, const void *guest);

/* Drop every block and all metadata; the runtime area stays. The caller
 * must also clear every jump cache and inline lookup table. */
void cache_flush(struct code_cache *c);
/* Bumped on every flush: a holder of a struct tb * from an older epoch must drop it. */
uint64_t cache_epoch(const struct code_cache *c);

void cache_get_stats(const struct code_cache *c, struct cache_stats *s);
