/* firmware — the data a PC BIOS leaves in low memory, as SeaBIOS does on
 * QEMU's `pc`, built by bt86 instead of a BIOS: the BIOS data area, the
 * extended BIOS data area, the MP tables (MP spec 1.4) and the ACPI tables
 * (RSDP, RSDT, FADT with FACS and DSDT, MADT, HPET).
 *
 * Where (all in RAM the memory maps report as reserved, 0x9FC00-0xFFFFF,
 * so no loader or kernel puts anything there):
 *   0x00400  BIOS data area: COM1 at 0x400, equipment 0x410, EBDA segment
 *            at 0x40E, base memory (639 KiB) at 0x413
 *   0x9FC00  EBDA, 1 KiB (its first word: its size in KiB)
 *   0xE0000  ACPI tables (FACS first, 64-byte aligned)
 *   0xF0000  MP floating pointer, then the MP configuration table
 *   0xF0200  ACPI RSDP (16-byte aligned, in 0xE0000-0xFFFFF as ACPI asks) */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "emulator/bytes.h"

#define FW_EBDA_BASE    0x9FC00u
#define FW_EBDA_KIB     1u
#define FW_BASE_MEM_KIB (FW_EBDA_BASE / 1024u)   /* 639 */
#define FW_ACPI_BASE    0xE0000u
#define FW_MP_BASE      0xF0000u
#define FW_RSDP_ADDR    0xF0200u
#define FW_LOW_END      0x100000u                 /* low_mem is this long */

#include "emulator/hw/timers.h"

/* The ACPI PM I/O block's registers (timers.h ACPI_PM_BASE). */
#define ACPI_PM1_EVT    (ACPI_PM_BASE + 0)        /* PM1a status/enable, 4 bytes */
#define ACPI_PM1_CNT    (ACPI_PM_BASE + 4)        /* PM1a control, 2 bytes */
#define ACPI_PM_TMR     (ACPI_PM_BASE + 8)        /* PM timer, 4 bytes */
#define ACPI_SCI_IRQ    9

/* Fill low_mem, guest physical 0 to 1 MiB, with the firmware data. apic:
 * machine pc (MP and ACPI tables); without it (isapc) only the BDA and
 * EBDA. cpu_signature/cpu_features: CPUID.1 EAX and EDX for the MP table. */
void fw_build(uint8_t *low_mem, bool apic, uint32_t cpu_signature, uint32_t cpu_features);

/* Parts of fw_build (fw_mptable.c, fw_acpi.c). */
void fw_mptable_build(uint8_t *low_mem, uint32_t cpu_signature, uint32_t cpu_features);
void fw_acpi_build(uint8_t *low_mem);

/* The 8-bit checksum every table carries; little-endian stores: wr16/wr32/wr64
 * (emulator/bytes.h). */
static inline void fw_w8(uint8_t *p, uint8_t v) { p[0] = v; }
/* The byte that makes p[0..n) sum to zero. */
static inline uint8_t fw_checksum(const uint8_t *p, uint32_t n)
{
    uint8_t s = 0;
    for (uint32_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return (uint8_t)-s;
}
