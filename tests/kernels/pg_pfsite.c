/* pg_pfsite — page-fault sites whose behaviour changes (issue #13): one
 * load and one store instruction, each executed thousands of times, that
 * first fault on every execution and then stop faulting once the guest
 * maps the page, and the reverse (a site that ran clean for a long time
 * starts faulting because the guest unmaps the page). bt86 turns a site
 * that keeps faulting into a callout that raises #PF without a host
 * signal, and back into native code once it stops (emulator/adaptive.c);
 * every fault must still come with the right CR2, error code and EIP
 * (SDM vol. 3A §4.7), every load must see the frame mapped at that
 * moment, and no fault may be lost or invented. */
#include "pg_lib.h"

#define SITE  0x50000000u       /* the page the load and store sites touch */
#define ROUNDS 1200             /* > the monitor's clean-run threshold (256) */

static uint32_t *pd;
static uint32_t *frame[2];
static volatile uint32_t faults, fault_err, fault_cr2, fault_eip;
static volatile uint32_t site_eip[2], eip_moved;   /* each site's EIP: the first fault's */
static volatile int remap_on_fault;     /* 1: the handler maps the page (frame 0), writable */

/* One site each: not inlined, so every call runs the same instruction. */
static __attribute__((noinline)) uint32_t load_site(void)
{
    uint32_t v;
    __asm__ volatile("mov (%1), %0" : "=r"(v) : "r"(SITE + 8) : "memory");
    return v;
}

static __attribute__((noinline)) void store_site(uint32_t v)
{
    __asm__ volatile("mov %0, (%1)" : : "r"(v), "r"(SITE + 12) : "memory");
}

static int on_fault(struct trap_frame *f, uint32_t cr2)
{
    if ((cr2 & PG_FRAME) != SITE)
        return 0;
    faults++;
    fault_err = f->error;
    fault_cr2 = cr2;
    fault_eip = f->eip;
    {
        int k = cr2 == SITE + 12;
        if (!site_eip[k])
            site_eip[k] = f->eip;
        eip_moved += f->eip != site_eip[k];
    }
    if (remap_on_fault)
        *pg_pte(pd, SITE) = (uint32_t)frame[0] | PG_P | PG_RW | PG_A;
    return 1;                   /* retry: it now succeeds */
}

static void unmap(void)
{
    *pg_pte(pd, SITE) = 0;
    invlpg((void *)SITE);
}

static void map(int which, uint32_t flags)
{
    *pg_pte(pd, SITE) = (uint32_t)frame[which] | PG_P | PG_A | flags;
    invlpg((void *)SITE);
}

/* Faults on every execution for `nfault` rounds, then never. */
static void test_load_stops_faulting(uint32_t nfault)
{
    uint32_t bad = 0, before = faults;

    remap_on_fault = 1;
    for (uint32_t i = 0; i < ROUNDS; i++) {
        if (i < nfault)
            unmap();
        bad += load_site() != 0x1000u + 8;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(faults - before, nfault);
    CHECK_EQ(fault_err, 0);                     /* not present, read, supervisor */
    CHECK_EQ(fault_cr2, SITE + 8);
}

/* Runs clean for ROUNDS, then faults on every execution for `nfault`
 * rounds; the mapping alternates between two frames all along, so a
 * stale translation would read the wrong one. */
static void test_load_starts_faulting(uint32_t nfault)
{
    uint32_t bad = 0, before = faults;

    remap_on_fault = 1;
    for (uint32_t i = 0; i < ROUNDS + nfault; i++) {
        if (i >= ROUNDS) {
            unmap();                            /* the handler maps frame 0 */
            bad += load_site() != 0x1000u + 8;
        } else {
            map(i & 1, PG_RW);
            bad += load_site() != (i & 1 ? 0x2000u : 0x1000u) + 8;
        }
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(faults - before, nfault);
    CHECK_EQ(fault_cr2, SITE + 8);
}

/* A store to a read-only page: #PF with P|W; the handler makes it
 * writable. Then the reverse: clean stores, then read-only again. */
static void test_store(uint32_t nfault)
{
    uint32_t before = faults;

    remap_on_fault = 1;
    for (uint32_t i = 0; i < ROUNDS; i++) {
        if (i < nfault)
            map(0, 0);                          /* present, read-only */
        store_site(i);
        CHECK_EQ(frame[0][3], i);
    }
    CHECK_EQ(faults - before, nfault);
    CHECK_EQ(fault_err, PFE_P | PFE_W);
    CHECK_EQ(fault_cr2, SITE + 12);
    before = faults;
    for (uint32_t i = 0; i < ROUNDS + nfault; i++) {
        if (i >= ROUNDS)
            map(0, 0);
        store_site(i ^ 0x5a5a);
        CHECK_EQ(frame[0][3], i ^ 0x5a5a);
    }
    CHECK_EQ(faults - before, nfault);
}

/* The handler does not map the page: the guest's own fault loop, where
 * the handler skips the load (mov (%ebx), %eax: 2 bytes). */
static uint32_t skips;
static int skip_fault(struct trap_frame *f, uint32_t cr2)
{
    if ((cr2 & PG_FRAME) != SITE)
        return 0;
    skips++;
    fault_eip = f->eip;
    f->eip += 2;
    return 1;
}

static void test_skip_loop(void)
{
    uint32_t eax = 0;

    unmap();
    pg_fault_hook = skip_fault;
    for (uint32_t i = 0; i < 600; i++) {
        __asm__ volatile("mov (%1), %0" : "+a"(eax) : "b"(SITE) : "memory");    /* 8B 03 */
        CHECK_EQ(*(const uint16_t *)fault_eip, 0x038b);
    }
    CHECK_EQ(skips, 600);
    CHECK_EQ(eax, 0);                           /* skipped: EAX unchanged */
    pg_fault_hook = on_fault;
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    (void)magic;
    (void)mbi;
    sys_init();
    pg_install_pf();
    pd = pg_kernel_pd();
    frame[0] = pg_alloc();
    frame[1] = pg_alloc();
    frame[0][2] = 0x1000u + 8;
    frame[1][2] = 0x2000u + 8;
    pg_map(pd, SITE, (uint32_t)frame[0], PG_RW);
    pg_enable(pd);
    pg_fault_hook = on_fault;

    test_load_stops_faulting(40);
    test_load_starts_faulting(40);
    test_load_stops_faulting(40);
    test_store(40);
    test_skip_loop();
    CHECK_EQ(eip_moved, 0);
    CHECK(site_eip[0] != 0 && site_eip[1] != 0 && site_eip[0] != site_eip[1]);
    test_finish("pg_pfsite");
}
