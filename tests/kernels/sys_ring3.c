/* sys_ring3.c — user mode: ring-3 code calling the kernel with int 0x80
 * and returning, the TSS stack switch, segment registers cleared on the
 * way out, #GP for privileged instructions at CPL 3, IOPL and the TSS I/O
 * bitmap for IN/OUT (SDM vol. 3 §5.9, §6.12.1; vol. 1 §19.5). */
#include "sys_lib.h"

static volatile uint32_t u_result, u_cs, u_ss, u_es, u_esp_ok, u_flags;
static volatile int u_traps[16], u_errors[16], u_n;

static void user_syscalls(void)
{
    uint32_t r, cs, ss, es, esp_before, esp_after;
    __asm__ volatile("mov %%cs, %0\n\tmov %%ss, %1\n\tmov %%es, %2" : "=r"(cs), "=r"(ss), "=r"(es));
    u_cs = cs;
    u_ss = ss;
    u_es = es;
    __asm__ volatile("mov %%esp, %1\n\tint $0x80\n\tmov %%esp, %2"
                     : "=a"(r), "=&r"(esp_before), "=&r"(esp_after) : "b"(40), "c"(2) : "memory");
    u_result = r;
    u_esp_ok = esp_before == esp_after;
    for (int i = 0; i < 100; i++)
        __asm__ volatile("int $0x80" : "=a"(r) : "b"(i), "c"(1) : "memory");
}

#define USER_TRY(insn, ...)                                                                 \
    do {                                                                                    \
        trap_reset();                                                                       \
        __asm__ volatile(TRY_BEGIN insn TRY_END : : __VA_ARGS__);                           \
        u_traps[u_n] = last_trap.vector;                                                    \
        u_errors[u_n++] = (int)last_trap.error;                                             \
    } while (0)

static void user_privileged(void)
{
    uint32_t fl;
    u_n = 0;
    USER_TRY("hlt", "r"(0) : "memory");
    USER_TRY("mov %%eax, %%cr0", "a"(0x11) : "memory");
    USER_TRY("mov %%cr0, %%eax", "a"(0) : "memory");
    USER_TRY("lgdt (%%eax)", "a"(0) : "memory");
    USER_TRY("lidt (%%eax)", "a"(0) : "memory");
    USER_TRY("ltr %%ax", "a"(0x28) : "memory");
    USER_TRY("wrmsr", "c"(0x10), "a"(0), "d"(0) : "memory");
    USER_TRY("clts", "r"(0) : "memory");
    USER_TRY("wbinvd", "r"(0) : "memory");
    USER_TRY("inb $0x80, %%al", "a"(0) : "memory");             /* IOPL 0, ports beyond the TSS limit */
    USER_TRY("int $0x42", "r"(0) : "memory");                  /* gate DPL 0 < CPL 3 */
    USER_TRY("mov %%eax, %%ds", "a"(0x10) : "memory");          /* DPL 0 data at CPL 3 */
    /* Allowed at CPL 3: RDTSC (CR4.TSD clear), SMSW, SGDT; POPF cannot change IF or IOPL. */
    USER_TRY("rdtsc", "r"(0) : "eax", "edx", "memory");
    USER_TRY("smsw %%eax", "a"(0) : "memory");
    __asm__ volatile("pushl $0x3202\n\tpopf\n\tpushf\n\tpop %0" : "=r"(fl));
    u_flags = fl;
}

/* The same RDTSC site run with CR4.TSD clear, set, clear: the translation
 * must follow TSD (SDM "RDTSC": #GP(0) at CPL > 0 with TSD set). */
static volatile uint32_t u_tsc_hi, u_tsc_lo;

static void user_rdtsc(void)
{
    uint32_t lo = 0, hi = 0;
    trap_reset();
    __asm__ volatile(TRY_BEGIN "rdtsc" TRY_END : "+a"(lo), "+d"(hi) : : "memory");
    u_traps[0] = last_trap.vector;
    u_errors[0] = (int)last_trap.error;
    u_tsc_lo = lo;
    u_tsc_hi = hi;
}

static void test_user_rdtsc(void)
{
    for (int round = 0; round < 3; round++) {
        int tsd = round == 1;
        write_cr4(tsd ? read_cr4() | 4u : read_cr4() & ~4u);
        u_traps[0] = -2;
        run_user(user_rdtsc, 0);
        CHECK_EQ_CTX(u_traps[0], tsd ? 13 : -1, "CR4.TSD %d", tsd);
        CHECK_EQ_CTX(u_errors[0], 0, "CR4.TSD %d", tsd);
        if (tsd) {      /* the faulting RDTSC left EDX:EAX alone */
            CHECK_EQ(u_tsc_lo, 0);
            CHECK_EQ(u_tsc_hi, 0);
        } else {
            CHECK(u_tsc_lo | u_tsc_hi);
        }
    }
    /* At CPL 0, TSD does not matter. */
    write_cr4(read_cr4() | 4u);
    uint64_t a = rdtsc(), b = rdtsc();
    CHECK(b > a);
    write_cr4(read_cr4() & ~4u);
}

static void user_io(void)
{
    u_n = 0;
    USER_TRY("inb $0x80, %%al", "a"(0) : "memory");
    USER_TRY("inb $0x81, %%al", "a"(0) : "memory");
    USER_TRY("inw $0x7f, %%ax", "a"(0) : "memory");   /* spans ports 0x7f-0x80: 0x7f denied */
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();

    /* System calls from ring 3. */
    syscall_count = 0;
    run_user(user_syscalls, 0);
    CHECK_EQ(u_cs, SEL_UCODE);
    CHECK_EQ(u_ss, SEL_UDATA);
    CHECK_EQ(u_es, SEL_UDATA);
    CHECK_EQ(u_result, 42);
    CHECK(u_esp_ok);
    CHECK_EQ(syscall_count, 101);
    CHECK_EQ(last_trap.cs, SEL_UCODE);
    CHECK_EQ(last_trap.ss, SEL_UDATA);
    /* The handler ran on the TSS's ring-0 stack. */
    CHECK_EQ(last_trap.handler_esp, tss.esp0 - 20 - 8 - 32);

    /* Privileged instructions at CPL 3 raise #GP(0). */
    run_user(user_privileged, 0);
    static const int want[] = { 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, -1, -1 };
    static const int want_err[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42 * 8 + 2, 0x10, 0, 0 };
    for (int i = 0; i < (int)(sizeof want / sizeof want[0]); i++) {
        CHECK_EQ_CTX(u_traps[i], want[i], "user_privileged case %d", i);
        CHECK_EQ_CTX(u_errors[i], want_err[i], "user_privileged case %d", i);
    }
    CHECK_EQ(u_flags & (FL_IF | FL_IOPL), 0);
    test_user_rdtsc();

    /* I/O at CPL 3: IOPL 3 allows every port. */
    run_user(user_io, 3);
    CHECK_EQ(u_traps[0], -1);
    CHECK_EQ(u_traps[1], -1);
    /* IOPL 0 and a TSS I/O bitmap that allows only port 0x80. */
    for (int i = 0; i < (int)sizeof tss.iobitmap; i++)
        tss.iobitmap[i] = 0xff;
    tss.iobitmap[0x80 / 8] &= (uint8_t)~1u;
    gdt[5] = seg_desc((uint32_t)&tss, sizeof tss - 1, 0x89, 0);
    __asm__ volatile("ltr %0" : : "r"((uint16_t)SEL_TSS));
    run_user(user_io, 0);
    CHECK_EQ(u_traps[0], -1);
    CHECK_EQ(u_traps[1], 13);
    CHECK_EQ(u_traps[2], 13);
    test_finish("sys_ring3");
}
