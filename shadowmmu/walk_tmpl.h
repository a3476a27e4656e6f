/* walk_tmpl — the walk itself, one loop over the levels held in memory,
 * included by walk.c once per entry width (KVM's paging_tmpl.h does the
 * same). Before each inclusion walk.c defines WALK_WIDTH:
 *
 *   32  32-bit paging (SDM vol. 3A §4.3): CR3 -> PD -> PT, 1024 entries of
 *       4 bytes per table, 4 MiB pages with CR4.PSE;
 *   64  PAE paging (§4.4): PDPTE register -> PD -> PT, 512 entries of 8
 *       bytes per table, 2 MiB pages, execute-disable.
 *
 * The order of the checks is the SDM's (walk.c says more). */

#if WALK_WIDTH == 32
#define W_ENTRY       uint32_t
#define W_FN(name)    name##32
#define W_IDX_BITS    10
#define W_FRAME       ((uint64_t)PTE_FRAME)
#define W_FRAME_LARGE ((uint64_t)PDE_FRAME_4M)
#define W_LARGE       PAGE_4M
#elif WALK_WIDTH == 64
#define W_ENTRY       uint64_t
#define W_FN(name)    name##_pae
#define W_IDX_BITS    9
#define W_FRAME       PAE_FRAME
#define W_FRAME_LARGE PAE_FRAME_2M
#define W_LARGE       PAGE_2M
#else
#error "WALK_WIDTH must be 32 or 64"
#endif

/* One entry; a 64-bit entry is two dword reads (one vCPU, nothing tears). */
static W_ENTRY W_FN(read_entry)(const struct walk_mem *mem, uint32_t gpa, bool *ok)
{
    W_ENTRY e = mem->read32(mem->opaque, gpa, ok);
#if WALK_WIDTH == 64
    if (*ok)
        e |= (uint64_t)mem->read32(mem->opaque, gpa + 4, ok) << 32;
#endif
    return e;
}

bool W_FN(walk)(const struct walk_mem *mem, const struct walk_mode *mode, uint32_t linear,
                enum walk_access acc, unsigned flags, struct walk *out)
{
    const bool write = acc == WALK_WRITE;
    const bool user = (flags & WALK_USER) != 0;
    /* §4.7: I/D is set for a fetch only with PAE paging and EFER.NXE=1
     * (SMEP would be the other way; it is not reported). */
    const uint32_t pfec = (write ? PFEC_W : 0) | (user ? PFEC_U : 0) |
                          (WALK_WIDTH == 64 && mode->nxe && acc == WALK_FETCH ? PFEC_I : 0);
    unsigned retries = 0, level;
    uint64_t table, frame;
    uint32_t leaf_gpa, size;
    W_ENTRY leaf;
    bool ok;

retry:
    memset(out, 0, sizeof *out);
    out->pte_gpa = WALK_NO_PTE;

    /* The root: the page directory at CR3[31:12] (§4.3), or the one the
     * PDPTE register for linear[31:30] names (§4.4.1; its reserved bits
     * were checked when it was loaded, a clear P is a not-present fault). */
#if WALK_WIDTH == 32
    table = mode->cr3 & PTE_FRAME;
#else
    out->pdpte = mode->pdpte[linear >> 30];
    if (!(out->pdpte & PTE_P))
        return walk_fault(out, linear, pfec, 3);
    table = out->pdpte & PDPTE_FRAME;
#endif

    /* Level 2, the PDE, then level 1, the PTE, unless the PDE maps a large
     * page. Reserved bits are checked only in present entries, hence RSVD
     * implies P in the error code (§4.7). */
    for (level = 2;; level--) {
        unsigned shift = 12 + W_IDX_BITS * (level - 1);
        uint32_t idx = (linear >> shift) & ((1u << W_IDX_BITS) - 1);
        /* The table is below 4 GiB: higher bits were reserved (MAXPHYADDR). */
        uint32_t gpa = (uint32_t)table + idx * (uint32_t)sizeof(W_ENTRY);
        W_ENTRY e = 0;

        if (level == 2)
            out->pde_gpa = gpa;
        else
            out->pte_gpa = gpa;
        e = W_FN(read_entry)(mem, gpa, &ok);
        if (level == 2)
            out->pde = e;
        else
            out->pte = e;
        if (!ok) {
            out->bus_error = true;
            return walk_fault(out, linear, pfec, (uint8_t)level);
        }
        if (!(e & PTE_P))
            return walk_fault(out, linear, pfec, (uint8_t)level);
        if (level == 2 ? walk_pde_rsvd(mode, e) : walk_pte_rsvd(mode, e))
            return walk_fault(out, linear, PFEC_P | PFEC_RSVD | pfec, (uint8_t)level);
        if (level == 2 && walk_pde_is_large(mode, e)) {
            /* A large page: the frame's high bits from the PDE, the rest
             * from the linear address (no PSE-36: a 4 MiB page stays
             * below 4 GiB). */
            out->pte_gpa = WALK_NO_PTE;
            leaf = e;
            size = W_LARGE;
            frame = (e & W_FRAME_LARGE) | (linear & (W_LARGE - 1) & PTE_FRAME);
            break;
        }
        if (level == 1) {
            leaf = e;
            size = PAGE_4K;
            frame = e & W_FRAME;
            break;
        }
        table = e & W_FRAME;
    }
    leaf_gpa = size == PAGE_4K ? out->pte_gpa : out->pde_gpa;

    /* A valid translation: now the access rights (§4.6). */
    out->perm = (uint8_t)walk_perm(mode, out->pde, leaf);
    if (!walk_allowed(out->perm, acc, user))
        return walk_fault(out, linear, PFEC_P | pfec, 0);

    /* §4.8: A in every entry used, D in the entry that maps the page on a
     * write, each written only if it was clear. The SDM leaves open whether
     * a walk that faults sets A in the entries it did use; we set nothing
     * then (as KVM does; kvm-unit-tests access.c accepts either), so a #PF
     * has no side effect on guest memory. D is never written in a PDE that
     * references a page table: bit 6 is ignored there (tables 4-5, 4-10).
     * A and D live in the low dword of a 64-bit entry: the RMW is on it. */
    if (flags & WALK_SET_AD) {
        W_ENTRY want = leaf | PTE_A | (write ? PTE_D : 0);

        if (size == PAGE_4K && !(out->pde & PTE_A)) {
            if (!mem->cmpxchg32(mem->opaque, out->pde_gpa, (uint32_t)out->pde,
                                (uint32_t)out->pde | PTE_A))
                goto raced;
            out->pde |= PTE_A;
        }
        if (want != leaf) {
            /* One update for A and D together, as the CPU's locked RMW. */
            if (!mem->cmpxchg32(mem->opaque, leaf_gpa, (uint32_t)leaf, (uint32_t)want))
                goto raced;
            leaf = want;
            if (size == PAGE_4K)
                out->pte = leaf;
            else
                out->pde = leaf;
        }
    }

    out->frame = (uint32_t)frame;      /* reserved bits kept it below 4 GiB */
    out->gpa = out->frame | (linear & (PAGE_4K - 1));
    out->page_size = size;
    out->dirty = (leaf & PTE_D) != 0;
    return true;

raced:
    if (++retries < WALK_MAX_RETRIES)
        goto retry;
    out->bus_error = true;
    return walk_fault(out, linear, pfec, size == PAGE_4K ? 1 : 2);
}

#undef W_ENTRY
#undef W_FN
#undef W_IDX_BITS
#undef W_FRAME
#undef W_FRAME_LARGE
#undef W_LARGE
