/* PCI configuration mechanism #1 and QEMU pc's bus 0 (i440FX, PIIX3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "emulator/hw/pci.h"

struct fixture {
    struct io_bus bus;
    struct pci_bus pci;
    int resets;
};

static void on_reset(void *opaque) { ((struct fixture *)opaque)->resets++; }

static int setup(void **state)
{
    struct fixture *f = test_calloc(1, sizeof *f);
    if (pci_init(&f->pci, &f->bus, on_reset, f) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    test_free(*state);
    return 0;
}

static uint32_t cfg_addr(int dev, int fn, int reg)
{
    return 0x80000000u | (uint32_t)dev << 11 | (uint32_t)fn << 8 | (uint32_t)reg;
}

static uint32_t rd(struct fixture *f, int dev, int fn, int reg, int size)
{
    io_out(&f->bus, 0xCF8, 4, cfg_addr(dev, fn, reg & 0xFC));
    return io_in(&f->bus, (uint16_t)(0xCFC + (reg & 3)), size);
}

static void wr(struct fixture *f, int dev, int fn, int reg, int size, uint32_t v)
{
    io_out(&f->bus, 0xCF8, 4, cfg_addr(dev, fn, reg & 0xFC));
    io_out(&f->bus, (uint16_t)(0xCFC + (reg & 3)), size, v);
}

/* Linux's pci_check_type1(), then reads of absent functions. */
static void address_register(void **state)
{
    struct fixture *f = *state;
    io_out(&f->bus, 0xCF8, 4, 0x80000000);
    assert_int_equal(io_in(&f->bus, 0xCF8, 4), 0x80000000);
    io_out(&f->bus, 0xCF8, 4, 0xFF00ABCF);             /* reserved and low bits read 0 */
    assert_int_equal(io_in(&f->bus, 0xCF8, 4), 0x8000ABCC);
    io_out(&f->bus, 0xCF8, 1, 0x00);                   /* byte accesses are not the address */
    assert_int_equal(io_in(&f->bus, 0xCF8, 1), 0xFF);
    assert_int_equal(io_in(&f->bus, 0xCF8, 4), 0x8000ABCC);
    assert_int_equal(rd(f, 31, 7, 0, 4), 0xFFFFFFFF);  /* absent: master abort */
    assert_int_equal(rd(f, 2, 0, 0, 2), 0xFFFF);
    assert_int_equal(rd(f, 1, 2, 0, 4), 0xFFFFFFFF);
    wr(f, 2, 0, 0, 4, 0x12345678);                     /* dropped */
    assert_int_equal(rd(f, 2, 0, 0, 4), 0xFFFFFFFF);
    io_out(&f->bus, 0xCF8, 4, 0x00000000);             /* enable bit clear */
    assert_int_equal(io_in(&f->bus, 0xCFC, 4), 0xFFFFFFFF);
    io_out(&f->bus, 0xCF8, 4, 0x80010000);             /* bus 1: nothing */
    assert_int_equal(io_in(&f->bus, 0xCFC, 4), 0xFFFFFFFF);
}

static void functions(void **state)
{
    struct fixture *f = *state;
    /* 00:00.0 i440FX host bridge */
    assert_int_equal(rd(f, 0, 0, 0x00, 4), 0x12378086);
    assert_int_equal(rd(f, 0, 0, 0x08, 4) >> 8, 0x060000);
    assert_int_equal(rd(f, 0, 0, 0x0E, 1), 0x00);
    assert_int_equal(rd(f, 0, 0, 0x2C, 4), 0x11001AF4);
    /* 00:01.0 PIIX3 ISA bridge, multi-function */
    assert_int_equal(rd(f, 1, 0, 0x00, 4), 0x70008086);
    assert_int_equal(rd(f, 1, 0, 0x0A, 2), 0x0601);
    assert_int_equal(rd(f, 1, 0, 0x0E, 1), 0x80);
    assert_int_equal(rd(f, 1, 0, 0x60, 4), 0x80808080);
    /* 00:01.1 PIIX3 IDE, legacy mode */
    assert_int_equal(rd(f, 1, 1, 0x00, 2), 0x8086);
    assert_int_equal(rd(f, 1, 1, 0x02, 2), 0x7010);
    assert_int_equal(rd(f, 1, 1, 0x09, 1), 0x80);
    assert_int_equal(rd(f, 1, 1, 0x08, 4), 0x01018000);
    assert_int_equal(rd(f, 1, 1, 0x41, 1) & 0x80, 0x80);
    assert_int_equal(rd(f, 1, 1, 0x43, 1) & 0x80, 0x80);
    /* byte, word, dword at any offset agree */
    uint32_t id = rd(f, 1, 1, 0, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(rd(f, 1, 1, i, 1), id >> (8 * i) & 0xFF);
    assert_int_equal(rd(f, 1, 1, 1, 2), id >> 8 & 0xFFFF);
    assert_int_equal(rd(f, 1, 1, 2, 2), id >> 16);
    assert_int_equal(rd(f, 1, 1, 2, 4), id >> 16);      /* cut at 0xCFF */
}

static void writes_and_bars(void **state)
{
    struct fixture *f = *state;
    /* IDs and class are read-only; command takes its writable bits */
    wr(f, 1, 1, 0x00, 4, 0);
    assert_int_equal(rd(f, 1, 1, 0x00, 4), 0x70108086);
    wr(f, 1, 1, 0x04, 2, 0xFFFF);
    assert_int_equal(rd(f, 1, 1, 0x04, 2), 0x0547);
    wr(f, 1, 1, 0x04, 2, 0x0005);
    assert_int_equal(rd(f, 1, 1, 0x04, 2), 0x0005);
    wr(f, 1, 1, 0x3C, 1, 14);                           /* interrupt line */
    assert_int_equal(rd(f, 1, 1, 0x3C, 1), 14);
    wr(f, 1, 0, 0x61, 1, 0x0B);                         /* PIRQB -> IRQ 11 */
    assert_int_equal(rd(f, 1, 0, 0x60, 4), 0x80800B80);
    /* The IDE function has no BARs: sizing reads 0 */
    for (int bar = 0; bar < 6; bar++) {
        wr(f, 1, 1, 0x10 + 4 * bar, 4, 0xFFFFFFFF);
        assert_int_equal(rd(f, 1, 1, 0x10 + 4 * bar, 4), 0);
    }
    /* A function with an I/O and a memory BAR sizes as the spec says */
    struct pci_function_info info = { .devfn = 3 << 3, .vendor = 0x1234, .device = 0x5678,
                                      .bar_size = { 16, 0x1000 }, .bar_io = { true, false } };
    assert_non_null(pci_add_function(&f->pci, &info));
    assert_null(pci_add_function(&f->pci, &info));      /* slot taken */
    assert_int_equal(rd(f, 3, 0, 0x10, 4), 0x1);
    wr(f, 3, 0, 0x10, 4, 0xFFFFFFFF);
    assert_int_equal(rd(f, 3, 0, 0x10, 4), 0xFFFFFFF1);
    wr(f, 3, 0, 0x14, 4, 0xFFFFFFFF);
    assert_int_equal(rd(f, 3, 0, 0x14, 4), 0xFFFFF000);
    wr(f, 3, 0, 0x14, 4, 0xFEBF1234);
    assert_int_equal(rd(f, 3, 0, 0x14, 4), 0xFEBF1000);
    wr(f, 3, 0, 0x10, 2, 0xC041);
    assert_int_equal(rd(f, 3, 0, 0x10, 4), 0xFFFFC041);
    wr(f, 3, 0, 0x18, 4, 0xFFFFFFFF);
    assert_int_equal(rd(f, 3, 0, 0x18, 4), 0);
}

static void reset_control(void **state)
{
    struct fixture *f = *state;
    io_out(&f->bus, 0xCF9, 1, 0x02);
    assert_int_equal(io_in(&f->bus, 0xCF9, 1), 0x02);
    assert_int_equal(f->resets, 0);
    io_out(&f->bus, 0xCF9, 1, 0x06);
    assert_int_equal(f->resets, 1);
}

/* BAR decoding: the mapper hears of every move, enable and disable. */
static int maps, unmaps;
static uint32_t last_addr;
static int fake_map(void *opaque, struct pci_bar *b, bool map)
{
    (void)opaque;
    *(map ? &maps : &unmaps) += 1;
    last_addr = b->addr;
    return 0;
}
static uint32_t bar_rd(void *dev, int bar, uint32_t off, unsigned size) { return (uint32_t)bar << 16 | off; }
static void bar_wr(void *dev, int bar, uint32_t off, unsigned size, uint32_t val) {}

static void bar_decoding(void **state)
{
    struct fixture *f = *state;
    const struct pci_function_info info = {
        .devfn = 3 << 3, .vendor = 0x1234, .device = 0x5678, .command = 0x0003,
        .bar_size = { 4096, 256 }, .bar_io = { false, true }, .bar_addr = { 0xfe000000, 0xc000 },
        .bar_read = bar_rd, .bar_write = bar_wr };

    maps = unmaps = 0;
    pci_set_mapper(&f->pci, fake_map, NULL);
    struct pci_function *fn = pci_add_function(&f->pci, &info);
    assert_non_null(fn);
    assert_int_equal(maps, 2);                          /* both, where firmware put them */
    assert_true(fn->bar[0].mapped && fn->bar[1].mapped);
    assert_int_equal(pci_bar_mem_read(&fn->bar[0], 0x10, 4), 0x10);
    assert_int_equal(pci_bar_io_read(&fn->bar[1], 0xc004, 1), 0x10004);
    /* sizing: all-ones decodes nowhere, the old value maps it back */
    wr(f, 3, 0, 0x10, 4, 0xFFFFFFFF);
    assert_int_equal(rd(f, 3, 0, 0x10, 4), 0xFFFFF000);
    assert_int_equal(unmaps, 1);
    assert_false(fn->bar[0].mapped);
    wr(f, 3, 0, 0x10, 4, 0xfe001000);
    assert_int_equal(maps, 3);
    assert_int_equal(last_addr, 0xfe001000);
    /* I/O sizing; address 0 decodes nothing */
    wr(f, 3, 0, 0x14, 4, 0xFFFFFFFF);
    assert_int_equal(rd(f, 3, 0, 0x14, 4), 0xFFFFFF01);
    assert_int_equal(unmaps, 2);
    wr(f, 3, 0, 0x14, 4, 0);
    assert_int_equal(maps, 3);
    wr(f, 3, 0, 0x14, 4, 0xd000);
    assert_int_equal(maps, 4);
    assert_int_equal(last_addr, 0xd000);
    /* the command register's enables */
    wr(f, 3, 0, 0x04, 2, 0x0001);                       /* memory off */
    assert_int_equal(unmaps, 3);
    assert_false(fn->bar[0].mapped);
    assert_true(fn->bar[1].mapped);
    wr(f, 3, 0, 0x04, 2, 0x0000);
    assert_int_equal(unmaps, 4);
    wr(f, 3, 0, 0x04, 2, 0x0003);
    assert_int_equal(maps, 6);
    /* a byte write to the BAR's top byte moves it too */
    wr(f, 3, 0, 0x13, 1, 0xfd);
    assert_int_equal(last_addr, 0xfd001000);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = { T(address_register), T(functions), T(writes_and_bars),
                                        T(reset_control), T(bar_decoding) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
