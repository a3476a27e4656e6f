/* pg_segkeys — translations keyed by the segment bases they use, and the
 * jump caches of several block modes (emulator/segsets.c, jcache.c).
 *
 * A kernel like Linux i386 runs with a per-CPU FS base and the user's TLS
 * base in GS, which changes with every process. Blocks that fold in no FS
 * or GS base are shared across those bases; blocks that do must still see
 * the base in force. Here, paging off and then on: NBASES GS bases and
 * NBASES FS bases (each over its own word), a function on its own page
 * that reads %gs:0, one that reads %fs:0, and a chain of functions on
 * other pages that use neither (cross-page calls: with paging on those
 * exits look the target up in the jump cache). Each round loads a new
 * pair of bases and checks every value read; the bases cycle through more
 * block modes than there are jump caches, and fewer tuples than the
 * segment-base table holds.
 *
 * With --stats, bt_blocks shows the sharing: the plain chain is
 * translated once per paging mode, not once per GS base; and dispatches
 * stay far below the CROSS_CALLS direct calls to another page made with
 * paging on, and below the calls made after each of CR3_RELOADS CR3
 * writes with the kernel on global pages (the tests in CMakeLists.txt
 * bound both counts). */
#include "pg_lib.h"

#define NBASES 60           /* GS bases: each a block mode, more than there are jump caches */
#define NFS    3            /* FS bases: one per round */
#define CROSS_CALLS 20000
#define CR3_RELOADS 5000
#define CR4_PGE     (1u << 7)
#define S_GS   16
#define S_FS   17

static uint32_t gs_words[NBASES], fs_words[NFS];

#define PAGE_FN __attribute__((noinline, aligned(4096)))

PAGE_FN static uint32_t read_gs0(void)
{
    uint32_t v;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(v));
    return v;
}

PAGE_FN static uint32_t read_fs0(void)
{
    uint32_t v;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(v));
    return v;
}

/* Plain code: several blocks (loop, branches), no FS or GS. */
PAGE_FN static uint32_t plain_a(uint32_t x)
{
    for (int i = 0; i < 8; i++)
        x = (x & 1) ? x * 3 + 1 : x / 2 + i;
    return x;
}

PAGE_FN static uint32_t plain_b(uint32_t x)
{
    uint32_t s = 0;
    for (uint32_t i = 0; i < 5; i++)
        s += (x >> i) & 1 ? i : 2 * i;
    return plain_a(x ^ s) + s;
}

static uint32_t plain_model_a(uint32_t y)
{
    for (int i = 0; i < 8; i++)
        y = (y & 1) ? y * 3 + 1 : y / 2 + i;
    return y;
}

static uint32_t plain_model(uint32_t x)
{
    uint32_t s = 0, y;
    for (uint32_t i = 0; i < 5; i++)
        s += (x >> i) & 1 ? i : 2 * i;
    y = x ^ s;
    for (int i = 0; i < 8; i++)
        y = (y & 1) ? y * 3 + 1 : y / 2 + i;
    return y + s;
}

static void load_gs(uint32_t base)
{
    gdt[S_GS] = seg_desc(base, 0xfffff, 0x92, 0xc);
    __asm__ volatile("mov %0, %%gs" : : "r"((uint16_t)(S_GS * 8)) : "memory");
}

static void load_fs(uint32_t base)
{
    gdt[S_FS] = seg_desc(base, 0xfffff, 0x92, 0xc);
    __asm__ volatile("mov %0, %%fs" : : "r"((uint16_t)(S_FS * 8)) : "memory");
}

static uint32_t rounds(void)
{
    uint32_t bad = 0;

    for (int r = 0; r < 3; r++) {
        for (int i = 0; i < NBASES; i++) {
            int f = r;
            load_gs((uint32_t)&gs_words[i]);
            load_fs((uint32_t)&fs_words[f]);
            bad += read_gs0() != gs_words[i];
            bad += plain_b((uint32_t)i) != plain_model((uint32_t)i);
            bad += read_fs0() != fs_words[f];
            bad += read_gs0() != gs_words[i];
        }
    }
    load_fs(0);
    load_gs(0);
    return bad;
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    uint32_t bad, *pd;

    sys_init();
    for (int i = 0; i < NBASES; i++)
        gs_words[i] = 0x6500u + (uint32_t)i * 7;
    for (int f = 0; f < NFS; f++)
        fs_words[f] = 0xf500u + (uint32_t)f * 13;
    bad = rounds();
    CHECK_EQ(bad, 0);
    pd = pg_kernel_pd();
    pg_enable(pd);
    bad = rounds();
    CHECK_EQ(bad, 0);
    /* Direct calls to another page: found in the jump cache, not by a
     * return to the dispatcher each (--stats: dispatches). */
    for (uint32_t i = 0; i < CROSS_CALLS; i++)
        bad += plain_a(i) != plain_model_a(i);
    CHECK_EQ(bad, 0);
    /* CR3 reloads with the kernel on global pages (CR4.PGE): a CR3 write
     * leaves global translations in the TLB (SDM vol. 3A §4.10.2.4), so the
     * jump caches keep the calls' targets (--stats: dispatches). */
    for (uint32_t lin = 0; lin < PG_KERNEL_END; lin += 4096)
        *pg_pte(pd, lin) |= PG_G;
    write_cr4(read_cr4() | CR4_PGE);
    for (uint32_t i = 0; i < CR3_RELOADS; i++) {
        write_cr3(read_cr3());
        bad += plain_a(i) != plain_model_a(i);
    }
    write_cr4(read_cr4() & ~CR4_PGE);
    CHECK_EQ(bad, 0);
    pg_disable();
    test_finish("pg_segkeys");
}
