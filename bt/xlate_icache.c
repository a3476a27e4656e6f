/* xlate_icache — indirect branch sites (RET, indirect JMP and CALL): a
 * polymorphic inline cache of up to four ways in front of the jump cache.
 *
 * Target EIP in r11d (zero-extended). All of it is flag-free (RCX, a guest
 * register, is parked in r8 and tested with JRCXZ or LOOP):
 *
 *   site:   mov r8, rcx
 *           lea ecx, [r11 + imm32_0]    imm32_w = -(way w's target), 0 while free
 *           jrcxz hit_0
 *           ...                         one compare per way
 *   slow:   jump-cache lookup by the low 16 bits of the EIP
 *           jrcxz miss                  go once the site has learned
 *   miss:   exit to the dispatcher naming the site (its first way's exit)
 *   go:     mov rcx, r8
 *           jmp [r10+8]                 the jump cache's host address
 *   hit_w:  mov rcx, r8
 *           jmp rel32                   patched to way w's block (else: slow)
 *
 * RET sites compare with LOOP instead, so that a hit falls through and a
 * return costs one taken branch (the chained jmp), as a native RET does,
 * instead of two (jrcxz to hit_w, then the jmp):
 *
 *   way_w:  lea ecx, [r11 + imm32_w]    imm32_w = 1 - (way w's target), 0 while free
 *           loop way_w+1 (ECX, 0x67)    ECX - 1 != 0: not this way's target
 *           mov rcx, r8
 *           jmp rel32                   patched to way w's block (else: slow)
 *
 * A hit on way w then costs w + 1 taken branches: right for returns, whose
 * first target (the ways fill in the order targets come) is nearly always
 * the frequent one (calls workload: 1.67x -> 1.47x native), wrong for the
 * many-way jump tables of interpreters (interp: 35% slower with LOOP), which
 * keep JRCXZ. The byte after a way's imm32 (0x67 or JRCXZ) says which.
 *
 * Every way is an exit of the block, so invalidating a way's target unlinks
 * it like any chain (its jump goes back to slow). A way is filled only by
 * the dispatcher, when the site exits through miss: while the site learns,
 * a jump-cache hit is sent there too, so the ways hold the targets that
 * actually come first, not those that happened to miss the jump cache (a
 * return into a recursive function would otherwise keep the one return to
 * its outer caller). Once every way is filled, or after 2 x ways visits
 * (targets that may not be chained: another page with paging on, --no-chain),
 * the jump-cache hit's jrcxz is pointed at go and the site never leaves for
 * a known target again (a jump-cache miss still fills a way freed by its
 * target's invalidation). One-instruction blocks (interrupt shadows, single
 * steps) never stop learning: they always come back to the dispatcher.
 *
 * The block is emitted with the jrcxz aimed at go, the edge the isolation
 * verifier must see, and aimed at miss only after verification: miss sets
 * RCX and R10 itself, so it is safe from the taken edge's state too.
 *
 * Measured with the bench workloads: see the README's design notes. */
#include <string.h>

#include "bt/abi_offsets.h"
#include "bt/xlate.h"

#define IC_MAX_WAYS 4

static int site_ways(const struct xl *xl)
{
    int w = xl->bt->cfg.ic_ways ? xl->bt->cfg.ic_ways : IC_MAX_WAYS;

    if (w > IC_MAX_WAYS)
        w = IC_MAX_WAYS;
    /* One exit stays free for the shadow return stack's landing pad after
     * an indirect CALL (xl_rstack_land). */
    if (w > TB_MAX_EXITS - 1 - xl->nexits)
        w = TB_MAX_EXITS - 1 - xl->nexits;
    return w;
}

/* The ways of a RET site: each falls through on a hit. */
static void return_ways(struct emit *e, int ways, size_t *ic, size_t *hit_patch)
{
    for (int w = 0; w < ways; w++) {
        emit_modrm_mem(e, OPC_LEA, H_RCX, H_R11, -1, 0, 0x7fffffff);
        ic[w] = emit_off(e) - 4;                         /* lea ecx, [r11 + imm32] */
        memset(e->start + ic[w], 0, e->overflow ? 0 : 4);
        emit_bytes(e, "\x67\xe2\x00", 3);                 /* loop way_w+1 (ECX) */
        size_t next_way = emit_off(e) - 1;
        emit_mov_r64_r64(e, H_RCX, H_R8);                /* mov rcx, r8 */
        hit_patch[w] = emit_jmp_rel32(e, emit_rx_here(e));
        emit_patch_rel8_here(e, next_way);
    }
}

static void indirect_site(struct xl *xl, bool ret)
{
    struct emit *e = &xl->e;
    int ways = site_ways(xl);
    size_t cmp_jump[IC_MAX_WAYS], hit_patch[IC_MAX_WAYS], ic[IC_MAX_WAYS];
    size_t slow, learn, go, k = (size_t)xl->nexits;

    if (ways < 1) {   /* cannot happen: the block loop keeps room for the ways */
        e->overflow = true;
        return;
    }
    emit_mov_r64_r64(e, H_R8, H_RCX);                    /* mov r8, rcx */
    if (ret)
        return_ways(e, ways, ic, hit_patch);
    else
        for (int w = 0; w < ways; w++) {
            emit_modrm_mem(e, OPC_LEA, H_RCX, H_R11, -1, 0, 0x7fffffff);
            ic[w] = emit_off(e) - 4;                     /* lea ecx, [r11 + imm32] */
            memset(e->start + ic[w], 0, e->overflow ? 0 : 4);
            cmp_jump[w] = emit_jrcxz_rel8(e);            /* jrcxz hit_w */
        }
    slow = emit_off(e);                                  /* slow: RCX is still in r8 */
    xl_emit_jc_probe(e);
    learn = emit_jrcxz_rel8(e);                          /* jrcxz go (miss while learning) */
    emit_mov_r64_r64(e, H_RCX, H_R8);                    /* miss: mov rcx, r8 */
    emit_mov_m32_r32(e, H_R15, CPU_NEXT_EIP, H_R11);     /* mov [r15+next_eip], r11d */
    emit_mov_r64_imm64(e, H_R10, (uint64_t)(uintptr_t)&xl->tb->exit[k]);
    emit_mov_m64_r64(e, H_R15, CPU_EXIT_SLOT, H_R10);    /* mov [r15+exit_slot], &exit[k] */
    emit_jmp_rel32(e, xl->bt->rt_exit);
    go = emit_off(e);
    emit_patch_rel8_here(e, learn);
    emit_mov_r64_r64(e, H_RCX, H_R8);                    /* go: mov rcx, r8 */
    emit_jmp_m64(e, H_R10, 8);                           /* jmp [r10+8] */
    for (int w = 0; w < ways && !ret; w++) {
        emit_patch_rel8_here(e, cmp_jump[w]);
        emit_mov_r64_r64(e, H_RCX, H_R8);                /* hit_w: mov rcx, r8 */
        hit_patch[w] = emit_jmp_rel32(e, emit_rx_here(e));
    }
    for (int w = 0; w < ways; w++) {
        xl->exit_patch[k + w] = hit_patch[w];
        xl->exit_stub[k + w] = slow;
        xl->exit_ic[k + w] = ic[w];
        xl->exit_target[k + w] = 0;
    }
    xl->tb->exit[k].ic_ways = (uint8_t)ways;
    xl->tb->exit[k].ic_learns = 0;
    xl->tb->exit[k].ic_learn_off = (uint32_t)learn;
    xl->tb->exit[k].ic_go_off = (uint32_t)go;
    xl->nexits += ways;
    xl->ended = true;
}

void xl_exit_indirect_r11(struct xl *xl) { indirect_site(xl, false); }
void xl_exit_return_r11(struct xl *xl) { indirect_site(xl, true); }

void xl_ic_start_learning(struct xl *xl, uint8_t *rw)
{
    for (int k = 0; k < xl->nexits; k++)
        if (xl->tb->exit[k].ic_ways)
            rw[xl->tb->exit[k].ic_learn_off] = 0;    /* jrcxz to the next instruction: miss */
}

/* Point the site's jump-cache hit at go: it no longer leaves. */
static void stop_learning(struct bt *bt, struct tb_exit *site)
{
    const uint8_t *field = site->from->host + site->ic_learn_off;

    *cache_rw(bt->cache, field) = (uint8_t)(site->ic_go_off - (site->ic_learn_off + 1));
    site->ic_learns = 0xff;
}

bool xl_ic_link(struct bt *bt, struct tb_exit *site, struct tb *to, uint32_t eip)
{
    struct tb_exit *way = NULL;
    int ways = site->ic_ways, free_ways = 0;
    bool learning = site->ic_learns != 0xff;

    if (ways == 0)
        return false;
    for (int w = 0; w < ways; w++) {
        if (site[w].to)
            continue;
        if (!way)
            way = &site[w];
        free_ways++;
    }
    /* Also after learning: a way its target's invalidation freed is filled
     * again by the next jump-cache miss. */
    if (to && way) {
        const uint8_t *field = way->from->host + way->ic_off;
        uint32_t imm = field[4] == 0x67 ? 1u - eip : 0u - eip;   /* LOOP or JRCXZ after it */
        memcpy(cache_rw(bt->cache, field), &imm, 4);
        way->target_eip = eip;
        cache_chain(bt->cache, way, to);
        if (way->to == to) {
            free_ways--;
            bt->stats.ic_ways_filled++;
        } else {
            way = NULL;
        }
    } else {
        way = NULL;
    }
    /* A one-instruction block (interrupt shadow, single step) always comes
     * back to the dispatcher. */
    if (learning && !(site->from->mode & BT_MODE_STEP) &&
        (free_ways == 0 || ++site->ic_learns >= 2 * ways))
        stop_learning(bt, site);
    return way != NULL;
}
