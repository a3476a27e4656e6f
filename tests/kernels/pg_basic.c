/* pg_basic — 32-bit paging (SDM vol. 3A ch. 4, issue #5): identity and
 * higher-half mappings, code run through an alias, 4 MiB pages (CR4.PSE),
 * Accessed and Dirty bits as the guest sees them (§4.8), CR0.WP (§4.6),
 * a PTE changed and INVLPG'd (§4.10.4), a page unmapped and remapped to
 * another frame, paging turned off and on again, and CPUID's PSE/PAT. */
#include "pg_lib.h"

#define HIGH 0xc0000000u                /* the kernel again, higher half */
#define WIN  0x40000000u                /* test mappings */
#define BIG  0x80000000u                /* a 4 MiB page */

static uint32_t *pd;

/* Called through its higher-half alias: relative calls stay in the alias,
 * absolute data references go to the identity mapping. */
__attribute__((noinline)) static uint32_t where_am_i(void)
{
    uint32_t eip;
    __asm__ volatile("call 1f\n1: pop %0" : "=r"(eip));
    return eip;
}

static void test_higher_half(void)
{
    static volatile uint32_t cell = 0x1234;
    uint32_t (*alias)(void) = (uint32_t (*)(void))((uint32_t)where_am_i + HIGH);
    uint32_t eip = alias();

    CHECK(eip >= HIGH);
    CHECK(eip - HIGH >= (uint32_t)where_am_i && eip - HIGH < (uint32_t)where_am_i + 64);
    CHECK_EQ(where_am_i() + HIGH, eip);
    /* Data through the alias is the same memory. */
    CHECK_EQ(peek32((uint32_t)&cell + HIGH), 0x1234);
    poke32((uint32_t)&cell + HIGH, 0x5678);
    CHECK_EQ(cell, 0x5678);
}

static void test_accessed_dirty(void)
{
    uint32_t *f = pg_alloc();
    volatile uint32_t *pte, *pde = pg_pde(pd, WIN);

    f[0] = 0xabcd0001;
    pg_map(pd, WIN, (uint32_t)f, PG_RW);
    pte = pg_pte(pd, WIN);
    *pde &= ~PG_A;
    invlpg((void *)WIN);
    CHECK_EQ(*pte & (PG_A | PG_D), 0);
    CHECK_EQ(peek32(WIN), 0xabcd0001);              /* a read sets A (PDE and PTE), not D */
    CHECK_EQ(*pte & (PG_A | PG_D), PG_A);
    CHECK_EQ(*pde & PG_A, PG_A);
    poke32(WIN + 8, 7);                             /* the first write sets D */
    CHECK_EQ(*pte & (PG_A | PG_D), PG_A | PG_D);
    CHECK_EQ(f[2], 7);
    /* Cleared by the guest and the TLB entry flushed: set again. */
    *pte &= ~(PG_A | PG_D);
    invlpg((void *)WIN);
    CHECK_EQ(peek32(WIN + 8), 7);
    CHECK_EQ(*pte & (PG_A | PG_D), PG_A);
    poke32(WIN + 12, 9);
    CHECK_EQ(*pte & (PG_A | PG_D), PG_A | PG_D);
    /* Many pages: each PTE gets its own bits (the shadow prefetches only
     * pages already accessed, so the bits stay exact). */
    for (int i = 1; i < 32; i++)
        pg_map(pd, WIN + i * 4096u, (uint32_t)pg_alloc(), PG_RW);
    for (int i = 1; i < 32; i++)
        if (i % 3 == 0)
            poke32(WIN + i * 4096u, i);
        else if (i % 3 == 1)
            (void)peek32(WIN + i * 4096u);
    for (int i = 1; i < 32; i++) {
        uint32_t want = i % 3 == 0 ? PG_A | PG_D : i % 3 == 1 ? PG_A : 0;
        CHECK_EQ_CTX(*pg_pte(pd, WIN + i * 4096u) & (PG_A | PG_D), want, "page %d", i);
    }
}

static void test_4m_pages(void)
{
    /* 4 MiB of the identity map again at BIG: the kernel's frames. */
    static volatile uint32_t marker = 0xfeedf00d;
    volatile uint32_t *pde = pg_pde(pd, BIG);

    pg_map4m(pd, BIG, 0, PG_RW);
    invlpg((void *)BIG);
    CHECK_EQ(peek32(BIG + (uint32_t)&marker), 0xfeedf00d);
    CHECK_EQ(*pde & (PG_A | PG_D), PG_A);
    poke32(BIG + (uint32_t)&marker, 0xc0ffee);
    CHECK_EQ(marker, 0xc0ffee);
    CHECK_EQ(*pde & (PG_A | PG_D), PG_A | PG_D);
    /* The last byte of the page and across into an unmapped one. */
    CHECK_EQ(peek32(BIG + 0x3ffffc), peek32(0x3ffffc));
    *pde = 0;
    invlpg((void *)BIG);
}

static void test_wp(void)
{
    uint32_t *f = pg_alloc();

    pg_map(pd, WIN + 0x100000, (uint32_t)f, 0);     /* read-only, supervisor */
    invlpg((void *)(WIN + 0x100000));
    trap_reset();
    /* CR0.WP=1: a supervisor write to a read-only page faults (§4.6). */
    __asm__ volatile(TRY_BEGIN "movl $1, (%0)" TRY_END : : "r"(WIN + 0x100000) : "memory");
    CHECK_TRAP(14, PFE_P | PFE_W);
    CHECK_EQ(pg_last_cr2, WIN + 0x100000);
    CHECK_EQ(f[0], 0);
    /* CR0.WP=0: it does not. */
    write_cr0(read_cr0() & ~CR0_WP);
    trap_reset();
    poke32(WIN + 0x100000, 0x77);
    CHECK_NO_TRAP();
    CHECK_EQ(f[0], 0x77);
    CHECK_EQ(*pg_pte(pd, WIN + 0x100000) & PG_D, PG_D);
    write_cr0(read_cr0() | CR0_WP);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "movl $2, (%0)" TRY_END : : "r"(WIN + 0x100004) : "memory");
    CHECK_TRAP(14, PFE_P | PFE_W);
    CHECK_EQ(f[1], 0);
}

static void test_invlpg_remap(void)
{
    uint32_t *a = pg_alloc(), *b = pg_alloc(), lin = WIN + 0x200000;
    volatile uint32_t *pte;

    a[5] = 0xaaaa;
    b[5] = 0xbbbb;
    pg_map(pd, lin, (uint32_t)a, PG_RW);
    invlpg((void *)lin);
    pte = pg_pte(pd, lin);
    CHECK_EQ(peek32(lin + 20), 0xaaaa);
    /* PTE changed and INVLPG'd: the new frame. */
    *pte = (uint32_t)b | PG_P | PG_RW;
    invlpg((void *)lin);
    CHECK_EQ(peek32(lin + 20), 0xbbbb);
    poke32(lin + 24, 0xb2);
    CHECK_EQ(b[6], 0xb2);
    CHECK_EQ(a[6], 0);
    /* Unmapped: not present. */
    *pte = 0;
    invlpg((void *)lin);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "movl (%0), %%eax" TRY_END : : "r"(lin + 20) : "eax", "memory");
    CHECK_TRAP(14, 0);
    CHECK_EQ(pg_last_cr2, lin + 20);
    /* Remapped to another frame. */
    *pte = (uint32_t)a | PG_P | PG_RW;
    invlpg((void *)lin);
    CHECK_EQ(peek32(lin + 20), 0xaaaa);
    /* Back and forth many times, through a mapping the shadow had filled. */
    for (int i = 0; i < 200; i++) {
        *pte = (uint32_t)(i & 1 ? b : a) | PG_P | PG_RW;
        invlpg((void *)lin);
        CHECK_EQ(peek32(lin + 20), i & 1 ? 0xbbbbu : 0xaaaau);
    }
}

static void test_off_and_on(void)
{
    static volatile uint32_t cell;
    pg_disable();
    CHECK_EQ(read_cr0() & CR0_PG, 0);
    cell = 1;
    pg_enable(pd);
    CHECK_EQ(cell, 1);
    CHECK_EQ(peek32((uint32_t)&cell + HIGH), 1);
}

static void test_cpuid(void)
{
    uint32_t a = 1, b, c, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
    CHECK_EQ(d & (1u << 3), 1u << 3);               /* PSE */
    CHECK_EQ(d & (1u << 16), 1u << 16);             /* PAT */
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    pg_install_pf();
    test_cpuid();
    pd = pg_kernel_pd();
    /* The higher half: the same page tables at PDE 768.. */
    for (uint32_t i = 0; i < PG_KERNEL_END >> 22; i++)
        pd[(HIGH >> 22) + i] = pd[i];
    pg_enable(pd);
    CHECK_EQ(read_cr3(), (uint32_t)pd);
    CHECK_EQ(read_cr0() & (CR0_PG | CR0_WP), CR0_PG | CR0_WP);
    test_higher_half();
    test_accessed_dirty();
    test_4m_pages();
    test_wp();
    test_invlpg_remap();
    test_off_and_on();
    test_finish("pg_basic");
}
