/* pg_exact.c — corner cases that mutation testing found unchecked
 * (issue #15): data segments nulled on a return to an outer ring, #DE
 * through a not-present gate, the I/O bitmap for wide accesses, CR4.TSD,
 * a stack segment with a non-zero base, a REP string with a based ES
 * taking a #PF midway, code that differs between address spaces at the
 * same linear address, a task switch that loads CR3 from the TSS, and a
 * page fault through a task gate. */
#include "pg_lib.h"

#define SEL_BASED_SS 0x38       /* gdt[7]: expand-up data, base STACK_BASE */
#define SEL_BASED_ES 0x40       /* gdt[8]: data, base ES_BASE */

/* ---- returns to ring 3 null DS/ES/FS/GS whose DPL < CPL -------------------
 * SDM vol. 2 "IRET" and "RET" (return to outer privilege level): a data
 * segment register the new CPL may not use is loaded with a null selector.
 * FS holds a DPL-3 segment and keeps it. */

static volatile uint32_t seg_saved_esp, u_ds, u_es, u_fs, u_gs;

/* Ring 3: read the segment registers, then load a usable DS and leave
 * through vector 0x82 (back_to_ring0). */
__asm__(".text\n"
        "user_read_segs:\n"
        "    mov %ds, %eax\n    mov %es, %ebx\n    mov %fs, %ecx\n    mov %gs, %edx\n"
        "    mov $0x23, %esi\n    mov %esi, %ds\n"
        "    mov %eax, u_ds\n    mov %ebx, u_es\n    mov %ecx, u_fs\n    mov %edx, u_gs\n"
        "    int $0x82\n"
        "back_to_ring0:\n"
        "    mov $0x10, %eax\n    mov %eax, %ds\n    mov %eax, %es\n    mov %eax, %fs\n    mov %eax, %gs\n"
        "    mov seg_saved_esp, %esp\n"
        "    pop %edi\n    pop %esi\n    pop %ebx\n    pop %ebp\n    ret\n"
        /* void to_ring3(int far_ret, uint32_t user_esp) */
        "to_ring3:\n"
        "    push %ebp\n    push %ebx\n    push %esi\n    push %edi\n"
        "    mov %esp, seg_saved_esp\n"
        "    mov 20(%esp), %ecx\n    mov 24(%esp), %edx\n"
        "    mov $0x23, %eax\n    mov %eax, %fs\n"
        "    mov $0x10, %eax\n    mov %eax, %es\n    mov %eax, %gs\n"
        "    push $0x23\n    push %edx\n"
        "    test %ecx, %ecx\n    jnz 1f\n"
        "    push $0x2\n    push $0x1b\n    push $user_read_segs\n    mov %eax, %ds\n    iret\n"
        "1:  push $0x1b\n    push $user_read_segs\n    mov %eax, %ds\n    lret\n");
void to_ring3(int far_ret, uint32_t user_esp);
extern const char back_to_ring0[];

static void test_outer_return_nulls(void)
{
    set_gate(0x82, (uint32_t)back_to_ring0, SEL_KCODE, 0xe, 3);
    for (int far_ret = 0; far_ret < 2; far_ret++) {
        u_ds = u_es = u_fs = u_gs = 0xffff;
        to_ring3(far_ret, user_stack_top());
        CHECK_EQ_CTX(u_ds & 0xfffc, 0, "far_ret %d", far_ret);
        CHECK_EQ_CTX(u_es & 0xfffc, 0, "far_ret %d", far_ret);
        CHECK_EQ_CTX(u_gs & 0xfffc, 0, "far_ret %d", far_ret);
        CHECK_EQ_CTX(u_fs, SEL_UDATA, "far_ret %d", far_ret);
    }
    set_trap_gate_default(0x82);
}

/* ---- #DE through a not-present gate ---------------------------------------
 * #DE is contributory and so is the #NP its gate raises: #DF (SDM vol. 3A
 * table 6-5). */
static void test_de_double_fault(void)
{
    idt[0] &= ~(1ull << 47);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "divl %0" TRY_END : : "r"(0), "a"(1), "d"(0) : "memory");
    CHECK_TRAP(8, 0);
    set_trap_gate_default(0);
}

/* ---- the I/O bitmap: every port of a 16- or 32-bit access ------------------
 * SDM vol. 1 §19.5.2: all the bits for the bytes accessed must be clear. */
static volatile int io_traps[8], io_n;

#define IO_TRY(insn, ...)                                                   \
    do {                                                                    \
        trap_reset();                                                       \
        __asm__ volatile(TRY_BEGIN insn TRY_END : : __VA_ARGS__);           \
        io_traps[io_n++] = last_trap.vector;                                \
    } while (0)

static void user_wide_io(void)
{
    io_n = 0;
    IO_TRY("inw %%dx, %%ax", "d"(0x80) : "eax", "memory");    /* 0x80 ok, 0x81 denied */
    IO_TRY("inl %%dx, %%eax", "d"(0x84) : "memory");          /* 0x84-0x86 ok, 0x87 denied */
    IO_TRY("inl %%dx, %%eax", "d"(0x88) : "memory");          /* 0x88-0x8b all allowed */
    IO_TRY("outw %%ax, %%dx", "d"(0x8a), "a"(0) : "memory");  /* 0x8a, 0x8b allowed */
    IO_TRY("outl %%eax, %%dx", "d"(0x89), "a"(0) : "memory"); /* 0x8c denied */
}

static void test_iobitmap_wide(void)
{
    for (int i = 0; i < (int)sizeof tss.iobitmap; i++)
        tss.iobitmap[i] = 0xff;
    tss.iobitmap[0x80 / 8] = (uint8_t)~(0x01 | 0x70);          /* 0x80, 0x84-0x86 */
    tss.iobitmap[0x88 / 8] = (uint8_t)~0x0f;                   /* 0x88-0x8b */
    gdt[5] = seg_desc((uint32_t)&tss, sizeof tss - 1, 0x89, 0);
    __asm__ volatile("ltr %0" : : "r"((uint16_t)SEL_TSS));
    run_user(user_wide_io, 0);
    CHECK_EQ(io_traps[0], 13);
    CHECK_EQ(io_traps[1], 13);
    CHECK_EQ(io_traps[2], -1);
    CHECK_EQ(io_traps[3], -1);
    CHECK_EQ(io_traps[4], 13);
}

/* ---- CR4.TSD: RDTSC at CPL 3 is #GP(0) --------------------------------------- */
static volatile int tsd_trap = -2, tsd_err = -2;

static void user_rdtsc(void)
{
    trap_reset();
    __asm__ volatile(TRY_BEGIN "rdtsc" TRY_END : : : "eax", "edx", "memory");
    tsd_trap = last_trap.vector;
    tsd_err = (int)last_trap.error;
}

static void test_tsd(void)
{
    uint32_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | 4));
    (void)rdtsc();                                              /* CPL 0 may */
    run_user(user_rdtsc, 0);
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
    CHECK_EQ(tsd_trap, 13);
    CHECK_EQ(tsd_err, 0);
}

/* ---- a stack segment with a non-zero base -----------------------------------
 * ENTER, LEAVE, [ebp+disp] and PUSHA address SS:ESP / SS:EBP. */
#define STACK_BASE 0x3000u
static uint32_t based_stack[64];
static volatile uint32_t sb_saved_esp, sb_saved_ebp, sb_read, sb_esp_after, sb_ebp_after;

static void test_ss_base(void)
{
    uint32_t top = (uint32_t)&based_stack[64];

    gdt[7] = seg_desc(STACK_BASE, 0xfffff, 0x92, 0xc);
    __asm__ volatile("mov %%esp, sb_saved_esp\n\tmov %%ebp, sb_saved_ebp\n\t"
                     "mov %[sel], %%eax\n\tmov %%eax, %%ss\n\tmov %[esp], %%esp\n\t"
                     "mov $0x11111111, %%ebp\n\t"
                     "enter $16, $0\n\t"
                     "movl $0xaaaa5555, -8(%%ebp)\n\t"
                     "mov -8(%%ebp), %%ecx\n\tmov %%ecx, sb_read\n\t"
                     "mov $0xcafef00d, %%eax\n\t"
                     "pusha\n\tpopa\n\t"
                     "leave\n\t"
                     "mov %%esp, sb_esp_after\n\tmov %%ebp, sb_ebp_after\n\t"
                     "mov %[kd], %%eax\n\tmov %%eax, %%ss\n\tmov sb_saved_esp, %%esp\n\tmov sb_saved_ebp, %%ebp"
                     : : [sel] "i"(SEL_BASED_SS), [kd] "i"(SEL_KDATA), [esp] "d"(top - STACK_BASE)
                     : "eax", "ecx", "esi", "edi", "memory");
    CHECK_EQ(based_stack[63], 0x11111111);         /* ENTER pushed EBP at SS:ESP-4 */
    CHECK_EQ(based_stack[61], 0xaaaa5555);         /* [ebp-8] through SS */
    CHECK_EQ(sb_read, 0xaaaa5555);
    CHECK_EQ(based_stack[63 - 4 - 1], 0xcafef00d);  /* PUSHA's EAX, below the 16-byte frame */
    CHECK_EQ(sb_esp_after, top - STACK_BASE);
    CHECK_EQ(sb_ebp_after, 0x11111111);
}

/* ---- REP STOS/MOVS with a based ES, #PF midway -------------------------------
 * The fault reports the guest's EDI and ECX (offsets, not the host's
 * rebased pointers); the handler maps the page and the string finishes. */
#define ES_BASE  0x00100000u
#define STR_LIN  0x40000000u            /* two pages: the second not present at first */
static uint32_t *exact_pd;
static volatile uint32_t pf_edi, pf_ecx, pf_count;
static uint32_t second_frame;

static int map_on_fault(struct trap_frame *f, uint32_t cr2)
{
    if (cr2 < STR_LIN + 4096 || cr2 >= STR_LIN + 8192)
        return 0;
    if (pf_count++ == 0) {
        pf_edi = f->edi;
        pf_ecx = f->ecx;
    }
    pg_map(exact_pd, STR_LIN + 4096, second_frame, PG_RW);
    return 1;
}

static void test_rep_pf_based_es(void)
{
    uint32_t src = (uint32_t)pg_alloc(), edi, ecx, esi;

    gdt[8] = seg_desc(ES_BASE, 0xfffff, 0x92, 0xc);
    for (int k = 0; k < 2; k++) {
        second_frame = (uint32_t)pg_alloc();
        pg_map(exact_pd, STR_LIN, (uint32_t)pg_alloc(), PG_RW);
        *pg_pte(exact_pd, STR_LIN + 4096) = 0;
        invlpg((void *)(STR_LIN + 4096));
        pf_count = 0;
        pg_fault_hook = map_on_fault;
        edi = STR_LIN + 4000 - ES_BASE;
        ecx = 200;
        if (k == 0) {
            __asm__ volatile("push %%es\n\tmov %[sel], %%es\n\trep stosb\n\tpop %%es"
                             : "+D"(edi), "+c"(ecx) : "a"(0x5a), [sel] "r"(SEL_BASED_ES) : "memory");
        } else {
            memset((void *)src, 0x3c, 4096);
            esi = src;
            __asm__ volatile("push %%es\n\tmov %[sel], %%es\n\trep movsb\n\tpop %%es"
                             : "+D"(edi), "+c"(ecx), "+S"(esi) : [sel] "r"(SEL_BASED_ES) : "memory");
        }
        pg_fault_hook = NULL;
        uint8_t want = k == 0 ? 0x5a : 0x3c;
        CHECK_EQ_CTX(pf_count, 1, "k %d", k);
        CHECK_EQ_CTX(pf_edi, STR_LIN + 4096 - ES_BASE, "k %d", k);
        CHECK_EQ_CTX(pf_ecx, 200 - 96, "k %d", k);
        CHECK_EQ_CTX(edi, STR_LIN + 4200 - ES_BASE, "k %d", k);
        CHECK_EQ_CTX(ecx, 0, "k %d", k);
        CHECK_EQ_CTX(*(volatile uint8_t *)(STR_LIN + 4000), want, "k %d", k);
        CHECK_EQ_CTX(*(volatile uint8_t *)(STR_LIN + 4199), want, "k %d", k);
        CHECK_EQ_CTX(*(volatile uint8_t *)(STR_LIN + 4200), 0, "k %d", k);
    }
}

/* ---- the same linear address, different code per address space -------------
 * Reached by RET and by an indirect JMP/CALL after each CR3 switch: the
 * translation (and any cached target) must be the current space's. */
#define CODE_LIN 0x50000000u

static uint32_t call_code(int how)
{
    uint32_t r;
    if (how == 0)
        __asm__ volatile("push $1f\n\tpush %1\n\tret\n1:" : "=a"(r) : "r"(CODE_LIN) : "memory");
    else if (how == 1)
        __asm__ volatile("push $1f\n\tjmp *%1\n1:" : "=a"(r) : "r"(CODE_LIN) : "memory");
    else
        __asm__ volatile("call *%1" : "=a"(r) : "r"(CODE_LIN) : "memory");
    return r;
}

static void test_cr3_code(void)
{
    uint32_t *pd2 = pg_kernel_pd();
    uint8_t *a = (uint8_t *)pg_alloc(), *b = (uint8_t *)pg_alloc();
    static const uint8_t code_a[] = { 0xb8, 1, 0, 0, 0, 0xc3 };     /* mov eax, 1; ret */
    static const uint8_t code_b[] = { 0xb8, 2, 0, 0, 0, 0xc3 };     /* mov eax, 2; ret */

    memcpy(a, code_a, sizeof code_a);
    memcpy(b, code_b, sizeof code_b);
    pg_map(exact_pd, CODE_LIN, (uint32_t)a, 0);
    pg_map(pd2, CODE_LIN, (uint32_t)b, 0);
    for (int i = 0; i < 50; i++) {
        for (int how = 0; how < 3; how++) {
            write_cr3((uint32_t)exact_pd);
            CHECK_EQ_CTX(call_code(how), 1, "round %d how %d", i, how);
            write_cr3((uint32_t)pd2);
            CHECK_EQ_CTX(call_code(how), 2, "round %d how %d", i, how);
        }
    }
    write_cr3((uint32_t)exact_pd);
}

/* ---- a task switch loads CR3 (SDM vol. 3A §7.3 step 12) ---------------------
 * CR3 is a static field: read from the new TSS, never saved into the old
 * one, so our own TSS must hold our CR3 for the way back. */
#define SEL_TASK_T 0x48
#define DATA_LIN   0x60000000u
static struct tss task_t_tss;

/* A ring-0 task at entry with its own stack and page directory, its TSS
 * (limit 103: no I/O bitmap) at GDT selector sel. */
static void init_task(struct tss *t, uint16_t sel, void (*entry)(void), uint8_t *stack_top, uint32_t *pd)
{
    t->eip = (uint32_t)entry;
    t->eflags = 2;
    t->esp = (uint32_t)stack_top;
    t->cs = SEL_KCODE;
    t->ss = t->ds = t->es = t->fs = t->gs = SEL_KDATA;
    t->cr3 = (uint32_t)pd;
    t->iomap = 104;
    gdt[sel >> 3] = seg_desc((uint32_t)t, 103, 0x89, 0);
}
static uint8_t task_t_stack[4096] __attribute__((aligned(16)));
static volatile uint32_t t_seen, t_cr3;
__asm__(".text\ntask_t:\n"
        "    mov 0x60000000, %eax\n    mov %eax, t_seen\n"
        "    mov %cr3, %eax\n    mov %eax, t_cr3\n"
        "    ljmp $0x28, $0\n    jmp task_t\n");
void task_t(void);

static void test_task_cr3(void)
{
    uint32_t *pd_t = pg_kernel_pd();
    uint32_t *fa = pg_alloc(), *fb = pg_alloc();

    fa[0] = 0xaaaa0001;
    fb[0] = 0xbbbb0002;
    pg_map(exact_pd, DATA_LIN, (uint32_t)fa, 0);
    pg_map(pd_t, DATA_LIN, (uint32_t)fb, 0);
    init_task(&task_t_tss, SEL_TASK_T, task_t, task_t_stack + sizeof task_t_stack, pd_t);
    tss.cr3 = read_cr3();
    for (int i = 0; i < 3; i++) {
        __asm__ volatile("ljmp $0x48, $0" ::: "memory", "cc");
        CHECK_EQ_CTX(t_seen, 0xbbbb0002, "round %d", i);
        CHECK_EQ_CTX(t_cr3, (uint32_t)pd_t, "round %d", i);
        CHECK_EQ_CTX(read_cr3(), (uint32_t)exact_pd, "round %d", i);
        CHECK_EQ_CTX(peek32(DATA_LIN), 0xaaaa0001, "round %d", i);
        CHECK_EQ_CTX(task_t_tss.cr3, (uint32_t)pd_t, "round %d", i);   /* never written */
    }
    __asm__ volatile("clts");
}

/* ---- #PF through a task gate ---------------------------------------------------
 * The page-fault task gets the error code on its stack and CR2, maps the
 * page and IRETs to the faulting task, which retries the access. */
#define SEL_TASK_P 0x50
#define PF_LIN     0x70000000u
static struct tss task_p_tss;
static uint8_t task_p_stack[4096] __attribute__((aligned(16)));
static volatile uint32_t p_err, p_cr2, p_runs, p_saved_eip;
void task_p_body(uint32_t err)
{
    p_err = err;
    p_cr2 = read_cr2();
    p_saved_eip = tss.eip;
    p_runs++;
    pg_map(exact_pd, PF_LIN, (uint32_t)pg_alloc(), PG_RW);
}
__asm__(".text\ntask_p:\n"
        "    call task_p_body\n    add $4, %esp\n    iret\n    jmp task_p\n");
void task_p(void);
extern const char pf_store[];

static void test_pf_task_gate(void)
{
    init_task(&task_p_tss, SEL_TASK_P, task_p, task_p_stack + sizeof task_p_stack, exact_pd);
    idt[14] = (uint64_t)SEL_TASK_P << 16 | (uint64_t)0x85 << 40;
    tss.cr3 = read_cr3();
    __asm__ volatile(".globl pf_store\npf_store:\n\tmovl $0x600df00d, (%0)" : : "r"(PF_LIN) : "memory");
    CHECK_EQ(p_runs, 1);
    CHECK_EQ(p_err, PFE_W);                      /* not present, write, supervisor */
    CHECK_EQ(p_cr2, PF_LIN);
    CHECK_EQ(p_saved_eip, (uint32_t)pf_store);   /* the faulting store, retried after */
    CHECK_EQ(peek32(PF_LIN), 0x600df00d);
    pg_install_pf();
    __asm__ volatile("clts");
}

/* ---- an x87 operand across the 4 GiB wrap, paged -----------------------------
 * FLD/FSTP m64 at 0xfffffffc touch the last page and page 0 (bounce.c):
 * a #PF on page 0 (not present, then read-only) reports CR2 = 0 and
 * leaves both pages and the FPU stack as they were; with page 0 writable
 * the store lands on both sides. */
static uint16_t fsw(void) { uint16_t w; __asm__ volatile("fnstsw %0" : "=m"(w)); return w; }
static volatile uintptr_t page0 = 0;             /* linear 0, hidden from the compiler */

static void test_x87_wrap_paged(void)
{
    uint32_t *top = pg_alloc();
    volatile uint32_t *pte0 = pg_pte(exact_pd, 0), saved = *pte0;
    uint64_t one = 0x3ff0000000000000ull;
    uint16_t before;

    pg_map(exact_pd, 0xfffff000u, (uint32_t)top, PG_RW);
    top[1023] = 0x11111111;
    volatile uint32_t *zero = (volatile uint32_t *)page0;

    *zero = 0x22222222;                         /* through the identity map, still present */
    *pte0 = saved & ~PG_P;
    invlpg(zero);
    __asm__ volatile("fninit");
    before = fsw();
    trap_reset();
    __asm__ volatile(TRY_BEGIN "fldl 0xfffffffc" TRY_END ::: "memory");
    CHECK_PF(0, 0);
    CHECK_EQ(fsw(), before);
    *pte0 = saved & ~PG_RW;
    invlpg(zero);
    __asm__ volatile("fldl %0" : : "m"(one));
    before = fsw();
    trap_reset();
    __asm__ volatile(TRY_BEGIN "fstpl 0xfffffffc" TRY_END ::: "memory");
    CHECK_PF(PFE_P | PFE_W, 0);
    CHECK_EQ(fsw(), before);                    /* not popped */
    CHECK_EQ(top[1023], 0x11111111u);           /* nothing written on the first page */
    *pte0 = saved;
    invlpg(zero);
    __asm__ volatile("fstpl 0xfffffffc" ::: "memory");
    CHECK_EQ(top[1023], 0u);
    CHECK_EQ(*zero, 0x3ff00000u);
    __asm__ volatile("fninit");
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    test_outer_return_nulls();
    test_de_double_fault();
    test_iobitmap_wide();
    test_tsd();
    test_ss_base();
    exact_pd = pg_kernel_pd();
    pg_install_pf();
    pg_enable(exact_pd);
    test_rep_pf_based_es();
    test_cr3_code();
    test_task_cr3();
    test_pf_task_gate();
    test_x87_wrap_paged();
    test_finish("pg_exact");
}
