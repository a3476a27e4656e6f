/* The local APIC against the SDM (vol. 3A ch. 10), on a fake clock: the
 * state SeaBIOS leaves, virtual wire through LINT0, disabling through
 * IA32_APIC_BASE, priorities (IRR/ISR/TPR/PPR), EOI and its broadcast,
 * IPIs to self, software disable, and the timer in both modes with every
 * divider, including expirations caught up after a late host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "emulator/hw/apic.h"

struct fixture {
    struct lapic l;
    uint64_t now;
    int intr, intr_changes;
    int eois, last_eoi;
};

static uint64_t fake_clock(void *opaque) { return ((struct fixture *)opaque)->now; }

static void on_intr(void *opaque, int level)
{
    struct fixture *f = opaque;
    f->intr = level;
    f->intr_changes++;
}

static void on_eoi(void *opaque, uint8_t vector)
{
    struct fixture *f = opaque;
    f->eois++;
    f->last_eoi = vector;
}

static int setup(void **state)
{
    struct fixture *f = test_calloc(1, sizeof *f);
    f->now = 7000000000ull;
    lapic_init(&f->l, fake_clock, f, on_intr, f, on_eoi, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    test_free(*state);
    return 0;
}

static uint32_t rd(struct fixture *f, uint32_t off) { return lapic_mmio_read(&f->l, off, 4); }
static void wr(struct fixture *f, uint32_t off, uint32_t v) { lapic_mmio_write(&f->l, off, 4, v); }

/* Take an interrupt as the core does: INTA, then the handler's EOI. */
static int take(struct fixture *f) { return lapic_acknowledge(&f->l); }

static void reset_state(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(rd(f, 0x20), 0);                   /* APIC ID 0 */
    assert_int_equal(rd(f, 0x30), 0x50014);
    assert_int_equal(rd(f, 0xF0), 0x1FF);               /* enabled, spurious 0xFF */
    assert_int_equal(rd(f, 0x350), 0x8700);             /* LINT0 ExtINT */
    assert_int_equal(rd(f, 0x360), 0x8400);             /* LINT1 NMI */
    assert_int_equal(rd(f, 0x320), 0x10000);            /* timer masked */
    assert_int_equal(rd(f, 0x370), 0x10000);
    assert_int_equal(rd(f, 0xE0), 0xFFFFFFFF);
    assert_int_equal(lapic_get_base(&f->l), 0xFEE00900ull);
    assert_int_equal(rd(f, 0x30) >> 16 & 0xFF, 5);      /* six LVT entries */
    /* Narrow reads see part of a register; reserved words read 0. */
    assert_int_equal(lapic_mmio_read(&f->l, 0x351, 1), 0x87);
    assert_int_equal(rd(f, 0x354), 0);
}

static void virtual_wire(void **state)
{
    struct fixture *f = *state;
    lapic_set_lint(&f->l, 0, 1);
    assert_int_equal(f->intr, 1);
    assert_int_equal(take(f), LAPIC_EXTINT);
    wr(f, 0x350, 0x10700);                              /* mask LINT0 */
    assert_int_equal(f->intr, 0);
    wr(f, 0x350, 0x700);
    assert_int_equal(f->intr, 1);
    lapic_set_lint(&f->l, 0, 0);
    assert_int_equal(f->intr, 0);
}

static void msr_disable(void **state)
{
    struct fixture *f = *state;
    assert_false(lapic_set_base(&f->l, 0xFEE00000ull | 1u << 10));   /* x2APIC: reserved */
    assert_false(lapic_set_base(&f->l, 1ull << 40));
    assert_true(lapic_set_base(&f->l, 0xFEE00000ull));               /* EN clear */
    assert_false(lapic_hw_enabled(&f->l));
    assert_int_equal(lapic_get_base(&f->l), 0xFEE00100ull);          /* BSP stays */
    assert_int_equal(rd(f, 0x30), 0xFFFFFFFF);                       /* nothing answers */
    lapic_set_lint(&f->l, 0, 1);                                     /* INTR straight through */
    assert_int_equal(f->intr, 1);
    assert_int_equal(take(f), LAPIC_EXTINT);
    lapic_deliver(&f->l, 0x40, APIC_DM_FIXED, false, 0, false);      /* not accepted */
    assert_true(lapic_set_base(&f->l, 0xFEE00800ull));
    /* Enabled again in the power-up state: LVTs masked, SVR 0xFF. */
    assert_int_equal(rd(f, 0xF0), 0xFF);
    assert_int_equal(rd(f, 0x350), 0x10000);
    assert_int_equal(rd(f, 0x200 + 0x20), 0);                        /* IRR of 0x40 empty */
    assert_int_equal(f->intr, 0);
}

static void priorities(void **state)
{
    struct fixture *f = *state;
    lapic_deliver(&f->l, 0x41, APIC_DM_FIXED, false, 0, false);
    lapic_deliver(&f->l, 0x52, APIC_DM_FIXED, false, 0, false);
    assert_int_equal(rd(f, 0x220), 1u << 1 | 1u << 18); /* IRR word 2: 0x41, 0x52 */
    assert_int_equal(f->intr, 1);
    assert_int_equal(take(f), 0x52);                    /* highest first */
    assert_int_equal(rd(f, 0x120), 1u << 18);           /* ISR bit of 0x52 */
    assert_int_equal(rd(f, 0xA0), 0x50);                /* PPR = ISRV class */
    assert_int_equal(f->intr, 0);                       /* 0x41: class 4 <= 5 */
    lapic_deliver(&f->l, 0x55, APIC_DM_FIXED, false, 0, false);
    assert_int_equal(f->intr, 0);                       /* same class does not nest */
    lapic_deliver(&f->l, 0x61, APIC_DM_FIXED, false, 0, false);
    assert_int_equal(f->intr, 1);
    wr(f, 0x80, 0x70);                                  /* TPR above everything */
    assert_int_equal(rd(f, 0xA0), 0x70);
    assert_int_equal(f->intr, 0);
    assert_int_equal(take(f), 0xFF);                    /* spurious: nothing in service */
    assert_int_equal(rd(f, 0x130), 0);
    wr(f, 0x80, 0x0);
    assert_int_equal(take(f), 0x61);
    wr(f, 0xB0, 0);                                     /* EOI 0x61 */
    assert_int_equal(rd(f, 0xA0), 0x50);
    wr(f, 0xB0, 0);                                     /* EOI 0x52 */
    assert_int_equal(rd(f, 0xA0), 0);
    assert_int_equal(take(f), 0x55);
    wr(f, 0xB0, 0);
    assert_int_equal(take(f), 0x41);
    wr(f, 0xB0, 0);
    assert_int_equal(f->intr, 0);
    assert_int_equal(f->eois, 0);                       /* all edge-triggered */
}

static void eoi_broadcast(void **state)
{
    struct fixture *f = *state;
    lapic_deliver(&f->l, 0x33, APIC_DM_FIXED, true, 0, false);
    assert_int_equal(rd(f, 0x190), 1u << 19);           /* TMR */
    assert_int_equal(take(f), 0x33);
    wr(f, 0xB0, 0);
    assert_int_equal(f->eois, 1);
    assert_int_equal(f->last_eoi, 0x33);
}

static void destinations(void **state)
{
    struct fixture *f = *state;
    lapic_deliver(&f->l, 0x40, APIC_DM_FIXED, false, 1, false);      /* APIC ID 1: not us */
    assert_int_equal(f->intr, 0);
    wr(f, 0xD0, 0x02000000);                                         /* logical ID bit 1 */
    lapic_deliver(&f->l, 0x40, APIC_DM_FIXED, false, 0x01, true);
    assert_int_equal(f->intr, 0);
    lapic_deliver(&f->l, 0x40, APIC_DM_LOWEST, false, 0x03, true);
    assert_int_equal(f->intr, 1);
    assert_int_equal(take(f), 0x40);
    wr(f, 0xB0, 0);
    lapic_deliver(&f->l, 0x42, APIC_DM_FIXED, false, 0xFF, false);   /* broadcast */
    assert_int_equal(take(f), 0x42);
}

static void ipis(void **state)
{
    struct fixture *f = *state;
    wr(f, 0x300, 0x40000 | 0x4A);                       /* fixed, shorthand self */
    assert_int_equal(rd(f, 0x300) & (1u << 12), 0);     /* delivery status: idle */
    assert_int_equal(take(f), 0x4A);
    wr(f, 0xB0, 0);
    wr(f, 0x310, 0x01000000);
    wr(f, 0x300, 0x4500);                               /* INIT to APIC 1: nobody */
    wr(f, 0x300, 0x4608);                               /* STARTUP to APIC 1 */
    wr(f, 0x300, 0xC0000 | 0x4B);                       /* all but self: nobody */
    assert_int_equal(f->intr, 0);
    wr(f, 0x300, 0x40000 | 0x05);                       /* illegal vector */
    assert_int_equal(rd(f, 0x280), 0);                  /* until ESR is written */
    wr(f, 0x280, 0);
    assert_int_equal(rd(f, 0x280), 0x20);               /* send illegal vector */
    wr(f, 0x280, 0);
    assert_int_equal(rd(f, 0x280), 0);
}

static void software_disable(void **state)
{
    struct fixture *f = *state;
    wr(f, 0xF0, 0xFF);
    assert_int_equal(rd(f, 0x350), 0x18700);            /* masked */
    wr(f, 0x320, 0x20030);
    assert_int_equal(rd(f, 0x320), 0x30030);            /* mask cannot be cleared */
    lapic_deliver(&f->l, 0x40, APIC_DM_FIXED, false, 0, false);
    assert_int_equal(f->intr, 0);                       /* held, not signalled */
    wr(f, 0xF0, 0x1FF);
    assert_int_equal(f->intr, 1);
}

/* Divide configuration → divisor (SDM figure 10-10). */
static const struct { uint32_t tdcr, div; } dividers[] = {
    { 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
    { 0x8, 32 }, { 0x9, 64 }, { 0xA, 128 }, { 0xB, 1 },
};

static int drain(struct fixture *f)
{
    int n = 0;
    lapic_update(&f->l);
    while (f->intr) {
        int v = take(f);
        assert_int_equal(v, 0x30);
        wr(f, 0xB0, 0);
        n++;
    }
    return n;
}

static void timer_periodic_dividers(void **state)
{
    struct fixture *f = *state;
    for (unsigned i = 0; i < sizeof dividers / sizeof dividers[0]; i++) {
        uint64_t period = 1000ull * dividers[i].div;    /* ns at 1 GHz */
        wr(f, 0x3E0, dividers[i].tdcr);
        wr(f, 0x320, 0x20030);                          /* periodic, vector 0x30 */
        wr(f, 0x380, 1000);
        uint64_t start = f->now;
        assert_int_equal(rd(f, 0x390), 1000);
        assert_int_equal(lapic_next_event_ns(&f->l), start + period);
        f->now = start + period / 2;
        assert_int_equal(rd(f, 0x390), 500);
        assert_int_equal(drain(f), 0);
        for (int k = 1; k <= 10; k++) {
            f->now = start + k * period - 1;
            assert_int_equal(drain(f), 0);
            f->now = start + k * period;
            assert_int_equal(drain(f), 1);
            assert_int_equal(lapic_next_event_ns(&f->l), start + (k + 1) * period);
        }
        wr(f, 0x380, 0);                                /* stop */
        assert_int_equal(lapic_next_event_ns(&f->l), UINT64_MAX);
    }
}

static void timer_one_shot(void **state)
{
    struct fixture *f = *state;
    wr(f, 0x3E0, 0x3);                                  /* divide by 16 */
    wr(f, 0x320, 0x00031);
    wr(f, 0x380, 100);
    uint64_t start = f->now;
    f->now = start + 1599;
    lapic_update(&f->l);
    assert_int_equal(f->intr, 0);
    assert_int_equal(rd(f, 0x390), 1);
    f->now = start + 1600;
    lapic_update(&f->l);
    assert_int_equal(take(f), 0x31);
    wr(f, 0xB0, 0);
    assert_int_equal(rd(f, 0x390), 0);
    f->now = start + 100000;
    lapic_update(&f->l);
    assert_int_equal(f->intr, 0);                       /* once */
    assert_int_equal(lapic_next_event_ns(&f->l), UINT64_MAX);
}

static void timer_masked_and_catch_up(void **state)
{
    struct fixture *f = *state;
    wr(f, 0x3E0, 0xB);
    wr(f, 0x320, 0x30030);                              /* periodic but masked */
    wr(f, 0x380, 1000000);                              /* 1 ms */
    uint64_t start = f->now;
    f->now = start + 5500000;
    assert_int_equal(drain(f), 0);
    assert_int_equal(lapic_next_event_ns(&f->l), UINT64_MAX);
    wr(f, 0x320, 0x20030);                              /* unmasked: no stale ticks */
    assert_int_equal(drain(f), 0);
    f->now = start + 6000000;
    assert_int_equal(drain(f), 1);
    /* The host runs the monitor 5 periods late: one now, 4 caught up,
     * CATCHUP_NS (100 us) apart, then the timer goes on at its rate. */
    f->now = start + 11000000;
    assert_int_equal(drain(f), 1);
    assert_int_equal(lapic_next_event_ns(&f->l), f->now + 100000);
    int caught = 0;
    for (int i = 0; i < 4; i++) {
        f->now += 100000;
        caught += drain(f);
    }
    assert_int_equal(caught, 4);
    assert_int_equal(lapic_next_event_ns(&f->l), start + 12000000);
    f->now = start + 11900000;
    assert_int_equal(drain(f), 0);
    f->now = start + 12000000;
    assert_int_equal(drain(f), 1);
    /* A guest that keeps the vector in service: the queue waits for its
     * EOI without host wake-ups in between. */
    f->now = start + 15000000;
    lapic_update(&f->l);
    assert_int_equal(take(f), 0x30);                    /* 2 more queued, no EOI */
    assert_int_equal(lapic_next_event_ns(&f->l), start + 16000000);
    wr(f, 0xB0, 0);
    assert_int_equal(lapic_next_event_ns(&f->l), f->now + 100000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reset_state, setup, teardown),
        cmocka_unit_test_setup_teardown(virtual_wire, setup, teardown),
        cmocka_unit_test_setup_teardown(msr_disable, setup, teardown),
        cmocka_unit_test_setup_teardown(priorities, setup, teardown),
        cmocka_unit_test_setup_teardown(eoi_broadcast, setup, teardown),
        cmocka_unit_test_setup_teardown(destinations, setup, teardown),
        cmocka_unit_test_setup_teardown(ipis, setup, teardown),
        cmocka_unit_test_setup_teardown(software_disable, setup, teardown),
        cmocka_unit_test_setup_teardown(timer_periodic_dividers, setup, teardown),
        cmocka_unit_test_setup_teardown(timer_one_shot, setup, teardown),
        cmocka_unit_test_setup_teardown(timer_masked_and_catch_up, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
