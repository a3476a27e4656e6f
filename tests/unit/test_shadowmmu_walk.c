/* Guest page-table walker (shadowmmu/walk.c) on synthetic page tables.
 *
 * The centre is an enumeration in the style of kvm-unit-tests x86/access.c:
 * every combination of PDE bits {P, R/W, U/S, A, D, PS, bit 12, bit 13},
 * PTE bits {P, R/W, U/S, A, D, bit 7}, CR0.WP, CR4.PSE, CPUID.PAT, the
 * access {read, write, fetch} x {supervisor, user} and WALK_SET_AD, at a
 * linear address that varies with the case. An independent model of SDM
 * vol. 3A §4.3/§4.6/§4.7/§4.8 (ac_expect below) predicts fault or
 * translation, error code, CR2, frame, rights and the entries' A/D bits
 * afterwards; the rest of guest RAM must be untouched. Then hand-written
 * cases with literal numbers, and the memory-callback corner cases (bus
 * errors, lost cmpxchg races). The same again for PAE paging: 64-bit
 * entries over three levels, 2 MiB pages, XD/NXE, I/D and RSVD. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shadowmmu/walk.h"

/* ---- synthetic guest RAM ------------------------------------------------ */

#define RAM_SIZE (8u << 20)
#define PD_GPA   0x1000u
#define PT_GPA   0x400000u    /* 4 MiB aligned, so the same PDE bits can be read as a 4 MiB frame */
#define PAGE_GPA 0x00abc000u  /* what test PTEs map */

struct ram {
    uint8_t *b;
    unsigned reads, cmpxchgs, writes;
    /* Race injection: before the n-th cmpxchg (1-based), or before every
     * one, another agent stores race_val at race_gpa. */
    unsigned race_at;
    uint32_t race_gpa, race_val;
    bool race_always;
};

static uint32_t ram_get(struct ram *r, uint32_t gpa)
{
    uint32_t v;
    memcpy(&v, r->b + gpa, 4);
    return v;
}

static void ram_set(struct ram *r, uint32_t gpa, uint32_t v)
{
    memcpy(r->b + gpa, &v, 4);
}

static uint64_t ram_get64(struct ram *r, uint32_t gpa)
{
    uint64_t v;
    memcpy(&v, r->b + gpa, 8);
    return v;
}

static void ram_set64(struct ram *r, uint32_t gpa, uint64_t v)
{
    memcpy(r->b + gpa, &v, 8);
}

/* A table entry of the width the mode uses. */
static uint64_t entry_get(struct ram *r, const struct walk_mode *m, uint32_t gpa)
{
    return m->pae ? ram_get64(r, gpa) : ram_get(r, gpa);
}

static void entry_set(struct ram *r, const struct walk_mode *m, uint32_t gpa, uint64_t v)
{
    if (m->pae)
        ram_set64(r, gpa, v);
    else
        ram_set(r, gpa, (uint32_t)v);
}

static uint32_t cb_read32(void *opaque, uint32_t gpa, bool *ok)
{
    struct ram *r = opaque;
    r->reads++;
    if (gpa & 3)
        fail_msg("unaligned table read at 0x%x", gpa);
    *ok = gpa < RAM_SIZE;
    return *ok ? ram_get(r, gpa) : 0xffffffffu;
}

static bool cb_cmpxchg32(void *opaque, uint32_t gpa, uint32_t old, uint32_t new)
{
    struct ram *r = opaque;
    r->cmpxchgs++;
    if (r->race_always)
        r->race_val ^= 0x200;   /* a different value every time: this cmpxchg always loses */
    if (r->race_always || r->cmpxchgs == r->race_at)
        ram_set(r, r->race_gpa, r->race_val);
    if (gpa >= RAM_SIZE || (gpa & 3))
        fail_msg("bad cmpxchg at 0x%x", gpa);
    if (ram_get(r, gpa) != old)
        return false;
    if (old == new)
        fail_msg("cmpxchg at 0x%x does not change anything", gpa);
    ram_set(r, gpa, new);
    r->writes++;
    return true;
}

static int setup(void **state)
{
    struct ram *r = calloc(1, sizeof *r);
    r->b = calloc(1, RAM_SIZE);
    *state = r;
    return r->b ? 0 : -1;
}

static int teardown(void **state)
{
    struct ram *r = *state;
    free(r->b);
    free(r);
    return 0;
}

static struct walk_mem mem_of(struct ram *r)
{
    return (struct walk_mem){ .opaque = r, .read32 = cb_read32, .cmpxchg32 = cb_cmpxchg32 };
}

/* ---- the enumeration ---------------------------------------------------- */

enum {
    AC_PTE_P, AC_PTE_RW, AC_PTE_US, AC_PTE_A, AC_PTE_D, AC_PTE_BIT7,
    AC_PDE_P, AC_PDE_RW, AC_PDE_US, AC_PDE_A, AC_PDE_D, AC_PDE_PS, AC_PDE_BIT12, AC_PDE_BIT13,
    AC_CPU_WP, AC_CPU_PSE, AC_CPU_PAT,
    AC_ACCESS_USER, AC_ACCESS_WRITE, AC_ACCESS_FETCH, AC_SET_AD,
    NR_AC_FLAGS
};
#define F(x) ((flags >> (x)) & 1u)

static const char *const ac_names[NR_AC_FLAGS] = {
    "pte.p", "pte.rw", "pte.us", "pte.a", "pte.d", "pte.7",
    "pde.p", "pde.rw", "pde.us", "pde.a", "pde.d", "pde.ps", "pde.12", "pde.13",
    "cr0.wp", "cr4.pse", "cpuid.pat", "user", "write", "fetch", "set_ad",
};

/* One case of either enumeration (entries 32-bit, or 64-bit with PAE). */
struct ac_case {
    uint32_t linear, pde_gpa, pte_gpa;
    uint64_t pde, pte;
    struct walk_mode mode;
    enum walk_access acc;
    unsigned wflags;
    /* what the model expects */
    bool fault;
    uint32_t error;
    uint64_t pde_after, pte_after;
    uint8_t level, perm;
    uint32_t gpa, size;
    bool dirty;
};

static uint32_t bit(unsigned flags, unsigned f, uint32_t mask)
{
    return F(f) ? mask : 0;
}

static void ac_build(struct ac_case *c, unsigned flags, uint32_t linear)
{
    memset(c, 0, sizeof *c);
    c->linear = linear;
    c->pde = PT_GPA | bit(flags, AC_PDE_P, PTE_P) | bit(flags, AC_PDE_RW, PTE_RW) |
             bit(flags, AC_PDE_US, PTE_US) | bit(flags, AC_PDE_A, PTE_A) |
             bit(flags, AC_PDE_D, PTE_D) | bit(flags, AC_PDE_PS, PTE_PS) |
             bit(flags, AC_PDE_BIT12, 1u << 12) | bit(flags, AC_PDE_BIT13, 1u << 13);
    c->pte = PAGE_GPA | bit(flags, AC_PTE_P, PTE_P) | bit(flags, AC_PTE_RW, PTE_RW) |
             bit(flags, AC_PTE_US, PTE_US) | bit(flags, AC_PTE_A, PTE_A) |
             bit(flags, AC_PTE_D, PTE_D) | bit(flags, AC_PTE_BIT7, 1u << 7);
    c->pde_gpa = PD_GPA + (linear >> 22) * 4;
    /* If the walker reads a PTE it is from the table the PDE's bits 31:12
     * name, whatever PS says: that is where the test puts it. */
    c->pte_gpa = (c->pde & 0xfffff000u) + ((linear >> 12) & 0x3ff) * 4;
    c->mode = (struct walk_mode){ .cr3 = PD_GPA | 0x18 /* PWT|PCD: ignored */,
                                  .wp = F(AC_CPU_WP), .pse = F(AC_CPU_PSE), .pat = F(AC_CPU_PAT) };
    c->acc = F(AC_ACCESS_WRITE) ? WALK_WRITE : F(AC_ACCESS_FETCH) ? WALK_FETCH : WALK_READ;
    c->wflags = (F(AC_ACCESS_USER) ? WALK_USER : 0) | (F(AC_SET_AD) ? WALK_SET_AD : 0);
}

/* The end of both models, for a translation of `size`: A/D when asked
 * (§4.8: A in every entry used, D in the leaf on a write), and the address.
 * A large page's frame is PT_GPA (the PDE bits the test uses). */
static void ac_expect_translation(struct ac_case *c, bool set_ad, bool write, uint32_t size)
{
    bool large = size != PAGE_4K;

    if (set_ad) {
        c->pde_after |= PTE_A;
        if (large && write)
            c->pde_after |= PTE_D;
        if (!large) {
            c->pte_after |= PTE_A;
            if (write)
                c->pte_after |= PTE_D;
        }
    }
    c->size = size;
    c->gpa = large ? (PT_GPA & ~(size - 1)) | (c->linear & (size - 1)) : PAGE_GPA | (c->linear & 0xfffu);
    c->dirty = (large ? c->pde_after : c->pte_after) & PTE_D;
}

/* The model: what the SDM says this case does. Written as a sequence of
 * statements about the entries, after access.c's ac_emulate_access(). */
static void ac_expect(struct ac_case *c, unsigned flags)
{
    bool user = F(AC_ACCESS_USER), write = F(AC_ACCESS_WRITE);
    bool large, writable, user_ok;

    c->error = (write ? 2u : 0) | (user ? 4u : 0);   /* W/R, U/S; never I/D (§4.7) */
    c->pde_after = c->pde;
    c->pte_after = c->pte;

    /* The PDE. */
    if (!F(AC_PDE_P)) {
        c->fault = true;
        c->level = 2;
        return;
    }
    large = F(AC_CPU_PSE) && F(AC_PDE_PS);    /* PS means nothing without CR4.PSE */
    if (large && (F(AC_PDE_BIT13) || (F(AC_PDE_BIT12) && !F(AC_CPU_PAT)))) {
        c->fault = true;
        c->level = 2;
        c->error |= 1 | 8;
        return;
    }
    writable = F(AC_PDE_RW);
    user_ok = F(AC_PDE_US);

    /* The PTE, unless the PDE maps 4 MiB. */
    if (!large) {
        if (!F(AC_PTE_P)) {
            c->fault = true;
            c->level = 1;
            return;
        }
        if (F(AC_CPU_PSE) && !F(AC_CPU_PAT) && F(AC_PTE_BIT7)) {
            c->fault = true;
            c->level = 1;
            c->error |= 1 | 8;
            return;
        }
        writable = writable && F(AC_PTE_RW);
        user_ok = user_ok && F(AC_PTE_US);
    }

    c->perm = (writable || !F(AC_CPU_WP) ? WALK_PERM_SW : 0) |
              (user_ok ? WALK_PERM_UR : 0) | (user_ok && writable ? WALK_PERM_UW : 0);

    /* The rights. */
    c->error |= 1;
    if (user && !user_ok)
        c->fault = true;
    if (write && !writable && (user || F(AC_CPU_WP)))
        c->fault = true;
    if (c->fault)
        return;

    ac_expect_translation(c, F(AC_SET_AD), write, large ? PAGE_4M : PAGE_4K);
}

/* Run one case of either enumeration; returns NULL or what went wrong. */
static const char *ac_run(struct ram *r, const struct ac_case *c, struct walk *w)
{
    struct walk_mem m = mem_of(r);
    const struct walk_mode *mode = &c->mode;
    unsigned writes_expected;
    bool ok;

    entry_set(r, mode, c->pde_gpa, c->pde);
    entry_set(r, mode, c->pte_gpa, c->pte);
    r->cmpxchgs = r->writes = 0;
    memset(w, 0xa5, sizeof *w);
    ok = walk_translate(&m, mode, c->linear, c->acc, c->wflags, w);

    writes_expected = (c->pde_after != c->pde) + (c->pte_after != c->pte);
    if (ok == c->fault)
        return ok ? "translated, expected a fault" : "faulted, expected a translation";
    if (entry_get(r, mode, c->pde_gpa) != c->pde_after)
        return "PDE afterwards";
    if (c->pte_gpa != c->pde_gpa && entry_get(r, mode, c->pte_gpa) != c->pte_after)
        return "PTE afterwards";
    if (r->writes != writes_expected || r->cmpxchgs != writes_expected)
        return "number of cmpxchg";
    if (mode->pae && w->pdpte != mode->pdpte[c->linear >> 30])
        return "pdpte";
    if (!(c->fault && c->level == 3) && (w->pde_gpa != c->pde_gpa || w->pde != c->pde_after))
        return "pde_gpa/pde";
    if (c->fault) {
        if (w->error != c->error)
            return "error code";
        if (w->cr2 != c->linear)
            return "cr2";
        if (w->level != c->level)
            return "level";
        if (w->bus_error)
            return "bus_error";
        return NULL;
    }
    if (w->gpa != c->gpa || w->frame != (c->gpa & ~0xfffu))
        return "gpa/frame";
    if (w->page_size != c->size)
        return "page size";
    if (w->perm != c->perm)
        return "perm";
    if (w->dirty != c->dirty)
        return "dirty";
    if (c->size == PAGE_4K && (w->pte_gpa != c->pte_gpa || w->pte != c->pte_after))
        return "pte_gpa/pte";
    if (c->size != PAGE_4K && (w->pte_gpa != WALK_NO_PTE || w->pte != 0))
        return "large-page walk reports a PTE";
    return NULL;
}

/* One enumeration: its flags, its model, how it counts. */
struct ac_kind {
    const char *tag;
    unsigned nflags, write_flag, fetch_flag;
    const char *const *names;
    void (*build)(struct ac_case *c, unsigned flags, uint32_t linear);
    void (*expect)(struct ac_case *c, unsigned flags);
    uint32_t seed;
};

struct ac_tally { unsigned cases, faults, large, rsvd, nx, pdpte, failures; };

/* Every combination of k's flags at a linear address that moves the PDE
 * and PTE around the tables (xorshift32, never page aligned); afterwards
 * the rest of guest RAM must be untouched (it starts zeroed). */
static struct ac_tally ac_enumerate(struct ram *r, const struct ac_kind *k)
{
    struct ac_tally t = { 0 };
    uint32_t x = k->seed;

    for (unsigned flags = 0; flags < (1u << k->nflags); flags++) {
        struct ac_case c;
        struct walk w;
        const char *why;

        if (F(k->write_flag) && F(k->fetch_flag))
            continue;
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        k->build(&c, flags, x | 0x10u);
        k->expect(&c, flags);
        why = ac_run(r, &c, &w);
        t.cases++;
        t.faults += c.fault;
        t.large += c.size != PAGE_4K && !c.fault;
        t.rsvd += c.fault && (c.error & PFEC_RSVD);
        t.nx += c.fault && c.level == 0 && (c.error & PFEC_I);
        t.pdpte += c.fault && c.level == 3;
        if (why && ++t.failures <= 10) {
            char desc[400];
            size_t o = snprintf(desc, sizeof desc, "[");
            for (unsigned i = 0; i < k->nflags && o < sizeof desc; i++)
                if (F(i))
                    o += snprintf(desc + o, sizeof desc - o, " %s", k->names[i]);
            print_message("FAIL %s %s ] at 0x%08x: %s (got error %#x level %u perm %#x gpa %#x)\n",
                          k->tag, desc, c.linear, why, w.error, w.level, w.perm, w.gpa);
        }
        entry_set(r, &c.mode, c.pde_gpa, 0);    /* undo */
        entry_set(r, &c.mode, c.pte_gpa, 0);
    }
    for (uint32_t i = 0; i < RAM_SIZE; i += 4)
        if (ram_get(r, i) && ++t.failures <= 10)
            print_message("FAIL %s: stray write at 0x%x\n", k->tag, i);
    print_message("%s walker: %u cases (%u faults, %u reserved-bit, %u at the PDPTE, %u with I/D, "
                  "%u via large pages), %u failures\n", k->tag, t.cases, t.faults, t.rsvd, t.pdpte,
                  t.nx, t.large, t.failures);
    return t;
}

static void test_access_enumeration(void **state)
{
    static const struct ac_kind k = { "32-bit", NR_AC_FLAGS, AC_ACCESS_WRITE, AC_ACCESS_FETCH,
                                      ac_names, ac_build, ac_expect, 0x2545f491u };
    struct ac_tally t = ac_enumerate(*state, &k);

    assert_int_equal(t.failures, 0);
    /* The model is not vacuous: it covers every outcome. */
    assert_true(t.faults > 0 && t.rsvd > 0 && t.large > 0 && t.faults < t.cases);
}

/* ---- known answers ------------------------------------------------------ */

/* A little Linux-like address space: the kernel's 4 MiB page at
 * 0xC0000000 -> 0x00000000, a user page table for 0x08048000. */
static void linux_like(struct ram *r)
{
    memset(r->b, 0, RAM_SIZE);
    ram_set(r, PD_GPA + (0xc0000000u >> 22) * 4, 0x00000000u | PTE_PS | PTE_A | PTE_D | PTE_RW | PTE_P);
    ram_set(r, PD_GPA + (0x08048000u >> 22) * 4, 0x00003000u | PTE_US | PTE_RW | PTE_P);
    /* text: user, read-only, accessed */
    ram_set(r, 0x3000 + ((0x08048000u >> 12) & 0x3ff) * 4, 0x00123000u | PTE_US | PTE_A | PTE_P);
    /* data: user, writable, clean, not accessed */
    ram_set(r, 0x3000 + ((0x08049000u >> 12) & 0x3ff) * 4, 0x00124000u | PTE_US | PTE_RW | PTE_P);
    /* a supervisor-only page in the user table */
    ram_set(r, 0x3000 + ((0x0804a000u >> 12) & 0x3ff) * 4, 0x00125000u | PTE_RW | PTE_P);
}

static void test_known_answers(void **state)
{
    struct ram *r = *state;
    struct walk_mem m = mem_of(r);
    struct walk_mode pse_wp = walk_mode_of(0x80010011u, PD_GPA, 0x10u, true);
    struct walk_mode nopse = walk_mode_of(0x80000011u, PD_GPA, 0, true);
    struct walk w;
    static const struct {
        uint32_t linear;
        enum walk_access acc;
        unsigned flags;
        bool ok;
        uint32_t gpa_or_error;
    } k[] = {
        /* kernel 4 MiB page: the 4 KiB frame inside it */
        { 0xc0123456u, WALK_READ, 0, true, 0x00123456u },
        { 0xc03ffffcu, WALK_WRITE, 0, true, 0x003ffffcu },
        { 0xc0123456u, WALK_READ, WALK_USER, false, 0x5 },          /* user -> supervisor: P|U */
        { 0xc0123456u, WALK_WRITE, WALK_USER, false, 0x7 },         /* P|W|U */
        { 0xc0123456u, WALK_FETCH, WALK_USER, false, 0x5 },         /* no I/D bit */
        /* user text */
        { 0x08048123u, WALK_FETCH, WALK_USER, true, 0x00123123u },
        { 0x08048123u, WALK_WRITE, WALK_USER, false, 0x7 },         /* write to read-only */
        { 0x08048123u, WALK_WRITE, 0, false, 0x3 },                 /* supervisor, CR0.WP=1 */
        /* user data */
        { 0x08049ffcu, WALK_WRITE, WALK_USER, true, 0x00124ffcu },
        /* supervisor-only page */
        { 0x0804a000u, WALK_READ, WALK_USER, false, 0x5 },
        { 0x0804a000u, WALK_WRITE, 0, true, 0x00125000u },
        /* not present: PTE, then PDE */
        { 0x0804b000u, WALK_READ, WALK_USER, false, 0x4 },
        { 0x0804b000u, WALK_WRITE, WALK_USER, false, 0x6 },
        { 0x0804b000u, WALK_WRITE, 0, false, 0x2 },
        { 0x40000000u, WALK_READ, 0, false, 0x0 },
        { 0xffffffffu, WALK_FETCH, 0, false, 0x0 },
    };

    linux_like(r);
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        bool ok = walk32(&m, &pse_wp, k[i].linear, k[i].acc, k[i].flags | WALK_SET_AD, &w);
        if (ok != k[i].ok || (ok ? w.gpa : w.error) != k[i].gpa_or_error)
            fail_msg("case %zu (0x%08x): ok=%d gpa=%#x error=%#x", i, k[i].linear, ok, w.gpa, w.error);
        if (!ok)
            assert_int_equal(w.cr2, k[i].linear);
    }
    /* A/D observed afterwards: data PTE accessed and dirty, its PDE
     * accessed, the read-only text PTE still clean. */
    assert_int_equal(ram_get(r, 0x3000 + 0x49 * 4), 0x00124000u | PTE_US | PTE_RW | PTE_P | PTE_A | PTE_D);
    assert_true(ram_get(r, PD_GPA + 0x20 * 4) & PTE_A);
    assert_false(ram_get(r, PD_GPA + 0x20 * 4) & PTE_D);   /* D of a non-leaf PDE: never */
    assert_int_equal(ram_get(r, 0x3000 + 0x48 * 4), 0x00123000u | PTE_US | PTE_A | PTE_P);

    /* Without CR4.PSE the kernel's PS=1 PDE references a page table at
     * 0x00000000 (whose entry for 0xc0123456 is zero): not present. With
     * PSE, bits 21:13 set in a 4 MiB PDE are reserved: P|RSVD|W. */
    assert_false(walk32(&m, &nopse, 0xc0123456u, WALK_READ, 0, &w));
    assert_int_equal(w.error, 0);
    assert_int_equal(w.pte_gpa, 0x123u * 4);
    ram_set(r, PD_GPA + 0x300 * 4, 0x00002000u | PTE_PS | PTE_RW | PTE_P);
    assert_false(walk32(&m, &pse_wp, 0xc0123456u, WALK_WRITE, 0, &w));
    assert_int_equal(w.error, PFEC_P | PFEC_RSVD | PFEC_W);
    assert_int_equal(w.level, 2);
    /* ... and the same PDE without PSE is a table pointer like any other. */
    ram_set(r, 0x2000 + 0x123 * 4, 0x00777000u | PTE_P);
    assert_true(walk32(&m, &nopse, 0xc0123456u, WALK_WRITE, 0, &w));
    assert_int_equal(w.gpa, 0x00777456u);
    assert_int_equal(w.perm, WALK_PERM_SW);   /* CR0.WP=0: the read-only page is writable */
}

static void test_cr0_wp(void **state)
{
    struct ram *r = *state;
    struct walk_mem m = mem_of(r);
    struct walk_mode wp0 = { .cr3 = PD_GPA, .wp = false, .pse = true, .pat = true };
    struct walk_mode wp1 = wp0;
    struct walk w;

    wp1.wp = true;
    linux_like(r);
    /* A supervisor write to the user's read-only text: allowed with WP=0,
     * and it dirties the page. */
    assert_false(walk32(&m, &wp1, 0x08048000u, WALK_WRITE, WALK_SET_AD, &w));
    assert_int_equal(w.error, PFEC_P | PFEC_W);
    assert_true(walk32(&m, &wp0, 0x08048000u, WALK_WRITE, WALK_SET_AD, &w));
    assert_true(w.dirty);
    assert_int_equal(w.perm, WALK_PERM_SW | WALK_PERM_UR);
    assert_true(ram_get(r, 0x3000 + 0x48 * 4) & PTE_D);
    /* Never for a user write, whatever WP. */
    assert_false(walk32(&m, &wp0, 0x08048000u, WALK_WRITE, WALK_USER | WALK_SET_AD, &w));
    assert_int_equal(w.error, PFEC_P | PFEC_W | PFEC_U);
}

static void test_pat_reserved(void **state)
{
    struct ram *r = *state;
    struct walk_mem m = mem_of(r);
    struct walk_mode pse_nopat = { .cr3 = PD_GPA, .wp = true, .pse = true, .pat = false };
    struct walk_mode pse_pat = pse_nopat, nopse = pse_nopat;
    struct walk w;

    pse_pat.pat = true;
    nopse.pse = false;
    memset(r->b, 0, RAM_SIZE);
    ram_set(r, PD_GPA, 0x3000u | PTE_P | PTE_RW);
    ram_set(r, 0x3000, 0x5000u | PTE_PAT | PTE_P);               /* PTE with bit 7 */
    ram_set(r, PD_GPA + 4, 0x00400000u | PDE_PAT | PTE_PS | PTE_P);   /* 4 MiB PDE with bit 12 */

    assert_false(walk32(&m, &pse_nopat, 0x0, WALK_READ, 0, &w));
    assert_int_equal(w.error, PFEC_P | PFEC_RSVD);
    assert_int_equal(w.level, 1);
    assert_true(walk32(&m, &pse_pat, 0x0, WALK_READ, 0, &w));
    assert_true(walk32(&m, &nopse, 0x0, WALK_READ, 0, &w));     /* nothing reserved without PSE */

    assert_false(walk32(&m, &pse_nopat, 0x00400000u, WALK_FETCH, WALK_USER, &w));
    assert_int_equal(w.error, PFEC_P | PFEC_RSVD | PFEC_U);
    assert_int_equal(w.level, 2);
    assert_true(walk32(&m, &pse_pat, 0x00412345u, WALK_READ, 0, &w));
    assert_int_equal(w.gpa, 0x00412345u);   /* PAT bit 12 is not an address bit */
    assert_int_equal(w.page_size, PAGE_4M);

    /* The helpers agree. */
    assert_int_equal(walk_pte_rsvd(&pse_nopat, PTE_PAT | PTE_P), PTE_PAT);
    assert_int_equal(walk_pte_rsvd(&nopse, PTE_PAT | PTE_P), 0);
    assert_int_equal(walk_pde_rsvd(&pse_pat, 0x00c00000u | PTE_PS | PTE_P), 0);
    assert_int_equal(walk_pde_rsvd(&pse_pat, 0x00202000u | PTE_PS | PTE_P), 0x00202000u);
    assert_int_equal(walk_pde_rsvd(&pse_nopat, 0x00201000u | PTE_PS | PTE_P), 0x00201000u);
    assert_int_equal(walk_pde_rsvd(&pse_nopat, 0x00201000u | PTE_P), 0);   /* PS=0 */
    assert_int_equal(walk_pde_rsvd(&nopse, 0x00201000u | PTE_PS | PTE_P), 0);
    assert_true(walk_pde_is_4m(&pse_pat, PTE_PS));
    assert_false(walk_pde_is_4m(&nopse, PTE_PS));
}

/* A/D are written once, with one cmpxchg per entry, and not at all without
 * WALK_SET_AD or on a faulting walk. */
static void test_ad_updates(void **state)
{
    struct ram *r = *state;
    struct walk_mem m = mem_of(r);
    struct walk_mode mode = { .cr3 = PD_GPA, .wp = true, .pse = true, .pat = true };
    struct walk w;

    linux_like(r);
    r->cmpxchgs = r->writes = 0;
    assert_true(walk32(&m, &mode, 0x08049000u, WALK_READ, WALK_USER, &w));   /* probe */
    assert_false(w.dirty);
    assert_int_equal(r->cmpxchgs, 0);
    assert_false(w.pte & PTE_A);

    assert_true(walk32(&m, &mode, 0x08049000u, WALK_READ, WALK_USER | WALK_SET_AD, &w));
    assert_int_equal(r->writes, 2);           /* PDE.A, PTE.A */
    assert_false(w.dirty);
    assert_int_equal(w.pte, 0x00124000u | PTE_US | PTE_RW | PTE_P | PTE_A);
    assert_true(walk32(&m, &mode, 0x08049000u, WALK_READ, WALK_USER | WALK_SET_AD, &w));
    assert_int_equal(r->writes, 2);           /* nothing left to set */
    assert_true(walk32(&m, &mode, 0x08049000u, WALK_WRITE, WALK_USER | WALK_SET_AD, &w));
    assert_int_equal(r->writes, 3);           /* PTE.D */
    assert_true(w.dirty);
    assert_true(walk32(&m, &mode, 0x08049000u, WALK_WRITE, WALK_USER | WALK_SET_AD, &w));
    assert_int_equal(r->writes, 3);

    /* A write to a clean, unaccessed PTE sets A and D in one cmpxchg. */
    ram_set(r, 0x3000 + 0x4c * 4, 0x00200000u | PTE_US | PTE_RW | PTE_P);
    r->cmpxchgs = r->writes = 0;
    assert_true(walk32(&m, &mode, 0x0804c000u, WALK_WRITE, WALK_USER | WALK_SET_AD, &w));
    assert_int_equal(r->cmpxchgs, 1);
    assert_int_equal(ram_get(r, 0x3000 + 0x4c * 4), 0x00200000u | PTE_US | PTE_RW | PTE_P | PTE_A | PTE_D);

    /* Faulting walks write nothing, not even A in the PDE they used. */
    ram_set(r, PD_GPA + 0x20 * 4, 0x00003000u | PTE_US | PTE_RW | PTE_P);
    r->cmpxchgs = 0;
    assert_false(walk32(&m, &mode, 0x0804b000u, WALK_READ, WALK_USER | WALK_SET_AD, &w));
    assert_false(walk32(&m, &mode, 0x0804a000u, WALK_READ, WALK_USER | WALK_SET_AD, &w));
    assert_int_equal(r->cmpxchgs, 0);
    assert_int_equal(ram_get(r, PD_GPA + 0x20 * 4), 0x00003000u | PTE_US | PTE_RW | PTE_P);

    /* A 4 MiB page gets A and D in the PDE itself. */
    ram_set(r, PD_GPA + 0x300 * 4, 0x00000000u | PTE_PS | PTE_RW | PTE_P);
    assert_true(walk32(&m, &mode, 0xc0000000u, WALK_WRITE, WALK_SET_AD, &w));
    assert_int_equal(ram_get(r, PD_GPA + 0x300 * 4), PTE_PS | PTE_RW | PTE_P | PTE_A | PTE_D);
    assert_int_equal(w.pde, PTE_PS | PTE_RW | PTE_P | PTE_A | PTE_D);
    assert_true(w.dirty);
}

/* The callbacks' failure modes: unbacked tables, lost races. */
static void test_bus_errors_and_races(void **state)
{
    struct ram *r = *state;
    struct walk_mem m = mem_of(r);
    struct walk_mode mode = { .cr3 = PD_GPA, .wp = true, .pse = true, .pat = true };
    struct walk_mode far = { .cr3 = 0xfffff000u, .wp = true, .pse = true, .pat = true };
    struct walk w;
    uint32_t pte_gpa = 0x3000 + 0x49 * 4;

    linux_like(r);
    /* The page directory outside RAM: not present, flagged. */
    assert_false(walk32(&m, &far, 0x1000, WALK_WRITE, WALK_USER, &w));
    assert_true(w.bus_error);
    assert_int_equal(w.error, PFEC_W | PFEC_U);
    assert_int_equal(w.level, 2);
    /* A PDE that points outside RAM. */
    ram_set(r, PD_GPA + 0x100 * 4, 0xfff00000u | PTE_P | PTE_RW);
    assert_false(walk32(&m, &mode, 0x40000000u, WALK_READ, 0, &w));
    assert_true(w.bus_error);
    assert_int_equal(w.level, 1);
    assert_int_equal(w.error, 0);

    /* Another agent clears P in the PTE between our read and our A update:
     * the walk starts over and sees a not-present PTE. */
    r->cmpxchgs = 0;
    r->race_at = 2;                     /* the PTE's cmpxchg (the PDE's is first) */
    r->race_gpa = pte_gpa;
    r->race_val = 0;
    assert_false(walk32(&m, &mode, 0x08049000u, WALK_READ, WALK_USER | WALK_SET_AD, &w));
    assert_int_equal(w.error, PFEC_U);
    assert_int_equal(w.level, 1);
    assert_false(w.bus_error);
    assert_true(ram_get(r, PD_GPA + 0x20 * 4) & PTE_A);   /* the PDE's A stays: sticky */

    /* A benign race (someone else set A): the retry succeeds. */
    ram_set(r, pte_gpa, 0x00124000u | PTE_US | PTE_RW | PTE_P);
    r->cmpxchgs = 0;
    r->race_at = 1;
    r->race_val = 0x00124000u | PTE_US | PTE_RW | PTE_P | PTE_A;
    assert_true(walk32(&m, &mode, 0x08049000u, WALK_WRITE, WALK_USER | WALK_SET_AD, &w));
    assert_int_equal(ram_get(r, pte_gpa), 0x00124000u | PTE_US | PTE_RW | PTE_P | PTE_A | PTE_D);
    assert_true(w.dirty);

    /* A cmpxchg that always loses does not hang the walker. */
    ram_set(r, pte_gpa, 0x00124000u | PTE_US | PTE_RW | PTE_P);
    r->race_at = 0;
    r->race_always = true;
    r->race_val = 0x00124000u | PTE_US | PTE_RW | PTE_P;
    r->cmpxchgs = 0;
    assert_false(walk32(&m, &mode, 0x08049000u, WALK_WRITE, WALK_USER | WALK_SET_AD, &w));
    assert_true(w.bus_error);
    assert_true(r->cmpxchgs >= 2 && r->cmpxchgs < 1000);
    r->race_always = false;
}

static void test_perm_helper(void **state)
{
    struct walk_mode wp = { .wp = true }, nowp = { .wp = false };
    const uint32_t P = PTE_P, W = PTE_RW, U = PTE_US;

    assert_int_equal(walk_perm(&wp, P | W | U, P | W | U), WALK_PERM_SW | WALK_PERM_UR | WALK_PERM_UW);
    assert_int_equal(walk_perm(&wp, P | U, P | W | U), WALK_PERM_UR);          /* R/W ANDed */
    assert_int_equal(walk_perm(&wp, P | W | U, P | W), WALK_PERM_SW);          /* U/S ANDed */
    assert_int_equal(walk_perm(&wp, P | W, P | W | U), WALK_PERM_SW);
    assert_int_equal(walk_perm(&nowp, P | U, P | U), WALK_PERM_SW | WALK_PERM_UR);
    assert_int_equal(walk_perm(&nowp, P, P), WALK_PERM_SW);
    assert_int_equal(walk_perm(&wp, P, P), 0);
}

/* ---- PAE paging: the enumeration over 64-bit entries ---------------------- */

/* The same method for PAE (SDM vol. 3A §4.4): every combination of PDPTE.P,
 * PDE bits {P, R/W, U/S, A, D, PS, bit 13, XD, bit 32}, PTE bits {P, R/W,
 * U/S, A, D, XD, bit 33}, CR0.WP, EFER.NXE and the access. Bits 32 and 33
 * lie above MAXPHYADDR (32): reserved; XD is reserved without NXE; a fetch
 * has I/D in its error code with NXE. The tables: PDPTE -> PD at PD_GPA
 * (512 entries of 8 bytes) -> PT at PT_GPA, 2 MiB aligned so the PDE can
 * also be read as a 2 MiB frame. */
enum {
    PX_PTE_P, PX_PTE_RW, PX_PTE_US, PX_PTE_A, PX_PTE_D, PX_PTE_XD, PX_PTE_HI,
    PX_PDE_P, PX_PDE_RW, PX_PDE_US, PX_PDE_A, PX_PDE_D, PX_PDE_PS, PX_PDE_BIT13, PX_PDE_XD,
    PX_PDE_HI, PX_PDPTE_P, PX_CPU_WP, PX_CPU_NXE,
    PX_ACCESS_USER, PX_ACCESS_WRITE, PX_ACCESS_FETCH, PX_SET_AD,
    NR_PX_FLAGS
};

static const char *const px_names[NR_PX_FLAGS] = {
    "pte.p", "pte.rw", "pte.us", "pte.a", "pte.d", "pte.xd", "pte.33",
    "pde.p", "pde.rw", "pde.us", "pde.a", "pde.d", "pde.ps", "pde.13", "pde.xd", "pde.32",
    "pdpte.p", "cr0.wp", "efer.nxe", "user", "write", "fetch", "set_ad",
};

static uint64_t bit64(unsigned flags, unsigned f, uint64_t mask)
{
    return F(f) ? mask : 0;
}

static void px_build(struct ac_case *c, unsigned flags, uint32_t linear)
{
    memset(c, 0, sizeof *c);
    c->linear = linear;
    c->pde = PT_GPA | bit64(flags, PX_PDE_P, PTE_P) | bit64(flags, PX_PDE_RW, PTE_RW) |
             bit64(flags, PX_PDE_US, PTE_US) | bit64(flags, PX_PDE_A, PTE_A) |
             bit64(flags, PX_PDE_D, PTE_D) | bit64(flags, PX_PDE_PS, PTE_PS) |
             bit64(flags, PX_PDE_BIT13, 1u << 13) | bit64(flags, PX_PDE_XD, PAE_XD) |
             bit64(flags, PX_PDE_HI, 1ull << 32);
    c->pte = PAGE_GPA | bit64(flags, PX_PTE_P, PTE_P) | bit64(flags, PX_PTE_RW, PTE_RW) |
             bit64(flags, PX_PTE_US, PTE_US) | bit64(flags, PX_PTE_A, PTE_A) |
             bit64(flags, PX_PTE_D, PTE_D) | bit64(flags, PX_PTE_XD, PAE_XD) |
             bit64(flags, PX_PTE_HI, 1ull << 33);
    c->pde_gpa = PD_GPA + ((linear >> 21) & 511) * 8;
    /* As in 32-bit: the PTE is read from where the PDE points, bit 13 too. */
    c->pte_gpa = ((uint32_t)c->pde & 0xfffff000u) + ((linear >> 12) & 511) * 8;
    c->mode = (struct walk_mode){ .cr3 = 0xdead0000u /* unused with PAE */, .wp = F(PX_CPU_WP),
                                  .pat = true, .pae = true, .nxe = F(PX_CPU_NXE) };
    /* Only the PDPTE for this address is present (or not): the others
     * must not be consulted. */
    c->mode.pdpte[linear >> 30] = PD_GPA | bit64(flags, PX_PDPTE_P, PTE_P);
    c->acc = F(PX_ACCESS_WRITE) ? WALK_WRITE : F(PX_ACCESS_FETCH) ? WALK_FETCH : WALK_READ;
    c->wflags = (F(PX_ACCESS_USER) ? WALK_USER : 0) | (F(PX_SET_AD) ? WALK_SET_AD : 0);
}

static void px_expect(struct ac_case *c, unsigned flags)
{
    bool user = F(PX_ACCESS_USER), write = F(PX_ACCESS_WRITE), fetch = F(PX_ACCESS_FETCH);
    bool nxe = F(PX_CPU_NXE), large, writable, user_ok, nx;

    c->error = (write ? 2u : 0) | (user ? 4u : 0) | (fetch && nxe ? 16u : 0);   /* §4.7 */
    c->pde_after = c->pde;
    c->pte_after = c->pte;
    if (!F(PX_PDPTE_P)) {
        c->fault = true;
        c->level = 3;
        return;
    }
    if (!F(PX_PDE_P)) {
        c->fault = true;
        c->level = 2;
        return;
    }
    large = F(PX_PDE_PS);                     /* PAE: PS counts whatever CR4.PSE says */
    if (F(PX_PDE_HI) || (F(PX_PDE_XD) && !nxe) || (large && F(PX_PDE_BIT13))) {
        c->fault = true;
        c->level = 2;
        c->error |= 1 | 8;
        return;
    }
    writable = F(PX_PDE_RW);
    user_ok = F(PX_PDE_US);
    nx = nxe && F(PX_PDE_XD);
    if (!large) {
        if (!F(PX_PTE_P)) {
            c->fault = true;
            c->level = 1;
            return;
        }
        if (F(PX_PTE_HI) || (F(PX_PTE_XD) && !nxe)) {
            c->fault = true;
            c->level = 1;
            c->error |= 1 | 8;
            return;
        }
        writable = writable && F(PX_PTE_RW);
        user_ok = user_ok && F(PX_PTE_US);
        nx = nx || (nxe && F(PX_PTE_XD));
    }
    c->perm = (writable || !F(PX_CPU_WP) ? WALK_PERM_SW : 0) | (user_ok ? WALK_PERM_UR : 0) |
              (user_ok && writable ? WALK_PERM_UW : 0) | (nx ? WALK_PERM_NX : 0);
    c->error |= 1;
    if ((user && !user_ok) || (write && !writable && (user || F(PX_CPU_WP))) || (fetch && nx))
        c->fault = true;
    if (c->fault)
        return;
    ac_expect_translation(c, F(PX_SET_AD), write, large ? PAGE_2M : PAGE_4K);
}

static void test_pae_enumeration(void **state)
{
    static const struct ac_kind k = { "PAE", NR_PX_FLAGS, PX_ACCESS_WRITE, PX_ACCESS_FETCH,
                                      px_names, px_build, px_expect, 0x6b8b4567u };
    struct ac_tally t = ac_enumerate(*state, &k);

    assert_int_equal(t.failures, 0);
    assert_true(t.faults > 0 && t.rsvd > 0 && t.large > 0 && t.nx > 0 && t.pdpte > 0 &&
                t.faults < t.cases);
}

/* PAE by hand: literal numbers for the PDPTE check, the frame of a 2 MiB
 * page, an XD fetch, A/D in the low dword, reads beyond RAM. */
static void test_pae_known_answers(void **state)
{
    struct ram *r = *state;
    struct walk_mem m = mem_of(r);
    struct walk_mode mode = { .wp = true, .pat = true, .pae = true, .nxe = true,
                              .pdpte = { PD_GPA | 1, 0, 0xfff00000u | 1, PD_GPA | 1 } };
    struct walk w;

    memset(r->b, 0, RAM_SIZE);
    /* PDPTE reserved bits (§4.4.1): 63:32, 8:5, 2:1; none if not present. */
    assert_int_equal(walk_pdpte_rsvd(0x12345000u | 1), 0);
    assert_int_equal(walk_pdpte_rsvd(0x12345000u | 0x18 | 1), 0);     /* PWT, PCD */
    assert_int_equal(walk_pdpte_rsvd(0x12345000u | 2 | 1), 2);        /* R/W is reserved */
    assert_int_equal(walk_pdpte_rsvd(0x12345000u | 0x20 | 1), 0x20);  /* A is reserved */
    assert_int_equal(walk_pdpte_rsvd((1ull << 63) | 1), 1ull << 63);   /* no XD in a PDPTE */
    assert_int_equal(walk_pdpte_rsvd((1ull << 32) | 1), 1ull << 32);   /* above MAXPHYADDR */
    assert_int_equal(walk_pdpte_rsvd(0xffffffffffffffeull), 0);        /* not present */

    /* 0xc0345678: PDPTE 3, PDE 1 maps 2 MiB at 0x00600000. */
    ram_set64(r, PD_GPA + 1 * 8, 0x00600000u | PTE_PS | PTE_RW | PTE_P);
    assert_true(walk_translate(&m, &mode, 0xc0345678u, WALK_WRITE, WALK_SET_AD, &w));
    assert_int_equal(w.gpa, 0x00745678u);
    assert_int_equal(w.frame, 0x00745000u);
    assert_int_equal(w.page_size, PAGE_2M);
    assert_int_equal(ram_get64(r, PD_GPA + 8), 0x00600000u | PTE_PS | PTE_RW | PTE_P | PTE_A | PTE_D);
    /* XD on the 2 MiB page: reads fine, a fetch faults with I/D. */
    ram_set64(r, PD_GPA + 1 * 8, PAE_XD | 0x00600000u | PTE_PS | PTE_RW | PTE_P | PTE_A);
    assert_true(walk_translate(&m, &mode, 0xc0345678u, WALK_READ, 0, &w));
    assert_false(walk_translate(&m, &mode, 0xc0345678u, WALK_FETCH, 0, &w));
    assert_int_equal(w.error, PFEC_P | PFEC_I);
    assert_int_equal(w.level, 0);
    /* The A update wrote the low dword only: XD survives it. */
    assert_true(walk_translate(&m, &mode, 0xc0345678u, WALK_WRITE, WALK_SET_AD, &w));
    assert_int_equal(ram_get64(r, PD_GPA + 8), PAE_XD | 0x00600000u | PTE_PS | PTE_RW | PTE_P |
                     PTE_A | PTE_D);
    /* Without NXE the same entry has a reserved bit: RSVD, no I/D. */
    mode.nxe = false;
    assert_false(walk_translate(&m, &mode, 0xc0345678u, WALK_FETCH, WALK_USER, &w));
    assert_int_equal(w.error, PFEC_P | PFEC_RSVD | PFEC_U);
    mode.nxe = true;
    /* A not-present PDPTE (index 1): level 3, I/D on a fetch. */
    assert_false(walk_translate(&m, &mode, 0x40000000u, WALK_FETCH, WALK_USER, &w));
    assert_int_equal(w.error, PFEC_U | PFEC_I);
    assert_int_equal(w.level, 3);
    /* A page directory beyond RAM: not present, flagged, as in 32-bit. */
    assert_false(walk_translate(&m, &mode, 0x80000000u, WALK_READ, 0, &w));
    assert_true(w.bus_error);
    assert_int_equal(w.level, 2);
    /* 4 KiB: PDE 0 of PDPTE 0 -> PT at 0x3000 -> 0x00123000; linear 0x5123. */
    ram_set64(r, PD_GPA, 0x3000u | PTE_US | PTE_RW | PTE_P);
    ram_set64(r, 0x3000 + 5 * 8, 0x00123000u | PTE_US | PTE_P);
    assert_true(walk_translate(&m, &mode, 0x5123u, WALK_READ, WALK_USER | WALK_SET_AD, &w));
    assert_int_equal(w.gpa, 0x00123123u);
    assert_int_equal(w.pte_gpa, 0x3000 + 5 * 8);
    assert_int_equal(w.perm, WALK_PERM_UR);
    assert_true(ram_get(r, PD_GPA) & PTE_A);
    assert_true(ram_get(r, 0x3000 + 5 * 8) & PTE_A);
    assert_false(walk_translate(&m, &mode, 0x5123u, WALK_WRITE, WALK_USER, &w));
    assert_int_equal(w.error, PFEC_P | PFEC_W | PFEC_U);
    /* PS in a PAE PDE counts without CR4.PSE; PSE changes nothing. */
    assert_false(mode.pse);
    assert_true(walk_pde_is_large(&mode, PTE_PS));
    /* 32-bit paging: the I/D bit is never set. */
    {
        struct walk_mode m32 = { .cr3 = PD_GPA, .wp = true, .pat = true, .nxe = true };
        memset(r->b, 0, 8192);
        assert_false(walk_translate(&m, &m32, 0x5123u, WALK_FETCH, 0, &w));
        assert_int_equal(w.error, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_access_enumeration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_known_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cr0_wp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pat_reserved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ad_updates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bus_errors_and_races, setup, teardown),
        cmocka_unit_test(test_perm_helper),
        cmocka_unit_test_setup_teardown(test_pae_enumeration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pae_known_answers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
