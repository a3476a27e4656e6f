/* pg_pae — PAE paging, execute-disable and global pages as a 686-pae
 * kernel uses them (SDM vol. 3A §4.4, §4.6.2, §4.7, §4.10, SDM vol. 2A
 * "CPUID"): CPUID reports PAE, PGE and NX and honest extended leaves;
 * IA32_EFER has NXE and nothing else; CR3 holds a 32-byte aligned PDPT
 * address and MOV CR3 (or a CR4 change under PAE paging) with a reserved
 * bit in a present PDPTE is #GP(0) and changes nothing; 4 KiB and 2 MiB
 * pages through 64-bit entries with their Accessed and Dirty bits; #PF
 * error codes, RSVD for bits above MAXPHYADDR and for XD without NXE;
 * fetches from an XD page fault with I/D (also after the page stops being
 * executable, once INVLPG, a CR3 load or a CR4.PGE toggle says so); global
 * pages flushed by INVLPG and by toggling CR4.PGE.
 *
 * Checked against QEMU 7.2 (-cpu coreduo: PAE, NX, MAXPHYADDR 36), which
 * agrees on everything but three departures from the SDM: its RSVD
 * faults lack P, it accepts EFER.SCE/LME on a 32-bit CPU, and it has no
 * PDPTE registers (the PDPT is read on every walk, reserved bits never
 * #GP) — so the EFER and PDPTE-register checks run only when CPUID's brand
 * string says bt86, and the kernel test runs under bt86 only. */
#include "pg_lib.h"

#define CR4_PAE (1u << 5)
#define CR4_PGE (1u << 7)
#define MSR_EFER 0xc0000080u
#define EFER_NXE (1u << 11)
#define PFE_I    0x10u
#define XD       (1ull << 63)

#define T4K   0x40000000u       /* PDPTE 1, PD1[0]: a page table of 4 KiB pages */
#define T2M   0x40200000u       /* PD1[1]: a 2 MiB page */
#define TNP   0x40400000u       /* PD1[2]: not present */
#define TRSV  0x40600000u       /* PD1[3]: 2 MiB with bit 13 (reserved) */
#define CODE  0x40010000u       /* T4K + 16 pages: code pages */
#define PHYS2M 0x00800000u      /* what T2M maps (inside the kernel's 16 MiB) */

static uint64_t *pdpt;          /* 32-byte aligned, not page aligned: CR3 bits 11:5 */
static uint64_t *pd0, *pd1, *pt;
static uint32_t maxphy;
static int on_bt86;

static void test_cpuid(void)
{
    uint32_t r[4], brand[12];

    cpuid(1, r);
    CHECK_EQ(r[3] & (1u << 6), 1u << 6);            /* PAE */
    CHECK_EQ(r[3] & (1u << 13), 1u << 13);          /* PGE */
    cpuid(0x80000000u, r);
    CHECK(r[0] >= 0x80000008u);
    cpuid(0x80000001u, r);
    CHECK_EQ(r[3] & (1u << 20), 1u << 20);          /* NX */
    CHECK_EQ(r[3] & (1u << 29), 0);                 /* no long mode: a 32-bit CPU */
    cpuid(0x80000008u, r);
    maxphy = r[0] & 0xff;
    CHECK(maxphy >= 32 && maxphy <= 52);
    for (uint32_t i = 0; i < 3; i++)
        cpuid(0x80000002u + i, &brand[i * 4]);
    on_bt86 = memcmp(brand, "bt86", 4) == 0;
}

/* IA32_EFER: NXE reads back; SCE and LME do not exist on this CPU. */
static void test_efer(void)
{
    CHECK_EQ(rdmsr(MSR_EFER) & EFER_NXE, 0);
    wrmsr(MSR_EFER, EFER_NXE);
    CHECK_EQ(rdmsr(MSR_EFER), EFER_NXE);
    wrmsr(MSR_EFER, 0);
    CHECK_EQ(rdmsr(MSR_EFER), 0);
    if (!on_bt86)       /* QEMU 7.2 accepts SCE and LME on 32-bit CPUs */
        return;
    trap_reset();
    __asm__ volatile(TRY_BEGIN "wrmsr" TRY_END : : "c"(MSR_EFER), "a"(1), "d"(0) : "memory");
    CHECK_TRAP(13, 0);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "wrmsr" TRY_END : : "c"(MSR_EFER), "a"(1u << 8), "d"(0) : "memory");
    CHECK_TRAP(13, 0);
}

static uint64_t *alloc64(void) { return (uint64_t *)pg_alloc(); }

static void build_tables(void)
{
    uint8_t *page = (uint8_t *)pg_alloc();

    pdpt = (uint64_t *)(page + 0x40);
    pd0 = alloc64();
    pd1 = alloc64();
    pt = alloc64();
    /* [0, 16 MiB): 2 MiB identity pages, user-accessible like pg_kernel_pd */
    for (uint32_t i = 0; i < PG_KERNEL_END >> 21; i++)
        pd0[i] = (uint64_t)(i << 21) | PG_PS | PG_P | PG_RW | PG_US;
    pd1[0] = (uint32_t)pt | PG_P | PG_RW | PG_US;
    pd1[1] = PHYS2M | PG_PS | PG_P | PG_RW;
    pd1[3] = PHYS2M | (1u << 13) | PG_PS | PG_P | PG_RW;
    pdpt[0] = (uint32_t)pd0 | PG_P;
    pdpt[1] = (uint32_t)pd1 | PG_P;
}

static uint32_t *frame_a, *frame_b;

static void enable_pae(void)
{
    write_cr3((uint32_t)pdpt);
    write_cr4(read_cr4() | CR4_PAE);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
    CHECK_EQ(read_cr3(), (uint32_t)pdpt);
    CHECK_EQ(read_cr0() & CR0_PG, CR0_PG);
}

/* 4 KiB pages through PD1[0]: data, A/D in the low dword, error codes. */
static void test_4k(void)
{
    volatile uint64_t *pte = &pt[0];

    frame_a[5] = 0x1234;
    pt[0] = (uint32_t)frame_a | PG_P | PG_RW;
    pt[1] = (uint32_t)frame_b | PG_P;               /* read-only */
    invlpg((void *)T4K);
    invlpg((void *)(T4K + 4096));
    CHECK_EQ(peek32(T4K + 20), 0x1234);
    CHECK_EQ(*pte & (PG_A | PG_D), PG_A);
    CHECK_EQ(pd1[0] & PG_A, PG_A);
    poke32(T4K + 24, 0x77);
    CHECK_EQ(frame_a[6], 0x77);
    CHECK_EQ(*pte & (PG_A | PG_D), PG_A | PG_D);
    CHECK_EQ((uint32_t)(*pte >> 32), 0);
    /* Read-only: a supervisor write faults with CR0.WP=1. */
    TRY_WRITE(T4K + 4096 + 8);
    CHECK_PF(PFE_P | PFE_W, T4K + 4096 + 8);
    /* Not present at either level. */
    TRY_READ(T4K + 2 * 4096);
    CHECK_PF(0, T4K + 2 * 4096);
    TRY_WRITE(TNP + 0x123);
    CHECK_PF(PFE_W, TNP + 0x123);
    /* A not-present PDPTE (3): not present, CR2 as given. */
    TRY_READ(0xc0001000u);
    CHECK_PF(0, 0xc0001000u);
    /* Bit MAXPHYADDR of a PTE is reserved (§4.4.2). */
    pt[2] = (uint32_t)frame_a | PG_P | PG_RW | (1ull << maxphy);
    TRY_READ(T4K + 2 * 4096 + 4);
    CHECK_PF(PFE_P | PFE_RSVD, T4K + 2 * 4096 + 4);
    /* XD without EFER.NXE is reserved too. */
    pt[2] = (uint32_t)frame_a | PG_P | PG_RW | XD;
    invlpg((void *)(T4K + 2 * 4096));
    TRY_WRITE(T4K + 2 * 4096 + 8);
    CHECK_PF(PFE_P | PFE_W | PFE_RSVD, T4K + 2 * 4096 + 8);
    pt[2] = 0;
    invlpg((void *)(T4K + 2 * 4096));
}

static volatile uint32_t user_vec, user_err, user_cr2;

/* At CPL 3: the read faults and resumes after itself (the kernel image is
 * user-accessible, so the notes can be copied here). */
static void user_read_2m(void)
{
    trap_reset();
    __asm__ volatile(TRY_BEGIN "movl (%0), %%eax" TRY_END : : "r"(T2M + 0x40) : "eax", "memory");
    user_vec = last_trap.vector;
    user_err = last_trap.error;
    user_cr2 = pg_last_cr2;
}

/* 2 MiB pages: the frame from PDE bits 31:21, A/D in the PDE, bit 13. */
static void test_2m(void)
{
    volatile uint32_t *target = (volatile uint32_t *)(PHYS2M + 0x12344);

    *target = 0xfeed;
    CHECK_EQ(peek32(T2M + 0x12344), 0xfeed);
    CHECK_EQ(pd1[1] & (PG_A | PG_D), PG_A);
    poke32(T2M + 0x1ffffc, 0xbeef);                 /* the last dword of the page */
    CHECK_EQ(*(volatile uint32_t *)(PHYS2M + 0x1ffffc), 0xbeef);
    CHECK_EQ(pd1[1] & (PG_A | PG_D), PG_A | PG_D);
    TRY_READ(TRSV + 0x10);
    CHECK_PF(PFE_P | PFE_RSVD, TRSV + 0x10);
    /* A user access to the supervisor 2 MiB page. */
    run_user(user_read_2m, 0);
    CHECK_EQ(user_vec, 14);
    CHECK_EQ(user_err, PFE_P | PFE_U);
    CHECK_EQ(user_cr2, T2M + 0x40);
}

/* Jump to lin, whose code jumps back through ECX ("jmp *%ecx"). Returns
 * the trap vector (-1: it ran). */
static int exec_at(uint32_t lin)
{
    trap_reset();
    __asm__ volatile("movl $1f, resume_eip\n\t"
                     "movl $1f, %%ecx\n\t"
                     "jmp *%0\n"
                     "1:\n\t"
                     "movl $0, resume_eip"
                     : : "r"(lin) : "ecx", "memory");
    return (int)last_trap.vector;
}

static void check_fetch_pf(uint32_t lin, uint32_t err, int line)
{
    CHECK_EQ_CTX(exec_at(lin), 14, "line %d", line);
    CHECK_EQ_CTX(last_trap.error, err, "line %d", line);
    CHECK_EQ_CTX(last_trap.eip, lin, "line %d", line);
    CHECK_EQ_CTX(pg_last_cr2, lin, "line %d", line);
}
#define CHECK_FETCH_PF(lin, err) check_fetch_pf((lin), (err), __LINE__)

/* Execute-disable (§4.6.2): fetches from an XD page fault with I/D once
 * EFER.NXE=1; data accesses do not care. */
static void test_nx(void)
{
    uint8_t *code = (uint8_t *)frame_b;
    volatile uint64_t *pte = &pt[(CODE - T4K) >> 12];

    code[0x10] = 0xff;                              /* jmp *%ecx */
    code[0x11] = 0xe1;
    *pte = (uint32_t)frame_b | PG_P | PG_RW;
    invlpg((void *)CODE);
    CHECK_EQ(exec_at(CODE + 0x10), -1);
    /* NXE=0: XD is a reserved bit, for fetches as for data (no I/D). */
    *pte |= XD;
    invlpg((void *)CODE);
    CHECK_FETCH_PF(CODE + 0x10, PFE_P | PFE_RSVD);
    /* NXE=1: an XD page cannot be executed... */
    wrmsr(MSR_EFER, EFER_NXE);
    CHECK_FETCH_PF(CODE + 0x10, PFE_P | PFE_I);
    CHECK_EQ(peek32(CODE + 0x10) & 0xffff, 0xe1ff);  /* ...but read */
    /* XD in the PDE counts for every page under it. */
    *pte &= ~XD;
    invlpg((void *)CODE);
    CHECK_EQ(exec_at(CODE + 0x10), -1);
    pd1[0] |= XD;
    write_cr3((uint32_t)pdpt);
    CHECK_FETCH_PF(CODE + 0x10, PFE_P | PFE_I);
    pd1[0] &= ~XD;
    write_cr3((uint32_t)pdpt);
    CHECK_EQ(exec_at(CODE + 0x10), -1);
    /* Executable, run, then made XD: INVLPG makes the change seen. */
    for (int i = 0; i < 3; i++)
        CHECK_EQ(exec_at(CODE + 0x10), -1);
    *pte |= XD;
    invlpg((void *)CODE);
    CHECK_FETCH_PF(CODE + 0x10, PFE_P | PFE_I);
    /* ...and executable again. */
    *pte &= ~XD;
    invlpg((void *)CODE);
    CHECK_EQ(exec_at(CODE + 0x10), -1);
    /* A fetch from a not-present page has I/D too (§4.7). */
    pt[(CODE - T4K) / 4096 + 1] = 0;
    CHECK_FETCH_PF(CODE + 4096, PFE_I);
    /* Turning NXE off makes XD reserved again at once (no stale rule). */
    *pte |= XD;
    invlpg((void *)CODE);
    wrmsr(MSR_EFER, 0);
    CHECK_FETCH_PF(CODE + 0x10, PFE_P | PFE_RSVD);
    *pte &= ~XD;
    invlpg((void *)CODE);
    CHECK_EQ(exec_at(CODE + 0x10), -1);
    wrmsr(MSR_EFER, EFER_NXE);
}

/* Global pages (§4.10.2.4, §4.10.4.1): INVLPG and a CR4.PGE toggle flush
 * them; a CR3 load keeps them (not observable here: the shadow sees the
 * edit either way, and a real CPU may evict any entry at any time). */
static void test_global(void)
{
    volatile uint64_t *pte = &pt[3];
    uint32_t lin = T4K + 3 * 4096;
    uint8_t *code = (uint8_t *)frame_b;

    write_cr4(read_cr4() | CR4_PGE);
    CHECK_EQ(read_cr4() & CR4_PGE, CR4_PGE);
    frame_a[0] = 0xaaaa;
    frame_b[0] = 0xbbbb;
    *pte = (uint32_t)frame_a | PG_P | PG_RW | PG_G;
    invlpg((void *)lin);
    CHECK_EQ(peek32(lin), 0xaaaa);
    write_cr3((uint32_t)pdpt);
    CHECK_EQ(peek32(lin), 0xaaaa);                  /* survives the CR3 load */
    *pte = (uint32_t)frame_b | PG_P | PG_RW | PG_G;
    invlpg((void *)lin);
    CHECK_EQ(peek32(lin), 0xbbbb);                  /* INVLPG flushes a global page */
    *pte = (uint32_t)frame_a | PG_P | PG_RW | PG_G;
    write_cr4(read_cr4() & ~CR4_PGE);
    write_cr4(read_cr4() | CR4_PGE);
    CHECK_EQ(peek32(lin), 0xaaaa);                  /* so does toggling CR4.PGE */
    /* A global code page made XD: the CR4.PGE toggle makes it seen. */
    code[0x20] = 0xff;
    code[0x21] = 0xe1;
    *pte = (uint32_t)frame_b | PG_P | PG_RW | PG_G;
    invlpg((void *)lin);
    CHECK_EQ(exec_at(lin + 0x20), -1);
    *pte |= XD;
    write_cr4(read_cr4() & ~CR4_PGE);
    CHECK_FETCH_PF(lin + 0x20, PFE_P | PFE_I);
    write_cr4(read_cr4() | CR4_PGE);
}

/* PDPTE registers (§4.4.1): loaded by MOV CR3, and by MOV CR4 changing
 * PGE/PSE/PAE under PAE paging; a present PDPTE with a reserved bit makes
 * the MOV fail with #GP(0) and leaves the register as it was. */
static void test_pdpte_registers(void)
{
    uint8_t *page = (uint8_t *)pg_alloc();
    uint64_t *bad = (uint64_t *)(page + 0x20);
    uint32_t cr3 = read_cr3(), cr4 = read_cr4();

    for (int i = 0; i < 4; i++)
        bad[i] = pdpt[i];
    bad[2] = (uint32_t)pd1 | PG_P | PG_RW;          /* R/W is reserved in a PDPTE */
    trap_reset();
    __asm__ volatile(TRY_BEGIN "movl %0, %%cr3" TRY_END : : "r"((uint32_t)bad) : "memory");
    CHECK_TRAP(13, 0);
    CHECK_EQ(read_cr3(), cr3);
    CHECK_EQ(peek32(T4K + 20), 0x1234);             /* still the old tables */
    bad[2] = (uint32_t)pd1 | PG_P | (1ull << maxphy);   /* above MAXPHYADDR */
    trap_reset();
    __asm__ volatile(TRY_BEGIN "movl %0, %%cr3" TRY_END : : "r"((uint32_t)bad) : "memory");
    CHECK_TRAP(13, 0);
    bad[2] = 0x5a5a5a5a5a5a5a5aull & ~1ull;         /* not present: anything goes */
    trap_reset();
    __asm__ volatile(TRY_BEGIN "movl %0, %%cr3" TRY_END : : "r"((uint32_t)bad) : "memory");
    CHECK_NO_TRAP();
    CHECK_EQ(read_cr3(), (uint32_t)bad);
    CHECK_EQ(peek32(T4K + 20), 0x1234);
    write_cr3(cr3);
    if (!on_bt86)
        return;
    /* An edit of the PDPT is not seen until CR3 is loaded again. */
    pdpt[1] = 0;
    CHECK_EQ(peek32(T4K + 20), 0x1234);
    write_cr3(cr3);
    TRY_READ(T4K + 20);
    CHECK_PF(0, T4K + 20);
    /* A CR4.PGE change reloads them, with the same check. */
    pdpt[1] = (uint32_t)pd1 | PG_P | (1u << 5);     /* A is reserved in a PDPTE */
    trap_reset();
    __asm__ volatile(TRY_BEGIN "movl %0, %%cr4" TRY_END : : "r"(cr4 ^ CR4_PGE) : "memory");
    CHECK_TRAP(13, 0);
    CHECK_EQ(read_cr4(), cr4);
    pdpt[1] = (uint32_t)pd1 | PG_P;
    write_cr4(cr4 ^ CR4_PGE);
    CHECK_EQ(peek32(T4K + 20), 0x1234);
    write_cr4(cr4);
}

/* Back to 32-bit paging and to PAE again, as a kernel's boot might. */
static void test_mode_switch(void)
{
    uint32_t *pd = pg_kernel_pd();

    pg_disable();
    write_cr4(read_cr4() & ~CR4_PAE);
    pg_enable(pd);
    CHECK_EQ(peek32((uint32_t)&frame_a[5]), 0x1234);
    pg_disable();
    enable_pae();
    CHECK_EQ(peek32(T4K + 20), 0x1234);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    pg_install_pf();
    test_cpuid();
    test_efer();
    build_tables();
    frame_a = pg_alloc();
    frame_b = pg_alloc();
    enable_pae();
    test_4k();
    test_2m();
    test_nx();
    test_global();
    test_pdpte_registers();
    test_mode_switch();
    test_finish("pg_pae");
}
