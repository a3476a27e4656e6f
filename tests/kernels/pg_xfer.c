/* pg_xfer — ring-3 system calls through SYSENTER/SYSEXIT and INT/IRET while
 * the kernel changes, between and during them, everything the state a
 * monitor derives from a privilege change depends on (bt86 remembers it:
 * emulator/derive.c): IA32_SYSENTER_CS/ESP/EIP (WRMSR between rounds), the
 * user's GS and FS bases and an expand-down DS (loaded by the handlers
 * before they return, alternating), CR3 (two address spaces with different
 * user mappings, also switched by the handlers), and paging off and on.
 *
 * After every return ring 3 checks what it got: the handler that ran (its
 * result in EAX), ESP, CS, SS and CPL, %gs:0 and %fs:0, the word its user
 * page holds in the space in force, a #GP(0) through DS exactly when DS is
 * the expand-down segment, and #PFs with the user bit for a page mapped in
 * one space only and for a supervisor page. Each handler records the CS,
 * SS, ESP and EFLAGS it ran with, and with paging on the user page's word
 * as it reads it after its CR3 switch (SDM vol. 2 "SYSENTER", "SYSEXIT": flat
 * segments from IA32_SYSENTER_CS, IF cleared; "INT n": the TSS stack).
 * Last, SYSEXIT at CPL 3 and SYSENTER with IA32_SYSENTER_CS[15:2] = 0
 * raise #GP(0).
 *
 * bt86 only: QEMU 7.2 TCG checks no data-segment limits (the expand-down
 * DS), and takes IA32_SYSENTER_CS = 3 as valid. */
#include <stdbool.h>

#include "pg_lib.h"

#define MSR_SYSENTER_CS  0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

#define UPAGE 0x40000000u       /* a different frame in each space */
#define UHOLE 0x40001000u       /* user page in space A only */
#define SPAGE 0x40002000u       /* supervisor page in both */
#define WORD_A 0xa0a0a0a0u
#define WORD_B 0xb0b0b0b0u
#define ITER 300

/* Second SYSENTER_CS layout: code, data at ring 0, then at ring 3. */
#define ALT_CS 0x40
#define SEL_TLS0 0x60
#define SEL_TLS1 0x68
#define SEL_TLS2 0x70
#define SEL_TLS3 0x78
#define SEL_EXPDOWN 0x80

void run_user_asm(void (*fn)(void), uint32_t user_esp, uint32_t eflags);

/* Shared by the handlers (sysenter_a, sysenter_b, int82) and ring 3; the
 * handlers reach them through SS, the only segment of theirs that is
 * flat whatever ring 3 left in DS. */
volatile uint32_t k_calls, k_cs, k_ss, k_esp, k_flags, k_which, k_touch, k_seen;
#define NSTATE 16           /* call n loads entry n % NSTATE of each next_* table */
volatile uint32_t next_gs[NSTATE], next_fs[NSTATE], next_ds[NSTATE], next_cr3[NSTATE];

void sysenter_a(void), sysenter_b(void), int82(void);
__asm__(".macro K_SWITCH reg, sreg\n\t"
        "mov %ss:\\reg(,%esi,4), %edi\n\ttest %edi, %edi\n\tjz 9f\n\tmov %edi, \\sreg\n9:\n\t"
        ".endm\n"
        "k_record:\n\t"
        "incl %ss:k_calls\n\t"
        "xor %esi, %esi\n\tmov %cs, %si\n\tmov %esi, %ss:k_cs\n\t"
        "mov %ss, %si\n\tmov %esi, %ss:k_ss\n\t"
        "lea 4(%esp), %esi\n\tmov %esi, %ss:k_esp\n\t"
        "pushf\n\tpopl %ss:k_flags\n\t"
        "mov %ss:k_calls, %esi\n\tand $15, %esi\n\t"
        "mov %ss:next_cr3(,%esi,4), %edi\n\ttest %edi, %edi\n\tjz 8f\n\tmov %edi, %cr3\n8:\n\t"
        "K_SWITCH next_gs, %gs\n\t"
        "K_SWITCH next_fs, %fs\n\t"
        "K_SWITCH next_ds, %ds\n\t"
        "cmpl $0, %ss:k_touch\n\tjz 7f\n\tmov %ss:0x40000000, %edi\n\tmov %edi, %ss:k_seen\n7:\n\t"
        "ret\n"
        ".globl sysenter_a\nsysenter_a:\n\t"
        "call k_record\n\tmovl $1, %ss:k_which\n\tlea 1(%ebx), %eax\n\tsti\n\tsysexit\n"
        ".globl sysenter_b\nsysenter_b:\n\t"
        "call k_record\n\tmovl $2, %ss:k_which\n\tlea 1000(%ebx), %eax\n\tsti\n\tsysexit\n"
        ".globl int82\nint82:\n\t"
        "call k_record\n\tmovl $3, %ss:k_which\n\tlea 7(%ebx), %eax\n\tiret\n");

/* What a round expects, set by the kernel before run_user. */
static struct {
    uint32_t eip_sig;           /* sysenter: EAX - EBX (1: sysenter_a, 1000: sysenter_b) */
    uint32_t kcs, esp;          /* IA32_SYSENTER_CS and _ESP */
    uint32_t gs_word[NSTATE], fs_word[NSTATE];  /* %gs:0, %fs:0 after call n; 0: unchecked */
    bool expdown[NSTATE];       /* DS is the expand-down segment after call n */
    uint32_t space[NSTATE];     /* paging: the user page's word after call n; 0: off */
} want;

static volatile uint32_t u_bad, u_first_iter, u_first_what, u_first_got;
static uint32_t tls_words[4];

static void bad(int i, uint32_t what, uint32_t got)
{
    if (!u_bad++) {
        u_first_iter = (uint32_t)i;
        u_first_what = what;
        u_first_got = got;
    }
}

static uint32_t read_gs0(void) { uint32_t v; __asm__ volatile("mov %%gs:0, %0" : "=r"(v)); return v; }
static uint32_t read_fs0(void) { uint32_t v; __asm__ volatile("mov %%fs:0, %0" : "=r"(v)); return v; }

/* A read from ring 3 that may fault: the vector (-1: none) and error code. */
static int user_try_read(uint32_t addr, uint32_t *err, bool via_ds_low)
{
    uint32_t v;
    trap_reset();
    if (via_ds_low)
        __asm__ volatile(TRY_BEGIN "movl %%ds:0x800, %0" TRY_END : "=r"(v) : : "memory");
    else
        __asm__ volatile(TRY_BEGIN "movl (%1), %0" TRY_END : "=r"(v) : "r"(addr) : "memory");
    *err = last_trap.error;
    return last_trap.vector;
}

/* What ring 3 checks after every return; `sig` is the handler's EAX - EBX. */
static void check_return(int i, uint32_t sig, uint32_t got_sig, uint32_t ucs, bool sysenter)
{
    uint32_t p = k_calls % NSTATE, cs, ss, err;
    int vec;

    __asm__ volatile("mov %%cs, %0\n\tmov %%ss, %1" : "=r"(cs), "=r"(ss));
    if (got_sig != sig)
        bad(i, 1, got_sig);
    if ((cs & 0xffff) != ucs || (ss & 0xffff) != ucs + 8)
        bad(i, 2, cs << 16 | (ss & 0xffff));
    if (k_cs != (sysenter ? want.kcs : SEL_KCODE) || k_ss != (sysenter ? want.kcs + 8 : SEL_KDATA))
        bad(i, 3, k_cs << 16 | k_ss);
    if (sysenter && k_esp != want.esp)
        bad(i, 4, k_esp);
    if (!sysenter && k_esp != tss.esp0 - 20)
        bad(i, 5, k_esp);
    if (k_flags & FL_IF)
        bad(i, 6, k_flags);
    if (want.gs_word[p] && read_gs0() != want.gs_word[p])
        bad(i, 7, read_gs0());
    if (want.fs_word[p] && read_fs0() != want.fs_word[p])
        bad(i, 8, read_fs0());
    if (want.space[p] && peek32(UPAGE) != want.space[p])
        bad(i, 9, peek32(UPAGE));
    if (want.space[p] && k_seen != want.space[p])
        bad(i, 13, k_seen);
    if (i % 8 == 0) {
        vec = user_try_read(0, &err, true);
        if (vec != (want.expdown[p] ? 13 : -1) || (vec == 13 && err != 0))
            bad(i, 10, (uint32_t)vec);
    }
    if (want.space[p] && i % 16 == 0) {
        vec = user_try_read(UHOLE, &err, false);
        if (want.space[p] == WORD_A ? vec != -1 : (vec != 14 || err != (PFE_U)))
            bad(i, 11, (uint32_t)vec << 16 | err);
        vec = user_try_read(SPAGE, &err, false);
        if (vec != 14 || err != (PFE_U | PFE_P))
            bad(i, 12, (uint32_t)vec << 16 | err);
    }
}

static void user_round(void)
{
    uint32_t ucs = (want.kcs + 16) | 3;

    for (int i = 0; i < ITER; i++) {
        uint32_t r, cs;
        static volatile uint32_t esp0, esp1;
        /* The handlers clobber ESI and EDI. */
        __asm__ volatile("mov %%esp, %%ecx\n\tmov %%esp, %1\n\tmovl $1f, %%edx\n\tsysenter\n1:\tmov %%esp, %2"
                         : "=a"(r), "=m"(esp0), "=m"(esp1) : "b"(i) : "ecx", "edx", "esi", "edi", "memory");
        if (esp0 != esp1)
            bad(i, 20, esp1);
        check_return(i, want.eip_sig, r - (uint32_t)i, ucs, true);
        __asm__ volatile("mov %%cs, %0" : "=r"(cs));
        __asm__ volatile("mov %%esp, %1\n\tint $0x82\n\tmov %%esp, %2"
                         : "=a"(r), "=m"(esp0), "=m"(esp1) : "b"(i) : "esi", "edi", "memory");
        if (esp0 != esp1)
            bad(i, 21, esp1);
        check_return(i, 7, r - (uint32_t)i, cs & 0xffff, false);
    }
}

static uint8_t kstack[2][4096] __attribute__((aligned(16)));

static void round_of(const char *name, uint32_t kcs, int eip, int stack)
{
    want.kcs = kcs;
    want.eip_sig = eip ? 1000 : 1;
    want.esp = (uint32_t)(kstack[stack] + sizeof kstack[stack]);
    wrmsr(MSR_SYSENTER_CS, kcs);
    wrmsr(MSR_SYSENTER_ESP, want.esp);
    wrmsr(MSR_SYSENTER_EIP, (uint32_t)(eip ? sysenter_b : sysenter_a));
    u_bad = 0;
    k_calls = 0;
    run_user_asm(user_round, user_stack_top(), 0x202);     /* IF set: SYSENTER clears it */
    CHECK_EQ_CTX(u_bad, 0, "%s: first at iteration %u, check %u, got 0x%08x", name, u_first_iter,
                 u_first_what, u_first_got);
    CHECK_EQ_CTX(k_calls, 2 * ITER, "%s", name);
}

static void no_switches(void)
{
    for (int k = 0; k < NSTATE; k++)
        next_gs[k] = next_fs[k] = next_ds[k] = next_cr3[k] = 0;
    memset(want.gs_word, 0, sizeof want.gs_word);
    memset(want.fs_word, 0, sizeof want.fs_word);
    memset(want.expdown, 0, sizeof want.expdown);
}

/* Alternate between two values, call by call. */
static void alternate(volatile uint32_t *t, uint32_t even, uint32_t odd)
{
    for (int k = 0; k < NSTATE; k++)
        t[k] = k & 1 ? odd : even;
}

/* Every round, with the space in force (0: paging off). */
static void rounds(uint32_t *pd_a, uint32_t *pd_b)
{
    no_switches();
    for (int k = 0; k < NSTATE; k++)
        want.space[k] = pd_a ? WORD_A : 0;
    k_touch = pd_a != NULL;
    round_of("plain", SEL_KCODE, 0, 0);
    round_of("SYSENTER_EIP and _ESP", SEL_KCODE, 1, 1);
    round_of("SYSENTER_CS", ALT_CS, 1, 0);
    round_of("SYSENTER_CS back", SEL_KCODE, 0, 0);

    alternate(next_gs, SEL_TLS0 | 3, SEL_TLS1 | 3);
    alternate(next_fs, SEL_TLS2 | 3, SEL_TLS3 | 3);
    for (int k = 0; k < NSTATE; k++) {
        want.gs_word[k] = tls_words[k & 1];
        want.fs_word[k] = tls_words[2 + (k & 1)];
    }
    round_of("GS and FS bases", SEL_KCODE, 0, 0);

    /* Sixteen pairs of bases: more block modes than there are jump
     * caches, so remembered states outlive the cache of their mode. */
    for (int k = 0; k < NSTATE; k++) {
        next_gs[k] = (SEL_TLS0 + 8 * (k & 3)) | 3;
        next_fs[k] = (SEL_TLS0 + 8 * (k >> 2 & 3)) | 3;
        want.gs_word[k] = tls_words[k & 3];
        want.fs_word[k] = tls_words[k >> 2 & 3];
    }
    round_of("16 modes", SEL_KCODE, 0, 0);

    no_switches();
    alternate(next_ds, SEL_UDATA, SEL_EXPDOWN | 3);
    for (int k = 0; k < NSTATE; k++)
        want.expdown[k] = k & 1;
    round_of("expand-down DS", SEL_KCODE, 0, 0);

    if (pd_a) {
        no_switches();
        alternate(next_cr3, (uint32_t)pd_a, (uint32_t)pd_b);
        for (int k = 0; k < NSTATE; k++)
            want.space[k] = k & 1 ? WORD_B : WORD_A;
        round_of("CR3", SEL_KCODE, 0, 0);
    }

    /* All of it at once (CR3 too with paging on), with the other MSR values. */
    alternate(next_gs, SEL_TLS0 | 3, SEL_TLS1 | 3);
    alternate(next_fs, SEL_TLS3 | 3, SEL_TLS2 | 3);
    alternate(next_ds, SEL_EXPDOWN | 3, SEL_UDATA);
    for (int k = 0; k < NSTATE; k++) {
        want.gs_word[k] = tls_words[k & 1];
        want.fs_word[k] = tls_words[3 - (k & 1)];
        want.expdown[k] = !(k & 1);
    }
    round_of("everything", ALT_CS, 1, 1);
    if (pd_a)
        write_cr3((uint32_t)pd_a);
}

/* SYSEXIT at CPL 3, SYSENTER with IA32_SYSENTER_CS = 0: #GP(0). */
static volatile int g_vec;
static volatile uint32_t g_err, g_eip, g_want_eip;

static void user_sysexit(void)
{
    trap_reset();
    __asm__ volatile(TRY_BEGIN "sysexit" TRY_END : : : "memory");
    g_vec = last_trap.vector;
    g_err = last_trap.error;
    g_eip = last_trap.eip;
    g_want_eip = expect_eip;
}

static void user_sysenter(void)
{
    trap_reset();
    __asm__ volatile(TRY_BEGIN "sysenter" TRY_END : : : "ecx", "edx", "memory");
    g_vec = last_trap.vector;
    g_err = last_trap.error;
    g_eip = last_trap.eip;
    g_want_eip = expect_eip;
}

static void test_gp(void)
{
    wrmsr(MSR_SYSENTER_CS, SEL_KCODE);
    run_user(user_sysexit, 0);
    CHECK_EQ(g_vec, 13);
    CHECK_EQ(g_err, 0);
    CHECK_EQ(g_eip, g_want_eip);
    wrmsr(MSR_SYSENTER_CS, 3);          /* IA32_SYSENTER_CS[15:2] = 0 */
    run_user(user_sysenter, 0);
    CHECK_EQ(g_vec, 13);
    CHECK_EQ(g_err, 0);
    CHECK_EQ(g_eip, g_want_eip);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    uint32_t *pd_a, *pd_b, *fa, *fb, *fh, *fs;

    sys_init();
    pg_install_pf();
    pic_init_masks(0xff, 0xff);         /* ring 3 runs with IF set */
    /* The second SYSENTER_CS layout, TLS segments, an expand-down DS
     * (offsets 0x1000 and up are valid; B set: up to 4 GiB - 1). */
    gdt[ALT_CS / 8] = seg_desc(0, 0xfffff, 0x9a, 0xc);
    gdt[ALT_CS / 8 + 1] = seg_desc(0, 0xfffff, 0x92, 0xc);
    gdt[ALT_CS / 8 + 2] = seg_desc(0, 0xfffff, 0xfa, 0xc);
    gdt[ALT_CS / 8 + 3] = seg_desc(0, 0xfffff, 0xf2, 0xc);
    for (int k = 0; k < 4; k++) {
        tls_words[k] = 0x7150000u + (uint32_t)k;
        gdt[SEL_TLS0 / 8 + k] = seg_desc((uint32_t)&tls_words[k], 0xfffff, 0xf2, 0xc);
    }
    gdt[SEL_EXPDOWN / 8] = seg_desc(0, 0xfff, 0xf6, 0x4);
    set_gate(0x82, (uint32_t)int82, SEL_KCODE, 0xe, 3);

    rounds(NULL, NULL);

    pd_a = pg_kernel_pd();
    pd_b = pg_kernel_pd();
    fa = pg_alloc();
    fb = pg_alloc();
    fh = pg_alloc();
    fs = pg_alloc();
    fa[0] = WORD_A;
    fb[0] = WORD_B;
    pg_map(pd_a, UPAGE, (uint32_t)fa, PG_RW | PG_US);
    pg_map(pd_b, UPAGE, (uint32_t)fb, PG_RW | PG_US);
    pg_map(pd_a, UHOLE, (uint32_t)fh, PG_RW | PG_US);
    pg_map(pd_a, SPAGE, (uint32_t)fs, PG_RW);
    pg_map(pd_b, SPAGE, (uint32_t)fs, PG_RW);
    pg_enable(pd_a);
    rounds(pd_a, pd_b);
    pg_disable();
    rounds(NULL, NULL);

    test_gp();
    test_finish("pg_xfer");
}
