/* jcache — the per-vCPU jump caches: guest linear EIP -> host code of a
 * block, read by the dispatcher and by the inline lookup of indirect
 * branches in translated code (bt/abi.h, struct bt_jcache_entry).
 *
 * There are JC_SLOTS, one per block mode in use, least recently selected
 * first to go (README "Modes and jump caches"): a kernel runs in a few
 * modes per process (Linux: ring 0 with the user's segments, ring 0 with
 * its own per-CPU FS base, ring 3), and switching between them must not
 * empty a cache; cpu->jcache points at the one of the current mode. Only the dispatcher
 * fills entries, so each cache logs the indexes it filled since its last
 * flush: a flush (CR3 write, paging on/off, a mode switch of the outer
 * slot) clears just those, and costs what the guest ran since, not the
 * 1 MiB of the whole table (DESIGN §3: "flushed when the linear->physical
 * mapping changes"). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "bt/abi.h"

#define JC_LOG 2048     /* logged fills; more and a flush clears the whole table */
#define JC_SLOTS 8

struct vcpu;

struct jcache {
    struct bt_jcache_entry *e;      /* BT_JCACHE_SIZE entries, or NULL (not allocated) */
    uint32_t mode;                  /* block mode it serves; ~0u: none yet */
    uint32_t nlog;                  /* fills since the last flush (may exceed JC_LOG) */
    uint32_t nglog;                 /* the same for entries on global pages */
    uint8_t *flags;                 /* per entry: JC_F_* (jcache.c) */
    uint64_t used;                  /* when last selected (LRU) */
    uint16_t log[JC_LOG];           /* indexes filled, non-global ... */
    uint16_t glog[JC_LOG];          /* ... and global: a CR3 write clears only the first */
};

/* Allocate slot 0 (the others on first use). false: out of memory. */
bool jc_init(struct vcpu *v);
void jc_fini(struct vcpu *v);
/* The dispatcher reached block `host` at eip: remember it in the current
 * cache; `global`: the block's bytes are on global pages. */
void jc_fill(struct vcpu *v, uint32_t eip, const void *host, bool global);
/* Empty every cache (cheap when few entries were filled). */
void jc_flush_all(struct vcpu *v);
/* A CR3 write: empty every cache but for the entries on global pages, whose
 * translations a CR3 write leaves in the TLB (SDM vol. 3A §4.10.2.4). */
void jc_flush_nonglobal(struct vcpu *v);
/* INVLPG: drop the entries whose EIP lies on linear page `page` (lin >> 12). */
void jc_flush_page(struct vcpu *v, uint32_t page);
/* A block was invalidated: drop entries pointing at its host code.
 * Async-signal-safe. */
void jc_drop(struct vcpu *v, uint32_t eip, const void *host);
/* Make cpu->jcache the cache of block mode `mode`: the slot that serves it,
 * else the least recently selected one, emptied.
 * false: out of memory (the run was stopped). */
bool jc_select(struct vcpu *v, uint32_t mode);
/* jc_select's end: make slot k, allocated and already serving the mode
 * wanted, the current one (a slot's mode is unique among the slots). */
void jc_use(struct vcpu *v, int k);
/* Paging was turned on or off: every entry is stale. */
void jc_reset_modes(struct vcpu *v);
