/* pg_proc — address spaces that share a kernel half (issue #5, "tracing"):
 * NPROC page directories map the kernel identically and a private window
 * each. The kernel switches CR3 among them thousands of times; in each it
 * checks its window against a model, writes to it, and edits the page
 * tables of *other* processes — remapping pages to other frames, taking
 * them away, swapping a whole page table through the PDE — without INVLPG,
 * which is architecturally enough since a CR3 load flushes the TLB (SDM
 * vol. 3A §4.10.4.1). Every few rounds the window is also checked from
 * ring 3 (the user view of the space). Shadow spaces cached across the
 * switches must follow every one of those edits. */
#include "pg_lib.h"

#define NPROC   4
#define NPAGES  8
#define NFRAMES 24
#define PRIV    0x80000000u
#define ROUNDS  6000

static uint32_t *pds[NPROC];
static uint32_t *pts[NPROC][2];          /* two page tables per window */
static int active[NPROC];                /* which one its PDE names */
static uint32_t *frames[NFRAMES];
static uint32_t frame_val[NFRAMES];      /* model: word 0 of each frame */
static int map[NPROC][2][NPAGES];        /* model: frame index, or -1 */
static uint32_t rng = 12345;

static uint32_t rnd(uint32_t n)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) % n;
}

static void set_pte(int p, int which, int k, int f)
{
    pts[p][which][k] = f < 0 ? 0 : (uint32_t)frames[f] | PG_P | PG_RW | PG_US;
    map[p][which][k] = f;
}

static volatile uint32_t user_sum, user_want;
static int user_proc;

static void user_check(void)
{
    uint32_t s = 0;
    for (int k = 0; k < NPAGES; k++)
        if (map[user_proc][active[user_proc]][k] >= 0)
            s += peek32(PRIV + (uint32_t)k * 4096);
    user_sum = s;
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    uint32_t bad = 0, switches = 0, edits = 0;
    uint64_t t0, t1;

    sys_init();
    pg_install_pf();
    for (int f = 0; f < NFRAMES; f++) {
        frames[f] = pg_alloc();
        frame_val[f] = frames[f][0] = 0x1000u * (uint32_t)f;
    }
    for (int p = 0; p < NPROC; p++) {
        pds[p] = pg_kernel_pd();
        for (int w = 0; w < 2; w++) {
            pts[p][w] = pg_alloc();
            for (int k = 0; k < NPAGES; k++)
                set_pte(p, w, k, (int)rnd(NFRAMES));
        }
        active[p] = 0;
        pds[p][PRIV >> 22] = (uint32_t)pts[p][0] | PG_P | PG_RW | PG_US;
    }
    pg_enable(pds[0]);

    t0 = rdtsc();
    for (int round = 0; round < ROUNDS; round++) {
        int p = round % NPROC, w;
        if (round % 7 == 3)
            p = (int)rnd(NPROC);
        write_cr3((uint32_t)pds[p]);
        switches++;
        w = active[p];
        /* The window matches the model. */
        for (int k = 0; k < NPAGES; k++) {
            int f = map[p][w][k];
            if (f >= 0 && peek32(PRIV + (uint32_t)k * 4096) != frame_val[f]) {
                if (bad++ < 5)
                    kprintf("round %d proc %d page %d: 0x%x, want frame %d's 0x%x\n", round, p, k,
                            peek32(PRIV + (uint32_t)k * 4096), f, frame_val[f]);
            }
        }
        /* Write through the window (frames may be shared). */
        {
            int k = (int)rnd(NPAGES), f = map[p][w][k];
            if (f >= 0) {
                frame_val[f] += 1 + (uint32_t)round;
                poke32(PRIV + (uint32_t)k * 4096, frame_val[f]);
            }
        }
        /* Edit another process's tables. */
        {
            int q = (int)rnd(NPROC), k = (int)rnd(NPAGES), r = (int)rnd(10);
            if (q == p)
                q = (q + 1) % NPROC;
            if (r < 6)
                set_pte(q, active[q], k, (int)rnd(NFRAMES));        /* remap */
            else if (r < 8)
                set_pte(q, active[q], k, -1);                       /* unmap */
            else if (r < 9)
                set_pte(q, !active[q], k, (int)rnd(NFRAMES));       /* the other table */
            else {
                active[q] = !active[q];                              /* swap the table */
                pds[q][PRIV >> 22] = (uint32_t)pts[q][active[q]] | PG_P | PG_RW | PG_US;
            }
            edits++;
        }
        /* And one of our own, flushed with INVLPG. */
        if (round % 5 == 0) {
            int k = (int)rnd(NPAGES), f = (int)rnd(NFRAMES);
            set_pte(p, w, k, f);
            invlpg((void *)(PRIV + (uint32_t)k * 4096));
            if (peek32(PRIV + (uint32_t)k * 4096) != frame_val[f] && bad++ < 5)
                kprintf("round %d proc %d: own remap of page %d not seen\n", round, p, k);
        }
        /* From ring 3, now and then. */
        if (round % 64 == 0) {
            uint32_t want = 0;
            for (int k = 0; k < NPAGES; k++)
                if (map[p][active[p]][k] >= 0)
                    want += frame_val[map[p][active[p]][k]];
            user_proc = p;
            run_user(user_check, 0);
            if (user_sum != want && bad++ < 5)
                kprintf("round %d proc %d: ring 3 sum 0x%x, want 0x%x\n", round, p, user_sum, want);
        }
    }
    t1 = rdtsc();
    CHECK_EQ(bad, 0);
    CHECK_EQ(switches, ROUNDS);
    kprintf("%u CR3 switches, %u page-table edits: %llu cycles per round\n", switches, edits,
            (unsigned long long)((t1 - t0) / ROUNDS));
    test_finish("pg_proc");
}
