/* The ACPI PM timer and the HPET on a fake clock: rates, widths, status
 * bits, and the HPET's comparators (periodic, one-shot, 32-bit, level
 * with the status register) and routes (legacy replacement, I/O APIC pin). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "emulator/hw/timers.h"

struct fixture {
    struct io_bus bus;
    struct acpi_pm pm;
    struct hpet h;
    uint64_t now;
    int raises[24], level[24];
    int sleeps, slp_typ;
    bool busy[24];
};

static void on_sleep(void *opaque, int slp_typ)
{
    struct fixture *f = opaque;
    f->sleeps++;
    f->slp_typ = slp_typ;
}

static uint64_t fake_clock(void *opaque) { return ((struct fixture *)opaque)->now; }

static void on_irq(void *opaque, int irq, int level)
{
    struct fixture *f = opaque;
    assert_in_range(irq, 0, 23);
    if (level && !f->level[irq])
        f->raises[irq]++;
    f->level[irq] = level;
}

/* The line counts as busy while f->busy[irq] is set (a request waiting). */
static bool line_busy(void *opaque, int irq) { return ((struct fixture *)opaque)->busy[irq]; }

static int setup(void **state)
{
    struct fixture *f = test_calloc(1, sizeof *f);
    f->now = 3000000000ull;
    if (acpi_pm_init(&f->pm, &f->bus, 0x600, fake_clock, f, on_sleep, f) < 0)
        return -1;
    hpet_init(&f->h, fake_clock, f, on_irq, f, line_busy);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    test_free(*state);
    return 0;
}

static uint32_t pm_timer(struct fixture *f) { return io_in(&f->bus, 0x608, 4); }

static void pm_timer_rate(void **state)
{
    struct fixture *f = *state;
    uint32_t a = pm_timer(f);
    assert_int_equal(a >> 24, 0);                       /* 24 bits */
    f->now += 1000000000ull;                            /* one second */
    uint32_t b = pm_timer(f);
    assert_int_equal((b - a) & 0xFFFFFF, 3579545);
    f->now += 1000;                                     /* 1 us: 3 or 4 ticks */
    assert_in_range((pm_timer(f) - b) & 0xFFFFFF, 3, 4);
    /* The 24-bit counter wraps after 2^24 / 3.579545 MHz = 4.687 s. */
    uint32_t c = pm_timer(f);
    f->now += 4687000000ull;
    assert_in_range((pm_timer(f) - c) & 0xFFFFFF, 110, 112);   /* 16777327 - 2^24 */
    /* Reads of the low byte and word agree with the dword. */
    assert_int_equal(io_in(&f->bus, 0x608, 1), pm_timer(f) & 0xFF);
}

static void pm_status_and_control(void **state)
{
    struct fixture *f = *state;
    io_out(&f->bus, 0x600, 2, 0xFFFF);                  /* clear everything */
    assert_int_equal(io_in(&f->bus, 0x600, 2) & 1, 0);
    f->now += 2400000000ull;                            /* bit 23 flips every 2.34 s */
    assert_int_equal(io_in(&f->bus, 0x600, 2) & 1, 1);  /* TMR_STS */
    io_out(&f->bus, 0x600, 2, 1);
    assert_int_equal(io_in(&f->bus, 0x600, 2) & 1, 0);
    io_out(&f->bus, 0x602, 2, 0x0121);
    assert_int_equal(io_in(&f->bus, 0x602, 2), 0x0121); /* PM1_EN */
    assert_int_equal(io_in(&f->bus, 0x604, 2) & 1, 1);  /* SCI_EN: always ACPI mode */
    io_out(&f->bus, 0x604, 2, 0x1400);                  /* SLP_TYP */
    assert_int_equal(io_in(&f->bus, 0x604, 2), 0x1401);
    assert_int_equal(f->sleeps, 0);
    io_out(&f->bus, 0x604, 2, 0x2000);                  /* SLP_EN, type 0: S5 */
    assert_int_equal(f->sleeps, 1);
    assert_int_equal(f->slp_typ, 0);
    assert_int_equal(io_in(&f->bus, 0x604, 2), 0x0001); /* SLP_EN reads 0 */
    io_out(&f->bus, 0x608, 4, 0);                       /* timer is read-only */
    assert_int_not_equal(pm_timer(f), 0);
}

static uint32_t hr(struct fixture *f, uint32_t off) { return hpet_mmio_read(&f->h, off, 4); }
static void hw(struct fixture *f, uint32_t off, uint32_t v) { hpet_mmio_write(&f->h, off, 4, v); }

static void hpet_counter(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(hr(f, 0x004), 10000000);           /* 10^7 fs: 100 MHz */
    assert_int_equal(hr(f, 0x000), 0x8086A201);
    assert_int_equal(hr(f, 0x0F0), 0);
    f->now += 1000000;
    assert_int_equal(hr(f, 0x0F0), 0);                  /* halted */
    hw(f, 0x010, 1);
    f->now += 1000000;                                  /* 1 ms */
    assert_int_equal(hr(f, 0x0F0), 100000);
    f->now += 43000000000ull;                           /* past 2^32 ticks */
    assert_int_equal(hr(f, 0x0F4), 1);
    hw(f, 0x010, 0);
    uint32_t lo = hr(f, 0x0F0);
    f->now += 5000;
    assert_int_equal(hr(f, 0x0F0), lo);
    hw(f, 0x0F0, 0x1234);                               /* writable while halted */
    hw(f, 0x0F4, 0);
    assert_int_equal(hr(f, 0x0F0), 0x1234);
    /* Timers: periodic- and 64-bit-capable, routable to pins 2, 8, 16-23. */
    assert_int_equal(hr(f, 0x100) & 0x30, 0x30);
    assert_int_equal(hr(f, 0x104), 0x00FF0104);
}

static void hpet_periodic_legacy(void **state)
{
    struct fixture *f = *state;
    /* Linux's sequence: periodic, VAL_SET, 32-bit; comparator, then period. */
    hw(f, 0x100, 1u << 2 | 1u << 3 | 1u << 6 | 1u << 8);
    hw(f, 0x108, 100000);                               /* first at 1 ms */
    hw(f, 0x108, 100000);                               /* period 1 ms */
    hw(f, 0x010, 3);                                    /* enable, legacy route */
    uint64_t start = f->now;
    assert_int_equal(hpet_next_event_ns(&f->h), start + 1000000);
    for (int k = 1; k <= 10; k++) {
        f->now = start + k * 1000000ull - 10;
        hpet_update(&f->h);
        assert_int_equal(f->raises[0], k - 1);
        f->now = start + k * 1000000ull;
        hpet_update(&f->h);
        assert_int_equal(f->raises[0], k);              /* timer 0 → IRQ 0 */
        assert_int_equal(f->level[0], 0);               /* edge: a pulse */
    }
    assert_int_equal(hr(f, 0x108), 1100000);
    /* Late by 5 periods: one interrupt now, the comparator moves on, and
     * the other 4 follow, one per update, while the line is free. */
    f->now = start + 15500000;
    hpet_update(&f->h);
    assert_int_equal(f->raises[0], 11);
    assert_int_equal(hr(f, 0x108), 1600000);
    assert_int_equal(hpet_next_event_ns(&f->h), f->now + 100000);
    f->busy[0] = true;                                  /* the guest has not taken it yet */
    assert_int_equal(hpet_next_event_ns(&f->h), start + 16000000);   /* no wake-up for it */
    f->now += 100000;
    hpet_update(&f->h);
    assert_int_equal(f->raises[0], 11);
    f->busy[0] = false;
    for (int k = 0; k < 4; k++) {
        f->now += 90000;
        hpet_update(&f->h);
    }
    assert_int_equal(f->raises[0], 15);
    assert_int_equal(hpet_next_event_ns(&f->h), start + 16000000);
}

static void hpet_one_shot_level_route(void **state)
{
    struct fixture *f = *state;
    /* Timer 2, one-shot, level-triggered, to I/O APIC pin 17. */
    hw(f, 0x140, 1u << 1 | 1u << 2 | 17u << 9);
    hw(f, 0x148, 500);
    hw(f, 0x14C, 0);
    hw(f, 0x010, 1);
    f->now += 4990;
    hpet_update(&f->h);
    assert_int_equal(f->raises[17], 0);
    f->now += 10;
    hpet_update(&f->h);
    assert_int_equal(f->raises[17], 1);
    assert_int_equal(f->level[17], 1);
    assert_int_equal(hr(f, 0x020), 4);                  /* status bit 2 */
    hw(f, 0x020, 4);                                    /* clear: line drops */
    assert_int_equal(f->level[17], 0);
    assert_int_equal(hr(f, 0x020), 0);
    f->now += 1000000000ull;
    hpet_update(&f->h);
    assert_int_equal(f->raises[17], 1);                 /* once (64-bit comparator) */
    /* Timer 1 with the legacy route goes to IRQ 8. */
    hw(f, 0x120, 1u << 2);
    hw(f, 0x128, hr(f, 0x0F0) + 100);
    hw(f, 0x12C, 0);
    hw(f, 0x010, 3);
    f->now += 1000;
    hpet_update(&f->h);
    assert_int_equal(f->raises[8], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pm_timer_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(pm_status_and_control, setup, teardown),
        cmocka_unit_test_setup_teardown(hpet_counter, setup, teardown),
        cmocka_unit_test_setup_teardown(hpet_periodic_legacy, setup, teardown),
        cmocka_unit_test_setup_teardown(hpet_one_shot_level_route, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
