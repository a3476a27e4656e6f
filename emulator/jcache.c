/* jcache — see jcache.h. */
#include <stdlib.h>

#include "emulator/system.h"

#define JC_MASK (BT_JCACHE_SIZE - 1)

static bool jc_alloc(struct jcache *j)
{
    j->e = malloc(sizeof(struct bt_jcache_entry) * BT_JCACHE_SIZE);
    if (!j->e)
        return false;
    for (uint32_t i = 0; i < BT_JCACHE_SIZE; i++)
        j->e[i].eip = BT_JCACHE_EMPTY;
    j->nlog = 0;
    return true;
}

static void jc_clear(struct jcache *j)
{
    if (!j->e)
        return;
    if (j->nlog <= JC_LOG) {
        for (uint32_t i = 0; i < j->nlog; i++)
            j->e[j->log[i]].eip = BT_JCACHE_EMPTY;
    } else {
        for (uint32_t i = 0; i < BT_JCACHE_SIZE; i++)
            j->e[i].eip = BT_JCACHE_EMPTY;
    }
    j->nlog = 0;
}

bool jc_init(struct vcpu *v)
{
    v->jc[0].mode = 0;
    v->jc[1].mode = ~0u;
    v->jc_cur = 0;
    if (!jc_alloc(&v->jc[0]))
        return false;
    v->bt.jcache = (uint64_t)(uintptr_t)v->jc[0].e;
    return true;
}

void jc_fini(struct vcpu *v)
{
    for (int i = 0; i < 2; i++) {
        free(v->jc[i].e);
        v->jc[i].e = NULL;
    }
}

void jc_fill(struct vcpu *v, uint32_t eip, const void *host)
{
    struct jcache *j = &v->jc[v->jc_cur];
    uint32_t i = eip & JC_MASK;

    if (j->e[i].eip == BT_JCACHE_EMPTY) {
        if (j->nlog < JC_LOG)
            j->log[j->nlog] = (uint16_t)i;
        if (j->nlog <= JC_LOG)
            j->nlog++;
    }
    j->e[i].host = (uint64_t)(uintptr_t)host;
    j->e[i].eip = eip;
}

/* The shadow return stack's landing pads are found without the jump cache,
 * so whatever makes a jump-cache entry wrong (a code-cache flush, a linear
 * page mapped elsewhere, another mode) resets them too (bt/xlate_rstack.c). */
void jc_flush_all(struct vcpu *v)
{
    bt_rstack_reset(&v->bt);
    jc_clear(&v->jc[0]);
    jc_clear(&v->jc[1]);
}

/* Entries on `page`, and those in the last 14 bytes of the page before:
 * a block that starts there may end on this one (fetch.c). */
static bool on_page(uint64_t eip, uint32_t page)
{
    return eip >> 12 == page || (eip >> 12 == page - 1 && (eip & 4095) > 4096 - 15);
}

/* Entries are keyed by EIP, an offset in CS: with a non-zero CS base
 * (virtual-8086 mode, a based code segment) the page of an EIP is not
 * the linear page, and the cache of that mode is emptied instead. */
static bool cs_based(const struct vcpu *v, uint32_t mode)
{
    uint32_t set = BT_MODE_SEGSET(mode);
    return mode != ~0u && set && set <= v->nsegsets && v->segsets[set][SEG_CS] != 0;
}

void jc_flush_page(struct vcpu *v, uint32_t page)
{
    bt_rstack_reset(&v->bt);
    if ((v->jc[0].e && cs_based(v, v->jc[0].mode)) || (v->jc[1].e && cs_based(v, v->jc[1].mode))) {
        jc_flush_all(v);
        return;
    }
    for (int k = 0; k < 2; k++) {
        struct jcache *j = &v->jc[k];
        if (!j->e)
            continue;
        if (j->nlog <= JC_LOG) {
            for (uint32_t i = 0; i < j->nlog; i++)
                if (on_page(j->e[j->log[i]].eip, page))
                    j->e[j->log[i]].eip = BT_JCACHE_EMPTY;
            continue;
        }
        for (uint32_t i = 0; i < 4096; i++) {
            uint32_t at = ((page << 12) + i) & JC_MASK;
            if (on_page(j->e[at].eip, page))
                j->e[at].eip = BT_JCACHE_EMPTY;
        }
        for (uint32_t i = 4096 - 14; i < 4096; i++) {
            uint32_t at = (((page - 1) << 12) + i) & JC_MASK;
            if (on_page(j->e[at].eip, page))
                j->e[at].eip = BT_JCACHE_EMPTY;
        }
    }
}

void jc_drop(struct vcpu *v, uint32_t eip, const void *host)
{
    for (int k = 0; k < 2; k++) {
        struct bt_jcache_entry *e = v->jc[k].e;
        if (e && e[eip & JC_MASK].eip == eip && e[eip & JC_MASK].host == (uint64_t)(uintptr_t)host)
            e[eip & JC_MASK].eip = BT_JCACHE_EMPTY;
    }
}

bool jc_select(struct vcpu *v, uint32_t mode)
{
    int k = mode == v->jc[0].mode ? 0 : 1;

    if (mode != v->jc[v->jc_cur].mode)
        bt_rstack_reset(&v->bt);     /* landing pads of another mode's blocks */

    if (k == 1) {
        struct jcache *j = &v->jc[1];
        if (!j->e && !jc_alloc(j)) {
            vcpu_stop_error(v, v->bt.eip, "out of memory for a jump cache");
            return false;
        }
        if (j->mode != mode) {
            jc_clear(j);
            j->mode = mode;
        }
    }
    v->jc_cur = k;
    v->bt.jcache = (uint64_t)(uintptr_t)v->jc[k].e;
    return true;
}

void jc_reset_modes(struct vcpu *v, uint32_t mode0)
{
    jc_flush_all(v);
    v->jc[0].mode = mode0;
    v->jc[1].mode = ~0u;
}
