/* VGA text-mode registers and the --screen rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "emulator/hw/vga.h"

struct fixture {
    struct io_bus bus;
    struct vga vga;
    uint8_t text[VGA_TEXT_SIZE];
};

static int setup(void **state)
{
    struct fixture *f = test_calloc(1, sizeof *f);
    if (vga_init(&f->vga, &f->bus) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    test_free(*state);
    return 0;
}

static void crtc(void **state)
{
    struct fixture *f = *state;
    /* xv6's cgaputc: index 14/15 on 0x3D4, data on 0x3D5 */
    io_out(&f->bus, 0x3D4, 1, 14);
    io_out(&f->bus, 0x3D5, 1, 0x01);
    io_out(&f->bus, 0x3D4, 1, 15);
    io_out(&f->bus, 0x3D5, 1, 0x40);
    assert_int_equal(vga_cursor(&f->vga), 0x140);
    io_out(&f->bus, 0x3D4, 1, 14);
    assert_int_equal(io_in(&f->bus, 0x3D5, 1), 0x01);
    assert_int_equal(io_in(&f->bus, 0x3D4, 1), 14);
    /* a 16-bit write is index then data */
    io_out(&f->bus, 0x3D4, 2, 0x500C);
    io_out(&f->bus, 0x3D4, 2, 0x000D);
    assert_int_equal(vga_start(&f->vga), 0x5000);
    assert_int_equal(io_in(&f->bus, 0x3D4, 2), 0x000D);
    /* other registers are kept; 00h-07h are protected by 11h bit 7 */
    io_out(&f->bus, 0x3D4, 2, 0x200A);                 /* cursor start: hide the cursor */
    io_out(&f->bus, 0x3D4, 1, 0x0A);
    assert_int_equal(io_in(&f->bus, 0x3D5, 1), 0x20);
    io_out(&f->bus, 0x3D4, 2, 0x1201);
    io_out(&f->bus, 0x3D4, 1, 0x01);
    assert_int_equal(io_in(&f->bus, 0x3D5, 1), 0x4F);  /* mode 3 value kept */
    io_out(&f->bus, 0x3D4, 2, 0x0E11);                 /* unprotect */
    io_out(&f->bus, 0x3D4, 2, 0x1201);
    assert_int_equal(io_in(&f->bus, 0x3D5, 1), 0x12);
}

static void mono_alias_and_misc(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(io_in(&f->bus, 0x3CC, 1), 0x67);  /* colour */
    assert_int_equal(io_in(&f->bus, 0x3B4, 1), 0xFF);  /* mono ports not decoded */
    io_out(&f->bus, 0x3B4, 1, 0x0E);                   /* dropped */
    io_out(&f->bus, 0x3C2, 1, 0x66);                   /* monochrome addressing */
    assert_int_equal(io_in(&f->bus, 0x3CC, 1), 0x66);
    io_out(&f->bus, 0x3B4, 1, 0x0F);
    io_out(&f->bus, 0x3B5, 1, 0x22);
    assert_int_equal(vga_cursor(&f->vga) & 0xFF, 0x22);
    assert_int_equal(io_in(&f->bus, 0x3D5, 1), 0xFF);
    uint8_t a = (uint8_t)io_in(&f->bus, 0x3BA, 1);
    assert_int_equal(io_in(&f->bus, 0x3BA, 1), a ^ 0x09);
}

static void retrace_and_attributes(void **state)
{
    struct fixture *f = *state;
    /* wait for the end of a retrace, then for its start: both finish */
    int reads = 0;
    while ((io_in(&f->bus, 0x3DA, 1) & 0x08) && reads < 10)
        reads++;
    while (!(io_in(&f->bus, 0x3DA, 1) & 0x08) && reads < 10)
        reads++;
    assert_true(reads < 4);
    /* attribute controller: reading 0x3DA resets the flip-flop to index */
    io_in(&f->bus, 0x3DA, 1);
    io_out(&f->bus, 0x3C0, 1, 0x10);                   /* index 10h (mode control) */
    io_out(&f->bus, 0x3C0, 1, 0x0C);                   /* data */
    assert_int_equal(io_in(&f->bus, 0x3C1, 1), 0x0C);
    io_out(&f->bus, 0x3C0, 1, 0x31);                   /* index again, with PAS */
    assert_int_equal(io_in(&f->bus, 0x3C0, 1), 0x31);
    io_out(&f->bus, 0x3C0, 1, 0x07);                   /* data for 11h */
    io_in(&f->bus, 0x3DA, 1);
    io_out(&f->bus, 0x3C0, 1, 0x11);
    assert_int_equal(io_in(&f->bus, 0x3C1, 1), 0x07);
    /* sequencer, graphics controller, DAC */
    io_out(&f->bus, 0x3C4, 2, 0x0302);
    assert_int_equal(io_in(&f->bus, 0x3C5, 1), 0x03);
    io_out(&f->bus, 0x3CE, 2, 0x0E06);
    assert_int_equal(io_in(&f->bus, 0x3CF, 1), 0x0E);
    io_out(&f->bus, 0x3C8, 1, 5);
    io_out(&f->bus, 0x3C9, 1, 0x3F);
    io_out(&f->bus, 0x3C9, 1, 0x41);                   /* 6-bit */
    io_out(&f->bus, 0x3C9, 1, 0x02);
    io_out(&f->bus, 0x3C7, 1, 5);
    assert_int_equal(io_in(&f->bus, 0x3C9, 1), 0x3F);
    assert_int_equal(io_in(&f->bus, 0x3C9, 1), 0x01);
    assert_int_equal(io_in(&f->bus, 0x3C9, 1), 0x02);
    assert_int_equal(io_in(&f->bus, 0x3C6, 1), 0xFF);
}

static void put(struct fixture *f, int cell, const char *s)
{
    for (; *s; s++, cell++) {
        f->text[2 * cell] = (uint8_t)*s;
        f->text[2 * cell + 1] = 0x07;
    }
}

static void screen_text(void **state)
{
    struct fixture *f = *state;
    char out[VGA_SCREEN_TEXT_MAX], expect[VGA_SCREEN_TEXT_MAX];
    for (int i = 0; i < VGA_COLS * VGA_ROWS; i++) {
        f->text[2 * i] = ' ';
        f->text[2 * i + 1] = 0x07;
    }
    put(f, 0, "hello  ");
    put(f, 80 + 78, "xy");                              /* ends at the last column */
    put(f, 24 * 80, "last");
    f->text[2 * (2 * 80 + 3)] = 0x00;                   /* NUL shows as blank */
    f->text[2 * (2 * 80 + 4)] = 0xC4;                   /* a line-drawing character */
    size_t n = vga_screen_text(&f->vga, f->text, out);
    strcpy(expect, "hello\n");
    strcat(expect, "                                                                              xy\n");
    strcat(expect, "    .\n");
    for (int i = 3; i < 24; i++)
        strcat(expect, "\n");
    strcat(expect, "last\n");
    assert_string_equal(out, expect);
    assert_int_equal(n, strlen(expect));
    /* the display start address scrolls what is shown */
    io_out(&f->bus, 0x3D4, 2, 0x500D);                  /* start at cell 80 */
    vga_screen_text(&f->vga, f->text, out);
    assert_memory_equal(out, "                                                                              xy\n", 81);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = { T(crtc), T(mono_alias_and_misc),
                                        T(retrace_and_attributes), T(screen_text) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
