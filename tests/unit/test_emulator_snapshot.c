/* Snapshots in-process (emulator/snapshot.c, snapshot_state.c): a machine
 * saved and loaded into a fresh one comes back field for field; every
 * kind of damaged file (truncated at many offsets, any flipped bit,
 * another format or section version, an unknown section, data after END,
 * another RAM size or machine) is refused with one line and leaves the
 * machine exactly as it was. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include <cmocka.h>

#include "emulator/snapshot.h"
#include "emulator/vcpu.h"

#define RAM (8u << 20)

static char dir[] = "/tmp/test_snapshot.XXXXXX";
static char good[300], bad[300];
static uint8_t *file;           /* the good snapshot's bytes */
static size_t file_len;

static struct vm *new_vm(uint64_t ram, bool isapc)
{
    struct vm_config cfg = { .ram_size = ram, .console_fd = -1, .isapc = isapc };
    char err[200];
    struct vm *vm = vm_create(&cfg, err, sizeof err);
    assert_non_null(vm);
    return vm;
}

/* A machine in a state no fresh one has. */
static void scribble(struct vm *vm, uint32_t seed)
{
    struct vm_regs r;
    uint8_t fx[512];
    for (uint32_t a = 0x100000; a < 0x180000; a += 4) {
        uint32_t v = a * 2654435761u ^ seed;
        vm_write_phys(vm, a, &v, 4);
    }
    vm_write_phys(vm, RAM - 4, &seed, 4);
    for (int i = 0; i < 8; i++)
        r.gpr[i] = seed + (uint32_t)i * 0x01010101u;
    r.eip = 0x100000 + (seed & 0xfff);
    r.eflags = 0x202;
    vm_set_regs(vm, &r);
    for (int i = 0; i < 512; i++)
        fx[i] = (uint8_t)(seed + (uint32_t)i);
    memset(fx + 24, 0, 8);                      /* MXCSR and its mask: valid */
    fx[24] = 0x80, fx[25] = 0x1f;
    vm_set_fxsave(vm, fx);
    vm->vcpu->cr2 = seed;
    vm->vcpu->sysenter_eip = ~seed;
    vm->vcpu->pat = 0x0007040600070406ull ^ ((uint64_t)(seed & 1) << 1);
    vm->vcpu->halted = true;
    vm->uart.scr = (uint8_t)seed;
    vm->uart.rx[3] = 0x5a, vm->uart.rx_count = 4;
    vm->pic.chip[0].imr = (uint8_t)(seed >> 8);
    vm->pit.ch[2].count = 0x1234;
    vm->rtc.cmos[0x40] = (uint8_t)(seed >> 16);
    vm->vga.crtc[14] = 0x07;
    vm->pci.fn[0].cfg[0x44] = 0x99;
    vm->ide.ch[1].buf[100] = 0x77;
    vm->lapic.tpr = 0x20;
    vm->ioapic.redir[5] = 0x1234ull;
    vm->hpet.t[1].cmp = 0xabcdef;
}

/* What a load must restore, as one hash. */
static uint64_t state_hash(struct vm *vm)
{
    XXH3_state_t *st = XXH3_createState();
    struct vm_regs r;
    uint8_t fx[512];
    struct vcpu *v = vm->vcpu;
    uint64_t h;

    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, vm_phys_ptr(vm, 0, vm->cfg.ram_size), vm->cfg.ram_size);
    vm_get_regs(vm, &r);
    vm_get_fxsave(vm, fx);
    XXH3_64bits_update(st, &r, sizeof r);
    XXH3_64bits_update(st, fx, sizeof fx);
    XXH3_64bits_update(st, &v->cr2, 4);
    XXH3_64bits_update(st, &v->sysenter_eip, 4);
    XXH3_64bits_update(st, &v->pat, 8);
    XXH3_64bits_update(st, &v->halted, 1);
    XXH3_64bits_update(st, &vm->uart.scr, 1);
    XXH3_64bits_update(st, vm->uart.rx, sizeof vm->uart.rx);
    XXH3_64bits_update(st, &vm->pic.chip, sizeof vm->pic.chip);
    XXH3_64bits_update(st, &vm->pit.ch, sizeof vm->pit.ch);
    XXH3_64bits_update(st, vm->rtc.cmos, sizeof vm->rtc.cmos);
    XXH3_64bits_update(st, &vm->vga, sizeof vm->vga);
    XXH3_64bits_update(st, vm->pci.fn, sizeof vm->pci.fn);
    XXH3_64bits_update(st, vm->ide.ch[1].buf, sizeof vm->ide.ch[1].buf);
    XXH3_64bits_update(st, &vm->lapic.tpr, 4);
    XXH3_64bits_update(st, vm->ioapic.redir, sizeof vm->ioapic.redir);
    XXH3_64bits_update(st, vm->hpet.t, sizeof vm->hpet.t);
    h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return h;
}

static void write_bad(const uint8_t *p, size_t n)
{
    FILE *f = fopen(bad, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* Loading `bad` fails with one line that contains `want` (NULL: any), and
 * vm is untouched. */
static void refused(struct vm *vm, const char *want)
{
    char err[600] = "";
    uint64_t before = state_hash(vm);
    assert_int_equal(vm_snapshot_load(vm, bad, err, sizeof err), -1);
    assert_true(err[0] != 0 && !strchr(err, '\n'));
    if (want && !strstr(err, want))
        fail_msg("expected '%s' in: %s", want, err);
    assert_true(state_hash(vm) == before);
}

static int setup(void **state)
{
    struct vm *vm;
    char err[300];
    FILE *f;
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(good, sizeof good, "%s/good.bt86", dir);
    snprintf(bad, sizeof bad, "%s/bad.bt86", dir);
    vm = new_vm(RAM, false);
    scribble(vm, 0x5eed1234);
    if (vm_snapshot_save(vm, good, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    vm_destroy(vm);
    f = fopen(good, "rb");
    fseek(f, 0, SEEK_END);
    file_len = (size_t)ftell(f);
    rewind(f);
    file = malloc(file_len);
    if (fread(file, 1, file_len, f) != file_len)
        return -1;
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(good);
    unlink(bad);
    rmdir(dir);
    free(file);
    return 0;
}

static void round_trip_restores_everything(void **state)
{
    struct vm *a = new_vm(RAM, false), *b = new_vm(RAM, false);
    char err[300];
    (void)state;
    scribble(a, 0x5eed1234);
    scribble(b, 0x0badf00d);
    assert_true(state_hash(a) != state_hash(b));
    assert_int_equal(vm_snapshot_load(b, good, err, sizeof err), 0);
    assert_true(state_hash(a) == state_hash(b));
    /* all-zero pages are not in the file: far smaller than RAM */
    assert_true(file_len < RAM / 8);
    vm_destroy(a);
    vm_destroy(b);
}

/* The guest's clock and TSC continue from the saved point. */
static void guest_time_continues(void **state)
{
    struct vm *a = new_vm(RAM, false);
    char err[300];
    (void)state;
    a->clock_shift = 1000000000000000ull;   /* a guest a long way ahead of this host */
    uint64_t t0 = vm_clock_ns(a);
    assert_int_equal(vm_snapshot_save(a, bad, err, sizeof err), 0);
    vm_destroy(a);
    a = new_vm(RAM, false);
    assert_int_equal(vm_snapshot_load(a, bad, err, sizeof err), 0);
    uint64_t t1 = vm_clock_ns(a);
    assert_true(t1 >= t0 && t1 - t0 < 60000000000ull);
    vm_destroy(a);
}

static void truncated_files_are_refused(void **state)
{
    struct vm *vm = new_vm(RAM, false);
    (void)state;
    scribble(vm, 0x77777777);
    for (size_t cut = 0; cut < file_len; cut += cut < 64 ? 1 : file_len / 97 + 1) {
        write_bad(file, cut);
        refused(vm, cut == 0 ? "truncated" : NULL);
    }
    write_bad(file, file_len - 1);
    refused(vm, "truncated");
    vm_destroy(vm);
}

static void flipped_bits_are_refused(void **state)
{
    struct vm *vm = new_vm(RAM, false);
    uint8_t *copy = malloc(file_len);
    (void)state;
    scribble(vm, 0x77777777);
    srand(5);
    for (int i = 0; i < 150; i++) {
        size_t at = i < 40 ? (size_t)i : (size_t)rand() % file_len;
        memcpy(copy, file, file_len);
        copy[at] ^= (uint8_t)(1u << (rand() % 8));
        write_bad(copy, file_len);
        refused(vm, NULL);
    }
    free(copy);
    vm_destroy(vm);
}

static void other_versions_and_sections_are_refused(void **state)
{
    struct vm *vm = new_vm(RAM, false);
    uint8_t *copy = malloc(file_len + 1);
    uint32_t v;
    (void)state;
    memcpy(copy, file, file_len);
    v = SNAP_FORMAT_VERSION + 1;
    memcpy(copy + 8, &v, 4);
    write_bad(copy, file_len);
    refused(vm, "format version 2");
    memcpy(copy, file, file_len);
    copy[0] = 'X';
    write_bad(copy, file_len);
    refused(vm, "not a bt86 snapshot");
    memcpy(copy, file, file_len);
    v = 9;                                      /* the first section's version */
    memcpy(copy + 16 + 4, &v, 4);
    write_bad(copy, file_len);
    refused(vm, "version 9");
    memcpy(copy, file, file_len);
    memcpy(copy + 16, "ZZZZ", 4);               /* the first section's id */
    write_bad(copy, file_len);
    refused(vm, "unknown section 'ZZZZ'");
    memcpy(copy, file, file_len);
    copy[file_len] = 0;
    write_bad(copy, file_len + 1);
    refused(vm, "after the end");
    free(copy);
    vm_destroy(vm);
}

static void another_machine_is_refused(void **state)
{
    struct vm *big = new_vm(RAM * 2, false), *isapc = new_vm(RAM, true);
    (void)state;
    write_bad(file, file_len);
    refused(big, "8 MiB of RAM, this one has 16");
    refused(isapc, "machine pc, this one is isapc");
    vm_destroy(big);
    vm_destroy(isapc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_restores_everything),
        cmocka_unit_test(guest_time_continues),
        cmocka_unit_test(truncated_files_are_refused),
        cmocka_unit_test(flipped_bits_are_refused),
        cmocka_unit_test(other_versions_and_sections_are_refused),
        cmocka_unit_test(another_machine_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
