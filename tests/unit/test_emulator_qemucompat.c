/* Guest-visible effects of qemu-system-i386 options: -cpu (the CPUID.1:EDX
 * features a VM offers, vm_config.cpuid_edx_clear) and -device pc-testdev
 * wired to the guest's ports and physical memory, and -rtc base= (the CMOS
 * clock's offset). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "emulator/vm.h"

#define CODE 0x10000u

/* Run code at CODE in a fresh VM made with cfg; the registers at its end. */
static struct vm_regs run_code(struct vm_config cfg, const uint8_t *code, size_t len)
{
    struct vm_regs r = { .eip = CODE, .eflags = 2 };
    char err[200];
    struct vm *vm;

    cfg.ram_size = 4u << 20;
    cfg.console_fd = -1;
    vm = vm_create(&cfg, err, sizeof err);
    assert_non_null(vm);
    assert_int_equal(vm_write_phys(vm, CODE, code, len), 0);
    r.gpr[4] = 0x8000;
    vm_set_regs(vm, &r);
    assert_int_equal(vm_run(vm, CODE + len, 5000), VM_EXIT_STOP_EIP);
    vm_get_regs(vm, &r);
    vm_destroy(vm);
    return r;
}

/* mov eax, leaf; cpuid: EDX as the guest sees it. */
static uint32_t guest_cpuid_edx(uint32_t leaf, uint32_t clear, uint32_t ext_clear)
{
    uint8_t code[] = { 0xb8, 0, 0, 0, 0, 0x0f, 0xa2 };
    memcpy(code + 1, &leaf, 4);
    struct vm_config cfg = { .cpuid_edx_clear = clear, .cpuid_ext_edx_clear = ext_clear };
    return run_code(cfg, code, sizeof code).gpr[2];
}

static void features_cleared(void **state)
{
    uint32_t all = guest_cpuid_edx(1, 0, 0), some = guest_cpuid_edx(1, 1u << 26 | 1u << 25, ~0u);
    assert_int_equal(all & (3u << 25), 3u << 25);       /* SSE, SSE2 */
    assert_int_equal(some, all & ~(3u << 25));
    assert_int_equal(guest_cpuid_edx(0x80000001u, 0, 0) & (1u << 20), 1u << 20);   /* NX */
    assert_int_equal(guest_cpuid_edx(0x80000001u, 0, 1u << 20) & (1u << 20), 0);
}

/* mov dword [0xff000010], 0x11223344; mov ebx, [0xff000012];
 * mov eax, 0xaabbccdd; out 0xe0, eax; in al, 0xe9 */
static void pc_testdev_wired(void **state)
{
    static const uint8_t code[] = {
        0xc7, 0x05, 0x10, 0x00, 0x00, 0xff, 0x44, 0x33, 0x22, 0x11,
        0x8b, 0x1d, 0x12, 0x00, 0x00, 0xff,
        0xb8, 0xdd, 0xcc, 0xbb, 0xaa, 0xe7, 0xe0, 0xe4, 0xe9,
    };
    for (int on = 0; on < 2; on++) {
        struct vm_regs r = run_code((struct vm_config){ .pc_testdev = on }, code, sizeof code);
        /* Without the device: open bus, and 0xe9 is the debug console. */
        assert_int_equal(r.gpr[3], on ? 0x1122 : 0xffffffffu);
        assert_int_equal(r.gpr[0], on ? 0xaabbcccc : 0xaabbcce9);
    }
}

/* -rtc base=DATE: the CMOS clock runs from vm_config.rtc_offset_s.
 * mov al, 9; out 0x70, al; in al, 0x71 (the year, BCD) */
static void rtc_offset(void **state)
{
    static const uint8_t code[] = { 0xb0, 0x09, 0xe6, 0x70, 0xe4, 0x71 };
    int years[2];
    for (int i = 0; i < 2; i++) {
        struct vm_config cfg = { .rtc_offset_s = i ? 20 * 31556952 : 0 };     /* 20 years */
        uint32_t al = run_code(cfg, code, sizeof code).gpr[0] & 0xff;
        years[i] = (int)(al >> 4) * 10 + (int)(al & 15);
    }
    assert_int_equal((years[0] + 20) % 100, years[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(features_cleared),
                                        cmocka_unit_test(pc_testdev_wired),
                                        cmocka_unit_test(rtc_offset) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
