/* Per-instruction translation tests: guest bytes in, run them translated,
 * registers, flags and memory out. Each case places code at CODE, runs to
 * the end of it, and checks the outcome against the SDM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "emulator/vm.h"

#define CODE  0x10000u
#define DATA  0x20000u
#define STACK 0x30000u
#define HIGH  0xfffff000u   /* RAM just below 4 GiB, for wrap-around */

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };
#define CF 0x001u
#define ZF 0x040u
#define SF 0x080u
#define DF 0x400u
#define OF 0x800u

static struct vm *vm;

static int setup(void **state)
{
    struct vm_config cfg = { .ram_size = 4u << 20, .stop_on_exception = true, .console_fd = -1,
                             .verify = true };
    char err[200];
    vm = vm_create(&cfg, err, sizeof err);
    if (!vm) {
        fprintf(stderr, "vm_create: %s\n", err);
        return -1;
    }
    if (vm_add_ram(vm, HIGH, 4096, err, sizeof err) < 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    vm_destroy(vm);
    return 0;
}

/* Run code with regs (ESP defaults to STACK); returns the exit. */
static enum vm_exit run(const char *code, size_t len, struct vm_regs *r)
{
    vm_flush_code(vm);
    assert_int_equal(vm_write_phys(vm, CODE, code, len), 0);
    if (!r->gpr[ESP])
        r->gpr[ESP] = STACK;
    r->eip = CODE;
    r->eflags |= 2;
    vm_set_regs(vm, r);
    enum vm_exit x = vm_run(vm, CODE + len, 5000);
    vm_get_regs(vm, r);
    return x;
}

#define RUN(bytes, r) run(bytes, sizeof(bytes) - 1, r)

static uint32_t rd32(uint32_t a) { uint32_t v = 0; vm_read_phys(vm, a, &v, 4); return v; }
static void wr32(uint32_t a, uint32_t v) { vm_write_phys(vm, a, &v, 4); }

static void test_tmp_four_jccs_then_call(void **s)
{
    struct vm_regs r = { 0 };
    r.eflags = 0x402;
    assert_int_equal(RUN("\x7a\x08\x0f\x8d\x00\x00\x00\x00\x75\x00\x77\x07\xb9\x14\x00\x01\x00\xff\xd1", &r), VM_EXIT_STOP_EIP);
}

static void test_disp32_and_moffs(void **s)
{
    struct vm_regs r = { 0 };
    wr32(DATA, 0x12345678);
    /* mov ecx,[DATA] (mod=00 rm=101); mov eax,[DATA] (A1); mov [DATA+4],eax (A3) */
    assert_int_equal(RUN("\x8b\x0d\x00\x00\x02\x00" "\xa1\x00\x00\x02\x00" "\xa3\x04\x00\x02\x00", &r),
                     VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[ECX], 0x12345678);
    assert_int_equal(r.gpr[EAX], 0x12345678);
    assert_int_equal(rd32(DATA + 4), 0x12345678);
}

static void test_incdec_short(void **s)
{
    struct vm_regs r = { .gpr = { [EAX] = 0x7fffffff, [ECX] = 1, [EDX] = 0x1ffff } };
    /* inc eax; dec ecx; inc dx (66 42) */
    assert_int_equal(RUN("\x40\x49\x66\x42", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EAX], 0x80000000u);
    assert_int_equal(r.gpr[ECX], 0);
    assert_int_equal(r.gpr[EDX], 0x10000);
    assert_true(r.eflags & ZF);   /* from inc dx: 0xffff+1 = 0 */
}

static void test_push_pop(void **s)
{
    struct vm_regs r = { 0 };
    /* push 0x11223344; pop ebx; push esp; pop eax; pushw 0x5566; pop cx (66 59) */
    assert_int_equal(RUN("\x68\x44\x33\x22\x11\x5b\x54\x58\x66\x68\x66\x55\x66\x59", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EBX], 0x11223344);
    assert_int_equal(r.gpr[EAX], STACK);        /* push esp pushes the old value */
    assert_int_equal(r.gpr[ECX] & 0xffff, 0x5566);
    assert_int_equal(r.gpr[ESP], STACK);
}

static void test_pop_mem_esp_based(void **s)
{
    struct vm_regs r = { .gpr = { [EAX] = 0xabcd0123 } };
    /* push eax; push 0; pop dword [esp] (8f 04 24): the address uses the
     * incremented ESP, so the value lands where EAX was pushed. */
    wr32(STACK - 4, 0);
    assert_int_equal(RUN("\x50\x6a\x00\x8f\x04\x24", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[ESP], STACK - 4);
    assert_int_equal(rd32(STACK - 4), 0);
}

static void test_pusha_popa(void **s)
{
    struct vm_regs r = { .gpr = { 1, 2, 3, 4, 0, 6, 7, 8 } };
    /* pusha; mov eax,[esp+12] (the saved ESP); mov [DATA],eax; xor eax..; popa */
    assert_int_equal(RUN("\x60\x8b\x44\x24\x0c\xa3\x00\x00\x02\x00\x31\xc0\x31\xdb\x31\xff\x61", &r),
                     VM_EXIT_STOP_EIP);
    assert_int_equal(rd32(DATA), STACK);
    assert_int_equal(r.gpr[EAX], 1);
    assert_int_equal(r.gpr[EBX], 4);
    assert_int_equal(r.gpr[EDI], 8);
    assert_int_equal(r.gpr[ESP], STACK);
}

static void test_call_ret(void **s)
{
    struct vm_regs r = { 0 };
    /* call +6; jmp +8 (to end); mov eax,7; ret 0 ... :
     *   0: e8 02 00 00 00   call 7
     *   5: eb 06            jmp 13 (end)
     *   7: b8 07 00 00 00   mov eax, 7
     *  12: c3               ret */
    assert_int_equal(RUN("\xe8\x02\x00\x00\x00\xeb\x06\xb8\x07\x00\x00\x00\xc3", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EAX], 7);
    assert_int_equal(r.gpr[ESP], STACK);
}

static void test_ret_imm16(void **s)
{
    struct vm_regs r = { 0 };
    /* push 1; push 2; call f; jmp end; f: ret 8 */
    assert_int_equal(RUN("\x6a\x01\x6a\x02\xe8\x02\x00\x00\x00\xeb\x03\xc2\x08\x00", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[ESP], STACK);
}

static void test_flags_survive_ret_and_indirect(void **s)
{
    /* CF set before a call must survive the call, the ret (a jump-cache
     * lookup) and an indirect jmp. */
    struct vm_regs r = { 0 };
    static const char prog[] =
        "\xf9"                  /*  0: stc */
        "\xe8\x05\x00\x00\x00"  /*  1: call 11 */
        "\x0f\x92\xc0"          /*  6: setc al */
        "\xff\xe3"              /*  9: jmp ebx (-> 14) */
        "\xc3"                  /* 11: ret */
        "\x90\x90"              /* 12 */
        "\x0f\x92\xc1";         /* 14: setc cl */
    r.gpr[EBX] = CODE + 14;
    assert_int_equal(run(prog, sizeof prog - 1, &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EAX] & 0xff, 1);
    assert_int_equal(r.gpr[ECX] & 0xff, 1);
}

static void test_rep_movsd_both_directions(void **s)
{
    struct vm_regs r = { .gpr = { [ESI] = DATA, [EDI] = DATA + 0x100, [ECX] = 4 } };
    for (int i = 0; i < 4; i++)
        wr32(DATA + 4 * i, 0xa0 + i);
    assert_int_equal(RUN("\xf3\xa5", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(rd32(DATA + 0x10c), 0xa3);
    assert_int_equal(r.gpr[ESI], DATA + 16);
    assert_int_equal(r.gpr[EDI], DATA + 0x110);
    assert_int_equal(r.gpr[ECX], 0);

    /* std; rep movsd backwards; cld */
    struct vm_regs q = { .gpr = { [ESI] = DATA + 12, [EDI] = DATA + 0x20c, [ECX] = 4 } };
    assert_int_equal(RUN("\xfd\xf3\xa5\xfc", &q), VM_EXIT_STOP_EIP);
    assert_int_equal(rd32(DATA + 0x200), 0xa0);
    assert_int_equal(q.gpr[ESI], DATA - 4);
    assert_int_equal(q.gpr[EDI], DATA + 0x1fc);
}

static void test_repne_scasb(void **s)
{
    struct vm_regs r = { .gpr = { [EDI] = DATA, [ECX] = 0xffffffff } };
    vm_write_phys(vm, DATA, "hello\0", 6);
    /* xor eax,eax; repne scasb: strlen */
    assert_int_equal(RUN("\x31\xc0\xf2\xae", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(~r.gpr[ECX] - 1, 5);
    assert_true(r.eflags & ZF);
}

static void test_jcc_and_loop(void **s)
{
    struct vm_regs r = { .gpr = { [ECX] = 10 } };
    /* l: inc eax; loop l; cmp eax,10; jne bad; mov ebx,1; bad: */
    assert_int_equal(RUN("\x40\xe2\xfd\x83\xf8\x0a\x75\x05\xbb\x01\x00\x00\x00", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EAX], 10);
    assert_int_equal(r.gpr[EBX], 1);
}

static void test_indirect_call_memory(void **s)
{
    struct vm_regs r = { 0 };
    wr32(DATA, CODE + 8);
    /* call [DATA]; jmp end(+6)... 0: ff 15 DATA; 6: eb 06; 8: b8 05 00 00 00; 13: c3 */
    assert_int_equal(RUN("\xff\x15\x00\x00\x02\x00\xeb\x06\xb8\x05\x00\x00\x00\xc3", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EAX], 5);
    assert_int_equal(r.gpr[ESP], STACK);
}

static void test_wraparound_load(void **s)
{
    struct vm_regs r = { .gpr = { [EBX] = 0xfffffffcu, [ESI] = 0xffffff00u } };
    wr32(0xfffffffcu, 0xcafef00d);
    /* mov eax,[ebx]; mov ecx,[esi+0xfc] (the sum wraps within 32 bits, lands at 0xfffffffc) */
    assert_int_equal(RUN("\x8b\x03\x8b\x8e\xfc\x00\x00\x00", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EAX], 0xcafef00d);
    assert_int_equal(r.gpr[ECX], 0xcafef00d);

    /* mov eax,[ebx+8]: 0xfffffffc+8 wraps to 4 */
    wr32(4, 0x600df00d);
    struct vm_regs q = { .gpr = { [EBX] = 0xfffffffcu } };
    assert_int_equal(RUN("\x8b\x43\x08", &q), VM_EXIT_STOP_EIP);
    assert_int_equal(q.gpr[EAX], 0x600df00d);
}

static void test_bcd(void **s)
{
    struct vm_regs r = { .gpr = { [EAX] = 0x79, [EBX] = 0x35 } };
    /* add al,bl (0x79+0x35=0xae); daa -> 0x14 with CF (79+35=114 BCD) */
    assert_int_equal(RUN("\x00\xd8\x27", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EAX] & 0xff, 0x14);
    assert_true(r.eflags & CF);
    /* aam: 77 -> ah 7 al 7; aad 16 (d5 10): al = 7*16+7 = 0x77 */
    struct vm_regs q = { .gpr = { [EAX] = 77 } };
    assert_int_equal(RUN("\xd4\x0a\xd5\x10", &q), VM_EXIT_STOP_EIP);
    assert_int_equal(q.gpr[EAX] & 0xffff, 0x0077);
}

static void test_enter_leave(void **s)
{
    struct vm_regs r = { .gpr = { [EBP] = 0x1234 } };
    /* enter 16,0; mov eax,ebp; leave */
    assert_int_equal(RUN("\xc8\x10\x00\x00\x89\xe8\xc9", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EAX], STACK - 4);
    assert_int_equal(r.gpr[EBP], 0x1234);
    assert_int_equal(r.gpr[ESP], STACK);
    /* enter 8,2 (nested): pushes ebp, one display entry, the frame pointer */
    struct vm_regs q = { .gpr = { [EBP] = STACK + 0x40 } };
    wr32(STACK + 0x3c, 0x77);
    assert_int_equal(RUN("\xc8\x08\x00\x02", &q), VM_EXIT_STOP_EIP);
    assert_int_equal(q.gpr[EBP], STACK - 4);
    assert_int_equal(rd32(STACK - 8), 0x77);
    assert_int_equal(rd32(STACK - 12), STACK - 4);
    assert_int_equal(q.gpr[ESP], STACK - 12 - 8);
}

static void test_xlat_salc(void **s)
{
    struct vm_regs r = { .gpr = { [EAX] = 0x1103, [EBX] = DATA } };
    vm_write_phys(vm, DATA, "\x10\x20\x30\x40", 4);
    /* xlat; mov dl,al; stc; salc */
    assert_int_equal(RUN("\xd7\x88\xc2\xf9\xd6", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EDX] & 0xff, 0x40);
    assert_int_equal(r.gpr[EAX], 0x11ff);
    assert_true(r.eflags & CF);
}

static void test_sse2_memory(void **s)
{
    struct vm_regs r = { .gpr = { [EBX] = DATA } };
    for (int i = 0; i < 8; i++)
        wr32(DATA + 4 * i, (uint32_t)i * 0x01010101u);
    /* movdqu xmm0,[ebx]; movdqu xmm1,[ebx+16]; paddd xmm0,xmm1; movdqu [ebx+32],xmm0 */
    assert_int_equal(RUN("\xf3\x0f\x6f\x03\xf3\x0f\x6f\x4b\x10\x66\x0f\xfe\xc1\xf3\x0f\x7f\x43\x20", &r),
                     VM_EXIT_STOP_EIP);
    for (int i = 0; i < 4; i++)
        assert_int_equal(rd32(DATA + 32 + 4 * i), (uint32_t)(2 * i + 4) * 0x01010101u);
}

static void test_x87(void **s)
{
    struct vm_regs r = { 0 };
    double two = 2.0, out = 0;
    vm_write_phys(vm, DATA, &two, 8);
    /* fld qword [DATA]; fsqrt; fmul st0,st0; fstp qword [DATA+8] */
    assert_int_equal(RUN("\xdd\x05\x00\x00\x02\x00\xd9\xfa\xdc\xc8\xdd\x1d\x08\x00\x02\x00", &r),
                     VM_EXIT_STOP_EIP);
    vm_read_phys(vm, DATA + 8, &out, 8);
    assert_true(out > 1.9999999 && out < 2.0000001);
}

static void test_divide_error_is_precise(void **s)
{
    struct vm_regs r = { .gpr = { [EAX] = 5, [ECX] = 0 } };
    /* inc ebx; div ecx; inc ebx */
    assert_int_equal(RUN("\x43\xf7\xf1\x43", &r), VM_EXIT_EXCEPTION);
    assert_int_equal(vm_last_exception(vm)->vector, 0);
    assert_int_equal(vm_last_exception(vm)->eip, CODE + 1);
    assert_int_equal(r.gpr[EBX], 1);
    assert_int_equal(r.eip, CODE + 1);
}

static void test_ud2_and_garbage(void **s)
{
    struct vm_regs r = { 0 };
    assert_int_equal(RUN("\x90\x0f\x0b", &r), VM_EXIT_EXCEPTION);
    assert_int_equal(vm_last_exception(vm)->vector, 6);
    assert_int_equal(vm_last_exception(vm)->eip, CODE + 1);
    struct vm_regs q = { 0 };
    assert_int_equal(RUN("\x0f\x04", &q), VM_EXIT_EXCEPTION);
    assert_int_equal(vm_last_exception(vm)->vector, 6);
}

static void test_misaligned_sse_is_gp(void **s)
{
    /* movaps xmm0,[ebx+1]: a misaligned 16-byte operand is #GP(0) (SDM vol. 1
     * §11.6.7); the host raises #GP too, which must reach the guest. */
    struct vm_regs r = { .gpr = { [EBX] = DATA } };
    assert_int_equal(RUN("\x90\x0f\x28\x43\x01", &r), VM_EXIT_EXCEPTION);
    assert_int_equal(vm_last_exception(vm)->vector, 13);
    assert_int_equal(vm_last_exception(vm)->error_code, 0);
    assert_int_equal(vm_last_exception(vm)->eip, CODE + 1);
}

static void test_int3_reports_next_eip(void **s)
{
    struct vm_regs r = { 0 };
    assert_int_equal(RUN("\xcc\x90", &r), VM_EXIT_EXCEPTION);
    assert_int_equal(vm_last_exception(vm)->vector, 3);
    assert_int_equal(vm_last_exception(vm)->eip, CODE + 1);
}

static void test_pushf_popf_cli_sti(void **s)
{
    struct vm_regs r = { .eflags = 0x200 };
    /* cli; pushf; pop eax; sti; pushf; pop ebx; push 0x8d5|0x400; popf; cld */
    assert_int_equal(RUN("\xfa\x9c\x58\xfb\x9c\x5b\x68\xd5\x0c\x00\x00\x9d", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EAX] & 0x200, 0);
    assert_int_equal(r.gpr[EBX] & 0x200, 0x200);
    assert_int_equal(r.eflags & 0xcd5, 0xcd5);
}

static void test_rep_bsf_is_bsf(void **s)
{
    /* An i686 ignores F3 on BSF; a BMI1 host would run TZCNT (ZF=0, EAX=32). */
    struct vm_regs r = { .gpr = { [EAX] = 0x1234, [ECX] = 0, [EDX] = 8 } };
    assert_int_equal(RUN("\xf3\x0f\xbc\xc1\x9c\x5e\xf3\x0f\xbc\xda", &r), VM_EXIT_STOP_EIP);
    assert_true(r.gpr[ESI] & ZF);          /* bsf eax, ecx with ECX=0: ZF=1 */
    assert_int_equal(r.gpr[EBX], 3);       /* bsf ebx, edx with EDX=8 */
}

static void test_maskmovq_stores_through_edi(void **s)
{
    struct vm_regs r = { .gpr = { [EBX] = DATA, [EDI] = DATA + 0x40 } };
    uint64_t src = 0x1122334455667788ull, mask = 0x8000000000000080ull, out = 0;
    vm_write_phys(vm, DATA, &src, 8);
    vm_write_phys(vm, DATA + 8, &mask, 8);
    vm_write_phys(vm, DATA + 0x40, &out, 8);
    /* movq mm0,[ebx]; movq mm1,[ebx+8]; maskmovq mm0,mm1; emms */
    assert_int_equal(RUN("\x0f\x6f\x03\x0f\x6f\x4b\x08\x0f\xf7\xc1\x0f\x77", &r), VM_EXIT_STOP_EIP);
    vm_read_phys(vm, DATA + 0x40, &out, 8);
    assert_true(out == 0x1100000000000088ull);
    assert_int_equal(r.gpr[EDI], DATA + 0x40);
}

static void test_addr16_operands(void **s)
{
    /* lea eax,[bx+si+0x10] (67 8d 40 10) is 16-bit: the sum wraps at 64 KiB;
     * mov cl,[bx+di] (67 8a 09) reads through a borrowed register. */
    struct vm_regs r = { .gpr = { [EBX] = 0x1fff8, [ESI] = 0x10, [EDI] = 0x1000 } };
    vm_write_phys(vm, (0xfff8 + 0x1000) & 0xffff, "\x5a", 1);
    assert_int_equal(RUN("\x67\x8d\x40\x10\x67\x8a\x09", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EAX], 0x0018);
    assert_int_equal(r.gpr[ECX] & 0xff, 0x5a);
    assert_int_equal(r.gpr[ESI], 0x10);
    assert_int_equal(r.gpr[EDI], 0x1000);

    /* mov eax,[moffs16] (67 a1 iw): a 16-bit offset */
    struct vm_regs q = { 0 };
    wr32(0x1234, 0x0badcafe);
    assert_int_equal(RUN("\x67\xa1\x34\x12", &q), VM_EXIT_STOP_EIP);
    assert_int_equal(q.gpr[EAX], 0x0badcafe);
}

static void test_unchained_matches_chained(void **s)
{
    /* A loop across several blocks gives the same result as the chained run above. */
    struct vm_regs r = { .gpr = { [ECX] = 1000 } };
    assert_int_equal(RUN("\x40\x83\xc3\x02\xe2\xfa", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EAX], 1000);
    assert_int_equal(r.gpr[EBX], 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disp32_and_moffs),
        cmocka_unit_test(test_incdec_short),
        cmocka_unit_test(test_push_pop),
        cmocka_unit_test(test_pop_mem_esp_based),
        cmocka_unit_test(test_pusha_popa),
        cmocka_unit_test(test_call_ret),
        cmocka_unit_test(test_ret_imm16),
        cmocka_unit_test(test_flags_survive_ret_and_indirect),
        cmocka_unit_test(test_rep_movsd_both_directions),
        cmocka_unit_test(test_repne_scasb),
        cmocka_unit_test(test_jcc_and_loop),
        cmocka_unit_test(test_indirect_call_memory),
        cmocka_unit_test(test_wraparound_load),
        cmocka_unit_test(test_bcd),
        cmocka_unit_test(test_enter_leave),
        cmocka_unit_test(test_xlat_salc),
        cmocka_unit_test(test_sse2_memory),
        cmocka_unit_test(test_x87),
        cmocka_unit_test(test_divide_error_is_precise),
        cmocka_unit_test(test_ud2_and_garbage),
        cmocka_unit_test(test_misaligned_sse_is_gp),
        cmocka_unit_test(test_int3_reports_next_eip),
        cmocka_unit_test(test_pushf_popf_cli_sti),
        cmocka_unit_test(test_rep_bsf_is_bsf),
        cmocka_unit_test(test_maskmovq_stores_through_edi),
        cmocka_unit_test(test_addr16_operands),
        cmocka_unit_test(test_unchained_matches_chained),
        cmocka_unit_test(test_tmp_four_jccs_then_call),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
