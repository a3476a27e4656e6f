/* sys_debug.c — the guest's debug exceptions (SDM vol. 3B §17.2-17.3):
 * EFLAGS.TF single-stepping with the rules for POPF, IRET, INT n, STI and
 * MOV SS; DR0-DR3 instruction breakpoints and RF; DR6/DR7 fixed bits,
 * DR4/DR5 aliasing and CR4.DE; DR7.GD. Self-checking.
 *
 * Vector 1 goes to db_stub, which records the frame's EIP, EFLAGS and DR6
 * of every #DB (and sets RF in the frame when db_set_rf, so that a
 * breakpoint's instruction runs on return). */
#include "sys_lib.h"

#define MAX_DB 32
volatile uint32_t db_n, db_set_rf, db_eip[MAX_DB], db_efl[MAX_DB], db_dr6[MAX_DB];

__asm__(".text\n"
        "db_stub:\n\t"
        "pushl %eax\n\tpushl %ecx\n\t"
        "movl db_n, %ecx\n\t"
        "cmpl $" "32" ", %ecx\n\tjae 1f\n\t"
        "movl 8(%esp), %eax\n\tmovl %eax, db_eip(,%ecx,4)\n\t"
        "movl 16(%esp), %eax\n\tmovl %eax, db_efl(,%ecx,4)\n\t"
        "movl %dr6, %eax\n\tmovl %eax, db_dr6(,%ecx,4)\n"
        "1:\tincl db_n\n\t"
        "cmpl $0, db_set_rf\n\tje 2f\n\t"
        "orl $0x10000, 16(%esp)\n"
        "2:\tpopl %ecx\n\tpopl %eax\n\tiret\n");
extern char db_stub[];

/* Labels inside the stepped sequences. */
extern char tf_a1[], tf_a2[], tf_a3[], tf_a4[], tf_a5[], tf_a6[];
extern char tf_b1[], tf_b3[], tf_c1[], tf_d1[], tf_d2[], tf_s1[];
extern char bp_fn[], bp_loop[];

#define SET_TF   "pushfl\n\torl $0x100, (%%esp)\n\tpopfl\n\t"
#define CLEAR_TF "pushfl\n\tandl $~0x100, (%%esp)\n\tpopfl\n\t"

static void db_reset(void)
{
    db_n = 0;
    db_set_rf = 0;
    __asm__ volatile("movl %0, %%dr6" : : "r"(0u));
}

static uint32_t read_dr6(void) { uint32_t v; __asm__ volatile("movl %%dr6, %0" : "=r"(v)); return v; }
static uint32_t read_dr7(void) { uint32_t v; __asm__ volatile("movl %%dr7, %0" : "=r"(v)); return v; }
static void write_dr7(uint32_t v) { __asm__ volatile("movl %0, %%dr7" : : "r"(v) : "memory"); }

/* The POPF that sets TF is not trapped, each instruction after it is, and
 * so is the POPF that clears it (§17.3.1.4). */
static void test_tf_count(void)
{
    db_reset();
    __asm__ volatile(SET_TF
                     "nop\n"
                     ".globl tf_a1\ntf_a1:\tnop\n"
                     ".globl tf_a2\ntf_a2:\tmovl $1, %%eax\n"
                     ".globl tf_a3\ntf_a3:\tpushfl\n"
                     ".globl tf_a4\ntf_a4:\tandl $~0x100, (%%esp)\n"
                     ".globl tf_a5\ntf_a5:\tpopfl\n"
                     ".globl tf_a6\ntf_a6:\n"
                     ::: "eax", "memory", "cc");
    CHECK_EQ(db_n, 6);
    CHECK_EQ(db_eip[0], (uint32_t)tf_a1);
    CHECK_EQ(db_eip[1], (uint32_t)tf_a2);
    CHECK_EQ(db_eip[2], (uint32_t)tf_a3);
    CHECK_EQ(db_eip[3], (uint32_t)tf_a4);
    CHECK_EQ(db_eip[4], (uint32_t)tf_a5);
    CHECK_EQ(db_eip[5], (uint32_t)tf_a6);
    CHECK(db_efl[0] & 0x100);                   /* TF is in the pushed image */
    CHECK(db_dr6[0] & (1u << 14));              /* DR6.BS */
    CHECK_EQ(db_dr6[0] & 0xf, 0);
    CHECK(!(read_eflags() & 0x100));
    /* A loop that would otherwise run as one chained block: every
     * iteration's instructions trap (3 per iteration). */
    db_reset();
    __asm__ volatile("movl $5, %%ecx\n\t" SET_TF "1:\tdecl %%ecx\n\tnop\n\tjnz 1b\n\t" CLEAR_TF
                     ::: "ecx", "memory", "cc");
    CHECK_EQ(db_n, 5 * 3 + 3);
}

/* MOV SS holds the trap for one instruction (§6.8.3); STI does not. */
static void test_tf_shadows(void)
{
    db_reset();
    __asm__ volatile(SET_TF
                     "nop\n"
                     ".globl tf_b1\ntf_b1:\tmovw %%dx, %%ss\n\t"
                     "nop\n"
                     ".globl tf_b3\ntf_b3:\t" CLEAR_TF
                     : : "d"((uint32_t)SEL_KDATA) : "memory", "cc");
    CHECK_EQ(db_n, 1 + 1 + 3);
    CHECK_EQ(db_eip[0], (uint32_t)tf_b1);
    CHECK_EQ(db_eip[1], (uint32_t)tf_b3);       /* none after MOV SS itself */

    db_reset();
    __asm__ volatile("cli\n\t" SET_TF "sti\n"
                     ".globl tf_s1\ntf_s1:\tcli\n\t" CLEAR_TF "sti" ::: "memory", "cc");
    CHECK_EQ(db_n, 1 + 1 + 3);
    CHECK_EQ(db_eip[0], (uint32_t)tf_s1);       /* STI itself traps */
}

/* IRET that sets TF: the trap comes after the first instruction it
 * returns to. */
static void test_tf_iret(void)
{
    db_reset();
    __asm__ volatile("pushfl\n\torl $0x100, (%%esp)\n\tpushl %%cs\n\tpushl $1f\n\tiret\n"
                     "1:\tnop\n"
                     ".globl tf_c1\ntf_c1:\t" CLEAR_TF ::: "memory", "cc");
    CHECK_EQ(db_n, 1 + 3);
    CHECK_EQ(db_eip[0], (uint32_t)tf_c1);
}

/* INT n clears TF for the handler (which saves it in the frame); its IRET
 * sets TF again, so the next trap is after the instruction after INT. */
static void test_tf_int(void)
{
    uint32_t sum;
    db_reset();
    trap_reset();
    __asm__ volatile(SET_TF
                     "int $0x80\n"
                     ".globl tf_d1\ntf_d1:\tnop\n"
                     ".globl tf_d2\ntf_d2:\t" CLEAR_TF
                     : "=a"(sum) : "b"(2), "c"(3) : "memory", "cc");
    CHECK_EQ(sum, 5);
    CHECK_EQ(last_trap.vector, 0x80);
    CHECK(last_trap.eflags & 0x100);            /* TF saved in the INT's frame */
    CHECK(!(last_trap.handler_eflags & 0x100)); /* and clear in the handler */
    CHECK_EQ(db_n, 1 + 3);
    CHECK_EQ(db_eip[0], (uint32_t)tf_d2);
}

__asm__(".text\n.globl bp_fn\nbp_fn:\tmovl $7, %eax\n\tret\n"
        /* uint32_t bp_loop_fn(ECX = n): a loop of n iterations, EAX = n */
        "bp_loop_fn:\txorl %eax, %eax\n"
        "1:\t.globl bp_loop\nbp_loop:\tincl %eax\n\tloop 1b\n\tret\n");
extern char bp_loop_fn[];

static uint32_t run_loop(uint32_t n)
{
    uint32_t r;
    __asm__ volatile("call bp_loop_fn" : "=a"(r), "+c"(n) : : "edx", "memory", "cc");
    return r;
}

/* DR0-DR3 execution breakpoints: a fault before the instruction, DR6.Bn;
 * RF in the frame lets it run on return. */
static void test_exec_bp(void)
{
    uint32_t r, n;

    db_reset();
    db_set_rf = 1;
    __asm__ volatile("movl %0, %%dr0" : : "r"((uint32_t)bp_fn));
    write_dr7(0x400 | 1);                       /* L0, R/W0 = 00: execution */
    __asm__ volatile("call bp_fn" : "=a"(r) : : "ecx", "edx", "memory");
    CHECK_EQ(r, 7);
    CHECK_EQ(db_n, 1);
    CHECK_EQ(db_eip[0], (uint32_t)bp_fn);
    CHECK_EQ(db_dr6[0] & 0x400f, 1);            /* B0, not BS */
    CHECK(!(db_efl[0] & 0x10000));              /* RF is the handler's to set */
    __asm__ volatile("call bp_fn" : "=a"(r) : : "ecx", "edx", "memory");
    CHECK_EQ(db_n, 2);

    /* DR1 (global enable) inside a loop that is one block otherwise. */
    db_reset();
    db_set_rf = 1;
    __asm__ volatile("movl %0, %%dr1" : : "r"((uint32_t)bp_loop));
    write_dr7(0x400 | 1 << 3);                  /* G1 */
    n = run_loop(10);
    CHECK_EQ(n, 10);
    CHECK_EQ(db_n, 10);
    CHECK_EQ(db_dr6[9] & 0xf, 2);               /* B1 */
    /* R/W1 = 01 (a data write breakpoint) is not an execution breakpoint. */
    db_reset();
    write_dr7(0x400 | 1 << 3 | 1 << 20);
    CHECK_EQ(run_loop(3), 3);
    CHECK_EQ(db_n, 0);
    /* Disabled: no trap. */
    write_dr7(0x400);
    __asm__ volatile("call bp_fn" : "=a"(r) : : "ecx", "edx", "memory");
    CHECK_EQ(db_n, 0);
}

static uint32_t read_dr4_raw(void)
{
    uint32_t v;
    __asm__ volatile(".byte 0x0f, 0x21, 0xe0" : "=a"(v));   /* mov eax, dr4 */
    return v;
}

/* DR6/DR7 fixed bits, DR4/DR5 aliases, CR4.DE, DR7.GD. */
static void test_dr_regs(void)
{
    uint32_t v;

    __asm__ volatile("movl %0, %%dr6" : : "r"(0u));
    CHECK_EQ(read_dr6(), 0xffff0ff0u);
    __asm__ volatile("movl %0, %%dr6" : : "r"(0xffffffffu));
    CHECK_EQ(read_dr6(), 0xffffeff0u | 0xf);
    write_dr7(0xffffdfffu);                     /* all but GD; R/W = 11: no execution breakpoints */
    CHECK_EQ(read_dr7(), 0xffff07ffu);
    write_dr7(0);
    CHECK_EQ(read_dr7(), 0x400);
    __asm__ volatile("movl %0, %%dr3" : : "r"(0x12345678u));
    __asm__ volatile("movl %%dr3, %0" : "=r"(v));
    CHECK_EQ(v, 0x12345678u);
    __asm__ volatile("movl %0, %%dr6" : : "r"(0u));
    CHECK_EQ(read_dr4_raw(), 0xffff0ff0u);      /* DR4 is DR6 while CR4.DE = 0 */
    write_cr4(read_cr4() | 8);
    trap_reset();
    __asm__ volatile(TRY_BEGIN ".byte 0x0f, 0x21, 0xe0" TRY_END : : : "eax", "memory");
    CHECK_TRAP(6, 0);
    write_cr4(read_cr4() & ~8u);

    /* GD: the next MOV DR is a #DB fault with DR6.BD, and GD is cleared. */
    set_trap_gate_default(1);
    write_dr7(0x400 | 1u << 13);
    trap_reset();
    __asm__ volatile(TRY_BEGIN "movl %%dr0, %%eax" TRY_END : : : "eax", "memory");
    CHECK_TRAP(1, 0);
    CHECK_EQ(read_dr7(), 0x400);
    CHECK(read_dr6() & (1u << 13));
    set_gate(1, (uint32_t)db_stub, SEL_KCODE, 0xe, 0);
}

static void user_mov_dr(void)
{
    __asm__ volatile(TRY_BEGIN "movl %%dr7, %%eax" TRY_END : : : "eax", "memory");
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    (void)magic;
    (void)mbi;
    sys_init();
    set_gate(1, (uint32_t)db_stub, SEL_KCODE, 0xe, 0);
    test_tf_count();
    test_tf_shadows();
    test_tf_iret();
    test_tf_int();
    test_exec_bp();
    test_dr_regs();
    trap_reset();
    run_user(user_mov_dr, 0);                   /* CPL 3: #GP(0) */
    CHECK_TRAP(13, 0);
    test_finish("sys_debug");
}
