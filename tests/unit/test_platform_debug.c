/* The debug console (0xE9) and isa-debug-exit. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "emulator/hw/devices.h"

static void debugcon_prints_and_reads_back(void **state)
{
    struct io_bus bus = { 0 };
    struct debugcon d;
    int fds[2];
    char buf[8];
    assert_int_equal(pipe(fds), 0);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    assert_int_equal(debugcon_init(&d, &bus, 0xE9, fds[1]), 0);
    io_out(&bus, 0xE9, 1, 'H');
    io_out(&bus, 0xE9, 2, 0x4269);            /* only the low byte */
    assert_int_equal(read(fds[0], buf, sizeof buf), 2);
    assert_memory_equal(buf, "Hi", 2);
    assert_int_equal(io_in(&bus, 0xE9, 1), 0xE9);
    d.out_fd = -1;
    io_out(&bus, 0xE9, 1, 'x');
    assert_int_equal(read(fds[0], buf, sizeof buf), -1);
    close(fds[0]);
    close(fds[1]);
}

struct exit_probe { int status, calls; };

static void on_exit_cb(void *opaque, int status)
{
    struct exit_probe *p = opaque;
    p->status = status;
    p->calls++;
}

static void debug_exit_status(void **state)
{
    struct io_bus bus = { 0 };
    struct debug_exit d;
    struct exit_probe p = { 0 };
    assert_int_equal(debug_exit_init(&d, &bus, 0xF4, 4, on_exit_cb, &p), 0);
    io_out(&bus, 0xF4, 1, 0);
    assert_int_equal(p.status, 1);
    io_out(&bus, 0xF4, 4, 0x10);
    assert_int_equal(p.status, 0x21);
    io_out(&bus, 0xF4, 2, 0x31);
    assert_int_equal(p.status, 0x63);
    io_out(&bus, 0xF7, 1, 2);                 /* any port of the range, as QEMU */
    assert_int_equal(p.status, 5);
    assert_int_equal(p.calls, 4);
    io_out(&bus, 0xF8, 1, 2);                 /* outside */
    assert_int_equal(p.calls, 4);
    assert_int_equal(io_in(&bus, 0xF4, 1), 0);
}

static void debug_exit_custom_base(void **state)
{
    struct io_bus bus = { 0 };
    struct debug_exit d;
    struct exit_probe p = { 0 };
    assert_int_equal(debug_exit_init(&d, &bus, 0x501, 2, on_exit_cb, &p), 0);
    io_out(&bus, 0x501, 1, 3);
    assert_int_equal(p.status, 7);
    io_out(&bus, 0xF4, 1, 3);
    assert_int_equal(p.calls, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(debugcon_prints_and_reads_back),
        cmocka_unit_test(debug_exit_status),
        cmocka_unit_test(debug_exit_custom_base),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
