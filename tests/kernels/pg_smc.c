/* pg_smc — self-modifying code (DESIGN §3; SDM vol. 3A §8.1.3: a store to
 * code is seen by the instructions fetched after it), with paging off and
 * then on: a loop that patches the immediate of its own instruction; an
 * instruction whose immediate the instruction before it patches (same
 * block); a JIT buffer written then called, rewritten and called again,
 * written through one linear alias and run through another; a function
 * copied over another with REP MOVS; and a page that holds both code and
 * data that is written all the time (the data stores must not change what
 * the code does, nor cost a retranslation each). */
#include "pg_lib.h"

#define JIT_W 0x50000000u       /* the JIT frame, written here ... */
#define JIT_X 0x50400000u       /* ... and run here (paging on) */

/* ---- code that patches itself ---------------------------------------------- */

uint32_t smc_imm_loop(uint32_t n);       /* sum of the immediates it ran */
uint32_t smc_forward(uint32_t v);        /* patches the next instruction: returns v */
uint32_t smc_page_fn(void);              /* sum of smc_page_data[0..3] */
extern uint8_t smc_imm[];                /* the immediate smc_imm_loop patches */
extern volatile uint32_t smc_page_data[16];

__asm__(".section .text.smc, \"awx\"\n"
        ".globl smc_imm_loop, smc_forward, smc_imm\n"
        "smc_imm_loop:\n"
        "    push %ebx\n"
        "    mov 8(%esp), %ecx\n"
        "    xor %ebx, %ebx\n"
        "1:  .byte 0xb8\n"                  /* mov eax, imm32 */
        "smc_imm: .long 0\n"
        "    add %eax, %ebx\n"
        "    mov %ecx, smc_imm\n"           /* the next round's immediate */
        "    loop 1b\n"
        "    mov %ebx, %eax\n"
        "    pop %ebx\n"
        "    ret\n"
        "smc_forward:\n"
        "    mov 4(%esp), %eax\n"
        "    mov %eax, 2f + 1\n"
        "2:  mov $0, %eax\n"
        "    ret\n"
        /* A page of code and data. */
        ".balign 4096\n"
        ".globl smc_page_fn, smc_page_data\n"
        "smc_page_fn:\n"
        "    mov smc_page_data, %eax\n"
        "    add smc_page_data + 4, %eax\n"
        "    add smc_page_data + 8, %eax\n"
        "    add smc_page_data + 12, %eax\n"
        "    ret\n"
        ".balign 256\n"
        "smc_page_data: .fill 16, 4, 0\n"
        ".balign 4096\n"
        ".text\n");

static void test_imm_loop(const char *mode)
{
    for (uint32_t n = 1; n < 200; n += 17) {
        *(volatile uint32_t *)smc_imm = 0;
        CHECK_EQ_CTX(smc_imm_loop(n), n * (n + 1) / 2 - 1, "%s, n %u", mode, n);
        CHECK_EQ(*(volatile uint32_t *)smc_imm, 1);
    }
}

static void test_forward(const char *mode)
{
    for (uint32_t i = 0; i < 300; i++)
        CHECK_EQ_CTX(smc_forward(i * 0x01010101u), i * 0x01010101u, "%s, round %u", mode, i);
}

/* ---- a JIT buffer -------------------------------------------------------------- */

static uint8_t jit_buf[4096] __attribute__((aligned(4096)));

/* mov eax, imm; ret */
static void emit_const(volatile uint8_t *p, uint32_t imm)
{
    p[0] = 0xb8;
    p[1] = (uint8_t)imm;
    p[2] = (uint8_t)(imm >> 8);
    p[3] = (uint8_t)(imm >> 16);
    p[4] = (uint8_t)(imm >> 24);
    p[5] = 0xc3;
}

/* xor eax,eax; 1: add eax,ecx; loop 1b; ret  -- with ecx = n: n(n+1)/2 */
static void emit_sum(volatile uint8_t *p)
{
    static const uint8_t code[] = { 0x31, 0xc0, 0x01, 0xc8, 0xe2, 0xfc, 0xc3 };
    for (unsigned i = 0; i < sizeof code; i++)
        p[i] = code[i];
}

static uint32_t call_at(uint32_t at, uint32_t ecx)
{
    uint32_t r;
    __asm__ volatile("call *%1" : "=a"(r) : "r"(at), "c"(ecx) : "edx", "memory");
    return r;
}

static void test_jit(const char *mode, uint32_t wr, uint32_t run)
{
    for (uint32_t i = 0; i < 500; i++) {
        uint32_t off = (i * 64) & 0xfff;
        if (off > 4096 - 16)
            off = 0;
        emit_const((volatile uint8_t *)(wr + off), i * 3 + 1);
        CHECK_EQ_CTX(call_at(run + off, 0), i * 3 + 1, "%s, round %u", mode, i);
    }
    /* The same bytes, rewritten in place many times. */
    for (uint32_t i = 0; i < 300; i++) {
        emit_const((volatile uint8_t *)wr, i);
        CHECK_EQ_CTX(call_at(run, 0), i, "%s, in place %u", mode, i);
    }
    emit_sum((volatile uint8_t *)(wr + 0x800));
    CHECK_EQ(call_at(run + 0x800, 100), 5050);
    /* A function copied over another with REP MOVS. */
    {
        uint8_t tmp[8];
        emit_const(tmp, 0xabcdef01);
        __asm__ volatile("rep movsb" : : "S"(tmp), "D"(wr + 0x800), "c"(6) : "memory");
        CHECK_EQ(call_at(run + 0x800, 100), 0xabcdef01);
    }
}

/* ---- code and data on one page ------------------------------------------------- */

static void test_code_and_data(const char *mode)
{
    uint32_t want = 0;
    for (uint32_t i = 0; i < 3000; i++) {
        smc_page_data[i & 3] += i;
        smc_page_data[8 + (i & 7)] = i;             /* data only: never read by code */
        want += i;
        CHECK_EQ_CTX(smc_page_fn(), want, "%s, round %u", mode, i);
    }
    for (int k = 0; k < 16; k++)
        smc_page_data[k] = 0;
}

void kmain(uint32_t magic, struct mb_info *mbi)
{
    uint32_t *pd;
    uint64_t t0, t1, t2;

    sys_init();
    pg_install_pf();
    t0 = rdtsc();
    test_imm_loop("paging off");
    test_forward("paging off");
    test_jit("paging off", (uint32_t)jit_buf, (uint32_t)jit_buf);
    test_code_and_data("paging off");
    t1 = rdtsc();

    pd = pg_kernel_pd();
    pg_map(pd, JIT_W, (uint32_t)jit_buf, PG_RW);
    pg_map(pd, JIT_X, (uint32_t)jit_buf, PG_RW);
    pg_enable(pd);
    test_imm_loop("paging on");
    test_forward("paging on");
    test_jit("paging on, identity", (uint32_t)jit_buf, (uint32_t)jit_buf);
    test_jit("paging on, aliases", JIT_W, JIT_X);
    test_code_and_data("paging on");
    t2 = rdtsc();
    kprintf("cycles: paging off %llu, paging on %llu\n", (unsigned long long)(t1 - t0),
            (unsigned long long)(t2 - t1));
    test_finish("pg_smc");
}
