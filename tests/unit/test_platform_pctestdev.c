/* QEMU's pc-testdev: scratch register byte lanes, flush page, IRQ lines,
 * device memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "emulator/hw/devices.h"

struct fixture {
    struct io_bus bus;
    struct pc_testdev t;
    int level[24];
    int calls;
};

static void on_irq(void *opaque, int irq, int level)
{
    struct fixture *f = opaque;
    f->level[irq] = level;
    f->calls++;
}

static int setup(void **state)
{
    struct fixture *f = test_calloc(1, sizeof *f);
    if (pc_testdev_init(&f->t, &f->bus, on_irq, f) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    test_free(*state);
    return 0;
}

static void scratch_register_lanes(void **state)
{
    struct fixture *f = *state;
    io_out(&f->bus, 0xe0, 4, 0x11223344);
    assert_int_equal(io_in(&f->bus, 0xe0, 4), 0x11223344);
    assert_int_equal(io_in(&f->bus, 0xe1, 1), 0x33);
    assert_int_equal(io_in(&f->bus, 0xe2, 2), 0x1122);
    io_out(&f->bus, 0xe3, 1, 0xaa);                     /* one lane only */
    assert_int_equal(io_in(&f->bus, 0xe0, 4), 0xaa223344);
    io_out(&f->bus, 0xe9, 1, 0x55);                     /* 0xe8: the same register */
    assert_int_equal(io_in(&f->bus, 0xe8, 4), 0xaa225544);
    io_out(&f->bus, 0xea, 2, 0xbeef);
    assert_int_equal(io_in(&f->bus, 0xe0, 4), 0xbeef5544);
    assert_int_equal(io_in(&f->bus, 0xe8, 1), 0x44);
}

static void flush_page_and_unclaimed(void **state)
{
    struct fixture *f = *state;
    io_out(&f->bus, 0xe4, 4, 0x1000);
    io_out(&f->bus, 0xe4, 1, 0x1000);                   /* not a 32-bit write: ignored */
    assert_int_equal(f->t.flushes, 1);
    assert_int_equal(io_in(&f->bus, 0xe4, 4), 0xffffffffu);  /* write-only */
    assert_int_equal(f->t.data, 0);
}

static void irq_lines(void **state)
{
    struct fixture *f = *state;
    io_out(&f->bus, 0x2000 + 5, 1, 1);
    assert_int_equal(f->level[5], 1);
    io_out(&f->bus, 0x2000 + 5, 1, 0x80);               /* any non-zero value asserts */
    assert_int_equal(f->level[5], 1);
    io_out(&f->bus, 0x2000 + 5, 1, 0);
    assert_int_equal(f->level[5], 0);
    io_out(&f->bus, 0x2000 + 15, 1, 1);
    assert_int_equal(f->level[15], 1);
    int calls = f->calls;
    io_out(&f->bus, 0x2000 + 20, 1, 1);                 /* IOAPIC-only line: dropped */
    io_out(&f->bus, 0x2000 + 3, 2, 1);                  /* not a byte write: dropped */
    assert_int_equal(f->calls, calls);
    assert_int_equal(io_in(&f->bus, 0x2018, 1), 0xff);  /* past the 24 lines */
}

static void device_memory(void **state)
{
    struct fixture *f = *state;
    pc_testdev_mem_write(&f->t, 0x10, 4, 0xcafef00d);
    assert_int_equal(pc_testdev_mem_read(&f->t, 0x10, 4), 0xcafef00d);
    assert_int_equal(pc_testdev_mem_read(&f->t, 0x12, 2), 0xcafe);
    pc_testdev_mem_write(&f->t, 0x11, 1, 0x77);
    assert_int_equal(pc_testdev_mem_read(&f->t, 0x10, 4), 0xcafe770d);
    pc_testdev_mem_write(&f->t, PC_TESTDEV_MEM_SIZE - 2, 4, 0x12345678);   /* past the end */
    assert_int_equal(pc_testdev_mem_read(&f->t, PC_TESTDEV_MEM_SIZE - 1, 1), 0);
    assert_int_equal(pc_testdev_mem_read(&f->t, PC_TESTDEV_MEM_SIZE - 4, 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(scratch_register_lanes, setup, teardown),
        cmocka_unit_test_setup_teardown(flush_page_and_unclaimed, setup, teardown),
        cmocka_unit_test_setup_teardown(irq_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(device_memory, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
