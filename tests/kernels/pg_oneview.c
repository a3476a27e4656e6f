/* pg_oneview — ring 3 and ring 0 sharing one host view of an address
 * space while every mapping is the same for both (bt86 runs CPL 3 in the
 * supervisor view then: shadowmmu/mmu_view.c), and the exact moment that
 * must stop.
 *
 *  1. Ring 3 reads and writes a user page between system calls (INT 0x80):
 *     the values, A and D set as the SDM says (vol. 3A §4.8).
 *  2. The kernel makes that page supervisor-only (PTE store + INVLPG):
 *     the next ring-3 read faults with P|U, a write with P|W|U; the
 *     kernel still reads it. Then user-accessible again: no fault.
 *  3. Ring 3 itself clears U/S in the PTE (the page tables are user-
 *     writable here) and has the kernel INVLPG it (INT 0x82): its next
 *     read of the page faults with P|U.
 *  4. CR0.WP=0: the kernel writes a read-only user page (allowed), ring 3's
 *     write to it still faults with P|W|U; CR0.WP=1: the kernel's write
 *     faults with P|W.
 * Each step runs several rounds so that remembered state (the monitor's
 * derive memo, jump caches) is reused across the changes.
 *
 * bt86 and QEMU agree here; it is registered for bt86 with and without
 * --two-views, and with --stats to show the one view was used. */
#include <stdbool.h>

#include "pg_lib.h"

#define UPAGE 0x40000000u       /* user read-write, flipped to supervisor and back */
#define ROPAGE 0x40001000u      /* user read-only */

static uint32_t *pd;
static volatile uint32_t u_val, u_calls, u_step;
static struct pg_user_note seen[8];

static uint32_t u_syscall(uint32_t b, uint32_t c)
{
    uint32_t a;
    __asm__ volatile("int $0x80" : "=a"(a) : "b"(b), "c"(c) : "memory");
    return a;
}

/* Ring 3: read, system call, write, system call, read back. */
static void user_rw(void)
{
    uint32_t v = peek32(UPAGE);
    u_calls += u_syscall(1, 2) == 3;
    poke32(UPAGE + 4, v + 1);
    u_calls += u_syscall(3, 4) == 7;
    u_val = peek32(UPAGE + 4);
    u_step = 1;
}

static void user_try_upage(void)
{
    u_calls += u_syscall(1, 1) == 2;
    U_TRY(seen[0], "movl (%0), %%eax", UPAGE + 8);
    U_TRY(seen[1], "movl %%eax, (%0)", UPAGE + 12);
    u_step = 2;
}

/* Clears U/S of UPAGE's PTE from ring 3, asks the kernel for the INVLPG
 * (INT 0x82), then reads the page. */
static volatile uint32_t *u_pte;
void int82(void);
__asm__(".globl int82\nint82:\n\t"
        "push %eax\n\tmov $0x40000000, %eax\n\tinvlpg (%eax)\n\tpop %eax\n\tiret\n");
static void user_unmap_self(void)
{
    uint32_t v = peek32(UPAGE);         /* mapped, and in the space ring 3 runs in */
    u_val = v;
    *u_pte &= ~PG_US;
    __asm__ volatile("int $0x82" : : : "memory");
    U_TRY(seen[0], "movl (%0), %%eax", UPAGE + 16);
    u_step = 3;
}

static void user_write_ro(void)
{
    U_TRY(seen[0], "movl %%eax, (%0)", ROPAGE + 8);
    U_TRY(seen[1], "movl (%0), %%eax", ROPAGE + 8);
    u_val = peek32(ROPAGE + 8);
    u_step = 4;
}

static void check_seen(int i, int vector, uint32_t err)
{
    CHECK_EQ_CTX(seen[i].vector, (uint32_t)vector, "access %d", i);
    if (vector >= 0) {
        CHECK_EQ_CTX(seen[i].error, err, "access %d", i);
        CHECK_EQ_CTX(seen[i].eip, seen[i].expect, "access %d", i);
    }
}

static void test_rounds(void)
{
    volatile uint32_t *pte = pg_pte(pd, UPAGE);

    for (int round = 0; round < 6; round++) {
        /* 1. One view: values, A and D. */
        *pte &= ~(PG_A | PG_D);
        invlpg((void *)UPAGE);
        poke32(UPAGE, 0x100u + (uint32_t)round);
        *pte &= ~(PG_A | PG_D);
        invlpg((void *)UPAGE);
        u_step = u_calls = 0;
        run_user(user_rw, 0);
        CHECK_EQ(u_step, 1);
        CHECK_EQ(u_calls, 2);
        CHECK_EQ(u_val, 0x101u + (uint32_t)round);
        CHECK_EQ(*pte & (PG_A | PG_D), PG_A | PG_D);

        /* 2. Supervisor-only: ring 3 faults, the kernel reads. */
        *pte &= ~PG_US;
        invlpg((void *)UPAGE);
        if (round & 1)
            CHECK_EQ(peek32(UPAGE), 0x100u + (uint32_t)round);
        u_step = u_calls = 0;
        run_user(user_try_upage, 0);
        CHECK_EQ(u_step, 2);
        CHECK_EQ(u_calls, 1);
        check_seen(0, 14, PFE_P | PFE_U);
        check_seen(1, 14, PFE_P | PFE_W | PFE_U);
        CHECK_EQ(peek32(UPAGE + 12), 0);
        *pte |= PG_US;
        invlpg((void *)UPAGE);
        u_step = 0;
        run_user(user_try_upage, 0);
        CHECK_EQ(u_step, 2);
        check_seen(0, -1, 0);
        check_seen(1, -1, 0);
        poke32(UPAGE + 12, 0);

        /* 3. Ring 3 takes its own page away. */
        u_pte = pte;
        u_step = 0;
        run_user(user_unmap_self, 0);
        CHECK_EQ(u_step, 3);
        CHECK_EQ(u_val, 0x100u + (uint32_t)round);
        check_seen(0, 14, PFE_P | PFE_U);
        *pte |= PG_US;
        invlpg((void *)UPAGE);
    }
}

static void test_wp(void)
{
    for (int round = 0; round < 4; round++) {
        uint32_t cr0;
        __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
        __asm__ volatile("mov %0, %%cr0" : : "r"(cr0 & ~CR0_WP) : "memory");
        poke32(ROPAGE + 8, 0x5000u + (uint32_t)round);     /* WP=0: allowed */
        u_step = 0;
        run_user(user_write_ro, 0);
        CHECK_EQ(u_step, 4);
        check_seen(0, 14, PFE_P | PFE_W | PFE_U);
        check_seen(1, -1, 0);
        CHECK_EQ(u_val, 0x5000u + (uint32_t)round);
        __asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | CR0_WP) : "memory");
        TRY_WRITE(ROPAGE + 12);
        CHECK_PF(PFE_P | PFE_W, ROPAGE + 12);
        u_step = 0;
        run_user(user_write_ro, 0);
        CHECK_EQ(u_step, 4);
        check_seen(0, 14, PFE_P | PFE_W | PFE_U);
    }
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    (void)magic;
    (void)mbi;
    pd = pg_setup();
    pg_map(pd, UPAGE, (uint32_t)pg_alloc(), PG_RW | PG_US);
    pg_map(pd, ROPAGE, (uint32_t)pg_alloc(), PG_US);
    set_gate(0x82, (uint32_t)int82, SEL_KCODE, 0xe, 3);
    pg_enable(pd);
    test_rounds();
    test_wp();
    test_finish("pg_oneview");
}
