/* Shadow paging driven in-process (issue #5): guest code that edits a
 * traced page table and reloads CR3 or INVLPGs sees every edit, and its
 * page-table stores become monitor callouts after a few traced faults
 * (adaptive translation); CR3 switches between two address spaces find
 * their shadow spaces cached; the same edits work on PAE's 64-bit
 * entries; and --shadow-spaces is parsed. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "emulator/options.h"
#include "emulator/vm.h"

#define CODE  0x10000u
#define STACK 0x8000u
#define PD    0x80000u
#define PT0   0x81000u          /* 0..4 MiB identity */
#define PT1   0x83000u          /* linear 0x400000: the test page */
#define PD2   0x84000u
#define PT2   0x85000u
#define FA    0x200000u
#define FB    0x201000u
#define X     0x400000u

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

static struct vm *vm;

static void wr(uint32_t a, const void *p, size_t n) { assert_int_equal(vm_write_phys(vm, a, p, n), 0); }
static void wr32(uint32_t a, uint32_t v) { wr(a, &v, 4); }

static int setup(void **state)
{
    /* Page tables written protected and traced, as these tests count
     * (left writable, shadowmmu/mmu_unsync.c, is pg_unsync's). */
    struct vm_config cfg = { .ram_size = 4u << 20, .console_fd = -1, .verify = true,
                             .stop_on_exception = true, .unsync_tables = -1 };
    static uint32_t pt[1024];
    char err[200];

    vm = vm_create(&cfg, err, sizeof err);
    if (!vm)
        return -1;
    for (uint32_t i = 0; i < 1024; i++)
        pt[i] = i << 12 | 3;
    wr(PT0, pt, sizeof pt);
    wr32(PD, PT0 | 3);
    wr32(PD + 4, PT1 | 3);
    wr32(PD2, PT0 | 3);
    wr32(PD2 + 4, PT2 | 3);
    wr32(FA, 0xaaaa);
    wr32(FB, 0xbbbb);
    return 0;
}

static int teardown(void **state)
{
    vm_destroy(vm);
    return 0;
}

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

/* 100 times: point the (low half of the) PTE at `pte` to FA, reload CR3,
 * add [X] to EBX; point it to FB, INVLPG, add [X] to EDX.
 *   mov ecx, 100
 *   1: mov dword [pte], FA|3; mov eax, cr3; mov cr3, eax; add ebx, [X]
 *      mov dword [pte], FB|3; invlpg [X]; add edx, [X]
 *      dec ecx; jnz 1b */
static enum vm_exit run_pte_edits(uint32_t pte, struct vm_regs *r)
{
    char code[] = "\xb9\x64\x00\x00\x00"
                  "\xc7\x05PTE_\x03\x00\x20\x00"
                  "\x0f\x20\xd8\x0f\x22\xd8"
                  "\x03\x1d\x00\x00\x40\x00"
                  "\xc7\x05PTE_\x03\x10\x20\x00"
                  "\x0f\x01\x3d\x00\x00\x40\x00"
                  "\x03\x15\x00\x00\x40\x00"
                  "\x49\x75\xd0";
    memcpy(code + 7, &pte, 4);
    memcpy(code + 29, &pte, 4);
    return run(code, sizeof code - 1, r);
}

static void test_traced_pte_edits(void **s)
{
    struct vm_regs r = { 0 };
    uint64_t adaptive = stat("adaptive");

    vm_set_control(vm, 0x80010011u, PD, 0);
    assert_int_equal(run_pte_edits(PT1, &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EBX], 100 * 0xaaaa);
    assert_int_equal(r.gpr[EDX], 100 * 0xbbbb);
    /* Both PTE stores were traced, then re-translated as callouts. */
    assert_true(stat("mmu_traced_writes") >= 2);
    assert_true(stat("adaptive") - adaptive >= 2);
    assert_true(stat("memop_callouts") >= 150);
}

static void test_cr3_switches(void **s)
{
    struct vm_regs r = { 0 };
    uint64_t created, hits;

    wr32(PT1, FA | 3);
    wr32(PT2, FB | 3);
    vm_set_control(vm, 0x80010011u, PD, 0);
    created = stat("mmu_spaces_created");
    hits = stat("mmu_cr3_hits");
    /* mov ecx, 1000
     * 1: mov eax, PD; mov cr3, eax; add ebx, [X]
     *    mov eax, PD2; mov cr3, eax; add edx, [X]
     *    dec ecx; jnz 1b */
    assert_int_equal(RUN("\xb9\xe8\x03\x00\x00"
                         "\xb8\x00\x00\x08\x00\x0f\x22\xd8\x03\x1d\x00\x00\x40\x00"
                         "\xb8\x00\x40\x08\x00\x0f\x22\xd8\x03\x15\x00\x00\x40\x00"
                         "\x49\x75\xe1", &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EBX], 1000 * 0xaaaa);
    assert_int_equal(r.gpr[EDX], 1000 * 0xbbbb);
    assert_true(stat("mmu_spaces_created") - created <= 1);     /* PD's space was there */
    assert_true(stat("mmu_cr3_hits") - hits >= 1998);
}

/* PAE paging (CR4.PAE): the same edits on a 64-bit PTE, stored as its
 * low half, are seen after INVLPG and after a CR3 reload. */
#define PDPT  0x86000u
#define PAEPD 0x87000u
#define PAEPT0 0x88000u         /* 0..2 MiB identity */
#define PAEPTX 0x89000u         /* linear 0x400000 (PDE 2) */
static void wr64(uint32_t a, uint64_t v) { wr(a, &v, 8); }

static void test_pae_traced_edits(void **s)
{
    struct vm_regs r = { 0 };

    for (uint32_t i = 0; i < 512; i++)
        wr64(PAEPT0 + i * 8, (uint64_t)(i << 12 | 3));
    wr64(PDPT, PAEPD | 1);
    wr64(PAEPD, PAEPT0 | 3);
    wr64(PAEPD + 2 * 8, PAEPTX | 3);
    wr64(PAEPTX, FB | 3);
    vm_set_control(vm, 0x80010011u, PDPT, 0x20);
    assert_int_equal(run_pte_edits(PAEPTX, &r), VM_EXIT_STOP_EIP);
    assert_int_equal(r.gpr[EBX], 100 * 0xaaaa);
    assert_int_equal(r.gpr[EDX], 100 * 0xbbbb);
    vm_set_control(vm, 0x11, 0, 0);
    assert_int_equal(RUN("\x90", &r), VM_EXIT_STOP_EIP);
}

static void test_option(void **s)
{
    struct options o;
    char err[200];
    char *ok[] = { "bt86", "--shadow-spaces", "4", "k.elf" };
    char *zero[] = { "bt86", "--shadow-spaces", "0", "k.elf" };
    char *big[] = { "bt86", "-shadow-spaces", "257", "k.elf" };
    char *junk[] = { "bt86", "--shadow-spaces", "4x", "k.elf" };

    assert_int_equal(options_parse(4, ok, &o, err, sizeof err), 0);
    assert_int_equal(o.shadow_spaces, 4);
    assert_int_equal(options_parse(4, zero, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "1 to 256"));
    assert_int_equal(options_parse(4, big, &o, err, sizeof err), -1);
    assert_int_equal(options_parse(4, junk, &o, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_traced_pte_edits),
        cmocka_unit_test(test_cr3_switches),
        cmocka_unit_test(test_pae_traced_edits),
        cmocka_unit_test(test_option),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
