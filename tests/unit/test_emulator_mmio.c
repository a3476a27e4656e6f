/* Device memory, the 4 GiB wrap and adaptive translation, driven
 * in-process (issue #5): a fake device registered with vm_mmio_register
 * sees exactly the guest's loads and stores, in order and with their
 * sizes, with paging off and through a page table with paging on; an
 * instruction that keeps touching it is re-translated into a monitor
 * callout (--stats: "adaptive", "memop_callouts"); accesses that straddle
 * 4 GiB wrap to address 0; a guest page fault on the way reports #PF. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "emulator/vm.h"

#define DEV   0xfeb00000u       /* unclaimed: the I/O APIC is at 0xfec00000 */
#define CODE  0x10000u
#define STACK 0x8000u
#define PD    0x80000u
#define PT    0x81000u
#define PTD   0x82000u          /* maps the device at linear 0x40000000 */

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

struct access { uint32_t off; unsigned size; uint32_t val; bool write; };
static struct access log_[256];
static unsigned nlog;
static uint32_t next_read = 0x100;
static uint8_t regs_[0x1000];

static uint32_t dev_read(void *o, uint32_t off, unsigned size)
{
    uint32_t v = next_read++;
    if (off >= 0x800)                       /* a plain register file up there */
        memcpy(&v, regs_ + off, size);
    if (nlog < 256)
        log_[nlog++] = (struct access){ off, size, v, false };
    return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void dev_write(void *o, uint32_t off, unsigned size, uint32_t val)
{
    memcpy(regs_ + off, &val, size);
    if (nlog < 256)
        log_[nlog++] = (struct access){ off, size, val, true };
}

static const struct vm_mmio_ops ops = { dev_read, dev_write };
static struct vm *vm;

static int setup(void **state)
{
    struct vm_config cfg = { .ram_size = 4u << 20, .console_fd = -1, .verify = true,
                             .stop_on_exception = true };
    char err[200];
    vm = vm_create(&cfg, err, sizeof err);
    if (!vm || vm_add_ram(vm, 0xfffff000u, 0x1000, err, sizeof err) ||
        vm_mmio_register(vm, DEV, 0x1000, &ops, NULL, err, sizeof err))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    vm_destroy(vm);
    return 0;
}

static void wr(uint32_t a, const void *p, size_t n) { assert_int_equal(vm_write_phys(vm, a, p, n), 0); }

static enum vm_exit run(const char *code, size_t len, struct vm_regs *r)
{
    vm_flush_code(vm);
    wr(CODE, code, len);
    r->gpr[ESP] = STACK;
    r->eip = CODE;
    r->eflags = 2;
    vm_set_regs(vm, r);
    enum vm_exit x = vm_run(vm, CODE + len, 5000);
    vm_get_regs(vm, r);
    return x;
}
#define RUN(bytes, r) run(bytes, sizeof(bytes) - 1, r)

static uint64_t stat(const char *name)
{
    char *buf = NULL, *p;
    size_t len = 0;
    uint64_t v = 0;
    FILE *f = open_memstream(&buf, &len);
    vm_print_stats(vm, f);
    fclose(f);
    for (p = buf; (p = strstr(p, name)); p++)
        if (p[-1] == ' ' && p[strlen(name)] == ' ') {
            v = strtoull(p + strlen(name), NULL, 10);
            break;
        }
    free(buf);
    return v;
}

/* mov ecx, 10; 1: mov [A+0x10], ecx; mov eax, [A+0x20]; add ebx, eax;
 * mov byte [A+1], cl; movzx edx, word [A+0x22]; or dword [A+0x830], 8;
 * dec ecx; jnz 1b  (A = the device's linear address) */
static size_t loop_code(uint8_t *c, uint32_t a)
{
    size_t n = 0;
#define B(x) (c[n++] = (uint8_t)(x))
#define D(x) do { uint32_t v_ = (x); memcpy(c + n, &v_, 4); n += 4; } while (0)
    B(0xb9); D(10);
    B(0x89); B(0x0d); D(a + 0x10);
    B(0x8b); B(0x05); D(a + 0x20);
    B(0x01); B(0xc3);
    B(0x88); B(0x0d); D(a + 1);
    B(0x0f); B(0xb7); B(0x15); D(a + 0x22);
    B(0x83); B(0x0d); D(a + 0x830); B(8);
    B(0x49);
    B(0x75);
    c[n] = (uint8_t)(5 - (int)(n + 1));     /* jnz back to the loop head at 5 */
    n++;
#undef B
#undef D
    return n;
}

static void check_loop_log(void)
{
    unsigned i = 0;
    assert_int_equal(nlog, 10 * 6);
    for (uint32_t k = 10; k >= 1; k--) {
        assert_true(log_[i].write && log_[i].off == 0x10 && log_[i].size == 4 && log_[i].val == k);
        i++;
        assert_true(!log_[i].write && log_[i].off == 0x20 && log_[i].size == 4);
        i++;
        assert_true(log_[i].write && log_[i].off == 1 && log_[i].size == 1 && log_[i].val == k);
        i++;
        assert_true(!log_[i].write && log_[i].off == 0x22 && log_[i].size == 2);
        i++;
        assert_true(!log_[i].write && log_[i].off == 0x830 && log_[i].size == 4);   /* OR: read, */
        i++;
        assert_true(log_[i].write && log_[i].off == 0x830 && log_[i].val == (log_[i - 1].val | 8));
        i++;                                                                         /* then write */
    }
}

static void test_mmio_paging_off(void **s)
{
    struct vm_regs r = { 0 };
    uint8_t code[64];
    size_t n = loop_code(code, DEV);
    uint64_t adaptive = stat("adaptive");

    nlog = 0;
    next_read = 0x100;
    r.gpr[EBX] = 0;
    assert_int_equal(run((const char *)code, n, &r), VM_EXIT_STOP_EIP);
    check_loop_log();
    /* EBX = the ten values the 0x20 reads returned. */
    {
        uint32_t want = 0;
        for (unsigned i = 1; i < nlog; i += 6)
            want += log_[i].val;
        assert_int_equal(r.gpr[EBX], want);
    }
    assert_int_equal(r.gpr[EDX] & 0xffff, log_[nlog - 3].val & 0xffff);
    /* Each of the five device instructions faulted, then became a callout. */
    assert_true(stat("adaptive") - adaptive >= 5);
    assert_true(stat("memop_callouts") >= 5 * 6);
    assert_true(stat("memop_emulated") >= 5 * 4);
}

static void test_mmio_paging_on(void **s)
{
    struct vm_regs r = { 0 };
    uint8_t code[64];
    uint32_t pde[2] = { PT | 3, PTD | 3 }, pte = DEV | 3;
    size_t n = loop_code(code, 0x40000000u);
    static uint32_t pt[1024];

    for (uint32_t i = 0; i < 1024; i++)
        pt[i] = i << 12 | 3;                 /* 0..4 MiB identity */
    wr(PT, pt, sizeof pt);
    wr(PD, &pde[0], 4);
    wr(PD + (0x40000000u >> 22) * 4, &pde[1], 4);
    wr(PTD, &pte, 4);
    vm_set_control(vm, 0x80010011u, PD, 0);
    nlog = 0;
    assert_int_equal(run((const char *)code, n, &r), VM_EXIT_STOP_EIP);
    check_loop_log();
    /* An access to a not-present page is the guest's #PF (error: write). */
    assert_int_equal(RUN("\xc7\x05\x00\x10\x40\x00\x01\x00\x00\x00", &r), VM_EXIT_EXCEPTION);
    assert_int_equal(vm_last_exception(vm)->vector, 14);
    assert_int_equal(vm_last_exception(vm)->error_code, 2);
    assert_int_equal(vm_last_exception(vm)->eip, CODE);
    vm_set_control(vm, 0x11, 0, 0);
}

static void test_wrap(void **s)
{
    struct vm_regs r = { 0 };
    uint8_t hi[2] = { 0x11, 0x22 }, lo[2] = { 0x33, 0x44 }, got[4];

    wr(0xfffffffeu, hi, 2);
    wr(0, lo, 2);
    /* mov eax, [0xfffffffe]: two bytes from the top, two from 0. */
    assert_int_equal(RUN("\xa1\xfe\xff\xff\xff", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EAX], 0x44332211);
    /* mov [0xffffffff], eax with eax = 0xaabbccdd */
    r.gpr[EAX] = 0xaabbccdd;
    assert_int_equal(RUN("\xa3\xff\xff\xff\xff", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(vm_read_phys(vm, 0xffffffffu, got, 1), 0);
    assert_int_equal(vm_read_phys(vm, 0, got + 1, 3), 0);
    assert_int_equal(got[0], 0xdd);
    assert_int_equal(got[1], 0xcc);
    assert_int_equal(got[3], 0xaa);
    /* rep stosb across the wrap (the host string instruction runs into the
     * guard above the window; the rest is emulated). */
    r.gpr[EDI] = 0xfffffffcu;
    r.gpr[ECX] = 8;
    r.gpr[EAX] = 0x5a;
    assert_int_equal(RUN("\xf3\xaa", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[ECX], 0);
    assert_int_equal(r.gpr[EDI], 4);
    assert_int_equal(vm_read_phys(vm, 0, got, 4), 0);
    assert_int_equal(got[0], 0x5a);
    assert_int_equal(got[3], 0x5a);
}

/* Neither RAM nor a device: reads float to all-ones and writes are lost,
 * as on a PC's bus (and in QEMU), instead of stopping the run. */
static void test_open_bus(void **s)
{
    struct vm_regs r = { .gpr = { [EBX] = 0x12345678 } };
    /* mov eax,[0x3000000]; mov [0x3000000],ebx; mov ecx,[0x3000000]; mov dl,[0x3000001] */
    assert_int_equal(RUN("\xa1\x00\x00\x00\x03\x89\x1d\x00\x00\x00\x03"
                         "\x8b\x0d\x00\x00\x00\x03\x8a\x15\x01\x00\x00\x03", &r),
                     VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EAX], 0xffffffffu);
    assert_int_equal(r.gpr[ECX], 0xffffffffu);
    assert_int_equal(r.gpr[EDX] & 0xff, 0xff);
}

static void test_register_errors(void **s)
{
    char err[200];
    assert_int_equal(vm_mmio_register(vm, 0x1000, 0x1000, &ops, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "RAM"));
    assert_int_equal(vm_mmio_register(vm, DEV + 0x800, 0x1000, &ops, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "another device"));
    assert_int_equal(vm_mmio_register(vm, 0xffff0000u, 0x20000, &ops, NULL, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mmio_paging_off),
        cmocka_unit_test(test_mmio_paging_on),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_open_bus),
        cmocka_unit_test(test_register_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
