/* sys_databp.c — the guest's DR0-DR3 data breakpoints (SDM vol. 3B
 * §17.2.4-17.2.5, §17.3.1.2): R/W = 01 (writes) and 11 (reads or writes),
 * LEN = 1, 2, 4 bytes, local and global enables; #DB is a trap taken after
 * the accessing instruction (EIP after it, the access done) with DR6.Bn
 * set for each breakpoint it matched. Accesses through explicit operands,
 * the stack (PUSH, CALL), and REP strings (bt86 traps after the whole
 * instruction; a CPU, and QEMU, after the iteration that hit, with EIP at
 * the REP: both are accepted). -append exact: an instruction that faults
 * after its access raises no #DB (the trap belongs to a completed
 * instruction; QEMU's TCG raises one), and DR6 names every breakpoint
 * that matched (QEMU's only the first); -append io: I/O breakpoints (R/W =
 * 10 with CR4.DE), which QEMU's TCG does not implement. Self-checking.
 *
 * Vector 1 goes to db_stub, which records the frame's EIP and DR6. */
#include "sys_lib.h"

#define MAX_DB 8
volatile uint32_t db_n, db_eip[MAX_DB], db_dr6[MAX_DB];
volatile uint32_t watched[8] __attribute__((aligned(16)));
volatile uint32_t sink;

__asm__(".text\n"
        "db_stub:\n\t"
        "pushl %eax\n\tpushl %ecx\n\t"
        "movl db_n, %ecx\n\t"
        "cmpl $" "8" ", %ecx\n\tjae 1f\n\t"
        "movl 8(%esp), %eax\n\tmovl %eax, db_eip(,%ecx,4)\n\t"
        "movl %dr6, %eax\n\tmovl %eax, db_dr6(,%ecx,4)\n"
        "1:\tincl db_n\n\t"
        "popl %ecx\n\tpopl %eax\n\tiret\n");
extern char db_stub[];
extern char after_w1[], after_r1[], after_w2[], after_push[], at_rep[], after_rep[], after_call[];
extern char after_out[], after_in[];

/* DR7 for breakpoint n: enable bit (L or G), R/W and LEN fields. */
#define DR7_L(n)       (1u << (2 * (n)))
#define DR7_G(n)       (2u << (2 * (n)))
#define DR7_RW(n, rw)  ((uint32_t)(rw) << (16 + 4 * (n)))
#define DR7_LEN(n, l)  ((uint32_t)((l) == 1 ? 0 : (l) == 2 ? 1 : 3) << (18 + 4 * (n)))
#define RW_WRITE 1
#define RW_IO    2
#define RW_RW    3

static int exact;                                   /* -append exact: bt86's (the SDM's) answers */

static void db_reset(void)
{
    db_n = 0;
    __asm__ volatile("movl %0, %%dr6" : : "r"(0u));
}

static void write_dr7(uint32_t v) { __asm__ volatile("movl %0, %%dr7" : : "r"(v | 0x400) : "memory"); }
static void set_dr(int n, uint32_t a)
{
    switch (n) {
    case 0: __asm__ volatile("movl %0, %%dr0" : : "r"(a)); break;
    case 1: __asm__ volatile("movl %0, %%dr1" : : "r"(a)); break;
    case 2: __asm__ volatile("movl %0, %%dr2" : : "r"(a)); break;
    default: __asm__ volatile("movl %0, %%dr3" : : "r"(a)); break;
    }
}

/* R/W = 01, LEN 4: a store hits after it is done, a load does not. */
static void test_write_bp(void)
{
    db_reset();
    set_dr(0, (uint32_t)&watched[1]);
    write_dr7(DR7_L(0) | DR7_RW(0, RW_WRITE) | DR7_LEN(0, 4));
    __asm__ volatile("movl $5, watched+4\n.globl after_w1\nafter_w1:" ::: "memory");
    CHECK_EQ(db_n, 1);
    CHECK_EQ(db_eip[0], (uint32_t)after_w1);        /* a trap: EIP after the store */
    CHECK_EQ(db_dr6[0] & 0x400f, 1);                /* B0, not BS */
    CHECK_EQ(watched[1], 5);                        /* the store was done */
    sink = watched[1];                              /* a load: nothing */
    watched[0] = 1;                                 /* next to it: nothing */
    watched[2] = 1;
    CHECK_EQ(db_n, 1);
    /* a byte store into the last byte of the 4 */
    __asm__ volatile("movb $9, watched+7" ::: "memory");
    CHECK_EQ(db_n, 2);
    CHECK_EQ(watched[1], 0x09000005);
    /* disabled: nothing */
    write_dr7(DR7_RW(0, RW_WRITE) | DR7_LEN(0, 4));
    watched[1] = 3;
    CHECK_EQ(db_n, 2);
    write_dr7(0);
}

/* R/W = 11, LEN 2, global enable: loads and stores hit; the address range
 * is the aligned 2 bytes only. Two breakpoints on one byte: both Bn. */
static void test_rw_bp(void)
{
    uint32_t v;

    db_reset();
    set_dr(2, (uint32_t)&watched[2]);
    write_dr7(DR7_G(2) | DR7_RW(2, RW_RW) | DR7_LEN(2, 2));
    __asm__ volatile("movzbl watched+9, %0\n.globl after_r1\nafter_r1:" : "=r"(v) : : "memory");
    CHECK_EQ(db_n, 1);
    CHECK_EQ(db_eip[0], (uint32_t)after_r1);
    CHECK_EQ(db_dr6[0] & 0xf, 4);                   /* B2 */
    sink = *(volatile uint8_t *)((uint32_t)&watched[2] + 2);   /* outside the 2 bytes */
    CHECK_EQ(db_n, 1);
    /* an unaligned word store that overlaps byte 8 from byte 7 */
    __asm__ volatile("movw $0x1234, watched+7\n.globl after_w2\nafter_w2:" ::: "memory");
    CHECK_EQ(db_n, 2);
    CHECK_EQ(db_eip[1], (uint32_t)after_w2);
    /* DR3 (local, write, 1 byte) on the same byte: one #DB, B2 and B3 */
    set_dr(3, (uint32_t)&watched[2]);
    write_dr7(DR7_G(2) | DR7_RW(2, RW_RW) | DR7_LEN(2, 2) | DR7_L(3) | DR7_RW(3, RW_WRITE) |
              DR7_LEN(3, 1));
    __asm__ volatile("xorl %%eax, %%eax\n\tmovl %%eax, %%dr6\n\tincb watched+8" ::: "eax", "memory");
    CHECK_EQ(db_n, 3);
    CHECK_EQ(db_dr6[2] & 0xf, exact ? 0xc : db_dr6[2] & 0xc);   /* QEMU: only the first */
    write_dr7(0);
}

/* Implicit accesses: PUSH and CALL write the stack, REP STOS the span. */
static void test_implicit(void)
{
    uint32_t slot, ecx;

    db_reset();
    __asm__ volatile("movl %%esp, %0" : "=r"(slot));
    slot -= 4;                                      /* where the PUSH below writes */
    set_dr(1, slot);
    write_dr7(DR7_L(1) | DR7_RW(1, RW_WRITE) | DR7_LEN(1, 4));
    __asm__ volatile("pushl $7\n.globl after_push\nafter_push:\n\taddl $4, %%esp" ::: "memory");
    CHECK_EQ(db_n, 1);
    CHECK_EQ(db_eip[0], (uint32_t)after_push);
    CHECK_EQ(db_dr6[0] & 0xf, 2);
    /* CALL's return address: the #DB comes at the call's target */
    __asm__ volatile("call 1f\n1:\t.globl after_call\nafter_call:\n\taddl $4, %%esp" ::: "memory");
    CHECK_EQ(db_n, 2);
    CHECK_EQ(db_eip[1], (uint32_t)after_call);
    write_dr7(0);

    /* REP STOSD over watched[0..5]: one #DB after the whole instruction */
    set_dr(0, (uint32_t)&watched[3]);
    write_dr7(DR7_L(0) | DR7_RW(0, RW_RW) | DR7_LEN(0, 4));
    __asm__ volatile("cld\n.globl at_rep\nat_rep:\trep stosl\n.globl after_rep\nafter_rep:"
                     : "=c"(ecx) : "D"(watched), "a"(0x77u), "0"(6u) : "memory");
    CHECK_EQ(db_n, 3);
    CHECK(db_eip[2] == (uint32_t)after_rep || db_eip[2] == (uint32_t)at_rep);
    CHECK_EQ(ecx, 0);
    CHECK_EQ(watched[5], 0x77);
    write_dr7(0);
}

/* An instruction that faults raises its fault, not #DB: a DIV reading the
 * watched dword divides by zero. */
static void test_fault(void)
{
    db_reset();
    set_dr(0, 0);
    write_dr7(DR7_L(0) | DR7_RW(0, RW_RW) | DR7_LEN(0, 4));
    trap_reset();
    /* division by zero with a memory divisor at the breakpoint: #DE, no #DB */
    __asm__ volatile("movl $0, 0" ::: "memory");
    __asm__ volatile(TRY_BEGIN "divl 0" TRY_END : : "a"(1), "d"(0) : "memory");
    CHECK_TRAP(0, 0);
    CHECK_EQ(db_n, exact ? 1 : db_n);               /* the store hit; the DIV did not */
    write_dr7(0);
}

/* R/W = 10 with CR4.DE: IN and OUT on the ports. */
static void test_io_bp(void)
{
    uint32_t v;

    db_reset();
    write_cr4(read_cr4() | 8);
    set_dr(0, 0x80);
    write_dr7(DR7_L(0) | DR7_RW(0, RW_IO) | DR7_LEN(0, 1));
    __asm__ volatile("outb %%al, $0x80\n.globl after_out\nafter_out:" : : "a"(1));
    CHECK_EQ(db_n, 1);
    CHECK_EQ(db_eip[0], (uint32_t)after_out);
    CHECK_EQ(db_dr6[0] & 0xf, 1);
    __asm__ volatile("inb %%dx, %%al\n.globl after_in\nafter_in:" : "=a"(v) : "d"(0x80));
    CHECK_EQ(db_n, 2);
    CHECK_EQ(db_eip[1], (uint32_t)after_in);
    __asm__ volatile("inb $0x81, %%al" : "=a"(v));  /* another port */
    CHECK_EQ(db_n, 2);
    /* without CR4.DE, R/W = 10 is undefined: bt86 arms nothing */
    write_cr4(read_cr4() & ~8u);
    write_dr7(DR7_L(0) | DR7_RW(0, RW_IO) | DR7_LEN(0, 1));
    __asm__ volatile("outb %%al, $0x80" : : "a"(1));
    CHECK_EQ(db_n, 2);
    write_dr7(0);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    (void)magic;
    exact = strstr(mb_args(mbi), "exact") != NULL;
    sys_init();
    set_gate(1, (uint32_t)db_stub, SEL_KCODE, 0xe, 0);
    test_write_bp();
    test_rw_bp();
    test_implicit();
    test_fault();
    if (strstr(mb_args(mbi), "io"))
        test_io_bp();
    test_finish("sys_databp");
}
