/* pg_fork — fork, run, exit, many times, the way Linux does it (issue #13):
 * every round the parent builds a child address space in the *same* page
 * directory frame and page-table frames as the last child (freed pages
 * are reused first), with the kernel half copied from its own directory
 * and a copy of its user pages; the child checks its user pages and the
 * kernel half, writes its pages, and exits by zeroing its page tables and
 * then its user PDEs while still running on them (a write flood on each,
 * its directory included); the parent checks what the child left in its
 * frames. Every few rounds the child's directory differs in the kernel
 * half from the last child's — a PDE naming another page table, a PDE
 * copied with its Accessed bit clear (the CPU must set it on the child's
 * first access through it, SDM vol. 3A §4.8), a PDE made read-only (a
 * supervisor store through it must fault, CR0.WP) — or is another frame
 * altogether, and the child runs a check from ring 3.
 *
 * What the shadow MMU does with this (shadowmmu/mmu_retarget.c): the
 * child's space is detached by the flood on its directory and retargeted
 * at the next child, keeping the kernel half's pages; the one store loop
 * that zeroes page tables and fills data pages is marked as a monitor
 * callout by its faults on traced tables and must be translated natively
 * again after clean runs (emulator/adaptive.c). The CMake variants count
 * both with --stats. All of it is architectural: the CR3 loads are the
 * only TLB flushes it needs (§4.10.4.1). */
#include "pg_lib.h"

#define ROUNDS  400
#define USER    0x40000000u
#define NPT     2                       /* user page tables per process */
#define NPG     4                       /* pages mapped per user page table */
#define NDATA   (NPT * NPG)
#define KTAB    0x00800000u             /* kernel-half pages the child reads: */
#define KSTRIDE 0x10000u                /* one per 64 KiB over 4 MiB (PDE 2) */
#define KPAGES  64
#define KPDE    (KTAB >> 22)

static uint32_t *ppd, *cpd[2], *cpt[NPT], *pdata[NDATA], *cdata[NDATA], *alt_pt;
static uint32_t child_want[NDATA];              /* word 0 the child must find */

static uint32_t page_lin(int k) { return USER + (uint32_t)(k / NPG) * 0x400000u + (uint32_t)(k % NPG) * 4096; }

/* The one store loop of the kernel: page tables and data alike (as
 * Linux's clear_page and memset serve both). volatile: a loop of single
 * stores, not a string instruction. */
static void __attribute__((noinline)) fill_words(volatile uint32_t *p, uint32_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = v + i;
}

static void __attribute__((noinline)) zero_words(volatile uint32_t *p, unsigned n)
{
    fill_words(p, 0, 1);
    for (unsigned i = 1; i < n; i++)
        fill_words(p + i, 0, 1);
}

static uint32_t bad, checks;

static void check(uint32_t got, uint32_t want, int round, const char *what, int k)
{
    checks++;
    if (got != want && bad++ < 8)
        kprintf("round %d: %s %d: 0x%x, want 0x%x\n", round, what, k, got, want);
}

static volatile uint32_t user_sum;

static void user_check(void)
{
    uint32_t s = 0;
    for (int k = 0; k < NDATA; k++)
        s += peek32(page_lin(k));
    user_sum = s;
}

/* Build the child in pd: the kernel half from the parent's directory (a
 * changed PDE KPDE on some rounds), its tables in the reused frames, its
 * pages a copy of the parent's, mapped in a rotating order. */
static void fork_into(uint32_t *pd, int round, int alt, int clear_a, int rdonly)
{
    zero_words(pd, 1024);
    for (int i = 0; i < (int)(PG_KERNEL_END >> 22); i++)
        pd[i] = ppd[i];
    if (alt)
        pd[KPDE] = (uint32_t)alt_pt | PG_P | PG_RW | PG_US | PG_A;
    if (clear_a)
        pd[KPDE] &= ~PG_A;
    if (rdonly)
        pd[KPDE] &= ~PG_RW;
    for (int t = 0; t < NPT; t++) {
        zero_words(cpt[t], 1024);
        pd[(USER >> 22) + t] = (uint32_t)cpt[t] | PG_P | PG_RW | PG_US;
    }
    for (int k = 0; k < NDATA; k++) {
        int f = (k + round) % NDATA;
        for (int w = 0; w < 1024; w++)
            cdata[f][w] = pdata[k][w];
        cpt[k / NPG][k % NPG] = (uint32_t)cdata[f] | PG_P | PG_RW | PG_US;
        child_want[k] = pdata[k][0];
    }
}

static void child(uint32_t *pd, int round, int alt, int clear_a, int rdonly)
{
    /* Its pages: a copy of the parent's. */
    for (int k = 0; k < NDATA; k++) {
        check(peek32(page_lin(k)), child_want[k], round, "child page", k);
        check(peek32(page_lin(k) + 4092), child_want[k] + 1023, round, "child page end", k);
    }
    /* The kernel half, through the PDE that may have changed. */
    for (int j = 0; j < KPAGES; j++) {
        uint32_t lin = KTAB + (uint32_t)j * KSTRIDE;
        check(peek32(lin), alt ? lin ^ 0x1000u : lin, round, "kernel page", j);
    }
    if (clear_a)
        check(pd[KPDE] & PG_A, PG_A, round, "accessed bit of PDE", KPDE);
    /* Stores through that PDE: they fault where it is read-only. */
    if (rdonly) {
        TRY_WRITE(KTAB + 4);
        CHECK_PF(PFE_P | PFE_W, KTAB + 4);
    } else {
        for (int j = 0; j < KPAGES; j += 8)
            poke32(KTAB + (uint32_t)j * KSTRIDE + 4, (uint32_t)round);
    }
    if (round % 16 == 0) {
        uint32_t want = 0;
        for (int k = 0; k < NDATA; k++)
            want += child_want[k];
        run_user(user_check, 0);
        check(user_sum, want, round, "ring 3 sum", 0);
    }
    /* Write its pages, then exit: tables first, then the directory. */
    for (int k = 0; k < NDATA; k++)
        fill_words((volatile uint32_t *)page_lin(k), 0x01000000u * (uint32_t)(round & 0x7f) + (uint32_t)k * 4096, 1024);
    for (int t = 0; t < NPT; t++)
        zero_words(cpt[t], 1024);
    zero_words(&pd[USER >> 22], NPT);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    uint32_t reused = 0, switched = 0, alts = 0, cleared = 0, rdonlys = 0;

    (void)magic;
    (void)mbi;
    sys_init();
    pg_install_pf();
    ppd = pg_kernel_pd();
    cpd[0] = pg_alloc();
    cpd[1] = pg_alloc();
    alt_pt = pg_alloc();
    for (int t = 0; t < NPT; t++)
        cpt[t] = pg_alloc();
    for (int k = 0; k < NDATA; k++) {
        pdata[k] = pg_alloc();
        cdata[k] = pg_alloc();
        fill_words(pdata[k], 0x100000u * (uint32_t)k, 1024);
        pg_map(ppd, page_lin(k), (uint32_t)pdata[k], PG_RW | PG_US);
    }
    /* The kernel pages the child reads hold their own address; alt_pt
     * maps PDE KPDE's 4 MiB with neighbouring pages swapped. */
    for (int j = 0; j < KPAGES; j++) {
        poke32(KTAB + (uint32_t)j * KSTRIDE, KTAB + (uint32_t)j * KSTRIDE);
        poke32(KTAB + (uint32_t)j * KSTRIDE + 0x1000u, KTAB + (uint32_t)j * KSTRIDE + 0x1000u);
    }
    for (int i = 0; i < 1024; i++)
        alt_pt[i] = (KTAB + ((uint32_t)(i ^ 1) << 12)) | PG_P | PG_RW | PG_US | PG_A | PG_D;
    pg_enable(ppd);
    for (int j = 0; j < KPAGES; j++)
        (void)peek32(KTAB + (uint32_t)j * KSTRIDE);         /* the parent's PDE gets A */

    for (int round = 0; round < ROUNDS; round++) {
        int which = round % 6 == 5, alt = round % 32 == 3, clear_a = round % 32 == 17;
        int rdonly = round % 32 == 25;
        uint32_t *pd = cpd[which];

        fork_into(pd, round, alt, clear_a, rdonly);
        reused += !which;
        switched += which;
        alts += alt;
        cleared += clear_a;
        rdonlys += rdonly;
        write_cr3((uint32_t)pd);
        child(pd, round, alt, clear_a, rdonly);
        write_cr3((uint32_t)ppd);
        /* What the child left in its frames. */
        for (int k = 0; k < NDATA; k++) {
            uint32_t *f = cdata[(k + round) % NDATA];
            check(f[0], 0x01000000u * (uint32_t)(round & 0x7f) + (uint32_t)k * 4096, round, "child's frame", k);
            check(f[1023], 0x01000000u * (uint32_t)(round & 0x7f) + (uint32_t)k * 4096 + 1023, round,
                  "child's frame end", k);
        }
        for (int t = 0; t < NPT; t++)
            check(cpt[t][0] | cpt[t][NPG - 1], 0, round, "child's table", t);
        /* The parent's own pages change between forks. */
        for (int k = 0; k < NDATA; k++) {
            uint32_t v = 0x100000u * (uint32_t)k + (uint32_t)round;
            fill_words(pdata[k], v, 1024);
            check(peek32(page_lin(k)), v, round, "parent page", k);
        }
    }
    CHECK_EQ(bad, 0);
    kprintf("%d forks: directory reused %u times, another one %u, kernel PDE changed %u, "
            "copied without A %u, read-only %u; %u checks\n", ROUNDS, reused, switched, alts, cleared,
            rdonlys, checks);
    test_finish("pg_fork");
}
