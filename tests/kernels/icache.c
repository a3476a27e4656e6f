/* icache — indirect branch sites with several targets (bt/xlate_icache.c):
 * each way of a site's inline cache must go to its own target, a site with
 * more targets than ways must fall back to the jump cache, the flags must
 * survive every path, and rewriting a target a way was filled with must run
 * the new code. Run with the default ways, with --ic-ways 1, --no-chain and
 * --verify. */
#include "sys_lib.h"

/* A switch through a jump table of six cases: each case adds its number
 * and the carry the caller set (adc), so a lost CF shows in the sum. */
uint32_t switch6(uint32_t sel, uint32_t carry);
__asm__(".text\n"
        "switch6:\n"
        "    movl 4(%esp), %ecx\n"
        "    xorl %eax, %eax\n"
        "    movl 8(%esp), %edx\n"
        "    btl $0, %edx\n"                        /* CF = carry */
        "    jmp *switch6_table(,%ecx,4)\n"
        "s6_0: adcl $10, %eax; ret\n"
        "s6_1: adcl $11, %eax; ret\n"
        "s6_2: adcl $12, %eax; ret\n"
        "s6_3: adcl $13, %eax; ret\n"
        "s6_4: adcl $14, %eax; ret\n"
        "s6_5: adcl $15, %eax; ret\n"
        ".section .rodata\n"
        "switch6_table: .long s6_0, s6_1, s6_2, s6_3, s6_4, s6_5\n"
        ".text\n");

/* One RET site (leaf's) returning to three callers. */
uint32_t three_callers(uint32_t x);
__asm__(".text\n"
        "leaf3:\n"
        "    leal 1(%eax,%eax), %eax\n"
        "    ret\n"
        "three_callers:\n"
        "    movl 4(%esp), %eax\n"
        "    call leaf3\n"
        "    xorl $0x55, %eax\n"
        "    call leaf3\n"
        "    addl $7, %eax\n"
        "    call leaf3\n"
        "    ret\n");

static uint32_t f0(uint32_t x) { return x + 1; }
static uint32_t f1(uint32_t x) { return x * 3; }
static uint32_t f2(uint32_t x) { return x ^ 0xff; }
static uint32_t f3(uint32_t x) { return x - 5; }
static uint32_t f4(uint32_t x) { return x << 2; }
static uint32_t (*const fns[5])(uint32_t) = { f0, f1, f2, f3, f4 };

/* One indirect CALL site; the compiler must not inline through it. */
__attribute__((noinline)) static uint32_t call_via(uint32_t (*volatile fn)(uint32_t), uint32_t x)
{
    return fn(x);
}

/* Code the test rewrites: `mov eax, imm32; ret`. */
static uint8_t smc_fn[8] __attribute__((aligned(16))) = { 0xb8, 1, 0, 0, 0, 0xc3 };

static uint32_t expect_switch(uint32_t sel, uint32_t carry) { return 10 + sel + (carry & 1); }
static uint32_t leaf3_c(uint32_t x) { return 2 * x + 1; }

void kmain(uint32_t magic, struct mb_info *mbi)
{
    sys_init();
    for (int round = 0; round < 50; round++) {
        /* Six targets: four ways fill, the rest go through the jump cache. */
        for (uint32_t i = 0; i < 12; i++) {
            uint32_t sel = (i * 5 + (uint32_t)round) % 6, carry = (i + (uint32_t)round) & 1;
            CHECK_EQ(switch6(sel, carry), expect_switch(sel, carry));
        }
        for (uint32_t x = 0; x < 4; x++)
            CHECK_EQ(three_callers(x + (uint32_t)round),
                     leaf3_c(leaf3_c(leaf3_c(x + (uint32_t)round) ^ 0x55) + 7));
        for (uint32_t i = 0; i < 10; i++) {
            uint32_t k = (i + (uint32_t)round) % 5, x = i * 7 + 3;
            uint32_t want = k == 0 ? x + 1 : k == 1 ? x * 3 : k == 2 ? (x ^ 0xff)
                          : k == 3 ? x - 5 : x << 2;
            CHECK_EQ(call_via(fns[k], x), want);
        }
        /* Learned by a way of call_via's site, then rewritten: the way must
         * not keep running the old translation. */
        uint32_t (*smc)(uint32_t) = (uint32_t (*)(uint32_t))(void *)smc_fn;
        CHECK_EQ(call_via(smc, 0), (uint32_t)round + 1);
        CHECK_EQ(call_via(smc, 0), (uint32_t)round + 1);
        *(volatile uint32_t *)(smc_fn + 1) = (uint32_t)round + 2;
        CHECK_EQ(call_via(smc, 0), (uint32_t)round + 2);
    }
    test_finish("icache");
}
