/* sys_insn.c — what system instructions return and accept: CPUID, RDTSC,
 * RDMSR/WRMSR, RDPMC, control and debug registers, SMSW/LMSW/CLTS,
 * PUSHF values, INVD/WBINVD/INVLPG, SYSENTER/SYSEXIT (SDM vol. 2). */
#include "sys_lib.h"

static void test_cpuid(void)
{
    uint32_t r[4];
    char vendor[13];
    cpuid(0, r);
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = 0;
    CHECK(r[0] >= 1);
    CHECK(strcmp(vendor, "GenuineIntel") == 0);
    cpuid(1, r);
    CHECK_EQ((r[0] >> 8) & 0xf, 6);                /* family 6 */
    CHECK(r[3] & (1u << 0));                        /* FPU */
    CHECK(r[3] & (1u << 4));                        /* TSC */
    CHECK(r[3] & (1u << 5));                        /* MSR */
    CHECK(r[3] & (1u << 15));                       /* CMOV */
    CHECK(r[3] & (1u << 24));                       /* FXSR */
}

/* The CPU bt86 presents is honest about being virtual (CPUID.1:ECX[31] and
 * the hypervisor leaf) and has the MSRs a P6 has: IA32_PLATFORM_ID, the
 * microcode signature protocol, IA32_PAT (CPUID.1:EDX.PAT promises it) and
 * IA32_MISC_ENABLE. */
static void test_cpu_identity(void)
{
    uint32_t r[4];
    char sig[13];
    cpuid(1, r);
    CHECK(r[2] & (1u << 31));                       /* hypervisor present */
    CHECK(r[3] & (1u << 16));                       /* PAT */
    cpuid(0x40000000u, r);
    memcpy(sig, &r[1], 4);
    memcpy(sig + 4, &r[2], 4);
    memcpy(sig + 8, &r[3], 4);
    sig[12] = 0;
    CHECK(r[0] >= 0x40000000u && r[0] < 0x40000100u);
    CHECK(strcmp(sig, "bt86bt86bt86") == 0);

    trap_reset();
    uint64_t platform = 1;
    __asm__ volatile(TRY_BEGIN "rdmsr" TRY_END : "=A"(platform) : "c"(0x17) : "memory");
    CHECK_NO_TRAP();
    CHECK_EQ((uint32_t)(platform >> 32) & ~(7u << 18), 0);   /* only the platform ID */

    /* SDM vol. 3A 10.11.7.1: write 0, CPUID(1), read the revision. */
    wrmsr(0x8b, 0x1234567800000000ull);
    CHECK_EQ(rdmsr(0x8b) >> 32, 0x12345678u);       /* held until CPUID(1) */
    wrmsr(0x8b, 0);
    cpuid(1, r);
    CHECK_EQ(rdmsr(0x8b) & 0xffffffffu, 0);

    CHECK_EQ(rdmsr(0x277), 0x0007040600070406ull);  /* IA32_PAT at reset */
    wrmsr(0x277, 0x0007010600070106ull);            /* WC in entries 1 and 5 */
    CHECK_EQ(rdmsr(0x277), 0x0007010600070106ull);
    trap_reset();                                   /* type 2 is reserved */
    __asm__ volatile(TRY_BEGIN "wrmsr" TRY_END : : "c"(0x277), "a"(0x02), "d"(0) : "memory");
    CHECK_TRAP(13, 0);
    CHECK_EQ(rdmsr(0x277), 0x0007010600070106ull);
    wrmsr(0x277, 0x0007040600070406ull);

    uint64_t misc = rdmsr(0x1a0);
    CHECK(misc & 1);                                /* fast strings */
    CHECK(!(misc & (1u << 7)));                     /* no performance monitoring */
    wrmsr(0x1a0, misc & ~1ull);
    CHECK_EQ(rdmsr(0x1a0), misc & ~1ull);
    wrmsr(0x1a0, misc);
}

static void test_tsc_msr(void)
{
    uint64_t a = rdtsc(), b = rdtsc();
    CHECK(b > a);
    /* Monotonic, and the carry from the low to the high dword. */
    for (int i = 0; i < 1000; i++) {
        b = rdtsc();
        CHECK(b > a);
        a = b;
    }
    wrmsr(0x10, 0xfffffff0ull);
    a = rdtsc();
    for (int i = 0; i < 100000 && a < 0x100000000ull; i++)
        a = rdtsc();
    CHECK(a >= 0x100000000ull && a < 0x100000000ull + (1ull << 40));
    wrmsr(0x10, 0xfffffffffffff000ull);             /* the 64-bit counter wraps */
    a = rdtsc();
    for (int i = 0; i < 100000 && a >= (1ull << 63); i++)
        a = rdtsc();
    CHECK(a < (1ull << 40));
    /* WRMSR to the TSC moves it; it keeps counting from there. */
    wrmsr(0x10, 0x100000000ull);
    a = rdtsc();
    CHECK(a >= 0x100000000ull && a < 0x100000000ull + 0x100000000ull);
    uint64_t m = rdmsr(0x10);
    CHECK(m >= a);
    /* SYSENTER MSRs read back. */
    wrmsr(0x174, 0x08);
    wrmsr(0x175, 0x12345678);
    wrmsr(0x176, 0x9abcdef0);
    CHECK_EQ(rdmsr(0x174), 0x08);
    CHECK_EQ(rdmsr(0x175), 0x12345678);
    CHECK_EQ(rdmsr(0x176), 0x9abcdef0);
    CHECK_EQ(rdmsr(0x1b) & 0xfffff900u, 0xfee00900u);   /* APIC base, BSP, enabled */
    /* Unknown MSRs: #GP(0). */
    trap_reset();
    __asm__ volatile(TRY_BEGIN "rdmsr" TRY_END : : "c"(0xc0000081u) : "eax", "edx", "memory");
    CHECK_TRAP(13, 0);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "wrmsr" TRY_END : : "c"(0x3a), "a"(0), "d"(0) : "memory");
    CHECK_TRAP(13, 0);
    /* RDPMC: counters 0 and 1 exist; 2 does not. */
    trap_reset();
    __asm__ volatile(TRY_BEGIN "rdpmc" TRY_END : : "c"(1) : "eax", "edx", "memory");
    CHECK_NO_TRAP();
    __asm__ volatile(TRY_BEGIN "rdpmc" TRY_END : : "c"(2) : "eax", "edx", "memory");
    CHECK_TRAP(13, 0);
}

static void test_cr(void)
{
    uint32_t cr0 = read_cr0(), v;
    CHECK(cr0 & CR0_PE);
    CHECK(cr0 & (1u << 4));                         /* ET */
    /* CLTS clears TS; LMSW sets it; SMSW reads the low word. */
    __asm__ volatile("lmsw %0" : : "r"((uint16_t)(cr0 | CR0_TS)));
    CHECK(read_cr0() & CR0_TS);
    __asm__ volatile("clts");
    CHECK(!(read_cr0() & CR0_TS));
    __asm__ volatile("smsw %0" : "=r"(v));
    CHECK_EQ(v & 0xffff, read_cr0() & 0xffff);
    /* LMSW cannot clear PE. */
    __asm__ volatile("lmsw %0" : : "r"((uint16_t)0));
    CHECK(read_cr0() & CR0_PE);
    write_cr0(cr0);
    /* CR2, CR3 hold what is written; CR4 reserved bits: #GP(0). */
    __asm__ volatile("mov %1, %%cr2\n\tmov %%cr2, %0" : "=r"(v) : "r"(0x12345678));
    CHECK_EQ(v, 0x12345678);
    __asm__ volatile("mov %1, %%cr3\n\tmov %%cr3, %0" : "=r"(v) : "r"(0x00123000));
    CHECK_EQ(v, 0x00123000);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "mov %0, %%cr4" TRY_END : : "r"(1u << 20) : "memory");
    CHECK_TRAP(13, 0);
    write_cr4(read_cr4() | (1u << 2));               /* TSD */
    CHECK(read_cr4() & (1u << 2));
    write_cr4(read_cr4() & ~(1u << 2));
    /* CR0 with NW but not CD: #GP(0). */
    trap_reset();
    __asm__ volatile(TRY_BEGIN "mov %0, %%cr0" TRY_END : : "r"(cr0 | (1u << 29)) : "memory");
    CHECK_TRAP(13, 0);
    /* Debug registers. */
    __asm__ volatile("mov %1, %%dr0\n\tmov %%dr0, %0" : "=r"(v) : "r"(0xcafe0000));
    CHECK_EQ(v, 0xcafe0000);
    __asm__ volatile("mov %%dr7, %0" : "=r"(v));
    CHECK_EQ(v & 0x400, 0x400);
    __asm__ volatile("mov %%dr6, %0" : "=r"(v));
    CHECK_EQ(v & 0xffff0ff0u, 0xffff0ff0u);
    __asm__ volatile("invd\n\twbinvd\n\tinvlpg (%0)" : : "r"(0x1000) : "memory");
}

static void test_flags(void)
{
    uint32_t fl;
    __asm__ volatile("cli\n\tpushf\n\tpop %0" : "=r"(fl));
    CHECK_EQ(fl & (FL_IF | FL_IOPL | 0x2), 0x2);
    /* IOPL is writable at CPL 0. */
    __asm__ volatile("pushl $0x3002\n\tpopf\n\tpushf\n\tpop %0\n\tpushl $2\n\tpopf" : "=r"(fl));
    CHECK_EQ(fl & FL_IOPL, FL_IOPL);
}

static volatile uint32_t sysenter_hits;
void sysenter_entry(void);
__asm__(".globl sysenter_entry\nsysenter_entry:\n\tincl sysenter_hits\n\t"
        "mov %cs, %eax\n\tmov %ss, %ebx\n\tsysexit\n");

static void user_sysenter(void)
{
    uint32_t cs, ss, ucs;
    __asm__ volatile("mov %%esp, %%ecx\n\tmovl $1f, %%edx\n\tsysenter\n1:\tmov %%cs, %2"
                     : "=a"(cs), "=b"(ss), "=r"(ucs) : : "ecx", "edx", "memory");
    /* Report through the syscall gate: EAX = EBX + ECX. */
    __asm__ volatile("int $0x80" : : "b"(cs << 16 | ss), "c"(ucs << 8) : "eax", "memory");
}

static void test_sysenter(void)
{
    static uint8_t stack[4096] __attribute__((aligned(16)));
    wrmsr(0x174, SEL_KCODE);
    wrmsr(0x175, (uint32_t)(stack + sizeof stack));
    wrmsr(0x176, (uint32_t)sysenter_entry);
    sysenter_hits = 0;
    run_user(user_sysenter, 0);
    CHECK_EQ(sysenter_hits, 1);
    /* Handler saw CS 0x08, SS 0x10; ring 3 came back with CS 0x1b. */
    CHECK_EQ(last_trap.vector, 0x80);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    test_cpuid();
    test_cpu_identity();
    test_tsc_msr();
    test_cr();
    test_flags();
    test_sysenter();
    test_finish("sys_insn");
}
