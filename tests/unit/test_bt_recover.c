/* bt_recover: the guest state at a host PC inside a block, from a signal's
 * machine context and the block's side table (bt/recover.c). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>
#include <cmocka.h>

#include "bt/bt.h"
#include "bt/sidetable.h"

static uint8_t code[64];
/* Row 0: the entry poll; the instruction at guest +0 borrows ESI from
 * host +12; the one at guest +3 is a string instruction with DS and ES
 * bases added from host +30; then an inlined callee 0x40 bytes below the
 * block with 12 bytes of pushes and calls pending in ESP (host +44), an
 * instruction at +5 with the most that can be pending, 128 (host +52), and
 * after it ESP made real (host +58). */
static struct tb_pcmap rows[] = {
    { .host_off = 0, .guest_off = 0, .flags = TB_PC_ENTRY },
    { .host_off = 7, .guest_off = 0 },
    { .host_off = 12, .guest_off = 0, .flags = TB_PC_SPILL(6) },
    { .host_off = 24, .guest_off = 3 },
    { .host_off = 30, .guest_off = 3, .flags = TB_PC_STR_SRC(3) | TB_PC_STR_ES },
    { .host_off = 44, .guest_off = -0x40, .flags = TB_PC_ESP_DELTA(-12) },
    { .host_off = 52, .guest_off = 5, .flags = TB_PC_ESP_DELTA(-128) },
    { .host_off = 58, .guest_off = 5 },
};

static void bases(void *opaque, uint32_t set, uint32_t base[6])
{
    static const uint32_t b[6] = { 0x1000, 0, 0, 0x300, 0, 0 };   /* ES, DS */
    (void)opaque;
    memcpy(base, set == 5 ? b : (const uint32_t[6]){ 0 }, sizeof b);
}

static struct bt_recovered at(uint32_t host_off)
{
    static struct code_cache *cache;
    static struct bt *bt;
    static const int reg_of[8] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI };
    struct tb tb = { .eip = 0x8000, .mode = 5u << BT_MODE_SEGSET_SHIFT, .host = code,
                     .host_len = sizeof code, .pcmap = rows, .npcmap = sizeof rows / sizeof rows[0] };
    ucontext_t uc;
    struct bt_recovered r;
    char err[200];

    if (!bt) {
        struct bt_config cfg = { .seg_bases = bases };
        struct bt_handlers h = { 0 };
        cache = cache_create(1 << 20, 1 << 20, err, sizeof err);
        assert_non_null(cache);
        bt = bt_create(cache, &cfg, &h, err, sizeof err);
        assert_non_null(bt);
    }
    memset(&uc, 0, sizeof uc);
    for (int k = 0; k < 8; k++)
        uc.uc_mcontext.gregs[reg_of[k]] = (greg_t)(0x100000000ull * 7 + 0x10000u * (k + 1));
    uc.uc_mcontext.gregs[REG_R10] = 0x7f0012345678;   /* a host pointer, as in a jump-cache lookup */
    uc.uc_mcontext.gregs[REG_EFL] = 0x246 | 0x100;    /* ZF PF IF (host) TF (host) */
    uc.uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)(code + host_off);
    bt_recover(bt, &tb, &uc, &r);
    return r;
}

static void test_entry_poll_has_nothing_to_undo(void **s)
{
    struct bt_recovered r = at(3);
    assert_true(r.at_entry);
    assert_int_equal(r.eip, 0x8000);
    assert_int_equal(r.gpr[R_ESI], 0x70000);     /* not R10: nothing is borrowed yet */
    assert_int_equal(r.gpr[R_EDI], 0x80000);
    assert_int_equal(r.arith, 0x44);             /* ZF PF only */
}

static void test_borrowed_register_only_after_it_is_saved(void **s)
{
    struct bt_recovered r = at(8);                /* the instruction, before mov r10, rsi */
    assert_false(r.at_entry);
    assert_int_equal(r.gpr[R_ESI], 0x70000);
    r = at(12);
    assert_int_equal(r.eip, 0x8000);
    assert_int_equal(r.gpr[R_ESI], 0x12345678);
    assert_int_equal(r.gpr[R_EAX], 0x10000);
}

static void test_string_bases_taken_off(void **s)
{
    struct bt_recovered r = at(26);
    assert_int_equal(r.eip, 0x8003);
    assert_int_equal(r.gpr[R_ESI], 0x70000);
    r = at(40);
    assert_int_equal(r.guest_off, 3);
    assert_int_equal(r.gpr[R_ESI], 0x70000 - 0x300);
    assert_int_equal(r.gpr[R_EDI], 0x80000 - 0x1000);
}

static void test_inlined_callee_below_with_esp_pending(void **s)
{
    struct bt_recovered r = at(46);
    assert_int_equal(r.guest_off, -0x40);
    assert_int_equal(r.eip, 0x8000 - 0x40);
    assert_int_equal(r.gpr[R_ESP], 0x50000 - 12);
    assert_int_equal(r.gpr[R_EBP], 0x60000);
    r = at(54);
    assert_int_equal(r.eip, 0x8005);
    assert_int_equal(r.gpr[R_ESP], 0x50000 - 128);
    r = at(60);
    assert_int_equal(r.gpr[R_ESP], 0x50000);
    assert_int_equal(TB_PC_ESP_OF(TB_PC_ESP_DELTA(TB_PC_ESP_MAX)), TB_PC_ESP_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_poll_has_nothing_to_undo),
        cmocka_unit_test(test_borrowed_register_only_after_it_is_saved),
        cmocka_unit_test(test_string_bases_taken_off),
        cmocka_unit_test(test_inlined_callee_below_with_esp_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
