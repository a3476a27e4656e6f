/* devices — the platform's port-I/O devices (a subset of QEMU's `pc`, DESIGN §6).
 * Each is a plain struct with an init function that registers it on an io_bus;
 * none knows about struct vm. Interrupt lines are callbacks. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "emulator/hw/io.h"

/* An interrupt line: level 1 = asserted. */
typedef void (*irq_fn)(void *opaque, int irq, int level);

/* Every *_init returns io_register's result: 0, or -1 if the ports are taken
 * or the bus is full. */

/* 16550A UART (COM1 0x3F8, IRQ 4). Transmit goes to out_fd immediately. */
struct uart {
    int out_fd;
    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
    uint8_t rx[64]; int rx_head, rx_count;   /* receive FIFO (input from host) */
    bool thr_irq_pending;
    irq_fn irq; void *irq_opaque; int irq_line;
    uint16_t base;
    uint8_t rbr;          /* last byte read from RBR */
    uint8_t lsr_err;      /* LSR error bits (OE) until LSR is read */
    uint8_t msr;          /* modem status lines and latched delta bits */
    int irq_level;        /* current state of the interrupt output */
};
int uart_init(struct uart *u, struct io_bus *bus, uint16_t base, int out_fd,
              irq_fn irq, void *opaque, int line);
/* Host input arrives: queue bytes for the guest to read (RBR), raise IRQ if enabled.
 * Bytes beyond uart_rx_space() are lost (LSR.OE), so read no more than that. */
void uart_receive(struct uart *u, const uint8_t *buf, int n);
int uart_rx_space(const struct uart *u);

/* Bochs/QEMU debug console at 0xE9: writes are characters, reads return 0xE9. */
struct debugcon { int out_fd; };
int debugcon_init(struct debugcon *d, struct io_bus *bus, uint16_t port, int out_fd);

/* isa-debug-exit: a write of v asks the VM to exit with status (v << 1) | 1. */
struct debug_exit {
    void (*on_exit)(void *opaque, int status);
    void *opaque;
};
int debug_exit_init(struct debug_exit *d, struct io_bus *bus, uint16_t base, uint16_t size,
                    void (*on_exit)(void *opaque, int status), void *opaque);

/* A clock: nanoseconds on a fixed time base (monotonic for the PIT, Unix time
 * for the RTC). Injected so tests run on a fake clock. */
typedef uint64_t (*clock_fn)(void *opaque);

/* Dual 8259A PIC: master 0x20/0x21 (IRQ 0-7), slave 0xA0/0xA1 (IRQ 8-15) on
 * the master's IR2, and the ELCR at 0x4D0/0x4D1 (edge/level per line).
 * The INTR output to the CPU is the intr callback (irq argument 0). */
struct pic_chip {
    uint8_t irr, isr, imr;
    uint8_t lines;            /* input levels, for edge detection */
    uint8_t elcr, elcr_mask;  /* 1 = level-triggered; which bits may be */
    uint8_t vector_base;      /* ICW2 & 0xF8 */
    uint8_t priority_add;     /* rotation: the line with the highest priority */
    uint8_t init_step;        /* 0 ready, else the ICW expected next (2..4) */
    bool icw4, single, ltim;
    bool auto_eoi, rotate_on_aeoi, special_fully_nested, special_mask;
    bool read_isr, poll;
    bool is_master;
};
struct pic {
    struct pic_chip chip[2];  /* 0 master, 1 slave */
    irq_fn intr; void *intr_opaque;
    int intr_level;
};
int pic_init(struct pic *p, struct io_bus *bus, irq_fn intr, void *opaque);
/* Drive input line irq (0-15; 2 is the cascade, so it means 9, as on the AT
 * bus). Edge-triggered lines latch on 0→1. */
void pic_set_irq(struct pic *p, int irq, int level);
/* An irq_fn for devices: opaque is the struct pic. */
void pic_irq_line(void *pic, int irq, int level);
/* 1 if INTR is asserted (an unmasked request beats everything in service). */
int pic_has_interrupt(struct pic *p);
/* The INTA cycle: the vector to deliver; IRR→ISR (unless auto-EOI). A
 * request that vanished gives the spurious vector, base + 7, with no ISR bit. */
int pic_acknowledge(struct pic *p);

/* 8254 PIT at 0x40-0x43, counting at 1.193182 MHz of the injected clock,
 * and port 0x61 (channel 2 gate, speaker enable, OUT2, refresh toggle).
 * Channel 0's OUT rising edges pulse IRQ 0; call pit_update() when
 * pit_next_event_ns() has passed (and at any other time: it is cheap). */
struct pit_channel {
    uint32_t count;           /* reload value: 1..0x10000 (BCD: 1..10000) */
    uint64_t load_ns;         /* clock time the count was loaded */
    uint64_t frozen_ns;       /* elapsed time when the gate stopped counting */
    uint64_t seen_ticks;      /* ticks already examined for IRQ edges */
    uint8_t mode, rw, bcd;    /* control word fields */
    uint8_t status;           /* latched status byte */
    uint16_t latch;           /* latched count */
    uint8_t write_lsb;        /* low byte of a 16-bit count being written */
    bool loaded, counting;    /* a count was written; the gate lets it run */
    bool gate, null_count;
    bool status_latched, count_latched;
    bool read_msb, write_msb, latch_msb;  /* next byte of a lo/hi sequence */
};
struct pit {
    struct pit_channel ch[3];
    clock_fn now_ns; void *clock_opaque;
    irq_fn irq; void *irq_opaque;
    uint8_t port61;           /* bits 0-3 as written */
    bool refresh;             /* port 0x61 bit 4 */
};
int pit_init(struct pit *p, struct io_bus *bus, clock_fn now_ns, void *clock_opaque,
             irq_fn irq, void *irq_opaque);
/* Pulses IRQ 0 if channel 0 produced an OUT rising edge since the last call;
 * returns the number of edges (more than one means ticks were lost). */
int pit_update(struct pit *p);
/* Clock time of channel 0's next rising edge, or UINT64_MAX if none is due. */
uint64_t pit_next_event_ns(struct pit *p);

/* MC146818 RTC and CMOS RAM at 0x70 (index; bit 7, NMI disable, is not part
 * of the index) and 0x71 (data). Time is the host's (now_ns: Unix time in
 * ns, kept in UTC) plus whatever offset the guest sets. IRQ 8 follows
 * status C's IRQF; call rtc_update() when rtc_next_event_ns() has passed. */
struct rtc {
    uint8_t cmos[128];
    uint8_t index;
    int64_t offset_s;         /* guest time - host time */
    uint8_t set_time[10];     /* time registers while status B.SET holds them */
    uint8_t set_century;      /* and register 0x32 */
    uint64_t checked_ns;      /* flags in status C are up to date until here */
    int irq_level;
    clock_fn now_ns; void *clock_opaque;
    irq_fn irq; void *irq_opaque;
};
/* ram_size fills the memory-size bytes (0x15-0x18, 0x30/0x31, 0x34/0x35). */
int rtc_init(struct rtc *r, struct io_bus *bus, uint64_t ram_size, clock_fn now_ns,
             void *clock_opaque, irq_fn irq, void *irq_opaque);
void rtc_update(struct rtc *r);
uint64_t rtc_next_event_ns(struct rtc *r);

/* 8042 keyboard controller at 0x60/0x64 with a keyboard on which nothing is
 * typed and no mouse. Command 0xFE (or an output-port write clearing bit 0)
 * pulses the CPU reset line: on_reset. IRQ 1 (keyboard) and 12 (mouse). */
struct ps2 {
    uint8_t ram[32];          /* controller RAM; ram[0] is the command byte */
    uint8_t out[16], out_flags[16];  /* output queue; per byte: from the mouse, timeout */
    int out_head, out_count;
    uint8_t last_out;         /* what 0x60 reads with the queue empty */
    uint8_t scancode_set;     /* the keyboard's, 1-3 */
    uint8_t status;           /* status bits other than OBF, AUXDATA, TIMEOUT */
    uint8_t outport;          /* output port: bit 0 reset (1 = run), bit 1 A20 */
    uint8_t pending;          /* controller command awaiting its data byte, or 0 */
    uint8_t kbd_pending;      /* keyboard command awaiting its argument, or 0 */
    int irq1_level, irq12_level;
    irq_fn irq; void *irq_opaque;
    void (*on_reset)(void *opaque); void *reset_opaque;
};
int ps2_init(struct ps2 *k, struct io_bus *bus, irq_fn irq, void *irq_opaque,
             void (*on_reset)(void *opaque), void *reset_opaque);

/* Small things: port 0x80 (POST codes: writes kept, reads 0xFF) and
 * system control port A at 0x92 (bit 1 A20, bit 0 0→1 resets: on_reset).
 * PCI configuration is pci.h. */
struct misc_ports {
    uint8_t post_code;
    uint8_t port92;
    void (*on_reset)(void *opaque); void *reset_opaque;
};
int misc_init(struct misc_ports *m, struct io_bus *bus, void (*on_reset)(void *opaque),
              void *reset_opaque);

/* QEMU's pc-testdev (dev_pctestdev.c): a scratch register at 0xe0-0xe3 and
 * 0xe8-0xeb, "flush page" at 0xe4, ISA IRQ line writes at 0x2000-0x2017,
 * and 64 KiB of device memory the VM maps at PC_TESTDEV_MEM_BASE with
 * pc_testdev_mem_read/write as its MMIO handlers. */
#define PC_TESTDEV_IRQ_PORT 0x2000
#define PC_TESTDEV_MEM_BASE 0xff000000u
#define PC_TESTDEV_MEM_SIZE 0x10000u
struct pc_testdev {
    uint32_t data;            /* the scratch register */
    uint32_t flushes;         /* flush-page writes seen */
    irq_fn irq; void *irq_opaque;
    uint8_t mem[PC_TESTDEV_MEM_SIZE];
};
int pc_testdev_init(struct pc_testdev *t, struct io_bus *bus, irq_fn irq, void *irq_opaque);
uint32_t pc_testdev_mem_read(void *dev, uint32_t off, unsigned size);
void pc_testdev_mem_write(void *dev, uint32_t off, unsigned size, uint32_t val);
