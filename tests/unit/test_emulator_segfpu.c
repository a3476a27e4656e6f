/* Segment bases in translated code and #NM/#UD under CR0.TS/EM: guest code
 * runs translated, the checks are on its results. A fresh VM per test,
 * since both features are machine state (GDT, segment registers, CR0). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "emulator/vm.h"

#define CODE  0x10000u
#define STACK 0x30000u
#define GDT   0x3000u
#define GDTR  0x3100u

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

static struct vm *vm;

/* A flat data descriptor with the given base (limit 4 GiB, P DPL0 RW). */
static uint64_t data_desc(uint32_t base)
{
    uint32_t lo = 0xffffu | (base & 0xffffu) << 16;
    uint32_t hi = (base >> 16 & 0xffu) | 0x00cf9200u | (base & 0xff000000u);
    return (uint64_t)hi << 32 | lo;
}

static int setup(void **state)
{
    struct vm_config cfg = { .ram_size = 4u << 20, .stop_on_exception = true, .console_fd = -1,
                             .verify = true };
    char err[200];
    uint64_t gdt[6] = { 0, 0x00cf9a000000ffffull, data_desc(0), data_desc(0x1000), data_desc(0xfffff000u),
                        data_desc(0x2000) };
    uint8_t gdtr[6] = { sizeof gdt - 1, 0, GDT & 0xff, GDT >> 8 & 0xff, 0, 0 };

    vm = vm_create(&cfg, err, sizeof err);
    if (!vm)
        return -1;
    vm_write_phys(vm, GDT, gdt, sizeof gdt);
    vm_write_phys(vm, GDTR, gdtr, sizeof gdtr);
    return 0;
}

static int teardown(void **state)
{
    vm_destroy(vm);
    return 0;
}

static enum vm_exit run(const char *code, size_t len, struct vm_regs *r)
{
    vm_write_phys(vm, CODE, code, len);
    r->gpr[ESP] = STACK;
    r->eip = CODE;
    r->eflags |= 2;
    vm_set_regs(vm, r);
    enum vm_exit x = vm_run(vm, CODE + len, 5000);
    vm_get_regs(vm, r);
    return x;
}

#define RUN(bytes, r) run(bytes, sizeof(bytes) - 1, r)
#define LGDT "\x0f\x01\x15\x00\x31\x00\x00"          /* lgdt [0x3100] */

static void wr32(uint32_t a, uint32_t v) { vm_write_phys(vm, a, &v, 4); }
static uint32_t rd32(uint32_t a) { uint32_t v = 0; vm_read_phys(vm, a, &v, 4); return v; }

static void test_fs_gs_bases_are_applied(void **s)
{
    struct vm_regs r = { .gpr = { [EBX] = 0x20, [ESI] = 0x33 } };
    wr32(0x1010, 0x11111111);
    wr32(0x1024, 0x22222222);
    wr32(0x0020, 0x33333333);
    wr32(0x0010, 0x44444444);
    static const char code[] =
        LGDT
        "\x66\xb8\x18\x00"                  /* mov ax, 0x18 (base 0x1000) */
        "\x8e\xe0"                          /* mov fs, ax */
        "\x64\xa1\x10\x00\x00\x00"          /* mov eax, fs:[0x10]      -> 0x1010 (moffs) */
        "\x64\x8b\x4b\x04"                  /* mov ecx, fs:[ebx+4]     -> 0x1024 */
        "\x64\x89\x74\x1b\x40"              /* mov fs:[ebx+ebx+0x40], esi -> 0x1080 (SIB) */
        "\x66\xba\x20\x00"                  /* mov dx, 0x20 (base 0xfffff000) */
        "\x8e\xea"                          /* mov gs, dx */
        "\x65\x8b\x15\x20\x10\x00\x00"      /* mov edx, gs:[0x1020]    -> wraps to 0x20 */
        "\x66\xbf\x10\x00"                  /* mov di, 0x10 (base 0) */
        "\x8e\xe7"                          /* mov fs, di */
        "\x64\x8b\x3d\x10\x00\x00\x00";     /* mov edi, fs:[0x10]      -> 0x10 */
    assert_int_equal(run(code, sizeof code - 1, &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EAX], 0x11111111);
    assert_int_equal(r.gpr[ECX], 0x22222222);
    assert_int_equal(rd32(0x1080), 0x33);
    assert_int_equal(r.gpr[EDX], 0x33333333);
    assert_int_equal(r.gpr[EDI], 0x44444444);
    assert_int_equal(r.gpr[ESI], 0x33);       /* the borrowed register is given back */
}

static void test_ss_base_and_based_stack_operands(void **s)
{
    /* SS based at 0x2000: every push, pop, call, ret, PUSHF/POPF and PUSHA/
     * POPA goes to 0x2000 + ESP; FS-based memory operands of PUSH, POP and
     * JMP add FS's base. */
    struct vm_regs r = { 0 };
    wr32(0x1010, 0x55667788);
    static char code[] =
        LGDT
        "\x66\xb8\x28\x00\x8e\xd0"          /* ss = 0x28 (base 0x2000) */
        "\x68\x44\x33\x22\x11"              /* push 0x11223344 -> 0x2000+0x2fffc */
        "\x5b"                                  /* pop ebx */
        "\xe8\x02\x00\x00\x00"              /* call f */
        "\xeb\x01"                             /* jmp over f */
        "\xc3"                                  /* f: ret */
        "\x9c\x9d\x60\x61"                   /* pushfd; popfd; pushad; popad */
        "\x66\xb8\x18\x00\x8e\xe0"          /* fs = 0x18 (base 0x1000) */
        "\x64\xff\x35\x10\x00\x00\x00"    /* push dword fs:[0x10] */
        "\x64\x8f\x05\x20\x00\x00\x00"    /* pop dword fs:[0x20] */
        "\x64\xff\x25\x30\x00\x00\x00";   /* jmp fs:[0x30] -> the stop address */
    wr32(0x1030, CODE + sizeof code - 1);
    assert_int_equal(run(code, sizeof code - 1, &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EBX], 0x11223344);
    assert_int_equal(rd32(0x2000 + STACK - 4), 0x55667788);   /* the last push, via SS */
    assert_int_equal(rd32(0x1020), 0x55667788);
    assert_int_equal(r.gpr[ESP], STACK);
}

static void test_string_instructions_with_bases(void **s)
{
    /* ES based at 0x2000, the source through FS (base 0x1000): rep movsb
     * copies 0x1010.. to 0x2040..; ESI and EDI stay offsets. Then repne
     * scasb finds a byte through ES. */
    struct vm_regs r = { .gpr = { [ECX] = 4, [ESI] = 0x10, [EDI] = 0x40, [EAX] = 0x33 } };
    vm_write_phys(vm, 0x1010, "\x11\x22\x33\x44", 4);
    static const char code[] =
        LGDT
        "\x66\xbb\x28\x00\x8e\xc3"          /* es = 0x28 (base 0x2000) */
        "\x66\xbb\x18\x00\x8e\xe3"          /* fs = 0x18 (base 0x1000) */
        "\xf3\x64\xa4"                        /* rep movsb es:[edi], fs:[esi] */
        "\xbf\x40\x00\x00\x00"              /* mov edi, 0x40 */
        "\xb9\x10\x00\x00\x00"              /* mov ecx, 16 */
        "\xf2\xae";                            /* repne scasb: find AL=0x33 at es:[0x42] */
    assert_int_equal(run(code, sizeof code - 1, &r), VM_EXIT_STOP_EIP);
    assert_int_equal(rd32(0x2040), 0x44332211);
    assert_int_equal(r.gpr[ESI], 0x14);
    assert_int_equal(r.gpr[EDI], 0x43);
    assert_int_equal(r.gpr[ECX], 13);
}

static void test_segment_base_with_addr16_and_lea(void **s)
{
    /* mov cl, fs:[bx+si] (64 67 8a 08): 16-bit offset, then the base.
     * lea eax, fs:[ebx+8]: LEA ignores the segment (SDM "LEA"). */
    struct vm_regs r = { .gpr = { [EBX] = 0x1fff0, [ESI] = 0x20 } };
    vm_write_phys(vm, 0x1000 + 0x0010, "\x5a", 1);
    static const char code[] =
        LGDT
        "\x66\xb8\x18\x00\x8e\xe0"          /* fs = 0x18 (base 0x1000) */
        "\x64\x67\x8a\x08"                  /* mov cl, fs:[bx+si]: (0xfff0+0x20)&0xffff = 0x10 */
        "\x64\x8d\x43\x08";                 /* lea eax, fs:[ebx+8] */
    assert_int_equal(run(code, sizeof code - 1, &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[ECX] & 0xff, 0x5a);
    assert_int_equal(r.gpr[EAX], 0x1fff8);
}

static void test_ts_makes_x87_nm(void **s)
{
    struct vm_regs r = { 0 };
    /* mov eax,cr0; or eax,8 (TS); mov cr0,eax; fld1 */
    assert_int_equal(RUN("\x0f\x20\xc0\x83\xc8\x08\x0f\x22\xc0\xd9\xe8", &r), VM_EXIT_EXCEPTION);
    assert_int_equal(vm_last_exception(vm)->vector, 7);
    assert_int_equal(vm_last_exception(vm)->eip, CODE + 9);
    /* clts; fld1; fstp st0 run normally again */
    struct vm_regs q = { 0 };
    assert_int_equal(RUN("\x0f\x06\xd9\xe8\xdd\xd8", &q), VM_EXIT_STOP_EIP);
}

static void test_em_makes_sse_ud_and_wait_follows_mp(void **s)
{
    struct vm_regs r = { 0 };
    /* EM: addps xmm0,xmm1 is #UD (SDM vol. 3A table 2-2) */
    assert_int_equal(RUN("\x0f\x20\xc0\x83\xc8\x04\x0f\x22\xc0\x0f\x58\xc1", &r), VM_EXIT_EXCEPTION);
    assert_int_equal(vm_last_exception(vm)->vector, 6);
    assert_int_equal(vm_last_exception(vm)->eip, CODE + 9);
    /* EM off, TS on, MP off: WAIT does not fault; with MP on it is #NM */
    struct vm_regs q = { 0 };
    assert_int_equal(RUN("\x0f\x20\xc0\x83\xe0\xf9\x83\xc8\x08\x0f\x22\xc0\x9b", &q), VM_EXIT_STOP_EIP);
    struct vm_regs t = { 0 };
    assert_int_equal(RUN("\x0f\x20\xc0\x83\xc8\x0a\x0f\x22\xc0\x9b", &t), VM_EXIT_EXCEPTION);
    assert_int_equal(vm_last_exception(vm)->vector, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fs_gs_bases_are_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_base_with_addr16_and_lea, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ss_base_and_based_stack_operands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string_instructions_with_bases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ts_makes_x87_nm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_em_makes_sse_ud_and_wait_follows_mp, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
