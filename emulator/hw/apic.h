/* apic — the local APIC (xAPIC) and the I/O APIC of QEMU's `pc`
 * (DESIGN §6). Both are memory-mapped: their register windows are the
 * lapic_mmio_* / ioapic_mmio_* functions, which have the shape of
 * struct vm_mmio_ops, so the monitor registers them without the devices
 * knowing anything of it. The wires between them are callbacks. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "emulator/hw/devices.h"

#define LAPIC_BASE       0xFEE00000u
#define LAPIC_SIZE       0x1000u
#define IOAPIC_BASE      0xFEC00000u
#define IOAPIC_SIZE      0x1000u
#define IOAPIC_ID        1         /* the MP table and the MADT say the same */
#define IOAPIC_PINS      24
/* The APIC timer's input clock: 1 GHz, QEMU's (one bus cycle per ns). */
#define LAPIC_BUS_HZ     1000000000ull

/* Delivery modes (SDM vol. 3A §10.5.1, §10.6.1; IOAPIC datasheet §3.2.4). */
enum { APIC_DM_FIXED = 0, APIC_DM_LOWEST = 1, APIC_DM_SMI = 2, APIC_DM_NMI = 4,
       APIC_DM_INIT = 5, APIC_DM_STARTUP = 6, APIC_DM_EXTINT = 7 };

/* lapic_acknowledge's answer when the interrupt is the 8259's (ExtINT):
 * the CPU then runs the INTA cycle on the PIC for the vector. */
#define LAPIC_EXTINT (-2)

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_N };

struct lapic {
    uint64_t base_msr;            /* IA32_APIC_BASE: base | EN (bit 11) | BSP (bit 8) */
    uint8_t id;
    uint32_t tpr, ldr, dfr, svr;
    uint32_t esr, esr_pending;    /* ESR as last latched; errors since */
    uint32_t icr_lo, icr_hi;
    uint32_t irr[8], isr[8], tmr[8];
    uint32_t lvt[LVT_N];
    uint32_t tdcr, ticr;
    uint64_t timer_start_ns;      /* clock time the initial count was written */
    uint64_t timer_seen;          /* expirations already handed to the IRR */
    unsigned timer_backlog;       /* expirations that merged while the host was late */
    uint64_t backlog_ns;          /* when the last one was handed in */
    bool lint0;                   /* input levels of LINT0 (the 8259's INTR) and LINT1 */
    bool lint1;
    int intr_level;               /* the INTR output to the CPU core */
    clock_fn now_ns; void *clock_opaque;
    /* INTR to the core: 1 while lapic_acknowledge has something to give. */
    void (*intr)(void *opaque, int level); void *intr_opaque;
    /* EOI of a level-triggered vector, broadcast to the I/O APICs. */
    void (*eoi)(void *opaque, uint8_t vector); void *eoi_opaque;
};

/* Reset to the state SeaBIOS hands over on QEMU's `pc`: enabled at
 * 0xFEE00000, APIC ID 0, software-enabled (SVR 0x1FF), LINT0 ExtINT and
 * LINT1 NMI unmasked ("virtual wire" mode, MP spec §3.6.2.2), so that the
 * 8259's interrupts reach a kernel that never touches the APIC. */
void lapic_init(struct lapic *l, clock_fn now_ns, void *clock_opaque,
                void (*intr)(void *opaque, int level), void *intr_opaque,
                void (*eoi)(void *opaque, uint8_t vector), void *eoi_opaque);
uint32_t lapic_mmio_read(void *lapic, uint32_t off, unsigned size);
void lapic_mmio_write(void *lapic, uint32_t off, unsigned size, uint32_t val);
/* RDMSR/WRMSR IA32_APIC_BASE. Clearing EN (bit 11) disables the APIC until
 * it is set again, in its power-up state (SDM §10.4.3): then the 8259's
 * INTR goes straight to the core. Returns false for a value that makes
 * WRMSR #GP (reserved bits, x2APIC enable). A new base is recorded, but the
 * register window stays at LAPIC_BASE (relocation is not emulated). */
uint64_t lapic_get_base(const struct lapic *l);
bool lapic_set_base(struct lapic *l, uint64_t val);
bool lapic_hw_enabled(const struct lapic *l);
/* The LINT0/LINT1 pins (LINT0 is wired to the 8259's INTR). */
void lapic_set_lint(struct lapic *l, int pin, int level);
/* A message from the I/O APIC (or an IPI): accepted if the destination
 * names this APIC. */
void lapic_deliver(struct lapic *l, uint8_t vector, int mode, bool level_trig, uint8_t dest,
                   bool logical);
/* The INTA: the vector the core takes now (IRR→ISR), LAPIC_EXTINT for the
 * 8259's, or the spurious vector if the request vanished. */
int lapic_acknowledge(struct lapic *l);
/* The vector is requested (IRR) or in service (ISR): one more would merge. */
bool lapic_vector_busy(const struct lapic *l, int vector);
/* The timer, driven by the injected clock: hand expirations to the IRR.
 * Call when lapic_next_event_ns() has passed (and at any other time). */
void lapic_update(struct lapic *l);
uint64_t lapic_next_event_ns(const struct lapic *l);

/* 82093AA I/O APIC: IOREGSEL at +0, IOWIN at +0x10; 24 pins, version 0x11.
 * ISA IRQ n is pin n except IRQ 0, which is pin 2 (isa_irq.c). Interrupt
 * messages go to the deliver callback (the local APIC). */
struct ioapic {
    uint8_t id;
    uint32_t regsel;
    uint64_t redir[IOAPIC_PINS];
    uint32_t lines;               /* input pins asserted */
    void (*deliver)(void *opaque, uint8_t vector, int mode, bool level_trig, uint8_t dest,
                    bool logical);
    void *deliver_opaque;
};
void ioapic_init(struct ioapic *io, void (*deliver)(void *, uint8_t, int, bool, uint8_t, bool),
                 void *opaque);
uint32_t ioapic_mmio_read(void *ioapic, uint32_t off, unsigned size);
void ioapic_mmio_write(void *ioapic, uint32_t off, unsigned size, uint32_t val);
void ioapic_set_irq(struct ioapic *io, int pin, int level);
/* The vector an unmasked fixed/lowest-priority pin sends, or -1. */
int ioapic_pin_vector(const struct ioapic *io, int pin);
/* The local APIC's EOI broadcast: clear remote IRR of the level-triggered
 * pins with this vector, and deliver again if the line is still asserted. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

/* The PC's interrupt lines as QEMU's `pc` wires them: ISA IRQ n goes to the
 * 8259s and, when there is one, to the I/O APIC (IRQ 0 on pin 2); 16-23
 * are I/O APIC pins only. Use
 * isa_irq_line as the irq_fn of every device (opaque: struct isa_irq). */
struct isa_irq {
    struct pic *pic;
    struct ioapic *ioapic;        /* NULL on isapc */
    struct lapic *lapic;          /* where the I/O APIC's messages go */
};
void isa_irq_line(void *isa_irq, int irq, int level);
/* For catching up lost timer ticks: another edge on the line now would
 * merge with a request still waiting or in service, on the 8259 or (for
 * an unmasked I/O APIC pin) in the local APIC. */
bool isa_irq_busy(void *isa_irq, int irq);
/* Masked on the 8259 and on the I/O APIC: an edge now is lost anyway. */
bool isa_irq_masked(void *isa_irq, int irq);
