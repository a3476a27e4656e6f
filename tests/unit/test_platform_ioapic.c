/* The 82093AA I/O APIC against its datasheet, and the PC's interrupt
 * wiring: registers through IOREGSEL/IOWIN, edge and level pins, remote
 * IRR and the EOI broadcast, masking; ISA IRQ 0 on pin 2 next to the
 * 8259's IRQ 0; a level-triggered loop I/O APIC → local APIC → EOI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "emulator/hw/apic.h"

struct msg { uint8_t vector, dest; int mode; bool level, logical; };

struct fixture {
    struct ioapic io;
    struct msg msgs[16];
    int n;
};

static void on_msg(void *opaque, uint8_t vector, int mode, bool level, uint8_t dest, bool logical)
{
    struct fixture *f = opaque;
    if (f->n < 16)
        f->msgs[f->n] = (struct msg){ vector, dest, mode, level, logical };
    f->n++;
}

static int setup(void **state)
{
    struct fixture *f = test_calloc(1, sizeof *f);
    ioapic_init(&f->io, on_msg, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    test_free(*state);
    return 0;
}

static uint32_t rdreg(struct ioapic *io, uint32_t reg)
{
    ioapic_mmio_write(io, 0x00, 4, reg);
    return ioapic_mmio_read(io, 0x10, 4);
}

static void wrreg(struct ioapic *io, uint32_t reg, uint32_t v)
{
    ioapic_mmio_write(io, 0x00, 4, reg);
    ioapic_mmio_write(io, 0x10, 4, v);
}

static void registers(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(rdreg(&f->io, 0x00), (uint32_t)IOAPIC_ID << 24);
    assert_int_equal(rdreg(&f->io, 0x01), 0x170011);
    assert_int_equal(rdreg(&f->io, 0x02), (uint32_t)IOAPIC_ID << 24);
    for (int pin = 0; pin < 24; pin++) {
        assert_int_equal(rdreg(&f->io, 0x10 + 2 * pin), 0x10000);     /* masked */
        assert_int_equal(rdreg(&f->io, 0x11 + 2 * pin), 0);
    }
    wrreg(&f->io, 0x00, 0x05000000);
    assert_int_equal(rdreg(&f->io, 0x00), 0x05000000);
    assert_int_equal(ioapic_mmio_read(&f->io, 0x00, 4), 0x00);      /* IOREGSEL reads back */
    /* Delivery status and remote IRR are read-only. */
    wrreg(&f->io, 0x10 + 2 * 3, 0x1FFFF);
    assert_int_equal(rdreg(&f->io, 0x10 + 2 * 3), 0x1AFFF);
    wrreg(&f->io, 0x11 + 2 * 3, 0xFFFFFFFF);
    assert_int_equal(rdreg(&f->io, 0x11 + 2 * 3), 0xFF000000);
    assert_int_equal(rdreg(&f->io, 0x40), 0);                        /* beyond pin 23 */
}

static void edge_pins(void **state)
{
    struct fixture *f = *state;
    ioapic_set_irq(&f->io, 4, 1);                                    /* masked: lost */
    ioapic_set_irq(&f->io, 4, 0);
    assert_int_equal(f->n, 0);
    wrreg(&f->io, 0x11 + 2 * 4, 0x03000000);
    wrreg(&f->io, 0x10 + 2 * 4, 0x0824);                             /* logical, vector 0x24 */
    ioapic_set_irq(&f->io, 4, 1);
    ioapic_set_irq(&f->io, 4, 1);                                    /* no new edge */
    assert_int_equal(f->n, 1);
    assert_int_equal(f->msgs[0].vector, 0x24);
    assert_int_equal(f->msgs[0].dest, 3);
    assert_true(f->msgs[0].logical);
    assert_false(f->msgs[0].level);
    ioapic_set_irq(&f->io, 4, 0);
    ioapic_set_irq(&f->io, 4, 1);
    assert_int_equal(f->n, 2);
    assert_int_equal(rdreg(&f->io, 0x10 + 2 * 4) & (1u << 14), 0);   /* no remote IRR */
}

static void level_pins_remote_irr(void **state)
{
    struct fixture *f = *state;
    ioapic_set_irq(&f->io, 10, 1);                                   /* asserted while masked */
    assert_int_equal(f->n, 0);
    wrreg(&f->io, 0x10 + 2 * 10, 0xA045);                            /* level, low, vector 0x45 */
    assert_int_equal(f->n, 1);                                       /* unmasking sends it */
    assert_true(f->msgs[0].level);
    assert_int_equal(rdreg(&f->io, 0x10 + 2 * 10) & (1u << 14), 1u << 14);
    ioapic_set_irq(&f->io, 10, 1);
    assert_int_equal(f->n, 1);                                       /* remote IRR holds it */
    ioapic_eoi(&f->io, 0x46);                                        /* another vector */
    assert_int_equal(f->n, 1);
    ioapic_eoi(&f->io, 0x45);                                        /* still asserted: again */
    assert_int_equal(f->n, 2);
    ioapic_set_irq(&f->io, 10, 0);
    ioapic_eoi(&f->io, 0x45);
    assert_int_equal(f->n, 2);
    assert_int_equal(rdreg(&f->io, 0x10 + 2 * 10) & (1u << 14), 0);
}

/* The whole path: device line → I/O APIC → local APIC → core, and the
 * EOI broadcast back. */
struct system {
    struct io_bus bus;
    struct pic pic;
    struct ioapic io;
    struct lapic l;
    struct isa_irq isa;
    int intr;
    uint64_t now;
};

static uint64_t sys_clock(void *o) { return ((struct system *)o)->now; }
static void sys_intr(void *o, int level) { ((struct system *)o)->intr = level; }
static void sys_eoi(void *o, uint8_t v) { ioapic_eoi(&((struct system *)o)->io, v); }
static void sys_msg(void *o, uint8_t vector, int mode, bool level, uint8_t dest, bool logical)
{
    lapic_deliver(&((struct system *)o)->l, vector, mode, level, dest, logical);
}
static void sys_pic_intr(void *o, int irq, int level)
{
    lapic_set_lint(&((struct system *)o)->l, 0, level);
}

static void pc_wiring(void **state)
{
    struct system *s = test_calloc(1, sizeof *s);
    assert_int_equal(pic_init(&s->pic, &s->bus, sys_pic_intr, s), 0);
    ioapic_init(&s->io, sys_msg, s);
    lapic_init(&s->l, sys_clock, s, sys_intr, s, sys_eoi, s);
    s->isa = (struct isa_irq){ &s->pic, &s->io, &s->l };

    /* The 8259 path (virtual wire): IRQ 0 unmasked on the PIC. */
    io_out(&s->bus, 0x20, 1, 0x11); io_out(&s->bus, 0x21, 1, 0x20);
    io_out(&s->bus, 0x21, 1, 0x04); io_out(&s->bus, 0x21, 1, 0x01);
    io_out(&s->bus, 0x21, 1, 0xFE);
    isa_irq_line(&s->isa, 0, 1);
    isa_irq_line(&s->isa, 0, 0);
    assert_int_equal(s->intr, 1);
    assert_int_equal(lapic_acknowledge(&s->l), LAPIC_EXTINT);
    assert_int_equal(pic_acknowledge(&s->pic), 0x20);
    io_out(&s->bus, 0x20, 1, 0x20);
    assert_int_equal(s->intr, 0);

    /* The I/O APIC path: PIC masked, LINT0 masked, IRQ 0 is pin 2. */
    io_out(&s->bus, 0x21, 1, 0xFF);
    lapic_mmio_write(&s->l, 0x350, 4, 0x10700);
    wrreg(&s->io, 0x10 + 2 * 2, 0x30);
    isa_irq_line(&s->isa, 0, 1);
    isa_irq_line(&s->isa, 0, 0);
    assert_int_equal(s->intr, 1);
    assert_int_equal(lapic_acknowledge(&s->l), 0x30);
    lapic_mmio_write(&s->l, 0xB0, 4, 0);
    assert_int_equal(s->intr, 0);

    /* A level-triggered device on IRQ 11: one interrupt per EOI while the
     * line stays up. */
    wrreg(&s->io, 0x10 + 2 * 11, 0xA051);
    isa_irq_line(&s->isa, 11, 1);
    assert_int_equal(lapic_acknowledge(&s->l), 0x51);
    assert_int_equal(s->intr, 0);
    lapic_mmio_write(&s->l, 0xB0, 4, 0);                 /* EOI: broadcast, sent again */
    assert_int_equal(s->intr, 1);
    assert_int_equal(lapic_acknowledge(&s->l), 0x51);
    isa_irq_line(&s->isa, 11, 0);
    lapic_mmio_write(&s->l, 0xB0, 4, 0);
    assert_int_equal(s->intr, 0);
    assert_int_equal(rdreg(&s->io, 0x10 + 2 * 11) & (1u << 14), 0);

    /* Busy: requested or in service where the line is unmasked. */
    assert_false(isa_irq_busy(&s->isa, 0));
    isa_irq_line(&s->isa, 0, 1);
    isa_irq_line(&s->isa, 0, 0);
    assert_true(isa_irq_busy(&s->isa, 0));             /* in the IRR */
    assert_int_equal(lapic_acknowledge(&s->l), 0x30);
    assert_true(isa_irq_busy(&s->isa, 0));             /* in service */
    lapic_mmio_write(&s->l, 0xB0, 4, 0);
    assert_false(isa_irq_busy(&s->isa, 0));
    assert_false(isa_irq_masked(&s->isa, 0));
    wrreg(&s->io, 0x10 + 2 * 2, 0x10030);
    assert_true(isa_irq_masked(&s->isa, 0));            /* PIC masked too */
    io_out(&s->bus, 0x21, 1, 0xFE);
    assert_false(isa_irq_masked(&s->isa, 0));
    io_out(&s->bus, 0x21, 1, 0xFF);

    /* Lines 16-23 reach only the I/O APIC. */
    wrreg(&s->io, 0x10 + 2 * 17, 0x61);
    isa_irq_line(&s->isa, 17, 1);
    assert_int_equal(lapic_acknowledge(&s->l), 0x61);
    test_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(registers, setup, teardown),
        cmocka_unit_test_setup_teardown(edge_pins, setup, teardown),
        cmocka_unit_test_setup_teardown(level_pins_remote_irr, setup, teardown),
        cmocka_unit_test(pc_wiring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
