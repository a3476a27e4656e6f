/* mmu_view — one host view of a guest space for both privilege levels,
 * while the two views would be the same.
 *
 * A paging space is keyed by (CR3, view): the supervisor view maps what
 * CPL 0-2 may access, the user view what CPL 3 may (SDM vol. 3A §4.6), so
 * the host MMU enforces U/S. Switching between them on every ring change
 * costs little now (translated code reloads R14), but two views are two
 * spaces to fill, trace and protect: twice the host mapping calls. Many kernels (nanobenchmarks, teaching kernels)
 * map every page user-accessible; there the two views are identical.
 *
 * Every record of a supervisor-view space says whether it is `over`: it
 * lets the supervisor view do what CPL 3 may not — a page that is not
 * user-readable, or a write CPL 3 may not make (R/W=0 with CR0.WP=0).
 * Records filled for a CPL-3 access are filled with user rights and are
 * never over. While a space holds no over record, an activation for CPL 3
 * *lends* it the supervisor space (mmu->lent): no view switch on system
 * calls. A lent space must never gain an over record, because CPL 3 code
 * runs in it: the fill (mmu_fill.c) skips such prefetch candidates and
 * answers the monitor's own supervisor access to such a page by a walk
 * without mapping it (MMU_SOFT); an edited PTE that would make a mapped
 * page over is unmapped instead (mmu_rec_refresh). A CPL-3 access to a
 * supervisor page then faults in the host, and the walk with user rights
 * reports the guest's #PF with U/S in the error code, as it would in the
 * user view.
 *
 * When CPL 0 makes a record over (its own fills), the space's count goes
 * 0 -> 1 and the key generation moves (mmu_key_gen): the derive memo
 * forgets the lent space, and the next CPL-3 activation takes the user
 * view again — two views, exactly as before. CR0.WP changes drop every
 * space (mmu.c), so rights are recomputed under the new rule.
 *
 * mmu_config.two_views (--two-views) turns lending off. */
#include "shadowmmu/mmu_internal.h"

void view_rec_added(struct mmu *m, struct mspace *s, const struct mrec *p)
{
    /* A space CPL 3 ran in may not serve it any more: the derive memo
     * must forget it (only then: Linux's spaces, never lent, would cost a
     * memo miss per new space). */
    if (p->over && s->over++ == 0 && s->was_lent)
        m->key_gen++;
}

void view_rec_removed(struct mmu *m, struct mspace *s, const struct mrec *p)
{
    xlate_moved(m);
    if (p->over)
        s->over--;
}

void view_rec_set(struct mmu *m, uint32_t r, bool want_w, bool over)
{
    struct mrec *p = &m->rec[r];
    struct mspace *s = space_of_rec(m, p);

    if (p->want_w == want_w && p->over == over)
        return;
    view_rec_removed(m, s, p);          /* moves mmu_xlate_gen */
    p->want_w = want_w;
    p->over = over;
    view_rec_added(m, s, p);
}

struct mspace *view_lendable(struct mmu *m)
{
    struct mspace *s = m->cfg.two_views ? NULL : mmu_current_space(m, MMU_VIEW_SUPER);

    return s && !s->over ? s : NULL;
}

struct mspace *view_user_space(struct mmu *m)
{
    struct mspace *s = mmu_current_space(m, MMU_VIEW_USER);

    return s ? s : view_lendable(m);
}

void mmu_set_cpl(struct mmu *m, unsigned cpl)
{
    struct mspace *s = m->cur;

    m->lent = s && !s->identity && s->view == MMU_VIEW_SUPER && cpl == 3;
    m->st.one_view += m->lent;
    if (m->lent)
        s->was_lent = true;
}
