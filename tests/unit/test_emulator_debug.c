/* Debugger support (debug.c, gdbstub_regs.c): breakpoints in code that is
 * already translated and chained, single steps, resuming from a
 * breakpoint, write watchpoints, memory and the GDB register image. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "emulator/vm.h"

#define CODE 0x10000u
#define LOOP (CODE + 7)     /* inc ecx */
#define ADD  (CODE + 8)     /* add eax, 1: in the middle of the loop's block */
#define DONE (CODE + 16)    /* hlt */

/* cli; xor eax,eax; xor ecx,ecx; L: inc ecx; add eax,1; cmp ecx,5; jne L; hlt */
static const uint8_t code[] = {
    0xfa, 0x31, 0xc0, 0x31, 0xc9, 0x90, 0x90,
    0x41, 0x83, 0xc0, 0x01, 0x83, 0xf9, 0x05, 0x75, 0xf7, 0xf4,
};

static struct vm *vm;

static int setup(void **state)
{
    struct vm_config cfg = { .ram_size = 4u << 20, .console_fd = -1, .verify = true };
    char err[200];
    vm = vm_create(&cfg, err, sizeof err);
    return vm && vm_write_phys(vm, CODE, code, sizeof code) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    vm_destroy(vm);
    return 0;
}

static struct vm_regs regs(void)
{
    struct vm_regs r;
    vm_get_regs(vm, &r);
    return r;
}

static void restart(void)
{
    struct vm_regs r = { .eip = CODE, .eflags = 2 };
    r.gpr[4] = 0x8000;
    vm_set_regs(vm, &r);
}

static void breakpoint_in_translated_block(void **state)
{
    restart();
    assert_int_equal(vm_run(vm, UINT64_MAX, 5000), VM_EXIT_HALT);   /* translate and chain */
    assert_int_equal(regs().gpr[1], 5);
    restart();
    assert_int_equal(vm_debug_breakpoint(vm, ADD, true), 0);
    for (uint32_t i = 1; i <= 5; i++) {
        assert_int_equal(vm_debug_run(vm, false, -1), VM_EXIT_DEBUG);
        assert_int_equal(regs().eip, ADD);                         /* not run yet */
        assert_int_equal(regs().gpr[1], i);
        assert_int_equal(regs().gpr[0], i - 1);
    }
    assert_int_equal(vm_debug_breakpoint(vm, ADD, false), 0);
    assert_int_equal(vm_debug_breakpoint(vm, ADD, false), -1);
    assert_int_equal(vm_debug_run(vm, false, -1), VM_EXIT_HALT);
    assert_int_equal(regs().gpr[0], 5);
}

static void breakpoint_at_a_chained_target(void **state)
{
    restart();
    assert_int_equal(vm_run(vm, UINT64_MAX, 5000), VM_EXIT_HALT);
    restart();
    assert_int_equal(vm_debug_breakpoint(vm, LOOP, true), 0);     /* the jne's target */
    assert_int_equal(vm_debug_run(vm, false, -1), VM_EXIT_DEBUG);
    assert_int_equal(regs().gpr[1], 0);
    assert_int_equal(vm_debug_run(vm, false, -1), VM_EXIT_DEBUG);  /* resumes past it */
    assert_int_equal(regs().eip, LOOP);
    assert_int_equal(regs().gpr[1], 1);
    vm_debug_clear_breakpoints(vm);
    assert_int_equal(vm_debug_run(vm, false, -1), VM_EXIT_HALT);
}

static void single_steps(void **state)
{
    static const uint32_t path[] = { CODE + 1, CODE + 3, CODE + 5, CODE + 6, LOOP, ADD, CODE + 11,
                                     CODE + 14, LOOP };
    restart();
    for (size_t i = 0; i < sizeof path / sizeof path[0]; i++) {
        assert_int_equal(vm_debug_run(vm, true, -1), VM_EXIT_DEBUG);
        assert_int_equal(regs().eip, path[i]);
    }
    assert_int_equal(regs().gpr[1], 1);
    assert_int_equal(vm_debug_run(vm, false, -1), VM_EXIT_HALT);
}

/* mov dword [0x20010], 5; nop; add dword [0x20010], 0; add dword [0x20010], 2; cli; hlt */
static void write_watchpoint(void **state)
{
    static const uint8_t w[] = {
        0xc7, 0x05, 0x10, 0x00, 0x02, 0x00, 0x05, 0x00, 0x00, 0x00, 0x90,
        0x83, 0x05, 0x10, 0x00, 0x02, 0x00, 0x00,
        0x83, 0x05, 0x10, 0x00, 0x02, 0x00, 0x02, 0xfa, 0xf4,
    };
    struct vm_regs r = { .eip = 0x30000, .eflags = 2 };
    uint32_t lin = 0, val = 0;

    assert_int_equal(vm_write_phys(vm, 0x30000, w, sizeof w), 0);
    assert_int_equal(vm_write_phys(vm, 0x20010, &val, 4), 0);
    r.gpr[4] = 0x8000;
    vm_set_regs(vm, &r);
    assert_int_equal(vm_debug_watchpoint(vm, 0x20010, 4, true), 0);
    assert_int_equal(vm_debug_watchpoint(vm, 0x20010, 9, true), -1);
    assert_int_equal(vm_debug_run(vm, false, -1), VM_EXIT_DEBUG);
    assert_true(vm_debug_watch_hit(vm, &lin));
    assert_int_equal(lin, 0x20010);
    assert_int_equal(regs().eip, 0x3000a);                  /* right after the store */
    assert_int_equal(vm_debug_run(vm, false, -1), VM_EXIT_DEBUG);
    assert_int_equal(regs().eip, 0x30019);                  /* the add of 0 changed nothing */
    assert_int_equal(vm_debug_watchpoint(vm, 0x20010, 4, false), 0);
    assert_int_equal(vm_debug_run(vm, false, -1), VM_EXIT_HALT);
    assert_false(vm_debug_watch_hit(vm, &lin));
}

static void memory_and_registers(void **state)
{
    uint8_t buf[8], img[512], one[16];
    struct vm_regs r = regs();

    assert_int_equal(vm_debug_read(vm, LOOP, buf, 4), 4);
    assert_memory_equal(buf, code + 7, 4);
    assert_int_equal(vm_debug_write(vm, 0x20000, "\x12\x34", 2), 2);
    assert_int_equal(vm_debug_read(vm, 0x20000, buf, 2), 2);
    assert_memory_equal(buf, "\x12\x34", 2);
    assert_int_equal(vm_debug_read(vm, (4u << 20) - 2, buf, 4), 2);   /* stops at the RAM end */

    r.gpr[0] = 0xdeadbeef;
    r.eip = 0x1234;
    vm_set_regs(vm, &r);
    assert_int_equal(vm_gdb_get_regs(vm, img), 16 * 4 + 8 * 10 + 8 * 4 + 8 * 16 + 4);
    assert_memory_equal(img, "\xef\xbe\xad\xde", 4);
    assert_memory_equal(img + 32, "\x34\x12\x00\x00", 4);
    assert_int_equal(vm_gdb_reg(vm, 40, one, NULL), 4);              /* mxcsr */
    assert_memory_equal(one, "\x80\x1f\x00\x00", 4);
    assert_int_equal(vm_gdb_reg(vm, 26, one, NULL), 4);              /* ftag: all empty */
    assert_memory_equal(one, "\xff\xff\x00\x00", 4);
    assert_int_equal(vm_gdb_reg(vm, 1, one, (const uint8_t *)"\x78\x56\x34\x12"), 4);
    assert_int_equal(regs().gpr[1], 0x12345678);
    assert_int_equal(vm_gdb_reg(vm, 41, one, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(breakpoint_in_translated_block),
        cmocka_unit_test(breakpoint_at_a_chained_target),
        cmocka_unit_test(single_steps),
        cmocka_unit_test(write_watchpoint),
        cmocka_unit_test(memory_and_registers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
