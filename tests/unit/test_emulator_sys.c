/* System virtualization driven in-process (issue #4): IDT delivery of
 * software interrupts and faults, a triple fault, far transfers and
 * segment loads, and a timer interrupt waking HLT. Each case writes a GDT,
 * an IDT and code into guest memory and runs it to a stop address with
 * exceptions delivered (stop_on_exception off). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "emulator/vm.h"

#define GDT   0x1000u
#define GDTR  0x1100u
#define IDTR  0x1108u
#define IDT   0x2000u
#define HNDL  0x3000u
#define CODE  0x10000u
#define STACK 0x8000u

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

static struct vm *vm;

static int setup(void **state)
{
    struct vm_config cfg = { .ram_size = 4u << 20, .console_fd = -1, .verify = true };
    char err[200];
    vm = vm_create(&cfg, err, sizeof err);
    return vm ? 0 : -1;
}

/* The same cases with the poll page armed before every block the
 * dispatcher enters (each block first leaves at its entry poll, as if the
 * host timer had just fired): nothing the guest sees may change. */
static int setup_storm(void **state)
{
    struct vm_config cfg = { .ram_size = 4u << 20, .console_fd = -1, .verify = true, .poll_storm = 1 };
    char err[200];
    vm = vm_create(&cfg, err, sizeof err);
    return vm ? 0 : -1;
}

static int teardown(void **state)
{
    vm_destroy(vm);
    return 0;
}

static void wr(uint32_t a, const void *p, size_t n) { assert_int_equal(vm_write_phys(vm, a, p, n), 0); }

static void gate(int vec, uint32_t handler, unsigned type, unsigned dpl)
{
    uint32_t g[2] = { (handler & 0xffff) | 0x08u << 16, (handler & 0xffff0000u) | 0x8000u | dpl << 13 | type << 8 };
    wr(IDT + (uint32_t)vec * 8, g, 8);
}

/* Flat ring-0 code 0x08 and data 0x10, a full IDT of not-present gates. */
static void tables(void)
{
    static const uint8_t gdt[] = { 0, 0, 0, 0, 0, 0, 0, 0,
                                   0xff, 0xff, 0, 0, 0, 0x9a, 0xcf, 0,
                                   0xff, 0xff, 0, 0, 0, 0x92, 0xcf, 0 };
    static const uint8_t gdtr[] = { 0x17, 0, 0x00, 0x10, 0, 0 }, idtr[] = { 0xff, 0x07, 0x00, 0x20, 0, 0 };
    static uint8_t zero[2048];
    wr(GDT, gdt, sizeof gdt);
    wr(GDTR, gdtr, sizeof gdtr);
    wr(IDTR, idtr, sizeof idtr);
    wr(IDT, zero, sizeof zero);
}

/* lgdt [GDTR]; lidt [IDTR] */
#define LOAD_TABLES "\x0f\x01\x15\x00\x11\x00\x00" "\x0f\x01\x1d\x08\x11\x00\x00"

static enum vm_exit run(const char *code, size_t len, struct vm_regs *r, uint32_t timeout_ms)
{
    vm_flush_code(vm);
    wr(CODE, code, len);
    r->gpr[ESP] = STACK;
    r->eip = CODE;
    r->eflags = 2;
    vm_set_regs(vm, r);
    enum vm_exit x = vm_run(vm, CODE + len, timeout_ms);
    vm_get_regs(vm, r);
    return x;
}

#define RUN(bytes, r) run(bytes, sizeof(bytes) - 1, r, 5000)

static void test_int_through_idt(void **s)
{
    struct vm_regs r = { 0 };
    tables();
    wr(HNDL, "\xb8\x34\x12\x00\x00\xcf", 6);          /* mov eax, 0x1234; iret */
    gate(0x30, HNDL, 0xe, 0);
    assert_int_equal(RUN(LOAD_TABLES "\xcd\x30", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EAX], 0x1234);
    assert_int_equal(r.gpr[ESP], STACK);
}

static void test_fault_through_idt(void **s)
{
    struct vm_regs r = { 0 };
    tables();
    wr(HNDL, "\x83\x04\x24\x02\xcf", 5);              /* add dword [esp], 2; iret */
    gate(0, HNDL, 0xe, 0);
    /* mov eax, 7; xor ecx, ecx; div ecx (skipped by the handler) */
    assert_int_equal(RUN(LOAD_TABLES "\xb8\x07\x00\x00\x00\x31\xc9\xf7\xf1", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EAX], 7);
    assert_int_equal(r.gpr[ESP], STACK);
}

static void test_error_code_and_df(void **s)
{
    struct vm_regs r = { 0 };
    tables();
    /* #GP handler: pop the error code into EBX, skip the 2-byte insn. */
    wr(HNDL, "\x5b\x83\x04\x24\x02\xcf", 6);
    gate(13, HNDL, 0xe, 0);
    /* mov ax, 0x7ff8; mov es, ax: beyond the GDT limit: #GP(0x7ff8) */
    assert_int_equal(RUN(LOAD_TABLES "\x66\xb8\xf8\x7f\x8e\xc0", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EBX], 0x7ff8);
    /* #GP gate not present: #NP, so #DF (error 0); handler at HNDL+0x100 stops. */
    gate(13, HNDL, 0xe, 0);
    wr(IDT + 13 * 8 + 5, "\x0e", 1);
    wr(HNDL + 0x100, "\x5b\xf4", 2);                    /* pop ebx; hlt (IF=0: ends the run) */
    gate(8, HNDL + 0x100, 0xe, 0);
    r.gpr[EBX] = 0x55;
    assert_int_equal(RUN(LOAD_TABLES "\x66\xb8\xf8\x7f\x8e\xc0", &r), VM_EXIT_HALT);
    assert_int_equal(r.gpr[EBX], 0);
}

static void test_triple_fault(void **s)
{
    struct vm_regs r = { 0 };
    tables();
    /* No gates at all: #UD, #NP, #DF, triple fault. */
    assert_int_equal(RUN(LOAD_TABLES "\x0f\x0b", &r), VM_EXIT_TRIPLE_FAULT);
    assert_non_null(strstr(vm_error(vm), "triple fault"));
    assert_int_equal(r.eip, CODE + 14);
}

static void test_far_jump_and_segments(void **s)
{
    struct vm_regs r = { 0 };
    tables();
    /* ljmp 0x08:CODE+21; mov ax, 0x10; mov ds, ax; mov ss, ax; mov ebx, cs */
    assert_int_equal(RUN(LOAD_TABLES "\xea\x15\x00\x01\x00\x08\x00"
                         "\x66\xb8\x10\x00\x8e\xd8\x8e\xd0\x8c\xcb", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EBX], 0x08);
}

static void test_timer_wakes_hlt(void **s)
{
    struct vm_regs r = { 0 };
    tables();
    /* IRQ 0 handler: mov ebx, 1; EOI; iret */
    wr(HNDL, "\xbb\x01\x00\x00\x00\xb0\x20\xe6\x20\xcf", 10);
    gate(0x20, HNDL, 0xe, 0);
    assert_int_equal(RUN(LOAD_TABLES
                         "\xb0\x11\xe6\x20\xb0\x20\xe6\x21\xb0\x04\xe6\x21\xb0\x01\xe6\x21"  /* PIC: base 0x20 */
                         "\xb0\xfe\xe6\x21"                                                  /* IRQ 0 only */
                         "\xb0\x34\xe6\x43\xb0\xa9\xe6\x40\xb0\x04\xe6\x40"                  /* PIT 1 kHz */
                         "\x31\xdb\xfb\xf4\xfa", &r), VM_EXIT_STOP_EIP);                     /* sti; hlt; cli */
    assert_int_equal(r.gpr[EBX], 1);
    assert_int_equal(r.eflags & 0x200, 0);
}

/* The PICs at vector 0x20 with only IRQ 0 unmasked; the PIT at 1 kHz. */
#define PIC_PIT_1KHZ                                                                    \
    "\xb0\x11\xe6\x20\xb0\x20\xe6\x21\xb0\x04\xe6\x21\xb0\x01\xe6\x21"  /* PIC: base 0x20 */ \
    "\xb0\xfe\xe6\x21"                                                  /* IRQ 0 only */      \
    "\xb0\x34\xe6\x43\xb0\xa9\xe6\x40\xb0\x04\xe6\x40"                  /* PIT 1 kHz */

/* A timer interrupt is made to wait with IF clear (the PIC's IRR is polled
 * until IRQ 0 is requested); then IF is set by an inline STI or POPF at
 * CPL 0, followed by a run of `inc ecx`. The handler records ECX the first
 * time: the interrupt must come after exactly one instruction for STI (its
 * shadow) and immediately for POPF (SDM "STI", "POPF"), not whenever the
 * monitor next looks. */
static uint32_t first_interrupt_after(const char *enable, size_t enable_len)
{
    static const char setup_code[] =
        LOAD_TABLES PIC_PIT_1KHZ
        "\xb0\x0a\xe6\x20"                                                  /* OCW3: read IRR */
        "\xe4\x20\xa8\x01\x74\xfa"                                          /* wait: IRR bit 0 */
        "\x31\xc9\xbb\xff\xff\xff\xff";                                     /* ecx = 0; ebx = -1 */
    char code[256];
    size_t n = 0;
    struct vm_regs r = { 0 };

    tables();
    /* IRQ 0: if (ebx == -1) ebx = ecx; EOI; iret */
    wr(HNDL, "\x83\xfb\xff\x75\x02\x89\xcb\xb0\x20\xe6\x20\xcf", 12);
    gate(0x20, HNDL, 0xe, 0);
    memcpy(code, setup_code, sizeof setup_code - 1);
    n = sizeof setup_code - 1;
    memcpy(code + n, enable, enable_len);
    n += enable_len;
    for (int i = 0; i < 40; i++)
        code[n++] = 0x41;                                                   /* inc ecx */
    code[n++] = (char)0xfa;                                                 /* cli */
    assert_int_equal(run(code, n, &r, 5000), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[ECX], 40);
    return r.gpr[EBX];
}

static void test_sti_takes_waiting_interrupt_after_its_shadow(void **s)
{
    assert_int_equal(first_interrupt_after("\xfb", 1), 1);
}

static void test_popf_takes_waiting_interrupt_at_once(void **s)
{
    /* push 0x202; popf */
    assert_int_equal(first_interrupt_after("\x68\x02\x02\x00\x00\x9d", 6), 0);
}

/* MOV SS and POP SS inhibit interrupts until after the next instruction
 * (SDM vol. 3A §6.8.3): a loop of `mov ss` (or `push 0x10; pop ss`) then
 * `inc ecx` runs with IF set and the PIT at 1 kHz until 50 timer
 * interrupts; the handler counts those whose return address is the `inc
 * ecx`, i.e. taken inside the shadow. With the poll storm the step block
 * that runs the shadowed instruction always leaves at its entry poll first,
 * with the interrupt often waiting. */
static uint32_t interrupts_in_shadow(const char *shadow, size_t shadow_len)
{
    static const char setup_code[] =
        LOAD_TABLES PIC_PIT_1KHZ
        "\x31\xdb\x31\xed\xb8\x10\x00\x00\x00\xfb";                           /* ebx = ebp = 0; eax = 0x10; sti */
    char code[256], handler[32];
    size_t n = sizeof setup_code - 1, loop = n;
    struct vm_regs r = { 0 };

    memcpy(code, setup_code, n);
    memcpy(code + n, shadow, shadow_len);
    n += shadow_len;
    uint32_t in_shadow = CODE + (uint32_t)n;
    code[n++] = 0x41;                                                   /* inc ecx */
    memcpy(code + n, "\x83\xfb\x32\x72", 4);                             /* cmp ebx, 50; jb loop */
    n += 4;
    code[n] = (char)(loop - (n + 1));
    n++;
    code[n++] = (char)0xfa;                                             /* cli */

    tables();
    /* IRQ 0: push eax; cmp dword [esp+4], in_shadow; jne 1f; inc ebp;
     * 1: inc ebx; EOI; pop eax; iret */
    memcpy(handler, "\x50\x81\x7c\x24\x04", 5);
    memcpy(handler + 5, &in_shadow, 4);
    memcpy(handler + 9, "\x75\x01\x45\x43\xb0\x20\xe6\x20\x58\xcf", 10);
    wr(HNDL, handler, 19);
    gate(0x20, HNDL, 0xe, 0);
    assert_int_equal(run(code, n, &r, 20000), VM_EXIT_STOP_EIP);
    assert_true(r.gpr[EBX] >= 50);     /* one more may come before the cli */
    return r.gpr[EBP];
}

static void test_mov_ss_holds_interrupts_for_one_instruction(void **s)
{
    assert_int_equal(interrupts_in_shadow("\x8e\xd0", 2), 0);        /* mov ss, ax */
}

static void test_pop_ss_holds_interrupts_for_one_instruction(void **s)
{
    assert_int_equal(interrupts_in_shadow("\x6a\x10\x17", 3), 0);    /* push 0x10; pop ss */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int_through_idt),
        cmocka_unit_test(test_fault_through_idt),
        cmocka_unit_test(test_error_code_and_df),
        cmocka_unit_test(test_triple_fault),
        cmocka_unit_test(test_far_jump_and_segments),
        cmocka_unit_test(test_timer_wakes_hlt),
        cmocka_unit_test(test_sti_takes_waiting_interrupt_after_its_shadow),
        cmocka_unit_test(test_popf_takes_waiting_interrupt_at_once),
        cmocka_unit_test(test_mov_ss_holds_interrupts_for_one_instruction),
        cmocka_unit_test(test_pop_ss_holds_interrupts_for_one_instruction),
    };
    int failed = cmocka_run_group_tests_name("plain", tests, setup, teardown);
    return failed + cmocka_run_group_tests_name("poll_storm", tests, setup_storm, teardown);
}
