/* The 16550A UART, register by register (PC16550D datasheet). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "emulator/hw/devices.h"

#define COM1 0x3F8
enum { RBR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

struct fixture {
    struct io_bus bus;
    struct uart u;
    int pipe[2];
    int level, raises, lowers, line;
};

static void on_irq(void *opaque, int irq, int level)
{
    struct fixture *f = opaque;
    f->line = irq;
    f->level = level;
    if (level)
        f->raises++;
    else
        f->lowers++;
}

static int setup(void **state)
{
    struct fixture *f = test_calloc(1, sizeof *f);
    if (pipe(f->pipe) < 0)
        return -1;
    fcntl(f->pipe[0], F_SETFL, O_NONBLOCK);
    if (uart_init(&f->u, &f->bus, COM1, f->pipe[1], on_irq, f, 4) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close(f->pipe[0]);
    close(f->pipe[1]);
    test_free(f);
    return 0;
}

static uint8_t in(struct fixture *f, int reg) { return (uint8_t)io_in(&f->bus, COM1 + reg, 1); }
static void out(struct fixture *f, int reg, uint8_t v) { io_out(&f->bus, COM1 + reg, 1, v); }

static ssize_t drain(struct fixture *f, char *buf, size_t n)
{
    ssize_t r = read(f->pipe[0], buf, n);
    return r < 0 ? 0 : r;
}

static void reset_state(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(in(f, IER), 0);
    assert_int_equal(in(f, IIR), 0x01);       /* no interrupt pending, FIFOs off */
    assert_int_equal(in(f, LCR), 0);
    assert_int_equal(in(f, MCR), 0);
    assert_int_equal(in(f, LSR), 0x60);       /* THRE | TEMT */
    assert_int_equal(in(f, MSR), 0xB0);       /* DCD | DSR | CTS, no deltas */
    assert_int_equal(f->raises, 0);
    struct uart again;
    assert_int_equal(uart_init(&again, &f->bus, COM1, -1, NULL, NULL, 4), -1);
}

static void transmit_is_immediate(void **state)
{
    struct fixture *f = *state;
    char buf[8];
    out(f, RBR, 'o');
    out(f, RBR, 'k');
    assert_int_equal(drain(f, buf, sizeof buf), 2);
    assert_memory_equal(buf, "ok", 2);
    assert_int_equal(in(f, LSR) & 0x60, 0x60);
    f->u.out_fd = -1;
    out(f, RBR, 'x');                         /* discarded */
    assert_int_equal(drain(f, buf, sizeof buf), 0);
}

static void divisor_latch(void **state)
{
    struct fixture *f = *state;
    char buf[4];
    out(f, IER, 0x05);
    out(f, LCR, 0x83);                        /* DLAB, 8 data bits */
    out(f, RBR, 0x0C);                        /* DLL: 9600 baud */
    out(f, IER, 0x01);                        /* DLM */
    assert_int_equal(in(f, RBR), 0x0C);
    assert_int_equal(in(f, IER), 0x01);
    assert_int_equal(drain(f, buf, sizeof buf), 0);
    out(f, LCR, 0x03);
    assert_int_equal(in(f, IER), 0x05);       /* IER untouched by DLM writes */
    assert_int_equal(in(f, LCR), 0x03);
    out(f, LCR, 0x83);
    assert_int_equal(in(f, RBR), 0x0C);
}

static void scratch_and_ier_mask(void **state)
{
    struct fixture *f = *state;
    out(f, SCR, 0x5A);
    assert_int_equal(in(f, SCR), 0x5A);
    out(f, IER, 0xFF);
    assert_int_equal(in(f, IER), 0x0F);
    out(f, MCR, 0xFF);
    assert_int_equal(in(f, MCR), 0x1F);
    out(f, LSR, 0x00);                        /* ignored */
    assert_int_equal(in(f, LSR) & 0x60, 0x60);
}

static void thre_interrupt(void **state)
{
    struct fixture *f = *state;
    char buf[4];
    out(f, IER, 0x02);                        /* ETBEI with THR empty: interrupt */
    assert_int_equal(f->level, 1);
    assert_int_equal(f->line, 4);
    assert_int_equal(in(f, IIR), 0x02);       /* reading IIR clears THRE ... */
    assert_int_equal(f->level, 0);
    assert_int_equal(in(f, IIR), 0x01);
    out(f, RBR, 'a');                         /* ... and THR empties again */
    assert_int_equal(f->level, 1);
    int raises = f->raises;
    out(f, RBR, 'b');                         /* each write is a new edge */
    assert_int_equal(f->raises, raises + 1);
    assert_int_equal(f->level, 1);
    out(f, IER, 0x00);
    assert_int_equal(f->level, 0);
    out(f, IER, 0x02);
    assert_int_equal(f->level, 1);
    assert_int_equal(drain(f, buf, sizeof buf), 2);
}

static void receive_without_fifo(void **state)
{
    struct fixture *f = *state;
    uart_receive(&f->u, (const uint8_t *)"hi", 2);
    assert_int_equal(f->raises, 0);           /* ERBFI clear */
    assert_int_equal(in(f, LSR), 0x61);
    out(f, IER, 0x01);
    assert_int_equal(f->level, 1);
    assert_int_equal(in(f, IIR), 0x04);
    assert_int_equal(in(f, RBR), 'h');
    assert_int_equal(f->level, 1);
    assert_int_equal(in(f, RBR), 'i');
    assert_int_equal(f->level, 0);
    assert_int_equal(in(f, LSR), 0x60);
    assert_int_equal(in(f, IIR), 0x01);
    assert_int_equal(in(f, RBR), 'i');        /* RBR holds the last byte */
    uart_receive(&f->u, (const uint8_t *)"!", 1);
    assert_int_equal(f->level, 1);
}

static void fifo_trigger_and_timeout(void **state)
{
    struct fixture *f = *state;
    out(f, FCR, 0x41);                        /* FIFO on, trigger level 4 */
    assert_int_equal(in(f, IIR), 0xC1);
    out(f, IER, 0x01);
    uart_receive(&f->u, (const uint8_t *)"ab", 2);
    assert_int_equal(in(f, IIR), 0xCC);       /* below trigger: character timeout */
    uart_receive(&f->u, (const uint8_t *)"cd", 2);
    assert_int_equal(in(f, IIR), 0xC4);       /* at trigger: data available */
    assert_int_equal(in(f, RBR), 'a');
    assert_int_equal(in(f, IIR), 0xCC);
    out(f, FCR, 0x43);                        /* clear the receive FIFO */
    assert_int_equal(in(f, LSR) & 0x01, 0);
    assert_int_equal(in(f, IIR), 0xC1);
    assert_int_equal(f->level, 0);
    uart_receive(&f->u, (const uint8_t *)"e", 1);
    out(f, FCR, 0x00);                        /* FIFO off: FIFOs reset */
    assert_int_equal(in(f, IIR), 0x01);
    assert_int_equal(in(f, LSR) & 0x01, 0);
}

static void overrun_and_priority(void **state)
{
    struct fixture *f = *state;
    uint8_t many[80];
    memset(many, 'x', sizeof many);
    assert_int_equal(uart_rx_space(&f->u), 64);
    uart_receive(&f->u, many, 10);
    assert_int_equal(uart_rx_space(&f->u), 54);
    uart_receive(&f->u, many, 70);            /* 16 lost */
    assert_int_equal(uart_rx_space(&f->u), 0);
    out(f, IER, 0x0F);
    assert_int_equal(in(f, IIR), 0x06);       /* line status first */
    assert_int_equal(in(f, LSR), 0x63);       /* OE DR THRE TEMT ... */
    assert_int_equal(in(f, LSR), 0x61);       /* ... OE cleared by the read */
    assert_int_equal(in(f, IIR), 0x04);       /* then received data */
    for (int i = 0; i < 64; i++)
        assert_int_equal(in(f, RBR), 'x');
    assert_int_equal(in(f, IIR), 0x02);       /* then THR empty */
    assert_int_equal(in(f, IIR), 0x01);
    assert_int_equal(f->level, 0);
}

static void loopback_and_modem_status(void **state)
{
    struct fixture *f = *state;
    char buf[4];
    out(f, IER, 0x08);
    /* Linux's 8250 probe: loopback with OUT2|RTS must read DCD|CTS. */
    out(f, MCR, 0x1A);
    assert_int_equal(f->level, 1);            /* DSR dropped */
    assert_int_equal(in(f, IIR), 0x00);       /* modem status */
    uint8_t msr = in(f, MSR);
    assert_int_equal(msr & 0xF0, 0x90);
    assert_int_equal(msr & 0x0F, 0x02);       /* DSR dropped: DDSR */
    assert_int_equal(f->level, 0);            /* deltas cleared by the read */
    assert_int_equal(in(f, MSR), 0x90);
    out(f, MCR, 0x1F);                        /* DTR, OUT1 on */
    assert_int_equal(in(f, MSR), 0xF2);       /* RI, DSR; DDSR */
    out(f, MCR, 0x1B);                        /* OUT1 off: trailing edge of RI */
    assert_int_equal(in(f, MSR), 0xB4);
    out(f, IER, 0x01);
    out(f, RBR, 'L');                         /* loops back to the receiver */
    assert_int_equal(drain(f, buf, sizeof buf), 0);
    assert_int_equal(in(f, LSR) & 0x01, 1);
    assert_int_equal(in(f, RBR), 'L');
    out(f, MCR, 0x10);                        /* loopback, all outputs off */
    assert_int_equal(in(f, MSR), 0x0B);       /* DDCD DDSR DCTS */
    out(f, MCR, 0x00);
    assert_int_equal(in(f, MSR), 0xBB);       /* the host's lines again, with deltas */
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(reset_state), T(transmit_is_immediate), T(divisor_latch), T(scratch_and_ier_mask),
        T(thre_interrupt), T(receive_without_fifo), T(fifo_trigger_and_timeout),
        T(overrun_and_priority), T(loopback_and_modem_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
