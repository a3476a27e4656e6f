/* The dual 8259A: initialisation, masking, priorities, EOI, rotation,
 * auto-EOI, OCW3 reads and poll, ELCR levels, cascade, spurious vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "emulator/hw/devices.h"

struct fixture {
    struct io_bus bus;
    struct pic pic;
    int intr, changes;
};

static void on_intr(void *opaque, int irq, int level)
{
    struct fixture *f = opaque;
    f->intr = level;
    f->changes++;
}

static void out(struct fixture *f, uint16_t port, uint8_t v) { io_out(&f->bus, port, 1, v); }
static uint8_t in(struct fixture *f, uint16_t port) { return (uint8_t)io_in(&f->bus, port, 1); }

/* What Linux's init_8259A() does: vectors 0x20/0x28, cascade on IR2. */
static void program(struct fixture *f, uint8_t icw4)
{
    out(f, 0x20, 0x11); out(f, 0x21, 0x20); out(f, 0x21, 0x04); out(f, 0x21, icw4);
    out(f, 0xA0, 0x11); out(f, 0xA1, 0x28); out(f, 0xA1, 0x02); out(f, 0xA1, icw4);
    out(f, 0x21, 0x00);
    out(f, 0xA1, 0x00);
}

static int setup(void **state)
{
    struct fixture *f = test_calloc(1, sizeof *f);
    if (pic_init(&f->pic, &f->bus, on_intr, f) < 0)
        return -1;
    program(f, 0x01);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    test_free(*state);
    return 0;
}

static void eoi(struct fixture *f, int irq)
{
    if (irq >= 8)
        out(f, 0xA0, 0x20);
    out(f, 0x20, 0x20);
}

static void init_and_mask(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(in(f, 0x21), 0x00);
    out(f, 0x21, 0xFB);
    assert_int_equal(in(f, 0x21), 0xFB);
    pic_set_irq(&f->pic, 0, 1);
    assert_false(pic_has_interrupt(&f->pic));
    assert_int_equal(f->intr, 0);
    assert_int_equal(in(f, 0x20), 0x01);           /* IRR shows it anyway */
    out(f, 0x21, 0xFA);                            /* unmask: delivered now */
    assert_true(pic_has_interrupt(&f->pic));
    assert_int_equal(f->intr, 1);
    assert_int_equal(pic_acknowledge(&f->pic), 0x20);
    assert_int_equal(f->intr, 0);
    out(f, 0x20, 0x0B);                            /* OCW3: read ISR */
    assert_int_equal(in(f, 0x20), 0x01);
    out(f, 0x20, 0x0A);                            /* OCW3: read IRR */
    assert_int_equal(in(f, 0x20), 0x00);
    /* ICW1 again clears IMR and ISR. */
    out(f, 0x20, 0x11);
    assert_int_equal(in(f, 0x21), 0x00);
    out(f, 0x21, 0x30); out(f, 0x21, 0x04); out(f, 0x21, 0x01);
    out(f, 0x20, 0x0B);
    assert_int_equal(in(f, 0x20), 0x00);
}

static void edge_latching(void **state)
{
    struct fixture *f = *state;
    pic_set_irq(&f->pic, 1, 1);
    pic_set_irq(&f->pic, 1, 0);                    /* the edge stays latched */
    assert_int_equal(pic_acknowledge(&f->pic), 0x21);
    eoi(f, 1);
    pic_set_irq(&f->pic, 1, 1);
    assert_int_equal(pic_acknowledge(&f->pic), 0x21);
    eoi(f, 1);
    pic_set_irq(&f->pic, 1, 1);                    /* still high: no new edge */
    assert_false(pic_has_interrupt(&f->pic));
}

static void priority_and_nesting(void **state)
{
    struct fixture *f = *state;
    pic_set_irq(&f->pic, 5, 1);
    pic_set_irq(&f->pic, 3, 1);
    assert_int_equal(pic_acknowledge(&f->pic), 0x23);  /* 3 beats 5 */
    assert_false(pic_has_interrupt(&f->pic));          /* 5 waits for 3 */
    pic_set_irq(&f->pic, 0, 1);
    assert_true(pic_has_interrupt(&f->pic));           /* 0 nests over 3 */
    assert_int_equal(pic_acknowledge(&f->pic), 0x20);
    out(f, 0x20, 0x0B);
    assert_int_equal(in(f, 0x20), 0x09);
    eoi(f, 0);                                         /* clears 0, the highest */
    assert_int_equal(in(f, 0x20), 0x08);
    assert_false(pic_has_interrupt(&f->pic));
    out(f, 0x20, 0x63);                                /* specific EOI for 3 */
    assert_int_equal(in(f, 0x20), 0x00);
    assert_int_equal(pic_acknowledge(&f->pic), 0x25);
}

static void rotation(void **state)
{
    struct fixture *f = *state;
    out(f, 0x20, 0xC4);                                /* set priority: 4 lowest */
    pic_set_irq(&f->pic, 1, 1);
    pic_set_irq(&f->pic, 6, 1);
    assert_int_equal(pic_acknowledge(&f->pic), 0x26);  /* 5 is now highest; 6 beats 1 */
    out(f, 0x20, 0xA0);                                /* rotate on non-specific EOI */
    assert_int_equal(pic_acknowledge(&f->pic), 0x21);  /* 6 lowest now */
    out(f, 0x20, 0xE1);                                /* rotate on specific EOI 1 */
    out(f, 0x20, 0x0B);
    assert_int_equal(in(f, 0x20), 0x00);
    pic_set_irq(&f->pic, 7, 1);
    pic_set_irq(&f->pic, 3, 1);
    assert_int_equal(pic_acknowledge(&f->pic), 0x23);  /* 2 is now highest, then 3 */
}

static void auto_eoi(void **state)
{
    struct fixture *f = *state;
    program(f, 0x03);
    pic_set_irq(&f->pic, 4, 1);
    assert_int_equal(pic_acknowledge(&f->pic), 0x24);
    out(f, 0x20, 0x0B);
    assert_int_equal(in(f, 0x20), 0x00);               /* nothing left in service */
    pic_set_irq(&f->pic, 6, 1);
    assert_true(pic_has_interrupt(&f->pic));
    out(f, 0x20, 0x80);                                /* rotate in auto-EOI */
    assert_int_equal(pic_acknowledge(&f->pic), 0x26);
    pic_set_irq(&f->pic, 6, 0);
    pic_set_irq(&f->pic, 6, 1);
    pic_set_irq(&f->pic, 3, 1);
    assert_int_equal(pic_acknowledge(&f->pic), 0x23);  /* 7 highest: then 0..6 */
    assert_int_equal(pic_acknowledge(&f->pic), 0x26);
}

static void cascade(void **state)
{
    struct fixture *f = *state;
    pic_set_irq(&f->pic, 12, 1);
    assert_true(pic_has_interrupt(&f->pic));
    out(f, 0x20, 0x0A);
    assert_int_equal(in(f, 0x20), 0x04);               /* master sees IR2 */
    assert_int_equal(pic_acknowledge(&f->pic), 0x2C);
    out(f, 0x20, 0x0B);
    out(f, 0xA0, 0x0B);
    assert_int_equal(in(f, 0x20), 0x04);
    assert_int_equal(in(f, 0xA0), 0x10);
    /* 9 beats 12 on the slave, but the master's IR2 is in service: without
     * special fully nested mode the master holds it back. */
    pic_set_irq(&f->pic, 9, 1);
    assert_false(pic_has_interrupt(&f->pic));
    pic_set_irq(&f->pic, 3, 1);                        /* lower than IR2: waits too */
    assert_false(pic_has_interrupt(&f->pic));
    eoi(f, 12);
    assert_int_equal(pic_acknowledge(&f->pic), 0x29);
    eoi(f, 9);
    assert_int_equal(pic_acknowledge(&f->pic), 0x23);
    eoi(f, 3);
    assert_false(pic_has_interrupt(&f->pic));
    out(f, 0xA1, 0x02);                                /* mask IRQ 9 on the slave */
    pic_set_irq(&f->pic, 9, 0);
    pic_set_irq(&f->pic, 9, 1);
    assert_false(pic_has_interrupt(&f->pic));
}

static void special_fully_nested(void **state)
{
    struct fixture *f = *state;
    program(f, 0x11);                                  /* SFNM on the master */
    pic_set_irq(&f->pic, 12, 1);
    assert_int_equal(pic_acknowledge(&f->pic), 0x2C);
    pic_set_irq(&f->pic, 9, 1);
    assert_true(pic_has_interrupt(&f->pic));           /* nests within IR2 */
    assert_int_equal(pic_acknowledge(&f->pic), 0x29);
}

static void special_mask_mode(void **state)
{
    struct fixture *f = *state;
    pic_set_irq(&f->pic, 1, 1);
    assert_int_equal(pic_acknowledge(&f->pic), 0x21);
    pic_set_irq(&f->pic, 5, 1);
    assert_false(pic_has_interrupt(&f->pic));
    out(f, 0x21, 0x02);                                /* mask the one in service */
    out(f, 0x20, 0x68);                                /* OCW3: set special mask */
    assert_true(pic_has_interrupt(&f->pic));
    out(f, 0x20, 0x48);                                /* reset special mask */
    assert_false(pic_has_interrupt(&f->pic));
}

static void level_triggered_elcr(void **state)
{
    struct fixture *f = *state;
    io_out(&f->bus, 0x4D1, 1, 0xFF);
    assert_int_equal(io_in(&f->bus, 0x4D1, 1), 0xDE);  /* 8 and 13 stay edge */
    io_out(&f->bus, 0x4D0, 1, 0xFF);
    assert_int_equal(io_in(&f->bus, 0x4D0, 1), 0xF8);
    pic_set_irq(&f->pic, 10, 1);
    assert_int_equal(pic_acknowledge(&f->pic), 0x2A);
    eoi(f, 10);
    assert_true(pic_has_interrupt(&f->pic));           /* still high: again */
    assert_int_equal(pic_acknowledge(&f->pic), 0x2A);
    pic_set_irq(&f->pic, 10, 0);
    eoi(f, 10);
    assert_false(pic_has_interrupt(&f->pic));
    pic_set_irq(&f->pic, 5, 1);
    pic_set_irq(&f->pic, 5, 0);                        /* a level request can vanish */
    assert_false(pic_has_interrupt(&f->pic));
}

static void spurious(void **state)
{
    struct fixture *f = *state;
    io_out(&f->bus, 0x4D0, 1, 0x20);                   /* IRQ 5 level-triggered */
    pic_set_irq(&f->pic, 5, 1);
    assert_true(pic_has_interrupt(&f->pic));
    pic_set_irq(&f->pic, 5, 0);                        /* gone before INTA */
    assert_int_equal(pic_acknowledge(&f->pic), 0x27);
    out(f, 0x20, 0x0B);
    assert_int_equal(in(f, 0x20), 0x00);               /* no ISR bit for spurious */

    io_out(&f->bus, 0x4D1, 1, 0x08);                   /* IRQ 11 level */
    pic_set_irq(&f->pic, 11, 1);
    assert_true(pic_has_interrupt(&f->pic));
    out(f, 0xA1, 0x08);                                /* masked on the slave before INTA */
    out(f, 0x20, 0x0A);
    assert_int_equal(in(f, 0x20), 0x04);               /* the master latched IR2's edge */
    assert_int_equal(pic_acknowledge(&f->pic), 0x2F);  /* spurious IRQ 15 */
    out(f, 0x20, 0x0B);
    out(f, 0xA0, 0x0B);
    assert_int_equal(in(f, 0x20), 0x04);               /* the master's IR2 is in service */
    assert_int_equal(in(f, 0xA0), 0x00);
}

static void poll_command(void **state)
{
    struct fixture *f = *state;
    out(f, 0x20, 0x0C);
    assert_int_equal(in(f, 0x20), 0x00);               /* nothing pending */
    pic_set_irq(&f->pic, 6, 1);
    out(f, 0x20, 0x0C);
    assert_int_equal(in(f, 0x21), 0x86);               /* either port */
    out(f, 0x20, 0x0B);
    assert_int_equal(in(f, 0x20), 0x40);               /* acknowledged */
    assert_int_equal(in(f, 0x21), 0x00);               /* poll is one read only */
}

static void intr_callback_edges(void **state)
{
    struct fixture *f = *state;
    int before = f->changes;
    pic_set_irq(&f->pic, 0, 1);
    pic_set_irq(&f->pic, 1, 1);
    assert_int_equal(f->changes, before + 1);
    assert_int_equal(f->intr, 1);
    pic_acknowledge(&f->pic);
    assert_int_equal(f->intr, 0);
    eoi(f, 0);
    assert_int_equal(f->intr, 1);
    pic_irq_line(&f->pic, 99, 1);                      /* out of range: ignored */
    eoi(f, 1);
    assert_int_equal(pic_acknowledge(&f->pic), 0x21);
    eoi(f, 1);
    pic_set_irq(&f->pic, 2, 1);                        /* the AT bus's IRQ 2 is IRQ 9 */
    assert_int_equal(pic_acknowledge(&f->pic), 0x29);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(init_and_mask), T(edge_latching), T(priority_and_nesting), T(rotation), T(auto_eoi),
        T(cascade), T(special_fully_nested), T(special_mask_mode), T(level_triggered_elcr),
        T(spurious), T(poll_command), T(intr_callback_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
