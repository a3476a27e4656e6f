/* isa_irq — the PC's ISA interrupt lines, wired as QEMU's `pc` does (its
 * GSI routing): each line goes to the 8259s and to the I/O APIC, so a
 * kernel may use either. IRQ 0 (the PIT) is the I/O APIC's pin 2, as the
 * MADT's interrupt source override and the MP table say; pin 0 would be the
 * 8259's INTR, which only matters to a kernel using ExtINT through the I/O
 * APIC (bt86 delivers the 8259 through LINT0 instead). Lines 16-23 are
 * I/O APIC pins only (the HPET may be routed there). */
#include "emulator/hw/apic.h"

void isa_irq_line(void *opaque, int irq, int level)
{
    struct isa_irq *r = opaque;
    if (irq < 16)
        pic_set_irq(r->pic, irq, level);
    if (r->ioapic)
        ioapic_set_irq(r->ioapic, irq == 0 ? 2 : irq, level);
}

static int pin_vector(const struct isa_irq *r, int irq)
{
    return r->ioapic ? ioapic_pin_vector(r->ioapic, irq == 0 ? 2 : irq) : -1;
}

static bool pic_unmasked(const struct isa_irq *r, int irq)
{
    return irq < 16 && !(r->pic->chip[irq >> 3].imr & 1u << (irq & 7));
}

bool isa_irq_busy(void *opaque, int irq)
{
    const struct isa_irq *r = opaque;
    int vector = pin_vector(r, irq);
    if (pic_unmasked(r, irq)) {
        const struct pic_chip *c = &r->pic->chip[irq >> 3];
        if ((c->irr | c->isr) & 1u << (irq & 7))
            return true;
    }
    return vector >= 0 && r->lapic && lapic_vector_busy(r->lapic, vector);
}

bool isa_irq_masked(void *opaque, int irq)
{
    const struct isa_irq *r = opaque;
    return !pic_unmasked(r, irq) && pin_vector(r, irq) < 0;
}
