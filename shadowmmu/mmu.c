/* mmu — the shadow space manager: creation, the LRU cache of spaces keyed by
 * (CR3, view), activation on CR0/CR3/CR4 writes and CPL changes, INVLPG and
 * statistics. See mmu.h for the design and mmu_internal.h for the data
 * structures; filling is in mmu_fill.c, protection in mmu_protect.c, the
 * records and host mappings in mmu_map.c.
 *
 * Cache policy (DESIGN §4). Tracing keeps every cached space equal to what
 * the guest's current page tables say, so a CR3 write needs no flush: it
 * selects the cached space, or recycles the least recently activated one
 * (one mmap over its window, and its rmap dependents dropped). What the
 * cache cannot survive is a change of the rules a walk applies, since every
 * space was built under them: CR0.WP, CR4.PSE, CR4.PAE and EFER.NXE (SDM
 * vol. 3A §4.6, §4.3, §4.4). With PAE a space is keyed by the four PDPTE
 * registers rather than CR3: they are what the walks start from (§4.4.1).
 * And while paging is off the identity space maps page tables writable and
 * untraced, so CR0.PG=0 drops all spaces too. */
#define _GNU_SOURCE
#include "shadowmmu/mmu_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* The host's vm.max_map_count, and what the rest of the process (libraries,
 * heap, code cache, stacks) keeps of it. */
static uint32_t default_budget(void)
{
    char buf[32];
    long max = 65530;
    int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);

    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n > 0) {
            buf[n] = 0;
            max = strtol(buf, NULL, 10);
        }
        close(fd);
    }
    if (max < 4096)
        max = 4096;
    return (uint32_t)(max - (max / 8 > 1024 ? max / 8 : 1024));
}

static int init_space(struct mspace *s, uint16_t id, char *err, size_t errlen)
{
    if (space_init(&s->sp, err, errlen) < 0)
        return -1;
    s->id = id;
    s->identity = id == IDENT_ID;
    s->maps = 1;
    return 0;
}

struct mmu *mmu_create(const struct mmu_config *cfg, const struct guest_ram *ram,
                       char *err, size_t errlen)
{
    struct mmu *m = calloc(1, sizeof *m);
    struct rmap_config rc = { 0 };
    struct rmap_ops ops = { 0 };
    uint32_t buckets = 1, bits = 0;

    if (!m) {
        snprintf(err, errlen, "shadow MMU: out of memory");
        return NULL;
    }
    m->cfg = *cfg;
    if (!m->cfg.spaces)
        m->cfg.spaces = MMU_DEFAULT_SPACES;
    if (!m->cfg.prefetch)
        m->cfg.prefetch = MMU_DEFAULT_PREFETCH;
    if (!m->cfg.max_records)
        m->cfg.max_records = MMU_DEFAULT_RECORDS;
    if (!m->cfg.rmap_pages)
        m->cfg.rmap_pages = MMU_DEFAULT_RMAP_PAGES;
    if (m->cfg.unsync > MMU_MAX_UNSYNC)
        m->cfg.unsync = MMU_MAX_UNSYNC;
    m->maps_budget = m->cfg.max_maps ? m->cfg.max_maps : default_budget();
    if (m->cfg.spaces > MMU_MAX_SPACES || m->cfg.prefetch > 1024 ||
        (m->cfg.prefetch & (m->cfg.prefetch - 1)) || m->cfg.max_records < m->cfg.prefetch ||
        m->cfg.max_records >= (1u << 31)) {
        snprintf(err, errlen, "shadow MMU: need 1..%u spaces, a power-of-two prefetch up to 1024 "
                 "and at least that many records", MMU_MAX_SPACES);
        free(m);
        return NULL;
    }
    m->ram = ram;
    while (buckets < m->cfg.max_records) {
        buckets <<= 1;
        bits++;
    }
    m->hash_shift = 32 - bits;
    if (bits == 0) {            /* one bucket: the shift by 32 would be undefined */
        buckets = 2;
        m->hash_shift = 31;
    }
    m->rec = calloc((size_t)m->cfg.max_records + 1, sizeof *m->rec);
    m->hash = calloc(buckets, sizeof *m->hash);
    m->frame_head = calloc(FRAMES, sizeof *m->frame_head);
    m->frame_flags = calloc(FRAMES, 1);
    m->cand = calloc(m->cfg.prefetch, sizeof *m->cand);
    m->want_w = calloc(m->cfg.prefetch, 1);
    m->spaces = calloc(m->cfg.spaces, sizeof *m->spaces);
    m->saved_pds = calloc((size_t)m->cfg.spaces * 1024, sizeof *m->saved_pds);
    if (!m->saved_pds || !m->rec || !m->hash || !m->frame_head || !m->frame_flags || !m->cand || !m->want_w ||
        !m->spaces) {
        snprintf(err, errlen, "shadow MMU: out of memory");
        goto fail;
    }
    for (uint32_t i = 1; i <= m->cfg.max_records; i++)
        m->rec[i].hnext = i < m->cfg.max_records ? i + 1 : 0;
    m->rec_free = 1;

    if (init_space(&m->ident, IDENT_ID, err, errlen) < 0)
        goto fail;
    for (unsigned i = 0; i < m->cfg.spaces; i++) {
        if (init_space(&m->spaces[i], (uint16_t)i, err, errlen) < 0)
            goto fail;
        m->spaces[i].saved = &m->saved_pds[(size_t)i * 1024];
    }
    m->maps_total = m->cfg.spaces + 1;
    m->st.maps_peak = m->maps_total;

    rc.max_pages = m->cfg.rmap_pages;
    rc.max_spaces = (uint16_t)m->cfg.spaces;
    ops.opaque = m;
    ops.zap = mmu_rmap_zap;
    ops.untracked = mmu_rmap_untracked;
    ops.detach = mmu_rmap_detach;
    m->rm = rmap_create(&rc, &ops, err, errlen);
    if (!m->rm)
        goto fail;
    m->mem = (struct walk_mem){ .opaque = m, .read32 = mmu_mem_read32,
                                .cmpxchg32 = mmu_mem_cmpxchg32 };
    return m;
fail:
    mmu_destroy(m);
    return NULL;
}

void mmu_destroy(struct mmu *m)
{
    if (!m)
        return;
    rmap_destroy(m->rm);
    space_destroy(&m->ident.sp);
    for (unsigned i = 0; m->spaces && i < m->cfg.spaces; i++)
        space_destroy(&m->spaces[i].sp);
    free(m->spaces);
    free(m->saved_pds);
    free(m->rec);
    free(m->hash);
    free(m->frame_head);
    free(m->frame_flags);
    free(m->dirty);
    free(m->cand);
    free(m->want_w);
    free(m);
}

struct space *mmu_identity(struct mmu *m) { return &m->ident.sp; }

void mmu_flush_all(struct mmu *m)
{
    m->key_gen++;
    xlate_moved(m);
    for (unsigned i = 0; i < m->cfg.spaces; i++) {
        space_reset(m, &m->spaces[i], false);
        m->spaces[i].drop_pending = false;
    }
    m->drops_pending = false;
    rmap_clear(m->rm);
    m->pend[0].used = m->pend[1].used = false;
    memset(m->churn, 0, sizeof m->churn);
    m->soft_pages = 0;
    m->nunsync = 0;
}

static void touch(struct mmu *m, struct mspace *s)
{
    s->lru = ++m->tick;
    m->cur = s;
    if (s->detached)
        mmu_retarget(m, s);
}

/* The space a CR3 without a cached space takes: a detached one of the
 * view (its process is gone; its kernel half likely serves the new
 * directory), else one never keyed, else the least recently activated. */
static bool better_pick(const struct mspace *s, const struct mspace *pick, uint8_t view)
{
    bool sd = s->keyed && s->detached && s->view == view;
    bool pd = pick->keyed && pick->detached && pick->view == view;

    if (sd != pd)
        return sd;
    if (sd)
        return s->lru > pick->lru;
    if (!s->keyed || !pick->keyed)
        return !s->keyed && pick->keyed;
    return s->lru < pick->lru;
}

/* Does cached space s serve (cr3, pdpte) under the current mode? With PAE
 * the PDPTE registers are the root of every walk, so they are the key. */
static bool key_match(const struct mmu *m, const struct mspace *s, uint32_t cr3,
                      const uint64_t *pdpte)
{
    if (!s->keyed)
        return false;
    if (!m->pae)
        return s->cr3 == cr3;
    return !memcmp(s->pdpte, pdpte, sizeof s->pdpte);
}

struct mspace *mmu_current_space(struct mmu *m, enum mmu_view view)
{
    uint32_t cr3 = m->pae ? m->cr3 : m->cr3 & PTE_FRAME;

    if (!m->paging)
        return NULL;
    if (m->cur && m->cur->view == view && key_match(m, m->cur, cr3, m->pdpte))
        return m->cur;
    if (m->view_sp[view] && m->view_sp[view]->view == view && key_match(m, m->view_sp[view], cr3, m->pdpte))
        return m->view_sp[view];
    for (unsigned i = 0; i < m->cfg.spaces; i++)
        if (m->spaces[i].view == view && key_match(m, &m->spaces[i], cr3, m->pdpte))
            return m->view_sp[view] = &m->spaces[i];
    return NULL;
}

struct space *mmu_activate_regs(struct mmu *m, const struct mmu_regs *regs, unsigned cpl)
{
    uint8_t view = cpl == 3 ? MMU_VIEW_USER : MMU_VIEW_SUPER;
    uint32_t cr0 = regs->cr0, cr4 = regs->cr4, cr3 = regs->cr3;
    bool wp = (cr0 & CR0_WP) != 0, pse = (cr4 & CR4_PSE) != 0, pae = (cr4 & CR4_PAE) != 0;
    bool nxe = pae && (regs->efer & EFER_NXE);
    struct mspace *s = m->cur, *pick = NULL;
    static const uint64_t no_pdpte[4];
    const uint64_t *pdpte = pae ? regs->pdpte : no_pdpte;

    m->st.activations++;
    mmu_settle(m);
    m->lent = false;
    if (!(cr0 & CR0_PG)) {
        if (m->paging) {
            mmu_flush_all(m);
            m->st.flushes++;
            m->paging = false;
        }
        if (!m->ident_mapped && ident_map(m) < 0)
            return NULL;
        m->cur = &m->ident;
        return &m->ident.sp;
    }
    /* The rules every cached space was built under (§4.3, §4.4, §4.6). */
    if (m->paging && (wp != m->wp || pse != m->pse || pae != m->pae || nxe != m->nxe)) {
        mmu_flush_all(m);
        m->st.flushes++;
    }
    if (!m->paging || m->cr3 != cr3 || memcmp(m->pdpte, pdpte, sizeof m->pdpte))
        xlate_moved(m);         /* another address space */
    m->paging = true;
    m->wp = wp;
    m->pse = pse;
    m->pae = pae;
    m->nxe = nxe;
    m->cr3 = cr3;
    memcpy(m->pdpte, pdpte, sizeof m->pdpte);
    if (!pae)
        cr3 &= PTE_FRAME;

    if (view == MMU_VIEW_USER && (s = view_lendable(m))) {
        m->st.cr3_hits++;
        m->st.one_view++;
        touch(m, s);
        m->lent = s->was_lent = true;
        return &s->sp;
    }
    s = m->cur;
    if (s && key_match(m, s, cr3, pdpte) && s->view == view) {
        m->st.cr3_hits++;
        touch(m, s);
        return &s->sp;
    }
    /* A privilege change: the other view of the same CR3, found last time. */
    s = m->view_sp[view];
    if (s && s->view == view && key_match(m, s, cr3, pdpte)) {
        m->st.cr3_hits++;
        touch(m, s);
        return &s->sp;
    }
    for (unsigned i = 0; i < m->cfg.spaces; i++) {
        s = &m->spaces[i];
        if (key_match(m, s, cr3, pdpte) && s->view == view) {
            m->st.cr3_hits++;
            touch(m, s);
            return &(m->view_sp[view] = s)->sp;
        }
        if (!pick || better_pick(s, pick, view))
            pick = s;
    }
    m->key_gen++;
    if (pick->keyed) {
        if (!pick->detached || pick->view != view)
            space_reset(m, pick, true);
        soft_forget_space(m, pick);
        m->st.spaces_recycled++;
    } else {
        m->st.spaces_created++;
    }
    pick->keyed = true;
    pick->was_lent = false;
    pick->cr3 = cr3;
    memcpy(pick->pdpte, pdpte, sizeof pick->pdpte);
    pick->view = view;
    touch(m, pick);
    m->view_sp[view] = pick;
    if (m->cfg.share)
        mmu_share_fill(m, pick);
    return &pick->sp;
}

uint64_t mmu_key_gen(const struct mmu *m) { return m->key_gen; }
const uint64_t *mmu_xlate_gen(const struct mmu *m) { return &m->xlate_gen; }

void mmu_reactivate(struct mmu *m, struct space *sp, unsigned cpl)
{
    struct mspace *s = (struct mspace *)sp;

    m->st.activations++;
    mmu_settle(m);
    touch(m, s);
    /* The key generation moves when s gains an over record, so a space
     * remembered for CPL 3 in the supervisor view is still lendable. */
    m->lent = !s->identity && s->view == MMU_VIEW_SUPER && cpl == 3;
    m->st.one_view += m->lent;
    if (m->lent)
        s->was_lent = true;
    if (!s->identity)
        m->view_sp[s->view] = s;
}

struct space *mmu_activate(struct mmu *m, uint32_t cr0, uint32_t cr3, uint32_t cr4, unsigned cpl)
{
    struct mmu_regs r = { .cr0 = cr0, .cr3 = cr3, .cr4 = cr4 };
    return mmu_activate_regs(m, &r, cpl);
}

enum mmu_where mmu_locate(const struct mmu *m, uintptr_t host, struct space **sp, uint32_t *linear)
{
    for (unsigned i = 0; i <= m->cfg.spaces; i++) {
        const struct mspace *s = i < m->cfg.spaces ? &m->spaces[i] : &m->ident;
        if (space_contains(&s->sp, host)) {
            uint64_t off = (uint64_t)host - (uint64_t)(uintptr_t)s->sp.base;
            *sp = (struct space *)&s->sp;
            *linear = (uint32_t)off;
            return off < SPACE_WINDOW ? MMU_WINDOW : MMU_GUARD;
        }
    }
    return MMU_OUTSIDE;
}

void mmu_invlpg(struct mmu *m, uint32_t linear)
{
    m->st.invlpgs++;
    xlate_moved(m);
    if (!m->paging)
        return;
    unsync_sync_all(m, false);
    mmu_settle(m);
    for (unsigned i = 0; i < m->cfg.spaces; i++) {
        struct mspace *s = &m->spaces[i];
        uint32_t r;
        if (!key_match(m, s, m->pae ? m->cr3 : m->cr3 & PTE_FRAME, m->pdpte) ||
            !(r = mmu_rec_find(m, s, linear >> 12)))
            continue;
        /* Tracing keeps a recorded page exact, so this is mostly a check
         * that costs no system call. */
        if (mmu_rec_refresh(m, s, r, 0) < 0)
            mmu_zap_range(m, s, linear >> 12, 1);
    }
}

void mmu_get_stats(const struct mmu *m, struct mmu_stats *st)
{
    struct rmap_stats rs;

    rmap_get_stats(m->rm, &rs);
    *st = m->st;
    st->maps_in_use = m->maps_total;
    st->maps_budget = m->maps_budget;
    st->records_in_use = m->rec_used;
    st->records_max = m->cfg.max_records;
    st->traced_pages = rs.pages;
}

void mmu_space_info(const struct mmu *m, const struct space *sp, struct mmu_space_info *out)
{
    const struct mspace *s = (const struct mspace *)sp;

    *out = (struct mmu_space_info){ .identity = s->identity, .keyed = s->keyed, .detached = s->detached, .cr3 = s->cr3,
                                    .pae = m->pae && s->keyed, .view = (enum mmu_view)s->view, .pages = s->nrecs,
                                    .maps = s->maps, .id = s->id };
}
