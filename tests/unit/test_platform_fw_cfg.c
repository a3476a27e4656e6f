/* QEMU's fw_cfg: selector/data ports and the DMA interface. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "emulator/hw/fw_cfg.h"

#define MEM_SIZE 0x10000

struct fixture {
    struct io_bus bus;
    struct fw_cfg fw;
    uint8_t mem[MEM_SIZE];
};

static int mem_rw(void *opaque, uint64_t gpa, void *buf, size_t n, bool write)
{
    struct fixture *f = opaque;
    if (gpa > MEM_SIZE || n > MEM_SIZE - gpa)
        return -1;
    if (write)
        memcpy(f->mem + gpa, buf, n);
    else
        memcpy(buf, f->mem + gpa, n);
    return 0;
}

static int setup(void **state)
{
    struct fixture *f = test_calloc(1, sizeof *f);
    if (fw_cfg_init(&f->fw, &f->bus, 512ull << 20, 1, mem_rw, f) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    test_free(*state);
    return 0;
}

static void sel(struct fixture *f, uint16_t key) { io_out(&f->bus, 0x510, 2, key); }

static void read_bytes(struct fixture *f, void *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)buf)[i] = (uint8_t)io_in(&f->bus, 0x511, 1);
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static void traditional(void **state)
{
    struct fixture *f = *state;
    uint8_t b[64];
    read_bytes(f, b, 4);                                  /* the signature is selected at reset */
    assert_memory_equal(b, "QEMU", 4);
    sel(f, 0x0000);
    read_bytes(f, b, 6);
    assert_memory_equal(b, "QEMU\0\0", 6);                /* past the end: 0 */
    sel(f, 0x0001);
    read_bytes(f, b, 4);
    assert_int_equal(le(b, 4), 3);                        /* traditional + DMA */
    sel(f, 0x0003);
    read_bytes(f, b, 8);
    assert_int_equal(le(b, 8), 512ull << 20);
    sel(f, 0x0005);
    read_bytes(f, b, 2);
    assert_int_equal(le(b, 2), 1);
    sel(f, 0x000F);
    read_bytes(f, b, 2);
    assert_int_equal(le(b, 2), 1);
    sel(f, 0x1234);                                       /* no such item */
    read_bytes(f, b, 2);
    assert_int_equal(b[0] | b[1], 0);
    io_out(&f->bus, 0x511, 1, 0x55);                      /* data writes: nothing */
    io_out(&f->bus, 0x510, 1, 0x01);                      /* byte write: not a select */
    sel(f, 0x0000);
    assert_int_equal(io_in(&f->bus, 0x510, 1), 'Q');      /* 0x510 reads data too */
    /* the file directory names etc/e820 */
    sel(f, 0x0019);
    read_bytes(f, b, 4);
    assert_int_equal(be(b, 4), 1);
    read_bytes(f, b, 64);
    assert_int_equal(be(b, 4), 20);
    uint16_t key = (uint16_t)be(b + 4, 2);
    assert_int_equal(key, 0x0020);
    assert_string_equal((char *)b + 8, "etc/e820");
    sel(f, key);
    read_bytes(f, b, 20);
    assert_int_equal(le(b, 8), 0);
    assert_int_equal(le(b + 8, 8), 512ull << 20);
    assert_int_equal(le(b + 16, 4), 1);
}

/* Write a FWCfgDmaAccess at `at` and kick it off; returns the control word
 * the device left there. */
static uint32_t dma(struct fixture *f, uint32_t at, uint32_t control, uint32_t length,
                    uint64_t addr)
{
    uint8_t *r = f->mem + at;
    for (int i = 0; i < 4; i++) {
        r[i] = (uint8_t)(control >> (24 - 8 * i));
        r[4 + i] = (uint8_t)(length >> (24 - 8 * i));
    }
    for (int i = 0; i < 8; i++)
        r[8 + i] = (uint8_t)(addr >> (56 - 8 * i));
    io_out(&f->bus, 0x514, 4, 0);                         /* high half: 0 */
    io_out(&f->bus, 0x518, 4, __builtin_bswap32(at));     /* cpu_to_be32(low) */
    return (uint32_t)be(r, 4);
}

static void dma_interface(void **state)
{
    struct fixture *f = *state;
    uint8_t sig[8];
    for (int i = 0; i < 8; i++)
        sig[i] = (uint8_t)io_in(&f->bus, (uint16_t)(0x514 + i), 1);
    assert_memory_equal(sig, "QEMU CFG", 8);
    assert_int_equal(io_in(&f->bus, 0x514, 4), 0x554D4551);  /* "QEMU" in memory order */

    /* select RAM_SIZE and read it */
    memset(f->mem + 0x200, 0xEE, 16);
    assert_int_equal(dma(f, 0x100, 0x0003u << 16 | 0x08 | 0x02, 8, 0x200), 0);
    assert_int_equal(le(f->mem + 0x200, 8), 512ull << 20);
    assert_int_equal(f->mem[0x208], 0xEE);
    /* select the signature, skip 2, read 4: "MU" then zeros past the end */
    assert_int_equal(dma(f, 0x100, 0x0000u << 16 | 0x08 | 0x04, 2, 0), 0);
    assert_int_equal(dma(f, 0x100, 0x02, 4, 0x300), 0);
    assert_memory_equal(f->mem + 0x300, "MU\0\0", 4);
    /* the traditional data port continues where DMA left off */
    assert_int_equal(dma(f, 0x100, 0x0001u << 16 | 0x08 | 0x04, 1, 0), 0);
    assert_int_equal(io_in(&f->bus, 0x511, 1), 0);          /* ID byte 1 */
    /* writes fail: every item is read-only */
    assert_int_equal(dma(f, 0x100, 0x0003u << 16 | 0x08 | 0x10, 4, 0x300) & 1, 1);
    /* a destination outside memory is an error, not a crash */
    assert_int_equal(dma(f, 0x100, 0x0003u << 16 | 0x08 | 0x02, 8, 0xFFFFFFF0ull) & 1, 1);
    /* no operation bits: nothing happens, success */
    assert_int_equal(dma(f, 0x100, 0, 8, 0x300), 0);
    /* a request block outside memory: dropped */
    io_out(&f->bus, 0x514, 4, 0);
    io_out(&f->bus, 0x518, 4, __builtin_bswap32(0x7FFF0000));
    /* 16-bit writes to the DMA register do nothing */
    io_out(&f->bus, 0x518, 2, 0x1234);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = { T(traditional), T(dma_interface) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
