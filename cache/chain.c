/* chain — patching direct exits between blocks, and undoing it.
 *
 * Every chainable exit is a `jmp rel32` or `jcc rel32` whose rel32 is its last
 * four bytes. Unchained, it points at the block's own stub (which returns to
 * the dispatcher with the target EIP); chained, straight at the target block.
 * Invariant: e->to == NULL exactly when the rel32 points at the stub, and a
 * chained exit is on e->to->incoming — so a block being invalidated can find
 * and re-aim every jump into it, and revalidated blocks start unchained.
 *
 * The rel32 is written through the RW view; the next fetch through the RX view
 * sees it (x86 snoops stores by physical address). Only one thread runs a
 * cache, so the store need not be atomic against concurrent execution. */
#include "cache/internal.h"

#include <string.h>

static void write_rel32(struct code_cache *c, const struct tb_exit *e, const uint8_t *target)
{
    const uint8_t *field = e->from->host + e->patch_off;
    int32_t rel = (int32_t)(target - (field + 4));   /* in range: one mapping of <= 2 GiB */
    memcpy(cache_rw(c, field), &rel, sizeof rel);
}

void cache_unchain(struct code_cache *c, struct tb_exit *e)
{
    struct tb *to = e->to;
    if (!to)
        return;
    for (struct tb_exit **pp = &to->incoming; *pp; pp = &(*pp)->next_in) {
        if (*pp == e) {
            *pp = e->next_in;
            break;
        }
    }
    e->next_in = NULL;
    e->to = NULL;
    write_rel32(c, e, e->from->host + e->stub_off);
    c->st.unchains++;
}

void cache_chain(struct code_cache *c, struct tb_exit *e, struct tb *to)
{
    if (!e || !to || !e->from || e->patch_off == 0 || !e->from->valid || !to->valid)
        return;
    if (e->to == to)
        return;
    cache_unchain(c, e);
    write_rel32(c, e, to->host);
    e->to = to;
    e->next_in = to->incoming;
    to->incoming = e;
    c->st.chains++;
}

void chain_unlink_all(struct code_cache *c, struct tb *tb)
{
    while (tb->incoming)
        cache_unchain(c, tb->incoming);
    for (int i = 0; i < TB_MAX_EXITS; i++)
        cache_unchain(c, &tb->exit[i]);
}
