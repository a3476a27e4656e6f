/* pg_unsync — page tables written through the kernel's own writable
 * mapping and then used, with only the TLB flushes the SDM asks for
 * (vol. 3A §4.10.4): the shadow MMU leaves such tables writable while it
 * traces them ("unsync", shadowmmu/mmu_unsync.c) and must diff them at
 * every CR3 load, INVLPG and fill through them.
 *
 *   fork     a page table copied into one of two alternating frames (as
 *            Linux's copy_pte_range, A set), a PDE of the child's
 *            directory pointed at it, CR3 switched to the child, every
 *            page checked, back: the copy must be seen after the load.
 *   reload   PTEs of the running space's table changed, CR3 reloaded with
 *            the same value: the new frames must be seen.
 *   invlpg   one PTE changed, INVLPG, the page checked.
 *   refill   a not-present PTE made present (no flush needed), the page
 *            read — a fill through the unsync table — then made
 *            not-present again and CR3 reloaded: the next read must fault,
 *            so the fill must have been built from a diffed table.
 *   edit     one PTE at a time, each with INVLPG: the table goes back to
 *            write protection after a few such edits (--stats counts it).
 *   idle     a fresh table, then CR3 switches that do not write it: it goes
 *            back to write protection too; a copy after that is seen.
 * The phases before `edit` change several entries between flushes, so
 * their tables stay unsync.
 *
 * With --stats the fork rounds cost next to no host mapping calls
 * (CMake: fewer than 100; about 2 per round with --unsync-tables off).
 * Soft pages (shadowmmu/mmu_soft.c) take the churning user pages out of
 * the host mappings after a few rounds, so the checks bite on the shadow
 * itself with --soft-pages off (a CMake variant). */
#include "pg_lib.h"

#define ROUNDS 400
#define USER   0x40000000u
#define NPG    16                       /* pages a table maps */
#define NFR    (2 * NPG)                /* frames they rotate over */
#define PTE(f) ((uint32_t)(f) | PG_P | PG_RW | PG_US | PG_A)

static uint32_t *pd_a, *pd_b, *tab[2], *frames[NFR];
static uint32_t bad, checks;

static uint32_t tag(int f) { return 0x7a000000u | (uint32_t)f; }
static uint32_t page(int i) { return USER + (uint32_t)i * 4096; }

static void check(uint32_t got, uint32_t want, const char *what, int round, int i)
{
    checks++;
    if (got != want && bad++ < 8)
        kprintf("%s round %d page %d: 0x%x, want 0x%x\n", what, round, i, got, want);
}

/* Linux's copy: the PTEs of the parent's table, A set, into `to`. */
static void __attribute__((noinline)) copy_table(uint32_t *to, int round)
{
    for (int i = 0; i < NPG; i++)
        to[i] = PTE(frames[(i + round) % NFR]);
}

static void fork_rounds(void)
{
    for (int round = 0; round < ROUNDS; round++) {
        uint32_t *t = tab[round & 1];
        copy_table(t, round);
        pd_b[USER >> 22] = PTE(t);
        write_cr3((uint32_t)pd_b);
        for (int i = 0; i < NPG; i++)
            check(peek32(page(i)), tag((i + round) % NFR), "fork", round, i);
        write_cr3((uint32_t)pd_a);
    }
}

/* In the child's space (pd_b, table t): edits then the flush they need. */
static void running_space(uint32_t *t)
{
    for (int round = 0; round < 64; round++) {
        for (int i = 0; i < NPG; i++)
            t[i] = PTE(frames[(3 * i + round) % NFR]);
        write_cr3((uint32_t)pd_b);                  /* the same CR3: a flush all the same */
        for (int i = 0; i < NPG; i++)
            check(peek32(page(i)), tag((3 * i + round) % NFR), "reload", round, i);
        for (int i = 0; i < NPG; i += 3) {
            t[i] = PTE(frames[(i + round + 7) % NFR]);
            invlpg((void *)page(i));
            check(peek32(page(i)), tag((i + round + 7) % NFR), "invlpg", round, i);
        }
    }
    for (int round = 0; round < 64; round++) {
        int i = round % (NPG - 3);
        for (int j = NPG - 3; j < NPG; j++)         /* not one edit at a time: stays unsync */
            t[j] = PTE(frames[(j + round) % NFR]);
        t[i] = 0;
        write_cr3((uint32_t)pd_b);
        TRY_READ(page(i));
        CHECK_PF(0, page(i));
        t[i] = PTE(frames[round % NFR]);            /* not present -> present: no flush */
        check(peek32(page(i)), tag(round % NFR), "refill", round, i);
        t[i] = 0;
        write_cr3((uint32_t)pd_b);
        TRY_READ(page(i));
        CHECK_PF(0, page(i));
        t[i] = PTE(frames[round % NFR]);
        write_cr3((uint32_t)pd_b);
    }
    /* Edits one entry at a time, each with its INVLPG: the table is
     * protected again (mmu_unsync.c), and the pages still follow. */
    for (int round = 0; round < 64; round++) {
        int i = round % NPG;
        t[i] = PTE(frames[(5 * round) % NFR]);
        invlpg((void *)page(i));
        check(peek32(page(i)), tag((5 * round) % NFR), "edit", round, i);
    }
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    (void)magic;
    (void)mbi;
    sys_init();
    pg_install_pf();
    pd_a = pg_kernel_pd();
    pd_b = pg_kernel_pd();
    tab[0] = pg_alloc();
    tab[1] = pg_alloc();
    for (int f = 0; f < NFR; f++) {
        frames[f] = pg_alloc();
        frames[f][0] = tag(f);
    }
    pg_enable(pd_a);
    fork_rounds();
    write_cr3((uint32_t)pd_b);
    running_space(tab[(ROUNDS - 1) & 1]);
    write_cr3((uint32_t)pd_a);
    /* A fresh table, then switches that do not write it: it goes back to
     * write protection (--stats), and a write after that still counts. */
    copy_table(tab[0], 5);
    pd_b[USER >> 22] = PTE(tab[0]);
    for (int round = 0; round < 40; round++) {
        write_cr3((uint32_t)pd_b);
        check(peek32(page(round % NPG)), tag((round % NPG + 5) % NFR), "idle", round, round % NPG);
        write_cr3((uint32_t)pd_a);
    }
    copy_table(tab[0], 9);
    write_cr3((uint32_t)pd_b);
    for (int i = 0; i < NPG; i++)
        check(peek32(page(i)), tag((i + 9) % NFR), "after idle", 0, i);
    write_cr3((uint32_t)pd_a);
    CHECK_EQ(bad, 0);
    kprintf("%d forks, %u checks\n", ROUNDS, checks);
    test_finish("pg_unsync");
}
