/* sys_task.c — hardware task switches (SDM vol. 3A §7.3): far JMP to a TSS
 * and back, far CALL to a TSS and IRET back through the back link (NT),
 * INT n through a task gate, a double fault through a task gate (as
 * Linux's i386 #DF handler is), a far JMP through a task gate in the GDT,
 * and the faults of bad targets (#GP busy, #TS limit, #NP not present).
 * Checked: busy bits, back link, NT, CR0.TS, the saved and loaded state. */
#include "sys_lib.h"

#define FL_NT 0x4000u
#define FL_IF 0x0200u

enum { SEL_B = 0x38, SEL_C = 0x40, SEL_D = 0x48, SEL_DF = 0x50, SEL_GATE_B = 0x58,
       SEL_SHORT = 0x60, SEL_ABSENT = 0x68, SEL_E = 0x70, SEL_F = 0x78, SEL_G = 0x80 };


static struct tss32 tss_b, tss_c, tss_d, tss_df, tss_e, tss_f, tss_g;
static uint8_t stacks[7][4096] __attribute__((aligned(16)));

static volatile uint32_t b_eax, b_eflags, b_tr, b_cr0, b_ldt, b_runs;
static volatile uint32_t c_link, c_eflags, c_tr, c_runs;
static volatile uint32_t d_link, d_eflags, d_runs;
static volatile uint32_t df_link, df_err, df_eip, df_runs;

static unsigned desc_type_of(uint16_t sel) { return (unsigned)(gdt[sel >> 3] >> 40) & 15; }

static void init_task(struct tss32 *t, void (*entry)(void), int stack)
{
    memset(t, 0, sizeof *t);
    t->eip = (uint32_t)entry;
    t->eflags = 0x2;
    t->esp = (uint32_t)(stacks[stack] + sizeof stacks[stack]);
    t->cs = SEL_KCODE;
    t->ss = t->ds = t->es = t->fs = t->gs = SEL_KDATA;
    t->iomap = sizeof *t;
}

static uint32_t read_tr(void) { uint16_t s; __asm__ volatile("str %0" : "=r"(s)); return s; }
static uint32_t read_flags(void) { uint32_t v; __asm__ volatile("pushf\n\tpop %0" : "=r"(v)); return v; }

/* ---- task B: entered by JMP, leaves by JMP --------------------------------- */
void task_b_body(uint32_t eax)
{
    b_eax = eax;
    b_eflags = read_flags();
    b_tr = read_tr();
    b_cr0 = read_cr0();
    uint16_t ldt;
    __asm__ volatile("sldt %0" : "=r"(ldt));
    b_ldt = ldt;
    b_runs++;
}
__asm__(".text\ntask_b:\n"
        "    push %eax\n    call task_b_body\n    add $4, %esp\n"
        "    ljmp $0x28, $0\n"
        "    jmp task_b\n");
void task_b(void);

/* ---- task C: entered by CALL, leaves by IRET -------------------------------- */
void task_c_body(void)
{
    c_link = tss_c.link;
    c_eflags = read_flags();
    c_tr = read_tr();
    c_runs++;
}
__asm__(".text\ntask_c:\n"
        "    call task_c_body\n"
        "    iret\n"
        "    jmp task_c\n");
void task_c(void);

/* ---- task D: INT 0x40 through a task gate ------------------------------------ */
void task_d_body(void)
{
    d_link = tss_d.link;
    d_eflags = read_flags();
    d_runs++;
}
__asm__(".text\ntask_d:\n"
        "    call task_d_body\n"
        "    iret\n"
        "    jmp task_d\n");
void task_d(void);

/* ---- the double-fault task ------------------------------------------------------
 * The error code (0) is on its stack; the faulting task's EIP is in its
 * TSS. It resumes that task past the fault. */
extern volatile uint32_t df_resume;
void task_df_body(uint32_t err)
{
    df_err = err;
    df_link = tss_df.link;
    df_eip = tss.eip;
    df_runs++;
    tss.eip = df_resume;
    set_trap_gate_default(13);
}
__asm__(".text\ntask_df:\n"
        "    call task_df_body\n"         /* the error code is the argument */
        "    add $4, %esp\n"
        "    iret\n"
        "    jmp task_df\n");
void task_df(void);

static void set_tss_desc(uint16_t sel, void *t, uint32_t limit)
{
    gdt[sel >> 3] = seg_desc((uint32_t)t, limit, 0x89, 0);
}

static void set_task_gate(uint64_t *slot, uint16_t tss_sel, int dpl)
{
    *slot = (uint64_t)tss_sel << 16 | (uint64_t)(0x80 | dpl << 5 | 5) << 40;
}

static void clts(void) { __asm__ volatile("clts"); }

static void test_jmp(void)
{
    init_task(&tss_b, task_b, 0);
    tss_b.eax = 0x1234abcd;
    tss_b.ldt = SEL_LDT;
    set_tss_desc(SEL_B, &tss_b, sizeof tss_b - 1);
    clts();
    uint32_t esi = 0x5151, edi = 0x7171;
    __asm__ volatile("ljmp $0x38, $0" : "+S"(esi), "+D"(edi) : : "memory", "cc");
    CHECK_EQ(b_runs, 1);
    CHECK_EQ(b_eax, 0x1234abcd);                /* loaded from the TSS */
    CHECK_EQ(b_eflags & FL_NT, 0);              /* JMP: no nesting */
    CHECK_EQ(b_tr, SEL_B);
    CHECK_EQ(b_ldt, SEL_LDT);                   /* LDTR from B's TSS */
    CHECK(b_cr0 & 8);                           /* CR0.TS set by the switch */
    CHECK_EQ(esi, 0x5151);                      /* our registers came back from our TSS */
    CHECK_EQ(edi, 0x7171);
    CHECK_EQ(read_tr(), SEL_TSS);
    uint16_t ldt;
    __asm__ volatile("sldt %0" : "=r"(ldt));
    CHECK_EQ(ldt, 0);                           /* and ours back from our TSS */
    CHECK_EQ(desc_type_of(SEL_B), 9);           /* B left by JMP: available again */
    CHECK_EQ(desc_type_of(SEL_TSS), 11);
    CHECK_EQ(tss.esi, 0x5151);                  /* our state, saved when we left */
    CHECK_EQ(tss_b.cs, SEL_KCODE);
    clts();
    /* Again: B resumes where it left (after its ljmp) and loops. */
    __asm__ volatile("ljmp $0x38, $0" ::: "memory", "cc");
    CHECK_EQ(b_runs, 2);
    /* Through a task gate in the GDT. */
    set_task_gate(&gdt[SEL_GATE_B >> 3], SEL_B, 0);
    __asm__ volatile("ljmp $0x58, $0" ::: "memory", "cc");
    CHECK_EQ(b_runs, 3);
    clts();
}

static void test_call_iret(void)
{
    init_task(&tss_c, task_c, 1);
    set_tss_desc(SEL_C, &tss_c, sizeof tss_c - 1);
    for (int i = 1; i <= 2; i++) {
        uint32_t ebx = 0xb0b0 + i;
        __asm__ volatile("lcall $0x40, $0" : "+b"(ebx) : : "memory", "cc");
        CHECK_EQ(c_runs, i);
        CHECK_EQ(c_link, SEL_TSS);               /* the back link */
        CHECK(c_eflags & FL_NT);                 /* CALL: nested */
        CHECK_EQ(c_tr, SEL_C);
        CHECK_EQ(ebx, 0xb0b0 + i);
        CHECK_EQ(read_flags() & FL_NT, 0);
        CHECK_EQ(read_tr(), SEL_TSS);
        CHECK_EQ(desc_type_of(SEL_C), 9);        /* IRET cleared its busy bit */
        CHECK_EQ(desc_type_of(SEL_TSS), 11);
        CHECK_EQ(tss_c.eflags & FL_NT, 0);       /* IRET saved C with NT clear */
    }
    clts();
}

static void test_int_gate(void)
{
    init_task(&tss_d, task_d, 2);
    set_tss_desc(SEL_D, &tss_d, sizeof tss_d - 1);
    set_task_gate(&idt[0x40], SEL_D, 0);
    __asm__ volatile("int $0x40" ::: "memory", "cc");
    CHECK_EQ(d_runs, 1);
    CHECK_EQ(d_link, SEL_TSS);
    CHECK(d_eflags & FL_NT);
    CHECK_EQ(read_tr(), SEL_TSS);
    CHECK_EQ(desc_type_of(SEL_D), 9);
    set_trap_gate_default(0x40);
    clts();
}

volatile uint32_t df_resume;
extern const char df_fault_insn[], df_after[];

static void test_double_fault(void)
{
    init_task(&tss_df, task_df, 3);
    set_tss_desc(SEL_DF, &tss_df, sizeof tss_df - 1);
    set_task_gate(&idt[8], SEL_DF, 0);
    idt[13] &= ~(1ull << 47);                    /* #GP not present: #NP, then #DF */
    df_resume = (uint32_t)df_after;
    __asm__ volatile(".globl df_fault_insn, df_after\n"
                     "df_fault_insn:\n\tmov %0, %%es\n"
                     "df_after:\n\tmov %1, %%es"
                     : : "r"((uint16_t)0x7ff0), "r"((uint16_t)SEL_KDATA) : "memory");
    CHECK_EQ(df_runs, 1);
    CHECK_EQ(df_err, 0);
    CHECK_EQ(df_link, SEL_TSS);
    CHECK_EQ(df_eip, (uint32_t)df_fault_insn);   /* saved at the faulting instruction */
    CHECK_EQ(read_tr(), SEL_TSS);
    set_trap_gate_default(8);
    clts();
}

/* A bad segment in the new TSS faults in the new task's context (SDM
 * vol. 3A §7.3 step 13, table 7-1): #TS with SS's selector, reported at
 * the new task's EIP, with TR already the new task's. */
extern const char task_e[], task_e_recover[];
__asm__(".text\ntask_e:\n"
        "    hlt\n"                              /* never runs: SS faults first */
        "task_e_recover:\n"
        "    mov $0x10, %eax\n    mov %eax, %ss\n"
        "    str %eax\n    mov %eax, e_tr\n"
        "    ljmp $0x28, $0\n");
volatile uint32_t e_tr;

static void test_new_task_fault(void)
{
    init_task(&tss_e, (void (*)(void))task_e, 4);
    tss_e.ss = 0x7ff0;
    set_tss_desc(SEL_E, &tss_e, sizeof tss_e - 1);
    trap_reset();
    resume_eip = (uint32_t)task_e_recover;
    __asm__ volatile("ljmp $0x70, $0" ::: "memory", "cc");
    CHECK_EQ(last_trap.vector, 10);
    CHECK_EQ(last_trap.error, 0x7ff0);
    CHECK_EQ(last_trap.eip, (uint32_t)task_e);
    CHECK_EQ(e_tr, SEL_E);
    CHECK_EQ(read_tr(), SEL_TSS);
    clts();
}

/* ---- a hardware interrupt through a task gate ----------------------------------
 * Enabling the UART's THRE interrupt raises IRQ 4 at once; its IDT entry
 * is a task gate to task F, which acknowledges it and IRETs back. */
volatile uint32_t f_link, f_runs, f_ret_eip;
void task_f_body(void)
{
    f_link = tss_f.link;
    f_ret_eip = tss.eip;
    f_runs++;
    outb(COM1 + 1, 0);                           /* IER: off */
    inb(COM1 + 2);
    outb(0x20, 0x20);
}
__asm__(".text\ntask_f:\n"
        "    call task_f_body\n    iret\n    jmp task_f\n");
void task_f(void);
extern const char irq_window[];

static void test_irq_gate(void)
{
    init_task(&tss_f, task_f, 5);
    set_tss_desc(SEL_F, &tss_f, sizeof tss_f - 1);
    set_task_gate(&idt[0x24], SEL_F, 0);
    outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
    outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 0x02); outb(0xa1, 0x01);
    outb(0x21, 0xef);                            /* IRQ 4 only */
    outb(0xa1, 0xff);
    outb(COM1 + 1, 0x02);                        /* ETBEI: IRQ 4 now */
    __asm__ volatile("sti\n\tnop\n\t.globl irq_window\nirq_window:\n\tcli" ::: "memory");
    outb(0x21, 0xff);
    CHECK_EQ(f_runs, 1);
    CHECK_EQ(f_link, SEL_TSS);
    CHECK_EQ(f_ret_eip, (uint32_t)irq_window);   /* after the STI shadow (the NOP) */
    CHECK_EQ(tss_f.eflags & FL_IF, 0);           /* F ran with IF as its TSS said */
    set_trap_gate_default(0x24);
    clts();
}

/* ---- from ring 3 through a DPL-3 task gate to a ring-0 task and back ---------- */
volatile uint32_t g_cs, g_link_cs, g_runs, u_after;
void task_g_body(void)
{
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    g_cs = cs;
    g_link_cs = tss.cs;                          /* the caller's state, saved in its TSS */
    g_runs++;
}
__asm__(".text\ntask_g:\n"
        "    call task_g_body\n    iret\n    jmp task_g\n");
void task_g(void);

static void user_task_call(void)
{
    uint16_t cs;
    __asm__ volatile("int $0x41" ::: "memory", "cc");
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    u_after = cs;
}

static void test_ring3_gate(void)
{
    init_task(&tss_g, task_g, 6);
    set_tss_desc(SEL_G, &tss_g, sizeof tss_g - 1);
    set_task_gate(&idt[0x41], SEL_G, 3);
    run_user(user_task_call, 0);
    CHECK_EQ(g_runs, 1);
    CHECK_EQ(g_cs, SEL_KCODE);
    CHECK_EQ(g_link_cs, SEL_UCODE);
    CHECK_EQ(u_after, SEL_UCODE);                /* IRET went back to ring 3 */
    set_trap_gate_default(0x41);
    clts();
}

/* From ring 3, a DPL-0 TSS is out of reach: #GP(selector). */
static volatile int u_trap = -2, u_err = -2;
static void user_jmp_tss(void)
{
    trap_reset();
    __asm__ volatile(TRY_BEGIN "ljmp $0x38, $0" TRY_END ::: "memory");
    u_trap = last_trap.vector;
    u_err = (int)last_trap.error;
}

/* Bad targets fault in the old task, which is left as it was. */
static void test_faults(void)
{
    trap_reset();
    __asm__ volatile(TRY_BEGIN "ljmp $0x28, $0" TRY_END ::: "memory");        /* busy: ourselves */
    CHECK_TRAP(13, SEL_TSS);
    set_tss_desc(SEL_SHORT, &tss_b, 0x60);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "ljmp $0x60, $0" TRY_END ::: "memory");        /* limit < 0x67 */
    CHECK_TRAP(10, SEL_SHORT);
    gdt[SEL_ABSENT >> 3] = seg_desc((uint32_t)&tss_b, sizeof tss_b - 1, 0x09, 0);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "lcall $0x68, $0" TRY_END ::: "memory");       /* not present */
    CHECK_TRAP(11, SEL_ABSENT);
    CHECK_EQ(read_tr(), SEL_TSS);
    CHECK_EQ(read_cr0() & 8, 0);
    run_user(user_jmp_tss, 0);
    CHECK_EQ(u_trap, 13);
    CHECK_EQ(u_err, SEL_B);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    test_jmp();
    test_call_iret();
    test_int_gate();
    test_double_fault();
    test_new_task_fault();
    test_irq_gate();
    test_ring3_gate();
    test_faults();
    test_finish("sys_task");
}
