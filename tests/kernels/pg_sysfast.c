/* pg_sysfast — back-to-back SYSENTER/SYSEXIT round trips from ring 3, with
 * paging off and on, and everything that must break a chain of them (bt86
 * answers a SYSENTER or SYSEXIT from the state the last pair made while
 * only translated code ran in between: emulator/sysfast.c; their callouts
 * keep the guest's MXCSR: bt/runtime.S).
 *
 * Every round trip ring 3 checks (SDM vol. 2 "SYSENTER", "SYSEXIT"): the
 * handler's result in EAX, ESP unchanged, the kernel's ESP from
 * IA32_SYSENTER_ESP, the arithmetic flags kept both ways and IF cleared
 * inside, the user's GS (%gs:0) visible to the kernel, and the kernel's
 * view of MXCSR. Now and then, a monitor call on either side (the
 * chain-breakers): ring 3 reads CS and SS and checks them against
 * IA32_SYSENTER_CS + 16 and + 24, or loads another GS; the handler reads
 * its CS and SS, loads another GS for the way back, or rewrites
 * IA32_SYSENTER_CS so that the SYSEXIT of the same call already uses the
 * new selectors. Across it all XMM0-7 keep their values, and MXCSR (round
 * toward zero, every exception but precision unmasked) its value and its effect.
 * With paging on the user runs first in a space without supervisor-only
 * pages (one view for both rings), then with one the kernel uses (two
 * views), and ring 3's read of it must fault with U and P set. Last,
 * SYSEXIT at CPL 3 straight after a chain of round trips is #GP(0). */
#include <stdbool.h>

#include "pg_lib.h"

#define MSR_SYSENTER_CS  0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

#define ALT_CS   0x40           /* second layout: code, data at ring 0, then at ring 3 */
#define SEL_TLS0 0x60
#define SEL_TLS1 0x68
#define SPAGE    0x40002000u    /* supervisor-only, in the second space */
#define ITER     3000
#define MXCSR_RZ 0x7000u        /* round toward zero, only precision masked */

#define ACT_KSEGS   1u          /* the handler reads CS and SS */
#define ACT_TOGGLE  2u          /* ... switches IA32_SYSENTER_CS to k_arg */
#define ACT_GS      4u          /* ... loads GS from k_arg_gs */

volatile uint32_t k_calls, k_esp, k_flags, k_mxcsr, k_gsword, k_cs, k_ss, k_action, k_arg, k_arg_gs;
volatile uint32_t k_touch;      /* the handler reads SPAGE */

void run_user_asm(void (*fn)(void), uint32_t user_esp, uint32_t eflags);
void sysfast_entry(void);
__asm__(".globl sysfast_entry\nsysfast_entry:\n\t"
        "pushf\n\t"
        "popl %ss:k_flags\n\t"
        "mov %esp, %ss:k_esp\n\t"
        "incl %ss:k_calls\n\t"
        "stmxcsr %ss:k_mxcsr\n\t"
        "mov %gs:0, %esi\n\tmov %esi, %ss:k_gsword\n\t"
        "cmpl $0, %ss:k_touch\n\tjz 1f\n\tmov %ss:0x40002000, %esi\n1:\n\t"
        "testl $1, %ss:k_action\n\tjz 2f\n\t"
        "mov %cs, %esi\n\tmov %esi, %ss:k_cs\n\tmov %ss, %esi\n\tmov %esi, %ss:k_ss\n2:\n\t"
        "testl $2, %ss:k_action\n\tjz 3f\n\t"
        "push %ecx\n\tpush %edx\n\t"
        "mov $0x174, %ecx\n\tmov %ss:k_arg, %eax\n\txor %edx, %edx\n\twrmsr\n\t"
        "pop %edx\n\tpop %ecx\n3:\n\t"
        "testl $4, %ss:k_action\n\tjz 4f\n\t"
        "mov %ss:k_arg_gs, %esi\n\tmov %esi, %gs\n4:\n\t"
        "lea 1(%ebx), %eax\n\t"
        "pushl %ss:k_flags\n\tpopf\n\t"        /* the user's arithmetic flags, IF clear */
        "sti\n\t"
        "sysexit\n");

static uint8_t kstack[4096] __attribute__((aligned(16)));
static uint32_t tls_words[2] = { 0x7150a0a0u, 0x7150b1b1u };
static const uint16_t tls_sel[2] = { SEL_TLS0 | 3, SEL_TLS1 | 3 };

static volatile uint32_t u_bad, u_first_iter, u_first_what, u_first_got;
static volatile uint32_t u_esp0, u_esp1, u_fi, u_fo, u_xmm[8][4], u_mxcsr, u_quot;
static volatile int g_vec;
static volatile uint32_t g_err, g_eip, g_want_eip;
static uint32_t cur_kcs;        /* IA32_SYSENTER_CS as ring 3 expects it */
static bool with_spage;

static void bad(int i, uint32_t what, uint32_t got)
{
    if (!u_bad++) {
        u_first_iter = (uint32_t)i;
        u_first_what = what;
        u_first_got = got;
    }
}

static void set_gs(int t)
{
    __asm__ volatile("mov %0, %%gs" : : "r"((uint32_t)tls_sel[t]));
}

/* One round trip with the flags that x + i leaves; returns the flags
 * before and after in *in, *out. */
static uint32_t round_trip(int i, uint32_t x, uint32_t *in, uint32_t *out)
{
    uint32_t r = x;

    __asm__ volatile("mov %%esp, %%ecx\n\tmov %%esp, u_esp0\n\tmovl $1f, %%edx\n\t"
                     "add %%ebx, %%eax\n\tpushf\n\tpopl u_fi\n\t"
                     "sysenter\n1:\t"
                     "pushf\n\tpopl u_fo\n\tmov %%esp, u_esp1"
                     : "+a"(r) : "b"(i) : "ecx", "edx", "esi", "cc", "memory");
    *in = u_fi;
    *out = u_fo;
    return r;
}

static void user_rounds(void)
{
    uint32_t want_esp = (uint32_t)(kstack + sizeof kstack);    /* after pushf, popl */
    int t = 0;

    set_gs(t);
    /* XMM0-7: distinct words; MXCSR: round toward zero, nothing masked. */
    for (int k = 0; k < 8; k++)
        for (int w = 0; w < 4; w++)
            u_xmm[k][w] = 0x5eed0000u + (uint32_t)(k * 4 + w);
    u_mxcsr = MXCSR_RZ;
    __asm__ volatile("movups u_xmm+0x00, %%xmm0\n\tmovups u_xmm+0x10, %%xmm1\n\t"
                     "movups u_xmm+0x20, %%xmm2\n\tmovups u_xmm+0x30, %%xmm3\n\t"
                     "movups u_xmm+0x40, %%xmm4\n\tmovups u_xmm+0x50, %%xmm5\n\t"
                     "movups u_xmm+0x60, %%xmm6\n\tmovups u_xmm+0x70, %%xmm7\n\t"
                     "ldmxcsr u_mxcsr" : : : "memory");
    for (int i = 0; i < ITER; i++) {
        uint32_t act = (i % 61 == 7 ? ACT_KSEGS : 0) | (i % 89 == 30 ? ACT_TOGGLE : 0) |
                       (i % 73 == 11 ? ACT_GS : 0);
        uint32_t used_kcs = cur_kcs, fi, fo, r, cs, ss;

        if (i == ITER - 1 && cur_kcs != SEL_KCODE)
            act |= ACT_TOGGLE;              /* leave with the first layout */
        k_action = act;
        if (act & ACT_TOGGLE)
            k_arg = cur_kcs = cur_kcs == SEL_KCODE ? ALT_CS : SEL_KCODE;
        if (act & ACT_GS)
            k_arg_gs = tls_sel[t ^ 1];
        r = round_trip(i, (uint32_t)i * 0x9e3779b9u, &fi, &fo);
        if (r != (uint32_t)i + 1)
            bad(i, 1, r);
        if (u_esp0 != u_esp1)
            bad(i, 2, u_esp1);
        if (k_esp != want_esp)
            bad(i, 3, k_esp);
        if (fo != fi)
            bad(i, 4, fo);
        if (k_flags != (fi & ~FL_IF))
            bad(i, 5, k_flags);
        if (k_gsword != tls_words[t])
            bad(i, 6, k_gsword);
        if (k_mxcsr != MXCSR_RZ)
            bad(i, 7, k_mxcsr);
        if ((act & ACT_KSEGS) && (k_cs != used_kcs || k_ss != used_kcs + 8))
            bad(i, 8, k_cs << 16 | k_ss);
        if (act & ACT_GS)
            t ^= 1;
        if ((act & ACT_TOGGLE) || i % 64 == 0) {
            __asm__ volatile("mov %%cs, %0\n\tmov %%ss, %1" : "=r"(cs), "=r"(ss));
            if ((cs & 0xffff) != ((cur_kcs + 16) | 3) || (ss & 0xffff) != ((cur_kcs + 24) | 3))
                bad(i, 9, cs << 16 | (ss & 0xffff));
        }
        if (act & ACT_GS) {
            uint32_t w;
            __asm__ volatile("mov %%gs:0, %0" : "=r"(w));
            if (w != tls_words[t])
                bad(i, 10, w);
        }
        if (i % 128 == 100)
            set_gs(t ^= 1);
        if (with_spage && i % 256 == 200) {
            trap_reset();
            __asm__ volatile(TRY_BEGIN "movl %0, %%esi\n\tmovl (%%esi), %%esi" TRY_END
                             : : "i"(SPAGE) : "esi", "memory");
            if (last_trap.vector != 14 || last_trap.error != (PFE_U | PFE_P))
                bad(i, 11, (uint32_t)last_trap.vector << 16 | last_trap.error);
        }
    }
    /* 1/3 in single precision, rounded toward zero: 0x3eaaaaaa (nearest:
     * ...ab); then XMM0-7 and MXCSR as they were loaded. */
    u_quot = 0;
    __asm__ volatile("movups %%xmm0, u_xmm+0x00\n\tmovups %%xmm1, u_xmm+0x10\n\t"
                     "movups %%xmm2, u_xmm+0x20\n\tmovups %%xmm3, u_xmm+0x30\n\t"
                     "movups %%xmm4, u_xmm+0x40\n\tmovups %%xmm5, u_xmm+0x50\n\t"
                     "movups %%xmm6, u_xmm+0x60\n\tmovups %%xmm7, u_xmm+0x70\n\t"
                     "stmxcsr u_mxcsr\n\t"
                     "mov $0x3f800000, %%eax\n\tmovd %%eax, %%xmm0\n\t"
                     "mov $0x40400000, %%eax\n\tmovd %%eax, %%xmm1\n\t"
                     "divss %%xmm1, %%xmm0\n\tmovd %%xmm0, u_quot" : : : "eax", "memory");
}

static void check_xmm(const char *name)
{
    for (int k = 0; k < 8; k++)
        for (int w = 0; w < 4; w++)
            CHECK_EQ_CTX(u_xmm[k][w], 0x5eed0000u + (uint32_t)(k * 4 + w), "%s: xmm%d[%d]", name, k, w);
    CHECK_EQ_CTX(u_mxcsr, MXCSR_RZ, "%s", name);
    CHECK_EQ_CTX(u_quot, 0x3eaaaaaau, "%s: 1/3 rounded toward zero", name);
}

static void rounds(const char *name)
{
    cur_kcs = SEL_KCODE;
    wrmsr(MSR_SYSENTER_CS, SEL_KCODE);
    wrmsr(MSR_SYSENTER_ESP, (uint32_t)(kstack + sizeof kstack));
    wrmsr(MSR_SYSENTER_EIP, (uint32_t)sysfast_entry);
    u_bad = 0;
    k_calls = 0;
    run_user_asm(user_rounds, user_stack_top(), 0x202);     /* IF set: SYSENTER clears it */
    CHECK_EQ_CTX(u_bad, 0, "%s: first at iteration %u, check %u, got 0x%08x", name, u_first_iter,
                 u_first_what, u_first_got);
    CHECK_EQ_CTX(k_calls, ITER, "%s", name);
    check_xmm(name);
    __asm__ volatile("ldmxcsr %0" : : "m"((uint32_t){ 0x1f80 }));
}

/* A chain of round trips, then SYSEXIT at CPL 3: #GP(0), not a return. */
static void user_sysexit(void)
{
    uint32_t fi, fo;
    for (int i = 0; i < 3; i++)
        round_trip(i, 0, &fi, &fo);
    trap_reset();
    __asm__ volatile("mov %%esp, %%ecx\n\tmovl $1f, %%edx\n\t" TRY_BEGIN "sysexit" TRY_END
                     : : : "ecx", "edx", "memory");
    g_vec = last_trap.vector;
    g_err = last_trap.error;
    g_eip = last_trap.eip;
    g_want_eip = expect_eip;
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    uint32_t *pd_a, *pd_b;

    (void)magic;
    (void)mbi;
    sys_init();
    pg_install_pf();
    pic_init_masks(0xff, 0xff);         /* ring 3 runs with IF set */
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    write_cr0(read_cr0() & ~(CR0_EM | CR0_TS));
    gdt[ALT_CS / 8] = seg_desc(0, 0xfffff, 0x9a, 0xc);
    gdt[ALT_CS / 8 + 1] = seg_desc(0, 0xfffff, 0x92, 0xc);
    gdt[ALT_CS / 8 + 2] = seg_desc(0, 0xfffff, 0xfa, 0xc);
    gdt[ALT_CS / 8 + 3] = seg_desc(0, 0xfffff, 0xf2, 0xc);
    for (int k = 0; k < 2; k++)
        gdt[SEL_TLS0 / 8 + k] = seg_desc((uint32_t)&tls_words[k], 0xfffff, 0xf2, 0xc);

    rounds("paging off");
    pd_a = pg_kernel_pd();
    pg_enable(pd_a);
    rounds("paging on, one view");
    pd_b = pg_kernel_pd();
    pg_map(pd_b, SPAGE, (uint32_t)pg_alloc(), PG_RW);
    write_cr3((uint32_t)pd_b);
    with_spage = true;
    k_touch = 1;
    rounds("paging on, a supervisor page");
    k_touch = 0;
    with_spage = false;
    write_cr3((uint32_t)pd_a);

    k_action = 0;
    run_user(user_sysexit, 0);
    CHECK_EQ(g_vec, 13);
    CHECK_EQ(g_err, 0);
    CHECK_EQ(g_eip, g_want_eip);
    pg_disable();
    run_user(user_sysexit, 0);
    CHECK_EQ(g_vec, 13);
    CHECK_EQ(g_eip, g_want_eip);
    test_finish("pg_sysfast");
}
