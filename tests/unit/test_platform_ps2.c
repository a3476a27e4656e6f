/* The 8042 keyboard controller: status, command byte, self tests, the
 * keyboard's answers, the empty mouse port, reset, and Linux's probe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "emulator/hw/devices.h"

struct fixture {
    struct io_bus bus;
    struct ps2 kbc;
    int level[13], edges[13], resets;
};

static void on_irq(void *opaque, int irq, int level)
{
    struct fixture *f = opaque;
    assert_true(irq == 1 || irq == 12);
    if (level && !f->level[irq])
        f->edges[irq]++;
    f->level[irq] = level;
}

static void on_reset(void *opaque) { ((struct fixture *)opaque)->resets++; }

static int setup(void **state)
{
    struct fixture *f = test_calloc(1, sizeof *f);
    if (ps2_init(&f->kbc, &f->bus, on_irq, f, on_reset, f) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    test_free(*state);
    return 0;
}

static uint8_t status(struct fixture *f) { return (uint8_t)io_in(&f->bus, 0x64, 1); }
static uint8_t data(struct fixture *f) { return (uint8_t)io_in(&f->bus, 0x60, 1); }
static void command(struct fixture *f, uint8_t c) { io_out(&f->bus, 0x64, 1, c); }
static void send(struct fixture *f, uint8_t v) { io_out(&f->bus, 0x60, 1, v); }

/* Reads one byte, checking that the output buffer had it. */
static uint8_t expect_byte(struct fixture *f)
{
    assert_int_equal(status(f) & 0x01, 0x01);
    return data(f);
}

static void expect_empty(struct fixture *f) { assert_int_equal(status(f) & 0x01, 0); }

static void status_and_command_byte(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(status(f), 0x14);                 /* SYS, unlocked, empty */
    command(f, 0x20);
    assert_int_equal(status(f), 0x1D);                 /* OBF, CMD */
    assert_int_equal(data(f), 0x65);                   /* XLATE AUXDIS SYS KBDINT */
    assert_int_equal(f->edges[1], 1);                  /* the reply interrupts too */
    assert_int_equal(f->level[1], 0);
    command(f, 0x60);
    send(f, 0x30);                                     /* both ports off, no ints, SYS 0 */
    assert_int_equal(status(f), 0x10);
    command(f, 0x20);
    assert_int_equal(expect_byte(f), 0x30);
    assert_int_equal(f->edges[1], 1);                  /* KBDINT off */
    command(f, 0x7F);                                  /* controller RAM byte 31 */
    send(f, 0x99);
    command(f, 0x3F);
    assert_int_equal(expect_byte(f), 0x99);
    expect_empty(f);
    assert_int_equal(data(f), 0x99);                   /* stale byte stays */
}

static void self_tests(void **state)
{
    struct fixture *f = *state;
    command(f, 0xAA);
    assert_int_equal(expect_byte(f), 0x55);
    command(f, 0xAB);
    assert_int_equal(expect_byte(f), 0x00);
    command(f, 0xA9);
    assert_int_equal(expect_byte(f), 0x00);
    command(f, 0xAD);
    command(f, 0xA8);
    command(f, 0x20);
    assert_int_equal(expect_byte(f), 0x55);            /* KBDDIS set, AUXDIS cleared */
    command(f, 0xAE);
    command(f, 0xA7);
    command(f, 0x20);
    assert_int_equal(expect_byte(f), 0x65);
    command(f, 0x12);                                  /* unknown: ignored */
    expect_empty(f);
}

static void keyboard_answers(void **state)
{
    struct fixture *f = *state;
    static const struct { uint8_t cmd[2]; int n; uint8_t reply[3]; int m; } cases[] = {
        { { 0xF2 }, 1, { 0xFA, 0xAB, 0x41 }, 3 },      /* translated MF2 ID */
        { { 0xF5 }, 1, { 0xFA }, 1 },
        { { 0xF4 }, 1, { 0xFA }, 1 },
        { { 0xED, 0x07 }, 2, { 0xFA, 0xFA }, 2 },
        { { 0xF3, 0x20 }, 2, { 0xFA, 0xFA }, 2 },
        { { 0xF0, 0x00 }, 2, { 0xFA, 0xFA, 0x41 }, 3 },
        { { 0xF0, 0x01 }, 2, { 0xFA, 0xFA }, 2 },
        { { 0xF0, 0x00 }, 2, { 0xFA, 0xFA, 0x43 }, 3 },
        { { 0xF0, 0x09 }, 2, { 0xFA, 0xFE }, 2 },
        { { 0xFF }, 1, { 0xFA, 0xAA }, 2 },
        { { 0xEE }, 1, { 0xEE }, 1 },
        { { 0x01 }, 1, { 0xFE }, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int edges = f->edges[1];
        for (int j = 0; j < cases[i].n; j++)
            send(f, cases[i].cmd[j]);
        for (int j = 0; j < cases[i].m; j++) {
            assert_int_equal(status(f) & 0x29, 0x01);  /* OBF, from the keyboard, data */
            assert_int_equal(data(f), cases[i].reply[j]);
        }
        expect_empty(f);
        assert_int_equal(f->edges[1], edges + cases[i].m);  /* one edge per byte */
    }
    command(f, 0x60);
    send(f, 0x01);                                     /* translation off */
    send(f, 0xF2);
    assert_int_equal(data(f), 0xFA);
    assert_int_equal(data(f), 0xAB);
    assert_int_equal(data(f), 0x83);
    send(f, 0xF0);
    send(f, 0x00);
    assert_int_equal(data(f), 0xFA);
    assert_int_equal(data(f), 0xFA);
    assert_int_equal(data(f), 0x02);                   /* reset brought back set 2 */
}

static void empty_mouse_port(void **state)
{
    struct fixture *f = *state;
    command(f, 0x60);
    send(f, 0x47);                                     /* both ints, mouse port on */
    command(f, 0xD3);                                  /* loop back as mouse data */
    send(f, 0x5A);
    assert_int_equal(f->level[12], 1);
    assert_int_equal(f->level[1], 0);
    assert_int_equal(status(f) & 0x61, 0x21);          /* AUXDATA, no timeout */
    assert_int_equal(data(f), 0x5A);
    assert_int_equal(f->level[12], 0);
    command(f, 0xD4);                                  /* to the mouse: get ID */
    send(f, 0xF2);
    assert_int_equal(status(f) & 0x61, 0x61);          /* AUXDATA | TIMEOUT */
    assert_int_equal(data(f), 0xFE);
    assert_int_equal(status(f) & 0x61, 0x00);
    command(f, 0xD2);                                  /* loop back as keyboard data */
    send(f, 0x1C);
    assert_int_equal(f->level[1], 1);
    assert_int_equal(status(f) & 0x21, 0x01);
    assert_int_equal(data(f), 0x1C);
    assert_int_equal(f->edges[12], 2);
}

static void reset_and_a20(void **state)
{
    struct fixture *f = *state;
    command(f, 0xD0);
    assert_int_equal(expect_byte(f), 0x03);            /* running, A20 on */
    command(f, 0xDD);
    command(f, 0xD0);
    assert_int_equal(expect_byte(f), 0x01);
    command(f, 0xDF);
    command(f, 0xFF);                                  /* pulse nothing */
    assert_int_equal(f->resets, 0);
    command(f, 0xD1);
    send(f, 0x03);
    assert_int_equal(f->resets, 0);
    command(f, 0xFE);                                  /* pulse reset */
    assert_int_equal(f->resets, 1);
    command(f, 0xF0);
    assert_int_equal(f->resets, 2);
    command(f, 0xD1);
    send(f, 0x02);                                     /* output port: reset low */
    assert_int_equal(f->resets, 3);
    command(f, 0xD0);
    assert_int_equal(expect_byte(f), 0x02);
}

/* What Linux's i8042 driver does on boot, in order. */
static void linux_i8042_probe(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 20 && (status(f) & 0x01); i++)  /* i8042_flush */
        data(f);
    command(f, 0xAA);
    assert_int_equal(expect_byte(f), 0x55);
    command(f, 0x20);
    uint8_t ctr = expect_byte(f);
    command(f, 0x60);
    send(f, (uint8_t)((ctr | 0x30) & ~0x03));          /* ports off, interrupts off */
    /* i8042_check_aux: loopback, then the bit-assignment test. */
    command(f, 0xD3);
    send(f, 0x5A);
    assert_int_equal(status(f) & 0x21, 0x21);
    assert_int_equal(data(f), 0x5A);
    command(f, 0xA7);
    command(f, 0x20);
    assert_int_equal(expect_byte(f) & 0x20, 0x20);
    command(f, 0xA8);
    command(f, 0x20);
    assert_int_equal(expect_byte(f) & 0x20, 0x00);
    /* The interrupt test: AUX interrupt on, loop a byte, IRQ 12 must come. */
    command(f, 0x60);
    send(f, 0x47);
    command(f, 0xD3);
    send(f, 0xA5);
    assert_int_equal(f->level[12], 1);
    assert_int_equal(data(f), 0xA5);
    /* atkbd: the keyboard answers with an ID. */
    send(f, 0xF2);
    assert_int_equal(f->level[1], 1);
    assert_int_equal(data(f), 0xFA);
    assert_int_equal(data(f), 0xAB);
    assert_int_equal(data(f), 0x41);
    expect_empty(f);
}

static void queue_overflow(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 40; i++)
        send(f, 0xEE);
    int n = 0;
    while (status(f) & 0x01) {
        assert_int_equal(data(f), 0xEE);
        n++;
    }
    assert_int_equal(n, 16);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(status_and_command_byte), T(self_tests), T(keyboard_answers), T(empty_mouse_port),
        T(reset_and_a20), T(linux_i8042_probe), T(queue_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
