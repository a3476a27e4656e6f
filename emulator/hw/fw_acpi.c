/* fw_acpi — the ACPI tables of QEMU's `pc` with one CPU (ACPI 1.0b table
 * formats; ACPI 6.x §5.2 describes the same fields):
 *
 *   RSDP "RSD PTR " revision 0 → RSDT → FACP (FADT revision 1) → FACS, DSDT
 *                                     → APIC (MADT)
 *                                     → HPET (IA-PC HPET specification 1.0a)
 *
 * FADT: SCI on IRQ 9; PM1a event block at ACPI_PM1_EVT, control block at
 * ACPI_PM1_CNT, the PM timer at ACPI_PM_TMR (24 bits: TMR_VAL_EXT clear);
 * no SMI command port, so the machine is always in ACPI mode (SCI_EN reads
 * 1); no C2/C3 (latencies above the limits); CMOS century at 0x32.
 * DSDT: a definition block with one object, \_S5 (soft-off, SLP_TYP 0),
 * so its AML is not empty. MADT: the local APIC at LAPIC_BASE with PCAT_COMPAT
 * (the 8259s are there), processor 0 with APIC ID 0, the I/O APIC with
 * GSI base 0, the overrides IRQ 0 → GSI 2 and IRQ 9 → GSI 9 level/high,
 * and LINT1 as NMI. HPET: the block at HPET_BASE, its capabilities' low
 * word as the event timer block ID. */
#include "emulator/hw/apic.h"
#include "emulator/hw/firmware.h"

#define HDR 36                          /* the common description header */

/* \_S5_: NameOp "\_S5_" PackageOp PkgLength NumElements=4 Zero×4 */
static const uint8_t dsdt_aml[] = {
    0x08, 0x5C, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00,
};

struct alloc {
    uint8_t *mem;
    uint32_t at;                        /* next free guest physical address */
};

static uint32_t take(struct alloc *a, uint32_t size, uint32_t align)
{
    uint32_t addr = (a->at + align - 1) & ~(align - 1);
    a->at = addr + size;
    memset(a->mem + addr, 0, size);
    return addr;
}

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    wr32(t + 4, len);
    t[8] = rev;
    memcpy(t + 10, "BOCHS ", 6);
    memcpy(t + 16, "BXPC", 4);
    memcpy(t + 20, sig, 4);             /* OEM table ID "BXPC<sig>" */
    wr32(t + 24, 1);                  /* OEM revision */
    memcpy(t + 28, "BT86", 4);          /* creator */
    wr32(t + 32, 1);
}

static void finish(uint8_t *t)
{
    uint32_t len = t[4] | t[5] << 8 | t[6] << 16 | (uint32_t)t[7] << 24;
    t[9] = 0;
    t[9] = fw_checksum(t, len);
}

static uint32_t build_facs(struct alloc *a)
{
    uint32_t addr = take(a, 64, 64);
    uint8_t *t = a->mem + addr;
    memcpy(t, "FACS", 4);
    wr32(t + 4, 64);                  /* no checksum: the OS writes it */
    return addr;
}

static uint32_t build_dsdt(struct alloc *a)
{
    uint32_t len = HDR + sizeof dsdt_aml, addr = take(a, len, 16);
    uint8_t *t = a->mem + addr;
    header(t, "DSDT", len, 1);
    memcpy(t + HDR, dsdt_aml, sizeof dsdt_aml);
    finish(t);
    return addr;
}

static uint32_t build_fadt(struct alloc *a, uint32_t facs, uint32_t dsdt)
{
    uint32_t len = 116, addr = take(a, len, 16);
    uint8_t *t = a->mem + addr;
    header(t, "FACP", len, 1);
    wr32(t + 36, facs);
    wr32(t + 40, dsdt);
    t[44] = 1;                          /* INT_MODEL (1.0): APIC */
    wr16(t + 46, ACPI_SCI_IRQ);
    wr32(t + 48, 0);                  /* SMI_CMD: none, always in ACPI mode */
    wr32(t + 56, ACPI_PM1_EVT);
    wr32(t + 64, ACPI_PM1_CNT);
    wr32(t + 76, ACPI_PM_TMR);
    t[88] = 4;                          /* PM1_EVT_LEN */
    t[89] = 2;                          /* PM1_CNT_LEN */
    t[91] = 4;                          /* PM_TMR_LEN */
    wr16(t + 96, 0xFFF);              /* P_LVL2_LAT > 100: no C2 */
    wr16(t + 98, 0xFFF);              /* P_LVL3_LAT > 1000: no C3 */
    t[108] = 0x32;                      /* CENTURY in CMOS */
    /* Flags: WBINVD (0), PROC_C1 (2), PWR_BUTTON (4) and SLP_BUTTON (5) as
     * control methods (none here), TMR_VAL_EXT (8) clear: 24-bit timer. */
    wr32(t + 112, 1u << 0 | 1u << 2 | 1u << 4 | 1u << 5);
    finish(t);
    return addr;
}

static uint32_t build_madt(struct alloc *a)
{
    uint32_t len = HDR + 8 + 8 + 12 + 10 + 10 + 6, addr = take(a, len, 16);
    uint8_t *t = a->mem + addr, *e = t + HDR + 8;
    header(t, "APIC", len, 1);
    wr32(t + 36, LAPIC_BASE);
    wr32(t + 40, 1);                  /* PCAT_COMPAT */

    e[0] = 0, e[1] = 8, e[2] = 0, e[3] = 0;           /* processor 0, APIC ID 0 */
    wr32(e + 4, 1);                                 /* enabled */
    e += 8;
    e[0] = 1, e[1] = 12, e[2] = IOAPIC_ID, e[3] = 0;
    wr32(e + 4, IOAPIC_BASE);
    wr32(e + 8, 0);                                 /* GSI base */
    e += 12;
    e[0] = 2, e[1] = 10, e[2] = 0, e[3] = 0;          /* ISA IRQ 0 → GSI 2 */
    wr32(e + 4, 2);
    wr16(e + 8, 0);
    e += 10;
    e[0] = 2, e[1] = 10, e[2] = 0, e[3] = ACPI_SCI_IRQ;   /* SCI: level, active high */
    wr32(e + 4, ACPI_SCI_IRQ);
    wr16(e + 8, 1u | 3u << 2);
    e += 10;
    e[0] = 4, e[1] = 6, e[2] = 0xFF;                  /* every processor: LINT1 is NMI */
    wr16(e + 3, 0);
    e[5] = 1;
    finish(t);
    return addr;
}

static uint32_t build_hpet(struct alloc *a)
{
    uint32_t len = HDR + 20, addr = take(a, len, 16);
    uint8_t *t = a->mem + addr;
    header(t, "HPET", len, 1);
    /* Event timer block ID: vendor 0x8086, legacy-route capable, 64-bit
     * counter, three comparators (NUM_TIM_CAP 2), revision 1 (dev_hpet.c). */
    wr32(t + 36, 0x8086A201u);
    t[40] = 0;                          /* address space: system memory */
    t[41] = 64;                         /* register bit width */
    t[42] = 0;
    t[43] = 0;
    wr64(t + 44, HPET_BASE);
    t[52] = 0;                          /* HPET number */
    wr16(t + 53, 0x80);               /* minimum clock ticks in periodic mode */
    t[55] = 0;                          /* no page protection */
    finish(t);
    return addr;
}

void fw_acpi_build(uint8_t *low_mem)
{
    struct alloc a = { low_mem, FW_ACPI_BASE };
    uint32_t facs = build_facs(&a), dsdt = build_dsdt(&a);
    uint32_t tables[3] = { build_fadt(&a, facs, dsdt), build_madt(&a), build_hpet(&a) };

    uint32_t len = HDR + 4 * 3, rsdt = take(&a, len, 16);
    uint8_t *t = low_mem + rsdt;
    header(t, "RSDT", len, 1);
    for (int i = 0; i < 3; i++)
        wr32(t + HDR + 4 * i, tables[i]);
    finish(t);

    uint8_t *p = low_mem + FW_RSDP_ADDR;
    memset(p, 0, 20);
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, "BOCHS ", 6);
    p[15] = 0;                          /* revision 0: ACPI 1.0, RSDT only */
    wr32(p + 16, rsdt);
    p[8] = fw_checksum(p, 20);
}
