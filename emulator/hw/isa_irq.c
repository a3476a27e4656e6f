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
