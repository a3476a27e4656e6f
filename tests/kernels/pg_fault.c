/* pg_fault — page faults as the guest sees them (SDM vol. 3A §4.6, §4.7,
 * §6.15 "#PF"): CR2 and the error code (P, W/R, U/S, RSVD) for not-present
 * pages at either level, writes to read-only pages, user accesses to
 * supervisor pages, U/S and R/W combined over PDE and PTE, reserved bits
 * (CR4.PSE=1 and bits 21 or 13 of a 4 MiB PDE), fetches from unmapped pages and
 * instructions or data crossing into one, faults met by instructions the
 * monitor emulates, and demand paging from a #PF handler (including REP
 * string instructions restarted page by page). */
#include "pg_lib.h"

#define NP    0x40000000u       /* not present (PTE) */
#define NPD   0x44000000u       /* not present (PDE) */
#define RO    0x40001000u       /* present, read-only, user */
#define SUP   0x40002000u       /* present, writable, supervisor */
#define RW    0x40003000u       /* present, writable, user: next to NP2 */
#define NP2   0x40004000u       /* not present */
#define MIXU  0x48000000u       /* PDE U/S=0, PTE U/S=1 */
#define MIXW  0x4c000000u       /* PDE R/W=0, PTE R/W=1 */
#define RSVD  0x80000000u       /* 4 MiB PDE with reserved bit 21 */
#define RSVD2 0x84000000u       /* 4 MiB PDE with bit 13 (reserved without PSE-36) */
#define DEMAND 0x60000000u      /* filled by the #PF handler */
#define DEMAND_PAGES 64

static uint32_t *pd;
static uint32_t *ro_frame;

static void test_supervisor(void)
{
    TRY_READ(NP + 12);
    CHECK_PF(0, NP + 12);
    TRY_WRITE(NP + 16);
    CHECK_PF(PFE_W, NP + 16);
    TRY_READ(NPD + 0x1234);
    CHECK_PF(0, NPD + 0x1234);
    TRY_WRITE(RO + 8);
    CHECK_PF(PFE_P | PFE_W, RO + 8);
    CHECK_EQ(ro_frame[2], 0);
    TRY_READ(RO + 8);                               /* reads are fine */
    CHECK_NO_TRAP();
    TRY_WRITE(SUP + 4);
    CHECK_NO_TRAP();
    TRY_READ(RSVD + 0x100);
    CHECK_PF(PFE_P | PFE_RSVD, RSVD + 0x100);
    TRY_WRITE(RSVD + 0x200);
    CHECK_PF(PFE_P | PFE_W | PFE_RSVD, RSVD + 0x200);
    /* A 4-byte read from the last bytes of a page into a not-present one:
     * CR2 is the first byte the walk refused. */
    TRY_READ(RW + 4094);
    CHECK_PF(0, NP2);
    /* A RMW instruction on a not-present page: Intel CPUs report a write
     * (the load is a locked-style read for ownership); QEMU's TCG reports
     * the load. Either is a not-present fault at the address. */
    trap_reset();
    __asm__ volatile(TRY_BEGIN "addl $1, (%0)" TRY_END : : "r"(NP + 32) : "memory", "cc");
    CHECK_EQ(last_trap.vector, 14);
    CHECK_EQ(last_trap.error & ~PFE_W, 0);
    CHECK_EQ(pg_last_cr2, NP + 32);
    /* Bit 13 of a 4 MiB PDE is reserved unless the CPU has PSE-36
     * (CPUID.01H:EDX bit 17; bt86 has not, QEMU's default CPU has). */
    {
        uint32_t a = 1, b, c, d;
        __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
        if (!(d & (1u << 17))) {
            pg_map4m(pd, RSVD2, 0x00400000u, PG_RW | PG_US | (1u << 13));
            TRY_READ(RSVD2 + 0x10);
            CHECK_PF(PFE_P | PFE_RSVD, RSVD2 + 0x10);
        }
    }
}

/* ---- ring 3 ---------------------------------------------------------------- */

static volatile uint32_t user_step;
static struct pg_user_note user_seen[16];

static void user_body(void)
{
    U_TRY(user_seen[0], "movl (%0), %%eax", NP + 40);          /* not present: U */
    U_TRY(user_seen[1], "movl %%eax, (%0)", NP + 44);          /* U|W */
    U_TRY(user_seen[2], "movl %%eax, (%0)", RO + 48);          /* P|U|W */
    U_TRY(user_seen[3], "movl (%0), %%eax", SUP + 52);         /* P|U */
    U_TRY(user_seen[4], "movl %%eax, (%0)", SUP + 56);         /* P|U|W */
    U_TRY(user_seen[5], "movl (%0), %%eax", MIXU + 60);        /* PDE supervisor: P|U */
    U_TRY(user_seen[6], "movl %%eax, (%0)", MIXW + 64);        /* PDE read-only: P|U|W */
    U_TRY(user_seen[7], "movl (%0), %%eax", MIXW + 68);        /* reading it is fine */
    U_TRY(user_seen[8], "movl (%0), %%eax", RSVD + 72);        /* P|U|RSVD */
    U_TRY(user_seen[9], "pushl (%0); popl %%eax", RO + 76);     /* the read is fine */
    {   /* PUSHF onto a supervisor page */
        uint32_t sp = SUP + 0x800;
        trap_reset();
        __asm__ volatile("xchg %%esp, %0\n\t" TRY_BEGIN "pushfl" TRY_END "xchg %%esp, %0"
                         : "+r"(sp) : : "memory");
        user_seen[10] = pg_note();
    }
    user_step = 1;
}

static void test_user(void)
{
    static const struct { uint32_t err, cr2; } want[11] = {
        { PFE_U, NP + 40 }, { PFE_U | PFE_W, NP + 44 }, { PFE_P | PFE_U | PFE_W, RO + 48 },
        { PFE_P | PFE_U, SUP + 52 }, { PFE_P | PFE_U | PFE_W, SUP + 56 },
        { PFE_P | PFE_U, MIXU + 60 }, { PFE_P | PFE_U | PFE_W, MIXW + 64 }, { 0, 0 },
        { PFE_P | PFE_U | PFE_RSVD, RSVD + 72 }, { 0, 0 }, { PFE_P | PFE_U | PFE_W, SUP + 0x7fc },
    };
    user_step = 0;
    run_user(user_body, 0);
    CHECK_EQ(user_step, 1);
    for (int i = 0; i < 11; i++) {
        if (!want[i].err) {
            CHECK_EQ_CTX(user_seen[i].vector, (uint32_t)-1, "user access %d", i);
            continue;
        }
        CHECK_EQ_CTX(user_seen[i].vector, 14, "user access %d", i);
        CHECK_EQ_CTX(user_seen[i].error, want[i].err, "user access %d", i);
        CHECK_EQ_CTX(user_seen[i].eip, user_seen[i].expect, "user access %d", i);
        CHECK_EQ_CTX(user_seen[i].cr2, want[i].cr2, "user access %d", i);
        CHECK_EQ_CTX(last_trap.cs & 3, 3, "user access %d", i);
    }
}

/* ---- fetches -------------------------------------------------------------- */

static void test_fetch(void)
{
    uint32_t *code = pg_alloc();
    uint8_t *b = (uint8_t *)code;

    /* A call to a not-present page: the fault's EIP is the target. */
    trap_reset();
    __asm__ volatile("movl $1f, resume_eip\n\tmovl %0, expect_eip\n\tcall *%0\n1:\tmovl $0, resume_eip"
                     : : "r"(NP + 0x100) : "memory", "eax", "ecx", "edx");
    CHECK_PF(0, NP + 0x100);
    /* "mov eax, imm32; ret" whose imm32 runs from RW's last bytes into NP2. */
    b[4093] = 0xb8;
    b[4094] = 0x11;
    b[4095] = 0x22;
    pg_map(pd, RW, (uint32_t)code, PG_RW | PG_US);
    invlpg((void *)RW);
    trap_reset();
    __asm__ volatile("movl $1f, resume_eip\n\tmovl %0, expect_eip\n\tcall *%0\n1:\tmovl $0, resume_eip"
                     : : "r"(RW + 4093) : "memory", "eax", "ecx", "edx");
    CHECK_PF(0, NP2);
    /* Mapped: the instruction spans both frames. */
    {
        uint32_t *next = pg_alloc(), r;
        uint8_t *n = (uint8_t *)next;
        n[0] = 0x33;
        n[1] = 0x44;
        n[2] = 0xc3;                                /* ret */
        pg_map(pd, NP2, (uint32_t)next, PG_RW | PG_US);
        invlpg((void *)NP2);
        __asm__ volatile("call *%1" : "=a"(r) : "r"(RW + 4093) : "memory", "ecx", "edx");
        CHECK_EQ(r, 0x44332211);
        /* The second frame changes (remapped): the block sees it. */
        uint32_t *other = pg_alloc();
        uint8_t *o = (uint8_t *)other;
        o[0] = 0x55;
        o[1] = 0x66;
        o[2] = 0xc3;
        *pg_pte(pd, NP2) = (uint32_t)other | PG_P | PG_RW | PG_US;
        invlpg((void *)NP2);
        __asm__ volatile("call *%1" : "=a"(r) : "r"(RW + 4093) : "memory", "ecx", "edx");
        CHECK_EQ(r, 0x66552211);
        /* And its bytes change (self-modifying code on the second frame). */
        o[1] = 0x77;
        __asm__ volatile("call *%1" : "=a"(r) : "r"(RW + 4093) : "memory", "ecx", "edx");
        CHECK_EQ(r, 0x77552211);
        *pg_pte(pd, NP2) = 0;
        invlpg((void *)NP2);
    }
    pg_map(pd, RW, (uint32_t)pg_alloc(), PG_RW | PG_US);
    invlpg((void *)RW);
}

/* ---- instructions the monitor emulates ------------------------------------ */

static void test_emulated(void)
{
    uint8_t buf[6];
    /* LGDT reads its operand from a not-present page. */
    trap_reset();
    __asm__ volatile(TRY_BEGIN "lgdt (%0)" TRY_END : : "r"(NP + 0x200) : "memory");
    CHECK_PF(0, NP + 0x200);
    /* SGDT stores to a read-only page. */
    trap_reset();
    __asm__ volatile(TRY_BEGIN "sgdt (%0)" TRY_END : : "r"(RO + 0x300) : "memory");
    CHECK_PF(PFE_P | PFE_W, RO + 0x300);
    __asm__ volatile("sgdt %0" : "=m"(buf));
    CHECK_EQ(buf[0] | buf[1] << 8, sizeof gdt - 1);
}

/* ---- demand paging ----------------------------------------------------------- */

static uint32_t demand_faults;

static void user_demand(void)
{
    for (uint32_t p = 40; p < 48; p++)
        poke32(DEMAND + p * 4096 + 4, p);
}

static int demand(struct trap_frame *f, uint32_t cr2)
{
    uint32_t *frame;
    if (cr2 < DEMAND || cr2 >= DEMAND + DEMAND_PAGES * 4096u || (f->error & PFE_P))
        return 0;
    frame = pg_alloc();
    for (int i = 0; i < 1024; i++)
        frame[i] = (cr2 & PG_FRAME) + (uint32_t)i * 4;     /* each word holds its address */
    pg_map(pd, cr2, (uint32_t)frame, PG_RW | PG_US);
    demand_faults++;
    return 1;                                       /* retry the instruction */
}

static void test_demand(void)
{
    uint32_t sum = 0, want = 0;

    pg_fault_hook = demand;
    for (uint32_t p = 0; p < 8; p++) {              /* a read per page */
        sum += peek32(DEMAND + p * 4096 + 8);
        want += DEMAND + p * 4096 + 8;
    }
    CHECK_EQ(sum, want);
    CHECK_EQ(demand_faults, 8);
    /* A REP STOSD over 8 fresh pages: it restarts at each. */
    __asm__ volatile("rep stosl" : : "D"(DEMAND + 8 * 4096 + 100), "c"(8 * 1024), "a"(0x77777777)
                     : "memory");
    CHECK_EQ(demand_faults, 17);                    /* the run ends on a 9th page */
    CHECK_EQ(peek32(DEMAND + 8 * 4096 + 96), DEMAND + 8 * 4096 + 96);
    CHECK_EQ(peek32(DEMAND + 8 * 4096 + 100), 0x77777777);
    CHECK_EQ(peek32(DEMAND + 16 * 4096 + 96), 0x77777777);
    CHECK_EQ(peek32(DEMAND + 16 * 4096 + 100), DEMAND + 16 * 4096 + 100);
    /* A REP MOVSD from demand pages into demand pages. */
    __asm__ volatile("rep movsl" : : "S"(DEMAND + 20 * 4096), "D"(DEMAND + 30 * 4096), "c"(4 * 1024)
                     : "memory");
    CHECK_EQ(demand_faults, 17 + 8);
    CHECK_EQ(peek32(DEMAND + 30 * 4096 + 4), DEMAND + 20 * 4096 + 4);
    CHECK_EQ(peek32(DEMAND + 33 * 4096 + 4092), DEMAND + 23 * 4096 + 4092);
    /* From ring 3: the handler runs at ring 0 and returns to it. */
    run_user(user_demand, 0);
    CHECK_EQ(demand_faults, 25 + 8);
    for (uint32_t p = 40; p < 48; p++) {
        CHECK_EQ(peek32(DEMAND + p * 4096 + 4), p);
        CHECK_EQ(peek32(DEMAND + p * 4096 + 8), DEMAND + p * 4096 + 8);
    }
    pg_fault_hook = 0;
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    uint32_t *pt;

    sys_init();
    pg_install_pf();
    pd = pg_kernel_pd();
    ro_frame = pg_alloc();
    pg_map(pd, RO, (uint32_t)ro_frame, PG_US);
    pg_map(pd, SUP, (uint32_t)pg_alloc(), PG_RW);
    pg_map(pd, RW, (uint32_t)pg_alloc(), PG_RW | PG_US);
    pt = (uint32_t *)(pd[MIXU >> 22] = (uint32_t)pg_alloc() | PG_P | PG_RW);   /* supervisor PDE */
    pt = (uint32_t *)((uint32_t)pt & PG_FRAME);
    pt[(MIXU >> 12) & 1023] = (uint32_t)pg_alloc() | PG_P | PG_RW | PG_US;
    pt = (uint32_t *)(pd[MIXW >> 22] = (uint32_t)pg_alloc() | PG_P | PG_US);   /* read-only PDE */
    pt = (uint32_t *)((uint32_t)pt & PG_FRAME);
    pt[(MIXW >> 12) & 1023] = (uint32_t)pg_alloc() | PG_P | PG_RW | PG_US;
    pg_map4m(pd, RSVD, 0x00400000u, PG_RW | PG_US | (1u << 21));
    pg_enable(pd);

    test_supervisor();
    test_user();
    test_fetch();
    test_emulated();
    test_demand();
    test_finish("pg_fault");
}
