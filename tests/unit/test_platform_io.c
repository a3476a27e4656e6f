/* The port I/O bus: claiming ranges, decoding, unclaimed ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "emulator/hw/io.h"

struct probe {
    uint16_t port;
    int size;
    uint32_t val;
    int reads, writes;
};

static uint32_t probe_read(void *dev, uint16_t port, int size)
{
    struct probe *p = dev;
    p->port = port;
    p->size = size;
    p->reads++;
    return 0xA1B2C3D4;
}

static void probe_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct probe *p = dev;
    p->port = port;
    p->size = size;
    p->val = val;
    p->writes++;
}

static void unclaimed_reads_all_ones(void **state)
{
    struct io_bus bus = { 0 };
    assert_int_equal(io_in(&bus, 0x1234, 1), 0xFF);
    assert_int_equal(io_in(&bus, 0x1234, 2), 0xFFFF);
    assert_int_equal(io_in(&bus, 0x1234, 4), 0xFFFFFFFF);
    io_out(&bus, 0x1234, 4, 0);   /* dropped, must not crash */
}

static void decodes_range_and_passes_size(void **state)
{
    struct io_bus bus = { 0 };
    struct probe p = { 0 };
    assert_int_equal(io_register(&bus, 0x3F8, 8, &p, probe_read, probe_write), 0);
    assert_int_equal(io_in(&bus, 0x3FA, 1), 0xD4);
    assert_int_equal(p.port, 0x3FA);
    assert_int_equal(p.size, 1);
    assert_int_equal(io_in(&bus, 0x3F8, 2), 0xC3D4);
    assert_int_equal(p.size, 2);
    assert_int_equal(io_in(&bus, 0x3FC, 4), 0xA1B2C3D4);
    assert_int_equal(p.size, 4);
    assert_int_equal(p.reads, 3);

    io_out(&bus, 0x3FF, 2, 0x12345678);
    assert_int_equal(p.port, 0x3FF);
    assert_int_equal(p.size, 2);
    assert_int_equal(p.val, 0x5678);   /* masked to the access size */
    assert_int_equal(p.writes, 1);

    assert_int_equal(io_in(&bus, 0x3F7, 1), 0xFF);
    assert_int_equal(io_in(&bus, 0x400, 1), 0xFF);
    assert_int_equal(p.reads, 3);
}

static void null_handlers(void **state)
{
    struct io_bus bus = { 0 };
    struct probe p = { 0 };
    assert_int_equal(io_register(&bus, 0x80, 1, &p, NULL, probe_write), 0);
    assert_int_equal(io_register(&bus, 0x81, 1, &p, probe_read, NULL), 0);
    assert_int_equal(io_in(&bus, 0x80, 2), 0xFFFF);
    io_out(&bus, 0x81, 1, 7);
    assert_int_equal(p.writes, 0);
    io_out(&bus, 0x80, 1, 7);
    assert_int_equal(p.writes, 1);
}

static void rejects_overlap_empty_and_full(void **state)
{
    struct io_bus bus = { 0 };
    struct probe p = { 0 };
    assert_int_equal(io_register(&bus, 0x20, 2, &p, probe_read, probe_write), 0);
    assert_int_equal(io_register(&bus, 0x21, 1, &p, probe_read, probe_write), -1);
    assert_int_equal(io_register(&bus, 0x1F, 2, &p, probe_read, probe_write), -1);
    assert_int_equal(io_register(&bus, 0x10, 0x20, &p, probe_read, probe_write), -1);
    assert_int_equal(io_register(&bus, 0x22, 1, &p, probe_read, probe_write), 0);
    assert_int_equal(io_register(&bus, 0x1F, 1, &p, probe_read, probe_write), 0);
    assert_int_equal(io_register(&bus, 0x30, 0, &p, probe_read, probe_write), -1);
    assert_int_equal(io_register(&bus, 0xFFFF, 2, &p, probe_read, probe_write), -1);
    assert_int_equal(io_register(&bus, 0xFFFF, 1, &p, probe_read, probe_write), 0);
    assert_int_equal(io_in(&bus, 0xFFFF, 1), 0xD4);

    struct io_bus full = { 0 };
    for (int i = 0; i < IO_MAX_RANGES; i++)
        assert_int_equal(io_register(&full, (uint16_t)(0x100 + i), 1, &p, probe_read, NULL), 0);
    assert_int_equal(io_register(&full, 0x200, 1, &p, probe_read, NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unclaimed_reads_all_ones),
        cmocka_unit_test(decodes_range_and_passes_size),
        cmocka_unit_test(null_handlers),
        cmocka_unit_test(rejects_overlap_empty_and_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
