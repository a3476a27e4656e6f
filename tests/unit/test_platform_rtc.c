/* The MC146818 RTC and CMOS RAM, on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "emulator/hw/devices.h"

#define S 1000000000ull
/* Thursday 2024-02-29 23:59:58 UTC */
#define LEAP_EVE 1709251198ull

struct fixture {
    struct io_bus bus;
    struct rtc rtc;
    uint64_t now;
    int level, raises;
};

static uint64_t fake_clock(void *opaque) { return ((struct fixture *)opaque)->now; }

static void on_irq(void *opaque, int irq, int level)
{
    struct fixture *f = opaque;
    assert_int_equal(irq, 8);
    if (level && !f->level)
        f->raises++;
    f->level = level;
}

static int setup_ram(void **state, uint64_t ram)
{
    struct fixture *f = test_calloc(1, sizeof *f);
    f->now = LEAP_EVE * S + S / 4;
    if (rtc_init(&f->rtc, &f->bus, ram, fake_clock, f, on_irq, f) < 0)
        return -1;
    *state = f;
    return 0;
}

static int setup(void **state) { return setup_ram(state, 128ull << 20); }

static int teardown(void **state)
{
    test_free(*state);
    return 0;
}

static uint8_t rd(struct fixture *f, uint8_t reg)
{
    io_out(&f->bus, 0x70, 1, reg);
    return (uint8_t)io_in(&f->bus, 0x71, 1);
}

static void wr(struct fixture *f, uint8_t reg, uint8_t v)
{
    io_out(&f->bus, 0x70, 1, reg);
    io_out(&f->bus, 0x71, 1, v);
}

static void bcd_24h_time(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(rd(f, 0x00), 0x58);
    assert_int_equal(rd(f, 0x02), 0x59);
    assert_int_equal(rd(f, 0x04), 0x23);
    assert_int_equal(rd(f, 0x06), 0x05);               /* Thursday: Sunday is 1 */
    assert_int_equal(rd(f, 0x07), 0x29);
    assert_int_equal(rd(f, 0x08), 0x02);
    assert_int_equal(rd(f, 0x09), 0x24);
    assert_int_equal(rd(f, 0x32), 0x20);
    f->now += 2 * S;                                   /* into March */
    assert_int_equal(rd(f, 0x00), 0x00);
    assert_int_equal(rd(f, 0x04), 0x00);
    assert_int_equal(rd(f, 0x07), 0x01);
    assert_int_equal(rd(f, 0x08), 0x03);
    assert_int_equal(rd(f, 0x80), 0x00);               /* NMI-mask bit: same register */
    assert_int_equal(io_in(&f->bus, 0x70, 1), 0xFF);
}

static void binary_and_12h(void **state)
{
    struct fixture *f = *state;
    wr(f, 0x0B, 0x06);                                 /* binary, 24h */
    assert_int_equal(rd(f, 0x00), 58);
    assert_int_equal(rd(f, 0x04), 23);
    assert_int_equal(rd(f, 0x09), 24);
    assert_int_equal(rd(f, 0x32), 20);
    wr(f, 0x0B, 0x00);                                 /* BCD, 12h */
    assert_int_equal(rd(f, 0x04), 0x91);               /* 11 PM */
    f->now += 2 * S;
    assert_int_equal(rd(f, 0x04), 0x12);               /* midnight is 12 AM */
    f->now += 12 * 3600 * S;
    assert_int_equal(rd(f, 0x04), 0x92);               /* noon is 12 PM */
    wr(f, 0x0B, 0x04);                                 /* binary, 12h */
    assert_int_equal(rd(f, 0x04), 0x80 | 12);
}

static void uip_window(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(rd(f, 0x0A), 0x26);
    f->now = LEAP_EVE * S + S - 244000;
    assert_int_equal(rd(f, 0x0A), 0xA6);
    f->now = LEAP_EVE * S + S - 244001;
    assert_int_equal(rd(f, 0x0A), 0x26);
    f->now = LEAP_EVE * S + S - 1;
    wr(f, 0x0B, 0x82);                                 /* SET: no updates, no UIP */
    assert_int_equal(rd(f, 0x0A), 0x26);
    wr(f, 0x0A, 0xA5);                                 /* UIP is read-only */
    wr(f, 0x0B, 0x02);
    f->now += S / 2;
    assert_int_equal(rd(f, 0x0A), 0x25);
}

static void set_time_held_then_runs(void **state)
{
    struct fixture *f = *state;
    wr(f, 0x0B, 0x82);                                 /* SET */
    wr(f, 0x00, 0x30);
    wr(f, 0x02, 0x15);
    wr(f, 0x04, 0x08);
    wr(f, 0x07, 0x31);
    wr(f, 0x08, 0x12);
    wr(f, 0x09, 0x99);
    wr(f, 0x32, 0x19);
    f->now += 5 * S;                                   /* held: no updates */
    assert_int_equal(rd(f, 0x00), 0x30);
    assert_int_equal(rd(f, 0x09), 0x99);
    wr(f, 0x0B, 0x02);                                 /* run from 1999-12-31 08:15:30 */
    f->now += 3 * S;
    assert_int_equal(rd(f, 0x00), 0x33);
    assert_int_equal(rd(f, 0x02), 0x15);
    assert_int_equal(rd(f, 0x04), 0x08);
    assert_int_equal(rd(f, 0x06), 0x06);               /* a Friday */
    assert_int_equal(rd(f, 0x32), 0x19);
    wr(f, 0x02, 0x45);                                 /* without SET: at once */
    assert_int_equal(rd(f, 0x02), 0x45);
    assert_int_equal(rd(f, 0x00), 0x33);
    f->now += 16 * 3600 * S;                           /* past midnight: Y2K */
    assert_int_equal(rd(f, 0x09), 0x00);
    assert_int_equal(rd(f, 0x32), 0x20);
    /* A 12-hour PM hour, written in 12-hour mode: the held registers are
     * read in the format they were written in. */
    wr(f, 0x0B, 0x80);
    wr(f, 0x04, 0x81);                                 /* 1 PM */
    wr(f, 0x0B, 0x02);
    assert_int_equal(rd(f, 0x04), 0x13);
}

static void status_d_and_nvram(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(rd(f, 0x0D), 0x80);
    wr(f, 0x0D, 0x00);
    assert_int_equal(rd(f, 0x0D), 0x80);
    assert_int_equal(rd(f, 0x15), 0x80);               /* 640 KiB base memory */
    assert_int_equal(rd(f, 0x16), 0x02);
    assert_int_equal(rd(f, 0x17), 0xFF);               /* 127 MiB: capped at 0xFFFF */
    assert_int_equal(rd(f, 0x18), 0xFF);
    assert_int_equal(rd(f, 0x30), 0xFF);
    assert_int_equal(rd(f, 0x31), 0xFF);
    assert_int_equal(rd(f, 0x34), 0x00);               /* 112 MiB above 16 MiB */
    assert_int_equal(rd(f, 0x35), 0x07);
    unsigned sum = 0;
    for (uint8_t i = 0x10; i <= 0x2D; i++)
        sum += rd(f, i);
    assert_int_equal(rd(f, 0x2E) << 8 | rd(f, 0x2F), sum);
    wr(f, 0x50, 0xA5);
    assert_int_equal(rd(f, 0x50), 0xA5);
    wr(f, 0x7F, 0x5A);
    assert_int_equal(rd(f, 0xFF), 0x5A);
}

static void small_ram_sizes(void **state)
{
    struct fixture *f;
    assert_int_equal(setup_ram((void **)&f, 32ull << 20), 0);
    assert_int_equal(rd(f, 0x17) | rd(f, 0x18) << 8, 31 * 1024);
    assert_int_equal(rd(f, 0x34) | rd(f, 0x35) << 8, 16 * 16);
    test_free(f);
    assert_int_equal(setup_ram((void **)&f, 8ull << 20), 0);
    assert_int_equal(rd(f, 0x30) | rd(f, 0x31) << 8, 7 * 1024);
    assert_int_equal(rd(f, 0x34) | rd(f, 0x35) << 8, 0);
    test_free(f);
}

static void periodic_interrupt(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(rtc_next_event_ns(&f->rtc), UINT64_MAX);
    f->now += S / 100;
    assert_int_equal(rd(f, 0x0C), 0x40);               /* PF, but no IRQF: PIE off */
    wr(f, 0x0B, 0x42);                                 /* PIE, 1024 Hz */
    uint64_t next = rtc_next_event_ns(&f->rtc);
    assert_true(next > f->now && next - f->now <= S / 1024 + 1);
    f->now = next - 1;
    rtc_update(&f->rtc);
    assert_int_equal(f->level, 0);
    f->now = next;
    rtc_update(&f->rtc);
    assert_int_equal(f->level, 1);
    assert_int_equal(rtc_next_event_ns(&f->rtc), UINT64_MAX);
    assert_int_equal(rd(f, 0x0C), 0xC0);               /* IRQF | PF, cleared by the read */
    assert_int_equal(f->level, 0);
    assert_int_equal(rd(f, 0x0C), 0x00);
    wr(f, 0x0A, 0x2F);                                 /* 2 Hz */
    next = rtc_next_event_ns(&f->rtc);
    assert_true(next - f->now <= S / 2 + 1);
    assert_int_equal(next % (S / 2), 0);
    wr(f, 0x0A, 0x20);                                 /* rate 0: off */
    assert_int_equal(rtc_next_event_ns(&f->rtc), UINT64_MAX);
}

static void update_and_alarm_interrupts(void **state)
{
    struct fixture *f = *state;
    wr(f, 0x0B, 0x12);                                 /* UIE */
    assert_int_equal(rtc_next_event_ns(&f->rtc), (LEAP_EVE + 1) * S);
    f->now = (LEAP_EVE + 1) * S;
    rtc_update(&f->rtc);
    assert_int_equal(f->level, 1);
    assert_int_equal(rd(f, 0x0C) & 0xB0, 0x90);        /* IRQF UF (PF runs too) */
    wr(f, 0x0B, 0x92);                                 /* SET clears UIE */
    assert_int_equal(rd(f, 0x0B), 0x82);
    wr(f, 0x0B, 0x22);                                 /* AIE */
    wr(f, 0x01, 0x01);                                 /* alarm at hh:mm:01 */
    wr(f, 0x03, 0xC0);                                 /* any minute */
    wr(f, 0x05, 0xFF);                                 /* any hour */
    rd(f, 0x0C);
    f->now += S;                                       /* 00:00:00 */
    rtc_update(&f->rtc);
    assert_int_equal(f->level, 0);
    f->now += S;                                       /* 00:00:01 */
    rtc_update(&f->rtc);
    assert_int_equal(f->level, 1);
    assert_int_equal(rd(f, 0x0C) & 0xB0, 0xB0);        /* IRQF AF UF */
    f->now += 3600 * S;                                /* a long sleep still matches */
    rtc_update(&f->rtc);
    assert_int_equal(rd(f, 0x0C) & 0xA0, 0xA0);
    wr(f, 0x01, 0x61);                                 /* never matches */
    f->now += 3600 * S;
    rtc_update(&f->rtc);
    assert_int_equal(rd(f, 0x0C) & 0xA0, 0x00);
    assert_int_equal(f->raises, 3);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(bcd_24h_time), T(binary_and_12h), T(uip_window), T(set_time_held_then_runs),
        T(status_d_and_nvram), cmocka_unit_test(small_ram_sizes), T(periodic_interrupt),
        T(update_and_alarm_interrupts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
