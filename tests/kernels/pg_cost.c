/* pg_cost — what paging operations cost, in TSC cycles per operation
 * (issue #5's nanobenchmarks, as a self-checking test kernel until the
 * bench harness runs them side by side with QEMU): a CR3 write between
 * two address spaces followed by a touch; a PTE write + INVLPG + touch;
 * a page-fault round trip (a not-present page mapped by the guest's #PF
 * handler); a hidden fault (a present page the shadow has not mapped
 * yet); a fork-like burst (copy a 4 MiB page table, switch, touch). It
 * checks every value it reads, then touches all of 64 MiB (for --stats:
 * host mappings per guest MiB). Needs -m 128. */
#include "pg_lib.h"

#define WIN   0x40000000u
#define FORK  0x48000000u
#define BIGMAP 0x80000000u      /* 64 MiB of frames from 32 MiB on */
#define REPS  2000

static uint32_t *pd_a, *pd_b;

static uint64_t now(void) { return rdtsc(); }

static void report(const char *what, uint64_t cycles, uint32_t n)
{
    kprintf("  %-40s %8llu cycles\n", what, (unsigned long long)(cycles / n));
}

static void cr3_switch(void)
{
    uint32_t *fa = pg_alloc(), *fb = pg_alloc(), bad = 0;
    uint64_t t;

    fa[0] = 0xa;
    fb[0] = 0xb;
    pg_map(pd_a, WIN, (uint32_t)fa, PG_RW);
    pg_map(pd_b, WIN, (uint32_t)fb, PG_RW);
    for (int warm = 0; warm < 2; warm++) {
        write_cr3((uint32_t)pd_a);
        (void)peek32(WIN);
        write_cr3((uint32_t)pd_b);
        (void)peek32(WIN);
    }
    t = now();
    for (int i = 0; i < REPS; i++) {
        write_cr3((uint32_t)pd_a);
        bad += peek32(WIN) != 0xa;
        write_cr3((uint32_t)pd_b);
        bad += peek32(WIN) != 0xb;
    }
    report("CR3 write (two cached spaces) + touch", now() - t, 2 * REPS);
    CHECK_EQ(bad, 0);
    write_cr3((uint32_t)pd_a);
}

static void pte_write(void)
{
    uint32_t *f[2] = { pg_alloc(), pg_alloc() }, bad = 0;
    volatile uint32_t *pte;
    uint64_t t;

    f[0][0] = 100;
    f[1][0] = 101;
    pg_map(pd_a, WIN + 0x10000, (uint32_t)f[0], PG_RW);
    pte = pg_pte(pd_a, WIN + 0x10000);
    invlpg((void *)(WIN + 0x10000));
    t = now();
    for (int i = 0; i < REPS; i++) {
        *pte = (uint32_t)f[i & 1] | PG_P | PG_RW | PG_A;
        invlpg((void *)(WIN + 0x10000));
        bad += peek32(WIN + 0x10000) != 100u + (i & 1);
    }
    report("PTE write + INVLPG + touch", now() - t, REPS);
    CHECK_EQ(bad, 0);
}

static uint32_t *pf_frame;
static volatile uint32_t *pf_pte;

static int map_on_fault(struct trap_frame *f, uint32_t cr2)
{
    if ((cr2 & PG_FRAME) != WIN + 0x20000)
        return 0;
    *pf_pte = (uint32_t)pf_frame | PG_P | PG_RW | PG_A;     /* as Linux maps a page */
    return 1;
}

static void fault_round_trip(void)
{
    uint32_t bad = 0, faults;
    uint64_t t;

    pf_frame = pg_alloc();
    pf_frame[1] = 77;
    pg_map(pd_a, WIN + 0x20000, 0, 0);
    pf_pte = pg_pte(pd_a, WIN + 0x20000);
    *pf_pte = 0;
    pg_fault_hook = map_on_fault;
    faults = pg_faults;
    t = now();
    for (int i = 0; i < REPS; i++) {
        bad += peek32(WIN + 0x20004) != 77;
        *pf_pte = 0;
        invlpg((void *)(WIN + 0x20000));
    }
    report("page fault round trip (guest maps it)", now() - t, REPS);
    pg_fault_hook = 0;
    CHECK_EQ(bad, 0);
    CHECK_EQ(pg_faults - faults, REPS);
}

static void hidden_faults(void)
{
    enum { N = 256 };
    uint32_t bad = 0;
    uint64_t t, total = 0;

    /* Pages 16 apart: each touch is its own fill (no prefetch group). */
    for (int i = 0; i < N; i++)
        pg_map(pd_a, WIN + 0x100000 + (uint32_t)i * 0x10000, (uint32_t)pg_alloc(), PG_RW);
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < N; i++) {       /* A clear again: the shadow drops them */
            *pg_pte(pd_a, WIN + 0x100000 + (uint32_t)i * 0x10000) &= ~PG_A;
            invlpg((void *)(WIN + 0x100000 + (uint32_t)i * 0x10000));
        }
        t = now();
        for (int i = 0; i < N; i++)
            bad += peek32(WIN + 0x100000 + (uint32_t)i * 0x10000) != 0;
        total += now() - t;
    }
    report("first touch of a mapped page", total, 4 * N);
    CHECK_EQ(bad, 0);
}

static void fork_burst(void)
{
    uint32_t *src = pg_alloc(), bad = 0;
    uint64_t t;
    int reps = 20;

    for (int i = 0; i < 1024; i++)
        src[i] = (uint32_t)i << 12 | PG_P | PG_RW;        /* 4 MiB of the identity map */
    t = now();
    for (int r = 0; r < reps; r++) {
        uint32_t *copy = pg_alloc();
        memcpy(copy, src, 4096);
        pd_b[FORK >> 22] = (uint32_t)copy | PG_P | PG_RW | PG_US;
        write_cr3((uint32_t)pd_b);
        for (uint32_t p = 0; p < 1024; p += 64)
            bad += peek32(FORK + p * 4096) != peek32(p * 4096);
        write_cr3((uint32_t)pd_a);
    }
    report("fork-like burst (copy 4 MiB PT, switch, 16 touches)", now() - t, (uint32_t)reps);
    CHECK_EQ(bad, 0);
}

static void touch_64m(void)
{
    uint32_t bad = 0;
    uint64_t t;

    for (uint32_t i = 0; i < 16; i++)
        pg_map4m(pd_a, BIGMAP + i * 0x400000u, 0x02000000u + i * 0x400000u, PG_RW);
    write_cr3((uint32_t)pd_a);
    t = now();
    for (uint32_t a = 0; a < 64u << 20; a += 4096)
        poke32(BIGMAP + a, a);
    for (uint32_t a = 0; a < 64u << 20; a += 4096)
        bad += peek32(BIGMAP + a) != a;
    report("write+read every page of 64 MiB (per page)", now() - t, 16384);
    CHECK_EQ(bad, 0);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    pg_install_pf();
    pd_a = pg_kernel_pd();
    pd_b = pg_kernel_pd();
    pg_enable(pd_a);
    kprintf("pg_cost (TSC cycles per operation):\n");
    cr3_switch();
    pte_write();
    fault_round_trip();
    hidden_faults();
    fork_burst();
    if (mbi->mem_upper >= 100u << 10)
        touch_64m();
    test_finish("pg_cost");
}
