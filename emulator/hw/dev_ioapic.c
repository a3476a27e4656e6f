/* dev_ioapic — the 82093AA I/O APIC (Intel datasheet 290566), as QEMU's
 * `pc` has it: 24 pins, version 0x11.
 *
 * Registers are reached indirectly: IOREGSEL (+0x00) selects, IOWIN (+0x10)
 * reads or writes: 0x00 ID, 0x01 version (max redirection entry 23 in bits
 * 23:16), 0x02 arbitration ID, 0x10 + 2n / 0x11 + 2n the low and high
 * halves of pin n's redirection entry (§3.2.4): vector, delivery mode,
 * destination mode, delivery status (read-only), polarity, remote IRR
 * (read-only), trigger mode, mask, and the destination in bits 63:56.
 *
 * Device lines carry the asserted state (the polarity bit describes the
 * wire, which the emulated devices do not have). An edge-triggered pin sends
 * a message on each rising edge while unmasked; a level-triggered pin sends
 * one while asserted and unmasked with remote IRR clear, and sets remote IRR
 * until the local APIC's EOI broadcast for its vector. Messages are
 * delivered at once, so delivery status always reads idle. */
#include "emulator/hw/apic.h"

#define IOAPIC_VERSION  (0x11u | (IOAPIC_PINS - 1) << 16)
#define RTE_REMOTE_IRR  (1u << 14)
#define RTE_LEVEL       (1u << 15)
#define RTE_MASKED      (1u << 16)
#define RTE_LOGICAL     (1u << 11)
#define RTE_WRITABLE_LO 0x1AFFFu   /* all but delivery status and remote IRR */

void ioapic_init(struct ioapic *io, void (*deliver)(void *, uint8_t, int, bool, uint8_t, bool),
                 void *opaque)
{
    *io = (struct ioapic){ .id = IOAPIC_ID, .deliver = deliver, .deliver_opaque = opaque };
    for (int i = 0; i < IOAPIC_PINS; i++)
        io->redir[i] = RTE_MASKED;
}

static void send(struct ioapic *io, int pin)
{
    uint64_t e = io->redir[pin];
    if (e & RTE_LEVEL)
        io->redir[pin] |= RTE_REMOTE_IRR;
    if (io->deliver)
        io->deliver(io->deliver_opaque, (uint8_t)e, (int)(e >> 8 & 7), e & RTE_LEVEL,
                    (uint8_t)(e >> 56), e & RTE_LOGICAL);
}

/* A level-triggered pin that is asserted and may send. */
static void service_level(struct ioapic *io, int pin)
{
    uint64_t e = io->redir[pin];
    if ((e & RTE_LEVEL) && !(e & (RTE_MASKED | RTE_REMOTE_IRR)) && (io->lines >> pin & 1))
        send(io, pin);
}

void ioapic_set_irq(struct ioapic *io, int pin, int level)
{
    if (pin < 0 || pin >= IOAPIC_PINS)
        return;
    uint32_t bit = 1u << pin;
    bool rising = level && !(io->lines & bit);
    io->lines = level ? io->lines | bit : io->lines & ~bit;
    uint64_t e = io->redir[pin];
    if (e & RTE_LEVEL)
        service_level(io, pin);
    else if (rising && !(e & RTE_MASKED))
        send(io, pin);
}

int ioapic_pin_vector(const struct ioapic *io, int pin)
{
    uint64_t e = io->redir[pin];
    int mode = (int)(e >> 8 & 7);
    if ((e & RTE_MASKED) || (mode != APIC_DM_FIXED && mode != APIC_DM_LOWEST))
        return -1;
    return (uint8_t)e;
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
    for (int pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t e = io->redir[pin];
        if ((e & RTE_LEVEL) && (uint8_t)e == vector && (e & RTE_REMOTE_IRR)) {
            io->redir[pin] &= ~(uint64_t)RTE_REMOTE_IRR;
            service_level(io, pin);
        }
    }
}

static uint32_t reg_read(const struct ioapic *io, uint32_t reg)
{
    switch (reg) {
    case 0x00: return (uint32_t)io->id << 24;
    case 0x01: return IOAPIC_VERSION;
    case 0x02: return (uint32_t)io->id << 24;
    }
    if (reg >= 0x10 && reg < 0x10 + 2 * IOAPIC_PINS) {
        uint64_t e = io->redir[(reg - 0x10) / 2];
        return reg & 1 ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    return 0;
}

static void reg_write(struct ioapic *io, uint32_t reg, uint32_t val)
{
    if (reg == 0x00) {
        io->id = val >> 24 & 0xF;
        return;
    }
    if (reg < 0x10 || reg >= 0x10 + 2 * IOAPIC_PINS)
        return;
    int pin = (int)(reg - 0x10) / 2;
    uint64_t e = io->redir[pin];
    if (reg & 1) {
        e = (e & 0xFFFFFFFFu) | (uint64_t)(val & 0xFF000000u) << 32;
    } else {
        e = (e & ~(uint64_t)RTE_WRITABLE_LO) | (val & RTE_WRITABLE_LO);
        if (!(e & RTE_LEVEL))
            e &= ~(uint64_t)RTE_REMOTE_IRR;
    }
    io->redir[pin] = e;
    service_level(io, pin);          /* unmasking an asserted level pin sends it */
}

uint32_t ioapic_mmio_read(void *opaque, uint32_t off, unsigned size)
{
    struct ioapic *io = opaque;
    if (off == 0x00)
        return io->regsel;
    if (off >= 0x10 && off < 0x14)
        return reg_read(io, io->regsel) >> (8 * (off & 3));
    return 0;
}

void ioapic_mmio_write(void *opaque, uint32_t off, unsigned size, uint32_t val)
{
    struct ioapic *io = opaque;
    if (off == 0x00)
        io->regsel = val & 0xFF;
    else if (off == 0x10 && size == 4)
        reg_write(io, io->regsel, val);
}
