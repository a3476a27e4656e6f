/* jcache — see jcache.h. */
#include <stdlib.h>
#include <string.h>

#include "emulator/system.h"

#define JC_MASK (BT_JCACHE_SIZE - 1)

/* Per-entry flags: which log holds the index, and whether the entry now
 * points at a block on global pages. */
#define JC_F_LOG    1u
#define JC_F_GLOG   2u
#define JC_F_GLOBAL 4u

static bool jc_alloc(struct jcache *j)
{
    j->e = malloc(sizeof(struct bt_jcache_entry) * BT_JCACHE_SIZE);
    j->flags = calloc(BT_JCACHE_SIZE, 1);
    if (!j->e || !j->flags) {
        free(j->e);
        free(j->flags);
        j->e = NULL;
        j->flags = NULL;
        return false;
    }
    for (uint32_t i = 0; i < BT_JCACHE_SIZE; i++)
        j->e[i].eip = BT_JCACHE_EMPTY;
    j->nlog = j->nglog = 0;
    return true;
}

static void clear_logged(struct jcache *j, const uint16_t *log, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        j->e[log[i]].eip = BT_JCACHE_EMPTY;
        j->flags[log[i]] = 0;
    }
}

static void jc_clear(struct jcache *j)
{
    if (!j->e)
        return;
    if (j->nlog <= JC_LOG && j->nglog <= JC_LOG) {
        clear_logged(j, j->log, j->nlog);
        clear_logged(j, j->glog, j->nglog);
    } else {
        for (uint32_t i = 0; i < BT_JCACHE_SIZE; i++)
            j->e[i].eip = BT_JCACHE_EMPTY;
        memset(j->flags, 0, BT_JCACHE_SIZE);
    }
    j->nlog = j->nglog = 0;
}

/* Clear the non-global entries; the global ones stay, in glog. */
static void jc_clear_nonglobal(struct jcache *j)
{
    if (!j->e || j->nlog > JC_LOG) {
        jc_clear(j);            /* the log is incomplete: everything goes */
        return;
    }
    for (uint32_t i = 0; i < j->nlog; i++) {
        uint16_t at = j->log[i];
        j->flags[at] &= (uint8_t)~JC_F_LOG;
        if (!(j->flags[at] & JC_F_GLOBAL))
            j->e[at].eip = BT_JCACHE_EMPTY;
    }
    j->nlog = 0;
}

static void log_index(uint16_t *log, uint32_t *n, uint32_t i)
{
    if (*n < JC_LOG)
        log[*n] = (uint16_t)i;
    if (*n <= JC_LOG)
        (*n)++;
}

bool jc_init(struct vcpu *v)
{
    for (int k = 0; k < JC_SLOTS; k++)
        v->jc[k].mode = ~0u;
    v->jc[0].mode = 0;              /* reset: ring 0, paging off, flat */
    v->jc_cur = 0;
    if (!jc_alloc(&v->jc[0]))
        return false;
    v->bt.jcache = (uint64_t)(uintptr_t)v->jc[0].e;
    return true;
}

void jc_fini(struct vcpu *v)
{
    for (int i = 0; i < JC_SLOTS; i++) {
        free(v->jc[i].e);
        free(v->jc[i].flags);
        v->jc[i].e = NULL;
        v->jc[i].flags = NULL;
    }
}

void jc_fill(struct vcpu *v, uint32_t eip, const void *host, bool global)
{
    struct jcache *j = &v->jc[v->jc_cur];
    uint32_t i = eip & JC_MASK;
    uint8_t f = j->flags[i];

    if (global && !(f & JC_F_GLOG)) {
        log_index(j->glog, &j->nglog, i);
        f |= JC_F_GLOG;
    } else if (!global && !(f & JC_F_LOG)) {
        log_index(j->log, &j->nlog, i);
        f |= JC_F_LOG;
    }
    j->flags[i] = global ? f | JC_F_GLOBAL : f & (uint8_t)~JC_F_GLOBAL;
    j->e[i].host = (uint64_t)(uintptr_t)host;
    j->e[i].eip = eip;
}

/* The shadow return stack's landing pads are found without the jump cache,
 * so whatever makes a jump-cache entry wrong (a code-cache flush, a linear
 * page mapped elsewhere, another mode) resets them too (bt/xlate_rstack.c). */
void jc_flush_all(struct vcpu *v)
{
    bt_rstack_reset(&v->bt);
    for (int k = 0; k < JC_SLOTS; k++)
        jc_clear(&v->jc[k]);
}

void jc_flush_nonglobal(struct vcpu *v)
{
    bt_rstack_reset(&v->bt);
    for (int k = 0; k < JC_SLOTS; k++)
        jc_clear_nonglobal(&v->jc[k]);
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

static void drop_on_page(struct jcache *j, const uint16_t *log, uint32_t n, uint32_t page)
{
    for (uint32_t i = 0; i < n; i++)
        if (on_page(j->e[log[i]].eip, page))
            j->e[log[i]].eip = BT_JCACHE_EMPTY;
}

void jc_flush_page(struct vcpu *v, uint32_t page)
{
    bt_rstack_reset(&v->bt);
    for (int k = 0; k < JC_SLOTS; k++) {
        if (v->jc[k].e && cs_based(v, v->jc[k].mode)) {
            jc_flush_all(v);
            return;
        }
    }
    for (int k = 0; k < JC_SLOTS; k++) {
        struct jcache *j = &v->jc[k];
        if (!j->e)
            continue;
        if (j->nlog <= JC_LOG && j->nglog <= JC_LOG) {
            drop_on_page(j, j->log, j->nlog, page);
            drop_on_page(j, j->glog, j->nglog, page);
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
    for (int k = 0; k < JC_SLOTS; k++) {
        struct bt_jcache_entry *e = v->jc[k].e;
        if (e && e[eip & JC_MASK].eip == eip && e[eip & JC_MASK].host == (uint64_t)(uintptr_t)host)
            e[eip & JC_MASK].eip = BT_JCACHE_EMPTY;
    }
}

bool jc_select(struct vcpu *v, uint32_t mode)
{
    int k = v->jc_prev;
    struct jcache *j;

    /* A system call goes back and forth between two modes: try the slot
     * used before this one first (each slot's struct is kilobytes apart). */
    if (v->jc[v->jc_cur].mode == mode) {
        k = v->jc_cur;
    } else if (v->jc[k].mode != mode) {
        k = 0;
        for (int i = 0; i < JC_SLOTS; i++) {
            if (v->jc[i].mode == mode) {
                k = i;
                break;
            }
            if (v->jc[i].used < v->jc[k].used)
                k = i;
        }
    }
    j = &v->jc[k];
    if (!j->e && !jc_alloc(j)) {
        vcpu_stop_error(v, v->bt.eip, "out of memory for a jump cache");
        return false;
    }
    if (j->mode != mode) {
        bt_rstack_reset(&v->bt);
        jc_clear(j);
        j->mode = mode;
        derive_forget(v);       /* remembered states may name this slot */
    }
    jc_use(v, k);
    return true;
}

void jc_use(struct vcpu *v, int k)
{
    struct jcache *j = &v->jc[k];

    j->used = ++v->jc_tick;
    if (k != v->jc_cur) {
        bt_rstack_reset(&v->bt);     /* landing pads of another mode's blocks */
        v->jc_prev = v->jc_cur;
    }
    v->jc_cur = k;
    v->bt.jcache = (uint64_t)(uintptr_t)j->e;
}

void jc_reset_modes(struct vcpu *v)
{
    jc_flush_all(v);
    for (int k = 0; k < JC_SLOTS; k++)
        v->jc[k].mode = ~0u;
    derive_forget(v);
}
