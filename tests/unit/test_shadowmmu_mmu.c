/* The shadow space manager (shadowmmu/mmu*.c) with real host mappings.
 *
 * Guest page tables are built in the RAM memfd through ram_ptr; a space is
 * activated and mmu_fault is called the way the SIGSEGV handler will call
 * it; then the test looks at the host window directly: what a page reads
 * (every data frame is stamped with its own address), and whether a read
 * or a write of it faults (probe(), a sigsetjmp around one access). The
 * number of VMAs in a reservation, counted in /proc/self/maps, must equal
 * the mmu's model of it. The last test runs random page-table edits,
 * stores, CR3 switches and code registrations and checks after each that
 * every page mapped in a window is one the guest's tables allow, with the
 * frame they name, read-only where D is clear or the frame traced or code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shadowmmu/mmu.h"
#include "shadowmmu/walk.h"

#define PAGING (CR0_PG | CR0_WP | CR0_PE)

#define RAM_SIZE (16u << 20)
#define RAM2_GPA 0x02000000u    /* a second region, 1 MiB, after a hole */
#define RAM2_SIZE (1u << 20)

#define PD  0x10000u
#define PT0 0x11000u            /* linear 0..4 MiB -> identity */
#define PT1 0x12000u            /* linear 4..8 MiB */
#define PDB 0x20000u            /* a second address space */
#define PDC 0x30000u            /* a third */
#define F(x) ((x) | PTE_P)
#define RWUAD (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)

/* ---- fixture ------------------------------------------------------------ */

struct fx {
    struct guest_ram ram;
    struct mmu *m;
};

static uint32_t g32(struct fx *f, uint32_t gpa)
{
    uint32_t v;
    memcpy(&v, ram_ptr(&f->ram, gpa, 4), 4);
    return v;
}

static void s32(struct fx *f, uint32_t gpa, uint32_t v)
{
    memcpy(ram_ptr(&f->ram, gpa, 4), &v, 4);
}

static void set_pde(struct fx *f, uint32_t pd, uint32_t linear, uint32_t v)
{
    s32(f, pd + (linear >> 22) * 4, v);
}

static void set_pte(struct fx *f, uint32_t pt, uint32_t linear, uint32_t v)
{
    s32(f, pt + ((linear >> 12) & 0x3ff) * 4, v);
}
static uint32_t get_pte(struct fx *f, uint32_t pt, uint32_t linear)
{
    return g32(f, pt + ((linear >> 12) & 0x3ff) * 4);
}

/* Two views unless a test asks for one (mk_one_view): most tests here
 * check the user view itself. */
static struct fx *mk_cfg(const struct mmu_config *cfg);
static struct fx *mk(const struct mmu_config *cfg)
{
    struct mmu_config c = *cfg;

    c.two_views = true;
    return mk_cfg(&c);
}

static struct fx *mk_cfg(const struct mmu_config *cfg)
{
    struct fx *f = calloc(1, sizeof *f);
    char err[200];

    assert_non_null(f);
    assert_int_equal(ram_init(&f->ram, err, sizeof err), 0);
    assert_int_equal(ram_add(&f->ram, 0, RAM_SIZE, err, sizeof err), 0);
    assert_int_equal(ram_add(&f->ram, RAM2_GPA, RAM2_SIZE, err, sizeof err), 0);
    /* Every data frame holds its own address in its first dword. */
    for (uint32_t a = 0x100000; a < RAM_SIZE; a += 4096)
        s32(f, a, a);
    for (uint32_t a = RAM2_GPA; a < RAM2_GPA + RAM2_SIZE; a += 4096)
        s32(f, a, a);
    f->m = mmu_create(cfg, &f->ram, err, sizeof err);
    if (!f->m)
        fail_msg("mmu_create: %s", err);
    return f;
}

static struct fx *mk_default(void)
{
    struct mmu_config cfg = { .spaces = 4 };
    return mk(&cfg);
}

static void rm_fx(struct fx *f)
{
    mmu_destroy(f->m);
    ram_destroy(&f->ram);
    free(f);
}

/* PD: linear 0..4 MiB identity through PT0 (supervisor, read-write, A and
 * D set: the tables themselves are reachable at their own addresses), and
 * PT1 for 4..8 MiB, empty. */
static void std_tables(struct fx *f, uint32_t pd, uint32_t pt1)
{
    memset(ram_ptr(&f->ram, pd, 4096), 0, 4096);
    memset(ram_ptr(&f->ram, pt1, 4096), 0, 4096);
    set_pde(f, pd, 0, PT0 | PTE_P | PTE_RW | PTE_US);
    set_pde(f, pd, 0x400000, pt1 | PTE_P | PTE_RW | PTE_US);
    for (uint32_t i = 0; i < 1024; i++)
        s32(f, PT0 + i * 4, (i << 12) | PTE_P | PTE_RW | PTE_A | PTE_D);
}

static enum mmu_result fault(struct fx *f, struct space *s, uint32_t linear, enum mmu_access acc,
                             bool user, struct mmu_fault_result *r)
{
    struct mmu_fault_result tmp;
    return mmu_fault(f->m, s, linear, acc, user, r ? r : &tmp);
}

/* ---- probing the host window -------------------------------------------- */

static sigjmp_buf probe_jb;

static void probe_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    (void)uc;
    siglongjmp(probe_jb, 1);
}

/* Does one access to p succeed? A write stores back the byte it read. */
static bool probe(volatile uint8_t *p, bool write)
{
    struct sigaction sa = { 0 }, old_segv, old_bus;
    volatile bool ok = false;

    sa.sa_sigaction = probe_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
    if (sigsetjmp(probe_jb, 1) == 0) {
        uint8_t v = *p;
        if (write)
            *p = v;
        ok = true;
    }
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGBUS, &old_bus, NULL);
    return ok;
}

static bool readable(struct space *s, uint32_t linear) { return probe(s->base + linear, false); }
static bool writable(struct space *s, uint32_t linear) { return probe(s->base + linear, true); }
static uint32_t win32(struct space *s, uint32_t linear)
{
    uint32_t v;
    memcpy(&v, s->base + linear, 4);
    return v;
}

/* VMAs of the space's reservation in /proc/self/maps. */
static unsigned kernel_maps(const struct space *s)
{
    FILE *fp = fopen("/proc/self/maps", "r");
    uintptr_t lo = (uintptr_t)s->reserve, hi = lo + s->reserve_len;
    char line[512];
    unsigned n = 0;

    assert_non_null(fp);
    while (fgets(line, sizeof line, fp)) {
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx", &a, &b) == 2 && b > lo && a < hi)
            n++;
    }
    fclose(fp);
    return n;
}

static void check_model(struct fx *f, struct space *s)
{
    struct mmu_space_info info;
    mmu_space_info(f->m, s, &info);
    assert_int_equal(kernel_maps(s), info.maps);
}

static struct mmu_stats stats(struct fx *f)
{
    struct mmu_stats st;
    mmu_get_stats(f->m, &st);
    return st;
}

/* ---- paging off ---------------------------------------------------------- */

static void test_identity(void **state)
{
    struct fx *f = mk_default();
    struct mmu_fault_result r;
    struct mmu_space_info info;
    struct space *s = mmu_activate(f->m, CR0_PE, 0, 0, 0);

    (void)state;
    assert_ptr_equal(s, mmu_identity(f->m));
    mmu_space_info(f->m, s, &info);
    assert_true(info.identity);
    assert_int_equal(win32(s, 0x123000), 0x123000);
    assert_true(writable(s, 0x5000));
    *(uint32_t *)(s->base + 0x5004) = 0xdeadbeef;
    assert_int_equal(g32(f, 0x5004), 0xdeadbeef);
    assert_int_equal(win32(s, RAM2_GPA + 0x3000), RAM2_GPA + 0x3000);
    /* Device memory and the hole between the regions are never mapped. */
    assert_false(readable(s, RAM_SIZE));
    assert_int_equal(fault(f, s, RAM_SIZE + 0x10, MMU_READ, false, &r), MMU_MMIO);
    assert_int_equal(r.gpa, RAM_SIZE + 0x10);
    assert_int_equal(fault(f, s, 0xfee00020, MMU_WRITE, false, &r), MMU_MMIO);
    assert_int_equal(r.gpa, 0xfee00020);
    check_model(f, s);
    assert_int_equal(info.maps, 5);   /* hole, RAM, hole, RAM2, hole */

    /* mmu_locate: window, guard (the guest's 4 GiB wrap), elsewhere. */
    {
        struct space *where;
        uint32_t lin;
        assert_int_equal(mmu_locate(f->m, (uintptr_t)s->base + 0x1234, &where, &lin), MMU_WINDOW);
        assert_ptr_equal(where, s);
        assert_int_equal(lin, 0x1234);
        assert_int_equal(mmu_locate(f->m, (uintptr_t)s->base - 2, &where, &lin), MMU_GUARD);
        assert_int_equal(lin, 0xfffffffe);
        assert_int_equal(mmu_locate(f->m, (uintptr_t)s->base + SPACE_WINDOW + 1, &where, &lin),
                         MMU_GUARD);
        assert_int_equal(lin, 1);
        assert_int_equal(mmu_locate(f->m, (uintptr_t)&where, &where, &lin), MMU_OUTSIDE);
    }
    rm_fx(f);
}

/* ---- filling ----------------------------------------------------------------- */

static void test_read_then_write_sets_a_and_d(void **state)
{
    struct fx *f = mk_default();
    struct mmu_fault_result r;
    struct space *s;
    struct mmu_stats st;

    (void)state;
    std_tables(f, PD, PT1);
    set_pde(f, PD, 0x400000, PT1 | PTE_P | PTE_RW | PTE_US);     /* A clear */
    set_pte(f, PT1, 0x401000, 0x105000 | PTE_P | PTE_RW | PTE_US);
    s = mmu_activate(f->m, PAGING, PD, 0, 0);
    assert_ptr_not_equal(s, mmu_identity(f->m));
    assert_false(readable(s, 0x401000));

    assert_int_equal(fault(f, s, 0x401234, MMU_READ, false, &r), MMU_HIDDEN);
    assert_int_equal(r.gpa, 0x105234);
    assert_true(g32(f, PD + 4) & PTE_A);
    assert_int_equal(get_pte(f, PT1, 0x401000) & (PTE_A | PTE_D), PTE_A);
    assert_int_equal(win32(s, 0x401000), 0x105000);
    assert_false(writable(s, 0x401000));   /* read-only until D is set */

    assert_int_equal(fault(f, s, 0x401008, MMU_WRITE, false, &r), MMU_HIDDEN);
    assert_int_equal(get_pte(f, PT1, 0x401000) & (PTE_A | PTE_D), PTE_A | PTE_D);
    assert_true(writable(s, 0x401000));
    *(uint32_t *)(s->base + 0x401008) = 0x12345678;
    assert_int_equal(g32(f, 0x105008), 0x12345678);

    st = stats(f);
    assert_int_equal(st.hidden, 2);
    assert_int_equal(st.dirty_upgrades, 1);
    assert_int_equal(st.spaces_created, 1);
    assert_int_equal(st.traced_pages, 2);   /* PD and PT1 */
    check_model(f, s);
    rm_fx(f);
}

static void test_guest_page_faults(void **state)
{
    struct fx *f = mk_default();
    struct mmu_fault_result r;
    struct space *s, *u;
    uint32_t before;

    (void)state;
    std_tables(f, PD, PT1);
    set_pte(f, PT1, 0x401000, 0x105000 | PTE_P | PTE_US);             /* user, read-only */
    set_pte(f, PT1, 0x402000, 0x106000 | PTE_P | PTE_RW);             /* supervisor */
    s = mmu_activate(f->m, PAGING, PD, 0, 0);

    /* Not present: PDE (linear 8 MiB) and PTE; nothing written (SDM §4.7, §4.8). */
    before = g32(f, PD + 4);
    assert_int_equal(fault(f, s, 0x800010, MMU_READ, false, &r), MMU_GUEST_PF);
    assert_int_equal(r.error, 0);
    assert_int_equal(r.cr2, 0x800010);
    assert_int_equal(fault(f, s, 0x403000, MMU_WRITE, false, &r), MMU_GUEST_PF);
    assert_int_equal(r.error, PFEC_W);
    assert_int_equal(g32(f, PD + 4), before);

    /* Supervisor write to a read-only page with CR0.WP=1. */
    assert_int_equal(fault(f, s, 0x401000, MMU_WRITE, false, &r), MMU_GUEST_PF);
    assert_int_equal(r.error, PFEC_P | PFEC_W);
    assert_int_equal(get_pte(f, PT1, 0x401000) & PTE_A, 0);

    /* User accesses, in the user view. */
    u = mmu_activate(f->m, PAGING, PD, 0, 3);
    assert_ptr_not_equal(u, s);
    assert_int_equal(fault(f, u, 0x402000, MMU_READ, true, &r), MMU_GUEST_PF);
    assert_int_equal(r.error, PFEC_P | PFEC_U);
    assert_int_equal(fault(f, u, 0x401000, MMU_WRITE, true, &r), MMU_GUEST_PF);
    assert_int_equal(r.error, PFEC_P | PFEC_W | PFEC_U);
    assert_int_equal(fault(f, u, 0x401000, MMU_READ, true, &r), MMU_HIDDEN);
    assert_false(writable(u, 0x401000));

    /* CR0.WP=0: a supervisor write to the read-only user page is allowed;
     * the change of CR0.WP drops every space first. */
    s = mmu_activate(f->m, CR0_PG | CR0_PE, PD, 0, 0);
    assert_false(readable(u, 0x401000));
    assert_int_equal(stats(f).flushes, 1);
    assert_int_equal(fault(f, s, 0x401000, MMU_WRITE, false, &r), MMU_HIDDEN);
    assert_true(writable(s, 0x401000));
    assert_true(get_pte(f, PT1, 0x401000) & PTE_D);

    /* Reserved bit: a 4 MiB PDE with bit 13 set under CR4.PSE. */
    s = mmu_activate(f->m, PAGING, PD, CR4_PSE, 0);
    set_pde(f, PD, 0xc00000, 0x00402000 | PTE_P | PTE_PS);  /* untraced since the flush */
    assert_int_equal(fault(f, s, 0xc00000, MMU_READ, false, &r), MMU_GUEST_PF);
    assert_int_equal(r.error, PFEC_P | PFEC_RSVD);
    assert_int_equal(stats(f).guest_pf, 6);
    rm_fx(f);
}

static void test_user_view(void **state)
{
    struct fx *f = mk_default();
    struct mmu_space_info info;
    struct space *s, *u;

    (void)state;
    std_tables(f, PD, PT1);
    set_pte(f, PT1, 0x401000, 0x105000 | RWUAD);
    set_pte(f, PT1, 0x402000, 0x106000 | (RWUAD & ~PTE_US));
    u = mmu_activate(f->m, PAGING, PD, 0, 3);
    mmu_space_info(f->m, u, &info);
    assert_int_equal(info.view, MMU_VIEW_USER);
    assert_int_equal(info.cr3, PD);
    assert_int_equal(fault(f, u, 0x401000, MMU_READ, true, NULL), MMU_HIDDEN);
    /* The supervisor page next to it is not prefetched into the user view. */
    assert_true(readable(u, 0x401000));
    assert_false(readable(u, 0x402000));
    assert_true(writable(u, 0x401000));

    s = mmu_activate(f->m, PAGING, PD, 0, 0);
    assert_ptr_not_equal(s, u);
    assert_int_equal(fault(f, s, 0x401000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_true(readable(s, 0x402000));    /* prefetched: A was set */
    assert_int_equal(win32(s, 0x402000), 0x106000);
    /* Switching views costs no refill. */
    assert_ptr_equal(mmu_activate(f->m, PAGING, PD, 0, 3), u);
    assert_true(readable(u, 0x401000));
    rm_fx(f);
}

static void test_4m_pages(void **state)
{
    struct fx *f = mk_default();
    struct mmu_fault_result r;
    struct space *s;

    (void)state;
    std_tables(f, PD, PT1);
    set_pde(f, PD, 0x80000000, 0x00400000 | PTE_P | PTE_RW | PTE_PS);
    s = mmu_activate(f->m, PAGING, PD, CR4_PSE, 0);
    assert_int_equal(fault(f, s, 0x80003010, MMU_READ, false, &r), MMU_HIDDEN);
    assert_int_equal(r.gpa, 0x403010);
    assert_int_equal(g32(f, PD + 0x200 * 4) & (PTE_A | PTE_D), PTE_A);
    /* The aligned group of 16 pages came along, read-only (D clear). */
    for (uint32_t l = 0x80000000; l < 0x80010000; l += 4096) {
        assert_true(readable(s, l));
        assert_int_equal(win32(s, l), 0x400000 + (l & 0x3fffff));
        assert_false(writable(s, l));
    }
    assert_false(readable(s, 0x80010000));
    assert_int_equal(stats(f).fills, 1);
    assert_int_equal(stats(f).prefetched, 15);
    check_model(f, s);
    assert_int_equal(fault(f, s, 0x80003000, MMU_WRITE, false, &r), MMU_HIDDEN);
    assert_true(g32(f, PD + 0x200 * 4) & PTE_D);
    assert_true(writable(s, 0x80003000));
    /* Without CR4.PSE, PS is ignored and the PDE names a page table. */
    s = mmu_activate(f->m, PAGING, PD, 0, 0);
    assert_false(readable(s, 0x80003000));
    /* PTE 3 of the "table" at 0x400000 is not present. */
    assert_int_equal(fault(f, s, 0x80003000, MMU_READ, false, &r), MMU_GUEST_PF);
    rm_fx(f);
}

static void test_prefetch_coalescing(void **state)
{
    struct fx *f = mk_default();
    struct space *s;
    struct mmu_stats st;

    (void)state;
    std_tables(f, PD, PT1);
    /* 0x400000: one contiguous run. 0x420000: broken runs, with A clear
     * at 5 (not prefetched), a foreign frame at 9, D clear at 12
     * (read-only). */
    for (uint32_t i = 0; i < 32; i++)
        set_pte(f, PT1, 0x400000 + i * 4096, (0x200000 + i * 4096) | RWUAD);
    for (uint32_t i = 0; i < 16; i++)
        set_pte(f, PT1, 0x420000 + i * 4096, (0x300000 + i * 4096) | RWUAD);
    set_pte(f, PT1, 0x425000, 0x305000 | (RWUAD & ~PTE_A));
    set_pte(f, PT1, 0x429000, 0x380000 | RWUAD);
    set_pte(f, PT1, 0x42c000, 0x30c000 | (RWUAD & ~PTE_D));

    /* The contiguous run: one mmap, one VMA between two holes. */
    s = mmu_activate(f->m, PAGING, PD, 0, 0);
    assert_int_equal(fault(f, s, 0x405000, MMU_READ, false, NULL), MMU_HIDDEN);
    st = stats(f);
    assert_int_equal(st.fills, 1);
    assert_int_equal(st.prefetched, 15);
    assert_int_equal(kernel_maps(s), 3);
    check_model(f, s);
    for (uint32_t i = 0; i < 16; i++)
        assert_true(writable(s, 0x400000 + i * 4096));
    assert_false(readable(s, 0x410000));

    /* The broken runs. */
    assert_int_equal(fault(f, s, 0x423000, MMU_READ, false, NULL), MMU_HIDDEN);
    st = stats(f);
    assert_int_equal(st.fills, 1 + 6);      /* 0-4, 6-8, 9, 10-11, 12, 13-15 */
    assert_int_equal(st.prefetched, 15 + 14);
    for (uint32_t i = 0; i < 16; i++) {
        uint32_t l = 0x420000 + i * 4096;
        assert_int_equal(readable(s, l), i != 5);
        if (i != 5)
            assert_int_equal(writable(s, l), i != 12);
    }
    assert_int_equal(win32(s, 0x429000), 0x380000);
    assert_int_equal(get_pte(f, PT1, 0x425000) & PTE_A, 0);   /* prefetch sets no A bit */
    check_model(f, s);
    assert_int_equal(kernel_maps(s), 3 + 8);
    /* Page 5 joins its neighbours once it is used. */
    assert_int_equal(fault(f, s, 0x425000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_true(get_pte(f, PT1, 0x425000) & PTE_A);
    assert_true(writable(s, 0x425000));
    check_model(f, s);
    assert_int_equal(kernel_maps(s), 3 + 6);
    rm_fx(f);
}

static void test_no_prefetch(void **state)
{
    struct mmu_config cfg = { .spaces = 2, .prefetch = 1 };
    struct fx *f = mk(&cfg);
    struct space *s;

    (void)state;
    std_tables(f, PD, PT1);
    for (uint32_t i = 0; i < 4; i++)
        set_pte(f, PT1, 0x400000 + i * 4096, (0x200000 + i * 4096) | RWUAD);
    s = mmu_activate(f->m, PAGING, PD, 0, 0);
    assert_int_equal(fault(f, s, 0x401000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_false(readable(s, 0x400000));
    assert_false(readable(s, 0x402000));
    /* Neighbours mapped one at a time still merge into one VMA. */
    assert_int_equal(fault(f, s, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_int_equal(fault(f, s, 0x402000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_int_equal(kernel_maps(s), 3);
    check_model(f, s);
    assert_int_equal(stats(f).prefetched, 0);
    rm_fx(f);
}

static void test_mmio(void **state)
{
    struct fx *f = mk_default();
    struct mmu_fault_result r;
    struct space *s;

    (void)state;
    std_tables(f, PD, PT1);
    set_pte(f, PT1, 0x401000, 0xfee00000 | RWUAD);
    set_pte(f, PT1, 0x402000, 0x01800000 | RWUAD);   /* the hole between the regions */
    set_pte(f, PT1, 0x403000, (RAM2_GPA + 0x5000) | RWUAD);
    s = mmu_activate(f->m, PAGING, PD, 0, 0);
    assert_int_equal(fault(f, s, 0x401030, MMU_WRITE, false, &r), MMU_MMIO);
    assert_int_equal(r.gpa, 0xfee00030);
    assert_false(readable(s, 0x401000));
    assert_int_equal(fault(f, s, 0x402000, MMU_READ, false, &r), MMU_MMIO);
    assert_int_equal(r.gpa, 0x01800000);
    assert_int_equal(fault(f, s, 0x403000, MMU_READ, false, &r), MMU_HIDDEN);
    assert_int_equal(win32(s, 0x403000), RAM2_GPA + 0x5000);
    assert_int_equal(stats(f).mmio, 2);
    check_model(f, s);
    rm_fx(f);
}

/* ---- tracing -------------------------------------------------------------------- */

/* A frame mapped writable in one space becomes a page table of another:
 * its mapping goes read-only, a store to it is a traced write, and the
 * store's change reaches the other space. */
static void test_tracing_across_spaces(void **state)
{
    struct fx *f = mk_default();
    const uint32_t X = 0x150000;
    struct mmu_fault_result r;
    struct space *a, *b;

    (void)state;
    std_tables(f, PD, PT1);
    set_pte(f, PT1, 0x400000, X | RWUAD);
    a = mmu_activate(f->m, PAGING, PD, 0, 0);
    assert_int_equal(fault(f, a, 0x400000, MMU_WRITE, false, NULL), MMU_HIDDEN);
    assert_true(writable(a, 0x400000));

    memset(ram_ptr(&f->ram, PDB, 4096), 0, 4096);
    memset(ram_ptr(&f->ram, X, 4096), 0, 4096);
    set_pde(f, PDB, 0x400000, X | PTE_P | PTE_RW | PTE_US);
    s32(f, X, 0x160000 | RWUAD);
    b = mmu_activate(f->m, PAGING, PDB, 0, 0);
    assert_ptr_not_equal(a, b);
    assert_int_equal(fault(f, b, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_int_equal(win32(b, 0x400000), 0x160000);
    assert_true(mmu_is_traced(f->m, X));
    assert_true(readable(a, 0x400000));
    assert_false(writable(a, 0x400000));
    assert_true(stats(f).write_protects >= 1);
    check_model(f, a);

    /* The guest (in A) rewrites the PTE: single-stepped store. */
    a = mmu_activate(f->m, PAGING, PD, 0, 0);
    assert_int_equal(fault(f, a, 0x400000, MMU_WRITE, false, &r), MMU_TRACED_WRITE);
    assert_int_equal(r.gpa, X);
    assert_int_equal(mmu_unprotect_for_store(f->m, a, 0x400000, X, 4), MMU_STORE_STEP);
    assert_true(writable(a, 0x400000));
    *(volatile uint32_t *)(a->base + 0x400000) = 0x170000 | RWUAD;
    mmu_store_done(f->m, X, 4);
    assert_false(writable(a, 0x400000));
    assert_true(readable(a, 0x400000));
    /* B's page follows the edit in place: one mmap, no refault. */
    assert_true(readable(b, 0x400000));
    assert_int_equal(win32(b, 0x400000), 0x170000);
    assert_int_equal(stats(f).remaps, 1);
    b = mmu_activate(f->m, PAGING, PDB, 0, 0);
    assert_int_equal(fault(f, b, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_int_equal(win32(b, 0x400000), 0x170000);
    assert_int_equal(stats(f).traced_writes, 1);
    check_model(f, a);
    check_model(f, b);
    rm_fx(f);
}

/* A PTE store unmaps exactly the page it changed; a PDE store the 4 MiB. */
static void test_traced_store_zaps_exactly(void **state)
{
    struct fx *f = mk_default();
    struct mmu_fault_result r;
    struct space *s;
    uint32_t pte2 = PT1 + 2 * 4, v;

    (void)state;
    std_tables(f, PD, PT1);
    for (uint32_t i = 0; i < 4; i++)
        set_pte(f, PT1, 0x400000 + i * 4096, (0x200000 + i * 4096) | RWUAD);
    set_pte(f, PT1, 0x401000, 0x201000 | PTE_P | PTE_RW | PTE_US);   /* A and D clear */
    s = mmu_activate(f->m, PAGING, PD, 0, 0);
    assert_int_equal(fault(f, s, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_false(readable(s, 0x401000));    /* not prefetched: A clear */
    /* The walker sets A and D in the traced PT1: the snapshot follows. */
    assert_int_equal(fault(f, s, 0x401000, MMU_WRITE, false, NULL), MMU_HIDDEN);
    for (uint32_t i = 0; i < 4; i++)
        assert_true(writable(s, 0x400000 + i * 4096));

    /* The guest reaches PT1 through the identity mapping of PT0. */
    assert_int_equal(fault(f, s, pte2, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_true(readable(s, PT1));
    assert_false(writable(s, PT1));
    assert_int_equal(fault(f, s, pte2, MMU_WRITE, false, &r), MMU_TRACED_WRITE);
    assert_int_equal(r.gpa, pte2);
    assert_int_equal(mmu_unprotect_for_store(f->m, s, pte2, pte2, 4), MMU_STORE_STEP);
    *(volatile uint32_t *)(s->base + pte2) = 0x2f0000 | RWUAD;
    mmu_store_done(f->m, pte2, 4);
    assert_false(writable(s, PT1));
    assert_true(readable(s, 0x400000));
    assert_true(readable(s, 0x401000));
    assert_true(readable(s, 0x403000));
    /* The changed page is remapped in place to the new frame. */
    assert_true(readable(s, 0x402000));
    assert_int_equal(win32(s, 0x402000), 0x2f0000);
    assert_int_equal(stats(f).remaps, 1);
    assert_int_equal(fault(f, s, 0x402000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_int_equal(win32(s, 0x402000), 0x2f0000);
    /* A and D cleared: the page cannot stay mapped (its next access must
     * set A), so it goes. */
    assert_int_equal(mmu_unprotect_for_store(f->m, s, pte2, pte2, 4), MMU_STORE_STEP);
    *(volatile uint32_t *)(s->base + pte2) = 0x2f0000 | PTE_P | PTE_RW | PTE_US;
    mmu_store_done(f->m, pte2, 4);
    assert_false(readable(s, 0x402000));
    assert_int_equal(fault(f, s, 0x402000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_false(writable(s, 0x402000));    /* D clear: read-only */

    /* Storing the same value (with the A and D the walker set) changes
     * nothing. */
    v = get_pte(f, PT1, 0x401000);
    assert_int_equal(mmu_unprotect_for_store(f->m, s, PT1 + 4, PT1 + 4, 4), MMU_STORE_STEP);
    *(volatile uint32_t *)(s->base + PT1 + 4) = v;
    mmu_store_done(f->m, PT1 + 4, 4);
    assert_true(readable(s, 0x401000));

    /* A PDE store: the whole 4 MiB goes. */
    assert_int_equal(fault(f, s, PD + 4, MMU_WRITE, false, &r), MMU_TRACED_WRITE);
    assert_int_equal(mmu_unprotect_for_store(f->m, s, PD + 4, PD + 4, 4), MMU_STORE_STEP);
    *(volatile uint32_t *)(s->base + PD + 4) = 0;
    mmu_store_done(f->m, PD + 4, 4);
    for (uint32_t i = 0; i < 4; i++)
        assert_false(readable(s, 0x400000 + i * 4096));
    assert_true(readable(s, PT1));           /* the identity half is untouched */
    assert_int_equal(fault(f, s, 0x401000, MMU_READ, false, &r), MMU_GUEST_PF);
    check_model(f, s);
    rm_fx(f);
}

/* The standard tables with 0x400000 -> 0x200000, activated and faulted in. */
static struct space *one_page_space(struct fx *f)
{
    struct space *s;

    std_tables(f, PD, PT1);
    set_pte(f, PT1, 0x400000, 0x200000 | RWUAD);
    s = mmu_activate(f->m, PAGING, PD, 0, 0);
    assert_int_equal(fault(f, s, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    return s;
}

/* A misaligned store (not a PTE update) stops tracing the page. */
static void test_write_flood(void **state)
{
    struct fx *f = mk_default();
    struct space *s;
    uint32_t traced;

    (void)state;
    s = one_page_space(f);
    assert_int_equal(fault(f, s, PT1 + 0x801, MMU_WRITE, false, NULL), MMU_TRACED_WRITE);
    traced = stats(f).traced_pages;
    assert_int_equal(mmu_unprotect_for_store(f->m, s, PT1 + 0x801, PT1 + 0x801, 2),
                     MMU_STORE_RETRY);
    assert_false(mmu_is_traced(f->m, PT1));
    assert_int_equal(stats(f).traced_pages, traced - 1);
    assert_false(readable(s, 0x400000));    /* what depended on PT1 went */
    assert_true(writable(s, PT1));          /* and the store can go through */
    /* Using it as a page table again traces it again. */
    assert_int_equal(fault(f, s, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_true(mmu_is_traced(f->m, PT1));
    assert_false(writable(s, PT1));
    check_model(f, s);
    rm_fx(f);
}

/* A flood on the page directory of the space the store runs in empties
 * that space (no_retarget); the store still completes, through a mapping
 * made for it. */
static void test_flood_on_own_directory(void **state)
{
    struct mmu_config cfg = { .spaces = 4, .no_retarget = true };
    struct fx *f = mk(&cfg);
    struct space *s;
    struct mmu_space_info info;

    (void)state;
    s = one_page_space(f);
    assert_int_equal(fault(f, s, PD + 0x10, MMU_WRITE, false, NULL), MMU_TRACED_WRITE);
    /* 8 bytes across two 32-bit PDEs, not 8-aligned: no PTE update. */
    assert_int_equal(mmu_unprotect_for_store(f->m, s, PD + 0x14, PD + 0x14, 8), MMU_STORE_STEP);
    mmu_space_info(f->m, s, &info);
    assert_int_equal(info.pages, 1);        /* only the page being stored to */
    assert_false(mmu_is_traced(f->m, PD));
    assert_true(writable(s, PD));
    memset(s->base + PD + 0x14, 0, 8);
    mmu_store_done(f->m, PD + 0x14, 8);
    assert_false(readable(s, PD));
    assert_false(readable(s, 0x400000));
    mmu_space_info(f->m, s, &info);
    assert_int_equal(info.pages, 0);
    check_model(f, s);
    /* The space refills and traces its directory again. */
    assert_int_equal(fault(f, s, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_true(mmu_is_traced(f->m, PD));
    rm_fx(f);
}

static uint32_t read32(struct space *s, uint32_t linear)
{
    uint32_t v;
    memcpy(&v, s->base + linear, 4);
    return v;
}

/* Flood the directory of s with a store of two PDEs at 0x14 (not a PTE
 * update): s is detached (mmu_retarget.c), its pages stay. */
static void flood_pd(struct fx *f, struct space *s)
{
    struct mmu_space_info info;

    assert_int_equal(fault(f, s, PD + 0x10, MMU_WRITE, false, NULL), MMU_TRACED_WRITE);
    /* The page stays mapped and is untraced now: writable, the store is
     * simply retried. */
    assert_int_equal(mmu_unprotect_for_store(f->m, s, PD + 0x14, PD + 0x14, 8), MMU_STORE_RETRY);
    assert_false(mmu_is_traced(f->m, PD));
    assert_true(writable(s, PD));
    memset(s->base + PD + 0x14, 0, 8);
    mmu_space_info(f->m, s, &info);
    assert_true(info.pages >= 2);
}

/* A detached space keeps its pages; the next activation compares its
 * PDEs with the directory: identical ones keep their pages (and their
 * tables traced), changed ones lose them; the directory is traced again.
 * The same for a detached space recycled for another directory. */
static void test_flood_detaches_directory(void **state)
{
    struct fx *f = mk_default();
    struct space *s, *t;
    uint64_t kept;

    (void)state;
    s = one_page_space(f);
    flood_pd(f, s);
    assert_int_equal(stats(f).detaches, 1);
    assert_true(readable(s, 0x400000));         /* kept while detached */
    /* The same CR3 again: PDE 1 is identical, so its page stays. */
    kept = stats(f).retarget_kept;
    assert_ptr_equal(mmu_activate(f->m, PAGING, PD, 0, 0), s);
    assert_int_equal(stats(f).retargets, 1);
    assert_true(stats(f).retarget_kept > kept);
    assert_true(mmu_is_traced(f->m, PD));
    assert_true(mmu_is_traced(f->m, PT1));
    assert_true(readable(s, 0x400000));
    assert_int_equal(read32(s, 0x400000), 0x200000);
    check_model(f, s);
    /* Tracing works again: a PTE store through PT1 is seen. */
    assert_true(mmu_write_phys(f->m, PT1 + 4 * 0, &(uint32_t){ 0x201000 | RWUAD }, 4) == false);
    assert_false(readable(s, 0x400000) && read32(s, 0x400000) == 0x200000);

    /* Detached again, then PDE 1 changes untraced (A clear too): the
     * activation drops what it mapped. */
    assert_int_equal(fault(f, s, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_int_equal(read32(s, 0x400000), 0x201000);
    flood_pd(f, s);
    set_pde(f, PD, 0x400000, 0x13000 | PTE_P | PTE_RW | PTE_US);
    memset(ram_ptr(&f->ram, 0x13000, 4096), 0, 4096);
    set_pte(f, 0x13000, 0x400000, 0x300000 | RWUAD);
    assert_ptr_equal(mmu_activate(f->m, PAGING, PD, 0, 0), s);
    assert_false(readable(s, 0x400000));
    assert_int_equal(fault(f, s, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_int_equal(read32(s, 0x400000), 0x300000);
    check_model(f, s);

    /* Detached, then recycled for another directory sharing PDE 0 (as a
     * kernel half): PDE 0's pages stay, PDE 1's go. */
    assert_int_equal(fault(f, s, 0x1000, MMU_READ, false, NULL), MMU_HIDDEN);
    flood_pd(f, s);
    memcpy(ram_ptr(&f->ram, PDB, 4096), ram_ptr(&f->ram, PD, 4096), 4096);
    set_pde(f, PDB, 0x400000, 0);
    t = mmu_activate(f->m, PAGING, PDB, 0, 0);
    assert_ptr_equal(t, s);
    assert_true(readable(t, 0x1000));
    assert_false(readable(t, 0x400000));
    assert_true(mmu_is_traced(f->m, PDB));
    assert_true(mmu_is_traced(f->m, PT0));
    check_model(f, t);
    rm_fx(f);
}

static void test_write_phys(void **state)
{
    struct fx *f = mk_default();
    struct space *s;
    uint32_t v = 0x2a0000 | RWUAD;

    (void)state;
    std_tables(f, PD, PT1);
    set_pte(f, PT1, 0x400000, 0x200000 | RWUAD);
    set_pte(f, PT1, 0x401000, 0x201000 | RWUAD);
    s = mmu_activate(f->m, PAGING, PD, 0, 0);
    assert_int_equal(fault(f, s, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_false(mmu_write_phys(f->m, PT1 + 4, &v, 4));
    assert_true(readable(s, 0x400000));
    assert_true(readable(s, 0x401000));     /* prefetched, then remapped in place */
    assert_int_equal(win32(s, 0x401000), 0x2a0000);
    assert_int_equal(fault(f, s, 0x401000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_int_equal(win32(s, 0x401000), 0x2a0000);
    mmu_protect_code(f->m, 0x2a0000);
    assert_true(mmu_write_phys(f->m, 0x2a0ffe, "abcd", 4));   /* crosses into 0x2a1000 */
    assert_int_equal(memcmp(ram_ptr(&f->ram, 0x2a0ffe, 4), "abcd", 4), 0);
    rm_fx(f);
}

/* ---- the cache of spaces ------------------------------------------------------- */

static void test_lru_recycling(void **state)
{
    struct mmu_config cfg = { .spaces = 2 };
    struct fx *f = mk(&cfg);
    const uint32_t pds[3] = { PD, PDB, PDC }, pts[3] = { PT1, 0x21000, 0x31000 };
    struct space *sp[3];
    struct mmu_stats st;
    struct mmu_space_info info;

    (void)state;
    for (int i = 0; i < 3; i++) {
        std_tables(f, pds[i], pts[i]);
        set_pte(f, pts[i], 0x400000, (0x200000 + i * 0x1000) | RWUAD);
    }
    for (int i = 0; i < 2; i++) {
        sp[i] = mmu_activate(f->m, PAGING, pds[i], 0, 0);
        assert_int_equal(fault(f, sp[i], 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    }
    assert_ptr_not_equal(sp[0], sp[1]);
    /* Back to A: same space, still filled. */
    assert_ptr_equal(mmu_activate(f->m, PAGING, PD | 0x18, 0, 0), sp[0]);   /* PWT/PCD ignored */
    assert_int_equal(win32(sp[0], 0x400000), 0x200000);
    st = stats(f);
    assert_int_equal(st.cr3_hits, 1);
    assert_int_equal(st.faults, 2);
    /* C recycles B, the least recently used. */
    sp[2] = mmu_activate(f->m, PAGING, PDC, 0, 0);
    assert_ptr_equal(sp[2], sp[1]);
    assert_false(readable(sp[2], 0x400000));
    mmu_space_info(f->m, sp[2], &info);
    assert_int_equal(info.cr3, PDC);
    assert_int_equal(info.pages, 0);
    assert_int_equal(info.maps, 1);
    assert_int_equal(kernel_maps(sp[2]), 1);
    assert_int_equal(fault(f, sp[2], 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_int_equal(win32(sp[2], 0x400000), 0x202000);
    st = stats(f);
    assert_int_equal(st.spaces_created, 2);
    assert_int_equal(st.spaces_recycled, 1);
    /* B's tables are no longer traced; A's and C's are (PD, PT0, PT1 each;
     * PT0 shared). */
    assert_false(mmu_is_traced(f->m, PDB));
    assert_false(mmu_is_traced(f->m, 0x21000));
    assert_true(mmu_is_traced(f->m, PD));
    assert_true(mmu_is_traced(f->m, PDC));
    /* A is still intact: C did not touch it. */
    assert_ptr_equal(mmu_activate(f->m, PAGING, PD, 0, 0), sp[0]);
    assert_true(readable(sp[0], 0x400000));
    rm_fx(f);
}

static void test_invlpg_and_mode_changes(void **state)
{
    struct fx *f = mk_default();
    struct space *s, *u, *b, *id;

    (void)state;
    std_tables(f, PD, PT1);
    std_tables(f, PDB, 0x21000);
    set_pte(f, PT1, 0x400000, 0x200000 | RWUAD);
    set_pte(f, 0x21000, 0x400000, 0x210000 | RWUAD);
    b = mmu_activate(f->m, PAGING, PDB, 0, 0);
    assert_int_equal(fault(f, b, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    u = mmu_activate(f->m, PAGING, PD, 0, 3);
    assert_int_equal(fault(f, u, 0x400000, MMU_READ, true, NULL), MMU_HIDDEN);
    s = mmu_activate(f->m, PAGING, PD, 0, 0);
    assert_int_equal(fault(f, s, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    /* Tracing kept both views exact: INVLPG checks and keeps them. */
    mmu_invlpg(f->m, 0x400000);
    assert_true(readable(s, 0x400000));
    assert_true(readable(u, 0x400000));
    assert_int_equal(stats(f).refreshes, 2);
    /* An entry changed behind the rmap's back (as if untraced): INVLPG
     * brings both views of this CR3 to the new frame, or unmaps them. */
    set_pte(f, PT1, 0x400000, 0x230000 | RWUAD);
    mmu_invlpg(f->m, 0x400000);
    assert_int_equal(win32(s, 0x400000), 0x230000);
    assert_int_equal(win32(u, 0x400000), 0x230000);
    assert_int_equal(win32(b, 0x400000), 0x210000);     /* another CR3 */
    set_pte(f, PT1, 0x400000, 0);
    mmu_invlpg(f->m, 0x400000);
    assert_false(readable(s, 0x400000));
    assert_false(readable(u, 0x400000));
    assert_true(readable(b, 0x400000));     /* another CR3 */
    check_model(f, s);
    set_pte(f, PT1, 0x400000, 0x200000 | RWUAD);
    mmu_flush_all(f->m);
    s = mmu_activate(f->m, PAGING, PD, 0, 0);

    /* CR4.PSE change: everything goes, the keys stay. */
    assert_int_equal(fault(f, s, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_ptr_equal(mmu_activate(f->m, PAGING, PD, CR4_PSE, 0), s);
    assert_false(readable(s, 0x400000));
    assert_false(readable(b, 0x400000));
    assert_int_equal(stats(f).traced_pages, 0);
    /* Paging off: the identity space; on again: fresh. */
    assert_int_equal(fault(f, s, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    id = mmu_activate(f->m, CR0_PE, PD, 0, 0);
    assert_ptr_equal(id, mmu_identity(f->m));
    assert_false(readable(s, 0x400000));
    assert_int_equal(stats(f).traced_pages, 0);
    assert_int_equal(stats(f).records_in_use, 0);
    set_pte(f, PT1, 0x400000, 0x220000 | RWUAD);    /* untraced while paging is off */
    s = mmu_activate(f->m, PAGING, PD, 0, 0);
    assert_int_equal(fault(f, s, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_int_equal(win32(s, 0x400000), 0x220000);
    assert_int_equal(stats(f).flushes, 2);
    /* PAE: another mode, so everything goes again. */
    assert_non_null(mmu_activate(f->m, PAGING, PD, CR4_PAE, 0));
    assert_int_equal(stats(f).flushes, 3);
    rm_fx(f);
}

/* ---- PAE ---------------------------------------------------------------------- */

#define PAE_PD   0x40000u       /* directory of PDPTE 0 */
#define PAE_PT   0x41000u       /* table of PDE 2: linear 4..6 MiB */
#define PAE_PD2  0x42000u       /* another directory */

static void s64(struct fx *f, uint32_t gpa, uint64_t v)
{
    memcpy(ram_ptr(&f->ram, gpa, 8), &v, 8);
}

static struct space *pae_activate(struct fx *f, uint64_t pdpte0, unsigned cpl)
{
    struct mmu_regs r = { .cr0 = PAGING, .cr3 = 0x5020, .cr4 = CR4_PAE, .pdpte = { pdpte0 } };
    return mmu_activate_regs(f->m, &r, cpl);
}

/* PAE spaces: keyed by the PDPTE registers; 2 MiB pages; 64-bit PTEs
 * traced, a store to the high half of one zaps its page; prefetch stays
 * inside one 512-entry table. */
static void test_pae_spaces(void **state)
{
    struct mmu_config cfg = { .spaces = 4, .prefetch = 1024 };
    struct fx *f = mk(&cfg);
    struct mmu_space_info info;
    struct mmu_fault_result r;
    struct space *s, *t;

    (void)state;
    memset(ram_ptr(&f->ram, PAE_PD, 3 * 4096), 0, 3 * 4096);
    s64(f, PAE_PD + 0 * 8, 0x000000u | PTE_PS | PTE_P | PTE_RW | PTE_A | PTE_D);   /* 0..2 MiB */
    s64(f, PAE_PD + 1 * 8, 0x600000u | PTE_PS | PTE_P | PTE_RW | PTE_A);           /* 2..4 MiB */
    s64(f, PAE_PD + 2 * 8, PAE_PT | PTE_P | PTE_RW | PTE_US);
    for (uint32_t i = 0; i < 512; i++)
        s64(f, PAE_PT + i * 8, (0x800000u + (i << 12)) | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
    s = pae_activate(f, PAE_PD | 1, 0);
    mmu_space_info(f->m, s, &info);
    assert_true(info.pae);
    /* A 2 MiB page, clean: mapped read-only, prefetched across it. */
    assert_int_equal(fault(f, s, 0x212345, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_int_equal(win32(s, 0x212000), 0x612000);
    assert_int_equal(win32(s, 0x3ff000), 0x7ff000);
    assert_false(writable(s, 0x212000));
    assert_int_equal(fault(f, s, 0x212345, MMU_WRITE, false, NULL), MMU_HIDDEN);
    assert_true(g32(f, PAE_PD + 8) & PTE_D);
    assert_true(writable(s, 0x212000));
    /* 4 KiB pages: the group of 1024 covers two tables; only PT's half. */
    assert_int_equal(fault(f, s, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_int_equal(win32(s, 0x5ff000), 0x9ff000);
    assert_false(readable(s, 0x600000));
    assert_true(mmu_is_traced(f->m, PAE_PD));
    assert_true(mmu_is_traced(f->m, PAE_PT));
    assert_false(mmu_is_traced(f->m, 0x5000));          /* the PDPT is not traced */
    /* A traced store to the high half of a PTE (bit 32: reserved) zaps the
     * page; the next access is the guest's RSVD fault. */
    assert_int_equal(fault(f, s, PAE_PT + 3 * 8 + 4, MMU_WRITE, false, &r), MMU_TRACED_WRITE);
    assert_true(readable(s, 0x403000));
    assert_int_equal(mmu_unprotect_for_store(f->m, s, PAE_PT + 3 * 8 + 4, PAE_PT + 3 * 8 + 4, 4),
                     MMU_STORE_STEP);
    s32(f, PAE_PT + 3 * 8 + 4, 1);
    mmu_store_done(f->m, PAE_PT + 3 * 8 + 4, 4);
    assert_false(readable(s, 0x403000));
    assert_true(readable(s, 0x404000));
    assert_int_equal(fault(f, s, 0x403000, MMU_READ, false, &r), MMU_GUEST_PF);
    assert_int_equal(r.error, PFEC_P | PFEC_RSVD);
    /* Another PDPTE value is another space; the same one finds it again,
     * whatever CR3 held (the PDPT was read when CR3 was loaded). */
    s64(f, PAE_PD2, 0x000000u | PTE_PS | PTE_P | PTE_RW | PTE_A | PTE_D);
    t = pae_activate(f, PAE_PD2 | 1, 0);
    assert_ptr_not_equal(t, s);
    assert_int_equal(fault(f, t, 0x1000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_false(readable(t, 0x212000));
    assert_ptr_equal(pae_activate(f, PAE_PD | 1, 0), s);
    assert_true(readable(s, 0x404000));
    /* The user view: the 2 MiB supervisor page is a user #PF. */
    t = pae_activate(f, PAE_PD | 1, 3);
    assert_int_equal(fault(f, t, 0x212000, MMU_READ, true, &r), MMU_GUEST_PF);
    assert_int_equal(r.error, PFEC_P | PFEC_U);
    assert_int_equal(fault(f, t, 0x404000, MMU_READ, true, NULL), MMU_HIDDEN);
    /* INVLPG in the current PDPTE space. */
    mmu_invlpg(f->m, 0x404000);
    assert_true(readable(t, 0x404000));     /* exact: kept */
    /* EFER.NXE is part of the mode: changing it drops everything. */
    {
        struct mmu_regs rg = { .cr0 = PAGING, .cr3 = 0x5020, .cr4 = CR4_PAE, .efer = 1u << 11,
                               .pdpte = { PAE_PD | 1 } };
        uint64_t flushes = stats(f).flushes;
        assert_ptr_equal(mmu_activate_regs(f->m, &rg, 0), s);
        assert_int_equal(stats(f).flushes, flushes + 1);
        assert_false(readable(s, 0x404000));
        /* Fetch through an XD PDE with NXE: I/D in the error code. */
        s64(f, PAE_PD + 1 * 8, (1ull << 63) | 0x600000u | PTE_PS | PTE_P | PTE_RW | PTE_A);
        assert_int_equal(mmu_translate(f->m, 0x212000, MMU_FETCH, false, &r), MMU_GUEST_PF);
        assert_int_equal(r.error, PFEC_P | PFEC_I);
        assert_int_equal(mmu_translate(f->m, 0x212000, MMU_READ, false, &r), MMU_HIDDEN);
        assert_int_equal(r.gpa, 0x612000);
    }
    check_model(f, s);
    rm_fx(f);
}

/* ---- code pages --------------------------------------------------------------- */

static void test_code_pages(void **state)
{
    struct fx *f = mk_default();
    struct mmu_fault_result r;
    struct space *id, *s;
    const uint32_t C = 0x201000;

    (void)state;
    /* Paging off. */
    id = mmu_activate(f->m, CR0_PE, 0, 0, 0);
    mmu_protect_code(f->m, 0x5123);
    assert_true(mmu_is_code(f->m, 0x5000));
    assert_true(readable(id, 0x5000));
    assert_false(writable(id, 0x5000));
    assert_true(writable(id, 0x6000));
    assert_int_equal(fault(f, id, 0x5010, MMU_WRITE, false, &r), MMU_CODE_WRITE);
    assert_int_equal(r.gpa, 0x5010);
    assert_int_equal(fault(f, id, 0x5010, MMU_READ, false, &r), MMU_HIDDEN);
    check_model(f, id);
    mmu_unprotect_code(f->m, 0x5000);
    assert_false(mmu_is_code(f->m, 0x5000));
    assert_true(writable(id, 0x5000));
    check_model(f, id);
    mmu_protect_code(f->m, RAM_SIZE);       /* not RAM: ignored */
    assert_false(mmu_is_code(f->m, RAM_SIZE));

    /* Paging on: C at 0x401000 (dirty) and 0x402000 (clean alias). */
    std_tables(f, PD, PT1);
    set_pte(f, PT1, 0x401000, C | RWUAD);
    set_pte(f, PT1, 0x402000, C | (RWUAD & ~PTE_D));
    set_pte(f, PT1, 0x403000, C | RWUAD);
    s = mmu_activate(f->m, CR0_PG | CR0_WP | CR0_PE, PD, 0, 0);
    assert_int_equal(fault(f, s, 0x401000, MMU_WRITE, false, NULL), MMU_HIDDEN);
    assert_true(writable(s, 0x401000));
    mmu_protect_code(f->m, C);
    assert_false(writable(s, 0x401000));
    assert_false(writable(s, 0x403000));
    assert_true(readable(s, 0x401000));
    assert_false(writable(id, C));          /* the identity space too */
    assert_int_equal(fault(f, s, 0x401000, MMU_WRITE, false, &r), MMU_CODE_WRITE);
    assert_int_equal(r.gpa, C);
    mmu_unprotect_code(f->m, C);
    assert_true(writable(s, 0x401000));
    assert_true(writable(s, 0x403000));
    assert_false(writable(s, 0x402000));    /* D clear: stays read-only */
    assert_true(writable(id, C));
    /* A write to the clean alias of a code page: D is set, then CODE_WRITE. */
    mmu_protect_code(f->m, C);
    assert_int_equal(fault(f, s, 0x402000, MMU_WRITE, false, &r), MMU_CODE_WRITE);
    assert_true(get_pte(f, PT1, 0x402000) & PTE_D);
    mmu_unprotect_code(f->m, C);
    assert_true(writable(s, 0x402000));
    assert_int_equal(stats(f).code_writes, 3);
    check_model(f, s);
    rm_fx(f);
}

/* ---- resource limits ---------------------------------------------------------- */

/* A tiny map budget: filling one space empties the least recently used
 * other one, and the model never passes the budget. */
static void test_map_budget_eviction(void **state)
{
    struct mmu_config cfg = { .spaces = 3, .prefetch = 1, .max_maps = 4 + 13 };
    struct fx *f = mk(&cfg);
    const uint32_t pds[3] = { PD, PDB, PDC }, pts[3] = { PT1, 0x21000, 0x31000 };
    struct space *sp[3];
    struct mmu_space_info info;
    struct mmu_stats st;

    (void)state;
    for (int i = 0; i < 3; i++) {
        std_tables(f, pds[i], pts[i]);
        for (uint32_t j = 0; j < 8; j++)
            set_pte(f, pts[i], 0x400000 + j * 0x2000, (0x200000 + j * 0x2000) | RWUAD);
    }
    /* Each page stands alone: +2 VMAs. */
    for (int i = 0; i < 2; i++) {
        sp[i] = mmu_activate(f->m, PAGING, pds[i], 0, 0);
        for (uint32_t j = 0; j < 3; j++)
            assert_int_equal(fault(f, sp[i], 0x400000 + j * 0x2000, MMU_READ, false, NULL),
                             MMU_HIDDEN);
    }
    st = stats(f);
    assert_int_equal(st.maps_in_use, 4 + 12);
    assert_int_equal(st.evictions, 0);
    sp[2] = mmu_activate(f->m, PAGING, pds[2], 0, 0);
    assert_int_equal(fault(f, sp[2], 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    st = stats(f);
    assert_int_equal(st.evictions, 1);
    assert_true(st.maps_in_use <= st.maps_budget);
    mmu_space_info(f->m, sp[0], &info);     /* A was the least recently used */
    assert_int_equal(info.pages, 0);
    assert_int_equal(kernel_maps(sp[0]), 1);
    assert_false(readable(sp[0], 0x400000));
    assert_true(readable(sp[1], 0x400000));
    for (int i = 0; i < 3; i++)
        check_model(f, sp[i]);
    /* The evicted space still works: it refills on demand. */
    assert_ptr_equal(mmu_activate(f->m, PAGING, PD, 0, 0), sp[0]);
    assert_int_equal(fault(f, sp[0], 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_true(readable(sp[0], 0x400000));
    rm_fx(f);
}

/* Few records: the record pool evicts the same way; a single space that
 * outgrows it empties itself and keeps going. */
static void test_record_eviction(void **state)
{
    struct mmu_config cfg = { .spaces = 2, .prefetch = 16, .max_records = 24 };
    struct fx *f = mk(&cfg);
    struct space *a, *b;
    struct mmu_stats st;

    (void)state;
    std_tables(f, PD, PT1);
    std_tables(f, PDB, 0x21000);
    for (uint32_t j = 0; j < 64; j++) {
        set_pte(f, PT1, 0x400000 + j * 0x1000, (0x200000 + j * 0x1000) | RWUAD);
        set_pte(f, 0x21000, 0x400000 + j * 0x1000, (0x200000 + j * 0x1000) | RWUAD);
    }
    a = mmu_activate(f->m, PAGING, PD, 0, 0);
    assert_int_equal(fault(f, a, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_int_equal(stats(f).records_in_use, 16);
    b = mmu_activate(f->m, PAGING, PDB, 0, 0);
    assert_int_equal(fault(f, b, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    st = stats(f);
    assert_int_equal(st.evictions, 1);
    assert_int_equal(st.records_in_use, 16);
    assert_false(readable(a, 0x400000));
    /* B alone: 16 + 16 > 24, so the second fill maps just its page. */
    assert_int_equal(fault(f, b, 0x410000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_int_equal(stats(f).records_in_use, 17);
    assert_true(readable(b, 0x410000));
    assert_false(readable(b, 0x411000));
    for (uint32_t j = 0; j < 30; j++)
        assert_int_equal(fault(f, b, 0x420000 + j * 0x1000, MMU_READ, false, NULL), MMU_HIDDEN);
    assert_true(stats(f).records_in_use <= 24);
    assert_true(readable(b, 0x420000 + 29 * 0x1000));
    check_model(f, b);
    rm_fx(f);
}

/* The real limit: the process is brought within a few VMAs of
 * vm.max_map_count, so the host itself refuses the next split with ENOMEM;
 * the fill empties another space (an unmap that splits nothing) and
 * succeeds. */
static unsigned process_maps(void)
{
    FILE *fp = fopen("/proc/self/maps", "r");
    char line[512];
    unsigned n = 0;

    assert_non_null(fp);
    while (fgets(line, sizeof line, fp))
        n++;
    fclose(fp);
    return n;
}

static void test_host_enomem(void **state)
{
    struct mmu_config cfg = { .spaces = 3, .prefetch = 1, .max_maps = 1u << 30 };
    struct fx *f = mk(&cfg);
    struct space *a, *b;
    struct mmu_space_info info;
    struct mmu_stats st;
    unsigned limit = 0, target, pairs;
    FILE *fp = fopen("/proc/sys/vm/max_map_count", "r");
    uint8_t *filler;
    size_t filler_len;

    (void)state;
    if (!fp || fscanf(fp, "%u", &limit) != 1 || limit > (1u << 20)) {
        if (fp)
            fclose(fp);
        skip();
    }
    fclose(fp);
    std_tables(f, PD, PT1);
    std_tables(f, PDB, 0x21000);
    for (uint32_t j = 0; j < 64; j++) {
        set_pte(f, PT1, 0x400000 + j * 0x2000, (0x200000 + j * 0x2000) | RWUAD);
        set_pte(f, 0x21000, 0x400000 + j * 0x2000, (0x200000 + j * 0x2000) | RWUAD);
    }
    a = mmu_activate(f->m, PAGING, PD, 0, 0);
    for (uint32_t j = 0; j < 8; j++)
        assert_int_equal(fault(f, a, 0x400000 + j * 0x2000, MMU_READ, false, NULL), MMU_HIDDEN);
    b = mmu_activate(f->m, PAGING, PDB, 0, 0);

    /* A shared mapping of its own (never merges with anything), every
     * other page read-only: two VMAs per pair. */
    target = limit - process_maps() - 4;
    pairs = target / 2;
    filler_len = ((size_t)pairs * 2 + 1) * 4096;
    filler = mmap(NULL, filler_len, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(filler != MAP_FAILED);
    for (unsigned i = 0; i < pairs; i++)
        assert_int_equal(mprotect(filler + (2 * i + 1) * 4096, 4096, PROT_READ), 0);

    for (uint32_t j = 0; j < 16 && stats(f).enomem == 0; j++)
        assert_int_equal(fault(f, b, 0x400000 + j * 0x2000, MMU_READ, false, NULL), MMU_HIDDEN);
    st = stats(f);
    assert_int_equal(st.enomem, 1);         /* the reset itself did not fail */
    assert_int_equal(st.evictions, 1);
    mmu_space_info(f->m, a, &info);
    assert_int_equal(info.pages, 0);
    assert_true(readable(b, 0x400000));

    mmu_flush_all(f->m);
    munmap(filler, filler_len);
    check_model(f, a);
    check_model(f, b);
    rm_fx(f);
}

/* ---- random coherence ----------------------------------------------------------- */

/* Walk without side effects, for checking. */
static uint32_t chk_read32(void *opaque, uint32_t gpa, bool *ok)
{
    struct fx *f = opaque;
    uint32_t *p = ram_ptr(&f->ram, gpa, 4);
    *ok = p != NULL;
    return p ? *p : 0;
}

static bool chk_cmpxchg32(void *opaque, uint32_t gpa, uint32_t old, uint32_t new)
{
    (void)opaque; (void)gpa; (void)old; (void)new;
    fail_msg("the checker's walk must not write");
    return false;
}

struct rnd_state {
    struct fx *f;
    uint64_t seed;
    uint32_t cr0, cr4;
    unsigned cpl;
    uint32_t cr3;
    struct space *s;
};

static uint32_t rnd(struct rnd_state *st)
{
    st->seed = st->seed * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(st->seed >> 33);
}

/* Every page of the window that is readable must be allowed by the guest's
 * tables with A set, hold the frame they name, and be writable only if
 * the guest allows the write, D is set, and the frame is neither traced
 * nor code; the tables behind it must be traced. */
static void check_in(struct rnd_state *st, struct space *s, uint32_t cr3, bool user,
                     uint32_t linear)
{
    struct fx *f = st->f;
    struct walk_mem mem = { .opaque = f, .read32 = chk_read32, .cmpxchg32 = chk_cmpxchg32 };
    struct walk_mode mode = walk_mode_of(st->cr0, cr3, st->cr4, false);
    bool r = readable(s, linear), w;
    struct walk wk;
    uint32_t leaf;

    if (!r)
        return;
    if (!walk32(&mem, &mode, linear, WALK_READ, user ? WALK_USER : 0, &wk))
        fail_msg("0x%08x mapped but the guest denies a read (error %u)", linear, wk.error);
    leaf = wk.page_size == PAGE_4K ? wk.pte : wk.pde;
    assert_true(leaf & PTE_A);
    assert_true(wk.pde & PTE_A);
    assert_true(mmu_is_traced(f->m, cr3));
    if (wk.page_size == PAGE_4K)
        assert_true(mmu_is_traced(f->m, wk.pde & PTE_FRAME));
    if (memcmp(s->base + linear, ram_ptr(&f->ram, wk.frame, 4096), 4096))
        fail_msg("0x%08x does not show frame 0x%08x", linear, wk.frame);
    w = writable(s, linear);
    if (w) {
        bool ok = walk32(&mem, &mode, linear, WALK_WRITE, user ? WALK_USER : 0, &wk);
        if (!ok || !wk.dirty || mmu_is_traced(f->m, wk.frame) || mmu_is_code(f->m, wk.frame))
            fail_msg("0x%08x writable: allowed %d dirty %d traced %d code %d", linear, ok, wk.dirty,
                     mmu_is_traced(f->m, wk.frame), mmu_is_code(f->m, wk.frame));
    }
}

/* A detached space (mmu_retarget.c) may serve stale translations, as a
 * TLB may until the next CR3 load (SDM vol. 3A §4.10.4.3): it is checked
 * once retargeted. */
static bool detached(struct rnd_state *st, struct space *s)
{
    struct mmu_space_info info;
    mmu_space_info(st->f->m, s, &info);
    return info.detached;
}

static void check_page(struct rnd_state *st, uint32_t linear)
{
    if (!detached(st, st->s))
        check_in(st, st->s, st->cr3, st->cpl == 3, linear);
}

/* Every cached space, active or not, against the guest's tables now:
 * what tracing is for. */
static void check_all_spaces(struct rnd_state *st, struct space **seen, unsigned nseen)
{
    for (unsigned i = 0; i < nseen; i++) {
        struct mmu_space_info info;
        mmu_space_info(st->f->m, seen[i], &info);
        check_model(st->f, seen[i]);
        if (!info.keyed || info.detached)
            continue;
        for (uint32_t l = 0; l < (12u << 20); l += 4096)
            check_in(st, seen[i], info.cr3, info.view == MMU_VIEW_USER, l);
    }
}

static uint32_t rnd_entry(struct rnd_state *st)
{
    static const uint32_t tables[] = { PD, PT0, PT1, PDB, 0x21000, PDC, 0x31000 };
    uint32_t frame = rnd(st) % 8 ? 0x100000 + (rnd(st) % 64) * 4096 : tables[rnd(st) % 7];
    uint32_t flags = rnd(st) & (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
    if (rnd(st) % 4)
        flags |= PTE_P;
    return frame | flags;
}

/* The guest stores v at linear, as translated code would: through the
 * window, with the fault handling the monitor will do. */
static void guest_store(struct rnd_state *st, uint32_t linear, uint32_t v, unsigned len)
{
    struct fx *f = st->f;
    struct mmu_fault_result r;

    for (int tries = 0; tries < 8; tries++) {
        if (writable(st->s, linear)) {
            memcpy(st->s->base + linear, &v, len);
            return;
        }
        switch (mmu_fault(f->m, st->s, linear, MMU_WRITE, st->cpl == 3, &r)) {
        case MMU_HIDDEN:
            break;
        case MMU_GUEST_PF:
        case MMU_MMIO:
            return;
        case MMU_CODE_WRITE:
            mmu_unprotect_code(f->m, r.gpa);
            break;
        case MMU_SOFT:
            /* The monitor performs it (memfault.c). */
            mmu_write_phys(f->m, r.gpa, &v, len);
            return;
        case MMU_TRACED_WRITE:
            if (mmu_unprotect_for_store(f->m, st->s, linear, r.gpa, len) == MMU_STORE_STEP) {
                memcpy(st->s->base + linear, &v, len);
                mmu_store_done(f->m, r.gpa, len);
                return;
            }
            break;
        case MMU_ERROR:
            fail_msg("MMU_ERROR");
        }
    }
    fail_msg("store to 0x%08x did not complete", linear);
}

/* Random accesses, page-table stores through every form, CR3/CPL/mode
 * switches, code protection and INVLPG; every space checked against a
 * fresh walk. soft_after/soft_all: with soft pages (mmu_soft.c) a page
 * may answer MMU_SOFT instead of being mapped; its translation must then
 * be the walk's. */
static void random_coherence_views(unsigned soft_after, bool soft_all, bool share, bool one_view)
{
    struct mmu_config cfg = { .spaces = 3, .max_records = 512, .rmap_pages = 6,
                              .max_maps = 4 + 120, .soft_after = soft_after, .soft_all = soft_all,
                              .share = share };
    struct fx *f = one_view ? mk_cfg(&cfg) : mk(&cfg);
    struct rnd_state st = { .f = f, .seed = 12345, .cr0 = PAGING };
    static const uint32_t pds[3] = { PD, PDB, PDC }, pt1s[3] = { PT1, 0x21000, 0x31000 };
    /* Soak runs: MMU_SEED=n MMU_OPS=n. */
    int ops = getenv("MMU_OPS") ? atoi(getenv("MMU_OPS")) : 4000;
    struct space *seen[8];
    unsigned nseen = 0;

    if (getenv("MMU_SEED"))
        st.seed = strtoull(getenv("MMU_SEED"), NULL, 0);

    for (int i = 0; i < 3; i++) {
        std_tables(f, pds[i], pt1s[i]);
        /* User-accessible identity half, so both views have something. */
        for (uint32_t j = 0; j < 1024; j++)
            s32(f, PT0 + j * 4, g32(f, PT0 + j * 4) | PTE_US);
        for (uint32_t j = 0; j < 1024; j++)
            set_pte(f, pt1s[i], 0x400000 + j * 4096, rnd_entry(&st));
        set_pde(f, pds[i], 0x800000, 0x00800000 | PTE_P | PTE_RW | PTE_US | PTE_PS);
    }
    st.cr3 = PD;
    st.s = mmu_activate(f->m, st.cr0, st.cr3, st.cr4, st.cpl);
    seen[nseen++] = st.s;

    for (int op = 0; op < ops; op++) {
        uint32_t k = rnd(&st) % 100, linear;
        if (k < 5) {
            st.cr3 = pds[rnd(&st) % 3];
            st.cpl = rnd(&st) % 2 ? 3 : 0;
            if (rnd(&st) % 16 == 0)
                st.cr4 ^= CR4_PSE;
            if (rnd(&st) % 32 == 0)
                st.cr0 ^= CR0_WP;
            st.s = mmu_activate(f->m, st.cr0, st.cr3, st.cr4, st.cpl);
            assert_non_null(st.s);
            unsigned j = 0;
            while (j < nseen && seen[j] != st.s)
                j++;
            if (j == nseen)
                seen[nseen++] = st.s;
        } else if (k < 55) {
            /* An access anywhere in 0..12 MiB. */
            struct mmu_fault_result r;
            enum mmu_access acc = rnd(&st) % 3 ? MMU_READ : MMU_WRITE;
            linear = (rnd(&st) % (3u << 20)) * 4;
            if (soft_after && rnd(&st) % 2)
                linear = 0x400000 + (rnd(&st) % (16u << 10)) * 4;    /* the churning pages */
            if (acc == MMU_WRITE) {
                /* Store back what is there: the tables change only below. */
                struct walk_mem mem = { .opaque = f, .read32 = chk_read32,
                                        .cmpxchg32 = chk_cmpxchg32 };
                struct walk_mode mode = walk_mode_of(st.cr0, st.cr3, st.cr4, false);
                struct walk wk;
                uint32_t v = 0;
                if (walk32(&mem, &mode, linear, WALK_READ, st.cpl == 3 ? WALK_USER : 0, &wk) &&
                    ram_ptr(&f->ram, wk.gpa, 4))
                    v = g32(f, wk.gpa);
                guest_store(&st, linear, v, 4);
            } else if (one_view && rnd(&st) % 2) {
                /* The monitor's implicit supervisor read (IDT, GDT, TSS)
                 * at any CPL: the gpa a walk gives, and nothing mapped in
                 * a space CPL 3 runs in that CPL 3 may not read (check_page). */
                struct walk_mem mem = { .opaque = f, .read32 = chk_read32,
                                        .cmpxchg32 = chk_cmpxchg32 };
                struct walk_mode mode = walk_mode_of(st.cr0, st.cr3, st.cr4, false);
                struct walk wk;
                bool ok = walk32(&mem, &mode, linear, WALK_READ, 0, &wk);
                enum mmu_result res = mmu_translate(f->m, linear, MMU_READ, false, &r);
                assert_int_equal(res, ok ? MMU_HIDDEN : MMU_GUEST_PF);
                if (ok)
                    assert_int_equal(r.gpa, wk.gpa);
            } else {
                enum mmu_result res = mmu_fault(f->m, st.s, linear, acc, st.cpl == 3, &r);
                assert_true(res == MMU_HIDDEN || res == MMU_GUEST_PF ||
                            (res == MMU_SOFT && (soft_after || soft_all)));
                if (res == MMU_SOFT) {
                    /* Not mapped, and the gpa is what a walk says now. */
                    struct walk_mem mem = { .opaque = f, .read32 = chk_read32,
                                            .cmpxchg32 = chk_cmpxchg32 };
                    struct walk_mode mode = walk_mode_of(st.cr0, st.cr3, st.cr4, false);
                    struct walk wk;
                    assert_false(readable(st.s, linear));
                    assert_true(walk32(&mem, &mode, linear, WALK_READ, st.cpl == 3 ? WALK_USER : 0, &wk));
                    assert_int_equal(r.gpa, wk.gpa);
                    if (rnd(&st) % 4 == 0) {
                        res = mmu_fault_hard(f->m, st.s, linear, acc, st.cpl == 3, &r);
                        assert_int_equal(res, MMU_HIDDEN);
                        assert_true(readable(st.s, linear));
                    }
                }
            }
        } else if (k < 80) {
            /* A page-table store through the identity half (supervisor). */
            uint32_t tbl = (rnd(&st) % 2) ? pt1s[rnd(&st) % 3] : pds[rnd(&st) % 3];
            uint32_t idx = tbl == PD || tbl == PDB || tbl == PDC ? 1 : rnd(&st) % (soft_after ? 16 : 1024);
            uint32_t v = idx == 1 && tbl != pt1s[0] && tbl != pt1s[1] && tbl != pt1s[2]
                             ? (rnd(&st) % 4 ? pt1s[rnd(&st) % 3] | 0x27 : 0)
                             : rnd_entry(&st);
            if (st.cpl == 0)
                guest_store(&st, tbl + idx * 4, v, rnd(&st) % 16 ? 4 : 2);
            else
                mmu_write_phys(f->m, tbl + idx * 4, &v, 4);
        } else if (k < 88) {
            mmu_protect_code(f->m, 0x100000 + (rnd(&st) % 64) * 4096);
        } else if (k < 94) {
            mmu_unprotect_code(f->m, 0x100000 + (rnd(&st) % 64) * 4096);
        } else {
            mmu_invlpg(f->m, (rnd(&st) % 3072) << 12);
        }
        /* Check a sample every op, everything now and then. */
        for (int i = 0; i < 8; i++) {
            uint32_t l = (rnd(&st) % 3072) << 12;
            check_page(&st, l);
        }
        if (op % 500 == 499) {
            check_all_spaces(&st, seen, nseen);
            assert_true(stats(f).maps_in_use <= stats(f).maps_budget + 4);
        }
    }
    {
        struct mmu_stats s = stats(f);
        print_message("random (soft %u%s%s): %llu soft pages, %llu soft faults, %llu shared pages\n",
                      soft_after, soft_all ? ", all" : "", share ? ", shared fills" : "",
                      (unsigned long long)s.soft_pages, (unsigned long long)s.soft_faults,
                      (unsigned long long)s.shared_pages);
        print_message("random: %llu faults, %llu hidden, %llu #PF, %llu traced writes, %llu code "
                      "writes, %llu zaps, %llu evictions, %llu recycled, peak %u maps\n",
                      (unsigned long long)s.faults, (unsigned long long)s.hidden,
                      (unsigned long long)s.guest_pf, (unsigned long long)s.traced_writes,
                      (unsigned long long)s.code_writes, (unsigned long long)s.zaps,
                      (unsigned long long)s.evictions, (unsigned long long)s.spaces_recycled,
                      s.maps_peak);
        print_message("random: %llu detaches, %llu retargets, %llu PDEs kept\n",
                      (unsigned long long)s.detaches, (unsigned long long)s.retargets,
                      (unsigned long long)s.retarget_kept);
        print_message("random: %llu one-view activations, %llu lent walks\n",
                      (unsigned long long)s.one_view, (unsigned long long)s.lent_walks);
        if (one_view)
            assert_true(s.one_view > 0);
        else
            assert_int_equal(s.one_view, 0);
    }
    rm_fx(f);
}

static void random_coherence(unsigned soft_after, bool soft_all, bool share)
{
    random_coherence_views(soft_after, soft_all, share, false);
}

/* CPL 3 in the supervisor view while it has no `over` record
 * (mmu_view.c): every page CPL 3 can reach in the space it runs in is one
 * the guest lets it reach (check_page with user rights). */
static void test_random_coherence_one_view(void **state)
{
    (void)state;
    random_coherence_views(0, false, false, true);
    random_coherence_views(2, false, false, true);
}

static void test_random_coherence(void **state)
{
    (void)state;
    random_coherence(0, false, false);
}

/* New spaces filled from the spaces that share their page tables
 * (mmu_share.c): every shared page checked against a walk like the rest. */
static void test_random_coherence_shared(void **state)
{
    (void)state;
    random_coherence(0, false, true);
}

/* The same with soft pages: after two changes of a PTE, and everywhere. */
static void test_random_coherence_soft(void **state)
{
    (void)state;
    random_coherence(2, false, true);
    random_coherence(0, true, false);
}

/* ---- PTE edits followed in place (issue #13) ----------------------------------- */

/* Every store form that edits a live PTE — a single-stepped 4-byte store,
 * one byte of the flags (Linux's clear_bit), the monitor's own
 * mmu_write_phys of one entry and of two at once — leaves every page of
 * the table exactly as a fresh walk says, at most one host mapping call
 * per changed page (a remap or a protection change, never unmap and
 * refill), none for a page that was not mapped or did not change. */
static void test_pte_edit_forms(void **state)
{
    struct fx *f = mk_default();
    struct rnd_state st = { .f = f, .cr0 = PAGING, .cr3 = PD };
    struct mmu_stats before;
    uint64_t two;
    uint32_t v;

    (void)state;
    std_tables(f, PD, PT1);
    for (uint32_t i = 0; i < 16; i++)
        set_pte(f, PT1, 0x400000 + i * 4096, (0x200000 + i * 4096) | RWUAD);
    st.s = mmu_activate(f->m, PAGING, PD, 0, 0);
    assert_int_equal(fault(f, st.s, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    for (uint32_t i = 0; i < 16; i++)
        assert_true(readable(st.s, 0x400000 + i * 4096));     /* prefetched */
    assert_int_equal(fault(f, st.s, PT1, MMU_READ, false, NULL), MMU_HIDDEN);
#define CHECK_TABLE()                                                       \
    do {                                                                    \
        for (uint32_t i_ = 0; i_ < 16; i_++)                                \
            check_page(&st, 0x400000 + i_ * 4096);                          \
        check_model(f, st.s);                                               \
    } while (0)
#define STEP_STORE(gpa, val, len)                                           \
    do {                                                                    \
        uint32_t v_ = (val);                                                \
        assert_int_equal(mmu_unprotect_for_store(f->m, st.s, (gpa), (gpa), (len)), MMU_STORE_STEP); \
        memcpy(st.s->base + (gpa), &v_, (len));                             \
        mmu_store_done(f->m, (gpa), (len));                                 \
    } while (0)

    /* 1. A single-stepped store to another frame: one remap. */
    before = stats(f);
    STEP_STORE(PT1 + 1 * 4, 0x2a0000 | RWUAD, 4);
    assert_int_equal(stats(f).remaps, before.remaps + 1);
    assert_int_equal(stats(f).zapped_pages, before.zapped_pages);
    assert_int_equal(win32(st.s, 0x401000), 0x2a0000);
    CHECK_TABLE();

    /* 2. One byte of the flags: R/W cleared (andb $~2): a protection
     * change, no remap. */
    before = stats(f);
    assert_true(writable(st.s, 0x402000));
    STEP_STORE(PT1 + 2 * 4, (uint8_t)(RWUAD & ~PTE_RW), 1);
    assert_false(writable(st.s, 0x402000));
    assert_true(readable(st.s, 0x402000));
    assert_int_equal(stats(f).remaps, before.remaps);
    CHECK_TABLE();

    /* 3. The monitor's own store (a memop callout, a DMA). */
    before = stats(f);
    v = 0x2b0000 | RWUAD;
    mmu_write_phys(f->m, PT1 + 3 * 4, &v, 4);
    assert_int_equal(win32(st.s, 0x403000), 0x2b0000);
    assert_int_equal(stats(f).remaps, before.remaps + 1);
    CHECK_TABLE();

    /* 4. Two entries in one 8-byte store. */
    two = (uint64_t)(0x2d0000 | RWUAD) << 32 | (0x2c0000 | RWUAD);
    mmu_write_phys(f->m, PT1 + 4 * 4, &two, 8);
    assert_int_equal(win32(st.s, 0x404000), 0x2c0000);
    assert_int_equal(win32(st.s, 0x405000), 0x2d0000);
    CHECK_TABLE();

    /* 5. A clear, or not present: unmapped (the next access must set A,
     * or fault). */
    STEP_STORE(PT1 + 6 * 4, 0x2e0000 | PTE_P | PTE_RW, 4);
    assert_false(readable(st.s, 0x406000));
    STEP_STORE(PT1 + 7 * 4, 0, 4);
    assert_false(readable(st.s, 0x407000));
    CHECK_TABLE();

    /* 6. Not present -> present, and the same value again: no host call.
     * (An access through PT1 first: three stores in a row that kept no
     * page mapped would be a write flood.) */
    assert_int_equal(fault(f, st.s, 0x400000, MMU_READ, false, NULL), MMU_HIDDEN);
    before = stats(f);
    STEP_STORE(PT1 + 7 * 4, 0x2f0000 | RWUAD, 4);
    assert_false(readable(st.s, 0x407000));     /* waits for its access */
    v = get_pte(f, PT1, 0x408000);
    mmu_write_phys(f->m, PT1 + 8 * 4, &v, 4);
    assert_int_equal(stats(f).fills, before.fills);
    assert_int_equal(stats(f).remaps, before.remaps);
    assert_int_equal(stats(f).zapped_pages, before.zapped_pages);
    CHECK_TABLE();

    /* 7. The same edits in a second space that shares PT1: followed in
     * both. */
    memset(ram_ptr(&f->ram, PDB, 4096), 0, 4096);
    set_pde(f, PDB, 0, PT0 | PTE_P | PTE_RW | PTE_US);
    set_pde(f, PDB, 0x400000, PT1 | PTE_P | PTE_RW | PTE_US);
    {
        struct space *b = mmu_activate(f->m, PAGING, PDB, 0, 0);
        assert_int_equal(fault(f, b, 0x409000, MMU_READ, false, NULL), MMU_HIDDEN);
        st.s = mmu_activate(f->m, PAGING, PD, 0, 0);
        STEP_STORE(PT1 + 9 * 4, 0x2a9000 | RWUAD, 4);
        assert_int_equal(win32(b, 0x409000), 0x2a9000);
        assert_int_equal(win32(st.s, 0x409000), 0x2a9000);
        CHECK_TABLE();
    }
#undef CHECK_TABLE
#undef STEP_STORE
    rm_fx(f);
}

/* The monitor's translations (mmu_translate) come from the shadow when it
 * maps the page, and fill it when it does not, with the A/D bits a walk
 * sets; a supervisor-only page never answers a user access. */
static void test_translate_from_shadow(void **state)
{
    struct fx *f = mk_default();
    struct mmu_fault_result r;
    struct space *s, *u;
    uint64_t x;

    (void)state;
    std_tables(f, PD, PT1);
    set_pte(f, PT1, 0x400000, 0x200000 | PTE_P | PTE_RW | PTE_US);     /* A, D clear */
    set_pte(f, PT1, 0x401000, 0x201000 | PTE_P | PTE_RW | PTE_A | PTE_D);   /* supervisor */
    s = mmu_activate(f->m, PAGING, PD, 0, 0);
    assert_int_equal(mmu_translate(f->m, 0x400123, MMU_READ, false, &r), MMU_HIDDEN);
    assert_int_equal(r.gpa, 0x200123);
    assert_true(get_pte(f, PT1, 0x400000) & PTE_A);
    assert_false(get_pte(f, PT1, 0x400000) & PTE_D);
    assert_true(readable(s, 0x400000));     /* filled like a TLB entry */
    assert_false(writable(s, 0x400000));
    x = stats(f).shadow_xlates;
    assert_int_equal(mmu_translate(f->m, 0x400004, MMU_READ, false, &r), MMU_HIDDEN);
    assert_int_equal(r.gpa, 0x200004);
    assert_int_equal(stats(f).shadow_xlates, x + 1);
    /* A write: the record does not allow it yet (D clear): walked, D set. */
    assert_int_equal(mmu_translate(f->m, 0x400008, MMU_WRITE, false, &r), MMU_HIDDEN);
    assert_int_equal(stats(f).shadow_xlates, x + 1);
    assert_true(get_pte(f, PT1, 0x400000) & PTE_D);
    assert_int_equal(mmu_translate(f->m, 0x400008, MMU_WRITE, false, &r), MMU_HIDDEN);
    assert_int_equal(stats(f).shadow_xlates, x + 2);
    /* A user access to the supervisor page: #PF, though the supervisor
     * view maps it. */
    assert_int_equal(mmu_translate(f->m, 0x401000, MMU_READ, false, &r), MMU_HIDDEN);
    assert_int_equal(mmu_translate(f->m, 0x401000, MMU_READ, true, &r), MMU_GUEST_PF);
    assert_int_equal(r.error, PFEC_P | PFEC_U);
    /* A user-view record serves a supervisor access. */
    u = mmu_activate(f->m, PAGING, PD, 0, 3);
    assert_int_equal(fault(f, u, 0x400000, MMU_READ, true, NULL), MMU_HIDDEN);
    (void)mmu_activate(f->m, PAGING, PD, 0, 0);
    mmu_flush_all(f->m);
    s = mmu_activate(f->m, PAGING, PD, 0, 3);
    assert_int_equal(fault(f, s, 0x400000, MMU_READ, true, NULL), MMU_HIDDEN);
    x = stats(f).shadow_xlates;
    assert_int_equal(mmu_translate(f->m, 0x400010, MMU_READ, false, &r), MMU_HIDDEN);
    assert_int_equal(r.gpa, 0x200010);
    assert_int_equal(stats(f).shadow_xlates, x + 1);
    rm_fx(f);
}

/* ---- dirty logging (migration) ------------------------------------------------ */

static bool bit(const uint64_t *bm, uint32_t gpa) { return bm[gpa >> 18] >> ((gpa >> 12) & 63) & 1; }

static uint32_t count_bits(const uint64_t *bm)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < MMU_DIRTY_WORDS; i++)
        n += (uint32_t)__builtin_popcountll(bm[i]);
    return n;
}

/* Paging off: every RAM page becomes read-only; a write fault marks exactly
 * its frame and opens it; the monitor's stores mark too; a code frame keeps
 * its protection after it is marked; sync hands out exactly the written
 * frames and protects them again; stop opens all but code. */
static void test_dirty_log_identity(void **state)
{
    struct fx *f = mk_default();
    struct mmu_fault_result r;
    struct space *id = mmu_activate(f->m, CR0_PE, 0, 0, 0);
    uint64_t *bm = calloc(MMU_DIRTY_WORDS, sizeof *bm);

    (void)state;
    mmu_protect_code(f->m, 0x9000);
    assert_true(mmu_dirty_log_start(f->m));
    assert_true(mmu_dirty_logging(f->m));
    assert_false(writable(id, 0x5000));
    assert_false(writable(id, RAM2_GPA + 0x1000));
    assert_true(readable(id, 0x5000));
    assert_true(mmu_dirty_clean(f->m, 0x5000));
    assert_int_equal(fault(f, id, 0x5010, MMU_WRITE, false, &r), MMU_HIDDEN);
    assert_true(writable(id, 0x5000));
    assert_false(writable(id, 0x6000));
    assert_false(mmu_dirty_clean(f->m, 0x5000));
    assert_false(mmu_write_phys(f->m, RAM2_GPA + 0x1ffe, "abcd", 4));   /* two frames */
    mmu_dirty_mark(f->m, 0x7000, 1);
    assert_int_equal(fault(f, id, 0x9000, MMU_WRITE, false, &r), MMU_CODE_WRITE);
    assert_false(writable(id, 0x9000));     /* still code */
    check_model(f, id);

    assert_int_equal(mmu_dirty_log_sync(f->m, bm), 5);
    assert_int_equal(count_bits(bm), 5);
    assert_true(bit(bm, 0x5000) && bit(bm, 0x7000) && bit(bm, 0x9000));
    assert_true(bit(bm, RAM2_GPA + 0x1000) && bit(bm, RAM2_GPA + 0x2000));
    assert_false(writable(id, 0x5000));     /* protected again */
    assert_true(mmu_dirty_clean(f->m, 0x5000));
    check_model(f, id);
    assert_int_equal(mmu_dirty_log_sync(f->m, bm), 0);
    assert_int_equal(fault(f, id, 0x6004, MMU_WRITE, false, &r), MMU_HIDDEN);
    assert_int_equal(mmu_dirty_log_sync(f->m, bm), 1);
    assert_true(bit(bm, 0x6000));

    mmu_dirty_log_stop(f->m);
    assert_false(mmu_dirty_logging(f->m));
    assert_true(writable(id, 0x5000));
    assert_true(writable(id, 0x6000));
    assert_false(writable(id, 0x9000));
    check_model(f, id);
    free(bm);
    rm_fx(f);
}

/* Paging on: a writable mapping made before logging becomes read-only; a
 * write fault marks the frame (not the linear page) and reopens it; a
 * store to a traced page table stays a traced write but is marked; the
 * walker's A/D updates mark the page table; sync re-protects. */
static void test_dirty_log_paging(void **state)
{
    struct fx *f = mk_default();
    struct mmu_fault_result r;
    struct space *s;
    uint64_t *bm = calloc(MMU_DIRTY_WORDS, sizeof *bm);

    (void)state;
    std_tables(f, PD, PT1);
    set_pte(f, PT1, 0x401000, 0x205000 | RWUAD);
    set_pte(f, PT1, 0x402000, 0x206000 | (RWUAD & ~PTE_D));
    s = mmu_activate(f->m, PAGING, PD, 0, 0);
    assert_int_equal(fault(f, s, 0x401000, MMU_WRITE, false, NULL), MMU_HIDDEN);
    assert_true(writable(s, 0x401000));
    assert_true(mmu_dirty_log_start(f->m));
    assert_false(writable(s, 0x401000));
    assert_true(readable(s, 0x401000));
    assert_int_equal(mmu_dirty_log_sync(f->m, bm), 0);

    assert_int_equal(fault(f, s, 0x401008, MMU_WRITE, false, &r), MMU_HIDDEN);
    assert_true(writable(s, 0x401000));
    /* The first write to 0x402000 sets D in its PTE: PT1 is dirty too. */
    assert_int_equal(fault(f, s, 0x402000, MMU_WRITE, false, &r), MMU_HIDDEN);
    assert_true(writable(s, 0x402000));
    /* PT0 maps itself at 0x11000: a traced store. */
    assert_int_equal(fault(f, s, PT0 + 0x40, MMU_WRITE, false, &r), MMU_TRACED_WRITE);
    /* ... and its walk set A in PDE 0: PD is dirty as well. */
    assert_int_equal(mmu_dirty_log_sync(f->m, bm), 5);
    assert_true(bit(bm, 0x205000) && bit(bm, 0x206000) && bit(bm, PT1) && bit(bm, PT0) &&
                bit(bm, PD));
    assert_false(writable(s, 0x401000));
    assert_false(writable(s, 0x402000));
    check_model(f, s);
    mmu_dirty_log_stop(f->m);
    assert_int_equal(fault(f, s, 0x401000, MMU_WRITE, false, NULL), MMU_HIDDEN);
    assert_true(writable(s, 0x401000));
    assert_true(stats(f).dirty_logged >= 3);
    free(bm);
    rm_fx(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_read_then_write_sets_a_and_d),
        cmocka_unit_test(test_guest_page_faults),
        cmocka_unit_test(test_user_view),
        cmocka_unit_test(test_4m_pages),
        cmocka_unit_test(test_prefetch_coalescing),
        cmocka_unit_test(test_no_prefetch),
        cmocka_unit_test(test_mmio),
        cmocka_unit_test(test_tracing_across_spaces),
        cmocka_unit_test(test_traced_store_zaps_exactly),
        cmocka_unit_test(test_write_flood),
        cmocka_unit_test(test_flood_on_own_directory),
        cmocka_unit_test(test_flood_detaches_directory),
        cmocka_unit_test(test_write_phys),
        cmocka_unit_test(test_lru_recycling),
        cmocka_unit_test(test_invlpg_and_mode_changes),
        cmocka_unit_test(test_pae_spaces),
        cmocka_unit_test(test_code_pages),
        cmocka_unit_test(test_map_budget_eviction),
        cmocka_unit_test(test_record_eviction),
        cmocka_unit_test(test_host_enomem),
        cmocka_unit_test(test_random_coherence),
        cmocka_unit_test(test_random_coherence_soft),
        cmocka_unit_test(test_random_coherence_shared),
        cmocka_unit_test(test_random_coherence_one_view),
        cmocka_unit_test(test_pte_edit_forms),
        cmocka_unit_test(test_translate_from_shadow),
        cmocka_unit_test(test_dirty_log_identity),
        cmocka_unit_test(test_dirty_log_paging),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
