/* The 8254 PIT and port 0x61, on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "emulator/hw/devices.h"

#define HZ 1193182ull

struct fixture {
    struct io_bus bus;
    struct pit pit;
    uint64_t now;
    int raises, level;
};

static uint64_t fake_clock(void *opaque) { return ((struct fixture *)opaque)->now; }

static void on_irq(void *opaque, int irq, int level)
{
    struct fixture *f = opaque;
    assert_int_equal(irq, 0);
    if (level && !f->level)
        f->raises++;
    f->level = level;
}

/* The clock time at which t ticks have elapsed since base. */
static uint64_t at_tick(uint64_t base, uint64_t t)
{
    return base + (t * 1000000000ull + HZ - 1) / HZ;
}

static int setup(void **state)
{
    struct fixture *f = test_calloc(1, sizeof *f);
    f->now = 5000000000ull;
    if (pit_init(&f->pit, &f->bus, fake_clock, f, on_irq, f) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    test_free(*state);
    return 0;
}

static void out(struct fixture *f, uint16_t port, uint8_t v) { io_out(&f->bus, port, 1, v); }
static uint8_t in(struct fixture *f, uint16_t port) { return (uint8_t)io_in(&f->bus, port, 1); }

static uint16_t read16(struct fixture *f, uint16_t port)
{
    uint8_t lo = in(f, port);
    return (uint16_t)(lo | in(f, port) << 8);
}

static void program(struct fixture *f, int ch, uint8_t cw, uint16_t count)
{
    out(f, 0x43, (uint8_t)(ch << 6 | cw));
    out(f, (uint16_t)(0x40 + ch), (uint8_t)count);
    out(f, (uint16_t)(0x40 + ch), (uint8_t)(count >> 8));
}

static uint8_t status(struct fixture *f, int ch)
{
    out(f, 0x43, (uint8_t)(0xE0 | 2 << ch));          /* read-back: status only */
    return in(f, (uint16_t)(0x40 + ch));
}

static void periodic_irq0(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(pit_next_event_ns(&f->pit), UINT64_MAX);
    assert_int_equal(pit_update(&f->pit), 0);
    uint64_t t0 = f->now;
    program(f, 0, 0x34, 11932);                       /* mode 2, 100 Hz, as Linux */
    uint64_t next = pit_next_event_ns(&f->pit);
    assert_int_equal(next, at_tick(t0, 11932));
    f->now = next - 1;
    assert_int_equal(pit_update(&f->pit), 0);
    assert_int_equal(f->raises, 0);
    f->now = next;
    assert_int_equal(pit_update(&f->pit), 1);
    assert_int_equal(f->raises, 1);
    assert_int_equal(f->level, 0);                    /* a pulse: the line rests low */
    assert_int_equal(pit_update(&f->pit), 0);
    assert_int_equal(pit_next_event_ns(&f->pit), at_tick(t0, 2 * 11932));
    f->now = at_tick(t0, 7 * 11932);                  /* five ticks late: one pulse */
    assert_int_equal(pit_update(&f->pit), 6);
    assert_int_equal(f->raises, 2);
    assert_int_equal(pit_next_event_ns(&f->pit), at_tick(t0, 8 * 11932));
}

static void counter_and_latch(void **state)
{
    struct fixture *f = *state;
    uint64_t t0 = f->now;
    program(f, 0, 0x34, 11932);
    assert_int_equal(read16(f, 0x40), 11932);
    f->now = at_tick(t0, 1000);
    assert_int_equal(read16(f, 0x40), 11932 - 1000);
    f->now = at_tick(t0, 11932 + 5);
    assert_int_equal(read16(f, 0x40), 11932 - 5);     /* reloaded */
    out(f, 0x43, 0x00);                               /* latch channel 0 */
    f->now = at_tick(t0, 11932 + 100);
    assert_int_equal(in(f, 0x40), (uint8_t)(11932 - 5));
    out(f, 0x43, 0x00);                               /* ignored: still latched */
    assert_int_equal(in(f, 0x40), (11932 - 5) >> 8);
    assert_int_equal(read16(f, 0x40), 11932 - 100);   /* live again */
}

static void access_modes(void **state)
{
    struct fixture *f = *state;
    uint64_t t0 = f->now;
    out(f, 0x43, 0x14);                               /* ch0 LSB only, mode 2 */
    out(f, 0x40, 200);
    assert_int_equal(in(f, 0x40), 200);
    f->now = at_tick(t0, 50);
    assert_int_equal(in(f, 0x40), 150);
    out(f, 0x43, 0x24);                               /* MSB only */
    out(f, 0x40, 0x02);                               /* count 0x200 */
    assert_int_equal(in(f, 0x40), 0x02);
    f->now = at_tick(f->now, 0x100);
    assert_int_equal(in(f, 0x40), 0x01);
    program(f, 0, 0x34, 0);                           /* 0 means 65536 */
    assert_int_equal(pit_next_event_ns(&f->pit), at_tick(f->now, 65536));
    assert_int_equal(in(f, 0x43), 0xFF);              /* control word write-only */
}

static void read_back_and_status(void **state)
{
    struct fixture *f = *state;
    out(f, 0x43, 0x34);
    assert_int_equal(status(f, 0), 0xF4);             /* OUT high, null count, lohi, mode 2 */
    out(f, 0x40, 0x10);
    out(f, 0x40, 0x00);
    assert_int_equal(status(f, 0), 0xB4);
    out(f, 0x43, 0xC2);                               /* read-back: count and status, ch0 */
    assert_int_equal(in(f, 0x40), 0xB4);              /* status first */
    assert_int_equal(read16(f, 0x40), 0x10);
    out(f, 0x43, 0xB1);                               /* ch2, lohi, mode 0, BCD */
    assert_int_equal(status(f, 2), 0x71);             /* OUT low, null count */
    out(f, 0x43, 0xDE);                               /* count only, all three */
    assert_int_equal(read16(f, 0x40), 0x10);
}

static void one_shot_mode0(void **state)
{
    struct fixture *f = *state;
    uint64_t t0 = f->now;
    program(f, 0, 0x30, 100);
    assert_int_equal(status(f, 0) & 0x80, 0);
    assert_int_equal(pit_next_event_ns(&f->pit), at_tick(t0, 100));
    f->now = at_tick(t0, 99);
    assert_int_equal(pit_update(&f->pit), 0);
    assert_int_equal(status(f, 0) & 0x80, 0);
    f->now = at_tick(t0, 100);
    assert_int_equal(pit_update(&f->pit), 1);
    assert_int_equal(status(f, 0) & 0x80, 0x80);
    assert_int_equal(pit_next_event_ns(&f->pit), UINT64_MAX);
    f->now = at_tick(t0, 100000);
    assert_int_equal(pit_update(&f->pit), 0);         /* only once */
    assert_int_equal(read16(f, 0x40), (uint16_t)(100 - 100000));  /* keeps counting down */
    /* Writing the first byte of a new count drops OUT. */
    out(f, 0x40, 50);
    assert_int_equal(status(f, 0) & 0x80, 0);
    out(f, 0x40, 0);
    f->now = at_tick(f->now, 50);
    assert_int_equal(pit_update(&f->pit), 1);
    assert_int_equal(f->raises, 2);
}

static void strobe_mode4(void **state)
{
    struct fixture *f = *state;
    uint64_t t0 = f->now;
    program(f, 0, 0x38, 10);
    assert_int_equal(pit_next_event_ns(&f->pit), at_tick(t0, 11));
    f->now = at_tick(t0, 10);
    assert_int_equal(status(f, 0) & 0x80, 0);         /* low for the terminal tick */
    assert_int_equal(f->raises, 0);
    f->now = at_tick(t0, 11);
    /* Port writes deliver a due tick first, so the status command does. */
    assert_int_equal(status(f, 0) & 0x80, 0x80);
    assert_int_equal(f->raises, 1);
    assert_int_equal(pit_update(&f->pit), 0);
}

static void bcd_counting(void **state)
{
    struct fixture *f = *state;
    uint64_t t0 = f->now;
    program(f, 0, 0x35, 0x1000);                      /* mode 2, BCD 1000 */
    f->now = at_tick(t0, 1);
    assert_int_equal(read16(f, 0x40), 0x0999);
    assert_int_equal(pit_next_event_ns(&f->pit), at_tick(t0, 1000));
    program(f, 0, 0x31, 0);                           /* mode 0, BCD 0 = 10000 */
    f->now = at_tick(f->now, 10001);
    assert_int_equal(read16(f, 0x40), 0x9999);
}

/* Linux's PIT calibration: channel 2, mode 0, gate via port 0x61, wait for OUT2. */
static void channel2_calibration_loop(void **state)
{
    struct fixture *f = *state;
    out(f, 0x61, 0x00);
    program(f, 2, 0xB0, 1000);
    f->now = at_tick(f->now, 5000);
    assert_int_equal(in(f, 0x61) & 0x20, 0);          /* gate low: not counting */
    uint64_t t0 = f->now;
    out(f, 0x61, 0x01);                               /* gate high, speaker off */
    f->now = at_tick(t0, 400);
    assert_int_equal(read16(f, 0x42), 600);
    out(f, 0x61, 0x00);                               /* gate low pauses mode 0 */
    f->now = at_tick(f->now, 10000);
    assert_int_equal(read16(f, 0x42), 600);
    t0 = f->now;
    out(f, 0x61, 0x01);
    f->now = at_tick(t0, 599);
    assert_int_equal(in(f, 0x61) & 0x20, 0);
    f->now = at_tick(t0, 600);
    assert_int_equal(in(f, 0x61) & 0x20, 0x20);
    assert_int_equal(f->raises, 0);                   /* channel 2 has no IRQ */
}

static void square_wave_and_gate(void **state)
{
    struct fixture *f = *state;
    out(f, 0x61, 0x03);                               /* gate + speaker */
    uint64_t t0 = f->now;
    program(f, 2, 0xB6, 101);                         /* mode 3, odd count */
    f->now = at_tick(t0, 50);
    assert_int_equal(in(f, 0x61) & 0x20, 0x20);       /* high for 51 */
    f->now = at_tick(t0, 51);
    assert_int_equal(in(f, 0x61) & 0x20, 0);          /* low for 50 */
    out(f, 0x61, 0x02);                               /* gate low: OUT high */
    assert_int_equal(in(f, 0x61) & 0x23, 0x22);
    t0 = f->now;
    out(f, 0x61, 0x03);                               /* rising gate: reload */
    f->now = at_tick(t0, 51);
    assert_int_equal(in(f, 0x61) & 0x20, 0);
}

static void hardware_one_shot_retrigger(void **state)
{
    struct fixture *f = *state;
    out(f, 0x61, 0x00);
    uint64_t t0 = f->now;
    program(f, 2, 0xB2, 100);                         /* mode 1 */
    out(f, 0x61, 0x01);                               /* trigger */
    f->now = at_tick(t0, 60);
    assert_int_equal(in(f, 0x61) & 0x20, 0);
    out(f, 0x61, 0x00);
    out(f, 0x61, 0x01);                               /* retrigger at 60 */
    f->now = at_tick(t0, 159);
    assert_int_equal(in(f, 0x61) & 0x20, 0);
    f->now = at_tick(t0, 161);
    assert_int_equal(in(f, 0x61) & 0x20, 0x20);
}

static void port61_bits(void **state)
{
    struct fixture *f = *state;
    out(f, 0x61, 0xFF);
    uint8_t a = in(f, 0x61), b = in(f, 0x61);
    assert_int_equal(a & 0xCF, 0x0F);                 /* writable bits; no NMI sources */
    assert_int_equal((a ^ b) & 0x10, 0x10);           /* refresh toggles */
    out(f, 0x61, 0x00);
    assert_int_equal(in(f, 0x61) & 0x0F, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(periodic_irq0), T(counter_and_latch), T(access_modes), T(read_back_and_status),
        T(one_shot_mode0), T(strobe_mode4), T(bcd_counting), T(channel2_calibration_loop),
        T(square_wave_and_gate), T(hardware_one_shot_retrigger), T(port61_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
