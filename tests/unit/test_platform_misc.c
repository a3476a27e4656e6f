/* Port 0x80 and port 0x92. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "emulator/hw/devices.h"

struct fixture {
    struct io_bus bus;
    struct misc_ports m;
    int resets;
};

static void on_reset(void *opaque) { ((struct fixture *)opaque)->resets++; }

static int setup(void **state)
{
    struct fixture *f = test_calloc(1, sizeof *f);
    if (misc_init(&f->m, &f->bus, on_reset, f) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    test_free(*state);
    return 0;
}

static void post_port(void **state)
{
    struct fixture *f = *state;
    io_out(&f->bus, 0x80, 1, 0x42);
    assert_int_equal(f->m.post_code, 0x42);
    assert_int_equal(io_in(&f->bus, 0x80, 1), 0xFF);
    struct misc_ports again;
    assert_int_equal(misc_init(&again, &f->bus, NULL, NULL), -1);
}

static void port92(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(io_in(&f->bus, 0x92, 1), 0x02);   /* A20 on */
    io_out(&f->bus, 0x92, 1, 0x00);
    assert_int_equal(io_in(&f->bus, 0x92, 1), 0x00);
    assert_int_equal(f->resets, 0);
    io_out(&f->bus, 0x92, 1, 0x03);                    /* bit 0 rises: reset */
    assert_int_equal(f->resets, 1);
    assert_int_equal(io_in(&f->bus, 0x92, 1), 0x03);
    io_out(&f->bus, 0x92, 1, 0x03);                    /* no new edge */
    assert_int_equal(f->resets, 1);
    io_out(&f->bus, 0x92, 1, 0x02);
    io_out(&f->bus, 0x92, 1, 0x01);
    assert_int_equal(f->resets, 2);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = { T(post_port), T(port92) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
