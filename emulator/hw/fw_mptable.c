/* fw_mptable — the MP floating pointer and configuration table (Intel
 * MultiProcessor Specification 1.4, chapter 4), as SeaBIOS builds them for
 * one CPU on QEMU's `pc`.
 *
 * Floating pointer (§4.1): "_MP_", the table's address, length 1 (16-byte
 * units), revision 4, checksum, feature byte 1 = 0 (a table is present),
 * feature byte 2 bit 7 (IMCR) = 0: virtual wire mode, no IMCR to switch.
 * Table (§4.2): header "PCMP" with the local APIC address, then entries:
 * the processor (APIC ID 0, boot processor), the ISA bus, the I/O APIC
 * (ID IOAPIC_ID at IOAPIC_BASE), an I/O interrupt entry for each ISA IRQ
 * (n on pin n, IRQ 0 on pin 2, IRQ 2 — the cascade — not listed; IRQ 9,
 * the ACPI SCI, level-triggered active high as the MADT says), and the
 * local interrupts: ExtINT on LINT0, NMI on LINT1 of every local APIC. */
#include "emulator/hw/apic.h"
#include "emulator/hw/firmware.h"

#define MP_CONFIG       (FW_MP_BASE + 16)
#define MP_HEADER_SIZE  44
#define MP_LAPIC_VERSION 0x14

enum { MP_PROCESSOR = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_IOINTR = 3, MP_LINTR = 4 };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };
/* Interrupt flags (§4.3.4): polarity bits 1:0, trigger bits 3:2; 0 = as the bus says. */
#define MP_FLAGS_LEVEL_HIGH (1u | 3u << 2)

static uint8_t *io_intr(uint8_t *e, uint8_t type, uint16_t flags, uint8_t irq, uint8_t dest_id,
                        uint8_t pin)
{
    e[0] = MP_IOINTR;
    e[1] = type;
    wr16(e + 2, flags);
    e[4] = 0;                               /* source bus: ISA */
    e[5] = irq;
    e[6] = dest_id;
    e[7] = pin;
    return e + 8;
}

void fw_mptable_build(uint8_t *low_mem, uint32_t cpu_signature, uint32_t cpu_features)
{
    uint8_t *fp = low_mem + FW_MP_BASE, *t = low_mem + MP_CONFIG, *e = t + MP_HEADER_SIZE;
    uint16_t entries = 0;

    e[0] = MP_PROCESSOR;
    e[1] = 0;                               /* local APIC ID */
    e[2] = MP_LAPIC_VERSION;
    e[3] = 0x03;                            /* enabled, boot processor */
    wr32(e + 4, cpu_signature);
    wr32(e + 8, cpu_features);
    e += 20, entries++;

    e[0] = MP_BUS;
    e[1] = 0;
    memcpy(e + 2, "ISA   ", 6);
    e += 8, entries++;

    e[0] = MP_IOAPIC;
    e[1] = IOAPIC_ID;
    e[2] = 0x11;                            /* version */
    e[3] = 0x01;                            /* enabled */
    wr32(e + 4, IOAPIC_BASE);
    e += 8, entries++;

    for (uint8_t irq = 0; irq < 16; irq++) {
        if (irq == 2)
            continue;
        e = io_intr(e, MP_INT, irq == ACPI_SCI_IRQ ? MP_FLAGS_LEVEL_HIGH : 0, irq, IOAPIC_ID,
                    irq == 0 ? 2 : irq);
        entries++;
    }

    for (uint8_t lint = 0; lint < 2; lint++) {
        e[0] = MP_LINTR;
        e[1] = lint == 0 ? MP_EXTINT : MP_NMI;
        wr16(e + 2, 0);
        e[4] = 0;
        e[5] = 0;
        e[6] = 0xFF;                        /* every local APIC */
        e[7] = lint;
        e += 8, entries++;
    }

    uint16_t len = (uint16_t)(e - t);
    memcpy(t, "PCMP", 4);
    wr16(t + 4, len);
    t[6] = 4;                               /* spec revision 1.4 */
    memcpy(t + 8, "BOCHSCPU", 8);
    memcpy(t + 16, "0.1         ", 12);
    wr32(t + 28, 0);                      /* no OEM table */
    wr16(t + 32, 0);
    wr16(t + 34, entries);
    wr32(t + 36, LAPIC_BASE);
    wr16(t + 40, 0);                      /* no extended table */
    t[42] = 0;
    t[7] = 0;
    t[7] = fw_checksum(t, len);

    memcpy(fp, "_MP_", 4);
    wr32(fp + 4, MP_CONFIG);
    fp[8] = 1;
    fp[9] = 4;
    fp[11] = 0;                             /* feature 1: the table above */
    fp[12] = 0;                             /* feature 2: no IMCR (virtual wire) */
    fp[10] = 0;
    fp[10] = fw_checksum(fp, 16);
}
