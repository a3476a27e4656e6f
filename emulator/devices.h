/* devices — the platform's port-I/O devices (a subset of QEMU's `pc`, DESIGN §6).
 * Each is a plain struct with an init function that registers it on an io_bus;
 * none knows about struct vm. Interrupt lines are callbacks. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "emulator/io.h"

/* An interrupt line: level 1 = asserted. */
typedef void (*irq_fn)(void *opaque, int irq, int level);

/* 16550A UART (COM1 0x3F8, IRQ 4). Transmit goes to out_fd immediately. */
struct uart {
    int out_fd;
    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
    uint8_t rx[64]; int rx_head, rx_count;   /* receive FIFO (input from host) */
    bool thr_irq_pending;
    irq_fn irq; void *irq_opaque; int irq_line;
};
void uart_init(struct uart *u, struct io_bus *bus, uint16_t base, int out_fd,
               irq_fn irq, void *opaque, int line);
/* Host input arrives: queue bytes for the guest to read (RBR), raise IRQ if enabled. */
void uart_receive(struct uart *u, const uint8_t *buf, int n);

/* Bochs/QEMU debug console at 0xE9: writes are characters, reads return 0xE9. */
struct debugcon { int out_fd; };
void debugcon_init(struct debugcon *d, struct io_bus *bus, uint16_t port, int out_fd);

/* isa-debug-exit: a write of v asks the VM to exit with status (v << 1) | 1. */
struct debug_exit {
    void (*on_exit)(void *opaque, int status);
    void *opaque;
};
void debug_exit_init(struct debug_exit *d, struct io_bus *bus, uint16_t base, uint16_t size,
                     void (*on_exit)(void *opaque, int status), void *opaque);
