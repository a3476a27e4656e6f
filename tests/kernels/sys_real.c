/* sys_real.c — real mode and 16-bit protected mode (issue #15 item 11): the
 * round trip of Linux's machine_real_restart and of an SMP trampoline,
 * 32-bit protected mode -> 16-bit protected mode -> real mode -> back with
 * LMSW and a far jump (sys_real16.S), then the results it left checked
 * here; LMSW cannot clear PE (SDM "LMSW"). */
#include "sys_lib.h"

#define REAL_BASE 0x7000u

extern char rm_start[], rm_end[];
extern uint16_t res_pm16, res_fib, res_int, res_int_flags, res_de, ticks, res_copy_cx, res_lods;
extern uint16_t res_far_cs, res_ind, res_enter, res_pusha, res_popf, res_sp, res_ss_sp;
extern uint32_t res_32, res_32b, res_real_cr0, bench_ticks;
extern uint16_t bench_n, res_db, dr_test;
extern char rm_dst[];
void enter_real(void);

/* The copy's value of a result the 16-bit code left. */
#define LOW(sym) ((volatile void *)(REAL_BASE + ((char *)&(sym) - rm_start)))
#define W(sym) (*(volatile uint16_t *)LOW(sym))
#define L(sym) (*(volatile uint32_t *)LOW(sym))

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    gdt[7] = seg_desc(REAL_BASE, 0xffff, 0x9a, 0x0);   /* 0x38: 16-bit code, base 0x7000 */
    gdt[8] = seg_desc(0, 0xffff, 0x92, 0x0);           /* 0x40: 16-bit data, base 0 */
    memcpy((void *)REAL_BASE, rm_start, (size_t)(rm_end - rm_start));
    const char *cmd = (mbi->flags & (1u << 2)) ? (const char *)mbi->cmdline : "";
    int bench = strstr(cmd, " bench") != NULL;
    /* -append bench: a measurement, not a check (time the run on the host):
     * fib(20) = 21,891 real-mode calls, 100 times. */
    if (bench)
        W(bench_n) = 100;
    /* -append dr0: a DR0 execution breakpoint in real mode (QEMU 7.2 dies
     * of a SIGSEGV on this one, so it is asked for). */
    int dr = strstr(cmd, " dr0") != NULL;
    W(dr_test) = (uint16_t)dr;
    __asm__ volatile("cli");
    enter_real();
    lidt(idt, sizeof idt - 1);
    kprintf("\nback in protected mode\n");
    if (bench)
        kprintf("real-mode fib(20) x100: %u TSC ticks (wall)\n", L(bench_ticks));

    CHECK_EQ(W(res_pm16), 0x2345);          /* 16-bit PM: call with a 16-bit stack */
    CHECK_EQ(L(res_real_cr0) & 1, 0);       /* PE was clear */
    CHECK_EQ(W(res_fib), 55);               /* recursion on SS:SP */
    CHECK_EQ(W(res_int), 21);               /* INT 0x60 through the IVT */
    CHECK_EQ(W(res_int_flags) & 0x200, 0);  /* IF clear in the handler */
    CHECK_EQ(W(res_de), 2);                 /* the #DE handler ran and skipped the DIV */
    CHECK(W(ticks) >= 3);                   /* timer interrupts in real mode */
    CHECK_EQ(W(res_copy_cx), 0);            /* REP MOVSB / REPE CMPSB with cs: */
    CHECK_EQ(memcmp((const void *)LOW(rm_dst), "real mode!", 10), 0);
    CHECK_EQ(W(res_lods), ('o' << 8) | 'm'); /* LODSW with fs: at "mode" */
    CHECK_EQ(W(res_far_cs), 0x0710);        /* far CALL/RET */
    CHECK_EQ(L(res_32), 0x23456789u);       /* 32-bit operand */
    CHECK_EQ(L(res_32b), 0x2345678au);      /* 32-bit address */
    CHECK_EQ(W(res_ind), 0x4242);           /* CALL [mem16] */
    CHECK_EQ(W(res_enter), 0xbeef);         /* ENTER/LEAVE */
    CHECK_EQ(W(res_pusha), 0xaaaa);         /* PUSHA/POPA */
    CHECK_EQ(W(res_popf), 1);               /* PUSHF/POPF */
    CHECK_EQ(W(res_db), dr ? 1 : 0);        /* DR0 execution breakpoint at CS base + IP */
    CHECK_EQ(W(res_sp), 0x6ff0);
    CHECK_EQ(W(res_ss_sp), 0);
    CHECK_EQ(read_cr0() & 1, 1);

    /* LMSW sets PE but never clears it. */
    uint32_t cr0;
    __asm__ volatile("smsw %%ax\n\tand $0xfffe, %%ax\n\tlmsw %%ax\n\tmov %%cr0, %0" : "=r"(cr0) : : "eax");
    CHECK_EQ(cr0 & 1, 1);
    test_finish("sys_real");
}
