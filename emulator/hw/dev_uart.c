/* dev_uart — a 16550A UART (National Semiconductor PC16550D datasheet).
 *
 * Register map, offset from base (DLAB = LCR bit 7):
 *   0  RBR (read) / THR (write)      DLAB=1: DLL, divisor latch low
 *   1  IER, interrupt enable         DLAB=1: DLM, divisor latch high
 *   2  IIR (read) / FCR (write)
 *   3  LCR   4  MCR   5  LSR   6  MSR   7  SCR
 *
 * Transmission is immediate: a byte written to THR goes to out_fd at once,
 * so THR and the transmit shift register are always empty (LSR.THRE and
 * LSR.TEMT always read 1) and the divisor only has to read back.
 *
 * Reception: the host side queues bytes in rx[] (64 entries). With the FIFO
 * enabled that queue stands in for the 16-byte receive FIFO; with it
 * disabled the guest still sees one byte at a time in RBR (LSR.DR), the rest
 * waiting as if the sender were flow-controlled. Only when the queue is full
 * is a byte lost and LSR.OE set. Bytes below the FIFO trigger level are
 * reported at once as a character timeout (IIR 0xC), where the chip would
 * wait four character times: the host delivers input in chunks, so there is
 * nothing to wait for.
 *
 * Like QEMU, the interrupt line is not gated by MCR.OUT2 (on a real PC board
 * OUT2 enables the IRQ buffer); kernels written for QEMU rely on that. */
#include "emulator/hw/devices.h"

#include <errno.h>
#include <unistd.h>

enum {
    REG_DATA = 0, REG_IER = 1, REG_IIR = 2, REG_LCR = 3,
    REG_MCR = 4, REG_LSR = 5, REG_MSR = 6, REG_SCR = 7,
};

#define IER_ERBFI 0x01   /* received data available */
#define IER_ETBEI 0x02   /* transmitter holding register empty */
#define IER_ELSI  0x04   /* receiver line status */
#define IER_EDSSI 0x08   /* modem status */

/* IIR interrupt identification, highest priority first (datasheet table 4). */
#define IIR_NONE 0x01
#define IIR_RLS  0x06    /* receiver line status: read LSR to clear */
#define IIR_RDA  0x04    /* received data at trigger level: read RBR */
#define IIR_CTI  0x0C    /* character timeout (FIFO mode): read RBR */
#define IIR_THRE 0x02    /* THR empty: read IIR or write THR */
#define IIR_MSI  0x00    /* modem status: read MSR */
#define IIR_FIFO 0xC0    /* both bits set while FCR0 = 1 */

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define FCR_WRITABLE 0xC9  /* enable, DMA mode, trigger level; 1-2 self-clear */

#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_ERRS 0x1E    /* OE PE FE BI: cleared by reading LSR */
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_DELTAS 0x0F
#define MSR_CTS  0x10
#define MSR_DSR  0x20
#define MSR_RI   0x40
#define MSR_DCD  0x80
/* The host end of the line: carrier, data set ready and clear to send. */
#define MSR_HOST_LINES (MSR_DCD | MSR_DSR | MSR_CTS)

#define RX_SIZE ((int)sizeof(((struct uart *)0)->rx))

static const int fifo_trigger[4] = { 1, 4, 8, 14 };

static uint8_t uart_iir_source(const struct uart *u)
{
    if ((u->ier & IER_ELSI) && (u->lsr_err & LSR_ERRS))
        return IIR_RLS;
    if ((u->ier & IER_ERBFI) && u->rx_count > 0) {
        if (!(u->fcr & FCR_ENABLE) || u->rx_count >= fifo_trigger[u->fcr >> 6])
            return IIR_RDA;
        return IIR_CTI;
    }
    if ((u->ier & IER_ETBEI) && u->thr_irq_pending)
        return IIR_THRE;
    if ((u->ier & IER_EDSSI) && (u->msr & MSR_DELTAS))
        return IIR_MSI;
    return IIR_NONE;
}

static void uart_update_irq(struct uart *u)
{
    int level = uart_iir_source(u) != IIR_NONE;
    if (level != u->irq_level) {
        u->irq_level = level;
        if (u->irq)
            u->irq(u->irq_opaque, u->irq_line, level);
    }
}

static void uart_rx_put(struct uart *u, uint8_t byte)
{
    if (u->rx_count == RX_SIZE) {
        u->lsr_err |= LSR_OE;
        return;
    }
    u->rx[(u->rx_head + u->rx_count) % RX_SIZE] = byte;
    u->rx_count++;
}

/* Modem status inputs. In loopback mode (datasheet: "MCR bit 4") the four
 * modem outputs are wired back: DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD. The
 * delta bits latch changes until MSR is read; TERI only on RI going 1→0. */
static void uart_set_modem_lines(struct uart *u)
{
    uint8_t lines = MSR_HOST_LINES;
    if (u->mcr & MCR_LOOP) {
        lines = 0;
        if (u->mcr & MCR_DTR)  lines |= MSR_DSR;
        if (u->mcr & MCR_RTS)  lines |= MSR_CTS;
        if (u->mcr & MCR_OUT1) lines |= MSR_RI;
        if (u->mcr & MCR_OUT2) lines |= MSR_DCD;
    }
    uint8_t old = u->msr & ~MSR_DELTAS, changed = old ^ lines;
    uint8_t deltas = u->msr & MSR_DELTAS;
    if (changed & MSR_CTS) deltas |= MSR_DCTS;
    if (changed & MSR_DSR) deltas |= MSR_DDSR;
    if (changed & MSR_DCD) deltas |= MSR_DDCD;
    if ((old & MSR_RI) && !(lines & MSR_RI)) deltas |= MSR_TERI;
    u->msr = lines | deltas;
}

static void uart_transmit(struct uart *u, uint8_t byte)
{
    if (u->mcr & MCR_LOOP) {
        uart_rx_put(u, byte);
        return;
    }
    if (u->out_fd < 0)
        return;
    ssize_t n;
    do
        n = write(u->out_fd, &byte, 1);
    while (n < 0 && errno == EINTR);
}

static uint32_t uart_read(void *dev, uint16_t port, int size)
{
    struct uart *u = dev;
    uint8_t v = 0;
    switch (port - u->base) {
    case REG_DATA:
        if (u->lcr & LCR_DLAB)
            return u->dll;
        if (u->rx_count > 0) {
            u->rbr = u->rx[u->rx_head];
            u->rx_head = (u->rx_head + 1) % RX_SIZE;
            u->rx_count--;
        }
        v = u->rbr;
        break;
    case REG_IER:
        return u->lcr & LCR_DLAB ? u->dlm : u->ier;
    case REG_IIR:
        v = uart_iir_source(u);
        /* Reading IIR while THRE is the reported source clears it. */
        if (v == IIR_THRE)
            u->thr_irq_pending = false;
        if (u->fcr & FCR_ENABLE)
            v |= IIR_FIFO;
        break;
    case REG_LCR:
        return u->lcr;
    case REG_MCR:
        return u->mcr;
    case REG_LSR:
        v = LSR_THRE | LSR_TEMT | u->lsr_err | (u->rx_count > 0 ? LSR_DR : 0);
        u->lsr_err = 0;
        break;
    case REG_MSR:
        v = u->msr;
        u->msr &= ~MSR_DELTAS;
        break;
    case REG_SCR:
        return u->scr;
    }
    uart_update_irq(u);
    return v;
}

static void uart_write_fcr(struct uart *u, uint8_t v)
{
    /* Changing FCR0 resets both FIFOs; the other bits need FCR0 = 1. */
    if ((v ^ u->fcr) & FCR_ENABLE)
        u->rx_count = 0;
    if (!(v & FCR_ENABLE)) {
        u->fcr = 0;
        return;
    }
    if (v & FCR_CLEAR_RX)
        u->rx_count = 0;
    u->fcr = v & FCR_WRITABLE;
}

static void uart_write(void *dev, uint16_t port, int size, uint32_t val)
{
    struct uart *u = dev;
    uint8_t v = (uint8_t)val;
    switch (port - u->base) {
    case REG_DATA:
        if (u->lcr & LCR_DLAB) {
            u->dll = v;
            return;
        }
        /* THR empties at once, so THRE drops and rises again: the line
         * pulses, which an edge-triggered PIC sees as a new interrupt. */
        u->thr_irq_pending = false;
        uart_update_irq(u);
        uart_transmit(u, v);
        u->thr_irq_pending = true;
        break;
    case REG_IER:
        if (u->lcr & LCR_DLAB) {
            u->dlm = v;
            return;
        }
        /* Setting ETBEI with THR empty raises THRE at once (datasheet). */
        if ((v ^ u->ier) & IER_ETBEI)
            u->thr_irq_pending = (v & IER_ETBEI) != 0;
        u->ier = v & 0x0F;
        break;
    case REG_IIR:
        uart_write_fcr(u, v);
        break;
    case REG_LCR:
        u->lcr = v;
        return;
    case REG_MCR:
        u->mcr = v & 0x1F;
        uart_set_modem_lines(u);
        break;
    case REG_LSR:
    case REG_MSR:
        return;             /* factory test registers: writes ignored */
    case REG_SCR:
        u->scr = v;
        return;
    }
    uart_update_irq(u);
}

int uart_init(struct uart *u, struct io_bus *bus, uint16_t base, int out_fd,
              irq_fn irq, void *opaque, int line)
{
    *u = (struct uart){
        .out_fd = out_fd, .base = base,
        .irq = irq, .irq_opaque = opaque, .irq_line = line,
    };
    uart_set_modem_lines(u);
    u->msr &= ~MSR_DELTAS;
    return io_register(bus, base, 8, u, uart_read, uart_write);
}

void uart_receive(struct uart *u, const uint8_t *buf, int n)
{
    for (int i = 0; i < n; i++)
        uart_rx_put(u, buf[i]);
    uart_update_irq(u);
}

int uart_rx_space(const struct uart *u)
{
    return RX_SIZE - u->rx_count;
}
