/* rstack — returns that a shadow return stack (bt/xlate_rstack.c) must not
 * get wrong: every way a guest RET can go somewhere else than the
 * instruction after the CALL that pushed its slot, or through a slot a
 * deeper call overwrote. Each case checks where execution arrived and what
 * it computed. Run with --rstack (the mechanism), without it, and with
 * --no-chain; the results must be the same. */
#include "sys_lib.h"

/* Deep recursion: 600 frames alias every slot of the 256-entry table
 * several times over; each return must still reach its own caller. */
static uint32_t __attribute__((noinline)) deep(uint32_t n)
{
    if (n == 0)
        return 0;
    return deep(n - 1) + n * 3 + (n & 1);
}

static uint32_t __attribute__((noinline)) fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/* A hand-built return address: push a label and RET to it. */
uint32_t handmade_ret(void);
__asm__(".text\n"
        "handmade_ret:\n"
        "    movl $1, %eax\n"
        "    pushl $1f\n"
        "    ret\n"
        "    movl $99, %eax\n"          /* skipped */
        "1:  addl $10, %eax\n"
        "    ret\n");

/* The callee moves its own return address past the caller's next
 * instruction (the slot's landing pad names that instruction). */
uint32_t skip_caller(void);
uint32_t call_skipper(void);
__asm__(".text\n"
        "skip_caller:\n"
        "    addl $5, (%esp)\n"
        "    ret\n"
        "call_skipper:\n"
        "    movl $7, %eax\n"
        "    call skip_caller\n"
        "    movl $99, %eax\n"          /* 5 bytes: skipped */
        "    addl $1, %eax\n"
        "    ret\n");

/* setjmp/longjmp: the CALLs between them never return; the RETs after
 * the longjmp go to frames whose slots were overwritten meanwhile. */
static struct jbuf jb;
static volatile uint32_t dived;
static void __attribute__((noinline)) dive(uint32_t n)
{
    if (n == 0) {
        my_longjmp(&jb, 42);
        return;
    }
    dive(n - 1);
    dived++;                    /* never: keeps the call a call */
}

static uint32_t __attribute__((noinline)) try_longjmp(void)
{
    uint32_t v = (uint32_t)my_setjmp(&jb);
    if (v == 0) {
        dive(20);
        return 1;               /* never */
    }
    return v + 1;
}

/* Stack switch: call a function with ESP on another stack, whose slots
 * differ; then return on the original stack. */
static uint32_t other_stack[256] __attribute__((aligned(16)));
uint32_t on_other_stack(uint32_t (*fn)(uint32_t), uint32_t arg, uint32_t *top);
__asm__(".text\n"
        "on_other_stack:\n"
        "    pushl %ebp\n"
        "    movl %esp, %ebp\n"
        "    movl 8(%ebp), %eax\n"       /* fn */
        "    movl 12(%ebp), %ecx\n"      /* arg */
        "    movl 16(%ebp), %esp\n"      /* the other stack */
        "    pushl %ecx\n"
        "    call *%eax\n"
        "    movl %ebp, %esp\n"
        "    popl %ebp\n"
        "    ret\n");

/* A stack switch between CALL and RET: the callee returns through a copy of
 * its frame on another stack (the same return address at another ESP). */
uint32_t ret_from_copy(uint32_t *top);
uint32_t call_ret_from_copy(uint32_t *top);
__asm__(".text\n"
        "ret_from_copy:\n"
        "    movl 4(%esp), %ecx\n"       /* top of the other stack */
        "    movl (%esp), %edx\n"        /* our return address */
        "    movl %esp, -4(%ecx)\n"      /* the old ESP, for after */
        "    movl %edx, -8(%ecx)\n"
        "    leal -8(%ecx), %esp\n"
        "    movl $5, %eax\n"
        "    ret\n"                      /* to the caller, on the other stack */
        "call_ret_from_copy:\n"
        "    movl 4(%esp), %ecx\n"
        "    pushl %ecx\n"
        "    call ret_from_copy\n"
        "    popl %esp\n"                /* back: the old ESP, at the return address */
        "    addl $8, %esp\n"            /* past it and the pushed argument */
        "    addl $3, %eax\n"
        "    ret\n");

/* RET imm16 (stdcall) and a far return to the same code segment. */
uint32_t __attribute__((stdcall, noinline)) stdcall_sum(uint32_t a, uint32_t b)
{
    return a + b;
}
uint32_t far_ret(void);
__asm__(".text\n"
        "far_ret:\n"
        "    pushl %cs\n"
        "    pushl $1f\n"
        "    movl $3, %eax\n"
        "    lret\n"
        "    movl $99, %eax\n"
        "1:  addl $4, %eax\n"
        "    ret\n");
/* A near call returned from with a far return, and the reverse mismatch:
 * lcall to a function that returns near (the CS stays pushed). */
uint32_t lret_from_near_call(void);
__asm__(".text\n"
        "lret_target:\n"
        "    movl $6, %eax\n"
        "    lret\n"
        "lret_from_near_call:\n"
        "    pushl %cs\n"
        "    call lret_target\n"         /* pushes EIP above CS: a far frame */
        "    addl $1, %eax\n"
        "    ret\n");

/* An interrupt (INT 0x80 through the IDT, IRET back) between CALL and RET. */
uint32_t int_inside(uint32_t b, uint32_t c);
__asm__(".text\n"
        "int_inside:\n"
        "    pushl %ebx\n"
        "    movl 8(%esp), %ebx\n"
        "    movl 12(%esp), %ecx\n"
        "    int $0x80\n"                /* eax = ebx + ecx */
        "    popl %ebx\n"
        "    ret\n");

/* Return into rewritten code: the callee patches the immediate of the
 * instruction its RET goes to, after that instruction was translated (and
 * its landing pad recorded) by earlier calls. */
uint32_t smc_return(uint32_t v);
extern uint8_t smc_ret_imm[];
__asm__(".text\n"
        "smc_patch:\n"
        "    movl 4(%esp), %eax\n"
        "    movl %eax, smc_ret_imm\n"
        "    ret\n"
        "smc_return:\n"
        "    pushl 4(%esp)\n"
        "    call smc_patch\n"
        "    addl $4, %esp\n"
        "    movl $0x11111111, %eax\n"
        "smc_ret_imm = . - 4\n"
        "    ret\n");

/* A mode change between CALL and RET: the callee sets CR0.TS, so the x87
 * instruction after the return must raise #NM (SDM vol. 3A §2.5) even
 * though the same return was taken, and its target translated, with TS
 * clear (a landing pad of the old mode must not be used). */
uint32_t ts_return(uint32_t set_ts);
extern const uint8_t ts_fpu[], ts_resume[];
__asm__(".text\n"
        "ts_maybe_set:\n"
        "    cmpl $0, 4(%esp)\n"
        "    je 1f\n"
        "    movl %cr0, %eax\n"
        "    orl $8, %eax\n"
        "    movl %eax, %cr0\n"
        "1:  ret\n"
        "ts_return:\n"
        "    pushl 4(%esp)\n"
        "    call ts_maybe_set\n"
        "ts_fpu:\n"
        "    fninit\n"
        "    addl $4, %esp\n"
        "    movl $1, %eax\n"
        "    ret\n"
        "ts_resume:\n"
        "    clts\n"
        "    addl $4, %esp\n"
        "    movl $2, %eax\n"
        "    ret\n");

static void check_mode_change(void)
{
    for (int i = 0; i < 3; i++)
        CHECK_EQ(ts_return(0), 1u);
    trap_reset();
    resume_eip = (uint32_t)ts_resume;
    CHECK_EQ(ts_return(1), 2u);
    CHECK_EQ(last_trap.vector, 7);
    CHECK_EQ(last_trap.eip, (uint32_t)ts_fpu);
    CHECK_EQ(ts_return(0), 1u);
}

static void check_smc_return(void)
{
    CHECK_EQ(smc_return(0x11111111), 0x11111111);
    CHECK_EQ(smc_return(0x11111111), 0x11111111);
    CHECK_EQ(smc_return(0x22222222), 0x22222222);
    CHECK_EQ(smc_return(0x33333333), 0x33333333);
    CHECK_EQ(smc_return(0x33333333), 0x33333333);
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    for (int round = 0; round < 3; round++) {     /* translated, then chained */
        CHECK_EQ(deep(600), 541200u);
        CHECK_EQ(fib(15), 610u);
        CHECK_EQ(handmade_ret(), 11u);
        CHECK_EQ(call_skipper(), 8u);
        CHECK_EQ(try_longjmp(), 43u);
        CHECK_EQ(on_other_stack((uint32_t (*)(uint32_t))fib, 12, &other_stack[256]), 144u);
        CHECK_EQ(call_ret_from_copy(&other_stack[128]), 8u);
        CHECK_EQ(stdcall_sum(20, 22), 42u);
        CHECK_EQ(far_ret(), 7u);
        CHECK_EQ(lret_from_near_call(), 7u);
        CHECK_EQ(int_inside(30, 12), 42u);
        CHECK_EQ(fib(10), 55u);
    }
    check_smc_return();
    check_mode_change();
    test_finish("rstack");
}
